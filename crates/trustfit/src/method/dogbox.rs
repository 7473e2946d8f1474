//! Dogleg in a rectangular trust region (scipy's `method='dogbox'`), exact solver.
//!
//! Algorithm (Voglis & Lagaris 2004; scipy `_lsq/dogbox.py`, spec §8): the trust region
//! is the box `|pⱼ| ≤ Δ·scaleⱼ` intersected with the bounds. Variables sitting on a
//! bound with the gradient pushing outward are frozen for the iteration; on the free
//! ones the Gauss–Newton step (minimum-norm least squares) is taken if it fits in the
//! box, else a dogleg path from the constrained Cauchy point towards it is followed
//! until it meets the box. Variables the step pins to a bound are held exactly there.
//!
//! Symbols: `J` (m×n, loss-scaled), `f` (loss-scaled residuals), `g = Jᵀf`, `Δ` radius
//! in scaled ∞-norm, `on_bound` ∈ {−1, 0, +1} per variable.

use crate::bounds::{step_size_to_bound, step_to_bound_from_zero_neg};
use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::vector::{dot, norm, norm_inf};
use crate::method::minimizer::{LoopState, Strategy, Trial, View};
use crate::method::scale::VariableScale;
use crate::method::subproblem::{AnySubproblem, FreeVariables, Subproblem};
use crate::method::trust_region::minimize_quadratic_1d;
use crate::plan::Plan;

/// `out = J_F s` for the free columns `free` of row-major J.
fn jf_mul(jac: &[f64], n: usize, free: &[usize], s: &[f64], out: &mut [f64]) {
    for (o, row) in out.iter_mut().zip(jac.chunks_exact(n)) {
        *o = free.iter().zip(s).map(|(&j, sj)| row[j] * sj).sum();
    }
}

/// Per-variable vectors restricted to the free variables (length n, first nf used).
struct FreeSet {
    x: Vec<f64>,
    lb: Vec<f64>,
    ub: Vec<f64>,
    scale: Vec<f64>,
    g: Vec<f64>,
}

/// The dogleg's vectors on the free variables.
struct DoglegWork {
    newton: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    cauchy: Vec<f64>,
    diff: Vec<f64>,
    step_f: Vec<f64>,
    hits: Vec<f64>,
    bound_hits: Vec<i32>,
}

/// dogbox's state between iterations: the active set and the dogleg's quadratic.
pub(crate) struct Dogbox {
    sub: AnySubproblem,
    on_bound: Vec<i32>,
    g_active: Vec<bool>,
    free: Vec<usize>,
    g_full: Vec<f64>,
    f: FreeSet,
    w: DoglegWork,
    step: Vec<f64>,
    js: Vec<f64>,
    /// `½‖J_F g_F‖²` and `−g_F·g_F`: the quadratic along the anti-gradient.
    a: f64,
    b: f64,
}

impl Dogbox {
    /// Buffers for an m×n problem and its subproblem solver.
    pub fn new(m: usize, n: usize, sub: AnySubproblem) -> Self {
        let v = || vec![0.0; n];
        Self {
            sub,
            on_bound: vec![0; n],
            g_active: vec![false; n],
            free: Vec::with_capacity(n),
            g_full: v(),
            f: FreeSet {
                x: v(),
                lb: v(),
                ub: v(),
                scale: v(),
                g: v(),
            },
            w: DoglegWork {
                newton: v(),
                lo: v(),
                hi: v(),
                cauchy: v(),
                diff: v(),
                step_f: v(),
                hits: v(),
                bound_hits: vec![0; n],
            },
            step: v(),
            js: vec![0.0; m],
            a: 0.0,
            b: 0.0,
        }
    }

    /// The dogleg (spec §8.3) on the free variables: `step_f`, the bounds it hits,
    /// and whether it hit the trust region.
    fn dogleg(&mut self, delta: f64) -> bool {
        let (f, w, nf) = (&self.f, &mut self.w, self.free.len());
        let mut newton_fits = true;
        for k in 0..nf {
            w.lo[k] = (f.lb[k] - f.x[k]).max(-delta * f.scale[k]);
            w.hi[k] = (f.ub[k] - f.x[k]).min(delta * f.scale[k]);
            if !(w.lo[k] <= w.newton[k] && w.newton[k] <= w.hi[k]) {
                newton_fits = false;
            }
        }
        if newton_fits {
            w.step_f[..nf].copy_from_slice(&w.newton[..nf]);
            w.bound_hits[..nf].fill(0);
            return false;
        }
        let to_bound = step_to_bound_from_zero_neg(&f.g[..nf], &w.lo[..nf], &w.hi[..nf]);
        let (t_c, _) = minimize_quadratic_1d(self.a, self.b, 0.0, to_bound, 0.0);
        for k in 0..nf {
            w.cauchy[k] = -t_c * f.g[k];
            w.diff[k] = w.newton[k] - w.cauchy[k];
        }
        let t = step_size_to_bound(
            &w.cauchy[..nf],
            &w.diff[..nf],
            &w.lo[..nf],
            &w.hi[..nf],
            &mut w.hits[..nf],
        );
        let mut tr_hit = false;
        for k in 0..nf {
            w.step_f[k] = w.cauchy[k] + t * w.diff[k];
            let tr = delta * f.scale[k];
            let orig_l = w.lo[k] == f.lb[k] - f.x[k];
            let orig_u = w.hi[k] == f.ub[k] - f.x[k];
            w.bound_hits[k] = if w.hits[k] < 0.0 && orig_l {
                -1
            } else if w.hits[k] > 0.0 && orig_u {
                1
            } else {
                0
            };
            if (w.hits[k] < 0.0 && w.lo[k] == -tr) || (w.hits[k] > 0.0 && w.hi[k] == tr) {
                tr_hit = true;
            }
        }
        tr_hit
    }
}

