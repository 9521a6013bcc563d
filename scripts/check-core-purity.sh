#!/usr/bin/env bash
# The core (everything in src/ but src/bindings and src/transport) must never name wasm-bindgen's
# JS crates; #[wasm_bindgen] exports live only in src/bindings (src/transport may declare JS
# imports); no tokio anywhere; and the core's layers import one way (no cycle), so it reads
# bottom-up:
#   provider_id, json_path, raw  (leaves)  →  error  →  money  →  http  →  model  →  provider, answer_json
#   →  proxy_api  →  client  →  proxy_server
set -euo pipefail
cd "$(dirname "$0")/.."
core=$(find src -name '*.rs' -not -path 'src/bindings/*' -not -path 'src/transport/*' -not -name bindings.rs -not -name transport.rs | sort)
bad=$(grep -nE 'web_sys|js_sys|wasm_bindgen_futures|wasm_bindgen::|#\[wasm_bindgen' $core | grep -v '^src/lib.rs:.*pub mod' || true)
if [ -n "$bad" ]; then
  echo "core purity: wasm/JS names found in core modules:"; echo "$bad"; exit 1
fi
stray=$(grep -rln '#\[wasm_bindgen' src --include='*.rs' | grep -v '^src/bindings\|^src/transport' || true)
if [ -n "$stray" ]; then echo "core purity: #[wasm_bindgen] outside src/bindings and src/transport: $stray"; exit 1; fi
if grep -rqnE '(^|[^a-z_])tokio(::| *=|\b.*features)' src Cargo.toml; then echo "core purity: tokio appears"; exit 1; fi

# One-way layers: the modules each core module may `use` at its top level (test modules aside).
declare -A may=(
  [provider_id]="" [json_path]="" [raw]=""
  [error]="provider_id"
  [http]="error"
  [money]="error provider_id"
  [model]="error json_path money provider_id raw"
  [answer_json]="error model raw"
  [provider]="error http json_path model provider_id raw"
  [proxy_api]="error http json_path model provider"
  [pricing]="error model money provider provider_id"
  [client]="error http model money pricing provider proxy_api"
  [callers]="error model"
  [store]="error model provider_id"
  [records_api]="deadlines error model money provider_id store"
  [deadlines]="client error http model provider provider_id store"
  [proxy_server]="error http json_path model provider proxy_api client answer_json"
)
layering=""
for module in "${!may[@]}"; do
  files="src/$module.rs"
  [ -d "src/$module" ] && files="$files $(find "src/$module" -name '*.rs' | tr '\n' ' ')"
  for f in $files; do
    [ -f "$f" ] || continue
    for used in $(grep -oE '^use crate::[a-z_]+' "$f" | sed 's/^use crate:://' | sort -u); do
      [ "$used" = "$module" ] && continue
      case " ${may[$module]} " in *" $used "*) ;; *) layering="$layering\n  $f uses crate::$used (allowed: ${may[$module]:-nothing})";; esac
    done
  done
done
if [ -n "$layering" ]; then echo -e "core purity: an import against the layers:$layering"; exit 1; fi
echo "core purity: ok (no wasm-bindgen/web-sys/js-sys/tokio outside src/bindings and src/transport; layers import one way)"
