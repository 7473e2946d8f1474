//! The front door: validation in scipy's order, set-up, dispatch to a method, report.

use std::ops::ControlFlow;
use std::time::Instant;

use crate::bounds::make_strictly_feasible;
use crate::error::Error;
use crate::jacobian::finite_diff::FdWorkspace;
use crate::jacobian::sparse_fd::SparseFd;
use crate::linalg::normal_eq::NormalEquations;
use crate::linalg::schur::SchurComplement;
use crate::linalg::sparse::CsrMatrix;
use crate::loss::LossEval;
use crate::method::cholesky_step::CholeskySolver;
use crate::method::common::Scaling;
use crate::method::common::{Context, IterationCallback, Outcome, all_finite};
use crate::method::jac_store::{JacStore, OperatorJac};
use crate::method::trf::{ExactSolver, LsmrSolver};
use crate::method::{dogbox, lm, trf};
use crate::options::{JacSpec, Method, Options, TrSolver, XScale};
use crate::problem::{Residuals, eval_residuals};
use crate::report::{IterationSummary, Report, emit, final_lines};

/// Solves `min ½ Σ ρ(fᵢ(x)²)` subject to `lb ≤ x ≤ ub`, like scipy's `least_squares`.
///
/// # Errors
/// Invalid options or inputs give the [`Error`] variant matching scipy's `ValueError`;
/// failures of user code during the solve give [`Error::Callback`] carrying the best
/// point found so far. Reaching `max_nfev` is not an error (see [`Report::status`]).
///
/// ```
/// use trustfit::{least_squares, from_fn, Options, Bounds};
/// // Rosenbrock with x[1] ≤ 1.5 ... here x[1] ≥ 1.5 as in scipy's docs example.
/// let rosen = from_fn(2, |x: &[f64], f: &mut [f64]| {
///     f[0] = 10.0 * (x[1] - x[0] * x[0]);
///     f[1] = 1.0 - x[0];
/// });
/// let opts = Options {
///     bounds: Bounds::new(vec![f64::NEG_INFINITY, 1.5], vec![f64::INFINITY]),
///     ..Default::default()
/// };
/// let r = least_squares(&rosen, &[2.0, 2.0], &opts).unwrap();
/// assert!((r.x[0] - 1.2243707).abs() < 1e-6 && r.x[1] == 1.5 || (r.x[1] - 1.5).abs() < 1e-9);
/// assert_eq!(r.active_mask, vec![0, -1]);
/// ```
pub fn least_squares<P: Residuals + ?Sized>(
    problem: &P,
    x0: &[f64],
    options: &Options,
) -> Result<Report, Error> {
    run(problem, x0, options, None)
}

