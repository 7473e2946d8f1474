//! The README's large-problem snippet (checked by `cargo run --example readme_sparse`).
#![allow(clippy::unwrap_used)]
fn main() {
    use trustfit::{Options, SparsityPattern, TrSolver, from_fn, least_squares};
    // Broyden tridiagonal, n = 100 000 (scipy's jac_sparsity example).
    let n = 100_000;
    let f = from_fn(n, move |x: &[f64], f: &mut [f64]| {
        for i in 0..n {
            let left = if i > 0 { x[i - 1] } else { 0.0 };
            let right = if i + 1 < n { x[i + 1] } else { 0.0 };
            f[i] = (3.0 - x[i]) * x[i] + 1.0 - left - 2.0 * right;
        }
    });
    let entries = (0..n).flat_map(|i| [i.saturating_sub(1), i, (i + 1).min(n - 1)].map(|j| (i, j)));
    let pattern = SparsityPattern::from_entries(n, n, entries.collect::<Vec<_>>()).unwrap();
    let opts = Options {
        jac_sparsity: Some(pattern),
        ..Default::default()
    }; // lsmr, as scipy
    let r = least_squares(&f, &vec![-1.0; n], &opts).unwrap();
    assert!(r.success() && r.jac_groups == Some(5));
    let exact = Options {
        tr_solver: Some(TrSolver::Cholesky),
        ..opts
    }; // exact sparse steps
    let r2 = least_squares(&f, &vec![-1.0; n], &exact).unwrap();
    println!(
        "lsmr nfev {} cost {:e}; cholesky nfev {} cost {:e}",
        r.nfev, r.cost, r2.nfev, r2.cost
    );
}
