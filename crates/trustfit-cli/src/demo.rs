//! `trustfit demo`: the seeds' robust-fitting example, needing no files.
//!
//! y = a + b·exp(c·t) with a = 0.5, b = 2, c = −1 on 15 points t ∈ [0, 10],
//! deterministic "noise" 0.1·sin(3t) and two outliers (+2 at points 3 and 8)
//! — the data of `crates/trustfit/examples/seeds.rs` — fitted from
//! (1, 1, 0) with the linear, soft_l1 and cauchy losses (f_scale 0.1),
//! through the same path as `trustfit fit` ([`crate::curvefit`]), so with
//! curve_fit's choice of method: lm for the linear loss, trf for the robust
//! ones. (trf with the linear loss from this start follows rounding noise into
//! a flat valley, as scipy's does: see `crates/trustfit/tests/seeds.rs`.) Prints the
//! parameters side by side with the true values and plots data, true curve,
//! the three fits and their residuals.

use std::io::Write;
use std::path::PathBuf;

use trustfit::Loss;

use crate::CliError;
use crate::curvefit::{FitResult, FitSpec, fit};
use crate::formula::Formula;
use crate::plot::{Figure, Mark, Series};

/// The demo's model.
pub const MODEL: &str = "a + b*exp(c*t)";

/// True parameters (a, b, c).
pub const TRUE: [f64; 3] = trustfit_problems::seeds::EXPFIT_TRUE;

/// The start (a, b, c), as in the seeds' example.
pub const P0: [f64; 3] = [1.0, 1.0, 0.0];

/// The losses compared.
pub const LOSSES: [Loss; 3] = [Loss::Linear, Loss::SoftL1, Loss::Cauchy];

/// The robust losses' scale.
pub const F_SCALE: f64 = 0.1;

/// The seeds' data: (t, y).
///
/// ```
/// let (t, y) = trustfit_cli::demo::data();
/// assert_eq!(t.len(), 15);
/// assert!((y[3] - (0.5 + 2.0 * (-t[3]).exp() + 0.1 * (3.0 * t[3]).sin() + 2.0)).abs() < 1e-15);
/// ```
pub fn data() -> (Vec<f64>, Vec<f64>) {
    trustfit_problems::seeds::expfit_data()
}

/// What the demo does.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// Plot file (.svg or .png).
    pub plot: PathBuf,
}

/// Runs the three fits.
///
/// # Errors
/// The solver's message (not expected on this data).
pub fn fits() -> Result<Vec<(Loss, FitResult)>, String> {
    let (t, y) = data();
    let formula = Formula::parse(MODEL, &["t".to_string()])?;
    let mut out = Vec::new();
    for loss in LOSSES {
        let spec = FitSpec {
            formula: formula.clone(),
            x: t.to_vec(),
            y: y.clone(),
            sigma: None,
            absolute_sigma: false,
            p0: P0.to_vec(),
            bounds: None,
            method: None,
            loss: loss.clone(),
            f_scale: if matches!(loss, Loss::Linear) {
                1.0
            } else {
                F_SCALE
            },
            verbose: 0,
        };
        out.push((loss, fit(&spec)?));
    }
    Ok(out)
}

