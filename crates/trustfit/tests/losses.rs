//! Robust losses (spec §3): the built-in ρ, ρ′, ρ″ against numerical derivatives, the
//! robust scaling of J at x0 (§3.3) against scipy 1.17.1, and user-defined losses (equal to a
//! built-in one, failing, panicking).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::fixture_problems::{FixtureProblem, least_squares_problem};
use trustfit::{
    CallbackError, EPS, Error, JacSpec, Loss, Method, Options, Residuals, from_fn, least_squares,
    loss_values,
};

const BUILT_IN: [Loss; 5] = [
    Loss::Linear,
    Loss::SoftL1,
    Loss::Huber,
    Loss::Cauchy,
    Loss::Arctan,
];

/// Points where the derivatives are checked; huber's kink at z = 1 is avoided (and every
/// difference stencil below stays on one side of it).
const Z_POINTS: [f64; 14] = [
    0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 0.99, 1.01, 1.5, 2.0, 3.0, 10.0, 30.0, 100.0,
];

/// Relative step of the central differences: h = 1e-5·z.
const REL_STEP: f64 = 1e-5;

/// Central differences with h = 1e-5·z have truncation error h²|ρ‴|/6 ≲ 1e-10·|ρ′| and
/// rounding error ≈ EPS·|ρ|/h ≲ 1e-9·|ρ′| over these z (worst: arctan's ρ″ at z = 100,
/// ≈ 2e-6); 1e-7 relative leaves two orders of headroom without hiding a wrong formula
/// (a sign or factor error is O(1)).
const FD_RTOL: f64 = 1e-7;

/// Absolute floor for derivatives that are exactly 0 (linear ρ″, huber ρ″ below z = 1):
/// the difference of a constant ρ′ is exactly 0, a few ulps of slack.
const FD_ATOL: f64 = 1e-14;

fn values(loss: &Loss, z: f64) -> [f64; 3] {
    loss_values(loss, z).unwrap_or_else(|| panic!("{loss:?} is built in"))
}

