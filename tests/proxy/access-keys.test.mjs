// pkg-template/access.js's key cache, in Node (its WebCrypto, fetch and timers are the Worker's):
// what workerd tests cannot reach quickly — the clock (Date.now) moved past the five-minute
// freshness and the hour of grace, several requests of one isolate needing the keys at once, and
// a flood of made-up kids. Each test is its own team (its own certs URL, so its own cache entry).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { checkAccess, verifyAccessAssertion } from "../../pkg-template/access.js";
import { AUD, certificate, jwk, rsa, startAccessTeam } from "./access-team.mjs";

const teams = [];
async function team() {
  const t = await startAccessTeam();
  teams.push(t);
  return t;
}
after(async () => {
  for (const t of teams) await t.close();
});

const realNow = Date.now;
/** Runs `fn` with the clock `offsetMs` ahead. */
async function later(offsetMs, fn) {
  Date.now = () => realNow() + offsetMs;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}
const verify = (t, token) => verifyAccessAssertion(token, t.url, AUD);

test("requests needing the keys at once share one read", async () => {
  const t = await team();
  const answers = await Promise.all(Array.from({ length: 8 }, () => verify(t, t.assertion())));
  assert.deepEqual(answers, Array(8).fill({ name: "alice@example.com" }));
  assert.equal(t.reads, 1);
  // A rotation met by several requests at once: one read again.
  const k2 = rsa();
  t.doc = { keys: [jwk("k2", k2), jwk("k1", t.k1)] };
  await new Promise((r) => setTimeout(r, 1_100));
  const rotated = await Promise.all(Array.from({ length: 8 }, () => verify(t, t.assertion({}, { kid: "k2", key: k2.privateKey }))));
  assert.deepEqual(rotated, Array(8).fill({ name: "alice@example.com" }));
  assert.equal(t.reads, 2);
});

test("made-up kids: at most one read a second, however many arrive", async () => {
  const t = await team();
  const stranger = rsa();
  assert.deepEqual(await verify(t, t.assertion()), { name: "alice@example.com" });
  await new Promise((r) => setTimeout(r, 1_100));
  for (let i = 0; i < 20; i++) {
    const r = await verify(t, t.assertion({}, { kid: `made-up-${i}`, key: stranger.privateKey }));
    assert.equal(r.status, 401);
    assert.match(r.message, /a key the Access team does not list/);
  }
  assert.equal(t.reads, 2, "the first read and one more");
});

test("keys are read again after five minutes; when that fails, keys up to an hour old still serve, then a 502", async () => {
  const t = await team();
  assert.deepEqual(await verify(t, t.assertion()), { name: "alice@example.com" });
  assert.equal(t.reads, 1);
  await later(4 * 60_000, async () => {
    assert.deepEqual(await verify(t, t.assertion()), { name: "alice@example.com" });
    assert.equal(t.reads, 1, "fresh for five minutes");
  });
  t.status = 503;
  const errors = [];
  const consoleError = console.error;
  console.error = (line) => errors.push(line);
  try {
    await later(6 * 60_000, async () => {
      assert.deepEqual(await verify(t, t.assertion()), { name: "alice@example.com" }, "the old keys still serve");
    });
    assert.equal(t.reads, 2);
    assert.match(errors.join("\n"), /"event":"access-keys".*HTTP 503; using the keys read \d+ s ago/);
    await later(61 * 60_000, async () => {
      const r = await verify(t, t.assertion());
      assert.equal(r.status, 502);
      assert.match(r.message, /^could not read the Cloudflare Access signing keys \(http:\/\/127\.0\.0\.1:\d+\/cdn-cgi\/access\/certs\): HTTP 503; try again$/);
    });
  } finally {
    console.error = consoleError;
  }
  t.status = 200;
  await later(62 * 60_000, async () => assert.deepEqual(await verify(t, t.assertion()), { name: "alice@example.com" }, "and recovers"));
});

test("what the keys' document may hold: JWKs of other kinds are skipped; no usable key is a 502 saying so", async () => {
  const t = await team();
  t.doc = { keys: [{ kid: "k1", kty: "EC", crv: "P-256" }, { ...jwk("k1", t.k1), alg: "RS512" }], public_cert: { kid: "x", cert: "not a certificate" } };
  const r = await verify(t, t.assertion());
  assert.equal(r.status, 502);
  assert.match(r.message, /the answer lists no RS256 signing key/);
  const u = await team();
  u.doc = { public_certs: [{ kid: "k1", cert: certificate(u.k1) }] };
  assert.deepEqual(await verify(u, u.assertion()), { name: "alice@example.com" }, "PEM certificates alone serve");
});

test("checkAccess checks only where it counts: /api, an assertion, no Authorization, Access configured", async () => {
  const t = await team();
  const env = { CF_ACCESS_TEAM_DOMAIN: `${t.url}/`, CF_ACCESS_AUD: AUD }; // a trailing slash is the same origin
  const request = (path, headers = {}, method = "GET") => new Request(`https://fleet.example.com${path}`, { method, headers });
  const asserted = { "cf-access-jwt-assertion": t.assertion() };
  assert.deepEqual(await checkAccess(request("/api/v1/providers", asserted), env), { name: "alice@example.com" });
  for (const [req, e] of [
    [request("/healthz", asserted), env],
    [request("/api/v1/providers"), env],
    [request("/api/v1/providers", { ...asserted, authorization: "Bearer x" }), env],
    [request("/api/v1/providers", asserted, "OPTIONS"), env],
    [request("/api/v1/providers", asserted), { CF_ACCESS_TEAM_DOMAIN: t.url }],
    [request("/api/v1/providers", asserted), { CF_ACCESS_AUD: AUD }],
    [request("/api/v1/providers", asserted), { CF_ACCESS_TEAM_DOMAIN: "not a url", CF_ACCESS_AUD: AUD }],
  ]) {
    assert.equal(await checkAccess(req, e), undefined);
  }
});
