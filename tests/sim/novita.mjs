// Novita GPU instance API v1 (https://api.novita.ai/gpu-instance/openapi/v1): seed 004 and
// PROVIDERS.md §3 and §4.1.
//
// Undocumented upstream, decided here (see also the README section):
// - error body: {"code": <http status>, "reason": "<UPPER_SNAKE>", "message": "…", "metadata": {}}
//   — an inference (PROVIDERS.md §3.3 lists it among the candidate shapes); clients must parse
//   error bodies defensively anyway;
// - reasons: the documented codes (PROVIDERS.md §4.1, novita.ai/docs/api-reference/basic-error-code)
//   where one fits: bad/missing parameters and bodies → 400 VALIDATOR_PARAM; a missing or wrong key
//   → 401 UNAUTHORIZED (the message says which); a key without permission → 403 FORBIDDEN; 429 →
//   RATE_LIMIT_EXCEEDED; 500 → UNKNOWN; the account instance quota → 400 CREATE_INSTANCE_LIMIT;
//   an unknown instance id (get, start, stop, restart, delete) → **400** RESOURCE_NOT_FOUND (the
//   documented status: a missing instance is a 400, not a 404). Sim-specific reasons where no
//   documented code exists: INVALID_CONTENT_TYPE, INVALID_INSTANCE_STATUS, PRODUCT_NOT_FOUND,
//   PRODUCT_KIND_MISMATCH, PRODUCT_UNAVAILABLE, CLUSTER_NOT_FOUND, and NOT_FOUND /
//   METHOD_NOT_ALLOWED for unknown routes
//   (404 / 405), SERVICE_UNAVAILABLE / BAD_GATEWAY / GATEWAY_TIMEOUT for injected 5xx faults;
// - every call needs `Content-Type: application/json` (the docs mark it required, GET included);
//   a missing or different Content-Type → 400 INVALID_CONTENT_TYPE. Auth is checked first (401);
// - list: pageSize and pageNum are required (missing or not an integer >= 0 → 400 VALIDATOR_PARAM
//   naming the parameter); `total` is always present (the full count after filters); order is
//   createdAt DESC, then id ASC. Numbering and page size follow the sim config `novitaPaging`
//   (see parseNovitaPaging; default "one,cap:100"): pageNum counted from 1 with 0 served as page 1,
//   pageSize > 100 capped silently at 100, pageSize 0 → an empty page (with `total`). Page k is
//   always the contiguous slice [k·size, (k+1)·size) of the list order for the effective size;
// - list items carry `createdAt` (string, Unix seconds; from the older Get page revision);
// - spot instances carry spotStatus + spotReclaimTime (unix seconds as a string, "0" = no reclaim
//   scheduled); the seeded fleet has some `notified` ones with a reclaim time within the hour after
//   the sim epoch. The sim does not reclaim them: the values are static;
// - start/stop/restart/delete answer 200 `{}`; an illegal transition (start while running, stop
//   while exited, …) → 400 INVALID_INSTANCE_STATUS; delete of an instance already being removed
//   → 200 `{}` (no-op);
// - create: unknown productId → 400 PRODUCT_NOT_FOUND, unknown clusterId → 400 CLUSTER_NOT_FOUND;
//   unknown body fields are ignored; with the sim config `novitaInstanceLimit` set, a create when
//   that many instances already count (every listed instance whose status is not `removed`;
//   toRemove/removing still count) → 400 CREATE_INSTANCE_LIMIT, checked after validation; a product
//   with `availableDeploy: false`, a billingMode the product's billingMethods lack, or a clusterId
//   outside its `regions` → 400 PRODUCT_UNAVAILABLE (sim reason); with no clusterId the instance
//   lands in a random one of the product's regions;
// - list items (and Get) carry lastStartedAt / lastStoppedAt (strings, Unix seconds, from the older
//   Get page revision, like createdAt): when the instance last entered `running` / `exited`, "0" if
//   never (a seeded instance's history before its createdAt is unknown).
//
// Money (PROVIDERS.md §4.3; billing math and statuses that bill: money.mjs). Same key, same
// Content-Type rule, same error body, same faults as the instance routes:
// - GET /products ("List GPU Products") → {"data": [product…]}, every GPU product (CPU products
//   have their own list upstream, not served), fields in the docs' order: id, name, cpuPerGpu,
//   memoryPerGpu, diskPerGpu, availableDeploy, minRootFS, maxRootFS, minLocalStorage,
//   maxLocalStorage, regions (an array of cluster ids: the docs' example shows `{}`, PPIO's
//   identical API documents `[string]`), price (integer), monthlyPrice [{price, month}],
//   billingMethods, spotPrice (a string; "0" when the product has no spot). price and spotPrice
//   are 1/100,000 USD per GPU-hour (undocumented; the reading PROVIDERS.md cites) and
//   monthlyPrice the price of `month` months per GPU in that unit (sim-made: 720 h a month with
//   10/15/20/30 % off for 1/3/6/12 months). Filters (docs): clusterId (in regions), gpuNum 0..8
//   (products allowing that many), productName (case-insensitive substring), minCpuPerGpu,
//   minMemoryPerGpu, minRootFSSize (maxRootFS at least), billingMethod onDemand|monthly|spot;
//   a bad value → 400 VALIDATOR_PARAM naming it.
//   The sim's list (price / spot, $ per GPU-hour): RTX 4090 0.35/0.175, RTX 3090 0.21/0.105,
//   RTX 5090 0.50/0.25, RTX 6000 Ada 0.70/0.35, L40S 0.55/0.275, A100 SXM 1.20/0.60, H100 SXM
//   2.49/1.245, H200 SXM 3.10/1.55, RTX A6000 0.49/no spot (EU clusters only), B200 SXM 5.99/2.995
//   (availableDeploy false); CPU products (not listed) 0.08 and 0.30 per instance-hour.
// - GET {host}/openapi/v1/billing/balance/detail ("User Balance Info", a sibling API: the sim
//   serves it under /novita/openapi/v1) → {availableBalance, cashBalance, creditLimit,
//   pendingCharges, outstandingInvoices}, strings of 1/10,000 USD (documented). Cash opens at
//   $500 (5000000) at the epoch and pays the hourly bills as they accrue; past zero the rest is
//   owed (outstandingInvoices); creditLimit is $20 (200000); availableBalance = cash +
//   creditLimit − outstanding (the docs' example: 1000000 = 800000 + 200000); pendingCharges "0"
//   ("currently defaults to 0").
// - GET {host}/openapi/v1/billing/bill/list ("Query Usage-based Billing") → {"bills": [bill…]},
//   no pagination. cycleType (Hour|Day|Week|Month) and productCategory (the documented values)
//   are required; startTime and endTime (Unix seconds) are required here too (sim choice), with
//   startTime < endTime and at most 31 days apart ("keep each query range within 31 days");
//   otherwise 400 VALIDATOR_PARAM naming the parameter. ownerId (instance id) and productName
//   (substring) filter; `category` is accepted and ignored. A bill per instance and UTC cycle with
//   billed time, for the cycles that start in [startTime, endTime), the current one pro rata;
//   fields: userId, startTime, endTime (cycle end − 1, as the docs' examples), billingMethod (a
//   number: 1 onDemand, 3 spot — 1 is the docs' pay-as-you-go example, 3 is sim-made), productName,
//   category "gpu", ownerID, billNum0 (GPU-seconds), basePrice0 / discountPrice0 (the catalog
//   price), billNum1 / basePrice1 / discountPrice1 "0", amount, voucherAmount "0", payAmount
//   (strings, 1/10,000 USD), payAmountDisplay (number, USD), pricePrecision 1 (as in the docs'
//   examples), productId. productCategory=summary sums each cycle over the account; the other
//   categories have no bills here. Monthly (prepaid) instances have no usage bills.

