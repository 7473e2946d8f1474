//! The one error type of the crate: what is wrong with a formula (with the
//! 1-based character column where it was found), a resource limit it exceeds,
//! or a buffer of the wrong length handed to an evaluation.

/// Why a formula was refused, or an evaluation could not run.
///
/// ```
/// use trustfit_formula::{Formula, FormulaError};
/// let e = Formula::parse("a + * t", &["t"]).unwrap_err();
/// assert!(matches!(e, FormulaError::Syntax { column: 5, .. }));
/// assert_eq!(e.to_string(), "unexpected `*` at column 5 (expected a number, a name, `(` or `-`)");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FormulaError {
    /// The text does not follow the grammar.
    #[error("{message}")]
    Syntax {
        /// 1-based character column of the offending token (one past the end for "end of formula").
        column: usize,
        /// What was found, where, and what was expected.
        message: String,
    },
    /// A function name that is not followed by `(` (and is not a data column).
    #[error("function `{name}` at column {column} must be followed by `(` (write `{name}(...)`)")]
    FunctionWithoutCall {
        /// The function's name.
        name: String,
        /// 1-based character column of the name.
        column: usize,
    },
    /// The formula is longer than [`Limits::max_len`](crate::Limits::max_len).
    #[error("formula is {len} characters long; the limit is {limit}")]
    TooLong {
        /// Length of the formula in characters.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Parentheses, calls, unary minus or `^` nest deeper than
    /// [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("formula nests deeper than {limit} levels (at column {column})")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// 1-based character column where the limit was exceeded.
        column: usize,
    },
    /// More parameters than [`Limits::max_params`](crate::Limits::max_params).
    #[error("formula has more than {limit} parameters")]
    TooManyParams {
        /// The limit.
        limit: usize,
    },
    /// A name longer than [`Limits::max_name_len`](crate::Limits::max_name_len).
    #[error("name at column {column} is {len} characters long; the limit is {limit}")]
    NameTooLong {
        /// 1-based character column of the name.
        column: usize,
        /// Its length in characters.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A slice passed to an evaluation has the wrong length.
    #[error("`{what}` has length {got}, expected {expected}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        got: usize,
    },
}

/// Checks a slice length for an evaluation.
pub(crate) fn check_len(
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), FormulaError> {
    if expected == got {
        Ok(())
    } else {
        Err(FormulaError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}
