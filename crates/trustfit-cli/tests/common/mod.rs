//! What the CLI's process tests share: running the binary, and skipping without NIST data.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs the built `trustfit` binary with `args`.
pub fn trustfit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustfit"))
        .args(args)
        .output()
        .expect("the trustfit binary runs")
}

/// True (with the reason printed) when the NIST StRD files are not installed, so that
/// the test named `test` skips.
pub fn without_nist(test: &str) -> bool {
    let dir = trustfit_problems::data::default_data_dir();
    match trustfit_problems::data::nist_dir(&dir) {
        Ok(_) => false,
        Err(e) => {
            eprintln!("skipping {test}: {e}");
            true
        }
    }
}
