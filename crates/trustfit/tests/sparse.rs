#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The large-scale path against scipy: `jac_sparsity` (column groups), sparse
//! analytic and matrix-free (LinearOperator) Jacobians and `tr_solver='lsmr'` with
//! bounds, losses, x_scale='jac' and
//! tr_options, on the Broyden tridiagonal system and a variant with observation
//! rows (`tests/fixtures/scipy/sparse.json`, from `tools/gen_sparse_fixtures.py`).

mod common;

use std::cell::RefCell;

use common::fixture_problems::{json_f64_vec, load_fixture};

use serde_json::Value;
use trustfit::{
    Bounds, CallbackError, ColumnGrouping, CsrMatrix, Error, JacSpec, JacobianProducts, Loss,
    Options, Residuals, SparsityPattern, TrSolver, XScale, least_squares,
};
use trustfit_problems::TestProblem;
use trustfit_problems::sparse::BroydenTridiagonal;

/// Broyden rows, optionally followed by `0.5·(x − t)` observation rows.
struct Broyden {
    n: usize,
    obs: Option<Vec<f64>>,
}

fn observations(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| -0.6 + 0.1 * (i as f64 * 0.37).sin() + if i % 17 == 0 { 2.0 } else { 0.0 })
        .collect()
}

impl Broyden {
    fn pattern(&self) -> SparsityPattern {
        let n = self.n;
        let mut e = BroydenTridiagonal::new(n).sparsity();
        if self.obs.is_some() {
            e.extend((0..n).map(|i| (n + i, i)));
        }
        SparsityPattern::from_entries(self.num_residuals(), n, e).unwrap()
    }
}

impl Residuals for Broyden {
    fn num_residuals(&self) -> usize {
        if self.obs.is_some() {
            2 * self.n
        } else {
            self.n
        }
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        let n = self.n;
        BroydenTridiagonal::new(n).residuals(x, &mut f[..n]);
        if let Some(t) = &self.obs {
            for i in 0..n {
                f[n + i] = 0.5 * (x[i] - t[i]);
            }
        }
        Ok(())
    }

    fn has_jacobian(&self) -> bool {
        true
    }

    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        Some(self.pattern())
    }

    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        let n = self.n;
        let k = (3 * n).saturating_sub(2); // the tridiagonal's entries come first
        BroydenTridiagonal::new(n).jacobian_values(x, &mut values[..k]);
        if self.obs.is_some() {
            values[k..k + n].fill(0.5);
        }
        Ok(())
    }
}

/// The same problem with a matrix-free J: products only, from the CSR values filled
/// at each linearization (what scipy's `aslinearoperator(J)` gives).
struct BroydenOperator {
    inner: Broyden,
    jac: RefCell<CsrMatrix>,
    /// Fail (or panic) in the product after this many calls.
    fail_after: Option<(usize, bool)>,
    calls: RefCell<usize>,
}

impl BroydenOperator {
    fn new(inner: Broyden) -> Self {
        let jac = RefCell::new(CsrMatrix::zeros(inner.pattern()));
        Self {
            inner,
            jac,
            fail_after: None,
            calls: RefCell::new(0),
        }
    }

    fn count(&self) -> Result<(), CallbackError> {
        let mut c = self.calls.borrow_mut();
        *c += 1;
        match self.fail_after {
            Some((k, false)) if *c > k => Err(CallbackError::new("operator broke")),
            Some((k, true)) if *c > k => panic!("operator panicked"),
            _ => Ok(()),
        }
    }
}

impl Residuals for BroydenOperator {
    fn num_residuals(&self) -> usize {
        self.inner.num_residuals()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        self.inner.residuals(x, f)
    }
    fn jacobian_products(&self) -> Option<&dyn JacobianProducts> {
        Some(self)
    }
}

impl JacobianProducts for BroydenOperator {
    fn linearize(&self, x: &[f64]) -> Result<(), CallbackError> {
        self.inner
            .sparse_jacobian(x, self.jac.borrow_mut().values_mut())
    }
    fn jvp(&self, _x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        self.count()?;
        self.jac.borrow().mul_vec(v, out);
        Ok(())
    }
    fn vjp(&self, _x: &[f64], u: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        self.count()?;
        self.jac.borrow().mul_t_vec(u, out);
        Ok(())
    }
}

