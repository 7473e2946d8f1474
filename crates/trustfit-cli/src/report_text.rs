//! The report of `trustfit fit`: human text, or one JSON object with a
//! stable schema (documented in the README, "JSON output of `trustfit fit`").
//!
//! JSON schema (numbers that are not finite — e.g. standard errors that
//! cannot be estimated — are `null`):
//!
//! ```text
//! { "model": str, "y": str, "x": [str], "n_points": int,
//!   "parameter_names": [str],                       // order of the matrices
//!   "parameters": { name: {"value": f, "stderr": f, "rel_stderr": f} },
//!   "correlation": [[f]], "covariance": [[f]],
//!   "cost": f, "chi2": f, "reduced_chi2": f, "dof": int, "r2": f,
//!   "method": "lm"|"trf"|"dogbox", "loss": str, "f_scale": f,
//!   "absolute_sigma": bool, "status": int, "message": str, "success": bool,
//!   "nfev": int, "njev": int|null, "warning": str|null,
//!   "aic": f, "bic": f }                            // appended: earlier fields keep their order
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::curvefit::{FitResult, FitSpec};
use crate::formula::one_line;

/// One parameter in the JSON report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParamJson {
    /// Fitted value.
    pub value: Option<f64>,
    /// Standard error (null when not estimable).
    pub stderr: Option<f64>,
    /// stderr / |value| (null when not estimable or value is 0).
    pub rel_stderr: Option<f64>,
}

/// The JSON report (field order is the schema's).
#[derive(Debug, Clone, Serialize)]
pub struct FitJson {
    /// The formula.
    pub model: String,
    /// y column.
    pub y: String,
    /// x columns used by the formula.
    pub x: Vec<String>,
    /// Data points.
    pub n_points: usize,
    /// Parameter names in the order of `correlation` and `covariance` (alphabetical).
    pub parameter_names: Vec<String>,
    /// Each parameter by name.
    pub parameters: BTreeMap<String, ParamJson>,
    /// Correlation matrix.
    pub correlation: Vec<Vec<Option<f64>>>,
    /// Covariance matrix (curve_fit's pcov).
    pub covariance: Vec<Vec<Option<f64>>>,
    /// The solver's cost ½Σρ.
    pub cost: Option<f64>,
    /// χ².
    pub chi2: Option<f64>,
    /// χ²/dof.
    pub reduced_chi2: Option<f64>,
    /// Degrees of freedom.
    pub dof: i64,
    /// Coefficient of determination.
    pub r2: Option<f64>,
    /// Method used.
    pub method: &'static str,
    /// Loss.
    pub loss: &'static str,
    /// Loss scale.
    pub f_scale: f64,
    /// Whether σ was absolute.
    pub absolute_sigma: bool,
    /// scipy's status code.
    pub status: i32,
    /// scipy's message.
    pub message: String,
    /// Converged.
    pub success: bool,
    /// Residual evaluations.
    pub nfev: usize,
    /// Jacobian evaluations.
    pub njev: Option<usize>,
    /// Covariance warning.
    pub warning: Option<String>,
    /// Akaike information criterion m·ln(χ²/m) + 2n (null when χ² = 0).
    pub aic: Option<f64>,
    /// Bayesian information criterion m·ln(χ²/m) + n·ln(m) (null when χ² = 0).
    pub bic: Option<f64>,
}

fn fin(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn rel(value: f64, se: f64) -> f64 {
    se / value.abs()
}

fn matrix(v: &[f64], n: usize) -> Vec<Vec<Option<f64>>> {
    (0..n)
        .map(|a| (0..n).map(|b| fin(v[a * n + b])).collect())
        .collect()
}

/// Builds the JSON object.
pub fn to_json(spec: &FitSpec, r: &FitResult, y_name: &str) -> FitJson {
    let names = spec.formula.params().to_vec();
    let n = names.len();
    let parameters = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            (
                name.clone(),
                ParamJson {
                    value: fin(r.popt[k]),
                    stderr: fin(r.stderr[k]),
                    rel_stderr: fin(rel(r.popt[k], r.stderr[k])),
                },
            )
        })
        .collect();
    FitJson {
        model: spec.formula.text().to_string(),
        y: y_name.to_string(),
        x: spec.formula.columns().to_vec(),
        n_points: spec.y.len(),
        parameter_names: names,
        parameters,
        correlation: matrix(&r.correlation, n),
        covariance: matrix(&r.pcov, n),
        cost: fin(r.cost),
        chi2: fin(r.chi2),
        reduced_chi2: fin(r.reduced_chi2),
        dof: r.dof,
        r2: fin(r.r2),
        method: r.method.as_str(),
        loss: spec.loss.as_str(),
        f_scale: spec.f_scale,
        absolute_sigma: spec.absolute_sigma,
        status: r.status,
        message: r.message.clone(),
        success: r.success,
        nfev: r.nfev,
        njev: r.njev,
        warning: r.warning.clone(),
        aic: fin(r.aic),
        bic: fin(r.bic),
    }
}

