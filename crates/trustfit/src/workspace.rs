//! [`Solver`]: a plan plus every buffer of a solve — J's storage, the loop's vectors,
//! the strategy's and the subproblem solver's — so that many problems of one shape
//! are solved without planning or allocating again (the batch fitter runs one per
//! thread). [`least_squares`](crate::least_squares) is one plan, one solve.

use std::ops::ControlFlow;

use crate::bounds::make_strictly_feasible;
use crate::error::Error;
use crate::jacobian::auto::AutoGroups;
use crate::jacobian::evaluate::JacobianEvaluator;
use crate::jacobian::sparse_fd::SparseFd;
use crate::jacobian::store::{JacStore, OperatorJac};
use crate::linalg::normal_eq::NormalEquations;
use crate::linalg::schur::SchurComplement;
use crate::linalg::schur_pcg::SchurPcg;
use crate::linalg::sparse::CsrMatrix;
use crate::linalg::vector::all_finite;
use crate::loss::LossScaling;
use crate::method::dogbox::Dogbox;
use crate::method::levenberg::Levenberg;
use crate::method::lm;
use crate::method::minimizer::{
    IterationCallback, LoopParts, LoopState, Outcome, Strategy, minimize,
};
use crate::method::scale::VariableScale;
use crate::method::subproblem::AnySubproblem;
use crate::method::subproblem::cholesky::CholeskySolver;
use crate::method::subproblem::exact::ExactSolver;
use crate::method::subproblem::lsmr::LsmrSolver;
use crate::method::trf::Trf;
use crate::options::{JacSpec, Method, Options, TrSolver};
use crate::plan::{Plan, Storage, check_start};
use crate::problem::{Residuals, eval_residuals};
use crate::report::{IterationSummary, Report, Status};
use crate::timing::{Stopwatch, TIMED_ENTRIES, Timing};
use crate::verbose::{emit, final_lines};

/// The method's own state.
enum MethodState {
    Trf(Trf),
    Dogbox(Dogbox),
    Lm(lm::LmState),
    SparseLmSchur(Box<Levenberg<SchurComplement>>),
    SparseLmCholesky(Box<Levenberg<NormalEquations>>),
    SparseLmPcg(Box<Levenberg<SchurPcg>>),
}

/// A reusable solver: plans once for a problem's shape and options, then solves any
/// number of problems of that shape (same m, n, sparsity) from any start, allocating
/// nothing after the first solve (dense or sparse J; a matrix-free J sets up its
/// operator per solve).
///
/// ```
/// use trustfit::{Solver, from_fn, Options};
/// let data = [[1.0, 2.0], [3.0, 5.0]];
/// let model = |k: usize| {
///     let d = data[k];
///     from_fn(2, move |x: &[f64], f: &mut [f64]| {
///         f[0] = x[0] - d[0];
///         f[1] = x[1] - d[1];
///     })
/// };
/// let mut solver = Solver::new(&model(0), &[0.0, 0.0], &Options::default()).unwrap();
/// for k in 0..2 {
///     let sol = solver.solve(&model(k), &[0.0, 0.0]).unwrap();
///     assert!(sol.status.is_success());
///     assert!((sol.x[1] - data[k][1]).abs() < 1e-8);
/// }
/// ```
pub struct Solver {
    plan: Plan,
    parts: LoopParts,
    /// J's storage for dense and sparse J (an operator is set up per solve).
    jac: JacStore<'static>,
    method: MethodState,
    jac_groups: Option<usize>,
    /// The robust-loss row factors of a matrix-free J after the last solve.
    operator_row_scale: Option<Vec<f64>>,
}

/// The result of [`Solver::solve`], borrowed from the solver's buffers (copy what you
/// keep before the next solve).
#[derive(Debug, Clone, Copy)]
pub struct Solution<'a> {
    /// Solution found.
    pub x: &'a [f64],
    /// Cost `½ Σ ρ(fᵢ²)` at `x`.
    pub cost: f64,
    /// Residuals at `x`.
    pub fun: &'a [f64],
    /// J at `x`, row-major m×n (empty for a sparse or matrix-free J).
    pub jac: &'a [f64],
    /// Gradient of the cost at `x`.
    pub grad: &'a [f64],
    /// First-order optimality measure.
    pub optimality: f64,
    /// −1 / +1 for a variable at its lower / upper bound, else 0.
    pub active_mask: &'a [i32],
    /// Residual evaluations.
    pub nfev: usize,
    /// Jacobian evaluations (`None` for lm with finite differences).
    pub njev: Option<usize>,
    /// Why the solve stopped.
    pub status: Status,
    /// Outer iterations.
    pub nit: usize,
    /// Cost at the start.
    pub initial_cost: f64,
    /// lm: MINPACK's R and pivots (the covariance `curve_fit` takes with lm).
    pub(crate) lm_r: Option<(&'a [f64], &'a [usize])>,
}

