//! Jacobian kinds (spec §5): forward and central differences, complex step and analytic
//! Jacobians give the same solutions on trf and dogbox; the difference steps follow scipy's
//! rules (relative `diff_step`, the x = 0 fallback, one-sided steps at a bound), checked
//! against scipy 1.17.1's `res.jac` at x0; 3-point differences at a bound never leave the box.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;

use common::fixture_problems::{FixtureProblem, least_squares_problem};
use common::logged::{corner, corner_bounds};
use trustfit::{Bounds, EPS, JacSpec, Method, Options, Report, Residuals, least_squares};

fn problem(name: &str) -> FixtureProblem {
    least_squares_problem(name)
}

const FD_KINDS: [JacSpec; 3] = [JacSpec::TwoPoint, JacSpec::ThreePoint, JacSpec::ComplexStep];
const METHODS: [Method; 2] = [Method::Trf, Method::Dogbox];

/// Problems with a well-determined minimum (scipy succeeds on each; least_squares.json):
/// (name, x0, bounds).
fn cases() -> Vec<(&'static str, [f64; 2], Bounds)> {
    vec![
        ("rosenbrock", [-2.0, 1.0], Bounds::none()),
        ("expdecay", [1.0, 1.0], Bounds::none()),
        ("trig_bounded", [1.0, 1.0], Bounds::none()),
        (
            "trig_bounded",
            [1.0, 1.0],
            Bounds::new(vec![0.0, -1.0], vec![2.0, 5.0]),
        ),
        (
            "expdecay",
            [1.0, 1.0],
            Bounds::new(vec![0.0, 0.0], vec![5.0, 1.0]),
        ),
    ]
}

/// Solutions with different Jacobians agree to the accuracy the default tolerances pin x
/// down (ftol = xtol = 1e-8 ⇒ relative x error ≲ 1e-8·cond; cond ≲ 10² here), and the
/// 2-point Jacobian's own error (√EPS ≈ 1.5e-8 relative) shifts the nonzero-residual
/// minimisers by about as much: 1e-6 relative (absolute near 0) holds with margin.
const X_RTOL: f64 = 1e-6;
/// Costs agree to second order in the x difference.
const COST_RTOL: f64 = 1e-10;

fn agree(a: &Report, b: &Report) -> Result<(), String> {
    for j in 0..a.x.len() {
        if (a.x[j] - b.x[j]).abs() > X_RTOL * a.x[j].abs().max(1.0) {
            return Err(format!("x {:?} vs analytic {:?}", b.x, a.x));
        }
    }
    if (a.cost - b.cost).abs() > COST_RTOL * a.cost.max(1e-300) && (a.cost - b.cost).abs() > 1e-25 {
        return Err(format!("cost {:e} vs analytic {:e}", b.cost, a.cost));
    }
    if !b.success() {
        return Err(format!("no success: {}", b.brief()));
    }
    Ok(())
}

