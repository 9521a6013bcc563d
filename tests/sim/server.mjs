#!/usr/bin/env node
// gpufleet simulated clouds: one local HTTP server speaking fal v1, fal alpha, SF Compute preview
// v2 and Novita GPU v1 under separate base paths, their money endpoints (some on sibling APIs of
// the same hosts: SIBLING_PATHS), plus the /__sim/ control API.
//
//   npm run sim -- --port 8788 [--seed 1] [--instances 25] [--speed 1] [--hostile]
//                  [--sfc-shape seed|july] [--epoch <iso>|now]
//                  [--novita-paging <mode>] [--novita-instance-limit <n>|unlimited]
//
// A bad flag or flag value exits with status 2 and the usage (config values are checked by
// normalizeConfig before the server starts); a server that cannot start exits with 1.
//
// Programmatic use (tests): const sim = await startSim({ port: 0, seed: 7 }); … await sim.close();

import http from "node:http";
import { pathToFileURL } from "node:url";
import { Sim, normalizeConfig } from "./sim.mjs";
import { handleControl } from "./control.mjs";
import * as fal from "./fal.mjs";
import * as falAlpha from "./falAlpha.mjs";
import * as sfcompute from "./sfcompute.mjs";
import * as novita from "./novita.mjs";
import { bodyBuffer, sleep } from "./util.mjs";
import { SIM_DEFAULTS, BASE_PATHS, HOST_ROOTS, SIBLING_PATHS, SIM_KEYS, baseUrls } from "./defaults.mjs";

export const PROVIDER_MODULES = { fal, "fal-alpha": falAlpha, sfcompute, novita };
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const LOG_BODY_BYTES = 16 * 1024;

// [provider, prefix, sibling?]: the API bases and their sibling APIs (SIBLING_PATHS), longest
// prefix first (so /fal-alpha is not taken for /fal). A provider module sees `ctx.path` relative to
// the base, or, for a sibling API, relative to the host root with `ctx.sibling` set
// (e.g. "/openapi/v1/billing/balance/detail").
const ROUTES = [
  ...Object.entries(BASE_PATHS).map(([p, base]) => [p, base, false]),
  ...Object.entries(SIBLING_PATHS).flatMap(([p, bases]) => bases.map((base) => [p, base, true])),
].sort((a, b) => b[1].length - a[1].length);

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, DELETE, PATCH, PUT, OPTIONS",
  "access-control-allow-headers": "Authorization, Content-Type, Idempotency-Key",
  "access-control-expose-headers": "Retry-After, x-request-id",
  "access-control-max-age": "600",
};

const BAD_GATEWAY_HTML =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>sim-edge</center>\r\n</body>\r\n</html>\r\n";

const FAULT_MESSAGES = {
  fal: { 429: "Rate limit exceeded", 500: "An unexpected error occurred", 503: "Service temporarily unavailable" },
  "fal-alpha": { 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" },
  sfcompute: { 429: "Rate limit exceeded", 500: "Internal server error", 503: "Service unavailable" },
  novita: { 429: "rate limit exceeded", 500: "internal server error", 503: "service unavailable" },
};

/** Header names whose values are secrets and never logged. */
function isSecretHeader(name) {
  if (name === "idempotency-key") return false;
  return (
    name === "authorization" || name === "proxy-authorization" || name === "cookie" || name === "set-cookie" ||
    /api[-_]?key|token|secret|password|credential/.test(name) || /^x-.*-key$/.test(name)
  );
}

function redactHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) out[k] = isSecretHeader(k) ? "[redacted]" : v;
  return out;
}

