#!/usr/bin/env node
// Load script for the edge proxy (not a test): N requests at concurrency C through the Worker in
// workerd (Miniflare) against the simulated clouds, over real HTTP on loopback.
//
//   node bench/load.mjs [--requests 2000] [--concurrency 32] [--path /api/v1/fal/instances]
//                       [--instances 25] [--latency 0] [--max-seconds 120] [--json]
//
// --path may be given several times (requests rotate over them); --latency adds simulated
// upstream latency (ms per provider call); --json prints one JSON object instead of the table.
// Bounded: stops after N requests or --max-seconds, whichever comes first.

import { randomBytes } from "node:crypto";
import { ensurePkg, simEnv, startProxy } from "../scripts/proxy-runtime.mjs";
import { startSim } from "../tests/sim/server.mjs";

function parse(argv) {
  const o = { requests: 2000, concurrency: 32, paths: [], instances: 25, latency: 0, maxSeconds: 120, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new RangeError(`${a} needs a value`);
      return argv[++i];
    };
    const n = (x, name, min) => {
      const num = Number(x);
      if (!Number.isFinite(num) || num < min) throw new RangeError(`${name} must be a number >= ${min}`);
      return num;
    };
    switch (a) {
      case "--requests": case "-n": o.requests = Math.floor(n(v(), a, 1)); break;
      case "--concurrency": case "-c": o.concurrency = Math.floor(n(v(), a, 1)); break;
      case "--path": o.paths.push(v()); break;
      case "--instances": o.instances = Math.floor(n(v(), a, 0)); break;
      case "--latency": o.latency = n(v(), a, 0); break;
      case "--max-seconds": o.maxSeconds = n(v(), a, 1); break;
      case "--json": o.json = true; break;
      case "-h": case "--help": o.help = true; break;
      default: throw new RangeError(`unknown argument ${a}`);
    }
  }
  if (o.paths.length === 0) o.paths.push("/api/v1/fal/instances");
  for (const p of o.paths) if (!p.startsWith("/")) throw new RangeError(`--path must start with / (got ${p})`);
  return o;
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function main() {
  let o;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\nusage: node bench/load.mjs [--requests N] [--concurrency C] [--path P]… [--instances n] [--latency ms] [--max-seconds s] [--json]`);
    process.exit(2);
  }
  if (o.help) {
    console.log("usage: node bench/load.mjs [--requests N] [--concurrency C] [--path P]… [--instances n] [--latency ms] [--max-seconds s] [--json]");
    return;
  }
  ensurePkg({ log: (m) => console.error(`[load] ${m}`) });
  const sim = await startSim({ port: 0, seed: 1, instances: o.instances, speed: 0 });
  if (o.latency > 0) {
    await fetch(`${sim.url}/__sim/latency`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ms: o.latency }) });
  }
  const token = randomBytes(24).toString("base64url");
  const env = { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "0" };
  const proxy = await startProxy({ env, port: 0, onLog: () => {} });
  const headers = { authorization: `Bearer ${token}` };

  // Warm-up: one request per path (compiles, opens connections).
  for (const p of o.paths) await (await fetch(proxy.url + p, { headers })).arrayBuffer();

  const latencies = [];
  const statuses = new Map();
  let errors = 0;
  let sent = 0;
  let bytes = 0;
  const deadline = Date.now() + o.maxSeconds * 1000;
  const t0 = performance.now();
  async function worker() {
    while (sent < o.requests && Date.now() < deadline) {
      const path = o.paths[sent % o.paths.length];
      sent += 1;
      const start = performance.now();
      try {
        const r = await fetch(proxy.url + path, { headers });
        const body = await r.arrayBuffer();
        bytes += body.byteLength;
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 400) errors += 1;
      } catch {
        errors += 1;
        statuses.set("network", (statuses.get("network") ?? 0) + 1);
      }
      latencies.push(performance.now() - start);
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await proxy.dispose();
  await sim.close();

  latencies.sort((a, b) => a - b);
  const result = {
    requests: latencies.length,
    concurrency: o.concurrency,
    paths: o.paths,
    upstreamLatencyMs: o.latency,
    seconds: Number(seconds.toFixed(3)),
    reqPerSec: Number((latencies.length / seconds).toFixed(1)),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    maxMs: Number((latencies.at(-1) ?? NaN).toFixed(2)),
    errors,
    statuses: Object.fromEntries(statuses),
    bytes,
  };
  if (o.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`proxy load: ${result.requests} requests, concurrency ${result.concurrency}, paths ${result.paths.join(" ")}${o.latency ? `, upstream latency ${o.latency} ms` : ""}`);
  console.log(`  req/s   ${result.reqPerSec}`);
  console.log(`  p50     ${result.p50Ms} ms`);
  console.log(`  p99     ${result.p99Ms} ms   (max ${result.maxMs} ms)`);
  console.log(`  errors  ${result.errors}   statuses ${JSON.stringify(result.statuses)}`);
}

main().catch((e) => {
  console.error(`[load] ${e.stack || e}`);
  process.exit(1);
});
