//! Trust Region Reflective (scipy's `method='trf'`), exact (SVD) subproblem solver.
//!
//! Algorithm (Branch, Coleman & Li 1999; scipy `_lsq/trf.py`, spec §7): minimise
//! `F(x) = ½ Σ ρ(fᵢ²)` subject to `lb ≤ x ≤ ub`. Each iteration builds the Coleman–Li
//! scaling `v(x, g)` (distance to the bound the gradient points at), works in the
//! variables `x̂ = x / d` with `d = √v ⊙ scale`, and solves the trust-region problem
//! `min ½‖Ĵp + f‖² + ½ pᵀ diag(Ĉ) p`, `‖p‖ ≤ Δ` by the SVD of `[Ĵ; diag(√Ĉ)]` and a
//! Levenberg–Marquardt parameter search (Moré). A step that leaves the box is
//! reflected at the first bound it hits or cut back; the best of the truncated step,
//! the reflected step and the constrained Cauchy step is taken. Iterates stay
//! strictly feasible. Without bounds this is a plain trust-region Gauss–Newton.
//!
//! Symbols: `J` (m×n, loss-scaled), `f` (loss-scaled residuals), `g = Jᵀf`, `Δ` trust
//! radius, `α` LM parameter carried between solves, `θ` step-back factor.

use crate::bounds::{
    cl_scaling_vector, find_active_constraints, in_bounds, intersect_trust_region,
    make_strictly_feasible, step_size_to_bound,
};
use crate::error::Error;
use std::cell::RefCell;

use crate::linalg::dense::ThinSvd;
use crate::linalg::lsmr::{Lsmr, LsmrParams};
use crate::loss::dot;
use crate::method::common::{
    Context, Outcome, Scaling, VariableScale, all_finite, check_termination, minimize_quadratic_1d,
    nan_max, norm, norm_inf, solve_lsq_trust_region, update_tr_radius,
};
use crate::method::jac_store::{JacStore, ScaledJacobian};
use crate::method::subspace::{orthonormal_pair, solve_trust_region_2d};
use crate::options::TrOptions;
use crate::problem::Residuals;
use crate::report::{IterationSummary, Status, emit, header_line, row_line};

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

/// The quadratic model in hat space: `Ĵ s` products come from the subproblem solver.
struct Model<'a> {
    mul: &'a dyn Fn(&[f64], &mut [f64]),
    m: usize,
    g_h: &'a [f64],
    diag_h: Option<&'a [f64]>,
}

impl Model<'_> {
    /// `½(‖Ĵs‖² + sᵀCs) + ĝᵀs` (spec §6.6).
    fn value(&self, s: &[f64], js: &mut [f64]) -> f64 {
        (self.mul)(s, js);
        let mut q = dot(&js[..self.m], &js[..self.m]);
        if let Some(c) = self.diag_h {
            q += s.iter().zip(c).map(|(s, c)| s * c * s).sum::<f64>();
        }
        0.5 * q + dot(s, self.g_h)
    }

    /// Coefficients of `t ↦ model(s0 + t s)` (spec §6.6).
    fn quadratic_1d(
        &self,
        s: &[f64],
        s0: Option<&[f64]>,
        js: &mut [f64],
        js0: &mut [f64],
    ) -> (f64, f64, f64) {
        (self.mul)(s, js);
        let mut a = dot(&js[..self.m], &js[..self.m]);
        if let Some(c) = self.diag_h {
            a += s.iter().zip(c).map(|(s, c)| s * c * s).sum::<f64>();
        }
        a *= 0.5;
        let mut b = dot(self.g_h, s);
        let mut c = 0.0;
        if let Some(s0) = s0 {
            (self.mul)(s0, js0);
            b += dot(&js0[..self.m], &js[..self.m]);
            c = 0.5 * dot(&js0[..self.m], &js0[..self.m]) + dot(self.g_h, s0);
            if let Some(d) = self.diag_h {
                b += s0
                    .iter()
                    .zip(d)
                    .zip(s)
                    .map(|((a, d), s)| a * d * s)
                    .sum::<f64>();
                c += 0.5 * s0.iter().zip(d).map(|(a, d)| a * d * a).sum::<f64>();
            }
        }
        (a, b, c)
    }
}

