// The shared live view in real workerd: the FleetLive Durable Object (real alarms, real streams)
// against the simulated clouds, whose request log counts what the providers were asked.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, SECRETS } from "./harness.mjs";
import { openLive, walked } from "./live-client.mjs";

const INTERVAL_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const listCalls = (log, provider) => log.filter((e) => e.provider === provider && e.method === "GET" && /\/instances$|\/gpu\/instances$/.test(e.path));
const withoutCost = ({ cost, ...rest }) => rest;

let h;
const clients = [];
before(async () => {
  h = await startHarness({ env: { LIVE_INTERVAL_MS: String(INTERVAL_MS) } });
});
after(async () => {
  for (const c of clients) c.close();
  const all = h.everything() + clients.map((c) => JSON.stringify(c.events)).join("\n");
  for (const s of SECRETS) assert.ok(!all.includes(s), "no provider key in any answer, event or log line");
  await h?.close();
});

async function live(headers = h.auth()) {
  const c = await openLive(`${h.url}/api/v1/live`, headers);
  clients.push(c);
  return c;
}

test("the live view streams the fleet the listing gives, to any caller that may read, and to nobody else", async () => {
  const c = await live();
  assert.equal(c.status, 200);
  assert.match(c.headers.get("content-type"), /^text\/event-stream/);
  assert.equal(c.headers.get("x-gpufleet-live"), null, "the hand-over mark never leaves the Worker");
  assert.ok(c.headers.get("x-request-id"), "the proxy's own headers come with the stream");
  assert.match(c.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  const complete = await c.waitFor(walked, 15_000, "a complete walk");

  const listing = await h.fetch("/api/v1/instances", { headers: h.auth() });
  assert.equal(listing.status, 200);
  const byKey = new Map(listing.json.instances.map((i) => [`${i.provider}/${i.id}`, i]));
  assert.deepEqual([...c.fleet.keys()].sort(), [...byKey.keys()].sort(), "the same instances as GET /api/v1/instances");
  for (const [key, inst] of c.fleet) {
    assert.deepEqual(withoutCost(inst), withoutCost(byKey.get(key)), key);
    assert.equal(inst.cost?.since, byKey.get(key).cost?.since, `${key}: the cost counts from the same start`);
  }
  const cost = complete.data.cost;
  for (const field of ["burnRatePerHour", "pricedRunning", "unpricedRunning"]) {
    assert.deepEqual(cost[field], listing.json.cost[field], `the fleet's ${field} as the listing sums it`);
  }
  assert.deepEqual(
    cost.byProvider.map((p) => [p.provider, p.burnRatePerHour, p.pricedRunning, p.unpricedRunning]),
    listing.json.cost.byProvider.map((p) => [p.provider, p.burnRatePerHour, p.pricedRunning, p.unpricedRunning]),
  );
  const running = [...c.fleet.values()].filter((i) => i.status === "running" && i.price);
  assert.equal(cost.costSoFar.microUsd, running.reduce((n, i) => n + (i.cost ? i.cost.amount.microUsd : 0), 0), "cost so far: the sum of the rows' costs");
  assert.equal(cost.costSoFar.usd, cost.costSoFar.microUsd / 1e6);
  assert.ok(c.events.some((e) => e.event === "balances" && Array.isArray(e.data.balances)), "balances come with the stream");

  const reader = await live(h.auth(h.readOnlyToken));
  assert.equal(reader.status, 200, "the read-only token may watch");
  await reader.waitFor((e) => e.event === "snapshot");
  assert.equal(reader.fleet.size, c.fleet.size, "a later console gets the whole snapshot at once");

  for (const headers of [{}, { authorization: "Bearer not-the-token" }]) {
    const refused = await live(headers);
    assert.equal(refused.status, 401);
    assert.equal(JSON.parse(refused.text).error.code, "unauthorized");
  }
  const foreign = await live({ ...h.auth(), origin: "https://evil.example" });
  assert.equal(foreign.status, 403, "no cross-origin stream for an origin not allowed");
});

test("twenty consoles cost the providers what one does: one walk per interval", async () => {
  const many = await Promise.all(Array.from({ length: 20 }, () => live()));
  await Promise.all(many.map((c) => c.waitFor((e) => e.event === "snapshot")));
  await h.simDelete("/requests");
  const from = Date.now();
  await sleep(INTERVAL_MS * 3 + 300);
  const log = await h.upstream();
  const elapsed = Date.now() - from;
  const walks = Math.floor(elapsed / INTERVAL_MS) + 1;
  for (const p of ["fal", "fal-alpha", "sfcompute", "novita"]) {
    const n = listCalls(log, p).length;
    assert.ok(n >= 1 && n <= walks, `${p}: ${n} list calls in ${elapsed} ms (one walk per ${INTERVAL_MS} ms allows ${walks}; twenty polling consoles would make ${20 * walks})`);
  }
  // Every console saw the same changes.
  const diffs = (c) => c.events.filter((e) => e.event === "diff" && e.at >= from).map((e) => JSON.stringify(e.data));
  for (const c of many) assert.deepEqual(diffs(c), diffs(many[0]));

  for (const c of many) c.close();
});

test("twenty Refresh clicks at once share their walks: each sees the fleet as it was after it asked", async () => {
  const slow = await startHarness({ env: { LIVE_INTERVAL_MS: "60000" } });
  try {
    const c = await openLive(`${slow.url}/api/v1/live`, slow.auth());
    clients.push(c);
    const first = (await c.waitFor(walked, 15_000, "the first walk")).data.walkedAt;
    await slow.clearUpstream();
    const answers = await Promise.all(Array.from({ length: 20 }, () => slow.fetch("/api/v1/live/refresh", { headers: slow.auth() })));
    for (const a of answers) assert.equal(a.status, 200, a.text);
    // The first begins a walk; those arriving while it runs need one that began after them, and
    // share the next: two walks, not twenty.
    const walks = new Set(answers.map((a) => a.json.walkedAt));
    assert.ok(walks.size <= 2, `${walks.size} walks named`);
    assert.ok(Math.min(...walks) > first);
    for (const p of ["fal", "fal-alpha", "sfcompute", "novita"]) {
      const n = listCalls(await slow.upstream(), p).length;
      assert.ok(n >= 1 && n <= 2, `${p}: ${n} walks for twenty refreshes`);
    }
    const refreshed = await c.waitFor((e) => walked(e) && e.data.walkedAt === Math.max(...walks), 5_000, "the refreshed walk pushed");
    assert.ok(refreshed);
    const reader = await slow.fetch("/api/v1/live/refresh", { headers: slow.auth(slow.readOnlyToken) });
    assert.equal(reader.status, 200, "a reader may ask for a refresh: it changes nothing");
    assert.equal((await slow.fetch("/api/v1/live/refresh")).status, 401);
  } finally {
    await slow.close();
  }
});

test("a status change at the provider reaches an open console within one interval, without asking", async () => {
  const c = await live();
  await c.waitFor(walked, 15_000, "a complete walk");
  const running = [...c.fleet.values()].find((i) => i.provider === "novita" && i.status === "running");
  assert.ok(running, "the sim has a running Novita instance");
  const changedAt = Date.now();
  await h.simPost("/force-status", { provider: "novita", id: running.id, status: "exited" });
  const e = await c.waitFor(
    (e) => e.event === "diff" && e.at >= changedAt && e.data.upserts.some((i) => i.id === running.id && i.status !== "running"),
    INTERVAL_MS * 2 + 2000,
    "the pushed change",
  );
  assert.ok(e.at - changedAt <= INTERVAL_MS + 1500, `pushed ${e.at - changedAt} ms after the change (interval ${INTERVAL_MS} ms)`);
  assert.equal(c.fleet.get(`novita/${running.id}`).providerStatus, "exited");
});

test("a provider that fails keeps its rows, marked by an error, until it answers again", async () => {
  const c = await live();
  await c.waitFor(walked, 15_000, "a complete walk");
  const before = [...c.fleet.keys()].filter((k) => k.startsWith("sfcompute/"));
  assert.ok(before.length > 0);
  const failedAt = Date.now();
  await h.simPost("/faults", { provider: "sfcompute", kinds: [503], paths: ["/preview/v2/instances"], methods: ["GET"] });
  const failed = await c.waitFor((e) => walked(e) && e.at > failedAt && e.data.errors.some((f) => f.provider === "sfcompute"), 10_000, "the failure");
  assert.equal(failed.data.errors.find((f) => f.provider === "sfcompute").error.provider, "sfcompute");
  assert.deepEqual([...c.fleet.keys()].filter((k) => k.startsWith("sfcompute/")), before, "its rows stay (stale, not dropped)");
  await h.simDelete("/faults");
  const healedAt = Date.now();
  await c.waitFor((e) => walked(e) && e.at > healedAt && e.data.errors.length === 0, 10_000, "the recovery");
});

test("a fleet larger than one invocation's budget is walked across alarms, and says so while it fills", async () => {
  const big = await startHarness({
    sim: { instances: 250 },
    env: { LIVE_INTERVAL_MS: "60000", LIVE_PAGES_PER_RUN: "1" },
  });
  try {
    const c = await openLive(`${big.url}/api/v1/live`, big.auth());
    clients.push(c);
    await c.waitFor(walked, 30_000, "the first complete walk");
    const steps = c.events.filter((e) => e.event === "status");
    assert.ok(steps.length >= 3, `${steps.length} steps: Novita's 250 in pages of 100 need 3 invocations of one page each`);
    assert.ok(steps.slice(0, -1).every((e) => e.data.filling && e.data.walking), "every step before the last says the snapshot is filling");
    const counts = steps.slice(0, -1).map((e) => e.data.walking.instances);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), "and how far it got");
    const listing = await big.fetch("/api/v1/instances", { headers: big.auth() });
    assert.equal(c.fleet.size, listing.json.instances.length, "complete once filled");
    assert.equal(c.fleet.size, 1000);
  } finally {
    await big.close();
  }
});

test("without the Durable Object bound, the live view answers 503 and the consoles poll", async () => {
  const bare = await startHarness({ live: false });
  try {
    const c = await openLive(`${bare.url}/api/v1/live`, bare.auth());
    assert.equal(c.status, 503);
    const body = JSON.parse(c.text);
    assert.equal(body.error.code, "unsupported");
    assert.match(body.error.message, /FLEET_LIVE/);
    assert.equal(c.headers.get("x-gpufleet-live"), null);
  } finally {
    await bare.close();
  }
});
