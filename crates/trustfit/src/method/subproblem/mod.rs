//! Trust-region subproblem solvers, shared by trf and dogbox: one file per
//! `tr_solver`, one trait ([`Subproblem`]), and [`AnySubproblem`] that the workspace
//! holds. A new solver is a file here, a variant of `AnySubproblem` and of `TrSolver`.
//!
//! trf asks for the trust-region step of its scaled model (`prepare` once per
//! iteration, then `step` per trial radius); dogbox asks for the Gauss–Newton step on
//! its free variables (`newton_step`).

pub(crate) mod cholesky;
pub(crate) mod exact;
pub(crate) mod lsmr;
pub(crate) mod subspace;

use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::normal_eq::NormalEquations;
use crate::linalg::schur::SchurComplement;

/// How a trust-region model is solved.
pub(crate) trait Subproblem {
    /// trf, once per outer iteration: the scaled quantities of spec §7.3 at the
    /// current x (`d` scaling, `diag_h` = Ĉ when bounded, `g_h` = d ⊙ g).
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        d: &[f64],
        diag_h: Option<&[f64]>,
        g_h: &[f64],
        delta: f64,
    ) -> Result<(), Error>;
    /// trf, per trial: the hat-space step `p_h` for radius `delta`; returns the new
    /// Levenberg–Marquardt α.
    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64;
    /// trf: `out = Ĵ s` (m rows) with the `d` of the last `prepare`.
    fn jh_mul(&self, jac: &JacStore<'_>, s: &[f64], out: &mut [f64]);
    /// dogbox: the Gauss–Newton step `argmin ‖J_F p + f‖` on the free variables,
    /// written in the order of `free` into `newton`. `scale` is the variable scale,
    /// `active[j]` marks the frozen variables, `g` is Jᵀf with those zeroed.
    #[allow(clippy::too_many_arguments)]
    fn newton_step(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        g: &[f64],
        scale: &[f64],
        free: &[usize],
        active: &[bool],
        newton: &mut [f64],
    ) -> Result<(), Error>;
    /// dogbox: whether its model products use the free columns of a dense J only
    /// (exact) rather than all of J with the frozen components zero (same values; each
    /// solver keeps the form scipy's counterpart uses).
    fn free_column_products(&self) -> bool {
        false
    }
}

/// The solver a workspace holds (enum dispatch: one call per step, not per entry;
/// the variants' sizes differ, but one lives per solver, boxed inside its strategy).
#[allow(clippy::large_enum_variant)]
pub(crate) enum AnySubproblem {
    Exact(exact::ExactSolver),
    Lsmr(lsmr::LsmrSolver),
    Cholesky(cholesky::CholeskySolver<NormalEquations>),
    Schur(cholesky::CholeskySolver<SchurComplement>),
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnySubproblem::Exact($s) => $e,
            AnySubproblem::Lsmr($s) => $e,
            AnySubproblem::Cholesky($s) => $e,
            AnySubproblem::Schur($s) => $e,
        }
    };
}

impl Subproblem for AnySubproblem {
    fn prepare(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        d: &[f64],
        diag_h: Option<&[f64]>,
        g_h: &[f64],
        delta: f64,
    ) -> Result<(), Error> {
        dispatch!(self, s => s.prepare(jac, fs, d, diag_h, g_h, delta))
    }

    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64 {
        dispatch!(self, s => s.step(delta, alpha, p_h))
    }

    fn jh_mul(&self, jac: &JacStore<'_>, s_vec: &[f64], out: &mut [f64]) {
        dispatch!(self, s => s.jh_mul(jac, s_vec, out))
    }

    fn newton_step(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        g: &[f64],
        scale: &[f64],
        free: &[usize],
        active: &[bool],
        newton: &mut [f64],
    ) -> Result<(), Error> {
        dispatch!(self, s => s.newton_step(jac, fs, g, scale, free, active, newton))
    }

    fn free_column_products(&self) -> bool {
        dispatch!(self, s => s.free_column_products())
    }
}
