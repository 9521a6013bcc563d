/// <reference lib="esnext.disposable" />
// Types of every entry point ("gpufleet" in browsers, Node, Deno, Bun and workerd): the same
// exports, already initialized. `init()` is there for symmetry with "gpufleet/web" and resolves
// at once. (The lib reference: wasm-bindgen declares `[Symbol.dispose]()` on classes; needs
// TypeScript ≥ 5.2.)
export * from "./gpufleet.js";
export { default, default as init } from "./gpufleet.js";
