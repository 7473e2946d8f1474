//! Port of MINPACK's Levenberg–Marquardt solvers LMDER (analytic Jacobian) and LMDIF
//! (forward-difference Jacobian, `fdjac2`), matching scipy 1.17's C translation operation
//! by operation so that iterates, `nfev` and `njev` agree with `scipy.optimize.leastsq` and
//! `least_squares(method='lm')` bit for bit where the user functions do.
//!
//! Symbols: `m` residuals, `n` parameters, `f` the residual vector, `J` its m×n Jacobian
//! stored column-major (`fjac[i + j·m]`, MINPACK's layout), `D = diag` the variable
//! scaling, Δ (`delta`) the trust-region radius, `par` the Levenberg–Marquardt parameter.
//!
//! Pieces (spec `scipy-least-squares.md` §9):
//! * [`enorm`](enorm::enorm) — overflow-safe norm (§9.6),
//! * [`qrfac`](qrfac::qrfac) — pivoted Householder QR (§9.3, scipy 1.18's fixed form),
//! * [`qrsolv`](qrsolv::qrsolv) — damped solve by Givens rotations (§9.5),
//! * [`lmpar`](lmpar::lmpar) — Levenberg–Marquardt parameter (§9.4),
//! * [`lmder()`] / [`lmdif()`] — the driver (§9.2, §9.7).
//!
//! References: J. J. Moré, "The Levenberg–Marquardt algorithm: implementation and theory",
//! Numerical Analysis, LNM 630 (1978); Moré, Garbow & Hillstrom, "User guide for
//! MINPACK-1", ANL-80-74 (1980); scipy `scipy/optimize/src/minpack.c`.
//!
//! Floating-point discipline: every reduction is a left-to-right sum starting at `+0.0`
//! (see `dot`), squares are `x·x` (the C code's `pow(x, 2.0)`, which compilers fold to a
//! multiplication), and divisions by constants (`/0.1`, `/0.5`) are kept as divisions.

pub mod enorm;
pub mod lmder;
pub mod lmpar;
pub mod qrfac;
pub mod qrsolv;

#[cfg(test)]
mod scipy_refs;
#[cfg(test)]
mod test_problems;

pub use lmder::{lmder, lmdif};

/// Machine epsilon as MINPACK's `dpmpar(1)` (`np.finfo(float).eps`).
pub const EPSMCH: f64 = f64::EPSILON;

/// Smallest positive normal number, MINPACK's `dpmpar(2)`.
pub const DWARF: f64 = f64::MIN_POSITIVE;

/// Left-to-right dot product starting from `+0.0`, the summation order of the C loops.
///
/// `Iterator::sum` for `f64` starts from `-0.0`, which changes the sign of an all-zero sum;
/// that sign can reach the iterates (e.g. through `−sum / a[j,j]`), so it is avoided here.
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

/// Settings of one LMDER/LMDIF run (MINPACK's scalar inputs).
#[derive(Debug, Clone, PartialEq)]
pub struct LmderParams {
    /// Stop (info 1) when both the actual and the predicted relative reduction of ‖f‖² are
    /// at most `ftol`. Must be ≥ 0.
    pub ftol: f64,
    /// Stop (info 2) when the relative change of the scaled iterate, Δ ≤ xtol·‖D·x‖, is
    /// reached. Must be ≥ 0.
    pub xtol: f64,
    /// Stop (info 4) when the cosine between f and every column of J is at most `gtol`.
    /// Must be ≥ 0.
    pub gtol: f64,
    /// Stop (info 5) once this many residual evaluations have been made (checked only
    /// after a trial step, so `maxfev = 1` gives 2). For LMDIF the count includes the
    /// finite-difference evaluations. Must be ≥ 1.
    pub maxfev: usize,
    /// Initial radius Δ₀ = factor·‖D·x₀‖ (or `factor` if that is zero). Must be > 0;
    /// MINPACK recommends 100, scipy's default.
    pub factor: f64,
    /// `Some(d)`: MINPACK mode 2, fixed scaling `D = diag(d)` (length n, all > 0).
    /// `None`: mode 1, `D` from the Jacobian's column norms, never decreasing.
    pub diag: Option<Vec<f64>>,
}

