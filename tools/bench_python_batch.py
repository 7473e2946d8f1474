#!/usr/bin/env python3
"""trustfit.batch.curve_fit on the batch workload (Gpufit's 10^5 2-D Gaussians on 5x5
pixels), end to end from numpy arrays to numpy arrays, one JSON line per run with the
fields of `trustfit bench --suite batch` and `scipy_batch.py`:

  trustfit_py_formula    the formula model, compiled in Rust (all threads unless --threads)
  trustfit_py_numpy      a vectorized numpy model (one thread: every call needs the GIL)

Settings as the bench rows: method 'lockstep' (or --method), ftol = xtol = 1e-4,
max_nfev = 11 (Cpufit's tolerance and 10-iteration cap), exact derivatives for the
formula, forward differences for the numpy model (or --numpy-jac for its vectorized
analytic Jacobian).

Usage (from the project root, with the package installed):
    python3 tools/bench_python_batch.py [--data FILE] [--n N] [--repeat R]
        [--models formula,numpy] [--threads T] [--method lockstep|lm]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench-peers", "python"))

import trustfit.batch  # noqa: E402

FORMULA = "A*exp(-((x-x0)^2+(y-y0)^2)/(2*w^2)) + b"


def read(path: str):
    import gen_gauss2d
    data, init, truth, size = gen_gauss2d.read(path)
    return (np.asarray(data, np.float64), np.asarray(init, np.float64),
            np.asarray(truth, np.float64), size)


def gauss(xy, a, x0, y0, w, b):
    x, y = xy
    return a * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * w * w)) + b


def gauss_jac(xy, a, x0, y0, w, b):
    x, y = xy
    dx, dy = x - x0, y - y0
    r2 = dx * dx + dy * dy
    e = np.exp(-r2 / (2 * w * w))
    ae = a * e / (w * w)
    one = np.ones_like(e)
    return np.stack([e, ae * dx, ae * dy, ae * r2 / w, one], axis=-1)


def median_abs_err(est, truth):
    e = np.abs(est - truth)
    e[~np.isfinite(e)] = np.inf
    return float(np.median(e))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data", "batch",
                                                   "gauss2d_5x5_100k.bin"))
    ap.add_argument("--n", type=int, default=None, help="fits (tiled beyond the file's)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default="formula,numpy")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--method", default="lockstep")
    ap.add_argument("--numpy-jac", action="store_true")
    args = ap.parse_args(argv)
    data, init, truth, size = read(args.data)
    if args.n:  # the first N fits, the file tiled beyond its own (as `trustfit bench --n`)
        reps = -(-args.n // data.shape[0])
        data, init, truth = (np.tile(a, (reps, 1))[:args.n] for a in (data, init, truth))
    k = data.shape[0]
    yy, xx = np.divmod(np.arange(size * size, dtype=float), size)
    opts = dict(ftol=1e-4, xtol=1e-4, max_nfev=11, method=args.method)
    for model in args.models.split(","):
        for run in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            if model == "formula":
                fit = trustfit.batch.curve_fit(FORMULA, {"x": xx, "y": yy}, data, p0=init,
                                               threads=args.threads, **opts)
                threads = args.threads or os.cpu_count()
            else:
                kw = dict(opts, jac=gauss_jac) if args.numpy_jac else opts
                fit = trustfit.batch.curve_fit(gauss, np.vstack([xx, yy]), data, p0=init, **kw)
                threads = 1
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(json.dumps({
                "suite": "batch", "problem": f"gauss2d_{size}x{size}",
                "solver": f"trustfit_py_{model}" + ("_jac" if model == "numpy" and args.numpy_jac else ""),
                "method": args.method, "n_fits": k, "threads": threads, "run": run,
                "time_s": wall, "cpu_s": cpu, "fits_per_s": k / wall,
                "converged": int(np.count_nonzero(fit.success)),
                "mean_nfev": float(np.mean(fit.nfev)),
                "median_abs_err_x0": median_abs_err(fit.popt[:, 1], truth[:, 1]),
                "median_abs_err_y0": median_abs_err(fit.popt[:, 2], truth[:, 2]),
            }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
