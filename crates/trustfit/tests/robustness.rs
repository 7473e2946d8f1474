//! Robustness of the trf and dogbox loops: non-finite residuals during the solve (spec §7.6,
//! §8.2, §14.13), failing or panicking user code (residuals, Jacobian, callback) surfacing as
//! `Error::Callback` with the best point, callback stops (§2.6), `max_nfev` counting (§2.3)
//! and parallel finite differences being bitwise identical to serial ones (§1.1 `workers`).
//!
//! Reference numbers come from scipy 1.17.1 (numpy 2.4.6) run with python3; each constant
//! names the script it came from. The scripts share
//!     import numpy as np; from scipy.optimize import least_squares
//!     def rosen(x): return np.array([10*(x[1]-x[0]*x[0]), 1-x[0]])
//!     def rjac(x): return np.array([[-20*x[0], 10.0], [-1.0, 0.0]])
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::ops::ControlFlow;

use trustfit::{
    Bounds, CallbackError, Error, JacSpec, Method, Options, Report, Residuals, Status, from_fn,
    least_squares, least_squares_with_callback,
};

fn rosen_f(x: &[f64], f: &mut [f64]) {
    f[0] = 10.0 * (x[1] - x[0] * x[0]);
    f[1] = 1.0 - x[0];
}

fn rosen_j(x: &[f64], j: &mut [f64]) {
    j.copy_from_slice(&[-20.0 * x[0], 10.0, -1.0, 0.0]);
}

fn rosen() -> impl Residuals {
    from_fn(2, |x: &[f64], f: &mut [f64]| rosen_f(x, f)).with_jacobian(rosen_j)
}

/// Cost of Rosenbrock at x0 = [-2, 1]: ½(30² + 3²).
const ROSEN_COST_X0: f64 = 454.5;

fn analytic(method: Method) -> Options {
    Options {
        method,
        jac: JacSpec::Analytic,
        ..Default::default()
    }
}

/// Iterates that reach Rosenbrock's minimum [1, 1] do so to rounding (scipy reports exactly
/// [1, 1] with cost 0); 1e-10 absorbs SVD/BLAS rounding differences along the path.
const MIN_ATOL: f64 = 1e-10;

/// scipy's (nfev, njev, status) for a run with an analytic Jacobian.
fn assert_counts(r: &Report, (nfev, njev, status): (usize, usize, Status), tag: &str) {
    assert_eq!(
        (r.nfev, r.njev, r.status),
        (nfev, Some(njev), status),
        "{tag}"
    );
}

fn at_rosen_minimum(x: &[f64]) -> bool {
    (x[0] - 1.0).abs() < MIN_ATOL && (x[1] - 1.0).abs() < MIN_ATOL
}

// ---------------------------------------------------------------------------------------------
// Non-finite residuals mid-run
// ---------------------------------------------------------------------------------------------

/// Which trial returns NaN residuals.
#[derive(Debug, Clone, Copy)]
enum NanRule {
    /// NaN whenever x[1] < threshold.
    Region(f64),
    /// NaN on the k-th residual evaluation only (1-based; x0 is call 1; analytic J, so
    /// calls = nfev as in scipy).
    Call(usize),
}

fn nan_rosen(rule: NanRule) -> impl Residuals {
    let calls = Cell::new(0usize);
    from_fn(2, move |x: &[f64], f: &mut [f64]| {
        calls.set(calls.get() + 1);
        rosen_f(x, f);
        let bad = match rule {
            NanRule::Region(t) => x[1] < t,
            NanRule::Call(k) => calls.get() == k,
        };
        if bad {
            f.fill(f64::NAN);
        }
    })
    .with_jacobian(rosen_j)
}

