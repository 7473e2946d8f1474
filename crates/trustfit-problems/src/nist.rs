//! NIST StRD nonlinear regression problems: `.dat` reader, the 27 models
//! with analytic Jacobians, and the log relative error (LRE) used to score
//! solutions.
//!
//! The data are read at run time from the original NIST files (see
//! `shared/data/nist-strd/README.md` for the layout, and [`crate::data`]
//! for where the folder is looked up). The models and conventions are those
//! of `shared/bench-peers/python/problems_nist.py` and
//! `shared/bench-peers/common/nist_problems.h`:
//!
//! * residual `f_i(b) = model(x_i; b) − y_i`, so the certified "Residual Sum
//!   of Squares" equals `sum f_i^2` (= 2 × scipy's `cost`);
//! * Nelson is fitted on the log scale: `f_i = model_i − ln y_i`.
//!
//! ```
//! use trustfit_problems::{TestProblem, data, nist};
//!
//! let Ok(dir) = data::nist_dir(&data::default_data_dir()) else { return }; // data not installed
//! let all = nist::load_all(&dir).unwrap();
//! assert_eq!(all.len(), 27);
//! let p = &all[0];
//! assert_eq!((p.name.as_str(), p.n, p.m), ("Misra1a", 2, 14));
//! let rss = p.sum_of_squares(&p.certified);
//! assert!(nist::lre(rss, p.certified_rss, p.rss_digits) > 9.0);
//! ```

use crate::TestProblem;
use crate::data::{DataError, NIST_HINT};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use trustfit::{CallbackError, Real};

/// The 27 datasets in NIST's order: lower, then average, then higher difficulty.
pub const NAMES: [&str; 27] = [
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d",
    "Roszman1", "ENSO", "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43",
    "Bennett5",
];

/// NIST's level of difficulty of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Difficulty {
    /// "Lower Level of Difficulty" (8 datasets).
    Lower,
    /// "Average Level of Difficulty" (11 datasets).
    Average,
    /// "Higher Level of Difficulty" (8 datasets).
    Higher,
}

named!(
    /// Lower-case name as in `problems_nist.py`: "lower", "average", "higher".
    Difficulty {
        Lower => "lower",
        Average => "average",
        Higher => "higher",
    }
);

// ---------------------------------------------------------------- models

/// Model families; datasets with the same formula share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    /// b1·(1 − exp(−b2·x)): Misra1a, BoxBOD
    ExpSaturation,
    /// exp(−b1·x)/(b2 + b3·x): Chwirut1, Chwirut2
    Chwirut,
    /// b1·exp(−b2·x) + b3·exp(−b4·x) + b5·exp(−b6·x): Lanczos1-3
    Lanczos,
    /// b1·exp(−b2·x) + b3·exp(−(x−b4)²/b5²) + b6·exp(−(x−b7)²/b8²): Gauss1-3
    Gauss,
    /// b1·x^b2
    DanWood,
    /// b1·(1 − (1 + b2·x/2)^(−2))
    Misra1b,
    /// b1·(1 − (1 + 2·b2·x)^(−1/2))
    Misra1c,
    /// b1·b2·x/(1 + b2·x)
    Misra1d,
    /// (b1 + b2·x + b3·x²)/(1 + b4·x + b5·x²): Kirby2
    Rational22,
    /// (b1 + b2·x + b3·x² + b4·x³)/(1 + b5·x + b6·x² + b7·x³): Hahn1, Thurber
    Rational33,
    /// ln y = b1 − b2·x1·exp(−b3·x2)
    Nelson,
    /// b1 + b2·exp(−x·b4) + b3·exp(−x·b5)
    Mgh17,
    /// b1 − b2·x − arctan(b3/(x − b4))/π
    Roszman1,
    /// b1 + b2·cos(2πx/12) + b3·sin(2πx/12) + b5·cos(2πx/b4) + b6·sin(2πx/b4) + b8·cos(2πx/b7) + b9·sin(2πx/b7)
    Enso,
    /// b1·(x² + x·b2)/(x² + x·b3 + b4)
    Mgh09,
    /// b1·exp(b2/(x + b3))
    Mgh10,
    /// b1/(1 + exp(b2 − b3·x))
    Rat42,
    /// (b1/b2)·exp(−0.5·((x − b3)/b2)²)
    Eckerle4,
    /// b1/(1 + exp(b2 − b3·x))^(1/b4)
    Rat43,
    /// b1·(b2 + x)^(−1/b3)
    Bennett5,
}

impl Model {
    fn of_name(name: &str) -> Option<Model> {
        use Model::*;
        Some(match name {
            "Misra1a" | "BoxBOD" => ExpSaturation,
            "Chwirut1" | "Chwirut2" => Chwirut,
            "Lanczos1" | "Lanczos2" | "Lanczos3" => Lanczos,
            "Gauss1" | "Gauss2" | "Gauss3" => Gauss,
            "DanWood" => DanWood,
            "Misra1b" => Misra1b,
            "Misra1c" => Misra1c,
            "Misra1d" => Misra1d,
            "Kirby2" => Rational22,
            "Hahn1" | "Thurber" => Rational33,
            "Nelson" => Nelson,
            "MGH17" => Mgh17,
            "Roszman1" => Roszman1,
            "ENSO" => Enso,
            "MGH09" => Mgh09,
            "MGH10" => Mgh10,
            "Rat42" => Rat42,
            "Eckerle4" => Eckerle4,
            "Rat43" => Rat43,
            "Bennett5" => Bennett5,
            _ => return None,
        })
    }

