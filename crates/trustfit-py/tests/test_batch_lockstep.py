"""trustfit.batch.curve_fit with method='lockstep': formula models and vectorized Python
models agree with trustfit's single-fit curve_fit on 1000 fits sampled from the batch
workload, do not depend on the thread count or block size, isolate bad rows, and raise a
Python model's exception once, unchanged, with no partial results."""

import os

import numpy as np
import scipy.optimize
import pytest

import trustfit
import trustfit.batch
from test_batch import GAUSS, XS, YS, gauss, gauss_jac, workload

XY = np.vstack([XS, YS])
TIGHT = dict(ftol=1e-13, xtol=1e-13, gtol=1e-13)


def vgauss(xy, A, x0, y0, w, b):
    """The 2-D Gaussian for many fits at once: parameters (K, 1), result (K, 25)."""
    x, y = xy
    return A * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * w * w)) + b


def vgauss_jac(xy, A, x0, y0, w, b):
    x, y = xy
    dx, dy = x - x0, y - y0
    r2 = dx * dx + dy * dy
    e = np.exp(-r2 / (2 * w * w))
    ae = A * e / (w * w)
    return np.stack([e, ae * dx, ae * dy, ae * r2 / w, np.ones_like(e)], axis=-1)


def batch_workload(sample=1000, seed=3):
    """`sample` fits drawn from the shared 10^5-fit workload (Gpufit's), or the synthetic
    one when the shared data is absent."""
    path = os.path.join(os.environ.get("TRUSTFIT_DATA_DIR", os.path.join("..", "shared", "data")),
                        "batch", "gauss2d_5x5_100k.bin")
    if not os.path.exists(path):
        print(f"note: {path} absent; sampling the synthetic workload instead")
        data, p0, _ = workload(sample)
        return data, p0
    with open(path, "rb") as fh:
        raw = fh.read()
    n, m, k = (int(v) for v in np.frombuffer(raw, "<u4", count=4, offset=4)[:3])
    body = np.frombuffer(raw, "<f4", offset=len(raw) - 4 * (n * m + 2 * n * k))
    data = body[:n * m].reshape(n, m).astype(np.float64)
    init = body[n * m:n * m + n * k].reshape(n, k).astype(np.float64)
    rows = np.random.default_rng(seed).choice(n, sample, replace=False)
    return data[rows], init[rows]


def assert_agrees_with_single_fits(fit, data, p0, exact=True):
    """Each fit as trustfit's curve_fit finds it alone, with the same derivatives: exact,
    or least_squares' forward differences ('2-point', the batch's steps: lm's MINPACK
    steps differ, and a difference Jacobian's error moves the point where Jᵀf = 0)."""
    assert fit.success.all()
    how = dict(jac=gauss_jac) if exact else dict(jac="2-point", method="trf")
    # Differences are noisy (model rounding / step ≈ 1e-8 relative in J), so each
    # solver's last iterate jitters around the minimum by ~1e-6 σ: 1e-4 σ for them.
    in_sigma = 1e-6 if exact else 1e-4
    for k in range(len(data)):
        popt, pcov = trustfit.curve_fit(gauss, XY, data[k], p0=p0[k], **how, **TIGHT)
        # rtol 1e-6, or 1e-6 of the parameter's standard error: a relative-χ² stop at
        # ftol leaves a poorly determined parameter (the background b, σ ≈ 10) anywhere
        # within σ·√(ftol·χ²)-ish of the minimum, for either solver.
        atol = in_sigma * np.sqrt(np.diag(pcov))
        diff = np.abs(fit.popt[k] - popt)
        assert np.all(diff <= atol + 1e-6 * np.abs(popt)), (k, fit.popt[k], popt)
        # pcov: rtol 1e-4; with differences a small off-diagonal entry (a weak
        # correlation, a difference of large products) to 1e-4 of √(pcov_ii·pcov_jj).
        d = np.sqrt(np.diag(pcov))
        atol = 1e-9 * np.abs(pcov).max() if exact else 1e-4 * np.outer(d, d)
        assert np.all(np.abs(fit.pcov[k] - pcov) <= atol + 1e-4 * np.abs(pcov)), (k, fit.pcov[k], pcov)


@pytest.mark.parametrize("model", ["formula", "numpy", "numpy+jac"])
def test_1000_sampled_fits_agree_with_single_fit_curve_fit(model):
    data, p0 = batch_workload()
    if model == "formula":
        fit = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, method="lockstep",
                                       **TIGHT)
    else:
        extra = {"jac": vgauss_jac} if model == "numpy+jac" else {}
        fit = trustfit.batch.curve_fit(vgauss, XY, data, p0=p0, **TIGHT, **extra)
    assert fit.param_names == ["A", "x0", "y0", "w", "b"]
    assert_agrees_with_single_fits(fit, data, p0, exact=model != "numpy")


