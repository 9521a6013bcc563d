// Test-only wrapper around the production Worker (pkg/worker.js), for bench/load.mjs and
// tests/proxy/load.test.mjs: it is loaded by Miniflare as if it sat in pkg/ (see
// bench/memory-probe.mjs), imports the real Worker's default export and delegates every request
// to it, except
//
//   GET /__probe/memory → { wasmBytes, wasmPages, externrefs, requests, leakedBytes, jsHeap }
//
// wasmBytes is the gpufleet instance's linear memory (memory.buffer.byteLength). Linear memory
// never shrinks, so it is the high-water mark of everything the Rust side has held at once: if it
// is flat after warm-up, Rust does not leak under that load. externrefs is the length of
// wasm-bindgen's table of JS values referenced from Rust (it grows when Rust keeps JS objects).
// jsHeap is whatever heap statistics the runtime exposes to a Worker (workerd: none; null).
//
// PROBE_LEAK_BYTES_PER_REQUEST (a binding, default 0) makes the probe itself retain that many
// bytes of linear memory per delegated request (grown in whole 64 KiB pages), so tests can show
// that a leak is detected. It is never set in a real measurement.

import worker from "./worker.js";
import wasmModule from "./proxy/gpufleet_proxy_bg.wasm";
import { initSync } from "./proxy/gpufleet_proxy.js";

// worker.js has already initialized the module: wasm-bindgen's initSync returns the existing
// exports when called again (`if (wasm !== undefined) return wasm;`), so this is the same instance.
const wasm = initSync({ module: wasmModule });
const PAGE = 65536;

let requests = 0;
let owed = 0; // injected leak not yet grown into whole pages
let leakedBytes = 0;

function jsHeap() {
  const m = globalThis.performance && globalThis.performance.memory;
  if (m && typeof m.usedJSHeapSize === "number") {
    return { usedJSHeapSize: m.usedJSHeapSize, totalJSHeapSize: m.totalJSHeapSize };
  }
  return null;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__probe/memory" && request.method === "GET") {
      const wasmBytes = wasm.memory.buffer.byteLength;
      const body = {
        wasmBytes,
        wasmPages: wasmBytes / PAGE,
        externrefs: wasm.__wbindgen_externrefs ? wasm.__wbindgen_externrefs.length : null,
        requests,
        leakedBytes,
        jsHeap: jsHeap(),
      };
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
    }
    requests += 1;
    const leak = Number(env.PROBE_LEAK_BYTES_PER_REQUEST || 0);
    if (leak > 0) {
      owed += leak;
      const pages = Math.floor(owed / PAGE);
      if (pages > 0) {
        wasm.memory.grow(pages);
        owed -= pages * PAGE;
        leakedBytes += pages * PAGE;
      }
    }
    return worker.fetch(request, env, ctx);
  },
};
