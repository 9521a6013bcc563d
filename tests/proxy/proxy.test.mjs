// The edge proxy in real workerd (Miniflare) against the simulated clouds: every route's happy
// path for every provider, the attack set (each with the simulator's request log proving that no
// upstream call was made), upstream error mapping, and a final scan of every response and log
// line for provider keys.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { assertBaseHeaders, SECRETS, startHarness } from "./harness.mjs";
import { BASE_PATHS, PROVIDERS } from "../sim/defaults.mjs";

let h; // the main proxy: every provider configured
let h2; // a proxy without Novita keys (the "unconfigured provider" case)

before(async () => {
  h = await startHarness();
  h2 = await startHarness({ env: { NOVITA_API_KEY: undefined, NOVITA_BASE_URL: undefined } });
});
after(async () => {
  await h?.close();
  await h2?.close();
});

const CREATE = {
  fal: { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 proxy@test" },
  "fal-alpha": { instanceType: "gpu_1x_h100_sxm5", sshKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 proxy@test" },
  sfcompute: { name: "proxy-test-1", capacity: "cap_h100sfprod01", image: "image_ubuntu2204cuda127" },
  novita: { name: "proxy-test", productId: "prod-rtx4090-24g", gpuNum: 1, rootfsSize: 20, imageUrl: "nginx:latest", kind: "gpu" },
};

const json = (token, body) => ({
  method: "POST",
  headers: { ...h.auth(token), "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** The upstream calls made while `fn` ran. */
async function upstreamDuring(harness, fn) {
  await harness.clearUpstream();
  const result = await fn();
  return { result, calls: await harness.upstream() };
}

/** Runs an attack: asserts the status (and error code), and that nothing went upstream. */
async function attack(harness, fn, status, code) {
  const { result: r, calls } = await upstreamDuring(harness, fn);
  assert.equal(r.status, status, `status (body: ${r.text.slice(0, 300)})`);
  if (code) assert.equal(r.json?.error?.code, code, r.text);
  if (status >= 400 && status !== 405 && r.text) assert.equal(typeof r.json?.error?.code, "string", "a JSON error with a code");
  assertBaseHeaders(assert, r);
  assert.deepEqual(calls, [], "no upstream call");
  assert.equal(harness.decoy.hits(), 0, "nothing reached the decoy");
  return r;
}

describe("public endpoints", () => {
  test("/healthz says which providers are configured, nothing more", async () => {
    const r = await h.fetch("/healthz");
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.providers, { fal: true, "fal-alpha": true, sfcompute: true, novita: true });
    assert.equal(r.json.api, "ready");
    assertBaseHeaders(assert, r);
    const r2 = await h2.fetch("/healthz");
    assert.equal(r2.json.providers.novita, false);
  });

  test("the console is served with the strict CSP", async () => {
    // Workers Static Assets (auto-trailing-slash) canonicalize /index.html to /.
    const canonical = await h.fetch("/index.html");
    assert.equal(canonical.status, 307);
    assert.equal(canonical.headers.get("location"), "/");
    for (const [path, type] of [["/", "text/html"], ["/app.js", "text/javascript"], ["/style.css", "text/css"], ["/pkg/gpufleet_bg.wasm", "application/wasm"]]) {
      const r = await h.fetch(path);
      assert.equal(r.status, 200, path);
      assert.ok(r.headers.get("content-type").startsWith(type), path);
      const csp = r.headers.get("content-security-policy");
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
      assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/);
      assert.equal(r.headers.get("x-frame-options"), "DENY");
      assertBaseHeaders(assert, r);
    }
    const page = await h.fetch("/");
    assert.match(page.text, /<script type="module" src="\/app.js"><\/script>/);
    assert.doesNotMatch(page.text, /<script>|<style|\sstyle=|\son[a-z]+=/, "no inline script, style or handlers");
    const app = await h.fetch("/app.js");
    assert.doesNotMatch(app.text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    const etag = page.headers.get("etag");
    const again = await h.fetch("/", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    const head = await h.fetch("/", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
    const missing = await h.fetch("/nope.html");
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, "notFound");
  });
});

describe("happy paths for every provider", () => {
  test("GET /api/v1/providers lists the four providers with capabilities", async () => {
    const r = await h.fetch("/api/v1/providers", { headers: h.auth() });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.providers.map((c) => c.provider), PROVIDERS);
    assert.equal(r.headers.get("vary"), "Origin");
    assertBaseHeaders(assert, r);
  });

  test("GET /api/v1/instances lists every provider at once", async () => {
    const { result: r, calls } = await upstreamDuring(h, () => h.fetch("/api/v1/instances", { headers: h.auth() }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.errors, []);
    for (const p of PROVIDERS) assert.equal(r.json.instances.filter((i) => i.provider === p).length, 6, p);
    assert.deepEqual([...new Set(calls.map((c) => c.provider))].sort(), [...PROVIDERS].sort());
    const filtered = await h.fetch("/api/v1/instances?provider=novita&provider=fal&status=running", { headers: h.auth() });
    assert.equal(filtered.status, 200);
    assert.ok(filtered.json.instances.every((i) => ["novita", "fal"].includes(i.provider) && i.status === "running"));
  });

  for (const p of PROVIDERS) {
    test(`${p}: list, get, create, delete`, async () => {
      const list = await upstreamDuring(h, () => h.fetch(`/api/v1/${p}/instances`, { headers: { ...h.auth(), cookie: "session=caller-cookie" } }));
      assert.equal(list.result.status, 200, list.result.text);
      const items = list.result.json.items;
      assert.ok(items.length > 0 && items.every((i) => i.provider === p));
      assert.ok(list.calls.length >= 1);
      for (const c of list.calls) {
        assert.equal(c.provider, p);
        assert.ok(c.path.startsWith(BASE_PATHS[p] + "/"), c.path);
        assert.equal(c.auth, "ok", "the proxy's provider key, not the caller's token");
        assert.equal(c.headers.cookie, undefined, "the caller's cookie is not forwarded");
      }

      const id = items[0].id;
      const got = await h.fetch(`/api/v1/${p}/instances/${encodeURIComponent(id)}`, { headers: h.auth() });
      assert.equal(got.status, 200, got.text);
      assert.equal(got.json.id, id);

      const created = await upstreamDuring(h, () => h.fetch(`/api/v1/${p}/instances`, json(h.token, CREATE[p])));
      assert.equal(created.result.status, 201, created.result.text);
      assert.equal(created.result.json.provider, p);
      assert.ok(created.calls.some((c) => c.method === "POST" && c.auth === "ok"));
      const newId = created.result.json.id;

      if (p === "sfcompute") {
        const term = await h.fetch(`/api/v1/${p}/instances/${encodeURIComponent(newId)}/terminate`, { method: "POST", headers: h.auth() });
        assert.equal(term.status, 200, term.text);
        assert.equal(term.json.instance.id, newId);
      }
      const del = await upstreamDuring(h, () =>
        h.fetch(`/api/v1/${p}/instances/${encodeURIComponent(newId)}`, { method: "DELETE", headers: h.auth() }),
      );
      assert.equal(del.result.status, 200, del.result.text);
      assert.equal(del.result.json.alreadyGone, false);
      assert.ok(del.calls.some((c) => c.method === "DELETE" || c.path.endsWith("/delete")));
    });
  }

  test("novita: stop, start, restart", async () => {
    const list = await h.fetch("/api/v1/novita/instances", { headers: h.auth() });
    const target = list.json.items.find((i) => i.providerStatus === "running") ?? list.json.items[0];
    const id = encodeURIComponent(target.id);
    await h.simPost("/force-status", { provider: "novita", id: target.id, status: "running" });
    const stop = await h.fetch(`/api/v1/novita/instances/${id}/stop`, { method: "POST", headers: h.auth() });
    assert.equal(stop.status, 200, stop.text);
    assert.deepEqual(stop.json, { instance: null });
    await h.simPost("/force-status", { provider: "novita", id: target.id, status: "exited" });
    const start = await h.fetch(`/api/v1/novita/instances/${id}/start`, { method: "POST", headers: h.auth() });
    assert.equal(start.status, 200, start.text);
    await h.simPost("/force-status", { provider: "novita", id: target.id, status: "running" });
    const restart = await h.fetch(`/api/v1/novita/instances/${id}/restart`, { method: "POST", headers: h.auth() });
    assert.equal(restart.status, 200, restart.text);
    // An illegal transition is the provider's 400, mapped to our JSON.
    await h.simPost("/force-status", { provider: "novita", id: target.id, status: "exited" });
    const bad = await h.fetch(`/api/v1/novita/instances/${id}/stop`, { method: "POST", headers: h.auth() });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.json.error.provider, "novita");
    assert.ok(bad.json.error.requestId, "the upstream request id is kept");
  });

  test("sfcompute: ssh details; pages with a cursor", async () => {
    const list = await h.fetch("/api/v1/sfcompute/instances?limit=2", { headers: h.auth() });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.items.length, 2);
    assert.equal(list.json.hasMore, true);
    const next = await h.fetch(`/api/v1/sfcompute/instances?limit=2&cursor=${encodeURIComponent(list.json.nextCursor)}`, { headers: h.auth() });
    assert.equal(next.status, 200, next.text);
    assert.notEqual(next.json.items[0].id, list.json.items[0].id);
    const all = await h.fetch("/api/v1/sfcompute/instances", { headers: h.auth() });
    const running = all.json.items.find((i) => i.status === "running");
    assert.ok(running, "a running SF Compute instance in the seeded fleet");
    const ssh = await h.fetch(`/api/v1/sfcompute/instances/${encodeURIComponent(running.id)}/ssh`, { headers: h.auth() });
    assert.equal(ssh.status, 200, ssh.text);
    assert.equal(typeof ssh.json.host, "string");
  });

  test("the 2026 fields pass through: SF Compute July shape (pool, priority level, managed by, public IPv4), Novita billing mode and spot reclaim", async () => {
    await h.simPost("/config", { sfcShape: "july" });
    try {
      const state = async (p) => (await (await fetch(`${h.sim.url}/__sim/state?provider=${p}`)).json()).instances;
      const r = await h.fetch("/api/v1/instances?provider=sfcompute&provider=novita", { headers: h.auth() });
      assert.equal(r.status, 200, r.text);
      const byId = new Map(r.json.instances.map((i) => [`${i.provider}/${i.id}`, i]));

      const sfc = await state("sfcompute");
      assert.ok(sfc.length > 0 && sfc.every((s) => "pool" in s && "priority_level" in s), "the sim serves the July shape");
      assert.ok(sfc.some((s) => s.managed_by?.object === "spot_deployment") && sfc.some((s) => s.enable_public_ipv4), "the seeded fleet has a spot deployment and a public IPv4");
      for (const s of sfc) {
        const i = byId.get(`sfcompute/${s.id}`);
        assert.deepEqual(i.pool, { id: s.pool.id, name: s.pool.name }, s.id);
        assert.equal(i.priorityLevel, s.priority_level, s.id);
        assert.deepEqual(i.managedBy, s.managed_by ? { kind: s.managed_by.object, id: s.managed_by.id, name: s.managed_by.name } : undefined, s.id);
        assert.equal(i.publicIpv4, s.enable_public_ipv4, s.id);
        assert.equal(i.ip, s.public_ip, s.id);
      }

      const iso = (secs) => new Date(Number(secs) * 1000).toISOString().replace(".000Z", "Z");
      const novita = await state("novita");
      for (const s of novita) {
        const i = byId.get(`novita/${s.id}`);
        assert.equal(i.billingMode, s.billingMode, s.id);
        const spot = s.spotStatus === undefined ? undefined : { status: s.spotStatus, ...(s.spotReclaimTime !== "0" ? { reclaimAt: iso(s.spotReclaimTime) } : {}) };
        assert.deepEqual(i.spot, spot, s.id);
      }
      const notified = novita.find((s) => s.spotStatus === "notified");
      assert.ok(notified, "a spot instance with a notified reclaim in the seeded fleet");
      assert.ok(novita.some((s) => s.spotStatus === "running" && s.spotReclaimTime === "0"), "and a spot one without");
      const got = await h.fetch(`/api/v1/novita/instances/${encodeURIComponent(notified.id)}`, { headers: h.auth() });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual([got.json.billingMode, got.json.spot], ["spot", { status: "notified", reclaimAt: iso(notified.spotReclaimTime) }]);
    } finally {
      await h.simPost("/config", { sfcShape: "seed" });
    }
  });

  test("an operation a provider lacks is refused before any request", async () => {
    await attack(h, () => h.fetch("/api/v1/fal/instances/inst_abc/start", { method: "POST", headers: h.auth() }), 400, "unsupported");
    await attack(h, () => h.fetch("/api/v1/novita/instances/abc/ssh", { headers: h.auth() }), 400, "unsupported");
  });

  test("the read-only token reads", async () => {
    const r = await h.fetch("/api/v1/fal/instances", { headers: h.auth(h.readOnlyToken) });
    assert.equal(r.status, 200, r.text);
  });

  test("an allowed origin gets its CORS grant echoed", async () => {
    const pre = await attack(
      h,
      () => h.fetch("/api/v1/fal/instances", {
        method: "OPTIONS",
        headers: { origin: "https://console.example.com", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
      }),
      204,
    );
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://console.example.com");
    assert.match(pre.headers.get("access-control-allow-methods"), /POST/);
    assert.match(pre.headers.get("access-control-allow-headers"), /Authorization/);
    assert.equal(pre.headers.get("vary"), "Origin");
    const r = await h.fetch("/api/v1/providers", { headers: { ...h.auth(), origin: "https://console.example.com" } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("access-control-allow-origin"), "https://console.example.com");
    assert.equal(r.headers.get("access-control-allow-credentials"), null);
  });
});

describe("upstream errors", () => {
  test("429 keeps Retry-After and the upstream request id", async () => {
    await h.simPost("/faults", { provider: "fal", kinds: ["429"], retryAfterSeconds: 7 });
    try {
      const { result: r, calls } = await upstreamDuring(h, () => h.fetch("/api/v1/fal/instances", { headers: h.auth() }));
      assert.equal(r.status, 429, r.text);
      assert.equal(r.headers.get("retry-after"), "7");
      assert.equal(r.json.error.code, "rateLimited");
      assert.equal(r.json.error.provider, "fal");
      assert.equal(r.json.error.retryAfterMs, 7000);
      assert.equal(calls.length, 1, "the proxy does not retry");
      assert.equal(r.json.error.requestId, calls[0].requestId);
      assert.equal(r.headers.get("x-upstream-request-id"), calls[0].requestId);
    } finally {
      await h.simDelete("/faults");
    }
  });

  test("5xx and dropped connections become 502 JSON", async () => {
    await h.simPost("/faults", { provider: "novita", kinds: ["500"] });
    await h.simPost("/faults", { provider: "sfcompute", kinds: ["drop"] });
    try {
      const r = await h.fetch("/api/v1/novita/instances", { headers: h.auth() });
      assert.equal(r.status, 502, r.text);
      assert.equal(r.json.error.code, "server");
      const d = await h.fetch("/api/v1/sfcompute/instances", { headers: h.auth() });
      assert.equal(d.status, 502, d.text);
      assert.equal(d.json.error.code, "network");
      // The fan-out still answers, with the failures per provider.
      const all = await h.fetch("/api/v1/instances", { headers: h.auth() });
      assert.equal(all.status, 200);
      assert.deepEqual(all.json.errors.map((e) => e.provider).sort(), ["novita", "sfcompute"]);
      assert.ok(all.json.instances.some((i) => i.provider === "fal"));
    } finally {
      await h.simDelete("/faults");
    }
  });
});

describe("attacks: the right status and no upstream call", () => {
  const LIST = "/api/v1/fal/instances";

  test("no token", () => attack(h, () => h.fetch(LIST), 401, "unauthorized"));

  test("wrong token, other schemes, token in a cookie", async () => {
    const r = await attack(h, () => h.fetch(LIST, { headers: { authorization: "Bearer wrong-token-0123456789" } }), 401, "unauthorized");
    assert.match(r.headers.get("www-authenticate"), /^Bearer/);
    await attack(h, () => h.fetch(LIST, { headers: { authorization: `Basic ${h.token}` } }), 401);
    await attack(h, () => h.fetch(LIST, { headers: { authorization: `Bearer ${h.token.slice(0, -1)}` } }), 401);
    await attack(h, () => h.fetch(LIST, { headers: { cookie: `token=${h.token}` } }), 401);
    await attack(h, () => h.fetch(`${LIST}?token=${h.token}`), 401);
  });

  test("read-only token on every mutation", async () => {
    await attack(h, () => h.fetch(LIST, json(h.readOnlyToken, CREATE.fal)), 403, "forbidden");
    await attack(h, () => h.fetch(`${LIST}/inst_abc`, { method: "DELETE", headers: h.auth(h.readOnlyToken) }), 403, "forbidden");
    await attack(h, () => h.fetch("/api/v1/novita/instances/abc/stop", { method: "POST", headers: h.auth(h.readOnlyToken) }), 403, "forbidden");
    await attack(h, () => h.fetch("/api/v1/sfcompute/instances/inst_abc/terminate", { method: "POST", headers: h.auth(h.readOnlyToken) }), 403, "forbidden");
  });

  test("a refused request's unread body does not cost the connection (workerd would close it, and the late body bytes reset the answer)", async () => {
    // Two requests on one keep-alive connection; the first one's body arrives after the proxy
    // has refused it, as it may on a loaded machine. Both must be answered on this connection.
    const { port } = new URL(h.url);
    const cases = [
      { token: h.readOnlyToken, body: JSON.stringify(CREATE.fal), status: "403" },
      { token: h.token, body: JSON.stringify({ ...CREATE.fal, sshKey: "x".repeat(70 * 1024) }), status: "413" },
    ];
    for (const c of cases) {
      const socket = net.connect(Number(port), "127.0.0.1");
      let received = "";
      socket.setEncoding("utf8");
      socket.on("data", (d) => (received += d));
      const closed = new Promise((resolve) => socket.on("close", resolve));
      const errors = [];
      socket.on("error", (e) => errors.push(e.code));
      await new Promise((resolve) => socket.on("connect", resolve));
      socket.write(`POST /api/v1/fal/instances HTTP/1.1\r\nHost: proxy.test\r\nAuthorization: Bearer ${c.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(c.body)}\r\n\r\n`);
      await sleep(150);
      socket.write(c.body);
      await sleep(150);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: proxy.test\r\n\r\n`);
      for (let i = 0; i < 100 && (received.match(/HTTP\/1\.1 /g) ?? []).length < 2; i++) await sleep(20);
      socket.end();
      await closed;
      const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      assert.deepEqual(statuses, [c.status, "200"], `both answered on one connection (errors: ${errors.join(", ")}): ${received.slice(0, 200)}`);
    }
  });

  test("foreign-origin preflight and request", async () => {
    const pre = await attack(
      h,
      () => h.fetch(LIST, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } }),
      403,
      "forbidden",
    );
    const req = await attack(h, () => h.fetch(LIST, { headers: { ...h.auth(), origin: "https://evil.example" } }), 403, "forbidden");
    for (const r of [pre, req]) {
      for (const [k] of r.headers) assert.ok(!k.startsWith("access-control-"), `no CORS header (${k})`);
    }
    await attack(h, () => h.fetch(LIST, { headers: { ...h.auth(), origin: "null" } }), 403);
    await attack(h, () => h.fetch(LIST, { headers: { ...h.auth(), origin: "https://console.example.com.evil.example" } }), 403);
  });

  test("methods outside the allowlist", async () => {
    for (const m of ["PATCH", "TRACE"]) {
      const r = await attack(h, () => h.raw(m, LIST, h.auth()), 405);
      assert.equal(r.headers.get("allow"), "GET, POST, PUT, DELETE, OPTIONS");
    }
    // PUT is an API method (deadlines), but not on a list: the route says what it takes.
    const put = await attack(h, () => h.raw("PUT", LIST, h.auth()), 405);
    assert.equal(put.headers.get("allow"), "GET, POST");
    await attack(h, () => h.fetch("/api/v1/providers", { method: "DELETE", headers: h.auth() }), 405);
  });

  test("'..' and percent-encoded traversal", async () => {
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/../../../../etc/passwd", h.auth()), 404);
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/..", h.auth()), 404);
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/%2e%2e", h.auth()), 404);
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/%2e%2e%2f%2e%2e%2fcompute", h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/..%2F..%2Fcompute%2Finstances", h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/inst_1%2F..%2F..%2Fadmin", h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", "/api/v1/fal/instances/%252e%252e", h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", "/api/v1/..%2Ffal/instances", h.auth()), 400, "invalidInput");
  });

  test("an absolute URL or a host in the path", async () => {
    const sim = new URL(h.sim.url).host;
    await attack(h, () => h.raw("GET", `/api/v1/fal/instances/http:%2F%2F${h.decoy.host}%2Fx`, h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", `/api/v1/fal/instances/http://${h.decoy.host}/x`, h.auth()), 404);
    await attack(h, () => h.raw("GET", `/api/v1/fal/instances/%2F%2F${h.decoy.host}`, h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", `/api/v1/fal/instances/x@${h.decoy.host}`, h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", `/api/v1/fal/instances/${sim}`, h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("GET", `/api/v1/${encodeURIComponent(`http://${h.decoy.host}`)}/instances`, h.auth()), 400, "invalidInput");
  });

  test("overlong and odd-character ids", async () => {
    await attack(h, () => h.fetch(`${LIST}/${"a".repeat(256)}`, { headers: h.auth() }), 400, "invalidInput");
    await attack(h, () => h.fetch(`${LIST}/${"a".repeat(5000)}`, { headers: h.auth() }), 400, "invalidInput");
    for (const id of ["a%00b", "a%0d%0aX-Injected:%201", "%C3%A9", "a%20b", "a'b", "%3Cscript%3E", "a;b", "a%25b", "a%3Fb=1", "a%23b"]) {
      await attack(h, () => h.raw("GET", `${LIST}/${id}`, h.auth()), 400, "invalidInput");
    }
    await attack(h, () => h.raw("DELETE", `${LIST}/a%3Bb`, h.auth()), 400, "invalidInput");
    await attack(h, () => h.raw("POST", "/api/v1/novita/instances/a%2Fb/stop", h.auth()), 400, "invalidInput");
  });

  test("unknown and unconfigured providers", async () => {
    await attack(h, () => h.fetch("/api/v1/aws/instances", { headers: h.auth() }), 400, "invalidInput");
    await attack(h, () => h.fetch("/api/v1/FAL/instances", { headers: h.auth() }), 400, "invalidInput");
    await attack(h, () => h.fetch("/api/v1/instances?provider=aws", { headers: h.auth() }), 400, "invalidInput");
    const r = await attack(h2, () => h2.fetch("/api/v1/novita/instances", { headers: h2.auth() }), 400, "invalidInput");
    assert.match(r.json.error.message, /not configured/);
    await attack(h2, () => h2.fetch("/api/v1/novita/instances", json(h2.token, CREATE.novita)), 400, "invalidInput");
    await attack(h2, () => h2.fetch("/api/v1/instances?provider=novita", { headers: h2.auth() }), 400, "invalidInput");
    const providers = await h2.fetch("/api/v1/providers", { headers: h2.auth() });
    assert.ok(!providers.json.providers.some((c) => c.provider === "novita"));
  });

  test("oversized bodies", async () => {
    const big = JSON.stringify({ ...CREATE.fal, sshKey: "x".repeat(70 * 1024) });
    await attack(h, () => h.fetch(LIST, { method: "POST", headers: { ...h.auth(), "content-type": "application/json" }, body: big }), 413, "invalidInput");
    // No Content-Length (chunked): the stream is cut at the cap.
    await attack(h, () => h.raw("POST", LIST, { ...h.auth(), "content-type": "application/json", "transfer-encoding": "chunked" }, big), 413, "invalidInput");
  });

  test("wrong content types and unreadable bodies", async () => {
    const body = JSON.stringify(CREATE.fal);
    await attack(h, () => h.fetch(LIST, { method: "POST", headers: { ...h.auth(), "content-type": "text/plain" }, body }), 415, "invalidInput");
    await attack(h, () => h.fetch(LIST, { method: "POST", headers: { ...h.auth(), "content-type": "application/x-www-form-urlencoded" }, body: "a=1" }), 415);
    await attack(h, () => h.fetch(LIST, { method: "POST", headers: { ...h.auth(), "content-type": "multipart/form-data; boundary=x" }, body: "--x--" }), 415);
    await attack(h, () => h.fetch(LIST, { method: "POST", headers: { ...h.auth(), "content-type": "application/json" }, body: "{nope" }), 400, "invalidInput");
    await attack(h, () => h.fetch(LIST, { method: "POST", headers: { ...h.auth(), "content-type": "application/json" }, body: '{"instanceType":"gpu_1x_h100_sxm5","sshKey":"k","baseUrl":"http://evil"}' }), 400, "invalidInput");
  });

  test("Host / X-Forwarded-* headers change nothing", async () => {
    const redirect = {
      host: h.decoy.host,
      "x-forwarded-host": h.decoy.host,
      "x-forwarded-proto": "http",
      "x-forwarded-for": "203.0.113.9",
      forwarded: `host=${h.decoy.host};proto=http`,
      "x-original-url": `http://${h.decoy.host}/`,
      "x-rewrite-url": `http://${h.decoy.host}/`,
    };
    // Unauthenticated: refused, nothing sent anywhere.
    await attack(h, () => h.raw("GET", LIST, redirect), 401, "unauthorized");
    // An absolute-form request target naming the decoy: refused before the Worker (Miniflare's
    // entry answers it) or by it; either way nothing is sent anywhere.
    const abs = await upstreamDuring(h, () => h.raw("GET", `http://${h.decoy.host}${LIST}`, { ...redirect, ...h.auth() }));
    assert.ok(abs.result.status >= 400 || abs.calls.every((c) => c.path.startsWith(BASE_PATHS.fal)), abs.result.text);
    assert.equal(h.decoy.hits(), 0);
    // Authenticated: the call goes to the configured sim, never to the decoy.
    const { result: r, calls } = await upstreamDuring(h, () => h.raw("GET", LIST, { ...redirect, ...h.auth() }));
    assert.equal(r.status, 200, r.text);
    assert.equal(calls.length, 1);
    assert.ok(calls[0].path.startsWith(BASE_PATHS.fal), calls[0].path);
    for (const k of Object.keys(calls[0].headers)) assert.ok(!/^(x-forwarded|forwarded|x-original|x-rewrite|cookie)/.test(k), k);
    assert.equal(h.decoy.hits(), 0);
  });
});

test("no provider key in any response body, header or log line of the suite", () => {
  const all = [h.everything(), h2.everything()].join("\n");
  assert.ok(h.responses.length > 100, `responses recorded: ${h.responses.length}`);
  const logLines = [...h.logs, ...h2.logs].filter((l) => l.startsWith("{"));
  assert.ok(logLines.length >= 50, `log lines captured: ${logLines.length}`);
  for (const line of logLines) {
    const rec = JSON.parse(line);
    assert.deepEqual(Object.keys(rec).filter((k) => !["requestId", "method", "route", "provider", "caller", "status", "code", "durationMs"].includes(k)), [], line);
  }
  for (const secret of SECRETS) assert.ok(!all.includes(secret), `found ${secret} in the recorded traffic`);
  for (const t of [h.token, h.readOnlyToken, h2.token, h2.readOnlyToken]) assert.ok(!all.includes(t), "an API token is never echoed");
});
