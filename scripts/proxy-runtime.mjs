// Shared by `npm start`, tests/proxy/ and bench/load.mjs: make sure pkg/ is built and fresh, and
// run pkg/worker.js in workerd through Miniflare with a given environment.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const PKG = join(ROOT, "pkg");
export const COMPATIBILITY_DATE = "2026-05-01";

/** The console as Workers Static Assets (scripts/build-console-assets.mjs, wrangler.toml [assets]). */
export const CONSOLE_ASSETS = join(ROOT, "dist/console");
const OUTPUTS = ["pkg/worker.js", "pkg/gpufleet.js", "pkg/gpufleet_bg.wasm", "pkg/proxy/gpufleet_proxy.js", "pkg/proxy/gpufleet_proxy_bg.wasm", "dist/console/_headers", "dist/console/index.html"];
const SOURCES = ["src", "www", "pkg-template", "Cargo.toml", "Cargo.lock", "scripts/build.mjs", "scripts/build-console-assets.mjs"];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Whether pkg/ has every Worker file and is newer than every source it is built from. */
export function pkgIsFresh() {
  const outs = OUTPUTS.map((f) => join(ROOT, f));
  if (!outs.every(existsSync)) return false;
  const oldestOut = Math.min(...outs.map((f) => statSync(f).mtimeMs));
  const newestSrc = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
  return oldestOut >= newestSrc;
}

/**
 * Builds pkg/ (`npm run build`) unless it is fresh. `log` gets one line per step. Safe when
 * several processes call it at once (test files run in parallel): a lock directory serializes
 * the builds, and the freshness check is repeated inside it.
 */
export function ensurePkg({ log = console.log, force = false } = {}) {
  if (!force && pkgIsFresh()) return false;
  if (!existsSync(join(ROOT, "scripts/build.mjs"))) throw new Error("scripts/build.mjs is missing: cannot build pkg/");
  const lock = join(ROOT, "target", ".pkg-build.lock");
  mkdirSync(join(ROOT, "target"), { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      // A lock older than 20 minutes belongs to a build that died.
      if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for another build (${lock})`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    if (!force && pkgIsFresh()) return false;
    log("building pkg/ (npm run build)…");
    execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    for (const f of OUTPUTS) if (!existsSync(join(ROOT, f))) throw new Error(`the build did not produce ${f}`);
    // build.mjs keeps an unchanged wasm file as it was; mark the outputs as built now.
    const now = new Date();
    for (const f of OUTPUTS) utimesSync(join(ROOT, f), now, now);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The Worker env that points the proxy at a running simulator (`startSim()` result). */
export async function simEnv(sim) {
  const { SIM_KEYS } = await import("../tests/sim/defaults.mjs");
  return {
    FAL_KEY: SIM_KEYS.fal,
    FAL_BASE_URL: sim.baseUrls.fal,
    FAL_ALPHA_BASE_URL: sim.baseUrls["fal-alpha"],
    SFC_TOKEN: SIM_KEYS.sfcompute,
    SFC_WORKSPACE: SIM_KEYS.sfcWorkspace,
    SFC_BASE_URL: sim.baseUrls.sfcompute,
    NOVITA_API_KEY: SIM_KEYS.novita,
    NOVITA_BASE_URL: sim.baseUrls.novita,
  };
}

/** Parses a .dev.vars / .env file: KEY=VALUE lines, `#` comments, optional quotes and `export`. */
export function parseDevVars(text) {
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
      v = v.slice(1, -1);
    } else {
      v = v.replace(/\s+#.*$/, "");
    }
    if (v !== "") out[m[1]] = v;
  }
  return out;
}

export function readDevVars(path = join(ROOT, ".dev.vars")) {
  return existsSync(path) ? parseDevVars(readFileSync(path, "utf8")) : {};
}

/** The D1 migrations (migrations/*.sql, in name order), as the statements each holds. */
export function migrationStatements(dir = join(ROOT, "migrations")) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .replace(/--.*$/gm, "")
        .split(";")
        .map((s) => s.replace(/\s+/g, " ").trim())
        .filter(Boolean),
    );
}

/**
 * Applies the D1 migrations to `db` (a D1 binding, e.g. Miniflare's `getD1Database("DB")`), as
 * `wrangler d1 migrations apply` does on Cloudflare. Idempotent (`IF NOT EXISTS`).
 */
