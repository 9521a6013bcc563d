// The proxy's records through its HTTP API, in real workerd on real D1 (Miniflare), against the
// simulated clouds: named callers (GPUFLEET_CALLERS) on every audit entry, deadlines set over the
// API and fired by the Worker's own Cron Trigger, read-only callers and bad input changing
// nothing, 1,000 concurrent mutations each in the log exactly once, the orphan report, and a
// proxy without a D1 database saying so instead of pretending.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { startHarness } from "./harness.mjs";

const sha256 = (s) => createHash("sha256").update(s).digest("hex");
const ALICE = randomBytes(24).toString("base64url");
const VIEWER = randomBytes(24).toString("base64url");
const CALLERS = { alice: { sha256: sha256(ALICE), access: "readWrite" }, viewer: { sha256: sha256(VIEWER), access: "readOnly" } };

let h;
before(async () => {
  h = await startHarness({ env: { GPUFLEET_CALLERS: JSON.stringify(CALLERS) } });
});
after(async () => {
  await h?.close();
});

const state = async (p) => (await (await fetch(`${h.sim.url}/__sim/state?provider=${p}`)).json()).instances;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const put = (token, body, contentType = "application/json") => ({
  method: "PUT",
  headers: { ...h.auth(token), "content-type": contentType },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const deadlinePath = (p, id) => `/api/v1/${p}/instances/${encodeURIComponent(id)}/deadline`;

/** Every row of both record tables, straight from D1: what "nothing changed" is measured on. */
async function tables() {
  const audit = (await h.proxy.db.prepare("SELECT * FROM audit ORDER BY seq").all()).results;
  const deadlines = (await h.proxy.db.prepare("SELECT * FROM deadlines ORDER BY provider, instance_id").all()).results;
  return { audit, deadlines };
}

async function auditOf(instanceId, token = ALICE) {
  const r = await h.fetch(`/api/v1/audit?instance=${encodeURIComponent(instanceId)}&limit=100`, { headers: h.auth(token) });
  assert.equal(r.status, 200, r.text);
  return r.json.entries;
}

test("/healthz: records in D1 and the named callers counted", async () => {
  const r = await h.fetch("/healthz");
  assert.equal(r.status, 200);
  assert.equal(r.json.records, "d1");
  assert.equal(r.json.namedCallers, 2);
});

test("a named caller sets a deadline over the API; the cron fires it once and the log says who did what", async () => {
  const target = (await state("novita")).find((i) => i.status === "running");
  assert.ok(target, "the sim has a running Novita instance");
  const set = await h.fetch(deadlinePath("novita", target.id), put(ALICE, { after: 1_500, action: "stop" }));
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.deadline.setBy, "alice");
  assert.equal(set.json.deadline.state, "pending");
  assert.equal(set.json.deadline.action, "stop");
  assert.equal(set.json.previous, undefined);
  const atMs = set.json.deadline.atMs;
  assert.ok(Math.abs(atMs - (Date.now() + 1_500)) < 5_000, `atMs ${atMs}`);

  // Changed by a second caller (the API token): the answer carries what it replaced.
  const changed = await h.fetch(deadlinePath("novita", target.id), put(h.token, { at: new Date(atMs).toISOString() }));
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.json.previous.setBy, "alice");
  assert.equal(changed.json.deadline.setBy, "token");
  assert.equal(changed.json.deadline.atMs, atMs, "an ISO time is read to the ms");

  const listed = await h.fetch("/api/v1/deadlines", { headers: h.auth(VIEWER) });
  assert.equal(listed.status, 200, "a read-only caller reads deadlines");
  assert.ok(listed.json.deadlines.some((d) => d.instanceId === target.id && d.state === "pending"));

  // Not due yet: a run now does nothing.
  await h.clearUpstream();
  await h.proxy.scheduled();
  assert.deepEqual((await h.upstream()).filter((c) => c.method !== "GET"), []);

  await sleep(Math.max(0, atMs - Date.now()) + 200);
  await Promise.all([h.proxy.scheduled(), h.proxy.scheduled()]);
  await h.proxy.scheduled();
  const stops = (await h.upstream()).filter((c) => c.method === "POST" && c.path.includes("/gpu/instance/stop"));
  assert.equal(stops.length, 1, "stopped exactly once over three runs");
  assert.notEqual((await state("novita")).find((i) => i.id === target.id).status, "running");

  const after = await h.fetch("/api/v1/deadlines", { headers: h.auth() });
  const d = after.json.deadlines.find((x) => x.instanceId === target.id);
  assert.equal(d.state, "done", JSON.stringify(d));
  assert.ok(d.firedAtMs >= atMs);

  const entries = await auditOf(target.id);
  assert.deepEqual(
    entries.map((e) => [e.action, e.caller, e.outcome.kind]),
    [
      ["deadline.fired", "deadline", "ok"],
      ["deadline.changed", "token", "ok"],
      ["deadline.set", "alice", "ok"],
    ],
    "newest first",
  );
  assert.ok(entries.every((e) => e.provider === "novita" && e.instanceId === target.id));
});

