#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `method='sparse_lm'`: Ceres-style Levenberg–Marquardt on the sparse normal
//! equations. Its minima are checked against trf's (the same problems, another
//! method), the exact observations of a small bundle adjustment, and closed forms.

mod common;

use trustfit::{
    Bounds, CallbackError, Error, JacSpec, Loss, Method, Options, Residuals, SparsityPattern,
    TrSolver, least_squares,
};
use trustfit_problems::adapter::SparseAdapter;
use trustfit_problems::sparse::BroydenTridiagonal;

fn sparse_lm(tr_solver: Option<TrSolver>) -> Options {
    Options {
        method: Method::SparseLm,
        jac: JacSpec::Analytic,
        tr_solver,
        ..Default::default()
    }
}

/// Tolerances that stop only near rounding (the exact-data minimum is zero).
fn tight(o: Options) -> Options {
    Options {
        ftol: Some(1e-15),
        xtol: Some(1e-15),
        gtol: Some(1e-15),
        ..o
    }
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (u, v)| m.max((u - v).abs()))
}

#[test]
fn bundle_adjustment_reaches_the_exact_scene_by_schur_and_by_cholesky() {
    let ba = common::small_ba::small_ba();
    let x0 = ba.problem().x0.clone();
    let cost0 = ba.problem().cost(&x0);
    let run = |t| least_squares(&ba, &x0, &tight(sparse_lm(t))).unwrap();
    let (s, c, d) = (
        run(Some(TrSolver::Schur)),
        run(Some(TrSolver::Cholesky)),
        run(None),
    );
    assert_eq!(
        (s.tr_solver, c.tr_solver, d.tr_solver),
        (
            Some(TrSolver::Schur),
            Some(TrSolver::Cholesky),
            Some(TrSolver::Schur)
        ),
        "None picks schur where J's pattern allows it"
    );
    assert_eq!(s.method, Method::SparseLm);
    for r in [&s, &c, &d] {
        assert!(r.success(), "{:?}", r.status);
        // The observations are exact: the minimum is zero up to rounding.
        assert!(r.cost < 1e-14 * cost0, "{} of {cost0}", r.cost);
        assert_eq!(r.njev, Some(r.nit + 1));
    }
    // Two factorizations of the same matrices: the same steps up to rounding.
    assert_eq!(s.nfev, c.nfev);
    assert!(max_diff(&s.x, &c.x) < 1e-8);
    assert_eq!((s.x.clone(), s.nfev), (d.x.clone(), d.nfev));
}

#[test]
fn iterative_schur_reaches_the_exact_scene_and_is_for_sparse_lm_only() {
    let ba = common::small_ba::ba_scene(6, 300);
    let x0 = ba.problem().x0.clone();
    let cost0 = ba.problem().cost(&x0);
    let pcg = least_squares(&ba, &x0, &tight(sparse_lm(Some(TrSolver::IterativeSchur)))).unwrap();
    let exact = least_squares(&ba, &x0, &tight(sparse_lm(Some(TrSolver::Schur)))).unwrap();
    assert_eq!(pcg.tr_solver, Some(TrSolver::IterativeSchur));
    assert!(pcg.success() && exact.success());
    // Inexact steps, the same minimum: zero (exact observations) up to rounding. (Not
    // the same x: bundle adjustment's gauge freedom leaves a manifold of minima.)
    assert!(pcg.cost < 1e-14 * cost0, "{} of {cost0}", pcg.cost);
    assert!(exact.cost < 1e-14 * cost0, "{} of {cost0}", exact.cost);
    let trf = Options {
        method: Method::Trf,
        ..sparse_lm(Some(TrSolver::IterativeSchur))
    };
    let e = least_squares(&ba, &x0, &trf).unwrap_err().to_string();
    assert!(e.contains("method='sparse_lm' only"), "{e}");
}

#[test]
fn the_same_bits_on_any_number_of_threads() {
    // 1200 points: the Schur factorization splits its blocks and its columns.
    let ba = common::small_ba::ba_scene(12, 1200);
    let x0 = ba.problem().x0.clone();
    let mut runs = Vec::new();
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let configs = [
            (Method::SparseLm, TrSolver::Schur),
            (Method::Trf, TrSolver::Schur),
            (Method::SparseLm, TrSolver::IterativeSchur),
        ];
        for (k, (method, solver)) in configs.into_iter().enumerate() {
            let opts = Options {
                method,
                x_scale: trustfit::XScale::Jac,
                ..sparse_lm(Some(solver))
            };
            let r = pool.install(|| least_squares(&ba, &x0, &opts)).unwrap();
            assert!(r.success());
            runs.push((threads, k, r.x, r.cost, r.nfev));
        }
    }
    for r in &runs[3..] {
        let first = &runs[r.1];
        assert_eq!(
            (&r.2, r.3, r.4),
            (&first.2, first.3, first.4),
            "{} threads",
            r.0
        );
    }
}

