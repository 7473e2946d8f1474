"""least_squares' quick path (one call into Rust for the common call: float64 x0, no
bounds or extras) gives exactly what the full path gives — every field, its type and
its value — and hands every unusual value back to the full path's scipy checks."""

import numpy as np
import pytest
import scipy.optimize

import trustfit
from problems import T_DECAY, decay, decay_jac, expfit, expfit_jac

X0_EXP = np.array([1.0, 1.0, -0.5])
X0_DECAY = np.array([1.0, 0.5])


def full_path(fun, x0, **kw):
    """The same call through the full checks: `bounds` equal to the default as a Bounds
    object (which the quick path does not take) sends it there."""
    x0 = np.asarray(x0, dtype=float)
    none = scipy.optimize.Bounds(np.full(x0.shape, -np.inf), np.full(x0.shape, np.inf))
    return trustfit.least_squares(fun, x0, bounds=none, **kw)


def same_result(a, b):
    assert type(a) is type(b) is scipy.optimize.OptimizeResult
    assert list(a.keys()) == list(b.keys())
    for key in a:
        va, vb = a[key], b[key]
        assert type(va) is type(vb), key
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and va.shape == vb.shape, key
            assert np.array_equal(va, vb), key
        else:
            assert va == vb, key


CASES = [
    (expfit, X0_EXP, dict(jac=expfit_jac)),
    (expfit, X0_EXP, dict(jac=expfit_jac, max_nfev=1)),
    (expfit, X0_EXP, dict()),
    (expfit, X0_EXP, dict(jac="3-point", method="dogbox")),
    (expfit, X0_EXP, dict(method="lm")),
    (expfit, X0_EXP, dict(method="lm", jac=expfit_jac)),
    (decay, X0_DECAY, dict(jac=decay_jac, loss="soft_l1", f_scale=0.1)),
    (decay, X0_DECAY, dict(loss="cauchy", ftol=1e-12, xtol=1e-12, gtol=1e-12, max_nfev=7)),
    (lambda p, t: p[0] * np.exp(-p[1] * t) - decay(np.array([3.0, 1.3])) - 0.01,
     X0_DECAY, dict(args=(T_DECAY,))),
    (lambda p, t=None: p[0] * np.exp(-p[1] * t) - 1.0, X0_DECAY,
     dict(kwargs={"t": T_DECAY}, method="lm")),
]


@pytest.mark.parametrize("fun, x0, kw", CASES)
def test_the_quick_path_equals_the_full_path(fun, x0, kw):
    same_result(trustfit.least_squares(fun, x0, **kw), full_path(fun, x0, **kw))


class Counted:
    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x, *a):
        self.calls += 1
        return self.f(x, *a)


@pytest.mark.parametrize("returns", [
    lambda f: list(f),                       # a list: converted by the full path
    lambda f: f.astype(np.float32),          # float32: the full path's own differences
    lambda f: np.asfortranarray(f)[::1],     # still a plain vector
    lambda f: f.reshape(1, -1)[0],           # a view
])
def test_unusual_residuals_go_through_the_full_checks_unevaluated_twice(returns):
    fun = Counted(lambda x: returns(expfit(x)))
    ref = Counted(lambda x: returns(expfit(x)))
    a = trustfit.least_squares(fun, X0_EXP)
    b = full_path(ref, X0_EXP)
    same_result(a, b)
    assert fun.calls == ref.calls


@pytest.mark.parametrize("bad", [
    lambda f: np.append(f[:-1], np.nan),
    lambda f: np.append(f[:-1], np.inf),
    lambda f: f.reshape(-1, 1),
    lambda f: f.astype(str),
])
@pytest.mark.parametrize("jac", ["2-point", expfit_jac])
def test_bad_residuals_raise_the_full_paths_errors(bad, jac):
    with pytest.raises(Exception) as quick:
        trustfit.least_squares(lambda x: bad(expfit(x)), X0_EXP, jac=jac)
    with pytest.raises(Exception) as full:
        full_path(lambda x: bad(expfit(x)), X0_EXP, jac=jac)
    assert type(quick.value) is type(full.value)
    assert str(quick.value) == str(full.value)


def test_a_masked_residual_array_is_refused():
    with pytest.raises(TypeError, match="masked array"):
        trustfit.least_squares(lambda x: np.ma.masked_invalid(expfit(x)), X0_EXP)


def test_bad_jacobian_shape_and_lm_with_too_few_residuals_raise_scipys_errors():
    with pytest.raises(ValueError, match="wrong shape"):
        trustfit.least_squares(expfit, X0_EXP, jac=lambda x: expfit_jac(x)[:, :2])
    with pytest.raises(ValueError, match="less than the number of variables"):
        trustfit.least_squares(lambda x: x[:2], X0_EXP, method="lm")
    # A Fortran-ordered or transposed J is read in its logical order.
    same_result(trustfit.least_squares(expfit, X0_EXP, jac=lambda x: np.asfortranarray(
        expfit_jac(x))), trustfit.least_squares(expfit, X0_EXP, jac=expfit_jac))


