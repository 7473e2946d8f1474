//! Lock-step Levenberg–Marquardt for many small fits (Gpufit's scheme, on the CPU).
//!
//! Fits are taken in blocks; each round, every active fit of a block computes its
//! damped step from its own normal equations `(JᵀJ + λ·diag(d)) δ = −Jᵀf` (Marquardt's
//! scaling `d` = the largest diagonal of JᵀJ seen so far), then the model is called once
//! for all of the block's trial points ([`BlockModel`]). A step that lowers χ² is taken
//! and λ divided by 10; otherwise λ is multiplied by 10. A fit stops when
//! - `ftol`: a trial changed χ² by at most `ftol·χ²` (status 2; Gpufit's rule, with
//!   Gpufit's tolerance 1e-4 and `max_nfev = 11` this is `cpufit`'s stopping rule),
//! - `xtol`: the step was at most `xtol·(xtol + ‖x‖)` (3; 4 when both hold),
//! - `gtol`: the scaled gradient `max |Jⱼᵀf|/(‖Jⱼ‖‖f‖)` is at most `gtol` (1),
//! - or after `max_nfev` evaluations (0; not a success).
//!
//! Why a second LM beside MINPACK's `lm`: for thousands of fits of 5 parameters on 25
//! points, the QR-based trust-region machinery costs more than the model; normal
//! equations cost `m·n²/2 + n³/6` per step, and one call per block lets a Python or
//! formula model pay its overhead once per round instead of once per fit. A fit's
//! arithmetic never reads another fit's numbers, so results are identical for every
//! block size and thread count, and equal to solving that fit alone (a batch of one).

mod covariance;
mod engine;
mod kernels;
mod model;

pub use model::{BlockModel, BlockValues, Differenced, Evaluation, PerFitModel};

use rayon::prelude::*;

use crate::batch::{BatchResult, Starts, in_pool};
use crate::error::{Error, ErrorKind};
use crate::options::Bounds;
use engine::{Block, Limits};

/// Options of [`solve_lockstep`] (defaults as `least_squares`'s: tolerances 1e-8,
/// `max_nfev = 100·n`).
///
/// ```
/// let o = trustfit::LockstepOptions { ftol: 1e-4, xtol: 1e-4, max_nfev: Some(11), ..Default::default() };
/// assert_eq!(o.block, 64);
/// ```
#[derive(Debug, Clone)]
pub struct LockstepOptions {
    /// Stop when a trial changes χ² by at most `ftol·χ²`.
    pub ftol: f64,
    /// Stop when a step is at most `xtol·(xtol + ‖x‖)`.
    pub xtol: f64,
    /// Stop when the scaled gradient is at most `gtol`.
    pub gtol: f64,
    /// Evaluations per fit, the start's included (`None`: 100·n).
    pub max_nfev: Option<usize>,
    /// Box constraints: a parameter on a bound its gradient presses against is held
    /// there and the others' step solved without it, then the step is projected on
    /// the box (Gpufit projects only, and stalls short of a minimum on a bound); a fit
    /// whose start lies outside fails with [`ErrorKind::InfeasibleStart`].
    pub bounds: Bounds,
    /// Fits per block (one model call per block and round).
    pub block: usize,
    /// Worker threads (`None`: rayon's global pool, every core).
    pub threads: Option<usize>,
}

impl Default for LockstepOptions {
    fn default() -> Self {
        Self {
            ftol: 1e-8,
            xtol: 1e-8,
            gtol: 1e-8,
            max_nfev: None,
            bounds: Bounds::none(),
            block: 64,
            threads: None,
        }
    }
}

/// Solves `count` fits of `model` in lock-step, from `starts` (n = the start's length).
///
/// # Errors
/// Shapes (`starts`), tolerances or bounds that are invalid; an error returned by the
/// model (the batch stops and returns it; no partial results). A fit that cannot run
/// (not finite at its start, start outside the bounds) is its own
/// [`FitOutcome::Failed`](crate::FitOutcome::Failed), with NaN parameters.
///
/// ```
/// use trustfit::{solve_lockstep, LockstepOptions, PerFitModel, from_fn, Starts};
/// // y = a·exp(b·t) on 8 points, one fit per row of `data`.
/// let t: Vec<f64> = (0..8).map(|i| i as f64 * 0.25).collect();
/// let data: Vec<Vec<f64>> = (0..100)
///     .map(|k| t.iter().map(|&t| (1.0 + k as f64 * 0.01) * (-0.5 * t).exp()).collect())
///     .collect();
/// let model = PerFitModel::new(8, |k: usize| {
///     let (t, y) = (&t, &data[k]);
///     from_fn(8, move |p: &[f64], f: &mut [f64]| {
///         for i in 0..8 { f[i] = p[0] * (p[1] * t[i]).exp() - y[i]; }
///     })
/// });
/// let r = solve_lockstep(&model, 100, Starts::Shared(&[1.0, 0.0]), &LockstepOptions::default()).unwrap();
/// assert_eq!(r.converged(), 100);
/// assert!((r.params(50)[0] - 1.5).abs() < 1e-6 && (r.params(50)[1] + 0.5).abs() < 1e-6);
/// ```
pub fn solve_lockstep<M: BlockModel + ?Sized>(
    model: &M,
    count: usize,
    starts: Starts<'_>,
    opts: &LockstepOptions,
) -> Result<BatchResult, Error> {
    run(model, count, starts, opts, false).map(|(r, _)| r)
}

