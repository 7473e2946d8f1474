//! The Broyden tridiagonal system, scipy's example of a large sparse problem.
//!
//! `f_i = (3 − x_i) x_i + 1 − x_{i−1} − 2 x_{i+1}` for i = 1..n, with
//! `x_0 = x_{n+1} = 0`, started from `x = −1` (the example of scipy's
//! `least_squares` documentation for `jac_sparsity`; the peer benchmarks
//! run n = 10,000 and 100,000). The Jacobian is tridiagonal: at n = 10⁵ a dense
//! Jacobian would take 80 GB, so solvers should use [`BroydenTridiagonal::sparsity`]
//! and [`BroydenTridiagonal::jacobian_triplets`]; the dense
//! [`TestProblem::jacobian`] is only sensible for small n.
//!
//! ```
//! use trustfit_problems::{TestProblem, sparse::BroydenTridiagonal};
//!
//! let p = BroydenTridiagonal::new(10_000);
//! assert_eq!(p.label(), "broyden_tridiagonal_n10000");
//! assert_eq!(p.sparsity().len(), 3 * 10_000 - 2);
//! let mut f = vec![0.0; p.m()];
//! p.residuals(&p.x0(), &mut f);
//! assert_eq!((f[0], f[1], f[9_999]), (-1.0, 0.0, -2.0));
//! ```

use trustfit::{CallbackError, Real};

use crate::TestProblem;

/// Problem sizes used by the peer benchmarks (`suite = sparse`).
pub const STANDARD_SIZES: [usize; 2] = [10_000, 100_000];

/// Broyden tridiagonal system of size n (n residuals, n parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BroydenTridiagonal {
    /// Number of parameters and residuals.
    pub n: usize,
}

impl BroydenTridiagonal {
    /// The system of size `n`.
    pub fn new(n: usize) -> Self {
        Self { n }
    }

    /// Standard start: all −1.
    pub fn x0(&self) -> Vec<f64> {
        vec![-1.0; self.n]
    }

    /// Problem label shared with the peer benchmarks, e.g. "broyden_tridiagonal_n10000".
    pub fn label(&self) -> String {
        format!("broyden_tridiagonal_n{}", self.n)
    }

    /// Start label shared with the peer benchmarks: "-1".
    pub fn start(&self) -> &'static str {
        "-1"
    }

    /// Structural nonzeros (row, col) of the Jacobian in row-major order (3n − 2 of them).
    pub fn sparsity(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity((3 * self.n).saturating_sub(2));
        self.for_each_entry(|i, j| out.push((i, j)));
        out
    }

    /// Jacobian at `x` as (row, col, value) triplets, in the order of [`sparsity`](Self::sparsity).
    ///
    /// `out` is cleared first and reused, so a caller can keep one buffer
    /// across iterations without reallocating.
    pub fn jacobian_triplets(&self, x: &[f64], out: &mut Vec<(usize, usize, f64)>) {
        out.clear();
        out.reserve((3 * self.n).saturating_sub(2));
        self.for_each_entry(|i, j| out.push((i, j, entry(x, i, j))));
    }

    /// Jacobian values at `x` in the order of [`sparsity`](Self::sparsity) (CSR order).
    ///
    /// ```
    /// use trustfit_problems::sparse::BroydenTridiagonal;
    /// let mut v = [0.0; 4];
    /// BroydenTridiagonal::new(2).jacobian_values(&[1.0, 0.5], &mut v);
    /// assert_eq!(v, [1.0, -2.0, -1.0, 2.0]);
    /// ```
    pub fn jacobian_values(&self, x: &[f64], values: &mut [f64]) {
        let mut k = 0;
        self.for_each_entry(|i, j| {
            values[k] = entry(x, i, j);
            k += 1;
        });
    }

    /// Visits the structural nonzeros (row, col) row by row: (i, i−1), (i, i), (i, i+1).
    fn for_each_entry(&self, mut visit: impl FnMut(usize, usize)) {
        for i in 0..self.n {
            if i > 0 {
                visit(i, i - 1);
            }
            visit(i, i);
            if i + 1 < self.n {
                visit(i, i + 1);
            }
        }
    }
}

/// `∂f_i/∂x_j` on the tridiagonal: −1 left of the diagonal, 3 − 2xᵢ on it, −2 right of it.
fn entry(x: &[f64], i: usize, j: usize) -> f64 {
    if j < i {
        -1.0
    } else if j == i {
        3.0 - 2.0 * x[i]
    } else {
        -2.0
    }
}

impl TestProblem for BroydenTridiagonal {
    fn n(&self) -> usize {
        self.n
    }

    fn m(&self) -> usize {
        self.n
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) {
        let n = self.n;
        let r = |left: f64, xi: f64, right: f64| (3.0 - xi) * xi + 1.0 - left - 2.0 * right;
        match n {
            0 => {}
            1 => f[0] = r(0.0, x[0], 0.0),
            _ => {
                // The ends apart, a branch-free loop the compiler vectorizes.
                f[0] = r(0.0, x[0], x[1]);
                for (fi, w) in f[1..n - 1].iter_mut().zip(x.windows(3)) {
                    *fi = r(w[0], w[1], w[2]);
                }
                f[n - 1] = r(x[n - 2], x[n - 1], 0.0);
            }
        }
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) {
        let n = self.n;
        jac[..n * n].fill(0.0);
        self.for_each_entry(|i, j| jac[i * n + j] = entry(x, i, j));
    }