impl Solver {
    /// Plans for `problem`'s shape and `options` (every check of
    /// [`least_squares`](crate::least_squares) that does not need f(x0)), and allocates
    /// every buffer. `x0` gives n and is checked against the bounds.
    ///
    /// # Errors
    /// As [`least_squares`](crate::least_squares)'s option and shape errors.
    ///
    /// ```
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 2.0);
    /// let bad = trustfit::Options { max_nfev: Some(0), ..Default::default() };
    /// assert!(trustfit::Solver::new(&p, &[0.0], &bad).is_err());
    /// assert!(trustfit::Solver::new(&p, &[0.0], &Default::default()).is_ok());
    /// ```
    pub fn new<P: Residuals + ?Sized>(
        problem: &P,
        x0: &[f64],
        options: &Options,
    ) -> Result<Solver, Error> {
        let mut plan = Plan::new(problem, x0, options)?;
        plan.finish(problem, options, false)?;
        let start = (vec![0.0; plan.n], vec![0.0; plan.m]);
        Solver::from_plan(problem, plan, start)
    }

    /// Every buffer for a finished plan; `start` becomes the loop's x and f(x).
    pub(crate) fn from_plan<P: Residuals + ?Sized>(
        problem: &P,
        mut plan: Plan,
        start: (Vec<f64>, Vec<f64>),
    ) -> Result<Solver, Error> {
        let (m, n) = (plan.m, plan.n);
        let pool = match plan.workers {
            Some(w) if w > 1 && plan.jac_spec.is_differenced() && problem.as_sync().is_some() => {
                rayon::ThreadPoolBuilder::new().num_threads(w).build().ok()
            }
            _ => None,
        };
        let (jac, sparse_fd) = match &plan.storage {
            Storage::Sparse {
                pattern,
                differenced,
            } => {
                let sfd = match differenced {
                    true if plan.jac_spec == JacSpec::Auto => None,
                    true => Some(SparseFd::new(pattern, plan.column_grouping)?),
                    false => None,
                };
                (JacStore::Sparse(CsrMatrix::zeros(pattern.clone())), sfd)
            }
            Storage::Dense => (
                JacStore::Dense {
                    data: vec![0.0; m * n],
                    n,
                },
                None,
            ),
            Storage::Operator => (
                JacStore::Dense {
                    data: Vec::new(),
                    n,
                },
                None,
            ),
        };
        let per_group = if plan.jac_spec == JacSpec::ThreePoint {
            2
        } else {
            1
        };
        let auto_groups = match &plan.storage {
            Storage::Sparse {
                pattern,
                differenced: true,
            } if plan.jac_spec == JacSpec::Auto => Some(AutoGroups::for_pattern(pattern)?),
            _ => None,
        };
        let jac_groups = match &auto_groups {
            Some(g) => Some(g.count),
            None => sparse_fd.as_ref().map(|s| s.groups * per_group),
        };
        let method = match plan.method {
            Method::Lm => MethodState::Lm(lm::LmState::new(&plan)),
            Method::Trf => MethodState::Trf(Trf::new(m, n, subproblem(&plan, &jac)?)),
            Method::Dogbox => MethodState::Dogbox(Dogbox::new(m, n, subproblem(&plan, &jac)?)),
            Method::SparseLm => sparse_lm(&mut plan, &jac)?,
        };
        let parts = LoopParts {
            eval: JacobianEvaluator::new(&plan, sparse_fd, auto_groups, pool),
            loss: LossScaling::new(&plan.loss, plan.f_scale, m),
            st: LoopState::at(start.0, start.1, plan.method != Method::Lm),
            scales: VariableScale::new(
                if plan.method == Method::Lm { 0 } else { n },
                &plan.scaling,
            ),
            clock: Stopwatch {
                enabled: plan.method != Method::Lm
                    && (!matches!(plan.storage, Storage::Dense) || m * n >= TIMED_ENTRIES),
                ..Default::default()
            },
        };
        Ok(Solver {
            plan,
            parts,
            jac,
            method,
            jac_groups,
            operator_row_scale: None,
        })
    }

    /// Solves `problem` (of the planned shape) from `x0`.
    ///
    /// # Errors
    /// A shape other than the planned one, `x0` outside the bounds, residuals not
    /// finite at `x0`; failures of user code during the solve carry the best point.
    ///
    /// ```
    /// let p = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 2.0);
    /// let mut solver = trustfit::Solver::new(&p, &[0.0], &Default::default()).unwrap();
    /// assert!((solver.solve(&p, &[5.0]).unwrap().x[0] - 2.0).abs() < 1e-12);
    /// assert!(solver.solve(&p, &[f64::NAN]).is_err()); // not finite: refused, solver intact
    /// ```
    pub fn solve<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x0: &[f64],
    ) -> Result<Solution<'_>, Error> {
        self.solve_inner(problem, x0, None)
    }

    /// [`Solver::solve`] with a callback after every iteration (see
    /// [`least_squares_with_callback`](crate::least_squares_with_callback)).
    ///
    /// # Errors
    /// As [`Solver::solve`].
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// let p = trustfit::from_fn(2, |x: &[f64], f: &mut [f64]| {
    ///     f[0] = 10.0 * (x[1] - x[0] * x[0]);
    ///     f[1] = 1.0 - x[0];
    /// });
    /// let mut solver = trustfit::Solver::new(&p, &[-2.0, 1.0], &Default::default()).unwrap();
    /// let s = solver
    ///     .solve_with_callback(&p, &[-2.0, 1.0], &mut |_| ControlFlow::Break(()))
    ///     .unwrap();
    /// assert_eq!((s.status.scipy_status(), s.nit), (-2, 1));
    /// ```
    pub fn solve_with_callback<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x0: &[f64],
        callback: &mut dyn FnMut(&IterationSummary<'_>) -> ControlFlow<()>,
    ) -> Result<Solution<'_>, Error> {
        self.solve_inner(problem, x0, Some(callback))
    }

    fn solve_inner<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        x0: &[f64],
        callback: Option<&mut IterationCallback<'_>>,
    ) -> Result<Solution<'_>, Error> {
        let (m, n) = (self.plan.m, self.plan.n);
        if x0.len() != n || problem.num_residuals() != m {
            return Err(Error::ShapeMismatch {
                what: "This solver was planned for another shape.".into(),
                expected: format!("m = {m}, n = {n}"),
                got: format!("m = {}, n = {}", problem.num_residuals(), x0.len()),
            });
        }
        check_start(x0, &self.plan.lb, &self.plan.ub)?;
        let st = &mut self.parts.st;
        st.x.copy_from_slice(x0);
        start_point(&self.plan, &mut st.x);
        eval_residuals(problem, &st.x, &mut st.f_true)?;
        check_finite_start(&st.f_true)?;
        let out = self.run(problem, callback)?;
        let st = &self.parts.st;
        Ok(Solution {
            x: &st.x,
            cost: out.cost,
            fun: &st.f_true,
            jac: match &self.jac {
                JacStore::Dense { data, .. } => data,
                _ => &[],
            },
            grad: &st.grad,
            optimality: out.optimality,
            active_mask: &st.active_mask,
            nfev: out.nfev,
            njev: out.njev,
            status: out.status,
            nit: out.nit,
            initial_cost: out.initial_cost,
            lm_r: match &self.method {
                MethodState::Lm(lm) => Some(lm.r_factor()),
                _ => None,
            },
        })
    }

    /// Runs the planned method from the state's x and f(x).
    pub(crate) fn run<P: Residuals + ?Sized>(
        &mut self,
        problem: &P,
        callback: Option<&mut IterationCallback<'_>>,
    ) -> Result<Outcome, Error> {
        let (plan, parts) = (&self.plan, &mut self.parts);
        parts.clock.timing = Timing::default();
        let row_scale = &mut self.operator_row_scale;
        let outcome = match (&mut self.method, &mut self.jac) {
            (MethodState::Lm(lm), JacStore::Dense { data, .. }) => {
                lm::solve(problem, plan, &mut parts.eval, &mut parts.st, data, lm)?
            }
            (MethodState::Lm(_), _) => {
                return Err(Error::option("method", "'lm' needs a dense Jacobian."));
            }
            (MethodState::Trf(s), jac) => {
                trust_region(problem, plan, parts, jac, row_scale, s, callback)?
            }
            (MethodState::Dogbox(s), jac) => {
                trust_region(problem, plan, parts, jac, row_scale, s, callback)?
            }
            (MethodState::SparseLmSchur(s), jac) => {
                trust_region(problem, plan, parts, jac, row_scale, &mut **s, callback)?
            }
            (MethodState::SparseLmCholesky(s), jac) => {
                trust_region(problem, plan, parts, jac, row_scale, &mut **s, callback)?
            }
            (MethodState::SparseLmPcg(s), jac) => {
                trust_region(problem, plan, parts, jac, row_scale, &mut **s, callback)?
            }
        };
        if plan.verbose >= 1 {
            let o = &outcome;
            let lines = final_lines(
                o.status.message(),
                o.nfev,
                o.initial_cost,
                o.cost,
                o.optimality,
            );
            for line in &lines {
                emit(plan.printer.as_ref(), line);
            }
        }
        Ok(outcome)
    }

    /// The report of the last run (the front door's last step): the buffers are taken,
    /// or copied when `keep` (the solver serves again: the thread's spare of `least_squares`).
    pub(crate) fn report(&mut self, out: Outcome, time: std::time::Duration, keep: bool) -> Report {
        fn grab<T: Clone + Default>(v: &mut T, keep: bool) -> T {
            if keep { v.clone() } else { std::mem::take(v) }
        }
        let n = self.plan.n;
        let (dense, sparse) = match (&mut self.jac, keep) {
            (JacStore::Dense { data, .. }, _) => (grab(data, keep), None),
            (JacStore::Sparse(a), true) => (Vec::new(), Some(a.clone())),
            (jac @ JacStore::Sparse(_), false) => {
                let data = Vec::new();
                match std::mem::replace(jac, JacStore::Dense { data, n }) {
                    JacStore::Sparse(a) => (Vec::new(), Some(a)),
                    _ => (Vec::new(), None),
                }
            }
            (JacStore::Operator(_), _) => (Vec::new(), None),
        };
        let (plan, st) = (&mut self.plan, &mut self.parts.st);
        let nnz = match &sparse {
            Some(a) => a.values().len(),
            None => dense.len(),
        };
        Report {
            jac_entries: nnz,
            x: grab(&mut st.x, keep),
            cost: out.cost,
            fun: grab(&mut st.f_true, keep),
            jac: dense,
            jac_sparse: sparse,
            jac_row_scale: grab(&mut self.operator_row_scale, keep),
            jac_groups: self.jac_groups,
            grad: grab(&mut st.grad, keep),
            optimality: out.optimality,
            active_mask: grab(&mut st.active_mask, keep),
            nfev: out.nfev,
            njev: out.njev,
            status: out.status,
            nit: out.nit,
            m: plan.m,
            n: plan.n,
            method: plan.method,
            jac_kind: plan.jac_spec,
            tr_solver: plan.tr_solver,
            initial_cost: out.initial_cost,
            time,
            timing: self.parts.clock.enabled.then_some(self.parts.clock.timing),
            requested_tr_solver: plan.requested_tr_solver,
            x_scale: grab(&mut plan.requested_x_scale, keep),
            warnings: grab(&mut plan.warnings, keep),
            ignored_options: grab(&mut plan.ignored, keep),
        }
    }

    /// Takes `plan` (one that [`Plan::builds_same_solver`] as this solver's) and the
    /// start x, f(x): the state [`Solver::from_plan`] would build, without allocating.
    pub(crate) fn restart(&mut self, plan: Plan, start: (&[f64], &[f64])) {
        self.plan = plan;
        self.parts.st.x.copy_from_slice(start.0);
        self.parts.st.f_true.copy_from_slice(start.1);
    }

    /// The plan this solver was built for.
    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }
}