import { statusAt, reachedAt, schedule } from "./clock.mjs";
import { checkAuth } from "./auth.mjs";
import { genNovitaId, LIFECYCLE } from "./fleet.mjs";
import { NOVITA_ALL_PRODUCTS, NOVITA_CLUSTERS } from "./catalog.mjs";
import { novitaBalance, novitaBills, CYCLES } from "./money.mjs";
import { json, parseIntStrict, parseJsonBody, isPlainObject, docIp, ALNUM } from "./util.mjs";
import { SIM_KEYS, BASE_PATHS } from "./defaults.mjs";

export const name = "novita";
export const basePath = BASE_PATHS.novita;
export const MAX_PAGE_SIZE = 100; // the default cap (novitaPaging "cap:100")

/** Reasons by HTTP status: the documented codes first (PROVIDERS.md §4.1), sim choices for the rest. */
export const REASONS = Object.freeze({
  400: "VALIDATOR_PARAM", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
  429: "RATE_LIMIT_EXCEEDED", 500: "UNKNOWN", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
});

// ---------------------------------------------------------------------------------------------
// paging modes (sim config `novitaPaging`)

export const DEFAULT_PAGING = "one,cap:100";
export const PAGING_NUMBERINGS = Object.freeze(["one", "zero", "one-strict"]);
export const MAX_PAGING_N = 100_000;
const PAGING_HELP = `expected comma-separated parts: numbering one|zero|one-strict, size cap:N|fixed:N (N 1..${MAX_PAGING_N})`;

/**
 * Parses a paging mode such as "zero,cap:20" or "one-strict,fixed:25".
 *
 *   numbering  one (default)  pages counted from 1; pageNum=0 is served as page 1
 *              zero           pages counted from 0; pageNum=0 is the first page, 1 the second
 *              one-strict     pages counted from 1; pageNum=0 → 400 VALIDATOR_PARAM naming pageNum
 *   size       cap:N (default cap:100)  pages of min(pageSize, N) items, larger sizes capped silently
 *              fixed:N        pages of N items whatever pageSize says (pageSize still required and
 *                             validated, 0 included: it is ignored like any other value)
 *
 * At most one part of each kind, in any order; omitted parts take the default.
 * @returns {{ok: true, value: {numbering, size: "cap"|"fixed", n, mode}} | {ok: false, error: string}}
 *   `mode` is the canonical string (numbering first, e.g. "zero,cap:20").
 */
