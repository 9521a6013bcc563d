// The /__sim/ control API, CORS, the request log and the clock.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { testSim } from "./helpers.mjs";
import { SIM_KEYS, BASE_PATHS, SIM_DEFAULTS } from "./defaults.mjs";
import { Sim, LOG_LIMIT, normalizeConfig } from "./sim.mjs";

describe("control API", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 20, seed: 5 });
  });
  after(() => t.close());

  test("health, config, root index", async () => {
    assert.deepEqual((await t.control("GET", "/health")).json, { ok: true });
    const c = (await t.control("GET", "/config")).json;
    assert.equal(c.config.seed, 5);
    assert.equal(c.config.instances, 20);
    assert.equal(c.keys.fal, SIM_KEYS.fal);
    assert.deepEqual(c.basePaths, BASE_PATHS);
    assert.equal(c.nowIso, SIM_DEFAULTS.epoch.replace("Z", ".000Z"));
    const root = await fetch(t.url + "/");
    assert.equal(root.status, 200);
    assert.deepEqual((await root.json()).basePaths, BASE_PATHS);
  });

  test("unknown paths → 404 JSON (sim and control)", async () => {
    const r = await fetch(t.url + "/aws/ec2");
    assert.equal(r.status, 404);
    assert.match(r.headers.get("content-type"), /application\/json/);
    assert.equal((await r.json()).error.type, "not_found");
    assert.equal((await t.control("GET", "/nope")).status, 404);
    assert.equal((await t.control("POST", "/reset", "not an object")).status, 400);
  });

  test("CORS on every response; OPTIONS preflight → 204", async () => {
    for (const url of [t.url + BASE_PATHS.fal + "/compute/instances", t.url + "/__sim/health", t.url + "/nope"]) {
      const r = await fetch(url);
      assert.equal(r.headers.get("access-control-allow-origin"), "*");
      assert.match(r.headers.get("access-control-expose-headers"), /Retry-After/);
      assert.match(r.headers.get("access-control-expose-headers"), /x-request-id/);
    }
    const pre = await fetch(t.url + BASE_PATHS.novita + "/gpu/instance/create", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    for (const m of ["GET", "POST", "DELETE", "PATCH", "OPTIONS"]) assert.match(pre.headers.get("access-control-allow-methods"), new RegExp(m));
    for (const h of ["Authorization", "Content-Type", "Idempotency-Key"]) assert.match(pre.headers.get("access-control-allow-headers"), new RegExp(h));
  });

  test("request log: method, path, raw query, redacted headers, auth scheme/result, body", async () => {
    await t.control("DELETE", "/requests");
    await t.call("sfcompute", "GET", "/instances", { query: "workspace=wksp_simfleet01&status=running&status=failed&tag=env%3Dprod" });
    await t.call("fal", "GET", "/compute/instances", { auth: "Key wrong-key", headers: { "x-api-key": "secret-thing" } });
    await t.call("novita", "GET", "/gpu/instances", { auth: false, query: { pageSize: 1, pageNum: 1 } });
    await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key: "k" }, headers: { "idempotency-key": "log-1" } });
    await t.call("novita", "POST", "/gpu/instance/create", { body: { kind: "gpu", imageAuth: "user:hunter2" } });
    const log = (await t.control("GET", "/requests")).json;
    assert.equal(log.length, 5);
    assert.deepEqual(log.map((e) => e.seq), [...log.map((e) => e.seq)].sort((a, b) => a - b));
    const [a, b, c, d, e] = log;
    assert.equal(a.provider, "sfcompute");
    assert.equal(a.method, "GET");
    assert.equal(a.path, BASE_PATHS.sfcompute + "/instances");
    assert.equal(a.query, "workspace=wksp_simfleet01&status=running&status=failed&tag=env%3Dprod");
    assert.equal(a.headers.authorization, "[redacted]");
    assert.equal(a.authScheme, "Bearer");
    assert.equal(a.auth, "ok");
    assert.equal(a.status, 200);
    assert.equal(a.bodyBytes, 0);
    assert.deepEqual([b.auth, b.authScheme, b.status, b.headers["x-api-key"]], ["wrong", "Key", 401, "[redacted]"]);
    assert.deepEqual([c.auth, c.authScheme, c.status], ["missing", null, 401]);
    assert.equal(d.headers["idempotency-key"], "log-1");
    assert.equal(d.status, 201);
    assert.ok(d.bodyBytes > 0);
    assert.equal(JSON.parse(d.body).ssh_key, "k");
    assert.ok(!JSON.stringify(log).includes(SIM_KEYS.sfcompute));
    assert.ok(!JSON.stringify(log).includes("wrong-key"));
    assert.ok(!JSON.stringify(log).includes("hunter2"));
    assert.equal(e.status, 400);
    // filters
    assert.equal((await t.control("GET", "/requests?provider=fal")).json.length, 2);
    assert.deepEqual((await t.control("GET", `/requests?since=${d.seq}`)).json.map((x) => x.seq), [e.seq]);
    await t.control("DELETE", "/requests");
    assert.deepEqual((await t.control("GET", "/requests")).json, []);
  });

  test("the log is bounded", () => {
    const sim = new Sim(normalizeConfig({ instances: 0 }).config);
    for (let i = 0; i < LOG_LIMIT + 10; i++) sim.addLog({ seq: 0 });
    assert.equal(sim.log.length, LOG_LIMIT);
    assert.equal(sim.log[0].seq, 11);
  });

  test("state: every instance as the provider renders it, per provider or all", async () => {
    const all = (await t.control("GET", "/state")).json;
    for (const p of ["fal-alpha", "sfcompute", "novita"]) assert.equal(all[p].length, 20, p);
    assert.equal(all.fal.length, 21); // + the one created in the log test
    const s = await t.control("GET", "/state?provider=sfcompute&include=cloud_init_user_data");
    assert.ok(s.json.instances.some((i) => i.cloud_init_user_data));
    const nd = await t.control("GET", "/state?provider=novita&detail=1");
    assert.ok(nd.json.instances.every((i) => "connectComponentSSH" in i));
    assert.equal((await t.control("GET", "/state?provider=aws")).status, 400);
  });

  test("advance and speed move the sim clock", async () => {
    const c0 = (await t.control("GET", "/clock")).json;
    assert.equal(c0.speed, 0);
    const a = (await t.control("POST", "/advance", { ms: 90_000 })).json;
    assert.equal(a.now, c0.now + 90_000);
    assert.equal((await t.control("POST", "/advance", { ms: -1 })).status, 400);
    await t.control("POST", "/speed", { speed: 1000 });
    await new Promise((r) => setTimeout(r, 50));
    const c1 = (await t.control("GET", "/clock")).json;
    assert.ok(c1.now - a.now >= 40_000, `${c1.now - a.now}`);
    await t.control("POST", "/speed", { speed: 0 });
    const c2 = (await t.control("GET", "/clock")).json;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await t.control("GET", "/clock")).json.now, c2.now);
    assert.equal((await t.control("POST", "/speed", { speed: -2 })).status, 400);
  });

  test("force-status puts an instance into a state (e.g. a Novita failure)", async () => {
    const [one] = await t.state("novita");
    const r = await t.control("POST", "/force-status", { provider: "novita", id: one.id, status: "exited", statusError: { state: "startFailed", message: "boom" } });
    assert.equal(r.status, 200);
    assert.equal(r.json.instance.status, "exited");
    assert.deepEqual(r.json.instance.statusError, { state: "startFailed", message: "boom" });
    assert.equal((await t.control("POST", "/force-status", { provider: "fal", id: "nope", status: "ready" })).status, 404);
  });

  test("reset regenerates everything and clears faults, latency, log, idempotency, clock offset", async () => {
    await t.control("POST", "/faults", { kinds: ["500"] });
    await t.control("POST", "/latency", { ms: 5 });
    await t.control("POST", "/advance", { ms: 1000 });
    await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key: "k" }, headers: { "idempotency-key": "reset-1" } }).catch(() => {});
    const r = await t.control("POST", "/reset", { seed: 9, instances: 7, sfcShape: "july", hostile: true });
    assert.equal(r.status, 200);
    assert.deepEqual([r.json.config.seed, r.json.config.instances, r.json.config.sfcShape, r.json.config.hostile], [9, 7, "july", true]);
    assert.equal(r.json.nowIso, SIM_DEFAULTS.epoch.replace("Z", ".000Z"));
    assert.deepEqual((await t.control("GET", "/faults")).json.rules, []);
    assert.deepEqual((await t.control("GET", "/latency")).json.latency, {});
    assert.deepEqual((await t.control("GET", "/requests")).json, []);
    assert.equal((await t.state("fal")).length, 7);
    assert.ok("pool" in (await t.state("sfcompute"))[0]);
    // idempotency cache is gone: the same key creates a new instance
    const c = await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key: "k" }, headers: { "idempotency-key": "reset-1" } });
    assert.equal(c.status, 201);
    assert.equal((await t.state("fal")).length, 8);
    // omitted fields fall back to the start-up options
    const back = await t.control("POST", "/reset", {});
    assert.deepEqual([back.json.config.seed, back.json.config.instances, back.json.config.sfcShape, back.json.config.hostile], [5, 20, "seed", false]);
    assert.equal((await t.control("POST", "/reset", { instances: -1 })).status, 400);
    assert.equal((await t.control("POST", "/reset", { sfcShape: "august" })).status, 400);
  });

  test("latency for all providers", async () => {
    await t.control("POST", "/latency", { ms: 150 });
    const t0 = performance.now();
    await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 1, pageNum: 1 } });
    assert.ok(performance.now() - t0 >= 130);
    assert.equal((await t.control("POST", "/latency", { ms: -5 })).status, 400);
    await t.control("DELETE", "/latency");
  });
});
