"""method='sparse_lm' from Python: numpy residuals with `jac_sparsity` (the setting of
scipy's bundle-adjustment cookbook), checked against scipy's own trf on the same
problems."""

import numpy as np
import pytest
import scipy.optimize
from scipy.sparse import csr_matrix, lil_matrix

import trustfit

T = np.array([0.0, 0.3, 0.7, 1.2, 1.8, 2.5, 3.3, 4.2])


def shared_rate(groups=60, outliers=True):
    """`groups` decays sharing one rate k: x = [k, a_1 … a_G]. J's pattern is bundle
    adjustment's in miniature (the amplitudes are eliminated, k stays)."""
    a = 1.0 + 0.1 * np.arange(groups)
    i = np.arange(groups * T.size)
    noise = 0.01 * ((i * 7919) % 13) / 13.0 - 0.005
    y = (a[:, None] * np.exp(-0.7 * T)[None, :]).ravel() + noise
    if outliers:
        y = y + np.where(i % 11 == 5, 0.5, 0.0)

    def fun(x):
        return (x[1:, None] * np.exp(-x[0] * T)[None, :]).ravel() - y

    sparsity = lil_matrix((y.size, groups + 1), dtype=int)
    sparsity[:, 0] = 1
    for g in range(groups):
        sparsity[g * T.size:(g + 1) * T.size, 1 + g] = 1
    x0 = np.concatenate([[0.5], 0.9 + 0.08 * np.arange(groups)])
    return fun, x0, csr_matrix(sparsity)


TIGHT = dict(ftol=1e-14, xtol=1e-14, gtol=1e-14)


@pytest.mark.parametrize("loss", ["linear", "soft_l1"])
@pytest.mark.parametrize("tr_solver", [None, "schur", "cholesky", "iterative_schur"])
def test_reaches_scipys_minimum(loss, tr_solver):
    fun, x0, A = shared_rate()
    ref = scipy.optimize.least_squares(fun, x0, jac_sparsity=A, loss=loss, f_scale=0.02,
                                       x_scale="jac", **TIGHT)
    res = trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm", loss=loss,
                                 f_scale=0.02, tr_solver=tr_solver, **TIGHT)
    assert res.success and ref.success
    assert res.cost == pytest.approx(ref.cost, rel=1e-9)
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-6, atol=1e-8)
    assert res.active_mask.tolist() == [0] * x0.size


def test_ftol_1e4_stops_early_at_a_cost_no_higher_than_scipys():
    # The cookbook's ftol = 1e-4: each method stops where its own test holds.
    fun, x0, A = shared_rate(outliers=False)
    ref = scipy.optimize.least_squares(fun, x0, jac_sparsity=A, x_scale="jac", ftol=1e-4)
    res = trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm", ftol=1e-4)
    assert res.success
    assert res.cost <= ref.cost * (1 + 1e-6)


def test_refuses_what_it_cannot_do_with_a_reason():
    fun, x0, A = shared_rate()
    with pytest.raises(ValueError, match="doesn't support bounds"):
        trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm", bounds=(0, 10))
    with pytest.raises(ValueError, match="needs a sparse Jacobian"):
        trustfit.least_squares(fun, x0, method="sparse_lm")
    with pytest.raises(ValueError, match="or 'cholesky'"):
        trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm", tr_solver="lsmr")
    with pytest.raises(ValueError, match="for method='sparse_lm' only"):
        trustfit.least_squares(fun, x0, jac_sparsity=A, tr_solver="iterative_schur")
    with pytest.raises(ValueError, match="incompatible with `jac_sparsity`"):  # scipy's check
        trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm", tr_solver="exact")
    # A model that raises: the exception propagates unchanged.
    def failing(x):
        if x[0] > 0.6:
            raise FloatingPointError("model blew up")
        return fun(x)

    with pytest.raises(FloatingPointError, match="model blew up"):
        trustfit.least_squares(failing, x0, jac_sparsity=A, method="sparse_lm")


def test_workers_and_threads_give_the_same_bits():
    fun, x0, A = shared_rate()
    one = trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm")
    two = trustfit.least_squares(fun, x0, jac_sparsity=A, method="sparse_lm", workers=2)
    assert one.x.tobytes() == two.x.tobytes() and one.nfev == two.nfev
