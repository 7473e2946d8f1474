//! The unscaled covariance `(JᵀJ)⁻¹` of a lock-step fit from the normal equations it
//! already holds: by Cholesky when JᵀJ is well conditioned (n³/2 flops, no J needed),
//! otherwise as the pseudo-inverse over the eigenvalues of JᵀJ above
//! `ε·max(m, n)·λ_max` (a rank-deficient fit gets finite entries, as scipy's pinv of J).

use crate::linalg::jacobi::{Summation, tall_svd};

/// Below this ratio of the smallest to the largest Cholesky pivot (squared), the
/// pseudo-inverse is used: the inverse would lose more than half the digits.
const WELL_CONDITIONED: f64 = 1e-8;

/// `(JᵀJ)⁻¹` (or its pseudo-inverse) into `cov` (n×n) from `a`, JᵀJ with its lower
/// triangle filled; `work` is n×n scratch; `m` the number of residuals.
pub(super) fn unscaled(a: &[f64], n: usize, m: usize, work: &mut [f64], cov: &mut [f64]) {
    if !super::kernels::cholesky_inverse(n, a, WELL_CONDITIONED, work, cov) {
        pseudo_inverse(a, n, m, cov);
    }
}

/// The eigen-decomposition route (rare: a singular or nearly singular fit), allocating.
fn pseudo_inverse(a: &[f64], n: usize, m: usize, cov: &mut [f64]) {
    if a.iter().any(|v| !v.is_finite()) {
        cov.fill(f64::NAN);
        return;
    }
    // The full symmetric matrix, column-major (= row-major).
    let mut full = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            full[i * n + j] = a[i * n + j];
            full[j * n + i] = a[i * n + j];
        }
    }
    let (mut b, mut s, mut v) = (vec![0.0; n], vec![0.0; n], vec![0.0; n * n]);
    let (mut utb, mut w) = (vec![0.0; n], vec![0.0; n * n]);
    tall_svd(
        Summation::Sequential,
        &mut full,
        n,
        n,
        &mut b,
        &mut s,
        &mut v,
        &mut utb,
        &mut w,
    );
    let largest = s.iter().copied().fold(0.0_f64, f64::max);
    let threshold = f64::EPSILON * m.max(n) as f64 * largest;
    cov.fill(0.0);
    for l in 0..n {
        if s[l] <= threshold {
            continue;
        }
        let col = &v[l * n..(l + 1) * n];
        for p in 0..n {
            for q in 0..n {
                cov[p * n + q] += col[p] / s[l] * col[q];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lower_jtj(j: &[f64], m: usize, n: usize) -> Vec<f64> {
        let mut a = vec![0.0; n * n];
        for i in 0..m {
            for p in 0..n {
                for q in 0..=p {
                    a[p * n + q] += j[i * n + p] * j[i * n + q];
                }
            }
        }
        a
    }

    #[test]
    fn inverse_of_a_well_conditioned_jtj_matches_the_svd_route() {
        let j = [1.0, 0.5, 2.0, -1.0, 0.3, 0.7, 1.5, 2.5];
        let a = lower_jtj(&j, 4, 2);
        let (mut c1, mut c2, mut w) = (vec![0.0; 4], vec![0.0; 4], vec![0.0; 4]);
        unscaled(&a, 2, 4, &mut w, &mut c1);
        pseudo_inverse(&a, 2, 4, &mut c2);
        let full = crate::pinv_jtj(&j, 4, 2).unwrap();
        for ((x, y), z) in c1.iter().zip(&c2).zip(&full) {
            assert!((x - z).abs() <= 1e-12 * z.abs().max(1.0), "{x} vs {z}");
            assert!((y - z).abs() <= 1e-12 * z.abs().max(1.0), "{y} vs {z}");
        }
    }

    #[test]
    fn a_duplicated_column_gets_the_pseudo_inverse() {
        // Columns 0 and 1 equal: rank 1; pinv(JᵀJ) splits the variance evenly.
        let j = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        let a = lower_jtj(&j, 3, 2);
        let (mut c, mut w) = (vec![0.0; 4], vec![0.0; 4]);
        unscaled(&a, 2, 3, &mut w, &mut c);
        let full = crate::pinv_jtj(&j, 3, 2).unwrap();
        for (x, z) in c.iter().zip(&full) {
            assert!((x - z).abs() <= 1e-10, "{x} vs {z}");
        }
    }
}
