//! MINPACK-1 test problems (Moré, Garbow & Hillstrom 1981) and the spec's expfit, for the
//! scipy parity tests.
//!
//! Each residual/Jacobian is written with exactly the operation order of the scalar Python
//! definitions in `gen_refs.py` (which generated the reference results), so that bit-level
//! agreement with scipy is possible: keep the two in step. Squares are `a * a`.

#![allow(clippy::excessive_precision)]

use super::scipy_refs::{EXPFIT_T, EXPFIT_Y};
// The data tables' one copy (trustfit-problems, a dev-dependency); the formulas below keep
// gen_refs.py's operation order, which the bitwise references need.
use std::f64::consts::PI;
use trustfit_problems::minpack::data::{
    BARD_Y, KOWALIK_U, KOWALIK_Y, MEYER_Y, OSBORNE1_Y, OSBORNE2_Y,
};

/// A test problem: residuals f (length m) and the Jacobian written column-major.
#[derive(Clone, Copy)]
pub(crate) struct Problem {
    pub m: usize,
    pub f: fn(&[f64], &mut [f64]),
    pub j: fn(&[f64], &mut [f64]),
}

/// Looks a problem up by the name used in `gen_refs.py`.
pub(crate) fn lookup(name: &str) -> Option<Problem> {
    let p = |m, f, j| Some(Problem { m, f, j });
    match name {
        "rosenbrock" => p(2, rosenbrock_f, rosenbrock_j),
        "helical_valley" => p(3, helical_f, helical_j),
        "powell_singular" => p(4, powell_f, powell_j),
        "freudenstein_roth" => p(2, freudenstein_f, freudenstein_j),
        "bard" => p(15, bard_f, bard_j),
        "kowalik_osborne" => p(11, kowalik_f, kowalik_j),
        "meyer" => p(16, meyer_f, meyer_j),
        "watson6" => p(31, watson_f, watson_j),
        "box3d" => p(10, box3d_f, box3d_j),
        "jennrich_sampson" => p(10, jennrich_f, jennrich_j),
        "brown_dennis" => p(20, brown_dennis_f, brown_dennis_j),
        "osborne1" => p(33, osborne1_f, osborne1_j),
        "osborne2" => p(65, osborne2_f, osborne2_j),
        "linear_full_rank" => p(10, linear_full_rank_f, linear_full_rank_j),
        "linear_rank1" => p(10, linear_rank1_f, linear_rank1_j),
        "brown_almost_linear" => p(10, brown_almost_linear_f, brown_almost_linear_j),
        "expfit" => p(15, expfit_f, expfit_j),
        _ => None,
    }
}

/// Writes row `i` of an m-row column-major Jacobian.
fn set_row(fjac: &mut [f64], m: usize, i: usize, row: &[f64]) {
    for (j, &v) in row.iter().enumerate() {
        fjac[i + j * m] = v;
    }
}

const TPI: f64 = 2.0 * PI;

fn rosenbrock_f(x: &[f64], f: &mut [f64]) {
    f[0] = 10.0 * (x[1] - x[0] * x[0]);
    f[1] = 1.0 - x[0];
}

fn rosenbrock_j(x: &[f64], j: &mut [f64]) {
    set_row(j, 2, 0, &[-20.0 * x[0], 10.0]);
    set_row(j, 2, 1, &[-1.0, 0.0]);
}

fn helical_theta(x0: f64, x1: f64) -> f64 {
    if x0 > 0.0 {
        (x1 / x0).atan() / TPI
    } else if x0 < 0.0 {
        (x1 / x0).atan() / TPI + 0.5
    } else if x1 >= 0.0 {
        0.25
    } else {
        -0.25
    }
}

fn helical_f(x: &[f64], f: &mut [f64]) {
    let th = helical_theta(x[0], x[1]);
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    f[0] = 10.0 * (x[2] - 10.0 * th);
    f[1] = 10.0 * (r - 1.0);
    f[2] = x[2];
}

