//! The cost of one bundle-adjustment Jacobian (all observations' 24 values), for
//! instruction counts under callgrind: `ba_cost <file in DATA_DIR/bal> <reps>`. Run it
//! with reps R and 0 and divide the difference of the counts by R. Prints a digest of
//! the values' bits, so two builds can be checked for the same Jacobian.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use trustfit_problems::ba::BalProblem;
use trustfit_problems::data;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = data::bal_dir(&data::default_data_dir()).unwrap();
    let p = BalProblem::load(&dir.join(&args[1])).unwrap();
    let reps: usize = args[2].parse().unwrap();
    let mut values = vec![0.0; 24 * p.obs_index.len()];
    for _ in 0..reps {
        p.jacobian_values(black_box(&p.x0), &mut values);
        black_box(&values);
    }
    let digest = values.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, v| {
        (h ^ v.to_bits()).wrapping_mul(0x0100_0000_01b3)
    });
    let max = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    println!(
        "reps={reps} values={} digest={digest:#018x} max|J|={max:e}",
        values.len()
    );
}
