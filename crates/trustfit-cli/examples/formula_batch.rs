//! The batch suite's two lock-step models in one process, run alternately: the
//! analytic Gaussian (`trustfit bench --suite batch --method lockstep`) and the formula
//! model as `trustfit.batch.curve_fit` runs it (curve_fit rows, pcov), minus Python's
//! conversions. For profiling the formula path with symbols, and for A/B timings
//! that share one machine state.
//! Usage: `formula_batch [THREADS] [ROUNDS]` with `TRUSTFIT_DATA_DIR` set. Besides
//! wall-clock rates it prints rates per CPU second (utime + stime from
//! /proc/self/stat, in 10 ms ticks): less disturbed by other processes taking the
//! cores, though not by their sharing caches.

use std::cell::RefCell;
use std::time::Instant;

use trustfit::{
    BatchCurveFitOptions, BatchSolver, BlockModel, CallbackError, Evaluation, Options, Starts,
    curve_fit_batch_lockstep, solve_lockstep,
};
use trustfit_cli::bench_batch::{MAX_NFEV, TOLERANCE, lockstep_options};
use trustfit_formula::{Formula, Workspace};
use trustfit_problems::gauss2d::Workload;

const MODEL: &str = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b";

/// The formula over the pixel grid, as the Python binding's `FormulaModel`.
struct FormulaModel<'a> {
    formula: &'a Formula,
    cols: [&'a [f64]; 2],
}

thread_local! {
    static WS: RefCell<Workspace> = RefCell::new(Workspace::new());
}

impl BlockModel for FormulaModel<'_> {
    fn num_residuals(&self) -> usize {
        self.cols[0].len()
    }

    fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError> {
        WS.with(|ws| {
            self.formula
                .eval_jacobian_fits(&mut ws.borrow_mut(), e.x, &self.cols, e.f, e.jac)
                .map_err(|e| CallbackError::from(e.to_string()))
        })
    }
}

/// Nanoseconds of CPU time the process has used (user + system, threads that have
/// ended included; clock ticks, so 10 ms steps), from /proc/self/stat (0 without it).
fn cpu_ns() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The fields after the command name (which may hold spaces) in parentheses:
    // utime and stime are the 12th and 13th.
    let fields = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = fields
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks * 10_000_000
}

/// Runs `f`, returning its result, fits per wall-clock second and per CPU second.
fn timed<T>(k: usize, f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t0, c0) = (Instant::now(), cpu_ns());
    let r = f();
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), (cpu_ns() - c0) as f64 * 1e-9);
    (r, k as f64 / wall, k as f64 / cpu)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|s| s.parse::<usize>().ok());
    let threads = args.next().flatten().unwrap_or(2);
    let rounds = args.next().flatten().unwrap_or(3);
    let dir = std::env::var("TRUSTFIT_DATA_DIR").unwrap_or_else(|_| "../shared/data".into());
    let w = Workload::read(&Workload::path_in(dir.as_ref()), None)?;
    let (k, m, size) = (w.n_fits(), w.n_points(), w.size());
    let y: Vec<f64> = (0..k).flat_map(|i| w.data(i).iter().copied()).collect();
    let xs: Vec<f64> = (0..m).map(|i| (i % size) as f64).collect();
    let ys: Vec<f64> = (0..m).map(|i| (i / size) as f64).collect();
    let formula = Formula::parse(MODEL, &["x", "y"])?;
    let model = FormulaModel {
        formula: &formula,
        cols: [&xs, &ys],
    };
    let options = Options {
        ftol: Some(TOLERANCE),
        xtol: Some(TOLERANCE),
        max_nfev: Some(MAX_NFEV),
        ..Options::default()
    };
    let mut opts = BatchCurveFitOptions::new(Starts::PerFit(w.starts()));
    opts.solver = BatchSolver::Lockstep;
    opts.options = options.clone();
    opts.threads = Some(threads);
    // Best wall and CPU rates: analytic, formula.
    let mut best = [[0.0f64; 2]; 2];
    for _ in 0..rounds {
        let lopts = lockstep_options(&options, threads);
        let (r, aw, ac) = timed(k, || {
            solve_lockstep(&w, k, Starts::PerFit(w.starts()), &lopts)
        });
        let (fit, fw, fc) = timed(k, || curve_fit_batch_lockstep(&model, &y, &opts));
        let (r, fit) = (r?, fit?);
        let same = r.x.iter().zip(&fit.popt).filter(|(a, b)| a == b).count();
        println!(
            "analytic {aw:.0} fits/s ({ac:.0}/cpu s)  formula {fw:.0} ({fc:.0}/cpu s)  ratio {:.3} (cpu {:.3})  popt equal: {same}/{}",
            fw / aw,
            fc / ac,
            r.x.len()
        );
        for (b, v) in best.iter_mut().zip([[aw, ac], [fw, fc]]) {
            b[0] = b[0].max(v[0]);
            b[1] = b[1].max(v[1]);
        }
    }
    let [a, f] = best;
    println!(
        "best: analytic {:.0} ({:.0}/cpu s)  formula {:.0} ({:.0}/cpu s)  ratio {:.3} (cpu {:.3})",
        a[0],
        a[1],
        f[0],
        f[1],
        f[0] / a[0],
        f[1] / a[1]
    );
    Ok(())
}
