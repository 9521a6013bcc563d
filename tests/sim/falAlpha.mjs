// fal's older alpha Compute API (https://rest.alpha.fal.ai): seed 002. Separate fleet from v1.
//
// Undocumented upstream, decided here (the alpha service is a FastAPI app, so FastAPI defaults):
// - error bodies are FastAPI style: {"detail": "<message>"}; validation errors are 422 with
//   {"detail": [{type, loc, msg, input}]} (pydantic v2 shape);
// - POST /compute/instance answers 200 with the ComputeInstance (FastAPI's default for POST);
// - DELETE /compute/instance/{id} answers 204 with no body;
// - the body rules are the same as v1 (extra fields rejected, sector only with gpu_8x_h100_sxm5).

import { statusAt } from "./clock.mjs";
import { checkAuth } from "./auth.mjs";
import { LIFECYCLE } from "./fleet.mjs";
import { validateCreateBody } from "./fal.mjs";
import { json, empty, parseJsonBody, isPlainObject, docIp } from "./util.mjs";
import { SIM_KEYS, BASE_PATHS } from "./defaults.mjs";

export const name = "fal-alpha";
export const basePath = BASE_PATHS["fal-alpha"];

const MESSAGES = { 401: "Not authenticated", 403: "Not enough permissions", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };

export function errorResponse(status, message, ctx, { headers } = {}) {
  return json(status, { detail: message ?? MESSAGES[status] ?? "Error" }, headers);
}

export function authenticate(headers) {
  return checkAuth(headers, "Key", SIM_KEYS.fal, SIM_KEYS.falForbidden);
}

/** ComputeInstance: id (UUID), instance_type, sector (nullable), ip (nullable), status. */
export function render(r, now) {
  const status = statusAt(r.timeline, now);
  return { id: r.id, instance_type: r.instance_type, sector: r.sector ?? null, ip: status === "ready" ? r.ip : null, status };
}

export function renderAll(sim) {
  const now = sim.now();
  return sim.stores["fal-alpha"].ordered(now).map((r) => render(r, now));
}

export function handle(ctx) {
  const { method, path, auth } = ctx;
  if (auth.auth === "forbidden") return errorResponse(403, "Not enough permissions: an ADMIN scope key is required", ctx);
  if (auth.auth === "missing") return errorResponse(401, "Not authenticated", ctx);
  if (auth.auth !== "ok") return errorResponse(401, "Invalid authentication credentials", ctx);

  if (path === "/compute/instances") {
    if (method === "GET") return list(ctx);
    return errorResponse(405, "Method Not Allowed", ctx);
  }
  if (path === "/compute/instance") {
    if (method === "POST") return create(ctx);
    return errorResponse(405, "Method Not Allowed", ctx);
  }
  const m = /^\/compute\/instance\/([^/]+)$/.exec(path);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (method === "GET") return get(ctx, id);
    if (method === "DELETE") return del(ctx, id);
    return errorResponse(405, "Method Not Allowed", ctx);
  }
  // note: the plural /compute/instances/{id} (a third-party doc's variant) is NOT served
  return errorResponse(404, "Not Found", ctx);
}

function list(ctx) {
  return json(200, renderAll(ctx.sim)); // bare array, no pagination
}

function get(ctx, id) {
  const now = ctx.sim.now();
  const r = ctx.sim.stores["fal-alpha"].get(id, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  return json(200, render(r, now));
}

function del(ctx, id) {
  const now = ctx.sim.now();
  if (!ctx.sim.stores["fal-alpha"].get(id, now)) return errorResponse(404, "Instance not found", ctx);
  ctx.sim.stores["fal-alpha"].remove(id, now);
  return empty(204);
}

const PYDANTIC_TYPES = { missing: ["missing", "Field required"], extra: ["extra_forbidden", "Extra inputs are not permitted"] };

function create(ctx) {
  const { sim, body } = ctx;
  const parsed = parseJsonBody(body);
  if (!parsed.ok) {
    return json(422, { detail: [{ type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} }] });
  }
  if (!isPlainObject(parsed.value)) {
    return json(422, { detail: [{ type: "model_attributes_type", loc: ["body"], msg: "Input should be a valid dictionary or object to extract fields from", input: parsed.value }] });
  }
  const problems = validateCreateBody(parsed.value);
  if (problems.length) {
    const detail = problems.map((p) => {
      const [type, msg] = PYDANTIC_TYPES[p.kind] ?? [p.kind === "enum" ? "enum" : "value_error", p.kind === "value" ? `Value error, ${p.message}` : p.message];
      return { type, loc: ["body", p.field], msg, input: parsed.value[p.field] ?? null };
    });
    return json(422, { detail });
  }
  const b = parsed.value;
  const now = sim.now();
  const rng = sim.rng["fal-alpha"];
  const store = sim.stores["fal-alpha"];
  let id;
  do id = rng.uuid(); while (store.byId.has(id));
  const rec = {
    id,
    instance_type: b.instance_type,
    sector: b.sector ?? null,
    ip: docIp(rng.int(0, 507)),
    createdAt: now,
    timeline: [
      { at: now, status: "pending" },
      { at: now + LIFECYCLE.fal.provisioningAfter, status: "provisioning" },
      { at: now + LIFECYCLE.fal.readyAfter, status: "ready" },
    ],
  };
  store.add(rec);
  return json(200, render(rec, now));
}
