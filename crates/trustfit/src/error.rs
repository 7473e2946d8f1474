//! The one error type of the crate.
//!
//! Every variant names the scipy argument at fault and says what to fix. Errors raised
//! once the solve has started carry the best point found so far ([`BestPoint`]), so a
//! failure late in a long run never loses the work done.

use std::any::Any;
use std::fmt;

/// The best point found before a solve was interrupted.
#[derive(Debug, Clone, PartialEq)]
pub struct BestPoint {
    /// The last accepted iterate (the point with the lowest cost seen).
    pub x: Vec<f64>,
    /// Its cost `½ Σ ρ(fᵢ²)`.
    pub cost: f64,
    /// Residual evaluations spent so far.
    pub nfev: usize,
}

/// An error raised by user code: a residual, Jacobian, loss or iteration callback.
///
/// `payload` lets a language binding carry its own exception object (for example a
/// Python exception) through the solver and re-raise it unchanged.
pub struct CallbackError {
    /// A human-readable description.
    pub message: String,
    /// Opaque data for the caller that raised it (not inspected by trustfit).
    pub payload: Option<Box<dyn Any + Send>>,
}

impl CallbackError {
    /// A callback error with a message and no payload.
    ///
    /// ```
    /// let e = trustfit::CallbackError::new("model diverged");
    /// assert_eq!(e.to_string(), "model diverged");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            payload: None,
        }
    }

    /// A callback error that carries a payload for the caller.
    ///
    /// ```
    /// let e = trustfit::CallbackError::with_payload("oops", 42_i32);
    /// assert_eq!(e.payload.unwrap().downcast::<i32>().ok().map(|b| *b), Some(42));
    /// ```
    pub fn with_payload(message: impl Into<String>, payload: impl Any + Send) -> Self {
        Self {
            message: message.into(),
            payload: Some(Box::new(payload)),
        }
    }

    /// Converts a caught panic into a callback error (the panic message is kept).
    pub(crate) fn from_panic(what: &str, panic: Box<dyn Any + Send>) -> Self {
        let text = if let Some(s) = panic.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = panic.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        Self::new(format!("{what} panicked: {text}"))
    }
}

impl fmt::Debug for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackError")
            .field("message", &self.message)
            .field("payload", &self.payload.as_ref().map(|_| "<opaque>"))
            .finish()
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CallbackError {}

impl From<String> for CallbackError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for CallbackError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// Why a call to [`least_squares`](crate::least_squares) failed.
///
/// Reaching `max_nfev` or a tolerance is not an error: it is a
/// [`Status`](crate::Status) of the [`Report`](crate::Report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option has a value outside its domain.
    #[error("{message}")]
    InvalidOption {
        /// The scipy name of the option (`method`, `ftol`, ...).
        name: &'static str,
        /// scipy's message: what is wrong and what is accepted.
        message: String,
    },
    /// An array has the wrong length or shape.
    #[error("{what} Expected {expected}, got {got}.")]
    ShapeMismatch {
        /// scipy's sentence naming the arrays, e.g. "Inconsistent shapes between bounds and `x0`."
        what: String,
        /// The expected shape, e.g. `(3,)` or `(10, 3)`.
        expected: String,
        /// The shape received.
        got: String,
    },
    /// `x0` lies outside `bounds`.
    #[error(
        "Initial guess is outside of provided bounds: `x0[{index}]` = {value} is not in [{lb}, {ub}]"
    )]
    InfeasibleStart {
        /// The first offending component.
        index: usize,
        /// `x0[index]`.
        value: f64,
        /// Its lower bound.
        lb: f64,
        /// Its upper bound.
        ub: f64,
    },
    /// A lower bound is not strictly below its upper bound.
    #[error(
        "Each lower bound must be strictly less than each upper bound. `bounds` at index {index} has lb = {lb}, ub = {ub}"
    )]
    InvalidBounds {
        /// The first offending component.
        index: usize,
        /// The lower bound.
        lb: f64,
        /// The upper bound.
        ub: f64,
    },
    /// Residuals, a Jacobian or a loss returned NaN or infinity where that cannot be handled.
    #[error("{what}{}", best.as_ref().map(|b| format!(" (best cost so far {:e} after {} evaluations)", b.cost, b.nfev)).unwrap_or_default())]
    NonFinite {
        /// scipy's sentence, e.g. "Residuals are not finite in the initial point."
        what: String,
        /// The best point found before, if the solve had started.
        best: Option<BestPoint>,
    },
    /// A combination of method and feature that is not supported.
    #[error("{message}")]
    Unsupported {
        /// The method asked for (`trf`, `dogbox`, `lm`).
        method: &'static str,
        /// What cannot be combined with it, in scipy's words.
        message: String,
    },
    /// User code (residuals, Jacobian, loss, callback) failed or panicked.
    #[error("{source}")]
    Callback {
        /// The error as raised by user code.
        source: CallbackError,
        /// The best point found before, if the solve had started.
        best: Option<BestPoint>,
    },
    /// A linear-algebra kernel failed (for example an SVD that did not converge).
    #[error("linear algebra failure: {message}")]
    LinearAlgebra {
        /// What failed.
        message: String,
        /// The best point found before.
        best: Option<BestPoint>,
    },
}

