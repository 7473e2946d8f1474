//! `curve_fit` for many data sets at once — one model, shared x, K rows of y (per pixel,
//! per sample) — on every core: each row is weighted and fitted as [`curve_fit`](super::curve_fit)
//! fits it alone, and gets its covariance from the J at its solution, with no
//! exception for a row that fails (its status says why, its parameters are NaN).

use super::batch_lockstep::curve_fit_batch_lockstep;
use super::batch_options::{
    BatchCurveFit, BatchCurveFitOptions, BatchSigma, BatchSolver, check_rows,
};
use super::covariance::{PinvJtj, cov_from_r_into, scale_unscaled};
use super::curve_fit::method_for;
use crate::batch::{PerFit, Starts, solve_each};
use crate::error::{CallbackError, Error, ErrorKind};
use crate::lockstep::PerFitModel;
use crate::options::{JacSpec, Options};
use crate::problem::Residuals;

/// One row as its own problem: `(model(p) − y)/σ`, with the points whose y is not
/// finite left out (their residual and J row 0); NaN residuals when fewer than n
/// points remain, so that the row fails as "not finite at the start".
struct Row<'a, M: ?Sized> {
    model: &'a M,
    y: &'a [f64],
    sigma: &'a [f64],
    /// Points with a finite y.
    valid: usize,
    n: usize,
    /// Offer the model's Jacobian (false: differences).
    analytic: bool,
}

impl<M: Residuals + ?Sized> Row<'_, M> {
    fn weight(&self, i: usize) -> f64 {
        match self.sigma.len() {
            0 => 1.0,
            1 => 1.0 / self.sigma[0],
            _ => 1.0 / self.sigma[i],
        }
    }
}

impl<M: Residuals + ?Sized> Residuals for Row<'_, M> {
    fn num_residuals(&self) -> usize {
        self.y.len()
    }

    fn residuals(&self, p: &[f64], f: &mut [f64]) -> Result<(), CallbackError> {
        if self.valid < self.n || self.valid == 0 {
            f.fill(f64::NAN);
            return Ok(());
        }
        self.model.residuals(p, f)?;
        for (i, (fi, &yi)) in f.iter_mut().zip(self.y).enumerate() {
            *fi = if yi.is_finite() {
                (*fi - yi) * self.weight(i)
            } else {
                0.0
            };
        }
        Ok(())
    }

    fn has_jacobian(&self) -> bool {
        self.analytic && self.model.has_jacobian()
    }

    fn jacobian(&self, p: &[f64], jac: &mut [f64]) -> Result<(), CallbackError> {
        self.model.jacobian(p, jac)?;
        let n = self.n;
        for (i, (row, &yi)) in jac.chunks_exact_mut(n).zip(self.y).enumerate() {
            let w = if yi.is_finite() { self.weight(i) } else { 0.0 };
            row.iter_mut().for_each(|v| *v *= w);
        }
        Ok(())
    }
}

