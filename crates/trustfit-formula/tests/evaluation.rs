//! Values and Jacobians of the public API: reverse mode against central
//! differences on a list of models, blocks of points (the Jacobian of many
//! points equals the per-point gradients), workspace reuse, non-finite
//! results, shape errors, and formulas at the size limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trustfit_formula::{Formula, FormulaError, Limits, Workspace};

/// Central differences with h = 1e-6·max(1, |p|) agree with exact
/// derivatives to ~1e-9 relative on these smooth models.
const FD_TOL: f64 = 1e-7;

/// Checks every parameter's derivative at every point against central differences.
fn check_jacobian(text: &str, columns: &[&str], p: &[f64], cols: &[Vec<f64>]) {
    let f = Formula::parse(text, columns).unwrap();
    assert_eq!(f.params().len(), p.len(), "{text}: {:?}", f.params());
    let m = cols.first().map_or(1, Vec::len);
    let cols = &cols[..f.columns().len()]; // (the used columns come first here)
    let n = p.len();
    let mut ws = Workspace::new();
    let (mut v, mut jac) = (vec![0.0; m], vec![0.0; m * n]);
    f.eval_jacobian(&mut ws, p, cols, &mut v, &mut jac).unwrap();
    let (mut up, mut down) = (vec![0.0; m], vec![0.0; m]);
    for k in 0..n {
        let h = 1e-6 * p[k].abs().max(1.0);
        let mut q = p.to_vec();
        q[k] += h;
        f.eval(&mut ws, &q, cols, &mut up).unwrap();
        q[k] -= 2.0 * h;
        f.eval(&mut ws, &q, cols, &mut down).unwrap();
        for i in 0..m {
            let fd = (up[i] - down[i]) / (2.0 * h);
            let d = jac[i * n + k];
            assert!(
                (fd - d).abs() <= FD_TOL * fd.abs().max(1.0),
                "{text}: d/d{} at point {i}: reverse {d} vs central {fd}",
                f.params()[k]
            );
        }
    }
}

#[test]
fn jacobians_match_central_differences() {
    let t = vec![vec![0.1, 0.7, 1.3, 2.9]];
    let xy = vec![vec![0.3, -1.2, 2.0], vec![1.5, 0.4, -0.7]];
    // (formula, parameter values) over t, then over x and y.
    let over_t: &[(&str, &[f64])] = &[
        ("a + b*exp(c*t)", &[0.5, 2.0, -1.0]),
        ("a*exp(-(t-mu)^2/(2*s^2))", &[2.0, 1.0, 0.5]),
        ("b*t^a", &[1.7, 1.1]),
        ("vmax*t/(km+t)", &[0.3, 2.0]),
        (
            "a*log(b*t) + sqrt(c*t) + log10(t*d) + log2(g*t)",
            &[1.0, 2.0, 3.0, 0.5, 1.5],
        ),
        ("a*sin(w*t) + b*cos(w*t) + tan(c*t)", &[1.0, 0.5, 2.0, 0.3]),
        ("asin(a*t/3) + acos(b*t/3) + atan(c*t)", &[0.9, 0.8, 1.2]),
        ("sinh(a*t) + cosh(b*t) + tanh(c*t)", &[0.4, 0.3, 1.1]),
        (
            "asinh(a*t) + acosh(1 + b*t) + atanh(c*t/3)",
            &[0.4, 0.3, 0.3],
        ),
        ("cbrt(a*t) + abs(b - t) + a^b^c", &[1.4, 0.2, 0.5]),
        ("-a^2 + (a*b)^-1 + a^(b*c) + 2^a", &[1.3, 0.7, 0.4]),
        ("(a - t)^3 + (a - t)^2 + (a-t)^7 + e*PI*a", &[0.9]),
    ];
    let over_xy: &[(&str, &[f64])] = &[
        ("a*x + b*y + c*x*y - d/(x^2 + y^2)", &[1.0, 2.0, 3.0, 0.5]),
        (
            "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b",
            &[2.0, 0.3, -0.2, 1.1, 0.5],
        ),
    ];
    for (text, p) in over_t {
        check_jacobian(text, &["t"], p, &t);
    }
    for (text, p) in over_xy {
        check_jacobian(text, &["x", "y"], p, &xy);
    }
}

