// The edge proxy in real workerd (issue #13, point 5): an upstream redirect is never followed
// (a create with a registry password never reaches the redirect's target), a forged Host cannot
// make a foreign Origin the proxy's own, and a validation answer never quotes a caller's value —
// so a value equal to a configured secret is neither shown nor marked [redacted].

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { SECRETS, startHarness } from "./harness.mjs";
import { SIM_KEYS } from "../sim/defaults.mjs";

/** A loopback server answering with `handler`; records every request (and its body). */
async function loopback(handler) {
  const hits = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      hits.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      handler(req, res);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    hits,
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

let target; // where the redirects point: must never be reached
let redirector; // the "provider" base URL: answers `status` with a Location on `target`
let status = 307;
let h; // Novita and fal pointed at the redirector
let hOrigin; // GPUFLEET_ORIGIN configured

before(async () => {
  target = await loopback((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"code":0,"instances":[{"id":"from-the-other-host"}],"total":1}');
  });
  redirector = await loopback((req, res) => {
    res.writeHead(status, { location: `${target.origin}/collect?token=abc123&page=2`, "content-type": "application/json" });
    res.end('{"code":0,"instances":[{"id":"from-the-redirect-body"}],"total":1}');
  });
  h = await startHarness({ env: { NOVITA_BASE_URL: `${redirector.origin}/novita/v1`, FAL_BASE_URL: `${redirector.origin}/fal/v1` } });
  hOrigin = await startHarness({ env: { GPUFLEET_ORIGIN: "https://fleet.example.com" } });
});
after(async () => {
  await h?.close();
  await hOrigin?.close();
  await redirector?.close();
  await target?.close();
});

const NOVITA_CREATE = {
  name: "redirect-test", productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, kind: "gpu",
  imageUrl: "registry.example.com/private/image:1", imageAuth: "robot:registry-password-7f3a",
};

describe("upstream redirects", () => {
  for (const s of [301, 302, 307, 308]) {
    test(`${s}: a Novita create (registry password inside) never reaches the redirect's target`, async () => {
      status = s;
      redirector.hits.length = 0;
      const r = await h.fetch("/api/v1/novita/instances", {
        method: "POST",
        headers: { ...h.auth(), "content-type": "application/json" },
        body: JSON.stringify(NOVITA_CREATE),
      });
      assert.equal(r.status, 502, r.text);
      const e = r.json.error;
      assert.equal(e.code, "server");
      assert.equal(e.provider, "novita");
      assert.equal(e.status, s);
      assert.equal(e.retryable, false);
      assert.deepEqual(e.details.map((d) => [d.code, d.message]), [["redirect", target.origin], ["outcomeUnknown", "Novita may or may not have created the instance; not retried"]]);
      assert.ok(e.message.startsWith(`Novita answered HTTP ${s} with a redirect to ${target.origin}; gpufleet does not follow redirects`), e.message);
      assert.doesNotMatch(r.text, /collect|token=|abc123|page=2/, "no path or query of the Location");
      assert.doesNotMatch(r.text, /registry-password-7f3a|from-the-redirect-body|from-the-other-host/);
      assert.equal(redirector.hits.length, 1, "one request, to the configured base URL");
      assert.equal(redirector.hits[0].method, "POST");
      assert.match(redirector.hits[0].body, /registry-password-7f3a/);
      assert.equal(target.hits.length, 0, "nothing was sent to the redirect's target");
    });
  }

  test("a list answered with a redirect is not served as the provider's answer", async () => {
    status = 302;
    const r = await h.fetch("/api/v1/fal/instances", { headers: h.auth() });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error.code, "server");
    assert.equal(r.json.error.status, 302);
    assert.doesNotMatch(r.text, /from-the-/);
    // The fan-out reports it per provider and keeps the others.
    const all = await h.fetch("/api/v1/instances", { headers: h.auth() });
    assert.equal(all.status, 200, all.text);
    const byProvider = Object.fromEntries(all.json.errors.map((e) => [e.provider, e]));
    assert.equal(byProvider.fal.error.details[0].code, "redirect");
    assert.equal(byProvider.novita.error.details[0].message, target.origin);
    assert.ok(all.json.instances.some((i) => i.provider === "sfcompute"));
    assert.equal(target.hits.length, 0);
  });
});

