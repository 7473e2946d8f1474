//! The reusable [`Solver`]: many problems of one shape give, solve after solve, exactly
//! what separate `least_squares` calls give (a reused buffer carries nothing over).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use trustfit::{
    Bounds, ErrorKind, JacSpec, Loss, Method, Options, Residuals, Solver, SparsityPattern,
    TrSolver, from_fn, least_squares,
};

/// y = a·exp(b·t) + c on 5 points, data varied by `k` (a 5×3 problem).
fn problem(k: usize) -> impl Residuals {
    let t: Vec<f64> = (0..5).map(|i| i as f64 * 0.5).collect();
    let a = 1.0 + 0.3 * k as f64;
    let y: Vec<f64> = t
        .iter()
        .enumerate()
        .map(|(i, &t)| a * (-0.7 * t).exp() + 0.2 + 0.01 * ((i * 7 + k) % 5) as f64)
        .collect();
    from_fn(5, move |p: &[f64], f: &mut [f64]| {
        for i in 0..5 {
            f[i] = p[0] * (p[1] * t[i]).exp() + p[2] - y[i];
        }
    })
}

fn option_sets() -> Vec<(&'static str, Options)> {
    let bounded = Bounds::new(vec![0.0, -2.0, -1.0], vec![3.0, 0.0, 1.0]);
    vec![
        ("trf", Options::default()),
        (
            "trf bounded soft_l1",
            Options {
                bounds: bounded.clone(),
                loss: Loss::SoftL1,
                f_scale: 0.1,
                ..Default::default()
            },
        ),
        (
            "dogbox bounded 3-point",
            Options {
                method: Method::Dogbox,
                bounds: bounded,
                jac: JacSpec::ThreePoint,
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
    ]
}

#[test]
fn reused_solver_matches_separate_least_squares_calls_bit_for_bit() {
    for (name, opts) in option_sets() {
        let x0 = [1.0, -0.5, 0.0];
        let mut solver = Solver::new(&problem(0), &x0, &opts).unwrap();
        for k in [0, 3, 1, 3, 7] {
            let p = problem(k);
            let want = least_squares(&p, &x0, &opts).unwrap();
            let got = solver.solve(&p, &x0).unwrap();
            assert_eq!(got.x, &want.x[..], "{name} k={k}");
            assert_eq!(got.cost.to_bits(), want.cost.to_bits(), "{name} k={k}");
            assert_eq!(got.fun, &want.fun[..], "{name} k={k}");
            assert_eq!(got.grad, &want.grad[..], "{name} k={k}");
            assert_eq!(got.active_mask, &want.active_mask[..], "{name} k={k}");
            assert_eq!(
                (got.nfev, got.njev, got.status, got.nit),
                (want.nfev, want.njev, want.status, want.nit),
                "{name} k={k}"
            );
            assert_eq!(
                got.optimality.to_bits(),
                want.optimality.to_bits(),
                "{name}"
            );
        }
    }
}

#[test]
fn a_reused_cholesky_solver_forgets_a_singular_problem() {
    // Problem A has identical columns (JᵀJ singular: the exact solver stops trying α = 0);
    // B, of the same pattern, is regular. B after A must equal B alone.
    let pattern = SparsityPattern::from_dense(3, 2, &[1.0; 6]);
    let singular = from_fn(3, |x: &[f64], f: &mut [f64]| {
        for i in 0..3 {
            f[i] = (x[0] + x[1]) * (1.0 + 0.1 * i as f64) - 1.0 - i as f64;
        }
    });
    let regular = from_fn(3, |x: &[f64], f: &mut [f64]| {
        f[0] = x[0] * x[0] - 2.0;
        f[1] = x[1] - 3.0 * x[0];
        f[2] = x[0] + x[1] - 4.0;
    });
    let opts = Options {
        jac_sparsity: Some(pattern),
        tr_solver: Some(TrSolver::Cholesky),
        ..Default::default()
    };
    let x0 = [1.0, 1.0];
    let alone = least_squares(&regular, &x0, &opts).unwrap();
    let mut solver = Solver::new(&singular, &x0, &opts).unwrap();
    solver.solve(&singular, &x0).unwrap();
    let after = solver.solve(&regular, &x0).unwrap();
    assert_eq!(after.x, &alone.x[..]);
    assert_eq!((after.nfev, after.nit), (alone.nfev, alone.nit));
}

#[test]
fn a_solver_refuses_another_shape_and_an_infeasible_start() {
    let opts = Options {
        bounds: Bounds::new(vec![0.0], vec![5.0]),
        ..Default::default()
    };
    let mut solver = Solver::new(&problem(0), &[1.0, 1.0, 1.0], &opts).unwrap();
    let other = from_fn(4, |p: &[f64], f: &mut [f64]| {
        f.copy_from_slice(&[p[0], p[1], p[2], 1.0])
    });
    let e = solver.solve(&other, &[1.0, 1.0, 1.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ShapeMismatch, "{e}");
    let e = solver.solve(&problem(1), &[1.0, 1.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ShapeMismatch, "{e}");
    let e = solver.solve(&problem(1), &[1.0, -1.0, 1.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InfeasibleStart, "{e}");
    // A failed solve leaves the solver usable.
    assert!(
        solver
            .solve(&problem(1), &[1.0, 1.0, 1.0])
            .unwrap()
            .status
            .is_success()
    );
}

#[test]
fn report_shows_requested_and_used_settings_and_ignored_options() {
    let opts = Options {
        f_scale: 2.0,
        tr_options: trustfit::TrOptions {
            atol: 1e-3,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = least_squares(&problem(0), &[1.0, -0.5, 0.0], &opts).unwrap();
    let text = r.to_string();
    assert!(
        text.contains("tr_solver    None (default)        exact"),
        "{text}"
    );
    assert!(
        text.contains("jac          2-point               2-point (dense)"),
        "{text}"
    );
    assert_eq!(r.ignored_options.len(), 2, "{:?}", r.ignored_options);
    assert!(
        text.contains("ignored      `tr_options` has no effect"),
        "{text}"
    );
    assert!(
        r.warnings.is_empty(),
        "scipy warns about neither: {:?}",
        r.warnings
    );
    assert!(r.timing.is_none(), "a 5×3 problem is not timed per phase");
}
