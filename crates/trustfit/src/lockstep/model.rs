//! What the lock-step engine evaluates: a block of fits at once ([`BlockModel`]), so
//! that a model can amortise its own overhead (a Python call, an interpreted formula)
//! over every active fit of an iteration. Adapters turn per-fit [`Residuals`]
//! ([`PerFitModel`]) and value-only block models ([`Differenced`]) into block models.

use crate::error::CallbackError;
use crate::problem::Residuals;

/// Residuals and Jacobians of many fits of one shape (n parameters, m residuals),
/// evaluated together.
///
/// Each fit's values must depend only on its own parameters and data, never on which
/// other fits share the call: that is what makes a batch's results independent of the
/// block size and the number of threads.
///
/// ```
/// use trustfit::{BlockModel, CallbackError};
/// /// f_i(p) = p₀·t_i − y_{k,i} for fit k, t = 0, 1, 2.
/// struct Lines<'a> { y: &'a [f64] }
/// impl BlockModel for Lines<'_> {
///     fn num_residuals(&self) -> usize { 3 }
///     fn eval(&self, e: trustfit::Evaluation<'_>) -> Result<(), CallbackError> {
///         let trustfit::Evaluation { fits, x, f, jac } = e;
///         for (r, &k) in fits.iter().enumerate() {
///             for i in 0..3 {
///                 f[r * 3 + i] = x[r] * i as f64 - self.y[k * 3 + i];
///                 jac[r * 3 + i] = i as f64;
///             }
///         }
///         Ok(())
///     }
/// }
/// let y = [0.0, 2.0, 4.0, 0.0, 3.0, 6.0];
/// let r = trustfit::solve_lockstep(&Lines { y: &y }, 2, trustfit::Starts::Shared(&[0.0]),
///                                  &Default::default()).unwrap();
/// assert!((r.params(1)[0] - 3.0).abs() < 1e-12);
/// ```
pub trait BlockModel: Sync {
    /// Residuals per fit (m).
    fn num_residuals(&self) -> usize;

    /// Writes the residuals and Jacobians of the fits `e.fits` at `e.x` into `e.f` and
    /// `e.jac` (shapes: [`Evaluation`]).
    ///
    /// # Errors
    /// Any error of the model: the whole batch stops and returns it.
    fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError>;
}

/// One call of [`BlockModel::eval`]: which fits, at which parameters, and where their
/// residuals and Jacobians go.
///
/// ```
/// let (mut f, mut jac) = ([0.0; 2], [0.0; 2]);
/// let e = trustfit::Evaluation { fits: &[4, 9], x: &[1.0, 2.0], f: &mut f, jac: &mut jac };
/// assert_eq!(e.x.len() / e.fits.len(), 1); // n = 1
/// ```
pub struct Evaluation<'a> {
    /// Ascending batch indices of the fits asked for.
    pub fits: &'a [usize],
    /// Their parameters, row-major `fits.len() × n`.
    pub x: &'a [f64],
    /// Their residuals, row-major `fits.len() × m`.
    pub f: &'a mut [f64],
    /// Their Jacobians: `fits.len()` blocks of row-major `m × n`.
    pub jac: &'a mut [f64],
}

/// Residuals of many fits evaluated together, without derivatives: [`Differenced`]
/// adds forward-difference Jacobians.
///
/// ```
/// use trustfit::{BlockValues, CallbackError, Differenced};
/// struct Squares;
/// impl BlockValues for Squares {
///     fn num_residuals(&self) -> usize { 1 }
///     fn values(&self, _fits: &[usize], x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
///         for (fi, xi) in f.iter_mut().zip(x) { *fi = xi * xi - 4.0; }
///         Ok(())
///     }
/// }
/// let r = trustfit::solve_lockstep(&Differenced::new(Squares, 1), 1,
///                                  trustfit::Starts::Shared(&[3.0]), &Default::default()).unwrap();
/// assert!((r.params(0)[0] - 2.0).abs() < 1e-6);
/// ```
pub trait BlockValues: Sync {
    /// Residuals per fit (m).
    fn num_residuals(&self) -> usize;

    /// [`BlockModel::eval`] without the Jacobian.
    ///
    /// # Errors
    /// Any error of the model: the whole batch stops and returns it.
    fn values(&self, fits: &[usize], x: &[f64], f: &mut [f64]) -> Result<(), CallbackError>;
}

/// A [`BlockValues`] model with Jacobians by forward differences (scipy's `2-point`
/// step, `√ε·max(1, |xⱼ|)` signed as xⱼ): n + 1 block calls per evaluation.
pub struct Differenced<V> {
    values: V,
    n: usize,
}

impl<V: BlockValues> Differenced<V> {
    /// Differences `values`, whose fits have `n` parameters.
    ///
    /// ```
    /// # use trustfit::{BlockValues, CallbackError};
    /// # struct Zero;
    /// # impl BlockValues for Zero {
    /// #     fn num_residuals(&self) -> usize { 1 }
    /// #     fn values(&self, _: &[usize], _: &[f64], f: &mut [f64]) -> Result<(), CallbackError> { f.fill(0.0); Ok(()) }
    /// # }
    /// let model = trustfit::Differenced::new(Zero, 2);
    /// # let _ = model;
    /// ```
    pub fn new(values: V, n: usize) -> Self {
        Self { values, n }
    }
}

