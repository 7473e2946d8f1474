//! The problem: residuals `f: Rⁿ → Rᵐ`, optionally a Jacobian and a complex extension.
//!
//! Implement [`Residuals`] for your own type, or wrap closures with [`from_fn`].
//! Every call into user code goes through [`Evaluator`], which catches panics and turns
//! them into [`Error::Callback`], so nothing a user writes can unwind through the solver.

use std::panic::{AssertUnwindSafe, catch_unwind};

use num_complex::Complex64;

use crate::autodiff::seeding::Seeding;
use crate::error::{CallbackError, Error};
use crate::linalg::sparse::SparsityPattern;

/// A residual function `f: Rⁿ → Rᵐ` with a fixed number `m` of residuals.
///
/// Only [`num_residuals`](Residuals::num_residuals) and [`residuals`](Residuals::residuals)
/// are required. Provide [`jacobian`](Residuals::jacobian) for `jac = "analytic"` and
/// [`residuals_complex`](Residuals::residuals_complex) for `jac = "cs"`.
///
/// ```
/// use trustfit::{Residuals, CallbackError};
/// struct Line { t: Vec<f64>, y: Vec<f64> }
/// impl Residuals for Line {
///     fn num_residuals(&self) -> usize { self.t.len() }
///     fn residuals(&self, p: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
///         for i in 0..self.t.len() { f[i] = p[0] + p[1] * self.t[i] - self.y[i]; }
///         Ok(())
///     }
/// }
/// let line = Line { t: vec![0.0, 1.0, 2.0], y: vec![1.0, 3.0, 5.0] };
/// let report = trustfit::least_squares(&line, &[0.0, 0.0], &Default::default()).unwrap();
/// assert!((report.x[1] - 2.0).abs() < 1e-8);
/// ```
pub trait Residuals {
    /// The number of residuals `m`.
    fn num_residuals(&self) -> usize;

    /// Writes `f(x)` into `f` (length `m`).
    ///
    /// # Errors
    /// Any error the model wants to report; the solve stops and returns it.
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError>;

    /// True when [`jacobian`](Residuals::jacobian) is implemented.
    fn has_jacobian(&self) -> bool {
        false
    }

