// `wrangler deploy --dry-run` of the built proxy, offline: what Cloudflare would receive as the
// Worker bundle (pkg/ must be built). Shared by tests/proxy/deploy-bundle.test.mjs and the bench.
//
// The copy of wrangler.toml it runs drops the [build] step (pkg/ is already built; the step would
// only repeat it) and makes the paths absolute for the copy's location; nothing else changes.

import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "./proxy-runtime.mjs";

/** Runs the dry run; returns { printed, toml, files: [{ name, raw, gzip }], gzipTotal, worker, outDir }. */
export function deployDryRun() {
  const tmp = join(ROOT, ".tmp", "deploy-dry-run");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const copy = toml
    .replace(/^\[build\]\s*\ncommand = .*\n/m, "")
    .replace(/^main = "pkg\/worker.js"$/m, `main = ${JSON.stringify(join(ROOT, "pkg/worker.js"))}`)
    .replace(/^directory = "\.\/dist\/console"$/m, `directory = ${JSON.stringify(join(ROOT, "dist/console"))}`);
  if (/^\[build\]/m.test(copy) || !copy.includes(join(ROOT, "pkg/worker.js"))) throw new Error("wrangler.toml changed shape: update scripts/deploy-dry-run.mjs");
  const config = join(tmp, "wrangler.toml");
  writeFileSync(config, copy);
  const out = join(tmp, "out");
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_LOG_PATH: join(tmp, "logs"),
  };
  const printed = execFileSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out, "--config", config], {
    cwd: tmp,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
  });
  const files = readdirSync(out)
    .filter((f) => !f.endsWith(".map") && f !== "README.md")
    .map((name) => {
      const bytes = readFileSync(join(out, name));
      return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
  return {
    printed,
    toml,
    files,
    gzipTotal: files.reduce((a, f) => a + f.gzip, 0),
    worker: readFileSync(join(out, "worker.js"), "utf8"),
    outDir: out,
  };
}