    fn num_params(self) -> usize {
        use Model::*;
        match self {
            ExpSaturation | DanWood | Misra1b | Misra1c | Misra1d => 2,
            Chwirut | Nelson | Mgh10 | Rat42 | Eckerle4 | Bennett5 => 3,
            Roszman1 | Mgh09 | Rat43 => 4,
            Rational22 | Mgh17 => 5,
            Lanczos => 6,
            Rational33 => 7,
            Gauss => 8,
            Enso => 9,
        }
    }

    fn num_predictors(self) -> usize {
        if self == Model::Nelson { 2 } else { 1 }
    }

    fn formula(self) -> &'static str {
        use Model::*;
        match self {
            ExpSaturation => "b1*(1-exp(-b2*x))",
            Chwirut => "exp(-b1*x)/(b2+b3*x)",
            Lanczos => "b1*exp(-b2*x)+b3*exp(-b4*x)+b5*exp(-b6*x)",
            Gauss => "b1*exp(-b2*x)+b3*exp(-(x-b4)^2/b5^2)+b6*exp(-(x-b7)^2/b8^2)",
            DanWood => "b1*x^b2",
            Misra1b => "b1*(1-(1+b2*x/2)^(-2))",
            Misra1c => "b1*(1-(1+2*b2*x)^(-1/2))",
            Misra1d => "b1*b2*x/(1+b2*x)",
            Rational22 => "(b1+b2*x+b3*x^2)/(1+b4*x+b5*x^2)",
            Rational33 => "(b1+b2*x+b3*x^2+b4*x^3)/(1+b5*x+b6*x^2+b7*x^3)",
            Nelson => "log(y) = b1-b2*x1*exp(-b3*x2)",
            Mgh17 => "b1+b2*exp(-x*b4)+b3*exp(-x*b5)",
            Roszman1 => "b1-b2*x-arctan(b3/(x-b4))/pi",
            Enso => {
                "b1+b2*cos(2pi x/12)+b3*sin(2pi x/12)+b5*cos(2pi x/b4)\
                 +b6*sin(2pi x/b4)+b8*cos(2pi x/b7)+b9*sin(2pi x/b7)"
            }
            Mgh09 => "b1*(x^2+x*b2)/(x^2+x*b3+b4)",
            Mgh10 => "b1*exp(b2/(x+b3))",
            Rat42 => "b1/(1+exp(b2-b3*x))",
            Eckerle4 => "(b1/b2)*exp(-0.5*((x-b3)/b2)^2)",
            Rat43 => "b1/(1+exp(b2-b3*x))^(1/b4)",
            Bennett5 => "b1*(b2+x)^(-1/b3)",
        }
    }

    /// Model value at one observation (`x2` is Nelson's second predictor, else unused),
    /// for any scalar: `f64` (bit for bit the closed forms of the NIST pages) or duals.
    /// Always inlined: called once per observation, and as a call it returns a wide
    /// dual through memory (Gauss1's `Dual<8>` Jacobian took 18 % longer).
    #[inline(always)]
    fn value<T: Real>(self, b: &[T], x: f64, x2: f64) -> T {
        use Model::*;
        let (one, tx) = (T::constant(1.0), T::constant(x));
        match self {
            ExpSaturation => b[0] * (one - (-b[1] * x).exp()),
            Chwirut => (-b[0] * x).exp() / (b[1] + b[2] * x),
            Lanczos => {
                b[0] * (-b[1] * x).exp() + b[2] * (-b[3] * x).exp() + b[4] * (-b[5] * x).exp()
            }
            Gauss => {
                let (d1, d2) = (tx - b[3], tx - b[6]);
                b[0] * (-b[1] * x).exp()
                    + b[2] * (-d1 * d1 / (b[4] * b[4])).exp()
                    + b[5] * (-d2 * d2 / (b[7] * b[7])).exp()
            }
            DanWood => b[0] * tx.pow(b[1]),
            Misra1b => {
                let u = b[1] * x / 2.0 + 1.0;
                b[0] * (one - (u * u).recip())
            }
            Misra1c => b[0] * (one - (b[1] * 2.0 * x + 1.0).sqrt().recip()),
            Misra1d => b[0] * b[1] * x / (b[1] * x + 1.0),
            Rational22 => {
                let xx = x * x;
                (b[0] + b[1] * x + b[2] * xx) / (b[3] * x + 1.0 + b[4] * xx)
            }
            Rational33 => {
                let (xx, xxx) = (x * x, x * x * x);
                (b[0] + b[1] * x + b[2] * xx + b[3] * xxx)
                    / (b[4] * x + 1.0 + b[5] * xx + b[6] * xxx)
            }
            Nelson => b[0] - b[1] * x * (-b[2] * x2).exp(),
            Mgh17 => b[0] + b[1] * (b[3] * -x).exp() + b[2] * (b[4] * -x).exp(),
            Roszman1 => b[0] - b[1] * x - (b[2] / (tx - b[3])).atan() / PI,
            Enso => Self::enso(b, x),
            Mgh09 => b[0] * (b[1] * x + x * x) / (b[2] * x + x * x + b[3]),
            Mgh10 => b[0] * (b[1] / (b[2] + x)).exp(),
            Rat42 => b[0] / ((b[1] - b[2] * x).exp() + 1.0),
            Eckerle4 => {
                let z = (tx - b[2]) / b[1];
                b[0] / b[1] * (z * -0.5 * z).exp()
            }
            Rat43 => b[0] * ((b[1] - b[2] * x).exp() + 1.0).pow(-b[3].recip()),
            Bennett5 => b[0] * (b[1] + x).pow(-b[2].recip()),
        }
    }

    /// ENSO's model: a constant and three harmonics (a year, and two fitted periods).
    fn enso<T: Real>(b: &[T], x: f64) -> T {
        let a0 = 2.0 * PI * x / 12.0;
        let a4 = T::constant(2.0 * PI * x) / b[3];
        let a7 = T::constant(2.0 * PI * x) / b[6];
        b[0] + b[1] * a0.cos()
            + b[2] * a0.sin()
            + b[4] * a4.cos()
            + b[5] * a4.sin()
            + b[7] * a7.cos()
            + b[8] * a7.sin()
    }

    /// Gradient of the model value with respect to b at one observation, into `g` (length n).
    fn gradient(self, b: &[f64], x: f64, x2: f64, g: &mut [f64]) {
        use Model::*;
        match self {
            ExpSaturation => {
                let e = (-b[1] * x).exp();
                g.copy_from_slice(&[1.0 - e, b[0] * x * e]);
            }
            Chwirut => {
                let e = (-b[0] * x).exp();
                let d = b[1] + b[2] * x;
                g.copy_from_slice(&[-x * e / d, -e / (d * d), -x * e / (d * d)]);
            }
            Lanczos => {
                for k in 0..3 {
                    let e = (-b[2 * k + 1] * x).exp();
                    g[2 * k] = e;
                    g[2 * k + 1] = -b[2 * k] * x * e;
                }
            }
            Gauss => {
                let e = (-b[1] * x).exp();
                let (d1, d2) = (x - b[3], x - b[6]);
                let (s1, s2) = (b[4] * b[4], b[7] * b[7]);
                let g1 = (-d1 * d1 / s1).exp();
                let g2 = (-d2 * d2 / s2).exp();
                g.copy_from_slice(&[
                    e,
                    -b[0] * x * e,
                    g1,
                    b[2] * g1 * 2.0 * d1 / s1,
                    b[2] * g1 * 2.0 * d1 * d1 / (s1 * b[4]),
                    g2,
                    b[5] * g2 * 2.0 * d2 / s2,
                    b[5] * g2 * 2.0 * d2 * d2 / (s2 * b[7]),
                ]);
            }
            DanWood => {
                let p = x.powf(b[1]);
                g.copy_from_slice(&[p, b[0] * p * x.ln()]);
            }
            Misra1b => {
                let u = 1.0 + b[1] * x / 2.0;
                g.copy_from_slice(&[1.0 - 1.0 / (u * u), b[0] * x / (u * u * u)]);
            }
            Misra1c => {
                let u = 1.0 + 2.0 * b[1] * x;
                let s = u.sqrt();
                g.copy_from_slice(&[1.0 - 1.0 / s, b[0] * x / (u * s)]);
            }
            Misra1d => {
                let u = 1.0 + b[1] * x;
                g.copy_from_slice(&[b[1] * x / u, b[0] * x / (u * u)]);
            }
            Rational22 => {
                let xx = x * x;
                let num = b[0] + b[1] * x + b[2] * xx;
                let den = 1.0 + b[3] * x + b[4] * xx;
                let q = num / (den * den);
                g.copy_from_slice(&[1.0 / den, x / den, xx / den, -q * x, -q * xx]);
            }
            Rational33 => {
                let (xx, xxx) = (x * x, x * x * x);
                let num = b[0] + b[1] * x + b[2] * xx + b[3] * xxx;
                let den = 1.0 + b[4] * x + b[5] * xx + b[6] * xxx;
                let q = num / (den * den);
                g.copy_from_slice(&[
                    1.0 / den,
                    x / den,
                    xx / den,
                    xxx / den,
                    -q * x,
                    -q * xx,
                    -q * xxx,
                ]);
            }
            Nelson => {
                let e = (-b[2] * x2).exp();
                g.copy_from_slice(&[1.0, -x * e, b[1] * x * x2 * e]);
            }
            Mgh17 => {
                let e4 = (-x * b[3]).exp();
                let e5 = (-x * b[4]).exp();
                g.copy_from_slice(&[1.0, e4, e5, -b[1] * x * e4, -b[2] * x * e5]);
            }
            Roszman1 => {
                let d = x - b[3];
                let z = b[2] / d;
                let w = 1.0 / (PI * (1.0 + z * z));
                g.copy_from_slice(&[1.0, -x, -w / d, -w * b[2] / (d * d)]);
            }
            Enso => {
                let a0 = 2.0 * PI * x / 12.0;
                let a4 = 2.0 * PI * x / b[3];
                let a7 = 2.0 * PI * x / b[6];
                let (c4, s4, c7, s7) = (a4.cos(), a4.sin(), a7.cos(), a7.sin());
                g.copy_from_slice(&[
                    1.0,
                    a0.cos(),
                    a0.sin(),
                    (b[4] * s4 - b[5] * c4) * a4 / b[3],
                    c4,
                    s4,
                    (b[7] * s7 - b[8] * c7) * a7 / b[6],
                    c7,
                    s7,
                ]);
            }
            Mgh09 => {
                let num = x * x + x * b[1];
                let den = x * x + x * b[2] + b[3];
                let q = b[0] * num / (den * den);
                g.copy_from_slice(&[num / den, b[0] * x / den, -q * x, -q]);
            }
            Mgh10 => {
                let d = x + b[2];
                let e = (b[1] / d).exp();
                g.copy_from_slice(&[e, b[0] * e / d, -b[0] * b[1] * e / (d * d)]);
            }
            Rat42 => {
                let e = (b[1] - b[2] * x).exp();
                let d = 1.0 + e;
                g.copy_from_slice(&[1.0 / d, -b[0] * e / (d * d), b[0] * x * e / (d * d)]);
            }
            Eckerle4 => {
                let d = x - b[2];
                let z = d / b[1];
                let e = (-0.5 * z * z).exp();
                let val = b[0] / b[1] * e;
                let b2sq = b[1] * b[1];
                g.copy_from_slice(&[
                    e / b[1],
                    val * (d * d / (b2sq * b[1]) - 1.0 / b[1]),
                    val * d / b2sq,
                ]);
            }
            Rat43 => {
                let e = (b[1] - b[2] * x).exp();
                let d = 1.0 + e;
                let p = d.powf(-1.0 / b[3]);
                let val = b[0] * p;
                let q = val / (b[3] * d);
                g.copy_from_slice(&[p, -q * e, q * e * x, val * d.ln() / (b[3] * b[3])]);
            }
            Bennett5 => {
                let u = b[1] + x;
                let p = u.powf(-1.0 / b[2]);
                let val = b[0] * p;
                g.copy_from_slice(&[p, -val / (b[2] * u), val * u.ln() / (b[2] * b[2])]);
            }
        }
    }
}

