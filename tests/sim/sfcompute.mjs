// SF Compute preview v2 (https://api.sfcompute.com/preview/v2), instances: seed 003,
// PROVIDERS.md §2 and specs/sfcompute-preview-v2-instances.openapi.json (the July shape).
//
// Two response shapes (sim config `sfcShape`):
// - "seed" (default): seed 003 / May CLI schema: capacity{id,name}, instance_sku{id,name},
//   deployment?, tags, expected_shutdown_at, plus status and priority (int);
// - "july": the spec extract: pool{id,name} + deprecated capacity, instance_sku{object,id,alias},
//   updated_at, managed_by (a deployment or, for some seeded instances, a spot_deployment),
//   enable_public_ipv4, public_ip? and firewall? (only when enable_public_ipv4), priority_level,
//   expected_shutdown_at always null; `workspace` is optional on list.
//
// Decisions where the docs are silent (see also the README section):
// - list order: created_at DESC, then id ASC; cursors encode (created_at, id) of an item, so they
//   stay valid while instances are created or deleted;
// - `cursor` in a response: after a forward page (no ending_before) it is the LAST item's cursor,
//   after an `ending_before` page the FIRST item's cursor; null when has_more is false;
// - repeated `tag` / `tag_key` filters must all match (AND); repeated id/capacity/pool/status/
//   instance_sku values match any (OR, as the docs say for capacity and SKU);
// - create accepts `capacity` or `pool`, `instance_sku` is optional (defaults to the capacity's
//   first SKU) in both shapes; unknown capacity → 404 "Capacity not found", unknown image →
//   404 "Image not found", unknown SKU → 404 "Instance SKU not found";
// - create's `priority` may be an integer or one of yield|normal|preferred|critical (0..3);
// - 429 bodies use type "rate_limited" (undocumented; not in SFC's ErrorType enum);
// - PATCH /instances/{id} is served; batch PATCH, logs and replace answer 501 not_implemented.
//
// Money (PROVIDERS.md §4.3; same token, same error body, same faults as the instance routes;
// billing math in money.mjs; schemas/sfcompute-money.schema.json):
// - GET /orderbook/quote?requirements=&start_at=&end_at= ("Get market quote", preview v2:
//   OrderbookQuoteResponse) → {requirements, start_at, end_at, requested_at, best_bid, best_ask},
//   a side being a PriceLevel {instance_sku, dollars_per_node_hour ("14.000000": the
//   DollarsPerNodeHour text), allocation_schedule_delta [{start_at, end_at, node_count}]} or null
//   when nobody rests on it (the docs allow null and also say "omitted"; the sim sends null).
//   `requirements` is `field[:op]:value` triples joined by `;` (op: eq only here); fields served:
//   instance_sku (an isku_ id, or its legacy clus_ alias) and accelerator (H100, H200, B200), each
//   field's values OR-ed, fields AND-ed; no requirements = every SKU. The best ask is the lowest
//   ask of the matching SKUs, the best bid the highest bid (ties: the lowest SKU id). start_at and
//   end_at are required Unix seconds, minute-aligned (as the order book's windows), end after
//   start. Problems → 422 unprocessable_entity "Validation failed" with details (the documented
//   status; an unknown instance_sku is code unknown_instance_sku). The book is static (sim-made,
//   catalog.mjs SFC_PRICES; $ per node-hour): isku_h100x8ib0001 ask 14.00 / bid 13.20,
//   isku_h100x8000002 ask 12.80 / bid 12.00, isku_h200x8ib0003 ask 19.20 / no bid,
//   isku_b200x8000004 no ask / bid 26.40.
// - GET {host}/v0/balance (the sibling API the client derives: /sfcompute/v0/balance) → the shape
//   SF Compute's own spec documented for /v0/balance until 2026-02 (the sfcompute CLI's generated
//   schema): {object: "balance", available: {amount, currency: "usd"}, reserved: {amount,
//   currency: "usd"}}, amounts in cents; reserved is 0 (the sim places no orders).
// - GET {host}/v1/balances (what that spec documents now: GetBalanceResponse) → {object:
//   "balances", available_balance_cents, current_balance_cents, current_overage_cents,
//   overage_limit_cents (0), updated_at (now)}.
//   Both drain on the sim clock: a `running` instance costs its SKU's billed price (the ask where
//   there is one; isku_b200x8000004 $28.00 per node-hour), from $10,000.00 at the sim epoch; below
//   zero the balance stays 0 and the rest is current_overage_cents.

