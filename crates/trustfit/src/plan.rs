//! Every check of scipy's `least_squares`, in scipy's order, and the decisions they
//! lead to: which method and subproblem solver run, how J is stored, the scales and
//! tolerances — what was requested and what is used. A plan depends on the problem's
//! shape and the options, not on its data, so one plan serves many solves.

use crate::error::Error;
use crate::jacobian::groups::ColumnGrouping;
use crate::linalg::sparse::SparsityPattern;
use crate::method::scale::Scaling;
use crate::options::{JacSpec, Loss, Method, Options, TrOptions, TrSolver, XScale};
use crate::problem::Residuals;
use crate::verbose::Printer;

/// How J is stored during the solve.
#[derive(Debug, Clone)]
pub(crate) enum Storage {
    /// Row-major m×n.
    Dense,
    /// CSR with this pattern; `differenced` when built from `jac_sparsity`.
    Sparse {
        pattern: SparsityPattern,
        differenced: bool,
    },
    /// The problem's products (scipy's LinearOperator).
    Operator,
}

/// The settings of one solve, checked and resolved.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub m: usize,
    pub n: usize,
    pub method: Method,
    /// `tr_solver` as given, and as used (`None` for lm).
    pub requested_tr_solver: Option<TrSolver>,
    pub tr_solver: Option<TrSolver>,
    pub jac_spec: JacSpec,
    pub storage: Storage,
    pub lb: Vec<f64>,
    pub ub: Vec<f64>,
    /// Finite bounds on some variable (never for lm).
    pub bounded: bool,
    /// trf/dogbox's scaling; lm reads `Fixed` values as MINPACK's mode 2.
    pub scaling: Scaling,
    pub requested_x_scale: XScale,
    pub ftol: f64,
    pub xtol: f64,
    pub gtol: f64,
    pub max_nfev: usize,
    pub loss: Loss,
    pub f_scale: f64,
    pub diff_step: Option<Vec<f64>>,
    pub tr_options: TrOptions,
    pub column_grouping: crate::jacobian::groups::ColumnGrouping,
    pub workers: Option<usize>,
    pub verbose: u8,
    pub printer: Option<Printer>,
    /// scipy's warnings (tolerances, ignored `workers`, callback with lm).
    pub warnings: Vec<String>,
    /// Options given that have no effect with the method and solver used.
    pub ignored: Vec<String>,
}

fn shape(what: &str, expected: String, got: String) -> Error {
    Error::ShapeMismatch {
        what: what.into(),
        expected,
        got,
    }
}

fn sparse_lm_unsupported(message: &str) -> Error {
    Error::Unsupported {
        method: "sparse_lm",
        message: message.into(),
    }
}

fn lm_unsupported(message: &str) -> Error {
    Error::Unsupported {
        method: "lm",
        message: message.into(),
    }
}

