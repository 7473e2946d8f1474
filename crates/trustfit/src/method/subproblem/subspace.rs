//! The two-dimensional subspace trust-region step of trf with `tr_solver='lsmr'`
//! (spec §6.10, §7.4): the model is restricted to span{ĝ, Gauss–Newton direction}, an
//! orthonormal basis `S` (n×2) is formed once per iteration, and each trial solves a
//! 2×2 trust-region problem exactly (Newton point, else the boundary minimum found
//! through the real roots of a quartic).

/// Orthonormal basis of span{a, b} (n ≥ 2) as the Q factor of the Householder QR of
/// `[a b]` (LAPACK's sign convention), into `q0`, `q1`; `v1`, `v2` are scratch (length n).
pub(crate) fn orthonormal_pair(
    a: &[f64],
    b: &[f64],
    q0: &mut [f64],
    q1: &mut [f64],
    v1: &mut [f64],
    v2: &mut [f64],
) {
    let tau1 = reflector(a, 0, v1);
    q1.copy_from_slice(b);
    apply_reflector(v1, tau1, 0, q1);
    let tau2 = reflector(q1, 1, v2);
    // Q = H1 H2 [e0 e1].
    q0.fill(0.0);
    q0[0] = 1.0;
    q1.fill(0.0);
    if q1.len() > 1 {
        q1[1] = 1.0;
    }
    for q in [&mut *q0, &mut *q1] {
        apply_reflector(v2, tau2, 1, q);
        apply_reflector(v1, tau1, 0, q);
    }
}

/// Householder vector `v` for `x[k..]` (v[k] = 1, zero before k) and τ, as LAPACK dlarfg.
fn reflector(x: &[f64], k: usize, v: &mut [f64]) -> f64 {
    let n = x.len();
    v.fill(0.0);
    if k >= n {
        return 0.0;
    }
    v[k] = 1.0;
    let alpha = x[k];
    let xnorm = x[k + 1..].iter().map(|a| a * a).sum::<f64>().sqrt();
    if xnorm == 0.0 {
        return 0.0;
    }
    let beta = -alpha.signum() * alpha.hypot(xnorm);
    let tau = (beta - alpha) / beta;
    let scale = 1.0 / (alpha - beta);
    for i in k + 1..n {
        v[i] = x[i] * scale;
    }
    tau
}

/// `y ← (I − τ v vᵀ) y` for v supported on `k..`.
fn apply_reflector(v: &[f64], tau: f64, k: usize, y: &mut [f64]) {
    if tau == 0.0 || k >= y.len() {
        return;
    }
    let d: f64 = v[k..].iter().zip(&y[k..]).map(|(a, b)| a * b).sum();
    let t = tau * d;
    for (yi, vi) in y[k..].iter_mut().zip(&v[k..]) {
        *yi -= t * vi;
    }
}

/// Real roots of `c[0] tᵈ + … + c[d]` (degree ≤ 4): leading zeros lower the degree,
/// trailing zeros give zero roots; the rest are isolated between the critical points
/// and refined by bisection. Returns how many roots were written to `out`.
pub(crate) fn real_roots(c: &[f64], out: &mut [f64; 4]) -> usize {
    let mut coef: &[f64] = c;
    while let Some((&0.0, rest)) = coef.split_first() {
        coef = rest;
    }
    let mut count = 0;
    while coef.len() > 1 && coef[coef.len() - 1] == 0.0 {
        out[count] = 0.0;
        count += 1;
        coef = &coef[..coef.len() - 1];
    }
    if coef.len() <= 1 {
        return count;
    }
    let mut roots = [0.0; 4];
    let k = roots_nonzero(coef, &mut roots);
    for r in &roots[..k] {
        out[count] = *r;
        count += 1;
    }
    count
}

fn eval(c: &[f64], t: f64) -> f64 {
    c.iter().fold(0.0, |acc, &a| acc * t + a)
}