#[test]
fn broyden_falls_back_to_cholesky_and_agrees_with_trf() {
    let n = 2000;
    let p = SparseAdapter::new(BroydenTridiagonal::new(n)).unwrap();
    let x0 = p.problem().x0();
    let lm = least_squares(&p, &x0, &sparse_lm(None)).unwrap();
    assert_eq!(lm.tr_solver, Some(TrSolver::Cholesky));
    let trf = least_squares(
        &p,
        &x0,
        &Options {
            jac: JacSpec::Analytic,
            tr_solver: Some(TrSolver::Cholesky),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(lm.success() && trf.success());
    // A square system with a root: both reach zero, at the same root.
    assert!(
        lm.cost < 1e-20 && trf.cost < 1e-20,
        "{} {}",
        lm.cost,
        trf.cost
    );
    assert!(max_diff(&lm.x, &trf.x) < 1e-9);
    // Asked for, schur runs (every third column eliminated, a dense complement of
    // the rest): the same root.
    let s = least_squares(&p, &x0, &sparse_lm(Some(TrSolver::Schur))).unwrap();
    assert_eq!(s.tr_solver, Some(TrSolver::Schur));
    assert!(s.cost < 1e-20 && max_diff(&s.x, &lm.x) < 1e-9);
    // Where the complement would be too large for a dense factor, an error says so.
    let big = SparseAdapter::new(BroydenTridiagonal::new(13_000)).unwrap();
    let x0 = big.problem().x0();
    let e = least_squares(&big, &x0, &sparse_lm(Some(TrSolver::Schur))).unwrap_err();
    assert!(e.to_string().contains("'schur' does not apply"), "{e}");
}

/// `f_i = exp(x_i) − 2` for the first n rows, `x_i − x_{i+1}` coupling rows after
/// them, and NaN once any x exceeds 1 (the full Gauss–Newton step from −3 does).
struct GuardedExp {
    n: usize,
}

impl GuardedExp {
    fn pattern(&self) -> SparsityPattern {
        let n = self.n;
        let mut e: Vec<(usize, usize)> = (0..n).map(|i| (i, i)).collect();
        for i in 0..n - 1 {
            e.extend([(n + i, i), (n + i, i + 1)]);
        }
        SparsityPattern::from_entries(2 * n - 1, n, e).unwrap()
    }
}

impl Residuals for GuardedExp {
    fn num_residuals(&self) -> usize {
        2 * self.n - 1
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        let n = self.n;
        let nan = x.iter().any(|&v| v > 1.0);
        for i in 0..n {
            f[i] = if nan { f64::NAN } else { x[i].exp() - 2.0 };
        }
        for i in 0..n - 1 {
            f[n + i] = x[i] - x[i + 1];
        }
        Ok(())
    }
    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        Some(self.pattern())
    }
}

#[test]
fn non_finite_trial_points_raise_the_damping_and_the_solve_goes_on() {
    let p = GuardedExp { n: 30 };
    let x0 = vec![-3.0; 30];
    let opts = Options {
        method: Method::SparseLm,
        jac_sparsity: Some(p.pattern()),
        ..Default::default()
    };
    let r = least_squares(&p, &x0, &opts).unwrap();
    assert!(r.success(), "{:?}", r.status);
    // At the root exp(x) = 2 for every variable (the coupling rows vanish there).
    assert!(
        r.x.iter().all(|&v| (v - 2f64.ln()).abs() < 1e-7),
        "{:?}",
        r.x
    );
    // The rejected NaN trials cost evaluations but no Jacobian.
    assert!(r.nfev > r.nit, "nfev {} nit {}", r.nfev, r.nit);
    // Column groups largest-first (sparse_lm's default): the coupling chain needs 2.
    assert_eq!(r.jac_groups, Some(2));
}

/// `groups` decays sharing one rate: x = [k, a_1 … a_G], rows `a_g·e^{−k t} − y`,
/// with deterministic noise and every 11th point an outlier. J's pattern is
/// bundle adjustment's in miniature: the amplitudes are eliminated, k stays.
struct SharedRate {
    y: Vec<f64>,
    t: [f64; 8],
}

impl SharedRate {
    fn new(groups: usize) -> Self {
        let t: [f64; 8] = [0.0, 0.3, 0.7, 1.2, 1.8, 2.5, 3.3, 4.2];
        let mut y = Vec::new();
        for g in 0..groups {
            let a = 1.0 + 0.1 * g as f64;
            for &tk in &t {
                let i = y.len();
                let noise = 0.01 * ((i * 7919) % 13) as f64 / 13.0 - 0.005;
                let outlier = if i % 11 == 5 { 0.5 } else { 0.0 };
                y.push(a * (-0.7f64 * tk).exp() + noise + outlier);
            }
        }
        Self { y, t }
    }
    fn groups(&self) -> usize {
        self.y.len() / self.t.len()
    }
}

impl Residuals for SharedRate {
    fn num_residuals(&self) -> usize {
        self.y.len()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        for (i, fi) in f.iter_mut().enumerate() {
            let (g, k) = (i / 8, i % 8);
            *fi = x[1 + g] * (-x[0] * self.t[k]).exp() - self.y[i];
        }
        Ok(())
    }
    fn has_jacobian(&self) -> bool {
        true
    }
    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        let e = (0..self.y.len()).flat_map(|i| [(i, 0), (i, 1 + i / 8)]);
        Some(
            SparsityPattern::from_entries(self.y.len(), 1 + self.groups(), e.collect::<Vec<_>>())
                .unwrap(),
        )
    }
    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        for i in 0..self.y.len() {
            let (g, tk) = (i / 8, self.t[i % 8]);
            let e = (-x[0] * tk).exp();
            values[2 * i] = -x[1 + g] * tk * e;
            values[2 * i + 1] = e;
        }
        Ok(())
    }
}

