//! Command-line grammar (clap derive). Parsing only: the work is done by the
//! command modules ([`crate::fit_cmd`], [`crate::nist`], [`crate::demo`],
//! [`crate::bench`]), reached through [`crate::run`].

use std::path::PathBuf;
use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use trustfit::{JacSpec, Loss, Method, TrSolver};

use crate::bench::{BenchConfig, RepeatPolicy, Suite, Tol};
use crate::demo::DemoConfig;
use crate::fit_cmd::FitConfig;
use crate::nist::NistConfig;

/// trustfit: nonlinear least squares with scipy's `least_squares` behaviour.
#[derive(Debug, Parser)]
#[command(name = "trustfit", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a formula to the columns of a CSV file (scipy's curve_fit, analytic Jacobian).
    Fit(FitArgs),
    /// Certify against the 27 NIST StRD nonlinear regression datasets (2 starts each).
    Nist(NistArgs),
    /// The built-in example: robust fits of y = a + b*exp(c*t) with outliers, plotted.
    Demo(DemoArgs),
    /// Solve a benchmark suite; print one JSON line per case (peers' schema).
    Bench(BenchArgs),
}

/// Arguments of `trustfit fit`.
#[derive(Debug, Args)]
#[command(after_help = "\
The model is a formula in column names and parameter names: identifiers that are
columns of the CSV file are data, all others are parameters (e.g. a, b, c in
\"a + b*exp(c*t)\"); a column named e, E, PI, π, TAU or τ is data, not
the constant. Functions: exp, ln/log (natural), log10, sqrt, sin, cos, tan, tanh,
...; '^' is the power. Defaults follow scipy's curve_fit: p0 = 1 (or the middle of
finite bounds), method lm without bounds, trf with bounds or a robust loss.

Exit status: 0 fitted; 1 the solver did not converge (the report is still printed);
2 bad input (one line on stderr, no output file).

--group-by COL: one fit per distinct text of column COL (numbers or labels: 1 and 1.0 are
two groups), each as a file holding only that group's rows would be fitted, except that a
group with fewer rows than parameters is not fitted (curve_fit's rule, for every method).
One CSV row per group, in order of first appearance: group, NAME and NAME_stderr per
parameter, cost, chi2_dof (reduced chi-square), status (scipy's; empty when not fitted),
success, nfev, message (empty for a converged fit, else why: a bad cell, too few rows,
sigma <= 0, a start that is not finite, the solver's message, the covariance warning).
Failed or unconverged groups do not change the exit status: 0, unless the input is bad
(2) or writing fails (1). A progress bar is drawn when stderr is a terminal. Example:
  trustfit fit runs.csv --model \"a*exp(-b*t) + c\" --group-by sample --out fits.csv")]
pub struct FitArgs {
    /// CSV file with a header row.
    #[arg(value_name = "DATA.csv")]
    pub data: PathBuf,
    /// Model formula, e.g. "a + b*exp(c*t)"; it may start with '-' (--model "-x^2 + a").
    /// Limits: at most 100000 characters, nesting depth 100 (parentheses, calls, unary
    /// minus, '^'), 256 parameters, names of 256 characters.
    #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
    pub model: String,
    /// x column(s), comma-separated [default: every column the formula uses].
    #[arg(
        long,
        value_name = "COLS",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub x: Vec<String>,
    /// y column.
    #[arg(
        long,
        value_name = "COL",
        default_value = "y",
        allow_hyphen_values = true
    )]
    pub y: String,
    /// Column of standard deviations of y (weights 1/sigma).
    #[arg(long, value_name = "COL", allow_hyphen_values = true)]
    pub sigma: Option<String>,
    /// Sigma is absolute: do not scale the covariance by the reduced chi-square.
    #[arg(long)]
    pub absolute_sigma: bool,
    /// Start values, e.g. "a=1,b=1,c=0" (unlisted: 1, or from the bounds).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub p0: Option<String>,
    /// Bounds, e.g. "0<=b<=10, c<0" (a lower or upper bound given twice is an error).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub bounds: Option<String>,
    /// Loss function (robust losses need trf or dogbox).
    #[arg(long, value_parser = core_names::<Loss>(&Loss::NAMES), default_value = "linear")]
    pub loss: Loss,
    /// Soft margin between inlier and outlier residuals.
    #[arg(
        long,
        value_name = "F",
        default_value_t = 1.0,
        allow_hyphen_values = true
    )]
    pub f_scale: f64,
    /// Solver method [default: lm, or trf with bounds or a robust loss].
    #[arg(long, value_parser = core_names::<Method>(&Method::ALL.map(Method::as_str)))]
    pub method: Option<Method>,
    /// Plot data, fit and residuals to this file (.svg or .png).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub plot: Option<PathBuf>,
    /// Print one JSON object (schema in the README) instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Solver progress on stderr (trf/dogbox): 0, 1 or 2.
    #[arg(long, value_name = "LEVEL", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=2))]
    pub verbose: u8,
    /// Fit the model to each group of rows with the same value (number or text) of
    /// column COL, in parallel; write one CSV row per group, in order of first
    /// appearance (see below). Not with --plot, --json or --verbose.
    #[arg(long, value_name = "COL", allow_hyphen_values = true)]
    pub group_by: Option<String>,
    /// With --group-by: number of threads [default: every core]; the output is the same for any N.
    #[arg(long, value_name = "N", requires = "group_by",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,
    /// With --group-by: write the CSV to FILE instead of stdout (written whole or not at all).
    #[arg(
        long,
        value_name = "FILE",
        requires = "group_by",
        allow_hyphen_values = true
    )]
    pub out: Option<PathBuf>,
}

