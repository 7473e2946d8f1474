#!/usr/bin/env bash
# Bundle adjustment side by side with Ceres: ../shared/bench-peers' ceres_bench (all three
# of its BA solvers: sparse_schur, dense_schur, iterative_schur) and `trustfit bench --suite
# ba` (its default: sparse_lm with the Schur solver), alternated, on the same thread count.
#
#   tools/bench_ba_ceres.sh OUT_DIR [ROUNDS] [THREADS...]     (default: 2 rounds, 1 and 2 threads)
#
# Needs ../shared/bench-peers/build.sh run once (ceres_bench in $PEERS_BUILD, default
# ~/.cache/bench-peers) and target/release/trustfit. Prints, per problem and thread count,
# the best time of each solver, its cost and iterations, and trustfit's time over the
# fastest Ceres configuration. Run it on an idle machine: a build beside it halves a core.
set -euo pipefail
out="$1"; rounds="${2:-2}"; shift $(( $# >= 2 ? 2 : 1 )) || true
threads=("$@"); [[ ${#threads[@]} -gt 0 ]] || threads=(1 2)
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
peers="${PEERS_BUILD:-$HOME/.cache/bench-peers}"
data="${TRUSTFIT_DATA_DIR:-$root/../shared/data}"
files="$data/bal/problem-49-7776-pre.txt,$data/bal/synthetic-50-20000-pre.txt.gz"
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  for t in "${threads[@]}"; do
    "$peers/ceres_bench" --suite ba --bal "$files" --threads "$t" --min-reps 3 \
      >> "$out/ceres.jsonl"
    "$root/target/release/trustfit" bench --suite ba --data-dir "$data" --threads "$t" \
      --repeat 3 >> "$out/trustfit.jsonl"
  done
done
python3 - "$out" <<'PY'
import json, sys, collections
out = sys.argv[1]
best = {}
for name in ("ceres", "trustfit"):
    for line in open(f"{out}/{name}.jsonl"):
        d = json.loads(line)
        if "time_s" not in d:
            continue
        t = d.get("threads", 1)
        solver = d["solver"] if name == "ceres" else f"trustfit_{d['method']}_{d['tr_solver']}"
        solver = solver.removesuffix(f"_t{t}")
        key = (d["problem"], t, solver)
        if key not in best or d["time_s"] < best[key]["time_s"]:
            best[key] = d
rows = collections.defaultdict(list)
for (problem, t, solver), d in best.items():
    rows[(problem, t)].append((solver, d))
for (problem, t), items in sorted(rows.items()):
    ceres = [d for s, d in items if s.startswith("ceres")]
    fastest = min(ceres, key=lambda d: d["time_s"])
    best_cost = min(d["cost"] for d in ceres)
    print(f"== {problem}, {t} thread(s); Ceres' best cost {best_cost:.6f}")
    for solver, d in sorted(items, key=lambda x: x[1]["time_s"]):
        ratio = d["time_s"] / fastest["time_s"]
        ok = "cost ok" if d["cost"] <= best_cost * (1 + 1e-6) else "COST HIGHER"
        print(f"  {solver:34s} {d['time_s']:8.3f} s  {ratio:5.2f}x fastest Ceres  "
              f"cost {d['cost']:.6f} ({ok})  iterations {d.get('iterations')}")
PY
