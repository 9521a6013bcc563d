// gpufleet for Node ≥ 18, Deno and Bun: the wasm is read from disk next to this file and compiled
// synchronously on import (no top-level await, so `require("gpufleet")` works where Node allows
// requiring ES modules). Deno needs --allow-read for it (and --allow-net for the APIs).
import { readFileSync } from "node:fs";
import init, * as wasm from "./gpufleet.js";

wasm.initSync({ module: readFileSync(new URL("./gpufleet_bg.wasm", import.meta.url)) });

// Filled in by scripts/build.mjs: `export const <name> = wasm.<name>;` for every export of
// gpufleet.js (Fleet, isGpufleetError, initSync, …).
/* gpufleet:exports */
export { init };
export default init;
