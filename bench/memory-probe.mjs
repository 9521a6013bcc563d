// Runs the production Worker (pkg/worker.js) in workerd behind the test-only memory probe
// (bench/memory-probe-worker.js), for bench/load.mjs and tests/proxy/load.test.mjs.
//
// The probe module is handed to Miniflare as a string whose scriptPath is inside pkg/, so its
// `./worker.js`, `./gpufleet.js` and `./gpufleet_bg.wasm` imports resolve to the built files, with
// the same module options as scripts/proxy-runtime.mjs startProxy
// (`workerModuleOptions()`) and the same bindings. Nothing is added to the production Worker.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PKG, workerModuleOptions } from "../scripts/proxy-runtime.mjs";

export const PROBE_PATH = "/__probe/memory";
const PROBE_SOURCE = new URL("./memory-probe-worker.js", import.meta.url);

/**
 * Starts pkg/worker.js behind the probe. `env`: string bindings (as startProxy); `leakBytesPerRequest`:
 * test-only injected leak (see memory-probe-worker.js). `miniflare`: extra Miniflare options.
 * Returns { mf, url, dispose() }.
 */
export async function startProbedProxy({ env = {}, port = 0, host = "127.0.0.1", leakBytesPerRequest = 0, miniflare = {} } = {}) {
  const { Miniflare } = await import("miniflare");
  const bindings = { ...env };
  if (leakBytesPerRequest > 0) bindings.PROBE_LEAK_BYTES_PER_REQUEST = String(leakBytesPerRequest);
  const mf = new Miniflare({
    ...workerModuleOptions(),
    script: readFileSync(PROBE_SOURCE, "utf8"),
    scriptPath: join(PKG, "__memory-probe.js"), // not written: only names the module and roots its imports
    bindings,
    port,
    host,
    // Drain the runtime's stdout/stderr (the Worker logs a line per request): an undrained pipe
    // would block workerd once its buffer fills.
    handleRuntimeStdio: (stdout, stderr) => {
      stdout.resume();
      stderr.resume();
    },
    ...miniflare,
  });
  const url = String(await mf.ready).replace(/\/$/, "");
  return { mf, url, dispose: () => mf.dispose() };
}

/** The probe's answer: { wasmBytes, wasmPages, externrefs, requests, leakedBytes, jsHeap }. */
export async function readProbe(url) {
  const r = await fetch(url + PROBE_PATH);
  if (!r.ok) throw new Error(`${PROBE_PATH} answered ${r.status}`);
  return r.json();
}
