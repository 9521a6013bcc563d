#!/usr/bin/env bash
# The long property-test ("fuzz") run: tests/properties.rs with many more cases per property, in
# release mode, repeated with fresh random seeds until FUZZ_SECONDS have passed. Prints the
# executions and crashes per property and in total; exits non-zero on any crash (the failing
# input, shrunk, is in the output above the summary).
#
#   scripts/fuzz-long.sh                 # 100,000 cases per property, one round
#   PROPTEST_CASES=20000 FUZZ_SECONDS=600 scripts/fuzz-long.sh   # rounds of 20,000 for 10 minutes
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$PATH"
export PROPTEST_CASES="${PROPTEST_CASES:-100000}"
FUZZ_SECONDS="${FUZZ_SECONDS:-0}"
mkdir -p .tmp && export TMPDIR="${TMPDIR:-$PWD/.tmp}"
log="$(mktemp "$TMPDIR/fuzz-long.XXXXXX")"

cargo test --release --test properties --no-run >/dev/null 2>&1 || { cargo test --release --test properties --no-run; exit 1; }
start=$(date +%s)
rounds=0
status=0
while :; do
  rounds=$((rounds + 1))
  echo "==> round $rounds: PROPTEST_CASES=$PROPTEST_CASES"
  cargo test --release --test properties -- --nocapture --test-threads="$(nproc)" 2>&1 | tee -a "$log" | grep -E '^\[fuzz\]|test result|panicked|minimal failing' || true
  [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
  [ $(( $(date +%s) - start )) -ge "$FUZZ_SECONDS" ] && break
done
elapsed=$(( $(date +%s) - start ))
echo
echo "==> summary: $rounds round(s) in ${elapsed}s on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
awk '/^\[fuzz\] .*executions/ {
       line = $0; sub(/^\[fuzz\] /, "", line); name = line; sub(/: [0-9]+ executions.*/, "", name)
       n = line; sub(/^.*: /, "", n); sub(/ executions.*/, "", n)
       c = line; sub(/^.* executions, /, "", c); sub(/ crash.*/, "", c)
       ex[name] += n; cr[name] += c; tex += n; tcr += c }
     END { for (k in ex) printf "  %-40s %12d executions %4d crashes\n", k, ex[k], cr[k]
           printf "  %-40s %12d executions %4d crashes\n", "total", tex, tcr }' "$log"
if [ "$status" -ne 0 ]; then echo "full output (failing inputs): $log"; else rm -f "$log"; fi
exit "$status"
