//! `qrfac`: Householder QR with column pivoting, `A·P = Q·R` (spec §9.3).
//!
//! LMDER factors every Jacobian with this routine and then works only with `R`, the
//! permutation and `Qᵀf`, so the factorisation must be reproduced operation by operation for
//! iterates to match scipy: pivot choice ("first maximum wins"), the sign convention
//! (`rdiag_j = −ν`), the downdating of the remaining column norms and the point at which
//! they are recomputed all feed into later decisions.
//!
//! Storage is MINPACK's: `a` is m×n column-major with leading dimension `m`
//! (`a[i + j·m]`). On return the strict upper triangle of `a` holds the strict upper
//! triangle of `R`, the lower trapezoid (diagonal included) holds the Householder vectors
//! `u_j` (with `u_j[j]` = the scaling `π_j`), and `rdiag` holds `R`'s diagonal.
//!
//! The column-norm recomputation uses the **fixed** form that scipy 1.18 ships (the
//! `m − j − 1` entries strictly below row `j`); scipy 1.17 read one element past the
//! column there, which is not reproducible in general.

use super::EPSMCH;
use super::dot;
use super::enorm::enorm;

/// Householder QR factorisation with column pivoting of the m×n column-major matrix `a`.
///
/// * `ipvt` (len n) receives the 0-based permutation: column `j` of `P` is column
///   `ipvt[j]` of the identity, i.e. column `j` of `R` belongs to variable `ipvt[j]`.
/// * `rdiag` (len n) receives the diagonal of `R` (negated Householder norms, MINPACK's
///   sign convention; an exactly zero column gives `-0.0`).
/// * `acnorm` (len n) receives the Euclidean norms of the columns of the *input* matrix,
///   in the original (unpermuted) order; LMDER uses them for scaling and the gradient test.
/// * `wa` (len n) is scratch (the reference norms for the downdating test).
///
/// The caller guarantees `a.len() ≥ m·n` and the other slices have length ≥ n.
pub fn qrfac(
    m: usize,
    n: usize,
    a: &mut [f64],
    ipvt: &mut [usize],
    rdiag: &mut [f64],
    acnorm: &mut [f64],
    wa: &mut [f64],
) {
    debug_assert!(a.len() >= m * n);
    debug_assert!(ipvt.len() >= n && rdiag.len() >= n && acnorm.len() >= n && wa.len() >= n);

    if m == 0 {
        // Only reachable with n == 0 through LMDER; keep the outputs defined anyway.
        for j in 0..n {
            acnorm[j] = 0.0;
            rdiag[j] = 0.0;
            wa[j] = 0.0;
            ipvt[j] = j;
        }
        return;
    }

    // Initial column norms.
    for (j, col) in a.chunks_exact(m).take(n).enumerate() {
        let norm = enorm(col);
        acnorm[j] = norm;
        rdiag[j] = norm;
        wa[j] = norm;
        ipvt[j] = j;
    }

    for j in 0..m.min(n) {
        // Bring the column of largest remaining norm into the pivot position. A strict `>`
        // keeps the earliest of equal norms, as MINPACK does.
        let mut kmax = j;
        for k in j..n {
            if rdiag[k] > rdiag[kmax] {
                kmax = k;
            }
        }
        if kmax != j {
            let (left, right) = a.split_at_mut(kmax * m);
            left[j * m..(j + 1) * m].swap_with_slice(&mut right[..m]);
            // rdiag[j] / wa[j] are not needed any more (rdiag[j] is overwritten below).
            rdiag[kmax] = rdiag[j];
            wa[kmax] = wa[j];
            ipvt.swap(j, kmax);
        }

        // Householder transformation reducing column j to a multiple of e_j.
        let (left, right) = a.split_at_mut((j + 1) * m);
        let colj = &mut left[j * m + j..];
        let mut ajnorm = enorm(colj);
        if ajnorm == 0.0 {
            rdiag[j] = -ajnorm;
            continue;
        }
        if colj[0] < 0.0 {
            ajnorm = -ajnorm;
        }
        for v in colj.iter_mut() {
            *v /= ajnorm;
        }
        colj[0] += 1.0;
        let colj = &*colj;
        let pivot = colj[0];

        // Apply it to the remaining columns and downdate their norms.
        for k in j + 1..n {
            // (Slicing by offset: a chunk iterator per j would cost a division.)
            let start = (k - j - 1) * m;
            let colk = &mut right[start + j..start + m];
            let temp = dot(colj, colk) / pivot;
            for (ck, &cj) in colk.iter_mut().zip(colj) {
                *ck -= temp * cj;
            }
            if rdiag[k] != 0.0 {
                let t = colk[0] / rdiag[k];
                rdiag[k] *= (1.0 - t * t).max(0.0).sqrt();
                // After severe cancellation the downdated norm is unreliable: recompute it
                // from the entries strictly below row j (scipy 1.18's fixed length).
                let ratio = rdiag[k] / wa[k];
                if 0.05 * (ratio * ratio) <= EPSMCH {
                    rdiag[k] = enorm(&colk[1..]);
                    wa[k] = rdiag[k];
                }
            }
        }
        rdiag[j] = -ajnorm;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_util::Lcg;
    use super::*;

    /// ‖Q·R − J·P‖ entrywise, relative to max|J|: Householder QR is backward stable with
    /// error ~ c·m·n·ε; 1e-13 leaves room for the largest test size here (20×8).
    const RECONSTRUCTION_RTOL: f64 = 1e-13;

    /// Pivoting makes |R_jj| non-increasing in exact arithmetic; the downdated norms
    /// carry rounding, so allow a relative slack of 1e-12.
    const PIVOT_ORDER_SLACK: f64 = 1e-12;

    struct Factored {
        a: Vec<f64>,
        ipvt: Vec<usize>,
        rdiag: Vec<f64>,
        acnorm: Vec<f64>,
        wa: Vec<f64>,
    }

    fn factor(m: usize, n: usize, j: &[f64]) -> Factored {
        let mut a = j.to_vec();
        let mut ipvt = vec![usize::MAX; n];
        let mut rdiag = vec![f64::NAN; n];
        let mut acnorm = vec![f64::NAN; n];
        let mut wa = vec![f64::NAN; n];
        qrfac(m, n, &mut a, &mut ipvt, &mut rdiag, &mut acnorm, &mut wa);
        Factored {
            a,
            ipvt,
            rdiag,
            acnorm,
            wa,
        }
    }

    /// Rebuilds Q·R (m×n, col-major) from the factored form: R from the strict upper
    /// triangle plus rdiag, Q = H_0·H_1·…, H_j = I − u uᵀ / u_j with u = a[j.., j].
    fn q_times_r(m: usize, n: usize, f: &Factored) -> Vec<f64> {
        let k = m.min(n);
        let mut out = vec![0.0; m * n];
        for c in 0..n {
            let mut v = vec![0.0; m];
            for i in 0..c.min(m) {
                v[i] = f.a[i + c * m];
            }
            if c < m {
                v[c] = f.rdiag[c];
            }
            for j in (0..k).rev() {
                let u = &f.a[j * m + j..(j + 1) * m];
                if u[0] == 0.0 {
                    continue; // zero column: no reflection was applied
                }
                let s: f64 = u.iter().zip(&v[j..]).map(|(a, b)| a * b).sum();
                let t = s / u[0];
                for (vi, ui) in v[j..].iter_mut().zip(u) {
                    *vi -= t * ui;
                }
            }
            out[c * m..(c + 1) * m].copy_from_slice(&v);
        }
        out
    }

    fn check(m: usize, n: usize, j: &[f64]) {
        let f = factor(m, n, j);
        // ipvt is a permutation.
        let mut seen = vec![false; n];
        for &p in &f.ipvt {
            assert!(!seen[p]);
            seen[p] = true;
        }
        // acnorm are the input column norms.
        for c in 0..n {
            let norm = enorm(&j[c * m..(c + 1) * m]);
            assert_eq!(f.acnorm[c].to_bits(), norm.to_bits());
        }
        // Q·R = J·P.
        let qr = q_times_r(m, n, &f);
        let scale = j
            .iter()
            .fold(0.0_f64, |s, v| s.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        for c in 0..n {
            for i in 0..m {
                let want = j[i + f.ipvt[c] * m];
                let got = qr[i + c * m];
                assert!(
                    (got - want).abs() <= RECONSTRUCTION_RTOL * scale,
                    "m={m} n={n} ({i},{c}): {got} vs {want}"
                );
            }
        }
        // |rdiag| non-increasing.
        for c in 1..m.min(n) {
            assert!(
                f.rdiag[c].abs() <= f.rdiag[c - 1].abs() * (1.0 + PIVOT_ORDER_SLACK),
                "rdiag not ordered: {:?}",
                f.rdiag
            );
        }
    }

    #[test]
    fn qrfac_reproduces_permuted_matrix_on_random_inputs() {
        let mut rng = Lcg::new(2024);
        for &(m, n) in &[
            (1, 1),
            (2, 2),
            (3, 1),
            (5, 3),
            (6, 6),
            (10, 4),
            (20, 8),
            (3, 5),
        ] {
            for _ in 0..5 {
                let j: Vec<f64> = (0..m * n).map(|_| rng.uniform() * 10.0).collect();
                check(m, n, &j);
            }
        }
    }

    #[test]
    fn qrfac_pivots_largest_column_first_and_keeps_earliest_on_ties() {
        // Columns with norms 1, 3, 3: column 1 (first of the tie) must come first.
        let m = 3;
        let j = [1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 3.0];
        let f = factor(m, 3, &j);
        assert_eq!(f.ipvt[0], 1);
        assert_eq!(f.rdiag[0], -3.0);
        check(m, 3, &j);
    }

    #[test]
    fn qrfac_handles_zero_and_duplicate_columns() {
        let m = 4;
        let j = [
            1.0, 2.0, 3.0, 4.0, //
            0.0, 0.0, 0.0, 0.0, //
            1.0, 2.0, 3.0, 4.0, //
        ];
        let f = factor(m, 3, &j);
        // The zero column is pivoted last and gets rdiag = -0.0 exactly.
        assert_eq!(f.ipvt[2], 1);
        assert_eq!(f.rdiag[2].to_bits(), (-0.0_f64).to_bits());
        assert_eq!(f.acnorm[1], 0.0);
        // The duplicate column is reduced to (nearly) nothing.
        assert!(f.rdiag[1].abs() < 1e-14 * f.rdiag[0].abs());
        check(m, 3, &j);
    }

    #[test]
    fn qrfac_sign_convention_is_minpacks() {
        // Single column [3, 4]: ν = 5, a[0] ≥ 0 so ν stays positive, rdiag = −5,
        // u = [3/5 + 1, 4/5].
        let f = factor(2, 1, &[3.0, 4.0]);
        assert_eq!(f.rdiag[0], -5.0);
        assert_eq!(f.a, vec![3.0 / 5.0 + 1.0, 4.0 / 5.0]);
        // Negative leading entry flips ν.
        let f = factor(2, 1, &[-3.0, 4.0]);
        assert_eq!(f.rdiag[0], 5.0);
    }

    #[test]
    fn qrfac_recomputes_norm_after_cancellation() {
        // Column 1 is almost parallel to column 0, so after the first reflection its
        // downdated norm collapses and must be recomputed from the remaining entries;
        // the reconstruction still holds.
        let m = 4;
        let e = 1e-9;
        let j = [
            1.0,
            1.0,
            1.0,
            1.0,
            1.0,
            1.0 + e,
            1.0,
            1.0 - e,
            0.3,
            -0.2,
            0.1,
            0.4,
        ];
        check(m, 3, &j);
        // The recomputation resets the reference norm wa[k] away from the input norm.
        let f = factor(m, 3, &j);
        let k = f.ipvt.iter().position(|&p| p == 1).unwrap();
        assert!(
            f.wa[k] < 1e-6 * f.acnorm[1],
            "norm of column 1 was not recomputed: {:?}",
            f.wa
        );
    }
}
