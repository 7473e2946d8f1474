//! `leastsq` and `curve_fit` against scipy 1.17.1. Reference numbers come from:
//!
//! ```python
//! x = np.arange(6.); y = [1, 1, 5, 7, 8, 12]; s = [1, 2, 1, 2, 1, 2]     # spec §12 test_pcov
//! curve_fit(lambda x, a, b: a*x + b, x, y, p0=[2, 0], sigma=s, method=m[, absolute_sigma=True])
//! curve_fit(..., sigma=np.diag(s**2) + 0.3*np.ones((6, 6)))               # 2-D sigma
//! curve_fit(lambda x, a, b: a*x + b, x, y, p0=[1, .5], bounds=([0, 0], [1.8, 10]))
//! leastsq(rosen, [-1.2, 1], full_output=True)            # and with Dfun=jac
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use trustfit::{
    Bounds, CurveFitOptions, LeastsqOptions, Method, Sigma, curve_fit, from_fn, leastsq,
};

/// scipy prints 8 significant digits; agreement is checked to that precision.
const REF_RTOL: f64 = 2e-8;

fn close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * b.abs().max(1e-300)
}

const X: [f64; 6] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
const Y: [f64; 6] = [1.0, 1.0, 5.0, 7.0, 8.0, 12.0];
const S: [f64; 6] = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0];

fn line(p: &[f64], out: &mut [f64]) {
    for i in 0..6 {
        out[i] = p[0] * X[i] + p[1];
    }
}

#[test]
fn curve_fit_pcov_matches_scipy_for_every_method() {
    for method in [Method::Lm, Method::Trf, Method::Dogbox] {
        for (absolute, perr) in [
            (false, [0.20659803, 0.57204404]),
            (true, [0.30714756, 0.85045308]),
        ] {
            let opts = CurveFitOptions {
                p0: vec![2.0, 0.0],
                sigma: Sigma::StdDev(S.to_vec()),
                absolute_sigma: absolute,
                method: Some(method),
                ..Default::default()
            };
            let fit = curve_fit(line, &Y, &opts).unwrap();
            assert!(
                close(fit.popt[0], 1.95283019, REF_RTOL) && close(fit.popt[1], 0.77044025, 1e-7),
                "{method}: {:?}",
                fit.popt
            );
            for k in 0..2 {
                // scipy's own three methods agree to ~1e-8 on the absolute case.
                assert!(
                    close(fit.perr[k], perr[k], 3e-8),
                    "{method} abs={absolute}: {:?} vs {perr:?}",
                    fit.perr
                );
            }
            assert!(fit.warning.is_none());
        }
    }
}

#[test]
fn curve_fit_with_covariance_sigma_matches_scipy() {
    let mut cov = vec![0.3; 36];
    for i in 0..6 {
        cov[i * 6 + i] += S[i] * S[i];
    }
    let opts = CurveFitOptions {
        p0: vec![2.0, 0.0],
        sigma: Sigma::Covariance(cov),
        ..Default::default()
    };
    let fit = curve_fit(line, &Y, &opts).unwrap();
    let expected = [
        0.04268274446416059,
        -0.09390203860214619,
        -0.09390203860214619,
        0.4629655265239164,
    ];
    // lm differentiates the whitened residuals by forward differences (step √ε); L⁻¹ is
    // applied in another order than LAPACK's trtrs, so the Jacobians agree to ~1e-7.
    const FD_WHITENED_RTOL: f64 = 5e-7;
    for k in 0..4 {
        assert!(
            close(fit.pcov[k], expected[k], FD_WHITENED_RTOL),
            "{:?}",
            fit.pcov
        );
    }
}

#[test]
fn curve_fit_with_bounds_uses_trf_and_matches_scipy() {
    let opts = CurveFitOptions {
        p0: vec![1.0, 0.5],
        bounds: Bounds::new(vec![0.0, 0.0], vec![1.8, 10.0]),
        ..Default::default()
    };
    let fit = curve_fit(line, &Y, &opts).unwrap();
    assert!(
        close(fit.popt[0], 1.8, 1e-7) && close(fit.popt[1], 1.16666666, 1e-7),
        "{:?}",
        fit.popt
    );
    let expected = [0.10904762, -0.27261904, -0.27261904, 0.99960317];
    for k in 0..4 {
        assert!(close(fit.pcov[k], expected[k], 1e-6), "{:?}", fit.pcov);
    }
}