/// Arguments of `trustfit nist`.
#[derive(Debug, Args)]
#[command(after_help = "\
Gate: a case (dataset x start) is certified when every parameter agrees with NIST's
certified value to at least 4 digits (LRE >= 4). Tolerances are tight (machine
epsilon) unless --tol default. A case that misses the gate is solved once more from
the same start with x_scale='jac' and 10x the default max_nfev (column 'attempt' = 2)
unless --no-retry. Standard deviations and RSS are reported, not gated.
Exit status: 0 when all 54 cases are certified, 1 otherwise, 2 when data are missing.")]
pub struct NistArgs {
    /// Solver method.
    #[arg(long, value_parser = core_names::<Method>(&Method::ALL.map(Method::as_str)), default_value = "trf")]
    pub method: Method,
    /// Tolerances: tight (ftol = xtol = gtol = machine epsilon) or default (1e-8).
    #[arg(long, value_enum, default_value_t = TolArg::Tight)]
    pub tol: TolArg,
    /// Do not retry failing cases.
    #[arg(long)]
    pub no_retry: bool,
    /// Data folder holding `nist-strd/` [default: $TRUSTFIT_DATA_DIR or the shared data folder].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Arguments of `trustfit demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Plot file (.svg or .png).
    #[arg(long, value_name = "FILE", default_value = "demo.svg")]
    pub plot: PathBuf,
}

impl FitArgs {
    /// The fit configuration these arguments describe.
    pub fn to_config(&self) -> FitConfig {
        FitConfig {
            data: self.data.clone(),
            model: self.model.clone(),
            x: self
                .x
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            y: self.y.clone(),
            sigma: self.sigma.clone(),
            absolute_sigma: self.absolute_sigma,
            p0: self.p0.clone(),
            bounds: self.bounds.clone(),
            loss: self.loss.clone(),
            f_scale: self.f_scale,
            method: self.method,
            plot: self.plot.clone(),
            json: self.json,
            verbose: self.verbose,
            group_by: self.group_by.clone(),
            jobs: self.jobs.map(|j| j as usize),
            out: self.out.clone(),
        }
    }
}

impl NistArgs {
    /// The certification configuration these arguments describe.
    pub fn to_config(&self) -> NistConfig {
        let mut cfg = NistConfig::new();
        cfg.method = self.method;
        cfg.tol = self.tol.into();
        cfg.retry = !self.no_retry;
        if let Some(dir) = &self.data_dir {
            cfg.data_dir = dir.clone();
        }
        cfg
    }
}

impl DemoArgs {
    /// The demo configuration these arguments describe.
    pub fn to_config(&self) -> DemoConfig {
        DemoConfig {
            plot: self.plot.clone(),
        }
    }
}

/// A value parser offering the core's names (so adding a loss, method or solver to the
/// core adds it here) and parsing them with the core's `FromStr`.
fn core_names<T>(names: &[&'static str]) -> impl TypedValueParser<Value = T>
where
    T: FromStr<Err = trustfit::Error> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names.to_vec()).try_map(|s| s.parse::<T>().map_err(|e| e.to_string()))
}