fn roots_nonzero(c: &[f64], out: &mut [f64; 4]) -> usize {
    let deg = c.len() - 1;
    if deg == 1 {
        out[0] = -c[1] / c[0];
        return 1;
    }
    // Derivative and its real roots split the line into monotone pieces.
    let mut d = [0.0; 4];
    for (i, a) in c[..deg].iter().enumerate() {
        d[i] = a * (deg - i) as f64;
    }
    let mut crit = [0.0; 4];
    let nc = roots_nonzero(&d[..deg], &mut crit);
    let crit = &mut crit[..nc];
    crit.sort_by(f64::total_cmp);
    let bound = 1.0 + c[1..].iter().map(|a| (a / c[0]).abs()).fold(0.0, f64::max);
    let mut points = [0.0; 6];
    points[0] = -bound;
    let mut np = 1;
    for &t in crit.iter() {
        if t > -bound && t < bound {
            points[np] = t;
            np += 1;
        }
    }
    points[np] = bound;
    np += 1;
    let mut count = 0;
    for w in points[..np].windows(2) {
        let (mut lo, mut hi) = (w[0], w[1]);
        let (flo, fhi) = (eval(c, lo), eval(c, hi));
        if flo == 0.0 {
            if count == 0 || out[count - 1] != lo {
                out[count] = lo;
                count += 1;
            }
            continue;
        }
        if flo.signum() == fhi.signum() {
            continue;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            let fm = eval(c, mid);
            if fm == 0.0 {
                lo = mid;
                hi = mid;
                break;
            }
            if fm.signum() == flo.signum() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if count < 4 {
            out[count] = 0.5 * (lo + hi);
            count += 1;
        }
    }
    if eval(c, bound) == 0.0 && count < 4 && (count == 0 || out[count - 1] != bound) {
        out[count] = bound;
        count += 1;
    }
    count
}

/// Minimises `½ pᵀBp + gᵀp` subject to `‖p‖ ≤ Δ` for a symmetric 2×2 `B` (spec §6.10).
pub(crate) fn solve_trust_region_2d(b: [[f64; 2]; 2], g: [f64; 2], delta: f64) -> [f64; 2] {
    // Newton point when B is positive definite (Cholesky succeeds) and it fits.
    let l00 = b[0][0];
    if l00 > 0.0 {
        let r00 = l00.sqrt();
        let r01 = b[0][1] / r00;
        let s = b[1][1] - r01 * r01;
        if s > 0.0 {
            let r11 = s.sqrt();
            // Solve RᵀR p = −g.
            let y0 = -g[0] / r00;
            let y1 = (-g[1] - r01 * y0) / r11;
            let p1 = y1 / r11;
            let p0 = (y0 - r01 * p1) / r00;
            if p0 * p0 + p1 * p1 <= delta * delta {
                return [p0, p1];
            }
        }
    }
    let d2 = delta * delta;
    let (a, bb, c) = (b[0][0] * d2, b[0][1] * d2, b[1][1] * d2);
    let (d, e) = (g[0] * delta, g[1] * delta);
    let coeffs = [
        -bb + d,
        2.0 * (a - c + e),
        6.0 * bb,
        2.0 * (-a + c + e),
        -bb - d,
    ];
    let mut roots = [0.0; 4];
    let k = real_roots(&coeffs, &mut roots);
    let mut best = [0.0, -delta];
    let mut best_val = f64::INFINITY;
    for &t in &roots[..k] {
        let den = 1.0 + t * t;
        let p = [delta * 2.0 * t / den, delta * (1.0 - t * t) / den];
        let val = 0.5
            * (p[0] * (b[0][0] * p[0] + b[0][1] * p[1]) + p[1] * (b[1][0] * p[0] + b[1][1] * p[1]))
            + g[0] * p[0]
            + g[1] * p[1];
        if val < best_val {
            best_val = val;
            best = p;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartic_roots_are_found() {
        // (t−1)(t+2)(t−3)(t+0.5) = t⁴ − 1.5t³ − 6.5t² + 3.5t + 3... expand numerically.
        let r = [1.0, -2.0, 3.0, -0.5];
        let mut c = [1.0, 0.0, 0.0, 0.0, 0.0];
        for (deg, &root) in r.iter().enumerate() {
            for i in (1..=deg + 1).rev() {
                c[i] -= root * c[i - 1];
            }
        }
        let mut out = [0.0; 4];
        let k = real_roots(&c, &mut out);
        let mut got = out[..k].to_vec();
        got.sort_by(f64::total_cmp);
        assert_eq!(k, 4);
        for (g, e) in got.iter().zip([-2.0, -0.5, 1.0, 3.0]) {
            assert!((g - e).abs() < 1e-12, "{got:?}");
        }
        // t² + 1 has no real root; t(t − 2) has 0 and 2.
        assert_eq!(real_roots(&[0.0, 0.0, 1.0, 0.0, 1.0], &mut out), 0);
        let k = real_roots(&[0.0, 0.0, 1.0, -2.0, 0.0], &mut out);
        assert_eq!((k, out[0], out[1]), (2, 0.0, 2.0));
    }

    #[test]
    fn two_d_step_is_newton_inside_and_on_boundary_outside() {
        let b = [[2.0, 0.0], [0.0, 1.0]];
        let g = [-2.0, -1.0];
        let p = solve_trust_region_2d(b, g, 10.0);
        assert!((p[0] - 1.0).abs() < 1e-15 && (p[1] - 1.0).abs() < 1e-15);
        let p = solve_trust_region_2d(b, g, 0.5);
        assert!(((p[0] * p[0] + p[1] * p[1]).sqrt() - 0.5).abs() < 1e-12);
        // The boundary minimiser beats any other boundary point on a fine grid.
        let val = |p: [f64; 2]| 0.5 * (2.0 * p[0] * p[0] + p[1] * p[1]) - 2.0 * p[0] - p[1];
        for k in 0..360 {
            let th = k as f64 * std::f64::consts::PI / 180.0;
            assert!(val(p) <= val([0.5 * th.cos(), 0.5 * th.sin()]) + 1e-12);
        }
    }

    #[test]
    fn basis_is_orthonormal_and_spans_the_pair() {
        let a = [1.0, 2.0, 0.0, -1.0];
        let b = [0.5, 0.0, 1.0, 1.0];
        let (mut q0, mut q1) = ([0.0; 4], [0.0; 4]);
        let (mut v1, mut v2) = ([0.0; 4], [0.0; 4]);
        orthonormal_pair(&a, &b, &mut q0, &mut q1, &mut v1, &mut v2);
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        assert!((dot(&q0, &q0) - 1.0).abs() < 1e-14 && (dot(&q1, &q1) - 1.0).abs() < 1e-14);
        assert!(dot(&q0, &q1).abs() < 1e-14);
        // a and b are reproduced by their projections.
        for v in [&a[..], &b[..]] {
            let (c0, c1) = (dot(v, &q0), dot(v, &q1));
            for i in 0..4 {
                assert!((c0 * q0[i] + c1 * q1[i] - v[i]).abs() < 1e-13);
            }
        }
    }
}
