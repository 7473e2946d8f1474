//! tr_solver='cholesky' (beyond scipy): the exact trust-region step of trf for a
//! sparse J, from sparse Cholesky factorizations of the damped normal equations
//! `(ĴᵀĴ + diag(Ĉ) + αI) p = −ĝ` — Moré & Sorensen's iteration on α with one
//! numeric factorization per trial α (the symbolic analysis and the AMD ordering are
//! done once per solve). Unlike lsmr it solves each subproblem to full accuracy, so
//! strongly coupled problems (bundle adjustment) converge in as few iterations as
//! the dense exact solver would take.
//!
//! The factorization is pluggable ([`NormalSolve`]): all of B by sparse Cholesky
//! (`tr_solver='cholesky'`), or a Schur complement on the columns left after
//! eliminating small independent blocks (`tr_solver='schur'`, bundle adjustment).

use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::normal_eq::NormalEquations;
use crate::linalg::schur::SchurComplement;
use crate::linalg::schur_pcg::SchurPcg;
use crate::linalg::sparse::CsrMatrix;
use crate::linalg::vector::{dot, norm};
use crate::method::subproblem::{FreeVariables, ScaledModel, Subproblem};

/// Relative miss of ‖p(α)‖ − Δ below which [`NormalSolve::EXTRAPOLATE`] applies.
const EXTRAPOLATE_WITHIN: f64 = 0.1;

/// A factorization of the damped normal equations `B + αI` of one pattern.
pub(crate) trait NormalSolve: Sized {
    /// Analyses `jac`'s pattern (once per solve).
    fn build(jac: &CsrMatrix) -> Result<Self, Error>;
    /// `B = D JᵀJ D + diag(c)`.
    fn fill(&mut self, jac: &CsrMatrix, d: &[f64], c: Option<&[f64]>);
    /// Factors `B + αI`; `false` when it is not positive definite.
    fn factor(&mut self, alpha: f64) -> bool;
    /// Solves with the last successful factorization, in place.
    fn solve(&mut self, rhs: &mut [f64]);
    /// `pᵀ (B + αI)⁻¹ p` with the last successful factorization; `work` is
    /// overwritten.
    fn inverse_quadratic(&mut self, p: &[f64], work: &mut [f64]) -> f64 {
        work.copy_from_slice(p);
        self.solve(work);
        dot(p, work)
    }
    /// Whether a near miss of the α search is corrected to first order instead of
    /// refactored (for factorizations much dearer than a solve); `inverse_quadratic`
    /// must then leave `(B + αI)⁻¹ p` in `work`.
    const EXTRAPOLATE: bool = false;
}

/// Implements [`NormalSolve`] by the factorization's own methods of the same names.
macro_rules! normal_solve {
    ($t:ty, extrapolate: $e:expr, $($quadratic:ident)?) => {
        impl NormalSolve for $t {
            fn build(jac: &CsrMatrix) -> Result<Self, Error> {
                Ok(<$t>::new(jac)?)
            }
            fn fill(&mut self, jac: &CsrMatrix, d: &[f64], c: Option<&[f64]>) {
                <$t>::fill(self, jac, d, c);
            }
            fn factor(&mut self, alpha: f64) -> bool {
                <$t>::factor(self, alpha)
            }
            fn solve(&mut self, rhs: &mut [f64]) {
                <$t>::solve(self, rhs);
            }
            $(fn $quadratic(&mut self, p: &[f64], work: &mut [f64]) -> f64 {
                <$t>::$quadratic(self, p, work)
            })?
            const EXTRAPOLATE: bool = $e;
        }
    };
}

// The band/general normal equations have a cheaper pᵀ(B + αI)⁻¹p of their own.
normal_solve!(NormalEquations, extrapolate: false, inverse_quadratic);
normal_solve!(SchurComplement, extrapolate: true,);
// Inexact (PCG): sparse_lm only, which never asks for pᵀ(B + αI)⁻¹p.
normal_solve!(SchurPcg, extrapolate: false,);

