//! Dogleg in a rectangular trust region (scipy's `method='dogbox'`), exact solver.
//!
//! Algorithm (Voglis & Lagaris 2004; scipy `_lsq/dogbox.py`, spec §8): the trust region
//! is the box `|pⱼ| ≤ Δ·scaleⱼ` intersected with the bounds. Variables sitting on a
//! bound with the gradient pushing outward are frozen for the iteration; on the free
//! ones the Gauss–Newton step (minimum-norm least squares) is taken if it fits in the
//! box, else a dogleg path from the constrained Cauchy point towards it is followed
//! until it meets the box. Variables the step pins to a bound are held exactly there.
//!
//! Symbols: `J` (m×n, loss-scaled), `f` (loss-scaled residuals), `g = Jᵀf`, `Δ` radius
//! in scaled ∞-norm, `on_bound` ∈ {−1, 0, +1} per variable.

use crate::bounds::{step_size_to_bound, step_to_bound_from_zero_neg};
use crate::error::{BestPoint, Error};
use crate::linalg::dense::ThinSvd;
use crate::loss::dot;
use crate::method::common::{
    Context, Outcome, Scaling, VariableScale, all_finite, check_termination, minimize_quadratic_1d,
    norm, norm_inf, update_tr_radius,
};
use std::cell::RefCell;

use crate::linalg::lsmr::{LinearMap, Lsmr, LsmrParams};
use crate::method::jac_store::JacStore;
use crate::options::TrOptions;
use crate::problem::Residuals;
use crate::report::{IterationSummary, Status, emit, header_line, row_line};

/// `out = J_F s` for the free columns `free` of row-major J.
fn jf_mul(jac: &[f64], n: usize, free: &[usize], s: &[f64], out: &mut [f64]) {
    for (o, row) in out.iter_mut().zip(jac.chunks_exact(n)) {
        *o = free.iter().zip(s).map(|(&j, sj)| row[j] * sj).sum();
    }
}

/// `p ↦ J·(scale ⊙ p)` and `u ↦ scale ⊙ Jᵀu` with the active components zeroed:
/// LSMR's operator for the free variables (spec §8.2).
struct FreeColumns<'a> {
    jac: &'a JacStore<'a>,
    scale: &'a [f64],
    active: &'a [bool],
    tmp: &'a RefCell<Vec<f64>>,
}

impl LinearMap for FreeColumns<'_> {
    fn rows(&self) -> usize {
        self.jac.nrows()
    }

    fn cols(&self) -> usize {
        self.scale.len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) -> Result<(), Error> {
        let mut t = self.tmp.borrow_mut();
        self.jac.mul_scaled(x, self.scale, &mut t, y);
        self.jac.take_error()
    }

    fn apply_t(&self, y: &[f64], x: &mut [f64]) -> Result<(), Error> {
        self.jac.tmul(y, x);
        self.jac.take_error()?;
        for ((x, &s), &act) in x.iter_mut().zip(self.scale).zip(self.active) {
            *x = if act { 0.0 } else { *x * s };
        }
        Ok(())
    }
}

