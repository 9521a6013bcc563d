// Spec conformance: the simulator's requests and responses for fal v1 and SF Compute, validated
// with ajv against the OpenAPI extracts in ../shared/specs (read from the repo's sibling shared/
// folder; the tests FAIL if it is missing), the SF Compute seed shape against
// schemas/sfcompute-seed.schema.json (derived from seed 003), and Novita against
// schemas/novita-v1.schema.json (derived from seed 004; no OpenAPI exists). The money endpoints
// (no extract covers them) against schemas derived from the docs: novita-money, fal-account-billing,
// sfcompute-money (.schema.json).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { testSim, readSpec, SIM_DIR } from "./helpers.mjs";
import { SIM_KEYS } from "./defaults.mjs";
import { LIFECYCLE } from "./fleet.mjs";

const FAL_SPEC = "fal-platform-v1-compute.openapi.json";
const SFC_SPEC = "sfcompute-preview-v2-instances.openapi.json";

function makeAjv() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // OpenAPI formats ajv-formats does not know
  const uint = (bits) => ({ type: "number", validate: (n) => Number.isInteger(n) && n >= 0 && n < 2 ** bits });
  ajv.addFormat("u-int16", uint(16));
  ajv.addFormat("u-int32", uint(32));
  ajv.addFormat("u-int64", { type: "number", validate: (n) => Number.isInteger(n) && n >= 0 });
  return ajv;
}

/** Validators for one OpenAPI document: response(path, method, status) and requestBody(path, method). */
function openapi(spec) {
  const ajv = makeAjv();
  const cache = new Map();
  const compile = (key, schema) => {
    if (!cache.has(key)) cache.set(key, ajv.compile({ ...schema, components: spec.components }));
    return cache.get(key);
  };
  const op = (p, m) => {
    const o = spec.paths[p]?.[m.toLowerCase()];
    assert.ok(o, `spec has no ${m} ${p}`);
    return o;
  };
  return {
    op,
    response(p, m, status) {
      const r = op(p, m).responses[String(status)];
      assert.ok(r, `spec documents no ${status} for ${m} ${p}`);
      const schema = r.content?.["application/json"]?.schema;
      return schema ? compile(`${m} ${p} ${status}`, schema) : null;
    },
    requestBody(p, m) {
      return compile(`${m} ${p} body`, op(p, m).requestBody.content["application/json"].schema);
    },
    component(name) {
      return compile(`#${name}`, { $ref: `#/components/schemas/${name}` });
    },
    param(p, m, name) {
      const prm = op(p, m).parameters.find((x) => x.name === name);
      assert.ok(prm, `no parameter ${name}`);
      return compile(`${m} ${p} ?${name}`, prm.schema);
    },
  };
}

function check(validate, body, label) {
  const ok = validate(body);
  assert.ok(ok, `${label}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}\nbody: ${JSON.stringify(body)?.slice(0, 600)}`);
}

/** Validates a sim response against the spec's response for its status. */
function conforms(api, p, m, r, label = `${m} ${p} → ${r.status}`) {
  const v = api.response(p, m, r.status);
  if (v === null) {
    assert.equal(r.text, "", `${label}: documented without a body`);
    return;
  }
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/, label);
  check(v, r.json, label);
}

test("a missing spec extract fails loudly (never skips)", () => {
  assert.throws(() => readSpec("does-not-exist.openapi.json"), /OpenAPI extract not found: .*shared[\\/]specs/);
});

const FAL_SSH = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7Kl4 user@host";