/// State of the Cholesky trust-region solver for one solve.
pub(crate) struct CholeskySolver<N = NormalEquations> {
    m: usize,
    ne: N,
    d: Vec<f64>,
    g_h: Vec<f64>,
    /// Gauss–Newton step of the current iteration, if `B` is positive definite.
    gn: Vec<f64>,
    gn_norm: Option<f64>,
    /// `gnᵀ B⁻¹ gn` (for Moré's lower bound on α), computed when a step first needs
    /// it: an iteration whose Gauss–Newton step fits in the region never does.
    gn_q2: Option<f64>,
    /// B was singular at an earlier iteration (a gauge freedom, as in bundle
    /// adjustment): α = 0 is not tried again, saving a factorization per iteration.
    singular: bool,
    w: Vec<f64>,
    /// dogbox: the scale with frozen columns zeroed, and the unit diagonal that keeps
    /// their rows of B regular.
    d_free: Vec<f64>,
    c_frozen: Vec<f64>,
}

fn needs_sparse() -> Error {
    Error::option(
        "tr_solver",
        "'cholesky' and 'schur' need a sparse Jacobian: give `jac_sparsity` or a problem with `jacobian_sparsity`.",
    )
}

impl<N: NormalSolve> CholeskySolver<N> {
    /// Analyses the structure of JᵀJ for `jac`'s pattern.
    pub fn new(jac: &JacStore<'_>) -> Result<Self, Error> {
        let JacStore::Sparse(a) = jac else {
            return Err(needs_sparse());
        };
        let (m, n) = (a.nrows(), a.ncols());
        Ok(Self {
            m,
            ne: N::build(a)?,
            d: vec![0.0; n],
            g_h: vec![0.0; n],
            gn: vec![0.0; n],
            gn_norm: None,
            gn_q2: None,
            singular: false,
            w: vec![0.0; n],
            d_free: vec![0.0; n],
            c_frozen: vec![0.0; n],
        })
    }

    /// `p = −(B + αI)⁻¹ ĝ` if `B + αI` is positive definite.
    fn shifted_step(&mut self, alpha: f64, p: &mut [f64]) -> bool {
        if !self.ne.factor(alpha) {
            return false;
        }
        for (p, g) in p.iter_mut().zip(&self.g_h) {
            *p = -g;
        }
        self.ne.solve(p);
        true
    }
}

fn sparse<'a>(jac: &'a JacStore<'_>) -> Result<&'a CsrMatrix, Error> {
    match jac {
        JacStore::Sparse(a) => Ok(a),
        JacStore::Dense { .. } | JacStore::Operator(_) => Err(needs_sparse()),
    }
}

impl<N: NormalSolve> Subproblem for CholeskySolver<N> {
    fn start(&mut self) {
        self.singular = false;
    }

    fn prepare(&mut self, model: &ScaledModel<'_, '_>) -> Result<(), Error> {
        let ScaledModel {
            jac,
            d,
            diag_h,
            g_h,
            ..
        } = *model;
        let a = sparse(jac)?;
        self.d.copy_from_slice(d);
        self.g_h.copy_from_slice(g_h);
        self.ne.fill(a, d, diag_h);
        let mut gn = std::mem::take(&mut self.gn);
        self.gn_norm = None;
        if !self.singular {
            self.gn_norm = self.shifted_step(0.0, &mut gn).then(|| norm(&gn));
            self.singular = self.gn_norm.is_none();
        }
        if self.gn_norm.is_some_and(|v| !v.is_finite()) {
            self.gn_norm = None;
        }
        self.gn_q2 = None;
        self.gn = gn;
        Ok(())
    }