export function parseNovitaPaging(input) {
  const fail = (why) => ({ ok: false, error: `novitaPaging: ${why} (${PAGING_HELP})` });
  if (typeof input !== "string") return fail("must be a string");
  if (input.trim() === "") return fail("must not be empty");
  let numbering;
  let size;
  for (const raw of input.split(",")) {
    const part = raw.trim();
    if (part === "") return fail(`empty part in "${input}"`);
    if (PAGING_NUMBERINGS.includes(part)) {
      if (numbering !== undefined) return fail(`part "${part}": numbering given twice ("${numbering}" and "${part}")`);
      numbering = part;
      continue;
    }
    const m = /^(cap|fixed):(.*)$/.exec(part);
    if (!m) return fail(`unknown part "${part}"`);
    if (!/^\d{1,6}$/.test(m[2]) || Number(m[2]) < 1 || Number(m[2]) > MAX_PAGING_N) return fail(`part "${part}": N must be an integer 1..${MAX_PAGING_N}`);
    if (size !== undefined) return fail(`part "${part}": page size given twice ("${size.kind}:${size.n}" and "${part}")`);
    size = { kind: m[1], n: Number(m[2]) };
  }
  numbering ??= "one";
  size ??= { kind: "cap", n: MAX_PAGE_SIZE };
  return { ok: true, value: { numbering, size: size.kind, n: size.n, mode: `${numbering},${size.kind}:${size.n}` } };
}

let pagingMemo = { mode: undefined, value: undefined };
function pagingOf(sim) {
  const mode = sim.config.novitaPaging ?? DEFAULT_PAGING;
  if (pagingMemo.mode !== mode) {
    const p = parseNovitaPaging(mode);
    if (!p.ok) throw new RangeError(p.error); // config is validated on the way in; never reached
    pagingMemo = { mode, value: p.value };
  }
  return pagingMemo.value;
}

/**
 * The slice of the list a request gets: {start, size} (items [start, start + size)), or {error}.
 * `pageSize` and `pageNum` are the validated integers >= 0 of the request.
 */
export function pageWindow(paging, pageSize, pageNum) {
  const size = paging.size === "fixed" ? paging.n : Math.min(pageSize, paging.n);
  let index;
  if (paging.numbering === "zero") index = pageNum;
  else if (paging.numbering === "one-strict") {
    if (pageNum === 0) return { error: "pageNum must be >= 1 (pages are numbered from 1)" };
    index = pageNum - 1;
  } else index = Math.max(1, pageNum) - 1;
  return { start: index * size, size };
}

export function errorResponse(status, message, ctx, { reason, headers, metadata } = {}) {
  return json(status, { code: status, reason: reason ?? REASONS[status] ?? "ERROR", message, metadata: metadata ?? {} }, headers);
}

export function authenticate(headers) {
  return checkAuth(headers, "Bearer", SIM_KEYS.novita, SIM_KEYS.novitaForbidden);
}

// ---------------------------------------------------------------------------------------------
// rendering

const proxyHost = (r, port) => `https://${r.id}-${port}.proxy.novita.example`;
const tcpPort = (r, port) => (port === 22 ? r.sshPort : 20000 + ((r.sshPort + port) % 10000));

/** The list item shape (seed 004 field order) plus createdAt. */
export function renderItem(r, now) {
  const status = statusAt(r.timeline, now);
  const o = { id: r.id, name: r.name, clusterId: r.cluster.id, clusterName: r.cluster.name, status, imageUrl: r.imageUrl };
  if (r.imageAuthId !== undefined) o.imageAuthId = r.imageAuthId;
  if (r.command !== undefined) o.command = r.command;
  if (r.entrypoint !== undefined) o.entrypoint = r.entrypoint;
  o.cpuNum = String(r.cpuNum);
  o.memory = String(r.memory);
  o.gpuNum = String(r.gpuNum);
  o.portMappings = r.ports.map((p) => ({ port: p.port, type: p.type }));
  o.productId = r.product.id;
  o.productName = r.product.name;
  o.rootfsSize = r.rootfsSize;
  o.volumeMounts = r.volumeMounts.map((v) => {
    const m = { type: v.type, size: String(v.size) };
    if (v.id !== undefined) m.id = v.id;
    m.mountPath = v.mountPath;
    return m;
  });
  if (r.statusError) o.statusError = { ...r.statusError };
  o.envs = r.envs.map((e) => ({ key: e.key, value: e.value }));
  o.kind = r.kind;
  o.billingMode = r.billingMode;
  o.endTime = r.endTime;
  if (r.spotStatus !== undefined) o.spotStatus = r.spotStatus;
  if (r.spotReclaimTime !== undefined) o.spotReclaimTime = r.spotReclaimTime;
  o.createdAt = String(Math.floor(r.createdAt / 1000));
  o.lastStartedAt = unixOrZero(enteredAt(r.timeline, "running", now));
  o.lastStoppedAt = unixOrZero(enteredAt(r.timeline, "exited", now));
  return o;
}

