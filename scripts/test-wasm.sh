#!/usr/bin/env bash
# wasm-bindgen-test (tests/wasm.rs) against the simulated clouds, in Node and in headless Chromium.
#   scripts/test-wasm.sh [node|browser|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
which="${1:-all}"
shift || true
TEST_ARGS=("$@")

# The runner writes its bundles and browser profile under TMPDIR: keep it ours and clean.
export TMPDIR="$PWD/.tmp/wasm-test"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
# (Node runs use the ES-module harness, WASM_BINDGEN_USE_NODE_EXPERIMENTAL: the crate's inline_js snippet is an ES module (and the repo's
# package.json says "type": "module", which the default CommonJS harness trips over.)

source tests/js/start-sim.sh --instances 60
# Read by tests/wasm.rs with option_env! (a browser has no environment at run time).
export GPUFLEET_SIM_URL="$SIM_URL"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export WASM_BINDGEN_TEST_TIMEOUT=120

if [ "$which" = all ] || [ "$which" = node ]; then
  echo "--- wasm-bindgen-test in Node $(node --version)"
  WASM_BINDGEN_USE_NODE_EXPERIMENTAL=1 cargo test --target wasm32-unknown-unknown --test wasm -- "${TEST_ARGS[@]}"
fi
if [ "$which" = all ] || [ "$which" = browser ]; then
  echo "--- wasm-bindgen-test in headless Chromium"
  CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_USE_BROWSER=1 \
  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/webdriver.json" \
    cargo test --target wasm32-unknown-unknown --test wasm -- "${TEST_ARGS[@]}"
fi
