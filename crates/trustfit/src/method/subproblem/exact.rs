//! tr_solver='exact' (dense J): for trf, the SVD of `[Ĵ; diag(√Ĉ)]` and Moré's search
//! for the Levenberg–Marquardt α (spec §6.9, §7.4); for dogbox, the minimum-norm
//! least-squares Gauss–Newton step on the free columns (LAPACK gelsd's cut-off).

use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::dense::ThinSvd;
use crate::linalg::vector::norm;
use crate::method::subproblem::{FreeVariables, ScaledModel, Subproblem};
use crate::options::EPS;

fn dense_only() -> Error {
    Error::option(
        "tr_solver",
        "'exact' works only with dense Jacobian matrices.",
    )
}

/// `out = Ĵ s` where Ĵ is the top `m` rows of the column-major `a` (`rows` rows).
fn jh_mul(a: &[f64], rows: usize, m: usize, s: &[f64], out: &mut [f64]) {
    out[..m].fill(0.0);
    for (j, &sj) in s.iter().enumerate() {
        if sj != 0.0 {
            let col = &a[j * rows..j * rows + m];
            for (o, c) in out[..m].iter_mut().zip(col) {
                *o += c * sj;
            }
        }
    }
}

/// Buffers of the dense solver for an m×n J.
pub(crate) struct ExactSolver {
    m: usize,
    n: usize,
    rows: usize,
    svd: ThinSvd,
    jh: Vec<f64>,
    f_aug: Vec<f64>,
    uf: Vec<f64>,
    suf: Vec<f64>,
    wk: Vec<f64>,
}

impl ExactSolver {
    /// trf's buffers: `[Ĵ; diag(√Ĉ)]` has m + n rows when bounded.
    pub fn for_trf(m: usize, n: usize, bounded: bool) -> Self {
        Self::with_rows(m, n, if bounded { m + n } else { m }, true)
    }

    /// dogbox's buffers: the SVD of the free columns of J.
    pub fn for_dogbox(m: usize, n: usize) -> Self {
        Self::with_rows(m, n, m, false)
    }

    fn with_rows(m: usize, n: usize, rows: usize, model: bool) -> Self {
        let k = rows.min(n);
        Self {
            m,
            n,
            rows,
            svd: ThinSvd::new(rows, n),
            jh: vec![0.0; if model { rows * n } else { 0 }],
            f_aug: vec![0.0; rows],
            uf: vec![0.0; k],
            suf: vec![0.0; if model { k } else { 0 }],
            wk: vec![0.0; k],
        }
    }
}

impl Subproblem for ExactSolver {
    fn prepare(&mut self, model: &ScaledModel<'_, '_>) -> Result<(), Error> {
        let ScaledModel {
            jac, fs, d, diag_h, ..
        } = *model;
        let JacStore::Dense { data: jac, .. } = jac else {
            return Err(dense_only());
        };
        let (m, n, rows) = (self.m, self.n, self.rows);
        // Ĵ = [J·diag(d); diag(√Ĉ)], column-major; kept for the model, copied for the SVD.
        for j in 0..n {
            let col = &mut self.jh[j * rows..(j + 1) * rows];
            // Row by row, not `jac[i * n + j]`: that index was most of this function.
            // (Four columns per pass over J, written to four columns, took twice as long.)
            let dj = d[j];
            for (c, row) in col[..m].iter_mut().zip(jac.chunks_exact(n)) {
                *c = row[j] * dj;
            }
            if let Some(c) = diag_h {
                col[m..].fill(0.0);
                col[m + j] = c[j].sqrt();
            }
        }
        self.svd.set_shape(rows, n);
        self.f_aug[..m].copy_from_slice(fs);
        let svd = &mut self.svd;
        Ok(svd.factor_and_project_from(&self.jh, &self.f_aug, &mut self.uf)?)
    }

    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64 {
        let k = self.rows.min(self.n);
        let svd = &self.svd;
        let v_times = |w: &[f64], out: &mut [f64]| svd.v_times(w, out);
        solve_lsq_trust_region(
            self.n,
            self.m,
            &self.uf,
            &svd.s[..k],
            &v_times,
            delta,
            alpha,
            &mut self.suf,
            &mut self.wk,
            p_h,
        )
    }

    fn jh_mul(&self, _jac: &JacStore<'_>, s: &[f64], out: &mut [f64]) {
        jh_mul(&self.jh, self.rows, self.m, s, out);
    }