// ---------------------------------------------------------------- problem

/// One NIST StRD dataset with its model, starts and certified results.
///
/// Predictors: `x` is the (first) predictor column, one value per
/// observation; `x2` is the second predictor column, `Some` only for Nelson
/// (`x1` = time, `x2` = temperature) and `None` for the other 26 datasets,
/// which have a single predictor. `y` is the response as printed in the
/// file (for Nelson the model is fitted to `ln y`; the residuals take the
/// log, `y` is not transformed).
#[derive(Debug, Clone)]
pub struct NistProblem {
    /// Dataset name, e.g. "Misra1a".
    pub name: String,
    /// NIST's level of difficulty.
    pub difficulty: Difficulty,
    /// Number of parameters.
    pub n: usize,
    /// Number of observations (= residuals).
    pub m: usize,
    /// NIST start 1 (far from the solution) and start 2 (closer).
    pub starts: [Vec<f64>; 2],
    /// Certified parameter values.
    pub certified: Vec<f64>,
    /// Certified standard deviations of the parameters.
    pub certified_std_dev: Vec<f64>,
    /// Significant digits of each certified value as printed in the file (normally 11).
    pub certified_digits: Vec<u32>,
    /// Certified residual sum of squares at the certified parameters.
    pub certified_rss: f64,
    /// Significant digits of the certified RSS as printed.
    pub rss_digits: u32,
    /// First (for all but Nelson, the only) predictor, length m.
    pub x: Vec<f64>,
    /// Second predictor, length m: `Some` for Nelson only.
    pub x2: Option<Vec<f64>>,
    /// Response as printed in the file, length m (the residuals use the targets taken
    /// from it at load: change it by loading another file, not in place).
    pub y: Vec<f64>,
    /// What each observation's model value is fitted to (`y`, or `ln y` for Nelson),
    /// taken once: a logarithm per point and evaluation was a fifth of Nelson's.
    targets: Vec<f64>,
    model: Model,
}

