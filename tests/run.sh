#!/usr/bin/env bash
# The one test command: every suite of every language. README.md and .ci/run call this.
# It installs what it needs from the package registries (maturin, pytest, napi CLI...).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s ==\n' "$*"; }

# Every build of the suite names the host triple as its target: the napi CLI always passes
# --target, and builds for an explicit target live in their own directory, so with the same
# target everywhere the Rust tests and the Python and Node builds share compiled dependencies.
CARGO_BUILD_TARGET=${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
export CARGO_BUILD_TARGET

step "Rust: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: tests (unit, integration, doc)"
# The benchmarks' own crate has no tests (clippy above checks its code).
cargo test --workspace --exclude codelookup-benches --locked

if [ -f bindings-python/tests/run.sh ]; then
  step "Python"
  bash bindings-python/tests/run.sh
fi

if [ -f bindings-node/tests/run.sh ]; then
  step "Node"
  bash bindings-node/tests/run.sh
fi

echo
echo "all suites passed"
