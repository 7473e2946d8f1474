//! Checking an analytic Jacobian against central finite differences.
//!
//! Used by this crate's tests for every problem, and available to other
//! crates (e.g. to check a user-supplied Jacobian the same way).

use crate::TestProblem;

/// Relative step of the central differences: eps^(1/3), which balances the
/// O(h²) truncation error against the O(eps/h) rounding error.
pub const CENTRAL_STEP: f64 = 6.0554544523933395e-6;

/// Central-difference Jacobian of `p` at `x`, row-major m×n like [`TestProblem::jacobian`].
///
/// The step for parameter j is `CENTRAL_STEP * |x_j|` (or `CENTRAL_STEP`
/// when `x_j == 0`). A relative step matters for the NIST problems, whose
/// parameters range from 1e-7 (Hahn1 `b7`) to 1e3; an absolute step of
/// 6e-6 would be larger than such a parameter. The step is rounded so that
/// `x_j ± h` are exactly `h` away from `x_j`.
pub fn central_difference_jacobian(p: &dyn TestProblem, x: &[f64]) -> Vec<f64> {
    let (m, n) = (p.m(), p.n());
    let mut jac = vec![0.0; m * n];
    let mut xp = x.to_vec();
    let mut fp = vec![0.0; m];
    let mut fm = vec![0.0; m];
    for j in 0..n {
        let scale = if x[j] != 0.0 { x[j].abs() } else { 1.0 };
        let h0 = CENTRAL_STEP * scale;
        let h = (x[j] + h0) - x[j];
        xp[j] = x[j] + h;
        p.residuals(&xp, &mut fp);
        xp[j] = x[j] - h;
        p.residuals(&xp, &mut fm);
        xp[j] = x[j];
        for i in 0..m {
            jac[i * n + j] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
    jac
}

/// Rounding error of one residual evaluation, in units of `eps · max_i |f_i(x)|`,
/// that [`jacobian_error`] attributes to noise rather than to a wrong Jacobian.
///
/// Evaluating a residual costs a handful of roundings of quantities as
/// large as the residuals themselves; 16 covers that with room to spare
/// (every problem in this crate passes its checks with 1).
pub const ROUNDING_ULPS: f64 = 16.0;

/// Largest discrepancy between the analytic and the central-difference
/// Jacobian at `x`, beyond rounding noise, relative to the column's scale.
///
/// For entry (i, j) this is `max(0, |J_ij − J^fd_ij| − noise_j) / scale_j`
/// where `scale_j = max_i |J_ij|` (analytic column maximum) and
/// `noise_j = ROUNDING_ULPS · eps · max_i |f_i(x)| / h_j` bounds the error
/// of the difference quotient caused by rounding in `f(x ± h)`. Without the
/// noise term a column whose derivatives are tiny next to the residuals
/// would be reported as wrong (MGH17 at start 1: the `b5` column is ~1e-6
/// while the residuals are ~100); an entry-wise relative measure would also
/// flag entries that are zero up to rounding (`sin(k·π)` in ENSO). A wrong
/// formula shows up as an error of order 1; correct Jacobians give about
/// `eps^(2/3)` ≈ 4e-11 up to 1e-7 for strongly curved models. NaN in
/// either Jacobian gives infinity.
pub fn jacobian_error(p: &dyn TestProblem, x: &[f64]) -> f64 {
    let (m, n) = (p.m(), p.n());
    let mut ja = vec![0.0; m * n];
    p.jacobian(x, &mut ja);
    let jf = central_difference_jacobian(p, x);
    let mut f = vec![0.0; m];
    p.residuals(x, &mut f);
    let fmax = f.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    let mut worst = 0.0_f64;
    for j in 0..n {
        let h = CENTRAL_STEP * if x[j] != 0.0 { x[j].abs() } else { 1.0 };
        let noise = ROUNDING_ULPS * f64::EPSILON * fmax / h;
        let col_max = (0..m).fold(0.0_f64, |a, i| a.max(ja[i * n + j].abs()));
        let scale = col_max.max(f64::MIN_POSITIVE);
        for i in 0..m {
            let diff = (ja[i * n + j] - jf[i * n + j]).abs();
            if diff.is_nan() {
                return f64::INFINITY;
            }
            worst = worst.max((diff - noise).max(0.0) / scale);
        }
    }
    worst
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn step_is_cbrt_eps() {
        assert!((CENTRAL_STEP - f64::EPSILON.cbrt()).abs() < 1e-20);
    }

    /// A problem whose Jacobian is deliberately wrong in one entry.
    struct Wrong;
    impl TestProblem for Wrong {
        fn n(&self) -> usize {
            2
        }
        fn m(&self) -> usize {
            2
        }
        fn residuals(&self, x: &[f64], f: &mut [f64]) {
            f[0] = x[0] * x[1];
            f[1] = x[0].exp();
        }
        fn jacobian(&self, x: &[f64], jac: &mut [f64]) {
            jac[0] = x[1];
            jac[1] = x[0];
            jac[2] = 1.01 * x[0].exp(); // should be exp(x0)
            jac[3] = 0.0;
        }
    }

    #[test]
    fn detects_a_wrong_entry() {
        let e = jacobian_error(&Wrong, &[0.5, 2.0]);
        assert!(e > 5e-3, "{e}");
    }
}
