"""How fast a second Python thread runs while least_squares works (issue 17, GIL): a
counter thread increments in a pure-Python loop, first alone (its idle rate), then during
a solve of Broyden tridiagonal, n = 2·10^5, with `jac_sparsity` and tr_solver='lsmr'
(scipy's documentation example, scaled), whose time is spent in Rust. Prints both rates
and their ratio (1.0: the solve does not slow the other thread at all; with the GIL held
for the whole solve it would be near 0).

Run: .venv/bin/python crates/trustfit-py/benches/gil.py [--n 200000] [--repeat 3]
"""

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

import trustfit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from problems import broyden, broyden_sparsity  # noqa: E402


def count_while(work):
    """Increments per second of a counter thread while `work()` runs; and work's time."""
    done = threading.Event()
    counts = [0]

    def count():
        c = 0
        while not done.is_set():
            for _ in range(1000):
                c += 1
            counts[0] = c

    thread = threading.Thread(target=count)
    thread.start()
    t0 = time.perf_counter()
    work()
    t1 = time.perf_counter()
    done.set()
    thread.join()
    return counts[0] / (t1 - t0), t1 - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    sparsity = broyden_sparsity(a.n)
    x0 = -np.ones(a.n)

    def solve():
        trustfit.least_squares(broyden, x0, jac_sparsity=sparsity, tr_solver="lsmr")

    for _ in range(a.repeat):
        idle, _ = count_while(lambda: time.sleep(1.0))
        busy, seconds = count_while(solve)
        print(f"counter alone {idle:,.0f}/s, during the solve ({seconds:.2f} s) {busy:,.0f}/s: "
              f"{busy / idle:.0%} of its idle rate")


if __name__ == "__main__":
    main()
