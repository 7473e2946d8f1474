"""trustfit.covariance (beyond scipy) and the docstring examples of trustfit.optimize."""

import doctest
import warnings

import numpy as np
import pytest
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
