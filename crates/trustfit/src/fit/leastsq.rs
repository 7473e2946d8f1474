//! scipy's `leastsq`: MINPACK's LMDER/LMDIF with MINPACK's outputs and `cov_x`.

use super::covariance::cov_from_r;
use crate::error::Error;
use crate::minpack::{LmSystem, LmWorkspace, LmderOutput, LmderParams, lmder, lmdif};
use crate::options::EPS;
use crate::problem::{Residuals, eval_jacobian, eval_residuals};

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