#[test]
fn blocks_of_points_equal_point_by_point() {
    // 150 points: two full blocks of 64 and a partial one.
    let f = Formula::parse("a*exp(-b*t) + c*t^2", &["t"]).unwrap();
    let t: Vec<f64> = (0..150).map(|i| i as f64 * 0.05 - 2.0).collect();
    let p = [1.5, 0.4, -0.3];
    let mut ws = Workspace::new();
    let (mut v, mut jac) = (vec![0.0; 150], vec![0.0; 450]);
    f.eval_jacobian(&mut ws, &p, &[&t], &mut v, &mut jac)
        .unwrap();
    let mut values = vec![0.0; 150];
    f.eval(&mut ws, &p, &[&t], &mut values).unwrap();
    assert_eq!(values, v);
    for i in 0..150 {
        let mut g = [0.0; 3];
        let vi = f.value_and_gradient(&mut ws, &p, &[t[i]], &mut g).unwrap();
        assert_eq!(vi, v[i]);
        assert_eq!(g, jac[3 * i..3 * i + 3]);
        assert_eq!(f.eval_point(&mut ws, &p, &[t[i]]).unwrap(), v[i]);
    }
}

#[test]
fn a_workspace_stops_growing_after_the_first_call() {
    let f = Formula::parse("a*x + b*exp(c*y)", &["x", "y"]).unwrap();
    let mut ws = Workspace::new();
    let cols = vec![vec![0.5; 200], vec![0.25; 200]];
    let (mut v, mut jac) = (vec![0.0; 200], vec![0.0; 600]);
    f.eval_jacobian(&mut ws, &[1.0, 2.0, 3.0], &cols, &mut v, &mut jac)
        .unwrap();
    let cap = ws.capacity();
    for _ in 0..3 {
        f.eval_jacobian(&mut ws, &[1.0, 2.0, 3.0], &cols, &mut v, &mut jac)
            .unwrap();
        f.eval(&mut ws, &[1.0, 2.0, 3.0], &cols, &mut v).unwrap();
    }
    assert_eq!(ws.capacity(), cap);
    assert_eq!(Workspace::for_formula(&f).capacity(), cap);
}

#[test]
fn non_finite_results_propagate() {
    let f = Formula::parse("a*ln(t) + sqrt(t) + 1/t", &["t"]).unwrap();
    let t = [0.0, -1.0, f64::NAN, f64::INFINITY];
    let (mut v, mut jac) = ([0.0; 4], [0.0; 4]);
    f.eval_jacobian(&mut Workspace::new(), &[1.0], &[&t], &mut v, &mut jac)
        .unwrap();
    assert!(v[0].is_nan()); // -inf + 0 + inf
    assert!(v[1].is_nan() && v[2].is_nan() && v[3].is_infinite());
    assert_eq!(jac[0], f64::NEG_INFINITY);
    assert!(jac[1].is_nan());
}

#[test]
fn unused_parameters_have_zero_columns() {
    let f = Formula::parse("b*t + a^0", &["t"]).unwrap();
    assert_eq!(f.params(), ["b", "a"]);
    let mut jac = [7.0; 4];
    let mut v = [0.0; 2];
    f.eval_jacobian(
        &mut Workspace::new(),
        &[2.0, 5.0],
        &[[1.0, 3.0]],
        &mut v,
        &mut jac,
    )
    .unwrap();
    assert_eq!(v, [3.0, 7.0]);
    assert_eq!(jac, [1.0, 0.0, 3.0, 0.0]);
}

