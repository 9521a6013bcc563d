// The proxy in workerd when it must refuse: no token configured (the API never runs open), and
// per-caller rate limits (the in-isolate limiter and the Workers Rate Limiting binding).

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { assertBaseHeaders, SECRETS, startHarness } from "./harness.mjs";

const harnesses = [];
async function harness(options) {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}
after(async () => {
  for (const h of harnesses) await h.close();
});

async function noUpstream(h, fn) {
  await h.clearUpstream();
  const r = await fn();
  assert.deepEqual(await h.upstream(), [], "no upstream call");
  assertBaseHeaders(assert, r);
  return r;
}

test("no GPUFLEET_TOKEN: every /api route answers 503 and nothing goes upstream", async () => {
  const h = await harness({ env: { GPUFLEET_TOKEN: undefined, GPUFLEET_READONLY_TOKEN: undefined } });
  for (const [method, path] of [["GET", "/api/v1/instances"], ["GET", "/api/v1/fal/instances"], ["POST", "/api/v1/novita/instances/x/stop"], ["DELETE", "/api/v1/fal/instances/inst_1"]]) {
    for (const headers of [{}, { authorization: "Bearer " }, { authorization: "Bearer anything-at-all-0123456789" }]) {
      const r = await noUpstream(h, () => h.fetch(path, { method, headers }));
      assert.equal(r.status, 503, `${method} ${path}`);
      assert.equal(r.json.error.code, "unauthorized");
      assert.equal(r.json.error.message, "GPUFLEET_TOKEN is not set (nor GPUFLEET_CALLERS, nor Cloudflare Access); the API refuses to run open");
    }
  }
  const health = await h.fetch("/healthz");
  assert.equal(health.status, 200);
  assert.equal(health.json.api, "refusing");
  const page = await h.fetch("/");
  assert.equal(page.status, 200, "the console (no data in it) is still served");
});

test("a guessable GPUFLEET_TOKEN is refused the same way", async () => {
  const h = await harness({ env: { GPUFLEET_TOKEN: "short", GPUFLEET_READONLY_TOKEN: undefined } });
  const r = await noUpstream(h, () => h.fetch("/api/v1/providers", { headers: { authorization: "Bearer short" } }));
  assert.equal(r.status, 503);
  assert.match(r.json.error.message, /shorter than 16/);
});

test("in-isolate limiter: a caller over its burst gets 429 with Retry-After", async () => {
  const h = await harness({ env: { RATE_LIMIT_PER_MINUTE: "60", RATE_LIMIT_BURST: "3" } });
  for (let i = 0; i < 3; i++) assert.equal((await h.fetch("/api/v1/providers", { headers: h.auth() })).status, 200);
  const r = await noUpstream(h, () => h.fetch("/api/v1/fal/instances", { headers: h.auth() }));
  assert.equal(r.status, 429);
  assert.equal(r.json.error.code, "rateLimited");
  assert.equal(r.headers.get("retry-after"), "1");
  // Another caller (the read-only token) has its own bucket.
  assert.equal((await h.fetch("/api/v1/providers", { headers: h.auth(h.readOnlyToken) })).status, 200);
  // Unauthenticated guesses are limited per IP too (no brute force).
  const guess = (n) => h.fetch("/api/v1/providers", { headers: { authorization: `Bearer guess-${n}-0123456789abcdef`, "cf-connecting-ip": "198.51.100.7" } });
  for (let i = 0; i < 3; i++) assert.equal((await guess(i)).status, 401);
  assert.equal((await guess(9)).status, 429);
});

test("the Workers Rate Limiting binding, when configured, decides", async () => {
  const h = await harness({ rateLimit: { limit: 2, period: 60 } });
  assert.equal((await h.fetch("/api/v1/providers", { headers: h.auth() })).status, 200);
  assert.equal((await h.fetch("/api/v1/providers", { headers: h.auth() })).status, 200);
  const r = await noUpstream(h, () => h.fetch("/api/v1/instances", { headers: h.auth() }));
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("retry-after"), "60");
});

test("no provider key in any response or log line of this file", () => {
  const all = harnesses.map((h) => h.everything()).join("\n");
  for (const secret of SECRETS) assert.ok(!all.includes(secret), `found ${secret}`);
  for (const h of harnesses) for (const t of [h.token, h.readOnlyToken]) assert.ok(!all.includes(t));
});

test("the isolate keeps its config between requests: Novita's catalog is read once a minute, not on every listing", async () => {
  const h = await harness({ sim: { instances: 3 } });
  await h.clearUpstream();
  for (let i = 0; i < 3; i++) {
    const r = await h.fetch("/api/v1/instances", { headers: h.auth() });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.errors, []);
    assert.ok(r.json.instances.some((x) => x.provider === "novita" && x.price), "Novita rows priced from the catalog");
  }
  const calls = await h.upstream();
  const catalog = calls.filter((c) => c.provider === "novita" && c.path.endsWith("/products"));
  const lists = calls.filter((c) => c.provider === "novita" && c.path.endsWith("/gpu/instances"));
  assert.equal(lists.length >= 3, true, JSON.stringify(lists.map((c) => c.path)));
  assert.equal(catalog.length, 1, "one catalog read for three listings");
});
