//! Box constraints on trf and dogbox (spec §6.3, §6.4, §7, §8): feasibility of every
//! iterate and every evaluation, `active_mask`, the start on a bound (trf's strict-feasibility
//! shift, dogbox keeping it), one-sided bounds and `Bounds::uniform`.
//!
//! Reference numbers: scipy 1.17.1 via python3, script /tmp/refs/bnd.py (quoted per test):
//!     import numpy as np; from scipy.optimize import least_squares; inf = np.inf
//!     def rosen(x): return np.array([10*(x[1]-x[0]*x[0]), 1-x[0]])
//!     def rjac(x): return np.array([[-20*x[0], 10.0], [-1.0, 0.0]])
//!     def f3(x): d = x[0]-x[1]; return np.array([x[0]-3, x[1]+2, 0.1*d*d])
//!     def j3(x): d = x[0]-x[1]; return np.array([[1.0,0.0],[0.0,1.0],[0.2*d,-0.2*d]])
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::ops::ControlFlow;

use common::logged::{corner, corner_bounds};
use trustfit::{
    Bounds, JacSpec, Method, Options, Report, Residuals, from_fn, least_squares,
    least_squares_with_callback,
};

const INF: f64 = f64::INFINITY;
const NINF: f64 = f64::NEG_INFINITY;
const METHODS: [Method; 2] = [Method::Trf, Method::Dogbox];

/// Rosenbrock, recording every point it is evaluated at.
fn rosen(log: &RefCell<Vec<Vec<f64>>>) -> impl Residuals + '_ {
    from_fn(2, move |x: &[f64], f: &mut [f64]| {
        log.borrow_mut().push(x.to_vec());
        f[0] = 10.0 * (x[1] - x[0] * x[0]);
        f[1] = 1.0 - x[0];
    })
    .with_jacobian(|x: &[f64], j: &mut [f64]| j.copy_from_slice(&[-20.0 * x[0], 10.0, -1.0, 0.0]))
}

/// Resolved (lb, ub) for n = 2.
fn sides(b: &Bounds) -> (Vec<f64>, Vec<f64>) {
    b.resolve(2).unwrap()
}

fn within(x: &[f64], b: &Bounds) -> bool {
    let (lb, ub) = sides(b);
    (0..x.len()).all(|j| lb[j] <= x[j] && x[j] <= ub[j])
}

fn strictly_within(x: &[f64], b: &Bounds) -> bool {
    let (lb, ub) = sides(b);
    (0..x.len()).all(|j| lb[j] < x[j] && x[j] < ub[j])
}

/// Runs with a callback recording every iterate.
fn run_logged(p: &impl Residuals, x0: &[f64], opts: &Options) -> (Report, Vec<Vec<f64>>) {
    let mut iterates = Vec::new();
    let r = least_squares_with_callback(p, x0, opts, &mut |it| {
        iterates.push(it.x.to_vec());
        ControlFlow::Continue(())
    })
    .unwrap();
    (r, iterates)
}