/// Fits `model` to every row of `ydata` (row-major K×M, M = `model.num_residuals()`,
/// the model's "residuals" being its values at the M shared x) as scipy's `curve_fit`
/// would fit each row alone: weights 1/σ, lm (or trf with bounds), and pcov as
/// `curve_fit` computes it — from MINPACK's R with lm, from J at the solution otherwise —
/// scaled by χ²/(M′ − n) unless `absolute_sigma` (M′ counts the row's finite y: points
/// whose y is NaN or ±∞ are left out). A row with fewer than n
/// finite points, a failing model, or a singular covariance fails alone: its outcome
/// says why and its parameters are NaN. Results are the same for any thread count.
///
/// # Errors
/// A ydata length that is not a multiple of M, σ of the wrong shape or not finite and
/// nonzero, lm with bounds, invalid options (checked once, before any fit).
///
/// ```
/// use trustfit::{curve_fit_batch, from_fn, BatchCurveFitOptions, Starts};
/// // y = a·exp(b·t) at 6 shared t, 3 rows of data.
/// let t: Vec<f64> = (0..6).map(|i| i as f64 * 0.5).collect();
/// let model = from_fn(6, |p: &[f64], out: &mut [f64]| {
///     for i in 0..6 { out[i] = p[0] * (p[1] * (i as f64 * 0.5)).exp(); }
/// });
/// let y: Vec<f64> = (0..3)
///     .flat_map(|k| t.iter().map(move |&t| (1.0 + k as f64) * (-0.5 * t).exp()))
///     .collect();
/// let fit = curve_fit_batch(&model, &y, &BatchCurveFitOptions::new(Starts::Shared(&[1.0, 0.0]))).unwrap();
/// assert!((fit.popt(2)[0] - 3.0).abs() < 1e-6 && (fit.popt(2)[1] + 0.5).abs() < 1e-6);
/// assert!(fit.fits.iter().all(|f| f.outcome.success()));
/// ```
pub fn curve_fit_batch<M>(
    model: &M,
    ydata: &[f64],
    opts: &BatchCurveFitOptions<'_>,
) -> Result<BatchCurveFit, Error>
where
    M: Residuals + Sync + ?Sized,
{
    let m = model.num_residuals();
    let k = check_rows(ydata, m, &opts.sigma)?;
    if opts.solver == BatchSolver::Lockstep && opts.method.is_some() {
        return Err(Error::option(
            "method",
            "does not apply to the lock-step solver (it is Levenberg–Marquardt); use BatchSolver::PerFit for trf, dogbox or lm.",
        ));
    }
    let method = method_for(opts.method, &opts.bounds)?;
    let options = Options {
        method,
        bounds: opts.bounds.clone(),
        ..opts.options.clone()
    };
    let n = match opts.p0 {
        Starts::Shared(p) => p.len(),
        Starts::PerFit(p) => p.len().checked_div(k).unwrap_or(0),
    };
    let row = |r: usize| {
        let y = &ydata[r * m..(r + 1) * m];
        let sigma = match opts.sigma {
            BatchSigma::None => &[][..],
            BatchSigma::PerPoint(s) => s,
            BatchSigma::PerFit(s) => &s[r * m..(r + 1) * m],
        };
        let valid = y.iter().filter(|v| v.is_finite()).count();
        Row {
            model,
            y,
            sigma,
            valid,
            n,
            analytic: opts.options.jac == JacSpec::Analytic,
        }
    };
    let absolute = opts.absolute_sigma;
    if opts.solver == BatchSolver::Lockstep {
        let values = PerFitModel::new(m, |_k: usize| model);
        return if opts.options.jac == JacSpec::Analytic {
            curve_fit_batch_lockstep(&values, ydata, opts)
        } else {
            curve_fit_batch_lockstep(&values.differenced(), ydata, opts)
        };
    }
    let each = PerFit {
        len: n * n,
        scratch: || (PinvJtj::new(m, n), vec![0.0; n * n]),
        write: |(pinv, scratch): &mut (PinvJtj, Vec<f64>),
                p: &Row<'_, M>,
                s: &crate::Solution<'_>,
                cov: &mut [f64]| {
            match s.lm_r {
                // lm: `leastsq`'s cov_x from MINPACK's R, as scipy's curve_fit (NaN, then
                // +∞ below, when R is singular).
                Some((fjac, ipvt)) => {
                    if !cov_from_r_into((fjac, ipvt), (m, n), scratch, cov) {
                        cov.fill(f64::NAN);
                    }
                }
                None => pinv
                    .compute(s.jac, m, n, cov)
                    .map_err(|_| ErrorKind::LinearAlgebra)?,
            }
            scale_unscaled(cov, 2.0 * s.cost, p.valid, n, absolute);
            Ok(())
        },
    };
    let (result, pcov) = solve_each(k, row, opts.p0, &options, opts.threads, each)?;
    Ok(BatchCurveFit {
        n: result.n,
        popt: result.x,
        pcov,
        fits: result.fits,
    })
}
