"""`workers` on a problem whose residuals release the GIL (numpy on 50 000 points):
wall time of least_squares with workers=None, 2 and multiprocessing.Pool(2).map, and
whether x is bit for bit the serial one.

Run: .venv/bin/python crates/trustfit-py/benches/workers.py [--repeat 3] [--n 24] [--m 50000]
"""

import argparse
import multiprocessing
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import trustfit  # noqa: E402

T = None


def fun(p):
    """exp(−Σ p_k cos((k+1)t)) against a target: n numpy passes over m points."""
    s = np.zeros_like(T)
    for k, pk in enumerate(p):
        s += pk * np.cos((k + 1) * T)
    return np.exp(-s) - np.exp(-0.1 * np.sin(T))


def init(m):
    global T
    T = np.linspace(0.0, 1.0, m)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--m", type=int, default=50_000)
    ap.add_argument("--max-nfev", type=int, default=4)
    a = ap.parse_args()
    init(a.m)
    x0 = np.full(a.n, 0.01)
    with multiprocessing.Pool(2, initializer=init, initargs=(a.m,)) as pool:
        ref = None
        for name, w in [("workers=None", None), ("workers=2", 2), ("Pool(2).map", pool.map)]:
            times = []
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                r = trustfit.least_squares(fun, x0, workers=w, max_nfev=a.max_nfev)
                times.append(time.perf_counter() - t0)
            ref = r.x if ref is None else ref
            print(f"{name:13s} best {min(times):.3f} s  median {sorted(times)[len(times) // 2]:.3f} s"
                  f"  njev {r.njev}  same x: {np.array_equal(r.x, ref)}")


if __name__ == "__main__":
    main()
