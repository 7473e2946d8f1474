//! Values and Jacobian of the 2-D Gaussian `A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b`
//! on a 5×5 grid (25 points, 5 parameters): the compiled formula against a
//! hand-written closure computing the same. Numbers are indicative only.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use trustfit_formula::{Formula, Workspace};

const MODEL: &str = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b";

/// The 5×5 grid, as two columns.
fn grid() -> (Vec<f64>, Vec<f64>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            x.push(i as f64 - 2.0);
            y.push(j as f64 - 2.0);
        }
    }
    (x, y)
}

/// The same values and row-major Jacobian (parameters A, x0, y0, w, b), by hand.
fn by_hand(p: &[f64], x: &[f64], y: &[f64], values: &mut [f64], jac: &mut [f64]) {
    let (a, x0, y0, w, b) = (p[0], p[1], p[2], p[3], p[4]);
    let inv = 1.0 / (2.0 * w * w);
    for i in 0..x.len() {
        let (dx, dy) = (x[i] - x0, y[i] - y0);
        let r2 = dx * dx + dy * dy;
        let e = (-r2 * inv).exp();
        values[i] = a * e + b;
        let row = &mut jac[i * 5..i * 5 + 5];
        row[0] = e;
        row[1] = a * e * 2.0 * dx * inv;
        row[2] = a * e * 2.0 * dy * inv;
        row[3] = a * e * r2 / (w * w * w);
        row[4] = 1.0;
    }
}

fn bench(c: &mut Criterion) {
    let (x, y) = grid();
    let Ok(f) = Formula::parse(MODEL, &["x", "y"]) else {
        return;
    };
    let p = [2.0, 0.3, -0.2, 1.1, 0.5];
    let mut ws = Workspace::for_formula(&f);
    let cols = [x.as_slice(), y.as_slice()];
    let mut values = vec![0.0; x.len()];
    let mut jac = vec![0.0; x.len() * 5];
    let mut group = c.benchmark_group("gaussian2d_25pts");
    group.bench_function("formula_values_and_jacobian", |bch| {
        bch.iter(|| {
            f.eval_jacobian(&mut ws, black_box(&p), &cols, &mut values, &mut jac)
                .map(|()| jac[7])
        })
    });
    group.bench_function("hand_written_values_and_jacobian", |bch| {
        bch.iter(|| {
            by_hand(black_box(&p), &x, &y, &mut values, &mut jac);
            jac[7]
        })
    });
    group.bench_function("formula_values", |bch| {
        bch.iter(|| {
            f.eval(&mut ws, black_box(&p), &cols, &mut values)
                .map(|()| values[7])
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
