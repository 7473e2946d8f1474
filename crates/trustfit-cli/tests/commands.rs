//! `trustfit fit` (text, JSON schema, plots), `trustfit demo` and `trustfit nist`
//! run as a process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::{trustfit, without_nist};

use serde_json::Value;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn decay_csv(dir: &std::path::Path) -> String {
    let mut s = String::from("t,y,label\n");
    for i in 0..30 {
        let t = i as f64 * 0.25;
        let y = 2.0 * (-0.6 * t).exp() + 0.5 + 0.01 * (7.0 * t).sin();
        s.push_str(&format!("{t},{y},p{i}\n"));
    }
    let p = dir.join("decay.csv");
    std::fs::write(&p, s).unwrap();
    p.display().to_string()
}

/// `trustfit fit decay.csv --model "a*exp(-k*t) + c" <args> --plot <plot>` in a fresh
/// folder, which must succeed: the folder (kept alive), the plot's path and the output.
fn fit_decay(args: &[&str], plot: &str) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let csv = decay_csv(dir.path());
    let plot = dir.path().join(plot);
    let mut all = vec!["fit", &csv, "--model", "a*exp(-k*t) + c"];
    all.extend_from_slice(args);
    all.extend(["--plot", plot.to_str().unwrap()]);
    let text = ok(&trustfit(&all));
    (dir, plot, text)
}

#[test]
fn fit_text_report_and_png_plot() {
    let (_dir, png, text) = fit_decay(&["--x", "t"], "fit.png");
    for needle in [
        "y = a*exp(-k*t) + c",
        "std. error",
        "rel. error",
        "correlation",
        "reduced chi2",
        "degrees of freedom  27",
        "R^2",
        "AIC",
        "BIC",
        "method              lm",
        "converged (status",
    ] {
        assert!(text.contains(needle), "{needle:?} missing in\n{text}");
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(bytes.len() > 10_000);
}

#[test]
fn fit_json_schema() {
    let (_dir, svg, text) = fit_decay(
        &[
            "--bounds",
            "0 <= k <= 10",
            "--loss",
            "soft_l1",
            "--f-scale",
            "0.1",
            "--json",
        ],
        "fit.svg",
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "model",
        "y",
        "x",
        "n_points",
        "parameter_names",
        "parameters",
        "correlation",
        "covariance",
        "cost",
        "chi2",
        "reduced_chi2",
        "dof",
        "r2",
        "method",
        "loss",
        "f_scale",
        "absolute_sigma",
        "status",
        "message",
        "success",
        "nfev",
        "njev",
        "warning",
        "aic",
        "bic",
    ] {
        assert!(keys.contains(&k), "{k} missing: {keys:?}");
    }
    // aic and bic were added after the first schema: appended, the others keep their order.
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(at("njev") < at("warning") && at("warning") < at("aic") && at("aic") < at("bic"));
    let (m, chi2) = (30.0_f64, v["chi2"].as_f64().unwrap());
    let aic = m * (chi2 / m).ln() + 2.0 * 3.0;
    assert!((v["aic"].as_f64().unwrap() - aic).abs() <= 1e-12 * aic.abs());
    let bic = m * (chi2 / m).ln() + m.ln() * 3.0;
    assert!((v["bic"].as_f64().unwrap() - bic).abs() <= 1e-12 * bic.abs());
    assert_eq!(v["model"], "a*exp(-k*t) + c");
    assert_eq!(v["method"], "trf");
    assert_eq!(v["loss"], "soft_l1");
    assert_eq!(v["dof"], 27);
    assert_eq!(v["parameter_names"], serde_json::json!(["a", "c", "k"]));
    let k = &v["parameters"]["k"];
    assert!((k["value"].as_f64().unwrap() - 0.6).abs() < 0.01, "{k}");
    let rel = k["rel_stderr"].as_f64().unwrap();
    let expected = k["stderr"].as_f64().unwrap() / k["value"].as_f64().unwrap().abs();
    assert!((rel - expected).abs() <= 1e-12 * expected, "{k}");
    let corr = v["correlation"].as_array().unwrap();
    assert_eq!(corr.len(), 3);
    assert_eq!(corr[1][1].as_f64(), Some(1.0));
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("a*exp(-k*t) + c") && svg_text.contains("fit (trf)"));
}

#[test]
fn demo_prints_table_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("demo.svg");
    let text = ok(&trustfit(&["demo", "--plot", svg.to_str().unwrap()]));
    for needle in ["true", "linear", "soft_l1", "cauchy", "plot written to"] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    for needle in [
        "data",
        "true curve",
        "linear fit",
        "soft_l1 fit",
        "cauchy fit",
        "y − fit",
    ] {
        assert!(svg_text.contains(needle), "{needle} missing in the plot");
    }
}

#[test]
fn nist_certifies_with_the_default_method() {
    if without_nist("nist_certifies_with_the_default_method") {
        return;
    }
    let out = trustfit(&["nist"]);
    let text = ok(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 54 + 1, "{text}");
    assert!(lines[0].starts_with("problem"));
    assert_eq!(
        lines[1..55].iter().filter(|l| l.ends_with("pass")).count(),
        54
    );
    let summary = lines[55];
    assert!(summary.contains("54 of 54 cases certified"), "{summary}");
    assert!(summary.ends_with("PASS"), "{summary}");
}

#[test]
fn nist_gate_fails_without_retries_at_default_tolerances() {
    if without_nist("nist_gate_fails_without_retries_at_default_tolerances") {
        return;
    }
    // scipy's defaults certify 48 of 54 with trf (README table): the gate must say so.
    let out = trustfit(&["nist", "--tol", "default", "--no-retry"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("48 of 54 cases certified"), "{text}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("below LRE 4") && err.contains("MGH17 start1"),
        "{err}"
    );
}
