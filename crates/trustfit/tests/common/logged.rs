//! Small problems that record every point they are evaluated at (bounds and
//! finite-difference tests check that no evaluation leaves the box).
#![allow(dead_code)]

use std::cell::RefCell;

use trustfit::{Bounds, Residuals, from_fn};

/// f = [x0 − 3, x1 + 2, 0.1(x0 − x1)²]: with x0 ≤ 2 and x1 ≥ −1 ([`corner_bounds`]) both
/// bounds are active at the solution [2, −1] (gradient there: −0.46 on x0, +0.46 on x1,
/// both pushing outward). Records every point it is evaluated at.
pub fn corner(log: &RefCell<Vec<Vec<f64>>>) -> impl Residuals + '_ {
    from_fn(3, move |x: &[f64], f: &mut [f64]| {
        log.borrow_mut().push(x.to_vec());
        let d = x[0] - x[1];
        f[0] = x[0] - 3.0;
        f[1] = x[1] + 2.0;
        f[2] = 0.1 * d * d;
    })
    .with_jacobian(|x: &[f64], j: &mut [f64]| {
        let d = x[0] - x[1];
        j.copy_from_slice(&[1.0, 0.0, 0.0, 1.0, 0.2 * d, -0.2 * d]);
    })
}

/// x0 ≤ 2, x1 ≥ −1: the box of [`corner`].
pub fn corner_bounds() -> Bounds {
    Bounds::new(vec![f64::NEG_INFINITY, -1.0], vec![2.0, f64::INFINITY])
}
