//! Small dense problems per method: where per-call overhead matters most — three
//! MINPACK cases, and `a + b·exp(c·t)` on 100 points (the Python package's per-call
//! benchmark, `benches/own_time.py`, fits the same model; here without Python).
//! Peer comparisons (scipy, cminpack, GSL, Ceres) run through `trustfit bench`.

use criterion::{Criterion, criterion_group, criterion_main};
use trustfit::{JacSpec, Method, Options, Residuals, least_squares};
use trustfit_problems::TestProblem;
use trustfit_problems::minpack::{MinpackCase, cases};

struct Case(MinpackCase);

impl Residuals for Case {
    fn num_residuals(&self) -> usize {
        self.0.m()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), trustfit::CallbackError> {
        self.0.residuals(x, f);
        Ok(())
    }
    fn has_jacobian(&self) -> bool {
        true
    }
    fn jacobian(&self, x: &[f64], j: &mut [f64]) -> Result<(), trustfit::CallbackError> {
        self.0.jacobian(x, j);
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let all = cases();
    for label in ["rosenbrock_n2_m2", "osborne2_n11_m65", "watson_n9_m31"] {
        let Some(case) = all.iter().find(|c| c.label() == label && c.start() == "x0") else {
            continue;
        };
        let x0 = case.x0.clone();
        let problem = Case(
            cases()
                .into_iter()
                .find(|c| c.index == case.index)
                .unwrap_or_else(|| unreachable!()),
        );
        for method in [Method::Trf, Method::Dogbox, Method::Lm] {
            for jac in [JacSpec::Analytic, JacSpec::TwoPoint] {
                let opts = Options {
                    method,
                    jac,
                    ..Default::default()
                };
                c.bench_function(&format!("{label}/{method}/{jac}"), |b| {
                    b.iter(|| least_squares(&problem, &x0, &opts).map(|r| r.cost))
                });
            }
        }
    }
}

/// `a + b·exp(c·t)` fitted to 100 points of `0.5 + 2.5·exp(−1.3t)` plus a ripple,
/// analytic J, trf (7 evaluations from (1, 1, −0.5)).
fn expfit_100(c: &mut Criterion) {
    let t: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.04).collect();
    let y: Vec<f64> = t
        .iter()
        .map(|&t| 0.5 + 2.5 * (-1.3 * t).exp() + 0.01 * (37.0 * t).sin())
        .collect();
    let (tf, tj) = (t.clone(), t);
    let problem = trustfit::from_fn(100, move |p: &[f64], f: &mut [f64]| {
        for ((fi, &ti), &yi) in f.iter_mut().zip(&tf).zip(&y) {
            *fi = p[0] + p[1] * (p[2] * ti).exp() - yi;
        }
    })
    .with_jacobian(move |p: &[f64], j: &mut [f64]| {
        for (row, &ti) in j.chunks_exact_mut(3).zip(&tj) {
            let e = (p[2] * ti).exp();
            row.copy_from_slice(&[1.0, e, p[1] * ti * e]);
        }
    });
    let opts = Options {
        jac: JacSpec::Analytic,
        ..Default::default()
    };
    let x0 = [1.0, 1.0, -0.5];
    c.bench_function("expfit_n3_m100/trf/analytic", |b| {
        b.iter(|| least_squares(&problem, &x0, &opts).map(|r| r.cost))
    });
}

criterion_group!(benches, bench, expfit_100);
criterion_main!(benches);
