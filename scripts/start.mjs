#!/usr/bin/env node
// `npm start`: the edge proxy and its console in workerd (Miniflare), from a fresh clone.
//
// - installs missing tools (scripts/ensure-tools.sh --no-browser) and builds pkg/ unless fresh;
// - without provider keys in .dev.vars: starts the simulated clouds (seed 1, 40 instances per
//   provider, speed 5 so lifecycles move) and points the proxy at them with the sim keys;
// - with keys in .dev.vars: uses them (and its base-URL overrides) against the real providers;
// - GPUFLEET_TOKEN from .dev.vars, else a random dev token; prints the console URL and the token.
//
// Honours PORT (default 8787). Ctrl-C stops the proxy and the simulator.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensurePkg, readDevVars, simEnv, startProxy } from "./proxy-runtime.mjs";

const log = (m) => console.log(`[start] ${m}`);
const port = process.env.PORT === undefined || process.env.PORT === "" ? 8787 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`[start] PORT must be a port number (got ${JSON.stringify(process.env.PORT)})`);
  process.exit(2);
}
// Offline, quiet wrangler/workerd if anything shells out to them.
Object.assign(process.env, {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
});

const needTools = !existsSync(join(ROOT, "node_modules/miniflare")) || !existsSync(join(ROOT, ".tools/bin/wasm-bindgen"));
try {
  if (needTools) {
    log("installing missing tools (scripts/ensure-tools.sh --no-browser)…");
    execFileSync("bash", [join(ROOT, "scripts/ensure-tools.sh"), "--no-browser"], { cwd: ROOT, stdio: "inherit" });
  }
  if (!ensurePkg({ log })) log("pkg/ is up to date");
} catch (e) {
  console.error(`[start] build failed: ${e.message}`);
  process.exit(1);
}

const devVars = readDevVars();
const real = ["FAL_KEY", "SFC_TOKEN", "NOVITA_API_KEY"].some((k) => devVars[k]);
const tokenFromFile = Boolean(devVars.GPUFLEET_TOKEN);
const token = devVars.GPUFLEET_TOKEN || randomBytes(24).toString("base64url");

// Registered before the proxy starts, so this runs first on Ctrl-C.
let sim = null;
let proxy = null;
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log("\n[start] stopping the proxy and the simulator…");
  await Promise.allSettled([proxy?.dispose(), sim?.close()]);
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

let env;
if (real) {
  env = { ...devVars, GPUFLEET_TOKEN: token };
} else {
  const { startSim } = await import("../tests/sim/server.mjs");
  sim = await startSim({ port: 0, seed: 1, instances: 40, speed: 5, epoch: "now" });
  // .dev.vars may still set tokens, origins or limits; provider settings come from the sim.
  env = { ...devVars, ...(await simEnv(sim)), GPUFLEET_TOKEN: token };
  // fal publishes no compute prices: the demo configures the sim's own (what its fal balance
  // drains at) as your price table; .dev.vars' GPUFLEET_PRICES wins. fal-alpha gets only its 8×
  // type, so its 1× rows show how an unpriced instance looks.
  if (!devVars.GPUFLEET_PRICES) {
    const { FAL_PRICES } = await import("../tests/sim/catalog.mjs");
    const usd = (t) => FAL_PRICES[t] / 1e6;
    const table = { fal: Object.fromEntries(Object.keys(FAL_PRICES).map((t) => [t, usd(t)])), "fal-alpha": { gpu_8x_h100_sxm5: usd("gpu_8x_h100_sxm5") } };
    env.GPUFLEET_PRICES = JSON.stringify(table);
  }
}

// The proxy's own origin is the address it listens on (http://127.0.0.1:<port>, see startProxy);
// a console opened as http://localhost:<port> is another origin, so it is allowed explicitly.
if (port !== 0) env.ALLOWED_ORIGINS = [env.ALLOWED_ORIGINS, `http://localhost:${port}`].filter(Boolean).join(",");

try {
  // D1 (audit log, deadlines) kept across restarts where `wrangler dev` keeps its state.
  proxy = await startProxy({ env, port, d1Persist: join(ROOT, ".wrangler/state/d1") });
} catch (e) {
  console.error(`[start] could not start the proxy on port ${port}: ${e.message}`);
  if (sim) await sim.close();
  process.exit(1);
}

// The Cron Trigger, locally: Cloudflare runs scheduled() every minute; Miniflare only on request.
const cron = setInterval(() => {
  proxy.scheduled().catch((e) => console.error(`[start] scheduled run failed: ${e.message}`));
}, 60_000);
cron.unref();

const base = proxy.url;
console.log("");
console.log(`gpufleet edge proxy (workerd via Miniflare) on ${base}`);
if (tokenFromFile) {
  console.log(`  console:   ${base}/   (token: GPUFLEET_TOKEN from .dev.vars)`);
} else {
  console.log(`  console:   ${base}/#token=${token}`);
  console.log(`  dev token: ${token}`);
}
if (sim) {
  console.log(`  providers: simulated clouds at ${sim.url} (seed 1, 40 instances per provider, speed 5; control API ${sim.url}/__sim/)`);
  if (!devVars.GPUFLEET_PRICES) console.log(`  prices:    fal's are the demo's configured ones (GPUFLEET_PRICES=${env.GPUFLEET_PRICES})`);
} else {
  const names = [devVars.FAL_KEY && "fal, fal-alpha", devVars.SFC_TOKEN && "sfcompute", devVars.NOVITA_API_KEY && "novita"].filter(Boolean);
  console.log(`  providers: REAL APIs with the keys in .dev.vars (${names.join(", ")})`);
}
console.log(`  try:       curl -H "Authorization: Bearer ${tokenFromFile ? "$GPUFLEET_TOKEN" : token}" ${base}/api/v1/instances`);
console.log("  Ctrl-C to stop.\n");