/// [`solve_lockstep`], plus each fit's unscaled covariance `(JᵀJ)⁻¹` at its solution
/// (row-major K blocks of n×n) when `with_cov`.
pub(crate) fn run<M: BlockModel + ?Sized>(
    model: &M,
    count: usize,
    starts: Starts<'_>,
    opts: &LockstepOptions,
    with_cov: bool,
) -> Result<(BatchResult, Vec<f64>), Error> {
    let (x0, n) = starts_of(starts, count)?;
    check(opts)?;
    let m = model.num_residuals();
    let (lb, ub) = if opts.bounds.is_unbounded() {
        (Vec::new(), Vec::new())
    } else {
        opts.bounds.resolve(n)?
    };
    let nn = if with_cov { n * n } else { 0 };
    // One value per fit without covariances, so that every block gets its chunk.
    let width = nn.max(1);
    let block = opts.block.max(1);
    let limits = Limits { lb: &lb, ub: &ub };
    let shared: Vec<f64>;
    let x0 = if x0.len() == n && count > 1 {
        shared = x0.repeat(block.min(count));
        Start::Shared(&shared)
    } else {
        Start::PerFit(x0)
    };
    let solve_all = |result: &mut BatchResult, cov: &mut [f64]| -> Result<(), Error> {
        let rows = result.x.par_chunks_mut(block * n);
        let fits = result.fits.par_chunks_mut(block);
        let covs = cov.par_chunks_mut(block * width);
        rows.zip(fits).zip(covs).enumerate().try_for_each_init(
            || Block::new(block, n, m),
            |ws, (b, ((x, fits), c))| {
                let first = b * block;
                let starts = x0.rows(first, fits.len(), n);
                let c = if nn == 0 { &mut c[..0] } else { c };
                ws.solve(model, first, starts, opts, &limits, (x, fits, c))
                    .map_err(Error::from)
            },
        )
    };
    let (result, mut cov) = in_pool(opts.threads, || {
        // Filled on the pool (the covariances alone are 200 MB at 10⁶ fits).
        let mut result = BatchResult::unsolved(count, n, ErrorKind::NonFinite);
        let mut cov: Vec<f64> = rayon::iter::repeat_n(f64::NAN, count * width).collect();
        solve_all(&mut result, &mut cov).map(|()| (result, cov))
    })??;
    if nn == 0 {
        cov.clear();
    }
    Ok((result, cov))
}

/// The starts of a run: one repeated to a block's length, or one per fit.
enum Start<'a> {
    Shared(&'a [f64]),
    PerFit(&'a [f64]),
}

impl Start<'_> {
    fn rows(&self, first: usize, count: usize, n: usize) -> &[f64] {
        match self {
            Start::Shared(x) => &x[..count * n],
            Start::PerFit(x) => &x[first * n..(first + count) * n],
        }
    }
}

fn starts_of<'a>(starts: Starts<'a>, count: usize) -> Result<(&'a [f64], usize), Error> {
    let (x0, n) = starts.checked(count)?;
    if x0.iter().any(|v| !v.is_finite()) && x0.len() == n {
        return Err(Error::option("x0", "must only have finite values."));
    }
    Ok((x0, n))
}

fn check(opts: &LockstepOptions) -> Result<(), Error> {
    for (name, v) in [
        ("ftol", opts.ftol),
        ("xtol", opts.xtol),
        ("gtol", opts.gtol),
    ] {
        if v.is_nan() || v < 0.0 {
            return Err(Error::option(name, "must be non-negative."));
        }
    }
    if opts.ftol < f64::EPSILON && opts.xtol < f64::EPSILON && opts.gtol < f64::EPSILON {
        return Err(Error::option(
            "ftol",
            "At least one of the tolerances must be higher than machine epsilon.",
        ));
    }
    if opts.max_nfev == Some(0) {
        return Err(Error::option(
            "max_nfev",
            "must be None or positive integer.",
        ));
    }
    Ok(())
}
