//! Small dense problems per method: where per-call overhead matters most.
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

criterion_group!(benches, bench);
criterion_main!(benches);
