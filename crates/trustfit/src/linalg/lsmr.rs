//! LSMR (Fong & Saunders 2011) for `min ‖A x − b‖² + damp²‖x‖²`, in the variant scipy's
//! `least_squares` calls (spec §10): start at x = 0, scipy's stopping tests in scipy's
//! order. `A` is only touched through products, so dense, sparse and matrix-free
//! Jacobians share it. The workspace is allocated once per solve.

/// A linear map `A: Rⁿ → Rᵐ` given by its products.
pub(crate) trait LinearMap {
    /// What a failing product returns (a user's operator can fail).
    type Error;
    /// `m`.
    fn rows(&self) -> usize;
    /// `n`.
    fn cols(&self) -> usize;
    /// `y = A x`.
    fn apply(&self, x: &[f64], y: &mut [f64]) -> Result<(), Self::Error>;
    /// `x = Aᵀ y`.
    fn apply_t(&self, y: &[f64], x: &mut [f64]) -> Result<(), Self::Error>;
}

/// LSMR's parameters (scipy's defaults: atol = btol = 1e-6, conlim = 1e8,
/// maxiter = min(m, n)).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LsmrParams {
    pub damp: f64,
    pub atol: f64,
    pub btol: f64,
    pub conlim: f64,
    pub maxiter: Option<usize>,
}

/// Buffers of one LSMR problem size.
pub(crate) struct Lsmr {
    u: Vec<f64>,
    v: Vec<f64>,
    h: Vec<f64>,
    hbar: Vec<f64>,
    tmp_m: Vec<f64>,
    tmp_n: Vec<f64>,
    /// The solution of the last call.
    pub x: Vec<f64>,
    /// Iterations of the last call.
    pub iterations: usize,
}

/// Euclidean norm with four partial sums (a sequential sum is bound by the add
/// latency; LSMR's vectors are long).
pub(crate) fn norm(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            acc[k] += c[k] * c[k];
        }
    }
    let tail: f64 = rest.iter().map(|a| a * a).sum();
    ((acc[0] + acc[1]) + (acc[2] + acc[3]) + tail).sqrt()
}

/// Stable Givens rotation `(c, s, r)` with `[c s; −s c]·[a; b] = [r; 0]`.
fn sym_ortho(a: f64, b: f64) -> (f64, f64, f64) {
    if b == 0.0 {
        (sign(a), 0.0, a.abs())
    } else if a == 0.0 {
        (0.0, sign(b), b.abs())
    } else if b.abs() > a.abs() {
        let tau = a / b;
        let s = sign(b) / (1.0 + tau * tau).sqrt();
        let c = s * tau;
        (c, s, b / s)
    } else {
        let tau = b / a;
        let c = sign(a) / (1.0 + tau * tau).sqrt();
        let s = c * tau;
        (c, s, a / c)
    }
}

