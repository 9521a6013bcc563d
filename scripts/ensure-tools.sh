#!/usr/bin/env bash
# Installs what the build and the tests need, only when missing, so a second run is fast:
# the wasm32 target, the wasm-bindgen CLI at the crate's pinned version (into .tools/),
# npm packages, and Debian's chromium + chromium-driver and firefox-esr (browser tests; Firefox is
# driven by puppeteer-core, an npm package, over WebDriver BiDi: no geckodriver).
# Usage: scripts/ensure-tools.sh [--no-browser]
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=1
[ "${1:-}" = "--no-browser" ] && want_browser=0

log() { printf '[ensure-tools] %s\n' "$*"; }

# rustfmt and clippy for npm test's style step (rustup's default profile has them; a minimal one does not).
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
    log "adding the rustup component ${component}"
    rustup component add "${component}"
  fi
done
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate version exactly (Cargo.toml pins it).
wbg_version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
export PATH="$PWD/.tools/bin:$PATH"
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$wbg_version" ]; then
  log "installing wasm-bindgen-cli $wbg_version into .tools/ (takes a few minutes once)"
  # No --locked: the CLI's lock file names a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$wbg_version" --root .tools
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || \
   { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  log "installing npm packages"
  # npm install (not ci): it follows the lock file but tolerates a lock written by a newer npm.
  npm install --no-audit --no-fund
fi

if [ "$want_browser" = 1 ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian's ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
