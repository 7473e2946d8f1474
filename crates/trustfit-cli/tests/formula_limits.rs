//! Regression tests for the formula defects of the reliability issue (D1, D2,
//! D3, D6, D13), run through the `trustfit fit` binary: large formulas fit or
//! are refused with exit status 2 and one line naming the limit; nothing
//! overflows the stack or panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

use trustfit_cli::formula::LIMITS;

/// A temporary folder with one CSV file.
struct Data {
    dir: tempfile::TempDir,
}

impl Data {
    fn new(csv: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.csv"), csv).unwrap();
        Self { dir }
    }

    fn csv(&self) -> PathBuf {
        self.dir.path().join("data.csv")
    }

    /// `trustfit fit data.csv --model MODEL ARGS --json`.
    fn fit(&self, model: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_trustfit"))
            .arg("fit")
            .arg(self.csv())
            .args(["--model", model])
            .args(args)
            .arg("--json")
            .output()
            .unwrap()
    }
}

/// `t,y` with y = 2t + 1 at t = 0..9.
fn line_csv() -> String {
    let mut s = String::from("t,y\n");
    for i in 0..10 {
        s += &format!("{i},{}\n", 2 * i + 1);
    }
    s
}

/// Exit status 0 and the fitted parameters of the JSON report.
fn fitted(out: &Output) -> serde_json::Value {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["parameters"].clone()
}

/// Exit status 2 and one error line containing `needle`; no output.
fn refused(out: &Output, needle: &str) {
    let mut err = String::from_utf8(out.stderr.clone()).unwrap();
    if err.len() > 2000 {
        err.truncate(2000); // for the failure message; still fails below
    }
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("trustfit: error: cannot parse formula"),
        "{err}"
    );
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    assert!(err.len() < 300, "a short message: {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn d1_a_sum_of_500_terms_fits() {
    let d = Data::new(&line_csv());
    let model = vec!["a*t"; 500].join("+") + "+b";
    let p = fitted(&d.fit(&model, &[]));
    assert!((p["a"]["value"].as_f64().unwrap() - 2.0 / 500.0).abs() < 1e-12);
    assert!((p["b"]["value"].as_f64().unwrap() - 1.0).abs() < 1e-10);
}

#[test]
fn d1_nesting_within_the_limit_fits() {
    let d = Data::new(&line_csv());
    let depth = LIMITS.max_depth - 1;
    let model = "(".repeat(depth) + "a*t" + &")".repeat(depth) + "+b";
    let p = fitted(&d.fit(&model, &[]));
    assert!((p["a"]["value"].as_f64().unwrap() - 2.0).abs() < 1e-10);
}

#[test]
fn d1_deep_nesting_is_refused_without_overflow() {
    let d = Data::new(&line_csv());
    let limit = format!("formula nests deeper than {} levels", LIMITS.max_depth);
    let calls = "exp(".repeat(150) + "a*t" + &")".repeat(150);
    refused(&d.fit(&calls, &[]), &limit);
    let parens = "(".repeat(40_000) + "a*t" + &")".repeat(40_000);
    refused(&d.fit(&parens, &[]), &limit);
    let minus = "-".repeat(90_000) + "a*t";
    refused(&d.fit(&minus, &[]), &limit);
    let powers = vec!["a"; 40_000].join("^");
    refused(&d.fit(&powers, &[]), &limit);
}

/// n columns x1..xn of pseudo-random numbers in [-1, 1] (a fixed LCG) and
/// y = Σ (1 + j/1000)·xj, for `p1*x1 + … + pn*xn`.
fn linear_csv(m: usize, n: usize) -> (String, String) {
    let mut state: u64 = 42;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut s: String = (1..=n).map(|j| format!("x{j},")).collect();
    s += "y\n";
    for _ in 0..m {
        let mut y = 0.0;
        for j in 1..=n {
            let x = next();
            y += (1.0 + j as f64 / 1000.0) * x;
            s += &format!("{x},");
        }
        s += &format!("{y}\n");
    }
    let model = (1..=n)
        .map(|j| format!("p{j}*x{j}"))
        .collect::<Vec<_>>()
        .join(" + ");
    (s, model)
}