def test_nan_in_x0_reaches_scipys_check_without_an_evaluation():
    fun = Counted(expfit)
    x0 = X0_EXP.copy()
    x0[1] = np.nan
    with pytest.raises(ValueError) as quick:
        trustfit.least_squares(fun, x0)
    with pytest.raises(ValueError) as scipys:
        scipy.optimize.least_squares(expfit, x0)
    assert str(quick.value) == str(scipys.value)
    assert fun.calls == 0


def test_strided_residuals_and_a_fortran_jacobian_give_the_plain_result():
    # f(x0) and J(x0) are kept as returned and read when the solver asks: a strided
    # vector and a Fortran-ordered matrix must read as their values.
    def strided(p):
        r = expfit(p)
        out = np.empty(2 * r.size)
        out[::2] = r
        return out[::2]

    def fortran_jac(p):
        return np.asfortranarray(expfit_jac(p))

    res = trustfit.least_squares(strided, X0_EXP, jac=fortran_jac)
    ref = trustfit.least_squares(expfit, X0_EXP, jac=expfit_jac)
    same_result(res, ref)


def test_the_callers_x0_is_neither_kept_nor_changed():
    x0 = X0_EXP.copy()
    res = trustfit.least_squares(expfit, x0, jac=expfit_jac)
    assert np.array_equal(x0, X0_EXP) and res.x is not x0
    res.x[:] = 0
    assert np.array_equal(x0, X0_EXP)


def test_a_callback_exception_propagates_unchanged():
    class Boom(Exception):
        pass

    err = Boom("from fun")
    calls = []

    def fun(x):
        calls.append(1)
        if len(calls) == 3:
            raise err
        return expfit(x)

    with pytest.raises(Boom) as info:
        trustfit.least_squares(fun, X0_EXP, jac=expfit_jac)
    assert info.value is err


@pytest.mark.parametrize("x0", [[1.0, 1.0, -0.5], (1.0, 1.0, -0.5), [1, 1, 0], (2, -1.5, 0)])
def test_a_list_or_tuple_start_takes_the_quick_path_with_scipys_conversion(x0, monkeypatch):
    want = full_path(expfit, np.atleast_1d(x0).astype(float), jac=expfit_jac)

    def not_called(*a, **k):
        raise AssertionError("the full path ran")

    monkeypatch.setattr(trustfit.optimize._trustfit, "solve", not_called)
    same_result(trustfit.least_squares(expfit, x0, jac=expfit_jac), want)


@pytest.mark.parametrize("x0", [
    [1.0, 1.0j, 0.0],              # complex
    [[1.0, 1.0, -0.5]],            # two dimensions
    [1.0, [1.0, 2.0], -0.5],       # ragged
])
def test_unusual_list_starts_raise_scipys_errors(x0):
    with pytest.raises(Exception) as ours:
        trustfit.least_squares(expfit, x0)
    with pytest.raises(Exception) as scipys:
        scipy.optimize.least_squares(expfit, x0)
    assert type(ours.value) is type(scipys.value)


def test_a_start_of_number_strings_is_converted_as_scipy_does():
    # scipy's astype(float) reads them; the full path does the same.
    same_result(trustfit.least_squares(expfit, ["1.0", "1.0", "-0.5"], jac=expfit_jac),
                trustfit.least_squares(expfit, [1.0, 1.0, -0.5], jac=expfit_jac))


@pytest.mark.parametrize("x0", [[], np.array([])])
def test_an_empty_start_ends_at_once_as_in_scipy(x0):
    # Nothing to iterate on: status 1 after one evaluation (the full path's case).
    ours = trustfit.least_squares(lambda x: np.array([1.0]), x0)
    ref = scipy.optimize.least_squares(lambda x: np.array([1.0]), x0)
    assert (ours.status, ours.nfev, ours.cost, ours.x.shape) == (ref.status, ref.nfev, ref.cost, (0,))


