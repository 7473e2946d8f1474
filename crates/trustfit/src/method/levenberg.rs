//! `method='sparse_lm'` (beyond scipy): Levenberg–Marquardt for large sparse
//! problems, iterated as Ceres iterates it, inside the one trust-region loop.
//!
//! Why a second LM: trf's radius rule (spec §6.7) only grows Δ when a step reaches
//! the boundary with a gain ratio above 0.75. On bundle adjustment every step sits on
//! the boundary with a ratio near 0.5, so Δ never grows and trf takes ~3× the
//! iterations Ceres takes. Here the damping α follows the gain ratio ρ continuously
//! (Nielsen's rule, Ceres' `LevenbergMarquardtStrategy`): α ← α·max(⅓, 1 − (2ρ − 1)³)
//! after a success, α ← α·ν with ν doubling after each failure.
//!
//! Each trial solves `(B + αI) p = −ĝ` once, `B = D JᵀJ D` with Marquardt's scale
//! `D = diag(JᵀJ)^{-½}` (clamped as Ceres clamps it; `x_scale` values replace it), so
//! α damps each variable relative to its own curvature. The factorization is a
//! [`NormalSolve`]: the Schur complement (bundle adjustment) or the sparse Cholesky
//! of all of B. The predicted reduction comes from `J·step` itself, so it is exact
//! for whatever step the solver returned.

use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::sparse::CsrMatrix;
use crate::linalg::vector::{dot, norm, norm_inf};
use crate::method::minimizer::{LoopState, Strategy, Trial, View};
use crate::method::scale::{Scaling, VariableScale};
use crate::method::subproblem::cholesky::NormalSolve;
use crate::plan::Plan;

/// Ceres' defaults: the first damping (1 / `initial_trust_region_radius`), the
/// smallest (1 / `max_trust_region_radius`), and the clamp of Marquardt's diagonal.
const ALPHA_START: f64 = 1e-4;
const ALPHA_MIN: f64 = 1e-16;
const DIAG_MIN: f64 = 1e-6;
const DIAG_MAX: f64 = 1e32;
/// Past this damping the step is below rounding; B + αI is then diagonally dominant.
const ALPHA_MAX: f64 = 1e32;
/// A trial counts as a success for the damping when ρ exceeds this (Ceres'
/// `min_relative_decrease`); the loop itself accepts any decrease of the cost.
const MIN_RELATIVE_DECREASE: f64 = 1e-3;

/// The sparse-LM strategy over a factorization `N` of the damped normal equations.
pub(crate) struct Levenberg<N> {
    ne: N,
    /// This iteration's column scale (Marquardt's, or `x_scale`'s).
    d: Vec<f64>,
    /// `D g` and the hat-space step `p` (the step in x is `D p`).
    g_h: Vec<f64>,
    p_h: Vec<f64>,
    /// `J D p` (m values).
    jp: Vec<f64>,
    alpha: f64,
    /// Nielsen's factor: 2 after a success, doubled after each failure.
    nu: f64,
}

fn sparse<'a>(jac: &'a JacStore<'_>) -> Result<&'a CsrMatrix, Error> {
    match jac {
        JacStore::Sparse(a) => Ok(a),
        JacStore::Dense { .. } | JacStore::Operator(_) => Err(Error::Unsupported {
            method: "sparse_lm",
            message: "Method 'sparse_lm' needs a sparse Jacobian.".into(),
        }),
    }
}

impl<N: NormalSolve> Levenberg<N> {
    /// Analyses J's pattern (once per solver).
    ///
    /// # Errors
    /// J not sparse, or the factorization does not apply to its pattern.
    pub fn new(jac: &JacStore<'_>) -> Result<Self, Error> {
        let a = sparse(jac)?;
        let (m, n) = (a.nrows(), a.ncols());
        Ok(Self {
            ne: N::build(a)?,
            d: vec![0.0; n],
            g_h: vec![0.0; n],
            p_h: vec![0.0; n],
            jp: vec![0.0; m],
            alpha: ALPHA_START,
            nu: 2.0,
        })
    }

    /// The factorization (its sizes decide the default tr_solver).
    pub fn normal(&self) -> &N {
        &self.ne
    }

