//! `trustfit bench`: solve a benchmark suite and print one JSON line per case.
//!
//! The lines follow the schema of the peer benchmarks
//! (`shared/bench-peers/README.md`, "JSON line schema") so that trustfit's
//! rows can be joined with cminpack / GSL / Ceres / scipy rows on
//! `(suite, problem, start)`:
//!
//! * common: `suite`, `problem`, `start`, `solver` (= "trustfit"), `method`,
//!   `jac`, `tol`, `n`, `m`, then either the result or `error`;
//! * result: `nfev`, `njev` (null when the solver reports none),
//!   `iterations`, `status` (scipy's integer), `success`, `message`,
//!   `cost` and `cost0` (½·Σf² recomputed with the problem code at the
//!   returned point and at the start), `optimality`, `time_s` (median wall
//!   time of one call to [`trustfit::least_squares`], problem construction
//!   excluded), `repeats`, `x` (omitted when n > 100);
//! * minpack: `class` ("global", "local", "other", "unknown": the final
//!   Σf² against the published minima);
//! * nist: `lre_params` (worst parameter LRE, also written as the peers'
//!   `lre_min_param`), `lre_rss` (LRE of 2·cost against the certified RSS)
//!   , `cert_cost` (half the certified RSS) and `lre_stderr` (worst LRE of the
//!   standard errors, √diag of curve_fit's pcov, against the certified std. deviations).
//!
//! A progress bar is drawn on standard error when it is a terminal (never
//! when piped). Repeats follow the peers' policy ([`RepeatPolicy`]): at least `--repeat`
//! timed solves, more while the accumulated time is below 0.1 s, at most
//! 2000 (or `--repeat` if larger); `time_s` is the median.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use trustfit::{EPS, JacSpec, Method, Options, Report};
use trustfit_problems::TestProblem;
use trustfit_problems::minpack;
use trustfit_problems::nist::{self, NistProblem};

use crate::CliError;
use crate::adapter::ProblemAdapter;

/// Solutions with more parameters than this are not written out (`x` omitted).
pub const MAX_X_LEN: usize = 100;

/// A benchmark suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// The 53 MINPACK-1 test-driver cases.
    Minpack,
    /// The 27 NIST StRD nonlinear regression datasets, two starts each.
    Nist,
    /// Large sparse problems (Broyden tridiagonal, n = 10⁴, 10⁵, 10⁶).
    Sparse,
    /// Bundle adjustment (BAL files).
    Ba,
    /// Many small fits: Gpufit's 2-D Gaussian workload ([`crate::bench_batch`]).
    Batch,
}

impl Suite {
    /// The suite's name in the JSON lines and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Minpack => "minpack",
            Suite::Nist => "nist",
            Suite::Sparse => "sparse",
            Suite::Ba => "ba",
            Suite::Batch => "batch",
        }
    }
}

/// Tolerance preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tol {
    /// scipy's defaults: ftol = xtol = gtol = 1e-8.
    #[default]
    Default,
    /// ftol = xtol = gtol = machine epsilon (the smallest values scipy's `lm` accepts).
    Tight,
}

impl Tol {
    /// The preset's name ("default" or "tight").
    pub fn as_str(self) -> &'static str {
        match self {
            Tol::Default => "default",
            Tol::Tight => "tight",
        }
    }

    /// The value used for all three tolerances.
    pub fn value(self) -> f64 {
        match self {
            Tol::Default => 1e-8,
            Tol::Tight => EPS,
        }
    }
}

/// How often a case is solved for timing (the peers' policy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RepeatPolicy {
    /// At least this many timed solves.
    pub min_reps: usize,
    /// Keep repeating while the accumulated time is below this many seconds...
    pub min_time: f64,
    /// ...but stop after this many solves (unless `min_reps` asks for more).
    pub max_reps: usize,
}

impl Default for RepeatPolicy {
    fn default() -> Self {
        Self {
            min_reps: 5,
            min_time: 0.1,
            max_reps: 2000,
        }
    }
}

impl RepeatPolicy {
    /// The peers' policy with at least `min_reps` solves (the cap grows to `min_reps` if needed).
    pub fn with_min_reps(min_reps: usize) -> Self {
        let d = Self::default();
        Self {
            min_reps,
            max_reps: d.max_reps.max(min_reps),
            ..d
        }
    }

