//! The front door: plan (scipy's checks, in scipy's order) → solver → report.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::time::Instant;

use crate::error::Error;
use crate::method::minimizer::IterationCallback;
use crate::options::Options;
use crate::plan::Plan;
use crate::problem::{Residuals, eval_residuals};
use crate::report::{IterationSummary, Report};
use crate::workspace::{Solver, check_finite_start, start_point};

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

fn run<P: Residuals + ?Sized>(
    problem: &P,
    x0: &[f64],
    options: &Options,
    callback: Option<&mut IterationCallback<'_>>,
) -> Result<Report, Error> {
    let start = Instant::now();
    let mut plan = Plan::new(problem, x0, options)?;
    let mut x = x0.to_vec();
    start_point(&plan, &mut x);
    let mut f0 = vec![0.0; plan.m];
    eval_residuals(problem, &x, &mut f0)?;
    check_finite_start(&f0)?;
    plan.finish(problem, options, callback.is_some())?;
    // `try_with`: no spare (rather than a panic) while the thread's locals are torn down.
    let spare = SPARE
        .try_with(|cell| cell.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten();
    let mut solver = match spare {
        Some(mut solver) if solver.plan().builds_same_solver(&plan) => {
            solver.restart(plan, (&x, &f0));
            solver
        }
        _ => Box::new(Solver::from_plan(problem, plan, (x, f0))?),
    };
    let keep = solver.plan().worth_keeping();
    let outcome = solver.run(problem, callback);
    let report = outcome.map(|out| solver.report(out, start.elapsed(), keep));
    if keep {
        let _ = SPARE.try_with(|cell| {
            if let Ok(mut spare) = cell.try_borrow_mut() {
                *spare = Some(solver);
            }
        });
    }
    report
}

thread_local! {
    /// The last small dense solver of this thread (see [`Plan::builds_same_solver`]):
    /// the next solve of the same plan — a fit in a loop, a Python call — reuses its
    /// buffers instead of allocating them again. Results are the same bit for bit
    /// (tests/reuse.rs).
    static SPARE: RefCell<Option<Box<Solver>>> = const { RefCell::new(None) };
}
