# Sourced by the test scripts: starts the simulated clouds on a free port, exports SIM_URL, and
# stops the sim on exit. Usage: source tests/js/start-sim.sh [sim args…]
sim_log="$(mktemp "${TMPDIR:-/tmp}/gpufleet-sim.XXXXXX")"
node tests/sim/server.mjs --port 0 "$@" >"$sim_log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  SIM_URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$sim_log" | head -n1)
  [ -n "$SIM_URL" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$sim_log"; echo "the simulated clouds did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$SIM_URL" ] || { cat "$sim_log"; echo "the simulated clouds did not start" >&2; exit 1; }
export SIM_URL
echo "simulated clouds at $SIM_URL"
