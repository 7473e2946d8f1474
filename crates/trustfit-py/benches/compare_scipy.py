"""Per-call time of trustfit's least_squares, leastsq and curve_fit vs scipy.optimize's,
same callbacks.

Run: .venv/bin/python crates/trustfit-py/benches/compare_scipy.py [--repeat N]
Prints one line per case: best-of-N per-call times (µs) and the ratio scipy / trustfit
(> 1: trustfit is faster). `nfev` shows scipy's count (scipy/trustfit when they differ).
`ceiling` is the ratio trustfit would reach if its own time were zero: scipy's time over
the time of the user callbacks trustfit makes in one solve, replayed alone (same points,
same timer) — where it is near 1 both libraries spend their time in Python callbacks.
Times are the CPU time of the calling thread by default (`--clock cpu`, robust on a shared
machine; all of both solvers' work runs on that thread); `--clock wall` uses wall time.

`--large` instead runs the large-scale case: Broyden tridiagonal (scipy's documentation
example) with n = 100000 (`--n`) and `jac_sparsity`, scipy (tr_solver lsmr, its default
here) against trustfit with tr_solver lsmr and with 'cholesky' (trustfit's sparse direct
solver); best of `--repeat` (3) wall times each, one BLAS thread.
"""

import argparse
import os
import sys
import time
import timeit
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # scipy with one BLAS thread

import numpy as np  # noqa: E402
import scipy.optimize  # noqa: E402

import trustfit  # noqa: E402

# The residual functions the parity tests use (crates/trustfit-py/tests/problems.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from problems import (  # noqa: E402
    T_DECAY,
    Y_DECAY,
    broyden,
    broyden_sparsity,
    decay,
    expfit,
    expfit_jac,
    gauss,
    rosen,
    rosen_jac,
)


def decay_model(x, a, b):
    return a * np.exp(-b * x)


def decay_model_jac(x, a, b):
    e = np.exp(-b * x)
    return np.column_stack([e, -a * x * e])


X_G = np.linspace(-3, 5, 200)
Y_G = 3.0 * np.exp(-((X_G - 1.2) ** 2) / (2 * 0.8**2)) + 0.2 + 0.1 * np.sin(5 * X_G)
SIGMA_G = 0.05 + 0.01 * np.abs(X_G)


CASES = {
    "exp decay a·exp(-b·t), 2-point": (decay, [1.0, 0.5], {}),
    "expfit linear (seeds, 300 nfev), 2-point": (expfit, [1.0, 1.0, 0.0], {}),
    "rosenbrock, analytic jac": (rosen, [-2.0, 1.0], {"jac": rosen_jac}),
    "rosenbrock, 2-point": (rosen, [-2.0, 1.0], {}),
    "rosenbrock lm, analytic jac": (rosen, [-2.0, 1.0], {"jac": rosen_jac, "method": "lm"}),
    "robust expfit soft_l1 f_scale=0.1": (
        expfit, [1.0, 1.0, 0.0], {"loss": "soft_l1", "f_scale": 0.1}
    ),
    "robust expfit soft_l1, dogbox": (
        expfit, [1.0, 1.0, 0.0], {"loss": "soft_l1", "f_scale": 0.1, "method": "dogbox"}
    ),
}


# leastsq(func, x0, **kw): scipy runs MINPACK in C, trustfit runs its Rust port; both call
# the same Python residuals, so the ratio measures the wrapper and iteration overheads.
LEASTSQ_CASES = {
    "leastsq rosenbrock": (rosen, [-1.2, 1.0], {}),
    "leastsq rosenbrock, Dfun": (rosen, [-1.2, 1.0], {"Dfun": rosen_jac}),
    "leastsq expfit, full_output": (expfit, [1.0, 1.0, -0.5], {"full_output": True}),
    "leastsq expfit, Dfun, full_output": (
        expfit, [1.0, 1.0, -0.5], {"Dfun": expfit_jac, "full_output": True}
    ),
}

# curve_fit(f, xdata, ydata, **kw).
CURVE_FIT_CASES = {
    "curve_fit decay (lm)": (decay_model, T_DECAY, Y_DECAY, {"p0": [1.0, 0.5]}),
    "curve_fit decay, jac (lm)": (
        decay_model, T_DECAY, Y_DECAY, {"p0": [1.0, 0.5], "jac": decay_model_jac}
    ),
    "curve_fit decay, trf": (decay_model, T_DECAY, Y_DECAY, {"p0": [1.0, 0.5], "method": "trf"}),
    "curve_fit decay, bounds (trf)": (
        decay_model, T_DECAY, Y_DECAY, {"p0": [1.0, 0.5], "bounds": ([0, 0], [2.5, 1.0])}
    ),
    "curve_fit decay, bounds, dogbox": (
        decay_model, T_DECAY, Y_DECAY,
        {"p0": [1.0, 0.5], "bounds": ([0, 0], [2.5, 1.0]), "method": "dogbox"},
    ),
    "curve_fit gauss m=200, sigma 1-D (lm)": (
        gauss, X_G, Y_G, {"p0": [2.0, 0.5, 1.0, 0.0], "sigma": SIGMA_G}
    ),
    "curve_fit gauss m=200, sigma 1-D, trf": (
        gauss, X_G, Y_G, {"p0": [2.0, 0.5, 1.0, 0.0], "sigma": SIGMA_G, "method": "trf"}
    ),
    "curve_fit gauss m=200, sigma 2-D, trf": (
        gauss, X_G, Y_G,
        {"p0": [2.0, 0.5, 1.0, 0.0], "sigma": np.diag(SIGMA_G**2), "method": "trf"},
    ),
}