/// The forward-difference step of scipy's `2-point` scheme at `x`.
fn forward_step(x: f64) -> f64 {
    let sign = if x >= 0.0 { 1.0 } else { -1.0 };
    let h = f64::EPSILON.sqrt() * sign * x.abs().max(1.0);
    (x + h) - x
}

impl<V: BlockValues> BlockModel for Differenced<V> {
    fn num_residuals(&self) -> usize {
        self.values.num_residuals()
    }

    fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError> {
        let Evaluation { fits, x, f, jac } = e;
        self.values.values(fits, x, f)?;
        // The thread's buffers, kept between calls: a block's shifted points and their
        // values can be megabytes, which fresh allocations would page in every round.
        let (mut shifted, mut fh) = DIFFERENCES.with_borrow_mut(std::mem::take);
        shifted.clear();
        shifted.extend_from_slice(x);
        fh.clear();
        fh.resize(f.len(), 0.0);
        let result = self.shifted_columns(fits, x, f, jac, (&mut shifted, &mut fh));
        DIFFERENCES.with_borrow_mut(|b| *b = (shifted, fh));
        result
    }
}

thread_local! {
    /// [`Differenced`]'s shifted points and values, per thread.
    static DIFFERENCES: std::cell::RefCell<(Vec<f64>, Vec<f64>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

impl<V: BlockValues> Differenced<V> {
    /// Column j of every fit's J from the values at x shifted in parameter j.
    fn shifted_columns(
        &self,
        fits: &[usize],
        x: &[f64],
        f: &[f64],
        jac: &mut [f64],
        (shifted, fh): (&mut [f64], &mut [f64]),
    ) -> Result<(), CallbackError> {
        let (n, m) = (self.n, self.values.num_residuals());
        for j in 0..n {
            shifted.copy_from_slice(x);
            for row in shifted.chunks_exact_mut(n) {
                row[j] += forward_step(row[j]);
            }
            self.values.values(fits, shifted, fh)?;
            for r in 0..fits.len() {
                let h = shifted[r * n + j] - x[r * n + j];
                for i in 0..m {
                    jac[(r * m + i) * n + j] = (fh[r * m + i] - f[r * m + i]) / h;
                }
            }
        }
        Ok(())
    }
}

/// Per-fit problems as a block model: `problem(k)` builds fit k (typically a closure
/// over row k of the data); its analytic Jacobian is used when it has one, forward
/// differences otherwise.
///
/// ```
/// use trustfit::{from_fn, PerFitModel, Starts};
/// let model = PerFitModel::new(1, |k: usize| from_fn(1, move |x: &[f64], f: &mut [f64]| f[0] = x[0] - k as f64));
/// let r = trustfit::solve_lockstep(&model, 3, Starts::Shared(&[0.0]), &Default::default()).unwrap();
/// assert!((r.params(2)[0] - 2.0).abs() < 1e-6);
/// ```
pub struct PerFitModel<F> {
    m: usize,
    problem: F,
    /// Use the problems' Jacobians when they have one (false: always differences).
    analytic: bool,
}

impl<P: Residuals, F: Fn(usize) -> P + Sync> PerFitModel<F> {
    /// Fits of `m` residuals built by `problem`.
    ///
    /// ```
    /// let model = trustfit::PerFitModel::new(2, |_k: usize| trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| { f[0] = x[0]; f[1] = x[1]; }));
    /// # let _ = model;
    /// ```
    pub fn new(m: usize, problem: F) -> Self {
        Self {
            m,
            problem,
            analytic: true,
        }
    }

    /// Forward differences even for problems with a Jacobian (`jac='2-point'`).
    pub(crate) fn differenced(self) -> Self {
        Self {
            analytic: false,
            ..self
        }
    }
}

impl<P: Residuals, F: Fn(usize) -> P + Sync> BlockModel for PerFitModel<F> {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError> {
        let Evaluation { fits, x, f, jac } = e;
        let m = self.m;
        let n = x.len().checked_div(fits.len()).unwrap_or(0);
        let mut xh = vec![0.0; n];
        let mut fh = vec![0.0; m];
        for (r, &k) in fits.iter().enumerate() {
            let p = (self.problem)(k);
            let (xr, fr) = (&x[r * n..(r + 1) * n], &mut f[r * m..(r + 1) * m]);
            let jr = &mut jac[r * m * n..(r + 1) * m * n];
            if self.analytic && p.has_jacobian() {
                p.residuals_and_jacobian(xr, fr, jr)?;
                continue;
            }
            p.residuals(xr, fr)?;
            for j in 0..n {
                xh.copy_from_slice(xr);
                xh[j] += forward_step(xr[j]);
                let h = xh[j] - xr[j];
                p.residuals(&xh, &mut fh)?;
                for i in 0..m {
                    jr[i * n + j] = (fh[i] - fr[i]) / h;
                }
            }
        }
        Ok(())
    }
}