/// trf or dogbox from the state's x (a matrix-free J's operator is set up here,
/// borrowing the problem's products).
fn trust_region<P: Residuals + ?Sized, S: Strategy>(
    problem: &P,
    plan: &Plan,
    parts: &mut LoopParts,
    stored: &mut JacStore<'_>,
    row_scale: &mut Option<Vec<f64>>,
    strategy: &mut S,
    callback: Option<&mut IterationCallback<'_>>,
) -> Result<Outcome, Error> {
    if let (Storage::Operator, Some(products)) = (&plan.storage, problem.jacobian_products()) {
        let mut jac = JacStore::Operator(OperatorJac::new(products, plan.m, plan.n));
        let out = minimize(problem, plan, parts, &mut jac, strategy, callback);
        if let JacStore::Operator(op) = &jac {
            *row_scale = op.row_scale().map(<[f64]>::to_vec);
        }
        return out;
    }
    minimize(problem, plan, parts, stored, strategy, callback)
}

/// The subproblem solver the plan asks for, sized for J's storage.
fn subproblem(plan: &Plan, jac: &JacStore<'_>) -> Result<AnySubproblem, Error> {
    let (m, n) = (plan.m, plan.n);
    let dogbox = plan.method == Method::Dogbox;
    Ok(match plan.tr_solver {
        Some(TrSolver::Cholesky) => AnySubproblem::Cholesky(Box::new(CholeskySolver::new(jac)?)),
        Some(TrSolver::Schur) => AnySubproblem::Schur(Box::new(CholeskySolver::new(jac)?)),
        Some(TrSolver::Lsmr) => AnySubproblem::Lsmr(Box::new(if dogbox {
            LsmrSolver::for_dogbox(m, n, plan.tr_options.clone())
        } else {
            LsmrSolver::for_trf(m, n, plan.bounded, plan.tr_options.clone())
        })),
        _ if dogbox => AnySubproblem::Exact(ExactSolver::for_dogbox(m, n)),
        _ => AnySubproblem::Exact(ExactSolver::for_trf(m, n, plan.bounded)),
    })
}

