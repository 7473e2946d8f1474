"""The same calls through scipy.optimize and trustfit: `curve_fit` and `leastsq`.

curve_fit grid: models x sigma (none, 1-D, 2-D covariance) x absolute_sigma x
(method, bounds) x Jacobian (finite differences, callable); popt must agree to rtol 1e-6
and pcov to rtol 1e-4 (entries that are structurally zero, like the cross terms of a
symmetric peak, are compared in correlation units instead: |Δpcov_ij| ≤ 1e-6·sqrt(pcov_ii
pcov_jj)), and both must warn (or not) alike; nfev, ier and mesg must agree too (except
for which termination test fires on a linear model with finite differences).

leastsq grid: problems x (no Dfun, Dfun, Dfun with col_deriv) x a few option sets, with
full_output: x, cov_x, fvec, nfev, njev, ier and mesg must agree (MINPACK's iterates are
bit-identical; the tolerances only absorb the last bits of LAPACK's trtri), and so must the
shapes, dtypes and values of fjac, ipvt and qtf.
"""

import functools
import itertools
import warnings

import numpy as np
import pytest
import scipy.optimize

import trustfit
from problems import (
    Y_EXP_CLEAN,
    expfit_jac,
    expfit_residuals,
    gauss,
    rosen,
    rosen_jac,
)

POPT_RTOL = 1e-6
PCOV_RTOL = 1e-4
# Absolute slack in correlation units, for entries that are zero up to rounding.
CORR_ATOL = 1e-6

# --- curve_fit models: (f, jac, xdata, ydata, p0, bounds) --------------------------------

_rng = np.random.default_rng(20261123)

X_DECAY = np.linspace(0, 4, 30)
Y_DECAY = 2.5 * np.exp(-1.3 * X_DECAY) + 0.5 + 0.05 * _rng.standard_normal(30)


def decay(x, a, b, c):
    return a * np.exp(-b * x) + c


def decay_jac(x, a, b, c):
    e = np.exp(-b * x)
    return np.column_stack([e, -a * x * e, np.ones_like(x)])


X_GAUSS = np.linspace(-3, 5, 40)
Y_GAUSS = 3.0 * np.exp(-((X_GAUSS - 1.2) ** 2) / (2 * 0.8**2)) + 0.2 + 0.1 * _rng.standard_normal(40)


def gauss_jac(x, amp, mu, s, off):
    e = np.exp(-((x - mu) ** 2) / (2 * s**2))
    return np.column_stack(
        [e, amp * e * (x - mu) / s**2, amp * e * (x - mu) ** 2 / s**3, np.ones_like(x)]
    )


X_POW = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
Y_POW = np.array([1.0, 3.2, 9.5, 13.7, 24.1, 33.0])


def power(x, a, b):
    return b * x**a


def power_jac(x, a, b):
    return np.column_stack([b * x**a * np.log(x), x**a])


X_LOGI = np.linspace(-6, 6, 25)
Y_LOGI = 4.0 / (1 + np.exp(-1.5 * (X_LOGI - 0.5))) + 0.1 * _rng.standard_normal(25)


def logistic(x, top, k, x0):
    return top / (1 + np.exp(-k * (x - x0)))


def logistic_jac(x, top, k, x0):
    e = np.exp(-k * (x - x0))
    d = (1 + e) ** 2
    return np.column_stack([1 / (1 + e), top * (x - x0) * e / d, -top * k * e / d])


X_LIN = np.arange(8.0)
Y_LIN = 1.7 * X_LIN - 2.0 + 0.3 * _rng.standard_normal(8)


def line(x, a, b):
    return a * x + b


def line_jac(x, a, b):
    return np.column_stack([x, np.ones_like(x)])


MODELS = {
    "decay": (decay, decay_jac, X_DECAY, Y_DECAY, [1.0, 1.0, 0.0], ([0, 0, -1], [10, 5, 2])),
    "gauss": (gauss, gauss_jac, X_GAUSS, Y_GAUSS, [2.0, 0.5, 1.0, 0.0],
              ([0, -2, 0.1, -1], [10, 3, 3, 1])),
    "power": (power, power_jac, X_POW, Y_POW, [1.0, 1.0], ([0, 0], [3, 1.0])),
    "logistic": (logistic, logistic_jac, X_LOGI, Y_LOGI, [1.0, 1.0, 0.0],
                 ([0, 0, -2], [10, 10, 2])),
    "line": (line, line_jac, X_LIN, Y_LIN, None, ([0, -5], [5, 5])),
}


def _sigma(kind, x):
    if kind == "none":
        return None
    s = 0.05 + 0.02 * np.abs(x - x.mean())
    if kind == "1d":
        return s
    # A covariance with correlated neighbours (positive definite).
    m = x.size
    c = 0.3 ** np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    return c * np.outer(s, s)


# (method, bounded): method None means the default (lm free, trf bounded).
SOLVERS = [(None, False), ("trf", False), ("dogbox", False), (None, True), ("dogbox", True)]