#[test]
fn nan_residuals_mid_run_shrink_the_radius_and_match_scipy() {
    // python3 /tmp/refs/nan_ref.py and nan_ref2.py (scipy 1.17.1), e.g. for Region(-0.8):
    //   def nan_region(x): f = rosen(x); return f*np.nan if x[1] < -0.8 else f
    //   r = least_squares(nan_region, [-2.0, 1.0], jac=rjac, method=M); print(r.x, r.nfev, r.njev, r.status)
    // and for Call(k) a counter returning NaN on call k. Every run ends at x = [1, 1],
    // status 1. Without NaN the counts are trf 18/13, dogbox 20/15 (spec §13): the NaN
    // trials below change the path (Region(-1.5) and Call(3) hit trials that scipy would
    // reject anyway, so they leave the counts unchanged).
    let cases: [(NanRule, Method, usize, usize); 10] = [
        (NanRule::Region(-0.8), Method::Trf, 24, 18),
        (NanRule::Region(-0.8), Method::Dogbox, 25, 18),
        (NanRule::Region(-1.5), Method::Trf, 18, 13),
        (NanRule::Region(-1.5), Method::Dogbox, 20, 15),
        (NanRule::Call(2), Method::Trf, 24, 18),
        (NanRule::Call(2), Method::Dogbox, 25, 18),
        (NanRule::Call(3), Method::Trf, 18, 13),
        (NanRule::Call(3), Method::Dogbox, 20, 15),
        (NanRule::Call(4), Method::Trf, 18, 14),
        (NanRule::Call(4), Method::Dogbox, 20, 15),
    ];
    let mut mismatches = Vec::new();
    for (rule, method, nfev, njev) in cases {
        let r = least_squares(&nan_rosen(rule), &[-2.0, 1.0], &analytic(method))
            .unwrap_or_else(|e| panic!("{rule:?} {method}: {e}"));
        assert!(
            r.x.iter().all(|v| v.is_finite()),
            "{rule:?} {method}: {:?}",
            r.x
        );
        assert!(r.cost.is_finite() && r.fun.iter().all(|v| v.is_finite()));
        assert!(at_rosen_minimum(&r.x), "{rule:?} {method}: {:?}", r.x);
        assert_eq!(r.status, Status::Gtol, "{rule:?} {method}");
        if (r.nfev, r.njev) != (nfev, Some(njev)) {
            mismatches.push(format!(
                "{rule:?} {method}: nfev/njev {}/{:?}, scipy {nfev}/{njev}",
                r.nfev, r.njev
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn nan_residuals_mid_run_never_panic_with_finite_differences() {
    for method in [Method::Trf, Method::Dogbox] {
        for jac in [JacSpec::TwoPoint, JacSpec::ThreePoint] {
            for rule in [
                NanRule::Region(-0.8),
                NanRule::Region(0.0),
                NanRule::Call(5),
            ] {
                let p = nan_rosen(rule);
                let opts = Options {
                    method,
                    jac,
                    ..Default::default()
                };
                match least_squares(&p, &[-2.0, 1.0], &opts) {
                    Ok(r) => assert!(r.x.iter().all(|v| v.is_finite()), "{method} {jac} {rule:?}"),
                    // A NaN met by a difference quotient makes J non-finite: a typed error.
                    Err(e) => assert!(
                        matches!(e, Error::NonFinite { .. } | Error::LinearAlgebra { .. }),
                        "{method} {jac} {rule:?}: {e:?}"
                    ),
                }
            }
        }
    }
}

#[test]
fn residuals_nan_everywhere_but_x0_end_by_xtol_as_in_scipy() {
    // Every trial is NaN: the radius shrinks by 4 per trial until the step no longer moves
    // x0; that trial is finite (it is x0), brings no reduction, and ends the run by xtol.
    // python3 /tmp/refs/allnan.py (scipy 1.17.1):
    //   def f(x): r = rosen(x); return r if (x[0] == -2.0 and x[1] == 1.0) else r*np.nan
    //   least_squares(f, [-2.0, 1.0], jac=rjac, method=M)
    //   → trf: x0, nfev 30, njev 1, status 3; dogbox: x0, nfev 29, njev 1, status 3
    for (method, nfev) in [(Method::Trf, 30), (Method::Dogbox, 29)] {
        let p = from_fn(2, |x: &[f64], f: &mut [f64]| {
            rosen_f(x, f);
            if x[0] != -2.0 || x[1] != 1.0 {
                f.fill(f64::NAN);
            }
        })
        .with_jacobian(rosen_j);
        let r = least_squares(&p, &[-2.0, 1.0], &analytic(method)).unwrap();
        assert_eq!(r.x, vec![-2.0, 1.0], "{method}");
        assert_counts(&r, (nfev, 1, Status::Xtol), &method.to_string());
        assert_eq!(r.cost, ROSEN_COST_X0);
        // With a smaller budget the same run ends by max_nfev, x0 unchanged.
        let opts = Options {
            max_nfev: Some(10),
            ..analytic(method)
        };
        let r = least_squares(&p, &[-2.0, 1.0], &opts).unwrap();
        assert_eq!(
            (r.x, r.nfev, r.njev, r.status),
            (vec![-2.0, 1.0], 10, Some(1), Status::MaxNfev),
            "{method}"
        );
    }
}

/// f = 1e-100·x − 3e100 from x0 = [1e200, 1e200]: residuals and gradient are moderate but
/// ‖x0‖² overflows, so scipy's initial radius ‖x0‖ (numpy's dot-based norm) is +inf.
fn huge_scale_problem() -> impl Residuals {
    from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = x[0] * 1e-100 - 3e100;
        f[1] = x[1] * 1e-100 - 3e100;
    })
    .with_jacobian(|_: &[f64], j: &mut [f64]| j.copy_from_slice(&[1e-100, 0.0, 0.0, 1e-100]))
}

/// The solution 3e200 is reached to the last bits (scipy: 2.9999999999999996e200).
const HUGE_X_RTOL: f64 = 1e-14;

fn check_huge(method: Method, nfev: usize) {
    let r = least_squares(&huge_scale_problem(), &[1e200, 1e200], &analytic(method)).unwrap();
    for v in &r.x {
        assert!(
            (v - 3e200).abs() <= HUGE_X_RTOL * 3e200,
            "{method}: {}",
            r.brief()
        );
    }
    assert_counts(&r, (nfev, nfev, Status::Gtol), &method.to_string());
}

#[test]
fn huge_x0_dogbox_converges_as_scipy() {
    // python3 /tmp/refs/huge.py (scipy 1.17.1):
    //   least_squares(lambda x: x*1e-100 - 3e100, [1e200, 1e200], jac=lambda x: np.eye(2)*1e-100, method=M)
    //   trf: x = [2.9999999999999996e200]*2, nfev 2, njev 2, status 1; dogbox: nfev 3, njev 3, status 1
    check_huge(Method::Dogbox, 3);
}

#[test]

fn huge_x0_trf_converges_as_scipy() {
    // Same scipy run as `huge_x0_dogbox_converges_as_scipy`: trf nfev 2, njev 2, status 1.
    check_huge(Method::Trf, 2);
}

// ---------------------------------------------------------------------------------------------
// Failing and panicking user code
// ---------------------------------------------------------------------------------------------

/// Rosenbrock whose residual function fails (Err or panic) on call `k`.
fn failing_rosen(k: usize, panics: bool) -> impl Residuals {
    let calls = Cell::new(0usize);
    from_fn(
        2,
        move |x: &[f64], f: &mut [f64]| -> Result<(), CallbackError> {
            calls.set(calls.get() + 1);
            if calls.get() == k {
                if panics {
                    panic!("residuals blew up on call {k}");
                }
                return Err(CallbackError::new(format!("residuals failed on call {k}")));
            }
            rosen_f(x, f);
            Ok(())
        },
    )
    .with_jacobian(rosen_j)
}

fn expect_callback_error(e: Error, needle: &str, tag: &str) -> Option<trustfit::BestPoint> {
    match e {
        Error::Callback { source, best } => {
            assert!(
                source.message.contains(needle),
                "{tag}: {:?}",
                source.message
            );
            best
        }
        other => panic!("{tag}: expected Error::Callback, got {other:?}"),
    }
}

fn check_best(best: Option<trustfit::BestPoint>, tag: &str, max_nfev: usize) {
    let b = best.unwrap_or_else(|| panic!("{tag}: no best point"));
    assert!(b.x.iter().all(|v| v.is_finite()), "{tag}: {:?}", b.x);
    assert!(
        b.cost.is_finite() && b.cost <= ROSEN_COST_X0,
        "{tag}: cost {}",
        b.cost
    );
    assert!(b.nfev >= 1 && b.nfev <= max_nfev, "{tag}: nfev {}", b.nfev);
    // The best point is a point the solver evaluated: its cost is the true cost there.
    let mut f = [0.0; 2];
    rosen_f(&b.x, &mut f);
    let cost = 0.5 * (f[0] * f[0] + f[1] * f[1]);
    assert!(
        (cost - b.cost).abs() <= 1e-12 * cost.max(1.0),
        "{tag}: cost {} at x, best says {}",
        cost,
        b.cost
    );
}

#[test]
fn residual_error_on_kth_call_surfaces_with_the_best_point() {
    for method in [Method::Trf, Method::Dogbox] {
        // Call 1 is x0: nothing solved yet, no best point.
        let e =
            least_squares(&failing_rosen(1, false), &[-2.0, 1.0], &analytic(method)).unwrap_err();
        let best = expect_callback_error(e, "failed on call 1", &format!("{method} k=1"));
        assert!(
            best.is_none(),
            "{method}: best point before the solve started"
        );
        for k in [2, 5, 9] {
            let tag = format!("{method} k={k}");
            let e = least_squares(&failing_rosen(k, false), &[-2.0, 1.0], &analytic(method))
                .unwrap_err();
            let best = expect_callback_error(e, &format!("failed on call {k}"), &tag);
            check_best(best, &tag, k);
        }
    }
}

#[test]
fn residual_error_inside_finite_differences_surfaces_with_the_best_point() {
    // 2-point: 3 calls per Jacobian (f is known), so call 11 falls in a difference quotient
    // or a trial depending on the path; either way the error carries the best point.
    for method in [Method::Trf, Method::Dogbox] {
        for jac in [JacSpec::TwoPoint, JacSpec::ThreePoint] {
            let tag = format!("{method} {jac}");
            let opts = Options {
                method,
                jac,
                ..Default::default()
            };
            let e = least_squares(&failing_rosen(11, false), &[-2.0, 1.0], &opts).unwrap_err();
            let best = expect_callback_error(e, "failed on call 11", &tag);
            check_best(best, &tag, 11);
        }
    }
}

#[test]
fn residual_panic_mid_run_surfaces_as_callback_error_with_best() {
    for method in [Method::Trf, Method::Dogbox] {
        let tag = format!("{method}");
        let e =
            least_squares(&failing_rosen(4, true), &[-2.0, 1.0], &analytic(method)).unwrap_err();
        let best = expect_callback_error(e, "residuals blew up on call 4", &tag);
        check_best(best, &tag, 4);
    }
}

#[test]
fn jacobian_panic_surfaces_as_callback_error() {
    for method in [Method::Trf, Method::Dogbox] {
        for k in [1usize, 3] {
            let calls = Cell::new(0usize);
            let p = from_fn(2, |x: &[f64], f: &mut [f64]| rosen_f(x, f)).with_jacobian(
                move |x: &[f64], j: &mut [f64]| {
                    calls.set(calls.get() + 1);
                    if calls.get() == k {
                        panic!("jacobian blew up");
                    }
                    rosen_j(x, j);
                },
            );
            let tag = format!("{method} jac call {k}");
            let e = least_squares(&p, &[-2.0, 1.0], &analytic(method)).unwrap_err();
            let best = expect_callback_error(e, "jacobian blew up", &tag);
            if k > 1 {
                check_best(best, &tag, 100);
            }
        }
    }
}

#[test]
fn jacobian_error_surfaces_as_callback_error() {
    let p = from_fn(2, |x: &[f64], f: &mut [f64]| rosen_f(x, f)).with_jacobian(
        |_: &[f64], _: &mut [f64]| -> Result<(), CallbackError> { Err("no J today".into()) },
    );
    for method in [Method::Trf, Method::Dogbox] {
        let e = least_squares(&p, &[-2.0, 1.0], &analytic(method)).unwrap_err();
        expect_callback_error(e, "no J today", &format!("{method}"));
    }
}

#[test]

fn non_finite_jacobian_is_an_error_not_convergence() {
    // scipy raises here (python3 /tmp/refs/nanjac.py): trf "ValueError: array must not
    // contain infs or NaNs" (SVD input check), dogbox "LinAlgError: SVD did not converge".
    // trustfit must not report success with a NaN gradient.
    let mut wrong = Vec::new();
    for method in [Method::Trf, Method::Dogbox] {
        // (a) an analytic Jacobian full of NaN: g = Jᵀf is all NaN.
        let p = from_fn(2, |x: &[f64], f: &mut [f64]| {
            f[0] = x[0] - 1.0;
            f[1] = x[1] - 1.0;
        })
        .with_jacobian(|_: &[f64], j: &mut [f64]| j.fill(f64::NAN));
        if let Ok(r) = least_squares(&p, &[0.0, 0.0], &analytic(method)) {
            wrong.push(format!("{method} NaN J: {}", r.brief()));
        }
        // (b) 3-point differences of sqrt at x0 = 0 step to x = −h: one NaN column.
        let p = from_fn(2, |x: &[f64], f: &mut [f64]| {
            f[0] = x[0].sqrt() - 1.0;
            f[1] = x[1];
        });
        let opts = Options {
            method,
            jac: JacSpec::ThreePoint,
            ..Default::default()
        };
        if let Ok(r) = least_squares(&p, &[0.0, 0.0], &opts) {
            wrong.push(format!("{method} sqrt 3-point: {} x {:?}", r.brief(), r.x));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Callback
// ---------------------------------------------------------------------------------------------

/// scipy's iterates and ours differ by SVD/BLAS rounding only: three iterations on
/// Rosenbrock amplify that to well below 1e-10 relative.
const CALLBACK_X_RTOL: f64 = 1e-10;

#[test]
fn callback_break_at_iteration_3_matches_scipys_stop_iteration() {
    // python3 /tmp/refs/cb.py (scipy 1.17.1):
    //   def cb(intermediate_result):
    //       if intermediate_result.nit == 3: raise StopIteration
    //   r = least_squares(rosen, [-2.0, 1.0], jac=rjac, method=M, callback=cb)
    //   trf:    status -2, nfev 6, njev 4, x = [-0.162595175419713, -0.3515081773838431],
    //           callback (nit, nfev) = (1, 2), (2, 4), (3, 6)
    //   dogbox: status -2, nfev 5, njev 4, x = [0.5627572393588862, -0.4460296470232727],
    //           callback (nit, nfev) = (1, 2), (2, 4), (3, 5)
    let cases = [
        (
            Method::Trf,
            6,
            4,
            [-0.162595175419713, -0.3515081773838431],
            [(1, 2), (2, 4), (3, 6)],
        ),
        (
            Method::Dogbox,
            5,
            4,
            [0.5627572393588862, -0.4460296470232727],
            [(1, 2), (2, 4), (3, 5)],
        ),
    ];
    for (method, nfev, njev, x_ref, seen_ref) in cases {
        let mut seen = Vec::new();
        let mut last_x = Vec::new();
        let r = least_squares_with_callback(&rosen(), &[-2.0, 1.0], &analytic(method), &mut |it| {
            seen.push((it.iteration, it.nfev));
            last_x = it.x.to_vec();
            if it.iteration == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(r.status, Status::CallbackStop, "{method}");
        assert_eq!(r.status.scipy_status(), -2);
        assert!(!r.success());
        assert_eq!(
            seen,
            seen_ref.to_vec(),
            "{method}: (nit, nfev) per callback"
        );
        assert_eq!((r.nit, r.nfev, r.njev), (3, nfev, Some(njev)), "{method}");
        assert_eq!(
            last_x, r.x,
            "{method}: the last callback x is the returned x"
        );
        for j in 0..2 {
            assert!(
                (r.x[j] - x_ref[j]).abs() <= CALLBACK_X_RTOL * x_ref[j].abs(),
                "{method}: {:?} vs scipy {x_ref:?}",
                r.x
            );
        }
    }
}

/// Optimality and gradient are O(10–100) values computed from the iterates; the x
/// agreement (CALLBACK_X_RTOL) carries over to them amplified by ‖∇²F‖·‖x‖/‖g‖ ≲ 10².
const CALLBACK_G_RTOL: f64 = 1e-8;

#[test]
fn callback_stop_reports_scipys_optimality_and_gradient() {
    // Spec §2.6: after a StopIteration the loop head is skipped, so `optimality` (and
    // dogbox's `grad`) describe the x before the last step, while trf's grad, fun and cost
    // are those of the final x. python3 /tmp/refs/cb2.py (scipy 1.17.1), same stop as above:
    //   trf:    optimality 67.99800285031418, grad [-13.453013871976278, -37.79453684536103],
    //           cost 7.817948847731359
    //   dogbox: optimality 80.74460273580057, grad [-51.65248085275087, -80.74460273580057],
    //           cost 29.18308916256679
    let cases = [
        (
            Method::Trf,
            67.99800285031418,
            [-13.453013871976278, -37.79453684536103],
            7.817948847731359,
        ),
        (
            Method::Dogbox,
            80.74460273580057,
            [-51.65248085275087, -80.74460273580057],
            29.18308916256679,
        ),
    ];
    let close = |a: f64, b: f64| (a - b).abs() <= CALLBACK_G_RTOL * b.abs();
    for (method, optimality, grad, cost) in cases {
        let r = least_squares_with_callback(&rosen(), &[-2.0, 1.0], &analytic(method), &mut |it| {
            if it.iteration == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert!(
            close(r.optimality, optimality),
            "{method}: optimality {} vs scipy {optimality}",
            r.optimality
        );
        assert!(
            close(r.grad[0], grad[0]) && close(r.grad[1], grad[1]),
            "{method}: grad {:?} vs scipy {grad:?}",
            r.grad
        );
        assert!(
            close(r.cost, cost),
            "{method}: cost {} vs scipy {cost}",
            r.cost
        );
        let mut f = [0.0; 2];
        rosen_f(&r.x, &mut f);
        assert_eq!(r.fun, f.to_vec(), "{method}: fun is f at the returned x");
    }
}

#[test]
fn callback_continue_changes_nothing() {
    for method in [Method::Trf, Method::Dogbox] {
        let plain = least_squares(&rosen(), &[-2.0, 1.0], &analytic(method)).unwrap();
        let mut calls = 0;
        let r = least_squares_with_callback(&rosen(), &[-2.0, 1.0], &analytic(method), &mut |_| {
            calls += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(
            (r.x.clone(), r.nfev, r.njev, r.status),
            (plain.x, plain.nfev, plain.njev, plain.status)
        );
        assert_eq!(calls, r.nit, "{method}: one callback per iteration");
    }
}

#[test]
fn callback_panic_surfaces_as_callback_error_with_best() {
    for method in [Method::Trf, Method::Dogbox] {
        let e = least_squares_with_callback(&rosen(), &[-2.0, 1.0], &analytic(method), &mut |it| {
            if it.iteration == 2 {
                panic!("callback blew up");
            }
            ControlFlow::Continue(())
        })
        .unwrap_err();
        let tag = format!("{method}");
        let best = expect_callback_error(e, "callback blew up", &tag);
        check_best(best, &tag, 100);
    }
}

// ---------------------------------------------------------------------------------------------
// max_nfev
// ---------------------------------------------------------------------------------------------

#[test]
fn max_nfev_counts_match_scipy() {
    // Spec §2.3 (scipy 1.17.1), Rosenbrock x0 = [-2, 1], analytic J: trf/dogbox
    // max_nfev 1 → nfev 1 njev 1; 2 → 2, 2; 3 → 3, 2; all status 0.
    for method in [Method::Trf, Method::Dogbox] {
        for (k, nfev, njev) in [(1, 1, 1), (2, 2, 2), (3, 3, 2)] {
            let opts = Options {
                max_nfev: Some(k),
                ..analytic(method)
            };
            let r = least_squares(&rosen(), &[-2.0, 1.0], &opts).unwrap();
            assert_counts(
                &r,
                (nfev, njev, Status::MaxNfev),
                &format!("{method} max_nfev {k}"),
            );
        }
    }
}

#[test]
fn nfev_never_exceeds_max_nfev() {
    for method in [Method::Trf, Method::Dogbox] {
        for jac in [JacSpec::Analytic, JacSpec::TwoPoint, JacSpec::ThreePoint] {
            for k in 1..=25 {
                let opts = Options {
                    method,
                    jac,
                    max_nfev: Some(k),
                    ..Default::default()
                };
                let r = least_squares(&rosen(), &[-2.0, 1.0], &opts).unwrap();
                assert!(r.nfev <= k, "{method} {jac} max_nfev {k}: nfev {}", r.nfev);
                assert!(
                    r.status == Status::MaxNfev || r.success(),
                    "{method} {jac} {k}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// workers
// ---------------------------------------------------------------------------------------------

fn thread_safe_problem() -> impl Residuals {
    // Bard-like rational model with 4 parameters: several FD columns to spread over threads.
    from_fn(11, |x: &[f64], f: &mut [f64]| {
        for i in 0..11 {
            let u = 0.1 * i as f64 + 0.2;
            f[i] = x[0] * (u * u + x[1] * u) / (u * u + x[2] * u + x[3]) - (0.5 + 0.3 * u).sin();
        }
    })
    .thread_safe()
}

#[test]
fn parallel_differences_are_bitwise_identical_to_serial() {
    let p = thread_safe_problem();
    let x0 = [0.25, 0.39, 0.415, 0.39];
    for method in [Method::Trf, Method::Dogbox] {
        for jac in [JacSpec::TwoPoint, JacSpec::ThreePoint] {
            for bounds in [Bounds::none(), Bounds::uniform(0.0, 1.0)] {
                let serial = Options {
                    method,
                    jac,
                    bounds: bounds.clone(),
                    ..Default::default()
                };
                let parallel = Options {
                    workers: Some(2),
                    ..serial.clone()
                };
                let a = least_squares(&p, &x0, &serial).unwrap();
                let b = least_squares(&p, &x0, &parallel).unwrap();
                let tag = format!("{method} {jac} {bounds:?}");
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a.x), bits(&b.x), "{tag}");
                assert_eq!(bits(&a.jac), bits(&b.jac), "{tag}");
                assert_eq!(a.cost.to_bits(), b.cost.to_bits(), "{tag}");
                assert_eq!(
                    (a.nfev, a.njev, a.status),
                    (b.nfev, b.njev, b.status),
                    "{tag}"
                );
                assert!(b.warnings.is_empty(), "{tag}: {:?}", b.warnings);
            }
        }
    }
}

#[test]
fn workers_on_a_problem_not_marked_thread_safe_warn_and_run_serially() {
    let opts = Options {
        workers: Some(2),
        ..Default::default()
    };
    let serial = least_squares(&rosen(), &[-2.0, 1.0], &Options::default()).unwrap();
    let r = least_squares(&rosen(), &[-2.0, 1.0], &opts).unwrap();
    assert_eq!((r.x, r.nfev), (serial.x, serial.nfev));
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("thread-safe"), "{:?}", r.warnings);
}

#[test]
fn parallel_differences_surface_user_panics() {
    // A panic on a worker thread must come back as Error::Callback, not abort the process.
    let p = from_fn(3, |x: &[f64], f: &mut [f64]| {
        if x[2] > 0.5 + 1e-9 && x[2] < 0.6 {
            panic!("worker blew up");
        }
        f[0] = x[0] - 1.0;
        f[1] = x[1] - 2.0;
        f[2] = x[2] - 3.0;
    })
    .thread_safe();
    let opts = Options {
        workers: Some(2),
        ..Default::default()
    };
    let e = least_squares(&p, &[0.0, 0.0, 0.5], &opts).unwrap_err();
    expect_callback_error(e, "worker blew up", "workers");
}

/// The first Jacobian evaluation fails (a panic, an error, NaN entries, a panicking
/// residual inside parallel finite differences): every method keeps x0 as the best point
/// (lm takes a NaN J as scipy does),
/// with its cost (f(x0) = (−30, 3): ½(900 + 9)) and the one evaluation made.
#[test]
fn a_failing_first_jacobian_keeps_x0_as_the_best_point() {
    type Jac = fn(&[f64], &mut [f64]) -> Result<(), CallbackError>;
    let failures: [(&str, Jac); 3] = [
        ("panic", |_, _| panic!("jacobian blew up")),
        ("error", |_, _| Err("no J today".into())),
        ("nan", |_, j| {
            j.fill(f64::NAN);
            Ok(())
        }),
    ];
    for method in [Method::Trf, Method::Dogbox, Method::Lm] {
        for (what, jac) in failures {
            let p = from_fn(2, |x: &[f64], f: &mut [f64]| rosen_f(x, f)).with_jacobian(jac);
            let result = least_squares(&p, &[-2.0, 1.0], &analytic(method));
            if method == Method::Lm && what == "nan" {
                // lm gives MINPACK the NaN J, as scipy does: status 1 at x0 (scipy 1.17.1,
                // least_squares(rosen, [-2, 1], jac=lambda x: np.full((2, 2), np.nan),
                // method='lm')).
                let r = result.unwrap();
                assert_eq!(
                    (r.status.scipy_status(), r.x.as_slice()),
                    (1, [-2.0, 1.0].as_slice())
                );
                continue;
            }
            let e = result.unwrap_err();
            let best = e
                .best()
                .unwrap_or_else(|| panic!("{method} {what}: no best point in {e}"));
            assert_eq!(best.x, [-2.0, 1.0], "{method} {what}");
            assert!(
                (best.cost - 454.5).abs() < 1e-12,
                "{method} {what}: {}",
                best.cost
            );
            assert_eq!(best.nfev, 1, "{method} {what}");
        }
    }
    // Parallel forward differences: a residual that panics away from x0.
    let p = from_fn(2, |x: &[f64], f: &mut [f64]| {
        assert!(x == [-2.0, 1.0], "away from x0");
        rosen_f(x, f);
    });
    for method in [Method::Trf, Method::Dogbox] {
        let opts = Options {
            method,
            workers: Some(2),
            ..Default::default()
        };
        let e = least_squares(&p, &[-2.0, 1.0], &opts).unwrap_err();
        let best = e
            .best()
            .unwrap_or_else(|| panic!("{method} workers: no best point in {e}"));
        assert_eq!(
            (best.x.as_slice(), best.cost),
            ([-2.0, 1.0].as_slice(), 454.5)
        );
    }
}