/// Runs dogbox from `x0` with `f0 = f(x0)` and `j0 = J(x0)`.
pub(crate) fn solve<'p, P: Residuals + ?Sized>(
    ctx: &mut Context<'_, '_, P>,
    x0: Vec<f64>,
    f0: Vec<f64>,
    j0: JacStore<'p>,
    scaling: Scaling,
    lsmr_options: Option<&TrOptions>,
) -> Result<Outcome<'p>, Error> {
    if lsmr_options.is_none() && !matches!(j0, JacStore::Dense { .. }) {
        return Err(Error::option(
            "tr_solver",
            "'exact' works only with dense Jacobian matrices.",
        ));
    }
    let (m, n) = (ctx.m, ctx.n);
    let (lb, ub) = (ctx.lb.clone(), ctx.ub.clone());
    let mut x = x0;
    let mut f_true = f0;
    let mut jac = j0;
    let mut fs = vec![0.0; m];
    let mut nfev = 1usize;
    let mut njev = 1usize;
    let mut cost = ctx.scale_store_for_loss(&f_true, &mut fs, &mut jac)?;
    let initial_cost = cost;
    let mut g = vec![0.0; n];
    jac.tmul(&fs, &mut g);
    jac.take_error()?;

    let mut scales = VariableScale::new(scaling, &jac, n);
    let mut delta = x
        .iter()
        .zip(&scales.inv)
        .fold(0.0f64, |a, (x, s)| a.max((x * s).abs()));
    if delta == 0.0 || delta.is_nan() {
        delta = 1.0;
    }
    let mut on_bound: Vec<i32> = (0..n)
        .map(|j| {
            if x[j] == lb[j] {
                -1
            } else if x[j] == ub[j] {
                1
            } else {
                0
            }
        })
        .collect();

    let mut svd = ThinSvd::new(if lsmr_options.is_some() { 0 } else { m }, n);
    let mut lsmr = lsmr_options.map(|_| (Lsmr::new(m, n), RefCell::new(vec![0.0; n])));
    let mut full_step_js = lsmr_options.is_some();
    let mut free: Vec<usize> = Vec::with_capacity(n);
    let mut g_full = vec![0.0; n];
    let (mut x_f, mut lb_f, mut ub_f, mut scale_f, mut g_f) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let (mut newton, mut uf, mut wk) = (vec![0.0; n], vec![0.0; n.min(m)], vec![0.0; n.min(m)]);
    let (mut lo, mut hi, mut cauchy, mut diff, mut step_f, mut hits) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let mut bound_hits = vec![0i32; n];
    let mut step = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut f_new = vec![0.0; m];
    let mut js = vec![0.0; m];
    let mut fs_neg = vec![0.0; m];

    let mut iteration = 0usize;
    let mut status: Option<Status> = None;
    let mut step_norm: Option<f64> = None;
    let mut actual_reduction: Option<f64> = None;
    let mut g_norm;
    if ctx.verbose == 2 {
        emit(ctx.printer.as_ref(), &header_line());
    }
    let best = |x: &[f64], cost: f64, nfev: usize| BestPoint {
        x: x.to_vec(),
        cost,
        nfev,
    };

    let mut g_active = vec![false; n];
    loop {
        g_full.copy_from_slice(&g);
        free.clear();
        for j in 0..n {
            g_active[j] = (on_bound[j] as f64) * g[j] < 0.0;
            if g_active[j] {
                g[j] = 0.0;
            } else {
                free.push(j);
            }
        }
        g_norm = norm_inf(&g);
        if g_norm < ctx.gtol {
            status = Some(Status::Gtol);
        }
        if ctx.verbose == 2 {
            let row = row_line(iteration, nfev, cost, actual_reduction, step_norm, g_norm);
            emit(ctx.printer.as_ref(), &row);
        }
        if status.is_some() || nfev == ctx.max_nfev {
            break;
        }
        let nf = free.len();
        for (k, &j) in free.iter().enumerate() {
            x_f[k] = x[j];
            lb_f[k] = lb[j];
            ub_f[k] = ub[j];
            scale_f[k] = scales.scale[j];
            g_f[k] = g[j];
        }
        if let (Some((solver, tmp)), Some(opts)) = (lsmr.as_mut(), lsmr_options) {
            // Gauss–Newton step from LSMR on J·diag(scale) with the active columns
            // removed (their adjoint components zeroed).
            let op = FreeColumns {
                jac: &jac,
                scale: &scales.scale,
                active: &g_active,
                tmp,
            };
            let params = LsmrParams::from(opts);
            solver
                .solve(&op, &fs, &params)
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            for (k, &j) in free.iter().enumerate() {
                newton[k] = -solver.x[j] * scale_f[k];
            }
            // a = ½‖J g‖² with g zeroed on the active set, b = −g·g.
            jac.mul(&g, &mut js);
            jac.take_error()
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            full_step_js = true;
        } else {
            // Gauss–Newton step on the free variables: minimum-norm lstsq via SVD, with
            // LAPACK gelsd's cut-off (singular values ≤ 2⁻⁵³·s_max are treated as zero).
            let JacStore::Dense { data: jac, .. } = &jac else {
                return Err(Error::option(
                    "tr_solver",
                    "'exact' works only with dense Jacobian matrices.",
                ));
            };
            svd.set_shape(m, nf);
            for (k, &j) in free.iter().enumerate() {
                let col = &mut svd.a[k * m..(k + 1) * m];
                for i in 0..m {
                    col[i] = jac[i * n + j];
                }
            }
            let kk = svd.k();
            for i in 0..m {
                fs_neg[i] = -fs[i];
            }
            svd.factor_and_project(&fs_neg, &mut uf)
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            let cutoff = if kk > 0 {
                svd.s[0] * f64::EPSILON * 0.5
            } else {
                0.0
            };
            for l in 0..kk {
                wk[l] = if svd.s[l] > cutoff {
                    uf[l] / svd.s[l]
                } else {
                    0.0
                };
            }
            svd.v_times(&wk[..kk], &mut newton);
            // Quadratic along the anti-gradient: a = ½‖J_F g_F‖², b = −g_F·g_F.
            jf_mul(jac, n, &free, &g_f[..nf], &mut js);
        }
        let a = 0.5 * dot(&js, &js);
        let b = -dot(&g_f[..nf], &g_f[..nf]);

        let mut reduction = -1.0;
        let mut cost_new = cost;
        let x_norm = norm(&x);
        let mut tr_hit;
        while reduction <= 0.0 && nfev < ctx.max_nfev {
            // dogleg (spec §8.3) on the free variables.
            let mut newton_fits = true;
            for k in 0..nf {
                lo[k] = (lb_f[k] - x_f[k]).max(-delta * scale_f[k]);
                hi[k] = (ub_f[k] - x_f[k]).min(delta * scale_f[k]);
                if !(lo[k] <= newton[k] && newton[k] <= hi[k]) {
                    newton_fits = false;
                }
            }
            if newton_fits {
                step_f[..nf].copy_from_slice(&newton[..nf]);
                bound_hits[..nf].fill(0);
                tr_hit = false;
            } else {
                let to_bound = step_to_bound_from_zero_neg(&g_f[..nf], &lo[..nf], &hi[..nf]);
                let (t_c, _) = minimize_quadratic_1d(a, b, 0.0, to_bound, 0.0);
                for k in 0..nf {
                    cauchy[k] = -t_c * g_f[k];
                    diff[k] = newton[k] - cauchy[k];
                }
                let t = step_size_to_bound(
                    &cauchy[..nf],
                    &diff[..nf],
                    &lo[..nf],
                    &hi[..nf],
                    &mut hits[..nf],
                );
                tr_hit = false;
                for k in 0..nf {
                    step_f[k] = cauchy[k] + t * diff[k];
                    let tr = delta * scale_f[k];
                    let orig_l = lo[k] == lb_f[k] - x_f[k];
                    let orig_u = hi[k] == ub_f[k] - x_f[k];
                    bound_hits[k] = if hits[k] < 0.0 && orig_l {
                        -1
                    } else if hits[k] > 0.0 && orig_u {
                        1
                    } else {
                        0
                    };
                    if (hits[k] < 0.0 && lo[k] == -tr) || (hits[k] > 0.0 && hi[k] == tr) {
                        tr_hit = true;
                    }
                }
            }
            step.fill(0.0);
            for (k, &j) in free.iter().enumerate() {
                step[j] = step_f[k];
            }
            match &jac {
                JacStore::Dense { data, .. } if !full_step_js => {
                    jf_mul(data, n, &free, &step_f[..nf], &mut js);
                }
                _ => jac.mul(&step, &mut js),
            }
            let predicted = -(0.5 * dot(&js, &js) + dot(&g_f[..nf], &step_f[..nf]));
            for j in 0..n {
                x_new[j] = (x[j] + step[j]).clamp(lb[j], ub[j]);
            }
            jac.take_error()
                .and_then(|()| ctx.fun(&x_new, &mut f_new))
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            nfev += 1;
            let step_h_norm = step
                .iter()
                .zip(&scales.inv)
                .fold(0.0f64, |a, (s, si)| a.max((s * si).abs()));
            if !all_finite(&f_new) {
                delta = 0.25 * step_h_norm;
                continue;
            }
            cost_new = ctx
                .cost_of(&f_new)
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            reduction = cost - cost_new;
            let (delta_new, ratio) =
                update_tr_radius(delta, reduction, predicted, step_h_norm, tr_hit);
            delta = delta_new;
            let sn = norm(&step);
            step_norm = Some(sn);
            status = check_termination(reduction, cost, sn, x_norm, ratio, ctx.ftol, ctx.xtol);
            if status.is_some() {
                break;
            }
        }
        if reduction > 0.0 {
            for (k, &j) in free.iter().enumerate() {
                on_bound[j] = bound_hits[k];
            }
            x.copy_from_slice(&x_new);
            let mut pinned = false;
            for j in 0..n {
                if on_bound[j] == -1 && x[j] != lb[j] {
                    x[j] = lb[j];
                    pinned = true;
                } else if on_bound[j] == 1 && x[j] != ub[j] {
                    x[j] = ub[j];
                    pinned = true;
                }
            }
            f_true.copy_from_slice(&f_new);
            cost = cost_new;
            // scipy's memoised jac re-evaluates f at a pinned x (uncounted) for differencing.
            if pinned && ctx.jac_spec != crate::options::JacSpec::Analytic {
                ctx.fun(&x, &mut f_new)
                    .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
                ctx.evaluate_jac(&x, &f_new, &mut jac)
                    .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            } else {
                ctx.evaluate_jac(&x, &f_true, &mut jac)
                    .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            }
            njev += 1;
            ctx.scale_store_for_loss(&f_true, &mut fs, &mut jac)
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            jac.tmul(&fs, &mut g);
            jac.take_error()
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            scales.update(&jac);
            actual_reduction = Some(reduction);
        } else {
            step_norm = Some(0.0);
            actual_reduction = Some(0.0);
        }
        iteration += 1;
        let summary = IterationSummary {
            iteration,
            nfev,
            cost,
            x: &x,
            fun: &f_true,
            step_norm: step_norm.unwrap_or(0.0),
            cost_reduction: actual_reduction.unwrap_or(0.0),
        };
        if ctx.notify_iteration(&summary)? {
            status = Some(Status::CallbackStop);
            break;
        }
    }
    Ok(Outcome {
        x,
        cost,
        fun: f_true,
        jac,
        grad: g_full,
        optimality: g_norm,
        active_mask: on_bound,
        nfev,
        njev: Some(njev),
        status: status.unwrap_or(Status::MaxNfev),
        nit: iteration,
        initial_cost,
    })
}