    fn step(&mut self, delta: f64, alpha_init: f64, p_h: &mut [f64]) -> f64 {
        if let Some(gn_norm) = self.gn_norm
            && gn_norm <= delta
        {
            p_h.copy_from_slice(&self.gn);
            return 0.0;
        }
        // Moré–Sorensen on φ(α) = ‖p(α)‖ − Δ, safeguarded in [lo, hi].
        let g_norm = norm(&self.g_h);
        let mut hi = g_norm / delta;
        if self.gn_norm.is_some() && self.gn_q2.is_none() {
            // The factorization is still prepare's α = 0 one: no step has run since.
            self.gn_q2 = Some(self.ne.inverse_quadratic(&self.gn, &mut self.w));
        }
        let mut lo = match (self.gn_norm, self.gn_q2) {
            // Newton's step on 1/‖p‖ from α = 0 is a lower bound (Moré 1983).
            (Some(pn), Some(q2)) => (pn - delta) / delta * pn * pn / q2,
            _ => 0.0,
        };
        if !(lo.is_finite() && lo >= 0.0) {
            lo = 0.0;
        }
        let reset = |lo: f64, hi: f64| (0.001 * hi).max((lo * hi).sqrt());
        let mut alpha = if alpha_init > lo && alpha_init < hi {
            alpha_init
        } else {
            reset(lo, hi)
        };
        let mut have = false;
        let mut interior = false;
        for _ in 0..20 {
            if !self.shifted_step(alpha, p_h) {
                lo = alpha;
                alpha = if hi > lo {
                    reset(lo, hi).max(2.0 * lo)
                } else {
                    2.0 * alpha
                };
                continue;
            }
            have = true;
            let pn = norm(p_h);
            let phi = pn - delta;
            if phi.abs() < 0.01 * delta {
                break;
            }
            if phi < 0.0 {
                hi = alpha;
            } else {
                lo = alpha;
            }
            let q2 = self.ne.inverse_quadratic(p_h, &mut self.w);
            let next = alpha + phi / delta * pn * pn / q2;
            if self.gn_norm.is_none() && phi < 0.0 && lo == 0.0 && next <= 0.0 {
                // B is singular (bundle adjustment's gauge freedom: the cost does not
                // change along its null space), and ‖p(α)‖ stays inside the region as
                // α → 0: the step is the interior limit, which this p approximates.
                // Chasing α → 0 would only amplify rounding along the null space.
                interior = true;
                break;
            }
            if N::EXTRAPOLATE && phi.abs() < EXTRAPOLATE_WITHIN * delta && next > lo && next < hi {
                // p(α') ≈ p(α) + (α − α')(B + αI)⁻¹ p(α): dp/dα = −(B + αI)⁻¹ p.
                for (p, w) in p_h.iter_mut().zip(&self.w) {
                    *p += (alpha - next) * w;
                }
                alpha = next;
                break;
            }
            alpha = if next > lo && next < hi && next.is_finite() {
                next
            } else {
                reset(lo, hi)
            };
        }
        if !have {
            // B + αI never factored: fall back to the scaled anti-gradient.
            for (p, g) in p_h.iter_mut().zip(&self.g_h) {
                *p = -g;
            }
        }
        let pn = norm(p_h);
        if pn > 0.0 && !interior {
            let s = delta / pn;
            p_h.iter_mut().for_each(|v| *v *= s);
        }
        alpha
    }

    fn jh_mul(&self, jac: &JacStore<'_>, s: &[f64], out: &mut [f64]) {
        if let JacStore::Sparse(a) = jac {
            a.mul_vec_scaled(s, &self.d, &mut out[..self.m]);
        }
    }

    /// Beyond scipy: dogbox's Gauss–Newton step on the free variables from the
    /// scaled normal equations `(D JᵀJ D) y = −D g`, `p = D y`, with D the variable
    /// scale zeroed on the frozen variables (their rows of B are the identity, their
    /// right-hand side zero). Where B is singular — scipy's least-squares solver would
    /// return the minimum-norm step — the smallest shift α = 10⁻¹²·max(B) ×100ᵏ that
    /// factors is added (a Levenberg–Marquardt step, nearly the minimum-norm one).
    fn newton_step(&mut self, vars: &FreeVariables<'_, '_>, p: &mut [f64]) -> Result<(), Error> {
        let (jac, g, scale) = (vars.jac, vars.g, vars.scale);
        let (free, active) = (vars.free, vars.active);
        let a = sparse(jac)?;
        let n = scale.len();
        for j in 0..n {
            self.d_free[j] = if active[j] { 0.0 } else { scale[j] };
            self.c_frozen[j] = if active[j] { 1.0 } else { 0.0 };
        }
        self.ne.fill(a, &self.d_free, Some(&self.c_frozen));
        a.column_norms(&mut self.w);
        let b_max = (0..n)
            .map(|j| (self.d_free[j] * self.w[j]).powi(2))
            .fold(1.0f64, f64::max);
        let mut alpha = 0.0;
        let mut factored = self.ne.factor(alpha);
        for _ in 0..12 {
            if factored {
                break;
            }
            alpha = if alpha == 0.0 {
                1e-12 * b_max
            } else {
                alpha * 100.0
            };
            factored = self.ne.factor(alpha);
        }
        if !factored {
            // Never reached for a finite J; the anti-gradient keeps the dogleg defined.
            for (k, &j) in free.iter().enumerate() {
                p[k] = -g[j] * scale[j] * scale[j];
            }
            return Ok(());
        }
        for j in 0..n {
            self.w[j] = -self.d_free[j] * g[j];
        }
        self.ne.solve(&mut self.w);
        for (k, &j) in free.iter().enumerate() {
            p[k] = self.d_free[j] * self.w[j];
        }
        Ok(())
    }
}
