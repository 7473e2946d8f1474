//! `trustfit bench --suite ba`: bundle adjustment on the BAL files of
//! `DATA_DIR/bal` (plain `.txt` or gzip `.txt.gz`; `.bz2` files become error rows; a
//! malformed or truncated file stops the run with exit status 2), with
//! `x_scale='jac'` and a sparse Jacobian — analytic (forward-mode, `--jac analytic`)
//! or by column groups (`--jac 2-point|3-point`). By default trustfit's recommended
//! configuration: `method='sparse_lm'` with its Schur solver, on `--threads N` (every
//! core by default; the result is the same for any N). `--method trf` with
//! `--tr-solver lsmr|cholesky|schur` runs scipy's method.

use std::io::Write;

use trustfit::{JacSpec, XScale};
use trustfit_problems::adapter::SparseAdapter;
use trustfit_problems::ba::BalProblem;

use crate::CliError;
use crate::bench::{BenchConfig, Row, Summary, emit};
use crate::bench_sparse::{LargeCase, large_row};

/// A BAL problem as [`trustfit::Residuals`] with its sparse analytic Jacobian (the
/// pattern lists each row's 9 camera then 3 point columns, already sorted, so CSR
/// order is the problem's own order).
///
/// ```
/// use trustfit::Residuals;
/// let text = "1 1 1\n0 0 0.1 -0.2\n0 0 0 0 0 -5 1 0 0\n0 0 0\n";
/// let p = trustfit_problems::ba::BalProblem::parse(text).unwrap();
/// let r = trustfit_cli::bench_ba::BalResiduals::new(p).unwrap();
/// assert_eq!((r.num_residuals(), r.pattern().nnz()), (2, 24));
/// ```
pub type BalResiduals = SparseAdapter<BalProblem>;

/// Runs the BA suite.
///
/// # Errors
/// [`CliError::Data`] when `DATA_DIR/bal` has no BAL file or a file is malformed
/// (one line naming it and what is wrong), [`CliError::Usage`] when
/// `--problem` matches none, [`CliError::Io`] on write errors.
pub fn run(cfg: &BenchConfig, out: &mut dyn Write, summary: &mut Summary) -> Result<(), CliError> {
    let dir = trustfit_problems::data::bal_dir(&cfg.data_dir)
        .map_err(|e| CliError::Data(e.to_string()))?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(CliError::Io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.ends_with(".txt") || n.ends_with(".txt.gz") || n.ends_with(".txt.bz2")
            })
        })
        .collect();
    files.sort();
    let label = |p: &std::path::Path| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        name.split(".txt").next().unwrap_or(name).to_string()
    };
    files.retain(|p| {
        cfg.problem
            .as_ref()
            .is_none_or(|f| label(p).to_lowercase().contains(&f.to_lowercase()))
    });
    if files.is_empty() {
        return Err(CliError::Usage(format!(
            "no ba case matches --problem {:?}",
            cfg.problem.as_deref().unwrap_or("")
        )));
    }
    let mut options = cfg.options();
    options.x_scale = XScale::Jac;
    let threads = cfg
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| {
            CliError::Usage(format!(
                "--threads {threads}: cannot start the threads: {e}"
            ))
        })?;
    // Every file is read before the first row: a malformed one is bad input (exit
    // status 2, one line, no rows); a bzip2 file is an error row.
    let mut problems = Vec::with_capacity(files.len());
    for path in &files {
        if path.extension().is_some_and(|e| e == "bz2") {
            problems.push(None);
            continue;
        }
        let res = BalProblem::load(path)
            .and_then(|p| BalResiduals::new(p).map_err(|e| format!("{}: {e}", path.display())))
            .map_err(CliError::Data)?;
        problems.push(Some(res));
    }
    for (path, res) in files.iter().zip(&problems) {
        let row = match res {
            None => {
                let error = format!(
                    "{}: bzip2-compressed BAL files are not supported: decompress it, or use gzip",
                    path.display()
                );
                Row::failed(cfg, "ba", label(path), "file", error)
            }
            Some(res) => {
                if cfg.jac != JacSpec::Analytic {
                    options.jac_sparsity = Some(res.pattern().clone());
                }
                let case = LargeCase {
                    suite: "ba",
                    label: label(path),
                    start: "file",
                    problem: res,
                    x0: &res.problem().x0,
                    nnz: res.pattern().nnz(),
                    threads: Some(threads),
                };
                pool.install(|| large_row(cfg, &options, &case))
            }
        };
        emit(out, &row, summary)?;
    }
    Ok(())
}
