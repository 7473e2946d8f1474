//! The test problems as the solver's [`Residuals`]: [`ProblemAdapter`] (any
//! [`TestProblem`], dense analytic Jacobian) and [`SparseAdapter`] (a
//! [`SparseTestProblem`], CSR analytic Jacobian and its pattern). The only bridge
//! between the two crates: the CLI, the benches and trustfit's tests all use it.

use trustfit::{CallbackError, Residuals, SparsityPattern};

use crate::TestProblem;
use crate::ba::BalProblem;
use crate::sparse::BroydenTridiagonal;

/// Rejects slices whose lengths do not fit the problem, so that no call can
/// index out of bounds inside the problem code.
fn check_len(what: &str, got: usize, expected: usize) -> Result<(), CallbackError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallbackError::new(format!(
            "{what} has length {got}, the problem expects {expected}"
        )))
    }
}

/// Checks `x` and `f` against a problem's n and m, then evaluates its residuals.
fn checked_residuals<P: TestProblem + ?Sized>(
    problem: &P,
    x: &[f64],
    f: &mut [f64],
) -> Result<(), CallbackError> {
    check_len("x", x.len(), problem.n())?;
    check_len("f", f.len(), problem.m())?;
    problem.residuals(x, f);
    Ok(())
}

/// Any [`TestProblem`] as a [`Residuals`] with its analytic Jacobian.
///
/// The test problems fill row-major `m × n` Jacobians, the layout
/// [`Residuals::jacobian`] expects, so both calls are forwarded unchanged.
/// Test problems are `Send + Sync`, so the adapter also offers itself for
/// parallel finite differences ([`Residuals::as_sync`]).
///
/// ```
/// use trustfit_problems::{adapter::ProblemAdapter, minpack};
///
/// let cases = minpack::cases();
/// let rosen = &cases[6];
/// let p = ProblemAdapter::new(rosen);
/// let opts = trustfit::Options { jac: trustfit::JacSpec::Analytic, ..Default::default() };
/// let r = trustfit::least_squares(&p, &rosen.x0, &opts).unwrap();
/// assert!((r.x[0] - 1.0).abs() < 1e-6);
/// ```
#[derive(Clone, Copy)]
pub struct ProblemAdapter<'a> {
    inner: &'a dyn TestProblem,
}

impl<'a> ProblemAdapter<'a> {
    /// Wraps a test problem.
    ///
    /// ```
    /// use trustfit::Residuals;
    /// let p = trustfit_problems::sparse::BroydenTridiagonal::new(4);
    /// assert_eq!(trustfit_problems::adapter::ProblemAdapter::new(&p).num_residuals(), 4);
    /// ```
    pub fn new(inner: &'a dyn TestProblem) -> Self {
        Self { inner }
    }

    /// The wrapped problem.
    ///
    /// ```
    /// let p = trustfit_problems::sparse::BroydenTridiagonal::new(4);
    /// assert_eq!(trustfit_problems::adapter::ProblemAdapter::new(&p).inner().n(), 4);
    /// ```
    pub fn inner(&self) -> &'a dyn TestProblem {
        self.inner
    }

    /// Number of parameters of the wrapped problem.
    ///
    /// ```
    /// let p = trustfit_problems::sparse::BroydenTridiagonal::new(4);
    /// assert_eq!(trustfit_problems::adapter::ProblemAdapter::new(&p).num_params(), 4);
    /// ```
    pub fn num_params(&self) -> usize {
        self.inner.n()
    }

    /// `½ Σ fᵢ(x)²`, evaluated with the problem's own code (what the peers' harness reports).
    ///
    /// Returns NaN when `x` does not have the problem's number of parameters.
    ///
    /// ```
    /// let p = trustfit_problems::sparse::BroydenTridiagonal::new(3);
    /// let a = trustfit_problems::adapter::ProblemAdapter::new(&p);
    /// assert_eq!(a.cost(&[-1.0; 3]), 0.5 * (1.0 + 4.0));
    /// assert!(a.cost(&[1.0]).is_nan());
    /// ```
    pub fn cost(&self, x: &[f64]) -> f64 {
        if x.len() != self.inner.n() {
            return f64::NAN;
        }
        0.5 * self.inner.sum_of_squares(x)
    }
}