/// sparse_lm's state over the factorization the plan asks for. Without a requested
/// tr_solver: Schur where J's pattern suits it — blocks to eliminate, and a dense
/// complement no larger than J (|F|² ≤ nnz: bundle adjustment's few cameras) —
/// else the Cholesky of all of B (the plan then records 'cholesky').
fn sparse_lm(plan: &mut Plan, jac: &JacStore<'_>) -> Result<MethodState, Error> {
    if plan.tr_solver == Some(TrSolver::IterativeSchur) {
        return Ok(MethodState::SparseLmPcg(Box::new(Levenberg::new(jac)?)));
    }
    if plan.tr_solver == Some(TrSolver::Schur) {
        let chosen = plan.requested_tr_solver.is_some();
        match Levenberg::<SchurComplement>::new(jac) {
            Ok(s) if chosen || s.normal().complement_size().pow(2) <= stored_entries(jac) => {
                return Ok(MethodState::SparseLmSchur(Box::new(s)));
            }
            Err(e) if chosen => return Err(e),
            _ => plan.tr_solver = Some(TrSolver::Cholesky),
        }
    }
    Ok(MethodState::SparseLmCholesky(Box::new(Levenberg::new(
        jac,
    )?)))
}

/// Entries J's storage holds (a matrix-free J holds none).
fn stored_entries(jac: &JacStore<'_>) -> usize {
    match jac {
        JacStore::Dense { data, .. } => data.len(),
        JacStore::Sparse(a) => a.values().len(),
        JacStore::Operator(_) => 0,
    }
}

/// trf starts strictly inside the bounds (scipy's `make_strictly_feasible`).
pub(crate) fn start_point(plan: &Plan, x: &mut [f64]) {
    if plan.method == Method::Trf && plan.bounded {
        make_strictly_feasible(x, &plan.lb, &plan.ub, 1e-10);
    }
}

/// scipy's check of f(x0).
pub(crate) fn check_finite_start(f0: &[f64]) -> Result<(), Error> {
    if all_finite(f0) {
        Ok(())
    } else {
        Err(Error::NonFinite {
            what: "Residuals are not finite in the initial point.".into(),
            best: None,
        })
    }
}