    fn newton_step(&mut self, vars: &FreeVariables<'_, '_>, p: &mut [f64]) -> Result<(), Error> {
        let FreeVariables { jac, fs, free, .. } = *vars;
        let JacStore::Dense { data: jac, .. } = jac else {
            return Err(dense_only());
        };
        let (m, n, nf) = (self.m, self.n, free.len());
        let svd = &mut self.svd;
        svd.set_shape(m, nf);
        for (k, &j) in free.iter().enumerate() {
            let col = &mut svd.a[k * m..(k + 1) * m];
            for i in 0..m {
                col[i] = jac[i * n + j];
            }
        }
        let kk = svd.k();
        for (b, &f) in self.f_aug[..m].iter_mut().zip(fs) {
            *b = -f;
        }
        svd.factor_and_project(&self.f_aug[..m], &mut self.uf)?;
        // Minimum-norm least squares with LAPACK gelsd's cut-off: singular values
        // ≤ 2⁻⁵³·s_max are treated as zero.
        let cutoff = if kk > 0 {
            svd.s[0] * f64::EPSILON * 0.5
        } else {
            0.0
        };
        for l in 0..kk {
            self.wk[l] = if svd.s[l] > cutoff {
                self.uf[l] / svd.s[l]
            } else {
                0.0
            };
        }
        svd.v_times(&self.wk[..kk], p);
        Ok(())
    }

    fn free_column_products(&self) -> bool {
        true
    }
}

/// Solves `min ‖J p + f‖` s.t. `‖p‖ ≤ Δ` from the SVD (spec §6.9).
///
/// `uf = Uᵀ f`, `s` singular values, `v_times(w, out)` computes `V w`. Returns the step
/// in `p`, and the updated Levenberg–Marquardt parameter α.
fn solve_lsq_trust_region(
    n: usize,
    m: usize,
    uf: &[f64],
    s: &[f64],
    v_times: &dyn Fn(&[f64], &mut [f64]),
    delta: f64,
    alpha_init: f64,
    suf: &mut [f64],
    w: &mut [f64],
    p: &mut [f64],
) -> f64 {
    let k = s.len();
    for i in 0..k {
        suf[i] = s[i] * uf[i];
    }
    let full_rank = k > 0 && m >= n && s[k - 1] > EPS * m as f64 * s[0];
    if full_rank {
        for i in 0..k {
            w[i] = -uf[i] / s[i];
        }
        v_times(&w[..k], p);
        if norm(&p[..n]) <= delta {
            return 0.0;
        }
    }
    let phi_and_derivative = |alpha: f64| -> (f64, f64) {
        let mut denom_sq = 0.0;
        let mut acc = 0.0;
        for i in 0..k {
            let d = s[i] * s[i] + alpha;
            let q = suf[i] / d;
            denom_sq += q * q;
            acc += suf[i] * suf[i] / d.powi(3);
        }
        let p_norm = denom_sq.sqrt();
        (p_norm - delta, -acc / p_norm)
    };
    let suf_norm = norm(&suf[..k]);
    let mut alpha_upper = suf_norm / delta;
    let mut alpha_lower = if full_rank {
        let (phi, phi_prime) = phi_and_derivative(0.0);
        -phi / phi_prime
    } else {
        0.0
    };
    let reset = |lo: f64, hi: f64| (0.001 * hi).max((lo * hi).sqrt());
    let mut alpha = if !full_rank && alpha_init == 0.0 {
        reset(alpha_lower, alpha_upper)
    } else {
        alpha_init
    };
    for _ in 0..10 {
        if alpha < alpha_lower || alpha > alpha_upper {
            alpha = reset(alpha_lower, alpha_upper);
        }
        let (phi, phi_prime) = phi_and_derivative(alpha);
        if phi < 0.0 {
            alpha_upper = alpha;
        }
        let ratio = phi / phi_prime;
        alpha_lower = alpha_lower.max(alpha - ratio);
        alpha -= (phi + delta) * ratio / delta;
        if phi.abs() < 0.01 * delta {
            break;
        }
    }
    for i in 0..k {
        w[i] = -suf[i] / (s[i] * s[i] + alpha);
    }
    v_times(&w[..k], p);
    let pn = norm(&p[..n]);
    if pn > 0.0 {
        let scale = delta / pn;
        for v in p[..n].iter_mut() {
            *v *= scale;
        }
    }
    alpha
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsq_trust_region_step_respects_radius() {
        // J = diag(2, 1), f = (4, 4): Gauss–Newton step (-2, -4) has norm √20.
        let s = [2.0, 1.0];
        let uf = [4.0, 4.0];
        let v = |w: &[f64], out: &mut [f64]| out[..2].copy_from_slice(&w[..2]);
        let (mut suf, mut w, mut p) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        let alpha = solve_lsq_trust_region(2, 2, &uf, &s, &v, 10.0, 0.0, &mut suf, &mut w, &mut p);
        assert_eq!((alpha, p), (0.0, [-2.0, -4.0]));
        let alpha = solve_lsq_trust_region(2, 2, &uf, &s, &v, 1.0, 0.0, &mut suf, &mut w, &mut p);
        assert!(alpha > 0.0);
        assert!((norm(&p) - 1.0).abs() < 1e-12);
    }
}