#[test]
fn wrong_lengths_are_errors() {
    let f = Formula::parse("a*t + b", &["t"]).unwrap();
    let mut ws = Workspace::new();
    let mut out = [0.0; 2];
    let e = f
        .eval(&mut ws, &[1.0], &[[1.0, 2.0]], &mut out)
        .unwrap_err();
    assert_eq!(
        e,
        FormulaError::ShapeMismatch {
            what: "params",
            expected: 2,
            got: 1
        }
    );
    let e = f
        .eval(&mut ws, &[1.0, 2.0], &[[1.0]], &mut out)
        .unwrap_err();
    assert_eq!(e.to_string(), "`cols[j]` has length 1, expected 2");
    let cols: [&[f64]; 0] = [];
    assert!(f.eval(&mut ws, &[1.0, 2.0], &cols, &mut out).is_err());
    let mut jac = [0.0; 3];
    assert!(
        f.eval_jacobian(&mut ws, &[1.0, 2.0], &[[1.0, 2.0]], &mut out, &mut jac)
            .is_err()
    );
    assert!(f.eval_point(&mut ws, &[1.0, 2.0], &[]).is_err());
    let mut g = [0.0; 1];
    assert!(
        f.value_and_gradient(&mut ws, &[1.0, 2.0], &[1.0], &mut g)
            .is_err()
    );
}

#[test]
fn formulas_at_the_limits_parse_and_evaluate() {
    let lim = Limits::default();
    // 1000 parameters, one column each.
    let names: Vec<String> = (1..=lim.max_params).map(|j| format!("x{j}")).collect();
    let text: String = (1..=lim.max_params)
        .map(|j| format!("p{j}*x{j}"))
        .collect::<Vec<_>>()
        .join("+");
    let f = Formula::parse(&text, &names).unwrap();
    assert_eq!(f.params().len(), lim.max_params);
    let cols = vec![vec![1.0; 3]; lim.max_params];
    let p = vec![0.5; lim.max_params];
    let (mut v, mut jac) = (vec![0.0; 3], vec![0.0; 3 * lim.max_params]);
    f.eval_jacobian(&mut Workspace::new(), &p, &cols, &mut v, &mut jac)
        .unwrap();
    assert_eq!(v, [500.0; 3]);
    assert!(jac.iter().all(|&d| d == 1.0));
    // The deepest nesting, in every form that nests.
    let d = lim.max_depth;
    for text in [
        "(".repeat(d) + "a" + &")".repeat(d),
        "exp(".repeat(d) + "a" + &")".repeat(d),
        "-".repeat(d) + "a",
        vec!["a"; d + 1].join("^"),
    ] {
        assert!(Formula::parse(&text, &["t"]).is_ok(), "{text}");
    }
    for text in [
        "(".repeat(d + 1) + "a" + &")".repeat(d + 1),
        "-".repeat(d + 1) + "a",
        vec!["a"; d + 2].join("^"),
    ] {
        let e = Formula::parse(&text, &["t"]).unwrap_err();
        assert!(matches!(e, FormulaError::TooDeep { .. }), "{e}");
    }
}

#[test]
fn a_sum_of_thousands_of_terms_is_one_pass() {
    let text = vec!["a*t"; 5000].join("+");
    let f = Formula::parse(&text, &["t"]).unwrap();
    // Shared: a, t, a·t, then one addition per term.
    assert_eq!(f.num_instructions(), 3 + 4999);
    let (mut v, mut jac) = ([0.0; 2], [0.0; 2]);
    f.eval_jacobian(
        &mut Workspace::new(),
        &[2.0],
        &[[1.0, 3.0]],
        &mut v,
        &mut jac,
    )
    .unwrap();
    assert_eq!(v, [10_000.0, 30_000.0]);
    assert_eq!(jac, [5000.0, 15_000.0]);
}

