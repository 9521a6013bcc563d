#!/usr/bin/env node
// Load script for the edge proxy: N requests at concurrency C through the Worker in workerd
// (Miniflare) against the simulated clouds, over real HTTP on loopback. Reports throughput,
// latency, errors and the workerd process's memory growth.
//
//   node bench/load.mjs [--requests 2000] [--concurrency 32] [--path /api/v1/fal/instances]
//                       [--instances 25] [--latency 0] [--max-seconds 120] [--warmup N]
//                       [--check] [--max-growth 10] [--json]
//
// --path may be given several times (requests rotate over them); --latency adds simulated
// upstream latency (ms per provider call); --json prints one JSON object instead of the table.
// Bounded: stops after N requests or --max-seconds, whichever comes first.
//
// Memory: the resident set (VmRSS in /proc/<pid>/status, Linux) of every workerd process that
// descends from this one (Miniflare's child), summed. A warm-up of --warmup requests (default a
// tenth of N, 200–2000) at the same concurrency runs first, so compilation, connection pools and
// the JS heap's first growth are behind us; the baseline is the median of 3 samples after it, the
// end value the median of 3 samples after the run (and a short idle). growth = end / baseline − 1.
// The peak of samples taken every 250 ms during the run is reported too.
// --control repeats the same load through a trivial pass-through Worker (bench/passthrough.mjs) in
// the same runtime: workerd's RSS grows under sustained load whatever the Worker does (a Worker
// answering "ok" grows too), so the growth gpufleet adds is its growth in MiB minus the control's,
// as a share of gpufleet's baseline (excessGrowthPct).
// --check exits 1 unless there were 0 errors and growth (with --control: excess growth) is below
// --max-growth percentage points (default 10).
//
// Also importable: `runLoad(options)` resolves to the result object (tests/proxy/load.test.mjs).

import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensurePkg, simEnv, startProxy } from "../scripts/proxy-runtime.mjs";
import { startSim } from "../tests/sim/server.mjs";
import { SIM_KEYS } from "../tests/sim/defaults.mjs";
import { startPassthrough } from "./passthrough.mjs";

function parse(argv) {
  const o = { requests: 2000, concurrency: 32, paths: [], instances: 25, latency: 0, maxSeconds: 120, json: false, check: false, maxGrowth: 10 };
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
      case "--warmup": o.warmup = Math.floor(n(v(), a, 0)); break;
      case "--check": o.check = true; break;
      case "--control": o.control = true; break;
      case "--max-growth": o.maxGrowth = n(v(), a, 0); break;
      case "-h": case "--help": o.help = true; break;
      default: throw new RangeError(`unknown argument ${a}`);
    }
  }
  return withDefaults(o);
}

function withDefaults(o) {
  const d = { requests: 2000, concurrency: 32, paths: [], instances: 25, latency: 0, maxSeconds: 120, maxGrowth: 10, ...o };
  if (d.paths.length === 0) d.paths = ["/api/v1/fal/instances"];
  for (const p of d.paths) if (!p.startsWith("/")) throw new RangeError(`--path must start with / (got ${p})`);
  if (d.warmup === undefined) d.warmup = Math.min(2000, Math.max(200, Math.floor(d.requests / 10)));
  return d;
}

// ----- memory of the workerd process ---------------------------------------------------------

/** Every process as {pid, ppid, comm} from /proc (Linux); [] where there is no /proc. */
function processes() {
  let names;
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      out.push({ pid: Number(name), ppid, comm });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The pids of the workerd processes below this process (Miniflare spawns workerd as a child). */
export function workerdPids(root = process.pid) {
  const all = processes();
  const children = new Map();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()) ?? []) {
      queue.push(child.pid);
      let isWorkerd = child.comm.includes("workerd");
      if (!isWorkerd) {
        try {
          isWorkerd = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0")[0].endsWith("workerd");
        } catch {
          // gone
        }
      }
      if (isWorkerd) found.push(child.pid);
    }
  }
  return found;
}

