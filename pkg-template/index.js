// gpufleet for browsers and bundlers: the wasm next to this file is fetched and compiled once,
// on import (top-level await), so `import { Fleet } from "gpufleet"` is ready to use.
//
// The exports are bindings of this module (not `export *`), so a bundler honouring
// `"sideEffects": false` cannot skip this file and with it the initialization.
import init, * as wasm from "./gpufleet.js";

await init();

export const Fleet = wasm.Fleet;
export const isGpufleetError = wasm.isGpufleetError;
export const initSync = wasm.initSync;
export { init };
export default init;
