//! The one place where trustfit errors become Python exceptions.
//!
//! `ValueError` where scipy raises it, the user's own exception (carried through the core
//! as a [`CallbackError`] payload) for failures of `fun`, `jac`, `loss` or `callback`, and
//! `trustfit.TrustfitError` for anything else.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use trustfit::{CallbackError, Error};

pyo3::create_exception!(
    _trustfit,
    TrustfitError,
    PyRuntimeError,
    "A failure inside trustfit that scipy has no exception for (for example a linear-algebra kernel)."
);

/// Wraps a Python exception raised by user code so it can travel through the core.
pub fn to_callback_error(err: PyErr) -> CallbackError {
    let message = err.to_string();
    CallbackError::with_payload(message, err)
}

/// Converts a core error into the exception scipy would raise.
pub fn to_pyerr(err: Error) -> PyErr {
    match err {
        Error::Callback { source, .. } => {
            let CallbackError { message, payload } = source;
            match payload.map(|p| p.downcast::<PyErr>()) {
                Some(Ok(py_err)) => *py_err,
                _ => TrustfitError::new_err(message),
            }
        }
        Error::InvalidOption { .. }
        | Error::ShapeMismatch { .. }
        | Error::InfeasibleStart { .. }
        | Error::InvalidBounds { .. }
        | Error::NonFinite { .. }
        | Error::Unsupported { .. } => PyValueError::new_err(err.to_string()),
        other => TrustfitError::new_err(other.to_string()),
    }
}
