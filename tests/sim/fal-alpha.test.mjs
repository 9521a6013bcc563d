// fal alpha Compute API on the simulator.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { testSim } from "./helpers.mjs";
import { SIM_KEYS } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("fal alpha", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 300 });
  });
  after(() => t.close());

  test("401/403 in FastAPI {detail} shape", async () => {
    for (const auth of [false, "Key wrong", `Bearer ${SIM_KEYS.fal}`]) {
      const r = await t.call("fal-alpha", "GET", "/compute/instances", { auth });
      assert.equal(r.status, 401);
      assert.equal(typeof r.json.detail, "string");
    }
    const f = await t.call("fal-alpha", "GET", "/compute/instances", { auth: `Key ${SIM_KEYS.falForbidden}` });
    assert.equal(f.status, 403);
    assert.equal(typeof f.json.detail, "string");
  });

  test("list: a bare JSON array of every instance, no pagination", async () => {
    const r = await t.call("fal-alpha", "GET", "/compute/instances");
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.json));
    assert.equal(r.json.length, 300);
    assert.deepEqual(r.json, await t.state("fal-alpha"));
    const statuses = new Set();
    for (const i of r.json) {
      assert.deepEqual(Object.keys(i), ["id", "instance_type", "sector", "ip", "status"]);
      assert.match(i.id, UUID);
      assert.ok(["ready", "init", "pending", "provisioning", "unknown"].includes(i.status));
      statuses.add(i.status);
      if (i.status === "ready") assert.match(i.ip, /^(203\.0\.113|198\.51\.100)\.\d+$/);
      else assert.equal(i.ip, null);
      if (i.sector !== null) assert.equal(i.instance_type, "gpu_8x_h100_sxm5");
    }
    assert.equal(statuses.size, 5);
  });

  test("separate fleet from v1", async () => {
    const v1 = new Set((await t.state("fal")).map((i) => i.id));
    for (const i of await t.state("fal-alpha")) assert.ok(!v1.has(i.id));
  });

  test("get uses the singular path; the plural /compute/instances/{id} is not served", async () => {
    const [one] = await t.state("fal-alpha");
    const r = await t.call("fal-alpha", "GET", `/compute/instance/${one.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, one);
    const plural = await t.call("fal-alpha", "GET", `/compute/instances/${one.id}`);
    assert.equal(plural.status, 404);
    const nf = await t.call("fal-alpha", "GET", "/compute/instance/00000000-0000-4000-8000-000000000000");
    assert.equal(nf.status, 404);
    assert.equal(nf.json.detail, "Instance not found");
  });

  test("create → 200 ComputeInstance, lifecycle to ready with IP, delete → 204 then 404", async () => {
    const r = await t.call("fal-alpha", "POST", "/compute/instance", { body: { instance_type: "gpu_1x_h100_sxm5", ssh_key: "ssh-rsa AAAA user@host" } });
    assert.equal(r.status, 200);
    assert.match(r.json.id, UUID);
    assert.deepEqual(r.json, { id: r.json.id, instance_type: "gpu_1x_h100_sxm5", sector: null, ip: null, status: "pending" });
    await t.advance(LIFECYCLE.fal.provisioningAfter);
    assert.equal((await t.call("fal-alpha", "GET", `/compute/instance/${r.json.id}`)).json.status, "provisioning");
    await t.advance(LIFECYCLE.fal.readyAfter);
    const ready = (await t.call("fal-alpha", "GET", `/compute/instance/${r.json.id}`)).json;
    assert.equal(ready.status, "ready");
    assert.ok(ready.ip);
    const list = await t.call("fal-alpha", "GET", "/compute/instances");
    assert.equal(list.json.at(-1).id, r.json.id);
    const d = await t.call("fal-alpha", "DELETE", `/compute/instance/${r.json.id}`);
    assert.equal(d.status, 204);
    assert.equal((await t.call("fal-alpha", "GET", `/compute/instance/${r.json.id}`)).status, 404);
    assert.equal((await t.call("fal-alpha", "DELETE", `/compute/instance/${r.json.id}`)).status, 404);
  });

  test("create validation → 422 with pydantic-style detail list", async () => {
    const cases = [
      [{}, ["instance_type", "ssh_key"]],
      [{ instance_type: "gpu_1x_h100_sxm5", ssh_key: "k", sector: "sector_1" }, ["sector"]],
      [{ instance_type: "nope", ssh_key: "k" }, ["instance_type"]],
      [{ instance_type: "gpu_1x_h100_sxm5", ssh_key: "k", extra: 1 }, ["extra"]],
    ];
    for (const [body, fields] of cases) {
      const r = await t.call("fal-alpha", "POST", "/compute/instance", { body });
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.deepEqual(r.json.detail.map((d) => d.loc[1]).sort(), fields.sort());
      for (const d of r.json.detail) assert.ok(d.msg && d.type && d.loc[0] === "body");
    }
    const bad = await t.call("fal-alpha", "POST", "/compute/instance", { body: "{oops" });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.detail[0].type, "json_invalid");
  });
});