import { statusAt, reachedAt, schedule } from "./clock.mjs";
import { checkAuth } from "./auth.mjs";
import { genSfcId, LIFECYCLE, sfcImages, sshHostKey } from "./fleet.mjs";
import { SFC_CAPACITIES, SFC_SKUS, SFC_STATUSES, SFC_PRIORITY_LEVELS, SFC_PRICES, SFC_SKU_ACCELERATOR } from "./catalog.mjs";
import { sfcBalance, centsToDollars } from "./money.mjs";
import { json, empty, parseIntStrict, parseJsonBody, isPlainObject, isStrictBase64, getAll, b64url, fromB64url, ALNUM_LOWER } from "./util.mjs";
import { SIM_KEYS, BASE_PATHS, SFC_ACCOUNT, SFC_WORKSPACE_NAME, SFC_WORKSPACE_PATH } from "./defaults.mjs";

export const name = "sfcompute";
export const basePath = BASE_PATHS.sfcompute;

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
export const MAX_CLOUD_INIT_BYTES = 64 * 1024;

const ERROR_TYPES = {
  400: "invalid_request_error", 401: "authentication_error", 402: "payment_required", 403: "forbidden",
  404: "not_found", 409: "conflict", 422: "unprocessable_entity", 429: "rate_limited", 500: "api_error",
  501: "not_implemented", 502: "api_error", 503: "service_unavailable",
};

/** SFC error body: {error:{type,message,details?}} (details on 400/409/422 only). */
export function errorResponse(status, message, ctx, { details, headers } = {}) {
  const error = { type: ERROR_TYPES[status] ?? "api_error", message };
  if (details !== undefined) error.details = details;
  else if (status === 400 || status === 409 || status === 422) error.details = [];
  return json(status, { error }, headers);
}

const detail = (field, code, message) => ({ field, code, message });

export function authenticate(headers) {
  return checkAuth(headers, "Bearer", SIM_KEYS.sfcompute, SIM_KEYS.sfcomputeForbidden);
}

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$/;
const TAG_KEY_RE = /^[^_,= ][^,= ]{0,127}$/u;
const TAG_VALUE_RE = /^[^,=]{0,256}$/u;
const CURSOR_RE = /^nodec_[A-Za-z0-9_-]+$/;

// ---------------------------------------------------------------------------------------------
// rendering

const resourcePath = (r) => `sfc:instance:${SFC_ACCOUNT}:${SFC_WORKSPACE_NAME}:${r.name}`;
const PRIORITY_LEVEL = (p) => SFC_PRIORITY_LEVELS[Math.max(0, Math.min(3, p))];

function updatedAt(r, now) {
  let t = r.created_at;
  for (const e of r.timeline) if (e.at <= now) t = Math.max(t, Math.floor(e.at / 1000));
  if (r.updatedAt) t = Math.max(t, r.updatedAt);
  return t;
}

/** July `managed_by`: the deployment or spot deployment managing the instance, else null. */
function managedBy(r) {
  if (r.deployment) return { object: "deployment", id: r.deployment.id, name: r.deployment.name };
  if (r.spotDeployment) return { object: "spot_deployment", id: r.spotDeployment.id, name: r.spotDeployment.name };
  return null;
}

/** Renders an instance in the configured shape. */
export function render(r, now, shape, { includeCloudInit = false } = {}) {
  const status = statusAt(r.timeline, now);
  const head = {
    id: r.id,
    resource_path: resourcePath(r),
    owner: SFC_ACCOUNT,
    workspace: SFC_WORKSPACE_NAME,
    workspace_id: SIM_KEYS.sfcWorkspace,
    name: r.name,
    object: "instance",
    status,
  };
  if (shape === "july") {
    const o = {
      ...head,
      instance_sku: { object: "instance_sku", id: r.sku.id, alias: r.sku.name },
      capacity: { id: r.capacity.id, name: r.capacity.name },
      pool: { id: r.capacity.pool, name: r.capacity.name },
      created_at: r.created_at,
      updated_at: updatedAt(r, now),
      image: { id: r.image.id, name: r.image.name },
      managed_by: managedBy(r),
      cloud_init_user_data_used: r.cloud_init_user_data !== null,
    };
    if (includeCloudInit && r.cloud_init_user_data !== null) o.cloud_init_user_data = r.cloud_init_user_data;
    o.enable_public_ipv4 = r.enable_public_ipv4;
    if (r.enable_public_ipv4) {
      o.public_ip = r.public_ip;
      o.firewall = r.firewall;
    }
    o.tags = Object.keys(r.tags).length ? { ...r.tags } : null;
    o.expected_shutdown_at = null; // "Deprecated. Always returned as null"
    o.priority_level = PRIORITY_LEVEL(r.priority);
    return o;
  }
  const o = {
    ...head,
    capacity: { id: r.capacity.id, name: r.capacity.name },
    created_at: r.created_at,
    image: { id: r.image.id, name: r.image.name },
    cloud_init_user_data_used: r.cloud_init_user_data !== null,
    instance_sku: { id: r.sku.id, name: r.sku.name },
  };
  if (r.deployment) o.deployment = { id: r.deployment.id, name: r.deployment.name };
  if (includeCloudInit && r.cloud_init_user_data !== null) o.cloud_init_user_data = r.cloud_init_user_data;
  o.tags = { ...r.tags };
  o.expected_shutdown_at = r.expected_shutdown_at;
  o.priority = r.priority;
  return o;
}

