//! SVD of a tall matrix by Householder QR followed by one-sided Jacobi on `R`.
//!
//! For the small, tall matrices of dense least squares (m ≫ n, n up to a few dozen)
//! this is several times faster than a general bidiagonalisation SVD and computes the
//! singular values to high relative accuracy (Demmel & Veselić 1992). Only what the
//! trust-region solvers need is produced: `s`, `V` and `Uᵀb` for one right-hand side.

/// Largest number of Jacobi sweeps; convergence is quadratic, so this is never reached
/// for finite input (typically 5–8 sweeps).
const MAX_SWEEPS: usize = 60;

/// How the QR adds up its dot products and sums of squares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Summation {
    /// [`LANES`] interleaved partial sums: few additions wait on the one before (one
    /// at a time, the chains of dependent additions were most of a 100 × 3 fit's
    /// solve).
    Interleaved,
    /// One term at a time in row order, as LAPACK's reference kernels: where J is
    /// rank-deficient its step rests on the QR's rounding, and this rounding is the
    /// one that takes scipy's path (the fixtures' exponential fits from c = 0).
    Sequential,
}

/// The partial sums of [`Summation::Interleaved`]: eight chains of additions, each an
/// eighth as long as the one of a sum in order (four cut a 100 × 3 QR by a third,
/// eight by a further 10–30 %; the scipy fixtures match as before).
const LANES: usize = 8;

/// Smallest ratio of the extreme singular values for which the order of summation
/// cannot matter: rounding then moves the step by about ε/ratio relative, far below
/// any tolerance (see [`well_conditioned`]).
const CONDITIONED: f64 = 1e-6;

/// True when the singular values (descending) are far enough from rank deficiency
/// that [`Summation::Interleaved`]'s rounding serves as well as LAPACK's.
pub(crate) fn well_conditioned(s: &[f64]) -> bool {
    match (s.first(), s.last()) {
        (Some(&hi), Some(&lo)) => lo >= CONDITIONED * hi && hi.is_finite(),
        _ => true,
    }
}

/// Factors the column-major `rows × n` matrix `a` (destroyed) with `rows ≥ n`, its
/// QR's sums added as `sums` says.
///
/// Writes the singular values (descending) to `s`, the right singular vectors to `v`
/// (column-major `n × n`) and `Uᵀ b` to `utb` (length n). `b` (length rows) is destroyed.
/// `w` is scratch of length `n·n`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn tall_svd(
    sums: Summation,
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
    match sums {
        Summation::Interleaved => interleaved_qr(a, rows, n, b),
        Summation::Sequential => householder_qr::<1>(a, rows, n, b),
    }
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

/// [`householder_qr`] in [`LANES`] partial sums, compiled a second time for AVX2 and
/// run so where the CPU has it: the same operations in the same order (no FMA), so the
/// same bits, on 256-bit registers that hold a reflection's partial sums without
/// spilling (a 100 × 3 QR 20–25 % faster than on the SSE2 baseline).
fn interleaved_qr(a: &mut [f64], rows: usize, n: usize, b: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above), all the target feature needs.
        #[allow(unsafe_code)]
        unsafe {
            householder_qr_avx2(a, rows, n, b)
        };
        return;
    }
    householder_qr::<LANES>(a, rows, n, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn householder_qr_avx2(a: &mut [f64], rows: usize, n: usize, b: &mut [f64]) {
    householder_qr::<LANES>(a, rows, n, b)
}

/// In-place Householder QR (LAPACK `dgeqr2` convention), applying Qᵀ to `b` as it goes;
/// its sums in `P` interleaved partial sums (1: one term at a time). Inlined with its
/// helpers, so that [`householder_qr_avx2`] compiles all of it for AVX2.
#[inline(always)]
fn householder_qr<const P: usize>(a: &mut [f64], rows: usize, n: usize, b: &mut [f64]) {
    for j in 0..n {
        let (left, right) = a.split_at_mut((j + 1) * rows);
        let col = &mut left[j * rows + j..(j + 1) * rows];
        let alpha = col[0];
        let tail_norm = norm::<P>(&col[1..]);
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
                [Some(p), Some(q), Some(r), Some(s)] => reflect::<P, _>(col, tau, [p, q, r, s]),
                [Some(p), Some(q), Some(r), None] => reflect::<P, _>(col, tau, [p, q, r]),
                [Some(p), Some(q), None, None] => reflect::<P, _>(col, tau, [p, q]),
                [Some(p), None, None, None] => reflect::<P, _>(col, tau, [p]),
                _ => break,
            }
        }
        col[0] = beta;
    }
}

