#!/usr/bin/env bash
# Builds the Python extension (crates/trustfit-py) into .venv and runs its pytest suite.
# Creates .venv at the repository root when missing and installs maturin, numpy,
# scipy==1.17.1, pytest, mypy, matplotlib (plot_fit's smoke test) and the [dask] extras
# (dask[distributed], xarray: the tests of trustfit.dask and trustfit.xarray start a
# LocalCluster on 127.0.0.1) from PyPI; needs cargo and python3 >= 3.9, nothing else. It
# also builds the command line (test profile: tools/test-all.sh has built it already) for
# tests/test_report.py, which compares fit_report with `trustfit fit --json`, and points
# TRUSTFIT_CLI at it.
# mypy's stubtest checks the stubs (python/trustfit/*.pyi) against the built module: a
# missing or stale signature fails the run (after pytest, which runs either way).
# Repeated runs are incremental: `maturin develop --release` reuses the repo's target/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="$ROOT/.venv"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV"
fi
echo "== installing test dependencies"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
  "maturin>=1.9,<2" numpy "scipy==1.17.1" pytest "mypy>=1.11,<2" matplotlib "dask[distributed]" xarray

echo "== building trustfit (maturin develop --release)"
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
"$VENV/bin/maturin" develop --release -q -m crates/trustfit-py/Cargo.toml

echo "== building the command line (cargo build --profile test -p trustfit-cli)"
cargo build -q --profile test -p trustfit-cli
export TRUSTFIT_CLI="$CARGO_TARGET_DIR/debug/trustfit"

echo "== pytest crates/trustfit-py/tests"
mkdir -p "$CARGO_TARGET_DIR"
export MPLBACKEND=Agg
set +e
"$VENV/bin/python" -m pytest -c crates/trustfit-py/pyproject.toml \
  --rootdir crates/trustfit-py crates/trustfit-py/tests -q -rs -p no:cacheprovider \
  2>&1 | tee "$CARGO_TARGET_DIR/pytest-output.txt"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^=* ?[0-9]+ (passed|failed)' "$CARGO_TARGET_DIR/pytest-output.txt" | tail -1 || true)
[[ -z "$summary" ]] && summary=$(grep -E '(passed|failed|error)' "$CARGO_TARGET_DIR/pytest-output.txt" | tail -1 || true)
echo "python: ${summary}"

echo "== stubtest trustfit (python/trustfit/*.pyi against the module)"
stub_status=0
MYPY_CACHE_DIR="$CARGO_TARGET_DIR/mypy-cache" "$VENV/bin/python" -m mypy.stubtest \
  --mypy-config-file crates/trustfit-py/pyproject.toml trustfit || stub_status=$?
if [[ "$status" -eq 0 ]]; then
  status=$stub_status
fi
exit "$status"
