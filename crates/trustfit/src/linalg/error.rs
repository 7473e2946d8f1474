//! The kernels' own failure type: what went wrong in the linear algebra, with no user
//! option or scipy wording. The front door maps it to the user-facing [`Error`].

use crate::error::Error;

/// A failure of a linear-algebra kernel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LinalgError {
    /// The matrix holds NaN or ±∞.
    NonFinite,
    /// An iteration (the SVD's) did not converge.
    NotConverged(&'static str),
    /// A symbolic analysis or a workspace could not be set up.
    Setup(String),
    /// The matrix's structure does not suit this kernel (the reason; Schur's
    /// partition finds no block to eliminate, say).
    NotApplicable(String),
}

impl From<LinalgError> for Error {
    fn from(e: LinalgError) -> Error {
        match e {
            LinalgError::NonFinite => Error::NonFinite {
                what: "Jacobian values are not finite.".into(),
                best: None,
            },
            LinalgError::NotConverged(what) => Error::LinearAlgebra {
                message: format!("{what} did not converge"),
                best: None,
            },
            LinalgError::Setup(message) => Error::LinearAlgebra {
                message,
                best: None,
            },
            LinalgError::NotApplicable(why) => Error::option("tr_solver", why),
        }
    }
}