/// The side-by-side table.
pub fn table(results: &[(Loss, FitResult)]) -> String {
    let mut s = format!(
        "trustfit demo: y = {MODEL}, 15 points with noise 0.1*sin(3t) and 2 outliers (+2 at t = 2.14, 5.71)\n\
         fitted from a = 1, b = 1, c = 0 as curve_fit does: lm for linear, trf for the robust losses (f_scale = {F_SCALE})\n\n"
    );
    s.push_str(&format!("{:<10} {:>10}", "", "true"));
    for (loss, _) in results {
        s.push_str(&format!(" {:>12}", loss.as_str()));
    }
    s.push('\n');
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        s.push_str(&format!("{name:<10} {:>10.4}", TRUE[k]));
        for (_, r) in results {
            s.push_str(&format!(" {:>12.6}", r.popt[k]));
        }
        s.push('\n');
    }
    type Cell = fn(&FitResult) -> String;
    let rows: [(&str, Cell); 5] = [
        ("cost", |r| format!("{:.6}", r.cost)),
        ("chi2", |r| format!("{:.6}", r.chi2)),
        ("nfev", |r| r.nfev.to_string()),
        ("method", |r| r.method.as_str().to_string()),
        ("status", |r| r.status.to_string()),
    ];
    for (label, f) in rows {
        s.push_str(&format!("{label:<10} {:>10}", ""));
        for (_, r) in results {
            s.push_str(&format!(" {:>12}", f(r)));
        }
        s.push('\n');
    }
    s.push_str(
        "\nThe outliers drag the least-squares (linear) fit away; soft_l1 and cauchy stay close to the true curve.",
    );
    s
}

/// The demo figure.
pub fn figure(results: &[(Loss, FitResult)]) -> Figure {
    let (t, y) = data();
    let grid: Vec<f64> = (0..300).map(|k| 10.0 * k as f64 / 299.0).collect();
    let curve = |p: &[f64]| -> Vec<(f64, f64)> {
        grid.iter()
            .map(|&t| (t, p[0] + p[1] * (p[2] * t).exp()))
            .collect()
    };
    let mut series = vec![
        Series {
            label: "data".into(),
            points: t.iter().copied().zip(y.iter().copied()).collect(),
            mark: Mark::Points,
            color: 0,
        },
        Series {
            label: "true curve".into(),
            points: curve(&TRUE),
            mark: Mark::Dashed,
            color: 0,
        },
    ];
    let mut residuals = Vec::new();
    for (k, (loss, r)) in results.iter().enumerate() {
        series.push(Series {
            label: format!("{} fit", loss.as_str()),
            points: curve(&r.popt),
            mark: Mark::Line,
            color: k + 1,
        });
        residuals.push(Series {
            label: loss.as_str().to_string(),
            points: t
                .iter()
                .zip(&y)
                .zip(&r.fitted)
                .map(|((&t, &y), &f)| (t, y - f))
                .collect(),
            mark: Mark::Points,
            color: k + 1,
        });
    }
    Figure {
        title: format!("trustfit demo: y = {MODEL}, robust losses"),
        x_label: "t".into(),
        y_label: "y".into(),
        series,
        residuals,
        residual_label: "y − fit".into(),
    }
}

/// Runs the demo: table to `out`, plot to `cfg.plot`.
///
/// # Errors
/// A bad plot file name ([`CliError::Usage`]) or a plot that cannot be written.
pub fn run(cfg: &DemoConfig, out: &mut dyn Write, _err: &mut dyn Write) -> Result<(), CliError> {
    crate::plot::Format::of(&cfg.plot).map_err(CliError::Usage)?;
    let results = fits().map_err(CliError::NotConverged)?;
    crate::plot::save(&figure(&results), &cfg.plot).map_err(CliError::Data)?;
    writeln!(out, "{}", table(&results)).map_err(CliError::Io)?;
    writeln!(out, "plot written to {}", cfg.plot.display()).map_err(CliError::Io)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn robust_fits_match_the_seeds() {
        let r = fits().unwrap();
        assert_eq!(r.len(), 3);
        // soft_l1 and cauchy as in crates/trustfit/tests/seeds.rs (scipy spec §13,
        // there with 2-point differences; here analytic derivatives).
        let soft = &r[1].1.popt;
        assert!((soft[0] - 0.5293744199).abs() < 1e-5, "{soft:?}");
        assert!((soft[2] + 0.925796048).abs() < 1e-5, "{soft:?}");
        let cauchy = &r[2].1.popt;
        assert!((cauchy[2] + 0.9671781968).abs() < 1e-5, "{cauchy:?}");
        let text = table(&r);
        assert!(text.contains("soft_l1") && text.contains("cauchy") && text.contains("true"));
    }
}
