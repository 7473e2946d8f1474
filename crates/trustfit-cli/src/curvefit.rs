//! scipy's `curve_fit` for a [`Formula`] with its analytic Jacobian, and the
//! fit statistics the report shows (χ², R², correlations).
//!
//! The steps are scipy's (`curve_fit(f, x, y, p0, sigma, absolute_sigma,
//! bounds, method, jac=analytic, **kwargs)`): residuals `(f(x; p) − y)/σ`;
//! `lm` without bounds, `trf` with bounds (a robust loss also selects `trf`,
//! since scipy's `lm` has none); `lm` runs [`trustfit::leastsq`] with the
//! Jacobian (MINPACK LMDER) and its `cov_x`, `trf`/`dogbox` run
//! [`trustfit::least_squares`] and take [`trustfit::Report::covariance`];
//! the covariance is scaled by `Σr²/(m − n)` unless σ is absolute.
//! The core's [`trustfit::curve_fit`] does the same with finite differences;
//! this module exists because the formula supplies derivatives.

use trustfit::{
    Bounds, Covariance, JacSpec, LeastsqOptions, Loss, Method, Options, Printer, Residuals, from_fn,
};

use std::cell::RefCell;

use crate::formula::{Formula, Workspace};

/// Everything that defines one fit.
#[derive(Debug, Clone)]
pub struct FitSpec {
    /// The model.
    pub formula: Formula,
    /// x columns: `x[j]` holds the values of column [`Formula::columns`]`[j]` at every point.
    pub x: Vec<Vec<f64>>,
    /// Observed values.
    pub y: Vec<f64>,
    /// Standard deviations of `y` (weights 1/σ), if known.
    pub sigma: Option<Vec<f64>>,
    /// σ is absolute: the covariance is not rescaled by the reduced χ².
    pub absolute_sigma: bool,
    /// Initial parameters (in [`Formula::params`] order).
    pub p0: Vec<f64>,
    /// Bounds (lower, upper) per parameter; `None` for unbounded.
    pub bounds: Option<(Vec<f64>, Vec<f64>)>,
    /// Method; `None` chooses as curve_fit does (lm unless bounded, or a robust loss).
    pub method: Option<Method>,
    /// Loss function (trf/dogbox only).
    pub loss: Loss,
    /// Soft margin between inlier and outlier residuals.
    pub f_scale: f64,
    /// Solver progress on standard error: 0 quiet, 1 summary, 2 per iteration (trf/dogbox;
    /// lm prints a one-line summary for 1 and 2).
    pub verbose: u8,
}

/// The method curve_fit would use: `lm` unless bounded (or, here, a robust loss), else `trf`.
///
/// ```
/// use trustfit::{Loss, Method};
/// use trustfit_cli::curvefit::default_method;
/// assert_eq!(default_method(false, &Loss::Linear), Method::Lm);
/// assert_eq!(default_method(true, &Loss::Linear), Method::Trf);
/// assert_eq!(default_method(false, &Loss::Cauchy), Method::Trf);
/// ```
pub fn default_method(bounded: bool, loss: &Loss) -> Method {
    if bounded || !matches!(loss, Loss::Linear) {
        Method::Trf
    } else {
        Method::Lm
    }
}

/// The results of a fit.
#[derive(Debug, Clone)]
pub struct FitResult {
    /// Fitted parameters.
    pub popt: Vec<f64>,
    /// Standard errors √diag(pcov) (`+∞` when not estimable).
    pub stderr: Vec<f64>,
    /// Row-major n×n covariance.
    pub pcov: Vec<f64>,
    /// Row-major n×n correlation matrix, exactly 1 on the diagonal (NaN when not estimable).
    pub correlation: Vec<f64>,
    /// The solver's cost: ½Σρ(r²) (½χ² with the linear loss).
    pub cost: f64,
    /// χ² = Σ((y − ŷ)/σ)² (σ = 1 without weights).
    pub chi2: f64,
    /// Degrees of freedom m − n.
    pub dof: i64,
    /// χ²/dof (NaN when dof ≤ 0).
    pub reduced_chi2: f64,
    /// Coefficient of determination (weighted by 1/σ² when σ is given).
    pub r2: f64,
    /// Akaike information criterion m·ln(χ²/m) + 2n (lmfit's definition: Gaussian errors
    /// with their scale estimated, constants dropped).
    pub aic: f64,
    /// Bayesian information criterion m·ln(χ²/m) + n·ln(m) (lmfit's definition).
    pub bic: f64,
    /// The method used.
    pub method: Method,
    /// scipy's status (`ier` for lm, `status` for trf/dogbox).
    pub status: i32,
    /// scipy's message for it (lm's can span lines, as in scipy).
    pub message: String,
    /// Whether the solver converged (scipy's curve_fit raises otherwise).
    pub success: bool,
    /// Residual evaluations.
    pub nfev: usize,
    /// Jacobian evaluations.
    pub njev: Option<usize>,
    /// Model values at the data points.
    pub fitted: Vec<f64>,
    /// scipy's OptimizeWarning when the covariance could not be estimated.
    pub warning: Option<String>,
}

