//! Dense finite-difference and complex-step Jacobians (spec §5.1–§5.3).
//!
//! Steps follow scipy's `approx_derivative`: relative step `√ε` (2-point, cs) or `ε^⅓`
//! (3-point) times `max(1, |x|)`, with the sign of `x`, adjusted so that every
//! evaluation point stays inside the bounds. Columns may be evaluated in parallel
//! (`workers`) when the problem is thread-safe; results are identical to serial.

use num_complex::Complex64;
use rayon::prelude::*;

use crate::error::{CallbackError, Error};
use crate::options::{EPS, JacSpec};
use crate::problem::{Residuals, eval_residuals, guarded};

/// Reusable buffers for one `m × n` problem.
pub(crate) struct FdWorkspace {
    pub(crate) h: Vec<f64>,
    pub(crate) one_sided: Vec<bool>,
    pub(crate) x1: Vec<f64>,
    pub(crate) f1: Vec<f64>,
    pub(crate) f2: Vec<f64>,
    pub(crate) xc: Vec<Complex64>,
    pub(crate) fc: Vec<Complex64>,
}

impl FdWorkspace {
    pub fn new(m: usize, n: usize, scheme: JacSpec) -> Self {
        let complex = scheme == JacSpec::ComplexStep;
        Self {
            h: vec![0.0; n],
            one_sided: vec![false; n],
            x1: vec![0.0; n],
            f1: vec![0.0; m],
            f2: vec![0.0; m],
            xc: vec![Complex64::new(0.0, 0.0); if complex { n } else { 0 }],
            fc: vec![Complex64::new(0.0, 0.0); if complex { m } else { 0 }],
        }
    }
}

/// Inputs of one finite-difference Jacobian.
pub(crate) struct FdParams<'a> {
    pub scheme: JacSpec,
    pub x: &'a [f64],
    pub f0: &'a [f64],
    pub lb: &'a [f64],
    pub ub: &'a [f64],
    pub diff_step: Option<&'a [f64]>,
    pub bounded: bool,
}

/// Relative base step for a scheme.
fn relative_step(scheme: JacSpec) -> f64 {
    match scheme {
        JacSpec::ThreePoint => EPS.powf(1.0 / 3.0),
        _ => EPS.sqrt(),
    }
}

/// Computes the step per variable (spec §5.1, §5.2) into `ws.h` / `ws.one_sided`.
pub(crate) fn compute_steps(p: &FdParams<'_>, ws: &mut FdWorkspace) {
    let r = relative_step(p.scheme);
    if p.diff_step.is_none() && !p.bounded && p.scheme != JacSpec::ThreePoint {
        // The default steps with nothing to adjust: a loop the compiler vectorizes
        // (the general one below gives the same values).
        for (h, &xj) in ws.h.iter_mut().zip(p.x) {
            let sgn = if xj >= 0.0 { 1.0 } else { -1.0 };
            *h = r * sgn * xj.abs().max(1.0);
        }
        ws.one_sided.fill(false);
        return;
    }
    for j in 0..p.x.len() {
        let xj = p.x[j];
        let sgn = if xj >= 0.0 { 1.0 } else { -1.0 };
        let h_def = r * sgn * xj.abs().max(1.0);
        let mut h = match p.diff_step {
            None => h_def,
            Some(ds) => {
                let d = if ds.len() == 1 { ds[0] } else { ds[j] };
                let h = d * sgn * xj.abs();
                if (xj + h) - xj == 0.0 { h_def } else { h }
            }
        };
        ws.one_sided[j] = false;
        match p.scheme {
            JacSpec::TwoPoint if p.bounded => {
                let (dl, du) = (xj - p.lb[j], p.ub[j] - xj);
                let violated = xj + h < p.lb[j] || xj + h > p.ub[j];
                let fits = h.abs() <= dl.max(du);
                if violated && fits {
                    h = -h;
                }
                if !fits {
                    h = if du >= dl { du } else { -dl };
                }
            }
            JacSpec::ThreePoint => {
                h = h.abs();
                ws.one_sided[j] = false;
                if p.bounded {
                    let (dl, du) = (xj - p.lb[j], p.ub[j] - xj);
                    let central = dl >= h && du >= h;
                    if !central {
                        h = if du >= dl {
                            h.min(du / 2.0)
                        } else {
                            -h.min(dl / 2.0)
                        };
                        ws.one_sided[j] = true;
                        let mind = du.min(dl);
                        if h.abs() <= mind {
                            h = mind;
                            ws.one_sided[j] = false;
                        }
                    }
                }
            }
            _ => {}
        }
        ws.h[j] = h;
    }
}

