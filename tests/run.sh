#!/usr/bin/env bash
# The one test command: every suite of every language. README.md and .ci/run call this.
# It installs what it needs from the package registries (maturin, pytest, napi CLI...).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s ==\n' "$*"; }

step "Rust: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: tests (unit, integration, doc)"
cargo test --workspace --locked

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
