// Deadlines beyond their own routes, in real workerd on real D1 (Miniflare) against the simulated
// clouds: a deadline given in the create call (stored, echoed, logged, fired by scheduled()), a bad
// one creating nothing, deadlines on list and get answers, SF Compute's `gpufleet-deadline` tag
// (there after a set, gone after a clear, the other tags kept), a failed mirror that still sets the
// deadline, a D1 that cannot store the deadline after the create (the instance comes back all the
// same), and a proxy without D1 refusing a create with a deadline before creating.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "./harness.mjs";

let h;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const state = async (harness, p) => (await (await fetch(`${harness.sim.url}/__sim/state?provider=${p}`)).json()).instances;
const json = (token, method, body) => ({
  method,
  headers: { ...h.auth(token), "content-type": "application/json" },
  body: JSON.stringify(body),
});
const deadlinePath = (p, id) => `/api/v1/${p}/instances/${encodeURIComponent(id)}/deadline`;
const TAG = "gpufleet-deadline";
const NOVITA_INPUT = { name: "echo", productId: "novita-prod-a100-80g", gpuNum: 1, rootfsSize: 20, imageUrl: "nginx:latest" };
const SFC_INPUT = { name: "echo-sfc", capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127", tags: { team: "ml" } };

async function rows() {
  const audit = (await h.proxy.db.prepare("SELECT * FROM audit ORDER BY seq").all()).results;
  const deadlines = (await h.proxy.db.prepare("SELECT * FROM deadlines ORDER BY provider, instance_id").all()).results;
  return { audit, deadlines };
}

async function auditOf(id) {
  const r = await h.fetch(`/api/v1/audit?instance=${encodeURIComponent(id)}&limit=100`, { headers: h.auth() });
  assert.equal(r.status, 200, r.text);
  return r.json.entries;
}

/** A create input the simulated SF Compute accepts: one of its capacities and images. */
async function sfcInput() {
  const any = (await state(h, "sfcompute"))[0];
  return { ...SFC_INPUT, capacity: any.capacity.id, image: any.image.id };
}

/** A Novita product id the simulator sells. */
async function novitaInput() {
  const any = (await state(h, "novita"))[0];
  return { ...NOVITA_INPUT, productId: any.productId };
}

test("a create with a deadline: stored, echoed, logged beside the create, and fired by the cron", async () => {
  await h.clearUpstream();
  const r = await h.fetch("/api/v1/novita/instances", json(h.token, "POST", { ...(await novitaInput()), deadline: { after: 1_500, action: "delete" } }));
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  assert.equal(r.headers.get("x-gpufleet-deadline"), null);
  assert.equal(r.json.deadline.instanceId, id);
  assert.equal(r.json.deadline.action, "delete");
  assert.equal(r.json.deadline.state, "pending");
  assert.equal(r.json.deadline.setBy, "token");
  assert.ok(Math.abs(r.json.deadline.atMs - (Date.now() + 1_500)) < 5_000, `atMs ${r.json.deadline.atMs}`);
  assert.equal(r.json.deadlineMirror, undefined, "Novita has no tags");
  const created = (await h.upstream()).find((c) => c.method === "POST" && c.path.endsWith("/gpu/instance/create"));
  assert.ok(created, "the create went upstream");
  assert.equal(JSON.parse(created.body ?? "{}").deadline, undefined, "without the deadline");

  const { deadlines } = await rows();
  const row = deadlines.find((d) => d.instance_id === id);
  assert.ok(row, "one D1 row for the new instance");
  assert.equal(row.at_ms, r.json.deadline.atMs);
  const entries = await auditOf(id);
  assert.deepEqual(entries.map((e) => e.action).reverse(), ["create", "deadline.set"], "the create, then its deadline");
  assert.ok(entries.every((e) => e.requestId === r.headers.get("x-request-id") && e.caller === "token"));

  await sleep(Math.max(0, r.json.deadline.atMs - Date.now()) + 200);
  await h.clearUpstream();
  await h.proxy.scheduled();
  const deletes = (await h.upstream()).filter((c) => c.method === "POST" && c.path.endsWith("/gpu/instance/delete"));
  assert.equal(deletes.length, 1, "the cron deleted it");
  assert.equal(JSON.parse(deletes[0].body).instanceId, id);
  const now = (await state(h, "novita")).find((i) => i.id === id);
  assert.ok(!now || ["toRemove", "removing", "removed"].includes(now.status), `on its way out: ${now?.status}`);
  const fired = await h.fetch(`/api/v1/deadlines`, { headers: h.auth() });
  assert.equal(fired.json.deadlines.find((d) => d.instanceId === id).state, "done");
  assert.equal((await auditOf(id))[0].action, "deadline.fired");
});

test("a create with a bad deadline changes nothing: no instance, no audit entry, no request upstream", async () => {
  const input = await sfcInput();
  const before = { fal: (await state(h, "fal")).length, sfcompute: (await state(h, "sfcompute")).length, rows: await rows() };
  await h.clearUpstream();
  for (const [provider, body, field] of [
    ["sfcompute", { ...input, deadline: { at: Date.now() - 60_000 } }, "deadline.at"],
    ["sfcompute", { ...input, deadline: { after: 60_000, action: "stop" } }, "deadline.action"],
    ["sfcompute", { ...input, deadline: { after: 60_000, when: "soon" } }, "deadline"],
    ["sfcompute", { ...input, deadline: {} }, "deadline.at"],
    ["fal", { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 echo", deadline: { after: 1.5 } }, "deadline.after"],
  ]) {
    const r = await h.fetch(`/api/v1/${provider}/instances`, json(h.token, "POST", body));
    assert.equal(r.status, 400, `${JSON.stringify(body.deadline)}: ${r.text}`);
    assert.equal(r.json.error.code, "invalidInput");
    assert.equal(r.json.error.field, field, r.text);
  }
  assert.deepEqual(await h.upstream(), [], "nothing sent upstream");
  assert.equal((await state(h, "fal")).length, before.fal);
  assert.equal((await state(h, "sfcompute")).length, before.sfcompute);
  assert.deepEqual(await rows(), before.rows, "no audit entry, no deadline");
});

test("list and get answers carry each instance's deadline: pending, fired, and none", async () => {
  const [a, b, c] = (await state(h, "sfcompute")).filter((i) => i.status === "running");
  assert.ok(a && b && c, "three running SF Compute instances");
  assert.equal((await h.fetch(deadlinePath("sfcompute", a.id), json(h.token, "PUT", { after: 3_600_000 }))).status, 200);
  assert.equal((await h.fetch(deadlinePath("sfcompute", b.id), json(h.token, "PUT", { after: 1_000 }))).status, 200);
  await sleep(1_200);
  await h.proxy.scheduled();
  assert.equal((await state(h, "sfcompute")).find((i) => i.id === b.id).status, "terminated", "b's deadline fired");

  const byId = (list) => new Map(list.map((i) => [i.id, i]));
  const fleet = await h.fetch("/api/v1/instances?provider=sfcompute", { headers: h.auth(h.readOnlyToken) });
  const page = await h.fetch("/api/v1/sfcompute/instances?limit=200", { headers: h.auth(h.readOnlyToken) });
  for (const [what, r, list] of [["fleet", fleet, fleet.json?.instances], ["page", page, page.json?.items]]) {
    assert.equal(r.status, 200, `${what}: ${r.text}`);
    assert.equal(r.headers.get("x-gpufleet-deadlines"), null);
    const m = byId(list);
    assert.equal(m.get(a.id).deadline.state, "pending", what);
    assert.equal(m.get(a.id).deadline.action, "terminate", what);
    assert.equal(m.get(a.id).deadline.attempts, 0, what);
    assert.equal(m.get(b.id).deadline.state, "done", what);
    assert.ok(m.get(b.id).deadline.firedAtMs >= m.get(b.id).deadline.atMs, what);
    assert.equal(m.get(c.id).deadline, undefined, `${what}: no deadline, no field`);
    assert.equal(m.get(c.id).raw.id, c.id, `${what}: raw still spliced in`);
  }
  const one = await h.fetch(`/api/v1/sfcompute/instances/${a.id}`, { headers: h.auth(h.readOnlyToken) });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.deadline.state, "pending");
  assert.equal(one.json.deadline.instanceId, a.id);
  const none = await h.fetch(`/api/v1/sfcompute/instances/${c.id}`, { headers: h.auth() });
  assert.equal(none.json.deadline, undefined);
  assert.equal((await h.fetch(deadlinePath("sfcompute", a.id), { method: "DELETE", headers: h.auth() })).status, 200);
});

test("SF Compute: the deadline is in the instance's gpufleet-deadline tag after a set and gone after a clear; other tags stay", async () => {
  const input = await sfcInput();
  const made = await h.fetch("/api/v1/sfcompute/instances", json(h.token, "POST", { ...input, deadline: { at: "2099-01-01T00:00:00Z" } }));
  assert.equal(made.status, 400, "more than a year away");
  const at = new Date(Date.now() + 7_200_000);
  at.setUTCMilliseconds(0);
  const r = await h.fetch("/api/v1/sfcompute/instances", json(h.token, "POST", { ...input, deadline: { at: at.toISOString() } }));
  assert.equal(r.status, 201, r.text);
  const id = r.json.id;
  const value = `${at.toISOString().replace(".000Z", "Z")} terminate`;
  assert.deepEqual(r.json.deadlineMirror, { tag: TAG, value, ok: true });
  assert.deepEqual(r.json.tags, { team: "ml", [TAG]: value }, "the answer is the tagged instance");
  const tagsOf = async () => (await state(h, "sfcompute")).find((i) => i.id === id).tags;
  assert.deepEqual(await tagsOf(), { team: "ml", [TAG]: value });

  // Changed over the API: the tag follows.
  const later = await h.fetch(deadlinePath("sfcompute", id), json(h.token, "PUT", { after: 3_600_000, action: "delete" }));
  assert.equal(later.status, 200, later.text);
  assert.equal(later.json.mirror.ok, true);
  assert.match((await tagsOf())[TAG], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z delete$/);
  assert.equal((await tagsOf()).team, "ml");

  const cleared = await h.fetch(deadlinePath("sfcompute", id), { method: "DELETE", headers: h.auth() });
  assert.equal(cleared.status, 200, cleared.text);
  assert.deepEqual(cleared.json.mirror, { tag: TAG, ok: true });
  assert.deepEqual(await tagsOf(), { team: "ml" }, "the tag is gone, the others stay");
  const entries = await auditOf(id);
  assert.deepEqual(entries.map((e) => e.action).reverse(), ["create", "deadline.set", "deadline.changed", "deadline.cleared"]);
  assert.match(entries[0].detail, /tag gpufleet-deadline removed$/);
  assert.match(entries[2].detail, /tag gpufleet-deadline written$/);
});

test("a mirror that fails still sets the deadline; the answer and the audit entry say so", async () => {
  const target = (await state(h, "sfcompute")).find((i) => i.status === "running" && !(TAG in (i.tags ?? {})));
  await h.simPost("/faults", { provider: "sfcompute", kinds: ["500"], methods: ["PATCH"] });
  try {
    const r = await h.fetch(deadlinePath("sfcompute", target.id), json(h.token, "PUT", { after: 3_600_000 }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.deadline.state, "pending");
    assert.equal(r.json.mirror.ok, false);
    assert.equal(r.json.mirror.error.code, "server");
    assert.equal(r.json.mirror.error.status, 500);
  } finally {
    await h.simDelete("/faults");
  }
  const { deadlines } = await rows();
  assert.ok(deadlines.some((d) => d.instance_id === target.id && d.state === "pending"), "the deadline is kept");
  assert.equal(((await state(h, "sfcompute")).find((i) => i.id === target.id).tags ?? {})[TAG], undefined, "no tag was written");
  const [entry] = await auditOf(target.id);
  assert.equal(entry.action, "deadline.set");
  assert.equal(entry.outcome.kind, "ok");
  assert.match(entry.detail, /tag gpufleet-deadline not written: /);
  // Cleared once the cloud is back: the deadline goes; there was no tag to remove.
  const cleared = await h.fetch(deadlinePath("sfcompute", target.id), { method: "DELETE", headers: h.auth() });
  assert.equal(cleared.json.mirror.ok, true);
});

test("D1 failing to store the deadline after the create: the instance comes back, marked, and is not lost", async () => {
  const broken = await startHarness({ sim: { instances: 2 } });
  try {
    await broken.proxy.db.prepare("DROP TABLE deadlines").run();
    const any = (await state(broken, "sfcompute"))[0];
    const input = { ...SFC_INPUT, capacity: any.capacity.id, image: any.image.id };
    const r = await broken.fetch("/api/v1/sfcompute/instances", {
      method: "POST",
      headers: { ...broken.auth(), "content-type": "application/json" },
      body: JSON.stringify({ ...input, deadline: { after: 60_000 } }),
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("x-gpufleet-deadline"), "failed");
    assert.equal(r.json.deadline, undefined);
    assert.equal(r.json.deadlineError.code, "server");
    assert.match(r.json.deadlineError.message, /was created/);
    assert.ok((await state(broken, "sfcompute")).some((i) => i.id === r.json.id), "the instance exists");
    assert.equal(r.json.tags?.[TAG], undefined, "no tag for a deadline that is not kept");
    // Listings still answer, marked, without deadlines.
    const list = await broken.fetch("/api/v1/sfcompute/instances", { headers: broken.auth() });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.headers.get("x-gpufleet-deadlines"), "failed");
  } finally {
    await broken.close();
  }
});

test("without D1 a create with a deadline is refused before creating; without one it works", async () => {
  const bare = await startHarness({ d1: false, sim: { instances: 2 } });
  try {
    const any = (await state(bare, "sfcompute"))[0];
    const input = { ...SFC_INPUT, capacity: any.capacity.id, image: any.image.id };
    const before = (await state(bare, "sfcompute")).length;
    const post = (body) => bare.fetch("/api/v1/sfcompute/instances", { method: "POST", headers: { ...bare.auth(), "content-type": "application/json" }, body: JSON.stringify(body) });
    const r = await post({ ...input, deadline: { after: 60_000 } });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, "unsupported");
    assert.match(r.json.error.message, /D1/);
    assert.equal((await state(bare, "sfcompute")).length, before, "nothing created");
    const plain = await post(input);
    assert.equal(plain.status, 201, plain.text);
    assert.equal(plain.json.deadline, undefined);
    const list = await bare.fetch("/api/v1/sfcompute/instances", { headers: bare.auth() });
    assert.ok(list.json.items.every((i) => i.deadline === undefined));
  } finally {
    await bare.close();
  }
});
