#!/usr/bin/env bash
# The core (error, http, model, provider*, client) must never name wasm-bindgen's JS crates, and
# #[wasm_bindgen] exports live only in src/bindings (src/transport may declare JS imports).
set -euo pipefail
cd "$(dirname "$0")/.."
core="src/lib.rs src/error.rs src/http.rs src/model.rs src/provider.rs src/provider src/client.rs src/proxy_api.rs src/proxy_server.rs"
bad=$(grep -rnE 'web_sys|js_sys|wasm_bindgen_futures|wasm_bindgen::|#\[wasm_bindgen' $core | grep -v '^src/lib.rs:.*pub mod' || true)
if [ -n "$bad" ]; then
  echo "core purity: wasm/JS names found in core modules:"; echo "$bad"; exit 1
fi
stray=$(grep -rln '#\[wasm_bindgen' src --include='*.rs' | grep -v '^src/bindings\|^src/transport' || true)
if [ -n "$stray" ]; then echo "core purity: #[wasm_bindgen] outside src/bindings and src/transport: $stray"; exit 1; fi
if grep -rqnE '(^|[^a-z_])tokio(::| *=|\b.*features)' src Cargo.toml; then echo "core purity: tokio appears"; exit 1; fi
echo "core purity: ok (no wasm-bindgen/web-sys/js-sys/tokio in error, http, model, provider, client)"
