//! The batch suite's two lock-step models in one process, run alternately: the
//! analytic Gaussian (`trustfit bench --suite batch --method lockstep`) and the formula
//! model as `trustfit.batch.curve_fit` runs it (curve_fit rows, pcov), minus Python's
//! conversions. For profiling the formula path with symbols, and for A/B timings
//! that share one machine state.
//! Usage: `formula_batch [THREADS] [ROUNDS]` with `TRUSTFIT_DATA_DIR` set.

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
    let (mut best_a, mut best_f) = (0.0f64, 0.0f64);
    for _ in 0..rounds {
        let t0 = Instant::now();
        let r = solve_lockstep(
            &w,
            k,
            Starts::PerFit(w.starts()),
            &lockstep_options(&options, threads),
        )?;
        let analytic = k as f64 / t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let fit = curve_fit_batch_lockstep(&model, &y, &opts)?;
        let formula_rate = k as f64 / t0.elapsed().as_secs_f64();
        let same = r.x.iter().zip(&fit.popt).filter(|(a, b)| a == b).count();
        println!(
            "analytic {analytic:.0} fits/s  formula {formula_rate:.0} fits/s  ratio {:.3}  (popt equal to analytic: {same}/{})",
            formula_rate / analytic,
            r.x.len()
        );
        best_a = best_a.max(analytic);
        best_f = best_f.max(formula_rate);
    }
    println!(
        "best: analytic {best_a:.0}  formula {best_f:.0}  ratio {:.3}",
        best_f / best_a
    );
    Ok(())
}