describe("conformance: fal v1 against specs/" + FAL_SPEC, () => {
  let t;
  let api;
  before(async () => {
    api = openapi(readSpec(FAL_SPEC));
    t = await testSim({ instances: 1000 });
  });
  after(() => t?.close());
  const LIST = "/compute/instances";
  const ONE = "/compute/instances/{id}";

  test("the validators are live (they reject drift)", () => {
    const v = api.response(LIST, "GET", 200);
    assert.equal(v({ instances: [], next_cursor: null, has_more: false }), true);
    assert.equal(v({ instances: [{ id: "inst_x", instance_type: "gpu_1x_h100_sxm5", region: "mars", status: "ready" }], next_cursor: null, has_more: false }), false);
    assert.equal(v({ instances: [], has_more: false }), false);
    assert.equal(api.response(LIST, "GET", 401)({ error: { type: "oops", message: "m" } }), false);
  });

  test("list: every page → 200 schema; auth errors, 429, 500 → their schemas", async () => {
    let cursor;
    let pages = 0;
    do {
      const r = await t.call("fal", "GET", LIST, { query: cursor ? { limit: 100, cursor } : { limit: 100 } });
      conforms(api, LIST, "GET", r);
      cursor = r.json.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 10);
    conforms(api, LIST, "GET", await t.call("fal", "GET", LIST, { query: { cursor: Buffer.from("50").toString("base64") } }));
    conforms(api, LIST, "GET", await t.call("fal", "GET", LIST, { auth: false }));
    conforms(api, LIST, "GET", await t.call("fal", "GET", LIST, { auth: `Key ${SIM_KEYS.falForbidden}` }));
    for (const kind of ["429", "500"]) {
      await t.control("POST", "/faults", { provider: "fal", kinds: [kind] });
      const r = await t.call("fal", "GET", LIST);
      assert.equal(r.status, Number(kind));
      conforms(api, LIST, "GET", r);
      await t.control("DELETE", "/faults");
    }
  });

  test("list: limit follows the spec's parameter schema (minimum 1); the 400 uses the spec's error schema", async () => {
    const limitSchema = api.param(LIST, "GET", "limit");
    for (const limit of [0, 1, 50, 100, 101, 5000, -4]) {
      const r = await t.call("fal", "GET", LIST, { query: { limit } });
      assert.equal(r.status === 200, limitSchema(limit), `limit=${limit}`);
      // 400 is not documented on list; it uses the error schema of the documented 400 on create
      conforms(api, LIST, r.status === 400 ? "POST" : "GET", r);
    }
  });

  test("get: 200 for every instance (all statuses, after the lifecycle too) and 404", async () => {
    for (const i of await t.state("fal")) check(api.response(ONE, "GET", 200), i, i.id);
    const [one] = await t.state("fal");
    conforms(api, ONE, "GET", await t.call("fal", "GET", `/compute/instances/${one.id}`));
    conforms(api, ONE, "GET", await t.call("fal", "GET", "/compute/instances/inst_missing"));
    conforms(api, ONE, "GET", await t.call("fal", "GET", `/compute/instances/${one.id}`, { auth: "Key bad" }));
  });

  test("create: spec-valid bodies → 201 (except the documented sector rule); spec-invalid → 400", async () => {
    const body = api.requestBody(LIST, "POST");
    const candidates = [];
    for (const instance_type of ["gpu_8x_h100_sxm5", "gpu_1x_h100_sxm5", "gpu_4x_a100", undefined]) {
      for (const sector of [undefined, "sector_1", "sector_3", "sector_4"]) {
        for (const ssh_key of [FAL_SSH, "", undefined]) candidates.push({ instance_type, sector, ssh_key });
      }
    }
    candidates.push({ instance_type: "gpu_1x_h100_sxm5", ssh_key: FAL_SSH, extra: true });
    let created = 0;
    for (const c of candidates) {
      const b = JSON.parse(JSON.stringify(c));
      const specValid = body(b);
      const sectorRule = b.sector === undefined || b.instance_type === "gpu_8x_h100_sxm5";
      const noExtra = !("extra" in b);
      const r = await t.call("fal", "POST", LIST, { body: b });
      const expectCreated = specValid && sectorRule && noExtra;
      assert.equal(r.status, expectCreated ? 201 : 400, JSON.stringify(b));
      conforms(api, LIST, "POST", r);
      if (r.status === 201) {
        created++;
        assert.ok(!("ip" in r.json));
        assert.ok(["pending", "provisioning"].includes(r.json.status));
      }
    }
    assert.equal(created, 4); // 8x with no/sector_1/sector_3, 1x without sector
    // with an idempotency key, and after the lifecycle
    const r = await t.call("fal", "POST", LIST, { body: { instance_type: "gpu_8x_h100_sxm5", ssh_key: FAL_SSH, sector: "sector_1" }, headers: { "Idempotency-Key": "550e8400-e29b-41d4-a716-446655440000" } });
    conforms(api, LIST, "POST", r);
    await t.advance(LIFECYCLE.fal.readyAfter);
    const ready = await t.call("fal", "GET", `/compute/instances/${r.json.id}`);
    conforms(api, ONE, "GET", ready);
    assert.equal(ready.json.status, "ready");
    conforms(api, LIST, "POST", await t.call("fal", "POST", LIST, { body: "{nope" }));
    conforms(api, LIST, "POST", await t.call("fal", "POST", LIST, { auth: false, body: {} }));
  });

  test("delete: 204 without a body, then 404", async () => {
    const [one] = await t.state("fal");
    conforms(api, ONE, "DELETE", await t.call("fal", "DELETE", `/compute/instances/${one.id}`));
    conforms(api, ONE, "DELETE", await t.call("fal", "DELETE", `/compute/instances/${one.id}`));
    conforms(api, ONE, "DELETE", await t.call("fal", "DELETE", `/compute/instances/${one.id}`, { auth: false }));
  });

  test("a hostile fleet still conforms", async () => {
    const h = await testSim({ instances: 100, hostile: true });
    try {
      const r = await h.call("fal", "GET", LIST, { query: { limit: 100 } });
      conforms(api, LIST, "GET", r);
    } finally {
      await h.close();
    }
  });
});

