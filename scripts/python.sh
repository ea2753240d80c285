#!/usr/bin/env bash
# The Python package as a user installs it: checks its Python sources (ruff, mypy --strict),
# builds the wheel with maturin (the native module in
# the dev profile, reusing target/; the command-line binary in the wheel's scripts), installs it
# in a fresh virtual environment, runs `benchcards --version` from there and the API's tests
# (crates/benchcards-py/tests) with pytest.
#   bash scripts/python.sh [BINARY]   (default: cargo builds target/debug/benchcards)
#   bash scripts/python.sh --release  (a wheel to distribute: both parts optimised, slower)
# The wheel is left in target/python/wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}" release=()
if [ "$bin" = --release ]; then
  cargo build --locked --quiet --release -p benchcards
  bin=target/release/benchcards release=(--release)
elif [ -z "$bin" ]; then
  cargo build --locked --quiet -p benchcards
  bin=target/debug/benchcards
fi
# The build tools, and the Python sources' formatter, linter and strict type check.
if ! target/pybuild/bin/python -c "import maturin, ruff, mypy" 2>/dev/null; then
  python3 -m venv target/pybuild
  target/pybuild/bin/pip install --quiet --disable-pip-version-check maturin==1.16.0 ruff==0.17.6 mypy==2.4.1
fi
(cd crates/benchcards-py && ../../target/pybuild/bin/ruff format --check --quiet python tests &&
  ../../target/pybuild/bin/ruff check --quiet python tests && ../../target/pybuild/bin/mypy python/benchcards)
rm -rf target/python/wheel-data target/python/wheels
mkdir -p target/python/wheel-data/scripts
cp "$bin" target/python/wheel-data/scripts/benchcards
# `linux`: a wheel for this machine's glibc, not one claiming manylinux compatibility.
target/pybuild/bin/maturin build "${release[@]}" --quiet --locked --compatibility linux --interpreter python3 \
  --manifest-path crates/benchcards-py/Cargo.toml --out target/python/wheels
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check target/python/wheels/benchcards-*.whl pandas==3.1.1 pytest==9.2.0
# From another folder, with only the environment's bin on PATH in front.
(cd "$venv" && PATH="$venv/bin:$PATH" benchcards --version)
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -q -p no:cacheprovider crates/benchcards-py/tests