impl LmderParams {
    /// scipy `leastsq` defaults with a `Dfun` (LMDER): ftol = xtol = 1.49012e-8, gtol = 0,
    /// maxfev = 100·(n+1), factor = 100, mode 1.
    #[cfg(test)]
    pub fn leastsq(n: usize) -> Self {
        Self {
            ftol: 1.49012e-8,
            xtol: 1.49012e-8,
            gtol: 0.0,
            maxfev: n.saturating_add(1).saturating_mul(100),
            factor: 100.0,
            diag: None,
        }
    }

    /// scipy `leastsq` defaults without a `Dfun` (LMDIF): as [`LmderParams::leastsq`] but
    /// maxfev = 200·(n+1), since the count includes the finite-difference evaluations.
    #[cfg(test)]
    pub fn leastsq_lmdif(n: usize) -> Self {
        Self {
            maxfev: n.saturating_add(1).saturating_mul(200),
            ..Self::leastsq(n)
        }
    }

    /// What `least_squares(method='lm')` passes with its defaults: ftol = xtol = gtol =
    /// 1e-8, maxfev = 100·n, factor = 100, mode 1 (`x_scale='jac'`).
    #[cfg(test)]
    pub fn least_squares(n: usize) -> Self {
        Self {
            ftol: 1e-8,
            xtol: 1e-8,
            gtol: 1e-8,
            maxfev: n.saturating_mul(100),
            factor: 100.0,
            diag: None,
        }
    }
}

/// What LMDER/LMDIF leave behind (besides `x` and `fvec`, which are updated in place and
/// hold the last accepted point and its residuals).
#[derive(Debug, Clone, PartialEq)]
pub struct LmderOutput {
    /// MINPACK `info`: 0 improper input (nothing evaluated), 1 ftol, 2 xtol, 3 ftol and
    /// xtol, 4 gtol, 5 maxfev reached, 6/7/8 ftol/xtol/gtol too small. −1 when a user
    /// callback failed (MINPACK's negative `iflag`); this value only appears inside `Err`.
    pub info: i32,
    /// Number of residual evaluations (for LMDIF including the finite-difference ones).
    pub nfev: usize,
    /// Number of Jacobians formed (analytic calls for LMDER; finite-difference Jacobians
    /// for LMDIF, which scipy's `leastsq` does not report).
    pub njev: usize,
    /// The m×n column-major work array as MINPACK leaves it: `R` (of `J·P = Q·R`, for the
    /// last Jacobian) in the upper triangle of the top n×n block; Householder vectors and
    /// lmpar's `S` below it. Empty when `info == 0`.
    pub fjac: Vec<f64>,
    /// 0-based permutation: column `j` of `R` belongs to variable `ipvt[j]`. Empty when
    /// `info == 0`.
    pub ipvt: Vec<usize>,
    /// First n entries of `Qᵀf` from the last factorisation. Empty when `info == 0`.
    pub qtf: Vec<f64>,
    /// ‖f‖ at the returned point (`enorm(fvec)`); NaN if the very first residual
    /// evaluation failed and 0 when `info == 0` (nothing was evaluated).
    pub fnorm: f64,
}

impl LmderOutput {
    /// Output for improper input: nothing evaluated.
    fn improper() -> Self {
        Self {
            info: 0,
            nfev: 0,
            njev: 0,
            fjac: Vec::new(),
            ipvt: Vec::new(),
            qtf: Vec::new(),
            fnorm: 0.0,
        }
    }
}

/// A least-squares problem for [`lmder()`]: residuals and an analytic Jacobian.
///
/// Either callback may fail with the caller's error; [`lmder()`] then stops at once and
/// returns it together with the partial output (x and fvec hold the best accepted point).
pub trait LmSystem {
    /// The caller's error type, passed through unchanged.
    type Error;

    /// Writes f(x) into `f` (length m).
    ///
    /// # Errors
    /// Any error stops the solver immediately.
    fn residuals(&mut self, x: &[f64], f: &mut [f64]) -> Result<(), Self::Error>;

