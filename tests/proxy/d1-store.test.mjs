// The D1 store (pkg-template/d1-store.js) on real D1 (Miniflare's SQLite in workerd), with the
// migrations applied as `wrangler d1 migrations apply` would: the same semantics as the core's
// MemoryStore (tests/deadlines.rs), a claim that no two concurrent runs share, and an audit log
// that loses nothing under 1,000 concurrent appends.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { applyMigrations, migrationStatements } from "../../scripts/proxy-runtime.mjs";
import { D1Store } from "../../pkg-template/d1-store.js";

let mf;
let db;
let store;

before(async () => {
  const { Miniflare } = await import("miniflare");
  mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response('ok'); } }",
    compatibilityDate: "2026-05-01",
    d1Databases: ["DB"],
    cf: false,
  });
  await mf.ready;
  db = await mf.getD1Database("DB");
  await applyMigrations(db);
  await applyMigrations(db); // idempotent
  store = new D1Store(db);
});

after(async () => {
  await mf?.dispose();
});

const deadline = (id, over = {}) => ({
  provider: "novita",
  instanceId: id,
  instanceName: `name-${id}`,
  atMs: 1_000,
  action: "stop",
  setBy: "alice",
  setAtMs: 10,
  state: "pending",
  attempts: 0,
  nextAttemptMs: 1_000,
  ...over,
});

test("the migrations create both tables", async () => {
  assert.ok(migrationStatements().length >= 4);
  const { results } = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  const names = results.map((r) => r.name);
  assert.ok(names.includes("audit") && names.includes("deadlines"), names.join(","));
});

test("deadlines: put replaces and returns the previous, claim takes due ones under a lease, only the holder finishes", async () => {
  assert.equal(await store.putDeadline(JSON.stringify(deadline("a"))), null);
  const previous = JSON.parse(await store.putDeadline(JSON.stringify(deadline("a", { action: "delete" }))));
  assert.equal(previous.action, "stop");
  assert.equal(previous.instanceName, "name-a");
  await store.putDeadline(JSON.stringify(deadline("b", { atMs: 5_000, nextAttemptMs: 5_000 })));

  assert.deepEqual(JSON.parse(await store.claimDue(999, "early", 60_000, 10)), [], "not due yet");
  const claimed = JSON.parse(await store.claimDue(1_000, "run-1", 60_000, 10));
  assert.deepEqual(claimed.map((d) => [d.instanceId, d.attempts, d.leaseOwner, d.leaseUntilMs]), [["a", 1, "run-1", 61_000]]);
  assert.deepEqual(JSON.parse(await store.claimDue(2_000, "run-2", 60_000, 10)), [], "held by run-1");
  assert.equal(await store.finish("novita", "a", "run-2", JSON.stringify({ done: { atMs: 2_000 } })), false, "not the holder");
  assert.equal(await store.finish("novita", "a", "run-1", JSON.stringify({ retry: { nextAttemptMs: 90_000, error: "busy" } })), true);
  const a = JSON.parse(await store.deadline("novita", "a"));
  assert.equal(a.leaseOwner, undefined);
  assert.equal(a.lastError, "busy");
  assert.deepEqual(JSON.parse(await store.claimDue(89_999, "run-3", 60_000, 10)).map((d) => d.instanceId), ["b"], "a waits for its retry");
  // b's holder dies: after the lease, another run takes it, attempts counting on.
  const taken = JSON.parse(await store.claimDue(89_999 + 60_000, "run-4", 60_000, 10));
  assert.deepEqual(taken.map((d) => [d.instanceId, d.attempts]), [["a", 2], ["b", 2]]);
  assert.equal(await store.finish("novita", "b", "run-3", JSON.stringify({ done: { atMs: 1 } })), false, "the dead run's lease is gone");
  assert.equal(await store.finish("novita", "b", "run-4", JSON.stringify({ done: { atMs: 150_000 } })), true);
  assert.equal(await store.finish("novita", "a", "run-4", JSON.stringify({ gaveUp: { error: "no" } })), true);
  const all = JSON.parse(await store.deadlines());
  assert.deepEqual(all.map((d) => [d.instanceId, d.state]), [["a", "failed"], ["b", "done"]], "by time once none is pending");
  assert.equal(JSON.parse(await store.deadline("novita", "b")).firedAtMs, 150_000);
  assert.equal(JSON.parse(await store.clearDeadline("novita", "a")).state, "failed");
  assert.equal(await store.clearDeadline("novita", "a"), null);
  assert.equal(await store.deadline("novita", "a"), null);
  await assert.rejects(store.finish("novita", "b", "x", "{}"), /expected done, retry or gaveUp/);
});

