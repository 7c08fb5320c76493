#!/usr/bin/env bash
# The Node suite, called by the root tests/run.sh: installs the npm devDependencies (napi CLI,
# TypeScript) from the registry, builds the addon (a debug build: the workspace's dev profile,
# whose compiled dependencies `cargo test` shares; `npm run build` makes the release addon),
# checks that the committed index.d.ts is what napi generates, type-checks the typed example, and runs `node --test`.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n-- node: %s --\n' "$*"; }

step "npm ci"
# --ignore-scripts: the addon is built explicitly below, and better-sqlite3 (a devDependency
# of the benchmark only) is not compiled for the tests; `npm run bench` builds it.
npm ci --ignore-scripts --no-audit --no-fund

step "napi build --platform"
npx napi build --platform --no-js --no-const-enum --dts index.d.ts

step "index.d.ts is up to date"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && git ls-files --error-unmatch index.d.ts >/dev/null 2>&1; then
  git diff --exit-code -- index.d.ts || {
    echo "index.d.ts differs from what napi generates: commit the regenerated file" >&2
    exit 1
  }
fi

step "tsc --noEmit (typed example)"
npx tsc --noEmit -p examples

step "node --test"
node --test --test-concurrency=1
