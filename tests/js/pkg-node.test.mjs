// The packed package in Node (exports condition "node"): the shared scenario, plus checks that
// every entry point exports what the wasm-bindgen module does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureScratch, installedManifest, sim } from "./helpers.mjs";
import { NOVITA_PAGING_MODES } from "../sim/defaults.mjs";
import { simControl } from "../sim/control-client.mjs";

let s;
let scratch;
before(async () => {
  scratch = ensureScratch();
  s = await sim();
});
after(() => s?.close());

test(`scenario in Node ${process.version}`, async () => {
  const { gpufleet } = await import(pathToFileURL(join(scratch, "node-entry.mjs")).href);
  const { runScenario } = await import(pathToFileURL(join(scratch, "scenario.mjs")).href);
  const report = await runScenario({ gpufleet, simUrl: s.url, runtime: `node ${process.version}` });
  assert.equal(report.ok, true);
});

test("every entry point re-exports the whole API as its own bindings", async () => {
  const dir = join(scratch, "node_modules/gpufleet");
  const web = await import(pathToFileURL(join(dir, "gpufleet.js")).href);
  const names = Object.keys(web).filter((k) => k !== "default").sort();
  assert.ok(names.includes("Fleet") && names.includes("isGpufleetError"), names.join());
  const exportsMap = installedManifest().exports["."];
  const entries = new Set(Object.entries(exportsMap).filter(([k]) => k !== "types").map(([, v]) => v));
  for (const entry of entries) {
    const src = readFileSync(join(dir, entry), "utf8");
    // `export const X = …` (not `export *`): a bundler honouring "sideEffects": false cannot
    // then bypass the entry and with it the wasm initialization.
    const own = [...src.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    assert.deepEqual(own.sort(), names, `${entry} exports every name of gpufleet.js as its own binding`);
    assert.match(src, /export default init/, `${entry} has a default export`);
    assert.match(src, /export \{ init \}/, `${entry} exports init`);
  }
  assert.equal(exportsMap.workerd, "./workerd.js");
  assert.equal(exportsMap.node, "./node.js");
  assert.equal(exportsMap.deno, "./node.js");
  assert.equal(exportsMap.bun, "./node.js");
  assert.equal(exportsMap.browser, "./index.js");
});

test("the installed package has its files and metadata", () => {
  const m = installedManifest();
  assert.equal(m.name, "gpufleet");
  assert.equal(m.type, "module");
  assert.equal(m.sideEffects, false);
  assert.match(m.version, /^\d+\.\d+\.\d+/);
  const cargo = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8");
  assert.equal(m.version, /^version\s*=\s*"([^"]+)"/m.exec(cargo)[1], "version stamped from Cargo.toml");
  const dir = join(scratch, "node_modules/gpufleet");
  for (const f of ["index.js", "index.d.ts", "node.js", "workerd.js", "gpufleet.js", "gpufleet.d.ts", "gpufleet_bg.wasm", "README.md"]) {
    assert.ok(readFileSync(join(dir, f)).length > 0, f);
  }
  const dts = readFileSync(join(dir, "gpufleet.d.ts"), "utf8");
  for (const t of ["interface Instance", "interface GpufleetError extends Error", "type Provider", "interface FleetConfig", "listPage<P extends Provider>"]) {
    assert.ok(dts.includes(t), `the .d.ts declares ${t}`);
  }
});

test("Novita listings are exact in every paging mode: instances(), listAll(), listPage + nextCursor", async () => {
  const { gpufleet } = await import(pathToFileURL(join(scratch, "node-entry.mjs")).href);
  const baseUrl = `${s.url}/novita/gpu-instance/openapi/v1`;
  for (const mode of NOVITA_PAGING_MODES) {
    await simControl(s.url, "POST", "/reset", { novitaPaging: mode, instances: 45, seed: 11, speed: 0 });
    const truth = (await simControl(s.url, "GET", "/state?provider=novita")).instances.map((i) => i.id).sort();
    const exact = (ids, how) => {
      assert.equal(new Set(ids).size, ids.length, `${mode} ${how}: each id once`);
      assert.deepEqual([...ids].sort(), truth, `${mode} ${how}`);
    };
    // A new Fleet per mode: it learns the numbering once and keeps it.
    const fleet = new gpufleet.Fleet({ novita: { apiKey: "sim-novita-key", baseUrl } });
    const listed = await fleet.listAll();
    assert.deepEqual(listed.errors, [], mode);
    exact(listed.instances.map((i) => i.id), "listAll");
    const iterated = [];
    for await (const inst of fleet.instances({ providers: ["novita"] })) iterated.push(inst.id);
    exact(iterated, "instances()");
    const paged = [];
    let cursor;
    for (let i = 0; i < 20; i++) {
      const page = await fleet.listPage("novita", cursor === undefined ? { limit: 100 } : { limit: 100, cursor });
      paged.push(...page.items.map((x) => x.id));
      assert.equal(page.hasMore, page.nextCursor !== undefined, `${mode}: hasMore and nextCursor agree`);
      if (!page.hasMore) break;
      cursor = page.nextCursor;
    }
    exact(paged, "listPage + nextCursor");
    fleet.free();
  }
});
