//! `trustfit fit --group-by COL` run as a process (issue 15): each group's row
//! is the fit of a file holding only its rows, bit for bit; 10⁴ groups; bad
//! groups are rows (exit 0); bad input is exit 2 with no output file; the
//! output does not depend on `--jobs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use common::trustfit;

const MODEL: &str = "a*exp(-b*t) + c";

/// The output's columns of the model's parameters a, b, c.
const HEADER: &str =
    "group,a,a_stderr,b,b_stderr,c,c_stderr,cost,chi2_dof,status,success,nfev,message";

fn run(args: &[&str]) -> Output {
    trustfit(args)
}

/// The stdout of a run that must exit 0 and say nothing on stderr (not a terminal).
fn ok(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(err.is_empty(), "stderr: {err}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// CSV text as records: (header, rows as maps from column to cell).
fn records(text: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// y = a·exp(−b·t) + c with a small deterministic wobble, at 8 points.
fn decay_rows(label: &str, (a, b, c): (f64, f64, f64), wobble: f64) -> Vec<String> {
    (0..8)
        .map(|k| {
            let t = 0.5 * k as f64;
            let y = a * (-b * t).exp() + c + wobble * (7.0 * t + a).sin();
            let dy = 0.05 + 0.01 * k as f64;
            format!("{label},{t},{y},{dy},note {k}")
        })
        .collect()
}

/// Groups with text labels (one quoted, with a comma), interleaved rows, first
/// appearance s2, s1, "s,3", 7.
fn mixed_file(dir: &Path) -> (PathBuf, Vec<(String, Vec<String>)>) {
    let groups = [
        ("s2", (2.0, 0.5, 0.3)),
        ("s1", (1.0, 1.2, -0.2)),
        ("\"s,3\"", (1.5, 0.8, 0.1)),
        ("7", (0.7, 0.3, 1.0)),
    ];
    let per_group: Vec<(String, Vec<String>)> = groups
        .iter()
        .map(|(label, p)| (label.to_string(), decay_rows(label, *p, 0.02)))
        .collect();
    let mut lines = vec!["id,t,y,dy,note".to_string()];
    for k in 0..8 {
        for (_, rows) in &per_group {
            lines.push(rows[k].clone());
        }
    }
    let path = dir.join("mixed.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, per_group)
}

#[test]
fn group_by_equals_each_group_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (data, per_group) = mixed_file(dir.path());
    let option_sets: [&[&str]; 3] = [
        &["--sigma", "dy"],
        &[
            "--bounds",
            "0<=b<=10",
            "--loss",
            "soft_l1",
            "--f-scale",
            "0.1",
            "--p0",
            "a=2",
        ],
        &["--method", "dogbox", "--sigma", "dy", "--absolute-sigma"],
    ];
    for options in option_sets {
        let mut args = vec!["fit", path_str(&data), "--model", MODEL, "--group-by", "id"];
        args.extend_from_slice(options);
        let (header, rows) = records(&ok(&run(&args)));
        assert_eq!(header.join(","), HEADER);
        let labels: Vec<&str> = rows.iter().map(|r| r["group"].as_str()).collect();
        assert_eq!(labels, ["s2", "s1", "s,3", "7"], "{options:?}");
        for ((_, lines), row) in per_group.iter().zip(&rows) {
            let alone = dir.path().join("alone.csv");
            std::fs::write(&alone, format!("id,t,y,dy,note\n{}\n", lines.join("\n"))).unwrap();
            let mut args = vec!["fit", path_str(&alone), "--model", MODEL, "--json"];
            args.extend_from_slice(options);
            let json: serde_json::Value = serde_json::from_str(&ok(&run(&args))).unwrap();
            for p in ["a", "b", "c"] {
                let value = json["parameters"][p]["value"].as_f64().unwrap();
                let stderr = json["parameters"][p]["stderr"].as_f64().unwrap();
                assert_eq!(num(row, p).to_bits(), value.to_bits(), "{options:?} {p}");
                let se = num(row, &format!("{p}_stderr"));
                assert_eq!(se.to_bits(), stderr.to_bits(), "{options:?} {p}");
            }
            assert_eq!(
                num(row, "cost").to_bits(),
                json["cost"].as_f64().unwrap().to_bits()
            );
            let chi2_dof = json["reduced_chi2"].as_f64().unwrap();
            assert_eq!(num(row, "chi2_dof").to_bits(), chi2_dof.to_bits());
            assert_eq!(row["status"], json["status"].to_string());
            assert_eq!(row["nfev"], json["nfev"].to_string());
            assert_eq!(
                (row["success"].as_str(), row["message"].as_str()),
                ("true", "")
            );
        }
    }
}

/// Parameters of group `g` of the 10⁴-group file (a deterministic spread).
fn truth(g: usize) -> (f64, f64, f64) {
    let u = |k: usize| ((g * 7919 + k * 104_729) % 1000) as f64 / 1000.0;
    (0.5 + 1.5 * u(1), 0.3 + 1.2 * u(2), -0.5 + u(3))
}

#[test]
fn ten_thousand_groups_recover_their_parameters() {
    const GROUPS: usize = 10_000;
    const ROWS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("many.csv");
    let mut text = String::from("t,y,sample\n");
    // Rows interleaved: every group appears in the first block, in order.
    for k in 0..ROWS {
        let t = 0.6 * k as f64;
        for g in 0..GROUPS {
            let (a, b, c) = truth(g);
            text.push_str(&format!("{t},{},{}\n", a * (-b * t).exp() + c, 100_000 + g));
        }
    }
    std::fs::write(&data, text).unwrap();
    let out = dir.path().join("fits.csv");
    let start = Instant::now();
    let args = [
        "fit",
        path_str(&data),
        "--model",
        MODEL,
        "--group-by",
        "sample",
    ];
    ok(&run(&[&args[..], &["--out", path_str(&out)]].concat()));
    eprintln!("{GROUPS} groups x {ROWS} rows: {:?}", start.elapsed());
    let (header, rows) = records(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(header.join(","), HEADER);
    assert_eq!(rows.len(), GROUPS);
    for (g, row) in rows.iter().enumerate() {
        assert_eq!(row["group"], (100_000 + g).to_string());
        assert_eq!(row["success"], "true", "{row:?}");
        let (a, b, c) = truth(g);
        for (p, want) in [("a", a), ("b", b), ("c", c)] {
            assert!((num(row, p) - want).abs() < 1e-6, "group {g}: {p} {row:?}");
        }
    }
}

#[test]
fn bad_groups_are_rows_and_the_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let good = [("g1", (2.0, 0.5, 0.3)), ("g2", (1.0, 1.2, -0.2))];
    let mut lines = vec!["id,t,y,dy,note".to_string()];
    lines.extend(decay_rows(good[0].0, good[0].1, 0.0));
    lines.extend(["short,0,1,0.1,x", "short,1,2,0.1,x"].map(String::from));
    lines.extend((0..5).map(|k| format!("allnan,{k},nan,0.1,x")));
    lines.extend((0..5).map(|k| format!("constant,{k},2,0.1,x")));
    lines.extend((0..5).map(|k| format!("overflow,{},1,0.1,x", -1000 + k)));
    lines.extend((0..5).map(|k| format!("badsigma,{k},1,{},x", if k == 3 { -1 } else { 1 })));
    lines.extend((0..5).map(|k| format!("emptycell,{k},{},0.1,x", if k == 2 { "" } else { "1" })));
    lines.extend(decay_rows(good[1].0, good[1].1, 0.0));
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let args = [
        "fit",
        path_str(&data),
        "--model",
        MODEL,
        "--group-by",
        "id",
        "--sigma",
        "dy",
    ];
    let (_, rows) = records(&ok(&run(&args)));
    let by: HashMap<&str, &HashMap<String, String>> =
        rows.iter().map(|r| (r["group"].as_str(), r)).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r["group"].as_str()).collect();
    let order = [
        "g1",
        "short",
        "allnan",
        "constant",
        "overflow",
        "badsigma",
        "emptycell",
        "g2",
    ];
    assert_eq!(labels, order);
    for (label, (a, b, c)) in good {
        let row = by[label];
        assert_eq!(
            (row["success"].as_str(), row["message"].as_str()),
            ("true", "")
        );
        for (p, want) in [("a", a), ("b", b), ("c", c)] {
            assert!((num(row, p) - want).abs() < 1e-8, "{label} {p}: {row:?}");
        }
    }
    for (label, reason) in [
        ("short", "2 rows for 3 parameters: too few points"),
        (
            "allnan",
            "line 12, column \"y\": \"nan\" is not a finite number",
        ),
        ("overflow", "Residuals are not finite in the initial point"),
        (
            "badsigma",
            "sigma must be positive (row 4 of the group has -1)",
        ),
        ("emptycell", "column \"y\": empty value"),
    ] {
        let row = by[label];
        assert!(row["message"].contains(reason), "{label}: {row:?}");
        assert_eq!(
            (row["status"].as_str(), row["success"].as_str()),
            ("", "false")
        );
        for col in ["a", "a_stderr", "b", "c_stderr", "cost", "chi2_dof"] {
            assert!(num(row, col).is_nan(), "{label} {col}: {row:?}");
        }
    }
    // A constant y is fitted (c = 2); whatever the solver says, the row has its status.
    let constant = by["constant"];
    assert!(constant["status"].parse::<i32>().is_ok(), "{constant:?}");
    assert!((num(constant, "c") - 2.0).abs() < 1e-6, "{constant:?}");
}

#[test]
fn a_fit_that_does_not_converge_is_a_row_and_exit_0() {
    // exp(a)*t on y = 0 runs a toward -inf: lm stops at maxfev (status 5). Alone it exits 1.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nc.csv");
    std::fs::write(&data, "g,t,y\nA,1,0\nA,2,0\nA,3,0\nB,1,1\nB,2,2\nB,3,3\n").unwrap();
    let args = [
        "fit",
        path_str(&data),
        "--model",
        "exp(a)*t",
        "--group-by",
        "g",
    ];
    let (_, rows) = records(&ok(&run(&args)));
    assert_eq!(
        (rows[0]["status"].as_str(), rows[0]["success"].as_str()),
        ("5", "false")
    );
    assert!(rows[0]["message"].contains("maxfev"), "{:?}", rows[0]);
    assert_eq!(
        (rows[1]["status"].as_str(), rows[1]["success"].as_str()),
        ("4", "true")
    );
    assert!(num(&rows[1], "a").abs() < 1e-12);
}

/// A `bad.csv` in a fresh folder and `--out` there, the run must fail with exit 2,
/// one line naming `needle`, nothing on stdout and no output file (a previous one is kept).
fn expect_error(csv: &str, args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.csv");
    std::fs::write(&data, csv).unwrap();
    let out = dir.path().join("res.csv");
    let previous = dir.path().join("previous.csv");
    std::fs::write(&previous, "old\n").unwrap();
    for target in [&out, &previous] {
        let mut all = vec!["fit", path_str(&data)];
        all.extend_from_slice(args);
        all.extend(["--out", path_str(target)]);
        let o = run(&all);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
        assert!(err.starts_with("trustfit: "), "{err}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    assert!(!out.exists(), "{args:?}: an output file was written");
    assert_eq!(std::fs::read_to_string(&previous).unwrap(), "old\n");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["bad.csv", "previous.csv"], "{args:?}");
}

#[test]
fn malformed_input_exits_2_without_an_output_file() {
    let good = "id,t,y\nA,0,1\nA,1,2\nA,2,3\nA,3,4\n";
    let model = ["--model", MODEL];
    let by = [&model[..], &["--group-by", "id"]].concat();
    let with = |extra: &[&'static str]| [&by[..], extra].concat();
    expect_error(good, &with(&["--y", "q"]), "unknown column \"q\"");
    expect_error("id,t,y\nA,0,1\nA,1,2,3\n", &by, "malformed CSV");
    expect_error("id,t,y\n", &by, "no data rows");
    expect_error(
        good,
        &[&model[..], &["--group-by", "nope"]].concat(),
        "--group-by: unknown column \"nope\"",
    );
    expect_error(
        good,
        &["--model", "a + * t", "--group-by", "id"],
        "cannot parse formula",
    );
    expect_error(
        good,
        &with(&["--p0", "q=1"]),
        "--p0: unknown parameter \"q\"",
    );
    expect_error(good, &with(&["--bounds", "5<b<1"]), "impossible bounds");
    expect_error(
        good,
        &with(&["--plot", "p.svg"]),
        "--plot cannot be used with --group-by",
    );
    expect_error(
        good,
        &with(&["--json"]),
        "--json cannot be used with --group-by",
    );
    expect_error(
        good,
        &with(&["--verbose", "1"]),
        "--verbose cannot be used with --group-by",
    );
    expect_error(good, &with(&["--jobs", "0"]), "--jobs");
    expect_error(
        good,
        &["--model", "cost*t", "--group-by", "id"],
        "two columns named \"cost\"",
    );
    expect_error(
        good,
        &["--model", "a*t + a_stderr", "--group-by", "id"],
        "\"a_stderr\"",
    );
    expect_error(good, &[&model[..], &["--jobs", "2"]].concat(), "--group-by");
}

#[test]
fn out_errors_and_the_data_file_are_safe() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    let text = "id,t,y\nA,0,1\nA,1,2\nA,2,3\nA,3,4\n";
    std::fs::write(&data, text).unwrap();
    let base = [
        "fit",
        path_str(&data),
        "--model",
        "a + b*t",
        "--group-by",
        "id",
        "--out",
    ];
    let missing = dir.path().join("no/such/dir/r.csv");
    for (target, needle) in [(&missing, "cannot write"), (&data, "it is the data file")] {
        let o = run(&[&base[..], &[path_str(target)]].concat());
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle) && err.lines().count() == 1, "{err}");
    }
    assert_eq!(std::fs::read_to_string(&data).unwrap(), text);
    assert!(!missing.exists());
}

#[cfg(unix)]
#[test]
fn out_follows_a_link_and_writes_a_pipe_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "id,t,y\nA,0,1\nA,1,2\nB,0,1\nB,1,3\n").unwrap();
    let base = [
        "fit",
        path_str(&data),
        "--model",
        "a + b*t",
        "--group-by",
        "id",
    ];
    let expected = ok(&run(&base));
    // A symbolic link: the file it names gets the table, the link stays a link.
    let (real, link) = (dir.path().join("real.csv"), dir.path().join("link.csv"));
    std::fs::write(&real, "old\n").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    ok(&run(&[&base[..], &["--out", path_str(&link)]].concat()));
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&real).unwrap(), expected);
    // A named pipe (like /dev/stdout) is written in place, not replaced by a file.
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping the pipe: mkfifo is not available");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    ok(&run(&[&base[..], &["--out", path_str(&fifo)]].concat()));
    assert!(fifo.metadata().unwrap().file_type().is_fifo());
    assert_eq!(reader.join().unwrap(), expected);
}