export async function applyMigrations(db) {
  await db.batch(migrationStatements().map((sql) => db.prepare(sql)));
}

/**
 * The Miniflare options every Worker built from pkg/ needs: ES modules rooted at pkg/, the wasm
 * as a compiled module, our compatibility date, and no network fetch of `request.cf`.
 */
export function workerModuleOptions() {
  return {
    modules: true,
    modulesRoot: PKG,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
  };
}

/** Miniflare's `assets` option for the console: wrangler.toml's [assets] block, locally. */
export function consoleAssetsOptions() {
  return {
    directory: CONSOLE_ASSETS,
    // wrangler.toml's `run_worker_first = ["/api/*", "/healthz"]`: the API's paths skip the asset lookup.
    routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: false, static_routing: { user_worker: ["/api/*", "/healthz"] } },
    assetConfig: { html_handling: "auto-trailing-slash", not_found_handling: "none" },
  };
}

/**
 * Runs pkg/worker.js in workerd. `env`: string bindings. `port`: 0 for a free one, undefined for
 * none (dispatchFetch only). `onLog(line)`: every stdout/stderr line of the runtime (else they
 * pass through to this process). `rateLimit`: {limit, period} to configure the RATE_LIMITER
 * binding. `assets`: serve the console (dist/console/) as static assets in front (default true).
 * `live`: bind the live view's Durable Object, FLEET_LIVE (default true).
 * Returns { mf, url, dispose() }.
 */
export async function startProxy({ env = {}, port, host = "127.0.0.1", onLog, rateLimit, assets = true, d1 = true, d1Persist, live = true } = {}) {
  const { Miniflare } = await import("miniflare");
  const options = { ...workerModuleOptions(), scriptPath: join(PKG, "worker.js"), bindings: env };
  // D1 (binding DB: the audit log and deadlines), real SQLite in workerd; in memory unless
  // `d1Persist` names a folder (npm start keeps it in .tmp/d1 across restarts).
  if (d1) {
    options.d1Databases = ["DB"];
    if (d1Persist) options.d1Persist = d1Persist;
  }
  // The shared live view's Durable Object (wrangler.toml FLEET_LIVE), real in workerd, with its
  // alarms; `live: false` runs without it (the consoles then poll).
  if (live) options.durableObjects = { FLEET_LIVE: { className: "FleetLive", useSQLite: true } };
  // The console as Workers Static Assets, served before the Worker runs, with `_headers` (as
  // wrangler.toml's [assets] does on Cloudflare).
  if (assets) options.assets = consoleAssetsOptions();
  if (port !== undefined) Object.assign(options, { port, host });
  if (rateLimit) options.ratelimits = { RATE_LIMITER: { simple: rateLimit } };
  if (onLog) {
    options.handleRuntimeStdio = (stdout, stderr) => {
      for (const stream of [stdout, stderr]) {
        let buf = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf("\n")) >= 0) {
            onLog(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
        stream.on("end", () => buf && onLog(buf));
      }
    };
  }
  const mf = new Miniflare(options);
  let url = await mf.ready;
  let current = options;
  if (port !== undefined) {
    // workerd builds `request.url` from the caller's Host header; with `upstream` Miniflare gives
    // the Worker its own address instead, as Cloudflare gives the routed hostname. The proxy's
    // CORS "own origin" comes from that URL (or GPUFLEET_ORIGIN), so a forged Host changes nothing.
    const bound = new URL(String(url));
    current = { ...options, port: Number(bound.port), host, upstream: bound.origin };
    await mf.setOptions(current);
    url = await mf.ready;
  }
  const db = d1 ? await mf.getD1Database("DB") : undefined;
  if (db) await applyMigrations(db);
  return {
    mf,
    db,
    url: String(url).replace(/\/$/, ""),
    /** Dispatches one Cron Trigger event (`scheduled()` in worker.js), as the platform does every minute. */
    scheduled: async () => (await mf.getWorker()).scheduled({ cron: "* * * * *", scheduledTime: new Date() }),
    /** Restarts workerd on the same address (as a deploy does): open connections and streams end.
     * An in-memory D1 starts empty again, migrated. */
    restart: async () => {
      await mf.setOptions(current);
      await mf.ready;
      if (db) await applyMigrations(await mf.getD1Database("DB"));
    },
    dispose: () => mf.dispose(),
  };
}