impl Strategy for Dogbox {
    fn start(&mut self, plan: &Plan, st: &LoopState, scales: &VariableScale) -> f64 {
        self.sub.start();
        let x = &st.x;
        for j in 0..plan.n {
            self.on_bound[j] = if x[j] == plan.lb[j] {
                -1
            } else if x[j] == plan.ub[j] {
                1
            } else {
                0
            };
        }
        x.iter()
            .zip(&scales.inv)
            .fold(0.0f64, |a, (x, s)| a.max((x * s).abs()))
    }

    fn optimality(&mut self, plan: &Plan, st: &mut LoopState) -> f64 {
        self.g_full.copy_from_slice(&st.g);
        self.free.clear();
        for j in 0..plan.n {
            self.g_active[j] = (self.on_bound[j] as f64) * st.g[j] < 0.0;
            if self.g_active[j] {
                st.g[j] = 0.0;
            } else {
                self.free.push(j);
            }
        }
        norm_inf(&st.g)
    }

    fn prepare(&mut self, v: &View<'_, '_>, st: &LoopState) -> Result<(), Error> {
        let (plan, jac, scales) = (v.plan, v.jac, v.scales);
        let (f, free) = (&mut self.f, &self.free);
        for (k, &j) in free.iter().enumerate() {
            f.x[k] = st.x[j];
            f.lb[k] = plan.lb[j];
            f.ub[k] = plan.ub[j];
            f.scale[k] = scales.scale[j];
            f.g[k] = st.g[j];
        }
        let nf = free.len();
        let g = &st.g;
        let vars = FreeVariables {
            jac,
            fs: &st.fs,
            g,
            scale: &scales.scale,
            free,
            active: &self.g_active,
        };
        self.sub.newton_step(&vars, &mut self.w.newton)?;
        // The quadratic along the anti-gradient: a = ½‖J_F g_F‖², b = −g_F·g_F.
        match jac {
            JacStore::Dense { data, n } if self.sub.free_column_products() => {
                jf_mul(data, *n, free, &f.g[..nf], &mut self.js);
            }
            _ => {
                jac.mul(g, &mut self.js);
                jac.take_error()?;
            }
        }
        self.a = 0.5 * dot(&self.js, &self.js);
        self.b = -dot(&f.g[..nf], &f.g[..nf]);
        Ok(())
    }

    fn trial(&mut self, v: &View<'_, '_>, st: &mut LoopState) -> Trial {
        let delta = v.delta;
        let (plan, jac, scales) = (v.plan, v.jac, v.scales);
        let tr_hit = self.dogleg(delta);
        let nf = self.free.len();
        let step_f = &self.w.step_f[..nf];
        self.step.fill(0.0);
        for (k, &j) in self.free.iter().enumerate() {
            self.step[j] = step_f[k];
        }
        match jac {
            JacStore::Dense { data, n } if self.sub.free_column_products() => {
                jf_mul(data, *n, &self.free, step_f, &mut self.js);
            }
            _ => jac.mul(&self.step, &mut self.js),
        }
        let predicted = -(0.5 * dot(&self.js, &self.js) + dot(&self.f.g[..nf], step_f));
        for j in 0..plan.n {
            st.x_new[j] = (st.x[j] + self.step[j]).clamp(plan.lb[j], plan.ub[j]);
        }
        let step_h_norm = self
            .step
            .iter()
            .zip(&scales.inv)
            .fold(0.0f64, |a, (s, si)| a.max((s * si).abs()));
        Trial {
            predicted,
            step_h_norm,
            boundary_hit: tr_hit,
            step_norm: norm(&self.step),
        }
    }

    fn accepted(&mut self, plan: &Plan, x: &mut [f64]) -> bool {
        for (k, &j) in self.free.iter().enumerate() {
            self.on_bound[j] = self.w.bound_hits[k];
        }
        // Variables the step pinned to a bound are held exactly there.
        let mut pinned = false;
        for j in 0..plan.n {
            if self.on_bound[j] == -1 && x[j] != plan.lb[j] {
                x[j] = plan.lb[j];
                pinned = true;
            } else if self.on_bound[j] == 1 && x[j] != plan.ub[j] {
                x[j] = plan.ub[j];
                pinned = true;
            }
        }
        pinned
    }

    fn finish(&mut self, _plan: &Plan, st: &mut LoopState) {
        st.grad.copy_from_slice(&self.g_full);
        st.active_mask.copy_from_slice(&self.on_bound);
    }
}
