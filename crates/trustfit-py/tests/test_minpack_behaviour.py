"""Edge cases of leastsq and curve_fit, called through scipy and trustfit side by side:
the same exception (type and message), the same warnings, the same outputs (values to
rtol 1e-7, structure, types and dtypes exactly)."""

import warnings

import numpy as np
import pytest
import scipy.optimize

import trustfit


def f3(p):
    return np.array([p[0] - 1, p[1] + 1, p[0] * p[1]])


def j3(p):
    return np.array([[1, 0], [0, 1], [p[1], p[0]]])


def lin1(p):
    return np.array([p[0] - 1, p[0] + 1])


class SizeChanges:
    """func whose result grows from the third call on."""

    def __init__(self):
        self.calls = 0

    def __call__(self, p):
        self.calls += 1
        return np.ones(3 if self.calls < 3 else 4) * p[0]


def raises_later(p):
    if p[0] > 1.0000001:
        raise KeyError("k")
    return np.array([p[0] - 3, p[0]])


CASES = {
    # leastsq: how results of func/Dfun are read and checked
    "size changes": lambda m: m.leastsq(SizeChanges(), [1.0]),
    "strings returned": lambda m: m.leastsq(lambda p: ["a", "b"], [1.0]),
    "2-d returned": lambda m: m.leastsq(lambda p: np.ones((3, 2)) * p[0], [1.0]),
    "complex returned": lambda m: m.leastsq(lambda p: np.array([p[0] - 1, p[0] + 1j]), [3.0]),
    "object returned": lambda m: m.leastsq(lambda p: np.array([p[0], None]), [1.0]),
    "ints returned": lambda m: m.leastsq(lambda p: np.array([1, 2]), [3.0], full_output=1),
    "bools returned": lambda m: m.leastsq(lambda p: np.array([p[0] > 0, True]), [1.0],
                                          full_output=1),
    "list returned": lambda m: m.leastsq(lambda p: [p[0] - 1, p[0] + 1], [1.0], full_output=1),
    "float32 returned": lambda m: m.leastsq(
        lambda p: np.array([p[0] - 1, p[0] + 1], dtype=np.float32), [3.0], full_output=1),
    "scalar returned": lambda m: m.leastsq(lambda p: (p[0] - 3) ** 2 + 1, 0, full_output=1),
    "strided returned": lambda m: m.leastsq(lambda p: np.arange(12.0)[::3] * p[0] - 1, [1.0],
                                            full_output=1),
    "nan returned": lambda m: m.leastsq(lambda p: np.array([np.nan, p[0] + 1]), [3.0],
                                        full_output=1),
    "inf returned": lambda m: m.leastsq(lambda p: np.array([np.inf, p[0]]), [1.0],
                                        full_output=1),
    "empty returned": lambda m: m.leastsq(lambda p: np.array([]), [1.0]),
    "func raises later": lambda m: m.leastsq(raises_later, [1.0]),
    "N > M": lambda m: m.leastsq(lambda p: p[0] ** 2, [0.0, 1.0]),
    # leastsq: Dfun shapes
    "Dfun wrong size": lambda m: m.leastsq(lin1, [3.0], Dfun=lambda p: np.ones((2, 2))),
    "Dfun wrong shape": lambda m: m.leastsq(f3, [0.0, 1.0], Dfun=lambda p: np.ones((3, 3))),
    "Dfun col_deriv": lambda m: m.leastsq(f3, [1.0, 1.0], Dfun=lambda p: j3(p).T,
                                          col_deriv=True, full_output=1),
    "Dfun 1-d": lambda m: m.leastsq(lin1, [3.0], Dfun=lambda p: np.ones(2), full_output=1),
    "Dfun Fortran order": lambda m: m.leastsq(f3, [1.0, 1.0],
                                              Dfun=lambda p: np.asfortranarray(j3(p)),
                                              full_output=1),
    "Dfun list": lambda m: m.leastsq(f3, [1.0, 1.0], Dfun=lambda p: j3(p).tolist(),
                                     full_output=1),
    "Dfun not callable": lambda m: m.leastsq(f3, [1.0, 1.0], Dfun=3),
    # leastsq: options
    "x0 2-d": lambda m: m.leastsq(lambda p: np.array([p[0] - 1, p[1] + 1]), [[3.0], [1]]),
    "x0 ints": lambda m: m.leastsq(lin1, [3], full_output=1),
    "x0 complex": lambda m: m.leastsq(f3, [1.0 + 1j, 1.0]),
    "x0 empty": lambda m: m.leastsq(lambda p: np.ones(2), []),
    "args not a tuple": lambda m: m.leastsq(lambda p, a: np.array([p[0] - a, p[0] + 1]), [3.0],
                                            args=2.0),
    "diag longer": lambda m: m.leastsq(lin1, [1.0], diag=[1.0, 2.0]),
    "diag 0-d": lambda m: m.leastsq(f3, [1.0, 1.0], diag=2.0),
    "diag negative": lambda m: m.leastsq(lin1, [1.0], diag=[-1.0]),
    "diag ints": lambda m: m.leastsq(f3, [1.0, 1.0], diag=[1, 2], full_output=1)[3:],
    "ftol negative": lambda m: m.leastsq(lin1, [1.0], ftol=-1),
    "ftol nan": lambda m: m.leastsq(f3, [1.0, 1.0], ftol=np.nan, full_output=1)[3:],
    "factor 0": lambda m: m.leastsq(f3, [1.0, 1.0], factor=0),
    "factor str": lambda m: m.leastsq(f3, [1.0, 1.0], factor="a"),
    "maxfev 1": lambda m: m.leastsq(lambda p: np.array([p[0] - 1, p[0] ** 2 + 1]), [3.0],
                                    maxfev=1),
    "maxfev 5 full": lambda m: m.leastsq(f3, [1.0, 1.0], maxfev=5, full_output=1),
    "maxfev -1": lambda m: m.leastsq(f3, [1.0, 1.0], maxfev=-1),
    "maxfev float": lambda m: m.leastsq(f3, [1.0, 1.0], maxfev=2.5),
    "gtol large": lambda m: m.leastsq(f3, [1.0, 1.0], gtol=0.5, full_output=1)[3:],
    "xtol 0 ftol 0": lambda m: m.leastsq(f3, [1.0, 1.0], ftol=0, xtol=0, full_output=1)[3:],
    "singular": lambda m: m.leastsq(
        lambda p: np.array([p[0] + p[1] - 1, p[0] + p[1] + 1, 2 * (p[0] + p[1])]), [1.0, 1.0],
        full_output=1),
    # curve_fit
    "cf lm not converged": lambda m: m.curve_fit(lambda x, a, b: a * np.exp(b * x),
                                                 np.arange(5.0), np.arange(5.0) ** 2, maxfev=5),
    "cf trf not converged": lambda m: m.curve_fit(lambda x, a, b: a * np.exp(b * x),
                                                  np.arange(5.0), np.arange(5.0) ** 2,
                                                  method="trf", maxfev=3),
    "cf sigma wrong shape": lambda m: m.curve_fit(lambda x, a, b: a * x + b, np.arange(5.0),
                                                  np.arange(5.0), sigma=np.ones(3)),
    "cf sigma not pd": lambda m: m.curve_fit(lambda x, a, b: a * x + b, np.arange(3.0),
                                             np.arange(3.0), sigma=-np.eye(3)),
    "cf sigma 1x1": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3], [2.0, 4, 6.1],
                                          sigma=[[2.0]]),
    "cf sigma 0": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3], [2.0, 4, 6.1], sigma=0),
    "cf lm with bounds": lambda m: m.curve_fit(lambda x, a, b: a * x + b, np.arange(3.0),
                                               np.arange(3.0), method="lm", bounds=(0, 1)),
    "cf lm full, jac": lambda m: m.curve_fit(lambda x, a, b: a * x + b, np.arange(5.0),
                                             np.arange(5.0) ** 1.5,
                                             jac=lambda x, a, b: np.c_[x, np.ones_like(x)],
                                             full_output=True),
    "cf lm jac scheme": lambda m: m.curve_fit(lambda x, a: a * x, np.array([1.0, 2, 3]),
                                              [2.0, 4, 6.1], jac="3-point"),
    "cf varargs": lambda m: m.curve_fit(lambda x, *p: p[0] * x, np.arange(5.0), np.arange(5.0)),
    "cf Bounds, default p0": lambda m: m.curve_fit(
        lambda x, a, b: a * x + b, np.arange(5.0), np.arange(5.0) ** 1.5,
        bounds=scipy.optimize.Bounds([0, -np.inf], [2, 0])),
    "cf nan omit, 2-d sigma": lambda m: m.curve_fit(
        lambda x, a, b: a * x + b, np.array([0, 1, np.nan, 3, 4.0]), np.arange(5.0) ** 1.5,
        sigma=np.eye(5) * 0.1 + 0.01, nan_policy="omit"),
    "cf nan, check_finite False": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, np.nan],
                                                        [2.0, 4, 6.1], check_finite=False),
    "cf nan_policy raise": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, np.nan],
                                                 [2.0, 4, 6.1], nan_policy="raise"),
    "cf inf": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3], [2.0, 4, np.inf]),
    "cf unknown kwarg lm": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3], [2.0, 4, 6.0],
                                                 foo=1),
    "cf unknown kwarg trf": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3],
                                                  [2.0, 4, 6.0], foo=1, method="trf"),
    "cf unknown method": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3], [2.0, 4, 6.0],
                                               method="foo"),
    "cf model wrong length": lambda m: m.curve_fit(lambda x, a, b: np.ones(3) * a,
                                                   [1.0, 2, 3, 4], [2.0, 4, 6.0, 8.5]),
    "cf model wrong length, trf": lambda m: m.curve_fit(lambda x, a, b: np.ones(3) * a,
                                                        [1.0, 2, 3, 4], [2.0, 4, 6.0, 8.5],
                                                        method="trf"),
    "cf model wrong length, 2-d sigma": lambda m: m.curve_fit(
        lambda x, a, b: np.ones(3) * a, [1.0, 2, 3, 4], [2.0, 4, 6.0, 8.5], sigma=np.eye(4)),
    "cf model nan, 2-d sigma": lambda m: m.curve_fit(
        lambda x, a, b: a * x + b * np.nan, [1.0, 2, 3, 4], [2.0, 4, 6.0, 8.5], sigma=np.eye(4)),
    "cf lm jac wrong shape": lambda m: m.curve_fit(
        lambda x, a, b: a * x + b, [1.0, 2, 3, 4], [2.0, 4, 6.0, 8.5],
        jac=lambda x, a, b: np.ones((4, 3))),
    "cf trf jac wrong shape": lambda m: m.curve_fit(
        lambda x, a, b: a * x + b, [1.0, 2, 3, 4], [2.0, 4, 6.0, 8.5], method="trf",
        jac=lambda x, a, b: np.ones((4, 3))),
    "cf nan_policy omit, xdata None": lambda m: m.curve_fit(
        lambda x, a: a * np.arange(3.0), None, [2.0, 4, 6.1], nan_policy="omit"),
    "cf nan_policy omit, y only": lambda m: m.curve_fit(
        lambda x, a: a * x, np.array([1.0, 2, 3, 4]), [2.0, 4, np.nan, 8.1], nan_policy="omit"),
    "cf nan_policy unknown": lambda m: m.curve_fit(
        lambda x, a: a * x, np.array([1.0, 2, 3, 4]), [2.0, 4, 5, 8.1], nan_policy="foo"),
    "cf sigma zeros": lambda m: m.curve_fit(lambda x, a: a * x, np.array([1.0, 2, 3, 4]),
                                            [2.0, 4, 5, 8.1], sigma=np.zeros(4)),
    "cf maxfev and max_nfev, trf": lambda m: m.curve_fit(
        lambda x, a: a * x, np.array([1.0, 2, 3, 4]), [2.0, 4, 5, 8.1], method="trf",
        maxfev=10, max_nfev=10),
    "cf xdata not an array": lambda m: m.curve_fit(lambda x, a: a * np.asarray(x["v"]),
                                                   {"v": [1.0, 2, 3]}, [2.0, 4, 6.1]),
    "cf xdata 2-d": lambda m: m.curve_fit(lambda x, a, b: a * x[0] + b * x[1],
                                          np.array([[1.0, 2, 3, 4], [0, 1, 0, 1]]),
                                          [2.0, 4, 6.0, 8.5]),
    "cf soft_l1 loss": lambda m: m.curve_fit(lambda x, a: a * x, [1.0, 2, 3, 4],
                                             [2.0, 4, 6.0, 20], loss="soft_l1", method="trf"),
    "cf dogbox full": lambda m: m.curve_fit(lambda x, a: a * x, np.array([1.0, 2, 3]),
                                            [2.0, 4, 6.1], method="dogbox", full_output=True),
}


