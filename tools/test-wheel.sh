#!/usr/bin/env bash
# The Python package as users install it (issue 17):
#  1. builds the abi3 wheel (`maturin build --release`) and the sdist (`maturin sdist`);
#  2. checks the wheel's files: the extension, the Python sources, py.typed and the .pyi
#     stubs, and its abi3 tag (CPython >= 3.9);
#  3. creates a fresh virtual environment, installs the wheel (with its [plot] extra)
#     there under `env -i` with PATH = that environment's bin/ only — no cargo, no rustc,
#     checked — and runs every ```python example of crates/trustfit-py/README.md with it
#     (crates/trustfit-py/tests/test_readme.py as a script, from a temporary directory);
#  4. has pip build a wheel from the sdist's sources (this needs cargo) and installs it
#     into the same environment for a smoke fit.
# Reuses $CARGO_TARGET_DIR (default target/) and .venv's maturin, as tools/test-python.sh:
# after its `maturin develop --release` the wheel build compiles nothing; the sdist build
# recompiles trustfit's own three crates (about 35 s on 2 cores), not the dependencies.
# (Cargo keys those artifacts by the crates' paths inside the workspace, so the sdist's
# build replaces the repository's; compiled from the same sources, they stay valid, and
# an edited file is newer than them, which triggers the usual rebuild.)
# Needs python3 and cargo; pip fetches numpy, scipy and matplotlib (its cache serves
# repeated runs) and, for pip's isolated sdist build, maturin.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="$ROOT/.venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
started=$(date +%s)

if [[ ! -x "$VENV/bin/maturin" ]]; then
  echo "== creating $VENV with maturin"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.9,<2"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/trustfit-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "test-wheel: FAILED: $*" >&2; exit 1; }

echo "== maturin build --release (wheel), maturin sdist"
export VIRTUAL_ENV="$VENV"
PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" build --release -m crates/trustfit-py/Cargo.toml \
  -o "$WORK/dist"
PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" sdist -m crates/trustfit-py/Cargo.toml \
  -o "$WORK/dist" 2> "$WORK/sdist.log" || { cat "$WORK/sdist.log" >&2; fail "maturin sdist"; }
unset VIRTUAL_ENV
shopt -s nullglob
wheels=("$WORK"/dist/trustfit-*-cp39-abi3-*.whl)
sdists=("$WORK"/dist/trustfit-*.tar.gz)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || fail "expected one cp39-abi3 wheel in $WORK/dist: $(ls "$WORK/dist")"
[[ ${#sdists[@]} -eq 1 ]] || fail "expected one sdist in $WORK/dist"
wheel="${wheels[0]}"
sdist="${sdists[0]}"
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) kB)"
echo "sdist: $(basename "$sdist") ($(du -k "$sdist" | cut -f1) kB)"

echo "== wheel contents"
"$VENV/bin/python" - "$wheel" <<'EOF'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
need = ["trustfit/__init__.py", "trustfit/optimize.py", "trustfit/batch.py",
        "trustfit/report.py", "trustfit/plot.py", "trustfit/py.typed",
        "trustfit/_trustfit.pyi", "trustfit/optimize.pyi"]
missing = [n for n in need if n not in names]
ext = [n for n in names if n.startswith("trustfit/_trustfit.") and n.endswith(".so")]
if missing or ext != ["trustfit/_trustfit.abi3.so"]:
    sys.exit(f"wheel lacks {missing} or has the extension {ext}; it holds {names}")
meta = [n for n in names if n.endswith(".dist-info/METADATA")]
text = zipfile.ZipFile(sys.argv[1]).read(meta[0]).decode()
for line in ("Requires-Python: >=3.9", "Provides-Extra: plot"):
    if line not in text:
        sys.exit(f"METADATA lacks {line!r}")
pkg = sorted(n for n in names if n.startswith("trustfit/"))
print(f"{len(names)} files; trustfit/: {', '.join(n.split('/', 1)[1] for n in pkg)}")
EOF

echo "== fresh virtual environment without cargo on PATH: install the wheel, run the README"
python3 -m venv "$WORK/venv"
# A clean environment: PATH is the new environment's bin/ and nothing else; pip's own
# settings (index, certificates, proxies) pass through.
clean=(env -i "HOME=$HOME" "PATH=$WORK/venv/bin" "LANG=C.UTF-8" "MPLBACKEND=Agg"
       "MPLCONFIGDIR=$WORK/mpl" "TMPDIR=${TMPDIR:-/tmp}")
while IFS='=' read -r name _; do
  case "$name" in
    PIP_*|http_proxy|https_proxy|no_proxy|HTTP_PROXY|HTTPS_PROXY|NO_PROXY|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE)
      clean+=("$name=${!name}") ;;
  esac