fn options(o: &Value, p: &Broyden) -> Options {
    let mut opts = Options::default();
    match o["jac"].as_str() {
        Some("analytic" | "operator") => opts.jac = JacSpec::Analytic,
        Some("3-point") => opts.jac = JacSpec::ThreePoint,
        _ => {}
    }
    if opts.jac != JacSpec::Analytic {
        opts.jac_sparsity = Some(p.pattern());
    }
    if o["method"].as_str() == Some("dogbox") {
        opts.method = trustfit::Method::Dogbox;
    }
    if o["x_scale"].as_str() == Some("jac") {
        opts.x_scale = XScale::Jac;
    }
    if let Some(b) = o["bounds"].as_array() {
        let side = |v: &Value| v.as_f64().unwrap_or(f64::INFINITY);
        let lb = if b[0].is_null() {
            f64::NEG_INFINITY
        } else {
            side(&b[0])
        };
        opts.bounds = Bounds::new(vec![lb], vec![side(&b[1])]);
    }
    if let Some(l) = o["loss"].as_str() {
        opts.loss = l.parse::<Loss>().unwrap();
    }
    if let Some(s) = o["f_scale"].as_f64() {
        opts.f_scale = s;
    }
    if let Some(t) = o["tr_options"].as_object() {
        if let Some(r) = t.get("regularize").and_then(Value::as_bool) {
            opts.tr_options.regularize = r;
        }
        if let Some(d) = t.get("damp").and_then(Value::as_f64) {
            opts.tr_options.damp = d;
        }
    }
    opts
}

fn load() -> Value {
    load_fixture("sparse.json")
}

#[test]
fn sparse_path_matches_scipy() {
    let fixtures = load();
    let (mut matched, mut total) = (0, 0);
    let mut worse = Vec::new();
    for case in fixtures["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let p = Broyden {
            n,
            obs: (case["problem"] == "obs").then(|| observations(n)),
        };
        let opts = options(&case["options"], &p);
        let r = if case["options"]["jac"] == "operator" {
            let r = least_squares(&BroydenOperator::new(p), &vec![-1.0; n], &opts).unwrap();
            assert!(
                r.jac_sparse.is_none() && r.jac.is_empty(),
                "{id}: J never formed"
            );
            assert_eq!(r.jac_row_scale.is_some(), opts.loss != Loss::Linear, "{id}");
            r
        } else {
            let r = least_squares(&p, &vec![-1.0; n], &opts).unwrap();
            assert!(
                r.jac_sparse.is_some() && r.jac.is_empty(),
                "{id}: J kept sparse"
            );
            r
        };
        assert_eq!(r.tr_solver, Some(TrSolver::Lsmr), "{id}");
        let res = &case["result"];
        let x_ref = json_f64_vec(&res["x"]).unwrap();
        let cost_ref = res["cost"].as_f64().unwrap();
        let status = res["status"].as_i64().unwrap() as i32;
        let nfev = res["nfev"].as_u64().unwrap() as usize;
        let x_err =
            r.x.iter()
                .zip(&x_ref)
                .map(|(a, b)| (a - b).abs() / b.abs().max(1e-12))
                .fold(0.0, f64::max);
        // At a zero-residual solution both costs are rounding noise (~1e-23).
        let cost_ok = (r.cost - cost_ref).abs() <= 1e-8 * cost_ref || r.cost.max(cost_ref) < 1e-18;
        let mask_ok = r.active_mask
            == res["active_mask"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap() as i32)
                .collect::<Vec<_>>();
        eprintln!(
            "{id}: status {} vs {status}, nfev {} vs {nfev}, cost {:e} vs {cost_ref:e}, max rel x err {x_err:.1e}",
            r.status.scipy_status(),
            r.nfev,
            r.cost
        );
        total += 1;
        let same_status = r.status.scipy_status() == status;
        if same_status && r.nfev == nfev && x_err <= 1e-6 && cost_ok && mask_ok {
            matched += 1;
        } else if !(same_status && (cost_ok || r.cost <= cost_ref)) {
            worse.push(id.to_string());
        }
    }
    // LSMR's inner iterations follow rounding (scipy's norms are OpenBLAS's): on slow,
    // ftol-terminated robust fits the path may drift; such cases must still end with
    // scipy's status at a cost no higher than scipy's.
    eprintln!("sparse fixtures: {matched}/{total} match scipy (status, nfev, x, cost, active set)");
    assert!(worse.is_empty(), "worse than scipy: {worse:?}");
    assert!(
        matched * 6 >= total * 5,
        "only {matched}/{total} cases match scipy"
    );
}

