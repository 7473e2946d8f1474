//! Box-constraint kernels shared by trf and dogbox (spec §6.1–§6.5).

/// Largest `t ≥ 0` with `lb ≤ x + t·s ≤ ub`, and which bounds it hits
/// (`hits[j] = sign(s_j)` where component j reaches its bound at `t`).
pub(crate) fn step_size_to_bound(
    x: &[f64],
    s: &[f64],
    lb: &[f64],
    ub: &[f64],
    hits: &mut [f64],
) -> f64 {
    let mut t = f64::INFINITY;
    for j in 0..x.len() {
        if s[j] != 0.0 {
            let tj = ((lb[j] - x[j]) / s[j]).max((ub[j] - x[j]) / s[j]);
            t = t.min(tj);
        }
    }
    for j in 0..x.len() {
        hits[j] = if s[j] != 0.0 && ((lb[j] - x[j]) / s[j]).max((ub[j] - x[j]) / s[j]) == t {
            s[j].signum()
        } else {
            0.0
        };
    }
    t
}

/// Same as [`step_size_to_bound`] for `x = 0` and `s = -g` (dogbox's Cauchy direction).
pub(crate) fn step_to_bound_from_zero_neg(g: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
    let mut t = f64::INFINITY;
    for j in 0..g.len() {
        let s = -g[j];
        if s != 0.0 {
            t = t.min((lo[j] / s).max(hi[j] / s));
        }
    }
    t
}

/// The two roots `t` of `‖x + t·s‖ = Δ`, ascending (spec §6.2). `None` when `s = 0`
/// or `x` lies outside the region.
pub(crate) fn intersect_trust_region(x: &[f64], s: &[f64], delta: f64) -> Option<(f64, f64)> {
    let a = dot(s, s);
    if a == 0.0 {
        return None;
    }
    let b = dot(x, s);
    let c = dot(x, x) - delta.powi(2);
    if c > 0.0 {
        return None;
    }
    let d = (b * b - a * c).sqrt();
    let q = -(b + d.copysign(b));
    let (t1, t2) = (q / a, c / q);
    Some(if t1 < t2 { (t1, t2) } else { (t2, t1) })
}

/// Which bounds are active (−1 lower, +1 upper, 0 free) with relative tolerance `rtol` (spec §6.3).
pub(crate) fn find_active_constraints(
    x: &[f64],
    lb: &[f64],
    ub: &[f64],
    rtol: f64,
    out: &mut [i32],
) {
    for j in 0..x.len() {
        out[j] = 0;
        if rtol == 0.0 {
            if x[j] <= lb[j] {
                out[j] = -1;
            }
            if x[j] >= ub[j] {
                out[j] = 1;
            }
            continue;
        }
        let dl = x[j] - lb[j];
        let du = ub[j] - x[j];
        let tl = rtol * lb[j].abs().max(1.0);
        let tu = rtol * ub[j].abs().max(1.0);
        if lb[j].is_finite() && dl <= du.min(tl) {
            out[j] = -1;
        }
        if ub[j].is_finite() && du <= dl.min(tu) {
            out[j] = 1;
        }
    }
}

/// Moves `x` strictly inside the bounds (spec §6.4), in place.
pub(crate) fn make_strictly_feasible(x: &mut [f64], lb: &[f64], ub: &[f64], rstep: f64) {
    for j in 0..x.len() {
        let mut active = 0;
        if rstep == 0.0 {
            if x[j] <= lb[j] {
                active = -1;
            }
            if x[j] >= ub[j] {
                active = 1;
            }
        } else {
            let dl = x[j] - lb[j];
            let du = ub[j] - x[j];
            if lb[j].is_finite() && dl <= du.min(rstep * lb[j].abs().max(1.0)) {
                active = -1;
            }
            if ub[j].is_finite() && du <= dl.min(rstep * ub[j].abs().max(1.0)) {
                active = 1;
            }
        }
        if rstep == 0.0 {
            if active == -1 {
                x[j] = next_toward(lb[j], ub[j]);
            } else if active == 1 {
                x[j] = next_toward(ub[j], lb[j]);
            }
        } else if active == -1 {
            x[j] = lb[j] + rstep * lb[j].abs().max(1.0);
        } else if active == 1 {
            x[j] = ub[j] - rstep * ub[j].abs().max(1.0);
        }
        if x[j] < lb[j] || x[j] > ub[j] {
            x[j] = 0.5 * (lb[j] + ub[j]);
        }
    }
}

