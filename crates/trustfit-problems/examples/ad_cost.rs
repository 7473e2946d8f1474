//! The cost of one Jacobian, for instruction counts under callgrind (independent of
//! machine load): `ad_cost <auto|analytic|2-point> <problem> <reps>`, where problem is
//! a MINPACK label ("osborne2_n11_m65"), a NIST dataset name ("Gauss1") or
//! "broyden_N" (sparse J: values in CSR order, AD by the 3 column groups j mod 3 in one
//! pass, 2-point as 3 grouped residual calls). Run it with reps R and 0 and divide the
//! difference of the counts by R.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use trustfit::{Auto, AutoResiduals, Residuals, Seeding};
use trustfit_problems::sparse::BroydenTridiagonal;
use trustfit_problems::{TestProblem, data, minpack, nist};

fn two_point(p: &dyn TestProblem, x: &[f64], f0: &[f64], f1: &mut [f64], jac: &mut [f64]) {
    let (m, n) = (p.m(), p.n());
    let mut xh = x.to_vec();
    for j in 0..n {
        let h = f64::EPSILON.sqrt() * x[j].abs().max(1.0);
        xh[j] = x[j] + h;
        p.residuals(&xh, f1);
        xh[j] = x[j];
        for i in 0..m {
            jac[i * n + j] = (f1[i] - f0[i]) / h;
        }
    }
}

fn run<P: TestProblem + AutoResiduals>(p: &P, x: &[f64], mode: &str, reps: usize) {
    let (m, n) = (p.m(), p.n());
    let mut jac = vec![0.0; m * n];
    let (mut f0, mut f1) = (vec![0.0; m], vec![0.0; m]);
    TestProblem::residuals(p, x, &mut f0);
    let dirs: Vec<u32> = (0..n as u32).collect();
    // Dual buffers kept across calls, as the solver keeps them.
    let scratch = trustfit::DualScratch::default();
    let seeding = Seeding::new(&dirs, n).with_scratch(&scratch);
    let auto = Auto(p);
    for _ in 0..reps {
        match mode {
            "auto" => auto
                .auto_derivatives(black_box(x), &seeding, &mut jac)
                .unwrap(),
            "analytic" => p.jacobian(black_box(x), &mut jac),
            "2-point" => two_point(p, black_box(x), &f0, &mut f1, &mut jac),
            _ => panic!("mode: auto, analytic or 2-point"),
        }
        black_box(&jac);
    }
    println!("{mode} m={m} n={n} reps={reps} J[0]={:e}", jac[0]);
}

/// Broyden tridiagonal's sparse J: the pass and the scatter of `JacSpec::Auto`.
fn broyden(n: usize, mode: &str, reps: usize) {
    let p = BroydenTridiagonal::new(n);
    let (x, pattern) = (p.x0(), p.sparsity());
    let mut values = vec![0.0; pattern.len()];
    let dirs: Vec<u32> = (0..n as u32).map(|j| j % 3).collect();
    // As the solver seeds it: each entry's code (row, lane), the values written in
    // CSR order into buffers kept across calls.
    let source: Vec<u32> = pattern
        .iter()
        .map(|&(i, j)| Seeding::entry(i, j % 3).unwrap())
        .collect();
    let scratch = trustfit::DualScratch::default();
    let seeding = Seeding::new(&dirs, 3)
        .with_scratch(&scratch)
        .into_entries(&source);
    let (mut f0, mut f1) = (vec![0.0; n], vec![0.0; n]);
    TestProblem::residuals(&p, &x, &mut f0);
    let mut xh = x.clone();
    for _ in 0..reps {
        match mode {
            "auto" => Auto(&p)
                .auto_derivatives(black_box(&x), &seeding, &mut values)
                .unwrap(),
            "analytic" => p.jacobian_values(black_box(&x), &mut values),
            "2-point" => {
                for g in 0..3 {
                    for j in (g..n).step_by(3) {
                        xh[j] = x[j] + 1e-8;
                    }
                    TestProblem::residuals(&p, &xh, &mut f1);
                    xh.copy_from_slice(&x);
                    for (v, &(i, j)) in values.iter_mut().zip(&pattern) {
                        if j % 3 == g {
                            *v = (f1[i] - f0[i]) / 1e-8;
                        }
                    }
                }
            }
            _ => panic!("mode: auto, analytic or 2-point"),
        }
        black_box(&values);
    }
    println!("{mode} n={n} reps={reps} J[0]={:e}", values[0]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, name) = (args[1].as_str(), args[2].as_str());
    let reps: usize = args[3].parse().unwrap();
    if let Some(n) = name.strip_prefix("broyden_") {
        return broyden(n.parse().unwrap(), mode, reps);
    }
    if let Some(c) = minpack::cases().into_iter().find(|c| c.label() == name) {
        return run(&c, &c.x0, mode, reps);
    }
    let dir = data::nist_dir(&data::default_data_dir()).unwrap();
    let p = nist::load_dataset(&dir, name).unwrap();
    run(&p, p.start(0), mode, reps);
}
