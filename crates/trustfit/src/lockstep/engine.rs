//! One block of fits iterated in lock-step: every round computes each active fit's
//! damped Gauss–Newton step from its normal equations, evaluates all the trial points
//! with one [`BlockModel::eval`] call, then accepts or rejects each fit's step on its
//! own. The arithmetic of a fit never reads another fit's numbers, so a fit's result
//! does not depend on the block it was solved in.
//!
//! Per fit and round: the step costs one n×n Cholesky (n³/6), an accepted point one
//! pass over J to form JᵀJ and Jᵀf (m·n²/2); storage is O(block·m·n) per thread.

use super::LockstepOptions;
use crate::batch::{FitOutcome, FitSummary};
use crate::error::{CallbackError, ErrorKind};
use crate::report::Status;

use super::kernels;
use super::model::{BlockModel, Evaluation};

/// The per-thread buffers of a block: fit state by slot, evaluation buffers by
/// position among the fits evaluated this round.
pub(super) struct Block {
    n: usize,
    m: usize,
    /// Batch index of each slot's fit.
    ids: Vec<usize>,
    /// Slots still iterating.
    active: Vec<usize>,
    /// Slots evaluated this round, and their batch indices.
    trial_slots: Vec<usize>,
    trial_ids: Vec<usize>,
    x: Vec<f64>,
    a: Vec<f64>,
    g: Vec<f64>,
    scale: Vec<f64>,
    chi2: Vec<f64>,
    lambda: Vec<f64>,
    nfev: Vec<usize>,
    rounds: Vec<usize>,
    step_norm: Vec<f64>,
    /// The reduction of χ² the linear model predicts for the trial (Gauss–Newton).
    predicted: Vec<f64>,
    outcome: Vec<Option<FitOutcome>>,
    /// Trial points, residuals and Jacobians, in trial order.
    xt: Vec<f64>,
    f: Vec<f64>,
    jac: Vec<f64>,
    /// Scratch: a damped matrix, a step, and a candidate JᵀJ and Jᵀf.
    work: Vec<f64>,
    step: Vec<f64>,
    a_new: Vec<f64>,
    g_new: Vec<f64>,
    /// Scratch: the parameters held at a bound, and JᵀJ and Jᵀf without them.
    held: Vec<bool>,
    a_pin: Vec<f64>,
    g_pin: Vec<f64>,
}

/// The bounds as resolved vectors (empty: none).
pub(super) struct Limits<'a> {
    pub lb: &'a [f64],
    pub ub: &'a [f64],
}

impl Limits<'_> {
    /// True when parameter `j`, at `x`, sits on a bound that a move along `v` would
    /// cross (`v = −g`: the gradient presses it against the bound).
    fn blocks(&self, j: usize, x: f64, v: f64) -> bool {
        match (self.lb.get(j), self.ub.get(j)) {
            (Some(&lb), Some(&ub)) => (x <= lb && v < 0.0) || (x >= ub && v > 0.0),
            _ => false,
        }
    }
}

impl Block {
    /// Buffers for up to `cap` fits of n parameters and m residuals.
    pub(super) fn new(cap: usize, n: usize, m: usize) -> Self {
        let nn = n * n;
        Self {
            n,
            m,
            ids: Vec::with_capacity(cap),
            active: Vec::with_capacity(cap),
            trial_slots: Vec::with_capacity(cap),
            trial_ids: Vec::with_capacity(cap),
            x: vec![0.0; cap * n],
            a: vec![0.0; cap * nn],
            g: vec![0.0; cap * n],
            scale: vec![0.0; cap * n],
            chi2: vec![0.0; cap],
            lambda: vec![0.0; cap],
            nfev: vec![0; cap],
            rounds: vec![0; cap],
            step_norm: vec![0.0; cap],
            predicted: vec![0.0; cap],
            outcome: vec![None; cap],
            xt: vec![0.0; cap * n],
            f: vec![0.0; cap * m],
            jac: vec![0.0; cap * m * n],
            work: vec![0.0; nn],
            step: vec![0.0; n],
            a_new: vec![0.0; nn],
            g_new: vec![0.0; n],
            held: vec![false; n],
            a_pin: vec![0.0; nn],
            g_pin: vec![0.0; n],
        }
    }

    /// Solves fits `first..first + x0.len()/n` from starts `x0` and writes their
    /// parameters, summaries and (when `cov` is not empty) their unscaled covariances
    /// `(JᵀJ)⁻¹` at the solution.
    ///
    /// # Errors
    /// The model's error: the block stops.
    pub(super) fn solve<M: BlockModel + ?Sized>(
        &mut self,
        model: &M,
        first: usize,
        x0: &[f64],
        opts: &LockstepOptions,
        bounds: &Limits<'_>,
        out: (&mut [f64], &mut [FitSummary], &mut [f64]),
    ) -> Result<(), CallbackError> {
        let count = x0.len() / self.n;
        self.start(first, count, x0, bounds);
        let max_nfev = opts.max_nfev.unwrap_or(100 * self.n).max(1);
        self.evaluate(model)?;
        self.judge_start(opts, bounds);
        while !self.active.is_empty() {
            self.propose(bounds);
            if !self.trial_slots.is_empty() {
                self.evaluate(model)?;
            }
            self.judge(opts, max_nfev, bounds);
        }
        self.write(out);
        Ok(())
    }

