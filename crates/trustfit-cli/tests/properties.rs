//! Property-based tests (proptest) of what `trustfit fit` reads from the user: the CSV
//! reader and the `--bounds` / `--p0` grammars. Random input never panics; valid input
//! parses to what was generated.
//!
//! Each target runs `CASES` cases (≥ 10⁴, a few seconds); `PROPTEST_CASES=1000000`
//! overrides it for the long run (README, "Testing").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use trustfit_cli::csvdata::CsvFile;
use trustfit_cli::fit_cmd::{parse_bounds, parse_p0};

/// Cases per target in CI (issue 14 asks for at least 10⁴).
const CASES: u32 = 10_000;

/// `CASES`, unless `PROPTEST_CASES` is set.
fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = CASES;
    }
    c
}

/// Bytes that make CSV structure likely: separators, quotes, comments, numbers,
/// names, white space and bytes that are not UTF-8.
fn csvish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b",,,\n\n\r\"# \t0123456789.eE+-nNaiIfty_xz".to_vec();
    let byte = prop_oneof![
        8 => proptest::sample::select(alphabet),
        1 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..400)
}

/// Bytes of an unused cell: anything but separators, quotes, `#` and white space
/// (not UTF-8 either). A fixed set to pick from: a filter would reject too often.
fn junk_bytes() -> Vec<u8> {
    (0..=255u8)
        .filter(|b| !b",\n\r\"#".contains(b) && !b.is_ascii_whitespace())
        .collect()
}

/// Any finite double, including subnormals, zeros and the extremes.
fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
        proptest::sample::select(vec![0.0, -0.0, f64::MAX, -f64::MAX, 5e-324, 1e-310]),
        -1e6..1e6f64,
    ]
}