describe("conformance: SF Compute July shape against specs/" + SFC_SPEC, () => {
  let t;
  let api;
  const P = "/preview/v2/instances";
  const ONE = "/preview/v2/instances/{id}";
  before(async () => {
    api = openapi(readSpec(SFC_SPEC));
    t = await testSim({ instances: 1000, sfcShape: "july", hostile: true });
  });
  after(() => t?.close());

  test("the validators are live (they reject drift)", async () => {
    const [one] = await t.state("sfcompute");
    const v = api.component("InstanceResponse");
    check(v, one, "state item");
    const { pool, ...noPool } = one;
    assert.equal(v(noPool), false);
    assert.equal(v({ ...one, created_at: "yesterday" }), false);
    assert.equal(v({ ...one, instance_sku: { id: one.instance_sku.id, name: "x" } }), false);
    assert.equal(api.component("NotFoundError")({ error: { type: "conflict", message: "m" } }), false);
  });

  test("list: every page (with include and filters) → ListInstancesResponse; errors → their schemas", async () => {
    let cursor;
    let n = 0;
    do {
      const r = await t.call("sfcompute", "GET", "/instances", { query: { limit: 200, include: "cloud_init_user_data", ...(cursor ? { starting_after: cursor } : {}) } });
      conforms(api, P, "GET", r);
      check(api.param(P, "GET", "starting_after"), r.json.cursor ?? "nodec_x", "cursor pattern");
      n += r.json.data.length;
      cursor = r.json.cursor;
    } while (cursor);
    assert.equal(n, 1000);
    conforms(api, P, "GET", await t.call("sfcompute", "GET", "/instances", { query: { workspace: SIM_KEYS.sfcWorkspace, status: ["failed", "running"], tag_key: "env", limit: 7 } }));
    conforms(api, P, "GET", await t.call("sfcompute", "GET", "/instances", { auth: false }));
    conforms(api, P, "GET", await t.call("sfcompute", "GET", "/instances", { auth: `Bearer ${SIM_KEYS.sfcomputeForbidden}` }));
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["500"] });
    conforms(api, P, "GET", await t.call("sfcompute", "GET", "/instances"));
    await t.control("DELETE", "/faults");
  });

  test("list: limit follows the spec (1..200); 400s use BadRequestError", async () => {
    const limitSchema = api.param(P, "GET", "limit");
    for (const limit of [0, 1, 50, 200, 201, -1]) {
      const r = await t.call("sfcompute", "GET", "/instances", { query: { limit } });
      assert.equal(r.status === 200, limitSchema(limit), `limit=${limit}`);
      if (r.status === 400) check(api.component("BadRequestError"), r.json, `limit=${limit}`);
      else conforms(api, P, "GET", r);
    }
    const bad = await t.call("sfcompute", "GET", "/instances", { query: { starting_after: "cursor-without-prefix" } });
    assert.equal(api.param(P, "GET", "starting_after")("cursor-without-prefix"), false);
    assert.equal(bad.status, 400);
    check(api.component("BadRequestError"), bad.json, "bad cursor");
  });

  test("ids and resource paths match the spec's path parameter; get → InstanceResponse / NotFoundError", async () => {
    const idParam = (() => {
      const v = makeAjv().compile(api.op(ONE, "GET").parameters[0].schema);
      return v;
    })();
    const all = await t.state("sfcompute");
    for (const i of all.slice(0, 200)) {
      assert.ok(idParam(i.id), i.id);
      assert.ok(idParam(i.resource_path), i.resource_path);
    }
    conforms(api, ONE, "GET", await t.call("sfcompute", "GET", `/instances/${all[0].id}`));
    conforms(api, ONE, "GET", await t.call("sfcompute", "GET", `/instances/${encodeURIComponent(all[1].resource_path)}`));
    conforms(api, ONE, "GET", await t.call("sfcompute", "GET", "/instances/inst_nothere"));
    conforms(api, ONE, "GET", await t.call("sfcompute", "GET", "/instances/inst_nothere", { auth: false }));
  });

  test("create (July body) → 201 InstanceResponse; 404 capacity; 422 validation", async () => {
    const body = api.requestBody(P, "POST");
    const good = [
      { pool: "pool_h100sfprod01", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8ib0001" },
      { pool: "sfc:pool:simlab:fleet:h200-training", image: "sfc:image:simlab:fleet:pytorch-2.5-cuda-12.4", instance_sku: "isku_h200x8ib0003", name: "conf-1", tags: { env: "prod" }, priority_level: "preferred", _preview_enable_infiniband: true, cloud_init_user_data: Buffer.from("#cloud-config\n").toString("base64") },
      { pool: "pool_b200burst04", image: "image_debian12minimal", instance_sku: "isku_b200x8000004", enable_public_ipv4: true, firewall: "frwl_simdefault01", name: null, tags: null, priority_level: null },
    ];
    for (const b of good) {
      check(body, b, "request body is spec-valid");
      const r = await t.call("sfcompute", "POST", "/instances", { body: b });
      assert.equal(r.status, 201, r.text);
      conforms(api, P, "POST", r);
    }
    const invalid = [
      { pool: "pool_h100sfprod01", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8ib0001", name: "!!!" },
      { pool: "pool_h100sfprod01", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8ib0001", tags: { "a=b": "c" } },
      { pool: "pool_h100sfprod01", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8ib0001", priority_level: "highest" },
      { pool: "pool_h100sfprod01", instance_sku: "isku_h100x8ib0001" },
    ];
    for (const b of invalid) {
      assert.equal(body(b), false, `spec rejects ${JSON.stringify(b)}`);
      const r = await t.call("sfcompute", "POST", "/instances", { body: b });
      assert.equal(r.status, 422, JSON.stringify(b));
      conforms(api, P, "POST", r);
    }
    // JSON Schema patterns are unanchored, so the spec's Name pattern lets "bad name" through; the
    // sim applies the documented rule as a whole-string match ([a-zA-Z0-9][a-zA-Z0-9._-]{0,254})
    const spaced = { ...good[0], name: "bad name" };
    assert.equal(body(spaced), true);
    assert.equal((await t.call("sfcompute", "POST", "/instances", { body: spaced })).status, 422);
    const nf = await t.call("sfcompute", "POST", "/instances", { body: { pool: "pool_nope", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8ib0001" } });
    assert.equal(nf.status, 404);
    conforms(api, P, "POST", nf);
    conforms(api, P, "POST", await t.call("sfcompute", "POST", "/instances", { auth: false, body: good[0] }));
  });

  test("terminate → 200 then 404; delete → 409 / 204 / 404; ssh → InstanceSshInfo / 404", async () => {
    const c = await t.call("sfcompute", "POST", "/instances", { body: { pool: "pool_h100sfprod01", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8ib0001" } });
    const id = c.json.id;
    conforms(api, `${ONE}/ssh`, "GET", await t.call("sfcompute", "GET", `/instances/${id}/ssh`));
    await t.advance(LIFECYCLE.sfcompute.runningAfter);
    const ssh = await t.call("sfcompute", "GET", `/instances/${id}/ssh`);
    assert.equal(ssh.status, 200);
    conforms(api, `${ONE}/ssh`, "GET", ssh);
    const del409 = await t.call("sfcompute", "DELETE", `/instances/${id}`);
    assert.equal(del409.status, 409);
    conforms(api, ONE, "DELETE", del409);
    const term = await t.call("sfcompute", "POST", `/instances/${id}/terminate`);
    assert.equal(term.status, 200);
    conforms(api, `${ONE}/terminate`, "POST", term);
    conforms(api, `${ONE}/terminate`, "POST", await t.call("sfcompute", "POST", `/instances/${id}/terminate`));
    const del = await t.call("sfcompute", "DELETE", `/instances/${id}`);
    assert.equal(del.status, 204);
    conforms(api, ONE, "DELETE", del);
    conforms(api, ONE, "DELETE", await t.call("sfcompute", "DELETE", `/instances/${id}`));
  });

  test("PATCH /instances/{id} request and response follow the spec", async () => {
    const [one] = await t.state("sfcompute");
    const b = { tags: { team: "infra" }, priority_level: "yield" };
    check(api.requestBody(ONE, "PATCH"), b, "patch body");
    const r = await t.call("sfcompute", "PATCH", `/instances/${one.id}`, { body: b });
    assert.equal(r.status, 200);
    conforms(api, ONE, "PATCH", r);
    assert.equal(r.json.priority_level, "yield");
  });
});

describe("conformance: SF Compute seed shape against schemas/sfcompute-seed.schema.json", () => {
  let t;
  let v;
  before(async () => {
    readSpec(SFC_SPEC); // the shared folder must be there for the error schemas
    const ajv = makeAjv();
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SIM_DIR, "schemas", "sfcompute-seed.schema.json"), "utf8")));
    const id = "https://gpufleet.invalid/sim/schemas/sfcompute-seed.schema.json";
    v = { list: ajv.getSchema(`${id}#/$defs/ListInstancesResponse`), instance: ajv.getSchema(`${id}#/$defs/Instance`) };
    t = await testSim({ instances: 500, hostile: true });
  });
  after(() => t?.close());

  test("the derived schema is live (it rejects drift)", async () => {
    const [one] = await t.state("sfcompute");
    check(v.instance, one, "state item");
    assert.equal(v.instance({ ...one, pool: { id: "pool_x", name: "x" } }), false);
    const { priority, ...noPriority } = one;
    assert.equal(v.instance(noPriority), false);
  });

  test("list (with include), get, create, terminate responses", async () => {
    const api = openapi(readSpec(SFC_SPEC));
    let cursor;
    do {
      const r = await t.call("sfcompute", "GET", "/instances", { query: { workspace: SIM_KEYS.sfcWorkspace, limit: 200, include: "cloud_init_user_data", ...(cursor ? { starting_after: cursor } : {}) } });
      check(v.list, r.json, "seed list");
      cursor = r.json.cursor;
    } while (cursor);
    const [one] = await t.state("sfcompute");
    check(v.instance, (await t.call("sfcompute", "GET", `/instances/${one.id}`)).json, "get");
    const c = await t.call("sfcompute", "POST", "/instances", { body: { capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127", instance_sku: "isku_h100x8000002", priority: 5 } });
    assert.equal(c.status, 201);
    check(v.instance, c.json, "create");
    check(v.instance, (await t.call("sfcompute", "POST", `/instances/${c.json.id}/terminate`)).json, "terminate");
    // the seed-mode 422 (workspace required) uses the spec's UnprocessableEntityError
    const r422 = await t.call("sfcompute", "GET", "/instances");
    assert.equal(r422.status, 422);
    check(api.component("UnprocessableEntityError"), r422.json, "422");
  });
});

describe("conformance: Novita against schemas/novita-v1.schema.json (derived from seed 004)", () => {
  let t;
  let v;
  before(async () => {
    const ajv = makeAjv();
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SIM_DIR, "schemas", "novita-v1.schema.json"), "utf8")));
    const id = "https://gpufleet.invalid/sim/schemas/novita-v1.schema.json";
    v = { list: ajv.getSchema(`${id}#/$defs/ListResponse`), detail: ajv.getSchema(`${id}#/$defs/Detail`), error: ajv.getSchema(`${id}#/$defs/Error`) };
    t = await testSim({ instances: 400, hostile: true });
  });
  after(() => t?.close());

  test("the derived schema is live (it rejects drift)", async () => {
    const [one] = await t.state("novita");
    assert.equal(v.list({ instances: [one], total: 1 }), true);
    assert.equal(v.list({ instances: [{ ...one, cpuNum: 8 }], total: 1 }), false);
    assert.equal(v.list({ instances: [one] }), false);
  });

  test("list pages, details and errors", async () => {
    for (let page = 1; page <= 4; page++) check(v.list, (await t.call("novita", "GET", "/gpu/instances", { query: { pageSize: 100, pageNum: page } })).json, `page ${page}`);
    const all = await t.control("GET", "/state?provider=novita&detail=1");
    for (const d of all.json.instances) check(v.detail, d, d.id);
    const c = await t.call("novita", "POST", "/gpu/instance/create", { body: { productId: "prod-h100sxm-80g", gpuNum: 8, rootfsSize: 500, imageUrl: "vllm/vllm-openai:v0.6.4", kind: "gpu", ports: "8000/http", tools: [{ name: "Jupyter", port: "8888", type: "http" }] } });
    await t.advance(60_000);
    check(v.detail, (await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: c.json.id } })).json, "created");
    for (const r of [
      await t.call("novita", "GET", "/gpu/instances", { auth: false }),
      await t.call("novita", "GET", "/gpu/instances", { query: { pageNum: 1 } }),
      await t.call("novita", "GET", "/gpu/instance", { query: { instanceId: "zzz" } }),
    ]) check(v.error, r.json, String(r.status));
  });
});