impl Plan {
    /// scipy's checks up to the evaluation of f(x0), in its order; `x0` is checked
    /// against the bounds. The checks that follow f(x0) are [`Plan::finish`].
    ///
    /// # Errors
    /// The first failing check's error, with scipy's message.
    pub fn new<P: Residuals + ?Sized>(
        problem: &P,
        x0: &[f64],
        options: &Options,
    ) -> Result<Plan, Error> {
        let method = options.method;
        options.validate_early()?;
        let n = x0.len();
        if n == 0 {
            let what = "`x0` must have at least one element.";
            return Err(shape(what, "(n,) with n ≥ 1".into(), "(0,)".into()));
        }
        if method == Method::Lm && !options.bounds.is_unbounded() {
            return Err(lm_unsupported("Method 'lm' doesn't support bounds."));
        }
        if method == Method::SparseLm && !options.bounds.is_unbounded() {
            return Err(sparse_lm_unsupported(
                "Method 'sparse_lm' doesn't support bounds: use method='trf' with tr_solver='schur' or 'cholesky'.",
            ));
        }
        let (lb, ub) = options.bounds.resolve(n)?;
        check_start(x0, &lb, &ub)?;
        options.validate_x_scale()?;
        let scale_values = match &options.x_scale {
            XScale::Values(v) if v.len() != 1 && v.len() != n => {
                let what = "Inconsistent shapes between `x_scale` and `x0`.";
                return Err(shape(what, format!("({n},)"), format!("({},)", v.len())));
            }
            XScale::Values(v) if v.len() == 1 => Some(vec![v[0]; n]),
            XScale::Values(v) => Some(v.clone()),
            _ => None,
        };
        let mut warnings: Vec<String> = options.validate_late()?.into_iter().map(|w| w.0).collect();
        if let Some(ds) = &options.diff_step
            && ds.len() != 1
            && ds.len() != n
        {
            let what = "Inconsistent shapes between `diff_step` and `x0`.";
            return Err(shape(what, format!("({n},)"), format!("({},)", ds.len())));
        }
        check_jacobian_kind(problem, options.jac)?;
        let m = problem.num_residuals();
        if m == 0 {
            let what = "`fun` must return at least one residual.";
            return Err(shape(what, "(m,) with m ≥ 1".into(), "(0,)".into()));
        }
        if let Some(w) = options.workers
            && w > 1
            && options.jac.is_differenced()
            && problem.as_sync().is_none()
        {
            warnings.push(
                "`workers` ignored: the problem is not marked thread-safe (use `.thread_safe()`)."
                    .into(),
            );
        }
        let (ftol, xtol, gtol) = options.tolerances();
        let scaling = match scale_values {
            Some(v) => Scaling::Fixed(v),
            // sparse_lm damps with Marquardt's diagonal of the current J (Ceres' rule).
            None if method == Method::SparseLm => Scaling::Marquardt,
            None if options.x_scale == XScale::Jac => Scaling::Jac,
            None => Scaling::Unit,
        };
        Ok(Plan {
            m,
            n,
            method,
            requested_tr_solver: options.tr_solver,
            tr_solver: None,
            jac_spec: options.jac,
            storage: Storage::Dense,
            lb,
            ub,
            bounded: !options.bounds.is_unbounded() && method != Method::Lm,
            scaling,
            requested_x_scale: options.x_scale.clone(),
            ftol,
            xtol,
            gtol,
            max_nfev: options.max_nfev.unwrap_or(100 * n),
            loss: options.loss.clone(),
            f_scale: options.f_scale,
            diff_step: options.diff_step.clone(),
            tr_options: options.tr_options.clone(),
            column_grouping: match options.column_grouping {
                ColumnGrouping::Auto if method == Method::SparseLm => ColumnGrouping::LargestFirst,
                ColumnGrouping::Auto => ColumnGrouping::Scipy,
                rule => rule,
            },
            workers: options.workers,
            verbose: options.verbose,
            printer: options.printer.clone(),
            warnings,
            ignored: Vec::new(),
        })
    }

