//! The one trust-region loop of trf and dogbox (Ceres' TrustRegionMinimizer in
//! shape): gradient and optimality, the gtol test, trials until the cost decreases
//! (radius update, ftol/xtol tests), acceptance, the Jacobian update with robust-loss
//! scaling and `x_scale='jac'`, verbose rows, the callback, and the best point carried
//! by any error once the iteration has started. A [`Strategy`] (trf or dogbox) only
//! chooses steps; its subproblem solver solves the linear model.

use std::ops::ControlFlow;

use crate::error::{BestPoint, Error};
use crate::jacobian::evaluate::JacobianEvaluator;
use crate::jacobian::store::JacStore;
use crate::linalg::vector::{all_finite, norm};
use crate::loss::LossScaling;
use crate::method::scale::VariableScale;
use crate::method::trust_region::{check_termination, update_tr_radius};
use crate::options::Loss;
use crate::plan::Plan;
use crate::problem::{Residuals, eval_residuals};
use crate::report::{IterationSummary, Status};
use crate::timing::{Phase, Stopwatch};
use crate::verbose::{emit, header_line, row_line};

/// The user's per-iteration callback; `Break` stops the solve (status −2).
pub(crate) type IterationCallback<'c> = dyn FnMut(&IterationSummary<'_>) -> ControlFlow<()> + 'c;

/// The point of the iteration and its buffers (length n or m), reused across solves.
pub(crate) struct LoopState {
    pub x: Vec<f64>,
    pub x_new: Vec<f64>,
    /// Residuals at `x`, never loss-scaled.
    pub f_true: Vec<f64>,
    pub f_new: Vec<f64>,
    /// Loss-scaled residuals at `x`.
    pub fs: Vec<f64>,
    /// `g = Jᵀ fs` (a strategy may zero frozen components during an iteration).
    pub g: Vec<f64>,
    /// Filled at the end: the reported gradient and active set.
    pub grad: Vec<f64>,
    pub active_mask: Vec<i32>,
}

impl LoopState {
    /// Buffers around a start point `x` and its residuals `f` (n and m values); the
    /// loss-scaled residuals and the gradient only for the trust-region loop (lm keeps
    /// its own in MINPACK's workspace).
    pub fn at(x: Vec<f64>, f: Vec<f64>, trust_region: bool) -> Self {
        let (n, m) = (x.len(), f.len());
        let (of_n, of_m) = (|| vec![0.0; n], || vec![0.0; m]);
        let (fs, g) = if trust_region {
            (of_m(), of_n())
        } else {
            (Vec::new(), Vec::new())
        };
        Self {
            x,
            x_new: of_n(),
            f_true: f,
            f_new: of_m(),
            fs,
            g,
            grad: of_n(),
            active_mask: vec![0; n],
        }
    }
}

/// What the loop needs besides the strategy: evaluation, loss, point, scales.
pub(crate) struct LoopParts {
    pub eval: JacobianEvaluator,
    pub loss: LossScaling,
    pub st: LoopState,
    pub scales: VariableScale,
    pub clock: Stopwatch,
}

/// One trial step, as the strategy built it (`x_new` is in the state).
pub(crate) struct Trial {
    /// Reduction of the model's cost.
    pub predicted: f64,
    /// Step length in the trust region's norm.
    pub step_h_norm: f64,
    /// Whether the step reached the region's boundary (the radius may then grow).
    pub boundary_hit: bool,
    /// Euclidean length of the step in x.
    pub step_norm: f64,
}

/// What a strategy reads during an iteration: the plan, J, the variable scales, the
/// first-order optimality at x and the trust radius.
pub(crate) struct View<'a, 'j> {
    pub plan: &'a Plan,
    pub jac: &'a JacStore<'j>,
    pub scales: &'a VariableScale,
    pub g_norm: f64,
    pub delta: f64,
}

/// How trf and dogbox differ: the region's shape, the step, what "active" means.
pub(crate) trait Strategy {
    /// A solve begins at x0: reset per-solve state; returns the trust radius (0 or NaN
    /// become 1).
    fn start(&mut self, plan: &Plan, st: &LoopState, scales: &VariableScale) -> f64;
    /// Loop head: the first-order optimality at x (dogbox also freezes variables).
    fn optimality(&mut self, plan: &Plan, st: &mut LoopState) -> f64;
    /// Once per iteration: set up the model (and its subproblem) at x.
    fn prepare(&mut self, v: &View<'_, '_>, st: &LoopState) -> Result<(), Error>;
    /// One trial for radius `v.delta`: writes `st.x_new`.
    fn trial(&mut self, v: &View<'_, '_>, st: &mut LoopState) -> Trial;
    /// The radius changes between trials (trf rescales its α).
    fn radius_changed(&mut self, _delta: f64, _delta_new: f64) {}
    /// After a trial with finite residuals: the next radius and the gain ratio
    /// (scipy's rule, spec §6.7, unless the method has its own).
    fn next_radius(&mut self, delta: f64, reduction: f64, trial: &Trial) -> (f64, f64) {
        let (predicted, h_norm, hit) = (trial.predicted, trial.step_h_norm, trial.boundary_hit);
        update_tr_radius(delta, reduction, predicted, h_norm, hit)
    }
    /// After a trial point where the residuals are not finite: the next radius.
    fn radius_after_nonfinite(&mut self, _delta: f64, trial: &Trial) -> f64 {
        0.25 * trial.step_h_norm
    }
    /// After the trial point became x: adjust it (dogbox pins variables to the bounds
    /// its step reached); `true` when x moved, so f(x) must be evaluated again.
    fn accepted(&mut self, plan: &Plan, x: &mut [f64]) -> bool;
    /// At the end: the reported gradient and active set into `st.grad`, `st.active_mask`.
    fn finish(&mut self, plan: &Plan, st: &mut LoopState);
}