#[test]
fn jobs_do_not_change_the_output() {
    const GROUPS: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("j.csv");
    let mut text = String::from("id,t,y,dy,note\n");
    for g in 0..GROUPS {
        let label = format!("grp{}", (g * 37) % GROUPS);
        match g % 50 {
            7 => text.push_str(&format!("{label},0,1,0.1,x\n")), // too short
            8 => (0..4).for_each(|k| text.push_str(&format!("{label},{k},inf,0.1,x\n"))),
            _ => decay_rows(&label, truth(g), 0.01)
                .iter()
                .for_each(|r| text.push_str(&format!("{r}\n"))),
        }
    }
    std::fs::write(&data, text).unwrap();
    let base = [
        "fit",
        path_str(&data),
        "--model",
        MODEL,
        "--group-by",
        "id",
        "--sigma",
        "dy",
    ];
    let one = ok(&run(&[&base[..], &["--jobs", "1"]].concat()));
    let two = ok(&run(&[&base[..], &["--jobs", "2"]].concat()));
    let all = ok(&run(&base));
    assert_eq!(one, two);
    assert_eq!(one, all);
    let file = dir.path().join("r.csv");
    ok(&run(&[
        &base[..],
        &["--jobs", "2", "--out", path_str(&file)],
    ]
    .concat()));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), one);
    let (_, rows) = records(&one);
    assert_eq!(rows.len(), GROUPS);
    assert_eq!(rows.iter().filter(|r| r["status"].is_empty()).count(), 12);
}
