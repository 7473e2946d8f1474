//! `trustfit bench --suite sparse`: the Broyden tridiagonal system at n = 10⁴, 10⁵
//! and 10⁶, solved with a sparse Jacobian — analytic (`--jac analytic`, CSR filled in
//! place) or by finite differences over column groups (`--jac 2-point|3-point`, scipy's
//! `jac_sparsity` path). Rows follow the peers' schema and add `tr_solver`,
//! `jac_groups` (evaluations per differenced Jacobian) and `nnz`.

use std::io::Write;
use std::time::Instant;

use trustfit::{JacSpec, Options, Report, Residuals, least_squares};
use trustfit_problems::adapter::SparseAdapter;
use trustfit_problems::sparse::BroydenTridiagonal;

use crate::CliError;
use crate::bench::{BenchConfig, Extra, Outcome, Row, Solved, Summary, emit, median};

/// Sizes of the suite: the peers' two and 10⁶.
pub const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// The Broyden system as a [`Residuals`] with a sparse analytic Jacobian.
///
/// ```
/// use trustfit::Residuals;
/// let p = trustfit_cli::bench_sparse::sparse_broyden(5).unwrap();
/// assert_eq!(p.jacobian_sparsity().map(|s| s.nnz()), Some(13));
/// ```
pub type SparseBroyden = SparseAdapter<BroydenTridiagonal>;

/// The system of size `n` with its sparse Jacobian.
///
/// # Errors
/// Never for a valid size (the pattern lists in-range entries only).
///
/// ```
/// let p = trustfit_cli::bench_sparse::sparse_broyden(4).unwrap();
/// assert_eq!(p.pattern().nnz(), 10);
/// ```
pub fn sparse_broyden(n: usize) -> Result<SparseBroyden, trustfit::Error> {
    SparseAdapter::new(BroydenTridiagonal::new(n))
}

/// What a large-problem row needs to know about its case.
pub(crate) struct LargeCase<'a, P: Residuals + ?Sized> {
    pub suite: &'static str,
    pub label: String,
    pub start: &'static str,
    pub problem: &'a P,
    pub x0: &'a [f64],
    pub nnz: usize,
    /// Threads of the pool the solve runs in (reported when set).
    pub threads: Option<usize>,
}

/// Times `case` under the repeat policy and builds its row (shared by the sparse
/// and bundle-adjustment suites).
pub(crate) fn large_row<P: Residuals + ?Sized>(
    cfg: &BenchConfig,
    options: &Options,
    case: &LargeCase<'_, P>,
) -> Row {
    let mut times = Vec::new();
    let mut total = 0.0;
    let mut first: Option<Report> = None;
    let mut error = None;
    while cfg.repeats.more(times.len(), total) || (first.is_none() && error.is_none()) {
        let t0 = Instant::now();
        match least_squares(case.problem, case.x0, options) {
            Ok(r) => {
                let dt = t0.elapsed().as_secs_f64();
                times.push(dt);
                total += dt;
                if first.is_none() {
                    first = Some(r);
                }
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let (m, n) = (case.problem.num_residuals(), case.x0.len());
    let outcome = match (first, error) {
        (Some(report), None) => {
            let cost = 0.5 * report.fun.iter().map(|v| v * v).sum::<f64>();
            let mut f0 = vec![0.0; m];
            let cost0 = match case.problem.residuals(case.x0, &mut f0) {
                Ok(()) => 0.5 * f0.iter().map(|v| v * v).sum::<f64>(),
                Err(_) => f64::NAN,
            };
            let repeats = times.len();
            let extra = Extra::Sparse {
                tr_solver: report.tr_solver.map_or("none", |t| t.as_str()),
                jac_groups: report.jac_groups,
                nnz: case.nnz,
                threads: case.threads,
            };
            Outcome::Solved(Box::new(Solved::from_report(
                &report,
                (cost, cost0),
                (median(&mut times), repeats),
                None,
                extra,
            )))
        }
        (_, e) => Outcome::Failed {
            error: e.unwrap_or_default(),
        },
    };
    Row {
        suite: case.suite,
        problem: case.label.clone(),
        start: case.start,
        solver: "trustfit",
        method: cfg.method.as_str(),
        jac: cfg.jac.as_str(),
        tol: cfg.tol_label(),
        n: Some(n),
        m: Some(m),
        outcome,
    }
}

/// Runs the sparse suite (sizes filtered by `--problem`).
///
/// # Errors
/// [`CliError::Usage`] when `--problem` matches no size, [`CliError::Io`] on write errors.
pub fn run(cfg: &BenchConfig, out: &mut dyn Write, summary: &mut Summary) -> Result<(), CliError> {
    let mut options = cfg.options();
    let label = |n: usize| BroydenTridiagonal::new(n).label();
    // A filter equal to a label selects that size alone (n10000 is a prefix of n100000).
    let exact: Vec<usize> = SIZES
        .into_iter()
        .filter(|&n| cfg.problem.as_deref() == Some(label(n).as_str()))
        .collect();
    let sizes: Vec<usize> = if exact.is_empty() {
        SIZES
            .into_iter()
            .filter(|&n| {
                cfg.problem
                    .as_ref()
                    .is_none_or(|f| label(n).to_lowercase().contains(&f.to_lowercase()))
            })
            .collect()
    } else {
        exact
    };
    if sizes.is_empty() {
        return Err(CliError::Usage(format!(
            "no sparse case matches --problem {:?}",
            cfg.problem.as_deref().unwrap_or("")
        )));
    }
    for n in sizes {
        let p = sparse_broyden(n).map_err(|e| CliError::Usage(e.to_string()))?;
        if cfg.jac != JacSpec::Analytic {
            options.jac_sparsity = Some(p.pattern().clone());
        }
        let x0 = p.problem().x0();
        let case = LargeCase {
            suite: "sparse",
            label: p.problem().label(),
            start: p.problem().start(),
            problem: &p,
            x0: &x0,
            nnz: p.pattern().nnz(),
            threads: None,
        };
        emit(out, &large_row(cfg, &options, &case), summary)?;
    }
    Ok(())
}