/// What a method returns; the vectors are in the workspace's [`LoopState`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub cost: f64,
    pub initial_cost: f64,
    pub optimality: f64,
    pub nfev: usize,
    pub njev: Option<usize>,
    pub status: Status,
    pub nit: usize,
}

/// The counters and scalars of one run of the loop.
struct Run {
    cost: f64,
    nfev: usize,
    njev: usize,
    nit: usize,
    delta: f64,
    step_norm: Option<f64>,
    actual_reduction: Option<f64>,
    status: Option<Status>,
}

impl Run {
    fn best(&self, st: &LoopState) -> BestPoint {
        BestPoint {
            x: st.x.clone(),
            cost: self.cost,
            nfev: self.nfev,
        }
    }
}

/// One run of the loop over borrowed parts.
struct Minimizer<'a, 'j, P: ?Sized, S> {
    problem: &'a P,
    plan: &'a Plan,
    parts: &'a mut LoopParts,
    jac: &'a mut JacStore<'j>,
    strategy: &'a mut S,
    run: Run,
}

/// Runs the loop from `parts.st.x` (strictly feasible for trf) with `parts.st.f_true`
/// = f(x0): J(x0) first, then iterations until a test stops it.
pub(crate) fn minimize<P: Residuals + ?Sized, S: Strategy>(
    problem: &P,
    plan: &Plan,
    parts: &mut LoopParts,
    jac: &mut JacStore<'_>,
    strategy: &mut S,
    mut callback: Option<&mut IterationCallback<'_>>,
) -> Result<Outcome, Error> {
    let cost = start(problem, plan, parts, jac).map_err(|e| {
        // A failure at x0 (J not finite, a panicking model or loss) keeps x0 as the
        // best point, as the later iterations keep theirs.
        let st = &parts.st;
        // A user's loss is not called again after it may have failed (cost NaN then).
        let cost = match plan.loss {
            Loss::Custom(_) => f64::NAN,
            _ => parts.loss.cost_of(&st.f_true).unwrap_or(f64::NAN),
        };
        let x = st.x.clone();
        e.with_best(BestPoint { x, cost, nfev: 1 })
    })?;
    parts.scales.reset(&plan.scaling, jac);
    let mut delta = strategy.start(plan, &parts.st, &parts.scales);
    if delta == 0.0 || delta.is_nan() {
        delta = 1.0;
    }
    let run = Run {
        cost,
        nfev: 1,
        njev: 1,
        nit: 0,
        delta,
        step_norm: None,
        actual_reduction: None,
        status: None,
    };
    let mut me = Minimizer {
        problem,
        plan,
        parts,
        jac,
        strategy,
        run,
    };
    if plan.verbose == 2 {
        emit(plan.printer.as_ref(), &header_line());
    }
    let g_norm = loop {
        let g_norm = me.strategy.optimality(plan, &mut me.parts.st);
        if me.head(g_norm) {
            break g_norm;
        }
        me.iterate(g_norm)
            .map_err(|e| e.with_best(me.run.best(&me.parts.st)))?;
        if notify(callback.as_deref_mut(), &me.run, &me.parts.st)? {
            me.run.status = Some(Status::CallbackStop);
            break g_norm;
        }
    };
    me.strategy.finish(plan, &mut me.parts.st);
    let run = &me.run;
    Ok(Outcome {
        cost: run.cost,
        initial_cost: cost,
        optimality: g_norm,
        nfev: run.nfev,
        njev: Some(run.njev),
        status: run.status.unwrap_or(Status::MaxNfev),
        nit: run.nit,
    })
}

/// J(x0), the loss scaling and the gradient at x0; the cost at x0.
fn start<P: Residuals + ?Sized>(
    problem: &P,
    plan: &Plan,
    parts: &mut LoopParts,
    jac: &mut JacStore<'_>,
) -> Result<f64, Error> {
    let LoopParts {
        eval, st, clock, ..
    } = parts;
    clock.time(Phase::Jacobian, || {
        eval.evaluate(problem, plan, &st.x, &st.f_true, jac)
    })?;
    let cost = parts.loss.scale(&st.f_true, &mut st.fs, jac)?;
    jac.tmul(&st.fs, &mut st.g);
    jac.take_error()?;
    Ok(cost)
}

