//! Property-based tests (proptest) of the public `least_squares` on random small problems:
//! random shapes, methods, Jacobian kinds, bounds, losses, scales and evaluation limits,
//! with NaN injected at a random evaluation or a panicking residual function. Whatever
//! happens, the call returns (no panic escapes, no hang: evaluations stay under the
//! limit), an `Ok` report is inside the bounds with a cost no larger than at the start,
//! and an error raised after the first evaluation carries a best point.
//!
//! Each target runs `CASES` cases (≥ 10⁴, a few seconds); `PROPTEST_CASES=1000000`
//! overrides it for the long run (README, "Testing").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use trustfit::{Bounds, CallbackError, JacSpec, Loss, Method, Options, TrSolver, XScale, from_fn};

/// Cases per target in CI (issue 14 asks for at least 10⁴).
const CASES: u32 = 10_000;

/// `CASES`, or the count `PROPTEST_CASES` gives.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig::with_cases(cases.unwrap_or(CASES))
}

/// What goes wrong during the solve.
#[derive(Debug, Clone, Copy)]
enum Failure {
    None,
    /// Residuals all NaN from this evaluation on.
    NanFrom(usize),
    /// One NaN residual at this evaluation only.
    NanAt(usize),
    /// The residual function panics at this evaluation.
    PanicAt(usize),
    /// The residual function returns an error at this evaluation.
    ErrorAt(usize),
}

#[derive(Debug, Clone)]
struct Case {
    n: usize,
    m: usize,
    /// Residual i = Σⱼ a[i][j]·g_{kind[i]}(x_j) + b[i].
    a: Vec<f64>,
    b: Vec<f64>,
    kind: Vec<u8>,
    x0: Vec<f64>,
    bounds: Option<(Vec<f64>, Vec<f64>)>,
    method: Method,
    jac: JacSpec,
    loss: Loss,
    tr_solver: Option<TrSolver>,
    x_scale: XScale,
    max_nfev: Option<usize>,
    failure: Failure,
}

fn g(kind: u8, x: f64) -> f64 {
    match kind % 5 {
        0 => x,
        1 => x * x,
        2 => (x.clamp(-30.0, 30.0)).exp(),
        3 => x.sin(),
        _ => x.abs().sqrt(),
    }
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..5, 0usize..6).prop_flat_map(|(n, extra)| {
        let m = n + extra;
        let coef = prop_oneof![4 => -3.0..3.0f64, 1 => Just(0.0), 1 => -1e6..1e6f64];
        (
            proptest::collection::vec(coef, m * n),
            proptest::collection::vec(-5.0..5.0f64, m),
            proptest::collection::vec(any::<u8>(), m),
            proptest::collection::vec(-3.0..3.0f64, n),
            proptest::option::of(proptest::collection::vec(
                (-4.0..0.0f64, 0.0..4.0f64, any::<u8>()),
                n,
            )),
            (0u8..3, 0u8..3, 0u8..5, 0u8..3, 0u8..3),
            (proptest::option::of(1usize..40), 0u8..5, 1usize..30),
        )
            .prop_map(
                move |(a, b, kind, x0, bounds, (me, ja, lo, ts, xs), (max_nfev, fk, at))| {
                    let method = [Method::Trf, Method::Dogbox, Method::Lm][me as usize];
                    let bounds = bounds.filter(|_| method != Method::Lm).map(|v| {
                        // Each side finite or infinite (bit pattern), always lb < ub.
                        let lb: Vec<f64> = v
                            .iter()
                            .map(|&(l, _, f)| if f & 1 == 0 { l } else { f64::NEG_INFINITY })
                            .collect();
                        let ub: Vec<f64> = v
                            .iter()
                            .map(|&(_, u, f)| if f & 2 == 0 { u + 1e-3 } else { f64::INFINITY })
                            .collect();
                        (lb, ub)
                    });
                    // x0 inside the bounds.
                    let x0 = match &bounds {
                        Some((lb, ub)) => x0
                            .iter()
                            .zip(lb.iter().zip(ub))
                            .map(|(&x, (&l, &u)): (&f64, (&f64, &f64))| x.clamp(l, u))
                            .collect(),
                        None => x0,
                    };
                    Case {
                        n,
                        m,
                        a,
                        b,
                        kind,
                        x0,
                        bounds,
                        method,
                        jac: [JacSpec::Analytic, JacSpec::TwoPoint, JacSpec::ThreePoint]
                            [ja as usize],
                        loss: [
                            Loss::Linear,
                            Loss::SoftL1,
                            Loss::Huber,
                            Loss::Cauchy,
                            Loss::Arctan,
                        ][lo as usize]
                            .clone(),
                        tr_solver: [None, Some(TrSolver::Exact), Some(TrSolver::Lsmr)][ts as usize],
                        x_scale: match xs {
                            0 => XScale::Default,
                            1 => XScale::Jac,
                            _ => XScale::Values(vec![0.5; n]),
                        },
                        max_nfev,
                        failure: match fk {
                            0 | 1 => Failure::None,
                            2 => Failure::NanFrom(at),
                            3 => Failure::NanAt(at),
                            _ => {
                                if at % 2 == 0 {
                                    Failure::PanicAt(at)
                                } else {
                                    Failure::ErrorAt(at)
                                }
                            }
                        },
                    }
                },
            )
    })
}