// Money endpoints: no spec extract in ../shared/specs covers them, so the shapes are validated
// against schemas derived by hand from the providers' docs (see each schema's $comment).
function derived(...files) {
  const ajv = makeAjv();
  for (const f of files) ajv.addSchema(JSON.parse(fs.readFileSync(path.join(SIM_DIR, "schemas", f), "utf8")));
  return (file, def) => {
    const v = ajv.getSchema(`https://gpufleet.invalid/sim/schemas/${file}#/$defs/${def}`);
    assert.ok(v, `${file} has no $defs/${def}`);
    return v;
  };
}

describe("conformance: money — Novita against schemas/novita-money.schema.json", () => {
  let t;
  let s;
  const BAL = "/openapi/v1/billing/balance/detail";
  const BILLS = "/openapi/v1/billing/bill/list";
  before(async () => {
    s = derived("novita-v1.schema.json", "novita-money.schema.json");
    t = await testSim({ instances: 300 });
  });
  after(() => t?.close());
  const M = "novita-money.schema.json";

  test("the derived schema is live (it rejects drift)", async () => {
    const { data } = (await t.call("novita", "GET", "/products")).json;
    const v = s(M, "ProductsResponse");
    check(v, { data }, "products");
    assert.equal(v({ data: [{ ...data[0], price: "249000" }] }), false);
    assert.equal(v({ data: [{ ...data[0], spotPrice: 1 }] }), false);
    assert.equal(v({ data: [{ ...data[0], extra: 1 }] }), false);
    assert.equal(s(M, "Balance")({ availableBalance: 1, cashBalance: "1", creditLimit: "0", outstandingInvoices: "0" }), false);
    assert.equal(s(M, "BillsResponse")({ data: [] }), false);
  });

  test("products (every filter), balance, bills (every cycle, summary) and their errors", async () => {
    const v = s(M, "ProductsResponse");
    for (const query of [{}, { billingMethod: "spot" }, { clusterId: "cls-eu-nl-01" }, { gpuNum: 8, minMemoryPerGpu: 100, minCpuPerGpu: 8, minRootFSSize: 100, productName: "a" }]) {
      check(v, (await t.call("novita", "GET", "/products", { query })).json, JSON.stringify(query));
    }
    await t.advance(3 * 3_600_000 + 1234);
    check(s(M, "Balance"), (await t.call("novita", "GET", BAL, { root: true })).json, "balance");
    const now = Math.floor((await t.control("GET", "/clock")).json.now / 1000);
    const [one] = await t.state("novita");
    for (const cycleType of ["Hour", "Day", "Week", "Month"]) {
      for (const productCategory of ["gpu", "summary", "llm"]) {
        const r = await t.call("novita", "GET", BILLS, { root: true, query: { cycleType, productCategory, startTime: now - 31 * 86_400, endTime: now } });
        assert.equal(r.status, 200, r.text);
        check(s(M, "BillsResponse"), r.json, `${cycleType} ${productCategory}`);
        if (productCategory !== "llm" && cycleType === "Hour") assert.ok(r.json.bills.length > 0);
      }
    }
    check(s(M, "BillsResponse"), (await t.call("novita", "GET", BILLS, { root: true, query: { cycleType: "Hour", productCategory: "gpu", startTime: now - 86_400, endTime: now, ownerId: one.id } })).json, "one owner");
    const err = s("novita-v1.schema.json", "Error");
    for (const r of [
      await t.call("novita", "GET", "/products", { query: { gpuNum: 10 } }),
      await t.call("novita", "GET", BAL, { root: true, auth: false }),
      await t.call("novita", "GET", BAL, { root: true, auth: `Bearer ${SIM_KEYS.novitaForbidden}` }),
      await t.call("novita", "GET", BILLS, { root: true, query: { cycleType: "Hour" } }),
    ]) check(err, r.json, `${r.status} ${r.text}`);
    for (const kind of ["429", "500"]) {
      await t.control("POST", "/faults", { provider: "novita", kinds: [kind] });
      check(err, (await t.call("novita", "GET", "/products")).json, kind);
      check(err, (await t.call("novita", "GET", BAL, { root: true })).json, kind);
      await t.control("DELETE", "/faults");
    }
  });
});

