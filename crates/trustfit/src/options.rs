//! Solver options with scipy 1.17's defaults, and their validation.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{CallbackError, Error};

/// Machine epsilon of `f64`, the threshold scipy compares tolerances against.
pub const EPS: f64 = f64::EPSILON;

/// The trust-region algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Trust Region Reflective (default): bounds handled by reflection and scaling.
    #[default]
    Trf,
    /// Dogleg in a rectangular trust region; bounds become part of the box.
    Dogbox,
    /// Levenberg–Marquardt (MINPACK's LMDER); no bounds, linear loss only, m ≥ n.
    Lm,
    /// Beyond scipy: Levenberg–Marquardt for large sparse problems, iterated as Ceres
    /// does (damping from the gain ratio, Marquardt's diagonal), each step exact from
    /// the sparse normal equations (`tr_solver` 'schur' — bundle adjustment — or
    /// 'cholesky'). Sparse J, no bounds; any loss.
    SparseLm,
}

impl Method {
    /// Every method, in scipy's order: the list front ends offer.
    ///
    /// ```
    /// let names: Vec<&str> = trustfit::Method::ALL.iter().map(|m| m.as_str()).collect();
    /// assert_eq!(names, ["trf", "dogbox", "lm", "sparse_lm"]);
    /// ```
    pub const ALL: [Method; 4] = [Method::Trf, Method::Dogbox, Method::Lm, Method::SparseLm];
}
/// How the Jacobian is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JacSpec {
    /// Forward differences (default), `n` extra evaluations per Jacobian.
    #[default]
    TwoPoint,
    /// Central differences (one-sided near bounds), `2n` evaluations, more accurate.
    ThreePoint,
    /// Complex step: exact to rounding; needs [`Residuals::residuals_complex`](crate::Residuals::residuals_complex).
    ComplexStep,
    /// The problem's own [`Residuals::jacobian`](crate::Residuals::jacobian).
    Analytic,
    /// Exact, by forward-mode automatic differentiation of residuals written once over
    /// [`Real`](crate::Real) ([`Auto`](crate::Auto)): one pass per 16 columns, or per 16
    /// column groups of `jac_sparsity`. Not a scipy value (trustfit's "auto").
    Auto,
}

impl JacSpec {
    /// The difference schemes (scipy's string values of `jac`).
    ///
    /// ```
    /// assert_eq!(trustfit::JacSpec::SCHEMES[2].as_str(), "cs");
    /// ```
    pub const SCHEMES: [JacSpec; 3] =
        [JacSpec::TwoPoint, JacSpec::ThreePoint, JacSpec::ComplexStep];

    /// True for the difference schemes: they evaluate the residuals around `x`, so they
    /// need `f(x)`, may use `workers` and `diff_step`; analytic and automatic
    /// Jacobians do not.
    ///
    /// ```
    /// use trustfit::JacSpec;
    /// assert!(JacSpec::TwoPoint.is_differenced() && !JacSpec::Auto.is_differenced());
    /// ```
    pub fn is_differenced(self) -> bool {
        matches!(
            self,
            JacSpec::TwoPoint | JacSpec::ThreePoint | JacSpec::ComplexStep
        )
    }
}
/// How the trust-region subproblem is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrSolver {
    /// Dense SVD (trf) or least-squares solve (dogbox): exact, O(m n²) per iteration.
    Exact,
    /// LSMR on the (sparse or operator) Jacobian: for large problems.
    Lsmr,
    /// Beyond scipy (trf, sparse J): exact trust-region steps from sparse Cholesky
    /// factorizations of the damped normal equations, AMD-ordered. Accurate where
    /// lsmr is inexact; costs a factorization per trial radius.
    Cholesky,
    /// Beyond scipy (trf, sparse J): the same exact steps as `Cholesky`, factored by
    /// first eliminating many small column blocks that share no row (found from J's
    /// pattern: bundle adjustment's points) and then a dense Cholesky of the Schur
    /// complement on the other columns (the cameras; at most 4000 of them).
    Schur,
    /// Beyond scipy (`method='sparse_lm'` only): the same elimination, the Schur
    /// complement never formed — conjugate gradients with products through J and a
    /// block-Jacobi preconditioner on its diagonal blocks (Ceres' ITERATIVE_SCHUR),
    /// for reduced systems too large to factor densely. Inexact steps.
    IterativeSchur,
}