/// Runs the fit.
///
/// # Errors
/// The solver's error text (bad options such as lm with bounds, or a model
/// that is not finite at the start).
///
/// ```
/// use trustfit_cli::{curvefit::{FitSpec, fit}, formula::parse_model};
/// let formula = parse_model("a + b*t", &["t".to_string()]).unwrap();
/// let t = [0.0, 1.0, 2.0, 3.0];
/// let spec = FitSpec {
///     formula,
///     x: vec![t.to_vec()],
///     y: vec![1.1, 2.9, 5.2, 6.8],
///     sigma: None, absolute_sigma: false, p0: vec![1.0, 1.0], bounds: None,
///     method: None, loss: trustfit::Loss::Linear, f_scale: 1.0, verbose: 0,
/// };
/// let r = fit(&spec).unwrap();
/// assert!((r.stderr[1] - 0.09055385).abs() < 1e-7); // scipy curve_fit
/// assert_eq!(r.method, trustfit::Method::Lm);
/// ```
pub fn fit(spec: &FitSpec) -> Result<FitResult, String> {
    let m = spec.y.len();
    let n = spec.p0.len();
    let formula = &spec.formula;
    let k = formula.columns().len();
    if spec.x.len() != k
        || spec.x.iter().any(|c| c.len() != m)
        || spec.sigma.as_ref().is_some_and(|s| s.len() != m)
    {
        return Err(format!(
            "{m} y values need {k} x columns of {m} values and as many sigmas as y values"
        ));
    }
    let w: Vec<f64> = match &spec.sigma {
        Some(s) => s.iter().map(|s| 1.0 / s).collect(),
        None => vec![1.0; m],
    };
    // The evaluation scratch (workspace, values), reused by every call.
    let scratch = Scratch::new(formula, m);
    let residuals = |p: &[f64], f: &mut [f64]| {
        scratch.with(|ws, _| {
            if formula.eval(ws, p, &spec.x, f).is_err() {
                f.fill(f64::NAN); // shapes are checked by `fit_cmd`; not expected
            }
        });
        for i in 0..m {
            f[i] = (f[i] - spec.y[i]) * w[i];
        }
    };
    let jacobian = |p: &[f64], jac: &mut [f64]| {
        scratch.with(|ws, values| {
            if formula.eval_jacobian(ws, p, &spec.x, values, jac).is_err() {
                jac.fill(f64::NAN);
            }
        });
        for i in 0..m {
            jac[i * n..(i + 1) * n].iter_mut().for_each(|v| *v *= w[i]);
        }
    };
    let problem = from_fn(m, residuals).with_jacobian(jacobian);
    let bounded = spec.bounds.is_some();
    let method = spec
        .method
        .unwrap_or_else(|| default_method(bounded, &spec.loss));
    if method == Method::Lm && bounded {
        return Err(
            "method 'lm' only works for unconstrained problems; use 'trf' or 'dogbox' with --bounds"
                .into(),
        );
    }
    if method == Method::Lm && !matches!(spec.loss, Loss::Linear) {
        return Err(format!(
            "method 'lm' supports only the linear loss (got --loss {}); use 'trf' or 'dogbox'",
            spec.loss.as_str()
        ));
    }
    // One behaviour for every method (issue 14, D5): MINPACK's lm does not check the
    // start and would report "converged" at p0 with an infinite cost.
    let mut f0 = vec![0.0; m];
    residuals(&spec.p0, &mut f0);
    let mut sum_of_squares = 0.0;
    for (i, &r) in f0.iter().enumerate() {
        if !r.is_finite() {
            return Err(format!(
                "Residuals are not finite in the initial point (data row {}: the model, y or \
                 sigma is not finite, or 1/sigma overflows); change --p0, the model or the data",
                i + 1
            ));
        }
        sum_of_squares += r * r;
    }
    if !sum_of_squares.is_finite() {
        return Err(
            "The cost at the initial point overflows (the sum of squared residuals \
                    exceeds the largest double); rescale y (and sigma)"
                .into(),
        );
    }
    let Solved {
        popt,
        cov,
        cost,
        status,
        message,
        success,
        nfev,
        njev,
    } = if method == Method::Lm {
        solve_lm(spec, &problem)?
    } else {
        solve_least_squares(spec, method, &problem)?
    };
    // The report's correlations: exactly 1 on the diagonal, NaN when not estimable.
    let mut correlation = cov.correlation;
    for a in 0..n {
        correlation[a * n + a] = if cov.estimated { 1.0 } else { f64::NAN };
    }
    let mut fitted = vec![0.0; m];
    scratch.with(|ws, _| {
        if formula.eval(ws, &popt, &spec.x, &mut fitted).is_err() {
            fitted.fill(f64::NAN);
        }
    });
    let Statistics {
        chi2,
        dof,
        reduced_chi2,
        r2,
        aic,
        bic,
    } = statistics(&spec.y, &fitted, &w, n);
    Ok(FitResult {
        popt,
        stderr: cov.stderr,
        pcov: cov.matrix,
        correlation,
        cost,
        chi2,
        dof,
        reduced_chi2,
        r2,
        aic,
        bic,
        method,
        status,
        message,
        success,
        nfev,
        njev,
        fitted,
        warning: (!cov.estimated)
            .then(|| "Covariance of the parameters could not be estimated".into()),
    })
}

