//! `qrsolv`: the damped least-squares solve used inside `lmpar` (spec §9.5).
//!
//! Given the pivoted QR factorisation `A·P = Q·R` (from [`qrfac`](super::qrfac::qrfac)), a
//! diagonal `D` and `Qᵀb`, this solves
//!
//! ```text
//!     min ‖ [ A ; D ] z − [ b ; 0 ] ‖
//! ```
//!
//! without touching `A` again: the rows of `D` are folded into `R` by Givens rotations,
//! producing an upper triangular `S` with `Pᵀ(AᵀA + D²)P = SᵀS`. `lmpar` calls this once per
//! trial value of the Levenberg–Marquardt parameter (with `D = √par·diag`), so it is the
//! innermost kernel of the whole method; it is written with contiguous column slices.
//!
//! Storage (column-major, leading dimension `ldr`): on entry the full upper triangle of
//! the top n×n block of `r` holds `R`. On exit the upper triangle (diagonal included) is
//! unchanged, the strict lower triangle holds the strict upper triangle of `S` transposed,
//! and `sdiag` holds `S`'s diagonal. Preserving `R` is what lets LMDER (and scipy's
//! `leastsq` through `fjac`) keep using it afterwards.

use super::dot;

/// Solves `min ‖[R·Pᵀ; D]·z − [qtb; 0]‖` for `z` (written to `x`, length n).
///
/// * `r`: column-major with leading dimension `ldr ≥ n`; see the module docs for what is
///   read and written.
/// * `ipvt`: 0-based permutation from `qrfac` (column `j` of `R` ↔ variable `ipvt[j]`).
/// * `diag`: the diagonal of `D`, indexed by *variable* (unpermuted), length n. Zero entries
///   are allowed (that row is skipped).
/// * `qtb`: first n components of `Qᵀb`.
/// * `sdiag` (out) and `wa` (scratch): length n.
///
/// If `S` is singular, the components from the first zero on the diagonal of `S` are set
/// to zero and a least-squares solution of the leading block is returned, as in MINPACK.
pub fn qrsolv(
    n: usize,
    r: &mut [f64],
    ldr: usize,
    ipvt: &[usize],
    diag: &[f64],
    qtb: &[f64],
    x: &mut [f64],
    sdiag: &mut [f64],
    wa: &mut [f64],
) {
    debug_assert!(ldr >= n && r.len() >= ldr * n);
    debug_assert!(ipvt.len() >= n && diag.len() >= n && qtb.len() >= n);
    debug_assert!(x.len() >= n && sdiag.len() >= n && wa.len() >= n);
    if n == 0 {
        return;
    }
    // Restrict every buffer to what is used, so the loops below index within known bounds.
    let r = &mut r[..ldr * n];
    let (x, sdiag, wa) = (&mut x[..n], &mut sdiag[..n], &mut wa[..n]);

    // Copy R's strict upper triangle into the strict lower triangle (row j of R becomes
    // column j below the diagonal) so S can be built there; save diag(R) in x.
    // (Plain indexing: building a chunk iterator per column would cost a division.)
    for j in 0..n {
        for i in j + 1..n {
            r[i + j * ldr] = r[j + i * ldr];
        }
        x[j] = r[j + j * ldr];
        wa[j] = qtb[j];
    }

    // Eliminate the rows of D one at a time with Givens rotations.
    for j in 0..n {
        let dj = diag[ipvt[j]];
        if dj != 0.0 {
            sdiag[j..].fill(0.0);
            sdiag[j] = dj;
            // The rotations for this row of D modify only one extra element of
            // [Qᵀb; 0] beyond the first n, which starts at zero.
            let mut qtbpj = 0.0_f64;
            for k in j..n {
                let (sdiag_k, sdiag_below) = sdiag[k..].split_at_mut(1);
                let sk = sdiag_k[0];
                if sk == 0.0 {
                    continue;
                }
                let (colk_head, colk_below) = r[k * ldr..k * ldr + n].split_at_mut(k + 1);
                let rkk = colk_head[k];
                // Rotation eliminating sdiag[k] against R[k,k]; the two forms avoid
                // overflow in the tangent / cotangent.
                let (cos, sin) = if rkk.abs() < sk.abs() {
                    let cotan = rkk / sk;
                    let sin = 0.5 / (0.25 + 0.25 * (cotan * cotan)).sqrt();
                    (sin * cotan, sin)
                } else {
                    let tan = sk / rkk;
                    let cos = 0.5 / (0.25 + 0.25 * (tan * tan)).sqrt();
                    (cos, cos * tan)
                };
                colk_head[k] = rkk * cos + sin * sk;
                let wk = wa[k];
                wa[k] = cos * wk + sin * qtbpj;
                qtbpj = -sin * wk + cos * qtbpj;
                // Apply the rotation to the rest of the row of S (stored in column k).
                for (rik, si) in colk_below.iter_mut().zip(sdiag_below.iter_mut()) {
                    let temp = cos * *rik + sin * *si;
                    *si = -sin * *rik + cos * *si;
                    *rik = temp;
                }
            }
        }
        // Store S's diagonal element and restore R's.
        let jj = j * ldr + j;
        sdiag[j] = r[jj];
        r[jj] = x[j];
    }

    // Back-substitute S·z = w; a singular S gives a least-squares solution.
    let nsing = sdiag.iter().position(|&s| s == 0.0).unwrap_or(n);
    wa[nsing..].fill(0.0);
    for j in (0..nsing).rev() {
        let col = &r[j * ldr + j + 1..j * ldr + nsing];
        let (head, tail) = wa.split_at_mut(j + 1);
        let sum = dot(col, &tail[..nsing - j - 1]);
        head[j] = (head[j] - sum) / sdiag[j];
    }
    for j in 0..n {
        x[ipvt[j]] = wa[j];
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_util::{Lcg, damped_normal_solve, factor};
    use super::*;

    /// Agreement between qrsolv and an independent dense solve of the damped normal
    /// equations `(JᵀJ + D²) z = Jᵀb`. The normal equations square the condition number,
    /// so allow ~1e-10 relative on these well-conditioned random problems (κ ≲ 1e2).
    const NORMAL_EQ_RTOL: f64 = 1e-10;

    #[test]
    fn qrsolv_matches_damped_normal_equations() {
        let mut rng = Lcg::new(7);
        for &(m, n) in &[(1, 1), (3, 2), (5, 5), (8, 3), (12, 6)] {
            for trial in 0..5 {
                let a: Vec<f64> = (0..m * n).map(|_| rng.uniform()).collect();
                let b: Vec<f64> = (0..m).map(|_| rng.uniform()).collect();
                // Mix zero and non-zero damping entries.
                let d: Vec<f64> = (0..n)
                    .map(|j| {
                        if (j + trial) % 3 == 0 {
                            0.0
                        } else {
                            0.5 + rng.uniform().abs()
                        }
                    })
                    .collect();
                let (mut fj, ipvt, qtb) = factor(m, n, &a, &b);
                let r_before: Vec<f64> = fj.clone();
                let mut z = vec![0.0; n];
                let mut sdiag = vec![0.0; n];
                let mut wa = vec![0.0; n];
                qrsolv(n, &mut fj, m, &ipvt, &d, &qtb, &mut z, &mut sdiag, &mut wa);
                let expected = damped_normal_solve(m, n, &a, &d, &b);
                let scale = expected.iter().fold(1.0_f64, |s, v| s.max(v.abs()));
                for (zi, ei) in z.iter().zip(&expected) {
                    assert!(
                        (zi - ei).abs() <= NORMAL_EQ_RTOL * scale,
                        "m={m} n={n}: {z:?} vs {expected:?}"
                    );
                }
                // Upper triangle of R (diagonal included) is preserved bit for bit.
                for j in 0..n {
                    for i in 0..=j {
                        assert_eq!(fj[i + j * m].to_bits(), r_before[i + j * m].to_bits());
                    }
                }
                // S satisfies Pᵀ(AᵀA + D²)P = SᵀS: check the diagonal of both sides.
                for j in 0..n {
                    let mut sts = sdiag[j] * sdiag[j];
                    for i in 0..j {
                        let sij = fj[j + i * m]; // S[i,j] stored at (j, i)
                        sts += sij * sij;
                    }
                    let l = ipvt[j];
                    let ata: f64 =
                        (0..m).map(|i| a[i + l * m] * a[i + l * m]).sum::<f64>() + d[l] * d[l];
                    assert!(
                        (sts - ata).abs() <= NORMAL_EQ_RTOL * ata.max(1.0),
                        "diag {j}: {sts} vs {ata}"
                    );
                }
            }
        }
    }

    #[test]
    fn qrsolv_without_damping_and_singular_r_gives_least_squares_solution() {
        // Rank-deficient A: column 0 is exactly zero, so pivoting moves it last and R's
        // last diagonal entry is exactly zero. With D = 0 the solve is the basic
        // least-squares solution with that component set to zero.
        let m = 4;
        let n = 3;
        let a = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 3.0, 1.0, 2.0, 0.0, 1.0];
        let b = [1.0, 2.0, 3.0, 4.0];
        let (mut fj, ipvt, qtb) = factor(m, n, &a, &b);
        let mut z = vec![0.0; n];
        let mut sdiag = vec![0.0; n];
        let mut wa = vec![0.0; n];
        qrsolv(
            n, &mut fj, m, &ipvt, &[0.0; 3], &qtb, &mut z, &mut sdiag, &mut wa,
        );
        assert!(z.iter().all(|v| v.is_finite()));
        assert_eq!(ipvt[2], 0);
        assert_eq!(z[0], 0.0);
        // Residual must be orthogonal to the columns of A (normal equations hold).
        for p in 0..n {
            let g: f64 = (0..m)
                .map(|i| {
                    let ai: f64 = (0..n).map(|q| a[i + q * m] * z[q]).sum();
                    a[i + p * m] * (ai - b[i])
                })
                .sum();
            assert!(g.abs() < 1e-12, "gradient component {p} = {g}");
        }
    }
}
