//! Rust twins of the test problems in `tools/gen_scipy_fixtures.py`.
//!
//! The scipy fixtures (`tests/fixtures/scipy/least_squares.json` and `validation.json`) name
//! each case's problem. Problems named `"minpack:<label>"` come from `trustfit-problems`
//! (`trustfit_problems::minpack::cases()`, matched on `.label()` and the case's `"start"`);
//! every other name is defined here, with the same arithmetic in the same order as the Python
//! generator, so that residuals agree bit for bit with numpy wherever libm agrees.
//! Data that depends on libm or on an RNG (the `t`, `y` vectors) is not recomputed: it is read
//! from the fixture file's top-level `"problem_data"` object.
//!
//! Jacobians are written row-major, `jac[i * n + j] = d f_i / d x_j`.
//!
//! `jac='cs'` needs complex residuals: [`FixtureProblem::residuals_complex`] for the problems
//! here and [`minpack_residuals_complex`] for the complex-analytic MINPACK problems used by the
//! fixtures (every one except helical valley).
//!
//! JSON encoding used by the fixtures: non-finite floats are the strings `"inf"`, `"-inf"`,
//! `"nan"` (see [`json_f64`]); `null` is Python `None`.
#![allow(dead_code)]

use num_complex::Complex64;
use serde_json::Value;
use trustfit::{CallbackError, Residuals};
use trustfit_problems::minpack::data::{BARD_Y, KOWALIK_U, KOWALIK_Y, MEYER_Y, OSBORNE1_Y};
// Shared by the real and the complex-step evaluations, so both run the same operations in
// the same order; constants enter through `Scalar::c`.
use trustfit_problems::scalar::Scalar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rosenbrock,
    ExpFit,
    Linear2x2,
    ExpDecay,
    ScalarSq,
    TrigBounded,
    Underdetermined,
    SqrtDomain,
    RosenbrockBadJacShape,
}

/// Names of the problems [`fixture_problem`] knows (MINPACK ones excluded).
pub const FIXTURE_PROBLEM_NAMES: &[&str] = &[
    "rosenbrock",
    "expfit",
    "linear2x2",
    "expdecay",
    "expdecay_outlier",
    "scalar_sq",
    "trig_bounded",
    "underdetermined",
    "sqrt_domain",
    "rosenbrock_bad_jac_shape",
];

/// A non-MINPACK fixture problem: `m` residuals in `n` variables.
#[derive(Debug, Clone)]
pub struct FixtureProblem {
    /// Registry name, as in the fixture's `"problem"` field.
    pub name: String,
    /// Number of variables.
    pub n: usize,
    /// Number of residuals.
    pub m: usize,
    /// Default start (the generator's; each fixture case still records its own `x0`).
    pub x0: Vec<f64>,
    /// Shape `(rows, cols)` written by [`FixtureProblem::jacobian`]: `(m, n)` except for
    /// `rosenbrock_bad_jac_shape`, whose analytic Jacobian is deliberately `(3, 2)`
    /// (validation case `jac_wrong_shape`).
    pub jac_shape: (usize, usize),
    /// Abscissae from `problem_data` (empty when the problem has no data).
    pub t: Vec<f64>,
    /// Observations from `problem_data` (empty when the problem has no data).
    pub y: Vec<f64>,
    kind: Kind,
}

