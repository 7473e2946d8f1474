//! scipy's `leastsq` (MINPACK, with its outputs) and `curve_fit` (covariance of the
//! fitted parameters), built on [`least_squares`](crate::least_squares) and the MINPACK
//! port; plus the covariance of any [`Report`].

use crate::error::{CallbackError, Error};
use crate::linalg::dense::ThinSvd;
use crate::minpack::{LmSystem, LmWorkspace, LmderOutput, LmderParams, lmder, lmdif};
use crate::options::{Bounds, EPS, Method, Options};
use crate::problem::{Residuals, eval_jacobian, eval_residuals, from_fn};
use crate::report::Report;

/// Options of [`leastsq`], with scipy's defaults.
///
/// ```
/// let o = trustfit::LeastsqOptions::default();
/// assert_eq!((o.ftol, o.gtol, o.maxfev, o.factor), (1.49012e-8, 0.0, 0, 100.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LeastsqOptions {
    /// Use the problem's analytic Jacobian (scipy's `Dfun`); otherwise MINPACK's forward
    /// differences (LMDIF). Default false.
    pub dfun: bool,
    /// Relative error desired in the sum of squares (default 1.49012e-8).
    pub ftol: f64,
    /// Relative error desired in the solution (default 1.49012e-8).
    pub xtol: f64,
    /// Orthogonality desired between f and the Jacobian's columns (default 0).
    pub gtol: f64,
    /// Maximum calls to the function; 0 means `200·(n+1)` without Dfun, `100·(n+1)` with.
    pub maxfev: usize,
    /// Forward-difference step as a relative error of the function (default: machine ε).
    pub epsfcn: Option<f64>,
    /// Initial step bound factor (default 100).
    pub factor: f64,
    /// Fixed variable scaling (MINPACK mode 2); `None` scales by the Jacobian's column norms.
    pub diag: Option<Vec<f64>>,
}

impl Default for LeastsqOptions {
    fn default() -> Self {
        Self {
            dfun: false,
            ftol: 1.49012e-8,
            xtol: 1.49012e-8,
            gtol: 0.0,
            maxfev: 0,
            epsfcn: None,
            factor: 100.0,
            diag: None,
        }
    }
}

/// Everything scipy's `leastsq(..., full_output=True)` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct LeastsqResult {
    /// The solution.
    pub x: Vec<f64>,
    /// `(JᵀJ)⁻¹` at the last Jacobian (row-major n×n), from R and the pivots; `None` when
    /// singular or when `ier` is not 1–4. Multiply by the residual variance for the
    /// parameters' covariance.
    pub cov_x: Option<Vec<f64>>,
    /// Residuals at `x`.
    pub fvec: Vec<f64>,
    /// Function calls (including finite differences for LMDIF, as MINPACK counts).
    pub nfev: usize,
    /// Jacobian calls (`None` without Dfun, as scipy).
    pub njev: Option<usize>,
    /// MINPACK's m×n work array as scipy shows it: row-major `n × m`, R in the upper
    /// triangle of its transpose's leading n×n block.
    pub fjac: Vec<f64>,
    /// 0-based pivots: column j of R belongs to variable `ipvt[j]`.
    pub ipvt: Vec<usize>,
    /// First n entries of Qᵀ·fvec.
    pub qtf: Vec<f64>,
    /// scipy's message for `ier`.
    pub mesg: String,
    /// MINPACK's `info`: 1–4 success, 5 maxfev, 6–8 tolerance too small, 0 bad input.
    pub ier: i32,
}

/// scipy's `leastsq` message for `ier` (spec §11.2).
///
/// ```
/// assert_eq!(trustfit::leastsq_message(2, 1.49012e-8, 1.49012e-8, 0.0, 600),
///            "The relative error between two consecutive iterates is at most 0.000000");
/// ```
pub fn leastsq_message(ier: i32, ftol: f64, xtol: f64, gtol: f64, maxfev: usize) -> String {
    match ier {
        1 => format!(
            "Both actual and predicted relative reductions in the sum of squares\n  are at most {ftol:.6}"
        ),
        2 => format!("The relative error between two consecutive iterates is at most {xtol:.6}"),
        3 => format!(
            "Both actual and predicted relative reductions in the sum of squares\n  are at most {ftol:.6} and the relative error between two consecutive iterates is at \n  most {xtol:.6}"
        ),
        4 => format!(
            "The cosine of the angle between func(x) and any column of the\n  Jacobian is at most {gtol:.6} in absolute value"
        ),
        5 => format!("Number of calls to function has reached maxfev = {maxfev}."),
        6 => format!(
            "ftol={ftol:.6} is too small, no further reduction in the sum of squares\n  is possible."
        ),
        7 => format!(
            "xtol={xtol:.6} is too small, no further improvement in the approximate\n  solution is possible."
        ),
        8 => format!(
            "gtol={gtol:.6} is too small, func(x) is orthogonal to the columns of\n  the Jacobian to machine precision."
        ),
        _ => "Improper input parameters.".to_string(),
    }
}

