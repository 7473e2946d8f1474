//! The lock-step engine (`solve_lockstep`, `BatchSolver::Lockstep`,
//! `curve_fit_batch_lockstep`): identical bits for any block size and thread count and
//! for a fit solved alone; the minima MINPACK's lm finds; Cpufit's accuracy on the 2-D
//! Gaussian workload; failures isolated per fit; a model error stops the batch once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use trustfit::{
    BatchCurveFitOptions, BatchSigma, BatchSolver, BlockModel, BlockValues, Bounds, CallbackError,
    CurveFitOptions, Differenced, ErrorKind, Evaluation, FitOutcome, JacSpec, LeastsqOptions,
    LockstepOptions, Options, PerFitModel, Sigma, Starts, curve_fit, curve_fit_batch,
    curve_fit_batch_lockstep, least_squares, solve_lockstep,
};
use trustfit_problems::gauss2d::{N_PARAMS, Workload};

fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// 2-D Gaussian fits of the synthetic workload, with its per-fit starts.
fn gauss(count: usize) -> Workload {
    Workload::synthetic(count, 5)
}

#[test]
fn results_do_not_depend_on_block_size_threads_or_batch_company() {
    let w = gauss(300);
    let base = LockstepOptions {
        ftol: 1e-4,
        xtol: 1e-4,
        max_nfev: Some(11),
        ..Default::default()
    };
    let reference = solve_lockstep(&w, 300, Starts::PerFit(w.starts()), &base).unwrap();
    for (block, threads) in [(1, 1), (7, 2), (64, 1), (1000, 2)] {
        let opts = LockstepOptions {
            block,
            threads: Some(threads),
            ..base.clone()
        };
        let r = solve_lockstep(&w, 300, Starts::PerFit(w.starts()), &opts).unwrap();
        assert_eq!(
            bits(&r.x),
            bits(&reference.x),
            "block {block}, threads {threads}"
        );
        assert_eq!(r.fits, reference.fits);
    }
    // A fit alone (the single-problem form: a batch of one) gives the same bits.
    /// Fit k of the workload as a batch of one.
    struct Only<'a>(&'a Workload, usize);
    impl BlockModel for Only<'_> {
        fn num_residuals(&self) -> usize {
            25
        }
        fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError> {
            let Evaluation {
                fits: _,
                x,
                f,
                jac: j,
            } = e;
            self.0.eval(Evaluation {
                fits: &[self.1],
                x,
                f,
                jac: j,
            })
        }
    }
    for k in [0, 17, 299] {
        let one = Only(&w, k);
        let r = solve_lockstep(
            &one,
            1,
            Starts::Shared(&w.starts()[k * 5..k * 5 + 5]),
            &base,
        )
        .unwrap();
        assert_eq!(bits(&r.x), bits(reference.params(k)), "fit {k}");
        assert_eq!(r.fits[0], reference.fits[k]);
    }
}

#[test]
fn converges_to_the_minima_minpack_finds() {
    let w = gauss(200);
    let tight = LockstepOptions {
        ftol: 1e-14,
        xtol: 1e-14,
        gtol: 1e-14,
        ..Default::default()
    };
    let r = solve_lockstep(&w, 200, Starts::PerFit(w.starts()), &tight).unwrap();
    assert_eq!(r.converged(), 200);
    let lm = Options {
        method: trustfit::Method::Lm,
        jac: JacSpec::Analytic,
        ftol: Some(1e-14),
        xtol: Some(1e-14),
        gtol: Some(1e-14),
        ..Default::default()
    };
    for k in 0..200 {
        let rep = least_squares(&w.fit(k), &w.starts()[k * 5..k * 5 + 5], &lm).unwrap();
        for (a, b) in r.params(k).iter().zip(&rep.x) {
            assert!(
                (a - b).abs() <= 1e-8 * b.abs().max(1.0),
                "fit {k}: {:?} vs {:?}",
                r.params(k),
                rep.x
            );
        }
        assert!(
            (r.fits[k].cost - rep.cost).abs() <= 1e-10 * rep.cost + 1e-20,
            "fit {k}: {:?} vs {} {:?} {}",
            r.fits[k],
            rep.cost,
            rep.status,
            rep.nfev
        );
    }
}

#[test]
fn cpufit_settings_reach_the_truth_as_cpufit_does() {
    // Cpufit's rule (relative χ² change 1e-4, at most 10 trial steps) on noise-free data
    // from ±10 % starts: every fit converges within the cap, near the truth.
    let w = gauss(500);
    let opts = LockstepOptions {
        ftol: 1e-4,
        xtol: 1e-4,
        max_nfev: Some(11),
        ..Default::default()
    };
    let r = solve_lockstep(&w, 500, Starts::PerFit(w.starts()), &opts).unwrap();
    assert_eq!(r.converged(), 500);
    for k in 0..500 {
        assert!(r.fits[k].nfev <= 11);
        assert!(
            (r.params(k)[1] - w.truth(k)[1]).abs() < 0.05,
            "fit {k}: {:?}",
            r.params(k)
        );
    }
}

