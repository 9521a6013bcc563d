// The packed package in Node (exports condition "node"): the shared scenario as a command (see
// RUNTIMES.node in runtime-scenario.mjs), plus what only Node checks: every entry point exports
// what the wasm-bindgen module does, the installed files and metadata, Novita's paging modes and
// redirects against loopback servers (the package imported in this process).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureScratch, installedManifest, sim } from "./helpers.mjs";
import { scenarioTest } from "./runtime-scenario.mjs";
import { NOVITA_PAGING_MODES } from "../sim/defaults.mjs";
import { simControl } from "../sim/control-client.mjs";

scenarioTest("node");

let s;
let scratch;
before(async () => {
  scratch = ensureScratch();
  s = await sim();
});
after(() => s?.close());

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

// ----- redirects and base URLs (issue #13, point 5) -------------------------------------------

/** A loopback server; `handler(req, body)` answers. Records every request it gets. */
async function loopbackServer(handler) {
  const { createServer } = await import("node:http");
  const hits = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      hits.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    hits,
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

const NOVITA_CREATE = {
  name: "redirect-test", productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, kind: "gpu",
  imageUrl: "registry.example.com/private/image:1", imageAuth: "robot:registry-password-7f3a",
};

test("no request follows a provider's redirect (301, 302, 307, 308): one request, a coded error, nothing sent to the target", async () => {
  const { gpufleet } = await import(pathToFileURL(join(scratch, "node-entry.mjs")).href);
  const target = await loopbackServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"code":0,"instances":[{"id":"from-the-other-host"}],"total":1}');
  });
  let status = 307;
  const redirector = await loopbackServer((req, res) => {
    res.writeHead(status, { location: `${target.origin}/collect?token=abc123&page=2`, "content-type": "application/json" });
    res.end('{"code":0,"instances":[{"id":"from-the-redirect-body"}],"total":1}');
  });
  try {
    const fleet = new gpufleet.Fleet({
      novita: { apiKey: "novita-key-redirect-test", baseUrl: `${redirector.origin}/novita/v1` },
      retries: { max: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    for (status of [301, 302, 307, 308]) {
      for (const [what, call] of [["list", () => fleet.listPage("novita")], ["create", () => fleet.create("novita", NOVITA_CREATE)]]) {
        redirector.hits.length = 0;
        const e = await call().then(() => assert.fail(`${what} ${status}: resolved`), (e) => e);
        assert.equal(e.name, "GpufleetError", `${what} ${status}`);
        assert.equal(e.code, "server", `${what} ${status}`);
        assert.equal(e.status, status);
        assert.equal(e.provider, "novita");
        assert.equal(e.retryable, false, "a redirect is not transient");
        assert.equal(e.details[0].code, "redirect");
        assert.equal(e.details[0].message, target.origin, "the target's origin");
        assert.ok(
          e.message.startsWith(`Novita answered HTTP ${status} with a redirect to ${target.origin}; gpufleet does not follow redirects`),
          e.message,
        );
        assert.ok(!/collect|token|abc123|page=2/.test(e.message), `no path or query of the Location: ${e.message}`);
        assert.ok(!e.message.includes("registry-password-7f3a") && !e.message.includes("novita-key-redirect-test"));
        assert.equal(redirector.hits.length, 1, `${what} ${status}: exactly one request, not retried`);
        if (what === "create") assert.match(redirector.hits[0].body, /registry-password-7f3a/, "the create went to the configured host");
      }
    }
    assert.equal(target.hits.length, 0, "nothing reached the redirect's target");
  } finally {
    await target.close();
    await redirector.close();
  }
});

test("a redirect hidden by the runtime (opaqueredirect) and a custom fetch that follows anyway are refused", async () => {
  const { gpufleet } = await import(pathToFileURL(join(scratch, "node-entry.mjs")).href);
  const target = await loopbackServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"code":0,"instances":[],"total":0}');
  });
  const redirector = await loopbackServer((req, res) => {
    res.writeHead(302, { location: `${target.origin}/elsewhere?q=1` });
    res.end();
  });
  try {
    const base = { apiKey: "novita-key-redirect-test", baseUrl: `${redirector.origin}/novita/v1` };
    // What a browser's fetch gives for redirect: "manual".
    const opaque = new gpufleet.Fleet({ novita: base, fetch: async () => ({ type: "opaqueredirect", status: 0, ok: false, headers: new Headers() }) });
    const e = await opaque.listPage("novita").then(() => assert.fail("resolved"), (e) => e);
    assert.equal(e.code, "server");
    assert.equal(e.status, undefined);
    assert.equal(e.retryable, false);
    assert.deepEqual(e.details.map((d) => [d.code, d.message]), [["redirect", "unknown"]]);
    assert.match(e.message, /^Novita answered with a redirect to an unknown target/);

    const seen = [];
    const following = new gpufleet.Fleet({
      novita: base,
      fetch: (url, init) => { seen.push(init.redirect); return fetch(url, { ...init, redirect: "follow" }); },
    });
    const f = await following.listPage("novita").then(() => assert.fail("resolved"), (e) => e);
    assert.equal(seen[0], "manual", "gpufleet asks for redirect: manual");
    assert.equal(f.code, "server");
    assert.deepEqual(f.details.map((d) => [d.code, d.message]), [["redirect", target.origin]]);
    assert.equal(seen.length, 1, "not retried");
  } finally {
    await target.close();
    await redirector.close();
  }
});

test("a provider key only goes over https, or plain http to a loopback host", async () => {
  const { gpufleet } = await import(pathToFileURL(join(scratch, "node-entry.mjs")).href);
  for (const [key, cfg] of [["novita", { apiKey: "k" }], ["fal", { apiKey: "k" }], ["sfcompute", { token: "t", workspace: "wksp_x1" }]]) {
    for (const baseUrl of ["http://example.com/v1", "http://10.0.0.5:8080/v1", "http://127.0.0.1.nip.io/v1"]) {
      const e = (() => { try { new gpufleet.Fleet({ [key]: { ...cfg, baseUrl } }); } catch (e) { return e; } })();
      assert.ok(e, `${key} ${baseUrl}: refused`);
      assert.equal(e.code, "invalidInput");
      assert.equal(e.field, `${key}.baseUrl`);
      assert.match(e.message, /^\w+\.baseUrl: must be https:\/\/ \(http:\/\/ only to localhost, 127\.x\.x\.x or \[::1\]\)/);
    }
    for (const baseUrl of ["http://127.0.0.1:9/v1", "http://localhost:9/v1", "http://[::1]:9/v1", "https://api.example.com/v1"]) {
      new gpufleet.Fleet({ [key]: { ...cfg, baseUrl } });
    }
  }
});