    /// Writes the Jacobian at `x` into `jac`, row-major `m × n`: `jac[i*n + j] = ∂fᵢ/∂xⱼ`.
    ///
    /// # Errors
    /// Any error the model wants to report; the default says it is not implemented.
    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        let _ = (x, jac);
        Err(CallbackError::new(
            "this problem has no analytic Jacobian: use a finite-difference `jac`",
        ))
    }

    /// Residuals and Jacobian at the same `x` together, for models that share work
    /// between them (the default calls [`residuals`](Residuals::residuals) then
    /// [`jacobian`](Residuals::jacobian)). The lock-step batch solver calls this.
    ///
    /// # Errors
    /// As [`residuals`](Residuals::residuals) and [`jacobian`](Residuals::jacobian).
    ///
    /// ```
    /// use trustfit::Residuals;
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] * x[0])
    ///     .with_jacobian(|x: &[f64], j: &mut [f64]| j[0] = 2.0 * x[0]);
    /// let (mut f, mut j) = ([0.0], [0.0]);
    /// p.residuals_and_jacobian(&[3.0], &mut f, &mut j).unwrap();
    /// assert_eq!((f[0], j[0]), (9.0, 6.0));
    /// ```
    fn residuals_and_jacobian(
        &self,
        x: &[f64],
        f: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), CallbackError> {
        self.residuals(x, f)?;
        self.jacobian(x, jac)
    }

    /// The structure of the analytic Jacobian when it is sparse (`None`, the default,
    /// means dense or none). With a pattern, solvers keep J in CSR form, call
    /// [`sparse_jacobian`](Residuals::sparse_jacobian) instead of
    /// [`jacobian`](Residuals::jacobian), and choose `tr_solver = 'lsmr'` by default.
    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        None
    }

    /// Writes the values of the sparse Jacobian at `x`, one per entry of
    /// [`jacobian_sparsity`](Residuals::jacobian_sparsity), in its (row-major) order.
    ///
    /// # Errors
    /// Any error the model wants to report; the default says it is not implemented.
    ///
    /// ```
    /// use trustfit::{CallbackError, Residuals, SparsityPattern};
    /// /// f_i = x_i² − i: a diagonal Jacobian.
    /// struct Squares(usize);
    /// impl Residuals for Squares {
    ///     fn num_residuals(&self) -> usize { self.0 }
    ///     fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
    ///         for i in 0..self.0 { f[i] = x[i] * x[i] - i as f64; }
    ///         Ok(())
    ///     }
    ///     fn has_jacobian(&self) -> bool { true }
    ///     fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
    ///         SparsityPattern::from_entries(self.0, self.0, (0..self.0).map(|i| (i, i))).ok()
    ///     }
    ///     fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
    ///         for i in 0..self.0 { values[i] = 2.0 * x[i]; }
    ///         Ok(())
    ///     }
    /// }
    /// let opts = trustfit::Options { jac: trustfit::JacSpec::Analytic, ..Default::default() };
    /// let r = trustfit::least_squares(&Squares(5), &[1.0; 5], &opts).unwrap();
    /// assert!((r.x[4] - 2.0).abs() < 1e-6 && r.jac_sparse.is_some());
    /// assert_eq!(r.tr_solver, Some(trustfit::TrSolver::Lsmr));
    /// ```
    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        let _ = (x, values);
        Err(CallbackError::new(
            "this problem declares no sparse Jacobian: implement `Residuals::sparse_jacobian`",
        ))
    }

    /// A matrix-free Jacobian (scipy's `LinearOperator`): products with J(x) instead
    /// of its entries. With `jac = Analytic` and no
    /// [`jacobian_sparsity`](Residuals::jacobian_sparsity), solvers then never form J;
    /// they need `tr_solver = Lsmr` (the default for them) and a method other than lm,
    /// and `x_scale = Jac` is refused (column norms would need every column of J).
    /// Implement [`JacobianProducts`] on your type and return `Some(self)`.
    fn jacobian_products(&self) -> Option<&dyn JacobianProducts> {
        None
    }

    /// True when [`residuals_complex`](Residuals::residuals_complex) is implemented.
    fn has_complex(&self) -> bool {
        false
    }

    /// Evaluates the residuals at complex `x`; needed by the complex-step Jacobian.
    ///
    /// # Errors
    /// Any error the model wants to report; the default says it is not implemented.
    fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        let _ = (x, f);
        Err(CallbackError::new(
            "this problem has no complex extension: `jac='cs'` needs `residuals_complex`",
        ))
    }

    /// True when [`auto_derivatives`](Residuals::auto_derivatives) is implemented
    /// (by [`Auto`](crate::Auto)): enables `jac = JacSpec::Auto`.
    fn has_auto(&self) -> bool {
        false
    }

    /// Forward-mode derivatives at `x` along the directions of `seeding`:
    /// `out[i*w + d] = Σⱼ ∂fᵢ/∂xⱼ` over the columns `j` seeded with direction `d`
    /// (`w = seeding.width()`, `out` of length `m·w`). [`Auto`](crate::Auto) implements
    /// it for models written once over [`Real`](crate::Real).
    ///
    /// # Errors
    /// Any error the model wants to report; the default says it is not implemented.
    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError> {
        let _ = (x, seeding, out);
        Err(CallbackError::new(
            "this problem has no generic residuals: `jac = JacSpec::Auto` needs `trustfit::Auto`",
        ))
    }

    /// The problem as a thread-safe object, when it is one; enables parallel finite
    /// differences (`workers`). The default is `None` (serial).
    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        None
    }
}

impl<P: Residuals + ?Sized> Residuals for &P {
    fn num_residuals(&self) -> usize {
        (**self).num_residuals()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        (**self).residuals(x, f)
    }
    fn has_jacobian(&self) -> bool {
        (**self).has_jacobian()
    }
    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        (**self).jacobian(x, jac)
    }
    fn residuals_and_jacobian(
        &self,
        x: &[f64],
        f: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), CallbackError> {
        (**self).residuals_and_jacobian(x, f, jac)
    }
    fn has_complex(&self) -> bool {
        (**self).has_complex()
    }
    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        (**self).jacobian_sparsity()
    }
    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        (**self).sparse_jacobian(x, values)
    }
    fn jacobian_products(&self) -> Option<&dyn JacobianProducts> {
        (**self).jacobian_products()
    }
    fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        (**self).residuals_complex(x, f)
    }
    fn has_auto(&self) -> bool {
        (**self).has_auto()
    }
    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError> {
        (**self).auto_derivatives(x, seeding, out)
    }
    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        (**self).as_sync()
    }
}

