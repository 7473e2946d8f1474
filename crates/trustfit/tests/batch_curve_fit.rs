//! `curve_fit_batch`: every row equals `curve_fit` on it alone (popt, pcov), for any
//! number of threads; bad rows fail alone with NaN parameters.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use trustfit::{
    BatchCurveFitOptions, BatchSigma, Bounds, CurveFitOptions, ErrorKind, FitOutcome,
    LeastsqOptions, Method, Options, Sigma, Starts, curve_fit, curve_fit_batch, from_fn,
};

mod common;
use common::decay_rows::{M, data, model, values};

fn sigma() -> Vec<f64> {
    (0..M).map(|i| 0.01 + 0.002 * i as f64).collect()
}

const TOL: f64 = 1e-12;

/// Equal to `rtol` relative to `max(|b|, floor)` (the floor: parameters near 0, whose
/// last digits are set by the stopping tolerance in a flat valley, not by the method).
fn close(a: &[f64], b: &[f64], rtol: f64, floor: f64, what: &str) {
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= rtol * y.abs().max(floor) || x == y,
            "{what}: {a:?} vs {b:?}"
        );
    }
}

/// Single-fit `curve_fit` of row `r` with the same settings.
fn alone(y: &[f64], method: Method, bounds: &Bounds) -> trustfit::CurveFitResult {
    let opts = CurveFitOptions {
        p0: vec![1.0, -0.3, 0.0],
        sigma: Sigma::StdDev(sigma()),
        bounds: bounds.clone(),
        method: Some(method),
        options: Options {
            ftol: Some(TOL),
            xtol: Some(TOL),
            gtol: Some(TOL),
            ..Default::default()
        },
        leastsq: LeastsqOptions {
            dfun: false,
            ftol: TOL,
            xtol: TOL,
            gtol: TOL,
            ..Default::default()
        },
        ..Default::default()
    };
    curve_fit(values, y, &opts).unwrap()
}

fn batch_opts<'a>(s: &'a [f64], method: Method, bounds: &Bounds) -> BatchCurveFitOptions<'a> {
    let mut o = BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.3, 0.0]));
    o.sigma = BatchSigma::PerPoint(s);
    o.method = Some(method);
    o.bounds = bounds.clone();
    o.options = Options {
        ftol: Some(TOL),
        xtol: Some(TOL),
        gtol: Some(TOL),
        jac: trustfit::JacSpec::TwoPoint,
        ..Default::default()
    };
    o
}

#[test]
fn every_row_equals_curve_fit_alone() {
    let y = data(40);
    let s = sigma();
    let bounded = Bounds::new(vec![0.0, -2.0, -1.0], vec![5.0, 0.0, 1.0]);
    for (method, bounds) in [
        (Method::Lm, Bounds::default()),
        (Method::Trf, bounded.clone()),
        (Method::Dogbox, bounded),
    ] {
        let mut opts = batch_opts(&s, method, &bounds);
        let fd = curve_fit_batch(&model(), &y, &opts).unwrap();
        opts.options.jac = trustfit::JacSpec::Analytic;
        let analytic = curve_fit_batch(&model(), &y, &opts).unwrap();
        for (fit, r) in [&fd, &analytic]
            .into_iter()
            .flat_map(|f| (0..40).map(move |r| (f, r)))
        {
            let one = alone(&y[r * M..(r + 1) * M], method, &bounds);
            assert!(
                fit.fits[r].outcome.success(),
                "{method:?} row {r}: {:?}",
                fit.fits[r]
            );
            close(
                fit.popt(r),
                &one.popt,
                1e-6,
                1.0,
                &format!("{method:?} popt row {r}"),
            );
            close(
                fit.pcov(r),
                &one.pcov,
                1e-4,
                0.0,
                &format!("{method:?} pcov row {r}"),
            );
        }
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let y = data(101);
    let s = sigma();
    let mut o = batch_opts(&s, Method::Lm, &Bounds::default());
    o.options.jac = trustfit::JacSpec::Analytic;
    let bits = |o: &BatchCurveFitOptions<'_>| {
        let f = curve_fit_batch(&model(), &y, o).unwrap();
        let mut v: Vec<u64> = f.popt.iter().chain(&f.pcov).map(|x| x.to_bits()).collect();
        v.extend(f.fits.iter().map(|s| s.nfev as u64));
        v
    };
    o.threads = Some(1);
    let one = bits(&o);
    o.threads = Some(2);
    assert_eq!(one, bits(&o));
}

