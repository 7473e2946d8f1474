//! The model formula of `trustfit fit`, such as `a + b*exp(c*t)`, through the
//! [`trustfit_formula`] engine: parsing with the command line's limits and
//! alphabetical parameters, and its messages.
//!
//! Identifiers that name a column of the data are variables; every other
//! identifier is a parameter (listed alphabetically: the order of `--json`'s
//! matrices). A data column takes precedence over a constant of the same
//! name (`e`, `E`, `PI`, `π`, `TAU`, `τ`). Operators: `+ - * / ^` (`^`
//! right-associative); a unary minus binds as in mathematics and Python:
//! `-x^2` is `-(x^2)`, `a^-b` is `a^(-b)`; numbers like `1.5e-3`; functions
//! `exp`, `ln` (`log` is also the natural logarithm), `log10`, `log2`,
//! `sqrt`, `cbrt`, `sin`, `cos`, `tan`, their inverses and hyperbolic
//! versions, `abs` (derivative sign(x)). A function name must be followed by
//! `(`. The Jacobian is exact (reverse mode over the compiled formula).

pub use trustfit_formula::{Formula, Workspace};
use trustfit_formula::{FormulaError, Limits, ParamOrder, ParseOptions};

/// The command line's limits on a formula (see `trustfit fit --help`).
///
/// Parameters are capped below the engine's default (1000): the formula's
/// cost is linear in its size, but the dense solvers' is O(m·n²) per
/// Jacobian (lm's QR, the covariance), so a 1000-parameter fit of 2000
/// points takes about 7 s, nearly all of it in the solver; 256 parameters
/// take well under a second there. Larger models belong in the library.
pub const LIMITS: Limits = Limits {
    max_len: 100_000,
    max_depth: 100,
    max_params: 256,
    max_name_len: 256,
};

/// Longest formula quoted in full in an error message.
const QUOTE_MAX_CHARS: usize = 60;

/// Parses `text` with [`LIMITS`]; names in `data_columns` are x columns, the
/// others parameters in alphabetical order.
///
/// # Errors
/// A one-line message when the formula does not parse, exceeds a limit or
/// has no parameters.
///
/// ```
/// use trustfit_cli::formula::parse_model;
/// let cols = vec!["t".to_string(), "y".to_string()];
/// let f = parse_model("c*t + b*exp(a*t)", &cols).unwrap();
/// assert_eq!(f.params(), ["a", "b", "c"]);
/// assert_eq!(f.columns(), ["t"]);
/// let e = parse_model("sin + a*t", &cols).unwrap_err();
/// assert!(e.starts_with("cannot parse formula \"sin + a*t\": function `sin`"), "{e}");
/// ```
pub fn parse_model(text: &str, data_columns: &[String]) -> Result<Formula, String> {
    let options = ParseOptions {
        limits: LIMITS,
        param_order: ParamOrder::Alphabetical,
    };
    let f = Formula::parse_with(text, data_columns, &options).map_err(|e| {
        let limit = match e {
            FormulaError::TooLong { .. }
            | FormulaError::TooDeep { .. }
            | FormulaError::TooManyParams { .. }
            | FormulaError::NameTooLong { .. } => LIMIT_MARK,
            _ => "",
        };
        format!("cannot parse formula {}: {e}{limit}", quoted(text))
    })?;
    if f.params().is_empty() {
        return Err(format!(
            "formula {} has no parameters (every identifier is a data column)",
            quoted(text)
        ));
    }
    Ok(f)
}

/// Whether a message of [`parse_model`] is about a resource limit (length,
/// nesting, parameters, name length) rather than the formula's syntax.
///
/// ```
/// use trustfit_cli::formula::{is_over_a_limit, parse_model};
/// let cols = vec!["t".to_string()];
/// assert!(is_over_a_limit(&parse_model(&"(".repeat(200), &cols).unwrap_err()));
/// assert!(!is_over_a_limit(&parse_model("a + * t", &cols).unwrap_err()));
/// ```
pub fn is_over_a_limit(message: &str) -> bool {
    message.ends_with(LIMIT_MARK)
}

/// Ends every message about a resource limit.
const LIMIT_MARK: &str = " (see the limits in `trustfit fit --help`)";

/// The formula quoted, shortened with "…" when long (messages stay one short line).
fn quoted(text: &str) -> String {
    if text.chars().count() <= QUOTE_MAX_CHARS {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(QUOTE_MAX_CHARS).collect();
        format!("{head:?}… ({} characters)", text.chars().count())
    }
}

