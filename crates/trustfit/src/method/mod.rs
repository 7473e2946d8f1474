//! The methods: one trust-region loop (`minimizer`) with three strategies (trf,
//! dogbox over pluggable subproblem solvers; sparse_lm over the sparse normal
//! equations), and MINPACK's Levenberg–Marquardt.

pub(crate) mod dogbox;
pub(crate) mod levenberg;
pub(crate) mod lm;
pub(crate) mod minimizer;
pub(crate) mod scale;
pub(crate) mod subproblem;
pub(crate) mod trf;
pub(crate) mod trust_region;