/// A number as a user may write it: shortest round-trip or exponent form.
fn written(v: f64, exp: bool) -> String {
    if exp {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Padding around a cell or a token (trimmed by the readers).
fn pad() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["", "", " ", "  ", "\t"])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_random_bytes_never_panic(bytes in csvish_bytes(), pick in 0usize..4) {
        if let Ok(csv) = CsvFile::from_reader(&bytes[..], "random.csv") {
            let names = csv.names().to_vec();
            let used: Vec<String> = names.iter().take(pick).cloned().collect();
            if let Ok(t) = csv.read_columns(&used) {
                prop_assert!(!t.is_empty());
                for name in &used {
                    prop_assert!(t.column(name).unwrap().iter().all(|v| v.is_finite()));
                }
            }
        }
    }

    #[test]
    fn csv_tables_round_trip_their_numbers(
        names in proptest::collection::hash_set("[a-z][a-z0-9_]{0,5}", 1..5),
        rows in proptest::collection::vec(
            proptest::collection::vec((finite(), any::<bool>(), pad()), 5), 1..12),
        junk in proptest::collection::vec(
            proptest::collection::vec(proptest::sample::select(junk_bytes()), 0..6), 12),
        comment in any::<bool>(),
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let k = names.len();
        // A last column of arbitrary bytes (not UTF-8 either), never read.
        let mut text = Vec::new();
        if comment {
            text.extend_from_slice(b"# a comment, with a comma\n");
        }
        text.extend_from_slice(names.join(",").as_bytes());
        text.extend_from_slice(b",junk__\n");
        for (row, junk) in rows.iter().zip(&junk) {
            for (v, exp, pad) in &row[..k] {
                text.extend_from_slice(format!("{pad}{}{pad},", written(*v, *exp)).as_bytes());
            }
            text.extend_from_slice(junk);
            text.push(b'\n');
        }
        let csv = CsvFile::from_reader(&text[..], "t.csv").unwrap();
        prop_assert_eq!(csv.names().len(), k + 1);
        let t = csv.read_columns(&names).unwrap();
        prop_assert_eq!(t.len(), rows.len());
        for (j, name) in names.iter().enumerate() {
            let col = t.column(name).unwrap();
            for (i, row) in rows.iter().enumerate() {
                prop_assert_eq!(col[i].to_bits(), row[j].0.to_bits(), "{} row {}", name, i);
            }
        }
    }

    #[test]
    fn bounds_and_p0_random_strings_never_panic(text in "[ab<>=,.eE+\\-0-9inf nq]{0,40}") {
        let params = ["a".to_string(), "b".to_string()];
        if let Ok(Some((lb, ub))) = parse_bounds(&text, &params) {
            prop_assert!(lb.iter().zip(&ub).all(|(l, u)| l < u));
        }
        if let Ok(p0) = parse_p0(&text, &params) {
            prop_assert!(p0.iter().flatten().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn bounds_specs_parse_to_what_was_generated(
        spec in proptest::collection::vec(
            (proptest::option::of(finite()), proptest::option::of(finite()),
             0usize..6, any::<bool>(), pad()),
            3),
    ) {
        let params: Vec<String> = ["a", "b2", "c_c"].map(String::from).to_vec();
        let mut items = Vec::new();
        let mut expect_lb = vec![f64::NEG_INFINITY; 3];
        let mut expect_ub = vec![f64::INFINITY; 3];
        for (k, (lo, hi, form, exp, pad)) in spec.iter().enumerate() {
            let p = &params[k];
            let (mut lo, mut hi) = (*lo, *hi);
            if let (Some(l), Some(h)) = (lo, hi)
                && l >= h
            {
                hi = None; // keep the spec possible
                lo = Some(l);
            }
            let w = |v: f64| written(v, *exp);
            let op = if form % 2 == 0 { "<" } else { "<=" };
            let gop = if form % 2 == 0 { ">" } else { ">=" };
            match (lo, hi) {
                (Some(l), Some(h)) => match form {
                    0 | 1 => items.push(format!("{}{pad}{op}{pad}{p}{pad}{op}{pad}{}", w(l), w(h))),
                    2 | 3 => items.push(format!("{}{pad}{gop}{pad}{p}{gop}{}", w(h), w(l))),
                    _ => {
                        items.push(format!("{p}{pad}{gop}{}", w(l)));
                        items.push(format!("{pad}{p}{op}{pad}{}{pad}", w(h)));
                    }
                },
                (Some(l), None) => items.push(if *form < 3 {
                    format!("{}{pad}{op}{p}", w(l))
                } else {
                    format!("{p}{pad}{gop}{pad}{}", w(l))
                }),
                (None, Some(h)) => items.push(if *form < 3 {
                    format!("{p}{op}{pad}{}", w(h))
                } else {
                    format!("{}{gop}{pad}{p}", w(h))
                }),
                (None, None) => {}
            }
            if let Some(l) = lo {
                expect_lb[k] = l;
            }
            if let Some(h) = hi {
                expect_ub[k] = h;
            }
        }
        let text = items.join(", ");
        let parsed = parse_bounds(&text, &params).unwrap();
        if expect_lb.iter().all(|v| v.is_infinite()) && expect_ub.iter().all(|v| v.is_infinite()) {
            prop_assert!(parsed.is_none(), "{}", text);
        } else {
            let (lb, ub) = parsed.unwrap();
            prop_assert_eq!(lb, expect_lb, "{}", text);
            prop_assert_eq!(ub, expect_ub, "{}", text);
        }
    }

    #[test]
    fn p0_specs_parse_to_what_was_generated(
        values in proptest::collection::vec((proptest::option::of(finite()), any::<bool>(), pad()), 3),
        order in Just(vec![0usize, 1, 2]).prop_shuffle(),
    ) {
        let params: Vec<String> = ["a", "b2", "c_c"].map(String::from).to_vec();
        let text = order
            .iter()
            .filter_map(|&k| {
                let (v, exp, pad) = &values[k];
                v.map(|v| format!("{pad}{}{pad}={pad}{}", params[k], written(v, *exp)))
            })
            .collect::<Vec<_>>()
            .join(",");
        let parsed = parse_p0(&text, &params).unwrap();
        let expected: Vec<Option<f64>> = values.iter().map(|(v, _, _)| *v).collect();
        prop_assert_eq!(parsed, expected, "{}", text);
    }
}
