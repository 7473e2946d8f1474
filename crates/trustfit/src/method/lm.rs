//! Levenberg–Marquardt (scipy's `method='lm'`): MINPACK's LMDER on our residuals.
//!
//! Algorithm (Moré 1978; spec §9): at each outer iteration the Jacobian is factored by
//! pivoted QR, the Levenberg–Marquardt parameter is found for the trust region
//! `‖D p‖ ≤ Δ` (D = column norms of J, monotone, or `1/x_scale`), and steps are tried
//! until one reduces ‖f‖ enough. No bounds, linear loss only, m ≥ n. The Jacobian is the
//! analytic one or scipy's finite differences (`least_squares` does not use MINPACK's
//! own `fdjac2`, see [`crate::minpack::lmdif`] for `leastsq`).

use crate::error::{BestPoint, Error};
use crate::loss::dot;
use crate::method::common::{Context, Outcome, jt_times, norm_inf};
use crate::method::jac_store::JacStore;
use crate::minpack::{LmSystem, LmWorkspace, LmderParams, lmder};
use crate::options::JacSpec;
use crate::problem::Residuals;
use crate::report::Status;

/// Adapts the evaluation context to MINPACK's callbacks (column-major Jacobian).
struct System<'x, 'a, 'c, P: ?Sized> {
    ctx: &'x mut Context<'a, 'c, P>,
    jac_rows: Vec<f64>,
    /// f(x0), already computed by the front door: reused for MINPACK's first call.
    cached_f0: Option<(Vec<f64>, Vec<f64>)>,
    /// Where `jac_rows` was last evaluated: scipy's memo skips re-evaluating there.
    jac_at: Vec<f64>,
}

impl<P: Residuals + ?Sized> LmSystem for System<'_, '_, '_, P> {
    type Error = Error;

    fn residuals(&mut self, x: &[f64], f: &mut [f64]) -> Result<(), Error> {
        if let Some((x0, f0)) = self.cached_f0.take()
            && x0 == x
        {
            f.copy_from_slice(&f0);
            return Ok(());
        }
        self.ctx.fun(x, f)
    }

    fn jacobian(&mut self, x: &[f64], f_at_x: &[f64], fjac: &mut [f64]) -> Result<(), Error> {
        let (m, n) = (self.ctx.m, self.ctx.n);
        self.ctx.jac(x, f_at_x, &mut self.jac_rows)?;
        self.jac_at.copy_from_slice(x);
        for j in 0..n {
            for i in 0..m {
                fjac[i + j * m] = self.jac_rows[i * n + j];
            }
        }
        Ok(())
    }
}

/// MINPACK `info` → scipy status (spec §9.8; 6/7/8 mapped defensively).
fn status_of(info: i32) -> Status {
    match info {
        1 | 6 => Status::Ftol,
        2 | 7 => Status::Xtol,
        3 => Status::FtolXtol,
        4 | 8 => Status::Gtol,
        5 => Status::MaxNfev,
        _ => Status::ImproperInput,
    }
}

/// Runs lm from `x0` with `f0 = f(x0)`; `x_scale` values give MINPACK mode 2.
pub(crate) fn solve<P: Residuals + ?Sized>(
    ctx: &mut Context<'_, '_, P>,
    x0: Vec<f64>,
    f0: Vec<f64>,
    x_scale: Option<Vec<f64>>,
) -> Result<Outcome<'static>, Error> {
    let (m, n) = (ctx.m, ctx.n);
    let params = LmderParams {
        ftol: ctx.ftol,
        xtol: ctx.xtol,
        gtol: ctx.gtol,
        maxfev: ctx.max_nfev,
        factor: 100.0,
        diag: x_scale.map(|s| s.iter().map(|v| 1.0 / v).collect()),
    };
    let initial_cost = 0.5 * dot(&f0, &f0);
    let mut x = x0.clone();
    let mut fvec = vec![0.0; m];
    let mut work = LmWorkspace::new(m, n);
    let analytic = ctx.jac_spec == JacSpec::Analytic;
    let mut system = System {
        ctx,
        jac_rows: vec![0.0; m * n],
        cached_f0: Some((x0, f0)),
        jac_at: vec![f64::NAN; n],
    };
    let out = match lmder(&mut system, &mut x, &mut fvec, m, &params, &mut work) {
        Ok(out) => out,
        Err((e, partial)) => {
            let cost = 0.5 * partial.fnorm * partial.fnorm;
            return Err(e.with_best(BestPoint {
                x,
                cost,
                nfev: partial.nfev,
            }));
        }
    };
    // scipy re-evaluates the (memoised) Jacobian at the returned x to fill `res.jac`;
    // the memo makes that free when MINPACK's last Jacobian was already at x (gtol exit).
    let mut jac = std::mem::take(&mut system.jac_rows);
    let fresh = system.jac_at != x;
    let ctx = system.ctx;
    if fresh {
        ctx.jac(&x, &fvec, &mut jac).map_err(|e| {
            e.with_best(BestPoint {
                x: x.clone(),
                cost: 0.5 * dot(&fvec, &fvec),
                nfev: out.nfev,
            })
        })?;
    }
    let mut grad = vec![0.0; n];
    jt_times(&jac, &fvec, n, &mut grad);
    Ok(Outcome {
        cost: 0.5 * dot(&fvec, &fvec),
        optimality: norm_inf(&grad),
        x,
        fun: fvec,
        jac: JacStore::Dense { data: jac, n },
        grad,
        active_mask: vec![0; n],
        nfev: out.nfev,
        njev: analytic.then_some(out.njev),
        status: status_of(out.info),
        nit: out.njev,
        initial_cost,
    })
}