/// Arguments of `trustfit bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Benchmark suite.
    #[arg(long, value_enum)]
    pub suite: SuiteArg,
    /// Solver method [default: trf; lm for the batch suite].
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Jacobian: the problem's analytic one, or finite differences.
    #[arg(long, value_enum, default_value_t = JacArg::Analytic)]
    pub jac: JacArg,
    /// Tolerances: default (ftol = xtol = gtol = 1e-8) or tight (all = machine epsilon).
    #[arg(long, value_enum, default_value_t = TolArg::Default)]
    pub tol: TolArg,
    /// Minimum number of timed solves per case (more while the total is under 0.1 s, up to 2000).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub repeat: u32,
    /// Data folder holding `nist-strd/` and `bal/` [default: $TRUSTFIT_DATA_DIR or the shared data folder].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Only cases whose problem label contains SUBSTRING (case-insensitive).
    #[arg(long, value_name = "SUBSTRING")]
    pub problem: Option<String>,
    /// Also print a short human summary to stderr.
    #[arg(long)]
    pub summary: bool,
    /// Trust-region subproblem solver [default: exact for dense J, lsmr for sparse J;
    /// sparse_lm: schur where J's pattern suits it, else cholesky]; `cholesky` and `schur`
    /// are trustfit's exact sparse solvers, `iterative_schur` its PCG one (sparse_lm).
    #[arg(long, value_parser = core_names::<TrSolver>(&TrSolver::ALL.map(TrSolver::as_str)))]
    pub tr_solver: Option<TrSolver>,
    /// Override ftol alone (e.g. 1e-4, the setting of scipy's bundle-adjustment example).
    #[arg(long, value_name = "FTOL", allow_hyphen_values = true)]
    pub ftol: Option<f64>,
    /// Worker threads of the batch and ba suites [default: every core].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Batch suite: fit the first N fits of the workload (tiled beyond the file's) [default: all].
    #[arg(long = "n", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub n_fits: Option<u64>,
}

/// `--suite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuiteArg {
    /// The 53 MINPACK-1 test-driver cases.
    Minpack,
    /// The 27 NIST StRD nonlinear regression datasets, two starts each.
    Nist,
    /// Broyden tridiagonal, n = 10^4, 10^5 and 10^6 (sparse Jacobian).
    Sparse,
    /// Bundle adjustment, the BAL files of DATA_DIR/bal (x_scale='jac', sparse J).
    Ba,
    /// 10^5 2-D Gaussian fits on 5x5 pixels (DATA_DIR/batch; Cpufit's settings: tolerance 1e-4, at most 10 iterations).
    Batch,
}

/// `--method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Trust Region Reflective.
    Trf,
    /// Dogleg in a rectangular trust region.
    Dogbox,
    /// Levenberg-Marquardt (MINPACK).
    Lm,
    /// Levenberg-Marquardt for large sparse problems, iterated as Ceres does (schur or cholesky steps; the ba suite's default).
    #[value(name = "sparse_lm")]
    SparseLm,
    /// scipy's `leastsq`: MINPACK LMDER (analytic jac) or LMDIF, cminpack_bench's settings.
    Leastsq,
    /// Batch suite only: lock-step Levenberg-Marquardt on the normal equations (Gpufit's scheme).
    Lockstep,
}

/// `--jac` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JacArg {
    /// The problem's analytic Jacobian.
    Analytic,
    /// Forward differences.
    #[value(name = "2-point")]
    TwoPoint,
    /// Central differences.
    #[value(name = "3-point")]
    ThreePoint,
    /// Exact, by forward-mode automatic differentiation (problems written generically:
    /// NIST, Broyden, the MINPACK problems).
    Auto,
}

/// `--tol` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TolArg {
    /// ftol = xtol = gtol = 1e-8 (scipy's defaults).
    Default,
    /// ftol = xtol = gtol = machine epsilon.
    Tight,
}

impl From<SuiteArg> for Suite {
    fn from(s: SuiteArg) -> Self {
        match s {
            SuiteArg::Minpack => Suite::Minpack,
            SuiteArg::Nist => Suite::Nist,
            SuiteArg::Sparse => Suite::Sparse,
            SuiteArg::Ba => Suite::Ba,
            SuiteArg::Batch => Suite::Batch,
        }
    }
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Trf => Method::Trf,
            MethodArg::Dogbox => Method::Dogbox,
            MethodArg::Lm | MethodArg::Leastsq | MethodArg::Lockstep => Method::Lm,
            MethodArg::SparseLm => Method::SparseLm,
        }
    }
}

impl From<JacArg> for JacSpec {
    fn from(j: JacArg) -> Self {
        match j {
            JacArg::Analytic => JacSpec::Analytic,
            JacArg::TwoPoint => JacSpec::TwoPoint,
            JacArg::ThreePoint => JacSpec::ThreePoint,
            JacArg::Auto => JacSpec::Auto,
        }
    }
}

