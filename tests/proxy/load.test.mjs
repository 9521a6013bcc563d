// The short load test (issue #8): 2,000 requests at 64 concurrent through the gpufleet Worker in
// workerd (Miniflare) against the simulated clouds: no errors, and the Worker's own memory — the
// gpufleet instance's wasm linear memory, read through the test-only probe Worker
// (bench/memory-probe-worker.js, which wraps pkg/worker.js unchanged) — grows less than 10 % after
// the warm-up. workerd's RSS is printed for context only: it grows under sustained load whatever
// the Worker does (BENCHMARKS.md "Load"). The full run is
// `node bench/load.mjs --requests 20000 --concurrency 64 --warmup 2000 --control --check`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../../bench/load.mjs";

const PAGE = 65536;
const kib = (b) => `${Math.round(b / 1024)} KiB`;

function assertSaneWasm(w) {
  for (const k of ["initialBytes", "baselineBytes", "endBytes"]) {
    assert.ok(Number.isInteger(w[k]) && w[k] > 0 && w[k] % PAGE === 0, `${k} is a whole number of 64 KiB pages (${w[k]})`);
  }
  assert.ok(w.baselineBytes <= w.endBytes, "linear memory never shrinks");
  assert.equal(w.jsHeap, null, "workerd exposes no JS heap statistics (if it starts to, measure them too)");
}

test("2,000 requests at 64 concurrent: 0 errors, the Worker's wasm memory grows < 10 % after warm-up", { timeout: 240_000 }, async () => {
  const r = await runLoad({ requests: 2000, concurrency: 64, warmup: 500, maxSeconds: 120 });
  const w = r.wasm;
  const m = r.memory;
  const mb = (kb) => (kb / 1024).toFixed(1);
  console.log(
    `load: ${r.requests} requests, ${r.reqPerSec} req/s, p99 ${r.p99Ms} ms, errors ${r.errors}; wasm ${kib(w.initialBytes)} → ${kib(w.baselineBytes)} after warm-up ` +
      `(settled at request ${w.warmupSettledAfter}) → ${kib(w.endBytes)} (${w.growthPct}%), externrefs ${w.externrefs.baseline} → ${w.externrefs.end}; ` +
      `workerd RSS ${mb(m.baselineKb)} → ${mb(m.endKb)} MiB (${m.growthPct}%, context only)`,
  );
  assert.equal(r.requests, 2000, "every request was sent within the time bound");
  assert.equal(r.errors, 0, `statuses ${JSON.stringify(r.statuses)}`);
  assert.equal(r.warmup.errors, 0, "no error during the warm-up either");
  assertSaneWasm(w);
  // The probe reads the instance that served the requests: it grew from its start size under load.
  assert.ok(w.baselineBytes > w.initialBytes, "the warm-up raised the high-water mark of the serving instance");
  assert.ok(w.probedRequests >= 2500, `the probe saw every request (${w.probedRequests})`);
  assert.ok(w.warmupSettledAfter < 500, `the high-water mark settled within the warm-up (at request ${w.warmupSettledAfter})`);
  assert.ok(w.growthPct < 10, `the Worker's wasm memory grew ${w.growthPct}% after the warm-up`);
  assert.ok(w.externrefs.end <= w.externrefs.baseline, `the externref table did not grow (${w.externrefs.baseline} → ${w.externrefs.end})`);
  assert.ok(m.pids.length >= 1 && m.baselineKb > 10_000, `workerd's RSS was read (${m.baselineKb} KiB)`);
});

test("a leak in the Worker's wasm memory is detected (probe-injected, 1 KiB per request)", { timeout: 120_000 }, async () => {
  const r = await runLoad({ requests: 600, concurrency: 64, warmup: 200, maxSeconds: 60, leakBytesPerRequest: 1024 });
  const w = r.wasm;
  console.log(`leak: wasm ${kib(w.baselineBytes)} → ${kib(w.endBytes)} (${w.growthPct}%), injected ${kib(w.injectedLeakBytes)} in all`);
  assert.equal(r.errors, 0);
  assertSaneWasm(w);
  // 600 KiB retained during the run, on a baseline of about 2 MiB
  assert.ok(w.endBytes - w.baselineBytes >= 8 * PAGE, `the retained pages show (${kib(w.endBytes - w.baselineBytes)})`);
  assert.ok(w.growthPct >= 10, `the same check that passes above fails on a leak (${w.growthPct}%)`);
});
