//! scipy's `curve_fit`: weighted residuals, `leastsq` (lm) or `least_squares`, and pcov.

use super::covariance::{Covariance, covariance_from_jacobian};
use super::leastsq::{LeastsqOptions, leastsq};
use crate::error::{CallbackError, Error};
use crate::linalg::dense::small_cholesky;
use crate::options::{Bounds, Method, Options};
use crate::problem::from_fn;

/// Data uncertainty for [`curve_fit`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Sigma {
    /// No weights (default).
    #[default]
    None,
    /// Standard deviation of each y (weights 1/σ); one value applies to all.
    StdDev(Vec<f64>),
    /// Covariance matrix of y (row-major M×M, positive definite).
    Covariance(Vec<f64>),
}

/// Options of [`curve_fit`] (scipy's keyword arguments).
#[derive(Debug, Clone, Default)]
pub struct CurveFitOptions {
    /// Initial parameters (required in Rust: the model's arity is not introspectable).
    pub p0: Vec<f64>,
    /// Data uncertainty.
    pub sigma: Sigma,
    /// σ is absolute (pcov not rescaled by the residual variance).
    pub absolute_sigma: bool,
    /// Bounds on the parameters.
    pub bounds: Bounds,
    /// Method: default `lm` without bounds, else `trf`.
    pub method: Option<Method>,
    /// Options passed to `least_squares` for trf/dogbox (jac, loss, tolerances, max_nfev…).
    pub options: Options,
    /// Options passed to `leastsq` for lm (tolerances, maxfev, `dfun`…).
    pub leastsq: LeastsqOptions,
}

/// What [`curve_fit`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveFitResult {
    /// Fitted parameters.
    pub popt: Vec<f64>,
    /// Their covariance (row-major n×n; `+∞` when it cannot be estimated).
    pub pcov: Vec<f64>,
    /// Standard errors `√diag(pcov)`.
    pub perr: Vec<f64>,
    /// Residual evaluations.
    pub nfev: usize,
    /// Weighted residuals at `popt`.
    pub fvec: Vec<f64>,
    /// Status code (`ier` for lm, `status` for trf/dogbox) and message.
    pub ier: i32,
    /// Message.
    pub mesg: String,
    /// scipy's `OptimizeWarning` text when the covariance could not be estimated.
    pub warning: Option<String>,
}

/// Fits `model(p) ≈ y` as scipy's `curve_fit`: weighted residuals, lm (or trf with
/// bounds), and `pcov` exactly as scipy computes it.
///
/// `model(p, out)` writes the model's value at every data point (length `y.len()`).
///
/// # Errors
/// scipy's errors: empty `y`, a bad `sigma` shape or a non-positive-definite covariance,
/// lm with bounds, and "Optimal parameters not found" when the solver does not converge.
///
/// ```
/// // y = b·x^a fitted to scipy's reference data (spec §12).
/// let x = [1.0f64, 2.0, 3.0, 4.0];
/// let y = [1.0, 3.2, 9.5, 13.7];
/// let model = |p: &[f64], out: &mut [f64]| for i in 0..4 { out[i] = p[1] * x[i].powf(p[0]); };
/// let opts = trustfit::CurveFitOptions { p0: vec![1.0, 1.0], ..Default::default() };
/// let fit = trustfit::curve_fit(model, &y, &opts).unwrap();
/// assert!((fit.popt[0] - 1.7989).abs() < 1e-4 && (fit.popt[1] - 1.1642).abs() < 1e-4);
/// assert!((fit.pcov[0] - 0.0852).abs() < 1e-4);
/// ```
pub fn curve_fit<F>(model: F, y: &[f64], opts: &CurveFitOptions) -> Result<CurveFitResult, Error>
where
    F: Fn(&[f64], &mut [f64]),
{
    let big_m = y.len();
    let n = opts.p0.len();
    if big_m == 0 {
        return Err(Error::option("ydata", "must not be empty!"));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(Error::option(
            "ydata",
            "array must not contain infs or NaNs",
        ));
    }
    let method = method_for(opts.method, &opts.bounds)?;
    // Whitening: w = 1/σ, or L⁻¹ with σ = L Lᵀ.
    let whiten = Whitening::new(&opts.sigma, big_m)?;
    let residual = |p: &[f64], f: &mut [f64]| -> Result<(), CallbackError> {
        model(p, f);
        for (fi, yi) in f.iter_mut().zip(y) {
            *fi -= yi;
        }
        whiten.apply(f);
        Ok(())
    };
    let problem = from_fn(big_m, residual);
    if method == Method::Lm {
        if big_m != 1 && n > big_m {
            return Err(Error::ShapeMismatch {
                what: format!(
                    "The number of func parameters={n} must not exceed the number of data points={big_m}"
                ),
                expected: format!("n ≤ {big_m}"),
                got: format!("n = {n}"),
            });
        }
        let r = leastsq(&problem, &opts.p0, &opts.leastsq)?;
        if !(1..=4).contains(&r.ier) {
            return Err(Error::NonFinite {
                what: format!("Optimal parameters not found: {}", r.mesg),
                best: None,
            });
        }
        let sum_sq: f64 = r.fvec.iter().map(|v| v * v).sum();
        let cov = Covariance::from_unscaled(r.cov_x, sum_sq, big_m, n, opts.absolute_sigma);
        return Ok(finish(r.x, cov, r.nfev, r.fvec, r.ier, r.mesg));
    }
    let ls = Options {
        method,
        bounds: opts.bounds.clone(),
        ..opts.options.clone()
    };
    let r = crate::least_squares(&problem, &opts.p0, &ls)?;
    if !r.success() {
        return Err(Error::NonFinite {
            what: format!("Optimal parameters not found: {}", r.message()),
            best: None,
        });
    }
    let cov = covariance_from_jacobian(&r.jac, big_m, n, 2.0 * r.cost, opts.absolute_sigma)?;
    let (ier, mesg) = (r.status.scipy_status(), r.message().to_string());
    Ok(finish(r.x, cov, r.nfev, r.fun, ier, mesg))
}

