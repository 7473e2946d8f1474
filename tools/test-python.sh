#!/usr/bin/env bash
# Builds the Python extension (crates/trustfit-py) into .venv and runs its pytest suite.
# Creates .venv at the repository root when missing and installs maturin, numpy,
# scipy==1.17.1 and pytest from PyPI; needs cargo and python3 >= 3.9, nothing else.
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
  "maturin>=1.9,<2" numpy "scipy==1.17.1" pytest

echo "== building trustfit (maturin develop --release)"
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
"$VENV/bin/maturin" develop --release -q -m crates/trustfit-py/Cargo.toml

echo "== pytest crates/trustfit-py/tests"
mkdir -p "$CARGO_TARGET_DIR"
set +e
"$VENV/bin/python" -m pytest -c crates/trustfit-py/pyproject.toml \
  --rootdir crates/trustfit-py crates/trustfit-py/tests -q -p no:cacheprovider \
  2>&1 | tee "$CARGO_TARGET_DIR/pytest-output.txt"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^=* ?[0-9]+ (passed|failed)' "$CARGO_TARGET_DIR/pytest-output.txt" | tail -1 || true)
[[ -z "$summary" ]] && summary=$(grep -E '(passed|failed|error)' "$CARGO_TARGET_DIR/pytest-output.txt" | tail -1 || true)
echo "python: ${summary}"
exit "$status"