#[test]
fn robust_losses_reach_the_minimum_trf_reaches() {
    let p = SharedRate::new(40);
    // Started in the basin of the robust minimum (Cauchy and arctan are not convex).
    let x0: Vec<f64> = (0..41)
        .map(|i| if i == 0 { 0.5 } else { 0.9 + 0.08 * i as f64 })
        .collect();
    // soft_l1 keeps the cost convex in each residual, so the minimum is the one trf
    // finds. (Cauchy and arctan are not: from this start sparse_lm's first, nearly
    // Gauss–Newton step lands in another basin. Huber's ρ″ = 0 beyond the threshold
    // lets Marquardt's diagonal of the shared rate collapse and this method crawls —
    // the README says to use trf there.)
    for loss in [Loss::Linear, Loss::SoftL1] {
        let opts = |method| {
            tight(Options {
                method,
                jac: JacSpec::Analytic,
                loss: loss.clone(),
                f_scale: 0.02,
                tr_solver: Some(TrSolver::Schur),
                ..Default::default()
            })
        };
        let lm = least_squares(&p, &x0, &opts(Method::SparseLm)).unwrap();
        let trf = least_squares(&p, &x0, &opts(Method::Trf)).unwrap();
        assert!(lm.success() && trf.success(), "{loss:?}");
        assert_eq!(lm.tr_solver, Some(TrSolver::Schur));
        assert!(
            (lm.cost - trf.cost).abs() <= 1e-10 * trf.cost,
            "{loss:?}: {} vs {}",
            lm.cost,
            trf.cost
        );
        assert!(max_diff(&lm.x, &trf.x) < 1e-6, "{loss:?}");
        // The robust fits see through the outliers; the linear one does not.
        let k_err = (lm.x[0] - 0.7).abs();
        assert!(
            (k_err < 0.01) == !matches!(loss, Loss::Linear),
            "{loss:?}: k = {}",
            lm.x[0]
        );
    }
}

#[test]
fn refuses_bounds_dense_jacobians_and_other_tr_solvers_with_a_reason() {
    let p = SparseAdapter::new(BroydenTridiagonal::new(20)).unwrap();
    let x0 = p.problem().x0();
    let msg = |o: Options| least_squares(&p, &x0, &o).unwrap_err().to_string();
    let bounded = Options {
        bounds: Bounds::new(vec![-10.0; 20], vec![10.0; 20]),
        ..sparse_lm(None)
    };
    assert!(msg(bounded).contains("doesn't support bounds"));
    for t in [TrSolver::Exact, TrSolver::Lsmr] {
        let e = msg(sparse_lm(Some(t)));
        assert!(e.contains("'iterative_schur' or 'cholesky'"), "{e}");
    }
    let dense = trustfit::from_fn(3, |x: &[f64], f: &mut [f64]| {
        f[0] = x[0] - 1.0;
        f[1] = x[1] + 1.0;
        f[2] = x[0] * x[1];
    });
    let opts = Options {
        method: Method::SparseLm,
        ..Default::default()
    };
    let e = least_squares(&dense, &[0.0, 0.0], &opts).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
    assert!(e.to_string().contains("sparse Jacobian"), "{e}");
    assert_eq!("sparse_lm".parse::<Method>().unwrap(), Method::SparseLm);
}