    fn has_auto(&self) -> bool {
        true
    }

    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &trustfit::Seeding<'_>,
        out: &mut [f64],
    ) -> Option<Result<(), CallbackError>> {
        use trustfit::Residuals;
        Some(trustfit::Auto(self).auto_derivatives(x, seeding, out))
    }
}

/// The same residuals written once over [`Real`], for exact sparse Jacobians by
/// automatic differentiation over the column groups of [`BroydenTridiagonal::sparsity`].
impl trustfit::AutoResiduals for BroydenTridiagonal {
    fn num_residuals(&self) -> usize {
        self.n
    }

    /// The ends apart and the interior over windows, as in the `f64` code: no
    /// branch or bounds check per residual (dual arithmetic is most of the cost).
    fn residuals<T: Real>(&self, x: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        let zero = T::constant(0.0);
        let r = |left: T, xi: T, right: T| (-xi + 3.0) * xi + 1.0 - left - right * 2.0;
        let n = self.n.min(x.len()).min(f.len());
        match n {
            0 => {}
            1 => f[0] = r(zero, x[0], zero),
            _ => {
                f[0] = r(zero, x[0], x[1]);
                for (fi, w) in f[1..n - 1].iter_mut().zip(x.windows(3)) {
                    *fi = r(w[0], w[1], w[2]);
                }
                f[n - 1] = r(x[n - 2], x[n - 1], zero);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::check::jacobian_error;

    /// Same tolerance as the MINPACK check: the system is quadratic, so
    /// central differences are exact up to rounding.
    const JAC_TOL: f64 = 1e-6;

    #[test]
    fn dense_jacobian_matches_central_differences() {
        for n in [1, 2, 3, 10, 37] {
            let p = BroydenTridiagonal::new(n);
            let x0 = p.x0();
            assert!(jacobian_error(&p, &x0) < JAC_TOL);
            let x: Vec<f64> = (0..n).map(|i| 0.3 * (i as f64).sin() - 0.7).collect();
            assert!(jacobian_error(&p, &x) < JAC_TOL, "n = {n}");
        }
    }

    #[test]
    fn triplets_match_dense_and_sparsity() {
        let p = BroydenTridiagonal::new(7);
        let x: Vec<f64> = (0..7).map(|i| i as f64 * 0.25 - 1.0).collect();
        let mut dense = vec![0.0; 49];
        p.jacobian(&x, &mut dense);
        let mut trip = vec![(99, 99, 99.0)]; // stale content must be cleared
        p.jacobian_triplets(&x, &mut trip);
        let pattern = p.sparsity();
        assert_eq!(trip.len(), pattern.len());
        assert_eq!(pattern.len(), 3 * 7 - 2);
        let mut rebuilt = vec![0.0; 49];
        for (&(i, j, v), &(pi, pj)) in trip.iter().zip(&pattern) {
            assert_eq!((i, j), (pi, pj));
            rebuilt[i * 7 + j] = v;
        }
        assert_eq!(rebuilt, dense);
        // row-major order
        assert!(pattern.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn residuals_match_scipy_formula() {
        // f = (3 - x) x + 1; f[1:] -= x[:-1]; f[:-1] -= 2 x[1:]
        let p = BroydenTridiagonal::new(4);
        let x = [0.5, -1.0, 2.0, 0.25];
        let mut f = [0.0; 4];
        p.residuals(&x, &mut f);
        assert_eq!(f, [4.25, -7.5, 3.5, -0.3125]);
        assert_eq!(p.sum_of_squares(&p.x0()), 1.0 + 4.0);
    }

    #[test]
    fn generic_residuals_equal_the_f64_ones_and_give_the_analytic_jacobian() {
        use trustfit::{AutoResiduals, Dual};
        for n in [1, 2, 3, 10] {
            let p = BroydenTridiagonal::new(n);
            let x: Vec<f64> = (0..n).map(|i| 0.3 * (i as f64).sin() - 0.7).collect();
            let (mut want, mut got) = (vec![0.0; n], vec![0.0; n]);
            TestProblem::residuals(&p, &x, &mut want);
            AutoResiduals::residuals(&p, &x, &mut got).unwrap();
            assert_eq!(got, want, "n = {n}");
            // Columns j mod 3 share no row: one dual pass gives every entry.
            let xd: Vec<Dual<3>> = x
                .iter()
                .enumerate()
                .map(|(j, &v)| Dual::variable(v, j % 3))
                .collect();
            let mut fd = vec![Dual::constant(0.0); n];
            AutoResiduals::residuals(&p, &xd, &mut fd).unwrap();
            let mut values = vec![0.0; p.sparsity().len()];
            p.jacobian_values(&x, &mut values);
            // (3 − x)·1 − x rounds apart from the hand-written 3 − 2x.
            for (v, (i, j)) in values.iter().zip(p.sparsity()) {
                let d = fd[i].eps[j % 3];
                assert!(
                    (d - v).abs() <= 1e-14 * v.abs(),
                    "n = {n}, ({i}, {j}): {d} {v}"
                );
            }
        }
    }

    #[test]
    fn tiny_sizes() {
        assert!(BroydenTridiagonal::new(0).sparsity().is_empty());
        let p = BroydenTridiagonal::new(1);
        assert_eq!(p.sparsity(), vec![(0, 0)]);
        let mut f = [0.0];
        p.residuals(&[-1.0], &mut f);
        assert_eq!(f, [-3.0]);
    }
}