/// Adapts a problem to MINPACK's callbacks (column-major Jacobian).
struct Analytic<'a, P: ?Sized> {
    problem: &'a P,
    rows: Vec<f64>,
    n: usize,
}

impl<P: Residuals + ?Sized> LmSystem for Analytic<'_, P> {
    type Error = Error;
    fn residuals(&mut self, x: &[f64], f: &mut [f64]) -> Result<(), Error> {
        eval_residuals(self.problem, x, f)
    }
    fn jacobian(&mut self, x: &[f64], _f: &[f64], fjac: &mut [f64]) -> Result<(), Error> {
        eval_jacobian(self.problem, x, &mut self.rows)?;
        let (n, m) = (self.n, self.rows.len() / self.n.max(1));
        for j in 0..n {
            for i in 0..m {
                fjac[i + j * m] = self.rows[i * n + j];
            }
        }
        Ok(())
    }
}

/// scipy's `leastsq`: MINPACK's LMDER (with `dfun`) or LMDIF, with MINPACK's outputs.
///
/// # Errors
/// [`Error::ShapeMismatch`] when m < n (scipy's `TypeError`), [`Error::InvalidOption`]
/// for `dfun` without a Jacobian, and [`Error::Callback`] (with the best point) when user
/// code fails. MINPACK's own input checks give `ier = 0`, as in scipy.
///
/// ```
/// let p = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| {
///     f[0] = 10.0 * (x[1] - x[0] * x[0]);
///     f[1] = 1.0 - x[0];
/// });
/// let r = trustfit::leastsq(&p, &[-1.2, 1.0], &Default::default()).unwrap();
/// assert!((1..=4).contains(&r.ier) && (r.x[0] - 1.0).abs() < 1e-7);
/// assert!(r.cov_x.is_some());
/// ```
pub fn leastsq<P: Residuals + ?Sized>(
    problem: &P,
    x0: &[f64],
    opts: &LeastsqOptions,
) -> Result<LeastsqResult, Error> {
    let n = x0.len();
    let m = problem.num_residuals();
    if n > m {
        return Err(Error::ShapeMismatch {
            what: format!(
                "Improper input: func input vector length N={n} must not exceed func output vector length M={m}"
            ),
            expected: format!("N ≤ {m}"),
            got: format!("N = {n}"),
        });
    }
    if opts.dfun && !problem.has_jacobian() {
        return Err(Error::option(
            "Dfun",
            "was requested but the problem provides no Jacobian.",
        ));
    }
    let maxfev = if opts.maxfev > 0 {
        opts.maxfev
    } else if opts.dfun {
        100 * (n + 1)
    } else {
        200 * (n + 1)
    };
    let params = LmderParams {
        ftol: opts.ftol,
        xtol: opts.xtol,
        gtol: opts.gtol,
        maxfev,
        factor: opts.factor,
        diag: opts.diag.clone(),
    };
    let mut x = x0.to_vec();
    let mut fvec = vec![0.0; m];
    let mut work = LmWorkspace::new(m, n);
    let outcome = if opts.dfun {
        let mut system = Analytic {
            problem,
            rows: vec![0.0; m * n],
            n,
        };
        lmder(&mut system, &mut x, &mut fvec, m, &params, &mut work)
    } else {
        let epsfcn = opts.epsfcn.unwrap_or(EPS);
        lmdif(
            |x: &[f64], f: &mut [f64]| eval_residuals(problem, x, f),
            &mut x,
            &mut fvec,
            m,
            &params,
            epsfcn,
            &mut work,
        )
    };
    let out: LmderOutput = match outcome {
        Ok(out) => out,
        Err((e, partial)) => {
            let cost = 0.5 * partial.fnorm * partial.fnorm;
            return Err(e.with_best(crate::error::BestPoint {
                x,
                cost,
                nfev: partial.nfev,
            }));
        }
    };
    let cov_x = if (1..=4).contains(&out.info) {
        cov_from_r(&out.fjac, &out.ipvt, m, n)
    } else {
        None
    };
    Ok(LeastsqResult {
        x,
        cov_x,
        fvec,
        nfev: out.nfev,
        njev: opts.dfun.then_some(out.njev),
        mesg: leastsq_message(out.info, opts.ftol, opts.xtol, opts.gtol, maxfev),
        ier: out.info,
        fjac: out.fjac,
        ipvt: out.ipvt,
        qtf: out.qtf,
    })
}

