//! Robust losses ρ(z) with z = (f / f_scale)², their derivatives, and the cost.
//!
//! With C = `f_scale`, the effective per-residual values are `C²ρ(z)`, `ρ′(z)` and
//! `ρ″(z)/C²` (spec §3.2). Buffers live in [`LossEval`], allocated once per solve.

use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::vector::dot;
use crate::options::{EPS, Loss};
use crate::problem::guarded;

/// ρ, ρ′ and ρ″ of a built-in loss at `z ≥ 0`.
///
/// ```
/// let [rho, d1, d2] = trustfit::loss_values(&trustfit::Loss::SoftL1, 3.0).unwrap();
/// assert!((rho - 2.0).abs() < 1e-15 && (d1 - 0.5).abs() < 1e-15 && (d2 + 0.0625).abs() < 1e-15);
/// ```
pub fn loss_values(loss: &Loss, z: f64) -> Option<[f64; 3]> {
    Some(match loss {
        Loss::Linear => [z, 1.0, 0.0],
        Loss::Huber => {
            if z <= 1.0 {
                [z, 1.0, 0.0]
            } else {
                let sqrt_z = z.sqrt();
                [2.0 * sqrt_z - 1.0, z.powf(-0.5), -0.5 * z.powf(-1.5)]
            }
        }
        Loss::SoftL1 => {
            let t = 1.0 + z;
            [2.0 * (t.sqrt() - 1.0), t.powf(-0.5), -0.5 * t.powf(-1.5)]
        }
        Loss::Cauchy => {
            let t = 1.0 + z;
            [z.ln_1p(), 1.0 / t, -1.0 / (t * t)]
        }
        Loss::Arctan => {
            let t = 1.0 + z * z;
            [z.atan(), 1.0 / t, -2.0 * z / (t * t)]
        }
        Loss::Custom(_) => return None,
    })
}

/// Per-residual loss values, scaled by `f_scale` (spec §3.2).
pub(crate) struct LossEval {
    pub rho: Vec<f64>,
    pub d1: Vec<f64>,
    pub d2: Vec<f64>,
    z: Vec<f64>,
}

impl LossEval {
    pub fn new(m: usize) -> Self {
        let zeros = || vec![0.0; m];
        Self {
            rho: zeros(),
            d1: zeros(),
            d2: zeros(),
            z: zeros(),
        }
    }

    /// Fills ρ̃, ρ̃′, ρ̃″ at `f` (not for the linear loss, which needs no evaluation).
    pub fn evaluate(&mut self, loss: &Loss, f_scale: f64, f: &[f64]) -> Result<(), Error> {
        let c2 = f_scale * f_scale;
        for (z, &fi) in self.z.iter_mut().zip(f) {
            let s = fi / f_scale;
            *z = s * s;
        }
        if let Loss::Custom(user) = loss {
            let m = f.len();
            guarded("loss function", || {
                user(&self.z, &mut self.rho, &mut self.d1, &mut self.d2)
            })?;
            debug_assert_eq!(self.rho.len(), m);
        } else {
            for i in 0..f.len() {
                let [r, a, b] = loss_values(loss, self.z[i]).unwrap_or([0.0; 3]);
                self.rho[i] = r;
                self.d1[i] = a;
                self.d2[i] = b;
            }
        }
        for i in 0..f.len() {
            self.rho[i] *= c2;
            self.d2[i] /= c2;
        }
        Ok(())
    }

    /// `½ Σ ρ̃` after [`evaluate`](Self::evaluate) (scipy's "full" form).
    pub fn cost(&self) -> f64 {
        0.5 * self.rho.iter().sum::<f64>()
    }

    /// The row factors `√w` of spec §3.3 into `rows`, and `f` scaled in place (for
    /// Jacobians stored other than densely).
    pub fn scale_fun_rows(&self, f: &mut [f64], rows: &mut [f64]) {
        for i in 0..f.len() {
            rows[i] = self.scale_row(i, &mut f[i]);
        }
    }

    /// Scales `fᵢ` in place and returns the factor `√wᵢ` for row i of J (spec §3.3).
    fn scale_row(&self, i: usize, fi: &mut f64) -> f64 {
        let mut w = self.d1[i] + 2.0 * self.d2[i] * *fi * *fi;
        if w < EPS {
            w = EPS;
        }
        let s = w.sqrt();
        *fi *= self.d1[i] / s;
        s
    }