/// Scratch vectors of the bounded step selection.
struct SelectWork {
    hits: Vec<f64>,
    r_h: Vec<f64>,
    r: Vec<f64>,
    x_b: Vec<f64>,
    c_h: Vec<f64>,
    c: Vec<f64>,
    js: Vec<f64>,
    js0: Vec<f64>,
    trial: Vec<f64>,
}

/// Chooses among the truncated, reflected and Cauchy steps (spec §7.5). On return
/// `p`/`p_h` hold the chosen step; the predicted reduction is returned.
#[allow(clippy::too_many_arguments)]
fn select_step(
    model: &Model<'_>,
    x: &[f64],
    p: &mut [f64],
    p_h: &mut [f64],
    d: &[f64],
    delta: f64,
    lb: &[f64],
    ub: &[f64],
    theta: f64,
    w: &mut SelectWork,
) -> f64 {
    let n = x.len();
    for j in 0..n {
        w.trial[j] = x[j] + p[j];
    }
    if in_bounds(&w.trial, lb, ub) {
        return -model.value(p_h, &mut w.js);
    }
    let p_stride = step_size_to_bound(x, p, lb, ub, &mut w.hits);
    for j in 0..n {
        w.r_h[j] = if w.hits[j] != 0.0 { -p_h[j] } else { p_h[j] };
        w.r[j] = d[j] * w.r_h[j];
        p[j] *= p_stride;
        p_h[j] *= p_stride;
        w.x_b[j] = x[j] + p[j];
    }
    let to_tr = intersect_trust_region(p_h, &w.r_h, delta).map_or(0.0, |(_, hi)| hi);
    let to_bound = step_size_to_bound(&w.x_b, &w.r, lb, ub, &mut w.hits);
    let r_stride = to_bound.min(to_tr);
    let (lo, hi) = if r_stride > 0.0 {
        let lo = (1.0 - theta) * p_stride / r_stride;
        let hi = if r_stride == to_bound {
            theta * to_bound
        } else {
            to_tr
        };
        (lo, hi)
    } else {
        (0.0, -1.0)
    };
    let r_value = if lo <= hi {
        let (a, b, c) = model.quadratic_1d(&w.r_h, Some(p_h), &mut w.js, &mut w.js0);
        let (t, value) = minimize_quadratic_1d(a, b, lo, hi, c);
        for j in 0..n {
            w.r_h[j] = p_h[j] + t * w.r_h[j];
            w.r[j] = d[j] * w.r_h[j];
        }
        value
    } else {
        f64::INFINITY
    };
    for j in 0..n {
        p[j] *= theta;
        p_h[j] *= theta;
    }
    let p_value = model.value(p_h, &mut w.js);
    for j in 0..n {
        w.c_h[j] = -model.g_h[j];
        w.c[j] = d[j] * w.c_h[j];
    }
    let to_tr = delta / norm(&w.c_h);
    let to_bound = step_size_to_bound(x, &w.c, lb, ub, &mut w.hits);
    let t_max = if to_bound < to_tr {
        theta * to_bound
    } else {
        to_tr
    };
    let (a, b, _) = model.quadratic_1d(&w.c_h, None, &mut w.js, &mut w.js0);
    let (t, c_value) = minimize_quadratic_1d(a, b, 0.0, t_max, 0.0);
    if p_value < r_value && p_value < c_value {
        -p_value
    } else if r_value < p_value && r_value < c_value {
        p.copy_from_slice(&w.r);
        p_h.copy_from_slice(&w.r_h);
        -r_value
    } else {
        for j in 0..n {
            p[j] = t * w.c[j];
            p_h[j] = t * w.c_h[j];
        }
        -c_value
    }
}

