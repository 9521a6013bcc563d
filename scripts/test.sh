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

step "style: cargo fmt --check (rustfmt.toml) and cargo clippy, warnings denied (native; wasm32: all features, the package's build, the Worker's build)"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features js-client -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features proxy -- -D warnings

step "native tests (cargo test)"
cargo test --all-targets

step "wasm32 build of the crate"
cargo build --target wasm32-unknown-unknown --release

step "simulated clouds (node --test tests/sim/)"
node --test --test-reporter=spec tests/sim/

step "edge proxy in workerd against the simulated clouds (node --test tests/proxy/)"
node --test --test-reporter=spec tests/proxy/

step "npm package: build (npm run build → pkg/), and its TypeScript surface against tests/types/gpufleet.d.ts.golden"
node scripts/build.mjs
node scripts/check-dts.mjs

step "console in headless Chromium behind the proxy in workerd against the simulated clouds (node --test tests/console/)"
node --test --test-reporter=spec tests/console/

step "console in headless Firefox ESR (puppeteer-core over WebDriver BiDi + Debian firefox-esr): the core flows (node --test tests/firefox/)"
node --test --test-reporter=spec tests/firefox/

step "wasm-bindgen-test in Node (tests/wasm.rs against the simulated clouds)"
scripts/test-wasm.sh node

step "wasm-bindgen-test in headless Chromium (tests/wasm.rs against the simulated clouds)"
scripts/test-wasm.sh browser

step "npm package: npm pack + install the tarball into .tmp/scratch"
node tests/js/pack.mjs

step "release hygiene: npm publish --dry-run of pkg/ and cargo package --list (what ships, licences, nothing stray)"
node --test --test-reporter=spec tests/js/release.test.mjs

step "npm package: TypeScript checks (tsc --noEmit tests/types/usage.ts, NodeNext and Bundler resolution)"
node_modules/.bin/tsc -p .tmp/scratch/types/tsconfig.json && node_modules/.bin/tsc -p .tmp/scratch/types/tsconfig.bundler.json

step "npm package: scenario in Node $(node --version) (node --test)"
node --test --test-reporter=spec tests/js/pkg-node.test.mjs

step "npm package: scenario in headless Chromium (playwright-core)"
node --test --test-reporter=spec tests/js/pkg-chromium.test.mjs

step "npm package: scenario in headless Firefox ESR (puppeteer-core over WebDriver BiDi)"
node --test --test-reporter=spec tests/js/pkg-firefox.test.mjs

step "npm package: scenario in workerd (Miniflare)"
node --test --test-reporter=spec tests/js/pkg-workerd.test.mjs

step "npm package: proxy-mode scenario in Node (Fleet → edge proxy in workerd → simulated clouds)"
node --test --test-reporter=spec tests/js/pkg-proxy.test.mjs

step "npm package: scenario in Deno (node_modules/.bin/deno)"
node --test --test-reporter=spec tests/js/pkg-deno.test.mjs

step "npm package: scenario in Bun (node_modules/.bin/bun)"
node --test --test-reporter=spec tests/js/pkg-bun.test.mjs

rm -rf "$TMPDIR"/* 2>/dev/null || true
echo
echo "npm test: all suites passed"