TIMER = time.thread_time


def per_call_pair(call_scipy, call_ours, repeat):
    """Best-of-`repeat` per-call times of two zero-argument calls, measured alternately
    (so that a change of machine load affects both alike), ~0.1 s per measurement."""
    timers = [timeit.Timer(call, timer=TIMER) for call in (call_scipy, call_ours)]
    numbers = [
        max(1, int(0.1 / max(timeit.Timer(call).timeit(1), 1e-6)))
        for call in (call_scipy, call_ours)
    ]
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for k in (0, 1):
            best[k] = min(best[k], timers[k].timeit(numbers[k]) / numbers[k])
    return best


def recorded(kw, *callables):
    """The callables with the callable values of `kw`, each wrapped to log its calls
    (callable, positional args) into the returned list; arrays are copied."""
    log = []

    def wrap(f):
        if not callable(f):
            return f

        def logged(*a):
            log.append((f, tuple(np.array(v) if isinstance(v, np.ndarray) else v for v in a)))
            return f(*a)
        return logged

    kw = {k: wrap(v) if k in ("jac", "Dfun") else v for k, v in kw.items()}
    return log, kw, [wrap(f) for f in callables]


def replay_time(log, repeat):
    """Best-of-`repeat` time of making the logged calls again, one after the other."""
    def replay():
        for f, a in log:
            f(*a)
    number = max(1, int(0.1 / max(timeit.Timer(replay).timeit(1), 1e-6)))
    timer = timeit.Timer(replay, timer=TIMER)
    return min(timer.timeit(number) / number for _ in range(repeat))


def best_wall(call, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - t)
    return best, out


def large(n, repeat):
    """Broyden tridiagonal with `jac_sparsity`, side by side, best-of-`repeat` wall times."""
    x0 = -np.ones(n)
    sparsity = broyden_sparsity(n)
    t_scipy, ref = best_wall(
        lambda: scipy.optimize.least_squares(broyden, x0, jac_sparsity=sparsity), repeat
    )
    print(f"Broyden tridiagonal n={n}, jac_sparsity; best of {repeat} wall times")
    print(f"{'solver':28} {'nfev':>5} {'cost':>10} {'time s':>8} {'scipy/trustfit':>15}")
    print(f"{'scipy (lsmr)':28} {ref.nfev:>5} {ref.cost:>10.3e} {t_scipy:>8.3f}")
    for tr_solver in ("lsmr", "cholesky"):
        t, res = best_wall(
            lambda: trustfit.least_squares(
                broyden, x0, jac_sparsity=sparsity, tr_solver=tr_solver
            ),
            repeat,
        )
        print(f"{'trustfit (' + tr_solver + ')':28} {res.nfev:>5} {res.cost:>10.3e} "
              f"{t:>8.3f} {t_scipy / t:>14.2f}×", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    if args.large:
        large(args.n, args.repeat or 3)
        return
    repeat = args.repeat or 10
    global TIMER
    TIMER = time.thread_time if args.clock == "cpu" else time.perf_counter
    print(f"{'case':44} {'nfev':>5} {'scipy µs':>10} {'trustfit µs':>12} {'ratio':>7} "
          f"{'callbacks µs':>13} {'ceiling':>8}")
    for name, (fun, x0, kw) in LEASTSQ_CASES.items():
        compare(name, lambda mod, f, k: mod.leastsq(f, x0, **k), fun, kw, nfev_in_info,
                repeat, full={"full_output": True})
    for name, (f, xdata, ydata, kw) in CURVE_FIT_CASES.items():
        compare(name, lambda mod, g, k: mod.curve_fit(g, xdata, ydata, **k), f, kw,
                nfev_in_info, repeat, full={"full_output": True})
    for name, (fun, x0, kw) in CASES.items():
        compare(name, lambda mod, f, k: mod.least_squares(f, x0, **k), fun, kw,
                lambda r: r.nfev, repeat)


def nfev_in_info(out):
    """nfev of leastsq's or curve_fit's full output."""
    return out[2]["nfev"]


def compare(name, call, f, kw, nfev_of, repeat, full=None):
    """One case: `call(module, f, kw)` solves it with scipy.optimize or trustfit; nfev
    from `nfev_of` of a call with `full` added; the times side by side, and the time of
    the callbacks trustfit makes, replayed alone."""
    full = full or {}
    ref = nfev_of(call(scipy.optimize, f, {**kw, **full}))
    ours = nfev_of(call(trustfit, f, {**kw, **full}))
    nfev = f"{ref}" if ref == ours else f"{ref}/{ours}"
    log, logged_kw, (logged_f,) = recorded(kw, f)
    call(trustfit, logged_f, logged_kw)
    report(name, nfev, *per_call_pair(
        lambda: call(scipy.optimize, f, kw),
        lambda: call(trustfit, f, kw),
        repeat,
    ), replay_time(log, repeat))


def report(name, nfev, t_scipy, t_ours, t_callbacks):
    print(f"{name:44} {nfev:>5} {t_scipy * 1e6:>10.1f} {t_ours * 1e6:>12.1f} "
          f"{t_scipy / t_ours:>6.2f}× {t_callbacks * 1e6:>13.1f} {t_scipy / t_callbacks:>7.1f}×",
          flush=True)


if __name__ == "__main__":
    main()