def _cf_cases():
    for name, sigma, absolute, (method, bounded), jac in itertools.product(
        MODELS, ["none", "1d", "2d"], [False, True], SOLVERS, ["fd", "callable"]
    ):
        if absolute and sigma == "none":
            continue
        yield pytest.param(
            name, sigma, absolute, method, bounded, jac,
            id=f"{name}-sigma_{sigma}-{'abs' if absolute else 'rel'}-{method or 'default'}-"
            f"{'bounded' if bounded else 'free'}-{jac}",
        )


def _call(fit, *args, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fit(*args, **kw)
    return out, [(type(x.message), str(x.message)) for x in w]


@pytest.mark.parametrize("name, sigma, absolute, method, bounded, jac", list(_cf_cases()))
def test_curve_fit_same_as_scipy(name, sigma, absolute, method, bounded, jac):
    f, jac_f, x, y, p0, bounds = MODELS[name]
    kw = dict(p0=p0, sigma=_sigma(sigma, x), absolute_sigma=absolute, method=method,
              full_output=True)
    if bounded:
        kw["bounds"] = bounds
    if jac == "callable":
        kw["jac"] = jac_f
    calls = {}

    def counted(tag, g):
        @functools.wraps(g)  # its signature: p0=None counts the parameters
        def h(*a):
            calls[tag] = calls.get(tag, 0) + 1
            return g(*a)
        return h

    def fit(mod):
        kw_mod = dict(kw, jac=counted(mod.__name__ + " jac", kw["jac"])) if "jac" in kw else kw
        return _call(mod.curve_fit, counted(mod.__name__, f), x, y, **kw_mod)

    ref, ref_warn = fit(scipy.optimize)
    res, res_warn = fit(trustfit)
    popt, pcov, info, mesg, ier = res
    assert res_warn == ref_warn
    np.testing.assert_allclose(popt, ref[0], rtol=POPT_RTOL, atol=1e-12)
    d = np.sqrt(np.abs(np.diag(ref[1])))
    with np.errstate(invalid="ignore"):
        ok = np.isclose(pcov, ref[1], rtol=PCOV_RTOL, atol=1e-14) | (
            np.abs(pcov - ref[1]) <= CORR_ATOL * np.outer(d, d)
        )
    assert ok.all(), f"pcov differs:\n{pcov}\nscipy:\n{ref[1]}"
    assert pcov.shape == ref[1].shape and pcov.dtype == ref[1].dtype
    assert sorted(info) == sorted(ref[2])
    assert isinstance(mesg, str)
    if method is None and not bounded:
        # MINPACK: the same path, so the same counts and codes.
        assert (info["nfev"], ier, mesg) == (ref[2]["nfev"], ref[4], ref[3])
    elif not (name == "line" and jac == "fd"):
        # least_squares follows scipy's path too. Exception: a linear model with
        # finite differences ends where cost changes and gradients are at rounding
        # level, so which of the ftol/gtol/xtol tests fires first is decided by rounding.
        assert (info["nfev"], ier, mesg) == (ref[2]["nfev"], ref[4], ref[3])
    if not (name == "line" and jac == "fd"):
        # The same path: the model (and its Jacobian) called as often as by scipy.
        assert calls["trustfit"] == calls["scipy.optimize"]
        assert calls.get("trustfit jac") == calls.get("scipy.optimize jac")


def test_curve_fit_no_full_output_and_warning():
    # Fewer data points than parameters: pcov cannot be estimated (inf, OptimizeWarning).
    f = MODELS["line"][0]
    ref, ref_warn = _call(scipy.optimize.curve_fit, f, [1.0, 2.0], [2.0, 3.5])
    res, res_warn = _call(trustfit.curve_fit, f, [1.0, 2.0], [2.0, 3.5])
    assert len(res) == 2 and res_warn == ref_warn and len(ref_warn) == 1
    np.testing.assert_allclose(res[0], ref[0], rtol=POPT_RTOL)
    np.testing.assert_array_equal(res[1], ref[1])


# --- leastsq -------------------------------------------------------------------------


expfit = expfit_residuals(Y_EXP_CLEAN)


def gauss_res(p):
    return gauss(X_GAUSS, *p) - Y_GAUSS


def gauss_res_jac(p):
    return gauss_jac(X_GAUSS, *p)


def powell_singular(x):
    return np.array([
        x[0] + 10 * x[1],
        np.sqrt(5) * (x[2] - x[3]),
        (x[1] - 2 * x[2]) ** 2,
        np.sqrt(10) * (x[0] - x[3]) ** 2,
    ])


def powell_singular_jac(x):
    return np.array([
        [1, 10, 0, 0],
        [0, 0, np.sqrt(5), -np.sqrt(5)],
        [0, 2 * (x[1] - 2 * x[2]), -4 * (x[1] - 2 * x[2]), 0],
        [2 * np.sqrt(10) * (x[0] - x[3]), 0, 0, -2 * np.sqrt(10) * (x[0] - x[3])],
    ])


def rank_deficient(p):
    # Only p0 + p1 is determined: cov_x is None (singular R) or huge.
    t = np.linspace(0, 1, 6)
    return (p[0] + p[1]) * t - 2 * t + 0.01 * np.sin(7 * t)


def rank_deficient_jac(p):
    t = np.linspace(0, 1, 6)
    return np.column_stack([t, t])


def scaled(p, a, b):
    return np.array([p[0] - a, b * (p[1] - p[0] ** 2), p[1] * p[0] - 1.0])


def scaled_jac(p, a, b):
    return np.array([[1.0, 0.0], [-2 * b * p[0], b], [p[1], p[0]]])


LSQ = {
    "rosen": (rosen, rosen_jac, [-1.2, 1.0], ()),
    "expfit": (expfit, expfit_jac, [1.0, 1.0, -0.5], ()),
    "gauss": (gauss_res, gauss_res_jac, [2.0, 0.5, 1.0, 0.0], ()),
    "powell_singular": (powell_singular, powell_singular_jac, [3.0, -1.0, 0.0, 1.0], ()),
    "rank_deficient": (rank_deficient, rank_deficient_jac, [0.3, 0.4], ()),
    "scaled_args": (scaled, scaled_jac, [0.5, 0.5], (2.0, 30.0)),
}
OPTION_SETS = {
    "defaults": {},
    "maxfev_small": {"maxfev": 7},
    "tight": {"ftol": 1e-14, "xtol": 1e-14, "gtol": 1e-12, "factor": 1.0},
    "diag_epsfcn": {"diag": "ones*3", "epsfcn": 1e-10},
}


def _lsq_cases():
    for name, mode, opts in itertools.product(LSQ, ["lmdif", "lmder", "lmder_col"], OPTION_SETS):
        yield pytest.param(name, mode, opts, id=f"{name}-{mode}-{opts}")


@pytest.mark.parametrize("name, mode, opts", list(_lsq_cases()))
def test_leastsq_same_as_scipy(name, mode, opts):
    fun, jac, x0, args = LSQ[name]
    kw = dict(OPTION_SETS[opts])
    if kw.get("diag") == "ones*3":
        kw["diag"] = 3.0 * np.ones(len(x0))
    if mode == "lmder":
        kw["Dfun"] = jac
    elif mode == "lmder_col":
        kw["Dfun"] = lambda p, *a: np.asarray(jac(p, *a)).T
        kw["col_deriv"] = True
    ref, ref_warn = _call(scipy.optimize.leastsq, fun, x0, args=args, full_output=True, **kw)
    res, res_warn = _call(trustfit.leastsq, fun, x0, args=args, full_output=True, **kw)
    x, cov_x, info, mesg, ier = res
    assert res_warn == ref_warn
    assert (ier, mesg) == (ref[4], ref[3])
    assert list(info) == list(ref[2])
    assert info["nfev"] == ref[2]["nfev"]
    assert info.get("njev") == ref[2].get("njev")
    np.testing.assert_allclose(x, ref[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(info["fvec"], ref[2]["fvec"], rtol=1e-10, atol=1e-13)
    if ref[1] is None:
        assert cov_x is None
    else:
        np.testing.assert_allclose(cov_x, ref[1], rtol=1e-8, atol=1e-15)
    for key in ("fvec", "fjac", "ipvt", "qtf"):
        assert info[key].shape == ref[2][key].shape, key
        assert info[key].dtype == ref[2][key].dtype, key
        assert info[key].flags.owndata and info[key].flags.c_contiguous, key
    assert x.flags.owndata and x.dtype == ref[0].dtype and x.shape == ref[0].shape
    np.testing.assert_array_equal(info["ipvt"], ref[2]["ipvt"])
    np.testing.assert_allclose(info["fjac"], ref[2]["fjac"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(info["qtf"], ref[2]["qtf"], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(LSQ))
@pytest.mark.parametrize("dfun", [False, True])
def test_leastsq_short_output_same_as_scipy(name, dfun):
    fun, jac, x0, args = LSQ[name]
    kw = {"Dfun": jac} if dfun else {}
    ref, ref_warn = _call(scipy.optimize.leastsq, fun, x0, args=args, maxfev=9, **kw)
    res, res_warn = _call(trustfit.leastsq, fun, x0, args=args, maxfev=9, **kw)
    assert res_warn == ref_warn
    assert res[1] == ref[1]
    np.testing.assert_allclose(res[0], ref[0], rtol=1e-12, atol=1e-15)


def test_leastsq_calls_the_function_as_scipy():
    # scipy calls func once to check it and once more before MINPACK's own first call.
    counts = {}

    def make(tag):
        def f(p):
            counts[tag] = counts.get(tag, 0) + 1
            return rosen(p)

        def j(p):
            counts[tag + "_jac"] = counts.get(tag + "_jac", 0) + 1
            return rosen_jac(p)

        return f, j

    for mod, tag in ((scipy.optimize, "scipy"), (trustfit, "trustfit")):
        f, j = make(tag)
        mod.leastsq(f, [-1.2, 1.0])
        mod.leastsq(f, [-1.2, 1.0], Dfun=j)
    assert counts["scipy"] == counts["trustfit"]
    assert counts["scipy_jac"] == counts["trustfit_jac"]
