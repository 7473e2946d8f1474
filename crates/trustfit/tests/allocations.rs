//! Per-iteration work allocates nothing: a solve that runs many more iterations makes
//! exactly as many heap allocations as a short one (all buffers are set up once).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly
#![allow(unsafe_code)] // a counting global allocator must implement GlobalAlloc

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use trustfit::{
    Bounds, CallbackError, JacSpec, JacobianProducts, Loss, Method, Options, Residuals, Solver,
    SparsityPattern, TrSolver, XScale, from_fn, least_squares,
};

struct Counting;

thread_local! {
    /// Allocations made by this thread: the test harness's own threads allocate
    /// beside a running test, and must not be counted.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with`: a thread being torn down has no slot left (nothing to count then).
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations_so_far() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by one solve of the exponential fit with `max_nfev` evaluations.
fn allocations(opts: &Options, max_nfev: usize) -> (usize, usize) {
    let (t, y) = trustfit_problems::seeds::expfit_data();
    let p = from_fn(15, |p: &[f64], f: &mut [f64]| {
        for i in 0..15 {
            f[i] = p[0] + p[1] * (p[2] * t[i]).exp() - y[i];
        }
    })
    .with_jacobian(|p: &[f64], j: &mut [f64]| {
        for i in 0..15 {
            let e = (p[2] * t[i]).exp();
            j[3 * i..3 * i + 3].copy_from_slice(&[1.0, e, p[1] * t[i] * e]);
        }
    });
    count(&p, opts, max_nfev)
}

fn count(p: &impl Residuals, opts: &Options, max_nfev: usize) -> (usize, usize) {
    let tiny = Some(1e-15);
    let opts = Options {
        max_nfev: Some(max_nfev),
        ftol: tiny,
        xtol: tiny,
        gtol: tiny,
        ..opts.clone()
    };
    let before = allocations_so_far();
    let r = least_squares(p, &[1.0, 1.0, 0.0], &opts).unwrap();
    (allocations_so_far() - before, r.nit)
}

/// The same exponential fit with a matrix-free Jacobian (products only).
struct ExpOperator {
    t: Vec<f64>,
    y: Vec<f64>,
}

impl Residuals for ExpOperator {
    fn num_residuals(&self) -> usize {
        self.t.len()
    }
    fn residuals(&self, p: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        for ((f, t), y) in f.iter_mut().zip(&self.t).zip(&self.y) {
            *f = p[0] + p[1] * (p[2] * t).exp() - y;
        }
        Ok(())
    }
    fn jacobian_products(&self) -> Option<&dyn JacobianProducts> {
        Some(self)
    }
}

impl JacobianProducts for ExpOperator {
    fn jvp(&self, p: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        for (o, t) in out.iter_mut().zip(&self.t) {
            let e = (p[2] * t).exp();
            *o = v[0] + e * v[1] + p[1] * t * e * v[2];
        }
        Ok(())
    }
    fn vjp(&self, p: &[f64], u: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
        out.fill(0.0);
        for (u, t) in u.iter().zip(&self.t) {
            let e = (p[2] * t).exp();
            out[0] += u;
            out[1] += e * u;
            out[2] += p[1] * t * e * u;
        }
        Ok(())
    }
}

fn bounded() -> Bounds {
    Bounds::new(vec![0.0, 0.0, -5.0], vec![10.0, 10.0, 0.0])
}

/// Every entry of the 15×3 Jacobian is structurally nonzero: the sparse path, dense data.
fn full() -> SparsityPattern {
    SparsityPattern::from_dense(15, 3, &[1.0; 45])
}

#[test]
fn iterations_allocate_nothing() {
    // One test (the harness's threads allocate beside parallel tests). rayon's global
    // pool (the Schur factorization's threads) allocates once, when first used.
    rayon::join(|| (), || ());
    per_iteration_allocations_are_none();
    reused_solver_allocates_nothing();
}

/// A long solve makes as many allocations as a short one, for every method.
fn per_iteration_allocations_are_none() {
    type Set = fn(&mut Options);
    let setters: [(&str, Set); 18] = [
        ("trf", |o| o.method = Method::Trf),
        ("trf bounded", |o| {
            o.method = Method::Trf;
            o.bounds = bounded();
        }),
        ("trf soft_l1", |o| {
            o.loss = Loss::SoftL1;
            o.f_scale = 0.1;
        }),
        ("trf analytic", |o| o.jac = JacSpec::Analytic),
        ("dogbox", |o| o.method = Method::Dogbox),
        ("dogbox bounded", |o| {
            o.method = Method::Dogbox;
            o.bounds = bounded();
        }),
        ("lm", |o| o.method = Method::Lm),
        ("3-point", |o| o.jac = JacSpec::ThreePoint),
        ("trf lsmr", |o| o.tr_solver = Some(TrSolver::Lsmr)),
        ("trf lsmr bounded soft_l1 x_scale=jac", |o| {
            o.tr_solver = Some(TrSolver::Lsmr);
            o.bounds = bounded();
            o.loss = Loss::SoftL1;
            o.x_scale = XScale::Jac;
        }),
        ("trf jac_sparsity 3-point", |o| {
            o.jac = JacSpec::ThreePoint;
            o.jac_sparsity = Some(full());
        }),
        ("trf cholesky bounded huber", |o| {
            o.tr_solver = Some(TrSolver::Cholesky);
            o.jac_sparsity = Some(full());
            o.bounds = bounded();
            o.loss = Loss::Huber;
        }),
        ("dogbox cholesky bounded", |o| {
            o.method = Method::Dogbox;
            o.tr_solver = Some(TrSolver::Cholesky);
            o.jac_sparsity = Some(full());
            o.bounds = bounded();
        }),
        ("dogbox lsmr", |o| {
            o.method = Method::Dogbox;
            o.tr_solver = Some(TrSolver::Lsmr);
        }),
        ("sparse_lm (schur)", |o| {
            o.method = Method::SparseLm;
            o.jac_sparsity = Some(full());
        }),
        ("sparse_lm cholesky soft_l1", |o| {
            o.method = Method::SparseLm;
            o.tr_solver = Some(TrSolver::Cholesky);
            o.jac_sparsity = Some(full());
            o.loss = Loss::SoftL1;
        }),
        ("sparse_lm iterative_schur", |o| {
            o.method = Method::SparseLm;
            o.tr_solver = Some(TrSolver::IterativeSchur);
            o.jac_sparsity = Some(full());
        }),
        ("dogbox jac_sparsity bounded cauchy", |o| {
            o.method = Method::Dogbox;
            o.jac_sparsity = Some(full());
            o.bounds = bounded();
            o.loss = Loss::Cauchy;
        }),
    ];
    let cases = setters.map(|(name, set)| {
        let mut o = Options::default();
        set(&mut o);
        (name, o)
    });
    let t: Vec<f64> = (0..15).map(|i| i as f64 * (10.0 / 14.0)).collect();
    let y = t.iter().map(|&t| 0.5 + 2.0 * (-t).exp()).collect();
    let operator = ExpOperator { t, y };
    let analytic = |o: Options| Options {
        jac: JacSpec::Analytic,
        ..o
    };
    let operator_cases = [
        ("operator trf", analytic(Options::default())),
        (
            "operator trf bounded soft_l1",
            analytic(Options {
                bounds: bounded(),
                loss: Loss::SoftL1,
                ..Default::default()
            }),
        ),
        (
            "operator dogbox bounded",
            analytic(Options {
                method: Method::Dogbox,
                bounds: bounded(),
                ..Default::default()
            }),
        ),
    ];
    let runs = cases.into_iter().map(|(name, o)| (name, o, None)).chain(
        operator_cases
            .into_iter()
            .map(|(name, o)| (name, o, Some(&operator))),
    );
    for (name, opts, op) in runs {
        let run = |max_nfev| match op {
            Some(p) => count(p, &opts, max_nfev),
            None => allocations(&opts, max_nfev),
        };
        let (short, nit_short) = run(4);
        let (long, nit_long) = run(40);
        assert!(
            nit_long > nit_short,
            "{name}: the long run must iterate more ({nit_short} vs {nit_long})"
        );
        assert_eq!(
            short, long,
            "{name}: {short} allocations for {nit_short} iterations, {long} for {nit_long}"
        );
    }
}

/// The 5×3 problem of the workspace acceptance test: 10⁴ solves, no allocation.
fn reused_solver_allocates_nothing() {
    let t = [0.0, 0.5, 1.0, 1.5, 2.0];
    let y = [1.21, 0.93, 0.72, 0.58, 0.47];
    let p = from_fn(5, move |q: &[f64], f: &mut [f64]| {
        for i in 0..5 {
            f[i] = q[0] * (q[1] * t[i]).exp() + q[2] - y[i];
        }
    });
    let bounded = Bounds::new(vec![0.0, -2.0, -1.0], vec![3.0, 0.0, 1.0]);
    let sets = [
        ("trf", Options::default()),
        (
            "trf bounded huber",
            Options {
                bounds: bounded.clone(),
                loss: Loss::Huber,
                ..Default::default()
            },
        ),
        (
            "dogbox bounded",
            Options {
                method: Method::Dogbox,
                bounds: bounded,
                ..Default::default()
            },
        ),
    ];
    for (name, opts) in sets {
        let x0 = [1.0, -0.5, 0.0];
        let mut solver = Solver::new(&p, &x0, &opts).unwrap();
        let first = solver.solve(&p, &x0).unwrap().cost;
        let before = allocations_so_far();
        for _ in 0..10_000 {
            let s = solver.solve(&p, &x0).unwrap();
            assert_eq!(s.cost.to_bits(), first.to_bits(), "{name}");
        }
        let made = allocations_so_far() - before;
        assert_eq!(made, 0, "{name}: {made} allocations in 10⁴ reused solves");
    }
}