/// [`least_squares`] with a callback run after every iteration; returning
/// `ControlFlow::Break(())` stops the solve with status −2 (scipy's `StopIteration`).
///
/// # Errors
/// As [`least_squares`]; a panic in the callback becomes [`Error::Callback`].
///
/// ```
/// use std::ops::ControlFlow;
/// let p = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| {
///     f[0] = 10.0 * (x[1] - x[0] * x[0]);
///     f[1] = 1.0 - x[0];
/// });
/// let mut seen = 0;
/// let r = trustfit::least_squares_with_callback(&p, &[-2.0, 1.0], &Default::default(), &mut |it| {
///     seen = it.iteration;
///     if it.iteration == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
/// }).unwrap();
/// assert_eq!((r.status.scipy_status(), seen), (-2, 3));
/// ```
pub fn least_squares_with_callback<P: Residuals + ?Sized>(
    problem: &P,
    x0: &[f64],
    options: &Options,
    callback: &mut dyn FnMut(&IterationSummary<'_>) -> ControlFlow<()>,
) -> Result<Report, Error> {
    run(problem, x0, options, Some(callback))
}

fn run<'c, P: Residuals + ?Sized>(
    problem: &P,
    x0: &[f64],
    options: &Options,
    callback: Option<&'c mut IterationCallback<'c>>,
) -> Result<Report, Error> {
    let start = Instant::now();
    let method = options.method;
    options.validate_early()?;
    let n = x0.len();
    if n == 0 {
        return Err(Error::ShapeMismatch {
            what: "`x0` must have at least one element.".into(),
            expected: "(n,) with n ≥ 1".into(),
            got: "(0,)".into(),
        });
    }
    if method == Method::Lm && !options.bounds.is_unbounded() {
        return Err(Error::Unsupported {
            method: "lm",
            message: "Method 'lm' doesn't support bounds.".into(),
        });
    }
    let (lb, ub) = options.bounds.resolve(n)?;
    for j in 0..n {
        if !(lb[j] <= x0[j] && x0[j] <= ub[j] && x0[j].is_finite()) {
            return Err(Error::InfeasibleStart {
                index: j,
                value: x0[j],
                lb: lb[j],
                ub: ub[j],
            });
        }
    }
    options.validate_x_scale()?;
    let scale_values = match &options.x_scale {
        XScale::Values(v) if v.len() != 1 && v.len() != n => {
            return Err(Error::ShapeMismatch {
                what: "Inconsistent shapes between `x_scale` and `x0`.".into(),
                expected: format!("({n},)"),
                got: format!("({},)", v.len()),
            });
        }
        XScale::Values(v) => Some(if v.len() == 1 {
            vec![v[0]; n]
        } else {
            v.clone()
        }),
        _ => None,
    };
    let mut warnings: Vec<String> = options.validate_late()?.into_iter().map(|w| w.0).collect();
    if let Some(ds) = &options.diff_step
        && ds.len() != 1
        && ds.len() != n
    {
        {
            return Err(Error::ShapeMismatch {
                what: "Inconsistent shapes between `diff_step` and `x0`.".into(),
                expected: format!("({n},)"),
                got: format!("({},)", ds.len()),
            });
        }
    }
    let jac_spec = options.jac;
    if jac_spec == JacSpec::Analytic
        && !problem.has_jacobian()
        && problem.jacobian_products().is_none()
    {
        return Err(Error::option(
            "jac",
            "is 'analytic' but the problem provides no Jacobian: implement `Residuals::jacobian` (or `jacobian_products`) or use a finite-difference scheme.",
        ));
    }
    if jac_spec == JacSpec::ComplexStep && !problem.has_complex() {
        return Err(Error::option(
            "jac",
            "is 'cs' but the problem cannot be evaluated at complex points: implement `Residuals::residuals_complex`.",
        ));
    }

    let m = problem.num_residuals();
    let mut x = x0.to_vec();
    let bounded = !options.bounds.is_unbounded();
    if method == Method::Trf && bounded {
        make_strictly_feasible(&mut x, &lb, &ub, 1e-10);
    }
    if m == 0 {
        return Err(Error::ShapeMismatch {
            what: "`fun` must return at least one residual.".into(),
            expected: "(m,) with m ≥ 1".into(),
            got: "(0,)".into(),
        });
    }

    let pool = match options.workers {
        Some(w) if w > 1 && jac_spec != JacSpec::Analytic => {
            if problem.as_sync().is_some() {
                rayon::ThreadPoolBuilder::new().num_threads(w).build().ok()
            } else {
                warnings.push("`workers` ignored: the problem is not marked thread-safe (use `.thread_safe()`).".into());
                None
            }
        }
        _ => None,
    };
    let (ftol, xtol, gtol) = options.tolerances();
    let mut ctx = Context {
        problem,
        m,
        n,
        lb,
        ub,
        bounded: bounded && method != Method::Lm,
        jac_spec,
        diff_step: options.diff_step.clone(),
        loss: options.loss.clone(),
        f_scale: options.f_scale,
        ftol,
        xtol,
        gtol,
        max_nfev: options.max_nfev.unwrap_or(100 * n),
        verbose: options.verbose,
        printer: options.printer.clone(),
        fd: if jac_spec == JacSpec::Analytic {
            FdWorkspace::new(0, 0, jac_spec)
        } else {
            FdWorkspace::new(m, n, jac_spec)
        },
        loss_eval: LossEval::new(if options.loss == crate::options::Loss::Linear {
            0
        } else {
            m
        }),
        pool,
        callback,
        sparse_fd: None,
        row_scale: Vec::new(),
    };
    let mut f0 = vec![0.0; m];
    eval_residuals(problem, &x, &mut f0)?;
    if !all_finite(&f0) {
        return Err(Error::NonFinite {
            what: "Residuals are not finite in the initial point.".into(),
            best: None,
        });
    }
    if method == Method::Lm && m < n {
        return Err(Error::Unsupported {
            method: "lm",
            message: "Method 'lm' doesn't work when the number of residuals is less than the number of variables."
                .into(),
        });
    }
    if ctx.callback.is_some() && method == Method::Lm {
        warnings.push("Callback function specified, but not supported with `lm` method.".into());
    }
    // Dense or sparse J (spec §1.2 steps 23–25).
    let sparse_pattern = if jac_spec == JacSpec::Analytic {
        problem.jacobian_sparsity()
    } else {
        options.jac_sparsity.clone()
    };
    if let Some(pattern) = &sparse_pattern {
        let from_sparsity = jac_spec != JacSpec::Analytic;
        if method == Method::Lm {
            return Err(Error::Unsupported {
                method: "lm",
                message: if from_sparsity {
                    "method='lm' does not support `jac_sparsity`.".into()
                } else {
                    "method='lm' works only with dense Jacobian matrices.".into()
                },
            });
        }
        if (pattern.nrows(), pattern.ncols()) != (m, n) {
            return Err(Error::ShapeMismatch {
                what: if from_sparsity {
                    "`jac_sparsity` has wrong shape.".into()
                } else {
                    "The sparsity pattern of `jac` has wrong shape.".into()
                },
                expected: format!("({m}, {n})"),
                got: format!("({}, {})", pattern.nrows(), pattern.ncols()),
            });
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
    }
    // Matrix-free J (scipy's LinearOperator): checks in scipy's order.
    let operator = if jac_spec == JacSpec::Analytic && sparse_pattern.is_none() {
        problem.jacobian_products()
    } else {
        None
    };
    if operator.is_some() {
        if method == Method::Lm {
            return Err(Error::Unsupported {
                method: "lm",
                message: "method='lm' works only with dense Jacobian matrices.".into(),
            });
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
    }
    let tr_solver = match (method, options.tr_solver) {
        (Method::Lm, _) => None,
        (_, Some(t)) => Some(t),
        (_, None) if sparse_pattern.is_some() || operator.is_some() => Some(TrSolver::Lsmr),
        (_, None) => Some(TrSolver::Exact),
    };
    let mut jac_groups = None;
    let outcome: Outcome = if method == Method::Lm {
        lm::solve(&mut ctx, x, f0, scale_values)?
    } else {
        let mut j0 = match sparse_pattern {
            Some(pattern) => {
                if jac_spec != JacSpec::Analytic {
                    let sfd = SparseFd::new(&pattern, options.column_grouping)?;
                    let per_group = if jac_spec == JacSpec::ThreePoint {
                        2
                    } else {
                        1
                    };
                    jac_groups = Some(sfd.groups * per_group);
                    ctx.sparse_fd = Some(sfd);
                }
                JacStore::Sparse(CsrMatrix::zeros(pattern))
            }
            None => match operator {
                Some(products) => JacStore::Operator(OperatorJac::new(products, m, n)),
                None => JacStore::Dense {
                    data: vec![0.0; m * n],
                    n,
                },
            },
        };
        ctx.evaluate_jac(&x, &f0, &mut j0)?;
        let scaling = match scale_values {
            Some(v) => Scaling::Fixed(v),
            None if options.x_scale == XScale::Jac => Scaling::Jac,
            None => Scaling::Fixed(vec![1.0; n]),
        };
        let bounded = ctx.bounded;
        match (method, tr_solver) {
            (Method::Dogbox, Some(t @ (TrSolver::Cholesky | TrSolver::Schur))) => {
                return Err(Error::Unsupported {
                    method: "dogbox",
                    message: format!("tr_solver='{t}' is available for method='trf' only."),
                });
            }
            (Method::Dogbox, t) => {
                let lsmr = (t == Some(TrSolver::Lsmr)).then_some(&options.tr_options);
                dogbox::solve(&mut ctx, x, f0, j0, scaling, lsmr)?
            }
            (_, Some(TrSolver::Cholesky)) => {
                let mut sub = CholeskySolver::<NormalEquations>::new(&j0)?;
                trf::solve(&mut ctx, x, f0, j0, scaling, &mut sub)?
            }
            (_, Some(TrSolver::Schur)) => {
                let mut sub = CholeskySolver::<SchurComplement>::new(&j0)?;
                trf::solve(&mut ctx, x, f0, j0, scaling, &mut sub)?
            }
            (_, Some(TrSolver::Lsmr)) => {
                let mut sub = LsmrSolver::new(m, n, bounded, options.tr_options.clone());
                trf::solve(&mut ctx, x, f0, j0, scaling, &mut sub)?
            }
            _ => {
                let mut sub = ExactSolver::new(m, n, bounded);
                trf::solve(&mut ctx, x, f0, j0, scaling, &mut sub)?
            }
        }
    };
    if options.verbose >= 1 {
        let lines = final_lines(
            outcome.status.message(),
            outcome.nfev,
            outcome.initial_cost,
            outcome.cost,
            outcome.optimality,
        );
        for line in &lines {
            emit(options.printer.as_ref(), line);
        }
    }
    let (dense_jac, sparse_jac, jac_row_scale) = match outcome.jac {
        JacStore::Dense { data, .. } => (data, None, None),
        JacStore::Sparse(a) => (Vec::new(), Some(a), None),
        JacStore::Operator(op) => (Vec::new(), None, op.row_scale().map(<[f64]>::to_vec)),
    };
    Ok(Report {
        x: outcome.x,
        cost: outcome.cost,
        fun: outcome.fun,
        jac: dense_jac,
        jac_sparse: sparse_jac,
        jac_row_scale,
        jac_groups,
        grad: outcome.grad,
        optimality: outcome.optimality,
        active_mask: outcome.active_mask,
        nfev: outcome.nfev,
        njev: outcome.njev,
        status: outcome.status,
        nit: outcome.nit,
        m,
        n,
        method,
        jac_kind: jac_spec,
        tr_solver,
        initial_cost: outcome.initial_cost,
        time: start.elapsed(),
        warnings,
    })
}
