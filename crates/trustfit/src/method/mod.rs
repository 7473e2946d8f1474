//! The methods: one trust-region loop (`minimizer`) with two strategies (trf,
//! dogbox) over pluggable subproblem solvers, and MINPACK's Levenberg–Marquardt.

pub(crate) mod dogbox;
pub(crate) mod lm;
pub(crate) mod minimizer;
pub(crate) mod scale;
pub(crate) mod subproblem;
pub(crate) mod trf;
pub(crate) mod trust_region;
