//! The result of a solve, its status and the per-iteration summary.

use std::fmt;
use std::time::Duration;

use crate::options::{JacSpec, Method, TrSolver, XScale};
use crate::timing::Timing;
use crate::verbose::py_e;

/// Why the solver stopped, with scipy's status codes and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// −2: the iteration callback asked to stop.
    CallbackStop,
    /// −1: improper input parameters (MINPACK).
    ImproperInput,
    /// 0: `max_nfev` reached.
    MaxNfev,
    /// 1: `gtol` satisfied.
    Gtol,
    /// 2: `ftol` satisfied.
    Ftol,
    /// 3: `xtol` satisfied.
    Xtol,
    /// 4: both `ftol` and `xtol` satisfied.
    FtolXtol,
}

impl Status {
    /// scipy's integer status.
    ///
    /// ```
    /// assert_eq!(trustfit::Status::Ftol.scipy_status(), 2);
    /// ```
    pub fn scipy_status(self) -> i32 {
        match self {
            Status::CallbackStop => -2,
            Status::ImproperInput => -1,
            Status::MaxNfev => 0,
            Status::Gtol => 1,
            Status::Ftol => 2,
            Status::Xtol => 3,
            Status::FtolXtol => 4,
        }
    }

    /// True for a convergence status (scipy's `success`, status > 0).
    ///
    /// ```
    /// assert!(!trustfit::Status::MaxNfev.is_success());
    /// ```
    pub fn is_success(self) -> bool {
        self.scipy_status() > 0
    }

    /// scipy's message for this status, verbatim.
    ///
    /// ```
    /// assert_eq!(trustfit::Status::Gtol.message(), "`gtol` termination condition is satisfied.");
    /// ```
    pub fn message(self) -> &'static str {
        match self {
            Status::CallbackStop => {
                "Stopped because `callback` function raised `StopIteration` or returned `True`"
            }
            Status::ImproperInput => "Improper input parameters status returned from `leastsq`",
            Status::MaxNfev => "The maximum number of function evaluations is exceeded.",
            Status::Gtol => "`gtol` termination condition is satisfied.",
            Status::Ftol => "`ftol` termination condition is satisfied.",
            Status::Xtol => "`xtol` termination condition is satisfied.",
            Status::FtolXtol => "Both `ftol` and `xtol` termination conditions are satisfied.",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// What the solver reports after each outer iteration (to the callback).
#[derive(Debug, Clone, Copy)]
pub struct IterationSummary<'a> {
    /// Iteration count, starting at 1 (scipy's `nit`).
    pub iteration: usize,
    /// Residual evaluations so far.
    pub nfev: usize,
    /// Current cost.
    pub cost: f64,
    /// Current point.
    pub x: &'a [f64],
    /// Residuals at `x`.
    pub fun: &'a [f64],
    /// Norm of the last accepted step (0 if the iteration accepted none).
    pub step_norm: f64,
    /// Cost reduction of the last accepted step (0 if none).
    pub cost_reduction: f64,
}

/// The result of [`least_squares`](crate::least_squares): scipy's fields and more.
#[derive(Debug, Clone)]
pub struct Report {
    /// Solution found.
    pub x: Vec<f64>,
    /// Cost `½ Σ ρ(fᵢ²)` at `x`.
    pub cost: f64,
    /// Residuals at `x` (never loss-scaled).
    pub fun: Vec<f64>,
    /// Jacobian at `x`, row-major m × n, scaled by the robust loss as scipy does
    /// (empty when the solve kept J sparse — see `jac_sparse` — or matrix-free).
    pub jac: Vec<f64>,
    /// The Jacobian at `x` when it is sparse (analytic sparse or `jac_sparsity`).
    pub jac_sparse: Option<crate::linalg::sparse::CsrMatrix>,
    /// With a matrix-free J ([`Residuals::jacobian_products`](crate::Residuals::jacobian_products))
    /// and a robust loss: the final J is `diag(jac_row_scale) · J(x)`, as scipy scales
    /// its LinearOperator. `None` otherwise.
    pub jac_row_scale: Option<Vec<f64>>,
    /// Residual evaluations per finite-difference Jacobian with `jac_sparsity`
    /// (the number of column groups, doubled for '3-point').
    pub jac_groups: Option<usize>,
    /// Gradient of the cost at `x`.
    pub grad: Vec<f64>,
    /// First-order optimality measure (see scipy).
    pub optimality: f64,
    /// −1 / +1 for a variable at its lower / upper bound, else 0.
    pub active_mask: Vec<i32>,
    /// Residual evaluations (finite differences excluded for trf/dogbox/lm).
    pub nfev: usize,
    /// Jacobian evaluations (`None` for lm with finite differences, as scipy).
    pub njev: Option<usize>,
    /// Why the solve stopped.
    pub status: Status,
    /// Outer iterations performed.
    pub nit: usize,
    /// Number of residuals.
    pub m: usize,
    /// Number of variables.
    pub n: usize,
    /// Method used.
    pub method: Method,
    /// Jacobian kind used.
    pub jac_kind: JacSpec,
    /// Trust-region solver used (`None` for lm).
    pub tr_solver: Option<TrSolver>,
    /// `tr_solver` as requested (`None`: the default for J's storage).
    pub requested_tr_solver: Option<TrSolver>,
    /// `x_scale` as requested.
    pub x_scale: XScale,
    /// Stored entries of the final J (m·n when dense, nnz when sparse, 0 matrix-free).
    pub jac_entries: usize,
    /// Cost at `x0`.
    pub initial_cost: f64,
    /// Wall time of the solve.
    pub time: Duration,
    /// Where the time went (trf and dogbox on problems large enough to time cheaply).
    pub timing: Option<Timing>,
    /// Warnings scipy would emit (e.g. tolerances below machine epsilon).
    pub warnings: Vec<String>,
    /// Options given that had no effect with the method and solver used.
    pub ignored_options: Vec<String>,
}

impl Report {
    /// scipy's `message`.
    ///
    /// ```
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 3.0);
    /// let r = trustfit::least_squares(&p, &[0.0], &Default::default()).unwrap();
    /// assert_eq!(r.message(), r.status.message());
    /// ```
    pub fn message(&self) -> &'static str {
        self.status.message()
    }

    /// scipy's `success` (status > 0).
    pub fn success(&self) -> bool {
        self.status.is_success()
    }

    /// One line: status, cost, evaluations.
    ///
    /// ```
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 3.0);
    /// let r = trustfit::least_squares(&p, &[0.0], &Default::default()).unwrap();
    /// assert!(r.brief().starts_with("trf: "));
    /// ```
    pub fn brief(&self) -> String {
        format!(
            "{}: {} cost {} after {} iterations, nfev {}, njev {}",
            self.method,
            self.message(),
            py_e(self.cost, 6),
            self.nit,
            self.nfev,
            self.njev.map_or("None".to_string(), |v| v.to_string())
        )
    }
}

