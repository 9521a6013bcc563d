// fal Platform API v1 (https://api.fal.ai/v1), compute instances: seeds 000/001 and
// specs/fal-platform-v1-compute.openapi.json. Exactly four operations: list, get, create, delete.
//
// Money (PROVIDERS.md §4.3): GET /account/billing ("Account Billing", fal's spec; extract in
// schemas/fal-platform-v1-account-billing.openapi.json) → {username, credits?}; `credits`
// ({current_balance: number USD, currency: "USD"}) only with expand=credits (repeated or comma-
// separated values; any other value → 400 validation_error). Same key as the instance routes
// (an API-scope key → 403: the spec asks for an admin key). fal publishes no compute prices, so the
// balance drains at the sim's own prices (catalog.mjs FAL_PRICES): gpu_1x_h100_sxm5 $1.99 and
// gpu_8x_h100_sxm5 $15.92 per instance-hour, while an instance is `ready` (fal v1 and fal-alpha
// instances: one account), from $5,000.00 at the sim epoch, never below 0 (the spec's minimum);
// current_balance has at most 6 decimals (micro-dollars; money.mjs).

import { statusAt } from "./clock.mjs";
import { checkAuth } from "./auth.mjs";
import { genFalId, LIFECYCLE } from "./fleet.mjs";
import { FAL_INSTANCE_TYPES, FAL_SECTORS, FAL_REGIONS } from "./catalog.mjs";
import { json, empty, parseIntStrict, parseJsonBody, isPlainObject, isStrictBase64, docIp, getAll } from "./util.mjs";
import { falBalance, FAL_USERNAME } from "./money.mjs";
import { SIM_KEYS, BASE_PATHS } from "./defaults.mjs";
import { createHash } from "node:crypto";

export const name = "fal";
export const basePath = BASE_PATHS.fal;

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100; // larger limits are capped silently (the spec: "actual maximum depends…")

const ERROR_TYPES = { 400: "validation_error", 401: "authorization_error", 403: "authorization_error", 404: "not_found", 405: "not_implemented", 429: "rate_limited", 501: "not_implemented" };
const DOCS = "https://fal.ai/docs/platform-apis/v1/compute/instances";

/** fal's error body: {error:{type,message,docs_url?,request_id}} (same schema on every non-2xx). */
export function errorResponse(status, message, ctx, { docsUrl, headers } = {}) {
  const error = { type: ERROR_TYPES[status] ?? "server_error", message };
  if (docsUrl) error.docs_url = docsUrl;
  error.request_id = ctx.requestId;
  return json(status, { error }, headers);
}

export function authenticate(headers) {
  return checkAuth(headers, "Key", SIM_KEYS.fal, SIM_KEYS.falForbidden);
}

/** Renders a record as fal's Instance object (field order as in the spec example). */
export function render(r, now) {
  const status = statusAt(r.timeline, now);
  const o = { id: r.id, instance_type: r.instance_type, region: r.region };
  if (r.sector) o.sector = r.sector;
  if (status === "ready") o.ip = r.ip; // "available when instance is ready"
  o.status = status;
  if (r.creator_user_nickname !== undefined) o.creator_user_nickname = r.creator_user_nickname;
  return o;
}

export function renderAll(sim) {
  const now = sim.now();
  return sim.stores.fal.ordered(now).map((r) => render(r, now));
}

export function handle(ctx) {
  const { method, path, auth } = ctx;
  if (auth.auth === "forbidden") return errorResponse(403, "Access denied", ctx);
  if (auth.auth !== "ok") return errorResponse(401, "Authentication required", ctx);

  if (path === "/compute/instances") {
    if (method === "GET") return list(ctx);
    if (method === "POST") return create(ctx);
    return errorResponse(405, "Method not allowed", ctx);
  }
  if (path === "/account/billing") {
    if (method === "GET") return billing(ctx);
    return errorResponse(405, "Method not allowed", ctx);
  }
  const m = /^\/compute\/instances\/([^/]+)$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (method === "GET") return get(ctx, id);
    if (method === "DELETE") return del(ctx, id);
    return errorResponse(405, "Method not allowed", ctx);
  }
  return errorResponse(404, "Resource not found", ctx);
}

// Cursor = base64 of the 1-based page number, as in the spec's example `Mg==` (page 2).
// Instances are listed in creation order (oldest first), so new instances land on the last page.
function list(ctx) {
  const { sim, query } = ctx;
  let limit = DEFAULT_LIMIT;
  if (query.has("limit")) {
    limit = parseIntStrict(query.get("limit"));
    if (!Number.isInteger(limit) || limit < 1) {
      return errorResponse(400, "Invalid request parameters: limit must be an integer >= 1", ctx, { docsUrl: `${DOCS}/list` });
    }
    limit = Math.min(limit, MAX_LIMIT);
  }
  let page = 1;
  const cursor = query.get("cursor");
  if (cursor !== null && cursor !== "") {
    const decoded = isStrictBase64(cursor) ? Buffer.from(cursor, "base64").toString("utf8") : "";
    if (!/^[1-9]\d{0,8}$/.test(decoded)) {
      return errorResponse(400, "Invalid request parameters: malformed cursor", ctx, { docsUrl: `${DOCS}/list` });
    }
    page = Number(decoded);
  }
  const now = sim.now();
  const all = sim.stores.fal.ordered(now);
  const start = (page - 1) * limit;
  const instances = all.slice(start, start + limit).map((r) => render(r, now));
  const has_more = start + limit < all.length;
  return json(200, {
    instances,
    next_cursor: has_more ? Buffer.from(String(page + 1)).toString("base64") : null,
    has_more,
  });
}