/// `tₖ ← tₖ − τ(v·tₖ) v` for `K` vectors at once: the dot products side by side in one
/// pass over `v`, each in `P` interleaved partial sums (see [`dot_in`]).
#[inline(always)]
fn reflect<const P: usize, const K: usize>(v: &[f64], tau: f64, targets: [&mut [f64]; K]) {
    let len = targets.iter().fold(v.len(), |l, t| l.min(t.len()));
    let v = &v[..len];
    let body = len - len % P;
    let mut acc = [[0.0; P]; K];
    for (i, c) in v[..body].chunks_exact(P).enumerate() {
        for (a, t) in acc.iter_mut().zip(&targets) {
            let t = &t[i * P..(i + 1) * P];
            for ((a, &c), &x) in a.iter_mut().zip(c).zip(t) {
                *a += c * x;
            }
        }
    }
    for (t, a) in targets.into_iter().zip(acc) {
        let d = (body..len).fold(combine(a), |d, i| d + v[i] * t[i]);
        let s = tau * d;
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

/// `a · b` in `P` interleaved partial sums, added pairwise, then the tail in order;
/// with `P = 1` the plain sum in order.
#[inline(always)]
fn dot_in<const P: usize>(a: &[f64], b: &[f64]) -> f64 {
    let len = a.len().min(b.len());
    let body = len - len % P;
    let mut acc = [0.0; P];
    for (x, y) in a[..body].chunks_exact(P).zip(b[..body].chunks_exact(P)) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    (body..len).fold(combine(acc), |s, i| s + a[i] * b[i])
}

/// The partial sums added pairwise (a single one as it is).
#[inline]
fn combine<const P: usize>(acc: [f64; P]) -> f64 {
    match acc.as_slice() {
        [a] => *a,
        [a, b, c, d] => (a + b) + (c + d),
        [a, b, c, d, e, f, g, h] => ((a + b) + (c + d)) + ((e + f) + (g + h)),
        more => more.iter().sum(),
    }
}

/// `a · b` one term at a time (the Jacobi rotations' n-long columns).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    dot_in::<1>(a, b)
}

/// Below this a sum of squares may have lost digits to underflow; above it, none of
/// the squares overflowed when the sum is finite.
const SAFE_SUM_OF_SQUARES: f64 = 1e-290;

/// Euclidean norm. Interleaved (`P > 1`): the plain sum of squares when it is safely
/// in range (one pass). Else, and always with `P = 1`, scaled by the largest magnitude
/// so no square overflows or underflows, summed in order.
#[inline(always)]
fn norm<const P: usize>(a: &[f64]) -> f64 {
    if P > 1 {
        let plain = dot_in::<P>(a, a);
        if plain.is_finite() && plain >= SAFE_SUM_OF_SQUARES {
            return plain.sqrt();
        }
    }
    let scale = max_abs(a);
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

/// The largest magnitude (NaN entries ignored, as `f64::max` does), in four partial
/// maxima: a maximum is exact in any order, so this equals the one-at-a-time fold,
/// whose chain of dependent comparisons was a third of a 100 × 3 QR.
fn max_abs(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = a.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for (m, x) in acc.iter_mut().zip(c) {
            *m = m.max(x.abs());
        }
    }
    let body = acc[0].max(acc[1]).max(acc[2].max(acc[3]));
    tail.iter().fold(body, |m, x| m.max(x.abs()))
}

/// `tall_svd` of copies of `a` and `b` into fresh buffers: `(s, v, utb)`.
#[cfg(test)]
pub(crate) fn tall_svd_of(
    sums: Summation,
    a: &[f64],
    rows: usize,
    n: usize,
    b: &[f64],
) -> [Vec<f64>; 3] {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    let (mut s, mut v, mut utb, mut w) = (
        vec![0.0; n],
        vec![0.0; n * n],
        vec![0.0; n],
        vec![0.0; n * n],
    );
    tall_svd(
        sums, &mut a, rows, n, &mut b, &mut s, &mut v, &mut utb, &mut w,
    );
    [s, v, utb]
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
            for got in [norm::<1>(&v), norm::<LANES>(&v)] {
                assert!((got - want).abs() <= tol, "{scale}: {got} {want}");
            }
        }
        for got in [norm::<1>(&[0.0; 6]), norm::<LANES>(&[0.0; 6])] {
            assert_eq!(got, 0.0);
        }
        let inf = [1.0, 2.0, 3.0, 4.0, f64::INFINITY];
        assert_eq!(
            (norm::<1>(&inf), norm::<LANES>(&inf)),
            (f64::INFINITY, f64::INFINITY)
        );
    }

    #[test]
    fn max_abs_equals_the_ordered_fold() {
        let mut seed = 3;
        for len in [0, 1, 3, 4, 5, 8, 11, 100] {
            let mut a: Vec<f64> = (0..len).map(|_| lcg(&mut seed) * 1e3).collect();
            if len > 2 {
                a[len / 2] = f64::NAN;
            }
            let fold = a.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert_eq!(max_abs(&a).to_bits(), fold.to_bits(), "{len}");
        }
    }

    #[test]
    fn sequential_sums_are_the_plain_ordered_sums() {
        let mut seed = 5;
        let a: Vec<f64> = (0..37).map(|_| lcg(&mut seed)).collect();
        let b: Vec<f64> = (0..37).map(|_| lcg(&mut seed)).collect();
        let ordered = a.iter().zip(&b).fold(0.0, |s, (x, y)| s + x * y);
        assert_eq!(dot_in::<1>(&a, &b).to_bits(), ordered.to_bits());
        assert!((dot_in::<LANES>(&a, &b) - ordered).abs() < 1e-14);
    }

    #[test]
    fn dispatched_qr_has_the_generic_bits() {
        // Whatever `interleaved_qr` runs on this CPU (AVX2 or not) must round exactly as
        // the generic code: the fixtures' paths depend on these bits.
        let mut seed = 11;
        for (rows, n) in [(100, 3), (7, 3), (64, 5), (203, 11), (9, 1), (33, 8)] {
            let a0: Vec<f64> = (0..rows * n).map(|_| lcg(&mut seed) * 1e3).collect();
            let b0: Vec<f64> = (0..rows).map(|_| lcg(&mut seed)).collect();
            let (mut a1, mut b1) = (a0.clone(), b0.clone());
            let (mut a2, mut b2) = (a0.clone(), b0);
            householder_qr::<LANES>(&mut a1, rows, n, &mut b1);
            interleaved_qr(&mut a2, rows, n, &mut b2);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a1), bits(&a2), "{rows}x{n}");
            assert_eq!(bits(&b1), bits(&b2), "{rows}x{n}");
        }
    }

    #[test]
    fn tall_svd_reconstructs_and_projects() {
        let mut seed = 7;
        let shapes = [(5, 3), (76, 11), (12, 12), (9, 1), (100, 3)];
        for (sums, (rows, n)) in [Summation::Sequential, Summation::Interleaved]
            .into_iter()
            .flat_map(|s| shapes.map(|shape| (s, shape)))
        {
            let a0: Vec<f64> = (0..rows * n).map(|_| lcg(&mut seed)).collect();
            let b0: Vec<f64> = (0..rows).map(|_| lcg(&mut seed)).collect();
            let [s, v, utb] = tall_svd_of(sums, &a0, rows, n, &b0);
            assert!(s.windows(2).all(|p| p[0] >= p[1]));
            // ‖A v_j‖ = s_j and (A v_j)·b / s_j = (Uᵀb)_j.
            for j in 0..n {
                let mut av = vec![0.0; rows];
                for k in 0..n {
                    for i in 0..rows {
                        av[i] += a0[k * rows + i] * v[j * n + k];
                    }
                }
                assert!(
                    (norm::<1>(&av) - s[j]).abs() < 1e-12 * s[0],
                    "{rows}x{n} s{j}"
                );
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
        let b = vec![1.0; rows];
        for sums in [Summation::Sequential, Summation::Interleaved] {
            let [s, ..] = tall_svd_of(sums, &a, rows, 3, &b);
            assert!(s[2] < 1e-14 * s[0], "{s:?}");
            assert!(!well_conditioned(&s));
        }
    }
}