/// `(JᵀJ)⁻¹ = P R⁻¹ R⁻ᵀ Pᵀ` from MINPACK's R (column-major m×n `fjac`) and pivots
/// (spec §11.3); `None` when R is singular.
fn cov_from_r(fjac: &[f64], ipvt: &[usize], m: usize, n: usize) -> Option<Vec<f64>> {
    if fjac.len() < m * n || ipvt.len() < n {
        return None;
    }
    let r = |i: usize, j: usize| fjac[i + j * m];
    // Inverse of the upper-triangular R, column by column (back substitution).
    let mut rinv = vec![0.0; n * n]; // row-major
    for j in 0..n {
        if r(j, j) == 0.0 {
            return None;
        }
    }
    for col in 0..n {
        for i in (0..=col).rev() {
            let mut s = if i == col { 1.0 } else { 0.0 };
            for k in i + 1..=col {
                s -= r(i, k) * rinv[k * n + col];
            }
            rinv[i * n + col] = s / r(i, i);
        }
    }
    if rinv.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // Permute rows: row i of R⁻¹ belongs to variable ipvt[i].
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        let target = *ipvt.get(i)?;
        if target >= n {
            return None;
        }
        p[target * n..(target + 1) * n].copy_from_slice(&rinv[i * n..(i + 1) * n]);
    }
    let mut cov = vec![0.0; n * n];
    for a in 0..n {
        for b in 0..n {
            cov[a * n + b] = (0..n).map(|k| p[a * n + k] * p[b * n + k]).sum();
        }
    }
    Some(cov)
}

/// The parameters' covariance from a Jacobian, as scipy's `curve_fit` computes it for
/// trf/dogbox: the pseudo-inverse of `JᵀJ` via the SVD, dropping singular values
/// `≤ ε·max(m, n)·s₀` (row-major n×n; not yet scaled by the residual variance).
/// Largest m·n for which [`Report::covariance`] densifies a sparse J (400 MB).
const COVARIANCE_MAX_ENTRIES: usize = 50_000_000;

fn pseudo_inverse_jtj(jac: &[f64], m: usize, n: usize) -> Result<Vec<f64>, Error> {
    let rows = m.max(n);
    let mut svd = ThinSvd::new(rows, n);
    svd.set_shape(m, n);
    for j in 0..n {
        for i in 0..m {
            svd.a[j * m + i] = jac[i * n + j];
        }
    }
    let zeros = vec![0.0; m];
    let mut utb = vec![0.0; n.min(m)];
    svd.factor_and_project(&zeros, &mut utb)?;
    let k = svd.k();
    let threshold = EPS * rows as f64 * svd.s.first().copied().unwrap_or(0.0);
    let mut cov = vec![0.0; n * n];
    for l in 0..k {
        let s = svd.s[l];
        if s <= threshold {
            continue;
        }
        let col = &svd.v[l * n..(l + 1) * n];
        for a in 0..n {
            for b in 0..n {
                cov[a * n + b] += col[a] / (s * s) * col[b];
            }
        }
    }
    Ok(cov)
}

/// Covariance, standard errors and correlations of the fitted parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariance {
    /// Row-major n×n covariance (entries `+∞` when it cannot be estimated).
    pub matrix: Vec<f64>,
    /// Standard errors: square roots of the diagonal.
    pub stderr: Vec<f64>,
    /// Row-major n×n correlation matrix.
    pub correlation: Vec<f64>,
    /// True when the covariance could be estimated (scipy warns otherwise).
    pub estimated: bool,
}

impl Covariance {
    fn from_matrix(matrix: Vec<f64>, n: usize, estimated: bool) -> Self {
        let stderr: Vec<f64> = (0..n).map(|i| matrix[i * n + i].sqrt()).collect();
        let mut correlation = vec![0.0; n * n];
        for a in 0..n {
            for b in 0..n {
                correlation[a * n + b] = matrix[a * n + b] / (stderr[a] * stderr[b]);
            }
        }
        Self {
            matrix,
            stderr,
            correlation,
            estimated,
        }
    }
}

