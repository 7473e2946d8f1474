#!/usr/bin/env python3
"""scipy's side of `trustfit bench --suite sparse`: the Broyden tridiagonal system
(f_i = (3 - x_i) x_i + 1 - x_{i-1} - 2 x_{i+1}, x0 = -1) solved by scipy's
least_squares with `jac_sparsity` (2-point differences over column groups, trf,
tr_solver 'lsmr'), or with the analytic sparse Jacobian (`--jac analytic`).
Prints one JSON line per size in the peers' schema. Run with one BLAS thread:

    OPENBLAS_NUM_THREADS=1 python3 tools/scipy_sparse_suite.py --sizes 10000,100000
"""

import argparse
import json
import statistics
import time

import numpy as np
import scipy
from scipy.optimize import least_squares
from scipy.sparse import diags_array, lil_array


def fun(x):
    f = (3 - x) * x + 1
    f[1:] -= x[:-1]
    f[:-1] -= 2 * x[1:]
    return f


def sparsity(n):
    a = lil_array((n, n), dtype=int)
    i = np.arange(n)
    a[i, i] = 1
    i = np.arange(1, n)
    a[i, i - 1] = 1
    i = np.arange(n - 1)
    a[i, i + 1] = 1
    return a


def jac(x):
    n = x.size
    return diags_array(
        [np.full(n - 1, -1.0), 3 - 2 * x, np.full(n - 1, -2.0)], offsets=[-1, 0, 1], format="csr"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--jac", default="2-point", choices=["2-point", "3-point", "analytic"])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for n in [int(s) for s in args.sizes.split(",")]:
        x0 = -np.ones(n)
        kw = {"jac": jac} if args.jac == "analytic" else {"jac": args.jac, "jac_sparsity": sparsity(n)}
        times = []
        res = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res = least_squares(fun, x0, **kw)
            times.append(time.perf_counter() - t0)
        print(json.dumps({
            "suite": "sparse", "problem": f"broyden_tridiagonal_n{n}", "start": "-1",
            "solver": f"scipy_{scipy.__version__}", "method": "trf", "jac": args.jac,
            "n": n, "m": n, "nfev": int(res.nfev), "njev": int(res.njev), "status": int(res.status),
            "success": bool(res.success), "cost": float(res.cost),
            "optimality": float(res.optimality), "time_s": statistics.median(times),
            "repeats": len(times), "tr_solver": "lsmr",
        }), flush=True)


if __name__ == "__main__":
    main()