/// A Jacobian known only through its products with vectors (matrix-free), for
/// problems too large or too implicit to store J: adjoint PDE solves, convolutions,
/// operators from other libraries. See [`Residuals::jacobian_products`].
///
/// The solver calls [`linearize`](JacobianProducts::linearize) once at every point
/// where it needs J (counted in `njev`), then any number of products at that point.
///
/// ```
/// use trustfit::{CallbackError, JacobianProducts, Options, Residuals, TrSolver};
/// // f_i = x_i² − (i+1): J = diag(2x), applied without storing it.
/// struct Roots(usize);
/// impl Residuals for Roots {
///     fn num_residuals(&self) -> usize { self.0 }
///     fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
///         for (i, (f, x)) in f.iter_mut().zip(x).enumerate() { *f = x * x - (i + 1) as f64; }
///         Ok(())
///     }
///     fn jacobian_products(&self) -> Option<&dyn JacobianProducts> { Some(self) }
/// }
/// impl JacobianProducts for Roots {
///     fn jvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
///         for ((o, x), v) in out.iter_mut().zip(x).zip(v) { *o = 2.0 * x * v; }
///         Ok(())
///     }
///     fn vjp(&self, x: &[f64], u: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
///         self.jvp(x, u, out) // J is symmetric here
///     }
/// }
/// let opts = Options { jac: trustfit::JacSpec::Analytic, ..Default::default() };
/// let r = trustfit::least_squares(&Roots(3), &[1.0; 3], &opts).unwrap();
/// assert_eq!(r.tr_solver, Some(TrSolver::Lsmr));
/// assert!((r.x[2] - 3f64.sqrt()).abs() < 1e-6);
/// ```
pub trait JacobianProducts {
    /// Called once at each point `x` where the solver needs J(x), before products at
    /// it: the place to evaluate what the products share. The default does nothing.
    ///
    /// # Errors
    /// Any error the model wants to report; the solve stops and returns it.
    fn linearize(&self, x: &[f64]) -> Result<(), CallbackError> {
        let _ = x;
        Ok(())
    }

    /// `out = J(x) v` (`v` of length n, `out` of length m).
    ///
    /// # Errors
    /// Any error the model wants to report; the solve stops and returns it.
    fn jvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> Result<(), CallbackError>;

    /// `out = J(x)ᵀ u` (`u` of length m, `out` of length n).
    ///
    /// # Errors
    /// Any error the model wants to report; the solve stops and returns it.
    fn vjp(&self, x: &[f64], u: &[f64], out: &mut [f64]) -> Result<(), CallbackError>;
}

/// What a user closure may return: nothing, or a `Result` whose error converts into
/// [`CallbackError`].
#[diagnostic::on_unimplemented(
    message = "a residual or Jacobian closure must return `()` or `Result<(), E>`, not `{Self}`",
    note = "a closure that only panics is inferred to return `!`: write `|x, f| -> () {{ panic!(..) }}`"
)]
pub trait CallbackResult {
    /// Normalises to `Result<(), CallbackError>`.
    fn into_result(self) -> Result<(), CallbackError>;
}

impl CallbackResult for () {
    fn into_result(self) -> Result<(), CallbackError> {
        Ok(())
    }
}

impl<E: Into<CallbackError>> CallbackResult for Result<(), E> {
    fn into_result(self) -> Result<(), CallbackError> {
        self.map_err(Into::into)
    }
}

/// Marker: no analytic Jacobian / no complex extension.
#[derive(Debug, Clone, Copy, Default)]
pub struct Absent;

/// Residuals (and optionally a Jacobian and complex residuals) given as closures.
/// Built by [`from_fn`].
#[derive(Debug, Clone)]
pub struct FnProblem<F, J = Absent, C = Absent> {
    m: usize,
    fun: F,
    jac: J,
    complex: C,
}

