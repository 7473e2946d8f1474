"""The same calls through scipy.optimize.least_squares and trustfit.least_squares.

Grid: problems x methods x losses x bounds x Jacobian kinds. Each case must end with the
same status and the same x (rtol 1e-6), except the cases listed in ROUNDING_SENSITIVE,
where scipy's path is driven by rounding (see the reasons there) and trustfit must end
no worse: cost <= scipy's cost * (1 + 1e-8).
"""

import itertools

import numpy as np
import pytest
import scipy.optimize

import trustfit
from problems import decay, decay_jac, expfit, expfit_jac, rosen, rosen_jac

# x agreement where both follow the same path: iterates agree up to LAPACK/BLAS rounding,
# amplified by at most a few iterations.
X_RTOL = 1e-6
X_ATOL = 1e-10
# "No worse than scipy" margin for rounding-driven paths.
COST_SLACK = 1e-8


def linear2(x):
    return np.array([3 * x[0] + x[1] - 9, x[0] + 2 * x[1] - 8, x[0] - x[1]])


def linear2_jac(x):
    return np.array([[3.0, 1.0], [1.0, 2.0], [1.0, -1.0]])


# name: (fun, jac, x0, bounds, f_scale)
PROBLEMS = {
    "rosen": (rosen, rosen_jac, [-2.0, 1.0], ([-np.inf, -1.5], np.inf), 1.0),
    "rosen22": (rosen, rosen_jac, [2.0, 2.0], ([-np.inf, 1.5], np.inf), 1.0),
    # The seeds' robust fit. With the linear loss it starts on a Jacobian with two identical
    # columns (exp(0·t) = 1), where the step is decided by LAPACK rounding (scipy itself
    # ends in different basins with '2-point' and 'cs'); "expfit_lin" covers that loss.
    "expfit": (expfit, expfit_jac, [1.0, 1.0, 0.0], ([0, 0, -2], [3, 3, 0]), 0.1),
    "expfit_lin": (expfit, expfit_jac, [1.0, 1.0, -0.5], ([0, 0, -2], [3, 3, 0]), 1.0),
    "decay": (decay, decay_jac, [1.0, 0.5], ([0, 0.2], [2.5, 1.0]), 1.0),
    "linear": (linear2, linear2_jac, [0.0, 0.0], ([-1, -1], [10, 2.5]), 1.0),
}
METHODS = ["trf", "dogbox", "lm"]
LOSSES = ["linear", "soft_l1", "huber", "cauchy", "arctan"]
JACS = ["2-point", "3-point", "cs", "callable"]
BOUNDED = [False, True]

# (problem, method, loss, bounded, jac) patterns ("*" matches anything) whose scipy path is
# rounding-sensitive, each with the reason. Checked with cost <= scipy cost * (1 + 1e-8).
_LAST_BITS = (
    "same x; the run ends where cost reductions and gradients are at rounding level, so "
    "which of the ftol/gtol/xtol tests fires first (the status) is decided by rounding"
)
ROUNDING_SENSITIVE = {
    # On an AVX-512 (Zen 4) machine scipy's own path moves by 1.3e-6 / 1.5e-6 relative in
    # x (OpenBLAS picks other kernels there): arctan's flat minimum of expfit.
    ("expfit", "trf", "arctan", True, "cs"): "flat arctan minimum; x follows scipy's BLAS rounding",
    ("expfit", "dogbox", "arctan", False, "3-point"): (
        "flat arctan minimum; x follows scipy's BLAS rounding"
    ),
    ("linear", "*", "*", "*", "2-point"): _LAST_BITS,
    ("decay", "trf", "linear", False, "2-point"): _LAST_BITS,
    ("rosen22", "dogbox", "arctan", True, "3-point"): _LAST_BITS,
    ("expfit", "trf", "arctan", True, "2-point"): (
        "flat valley: cost agrees to 1e-11 but x[0], x[1] only to 1e-4"
    ),
    ("expfit", "dogbox", "arctan", False, "2-point"): (
        "both stop at max_nfev while diverging along a valley (x ~ 4e2); the iterates "
        "drift apart by rounding, the costs agree to 2e-9"
    ),
}


def _cases():
    for name, method, loss, bounded, jac in itertools.product(
        PROBLEMS, METHODS, LOSSES, BOUNDED, JACS
    ):
        if method == "lm" and (loss != "linear" or bounded):
            continue
        if (name == "expfit") == (loss == "linear") and name in ("expfit", "expfit_lin"):
            continue
        yield pytest.param(name, method, loss, bounded, jac, id=f"{name}-{method}-{loss}-"
                           f"{'bounded' if bounded else 'free'}-{jac}")


def _rounding_sensitive(case):
    for pattern, reason in ROUNDING_SENSITIVE.items():
        if all(p == "*" or p == c for p, c in zip(pattern, case)):
            return reason
    return None


@pytest.mark.parametrize("name, method, loss, bounded, jac", list(_cases()))
def test_same_result_as_scipy(name, method, loss, bounded, jac):
    fun, jac_fun, x0, bounds, f_scale = PROBLEMS[name]
    kw = dict(
        jac=jac_fun if jac == "callable" else jac,
        method=method,
        loss=loss,
        f_scale=f_scale,
    )
    if bounded:
        kw["bounds"] = bounds
    ref = scipy.optimize.least_squares(fun, x0, **kw)
    res = trustfit.least_squares(fun, x0, **kw)

    assert type(res) is type(ref)
    assert sorted(res.keys()) == sorted(ref.keys())
    reason = _rounding_sensitive((name, method, loss, bounded, jac))
    if reason is None:
        assert res.status == ref.status
        np.testing.assert_allclose(res.x, ref.x, rtol=X_RTOL, atol=X_ATOL)
        np.testing.assert_allclose(res.cost, ref.cost, rtol=1e-6, atol=1e-12)
    else:
        assert res.cost <= ref.cost * (1 + COST_SLACK), reason
    assert res.active_mask.dtype == ref.active_mask.dtype
    assert res.jac.shape == ref.jac.shape
    assert (res.njev is None) == (ref.njev is None)
