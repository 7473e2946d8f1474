#!/usr/bin/env python3
"""Differential fuzz of trustfit's many-fit paths against scipy, row by row.

    .venv/bin/python tools/fuzz_batch_vs_scipy.py [bounds|xarray] [SEED] [TRIALS]

- ``bounds``: ``trustfit.batch.curve_fit(method="lockstep")`` on 20 noisy rows of
  a·exp(b·t) + c with random boxes (often active at the minimum), each row against
  ``scipy.optimize.curve_fit`` (trf). Prints the rows that end at a higher cost than
  scipy's without being at a bound-constrained stationary point of their own or a
  local minimum (scipy's trf started there finds nothing lower: a different local
  minimum is not a defect) and the rows that do not converge.
- ``xarray``: ``trustfit.xarray.curvefit`` against xarray's ``DataArray.curvefit`` on
  odd data (NaN, ±inf, ints, an all-NaN fit), p0 and bounds dicts (unknown names,
  NaN, DataArrays, empty or inverted boxes), ``skipna``, ``errors`` and kwargs
  (method, maxfev, ftol, loss). Prints where they end differently: exception type,
  NaN pattern, or coefficients beyond 1e-4 (lock-step LM and trf stop apart by ftol).

Filtered out, as documented (trustfit.xarray's module text and README): ±inf points
left out like NaN where scipy raises; a NaN start, which scipy's MINPACK returns as
the fit and trustfit reports as a failed fit or a ValueError; an inverted box with
only all-NaN fits, which xarray never checks; negative tolerances, which the batch
refuses where scipy warns; ``maxfev=None``, the default count for trustfit, a TypeError
in scipy's leastsq. Left in (rare): with ``errors="raise"``, which failure is reported
first when two fits fail differently (xarray stops at the first fit that fails,
trustfit checks the data before fitting).

Not a test: run it after changing the lock-step engine or the batch/xarray options.
"""

import random
import signal
import sys
import warnings

import numpy as np
import scipy.optimize as so

import trustfit.batch

SECONDS = 20
T = np.linspace(0, 4, 25)


class Timeout(Exception):
    pass


def on_alarm(_signum, _frame):
    raise Timeout(f"still running after {SECONDS} s")


def exp3(x, a, b, c):
    return a * np.exp(b * x) + c


def stationary(x, y, lb, ub):
    """True when each parameter of x is free with a small gradient or on a bound its
    gradient presses against (a bound-constrained stationary point of exp3)."""
    r = exp3(T, *x) - y
    e = np.exp(x[1] * T)
    jac = np.column_stack([e, x[0] * T * e, np.ones_like(T)])
    g = jac.T @ r
    scale = np.linalg.norm(jac, axis=0) * max(np.linalg.norm(r), 1e-300)
    return all((x[j] <= lb[j] and g[j] >= 0) or (x[j] >= ub[j] and g[j] <= 0)
               or abs(g[j]) <= 1e-5 * scale[j] for j in range(3))


def local_minimum(x, y, lb, ub, cost):
    """True when scipy's trf started at x finds no lower cost than `cost` (sum of
    squares) within 1e-6 relative: x is a local minimum, for which a gradient a
    little above `stationary`'s tolerance (an ftol stop) does not say otherwise."""
    x0 = np.clip(x, lb, ub)
    x0 = np.where(x0 <= lb, np.nextafter(lb, np.inf), x0)
    x0 = np.where(x0 >= ub, np.nextafter(ub, -np.inf), x0)
    try:
        res = so.least_squares(lambda p: exp3(T, *p) - y, x0, bounds=(lb, ub))
    except ValueError:
        return False
    return 2 * res.cost >= cost * (1 - 1e-6)


def bounds_trial(rng):
    """Problems found in one batch of bounded lock-step fits."""
    k = 20
    truth = np.column_stack([rng.uniform(0.5, 3, k), rng.uniform(-2, -0.1, k),
                             rng.uniform(-1, 1, k)])
    y = np.array([exp3(T, *p) for p in truth]) + rng.normal(0, 0.05, (k, T.size))
    lb = np.array([rng.choice([-np.inf, 0.0, 1.0]), rng.choice([-np.inf, -1.0]),
                   rng.choice([-np.inf, 0.0, -0.5])])
    ub = np.array([rng.choice([np.inf, 2.0]), rng.choice([np.inf, -0.3, 0.0]),
                   rng.choice([np.inf, 0.3, 0.6])])
    mid = np.where(np.isfinite(lb) & np.isfinite(ub), (lb + ub) / 2, np.nan)
    p0 = np.clip([1.0, -0.5, 0.0], lb, ub)
    p0 = np.where(p0 == lb, np.where(np.isnan(mid), lb + 0.1, mid), p0)
    p0 = np.where(p0 == ub, np.where(np.isnan(mid), ub - 0.1, mid), p0)
    fit = trustfit.batch.curve_fit(exp3, T, y, p0=p0, bounds=(lb, ub), method="lockstep")
    found = []
    for row in range(k):
        try:
            ref, _ = so.curve_fit(exp3, T, y[row], p0=p0, bounds=(lb, ub))
        except (RuntimeError, ValueError):
            continue
        if not fit.success[row]:
            found.append(f"row {row}: not converged (status {fit.status[row]}), scipy {ref}")
            continue
        cost = np.sum((exp3(T, *fit.popt[row]) - y[row]) ** 2)
        cost_ref = np.sum((exp3(T, *ref) - y[row]) ** 2)
        x = fit.popt[row]
        if (cost > cost_ref * (1 + 1e-4) + 1e-12 and not stationary(x, y[row], lb, ub)
                and not local_minimum(x, y[row], lb, ub, cost)):
            found.append(f"row {row}: cost {cost:.6g} vs scipy {cost_ref:.6g}, x {fit.popt[row]}"
                         f" vs {ref}, box {lb} {ub}")
    return found