#[test]
fn better_grouping_needs_fewer_evaluations_and_gives_the_same_solution() {
    let p = Broyden { n: 500, obs: None };
    let scipy_rule = Options {
        jac_sparsity: Some(p.pattern()),
        ..Default::default()
    };
    let lf = Options {
        column_grouping: ColumnGrouping::LargestFirst,
        ..scipy_rule.clone()
    };
    let a = least_squares(&p, &[-1.0; 500], &scipy_rule).unwrap();
    let b = least_squares(&p, &[-1.0; 500], &lf).unwrap();
    assert_eq!(b.jac_groups, Some(3));
    assert!(a.jac_groups.unwrap() > 3);
    assert_eq!(a.x, b.x, "grouping changes only the evaluation count");
}

#[test]
fn sparse_options_are_validated_in_scipy_words() {
    let p = Broyden { n: 10, obs: None };
    let pattern = Some(p.pattern());
    let cases = [
        (
            Options {
                jac_sparsity: Some(SparsityPattern::from_entries(9, 10, [(0, 0)]).unwrap()),
                ..Default::default()
            },
            "`jac_sparsity` has wrong shape.",
        ),
        (
            Options {
                jac_sparsity: pattern.clone(),
                tr_solver: Some(TrSolver::Exact),
                ..Default::default()
            },
            "incompatible with `jac_sparsity`",
        ),
        (
            Options {
                jac_sparsity: pattern,
                method: trustfit::Method::Lm,
                ..Default::default()
            },
            "method='lm' does not support `jac_sparsity`.",
        ),
        (
            Options {
                jac: JacSpec::Analytic,
                method: trustfit::Method::Lm,
                ..Default::default()
            },
            "works only with dense Jacobian matrices",
        ),
    ];
    for (opts, want) in cases {
        let e = least_squares(&p, &[-1.0; 10], &opts)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn cholesky_solver_follows_scipys_exact_solver() {
    // tr_solver='cholesky' (beyond scipy) computes the exact trust-region step from a
    // sparse factorization; its reference is scipy's tr_solver='exact' on the same
    // problem with a dense J (`exact_result` in the fixtures).
    let fixtures = load();
    let mut checked = 0;
    for case in fixtures["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let Some(res) = case["exact_result"].as_object() else {
            continue;
        };
        let n = case["n"].as_u64().unwrap() as usize;
        let p = Broyden {
            n,
            obs: (case["problem"] == "obs").then(|| observations(n)),
        };
        let mut opts = options(&case["options"], &p);
        opts.tr_solver = Some(TrSolver::Cholesky);
        let r = least_squares(&p, &vec![-1.0; n], &opts).unwrap();
        let cost_ref = res["cost"].as_f64().unwrap();
        let nfev_ref = res["nfev"].as_u64().unwrap() as usize;
        let status = res["status"].as_i64().unwrap() as i32;
        let x_ref = json_f64_vec(&res["x"]).unwrap();
        let x_err =
            r.x.iter()
                .zip(&x_ref)
                .map(|(a, b)| (a - b).abs() / b.abs().max(1e-12))
                .fold(0.0, f64::max);
        eprintln!(
            "{id}: cholesky status {} vs {status}, nfev {} vs {nfev_ref}, cost {:e} vs {cost_ref:e}, x err {x_err:.1e}",
            r.status.scipy_status(),
            r.nfev,
            r.cost
        );
        assert_eq!(r.status.scipy_status(), status, "{id}");
        assert_eq!(r.nfev, nfev_ref, "{id}");
        assert!(
            (r.cost - cost_ref).abs() <= 1e-8 * cost_ref || r.cost.max(cost_ref) < 1e-18,
            "{id}: cost {} vs {cost_ref}",
            r.cost
        );
        assert!(x_err < 1e-6, "{id}: x differs by {x_err:e}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked} cases");
}

#[test]
fn dogbox_with_cholesky_reaches_the_dense_exact_solvers_minimum() {
    // Beyond scipy: dogbox's Gauss–Newton step from the sparse normal equations on the
    // free variables. Its reference is dogbox with the dense exact solver (scipy's
    // lstsq step) on the same problem and options: the same minimum, up to the
    // rounding of two different factorizations.
    const COST_RTOL: f64 = 1e-6; // two factorizations; both converge to the minimum
    const X_RTOL: f64 = 1e-4; // x is less well determined than the cost at a minimum
    let fixtures = load();
    let mut checked = 0;
    for case in fixtures["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        if case["options"]["jac"].as_str() == Some("operator") || n > 200 {
            continue;
        }
        let p = Broyden {
            n,
            obs: (case["problem"] == "obs").then(|| observations(n)),
        };
        let mut opts = options(&case["options"], &p);
        opts.method = trustfit::Method::Dogbox;
        opts.tr_options = Default::default();
        let dense = Options {
            jac_sparsity: None,
            tr_solver: Some(TrSolver::Exact),
            ..opts.clone()
        };
        let sparse = Options {
            jac_sparsity: Some(p.pattern()),
            tr_solver: Some(TrSolver::Cholesky),
            ..opts
        };
        let want = least_squares(&DenseView(&p), &vec![-1.0; n], &dense).unwrap();
        let got = least_squares(&p, &vec![-1.0; n], &sparse).unwrap();
        assert_eq!(got.tr_solver, Some(TrSolver::Cholesky), "{id}");
        assert!(
            got.success() && want.success(),
            "{id}: {} / {}",
            got.message(),
            want.message()
        );
        let cost_ok = (got.cost - want.cost).abs() <= COST_RTOL * want.cost
            || got.cost.max(want.cost) < 1e-18;
        assert!(cost_ok, "{id}: cost {:e} vs {:e}", got.cost, want.cost);
        let x_err = got
            .x
            .iter()
            .zip(&want.x)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1e-3))
            .fold(0.0, f64::max);
        assert!(x_err < X_RTOL, "{id}: x differs by {x_err:e}");
        assert_eq!(got.active_mask, want.active_mask, "{id}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked} cases");
}

