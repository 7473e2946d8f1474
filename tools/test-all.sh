#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, Rust tests (unit, integration,
# doctests) for the whole workspace, a CLI smoke run, the Python package's pytest
# suite (tools/test-python.sh builds it into .venv, installing maturin, numpy, scipy,
# pytest, mypy and matplotlib from PyPI), and the package as users install it
# (tools/test-wheel.sh: the wheel in a fresh virtual environment without cargo, running
# the README's examples; the sdist built by pip). Needs cargo and python3 (and
# ../shared/data for the NIST tests, which skip with a printed reason when it is absent).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings

echo "== cargo test (workspace, with doctests)"
mkdir -p target
cargo test --workspace 2>&1 | tee target/test-output.txt
passed=$( (grep -oE '^test result: ok\. [0-9]+ passed' target/test-output.txt || true) | awk '{s+=$4} END {print s+0}')
failed=$( (grep -oE '[0-9]+ failed' target/test-output.txt || true) | awk '{s+=$1} END {print s+0}')

echo "== CLI smoke run"
# The test profile: reuses the build the tests just made.
cargo run -q --profile test -p trustfit --example seeds > /dev/null
cargo run -q --profile test -p trustfit-cli -- bench --suite minpack --method trf --repeat 1 --problem rosenbrock > target/bench-smoke.jsonl
test "$(wc -l < target/bench-smoke.jsonl)" -eq 3
cargo run -q --profile test -p trustfit-cli -- demo --plot target/demo-smoke.svg > target/demo-smoke.txt
grep -q "cauchy fit" target/demo-smoke.svg

echo "== benches compile (test profile: no second, release build of the dependencies)"
cargo test --workspace --benches --no-run -q

echo "rust: ${passed} passed, ${failed} failed"

echo "== Python package (tools/test-python.sh)"
bash tools/test-python.sh
py_passed=$( (grep -oE '[0-9]+ passed' target/pytest-output.txt || true) | tail -1 | awk '{print $1}')
py_failed=$( (grep -oE '[0-9]+ failed' target/pytest-output.txt || true) | tail -1 | awk '{print $1}')

echo "== wheel and sdist (tools/test-wheel.sh)"
bash tools/test-wheel.sh
echo "total: $((passed + ${py_passed:-0})) passed, $((failed + ${py_failed:-0})) failed"