/** Resident set size in KiB (VmRSS) of `pids`, summed; NaN if any cannot be read. */
export function rssKb(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (!m) return NaN;
      total += Number(m[1]);
    } catch {
      return NaN;
    }
  }
  return pids.length ? total : NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function settledRss(pids) {
  const samples = [];
  for (let i = 0; i < 3; i++) {
    await sleep(100);
    samples.push(rssKb(pids));
  }
  return median(samples);
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** N requests at concurrency C against `proxy`; returns {latencies, statuses, errors, bytes, seconds}. */
async function closedLoop(proxyUrl, headers, paths, requests, concurrency, maxSeconds) {
  const latencies = [];
  const statuses = new Map();
  let errors = 0;
  let sent = 0;
  let bytes = 0;
  const deadline = Date.now() + maxSeconds * 1000;
  const t0 = performance.now();
  async function worker() {
    while (sent < requests && Date.now() < deadline) {
      const path = paths[sent % paths.length];
      sent += 1;
      const start = performance.now();
      try {
        const r = await fetch(proxyUrl + path, { headers });
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
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, statuses, errors, bytes, seconds: (performance.now() - t0) / 1000 };
}

/** Warm-up, then the measured run, with workerd's RSS before, during and after. */
async function measured(url, headers, paths, o) {
  const warm = await closedLoop(url, headers, paths, Math.max(o.warmup, paths.length), o.concurrency, o.maxSeconds);
  const pids = workerdPids();
  const baselineKb = await settledRss(pids);
  let peakKb = baselineKb;
  const series = []; // [seconds since the run started, RSS KiB], one a second
  const t0 = performance.now();
  let ticks = 0;
  const sampler = setInterval(() => {
    const kb = rssKb(pids);
    if (kb > peakKb) peakKb = kb;
    if (++ticks % 4 === 0) series.push([Math.round((performance.now() - t0) / 1000), kb]);
  }, 250);
  let run;
  try {
    run = await closedLoop(url, headers, paths, o.requests, o.concurrency, o.maxSeconds);
  } finally {
    clearInterval(sampler);
  }
  await sleep(200);
  const endKb = await settledRss(pids);
  const growthPct = Number((((endKb - baselineKb) / baselineKb) * 100).toFixed(2));
  return { warm, run, memory: { pids, baselineKb, endKb, peakKb, growthPct, series } };
}

/** Runs the load (options as the CLI flags, camelCase) and resolves to the result object. */
export async function runLoad(options = {}) {
  const o = withDefaults(options);
  ensurePkg({ log: (m) => console.error(`[load] ${m}`) });
  const sim = await startSim({ port: 0, seed: 1, instances: o.instances, speed: 0 });
  let proxy;
  try {
    if (o.latency > 0) {
      await fetch(`${sim.url}/__sim/latency`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ms: o.latency }) });
    }
    const token = randomBytes(24).toString("base64url");
    const env = { ...(await simEnv(sim)), GPUFLEET_TOKEN: token, RATE_LIMIT_PER_MINUTE: "0" };
    proxy = await startProxy({ env, port: 0, onLog: () => {} });
    const headers = { authorization: `Bearer ${token}` };

    // Warm-up at the same concurrency: compiles, opens connections, grows the heap to its working size.
    const { warm, run, memory } = await measured(proxy.url, headers, o.paths, o);
    await proxy.dispose();
    proxy = undefined;
    // The control: the same load through a trivial pass-through Worker in the same runtime
    // (fal's list, forwarded to the sim), to tell what workerd itself grows by under this load.
    let control = null;
    if (o.control) {
      const pass = await startPassthrough({ upstream: sim.url });
      try {
        const c = await measured(pass.url, { authorization: `Key ${SIM_KEYS.fal}` }, ["/fal/v1/compute/instances"], o);
        control = { errors: c.run.errors + c.warm.errors, ...c.memory };
        delete control.series;
      } finally {
        await pass.dispose();
      }
    }

    const latencies = run.latencies.sort((a, b) => a - b);
    return {
      requests: latencies.length,
      concurrency: o.concurrency,
      paths: o.paths,
      upstreamLatencyMs: o.latency,
      seconds: Number(run.seconds.toFixed(3)),
      reqPerSec: Number((latencies.length / run.seconds).toFixed(1)),
      p50Ms: Number(percentile(latencies, 50).toFixed(2)),
      p99Ms: Number(percentile(latencies, 99).toFixed(2)),
      maxMs: Number((latencies.at(-1) ?? NaN).toFixed(2)),
      errors: run.errors,
      statuses: Object.fromEntries(run.statuses),
      bytes: run.bytes,
      warmup: { requests: warm.latencies.length, errors: warm.errors },
      memory: {
        ...memory,
        method: "VmRSS of the workerd process(es), median of 3 samples after warm-up vs after the run",
        control,
        // MiB grown beyond what the runtime grows by for a trivial Worker under the same load,
        // as a share of gpufleet's baseline
        excessGrowthPct: control
          ? Number((((memory.endKb - memory.baselineKb - (control.endKb - control.baselineKb)) / memory.baselineKb) * 100).toFixed(2))
          : null,
      },
    };
  } finally {
    if (proxy) await proxy.dispose();
    await sim.close();
  }
}

