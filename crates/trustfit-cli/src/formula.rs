//! A model formula such as `a + b*exp(c*t)`: parsing, the split of its
//! identifiers into data columns and parameters, evaluation and analytic
//! partial derivatives (the Jacobian), with the `exmex` expression crate.
//!
//! Identifiers that name a column of the data are variables; every other
//! identifier is a parameter. Operators: `+ - * / ^`; functions `exp`, `ln`
//! (`log` is also the natural logarithm), `log10`, `log2`, `sqrt`, `sin`,
//! `cos`, `tan`, their inverses and hyperbolic versions, `abs` (not
//! differentiable here); constants `PI`, `π`, `E`, `e`, `TAU` (so `e` and `E`
//! cannot be parameter names).
//!
//! A unary minus binds as in mathematics and Python: `-x^2` is `-(x^2)`
//! (exmex on its own reads `(-x)^2`; [`Formula::parse`] rewrites the unary
//! minus as `(-1)*` first, except right after `^`, where `a^-b` stays `a^(-b)`).

use exmex::prelude::*;
use exmex::{FloatOpsFactory, MatchLiteral};

/// Number literals with an optional exponent (`2`, `0.5`, `.5`, `1e-3`, `2.5E+4`);
/// exmex's default matcher has no exponent.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FloatLiteral;

impl MatchLiteral for FloatLiteral {
    fn is_literal(text: &str) -> Option<&str> {
        let b = text.as_bytes();
        let digits = |mut i: usize| {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let int_end = digits(0);
        let mut end = int_end;
        if end < b.len() && b[end] == b'.' {
            let frac_end = digits(end + 1);
            if int_end == 0 && frac_end == end + 1 {
                return None; // a lone "."
            }
            end = frac_end;
        }
        if end == 0 {
            return None;
        }
        if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
            let mut j = end + 1;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                j += 1;
            }
            let exp_end = digits(j);
            if exp_end > j {
                end = exp_end;
            }
        }
        Some(&text[..end])
    }
}

type Expr = FlatEx<f64, FloatOpsFactory<f64>, FloatLiteral>;

/// Where one identifier of the formula takes its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The i-th parameter.
    Param(usize),
    /// The j-th x column.
    X(usize),
}

/// A parsed, differentiated formula.
///
/// ```
/// use trustfit_cli::formula::Formula;
/// let cols = vec!["t".to_string(), "y".to_string()];
/// let f = Formula::parse("a + b*exp(c*t)", &cols).unwrap();
/// assert_eq!(f.params(), ["a", "b", "c"]);
/// assert_eq!(f.columns(), ["t"]);
/// // a = 1, b = 2, c = -1 at t = 0: value 3, gradient (1, exp(0), b·t·exp(c·t)) = (1, 1, 0)
/// let mut grad = [0.0; 3];
/// let v = f.value_and_gradient(&[1.0, 2.0, -1.0], &[0.0], &mut grad);
/// assert_eq!(v, 3.0);
/// assert_eq!(grad, [1.0, 1.0, 0.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    expr: Expr,
    derivs: Vec<Expr>,
    params: Vec<String>,
    columns: Vec<String>,
    sources: Vec<Source>,
}

impl Formula {
    /// Parses `text`; identifiers found in `data_columns` become x columns (in
    /// order of first appearance in `data_columns`), the rest parameters (in
    /// alphabetical order, as listed by [`Formula::params`]).
    ///
    /// # Errors
    /// A one-line message when the formula does not parse, has no parameters,
    /// or cannot be differentiated.
    pub fn parse(text: &str, data_columns: &[String]) -> Result<Self, String> {
        let expr = Expr::parse(&unary_minus_as_product(text)).map_err(|e| {
            format!(
                "cannot parse formula {text:?}: {}",
                one_line(&e.to_string())
            )
        })?;
        let names: Vec<String> = expr.var_names().to_vec();
        let mut params = Vec::new();
        let mut columns = Vec::new();
        for c in data_columns {
            if names.contains(c) && !columns.contains(c) {
                columns.push(c.clone());
            }
        }
        let mut sources = Vec::with_capacity(names.len());
        for name in &names {
            if let Some(j) = columns.iter().position(|c| c == name) {
                sources.push(Source::X(j));
            } else {
                sources.push(Source::Param(params.len()));
                params.push(name.clone());
            }
        }
        if params.is_empty() {
            return Err(format!(
                "formula {text:?} has no parameters (every identifier is a data column)"
            ));
        }
        let mut derivs = Vec::with_capacity(params.len());
        for (k, src) in sources.iter().enumerate() {
            if let Source::Param(_) = src {
                let d = expr.clone().partial(k).map_err(|e| {
                    format!(
                        "cannot differentiate formula {text:?} with respect to {}: {}",
                        names[k],
                        one_line(&e.to_string())
                    )
                })?;
                derivs.push(d);
            }
        }
        Ok(Self {
            text: text.to_string(),
            expr,
            derivs,
            params,
            columns,
            sources,
        })
    }

