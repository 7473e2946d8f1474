"""Per-call time of trustfit.least_squares vs scipy.optimize.least_squares, same callbacks.

Run: .venv/bin/python crates/trustfit-py/benches/compare_scipy.py [--repeat N]
Prints one line per case: best-of-N per-call times (µs) and the ratio scipy / trustfit.
"""

import argparse
import timeit

import numpy as np
import scipy.optimize

import trustfit


def rosen(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def rosen_jac(x):
    return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


T = np.linspace(0, 10, 15)
Y = 0.5 + 2 * np.exp(-T) + 0.1 * np.sin(3 * T)
Y[3] += 2
Y[8] += 2


def expfit(p):
    return p[0] + p[1] * np.exp(p[2] * T) - Y


T_DECAY = np.linspace(0, 4, 25)
Y_DECAY = 3.0 * np.exp(-1.3 * T_DECAY) + 0.05 * np.cos(7 * T_DECAY)


def decay(p):
    return p[0] * np.exp(-p[1] * T_DECAY) - Y_DECAY


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


def per_call(solver, fun, x0, kw, repeat):
    number = max(1, int(0.2 / max(timeit.timeit(lambda: solver(fun, x0, **kw), number=1), 1e-6)))
    best = min(timeit.repeat(lambda: solver(fun, x0, **kw), number=number, repeat=repeat))
    return best / number


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    print(f"{'case':44} {'nfev':>5} {'scipy µs':>10} {'trustfit µs':>12} {'ratio':>7}")
    for name, (fun, x0, kw) in CASES.items():
        ref = scipy.optimize.least_squares(fun, x0, **kw)
        res = trustfit.least_squares(fun, x0, **kw)
        nfev = f"{ref.nfev}" if ref.nfev == res.nfev else f"{ref.nfev}/{res.nfev}"
        t_scipy = per_call(scipy.optimize.least_squares, fun, x0, kw, repeat)
        t_ours = per_call(trustfit.least_squares, fun, x0, kw, repeat)
        print(f"{name:44} {nfev:>5} {t_scipy * 1e6:>10.1f} {t_ours * 1e6:>12.1f} "
              f"{t_scipy / t_ours:>6.1f}×")


if __name__ == "__main__":
    main()