const unixOrZero = (ms) => (ms === undefined ? "0" : String(Math.floor(ms / 1000)));

/** When the timeline last entered `status` (from another status) at or before t, or undefined. */
export function enteredAt(timeline, status, t) {
  let at;
  for (let i = 0; i < timeline.length && timeline[i].at <= t; i++) {
    if (timeline[i].status === status && (i === 0 || timeline[i - 1].status !== status)) at = timeline[i].at;
  }
  return at;
}

/** The Get Instance shape (current docs): list fields + network, endpoints, connect components. */
export function renderDetail(r, now) {
  const o = renderItem(r, now);
  const status = o.status;
  const running = status === "running";
  const hasRun = reachedAt(r.timeline, "running", now) !== undefined;
  const ip = hasRun ? r.ip : "";
  o.portMappings = r.ports.map((p) => ({
    port: p.port,
    endpoint: hasRun ? (p.type === "http" ? proxyHost(r, p.port) : `${r.ip}:${tcpPort(r, p.port)}`) : "",
    type: p.type,
  }));
  o.volumeMounts = r.volumeMounts.map((v) => {
    const m = { type: v.type, size: v.size };
    if (v.id !== undefined) m.id = v.id;
    m.mountPath = v.mountPath;
    return m;
  });
  o.network = { id: r.networkId, ip };
  o.node = [{ maxRootfsSize: r.product.maxRootfs }];
  o.jobs = r.jobs.map((j) => ({ ...j }));
  o.connectComponentSSH = { sshCommand: hasRun ? `ssh root@${r.ip} -p ${r.sshPort}` : "", password: r.password, isRunning: running };
  o.connectComponentWebTerminal = { address: hasRun ? proxyHost(r, "webterminal") : "", username: "root", password: r.password, isRunning: running };
  const jupyter = r.ports.find((p) => p.port === 8888);
  o.connectComponentJupyter = { port: jupyter ? 8888 : 0, address: jupyter && hasRun ? proxyHost(r, 8888) : "", isRunning: running && !!jupyter };
  o.connectComponentLog = {
    systemLogAddress: `https://logs.novita.example/instances/${r.id}/system`,
    instanceLogAddress: `https://logs.novita.example/instances/${r.id}/instance`,
    isRunning: running,
  };
  const used = Math.min(r.rootfsSize, Math.floor(r.rootfsSize * 0.37));
  o.freeStorageSize = r.rootfsSize - used;
  o.keepDataDay = r.keepDataDay;
  return o;
}

export function renderAll(sim, { detail = false } = {}) {
  const now = sim.now();
  return sim.stores.novita.ordered(now).map((r) => (detail ? renderDetail(r, now) : renderItem(r, now)));
}

// ---------------------------------------------------------------------------------------------
// routing