fn helical_j(x: &[f64], j: &mut [f64]) {
    let r2 = x[0] * x[0] + x[1] * x[1];
    let r = r2.sqrt();
    set_row(
        j,
        3,
        0,
        &[100.0 * x[1] / (TPI * r2), -100.0 * x[0] / (TPI * r2), 10.0],
    );
    set_row(j, 3, 1, &[10.0 * x[0] / r, 10.0 * x[1] / r, 0.0]);
    set_row(j, 3, 2, &[0.0, 0.0, 1.0]);
}

fn s5() -> f64 {
    5.0_f64.sqrt()
}

fn s10() -> f64 {
    10.0_f64.sqrt()
}

fn powell_f(x: &[f64], f: &mut [f64]) {
    let a = x[1] - 2.0 * x[2];
    let b = x[0] - x[3];
    f[0] = x[0] + 10.0 * x[1];
    f[1] = s5() * (x[2] - x[3]);
    f[2] = a * a;
    f[3] = s10() * (b * b);
}

fn powell_j(x: &[f64], j: &mut [f64]) {
    let a = x[1] - 2.0 * x[2];
    let b = x[0] - x[3];
    set_row(j, 4, 0, &[1.0, 10.0, 0.0, 0.0]);
    set_row(j, 4, 1, &[0.0, 0.0, s5(), -s5()]);
    set_row(j, 4, 2, &[0.0, 2.0 * a, -4.0 * a, 0.0]);
    set_row(j, 4, 3, &[2.0 * s10() * b, 0.0, 0.0, -2.0 * s10() * b]);
}

fn freudenstein_f(x: &[f64], f: &mut [f64]) {
    f[0] = -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1];
    f[1] = -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1];
}

fn freudenstein_j(x: &[f64], j: &mut [f64]) {
    set_row(j, 2, 0, &[1.0, x[1] * (10.0 - 3.0 * x[1]) - 2.0]);
    set_row(j, 2, 1, &[1.0, x[1] * (3.0 * x[1] + 2.0) - 14.0]);
}

fn bard_uvw(i: usize) -> (f64, f64, f64) {
    let u = (i + 1) as f64;
    let v = 16.0 - u;
    (u, v, u.min(v))
}

fn bard_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let (u, v, w) = bard_uvw(i);
        *fi = BARD_Y[i] - (x[0] + u / (v * x[1] + w * x[2]));
    }
}

fn bard_j(x: &[f64], j: &mut [f64]) {
    for i in 0..15 {
        let (u, v, w) = bard_uvw(i);
        let d = v * x[1] + w * x[2];
        let d2 = d * d;
        set_row(j, 15, i, &[-1.0, u * v / d2, u * w / d2]);
    }
}

fn kowalik_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let u = KOWALIK_U[i];
        let num = u * (u + x[1]);
        let den = u * (u + x[2]) + x[3];
        *fi = KOWALIK_Y[i] - x[0] * num / den;
    }
}

fn kowalik_j(x: &[f64], j: &mut [f64]) {
    for i in 0..11 {
        let u = KOWALIK_U[i];
        let num = u * (u + x[1]);
        let den = u * (u + x[2]) + x[3];
        let den2 = den * den;
        set_row(
            j,
            11,
            i,
            &[
                -num / den,
                -x[0] * u / den,
                x[0] * num * u / den2,
                x[0] * num / den2,
            ],
        );
    }
}

fn meyer_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let t = 45.0 + 5.0 * (i + 1) as f64;
        *fi = x[0] * (x[1] / (t + x[2])).exp() - MEYER_Y[i];
    }
}

fn meyer_j(x: &[f64], j: &mut [f64]) {
    for i in 0..16 {
        let t = 45.0 + 5.0 * (i + 1) as f64;
        let d = t + x[2];
        let e = (x[1] / d).exp();
        set_row(j, 16, i, &[e, x[0] * e / d, -x[0] * x[1] * e / (d * d)]);
    }
}

