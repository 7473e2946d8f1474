//! `enorm`: MINPACK's overflow- and underflow-safe Euclidean norm.
//!
//! A plain `sqrt(Σ xᵢ²)` overflows once a component exceeds ~1e154 and loses everything
//! below ~1e-154. MINPACK instead splits the components into three classes and keeps a
//! scaled sum of squares for the large and the small ones. The result is *not* always the
//! correctly rounded norm, and every quantity in LMDER (‖f‖, ‖D·x‖, ‖D·p‖, …) goes through
//! it, so the exact order of operations below is what makes iterates match scipy bit for
//! bit (spec §9.6).

/// `rgiant = 2^63.5`, the C port's value (the Fortran original used the decimal
/// approximation 1.304e19, which would change which components count as "large").
pub const RGIANT: f64 = 1.304_381_782_533_278_3e19;

/// `rdwarf = 0.5 / rgiant = 2^-64.5`; components at or below this are "small".
pub const RDWARF: f64 = 3.833_233_541_708_435e-20;

/// Euclidean norm of `x` computed exactly as MINPACK's `enorm`.
///
/// Components with `|xᵢ| ≥ rgiant / len` are accumulated relative to their running maximum
/// (so their squares cannot overflow), components with `|xᵢ| ≤ rdwarf` relative to theirs
/// (so their squares cannot underflow), the rest as plain squares. Returns 0 for an empty
/// slice. NaN components propagate (they land in the intermediate sum).
pub fn enorm(x: &[f64]) -> f64 {
    // Precision note: dividing by the length (not multiplying by a reciprocal) is what the
    // C code does; it decides the class boundary, so it must be reproduced.
    let agiant = RGIANT / x.len() as f64;
    // The usual case, every component intermediate: MINPACK's result is then the plain
    // sum of squares in order and its square root (s1 = s3 = x3max = 0 below), and a
    // class test without branches costs less than the classification.
    let intermediate = |v: &f64| {
        let a = v.abs();
        a > RDWARF && a < agiant
    };
    if x.iter().fold(true, |all, v| all & intermediate(v)) {
        return x.iter().fold(0.0_f64, |s, v| s + v * v).sqrt();
    }
    let mut s1 = 0.0_f64; // large components, scaled by x1max²
    let mut s2 = 0.0_f64; // intermediate components, unscaled
    let mut s3 = 0.0_f64; // small components, scaled by x3max²
    let mut x1max = 0.0_f64;
    let mut x3max = 0.0_f64;

    for &xi in x {
        let xabs = xi.abs();
        if xabs <= RDWARF || xabs >= agiant {
            if xabs > RDWARF {
                // Large component: rescale the running sum when a new maximum appears.
                if xabs > x1max {
                    let r = x1max / xabs;
                    s1 = 1.0 + s1 * (r * r);
                    x1max = xabs;
                } else {
                    let r = xabs / x1max;
                    s1 += r * r;
                }
            } else if xabs > x3max {
                // Small component (exact zeros never exceed x3max and are skipped below).
                let r = x3max / xabs;
                s3 = 1.0 + s3 * (r * r);
                x3max = xabs;
            } else if xabs != 0.0 {
                let r = xabs / x3max;
                s3 += r * r;
            }
        } else {
            // Intermediate component (NaN also lands here, as in the C code).
            s2 += xabs * xabs;
        }
    }

    if s1 != 0.0 {
        x1max * (s1 + (s2 / x1max) / x1max).sqrt()
    } else if s2 != 0.0 {
        if s2 >= x3max {
            (s2 * (1.0 + (x3max / s2) * (x3max * s3))).sqrt()
        } else {
            (x3max * ((s2 / x3max) + (x3max * s3))).sqrt()
        }
    } else {
        x3max * s3.sqrt()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Largest allowed distance, in units in the last place, between `enorm` and a naive
    /// `sqrt(Σx²)` on well-scaled vectors: both round once per term plus the final sqrt, but
    /// in different orders, so they may differ in the last bit.
    const MAX_ULPS_VS_NAIVE: u64 = 1;

    /// Relative tolerance for huge/tiny inputs compared with an analytically known norm:
    /// a few roundings of the scaled sums.
    const SCALED_RTOL: f64 = 4.0 * f64::EPSILON;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    fn naive(x: &[f64]) -> f64 {
        x.iter().map(|v| v * v).sum::<f64>().sqrt()
    }

    /// Tiny deterministic LCG (Knuth's MMIX constants) so the test needs no crate.
    struct Lcg(u64);
    impl Lcg {
        fn next_f64(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
        }
    }

    #[test]
    fn rgiant_is_two_to_the_63_and_a_half() {
        assert_eq!(
            RGIANT,
            std::f64::consts::SQRT_2 * 9_223_372_036_854_775_808.0
        );
        assert_eq!(RDWARF, 0.5 / RGIANT);
    }

    #[test]
    fn enorm_matches_naive_norm_on_ordinary_vectors() {
        let mut rng = Lcg(12345);
        for len in 1..40 {
            let x: Vec<f64> = (0..len).map(|_| 10.0 * rng.next_f64()).collect();
            let e = enorm(&x);
            let n = naive(&x);
            assert!(ulps(e, n) <= MAX_ULPS_VS_NAIVE, "len {len}: {e} vs {n}");
        }
        assert_eq!(enorm(&[3.0, 4.0]), 5.0);
        assert_eq!(enorm(&[-2.0]), 2.0);
    }

    #[test]
    fn enorm_of_empty_and_zero_vectors_is_zero() {
        assert_eq!(enorm(&[]), 0.0);
        assert_eq!(enorm(&[0.0, 0.0, -0.0]), 0.0);
    }

    #[test]
    fn enorm_handles_huge_components_without_overflow() {
        let x = [3e200, -4e200];
        let e = enorm(&x);
        assert!(e.is_finite());
        assert!((e - 5e200).abs() <= SCALED_RTOL * 5e200, "{e}");
        // Mixed huge and intermediate: the intermediate part is negligible.
        let e = enorm(&[1e200, 1.0, 1e200]);
        let expected = 1e200 * std::f64::consts::SQRT_2;
        assert!((e - expected).abs() <= SCALED_RTOL * expected, "{e}");
        assert!(naive(&x).is_infinite(), "the naive norm must overflow here");
    }

    #[test]
    fn enorm_handles_tiny_components_without_underflow() {
        let x = [3e-200, 4e-200];
        let e = enorm(&x);
        assert!((e - 5e-200).abs() <= SCALED_RTOL * 5e-200, "{e}");
        assert_eq!(naive(&x), 0.0, "the naive norm must underflow here");
        // Tiny next to intermediate: the tiny part vanishes, the result is the intermediate.
        assert_eq!(enorm(&[1e-200, 2.0]), 2.0);
        // Only zeros and tiny values.
        let e = enorm(&[0.0, 1e-300, 0.0, 1e-300]);
        let expected = 1e-300 * std::f64::consts::SQRT_2;
        assert!((e - expected).abs() <= SCALED_RTOL * expected, "{e}");
    }

    #[test]
    fn enorm_propagates_nan() {
        assert!(enorm(&[1.0, f64::NAN]).is_nan());
    }
}
