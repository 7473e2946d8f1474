//! Bad input to `trustfit fit` (and the plot/data options of `demo` and `nist`):
//! one line `trustfit: error: …` on stderr naming the problem, exit status 2,
//! nothing on stdout and no plot file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
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

/// `trustfit fit NAME ARGS` on a CSV file with `text` fails as [`Case::expect_error`] checks.
fn csv_error(name: &str, text: &str, args: &[&str], needles: &[&str]) {
    let c = Case::new();
    let f = c.file(name, text);
    c.expect_error(&f, args, needles);
}

/// `trustfit fit good.csv ARGS` fails as [`Case::expect_error`] checks.
fn good_csv_error(args: &[&str], needles: &[&str]) {
    let c = Case::new();
    c.expect_error(&c.path("good.csv"), args, needles);
}

#[test]
fn missing_file() {
    let c = Case::new();
    c.expect_error(&c.path("nope.csv"), &MODEL, &["cannot open", "nope.csv"]);
}

#[test]
fn malformed_csv() {
    csv_error(
        "bad.csv",
        "t,y\n0,1\n1,2,3\n",
        &MODEL,
        &["malformed CSV", "bad.csv"],
    );
}

#[test]
fn not_a_number() {
    csv_error(
        "text.csv",
        "t,y\n0,1\n1,abc\n2,3\n",
        &MODEL,
        &["line 3", "\"y\"", "not a number"],
    );
}

#[test]
fn unknown_y_column() {
    good_csv_error(&["--model", "a*t", "--y", "z"], &["unknown column \"z\""]);
}

#[test]
fn unknown_x_column() {
    good_csv_error(
        &["--model", "a*t", "--x", "u"],
        &["--x", "unknown column \"u\""],
    );
}

#[test]
fn unknown_sigma_column() {
    good_csv_error(
        &["--model", "a*t", "--sigma", "dy"],
        &["unknown column \"dy\""],
    );
}

#[test]
fn unparsable_formula() {
    good_csv_error(&["--model", "a + * exp(c*t"], &["cannot parse formula"]);
}

#[test]
fn formula_without_parameters() {
    good_csv_error(&["--model", "2*exp(-t)"], &["no parameters"]);
}

#[test]
fn nan_row() {
    csv_error(
        "nan.csv",
        "t,y\n0,1\n1,NaN\n2,3\n",
        &MODEL,
        &["line 3", "NaN"],
    );
}

#[test]
fn empty_row() {
    csv_error(
        "empty.csv",
        "t,y\n0,1\n,\n2,3\n",
        &MODEL,
        &["line 3", "empty value"],
    );
}

#[test]
fn no_data_rows() {
    csv_error("header.csv", "t,y\n", &MODEL, &["no data rows"]);
}

#[test]
fn impossible_bounds() {
    good_csv_error(
        &["--model", "a + b*exp(c*t)", "--bounds", "5 <= b <= 1"],
        &["impossible bounds for b"],
    );
}

#[test]
fn unknown_parameter_in_bounds() {
    good_csv_error(
        &["--model", "a + b*exp(c*t)", "--bounds", "0 <= q <= 1"],
        &["--bounds", "unknown parameter \"q\""],
    );
}

#[test]
fn start_outside_bounds() {
    good_csv_error(
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
    good_csv_error(
        &["--model", "a*t", "--p0", "b=1"],
        &["--p0", "unknown parameter \"b\""],
    );
}

#[test]
fn lm_with_bounds() {
    good_csv_error(
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

/// Runs `trustfit ARGS`; expects exit 2, one error line containing `needle`, no output.
fn expect_exit_2(args: &[&OsStr], needle: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(needle) && err.lines().count() == 1, "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn demo_bad_plot_target() {
    let c = Case::new();
    let target = c.path("no/such/dir/demo.svg");
    let args = ["demo".as_ref(), "--plot".as_ref(), target.as_os_str()];
    expect_exit_2(&args, "cannot write the plot");
}

#[test]
fn nist_missing_data_dir() {
    let args = ["nist", "--data-dir", "/no/such/data"].map(OsStr::new);
    expect_exit_2(&args, "/no/such/data/nist-strd");
}