/// How trf solves its trust-region subproblem (spec §7.4).
pub(crate) trait Subproblem {
    /// Once per outer iteration: the scaled quantities of spec §7.3 at the current x.
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        d: &[f64],
        diag_h: Option<&[f64]>,
        g_h: &[f64],
        delta: f64,
    ) -> Result<(), Error>;
    /// Per trial: the hat-space step `p_h` for radius `delta`; returns the new LM α.
    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64;
    /// `out = Ĵ s` (m rows) with the `d` of the last `prepare`.
    fn jh_mul(&self, jac: &JacStore<'_>, s: &[f64], out: &mut [f64]);
}

/// tr_solver='exact': SVD of `[Ĵ; diag(√Ĉ)]` and Moré's α search (dense J only).
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
    /// Buffers for an m×n problem, bounded or not.
    pub fn new(m: usize, n: usize, bounded: bool) -> Self {
        let rows = if bounded { m + n } else { m };
        let k = rows.min(n);
        Self {
            m,
            n,
            rows,
            svd: ThinSvd::new(rows, n),
            jh: vec![0.0; rows * n],
            f_aug: vec![0.0; rows],
            uf: vec![0.0; k],
            suf: vec![0.0; k],
            wk: vec![0.0; k],
        }
    }
}

impl Subproblem for ExactSolver {
    fn prepare(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        d: &[f64],
        diag_h: Option<&[f64]>,
        _g_h: &[f64],
        _delta: f64,
    ) -> Result<(), Error> {
        let JacStore::Dense { data: jac, .. } = jac else {
            return Err(Error::option(
                "tr_solver",
                "'exact' works only with dense Jacobian matrices.",
            ));
        };
        let (m, n, rows) = (self.m, self.n, self.rows);
        // Ĵ = [J·diag(d); diag(√Ĉ)], column-major; kept for the model, copied for the SVD.
        for j in 0..n {
            let col = &mut self.jh[j * rows..(j + 1) * rows];
            for i in 0..m {
                col[i] = jac[i * n + j] * d[j];
            }
            if let Some(c) = diag_h {
                col[m..].fill(0.0);
                col[m + j] = c[j].sqrt();
            }
        }
        self.svd.set_shape(rows, n);
        self.svd.a[..rows * n].copy_from_slice(&self.jh);
        self.f_aug[..m].copy_from_slice(fs);
        self.svd.factor_and_project(&self.f_aug, &mut self.uf)
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
}

/// tr_solver='lsmr': a Gauss–Newton direction from LSMR and the 2-D subspace
/// spanned by it and ĝ (spec §7.4). Works on dense and sparse J alike.
pub(crate) struct LsmrSolver {
    m: usize,
    n: usize,
    options: TrOptions,
    d: Vec<f64>,
    extra: Vec<f64>,
    rhs: Vec<f64>,
    lsmr: Lsmr,
    basis: [Vec<f64>; 2],
    scratch: [Vec<f64>; 2],
    tmp: RefCell<Vec<f64>>,
    js: Vec<f64>,
    js1: Vec<f64>,
    b_s: [[f64; 2]; 2],
    g_s: [f64; 2],
}

impl LsmrSolver {
    /// Buffers for an m×n problem, bounded or not.
    pub fn new(m: usize, n: usize, bounded: bool, options: TrOptions) -> Self {
        let rows = if bounded { m + n } else { m };
        Self {
            m,
            n,
            options,
            d: vec![0.0; n],
            extra: vec![0.0; if bounded { n } else { 0 }],
            rhs: vec![0.0; rows],
            lsmr: Lsmr::new(rows, n),
            basis: [vec![0.0; n], vec![0.0; n]],
            scratch: [vec![0.0; n], vec![0.0; n]],
            tmp: RefCell::new(vec![0.0; n]),
            js: vec![0.0; m],
            js1: vec![0.0; m],
            b_s: [[0.0; 2]; 2],
            g_s: [0.0; 2],
        }
    }
}

impl Subproblem for LsmrSolver {
    fn prepare(
        &mut self,
        jac: &JacStore<'_>,
        fs: &[f64],
        d: &[f64],
        diag_h: Option<&[f64]>,
        g_h: &[f64],
        delta: f64,
    ) -> Result<(), Error> {
        let (m, n) = (self.m, self.n);
        self.d.copy_from_slice(d);
        let opts = &self.options;
        // Regularisation from the model's minimum along −ĝ (scipy's `regularize`).
        let reg = if opts.regularize {
            for (t, (&g, &dj)) in self.scratch[0].iter_mut().zip(g_h.iter().zip(d)) {
                *t = -g * dj;
            }
            jac.mul(&self.scratch[0], &mut self.js);
            let mut a = dot(&self.js, &self.js);
            if let Some(c) = diag_h {
                a += g_h.iter().zip(c).map(|(g, c)| g * c * g).sum::<f64>();
            }
            let a = 0.5 * a;
            let b = -dot(g_h, g_h);
            let t_max = delta / norm(g_h);
            let (_, value) = minimize_quadratic_1d(a, b, 0.0, t_max, 0.0);
            -value / (delta * delta)
        } else {
            0.0
        };
        self.rhs[..m].copy_from_slice(fs);
        let mut params = LsmrParams::from(opts);
        let extra = if let Some(c) = diag_h {
            for (e, &c) in self.extra.iter_mut().zip(c) {
                *e = (c + reg).sqrt();
            }
            self.rhs[m..].fill(0.0);
            Some(&self.extra[..])
        } else {
            params.damp = (opts.damp * opts.damp + reg).sqrt();
            None
        };
        let op = ScaledJacobian {
            jac,
            d,
            extra,
            m,
            tmp: &self.tmp,
        };
        self.lsmr.solve(&op, &self.rhs, &params)?;
        // Subspace basis S and the reduced model B_S, g_S.
        let [s0, s1] = &mut self.basis;
        let [w0, w1] = &mut self.scratch;
        if n >= 2 {
            orthonormal_pair(g_h, &self.lsmr.x, s0, s1, w0, w1);
        } else {
            s0[0] = 1.0;
        }
        let [s0, s1] = &self.basis;
        scaled_mul(jac, d, &self.tmp, s0, &mut self.js);
        let b00 = dot(&self.js, &self.js);
        let mut b01 = 0.0;
        let mut b11 = 0.0;
        if n >= 2 {
            scaled_mul(jac, d, &self.tmp, s1, &mut self.js1);
            b01 = dot(&self.js, &self.js1);
            b11 = dot(&self.js1, &self.js1);
        }
        let mut b_s = [[b00, b01], [b01, b11]];
        if let Some(c) = diag_h {
            let quad = |a: &[f64], b: &[f64]| -> f64 {
                a.iter().zip(b).zip(c).map(|((a, b), c)| a * c * b).sum()
            };
            b_s[0][0] += quad(s0, s0);
            if n >= 2 {
                let c01 = quad(s0, s1);
                b_s[0][1] += c01;
                b_s[1][0] += c01;
                b_s[1][1] += quad(s1, s1);
            }
        }
        self.b_s = b_s;
        self.g_s = [dot(s0, g_h), if n >= 2 { dot(s1, g_h) } else { 0.0 }];
        Ok(())
    }