@pytest.mark.parametrize("fun, x0, kw", [
    (expfit, X0_EXP, dict(jac=expfit_jac)),
    (expfit, X0_EXP, dict(method="dogbox")),
    (expfit, X0_EXP, dict(method="lm", jac=expfit_jac)),
    (expfit, X0_EXP, dict(bounds=([1.0, 0, -1], [3, 3, 0]))),
    (decay, X0_DECAY, dict(jac=decay_jac, loss="cauchy", method="dogbox", bounds=(0, 2))),
])
def test_x_scale_jac_takes_the_quick_path_with_the_full_paths_result(fun, x0, kw, monkeypatch):
    kw = dict(kw, x_scale="jac")
    if "bounds" in kw:
        lb, ub = (np.full(x0.shape, b, dtype=float) for b in kw["bounds"])
        want = trustfit.least_squares(fun, x0, **dict(kw, bounds=scipy.optimize.Bounds(lb, ub)))
    else:
        want = full_path(fun, x0, **kw)

    def not_called(*a, **k):
        raise AssertionError("the full path ran")

    monkeypatch.setattr(trustfit.optimize._trustfit, "solve", not_called)
    same_result(trustfit.least_squares(fun, x0, **kw), want)


def test_the_full_path_helper_takes_the_full_path(monkeypatch):
    def called(*a, **k):
        raise RuntimeError("full path")

    monkeypatch.setattr(trustfit.optimize._trustfit, "solve", called)
    with pytest.raises(RuntimeError, match="full path"):
        full_path(expfit, X0_EXP)


BOUNDED = [
    (expfit, X0_EXP, dict(jac=expfit_jac, bounds=([0, 0, -1], [3, 3, 0]))),
    (expfit, X0_EXP, dict(bounds=([1.0, 0, -1], [3, 3, 0]))),               # x0 on a bound
    (expfit, X0_EXP, dict(jac=expfit_jac, bounds=(-0.5, 1.0))),              # scalars, two on
    (expfit, X0_EXP, dict(bounds=([-np.inf, 0, -np.inf], [np.inf, 2, 0]))),  # one-sided
    (expfit, X0_EXP, dict(bounds=([-np.inf] * 3, [np.inf] * 3))),            # none after all
    (expfit, X0_EXP, dict(method="dogbox", bounds=([1.0, 0, -1], [3, 3, 0]))),
    (expfit, X0_EXP, dict(method="dogbox", jac=expfit_jac, bounds=(-1.0, 1.0))),
    (decay, X0_DECAY, dict(jac=decay_jac, loss="soft_l1", f_scale=0.1, bounds=([0, 0], [2, 1]))),
    (decay, X0_DECAY, dict(jac="3-point", bounds=([0, 0.5], [2, 1]), max_nfev=3)),
]


@pytest.mark.parametrize("fun, x0, kw", BOUNDED)
def test_bounded_calls_take_the_quick_path_with_the_full_paths_result(fun, x0, kw, monkeypatch):
    # A Bounds object takes the full path (with arrays: scalars in one are refused).
    lb, ub = (np.full(x0.shape, b, dtype=float) for b in kw["bounds"])
    full = trustfit.least_squares(fun, x0, **dict(kw, bounds=scipy.optimize.Bounds(lb, ub)))

    def not_called(*a, **k):
        raise AssertionError("the full path ran")

    monkeypatch.setattr(trustfit.optimize._trustfit, "solve", not_called)
    same_result(trustfit.least_squares(fun, x0, **kw), full)


@pytest.mark.parametrize("bounds, method", [
    (([0, 0, 1], [3, 3, 1]), "trf"),              # lb == ub
    (([0, 0, 0], [3, 3, 1]), "trf"),              # x0 outside
    (([0, 0], [3, 3]), "trf"),                    # wrong length
    (([0, 0, np.nan], [3, 3, 1]), "dogbox"),      # NaN
    (([0, 0, -1], [3, 3, 0]), "lm"),              # lm takes no bounds
    ((0, 3, 4), "trf"),                           # three entries
])
def test_bad_bounds_raise_scipys_errors(bounds, method):
    with pytest.raises(Exception) as ours:
        trustfit.least_squares(expfit, X0_EXP, bounds=bounds, method=method)
    with pytest.raises(Exception) as scipys:
        scipy.optimize.least_squares(expfit, X0_EXP, bounds=bounds, method=method)
    assert type(ours.value) is type(scipys.value)
    assert str(ours.value) == str(scipys.value)


@pytest.mark.parametrize("method", ["trf", "dogbox"])
def test_unusual_residuals_of_a_bounded_call_are_evaluated_once_where_scipy_starts(method):
    # A list back from `fun`: the quick path hands f(x0) to the full checks, evaluated
    # at x0 moved inside the bounds for trf (x0[0] is on its lower bound), as scipy does.
    bounds = ([1.0, 0.0, -1.0], [3.0, 3.0, 0.0])
    fun = Counted(lambda x: list(expfit(x)))
    ref = Counted(lambda x: list(expfit(x)))
    a = trustfit.least_squares(fun, X0_EXP, bounds=bounds, method=method)
    b = trustfit.least_squares(ref, X0_EXP, bounds=scipy.optimize.Bounds(*bounds), method=method)
    same_result(a, b)
    assert fun.calls == ref.calls