impl TrSolver {
    /// Every trust-region solver: scipy's two, then trustfit's sparse exact ones.
    ///
    /// ```
    /// assert_eq!(trustfit::TrSolver::ALL.len(), 5);
    /// ```
    pub const ALL: [TrSolver; 5] = [
        TrSolver::Exact,
        TrSolver::Lsmr,
        TrSolver::Cholesky,
        TrSolver::Schur,
        TrSolver::IterativeSchur,
    ];
}
/// `as_str`, `Display` and `FromStr` from one table of scipy's names, so each name is
/// written once; an unknown name gets scipy's `ValueError` message for the option.
macro_rules! scipy_names {
    ($t:ident, $option:literal, $message:literal,
     { $first:ident => $first_name:literal $(, $v:ident => $s:literal $(| $alias:literal)*)* $(,)? }) => {
        impl $t {
            #[doc = concat!("scipy's name of the value (`FromStr` parses it back).\n\n```\n",
                "assert_eq!(trustfit::", stringify!($t), "::", stringify!($first),
                ".as_str(), \"", $first_name, "\");\n```")]
            pub fn as_str(self) -> &'static str {
                match self {
                    $t::$first => $first_name,
                    $($t::$v => $s,)*
                }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = Error;
            #[doc = concat!("Parses scipy's names.\n\n```\n",
                "let v: trustfit::", stringify!($t), " = \"", $first_name, "\".parse().unwrap();\n",
                "assert_eq!(v, trustfit::", stringify!($t), "::", stringify!($first), ");\n",
                "assert!(\"?\".parse::<trustfit::", stringify!($t), ">().is_err());\n```")]
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $first_name => Ok($t::$first),
                    $($s $(| $alias)* => Ok($t::$v),)*
                    _ => Err(Error::option($option, $message)),
                }
            }
        }
    };
}

scipy_names!(
    Method,
    "method",
    "must be 'trf', 'dogbox' or 'lm'.",
    {
        Trf => "trf",
        Dogbox => "dogbox",
        Lm => "lm",
        SparseLm => "sparse_lm",
    }
);

scipy_names!(JacSpec, "jac", "must be '2-point', '3-point', 'cs' or callable.", {
    TwoPoint => "2-point",
    ThreePoint => "3-point",
    ComplexStep => "cs",
    Analytic => "analytic" | "callable",
    Auto => "auto",
});

scipy_names!(
    TrSolver,
    "tr_solver",
    "must be None, 'exact' or 'lsmr'. trustfit also accepts 'cholesky', 'schur' and 'iterative_schur' (sparse J).",
    {
        Exact => "exact",
        Lsmr => "lsmr",
        Cholesky => "cholesky",
        Schur => "schur",
        IterativeSchur => "iterative_schur",
    }
);

/// Variable scaling: the trust region is `‖p / x_scale‖ ≤ Δ`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum XScale {
    /// scipy 1.17's default: 1 for trf and dogbox, [`XScale::Jac`] for lm.
    #[default]
    Default,
    /// Inverse column norms of the Jacobian, updated monotonically (Moré's scaling).
    Jac,
    /// Fixed positive scales, one per variable (or one value for all).
    Values(Vec<f64>),
}

/// A user-defined loss: gets `z = (f / f_scale)²` and writes `ρ(z)`, `ρ′(z)`, `ρ″(z)`
/// into the three slices.
pub type LossFn =
    dyn Fn(&[f64], &mut [f64], &mut [f64], &mut [f64]) -> Result<(), CallbackError> + Send + Sync;

