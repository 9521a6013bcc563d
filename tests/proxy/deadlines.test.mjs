// Deadlines fired by the Worker's own Cron Trigger in real workerd, on real D1 (Miniflare),
// against the simulated clouds: scheduled() claims what is due, acts through the provider
// (Novita stop, SF Compute terminate, fal delete), records the outcome in the audit log, and
// never acts twice — not when two scheduled runs overlap, not on a later run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "./harness.mjs";
import { D1Store } from "../../pkg-template/d1-store.js";

let h;
let store;

before(async () => {
  h = await startHarness();
  store = new D1Store(h.proxy.db);
});

after(async () => {
  await h?.close();
});

const state = async (p) => (await (await fetch(`${h.sim.url}/__sim/state?provider=${p}`)).json()).instances;

/** A due deadline written straight to D1 (the API validates; this test is about firing). */
async function due(provider, instanceId, action) {
  const atMs = Date.now() - 1_000;
  await store.putDeadline(
    JSON.stringify({ provider, instanceId, atMs, action, setBy: "test", setAtMs: atMs - 1, state: "pending", attempts: 0, nextAttemptMs: atMs }),
  );
}

async function audit(instanceId) {
  return JSON.parse(await store.audit(JSON.stringify({ instanceId, limit: 50 }))).entries;
}

test("scheduled() fires each due deadline once, by the provider's action, and logs it", async () => {
  const novita = (await state("novita")).find((i) => i.status === "running");
  const sfc = (await state("sfcompute")).find((i) => i.status === "running");
  const fal = (await state("fal")).find((i) => i.status === "ready");
  assert.ok(novita && sfc && fal, "the sim has a running instance of each");
  await due("novita", novita.id, "stop");
  await due("sfcompute", sfc.id, "terminate");
  await due("fal", fal.id, "delete");
  h.logs.length = 0;

  // Two overlapping runs (as when one minute's run is slow): each deadline is claimed by one.
  await Promise.all([h.proxy.scheduled(), h.proxy.scheduled()]);
  const upstream = await h.upstream();
  const acts = upstream.filter((r) => r.method === "POST" || r.method === "DELETE");
  const count = (pred) => acts.filter(pred).length;
  assert.equal(count((r) => r.path.includes("/gpu/instance/stop")), 1, JSON.stringify(acts));
  assert.equal(count((r) => r.path.includes(`/instances/${sfc.id}/terminate`) || (r.path.includes("terminate") && r.path.includes(sfc.id))), 1, JSON.stringify(acts));
  assert.equal(count((r) => r.method === "DELETE" && r.path.includes(fal.id)), 1, JSON.stringify(acts));

  for (const [p, id] of [["novita", novita.id], ["sfcompute", sfc.id], ["fal", fal.id]]) {
    const d = JSON.parse(await store.deadline(p, id));
    assert.equal(d.state, "done", `${p}: ${JSON.stringify(d)}`);
    const [fired] = await audit(id);
    assert.equal(fired.action, "deadline.fired");
    assert.equal(fired.caller, "deadline");
    assert.deepEqual(fired.outcome, { kind: "ok" });
  }
  const reports = h.logs.filter((l) => l.includes('"event":"deadlines"'));
  assert.equal(reports.length, 2, h.logs.join("\n"));

  // A later run does nothing more.
  await h.clearUpstream();
  await h.proxy.scheduled();
  assert.equal((await h.upstream()).length, 0);
});

test("a provider that fails leaves the deadline pending with the error, to be retried", async () => {
  const novita = (await state("novita")).find((i) => i.status === "running");
  await h.simPost("/faults", { provider: "novita", paths: ["/gpu/instance/stop"], kinds: ["503"], times: 1 });
  await due("novita", novita.id, "stop");
  await h.proxy.scheduled();
  const d = JSON.parse(await store.deadline("novita", novita.id));
  assert.equal(d.state, "pending");
  assert.ok(d.nextAttemptMs > Date.now(), "retried after a backoff");
  assert.match(d.lastError, /stop/);
  const [entry] = await audit(novita.id);
  assert.deepEqual(entry.outcome, { kind: "unknown" }, JSON.stringify(entry));
  assert.match(entry.detail, /retry at/);
});
