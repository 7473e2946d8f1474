//! Runs the built `trustfit` binary: `bench` on MINPACK Rosenbrock and NIST Misra1a, and bad arguments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Output;

use common::{trustfit, without_nist};

use serde_json::Value;

/// The JSON rows of a run that must succeed.
fn json_lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The JSON rows of `trustfit bench --suite <suite> --repeat 1 <args>`, which must succeed.
fn bench_once(suite: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["bench", "--suite", suite, "--repeat", "1"];
    all.extend_from_slice(args);
    json_lines(&trustfit(&all))
}

#[test]
fn minpack_rosenbrock_trf() {
    let rows = bench_once("minpack", &["--method", "trf", "--problem", "rosenbrock"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (row, start) in rows.iter().zip(["x0", "10x0", "100x0"]) {
        assert_eq!(row["suite"], "minpack");
        assert_eq!(row["problem"], "rosenbrock_n2_m2");
        assert_eq!(row["start"], start);
        assert_eq!(row["solver"], "trustfit");
        assert_eq!(row["method"], "trf");
        let status = row["status"].as_i64().expect("status");
        assert!(row["repeats"].as_u64().expect("repeats") >= 1);
        assert!(row["time_s"].as_f64().expect("time_s") > 0.0);
        assert!(row["nfev"].as_u64().expect("nfev") >= 1);
        if start == "100x0" {
            // scipy 1.17 (trf, analytic J) also runs out of evaluations here:
            // status 0 after nfev = 200 at cost 1.733e7.
            assert!((0..=4).contains(&status), "{row}");
        } else {
            assert!(status > 0, "{row}");
            assert_eq!(row["success"], true);
            assert!(row["cost"].as_f64().expect("cost") < 1e-10, "{row}");
            assert_eq!(row["class"], "global");
        }
    }
}

#[test]
fn nist_misra1a_both_starts() {
    if without_nist("nist_misra1a_both_starts") {
        return;
    }
    let rows = bench_once("nist", &["--problem", "Misra1a"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, start) in rows.iter().zip(["start1", "start2"]) {
        assert_eq!(row["problem"], "Misra1a");
        assert_eq!(row["start"], start);
        let lre = row["lre_params"].as_f64().expect("lre_params");
        assert!(lre >= 4.0, "{row}");
        assert_eq!(row["lre_min_param"].as_f64(), Some(lre));
    }
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &["bench", "--suite", "nope"][..],
        &["bench", "--suite", "minpack", "--method", "newton"],
        &["bench", "--suite", "minpack", "--repeat", "zero"],
        &["bench"],
        &[
            "bench",
            "--suite",
            "ba",
            "--data-dir",
            "/nonexistent-trustfit-data",
        ],
        &[
            "bench",
            "--suite",
            "minpack",
            "--problem",
            "no-such-problem",
        ],
        &[],
    ] {
        let out = trustfit(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.contains("error"), "{args:?}: {err:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn missing_data_dir_exits_2_naming_the_path() {
    let out = trustfit(&["bench", "--suite", "nist", "--data-dir", "/no/such/data"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/no/such/data/nist-strd"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
}

#[test]
fn help_exits_0() {
    let out = trustfit(&["bench", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("--suite") && text.contains("--summary"),
        "{text}"
    );
}

#[test]
fn sparse_suite_solves_broyden_with_column_groups() {
    let rows = bench_once(
        "sparse",
        &[
            "--jac",
            "2-point",
            "--problem",
            "broyden_tridiagonal_n10000",
        ],
    );
    assert_eq!(rows.len(), 1, "an exact label selects one size: {rows:?}");
    let row = &rows[0];
    // scipy 1.17.1 (tools/scipy_sparse_suite.py): nfev 5, status 1, 5 column groups.
    assert_eq!(row["nfev"], 5, "{row}");
    assert_eq!(row["status"], 1, "{row}");
    assert_eq!(row["tr_solver"], "lsmr");
    assert_eq!(row["jac_groups"], 5);
    assert!(row["cost"].as_f64().unwrap() < 1e-20, "{row}");
}

#[test]
fn sparse_suite_differentiates_broyden_automatically_like_the_analytic_jacobian() {
    let args = |jac| {
        [
            "--jac",
            jac,
            "--tr-solver",
            "cholesky",
            "--problem",
            "broyden_tridiagonal_n10000",
        ]
    };
    let auto = bench_once("sparse", &args("auto"));
    let exact = bench_once("sparse", &args("analytic"));
    assert_eq!((auto.len(), exact.len()), (1, 1));
    let (a, e) = (&auto[0], &exact[0]);
    assert!(a.get("error").is_none(), "{a}");
    assert_eq!(a["jac"], "auto");
    // Forward-mode J equals the hand-written one to rounding: the same iterates.
    for key in ["nfev", "njev", "status", "cost"] {
        assert_eq!(a[key], e[key], "{key}: {a} vs {e}");
    }
}

/// True (with the reason printed) when the batch workload is not installed.
fn without_batch(test: &str) -> bool {
    let path =
        trustfit_problems::gauss2d::Workload::path_in(&trustfit_problems::data::default_data_dir());
    if path.is_file() {
        return false;
    }
    eprintln!("skipping {test}: {} not found", path.display());
    true
}

#[test]
fn batch_suite_fits_like_cpufit_and_the_same_on_any_thread_count() {
    if without_batch("batch_suite_fits_like_cpufit_and_the_same_on_any_thread_count") {
        return;
    }
    let one = bench_once("batch", &["--n", "2000", "--threads", "1"]);
    let two = bench_once("batch", &["--n", "2000", "--threads", "2"]);
    assert_eq!((one.len(), two.len()), (1, 1));
    let (a, b) = (&one[0], &two[0]);
    for r in [a, b] {
        assert_eq!(
            (r["suite"].as_str(), r["method"].as_str()),
            (Some("batch"), Some("lm"))
        );
        assert_eq!(r["n_fits"], 2000);
        // Cpufit on the same 2000 fits: every fit converges, median |x0 error| 0.019015 px
        // (bench-peers/RESULTS-2026-12-04-batch.md); float64 MINPACK reaches the same minima.
        assert_eq!(r["converged"], 2000);
        let err = r["median_abs_err_x0"].as_f64().unwrap();
        assert!((err - 0.019015).abs() < 5e-4, "{err}");
        let it = r["mean_iterations"].as_f64().unwrap();
        assert!(it > 2.0 && it <= 10.0, "{it}");
    }
    assert_eq!(a["threads"], 1);
    assert_eq!(b["threads"], 2);
    assert_eq!(
        a["x_digest"], b["x_digest"],
        "results depend on the thread count"
    );
}

#[test]
fn batch_suite_refuses_leastsq_and_a_missing_file() {
    let out = trustfit(&["bench", "--suite", "batch", "--method", "leastsq"]);
    assert_eq!(out.status.code(), Some(2));
    let out = trustfit(&["bench", "--suite", "batch", "--data-dir", "/no/such/data"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("/no/such/data/batch/gauss2d_5x5_100k.bin"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err:?}");
}

#[test]
fn ba_suite_runs_sparse_lm_by_default_with_the_same_result_on_any_thread_count() {
    let dir = std::env::temp_dir().join(format!("trustfit-ba-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("bal")).unwrap();
    let text = trustfit_problems::ba::synthetic_scene(3, 40);
    std::fs::write(dir.join("bal/problem-3-40-pre.txt"), text).unwrap();
    let data = dir.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "bench",
            "--suite",
            "ba",
            "--repeat",
            "1",
            "--data-dir",
            data,
        ];
        args.extend_from_slice(extra);
        let out = trustfit(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_lines(&out).remove(0)
    };
    let (one, two) = (run(&["--threads", "1"]), run(&["--threads", "2"]));
    let trf = run(&["--method", "trf", "--tr-solver", "schur", "--threads", "1"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(one["method"], "sparse_lm");
    assert_eq!(one["tr_solver"], "schur");
    assert_eq!(
        (one["threads"].as_u64(), two["threads"].as_u64()),
        (Some(1), Some(2))
    );
    for key in ["cost", "nfev", "njev", "iterations", "optimality"] {
        assert_eq!(one[key], two[key], "{key}");
    }
    assert_eq!(trf["method"], "trf");
    // Exact observations: both methods go from the perturbed start to near zero
    // (where the default gtol = 1e-8 stops them).
    let cost0 = one["cost0"].as_f64().unwrap();
    for row in [&one, &trf] {
        assert_eq!(row["success"], true, "{row}");
        assert!(row["cost"].as_f64().unwrap() < 1e-9 * cost0, "{row}");
    }
}