/// One Jacobian column into `col` (length m).
fn column<P: Residuals + ?Sized>(
    problem: &P,
    p: &FdParams<'_>,
    j: usize,
    h: f64,
    one_sided: bool,
    x1: &mut [f64],
    f1: &mut [f64],
    f2: &mut [f64],
    col: &mut dyn FnMut(usize, f64),
) -> Result<(), Error> {
    let xj = p.x[j];
    match p.scheme {
        JacSpec::ThreePoint if !one_sided => {
            x1[j] = xj - h;
            eval_residuals(problem, x1, f1)?;
            x1[j] = xj + h;
            eval_residuals(problem, x1, f2)?;
            x1[j] = xj;
            let dx = (xj + h) - (xj - h);
            for i in 0..f1.len() {
                col(i, (f2[i] - f1[i]) / dx);
            }
        }
        JacSpec::ThreePoint => {
            x1[j] = xj + h;
            eval_residuals(problem, x1, f1)?;
            x1[j] = xj + 2.0 * h;
            eval_residuals(problem, x1, f2)?;
            x1[j] = xj;
            let dx = (xj + 2.0 * h) - xj;
            for i in 0..f1.len() {
                col(i, (-3.0 * p.f0[i] + 4.0 * f1[i] - f2[i]) / dx);
            }
        }
        _ => {
            x1[j] = xj + h;
            eval_residuals(problem, x1, f1)?;
            x1[j] = xj;
            let dx = (xj + h) - xj;
            for i in 0..f1.len() {
                col(i, (f1[i] - p.f0[i]) / dx);
            }
        }
    }
    Ok(())
}

/// Fills `jac` (row-major m × n) by finite differences or complex step.
///
/// With `pool`, columns are evaluated on its threads (the problem must be thread-safe).
pub(crate) fn dense_jacobian<P: Residuals + ?Sized>(
    problem: &P,
    p: &FdParams<'_>,
    jac: &mut [f64],
    ws: &mut FdWorkspace,
    pool: Option<&rayon::ThreadPool>,
) -> Result<(), Error> {
    let n = p.x.len();
    let m = p.f0.len();
    compute_steps(p, ws);
    if p.scheme == JacSpec::ComplexStep {
        return complex_step(problem, p, jac, ws);
    }
    if let (Some(pool), Some(sync)) = (pool, problem.as_sync()) {
        let h = &ws.h;
        let one_sided = &ws.one_sided;
        let columns: Result<Vec<Vec<f64>>, Error> = pool.install(|| {
            (0..n)
                .into_par_iter()
                .map_init(
                    || (p.x.to_vec(), vec![0.0; m], vec![0.0; m]),
                    |(x1, f1, f2), j| {
                        let mut out = vec![0.0; m];
                        column(sync, p, j, h[j], one_sided[j], x1, f1, f2, &mut |i, v| {
                            out[i] = v
                        })?;
                        Ok(out)
                    },
                )
                .collect()
        });
        for (j, col) in columns?.into_iter().enumerate() {
            for (i, v) in col.into_iter().enumerate() {
                jac[i * n + j] = v;
            }
        }
        return Ok(());
    }
    ws.x1.copy_from_slice(p.x);
    for j in 0..n {
        let (h, os) = (ws.h[j], ws.one_sided[j]);
        column(
            problem,
            p,
            j,
            h,
            os,
            &mut ws.x1,
            &mut ws.f1,
            &mut ws.f2,
            &mut |i, v| jac[i * n + j] = v,
        )?;
    }
    Ok(())
}

