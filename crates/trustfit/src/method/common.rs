//! Kernels shared by trf and dogbox (spec §6.6–§6.9) and the state both keep:
//! the evaluation context (residuals, Jacobian, loss, counters) and the outcome.

use std::ops::ControlFlow;

use crate::error::Error;
use crate::jacobian::finite_diff::{FdParams, FdWorkspace, dense_jacobian};
use crate::jacobian::sparse_fd::SparseFd;
use crate::loss::{LossEval, cost_only, dot};
use crate::method::jac_store::JacStore;
use crate::options::{EPS, JacSpec, Loss};
use crate::problem::{Residuals, eval_jacobian, eval_residuals, eval_sparse_jacobian};
use crate::report::{IterationSummary, Status};

/// The user's per-iteration callback; `Break` stops the solve (status −2).
pub(crate) type IterationCallback<'c> = dyn FnMut(&IterationSummary<'_>) -> ControlFlow<()> + 'c;

/// Everything a method needs to evaluate the problem, set up once per solve.
pub(crate) struct Context<'a, 'c, P: ?Sized> {
    pub problem: &'a P,
    pub m: usize,
    pub n: usize,
    pub lb: Vec<f64>,
    pub ub: Vec<f64>,
    pub bounded: bool,
    pub jac_spec: JacSpec,
    pub diff_step: Option<Vec<f64>>,
    pub loss: Loss,
    pub f_scale: f64,
    pub ftol: f64,
    pub xtol: f64,
    pub gtol: f64,
    pub max_nfev: usize,
    pub verbose: u8,
    pub printer: Option<crate::report::Printer>,
    pub fd: FdWorkspace,
    pub loss_eval: LossEval,
    pub pool: Option<rayon::ThreadPool>,
    pub callback: Option<&'c mut IterationCallback<'c>>,
    /// Column groups when J is sparse and differenced (`jac_sparsity`).
    pub sparse_fd: Option<SparseFd>,
    /// Row factors of the robust-loss scaling for non-dense J (length m, or empty).
    pub row_scale: Vec<f64>,
}

impl<P: Residuals + ?Sized> Context<'_, '_, P> {
    /// Residuals at `x` (counted by the caller).
    pub fn fun(&self, x: &[f64], f: &mut [f64]) -> Result<(), Error> {
        eval_residuals(self.problem, x, f)
    }

    /// Jacobian at `x` (row-major m×n), `f` being the residuals at `x`.
    pub fn jac(&mut self, x: &[f64], f: &[f64], jac: &mut [f64]) -> Result<(), Error> {
        self.jac_unchecked(x, f, jac)?;
        if !all_finite(jac) {
            return Err(Error::NonFinite {
                what: "The Jacobian is not finite: check `jac`, or the residuals near x (finite differences may have left their domain).".into(),
                best: None,
            });
        }
        Ok(())
    }

    fn jac_unchecked(&mut self, x: &[f64], f: &[f64], jac: &mut [f64]) -> Result<(), Error> {
        if self.jac_spec == JacSpec::Analytic {
            return eval_jacobian(self.problem, x, jac);
        }
        let params = FdParams {
            scheme: self.jac_spec,
            x,
            f0: f,
            lb: &self.lb,
            ub: &self.ub,
            diff_step: self.diff_step.as_deref(),
            bounded: self.bounded,
        };
        dense_jacobian(self.problem, &params, jac, &mut self.fd, self.pool.as_ref())
    }

    /// Jacobian at `x` into whichever storage the solve uses.
    pub fn evaluate_jac(
        &mut self,
        x: &[f64],
        f: &[f64],
        jac: &mut JacStore<'_>,
    ) -> Result<(), Error> {
        match jac {
            JacStore::Dense { data, .. } => self.jac(x, f, data),
            JacStore::Operator(op) => op.linearize(x),
            JacStore::Sparse(a) => {
                if self.jac_spec == JacSpec::Analytic {
                    eval_sparse_jacobian(self.problem, x, a.values_mut())?;
                } else {
                    let params = FdParams {
                        scheme: self.jac_spec,
                        x,
                        f0: f,
                        lb: &self.lb,
                        ub: &self.ub,
                        diff_step: self.diff_step.as_deref(),
                        bounded: self.bounded,
                    };
                    let Some(sfd) = self.sparse_fd.as_mut() else {
                        return Err(Error::option(
                            "jac_sparsity",
                            "is needed to difference a sparse Jacobian.",
                        ));
                    };
                    sfd.jacobian(self.problem, &params, a, &mut self.fd, self.pool.as_ref())?;
                }
                if jac.has_non_finite() {
                    return Err(Error::NonFinite {
                        what: "The Jacobian is not finite: check `jac`, or the residuals near x (finite differences may have left their domain).".into(),
                        best: None,
                    });
                }
                Ok(())
            }
        }
    }

