//! Trust Region Reflective (scipy's `method='trf'`), exact (SVD) subproblem solver.
//!
//! Algorithm (Branch, Coleman & Li 1999; scipy `_lsq/trf.py`, spec §7): minimise
//! `F(x) = ½ Σ ρ(fᵢ²)` subject to `lb ≤ x ≤ ub`. Each iteration builds the Coleman–Li
//! scaling `v(x, g)` (distance to the bound the gradient points at), works in the
//! variables `x̂ = x / d` with `d = √v ⊙ scale`, and solves the trust-region problem
//! `min ½‖Ĵp + f‖² + ½ pᵀ diag(Ĉ) p`, `‖p‖ ≤ Δ` by the SVD of `[Ĵ; diag(√Ĉ)]` and a
//! Levenberg–Marquardt parameter search (Moré). A step that leaves the box is
//! reflected at the first bound it hits or cut back; the best of the truncated step,
//! the reflected step and the constrained Cauchy step is taken. Iterates stay
//! strictly feasible. Without bounds this is a plain trust-region Gauss–Newton.
//!
//! Symbols: `J` (m×n, loss-scaled), `f` (loss-scaled residuals), `g = Jᵀf`, `Δ` trust
//! radius, `α` LM parameter carried between solves, `θ` step-back factor.

use crate::bounds::{
    cl_scaling_vector, find_active_constraints, in_bounds, intersect_trust_region,
    make_strictly_feasible, step_size_to_bound,
};
use crate::error::Error;
use crate::linalg::vector::{dot, nan_max, norm, norm_inf};
use crate::method::minimizer::{LoopState, Strategy, Trial, View};
use crate::method::scale::VariableScale;
use crate::method::subproblem::{AnySubproblem, ScaledModel, Subproblem};
use crate::method::trust_region::minimize_quadratic_1d;
use crate::plan::Plan;

/// The quadratic model in hat space: `Ĵ s` products come from the subproblem solver.
struct Model<'a> {
    mul: &'a dyn Fn(&[f64], &mut [f64]),
    m: usize,
    g_h: &'a [f64],
    diag_h: Option<&'a [f64]>,
}

impl Model<'_> {
    /// `½(‖Ĵs‖² + sᵀCs) + ĝᵀs` (spec §6.6).
    fn value(&self, s: &[f64], js: &mut [f64]) -> f64 {
        (self.mul)(s, js);
        let mut q = dot(&js[..self.m], &js[..self.m]);
        if let Some(c) = self.diag_h {
            q += s.iter().zip(c).map(|(s, c)| s * c * s).sum::<f64>();
        }
        0.5 * q + dot(s, self.g_h)
    }

    /// Coefficients of `t ↦ model(s0 + t s)` (spec §6.6).
    fn quadratic_1d(
        &self,
        s: &[f64],
        s0: Option<&[f64]>,
        js: &mut [f64],
        js0: &mut [f64],
    ) -> (f64, f64, f64) {
        (self.mul)(s, js);
        let mut a = dot(&js[..self.m], &js[..self.m]);
        if let Some(c) = self.diag_h {
            a += s.iter().zip(c).map(|(s, c)| s * c * s).sum::<f64>();
        }
        a *= 0.5;
        let mut b = dot(self.g_h, s);
        let mut c = 0.0;
        if let Some(s0) = s0 {
            (self.mul)(s0, js0);
            b += dot(&js0[..self.m], &js[..self.m]);
            c = 0.5 * dot(&js0[..self.m], &js0[..self.m]) + dot(self.g_h, s0);
            if let Some(d) = self.diag_h {
                b += s0
                    .iter()
                    .zip(d)
                    .zip(s)
                    .map(|((a, d), s)| a * d * s)
                    .sum::<f64>();
                c += 0.5 * s0.iter().zip(d).map(|(a, d)| a * d * a).sum::<f64>();
            }
        }
        (a, b, c)
    }
}

/// Scratch vectors of the bounded step selection.
struct SelectWork {
    hits: Vec<f64>,
    r_h: Vec<f64>,
    r: Vec<f64>,
    x_b: Vec<f64>,
    c_h: Vec<f64>,
    c: Vec<f64>,
    js: Vec<f64>,
    js0: Vec<f64>,
    trial: Vec<f64>,
}