    /// Writes J(x) column-major into `fjac` (m×n, `fjac[i + j·m] = ∂fᵢ/∂xⱼ`). Every entry
    /// must be written: the buffer holds the previous factorisation. `f_at_x` is f(x), for
    /// callers that difference numerically.
    ///
    /// # Errors
    /// Any error stops the solver immediately.
    fn jacobian(&mut self, x: &[f64], f_at_x: &[f64], fjac: &mut [f64]) -> Result<(), Self::Error>;
}

/// Buffers for LMDER/LMDIF, sized for (m, n) once and reused across calls.
///
/// Passing a workspace of another size is allowed: it is resized at the start of the call
/// (outside the iteration loop). Nothing is allocated inside the iteration loop.
#[derive(Debug, Clone, Default)]
pub struct LmWorkspace {
    m: usize,
    n: usize,
    /// m×n Jacobian, overwritten by its QR factorisation.
    fjac: Vec<f64>,
    /// Scaling D (by variable).
    diag: Vec<f64>,
    /// First n entries of Qᵀf.
    qtf: Vec<f64>,
    /// Pivot permutation.
    ipvt: Vec<usize>,
    /// Diagonal of R from qrfac.
    rdiag: Vec<f64>,
    /// Column norms of J (by variable).
    acnorm: Vec<f64>,
    /// qrfac scratch.
    qr_wa: Vec<f64>,
    /// lmpar's x, then the step p = −x.
    step: Vec<f64>,
    /// Diagonal of S from lmpar/qrsolv.
    sdiag: Vec<f64>,
    /// lmpar scratch.
    lm_wa1: Vec<f64>,
    /// lmpar scratch.
    lm_wa2: Vec<f64>,
    /// Trial point x + p, then D·x after acceptance.
    x_trial: Vec<f64>,
    /// D·x, D·p, then R·Pᵀ·p (length n).
    wn: Vec<f64>,
    /// Qᵀf scratch, finite-difference scratch, then f(x + p) (length m).
    wm: Vec<f64>,
}

impl LmWorkspace {
    /// MINPACK's R (upper triangle of the column-major m×n `fjac`) and its pivots after
    /// lmder: what `leastsq`'s `cov_x` is computed from.
    pub fn r_factor(&self) -> (&[f64], &[usize]) {
        (&self.fjac, &self.ipvt)
    }

    /// Allocates all buffers for m residuals and n parameters.
    pub fn new(m: usize, n: usize) -> Self {
        let mut w = Self::default();
        w.ensure(m, n);
        w
    }

    /// Number of residuals the buffers are sized for.
    #[cfg(test)]
    pub fn m(&self) -> usize {
        self.m
    }

    /// Number of parameters the buffers are sized for.
    #[cfg(test)]
    pub fn n(&self) -> usize {
        self.n
    }