/// The JSON report as one line.
///
/// # Errors
/// Serialisation failure (not expected).
pub fn json(spec: &FitSpec, r: &FitResult, y_name: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string(&to_json(spec, r, y_name))
}

/// Widest name column of the text report.
const MAX_NAME_WIDTH: usize = 64;

/// The column width for `names`: the longest name, at least `min`, at most
/// [`MAX_NAME_WIDTH`] (`format!` refuses widths of 2^16 and more).
fn name_width(names: &[String], min: usize) -> usize {
    names
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1)
        .clamp(min, MAX_NAME_WIDTH)
}

fn num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    trustfit::py_e(v, 6)
}

/// The human report.
///
/// ```text
/// trustfit fit: y = a + b*exp(c*t)   (data.csv: 40 points; x: t)
///
/// parameter            value     std. error   rel. error
/// a             5.012345e-01   3.1e-03         0.62 %
/// ...
/// ```
pub fn text(spec: &FitSpec, r: &FitResult, source: &str, y_name: &str) -> String {
    let names = spec.formula.params();
    let n = names.len();
    // Column widths are capped (a name longer than the cap overflows its
    // column): `format!` refuses widths of 2^16 and more.
    let width = name_width(names, 9);
    let mut s = String::new();
    let xs = if spec.formula.columns().is_empty() {
        "none".to_string()
    } else {
        spec.formula.columns().join(", ")
    };
    let _ = writeln!(
        s,
        "trustfit fit: {y_name} = {}   ({source}: {} points; x: {xs}{})",
        spec.formula.text(),
        spec.y.len(),
        if spec.sigma.is_some() {
            if spec.absolute_sigma {
                "; absolute sigma"
            } else {
                "; relative sigma"
            }
        } else {
            ""
        }
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<width$} {:>15} {:>13} {:>12}",
        "parameter", "value", "std. error", "rel. error"
    );
    for k in 0..n {
        let relerr = rel(r.popt[k], r.stderr[k]);
        let rel_s = if relerr.is_finite() {
            format!("{:.3} %", 100.0 * relerr)
        } else {
            "n/a".into()
        };
        let se = if r.stderr[k].is_finite() {
            trustfit::py_e(r.stderr[k], 3)
        } else {
            "n/a".into()
        };
        let _ = writeln!(
            s,
            "{:<width$} {:>15} {:>13} {:>12}",
            names[k],
            num(r.popt[k]),
            se,
            rel_s
        );
    }
    if n > 1 {
        let _ = writeln!(s);
        let _ = writeln!(s, "correlation");
        let cw = name_width(names, 7);
        let mut head = format!("{:<width$}", "");
        for name in names {
            let _ = write!(head, " {name:>cw$}");
        }
        let _ = writeln!(s, "{}", head.trim_end());
        for a in 0..n {
            let mut line = format!("{:<width$}", names[a]);
            for b in 0..n {
                let v = r.correlation[a * n + b];
                let cell = if v.is_finite() {
                    // no "-0.0000" for correlations that round to zero
                    let c = format!("{v:.4}");
                    if c == "-0.0000" {
                        "0.0000".to_string()
                    } else {
                        c
                    }
                } else {
                    "n/a".into()
                };
                let _ = write!(line, " {cell:>cw$}");
            }
            let _ = writeln!(s, "{line}");
        }
    }
    let _ = writeln!(s);
    let rows: [(&str, String); 8] = [
        ("cost", num(r.cost)),
        ("chi2", num(r.chi2)),
        ("reduced chi2", num(r.reduced_chi2)),
        ("degrees of freedom", r.dof.to_string()),
        ("R^2", format!("{:.8}", r.r2)),
        ("AIC", format!("{:.4}", r.aic)),
        ("BIC", format!("{:.4}", r.bic)),
        (
            "method",
            format!(
                "{} (loss {}{}), nfev {}{}",
                r.method.as_str(),
                spec.loss.as_str(),
                if matches!(spec.loss, trustfit::Loss::Linear) {
                    String::new()
                } else {
                    format!(", f_scale {}", spec.f_scale)
                },
                r.nfev,
                r.njev.map(|j| format!(", njev {j}")).unwrap_or_default()
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "{k:<20}{v}");
    }
    let _ = writeln!(
        s,
        "{:<20}{} (status {}): {}",
        "stopped",
        if r.success {
            "converged"
        } else {
            "NOT converged"
        },
        r.status,
        one_line(&r.message)
    );
    if let Some(w) = &r.warning {
        let _ = writeln!(s, "warning: {w}");
    }
    s.trim_end().to_string()
}
