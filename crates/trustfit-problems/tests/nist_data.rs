//! NIST StRD checks against the original data files in the shared data
//! folder. Every test skips (with a message on stderr) when the folder is
//! absent, so the crate's tests pass on a checkout without the data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trustfit_problems::check::jacobian_error;
use trustfit_problems::nist::{self, Difficulty, NistProblem};
use trustfit_problems::{TestProblem, data};

/// The 27 problems, or `None` (after saying why) when the data are not installed.
fn problems_or_skip() -> Option<Vec<NistProblem>> {
    match data::nist_dir(&data::default_data_dir()) {
        Ok(dir) => Some(nist::load_all(&dir).unwrap()),
        Err(e) => {
            eprintln!("skipping NIST data test: {e}");
            None
        }
    }
}

/// Certified values and the RSS are printed with 11 significant digits.
/// Evaluating the RSS at the rounded 11-digit parameters in double
/// precision moves it by about 1e-11 relative (times the conditioning of
/// the problem), so 9 correct digits is what the printed digits allow with
/// margin; it is also the bar `problems_nist.py` sets. (The brief's 1e-6
/// relative would be LRE 6; every dataset but Lanczos1 reaches >= 9.9.)
const CERT_RSS_MIN_LRE: f64 = 9.0;

/// Lanczos1 is the documented exception (`problems_nist.py`, data README):
/// its certified RSS, 1.43e-25, is below what the 11-digit certified
/// parameters give in double precision (~4e-21, rounding of the data and
/// of the parameters). We only require that RSS to be at that noise level.
const LANCZOS1_RSS_BOUND: f64 = 1e-19;

/// See `minpack`'s tests: a wrong formula gives errors of order 1, correct
/// ones stay below 2e-7 here (Eckerle4's narrow Gaussian is the worst).
const JAC_TOL: f64 = 1e-6;

/// (name, parameters, observations, difficulty) as in the file headers and the data README.
const TABLE: [(&str, usize, usize, Difficulty); 27] = {
    use Difficulty::*;
    [
        ("Misra1a", 2, 14, Lower),
        ("Chwirut2", 3, 54, Lower),
        ("Chwirut1", 3, 214, Lower),
        ("Lanczos3", 6, 24, Lower),
        ("Gauss1", 8, 250, Lower),
        ("Gauss2", 8, 250, Lower),
        ("DanWood", 2, 6, Lower),
        ("Misra1b", 2, 14, Lower),
        ("Kirby2", 5, 151, Average),
        ("Hahn1", 7, 236, Average),
        ("Nelson", 3, 128, Average),
        ("MGH17", 5, 33, Average),
        ("Lanczos1", 6, 24, Average),
        ("Lanczos2", 6, 24, Average),
        ("Gauss3", 8, 250, Average),
        ("Misra1c", 2, 14, Average),
        ("Misra1d", 2, 14, Average),
        ("Roszman1", 4, 25, Average),
        ("ENSO", 9, 168, Average),
        ("MGH09", 4, 11, Higher),
        ("Thurber", 7, 37, Higher),
        ("BoxBOD", 2, 6, Higher),
        ("Rat42", 3, 9, Higher),
        ("MGH10", 3, 16, Higher),
        ("Eckerle4", 3, 35, Higher),
        ("Rat43", 4, 15, Higher),
        ("Bennett5", 3, 154, Higher),
    ]
};

#[test]
fn sizes_order_and_difficulty_match_the_files() {
    let Some(all) = problems_or_skip() else {
        return;
    };
    assert_eq!(all.len(), 27);
    for (p, &(name, n, m, diff)) in all.iter().zip(&TABLE) {
        assert_eq!(p.name, name);
        assert_eq!((p.n, p.m, p.difficulty), (n, m, diff), "{name}");
        assert_eq!((p.n(), p.m()), (n, m), "{name}");
        for v in [
            &p.starts[0],
            &p.starts[1],
            &p.certified,
            &p.certified_std_dev,
        ] {
            assert_eq!(v.len(), n, "{name}");
        }
        assert_eq!(p.certified_digits, vec![11; n], "{name}");
        assert_eq!(p.rss_digits, 11, "{name}");
        assert_eq!((p.x.len(), p.y.len()), (m, m), "{name}");
        assert_eq!(
            p.x2.as_ref().map(Vec::len),
            (name == "Nelson").then_some(m),
            "{name}"
        );
        assert_eq!(
            nist::NAMES[all.iter().position(|q| q.name == name).unwrap()],
            name
        );
    }
    let count = |d| all.iter().filter(|p| p.difficulty == d).count();
    assert_eq!(
        (
            count(Difficulty::Lower),
            count(Difficulty::Average),
            count(Difficulty::Higher)
        ),
        (8, 11, 8)
    );
}