    /// Resizes the buffers for (m, n) if needed; `m·n` must not overflow (checked by the
    /// caller).
    fn ensure(&mut self, m: usize, n: usize) {
        if self.m == m && self.n == n && self.fjac.len() == m * n {
            return;
        }
        self.m = m;
        self.n = n;
        self.fjac.resize(m * n, 0.0);
        for v in [
            &mut self.diag,
            &mut self.qtf,
            &mut self.rdiag,
            &mut self.acnorm,
            &mut self.qr_wa,
            &mut self.step,
            &mut self.sdiag,
            &mut self.lm_wa1,
            &mut self.lm_wa2,
            &mut self.x_trial,
            &mut self.wn,
        ] {
            v.resize(n, 0.0);
        }
        self.ipvt.resize(n, 0);
        self.wm.resize(m, 0.0);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn params_constructors_match_scipy_defaults() {
        // scipy 1.17 `leastsq`: ftol = xtol = 1.49012e-8, gtol = 0, factor 100,
        // maxfev 100·(n+1) with Dfun and 200·(n+1) without; `least_squares(method='lm')`:
        // ftol = xtol = gtol = 1e-8, max_nfev 100·n (spec §9.1, §11.1).
        let p = LmderParams::leastsq(3);
        assert_eq!(
            (p.ftol, p.xtol, p.gtol, p.maxfev, p.factor),
            (1.49012e-8, 1.49012e-8, 0.0, 400, 100.0)
        );
        assert!(p.diag.is_none());
        assert_eq!(LmderParams::leastsq_lmdif(3).maxfev, 800);
        let p = LmderParams::least_squares(3);
        assert_eq!(
            (p.ftol, p.xtol, p.gtol, p.maxfev, p.factor),
            (1e-8, 1e-8, 1e-8, 300, 100.0)
        );
        assert_eq!(LmderParams::leastsq(usize::MAX).maxfev, usize::MAX);
    }

    #[test]
    fn workspace_new_sizes_buffers() {
        let w = LmWorkspace::new(7, 3);
        assert_eq!(
            (w.m(), w.n(), w.fjac.len(), w.wm.len(), w.qtf.len()),
            (7, 3, 21, 7, 3)
        );
    }

    #[test]
    fn dot_starts_from_positive_zero() {
        assert_eq!(dot(&[-0.0], &[1.0]).to_bits(), 0.0_f64.to_bits());
        assert_eq!(dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod test_util {
    use super::qrfac::qrfac;

    /// Tiny seeded LCG (Knuth's MMIX constants) so tests need no RNG crate.
    pub(crate) struct Lcg(u64);

    impl Lcg {
        pub(crate) fn new(seed: u64) -> Self {
            Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
        }

        /// Uniform in [−1, 1).
        pub(crate) fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
        }
    }

    /// Solves the n×n column-major system `h·z = g` in place (z in g) by Gaussian
    /// elimination with partial pivoting. Test-only reference solver.
    pub(crate) fn solve_dense(n: usize, h: &mut [f64], g: &mut [f64]) {
        for k in 0..n {
            let p = (k..n)
                .max_by(|&a, &b| h[a + k * n].abs().total_cmp(&h[b + k * n].abs()))
                .unwrap();
            if p != k {
                for c in 0..n {
                    h.swap(k + c * n, p + c * n);
                }
                g.swap(k, p);
            }
            for i in k + 1..n {
                let f = h[i + k * n] / h[k + k * n];
                for c in k..n {
                    h[i + c * n] -= f * h[k + c * n];
                }
                g[i] -= f * g[k];
            }
        }
        for k in (0..n).rev() {
            let mut s = g[k];
            for c in k + 1..n {
                s -= h[k + c * n] * g[c];
            }
            g[k] = s / h[k + k * n];
        }
    }

    /// Factor `a` (m×n col-major) and return (fjac, ipvt, qtb) as LMDER would hold them.
    pub(crate) fn factor(
        m: usize,
        n: usize,
        a: &[f64],
        b: &[f64],
    ) -> (Vec<f64>, Vec<usize>, Vec<f64>) {
        let mut fj = a.to_vec();
        let mut ipvt = vec![0; n];
        let mut rdiag = vec![0.0; n];
        let mut acnorm = vec![0.0; n];
        let mut wa = vec![0.0; n];
        qrfac(m, n, &mut fj, &mut ipvt, &mut rdiag, &mut acnorm, &mut wa);
        // Qᵀb exactly as LMDER forms it, then restore R's diagonal.
        let mut w = b.to_vec();
        let mut qtb = vec![0.0; n];
        for j in 0..n {
            let col = &fj[j * m..(j + 1) * m];
            if col[j] != 0.0 {
                let s: f64 = (j..m).map(|i| col[i] * w[i]).sum();
                let t = -s / col[j];
                for i in j..m {
                    w[i] += col[i] * t;
                }
            }
            fj[j * m + j] = rdiag[j];
            qtb[j] = w[j];
        }
        (fj, ipvt, qtb)
    }

    /// Solves (AᵀA + D²) z = Aᵀb densely.
    pub(crate) fn damped_normal_solve(
        m: usize,
        n: usize,
        a: &[f64],
        d: &[f64],
        b: &[f64],
    ) -> Vec<f64> {
        let mut h = vec![0.0; n * n];
        let mut g = vec![0.0; n];
        for p in 0..n {
            for q in 0..n {
                h[p + q * n] = (0..m).map(|i| a[i + p * m] * a[i + q * m]).sum();
            }
            h[p + p * n] += d[p] * d[p];
            g[p] = (0..m).map(|i| a[i + p * m] * b[i]).sum();
        }
        solve_dense(n, &mut h, &mut g);
        g
    }
}
