//! Bad input to `trustfit fit` (and the plot/data options of `demo` and `nist`):
//! one line `trustfit: error: …` on stderr naming the problem, exit status 2,
//! nothing on stdout and no plot file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.csv"),
            "t,y\n0,3.0\n1,1.9\n2,1.3\n3,1.0\n4,0.8\n5,0.7\n",
        )
        .unwrap();
        Self { dir }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `trustfit fit CSV ARGS --plot DIR/out.svg`, expects exit 2 with one
    /// error line containing every `needle`, and no output at all.
    fn expect_error(&self, csv: &Path, args: &[&str], needles: &[&str]) {
        let plot = self.path("out.svg");
        let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
            .arg("fit")
            .arg(csv)
            .args(args)
            .arg("--plot")
            .arg(&plot)
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("trustfit: error: "), "{err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {err:?} lacks {n:?}");
        }
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!plot.exists(), "{args:?}: a plot was written");
        let leftovers: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".trustfit"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

const MODEL: [&str; 2] = ["--model", "a + b*exp(c*t)"];

#[test]
fn missing_file() {
    let c = Case::new();
    c.expect_error(&c.path("nope.csv"), &MODEL, &["cannot open", "nope.csv"]);
}

#[test]
fn malformed_csv() {
    let c = Case::new();
    let f = c.file("bad.csv", "t,y\n0,1\n1,2,3\n");
    c.expect_error(&f, &MODEL, &["malformed CSV", "bad.csv"]);
}

#[test]
fn not_a_number() {
    let c = Case::new();
    let f = c.file("text.csv", "t,y\n0,1\n1,abc\n2,3\n");
    c.expect_error(&f, &MODEL, &["line 3", "\"y\"", "not a number"]);
}

#[test]
fn unknown_y_column() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a*t", "--y", "z"],
        &["unknown column \"z\""],
    );
}

#[test]
fn unknown_x_column() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a*t", "--x", "u"],
        &["--x", "unknown column \"u\""],
    );
}

#[test]
fn unknown_sigma_column() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a*t", "--sigma", "dy"],
        &["unknown column \"dy\""],
    );
}

#[test]
fn unparsable_formula() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a + * exp(c*t"],
        &["cannot parse formula"],
    );
}

#[test]
fn formula_without_parameters() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "2*exp(-t)"],
        &["no parameters"],
    );
}

#[test]
fn nan_row() {
    let c = Case::new();
    let f = c.file("nan.csv", "t,y\n0,1\n1,NaN\n2,3\n");
    c.expect_error(&f, &MODEL, &["line 3", "NaN"]);
}

#[test]
fn empty_row() {
    let c = Case::new();
    let f = c.file("empty.csv", "t,y\n0,1\n,\n2,3\n");
    c.expect_error(&f, &MODEL, &["line 3", "empty value"]);
}

#[test]
fn no_data_rows() {
    let c = Case::new();
    let f = c.file("header.csv", "t,y\n");
    c.expect_error(&f, &MODEL, &["no data rows"]);
}

#[test]
fn impossible_bounds() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a + b*exp(c*t)", "--bounds", "5 <= b <= 1"],
        &["impossible bounds for b"],
    );
}

#[test]
fn unknown_parameter_in_bounds() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a + b*exp(c*t)", "--bounds", "0 <= q <= 1"],
        &["--bounds", "unknown parameter \"q\""],
    );
}

#[test]
fn start_outside_bounds() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &[
            "--model",
            "a + b*exp(c*t)",
            "--bounds",
            "c < 0",
            "--p0",
            "c=0.5",
        ],
        &["start value of c", "outside its bounds"],
    );
}

#[test]
fn unknown_parameter_in_p0() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a*t", "--p0", "b=1"],
        &["--p0", "unknown parameter \"b\""],
    );
}

#[test]
fn lm_with_bounds() {
    let c = Case::new();
    c.expect_error(
        &c.path("good.csv"),
        &["--model", "a*t", "--bounds", "a>0", "--method", "lm"],
        &["'lm'", "bounds"],
    );
}

#[test]
fn bad_plot_extension() {
    let c = Case::new();
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .arg("fit")
        .arg(c.path("good.csv"))
        .args(["--model", "a*t", "--plot"])
        .arg(c.path("fit.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(".svg or .png") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!c.path("fit.pdf").exists() && out.stdout.is_empty());
}

#[test]
fn demo_bad_plot_target() {
    let c = Case::new();
    let target = c.path("no/such/dir/demo.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .args(["demo", "--plot"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot write the plot") && err.lines().count() == 1,
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn nist_missing_data_dir() {
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .args(["nist", "--data-dir", "/no/such/data"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("/no/such/data/nist-strd") && err.lines().count() == 1,
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