fn sign(a: f64) -> f64 {
    if a > 0.0 {
        1.0
    } else if a < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl Lsmr {
    /// Workspace for an `m × n` operator.
    pub fn new(m: usize, n: usize) -> Self {
        Self {
            u: vec![0.0; m],
            v: vec![0.0; n],
            h: vec![0.0; n],
            hbar: vec![0.0; n],
            tmp_m: vec![0.0; m],
            tmp_n: vec![0.0; n],
            x: vec![0.0; n],
            iterations: 0,
        }
    }

    /// Solves `min ‖A x − b‖² + damp²‖x‖²` into `self.x`.
    pub fn solve<A: LinearMap + ?Sized>(
        &mut self,
        a: &A,
        b: &[f64],
        p: &LsmrParams,
    ) -> Result<(), A::Error> {
        let (m, n) = (a.rows(), a.cols());
        let maxiter = p.maxiter.unwrap_or(m.min(n));
        self.x.fill(0.0);
        self.iterations = 0;
        self.u.copy_from_slice(b);
        let normb = norm(b);
        let mut beta = normb;
        let mut alpha = 0.0;
        if beta > 0.0 {
            let inv = 1.0 / beta;
            self.u.iter_mut().for_each(|u| *u *= inv);
            a.apply_t(&self.u, &mut self.v)?;
            alpha = norm(&self.v);
        } else {
            self.v.fill(0.0);
        }
        if alpha > 0.0 {
            let inv = 1.0 / alpha;
            self.v.iter_mut().for_each(|v| *v *= inv);
        }
        let mut zetabar = alpha * beta;
        let mut alphabar = alpha;
        let (mut rho, mut rhobar, mut cbar, mut sbar) = (1.0, 1.0, 1.0, 0.0);
        self.h.copy_from_slice(&self.v);
        self.hbar.fill(0.0);
        let (mut betadd, mut betad, mut rhodold) = (beta, 0.0, 1.0);
        let (mut tautildeold, mut thetatilde, mut zeta, mut d) = (0.0, 0.0, 0.0, 0.0);
        let mut norm_a2 = alpha * alpha;
        let (mut maxrbar, mut minrbar) = (0.0f64, 1e100f64);
        let ctol = if p.conlim > 0.0 { 1.0 / p.conlim } else { 0.0 };
        if alpha * beta == 0.0 || normb == 0.0 {
            return Ok(());
        }
        let damp = p.damp;
        for itn in 1..=maxiter {
            self.iterations = itn;
            // Golub–Kahan bidiagonalization: the next u, then the next v.
            a.apply(&self.v, &mut self.tmp_m)?;
            beta = next_direction(&mut self.u, &self.tmp_m, alpha);
            if beta > 0.0 {
                a.apply_t(&self.u, &mut self.tmp_n)?;
                alpha = next_direction(&mut self.v, &self.tmp_n, beta);
            }
            let (chat, shat, alphahat) = sym_ortho(alphabar, damp);
            let rhoold = rho;
            let (c, s, r) = sym_ortho(alphahat, beta);
            rho = r;
            let thetanew = s * alpha;
            alphabar = c * alpha;
            let rhobarold = rhobar;
            let zetaold = zeta;
            let thetabar = sbar * rho;
            let rhotemp = cbar * rho;
            let (cb, sb, rb) = sym_ortho(cbar * rho, thetanew);
            cbar = cb;
            sbar = sb;
            rhobar = rb;
            zeta = cbar * zetabar;
            zetabar *= -sbar;
            let hbar_coef = -(thetabar * rho / (rhoold * rhobarold));
            let x_coef = zeta / (rho * rhobar);
            let h_coef = -(thetanew / rho);
            let mut acc = [0.0f64; 4];
            for (k, (((hb, x), h), v)) in self
                .hbar
                .iter_mut()
                .zip(self.x.iter_mut())
                .zip(self.h.iter_mut())
                .zip(&self.v)
                .enumerate()
            {
                *hb = *hb * hbar_coef + *h;
                *x += x_coef * *hb;
                *h = *h * h_coef + v;
                acc[k & 3] += *x * *x;
            }
            let normx = ((acc[0] + acc[1]) + (acc[2] + acc[3])).sqrt();
            // Estimate of ‖r‖.
            let betaacute = chat * betadd;
            let betacheck = -shat * betadd;
            let betahat = c * betaacute;
            betadd = -s * betaacute;
            let thetatildeold = thetatilde;
            let (ctildeold, stildeold, rhotildeold) = sym_ortho(rhodold, thetabar);
            thetatilde = stildeold * rhobar;
            rhodold = ctildeold * rhobar;
            betad = -stildeold * betad + ctildeold * betahat;
            tautildeold = (zetaold - thetatildeold * tautildeold) / rhotildeold;
            let taud = (zeta - thetatilde * tautildeold) / rhodold;
            d += betacheck * betacheck;
            let normr = (d + (betad - taud).powi(2) + betadd * betadd).sqrt();
            // Estimates of ‖A‖ and cond(A).
            norm_a2 += beta * beta;
            let norm_a = norm_a2.sqrt();
            norm_a2 += alpha * alpha;
            maxrbar = maxrbar.max(rhobarold);
            if itn > 1 {
                minrbar = minrbar.min(rhobarold);
            }
            let cond_a = maxrbar.max(rhotemp) / minrbar.min(rhotemp);
            let normar = zetabar.abs();
            let test1 = normr / normb;
            let test2 = if norm_a * normr != 0.0 {
                normar / (norm_a * normr)
            } else {
                f64::INFINITY
            };
            let test3 = 1.0 / cond_a;
            let t1 = test1 / (1.0 + norm_a * normx / normb);
            let rtol = p.btol + p.atol * norm_a * normx / normb;
            let stop = itn >= maxiter
                || 1.0 + test3 <= 1.0
                || 1.0 + test2 <= 1.0
                || 1.0 + t1 <= 1.0
                || test3 <= ctol
                || test2 <= p.atol
                || test1 <= rtol;
            if stop {
                break;
            }
        }
        super::subnormal::check(&self.x);
        Ok(())
    }
}

/// One bidiagonalization step: `x ← t − c·x`, normalised (left as is when it is 0);
/// returns its norm.
fn next_direction(x: &mut [f64], t: &[f64], c: f64) -> f64 {
    for (x, t) in x.iter_mut().zip(t) {
        *x = -c * *x + t;
    }
    let nrm = norm(x);
    if nrm > 0.0 {
        let inv = 1.0 / nrm;
        x.iter_mut().for_each(|v| *v *= inv);
    }
    nrm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LSMR's parameters with `atol = btol = tol` and scipy's conlim.
    fn params(damp: f64, tol: f64, maxiter: usize) -> LsmrParams {
        LsmrParams {
            damp,
            atol: tol,
            btol: tol,
            conlim: 1e8,
            maxiter: Some(maxiter),
        }
    }

    struct Dense {
        m: usize,
        n: usize,
        a: Vec<f64>,
    }

    impl LinearMap for Dense {
        type Error = std::convert::Infallible;
        fn rows(&self) -> usize {
            self.m
        }
        fn cols(&self) -> usize {
            self.n
        }
        fn apply(&self, x: &[f64], y: &mut [f64]) -> Result<(), Self::Error> {
            for i in 0..self.m {
                y[i] = (0..self.n).map(|j| self.a[i * self.n + j] * x[j]).sum();
            }
            Ok(())
        }
        fn apply_t(&self, y: &[f64], x: &mut [f64]) -> Result<(), Self::Error> {
            for j in 0..self.n {
                x[j] = (0..self.m).map(|i| self.a[i * self.n + j] * y[i]).sum();
            }
            Ok(())
        }
    }

    #[test]
    fn solves_a_consistent_overdetermined_system() {
        // A (4×3), b = A·[1, −2, 3]: LSMR must recover x.
        let a = Dense {
            m: 4,
            n: 3,
            a: vec![2.0, 1.0, 0.0, 0.0, 3.0, 1.0, 1.0, 0.0, 4.0, 1.0, 1.0, 1.0],
        };
        let xt = [1.0, -2.0, 3.0];
        let mut b = [0.0; 4];
        a.apply(&xt, &mut b).unwrap();
        let mut ls = Lsmr::new(4, 3);
        let p = params(0.0, 1e-12, 50);
        ls.solve(&a, &b, &p).unwrap();
        for j in 0..3 {
            assert!((ls.x[j] - xt[j]).abs() < 1e-10, "{:?}", ls.x);
        }
    }

    #[test]
    fn damping_solves_the_regularised_normal_equations() {
        // (AᵀA + damp²I) x = Aᵀb for A = diag(1, 2), b = (1, 1), damp = 1 → x = (1/2, 2/5).
        let a = Dense {
            m: 2,
            n: 2,
            a: vec![1.0, 0.0, 0.0, 2.0],
        };
        let mut ls = Lsmr::new(2, 2);
        let p = params(1.0, 1e-14, 20);
        ls.solve(&a, &[1.0, 1.0], &p).unwrap();
        assert!((ls.x[0] - 0.5).abs() < 1e-12 && (ls.x[1] - 0.4).abs() < 1e-12);
    }
}
