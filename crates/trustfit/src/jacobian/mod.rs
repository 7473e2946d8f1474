//! Jacobians by finite differences and complex step (spec §5).

pub(crate) mod finite_diff;
pub(crate) mod groups;
pub(crate) mod sparse_fd;
