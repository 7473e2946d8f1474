//! `solve_batch`: each fit equals `least_squares` on it alone, for any number of
//! threads, and a failing fit is isolated.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use trustfit::{
    Bounds, ErrorKind, FitOutcome, Loss, Method, Options, Starts, from_fn, least_squares,
    solve_batch,
};

const T: [f64; 6] = [0.0, 0.4, 0.8, 1.2, 1.6, 2.0];

/// Row k of a per-pixel data set: y = a·exp(−b·t) + c with a, b varying by k; some
/// rows are made bad on purpose (`bad`).
fn row(k: usize, bad: &[usize]) -> Vec<f64> {
    let (a, b) = (1.0 + 0.05 * (k % 17) as f64, 0.3 + 0.02 * (k % 11) as f64);
    let noise = |i: usize| 0.003 * (((k * 31 + i * 7) % 13) as f64 - 6.0);
    let mut y: Vec<f64> = (0..6)
        .map(|i| a * (-b * T[i]).exp() + 0.1 + noise(i))
        .collect();
    if bad.contains(&k) {
        y[2] = f64::NAN;
    }
    y
}

fn model(y: Vec<f64>) -> impl trustfit::Residuals {
    from_fn(6, move |p: &[f64], f: &mut [f64]| {
        for i in 0..6 {
            f[i] = p[0] * (p[1] * T[i]).exp() + p[2] - y[i];
        }
    })
}

#[test]
fn every_fit_equals_least_squares_alone_for_any_thread_count() {
    let sets = [
        ("trf", Options::default()),
        (
            "dogbox bounded soft_l1",
            Options {
                method: Method::Dogbox,
                bounds: Bounds::new(vec![0.0, -2.0, -1.0], vec![5.0, 0.0, 1.0]),
                loss: Loss::SoftL1,
                f_scale: 0.05,
                ..Default::default()
            },
        ),
        (
            "lm",
            Options {
                method: Method::Lm,
                ..Default::default()
            },
        ),
    ];
    let x0 = [1.0, -0.5, 0.0];
    let rows: Vec<Vec<f64>> = (0..200).map(|k| row(k, &[])).collect();
    for (name, opts) in sets {
        let fit = |k: usize| model(rows[k].clone());
        let one = solve_batch(200, fit, Starts::Shared(&x0), &opts, Some(1)).unwrap();
        let two = solve_batch(200, fit, Starts::Shared(&x0), &opts, Some(2)).unwrap();
        assert_eq!(one, two, "{name}: 1 and 2 threads differ");
        for k in [0, 1, 57, 199] {
            let alone = least_squares(&fit(k), &x0, &opts).unwrap();
            assert_eq!(one.params(k), &alone.x[..], "{name} fit {k}");
            assert_eq!(
                one.fits[k].cost.to_bits(),
                alone.cost.to_bits(),
                "{name} fit {k}"
            );
            assert_eq!(one.fits[k].nfev, alone.nfev, "{name} fit {k}");
            assert_eq!(
                one.fits[k].outcome,
                FitOutcome::Solved(alone.status),
                "{name} fit {k}"
            );
        }
        assert_eq!(one.converged(), 200, "{name}");
    }
}

#[test]
fn a_failing_fit_is_isolated_and_marked() {
    let bad = [3, 77];
    let rows: Vec<Vec<f64>> = (0..100).map(|k| row(k, &bad)).collect();
    let x0 = [1.0, -0.5, 0.0];
    let fit = |k: usize| {
        let y = rows[k].clone();
        from_fn(6, move |p: &[f64], f: &mut [f64]| {
            if k == 50 {
                panic!("model failure in fit 50");
            }
            for i in 0..6 {
                f[i] = p[0] * (p[1] * T[i]).exp() + p[2] - y[i];
            }
        })
    };
    let r = solve_batch(100, fit, Starts::Shared(&x0), &Options::default(), Some(2)).unwrap();
    for k in bad {
        assert_eq!(
            r.fits[k].outcome,
            FitOutcome::Failed(ErrorKind::NonFinite),
            "fit {k}"
        );
        assert!(r.params(k).iter().all(|v| v.is_nan()) && r.fits[k].cost.is_nan());
    }
    assert_eq!(r.fits[50].outcome, FitOutcome::Failed(ErrorKind::Callback));
    assert_eq!(r.converged(), 97);
    let good = least_squares(&fit(4), &x0, &Options::default()).unwrap();
    assert_eq!(r.params(4), &good.x[..]);
}

#[test]
fn starts_per_fit_and_their_shape() {
    let rows: Vec<Vec<f64>> = (0..4).map(|k| row(k, &[])).collect();
    let fit = |k: usize| model(rows[k].clone());
    let starts: Vec<f64> = (0..4)
        .flat_map(|k| [1.0 + k as f64 * 0.1, -0.5, 0.0])
        .collect();
    let r = solve_batch(4, fit, Starts::PerFit(&starts), &Options::default(), None).unwrap();
    let alone = least_squares(&fit(3), &starts[9..12], &Options::default()).unwrap();
    assert_eq!(r.params(3), &alone.x[..]);
    let e = solve_batch(
        4,
        fit,
        Starts::PerFit(&starts[..10]),
        &Options::default(),
        None,
    );
    assert_eq!(e.unwrap_err().kind(), ErrorKind::ShapeMismatch);
    let bad_opts = Options {
        max_nfev: Some(0),
        ..Default::default()
    };
    let e = solve_batch(4, fit, Starts::Shared(&[1.0, -0.5, 0.0]), &bad_opts, None);
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidOption);
    let none = solve_batch(
        0,
        fit,
        Starts::Shared(&[1.0, -0.5, 0.0]),
        &Options::default(),
        None,
    );
    assert_eq!(none.unwrap().x.len(), 0);
}