fn watson_f(x: &[f64], f: &mut [f64]) {
    let n = x.len();
    for i in 0..29 {
        let t = (i + 1) as f64 / 29.0;
        let mut s1 = 0.0;
        let mut dx = 1.0;
        for j in 1..n {
            s1 += j as f64 * dx * x[j];
            dx *= t;
        }
        let mut s2 = 0.0;
        let mut dx = 1.0;
        for &xj in x {
            s2 += dx * xj;
            dx *= t;
        }
        f[i] = s1 - s2 * s2 - 1.0;
    }
    f[29] = x[0];
    f[30] = x[1] - x[0] * x[0] - 1.0;
}

fn watson_j(x: &[f64], j: &mut [f64]) {
    let n = x.len();
    let m = 31;
    for i in 0..29 {
        let t = (i + 1) as f64 / 29.0;
        let mut s2 = 0.0;
        let mut dx = 1.0;
        for &xj in x {
            s2 += dx * xj;
            dx *= t;
        }
        let mut prev = 0.0;
        let mut dx = 1.0;
        for k in 0..n {
            j[i + k * m] = k as f64 * prev - 2.0 * s2 * dx;
            prev = dx;
            dx *= t;
        }
    }
    for k in 0..n {
        j[29 + k * m] = if k == 0 { 1.0 } else { 0.0 };
        j[30 + k * m] = match k {
            0 => -2.0 * x[0],
            1 => 1.0,
            _ => 0.0,
        };
    }
}

fn box3d_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let t = 0.1 * (i + 1) as f64;
        *fi = (-t * x[0]).exp() - (-t * x[1]).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp());
    }
}

fn box3d_j(x: &[f64], j: &mut [f64]) {
    for i in 0..10 {
        let t = 0.1 * (i + 1) as f64;
        set_row(
            j,
            10,
            i,
            &[
                -t * (-t * x[0]).exp(),
                t * (-t * x[1]).exp(),
                -((-t).exp() - (-10.0 * t).exp()),
            ],
        );
    }
}

fn jennrich_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let k = (i + 1) as f64;
        *fi = 2.0 + 2.0 * k - ((k * x[0]).exp() + (k * x[1]).exp());
    }
}

fn jennrich_j(x: &[f64], j: &mut [f64]) {
    for i in 0..10 {
        let k = (i + 1) as f64;
        set_row(j, 10, i, &[-k * (k * x[0]).exp(), -k * (k * x[1]).exp()]);
    }
}

fn brown_dennis_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let t = (i + 1) as f64 / 5.0;
        let a = x[0] + t * x[1] - t.exp();
        let b = x[2] + x[3] * t.sin() - t.cos();
        *fi = a * a + b * b;
    }
}

fn brown_dennis_j(x: &[f64], j: &mut [f64]) {
    for i in 0..20 {
        let t = (i + 1) as f64 / 5.0;
        let s = t.sin();
        let a = x[0] + t * x[1] - t.exp();
        let b = x[2] + x[3] * s - t.cos();
        set_row(j, 20, i, &[2.0 * a, 2.0 * a * t, 2.0 * b, 2.0 * b * s]);
    }
}

fn osborne1_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let t = 10.0 * i as f64;
        let e4 = (-t * x[3]).exp();
        let e5 = (-t * x[4]).exp();
        *fi = OSBORNE1_Y[i] - (x[0] + x[1] * e4 + x[2] * e5);
    }
}

fn osborne1_j(x: &[f64], j: &mut [f64]) {
    for i in 0..33 {
        let t = 10.0 * i as f64;
        let e4 = (-t * x[3]).exp();
        let e5 = (-t * x[4]).exp();
        set_row(j, 33, i, &[-1.0, -e4, -e5, t * x[1] * e4, t * x[2] * e5]);
    }
}

/// (t, e1, e2, e3, e4, d2, d3, d4) of Osborne 2 at data point i.
fn osborne2_parts(x: &[f64], i: usize) -> [f64; 8] {
    let t = i as f64 / 10.0;
    let e1 = (-t * x[4]).exp();
    let d2 = t - x[8];
    let d3 = t - x[9];
    let d4 = t - x[10];
    let e2 = (-(d2 * d2) * x[5]).exp();
    let e3 = (-(d3 * d3) * x[6]).exp();
    let e4 = (-(d4 * d4) * x[7]).exp();
    [t, e1, e2, e3, e4, d2, d3, d4]
}

