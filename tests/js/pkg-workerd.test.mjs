// The packed package in workerd (Miniflare 4): a module Worker that imports the file the exports
// map's "workerd" condition names (the .wasm as a CompiledWasm module, as wrangler bundles it) and
// runs the scenario when fetched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { ensureScratch, installedManifest, sim } from "./helpers.mjs";

let s;
let scratch;
let mf;
before(async () => {
  scratch = ensureScratch();
  s = await sim();
});
after(async () => {
  await mf?.dispose();
  await s?.close();
});

test("scenario in workerd", async () => {
  assert.equal(installedManifest().exports["."].workerd, "./workerd.js", "worker-entry.mjs imports this file");
  mf = new Miniflare({
    modules: true,
    modulesRoot: scratch,
    scriptPath: join(scratch, "worker-entry.mjs"),
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-26",
    cf: false,
  });
  const res = await mf.dispatchFetch(`http://worker.test/?sim=${encodeURIComponent(s.url)}`);
  const report = await res.json();
  assert.equal(res.status, 200, report.error);
  assert.equal(report.ok, true);
  assert.equal(report.runtime, "workerd");
});
