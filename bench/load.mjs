#!/usr/bin/env node
// Load script for the edge proxy: N requests at concurrency C through the Worker in workerd
// (Miniflare) against the simulated clouds, over real HTTP on loopback. Reports throughput,
// latency, errors, the Worker's own memory and the workerd process's memory growth.
//
//   node bench/load.mjs [--requests 2000] [--concurrency 32] [--path /api/v1/fal/instances]
//                       [--instances 25] [--latency 0] [--max-seconds 120] [--warmup N]
//                       [--control] [--check] [--max-growth 10] [--max-rss-excess pct]
//                       [--leak-bytes-per-request 0] [--json]
//
// --path may be given several times (requests rotate over them); --latency adds simulated
// upstream latency (ms per provider call); --json prints one JSON object instead of the table.
// Bounded: stops after N requests or --max-seconds, whichever comes first.
//
// The Worker runs behind a test-only probe (bench/memory-probe-worker.js: it wraps pkg/worker.js
// unchanged and answers GET /__probe/memory), so two kinds of memory are measured:
//
// - The Worker's own memory (judged): the gpufleet instance's wasm linear memory
//   (memory.buffer.byteLength), where everything the Rust side allocates lives. It never shrinks,
//   so it is the high-water mark; growth = end / after-warm-up − 1. Also the length of
//   wasm-bindgen's externref table (JS values held by Rust), which must not grow after warm-up.
//   workerd exposes no JS heap statistics to a Worker, so the JS glue's heap is not measured
//   separately (it is inside the RSS below).
// - The workerd process's resident set (context): VmRSS in /proc/<pid>/status (Linux) of every
//   workerd process below this one, summed; median of 3 samples after the warm-up vs after the run,
//   peak of samples every 250 ms. workerd's RSS grows under sustained load whatever the Worker
//   does (a Worker answering "ok" grows too; BENCHMARKS.md "Load"), so --control repeats the same
//   load through a trivial pass-through Worker (bench/passthrough.mjs) in the same runtime, and
//   excessGrowthPct is gpufleet's growth in MiB minus the control's, as a share of gpufleet's
//   baseline.
//
// Warm-up: --warmup requests (default a tenth of N, 200–2000) at the same concurrency first. The
// wasm high-water mark is set by the most requests in flight at once, so it is reached within the
// first few rounds of C concurrent requests (the result's wasm.warmupSettledAfter says when; about
// 2 rounds of 64 for the fal list) and the baseline after the warm-up is the steady state.
//
// --check exits 1 unless there were 0 errors (warm-up and control included), the wasm memory grew
// less than --max-growth per cent after the warm-up (default 10), the externref table did not
// grow, and, if --max-rss-excess is given (with --control), the RSS growth beyond the control is
// below it. --leak-bytes-per-request makes the probe retain that much wasm memory per request, to
// show the check fails on a leak.
//
// Also importable: `runLoad(options)` resolves to the result object (tests/proxy/load.test.mjs).

import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensurePkg, simEnv } from "../scripts/proxy-runtime.mjs";
import { startSim } from "../tests/sim/server.mjs";
import { SIM_KEYS } from "../tests/sim/defaults.mjs";
import { startPassthrough } from "./passthrough.mjs";
import { readProbe, startProbedProxy } from "./memory-probe.mjs";

