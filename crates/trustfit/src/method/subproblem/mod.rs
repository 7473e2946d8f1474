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

/// trf's scaled model at the current x (spec §7.3): `Ĵ = J·diag(d)`, `diag_h` = Ĉ
/// when bounded, `g_h` = d ⊙ g, and the trust radius.
pub(crate) struct ScaledModel<'a, 'j> {
    pub jac: &'a JacStore<'j>,
    pub fs: &'a [f64],
    pub d: &'a [f64],
    pub diag_h: Option<&'a [f64]>,
    pub g_h: &'a [f64],
    pub delta: f64,
}

/// dogbox's free variables at the current x: `scale` is the variable scale,
/// `active[j]` marks the frozen variables, `g` is Jᵀf with those zeroed, `free` lists
/// the others in order.
pub(crate) struct FreeVariables<'a, 'j> {
    pub jac: &'a JacStore<'j>,
    pub fs: &'a [f64],
    pub g: &'a [f64],
    pub scale: &'a [f64],
    pub free: &'a [usize],
    pub active: &'a [bool],
}

/// How a trust-region model is solved.
pub(crate) trait Subproblem {
    /// A new solve begins: forget what was learnt about the last problem.
    fn start(&mut self) {}
    /// trf, once per outer iteration: set up for the model.
    fn prepare(&mut self, model: &ScaledModel<'_, '_>) -> Result<(), Error>;
    /// trf, per trial: the hat-space step `p_h` for radius `delta`; returns the new
    /// Levenberg–Marquardt α.
    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64;
    /// trf: `out = Ĵ s` (m rows) with the `d` of the last `prepare`.
    fn jh_mul(&self, jac: &JacStore<'_>, s: &[f64], out: &mut [f64]);
    /// dogbox: the Gauss–Newton step `argmin ‖J_F p + f‖` on the free variables,
    /// written in the order of `vars.free` into `newton`.
    fn newton_step(&mut self, vars: &FreeVariables<'_, '_>, p: &mut [f64]) -> Result<(), Error>;
    /// dogbox: whether its model products use the free columns of a dense J only
    /// (exact) rather than all of J with the frozen components zero (same values; each
    /// solver keeps the form scipy's counterpart uses).
    fn free_column_products(&self) -> bool {
        false
    }
}

/// The solver a workspace holds (enum dispatch: one call per step, not per entry).
/// The large-scale solvers are boxed (large, and their set-up dwarfs an allocation);
/// the dense exact solver stays inline: it serves the small problems whose per-call
/// set-up matters, and one allocation fewer is measurable there.
#[allow(clippy::large_enum_variant)]
pub(crate) enum AnySubproblem {
    Exact(exact::ExactSolver),
    Lsmr(Box<lsmr::LsmrSolver>),
    Cholesky(Box<cholesky::CholeskySolver<NormalEquations>>),
    Schur(Box<cholesky::CholeskySolver<SchurComplement>>),
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
    fn start(&mut self) {
        dispatch!(self, s => s.start())
    }

    fn prepare(&mut self, model: &ScaledModel<'_, '_>) -> Result<(), Error> {
        dispatch!(self, s => s.prepare(model))
    }

    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64 {
        dispatch!(self, s => s.step(delta, alpha, p_h))
    }

    fn jh_mul(&self, jac: &JacStore<'_>, s_vec: &[f64], out: &mut [f64]) {
        dispatch!(self, s => s.jh_mul(jac, s_vec, out))
    }

    fn newton_step(&mut self, vars: &FreeVariables<'_, '_>, p: &mut [f64]) -> Result<(), Error> {
        dispatch!(self, s => s.newton_step(vars, p))
    }

    fn free_column_products(&self) -> bool {
        dispatch!(self, s => s.free_column_products())
    }
}
