//! `trustfit bench --suite batch`: the batch workload of Gpufit's CPU/GPU comparison
//! (`DATA_DIR/batch/gauss2d_5x5_100k.bin`: 10⁵ circular 2-D Gaussians on 5×5 pixels),
//! fitted by [`trustfit::solve_batch`] with the settings of the peer `cpufit_bench`:
//! tolerance 1e-4 (ftol = xtol; `--ftol` overrides ftol), at most 10 iterations
//! (max_nfev = 11: the start and one evaluation per iteration), the model's analytic
//! Jacobian (or `--jac` differences). `--n N` beyond the file's fits tiles them.
//! `--repeat R` timed runs, one JSON line each, with `cpufit_bench`'s fields plus
//! `method`, `jac`, `threads`, `mean_nfev` and `x_digest` (a hash of every fitted
//! parameter's bits: equal digests, equal results, e.g. across thread counts).

use std::io::Write;
use std::time::Instant;

use trustfit::{LockstepOptions, Options, Starts, solve_batch, solve_lockstep};
use trustfit_problems::gauss2d::Workload;

use crate::CliError;
use crate::bench::{BenchConfig, Summary};

/// Cpufit's tolerance on the relative change of χ² (the peers' setting).
pub const TOLERANCE: f64 = 1e-4;

/// Cpufit's iteration cap, as a cap on residual evaluations (start + one per iteration).
pub const MAX_NFEV: usize = 11;

/// The solver options of the batch suite for `cfg`.
///
/// ```
/// let cfg = trustfit_cli::bench::BenchConfig::new(trustfit_cli::bench::Suite::Batch);
/// let o = trustfit_cli::bench_batch::options(&cfg);
/// assert_eq!((o.ftol, o.xtol, o.max_nfev), (Some(1e-4), Some(1e-4), Some(11)));
/// ```
pub fn options(cfg: &BenchConfig) -> Options {
    Options {
        ftol: Some(cfg.ftol.unwrap_or(TOLERANCE)),
        xtol: Some(TOLERANCE),
        max_nfev: Some(MAX_NFEV),
        ..cfg.options()
    }
}

/// The lock-step engine's options for the suite's `options` (same tolerances and
/// evaluation cap) on `threads` threads.
///
/// ```
/// let cfg = trustfit_cli::bench::BenchConfig::new(trustfit_cli::bench::Suite::Batch);
/// let o = trustfit_cli::bench_batch::lockstep_options(&trustfit_cli::bench_batch::options(&cfg), 2);
/// assert_eq!((o.ftol, o.max_nfev, o.threads), (1e-4, Some(11), Some(2)));
/// ```
pub fn lockstep_options(options: &Options, threads: usize) -> LockstepOptions {
    let defaults = LockstepOptions::default();
    LockstepOptions {
        ftol: options.ftol.unwrap_or(defaults.ftol),
        xtol: options.xtol.unwrap_or(defaults.xtol),
        gtol: options.gtol.unwrap_or(defaults.gtol),
        max_nfev: options.max_nfev,
        threads: Some(threads),
        ..defaults
    }
}

/// FNV-1a over the bits of `values`: a short fingerprint of a batch's results.
///
/// ```
/// let a = trustfit_cli::bench_batch::digest(&[1.0, 2.0]);
/// assert_ne!(a, trustfit_cli::bench_batch::digest(&[2.0, 1.0]));
/// ```
pub fn digest(values: &[f64]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Median of |estimate − truth| of parameter `j` over every fit (a non-finite estimate
/// counts as +∞, as in `cpufit_bench`).
fn median_abs_err(x: &[f64], w: &Workload, j: usize) -> f64 {
    let n = trustfit_problems::gauss2d::N_PARAMS;
    let mut errs: Vec<f64> = (0..w.n_fits())
        .map(|k| {
            let e = (x[k * n + j] - w.truth(k)[j]).abs();
            if e.is_finite() { e } else { f64::INFINITY }
        })
        .collect();
    errs.sort_by(f64::total_cmp);
    match errs.len() {
        0 => f64::NAN,
        l if l % 2 == 1 => errs[l / 2],
        l => 0.5 * (errs[l / 2 - 1] + errs[l / 2]),
    }
}

/// Runs the batch suite.
///
/// # Errors
/// [`CliError::Data`] when the workload file is missing or malformed,
/// [`CliError::Usage`] for options the batch cannot run, [`CliError::Io`] on write errors.
pub fn run(cfg: &BenchConfig, out: &mut dyn Write, summary: &mut Summary) -> Result<(), CliError> {
    if cfg.leastsq {
        return Err(CliError::Usage(
            "--method leastsq has no batch form: use lm (the same MINPACK iteration), trf or dogbox".into(),
        ));
    }
    let path = Workload::path_in(&cfg.data_dir);
    let w = Workload::read(&path, cfg.n_fits).map_err(|e| CliError::Data(e.to_string()))?;
    let problem = format!("gauss2d_{0}x{0}", w.size());
    if cfg
        .problem
        .as_ref()
        .is_some_and(|p| !problem.contains(&p.to_lowercase()))
    {
        return Err(CliError::Usage(format!(
            "no batch case matches --problem {:?} (the batch suite has {problem})",
            cfg.problem.as_deref().unwrap_or("")
        )));
    }
    let options = options(cfg);
    let threads = cfg
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    for run in 0..cfg.repeats.min_reps {
        let t0 = Instant::now();
        let r = if cfg.lockstep {
            solve_lockstep(
                &w,
                w.n_fits(),
                Starts::PerFit(w.starts()),
                &lockstep_options(&options, threads),
            )
        } else {
            solve_batch(
                w.n_fits(),
                |k| w.fit(k),
                Starts::PerFit(w.starts()),
                &options,
                Some(threads),
            )
        }
        .map_err(|e| CliError::Usage(e.to_string()))?;
        let time_s = t0.elapsed().as_secs_f64();
        let fits = w.n_fits().max(1) as f64;
        let nfev: usize = r.fits.iter().map(|f| f.nfev).sum();
        let njev: usize = r.fits.iter().map(|f| f.njev).sum();
        let row = serde_json::json!({
            "suite": "batch",
            "problem": problem,
            "solver": "trustfit",
            "method": if cfg.lockstep { "lockstep" } else { cfg.method.as_str() },
            "jac": cfg.jac.as_str(),
            "n_fits": w.n_fits(),
            "threads": threads,
            "time_s": time_s,
            "fits_per_s": w.n_fits() as f64 / time_s,
            "converged": r.converged(),
            // Cpufit counts LM trial steps: every evaluation after the start.
            "mean_iterations": if cfg.lockstep { (nfev as f64 - fits) / fits } else { njev as f64 / fits },
            "mean_nfev": nfev as f64 / fits,
            "median_abs_err_x0": median_abs_err(&r.x, &w, 1),
            "median_abs_err_y0": median_abs_err(&r.x, &w, 2),
            "run": run,
            "precision": "float64",
            "x_digest": digest(&r.x),
            "options": {"ftol": options.ftol, "xtol": options.xtol, "gtol": options.gtol, "max_nfev": MAX_NFEV},
        });
        writeln!(out, "{row}").map_err(CliError::Io)?;
        out.flush().map_err(CliError::Io)?;
        summary.cases += 1;
        summary.nfev += nfev;
        summary.njev += njev;
        summary.times.push(time_s);
    }
    Ok(())
}