#[test]
fn certified_parameters_reproduce_certified_rss() {
    let Some(all) = problems_or_skip() else {
        return;
    };
    for p in &all {
        let rss = p.sum_of_squares(&p.certified);
        if p.name == "Lanczos1" {
            assert!(rss < LANCZOS1_RSS_BOUND, "Lanczos1 RSS {rss:e}");
            continue;
        }
        let l = p.rss_lre(rss);
        assert!(
            l >= CERT_RSS_MIN_LRE,
            "{}: RSS at certified b = {rss:.12e}, certified {:.10e}, LRE {l:.2}",
            p.name,
            p.certified_rss
        );
        // the certified parameters score full marks against themselves
        assert_eq!(p.min_param_lre(&p.certified), 11.0);
    }
}

#[test]
fn jacobians_match_central_differences_at_both_starts_and_certified() {
    let Some(all) = problems_or_skip() else {
        return;
    };
    for p in &all {
        for (label, b) in [
            ("start1", p.start(1)),
            ("start2", p.start(2)),
            ("certified", &p.certified[..]),
        ] {
            let e = jacobian_error(p, b);
            assert!(e < JAC_TOL, "{} at {label}: Jacobian error {e:.2e}", p.name);
        }
    }
}

#[test]
fn parsed_values_spot_checks() {
    let Some(all) = problems_or_skip() else {
        return;
    };
    let get = |name: &str| all.iter().find(|p| p.name == name).unwrap();
    let m = get("Misra1a");
    assert_eq!((m.y[0], m.x[0]), (10.07, 77.6));
    assert_eq!(m.starts, [vec![500.0, 1e-4], vec![250.0, 5e-4]]);
    // leading-dot numbers
    assert_eq!(get("Hahn1").y[0], 0.591);
    assert_eq!(get("Chwirut1").x[0], 0.5);
    // Nelson: two predictors, log response
    let nel = get("Nelson");
    assert_eq!(
        (nel.y[0], nel.x[0], nel.x2.as_ref().unwrap()[0]),
        (15.0, 1.0, 180.0)
    );
    assert_eq!(nel.target(0), 15.0_f64.ln());
    assert_eq!(nel.num_predictors(), 2);
    assert_eq!(nel.starts[1], vec![2.5, 5e-9, -0.05]);
    // Roszman1 keeps NIST's b1 (see the data README)
    assert_eq!(get("Roszman1").certified[0], 2.0196866396E-01);
    // last row of the longest file
    let g = get("Gauss3");
    assert_eq!(g.x[249], 250.0);
    let b5 = get("Bennett5");
    assert_eq!(
        b5.certified,
        vec![-2.5235058043E+03, 4.6736564644E+01, 9.3218483193E-01]
    );
}

