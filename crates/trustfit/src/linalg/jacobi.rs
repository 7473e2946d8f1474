//! SVD of a tall matrix by Householder QR followed by one-sided Jacobi on `R`.
//!
//! For the small, tall matrices of dense least squares (m ≫ n, n up to a few dozen)
//! this is several times faster than a general bidiagonalisation SVD and computes the
//! singular values to high relative accuracy (Demmel & Veselić 1992). Only what the
//! trust-region solvers need is produced: `s`, `V` and `Uᵀb` for one right-hand side.

/// Largest number of Jacobi sweeps; convergence is quadratic, so this is never reached
/// for finite input (typically 5–8 sweeps).
const MAX_SWEEPS: usize = 60;

/// Factors the column-major `rows × n` matrix `a` (destroyed) with `rows ≥ n`.
///
/// Writes the singular values (descending) to `s`, the right singular vectors to `v`
/// (column-major `n × n`) and `Uᵀ b` to `utb` (length n). `b` (length rows) is destroyed.
/// `w` is scratch of length `n·n`.
pub(crate) fn tall_svd(
    a: &mut [f64],
    rows: usize,
    n: usize,
    b: &mut [f64],
    s: &mut [f64],
    v: &mut [f64],
    utb: &mut [f64],
    w: &mut [f64],
) {
    debug_assert!(rows >= n);
    householder_qr(a, rows, n, b);
    // W = R (upper triangle), V = I.
    for j in 0..n {
        for i in 0..n {
            w[j * n + i] = if i <= j { a[j * rows + i] } else { 0.0 };
            v[j * n + i] = if i == j { 1.0 } else { 0.0 };
        }
    }
    jacobi_sweeps(w, v, n);
    for j in 0..n {
        let col = &w[j * n..(j + 1) * n];
        s[j] = col.iter().map(|x| x * x).sum::<f64>().sqrt();
        utb[j] = if s[j] > 0.0 {
            dot(col, &b[..n]) / s[j]
        } else {
            0.0
        };
    }
    sort_descending(s, v, utb, n);
}

/// In-place Householder QR (LAPACK `dgeqr2` convention), applying Qᵀ to `b` as it goes.
fn householder_qr(a: &mut [f64], rows: usize, n: usize, b: &mut [f64]) {
    for j in 0..n {
        let (left, right) = a.split_at_mut((j + 1) * rows);
        let col = &mut left[j * rows + j..(j + 1) * rows];
        let alpha = col[0];
        let tail_norm = norm(&col[1..]);
        if tail_norm == 0.0 {
            continue;
        }
        let beta = -alpha.signum() * alpha.hypot(tail_norm);
        let beta = if alpha == 0.0 {
            -alpha.hypot(tail_norm)
        } else {
            beta
        };
        let tau = (beta - alpha) / beta;
        let scale = 1.0 / (alpha - beta);
        for x in col[1..].iter_mut() {
            *x *= scale;
        }
        col[0] = 1.0;
        // The columns right of j, then b, from row j: reflected four at a time.
        let mut targets = right
            .chunks_exact_mut(rows)
            .map(|c| &mut c[j..])
            .chain(std::iter::once(&mut b[j..rows]));
        loop {
            match std::array::from_fn(|_| targets.next()) {
                [Some(p), Some(q), Some(r), Some(s)] => reflect(col, tau, [p, q, r, s]),
                [Some(p), Some(q), Some(r), None] => reflect(col, tau, [p, q, r]),
                [Some(p), Some(q), None, None] => reflect(col, tau, [p, q]),
                [Some(p), None, None, None] => reflect(col, tau, [p]),
                _ => break,
            }
        }
        col[0] = beta;
    }
}

/// `tₖ ← tₖ − τ(v·tₖ) v` for `K` vectors at once: the dot products side by side in one
/// pass over `v` (one at a time, each waited on every addition: the QR of a 100 × 3 J
/// was most of a small fit's solve). Each sum runs in row order as before, so the
/// same bits.
fn reflect<const K: usize>(v: &[f64], tau: f64, targets: [&mut [f64]; K]) {
    let len = targets.iter().fold(v.len(), |l, t| l.min(t.len()));
    let v = &v[..len];
    let mut acc = [0.0; K];
    for (i, &c) in v.iter().enumerate() {
        for (a, t) in acc.iter_mut().zip(&targets) {
            *a += c * t[i];
        }
    }
    for (t, a) in targets.into_iter().zip(acc) {
        let s = tau * a;
        for (o, &c) in t[..len].iter_mut().zip(v) {
            *o -= s * c;
        }
    }
}

