// Novita GPU instance API v1 on the simulator.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { testSim, assertNoDupes } from "./helpers.mjs";
import { SIM_KEYS } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";

const CREATE = { productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 50, imageUrl: "nvidia/cuda:12.4.1-devel-ubuntu22.04", kind: "gpu", name: "nv-life" };
const isErr = (r, status, reason) => {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json), ["code", "reason", "message", "metadata"]);
  assert.equal(r.json.code, status);
  if (reason) assert.equal(r.json.reason, reason);
  assert.equal(typeof r.json.message, "string");
};

describe("novita", () => {
  let t;
  const list = (query) => t.call("novita", "GET", "/gpu/instances", { query });
  const get = (id) => t.call("novita", "GET", "/gpu/instance", { query: { instanceId: id } });
  const act = (verb, instanceId) => t.call("novita", "POST", `/gpu/instance/${verb}`, { body: { instanceId } });
  const status = async (id) => (await get(id)).json.status;

  before(async () => {
    t = await testSim({ instances: 1000 });
  });
  after(() => t.close());

  test("401 UNAUTHORIZED for missing/wrong key or scheme (the message says which), 403 FORBIDDEN for a key without permission", async () => {
    const q = { pageSize: 1, pageNum: 1 };
    for (const auth of [false, "Bearer ", "Bearer nope", `Key ${SIM_KEYS.novita}`]) {
      const r = await t.call("novita", "GET", "/gpu/instances", { auth, query: q });
      isErr(r, 401, "UNAUTHORIZED");
      assert.match(r.json.message, auth === false || auth === "Bearer " ? /missing API key/ : /invalid API key/, String(auth));
    }
    isErr(await t.call("novita", "GET", "/gpu/instances", { auth: `Bearer ${SIM_KEYS.novitaForbidden}`, query: q }), 403, "FORBIDDEN");
  });

  test("Content-Type: application/json is required on every call, GET included", async () => {
    isErr(await t.call("novita", "GET", "/gpu/instances", { contentType: false, query: { pageSize: 1, pageNum: 1 } }), 400, "INVALID_CONTENT_TYPE");
    isErr(await t.call("novita", "GET", "/gpu/instances", { contentType: "text/plain", query: { pageSize: 1, pageNum: 1 } }), 400, "INVALID_CONTENT_TYPE");
    assert.equal((await t.call("novita", "GET", "/gpu/instances", { contentType: "application/json; charset=utf-8", query: { pageSize: 1, pageNum: 1 } })).status, 200);
  });

  test("pageSize and pageNum are required; bad values → 400 naming the parameter", async () => {
    const a = await list({ pageNum: 1 });
    isErr(a, 400, "VALIDATOR_PARAM");
    assert.match(a.json.message, /pageSize/);
    const b = await list({ pageSize: 10 });
    isErr(b, 400);
    assert.match(b.json.message, /pageNum/);
    for (const q of [{ pageSize: -1, pageNum: 1 }, { pageSize: "x", pageNum: 1 }, { pageSize: 1, pageNum: "1.5" }]) isErr(await list(q), 400);
  });

  test("pageNum is 1-based (0 = 1), pageSize capped at 100, total always present", async () => {
    const p0 = await list({ pageSize: 10, pageNum: 0 });
    const p1 = await list({ pageSize: 10, pageNum: 1 });
    assert.deepEqual(p0.json, p1.json);
    assert.equal(p1.json.total, 1000);
    assert.equal((await list({ pageSize: 500, pageNum: 1 })).json.instances.length, 100);
    assert.deepEqual((await list({ pageSize: 0, pageNum: 1 })).json, { instances: [], total: 1000 });
    assert.deepEqual((await list({ pageSize: 100, pageNum: 11 })).json, { instances: [], total: 1000 });
  });

  test("walking pages to the end returns exactly the true set", async () => {
    const truth = (await t.state("novita")).map((i) => i.id);
    const ids = [];
    for (let page = 1; ; page++) {
      const r = await list({ pageSize: 33, pageNum: page });
      assert.equal(r.json.total, truth.length);
      ids.push(...r.json.instances.map((i) => i.id));
      if (r.json.instances.length < 33) break;
    }
    assertNoDupes(assert, ids, "novita walk");
    assert.deepEqual(ids, truth);
  });

  test("list items: seed 004 fields, numeric strings, statuses and statusError", async () => {
    const all = await t.state("novita");
    const statuses = new Set(all.map((i) => i.status));
    for (const s of ["running", "exited", "creating", "pulling", "removed", "toCreate"]) assert.ok(statuses.has(s), s);
    assert.ok(all.some((i) => i.statusError && i.status !== "running"));
    assert.ok(all.some((i) => i.billingMode === "spot" && i.spotStatus && i.spotReclaimTime !== undefined));
    for (const i of all) {
      for (const k of ["cpuNum", "memory", "gpuNum", "endTime", "createdAt"]) assert.equal(typeof i[k], "string", k);
      assert.equal(typeof i.rootfsSize, "number");
      for (const p of i.portMappings) assert.equal(typeof p.port, "number");
      for (const v of i.volumeMounts) assert.equal(typeof v.size, "string");
      if (i.billingMode === "onDemand") assert.equal(i.endTime, "-1");
      assert.ok(["onDemand", "monthly", "spot"].includes(i.billingMode));
    }
  });

  test("filters: name and productName fuzzy (case-insensitive), status exact", async () => {
    const all = await t.state("novita");
    const check = async (query, pred) => {
      const r = await list({ pageSize: 100, pageNum: 1, ...query });
      const expected = all.filter(pred);
      assert.equal(r.json.total, expected.length, JSON.stringify(query));
      assert.deepEqual(r.json.instances.map((i) => i.id), expected.slice(0, 100).map((i) => i.id));
      return expected.length;
    };
    assert.ok((await check({ name: "LLM-TR" }, (i) => i.name.toLowerCase().includes("llm-tr"))) > 0);
    assert.ok((await check({ productName: "4090" }, (i) => i.productName.includes("4090"))) > 0);
    assert.ok((await check({ productName: "h100 sxm" }, (i) => i.productName === "H100 SXM 80GB")) > 0);
    assert.ok((await check({ status: "exited" }, (i) => i.status === "exited")) > 0);
    assert.equal(await check({ status: "Exited" }, () => false), 0);
    await check({ name: "worker", status: "running", productName: "gb" }, (i) => i.name.includes("worker") && i.status === "running" && i.productName.toLowerCase().includes("gb"));
  });

  test("get: detail shape; 400 without instanceId; 400 RESOURCE_NOT_FOUND unknown", async () => {
    const running = (await t.state("novita")).find((i) => i.status === "running" && i.portMappings.some((p) => p.port === 8888));
    const r = await get(running.id);
    assert.equal(r.status, 200);
    const d = r.json;
    assert.equal(d.id, running.id);
    assert.match(d.network.ip, /^(203\.0\.113|198\.51\.100)\.\d+$/);
    assert.ok(d.portMappings.every((p) => typeof p.endpoint === "string" && p.endpoint));
    assert.ok(d.volumeMounts.every((v) => typeof v.size === "number"));
    assert.equal(d.connectComponentSSH.isRunning, true);
    assert.match(d.connectComponentSSH.sshCommand, /^ssh root@/);
    assert.equal(d.connectComponentJupyter.isRunning, true);
    for (const k of ["connectComponentWebTerminal", "connectComponentLog", "node", "jobs", "freeStorageSize", "keepDataDay"]) assert.ok(k in d, k);
    isErr(await t.call("novita", "GET", "/gpu/instance"), 400, "VALIDATOR_PARAM");
    const missing = await get("doesnotexist");
    isErr(missing, 400, "RESOURCE_NOT_FOUND");
    assert.match(missing.json.message, /doesnotexist/);
  });

  test("lifecycle: create → toCreate → creating → pulling → running; stop/start/restart; delete → removed → gone", async () => {
    const c = await t.call("novita", "POST", "/gpu/instance/create", { body: { ...CREATE, ports: "8888/http, 6006/tcp", envs: [{ key: "A", value: "1" }] } });
    assert.equal(c.status, 200, c.text);
    assert.deepEqual(Object.keys(c.json), ["id"]);
    const id = c.json.id;
    const steps = LIFECYCLE.novita.create;
    assert.equal(await status(id), "toCreate");
    const detail0 = (await get(id)).json;
    assert.equal(detail0.network.ip, "");
    assert.equal(detail0.connectComponentSSH.isRunning, false);
    let at = 0;
    for (const [ms, s] of steps.slice(1)) {
      await t.advance(ms - at);
      at = ms;
      assert.equal(await status(id), s);
    }
    const d = (await get(id)).json;
    assert.equal(d.name, "nv-life");
    assert.deepEqual(d.envs, [{ key: "A", value: "1" }]);
    assert.deepEqual(d.portMappings.map((p) => [p.port, p.type]), [[8888, "http"], [6006, "tcp"]]);
    assert.equal(d.gpuNum, "1");
    assert.equal(d.billingMode, "onDemand");
    assert.equal(d.endTime, "-1");

    // illegal transitions → 400 INVALID_INSTANCE_STATUS
    isErr(await act("start", id), 400, "INVALID_INSTANCE_STATUS");
    const runLifecycle = async (verb, plan) => {
      const r = await act(verb, id);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
      let at2 = 0;
      for (const [ms, s] of plan) {
        await t.advance(ms - at2);
        at2 = ms;
        assert.equal(await status(id), s, `${verb} → ${s}`);
      }
    };
    await runLifecycle("stop", LIFECYCLE.novita.stop);
    isErr(await act("stop", id), 400, "INVALID_INSTANCE_STATUS");
    isErr(await act("restart", id), 400, "INVALID_INSTANCE_STATUS");
    await runLifecycle("start", LIFECYCLE.novita.start);
    await runLifecycle("restart", LIFECYCLE.novita.restart);
    await runLifecycle("delete", LIFECYCLE.novita.delete.slice(0, 3));
    // removed instances stay listed for a while …
    assert.ok((await list({ pageSize: 100, pageNum: 1, status: "removed" })).json.instances.some((i) => i.id === id));
    assert.deepEqual((await act("delete", id)).json, {}); // deleting again is a no-op
    isErr(await act("start", id), 400, "INVALID_INSTANCE_STATUS");
    // … then vanish
    await t.advance(LIFECYCLE.novita.delete[3][0] - LIFECYCLE.novita.delete[2][0]);
    isErr(await get(id), 400, "RESOURCE_NOT_FOUND");
    assert.ok(!(await t.state("novita")).some((i) => i.id === id));
    for (const verb of ["start", "stop", "restart", "delete"]) isErr(await act(verb, id), 400, "RESOURCE_NOT_FOUND");
  });

  test("actions need a JSON body with instanceId", async () => {
    for (const verb of ["start", "stop", "restart", "delete"]) {
      isErr(await t.call("novita", "POST", `/gpu/instance/${verb}`, { body: {} }), 400);
      isErr(await t.call("novita", "POST", `/gpu/instance/${verb}`, { body: "{bad" }), 400);
      isErr(await act(verb, "nope"), 400, "RESOURCE_NOT_FOUND");
    }
  });

  test("starting a failed (exited + statusError) instance clears statusError", async () => {
    const failed = (await t.state("novita")).find((i) => i.status === "exited" && i.statusError);
    assert.ok(failed);
    assert.equal((await act("start", failed.id)).status, 200);
    assert.equal((await get(failed.id)).json.statusError, undefined);
  });

  test("create validation → 400 VALIDATOR_PARAM / PRODUCT_NOT_FOUND / CLUSTER_NOT_FOUND", async () => {
    const { name, ...base } = CREATE;
    const bad = [
      [{ ...base, productId: undefined }, "VALIDATOR_PARAM"],
      [{ ...base, kind: undefined }, "VALIDATOR_PARAM"],
      [{ ...base, kind: "tpu" }, "VALIDATOR_PARAM"],
      [{ ...base, gpuNum: 0 }, "VALIDATOR_PARAM"],
      [{ ...base, gpuNum: 9 }, "VALIDATOR_PARAM"],
      [{ ...base, gpuNum: "1" }, "VALIDATOR_PARAM"],
      [{ ...base, rootfsSize: undefined }, "VALIDATOR_PARAM"],
      [{ ...base, rootfsSize: 7000 }, "VALIDATOR_PARAM"],
      [{ ...base, imageUrl: "" }, "VALIDATOR_PARAM"],
      [{ ...base, imageUrl: "x".repeat(501) }, "VALIDATOR_PARAM"],
      [{ ...base, name: "n".repeat(256) }, "VALIDATOR_PARAM"],
      [{ ...base, ports: "2222/tcp" }, "VALIDATOR_PARAM"],
      [{ ...base, ports: "70000/tcp" }, "VALIDATOR_PARAM"],
      [{ ...base, ports: "80/udp" }, "VALIDATOR_PARAM"],
      [{ ...base, ports: Array.from({ length: 16 }, (_, i) => `${8000 + i}/http`).join(",") }, "VALIDATOR_PARAM"],
      [{ ...base, envs: Array.from({ length: 101 }, (_, i) => ({ key: `K${i}`, value: "v" })) }, "VALIDATOR_PARAM"],
      [{ ...base, envs: [{ key: "k".repeat(512), value: "v" }] }, "VALIDATOR_PARAM"],
      [{ ...base, billingMode: "reserved" }, "VALIDATOR_PARAM"],
      [{ ...base, autoRenewMonth: 13 }, "VALIDATOR_PARAM"],
      [{ ...base, command: "c".repeat(2048) }, "VALIDATOR_PARAM"],
      [{ ...base, networkStorages: [{ mountPoint: "/x" }] }, "VALIDATOR_PARAM"],
      [{ ...base, productId: "prod-nope" }, "PRODUCT_NOT_FOUND"],
      [{ ...base, clusterId: "cls-mars-01" }, "CLUSTER_NOT_FOUND"],
    ];
    const n0 = (await t.state("novita")).length;
    for (const [body, reason] of bad) isErr(await t.call("novita", "POST", "/gpu/instance/create", { body }), 400, reason);
    isErr(await t.call("novita", "POST", "/gpu/instance/create", { body: "[1,2" }), 400);
    assert.equal((await t.state("novita")).length, n0);
  });

  test("create options: rootfs < 10 → 10, month > 0 forces monthly, spot, CPU kind, cluster choice", async () => {
    const { name, ...base } = CREATE;
    const mk = async (body) => {
      const r = await t.call("novita", "POST", "/gpu/instance/create", { body });
      assert.equal(r.status, 200, r.text);
      return (await get(r.json.id)).json;
    };
    assert.equal((await mk({ ...base, rootfsSize: 5 })).rootfsSize, 10);
    const m = await mk({ ...base, month: 2, billingMode: "onDemand" });
    assert.equal(m.billingMode, "monthly");
    assert.notEqual(m.endTime, "-1");
    const s = await mk({ ...base, billingMode: "spot" });
    assert.equal(s.spotStatus, "running");
    assert.equal(s.spotReclaimTime, "0");
    const cpu = await mk({ kind: "cpu", productId: "prod-cpu-8c32g", imageUrl: "ubuntu:22.04" });
    assert.equal(cpu.kind, "cpu");
    assert.equal(cpu.gpuNum, "0");
    assert.equal(cpu.cpuNum, "8");
    const cl = await mk({ ...base, clusterId: "cls-eu-nl-01", networkStorages: [{ Id: "nst-1", mountPoint: "/data" }] });
    assert.equal(cl.clusterId, "cls-eu-nl-01");
    assert.ok(cl.volumeMounts.some((v) => v.type === "network" && v.id === "nst-1" && v.mountPath === "/data"));
  });

  test("unknown routes → 404, wrong method → 405, in Novita's error shape", async () => {
    isErr(await t.call("novita", "POST", "/gpu/instance/edit", { body: {} }), 404);
    isErr(await t.call("novita", "POST", "/gpu/instances", { body: {} }), 405);
  });
});