async function main() {
  let o;
  const usage =
    "usage: node bench/load.mjs [--requests N] [--concurrency C] [--path P]… [--instances n] [--latency ms] [--max-seconds s] [--warmup N] [--check] [--max-growth pct] [--json]";
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (o.help) {
    console.log(usage);
    return;
  }
  const result = await runLoad(o);
  const m = result.memory;
  const failures = [];
  if (result.errors > 0) failures.push(`${result.errors} errors`);
  const judged = m.control ? m.excessGrowthPct : m.growthPct;
  if (!Number.isFinite(judged)) failures.push("workerd memory could not be read");
  else if (judged >= o.maxGrowth) failures.push(`memory grew ${judged}%${m.control ? " beyond the control" : ""} (limit ${o.maxGrowth}%)`);
  if (m.control && m.control.errors) failures.push(`${m.control.errors} errors in the control run`);
  if (o.json) {
    console.log(JSON.stringify(result));
  } else {
    const mb = (kb) => (kb / 1024).toFixed(1);
    console.log(`proxy load: ${result.requests} requests, concurrency ${result.concurrency}, paths ${result.paths.join(" ")}${o.latency ? `, upstream latency ${o.latency} ms` : ""}`);
    console.log(`  req/s   ${result.reqPerSec}   (${result.seconds} s, after ${result.warmup.requests} warm-up requests)`);
    console.log(`  p50     ${result.p50Ms} ms`);
    console.log(`  p99     ${result.p99Ms} ms   (max ${result.maxMs} ms)`);
    console.log(`  errors  ${result.errors}   statuses ${JSON.stringify(result.statuses)}`);
    const pct = (x) => `${x >= 0 ? "+" : ""}${x}%`;
    console.log(`  memory  workerd pid ${m.pids.join(",") || "not found"}: RSS ${mb(m.baselineKb)} MiB after warm-up → ${mb(m.endKb)} MiB at the end (${pct(m.growthPct)}), peak ${mb(m.peakKb)} MiB`);
    if (m.control) {
      console.log(`  control trivial pass-through Worker, same load: ${mb(m.control.baselineKb)} → ${mb(m.control.endKb)} MiB (${pct(m.control.growthPct)}); gpufleet's excess ${pct(m.excessGrowthPct)}`);
    }
  }
  if (o.check && failures.length) {
    console.error(`[load] check failed: ${failures.join("; ")}`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(`[load] ${e.stack || e}`);
    process.exit(1);
  });
}
