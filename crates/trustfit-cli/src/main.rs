//! `trustfit`: argument parsing only; the work is in the library (`trustfit_cli`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match trustfit_cli::Cli::try_parse() {
        Ok(cli) => ExitCode::from(trustfit_cli::main_with(&cli)),
        Err(e) if !e.use_stderr() => {
            // --help / --version
            let _ = e.print();
            ExitCode::SUCCESS
        }
        Err(e) => {
            let line = trustfit_cli::cli::one_line_error(&e);
            let _ = writeln!(std::io::stderr(), "trustfit: {line}");
            ExitCode::from(2)
        }
    }
}
