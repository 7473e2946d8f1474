//! Linear algebra kernels. faer stays behind these types; nothing faer-specific is public.

pub(crate) mod dense;
pub(crate) mod jacobi;
