//! [`Dual`]: a forward-mode dual number with `N` derivative directions, so one
//! evaluation of a generic residual function gives `f` and `N` columns of J.

use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::autodiff::real::Real;

/// A value and its derivatives along `N` directions: `re + Σ eps[k] εₖ` with `εₖεₗ = 0`.
///
/// Plain arrays (no heap, no "zero derivative" option), so arithmetic compiles to
/// straight-line loops of length `N` that the compiler unrolls and vectorises.
///
/// ```
/// use trustfit::{Dual, Real};
/// // d/dx (x·sin x) at x = 1, and d/dy of x·y at (1, 3), in one pass.
/// let x = Dual::<2>::variable(1.0, 0);
/// let y = Dual::<2>::variable(3.0, 1);
/// let f = x * x.sin() + x * y;
/// assert!((f.eps[0] - (1f64.sin() + 1f64.cos() + 3.0)).abs() < 1e-15);
/// assert_eq!(f.eps[1], 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual<const N: usize> {
    /// The value.
    pub re: f64,
    /// The derivatives along each direction.
    pub eps: [f64; N],
}

impl<const N: usize> Dual<N> {
    /// A constant: value `v`, zero derivatives.
    ///
    /// ```
    /// assert_eq!(trustfit::Dual::<3>::constant(2.0).eps, [0.0; 3]);
    /// ```
    #[inline]
    pub fn constant(v: f64) -> Self {
        Self {
            re: v,
            eps: [0.0; N],
        }
    }

    /// The independent variable of direction `k`: value `v`, derivative 1 along `k`.
    ///
    /// ```
    /// assert_eq!(trustfit::Dual::<2>::variable(5.0, 1).eps, [0.0, 1.0]);
    /// ```
    #[inline]
    pub fn variable(v: f64, k: usize) -> Self {
        let mut d = Self::constant(v);
        if let Some(e) = d.eps.get_mut(k) {
            *e = 1.0;
        }
        d
    }

    /// The chain rule for a function with value `v` and derivative `dv` at `self.re`.
    /// In place, not `array::map`: that builds a second array and costs more
    /// instructions in wide duals (bundle adjustment's `Dual<12>`).
    #[inline]
    fn chain(mut self, v: f64, dv: f64) -> Self {
        self.re = v;
        for e in &mut self.eps {
            *e *= dv;
        }
        self
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(mut self, o: Self) -> Self {
        self += o;
        self
    }
}

impl<const N: usize> AddAssign for Dual<N> {
    #[inline]
    fn add_assign(&mut self, o: Self) {
        self.re += o.re;
        for (a, b) in self.eps.iter_mut().zip(o.eps) {
            *a += b;
        }
    }
}

impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, o: Self) -> Self {
        self -= o;
        self
    }
}

impl<const N: usize> SubAssign for Dual<N> {
    #[inline]
    fn sub_assign(&mut self, o: Self) {
        self.re -= o.re;
        for (a, b) in self.eps.iter_mut().zip(o.eps) {
            *a -= b;
        }
    }
}

impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        let mut eps = [0.0; N];
        for k in 0..N {
            eps[k] = self.eps[k] * o.re + self.re * o.eps[k];
        }
        Self {
            re: self.re * o.re,
            eps,
        }
    }
}

impl<const N: usize> MulAssign for Dual<N> {
    #[inline]
    fn mul_assign(&mut self, o: Self) {
        *self = *self * o;
    }
}

impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let q = self.re / o.re;
        let inv = 1.0 / o.re;
        let mut eps = [0.0; N];
        for k in 0..N {
            eps[k] = (self.eps[k] - q * o.eps[k]) * inv;
        }
        Self { re: q, eps }
    }
}

impl<const N: usize> DivAssign for Dual<N> {
    #[inline]
    fn div_assign(&mut self, o: Self) {
        *self = *self / o;
    }
}

impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    #[inline]
    fn neg(mut self) -> Self {
        self.re = -self.re;
        for e in &mut self.eps {
            *e = -*e;
        }
        self
    }
}

impl<const N: usize> Add<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(mut self, c: f64) -> Self {
        self.re += c;
        self
    }
}

impl<const N: usize> Sub<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, c: f64) -> Self {
        self.re -= c;
        self
    }
}

impl<const N: usize> Mul<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, c: f64) -> Self {
        Self {
            re: self.re * c,
            eps: self.eps.map(|e| e * c),
        }
    }
}

impl<const N: usize> Div<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, c: f64) -> Self {
        Self {
            re: self.re / c,
            eps: self.eps.map(|e| e / c),
        }
    }
}

