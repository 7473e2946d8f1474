//! Parse options: resource limits checked while parsing (so a hostile or
//! mistaken formula is refused in time linear in its length, before any
//! recursion deeper than the limit), and the order of the parameters.

/// Resource limits of [`Formula::parse_with`](crate::Formula::parse_with).
///
/// Every check happens while the text is read, so a formula over a limit is
/// refused in time linear in its length. The defaults are generous for
/// hand-written models and keep parsing, compiling and evaluation cheap.
///
/// ```
/// use trustfit_formula::{Formula, FormulaError, Limits, ParseOptions};
/// let opts = ParseOptions { limits: Limits { max_depth: 2, ..Limits::default() }, ..Default::default() };
/// assert!(Formula::parse_with("exp(exp(a*t))", &["t"], &opts).is_ok());
/// let e = Formula::parse_with("exp(exp(exp(a*t)))", &["t"], &opts).unwrap_err();
/// assert!(matches!(e, FormulaError::TooDeep { limit: 2, column: 12 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest formula, in characters. Default [`Limits::DEFAULT_MAX_LEN`].
    pub max_len: usize,
    /// Deepest nesting of parentheses, function calls, unary minus and the
    /// right operand of `^` (each adds one level). Default [`Limits::DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// Most parameters. Default [`Limits::DEFAULT_MAX_PARAMS`].
    pub max_params: usize,
    /// Longest name (parameter, column, function), in characters. Default
    /// [`Limits::DEFAULT_MAX_NAME_LEN`].
    pub max_name_len: usize,
}

/// The defaults, also reachable as constants.
///
/// ```
/// use trustfit_formula::Limits;
/// assert_eq!(Limits::default().max_depth, Limits::DEFAULT_MAX_DEPTH);
/// assert_eq!(Limits::DEFAULT_MAX_LEN, 100_000);
/// ```
impl Limits {
    /// Default longest formula: 100 000 characters.
    pub const DEFAULT_MAX_LEN: usize = 100_000;
    /// Default deepest nesting: 100 levels.
    pub const DEFAULT_MAX_DEPTH: usize = 100;
    /// Default most parameters: 1000.
    pub const DEFAULT_MAX_PARAMS: usize = 1000;
    /// Default longest name: 256 characters.
    pub const DEFAULT_MAX_NAME_LEN: usize = 256;
}

impl Default for Limits {
    /// The `DEFAULT_*` constants.
    fn default() -> Self {
        Self {
            max_len: Self::DEFAULT_MAX_LEN,
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_params: Self::DEFAULT_MAX_PARAMS,
            max_name_len: Self::DEFAULT_MAX_NAME_LEN,
        }
    }
}

/// The order of [`Formula::params`](crate::Formula::params), which is the
/// order of every parameter vector and Jacobian column.
///
/// ```
/// use trustfit_formula::{Formula, ParamOrder, ParseOptions};
/// let f = Formula::parse("k*t + b", &["t"]).unwrap();
/// assert_eq!(f.params(), ["k", "b"]);
/// let opts = ParseOptions { param_order: ParamOrder::Alphabetical, ..Default::default() };
/// let g = Formula::parse_with("k*t + b", &["t"], &opts).unwrap();
/// assert_eq!(g.params(), ["b", "k"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParamOrder {
    /// In order of first appearance in the formula (the default).
    #[default]
    Appearance,
    /// Sorted by name (byte order).
    Alphabetical,
}

/// Options of [`Formula::parse_with`](crate::Formula::parse_with).
///
/// ```
/// use trustfit_formula::ParseOptions;
/// let o = ParseOptions::default();
/// assert_eq!(o.limits.max_params, 1000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Resource limits.
    pub limits: Limits,
    /// Order of the parameters.
    pub param_order: ParamOrder,
}