export function handle(ctx) {
  const { auth, headers } = ctx;
  if (auth.auth === "forbidden") return errorResponse(403, "permission denied for this API key", ctx, { reason: "FORBIDDEN" });
  if (auth.auth === "missing") return errorResponse(401, "missing API key: send Authorization: Bearer <API key>", ctx, { reason: "UNAUTHORIZED" });
  if (auth.auth !== "ok") return errorResponse(401, "invalid API key", ctx, { reason: "UNAUTHORIZED" });
  const ct = String(headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (ct !== "application/json") return errorResponse(400, "Content-Type must be application/json", ctx, { reason: "INVALID_CONTENT_TYPE" });

  if (ctx.sibling) return route(ctx, SIBLING_ROUTES);
  return route(ctx, ROUTES);
}

const ROUTES = {
  "/gpu/instances": { GET: list },
  "/gpu/instance": { GET: get },
  "/gpu/instance/create": { POST: create },
  "/gpu/instance/start": { POST: (c) => action(c, "start") },
  "/gpu/instance/stop": { POST: (c) => action(c, "stop") },
  "/gpu/instance/restart": { POST: (c) => action(c, "restart") },
  "/gpu/instance/delete": { POST: (c) => action(c, "delete") },
  "/products": { GET: products },
};

/** The billing API beside the GPU API (paths from the host root). */
const SIBLING_ROUTES = {
  "/openapi/v1/billing/balance/detail": { GET: balance },
  "/openapi/v1/billing/bill/list": { GET: bills },
};

function route(ctx, table) {
  const { method, path } = ctx;
  const entry = table[path];
  if (!entry) return errorResponse(404, `no route for ${method} ${path}`, ctx, { reason: "NOT_FOUND" });
  const fn = entry[method];
  if (!fn) return errorResponse(405, `method ${method} not allowed`, ctx, { reason: "METHOD_NOT_ALLOWED" });
  return fn(ctx);
}

// ---------------------------------------------------------------------------------------------
// list / get

function list(ctx) {
  const { sim, query } = ctx;
  const bad = (message) => errorResponse(400, message, ctx, { reason: "VALIDATOR_PARAM" });
  const nums = {};
  for (const key of ["pageSize", "pageNum"]) {
    const raw = query.get(key);
    if (raw === null || raw === "") return bad(`${key} is required`);
    const v = parseIntStrict(raw);
    if (!Number.isInteger(v) || v < 0) return bad(`${key} must be an integer >= 0`);
    nums[key] = v;
  }
  const win = pageWindow(pagingOf(sim), nums.pageSize, nums.pageNum);
  if (win.error) return bad(win.error);
  const nameQ = query.get("name");
  const productQ = query.get("productName");
  const statusQ = query.get("status");
  if (nameQ !== null && nameQ.length > 255) return bad("name must be at most 255 characters");
  if (productQ !== null && productQ.length > 255) return bad("productName must be at most 255 characters");
  if (statusQ !== null && statusQ.length > 63) return bad("status must be at most 63 characters");
  const now = sim.now();
  const n = nameQ ? nameQ.toLowerCase() : "";
  const p = productQ ? productQ.toLowerCase() : "";
  const matches = (r) =>
    (!n || r.name.toLowerCase().includes(n)) &&
    (!p || r.product.name.toLowerCase().includes(p)) &&
    (!statusQ || statusAt(r.timeline, now) === statusQ);
  const ordered = sim.stores.novita.ordered(now);
  const all = n || p || statusQ ? ordered.filter(matches) : ordered;
  const instances = win.size === 0 ? [] : all.slice(win.start, win.start + win.size).map((r) => renderItem(r, now));
  return json(200, { instances, total: all.length });
}

function get(ctx) {
  const id = ctx.query.get("instanceId");
  if (id === null || id === "") return errorResponse(400, "instanceId is required", ctx, { reason: "VALIDATOR_PARAM" });
  const now = ctx.sim.now();
  const r = ctx.sim.stores.novita.get(id, now);
  if (!r) return notFound(ctx, id);
  return json(200, renderDetail(r, now));
}

/** An unknown (or vanished) instance id: the documented 400 RESOURCE_NOT_FOUND. */
function notFound(ctx, id) {
  return errorResponse(400, `instance ${id} not found`, ctx, { reason: "RESOURCE_NOT_FOUND" });
}

// ---------------------------------------------------------------------------------------------
// start / stop / restart / delete

const FROM = { start: ["exited"], stop: ["running"], restart: ["running"] };
const REMOVING = ["toRemove", "removing", "removed"];

function action(ctx, verb) {
  const parsed = parseJsonBody(ctx.body);
  if (!parsed.ok) return errorResponse(400, parsed.error, ctx, { reason: "VALIDATOR_PARAM" });
  const b = parsed.value;
  if (!isPlainObject(b) || typeof b.instanceId !== "string" || b.instanceId === "") {
    return errorResponse(400, "instanceId is required", ctx, { reason: "VALIDATOR_PARAM" });
  }
  const now = ctx.sim.now();
  const r = ctx.sim.stores.novita.get(b.instanceId, now);
  if (!r) return notFound(ctx, b.instanceId);
  const status = statusAt(r.timeline, now);
  if (verb === "delete") {
    if (!REMOVING.includes(status)) r.timeline = schedule(r.timeline, now, LIFECYCLE.novita.delete);
    return json(200, {});
  }
  if (!FROM[verb].includes(status)) {
    return errorResponse(400, `cannot ${verb} instance ${r.id}: instance status is ${status}`, ctx, { reason: "INVALID_INSTANCE_STATUS", metadata: { status } });
  }
  r.timeline = schedule(r.timeline, now, LIFECYCLE.novita[verb]);
  if (verb === "start") r.statusError = null;
  return json(200, {});
}

// ---------------------------------------------------------------------------------------------
// create (PROVIDERS.md §3.1 create table)

const isInt = (v) => Number.isInteger(v);
const strLen = (v, min, max) => typeof v === "string" && v.length >= min && v.length <= max;

/** Parses the `ports` string ("80/http, 3306/tcp"). Returns {ports} or {error}. */
export function parsePorts(s) {
  const ports = [];
  if (s.trim() === "") return { ports };
  for (const part of s.split(",")) {
    const m = /^\s*(\d{1,5})\s*\/\s*(tcp|http)\s*$/.exec(part);
    if (!m) return { error: `invalid port spec '${part.trim()}' (expected <port>/<tcp|http>)` };
    const port = Number(m[1]);
    if (port < 1 || port > 65535) return { error: `port ${port} out of range 1-65535` };
    if (port >= 2222 && port <= 2224) return { error: `port ${port} is reserved (2222-2224)` };
    if (ports.some((p) => p.port === port)) return { error: `port ${port} listed twice` };
    ports.push({ port, type: m[2] });
  }
  return { ports };
}

/** Instances that count against novitaInstanceLimit: every listed one whose status is not `removed`. */
export function countingInstances(store, now) {
  let n = 0;
  for (const r of store.ordered(now)) if (statusAt(r.timeline, now) !== "removed") n++;
  return n;
}

function create(ctx) {
  const { sim } = ctx;
  const bad = (message, reason = "VALIDATOR_PARAM") => errorResponse(400, message, ctx, { reason });
  const parsed = parseJsonBody(ctx.body);
  if (!parsed.ok) return bad(parsed.error);
  const b = parsed.value;
  if (!isPlainObject(b)) return bad("request body must be a JSON object");

  if (b.kind === undefined) return bad("kind is required");
  if (b.kind !== "gpu" && b.kind !== "cpu") return bad("kind must be gpu or cpu");
  if (b.productId === undefined || b.productId === "") return bad("productId is required");
  if (typeof b.productId !== "string") return bad("productId must be a string");
  if (b.name !== undefined && !strLen(b.name, 0, 255)) return bad("name must be a string of at most 255 characters");
  if (b.kind === "gpu") {
    if (b.gpuNum === undefined) return bad("gpuNum is required");
    if (!isInt(b.gpuNum) || b.gpuNum < 1 || b.gpuNum > 8) return bad("gpuNum must be an integer between 1 and 8");
    if (b.rootfsSize === undefined) return bad("rootfsSize is required");
  }
  if (b.rootfsSize !== undefined && (!isInt(b.rootfsSize) || b.rootfsSize > 6144)) return bad("rootfsSize must be an integer between 10 and 6144 (GB)");
  if (b.imageUrl === undefined) return bad("imageUrl is required");
  if (!strLen(b.imageUrl, 1, 500)) return bad("imageUrl must be a string of 1-500 characters");
  if (b.imageAuth !== undefined && (!strLen(b.imageAuth, 0, 10239) || (b.imageAuth !== "" && !b.imageAuth.includes(":")))) {
    return bad("imageAuth must be username:password (at most 10239 characters)");
  }
  if (b.imageAuthId !== undefined && typeof b.imageAuthId !== "string") return bad("imageAuthId must be a string");
  for (const f of ["command", "entrypoint"]) if (b[f] !== undefined && !strLen(b[f], 0, 2047)) return bad(`${f} must be a string of at most 2047 characters`);
  let ports = [];
  if (b.ports !== undefined) {
    if (typeof b.ports !== "string") return bad("ports must be a string like \"80/http, 3306/tcp\"");
    const pr = parsePorts(b.ports);
    if (pr.error) return bad(pr.error);
    ports = pr.ports;
  }
  let tools = [];
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) return bad("tools must be an array");
    for (const t of b.tools) {
      if (!isPlainObject(t) || typeof t.name !== "string" || typeof t.port !== "string" || !["tcp", "http"].includes(t.type)) {
        return bad("each tool needs name, port (string) and type (tcp|http)");
      }
      const port = parseIntStrict(t.port);
      if (!(port >= 1 && port <= 65535) || (port >= 2222 && port <= 2224)) return bad(`tool port ${t.port} is invalid`);
    }
    tools = b.tools;
  }
  if (ports.length + tools.length > 15) return bad("ports plus tools must be at most 15");
  let envs = [];
  if (b.envs !== undefined) {
    if (!Array.isArray(b.envs)) return bad("envs must be an array of {key, value}");
    if (b.envs.length > 100) return bad("envs must have at most 100 entries");
    for (const e of b.envs) {
      if (!isPlainObject(e) || !strLen(e.key ?? "", 0, 511) || !strLen(e.value ?? "", 0, 4095)) {
        return bad("each env needs key (0-511 characters) and value (0-4095 characters)");
      }
    }
    envs = b.envs.map((e) => ({ key: e.key ?? "", value: e.value ?? "" }));
  }
  let networkStorages = [];
  if (b.networkStorages !== undefined) {
    if (!Array.isArray(b.networkStorages) || b.networkStorages.length > 30) return bad("networkStorages must be an array of at most 30 entries");
    for (const s of b.networkStorages) {
      if (!isPlainObject(s) || typeof s.Id !== "string" || s.Id === "") return bad("each networkStorage needs Id");
      if (s.mountPoint !== undefined && typeof s.mountPoint !== "string") return bad("networkStorages[].mountPoint must be a string");
    }
    networkStorages = b.networkStorages;
  }
  if (b.networkId !== undefined && typeof b.networkId !== "string") return bad("networkId must be a string");
  if (b.month !== undefined && (!isInt(b.month) || b.month < 0)) return bad("month must be an integer >= 0");
  if (b.billingMode !== undefined && !["onDemand", "monthly", "spot"].includes(b.billingMode)) return bad("billingMode must be onDemand, monthly or spot");
  if (b.autoRenew !== undefined && typeof b.autoRenew !== "boolean") return bad("autoRenew must be a boolean");
  if (b.autoRenewMonth !== undefined && (!isInt(b.autoRenewMonth) || b.autoRenewMonth < 1 || b.autoRenewMonth > 12)) return bad("autoRenewMonth must be an integer between 1 and 12");
  if (b.minCudaVersion !== undefined && (typeof b.minCudaVersion !== "string" || !/^\d+(\.\d+)*$/.test(b.minCudaVersion))) return bad("minCudaVersion must look like \"12.4\"");

  const product = NOVITA_ALL_PRODUCTS.find((p) => p.id === b.productId);
  if (!product) return bad(`product ${b.productId} not found`, "PRODUCT_NOT_FOUND");
  if (product.kind !== b.kind) return bad(`product ${b.productId} is not a ${b.kind} product`, "PRODUCT_KIND_MISMATCH");
  let cluster;
  if (b.clusterId !== undefined && b.clusterId !== "") {
    cluster = NOVITA_CLUSTERS.find((c) => c.id === b.clusterId);
    if (!cluster) return bad(`cluster ${b.clusterId} not found`, "CLUSTER_NOT_FOUND");
  }
  const rootfsSize = b.rootfsSize === undefined ? 10 : Math.max(10, b.rootfsSize); // below 10 → 10
  if (rootfsSize > product.maxRootfs) return bad(`rootfsSize exceeds the product maximum of ${product.maxRootfs} GB`);
  if (product.kind === "gpu" && b.gpuNum > product.maxGpu) return bad(`gpuNum exceeds the product maximum of ${product.maxGpu}`);
  const billingMode = b.month > 0 ? "monthly" : b.billingMode ?? "onDemand"; // month > 0 forces monthly
  if (!product.availableDeploy) return bad(`product ${product.id} is sold out (availableDeploy is false)`, "PRODUCT_UNAVAILABLE");
  if (!product.billingMethods.includes(billingMode)) {
    return bad(`product ${product.id} does not offer billingMode ${billingMode} (billingMethods: ${product.billingMethods.join(", ")})`, "PRODUCT_UNAVAILABLE");
  }
  if (cluster && !product.regions.includes(cluster.id)) return bad(`product ${product.id} is not available in cluster ${cluster.id}`, "PRODUCT_UNAVAILABLE");

  const now = sim.now();
  const store = sim.stores.novita;
  const limit = sim.config.novitaInstanceLimit;
  if (Number.isInteger(limit)) {
    const inUse = countingInstances(store, now);
    if (inUse >= limit) {
      return errorResponse(400, `instance limit reached: ${inUse} instances count against this account's limit of ${limit}; delete one first`, ctx, {
        reason: "CREATE_INSTANCE_LIMIT",
        metadata: { limit, instances: inUse },
      });
    }
  }
  const rng = sim.rng.novita;
  let id;
  do id = genNovitaId(rng); while (store.byId.has(id));
  cluster ??= rng.pick(NOVITA_CLUSTERS.filter((c) => product.regions.includes(c.id))); // empty → random cluster of the product
  const months = b.month > 0 ? b.month : 1;
  const gpuNum = product.kind === "gpu" ? b.gpuNum : 0;
  const rec = {
    id,
    name: b.name ?? "",
    cluster,
    imageUrl: b.imageUrl,
    imageAuthId: b.imageAuthId || undefined,
    command: b.command,
    entrypoint: b.entrypoint,
    product,
    gpuNum,
    cpuNum: product.kind === "gpu" ? product.cpuPerGpu * gpuNum : product.cpu,
    memory: product.kind === "gpu" ? product.memPerGpu * gpuNum : product.mem,
    ports: [...ports, ...tools.map((t) => ({ port: Number(t.port), type: t.type }))],
    rootfsSize,
    volumeMounts: [
      { type: "local", size: rootfsSize, mountPath: "/" },
      ...networkStorages.map((s) => ({ type: "network", size: 100, id: s.Id, mountPath: s.mountPoint || "/network" })),
    ],
    envs,
    kind: product.kind,
    billingMode,
    endTime: billingMode === "monthly" ? String(Math.floor(now / 1000) + months * 30 * 86_400) : "-1",
    spotStatus: billingMode === "spot" ? "running" : undefined,
    spotReclaimTime: billingMode === "spot" ? "0" : undefined,
    createdAt: now,
    timeline: schedule([], now, LIFECYCLE.novita.create),
    statusError: null,
    ip: docIp(rng.int(0, 507)),
    sshPort: 30000 + rng.int(0, 9999),
    password: rng.chars(16, ALNUM),
    networkId: b.networkId ?? "",
    keepDataDay: 7,
    jobs: [],
  };
  store.add(rec);
  return json(200, { id });
}

