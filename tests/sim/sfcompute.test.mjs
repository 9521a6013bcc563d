// SF Compute preview v2 on the simulator.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { testSim, assertNoDupes } from "./helpers.mjs";
import { SIM_KEYS, SFC_WORKSPACE_PATH } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";
import { decodeCursor, encodeCursor } from "./sfcompute.mjs";

const WS = SIM_KEYS.sfcWorkspace;
const CREATE = { capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127" };

describe("sfcompute", () => {
  let t;
  const list = (query = {}, opts = {}) => t.call("sfcompute", "GET", "/instances", { query: { workspace: WS, ...query }, ...opts });
  const walk = async (query = {}, limit = 37) => {
    const ids = [];
    let cursor;
    let pages = 0;
    do {
      const r = await list({ ...query, limit, ...(cursor ? { starting_after: cursor } : {}) });
      assert.equal(r.status, 200, r.text);
      ids.push(...r.json.data.map((i) => i.id));
      assert.equal(r.json.has_more, r.json.cursor !== null);
      cursor = r.json.cursor;
      assert.ok(++pages < 1000);
    } while (cursor);
    return ids;
  };

  before(async () => {
    t = await testSim({ instances: 1000 });
  });
  after(() => t.close());

  test("401 authentication_error, 403 forbidden", async () => {
    for (const auth of [false, "Bearer nope", `Key ${SIM_KEYS.sfcompute}`, "Bearer"]) {
      const r = await list({}, { auth });
      assert.equal(r.status, 401, String(auth));
      assert.equal(r.json.error.type, "authentication_error");
      assert.equal(typeof r.json.error.message, "string");
    }
    const f = await list({}, { auth: `Bearer ${SIM_KEYS.sfcomputeForbidden}` });
    assert.equal(f.status, 403);
    assert.equal(f.json.error.type, "forbidden");
  });

  test("workspace is required (seed) → 422 with details; other workspaces are empty; id/path/name accepted", async () => {
    const r = await t.call("sfcompute", "GET", "/instances");
    assert.equal(r.status, 422);
    assert.equal(r.json.error.type, "unprocessable_entity");
    assert.deepEqual(r.json.error.details.map((d) => [d.field, d.code]), [["workspace", "required"]]);
    const other = await list({ workspace: "wksp_someoneelse" });
    assert.deepEqual(other.json, { object: "list", has_more: false, data: [], cursor: null });
    for (const workspace of [WS, SFC_WORKSPACE_PATH, "fleet"]) {
      const ok = await list({ workspace, limit: 1 });
      assert.equal(ok.json.data.length, 1, workspace);
    }
  });

  test("limit 1..200, default 50; out of range / non-integer → 400 invalid_request_error naming limit", async () => {
    assert.equal((await list()).json.data.length, 50);
    assert.equal((await list({ limit: 200 })).json.data.length, 200);
    for (const limit of [0, 201, -3, "ten", "2.5", ""]) {
      const r = await list({ limit });
      assert.equal(r.status, 400, String(limit));
      assert.equal(r.json.error.type, "invalid_request_error");
      assert.equal(r.json.error.details[0].field, "limit");
    }
  });

  test("cursor validation → 400", async () => {
    for (const q of [{ starting_after: "abc" }, { starting_after: "nodec_***" }, { ending_before: "nodec_bm9wZQ" }, { starting_after: "nodec_x", ending_before: "nodec_y" }]) {
      const r = await list(q);
      assert.equal(r.status, 400, JSON.stringify(q));
      assert.equal(r.json.error.type, "invalid_request_error");
    }
  });

  test("order: newest created_at first, ties by id; cursors look like nodec_…", async () => {
    const truth = await t.state("sfcompute");
    let ties = 0;
    for (let i = 1; i < truth.length; i++) {
      const a = truth[i - 1];
      const b = truth[i];
      assert.ok(a.created_at > b.created_at || (a.created_at === b.created_at && a.id < b.id), `order at ${i}`);
      if (a.created_at === b.created_at) ties++;
    }
    assert.ok(ties > 0, "the fleet has created_at ties");
    const r = await list({ limit: 5 });
    assert.match(r.json.cursor, /^nodec_[A-Za-z0-9_-]+$/);
    assert.equal(decodeCursor(r.json.cursor).id, r.json.data[4].id);
  });

  test("forward walk to the end returns exactly the true set, in order", async () => {
    const truth = (await t.state("sfcompute")).map((i) => i.id);
    assert.equal(truth.length, 1000);
    const ids = await walk();
    assertNoDupes(assert, ids, "sfc walk");
    assert.deepEqual(ids, truth);
  });

  test("backward walk with ending_before returns the same set", async () => {
    const truth = (await t.state("sfcompute")).map((i) => i.id);
    // the cursor of the very last item (what a forward walk's last-but-one page would hand out)
    const all = await t.state("sfcompute");
    const tail = encodeCursor(all[999]);
    const after = await list({ limit: 10, starting_after: tail });
    assert.deepEqual(after.json, { object: "list", has_more: false, data: [], cursor: null });
    const got = [];
    let cursor = tail;
    let guard = 0;
    while (cursor) {
      const r = await list({ limit: 100, ending_before: cursor });
      assert.equal(r.status, 200);
      assert.ok(r.json.data.length > 0);
      got.unshift(...r.json.data.map((i) => i.id));
      cursor = r.json.cursor;
      assert.ok(++guard < 50);
    }
    assert.deepEqual(got, truth.slice(0, 999));
  });

  test("cursors stay valid while instances are created and deleted during a walk", async () => {
    const before = (await t.state("sfcompute")).map((i) => i.id);
    const ids = [];
    let cursor;
    let page = 0;
    const deleted = new Set();
    do {
      const r = await list({ limit: 50, ...(cursor ? { starting_after: cursor } : {}) });
      ids.push(...r.json.data.map((i) => i.id));
      cursor = r.json.cursor;
      page++;
      if (page === 3) {
        // create two, terminate+delete one not yet seen and one already seen
        for (let k = 0; k < 2; k++) assert.equal((await t.call("sfcompute", "POST", "/instances", { body: CREATE })).status, 201);
        for (const victim of [before[10], before[600]]) {
          await t.call("sfcompute", "POST", `/instances/${victim}/terminate`);
          assert.equal((await t.call("sfcompute", "DELETE", `/instances/${victim}`)).status, 204);
          deleted.add(victim);
        }
      }
    } while (cursor);
    assertNoDupes(assert, ids, "walk during changes");
    const expected = before.filter((id) => !(id === before[600]));
    assert.deepEqual(ids, expected);
    assert.ok(deleted.size === 2);
  });

  test("filters: id, capacity/pool, status (repeated and bracket style), created_after/before, instance_sku, tag, tag_key", async () => {
    const all = await t.state("sfcompute");
    const ids = async (query) => {
      const r = await t.call("sfcompute", "GET", "/instances", { query });
      assert.equal(r.status, 200, r.text);
      return r.json.data.map((i) => i.id);
    };
    const q = (extra) => ({ workspace: WS, limit: 200, ...extra });
    const expect = (pred) => all.filter(pred).slice(0, 200).map((i) => i.id);

    assert.deepEqual(await ids(q({ id: [all[3].id, all[7].id] })), [all[3].id, all[7].id]);
    assert.deepEqual(await ids(q({ capacity: ["cap_h200train03"] })), expect((i) => i.capacity.id === "cap_h200train03"));
    assert.deepEqual(
      await ids(q({ capacity: ["cap_h200train03", "sfc:capacity:simlab:fleet:b200-burst"] })),
      expect((i) => ["cap_h200train03", "cap_b200burst04"].includes(i.capacity.id)),
    );
    assert.deepEqual(await ids(q({ pool: ["pool_b200burst04"] })), expect((i) => i.capacity.id === "cap_b200burst04"));
    assert.deepEqual(await ids(q({ status: ["failed", "awaiting_allocation"] })), expect((i) => ["failed", "awaiting_allocation"].includes(i.status)));
    const bracket = await t.call("sfcompute", "GET", "/instances", { query: `workspace=${WS}&limit=200&status[]=failed&status[]=terminated` });
    assert.deepEqual(bracket.json.data.map((i) => i.id), expect((i) => ["failed", "terminated"].includes(i.status)));
    const mid = all[500].created_at;
    assert.deepEqual(await ids(q({ created_after: mid, created_before: mid + 86400 * 3 })), expect((i) => i.created_at >= mid && i.created_at <= mid + 86400 * 3));
    assert.deepEqual(await ids(q({ instance_sku: ["isku_h100x8000002"] })), expect((i) => i.instance_sku.id === "isku_h100x8000002"));
    // tag=env%3Dprod (the = percent-encoded, as the docs require); repeated tags must all match
    const raw = await t.call("sfcompute", "GET", "/instances", { query: `workspace=${WS}&limit=200&tag=env%3Dprod` });
    assert.deepEqual(raw.json.data.map((i) => i.id), expect((i) => i.tags.env === "prod"));
    assert.ok(raw.json.data.length > 0);
    assert.deepEqual(await ids(q({ tag: ["env=prod", "team=infra"] })), expect((i) => i.tags.env === "prod" && i.tags.team === "infra"));
    assert.deepEqual(await ids(q({ tag_key: ["project"] })), expect((i) => "project" in i.tags));
    assert.deepEqual(await ids(q({ tag_key: ["project", "owner"] })), expect((i) => "project" in i.tags && "owner" in i.tags));
    // combined filters + pagination give the full filtered set
    const walked = await walk({ status: "running", tag_key: "env" }, 13);
    assert.deepEqual(walked, all.filter((i) => i.status === "running" && "env" in i.tags).map((i) => i.id));
    // invalid filter values → 400
    for (const bad of [{ status: "stopped" }, { include: "secrets" }, { tag: "novalue" }, { created_after: "yesterday" }]) {
      assert.equal((await t.call("sfcompute", "GET", "/instances", { query: q(bad) })).status, 400, JSON.stringify(bad));
    }
  });

  test("include=cloud_init_user_data adds the field only when asked", async () => {
    const plain = await list({ limit: 200 });
    assert.ok(plain.json.data.every((i) => !("cloud_init_user_data" in i)));
    const inc = await list({ limit: 200, include: "cloud_init_user_data" });
    const withData = inc.json.data.filter((i) => i.cloud_init_user_data_used);
    assert.ok(withData.length > 0);
    for (const i of inc.json.data) assert.equal("cloud_init_user_data" in i, i.cloud_init_user_data_used);
    assert.match(Buffer.from(withData[0].cloud_init_user_data, "base64").toString(), /^#cloud-config/);
  });

  test("get by id, legacy vm_ alias and resource path; 404 not_found", async () => {
    const [one] = await t.state("sfcompute");
    for (const ref of [one.id, "vm_" + one.id.slice(5), one.resource_path, encodeURIComponent(one.resource_path)]) {
      const r = await t.call("sfcompute", "GET", `/instances/${ref}`);
      assert.equal(r.status, 200, ref);
      assert.deepEqual(r.json, one);
    }
    const nf = await t.call("sfcompute", "GET", "/instances/inst_nope");
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error.type, "not_found");
  });

  test("lifecycle: create 201 awaiting_allocation → running (10 s) → ssh → terminate 200 → delete 409/204", async () => {
    await t.advance(1000); // a created_at of its own, so it sorts first
    const c = await t.call("sfcompute", "POST", "/instances", {
      body: { ...CREATE, name: "life-1", tags: { env: "test" }, cloud_init_user_data: Buffer.from("#cloud-config\n").toString("base64"), priority: 2 },
    });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.status, "awaiting_allocation");
    assert.equal(c.json.name, "life-1");
    assert.equal(c.json.resource_path, "sfc:instance:simlab:fleet:life-1");
    assert.equal(c.json.cloud_init_user_data_used, true);
    assert.equal(c.json.priority, 2);
    assert.deepEqual(c.json.tags, { env: "test" });
    const id = c.json.id;
    assert.match(id, /^inst_[0-9a-zA-Z_-]{1,21}$/);
    // newest first
    assert.equal((await list({ limit: 1 })).json.data[0].id, id);

    const ssh0 = await t.call("sfcompute", "GET", `/instances/${id}/ssh`);
    assert.equal(ssh0.status, 404);
    assert.equal(ssh0.json.error.message, "SSH details not available");

    const del0 = await t.call("sfcompute", "DELETE", `/instances/${id}`);
    assert.equal(del0.status, 409);
    assert.deepEqual(del0.json, { error: { type: "conflict", message: "Instance must be terminated before deletion", details: [] } });

    await t.advance(LIFECYCLE.sfcompute.runningAfter);
    assert.equal((await t.call("sfcompute", "GET", `/instances/${id}`)).json.status, "running");
    const ssh = await t.call("sfcompute", "GET", `/instances/${id}/ssh`);
    assert.equal(ssh.status, 200);
    assert.equal(ssh.json.port, 22);
    assert.match(ssh.json.hostname, /^(203\.0\.113|198\.51\.100)\.\d+$/);
    assert.equal(ssh.json.host_keys[0].key_type, "ssh-ed25519");
    assert.equal(Buffer.from(ssh.json.host_keys[0].key, "base64").subarray(4, 15).toString(), "ssh-ed25519");
    assert.equal(typeof ssh.json.last_successful_key_update_at, "number");

    const term = await t.call("sfcompute", "POST", `/instances/${id}/terminate`);
    assert.equal(term.status, 200);
    assert.equal(term.json.status, "terminated");
    const term2 = await t.call("sfcompute", "POST", `/instances/${id}/terminate`);
    assert.equal(term2.status, 404);
    assert.equal(term2.json.error.message, "Instance not found or already terminated");
    assert.equal((await t.call("sfcompute", "GET", `/instances/${id}/ssh`)).status, 404);
    // a terminated instance keeps its name reserved until deleted
    const dup = await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, name: "life-1" } });
    assert.equal(dup.status, 422);
    const del = await t.call("sfcompute", "DELETE", `/instances/${id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, "");
    assert.equal((await t.call("sfcompute", "GET", `/instances/${id}`)).status, 404);
    assert.equal((await t.call("sfcompute", "DELETE", `/instances/${id}`)).status, 404);
    assert.equal((await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, name: "life-1" } })).status, 201);
  });

  test("a failed instance can be terminated then deleted; delete while failed → 409", async () => {
    const failed = (await t.state("sfcompute")).find((i) => i.status === "failed");
    assert.equal((await t.call("sfcompute", "DELETE", `/instances/${failed.id}`)).status, 409);
    assert.equal((await t.call("sfcompute", "POST", `/instances/${failed.id}/terminate`)).json.status, "terminated");
    assert.equal((await t.call("sfcompute", "DELETE", `/instances/${failed.id}`)).status, 204);
  });

  test("create validation: 422 with details, 404 for unknown capacity/image/SKU, 400 for bad JSON", async () => {
    const cases422 = [
      [{ image: CREATE.image }, "capacity"],
      [{ capacity: CREATE.capacity }, "image"],
      [{ ...CREATE, name: "-starts-with-dash" }, "name"],
      [{ ...CREATE, name: "has space" }, "name"],
      [{ ...CREATE, name: "x".repeat(256) }, "name"],
      [{ ...CREATE, tags: { "bad key": "v" } }, "tags.bad key"],
      [{ ...CREATE, tags: { _private: "v" } }, "tags._private"],
      [{ ...CREATE, tags: { k: "a=b" } }, "tags.k"],
      [{ ...CREATE, tags: { k: "x".repeat(257) } }, "tags.k"],
      [{ ...CREATE, tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) }, "tags"],
      [{ ...CREATE, cloud_init_user_data: "not base64!" }, "cloud_init_user_data"],
      [{ ...CREATE, cloud_init_user_data: Buffer.alloc(64 * 1024 + 1, 65).toString("base64") }, "cloud_init_user_data"],
      [{ ...CREATE, priority: "urgent" }, "priority"],
      [{ ...CREATE, capacity: "cap_h200train03", _preview_enable_infiniband: "yes" }, "_preview_enable_infiniband"],
      [{ ...CREATE, capacity: "cap_b200burst04", _preview_enable_infiniband: true }, "_preview_enable_infiniband"],
      [{ ...CREATE, capacity: "cap_h100research02", instance_sku: "isku_b200x8000004" }, "instance_sku"],
      [{ ...CREATE, enable_public_ipv4: true }, "firewall"],
    ];
    for (const [body, field] of cases422) {
      const r = await t.call("sfcompute", "POST", "/instances", { body });
      assert.equal(r.status, 422, `${field}: ${r.text}`);
      assert.equal(r.json.error.type, "unprocessable_entity");
      assert.ok(r.json.error.details.some((d) => d.field === field), `${field}: ${JSON.stringify(r.json.error.details)}`);
    }
    const ok64k = await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, cloud_init_user_data: Buffer.alloc(64 * 1024, 65).toString("base64") } });
    assert.equal(ok64k.status, 201);
    const capNf = await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, capacity: "cap_nope" } });
    assert.equal(capNf.status, 404);
    assert.deepEqual(capNf.json, { error: { type: "not_found", message: "Capacity not found" } });
    assert.equal((await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, image: "image_nope" } })).status, 404);
    assert.equal((await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, instance_sku: "isku_nope" } })).status, 404);
    const badJson = await t.call("sfcompute", "POST", "/instances", { body: "{nope" });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.error.type, "invalid_request_error");
    // capacity by resource path, pool alias, image by resource path, IB on an IB SKU
    const ok = await t.call("sfcompute", "POST", "/instances", {
      body: { capacity: "sfc:capacity:simlab:fleet:h200-training", image: "sfc:image:simlab:fleet:debian-12-minimal", _preview_enable_infiniband: true },
    });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.capacity.id, "cap_h200train03");
    assert.equal(ok.json.instance_sku.id, "isku_h200x8ib0003");
  });

  test("PATCH /instances/{id}: tags full replacement, rename, duplicate name → 400", async () => {
    const c = (await t.call("sfcompute", "POST", "/instances", { body: { ...CREATE, name: "patch-me", tags: { a: "1", b: "2" } } })).json;
    const p = await t.call("sfcompute", "PATCH", `/instances/${c.id}`, { body: { tags: { c: "3" }, name: "patched" } });
    assert.equal(p.status, 200);
    assert.deepEqual(p.json.tags, { c: "3" });
    assert.equal(p.json.name, "patched");
    const other = (await t.state("sfcompute")).find((i) => i.id !== c.id);
    const dup = await t.call("sfcompute", "PATCH", `/instances/${c.id}`, { body: { name: other.name } });
    assert.equal(dup.status, 400);
    assert.equal(dup.json.error.type, "invalid_request_error");
    const cleared = await t.call("sfcompute", "PATCH", `/instances/${c.id}`, { body: { tags: null } });
    assert.deepEqual(cleared.json.tags, {});
  });

  test("operations not simulated answer 501; unknown routes 404", async () => {
    const [one] = await t.state("sfcompute");
    assert.equal((await t.call("sfcompute", "GET", `/instances/${one.id}/logs`)).status, 501);
    assert.equal((await t.call("sfcompute", "POST", `/instances/${one.id}/replace`, { body: { image: CREATE.image } })).status, 501);
    assert.equal((await t.call("sfcompute", "GET", "/capacities")).status, 404);
  });
});

describe("sfcompute July shape", () => {
  let t;
  before(async () => {
    t = await testSim({ instances: 200, sfcShape: "july" });
  });
  after(() => t.close());

  test("list without workspace is allowed; items carry pool, SKU alias, updated_at, priority_level", async () => {
    const r = await t.call("sfcompute", "GET", "/instances", { query: { limit: 200 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.data.length, 200);
    for (const i of r.json.data) {
      assert.match(i.pool.id, /^pool_/);
      assert.equal(i.capacity.name, i.pool.name);
      assert.equal(i.instance_sku.object, "instance_sku");
      assert.equal(typeof i.instance_sku.alias, "string");
      assert.ok(i.updated_at >= i.created_at);
      assert.ok(["yield", "normal", "preferred", "critical"].includes(i.priority_level));
      assert.equal(i.expected_shutdown_at, null);
      assert.equal("priority" in i, false);
      assert.equal("public_ip" in i, i.enable_public_ipv4);
    }
  });

  test("the seeded fleet covers every July field: managed_by deployment / spot_deployment / null, public IPv4 on and off, each priority_level", async () => {
    const data = (await t.call("sfcompute", "GET", "/instances", { query: { limit: 200 } })).json.data;
    const managed = new Set(data.map((i) => (i.managed_by === null ? "null" : i.managed_by.object)));
    assert.deepEqual([...managed].sort(), ["deployment", "null", "spot_deployment"]);
    for (const i of data) {
      assert.ok("managed_by" in i && "enable_public_ipv4" in i && "priority_level" in i, i.id);
      if (i.managed_by?.object === "spot_deployment") assert.match(i.managed_by.id, /^spot_[0-9a-zA-Z_-]{1,21}$/);
      if (i.managed_by?.object === "deployment") assert.match(i.managed_by.id, /^depl_[0-9a-zA-Z_-]{1,21}$/);
      if (i.enable_public_ipv4) assert.match(i.public_ip, /^(203\.0\.113|198\.51\.100)\.\d+$/);
    }
    assert.ok(data.some((i) => i.enable_public_ipv4) && data.some((i) => !i.enable_public_ipv4));
    assert.deepEqual([...new Set(data.map((i) => i.priority_level))].sort(), ["critical", "normal", "preferred", "yield"]);
    // the seed shape is unchanged: no managed_by, a spot-managed instance shows no deployment
    await t.control("POST", "/config", { sfcShape: "seed" });
    try {
      const seed = (await t.call("sfcompute", "GET", "/instances", { query: { limit: 200, workspace: "wksp_simfleet01" } })).json.data;
      const spotIds = new Set(data.filter((i) => i.managed_by?.object === "spot_deployment").map((i) => i.id));
      for (const i of seed) {
        assert.equal("managed_by" in i, false);
        if (spotIds.has(i.id)) assert.equal("deployment" in i, false);
      }
    } finally {
      await t.control("POST", "/config", { sfcShape: "july" });
    }
  });

  test("create with the July body (pool + instance_sku + priority_level); shape switch is live", async () => {
    const c = await t.call("sfcompute", "POST", "/instances", {
      body: { pool: "pool_h100sfprod01", instance_sku: "isku_h100x8000002", image: "image_ubuntu2404cuda128", priority_level: "critical", enable_public_ipv4: true, firewall: "sfc:firewall:simlab:fleet:default" },
    });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.priority_level, "critical");
    assert.equal(c.json.pool.id, "pool_h100sfprod01");
    assert.match(c.json.public_ip, /^203\.0\.113\./);
    assert.match(c.json.firewall, /^frwl_/);
    await t.control("POST", "/config", { sfcShape: "seed" });
    const seed = await t.call("sfcompute", "GET", `/instances/${c.json.id}`);
    assert.equal(seed.json.priority, 3);
    assert.equal("pool" in seed.json, false);
    await t.control("POST", "/config", { sfcShape: "july" });
  });
});