    /// Whether another timed solve is due after `done` solves taking `elapsed` seconds.
    ///
    /// ```
    /// use trustfit_cli::bench::RepeatPolicy;
    /// let p = RepeatPolicy { min_reps: 2, min_time: 0.1, max_reps: 10 };
    /// assert!(p.more(1, 5.0));     // fewer than min_reps
    /// assert!(p.more(2, 0.05));    // still below min_time
    /// assert!(!p.more(2, 0.2));    // enough of both
    /// assert!(!p.more(10, 0.0));   // cap reached
    /// ```
    pub fn more(&self, done: usize, elapsed: f64) -> bool {
        if done < self.min_reps {
            return true;
        }
        done < self.max_reps && elapsed < self.min_time
    }
}

/// Everything `trustfit bench` needs to know.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Which suite to run.
    pub suite: Suite,
    /// Solver method.
    pub method: Method,
    /// Run `leastsq` (MINPACK LMDER with the analytic Jacobian, LMDIF otherwise) with
    /// cminpack_bench's settings (tolerances as `tol`, maxfev 100·n / 100·n·(n+1)),
    /// instead of `least_squares`.
    pub leastsq: bool,
    /// Batch suite: run [`trustfit::solve_lockstep`] (Gpufit's lock-step LM) instead of
    /// one `least_squares` solve per fit.
    pub lockstep: bool,
    /// Jacobian: analytic (the problem's own) or finite differences.
    pub jac: JacSpec,
    /// Tolerance preset.
    pub tol: Tol,
    /// Repeat policy for the timing.
    pub repeats: RepeatPolicy,
    /// Folder holding `nist-strd/` and `bal/`.
    pub data_dir: PathBuf,
    /// Only cases whose problem label contains this (case-insensitive).
    pub problem: Option<String>,
    /// Also print a human summary to the error stream.
    pub summary: bool,
    /// Trust-region solver (`None`: the core's default for the Jacobian's kind).
    pub tr_solver: Option<trustfit::TrSolver>,
    /// ftol instead of the preset's (rows then carry `"tol": "custom"` only through this field).
    pub ftol: Option<f64>,
    /// Worker threads of the batch and ba suites (`None`: every core).
    pub threads: Option<usize>,
    /// Only the first this many fits of the batch workload.
    pub n_fits: Option<usize>,
}

impl BenchConfig {
    /// Defaults: trf, analytic Jacobian, default tolerances, the peers' repeat policy,
    /// [`trustfit_problems::data::default_data_dir`], every case, no summary.
    pub fn new(suite: Suite) -> Self {
        Self {
            suite,
            method: Method::Trf,
            leastsq: false,
            lockstep: false,
            jac: JacSpec::Analytic,
            tol: Tol::Default,
            repeats: RepeatPolicy::default(),
            data_dir: trustfit_problems::data::default_data_dir(),
            problem: None,
            summary: false,
            tr_solver: None,
            ftol: None,
            threads: None,
            n_fits: None,
        }
    }

    /// The solver options for this configuration.
    pub fn options(&self) -> Options {
        let t = self.tol.value();
        Options {
            method: self.method,
            jac: self.jac,
            ftol: Some(self.ftol.unwrap_or(t)),
            xtol: Some(t),
            gtol: Some(t),
            tr_solver: self.tr_solver,
            ..Default::default()
        }
    }

    /// The row's `tol` label: the preset, or "ftol=<value>" when `--ftol` overrides it.
    pub fn tol_label(&self) -> String {
        match self.ftol {
            Some(f) => format!("{}+ftol={f:e}", self.tol.as_str()),
            None => self.tol.as_str().to_string(),
        }
    }

    fn selects(&self, label: &str) -> bool {
        match &self.problem {
            None => true,
            Some(p) => label.to_lowercase().contains(&p.to_lowercase()),
        }
    }
}

// ---------------------------------------------------------------- rows

