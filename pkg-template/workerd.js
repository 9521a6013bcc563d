// gpufleet for workerd (Cloudflare Workers, Miniflare, `wrangler dev`): the runtime compiles the
// wasm at deploy time and hands it over as a WebAssembly.Module; instantiating it is synchronous.
import module from "./gpufleet_bg.wasm";
import init, * as wasm from "./gpufleet.js";

wasm.initSync({ module });

export const Fleet = wasm.Fleet;
export const isGpufleetError = wasm.isGpufleetError;
export const initSync = wasm.initSync;
export { init };
export default init;