// ---------------------------------------------------------------------------------------------
// money: products (prices), balance, usage bills (see the header and money.mjs)

const MONTHLY_TERMS = [[1, 90], [3, 85], [6, 80], [12, 70]]; // [months, % of 720 h × months]

/** A product as List GPU Products returns it (the docs' field order). */
export function renderProduct(p) {
  return {
    id: p.id,
    name: p.name,
    cpuPerGpu: p.cpuPerGpu,
    memoryPerGpu: p.memPerGpu,
    diskPerGpu: Math.floor(p.maxRootfs / p.maxGpu),
    availableDeploy: p.availableDeploy,
    minRootFS: 10,
    maxRootFS: p.maxRootfs,
    minLocalStorage: 0,
    maxLocalStorage: 0,
    regions: [...p.regions],
    price: p.price,
    monthlyPrice: p.billingMethods.includes("monthly") ? MONTHLY_TERMS.map(([month, pct]) => ({ price: Math.round((p.price * 720 * month * pct) / 100), month })) : [],
    billingMethods: [...p.billingMethods],
    spotPrice: p.spotPrice === null ? "0" : String(p.spotPrice),
  };
}

/** A query integer >= min (and <= max), or undefined when absent; {error} when malformed. */
function intParam(query, key, min, max = Number.MAX_SAFE_INTEGER) {
  const raw = query.get(key);
  if (raw === null || raw === "") return { value: undefined };
  const v = parseIntStrict(raw);
  if (!Number.isInteger(v) || v < min || v > max) return { error: max === Number.MAX_SAFE_INTEGER ? `${key} must be an integer >= ${min}` : `${key} must be an integer between ${min} and ${max}` };
  return { value: v };
}

