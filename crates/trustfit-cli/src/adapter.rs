//! Bridges the test problems of `trustfit-problems` to the solver's [`Residuals`] trait.

use trustfit::{CallbackError, Residuals};
use trustfit_problems::TestProblem;

/// Any [`TestProblem`] as a [`Residuals`] with its analytic Jacobian.
///
/// The test problems fill row-major `m × n` Jacobians, the layout
/// [`Residuals::jacobian`] expects, so both calls are forwarded unchanged.
/// Test problems are `Send + Sync`, so the adapter also offers itself for
/// parallel finite differences ([`Residuals::as_sync`]).
///
/// ```
/// use trustfit_cli::adapter::ProblemAdapter;
/// use trustfit_problems::minpack;
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
    pub fn new(inner: &'a dyn TestProblem) -> Self {
        Self { inner }
    }

    /// The wrapped problem.
    pub fn inner(&self) -> &'a dyn TestProblem {
        self.inner
    }

    /// Number of parameters of the wrapped problem.
    pub fn num_params(&self) -> usize {
        self.inner.n()
    }

    /// `½ Σ fᵢ(x)²`, evaluated with the problem's own code (what the peers' harness reports).
    ///
    /// Returns NaN when `x` does not have the problem's number of parameters.
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

impl Residuals for ProblemAdapter<'_> {
    fn num_residuals(&self) -> usize {
        self.inner.m()
    }

    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        check_len("x", x.len(), self.inner.n())?;
        check_len("f", f.len(), self.inner.m())?;
        self.inner.residuals(x, f);
        Ok(())
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

    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        Some(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use trustfit_problems::minpack;

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
    }
}
