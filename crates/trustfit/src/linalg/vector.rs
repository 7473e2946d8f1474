//! Vector kernels shared by every method: dot products, norms, finiteness. The
//! summation order of each is fixed (results are compared bit for bit with earlier
//! versions and with scipy's fixtures).

/// Plain dot product, summed left to right.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm.
pub(crate) fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// Infinity norm that propagates NaN (so a NaN gradient can never look converged).
pub(crate) fn norm_inf(v: &[f64]) -> f64 {
    // Four running maxima (the maximum does not depend on the order) and a NaN flag:
    // a loop the compiler vectorizes, unlike a fold through `nan_max`.
    let mut lanes = [0.0f64; 4];
    let mut nan = false;
    let chunks = v.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for (m, &x) in lanes.iter_mut().zip(c) {
            let a = x.abs();
            nan |= a.is_nan();
            *m = if a > *m { a } else { *m };
        }
    }
    let mut m = lanes.iter().fold(0.0f64, |a, &b| a.max(b));
    for &x in tail {
        let a = x.abs();
        nan |= a.is_nan();
        m = m.max(a);
    }
    if nan { f64::NAN } else { m }
}

/// `max` that returns NaN when either argument is NaN (unlike `f64::max`).
pub(crate) fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// True when every entry is finite (see [`any_non_finite`]: no early exit, so it
/// vectorizes).
pub(crate) fn all_finite(v: &[f64]) -> bool {
    !any_non_finite(v)
}

/// True when some entry is infinite or NaN. An OR over all entries (no early exit)
/// vectorizes; the data are almost always finite, so an early exit saves nothing.
pub(crate) fn any_non_finite(v: &[f64]) -> bool {
    v.iter().fold(false, |acc, x| acc | !x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norms_propagate_nan_and_take_the_largest_magnitude() {
        assert_eq!(norm_inf(&[1.0, -7.0, 3.0, 2.0, -8.5]), 8.5);
        assert!(norm_inf(&[1.0, f64::NAN, 3.0]).is_nan());
        assert!(nan_max(1.0, f64::NAN).is_nan());
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
        assert!(any_non_finite(&[0.0, f64::INFINITY]) && !all_finite(&[f64::NAN]));
    }
}
