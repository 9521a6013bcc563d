// The short load test (issue #8): 2,000 requests at 64 concurrent through the gpufleet Worker in
// workerd (Miniflare) against the simulated clouds: no errors, and no memory growth beyond what
// the runtime shows for a trivial pass-through Worker under the same load (bench/load.mjs
// --control; workerd's RSS grows under sustained load whatever the Worker does). The full run is
// `node bench/load.mjs --requests 20000 --concurrency 64 --warmup 2000 --control --check`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { runLoad } from "../../bench/load.mjs";

test("2,000 requests at 64 concurrent: 0 errors, memory growth beyond the runtime's under 10 %", { timeout: 240_000 }, async () => {
  const r = await runLoad({ requests: 2000, concurrency: 64, warmup: 500, control: true, maxSeconds: 120 });
  const m = r.memory;
  const mb = (kb) => (kb / 1024).toFixed(1);
  console.log(
    `load: ${r.requests} requests, ${r.reqPerSec} req/s, p99 ${r.p99Ms} ms, errors ${r.errors}; workerd RSS ${mb(m.baselineKb)} → ${mb(m.endKb)} MiB (${m.growthPct}%), ` +
      `control ${mb(m.control.baselineKb)} → ${mb(m.control.endKb)} MiB (${m.control.growthPct}%), excess ${m.excessGrowthPct}%`,
  );
  assert.equal(r.requests, 2000, "every request was sent within the time bound");
  assert.equal(r.errors, 0, `statuses ${JSON.stringify(r.statuses)}`);
  assert.equal(r.warmup.errors, 0, "no error during the warm-up either");
  assert.equal(m.control.errors, 0, "the control run had no errors");
  assert.ok(m.pids.length >= 1 && m.control.pids.length >= 1, "the workerd processes were found");
  assert.ok(m.baselineKb > 10_000, `a plausible workerd RSS (${m.baselineKb} KiB)`);
  assert.ok(Number.isFinite(m.excessGrowthPct), "memory was measured");
  assert.ok(m.excessGrowthPct < 10, `gpufleet grew ${m.excessGrowthPct}% of its baseline beyond the control`);
});