impl NistProblem {
    /// Start `k` (k = 1 or 2; any other k gives start 2, as `problems_nist.py` does).
    pub fn start(&self, k: usize) -> &[f64] {
        if k == 1 {
            &self.starts[0]
        } else {
            &self.starts[1]
        }
    }

    /// Start label shared with the peer benchmarks: "start1" for k = 1, "start2" otherwise.
    pub fn start_label(k: usize) -> &'static str {
        if k == 1 { "start1" } else { "start2" }
    }

    /// Model formula as text, e.g. "b1*(1-exp(-b2*x))" (Nelson: "log(y) = ...").
    pub fn formula(&self) -> &'static str {
        self.model.formula()
    }

    /// Number of predictor columns: 2 for Nelson, 1 otherwise.
    pub fn num_predictors(&self) -> usize {
        self.model.num_predictors()
    }

    /// Model value at observation `i` for parameters `b` (for Nelson: the model of ln y),
    /// for any scalar ([`Real`]).
    #[inline(always)]
    pub fn model_value<T: Real>(&self, b: &[T], i: usize) -> T {
        self.model.value(b, self.x[i], self.x2_at(i))
    }

    /// What the model is fitted to at observation `i`: `y_i`, or `ln y_i` for Nelson.
    #[inline]
    pub fn target(&self, i: usize) -> f64 {
        self.targets[i]
    }

    /// Smallest LRE over the parameters of `b` against the certified values (the usual NIST score).
    pub fn min_param_lre(&self, b: &[f64]) -> f64 {
        b.iter()
            .zip(&self.certified)
            .zip(&self.certified_digits)
            .map(|((&v, &c), &d)| lre(v, c, d))
            .fold(f64::INFINITY, f64::min)
    }

    /// LRE of a residual sum of squares (`2 · cost`) against the certified RSS.
    pub fn rss_lre(&self, rss: f64) -> f64 {
        lre(rss, self.certified_rss, self.rss_digits)
    }

    #[inline]
    fn x2_at(&self, i: usize) -> f64 {
        self.x2.as_ref().map_or(0.0, |v| v[i])
    }
}