impl<P: Residuals + ?Sized, S: Strategy> Minimizer<'_, '_, P, S> {
    /// Loop head: gtol test and verbose row; `true` when the loop ends here.
    fn head(&mut self, g_norm: f64) -> bool {
        let (plan, run) = (self.plan, &mut self.run);
        if g_norm < plan.gtol {
            run.status = Some(Status::Gtol);
        }
        if plan.verbose == 2 {
            let (r, s) = (run.actual_reduction, run.step_norm);
            let row = row_line(run.nit, run.nfev, run.cost, r, s, g_norm);
            emit(plan.printer.as_ref(), &row);
        }
        run.status.is_some() || run.nfev == plan.max_nfev
    }

    /// One outer iteration: trials until the cost decreases (or a test stops the
    /// solve), then the new point's Jacobian.
    fn iterate(&mut self, g_norm: f64) -> Result<(), Error> {
        let (plan, problem) = (self.plan, self.problem);
        let LoopParts {
            loss,
            st,
            scales,
            clock,
            ..
        } = &mut *self.parts;
        let run = &mut self.run;
        let (jac, strategy) = (&*self.jac, &mut *self.strategy);
        let view = |delta| View {
            plan,
            jac,
            scales,
            g_norm,
            delta,
        };
        clock.time(Phase::LinearAlgebra, || {
            strategy.prepare(&view(run.delta), st)
        })?;
        jac.take_error()?;
        let mut reduction = -1.0;
        let mut cost_new = run.cost;
        let x_norm = norm(&st.x);
        while reduction <= 0.0 && run.nfev < plan.max_nfev {
            let trial = clock.time(Phase::LinearAlgebra, || {
                strategy.trial(&view(run.delta), st)
            });
            jac.take_error()?;
            clock.time(Phase::Residuals, || {
                eval_residuals(problem, &st.x_new, &mut st.f_new)
            })?;
            run.nfev += 1;
            if !all_finite(&st.f_new) {
                run.delta = strategy.radius_after_nonfinite(run.delta, &trial);
                continue;
            }
            cost_new = loss.cost_of(&st.f_new)?;
            reduction = run.cost - cost_new;
            let (delta_new, ratio) = strategy.next_radius(run.delta, reduction, &trial);
            run.step_norm = Some(trial.step_norm);
            let (ftol, xtol) = (plan.ftol, plan.xtol);
            let (cost, sn) = (run.cost, trial.step_norm);
            run.status = check_termination(reduction, cost, sn, x_norm, ratio, ftol, xtol);
            if run.status.is_some() {
                break;
            }
            strategy.radius_changed(run.delta, delta_new);
            run.delta = delta_new;
        }
        if reduction > 0.0 {
            self.accept(reduction, cost_new)?;
        } else {
            self.run.step_norm = Some(0.0);
            self.run.actual_reduction = Some(0.0);
        }
        self.run.nit += 1;
        Ok(())
    }

    /// The trial point becomes x (buffers are exchanged, not copied), then its J.
    fn accept(&mut self, reduction: f64, cost_new: f64) -> Result<(), Error> {
        let (plan, problem) = (self.plan, self.problem);
        let (parts, jac) = (&mut *self.parts, &mut *self.jac);
        let st = &mut parts.st;
        std::mem::swap(&mut st.x, &mut st.x_new);
        std::mem::swap(&mut st.f_true, &mut st.f_new);
        self.run.cost = cost_new;
        let moved = self.strategy.accepted(plan, &mut st.x);
        let eval = &mut parts.eval;
        parts.clock.time(Phase::Jacobian, || {
            if moved && plan.jac_spec.is_differenced() {
                // scipy's memoised jac re-evaluates f at a moved x (uncounted) to difference.
                eval_residuals(problem, &st.x, &mut st.f_new)?;
                eval.evaluate(problem, plan, &st.x, &st.f_new, jac)
            } else {
                eval.evaluate(problem, plan, &st.x, &st.f_true, jac)
            }
        })?;
        self.run.njev += 1;
        // Keep the trial's cost (scipy keeps cost_new); only rescale J and f.
        parts.loss.rescale(&st.f_true, &mut st.fs, jac)?;
        jac.tmul(&st.fs, &mut st.g);
        jac.take_error()?;
        parts.scales.update(jac);
        self.run.actual_reduction = Some(reduction);
        Ok(())
    }
}

/// Calls the user's callback after an iteration; `true` means "stop". A failing
/// callback's error carries the current point as the best one.
fn notify(
    callback: Option<&mut IterationCallback<'_>>,
    run: &Run,
    st: &LoopState,
) -> Result<bool, Error> {
    let Some(cb) = callback else {
        return Ok(false);
    };
    let summary = IterationSummary {
        iteration: run.nit,
        nfev: run.nfev,
        cost: run.cost,
        x: &st.x,
        fun: &st.f_true,
        step_norm: run.step_norm.unwrap_or(0.0),
        cost_reduction: run.actual_reduction.unwrap_or(0.0),
    };
    let flow = crate::problem::guarded("callback", || Ok(cb(&summary)))
        .map_err(|e| e.with_best(run.best(st)))?;
    Ok(flow.is_break())
}
