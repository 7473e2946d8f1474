//! The seeds' examples from scipy's documentation, solved and reported:
//! Rosenbrock (unbounded and with x[1] ≥ 1.5), the robust exponential fit with
//! outliers under each loss, and a linear 2×2 system.
//!
//! Run: `cargo run --release -p trustfit --example seeds`

use trustfit::{Bounds, JacSpec, Loss, Method, Options, from_fn, least_squares};

fn main() -> Result<(), trustfit::Error> {
    let rosen = from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = 10.0 * (x[1] - x[0] * x[0]);
        f[1] = 1.0 - x[0];
    })
    .with_jacobian(|x: &[f64], j: &mut [f64]| j.copy_from_slice(&[-20.0 * x[0], 10.0, -1.0, 0.0]));

    println!("== Rosenbrock from [-2, 1], analytic Jacobian, each method");
    for method in [Method::Trf, Method::Dogbox, Method::Lm] {
        let opts = Options {
            method,
            jac: JacSpec::Analytic,
            ..Default::default()
        };
        match least_squares(&rosen, &[-2.0, 1.0], &opts) {
            Ok(r) => println!("{}", r.brief()),
            Err(e) => println!("{method}: {e}"),
        }
    }

    println!("\n== Rosenbrock from [2, 2] with x[1] >= 1.5 (trf)");
    let opts = Options {
        bounds: Bounds::new(vec![f64::NEG_INFINITY, 1.5], vec![f64::INFINITY]),
        ..Default::default()
    };
    println!("{}", least_squares(&rosen, &[2.0, 2.0], &opts)?);

    println!("== y = a + b·exp(c·t) with two outliers, each loss (f_scale 0.1)");
    let (t, y) = trustfit_problems::seeds::expfit_data();
    let model = from_fn(t.len(), |p: &[f64], f: &mut [f64]| {
        for i in 0..t.len() {
            f[i] = p[0] + p[1] * (p[2] * t[i]).exp() - y[i];
        }
    });
    println!(
        "{:>8} {:>12} {:>12} {:>12} {:>12} {:>5}",
        "loss", "a", "b", "c", "cost", "nfev"
    );
    for loss in [
        Loss::Linear,
        Loss::SoftL1,
        Loss::Huber,
        Loss::Cauchy,
        Loss::Arctan,
    ] {
        let name = loss.as_str();
        let opts = Options {
            loss,
            f_scale: 0.1,
            ..Default::default()
        };
        let r = least_squares(&model, &[1.0, 1.0, 0.0], &opts)?;
        println!(
            "{name:>8} {:>12.6} {:>12.6} {:>12.6} {:>12.6} {:>5}",
            r.x[0], r.x[1], r.x[2], r.cost, r.nfev
        );
    }

    println!("\n== Linear 2×2 system 3x + y = 9, x + 2y = 8 (dogbox)");
    let lin = from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = 3.0 * x[0] + x[1] - 9.0;
        f[1] = x[0] + 2.0 * x[1] - 8.0;
    });
    let opts = Options {
        method: Method::Dogbox,
        ..Default::default()
    };
    println!("{}", least_squares(&lin, &[0.0, 0.0], &opts)?.brief());
    Ok(())
}
