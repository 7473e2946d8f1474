//! The seeds' exponential fit (spec §13): `y = a + b·exp(c·t)` at 15 points with a
//! small sine ripple and two outliers, the data of the robust-loss examples, the seed
//! reference tests, the allocation tests and `trustfit demo`.

/// The true parameters (a, b, c) of `y = a + b·exp(c·t)`.
///
/// ```
/// let [a, b, c] = trustfit_problems::seeds::EXPFIT_TRUE;
/// assert_eq!(a + b * (c * 0.0f64).exp(), 2.5); // y at t = 0, without the ripple
/// ```
pub const EXPFIT_TRUE: [f64; 3] = [0.5, 2.0, -1.0];

/// The data (t, y): `t = 0, 10/14, …, 10`, `y = 0.5 + 2·exp(−t) + 0.1·sin(3t)`, plus 2 at
/// points 3 and 8 (the outliers).
///
/// ```
/// let (t, y) = trustfit_problems::seeds::expfit_data();
/// assert_eq!((t.len(), y.len(), t[14]), (15, 15, 10.0));
/// assert_eq!(y[0], 2.5);
/// assert!((y[3] - (0.5 + 2.0 * (-t[3]).exp() + 0.1 * (3.0 * t[3]).sin() + 2.0)).abs() < 1e-15);
/// ```
pub fn expfit_data() -> (Vec<f64>, Vec<f64>) {
    let [a, b, c] = EXPFIT_TRUE;
    let t: Vec<f64> = (0..15).map(|i| i as f64 * (10.0 / 14.0)).collect();
    let mut y: Vec<f64> = t
        .iter()
        .map(|&t| a + b * (c * t).exp() + 0.1 * (3.0 * t).sin())
        .collect();
    y[3] += 2.0;
    y[8] += 2.0;
    (t, y)
}