/// The loss ρ applied to squared residuals: cost = `½ Σ f_scale² ρ((fᵢ/f_scale)²)`.
#[derive(Clone, Default)]
pub enum Loss {
    /// ρ(z) = z: ordinary least squares (default).
    #[default]
    Linear,
    /// ρ(z) = 2(√(1+z) − 1): smooth approximation of the absolute value.
    SoftL1,
    /// ρ(z) = z for z ≤ 1, else 2√z − 1.
    Huber,
    /// ρ(z) = ln(1 + z): strongly limits outliers.
    Cauchy,
    /// ρ(z) = arctan(z): bounds each residual's contribution.
    Arctan,
    /// A user-defined loss (see [`LossFn`]).
    Custom(Arc<LossFn>),
}

impl Loss {
    /// The built-in losses' names, in scipy's order (each parses with `FromStr`).
    ///
    /// ```
    /// for name in trustfit::Loss::NAMES {
    ///     assert_eq!(name.parse::<trustfit::Loss>().unwrap().as_str(), name);
    /// }
    /// ```
    pub const NAMES: [&'static str; 5] = ["linear", "huber", "soft_l1", "cauchy", "arctan"];

    /// scipy's name ("callable" for a custom loss).
    ///
    /// ```
    /// assert_eq!(trustfit::Loss::SoftL1.as_str(), "soft_l1");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Loss::Linear => "linear",
            Loss::SoftL1 => "soft_l1",
            Loss::Huber => "huber",
            Loss::Cauchy => "cauchy",
            Loss::Arctan => "arctan",
            Loss::Custom(_) => "callable",
        }
    }

    /// A loss from a closure (see [`LossFn`]).
    ///
    /// ```
    /// use trustfit::Loss;
    /// let l1 = Loss::custom(|z, rho, d1, d2| {
    ///     for i in 0..z.len() { rho[i] = z[i]; d1[i] = 1.0; d2[i] = 0.0; }
    ///     Ok(())
    /// });
    /// assert_eq!(l1.as_str(), "callable");
    /// ```
    pub fn custom(
        f: impl Fn(&[f64], &mut [f64], &mut [f64], &mut [f64]) -> Result<(), CallbackError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Loss::Custom(Arc::new(f))
    }
}

impl fmt::Debug for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Loss {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Loss::Custom(a), Loss::Custom(b)) => Arc::ptr_eq(a, b),
            _ => self.as_str() == other.as_str(),
        }
    }
}

impl FromStr for Loss {
    type Err = Error;
    /// ```
    /// assert_eq!("cauchy".parse::<trustfit::Loss>().unwrap(), trustfit::Loss::Cauchy);
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "linear" => Ok(Loss::Linear),
            "soft_l1" => Ok(Loss::SoftL1),
            "huber" => Ok(Loss::Huber),
            "cauchy" => Ok(Loss::Cauchy),
            "arctan" => Ok(Loss::Arctan),
            _ => Err(Error::option(
                "loss",
                "must be one of dict_keys(['linear', 'huber', 'soft_l1', 'cauchy', 'arctan']) or a callable.",
            )),
        }
    }
}

/// Box constraints `lb ≤ x ≤ ub`; ±∞ disables a side.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bounds {
    /// Lower bounds: empty (none), one value (for every variable) or n values.
    pub lb: Vec<f64>,
    /// Upper bounds: empty (none), one value (for every variable) or n values.
    pub ub: Vec<f64>,
}

impl Bounds {
    /// No bounds (the default).
    ///
    /// ```
    /// assert!(trustfit::Bounds::none().is_unbounded());
    /// ```
    pub fn none() -> Self {
        Self::default()
    }

    /// Per-variable bounds.
    ///
    /// ```
    /// let b = trustfit::Bounds::new(vec![0.0, f64::NEG_INFINITY], vec![1.0, 1.5]);
    /// assert!(!b.is_unbounded());
    /// ```
    pub fn new(lb: Vec<f64>, ub: Vec<f64>) -> Self {
        Self { lb, ub }
    }