function products(ctx) {
  const { query } = ctx;
  const bad = (message) => errorResponse(400, message, ctx, { reason: "VALIDATOR_PARAM" });
  for (const key of ["clusterId", "productName"]) {
    const v = query.get(key);
    if (v !== null && v.length > 255) return bad(`${key} must be at most 255 characters`);
  }
  const nums = {};
  for (const [key, min, max] of [["gpuNum", 0, 8], ["minCpuPerGpu", 0], ["minMemoryPerGpu", 0], ["minRootFSSize", 0]]) {
    const r = intParam(query, key, min, max);
    if (r.error) return bad(r.error);
    nums[key] = r.value;
  }
  const method = query.get("billingMethod");
  if (method !== null && method !== "" && !["onDemand", "monthly", "spot"].includes(method)) return bad("billingMethod must be onDemand, monthly or spot");
  const clusterId = query.get("clusterId") || "";
  const name = (query.get("productName") || "").toLowerCase();
  const data = NOVITA_ALL_PRODUCTS.filter(
    (p) =>
      p.kind === "gpu" &&
      (!clusterId || p.regions.includes(clusterId)) &&
      (!name || p.name.toLowerCase().includes(name)) &&
      (nums.gpuNum === undefined || nums.gpuNum <= p.maxGpu) &&
      (nums.minCpuPerGpu === undefined || p.cpuPerGpu >= nums.minCpuPerGpu) &&
      (nums.minMemoryPerGpu === undefined || p.memPerGpu >= nums.minMemoryPerGpu) &&
      (nums.minRootFSSize === undefined || p.maxRootfs >= nums.minRootFSSize) &&
      (!method || p.billingMethods.includes(method)),
  );
  return json(200, { data: data.map(renderProduct) });
}