/// The JSON of `tests/fixtures/scipy/<file>` (a test fails loudly if it is missing).
pub fn load_fixture(file: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/scipy/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The problem called `name`, with the data of `least_squares.json`.
pub fn least_squares_problem(name: &str) -> FixtureProblem {
    let json = load_fixture("least_squares.json");
    fixture_problem(name, &json["problem_data"]).unwrap_or_else(|| panic!("problem {name}"))
}

/// Reads a fixture float: a JSON number, or one of the strings `"inf"`, `"-inf"`, `"nan"`.
pub fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(num) => num.as_f64(),
        Value::String(s) => match s.as_str() {
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            "nan" => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}

/// Reads a JSON array of fixture floats (see [`json_f64`]).
pub fn json_f64_vec(v: &Value) -> Option<Vec<f64>> {
    v.as_array()?.iter().map(json_f64).collect()
}

fn data_vec(data: &Value, name: &str, key: &str) -> Option<Vec<f64>> {
    json_f64_vec(data.get(name)?.get(key)?)
}

/// Builds the problem called `name`; `data` is the fixture file's top-level `"problem_data"`
/// object (only `expfit`, `expdecay` and `expdecay_outlier` read it). Returns `None` for
/// unknown names (including every `"minpack:…"` name) and for missing or malformed data.
pub fn fixture_problem(name: &str, data: &Value) -> Option<FixtureProblem> {
    let (kind, n, m, x0): (Kind, usize, usize, &[f64]) = match name {
        "rosenbrock" => (Kind::Rosenbrock, 2, 2, &[-2.0, 1.0]),
        "expfit" => (Kind::ExpFit, 3, 15, &[1.0, 1.0, 0.0]),
        "linear2x2" => (Kind::Linear2x2, 2, 2, &[0.0, 0.0]),
        "expdecay" | "expdecay_outlier" => (Kind::ExpDecay, 2, 40, &[1.0, 1.0]),
        "scalar_sq" => (Kind::ScalarSq, 1, 1, &[2.0]),
        "trig_bounded" => (Kind::TrigBounded, 2, 3, &[1.0, 1.0]),
        "underdetermined" => (Kind::Underdetermined, 2, 1, &[1.0, 0.5]),
        "sqrt_domain" => (Kind::SqrtDomain, 2, 2, &[-1.0, 0.0]),
        "rosenbrock_bad_jac_shape" => (Kind::RosenbrockBadJacShape, 2, 2, &[-2.0, 1.0]),
        _ => return None,
    };
    let (t, y) = match kind {
        Kind::ExpFit | Kind::ExpDecay => {
            let t = data_vec(data, name, "t")?;
            let y = data_vec(data, name, "y")?;
            if t.len() != m || y.len() != m {
                return None;
            }
            (t, y)
        }
        _ => (Vec::new(), Vec::new()),
    };
    let jac_shape = if kind == Kind::RosenbrockBadJacShape {
        (3, 2)
    } else {
        (m, n)
    };
    Some(FixtureProblem {
        name: name.to_string(),
        n,
        m,
        x0: x0.to_vec(),
        jac_shape,
        t,
        y,
        kind,
    })
}

impl FixtureProblem {
    fn eval<T: Scalar>(&self, x: &[T], f: &mut [T]) {
        debug_assert_eq!(x.len(), self.n);
        debug_assert_eq!(f.len(), self.m);
        let c = T::c;
        match self.kind {
            // f = [10*(x1 - x0*x0), 1 - x0]
            Kind::Rosenbrock | Kind::RosenbrockBadJacShape => {
                f[0] = c(10.0) * (x[1] - x[0] * x[0]);
                f[1] = c(1.0) - x[0];
            }
            // f_i = x0 + x1*exp(x2*t_i) - y_i
            Kind::ExpFit => {
                for i in 0..self.m {
                    f[i] = x[0] + x[1] * (x[2] * c(self.t[i])).exp() - c(self.y[i]);
                }
            }
            // f = [3*x0 + 1*x1 - 9, 1*x0 + 2*x1 - 8]
            Kind::Linear2x2 => {
                f[0] = c(3.0) * x[0] + c(1.0) * x[1] - c(9.0);
                f[1] = c(1.0) * x[0] + c(2.0) * x[1] - c(8.0);
            }
            // f_i = x0*exp((-x1)*t_i) - y_i
            Kind::ExpDecay => {
                for i in 0..self.m {
                    f[i] = x[0] * (-x[1] * c(self.t[i])).exp() - c(self.y[i]);
                }
            }
            // f = [x0*x0 + 5]
            Kind::ScalarSq => {
                f[0] = x[0] * x[0] + c(5.0);
            }
            // f = [x0 - 3, x1 + 2, x0*x1 - 1]
            Kind::TrigBounded => {
                f[0] = x[0] - c(3.0);
                f[1] = x[1] + c(2.0);
                f[2] = x[0] * x[1] - c(1.0);
            }
            // f = [x0*x0 + x1*x1 - 4]
            Kind::Underdetermined => {
                f[0] = x[0] * x[0] + x[1] * x[1] - c(4.0);
            }
            // f = [sqrt(x0) - 1, x1]   (NaN for x0 < 0 in the real version)
            Kind::SqrtDomain => {
                f[0] = x[0].sqrt() - c(1.0);
                f[1] = x[1];
            }
        }
    }

    /// Residuals `f(x)` (length `m`).
    pub fn residuals(&self, x: &[f64], f: &mut [f64]) {
        self.eval(x, f);
    }

    /// Residuals at a complex point, for `jac='cs'`: the same formulas as
    /// [`FixtureProblem::residuals`] evaluated in complex arithmetic.
    pub fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) {
        self.eval(x, f);
    }

    /// Analytic Jacobian, row-major, `jac_shape.0 * jac_shape.1` entries (= `m * n` except for
    /// `rosenbrock_bad_jac_shape`).
    pub fn jacobian(&self, x: &[f64], jac: &mut [f64]) {
        debug_assert_eq!(x.len(), self.n);
        debug_assert_eq!(jac.len(), self.jac_shape.0 * self.jac_shape.1);
        let n = self.n;
        match self.kind {
            Kind::Rosenbrock => {
                jac.copy_from_slice(&[-20.0 * x[0], 10.0, -1.0, 0.0]);
            }
            Kind::RosenbrockBadJacShape => {
                jac.copy_from_slice(&[-20.0 * x[0], 10.0, -1.0, 0.0, 0.0, 0.0]);
            }
            // [1, e, x1*t*e], e = exp(x2*t)
            Kind::ExpFit => {
                for i in 0..self.m {
                    let t = self.t[i];
                    let e = (x[2] * t).exp();
                    jac[i * n] = 1.0;
                    jac[i * n + 1] = e;
                    jac[i * n + 2] = x[1] * t * e;
                }
            }
            Kind::Linear2x2 => {
                jac.copy_from_slice(&[3.0, 1.0, 1.0, 2.0]);
            }
            // [e, (-x0)*t*e], e = exp((-x1)*t)
            Kind::ExpDecay => {
                for i in 0..self.m {
                    let t = self.t[i];
                    let e = (-x[1] * t).exp();
                    jac[i * n] = e;
                    jac[i * n + 1] = -x[0] * t * e;
                }
            }
            Kind::ScalarSq => {
                jac[0] = 2.0 * x[0];
            }
            Kind::TrigBounded => {
                jac.copy_from_slice(&[1.0, 0.0, 0.0, 1.0, x[1], x[0]]);
            }
            Kind::Underdetermined => {
                jac.copy_from_slice(&[2.0 * x[0], 2.0 * x[1]]);
            }
            Kind::SqrtDomain => {
                jac.copy_from_slice(&[0.5 / x[0].sqrt(), 0.0, 0.0, 1.0]);
            }
        }
    }
}

