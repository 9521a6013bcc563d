// The proxy in real workerd (Miniflare) against the simulated clouds, with everything recorded:
// every response's status, headers and body, and every line the runtime logs, so a test file can
// scan the whole of it for provider keys at the end.

import http from "node:http";
import { randomBytes } from "node:crypto";
import { ensurePkg, simEnv, startProxy } from "../../scripts/proxy-runtime.mjs";
import { startSim } from "../sim/server.mjs";
import { SIM_KEYS } from "../sim/defaults.mjs";

/** Every value that must never appear in a response or a log line. */
export const SECRETS = [SIM_KEYS.fal, SIM_KEYS.sfcompute, SIM_KEYS.sfcWorkspace, SIM_KEYS.novita];

/** A tiny server that counts requests: the target of redirect attempts (Host, X-Forwarded-*). */
async function startDecoy() {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    host: `127.0.0.1:${server.address().port}`,
    hits: () => hits,
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/**
 * Starts the sim (frozen clock) and the proxy. `env` overrides/extends the Worker env (a value of
 * undefined removes a variable). `d1: false` runs it without the D1 database (no records);
 * `live: false` without the live view's Durable Object.
 * Returns the harness.
 */
export async function startHarness({ env = {}, sim: simOptions = {}, rateLimit, d1 = true, live = true } = {}) {
  ensurePkg({ log: (m) => console.error(`[proxy tests] ${m}`) });
  const sim = await startSim({ port: 0, seed: 7, instances: 6, speed: 0, ...simOptions });
  const decoy = await startDecoy();
  const token = randomBytes(24).toString("base64url");
  const readOnlyToken = randomBytes(24).toString("base64url");
  const fullEnv = {
    ...(await simEnv(sim)),
    GPUFLEET_TOKEN: token,
    GPUFLEET_READONLY_TOKEN: readOnlyToken,
    ALLOWED_ORIGINS: "https://console.example.com",
    RATE_LIMIT_PER_MINUTE: "100000",
    RATE_LIMIT_BURST: "100000",
    ...env,
  };
  for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
  const logs = [];
  const proxy = await startProxy({ env: fullEnv, port: 0, onLog: (line) => logs.push(line), rateLimit, d1, live });
  const responses = [];

  const h = {
    sim,
    decoy,
    proxy,
    url: proxy.url,
    token,
    readOnlyToken,
    logs,
    responses,
    auth: (t = token) => ({ authorization: `Bearer ${t}` }),

    /** fetch() through the proxy's socket; records the answer. Returns {status, headers, text, json}. */
    async fetch(path, init = {}) {
      const r = await fetch(h.url + path, { redirect: "manual", ...init });
      return record(r.status, r.headers, await r.text());
    },

    /**
     * A raw HTTP/1.1 request: the path goes on the wire exactly as given (no URL normalization by
     * the client), and any header (Host included) can be set.
     */
    raw(method, path, headers = {}, body) {
      const { hostname, port } = new URL(h.url);
      return new Promise((resolve, reject) => {
        const req = http.request({ host: hostname, port, method, path, headers, setHost: !("host" in lower(headers)) }, (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve(record(res.statusCode, new Headers(flat(res.headers)), Buffer.concat(chunks).toString("utf8"))));
          res.on("error", reject);
        });
        req.on("error", reject);
        if (body !== undefined) req.write(body);
        req.end();
      });
    },

    /** The simulator's request log (every upstream call the proxy made). */
    async upstream() {
      return (await fetch(`${sim.url}/__sim/requests`)).json();
    },
    async clearUpstream() {
      await fetch(`${sim.url}/__sim/requests`, { method: "DELETE" });
    },
    async simPost(path, body) {
      const r = await fetch(`${sim.url}/__sim${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return r.json();
    },
    async simDelete(path) {
      await fetch(`${sim.url}/__sim${path}`, { method: "DELETE" });
    },

    /** Every recorded response and log line joined, for the final secret scan. */
    everything() {
      const parts = responses.map((r) => `${r.status}\n${[...r.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${r.text}`);
      return parts.concat(logs).join("\n");
    },

    async close() {
      await proxy.dispose();
      await decoy.close();
      await sim.close();
    },
  };

  function record(status, headers, text) {
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const r = { status, headers, text, json };
    responses.push(r);
    return r;
  }
  return h;
}

function lower(headers) {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function flat(nodeHeaders) {
  const out = [];
  for (const [k, v] of Object.entries(nodeHeaders)) for (const one of [].concat(v)) out.push([k, String(one)]);
  return out;
}

/** Asserts the headers every answer carries. */
export function assertBaseHeaders(assert, r) {
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  assert.equal(r.headers.get("referrer-policy"), "no-referrer");
}