/// Evaluations after which a solve counts as hung (far above any max_nfev here).
const HANG: usize = 200_000;

fn run(c: &Case) -> Result<(), TestCaseError> {
    let calls = AtomicUsize::new(0);
    let (n, m) = (c.n, c.m);
    let model = |x: &[f64], f: &mut [f64]| -> Result<(), CallbackError> {
        let k = calls.fetch_add(1, Ordering::Relaxed) + 1;
        if k >= HANG {
            return Err("more evaluations than any limit here: a hang".into());
        }
        match c.failure {
            Failure::PanicAt(at) if k == at => panic!("injected panic"),
            Failure::ErrorAt(at) if k == at => return Err("injected error".into()),
            _ => {}
        }
        for i in 0..m {
            f[i] = c.b[i]
                + (0..n)
                    .map(|j| c.a[i * n + j] * g(c.kind[i], x[j]))
                    .sum::<f64>();
        }
        match c.failure {
            Failure::NanFrom(at) if k >= at => f.fill(f64::NAN),
            Failure::NanAt(at) if k == at => f[0] = f64::NAN,
            _ => {}
        }
        Ok(())
    };
    let problem = from_fn(m, model).with_jacobian(|x: &[f64], jac: &mut [f64]| {
        for i in 0..m {
            for j in 0..n {
                let h = 1e-7 * (1.0 + x[j].abs());
                let d = (g(c.kind[i], x[j] + h) - g(c.kind[i], x[j] - h)) / (2.0 * h);
                jac[i * n + j] = c.a[i * n + j] * d;
            }
        }
    });
    let opts = Options {
        method: c.method,
        jac: c.jac,
        loss: c.loss.clone(),
        tr_solver: if c.method == Method::Lm {
            None
        } else {
            c.tr_solver
        },
        x_scale: c.x_scale.clone(),
        max_nfev: c.max_nfev,
        bounds: match &c.bounds {
            Some((lb, ub)) => Bounds::new(lb.clone(), ub.clone()),
            None => Bounds::default(),
        },
        ..Default::default()
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trustfit::least_squares(&problem, &c.x0, &opts)
    }));
    let result = outcome.map_err(|_| TestCaseError::fail("a panic escaped least_squares"))?;
    prop_assert!(
        calls.load(Ordering::Relaxed) < HANG,
        "{} evaluations: a hang",
        HANG
    );
    match result {
        Ok(r) => {
            prop_assert_eq!(r.x.len(), n);
            if let Some((lb, ub)) = &c.bounds {
                for j in 0..n {
                    prop_assert!(
                        lb[j] <= r.x[j] && r.x[j] <= ub[j],
                        "x outside the bounds: {:?}",
                        r.x
                    );
                }
            }
            if r.cost.is_finite() && r.initial_cost.is_finite() {
                prop_assert!(
                    r.cost <= r.initial_cost * (1.0 + 1e-12) + 1e-300,
                    "cost rose: {} > {}",
                    r.cost,
                    r.initial_cost
                );
            }
            if let Some(max) = c.max_nfev {
                prop_assert!(r.nfev <= max + 1, "nfev {} beyond max_nfev {}", r.nfev, max);
            }
        }
        Err(e) => {
            // Refused before any evaluation (options, x0), or failed at x0 (not finite
            // there): no best point. Later: a best point.
            let evaluated = calls.load(Ordering::Relaxed);
            let at_start = evaluated <= 1;
            if !at_start && c.jac == JacSpec::Analytic {
                prop_assert!(
                    e.best().is_some(),
                    "no best point after {} evaluations: {}",
                    evaluated,
                    e
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn least_squares_on_random_problems_returns_cleanly(c in case()) {
        run(&c)?;
    }
}
