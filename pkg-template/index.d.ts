// Types of every entry point ("gpufleet" in browsers, Node, Deno, Bun and workerd): the same
// exports, already initialized. `init()` is there for symmetry with "gpufleet/web" and resolves
// at once.
export * from "./gpufleet.js";
export { default, default as init } from "./gpufleet.js";
