//! `lmpar`: choose the Levenberg–Marquardt parameter for a trust radius (spec §9.4).
//!
//! Given `A·P = Q·R`, a scaling diagonal `D` and a radius Δ, find `par ≥ 0` such that the
//! solution `x` of `min ‖[A; √par·D]x − [b; 0]‖` satisfies `‖D·x‖ ≈ Δ` (within 10 %), or
//! `par = 0` when the Gauss–Newton step already lies inside the region. This is Moré's
//! (1977) safeguarded Newton iteration on `φ(par) = ‖D·x(par)‖ − Δ`, with lower/upper
//! bounds `parl`/`paru` that bracket the root. It stops after at most 10 evaluations of φ,
//! which both bounds the cost and guarantees termination with non-finite data.
//!
//! Every branch and every division order below matches the C port, because `par` and the
//! returned step feed straight into LMDER's acceptance test.

use super::DWARF;
use super::dot;
use super::enorm::enorm;
use super::qrsolv::qrsolv;

/// Maximum number of φ evaluations (qrsolv calls) per `lmpar` call, as in MINPACK.
const MAX_ITER: usize = 10;

/// Computes the Levenberg–Marquardt parameter and the corresponding step.
///
/// * `r`: column-major, leading dimension `ldr ≥ n`; the upper triangle of the top n×n
///   block holds `R` from `qrfac` (with its true diagonal). On exit the upper triangle is
///   unchanged and the strict lower triangle holds `S` (see [`qrsolv`]).
/// * `ipvt`, `diag` (indexed by variable, all entries > 0 in practice), `qtb` (first n
///   entries of `Qᵀb`), `delta` (> 0): inputs.
/// * `par`: initial estimate (LMDER passes the previous value).
/// * `x` (out): the step solving the damped problem for the returned `par` (LMDER's step is
///   `−x`). `sdiag` (out): diagonal of `S` (meaningful only when `par > 0` was tried).
///   `wa1`, `wa2`: scratch. All length ≥ n.
///
/// Returns the new `par`.
pub fn lmpar(
    n: usize,
    r: &mut [f64],
    ldr: usize,
    ipvt: &[usize],
    diag: &[f64],
    qtb: &[f64],
    delta: f64,
    par: f64,
    x: &mut [f64],
    sdiag: &mut [f64],
    wa1: &mut [f64],
    wa2: &mut [f64],
) -> f64 {
    debug_assert!(ldr >= n && r.len() >= ldr * n);
    debug_assert!(ipvt.len() >= n && diag.len() >= n && qtb.len() >= n);
    debug_assert!(x.len() >= n && sdiag.len() >= n && wa1.len() >= n && wa2.len() >= n);
    let wa1 = &mut wa1[..n];
    let wa2 = &mut wa2[..n];
    let diag = &diag[..n];

    // Gauss–Newton direction; if R is singular, a least-squares solution of the leading
    // nonsingular block (trailing components zero).
    let nsing = (0..n).position(|j| r[j * ldr + j] == 0.0).unwrap_or(n);
    wa1[..nsing].copy_from_slice(&qtb[..nsing]);
    wa1[nsing..].fill(0.0);
    for j in (0..nsing).rev() {
        let col = &r[j * ldr..j * ldr + j + 1];
        wa1[j] /= col[j];
        let temp = wa1[j];
        for (w, &rij) in wa1[..j].iter_mut().zip(&col[..j]) {
            *w -= rij * temp;
        }
    }
    for j in 0..n {
        x[ipvt[j]] = wa1[j];
    }

    // φ(0): accept the Gauss–Newton step if it is (nearly) inside the region.
    for ((w, &d), &xj) in wa2.iter_mut().zip(diag).zip(&x[..n]) {
        *w = d * xj;
    }
    let mut dxnorm = enorm(wa2);
    let mut fp = dxnorm - delta;
    if fp <= 0.1 * delta {
        return 0.0;
    }

    // Lower bound parl from the Newton step at par = 0 (only if R is nonsingular;
    // otherwise φ'(0) is not available and the bound is zero).
    let mut parl = 0.0_f64;
    if nsing == n {
        for j in 0..n {
            let l = ipvt[j];
            wa1[j] = diag[l] * (wa2[l] / dxnorm);
        }
        for j in 0..n {
            let col = &r[j * ldr..j * ldr + j + 1];
            let sum = dot(&col[..j], &wa1[..j]);
            wa1[j] = (wa1[j] - sum) / col[j];
        }
        let temp = enorm(wa1);
        parl = ((fp / delta) / temp) / temp;
    }

    // Upper bound paru = ‖(R·Pᵀ·D⁻¹)ᵀ·qtb‖ / Δ, the scaled gradient norm over Δ.
    for j in 0..n {
        let col = &r[j * ldr..j * ldr + j + 1];
        let sum = dot(col, &qtb[..=j]);
        wa1[j] = sum / diag[ipvt[j]];
    }
    let gnorm = enorm(wa1);
    let mut paru = gnorm / delta;
    if paru == 0.0 {
        paru = DWARF / delta.min(0.1);
    }

    // Clamp the starting par into [parl, paru].
    let mut par = par.max(parl).min(paru);
    if par == 0.0 {
        par = gnorm / dxnorm;
    }

    let mut iter = 0;
    loop {
        iter += 1;
        if par == 0.0 {
            par = DWARF.max(paru * 0.001);
        }
        let sqrt_par = par.sqrt();
        for (w, &d) in wa1.iter_mut().zip(diag) {
            *w = sqrt_par * d;
        }
        qrsolv(n, r, ldr, ipvt, wa1, qtb, x, sdiag, wa2);
        for ((w, &d), &xj) in wa2.iter_mut().zip(diag).zip(&x[..n]) {
            *w = d * xj;
        }
        dxnorm = enorm(wa2);
        let previous_fp = fp;
        fp = dxnorm - delta;

        // Accept when within 10 % of Δ, when φ is decreasing but still negative with no
        // lower bound to exploit, or after MAX_ITER evaluations.
        if fp.abs() <= 0.1 * delta
            || (parl == 0.0 && fp <= previous_fp && previous_fp < 0.0)
            || iter == MAX_ITER
        {
            return par;
        }

        // Newton correction parc = φ / φ′, using S from qrsolv.
        for j in 0..n {
            let l = ipvt[j];
            wa1[j] = diag[l] * (wa2[l] / dxnorm);
        }
        for j in 0..n {
            wa1[j] /= sdiag[j];
            let temp = wa1[j];
            let col = &r[j * ldr + j + 1..j * ldr + n];
            for (w, &sij) in wa1[j + 1..].iter_mut().zip(col) {
                *w -= sij * temp;
            }
        }
        let temp = enorm(wa1);
        let parc = ((fp / delta) / temp) / temp;

        // Tighten the bracket, then take the safeguarded Newton step.
        if fp > 0.0 {
            parl = parl.max(par);
        }
        if fp < 0.0 {
            paru = paru.min(par);
        }
        par = parl.max(par + parc);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::enorm::enorm;
    use super::super::test_util::{Lcg, damped_normal_solve, factor};
    use super::*;

    /// Agreement of the lmpar step with an independent dense solve of
    /// `(JᵀJ + par·D²) x = Jᵀb` at the returned par: normal equations square κ, so 1e-10
    /// relative on these random, well-conditioned problems.
    const NORMAL_EQ_RTOL: f64 = 1e-10;

    /// lmpar's own acceptance band: |‖D·x‖ − Δ| ≤ 0.1·Δ (plus a hair for rounding).
    const RADIUS_BAND: f64 = 0.1 + 1e-12;

    struct Problem {
        m: usize,
        n: usize,
        a: Vec<f64>,
        b: Vec<f64>,
        d: Vec<f64>,
    }

    fn random_problem(rng: &mut Lcg, m: usize, n: usize) -> Problem {
        Problem {
            m,
            n,
            a: (0..m * n).map(|_| rng.uniform()).collect(),
            b: (0..m).map(|_| 3.0 * rng.uniform()).collect(),
            d: (0..n).map(|_| 0.5 + rng.uniform().abs()).collect(),
        }
    }

    fn run(p: &Problem, delta: f64, par0: f64) -> (f64, Vec<f64>) {
        let (mut fj, ipvt, qtb) = factor(p.m, p.n, &p.a, &p.b);
        let mut x = vec![0.0; p.n];
        let mut sdiag = vec![0.0; p.n];
        let mut wa1 = vec![0.0; p.n];
        let mut wa2 = vec![0.0; p.n];
        let par = lmpar(
            p.n, &mut fj, p.m, &ipvt, &p.d, &qtb, delta, par0, &mut x, &mut sdiag, &mut wa1,
            &mut wa2,
        );
        (par, x)
    }

    #[test]
    fn lmpar_returns_gauss_newton_step_when_inside_region() {
        let mut rng = Lcg::new(11);
        let p = random_problem(&mut rng, 7, 3);
        let (par, x) = run(&p, 1e6, 0.3);
        assert_eq!(par, 0.0);
        let zero = vec![0.0; p.n];
        let expected = damped_normal_solve(p.m, p.n, &p.a, &zero, &p.b);
        for (xi, ei) in x.iter().zip(&expected) {
            assert!((xi - ei).abs() <= NORMAL_EQ_RTOL * ei.abs().max(1.0));
        }
    }

    #[test]
    fn lmpar_step_solves_damped_normal_equations_and_fits_radius() {
        let mut rng = Lcg::new(5);
        for &(m, n) in &[(2, 2), (6, 3), (10, 5), (20, 8)] {
            for _ in 0..4 {
                let p = random_problem(&mut rng, m, n);
                // Radius a fraction of the Gauss–Newton step so that par > 0 is needed.
                let (_, gn) = run(&p, 1e30, 0.0);
                let dgn: Vec<f64> = gn.iter().zip(&p.d).map(|(x, d)| x * d).collect();
                let delta = 0.3 * enorm(&dgn);
                let (par, x) = run(&p, delta, 0.0);
                assert!(par > 0.0);
                let dx: Vec<f64> = x.iter().zip(&p.d).map(|(x, d)| x * d).collect();
                assert!(
                    (enorm(&dx) - delta).abs() <= RADIUS_BAND * delta,
                    "‖Dx‖={} Δ={delta}",
                    enorm(&dx)
                );
                let sd: Vec<f64> = p.d.iter().map(|d| par.sqrt() * d).collect();
                let expected = damped_normal_solve(m, n, &p.a, &sd, &p.b);
                let scale = expected.iter().fold(1e-300_f64, |s, v| s.max(v.abs()));
                for (xi, ei) in x.iter().zip(&expected) {
                    assert!(
                        (xi - ei).abs() <= NORMAL_EQ_RTOL * scale,
                        "{x:?} vs {expected:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn lmpar_terminates_on_non_finite_data() {
        let m = 3;
        let n = 2;
        let a = vec![1.0, f64::NAN, 0.0, 2.0, 1.0, 1.0];
        let b = vec![1.0, 2.0, 3.0];
        let (mut fj, ipvt, qtb) = factor(m, n, &a, &b);
        let mut x = vec![0.0; n];
        let mut s = vec![0.0; n];
        let mut w1 = vec![0.0; n];
        let mut w2 = vec![0.0; n];
        // Must return (after ≤ 10 iterations) without panicking; the value is NaN garbage.
        let _ = lmpar(
            n,
            &mut fj,
            m,
            &ipvt,
            &[1.0, 1.0],
            &qtb,
            0.5,
            0.0,
            &mut x,
            &mut s,
            &mut w1,
            &mut w2,
        );
    }
}
