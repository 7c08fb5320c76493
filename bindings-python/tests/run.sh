#!/usr/bin/env bash
# The Python suite: builds the abi3 wheel with maturin, installs it in a fresh virtual
# environment, checks the type stubs against the module, and runs pytest on
# bindings-python/tests. Needs python3 (3.9+) with venv, a Rust toolchain, and the package
# registries (PyPI, crates.io). tests/run.sh calls it; it also runs on its own.
#
#   PYTHON=python3.12 bash bindings-python/tests/run.sh    # another interpreter
#   bash bindings-python/tests/run.sh -k quota              # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

python=${PYTHON:-python3}
venv="$root/target/py-venv"
wheels="$root/target/py-wheels"

echo "-- fresh virtual environment in $venv"
rm -rf "$venv" "$wheels"
"$python" -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet maturin pytest mypy
# pandas (and numpy) for the pandas tests; they skip cleanly if it cannot be installed.
"$py" -m pip install --quiet pandas || echo "pandas could not be installed: its tests will be skipped"

echo "-- building the wheel"
# A debug build (the workspace's dev profile: optimised dependencies, our crates at opt-level
# 1), which shares its compiled dependencies with `cargo test`; release wheels are built with
# `maturin build --release` (see bindings-python/README.md).
"$venv/bin/maturin" build --manifest-path bindings-python/Cargo.toml --interpreter "$py" --out "$wheels"
wheel=$(ls "$wheels"/codelookup-*-abi3-*.whl)
echo "-- installing $(basename "$wheel")"
"$py" -m pip install --quiet --force-reinstall --no-deps "$wheel"

echo "-- checking the type stubs against the module"
(cd "$root/target" && "$py" -m mypy.stubtest codelookup)

echo "-- pytest"
# Run from outside the source tree so that `import codelookup` is the installed wheel.
cd "$root/target"
status=0
"$py" -m pytest "$root/bindings-python/tests" -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