impl std::fmt::Debug for ProblemAdapter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProblemAdapter")
            .field("n", &self.inner.n())
            .field("m", &self.inner.m())
            .finish()
    }
}

impl Residuals for ProblemAdapter<'_> {
    fn num_residuals(&self) -> usize {
        self.inner.m()
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        checked_residuals(self.inner, x, f)
    }

    fn has_jacobian(&self) -> bool {
        true
    }

    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        let (n, m) = (self.inner.n(), self.inner.m());
        check_len("x", x.len(), n)?;
        check_len("jac", jac.len(), m.saturating_mul(n))?;
        self.inner.jacobian(x, jac);
        Ok(())
    }

    fn has_auto(&self) -> bool {
        self.inner.has_auto()
    }
    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &trustfit::Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError> {
        generic_derivatives(self.inner, x, seeding, out)
    }
    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        Some(self)
    }
}

/// A test problem whose Jacobian is sparse: its structure and its values in that order.
///
/// ```
/// use trustfit_problems::{adapter::SparseTestProblem, sparse::BroydenTridiagonal};
/// let p = BroydenTridiagonal::new(3);
/// let mut v = vec![0.0; SparseTestProblem::sparsity(&p).len()];
/// SparseTestProblem::jacobian_values(&p, &[-1.0; 3], &mut v);
/// assert_eq!(v, [5.0, -2.0, -1.0, 5.0, -2.0, -1.0, 5.0]);
/// ```
pub trait SparseTestProblem: TestProblem {
    /// Structural nonzeros (row, column), sorted row by row (CSR order).
    fn sparsity(&self) -> Vec<(usize, usize)>;
    /// Jacobian values at `x` in the order of [`sparsity`](Self::sparsity).
    fn jacobian_values(&self, x: &[f64], values: &mut [f64]);
}

impl SparseTestProblem for BroydenTridiagonal {
    fn sparsity(&self) -> Vec<(usize, usize)> {
        BroydenTridiagonal::sparsity(self)
    }

    fn jacobian_values(&self, x: &[f64], values: &mut [f64]) {
        BroydenTridiagonal::jacobian_values(self, x, values);
    }
}

impl SparseTestProblem for BalProblem {
    fn sparsity(&self) -> Vec<(usize, usize)> {
        BalProblem::sparsity(self)
    }

    fn jacobian_values(&self, x: &[f64], values: &mut [f64]) {
        BalProblem::jacobian_values(self, x, values);
    }
}

/// A [`SparseTestProblem`] as a [`Residuals`] with its sparse analytic Jacobian (CSR):
/// J's storage grows with its nonzeros, never with m·n.
///
/// ```
/// use trustfit::Residuals;
/// use trustfit_problems::{adapter::SparseAdapter, sparse::BroydenTridiagonal};
/// let p = SparseAdapter::new(BroydenTridiagonal::new(5)).unwrap();
/// assert_eq!(p.jacobian_sparsity().map(|s| s.nnz()), Some(13));
/// let opts = trustfit::Options { jac: trustfit::JacSpec::Analytic, ..Default::default() };
/// let r = trustfit::least_squares(&p, &p.problem().x0(), &opts).unwrap();
/// assert!(r.success() && r.cost < 1e-20);
/// ```
#[derive(Debug, Clone)]
pub struct SparseAdapter<P> {
    problem: P,
    pattern: SparsityPattern,
}

impl<P: SparseTestProblem> SparseAdapter<P> {
    /// Wraps a problem and builds the pattern of its Jacobian.
    ///
    /// # Errors
    /// When the problem's structure is inconsistent (an entry out of range).
    ///
    /// ```
    /// use trustfit_problems::{adapter::SparseAdapter, sparse::BroydenTridiagonal};
    /// assert_eq!(SparseAdapter::new(BroydenTridiagonal::new(4)).unwrap().pattern().nnz(), 10);
    /// ```
    pub fn new(problem: P) -> Result<Self, trustfit::Error> {
        let pattern = SparsityPattern::from_entries(problem.m(), problem.n(), problem.sparsity())?;
        Ok(Self { problem, pattern })
    }

    /// The wrapped problem.
    ///
    /// ```
    /// use trustfit_problems::{adapter::SparseAdapter, sparse::BroydenTridiagonal};
    /// assert_eq!(SparseAdapter::new(BroydenTridiagonal::new(4)).unwrap().problem().n, 4);
    /// ```
    pub fn problem(&self) -> &P {
        &self.problem
    }

