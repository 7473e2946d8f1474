//! Exact Jacobians by forward-mode automatic differentiation: residuals written once
//! over a [`Real`](real::Real) scalar, evaluated at [`Dual`](dual::Dual) numbers along
//! the directions of a [`Seeding`](seeding::Seeding) (dense column chunks or sparse
//! column groups). The solver side, which seeds and scatters into J, is
//! `jacobian::auto`.
//!
//! Why an own dual type rather than num-dual or ad_trait (both read first): num-dual's
//! `DualVec` keeps its derivative as an optional nalgebra vector (a branch on "zero"
//! in every operation, nalgebra in the dependency tree) and its `jacobian` helper
//! takes and returns owned nalgebra vectors per call; ad_trait's `AD` trait asks
//! for simba's `RealField`/`ComplexField`, far more than a residual function needs to
//! be written against. Neither seeds column groups into a compressed (CSR)
//! Jacobian, which is what makes sparse AD cost `groups` passes. `Dual<N>` is a plain
//! `f64` and `[f64; N]` (Copy, no heap, straight-line loops the compiler vectorises),
//! `Real` asks only for the arithmetic and functions models use, and a pass writes
//! into the solver's buffers in place — no dependency added.

pub(crate) mod dual;
pub(crate) mod model;
pub(crate) mod real;
pub(crate) mod seeding;
