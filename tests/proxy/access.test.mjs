// Cloudflare Access identities as callers, in real workerd (Miniflare) on real D1: a team's
// signing keys served on loopback as Access serves them (`/cdn-cgi/access/certs`: JWKs, and PEM
// certificates), assertions signed here with node:crypto as Access signs them (RS256, `kid`), and
// the proxy's answers: who the caller is (access log, audit log), what they may do, every way an
// assertion can fail (a coded 401, quoting nothing), key rotation, the keys' endpoint failing
// (502, not a crash), a half-done configuration, and /healthz.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, X509Certificate } from "node:crypto";
import { startHarness } from "./harness.mjs";
import { AUD, b64url, certificate, jwk, rsa, startAccessTeam } from "./access-team.mjs";
import { startProxy } from "../../scripts/proxy-runtime.mjs";

const WRITER = "ops@example.com";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The keys are read at most once a second per isolate: a test that needs a read waits this long. */
const REREAD_GAP = 1_100;

const K2 = rsa(); // the key the team rotates to
const K3 = rsa(); // served only as a PEM certificate (public_certs)
const STRANGER = rsa(); // nobody's

let certs; // the team (its certs endpoint: doc, status, reads)
let h;
const assertion = (...args) => certs.assertion(...args);
const asCaller = (token, init = {}) => ({ ...init, headers: { ...(init.headers ?? {}), "cf-access-jwt-assertion": token } });
const put = (token, body) => asCaller(token, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

before(async () => {
  certs = await startAccessTeam();
  h = await startHarness({ env: { CF_ACCESS_TEAM_DOMAIN: certs.url, CF_ACCESS_AUD: `other-app, ${AUD}`, CF_ACCESS_WRITERS: `${WRITER.toUpperCase()}, service:deploy.access` } });
});
after(async () => {
  await h?.close();
  await certs?.close();
});

const novita = async () => (await (await fetch(`${h.sim.url}/__sim/state?provider=novita`)).json()).instances.find((i) => i.status === "running");
const deadlinePath = (id) => `/api/v1/novita/instances/${encodeURIComponent(id)}/deadline`;

test("/healthz says Access is configured and how many writers, and nothing of its configuration", async () => {
  const r = await h.fetch("/healthz");
  assert.equal(r.status, 200);
  assert.equal(r.json.api, "ready");
  assert.equal(r.json.cloudflareAccess, true);
  assert.equal(r.json.accessWriters, 2);
  assert.doesNotMatch(r.text, new RegExp(`${AUD}|127\\.0\\.0\\.1|example\\.com|deploy`));
});

test("an Access user reads as themself: read-only, named on the access log, one read of the keys", async () => {
  const reads = certs.reads;
  const r = await h.fetch("/api/v1/providers", asCaller(assertion()));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.access, "readOnly");
  const listed = await h.fetch("/api/v1/instances?provider=novita", asCaller(assertion()));
  assert.equal(listed.status, 200, listed.text);
  assert.ok(certs.reads - reads <= 1, "the keys are read once and kept");
  const id = r.headers.get("x-request-id");
  const line = h.logs.find((l) => l.includes(id));
  assert.ok(line, `an access-log line for ${id}`);
  assert.equal(JSON.parse(line).caller, "alice@example.com");
});

test("read-only unless a writer: the reader's deadline is refused, the writer's is set and audited under their email", async () => {
  const target = await novita();
  const refused = await h.fetch(deadlinePath(target.id), put(assertion(), { after: 3_600_000 }));
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.error.code, "forbidden");
  assert.match(refused.json.error.message, /CF_ACCESS_WRITERS/);

  const writer = assertion({ email: "Ops@Example.com" });
  const set = await h.fetch(deadlinePath(target.id), put(writer, { after: 3_600_000 }));
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json.deadline.setBy, WRITER);
  const audit = await h.fetch(`/api/v1/audit?instance=${encodeURIComponent(target.id)}`, asCaller(assertion()));
  assert.equal(audit.status, 200, audit.text);
  assert.deepEqual(audit.json.entries.map((e) => [e.action, e.caller]), [["deadline.set", WRITER]]);
  const line = h.logs.find((l) => l.includes(set.headers.get("x-request-id")));
  assert.equal(JSON.parse(line).caller, WRITER);

  // A service token is `service:<common_name>`, a writer here because CF_ACCESS_WRITERS lists it.
  const service = assertion({ email: undefined, common_name: "deploy.access", sub: "" });
  const cleared = await h.fetch(deadlinePath(target.id), asCaller(service, { method: "DELETE" }));
  assert.equal(cleared.status, 200, cleared.text);
  const again = await h.fetch(`/api/v1/audit?caller=${encodeURIComponent("service:deploy.access")}`, asCaller(service));
  assert.deepEqual(again.json.entries.map((e) => [e.action, e.caller]), [["deadline.cleared", "service:deploy.access"]]);
});