function get(ctx, id) {
  const now = ctx.sim.now();
  const r = ctx.sim.stores.fal.get(id, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  return json(200, render(r, now));
}

function del(ctx, id) {
  const now = ctx.sim.now();
  const r = ctx.sim.stores.fal.get(id, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  ctx.sim.stores.fal.remove(id, now); // "immediately terminated": gone from list/get at once
  return empty(204);
}

/** Validates a create body (shared with the alpha API). Returns a list of problems. */
export function validateCreateBody(body) {
  const problems = []; // {field, kind, message}
  for (const k of Object.keys(body)) {
    if (!["instance_type", "ssh_key", "sector"].includes(k)) problems.push({ field: k, kind: "extra", message: `unknown field '${k}'` });
  }
  if (body.instance_type === undefined) problems.push({ field: "instance_type", kind: "missing", message: "instance_type is required" });
  else if (!FAL_INSTANCE_TYPES.includes(body.instance_type)) {
    problems.push({ field: "instance_type", kind: "enum", message: `instance_type must be one of ${FAL_INSTANCE_TYPES.join(", ")}` });
  }
  if (body.ssh_key === undefined) problems.push({ field: "ssh_key", kind: "missing", message: "ssh_key is required" });
  else if (typeof body.ssh_key !== "string" || body.ssh_key.length < 1) {
    problems.push({ field: "ssh_key", kind: "string", message: "ssh_key must be a non-empty string" });
  }
  if (body.sector !== undefined && body.sector !== null) {
    if (!FAL_SECTORS.includes(body.sector)) problems.push({ field: "sector", kind: "enum", message: `sector must be one of ${FAL_SECTORS.join(", ")}` });
    else if (body.instance_type !== "gpu_8x_h100_sxm5") {
      problems.push({ field: "sector", kind: "value", message: "sector is only valid with gpu_8x_h100_sxm5" });
    }
  }
  return problems;
}

/** Canonical JSON (sorted keys) so that key order and whitespace do not change the body hash. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",")}}`;
  return JSON.stringify(v);
}

function create(ctx) {
  const { sim, headers, body } = ctx;
  const now = sim.now();
  const parsed = parseJsonBody(body);
  const bodyHash = createHash("sha256").update(parsed.ok ? canonical(parsed.value) : body).digest("hex");

  // Idempotency-Key: "prevents duplicate instance creation on retries; responses cached for 10
  // minutes per unique key". A replay returns the cached 201 (same body). Reusing a key with a
  // different body is undocumented; the sim answers 400 validation_error so client bugs show up.
  const idemKey = headers["idempotency-key"];
  if (idemKey !== undefined && idemKey !== "") {
    const hit = sim.idempotency.get("fal:" + idemKey);
    if (hit && now - hit.at < LIFECYCLE.falIdempotencyMs) {
      if (hit.bodyHash !== bodyHash) {
        return errorResponse(400, "Idempotency-Key was already used with a different request body", ctx, { docsUrl: `${DOCS}/create` });
      }
      ctx.note = "idempotent-replay";
      return { ...hit.response, headers: { ...hit.response.headers } };
    }
  }

  if (!parsed.ok) return errorResponse(400, `Invalid request parameters: ${parsed.error}`, ctx, { docsUrl: `${DOCS}/create` });
  if (!isPlainObject(parsed.value)) return errorResponse(400, "Invalid request parameters: body must be a JSON object", ctx, { docsUrl: `${DOCS}/create` });
  const problems = validateCreateBody(parsed.value);
  if (problems.length) {
    return errorResponse(400, `Invalid request parameters: ${problems.map((p) => p.message).join("; ")}`, ctx, { docsUrl: `${DOCS}/create` });
  }
  const b = parsed.value;
  const rng = sim.rng.fal;
  const store = sim.stores.fal;
  let id;
  do id = genFalId(rng); while (store.byId.has(id));
  const rec = {
    id,
    instance_type: b.instance_type,
    region: rng.pick(FAL_REGIONS.slice(0, 5)), // assigned automatically; no region input
    sector: b.sector ?? null,
    ip: docIp(rng.int(0, 507)),
    creator_user_nickname: "developer",
    createdAt: now,
    timeline: [
      { at: now, status: "pending" },
      { at: now + LIFECYCLE.fal.provisioningAfter, status: "provisioning" },
      { at: now + LIFECYCLE.fal.readyAfter, status: "ready" },
    ],
  };
  store.add(rec);
  const response = json(201, render(rec, now));
  if (idemKey !== undefined && idemKey !== "") {
    sim.idempotency.set("fal:" + idemKey, { at: now, bodyHash, response });
  }
  return response;
}

// GET /account/billing[?expand=credits]
function billing(ctx) {
  const expand = getAll(ctx.query, "expand").flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  const unknown = expand.filter((v) => v !== "credits");
  if (unknown.length) {
    return errorResponse(400, `Invalid request parameters: expand accepts only credits (got ${unknown.join(", ")})`, ctx, { docsUrl: "https://fal.ai/docs/platform-apis/v1/account/billing" });
  }
  const body = { username: FAL_USERNAME };
  if (expand.includes("credits")) body.credits = { current_balance: falBalance(ctx.sim).micro / 1_000_000, currency: "USD" };
  return json(200, body);
}