    /// The same bounds for every variable (scipy's scalar bounds).
    ///
    /// ```
    /// let b = trustfit::Bounds::uniform(0.0, f64::INFINITY);
    /// assert_eq!(b.resolve(3).unwrap().0, vec![0.0; 3]);
    /// ```
    pub fn uniform(lb: f64, ub: f64) -> Self {
        Self {
            lb: vec![lb],
            ub: vec![ub],
        }
    }

    /// True when every bound is infinite.
    ///
    /// ```
    /// assert!(trustfit::Bounds::uniform(f64::NEG_INFINITY, f64::INFINITY).is_unbounded());
    /// ```
    pub fn is_unbounded(&self) -> bool {
        self.lb.iter().all(|&v| v == f64::NEG_INFINITY)
            && self.ub.iter().all(|&v| v == f64::INFINITY)
    }

    /// Broadcasts to `n` variables and checks shapes and `lb < ub`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when a side has neither 0, 1 nor `n` entries;
    /// [`Error::InvalidBounds`] when some `lb ≥ ub` (or a bound is NaN).
    ///
    /// ```
    /// let b = trustfit::Bounds::new(vec![1.0, 0.0], vec![0.5, 1.0]);
    /// assert!(matches!(b.resolve(2), Err(trustfit::Error::InvalidBounds { index: 0, .. })));
    /// ```
    pub fn resolve(&self, n: usize) -> Result<(Vec<f64>, Vec<f64>), Error> {
        let side = |v: &[f64], fill: f64| -> Result<Vec<f64>, Error> {
            match v.len() {
                0 => Ok(vec![fill; n]),
                1 => Ok(vec![v[0]; n]),
                k if k == n => Ok(v.to_vec()),
                k => Err(Error::ShapeMismatch {
                    what: "Inconsistent shapes between bounds and `x0`.".into(),
                    expected: format!("({n},)"),
                    got: format!("({k},)"),
                }),
            }
        };
        let lb = side(&self.lb, f64::NEG_INFINITY)?;
        let ub = side(&self.ub, f64::INFINITY)?;
        for i in 0..n {
            // `!(lb < ub)` also rejects NaN bounds.
            if lb[i] >= ub[i] || lb[i].is_nan() || ub[i].is_nan() {
                return Err(Error::InvalidBounds {
                    index: i,
                    lb: lb[i],
                    ub: ub[i],
                });
            }
        }
        Ok((lb, ub))
    }

    /// Moves `x` strictly inside the bounds as method 'trf' does before its first
    /// evaluation (scipy's `make_strictly_feasible`, rstep 1e-10): a variable on a bound,
    /// or closer to it than 1e-10·max(1, |bound|), moves that far inside. The solver does
    /// this itself; a caller that evaluates f(x0) first (to check it, as scipy's wrapper
    /// does) uses this to evaluate it where the solve starts. A fixed point: applying it
    /// again changes nothing.
    ///
    /// # Errors
    /// As [`resolve`](Self::resolve) for `x.len()` variables.
    ///
    /// ```
    /// let b = trustfit::Bounds::new(vec![0.0, -1.0], vec![1.0, 1.0]);
    /// let mut x = [0.0, 0.5];
    /// b.move_strictly_inside(&mut x).unwrap();
    /// assert_eq!(x, [1e-10, 0.5]);
    /// ```
    pub fn move_strictly_inside(&self, x: &mut [f64]) -> Result<(), Error> {
        let (lb, ub) = self.resolve(x.len())?;
        crate::bounds::make_strictly_feasible(x, &lb, &ub, 1e-10);
        Ok(())
    }
}

/// Options of the `lsmr` trust-region solver (scipy's `tr_options`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrOptions {
    /// LSMR damping (default 0).
    pub damp: f64,
    /// LSMR stopping tolerance on the residual (default 1e-6).
    pub atol: f64,
    /// LSMR stopping tolerance on the right-hand side (default 1e-6).
    pub btol: f64,
    /// LSMR condition-number limit (default 1e8).
    pub conlim: f64,
    /// LSMR iteration limit (default `min(m, n)`).
    pub maxiter: Option<usize>,
    /// trf only: regularise the LSMR system when the Jacobian is rank-deficient (default true).
    pub regularize: bool,
}

