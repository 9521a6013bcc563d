// `wrangler deploy --dry-run`: the deploy bundle builds offline from wrangler.toml, the console is
// uploaded as static assets (not inside worker.js), and the bundle stays under 400 KiB gzip. The
// bundle wrangler would upload (minified, see wrangler.toml) also runs: it answers in workerd.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensurePkg, ROOT, workerModuleOptions } from "../../scripts/proxy-runtime.mjs";
import { deployDryRun } from "../../scripts/deploy-dry-run.mjs";

const LIMIT_KIB = 400;
let run;

test(`wrangler deploy --dry-run bundles the Worker without the console, under ${LIMIT_KIB} KiB gzip`, () => {
  ensurePkg({ log: (m) => console.error(`[deploy bundle] ${m}`) });
  run = deployDryRun();
  assert.match(run.toml, /^\[assets\]\s*$/m, "wrangler.toml declares the console as static assets");
  assert.match(run.printed, /--dry-run: exiting now/);
  assert.match(run.printed, /files from the assets directory/, "the console goes up as assets");
  const names = run.files.map((f) => f.name);
  assert.ok(names.includes("worker.js"), names.join());
  assert.ok(names.some((f) => f.endsWith("gpufleet_proxy_bg.wasm")), names.join());
  assert.equal(names.filter((f) => f.endsWith(".wasm")).length, 1, "one wasm: the Worker's");
  assert.doesNotMatch(run.worker, /<!doctype html|console-assets|base64,/i, "no console and no base64 wasm in worker.js");
  const kib = run.gzipTotal / 1024;
  console.error(`# deploy bundle: ${names.join(", ")}: ${kib.toFixed(1)} KiB gzip`);
  assert.ok(kib <= LIMIT_KIB, `bundle is ${kib.toFixed(1)} KiB gzip`);
  assert.ok(existsSync(join(ROOT, "dist/console/_headers")));
});

test("the bundle as uploaded runs: /healthz, a refused token, a refused Access assertion", async () => {
  assert.ok(run, "the dry run above produced a bundle");
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    ...workerModuleOptions(),
    modulesRoot: run.outDir,
    scriptPath: join(run.outDir, "worker.js"),
    bindings: { GPUFLEET_TOKEN: "a-token-of-at-least-16-chars", CF_ACCESS_TEAM_DOMAIN: "http://127.0.0.1:9", CF_ACCESS_AUD: "aud" },
  });
  try {
    const health = await mf.dispatchFetch("http://proxy.test/healthz");
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.api, "ready");
    assert.equal(body.cloudflareAccess, true);
    const wrong = await mf.dispatchFetch("http://proxy.test/api/v1/providers", { headers: { authorization: "Bearer not-the-token-at-all" } });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error.code, "unauthorized");
    const forged = await mf.dispatchFetch("http://proxy.test/api/v1/providers", { headers: { "cf-access-jwt-assertion": "a.b" } });
    assert.equal(forged.status, 401);
    assert.match((await forged.json()).error.message, /Cf-Access-Jwt-Assertion\) is not a well-formed JWT/);
  } finally {
    await mf.dispose();
  }
});
