// Deadlines fired by the Worker's own Cron Trigger in real workerd, on real D1 (Miniflare),
// against the simulated clouds: scheduled() claims what is due, acts through the provider
// (Novita stop, SF Compute terminate, fal delete), records the outcome in the audit log, and
// never acts twice — not when two scheduled runs overlap, not on a later run.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "./harness.mjs";
import { D1Store } from "../../pkg-template/d1-store.js";
import { BASE_PATHS, SIM_KEYS } from "../sim/defaults.mjs";

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

/** The provider requests of the last run (after clearUpstream), as "METHOD path". */
const calls = async () => (await h.upstream()).map((r) => `${r.method} ${r.path}`);

test("a 429 on the action leaves the deadline to the next run, which fires it once", async () => {
  const novita = (await state("novita")).find((i) => i.status === "running");
  await h.simPost("/faults", { provider: "novita", paths: ["/gpu/instance/stop"], kinds: ["429"], times: 10, retryAfterSeconds: 1 });
  await due("novita", novita.id, "stop");
  await h.proxy.scheduled();
  let d = JSON.parse(await store.deadline("novita", novita.id));
  assert.equal(d.state, "pending", JSON.stringify(d));
  assert.match(d.lastError, /rate|429|limit/i, d.lastError);
  // The attempt is logged (an attempt is `deadline.fired` with its outcome; `deadline.failed` is
  // the last one, given up) with the provider's refusal and when it is tried again.
  const [refused] = await audit(novita.id);
  assert.equal(refused.action, "deadline.fired");
  assert.notEqual(refused.outcome.kind, "ok", JSON.stringify(refused));
  assert.match(refused.detail, /retry at/);
  // The backoff over (as if a minute passed) and the provider answering again: the next run
  // stops it.
  await h.simDelete("/faults");
  await h.proxy.db.prepare("UPDATE deadlines SET next_attempt_ms = ?1 WHERE provider = 'novita' AND instance_id = ?2").bind(Date.now() - 1, novita.id).run();
  await h.clearUpstream();
  await h.proxy.scheduled();
  d = JSON.parse(await store.deadline("novita", novita.id));
  assert.equal(d.state, "done", JSON.stringify(d));
  const stops = (await calls()).filter((c) => c.includes("/gpu/instance/stop"));
  assert.equal(stops.length, 1, "stopped once on the retry");
  assert.equal((await audit(novita.id))[0].action, "deadline.fired");
});

test("an isolate that dies between claim and action: the deadline is taken over when its lease ends, re-read, and acted on once", async () => {
  const sfc = (await state("sfcompute")).find((i) => i.status === "running");
  await due("sfcompute", sfc.id, "terminate");
  // The dead run: it claimed the deadline and never acted or finished.
  const claimed = JSON.parse(await store.claimDue(Date.now(), "dead-isolate", 5 * 60_000, 10));
  assert.ok(claimed.some((c) => c.instanceId === sfc.id), JSON.stringify(claimed));
  await h.clearUpstream();
  await h.proxy.scheduled();
  assert.deepEqual((await calls()).filter((c) => !c.startsWith("GET")), [], "nothing acted on while the lease holds");
  assert.equal(JSON.parse(await store.deadline("sfcompute", sfc.id)).state, "pending");
  // The lease runs out: the next run takes it over, reads the instance first, then terminates it once.
  await h.proxy.db.prepare("UPDATE deadlines SET lease_until_ms = ?1 WHERE provider = 'sfcompute' AND instance_id = ?2").bind(Date.now() - 1, sfc.id).run();
  await h.clearUpstream();
  await h.proxy.scheduled();
  const log = await calls();
  const get = log.findIndex((c) => c.startsWith("GET") && c.includes(`/instances/${sfc.id}`));
  const terminate = log.findIndex((c) => c.startsWith("POST") && c.includes(`/instances/${sfc.id}/terminate`));
  assert.ok(get >= 0 && terminate > get, `a get before the action: ${log.join(", ")}`);
  assert.equal(log.filter((c) => c.includes(`/instances/${sfc.id}/terminate`)).length, 1, "terminated once");
  assert.equal(JSON.parse(await store.deadline("sfcompute", sfc.id)).state, "done");
});

test("an instance already gone: the deadline is done, nothing is acted on", async () => {
  const fal = (await state("fal")).find((i) => i.status === "ready");
  // Gone from the provider by other hands (deleted straight at the simulator).
  await fetch(`${h.sim.url}${BASE_PATHS.fal}/compute/instances/${fal.id}`, { method: "DELETE", headers: { authorization: `Key ${SIM_KEYS.fal}` } });
  assert.ok(!(await state("fal")).some((i) => i.id === fal.id), "deleted at the provider");
  await due("fal", fal.id, "delete");
  await h.clearUpstream();
  await h.proxy.scheduled();
  const d = JSON.parse(await store.deadline("fal", fal.id));
  assert.equal(d.state, "done", JSON.stringify(d));
  const [entry] = await audit(fal.id);
  assert.equal(entry.action, "deadline.fired");
});
