// fal Platform API v1 on the simulator: endpoints, auth, validation, pagination, idempotency,
// lifecycle.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { testSim, assertNoDupes } from "./helpers.mjs";
import { SIM_KEYS } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";

const SSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpufleetsim user@host";

describe("fal v1", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 1000 });
  });
  after(() => t.close());

  test("401 with fal's body when the key is missing, wrong, or uses the wrong scheme", async () => {
    for (const auth of [false, "Key nope", `Bearer ${SIM_KEYS.fal}`, "Key"]) {
      const r = await t.call("fal", "GET", "/compute/instances", { auth });
      assert.equal(r.status, 401, String(auth));
      assert.equal(r.json.error.type, "authorization_error");
      assert.equal(r.json.error.message, "Authentication required");
      assert.equal(r.json.error.request_id, r.headers.get("x-request-id"));
    }
  });

  test("403 for a key without admin scope", async () => {
    const r = await t.call("fal", "GET", "/compute/instances", { auth: `Key ${SIM_KEYS.falForbidden}` });
    assert.equal(r.status, 403);
    assert.deepEqual(Object.keys(r.json.error).sort(), ["message", "request_id", "type"]);
    assert.equal(r.json.error.type, "authorization_error");
  });

  test("every response carries x-request-id", async () => {
    const a = await t.call("fal", "GET", "/compute/instances", { query: { limit: 1 } });
    const b = await t.call("fal", "GET", "/compute/instances", { query: { limit: 1 } });
    assert.match(a.headers.get("x-request-id"), /^req_/);
    assert.notEqual(a.headers.get("x-request-id"), b.headers.get("x-request-id"));
  });

  test("list: default limit 50, cap 100, base64 page cursors (Mg== = page 2), walk to the end", async () => {
    const first = await t.call("fal", "GET", "/compute/instances");
    assert.equal(first.status, 200);
    assert.equal(first.json.instances.length, 50);
    assert.equal(first.json.has_more, true);
    assert.equal(first.json.next_cursor, "Mg==");
    const capped = await t.call("fal", "GET", "/compute/instances", { query: { limit: 1000 } });
    assert.equal(capped.json.instances.length, 100);

    const truth = (await t.state("fal")).map((i) => i.id);
    assert.equal(truth.length, 1000);
    const ids = [];
    let cursor;
    let pages = 0;
    do {
      const r = await t.call("fal", "GET", "/compute/instances", { query: cursor ? { limit: 70, cursor } : { limit: 70 } });
      assert.equal(r.status, 200);
      assert.equal(r.json.has_more, r.json.next_cursor !== null);
      ids.push(...r.json.instances.map((i) => i.id));
      cursor = r.json.next_cursor;
      assert.ok(++pages < 100);
    } while (cursor);
    assertNoDupes(assert, ids, "fal walk");
    assert.deepEqual(ids, truth);
    assert.equal(pages, Math.ceil(1000 / 70));
  });

  test("list: a cursor past the end gives an empty last page", async () => {
    const r = await t.call("fal", "GET", "/compute/instances", { query: { cursor: Buffer.from("999").toString("base64") } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { instances: [], next_cursor: null, has_more: false });
  });

  test("list: bad limit or cursor → 400 validation_error", async () => {
    for (const query of [{ limit: 0 }, { limit: -1 }, { limit: "abc" }, { limit: "1.5" }, { cursor: "%%%" }, { cursor: "bm9wZQ==" }, { cursor: Buffer.from("0").toString("base64") }]) {
      const r = await t.call("fal", "GET", "/compute/instances", { query });
      assert.equal(r.status, 400, JSON.stringify(query));
      assert.equal(r.json.error.type, "validation_error");
      assert.ok(r.json.error.request_id);
    }
  });

  test("get: 200 Instance / 404 not_found", async () => {
    const [one] = await t.state("fal");
    const r = await t.call("fal", "GET", `/compute/instances/${one.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, one);
    const nf = await t.call("fal", "GET", "/compute/instances/inst_doesnotexist");
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error.type, "not_found");
  });

  test("instances have only spec fields; ip only when ready; region/status enums", async () => {
    const all = await t.state("fal");
    const statuses = new Set();
    for (const i of all) {
      for (const k of Object.keys(i)) assert.ok(["id", "instance_type", "region", "sector", "ip", "status", "creator_user_nickname"].includes(k), k);
      assert.match(i.id, /^inst_/);
      statuses.add(i.status);
      if (i.status === "ready") assert.match(i.ip, /^(203\.0\.113|198\.51\.100)\.\d+$/);
      else assert.equal(i.ip, undefined);
      if (i.sector) assert.equal(i.instance_type, "gpu_8x_h100_sxm5");
    }
    for (const s of ["ready", "pending", "provisioning", "init", "stopped", "unknown"]) assert.ok(statuses.has(s), s);
  });

  test("create: 201 pending → provisioning → ready with IP; delete 204 then 404", async () => {
    const r = await t.call("fal", "POST", "/compute/instances", { body: { instance_type: "gpu_8x_h100_sxm5", ssh_key: SSH, sector: "sector_2" } });
    assert.equal(r.status, 201);
    assert.equal(r.json.status, "pending");
    assert.equal(r.json.ip, undefined);
    assert.equal(r.json.sector, "sector_2");
    const id = r.json.id;
    await t.advance(LIFECYCLE.fal.provisioningAfter);
    assert.equal((await t.call("fal", "GET", `/compute/instances/${id}`)).json.status, "provisioning");
    await t.advance(LIFECYCLE.fal.readyAfter - LIFECYCLE.fal.provisioningAfter);
    const ready = (await t.call("fal", "GET", `/compute/instances/${id}`)).json;
    assert.equal(ready.status, "ready");
    assert.match(ready.ip, /^(203\.0\.113|198\.51\.100)\.\d+$/);
    // new instances are listed last (creation order)
    const last = await t.call("fal", "GET", "/compute/instances", { query: { limit: 1, cursor: Buffer.from(String((await t.state("fal")).length)).toString("base64") } });
    assert.equal(last.json.instances[0].id, id);
    const d = await t.call("fal", "DELETE", `/compute/instances/${id}`);
    assert.equal(d.status, 204);
    assert.equal(d.text, "");
    assert.equal((await t.call("fal", "GET", `/compute/instances/${id}`)).status, 404);
    assert.equal((await t.call("fal", "DELETE", `/compute/instances/${id}`)).status, 404);
  });

  test("create: validation errors → 400 validation_error, nothing created", async () => {
    const n0 = (await t.state("fal")).length;
    const bad = [
      {},
      { instance_type: "gpu_8x_h100_sxm5" },
      { ssh_key: SSH },
      { instance_type: "gpu_2x_h100", ssh_key: SSH },
      { instance_type: "gpu_1x_h100_sxm5", ssh_key: "" },
      { instance_type: "gpu_1x_h100_sxm5", ssh_key: 42 },
      { instance_type: "gpu_1x_h100_sxm5", ssh_key: SSH, sector: "sector_1" },
      { instance_type: "gpu_8x_h100_sxm5", ssh_key: SSH, sector: "sector_9" },
      { instance_type: "gpu_8x_h100_sxm5", ssh_key: SSH, region: "us-west" },
      [],
      "just a string",
    ];
    for (const body of bad) {
      const r = await t.call("fal", "POST", "/compute/instances", { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.type, "validation_error");
    }
    for (const raw of ["{not json", ""]) {
      const r = await t.call("fal", "POST", "/compute/instances", { body: raw });
      assert.equal(r.status, 400);
    }
    assert.equal((await t.state("fal")).length, n0);
  });

  test("Idempotency-Key: same key within 10 minutes → same instance, one instance only", async () => {
    const n0 = (await t.state("fal")).length;
    const body = { instance_type: "gpu_1x_h100_sxm5", ssh_key: SSH };
    const headers = { "idempotency-key": "idem-abc-1" };
    const a = await t.call("fal", "POST", "/compute/instances", { body, headers });
    await t.advance(60_000);
    const b = await t.call("fal", "POST", "/compute/instances", { body: { ssh_key: SSH, instance_type: "gpu_1x_h100_sxm5" }, headers });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(b.text, a.text);
    assert.equal((await t.state("fal")).length, n0 + 1);
    // a different body with the same key is refused
    const c = await t.call("fal", "POST", "/compute/instances", { body: { ...body, instance_type: "gpu_8x_h100_sxm5" }, headers });
    assert.equal(c.status, 400);
    assert.equal(c.json.error.type, "validation_error");
    // after 10 minutes the key is forgotten → a new instance
    await t.advance(LIFECYCLE.falIdempotencyMs);
    const d = await t.call("fal", "POST", "/compute/instances", { body, headers });
    assert.equal(d.status, 201);
    assert.notEqual(d.json.id, a.json.id);
    assert.equal((await t.state("fal")).length, n0 + 2);
    // without a key every POST creates
    const e1 = await t.call("fal", "POST", "/compute/instances", { body });
    const e2 = await t.call("fal", "POST", "/compute/instances", { body });
    assert.notEqual(e1.json.id, e2.json.id);
  });

  test("unknown paths → 404 in fal's shape; unsupported methods → 405", async () => {
    const r = await t.call("fal", "GET", "/compute/instances/x/stop");
    assert.equal(r.status, 404);
    assert.equal(r.json.error.type, "not_found");
    const m = await t.call("fal", "PUT", "/compute/instances");
    assert.equal(m.status, 405);
  });
});