/// One JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Suite name.
    pub suite: &'static str,
    /// Problem label (peers' labels).
    pub problem: String,
    /// Start label.
    pub start: &'static str,
    /// Always "trustfit".
    pub solver: &'static str,
    /// Method name.
    pub method: &'static str,
    /// Jacobian kind ("analytic", "2-point", "3-point").
    pub jac: &'static str,
    /// Tolerance preset.
    pub tol: String,
    /// Parameters (absent only when the problem could not be loaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Residuals (absent only when the problem could not be loaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m: Option<usize>,
    /// The result or the error.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A solved case or an error.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// The solver returned a report.
    Solved(Box<Solved>),
    /// The solver (or loading the problem) failed.
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// The fields of a solved case.
#[derive(Debug, Clone, Serialize)]
pub struct Solved {
    /// Residual evaluations.
    pub nfev: usize,
    /// Jacobian evaluations (null when the solver reports none).
    pub njev: Option<usize>,
    /// Outer iterations.
    pub iterations: usize,
    /// scipy's integer status.
    pub status: i32,
    /// scipy's `success`.
    pub success: bool,
    /// scipy's message.
    pub message: &'static str,
    /// ½·Σf² at the returned x, recomputed with the problem code.
    pub cost: f64,
    /// ½·Σf² at the start.
    pub cost0: f64,
    /// First-order optimality reported by the solver.
    pub optimality: f64,
    /// Median wall time of one solve, seconds.
    pub time_s: f64,
    /// Number of timed solves.
    pub repeats: usize,
    /// The solution (omitted when n > 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<Vec<f64>>,
    /// Suite-specific fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Solved {
    /// A solved case from the solver's report; the suite supplies the costs (from its own
    /// problem code), the timing, x when shown and its own fields.
    pub(crate) fn from_report(
        report: &Report,
        (cost, cost0): (f64, f64),
        (time_s, repeats): (f64, usize),
        x: Option<Vec<f64>>,
        extra: Extra,
    ) -> Self {
        Self {
            nfev: report.nfev,
            njev: report.njev,
            iterations: report.nit,
            status: report.status.scipy_status(),
            success: report.success(),
            message: report.message(),
            cost,
            cost0,
            optimality: report.optimality,
            time_s,
            repeats,
            x,
            extra,
        }
    }
}

impl Row {
    /// The row of a case that could not be loaded or solved.
    pub(crate) fn failed(
        cfg: &BenchConfig,
        suite: &'static str,
        problem: String,
        start: &'static str,
        error: String,
    ) -> Self {
        Self {
            suite,
            problem,
            start,
            solver: "trustfit",
            method: cfg.method.as_str(),
            jac: cfg.jac.as_str(),
            tol: cfg.tol_label(),
            n: None,
            m: None,
            outcome: Outcome::Failed { error },
        }
    }
}

/// Suite-specific fields of a solved case.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Extra {
    /// MINPACK: class of the final Σf² against the published minima.
    Minpack {
        /// "global", "local", "other" or "unknown".
        class: &'static str,
    },
    /// NIST: log relative errors against the certified values.
    Nist {
        /// Worst parameter LRE.
        lre_params: f64,
        /// The same, under the peers' name.
        lre_min_param: f64,
        /// LRE of 2·cost against the certified RSS.
        lre_rss: f64,
        /// Half the certified RSS.
        cert_cost: f64,
        /// Worst LRE of the standard errors (√diag of curve_fit's pcov at the solution)
        /// against NIST's certified standard deviations; null if not estimable.
        lre_stderr: Option<f64>,
    },
    /// Sparse: how J was handled.
    Sparse {
        /// Trust-region solver used ("lsmr", ...).
        tr_solver: &'static str,
        /// Residual evaluations per differenced Jacobian (null when analytic).
        jac_groups: Option<usize>,
        /// Stored entries of J.
        nnz: usize,
        /// Threads the solve ran on (ba suite).
        #[serde(skip_serializing_if = "Option::is_none")]
        threads: Option<usize>,
    },
}

/// Totals for `--summary`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Rows printed.
    pub cases: usize,
    /// Rows with an error.
    pub errors: usize,
    /// MINPACK classes: global, local, other, unknown.
    pub classes: [usize; 4],
    /// NIST rows with `lre_params ≥ 4`.
    pub nist_lre4: usize,
    /// Total residual evaluations.
    pub nfev: usize,
    /// Total Jacobian evaluations.
    pub njev: usize,
    /// `time_s` of every solved row.
    pub times: Vec<f64>,
    /// Sparse rows: (n, nnz, seconds per iteration) — the cost per iteration should
    /// grow linearly with nnz.
    pub per_iteration: Vec<(usize, usize, f64)>,
}

impl Summary {
    fn add(&mut self, row: &Row) {
        self.cases += 1;
        let s = match &row.outcome {
            Outcome::Solved(s) => s,
            Outcome::Failed { .. } => {
                self.errors += 1;
                return;
            }
        };
        self.nfev += s.nfev;
        self.njev += s.njev.unwrap_or(0);
        self.times.push(s.time_s);
        match &s.extra {
            Extra::Minpack { class } => {
                let k = match *class {
                    "global" => 0,
                    "local" => 1,
                    "other" => 2,
                    _ => 3,
                };
                self.classes[k] += 1;
            }
            Extra::Nist { lre_params, .. } => {
                if *lre_params >= 4.0 {
                    self.nist_lre4 += 1;
                }
            }
            Extra::Sparse { nnz, .. } => {
                let it = s.iterations.max(1) as f64;
                self.per_iteration
                    .push((row.n.unwrap_or(0), *nnz, s.time_s / it));
            }
        }
    }

