//! Many solves of one small problem: `least_squares` per call (plans and allocates
//! every time) against one reused `Solver` (plans once, allocates nothing). The
//! workspace acceptance figure: the 5×3 exponential fit, 10⁴ solves.

use criterion::{Criterion, criterion_group, criterion_main};
use trustfit::{JacSpec, Method, Options, Solver, from_fn, least_squares};

const SOLVES: usize = 10_000;

fn bench(c: &mut Criterion) {
    let t = [0.0, 0.5, 1.0, 1.5, 2.0];
    let y = [1.21, 0.93, 0.72, 0.58, 0.47];
    let p = from_fn(5, move |q: &[f64], f: &mut [f64]| {
        for i in 0..5 {
            f[i] = q[0] * (q[1] * t[i]).exp() + q[2] - y[i];
        }
    })
    .with_jacobian(move |q: &[f64], j: &mut [f64]| {
        for i in 0..5 {
            let e = (q[1] * t[i]).exp();
            j[3 * i..3 * i + 3].copy_from_slice(&[e, q[0] * t[i] * e, 1.0]);
        }
    });
    let x0 = [1.0, -0.5, 0.0];
    for (method, jac) in [
        (Method::Trf, JacSpec::TwoPoint),
        (Method::Trf, JacSpec::Analytic),
        (Method::Dogbox, JacSpec::Analytic),
        (Method::Lm, JacSpec::Analytic),
    ] {
        let opts = Options {
            method,
            jac,
            ..Default::default()
        };
        let mut group = c.benchmark_group(format!("5x3/{method}/{jac}"));
        group.sample_size(20);
        group.bench_function("least_squares x1e4", |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for _ in 0..SOLVES {
                    sum += least_squares(&p, &x0, &opts).map_or(f64::NAN, |r| r.cost);
                }
                sum
            })
        });
        let Ok(mut solver) = Solver::new(&p, &x0, &opts) else {
            continue;
        };
        group.bench_function("Solver::solve x1e4", |b| {
            b.iter(|| {
                let mut sum = 0.0;
                for _ in 0..SOLVES {
                    sum += solver.solve(&p, &x0).map_or(f64::NAN, |s| s.cost);
                }
                sum
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
