"""trustfit.covariance (beyond scipy) and the docstring examples of trustfit.optimize."""

import doctest
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize

import trustfit
import trustfit.optimize

X = np.linspace(0, 4, 30)
Y = 2.5 * np.exp(-1.3 * X) + 0.5 + 0.05 * np.sin(9 * X)
SIGMA = 0.05 + 0.02 * X


def model(x, a, b, c):
    return a * np.exp(-b * x) + c


def test_docstring_examples():
    failed, attempted = doctest.testmod(trustfit.optimize, verbose=False)
    assert attempted >= 10 and failed == 0


@pytest.mark.parametrize("absolute_sigma", [False, True])
@pytest.mark.parametrize("method", ["trf", "dogbox", "lm"])
def test_covariance_equals_curve_fit_pcov(method, absolute_sigma):
    # curve_fit with trf computes pcov from least_squares' jac; covariance() does the same
    # for a least_squares result of the same weighted residuals.
    p0 = [1.0, 1.0, 0.0]
    res = trustfit.least_squares(
        lambda p: (model(X, *p) - Y) / SIGMA, p0, method=method, x_scale=1.0
    )
    cov = trustfit.covariance(res, absolute_sigma=absolute_sigma)
    popt, pcov = scipy.optimize.curve_fit(
        model, X, Y, p0=p0, sigma=SIGMA, absolute_sigma=absolute_sigma, method="trf"
    )
    np.testing.assert_allclose(res.x, popt, rtol=1e-6)
    np.testing.assert_allclose(cov.pcov, pcov, rtol=1e-4)
    np.testing.assert_allclose(cov.stderr, np.sqrt(np.diag(pcov)), rtol=1e-4)
    np.testing.assert_allclose(np.diag(cov.correlation), 1.0, rtol=1e-12)
    np.testing.assert_allclose(cov.correlation, cov.correlation.T, rtol=1e-12)
    assert np.all(np.abs(cov.correlation) <= 1 + 1e-12)
    assert cov.estimated is True


def test_covariance_also_takes_scipy_results():
    res = scipy.optimize.least_squares(lambda p: model(X, *p) - Y, [1.0, 1.0, 0.0])
    cov = trustfit.covariance(res)
    _, pcov = scipy.optimize.curve_fit(model, X, Y, p0=[1.0, 1.0, 0.0], method="trf")
    np.testing.assert_allclose(cov.pcov, pcov, rtol=1e-4)


def test_covariance_not_estimated_warns_like_curve_fit():
    # As many residuals as parameters: no residual variance.
    res = trustfit.least_squares(lambda p: np.array([p[0] - 1, p[1] + 2]), [0.0, 0.0])
    with pytest.warns(scipy.optimize.OptimizeWarning, match="could not be estimated"):
        cov = trustfit.covariance(res)
    assert not cov.estimated
    assert np.all(np.isinf(cov.pcov)) and np.all(np.isinf(cov.stderr))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cov = trustfit.covariance(res, absolute_sigma=True)
    np.testing.assert_allclose(cov.pcov, np.eye(2), atol=1e-12)


def test_covariance_of_sparse_and_operator_jacobians():
    """A sparse res.jac gives the dense one's covariance; a LinearOperator is refused."""
    import scipy.sparse
    from scipy.sparse.linalg import aslinearoperator

    def fun(p):
        return model(X, *p) - Y

    def jac(p):
        e = np.exp(-p[1] * X)
        return np.column_stack([e, -p[0] * X * e, np.ones_like(X)])

    dense = trustfit.least_squares(fun, [1.0, 1.0, 0.0], jac=jac)
    sparse = trustfit.least_squares(
        fun, [1.0, 1.0, 0.0], jac=lambda p: scipy.sparse.csr_array(jac(p))
    )
    assert scipy.sparse.issparse(sparse.jac)
    np.testing.assert_allclose(
        trustfit.covariance(sparse).pcov, trustfit.covariance(dense).pcov, rtol=1e-6
    )
    op = trustfit.least_squares(fun, [1.0, 1.0, 0.0], jac=lambda p: aslinearoperator(jac(p)))
    with pytest.raises(ValueError, match="LinearOperator"):
        trustfit.covariance(op)


def _scipy_pinv_jtj(jac):
    """scipy 1.17 curve_fit's pcov before scaling (trf/dogbox)."""
    _, s, vt = scipy.linalg.svd(jac, full_matrices=False)
    threshold = np.finfo(float).eps * max(jac.shape) * s[0]
    s = s[s > threshold]
    vt = vt[: s.size]
    return np.dot(vt.T / s**2, vt)


@pytest.mark.parametrize("shape", [(30, 3), (5, 5), (3, 5), (100, 60), (2, 1), (1, 3)])
def test_core_pinv_jtj_equals_scipy_svd(shape):
    """The core's pinv(JᵀJ) is scipy's (LAPACK's SVD) up to rounding, in any layout."""
    jac = np.random.default_rng(sum(shape)).standard_normal(shape)
    expected = _scipy_pinv_jtj(jac)
    for layout in (jac, np.asfortranarray(jac), np.repeat(jac, 2, axis=1)[:, ::2]):
        got = trustfit.optimize._pinv_jtj(layout)
        assert got.shape == (shape[1], shape[1]) and got.flags["C_CONTIGUOUS"]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14 * np.abs(expected).max())


def test_core_pinv_jtj_drops_null_directions_and_refuses_non_finite():
    jac = np.column_stack([np.ones(4), np.zeros(4)])
    np.testing.assert_array_equal(trustfit.optimize._pinv_jtj(jac), [[0.25, 0.0], [0.0, 0.0]])
    rank2 = np.random.default_rng(7).standard_normal((10, 3))
    rank2[:, 2] = rank2[:, 0]
    np.testing.assert_allclose(
        trustfit.optimize._pinv_jtj(rank2), _scipy_pinv_jtj(rank2), rtol=1e-10, atol=1e-14
    )
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="array must not contain infs or NaNs"):
            trustfit.optimize._pinv_jtj(np.array([[bad, 1.0], [1.0, 2.0], [3.0, 4.0]]))


def test_core_covariance_rules():
    """Covariance::from_unscaled through the binding: scipy's curve_fit rules."""
    unscaled = np.array([[4.0, 1.0], [1.0, 9.0]])
    cov = trustfit._trustfit.covariance_from_unscaled(unscaled, 6.0, 5, 2, False)
    np.testing.assert_array_equal(cov["pcov"], unscaled * 2.0)
    np.testing.assert_array_equal(cov["stderr"], np.sqrt([8.0, 18.0]))
    assert cov["estimated"] is True
    cov = trustfit._trustfit.covariance_from_unscaled(unscaled, 6.0, 2, 2, True)
    np.testing.assert_array_equal(cov["pcov"], unscaled)
    np.testing.assert_allclose(cov["correlation"][0, 1], 1.0 / 6.0, rtol=1e-15)
    for args in [(None, 6.0, 5, 2, True), (unscaled, 6.0, 2, 2, False),
                 (np.full((2, 2), np.nan), 6.0, 5, 2, True)]:
        cov = trustfit._trustfit.covariance_from_unscaled(*args)
        assert cov["estimated"] is False and np.isinf(cov["pcov"]).all()
    with pytest.raises(ValueError, match="shape"):
        trustfit._trustfit.covariance_from_unscaled(np.eye(3), 6.0, 5, 2, False)
