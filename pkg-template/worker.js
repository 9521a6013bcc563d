// gpufleet edge proxy: the Worker entry (`export default { fetch }`) for workerd, Cloudflare
// Workers (`wrangler deploy`) and Miniflare.
//
// Static console files (www/ and the package's browser files under /pkg/, embedded at build time
// into console-assets.js) are served here with the console's strict security headers; everything
// else (/api/v1/…, /healthz, unknown paths) goes to the Rust handler `handleFetch`, which holds
// the provider keys and never throws.

import wasmModule from "./gpufleet_bg.wasm";
import { initSync, handleFetch, consoleHeaders } from "./gpufleet.js";
import { ASSETS } from "./console-assets.js";

let startupFailed = false;
try {
  initSync({ module: wasmModule });
} catch (e) {
  startupFailed = true;
  console.error(JSON.stringify({ event: "startup-failed", error: String(e && e.name) }));
}

// Used only when the Rust side cannot answer (startup failure or an unexpected rejection).
const FALLBACK_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  "cache-control": "no-store",
};

function failure(message) {
  const body = JSON.stringify({ error: { code: "server", message, retryable: true } });
  return new Response(body, { status: 500, headers: FALLBACK_HEADERS });
}

function decodeBase64(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The key of the embedded file for `pathname` ("/" and "/dir/" mean index.html), if any. */
function findAsset(pathname) {
  const key = pathname.endsWith("/") ? pathname + "index.html" : pathname;
  return Object.prototype.hasOwnProperty.call(ASSETS, key) ? key : undefined;
}

// Binary assets (the wasm under /pkg/) decoded once per isolate, not on every request.
const decoded = new Map();
function assetBody(key, asset) {
  if (asset.encoding !== "base64") return asset.body;
  let bytes = decoded.get(key);
  if (!bytes) {
    bytes = decodeBase64(asset.body);
    decoded.set(key, bytes);
  }
  return bytes;
}

function serveAsset(request, key, asset) {
  const headers = new Headers(consoleHeaders(asset.type));
  headers.set("etag", asset.etag);
  if (request.headers.get("if-none-match") === asset.etag) {
    return new Response(null, { status: 304, headers });
  }
  if (request.method === "HEAD") return new Response(null, { status: 200, headers });
  return new Response(assetBody(key, asset), { status: 200, headers });
}

export default {
  async fetch(request, env, ctx) {
    if (startupFailed) return failure("the proxy failed to start");
    try {
      const { pathname } = new URL(request.url);
      if (request.method === "GET" || request.method === "HEAD") {
        const key = findAsset(pathname);
        if (key) return serveAsset(request, key, ASSETS[key]);
      }
      return await handleFetch(request, env ?? {}, ctx);
    } catch (e) {
      // Only the error's name: a message could quote a request detail.
      console.error(JSON.stringify({ event: "unhandled", error: String(e && e.name) }));
      return failure("internal error");
    }
  },
};