export function renderAll(sim, { includeCloudInit = false } = {}) {
  const now = sim.now();
  return sim.stores.sfcompute.ordered(now).map((r) => render(r, now, sim.config.sfcShape, { includeCloudInit }));
}

// ---------------------------------------------------------------------------------------------
// routing

export function handle(ctx) {
  const { method, path, auth } = ctx;
  if (ctx.sibling || path === "/orderbook/quote") return money(ctx);
  if (auth.auth === "forbidden") return errorResponse(403, "This token does not have permission to access instances", ctx);
  if (auth.auth !== "ok") return errorResponse(401, auth.auth === "missing" ? "Missing bearer token" : "Invalid bearer token", ctx);

  if (path === "/instances") {
    if (method === "GET") return list(ctx);
    if (method === "POST") return create(ctx);
    if (method === "PATCH") return errorResponse(501, "Batch PATCH /instances is not simulated", ctx);
    return errorResponse(405, "Method not allowed", ctx);
  }
  const m = /^\/instances\/([^/]+)(\/[a-z_]+)?$/.exec(path);
  if (m) {
    let raw;
    try {
      raw = decodeURIComponent(m[1]);
    } catch {
      return errorResponse(404, "Instance not found", ctx);
    }
    const action = m[2] ?? "";
    if (action === "") {
      if (method === "GET") return get(ctx, raw);
      if (method === "DELETE") return del(ctx, raw);
      if (method === "PATCH") return patch(ctx, raw);
    } else if (action === "/terminate" && method === "POST") return terminate(ctx, raw);
    else if (action === "/ssh" && method === "GET") return ssh(ctx, raw);
    else if ((action === "/logs" && method === "GET") || (action === "/replace" && method === "POST")) {
      return errorResponse(501, `${method} /instances/{id}${action} is not simulated`, ctx);
    }
    return errorResponse(404, "Not found", ctx);
  }
  return errorResponse(404, "Not found", ctx);
}