/// Residuals and Jacobian entries computed once with `problems_nist.py`
/// (numpy) at the two starts, printed with 17 significant digits:
/// (dataset, start, row i, f_i, column j, J_ij).
const PYTHON_VALUES: &[(&str, usize, usize, f64, usize, f64)] = &[
    ("Misra1a", 1, 3, -14.480435516758421, 1, 93597.0230965975),
    ("Misra1a", 2, 6, -1.6968708625970947, 0, 0.15329251654961162),
    ("Chwirut2", 1, 10, -8.145399538462062, 2, -725.4566846153643),
    (
        "Chwirut2",
        2,
        13,
        -3.4045360435063756,
        0,
        -39.93466497280851,
    ),
    ("Chwirut1", 1, 17, -43.03852877496429, 0, -23.78073561251785),
    (
        "Chwirut1",
        2,
        20,
        -11.241880754733316,
        1,
        -3125.8578653890554,
    ),
    ("Lanczos3", 1, 0, 10.7866, 4, 1.0),
    ("Lanczos3", 2, 3, 2.555811028524975, 5, -0.2332077425410518),
    (
        "Gauss1",
        1,
        31,
        0.8996017699372771,
        5,
        9.922393187348828e-35,
    ),
    (
        "Gauss1",
        2,
        34,
        11.676380280685706,
        6,
        -7.655836505049914e-22,
    ),
    (
        "Gauss2",
        1,
        38,
        4.210999388102259,
        6,
        -7.636052340407904e-16,
    ),
    (
        "Gauss2",
        2,
        41,
        -2.749121745016474,
        7,
        4.614060529053332e-11,
    ),
    ("DanWood", 1, 3, 5.047970352478124, 1, 4.204738836933225),
    ("DanWood", 2, 0, -0.08278800384730012, 0, 2.9360171373609996),
    (
        "Misra1b",
        1,
        10,
        -35.21316497274239,
        0,
        0.051593670054515206,
    ),
    ("Misra1b", 2, 13, -40.89748041071846, 1, 183019.7817027379),
    ("Kirby2", 1, 59, 25.54696234285541, 4, -1812473.6399848906),
    ("Kirby2", 2, 62, -3.4903660606957843, 0, 0.7281220501363845),
    ("Hahn1", 1, 66, 67.78643832711887, 3, 208953.37898921897),
    ("Hahn1", 2, 69, 32.97436942839612, 4, -3181.9691706900053),
    ("Nelson", 1, 73, -0.5043986401251259, 2, 4.872997584281389),
    ("Nelson", 2, 76, 0.6333133981133408, 0, 1.0),
    ("MGH17", 1, 14, 49.372, 2, 2.4977275669152505e-122),
    ("MGH17", 2, 17, 0.1826520161187758, 3, -46.58429863344734),
    (
        "Lanczos1",
        1,
        15,
        0.8982133949871446,
        1,
        -0.7186645968834393,
    ),
    (
        "Lanczos1",
        2,
        18,
        0.24843711827379575,
        2,
        0.02282269142509297,
    ),
    (
        "Lanczos2",
        1,
        22,
        0.8076668955241562,
        2,
        0.0023578620064902307,
    ),
    ("Lanczos2", 2, 1, 4.275731490697684, 3, -0.14590516427463368),
    ("Gauss3", 1, 101, -11.88544130684906, 7, 0.7207098938439345),
    ("Gauss3", 2, 104, -0.556917349883264, 0, 0.36494814645449375),
    (
        "Misra1c",
        1,
        10,
        -36.154370793102615,
        0,
        0.04971125841379476,
    ),
    ("Misra1c", 2, 13, -7.20708307804405, 1, 306230.5085424183),
    ("Misra1d", 1, 3, -14.568615221572397, 1, 91861.13728488049),
    ("Misra1d", 2, 6, 0.8295781204538812, 0, 0.0907768402676753),
    (
        "Roszman1",
        1,
        22,
        -0.14952232095284057,
        2,
        0.00014151548740944152,
    ),
    (
        "Roszman1",
        2,
        0,
        0.002496154008648499,
        3,
        -1.611291719441354e-05,
    ),
    ("ENSO", 1, 129, 3.805761322608504, 1, 0.4999999999999987),
    ("ENSO", 2, 132, -0.1456656197873496, 2, 0.49999999999999406),
    ("MGH09", 1, 4, 4.877673324905183, 0, 0.19848293299620734),
    (
        "MGH09",
        2,
        7,
        -0.0064536806342015834,
        1,
        0.05662514156285391,
    ),
    ("Thurber", 1, 32, -227.62124160918233, 0, 0.4555697874228401),
    ("Thurber", 2, 35, -68.04670350727315, 1, 0.39732516960152436),
    ("BoxBOD", 1, 0, -108.36787944117144, 0, 0.6321205588285577),
    ("BoxBOD", 2, 3, -93.35177458560091, 1, 11.758872928004553),
    ("Rat42", 1, 4, 56.73342772032357, 2, 158.05342960919975),
    ("Rat42", 2, 7, 4.142047762955826, 0, 0.9168273035060777),
    ("MGH10", 1, 4, 16979352.799060952, 0, 8497861.399530476),
    ("MGH10", 2, 7, -6677.5509741024125, 1, 9.153579181783842),
    (
        "Eckerle4",
        1,
        31,
        0.032230746735834974,
        1,
        0.0040581558419793716,
    ),
    ("Eckerle4", 2, 34, -7.1e-05, 2, 1.1572499087783506e-22),
    ("Rat43", 1, 13, -539.3586209962091, 2, 24.72778869860756),
    ("Rat43", 2, 1, 12.504540848570556, 3, 96.7747721542673),
    (
        "Bennett5",
        1,
        31,
        20.91455097155302,
        0,
        0.005900924514223491,
    ),
    ("Bennett5", 2, 34, 19.441269672836683, 1, 0.278733787866562),
];

#[test]
fn residuals_and_jacobians_match_python_reference_values() {
    let Some(all) = problems_or_skip() else {
        return;
    };
    for &(name, k, i, fi, j, jij) in PYTHON_VALUES {
        let p = all.iter().find(|p| p.name == name).unwrap();
        let b = p.start(k);
        let mut f = vec![0.0; p.m];
        p.residuals(b, &mut f);
        let mut jac = vec![0.0; p.m * p.n];
        p.jacobian(b, &mut jac);
        // residual error relative to the observation (f = model - y may cancel)
        let scale = fi.abs().max(p.y[i].abs());
        assert!(
            (f[i] - fi).abs() <= 1e-13 * scale,
            "{name} start{k}: f[{i}] = {:e}, python {fi:e}",
            f[i]
        );
        let got = jac[i * p.n + j];
        assert!(
            (got - jij).abs() <= 1e-12 * jij.abs(),
            "{name} start{k}: J[{i},{j}] = {got:e}, python {jij:e}"
        );
    }
}