describe("conformance: money — fal account billing against schemas/fal-account-billing.schema.json", () => {
  let t;
  let s;
  const F = "fal-account-billing.schema.json";
  before(async () => {
    s = derived(F);
    t = await testSim({ instances: 50 });
  });
  after(() => t?.close());

  test("the derived schema is live (it rejects drift)", () => {
    const v = s(F, "AccountBilling");
    assert.equal(v({ username: "u", credits: { current_balance: 1, currency: "USD" } }), true);
    assert.equal(v({ username: "u", credits: { current_balance: "1", currency: "USD" } }), false);
    assert.equal(v({ username: "u", credits: { current_balance: -1, currency: "USD" } }), false);
    assert.equal(v({ credits: { current_balance: 1, currency: "USD" } }), false);
  });

  test("200 with and without credits, at the epoch, later and drained; 400, 401, 403, 429, 500 error bodies", async () => {
    const v = s(F, "AccountBilling");
    check(v, (await t.call("fal", "GET", "/account/billing")).json, "no expand");
    for (const hours of [0, 2, 200]) {
      await t.advance(hours * 3_600_000);
      check(v, (await t.call("fal", "GET", "/account/billing", { query: { expand: "credits" } })).json, `${hours} h`);
    }
    const err = s(F, "Error");
    for (const r of [
      await t.call("fal", "GET", "/account/billing", { query: { expand: "nope" } }),
      await t.call("fal", "GET", "/account/billing", { auth: false }),
      await t.call("fal", "GET", "/account/billing", { auth: `Key ${SIM_KEYS.falForbidden}` }),
    ]) check(err, r.json, `${r.status}`);
    for (const kind of ["429", "500"]) {
      await t.control("POST", "/faults", { provider: "fal", kinds: [kind] });
      const r = await t.call("fal", "GET", "/account/billing", { query: { expand: "credits" } });
      assert.equal(r.status, Number(kind));
      check(err, r.json, kind);
      await t.control("DELETE", "/faults");
    }
  });
});