/** The command line (node:util parseArgs, strict: an unknown option is an error) as runLoad's options. */
function parse(argv) {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      requests: { type: "string", short: "n" },
      concurrency: { type: "string", short: "c" },
      path: { type: "string", multiple: true },
      instances: { type: "string" },
      latency: { type: "string" },
      "max-seconds": { type: "string" },
      json: { type: "boolean" },
      warmup: { type: "string" },
      check: { type: "boolean" },
      control: { type: "boolean" },
      "max-growth": { type: "string" },
      "max-rss-excess": { type: "string" },
      "leak-bytes-per-request": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const n = (name, min, whole) => {
    if (v[name] === undefined) return undefined;
    const num = Number(v[name]);
    if (!Number.isFinite(num) || num < min) throw new RangeError(`--${name} must be a number >= ${min}`);
    return whole ? Math.floor(num) : num;
  };
  const o = {
    requests: n("requests", 1, true),
    concurrency: n("concurrency", 1, true),
    paths: v.path ?? [],
    instances: n("instances", 0, true),
    latency: n("latency", 0),
    maxSeconds: n("max-seconds", 1),
    json: v.json ?? false,
    warmup: n("warmup", 0, true),
    check: v.check ?? false,
    control: v.control,
    maxGrowth: n("max-growth", 0),
    maxRssExcess: n("max-rss-excess", 0),
    leakBytesPerRequest: n("leak-bytes-per-request", 0, true),
    help: v.help,
  };
  // Options not given take withDefaults' values.
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
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

/** The probe's reading, or null when there is no probe (the control). */
async function probeOrNull(url, probe) {
  return probe ? readProbe(url) : null;
}

/**
 * Warm-up, then the measured run, with workerd's RSS (and, with `probe`, the Worker's wasm linear
 * memory and externref table) before, during and after.
 */
async function measured(url, headers, paths, o, { probe = false } = {}) {
  const pids = workerdPids();
  const initial = await probeOrNull(url, probe);
  const initialKb = rssKb(pids);
  // The wasm high-water mark during the warm-up, sampled every 100 ms: when it stops moving is
  // what the warm-up length has to cover (see --warmup).
  const warmSeries = [];
  let warmTicks = 0;
  const t0w = performance.now();
  const warmSampler = probe
    ? setInterval(() => {
        const t = Math.round(performance.now() - t0w);
        readProbe(url).then((p) => warmSeries.push([t, p.requests, p.wasmBytes]), () => {});
        warmTicks += 1;
      }, 100)
    : null;
  let warm;
  try {
    warm = await closedLoop(url, headers, paths, Math.max(o.warmup, paths.length), o.concurrency, o.maxSeconds);
  } finally {
    if (warmSampler) clearInterval(warmSampler);
  }
  const baselineKb = await settledRss(pids);
  const before = await probeOrNull(url, probe);
  let peakKb = baselineKb;
  const series = []; // [seconds since the run started, RSS KiB, wasm bytes or null], one a second
  const t0 = performance.now();
  let ticks = 0;
  const sampler = setInterval(() => {
    const kb = rssKb(pids);
    if (kb > peakKb) peakKb = kb;
    if (++ticks % 4 === 0) {
      const row = [Math.round((performance.now() - t0) / 1000), kb, null];
      series.push(row);
      if (probe) readProbe(url).then((p) => (row[2] = p.wasmBytes), () => {});
    }
  }, 250);
  let run;
  try {
    run = await closedLoop(url, headers, paths, o.requests, o.concurrency, o.maxSeconds);
  } finally {
    clearInterval(sampler);
  }
  await sleep(200);
  const endKb = await settledRss(pids);
  const after = await probeOrNull(url, probe);
  const pct = (a, b) => Number((((b - a) / a) * 100).toFixed(2));
  const memory = { pids, initialKb, baselineKb, endKb, peakKb, growthPct: pct(baselineKb, endKb), series };
  let wasm = null;
  if (probe) {
    wasm = {
      initialBytes: initial.wasmBytes,
      baselineBytes: before.wasmBytes,
      endBytes: after.wasmBytes,
      growthPct: pct(before.wasmBytes, after.wasmBytes),
      externrefs: { initial: initial.externrefs, baseline: before.externrefs, end: after.externrefs },
      injectedLeakBytes: after.leakedBytes,
      jsHeap: after.jsHeap,
      // the request count (as the probe saw it) at which the high-water mark was last raised in
      // the warm-up
      warmupSettledAfter: settledAfter(warmSeries, initial.wasmBytes),
      warmSeries,
      probedRequests: after.requests,
    };
  }
  return { warm, run, memory, wasm };
}

/** The request count at which the wasm size was last raised in a [ms, requests, bytes] series. */
function settledAfter(series, initialBytes) {
  let last = 0;
  let prev = initialBytes;
  for (const [, requests, bytes] of [...series].sort((a, b) => a[1] - b[1])) {
    if (bytes > prev) last = requests;
    prev = Math.max(prev, bytes);
  }
  return last;
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
    // pkg/worker.js behind the test-only memory probe (bench/memory-probe-worker.js), which
    // reports the gpufleet instance's wasm linear memory.
    proxy = await startProbedProxy({ env, leakBytesPerRequest: o.leakBytesPerRequest ?? 0 });
    const headers = { authorization: `Bearer ${token}` };

    // Warm-up at the same concurrency: compiles, opens connections, grows the heap to its working size.
    const { warm, run, memory, wasm } = await measured(proxy.url, headers, o.paths, o, { probe: true });
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
      // the Worker's own memory: the gpufleet instance's wasm linear memory (a high-water mark)
      wasm,
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
    "usage: node bench/load.mjs [--requests N] [--concurrency C] [--path P]… [--instances n] [--latency ms] [--max-seconds s] [--warmup N] [--control] [--check] [--max-growth pct] [--max-rss-excess pct] [--leak-bytes-per-request n] [--json]";
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
  const w = result.wasm;
  if (!(w.baselineBytes > 0 && w.baselineBytes % 65536 === 0)) failures.push(`implausible wasm memory size ${w.baselineBytes}`);
  else if (w.growthPct >= o.maxGrowth) failures.push(`the Worker's wasm memory grew ${w.growthPct}% after the warm-up (limit ${o.maxGrowth}%)`);
  if (w.externrefs.end > w.externrefs.baseline) failures.push(`the externref table grew after the warm-up (${w.externrefs.baseline} → ${w.externrefs.end})`);
  if (result.warmup.errors) failures.push(`${result.warmup.errors} errors in the warm-up`);
  if (m.control && m.control.errors) failures.push(`${m.control.errors} errors in the control run`);
  if (o.maxRssExcess !== undefined) {
    if (!m.control) failures.push("--max-rss-excess needs --control");
    else if (!Number.isFinite(m.excessGrowthPct)) failures.push("workerd memory could not be read");
    else if (m.excessGrowthPct >= o.maxRssExcess) failures.push(`workerd RSS grew ${m.excessGrowthPct}% beyond the control (limit ${o.maxRssExcess}%)`);
  }
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
    const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
    console.log(
      `  wasm    linear memory ${kib(w.initialBytes)} at start, ${kib(w.baselineBytes)} after warm-up (last raised at request ${w.warmupSettledAfter}) → ${kib(w.endBytes)} at the end (${pct(w.growthPct)})` +
        `; externref table ${w.externrefs.initial} → ${w.externrefs.baseline} → ${w.externrefs.end}${w.injectedLeakBytes ? `; injected leak ${kib(w.injectedLeakBytes)}` : ""}`,
    );
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