#[test]
fn differences_agree_with_the_analytic_jacobian() {
    struct Values<'a>(&'a Workload);
    impl BlockValues for Values<'_> {
        fn num_residuals(&self) -> usize {
            25
        }
        fn values(&self, fits: &[usize], x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
            let mut jac = vec![0.0; 125];
            for ((&k, p), fk) in fits
                .iter()
                .zip(x.chunks_exact(5))
                .zip(f.chunks_exact_mut(25))
            {
                self.0.fit(k).residuals_and_jacobian(p, fk, &mut jac);
            }
            Ok(())
        }
    }
    let w = gauss(50);
    let opts = LockstepOptions {
        ftol: 1e-12,
        xtol: 1e-12,
        ..Default::default()
    };
    let exact = solve_lockstep(&w, 50, Starts::PerFit(w.starts()), &opts).unwrap();
    let fd = solve_lockstep(
        &Differenced::new(Values(&w), N_PARAMS),
        50,
        Starts::PerFit(w.starts()),
        &opts,
    )
    .unwrap();
    assert_eq!(fd.converged(), 50);
    for (a, b) in fd.x.iter().zip(&exact.x) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
}

mod common;
use common::decay_rows::{M, data, model, t, values};

#[test]
fn batch_curve_fit_lockstep_matches_curve_fit_on_each_row() {
    let (k, y) = (40, data(40));
    let sigma: Vec<f64> = (0..M).map(|i| 0.01 + 0.002 * i as f64).collect();
    let tol = Options {
        ftol: Some(1e-13),
        xtol: Some(1e-13),
        gtol: Some(1e-13),
        jac: JacSpec::Analytic,
        ..Default::default()
    };
    for absolute in [false, true] {
        let mut opts = BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.5, 0.0]));
        opts.solver = BatchSolver::Lockstep;
        opts.sigma = BatchSigma::PerPoint(&sigma);
        opts.absolute_sigma = absolute;
        opts.options = tol.clone();
        let batch = curve_fit_batch(&model(), &y, &opts).unwrap();
        for r in 0..k {
            let one = CurveFitOptions {
                p0: vec![1.0, -0.5, 0.0],
                sigma: Sigma::StdDev(sigma.clone()),
                absolute_sigma: absolute,
                method: Some(trustfit::Method::Lm),
                leastsq: LeastsqOptions {
                    ftol: 1e-13,
                    xtol: 1e-13,
                    gtol: 1e-13,
                    ..Default::default()
                },
                ..CurveFitOptions::default()
            };
            let alone = curve_fit(values, &y[r * M..(r + 1) * M], &one).unwrap();
            // Both at the minimum: lock-step's cost no higher, and the parameters equal
            // far below their uncertainty (c sits in a flat valley, where the last
            // digits depend on where each method stops).
            let cost_alone = alone.fvec.iter().map(|v| v * v).sum::<f64>() / 2.0;
            assert!(batch.fits[r].cost <= cost_alone * (1.0 + 1e-12), "row {r}");
            for ((a, b), e) in batch.popt(r).iter().zip(&alone.popt).zip(&alone.perr) {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(*e),
                    "row {r}: {a} vs {b}"
                );
            }
            for (a, b) in batch.pcov(r).iter().zip(&alone.pcov) {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1e-12),
                    "row {r} pcov: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn bad_rows_fail_alone_and_the_others_fit() {
    let k = 100;
    let mut y = data(k);
    y[3 * M..4 * M].fill(f64::NAN); // all NaN
    y[50 * M..50 * M + M - 2].fill(f64::NAN); // two finite points: fewer than n = 3
    y[70 * M..71 * M].fill(2.5); // constant: fits (a·exp(b·t) ≈ 0, c = 2.5) or not, alone
    let mut opts = BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.5, 0.0]));
    opts.solver = BatchSolver::Lockstep;
    opts.options.jac = JacSpec::Analytic;
    let fit = curve_fit_batch(&model(), &y, &opts).unwrap();
    for bad in [3, 50] {
        assert_eq!(
            fit.fits[bad].outcome,
            FitOutcome::Failed(ErrorKind::NonFinite)
        );
        assert!(fit.popt(bad).iter().all(|v| v.is_nan()));
        assert!(fit.pcov(bad).iter().all(|v| v.is_nan()));
    }
    let clean = data(k);
    let mut clean_opts = opts.clone();
    clean_opts.threads = Some(1);
    let reference = curve_fit_batch(&model(), &clean, &clean_opts).unwrap();
    for r in (0..k).filter(|r| ![3, 50, 70].contains(r)) {
        assert!(fit.fits[r].outcome.success());
        assert_eq!(bits(fit.popt(r)), bits(reference.popt(r)), "row {r}");
    }
    assert!(
        (fit.popt(70)[0] * (fit.popt(70)[1] * t(5)).exp() + fit.popt(70)[2] - 2.5).abs() < 1e-6
    );
}

