//! Jacobians by finite differences and complex step (spec §5).

pub(crate) mod finite_diff;
