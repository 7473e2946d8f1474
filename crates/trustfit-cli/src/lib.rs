//! The `trustfit` command line.
//!
//! `main.rs` only parses the arguments ([`cli::Cli`]) and hands them to
//! [`run`]; each subcommand lives in its own module and writes to the
//! streams it is given, so everything here can be tested without a process:
//!
//! * `trustfit fit` — [`fit_cmd`]: fit a formula ([`formula`]) to a CSV file
//!   ([`csvdata`]) as scipy's curve_fit does ([`curvefit`]), report it as text
//!   or JSON ([`report_text`]) and plot it ([`plot`]); with `--group-by`, one
//!   fit per group of rows, one CSV row each ([`group_fit`]);
//! * `trustfit nist` — [`nist`]: the NIST StRD certification table;
//! * `trustfit demo` — [`demo`]: the built-in robust-fitting example;
//! * `trustfit bench` — [`bench`](mod@bench): solve the MINPACK-1 or NIST StRD suite and
//!   print one JSON line per case, in the schema of the peer benchmarks.
//!
//! [`adapter::ProblemAdapter`] (re-exported from `trustfit-problems`, its one home)
//! lets the solver run any [`trustfit_problems::TestProblem`]; [`progress`] draws
//! progress bars on a terminal.

pub use trustfit_problems::adapter;
pub mod bench;
pub mod bench_ba;
pub mod bench_batch;
pub mod bench_sparse;
pub mod cli;
pub mod csvdata;
pub mod curvefit;
pub mod demo;
pub mod fit_cmd;
pub mod formula;
pub mod group_fit;
pub mod nist;
pub mod plot;
pub mod progress;
pub mod report_text;

use std::fmt;
use std::io::Write;

pub use cli::{Cli, Command};

/// Why a command could not run. Solver failures on single cases are not
/// errors of the command (they are reported in its output).
#[derive(Debug)]
pub enum CliError {
    /// Bad or unsupported arguments (exit status 2).
    Usage(String),
    /// Missing data folder or file (exit status 2); the message names the path.
    Data(String),
    /// Writing the output failed (exit status 1; 0 for a closed pipe).
    Io(std::io::Error),
    /// The command ran and printed its results, but the outcome is a failure:
    /// a fit that did not converge, a NIST case below the gate (exit status 1).
    NotConverged(String),
}

impl CliError {
    /// The process exit status for this error.
    ///
    /// ```
    /// use trustfit_cli::CliError;
    /// assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
    /// assert_eq!(CliError::Io(std::io::ErrorKind::BrokenPipe.into()).exit_code(), 0);
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Data(_) => 2,
            CliError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
            CliError::Io(_) | CliError::NotConverged(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Data(m) | CliError::NotConverged(m) => f.write_str(m),
            CliError::Io(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for CliError {}

/// Runs a parsed command line, writing results to `out` and diagnostics to `err`.
///
/// # Errors
/// See [`CliError`].
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), CliError> {
    match &cli.command {
        Command::Fit(args) => fit_cmd::run(&args.to_config(), out, err),
        Command::Nist(args) => nist::run(&args.to_config(), out, err),
        Command::Demo(args) => demo::run(&args.to_config(), out, err),
        Command::Bench(args) => bench::run(&args.to_config(), out, err).map(|_| ()),
    }
}

/// [`run`] on the process's stdout/stderr; reports an error as one line on
/// stderr and returns the exit status.
pub fn main_with(cli: &Cli) -> u8 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    match run(cli, &mut out, &mut err) {
        Ok(()) => 0,
        Err(e) => {
            let code = e.exit_code();
            if code != 0 {
                let _ = writeln!(err, "trustfit: error: {e}");
            }
            code
        }
    }
}
