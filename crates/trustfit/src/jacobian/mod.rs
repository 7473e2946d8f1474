//! The one home of J: its storage (dense, CSR, matrix-free), its evaluation, finite
//! differences and complex step (spec §5), forward-mode automatic differentiation, and
//! column groups for sparse differences and sparse automatic derivatives.

pub(crate) mod auto;
pub(crate) mod evaluate;
pub(crate) mod finite_diff;
pub(crate) mod groups;
pub(crate) mod sparse_fd;
pub(crate) mod store;
