// Test helpers for the simulator's own tests (not a test file: node --test only runs *.test.mjs).

import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { startSim } from "./server.mjs";
import { AUTH_HEADERS, BASE_PATHS, HOST_ROOTS } from "./defaults.mjs";

export const SIM_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(SIM_DIR, "..", "..");
export const SPECS_DIR = path.resolve(REPO_ROOT, "..", "shared", "specs");

/** Reads a spec extract from ../shared/specs; fails loudly (never skips) when it is missing. */
export function readSpec(file) {
  const p = path.join(SPECS_DIR, file);
  if (!fs.existsSync(p)) {
    throw new Error(
      `OpenAPI extract not found: ${p}\n` +
        `The conformance tests need the shared/ folder beside the repository (../shared/specs relative to ${REPO_ROOT}).`,
    );
  }
  return JSON.parse(fs.readFileSync(p, "utf8"));
}

/**
 * Starts a sim on a free port and returns a small client for it.
 * Use in `before`/`after` hooks: `t = await testSim({instances: 1000}); … await t.close();`
 */
export async function testSim(options = {}) {
  const s = await startSim({ port: 0, speed: 0, ...options });
  // `p` is relative to the provider's base path, or with `root: true` to its host root (the
  // sibling APIs: t.call("novita", "GET", "/openapi/v1/billing/balance/detail", { root: true }))
  const call = async (provider, method, p, { query, body, headers = {}, auth = true, contentType, root = false } = {}) => {
    const h = {};
    if (auth === true) h.authorization = AUTH_HEADERS[provider];
    else if (typeof auth === "string") h.authorization = auth;
    if (provider === "novita" && contentType !== false) h["content-type"] = contentType ?? "application/json";
    let payload;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      if (provider !== "novita" && contentType !== false) h["content-type"] = contentType ?? "application/json";
    }
    Object.assign(h, headers);
    let qs = "";
    if (query instanceof URLSearchParams) qs = query.toString();
    else if (typeof query === "string") qs = query;
    else if (query) {
      const u = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) for (const x of [].concat(v)) u.append(k, String(x));
      qs = u.toString();
    }
    const url = s.url + (root ? HOST_ROOTS[provider] : BASE_PATHS[provider]) + p + (qs ? "?" + qs : "");
    const res = await fetch(url, { method, headers: h, body: payload });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  const control = async (method, p, body) => {
    const res = await fetch(s.url + "/__sim" + p, {
      method,
      headers: body !== undefined ? { "content-type": "application/json" } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    ...s,
    call,
    control,
    state: async (provider, query = "") => (await control("GET", `/state?provider=${provider}${query}`)).json.instances,
    advance: (ms) => control("POST", "/advance", { ms }),
  };
}

/** Collects an async iterable / paged walk into an array, failing if it loops. */
export function assertNoDupes(assert, ids, label) {
  const seen = new Set();
  for (const id of ids) {
    assert.ok(!seen.has(id), `${label}: duplicate id ${id}`);
    seen.add(id);
  }
}