/// Wraps a residual closure `|x, f| { … }` that fills `f` (length `m`).
///
/// ```
/// let rosen = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| {
///     f[0] = 10.0 * (x[1] - x[0] * x[0]);
///     f[1] = 1.0 - x[0];
/// });
/// let r = trustfit::least_squares(&rosen, &[-2.0, 1.0], &Default::default()).unwrap();
/// assert!((r.x[0] - 1.0).abs() < 1e-6 && r.status.is_success());
/// ```
pub fn from_fn<F, R>(m: usize, fun: F) -> FnProblem<F>
where
    F: Fn(&[f64], &mut [f64]) -> R,
    R: CallbackResult,
{
    FnProblem {
        m,
        fun,
        jac: Absent,
        complex: Absent,
    }
}

impl<F, J, C> FnProblem<F, J, C> {
    /// Adds an analytic Jacobian closure writing row-major `m × n`.
    ///
    /// ```
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] * x[0] - 2.0)
    ///     .with_jacobian(|x: &[f64], j: &mut [f64]| j[0] = 2.0 * x[0]);
    /// let opts = trustfit::Options { jac: trustfit::JacSpec::Analytic, ..Default::default() };
    /// let r = trustfit::least_squares(&p, &[1.0], &opts).unwrap();
    /// assert!((r.x[0] - 2f64.sqrt()).abs() < 1e-8);
    /// ```
    pub fn with_jacobian<G, R>(self, jac: G) -> FnProblem<F, G, C>
    where
        G: Fn(&[f64], &mut [f64]) -> R,
        R: CallbackResult,
    {
        FnProblem {
            m: self.m,
            fun: self.fun,
            jac,
            complex: self.complex,
        }
    }

    /// Adds the residuals for complex arguments, enabling `jac = "cs"`.
    ///
    /// ```
    /// use num_complex::Complex64;
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0].exp() - 2.0)
    ///     .with_complex(|x: &[Complex64], f: &mut [Complex64]| f[0] = x[0].exp() - 2.0);
    /// let opts = trustfit::Options { jac: trustfit::JacSpec::ComplexStep, ..Default::default() };
    /// let r = trustfit::least_squares(&p, &[0.0], &opts).unwrap();
    /// assert!((r.x[0] - 2f64.ln()).abs() < 1e-8);
    /// ```
    pub fn with_complex<G, R>(self, complex: G) -> FnProblem<F, J, G>
    where
        G: Fn(&[Complex64], &mut [Complex64]) -> R,
        R: CallbackResult,
    {
        FnProblem {
            m: self.m,
            fun: self.fun,
            jac: self.jac,
            complex,
        }
    }

    /// Marks the problem thread-safe so finite differences may run on `workers` threads.
    ///
    /// ```
    /// let p = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| { f[0] = x[0] - 1.0; f[1] = x[1] + 1.0; })
    ///     .thread_safe();
    /// let opts = trustfit::Options { workers: Some(2), ..Default::default() };
    /// let r = trustfit::least_squares(&p, &[0.0, 0.0], &opts).unwrap();
    /// assert!((r.x[1] + 1.0).abs() < 1e-8);
    /// ```
    pub fn thread_safe(self) -> ThreadSafe<Self>
    where
        Self: Residuals + Sync,
    {
        ThreadSafe(self)
    }
}

/// Dispatch for the optional Jacobian closure of [`FnProblem`].
pub trait MaybeJacobian {
    /// Whether a Jacobian closure is present.
    const PRESENT: bool;
    /// Calls it.
    ///
    /// # Errors
    /// The closure's error.
    fn call(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError>;
}

impl MaybeJacobian for Absent {
    const PRESENT: bool = false;
    fn call(&self, _: &[f64], _: &mut [f64]) -> Result<(), CallbackError> {
        Err(CallbackError::new(
            "this problem has no analytic Jacobian: use a finite-difference `jac`",
        ))
    }
}

impl<G: Fn(&[f64], &mut [f64]) -> R, R: CallbackResult> MaybeJacobian for G {
    const PRESENT: bool = true;
    fn call(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        self(x, jac).into_result()
    }
}

/// Dispatch for the optional complex closure of [`FnProblem`].
pub trait MaybeComplex {
    /// Whether a complex closure is present.
    const PRESENT: bool;
    /// Calls it.
    ///
    /// # Errors
    /// The closure's error.
    fn call(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError>;
}

impl MaybeComplex for Absent {
    const PRESENT: bool = false;
    fn call(&self, _: &[Complex64], _: &mut [Complex64]) -> Result<(), CallbackError> {
        Err(CallbackError::new(
            "this problem has no complex extension: `jac='cs'` needs `residuals_complex`",
        ))
    }
}

impl<G: Fn(&[Complex64], &mut [Complex64]) -> R, R: CallbackResult> MaybeComplex for G {
    const PRESENT: bool = true;
    fn call(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        self(x, f).into_result()
    }
}

impl<F, R, J, C> Residuals for FnProblem<F, J, C>
where
    F: Fn(&[f64], &mut [f64]) -> R,
    R: CallbackResult,
    J: MaybeJacobian,
    C: MaybeComplex,
{
    fn num_residuals(&self) -> usize {
        self.m
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        (self.fun)(x, f).into_result()
    }
    fn has_jacobian(&self) -> bool {
        J::PRESENT
    }
    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        self.jac.call(x, jac)
    }
    fn has_complex(&self) -> bool {
        C::PRESENT
    }
    fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        self.complex.call(x, f)
    }
}

