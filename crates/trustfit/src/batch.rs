//! Many independent fits of one shape (per pixel, per sample) on every core: one
//! [`Solver`] per worker thread, reused from fit to fit, results written in place.
//! Each fit is solved exactly as [`least_squares`](crate::least_squares) would solve it
//! alone, so the results do not depend on the number of threads. A fit that fails
//! (residuals not finite at its start, an error or panic in its residual function) gets
//! its own outcome and NaN parameters; the others go on.

use rayon::prelude::*;

use crate::error::{Error, ErrorKind};
use crate::options::Options;
use crate::problem::Residuals;
use crate::report::Status;
use crate::workspace::{Solution, Solver};

/// Where the fits of a batch start.
///
/// ```
/// let one = [1.0, 0.0];
/// let each = [1.0, 0.0, 2.0, 0.5]; // two fits of two parameters
/// let _ = (trustfit::Starts::Shared(&one), trustfit::Starts::PerFit(&each));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Starts<'a> {
    /// One start (length n) for every fit.
    Shared(&'a [f64]),
    /// One start per fit, row-major count×n.
    PerFit(&'a [f64]),
}

impl<'a> Starts<'a> {
    /// The starts and n for `count` fits; an error when the length fits neither form.
    pub(crate) fn checked(self, count: usize) -> Result<(&'a [f64], usize), Error> {
        let (x0, n) = match self {
            Starts::Shared(x) => (x, x.len()),
            Starts::PerFit(x) => (x, x.len().checked_div(count).unwrap_or(0)),
        };
        if n == 0 || (x0.len() != n && x0.len() != count * n) {
            return Err(Error::ShapeMismatch {
                what: "`x0` must hold one start of n ≥ 1 values, or one per fit.".into(),
                expected: format!("(n,) or ({count}·n,)"),
                got: format!("({},)", x0.len()),
            });
        }
        Ok((x0, n))
    }
}

/// Runs `work` on a pool of `threads` threads, or on rayon's global pool (every core)
/// for `None`.
pub(crate) fn in_pool<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> T + Send,
) -> Result<T, Error> {
    match threads {
        Some(t) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .map_err(|e| Error::option("threads", format!("no thread pool: {e}")))?;
            Ok(pool.install(work))
        }
        None => Ok(work()),
    }
}

/// How one fit of a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitOutcome {
    /// The solver ran to a status (converged or not: see [`Status::is_success`]).
    Solved(Status),
    /// The fit could not run or was stopped by an error (its parameters are NaN).
    Failed(ErrorKind),
}

impl FitOutcome {
    /// True for a converged fit.
    ///
    /// ```
    /// use trustfit::{FitOutcome, Status, ErrorKind};
    /// assert!(FitOutcome::Solved(Status::Gtol).success());
    /// assert!(!FitOutcome::Failed(ErrorKind::NonFinite).success());
    /// ```
    pub fn success(self) -> bool {
        matches!(self, FitOutcome::Solved(s) if s.is_success())
    }
}

/// How one fit of a batch went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSummary {
    /// Final cost (NaN for a failed fit).
    pub cost: f64,
    /// Residual evaluations.
    pub nfev: usize,
    /// Jacobian evaluations (0 where scipy reports none).
    pub njev: usize,
    /// How the fit ended.
    pub outcome: FitOutcome,
}

/// The results of [`solve_batch`] (fit `k`'s parameters are `x[k·n..(k+1)·n]`).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult {
    /// Number of parameters of each fit.
    pub n: usize,
    /// Parameters, row-major K×n (NaN for failed fits).
    pub x: Vec<f64>,
    /// One summary per fit.
    pub fits: Vec<FitSummary>,
}

impl BatchResult {
    /// `count` fits of `n` parameters not solved yet: NaN parameters, failed with `kind`
    /// until a solve writes them. Filled by the current rayon pool's threads: at 10⁶
    /// fits one thread took a twentieth of a lock-step batch's time to fault in and fill
    /// these (and the covariances).
    pub(crate) fn unsolved(count: usize, n: usize, kind: ErrorKind) -> Self {
        let unsolved = FitSummary {
            cost: f64::NAN,
            nfev: 0,
            njev: 0,
            outcome: FitOutcome::Failed(kind),
        };
        BatchResult {
            n,
            x: rayon::iter::repeat_n(f64::NAN, count * n).collect(),
            fits: rayon::iter::repeat_n(unsolved, count).collect(),
        }
    }

    /// Fit `k`'s parameters.
    ///
    /// ```
    /// let fit = |k: usize| trustfit::from_fn(1, move |x: &[f64], f: &mut [f64]| f[0] = x[0] - k as f64);
    /// let r = trustfit::solve_batch(3, fit, trustfit::Starts::Shared(&[0.0]), &Default::default(), None).unwrap();
    /// assert!((r.params(2)[0] - 2.0).abs() < 1e-8);
    /// ```
    pub fn params(&self, k: usize) -> &[f64] {
        &self.x[k * self.n..(k + 1) * self.n]
    }

    /// Number of converged fits.
    ///
    /// ```
    /// let fit = |_k: usize| trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0]);
    /// let r = trustfit::solve_batch(4, fit, trustfit::Starts::Shared(&[1.0]), &Default::default(), None);
    /// assert_eq!(r.unwrap().converged(), 4);
    /// ```
    pub fn converged(&self) -> usize {
        self.fits.iter().filter(|f| f.outcome.success()).count()
    }
}