def test_weights_and_absolute_sigma_as_curve_fit():
    data, p0, _ = workload(60)
    sigma = 10.0 + 0.5 * np.arange(25)
    for absolute in (False, True):
        fit = trustfit.batch.curve_fit(vgauss, XY, data, p0=p0, sigma=sigma, jac=vgauss_jac,
                                       absolute_sigma=absolute, **TIGHT)
        for k in range(0, 60, 6):
            popt, pcov = trustfit.curve_fit(gauss, XY, data[k], p0=p0[k], jac=gauss_jac,
                                            sigma=sigma, absolute_sigma=absolute, **TIGHT)
            np.testing.assert_allclose(fit.popt[k], popt, rtol=1e-6)
            np.testing.assert_allclose(fit.pcov[k], pcov, rtol=1e-4)


def test_results_do_not_depend_on_threads_or_block_size():
    data, p0, _ = workload(500)
    ref = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0, method="lockstep",
                                   threads=1)
    for threads, block in ((2, 64), (2, 7), (1, 1000)):
        other = trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, data, p0=p0,
                                         method="lockstep", threads=threads, block=block)
        assert np.array_equal(ref.popt, other.popt) and np.array_equal(ref.pcov, other.pcov)
        assert np.array_equal(ref.nfev, other.nfev) and np.array_equal(ref.status, other.status)
    a = trustfit.batch.curve_fit(vgauss, XY, data, p0=p0, block=13)
    b = trustfit.batch.curve_fit(vgauss, XY, data, p0=p0, block=500)
    assert np.array_equal(a.popt, b.popt) and np.array_equal(a.nfev, b.nfev)


@pytest.mark.parametrize("model", ["formula", "numpy"])
def test_one_percent_bad_rows_fail_alone(model):
    data, p0, _ = workload(600)
    clean = data.copy()
    bad_nan, bad_const, bad_short = [5, 105, 305], [50, 250], [77, 499]
    data[bad_nan] = np.nan
    data[bad_const] = 42.0
    data[np.ix_(bad_short, np.arange(3, 25))] = np.nan  # 3 finite points < 5 parameters
    run = (lambda d: trustfit.batch.curve_fit(GAUSS, {"x": XS, "y": YS}, d, p0=p0, method="lockstep")
           if model == "formula" else lambda d: trustfit.batch.curve_fit(vgauss, XY, d, p0=p0))
    run = run if model == "formula" else (lambda d: trustfit.batch.curve_fit(vgauss, XY, d, p0=p0))
    fit, ref = run(data), run(clean)
    for k in bad_nan + bad_short:
        assert fit.status[k] == -3 and not fit.success[k] and fit.error[k] == "non_finite"
        assert np.isnan(fit.popt[k]).all() and np.isnan(fit.pcov[k]).all()
    for k in bad_const:  # a flat row is fitted by a flat model (A → 0 or w → 0), no crash
        assert fit.error[k] == ""
    good = np.setdiff1d(np.arange(600), bad_nan + bad_const + bad_short)
    assert fit.success[good].all()
    assert np.array_equal(fit.popt[good], ref.popt[good])


class ModelFailed(Exception):
    pass


def test_a_python_exception_propagates_once_unchanged():
    data, p0, _ = workload(300)
    calls = []
    error = ModelFailed("pixel 7 is saturated")

    def model(xy, *p):
        calls.append(p[0].shape[0])
        if len(calls) == 3:
            raise error
        return vgauss(xy, *p)

    with pytest.raises(ModelFailed) as info:
        trustfit.batch.curve_fit(model, XY, data, p0=p0, block=100)
    assert info.value is error
    assert len(calls) == 3  # nothing ran after the exception


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "trf"}, "method='lockstep'"),
        ({"loss": "soft_l1"}, "linear loss"),
        ({"jac": "3-point"}, "jac"),
        ({"tr_solver": "lsmr"}, "unexpected keyword"),
    ],
)
def test_python_model_options_that_do_not_apply_raise(kwargs, message):
    data, p0, _ = workload(3)
    with pytest.raises((ValueError, TypeError), match=message):
        trustfit.batch.curve_fit(vgauss, XY, data, p0=p0, **kwargs)


def test_a_model_of_the_wrong_shape_says_what_it_must_return():
    data, p0, _ = workload(4)
    with pytest.raises(ValueError, match=r"must return \[4, 25\]"):
        trustfit.batch.curve_fit(lambda xy, *p: np.ones((3, 2)), XY, data, p0=p0)
    with pytest.raises(TypeError, match="returned None"):
        trustfit.batch.curve_fit(lambda xy, *p: None, XY, data, p0=p0)
    with pytest.raises(ValueError, match="`block` must be a positive integer"):
        trustfit.batch.curve_fit(vgauss, XY, data, p0=p0, block=0)