#[test]
fn a_model_error_stops_the_batch_and_is_returned_unchanged() {
    struct Fails;
    impl BlockModel for Fails {
        fn num_residuals(&self) -> usize {
            2
        }
        fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError> {
            let Evaluation { fits, x, f, jac } = e;
            if fits.contains(&33) && x.iter().any(|v| *v > 1.5) {
                return Err(CallbackError::new("fit 33 diverged"));
            }
            for ((fr, jr), p) in f.chunks_exact_mut(2).zip(jac.chunks_exact_mut(2)).zip(x) {
                fr.copy_from_slice(&[p - 2.0, 0.0]);
                jr.copy_from_slice(&[1.0, 0.0]);
            }
            Ok(())
        }
    }
    let err = solve_lockstep(
        &Fails,
        100,
        Starts::Shared(&[1.0]),
        &LockstepOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Callback);
    assert_eq!(err.to_string(), "fit 33 diverged");
}

#[test]
fn bounds_project_the_steps_and_bad_starts_fail_alone() {
    // x − 2 with x ≤ 1.5: the fit stops on the bound.
    let model = PerFitModel::new(1, |_: usize| {
        trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 2.0)
    });
    let opts = LockstepOptions {
        bounds: Bounds::new(vec![0.0], vec![1.5]),
        ..Default::default()
    };
    let r = solve_lockstep(&model, 3, Starts::PerFit(&[0.5, 1.0, 3.0]), &opts).unwrap();
    assert_eq!(r.params(0), [1.5]);
    assert_eq!(r.params(1), [1.5]);
    assert_eq!(
        r.fits[2].outcome,
        FitOutcome::Failed(ErrorKind::InfeasibleStart)
    );
    assert!(r.params(2)[0].is_nan());
}

#[test]
fn a_minimum_on_a_bound_is_reached_with_the_bounded_parameter_held() {
    // A line m·t + c through 10·exp(−t/2) (which wants c ≈ 5), with c ≤ 0: the minimum
    // has c = 0 and the slope of the line through the origin, Σ t·y / Σ t². Projecting
    // a step solved with c free stopped on xtol at m = 0.37, reported converged.
    let t: Vec<f64> = (0..15).map(|i| f64::from(i) * 4.0 / 14.0).collect();
    let y: Vec<f64> = t.iter().map(|t| 10.0 * (-0.5 * t).exp()).collect();
    let slope =
        t.iter().zip(&y).map(|(t, y)| t * y).sum::<f64>() / t.iter().map(|t| t * t).sum::<f64>();
    let (tm, ym) = (t.clone(), y.clone());
    let model = PerFitModel::new(15, move |_: usize| {
        let (t, y) = (tm.clone(), ym.clone());
        trustfit::from_fn(15, move |p: &[f64], f: &mut [f64]| {
            for ((f, t), y) in f.iter_mut().zip(&t).zip(&y) {
                *f = p[0] * t + p[1] - y;
            }
        })
    });
    let opts = LockstepOptions {
        bounds: Bounds::new(vec![f64::NEG_INFINITY; 2], vec![f64::INFINITY, 0.0]),
        ..Default::default()
    };
    let r = solve_lockstep(&model, 1, Starts::Shared(&[1.0, -1.0]), &opts).unwrap();
    assert!(matches!(r.fits[0].outcome, FitOutcome::Solved(s) if s.is_success()));
    assert_eq!(r.params(0)[1], 0.0);
    assert!(
        (r.params(0)[0] - slope).abs() <= 1e-6 * slope,
        "{:?} vs {slope}",
        r.params(0)
    );
}

#[test]
fn invalid_options_are_errors_before_any_fit() {
    let w = gauss(2);
    let bad = [
        LockstepOptions {
            ftol: -1.0,
            ..Default::default()
        },
        LockstepOptions {
            ftol: 0.0,
            xtol: 0.0,
            gtol: 0.0,
            ..Default::default()
        },
        LockstepOptions {
            max_nfev: Some(0),
            ..Default::default()
        },
    ];
    for opts in bad {
        let e = solve_lockstep(&w, 2, Starts::PerFit(w.starts()), &opts).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidOption, "{opts:?}");
    }
    let e = solve_lockstep(
        &w,
        2,
        Starts::PerFit(&[1.0; 7]),
        &LockstepOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
    // Per-fit-only options of the batch curve_fit.
    let mut opts = BatchCurveFitOptions::new(Starts::Shared(&[1.0, -0.5, 0.0]));
    opts.solver = BatchSolver::Lockstep;
    opts.options.loss = trustfit::Loss::SoftL1;
    assert!(curve_fit_batch(&model(), &data(2), &opts).is_err());
    opts.options.loss = trustfit::Loss::Linear;
    opts.method = Some(trustfit::Method::Trf);
    assert!(curve_fit_batch(&model(), &data(2), &opts).is_err());
    let _ = curve_fit_batch_lockstep::<Workload>;
}
