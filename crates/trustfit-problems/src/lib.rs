//! Test problems.
