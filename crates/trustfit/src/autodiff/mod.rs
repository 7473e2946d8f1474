//! Exact Jacobians by forward-mode automatic differentiation: residuals written once
//! over a [`Real`](real::Real) scalar, evaluated at [`Dual`](dual::Dual) numbers along
//! the directions of a [`Seeding`](seeding::Seeding) (dense column chunks or sparse
//! column groups). The solver side, which seeds and scatters into J, is
//! `jacobian::auto`.

pub(crate) mod dual;
pub(crate) mod model;
pub(crate) mod real;
pub(crate) mod seeding;
