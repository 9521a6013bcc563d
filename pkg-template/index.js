// gpufleet for browsers and bundlers: the wasm next to this file is fetched and compiled once,
// on import (top-level await), so `import { Fleet } from "gpufleet"` is ready to use.
//
// The exports are bindings of this module (not `export *`), so a bundler honouring
// `"sideEffects": false` cannot skip this file and with it the initialization.
import init, * as wasm from "./gpufleet.js";

await init();

// Filled in by scripts/build.mjs: `export const <name> = wasm.<name>;` for every export of
// gpufleet.js (Fleet, isGpufleetError, initSync, …).
/* gpufleet:exports */
export { init };
export default init;
