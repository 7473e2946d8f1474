//! All suites through the public trait object, as a solver or benchmark runner sees them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trustfit_problems::check::jacobian_error;
use trustfit_problems::sparse::{BroydenTridiagonal, STANDARD_SIZES};
use trustfit_problems::{TestProblem, data, minpack, nist};

/// Same bound as the in-crate checks (see `minpack`'s tests).
const JAC_TOL: f64 = 1e-6;

fn assert_send_sync<T: Send + Sync + ?Sized>() {}

/// Every problem of every suite, boxed, with its start and a label.
fn everything() -> Vec<(String, Box<dyn TestProblem>, Vec<f64>)> {
    let mut out: Vec<(String, Box<dyn TestProblem>, Vec<f64>)> = Vec::new();
    for c in minpack::cases() {
        out.push((
            format!("minpack {} {}", c.label(), c.start()),
            Box::new(c.clone()),
            c.x0.clone(),
        ));
    }
    match data::nist_dir(&data::default_data_dir()) {
        Ok(dir) => {
            for p in nist::load_all(&dir).unwrap() {
                for k in [1, 2] {
                    let label = format!("nist {} {}", p.name, nist::NistProblem::start_label(k));
                    let x0 = p.start(k).to_vec();
                    out.push((label, Box::new(p.clone()), x0));
                }
            }
        }
        Err(e) => eprintln!("skipping the NIST part: {e}"),
    }
    let b = BroydenTridiagonal::new(50);
    out.push((b.label(), Box::new(b), b.x0()));
    out
}

#[test]
fn trait_objects_are_consistent_and_jacobians_check_out() {
    assert_send_sync::<dyn TestProblem>();
    for (label, p, x0) in everything() {
        assert_eq!(x0.len(), p.n(), "{label}");
        assert!(p.m() >= p.n(), "{label}");
        let ssq = p.sum_of_squares(&x0);
        assert!(ssq.is_finite() && ssq > 0.0, "{label}: ssq {ssq}");
        assert_eq!(p.residual_norm(&x0), ssq.sqrt());
        let e = jacobian_error(p.as_ref(), &x0);
        assert!(e < JAC_TOL, "{label}: Jacobian error {e:.2e}");
    }
}

#[test]
fn large_broyden_uses_triplets() {
    let p = BroydenTridiagonal::new(STANDARD_SIZES[0]);
    assert_eq!(p.label(), "broyden_tridiagonal_n10000");
    assert_eq!(p.start(), "-1");
    let x = p.x0();
    let mut trip = Vec::new();
    p.jacobian_triplets(&x, &mut trip);
    assert_eq!(trip.len(), 3 * p.n - 2);
    // at x = -1 the diagonal is 3 - 2x = 5
    assert!(trip.iter().filter(|t| t.0 == t.1).all(|t| t.2 == 5.0));
    // the initial residual: -1 at the first row, 0 inside, -2 at the last row
    let mut f = vec![0.0; p.m()];
    p.residuals(&x, &mut f);
    assert_eq!(p.sum_of_squares(&x), 5.0);
    assert_eq!((f[0], f[p.n / 2], f[p.n - 1]), (-1.0, 0.0, -2.0));
}