/// Joins a multi-line message into one line.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn cols(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The value at the point `x` (of which only the used columns are passed).
    fn value(f: &Formula, p: &[f64], x: &[f64]) -> f64 {
        f.eval_point(&mut Workspace::new(), p, &x[..f.columns().len()])
            .unwrap()
    }

    fn check_gradient(text: &str, columns: &[&str], p: &[f64], x: &[f64]) {
        let f = parse_model(text, &cols(columns)).unwrap();
        let mut g = vec![0.0; p.len()];
        f.value_and_gradient(&mut Workspace::new(), p, x, &mut g)
            .unwrap();
        for k in 0..p.len() {
            let h = 1e-6 * p[k].abs().max(1.0);
            let mut pp = p.to_vec();
            pp[k] += h;
            let up = value(&f, &pp, x);
            pp[k] -= 2.0 * h;
            let down = value(&f, &pp, x);
            let fd = (up - down) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() <= 1e-6 * fd.abs().max(1.0),
                "{text}: d/d{} analytic {} vs fd {fd}",
                f.params()[k],
                g[k]
            );
        }
    }

    #[test]
    fn functions_are_differentiated() {
        check_gradient("a + b*exp(c*t)", &["t"], &[0.5, 2.0, -1.0], &[0.7]);
        check_gradient("a*exp(-(t-mu)^2/(2*s^2))", &["t"], &[2.0, 1.0, 0.5], &[1.3]);
        check_gradient("a*x^b", &["x"], &[1.5, 0.7], &[2.5]);
        check_gradient("vmax*s/(km+s)", &["s"], &[0.3, 2.0], &[1.1]);
        check_gradient("a*log(b*x) + sqrt(c*x)", &["x"], &[1.0, 2.0, 3.0], &[0.5]);
        check_gradient("a*sin(w*t) + b*cos(w*t)", &["t"], &[1.0, 0.5, 2.0], &[0.3]);
        check_gradient("a*x + b*y + c", &["x", "y"], &[1.0, 2.0, 3.0], &[0.3, -2.0]);
        check_gradient("a*tanh(b*x)", &["x"], &[1.0, 2.0], &[0.3]);
    }

    #[test]
    fn unary_minus_binds_below_power() {
        let c = cols(&["x"]);
        let v = |text: &str, p: &[f64], x: f64| value(&parse_model(text, &c).unwrap(), p, &[x]);
        assert_eq!(v("a - x^2", &[0.0], 3.0), -9.0);
        assert_eq!(v("-x^2 + a", &[0.0], 3.0), -9.0);
        assert_eq!(v("a*-x^2", &[2.0], 3.0), -18.0);
        assert_eq!(v("a*x^-1", &[2.0], 4.0), 0.5);
        assert_eq!(v("a - -x", &[2.0], 4.0), 6.0);
        assert_eq!(v("a*exp(-(x-1)^2)", &[2.0], 1.0), 2.0);
        assert!((v("a*exp(-(x-1)^2)", &[1.0], 2.0) - (-1.0f64).exp()).abs() < 1e-15);
        assert_eq!(v("a*1e-3 + x*2E-1", &[1000.0], 10.0), 3.0);
        assert_eq!(v("a*.5e+1 - 2.", &[1.0], 0.0), 3.0);
        assert_eq!(v("e^a", &[0.0], 0.0), 1.0);
    }

    #[test]
    fn integer_power_of_a_negative_column_has_finite_gradient() {
        let f = parse_model("a*t^2 + b", &cols(&["t"])).unwrap();
        let mut g = [0.0; 2];
        let v = f
            .value_and_gradient(&mut Workspace::new(), &[2.0, 1.0], &[-3.0], &mut g)
            .unwrap();
        assert_eq!(v, 19.0);
        assert_eq!(g, [9.0, 1.0]);
    }

    #[test]
    fn columns_and_parameters_are_split() {
        let f = parse_model("m*t + k*u", &cols(&["t", "y", "u"])).unwrap();
        assert_eq!(f.params(), ["k", "m"]);
        assert_eq!(f.columns(), ["t", "u"]);
        assert_eq!(value(&f, &[2.0, 3.0], &[10.0, 100.0]), 230.0);
        assert_eq!(f.text(), "m*t + k*u");
    }

    #[test]
    fn errors_are_one_line() {
        for (text, what) in [
            ("a + * t", "cannot parse"),
            ("a + b*(t", "cannot parse"),
            ("2*t + 1", "no parameters"),
        ] {
            let e = parse_model(text, &cols(&["t"])).unwrap_err();
            assert!(e.contains(what), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn long_formulas_are_quoted_shortly() {
        let text = "a*t+".repeat(30_000) + "a";
        let e = parse_model(&text, &cols(&["t"])).unwrap_err();
        assert!(e.contains("(120001 characters)"), "{e}");
        assert!(
            e.contains("formula is 120001 characters long; the limit is 100000"),
            "{e}"
        );
        assert!(is_over_a_limit(&e));
        assert!(e.len() < 250, "{e}");
    }
}