    /// The human summary line(s) for `suite` and `cfg`.
    pub fn render(&self, cfg: &BenchConfig) -> String {
        let head = format!(
            "trustfit bench --suite {} --method {} --jac {} --tol {}: {} cases ({} errors)",
            cfg.suite.as_str(),
            cfg.method.as_str(),
            cfg.jac.as_str(),
            cfg.tol.as_str(),
            self.cases,
            self.errors
        );
        let mut times = self.times.clone();
        let med = median(&mut times);
        let tail = format!(
            "nfev {}, njev {}; median time {}",
            self.nfev,
            self.njev,
            fmt_seconds(med)
        );
        match cfg.suite {
            Suite::Minpack => format!(
                "{head}\n  global {}, local {}, other {}, unknown {}\n  {tail}",
                self.classes[0], self.classes[1], self.classes[2], self.classes[3]
            ),
            Suite::Nist => format!(
                "{head}\n  lre_params >= 4: {} of {}\n  {tail}",
                self.nist_lre4, self.cases
            ),
            Suite::Batch => format!("{head}\n  {tail}"),
            Suite::Sparse | Suite::Ba => {
                let lines: Vec<String> = self
                    .per_iteration
                    .iter()
                    .map(|&(n, nnz, t)| {
                        format!(
                            "n {n}: {} per iteration, {:.2} ns per nonzero of J",
                            fmt_seconds(t),
                            t * 1e9 / nnz.max(1) as f64
                        )
                    })
                    .collect();
                format!("{head}\n  {}\n  {tail}", lines.join("\n  "))
            }
        }
    }
}

fn fmt_seconds(t: f64) -> String {
    if t.is_nan() {
        "n/a".into()
    } else if t >= 1.0 {
        format!("{t:.3} s")
    } else if t >= 1e-3 {
        format!("{:.3} ms", t * 1e3)
    } else {
        format!("{:.2} us", t * 1e6)
    }
}

/// Median (mean of the two middle values for an even count); NaN for an empty slice.
///
/// ```
/// assert_eq!(trustfit_cli::bench::median(&mut [3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(trustfit_cli::bench::median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
/// assert!(trustfit_cli::bench::median(&mut []).is_nan());
/// ```
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    match k {
        0 => f64::NAN,
        _ if k % 2 == 1 => v[k / 2],
        _ => 0.5 * (v[k / 2 - 1] + v[k / 2]),
    }
}

// ---------------------------------------------------------------- cases

/// What a case knows beyond its residuals.
enum Judge<'a> {
    Minpack(Option<&'a [f64]>),
    Nist(&'a NistProblem),
}

/// One (problem, start) pair.
struct Case<'a> {
    problem: String,
    start: &'static str,
    tp: &'a dyn TestProblem,
    x0: &'a [f64],
    judge: Judge<'a>,
}

/// Solves `x0` under `policy`, returning the first report, the median time and the count.
///
/// # Errors
/// The solver's error (of the first solve that fails).
pub fn timed_solve(
    problem: &ProblemAdapter<'_>,
    x0: &[f64],
    options: &Options,
    policy: &RepeatPolicy,
) -> Result<(Report, f64, usize), trustfit::Error> {
    let mut times = Vec::new();
    let mut total = 0.0;
    let (mut first, mut last): (Option<Report>, Option<Report>) = (None, None);
    while policy.more(times.len(), total) || first.is_none() {
        let t0 = Instant::now();
        let result = trustfit::least_squares(problem, x0, options);
        let dt = t0.elapsed().as_secs_f64();
        let report = result?;
        times.push(dt);
        total += dt;
        match &first {
            None => first = Some(report),
            // Repeats after the first reuse the thread's kept solver: the row is the
            // last repeat's, and any difference from the first is reported.
            Some(f) => {
                if (f.x.as_slice(), f.cost.to_bits(), f.nfev)
                    != (report.x.as_slice(), report.cost.to_bits(), report.nfev)
                {
                    eprintln!("warning: a repeated solve gave another result than the first");
                }
                last = Some(report);
            }
        }
    }
    let reps = times.len();
    let t = median(&mut times);
    match last.or(first) {
        Some(r) => Ok((r, t, reps)),
        // unreachable: the loop runs until a report exists
        None => Err(trustfit::Error::InvalidOption {
            name: "repeat",
            message: "no solve was run".into(),
        }),
    }
}