/// The problem with its sparsity hidden, so that the analytic J is stored densely.
struct DenseView<'a>(&'a Broyden);

impl Residuals for DenseView<'_> {
    fn num_residuals(&self) -> usize {
        self.0.num_residuals()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        self.0.residuals(x, f)
    }
    fn has_jacobian(&self) -> bool {
        true
    }
    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        let (m, n) = (self.num_residuals(), x.len());
        let pattern = self.0.pattern();
        let mut values = vec![0.0; pattern.nnz()];
        self.0.sparse_jacobian(x, &mut values)?;
        jac[..m * n].fill(0.0);
        let mut k = 0;
        for i in 0..m {
            for &j in pattern.row(i) {
                jac[i * n + j] = values[k];
                k += 1;
            }
        }
        Ok(())
    }
}

#[test]
fn matrix_free_jacobians_are_validated_in_scipy_words() {
    let op = BroydenOperator::new(Broyden { n: 10, obs: None });
    let x0 = [-1.0; 10];
    type Set = fn(&mut Options);
    let cases: [(Set, &str); 4] = [
        (
            |o| o.method = trustfit::Method::Lm,
            "method='lm' works only with dense Jacobian matrices.",
        ),
        (
            |o| o.tr_solver = Some(TrSolver::Exact),
            "'exact' works only with dense Jacobian matrices.",
        ),
        (
            |o| o.x_scale = XScale::Jac,
            "x_scale='jac' can't be used when `jac` returns LinearOperator",
        ),
        (
            |o| o.tr_solver = Some(TrSolver::Cholesky),
            "need a sparse Jacobian",
        ),
    ];
    for (set, want) in cases {
        let mut opts = Options {
            jac: JacSpec::Analytic,
            ..Default::default()
        };
        set(&mut opts);
        let e = least_squares(&op, &x0, &opts).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn a_failing_or_panicking_product_stops_the_solve_with_the_best_point() {
    for panics in [false, true] {
        let mut op = BroydenOperator::new(Broyden { n: 50, obs: None });
        // Enough products for the first iterations, then the operator fails.
        op.fail_after = Some((40, panics));
        let opts = Options {
            jac: JacSpec::Analytic,
            ..Default::default()
        };
        let e = least_squares(&op, &[-1.0; 50], &opts).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(if panics {
                "operator panicked"
            } else {
                "operator broke"
            }),
            "{msg}"
        );
        let Error::Callback {
            best: Some(best), ..
        } = &e
        else {
            panic!("no best point: {e:?}");
        };
        assert!(best.x.iter().all(|v| v.is_finite()));
        let mut f = vec![0.0; 50];
        op.inner.residuals(&best.x, &mut f).unwrap();
        let cost = 0.5 * f.iter().map(|v| v * v).sum::<f64>();
        assert_eq!(cost, best.cost);
        assert!(
            best.cost < 0.5 * 50.0 * 4.0,
            "progress was made: {}",
            best.cost
        );
    }
}

#[test]
fn covariance_of_sparse_and_matrix_free_solves() {
    // With observation rows (m = 2n): the sparse J gives the dense J's covariance; a
    // matrix-free J has no entries, which is an error, not a panic.
    let n = 12;
    let p = Broyden {
        n,
        obs: Some(observations(n)),
    };
    let sparse = Options {
        jac: JacSpec::Analytic,
        tr_solver: Some(TrSolver::Cholesky),
        ..Default::default()
    };
    let r = least_squares(&p, &vec![-1.0; n], &sparse).unwrap();
    assert!(r.jac.is_empty());
    let c = r.covariance(false).unwrap();
    let mut dense = r.clone();
    dense.jac = r.jac_sparse.as_ref().unwrap().to_dense();
    dense.jac_sparse = None;
    let d = dense.covariance(false).unwrap();
    assert_eq!(c.stderr, d.stderr);
    assert!(c.stderr.iter().all(|s| s.is_finite() && *s > 0.0));
    let op = BroydenOperator::new(Broyden {
        n,
        obs: Some(observations(n)),
    });
    let r = least_squares(
        &op,
        &vec![-1.0; n],
        &Options {
            jac: JacSpec::Analytic,
            ..Default::default()
        },
    )
    .unwrap();
    let e = r.covariance(false).unwrap_err().to_string();
    assert!(e.contains("matrix-free"), "{e}");
}

#[test]
fn schur_complement_takes_the_cholesky_steps_on_bundle_adjustment() {
    // The two exact solvers factor the same matrices two ways (Schur also corrects a
    // near miss of the α search to first order instead of refactoring, a step within
    // the search's tolerance): same evaluations, same minimum.
    let ba = common::small_ba::small_ba();
    let x0 = ba.problem().x0.clone();
    let run = |t| {
        let opts = Options {
            jac: JacSpec::Analytic,
            x_scale: XScale::Jac,
            tr_solver: Some(t),
            ..Default::default()
        };
        least_squares(&ba, &x0, &opts).unwrap()
    };
    let (s, c) = (run(TrSolver::Schur), run(TrSolver::Cholesky));
    assert_eq!(s.tr_solver, Some(TrSolver::Schur));
    assert!(s.success() && c.success());
    assert_eq!((s.status, s.nfev), (c.status, c.nfev));
    // The observations are exact: both reach zero up to rounding, by the same steps.
    let cost0 = ba.problem().cost(&x0);
    assert!(
        s.cost.max(c.cost) < 1e-14 * cost0,
        "{} {} of {cost0}",
        s.cost,
        c.cost
    );
    let dx =
        s.x.iter()
            .zip(&c.x)
            .fold(0.0f64, |a, (u, v)| a.max((u - v).abs()));
    assert!(dx < 1e-8, "x differs by {dx}");
    // Broyden has no eliminable block structure left over: a clear error.
    let b = Broyden { n: 50, obs: None };
    let opts = Options {
        jac: JacSpec::Analytic,
        tr_solver: Some(TrSolver::Schur),
        ..Default::default()
    };
    let e = least_squares(&b, &[-1.0; 50], &opts);
    if let Err(e) = e {
        assert!(e.to_string().contains("'schur'"), "{e}");
    }
}
