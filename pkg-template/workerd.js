// gpufleet for workerd (Cloudflare Workers, Miniflare, `wrangler dev`): the runtime compiles the
// wasm at deploy time and hands it over as a WebAssembly.Module; instantiating it is synchronous.
import module from "./gpufleet_bg.wasm";
import init, * as wasm from "./gpufleet.js";

wasm.initSync({ module });

// Filled in by scripts/build.mjs: `export const <name> = wasm.<name>;` for every export of
// gpufleet.js (Fleet, isGpufleetError, initSync, …).
/* gpufleet:exports */
export { init };
export default init;