test("a bearer token decides when one is sent: the assertion is then not even checked", async () => {
  const reads = certs.reads;
  const forged = assertion({}, { key: STRANGER.privateKey });
  const r = await h.fetch("/api/v1/providers", asCaller(forged, { headers: h.auth() }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.access, "readWrite");
  assert.equal(JSON.parse(h.logs.find((l) => l.includes(r.headers.get("x-request-id")))).caller, "token");
  const wrong = await h.fetch("/api/v1/providers", asCaller(assertion(), { headers: h.auth("not-the-token-0123456789") }));
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.message, "the bearer token is not valid");
  assert.equal(certs.reads, reads);
  const none = await h.fetch("/api/v1/providers");
  assert.equal(none.status, 401);
  assert.match(none.json.error.message, /Cf-Access-Jwt-Assertion/);
});

test("every assertion that does not hold: a 401 `unauthorized` naming the rule, quoting nothing, reading no keys", async () => {
  const now = Math.floor(Date.now() / 1000);
  const hs256Header = b64url({ alg: "HS256", kid: "k1", typ: "JWT" });
  const hs256Body = b64url({ aud: AUD, email: "alice@example.com", exp: now + 600, iss: certs.url });
  const hs256Key = certs.k1.publicKey.export({ type: "spki", format: "pem" });
  const hs256 = `${hs256Header}.${hs256Body}.${createHmac("sha256", hs256Key).update(`${hs256Header}.${hs256Body}`).digest("base64url")}`;
  const valid = assertion();
  const [vh, vp, vs] = valid.split(".");
  const cases = [
    ["wrong aud", assertion({ aud: ["someone-elses-app"] }), /aud/],
    ["no aud", assertion({ aud: undefined }), /aud/],
    ["expired", assertion({ exp: now - 3600 }), /expired/],
    ["no exp", assertion({ exp: undefined }), /no expiry/],
    ["not yet valid", assertion({ nbf: now + 3600 }), /not valid yet/],
    ["issued in the future", assertion({ iat: now + 3600 }), /in the future/],
    ["wrong iss", assertion({ iss: "https://evil.cloudflareaccess.com" }), /iss/],
    ["bad signature", assertion({}, { key: STRANGER.privateKey }), /signature/],
    ["tampered payload", `${vh}.${b64url({ ...JSON.parse(Buffer.from(vp, "base64url")), email: WRITER })}.${vs}`, /signature/],
    ["alg none", `${b64url({ alg: "none", kid: "k1" })}.${vp}.`, /well-formed/],
    ["alg none, any signature", `${b64url({ alg: "none", kid: "k1" })}.${vp}.AAAA`, /RS256/],
    ["HS256 keyed with the public key", hs256, /RS256/],
    ["no kid", assertion({}, { header: { kid: undefined } }).replace(/^[^.]+/, b64url({ alg: "RS256" })), /well-formed/],
    ["two parts", `${vh}.${vp}`, /well-formed/],
    ["not base64url", `${vh}.${vp}.${vs}!`, /well-formed/],
    ["header not JSON", `${b64url("nope")}.${vp}.${vs}`, /well-formed/],
    ["far too long", `${vh}.${"A".repeat(20_000)}.${vs}`, /well-formed/],
    ["names no one", assertion({ email: undefined }), /names no one/],
    ["an email that is none", assertion({ email: "two words@example.com" }), /not an email/],
  ];
  const reads = certs.reads;
  for (const [what, token, why] of cases) {
    const r = await h.fetch("/api/v1/providers", asCaller(token));
    assert.equal(r.status, 401, `${what}: ${r.text}`);
    assert.equal(r.json.error.code, "unauthorized", what);
    assert.match(r.json.error.message, why, what);
    assert.ok(r.json.error.message.startsWith("the Cloudflare Access assertion (Cf-Access-Jwt-Assertion) "), what);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="gpufleet"', what);
    for (const part of token.split(".").filter((p) => p.length > 8)) assert.ok(!r.text.includes(part), `${what}: nothing of the assertion comes back`);
    assert.doesNotMatch(r.text, /evil|someone-elses|two words/, what);
    const line = JSON.parse(h.logs.find((l) => l.includes(r.headers.get("x-request-id"))));
    assert.equal(line.caller, undefined, `${what}: no caller on the log line`);
  }
  assert.equal(certs.reads, reads, "none of them needed the keys read again");
});

