//! # trustfit-formula — model formulas, compiled, with exact Jacobians
//!
//! Parses a model formula such as `a + b*exp(c*t)`, compiles it to a flat
//! tape of instructions, and evaluates it over many points at once: values,
//! and the Jacobian with respect to the parameters by reverse-mode
//! differentiation (exact up to rounding).
//!
//! ```
//! use trustfit_formula::{Formula, Workspace};
//! let f = Formula::parse("a + b*exp(c*t)", &["t", "y"]).unwrap();
//! assert_eq!(f.params(), ["a", "b", "c"]);
//! let t = [0.0, 1.0, 2.0];
//! let mut ws = Workspace::for_formula(&f); // one per thread; no allocation after this
//! let (mut values, mut jac) = ([0.0; 3], [0.0; 9]);
//! f.eval_jacobian(&mut ws, &[0.5, 2.0, -1.0], &[&t], &mut values, &mut jac).unwrap();
//! assert!((values[1] - (0.5 + 2.0 * (-1.0f64).exp())).abs() < 1e-15);
//! assert!((jac[3 + 2] - 2.0 * (-1.0f64).exp()).abs() < 1e-15); // d/dc at t = 1: b·t·exp(c·t)
//! ```
//!
//! ## Grammar
//!
//! * Names (a letter or `_`, then letters, digits, `_`; Greek letters count
//!   as letters) are, in this order: a **function** when `(` follows; a
//!   **data column** when listed in the `columns` given to [`Formula::parse`];
//!   a **constant** `PI`/`π`, `E`/`e`, `TAU`/`τ`; otherwise a **parameter**.
//!   So a data column named `e` is the column, not Euler's number; a function
//!   name without `(` (`sin + a*t`) is an error. Parameters are numbered in
//!   order of first appearance, or alphabetically ([`ParamOrder`]).
//! * Numbers: `2`, `0.5`, `.5`, `2.`, `1e-3`, `2.5E+4`.
//! * Operators, loosest first: `+ -` (left-associative), `* /`
//!   (left-associative), unary `-`, `^` (right-associative). A unary minus
//!   binds as in mathematics and Python: `-x^2` is `-(x^2)`, `a^-b` is
//!   `a^(-b)`, `2^3^2` is 512.
//! * Functions of one argument: `exp`, `ln`, `log` (natural), `log10`,
//!   `log2`, `sqrt`, `cbrt`, `sin`, `cos`, `tan`, `asin`, `acos`, `atan`,
//!   `sinh`, `cosh`, `tanh`, `asinh`, `acosh`, `atanh`, `abs` (derivative
//!   sign(x)). See [`Func`].
//!
//! ## Limits
//!
//! [`Limits`] bounds the length of the text, the nesting depth, the number of
//! parameters and the length of names, checked while reading, so any text is
//! parsed or refused in time linear in its length and with bounded stack (no
//! operation on the parsed tree recurses). Defaults: 100 000 characters,
//! 100 levels, 1000 parameters, names of 256 characters.
//!
//! ## Evaluation
//!
//! The tape is evaluated 128 points per instruction, so the cost of
//! interpreting it is shared by the points of a block; one reverse sweep per
//! block gives every parameter's derivative at every point of the block.
//! Time is linear in instructions × points; scratch memory is
//! 2 × instructions × 128 numbers, held by a reusable [`Workspace`].
//! Non-finite values propagate as NaN or ±∞; nothing panics.
//!
//! Compilation folds constants, shares repeated sub-expressions and turns
//! small integer powers into repeated multiplication (`t^2` at `t < 0` is
//! fine, and so is its derivative).

#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod ast;
mod error;
mod eval;
mod exp;
mod formula;
mod func;
mod lexer;
mod limits;
mod parser;
mod tape;
mod workspace;

pub use error::FormulaError;
pub use formula::Formula;
pub use func::{Func, constant};
pub use limits::{Limits, ParamOrder, ParseOptions};
pub use workspace::Workspace;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_and_workspace_are_send_and_sync() {
        fn is_send_sync<T: Send + Sync>() {}
        is_send_sync::<Formula>();
        is_send_sync::<Workspace>();
        is_send_sync::<FormulaError>();
    }
}