done < <(env)
"${clean[@]}" python - <<'EOF'
import shutil
import sys

found = {tool: shutil.which(tool) for tool in ("cargo", "rustc", "maturin")}
assert not any(found.values()), f"the clean PATH still finds {found}"
print(f"python {sys.version.split()[0]} at {sys.executable}; cargo, rustc, maturin: not on PATH")
EOF
"${clean[@]}" python -m pip install -q --disable-pip-version-check --only-binary :all: \
  "${wheel}[plot]" "scipy==1.17.1"
(cd "$WORK" && "${clean[@]}" python "$ROOT/crates/trustfit-py/tests/test_readme.py") \
  > "$WORK/readme.log" 2>&1 || { cat "$WORK/readme.log" >&2; fail "the README's examples"; }
tail -1 "$WORK/readme.log"
grep -q "with trustfit from $WORK/venv/lib/" "$WORK/readme.log" \
  || fail "the README ran against another trustfit than the fresh environment's wheel"
(cd "$WORK" && "${clean[@]}" python -c '
import importlib.resources as r, trustfit
files = {p.name for p in r.files("trustfit").iterdir()}
assert {"py.typed", "_trustfit.pyi", "optimize.pyi"} <= files, files
print("installed:", ", ".join(sorted(f for f in files if f.endswith(".pyi") or f == "py.typed")))
')

echo "== sdist: pip builds it from source (cargo; $CARGO_TARGET_DIR reused)"
# tar -m gives the files fresh times: the sdist stores fixed 2006 timestamps, older than
# the repository's build artifacts, and cargo would take those as up to date instead of
# compiling the sdist's own sources.
mkdir "$WORK/sdist"
tar -xzmf "$sdist" -C "$WORK/sdist"
src=("$WORK"/sdist/trustfit-*/)
"$VENV/bin/python" -m pip wheel -v --disable-pip-version-check --no-deps \
  -w "$WORK/sdist-wheel" "${src[0]}" > "$WORK/sdist-build.log" 2>&1 \
  || { tail -40 "$WORK/sdist-build.log" >&2; fail "pip could not build the sdist"; }
grep -E "Compiling trustfit(-py|-formula)? v" "$WORK/sdist-build.log" | sed 's/^ */  /'
grep -q "Compiling trustfit-py v.*$WORK/sdist" "$WORK/sdist-build.log" \
  || fail "pip's build of the sdist did not compile the sdist's trustfit-py"
"${clean[@]}" python -m pip install -q --disable-pip-version-check --no-deps \
  --force-reinstall "$WORK"/sdist-wheel/trustfit-*.whl
(cd "$WORK" && "${clean[@]}" python -c '
import numpy as np, trustfit
x = np.linspace(0, 3, 20); y = 2 * np.exp(-1.5 * x)
out = trustfit.curve_fit(lambda x, a, b: a * np.exp(-b * x), x, y, full_output=True)
rep = trustfit.fit_report(out, y)
assert np.allclose(rep.values, [2, 1.5]) and rep.success
print("the wheel pip built from the sdist fits:", rep.values.round(6))
')
echo "test-wheel: ok ($(( $(date +%s) - started )) s)"