function balance(ctx) {
  const b = novitaBalance(ctx.sim);
  return json(200, {
    availableBalance: String(b.available),
    cashBalance: String(b.cash),
    creditLimit: String(b.creditLimit),
    pendingCharges: String(b.pending),
    outstandingInvoices: String(b.outstanding),
  });
}

export const BILL_CATEGORIES = Object.freeze([
  "summary", "gpu", "llm", "serverless", "cloud_storage", "gen_api", "cloud_sandbox", "llm_dedicated_endpoint", "web_search", "bare_metal",
]);
export const MAX_BILL_RANGE_SECONDS = 31 * 86_400;

function bills(ctx) {
  const { query } = ctx;
  const bad = (message) => errorResponse(400, message, ctx, { reason: "VALIDATOR_PARAM" });
  const cycleType = query.get("cycleType");
  if (cycleType === null || cycleType === "") return bad("cycleType is required");
  if (!Object.hasOwn(CYCLES, cycleType)) return bad(`cycleType must be one of ${Object.keys(CYCLES).join(", ")}`);
  const category = query.get("productCategory");
  if (category === null || category === "") return bad("productCategory is required");
  if (!BILL_CATEGORIES.includes(category)) return bad(`productCategory must be one of ${BILL_CATEGORIES.join(", ")}`);
  const times = {};
  for (const key of ["startTime", "endTime"]) {
    const raw = query.get(key);
    if (raw === null || raw === "") return bad(`${key} is required (Unix seconds)`);
    const v = parseIntStrict(raw);
    if (!Number.isInteger(v) || v < 0) return bad(`${key} must be a Unix timestamp in seconds`);
    times[key] = v;
  }
  if (times.endTime <= times.startTime) return bad("endTime must be after startTime");
  if (times.endTime - times.startTime > MAX_BILL_RANGE_SECONDS) return bad("the query range must be at most 31 days (split longer ranges)");
  const productName = query.get("productName");
  if (productName !== null && productName.length > 255) return bad("productName must be at most 255 characters");
  if (category !== "gpu" && category !== "summary") return json(200, { bills: [] });
  const list = novitaBills(ctx.sim, {
    cycleType,
    category,
    startSec: times.startTime,
    endSec: times.endTime,
    ownerId: query.get("ownerId") || "",
    productName: productName || "",
  });
  return json(200, { bills: list });
}
