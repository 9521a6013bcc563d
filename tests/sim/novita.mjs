// Novita GPU instance API v1 (https://api.novita.ai/gpu-instance/openapi/v1): seed 004 and
// PROVIDERS.md §3.
//
// Undocumented upstream, decided here (see also the README section):
// - error body: {"code": <http status>, "reason": "<UPPER_SNAKE>", "message": "…", "metadata": {}}
//   — an inference (PROVIDERS.md §3.3 lists it among the candidate shapes); clients must parse
//   error bodies defensively anyway;
// - every call needs `Content-Type: application/json` (the docs mark it required, GET included);
//   a missing or different Content-Type → 400 INVALID_CONTENT_TYPE. Auth is checked first (401);
// - list: pageSize and pageNum are required (missing → 400 naming the parameter); pageNum is
//   1-based and 0 is treated as 1; pageSize > 100 is capped at 100; pageSize 0 → an empty page
//   (with `total`); `total` is always present; order is createdAt DESC, then id ASC;
// - list items carry `createdAt` (string, Unix seconds; from the older Get page revision);
// - start/stop/restart/delete answer 200 `{}`; an illegal transition (start while running, stop
//   while exited, …) → 400 INVALID_INSTANCE_STATUS; delete of an instance already being removed
//   → 200 `{}` (no-op); unknown id → 404 INSTANCE_NOT_FOUND;
// - create: unknown productId → 400 PRODUCT_NOT_FOUND, unknown clusterId → 400 CLUSTER_NOT_FOUND;
//   unknown body fields are ignored.

import { statusAt, reachedAt, schedule } from "./clock.mjs";
import { checkAuth } from "./auth.mjs";
import { genNovitaId, LIFECYCLE } from "./fleet.mjs";
import { NOVITA_PRODUCTS, NOVITA_CLUSTERS } from "./catalog.mjs";
import { json, parseIntStrict, parseJsonBody, isPlainObject, docIp, ALNUM } from "./util.mjs";
import { SIM_KEYS, BASE_PATHS } from "./defaults.mjs";

export const name = "novita";
export const basePath = BASE_PATHS.novita;
export const MAX_PAGE_SIZE = 100;

const REASONS = { 400: "INVALID_PARAMETER", 401: "UNAUTHORIZED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 429: "RATE_LIMIT_EXCEEDED", 500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT" };

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
  return o;
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
  const { method, path, auth, headers } = ctx;
  if (auth.auth === "forbidden") return errorResponse(403, "permission denied for this API key", ctx, { reason: "PERMISSION_DENIED" });
  if (auth.auth === "missing") return errorResponse(401, "missing Authorization header (Bearer <API key>)", ctx, { reason: "MISSING_API_KEY" });
  if (auth.auth !== "ok") return errorResponse(401, "invalid API key", ctx, { reason: "INVALID_API_KEY" });
  const ct = String(headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (ct !== "application/json") return errorResponse(400, "Content-Type must be application/json", ctx, { reason: "INVALID_CONTENT_TYPE" });

  const routes = {
    "/gpu/instances": { GET: list },
    "/gpu/instance": { GET: get },
    "/gpu/instance/create": { POST: create },
    "/gpu/instance/start": { POST: (c) => action(c, "start") },
    "/gpu/instance/stop": { POST: (c) => action(c, "stop") },
    "/gpu/instance/restart": { POST: (c) => action(c, "restart") },
    "/gpu/instance/delete": { POST: (c) => action(c, "delete") },
  };
  const route = routes[path];
  if (!route) return errorResponse(404, `no route for ${method} ${path}`, ctx, { reason: "NOT_FOUND" });
  const fn = route[method];
  if (!fn) return errorResponse(405, `method ${method} not allowed`, ctx, { reason: "METHOD_NOT_ALLOWED" });
  return fn(ctx);
}

// ---------------------------------------------------------------------------------------------
// list / get

function list(ctx) {
  const { sim, query } = ctx;
  const bad = (message) => errorResponse(400, message, ctx, { reason: "INVALID_PARAMETER" });
  const nums = {};
  for (const key of ["pageSize", "pageNum"]) {
    const raw = query.get(key);
    if (raw === null || raw === "") return bad(`${key} is required`);
    const v = parseIntStrict(raw);
    if (!Number.isInteger(v) || v < 0) return bad(`${key} must be an integer >= 0`);
    nums[key] = v;
  }
  const pageSize = Math.min(nums.pageSize, MAX_PAGE_SIZE);
  const pageNum = Math.max(1, nums.pageNum);
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
  const start = (pageNum - 1) * pageSize;
  const instances = pageSize === 0 ? [] : all.slice(start, start + pageSize).map((r) => renderItem(r, now));
  return json(200, { instances, total: all.length });
}

function get(ctx) {
  const id = ctx.query.get("instanceId");
  if (id === null || id === "") return errorResponse(400, "instanceId is required", ctx, { reason: "INVALID_PARAMETER" });
  const now = ctx.sim.now();
  const r = ctx.sim.stores.novita.get(id, now);
  if (!r) return errorResponse(404, `instance ${id} not found`, ctx, { reason: "INSTANCE_NOT_FOUND" });
  return json(200, renderDetail(r, now));
}

// ---------------------------------------------------------------------------------------------
// start / stop / restart / delete

const FROM = { start: ["exited"], stop: ["running"], restart: ["running"] };
const REMOVING = ["toRemove", "removing", "removed"];

function action(ctx, verb) {
  const parsed = parseJsonBody(ctx.body);
  if (!parsed.ok) return errorResponse(400, parsed.error, ctx, { reason: "INVALID_PARAMETER" });
  const b = parsed.value;
  if (!isPlainObject(b) || typeof b.instanceId !== "string" || b.instanceId === "") {
    return errorResponse(400, "instanceId is required", ctx, { reason: "INVALID_PARAMETER" });
  }
  const now = ctx.sim.now();
  const r = ctx.sim.stores.novita.get(b.instanceId, now);
  if (!r) return errorResponse(404, `instance ${b.instanceId} not found`, ctx, { reason: "INSTANCE_NOT_FOUND" });
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

function create(ctx) {
  const { sim } = ctx;
  const bad = (message, reason = "INVALID_PARAMETER") => errorResponse(400, message, ctx, { reason });
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

  const product = NOVITA_PRODUCTS.find((p) => p.id === b.productId);
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

  const now = sim.now();
  const rng = sim.rng.novita;
  const store = sim.stores.novita;
  let id;
  do id = genNovitaId(rng); while (store.byId.has(id));
  cluster ??= rng.pick(NOVITA_CLUSTERS); // empty → random cluster
  const billingMode = b.month > 0 ? "monthly" : b.billingMode ?? "onDemand"; // month > 0 forces monthly
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