impl Report {
    /// Covariance of the solution as `curve_fit` estimates it: the pseudo-inverse of
    /// `JᵀJ`, scaled by `2·cost / (m − n)` (the residual variance) unless `absolute`
    /// (residuals already divided by known standard deviations).
    ///
    /// # Errors
    /// [`Error::LinearAlgebra`] if the SVD fails; [`Error::Unsupported`] for a
    /// matrix-free J, or a sparse J with more than 5·10⁷ entries when dense.
    ///
    /// ```
    /// // y = a + b t, fitted to 4 points: standard errors as in any regression table.
    /// let t = [0.0, 1.0, 2.0, 3.0];
    /// let y = [1.1, 2.9, 5.2, 6.8];
    /// let p = trustfit::from_fn(4, |p: &[f64], f: &mut [f64]| {
    ///     for i in 0..4 { f[i] = p[0] + p[1] * t[i] - y[i]; }
    /// });
    /// let r = trustfit::least_squares(&p, &[0.0, 0.0], &Default::default()).unwrap();
    /// let c = r.covariance(false).unwrap();
    /// assert!((c.stderr[1] - 0.09055385).abs() < 1e-7); // scipy curve_fit: 0.09055385
    /// ```
    pub fn covariance(&self, absolute: bool) -> Result<Covariance, Error> {
        let (m, n) = (self.m, self.n);
        let unsupported = |message: &str| Error::Unsupported {
            method: self.method.as_str(),
            message: message.into(),
        };
        let dense;
        let jac: &[f64] = if self.jac.len() == m * n {
            &self.jac
        } else if let Some(a) = &self.jac_sparse {
            // The dense SVD below needs m·n storage; beyond that, a sparse J's
            // covariance is a dense n×n anyway.
            if m.saturating_mul(n) > COVARIANCE_MAX_ENTRIES {
                return Err(unsupported(
                    "covariance: the sparse Jacobian is too large to densify (m·n > 5e7); compute it from `jac_sparse` with a sparse method",
                ));
            }
            dense = a.to_dense();
            &dense
        } else {
            return Err(unsupported(
                "covariance needs the Jacobian's entries, which a matrix-free Jacobian (`jacobian_products`) does not provide",
            ));
        };
        let mut matrix = pseudo_inverse_jtj(jac, m, n)?;
        let mut estimated = !matrix.iter().any(|v| v.is_nan());
        if !absolute {
            if m > n {
                let s2 = 2.0 * self.cost / (m - n) as f64;
                matrix.iter_mut().for_each(|v| *v *= s2);
            } else {
                estimated = false;
            }
        }
        if !estimated {
            matrix.fill(f64::INFINITY);
        }
        Ok(Covariance::from_matrix(matrix, n, estimated))
    }
}

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
    let bounded = !opts.bounds.is_unbounded();
    let method = opts
        .method
        .unwrap_or(if bounded { Method::Trf } else { Method::Lm });
    if method == Method::Lm && bounded {
        return Err(Error::Unsupported {
            method: "lm",
            message:
                "Method 'lm' only works for unconstrained problems. Use 'trf' or 'dogbox' instead."
                    .into(),
        });
    }
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
        let cost: f64 = r.fvec.iter().map(|v| v * v).sum();
        return Ok(finish(
            r.x,
            r.cov_x,
            cost,
            big_m,
            n,
            opts.absolute_sigma,
            r.nfev,
            r.fvec,
            r.ier,
            r.mesg,
        ));
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
    let pcov = pseudo_inverse_jtj(&r.jac, big_m, n)?;
    let (ier, mesg) = (r.status.scipy_status(), r.message().to_string());
    Ok(finish(
        r.x,
        Some(pcov),
        2.0 * r.cost,
        big_m,
        n,
        opts.absolute_sigma,
        r.nfev,
        r.fun,
        ier,
        mesg,
    ))
}

/// scipy's post-processing of pcov (spec §12 step 14).
fn finish(
    popt: Vec<f64>,
    pcov: Option<Vec<f64>>,
    cost: f64,
    ysize: usize,
    n: usize,
    absolute_sigma: bool,
    nfev: usize,
    fvec: Vec<f64>,
    ier: i32,
    mesg: String,
) -> CurveFitResult {
    let mut warn = false;
    let mut pcov = match pcov {
        Some(p) if !p.iter().any(|v| v.is_nan()) => p,
        _ => {
            warn = true;
            vec![f64::INFINITY; n * n]
        }
    };
    if !warn && !absolute_sigma {
        if ysize > n {
            let s = cost / (ysize - n) as f64;
            pcov.iter_mut().for_each(|v| *v *= s);
        } else {
            pcov.fill(f64::INFINITY);
            warn = true;
        }
    }
    let perr = (0..n).map(|i| pcov[i * n + i].sqrt()).collect();
    CurveFitResult {
        popt,
        pcov,
        perr,
        nfev,
        fvec,
        ier,
        mesg,
        warning: warn.then(|| "Covariance of the parameters could not be estimated".to_string()),
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
                let mut l = vec![0.0; m * m];
                for j in 0..m {
                    let mut d = c[j * m + j];
                    for k in 0..j {
                        d -= l[j * m + k] * l[j * m + k];
                    }
                    if d.is_nan() || d <= 0.0 {
                        return Err(Error::option("sigma", "must be positive definite."));
                    }
                    let d = d.sqrt();
                    l[j * m + j] = d;
                    for i in j + 1..m {
                        let mut s = c[i * m + j];
                        for k in 0..j {
                            s -= l[i * m + k] * l[j * m + k];
                        }
                        l[i * m + j] = s / d;
                    }
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
