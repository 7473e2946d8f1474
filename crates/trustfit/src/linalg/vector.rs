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

/// True when some entry is infinite or NaN: `x · 0` is ±0 for finite `x` and NaN
/// otherwise, so a sum of such products is NaN exactly when an entry is not finite.
/// Sixteen partial sums, no early exit: it vectorizes with no chain of dependent
/// additions (twice as fast as an OR of `!is_finite()` over a 300-entry Jacobian).
pub(crate) fn any_non_finite(v: &[f64]) -> bool {
    let mut acc = [0.0f64; NAN_LANES];
    let chunks = v.chunks_exact(NAN_LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x * 0.0;
        }
    }
    acc.iter().sum::<f64>().is_nan() || tail.iter().any(|x| !x.is_finite())
}

/// The partial sums of [`any_non_finite`].
const NAN_LANES: usize = 16;

/// `dst ← src` (equal lengths), and whether some entry is infinite or NaN, in one pass
/// (see [`any_non_finite`]).
pub(crate) fn copy_any_non_finite(src: &[f64], dst: &mut [f64]) -> bool {
    let mut acc = [0.0f64; NAN_LANES];
    let (src_chunks, dst_chunks) = (src.chunks_exact(NAN_LANES), dst.chunks_exact_mut(NAN_LANES));
    let tail = src_chunks.remainder();
    for (s, d) in src_chunks.zip(dst_chunks) {
        d.copy_from_slice(s);
        for (a, x) in acc.iter_mut().zip(s) {
            *a += x * 0.0;
        }
    }
    let body = src.len() - tail.len();
    dst[body..].copy_from_slice(tail);
    acc.iter().sum::<f64>().is_nan() || tail.iter().any(|x| !x.is_finite())
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

    #[test]
    fn a_non_finite_entry_is_found_anywhere() {
        for len in [0u32, 1, 15, 16, 17, 40, 300] {
            let v: Vec<f64> = (0..len).map(|i| f64::from(i) * 1e300 - 3.0).collect();
            let len = len as usize;
            let mut dst = vec![0.0; len];
            assert!(!any_non_finite(&v) && !copy_any_non_finite(&v, &mut dst));
            assert_eq!(dst, v);
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                for pos in (0..len).step_by(7).chain(len.checked_sub(1)) {
                    let mut w = v.clone();
                    w[pos] = bad;
                    assert!(any_non_finite(&w), "{len} {pos} {bad}");
                    assert!(copy_any_non_finite(&w, &mut dst), "{len} {pos} {bad}");
                }
            }
        }
    }
}