#[test]
fn d1_d2_a_linear_formula_of_150_parameters_fits() {
    let (csv, model) = linear_csv(400, 150);
    let d = Data::new(&csv);
    let p = fitted(&d.fit(&model, &[]));
    assert_eq!(p.as_object().unwrap().len(), 150);
    for j in [1, 77, 150] {
        let v = p[format!("p{j}")]["value"].as_f64().unwrap();
        assert!((v - (1.0 + j as f64 / 1000.0)).abs() < 1e-8, "p{j} = {v}");
    }
}

/// `p1*t + … + pN*t` with one parameter more than the limit.
fn one_parameter_too_many() -> String {
    (1..=LIMITS.max_params + 1)
        .map(|j| format!("p{j}*t"))
        .collect::<Vec<_>>()
        .join("+")
}

#[test]
fn d2_limits_on_parameters_and_length_refuse_quickly() {
    let d = Data::new(&line_csv());
    let many = one_parameter_too_many();
    refused(
        &d.fit(&many, &[]),
        &format!("formula has more than {} parameters", LIMITS.max_params),
    );
    let long = "a*t+".repeat(LIMITS.max_len / 4) + "b";
    refused(
        &d.fit(&long, &[]),
        &format!("characters long; the limit is {}", LIMITS.max_len),
    );
}

#[test]
fn d2_limits_are_checked_before_the_data_are_read() {
    // Ragged rows: reading the data would fail, but the limit is reported first.
    let d = Data::new("t,y\n1,2\n3\n");
    let many = one_parameter_too_many();
    refused(
        &d.fit(&many, &[]),
        "(see the limits in `trustfit fit --help`)",
    );
    // A syntax error too: the formula says which columns to read, so it is parsed
    // with the header, before any row.
    let out = d.fit("a + * t", &[]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot parse formula"), "{err}");
    // With a valid formula, the ragged rows are the error.
    let out = d.fit("a*t", &[]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        (out.status.code(), err.lines().count()),
        (Some(2), 1),
        "{err}"
    );
    assert!(err.contains("malformed CSV"), "{err}");
}

#[test]
fn d3_a_parameter_name_of_65536_characters_is_refused() {
    let d = Data::new(&line_csv());
    let name = "a".repeat(65_536);
    refused(
        &d.fit(&format!("{name}*t"), &[]),
        &format!(
            "name at column 1 is 65536 characters long; the limit is {}",
            LIMITS.max_name_len
        ),
    );
}

#[test]
fn d3_the_longest_allowed_names_are_reported_as_text() {
    let d = Data::new(&line_csv());
    let a = "a".repeat(LIMITS.max_name_len);
    let b = "b".repeat(LIMITS.max_name_len);
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .arg("fit")
        .arg(d.csv())
        .args(["--model", &format!("{a}*t + {b}")])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("{a} ")), "{text}");
    assert!(text.contains("correlation"), "{text}");
}

#[test]
fn d6_a_column_named_like_a_constant_is_data() {
    for name in ["e", "E", "PI", "π", "TAU", "τ"] {
        let mut csv = format!("{name},y\n");
        for i in 1..8 {
            csv += &format!("{i},{}\n", 3 * i);
        }
        let d = Data::new(&csv);
        let p = fitted(&d.fit(&format!("a*{name}"), &[]));
        let a = p["a"]["value"].as_f64().unwrap();
        assert!((a - 3.0).abs() < 1e-12, "{name}: a = {a}");
    }
}

#[test]
fn d13_a_function_name_without_parenthesis_is_an_error() {
    let d = Data::new(&line_csv());
    refused(
        &d.fit("sin + a*t", &[]),
        "function `sin` at column 1 must be followed by `(`",
    );
    refused(
        &d.fit("a*t + exp", &[]),
        "function `exp` at column 7 must be followed by `(`",
    );
}

#[test]
fn fit_help_documents_the_formula_limits() {
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .args(["fit", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        format!("at most {} characters", LIMITS.max_len),
        format!("nesting depth {}", LIMITS.max_depth),
        format!("{} parameters", LIMITS.max_params),
        format!("names of {} characters", LIMITS.max_name_len),
        "is data, not the constant".to_string(),
    ] {
        assert!(flat.contains(&needle), "--help lacks {needle:?}:\n{help}");
    }
}