/// A problem declared safe to evaluate from several threads at once (see
/// [`FnProblem::thread_safe`]).
#[derive(Debug, Clone)]
pub struct ThreadSafe<P>(pub P);

impl<P: Residuals + Sync> Residuals for ThreadSafe<P> {
    fn num_residuals(&self) -> usize {
        self.0.num_residuals()
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        self.0.residuals(x, f)
    }
    fn has_jacobian(&self) -> bool {
        self.0.has_jacobian()
    }
    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        self.0.jacobian(x, jac)
    }
    fn residuals_and_jacobian(
        &self,
        x: &[f64],
        f: &mut [f64],
        jac: &mut [f64],
    ) -> Result<(), CallbackError> {
        self.0.residuals_and_jacobian(x, f, jac)
    }
    fn has_complex(&self) -> bool {
        self.0.has_complex()
    }
    fn jacobian_sparsity(&self) -> Option<SparsityPattern> {
        self.0.jacobian_sparsity()
    }
    fn sparse_jacobian(&self, x: &[f64], values: &mut [f64]) -> Result<(), CallbackError> {
        self.0.sparse_jacobian(x, values)
    }
    fn jacobian_products(&self) -> Option<&dyn JacobianProducts> {
        self.0.jacobian_products()
    }
    fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        self.0.residuals_complex(x, f)
    }
    fn has_auto(&self) -> bool {
        self.0.has_auto()
    }
    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &Seeding<'_>,
        out: &mut [f64],
    ) -> Result<(), CallbackError> {
        self.0.auto_derivatives(x, seeding, out)
    }
    fn as_sync(&self) -> Option<&(dyn Residuals + Sync)> {
        Some(&self.0)
    }
}

/// Calls user code with panics caught, so they surface as [`Error::Callback`].
pub(crate) fn guarded<T>(
    what: &str,
    call: impl FnOnce() -> Result<T, CallbackError>,
) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::from(e)),
        Err(panic) => Err(Error::from(CallbackError::from_panic(what, panic))),
    }
}

/// Evaluates residuals with panics caught.
pub(crate) fn eval_residuals<P: Residuals + ?Sized>(
    p: &P,
    x: &[f64],
    f: &mut [f64],
) -> Result<(), Error> {
    guarded("residual function", || p.residuals(x, f))
}

/// Evaluates the analytic Jacobian with panics caught.
pub(crate) fn eval_jacobian<P: Residuals + ?Sized>(
    p: &P,
    x: &[f64],
    jac: &mut [f64],
) -> Result<(), Error> {
    guarded("Jacobian function", || p.jacobian(x, jac))
}

/// Evaluates the analytic sparse Jacobian's values with panics caught.
pub(crate) fn eval_sparse_jacobian<P: Residuals + ?Sized>(
    p: &P,
    x: &[f64],
    values: &mut [f64],
) -> Result<(), Error> {
    guarded("Jacobian function", || p.sparse_jacobian(x, values))
}

/// Evaluates forward-mode derivatives with panics caught.
pub(crate) fn eval_auto<P: Residuals + ?Sized>(
    p: &P,
    x: &[f64],
    seeding: &Seeding<'_>,
    out: &mut [f64],
) -> Result<(), Error> {
    guarded("residual function (automatic derivatives)", || {
        p.auto_derivatives(x, seeding, out)
    })
}