/// Chooses among the truncated, reflected and Cauchy steps (spec §7.5). On return
/// `p`/`p_h` hold the chosen step; the predicted reduction is returned.
#[allow(clippy::too_many_arguments)]
fn select_step(
    model: &Model<'_>,
    x: &[f64],
    p: &mut [f64],
    p_h: &mut [f64],
    d: &[f64],
    delta: f64,
    lb: &[f64],
    ub: &[f64],
    theta: f64,
    w: &mut SelectWork,
) -> f64 {
    let n = x.len();
    for j in 0..n {
        w.trial[j] = x[j] + p[j];
    }
    if in_bounds(&w.trial, lb, ub) {
        return -model.value(p_h, &mut w.js);
    }
    let p_stride = step_size_to_bound(x, p, lb, ub, &mut w.hits);
    for j in 0..n {
        w.r_h[j] = if w.hits[j] != 0.0 { -p_h[j] } else { p_h[j] };
        w.r[j] = d[j] * w.r_h[j];
        p[j] *= p_stride;
        p_h[j] *= p_stride;
        w.x_b[j] = x[j] + p[j];
    }
    let to_tr = intersect_trust_region(p_h, &w.r_h, delta).map_or(0.0, |(_, hi)| hi);
    let to_bound = step_size_to_bound(&w.x_b, &w.r, lb, ub, &mut w.hits);
    let r_stride = to_bound.min(to_tr);
    let (lo, hi) = if r_stride > 0.0 {
        let lo = (1.0 - theta) * p_stride / r_stride;
        let hi = if r_stride == to_bound {
            theta * to_bound
        } else {
            to_tr
        };
        (lo, hi)
    } else {
        (0.0, -1.0)
    };
    let r_value = if lo <= hi {
        let (a, b, c) = model.quadratic_1d(&w.r_h, Some(p_h), &mut w.js, &mut w.js0);
        let (t, value) = minimize_quadratic_1d(a, b, lo, hi, c);
        for j in 0..n {
            w.r_h[j] = p_h[j] + t * w.r_h[j];
            w.r[j] = d[j] * w.r_h[j];
        }
        value
    } else {
        f64::INFINITY
    };
    for j in 0..n {
        p[j] *= theta;
        p_h[j] *= theta;
    }
    let p_value = model.value(p_h, &mut w.js);
    for j in 0..n {
        w.c_h[j] = -model.g_h[j];
        w.c[j] = d[j] * w.c_h[j];
    }
    let to_tr = delta / norm(&w.c_h);
    let to_bound = step_size_to_bound(x, &w.c, lb, ub, &mut w.hits);
    let t_max = if to_bound < to_tr {
        theta * to_bound
    } else {
        to_tr
    };
    let (a, b, _) = model.quadratic_1d(&w.c_h, None, &mut w.js, &mut w.js0);
    let (t, c_value) = minimize_quadratic_1d(a, b, 0.0, t_max, 0.0);
    if p_value < r_value && p_value < c_value {
        -p_value
    } else if r_value < p_value && r_value < c_value {
        p.copy_from_slice(&w.r);
        p_h.copy_from_slice(&w.r_h);
        -r_value
    } else {
        for j in 0..n {
            p[j] = t * w.c[j];
            p_h[j] = t * w.c_h[j];
        }
        -c_value
    }
}

/// trf's state between iterations: the Coleman–Li vectors, the scaled model and α.
pub(crate) struct Trf {
    sub: AnySubproblem,
    v: Vec<f64>,
    dv: Vec<f64>,
    d: Vec<f64>,
    diag_h: Vec<f64>,
    g_h: Vec<f64>,
    p_h: Vec<f64>,
    step: Vec<f64>,
    step_h: Vec<f64>,
    js: Vec<f64>,
    sel: SelectWork,
    theta: f64,
    alpha: f64,
}

impl Trf {
    /// Buffers for an m×n problem and its subproblem solver.
    pub fn new(m: usize, n: usize, sub: AnySubproblem) -> Self {
        let v = || vec![0.0; n];
        Self {
            sub,
            v: v(),
            dv: v(),
            d: v(),
            diag_h: v(),
            g_h: v(),
            p_h: v(),
            step: v(),
            step_h: v(),
            js: vec![0.0; m],
            sel: SelectWork {
                hits: v(),
                r_h: v(),
                r: v(),
                x_b: v(),
                c_h: v(),
                c: v(),
                js: vec![0.0; m],
                js0: vec![0.0; m],
                trial: v(),
            },
            theta: 1.0,
            alpha: 0.0,
        }
    }
}

