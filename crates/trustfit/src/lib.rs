//! trustfit.