/// The goodness-of-fit numbers of the report (the Python package's `fit_report`
/// computes the same, formula for formula).
struct Statistics {
    chi2: f64,
    dof: i64,
    reduced_chi2: f64,
    r2: f64,
    aic: f64,
    bic: f64,
}

/// χ², degrees of freedom, reduced χ², R² (weighted by `w²`), AIC and BIC of a fit with
/// `n` parameters.
fn statistics(y: &[f64], fitted: &[f64], w: &[f64], n: usize) -> Statistics {
    let m = y.len();
    let chi2: f64 = (0..m).map(|i| ((y[i] - fitted[i]) * w[i]).powi(2)).sum();
    let dof = m as i64 - n as i64;
    let reduced_chi2 = if dof > 0 { chi2 / dof as f64 } else { f64::NAN };
    let wsum: f64 = w.iter().map(|w| w * w).sum();
    let ybar = (0..m).map(|i| w[i] * w[i] * y[i]).sum::<f64>() / wsum;
    let ss_tot: f64 = (0..m).map(|i| (w[i] * (y[i] - ybar)).powi(2)).sum();
    // −2·ln L of Gaussian errors with the scale estimated, up to a constant: m·ln(χ²/m).
    let (mf, nf) = (m as f64, n as f64);
    let neg2_log_l = mf * (chi2 / mf).ln();
    Statistics {
        chi2,
        dof,
        reduced_chi2,
        r2: 1.0 - chi2 / ss_tot,
        aic: neg2_log_l + 2.0 * nf,
        bic: neg2_log_l + mf.ln() * nf,
    }
}

/// The formula's evaluation buffers for the solver's callbacks (which take `&self`).
struct Scratch {
    cell: RefCell<(Workspace, Vec<f64>)>,
    m: usize,
}

impl Scratch {
    fn new(formula: &Formula, m: usize) -> Self {
        Self {
            cell: RefCell::new((Workspace::for_formula(formula), vec![0.0; m])),
            m,
        }
    }

