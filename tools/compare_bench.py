#!/usr/bin/env python3
"""Compare two benchmark JSON-lines files case by case.

    python3 tools/compare_bench.py BASELINE.jsonl CANDIDATE.jsonl [--worse-factor 2] [--no-resolve]

Typical use: BASELINE = scipy (``shared/bench-peers/python/scipy_suite.py``),
CANDIDATE = ``trustfit bench`` (same suite, method and analytic Jacobian).
Rows are joined on (suite, problem, start); rows without a problem (the
``{"suite": "env"}`` line of run_all.sh) are skipped.

Printed per suite: number of cases on each side and joined; errors; the cases
with the same status and nfev on both sides (the others listed: e.g. `--jac
analytic` against `--jac auto`, issue 16's acceptance 1);
MINPACK: cases reaching the global minimum (the row's ``class`` field, or
``problems_minpack.classify_ssq(2 * cost, known_ssq)`` when absent); NIST:
cases with worst-parameter LRE >= 4 (the row's ``lre_params`` /
``lre_min_param``, else computed with ``problems_nist.lre`` from ``x``);
total nfev (and njev when both sides report it) over the joined cases; the
median and geometric mean of the per-case time ratio baseline / candidate
(> 1: the candidate is faster); and the cases where the candidate is much
worse than the baseline (minimum lost, LRE lost, cost higher, nfev or time
more than --worse-factor times the baseline's;
cost higher by more than --cost-rtol).

scipy_suite.py writes neither ``x`` nor LRE. For such NIST rows of solver
"scipy" the script re-runs scipy's least_squares (same method, analytic
Jacobian, default options: deterministic, so the same x) to get the
parameters; --no-resolve skips that and leaves their parameter LRE unknown.

The problem definitions come from ``shared/bench-peers/python`` (next to
the workspace root, or $BENCH_PEERS_PY).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS_PY = os.environ.get("BENCH_PEERS_PY") or os.path.normpath(
    os.path.join(HERE, "..", "..", "shared", "bench-peers", "python"))

Key = Tuple[str, str, str]

_minpack_known: Optional[Dict[Tuple[str, str], Optional[list]]] = None
_nist: Dict[str, object] = {}


def _peers():
    if PEERS_PY not in sys.path:
        sys.path.insert(0, PEERS_PY)


def known_ssq(problem: str, start: str):
    global _minpack_known
    if _minpack_known is None:
        _peers()
        import problems_minpack
        _minpack_known = {(c.label, c.start): c.known_ssq for c in problems_minpack.cases()}
    return _minpack_known.get((problem, start))


def classify(row) -> Optional[str]:
    if row.get("class"):
        return row["class"]
    cost = row.get("cost")
    if cost is None:
        return None
    _peers()
    import problems_minpack
    return problems_minpack.classify_ssq(2.0 * cost, known_ssq(row["problem"], row["start"]))


def nist_problem(name: str):
    if name not in _nist:
        _peers()
        import problems_nist
        _nist[name] = problems_nist.load(name)
    return _nist[name]


def nist_x(row, resolve: bool):
    if row.get("x") is not None:
        return row["x"]
    if not resolve or row.get("solver") != "scipy" or row.get("method") not in ("trf", "dogbox", "lm"):
        return None
    import warnings
    import numpy as np
    from scipy.optimize import least_squares
    p = nist_problem(row["problem"])
    k = 1 if row["start"] == "start1" else 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            res = least_squares(p.residual, p.start(k), jac=p.jacobian, method=row["method"])
    if int(res.nfev) != row.get("nfev"):
        print(f"note: re-solved {row['problem']} {row['start']} took nfev {res.nfev}, "
              f"the row says {row.get('nfev')}", file=sys.stderr)
    row["x"] = [float(v) for v in res.x]
    return row["x"]


def lre_params(row, resolve: bool) -> Optional[float]:
    for k in ("lre_params", "lre_min_param"):
        if row.get(k) is not None:
            return float(row[k])
    x = nist_x(row, resolve)
    if x is None:
        return None
    _peers()
    import problems_nist
    p = nist_problem(row["problem"])
    if any(v is None for v in x):
        return 0.0
    return min(problems_nist.lre(float(v), float(c), d)
               for v, c, d in zip(x, p.certified, p.certified_digits))


def load(path: str) -> Dict[Key, dict]:
    rows: Dict[Key, dict] = {}
    with open(path) as fh:
        for ln, line in enumerate(fh, 1):
            line = line.strip()
            if not line or not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{path}:{ln}: skipped, not JSON: {e}", file=sys.stderr)
                continue
            if "problem" not in r or "start" not in r:
                continue
            key = (r.get("suite", ""), r["problem"], r["start"])
            if key in rows:
                print(f"{path}:{ln}: duplicate {key}, keeping the first", file=sys.stderr)
                continue
            rows[key] = r
    return rows


def ok(r) -> bool:
    return "error" not in r and r.get("cost") is not None


def label(rows: Dict[Key, dict], path: str) -> str:
    solvers = sorted({f"{r.get('solver', '?')}/{r.get('method', '?')}" for r in rows.values()})
    return ",".join(solvers) or os.path.basename(path)


def gmean(v: List[float]) -> float:
    return math.exp(sum(math.log(x) for x in v) / len(v)) if v else float("nan")


def fmt(v: Optional[float], spec: str = ".3g") -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def compare(a: Dict[Key, dict], b: Dict[Key, dict], la: str, lb: str, args) -> None:
    suites = sorted({k[0] for k in a} | {k[0] for k in b})
    for suite in suites:
        ka = [k for k in a if k[0] == suite]
        kb = [k for k in b if k[0] == suite]
        joined = [k for k in ka if k in b]
        both = [k for k in joined if ok(a[k]) and ok(b[k])]
        print(f"== suite {suite}: baseline {la} vs candidate {lb}")
        print(f"cases: baseline {len(ka)}, candidate {len(kb)}, joined {len(joined)}, "
              f"both solved {len(both)}")
        print(f"errors: baseline {sum(not ok(a[k]) for k in ka)}, "
              f"candidate {sum(not ok(b[k]) for k in kb)}")
        for side, rows in (("baseline only", [k for k in ka if k not in b]),
                           ("candidate only", [k for k in kb if k not in a])):
            if rows:
                print(f"{side}: " + ", ".join(f"{p}/{s}" for _, p, s in rows))
        worse: List[str] = []
        if suite == "minpack":
            ca = {k: classify(a[k]) for k in both}
            cb = {k: classify(b[k]) for k in both}
            for name in ("global", "local", "other", "unknown"):
                print(f"{name:>8}: baseline {sum(v == name for v in ca.values()):3d}, "
                      f"candidate {sum(v == name for v in cb.values()):3d}")
            for k in both:
                if ca[k] == "global" and cb[k] != "global":
                    worse.append(f"{k[1]}/{k[2]}: minimum lost ({cb[k]}, cost {fmt(b[k]['cost'])} "
                                  f"vs {fmt(a[k]['cost'])})")
        elif suite == "nist":
            la_ = {k: lre_params(a[k], args.resolve) for k in both}
            lb_ = {k: lre_params(b[k], args.resolve) for k in both}
            for side, d in (("baseline", la_), ("candidate", lb_)):
                known = [v for v in d.values() if v is not None]
                print(f"lre_params >= 4: {side} {sum(v >= 4 for v in known)} of {len(known)}"
                      f" (>= 6: {sum(v >= 6 for v in known)})"
                      + (f", {len(d) - len(known)} unknown" if len(known) < len(d) else ""))
            for k in both:
                if la_[k] is not None and lb_[k] is not None and la_[k] >= 4 > lb_[k]:
                    worse.append(f"{k[1]}/{k[2]}: LRE lost ({lb_[k]:.1f} vs {la_[k]:.1f})")
        for k in both:
            ra, rb = a[k], b[k]
            cost_a, cost_b = ra["cost"], rb["cost"]
            lost = any(w.startswith(f"{k[1]}/{k[2]}: ") for w in worse)
            if not lost and cost_b > cost_a * (1 + args.cost_rtol) + 1e-12:
                worse.append(f"{k[1]}/{k[2]}: cost {fmt(cost_b)} vs {fmt(cost_a)}")
            na, nb = ra.get("nfev"), rb.get("nfev")
            if na and nb and nb > args.worse_factor * na and nb - na >= 10:
                worse.append(f"{k[1]}/{k[2]}: nfev {nb} vs {na}")
            ta, tb = ra.get("time_s"), rb.get("time_s")
            if ta and tb and tb > args.worse_factor * ta:
                worse.append(f"{k[1]}/{k[2]}: time {fmt(tb)} s vs {fmt(ta)} s ({ta / tb:.2f}x)")
        nfa = sum(a[k].get("nfev") or 0 for k in both)
        nfb = sum(b[k].get("nfev") or 0 for k in both)
        line = f"total nfev: baseline {nfa}, candidate {nfb}"
        if all(a[k].get("njev") is not None for k in both) and all(
                b[k].get("njev") is not None for k in both):
            line += (f"; total njev: baseline {sum(a[k]['njev'] for k in both)}, "
                     f"candidate {sum(b[k]['njev'] for k in both)}")
        print(line)
        same = [k for k in both if (a[k].get("status"), a[k].get("nfev"))
                == (b[k].get("status"), b[k].get("nfev"))]
        print(f"same status and nfev: {len(same)} of {len(both)}"
              + (f" ({100 * len(same) / len(both):.1f} %)" if both else ""))
        for k in both:
            if k not in same:
                print(f"  {k[1]}/{k[2]}: status {a[k].get('status')} -> {b[k].get('status')}, "
                      f"nfev {a[k].get('nfev')} -> {b[k].get('nfev')}, "
                      f"cost {a[k]['cost']!r} -> {b[k]['cost']!r}")
        ratios = [a[k]["time_s"] / b[k]["time_s"] for k in both
                  if a[k].get("time_s") and b[k].get("time_s")]
        if ratios:
            ta = sum(a[k]["time_s"] for k in both)
            tb = sum(b[k]["time_s"] for k in both)
            print(f"time ratio baseline/candidate over {len(ratios)} cases: "
                  f"median {statistics.median(ratios):.2f}, geometric mean {gmean(ratios):.2f}, "
                  f"min {min(ratios):.2f}, max {max(ratios):.2f}; "
                  f"summed time {ta:.4g} s vs {tb:.4g} s")
        if worse:
            print(f"candidate much worse ({len(worse)}):")
            for w in worse:
                print(f"  {w}")
        else:
            print("candidate much worse: none")
        print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("baseline", help="JSON-lines file (e.g. scipy_suite.py output)")
    ap.add_argument("candidate", help="JSON-lines file (e.g. trustfit bench output)")
    ap.add_argument("--worse-factor", type=float, default=2.0,
                    help="flag nfev / time above this multiple of the baseline's (default 2)")
    ap.add_argument("--cost-rtol", type=float, default=1e-2,
                    help="flag a final cost above the baseline's by more than this fraction (default 1e-2)")
    ap.add_argument("--no-resolve", dest="resolve", action="store_false",
                    help="do not re-run scipy to recover x for NIST rows without x")
    args = ap.parse_args(argv)
    try:
        a, b = load(args.baseline), load(args.candidate)
    except OSError as e:
        print(f"compare_bench.py: {e}", file=sys.stderr)
        return 2
    compare(a, b, label(a, args.baseline), label(b, args.candidate), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