    /// `p = −(B + αI)⁻¹ ĝ`, raising α until B + αI factors (a scaled anti-gradient
    /// if it never does).
    fn damped_step(&mut self) {
        let mut factored = self.ne.factor(self.alpha);
        while !factored && self.alpha < ALPHA_MAX {
            self.alpha = (self.alpha * 10.0).max(ALPHA_START);
            factored = self.ne.factor(self.alpha);
        }
        for (p, g) in self.p_h.iter_mut().zip(&self.g_h) {
            *p = -g;
        }
        if factored {
            self.ne.solve(&mut self.p_h);
        } else {
            let s = 1.0 / self.alpha;
            self.p_h.iter_mut().for_each(|p| *p *= s);
        }
    }

    /// A failed trial (no decrease, or residuals not finite): damp harder.
    fn failed(&mut self) -> f64 {
        self.alpha = (self.alpha * self.nu).min(ALPHA_MAX);
        self.nu *= 2.0;
        1.0 / self.alpha
    }
}

impl<N: NormalSolve> Strategy for Levenberg<N> {
    fn start(&mut self, _plan: &Plan, _st: &LoopState, _scales: &VariableScale) -> f64 {
        self.alpha = ALPHA_START;
        self.nu = 2.0;
        1.0 / self.alpha
    }

    fn optimality(&mut self, _plan: &Plan, st: &mut LoopState) -> f64 {
        norm_inf(&st.g)
    }

    fn prepare(&mut self, v: &View<'_, '_>, st: &LoopState) -> Result<(), Error> {
        let a = sparse(v.jac)?;
        if v.plan.scaling == Scaling::Marquardt {
            v.jac.column_norms(&mut self.d);
            for d in &mut self.d {
                *d = 1.0 / (*d * *d).clamp(DIAG_MIN, DIAG_MAX).sqrt();
            }
        } else {
            self.d.copy_from_slice(&v.scales.scale);
        }
        for ((gh, g), d) in self.g_h.iter_mut().zip(&st.g).zip(&self.d) {
            *gh = g * d;
        }
        self.ne.fill(a, &self.d, None);
        Ok(())
    }

    fn trial(&mut self, v: &View<'_, '_>, st: &mut LoopState) -> Trial {
        self.damped_step();
        let mut step_sq = 0.0;
        for j in 0..self.d.len() {
            let s = self.d[j] * self.p_h[j];
            st.x_new[j] = st.x[j] + s;
            step_sq += s * s;
        }
        let predicted = match v.jac {
            JacStore::Sparse(a) => {
                a.mul_vec_scaled(&self.p_h, &self.d, &mut self.jp);
                -(dot(&self.g_h, &self.p_h) + 0.5 * dot(&self.jp, &self.jp))
            }
            _ => 0.0,
        };
        Trial {
            predicted,
            step_h_norm: norm(&self.p_h),
            boundary_hit: false,
            step_norm: step_sq.sqrt(),
        }
    }

    fn next_radius(&mut self, _delta: f64, reduction: f64, trial: &Trial) -> (f64, f64) {
        let ratio = if trial.predicted > 0.0 {
            reduction / trial.predicted
        } else if trial.predicted == 0.0 && reduction == 0.0 {
            1.0
        } else {
            0.0
        };
        if reduction > 0.0 && ratio > MIN_RELATIVE_DECREASE {
            let t = 2.0 * ratio - 1.0;
            self.alpha = (self.alpha * (1.0 - t * t * t).max(1.0 / 3.0)).max(ALPHA_MIN);
            self.nu = 2.0;
            (1.0 / self.alpha, ratio)
        } else {
            (self.failed(), ratio)
        }
    }

    fn radius_after_nonfinite(&mut self, _delta: f64, _trial: &Trial) -> f64 {
        self.failed()
    }

    fn accepted(&mut self, _plan: &Plan, _x: &mut [f64]) -> bool {
        false
    }

    fn finish(&mut self, _plan: &Plan, st: &mut LoopState) {
        st.grad.copy_from_slice(&st.g);
        st.active_mask.fill(0);
    }
}
