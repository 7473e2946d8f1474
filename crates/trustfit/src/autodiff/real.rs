//! [`Real`]: the arithmetic a residual function written once needs, so the same code
//! runs on `f64` (residuals) and on [`Dual`](crate::Dual) numbers (exact Jacobians).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// Trait methods that call `f64`'s inherent method of the same name.
macro_rules! inherent {
    ($($f:ident),+) => {
        $(#[inline]
        fn $f(self) -> Self {
            f64::$f(self)
        })+
    };
}

/// A real scalar: `f64`, or a dual number carrying derivatives along with the value.
///
/// Write residuals generically over `T: Real` (see
/// [`AutoResiduals`](crate::AutoResiduals)); arithmetic with `f64` constants on the
/// right (`x * 2.0`) works directly, constants on the left enter through
/// [`Real::constant`]. Branch on [`Real::value`].
///
/// ```
/// use trustfit::Real;
/// fn model<T: Real>(b: &[T], t: f64) -> T {
///     b[0] * (b[1] * t).exp() + T::constant(1.0)
/// }
/// assert_eq!(model(&[2.0, 0.0], 3.0), 3.0);
/// ```
pub trait Real:
    Copy
    + Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// A constant (zero derivatives).
    fn constant(v: f64) -> Self;
    /// The value, derivatives dropped: what to compare and branch on.
    fn value(self) -> f64;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Exponential.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Tangent.
    fn tan(self) -> Self;
    /// Arc tangent.
    fn atan(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Absolute value (derivative ±1; +1 at +0).
    fn abs(self) -> Self;
    /// `1 / self`.
    fn recip(self) -> Self;
    /// Integer power.
    fn powi(self, k: i32) -> Self;
    /// Real power with a constant exponent.
    fn powf(self, p: f64) -> Self;
    /// Real power with a variable exponent.
    fn pow(self, p: Self) -> Self;
    /// `√(self² + o²)` without overflow or underflow (`f64::hypot`, whose values a
    /// hand-written `sqrt` of the sum would not reproduce bit for bit).
    fn hypot(self, o: Self) -> Self;
}

impl Real for f64 {
    #[inline]
    fn constant(v: f64) -> Self {
        v
    }
    #[inline]
    fn value(self) -> f64 {
        self
    }
    inherent!(sqrt, exp, ln, sin, cos, tan, atan, tanh, abs, recip);
    #[inline]
    fn powi(self, k: i32) -> Self {
        f64::powi(self, k)
    }
    #[inline]
    fn powf(self, p: f64) -> Self {
        f64::powf(self, p)
    }
    #[inline]
    fn pow(self, p: Self) -> Self {
        f64::powf(self, p)
    }
    #[inline]
    fn hypot(self, o: Self) -> Self {
        f64::hypot(self, o)
    }
}