    /// The formula as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Parameter names, alphabetical (the order of every parameter vector).
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// Data columns the formula uses, in the order of the data's columns
    /// (the order of every x row).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    fn vars(&self, p: &[f64], x: &[f64], vars: &mut Vec<f64>) {
        vars.clear();
        vars.extend(self.sources.iter().map(|s| match *s {
            Source::Param(i) => p.get(i).copied().unwrap_or(f64::NAN),
            Source::X(j) => x.get(j).copied().unwrap_or(f64::NAN),
        }));
    }

    /// The formula's value at parameters `p` and x row `x` (NaN when it cannot be evaluated).
    pub fn value(&self, p: &[f64], x: &[f64]) -> f64 {
        let mut vars = Vec::with_capacity(self.sources.len());
        self.vars(p, x, &mut vars);
        self.expr.eval(&vars).unwrap_or(f64::NAN)
    }

    /// The value, and the partial derivatives with respect to each parameter in `grad`.
    pub fn value_and_gradient(&self, p: &[f64], x: &[f64], grad: &mut [f64]) -> f64 {
        let mut vars = Vec::with_capacity(self.sources.len());
        self.vars(p, x, &mut vars);
        for (g, d) in grad.iter_mut().zip(&self.derivs) {
            *g = d.eval(&vars).unwrap_or(f64::NAN);
        }
        self.expr.eval(&vars).unwrap_or(f64::NAN)
    }
}

/// Rewrites each unary minus (at the start, or after `(`, `,` or an operator
/// other than `^`) as `(-1)*`, so that it binds below `^` as in mathematics.
///
/// ```
/// use trustfit_cli::formula::unary_minus_as_product;
/// assert_eq!(unary_minus_as_product("-x^2"), "(-1)*x^2");
/// assert_eq!(unary_minus_as_product("exp(-(t-m)^2)"), "exp((-1)*(t-m)^2)");
/// assert_eq!(unary_minus_as_product("a - b*t^-2 + 1e-3"), "a - b*t^-2 + 1e-3");
/// ```
pub fn unary_minus_as_product(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c == '-' && matches!(prev, None | Some('(' | ',' | '+' | '-' | '*' | '/')) {
            out.push_str("(-1)*");
        } else {
            out.push(c);
        }
        if !c.is_whitespace() {
            prev = Some(c);
        }
    }
    out
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

    fn check_gradient(text: &str, columns: &[&str], p: &[f64], x: &[f64]) {
        let f = Formula::parse(text, &cols(columns)).unwrap();
        let mut g = vec![0.0; p.len()];
        f.value_and_gradient(p, x, &mut g);
        for k in 0..p.len() {
            let h = 1e-6 * p[k].abs().max(1.0);
            let mut pp = p.to_vec();
            pp[k] += h;
            let up = f.value(&pp, x);
            pp[k] -= 2.0 * h;
            let down = f.value(&pp, x);
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
        let v = |text: &str, p: &[f64], x: f64| Formula::parse(text, &c).unwrap().value(p, &[x]);
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
        let f = Formula::parse("a*t^2 + b", &cols(&["t"])).unwrap();
        let mut g = [0.0; 2];
        let v = f.value_and_gradient(&[2.0, 1.0], &[-3.0], &mut g);
        assert_eq!(v, 19.0);
        assert_eq!(g, [9.0, 1.0]);
    }

    #[test]
    fn columns_and_parameters_are_split() {
        let f = Formula::parse("k*u + m*t", &cols(&["t", "y", "u"])).unwrap();
        assert_eq!(f.params(), ["k", "m"]);
        assert_eq!(f.columns(), ["t", "u"]);
        assert_eq!(f.value(&[2.0, 3.0], &[10.0, 100.0]), 230.0);
        assert_eq!(f.text(), "k*u + m*t");
    }

    #[test]
    fn errors_are_one_line() {
        for (text, what) in [
            ("a + * t", "cannot parse"),
            ("a + b*(t", "cannot parse"),
            ("2*t + 1", "no parameters"),
        ] {
            let e = Formula::parse(text, &cols(&["t"])).unwrap_err();
            assert!(e.contains(what), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
