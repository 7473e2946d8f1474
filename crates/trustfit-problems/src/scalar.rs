//! [`Scalar`]: the arithmetic a residual function needs, so one generic function can run on
//! `f64`, on forward-mode duals ([`trustfit::Dual`]) and on complex numbers (complex-step
//! derivatives) with the same operations in the same order.

use std::ops::{Add, Div, Mul, Neg, Sub};

use num_complex::Complex64;
use trustfit::{Dual, Real};

/// Trait methods that call the type's own method of the same name.
macro_rules! inherent {
    ($ty:ty: $($f:ident),+) => {
        $(fn $f(self) -> Self {
            <$ty>::$f(self)
        })+
    };
}

/// The arithmetic a generic residual function needs. Constants enter through [`Scalar::c`].
pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// A constant.
    fn c(v: f64) -> Self;
    /// The value (derivatives, or the imaginary part, dropped).
    fn value(self) -> f64;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Exponential.
    fn exp(self) -> Self;
}

impl Scalar for f64 {
    fn c(v: f64) -> Self {
        v
    }
    fn value(self) -> f64 {
        self
    }
    inherent!(f64: sqrt, sin, cos, exp);
}

impl Scalar for Complex64 {
    fn c(v: f64) -> Self {
        Complex64::new(v, 0.0)
    }
    fn value(self) -> f64 {
        self.re
    }
    inherent!(Complex64: sqrt, sin, cos, exp);
}

/// The core's dual numbers (the one forward-mode type in the project), by their
/// [`Real`] arithmetic.
impl<const N: usize> Scalar for Dual<N> {
    #[inline]
    fn c(v: f64) -> Self {
        Dual::constant(v)
    }
    #[inline]
    fn value(self) -> f64 {
        self.re
    }
    #[inline]
    fn sqrt(self) -> Self {
        Real::sqrt(self)
    }
    #[inline]
    fn sin(self) -> Self {
        Real::sin(self)
    }
    #[inline]
    fn cos(self) -> Self {
        Real::cos(self)
    }
    #[inline]
    fn exp(self) -> Self {
        Real::exp(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x·exp(√x) / (sin²x + cos²x)`, generic.
    fn g<T: Scalar>(x: T) -> T {
        let (s, c) = (x.sin(), x.cos());
        x * x.sqrt().exp() / (s * s + c * c) - T::c(1.0)
    }

    /// d/dx (x·e^√x − 1) = e^√x (1 + √x / 2).
    fn dg(x: f64) -> f64 {
        x.sqrt().exp() * (1.0 + x.sqrt() / 2.0)
    }

    #[test]
    fn complex_step_gives_the_derivative_and_the_real_part_the_value() {
        let (x, h) = (2.0, 1e-20);
        let z = g(Complex64::new(x, h));
        assert_eq!(z.value(), g(x));
        assert!((z.im / h - dg(x)).abs() <= 1e-14 * dg(x));
    }

    #[test]
    fn dual_gives_the_derivative_and_the_value() {
        let x = 2.0;
        let j = g(Dual::<1>::variable(x, 0));
        assert!((j.re - g(x)).abs() <= 1e-15 * g(x).abs());
        assert!((j.eps[0] - dg(x)).abs() <= 1e-14 * dg(x));
    }
}