impl Strategy for Trf {
    fn start(&mut self, plan: &Plan, st: &LoopState, scales: &VariableScale) -> f64 {
        self.sub.start();
        self.alpha = 0.0;
        let (x, n) = (&st.x, plan.n);
        if plan.bounded {
            cl_scaling_vector(x, &st.g, &plan.lb, &plan.ub, &mut self.v, &mut self.dv);
            let mut s = 0.0;
            for j in 0..n {
                if self.dv[j] != 0.0 {
                    self.v[j] *= scales.inv[j];
                }
                let t = x[j] * scales.inv[j] / self.v[j].sqrt();
                s += t * t;
            }
            s.sqrt()
        } else {
            // ‖x ⊙ inv‖ (the products in a buffer, as the norm sums them).
            for j in 0..n {
                self.step[j] = x[j] * scales.inv[j];
            }
            norm(&self.step)
        }
    }

    fn optimality(&mut self, plan: &Plan, st: &mut LoopState) -> f64 {
        if plan.bounded {
            cl_scaling_vector(&st.x, &st.g, &plan.lb, &plan.ub, &mut self.v, &mut self.dv);
            st.g.iter()
                .zip(&self.v)
                .fold(0.0f64, |a, (g, v)| nan_max(a, (g * v).abs()))
        } else {
            norm_inf(&st.g)
        }
    }

    fn prepare(&mut self, v: &View<'_, '_>, st: &LoopState) -> Result<(), Error> {
        let (plan, jac, scales) = (v.plan, v.jac, v.scales);
        let (g_norm, delta) = (v.g_norm, v.delta);
        // The scaled quantities of spec §7.3.
        let g = &st.g;
        if plan.bounded {
            for j in 0..plan.n {
                if self.dv[j] != 0.0 {
                    self.v[j] *= scales.inv[j];
                }
                self.d[j] = self.v[j].sqrt() * scales.scale[j];
                self.diag_h[j] = g[j] * self.dv[j] * scales.scale[j];
            }
            self.theta = (1.0 - g_norm).max(0.995);
        } else {
            self.d.copy_from_slice(&scales.scale);
            self.theta = 1.0;
        }
        for j in 0..plan.n {
            self.g_h[j] = self.d[j] * g[j];
        }
        self.sub.prepare(&ScaledModel {
            jac,
            fs: &st.fs,
            d: &self.d,
            diag_h: plan.bounded.then_some(&self.diag_h[..]),
            g_h: &self.g_h,
            delta,
        })
    }

    fn trial(&mut self, v: &View<'_, '_>, st: &mut LoopState) -> Trial {
        let delta = v.delta;
        let (plan, jac) = (v.plan, v.jac);
        let n = plan.n;
        self.alpha = self.sub.step(delta, self.alpha, &mut self.p_h);
        let sub = &self.sub;
        let mul = |s: &[f64], out: &mut [f64]| sub.jh_mul(jac, s, out);
        let model = Model {
            mul: &mul,
            m: plan.m,
            g_h: &self.g_h,
            diag_h: plan.bounded.then_some(&self.diag_h[..]),
        };
        let (x, x_new) = (&st.x, &mut st.x_new);
        let predicted;
        if plan.bounded {
            for j in 0..n {
                self.step[j] = self.d[j] * self.p_h[j];
            }
            self.step_h.copy_from_slice(&self.p_h);
            predicted = select_step(
                &model,
                x,
                &mut self.step,
                &mut self.step_h,
                &self.d,
                delta,
                &plan.lb,
                &plan.ub,
                self.theta,
                &mut self.sel,
            );
            for j in 0..n {
                x_new[j] = x[j] + self.step[j];
            }
            make_strictly_feasible(x_new, &plan.lb, &plan.ub, 0.0);
        } else {
            self.step_h.copy_from_slice(&self.p_h);
            predicted = -model.value(&self.p_h, &mut self.js);
            for j in 0..n {
                self.step[j] = self.d[j] * self.p_h[j];
                x_new[j] = x[j] + self.step[j];
            }
        }
        let step_h_norm = norm(&self.step_h);
        Trial {
            predicted,
            step_h_norm,
            boundary_hit: step_h_norm > 0.95 * delta,
            step_norm: norm(&self.step),
        }
    }

    fn radius_changed(&mut self, delta: f64, delta_new: f64) {
        self.alpha *= delta / delta_new;
    }

    fn accepted(&mut self, _plan: &Plan, _x: &mut [f64]) -> bool {
        false
    }

    fn finish(&mut self, plan: &Plan, st: &mut LoopState) {
        st.grad.copy_from_slice(&st.g);
        st.active_mask.fill(0);
        if plan.bounded {
            find_active_constraints(&st.x, &plan.lb, &plan.ub, plan.xtol, &mut st.active_mask);
        }
    }
}