/** Finds an instance by id (`inst_…`, legacy `vm_…`) or resource path sfc:instance:<acct>:<ws>:<name>. */
function resolve(sim, ref, now) {
  const store = sim.stores.sfcompute;
  if (ref.startsWith("inst_")) return store.get(ref, now);
  if (ref.startsWith("vm_")) return store.get("inst_" + ref.slice(3), now);
  const m = /^sfc:instance:([a-zA-Z0-9._-]+):([a-zA-Z0-9._-]+):([a-zA-Z0-9._-]+)$/.exec(ref);
  if (m && m[1] === SFC_ACCOUNT && m[2] === SFC_WORKSPACE_NAME) {
    for (const r of store.ordered(now)) if (r.name === m[3]) return r;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// list

const cmp = (a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
export const encodeCursor = (r) => "nodec_" + b64url(`${r.created_at}.${r.id}`);
export function decodeCursor(c) {
  if (typeof c !== "string" || !CURSOR_RE.test(c)) return null;
  const m = /^(\d{1,12})\.(inst_[0-9a-zA-Z_-]{1,21})$/.exec(fromB64url(c.slice(6)));
  return m ? { created_at: Number(m[1]), id: m[2] } : null;
}

const workspaceMatches = (w) => w === SIM_KEYS.sfcWorkspace || w === SFC_WORKSPACE_PATH || w === SFC_WORKSPACE_NAME;

function capacityMatches(cap, ref) {
  if (ref === cap.id || ref === cap.pool) return true;
  const m = /^sfc:(capacity|pool):([a-zA-Z0-9._-]+):([a-zA-Z0-9._-]+):([a-zA-Z0-9._-]+)$/.exec(ref);
  return !!m && m[2] === SFC_ACCOUNT && m[3] === SFC_WORKSPACE_NAME && m[4] === cap.name;
}

function list(ctx) {
  const { sim, query } = ctx;
  const shape = sim.config.sfcShape;
  const bad = (field, code, message) => errorResponse(400, message, ctx, { details: [detail(field, code, message)] });

  const workspace = query.get("workspace");
  if (workspace === null || workspace === "") {
    if (shape !== "july") {
      const msg = "workspace is required";
      return errorResponse(422, "Validation failed", ctx, { details: [detail("workspace", "required", msg)] });
    }
  }
  let limit = DEFAULT_LIMIT;
  if (query.has("limit")) {
    limit = parseIntStrict(query.get("limit"));
    if (!Number.isInteger(limit)) return bad("limit", "invalid_type", "limit must be an integer between 1 and 200");
    if (limit < 1 || limit > MAX_LIMIT) return bad("limit", "out_of_range", "limit must be between 1 and 200");
  }
  const sa = query.get("starting_after");
  const eb = query.get("ending_before");
  if (sa !== null && eb !== null) return bad("ending_before", "mutually_exclusive", "starting_after and ending_before cannot be used together");
  let after = null;
  let before = null;
  if (sa !== null && !(after = decodeCursor(sa))) return bad("starting_after", "invalid_cursor", "starting_after must be a cursor from a previous response (nodec_…)");
  if (eb !== null && !(before = decodeCursor(eb))) return bad("ending_before", "invalid_cursor", "ending_before must be a cursor from a previous response (nodec_…)");
  const range = {};
  for (const key of ["created_after", "created_before"]) {
    if (query.has(key)) {
      const v = parseIntStrict(query.get(key));
      if (!Number.isInteger(v)) return bad(key, "invalid_type", `${key} must be a Unix timestamp in seconds`);
      range[key] = v;
    }
  }
  const statuses = getAll(query, "status");
  for (const s of statuses) if (!SFC_STATUSES.includes(s)) return bad("status", "invalid_enum_value", `status must be one of ${SFC_STATUSES.join(", ")}`);
  const include = getAll(query, "include");
  for (const s of include) if (s !== "cloud_init_user_data") return bad("include", "invalid_enum_value", "include only accepts cloud_init_user_data");
  const tags = [];
  for (const t of getAll(query, "tag")) {
    const i = t.indexOf("=");
    if (i < 1) return bad("tag", "invalid_format", "tag must be key=value (with the = percent-encoded)");
    tags.push([t.slice(0, i), t.slice(i + 1)]);
  }
  const tagKeys = getAll(query, "tag_key");
  const ids = getAll(query, "id").map((v) => (v.startsWith("vm_") ? "inst_" + v.slice(3) : v));
  const caps = [...getAll(query, "capacity"), ...getAll(query, "pool")];
  const skus = getAll(query, "instance_sku");

  const now = sim.now();
  const matches = (r) => {
    if (workspace && !workspaceMatches(workspace)) return false;
    if (ids.length && !ids.includes(r.id)) return false;
    if (caps.length && !caps.some((c) => capacityMatches(r.capacity, c))) return false;
    if (statuses.length && !statuses.includes(statusAt(r.timeline, now))) return false;
    if (range.created_after !== undefined && r.created_at < range.created_after) return false;
    if (range.created_before !== undefined && r.created_at > range.created_before) return false;
    if (skus.length && !skus.includes(r.sku.id)) return false;
    for (const [k, v] of tags) if (r.tags[k] !== v) return false;
    for (const k of tagKeys) if (!Object.hasOwn(r.tags, k)) return false;
    return true;
  };
  const all = sim.stores.sfcompute.ordered(now).filter(matches);
  let page;
  let has_more;
  let cursor;
  if (before) {
    const prior = all.filter((r) => cmp(r, before) < 0);
    page = prior.slice(Math.max(0, prior.length - limit));
    has_more = prior.length > limit;
    cursor = has_more && page.length ? encodeCursor(page[0]) : null;
  } else {
    const rest = after ? all.filter((r) => cmp(r, after) > 0) : all;
    page = rest.slice(0, limit);
    has_more = rest.length > limit;
    cursor = has_more && page.length ? encodeCursor(page[page.length - 1]) : null;
  }
  const includeCloudInit = include.includes("cloud_init_user_data");
  return json(200, {
    object: "list",
    has_more,
    data: page.map((r) => render(r, now, shape, { includeCloudInit })),
    cursor,
  });
}

// ---------------------------------------------------------------------------------------------
// get / terminate / delete / ssh / patch

function get(ctx, ref) {
  const now = ctx.sim.now();
  const r = resolve(ctx.sim, ref, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  return json(200, render(r, now, ctx.sim.config.sfcShape));
}

function terminate(ctx, ref) {
  const now = ctx.sim.now();
  const r = resolve(ctx.sim, ref, now);
  if (!r || statusAt(r.timeline, now) === "terminated") return errorResponse(404, "Instance not found or already terminated", ctx);
  r.timeline = schedule(r.timeline, now, [[0, "terminated"]]);
  return json(200, render(r, now, ctx.sim.config.sfcShape));
}

function del(ctx, ref) {
  const now = ctx.sim.now();
  const r = resolve(ctx.sim, ref, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  if (statusAt(r.timeline, now) !== "terminated") {
    return errorResponse(409, "Instance must be terminated before deletion", ctx, { details: [] });
  }
  ctx.sim.stores.sfcompute.remove(r.id, now);
  return empty(204);
}

function ssh(ctx, ref) {
  const now = ctx.sim.now();
  const r = resolve(ctx.sim, ref, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  if (statusAt(r.timeline, now) !== "running") return errorResponse(404, "SSH details not available", ctx);
  const since = Math.floor((reachedAt(r.timeline, "running", now) ?? now) / 1000);
  return json(200, {
    hostname: r.public_ip ?? r.sshIp,
    port: 22,
    host_keys: [{ key_type: "ssh-ed25519", key: sshHostKey(r.id) }],
    last_successful_key_update_at: since,
    last_attempted_key_update_at: since,
  });
}

function patch(ctx, ref) {
  const now = ctx.sim.now();
  const r = resolve(ctx.sim, ref, now);
  if (!r) return errorResponse(404, "Instance not found", ctx);
  const parsed = parseJsonBody(ctx.body);
  if (!parsed.ok) return errorResponse(400, `Invalid JSON body: ${parsed.error}`, ctx);
  if (!isPlainObject(parsed.value)) return errorResponse(422, "Validation failed", ctx, { details: [detail(null, "invalid_type", "body must be a JSON object")] });
  const b = parsed.value;
  const details = [];
  if (b.name !== undefined && b.name !== null) {
    if (typeof b.name !== "string" || !NAME_RE.test(b.name)) details.push(detail("name", "invalid_format", "name must match [a-zA-Z0-9][a-zA-Z0-9._-]{0,254}"));
  }
  if (b.tags !== undefined && b.tags !== null) validateTags(b.tags, details);
  const prio = priorityFrom(b, details);
  if (details.length) return errorResponse(422, "Validation failed", ctx, { details });
  if (typeof b.name === "string" && b.name !== r.name) {
    if (ctx.sim.stores.sfcompute.list.some((o) => o.name === b.name)) return errorResponse(400, "An instance with this name already exists", ctx, { details: [detail("name", "already_exists", "name is already in use")] });
    r.name = b.name;
  }
  if (b.tags !== undefined) r.tags = b.tags === null ? {} : { ...b.tags }; // full replacement; null clears
  if (prio !== undefined) r.priority = prio;
  r.updatedAt = Math.floor(now / 1000);
  return json(200, render(r, now, ctx.sim.config.sfcShape));
}

// ---------------------------------------------------------------------------------------------
// create

function validateTags(tags, details) {
  if (!isPlainObject(tags)) return details.push(detail("tags", "invalid_type", "tags must be an object of string values"));
  const keys = Object.keys(tags);
  if (keys.length > 50) details.push(detail("tags", "too_many", "at most 50 tags are allowed"));
  for (const k of keys) {
    if ([...k].length > 128 || !TAG_KEY_RE.test(k)) details.push(detail(`tags.${k}`, "invalid_key", "tag keys are 1-128 characters, must not start with _ and must not contain , = or spaces"));
    const v = tags[k];
    if (typeof v !== "string" || [...v].length > 256 || !TAG_VALUE_RE.test(v)) details.push(detail(`tags.${k}`, "invalid_value", "tag values are strings of at most 256 characters without , or ="));
  }
}

function priorityFrom(b, details) {
  if (b.priority !== undefined && b.priority !== null) {
    if (Number.isInteger(b.priority)) return b.priority;
    if (SFC_PRIORITY_LEVELS.includes(b.priority)) return SFC_PRIORITY_LEVELS.indexOf(b.priority);
    details.push(detail("priority", "invalid_value", `priority must be an integer or one of ${SFC_PRIORITY_LEVELS.join(", ")}`));
    return undefined;
  }
  if (b.priority_level !== undefined && b.priority_level !== null) {
    if (SFC_PRIORITY_LEVELS.includes(b.priority_level)) return SFC_PRIORITY_LEVELS.indexOf(b.priority_level);
    details.push(detail("priority_level", "invalid_value", `priority_level must be one of ${SFC_PRIORITY_LEVELS.join(", ")}`));
  }
  return undefined;
}

function findImage(sim, ref) {
  const images = sfcImages(sim.config.hostile);
  const alias = ref.startsWith("vmi_") ? "image_" + ref.slice(4) : ref;
  const m = /^sfc:image:([a-zA-Z0-9._-]+):([a-zA-Z0-9._-]+):(.+)$/.exec(ref);
  return images.find((i) => i.id === alias || (m && m[1] === SFC_ACCOUNT && m[2] === SFC_WORKSPACE_NAME && m[3] === i.name));
}

function create(ctx) {
  const { sim } = ctx;
  const parsed = parseJsonBody(ctx.body);
  if (!parsed.ok) return errorResponse(400, `Invalid JSON body: ${parsed.error}`, ctx);
  if (!isPlainObject(parsed.value)) return errorResponse(422, "Validation failed", ctx, { details: [detail(null, "invalid_type", "body must be a JSON object")] });
  const b = parsed.value;
  const details = [];
  const capRef = b.capacity ?? b.pool;
  if (capRef === undefined || capRef === null) details.push(detail("capacity", "required", "capacity (or pool) is required"));
  else if (typeof capRef !== "string") details.push(detail(b.capacity !== undefined ? "capacity" : "pool", "invalid_type", "must be a string"));
  if (b.image === undefined || b.image === null) details.push(detail("image", "required", "image is required"));
  else if (typeof b.image !== "string") details.push(detail("image", "invalid_type", "image must be a string"));
  if (b.name !== undefined && b.name !== null && (typeof b.name !== "string" || !NAME_RE.test(b.name))) {
    details.push(detail("name", "invalid_format", "name must be 1-255 characters matching [a-zA-Z0-9][a-zA-Z0-9._-]{0,254}"));
  }
  if (b.instance_sku !== undefined && b.instance_sku !== null && typeof b.instance_sku !== "string") details.push(detail("instance_sku", "invalid_type", "instance_sku must be a string"));
  let cloudInit = null;
  if (b.cloud_init_user_data !== undefined && b.cloud_init_user_data !== null) {
    if (typeof b.cloud_init_user_data !== "string" || !isStrictBase64(b.cloud_init_user_data)) {
      details.push(detail("cloud_init_user_data", "invalid_format", "cloud_init_user_data must be base64"));
    } else if (Buffer.from(b.cloud_init_user_data, "base64").length > MAX_CLOUD_INIT_BYTES) {
      details.push(detail("cloud_init_user_data", "too_large", "cloud_init_user_data must be at most 64KB"));
    } else cloudInit = b.cloud_init_user_data;
  }
  if (b.tags !== undefined && b.tags !== null) validateTags(b.tags, details);
  const priority = priorityFrom(b, details);
  for (const f of ["_preview_enable_infiniband", "enable_public_ipv4"]) {
    if (b[f] !== undefined && typeof b[f] !== "boolean") details.push(detail(f, "invalid_type", `${f} must be a boolean`));
  }
  if (b.enable_public_ipv4 === true && (typeof b.firewall !== "string" || !b.firewall)) details.push(detail("firewall", "required", "firewall is required when enable_public_ipv4 is true"));
  if (b.enable_public_ipv4 !== true && b.firewall !== undefined && b.firewall !== null) details.push(detail("firewall", "forbidden", "firewall is only allowed when enable_public_ipv4 is true"));
  if (typeof b.name === "string" && NAME_RE.test(b.name) && sim.stores.sfcompute.list.some((r) => r.name === b.name)) {
    details.push(detail("name", "already_exists", "an instance with this name already exists (terminated instances keep their name until deleted)"));
  }
  if (details.length) return errorResponse(422, "Validation failed", ctx, { details });

  const cap = SFC_CAPACITIES.find((c) => capacityMatches(c, capRef));
  if (!cap) return errorResponse(404, "Capacity not found", ctx);
  const image = findImage(sim, b.image);
  if (!image) return errorResponse(404, "Image not found", ctx);
  let sku = SFC_SKUS.find((s) => s.id === cap.skus[0]);
  if (typeof b.instance_sku === "string") {
    sku = SFC_SKUS.find((s) => s.id === b.instance_sku || s.id === b.instance_sku.replace(/^clus_/, "isku_"));
    if (!sku) return errorResponse(404, "Instance SKU not found", ctx);
    if (!cap.skus.includes(sku.id)) {
      return errorResponse(422, "Validation failed", ctx, { details: [detail("instance_sku", "not_in_capacity", "instance_sku is not available on this capacity")] });
    }
  }
  if (b._preview_enable_infiniband === true && !sku.infiniband) {
    return errorResponse(422, "Validation failed", ctx, { details: [detail("_preview_enable_infiniband", "unsupported", "the instance SKU does not support InfiniBand")] });
  }
  if (b.enable_public_ipv4 === true && !sku.publicIpv4) {
    return errorResponse(422, "Validation failed", ctx, { details: [detail("enable_public_ipv4", "unsupported", "the instance SKU does not offer public IPv4")] });
  }

  const now = sim.now();
  const rng = sim.rng.sfcompute;
  const store = sim.stores.sfcompute;
  let id;
  do id = genSfcId(rng); while (store.byId.has(id));
  let name = b.name;
  if (typeof name !== "string") {
    do name = "instance-" + rng.chars(8, ALNUM_LOWER); while (store.list.some((r) => r.name === name));
  }
  const created_at = Math.floor(now / 1000);
  const ipN = rng.int(0, 507);
  const rec = {
    id,
    name,
    capacity: cap,
    sku,
    image,
    deployment: null,
    spotDeployment: null,
    tags: isPlainObject(b.tags) ? { ...b.tags } : {},
    cloud_init_user_data: cloudInit,
    created_at,
    updatedAt: null,
    expected_shutdown_at: null,
    priority: priority ?? 1,
    infiniband: b._preview_enable_infiniband === true,
    enable_public_ipv4: b.enable_public_ipv4 === true,
    public_ip: b.enable_public_ipv4 === true ? `203.0.113.${1 + (ipN % 254)}` : null,
    // a firewall given as a resource path is stored as its (sim) id
    firewall: b.enable_public_ipv4 === true ? (/^frwl_[0-9a-zA-Z_-]{1,21}$/.test(b.firewall) ? b.firewall : "frwl_simdefault01") : null,
    sshIp: `198.51.100.${1 + (ipN % 254)}`,
    timeline: [
      { at: now, status: "awaiting_allocation" },
      { at: now + LIFECYCLE.sfcompute.runningAfter, status: "running" },
    ],
  };
  store.add(rec);
  return json(201, render(rec, now, sim.config.sfcShape));
}

// ---------------------------------------------------------------------------------------------
// money: order-book quote, balances (see the header and money.mjs)

const QUOTE_ROUTES = { "/orderbook/quote": quote }; // preview v2, under the base
const SIBLING_ROUTES = { "/v0/balance": balanceV0, "/v1/balances": balancesV1 }; // from the host root

function money(ctx) {
  const { method, path, auth } = ctx;
  if (auth.auth === "forbidden") return errorResponse(403, "This token does not have permission for this request", ctx);
  if (auth.auth !== "ok") return errorResponse(401, auth.auth === "missing" ? "Missing bearer token" : "Invalid bearer token", ctx);
  const fn = (ctx.sibling ? SIBLING_ROUTES : QUOTE_ROUTES)[path];
  if (!fn) return errorResponse(404, "Not found", ctx);
  if (method !== "GET") return errorResponse(405, "Method not allowed", ctx);
  return fn(ctx);
}

const REQ_FIELD_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}$/;
const SKU_ID_RE = /^(isku|clus)_[0-9a-zA-Z_-]{1,21}$/;
const ACCELERATORS = ["H100", "H200", "B200"];

/** Parses `requirements` into {field: [values]} or returns {details} (422). */
function parseRequirements(raw) {
  const reqs = {};
  const details = [];
  if (raw === null || raw.trim() === "") return { reqs };
  for (const triple of raw.split(";")) {
    const parts = triple.split(":");
    let field;
    let op = "eq";
    let value;
    if (parts.length === 2) [field, value] = parts;
    else if (parts.length === 3) [field, op, value] = parts;
    else {
      details.push(detail("requirements", "invalid_format", `'${triple}' is not field[:op]:value`));
      continue;
    }
    if (!REQ_FIELD_RE.test(field) || value === "") {
      details.push(detail("requirements", "invalid_format", `'${triple}' is not field[:op]:value`));
      continue;
    }
    if (op !== "eq") {
      details.push(detail("requirements", "unsupported_operator", `operator '${op}' is not supported for ${field} (use eq)`));
      continue;
    }
    if (field === "instance_sku") {
      const id = value.replace(/^clus_/, "isku_");
      if (!SKU_ID_RE.test(value)) details.push(detail("requirements", "invalid_format", `instance_sku '${value}' is not an instance SKU id (isku_…)`));
      else if (!SFC_PRICES[id]) details.push(detail("requirements", "unknown_instance_sku", `instance SKU ${value} not found`));
      else (reqs.instance_sku ??= []).push(id);
    } else if (field === "accelerator") {
      const v = ACCELERATORS.find((a) => a.toLowerCase() === value.toLowerCase());
      if (!v) details.push(detail("requirements", "invalid_value", `accelerator must be one of ${ACCELERATORS.join(", ")}`));
      else (reqs.accelerator ??= []).push(v);
    } else {
      details.push(detail("requirements", "unknown_property", `unknown instance SKU property '${field}' (instance_sku, accelerator)`));
    }
  }
  return details.length ? { details } : { reqs };
}

function quote(ctx) {
  const { sim, query } = ctx;
  const details = [];
  const parsed = parseRequirements(query.get("requirements"));
  if (parsed.details) details.push(...parsed.details);
  const times = {};
  for (const key of ["start_at", "end_at"]) {
    const raw = query.get(key);
    if (raw === null || raw === "") {
      details.push(detail(key, "required", `${key} is required`));
      continue;
    }
    const v = parseIntStrict(raw);
    if (!Number.isInteger(v) || v < 0) details.push(detail(key, "invalid_type", `${key} must be a Unix timestamp in seconds`));
    else if (v % 60 !== 0) details.push(detail(key, "not_aligned", `${key} must be a multiple of 60 seconds`));
    else times[key] = v;
  }
  if (times.start_at !== undefined && times.end_at !== undefined && times.end_at <= times.start_at) {
    details.push(detail("end_at", "invalid_range", "end_at must be after start_at"));
  }
  if (details.length) return errorResponse(422, "Validation failed", ctx, { details });
  const { reqs } = parsed;
  const skus = Object.keys(SFC_PRICES)
    .filter((id) => (!reqs.instance_sku || reqs.instance_sku.includes(id)) && (!reqs.accelerator || reqs.accelerator.includes(SFC_SKU_ACCELERATOR[id])))
    .sort();
  const level = (id, cents, nodes) => ({
    instance_sku: id,
    dollars_per_node_hour: centsToDollars(cents),
    allocation_schedule_delta: [{ start_at: times.start_at, end_at: times.end_at, node_count: nodes }],
  });
  let ask = null;
  let bid = null;
  for (const id of skus) {
    const p = SFC_PRICES[id];
    if (p.ask !== null && (ask === null || p.ask < SFC_PRICES[ask].ask)) ask = id;
    if (p.bid !== null && (bid === null || p.bid > SFC_PRICES[bid].bid)) bid = id;
  }
  return json(200, {
    requirements: reqs,
    start_at: times.start_at,
    end_at: times.end_at,
    requested_at: sim.clock.nowSeconds(),
    best_bid: bid === null ? null : level(bid, SFC_PRICES[bid].bid, SFC_PRICES[bid].bidNodes),
    best_ask: ask === null ? null : level(ask, SFC_PRICES[ask].ask, SFC_PRICES[ask].askNodes),
  });
}

function balanceV0(ctx) {
  const b = sfcBalance(ctx.sim);
  return json(200, { object: "balance", available: { amount: b.current, currency: "usd" }, reserved: { amount: 0, currency: "usd" } });
}

function balancesV1(ctx) {
  const b = sfcBalance(ctx.sim);
  return json(200, {
    object: "balances",
    available_balance_cents: b.current,
    current_balance_cents: b.current,
    current_overage_cents: b.overage,
    overage_limit_cents: 0,
    updated_at: ctx.sim.clock.nowSeconds(),
  });
}
