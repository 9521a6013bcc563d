// `wrangler deploy --dry-run`: the deploy bundle builds offline from wrangler.toml, the console is
// uploaded as static assets (not inside worker.js), and the bundle stays under 400 KiB gzip.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensurePkg, ROOT } from "../../scripts/proxy-runtime.mjs";
import { deployDryRun } from "../../scripts/deploy-dry-run.mjs";

const LIMIT_KIB = 400;

test(`wrangler deploy --dry-run bundles the Worker without the console, under ${LIMIT_KIB} KiB gzip`, () => {
  ensurePkg({ log: (m) => console.error(`[deploy bundle] ${m}`) });
  const run = deployDryRun();
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
