// Fault injection: 429 + Retry-After, 5xx, drop, truncate, slow, drop-after-commit, determinism.
import { test, before, after, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { testSim } from "./helpers.mjs";
import { AUTH_HEADERS, BASE_PATHS } from "./defaults.mjs";

const FAL_BODY = { instance_type: "gpu_1x_h100_sxm5", ssh_key: "ssh-ed25519 AAAA x@y" };

/** A raw GET that reports exactly what arrived before the socket closed. */
function rawGet(url, headers) {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      const done = (how) => resolve({ how, status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
      res.on("end", () => done("end"));
      res.on("aborted", () => done("aborted"));
      res.on("error", () => done("error"));
    });
    req.on("error", (e) => resolve({ how: "request-error", error: e }));
  });
}

describe("faults", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 50 });
  });
  after(() => t.close());
  beforeEach(async () => {
    await t.control("DELETE", "/faults");
    await t.control("DELETE", "/requests");
  });

  test("rule validation", async () => {
    assert.equal((await t.control("POST", "/faults", { kinds: ["teapot"] })).status, 400);
    assert.equal((await t.control("POST", "/faults", { kinds: ["500"], rate: 2 })).status, 400);
    assert.equal((await t.control("POST", "/faults", { kinds: ["500"], provider: "aws" })).status, 400);
    assert.equal((await t.control("POST", "/faults", { kinds: [] })).status, 400);
    const ok = await t.control("POST", "/faults", { kinds: ["500"], rate: 0.5, provider: "falAlpha" });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.rules[0].provider, "fal-alpha");
    assert.equal((await t.control("GET", "/faults")).json.rules.length, 1);
  });

  test("429 carries Retry-After and each provider's 429 body", async () => {
    await t.control("POST", "/faults", { rate: 1, kinds: ["429"], retryAfterSeconds: 7 });
    const cases = [
      ["fal", "/compute/instances", (j) => assert.equal(j.error.type, "rate_limited")],
      ["fal-alpha", "/compute/instances", (j) => assert.equal(typeof j.detail, "string")],
      ["sfcompute", "/instances", (j) => assert.equal(j.error.type, "rate_limited")],
      ["novita", "/gpu/instances", (j) => assert.deepEqual([j.code, j.reason], [429, "RATE_LIMIT_EXCEEDED"])],
    ];
    for (const [p, path, check] of cases) {
      const r = await t.call(p, "GET", path, { query: { workspace: "wksp_simfleet01", pageSize: 1, pageNum: 1 } });
      assert.equal(r.status, 429, p);
      assert.equal(r.headers.get("retry-after"), "7");
      assert.ok(r.headers.get("x-request-id"));
      check(r.json);
    }
    const log = (await t.control("GET", "/requests")).json;
    assert.deepEqual(log.map((e) => [e.status, e.fault]), Array(4).fill([429, "429"]));
  });

  test("500 and 503 use the provider's error body; 502 is a gateway HTML page", async () => {
    await t.control("POST", "/faults", { provider: "sfcompute", rate: 1, kinds: ["500"] });
    const a = await t.call("sfcompute", "GET", "/instances", { query: { workspace: "wksp_simfleet01" } });
    assert.equal(a.status, 500);
    assert.equal(a.json.error.type, "api_error");
    await t.control("DELETE", "/faults");
    await t.control("POST", "/faults", { provider: "sfcompute", rate: 1, kinds: ["503"] });
    const b = await t.call("sfcompute", "GET", "/instances", { query: { workspace: "wksp_simfleet01" } });
    assert.equal(b.status, 503);
    assert.equal(b.json.error.type, "service_unavailable");
    assert.equal(b.headers.get("retry-after"), null);
    await t.control("DELETE", "/faults");
    await t.control("POST", "/faults", { provider: "fal", rate: 1, kinds: ["503"], retryAfterSeconds: 3 });
    const c = await t.call("fal", "GET", "/compute/instances");
    assert.equal(c.status, 503);
    assert.equal(c.json.error.type, "server_error");
    assert.equal(c.headers.get("retry-after"), "3");
    await t.control("DELETE", "/faults");
    await t.control("POST", "/faults", { provider: "novita", rate: 1, kinds: ["502"] });
    const d = await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 1, pageNum: 1 } });
    assert.equal(d.status, 502);
    assert.match(d.headers.get("content-type"), /text\/html/);
    assert.match(d.text, /502 Bad Gateway/);
  });

  test("error faults on mutations apply nothing", async () => {
    const n0 = (await t.state("fal")).length;
    await t.control("POST", "/faults", { provider: "fal", rate: 1, kinds: ["429", "500", "502", "503", "drop", "truncate"] });
    for (let i = 0; i < 12; i++) {
      try {
        const r = await t.call("fal", "POST", "/compute/instances", { body: FAL_BODY });
        assert.ok(r.status >= 429, String(r.status));
      } catch {
        // drop / truncate
      }
    }
    await t.control("DELETE", "/faults");
    assert.equal((await t.state("fal")).length, n0);
  });

  test("drop destroys the connection without a response", async () => {
    await t.control("POST", "/faults", { provider: "fal", kinds: ["drop"] });
    await assert.rejects(t.call("fal", "GET", "/compute/instances"));
    const raw = await rawGet(t.url + BASE_PATHS.fal + "/compute/instances", { authorization: AUTH_HEADERS.fal });
    assert.equal(raw.how, "request-error");
    const log = (await t.control("GET", "/requests")).json;
    assert.deepEqual(log.map((e) => [e.status, e.fault]), [[null, "drop"], [null, "drop"]]);
  });

  test("truncate sends the status line and full Content-Length, then half the body", async () => {
    await t.control("POST", "/faults", { provider: "fal", kinds: ["truncate"] });
    const raw = await rawGet(t.url + BASE_PATHS.fal + "/compute/instances?limit=20", { authorization: AUTH_HEADERS.fal });
    assert.equal(raw.status, 200);
    const full = Number(raw.headers["content-length"]);
    assert.ok(full > 100);
    assert.equal(raw.body.length, Math.floor(full / 2));
    assert.notEqual(raw.how, "end");
    assert.throws(() => JSON.parse(raw.body.toString()));
    // with fetch: headers arrive, reading the body fails
    const res = await fetch(t.url + BASE_PATHS.fal + "/compute/instances", { headers: { authorization: AUTH_HEADERS.fal } });
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  test("truncate on a mutation does not apply it (503 body cut)", async () => {
    const n0 = (await t.state("sfcompute")).length;
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["truncate"], methods: ["POST"] });
    const res = await fetch(t.url + BASE_PATHS.sfcompute + "/instances", {
      method: "POST",
      headers: { authorization: AUTH_HEADERS.sfcompute, "content-type": "application/json" },
      body: JSON.stringify({ capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127" }),
    });
    assert.equal(res.status, 503);
    await assert.rejects(res.text());
    assert.equal((await t.state("sfcompute")).length, n0);
  });

  test("slow delays the reply by slowMs; a client that gives up leaves nothing applied", async () => {
    await t.control("POST", "/faults", { provider: "novita", kinds: ["slow"], slowMs: 300 });
    const t0 = performance.now();
    const r = await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 1, pageNum: 1 } });
    assert.equal(r.status, 200);
    assert.ok(performance.now() - t0 >= 280);

    const n0 = (await t.state("novita")).length;
    await assert.rejects(
      fetch(t.url + BASE_PATHS.novita + "/gpu/instance/create", {
        method: "POST",
        headers: { authorization: AUTH_HEADERS.novita, "content-type": "application/json" },
        body: JSON.stringify({ productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, imageUrl: "ubuntu", kind: "gpu" }),
        signal: AbortSignal.timeout(50),
      }),
    );
    await new Promise((r2) => setTimeout(r2, 400));
    assert.equal((await t.state("novita")).length, n0);
    const log = (await t.control("GET", "/requests")).json;
    assert.equal(log.at(-1).note, "client-closed");
  });

  test("latency per provider delays replies", async () => {
    await t.control("POST", "/latency", { provider: "fal-alpha", ms: 250 });
    const t0 = performance.now();
    await t.call("fal-alpha", "GET", "/compute/instances");
    assert.ok(performance.now() - t0 >= 230);
    assert.deepEqual((await t.control("GET", "/latency")).json.latency, { "fal-alpha": 250 });
    await t.control("DELETE", "/latency");
  });

  test("drop-after-commit applies the create then drops; an Idempotency-Key retry returns the same instance", async () => {
    const n0 = (await t.state("fal")).length;
    await t.control("POST", "/faults", { provider: "fal", kinds: ["drop-after-commit"], methods: ["POST"] });
    const headers = { "idempotency-key": "retry-after-drop-1" };
    await assert.rejects(t.call("fal", "POST", "/compute/instances", { body: FAL_BODY, headers }));
    const afterDrop = await t.state("fal");
    assert.equal(afterDrop.length, n0 + 1, "the mutation was committed");
    await t.control("DELETE", "/faults");
    const retry = await t.call("fal", "POST", "/compute/instances", { body: FAL_BODY, headers });
    assert.equal(retry.status, 201);
    assert.equal(retry.json.id, afterDrop.at(-1).id);
    assert.equal((await t.state("fal")).length, n0 + 1, "no double create");
    const log = (await t.control("GET", "/requests")).json.filter((e) => e.method === "POST");
    assert.deepEqual(log.map((e) => [e.fault ?? null, e.status, e.note ?? null]), [["drop-after-commit", null, null], [null, 201, "idempotent-replay"]]);
  });

  test("times limits how often a rule fires; after and times combine", async () => {
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["503"], after: 1, times: 2 });
    const [one] = await t.state("sfcompute");
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.call("sfcompute", "GET", `/instances/${one.id}`)).status);
    assert.deepEqual(statuses, [200, 503, 503, 200, 200]);
    assert.equal((await t.control("GET", "/faults")).json.rules[0].fired, 2);
    assert.equal((await t.control("POST", "/faults", { kinds: ["500"], times: 0 })).status, 400);
  });

  test("after, paths and methods select which requests are faulted", async () => {
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["500"], after: 2, paths: "/ssh" });
    const [one] = (await t.state("sfcompute")).filter((i) => i.status === "running");
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await t.call("sfcompute", "GET", `/instances/${one.id}/ssh`)).status);
    assert.deepEqual(statuses, [200, 200, 500, 500]);
    assert.equal((await t.call("sfcompute", "GET", `/instances/${one.id}`)).status, 200);
    await t.control("DELETE", "/faults");
    assert.equal((await t.call("sfcompute", "GET", `/instances/${one.id}/ssh`)).status, 200);
  });

  test("fault decisions are deterministic per seed", async () => {
    const run = async (seed) => {
      await t.control("DELETE", "/faults");
      await t.control("POST", "/faults", { provider: "fal", rate: 0.4, kinds: ["500", "503"], seed });
      const out = [];
      for (let i = 0; i < 40; i++) out.push((await t.call("fal", "GET", "/compute/instances", { query: { limit: 1 } })).status);
      return out;
    };
    const a = await run(42);
    const b = await run(42);
    const c = await run(43);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const faulted = a.filter((s) => s !== 200).length;
    assert.ok(faulted > 5 && faulted < 30, `~40% faulted, got ${faulted}`);
    assert.ok(a.includes(500) && a.includes(503));
  });
});