#[test]
fn one_formula_is_shared_by_threads_each_with_a_workspace() {
    let f = Formula::parse("a*exp(-b*t) + c", &["t"]).unwrap();
    let t: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.1).collect();
    let expected = |k: usize| {
        let mut v = vec![0.0; 100];
        let mut jac = vec![0.0; 300];
        let p = [1.0 + k as f64, 0.5, -1.0];
        f.eval_jacobian(&mut Workspace::new(), &p, &[&t], &mut v, &mut jac)
            .unwrap();
        jac
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let (f, t) = (&f, &t);
                s.spawn(move || {
                    let mut ws = Workspace::for_formula(f);
                    let (mut v, mut jac) = (vec![0.0; 100], vec![0.0; 300]);
                    for _ in 0..50 {
                        let p = [1.0 + k as f64, 0.5, -1.0];
                        f.eval_jacobian(&mut ws, &p, &[t], &mut v, &mut jac)
                            .unwrap();
                    }
                    jac
                })
            })
            .collect();
        for (k, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), expected(k));
        }
    });
}

#[test]
fn asinh_and_acosh_derivatives_survive_huge_arguments() {
    // d/dp asinh(exp(p/1.5e-3)) → 1/1.5e-3 for large p; 1/sqrt(1 + u²) overflowed to 0.
    let f = Formula::parse("asinh(exp(p/1.5e-3)) + acosh(exp(p/1.5e-3)) + 0*t", &["t"]).unwrap();
    let (mut v, mut jac) = (vec![0.0; 1], vec![0.0; 1]);
    let cols = [vec![0.0]];
    f.eval_jacobian(&mut Workspace::new(), &[0.7], &cols, &mut v, &mut jac)
        .unwrap();
    assert!(
        (jac[0] - 2.0 / 1.5e-3).abs() < 1e-9 * jac[0].abs(),
        "{jac:?}"
    );
}

#[test]
fn many_fits_at_once_equal_each_fit_alone_bit_for_bit() {
    let cases: [(&str, &[&str]); 3] = [
        ("A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b", &["x", "y"]),
        ("a*sin(k*x + p) / (1 + c*x^2)", &["x"]),
        ("a + b", &["x"]),
    ];
    for (text, names) in cases {
        let f = Formula::parse(text, names).unwrap();
        let n = f.params().len();
        for m in [1, 7, 25, 64, 100] {
            let cols: Vec<Vec<f64>> = (0..f.columns().len())
                .map(|j| (0..m).map(|i| (i * (j + 2)) as f64 * 0.37 - 1.0).collect())
                .collect();
            let fits = 9;
            let params: Vec<f64> = (0..fits * n).map(|i| 0.5 + (i % 7) as f64 * 0.3).collect();
            let (mut v, mut jac) = (vec![0.0; fits * m], vec![0.0; fits * m * n]);
            let mut ws = Workspace::new();
            f.eval_jacobian_fits(&mut ws, &params, &cols, &mut v, &mut jac)
                .unwrap();
            for r in 0..fits {
                let (mut v1, mut j1) = (vec![0.0; m], vec![0.0; m * n]);
                f.eval_jacobian(
                    &mut ws,
                    &params[r * n..(r + 1) * n],
                    &cols,
                    &mut v1,
                    &mut j1,
                )
                .unwrap();
                let same =
                    |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(
                    same(&v[r * m..(r + 1) * m], &v1),
                    "{text}, m = {m}, fit {r}"
                );
                assert!(
                    same(&jac[r * m * n..(r + 1) * m * n], &j1),
                    "{text}, m = {m}, fit {r}"
                );
            }
        }
    }
    // Shapes: params not a multiple of n, values of the wrong length.
    let f = Formula::parse("a*x + b", &["x"]).unwrap();
    let mut ws = Workspace::new();
    let (mut v, mut j) = (vec![0.0; 4], vec![0.0; 8]);
    assert!(
        f.eval_jacobian_fits(&mut ws, &[1.0, 2.0, 3.0], &[[1.0, 2.0]], &mut v, &mut j)
            .is_err()
    );
    assert!(
        f.eval_jacobian_fits(&mut ws, &[1.0, 2.0], &[[1.0, 2.0]], &mut v, &mut j)
            .is_err()
    );
}