impl TestProblem for NistProblem {
    fn n(&self) -> usize {
        self.n
    }

    fn m(&self) -> usize {
        self.m
    }

    fn residuals(&self, b: &[f64], f: &mut [f64]) {
        for (i, fi) in f.iter_mut().enumerate().take(self.m) {
            *fi = self.model_value(b, i) - self.target(i);
        }
    }

    fn jacobian(&self, b: &[f64], jac: &mut [f64]) {
        let n = self.n;
        for i in 0..self.m {
            self.model
                .gradient(b, self.x[i], self.x2_at(i), &mut jac[i * n..(i + 1) * n]);
        }
    }

    fn has_auto(&self) -> bool {
        true
    }

    fn auto_derivatives(
        &self,
        x: &[f64],
        seeding: &trustfit::Seeding<'_>,
        out: &mut [f64],
    ) -> Option<Result<(), CallbackError>> {
        use trustfit::Residuals;
        Some(trustfit::Auto(self).auto_derivatives(x, seeding, out))
    }
}

/// The same residuals written once over [`Real`], for exact Jacobians by automatic
/// differentiation (`trustfit::Auto`, `JacSpec::Auto`).
impl trustfit::AutoResiduals for NistProblem {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn residuals<T: Real>(&self, b: &[T], f: &mut [T]) -> Result<(), CallbackError> {
        for (i, fi) in f.iter_mut().enumerate().take(self.m) {
            *fi = self.model_value(b, i) - self.target(i);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- LRE

/// Log relative error `−log10(|value − certified| / |certified|)`, clipped to `[0, digits]`.
///
/// As in `problems_nist.py` / `nist_problems.h`: an exact match scores
/// `digits`; a non-finite `value` scores 0. Cases the Python version does
/// not handle are mapped to 0 as the C version does: `certified == 0` with
/// `value != 0` (relative error infinite) and any NaN.
///
/// ```
/// use trustfit_problems::nist::lre;
/// assert_eq!(lre(1.0, 1.0, 11), 11.0);
/// assert!((lre(1.001, 1.0, 11) - 3.0).abs() < 1e-9);
/// assert_eq!(lre(f64::NAN, 1.0, 11), 0.0);
/// ```
pub fn lre(value: f64, certified: f64, digits: u32) -> f64 {
    if !value.is_finite() {
        return 0.0;
    }
    let err = (value - certified).abs();
    if err == 0.0 {
        return f64::from(digits);
    }
    let l = -(err / certified.abs()).log10();
    // NaN arises from a NaN or infinite `certified`
    if l.is_nan() || l <= 0.0 {
        0.0
    } else {
        l.min(f64::from(digits))
    }
}

// ---------------------------------------------------------------- loading

/// Load the 27 datasets from `dir` (e.g. [`crate::data::nist_dir`]) in the order of [`NAMES`].
///
/// A missing `dir` or file gives [`DataError::Missing`] naming the path.
pub fn load_all(dir: &Path) -> Result<Vec<NistProblem>, DataError> {
    if !dir.is_dir() {
        return Err(DataError::Missing {
            path: dir.to_path_buf(),
            hint: NIST_HINT.to_string(),
        });
    }
    NAMES.iter().map(|name| load_dataset(dir, name)).collect()
}

/// Load dataset `name` (e.g. "Misra1a") from `dir/<name>.dat`, checking that the file is that dataset.
pub fn load_dataset(dir: &Path, name: &str) -> Result<NistProblem, DataError> {
    let path = dataset_path(dir, name);
    let p = load(&path)?;
    if p.name != name {
        return Err(parse_err(
            &path,
            0,
            format!("file holds dataset {:?}, expected {name:?}", p.name),
        ));
    }
    Ok(p)
}

/// Parse one NIST StRD `.dat` file.
///
/// Follows `problems_nist.load`: the header's "File Format" block (first
/// 12 lines) gives the line ranges of the certified values and of the
/// data; parameter lines `bK = start1 start2 certified std_dev` and the
/// "Residual Sum of Squares:" line are read from the certified range; data
/// rows are `y` followed by the predictor(s); the difficulty comes from
/// "`<Level>` Level of Difficulty". The dataset (and so the model) is the
/// "Dataset Name:" of the header. Accepts CRLF, trailing blanks and
/// Fortran-style numbers (`.5000E0`, `77.6E0`, also `1.0D0`). Checks the
/// parameter count against the model and the starting-values range, the
/// predictor count per row, and the row count against "Number of
/// Observations:".
pub fn load(path: &Path) -> Result<NistProblem, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing {
                path: path.to_path_buf(),
                hint: NIST_HINT.to_string(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    parse(path, &text)
}

fn parse_err(path: &Path, line: usize, reason: impl Into<String>) -> DataError {
    DataError::Parse {
        path: path.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

/// Parse a Fortran-style number ("2.5134E+00", ".5E0", "1.0D0"); NaN, infinities
/// and numbers that overflow (`1e400`) are not numbers of a data file.
fn parse_number(tok: &str) -> Option<f64> {
    let t: String = tok
        .chars()
        .map(|c| if c == 'd' || c == 'D' { 'e' } else { c })
        .collect();
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Significant digits of a printed number, by `problems_nist._sig_digits`'s
/// rule: the mantissa (before e/E/d/D), without sign characters, decimal
/// point and leading zeros; every remaining character counts (trailing
/// zeros are significant: "1.2000E+00" has 5).
fn sig_digits(tok: &str) -> u32 {
    let mantissa = tok.split(['e', 'E', 'd', 'D']).next().unwrap_or("");
    let unsigned = mantissa.trim_start_matches(['+', '-']);
    let digits: String = unsigned.chars().filter(|&c| c != '.').collect();
    digits.trim_start_matches('0').chars().count() as u32
}

/// "(lines a to b)" in a header line → (a, b), 1-based inclusive.
fn line_range(line: &str) -> Option<(usize, usize)> {
    let rest = &line[line.find("(lines")? + "(lines".len()..];
    let rest = &rest[..rest.find(')')?];
    let mut it = rest.split_whitespace();
    let a = it.next()?.parse().ok()?;
    if it.next()? != "to" {
        return None;
    }
    let b = it.next()?.parse().ok()?;
    Some((a, b))
}

/// Find the header line (within the first 12) that starts with `label` and parse its line range.
fn header_range(path: &Path, lines: &[&str], label: &str) -> Result<(usize, usize), DataError> {
    for (k, line) in lines.iter().take(12).enumerate() {
        let s = line.trim_start();
        if s.starts_with(label) && s.contains("(lines") {
            let (a, b) = line_range(s).ok_or_else(|| {
                parse_err(
                    path,
                    k + 1,
                    format!("cannot read the line range of {label:?}"),
                )
            })?;
            if a == 0 || b < a || b > lines.len() {
                return Err(parse_err(
                    path,
                    k + 1,
                    format!(
                        "line range {a} to {b} of {label:?} does not fit the file ({} lines)",
                        lines.len()
                    ),
                ));
            }
            return Ok((a, b));
        }
    }
    Err(parse_err(
        path,
        0,
        format!("no \"{label} (lines a to b)\" entry in the header"),
    ))
}

/// "bK = t1 t2 t3 t4" → (K, [t1, t2, t3, t4]).
fn parameter_line(line: &str) -> Option<(usize, [&str; 4])> {
    let s = line.trim_start().strip_prefix('b')?;
    let eq = s.find('=')?;
    let idx: usize = s[..eq].trim().parse().ok()?;
    let mut toks = s[eq + 1..].split_whitespace();
    Some((
        idx,
        [toks.next()?, toks.next()?, toks.next()?, toks.next()?],
    ))
}

/// Parse the text of a NIST StRD `.dat` file as [`load`] does; `path` names it in errors.
///
/// # Errors
/// [`DataError::Parse`] naming the line and what is wrong.
pub fn parse(path: &Path, text: &str) -> Result<NistProblem, DataError> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let num = |tok: &str, line: usize| {
        parse_number(tok)
            .ok_or_else(|| parse_err(path, line, format!("not a finite number: {tok:?}")))
    };

    // dataset name → model
    let (name_line, name) = lines
        .iter()
        .enumerate()
        .take(12)
        .find_map(|(k, l)| {
            let rest = l.trim_start().strip_prefix("Dataset Name:")?;
            Some((k + 1, rest.split_whitespace().next()?.to_string()))
        })
        .ok_or_else(|| parse_err(path, 0, "no \"Dataset Name:\" line in the header"))?;
    let model = Model::of_name(&name).ok_or_else(|| {
        parse_err(
            path,
            name_line,
            format!("unknown dataset {name:?} (not one of the 27 NIST problems)"),
        )
    })?;

    let (s0, s1) = header_range(path, &lines, "Starting Values")?;
    let (c0, c1) = header_range(path, &lines, "Certified Values")?;
    let (d0, d1) = header_range(path, &lines, "Data")?;

    // parameters, RSS and the declared number of observations
    let (mut start1, mut start2, mut cert, mut sd, mut digits) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut rss: Option<(f64, u32)> = None;
    let mut nobs_declared: Option<usize> = None;
    for (k, line) in lines.iter().enumerate().take(c1).skip(c0 - 1) {
        let lineno = k + 1;
        if let Some((idx, toks)) = parameter_line(line) {
            if idx != cert.len() + 1 {
                return Err(parse_err(
                    path,
                    lineno,
                    format!("parameter b{idx} out of order"),
                ));
            }
            start1.push(num(toks[0], lineno)?);
            start2.push(num(toks[1], lineno)?);
            cert.push(num(toks[2], lineno)?);
            sd.push(num(toks[3], lineno)?);
            digits.push(sig_digits(toks[2]));
            continue;
        }
        let s = line.trim_start();
        if let Some(rest) = s.strip_prefix("Residual Sum of Squares:") {
            let tok = rest.split_whitespace().next().ok_or_else(|| {
                parse_err(path, lineno, "no value after \"Residual Sum of Squares:\"")
            })?;
            rss = Some((num(tok, lineno)?, sig_digits(tok)));
        } else if let Some(rest) = s.strip_prefix("Number of Observations:") {
            nobs_declared = rest.split_whitespace().next().and_then(|t| t.parse().ok());
        }
    }
    let n = cert.len();
    if n != model.num_params() {
        return Err(parse_err(
            path,
            c0,
            format!(
                "{n} parameters found, the {name} model has {}",
                model.num_params()
            ),
        ));
    }
    if s1 + 1 - s0 != n {
        return Err(parse_err(
            path,
            s0,
            format!(
                "starting values span {} lines, found {n} parameters",
                s1 + 1 - s0
            ),
        ));
    }
    let (certified_rss, rss_digits) = rss.ok_or_else(|| {
        parse_err(
            path,
            c0,
            "no \"Residual Sum of Squares:\" in the certified values",
        )
    })?;

    // data rows: y, then the predictor(s)
    let npred = model.num_predictors();
    let (mut y, mut x, mut x2) = (vec![], vec![], vec![]);
    for (k, line) in lines.iter().enumerate().take(d1).skip(d0 - 1) {
        let lineno = k + 1;
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.is_empty() {
            continue;
        }
        if toks.len() != 1 + npred {
            return Err(parse_err(
                path,
                lineno,
                format!(
                    "expected {} columns (y and {npred} predictor(s)), found {}",
                    1 + npred,
                    toks.len()
                ),
            ));
        }
        y.push(num(toks[0], lineno)?);
        x.push(num(toks[1], lineno)?);
        if npred == 2 {
            x2.push(num(toks[2], lineno)?);
        }
    }
    let m = y.len();
    if m == 0 {
        return Err(parse_err(path, d0, "no data rows"));
    }
    if let Some(decl) = nobs_declared
        && decl != m
    {
        return Err(parse_err(
            path,
            d0,
            format!("{m} data rows, header says {decl} observations"),
        ));
    }

    let difficulty = lines
        .iter()
        .take(60)
        .find_map(|l| {
            if l.contains("Lower Level of Difficulty") {
                Some(Difficulty::Lower)
            } else if l.contains("Average Level of Difficulty") {
                Some(Difficulty::Average)
            } else if l.contains("Higher Level of Difficulty") {
                Some(Difficulty::Higher)
            } else {
                None
            }
        })
        .ok_or_else(|| {
            parse_err(
                path,
                0,
                "no \"<Lower|Average|Higher> Level of Difficulty\" line",
            )
        })?;

    let targets = match model {
        Model::Nelson => y.iter().map(|v| v.ln()).collect(),
        _ => y.clone(),
    };
    Ok(NistProblem {
        targets,
        name,
        difficulty,
        n,
        m,
        starts: [start1, start2],
        certified: cert,
        certified_std_dev: sd,
        certified_digits: digits,
        certified_rss,
        rss_digits,
        x,
        x2: (npred == 2).then_some(x2),
        y,
        model,
    })
}

/// Path of dataset `name` in `dir` (`dir/<name>.dat`).
pub fn dataset_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.dat"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// A complete, minimal file in the NIST layout (Misra1a's header, first three observations).
    fn sample(rows: &str, n_obs: usize) -> String {
        let mut lines: Vec<String> = vec![
            "NIST/ITL StRD".into(),
            "Dataset Name:  Misra1a           (Misra1a.dat)".into(),
            "".into(),
            "File Format:   ASCII".into(),
            "               Starting Values   (lines 41 to 42)".into(),
            "               Certified Values  (lines 41 to 47)".into(),
            format!(
                "               Data              (lines 61 to {})",
                60 + rows.lines().count()
            ),
        ];
        while lines.len() < 27 {
            lines.push(String::new());
        }
        lines.push("               Lower Level of Difficulty".into());
        while lines.len() < 40 {
            lines.push(String::new());
        }
        lines.push("  b1 =   500         250           2.3894212918E+02  2.7070075241E+00".into());
        lines.push("  b2 =     1.0E-4      5.0E-4      5.5015643181E-04  7.2668688436E-06".into());
        lines.push("".into());
        lines.push("Residual Sum of Squares:                    1.2455138894E-01   ".into());
        lines.push("Residual Standard Deviation:                1.0187876330E-01".into());
        lines.push("Degrees of Freedom:                                12".into());
        lines.push(format!(
            "Number of Observations:                           {n_obs}"
        ));
        while lines.len() < 59 {
            lines.push(String::new());
        }
        lines.push("Data:   y               x".into());
        lines.extend(rows.lines().map(String::from));
        lines.join("\r\n") + "\r\n"
    }

    const ROWS: &str = "      10.07E0      77.6E0\n      14.73E0     114.9E0\n      .5E0  .25E3  ";

    #[test]
    fn parses_a_file_in_nist_layout() {
        let p = parse(Path::new("t.dat"), &sample(ROWS, 3)).unwrap();
        assert_eq!(p.name, "Misra1a");
        assert_eq!(p.difficulty, Difficulty::Lower);
        assert_eq!((p.n, p.m), (2, 3));
        assert_eq!(p.starts, [vec![500.0, 1.0e-4], vec![250.0, 5.0e-4]]);
        assert_eq!(p.certified, vec![2.3894212918E+02, 5.5015643181E-04]);
        assert_eq!(
            p.certified_std_dev,
            vec![2.7070075241E+00, 7.2668688436E-06]
        );
        assert_eq!(p.certified_digits, vec![11, 11]);
        assert_eq!((p.certified_rss, p.rss_digits), (1.2455138894E-01, 11));
        assert_eq!(p.y, vec![10.07, 14.73, 0.5]);
        assert_eq!(p.x, vec![77.6, 114.9, 250.0]);
        assert!(p.x2.is_none());
        assert_eq!(p.num_predictors(), 1);
        assert_eq!(p.formula(), "b1*(1-exp(-b2*x))");
        assert_eq!(
            (p.start(1), p.start(2)),
            (&p.starts[0][..], &p.starts[1][..])
        );
        assert_eq!(
            (NistProblem::start_label(1), NistProblem::start_label(2)),
            ("start1", "start2")
        );
    }

    #[test]
    fn parse_errors_name_the_line() {
        let path = Path::new("t.dat");
        // declared observation count disagrees with the rows
        let e = parse(path, &sample(ROWS, 4)).unwrap_err();
        assert!(matches!(e, DataError::Parse { line: 61, .. }), "{e}");
        // a row with two predictors for a one-predictor model
        let e = parse(path, &sample("1 2 3\n", 1)).unwrap_err();
        assert!(matches!(e, DataError::Parse { line: 61, .. }), "{e}");
        // a bad number
        let e = parse(path, &sample("1 x\n", 1)).unwrap_err();
        assert!(e.to_string().contains("not a finite number: \"x\""), "{e}");
        // unknown dataset
        let text = sample(ROWS, 3).replace("Misra1a  ", "Misra9z  ");
        let e = parse(path, &text).unwrap_err();
        assert!(matches!(e, DataError::Parse { line: 2, .. }), "{e}");
        // missing RSS
        let text = sample(ROWS, 3).replace("Residual Sum of Squares:", "Residual Something:");
        assert!(
            parse(path, &text)
                .unwrap_err()
                .to_string()
                .contains("Residual Sum of Squares")
        );
        // parameter count does not fit the model
        let text = sample(ROWS, 3).replace("  b2 =", "  b3 =");
        assert!(parse(path, &text).is_err());
        // no header
        assert!(parse(path, "").is_err());
    }

    #[test]
    fn significant_digits_follow_problems_nist() {
        assert_eq!(sig_digits("2.5906836021E+00"), 11);
        assert_eq!(sig_digits("-5.7701013174E-02"), 11);
        assert_eq!(sig_digits("5.6177717026E-09"), 11);
        assert_eq!(sig_digits(".5000E0"), 4); // trailing zeros count
        assert_eq!(sig_digits("0.000000005"), 1); // leading zeros do not
        assert_eq!(sig_digits("1.2000D+00"), 5);
        assert_eq!(sig_digits("+120"), 3);
        assert_eq!(sig_digits("0"), 0);
        assert_eq!(sig_digits("0.0E0"), 0);
    }

    #[test]
    fn fortran_numbers() {
        assert_eq!(parse_number(".5000E0"), Some(0.5));
        assert_eq!(parse_number("77.6E0"), Some(77.6));
        assert_eq!(parse_number("2.5134E+00"), Some(2.5134));
        assert_eq!(parse_number("1.0D-3"), Some(1.0e-3));
        assert_eq!(parse_number("-0.00001"), Some(-1e-5));
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn gh14_non_finite_numbers_are_malformed_data() {
        for bad in ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1D999"] {
            assert_eq!(parse_number(bad), None, "{bad}");
            let rows = format!("{bad} 1\n2 3\n4 5\n");
            let e = parse(Path::new("t.dat"), &sample(&rows, 3)).unwrap_err();
            assert!(e.to_string().contains("not a finite number"), "{bad}: {e}");
        }
        assert_eq!(
            line_range("Data              (lines 61 to 214)"),
            Some((61, 214))
        );
        assert_eq!(
            line_range("Starting Values   (lines 41 to  43)"),
            Some((41, 43))
        );
        assert_eq!(line_range("Data (lines 61)"), None);
    }

    #[test]
    fn lre_edge_cases() {
        // exact equality scores the full number of digits, also for zero
        assert_eq!(lre(2.5, 2.5, 11), 11.0);
        assert_eq!(lre(0.0, 0.0, 11), 11.0);
        assert_eq!(lre(-3.0, -3.0, 5), 5.0);
        // clipped to digits from above ...
        assert_eq!(lre(1.0 + 1e-15, 1.0, 11), 11.0);
        // ... and to 0 from below (relative error above 1)
        assert_eq!(lre(10.0, 1.0, 11), 0.0);
        assert_eq!(lre(-1.0, 1.0, 11), 0.0);
        // ordinary values, sign-independent
        assert!((lre(1.001, 1.0, 11) - 3.0).abs() < 1e-9);
        assert!((lre(-2.0002, -2.0, 11) - 4.0).abs() < 1e-9);
        // certified 0, value not: infinite relative error
        assert_eq!(lre(1e-300, 0.0, 11), 0.0);
        // non-finite inputs
        assert_eq!(lre(f64::NAN, 1.0, 11), 0.0);
        assert_eq!(lre(f64::INFINITY, 1.0, 11), 0.0);
        assert_eq!(lre(1.0, f64::NAN, 11), 0.0);
        assert_eq!(lre(1.0, f64::INFINITY, 11), 0.0);
        // zero digits
        assert_eq!(lre(1.0, 1.0, 0), 0.0);
        assert_eq!(lre(1.1, 1.0, 0), 0.0);
    }

    #[test]
    fn missing_dir_and_file_are_reported_as_missing() {
        let dir = Path::new("/no/such/nist-strd");
        let e = load_all(dir).unwrap_err();
        assert!(e.is_missing());
        assert_eq!(e.path(), dir);
        assert!(e.to_string().contains("/no/such/nist-strd"), "{e}");
        let e = load(&dir.join("Misra1a.dat")).unwrap_err();
        assert!(e.is_missing());
        assert!(
            e.to_string().contains("/no/such/nist-strd/Misra1a.dat"),
            "{e}"
        );
    }

    #[test]
    fn every_name_has_a_model() {
        for name in NAMES {
            let model = Model::of_name(name).unwrap();
            assert!(model.num_params() >= 2 && model.num_params() <= 9);
        }
        assert_eq!(Model::of_name("Nelson").map(Model::num_predictors), Some(2));
        assert_eq!(Difficulty::Average.to_string(), "average");
    }
}
