//! The small dense kernels of a lock-step round, with the parameter count known at
//! compile time for n ≤ 8 (the common case: the loops unroll and the accumulators stay
//! in registers, about 3× faster than the same loops over a run-time n) and a general
//! version beyond. Both sum in the same order, so they give the same bits.

use crate::linalg::dense::{small_cholesky, small_solve};

/// χ² = fᵀf, and JᵀJ (lower triangle, row-major n×n) and Jᵀf into `a`, `g`; J is
/// row-major m×n.
pub(super) fn normal_equations(
    n: usize,
    jac: &[f64],
    f: &[f64],
    a: &mut [f64],
    g: &mut [f64],
) -> f64 {
    macro_rules! fixed {
        ($($k:literal)*) => {
            match n {
                $($k => normal_fixed::<$k>(jac, f, a, g),)*
                _ => normal_any(n, jac, f, a, g),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8)
}

fn normal_fixed<const N: usize>(jac: &[f64], f: &[f64], a: &mut [f64], g: &mut [f64]) -> f64 {
    let mut acc = [[0.0_f64; N]; N];
    let mut grad = [0.0_f64; N];
    let mut chi2 = 0.0;
    for (row, &fi) in jac.chunks_exact(N).zip(f) {
        chi2 += fi * fi;
        for p in 0..N {
            grad[p] += row[p] * fi;
            for q in 0..=p {
                acc[p][q] += row[p] * row[q];
            }
        }
    }
    for p in 0..N {
        g[p] = grad[p];
        a[p * N..p * N + p + 1].copy_from_slice(&acc[p][..=p]);
    }
    chi2
}

fn normal_any(n: usize, jac: &[f64], f: &[f64], a: &mut [f64], g: &mut [f64]) -> f64 {
    a.fill(0.0);
    g.fill(0.0);
    let mut chi2 = 0.0;
    for (row, &fi) in jac.chunks_exact(n).zip(f) {
        chi2 += fi * fi;
        for p in 0..n {
            g[p] += row[p] * fi;
            for q in 0..=p {
                a[p * n + q] += row[p] * row[q];
            }
        }
    }
    chi2
}

/// Solves `(A + λ·diag(d)) δ = −g` (A: lower triangle) into `step`; `work` is n×n
/// scratch. False when the damped matrix is not positive definite.
pub(super) fn damped_solve(
    n: usize,
    a: &[f64],
    g: &[f64],
    damping: impl Fn(usize) -> f64,
    work: &mut [f64],
    step: &mut [f64],
) -> bool {
    macro_rules! fixed {
        ($($k:literal)*) => {
            match n {
                $($k => damped_fixed::<$k>(a, g, &damping, step),)*
                _ => damped_any(n, a, g, &damping, work, step),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8)
}

fn damped_fixed<const N: usize>(
    a: &[f64],
    g: &[f64],
    damping: &impl Fn(usize) -> f64,
    step: &mut [f64],
) -> bool {
    let mut l = [[0.0_f64; N]; N];
    for p in 0..N {
        l[p][..=p].copy_from_slice(&a[p * N..p * N + p + 1]);
        l[p][p] += damping(p);
    }
    if !cholesky_fixed(&mut l) {
        return false;
    }
    let mut t = [0.0_f64; N];
    for (ti, gi) in t.iter_mut().zip(g) {
        *ti = -gi;
    }
    solve_fixed(&l, &mut t);
    step.copy_from_slice(&t);
    t.iter().all(|v| v.is_finite())
}

fn damped_any(
    n: usize,
    a: &[f64],
    g: &[f64],
    damping: &impl Fn(usize) -> f64,
    work: &mut [f64],
    step: &mut [f64],
) -> bool {
    work.copy_from_slice(a);
    for j in 0..n {
        work[j * n + j] += damping(j);
    }
    if !small_cholesky(work, n) {
        return false;
    }
    for (s, gj) in step.iter_mut().zip(g) {
        *s = -gj;
    }
    small_solve(work, n, step);
    step.iter().all(|v| v.is_finite())
}

/// In-place Cholesky `A = L Lᵀ` of the lower triangle of `l` (as
/// [`small_cholesky`]); false when A is not positive definite or not finite.
fn cholesky_fixed<const N: usize>(l: &mut [[f64; N]; N]) -> bool {
    for j in 0..N {
        let mut d = l[j][j];
        for k in 0..j {
            d -= l[j][k] * l[j][k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return false;
        }
        let d = d.sqrt();
        l[j][j] = d;
        for i in j + 1..N {
            let mut v = l[i][j];
            for k in 0..j {
                v -= l[i][k] * l[j][k];
            }
            l[i][j] = v / d;
        }
    }
    true
}

/// Solves `L Lᵀ t = t` in place for the factor of [`cholesky_fixed`] (as [`small_solve`]).
fn solve_fixed<const N: usize>(l: &[[f64; N]; N], t: &mut [f64; N]) {
    for i in 0..N {
        let mut v = t[i];
        for k in 0..i {
            v -= l[i][k] * t[k];
        }
        t[i] = v / l[i][i];
    }
    for i in (0..N).rev() {
        let mut v = t[i];
        for k in i + 1..N {
            v -= l[k][i] * t[k];
        }
        t[i] = v / l[i][i];
    }
}

/// `(A)⁻¹` into `cov` (n×n, both triangles) from `a`, A with its lower triangle filled,
/// by Cholesky; `work` is n×n scratch. False when A is not positive definite or its
/// smallest Cholesky pivot² is below `ratio` times its largest (the inverse would lose
/// too many digits).
pub(super) fn cholesky_inverse(
    n: usize,
    a: &[f64],
    ratio: f64,
    work: &mut [f64],
    cov: &mut [f64],
) -> bool {
    macro_rules! fixed {
        ($($k:literal)*) => {
            match n {
                $($k => inverse_fixed::<$k>(a, ratio, cov),)*
                _ => inverse_any(n, a, ratio, work, cov),
            }
        };
    }
    fixed!(1 2 3 4 5 6 7 8)
}

/// True when the smallest pivot² of the factor `l` is above `ratio` times the largest.
fn well_conditioned(pivots: impl Iterator<Item = f64>, ratio: f64) -> bool {
    let (lo, hi) = pivots.fold((f64::INFINITY, 0.0_f64), |(lo, hi), d| {
        (lo.min(d * d), hi.max(d * d))
    });
    lo > ratio * hi
}

fn inverse_fixed<const N: usize>(a: &[f64], ratio: f64, cov: &mut [f64]) -> bool {
    let mut l = [[0.0_f64; N]; N];
    for p in 0..N {
        l[p][..=p].copy_from_slice(&a[p * N..p * N + p + 1]);
    }
    if !cholesky_fixed(&mut l) {
        return false;
    }
    if !well_conditioned((0..N).map(|j| l[j][j]), ratio) {
        return false;
    }
    for c in 0..N {
        let mut t = [0.0_f64; N];
        t[c] = 1.0;
        solve_fixed(&l, &mut t);
        // Column c; keep the lower triangle and mirror it, so pcov is exactly symmetric.
        for i in c..N {
            cov[i * N + c] = t[i];
            cov[c * N + i] = t[i];
        }
    }
    true
}

fn inverse_any(n: usize, a: &[f64], ratio: f64, work: &mut [f64], cov: &mut [f64]) -> bool {
    work.copy_from_slice(a);
    if !small_cholesky(work, n) || !well_conditioned((0..n).map(|j| work[j * n + j]), ratio) {
        return false;
    }
    // Row c of the (symmetric) inverse is its column c: solve into the row.
    for c in 0..n {
        let row = &mut cov[c * n..(c + 1) * n];
        row.fill(0.0);
        row[c] = 1.0;
        small_solve(work, n, row);
    }
    // Entry (i, c), i ≥ c, from the solve for column c (as the fixed-size kernel
    // keeps it), mirrored, so that pcov is exactly symmetric.
    for c in 0..n {
        for i in c + 1..n {
            cov[i * n + c] = cov[c * n + i];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unrolled kernels give the general kernels' bits.
    #[test]
    fn fixed_and_general_kernels_agree_bit_for_bit() {
        for n in 1..=8 {
            let m = 13;
            let jac: Vec<f64> = (0..m * n)
                .map(|i| (i as f64 * 0.731).sin() + (i as f64 * i as f64 * 0.1).cos())
                .collect();
            let f: Vec<f64> = (0..m).map(|i| (i as f64 * 0.37).sin()).collect();
            let (mut a1, mut a2) = (vec![0.0; n * n], vec![0.0; n * n]);
            let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
            let c1 = normal_equations(n, &jac, &f, &mut a1, &mut g1);
            let c2 = normal_any(n, &jac, &f, &mut a2, &mut g2);
            assert_eq!((c1.to_bits(), &g1), (c2.to_bits(), &g2));
            for p in 0..n {
                assert_eq!(a1[p * n..p * n + p + 1], a2[p * n..p * n + p + 1]);
            }
            let damp = |j: usize| 1e-3 * (j as f64 + 1.0);
            let (mut s1, mut s2, mut w) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * n]);
            assert!(damped_solve(n, &a1, &g1, damp, &mut w, &mut s1));
            assert!(damped_any(n, &a1, &g1, &damp, &mut w, &mut s2));
            assert_eq!(s1, s2, "n = {n}");
            let (mut c1, mut c2) = (vec![0.0; n * n], vec![0.0; n * n]);
            assert!(cholesky_inverse(n, &a1, 1e-300, &mut w, &mut c1));
            assert!(inverse_any(n, &a1, 1e-300, &mut w, &mut c2));
            assert_eq!(c1, c2, "n = {n}");
        }
    }
}
