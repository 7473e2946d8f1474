//! scipy's verbose text: the `verbose=2` table, the closing lines, Python's `e`
//! number format, and where the lines go ([`Printer`]).

use std::fmt;

/// Formats like Python's `'{:.<prec>e}'`: `2.0050e+02`, `1.00e-100`, `nan`, `inf`.
///
/// ```
/// assert_eq!(trustfit::py_e(200.5, 4), "2.0050e+02");
/// assert_eq!(trustfit::py_e(-1e-100, 2), "-1.00e-100");
/// assert_eq!(trustfit::py_e(f64::INFINITY, 2), "inf");
/// ```
pub fn py_e(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{v:.prec$e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Where verbose output goes: a function receiving each line (without newline).
///
/// The default (no printer in [`Options`](crate::Options)) writes to standard output.
/// Language bindings pass their own, e.g. to print through Python's `sys.stdout`.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let sink = lines.clone();
/// let printer = trustfit::Printer::new(move |line| sink.lock().unwrap().push(line.to_string()));
/// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 1.0);
/// let opts = trustfit::Options { verbose: 1, printer: Some(printer), ..Default::default() };
/// trustfit::least_squares(&p, &[0.0], &opts).unwrap();
/// assert_eq!(lines.lock().unwrap()[0], "`gtol` termination condition is satisfied.");
/// ```
#[derive(Clone)]
pub struct Printer(std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl Printer {
    /// Wraps a line consumer.
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(f))
    }

    /// Emits one line.
    pub fn line(&self, text: &str) {
        (self.0)(text)
    }
}

impl fmt::Debug for Printer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Printer(..)")
    }
}

impl PartialEq for Printer {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Emits a verbose line to the printer, or standard output.
pub(crate) fn emit(printer: Option<&Printer>, text: &str) {
    match printer {
        Some(p) => p.line(text),
        None => println!("{text}"),
    }
}

/// scipy's `verbose=2` header.
pub(crate) fn header_line() -> String {
    format!(
        "{:^15}{:^15}{:^15}{:^15}{:^15}{:^15}",
        "Iteration", "Total nfev", "Cost", "Cost reduction", "Step norm", "Optimality"
    )
}

/// scipy's `verbose=2` row; reduction and step norm are blank on row 0.
pub(crate) fn row_line(
    iteration: usize,
    nfev: usize,
    cost: f64,
    reduction: Option<f64>,
    step_norm: Option<f64>,
    optimality: f64,
) -> String {
    let red = reduction.map_or(String::new(), |v| py_e(v, 2));
    let step = step_norm.map_or(String::new(), |v| py_e(v, 2));
    format!(
        "{:^15}{:^15}{:^15}{:^15}{:^15}{:^15}",
        iteration,
        nfev,
        py_e(cost, 4),
        red,
        step,
        py_e(optimality, 2)
    )
}

/// scipy's `verbose ≥ 1` closing lines.
pub(crate) fn final_lines(
    message: &str,
    nfev: usize,
    initial_cost: f64,
    cost: f64,
    optimality: f64,
) -> [String; 2] {
    [
        message.to_string(),
        format!(
            "Function evaluations {nfev}, initial cost {}, final cost {}, first-order optimality {}.",
            py_e(initial_cost, 4),
            py_e(cost, 4),
            py_e(optimality, 2)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_e_format_matches_scipy_rows() {
        assert_eq!(py_e(2.0050e2, 4), "2.0050e+02");
        assert_eq!(py_e(1.97e2, 2), "1.97e+02");
        assert_eq!(py_e(0.0, 2), "0.00e+00");
        assert_eq!(py_e(5.03e-4, 2), "5.03e-04");
        assert_eq!(py_e(f64::NAN, 2), "nan");
    }

    #[test]
    fn golden_rows_match_scipy_text() {
        // spec §2.5, scipy 1.17.1.
        assert_eq!(
            header_line(),
            "   Iteration     Total nfev        Cost      Cost reduction    Step norm     Optimality   "
        );
        assert_eq!(
            row_line(0, 1, 2.0050e2, None, None, 8.01e2),
            "       0              1         2.0050e+02                                    8.01e+02    "
        );
        assert_eq!(
            row_line(1, 2, 3.2326, Some(1.97e2), Some(0.5), 75.3),
            "       1              2         3.2326e+00      1.97e+02       5.00e-01       7.53e+01    "
        );
    }

    #[test]
    fn header_columns_are_centred_in_15() {
        let h = format!("{:^15}", "Iteration");
        assert_eq!(h, "   Iteration   ");
        let c = format!("{:^15}", "Cost");
        assert_eq!(c, "     Cost      ");
    }
}
