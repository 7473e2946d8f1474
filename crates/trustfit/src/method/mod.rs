//! The three algorithms, one file each, and the kernels they share.

pub(crate) mod cholesky_step;
pub(crate) mod common;
pub(crate) mod dogbox;
pub(crate) mod jac_store;
pub(crate) mod lm;
pub(crate) mod subspace;
pub(crate) mod trf;