function logBody(buf) {
  if (buf.length === 0) return undefined;
  let text = buf.subarray(0, LOG_BODY_BYTES).toString("utf8");
  // Novita's imageAuth is "username:password"
  text = text.replace(/("imageAuth"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"[redacted]"');
  return text;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error("body too large"), { code: "TOO_LARGE" }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res, resp, extraHeaders = {}) {
  const body = bodyBuffer(resp);
  const headers = { ...CORS, ...extraHeaders, ...resp.headers };
  if (resp.status !== 204 && resp.status !== 304) headers["content-length"] = String(body.length);
  res.writeHead(resp.status, headers);
  res.end(resp.status === 204 ? undefined : body);
}

/** Builds the request handler for a Sim. */
export function createHandler(sim) {
  return async function onRequest(req, res) {
    let clientGone = false;
    res.on("close", () => {
      if (!res.writableFinished) clientGone = true;
    });
    let url;
    try {
      url = new URL(req.url, "http://sim.local");
    } catch {
      return send(res, { status: 400, headers: { "content-type": "application/json" }, body: { error: "bad request target" } });
    }
    const method = req.method.toUpperCase();
    const pathname = url.pathname;

    if (method === "OPTIONS") {
      // CORS preflight: never authenticated, never logged, never faulted
      const requested = req.headers["access-control-request-headers"];
      const allow = requested ? `${CORS["access-control-allow-headers"]}, ${requested}` : CORS["access-control-allow-headers"];
      res.writeHead(204, { ...CORS, "access-control-allow-headers": allow });
      return res.end();
    }

    let body;
    try {
      body = await readBody(req);
    } catch (e) {
      if (e.code === "TOO_LARGE") return send(res, { status: 413, headers: { "content-type": "application/json" }, body: { error: "request body larger than 4 MiB" } });
      return;
    }

    if (pathname === "/__sim" || pathname.startsWith("/__sim/")) {
      const ctx = { sim, method, path: pathname.slice("/__sim".length) || "/", query: url.searchParams, body, providers: PROVIDER_MODULES };
      let resp;
      try {
        if (method !== "GET") sim.wrote();
        resp = handleControl(ctx);
        if (method !== "GET") sim.wrote();
      } catch (e) {
        resp = { status: 500, headers: { "content-type": "application/json" }, body: { ok: false, error: String(e && e.stack ? e.stack : e) } };
      }
      return send(res, resp);
    }

    const route = ROUTES.find(([, base]) => pathname === base || pathname.startsWith(base + "/"));
    if (!route) {
      if (pathname === "/" && method === "GET") {
        return send(res, {
          status: 200,
          headers: { "content-type": "application/json" },
          body: { name: "gpufleet simulated clouds", basePaths: BASE_PATHS, siblingPaths: SIBLING_PATHS, keys: SIM_KEYS, control: "/__sim/", config: sim.config },
        });
      }
      return send(res, { status: 404, headers: { "content-type": "application/json" }, body: { error: { type: "not_found", message: `no simulated API at ${pathname}`, basePaths: BASE_PATHS } } });
    }

    const [providerName, base, sibling] = route;
    const mod = PROVIDER_MODULES[providerName];
    const headers = req.headers;
    const requestId = sim.nextRequestId();
    const auth = mod.authenticate(headers);
    const ctx = {
      sim, method, path: pathname.slice(sibling ? HOST_ROOTS[providerName].length : base.length) || "/", sibling,
      query: url.searchParams, rawQuery: url.search.slice(1), headers, body, requestId, auth, note: undefined,
    };
    const entry = sim.addLog({
      seq: 0,
      provider: providerName,
      method,
      path: pathname,
      query: url.search.slice(1),
      headers: redactHeaders(headers),
      authScheme: auth.authScheme,
      auth: auth.auth,
      bodyBytes: body.length,
      body: logBody(body),
      status: null,
      requestId,
      at: sim.now(),
    });
    if (entry.body === undefined) delete entry.body;

    const fault = sim.faults.decide(providerName, method, pathname);
    if (fault) entry.fault = fault.kind;
    const idHeader = { "x-request-id": requestId };

    const latency = sim.latencyFor(providerName);
    if (latency > 0) await sleep(latency);
    if (fault && fault.kind === "slow") await sleep(fault.rule.slowMs);
    if (clientGone) {
      // the client gave up while we were "slow": nothing is applied (see README)
      entry.note = "client-closed";
      return;
    }

    const run = () => {
      const writes = method !== "GET" && method !== "HEAD";
      if (writes) sim.wrote();
      let resp;
      try {
        resp = mod.handle(ctx);
      } catch (e) {
        console.error(e);
        resp = mod.errorResponse(500, "sim internal error: " + (e && e.message), ctx);
      }
      if (writes) sim.wrote();
      if (ctx.note) entry.note = ctx.note;
      return resp;
    };
    const faultError = (status) => {
      if (status === 502) return { status: 502, headers: { "content-type": "text/html" }, body: BAD_GATEWAY_HTML };
      const extra = {};
      if (status === 429 || (status === 503 && fault.rule.retryAfterSet)) extra["retry-after"] = String(fault.rule.retryAfterSeconds);
      return mod.errorResponse(status, FAULT_MESSAGES[providerName][status], ctx, { headers: extra });
    };

    const kind = fault ? fault.kind : null;
    if (kind === "drop") {
      entry.status = null;
      req.socket.destroy();
      return;
    }
    if (kind === "429" || kind === "500" || kind === "502" || kind === "503") {
      const resp = faultError(Number(kind));
      entry.status = resp.status;
      return send(res, resp, idHeader);
    }
    if (kind === "drop-after-commit") {
      run(); // the mutation is applied …
      entry.status = null; // … and the reply never arrives
      req.socket.destroy();
      return;
    }
    if (kind === "truncate") {
      // GET: the real response, cut in half. Mutations are NOT applied: a 503 error body is cut.
      const resp = method === "GET" || method === "HEAD" ? run() : faultError(503);
      const buf = bodyBuffer(resp);
      const headers = { ...CORS, ...idHeader, ...resp.headers, "content-length": String(buf.length) };
      entry.status = resp.status;
      res.writeHead(resp.status, headers);
      res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => req.socket.destroy());
      return;
    }
    const resp = run();
    entry.status = resp.status;
    send(res, resp, idHeader);
  };
}

/**
 * Starts the simulator.
 * @param {object} [options] {port=0, host="127.0.0.1", seed, instances, speed, hostile, sfcShape, epoch,
 *   novitaPaging, novitaInstanceLimit, quiet}; invalid values throw a RangeError naming them
 * @returns {Promise<{url, port, host, sim, baseUrls, close(): Promise<void>}>}
 */
export async function startSim(options = {}) {
  const { config, errors } = normalizeConfig(options, SIM_DEFAULTS);
  if (errors.length) throw new RangeError(errors.join("; "));
  const sim = new Sim(config);
  const handler = createHandler(sim);
  const server = http.createServer((req, res) => {
    handler(req, res).catch((e) => {
      console.error("gpufleet sim: unhandled error", e);
      res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  const host = "127.0.0.1"; // loopback only, always
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = server.address().port;
  const url = `http://${host}:${port}`;
  return {
    url,
    port,
    host,
    sim,
    server,
    baseUrls: baseUrls(url),
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: npm run sim -- [--port <n>] [--seed <n>] [--instances <n per provider>] [--speed <factor>]
                      [--hostile] [--sfc-shape seed|july] [--epoch <iso date>|now]
                      [--novita-paging <mode>] [--novita-instance-limit <n>|unlimited]
  --novita-paging: comma-separated numbering one|zero|one-strict and size cap:N|fixed:N
                   (default one,cap:100), e.g. zero,cap:20 or one-strict,fixed:25`;

export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    if (a.startsWith("--") && a.includes("=")) [a, v] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    const val = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) throw new RangeError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--port": out.port = Number(val()); break;
      case "--seed": out.seed = val(); break;
      case "--instances": out.instances = val(); break;
      case "--speed": out.speed = val(); break;
      case "--hostile": out.hostile = v === undefined ? true : v !== "false"; break;
      case "--sfc-shape": out.sfcShape = val(); break;
      case "--epoch": out.epoch = val(); break;
      case "--novita-paging": out.novitaPaging = val(); break;
      case "--novita-instance-limit": out.novitaInstanceLimit = val(); break;
      case "-h": case "--help": out.help = true; break;
      default: throw new RangeError(`unknown argument ${a}`);
    }
  }
  if (out.port !== undefined && !(Number.isInteger(out.port) && out.port >= 0 && out.port <= 65535)) throw new RangeError("--port must be 0..65535");
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const { errors } = normalizeConfig(args, SIM_DEFAULTS);
  if (errors.length) {
    console.error(`gpufleet sim: ${errors.join("; ")}\n${USAGE}`);
    process.exit(2);
  }
  let sim;
  try {
    sim = await startSim({ ...args, port: args.port ?? 8788 });
  } catch (e) {
    console.error(`gpufleet sim: ${e.message}`);
    process.exit(1);
  }
  console.log(`gpufleet sim listening on ${sim.url}`);
  const c = sim.sim.config;
  console.log(`  seed ${c.seed}, ${c.instances} instances per provider, speed ${c.speed}, sfcShape ${c.sfcShape}${c.hostile ? ", hostile strings" : ""}`);
  console.log(`  novitaPaging ${c.novitaPaging}, novitaInstanceLimit ${c.novitaInstanceLimit ?? "unlimited"}`);
  for (const [p, u] of Object.entries(sim.baseUrls)) console.log(`  ${p.padEnd(10)} ${u}`);
  console.log(`  control    ${sim.url}/__sim/  (keys: ${SIM_KEYS.fal} / ${SIM_KEYS.sfcompute} + ${SIM_KEYS.sfcWorkspace} / ${SIM_KEYS.novita})`);
  const stop = () => sim.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