describe("the proxy's own origin", () => {
  const own = () => new URL(h.url).origin;

  test("a forged Host cannot make a foreign Origin count as same-origin", async () => {
    const evil = `evil.example:${new URL(h.url).port}`;
    for (const headers of [
      { host: evil, origin: `http://${evil}` },
      { host: evil, "x-forwarded-host": evil, forwarded: `host=${evil}`, origin: `http://${evil}` },
      { host: "evil.example", origin: "http://evil.example" },
    ]) {
      const r = await h.raw("GET", "/api/v1/providers", { ...h.auth(), ...headers });
      assert.equal(r.status, 403, `${JSON.stringify(headers)}: ${r.text}`);
      assert.equal(r.json.error.code, "forbidden");
      for (const [k] of r.headers) assert.ok(!k.startsWith("access-control-"), k);
    }
    // The console's own origin still works, whatever Host says.
    const ok = await h.raw("GET", "/api/v1/providers", { ...h.auth(), host: "evil.example", origin: own() });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get("access-control-allow-origin"), null, "same origin: no CORS grant");
  });

  test("GPUFLEET_ORIGIN, when set, is the own origin (and the listening address is not)", async () => {
    const r = await hOrigin.fetch("/api/v1/providers", { headers: { ...hOrigin.auth(), origin: "https://fleet.example.com" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    const local = await hOrigin.fetch("/api/v1/providers", { headers: { ...hOrigin.auth(), origin: new URL(hOrigin.url).origin } });
    assert.equal(local.status, 403, local.text);
    const forged = await hOrigin.raw("GET", "/api/v1/providers", { ...hOrigin.auth(), host: "evil.example", origin: "http://evil.example" });
    assert.equal(forged.status, 403, forged.text);
  });
});

describe("validation answers never quote the caller", () => {
  /** `make(value)` with a secret and with a made-up value: identical answers, neither quoted, no [redacted]. */
  async function sameAnswer(secret, make) {
    const other = [...secret].reverse().join("").replaceAll("-", "_");
    const a = await make(secret);
    const b = await make(other);
    assert.equal(a.status, b.status, a.text);
    assert.equal(a.text, b.text, "the same answer whether or not the value is a secret");
    for (const r of [a, b]) {
      assert.ok(!r.text.includes(secret) && !r.text.includes(other), `not quoted: ${r.text}`);
      assert.doesNotMatch(r.text, /redacted/i);
    }
    return a.json.error;
  }
  const get = (path) => hOrigin.fetch(path, { headers: hOrigin.auth() });
  const post = (provider, body) =>
    hOrigin.fetch(`/api/v1/${provider}/instances`, { method: "POST", headers: { ...hOrigin.auth(), "content-type": "application/json" }, body: JSON.stringify(body) });

  test("a query parameter or filter value equal to a provider key", async () => {
    const e = await sameAnswer(SIM_KEYS.novita, (v) => get(`/api/v1/fal/instances?${v}=1`));
    assert.equal(e.code, "invalidInput");
    assert.equal(e.field, "query.…");
    const f = await sameAnswer(SIM_KEYS.sfcompute, (v) => get(`/api/v1/sfcompute/instances?capacity=${v}`));
    assert.match(f.message, /\(got "…"\)$/);
    await sameAnswer(SIM_KEYS.sfcWorkspace, (v) => get(`/api/v1/sfcompute/instances?tag=${v}`));
  });

  test("a create field or key equal to a provider key or the API token", async () => {
    const base = { name: "n", productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, imageUrl: "nginx:latest", kind: "gpu" };
    const e = await sameAnswer(SIM_KEYS.novita, (v) => post("novita", { ...base, minCudaVersion: v }));
    assert.equal(e.message, 'minCudaVersion: must be a version such as 12.4 (got "…")');
    const k = await sameAnswer(SIM_KEYS.fal, (v) => post("fal", { instanceType: "gpu_1x_h100_sxm5", sshKey: "k", [v]: 1 }));
    assert.equal(k.field, "input.…");
    await sameAnswer(hOrigin.token, (v) => post("novita", { ...base, gpuNum: v }));
    await sameAnswer(SIM_KEYS.sfcompute, (v) => post("sfcompute", { capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127", tags: { [v]: 5 } }));
  });
});

test("no provider key or API token in any recorded response or log line", () => {
  const all = [h.everything(), hOrigin.everything()].join("\n");
  for (const secret of SECRETS) assert.ok(!all.includes(secret), `found ${secret}`);
  for (const t of [h.token, h.readOnlyToken, hOrigin.token, hOrigin.readOnlyToken]) assert.ok(!all.includes(t), "a token echoed");
  assert.ok(!all.includes("registry-password-7f3a"));
});