    /// Scales `J` (row-major m×n) and `f` in place so Gauss–Newton on them is the
    /// robust problem's (spec §3.3).
    pub fn scale_jac_and_fun(&self, f: &mut [f64], jac: &mut [f64], n: usize) {
        for i in 0..f.len() {
            let s = self.scale_row(i, &mut f[i]);
            for v in &mut jac[i * n..(i + 1) * n] {
                *v *= s;
            }
        }
    }
}

/// The cost `½ Σ ρ̃(fᵢ)` at trial points (scipy's "cost only" form, `(½C²)·Σρ`).
pub(crate) fn cost_only(
    loss: &Loss,
    f_scale: f64,
    f: &[f64],
    work: &mut LossEval,
) -> Result<f64, Error> {
    match loss {
        Loss::Linear => Ok(0.5 * dot(f, f)),
        Loss::Custom(_) => {
            work.evaluate(loss, f_scale, f)?;
            Ok(work.cost())
        }
        _ => {
            let mut sum = 0.0;
            for &fi in f {
                let s = fi / f_scale;
                sum += loss_values(loss, s * s).map_or(0.0, |v| v[0]);
            }
            Ok(0.5 * f_scale * f_scale * sum)
        }
    }
}

/// The robust-loss side of a solve: costs at trial points, and the scaling of f and J
/// at accepted points (spec §3.3). Buffers sized once per plan.
pub(crate) struct LossScaling {
    loss: Loss,
    f_scale: f64,
    eval: LossEval,
    /// Row factors for J stored other than densely (length m, or empty).
    row_scale: Vec<f64>,
}

impl LossScaling {
    /// Buffers for m residuals (none for the linear loss).
    pub fn new(loss: &Loss, f_scale: f64, m: usize) -> Self {
        let len = if *loss == Loss::Linear { 0 } else { m };
        Self {
            loss: loss.clone(),
            f_scale,
            eval: LossEval::new(len),
            row_scale: vec![0.0; len],
        }
    }

    /// Cost of trial residuals (scipy's cost-only form).
    pub fn cost_of(&mut self, f: &[f64]) -> Result<f64, Error> {
        cost_only(&self.loss, self.f_scale, f, &mut self.eval)
    }

    /// At an accepted point: copies `f_true` into `fs`, applies the robust-loss scaling
    /// to `fs` and `jac`, and returns the "full" cost.
    pub fn scale(
        &mut self,
        f_true: &[f64],
        fs: &mut [f64],
        jac: &mut JacStore<'_>,
    ) -> Result<f64, Error> {
        self.rescale(f_true, fs, jac)?;
        match self.loss {
            Loss::Linear => Ok(0.5 * dot(f_true, f_true)),
            _ => Ok(self.eval.cost()),
        }
    }

    /// [`scale`](Self::scale) without the cost, for a point whose cost is known (the
    /// accepted trial's).
    pub fn rescale(
        &mut self,
        f_true: &[f64],
        fs: &mut [f64],
        jac: &mut JacStore<'_>,
    ) -> Result<(), Error> {
        fs.copy_from_slice(f_true);
        if self.loss == Loss::Linear {
            return Ok(());
        }
        self.eval.evaluate(&self.loss, self.f_scale, f_true)?;
        if self.eval.z.iter().any(|z| z.is_infinite()) {
            // (f/f_scale)² overflowed: ρ′ = 0 and ρ″·f² = −0·∞, so the scaled J is NaN
            // or, as ρ″ is rounded, the gradient 0 — a false convergence (scipy fails on
            // NaN in its SVD). At x0 in practice: a trial is accepted only at a finite
            // cost, which arctan's bounded ρ alone allows.
            return Err(Error::NonFinite {
                what: format!(
                    "The robust loss overflows: (f/f_scale)² is infinite for residuals as \
                     large as {:e}. Rescale the residuals or use a larger `f_scale` (now {:e}).",
                    crate::linalg::vector::norm_inf(f_true),
                    self.f_scale
                ),
                best: None,
            });
        }
        if let JacStore::Dense { data, n } = jac {
            self.eval.scale_jac_and_fun(fs, data, *n);
        } else {
            self.eval.scale_fun_rows(fs, &mut self.row_scale);
            jac.scale_rows(&self.row_scale);
        }
        Ok(())
    }
}
