//! `curve_fit` for many rows by the lock-step engine: the rows' model values come from
//! one [`BlockModel`] call per round (a vectorized Python function, a formula, or a
//! Rust model fit by fit), are turned into weighted residuals `(model − y)/σ` here, and
//! the covariance comes from the normal equations the engine already holds.

use super::batch_options::{BatchCurveFit, BatchCurveFitOptions, BatchSigma, check_rows};
use super::covariance::scale_unscaled;
use rayon::prelude::*;

use crate::batch::{FitOutcome, in_pool};
use crate::error::{CallbackError, Error};
use crate::lockstep::{BlockModel, Evaluation, LockstepOptions};
use crate::options::JacSpec;

/// Rows of y as residuals of a block model of values: `(v − y)/σ`, 0 (and a zero J
/// row) where y is not finite, NaN for a row with fewer than n finite points (the row
/// then fails as "not finite at its start").
struct CurveRows<'a, B: ?Sized> {
    values: &'a B,
    y: &'a [f64],
    sigma: BatchSigma<'a>,
    /// Finite y per row.
    valid: Vec<usize>,
    n: usize,
    m: usize,
}

impl<B: ?Sized> CurveRows<'_, B> {
    fn weight(&self, k: usize, i: usize) -> f64 {
        match self.sigma {
            BatchSigma::None => 1.0,
            BatchSigma::PerPoint(s) if s.len() == 1 => 1.0 / s[0],
            BatchSigma::PerPoint(s) => 1.0 / s[i],
            BatchSigma::PerFit(s) => 1.0 / s[k * self.m + i],
        }
    }
}

impl<B: BlockModel + ?Sized> BlockModel for CurveRows<'_, B> {
    fn num_residuals(&self) -> usize {
        self.m
    }

    fn eval(&self, e: Evaluation<'_>) -> Result<(), CallbackError> {
        let Evaluation { fits, x, f, jac } = e;
        let (n, m) = (self.n, self.m);
        self.values.eval(Evaluation { fits, x, f, jac })?;
        let rows = f.chunks_exact_mut(m).zip(jac.chunks_exact_mut(m * n));
        for (&k, (fr, jr)) in fits.iter().zip(rows) {
            if self.valid[k] < n || self.valid[k] == 0 {
                fr.fill(f64::NAN);
                continue;
            }
            let y = &self.y[k * m..(k + 1) * m];
            if self.valid[k] == m && matches!(self.sigma, BatchSigma::None) {
                // No weights, every point used: the residual is v − y, J as it is.
                fr.iter_mut().zip(y).for_each(|(fi, yi)| *fi -= yi);
                continue;
            }
            let rows = fr.iter_mut().zip(jr.chunks_exact_mut(n)).zip(y);
            for (i, ((fi, ji), &yi)) in rows.enumerate() {
                if yi.is_finite() {
                    let w = self.weight(k, i);
                    *fi = (*fi - yi) * w;
                    ji.iter_mut().for_each(|v| *v *= w);
                } else {
                    *fi = 0.0;
                    ji.fill(0.0);
                }
            }
        }
        Ok(())
    }
}