    /// Runs `f` with the workspace and an m-vector of values (fresh ones if
    /// the buffers are in use, which the solver's sequential calls never cause).
    fn with<R>(&self, f: impl FnOnce(&mut Workspace, &mut [f64]) -> R) -> R {
        match self.cell.try_borrow_mut() {
            Ok(mut guard) => {
                let (ws, values) = &mut *guard;
                f(ws, values)
            }
            Err(_) => f(&mut Workspace::new(), &mut vec![0.0; self.m]),
        }
    }
}

/// What a solver returns to [`fit`]: the solution and its covariance (scipy's rules).
struct Solved {
    popt: Vec<f64>,
    cov: Covariance,
    cost: f64,
    status: i32,
    message: String,
    success: bool,
    nfev: usize,
    njev: Option<usize>,
}

/// curve_fit's `lm`: [`trustfit::leastsq`] with the analytic Jacobian, and its `cov_x`.
fn solve_lm<P: Residuals>(spec: &FitSpec, problem: &P) -> Result<Solved, String> {
    let (m, n) = (spec.y.len(), spec.p0.len());
    if n > m {
        return Err(format!(
            "the number of parameters ({n}) must not exceed the number of data points ({m})"
        ));
    }
    let opts = LeastsqOptions {
        dfun: true,
        ..Default::default()
    };
    let r = trustfit::leastsq(problem, &spec.p0, &opts).map_err(|e| e.to_string())?;
    let cost = 0.5 * r.fvec.iter().map(|v| v * v).sum::<f64>();
    let success = (1..=4).contains(&r.ier);
    if spec.verbose > 0 {
        // scipy's leastsq has no verbose output; a one-line summary instead.
        eprintln!(
            "lm (MINPACK LMDER): ier {}, nfev {}, final cost {}: {}",
            r.ier,
            r.nfev,
            trustfit::py_e(cost, 4),
            crate::formula::one_line(&r.mesg)
        );
    }
    // scipy's leastsq gives cov_x only for ier 1–4.
    let cov = Covariance::from_unscaled(r.cov_x, 2.0 * cost, m, n, spec.absolute_sigma);
    Ok(Solved {
        popt: r.x,
        cov,
        cost,
        status: r.ier,
        message: r.mesg,
        success,
        nfev: r.nfev,
        njev: r.njev,
    })
}

