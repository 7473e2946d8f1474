//! What a batch `curve_fit` takes and returns — σ per point or per row, the options of
//! K fits, the solver (per fit or lock-step), the results — shared by the per-fit
//! ([`curve_fit_batch`](crate::curve_fit_batch)) and lock-step
//! ([`curve_fit_batch_lockstep`](crate::curve_fit_batch_lockstep)) paths.

use crate::batch::{FitSummary, Starts};
use crate::error::Error;
use crate::options::{Bounds, Method, Options};

/// Data uncertainty of a batch (standard deviations; weights 1/σ).
#[derive(Debug, Clone, Copy, Default)]
pub enum BatchSigma<'a> {
    /// No weights (default).
    #[default]
    None,
    /// One σ per point (length M), shared by every row; a single value applies to all.
    PerPoint(&'a [f64]),
    /// One σ per point of every row (row-major K×M).
    PerFit(&'a [f64]),
}

/// How [`curve_fit_batch`](crate::curve_fit_batch) solves its fits.
///
/// ```
/// assert_eq!(trustfit::BatchSolver::default(), trustfit::BatchSolver::PerFit);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BatchSolver {
    /// Each row by `least_squares` (`leastsq`'s MINPACK for lm) as `curve_fit` solves
    /// it alone: any method, loss and Jacobian, scipy's results.
    #[default]
    PerFit,
    /// All rows by [`solve_lockstep`](crate::solve_lockstep): Levenberg–Marquardt on
    /// the normal equations, fits evaluated together; linear loss, bounds by projection.
    /// Several times faster for small fits.
    Lockstep,
}

/// Options of [`curve_fit_batch`](crate::curve_fit_batch): `curve_fit`'s keyword arguments for K fits.
///
/// ```
/// let o = trustfit::BatchCurveFitOptions::new(trustfit::Starts::Shared(&[1.0, 0.0]));
/// assert!(o.method.is_none() && !o.absolute_sigma);
/// ```
#[derive(Debug, Clone)]
pub struct BatchCurveFitOptions<'a> {
    /// Starts: one for all rows, or one per row.
    pub p0: Starts<'a>,
    /// Data uncertainty.
    pub sigma: BatchSigma<'a>,
    /// σ is absolute (pcov not rescaled by the residual variance).
    pub absolute_sigma: bool,
    /// Bounds on the parameters (shared by every row).
    pub bounds: Bounds,
    /// Method: default `lm` without bounds, else `trf`.
    pub method: Option<Method>,
    /// The solver's other options (jac, loss, tolerances, max_nfev, …).
    pub options: Options,
    /// Worker threads (`None`: every core).
    pub threads: Option<usize>,
    /// Per-fit solves or the lock-step engine.
    pub solver: BatchSolver,
    /// Lock-step solver: fits per model call (default 64, a few cache lines of J per
    /// fit; thousands for a model with a per-call overhead, such as a Python function).
    pub block: usize,
}

impl<'a> BatchCurveFitOptions<'a> {
    /// Defaults as `curve_fit`'s, with these starts.
    ///
    /// ```
    /// let o = trustfit::BatchCurveFitOptions::new(trustfit::Starts::Shared(&[1.0]));
    /// assert!(o.threads.is_none());
    /// ```
    pub fn new(p0: Starts<'a>) -> Self {
        Self {
            p0,
            sigma: BatchSigma::None,
            absolute_sigma: false,
            bounds: Bounds::default(),
            method: None,
            options: Options::default(),
            threads: None,
            solver: BatchSolver::PerFit,
            block: 64,
        }
    }
}

/// What [`curve_fit_batch`](crate::curve_fit_batch) returns: row k's parameters, covariance and summary.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCurveFit {
    /// Parameters per fit.
    pub n: usize,
    /// Fitted parameters, row-major K×n (NaN for a failed fit).
    pub popt: Vec<f64>,
    /// Covariances, K blocks of n×n (`+∞` where it cannot be estimated, NaN for a
    /// failed fit).
    pub pcov: Vec<f64>,
    /// One summary per fit (status, cost, nfev, njev).
    pub fits: Vec<FitSummary>,
}

impl BatchCurveFit {
    /// Row k's parameters.
    ///
    /// ```
    /// let r = trustfit::BatchCurveFit { n: 1, popt: vec![1.0, 2.0], pcov: vec![0.1, 0.2], fits: vec![] };
    /// assert_eq!(r.popt(1), [2.0]);
    /// ```
    pub fn popt(&self, k: usize) -> &[f64] {
        &self.popt[k * self.n..(k + 1) * self.n]
    }

    /// Row k's covariance (row-major n×n).
    ///
    /// ```
    /// let r = trustfit::BatchCurveFit { n: 1, popt: vec![1.0, 2.0], pcov: vec![0.1, 0.2], fits: vec![] };
    /// assert_eq!(r.pcov(1), [0.2]);
    /// ```
    pub fn pcov(&self, k: usize) -> &[f64] {
        let nn = self.n * self.n;
        &self.pcov[k * nn..(k + 1) * nn]
    }
}

/// The number of rows K of `ydata` (row-major K×M), with `sigma` checked against it.
pub(super) fn check_rows(ydata: &[f64], m: usize, sigma: &BatchSigma<'_>) -> Result<usize, Error> {
    if m == 0 || !ydata.len().is_multiple_of(m) {
        return Err(Error::ShapeMismatch {
            what: "`ydata` must hold K rows of the model's M points.".into(),
            expected: format!("K·{m} values"),
            got: ydata.len().to_string(),
        });
    }
    let k = ydata.len() / m;
    check_sigma(sigma, m, k)?;
    Ok(k)
}

fn check_sigma(sigma: &BatchSigma<'_>, m: usize, k: usize) -> Result<(), Error> {
    let (values, ok) = match sigma {
        BatchSigma::None => return Ok(()),
        BatchSigma::PerPoint(s) => (*s, s.len() == m || s.len() == 1),
        BatchSigma::PerFit(s) => (*s, s.len() == m * k),
    };
    if !ok {
        return Err(Error::option("sigma", "has incorrect shape."));
    }
    if values.iter().any(|s| !(s.is_finite() && *s != 0.0)) {
        return Err(Error::option("sigma", "must be finite and nonzero."));
    }
    Ok(())
}