/// A fixture problem as a [`Residuals`] with its analytic Jacobian and complex extension
/// (the one adapter the test files share).
impl Residuals for FixtureProblem {
    fn num_residuals(&self) -> usize {
        self.m
    }
    fn residuals(&self, x: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        FixtureProblem::residuals(self, x, f);
        Ok(())
    }
    fn has_jacobian(&self) -> bool {
        true
    }
    fn jacobian(&self, x: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        if self.jac_shape != (self.m, self.n) {
            return Err(CallbackError::new(
                "fixture Jacobian has a deliberately wrong shape",
            ));
        }
        FixtureProblem::jacobian(self, x, jac);
        Ok(())
    }
    fn has_complex(&self) -> bool {
        true
    }
    fn residuals_complex(&self, x: &[Complex64], f: &mut [Complex64]) -> Result<(), CallbackError> {
        FixtureProblem::residuals_complex(self, x, f);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Complex residuals of the MINPACK problems used with jac='cs'
// ---------------------------------------------------------------------------------------------

/// Complex division as numpy does it (Smith's method, numpy's `nc_quot` loop), so complex-step
/// residuals agree with numpy's to the last bit rather than within a few ulps.
fn cdiv(a: Complex64, b: Complex64) -> Complex64 {
    let (ar, ai, br, bi) = (a.re, a.im, b.re, b.im);
    let (br_abs, bi_abs) = (br.abs(), bi.abs());
    if br_abs >= bi_abs {
        if br_abs == 0.0 && bi_abs == 0.0 {
            return Complex64::new(ar / br_abs, ai / br_abs);
        }
        let rat = bi / br;
        let scl = 1.0 / (br + bi * rat);
        Complex64::new((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    } else {
        let rat = br / bi;
        let scl = 1.0 / (bi + br * rat);
        Complex64::new((ar * rat + ai) * scl, (ai * rat - ar) * scl)
    }
}

/// Complex residuals of a complex-analytic MINPACK fixture problem, for `jac='cs'`.
/// `label` is the MINPACK case label (`"bard_n3_m15"`), with or without the `"minpack:"`
/// prefix. Same formulas and operation order as `problems_minpack.py`. Returns `false`
/// (leaving `f` untouched) for labels not covered -- helical valley (not analytic: atan/hypot)
/// and the MINPACK problems the fixtures do not use -- or when `x`/`f` have the wrong length.
pub fn minpack_residuals_complex(label: &str, x: &[Complex64], f: &mut [Complex64]) -> bool {
    let label = label.strip_prefix("minpack:").unwrap_or(label);
    let (n, m) = match label {
        "bard_n3_m15" => (3, 15),
        "kowalik_osborne_n4_m11" => (4, 11),
        "meyer_n3_m16" => (3, 16),
        "box_3d_n3_m10" => (3, 10),
        "osborne1_n5_m33" => (5, 33),
        "powell_singular_n4_m4" => (4, 4),
        "freudenstein_roth_n2_m2" => (2, 2),
        "brown_dennis_n4_m20" => (4, 20),
        "jennrich_sampson_n2_m10" => (2, 10),
        _ => return false,
    };
    if x.len() != n || f.len() != m {
        return false;
    }
    let c = |v: f64| Complex64::new(v, 0.0);
    match label {
        // f = y - (x0 + u / (v*x1 + w*x2)), u = i, v = 16 - u, w = min(u, v)
        "bard_n3_m15" => {
            for i in 0..15 {
                let u = (i + 1) as f64;
                let v = 16.0 - u;
                let w = u.min(v);
                f[i] = c(BARD_Y[i]) - (x[0] + cdiv(c(u), c(v) * x[1] + c(w) * x[2]));
            }
        }
        // f = y - x0*(u*(u + x1)) / (u*(u + x2) + x3)
        "kowalik_osborne_n4_m11" => {
            for i in 0..11 {
                let u = c(KOWALIK_U[i]);
                f[i] = c(KOWALIK_Y[i]) - cdiv(x[0] * (u * (u + x[1])), u * (u + x[2]) + x[3]);
            }
        }
        // f = x0*exp(x1 / (t + x2)) - y, t = 45 + 5*i
        "meyer_n3_m16" => {
            for i in 0..16 {
                let t = 45.0 + 5.0 * (i + 1) as f64;
                f[i] = x[0] * cdiv(x[1], c(t) + x[2]).exp() - c(MEYER_Y[i]);
            }
        }
        // f = exp((-t)*x0) - exp((-t)*x1) - x2*(exp(-t) - exp(-10*t)), t = 0.1*i
        "box_3d_n3_m10" => {
            for i in 0..10 {
                let t = 0.1 * (i + 1) as f64;
                let d = (-t).exp() - (-10.0 * t).exp();
                f[i] = (c(-t) * x[0]).exp() - (c(-t) * x[1]).exp() - x[2] * c(d);
            }
        }
        // f = y - (x0 + x1*exp((-t)*x3) + x2*exp((-t)*x4)), t = 10*i (i from 0)
        "osborne1_n5_m33" => {
            for i in 0..33 {
                let t = 10.0 * i as f64;
                let e4 = (c(-t) * x[3]).exp();
                let e5 = (c(-t) * x[4]).exp();
                f[i] = c(OSBORNE1_Y[i]) - (x[0] + x[1] * e4 + x[2] * e5);
            }
        }
        "powell_singular_n4_m4" => {
            let s5 = 5.0_f64.sqrt();
            let s10 = 10.0_f64.sqrt();
            let a = x[1] - c(2.0) * x[2];
            let b = x[0] - x[3];
            f[0] = x[0] + c(10.0) * x[1];
            f[1] = c(s5) * (x[2] - x[3]);
            f[2] = a * a;
            f[3] = c(s10) * (b * b);
        }
        "freudenstein_roth_n2_m2" => {
            let (x1, x2) = (x[0], x[1]);
            f[0] = c(-13.0) + x1 + ((c(5.0) - x2) * x2 - c(2.0)) * x2;
            f[1] = c(-29.0) + x1 + ((x2 + c(1.0)) * x2 - c(14.0)) * x2;
        }
        // f = a*a + b*b, a = x0 + t*x1 - exp(t), b = x2 + x3*sin(t) - cos(t), t = i/5
        "brown_dennis_n4_m20" => {
            for i in 0..20 {
                let t = (i + 1) as f64 / 5.0;
                let a = x[0] + c(t) * x[1] - c(t.exp());
                let b = x[2] + x[3] * c(t.sin()) - c(t.cos());
                f[i] = a * a + b * b;
            }
        }
        // f = 2 + 2i - (exp(i*x0) + exp(i*x1))
        "jennrich_sampson_n2_m10" => {
            for i in 0..10 {
                let k = (i + 1) as f64;
                f[i] = c(2.0 + 2.0 * k) - ((c(k) * x[0]).exp() + (c(k) * x[1]).exp());
            }
        }
        _ => return false,
    }
    true
}