/// [`curve_fit_batch`](super::curve_fit_batch) by the lock-step engine for a model
/// given as a [`BlockModel`] whose "residuals" are the model's values at the M shared
/// x (fit k's values at its parameters; the fit index only says which row is asked
/// for): weights 1/σ, points with non-finite y left out, pcov = `(JᵀJ)⁻¹` at the
/// solution scaled by χ²/(M′ − n) unless `absolute_sigma`. `opts.solver` and
/// `opts.method` are not used; `opts.options.jac` says nothing either (the block model
/// brings its Jacobian: wrap a value-only model in [`Differenced`](crate::Differenced)).
///
/// # Errors
/// As [`curve_fit_batch`](super::curve_fit_batch); an error of the model stops the
/// batch and is returned as it is.
///
/// ```
/// use trustfit::{curve_fit_batch_lockstep, BatchCurveFitOptions, BlockValues, CallbackError, Differenced, Starts};
/// /// a·exp(b·t) at t = 0, 0.5, …, 2.5 for every fit asked for.
/// struct Decay;
/// impl BlockValues for Decay {
///     fn num_residuals(&self) -> usize { 6 }
///     fn values(&self, _fits: &[usize], p: &[f64], out: &mut [f64]) -> Result<(), CallbackError> {
///         for (pk, vk) in p.chunks_exact(2).zip(out.chunks_exact_mut(6)) {
///             for i in 0..6 { vk[i] = pk[0] * (pk[1] * (i as f64 * 0.5)).exp(); }
///         }
///         Ok(())
///     }
/// }
/// let y: Vec<f64> = (0..3).flat_map(|k| (0..6).map(move |i| (1.0 + k as f64) * (-0.5 * i as f64 * 0.5).exp())).collect();
/// let opts = BatchCurveFitOptions::new(Starts::Shared(&[1.0, 0.0]));
/// let fit = curve_fit_batch_lockstep(&Differenced::new(Decay, 2), &y, &opts).unwrap();
/// assert!((fit.popt(2)[0] - 3.0).abs() < 1e-6 && (fit.popt(2)[1] + 0.5).abs() < 1e-6);
/// ```
pub fn curve_fit_batch_lockstep<B: BlockModel + ?Sized>(
    model: &B,
    ydata: &[f64],
    opts: &BatchCurveFitOptions<'_>,
) -> Result<BatchCurveFit, Error> {
    let m = model.num_residuals();
    let k = check_rows(ydata, m, &opts.sigma)?;
    let mut lockstep = lockstep_options(opts)?;
    let n = match opts.p0 {
        crate::Starts::Shared(p) => p.len(),
        crate::Starts::PerFit(p) => p.len().checked_div(k).unwrap_or(0),
    };
    // One pool for the passes over the rows and the run (which then uses it).
    in_pool(lockstep.threads.take(), || {
        let rows = CurveRows {
            values: model,
            y: ydata,
            sigma: opts.sigma,
            valid: ydata
                .par_chunks_exact(m.max(1))
                .map(|r| r.iter().filter(|v| v.is_finite()).count())
                .collect(),
            n,
            m,
        };
        let (result, mut pcov) = crate::lockstep::run(&rows, k, opts.p0, &lockstep, true)?;
        let scaled = pcov.par_chunks_exact_mut(n * n).zip(&result.fits);
        scaled.zip(&rows.valid).for_each(|((cov, fit), valid)| {
            if matches!(fit.outcome, FitOutcome::Solved(_)) {
                scale_unscaled(cov, 2.0 * fit.cost, *valid, n, opts.absolute_sigma);
            }
        });
        Ok(BatchCurveFit {
            n: result.n,
            popt: result.x,
            pcov,
            fits: result.fits,
        })
    })?
}

/// The lock-step engine's options for a batch `curve_fit`.
fn lockstep_options(opts: &BatchCurveFitOptions<'_>) -> Result<LockstepOptions, Error> {
    let o = &opts.options;
    if !matches!(o.loss, crate::Loss::Linear) {
        return Err(Error::option(
            "loss",
            "the lock-step solver fits the linear loss only; use BatchSolver::PerFit (trf) for robust losses.",
        ));
    }
    if !matches!(o.jac, JacSpec::Analytic | JacSpec::TwoPoint) {
        return Err(Error::option(
            "jac",
            "the lock-step solver takes the model's Jacobian or '2-point' differences.",
        ));
    }
    let defaults = LockstepOptions::default();
    Ok(LockstepOptions {
        ftol: o.ftol.unwrap_or(defaults.ftol),
        xtol: o.xtol.unwrap_or(defaults.xtol),
        gtol: o.gtol.unwrap_or(defaults.gtol),
        max_nfev: o.max_nfev,
        bounds: opts.bounds.clone(),
        threads: opts.threads,
        block: opts.block,
    })
}