/// curve_fit's `trf`/`dogbox`: [`trustfit::least_squares`] and [`trustfit::Report::covariance`].
fn solve_least_squares<P: Residuals>(
    spec: &FitSpec,
    method: Method,
    problem: &P,
) -> Result<Solved, String> {
    let (m, n) = (spec.y.len(), spec.p0.len());
    let printer = Printer::new(|line| eprintln!("{line}"));
    let opts = Options {
        method,
        jac: JacSpec::Analytic,
        bounds: match &spec.bounds {
            Some((lb, ub)) => Bounds::new(lb.clone(), ub.clone()),
            None => Bounds::default(),
        },
        loss: spec.loss.clone(),
        f_scale: spec.f_scale,
        verbose: spec.verbose,
        printer: Some(printer),
        ..Default::default()
    };
    let r = trustfit::least_squares(problem, &spec.p0, &opts).map_err(|e| e.to_string())?;
    // curve_fit: pinv(JᵀJ) from the SVD of the returned Jacobian, scaled by 2·cost/(m − n).
    let cov = r.covariance(spec.absolute_sigma).unwrap_or_else(|_| {
        Covariance::from_unscaled(None, 2.0 * r.cost, m, n, spec.absolute_sigma)
    });
    Ok(Solved {
        popt: r.x.clone(),
        cov,
        cost: r.cost,
        status: r.status.scipy_status(),
        message: r.message().to_string(),
        success: r.success(),
        nfev: r.nfev,
        njev: r.njev,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn spec(text: &str, t: &[f64], y: &[f64], p0: &[f64]) -> FitSpec {
        FitSpec {
            formula: crate::formula::parse_model(text, &["t".to_string()]).unwrap(),
            x: vec![t.to_vec()],
            y: y.to_vec(),
            sigma: None,
            absolute_sigma: false,
            p0: p0.to_vec(),
            bounds: None,
            method: None,
            loss: Loss::Linear,
            f_scale: 1.0,
            verbose: 0,
        }
    }

    #[test]
    fn power_law_matches_scipy_reference() {
        // scipy's curve_fit docs data (spec §12): popt (1.7989, 1.1642), pcov[0,0] 0.0852.
        let s = spec(
            "b*t^a",
            &[1.0, 2.0, 3.0, 4.0],
            &[1.0, 3.2, 9.5, 13.7],
            &[1.0, 1.0],
        );
        for method in [None, Some(Method::Trf), Some(Method::Dogbox)] {
            let r = fit(&FitSpec {
                method,
                ..s.clone()
            })
            .unwrap();
            assert!((r.popt[0] - 1.7989).abs() < 1e-4, "{method:?} {:?}", r.popt);
            assert!((r.pcov[0] - 0.0852).abs() < 1e-4, "{method:?}");
            assert!(r.success && r.warning.is_none());
            assert_eq!(r.dof, 2);
            assert!((r.chi2 - 2.0 * r.cost).abs() < 1e-12 * r.chi2);
            assert!(r.r2 > 0.9 && r.r2 < 1.0);
            // lmfit's definitions: m·ln(χ²/m) + 2n and m·ln(χ²/m) + n·ln(m), m = 4, n = 2.
            let base = 4.0 * (r.chi2 / 4.0).ln();
            assert!((r.aic - (base + 4.0)).abs() < 1e-12 * r.aic.abs().max(1.0));
            assert!((r.bic - (base + 2.0 * 4f64.ln())).abs() < 1e-12 * r.bic.abs().max(1.0));
            assert!((r.correlation[1] - r.correlation[2]).abs() < 1e-12);
            assert!((r.correlation[0] - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn lm_rejects_bounds_and_losses() {
        let s = spec("a*t", &[1.0, 2.0], &[1.0, 2.0], &[1.0]);
        let b = FitSpec {
            bounds: Some((vec![0.0], vec![2.0])),
            method: Some(Method::Lm),
            ..s.clone()
        };
        assert!(fit(&b).unwrap_err().contains("unconstrained"));
        let l = FitSpec {
            loss: Loss::Cauchy,
            method: Some(Method::Lm),
            ..s
        };
        assert!(fit(&l).unwrap_err().contains("linear loss"));
    }

    #[test]
    fn gh14_a_start_with_non_finite_residuals_is_an_error_for_every_method() {
        let t = [0.0, 1.0, 2.0, 3.0];
        let y = [1.0, 2.0, 3.0, 4.0];
        let sigma = Some(vec![1e-320, 1.0, 1.0, 1.0]);
        // The error of `s` with each method (and the default).
        let errors = |s: &FitSpec| {
            [
                None,
                Some(Method::Lm),
                Some(Method::Trf),
                Some(Method::Dogbox),
            ]
            .map(|method| {
                let e = fit(&FitSpec {
                    method,
                    ..s.clone()
                })
                .unwrap_err();
                (method, e)
            })
        };
        for (s, row) in [
            (spec("a/(t-1)", &t, &y, &[1.0]), 2),
            (spec("sqrt(a*t-3)", &t, &y, &[1.0]), 1),
            (
                FitSpec {
                    sigma,
                    ..spec("a*t", &t, &y, &[1.0])
                },
                1,
            ),
        ] {
            for (method, e) in errors(&s) {
                assert!(
                    e.starts_with("Residuals are not finite in the initial point")
                        && e.contains(&format!("data row {row}:")),
                    "{method:?}: {e}"
                );
            }
        }
        let s = spec("a*t", &t, &[1e308, -1e308, 1e308, -1e308], &[1.0]);
        for (method, e) in errors(&s) {
            assert!(
                e.contains("cost at the initial point overflows"),
                "{method:?}: {e}"
            );
        }
    }

    #[test]
    fn exact_fit_without_dof_warns() {
        let s = spec("a*t", &[1.0], &[2.0], &[1.0]);
        let r = fit(&s).unwrap();
        assert!((r.popt[0] - 2.0).abs() < 1e-12);
        assert!(r.warning.is_some() && r.stderr[0].is_infinite());
        assert!(r.reduced_chi2.is_nan());
    }
}