describe("conformance: money — SF Compute quote and balances against schemas/sfcompute-money.schema.json", () => {
  let t;
  let s;
  const F = "sfcompute-money.schema.json";
  const start = Date.parse("2026-11-01T01:00:00Z") / 1000;
  before(async () => {
    s = derived(F);
    t = await testSim({ instances: 100 });
  });
  after(() => t?.close());

  test("the derived schema is live (it rejects drift)", async () => {
    const v = s(F, "OrderbookQuoteResponse");
    const q = (await t.call("sfcompute", "GET", "/orderbook/quote", { query: { start_at: start, end_at: start + 3600 } })).json;
    check(v, q, "quote");
    assert.equal(v({ ...q, best_ask: { ...q.best_ask, dollars_per_node_hour: 14 } }), false);
    assert.equal(v({ ...q, best_ask: { ...q.best_ask, dollars_per_node_hour: "14" } }), false);
    const { requested_at, ...noRequestedAt } = q;
    assert.equal(v(noRequestedAt), false);
    assert.equal(s(F, "BalanceV0")({ object: "balance", available_cents: 1 }), false);
  });

  test("quotes for every SKU and requirement form, balances v0 / v1 over time, and the error bodies", async () => {
    const v = s(F, "OrderbookQuoteResponse");
    for (const requirements of [undefined, "accelerator:H100", "accelerator:eq:B200", "instance_sku:isku_b200x8000004", "instance_sku:isku_h200x8ib0003", "instance_sku:clus_h100x8000002;accelerator:H100"]) {
      const r = await t.call("sfcompute", "GET", "/orderbook/quote", { query: { ...(requirements ? { requirements } : {}), start_at: start, end_at: start + 7200 } });
      assert.equal(r.status, 200, r.text);
      check(v, r.json, String(requirements));
    }
    for (const hours of [0, 5, 500]) {
      await t.advance(hours * 3_600_000);
      check(s(F, "BalanceV0"), (await t.call("sfcompute", "GET", "/v0/balance", { root: true })).json, `v0 ${hours} h`);
      check(s(F, "BalancesV1"), (await t.call("sfcompute", "GET", "/v1/balances", { root: true })).json, `v1 ${hours} h`);
    }
    const r422 = await t.call("sfcompute", "GET", "/orderbook/quote", { query: { requirements: "instance_sku:isku_nothere" } });
    assert.equal(r422.status, 422);
    check(s(F, "UnprocessableEntityError"), r422.json, "422");
    check(s(F, "UnauthorizedError"), (await t.call("sfcompute", "GET", "/orderbook/quote", { auth: false })).json, "401 quote");
    check(s(F, "UnauthorizedError"), (await t.call("sfcompute", "GET", "/v0/balance", { root: true, auth: "Bearer x" })).json, "401 balance");
    await t.control("POST", "/faults", { provider: "sfcompute", kinds: ["500"] });
    check(s(F, "InternalServerError"), (await t.call("sfcompute", "GET", "/orderbook/quote", { query: { start_at: start, end_at: start + 60 } })).json, "500");
    check(s(F, "InternalServerError"), (await t.call("sfcompute", "GET", "/v1/balances", { root: true })).json, "500");
    await t.control("DELETE", "/faults");
  });
});
