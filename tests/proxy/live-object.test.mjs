// The live view's Durable Object class on its own, in Node (pkg/live.js as built): the parts a
// workerd run cannot easily reach — a console that stops reading, and the per-plan budget.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ensurePkg } from "../../scripts/proxy-runtime.mjs";

ensurePkg({ log: (m) => console.error(`[live object] ${m}`) });
const { FleetLive, budgetOf } = await import("../../pkg/live.js");

/** A stream writer whose reader never reads: each write stays queued. */
function stalledWriter() {
  return {
    desiredSize: 1,
    writes: 0,
    aborted: null,
    write() {
      this.writes += 1;
      this.desiredSize -= 1;
      return new Promise(() => {});
    },
    abort(reason) {
      this.aborted = reason;
      return Promise.resolve();
    },
  };
}

test("a console that stops reading is dropped once more than 64 events wait for it, not kept in memory for everyone", () => {
  const live = new FleetLive({ storage: {} }, {});
  const stalled = { caller: "a", writer: stalledWriter() };
  const reading = { caller: "b", writer: { desiredSize: 1, write: () => Promise.resolve(), abort: () => Promise.resolve() } };
  live.clients.add(stalled);
  live.clients.add(reading);
  // The stream holds one chunk itself (desiredSize 1); 64 more may wait beyond it.
  for (let i = 0; i < 66; i++) live.broadcast("status", { i });
  assert.equal(live.clients.has(stalled), true, "64 events past the stream's own buffer: still within the limit");
  live.broadcast("status", { i: 66 });
  assert.equal(live.clients.has(stalled), false, "the next finds 65 waiting: the stream is closed");
  assert.match(String(stalled.writer.aborted), /stopped reading/);
  assert.equal(stalled.writer.writes, 66, "nothing more is queued for it");
  assert.equal(live.clients.has(reading), true, "a console that reads is kept");
});

test("one invocation's budget: the Free plan's by default, the Paid plan's when told, overrides checked", () => {
  assert.deepEqual(budgetOf({}), { pages: 40, instances: 500 });
  assert.deepEqual(budgetOf({ GPUFLEET_PLAN: " Paid " }), { pages: 5000, instances: 200000 });
  assert.deepEqual(budgetOf({ GPUFLEET_PLAN: "enterprise" }), { pages: 40, instances: 500 }, "an unknown plan gets the safe budget");
  assert.deepEqual(budgetOf({ LIVE_PAGES_PER_RUN: "3", LIVE_INSTANCES_PER_RUN: "250" }), { pages: 3, instances: 250 });
  assert.deepEqual(budgetOf({ LIVE_PAGES_PER_RUN: "0", LIVE_INSTANCES_PER_RUN: "lots" }), { pages: 40, instances: 500 }, "nonsense falls back");
});