/// The variant of an [`Error`] without its fields: a stable name for logging and
/// matching (`Error` itself is `#[non_exhaustive]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::InvalidOption`].
    InvalidOption,
    /// [`Error::ShapeMismatch`].
    ShapeMismatch,
    /// [`Error::InfeasibleStart`].
    InfeasibleStart,
    /// [`Error::InvalidBounds`].
    InvalidBounds,
    /// [`Error::NonFinite`].
    NonFinite,
    /// [`Error::Unsupported`].
    Unsupported,
    /// [`Error::Callback`].
    Callback,
    /// [`Error::LinearAlgebra`].
    LinearAlgebra,
}

impl ErrorKind {
    /// A snake_case name, e.g. `"invalid_option"`.
    ///
    /// ```
    /// assert_eq!(trustfit::ErrorKind::NonFinite.as_str(), "non_finite");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidOption => "invalid_option",
            ErrorKind::ShapeMismatch => "shape_mismatch",
            ErrorKind::InfeasibleStart => "infeasible_start",
            ErrorKind::InvalidBounds => "invalid_bounds",
            ErrorKind::NonFinite => "non_finite",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Callback => "callback",
            ErrorKind::LinearAlgebra => "linear_algebra",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// Which variant this is, for logging or matching without naming fields.
    ///
    /// ```
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0]);
    /// let opts = trustfit::Options { max_nfev: Some(0), ..Default::default() };
    /// let err = trustfit::least_squares(&p, &[1.0], &opts).unwrap_err();
    /// assert_eq!(err.kind(), trustfit::ErrorKind::InvalidOption);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidOption { .. } => ErrorKind::InvalidOption,
            Error::ShapeMismatch { .. } => ErrorKind::ShapeMismatch,
            Error::InfeasibleStart { .. } => ErrorKind::InfeasibleStart,
            Error::InvalidBounds { .. } => ErrorKind::InvalidBounds,
            Error::NonFinite { .. } => ErrorKind::NonFinite,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Callback { .. } => ErrorKind::Callback,
            Error::LinearAlgebra { .. } => ErrorKind::LinearAlgebra,
        }
    }

    /// The best point found before the error, when the solve had already started.
    ///
    /// ```
    /// let e = trustfit::Error::InvalidOption { name: "ftol", message: "x".into() };
    /// assert!(e.best().is_none());
    /// ```
    pub fn best(&self) -> Option<&BestPoint> {
        match self {
            Error::NonFinite { best, .. }
            | Error::Callback { best, .. }
            | Error::LinearAlgebra { best, .. } => best.as_ref(),
            _ => None,
        }
    }

    /// Attaches the best point to an error raised during the iterations.
    pub(crate) fn with_best(mut self, point: BestPoint) -> Self {
        match &mut self {
            Error::NonFinite { best, .. }
            | Error::Callback { best, .. }
            | Error::LinearAlgebra { best, .. }
                if best.is_none() =>
            {
                *best = Some(point);
            }
            _ => {}
        }
        self
    }

    /// An [`Error::InvalidOption`]; a reason starting in lower case is prefixed with
    /// the option's name in backticks, as scipy words it.
    pub(crate) fn option(name: &'static str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let message = if reason.starts_with(|c: char| c.is_lowercase()) {
            format!("`{name}` {reason}")
        } else {
            reason
        };
        Error::InvalidOption { name, message }
    }
}

impl From<CallbackError> for Error {
    fn from(source: CallbackError) -> Self {
        Error::Callback { source, best: None }
    }
}
