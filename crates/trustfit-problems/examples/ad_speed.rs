//! Wall-clock cost of automatic Jacobians against hand-written ones, measured
//! alternately so a busy machine slows both alike (speed is checked here, never in
//! tests).
//!
//! - `ad_speed sparse N ROUNDS [cholesky|lsmr]`: whole trf solves of Broyden
//!   tridiagonal with its sparse analytic J and with `JacSpec::Auto` over
//!   `jac_sparsity`; min and median per solve and of the Jacobian phase, their
//!   ratios, and the quartiles of the per-round ratio (the two sides timed back to
//!   back). `cholesky` (the default here: the fastest solve, so the one where the
//!   Jacobian weighs most) or `lsmr` (the default `tr_solver` of a sparse J).
//! - `ad_speed dense ROUNDS`: one Jacobian at x0 of every NIST start-1 model and
//!   MINPACK case (n ≤ 11) by the analytic code, by forward mode (dual buffers kept,
//!   as the solver keeps them), and by forward differences; per case the least time
//!   over rounds, then the median over cases of the ratios auto/analytic and
//!   auto/2-point. A third argument keeps only the cases whose name contains it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use trustfit::{Auto, AutoResiduals, JacSpec, Options, Residuals, Seeding, TrSolver};
use trustfit_problems::adapter::SparseAdapter;
use trustfit_problems::sparse::BroydenTridiagonal;
use trustfit_problems::{TestProblem, data, minpack, nist};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Quartiles of `auto[r] / analytic[r]` over rounds: each round times both within
/// a few milliseconds, so a host that speeds up or slows down over the run moves
/// both sides of a pair alike (the medians of each side do not pair them).
fn pair_ratios(analytic: &[f64], auto: &[f64]) -> [f64; 3] {
    let mut r: Vec<f64> = auto.iter().zip(analytic).map(|(b, a)| b / a).collect();
    r.sort_by(f64::total_cmp);
    let at = |q: f64| r[((r.len() - 1) as f64 * q).round() as usize];
    [at(0.25), at(0.5), at(0.75)]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Whole solves, analytic then auto in each round: (total s, jacobian s) per solve.
fn sparse(n: usize, rounds: usize, tr_solver: TrSolver) {
    let analytic = SparseAdapter::new(BroydenTridiagonal::new(n)).unwrap();
    let p = *analytic.problem();
    let base = Options {
        tr_solver: Some(tr_solver),
        ..Default::default()
    };
    let exact = Options {
        jac: JacSpec::Analytic,
        ..base.clone()
    };
    let auto = Options {
        jac: JacSpec::Auto,
        jac_sparsity: Some(analytic.pattern().clone()),
        ..base
    };
    let x0 = p.x0();
    let mut kept_exact = trustfit::Solver::new(&analytic, &x0, &exact).unwrap();
    let mut kept_auto = trustfit::Solver::new(&Auto(p), &x0, &auto).unwrap();
    let mut kept = [vec![], vec![]];
    let mut t = [vec![], vec![], vec![], vec![]];
    let mut nfev = [0, 0];
    for _ in 0..rounds {
        for (k, run) in [0, 1].into_iter().enumerate() {
            let t0 = Instant::now();
            let r = if run == 0 {
                trustfit::least_squares(&analytic, &x0, &exact).unwrap()
            } else {
                trustfit::least_squares(&Auto(p), &x0, &auto).unwrap()
            };
            t[2 * k].push(t0.elapsed().as_secs_f64());
            t[2 * k + 1].push(r.timing.map_or(f64::NAN, |t| t.jacobian.as_secs_f64()));
            nfev[k] = r.nfev;
            let t0 = Instant::now();
            let s = if run == 0 {
                kept_exact.solve(&analytic, &x0).unwrap().nfev
            } else {
                kept_auto.solve(&Auto(p), &x0).unwrap().nfev
            };
            kept[k].push(t0.elapsed().as_secs_f64());
            assert_eq!(s, nfev[k]);
        }
        assert_eq!(nfev[0], nfev[1], "auto and analytic take the same path");
    }
    let [q1, q2, q3] = pair_ratios(&t[0], &t[2]);
    println!(
        "  whole solves, per-round ratio auto/analytic: median {q2:.3} (quartiles {q1:.3}, {q3:.3})"
    );
    let [q1, q2, q3] = pair_ratios(&kept[0], &kept[1]);
    println!(
        "  kept Solver, per-round ratio auto/analytic: median {q2:.3} (quartiles {q1:.3}, {q3:.3})"
    );
    let [ka, kb] = &mut kept;
    let (ka, kb) = (median(ka) * 1e3, median(kb) * 1e3);
    println!(
        "  kept Solver (no set-up, buffers reused), median ms: analytic {ka:.2} auto {kb:.2} ratio {:.2}",
        kb / ka
    );
    let ms = |v: &mut Vec<f64>| (min(v) * 1e3, median(v) * 1e3);
    let [a, aj, b, bj] = &mut t;
    let (a, aj, b, bj) = (ms(a), ms(aj), ms(b), ms(bj));
    println!(
        "broyden n={n} rounds={rounds} tr_solver={tr_solver:?} nfev {} (ms: min, median)",
        nfev[0]
    );
    println!(
        "  analytic solve {:7.2} {:7.2}  jacobian {:6.2} {:6.2}",
        a.0, a.1, aj.0, aj.1
    );
    println!(
        "  auto     solve {:7.2} {:7.2}  jacobian {:6.2} {:6.2}",
        b.0, b.1, bj.0, bj.1
    );
    println!(
        "  ratio auto/analytic: solve {:.2} (min) {:.2} (median); jacobian {:.2} {:.2}",
        b.0 / a.0,
        b.1 / a.1,
        bj.0 / aj.0,
        bj.1 / aj.1
    );
}

/// Forward differences as trustfit's '2-point' takes them (step √ε·max(1, |x|)).
fn two_point(
    p: &dyn TestProblem,
    x: &[f64],
    f0: &[f64],
    f1: &mut [f64],
    xh: &mut [f64],
    jac: &mut [f64],
) {
    let (m, n) = (p.m(), p.n());
    for j in 0..n {
        let h = f64::EPSILON.sqrt() * x[j].abs().max(1.0);
        xh[j] = x[j] + h;
        p.residuals(xh, f1);
        xh[j] = x[j];
        for i in 0..m {
            jac[i * n + j] = (f1[i] - f0[i]) / h;
        }
    }
}

/// Seconds per Jacobian of `f`, over enough calls to last about 2 ms.
fn per_call(mut f: impl FnMut()) -> f64 {
    let mut reps = 1usize;
    loop {
        let t0 = Instant::now();
        for _ in 0..reps {
            f();
        }
        let dt = t0.elapsed();
        if dt > Duration::from_millis(2) {
            return dt.as_secs_f64() / reps as f64;
        }
        reps *= 2;
    }
}

/// Least seconds per J over `rounds` rounds, the three ways alternating (the least
/// is the one a busy machine disturbs least).
fn dense_case<P: TestProblem + AutoResiduals>(p: &P, x: &[f64], rounds: usize) -> [f64; 3] {
    let (m, n) = (p.m(), p.n());
    let mut jac = vec![0.0; m * n];
    let (mut f0, mut f1, mut xh) = (vec![0.0; m], vec![0.0; m], x.to_vec());
    TestProblem::residuals(p, x, &mut f0);
    let dirs: Vec<u32> = (0..n as u32).collect();
    let scratch = trustfit::DualScratch::default();
    let seeding = Seeding::new(&dirs, n).with_scratch(&scratch);
    let auto = Auto(p);
    let mut t = [vec![], vec![], vec![]];
    for _ in 0..rounds {
        t[0].push(per_call(|| p.jacobian(black_box(x), black_box(&mut jac))));
        t[1].push(per_call(|| {
            auto.auto_derivatives(black_box(x), &seeding, black_box(&mut jac))
                .unwrap()
        }));
        t[2].push(per_call(|| {
            two_point(p, black_box(x), &f0, &mut f1, &mut xh, black_box(&mut jac))
        }));
    }
    t.map(|v| min(&v))
}

fn dense(rounds: usize, only: &str) {
    let mut rows: Vec<(String, [f64; 3])> = Vec::new();
    for c in minpack::cases().into_iter().filter(|c| c.n <= 11) {
        if c.label().contains(only) {
            rows.push((c.label(), dense_case(&c, &c.x0, rounds)));
        }
    }
    if let Ok(dir) = data::nist_dir(&data::default_data_dir()) {
        for p in nist::load_all(&dir).unwrap() {
            if p.name.contains(only) {
                rows.push((p.name.clone(), dense_case(&p, p.start(0), rounds)));
            }
        }
    }
    let (mut ra, mut rf) = (vec![], vec![]);
    for (name, [a, b, c]) in &rows {
        println!(
            "{name:28} analytic {:9.1} ns  auto {:9.1} ns  2-point {:9.1} ns  auto/analytic {:5.2}  auto/2-point {:5.2}",
            a * 1e9,
            b * 1e9,
            c * 1e9,
            b / a,
            b / c
        );
        ra.push(b / a);
        rf.push(b / c);
    }
    println!(
        "{} cases: median auto/analytic {:.2} (max {:.2}), median auto/2-point {:.2} (max {:.2})",
        rows.len(),
        median(&mut ra.clone()),
        ra.iter().copied().fold(0.0, f64::max),
        median(&mut rf.clone()),
        rf.iter().copied().fold(0.0, f64::max)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("sparse") => sparse(
            args[2].parse().unwrap(),
            args[3].parse().unwrap(),
            match args.get(4).map_or("cholesky", String::as_str) {
                "cholesky" => TrSolver::Cholesky,
                "lsmr" => TrSolver::Lsmr,
                other => panic!("tr_solver {other:?}: cholesky or lsmr"),
            },
        ),
        Some("dense") => dense(
            args[2].parse().unwrap(),
            args.get(3).map_or("", String::as_str),
        ),
        _ => panic!("usage: ad_speed sparse N ROUNDS [cholesky|lsmr] | dense ROUNDS [NAME-PART]"),
    }
}
