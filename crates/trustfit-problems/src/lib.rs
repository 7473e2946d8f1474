//! Benchmark and test problems for trustfit (a Rust reimplementation of
//! scipy's `least_squares`).
//!
//! Three suites, each in its own module, all behind one trait,
//! [`TestProblem`] (residuals plus an analytic, row-major Jacobian):
//!
//! * [`minpack`]: the 18 MINPACK-1 problems of Moré, Garbow & Hillstrom
//!   (1981) as the 53 cases of the MINPACK-1 `lmder` test driver, with
//!   published minima and the driver's reference norms.
//! * [`nist`]: the 27 NIST StRD nonlinear regression datasets, read from
//!   the original `.dat` files at run time, with their models.
//! * [`sparse`]: the Broyden tridiagonal system (scipy's sparse example).
//! * [`seeds`]: the data of the spec's robust exponential fit.
//!
//! [`scalar`] is the arithmetic of residual functions generic over `f64`,
//! duals and complex numbers; [`data`] finds the shared data folder;
//! [`check`] compares an analytic Jacobian with central differences;
//! [`adapter`] makes any problem a `trustfit::Residuals` (dense or sparse
//! analytic Jacobian).
//!
//! Names of problems and starts ("rosenbrock_n2_m2", "10x0", "start1",
//! "broyden_tridiagonal_n10000") are the ones used by the peer benchmarks
//! (`shared/bench-peers`), so results can be joined case by case.
//!
//! ```
//! use trustfit_problems::{TestProblem, minpack};
//!
//! let cases = minpack::cases();
//! let rosen = &cases[6];
//! assert_eq!(rosen.label(), "rosenbrock_n2_m2");
//! // sum f^2 at (-1.2, 1): f = (-4.4, 2.2)
//! assert!((rosen.sum_of_squares(&rosen.x0) - 24.2).abs() < 1e-12);
//! ```
#![warn(missing_docs)]

/// `as_str` (the name the Python reference scripts print) and `Display` for a fieldless enum,
/// from one `Variant => "name"` list.
macro_rules! named {
    ($(#[$doc:meta])* $ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            $(#[$doc])*
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod adapter;
pub mod ba;
pub mod check;
pub mod data;
pub mod gauss2d;
pub mod minpack;
pub mod nist;
pub mod scalar;
pub mod seeds;
pub mod sparse;

pub use data::DataError;

/// A least-squares test problem with an analytic Jacobian.
///
/// The objective is `sum_i f_i(x)^2` (scipy's `cost` is half of that).
/// Implementations never allocate in [`residuals`](TestProblem::residuals)
/// or [`jacobian`](TestProblem::jacobian), so they can sit in a timed loop.
///
/// ```
/// use trustfit_problems::{TestProblem, sparse::BroydenTridiagonal};
///
/// let p = BroydenTridiagonal { n: 3 };
/// let x = p.x0();
/// let mut f = vec![0.0; p.m()];
/// p.residuals(&x, &mut f);
/// // (3 - (-1))(-1) + 1 - x_{i-1} - 2 x_{i+1}, with zeros outside
/// assert_eq!(f, vec![-1.0, 0.0, -2.0]);
/// let mut jac = vec![0.0; p.m() * p.n()];
/// p.jacobian(&x, &mut jac);
/// assert_eq!(&jac[0..3], &[5.0, -2.0, 0.0]); // row 0: d f_0 / d x_j
/// ```
pub trait TestProblem: Send + Sync {
    /// Number of parameters.
    fn n(&self) -> usize;
    /// Number of residuals.
    fn m(&self) -> usize;
    /// Residuals at `x` (`x.len() == n`) into `f` (`f.len() == m`).
    fn residuals(&self, x: &[f64], f: &mut [f64]);
    /// Jacobian at `x` into `jac`, row-major m×n: `jac[i*n + j] = d f_i / d x_j`.
    fn jacobian(&self, x: &[f64], jac: &mut [f64]);

    /// True when [`auto_derivatives`](TestProblem::auto_derivatives) gives derivatives
    /// (the problem is written generically).
    ///
    /// ```
    /// use trustfit_problems::{TestProblem, sparse::BroydenTridiagonal};
    /// assert!(BroydenTridiagonal::new(3).has_auto());
    /// ```
    fn has_auto(&self) -> bool {
        false
    }

    /// Exact Jacobian columns by automatic differentiation, for problems written
    /// generically ([`trustfit::AutoResiduals`]): `None` (the default) when the problem
    /// is not, else what [`trustfit::Residuals::auto_derivatives`] gives. Lets
    /// [`adapter::ProblemAdapter`] (and so `trustfit bench --jac auto`) solve with
    /// `JacSpec::Auto`.
    ///
    /// ```
    /// use trustfit::Seeding;
    /// use trustfit_problems::{TestProblem, sparse::BroydenTridiagonal};
    /// let mut j = [0.0; 1];
    /// let r = BroydenTridiagonal::new(1).auto_derivatives(&[1.0], &Seeding::new(&[0], 1), &mut j);
    /// assert!(r.is_some_and(|r| r.is_ok()) && j[0] == 1.0);
    /// ```
    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &trustfit::Seeding<'_>,
        out: &mut [f64],
    ) -> Option<Result<(), trustfit::CallbackError>> {
        let _ = (x, seeding, out);
        None
    }

    /// `sum_i f_i(x)^2` (allocates a residual vector; for checks, not hot loops).
    fn sum_of_squares(&self, x: &[f64]) -> f64 {
        let mut f = vec![0.0; self.m()];
        self.residuals(x, &mut f);
        f.iter().map(|v| v * v).sum()
    }

    /// Euclidean norm `||f(x)||` (what the MINPACK driver prints).
    fn residual_norm(&self, x: &[f64]) -> f64 {
        self.sum_of_squares(x).sqrt()
    }
}