test("deadlinesOf: the deadlines of the instances named, in any state, from one statement", async () => {
  await store.putDeadline(JSON.stringify(deadline("of-1")));
  await store.putDeadline(JSON.stringify(deadline("of-2", { state: "done", firedAtMs: 2_000 })));
  await store.putDeadline(JSON.stringify({ ...deadline("of-1"), provider: "sfcompute", action: "terminate" }));
  const keys = [["novita", "of-1"], ["novita", "of-2"], ["novita", "of-none"], ["fal", "of-1"], ["sfcompute", "of-1"]];
  const got = JSON.parse(await store.deadlinesOf(JSON.stringify(keys)));
  const seen = got.map((d) => `${d.provider}/${d.instanceId}/${d.state}`).sort();
  assert.deepEqual(seen, ["novita/of-1/pending", "novita/of-2/done", "sfcompute/of-1/pending"], "named ones only, the provider counting");
  assert.equal(got.find((d) => d.instanceId === "of-2").firedAtMs, 2_000);
  assert.deepEqual(JSON.parse(await store.deadlinesOf("[]")), []);
  // A whole big answer's worth of instances is still one bound parameter.
  const many = Array.from({ length: 5_000 }, (_, i) => ["novita", `many-${i}`]).concat([["novita", "of-2"]]);
  assert.deepEqual(JSON.parse(await store.deadlinesOf(JSON.stringify(many))).map((d) => d.instanceId), ["of-2"]);
  for (const id of ["of-1", "of-2"]) await store.clearDeadline("novita", id);
  await store.clearDeadline("sfcompute", "of-1");
});

test("ten runs claiming at once: exactly one gets each deadline", async () => {
  for (let i = 0; i < 20; i++) await store.putDeadline(JSON.stringify(deadline(`c${i}`, { atMs: 100, nextAttemptMs: 100 })));
  const runs = await Promise.all(Array.from({ length: 10 }, (_, n) => store.claimDue(200, `run-${n}`, 60_000, 5)));
  const got = runs.flatMap((r) => JSON.parse(r).map((d) => d.instanceId)).filter((id) => id.startsWith("c"));
  assert.equal(got.length, 20, "every due deadline claimed");
  assert.equal(new Set(got).size, 20, "none twice");
});

test("audit: 1,000 concurrent appends, newest first, cursor paging and filters", async () => {
  const entry = (n) => ({
    atMs: n,
    caller: n % 3 === 0 ? "alice" : "bob",
    action: n % 5 === 0 ? "create" : "stop",
    provider: n % 2 ? "novita" : "fal",
    instanceId: `i${n % 10}`,
    requestId: `r${n}`,
    outcome: n % 7 === 0 ? { kind: "error", code: "rateLimited", status: 429 } : n % 11 === 0 ? { kind: "unknown" } : { kind: "ok" },
    ...(n === 5 ? { detail: "five", instanceName: "five" } : {}),
  });
  const seqs = await Promise.all(Array.from({ length: 1000 }, (_, n) => store.appendAudit(JSON.stringify(entry(n)))));
  assert.equal(new Set(seqs).size, 1000, "every append got its own seq");
  const { results } = await db.prepare("SELECT COUNT(*) AS n FROM audit").all();
  assert.equal(results[0].n, 1000);

  let cursor;
  const seen = [];
  for (;;) {
    const page = JSON.parse(await store.audit(JSON.stringify({ limit: 300, beforeSeq: cursor ?? null })));
    seen.push(...page.entries.map((e) => e.seq));
    if (!page.nextCursor) break;
    cursor = Number(page.nextCursor);
  }
  assert.equal(seen.length, 1000);
  assert.deepEqual(seen, [...seen].sort((a, b) => b - a), "newest first");

  const alice = JSON.parse(await store.audit(JSON.stringify({ caller: "alice", provider: "novita", instanceId: "i3", limit: 500 })));
  for (const e of alice.entries) assert.deepEqual([e.caller, e.provider, e.instanceId], ["alice", "novita", "i3"]);
  assert.ok(alice.entries.length > 0);
  const byReq = new Map();
  for (const e of JSON.parse(await store.audit(JSON.stringify({ limit: 500, instanceId: "i5" }))).entries) byReq.set(e.requestId, e);
  assert.deepEqual(byReq.get("r5"), { seq: byReq.get("r5").seq, atMs: 5, caller: "bob", action: "create", provider: "novita", requestId: "r5", outcome: { kind: "ok" }, instanceId: "i5", instanceName: "five", detail: "five" });
  const creates = JSON.parse(await store.audit(JSON.stringify({ action: "create", limit: 500 }))).entries;
  assert.equal(creates.length, 200, "the action filter");
  assert.ok(creates.every((e) => e.action === "create"));
  const e7 = JSON.parse(await store.audit(JSON.stringify({ limit: 500, instanceId: "i7" }))).entries.find((e) => e.requestId === "r7");
  assert.deepEqual(e7.outcome, { kind: "error", code: "rateLimited", status: 429 });
});
