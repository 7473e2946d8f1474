//! Linear algebra kernels. faer stays behind these types; nothing faer-specific is public.

pub(crate) mod band;
pub(crate) mod dense;
pub(crate) mod error;
pub(crate) mod jacobi;
pub(crate) mod lsmr;
pub(crate) mod normal_eq;
pub(crate) mod schur;
pub(crate) mod schur_pcg;
pub(crate) mod sparse;
pub(crate) mod subnormal;
pub(crate) mod vector;