/// `nextafter(a, toward)` for finite `a`.
pub(crate) fn next_toward(a: f64, toward: f64) -> f64 {
    if a.is_nan() || toward.is_nan() || a == toward {
        return a;
    }
    if a == 0.0 {
        let tiny = f64::from_bits(1);
        return if toward > 0.0 { tiny } else { -tiny };
    }
    let bits = a.to_bits();
    let up = (toward > a) == (a > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

/// Coleman–Li scaling vector `v` and its derivative sign `dv` (spec §6.5).
pub(crate) fn cl_scaling_vector(
    x: &[f64],
    g: &[f64],
    lb: &[f64],
    ub: &[f64],
    v: &mut [f64],
    dv: &mut [f64],
) {
    for j in 0..x.len() {
        v[j] = 1.0;
        dv[j] = 0.0;
        if g[j] < 0.0 && ub[j].is_finite() {
            v[j] = ub[j] - x[j];
            dv[j] = -1.0;
        } else if g[j] > 0.0 && lb[j].is_finite() {
            v[j] = x[j] - lb[j];
            dv[j] = 1.0;
        }
    }
}

/// True when `lb ≤ x ≤ ub` componentwise.
pub(crate) fn in_bounds(x: &[f64], lb: &[f64], ub: &[f64]) -> bool {
    x.iter()
        .zip(lb)
        .zip(ub)
        .all(|((x, l), u)| *l <= *x && *x <= *u)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_to_bound_reports_every_tied_hit() {
        let mut hits = [0.0; 3];
        let t = step_size_to_bound(
            &[0.0, 0.0, 0.0],
            &[1.0, -2.0, 0.0],
            &[-1.0; 3],
            &[2.0, 1.0, 1.0],
            &mut hits,
        );
        assert_eq!(t, 0.5);
        assert_eq!(hits, [0.0, -1.0, 0.0]);
        let t = step_size_to_bound(
            &[0.0, 0.0],
            &[1.0, 1.0],
            &[-1.0; 2],
            &[1.0; 2],
            &mut hits[..2],
        );
        assert_eq!((t, hits[0], hits[1]), (1.0, 1.0, 1.0));
    }

    #[test]
    fn intersect_trust_region_roots_lie_on_the_sphere() {
        let (a, b) = intersect_trust_region(&[0.1, 0.2], &[1.0, -0.5], 2.0).unwrap();
        for t in [a, b] {
            let p = [0.1 + t, 0.2 - 0.5 * t];
            assert!(((p[0] * p[0] + p[1] * p[1]).sqrt() - 2.0).abs() < 1e-14);
        }
        assert!(a < 0.0 && b > 0.0);
        assert!(intersect_trust_region(&[3.0, 0.0], &[1.0, 0.0], 2.0).is_none());
    }

    #[test]
    fn strictly_feasible_moves_points_off_the_bounds() {
        let lb = [0.0, -1.0, f64::NEG_INFINITY];
        let ub = [1.0, 1.0, 5.0];
        let mut x = [0.0, 1.0, 5.0];
        make_strictly_feasible(&mut x, &lb, &ub, 0.0);
        assert!(x[0] > 0.0 && x[1] < 1.0 && x[2] < 5.0);
        let mut x = [0.0, 1.0, 5.0];
        make_strictly_feasible(&mut x, &lb, &ub, 1e-10);
        assert_eq!(x, [1e-10, 1.0 - 1e-10, 5.0 - 5e-10]);
    }

    #[test]
    fn active_constraints_use_relative_tolerance() {
        let mut out = [0; 3];
        find_active_constraints(
            &[1e-12, 0.5, 2.0 - 1e-9],
            &[0.0; 3],
            &[1.0, 1.0, 2.0],
            1e-8,
            &mut out,
        );
        assert_eq!(out, [-1, 0, 1]);
    }

    #[test]
    fn next_toward_steps_one_ulp() {
        assert_eq!(next_toward(1.0, 2.0), 1.0 + f64::EPSILON);
        assert_eq!(next_toward(1.0, 0.0), 1.0 - f64::EPSILON / 2.0);
        assert!(next_toward(0.0, -1.0) < 0.0);
        assert_eq!(next_toward(-1.0, 0.0), -1.0 + f64::EPSILON / 2.0);
    }
}