    fn start(&mut self, first: usize, count: usize, x0: &[f64], bounds: &Limits<'_>) {
        let n = self.n;
        self.ids.clear();
        self.ids.extend(first..first + count);
        self.active.clear();
        self.trial_slots.clear();
        self.trial_ids.clear();
        for s in 0..count {
            let xs = &x0[s * n..(s + 1) * n];
            self.x[s * n..(s + 1) * n].copy_from_slice(xs);
            self.scale[s * n..(s + 1) * n].fill(0.0);
            self.lambda[s] = 1e-3;
            self.nfev[s] = 0;
            self.rounds[s] = 0;
            self.outcome[s] = None;
            if !inside(xs, bounds) {
                self.outcome[s] = Some(FitOutcome::Failed(ErrorKind::InfeasibleStart));
                continue;
            }
            self.active.push(s);
            self.trial_slots.push(s);
            self.trial_ids.push(first + s);
        }
        for (t, &s) in self.trial_slots.iter().enumerate() {
            self.xt[t * n..(t + 1) * n].copy_from_slice(&self.x[s * n..(s + 1) * n]);
        }
    }

    /// One model call for every trial point.
    fn evaluate<M: BlockModel + ?Sized>(&mut self, model: &M) -> Result<(), CallbackError> {
        let (n, m, t) = (self.n, self.m, self.trial_ids.len());
        model.eval(Evaluation {
            fits: &self.trial_ids,
            x: &self.xt[..t * n],
            f: &mut self.f[..t * m],
            jac: &mut self.jac[..t * m * n],
        })
    }

    /// The start's χ², normal equations and gtol test; a start that is not finite fails.
    fn judge_start(&mut self, opts: &LockstepOptions, bounds: &Limits<'_>) {
        let (n, nn) = (self.n, self.n * self.n);
        for t in 0..self.trial_slots.len() {
            let s = self.trial_slots[t];
            self.nfev[s] = 1;
            let chi2 = self.normal_equations(t);
            if !chi2.is_finite() {
                self.outcome[s] = Some(FitOutcome::Failed(ErrorKind::NonFinite));
                continue;
            }
            self.chi2[s] = chi2;
            self.a[s * nn..(s + 1) * nn].copy_from_slice(&self.a_new);
            self.g[s * n..(s + 1) * n].copy_from_slice(&self.g_new);
            if self.gradient_small(s, opts.gtol, bounds) {
                self.outcome[s] = Some(FitOutcome::Solved(Status::Gtol));
            }
        }
        let outcome = &self.outcome;
        self.active.retain(|&s| outcome[s].is_none());
    }

    /// χ² of trial `t`, and its JᵀJ (lower triangle) and Jᵀf into `a_new`, `g_new`;
    /// +∞ when f or J is not finite.
    fn normal_equations(&mut self, t: usize) -> f64 {
        let (n, m) = (self.n, self.m);
        let f = &self.f[t * m..(t + 1) * m];
        let jac = &self.jac[t * m * n..(t + 1) * m * n];
        let chi2 = kernels::normal_equations(n, jac, f, &mut self.a_new, &mut self.g_new);
        let finite = |v: &f64| v.is_finite();
        if chi2.is_finite() && self.a_new.iter().all(finite) && self.g_new.iter().all(finite) {
            chi2
        } else {
            f64::INFINITY
        }
    }

    /// MINPACK's gtol test: max over columns of |Jⱼᵀf| / (‖Jⱼ‖·‖f‖) ≤ gtol, the
    /// parameters held at a bound left out (their gradient only presses on it).
    fn gradient_small(&self, s: usize, gtol: f64, bounds: &Limits<'_>) -> bool {
        let (n, nn) = (self.n, self.n * self.n);
        let chi2 = self.chi2[s];
        if chi2 == 0.0 {
            return true;
        }
        let a = &self.a[s * nn..(s + 1) * nn];
        let g = &self.g[s * n..(s + 1) * n];
        let x = &self.x[s * n..(s + 1) * n];
        let mut worst: f64 = 0.0;
        for j in 0..n {
            let ajj = a[j * n + j];
            if ajj > 0.0 && !bounds.blocks(j, x[j], -g[j]) {
                worst = worst.max(g[j].abs() / (ajj * chi2).sqrt());
            }
        }
        worst <= gtol
    }