#[test]
fn every_jacobian_kind_agrees_with_the_analytic_run() {
    let mut failures = Vec::new();
    for (name, x0, bounds) in cases() {
        let p = problem(name);
        for method in METHODS {
            let base = Options {
                method,
                bounds: bounds.clone(),
                ..Default::default()
            };
            let exact = least_squares(
                &p,
                &x0,
                &Options {
                    jac: JacSpec::Analytic,
                    ..base.clone()
                },
            )
            .unwrap();
            assert!(
                exact.success(),
                "{name} {method} analytic: {}",
                exact.brief()
            );
            for jac in FD_KINDS {
                let r = least_squares(
                    &p,
                    &x0,
                    &Options {
                        jac,
                        ..base.clone()
                    },
                )
                .unwrap();
                if let Err(e) = agree(&exact, &r) {
                    failures.push(format!("{name} {bounds:?} {method} {jac}: {e}"));
                }
                if bounds != Bounds::none() {
                    assert_eq!(r.active_mask, exact.active_mask, "{name} {method} {jac}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rosenbrock_counts_are_the_same_for_every_jacobian_kind() {
    // Spec §13 (scipy 1.17.1): Rosenbrock [-2, 1] takes nfev 18 / njev 13 (trf) and
    // 20 / 15 (dogbox) with the callable, 2-point and 3-point Jacobians alike; cs too.
    let p = problem("rosenbrock");
    for (method, nfev, njev) in [(Method::Trf, 18, 13), (Method::Dogbox, 20, 15)] {
        for jac in [
            JacSpec::Analytic,
            JacSpec::TwoPoint,
            JacSpec::ThreePoint,
            JacSpec::ComplexStep,
        ] {
            let r = least_squares(
                &p,
                &[-2.0, 1.0],
                &Options {
                    method,
                    jac,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(
                (r.nfev, r.njev, r.status.scipy_status()),
                (nfev, Some(njev), 1),
                "{method} {jac}"
            );
            assert!(
                (r.x[0] - 1.0).abs() < 1e-10 && (r.x[1] - 1.0).abs() < 1e-10,
                "{method} {jac}: {:?}",
                r.x
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The Jacobian at x0 against scipy's `res.jac` (max_nfev = 1 keeps x at x0)
// ---------------------------------------------------------------------------------------------

fn jac_at_x0(p: &impl Residuals, x0: &[f64], opts: Options) -> Vec<f64> {
    let r = least_squares(
        p,
        x0,
        &Options {
            max_nfev: Some(1),
            ..opts
        },
    )
    .unwrap();
    assert_eq!(r.nfev, 1);
    r.jac
}

#[test]
fn difference_steps_match_scipy_bitwise() {
    // python3 /tmp/refs/fdjac.py (scipy 1.17.1):
    //   r = least_squares(rosen, x0, jac=JAC, diff_step=DS, max_nfev=1); r.jac.ravel()
    // Rosenbrock's residuals are + − × only, so the difference quotients are reproduced
    // exactly when the steps are scipy's (spec §5.1: h = diff_step·sign(x)·|x|, falling back
    // to the default step √EPS·max(1,|x|) (2-point) or EPS^(1/3)·… (3-point) where x = 0;
    // 3-point always central with h = |h|).
    let p = problem("rosenbrock");
    type Case = (JacSpec, Option<f64>, [f64; 2], [f64; 4]);
    let cases: [Case; 8] = [
        (
            JacSpec::TwoPoint,
            None,
            [-2.0, 1.0],
            [40.00000023841858, 10.0, -1.0, 0.0],
        ),
        (
            JacSpec::TwoPoint,
            None,
            [0.0, 1.0],
            [-1.1920928955078125e-07, 10.0, -1.0, 0.0],
        ),
        (
            JacSpec::TwoPoint,
            Some(1e-3),
            [-2.0, 1.0],
            [40.01999999999924, 9.999999999999112, -1.0, 0.0],
        ),
        (
            JacSpec::TwoPoint,
            Some(1e-3),
            [0.0, 1.0],
            [-1.1920928955078125e-07, 9.999999999999112, -1.0, 0.0],
        ),
        (
            JacSpec::ThreePoint,
            None,
            [-2.0, 1.0],
            [
                39.99999999977999,
                10.000000000275014,
                -1.0000000000091671,
                0.0,
            ],
        ),
        (
            JacSpec::ThreePoint,
            None,
            [0.0, 1.0],
            [0.0, 9.999999999981666, -0.9999999999960519, 0.0],
        ),
        (
            JacSpec::ThreePoint,
            Some(1e-3),
            [-2.0, 1.0],
            [
                39.99999999999955,
                9.999999999998556,
                -0.9999999999999445,
                0.0,
            ],
        ),
        (
            JacSpec::ThreePoint,
            Some(1e-3),
            [0.0, 1.0],
            [0.0, 9.999999999999444, -0.9999999999960519, 0.0],
        ),
    ];
    let mut failures = Vec::new();
    for (jac, ds, x0, expected) in cases {
        for method in METHODS {
            let opts = Options {
                method,
                jac,
                diff_step: ds.map(|d| vec![d]),
                ..Default::default()
            };
            let got = jac_at_x0(&p, &x0, opts);
            if got != expected {
                failures.push(format!(
                    "{method} {jac} diff_step {ds:?} x0 {x0:?}: {got:?}\n    scipy {expected:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn per_variable_diff_step_equals_the_broadcast_one() {
    let p = problem("expdecay");
    for jac in [JacSpec::TwoPoint, JacSpec::ThreePoint] {
        let with_steps = |steps: Vec<f64>| {
            jac_at_x0(
                &p,
                &[1.0, 1.0],
                Options {
                    jac,
                    diff_step: Some(steps),
                    ..Default::default()
                },
            )
        };
        let one = with_steps(vec![1e-4]);
        let both = with_steps(vec![1e-4, 1e-4]);
        assert_eq!(one, both, "{jac}");
        let other = with_steps(vec![1e-4, 1e-2]);
        assert_ne!(one, other, "{jac}: the second step must be used");
        // Column 0 depends only on step 0.
        for i in 0..40 {
            assert_eq!(one[i * 2], other[i * 2], "{jac} row {i}");
        }
    }
}

/// The complex step is exact up to one rounding of Im f(x + ih)/h per entry (spec §5.3).
const CS_RTOL: f64 = 4.0 * EPS;

#[test]
fn complex_step_jacobian_equals_the_analytic_one_to_rounding() {
    for (name, x0) in [
        ("rosenbrock", [-2.0, 1.0]),
        ("expdecay", [1.0, 1.0]),
        ("trig_bounded", [1.0, 1.0]),
    ] {
        let p = problem(name);
        let cs = jac_at_x0(
            &p,
            &x0,
            Options {
                jac: JacSpec::ComplexStep,
                ..Default::default()
            },
        );
        let mut exact = vec![0.0; p.m * 2];
        Residuals::jacobian(&p, &x0, &mut exact).unwrap();
        for (k, (a, b)) in cs.iter().zip(&exact).enumerate() {
            assert!(
                (a - b).abs() <= CS_RTOL * b.abs(),
                "{name} entry {k}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn diff_step_given_still_converges_to_the_analytic_solution() {
    // Coarse relative steps (1e-3, 1e-5) make J less accurate but Rosenbrock's minimum has
    // zero residual, so every Jacobian that keeps Gauss–Newton convergent finds it exactly.
    let p = problem("rosenbrock");
    for method in METHODS {
        for jac in [JacSpec::TwoPoint, JacSpec::ThreePoint] {
            for ds in [1e-3, 1e-5] {
                let opts = Options {
                    method,
                    jac,
                    diff_step: Some(vec![ds]),
                    ..Default::default()
                };
                let r = least_squares(&p, &[-2.0, 1.0], &opts).unwrap();
                assert!(r.success(), "{method} {jac} {ds}: {}", r.brief());
                assert!(
                    (r.x[0] - 1.0).abs() < X_RTOL && (r.x[1] - 1.0).abs() < X_RTOL,
                    "{method} {jac} {ds}: {:?}",
                    r.x
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Differences at a bound
// ---------------------------------------------------------------------------------------------

fn inside(x: &[f64], b: &Bounds) -> bool {
    x.iter()
        .zip(&b.lb)
        .zip(&b.ub)
        .all(|((x, l), u)| *l <= *x && *x <= *u)
}

#[test]
fn differences_at_a_bound_match_scipy_and_stay_inside() {
    // python3 /tmp/refs/fdjac.py, last block (scipy 1.17.1):
    //   least_squares(ff, [2.0, 0.5], jac=JAC, method=M,
    //                 bounds=([-inf, -1.0], [2.0, inf]), max_nfev=1)
    // x0[0] sits on its upper bound: trf first moves x0 to 2 − 2e-10 (spec §6.4) and
    // differences there; dogbox differences at x0 itself, stepping away from the bound
    // (2-point: backward; 3-point: one-sided x − h, x − 2h).
    type Case = (Method, JacSpec, [f64; 6], Vec<[f64; 2]>);
    let cases: Vec<Case> = vec![
        (
            Method::Trf,
            JacSpec::TwoPoint,
            [
                1.0,
                0.0,
                -0.0,
                1.0,
                0.29999999701976776,
                -0.2999999988824129,
            ],
            vec![
                [1.9999999998, 0.5],
                [1.9999999699976776, 0.5],
                [1.9999999998, 0.5000000149011612],
            ],
        ),
        (
            Method::Trf,
            JacSpec::ThreePoint,
            [
                0.9999999999816658,
                0.0,
                -0.0,
                1.000000000022918,
                0.29999999995943544,
                -0.29999999996378984,
            ],
            vec![
                [1.9999999998, 0.5],
                [1.9999878888910965, 0.5],
                [1.9999757779821927, 0.5],
                [1.9999999998, 0.49999394454554763],
                [1.9999999998, 0.5000060554544524],
            ],
        ),
        (
            Method::Dogbox,
            JacSpec::TwoPoint,
            [
                1.0,
                0.0,
                -0.0,
                1.0,
                0.29999999795109034,
                -0.30000000074505806,
            ],
            vec![
                [2.0, 0.5],
                [1.9999999701976776, 0.5],
                [2.0, 0.5000000149011612],
            ],
        ),
        (
            Method::Dogbox,
            JacSpec::ThreePoint,
            [
                1.0000000000183342,
                0.0,
                -0.0,
                1.000000000022918,
                0.30000000000641697,
                -0.30000000000045834,
            ],
            vec![
                [2.0, 0.5],
                [1.9999878890910952, 0.5],
                [1.9999757781821905, 0.5],
                [2.0, 0.49999394454554763],
                [2.0, 0.5000060554544524],
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (method, jac, expected_jac, expected_points) in cases {
        let log = RefCell::new(Vec::new());
        let p = corner(&log);
        let opts = Options {
            method,
            jac,
            bounds: corner_bounds(),
            max_nfev: Some(1),
            ..Default::default()
        };
        let r = least_squares(&p, &[2.0, 0.5], &opts).unwrap();
        let points: Vec<[f64; 2]> = log.borrow().iter().map(|x| [x[0], x[1]]).collect();
        if points != expected_points {
            failures.push(format!(
                "{method} {jac}: evaluated at {points:?}\n    scipy {expected_points:?}"
            ));
        }
        if r.jac != expected_jac {
            failures.push(format!(
                "{method} {jac}: jac {:?}\n    scipy {expected_jac:?}",
                r.jac
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn three_point_at_a_bound_dogbox_keeps_it_exactly() {
    // python3 /tmp/refs/onb.py (scipy 1.17.1), x0 = [2.0, 0.5] on the upper bound of x0:
    //   dogbox (analytic, 2-point, 3-point): x = [2.0, -1.0] exactly, active_mask [1, -1],
    //   nfev 2, njev 2, status 1, and no evaluation beyond x0[0] = 2.
    for jac in [JacSpec::ThreePoint, JacSpec::TwoPoint, JacSpec::Analytic] {
        let log = RefCell::new(Vec::new());
        let p = corner(&log);
        let opts = Options {
            method: Method::Dogbox,
            jac,
            bounds: corner_bounds(),
            ..Default::default()
        };
        let r = least_squares(&p, &[2.0, 0.5], &opts).unwrap();
        assert_eq!(r.x, vec![2.0, -1.0], "{jac}");
        assert_eq!(r.active_mask, vec![1, -1], "{jac}");
        assert_eq!(
            (r.nfev, r.njev, r.status.scipy_status()),
            (2, Some(2), 1),
            "{jac}"
        );
        for x in log.borrow().iter() {
            assert!(
                inside(x, &corner_bounds()),
                "{jac}: evaluated outside the bounds at {x:?}"
            );
        }
    }
}

#[test]
fn three_point_at_a_bound_trf_stays_strictly_inside() {
    // python3 /tmp/refs/onb.py: trf (analytic, 2-point, 3-point) from x0 = [2.0, 0.5]:
    //   x = [1.9999999999999998, -0.9999999999999897], active_mask [1, -1], nfev 8, njev 8,
    //   status 1; every evaluation has x0[0] < 2.
    let x_ref = [1.9999999999999998, -0.9999999999999897];
    for jac in [JacSpec::ThreePoint, JacSpec::TwoPoint, JacSpec::Analytic] {
        let log = RefCell::new(Vec::new());
        let p = corner(&log);
        let opts = Options {
            jac,
            bounds: corner_bounds(),
            ..Default::default()
        };
        let r = least_squares(&p, &[2.0, 0.5], &opts).unwrap();
        assert_eq!(r.active_mask, vec![1, -1], "{jac}");
        assert!(r.success(), "{jac}: {}", r.brief());
        for j in 0..2 {
            assert!(
                (r.x[j] - x_ref[j]).abs() <= 1e-12,
                "{jac}: {:?} vs scipy {x_ref:?}",
                r.x
            );
        }
        for x in log.borrow().iter() {
            assert!(
                x[0] < 2.0 && x[1] > -1.0,
                "{jac}: trf evaluated on or outside a bound at {x:?}"
            );
        }
    }
}