/// Solves `count` independent problems of one shape: `problem(k)` builds fit `k`
/// (typically a closure over row `k` of the data), `starts` one start for all or one per
/// fit. `threads`: `None` for rayon's global pool (all
/// cores), `Some(t)` for a pool of `t` threads. The options are checked once, as
/// [`least_squares`](crate::least_squares) checks them, before any fit runs.
///
/// # Errors
/// Invalid options or shapes (of the first problem, or starts of the wrong length);
/// a failure of one fit is its [`FitOutcome::Failed`], not an error.
///
/// ```
/// use trustfit::{solve_batch, from_fn, Options, Starts};
/// // y = a·exp(b·t) on 8 points, one fit per row of `data`.
/// let t: Vec<f64> = (0..8).map(|i| i as f64 * 0.25).collect();
/// let data: Vec<Vec<f64>> = (0..100)
///     .map(|k| t.iter().map(|&t| (1.0 + k as f64 * 0.01) * (-0.5 * t).exp()).collect())
///     .collect();
/// let model = |k: usize| {
///     let (t, y) = (&t, &data[k]);
///     from_fn(8, move |p: &[f64], f: &mut [f64]| {
///         for i in 0..8 { f[i] = p[0] * (p[1] * t[i]).exp() - y[i]; }
///     })
/// };
/// let r = solve_batch(100, model, Starts::Shared(&[1.0, 0.0]), &Options::default(), None).unwrap();
/// assert_eq!(r.converged(), 100);
/// assert!((r.params(50)[0] - 1.5).abs() < 1e-6 && (r.params(50)[1] + 0.5).abs() < 1e-6);
/// ```
pub fn solve_batch<P, F>(
    count: usize,
    problem: F,
    starts: Starts<'_>,
    options: &Options,
    threads: Option<usize>,
) -> Result<BatchResult, Error>
where
    P: Residuals,
    F: Fn(usize) -> P + Sync,
{
    let each = PerFit {
        len: 0,
        scratch: || (),
        write: |_: &mut (), _: &P, _: &Solution<'_>, _: &mut [f64]| Ok(()),
    };
    solve_each(count, problem, starts, options, threads, each).map(|(r, _)| r)
}

/// What [`solve_each`] computes per fit beyond x and the summary: `len` values written
/// by `write` from the fit's solution, with a per-thread `scratch` (e.g. a covariance
/// workspace). An error of `write` marks the fit failed (x and its values NaN).
pub(crate) struct PerFit<I, W> {
    pub len: usize,
    pub scratch: I,
    pub write: W,
}

/// [`solve_batch`], plus `each.len` values per fit (row-major count×len).
pub(crate) fn solve_each<P, F, S, I, W>(
    count: usize,
    problem: F,
    starts: Starts<'_>,
    options: &Options,
    threads: Option<usize>,
    each: PerFit<I, W>,
) -> Result<(BatchResult, Vec<f64>), Error>
where
    P: Residuals,
    F: Fn(usize) -> P + Sync,
    I: Fn() -> S + Sync,
    W: Fn(&mut S, &P, &Solution<'_>, &mut [f64]) -> Result<(), ErrorKind> + Sync,
{
    let (x0, n) = starts.checked(count)?;
    let start = |k: usize| -> &[f64] {
        if x0.len() == n {
            x0
        } else {
            &x0[k * n..(k + 1) * n]
        }
    };
    let width = each.len.max(1);
    if count == 0 {
        return Ok((
            BatchResult::unsolved(0, n, ErrorKind::InvalidOption),
            Vec::new(),
        ));
    }
    // Every option and shape check, once, on the first problem.
    Solver::new(&problem(0), start(0), options)?;
    let run = |result: &mut BatchResult, extra: &mut Vec<f64>| {
        let rows = result.x.par_chunks_mut(n).zip(extra.par_chunks_mut(width));
        rows.zip(result.fits.par_iter_mut())
            .enumerate()
            .for_each_init(
                || {
                    (
                        Solver::new(&problem(0), start(0), options),
                        (each.scratch)(),
                    )
                },
                |(solver, scratch), (k, ((x, values), fit))| {
                    if let Ok(solver) = solver.as_mut() {
                        let p = problem(k);
                        if let Some(s) = solve_one(solver, &p, start(k), x, fit)
                            && let Err(kind) =
                                (each.write)(scratch, &p, &s, &mut values[..each.len])
                        {
                            x.fill(f64::NAN);
                            values.fill(f64::NAN);
                            fit.outcome = FitOutcome::Failed(kind);
                        }
                    }
                },
            );
    };
    let (result, mut extra) = in_pool(threads, || {
        let mut result = BatchResult::unsolved(count, n, ErrorKind::InvalidOption);
        let mut extra: Vec<f64> = rayon::iter::repeat_n(f64::NAN, count * width).collect();
        run(&mut result, &mut extra);
        (result, extra)
    })?;
    if each.len == 0 {
        extra.clear();
    }
    Ok((result, extra))
}

/// Solves one fit into its row of parameters and its summary; the solution, for what
/// else the caller computes from it.
fn solve_one<'s, P: Residuals>(
    solver: &'s mut Solver,
    problem: &P,
    x0: &[f64],
    x: &mut [f64],
    fit: &mut FitSummary,
) -> Option<Solution<'s>> {
    match solver.solve(problem, x0) {
        Ok(s) => {
            x.copy_from_slice(s.x);
            *fit = FitSummary {
                cost: s.cost,
                nfev: s.nfev,
                njev: s.njev.unwrap_or(0),
                outcome: FitOutcome::Solved(s.status),
            };
            Some(s)
        }
        Err(e) => {
            fit.nfev = e.best().map_or(0, |b| b.nfev);
            fit.outcome = FitOutcome::Failed(e.kind());
            None
        }
    }
}
