//! Bad input to `trustfit fit` (and the plot/data options of `demo` and `nist`):
//! one line `trustfit: error: …` on stderr naming the problem, exit status 2,
//! nothing on stdout and no plot file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

    /// `trustfit fit good.csv <args>`.
    fn fit_good(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_trustfit"))
            .arg("fit")
            .arg(self.path("good.csv"))
            .args(args)
            .output()
            .unwrap()
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

/// Impossible bounds, an unknown parameter, and (issue 14, D12: `gh14`) a bound given twice.
#[test]
fn bad_bounds() {
    for (model, bounds, needles) in [
        (
            "a + b*exp(c*t)",
            "5 <= b <= 1",
            &["impossible bounds for b"][..],
        ),
        (
            "a + b*exp(c*t)",
            "0 <= q <= 1",
            &["--bounds", "unknown parameter \"q\""],
        ),
        (
            "a*t",
            "0<a<10, a>-5",
            &["--bounds", "lower bound of a is given twice"],
        ),
    ] {
        good_csv_error(&["--model", model, "--bounds", bounds], needles);
    }
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
    let pdf = c.path("fit.pdf");
    let out = c.fit_good(&["--model", "a*t", "--plot", pdf.to_str().unwrap()]);
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

// Issue 14 (reliability campaign): each failed at 0efcda2.

/// Runs `trustfit fit CSV ARGS` in `c`'s folder; kills it after `limit`.
fn fit_within(c: &Case, csv: &Path, args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .arg("fit")
        .arg(csv)
        .args(args)
        .current_dir(c.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("{args:?}: still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn gh14_plot_of_data_wider_than_f64_ends_and_leaves_no_temp_file() {
    // Generous: the plot takes milliseconds; the bug was an endless loop.
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
    let c = Case::new();
    let csv = c.file(
        "wide.csv",
        "t,y\n-9e307,1\n9e307,2\n-9e307,1.1\n9e307,2.1\n",
    );
    let out = fit_within(
        &c,
        &csv,
        &["--model", "a", "--x", "t", "--plot", "fit.svg"],
        LIMIT,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(c.path("fit.svg").exists());
    let names: Vec<_> = std::fs::read_dir(c.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".trustfit")),
        "{names:?}"
    );
}

#[test]
fn gh14_non_finite_start_is_refused_by_every_method() {
    let c = Case::new();
    let pole = c.file("pole.csv", "t,y\n0,1\n1,2\n2,3\n3,4\n");
    let sigma = c.file("sigma.csv", "t,y,s\n0,1,1e-320\n1,2,1\n2,3,1\n3,4,1\n");
    let huge = c.file("huge.csv", "t,y\n0,1e308\n1,-1e308\n2,1e308\n3,-1e308\n");
    for method in ["lm", "trf", "dogbox"] {
        let m = ["--method", method];
        c.expect_error(
            &pole,
            &[&["--model", "a/(t-1)"], &m[..]].concat(),
            &["not finite", "data row 2"],
        );
        c.expect_error(
            &pole,
            &[&["--model", "sqrt(a*t-3)"], &m[..]].concat(),
            &["not finite in the initial point"],
        );
        c.expect_error(
            &sigma,
            &[&["--model", "a*t", "--sigma", "s"], &m[..]].concat(),
            &["not finite", "data row 1"],
        );
        c.expect_error(
            &huge,
            &[&["--model", "a*t"], &m[..]].concat(),
            &["cost at the initial point overflows"],
        );
    }
    // The default (lm) too.
    c.expect_error(
        &pole,
        &["--model", "a/(t-1)"],
        &["not finite in the initial point"],
    );
}

#[test]
fn gh14_values_starting_with_a_hyphen() {
    let c = Case::new();
    let out = c.fit_good(&["--model", "-t^2 + a", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("\"model\":\"-t^2 + a\"")
    );
    good_csv_error(
        &["--model", "a*t", "--f-scale", "-1"],
        &["--f-scale must be a positive number, got -1"],
    );
}

#[test]
fn gh14_invalid_utf8_in_an_unused_column() {
    let c = Case::new();
    let csv = c.path("label.csv");
    std::fs::write(&csv, b"t,y,label\n0,1,ok\n1,3.1,\xff\xfe\n2,5,x\n3,7.1,y\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .arg("fit")
        .arg(&csv)
        .args(["--model", "a + b*t"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // In a used column it is a bad cell.
    std::fs::write(&csv, b"t,y\n0,1\n1,\xff\n2,5\n").unwrap();
    c.expect_error(
        &csv,
        &["--model", "a + b*t"],
        &["line 3, column \"y\"", "UTF-8"],
    );
}

#[test]
fn gh14_malformed_nist_file_exits_2() {
    let Ok(src) = trustfit_problems::data::nist_dir(&trustfit_problems::data::default_data_dir())
    else {
        eprintln!("skipping gh14_malformed_nist_file_exits_2: no NIST data");
        return;
    };
    for bad in ["nan", "inf", "1e400"] {
        let c = Case::new();
        let dir = c.path("data/nist-strd");
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "dat") {
                std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
            }
        }
        let misra = dir.join("Misra1a.dat");
        let text = std::fs::read_to_string(&misra)
            .unwrap()
            .replacen("10.07E0", bad, 1);
        std::fs::write(&misra, text).unwrap();
        let data = c.path("data");
        for cmd in [
            &["nist"][..],
            &["bench", "--suite", "nist", "--repeat", "1"],
        ] {
            let mut args: Vec<&OsStr> = cmd.iter().map(OsStr::new).collect();
            args.extend([OsStr::new("--data-dir"), data.as_os_str()]);
            expect_exit_2(&args, "not a finite number");
        }
    }
}

#[test]
fn gh14_malformed_bal_file_exits_2() {
    let bal_text = "1 1 1\n0 0 0.1 -0.2\n0 0 0 0 0 -5 1 0 0\n0 0 0\n";
    for (text, needle) in [
        (
            "1000000000 1000000000 1000000000000\n0 0 1 2\n",
            "more numbers than a file",
        ),
        (
            &bal_text.replacen("0 0 0.1", "-1 0 0.1", 1)[..],
            "camera index \"-1\"",
        ),
        (
            &bal_text.replacen("0 0 0.1", "nan 0 0.1", 1)[..],
            "camera index \"nan\"",
        ),
        (&bal_text[..bal_text.len() - 4], "ends in the parameters"),
    ] {
        let c = Case::new();
        std::fs::create_dir_all(c.path("data/bal")).unwrap();
        c.file("data/bal/problem-1-1-pre.txt", text);
        let data = c.path("data");
        let args = ["bench", "--suite", "ba", "--repeat", "1", "--data-dir"].map(OsStr::new);
        let mut args = args.to_vec();
        args.push(data.as_os_str());
        expect_exit_2(&args, needle);
    }
}
