//! Trust-region kernels shared by trf and dogbox (spec §6.6–§6.8): the 1-D quadratic
//! minimiser, the radius update and the ftol/xtol tests.

use crate::report::Status;

/// Minimiser of `a t² + b t + c` on `[lo, hi]` (spec §6.6): candidates lo, hi, then the
/// interior stationary point; the first minimum wins.
pub(crate) fn minimize_quadratic_1d(a: f64, b: f64, lo: f64, hi: f64, c: f64) -> (f64, f64) {
    let mut best_t = lo;
    let mut best_v = lo * (a * lo + b) + c;
    let v_hi = hi * (a * hi + b) + c;
    if v_hi < best_v {
        best_t = hi;
        best_v = v_hi;
    }
    if a != 0.0 {
        let extremum = -0.5 * b / a;
        if lo < extremum && extremum < hi {
            let v = extremum * (a * extremum + b) + c;
            if v < best_v {
                best_t = extremum;
                best_v = v;
            }
        }
    }
    (best_t, best_v)
}

/// Trust-radius update from the reduction ratio (spec §6.7).
pub(crate) fn update_tr_radius(
    delta: f64,
    actual: f64,
    predicted: f64,
    step_norm: f64,
    bound_hit: bool,
) -> (f64, f64) {
    let ratio = if predicted > 0.0 {
        actual / predicted
    } else if predicted == 0.0 && actual == 0.0 {
        1.0
    } else {
        0.0
    };
    let new_delta = if ratio < 0.25 {
        0.25 * step_norm
    } else if ratio > 0.75 && bound_hit {
        2.0 * delta
    } else {
        delta
    };
    (new_delta, ratio)
}

/// ftol / xtol tests after a trial (spec §6.8).
pub(crate) fn check_termination(
    d_f: f64,
    f: f64,
    dx_norm: f64,
    x_norm: f64,
    ratio: f64,
    ftol: f64,
    xtol: f64,
) -> Option<Status> {
    let ftol_ok = d_f < ftol * f && ratio > 0.25;
    let xtol_ok = dx_norm < xtol * (xtol + x_norm);
    match (ftol_ok, xtol_ok) {
        (true, true) => Some(Status::FtolXtol),
        (true, false) => Some(Status::Ftol),
        (false, true) => Some(Status::Xtol),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimize_quadratic_prefers_interior_minimum() {
        let (t, v) = minimize_quadratic_1d(1.0, -2.0, 0.0, 5.0, 0.0);
        assert_eq!((t, v), (1.0, -1.0));
        let (t, _) = minimize_quadratic_1d(1.0, -2.0, 2.0, 5.0, 0.0);
        assert_eq!(t, 2.0);
        let (t, _) = minimize_quadratic_1d(-1.0, 0.0, -1.0, 2.0, 0.0);
        assert_eq!(t, 2.0);
    }

    #[test]
    fn tr_radius_shrinks_on_poor_ratio_and_grows_on_boundary() {
        assert_eq!(update_tr_radius(1.0, 0.1, 1.0, 0.8, true), (0.2, 0.1));
        assert_eq!(update_tr_radius(1.0, 0.9, 1.0, 1.0, true).0, 2.0);
        assert_eq!(update_tr_radius(1.0, 0.9, 1.0, 0.5, false).0, 1.0);
        assert_eq!(update_tr_radius(1.0, 0.0, 0.0, 0.5, false).1, 1.0);
    }

    #[test]
    fn termination_reports_both_conditions() {
        assert_eq!(
            check_termination(1e-12, 1.0, 1e-12, 1.0, 0.5, 1e-8, 1e-8),
            Some(Status::FtolXtol)
        );
        assert_eq!(
            check_termination(1e-12, 1.0, 1.0, 1.0, 0.1, 1e-8, 1e-8),
            None
        );
    }
}
