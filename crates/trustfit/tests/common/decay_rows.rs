//! The batch tests' shared model: a·exp(b·t) + c at M = 12 shared t, with its Jacobian,
//! and K rows of deterministic noisy data.
#![allow(dead_code)] // each test file uses part of it

use trustfit::{Residuals, from_fn};

pub const M: usize = 12;

pub fn t(i: usize) -> f64 {
    i as f64 * 0.25
}

pub fn values(p: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = p[0] * (p[1] * t(i)).exp() + p[2];
    }
}

/// The model of every test: a·exp(b·t) + c at 12 shared t, with its Jacobian.
pub fn model() -> impl Residuals + Sync {
    from_fn(M, |p: &[f64], out: &mut [f64]| values(p, out)).with_jacobian(
        |p: &[f64], jac: &mut [f64]| {
            for i in 0..M {
                let e = (p[1] * t(i)).exp();
                jac[i * 3..i * 3 + 3].copy_from_slice(&[e, p[0] * t(i) * e, 1.0]);
            }
        },
    )
}

/// K rows of noisy data (deterministic noise).
pub fn data(k: usize) -> Vec<f64> {
    (0..k)
        .flat_map(|r| {
            let (a, b) = (1.0 + 0.07 * (r % 13) as f64, -0.4 - 0.03 * (r % 7) as f64);
            (0..M).map(move |i| {
                a * (b * t(i)).exp() + 0.2 + 0.004 * (((r * 17 + i * 5) % 11) as f64 - 5.0)
            })
        })
        .collect()
}