test("a read-only named caller is refused every mutation, and nothing is recorded or sent", async () => {
  const target = (await state("fal")).find((i) => i.status === "ready");
  const before = await tables();
  await h.clearUpstream();
  for (const [path, init] of [
    [deadlinePath("fal", target.id), put(VIEWER, { after: 60_000, action: "delete" })],
    [deadlinePath("fal", target.id), { method: "DELETE", headers: h.auth(VIEWER) }],
    [`/api/v1/fal/instances/${target.id}`, { method: "DELETE", headers: h.auth(VIEWER) }],
    [`/api/v1/novita/instances/x/stop`, { method: "POST", headers: h.auth(VIEWER) }],
  ]) {
    const r = await h.fetch(path, init);
    assert.equal(r.status, 403, `${init.method} ${path}: ${r.text}`);
    assert.equal(r.json.error.code, "forbidden");
  }
  assert.deepEqual(await tables(), before);
  assert.deepEqual(await h.upstream(), []);
});

test("bad deadline input: a 4xx naming the field and rule, and nothing changes", async () => {
  const fal = (await state("fal")).find((i) => i.status === "ready");
  const nov = (await state("novita")).find((i) => i.status === "running");
  const before = await tables();
  await h.clearUpstream();
  const cases = [
    [deadlinePath("novita", nov.id), put(ALICE, { at: Date.now() - 60_000 }), 400, "at", /in the future/],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 1_000, at: Date.now() + 60_000 }), 400, "at", /not both/],
    [deadlinePath("novita", nov.id), put(ALICE, {}), 400, "at", /required/],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 0 }), 400, "after", /more than 0/],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 1.5 }), 400, "after", /whole number/],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 400 * 86_400_000 }), 400, "after", /within a year/],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 60_000, action: "explode" }), 400, "action", /./],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 60_000, when: "soon" }), 400, undefined, /only at, after and action/],
    [deadlinePath("novita", nov.id), put(ALICE, { at: "next tuesday" }), 400, "at", /./],
    [deadlinePath("fal", fal.id), put(ALICE, { after: 60_000, action: "stop" }), 400, "action", /./],
    [deadlinePath("novita", nov.id), put(ALICE, "{not json"), 400, undefined, /./],
    [deadlinePath("novita", nov.id), put(ALICE, { after: 60_000 }, "text/plain"), 415, "Content-Type", /application\/json/],
    [deadlinePath("nebius", nov.id), put(ALICE, { after: 60_000 }), 400, "provider", /must be one of/],
    ["/api/v1/audit?limit=0", { headers: h.auth(ALICE) }, 400, "limit", /./],
    ["/api/v1/audit?provider=nebius", { headers: h.auth(ALICE) }, 400, "provider", /./],
    ["/api/v1/audit?colour=red", { headers: h.auth(ALICE) }, 400, undefined, /./],
    ["/api/v1/orphans?olderThanMs=soon", { headers: h.auth(ALICE) }, 400, "olderThanMs", /./],
  ];
  for (const [path, init, status, field, message] of cases) {
    const r = await h.fetch(path, init);
    const what = `${init.method ?? "GET"} ${path} ${init.body ?? ""}`;
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.ok(r.json?.error?.code, `${what}: a coded error`);
    if (field) assert.equal(r.json.error.field, field, `${what}: ${r.text}`);
    assert.match(r.json.error.message, message, what);
  }
  assert.deepEqual(await tables(), before, "no deadline or audit row written");
  assert.deepEqual(await h.upstream(), [], "nothing sent upstream");
});