fn complex_step<P: Residuals + ?Sized>(
    problem: &P,
    p: &FdParams<'_>,
    jac: &mut [f64],
    ws: &mut FdWorkspace,
) -> Result<(), Error> {
    let n = p.x.len();
    if !problem.has_complex() {
        return Err(Error::from(CallbackError::new(
            "`jac='cs'` needs residuals that accept complex arguments: implement `Residuals::residuals_complex` or use `from_fn(..).with_complex(..)`",
        )));
    }
    for (c, &x) in ws.xc.iter_mut().zip(p.x) {
        *c = Complex64::new(x, 0.0);
    }
    for j in 0..n {
        let h = ws.h[j];
        ws.xc[j] = Complex64::new(p.x[j], h);
        let (xc, fc) = (&ws.xc, &mut ws.fc);
        guarded("residual function (complex)", || {
            problem.residuals_complex(xc, fc)
        })?;
        ws.xc[j] = Complex64::new(p.x[j], 0.0);
        for (i, f) in ws.fc.iter().enumerate() {
            jac[i * n + j] = f.im / h;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::from_fn;

    fn fd(scheme: JacSpec, x: &[f64], lb: &[f64], ub: &[f64]) -> Vec<f64> {
        let p = from_fn(2, |x: &[f64], f: &mut [f64]| {
            f[0] = x[0] * x[0] * x[1];
            f[1] = x[1].sin() + x[0];
        })
        .with_complex(|x: &[Complex64], f: &mut [Complex64]| {
            f[0] = x[0] * x[0] * x[1];
            f[1] = x[1].sin() + x[0];
        });
        let mut f0 = [0.0; 2];
        p.residuals(x, &mut f0).unwrap();
        let bounded = lb.iter().any(|v| v.is_finite()) || ub.iter().any(|v| v.is_finite());
        let params = FdParams {
            scheme,
            x,
            f0: &f0,
            lb,
            ub,
            diff_step: None,
            bounded,
        };
        let mut jac = vec![0.0; 4];
        let mut ws = FdWorkspace::new(2, 2, scheme);
        dense_jacobian(&p, &params, &mut jac, &mut ws, None).unwrap();
        jac
    }

    #[test]
    fn every_scheme_approximates_the_analytic_jacobian() {
        let x = [1.5f64, 0.7];
        let exact = [2.0 * x[0] * x[1], x[0] * x[0], 1.0, x[1].cos()];
        let inf = [f64::INFINITY; 2];
        let ninf = [f64::NEG_INFINITY; 2];
        // Tolerances: 2-point error ~ √ε·|f''|, 3-point ~ ε^⅔, cs ~ ε.
        for (scheme, tol) in [
            (JacSpec::TwoPoint, 1e-6),
            (JacSpec::ThreePoint, 1e-9),
            (JacSpec::ComplexStep, 1e-14),
        ] {
            let jac = fd(scheme, &x, &ninf, &inf);
            for k in 0..4 {
                assert!(
                    (jac[k] - exact[k]).abs() < tol,
                    "{scheme}: {jac:?} vs {exact:?}"
                );
            }
        }
    }

    #[test]
    fn steps_stay_inside_bounds() {
        // x on its upper bound: 2-point steps backward, 3-point goes one-sided.
        let x = [1.5f64, 0.7];
        let lb = [0.0, 0.0];
        let ub = [1.5, 0.7];
        let exact = [2.0 * x[0] * x[1], x[0] * x[0], 1.0, x[1].cos()];
        for (scheme, tol) in [(JacSpec::TwoPoint, 1e-6), (JacSpec::ThreePoint, 1e-8)] {
            let jac = fd(scheme, &x, &lb, &ub);
            for k in 0..4 {
                assert!((jac[k] - exact[k]).abs() < tol, "{scheme}: {jac:?}");
            }
        }
    }
}