#[test]
fn curve_fit_rejects_bad_input_like_scipy() {
    let base = CurveFitOptions {
        p0: vec![2.0, 0.0],
        ..Default::default()
    };
    assert_eq!(
        curve_fit(line, &[], &base).unwrap_err().to_string(),
        "`ydata` must not be empty!"
    );
    let bad = CurveFitOptions {
        sigma: Sigma::StdDev(vec![1.0; 4]),
        ..base.clone()
    };
    assert_eq!(
        curve_fit(line, &Y, &bad).unwrap_err().to_string(),
        "`sigma` has incorrect shape."
    );
    let mut cov = vec![0.0; 36];
    cov[0] = -1.0;
    let bad = CurveFitOptions {
        sigma: Sigma::Covariance(cov),
        ..base.clone()
    };
    assert_eq!(
        curve_fit(line, &Y, &bad).unwrap_err().to_string(),
        "`sigma` must be positive definite."
    );
    let bad = CurveFitOptions {
        method: Some(Method::Lm),
        bounds: Bounds::uniform(0.0, 5.0),
        ..base
    };
    assert_eq!(
        curve_fit(line, &Y, &bad).unwrap_err().to_string(),
        "Method 'lm' only works for unconstrained problems. Use 'trf' or 'dogbox' instead."
    );
}

#[test]
fn curve_fit_warns_when_covariance_cannot_be_estimated() {
    // As many parameters as points: no residual variance.
    let opts = CurveFitOptions {
        p0: vec![1.0, 1.0],
        method: Some(Method::Trf),
        ..Default::default()
    };
    let fit = curve_fit(
        |p: &[f64], o: &mut [f64]| {
            o[0] = p[0] + p[1];
            o[1] = p[0] - p[1];
        },
        &[3.0, 1.0],
        &opts,
    )
    .unwrap();
    assert!(fit.pcov.iter().all(|v| *v == f64::INFINITY));
    assert_eq!(
        fit.warning.as_deref(),
        Some("Covariance of the parameters could not be estimated")
    );
}

fn rosen() -> impl trustfit::Residuals {
    from_fn(2, |x: &[f64], f: &mut [f64]| {
        f[0] = 10.0 * (x[1] - x[0] * x[0]);
        f[1] = 1.0 - x[0];
    })
    .with_jacobian(|x: &[f64], j: &mut [f64]| j.copy_from_slice(&[-20.0 * x[0], 10.0, -1.0, 0.0]))
}

#[test]
fn leastsq_matches_scipy_without_and_with_dfun() {
    let r = leastsq(&rosen(), &[-1.2, 1.0], &LeastsqOptions::default()).unwrap();
    assert_eq!((r.ier, r.nfev, r.njev), (2, 54, None));
    assert_eq!(
        r.mesg,
        "The relative error between two consecutive iterates is at most 0.000000"
    );
    assert_eq!(r.ipvt, vec![0, 1]);
    let cov = r.cov_x.unwrap();
    for (k, e) in [1.0, 2.00000001, 2.00000001, 4.01000006].iter().enumerate() {
        assert!(close(cov[k], *e, 1e-7), "{cov:?}");
    }
    let r = leastsq(
        &rosen(),
        &[-1.2, 1.0],
        &LeastsqOptions {
            dfun: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((r.ier, r.nfev, r.njev), (4, 21, Some(16)));
    let cov = r.cov_x.unwrap();
    for (k, e) in [1.0, 2.0, 2.0, 4.01].iter().enumerate() {
        assert!(close(cov[k], *e, 1e-7), "{cov:?}");
    }
}

#[test]
fn leastsq_rejects_more_parameters_than_residuals() {
    let p = from_fn(1, |x: &[f64], f: &mut [f64]| f[0] = x[0] + x[1]);
    let e = leastsq(&p, &[1.0, 2.0], &Default::default()).unwrap_err();
    assert!(e.to_string().starts_with(
        "Improper input: func input vector length N=2 must not exceed func output vector length M=1"
    ));
}

#[test]
fn report_covariance_gives_regression_standard_errors() {
    let t = [0.0, 1.0, 2.0, 3.0];
    let y = [1.1, 2.9, 5.2, 6.8];
    let p = from_fn(4, |p: &[f64], f: &mut [f64]| {
        for i in 0..4 {
            f[i] = p[0] + p[1] * t[i] - y[i];
        }
    });
    let r = trustfit::least_squares(&p, &[0.0, 0.0], &Default::default()).unwrap();
    let c = r.covariance(false).unwrap();
    // scipy curve_fit on the same line: perr = [0.16941074, 0.09055385].
    assert!(
        close(c.stderr[0], 0.16941074, 1e-7) && close(c.stderr[1], 0.09055385, 1e-7),
        "{:?}",
        c.stderr
    );
    assert!((c.correlation[0] - 1.0).abs() < 1e-12 && c.correlation[1] < 0.0);
}
