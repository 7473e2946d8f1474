//! Driver for instruction counts (callgrind) and timings (perf): values and
//! Jacobian of the 2-D Gaussian formula for F fits of 25 points in one
//! `eval_jacobian_fits` call, repeated R times.
//! Usage: `gauss_fits F [R]`; the difference between two F gives the cost per
//! fit; F = 64 and a large R is the lock-step engine's block (in cache).

use std::time::Instant;

use trustfit_formula::{Formula, Workspace};

const MODEL: &str = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b";

fn main() {
    let mut args = std::env::args().skip(1).map(|s| s.parse::<usize>().ok());
    let fits = args.next().flatten().unwrap_or(10_000);
    let repeat = args.next().flatten().unwrap_or(1).max(1);
    let Ok(f) = Formula::parse(MODEL, &["x", "y"]) else {
        return;
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..25 {
        x.push((i % 5) as f64);
        y.push((i / 5) as f64);
    }
    let mut params = Vec::with_capacity(fits * 5);
    for k in 0..fits {
        let s = (k % 97) as f64 / 97.0;
        params.extend_from_slice(&[10.0 + s, 2.0 + 0.3 * s, 2.0 - 0.2 * s, 1.0 + 0.2 * s, 1.0]);
    }
    let mut ws = Workspace::for_formula(&f);
    let mut values = vec![0.0; fits * 25];
    let mut jac = vec![0.0; fits * 25 * 5];
    let cols = [x.as_slice(), y.as_slice()];
    let t0 = Instant::now();
    for _ in 0..repeat {
        if f.eval_jacobian_fits(&mut ws, &params, &cols, &mut values, &mut jac)
            .is_err()
        {
            return;
        }
    }
    let ns = t0.elapsed().as_secs_f64() * 1e9 / (repeat * fits) as f64;
    let sum: f64 = values.iter().chain(&jac).sum();
    println!("checksum {sum:e}  {ns:.1} ns per fit");
}