    /// The structure of J.
    ///
    /// ```
    /// use trustfit_problems::{adapter::SparseAdapter, sparse::BroydenTridiagonal};
    /// let p = SparseAdapter::new(BroydenTridiagonal::new(3)).unwrap();
    /// assert_eq!((p.pattern().nrows(), p.pattern().nnz()), (3, 7));
    /// ```
    pub fn pattern(&self) -> &SparsityPattern {
        &self.pattern
    }
}

impl<P: SparseTestProblem> Residuals for SparseAdapter<P> {
    fn num_residuals(&self) -> usize {
        self.problem.m()
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        checked_residuals(&self.problem, x, f)
    }

    fn has_jacobian(&self) -> bool {
        true
    }

    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        Some(self.pattern.clone())
    }

    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        check_len("x", x.len(), self.problem.n())?;
        check_len("values", values.len(), self.pattern.nnz())?;
        self.problem.jacobian_values(x, values);
        Ok(())
    }

    fn has_auto(&self) -> bool {
        self.problem.has_auto()
    }

    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &trustfit::Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError> {
        generic_derivatives(&self.problem, x, seeding, out)
    }

    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        Some(self)
    }
}

/// A test problem's automatic derivatives, or the error that says it has none (both
/// adapters forward them the same way).
fn generic_derivatives<P: TestProblem + ?Sized>(
    problem: &P,
    x: &[f64],
    seeding: &trustfit::Seeding<'_>,
    out: &mut [f64],
) -> Result<(), CallbackError> {
    problem
        .auto_derivatives(x, seeding, out)
        .unwrap_or_else(|| Err(CallbackError::new("this test problem is not generic")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::minpack;

    #[test]
    fn forwards_residuals_and_jacobian() {
        let cases = minpack::cases();
        let rosen = &cases[6];
        let p = ProblemAdapter::new(rosen);
        assert_eq!(p.num_residuals(), 2);
        assert!(p.has_jacobian());
        assert!(p.as_sync().is_some());
        let mut f = [0.0; 2];
        p.residuals(&[-1.2, 1.0], &mut f).unwrap();
        assert!((f[0] + 4.4).abs() < 1e-12 && (f[1] - 2.2).abs() < 1e-12);
        let mut j = [0.0; 4];
        p.jacobian(&[-1.2, 1.0], &mut j).unwrap();
        // f0 = 10 (x1 - x0²): d/dx0 = -20 x0, d/dx1 = 10; f1 = 1 - x0
        assert_eq!(j, [24.0, 10.0, -1.0, 0.0]);
        assert!((p.cost(&[-1.2, 1.0]) - 12.1).abs() < 1e-12);
    }

    #[test]
    fn wrong_lengths_are_errors_not_panics() {
        let cases = minpack::cases();
        let p = ProblemAdapter::new(&cases[6]);
        let mut f = [0.0; 2];
        assert!(p.residuals(&[1.0], &mut f).is_err());
        let mut f3 = [0.0; 3];
        assert!(p.residuals(&[1.0, 1.0], &mut f3).is_err());
        let mut j = [0.0; 3];
        assert!(p.jacobian(&[1.0, 1.0], &mut j).is_err());
        assert!(p.cost(&[1.0]).is_nan());
        let s = SparseAdapter::new(BroydenTridiagonal::new(3)).unwrap();
        assert!(s.residuals(&[1.0], &mut [0.0; 3]).is_err());
        assert!(s.sparse_jacobian(&[1.0; 3], &mut [0.0; 6]).is_err());
    }

    #[test]
    fn sparse_jacobian_matches_the_dense_one() {
        let p = SparseAdapter::new(BroydenTridiagonal::new(7)).unwrap();
        let x: Vec<f64> = (0..7).map(|i| 0.3 * i as f64 - 1.0).collect();
        let mut values = vec![0.0; p.pattern().nnz()];
        p.sparse_jacobian(&x, &mut values).unwrap();
        let a = trustfit::CsrMatrix::new(p.pattern().clone(), values).unwrap();
        let mut dense = vec![0.0; 49];
        p.problem().jacobian(&x, &mut dense);
        assert_eq!(a.to_dense(), dense);
    }
}
