"""scipy's bundle-adjustment cookbook, side by side: trustfit vs scipy.

The cookbook's setting (numpy residuals of the BAL camera model, `jac_sparsity`,
finite differences by column groups, x_scale='jac'), on a BAL file. scipy runs its
method='trf' (tr_solver='lsmr', the cookbook's); trustfit runs method='sparse_lm'
(Schur steps) with the same Python residual function — the very same one: it is
imported from the peers' `scipy_ba.py` (../shared/bench-peers), which the bench
suite's scipy rows come from.

    python benches/ba_cookbook.py [--ftol 1e-4] [--repeats 3] [--workers N]
        [--scipy-max-nfev N] [--skip-scipy] [FILE]

FILE defaults to $TRUSTFIT_DATA_DIR/bal/problem-49-7776-pre.txt. Solves alternate
(scipy, trustfit, scipy, ...); the best time of each is reported, with the cost.
`--scipy-max-nfev` caps scipy (at ftol 1e-8 it runs for many minutes on
problem-49): the row then says scipy did not finish and the ratio is a lower bound.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.optimize

import trustfit

HERE = Path(__file__).resolve()
PEERS = HERE.parents[3].parent / "shared" / "bench-peers"


def load_peer():
    sys.path.insert(0, str(PEERS))
    import scipy_ba  # noqa: E402  (the peers' cookbook model)

    return scipy_ba


def main():
    data = os.environ.get("TRUSTFIT_DATA_DIR", str(HERE.parents[3].parent / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", nargs="?", default=os.path.join(data, "bal", "problem-49-7776-pre.txt"))
    ap.add_argument("--ftol", type=float, default=1e-4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scipy-max-nfev", type=int, default=None)
    ap.add_argument("--skip-scipy", action="store_true")
    ap.add_argument("--workers", type=int, default=None,
                    help="trustfit's workers (finite-difference groups on threads)")
    ap.add_argument("--scipy-workers", type=int, default=None,
                    help="scipy's workers (scipy >= 1.16: finite differences through a pool)")
    args = ap.parse_args()
    peer = load_peer()
    nc, npnt, ci, pi, obs, x0 = peer.load_bal(args.file)
    prob = peer.BalProblem(nc, npnt, ci, pi, obs)
    A = prob.sparsity()
    common = dict(jac_sparsity=A, x_scale="jac", ftol=args.ftol)
    runs = {"scipy": [], "trustfit": []}
    for _ in range(args.repeats):
        if not args.skip_scipy:
            kw = dict(common, method="trf")
            if args.scipy_workers:
                kw["workers"] = args.scipy_workers
            if args.scipy_max_nfev:
                kw["max_nfev"] = args.scipy_max_nfev
            t0 = time.perf_counter()
            r = scipy.optimize.least_squares(prob.residual, x0, **kw)
            runs["scipy"].append((time.perf_counter() - t0, r))
        t0 = time.perf_counter()
        r = trustfit.least_squares(prob.residual, x0, method="sparse_lm", workers=args.workers,
                                   **common)
        runs["trustfit"].append((time.perf_counter() - t0, r))
    out = {"file": os.path.basename(args.file), "ftol": args.ftol, "workers": args.workers,
           "scipy_workers": args.scipy_workers}
    for name, rs in runs.items():
        if not rs:
            continue
        best, res = min(rs, key=lambda t: t[0])
        f = prob.residual(res.x)
        out[name] = {
            "time_s": round(best, 4),
            "times": [round(t, 3) for t, _ in rs],
            "cost": 0.5 * float(f @ f),
            "nfev": int(res.nfev),
            "njev": None if res.njev is None else int(res.njev),
            "status": int(res.status),
        }
    if runs["scipy"]:
        s, t = out["scipy"], out["trustfit"]
        out["speedup"] = round(s["time_s"] / t["time_s"], 2)
        out["cost_ratio"] = t["cost"] / s["cost"]
        if s["status"] == 0:
            out["note"] = "scipy stopped at max_nfev: the speedup is a lower bound"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