fn osborne2_f(x: &[f64], f: &mut [f64]) {
    for (i, fi) in f.iter_mut().enumerate() {
        let [_, e1, e2, e3, e4, ..] = osborne2_parts(x, i);
        *fi = OSBORNE2_Y[i] - (x[0] * e1 + x[1] * e2 + x[2] * e3 + x[3] * e4);
    }
}

fn osborne2_j(x: &[f64], j: &mut [f64]) {
    for i in 0..65 {
        let [t, e1, e2, e3, e4, d2, d3, d4] = osborne2_parts(x, i);
        set_row(
            j,
            65,
            i,
            &[
                -e1,
                -e2,
                -e3,
                -e4,
                t * x[0] * e1,
                x[1] * (d2 * d2) * e2,
                x[2] * (d3 * d3) * e3,
                x[3] * (d4 * d4) * e4,
                -2.0 * x[1] * x[5] * d2 * e2,
                -2.0 * x[2] * x[6] * d3 * e3,
                -2.0 * x[3] * x[7] * d4 * e4,
            ],
        );
    }
}

fn linear_full_rank_f(x: &[f64], f: &mut [f64]) {
    let m = f.len();
    let mut s = 0.0;
    for &v in x {
        s += v;
    }
    let temp = 2.0 * s / m as f64 + 1.0;
    for (i, fi) in f.iter_mut().enumerate() {
        *fi = (if i < x.len() { x[i] } else { 0.0 }) - temp;
    }
}

fn linear_full_rank_j(x: &[f64], j: &mut [f64]) {
    let m = 10;
    for i in 0..m {
        for k in 0..x.len() {
            j[i + k * m] = (if i == k { 1.0 } else { 0.0 }) - 2.0 / m as f64;
        }
    }
}

fn linear_rank1_f(x: &[f64], f: &mut [f64]) {
    let mut s = 0.0;
    for (k, &v) in x.iter().enumerate() {
        s += (k + 1) as f64 * v;
    }
    for (i, fi) in f.iter_mut().enumerate() {
        *fi = (i + 1) as f64 * s - 1.0;
    }
}

fn linear_rank1_j(x: &[f64], j: &mut [f64]) {
    let m = 10;
    for i in 0..m {
        for k in 0..x.len() {
            j[i + k * m] = ((i + 1) * (k + 1)) as f64;
        }
    }
}

fn brown_almost_linear_f(x: &[f64], f: &mut [f64]) {
    let n = x.len();
    let mut s = 0.0;
    for &v in x {
        s += v;
    }
    let mut p = 1.0;
    for &v in x {
        p *= v;
    }
    for k in 0..n - 1 {
        f[k] = x[k] + s - (n as f64 + 1.0);
    }
    f[n - 1] = p - 1.0;
}

fn brown_almost_linear_j(x: &[f64], j: &mut [f64]) {
    let n = x.len();
    for i in 0..n - 1 {
        for k in 0..n {
            j[i + k * n] = if i == k { 2.0 } else { 1.0 };
        }
    }
    for k in 0..n {
        let mut p = 1.0;
        for (l, &v) in x.iter().enumerate() {
            if l != k {
                p *= v;
            }
        }
        j[n - 1 + k * n] = p;
    }
}

fn expfit_f(x: &[f64], f: &mut [f64]) {
    for ((fi, &t), &y) in f.iter_mut().zip(&EXPFIT_T).zip(&EXPFIT_Y) {
        *fi = x[0] + x[1] * (x[2] * t).exp() - y;
    }
}

fn expfit_j(x: &[f64], j: &mut [f64]) {
    for (i, &t) in EXPFIT_T.iter().enumerate() {
        let e = (x[2] * t).exp();
        set_row(j, 15, i, &[1.0, e, x[1] * t * e]);
    }
}