#[test]
fn every_iterate_and_evaluation_stays_within_bounds() {
    // trf keeps iterates strictly inside (spec §6.4, §7.6: x_new = make_strictly_feasible);
    // dogbox clips to the box and may sit exactly on a bound.
    let setups: Vec<(&str, [f64; 2], Bounds)> = vec![
        ("corner", [0.0, 0.0], corner_bounds()),
        ("corner", [2.0, 0.5], corner_bounds()),
        ("rosen", [2.0, 2.0], Bounds::new(vec![NINF, 1.5], vec![INF])),
        (
            "rosen",
            [-2.0, 1.0],
            Bounds::new(vec![NINF], vec![0.5, INF]),
        ),
        ("rosen", [-1.0, 0.0], Bounds::uniform(-1.5, 0.8)),
        ("rosen", [-5.0, 1.0], Bounds::uniform(-5.0, INF)),
        ("rosen", [0.5, 0.5], Bounds::uniform(0.0, 0.6)),
    ];
    for (name, x0, bounds) in setups {
        for method in METHODS {
            for jac in [JacSpec::Analytic, JacSpec::TwoPoint, JacSpec::ThreePoint] {
                let tag = format!("{name} {x0:?} {bounds:?} {method} {jac}");
                let log = RefCell::new(Vec::new());
                let opts = Options {
                    method,
                    jac,
                    bounds: bounds.clone(),
                    ..Default::default()
                };
                let (r, iterates) = if name == "corner" {
                    run_logged(&corner(&log), &x0, &opts)
                } else {
                    run_logged(&rosen(&log), &x0, &opts)
                };
                assert!(r.success(), "{tag}: {}", r.brief());
                assert!(within(&r.x, &bounds), "{tag}: final x {:?}", r.x);
                for x in &iterates {
                    assert!(within(x, &bounds), "{tag}: iterate {x:?}");
                    if method == Method::Trf {
                        assert!(
                            strictly_within(x, &bounds),
                            "{tag}: trf iterate on a bound {x:?}"
                        );
                    }
                }
                for x in log.borrow().iter() {
                    assert!(within(x, &bounds), "{tag}: evaluated at {x:?}");
                }
                assert_eq!(
                    iterates.last(),
                    Some(&r.x),
                    "{tag}: last iterate is the result"
                );
            }
        }
    }
}

/// scipy's and our iterates differ by SVD/BLAS rounding only; the corner solutions are
/// reached to ~1e-11 (trf approaches the bound geometrically), so 1e-12 absolute.
const X_ATOL: f64 = 1e-12;

/// Differences from scipy's x (to `atol`), active_mask, nfev, njev and status.
fn check(
    r: &Report,
    x: [f64; 2],
    mask: [i32; 2],
    nfev: usize,
    njev: usize,
    status: i32,
    tag: &str,
    atol: f64,
) -> Vec<String> {
    let mut out = Vec::new();
    if (r.x[0] - x[0]).abs() > atol || (r.x[1] - x[1]).abs() > atol {
        out.push(format!("{tag}: x {:?}, scipy {x:?}", r.x));
    }
    if r.active_mask != mask {
        out.push(format!(
            "{tag}: active_mask {:?}, scipy {mask:?}",
            r.active_mask
        ));
    }
    if (r.nfev, r.njev, r.status.scipy_status()) != (nfev, Some(njev), status) {
        out.push(format!(
            "{tag}: nfev/njev/status {}/{:?}/{}, scipy {nfev}/{njev}/{status}",
            r.nfev,
            r.njev,
            r.status.scipy_status()
        ));
    }
    out
}

/// trf and dogbox on `corner` from (0, 0) with `base` (its method replaced by each), checked
/// against scipy: trf stops short of the corner after 8 evaluations with `trf_mask`, dogbox
/// lands on it after 4 with active_mask [1, -1]; status 1 for both. Returns the failures and
/// dogbox's report.
fn corner_trf_and_dogbox(base: Options, trf_mask: [i32; 2], tag: &str) -> (Vec<String>, Report) {
    let log = RefCell::new(Vec::new());
    let p = corner(&log);
    let run = |method| {
        let opts = Options {
            method,
            ..base.clone()
        };
        least_squares(&p, &[0.0, 0.0], &opts).unwrap()
    };
    let trf = run(Method::Trf);
    let mut failures = check(
        &trf,
        [1.9999999999815579, -0.9999999999998981],
        trf_mask,
        8,
        8,
        1,
        &format!("trf {tag}"),
        X_ATOL,
    );
    let dogbox = run(Method::Dogbox);
    failures.extend(check(
        &dogbox,
        [2.0, -1.0],
        [1, -1],
        4,
        4,
        1,
        &format!("dogbox {tag}"),
        X_ATOL,
    ));
    (failures, dogbox)
}

