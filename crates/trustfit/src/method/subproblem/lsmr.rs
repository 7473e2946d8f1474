//! tr_solver='lsmr' (dense, sparse or matrix-free J): for trf, a Gauss–Newton
//! direction from LSMR and the 2-D subspace spanned by it and ĝ (spec §7.4); for
//! dogbox, the Gauss–Newton step from LSMR on the free columns (spec §8.2).

use std::cell::RefCell;

use crate::error::Error;
use crate::jacobian::store::JacStore;
use crate::linalg::lsmr::{LinearMap, Lsmr, LsmrParams};
use crate::linalg::vector::{dot, norm};
use crate::method::subproblem::subspace::{orthonormal_pair, solve_trust_region_2d};
use crate::method::subproblem::{FreeVariables, ScaledModel, Subproblem};
use crate::method::trust_region::minimize_quadratic_1d;
use crate::options::TrOptions;

/// LSMR's parameters from the user's `tr_options`.
fn lsmr_params(o: &TrOptions) -> LsmrParams {
    LsmrParams {
        damp: o.damp,
        atol: o.atol,
        btol: o.btol,
        conlim: o.conlim,
        maxiter: o.maxiter,
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
    /// trf's buffers: the augmented system has m + n rows when bounded.
    pub fn for_trf(m: usize, n: usize, bounded: bool, options: TrOptions) -> Self {
        Self::with_rows(m, n, if bounded { m + n } else { m }, bounded, options)
    }

    /// dogbox's buffers: LSMR on J with the frozen columns removed.
    pub fn for_dogbox(m: usize, n: usize, options: TrOptions) -> Self {
        Self::with_rows(m, n, m, false, options)
    }

    fn with_rows(m: usize, n: usize, rows: usize, bounded: bool, options: TrOptions) -> Self {
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
    fn prepare(&mut self, model: &ScaledModel<'_, '_>) -> Result<(), Error> {
        let ScaledModel {
            jac,
            fs,
            d,
            diag_h,
            g_h,
            delta,
            ..
        } = *model;
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
        let mut params = lsmr_params(opts);
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

    fn newton_step(&mut self, vars: &FreeVariables<'_, '_>, p: &mut [f64]) -> Result<(), Error> {
        let (jac, fs, scale) = (vars.jac, vars.fs, vars.scale);
        let (free, active) = (vars.free, vars.active);
        // Gauss–Newton step from LSMR on J·diag(scale) with the active columns
        // removed (their adjoint components zeroed).
        let op = FreeColumns {
            jac,
            scale,
            active,
            tmp: &self.tmp,
        };
        let params = lsmr_params(&self.options);
        self.lsmr.solve(&op, fs, &params)?;
        for (k, &j) in free.iter().enumerate() {
            p[k] = -self.lsmr.x[j] * scale[j];
        }
        Ok(())
    }
}

/// `out = J·(d ⊙ s)`.
fn scaled_mul(jac: &JacStore<'_>, d: &[f64], tmp: &RefCell<Vec<f64>>, s: &[f64], out: &mut [f64]) {
    let mut t = tmp.borrow_mut();
    jac.mul_scaled(s, d, &mut t, out);
}

/// `A = [J·diag(d); diag(e)]` (the second block only when `e` is given), the matrix
/// LSMR sees in trf's subproblem.
struct ScaledJacobian<'a> {
    jac: &'a JacStore<'a>,
    d: &'a [f64],
    extra: Option<&'a [f64]>,
    m: usize,
    tmp: &'a RefCell<Vec<f64>>,
}

impl LinearMap for ScaledJacobian<'_> {
    type Error = Error;

    fn rows(&self) -> usize {
        self.m + self.extra.map_or(0, <[f64]>::len)
    }

    fn cols(&self) -> usize {
        self.d.len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) -> Result<(), Error> {
        let mut t = self.tmp.borrow_mut();
        self.jac.mul_scaled(x, self.d, &mut t, &mut y[..self.m]);
        self.jac.take_error()?;
        if let Some(e) = self.extra {
            for ((y, &x), &e) in y[self.m..].iter_mut().zip(x).zip(e) {
                *y = x * e;
            }
        }
        Ok(())
    }

    fn apply_t(&self, y: &[f64], x: &mut [f64]) -> Result<(), Error> {
        self.jac.tmul(&y[..self.m], x);
        self.jac.take_error()?;
        for (x, &d) in x.iter_mut().zip(self.d) {
            *x *= d;
        }
        if let Some(e) = self.extra {
            for ((x, &y), &e) in x.iter_mut().zip(&y[self.m..]).zip(e) {
                *x += y * e;
            }
        }
        Ok(())
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
    type Error = Error;

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
