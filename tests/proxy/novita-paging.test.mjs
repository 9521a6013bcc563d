// The proxy's Novita listings in workerd against every Novita paging mode of the simulator: the
// fleet route and one page at a time through nextCursor are exactly the simulator's true set,
// each id once, with no request past the last page.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "./harness.mjs";
import { NOVITA_PAGING_MODES } from "../sim/defaults.mjs";

let h;
before(async () => {
  h = await startHarness({ sim: { instances: 45 } });
});
after(() => h?.close());

const pageNumbers = (log) =>
  log.filter((e) => e.provider === "novita").map((e) => Number(new URLSearchParams(e.query).get("pageNum")));

for (const mode of NOVITA_PAGING_MODES) {
  for (const n of [45, 230]) {
    test(`novita paging "${mode}", ${n} instances: /api/v1/instances and nextCursor pages are exact`, async () => {
      await h.simPost("/reset", { novitaPaging: mode, instances: n, seed: 7, speed: 0 });
      const truth = (await (await fetch(`${h.sim.url}/__sim/state?provider=novita`)).json()).instances.map((i) => i.id);
      assert.equal(truth.length, n);
      const served = mode.includes(":") ? Number(mode.split(":")[1]) : 100;
      const lastPage = (mode.startsWith("zero") ? 0 : 1) + Math.ceil(n / served) - 1;

      await h.clearUpstream();
      const all = await h.fetch("/api/v1/instances?provider=novita", { headers: h.auth() });
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(all.json.errors, []);
      const ids = all.json.instances.map((i) => i.id);
      assert.equal(new Set(ids).size, ids.length, "each id once");
      assert.deepEqual([...ids].sort(), [...truth].sort());
      const pages = pageNumbers(await h.upstream());
      assert.ok(pages.every((p) => p <= lastPage), `nothing past page ${lastPage}: ${pages}`);

      // One page at a time: the cursor carries what the proxy learned, so every request
      // (each a fresh upstream client in the Worker) continues exactly.
      const seen = [];
      let cursor;
      for (let i = 0; i < 50; i++) {
        const q = new URLSearchParams({ limit: "100" });
        if (cursor) q.set("cursor", cursor);
        const page = await h.fetch(`/api/v1/novita/instances?${q}`, { headers: h.auth() });
        assert.equal(page.status, 200, page.text);
        seen.push(...page.json.items.map((i) => i.id));
        assert.equal(page.json.hasMore, page.json.nextCursor !== undefined && page.json.nextCursor !== null);
        if (!page.json.hasMore) break;
        assert.ok(seen.length < n, "hasMore after every instance");
        cursor = page.json.nextCursor;
      }
      assert.equal(new Set(seen).size, seen.length, "each id once");
      assert.deepEqual([...seen].sort(), [...truth].sort());
    });
  }
}

test("a missing Novita instance (400 RESOURCE_NOT_FOUND upstream) is a 404 notFound, and its delete is already gone", async () => {
  await h.simPost("/reset", { novitaPaging: "one", instances: 3, seed: 7, speed: 0 });
  const get = await h.fetch("/api/v1/novita/instances/nosuchinstance01", { headers: h.auth() });
  assert.equal(get.status, 404, get.text);
  assert.equal(get.json.error.code, "notFound");
  assert.equal(get.json.error.providerType, "RESOURCE_NOT_FOUND");
  const del = await h.fetch("/api/v1/novita/instances/nosuchinstance01", { method: "DELETE", headers: h.auth() });
  assert.equal(del.status, 200, del.text);
  assert.equal(del.json.alreadyGone, true);
  const stop = await h.fetch("/api/v1/novita/instances/nosuchinstance01/stop", { method: "POST", headers: h.auth() });
  assert.equal(stop.status, 404, stop.text);
});