    /// scipy's checks after f(x0): lm's shape, the Jacobian's storage (sparse,
    /// matrix-free) against method and tr_solver; then the tr_solver used.
    ///
    /// # Errors
    /// The first failing check's error, with scipy's message.
    pub fn finish<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        options: &Options,
        with_callback: bool,
    ) -> Result<(), Error> {
        let (m, n, method) = (self.m, self.n, self.method);
        if method == Method::Lm && m < n {
            return Err(lm_unsupported(
                "Method 'lm' doesn't work when the number of residuals is less than the number of variables.",
            ));
        }
        if with_callback && method == Method::Lm {
            let text = "Callback function specified, but not supported with `lm` method.";
            self.warnings.push(text.into());
        }
        if method == Method::SparseLm
            && matches!(options.tr_solver, Some(TrSolver::Exact | TrSolver::Lsmr))
        {
            return Err(sparse_lm_unsupported(
                "Method 'sparse_lm' takes tr_solver 'schur', 'iterative_schur' or 'cholesky' (or None: 'schur' where J's pattern suits it, else 'cholesky').",
            ));
        }
        self.storage = storage(problem, options, m, n)?;
        self.tr_solver = match (method, options.tr_solver) {
            (Method::Lm, _) => None,
            // Schur when the pattern allows it (the solver falls back to cholesky).
            (Method::SparseLm, None) => Some(TrSolver::Schur),
            (_, Some(t)) => Some(t),
            (_, None) if !matches!(self.storage, Storage::Dense) => Some(TrSolver::Lsmr),
            (_, None) => Some(TrSolver::Exact),
        };
        self.check_solver()?;
        self.warn_unused(options);
        Ok(())
    }

    /// The tr_solver against the storage (beyond scipy's checks: trustfit's own).
    fn check_solver(&self) -> Result<(), Error> {
        let sparse = matches!(self.storage, Storage::Sparse { .. });
        match self.tr_solver {
            _ if self.method == Method::SparseLm && !sparse => Err(sparse_lm_unsupported(
                "Method 'sparse_lm' needs a sparse Jacobian: give `jac_sparsity` or a problem with `jacobian_sparsity` (for a dense J use method='lm').",
            )),
            Some(TrSolver::IterativeSchur) if self.method != Method::SparseLm => {
                Err(Error::option(
                    "tr_solver",
                    "'iterative_schur' is available for method='sparse_lm' only (its steps are inexact).",
                ))
            }
            Some(TrSolver::Cholesky | TrSolver::Schur) if !sparse => Err(Error::option(
                "tr_solver",
                "'cholesky' and 'schur' need a sparse Jacobian: give `jac_sparsity` or a problem with `jacobian_sparsity`.",
            )),
            Some(TrSolver::Schur) if self.method == Method::Dogbox => Err(Error::Unsupported {
                method: "dogbox",
                message: "tr_solver='schur' is available for method='trf' only.".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Notes the options that have no effect with the chosen method and solver (as
    /// scipy warns about its own no-op options; kept apart from scipy's warnings, which
    /// the Python package raises as scipy does).
    fn warn_unused(&mut self, options: &Options) {
        let lsmr = self.tr_solver == Some(TrSolver::Lsmr);
        if !lsmr && options.tr_options != TrOptions::default() {
            let used = self.tr_solver.map_or("lm", TrSolver::as_str);
            self.warn(&format!(
                "`tr_options` has no effect with tr_solver='{used}' (it configures 'lsmr')."
            ));
        }
        if !self.jac_spec.is_differenced() && options.diff_step.is_some() {
            self.warn("`diff_step` has no effect with an analytic or automatic Jacobian.");
        }
        if self.jac_spec == JacSpec::Analytic && options.jac_sparsity.is_some() {
            self.warn("`jac_sparsity` has no effect with an analytic Jacobian (the problem's `jacobian_sparsity` is used).");
        }
        if self.loss == Loss::Linear && options.f_scale != 1.0 {
            self.warn("`f_scale` has no effect with loss='linear'.");
        }
    }

    fn warn(&mut self, text: &str) {
        self.ignored.push(text.to_string());
    }

    /// Whether a solver for this plan is worth keeping for the thread's next solve: a
    /// small dense J, nothing printed, no pool, no user loss.
    pub fn worth_keeping(&self) -> bool {
        matches!(self.storage, Storage::Dense)
            && self.m.saturating_mul(self.n) <= SPARE_SOLVER_ENTRIES
            && self.verbose == 0
            && self.printer.is_none()
            && self.workers.is_none_or(|w| w <= 1)
            && !matches!(self.loss, Loss::Custom(_))
    }

    /// Whether a solver built for `self` serves `other` once it takes `other` as its
    /// plan: a small dense J, nothing printed or run on a pool, and every field a
    /// solver's buffers and states are built from equal (floats bit for bit). The
    /// fields are listed without `..`, so a new field fails to compile here until it
    /// is decided; only what reaches the report alone is left out.
    pub fn builds_same_solver(&self, other: &Plan) -> bool {
        let Plan {
            m,
            n,
            method,
            // storage, workers, verbose, printer: in `worth_keeping`.
            requested_tr_solver: _,
            tr_solver,
            jac_spec,
            storage: _,
            lb,
            ub,
            bounded,
            scaling,
            requested_x_scale: _,
            ftol,
            xtol,
            gtol,
            max_nfev,
            loss,
            f_scale,
            diff_step,
            tr_options,
            column_grouping,
            workers: _,
            verbose: _,
            printer: _,
            warnings: _,
            ignored: _,
        } = self;
        let same = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        self.worth_keeping()
            && other.worth_keeping()
            && (*m, *n, *method, *tr_solver, *jac_spec, *bounded, *max_nfev)
                == (
                    other.m,
                    other.n,
                    other.method,
                    other.tr_solver,
                    other.jac_spec,
                    other.bounded,
                    other.max_nfev,
                )
            && same(lb, &other.lb)
            && same(ub, &other.ub)
            && *scaling == other.scaling
            && same(
                &[*ftol, *xtol, *gtol, *f_scale],
                &[other.ftol, other.xtol, other.gtol, other.f_scale],
            )
            && loss.as_str() == other.loss.as_str()
            && match (diff_step, &other.diff_step) {
                (None, None) => true,
                (Some(a), Some(b)) => same(a, b),
                _ => false,
            }
            && *tr_options == other.tr_options
            && *column_grouping == other.column_grouping
    }
}

/// The largest m·n whose solver [`least_squares`](crate::least_squares) keeps for the
/// thread's next solve of the same plan (a few hundred KB at most).
pub(crate) const SPARE_SOLVER_ENTRIES: usize = 4096;

/// x0 inside the bounds and finite (scipy's "Initial guess is outside of provided
/// bounds").
pub(crate) fn check_start(x0: &[f64], lb: &[f64], ub: &[f64]) -> Result<(), Error> {
    for j in 0..x0.len() {
        if !(lb[j] <= x0[j] && x0[j] <= ub[j] && x0[j].is_finite()) {
            return Err(Error::InfeasibleStart {
                index: j,
                value: x0[j],
                lb: lb[j],
                ub: ub[j],
            });
        }
    }
    Ok(())
}

/// The problem can give the Jacobian kind asked for.
fn check_jacobian_kind<P: Residuals + ?Sized>(problem: &P, jac: JacSpec) -> Result<(), Error> {
    if jac == JacSpec::Analytic && !problem.has_jacobian() && problem.jacobian_products().is_none()
    {
        return Err(Error::option(
            "jac",
            "is 'analytic' but the problem provides no Jacobian: implement `Residuals::jacobian` (or `jacobian_products`) or use a finite-difference scheme.",
        ));
    }
    if jac == JacSpec::Auto && !problem.has_auto() {
        return Err(Error::option(
            "jac",
            "is 'auto' but the problem has no generic residuals: implement `AutoResiduals` and solve `trustfit::Auto(model)`.",
        ));
    }
    if jac == JacSpec::ComplexStep && !problem.has_complex() {
        return Err(Error::option(
            "jac",
            "is 'cs' but the problem cannot be evaluated at complex points: implement `Residuals::residuals_complex`.",
        ));
    }
    Ok(())
}

/// Dense, sparse or matrix-free J (spec §1.2 steps 23–25), checks in scipy's order.
fn storage<P: Residuals + ?Sized>(
    problem: &P,
    options: &Options,
    m: usize,
    n: usize,
) -> Result<Storage, Error> {
    let analytic = options.jac == JacSpec::Analytic;
    let pattern = if analytic {
        problem.jacobian_sparsity()
    } else {
        options.jac_sparsity.clone()
    };
    if let Some(pattern) = pattern {
        let from_sparsity = !analytic;
        if options.method == Method::Lm {
            return Err(lm_unsupported(if from_sparsity {
                "method='lm' does not support `jac_sparsity`."
            } else {
                "method='lm' works only with dense Jacobian matrices."
            }));
        }
        if (pattern.nrows(), pattern.ncols()) != (m, n) {
            let what = if from_sparsity {
                "`jac_sparsity` has wrong shape."
            } else {
                "The sparsity pattern of `jac` has wrong shape."
            };
            let got = format!("({}, {})", pattern.nrows(), pattern.ncols());
            return Err(shape(what, format!("({m}, {n})"), got));
        }
        if options.tr_solver == Some(TrSolver::Exact) {
            return Err(Error::option(
                "tr_solver",
                if from_sparsity {
                    "'exact' is incompatible with `jac_sparsity`."
                } else {
                    "'exact' works only with dense Jacobian matrices."
                },
            ));
        }
        return Ok(Storage::Sparse {
            pattern,
            differenced: from_sparsity,
        });
    }
    if !(analytic && problem.jacobian_products().is_some()) {
        return Ok(Storage::Dense);
    }
    // Matrix-free J (scipy's LinearOperator): checks in scipy's order.
    if options.method == Method::Lm {
        return Err(lm_unsupported(
            "method='lm' works only with dense Jacobian matrices.",
        ));
    }
    if options.tr_solver == Some(TrSolver::Exact) {
        return Err(Error::option(
            "tr_solver",
            "'exact' works only with dense Jacobian matrices.",
        ));
    }
    if options.x_scale == XScale::Jac {
        return Err(Error::InvalidOption {
            name: "x_scale",
            message: "x_scale='jac' can't be used when `jac` returns LinearOperator (a matrix-free J has no column norms): give the scales as an array.".into(),
        });
    }
    Ok(Storage::Operator)
}