#[test]
fn active_mask_marks_one_lower_and_one_upper_bound_as_scipy() {
    // python3 /tmp/refs/am.py (scipy 1.17.1):
    //   least_squares(f3, [0.0, 0.0], jac=j3 | '2-point', method=M, bounds=([-inf, -1.0], [2.0, inf]))
    //   trf:    x = [1.9999999999815579, -0.9999999999998981], active_mask [1, -1], nfev 8, njev 8, status 1
    //   dogbox: x = [2.0, -1.0],                               active_mask [1, -1], nfev 4, njev 4, status 1
    let mut failures = Vec::new();
    for jac in [JacSpec::Analytic, JacSpec::TwoPoint] {
        let base = Options {
            jac,
            bounds: corner_bounds(),
            ..Default::default()
        };
        let (found, dogbox) = corner_trf_and_dogbox(base, [1, -1], &jac.to_string());
        failures.extend(found);
        // dogbox pins active variables exactly on their bounds.
        assert_eq!(dogbox.x, vec![2.0, -1.0], "dogbox {jac}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn trf_active_mask_uses_xtol_as_relative_tolerance() {
    // Spec §7.6: trf's active_mask = find_active_constraints(x, lb, ub, rtol = xtol) with
    // None → 0, i.e. only exact hits; trf never reaches a bound exactly.
    //   least_squares(f3, [0.0, 0.0], jac=j3, method=M, bounds=(...), xtol=None)
    //   trf: same x, nfev 8, active_mask [0, 0]; dogbox: active_mask [1, -1] (its own on_bound).
    let base = Options {
        jac: JacSpec::Analytic,
        bounds: corner_bounds(),
        xtol: None,
        ..Default::default()
    };
    let (failures, _) = corner_trf_and_dogbox(base, [0, 0], "xtol=None");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unbounded_trf_reports_no_active_constraints() {
    let log = RefCell::new(Vec::new());
    let r = least_squares(&rosen(&log), &[-2.0, 1.0], &Options::default()).unwrap();
    assert_eq!(r.active_mask, vec![0, 0]);
    let r = least_squares(
        &rosen(&log),
        &[-2.0, 1.0],
        &Options {
            bounds: Bounds::uniform(NINF, INF),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.active_mask, vec![0, 0]);
}

#[test]
fn x0_on_a_bound_trf_shifts_it_and_dogbox_keeps_it() {
    // python3 /tmp/refs/bnd.py: first evaluation of
    //   least_squares(ff, [-5.0, 1.0], jac=rjac, method=M, bounds=(-5.0, inf), max_nfev=1)
    //   trf: [-4.9999999995, 1.0] (x0 + 1e-10·max(1, |lb|), spec §6.4); dogbox: [-5.0, 1.0].
    // and the corner problem from [2.0, 0.5] (upper bound 2): trf 1.9999999998, dogbox 2.0
    // (python3 /tmp/refs/onb.py).
    let first_eval = |method: Method, x0: [f64; 2], bounds: Bounds, corner_problem: bool| {
        let log = RefCell::new(Vec::new());
        let opts = Options {
            method,
            jac: JacSpec::Analytic,
            bounds,
            max_nfev: Some(1),
            ..Default::default()
        };
        let r = if corner_problem {
            least_squares(&corner(&log), &x0, &opts).unwrap()
        } else {
            least_squares(&rosen(&log), &x0, &opts).unwrap()
        };
        let first = log.borrow()[0].clone();
        (first, r)
    };
    let (first, r) = first_eval(Method::Trf, [-5.0, 1.0], Bounds::uniform(-5.0, INF), false);
    assert_eq!(first, vec![-4.9999999995, 1.0]);
    assert_eq!(
        r.x, first,
        "trf: with max_nfev 1 the result is the shifted x0"
    );
    let (first, r) = first_eval(
        Method::Dogbox,
        [-5.0, 1.0],
        Bounds::uniform(-5.0, INF),
        false,
    );
    assert_eq!(first, vec![-5.0, 1.0]);
    assert_eq!(r.x, vec![-5.0, 1.0]);
    assert_eq!(
        r.active_mask,
        vec![-1, 0],
        "dogbox: x0 on lb is on_bound = -1 (spec §8.1)"
    );
    let (first, _) = first_eval(Method::Trf, [2.0, 0.5], corner_bounds(), true);
    assert_eq!(first, vec![1.9999999998, 0.5]);
    let (first, r) = first_eval(Method::Dogbox, [2.0, 0.5], corner_bounds(), true);
    assert_eq!(first, vec![2.0, 0.5]);
    assert_eq!(r.active_mask, vec![1, 0]);
}

#[test]
fn x0_on_a_bound_converges_as_scipy() {
    // python3 /tmp/refs/bnd.py:
    //   least_squares(rosen, [-5.0, 1.0], jac=rjac, method=M, bounds=(-5.0, inf))
    //   trf:    x ≈ [1, 1], active_mask [0, 0], nfev 5, njev 5, status 1
    //   dogbox: x ≈ [1, 1], active_mask [0, 0], nfev 5, njev 5, status 1
    // python3 /tmp/refs/onb.py (corner problem from [2.0, 0.5]):
    //   trf:    x = [1.9999999999999998, -0.9999999999999897], [1, -1], nfev 8, njev 8, status 1
    //   dogbox: x = [2.0, -1.0], [1, -1], nfev 2, njev 2, status 1
    let mut failures = Vec::new();
    let log = RefCell::new(Vec::new());
    for (method, nfev) in [(Method::Trf, 5), (Method::Dogbox, 5)] {
        let opts = Options {
            method,
            jac: JacSpec::Analytic,
            bounds: Bounds::uniform(-5.0, INF),
            ..Default::default()
        };
        let r = least_squares(&rosen(&log), &[-5.0, 1.0], &opts).unwrap();
        failures.extend(check(
            &r,
            [1.0, 1.0],
            [0, 0],
            nfev,
            nfev,
            1,
            &format!("rosen {method}"),
            X_ATOL,
        ));
    }
    let cases = [
        (Method::Trf, [1.9999999999999998, -0.9999999999999897], 8),
        (Method::Dogbox, [2.0, -1.0], 2),
    ];
    for (method, x, nfev) in cases {
        let opts = Options {
            method,
            jac: JacSpec::Analytic,
            bounds: corner_bounds(),
            ..Default::default()
        };
        let r = least_squares(&corner(&log), &[2.0, 0.5], &opts).unwrap();
        failures.extend(check(
            &r,
            x,
            [1, -1],
            nfev,
            nfev,
            1,
            &format!("corner {method}"),
            X_ATOL,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn one_sided_bounds_match_scipy() {
    // python3 /tmp/refs/bnd.py:
    //   lower only: least_squares(rosen, [2.0, 2.0], jac=rjac, method=M, bounds=([-inf, 1.5], inf))
    //     trf:    x = [1.2243707490009201, 1.500000000000023], [0, -1], nfev 9, njev 9, status 2
    //     dogbox: x = [1.2243707487446318, 1.5],               [0, -1], nfev 6, njev 6, status 1
    //   upper only: least_squares(rosen, [-2.0, 1.0], jac=rjac, method=M, bounds=(-inf, [0.5, inf]))
    //     trf:    x = [0.49999999999999994, 0.24999999996350514], [1, 0], nfev 25, njev 21, status 1
    //     dogbox: x = [0.5, 0.25],                                [1, 0], nfev 8, njev 8, status 1
    // The lower-only rows are spec §2.5/§13's golden case (x to 1e-9 there; trf stops by ftol
    // where the minimum along the bound is flat to ~1e-9, hence the looser x tolerance).
    const FLAT_ATOL: f64 = 1e-9;
    let mut failures = Vec::new();
    let log = RefCell::new(Vec::new());
    let lower_only = Bounds::new(vec![NINF, 1.5], vec![]);
    let upper_only = Bounds::new(vec![], vec![0.5, INF]);
    type Row = (
        Method,
        Bounds,
        [f64; 2],
        [f64; 2],
        [i32; 2],
        usize,
        usize,
        i32,
        f64,
    );
    let rows: Vec<Row> = vec![
        (
            Method::Trf,
            lower_only.clone(),
            [2.0, 2.0],
            [1.2243707490009201, 1.500000000000023],
            [0, -1],
            9,
            9,
            2,
            FLAT_ATOL,
        ),
        (
            Method::Dogbox,
            lower_only.clone(),
            [2.0, 2.0],
            [1.2243707487446318, 1.5],
            [0, -1],
            6,
            6,
            1,
            FLAT_ATOL,
        ),
        (
            Method::Trf,
            upper_only.clone(),
            [-2.0, 1.0],
            [0.49999999999999994, 0.24999999996350514],
            [1, 0],
            25,
            21,
            1,
            X_ATOL,
        ),
        (
            Method::Dogbox,
            upper_only.clone(),
            [-2.0, 1.0],
            [0.5, 0.25],
            [1, 0],
            8,
            8,
            1,
            X_ATOL,
        ),
    ];
    for (method, bounds, x0, x, mask, nfev, njev, status, atol) in rows {
        let opts = Options {
            method,
            jac: JacSpec::Analytic,
            bounds: bounds.clone(),
            ..Default::default()
        };
        let r = least_squares(&rosen(&log), &x0, &opts).unwrap();
        let tag = format!("{method} {bounds:?}");
        failures.extend(check(&r, x, mask, nfev, njev, status, &tag, atol));
        if method == Method::Dogbox {
            // dogbox pins the active variable exactly.
            let j = if mask[0] != 0 { 0 } else { 1 };
            assert_eq!(
                r.x[j], x[j],
                "{tag}: dogbox keeps the active variable on its bound"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn uniform_bounds_equal_their_per_variable_spelling() {
    // Bounds::uniform(lb, ub) is scipy's scalar bounds, broadcast to n: the solve must be
    // bitwise the same as with the bounds written out per variable.
    let log = RefCell::new(Vec::new());
    for method in METHODS {
        for (lo, hi) in [(-1.5, 0.8), (-5.0, INF), (NINF, 0.8), (0.0, 0.6)] {
            let x0 = if lo == -5.0 {
                [-5.0, 1.0]
            } else if lo == 0.0 {
                [0.5, 0.5]
            } else {
                [-1.0, 0.0]
            };
            let a = least_squares(
                &rosen(&log),
                &x0,
                &Options {
                    method,
                    bounds: Bounds::uniform(lo, hi),
                    ..Default::default()
                },
            )
            .unwrap();
            let b = least_squares(
                &rosen(&log),
                &x0,
                &Options {
                    method,
                    bounds: Bounds::new(vec![lo, lo], vec![hi, hi]),
                    ..Default::default()
                },
            )
            .unwrap();
            let tag = format!("{method} uniform({lo}, {hi})");
            assert_eq!(
                a.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                b.x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{tag}"
            );
            assert_eq!(
                (a.nfev, a.njev, a.status, a.active_mask.clone()),
                (b.nfev, b.njev, b.status, b.active_mask.clone()),
                "{tag}"
            );
        }
    }
}

#[test]
fn uniform_bounds_match_scipys_scalar_bounds() {
    // python3 /tmp/refs/bnd.py:
    //   least_squares(rosen, [-1.0, 0.0], jac=rjac, method=M, bounds=(-1.5, 0.8))
    //   trf:    x = [0.7999999999999993, 0.6399999999925857], [1, 0], nfev 22, njev 20, status 1
    //   dogbox: x = [0.8, 0.6400000000000001],                [1, 0], nfev 14, njev 12, status 1
    let mut failures = Vec::new();
    let log = RefCell::new(Vec::new());
    let rows = [
        (
            Method::Trf,
            [0.7999999999999993, 0.6399999999925857],
            22,
            20,
        ),
        (Method::Dogbox, [0.8, 0.6400000000000001], 14, 12),
    ];
    for (method, x, nfev, njev) in rows {
        let opts = Options {
            method,
            jac: JacSpec::Analytic,
            bounds: Bounds::uniform(-1.5, 0.8),
            ..Default::default()
        };
        let r = least_squares(&rosen(&log), &[-1.0, 0.0], &opts).unwrap();
        failures.extend(check(
            &r,
            x,
            [1, 0],
            nfev,
            njev,
            1,
            &format!("{method} uniform(-1.5, 0.8)"),
            X_ATOL,
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