test("an unknown kid reads the keys again (once) before it is refused; a rotated-in key then works", async () => {
  await sleep(REREAD_GAP);
  let reads = certs.reads;
  const unknown = await h.fetch("/api/v1/providers", asCaller(assertion({}, { kid: "k9", key: STRANGER.privateKey })));
  assert.equal(unknown.status, 401, unknown.text);
  assert.match(unknown.json.error.message, /a key the Access team does not list/);
  assert.equal(certs.reads, reads + 1, "one read, to be sure");

  // Access rotates: the new key is listed beside the old one and signs the new assertions.
  certs.doc = { ...certs.doc, keys: [jwk("k2", K2), jwk("k1", certs.k1)] };
  await sleep(REREAD_GAP);
  reads = certs.reads;
  const rotated = await h.fetch("/api/v1/providers", asCaller(assertion({}, { kid: "k2", key: K2.privateKey })));
  assert.equal(rotated.status, 200, rotated.text);
  const old = await h.fetch("/api/v1/providers", asCaller(assertion()));
  assert.equal(old.status, 200, "the rotated-out key still verifies while listed");
  assert.equal(certs.reads, reads + 1);

  // A key listed only as a PEM certificate (public_certs) counts too.
  certs.doc = { ...certs.doc, public_certs: [...certs.doc.public_certs, { kid: "k3", cert: certificate(K3) }] };
  assert.ok(new X509Certificate(certs.doc.public_certs.at(-1).cert).publicKey, "the test's certificate is one");
  await sleep(REREAD_GAP);
  const fromCert = await h.fetch("/api/v1/providers", asCaller(assertion({}, { kid: "k3", key: K3.privateKey })));
  assert.equal(fromCert.status, 200, fromCert.text);
});

test("the keys' endpoint failing: a coded 502 saying so (keys already read still serve), then down altogether", async () => {
  certs.status = 500;
  await sleep(REREAD_GAP);
  const r = await h.fetch("/api/v1/providers", asCaller(assertion({}, { kid: "k4", key: STRANGER.privateKey })));
  assert.equal(r.status, 502, r.text);
  assert.equal(r.json.error.code, "server");
  assert.equal(r.json.error.retryable, true);
  assert.match(r.json.error.message, /^could not read the Cloudflare Access signing keys \(.*\/cdn-cgi\/access\/certs\): HTTP 500; try again$/);
  const cached = await h.fetch("/api/v1/providers", asCaller(assertion()));
  assert.equal(cached.status, 200, "a key read before still verifies");

  await certs.close();
  await sleep(REREAD_GAP);
  const down = await h.fetch("/api/v1/providers", asCaller(assertion({}, { kid: "k5", key: STRANGER.privateKey })));
  assert.equal(down.status, 502, down.text);
  assert.match(down.json.error.message, /could not read the Cloudflare Access signing keys .*: the request failed \(network\); try again/);
  const health = await h.fetch("/healthz");
  assert.equal(health.status, 200, "the proxy is still up");
});

test("one of the two variables alone: the API refuses, naming the missing one", async () => {
  for (const [set, missing] of [
    [{ CF_ACCESS_TEAM_DOMAIN: "https://acme.cloudflareaccess.com" }, "CF_ACCESS_AUD"],
    [{ CF_ACCESS_AUD: AUD }, "CF_ACCESS_TEAM_DOMAIN"],
  ]) {
    const proxy = await startProxy({ env: { GPUFLEET_TOKEN: h.token, ...set }, port: 0, d1: false, assets: false, onLog: () => {} });
    try {
      const r = await fetch(`${proxy.url}/api/v1/providers`, { headers: h.auth() });
      assert.equal(r.status, 503);
      const body = await r.json();
      assert.equal(body.error.code, "unauthorized");
      assert.ok(body.error.message.startsWith(`${missing} is not set`), body.error.message);
      const health = await (await fetch(`${proxy.url}/healthz`)).json();
      assert.equal(health.api, "refusing");
      assert.equal(health.cloudflareAccess, false);
    } finally {
      await proxy.dispose();
    }
  }
});

test("no assertion, signing key or API token in any recorded response or log line", () => {
  const all = h.everything();
  assert.ok(!all.includes(h.token));
  assert.ok(!all.includes(assertion().split(".")[0] + "." + assertion().split(".")[1]), "no assertion");
  assert.ok(!all.includes(certs.k1.publicKey.export({ format: "jwk" }).n), "no key material");
});
