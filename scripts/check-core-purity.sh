#!/usr/bin/env bash
# The core (everything in src/ but src/bindings and src/transport) must never name wasm-bindgen's
# JS crates; #[wasm_bindgen] exports live only in src/bindings (src/transport may declare JS
# imports); no tokio anywhere; and the core's layers import one way (no cycle), so it reads
# bottom-up:
#   provider_id, json_path, raw, civil, ssh_key  (leaves)  →  error  →  money  →  http  →  model  →  callers, store
#   →  provider, answer_json, records_api  →  proxy/api, pricing  →  client  →  deadlines, proxy/access, proxy/auth
#   →  proxy/rate_limit  →  proxy/config, proxy/headers, proxy/exchange, proxy/conceal  →  proxy/server
# Every core file belongs to the longest entry of the table below that names its path (src/a/b.rs
# and src/a/b/… to `a/b` if listed, else to `a`); `crate::a::b…` names `a/b` if listed, else `a`.
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

# One-way layers: the modules each core module may name (a `use` or a `crate::…` path anywhere in
# its code; comments and its closing `mod tests` aside).
declare -A may=(
  [provider_id]="" [json_path]="" [raw]="" [civil]="" [ssh_key]=""
  [error]="provider_id"
  [http]="error"
  [money]="civil error provider_id"
  [model]="error json_path money provider_id raw"
  [answer_json]="error model raw"
  [provider]="civil error http json_path model money provider_id raw ssh_key"
  [proxy/api]="error http json_path model provider records_api"
  [pricing]="error model money provider provider_id"
  [client]="error http model money pricing provider proxy/api records_api store"
  [callers]="error model"
  [store]="error model provider_id"
  [records_api]="error model money provider_id store"
  [deadlines]="client error http model money provider provider_id records_api store"
  [proxy]=""
  [proxy/access]="model"
  [proxy/auth]="callers model"
  [proxy/rate_limit]="proxy/auth"
  [proxy/headers]=""
  [proxy/config]="callers client http money provider proxy/access proxy/auth proxy/rate_limit"
  [proxy/exchange]="error provider proxy/access"
  [proxy/conceal]="error proxy/api"
  [proxy/server]="answer_json client deadlines error http model provider proxy/api records_api store proxy/access proxy/auth proxy/conceal proxy/config proxy/exchange proxy/headers proxy/rate_limit"
)
# The longest table entry naming `path` (a/b/c → a/b/c, a/b or a), or nothing.
layer_of() {
  local path=$1
  while [ -n "$path" ]; do
    if [ -n "${may[$path]+set}" ]; then echo "$path"; return; fi
    case "$path" in */*) path=${path%/*} ;; *) path="" ;; esac
  done
}
layering=""
unlisted=""
for f in $core; do
  [ "$f" = src/lib.rs ] && continue
  rel=${f#src/}; rel=${rel%.rs}; rel=${rel%/mod}
  module=$(layer_of "$rel")
  if [ -z "$module" ]; then unlisted="$unlisted $f"; continue; fi
  for used in $(awk '/^mod tests \{/ { exit } { print }' "$f" | grep -vE '^\s*//' | grep -oE 'crate::[a-z_]+(::[a-z_]+)?' | sed -E 's/^crate:://; s#::#/#' | sort -u); do
    name=$used
    used=$(layer_of "$used")
    if [ -z "$used" ]; then layering="$layering\n  $f uses crate::${name//\//::}, which is in no layer"; continue; fi
    [ "$used" = "$module" ] && continue
    case " ${may[$module]} " in *" $used "*) ;; *) layering="$layering\n  $f uses crate::${used//\//::} (allowed: ${may[$module]:-nothing})";; esac
  done
done
if [ -n "$unlisted" ]; then echo "core purity: not in the layer table:$unlisted"; exit 1; fi
# The table itself is one way: tsort refuses a cycle.
edges=""
for module in "${!may[@]}"; do for used in ${may[$module]}; do edges="$edges$used $module\n"; done; done
if ! cycle=$(echo -e "$edges" | tsort 2>&1 >/dev/null); then
  echo "core purity: the layer table has a cycle:"; echo "$cycle" | awk 'NR > 1 && /input contains a loop/ { exit } { print }'; exit 1
fi
if [ -n "$layering" ]; then echo -e "core purity: an import against the layers:$layering"; exit 1; fi
echo "core purity: ok (no wasm-bindgen/web-sys/js-sys/tokio outside src/bindings and src/transport; layers import one way)"