test("clearing a deadline: the answer says what was cleared, the log who cleared it", async () => {
  const target = (await state("sfcompute")).find((i) => i.status === "running");
  const set = await h.fetch(deadlinePath("sfcompute", target.id), put(ALICE, { after: 3_600_000 }));
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.deadline.action, "terminate", "SF Compute's default action");
  const cleared = await h.fetch(deadlinePath("sfcompute", target.id), { method: "DELETE", headers: h.auth() });
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.json.cleared.instanceId, target.id);
  const again = await h.fetch(deadlinePath("sfcompute", target.id), { method: "DELETE", headers: h.auth() });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.cleared, undefined, "nothing left to clear");
  const entries = await auditOf(target.id);
  assert.deepEqual(entries.slice(0, 2).map((e) => [e.action, e.caller]), [["deadline.cleared", "token"], ["deadline.set", "alice"]]);
});

test("1,000 concurrent mutations by two callers: each one in the audit log exactly once, with its request id and outcome", async () => {
  const { audit: before } = await tables();
  const N = 1_000;
  const calls = Array.from({ length: N }, (_, i) => {
    const token = i % 2 ? ALICE : h.token;
    // Missing instances: the providers refuse, and a refusal is logged as well as a success.
    return i % 4 < 2
      ? fetch(`${h.url}/api/v1/novita/instances/missing-${i}/stop`, { method: "POST", headers: h.auth(token) })
      : fetch(`${h.url}/api/v1/fal/instances/missing-${i}`, { method: "DELETE", headers: h.auth(token) });
  });
  const answers = await Promise.all(calls);
  const requestIds = new Map();
  for (const [i, r] of answers.entries()) {
    await r.arrayBuffer();
    assert.equal(r.headers.get("x-gpufleet-audit"), null, `call ${i}: the append did not fail`);
    requestIds.set(r.headers.get("x-request-id"), { i, status: r.status });
  }
  assert.equal(requestIds.size, N, "a distinct request id each");

  const { audit } = await tables();
  const added = audit.slice(before.length);
  assert.equal(added.length, N, "one entry per call, none lost, none doubled");
  for (const row of added) {
    const call = requestIds.get(row.request_id);
    assert.ok(call, `entry for an unknown request ${row.request_id}`);
    assert.equal(row.caller, call.i % 2 ? "alice" : "token");
    assert.equal(row.instance_id, `missing-${call.i}`);
    assert.equal(row.action, call.i % 4 < 2 ? "stop" : "delete");
    if (call.status >= 400) assert.equal(row.outcome_kind, "error", JSON.stringify(row));
    else assert.equal(row.outcome_kind, "ok", JSON.stringify(row));
  }

  // The same entries through the API, paged by cursor, filtered by caller and action.
  const seen = [];
  let cursor;
  do {
    const r = await h.fetch(`/api/v1/audit?caller=alice&action=stop&limit=100${cursor ? `&before=${encodeURIComponent(cursor)}` : ""}`, { headers: h.auth(VIEWER) });
    assert.equal(r.status, 200, r.text);
    seen.push(...r.json.entries);
    cursor = r.json.nextCursor;
  } while (cursor);
  const expected = added.filter((row) => row.caller === "alice" && row.action === "stop").length;
  assert.equal(expected, N / 4);
  assert.equal(seen.length, expected);
  assert.ok(seen.every((e) => e.caller === "alice" && e.action === "stop"));
  assert.equal(new Set(seen.map((e) => e.seq)).size, seen.length, "no entry twice across pages");
});

