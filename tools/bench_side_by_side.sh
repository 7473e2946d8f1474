#!/usr/bin/env bash
# Times two `trustfit` binaries side by side (old, new, old, new, … on each suite) and
# compares them with tools/compare_bench.py: the "no slower" check of a refactor.
#
#   tools/bench_side_by_side.sh OLD_BINARY NEW_BINARY OUT_DIR [ROUNDS]
#
# Suites: MINPACK-53 and NIST StRD (trf, dogbox, lm; analytic J), Broyden n = 1e5 with
# tr_solver='cholesky' (2-point J) and BA problem-49 with tr_solver='schur'. ROUNDS
# (default 2) alternations per suite; every file is kept in OUT_DIR. Run it on an idle
# machine: a build beside it halves a core.
set -euo pipefail
old="$1"; new="$2"; out="$3"; rounds="${4:-2}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
run() { # label binary args...
  local label="$1" bin="$2"; shift 2
  "$bin" bench "$@" >> "$out/$label.jsonl"
}
for r in $(seq 1 "$rounds"); do
  for suite in minpack nist; do
    for method in trf dogbox lm; do
      for side in old new; do
        bin=$old; [[ $side == new ]] && bin=$new
        run "$suite-$method-$side-$r" "$bin" --suite "$suite" --method "$method" --repeat 5
      done
    done
  done
  for side in old new; do
    bin=$old; [[ $side == new ]] && bin=$new
    run "broyden-$side-$r" "$bin" --suite sparse --problem n100000 --jac 2-point \
      --tr-solver cholesky --repeat 20
    run "ba-$side-$r" "$bin" --suite ba --problem problem-49 --method trf --tr-solver schur \
      --threads 1 --repeat 1
  done
done
for r in $(seq 1 "$rounds"); do
  for suite in minpack nist; do
    for method in trf dogbox lm; do
      echo "== round $r: $suite $method (old / new > 1: new faster)"
      python3 "$here/compare_bench.py" --no-resolve \
        "$out/$suite-$method-old-$r.jsonl" "$out/$suite-$method-new-$r.jsonl" |
        grep -E "median|geomean" || true
    done
  done
  for case in broyden ba; do
    for side in old new; do
      printf '%s round %s %s: ' "$case" "$r" "$side"
      python3 - "$out/$case-$side-$r.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(", ".join("%s %.4f s cost %r" % (r["problem"], r["time_s"], r["cost"]) for r in rows))
PY
    done
  done
done
