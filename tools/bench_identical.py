#!/usr/bin/env python3
"""Record, then compare, every deterministic field of `trustfit bench` rows.

    python3 tools/bench_identical.py record BINARY OUT.jsonl [--quick] [--data-dir DIR]
    python3 tools/bench_identical.py diff OLD.jsonl NEW.jsonl

`record` runs BINARY (a built `trustfit`) over the matrix a refactor must keep bit for
bit: MINPACK-53 and NIST StRD for every method (trf, dogbox, lm, leastsq) and
Jacobian (analytic, 2-point, 3-point); the sparse suite (trf with lsmr and
cholesky; analytic and 2-point J); bundle adjustment problem-49 with schur.
`--quick` leaves out BA (the longest run).

`diff` joins rows on (suite, problem, start, method, jac, tr_solver) and requires
every field to be equal except the timing ones (`time_s`, `repeats`, and per-second
rates). Floats are compared as printed (shortest round-trip), i.e. bit for bit.
Exit status 0 when identical, 1 otherwise (each difference printed).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Dict, List, Tuple

TIMING = {"time_s", "repeats", "fits_per_s", "time_per_iter_s", "ns_per_nnz_iter"}
KEY = ("suite", "problem", "start", "method", "jac", "tr_solver", "tol")


def matrix(quick: bool) -> List[List[str]]:
    runs = []
    for suite in ("minpack", "nist"):
        for method in ("trf", "dogbox", "lm", "leastsq"):
            for jac in ("analytic", "2-point", "3-point"):
                runs.append(["--suite", suite, "--method", method, "--jac", jac])
    sparse = [
        ["--method", "trf", "--tr-solver", "lsmr"],
        ["--method", "trf", "--tr-solver", "cholesky"],
    ]
    for s in sparse:
        for jac in ("analytic", "2-point"):
            runs.append(["--suite", "sparse", *s, "--jac", jac])
    if not quick:
        runs.append(["--suite", "ba", "--problem", "problem-49", "--tr-solver", "schur"])
    return runs


def record(binary: str, out: str, quick: bool, data_dir: str | None) -> None:
    with open(out, "w") as fh:
        for args in matrix(quick):
            cmd = [binary, "bench", *args, "--repeat", "1"]
            if data_dir:
                cmd += ["--data-dir", data_dir]
            print("+", " ".join(cmd[1:]), file=sys.stderr, flush=True)
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
            for line in res.stdout.splitlines():
                row = json.loads(line)
                row["_args"] = " ".join(args)
                fh.write(json.dumps(row, sort_keys=True) + "\n")


def load(path: str) -> Dict[Tuple, dict]:
    rows: Dict[Tuple, dict] = {}
    with open(path) as fh:
        for line in fh:
            row = json.loads(line)
            key = (row.get("_args"),) + tuple(str(row.get(k)) for k in KEY)
            if key in rows:
                sys.exit(f"{path}: duplicate row {key}")
            rows[key] = row
    return rows


def diff(old: str, new: str) -> int:
    a, b = load(old), load(new)
    bad = 0
    for key in sorted(set(a) | set(b), key=str):
        if key not in a or key not in b:
            print(f"only in {'new' if key in b else 'old'}: {key}")
            bad += 1
            continue
        ra, rb = a[key], b[key]
        for field in sorted(set(ra) | set(rb)):
            if field in TIMING:
                continue
            if ra.get(field) != rb.get(field):
                print(f"{key}: {field}: {ra.get(field)!r} -> {rb.get(field)!r}")
                bad += 1
    print(f"{len(a)} old rows, {len(b)} new rows, {bad} differences", file=sys.stderr)
    return 0 if bad == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("binary")
    r.add_argument("out")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--data-dir", default=os.environ.get("TRUSTFIT_DATA_DIR"))
    d = sub.add_parser("diff")
    d.add_argument("old")
    d.add_argument("new")
    args = ap.parse_args()
    if args.cmd == "record":
        record(args.binary, args.out, args.quick, args.data_dir)
        return 0
    return diff(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
