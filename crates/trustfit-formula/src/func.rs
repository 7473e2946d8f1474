//! The functions and constants a formula may use, with each function's value
//! and derivative (in terms of the argument `x` and the value `v = f(x)`).

use std::f64::consts;

/// A function of one argument.
///
/// ```
/// use trustfit_formula::Func;
/// assert_eq!(Func::from_name("log"), Some(Func::Ln));
/// assert_eq!(Func::Sqrt.value(4.0), 2.0);
/// assert_eq!(Func::Sqrt.derivative(4.0, 2.0), 0.25);
/// assert_eq!(Func::Abs.derivative(-3.0, 3.0), -1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Func {
    /// `exp`
    Exp,
    /// `ln` and `log`: the natural logarithm.
    Ln,
    /// `log10`
    Log10,
    /// `log2`
    Log2,
    /// `sqrt`
    Sqrt,
    /// `cbrt`
    Cbrt,
    /// `sin`
    Sin,
    /// `cos`
    Cos,
    /// `tan`
    Tan,
    /// `asin`
    Asin,
    /// `acos`
    Acos,
    /// `atan`
    Atan,
    /// `sinh`
    Sinh,
    /// `cosh`
    Cosh,
    /// `tanh`
    Tanh,
    /// `asinh`
    Asinh,
    /// `acosh`
    Acosh,
    /// `atanh`
    Atanh,
    /// `abs`, with derivative sign(x) (0 at 0).
    Abs,
}

impl Func {
    /// Every function with its names (`log` and `ln` are both [`Func::Ln`]).
    ///
    /// ```
    /// use trustfit_formula::Func;
    /// assert_eq!(Func::ALL.len(), 20);
    /// assert!(Func::ALL.contains(&("log", Func::Ln)));
    /// ```
    pub const ALL: [(&'static str, Func); 20] = [
        ("exp", Func::Exp),
        ("ln", Func::Ln),
        ("log", Func::Ln),
        ("log10", Func::Log10),
        ("log2", Func::Log2),
        ("sqrt", Func::Sqrt),
        ("cbrt", Func::Cbrt),
        ("sin", Func::Sin),
        ("cos", Func::Cos),
        ("tan", Func::Tan),
        ("asin", Func::Asin),
        ("acos", Func::Acos),
        ("atan", Func::Atan),
        ("sinh", Func::Sinh),
        ("cosh", Func::Cosh),
        ("tanh", Func::Tanh),
        ("asinh", Func::Asinh),
        ("acosh", Func::Acosh),
        ("atanh", Func::Atanh),
        ("abs", Func::Abs),
    ];

    /// The function of this name, if any.
    ///
    /// ```
    /// use trustfit_formula::Func;
    /// assert_eq!(Func::from_name("tanh"), Some(Func::Tanh));
    /// assert_eq!(Func::from_name("floor"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Func> {
        Self::ALL
            .iter()
            .find_map(|&(n, f)| (n == name).then_some(f))
    }

    /// f(x).
    ///
    /// ```
    /// use trustfit_formula::Func;
    /// assert_eq!(Func::Exp.value(0.0), 1.0);
    /// assert!(Func::Ln.value(-1.0).is_nan());
    /// ```
    #[inline]
    pub fn value(self, x: f64) -> f64 {
        match self {
            // The vectorisable exp of blocks, so that folding a constant changes no result.
            Func::Exp => crate::exp::exp(x),
            Func::Ln => x.ln(),
            Func::Log10 => x.log10(),
            Func::Log2 => x.log2(),
            Func::Sqrt => x.sqrt(),
            Func::Cbrt => x.cbrt(),
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Asin => x.asin(),
            Func::Acos => x.acos(),
            Func::Atan => x.atan(),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Tanh => x.tanh(),
            Func::Asinh => x.asinh(),
            Func::Acosh => x.acosh(),
            Func::Atanh => x.atanh(),
            Func::Abs => x.abs(),
        }
    }

    /// f′(x), given `v = f(x)`.
    ///
    /// ```
    /// use trustfit_formula::Func;
    /// assert_eq!(Func::Tanh.derivative(0.0, 0.0), 1.0);
    /// assert_eq!(Func::Ln.derivative(0.0, f64::NEG_INFINITY), f64::INFINITY);
    /// ```
    #[inline]
    pub fn derivative(self, x: f64, v: f64) -> f64 {
        match self {
            Func::Exp => v,
            Func::Ln => 1.0 / x,
            Func::Log10 => 1.0 / (x * consts::LN_10),
            Func::Log2 => 1.0 / (x * consts::LN_2),
            Func::Sqrt => 0.5 / v,
            Func::Cbrt => 1.0 / (3.0 * v * v),
            Func::Sin => x.cos(),
            Func::Cos => -x.sin(),
            Func::Tan => 1.0 + v * v,
            Func::Asin => 1.0 / (1.0 - x * x).sqrt(),
            Func::Acos => -1.0 / (1.0 - x * x).sqrt(),
            Func::Atan => 1.0 / (1.0 + x * x),
            Func::Sinh => x.cosh(),
            Func::Cosh => x.sinh(),
            Func::Tanh => 1.0 - v * v,
            // hypot and the factored form keep x² from overflowing for |x| > 1e154
            // (asinh(exp(p/1.5e-3)): the derivative is ~1, not 0 — the 10⁶-case run).
            Func::Asinh => 1.0 / x.hypot(1.0),
            Func::Acosh => 1.0 / ((x - 1.0).sqrt() * (x + 1.0).sqrt()),
            Func::Atanh => 1.0 / (1.0 - x * x),
            Func::Abs => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    x * 0.0 // 0 at ±0, NaN at NaN
                }
            }
        }
    }
}

/// The named constants: `PI`/`π`, `E`/`e`, `TAU`/`τ`. A data column of the
/// same name takes precedence.
///
/// ```
/// use trustfit_formula::constant;
/// assert_eq!(constant("τ"), Some(std::f64::consts::TAU));
/// assert_eq!(constant("pi"), None);
/// ```
pub fn constant(name: &str) -> Option<f64> {
    match name {
        "PI" | "π" => Some(consts::PI),
        "E" | "e" => Some(consts::E),
        "TAU" | "τ" => Some(consts::TAU),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences at h = 1e-6 on smooth functions at moderate x agree to ~1e-9.
    const FD_TOL: f64 = 1e-7;

    #[test]
    fn derivatives_match_central_differences() {
        for &(name, f) in &Func::ALL {
            let x = match f {
                Func::Acosh => 1.7,
                Func::Asin | Func::Acos | Func::Atanh => 0.3,
                _ => 0.7,
            };
            let h = 1e-6;
            let fd = (f.value(x + h) - f.value(x - h)) / (2.0 * h);
            let d = f.derivative(x, f.value(x));
            assert!(
                (fd - d).abs() <= FD_TOL * d.abs().max(1.0),
                "{name}: {d} vs {fd}"
            );
        }
    }

    #[test]
    fn every_name_maps_back() {
        for &(name, f) in &Func::ALL {
            assert_eq!(Func::from_name(name), Some(f));
        }
        assert_eq!(Func::from_name("floor"), None);
        assert!(Func::Abs.derivative(f64::NAN, f64::NAN).is_nan());
        assert_eq!(Func::Abs.derivative(0.0, 0.0), 0.0);
    }
}