impl From<TolArg> for Tol {
    fn from(t: TolArg) -> Self {
        match t {
            TolArg::Default => Tol::Default,
            TolArg::Tight => Tol::Tight,
        }
    }
}

impl BenchArgs {
    /// The bench configuration these arguments describe.
    pub fn to_config(&self) -> BenchConfig {
        let mut cfg = BenchConfig::new(self.suite.into());
        let method = self.method.unwrap_or(match self.suite {
            SuiteArg::Batch => MethodArg::Lm,
            SuiteArg::Ba => MethodArg::SparseLm,
            _ => MethodArg::Trf,
        });
        cfg.method = method.into();
        cfg.leastsq = method == MethodArg::Leastsq;
        cfg.lockstep = method == MethodArg::Lockstep;
        cfg.jac = self.jac.into();
        cfg.tol = self.tol.into();
        cfg.repeats = RepeatPolicy::with_min_reps(self.repeat as usize);
        if let Some(dir) = &self.data_dir {
            cfg.data_dir = dir.clone();
        }
        cfg.problem = self.problem.clone();
        cfg.summary = self.summary;
        cfg.tr_solver = self.tr_solver;
        cfg.ftol = self.ftol;
        cfg.threads = self.threads.map(|t| t as usize);
        cfg.n_fits = self
            .n_fits
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        cfg
    }
}

