//! Command-line grammar (clap derive). Parsing only: the work is done by the
//! command modules ([`crate::bench`]), reached through [`crate::run`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use trustfit::{JacSpec, Method};

use crate::bench::{BenchConfig, RepeatPolicy, Suite, Tol};

/// trustfit: nonlinear least squares with scipy's `least_squares` behaviour.
#[derive(Debug, Parser)]
#[command(name = "trustfit", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. (`fit`, `nist` and `demo` are planned.)
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Solve a benchmark suite; print one JSON line per case (peers' schema).
    Bench(BenchArgs),
}

/// Arguments of `trustfit bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Benchmark suite (ba is not supported yet).
    #[arg(long, value_enum)]
    pub suite: SuiteArg,
    /// Solver method.
    #[arg(long, value_enum, default_value_t = MethodArg::Trf)]
    pub method: MethodArg,
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
}

/// `--suite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuiteArg {
    /// The 53 MINPACK-1 test-driver cases.
    Minpack,
    /// The 27 NIST StRD nonlinear regression datasets, two starts each.
    Nist,
    /// Broyden tridiagonal, n = 10^4 and 10^5 (not supported yet).
    Sparse,
    /// Bundle adjustment, BAL files (not supported yet).
    Ba,
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
    /// scipy's `leastsq`: MINPACK LMDER (analytic jac) or LMDIF, cminpack_bench's settings.
    Leastsq,
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
        }
    }
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Trf => Method::Trf,
            MethodArg::Dogbox => Method::Dogbox,
            MethodArg::Lm | MethodArg::Leastsq => Method::Lm,
        }
    }
}

impl From<JacArg> for JacSpec {
    fn from(j: JacArg) -> Self {
        match j {
            JacArg::Analytic => JacSpec::Analytic,
            JacArg::TwoPoint => JacSpec::TwoPoint,
            JacArg::ThreePoint => JacSpec::ThreePoint,
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
        cfg.method = self.method.into();
        cfg.leastsq = self.method == MethodArg::Leastsq;
        cfg.jac = self.jac.into();
        cfg.tol = self.tol.into();
        cfg.repeats = RepeatPolicy::with_min_reps(self.repeat as usize);
        if let Some(dir) = &self.data_dir {
            cfg.data_dir = dir.clone();
        }
        cfg.problem = self.problem.clone();
        cfg.summary = self.summary;
        cfg
    }
}

/// Condenses a clap error into one line (what goes to stderr before exit status 2).
///
/// Drops the usage block and the "For more information" hint and joins the
/// remaining lines, e.g. "error: invalid value 'x' for '--method <METHOD>'
/// [possible values: trf, dogbox, lm]".
pub fn one_line_error(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
    ) {
        return "error: a subcommand is required: bench (see 'trustfit --help')".into();
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

    #[test]
    fn grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn bench_defaults() {
        let Command::Bench(b) = parse(&["bench", "--suite", "minpack"]).unwrap().command;
        let cfg = b.to_config();
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
        let Command::Bench(b) = parse(&[
            "bench",
            "--suite",
            "nist",
            "--method",
            "dogbox",
            "--jac",
            "3-point",
            "--tol",
            "tight",
            "--repeat",
            "7",
            "--data-dir",
            "/d",
            "--problem",
            "Misra",
            "--summary",
        ])
        .unwrap()
        .command;
        let cfg = b.to_config();
        assert_eq!(cfg.suite, Suite::Nist);
        assert_eq!(cfg.method, Method::Dogbox);
        assert_eq!(cfg.jac, JacSpec::ThreePoint);
        assert_eq!(cfg.tol, Tol::Tight);
        assert_eq!(cfg.repeats.min_reps, 7);
        assert_eq!(cfg.data_dir, PathBuf::from("/d"));
        assert_eq!(cfg.problem.as_deref(), Some("Misra"));
        assert!(cfg.summary);
        let Command::Bench(b) = parse(&["bench", "--suite", "minpack", "--jac", "2-point"])
            .unwrap()
            .command;
        assert_eq!(b.to_config().jac, JacSpec::TwoPoint);
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
}
