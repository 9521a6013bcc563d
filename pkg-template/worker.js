// gpufleet edge proxy: the Worker entry (`export default { fetch }`) for workerd, Cloudflare
// Workers (`wrangler deploy`) and Miniflare.
//
// The console is not in here: it is served as Workers Static Assets (wrangler.toml [assets],
// dist/console/ with its security headers in `_headers`) before this Worker runs. Everything the
// assets do not answer (/api/v1/…, /healthz, unknown paths) goes to the Rust handler
// `handleFetch` of the Worker's own wasm build (with the proxy server), which holds the provider
// keys and never throws. With Cloudflare Access configured (CF_ACCESS_TEAM_DOMAIN, CF_ACCESS_AUD),
// access.js checks the request's Access assertion first (WebCrypto) and hands over what it found.

import wasmModule from "./proxy/gpufleet_proxy_bg.wasm";
import { initSync, handleFetch, runScheduled } from "./proxy/gpufleet_proxy.js";
import { D1Store } from "./d1-store.js";
import { checkAccess } from "./access.js";

// The shared live view's Durable Object class (wrangler.toml: the FLEET_LIVE binding).
export { FleetLive } from "./live.js";

let startupFailed = false;
try {
  initSync({ module: wasmModule });
} catch (e) {
  startupFailed = true;
  console.error(JSON.stringify({ event: "startup-failed", error: String(e && e.name) }));
}

// The audit log and deadlines live in D1 (binding `DB`, wrangler.toml [[d1_databases]]); without
// the binding the proxy runs without them (deadline and audit routes answer that they are off).
const storeOf = (env) => (env && env.DB ? new D1Store(env.DB) : undefined);

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

// A request body the answer did not need (a refused POST, an oversized one) is read to its end
// before answering, up to this many bytes. workerd closes the connection after answering a
// request whose body is left unread, and the body bytes that then reach the closed socket make
// the kernel send a reset, which can destroy the answer before the client reads it (seen as
// ECONNRESET instead of a 403 on a loaded machine). Past this, the rest is cancelled: a client
// sending megabytes to a refused route gets a closed connection.
const DRAIN_LIMIT_BYTES = 1 << 20;

async function drainUnread(request) {
  const body = request.body;
  if (!body || body.locked) return;
  const reader = body.getReader();
  try {
    for (let seen = 0; seen <= DRAIN_LIMIT_BYTES; ) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value ? value.byteLength : 0;
    }
    await reader.cancel();
  } catch {
    // A broken upload: nothing left to protect.
  }
}

// `GET /api/v1/live[/refresh]`, admitted by the proxy (a caller that may read: the answer carries
// X-Gpufleet-Live with its name): handed to the one FleetLive Durable Object, whose answer (the
// event stream) goes back with the proxy's own headers (CORS, CSP, request id).
async function toLiveView(request, env, admitted) {
  const headers = new Headers(admitted.headers);
  const caller = headers.get("x-gpufleet-live");
  for (const name of ["x-gpufleet-live", "content-type", "content-length"]) headers.delete(name);
  if (!env.FLEET_LIVE) {
    headers.set("content-type", "application/json; charset=utf-8");
    const message = "this proxy has no live view: bind the FleetLive Durable Object as FLEET_LIVE (wrangler.toml)";
    return new Response(JSON.stringify({ error: { code: "unsupported", message, retryable: false } }), { status: 503, headers });
  }
  const stub = env.FLEET_LIVE.get(env.FLEET_LIVE.idFromName("fleet"));
  const answer = await stub.fetch(new URL(request.url).pathname.replace(/^.*\/live/, "https://fleet-live.internal/live"), {
    headers: { "x-gpufleet-caller": caller },
  });
  for (const name of ["content-type", "cache-control", "x-accel-buffering"]) {
    const value = answer.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(answer.body, { status: answer.status, headers });
}

export default {
  async fetch(request, env, ctx) {
    if (startupFailed) return failure("the proxy failed to start");
    let response;
    try {
      response = await handleFetch(request, env ?? {}, ctx, storeOf(env), await checkAccess(request, env));
      if (response.status === 200 && response.headers.has("x-gpufleet-live")) response = await toLiveView(request, env ?? {}, response);
    } catch (e) {
      // Only the error's name: a message could quote a request detail.
      console.error(JSON.stringify({ event: "unhandled", error: String(e && e.name) }));
      response = failure("internal error");
    }
    await drainUnread(request);
    return response;
  },

  // Cron Trigger (wrangler.toml [triggers] crons, every minute): fire the due deadlines. A run
  // that fails throws, so the platform records the failed invocation; the next minute retries.
  async scheduled(controller, env, ctx) {
    if (startupFailed) throw new Error("the proxy failed to start");
    const store = storeOf(env);
    if (!store) {
      console.error(JSON.stringify({ event: "deadlines", error: "no DB binding: deadlines are off" }));
      return;
    }
    await runScheduled(env, store);
  },
};
