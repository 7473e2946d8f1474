//! `trustfit fit --json` against scipy 1.17's curve_fit (with the same analytic
//! Jacobian) on the CSV files of `tests/fixtures/`, written by
//! `tools/gen_cli_fixtures.py`: parameters within rtol 1e-6, standard errors
//! within rtol 1e-4, compared by parameter name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// Acceptance tolerance on the parameters (issue 6).
const POPT_RTOL: f64 = 1e-6;
/// Acceptance tolerance on the standard errors (issue 6).
const PERR_RTOL: f64 = 1e-4;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn fit_json_matches_scipy_curve_fit() {
    let dir = fixtures();
    let text = std::fs::read_to_string(dir.join("curve_fit_cases.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= 8, "{} cases", cases.len());
    let (mut worst_p, mut worst_e) = (0.0f64, 0.0f64);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut args: Vec<String> = vec!["fit".into()];
        args.push(
            dir.join(case["csv"].as_str().unwrap())
                .display()
                .to_string(),
        );
        args.extend(
            case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string()),
        );
        args.push("--json".into());
        let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.trim().lines().count(), 1, "{name}: one JSON object");
        let got: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(got["method"], case["method"], "{name}");
        assert_eq!(got["success"], true, "{name}");
        let params = got["parameters"].as_object().unwrap();
        let popt = case["popt"].as_object().unwrap();
        let perr = case["perr"].as_object().unwrap();
        assert_eq!(params.len(), popt.len(), "{name}: {params:?}");
        for (p, want) in popt {
            let value = params[p]["value"].as_f64().unwrap();
            let stderr = params[p]["stderr"].as_f64().unwrap();
            let want = want.as_f64().unwrap();
            let want_e = perr[p].as_f64().unwrap();
            let (dp, de) = (rel(value, want), rel(stderr, want_e));
            assert!(
                dp <= POPT_RTOL,
                "{name}: {p} = {value} vs scipy {want} (rel {dp:.1e})"
            );
            assert!(
                de <= PERR_RTOL,
                "{name}: stderr({p}) = {stderr} vs scipy {want_e} (rel {de:.1e})"
            );
            worst_p = worst_p.max(dp);
            worst_e = worst_e.max(de);
        }
    }
    eprintln!(
        "{} cases: max rel. diff popt {worst_p:.2e}, perr {worst_e:.2e}",
        cases.len()
    );
}