/// `curve_fit`'s method: as given, else lm without bounds and trf with them; lm with
/// bounds is refused (scipy's message).
pub(super) fn method_for(method: Option<Method>, bounds: &Bounds) -> Result<Method, Error> {
    let bounded = !bounds.is_unbounded();
    let method = method.unwrap_or(if bounded { Method::Trf } else { Method::Lm });
    if method == Method::Lm && bounded {
        return Err(Error::Unsupported {
            method: "lm",
            message:
                "Method 'lm' only works for unconstrained problems. Use 'trf' or 'dogbox' instead."
                    .into(),
        });
    }
    Ok(method)
}

/// The result from the solution and its covariance (computed by `covariance.rs`).
fn finish(
    popt: Vec<f64>,
    cov: Covariance,
    nfev: usize,
    fvec: Vec<f64>,
    ier: i32,
    mesg: String,
) -> CurveFitResult {
    CurveFitResult {
        popt,
        pcov: cov.matrix,
        perr: cov.stderr,
        nfev,
        fvec,
        ier,
        mesg,
        warning: (!cov.estimated)
            .then(|| "Covariance of the parameters could not be estimated".to_string()),
    }
}

/// Applies `1/σ` or `L⁻¹` (σ = L Lᵀ) to residuals.
enum Whitening {
    None,
    Weights(Vec<f64>),
    Cholesky { l: Vec<f64>, m: usize },
}

impl Whitening {
    fn new(sigma: &Sigma, m: usize) -> Result<Self, Error> {
        match sigma {
            Sigma::None => Ok(Whitening::None),
            Sigma::StdDev(s) if s.len() == 1 || s.len() == m => Ok(Whitening::Weights(
                (0..m)
                    .map(|i| 1.0 / s[if s.len() == 1 { 0 } else { i }])
                    .collect(),
            )),
            Sigma::Covariance(c) if c.len() == m * m => {
                let mut l = c.clone();
                if !small_cholesky(&mut l, m) {
                    return Err(Error::option("sigma", "must be positive definite."));
                }
                Ok(Whitening::Cholesky { l, m })
            }
            _ => Err(Error::option("sigma", "has incorrect shape.")),
        }
    }

    fn apply(&self, f: &mut [f64]) {
        match self {
            Whitening::None => {}
            Whitening::Weights(w) => f.iter_mut().zip(w).for_each(|(v, w)| *v *= w),
            Whitening::Cholesky { l, m } => {
                // Forward substitution: L z = f.
                for i in 0..*m {
                    let mut s = f[i];
                    for k in 0..i {
                        s -= l[i * m + k] * f[k];
                    }
                    f[i] = s / l[i * m + i];
                }
            }
        }
    }
}