/// One-sided Jacobi: rotates column pairs of `w` (n×n) until mutually orthogonal,
/// accumulating the rotations in `v`.
fn jacobi_sweeps(w: &mut [f64], v: &mut [f64], n: usize) {
    let tol = f64::EPSILON * n as f64;
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (wp, wq) = pair(w, n, p, q);
                let alpha = dot(wp, wp);
                let beta = dot(wq, wq);
                let gamma = dot(wp, wq);
                if gamma == 0.0 || gamma.abs() <= tol * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let t = if zeta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let sn = c * t;
                rotate(wp, wq, c, sn);
                let (vp, vq) = pair(v, n, p, q);
                rotate(vp, vq, c, sn);
            }
        }
        if !rotated {
            break;
        }
    }
}

fn pair(m: &mut [f64], n: usize, p: usize, q: usize) -> (&mut [f64], &mut [f64]) {
    let (lo, hi) = m.split_at_mut(q * n);
    (&mut lo[p * n..(p + 1) * n], &mut hi[..n])
}

fn rotate(x: &mut [f64], y: &mut [f64], c: f64, s: f64) {
    for (a, b) in x.iter_mut().zip(y.iter_mut()) {
        let (xa, yb) = (*a, *b);
        *a = c * xa - s * yb;
        *b = s * xa + c * yb;
    }
}

/// Orders singular values descending, permuting the columns of `v` and `utb` alike.
fn sort_descending(s: &mut [f64], v: &mut [f64], utb: &mut [f64], n: usize) {
    for i in 0..n {
        let mut best = i;
        for j in i + 1..n {
            if s[j] > s[best] {
                best = j;
            }
        }
        if best != i {
            s.swap(i, best);
            utb.swap(i, best);
            for r in 0..n {
                v.swap(i * n + r, best * n + r);
            }
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

fn norm(a: &[f64]) -> f64 {
    // Scaled to avoid overflow/underflow in the sum of squares.
    let scale = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let inv = 1.0 / scale;
    // A subnormal scale's reciprocal overflows (and 0·∞ would give NaN): divide then.
    let sum: f64 = match inv.is_finite() {
        true => a.iter().map(|x| (x * inv) * (x * inv)).sum(),
        false => a.iter().map(|x| (x / scale) * (x / scale)).sum(),
    };
    scale * sum.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded LCG in [−1, 1).
    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    #[test]
    fn norm_at_any_scale() {
        // 3-4-5 and zeros, scaled to the edges of the exponent range (1e-320 is
        // subnormal: its reciprocal overflows).
        for scale in [1.0, 1e-300, 1e-160, 1e160, 1e300, 1e-320] {
            let v = [3.0 * scale, 0.0, -4.0 * scale, 0.0, 0.0];
            let want = 5.0 * scale;
            let tol = 4.0 * f64::EPSILON * want + 5e-324;
            assert!(
                (norm(&v) - want).abs() <= tol,
                "{scale}: {} {want}",
                norm(&v)
            );
        }
        assert_eq!(norm(&[0.0; 6]), 0.0);
        assert_eq!(norm(&[1.0, f64::INFINITY]), f64::INFINITY);
    }

    #[test]
    fn tall_svd_reconstructs_and_projects() {
        let mut seed = 7;
        for (rows, n) in [(5, 3), (76, 11), (12, 12), (9, 1)] {
            let a0: Vec<f64> = (0..rows * n).map(|_| lcg(&mut seed)).collect();
            let b0: Vec<f64> = (0..rows).map(|_| lcg(&mut seed)).collect();
            let (mut a, mut b) = (a0.clone(), b0.clone());
            let (mut s, mut v, mut utb, mut w) = (
                vec![0.0; n],
                vec![0.0; n * n],
                vec![0.0; n],
                vec![0.0; n * n],
            );
            tall_svd(&mut a, rows, n, &mut b, &mut s, &mut v, &mut utb, &mut w);
            assert!(s.windows(2).all(|p| p[0] >= p[1]));
            // ‖A v_j‖ = s_j and (A v_j)·b / s_j = (Uᵀb)_j.
            for j in 0..n {
                let mut av = vec![0.0; rows];
                for k in 0..n {
                    for i in 0..rows {
                        av[i] += a0[k * rows + i] * v[j * n + k];
                    }
                }
                assert!((norm(&av) - s[j]).abs() < 1e-12 * s[0], "{rows}x{n} s{j}");
                assert!(
                    (dot(&av, &b0) / s[j] - utb[j]).abs() < 1e-12,
                    "{rows}x{n} utb{j}"
                );
            }
        }
    }

    #[test]
    fn rank_deficient_matrix_has_tiny_singular_value() {
        // Two identical columns.
        let rows = 6;
        let mut a: Vec<f64> = (0..rows).map(|i| 1.0 + i as f64).collect();
        a.extend_from_within(0..rows);
        a.extend((0..rows).map(|i| (i * i) as f64));
        let mut b = vec![1.0; rows];
        let (mut s, mut v, mut utb, mut w) =
            (vec![0.0; 3], vec![0.0; 9], vec![0.0; 3], vec![0.0; 9]);
        tall_svd(&mut a, rows, 3, &mut b, &mut s, &mut v, &mut utb, &mut w);
        assert!(s[2] < 1e-14 * s[0], "{s:?}");
    }
}