impl Default for TrOptions {
    fn default() -> Self {
        Self {
            damp: 0.0,
            atol: 1e-6,
            btol: 1e-6,
            conlim: 1e8,
            maxiter: None,
            regularize: true,
        }
    }
}

/// Keeps [`Options`] open to new fields: build it with `..Default::default()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NonExhaustive(());

/// Every parameter of scipy's `least_squares` except `fun`, `x0` and `callback`.
///
/// `Default` gives scipy 1.17's defaults. Build with struct update syntax:
/// ```
/// let opts = trustfit::Options { ftol: Some(1e-10), ..Default::default() };
/// assert_eq!(opts.xtol, Some(1e-8));
/// assert!(opts.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// How the Jacobian is computed (default `2-point`).
    pub jac: JacSpec,
    /// Box constraints (default none).
    pub bounds: Bounds,
    /// Algorithm (default `trf`).
    pub method: Method,
    /// Relative cost-change tolerance (default 1e-8; `None` disables it).
    pub ftol: Option<f64>,
    /// Relative step tolerance (default 1e-8; `None` disables it).
    pub xtol: Option<f64>,
    /// Gradient (first-order optimality) tolerance (default 1e-8; `None` disables it).
    pub gtol: Option<f64>,
    /// Variable scaling (default: 1 for trf/dogbox, `jac` for lm).
    pub x_scale: XScale,
    /// Robust loss (default linear).
    pub loss: Loss,
    /// Soft margin between inlier and outlier residuals (default 1.0).
    pub f_scale: f64,
    /// Relative finite-difference step, one value or one per variable (default: automatic).
    pub diff_step: Option<Vec<f64>>,
    /// Trust-region subproblem solver (default: `exact` for dense Jacobians).
    pub tr_solver: Option<TrSolver>,
    /// Options of the `lsmr` solver.
    pub tr_options: TrOptions,
    /// Structure of J for finite differences by column groups (scipy's
    /// `jac_sparsity`): J is kept sparse and `tr_solver` defaults to `lsmr`.
    /// Ignored with an analytic Jacobian.
    pub jac_sparsity: Option<crate::linalg::sparse::SparsityPattern>,
    /// How columns are grouped for differences over `jac_sparsity` (default: scipy's
    /// rule; largest-first for `sparse_lm`). `JacSpec::Auto` does not use it: its values
    /// do not depend on the groups, so it takes `j mod b` on a band of `b` columns, else
    /// largest-first.
    pub column_grouping: crate::jacobian::groups::ColumnGrouping,
    /// Limit on residual evaluations, finite differences excluded (default `100·n`).
    pub max_nfev: Option<usize>,
    /// 0 silent, 1 final report, 2 one line per iteration (scipy's formats).
    pub verbose: u8,
    /// Threads for finite-difference columns (default 1; needs a thread-safe problem).
    pub workers: Option<usize>,
    /// Where `verbose` output goes (default: standard output).
    pub printer: Option<crate::verbose::Printer>,
    #[doc(hidden)]
    pub non_exhaustive: NonExhaustive,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            jac: JacSpec::TwoPoint,
            bounds: Bounds::none(),
            method: Method::Trf,
            ftol: Some(1e-8),
            xtol: Some(1e-8),
            gtol: Some(1e-8),
            x_scale: XScale::Default,
            loss: Loss::Linear,
            f_scale: 1.0,
            diff_step: None,
            tr_solver: None,
            tr_options: TrOptions::default(),
            jac_sparsity: None,
            column_grouping: crate::jacobian::groups::ColumnGrouping::Auto,
            max_nfev: None,
            verbose: 0,
            workers: None,
            printer: None,
            non_exhaustive: NonExhaustive(()),
        }
    }
}

