//! Levenberg–Marquardt (scipy's `method='lm'`): MINPACK's LMDER on our residuals.
//!
//! Algorithm (Moré 1978; spec §9): at each outer iteration the Jacobian is factored by
//! pivoted QR, the Levenberg–Marquardt parameter is found for the trust region
//! `‖D p‖ ≤ Δ` (D = column norms of J, monotone, or `1/x_scale`), and steps are tried
//! until one reduces ‖f‖ enough. No bounds, linear loss only, m ≥ n. The Jacobian is the
//! analytic one or scipy's finite differences (`least_squares` does not use MINPACK's
//! own `fdjac2`, see [`crate::minpack::lmdif`] for `leastsq`).

use crate::error::{BestPoint, Error};
use crate::jacobian::evaluate::JacobianEvaluator;
use crate::jacobian::store::jt_times;
use crate::linalg::vector::{dot, norm_inf};
use crate::method::minimizer::{LoopState, Outcome};
use crate::method::scale::Scaling;
use crate::minpack::{LmSystem, LmWorkspace, LmderParams, lmder};
use crate::plan::Plan;
use crate::problem::{Residuals, eval_residuals};
use crate::report::Status;

/// Adapts the evaluation to MINPACK's callbacks (column-major Jacobian).
struct System<'s, 'c, P: ?Sized> {
    problem: &'s P,
    plan: &'s Plan,
    eval: &'s mut JacobianEvaluator,
    jac_rows: &'s mut [f64],
    /// x0 and f(x0), already computed by the front door: reused for MINPACK's first call.
    cached_f0: Option<(&'c [f64], &'c [f64])>,
    /// Where `jac_rows` was last evaluated: scipy's memo skips re-evaluating there.
    jac_at: &'s mut [f64],
}

impl<P: Residuals + ?Sized> LmSystem for System<'_, '_, P> {
    type Error = Error;

    fn residuals(&mut self, x: &[f64], f: &mut [f64]) -> Result<(), Error> {
        if let Some((x0, f0)) = self.cached_f0.take()
            && x0 == x
        {
            f.copy_from_slice(f0);
            return Ok(());
        }
        eval_residuals(self.problem, x, f)
    }

    fn jacobian(&mut self, x: &[f64], f_at_x: &[f64], fjac: &mut [f64]) -> Result<(), Error> {
        let (m, n) = (self.plan.m, self.plan.n);
        self.eval
            .dense(self.problem, self.plan, x, f_at_x, self.jac_rows)?;
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

/// lm's buffers and parameters, kept between solves.
pub(crate) struct LmState {
    params: LmderParams,
    work: LmWorkspace,
    jac_at: Vec<f64>,
}

impl LmState {
    /// MINPACK's R and pivots of the last solve (see [`LmWorkspace::r_factor`]).
    pub fn r_factor(&self) -> (&[f64], &[usize]) {
        self.work.r_factor()
    }

    /// MINPACK's parameters from the plan, and buffers for its shape.
    pub fn new(plan: &Plan) -> Self {
        let diag = match &plan.scaling {
            Scaling::Fixed(s) => Some(s.iter().map(|v| 1.0 / v).collect()),
            Scaling::Unit | Scaling::Jac | Scaling::Marquardt => None,
        };
        Self {
            params: LmderParams {
                ftol: plan.ftol,
                xtol: plan.xtol,
                gtol: plan.gtol,
                maxfev: plan.max_nfev,
                factor: 100.0,
                diag,
            },
            work: LmWorkspace::new(plan.m, plan.n),
            jac_at: vec![f64::NAN; plan.n],
        }
    }
}

/// Runs lm from `st.x` with `st.f_true = f(x)`; fixed `x_scale` values give MINPACK
/// mode 2. On return `st` holds x, f, the gradient, and `jac` the dense J at x.
pub(crate) fn solve<P: Residuals + ?Sized>(
    problem: &P,
    plan: &Plan,
    eval: &mut JacobianEvaluator,
    st: &mut LoopState,
    jac: &mut [f64],
    lm: &mut LmState,
) -> Result<Outcome, Error> {
    let (m, n) = (plan.m, plan.n);
    lm.jac_at.fill(f64::NAN);
    let initial_cost = 0.5 * dot(&st.f_true, &st.f_true);
    st.x_new.copy_from_slice(&st.x);
    let mut system = System {
        problem,
        plan,
        eval,
        jac_rows: jac,
        cached_f0: Some((&st.x_new, &st.f_true)),
        jac_at: &mut lm.jac_at,
    };
    let out = match lmder(
        &mut system,
        &mut st.x,
        &mut st.f_new,
        m,
        &lm.params,
        &mut lm.work,
    ) {
        Ok(out) => out,
        Err((e, partial)) => {
            let cost = 0.5 * partial.fnorm * partial.fnorm;
            return Err(e.with_best(BestPoint {
                x: st.x.clone(),
                cost,
                nfev: partial.nfev,
            }));
        }
    };
    // scipy re-evaluates the (memoised) Jacobian at the returned x to fill `res.jac`;
    // the memo makes that free when MINPACK's last Jacobian was already at x (gtol exit).
    let fresh = *system.jac_at != *st.x;
    let System { eval, jac_rows, .. } = system;
    std::mem::swap(&mut st.f_true, &mut st.f_new);
    let cost = 0.5 * dot(&st.f_true, &st.f_true);
    if fresh {
        eval.dense(problem, plan, &st.x, &st.f_true, jac_rows)
            .map_err(|e| {
                e.with_best(BestPoint {
                    x: st.x.clone(),
                    cost,
                    nfev: out.nfev,
                })
            })?;
    }
    jt_times(jac_rows, &st.f_true, n, &mut st.grad);
    st.active_mask.fill(0);
    Ok(Outcome {
        cost,
        optimality: norm_inf(&st.grad),
        nfev: out.nfev,
        njev: (!plan.jac_spec.is_differenced()).then_some(out.njev),
        status: status_of(out.info),
        nit: out.njev,
        initial_cost,
    })
}