#[test]
fn bad_rows_fail_alone() {
    let k = 100;
    let mut y = data(k);
    // Row 3 all NaN, row 50 constant, row 77 with only 2 finite points (< n = 3),
    // row 90 with 3 missing points (fitted on the other 9).
    y[3 * M..4 * M].fill(f64::NAN);
    y[50 * M..51 * M].fill(0.7);
    y[77 * M + 2..78 * M].fill(f64::NAN);
    for i in [1, 5, 8] {
        y[90 * M + i] = f64::INFINITY;
    }
    let fit = curve_fit_batch(
        &model(),
        &y,
        &BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.3, 0.0])),
    )
    .unwrap();
    for bad in [3, 77] {
        assert_eq!(
            fit.fits[bad].outcome,
            FitOutcome::Failed(ErrorKind::NonFinite),
            "row {bad}"
        );
        assert!(fit.popt(bad).iter().all(|v| v.is_nan()), "row {bad}");
        assert!(fit.pcov(bad).iter().all(|v| v.is_nan()), "row {bad}");
    }
    // The constant row: a fit with a flat model (its covariance may be infinite).
    assert!(matches!(fit.fits[50].outcome, FitOutcome::Solved(_)));
    let clean = data(k);
    for r in (0..k).filter(|r| ![3, 50, 77, 90].contains(r)) {
        let one = curve_fit_batch(
            &model(),
            &clean[r * M..(r + 1) * M],
            &BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.3, 0.0])),
        )
        .unwrap();
        assert_eq!(fit.popt(r), one.popt(0), "row {r}");
        assert!(fit.fits[r].outcome.success(), "row {r}");
    }
    // Row 90: the same fit as on its 9 finite points alone.
    let keep: Vec<usize> = (0..M).filter(|i| ![1, 5, 8].contains(i)).collect();
    let y90: Vec<f64> = keep.iter().map(|&i| y[90 * M + i]).collect();
    let sub = from_fn(keep.len(), move |p: &[f64], out: &mut [f64]| {
        let mut all = [0.0; M];
        values(p, &mut all);
        for (o, &i) in out.iter_mut().zip(&keep) {
            *o = all[i];
        }
    });
    let alone = curve_fit_batch(
        &sub,
        &y90,
        &BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.3, 0.0])),
    )
    .unwrap();
    close(fit.popt(90), alone.popt(0), 1e-6, 1.0, "row 90");
    close(fit.pcov(90), alone.pcov(0), 1e-4, 0.0, "row 90 pcov");
}

#[test]
fn shapes_are_checked_before_any_fit() {
    let y = data(2);
    let o = BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.3, 0.0]));
    assert_eq!(
        curve_fit_batch(&model(), &y[..M + 1], &o)
            .unwrap_err()
            .kind(),
        ErrorKind::ShapeMismatch
    );
    let mut bad = o.clone();
    bad.sigma = BatchSigma::PerPoint(&[1.0, 2.0]);
    assert_eq!(
        curve_fit_batch(&model(), &y, &bad).unwrap_err().kind(),
        ErrorKind::InvalidOption
    );
    let mut lm_bounded = o.clone();
    lm_bounded.method = Some(Method::Lm);
    lm_bounded.bounds = Bounds::new(vec![0.0; 3], vec![9.0; 3]);
    assert_eq!(
        curve_fit_batch(&model(), &y, &lm_bounded)
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    let per_row = [1.0, -0.3, 0.0, 1.0, -0.3];
    let mut wrong = o;
    wrong.p0 = Starts::PerFit(&per_row);
    assert!(curve_fit_batch(&model(), &y, &wrong).is_err());
}