/// A warning scipy would emit as `UserWarning`; returned by [`Options::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub String);

impl Options {
    /// Checks the options that do not depend on the problem, in scipy's order, and
    /// returns scipy's warnings (tolerances below machine epsilon).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] or [`Error::Unsupported`] with scipy's message.
    ///
    /// ```
    /// use trustfit::{Options, Method, Loss};
    /// let bad = Options { method: Method::Lm, loss: Loss::Huber, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(),
    ///            "method='lm' supports only 'linear' loss function.");
    /// ```
    pub fn validate(&self) -> Result<Vec<Warning>, Error> {
        self.validate_early()?;
        self.validate_x_scale()?;
        self.validate_late()
    }

    /// scipy's checks 5–7 (loss with lm, verbose, max_nfev), which precede those on x0.
    pub(crate) fn validate_early(&self) -> Result<(), Error> {
        if self.method == Method::Lm && self.loss != Loss::Linear {
            return Err(Error::Unsupported {
                method: "lm",
                message: "method='lm' supports only 'linear' loss function.".into(),
            });
        }
        if self.verbose > 2 {
            return Err(Error::option("verbose", "must be in [0, 1, 2]."));
        }
        if self.max_nfev == Some(0) {
            return Err(Error::option(
                "max_nfev",
                "must be None or positive integer.",
            ));
        }
        Ok(())
    }

    /// scipy's check 15 (x_scale values), after the bounds and x0 checks.
    pub(crate) fn validate_x_scale(&self) -> Result<(), Error> {
        if let XScale::Values(v) = &self.x_scale
            && (v.is_empty() || v.iter().any(|&s| !(s.is_finite() && s > 0.0)))
        {
            return Err(Error::option(
                "x_scale",
                "must be 'jac' or array_like with positive numbers.",
            ));
        }
        Ok(())
    }

    /// scipy's check 16 (tolerances, with warnings) and trustfit's own checks.
    pub(crate) fn validate_late(&self) -> Result<Vec<Warning>, Error> {
        let warnings = self.check_tolerances()?;
        if !(self.f_scale > 0.0 && self.f_scale.is_finite()) && self.loss != Loss::Linear {
            return Err(Error::option(
                "f_scale",
                "must be a positive finite number.",
            ));
        }
        if let Some(step) = &self.diff_step
            && step.iter().any(|s| !s.is_finite())
        {
            return Err(Error::option("diff_step", "must contain finite numbers."));
        }
        Ok(warnings)
    }

    fn check_tolerances(&self) -> Result<Vec<Warning>, Error> {
        let mut warnings = Vec::new();
        let named = [
            ("ftol", self.ftol),
            ("xtol", self.xtol),
            ("gtol", self.gtol),
        ];
        for (name, tol) in named {
            if let Some(t) = tol {
                if t.is_nan() {
                    return Err(Error::option(name, "must be a number or None."));
                }
                if t < EPS {
                    warnings.push(Warning(format!(
                        "Setting `{name}` below the machine epsilon ({EPS:.2e}) effectively disables the corresponding termination condition."
                    )));
                }
            }
        }
        let small = |t: Option<f64>| t.unwrap_or(0.0) < EPS;
        if self.method == Method::Lm && named.iter().any(|(_, t)| small(*t)) {
            return Err(Error::option(
                "tolerances",
                "All tolerances must be higher than machine epsilon (2.22e-16) for method 'lm'.",
            ));
        }
        if named.iter().all(|(_, t)| small(*t)) {
            return Err(Error::option(
                "tolerances",
                "At least one of the tolerances must be higher than machine epsilon (2.22e-16).",
            ));
        }
        Ok(warnings)
    }

    /// The tolerances with `None` replaced by 0 (disabled).
    pub(crate) fn tolerances(&self) -> (f64, f64, f64) {
        (
            self.ftol.unwrap_or(0.0),
            self.xtol.unwrap_or(0.0),
            self.gtol.unwrap_or(0.0),
        )
    }
}