    /// Each active fit's step `(A + λ·diag(d)) δ = −g`, projected on the bounds: the
    /// fits whose damped matrix factors become this round's trials.
    fn propose(&mut self, bounds: &Limits<'_>) {
        let n = self.n;
        self.trial_slots.clear();
        self.trial_ids.clear();
        for i in 0..self.active.len() {
            let s = self.active[i];
            self.rounds[s] += 1;
            if !self.damped_step(s, bounds) {
                self.lambda[s] *= 10.0;
                self.step_norm[s] = f64::INFINITY;
                continue;
            }
            let t = self.trial_slots.len();
            let (x, xt) = (
                &self.x[s * n..(s + 1) * n],
                &mut self.xt[t * n..(t + 1) * n],
            );
            let mut norm2 = 0.0;
            for j in 0..n {
                let mut v = x[j] + self.step[j];
                if !bounds.lb.is_empty() {
                    v = v.max(bounds.lb[j]).min(bounds.ub[j]);
                }
                xt[j] = v;
                // The step as taken (projected), for the predicted reduction.
                self.step[j] = v - x[j];
                norm2 += self.step[j] * self.step[j];
            }
            self.step_norm[s] = norm2.sqrt();
            self.predicted[s] = self.predicted_reduction(s);
            self.trial_slots.push(s);
            self.trial_ids.push(self.ids[s]);
        }
    }

    /// −(2gᵀδ + δᵀAδ): the reduction of χ² = ‖f‖² the Gauss–Newton model predicts
    /// for slot `s`'s step δ (`step`), A = JᵀJ held as its lower triangle.
    fn predicted_reduction(&self, s: usize) -> f64 {
        let (n, nn) = (self.n, self.n * self.n);
        let (a, g) = (&self.a[s * nn..(s + 1) * nn], &self.g[s * n..(s + 1) * n]);
        let d = &self.step;
        let mut quad = 0.0;
        for i in 0..n {
            let off: f64 = (0..i).map(|j| a[i * n + j] * d[j]).sum();
            quad += d[i] * (a[i * n + i] * d[i] + 2.0 * off);
        }
        let lin: f64 = g.iter().zip(d).map(|(g, d)| g * d).sum();
        -(2.0 * lin + quad)
    }

    /// The damped Gauss–Newton step of slot `s` into `step`; false when the damped
    /// matrix is not positive definite.
    ///
    /// A parameter on a bound does not move when its gradient presses it against the
    /// bound, or when the step solved without holding it would leave the box there;
    /// the others' step is solved without it (held parameters are added until none
    /// would leave). A step solved with it and then cut back by the projection moved
    /// the others along a coupling the bound had removed, and the fit crept short of
    /// the bounded minimum (a line through data that want a positive intercept, the
    /// intercept bounded above by 0, stopped on xtol at a third of its slope).
    fn damped_step(&mut self, s: usize, bounds: &Limits<'_>) -> bool {
        let (n, nn) = (self.n, self.n * self.n);
        let d = &mut self.scale[s * n..(s + 1) * n];
        // Marquardt's scaling, kept at its largest (Gpufit's "adaptive scaling"); a
        // column that was always zero is damped with scale 1.
        let a = &self.a[s * nn..(s + 1) * nn];
        for (j, dj) in d.iter_mut().enumerate() {
            *dj = dj.max(a[j * n + j]);
        }
        let x = &self.x[s * n..(s + 1) * n];
        let g = &self.g[s * n..(s + 1) * n];
        for (j, h) in self.held.iter_mut().enumerate() {
            *h = bounds.blocks(j, x[j], -g[j]);
        }
        // Each pass holds at least one more parameter, so at most n + 1 passes.
        loop {
            if !self.solve_held(s) {
                return false;
            }
            let x = &self.x[s * n..(s + 1) * n];
            let mut more = false;
            for (j, h) in self.held.iter_mut().enumerate() {
                if !*h && bounds.blocks(j, x[j], self.step[j]) {
                    (*h, more) = (true, true);
                }
            }
            if !more {
                return true;
            }
        }
    }

    /// The damped step of slot `s` with the parameters in `held` kept still: their
    /// rows and columns of JᵀJ replaced by the identity's and their gradient by 0 (in
    /// `a_pin`, `g_pin`), so their step is exactly 0 and the rest is the free
    /// parameters' system.
    fn solve_held(&mut self, s: usize) -> bool {
        let (n, nn) = (self.n, self.n * self.n);
        let (mut a, mut g) = (&self.a[s * nn..(s + 1) * nn], &self.g[s * n..(s + 1) * n]);
        if self.held.contains(&true) {
            self.a_pin.copy_from_slice(a);
            self.g_pin.copy_from_slice(g);
            for j in (0..n).filter(|&j| self.held[j]) {
                for k in 0..n {
                    self.a_pin[j * n + k] = 0.0;
                    self.a_pin[k * n + j] = 0.0;
                }
                self.a_pin[j * n + j] = 1.0;
                self.g_pin[j] = 0.0;
            }
            (a, g) = (&self.a_pin, &self.g_pin);
        }
        let d = &self.scale[s * n..(s + 1) * n];
        let lambda = self.lambda[s];
        let damping = |j: usize| lambda * if d[j] > 0.0 { d[j] } else { 1.0 };
        kernels::damped_solve(n, a, g, damping, &mut self.work, &mut self.step)
    }