def _outcome(module, case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = CASES[case](module)
        except Exception as e:  # noqa: BLE001 - the point is to compare them
            return ("raised", type(e), str(e)), []
    return ("returned", out), [(w.category, str(w.message)) for w in caught]


def _assert_same(res, ref, where="result", skip=()):
    assert type(res) is type(ref), f"{where}: {type(res)} vs {type(ref)}"
    if isinstance(ref, dict):
        assert list(res) == list(ref), where
        for key in ref:
            _assert_same(res[key], ref[key], f"{where}[{key!r}]", skip)
    elif isinstance(ref, (tuple, list)):
        assert len(res) == len(ref), where
        for k, (a, b) in enumerate(zip(res, ref)):
            _assert_same(a, b, f"{where}[{k}]", skip)
    elif isinstance(ref, (np.ndarray, np.generic, float)):
        ref_arr, res_arr = np.asarray(ref), np.asarray(res)
        assert res_arr.dtype == ref_arr.dtype and res_arr.shape == ref_arr.shape, where
        if any(where.endswith(f"[{key!r}]") for key in skip):
            return
        np.testing.assert_allclose(res_arr, ref_arr, rtol=1e-7, atol=1e-12, err_msg=where)
    else:
        assert res == ref, where


@pytest.mark.parametrize("case", list(CASES))
def test_same_behaviour_as_scipy(case):
    ref, ref_warnings = _outcome(scipy.optimize, case)
    res, res_warnings = _outcome(trustfit, case)
    assert res_warnings == ref_warnings
    assert res[0] == ref[0], (res, ref)
    if ref[0] == "raised":
        assert res[1:] == ref[1:]
    else:
        out = ref[1]
        improper = isinstance(out, tuple) and len(out) == 5 and out[4] == 0
        # With ier == 0 scipy returns uninitialised memory in fjac, ipvt and qtf.
        _assert_same(res[1], out, skip=("fjac", "ipvt", "qtf") if improper else ())