/// Times `leastsq` like [`timed_solve`], returning its result as a [`Report`].
///
/// # Errors
/// The solver's error.
pub fn timed_leastsq(
    problem: &ProblemAdapter<'_>,
    x0: &[f64],
    cfg: &BenchConfig,
) -> Result<(Report, f64, usize), trustfit::Error> {
    let n = x0.len();
    let dfun = cfg.jac == JacSpec::Analytic;
    let t = cfg.tol.value();
    let opts = trustfit::LeastsqOptions {
        dfun,
        ftol: t,
        xtol: t,
        gtol: t,
        maxfev: if dfun { 100 * n } else { 100 * n * (n + 1) },
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut total = 0.0;
    let mut first = None;
    while cfg.repeats.more(times.len(), total) || first.is_none() {
        let t0 = Instant::now();
        let r = trustfit::leastsq(problem, x0, &opts)?;
        let dt = t0.elapsed().as_secs_f64();
        times.push(dt);
        total += dt;
        first.get_or_insert(r);
    }
    let reps = times.len();
    let time = median(&mut times);
    let Some(r) = first else {
        return Err(trustfit::Error::InvalidOption {
            name: "repeat",
            message: "no solve was run".into(),
        });
    };
    let status = match r.ier {
        1 | 6 => trustfit::Status::Ftol,
        2 | 7 => trustfit::Status::Xtol,
        3 => trustfit::Status::FtolXtol,
        4 | 8 => trustfit::Status::Gtol,
        5 => trustfit::Status::MaxNfev,
        _ => trustfit::Status::ImproperInput,
    };
    let cost = 0.5 * r.fvec.iter().map(|v| v * v).sum::<f64>();
    let m = r.fvec.len();
    let report = Report {
        nit: r.njev.unwrap_or(0),
        x: r.x,
        cost,
        fun: r.fvec,
        jac: Vec::new(),
        jac_sparse: None,
        jac_row_scale: None,
        jac_groups: None,
        grad: Vec::new(),
        optimality: f64::NAN,
        active_mask: vec![0; n],
        nfev: r.nfev,
        njev: r.njev,
        status,
        m,
        n,
        method: Method::Lm,
        jac_kind: cfg.jac,
        tr_solver: None,
        requested_tr_solver: None,
        x_scale: trustfit::XScale::Default,
        jac_entries: 0,
        initial_cost: f64::NAN,
        time: std::time::Duration::from_secs_f64(time),
        timing: None,
        warnings: Vec::new(),
        ignored_options: Vec::new(),
    };
    Ok((report, time, reps))
}

fn run_case(cfg: &BenchConfig, options: &Options, case: &Case<'_>) -> Row {
    let adapter = ProblemAdapter::new(case.tp);
    let solved = if cfg.leastsq {
        timed_leastsq(&adapter, case.x0, cfg)
    } else {
        timed_solve(&adapter, case.x0, options, &cfg.repeats)
    };
    let outcome = match solved {
        Err(e) => Outcome::Failed {
            error: e.to_string(),
        },
        Ok((report, time_s, repeats)) => {
            let cost = adapter.cost(&report.x);
            let extra = match case.judge {
                Judge::Minpack(known) => Extra::Minpack {
                    class: minpack::classify_ssq(2.0 * cost, known).as_str(),
                },
                Judge::Nist(p) => {
                    let lre = crate::nist::nist_lre(p, &report, cost);
                    Extra::Nist {
                        lre_params: lre.params,
                        lre_min_param: lre.params,
                        lre_rss: lre.rss,
                        cert_cost: 0.5 * p.certified_rss,
                        lre_stderr: lre.stderr,
                    }
                }
            };
            let x = (report.x.len() <= MAX_X_LEN).then(|| report.x.clone());
            Outcome::Solved(Box::new(Solved::from_report(
                &report,
                (cost, adapter.cost(case.x0)),
                (time_s, repeats),
                x,
                extra,
            )))
        }
    };
    Row {
        suite: cfg.suite.as_str(),
        problem: case.problem.clone(),
        start: case.start,
        solver: "trustfit",
        method: if cfg.leastsq {
            "leastsq"
        } else {
            cfg.method.as_str()
        },
        jac: cfg.jac.as_str(),
        tol: cfg.tol_label(),
        n: Some(case.tp.n()),
        m: Some(case.tp.m()),
        outcome,
    }
}

pub(crate) fn emit(out: &mut dyn Write, row: &Row, summary: &mut Summary) -> Result<(), CliError> {
    let line = serde_json::to_string(row).map_err(|e| CliError::Io(std::io::Error::other(e)))?;
    writeln!(out, "{line}").map_err(CliError::Io)?;
    out.flush().map_err(CliError::Io)?;
    summary.add(row);
    Ok(())
}

fn no_match(cfg: &BenchConfig) -> CliError {
    CliError::Usage(format!(
        "no {} case matches --problem {:?}",
        cfg.suite.as_str(),
        cfg.problem.as_deref().unwrap_or("")
    ))
}

/// Runs the benchmark: JSON lines to `out`, and with `cfg.summary` a summary to `err`.
///
/// # Errors
/// [`CliError::Usage`] for a suite that is not supported yet or a `--problem`
/// filter matching nothing, [`CliError::Data`] when the suite's data folder is
/// missing, [`CliError::Io`] when writing fails. Nothing is written before
/// these checks pass. Solver errors are not errors of the run: they become
/// rows with an `error` field.
pub fn run(
    cfg: &BenchConfig,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Summary, CliError> {
    let options = cfg.options();
    let mut summary = Summary::default();
    if cfg.lockstep && cfg.suite != Suite::Batch {
        return Err(CliError::Usage(
            "--method lockstep is the batch suite's lock-step LM: use it with --suite batch".into(),
        ));
    }
    match cfg.suite {
        Suite::Minpack => {
            let cases = minpack::cases();
            let selected: Vec<Case<'_>> = cases
                .iter()
                .map(|c| Case {
                    problem: c.label(),
                    start: c.start(),
                    tp: c,
                    x0: &c.x0,
                    judge: Judge::Minpack(c.known_ssq.as_deref()),
                })
                .filter(|c| cfg.selects(&c.problem))
                .collect();
            if selected.is_empty() {
                return Err(no_match(cfg));
            }
            let bar = crate::progress::bar(selected.len() as u64, "bench minpack");
            for case in &selected {
                bar.set_message(format!("{} {}", case.problem, case.start));
                let row = run_case(cfg, &options, case);
                bar.suspend(|| emit(out, &row, &mut summary))?;
                bar.inc(1);
            }
            bar.finish_and_clear();
        }
        Suite::Nist => {
            let dir = trustfit_problems::data::nist_dir(&cfg.data_dir)
                .map_err(|e| CliError::Data(e.to_string()))?;
            let names: Vec<&str> = nist::NAMES
                .iter()
                .copied()
                .filter(|name| cfg.selects(name))
                .collect();
            if names.is_empty() {
                return Err(no_match(cfg));
            }
            let bar = crate::progress::bar(2 * names.len() as u64, "bench nist");
            // A missing or malformed file is bad input: exit status 2, one line, no rows.
            let problems = names
                .iter()
                .map(|name| nist::load_dataset(&dir, name))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CliError::Data(e.to_string()))?;
            for p in &problems {
                for k in 1..=2 {
                    let case = Case {
                        problem: p.name.clone(),
                        start: NistProblem::start_label(k),
                        tp: p,
                        x0: p.start(k),
                        judge: Judge::Nist(p),
                    };
                    bar.set_message(format!("{} start{k}", p.name));
                    let row = run_case(cfg, &options, &case);
                    bar.suspend(|| emit(out, &row, &mut summary))?;
                    bar.inc(1);
                }
            }
            bar.finish_and_clear();
        }
        Suite::Sparse => crate::bench_sparse::run(cfg, out, &mut summary)?,
        Suite::Ba => crate::bench_ba::run(cfg, out, &mut summary)?,
        Suite::Batch => crate::bench_batch::run(cfg, out, &mut summary)?,
    }
    if cfg.summary {
        writeln!(err, "{}", summary.render(cfg)).map_err(CliError::Io)?;
    }
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn quick(suite: Suite) -> BenchConfig {
        BenchConfig {
            repeats: RepeatPolicy {
                min_reps: 1,
                min_time: 0.0,
                max_reps: 1,
            },
            ..BenchConfig::new(suite)
        }
    }

    fn lines(buf: &[u8]) -> Vec<Value> {
        String::from_utf8(buf.to_vec())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// [`quick`] on the problems of `suite` whose label contains `problem`.
    fn quick_on(suite: Suite, problem: &str) -> BenchConfig {
        BenchConfig {
            problem: Some(problem.into()),
            ..quick(suite)
        }
    }

    /// [`quick_on`] with the summary on, run: the summary, the JSON rows and what went to stderr.
    fn summarised(suite: Suite, problem: &str) -> (Summary, Vec<Value>, String) {
        let cfg = BenchConfig {
            summary: true,
            ..quick_on(suite, problem)
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let s = run(&cfg, &mut out, &mut err).unwrap();
        (s, lines(&out), String::from_utf8(err).unwrap())
    }

    #[test]
    fn repeat_policy_matches_peers() {
        let p = RepeatPolicy::with_min_reps(3);
        assert_eq!(p.max_reps, 2000);
        assert!(p.more(0, 10.0) && p.more(2, 10.0));
        assert!(!p.more(3, 0.1));
        assert!(p.more(3, 0.099));
        assert!(!p.more(2000, 0.0));
        let big = RepeatPolicy::with_min_reps(5000);
        assert_eq!(big.max_reps, 5000);
        assert!(big.more(4999, 100.0));
    }

    #[test]
    fn options_follow_tolerance_preset() {
        let mut cfg = quick(Suite::Minpack);
        assert_eq!(cfg.options().ftol, Some(1e-8));
        cfg.tol = Tol::Tight;
        cfg.method = Method::Lm;
        let o = cfg.options();
        assert_eq!((o.ftol, o.xtol, o.gtol), (Some(EPS), Some(EPS), Some(EPS)));
        // EPS itself is accepted by every method, lm included.
        assert!(o.validate().is_ok());
    }

    #[test]
    fn minpack_rosenbrock_rows() {
        let (s, rows, text) = summarised(Suite::Minpack, "ROSENBROCK");
        assert_eq!(rows.len(), 3);
        let starts: Vec<&str> = rows.iter().map(|r| r["start"].as_str().unwrap()).collect();
        assert_eq!(starts, ["x0", "10x0", "100x0"]);
        for r in &rows {
            assert_eq!(r["suite"], "minpack");
            assert_eq!(r["problem"], "rosenbrock_n2_m2");
            assert_eq!(r["solver"], "trustfit");
            assert_eq!(r["method"], "trf");
            assert_eq!(r["jac"], "analytic");
            assert_eq!((r["n"].as_u64(), r["m"].as_u64()), (Some(2), Some(2)));
            assert!(r["status"].as_i64().unwrap() >= 0, "{r}");
            assert_eq!(r["x"].as_array().unwrap().len(), 2);
            assert_eq!(r["repeats"], 1);
            assert!(r["njev"].is_u64());
            assert!(r["cost0"].as_f64().unwrap() > 0.0);
            assert!(r.get("error").is_none());
            assert!(r.get("lre_params").is_none());
        }
        // x0 and 10x0 converge; from 100x0 scipy 1.17 (trf) too stops at
        // max_nfev = 200 far from the minimum (cost 1.733e7).
        for r in &rows[..2] {
            assert!(r["status"].as_i64().unwrap() > 0, "{r}");
            assert_eq!(r["class"], "global");
        }
        assert_eq!(s.cases, 3);
        assert_eq!(s.classes.iter().sum::<usize>(), 3);
        assert!(s.classes[0] >= 2);
        assert!(text.contains("3 cases (0 errors)"), "{text}");
        assert!(text.contains("global "), "{text}");
    }

    #[test]
    fn jac_auto_rows_match_analytic_ones() {
        let run_with = |jac, problem: &str| {
            let cfg = BenchConfig {
                jac,
                ..quick_on(Suite::Minpack, problem)
            };
            let (mut out, mut err) = (Vec::new(), Vec::new());
            run(&cfg, &mut out, &mut err).unwrap();
            lines(&out)
        };
        let auto = run_with(JacSpec::Auto, "osborne2");
        let exact = run_with(JacSpec::Analytic, "osborne2");
        assert_eq!(auto.len(), 1);
        assert_eq!(auto[0]["jac"], "auto");
        assert_eq!(
            (&auto[0]["nfev"], &auto[0]["class"]),
            (&exact[0]["nfev"], &exact[0]["class"])
        );
        // Chebyquad (written generically in phase 2): every start as with the analytic J.
        let cheb = run_with(JacSpec::Auto, "chebyquad_n1_");
        let cheb_exact = run_with(JacSpec::Analytic, "chebyquad_n1_");
        assert_eq!(cheb.len(), 3);
        for (a, e) in cheb.iter().zip(&cheb_exact) {
            assert!(a.get("error").is_none(), "{a}");
            assert_eq!((&a["nfev"], &a["class"]), (&e["nfev"], &e["class"]));
        }
    }

    #[test]
    fn field_order_follows_schema() {
        let cfg = quick_on(Suite::Minpack, "helical");
        let mut out = Vec::new();
        run(&cfg, &mut out, &mut Vec::new()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with(
                "{\"suite\":\"minpack\",\"problem\":\"helical_valley_n3_m3\",\"start\":\"x0\",\"solver\":\"trustfit\""
            ),
            "{first}"
        );
        let pos = |k: &str| first.find(&format!("\"{k}\":")).unwrap();
        assert!(pos("nfev") < pos("njev") && pos("njev") < pos("status"));
        assert!(pos("cost") < pos("time_s") && pos("x") < pos("class"));
    }

    #[test]
    fn solver_errors_become_rows() {
        // The test problems have no complex extension, so the core rejects
        // jac='cs' with an Err: every case becomes an error row, the run goes on.
        let cfg = BenchConfig {
            jac: JacSpec::ComplexStep,
            ..quick_on(Suite::Minpack, "rosenbrock")
        };
        let mut out = Vec::new();
        let s = run(&cfg, &mut out, &mut Vec::new()).unwrap();
        let rows = lines(&out);
        assert_eq!(rows.len(), 3);
        for r in &rows {
            assert!(r["error"].as_str().unwrap().contains("cs"), "{r}");
            assert!(r.get("status").is_none());
            assert_eq!(r["problem"], "rosenbrock_n2_m2");
        }
        assert_eq!((s.cases, s.errors), (3, 3));
    }

    #[test]
    fn missing_data_and_unmatched_filters_are_errors() {
        let mut out = Vec::new();
        let cfg = BenchConfig {
            data_dir: "/nonexistent-trustfit-data".into(),
            ..quick(Suite::Ba)
        };
        let e = run(&cfg, &mut out, &mut Vec::new()).unwrap_err();
        assert!(matches!(e, CliError::Data(_)), "{e}");
        assert!(e.to_string().contains("bal"), "{e}");
        assert!(out.is_empty());
        let cfg = quick_on(Suite::Minpack, "no-such-problem");
        let e = run(&cfg, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert!(matches!(e, CliError::Usage(_)), "{e}");
    }

    #[test]
    fn missing_data_dir_names_the_path() {
        let cfg = BenchConfig {
            data_dir: PathBuf::from("/definitely/not/here"),
            ..quick(Suite::Nist)
        };
        let mut out = Vec::new();
        let e = run(&cfg, &mut out, &mut Vec::new()).unwrap_err();
        assert!(matches!(e, CliError::Data(_)));
        assert!(
            e.to_string().contains("/definitely/not/here/nist-strd"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
        assert!(out.is_empty());
    }

    #[test]
    fn nist_misra1a_when_data_present() {
        if let Err(e) = trustfit_problems::data::nist_dir(&quick(Suite::Nist).data_dir) {
            eprintln!("skipping: {e}");
            return;
        }
        let (s, rows, text) = summarised(Suite::Nist, "Misra1a");
        assert_eq!(rows.len(), 2);
        for (r, start) in rows.iter().zip(["start1", "start2"]) {
            assert_eq!(r["problem"], "Misra1a");
            assert_eq!(r["start"], start);
            let lre = r["lre_params"].as_f64().unwrap();
            assert!(lre >= 4.0, "{r}");
            assert_eq!(r["lre_min_param"].as_f64(), Some(lre));
            assert!(r["lre_rss"].as_f64().unwrap() >= 4.0, "{r}");
            assert!(r["cert_cost"].as_f64().unwrap() > 0.0);
            assert!(r.get("class").is_none());
        }
        assert_eq!(s.nist_lre4, 2);
        assert!(text.contains("lre_params >= 4: 2 of 2"), "{text}");
    }

    #[test]
    fn summary_counts_and_median() {
        let mut s = Summary::default();
        assert!(s.render(&quick(Suite::Minpack)).contains("n/a"));
        s.times = vec![3e-6, 1e-6, 2e-6];
        assert!(s.render(&quick(Suite::Nist)).contains("2.00 us"));
    }
}