/// Condenses a clap error into one line (what goes to stderr before exit status 2).
///
/// Drops the usage block and the "For more information" hint and joins the
/// remaining lines, e.g. `error: invalid value 'x' for '--method <METHOD>'
/// [possible values: trf, dogbox, lm]`.
pub fn one_line_error(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
    ) {
        return "error: a subcommand is required: fit, nist, demo or bench (see 'trustfit --help')"
            .into();
    }
    let text = e.to_string();
    let mut parts = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("Usage:") || l.starts_with("For more information") {
            break;
        }
        if !l.is_empty() {
            parts.push(l);
        }
    }
    let mut s = parts.join(" ");
    if s.is_empty() {
        s = "error: invalid arguments".into();
    }
    s.push_str(" (see 'trustfit --help')");
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("trustfit").chain(args.iter().copied()))
    }

    /// The command a valid command `line` (arguments split on white space) parses to.
    fn command(line: &str) -> Command {
        let args: Vec<&str> = line.split_whitespace().collect();
        parse(&args).unwrap().command
    }

    fn bench(line: &str) -> BenchConfig {
        let Command::Bench(b) = command(line) else {
            panic!("bench expected: {line}")
        };
        b.to_config()
    }

    fn fit(line: &str) -> FitConfig {
        let Command::Fit(f) = command(line) else {
            panic!("fit expected: {line}")
        };
        f.to_config()
    }

    fn nist(line: &str) -> NistConfig {
        let Command::Nist(n) = command(line) else {
            panic!("nist expected: {line}")
        };
        n.to_config()
    }

    #[test]
    fn grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn bench_defaults() {
        let cfg = bench("bench --suite minpack");
        assert_eq!(cfg.suite, Suite::Minpack);
        assert_eq!(cfg.method, Method::Trf);
        assert_eq!(cfg.jac, JacSpec::Analytic);
        assert_eq!(cfg.tol, Tol::Default);
        assert_eq!(cfg.repeats, RepeatPolicy::default());
        assert_eq!(cfg.data_dir, trustfit_problems::data::default_data_dir());
        assert!(cfg.problem.is_none() && !cfg.summary);
    }

    #[test]
    fn bench_all_options() {
        let cfg = bench(
            "bench --suite nist --method dogbox --jac 3-point --tol tight --repeat 7 \
             --data-dir /d --problem Misra --summary",
        );
        assert_eq!(cfg.suite, Suite::Nist);
        assert_eq!(cfg.method, Method::Dogbox);
        assert_eq!(cfg.jac, JacSpec::ThreePoint);
        assert_eq!(cfg.tol, Tol::Tight);
        assert_eq!(cfg.repeats.min_reps, 7);
        assert_eq!(cfg.data_dir, PathBuf::from("/d"));
        assert_eq!(cfg.problem.as_deref(), Some("Misra"));
        assert!(cfg.summary);
        let cfg = bench("bench --suite minpack --jac 2-point");
        assert_eq!(cfg.jac, JacSpec::TwoPoint);
    }

    #[test]
    fn fit_nist_demo_arguments() {
        let c = fit(
            "fit d.csv --model a*t --x t,u --sigma dy --p0 a=-1 --bounds -5<a<5 --loss soft_l1 \
             --f-scale 0.1 --method dogbox --json --verbose 2 --absolute-sigma --plot f.png",
        );
        assert_eq!(c.x, ["t", "u"]);
        assert_eq!((c.y.as_str(), c.sigma.as_deref()), ("y", Some("dy")));
        assert_eq!(
            (c.p0.as_deref(), c.bounds.as_deref()),
            (Some("a=-1"), Some("-5<a<5"))
        );
        assert_eq!(c.loss, Loss::SoftL1);
        assert_eq!((c.f_scale, c.method), (0.1, Some(Method::Dogbox)));
        assert!(c.json && c.absolute_sigma && c.verbose == 2);
        let c = fit("fit d.csv --model a");
        assert!(c.x.is_empty() && c.method.is_none() && c.plot.is_none() && !c.json);
        assert!(c.group_by.is_none() && c.jobs.is_none() && c.out.is_none());
        assert_eq!((c.loss, c.f_scale, c.verbose), (Loss::Linear, 1.0, 0));
        assert!(parse(&["fit", "d.csv", "--model", "a", "--verbose", "3"]).is_err());

        let c = nist("nist");
        assert_eq!((c.method, c.tol, c.retry), (Method::Trf, Tol::Tight, true));
        assert_eq!(c.data_dir, trustfit_problems::data::default_data_dir());
        let c = nist("nist --method lm --tol default --no-retry --data-dir /d");
        assert_eq!(
            (c.method, c.tol, c.retry),
            (Method::Lm, Tol::Default, false)
        );
        assert_eq!(c.data_dir, PathBuf::from("/d"));
        assert!(parse(&["nist", "--method", "leastsq"]).is_err());

        let Command::Demo(d) = command("demo") else {
            panic!("demo expected")
        };
        assert_eq!(d.to_config().plot, PathBuf::from("demo.svg"));
    }

    #[test]
    fn group_by_options() {
        let c = fit("fit d.csv --model a*t --group-by -id --jobs 3 --out -r.csv");
        assert_eq!(c.group_by.as_deref(), Some("-id"));
        assert_eq!((c.jobs, c.out), (Some(3), Some(PathBuf::from("-r.csv"))));
        for bad in [
            "fit d.csv --model a --jobs 2",
            "fit d.csv --model a --out r.csv",
            "fit d.csv --model a --group-by g --jobs 0",
            "fit d.csv --model a --group-by g --jobs x",
        ] {
            let args: Vec<&str> = bad.split_whitespace().collect();
            assert!(parse(&args).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_arguments_give_one_line() {
        for args in [
            &["bench"][..],
            &["bench", "--suite", "cuter"],
            &["bench", "--suite", "minpack", "--method", "newton"],
            &["bench", "--suite", "minpack", "--repeat", "0"],
            &["bench", "--suite", "minpack", "--repeat", "-3"],
            &["bench", "--suite", "minpack", "--bogus"],
            &["frobnicate"],
            &[],
        ] {
            let e = parse(args).unwrap_err();
            let line = one_line_error(&e);
            assert!(!line.contains('\n'), "{line}");
            assert!(line.contains("error"), "{args:?}: {line}");
        }
        let e = parse(&["bench", "--suite", "minpack", "--method", "newton"]).unwrap_err();
        assert!(one_line_error(&e).contains("trf, dogbox, lm"));
    }

    #[test]
    fn gh14_values_may_start_with_a_hyphen() {
        let args = [
            "fit",
            "d.csv",
            "--model",
            "-x^2 + a",
            "--f-scale",
            "-1e-1",
            "--x",
            "-x",
            "--y",
            "-y",
            "--sigma",
            "-s",
            "--plot",
            "-p.svg",
            "--p0",
            "-a=1",
            "--bounds",
            "-5<a",
        ];
        let Command::Fit(f) = parse(&args).unwrap().command else {
            panic!("fit expected")
        };
        let c = f.to_config();
        assert_eq!((c.model.as_str(), c.f_scale), ("-x^2 + a", -0.1));
        assert_eq!((c.x[0].as_str(), c.y.as_str()), ("-x", "-y"));
        assert_eq!(c.sigma.as_deref(), Some("-s"));
        assert_eq!(c.plot, Some(PathBuf::from("-p.svg")));
        let b = bench("bench --suite minpack --ftol -1e-4");
        assert_eq!(b.ftol, Some(-1e-4));
        // A value that is not a number is still an error.
        assert!(parse(&["fit", "d.csv", "--model", "a", "--f-scale", "-x"]).is_err());
        let e = parse(&["bench", "--suite", "minpack", "--method", "newton"]).unwrap_err();
        assert!(one_line_error(&e).contains("trf, dogbox, lm"));
    }
}