impl Report {
    /// Ceres' FullReport habit: each setting as requested and as used (defaults and
    /// fallbacks show).
    fn fmt_settings(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  {:<13}{:<22}used", "setting", "requested")?;
        let method = self.method.to_string();
        writeln!(f, "  {:<13}{:<22}{}", "method", method, method)?;
        let asked = self
            .requested_tr_solver
            .map_or("None (default)".to_string(), |t| t.to_string());
        let used = self
            .tr_solver
            .map_or("- (MINPACK)".to_string(), |t| t.to_string());
        writeln!(f, "  {:<13}{:<22}{}", "tr_solver", asked, used)?;
        let storage = match (&self.jac_sparse, self.jac.is_empty()) {
            (Some(_), _) => "sparse",
            (None, false) => "dense",
            (None, true) => "matrix-free",
        };
        let groups = self
            .jac_groups
            .map_or(String::new(), |g| format!(", {g} evaluations"));
        let jac = self.jac_kind.to_string();
        writeln!(f, "  {:<13}{:<22}{jac} ({storage}{groups})", "jac", jac)?;
        let x_scale = match &self.x_scale {
            XScale::Default if self.method == Method::Lm => ("default".into(), "jac"),
            XScale::Default => ("default".into(), "1.0"),
            XScale::Jac => ("jac".into(), "jac"),
            XScale::Values(v) => (format!("{} values", v.len()), "as given"),
        };
        writeln!(f, "  {:<13}{:<22}{}", "x_scale", x_scale.0, x_scale.1)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "trustfit least_squares report")?;
        writeln!(
            f,
            "  problem      m = {} residuals, n = {} variables, Jacobian entries {}",
            self.m, self.n, self.jac_entries
        )?;
        self.fmt_settings(f)?;
        writeln!(
            f,
            "  cost         initial {}, final {}, change {}",
            py_e(self.initial_cost, 6),
            py_e(self.cost, 6),
            py_e(self.initial_cost - self.cost, 3)
        )?;
        writeln!(f, "  optimality   {}", py_e(self.optimality, 3))?;
        writeln!(f, "  iterations   {}", self.nit)?;
        let njev = self.njev.map_or("None".to_string(), |v| v.to_string());
        writeln!(f, "  evaluations  nfev {}, njev {}", self.nfev, njev)?;
        write!(f, "  time         {:.3} ms", self.time.as_secs_f64() * 1e3)?;
        match &self.timing {
            Some(t) => {
                let other = t.other(self.time).as_secs_f64() * 1e3;
                writeln!(f, ": {t}, other {other:.3} ms")?;
            }
            None => writeln!(f)?,
        }
        writeln!(
            f,
            "  status       {} ({})",
            self.status.scipy_status(),
            self.message()
        )?;
        write!(f, "  x            [")?;
        for (i, v) in self.x.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            if i == 8 && self.x.len() > 10 {
                write!(f, "… {} more", self.x.len() - 8)?;
                break;
            }
            write!(f, "{v:.10}")?;
        }
        writeln!(f, "]")?;
        for w in &self.warnings {
            writeln!(f, "  warning      {w}")?;
        }
        for w in &self.ignored_options {
            writeln!(f, "  ignored      {w}")?;
        }
        Ok(())
    }
}
