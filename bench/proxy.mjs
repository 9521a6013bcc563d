// Proxy overhead in workerd (Miniflare) on loopback: the same request — one page of 25 fal
// instances — sent (a) directly to the simulated cloud, (b) through a trivial JS pass-through
// Worker in the same runtime, (c) through the gpufleet Worker (auth, routing, the fal call, the
// normalized answer). Interleaved rounds after a warm-up:
//
// (d) is (c) without the D1 binding (a proxy that keeps no records): a listing then makes no
// store read for its instances' deadlines, which shows what that one D1 statement per listing costs.
//
//   - latency: concurrency 1, p50/p99 per path (per round, median over rounds); "added" = that path's minus direct's (and the
//     gpufleet Worker's own cost = its p50 minus the pass-through's);
//
// The sim runs in a child process, so it does not share the load generator's event loop.
//   - throughput: closed loop at fixed concurrency, req/s per path (median of the rounds).

import { randomBytes } from "node:crypto";
import { simEnv, startProxy } from "../scripts/proxy-runtime.mjs";
import { SIM_KEYS } from "../tests/sim/defaults.mjs";
import { closedLoop, fetchDrain, median, quantile, row, startSimProcess } from "./lib.mjs";
import { startPassthrough } from "./passthrough.mjs";

export async function run({ quick, log }) {
  const o = quick
    ? { latencyRequests: 80, latencyRounds: 2, loadRequests: 200, loadRounds: 2, concurrency: 16 }
    : { latencyRequests: 300, latencyRounds: 4, loadRequests: 1000, loadRounds: 3, concurrency: 16 };
  const sim = await startSimProcess(["--seed", "1", "--instances", "25", "--speed", "0"]);
  const token = randomBytes(24).toString("base64url");
  const proxy = await startProxy({ env: { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "0" }, port: 0, onLog: () => {} });
  const noRecords = await startProxy({ env: { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "0" }, port: 0, onLog: () => {}, d1: false });
  const pass = await startPassthrough({ upstream: sim.url });
  try {
    const falPath = "/fal/v1/compute/instances?limit=25";
    const falAuth = { authorization: `Key ${SIM_KEYS.fal}` };
    const paths = {
      direct: () => fetchDrain(sim.url + falPath, { headers: falAuth }),
      passthrough: () => fetchDrain(pass.url + falPath, { headers: falAuth }),
      gpufleet: () => fetchDrain(`${proxy.url}/api/v1/fal/instances?limit=25`, { headers: { authorization: `Bearer ${token}` } }),
      noRecords: () => fetchDrain(`${noRecords.url}/api/v1/fal/instances?limit=25`, { headers: { authorization: `Bearer ${token}` } }),
    };
    // Check and warm up: every path answers 200 with 25 instances.
    for (const [name, send] of Object.entries(paths)) {
      for (let i = 0; i < 50; i++) {
        const status = await send();
        if (status !== 200) throw new Error(`proxy bench: ${name} answered ${status}`);
      }
    }
    const names = Object.keys(paths);
    const lat = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < o.latencyRounds; r++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(r + k) % names.length];
        const res = await closedLoop(paths[n], { requests: o.latencyRequests, concurrency: 1 });
        if (res.errors) throw new Error(`proxy bench: ${res.errors} errors on ${n}`);
        lat[n].push(res.latencies);
      }
    }
    const rps = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < o.loadRounds; r++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(r + k) % names.length];
        const res = await closedLoop(paths[n], { requests: o.loadRequests, concurrency: o.concurrency });
        if (res.errors) throw new Error(`proxy bench: ${res.errors} errors on ${n} under load`);
        rps[n].push(res.reqPerSec);
      }
    }
    // Each round's quantile, then the median over rounds (one stall in one round moves one value).
    const p = (n, q) => median(lat[n].map((l) => quantile(l, q)));
    const s = Object.fromEntries(names.map((n) => [n, { p50: p(n, 0.5), p99: p(n, 0.99), reqPerSec: median(rps[n]) }]));
    for (const n of names) log(`${n}: p50 ${s[n].p50.toFixed(2)} ms, p99 ${s[n].p99.toFixed(2)} ms, ${s[n].reqPerSec.toFixed(0)} req/s`);
    const added = (n, q) => p(n, q) - p("direct", q);
    const rows = [
      row({ section: "proxy", figure: "direct to the sim: p50 / p99 latency (concurrency 1)", value: s.direct.p50, unit: "ms", note: `p99 ${s.direct.p99.toFixed(2)} ms` }),
      row({ section: "proxy", figure: "gpufleet Worker: p50 added over direct (vs pass-through's)", value: added("gpufleet", 0.5), unit: "ms", baseline: added("passthrough", 0.5), target: "≤ 0.5 ms", met: added("gpufleet", 0.5) <= 0.5 }),
      row({ section: "proxy", figure: "gpufleet Worker: p50 added over the pass-through Worker", value: p("gpufleet", 0.5) - p("passthrough", 0.5), unit: "ms", target: "(its own cost)" }),
      row({ section: "proxy", figure: "gpufleet Worker: p99 added over direct (vs pass-through's)", value: added("gpufleet", 0.99), unit: "ms", baseline: added("passthrough", 0.99) }),
      row({ section: "proxy", figure: `gpufleet Worker req/s vs pass-through (concurrency ${o.concurrency})`, value: s.gpufleet.reqPerSec, unit: "req/s", baseline: s.passthrough.reqPerSec, target: "≥ 0.8×", met: s.gpufleet.reqPerSec >= 0.8 * s.passthrough.reqPerSec }),
      row({ section: "proxy", figure: "gpufleet Worker without D1 (keeps no records: no deadlines read per listing): p50 added over direct (vs pass-through's)", value: added("noRecords", 0.5), unit: "ms", baseline: added("passthrough", 0.5) }),
      row({ section: "proxy", figure: `gpufleet Worker without D1: req/s vs pass-through (concurrency ${o.concurrency})`, value: s.noRecords.reqPerSec, unit: "req/s", baseline: s.passthrough.reqPerSec }),
      row({ section: "proxy", figure: `direct req/s (concurrency ${o.concurrency})`, value: s.direct.reqPerSec, unit: "req/s" }),
    ];
    return { rows, details: { options: o, request: "GET one page of 25 fal instances", summary: s } };
  } finally {
    await Promise.allSettled([proxy.dispose(), noRecords.dispose(), pass.dispose()]);
    await sim.close();
  }
}