#[test]
fn first_and_second_derivatives_match_central_differences() {
    let mut failures = Vec::new();
    for loss in &BUILT_IN {
        for &z in &Z_POINTS {
            let h = REL_STEP * z;
            let [_, d1, d2] = values(loss, z);
            let [rho_p, d1_p, _] = values(loss, z + h);
            let [rho_m, d1_m, _] = values(loss, z - h);
            let dx = (z + h) - (z - h);
            let fd1 = (rho_p - rho_m) / dx;
            let fd2 = (d1_p - d1_m) / dx;
            for (what, fd, exact) in [("rho'", fd1, d1), ("rho''", fd2, d2)] {
                if (fd - exact).abs() > FD_RTOL * exact.abs() + FD_ATOL {
                    failures.push(format!(
                        "{loss:?} z={z}: {what} {exact:e}, differences {fd:e}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_loss_is_zero_with_unit_slope_at_zero() {
    for loss in &BUILT_IN {
        let [rho, d1, _] = values(loss, 0.0);
        assert_eq!((rho, d1), (0.0, 1.0), "{loss:?}");
    }
}

#[test]
fn losses_match_their_definitions_on_both_sides_of_the_huber_kink() {
    // Spec §3.1 table, exact up to libm's pow/sqrt (the same calls on both sides).
    for z in [0.25, 4.0] {
        assert_eq!(values(&Loss::Linear, z), [z, 1.0, 0.0]);
        let t: f64 = 1.0 + z;
        assert_eq!(
            values(&Loss::SoftL1, z),
            [2.0 * (t.sqrt() - 1.0), t.powf(-0.5), -0.5 * t.powf(-1.5)]
        );
        assert_eq!(
            values(&Loss::Cauchy, z),
            [z.ln_1p(), 1.0 / t, -1.0 / (t * t)]
        );
        let a = 1.0 + z * z;
        assert_eq!(
            values(&Loss::Arctan, z),
            [z.atan(), 1.0 / a, -2.0 * z / (a * a)]
        );
    }
    assert_eq!(values(&Loss::Huber, 0.25), [0.25, 1.0, 0.0]);
    assert_eq!(values(&Loss::Huber, 1.0), [1.0, 1.0, 0.0]);
    assert_eq!(
        values(&Loss::Huber, 4.0),
        [3.0, 0.5, -0.5 * 4f64.powf(-1.5)]
    );
}

#[test]
fn custom_losses_have_no_built_in_values() {
    let l = Loss::custom(|_, _, _, _| Ok(()));
    assert!(loss_values(&l, 1.0).is_none());
}

// ---------------------------------------------------------------------------------------------
// §3.3: robust scaling of J, reported as `report.jac`
// ---------------------------------------------------------------------------------------------

fn scalar_sq() -> impl Residuals {
    // scipy's test problem: f = x² + 5, J = 2x.
    from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] * x[0] + 5.0)
        .with_jacobian(|x: &[f64], j: &mut [f64]| j[0] = 2.0 * x[0])
}

/// The scaled J is 4·√w with w from pow/sqrt of libm: scipy's numbers are reproduced to
/// the last bit on glibc; 4 ulps allow another libm's pow to differ in the last place.
const JAC_ULPS: f64 = 4.0 * EPS;

#[test]
fn robust_jacobian_scaling_at_x0_matches_scipy() {
    // max_nfev = 1: the loop head stops before any trial (nfev == max_nfev), so x stays at
    // x0 = 2 and `jac` is the robust-scaled J(x0). Values from
    //   python3 -c "import numpy as np; from scipy.optimize import least_squares as ls;
    //     r = ls(lambda x: x**2 + 5, 2.0, jac=lambda x: np.atleast_2d(2*x), loss=LOSS,
    //            f_scale=C, max_nfev=1, method=METHOD); print(r.x, r.jac, r.nfev, r.njev, r.status, r.cost)"
    // (scipy 1.17.1; identical for trf and dogbox; also the spec3.3 cases of least_squares.json).
    let sqrt_eps_4 = 5.960464477539063e-08; // 4·√EPS: w < EPS is clamped (huber: w = 0; cauchy, arctan: w < 0)
    let cases: [(Loss, f64, f64, f64); 6] = [
        (Loss::Linear, 1.0, 4.0, 40.5),
        (Loss::Huber, 1.0, sqrt_eps_4, 8.5),
        (Loss::SoftL1, 1.0, 0.14679105846022328, 8.055385138137417), // ≈ 4·(1+81)^(−3/4)
        (Loss::Cauchy, 1.0, sqrt_eps_4, 2.2033596236321267),
        (Loss::Arctan, 1.0, sqrt_eps_4, 0.779225637475336),
        (Loss::Huber, 10.0, 4.0, 40.5), // |f| = 9 < C: inside the quadratic zone
    ];
    for method in [Method::Trf, Method::Dogbox] {
        for (loss, f_scale, jac, cost) in &cases {
            let opts = Options {
                method,
                jac: JacSpec::Analytic,
                loss: loss.clone(),
                f_scale: *f_scale,
                max_nfev: Some(1),
                ..Default::default()
            };
            let r = least_squares(&scalar_sq(), &[2.0], &opts).unwrap();
            let tag = format!("{method} {loss:?} C={f_scale}");
            assert_eq!(r.x, vec![2.0], "{tag}");
            assert_eq!(
                (r.nfev, r.njev, r.status.scipy_status()),
                (1, Some(1), 0),
                "{tag}"
            );
            assert_eq!(r.fun, vec![9.0], "{tag}: fun is never loss-scaled");
            assert!(
                (r.jac[0] - jac).abs() <= JAC_ULPS * jac.abs(),
                "{tag}: jac {} vs scipy {jac}",
                r.jac[0]
            );
            assert!(
                (r.cost - cost).abs() <= JAC_ULPS * cost,
                "{tag}: cost {} vs scipy {cost}",
                r.cost
            );
        }
    }
    // The closed forms of spec §3.3 agree with scipy's numbers to rounding.
    assert_eq!(4.0 * EPS.sqrt(), sqrt_eps_4);
    let soft = 4.0 * 82f64.powf(-0.75);
    assert!((soft - 0.14679105846022328).abs() <= CLOSED_FORM_RTOL * soft);
}

/// scipy computes soft_l1's w = ρ′ + 2ρ″f² = 82^(−1/2) − 81·82^(−3/2), which cancels
/// log2(82) ≈ 6.4 bits against the closed form 82^(−3/2): ≈ 82 ulps apart, so 128 EPS.
const CLOSED_FORM_RTOL: f64 = 128.0 * EPS;

// ---------------------------------------------------------------------------------------------
// User-defined losses
// ---------------------------------------------------------------------------------------------

fn expfit() -> FixtureProblem {
    least_squares_problem("expfit")
}

/// `report.jac` and `report.grad` are recomputed here from the same formulas (spec §3.3)
/// in a different summation order: agreement to a few hundred ulps of the largest entry.
const SCALED_JAC_RTOL: f64 = 1e-12;

#[test]
fn report_jac_is_the_robust_scaled_jacobian_at_the_final_x() {
    // Spec §2.1: res.jac = diag(s)·J(x) and res.grad = Jᵀ(ρ′⊙f) at the returned x.
    let problem = expfit();
    let (m, n, c) = (15, 3, 0.1);
    for method in [Method::Trf, Method::Dogbox] {
        for loss in [Loss::SoftL1, Loss::Huber, Loss::Cauchy, Loss::Arctan] {
            let opts = Options {
                method,
                loss: loss.clone(),
                f_scale: c,
                jac: JacSpec::Analytic,
                ..Default::default()
            };
            let r = least_squares(&problem, &[1.0, 1.0, 0.0], &opts).unwrap();
            let mut jac = vec![0.0; m * n];
            Residuals::jacobian(&problem, &r.x, &mut jac).unwrap();
            let jmax = jac.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let mut grad = [0.0; 3];
            for i in 0..m {
                let f = r.fun[i];
                let [_, d1, d2] = values(&loss, (f / c) * (f / c));
                let w = (d1 + 2.0 * (d2 / (c * c)) * f * f).max(EPS);
                for j in 0..n {
                    let expected = jac[i * n + j] * w.sqrt();
                    let got = r.jac[i * n + j];
                    assert!(
                        (got - expected).abs() <= SCALED_JAC_RTOL * jmax,
                        "{method} {loss:?} J[{i},{j}] {got} vs {expected}"
                    );
                    grad[j] += jac[i * n + j] * d1 * f;
                }
            }
            for j in 0..n {
                assert!(
                    (r.grad[j] - grad[j]).abs()
                        <= SCALED_JAC_RTOL
                            * jmax
                            * r.fun.iter().fold(0.0f64, |a, v| a.max(v.abs()))
                            * m as f64,
                    "{method} {loss:?} grad {:?} vs {grad:?}",
                    r.grad
                );
            }
        }
    }
}

fn soft_l1_by_hand() -> Loss {
    Loss::custom(|z, rho, d1, d2| {
        for i in 0..z.len() {
            let t = 1.0 + z[i];
            rho[i] = 2.0 * (t.sqrt() - 1.0);
            d1[i] = t.powf(-0.5);
            d2[i] = -0.5 * t.powf(-1.5);
        }
        Ok(())
    })
}

/// A custom loss differs from the built-in one only in how a trial cost is rounded
/// (spec §3.2: `½·Σ(C²ρᵢ)` instead of `(½C²)·Σρᵢ`, ~1e-16 relative), so the iterates agree
/// bit for bit until a ratio or termination test lands within rounding of its threshold;
/// the first iterations are compared to 1e-12 relative (a wrongly evaluated loss changes
/// the first step by O(1)).
const TRAJECTORY_RTOL: f64 = 1e-12;
/// How many leading iterations are compared.
const TRAJECTORY_ITERATIONS: usize = 5;
/// The expfit soft_l1 minimum is flat: scipy's own trf and dogbox answers (ftol vs gtol
/// exit) differ by 1e-6 relative in x (spec §13), so two correct runs agree to ~1e-5.
const FLAT_X_RTOL: f64 = 1e-5;
/// ... while their costs agree to ~1e-11 relative (spec §13 rows: 3.931316e-01 both).
const FLAT_COST_RTOL: f64 = 1e-10;

fn close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * a.abs().max(b.abs())
}

/// Runs with a callback recording the iterates.
fn trajectory(problem: &FixtureProblem, opts: &Options) -> (trustfit::Report, Vec<Vec<f64>>) {
    let mut xs = Vec::new();
    let r = trustfit::least_squares_with_callback(problem, &[1.0, 1.0, 0.0], opts, &mut |it| {
        xs.push(it.x.to_vec());
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    (r, xs)
}

#[test]
fn custom_soft_l1_reproduces_the_built_in_soft_l1_on_expfit() {
    let problem = expfit();
    for method in [Method::Trf, Method::Dogbox] {
        let base = Options {
            method,
            f_scale: 0.1,
            ..Default::default()
        };
        let built_in = Options {
            loss: Loss::SoftL1,
            ..base.clone()
        };
        let custom = Options {
            loss: soft_l1_by_hand(),
            ..base
        };
        let (a, xa) = trajectory(&problem, &built_in);
        let (b, xb) = trajectory(&problem, &custom);
        assert!(
            a.success() && b.success(),
            "{method}: {} / {}",
            a.brief(),
            b.brief()
        );
        for k in 0..TRAJECTORY_ITERATIONS {
            for j in 0..3 {
                assert!(
                    close(xa[k][j], xb[k][j], TRAJECTORY_RTOL),
                    "{method} iteration {}: {:?} vs {:?}",
                    k + 1,
                    xa[k],
                    xb[k]
                );
            }
        }
        for j in 0..3 {
            assert!(
                close(a.x[j], b.x[j], FLAT_X_RTOL),
                "{method}: {:?} vs {:?}",
                a.x,
                b.x
            );
        }
        assert!(
            close(a.cost, b.cost, FLAT_COST_RTOL),
            "{method}: {} vs {}",
            a.cost,
            b.cost
        );
    }
}

#[test]
fn custom_soft_l1_reaches_scipys_expfit_solution() {
    // least_squares.json, case expfit_trf_2point_soft_l1_fs0p1 (scipy 1.17.1, = spec §13):
    // x = [0.5293744199388289, 1.9693665556820557, -0.9257960479551864],
    // cost 0.3931315737093243, status 2.
    let opts = Options {
        loss: soft_l1_by_hand(),
        f_scale: 0.1,
        ..Default::default()
    };
    let r = least_squares(&expfit(), &[1.0, 1.0, 0.0], &opts).unwrap();
    let x_ref = [0.5293744199388289, 1.9693665556820557, -0.9257960479551864];
    let cost_ref = 0.3931315737093243;
    for j in 0..3 {
        assert!(close(r.x[j], x_ref[j], FLAT_X_RTOL), "{:?}", r.x);
    }
    assert!(
        close(r.cost, cost_ref, FLAT_COST_RTOL),
        "{} vs {cost_ref}",
        r.cost
    );
    assert!(r.success(), "{}", r.brief());
}

#[test]
fn report_cost_is_the_f_scaled_robust_cost() {
    // cost = ½ Σ C² ρ((fᵢ/C)²) at the returned x, for every built-in loss.
    let problem = expfit();
    for loss in BUILT_IN {
        let opts = Options {
            loss: loss.clone(),
            f_scale: 0.1,
            ..Default::default()
        };
        let r = least_squares(&problem, &[1.0, 1.0, 0.0], &opts).unwrap();
        let cost: f64 = if loss == Loss::Linear {
            0.5 * r.fun.iter().map(|f| f * f).sum::<f64>()
        } else {
            0.5 * 0.01
                * r.fun
                    .iter()
                    .map(|f| values(&loss, (f / 0.1) * (f / 0.1))[0])
                    .sum::<f64>()
        };
        // Summation order may differ from the solver's: a few ulps per term.
        assert!(
            (r.cost - cost).abs() <= 1e-13 * cost,
            "{loss:?}: {} vs {cost}",
            r.cost
        );
    }
}

/// Cauchy written by hand that fails with `Err` on call number `fail_at` (1-based).
fn failing_cauchy(fail_at: usize, calls: Arc<AtomicUsize>) -> Loss {
    Loss::custom(move |z, rho, d1, d2| {
        if calls.fetch_add(1, Ordering::SeqCst) + 1 == fail_at {
            return Err(CallbackError::new("loss refused"));
        }
        for i in 0..z.len() {
            rho[i] = z[i].ln_1p();
            d1[i] = 1.0 / (1.0 + z[i]);
            d2[i] = -d1[i] * d1[i];
        }
        Ok(())
    })
}

#[test]
fn custom_loss_error_surfaces_as_callback_error() {
    // Call 1 is the set-up at x0; call 4 is a trial cost during the iterations, when a best
    // point exists (the initial point at least).
    for fail_at in [1, 4] {
        for method in [Method::Trf, Method::Dogbox] {
            let calls = Arc::new(AtomicUsize::new(0));
            let opts = Options {
                loss: failing_cauchy(fail_at, calls.clone()),
                method,
                ..Default::default()
            };
            let e = least_squares(&expfit(), &[1.0, 1.0, 0.0], &opts).unwrap_err();
            let tag = format!("{method} fail_at {fail_at}");
            match &e {
                Error::Callback { source, best } => {
                    assert_eq!(source.message, "loss refused", "{tag}");
                    if fail_at > 1 {
                        let b = best
                            .as_ref()
                            .unwrap_or_else(|| panic!("{tag}: no best point"));
                        assert!(b.x.iter().all(|v| v.is_finite()), "{tag}");
                        assert!(b.nfev >= 1, "{tag}");
                    }
                }
                other => panic!("{tag}: {other:?}"),
            }
            assert_eq!(
                calls.load(Ordering::SeqCst),
                fail_at,
                "{tag}: the loss is not called after failing"
            );
        }
    }
}

#[test]
fn custom_loss_panic_surfaces_as_callback_error() {
    let loss = Loss::custom(|z, _, _, _| {
        if z[0] >= 0.0 {
            panic!("loss exploded");
        }
        Ok(())
    });
    for method in [Method::Trf, Method::Dogbox] {
        let opts = Options {
            loss: loss.clone(),
            method,
            ..Default::default()
        };
        let e = least_squares(&expfit(), &[1.0, 1.0, 0.0], &opts).unwrap_err();
        match e {
            Error::Callback { source, .. } => {
                assert!(
                    source.message.contains("loss exploded"),
                    "{}",
                    source.message
                );
            }
            other => panic!("{method}: {other:?}"),
        }
    }
}

/// Residuals so large that (f/f_scale)² overflows at x0: scipy raises (its SVD meets
/// the NaN of ρ″·f² = −0·∞); trustfit names the cause, where it reported a gradient of
/// zero as convergence (status 1, cost ∞) before.
#[test]
fn a_robust_loss_that_overflows_at_x0_is_an_error_that_names_the_cause() {
    let huge = from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = x[0] - 1.0;
        f[1] = x[0] * 1e10;
    });
    for loss in [Loss::SoftL1, Loss::Huber, Loss::Cauchy, Loss::Arctan] {
        for method in [Method::Trf, Method::Dogbox] {
            let opts = Options {
                loss: loss.clone(),
                method,
                ..Options::default()
            };
            match least_squares(&huge, &[1e160], &opts) {
                Err(Error::NonFinite { what, .. }) => {
                    assert!(what.contains("f_scale") && what.contains("1e170"), "{what}")
                }
                other => panic!("{loss:?} {method:?}: {other:?}"),
            }
            // A start the loss can take solves as before.
            let r = least_squares(&huge, &[1.0], &opts).unwrap();
            assert!(r.cost.is_finite(), "{loss:?} {method:?}");
        }
    }
}