    fn step(&mut self, delta: f64, alpha: f64, p_h: &mut [f64]) -> f64 {
        if self.n == 1 {
            let (b, g) = (self.b_s[0][0], self.g_s[0]);
            // 1-D subspace: the Newton point when it fits, else the boundary downhill.
            let newton = -g / b;
            let p = if b > 0.0 && newton.abs() <= delta {
                newton
            } else {
                -g.signum() * delta
            };
            p_h[0] = p * self.basis[0][0];
            return alpha;
        }
        let p = solve_trust_region_2d(self.b_s, self.g_s, delta);
        for ((o, a), b) in p_h.iter_mut().zip(&self.basis[0]).zip(&self.basis[1]) {
            *o = a * p[0] + b * p[1];
        }
        alpha
    }

    fn jh_mul(&self, jac: &JacStore<'_>, s: &[f64], out: &mut [f64]) {
        scaled_mul(jac, &self.d, &self.tmp, s, &mut out[..self.m]);
    }
}

/// `out = J·(d ⊙ s)`.
fn scaled_mul(jac: &JacStore<'_>, d: &[f64], tmp: &RefCell<Vec<f64>>, s: &[f64], out: &mut [f64]) {
    let mut t = tmp.borrow_mut();
    jac.mul_scaled(s, d, &mut t, out);
}

/// Runs trf from a (strictly feasible) `x0` with `f0 = f(x0)` and `jac = J(x0)`.
pub(crate) fn solve<'p, P: Residuals + ?Sized, S: Subproblem>(
    ctx: &mut Context<'_, '_, P>,
    x0: Vec<f64>,
    f0: Vec<f64>,
    mut jac: JacStore<'p>,
    scaling: Scaling,
    sub: &mut S,
) -> Result<Outcome<'p>, Error> {
    let (m, n) = (ctx.m, ctx.n);
    let bounded = ctx.bounded;
    let (lb, ub) = (ctx.lb.clone(), ctx.ub.clone());
    let mut x = x0;
    let mut f_true = f0;
    let mut fs = vec![0.0; m];
    let mut nfev = 1usize;
    let mut njev = 1usize;
    let mut cost = ctx.scale_store_for_loss(&f_true, &mut fs, &mut jac)?;
    let initial_cost = cost;
    let mut g = vec![0.0; n];
    jac.tmul(&fs, &mut g);
    jac.take_error()?;

    let mut scales = VariableScale::new(scaling, &jac, n);

    let (mut v, mut dv) = (vec![0.0; n], vec![0.0; n]);
    let mut delta = if bounded {
        cl_scaling_vector(&x, &g, &lb, &ub, &mut v, &mut dv);
        let mut s = 0.0;
        for j in 0..n {
            if dv[j] != 0.0 {
                v[j] *= scales.inv[j];
            }
            let t = x[j] * scales.inv[j] / v[j].sqrt();
            s += t * t;
        }
        s.sqrt()
    } else {
        norm(
            &x.iter()
                .zip(&scales.inv)
                .map(|(a, b)| a * b)
                .collect::<Vec<_>>(),
        )
    };
    if delta == 0.0 || delta.is_nan() {
        delta = 1.0;
    }

    let (mut d, mut diag_h, mut g_h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (mut p_h, mut step, mut step_h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut x_new = vec![0.0; n];
    let mut f_new = vec![0.0; m];
    let mut js = vec![0.0; m];
    let mut sel = SelectWork {
        hits: vec![0.0; n],
        r_h: vec![0.0; n],
        r: vec![0.0; n],
        x_b: vec![0.0; n],
        c_h: vec![0.0; n],
        c: vec![0.0; n],
        js: vec![0.0; m],
        js0: vec![0.0; m],
        trial: vec![0.0; n],
    };

    let mut alpha = 0.0;
    let mut iteration = 0usize;
    let mut status: Option<Status> = None;
    let mut step_norm: Option<f64> = None;
    let mut actual_reduction: Option<f64> = None;
    let mut g_norm;
    if ctx.verbose == 2 {
        emit(ctx.printer.as_ref(), &header_line());
    }
    let best = |x: &[f64], cost: f64, nfev: usize| crate::error::BestPoint {
        x: x.to_vec(),
        cost,
        nfev,
    };

    loop {
        if bounded {
            cl_scaling_vector(&x, &g, &lb, &ub, &mut v, &mut dv);
            g_norm = g
                .iter()
                .zip(&v)
                .fold(0.0f64, |a, (g, v)| nan_max(a, (g * v).abs()));
        } else {
            g_norm = norm_inf(&g);
        }
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

        // Per-iteration scaled quantities (spec §7.3) and the subproblem set-up (§7.4).
        let theta;
        if bounded {
            for j in 0..n {
                if dv[j] != 0.0 {
                    v[j] *= scales.inv[j];
                }
                d[j] = v[j].sqrt() * scales.scale[j];
                diag_h[j] = g[j] * dv[j] * scales.scale[j];
            }
            theta = (1.0 - g_norm).max(0.995);
        } else {
            d.copy_from_slice(&scales.scale);
            theta = 1.0;
        }
        for j in 0..n {
            g_h[j] = d[j] * g[j];
        }
        sub.prepare(&jac, &fs, &d, bounded.then_some(&diag_h[..]), &g_h, delta)
            .and_then(|()| jac.take_error())
            .map_err(|e| e.with_best(best(&x, cost, nfev)))?;

        let mut reduction = -1.0;
        let x_norm = norm(&x);
        while reduction <= 0.0 && nfev < ctx.max_nfev {
            alpha = sub.step(delta, alpha, &mut p_h);
            let predicted;
            let mul = |s: &[f64], out: &mut [f64]| sub.jh_mul(&jac, s, out);
            let model = Model {
                mul: &mul,
                m,
                g_h: &g_h,
                diag_h: bounded.then_some(&diag_h[..]),
            };
            if bounded {
                for j in 0..n {
                    step[j] = d[j] * p_h[j];
                }
                step_h.copy_from_slice(&p_h);
                predicted = select_step(
                    &model,
                    &x,
                    &mut step,
                    &mut step_h,
                    &d,
                    delta,
                    &lb,
                    &ub,
                    theta,
                    &mut sel,
                );
                for j in 0..n {
                    x_new[j] = x[j] + step[j];
                }
                make_strictly_feasible(&mut x_new, &lb, &ub, 0.0);
            } else {
                step_h.copy_from_slice(&p_h);
                predicted = -model.value(&p_h, &mut js);
                for j in 0..n {
                    step[j] = d[j] * p_h[j];
                    x_new[j] = x[j] + step[j];
                }
            }
            jac.take_error()
                .and_then(|()| ctx.fun(&x_new, &mut f_new))
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            nfev += 1;
            let step_h_norm = norm(&step_h);
            if !all_finite(&f_new) {
                delta = 0.25 * step_h_norm;
                continue;
            }
            let cost_new = ctx
                .cost_of(&f_new)
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            reduction = cost - cost_new;
            let (delta_new, ratio) = update_tr_radius(
                delta,
                reduction,
                predicted,
                step_h_norm,
                step_h_norm > 0.95 * delta,
            );
            let sn = norm(&step);
            step_norm = Some(sn);
            status = check_termination(reduction, cost, sn, x_norm, ratio, ctx.ftol, ctx.xtol);
            if reduction > 0.0 {
                accept(
                    &mut x,
                    &mut x_new,
                    &mut f_true,
                    &mut f_new,
                    &mut cost,
                    cost_new,
                );
            }
            if status.is_some() {
                break;
            }
            alpha *= delta / delta_new;
            delta = delta_new;
        }
        if reduction > 0.0 {
            ctx.evaluate_jac(&x, &f_true, &mut jac)
                .map_err(|e| e.with_best(best(&x, cost, nfev)))?;
            njev += 1;
            // Keep the trial's cost (scipy keeps cost_new); only rescale J and f.
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

    let mut active_mask = vec![0; n];
    if bounded {
        find_active_constraints(&x, &lb, &ub, ctx.xtol, &mut active_mask);
    }
    Ok(Outcome {
        x,
        cost,
        fun: f_true,
        jac,
        grad: g,
        optimality: g_norm,
        active_mask,
        nfev,
        njev: Some(njev),
        status: status.unwrap_or(Status::MaxNfev),
        nit: iteration,
        initial_cost,
    })
}

/// Takes the trial point: the buffers are exchanged, not copied (the old point's
/// buffers are the next trial's scratch).
fn accept(
    x: &mut Vec<f64>,
    x_new: &mut Vec<f64>,
    f_true: &mut Vec<f64>,
    f_new: &mut Vec<f64>,
    cost: &mut f64,
    cost_new: f64,
) {
    std::mem::swap(x, x_new);
    std::mem::swap(f_true, f_new);
    *cost = cost_new;
}