def decay(t, a, b):
    return a * np.exp(b * t)


def line(t, m, c=0.5):
    return m * t + c


def xarray_trial(rng):
    """Differences between xarray's curvefit and trustfit's on one odd call."""
    import xarray as xr

    import trustfit.xarray

    k = rng.choice([1, 3, 4])
    t = T[:15]
    amps = np.arange(1, k + 1, dtype=float)
    data = np.array([a * np.exp(-0.5 * t) + 0.01 * np.sin(5 * t + a) for a in amps])
    kind = rng.choice(["ok", "ok", "nan", "allnan", "int"])
    if kind == "nan":
        data[0, 2] = np.nan
    if kind == "allnan":
        data[-1] = np.nan
    if kind == "int":
        data = np.round(data * 10).astype(int)
    arr = xr.DataArray(data, dims=("fit", "t"), coords={"t": t, "fit": np.arange(k)})
    func = rng.choice([decay, decay, line])
    pn = ["a", "b"] if func is decay else ["m", "c"]
    p0 = rng.choice([None, {}, {pn[0]: 2.0}, {pn[1]: -1.0}, {"zz": 1.0},
                     {pn[0]: xr.DataArray(amps, dims="fit")}])
    bounds = rng.choice([None, {}, {pn[0]: (0, 10)}, {pn[1]: (-5, 0)}, {pn[0]: (5, 1)},
                         {pn[0]: (0, np.inf), pn[1]: (-np.inf, 0)}])
    kwargs = {}
    for key, values in [("maxfev", [None, 0, 3, -1, 1000]),
                        ("method", ["lm", "trf", "dogbox", "bogus"]),
                        ("ftol", [1e-8, 0.0]), ("loss", ["linear", "soft_l1"])]:
        if rng.random() < 0.15:
            kwargs[key] = rng.choice(values)
    args = dict(p0=p0, bounds=bounds, skipna=rng.choice([True, False]),
                errors=rng.choice(["raise", "ignore", "bogus"]), kwargs=kwargs)
    if kind == "allnan" and bounds and any(lo > hi for lo, hi in bounds.values()):
        return []  # xarray never checks a box no fit uses
    out = []
    for call in (lambda: arr.curvefit("t", func, **args),
                 lambda: trustfit.xarray.curvefit(arr, "t", func, **args)):
        signal.alarm(SECONDS)
        try:
            out.append(("ok", call().curvefit_coefficients.values))
        except Exception as e:  # noqa: BLE001 — every exception is an outcome to compare
            out.append(("err", type(e).__name__, str(e)[:120]))
        finally:
            signal.alarm(0)
    (a, t_) = out
    if kwargs.get("maxfev", 0) is None and a[0] == "err" and "NoneType" in a[2]:
        return []  # scipy's leastsq cannot take maxfev=None; trustfit's default
    shown = f"{kind} {func.__name__} {args}"
    if a[0] != t_[0] or (a[0] == "err" and a[1] != t_[1]):
        return [f"{shown}\n    xarray {a[1:] if a[0] == 'err' else 'ok'} | trustfit "
                f"{t_[1:] if t_[0] == 'err' else 'ok'}"]
    if a[0] == "ok" and (a[1].shape != t_[1].shape
                         or not np.array_equal(np.isnan(a[1]), np.isnan(t_[1]))
                         or not np.allclose(a[1], t_[1], rtol=1e-4, atol=1e-8, equal_nan=True)):
        return [f"{shown}\n    xarray {a[1].tolist()} | trustfit {t_[1].tolist()}"]
    return []


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else "bounds"
    if target not in ("bounds", "xarray"):
        sys.exit("usage: fuzz_batch_vs_scipy.py [bounds|xarray] [SEED] [TRIALS]")
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, on_alarm)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    found = 0
    with np.errstate(all="ignore"):
        for trial in range(trials):
            problems = bounds_trial(nrng) if target == "bounds" else xarray_trial(rng)
            for p in problems:
                print(f"[{trial}] {p}")
            found += len(problems)
    print(f"{target}, seed {seed}: {trials} trials, {found} unexpected differences")


if __name__ == "__main__":
    main()