def test_parameter_count_from_the_signature_and_broadcast_results():
    t = np.linspace(0, 2, 15)
    y = np.array([2.0 * np.exp(-1.5 * t) + 0.5, 1.0 * np.exp(-0.5 * t) + 0.1])
    fit = trustfit.batch.curve_fit(lambda x, a, k, c: a * np.exp(-k * x) + c, t, y, p0=[1, 1, 0],
                                   **TIGHT)
    np.testing.assert_allclose(fit.popt, [[2.0, 1.5, 0.5], [1.0, 0.5, 0.1]], rtol=1e-7)
    assert fit.param_names == ["a", "k", "c"]
    # p0 omitted: n from the signature, starts of ones (scipy's rule).
    def line(x, slope, offset):
        return slope * x + offset
    f2 = trustfit.batch.curve_fit(line, t, np.array([3 * t + 1, -t]))
    np.testing.assert_allclose(f2.popt, [[3, 1], [-1, 0]], atol=1e-9)
    # A constant model returns (K, 1): broadcast to (K, M).
    f3 = trustfit.batch.curve_fit(lambda x, c: c, t, np.array([np.full(15, 2.0), np.full(15, -1.0)]))
    np.testing.assert_allclose(f3.popt[:, 0], [2.0, -1.0])


def test_bounds_are_kept():
    data, p0, _ = workload(50)
    lb = [0, 1.9, 1.9, 0.1, -100]
    ub = [5000, 2.1, 2.1, 10, 1000]
    fit = trustfit.batch.curve_fit(vgauss, XY, data, p0=np.clip(p0, lb, ub), bounds=(lb, ub))
    assert (fit.popt >= np.array(lb)).all() and (fit.popt <= np.array(ub)).all()


def _line(x, m, c):
    return m * x + c


@pytest.mark.parametrize("bound", ["upper", "lower"])
def test_a_minimum_on_a_bound_is_reached_as_trf_reaches_it(bound):
    # Data that want an intercept of about +5, the intercept bounded to c ≤ 0 (or the
    # mirror image: c ≥ 0 for data that want -5): the minimum lies on the bound. The
    # projected step stopped on xtol short of it (slope 0.37 instead of 1.03, reported
    # converged), the step having moved the slope along the bounded intercept.
    t = np.linspace(0, 4, 15)
    rows = np.array([a * 10 * np.exp(-0.5 * t) for a in (1.0, 1.5, 2.0)])
    if bound == "lower":
        rows, lb, ub, p0 = -rows, [-np.inf, 0.0], [np.inf, np.inf], [-1.0, 1.0]
    else:
        lb, ub, p0 = [-np.inf, -np.inf], [np.inf, 0.0], [1.0, -1.0]
    fit = trustfit.batch.curve_fit(_line, t, rows, p0=p0, bounds=(lb, ub))
    assert fit.success.all()
    for k, y in enumerate(rows):
        ref, *_ = scipy.optimize.curve_fit(_line, t, y, p0=p0, bounds=(lb, ub))
        np.testing.assert_allclose(fit.popt[k], ref, rtol=1e-6, atol=1e-9)
        assert fit.popt[k, 1] == 0.0


def _exp3(x, a, b, c):
    return a * np.exp(b * x) + c


def test_a_step_across_a_curved_valley_is_damped_until_it_converges():
    # a held at its upper bound 2; b's Gauss–Newton step overshot the valley floor by
    # twice its distance. With λ ÷10 on every accepted step, it alternated with its
    # rejected mirror image, gaining ~1e-7 per pair: status 0 after 300 evaluations,
    # where scipy's trf converges.
    t = np.linspace(0, 4, 25)
    y = np.array([2.6981, 2.0775, 1.5522, 1.1532, 0.8773, 0.4834, 0.3919, 0.2306, 0.1654,
                  0.0408, -0.1079, -0.0637, -0.1748, -0.1809, -0.1567, -0.1617, -0.2669,
                  -0.219, -0.1156, -0.1593, -0.2989, -0.3457, -0.2687, -0.2448, -0.2526])
    box = ([-np.inf, -np.inf, -0.5], [2.0, -0.3, np.inf])
    p0 = [1.0, -0.5, 0.0]
    fit = trustfit.batch.curve_fit(_exp3, t, y[None], p0=p0, bounds=box)
    ref, _ = scipy.optimize.curve_fit(_exp3, t, y, p0=p0, bounds=box)
    assert fit.success[0] and fit.nfev[0] < 40
    np.testing.assert_allclose(fit.popt[0], ref, rtol=1e-3)
    cost = np.sum((_exp3(t, *fit.popt[0]) - y) ** 2)
    assert cost <= np.sum((_exp3(t, *ref) - y) ** 2) * (1 + 1e-6)