    /// [`Context::scale_for_loss`] for any storage of J.
    pub fn scale_store_for_loss(
        &mut self,
        f_true: &[f64],
        fs: &mut [f64],
        jac: &mut JacStore<'_>,
    ) -> Result<f64, Error> {
        if let JacStore::Dense { data, .. } = jac {
            return self.scale_for_loss(f_true, fs, data);
        }
        fs.copy_from_slice(f_true);
        if self.loss == Loss::Linear {
            return Ok(0.5 * dot(f_true, f_true));
        }
        self.loss_eval.evaluate(&self.loss, self.f_scale, f_true)?;
        self.row_scale.resize(self.m, 0.0);
        self.loss_eval.scale_fun_rows(fs, &mut self.row_scale);
        jac.scale_rows(&self.row_scale);
        Ok(self.loss_eval.cost())
    }

    /// Cost of trial residuals (scipy's cost-only form).
    pub fn cost_of(&mut self, f: &[f64]) -> Result<f64, Error> {
        cost_only(&self.loss, self.f_scale, f, &mut self.loss_eval)
    }

    /// At an accepted point: copies `f_true` into `fs`, applies the robust-loss scaling
    /// to `fs` and `jac`, and returns the "full" cost.
    pub fn scale_for_loss(
        &mut self,
        f_true: &[f64],
        fs: &mut [f64],
        jac: &mut [f64],
    ) -> Result<f64, Error> {
        fs.copy_from_slice(f_true);
        if self.loss == Loss::Linear {
            return Ok(0.5 * dot(f_true, f_true));
        }
        self.loss_eval.evaluate(&self.loss, self.f_scale, f_true)?;
        self.loss_eval.scale_jac_and_fun(fs, jac, self.n);
        Ok(self.loss_eval.cost())
    }

    /// Calls the user's iteration callback after an outer iteration; `true` means "stop".
    /// A failing callback's error carries the summary's point as the best one.
    pub fn notify_iteration(&mut self, summary: &IterationSummary<'_>) -> Result<bool, Error> {
        let Some(cb) = self.callback.as_mut() else {
            return Ok(false);
        };
        let flow = crate::problem::guarded("callback", || Ok(cb(summary))).map_err(|e| {
            e.with_best(crate::error::BestPoint {
                x: summary.x.to_vec(),
                cost: summary.cost,
                nfev: summary.nfev,
            })
        })?;
        Ok(flow.is_break())
    }
}

/// What a method returns.
pub(crate) struct Outcome<'p> {
    pub x: Vec<f64>,
    pub cost: f64,
    pub fun: Vec<f64>,
    pub jac: JacStore<'p>,
    pub grad: Vec<f64>,
    pub optimality: f64,
    pub active_mask: Vec<i32>,
    pub nfev: usize,
    pub njev: Option<usize>,
    pub status: Status,
    pub nit: usize,
    pub initial_cost: f64,
}

/// How variables are scaled during the solve.
pub(crate) enum Scaling {
    Fixed(Vec<f64>),
    Jac,
}

/// The variable scales of spec §4: `scale` and `inv = 1/scale`, fixed, or from the
/// Jacobian's column norms and then never decreasing (`x_scale='jac'`).
pub(crate) struct VariableScale {
    pub scale: Vec<f64>,
    pub inv: Vec<f64>,
    from_jac: bool,
    col_norms: Vec<f64>,
}

impl VariableScale {
    /// Initial scales from the option and the Jacobian at x0.
    pub fn new(scaling: Scaling, jac: &JacStore<'_>, n: usize) -> Self {
        Self::with_norms(scaling, n, |out| jac.column_norms(out))
    }

    fn with_norms(scaling: Scaling, n: usize, norms: impl FnOnce(&mut [f64])) -> Self {
        match scaling {
            // scipy: `scale, scale_inv = x_scale, 1 / x_scale` (scale kept exactly).
            Scaling::Fixed(scale) => {
                let inv = scale.iter().map(|s| 1.0 / s).collect();
                Self {
                    scale,
                    inv,
                    from_jac: false,
                    col_norms: Vec::new(),
                }
            }
            Scaling::Jac => {
                let mut inv = vec![0.0; n];
                norms(&mut inv);
                for v in inv.iter_mut() {
                    if *v == 0.0 {
                        *v = 1.0;
                    }
                }
                let scale = inv.iter().map(|v| 1.0 / v).collect();
                Self {
                    scale,
                    inv,
                    from_jac: true,
                    col_norms: vec![0.0; n],
                }
            }
        }
    }

    /// After an accepted step: `inv = max(inv, column norms of the new J)` for 'jac'.
    pub fn update(&mut self, jac: &JacStore<'_>) {
        self.update_with(|out| jac.column_norms(out));
    }

    fn update_with(&mut self, norms: impl FnOnce(&mut [f64])) {
        if !self.from_jac {
            return;
        }
        let n = self.inv.len();
        norms(&mut self.col_norms);
        for j in 0..n {
            self.inv[j] = self.inv[j].max(self.col_norms[j]);
            self.scale[j] = 1.0 / self.inv[j];
        }
    }
}