    /// Accepts or rejects every trial, applies the stopping rules and drops the fits
    /// that stopped.
    fn judge(&mut self, opts: &LockstepOptions, max_nfev: usize, bounds: &Limits<'_>) {
        let (n, nn) = (self.n, self.n * self.n);
        for t in 0..self.trial_slots.len() {
            let s = self.trial_slots[t];
            self.nfev[s] += 1;
            let chi2_t = self.normal_equations(t);
            let chi2 = self.chi2[s];
            let better = chi2_t < chi2;
            let x_norm = {
                let xt = &self.xt[t * n..(t + 1) * n];
                xt.iter().map(|v| v * v).sum::<f64>().sqrt()
            };
            let ftol_ok = chi2_t.is_finite() && (chi2 - chi2_t).abs() <= opts.ftol * chi2;
            let xtol_ok = self.step_norm[s] <= opts.xtol * (opts.xtol + x_norm);
            if better {
                self.x[s * n..(s + 1) * n].copy_from_slice(&self.xt[t * n..(t + 1) * n]);
                self.a[s * nn..(s + 1) * nn].copy_from_slice(&self.a_new);
                self.g[s * n..(s + 1) * n].copy_from_slice(&self.g_new);
                self.chi2[s] = chi2_t;
                // A step that gained under a quarter of what the model predicted was
                // too long: damp more, as after a failure (Moré's rule). ÷10 on every
                // success let a step jumping across a curved valley's floor alternate
                // with its rejected mirror image, gaining 10⁻⁷ per pair.
                let gained = chi2 - chi2_t;
                match gained >= 0.25 * self.predicted[s] {
                    true => self.lambda[s] *= 0.1,
                    false => self.lambda[s] *= 10.0,
                }
            } else {
                self.lambda[s] *= 10.0;
            }
            self.outcome[s] = match (ftol_ok, xtol_ok) {
                (true, true) => Some(FitOutcome::Solved(Status::FtolXtol)),
                (true, false) => Some(FitOutcome::Solved(Status::Ftol)),
                (false, true) => Some(FitOutcome::Solved(Status::Xtol)),
                _ if better && self.gradient_small(s, opts.gtol, bounds) => {
                    Some(FitOutcome::Solved(Status::Gtol))
                }
                _ => None,
            };
        }
        for &s in &self.active {
            let spent = self.nfev[s] >= max_nfev || self.rounds[s] >= max_nfev;
            if self.outcome[s].is_none() && (spent || !self.lambda[s].is_finite()) {
                self.outcome[s] = Some(FitOutcome::Solved(Status::MaxNfev));
            }
        }
        let outcome = &self.outcome;
        self.active.retain(|&s| outcome[s].is_none());
    }

    /// Parameters, summaries and covariances of every slot into the batch's rows.
    fn write(&mut self, (x, fits, cov): (&mut [f64], &mut [FitSummary], &mut [f64])) {
        let (n, nn) = (self.n, self.n * self.n);
        for s in 0..self.ids.len() {
            let outcome = self.outcome[s].unwrap_or(FitOutcome::Failed(ErrorKind::NonFinite));
            let row = &mut x[s * n..(s + 1) * n];
            let solved = matches!(outcome, FitOutcome::Solved(_));
            if solved {
                row.copy_from_slice(&self.x[s * n..(s + 1) * n]);
            } else {
                row.fill(f64::NAN);
            }
            fits[s] = FitSummary {
                cost: if solved { 0.5 * self.chi2[s] } else { f64::NAN },
                nfev: self.nfev[s],
                njev: self.nfev[s],
                outcome,
            };
            if !cov.is_empty() {
                let c = &mut cov[s * nn..(s + 1) * nn];
                if solved {
                    let a = &self.a[s * nn..(s + 1) * nn];
                    super::covariance::unscaled(a, n, self.m, &mut self.work, c);
                } else {
                    c.fill(f64::NAN);
                }
            }
        }
    }
}

/// True when `x` lies in the box (always without bounds).
fn inside(x: &[f64], bounds: &Limits<'_>) -> bool {
    bounds.lb.is_empty()
        || x.iter()
            .zip(bounds.lb.iter().zip(bounds.ub))
            .all(|(v, (l, u))| l <= v && v <= u)
}