test("orphans: old instances nobody created through the proxy and nobody gave a deadline", async () => {
  const created = await h.fetch("/api/v1/fal/instances", {
    method: "POST",
    headers: { ...h.auth(ALICE), "content-type": "application/json" },
    body: JSON.stringify({ instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 records@test" }),
  });
  assert.equal(created.status, 201, created.text);
  const withDeadline = (await state("novita")).find((i) => i.status === "running");
  assert.equal((await h.fetch(deadlinePath("novita", withDeadline.id), put(ALICE, { after: 3_600_000 }))).status, 200);

  const r = await h.fetch("/api/v1/orphans?olderThanMs=0", { headers: h.auth(VIEWER) });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.olderThanMs, 0);
  const ids = new Set(r.json.orphans.map((o) => `${o.provider}/${o.id}`));
  assert.ok(!ids.has(`fal/${created.json.id}`), "created through the proxy: in the log, not an orphan");
  assert.ok(!ids.has(`novita/${withDeadline.id}`), "has a deadline: not an orphan");
  const seeded = new Set((await state("fal")).filter((i) => i.id !== created.json.id).map((i) => `fal/${i.id}`));
  assert.ok([...ids].some((id) => seeded.has(id)), `the sim's own fal instances (made outside the proxy) are orphans: ${JSON.stringify(r.json.orphans)}`);
  // fal (both APIs) gives no creation time: those are reported with no age, after the aged.
  const ages = r.json.orphans.map((o) => o.ageMs ?? -1);
  assert.deepEqual(ages, [...ages].sort((a, b) => b - a), "oldest first, unknown ages last");
  assert.ok(r.json.orphans.filter((o) => o.provider.startsWith("fal")).every((o) => o.ageMs === undefined && o.createdAt === undefined));
  const unaged = r.json.orphans.filter((o) => !o.provider.startsWith("fal") && !(o.ageMs > 0 && o.createdAt));
  assert.deepEqual(unaged, [], "the other providers give creation times");

  const year = await h.fetch(`/api/v1/orphans?olderThanMs=${400 * 86_400_000}`, { headers: h.auth() });
  assert.equal(year.status, 200, year.text);
  assert.ok(year.json.orphans.every((o) => o.ageMs === undefined), "nothing aged is that old; the ageless stay");
});

test("orphans fail loudly when a provider's listing fails (a fleet not seen whole cannot be judged)", async () => {
  await h.simPost("/faults", { provider: "sfcompute", kinds: ["500"] });
  try {
    const r = await h.fetch("/api/v1/orphans", { headers: h.auth() });
    assert.ok(r.status >= 500, r.text);
    assert.match(r.json.error.message, /needs the whole fleet, but sfcompute failed/);
  } finally {
    await h.simDelete("/faults");
  }
});

test("a malformed GPUFLEET_CALLERS refuses the API and says where", async () => {
  const bad = await startHarness({ env: { GPUFLEET_CALLERS: JSON.stringify({ alice: { sha256: "abc", access: "readWrite" } }) }, sim: { instances: 1 } });
  try {
    const r = await bad.fetch("/api/v1/instances", { headers: bad.auth() });
    assert.equal(r.status, 503, r.text);
    assert.match(r.json.error.message, /GPUFLEET_CALLERS/);
    assert.match(r.json.error.message, /alice/);
    assert.deepEqual(await bad.upstream(), []);
    assert.equal((await bad.fetch("/healthz")).json.api, "refusing");
  } finally {
    await bad.close();
  }
});

test("without a D1 database: /healthz says records none, the records routes answer 503 naming D1, the rest works", async () => {
  const bare = await startHarness({ d1: false, sim: { instances: 2 } });
  try {
    assert.equal((await bare.fetch("/healthz")).json.records, "none");
    for (const [path, init] of [
      ["/api/v1/deadlines", {}],
      ["/api/v1/audit", {}],
      ["/api/v1/orphans", {}],
      ["/api/v1/novita/instances/x/deadline", { method: "PUT", headers: { "content-type": "application/json" }, body: '{"after":60000}' }],
      ["/api/v1/novita/instances/x/deadline", { method: "DELETE" }],
    ]) {
      const r = await bare.fetch(path, { ...init, headers: { ...init.headers, ...bare.auth() } });
      assert.equal(r.status, 503, `${path}: ${r.text}`);
      assert.equal(r.json.error.code, "unsupported");
      assert.match(r.json.error.message, /D1/);
    }
    const list = await bare.fetch("/api/v1/instances", { headers: bare.auth() });
    assert.equal(list.status, 200, list.text);
    await bare.proxy.scheduled(); // the cron without a database does nothing and does not throw
  } finally {
    await bare.close();
  }
});
