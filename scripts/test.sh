#!/usr/bin/env bash
# `npm test`: every test, from a fresh clone. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
mkdir -p .tmp && export TMPDIR="$PWD/.tmp"

step() { printf '\n==> %s\n' "$*"; }

step "tools"
scripts/ensure-tools.sh

step "core purity"
scripts/check-core-purity.sh

step "native tests (cargo test)"
cargo test --all-targets

step "wasm32 build of the crate"
cargo build --target wasm32-unknown-unknown --release

step "simulated clouds (node --test tests/sim/)"
node --test --test-reporter=spec tests/sim/

step "edge proxy in workerd against the simulated clouds (node --test tests/proxy/)"
node --test --test-reporter=spec tests/proxy/

rm -rf "$TMPDIR"/* 2>/dev/null || true
echo
echo "npm test: all suites passed"
