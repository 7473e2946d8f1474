//! `least_squares` keeps a small dense problem's solver for the thread's next solve of
//! the same plan: a solve on a thread that just solved other problems of the same shape
//! must give what the same solve gives on a fresh thread, bit for bit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use trustfit::{JacSpec, Loss, Method, Options, Report, least_squares};
use trustfit_problems::adapter::ProblemAdapter;
use trustfit_problems::minpack;

/// Everything of a report that a solve computes (not its time).
fn fingerprint(r: &Report) -> Vec<u64> {
    let mut out: Vec<u64> = [r.cost, r.optimality, r.initial_cost]
        .iter()
        .map(|v| v.to_bits())
        .collect();
    for v in [&r.x, &r.fun, &r.jac, &r.grad] {
        out.extend(v.iter().map(|v| v.to_bits()));
    }
    out.extend(r.active_mask.iter().map(|&a| a as u64));
    let njev = r.njev.map_or(u64::MAX, |n| n as u64);
    out.extend([r.nfev as u64, njev, r.nit as u64]);
    out.push(r.status.scipy_status() as u64);
    out
}

fn option_sets() -> Vec<Options> {
    let mut sets = Vec::new();
    for method in [Method::Trf, Method::Dogbox, Method::Lm] {
        for jac in [JacSpec::Analytic, JacSpec::TwoPoint, JacSpec::ThreePoint] {
            sets.push(Options {
                method,
                jac,
                ..Default::default()
            });
        }
    }
    sets.push(Options {
        loss: Loss::Cauchy,
        f_scale: 0.5,
        jac: JacSpec::Analytic,
        ..Default::default()
    });
    sets
}

/// One solve on a thread of its own: no kept solver.
fn cold(case: &minpack::MinpackCase, opts: &Options) -> Option<Vec<u64>> {
    std::thread::scope(|s| {
        s.spawn(|| {
            least_squares(&ProblemAdapter::new(case), &case.x0, opts)
                .ok()
                .map(|r| fingerprint(&r))
        })
        .join()
        .unwrap()
    })
}

#[test]
fn a_kept_solver_gives_what_a_fresh_one_gives() {
    let cases = minpack::cases();
    let mut reused = 0;
    for opts in option_sets() {
        // The 53 cases in driver order: the starts ×1, ×10, ×100 of a problem follow
        // each other, so most solves find the previous one's solver kept.
        let warm: Vec<_> = cases
            .iter()
            .map(|c| {
                let p = ProblemAdapter::new(c);
                let first = least_squares(&p, &c.x0, &opts)
                    .ok()
                    .map(|r| fingerprint(&r));
                let again = least_squares(&p, &c.x0, &opts)
                    .ok()
                    .map(|r| fingerprint(&r));
                assert_eq!(
                    first, again,
                    "{} {:?}: a second solve differs",
                    c.name, opts.method
                );
                first
            })
            .collect();
        for (c, w) in cases.iter().zip(&warm) {
            assert_eq!(
                &cold(c, &opts),
                w,
                "case {} ({}) with {:?} {:?}",
                c.index,
                c.name,
                opts.method,
                opts.jac
            );
            reused += 1;
        }
    }
    assert!(reused > 400);
}

#[test]
fn a_solve_nested_in_a_residual_function_gets_its_own_solver() {
    let inner = trustfit::from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] - 3.0);
    let outer = trustfit::from_fn(1, move |x: &[f64], f: &mut [f64]| {
        let r = least_squares(&inner, &[0.0], &Options::default()).unwrap();
        f[0] = x[0] - r.x[0];
    });
    for _ in 0..3 {
        let r = least_squares(&outer, &[0.0], &Options::default()).unwrap();
        assert!((r.x[0] - 3.0).abs() < 1e-8, "{:?}", r.x);
    }
}