impl<const N: usize> Real for Dual<N> {
    #[inline]
    fn constant(v: f64) -> Self {
        Dual::constant(v)
    }
    #[inline]
    fn value(self) -> f64 {
        self.re
    }
    #[inline]
    fn sqrt(self) -> Self {
        let s = self.re.sqrt();
        self.chain(s, 0.5 / s)
    }
    #[inline]
    fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }
    #[inline]
    fn ln(self) -> Self {
        self.chain(self.re.ln(), 1.0 / self.re)
    }
    #[inline]
    fn sin(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(s, c)
    }
    #[inline]
    fn cos(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(c, -s)
    }
    #[inline]
    fn tan(self) -> Self {
        let t = self.re.tan();
        self.chain(t, 1.0 + t * t)
    }
    #[inline]
    fn atan(self) -> Self {
        self.chain(self.re.atan(), 1.0 / (1.0 + self.re * self.re))
    }
    #[inline]
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, 1.0 - t * t)
    }
    #[inline]
    fn abs(self) -> Self {
        self.chain(self.re.abs(), if self.re < 0.0 { -1.0 } else { 1.0 })
    }
    #[inline]
    fn recip(self) -> Self {
        let r = 1.0 / self.re;
        self.chain(r, -r * r)
    }
    #[inline]
    fn powi(self, k: i32) -> Self {
        match k {
            0 => Self::constant(1.0),
            1 => self,
            _ => self.chain(self.re.powi(k), f64::from(k) * self.re.powi(k - 1)),
        }
    }
    #[inline]
    fn powf(self, p: f64) -> Self {
        if p == 0.0 {
            return Self::constant(1.0);
        }
        let v = self.re.powf(p);
        self.chain(v, p * power_over_base(v, self.re, p))
    }
    /// `d(aᵖ) = p aᵖ⁻¹ da + aᵖ ln a dp`; the second term only where `dp ≠ 0`, so a
    /// constant exponent on a zero base stays finite.
    #[inline]
    fn pow(self, p: Self) -> Self {
        let v = self.re.powf(p.re);
        let da = if p.re == 0.0 {
            0.0
        } else {
            p.re * power_over_base(v, self.re, p.re)
        };
        let mut eps = [0.0; N];
        let mut v_ln = None;
        for k in 0..N {
            eps[k] = self.eps[k] * da;
            if p.eps[k] != 0.0 {
                eps[k] += p.eps[k] * *v_ln.get_or_insert_with(|| v * self.re.ln());
            }
        }
        Self { re: v, eps }
    }
    /// `d√(a² + b²) = (a da + b db) / h`: NaN at the origin, where it has no derivative.
    #[inline]
    fn hypot(self, o: Self) -> Self {
        let h = self.re.hypot(o.re);
        let (a, b) = (self.re / h, o.re / h);
        let mut eps = [0.0; N];
        for k in 0..N {
            eps[k] = self.eps[k] * a + o.eps[k] * b;
        }
        Self { re: h, eps }
    }
}

/// `aᵖ⁻¹` from `v = aᵖ` as `v / a` — one division where a second `powf` cost as much
/// as the value — except where that quotient is not `aᵖ⁻¹`: at `a = 0`, and where
/// `v` over- or underflowed.
#[inline]
fn power_over_base(v: f64, a: f64, p: f64) -> f64 {
    if a != 0.0 && v.is_normal() {
        v / a
    } else {
        a.powf(p - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Derivative of `g` at `x` by a one-direction dual.
    fn d(g: impl Fn(Dual<1>) -> Dual<1>, x: f64) -> f64 {
        g(Dual::variable(x, 0)).eps[0]
    }

    #[test]
    fn elementary_derivatives_are_exact() {
        let x = 0.7;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1.0);
        assert!(close(d(Real::sqrt, x), 0.5 / x.sqrt()));
        assert!(close(d(Real::exp, x), x.exp()));
        assert!(close(d(Real::ln, x), 1.0 / x));
        assert!(close(d(Real::sin, x), x.cos()));
        assert!(close(d(Real::cos, x), -x.sin()));
        assert!(close(d(Real::tan, x), 1.0 / (x.cos() * x.cos())));
        assert!(close(d(Real::atan, x), 1.0 / (1.0 + x * x)));
        assert!(close(d(Real::tanh, x), 1.0 - x.tanh().powi(2)));
        assert!(close(d(Real::abs, -x), -1.0));
        assert!(close(d(Real::recip, x), -1.0 / (x * x)));
        assert!(close(d(|v| v.powi(3), x), 3.0 * x * x));
        assert!(close(d(|v| v.powf(2.5), x), 2.5 * x.powf(1.5)));
        assert!(close(d(|v| v.pow(v), x), x.powf(x) * (x.ln() + 1.0)));
        assert!(close(
            d(|v| v.hypot(Dual::constant(2.0)), x),
            x / x.hypot(2.0)
        ));
        assert!(close(d(|v| (v * -3.0).hypot(v), x), 10f64.sqrt()));
        assert!(close(
            d(|v| v / (v * v + 1.0), x),
            (1.0 - x * x) / (x * x + 1.0).powi(2)
        ));
        assert!(close(d(|v| (-v - 2.0) * 3.0 / 2.0, x), -1.5));
    }

    #[test]
    fn powers_at_zero_are_finite() {
        assert_eq!(d(|v| v.powi(0), 0.0), 0.0);
        assert_eq!(d(|v| v.powf(0.0), 0.0), 0.0);
        assert_eq!(d(|v| v.powi(1), 0.0), 1.0);
        assert_eq!(d(|v| v.powi(2), 0.0), 0.0);
    }

    /// `p aᵖ⁻¹` taken as `p · aᵖ / a` must still be right where that quotient is not:
    /// a zero base, a power that underflows or overflows, a negative base.
    #[test]
    fn power_derivatives_where_v_over_a_fails() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs();
        assert_eq!(d(|v| v.powf(2.5), 0.0), 0.0);
        assert_eq!(d(|v| v.pow(Dual::constant(3.0)), 0.0), 0.0);
        // (1e-200)² underflows to 0, yet its derivative 2e-200 does not.
        assert!(close(d(|v| v.powf(2.0), 1e-200), 2e-200));
        // (1e200)² overflows; 2 · 1e200 does not.
        assert!(close(d(|v| v.powf(2.0), 1e200), 2e200));
        assert!(close(d(|v| v.powf(3.0), -2.0), 12.0));
        assert!(close(d(|v| v.pow(Dual::constant(-1.0)), -4.0), -1.0 / 16.0));
    }

    #[test]
    fn assign_ops_match_binary_ops() {
        let (a, b) = (Dual::<2>::variable(2.0, 0), Dual::<2>::variable(3.0, 1));
        let mut c = a;
        c += b;
        c -= a;
        c *= a;
        c /= b;
        assert_eq!(c, (a + b - a) * a / b);
    }
}