/// `g = Jᵀ f` for row-major J.
pub(crate) fn jt_times(jac: &[f64], f: &[f64], n: usize, g: &mut [f64]) {
    g[..n].fill(0.0);
    for (row, &fi) in jac.chunks_exact(n).zip(f) {
        for (gj, &jij) in g.iter_mut().zip(row) {
            *gj += jij * fi;
        }
    }
}

/// Column norms of a row-major J (zeros replaced by 1) — x_scale='jac' (spec §4).
pub(crate) fn column_norms(jac: &[f64], n: usize, out: &mut [f64]) {
    out[..n].fill(0.0);
    for row in jac.chunks_exact(n) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v * v;
        }
    }
    for o in out[..n].iter_mut() {
        *o = o.sqrt();
    }
}

/// Infinity norm.
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

/// Euclidean norm.
pub(crate) fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

/// True when every entry is finite.
pub(crate) fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Minimiser of `a t² + b t + c` on `[lo, hi]` (spec §6.6): candidates lo, hi, then the
/// interior stationary point; the first minimum wins.
pub(crate) fn minimize_quadratic_1d(a: f64, b: f64, lo: f64, hi: f64, c: f64) -> (f64, f64) {
    let mut best_t = lo;
    let mut best_v = lo * (a * lo + b) + c;
    let v_hi = hi * (a * hi + b) + c;
    if v_hi < best_v {
        best_t = hi;
        best_v = v_hi;
    }
    if a != 0.0 {
        let extremum = -0.5 * b / a;
        if lo < extremum && extremum < hi {
            let v = extremum * (a * extremum + b) + c;
            if v < best_v {
                best_t = extremum;
                best_v = v;
            }
        }
    }
    (best_t, best_v)
}

/// Trust-radius update from the reduction ratio (spec §6.7).
pub(crate) fn update_tr_radius(
    delta: f64,
    actual: f64,
    predicted: f64,
    step_norm: f64,
    bound_hit: bool,
) -> (f64, f64) {
    let ratio = if predicted > 0.0 {
        actual / predicted
    } else if predicted == 0.0 && actual == 0.0 {
        1.0
    } else {
        0.0
    };
    let new_delta = if ratio < 0.25 {
        0.25 * step_norm
    } else if ratio > 0.75 && bound_hit {
        2.0 * delta
    } else {
        delta
    };
    (new_delta, ratio)
}

/// ftol / xtol tests after a trial (spec §6.8).
pub(crate) fn check_termination(
    d_f: f64,
    f: f64,
    dx_norm: f64,
    x_norm: f64,
    ratio: f64,
    ftol: f64,
    xtol: f64,
) -> Option<Status> {
    let ftol_ok = d_f < ftol * f && ratio > 0.25;
    let xtol_ok = dx_norm < xtol * (xtol + x_norm);
    match (ftol_ok, xtol_ok) {
        (true, true) => Some(Status::FtolXtol),
        (true, false) => Some(Status::Ftol),
        (false, true) => Some(Status::Xtol),
        _ => None,
    }
}

/// Solves `min ‖J p + f‖` s.t. `‖p‖ ≤ Δ` from the SVD (spec §6.9).
///
/// `uf = Uᵀ f`, `s` singular values, `v_times(w, out)` computes `V w`. Returns the step
/// in `p`, and the updated Levenberg–Marquardt parameter α.
pub(crate) fn solve_lsq_trust_region(
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
    fn minimize_quadratic_prefers_interior_minimum() {
        let (t, v) = minimize_quadratic_1d(1.0, -2.0, 0.0, 5.0, 0.0);
        assert_eq!((t, v), (1.0, -1.0));
        let (t, _) = minimize_quadratic_1d(1.0, -2.0, 2.0, 5.0, 0.0);
        assert_eq!(t, 2.0);
        let (t, _) = minimize_quadratic_1d(-1.0, 0.0, -1.0, 2.0, 0.0);
        assert_eq!(t, 2.0);
    }

    #[test]
    fn tr_radius_shrinks_on_poor_ratio_and_grows_on_boundary() {
        assert_eq!(update_tr_radius(1.0, 0.1, 1.0, 0.8, true), (0.2, 0.1));
        assert_eq!(update_tr_radius(1.0, 0.9, 1.0, 1.0, true).0, 2.0);
        assert_eq!(update_tr_radius(1.0, 0.9, 1.0, 0.5, false).0, 1.0);
        assert_eq!(update_tr_radius(1.0, 0.0, 0.0, 0.5, false).1, 1.0);
    }

    #[test]
    fn termination_reports_both_conditions() {
        assert_eq!(
            check_termination(1e-12, 1.0, 1e-12, 1.0, 0.5, 1e-8, 1e-8),
            Some(Status::FtolXtol)
        );
        assert_eq!(
            check_termination(1e-12, 1.0, 1.0, 1.0, 0.1, 1e-8, 1e-8),
            None
        );
    }

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
