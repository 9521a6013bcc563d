// The shared live view: one Durable Object (`FleetLive`, bound as FLEET_LIVE, the one instance
// named "fleet") keeps the fleet's snapshot, walks the providers once per interval for every open
// console, and pushes what changed to each of them as Server-Sent Events. Twenty consoles cost
// the providers what one does.
//
// The walk goes through the proxy's own `handleFetch` as the internal read-only caller
// `live-view` (the same listing, pricing, deadlines and secret scrub as `GET /api/v1/…`), one
// page at a time. One invocation walks at most a budget of pages and instances (the Workers plan's
// subrequest and CPU limits, see `budgetOf`); a fleet larger than that is walked across several
// alarm invocations, and the consoles are told the snapshot is still filling.
//
// Events (`event:` / `data:` JSON):
//   snapshot  {instances, errors, cost, walkedAt, nextWalkAt, filling, walking, intervalMs}  on connect
//   diff      {upserts: Instance[], removed: "provider/id"[]}                                 what changed
//   status    {errors, cost, walkedAt, nextWalkAt, filling, walking, walked}                 after each step
//   balances  BalanceListing (as GET /api/v1/balances answers)                   once a minute
// and a comment line every HEARTBEAT_MS, so idle connections stay open and dead ones are found.

import { handleFetch } from "./proxy/gpufleet_proxy.js";
import { D1Store } from "./d1-store.js";

const INTERNAL = { internal: "live-view" };
const BASE = "https://fleet-live.internal/api/v1";
const HEARTBEAT_MS = 20_000;
/** While a provider fails, the interval doubles up to this (as a polling console backs off). */
const MAX_DELAY_MS = 160_000;
const BALANCES_MS = 60_000;
/** Events queued for one console that is not reading (a stalled network): past this, its stream
 * is closed (it reconnects, or polls) rather than held in the object's memory for everyone. */
const MAX_QUEUED = 64;
/** Page sizes asked of the providers that take one (their maxima): fewer pages, fewer subrequests. */
const PAGE_SIZE = { sfcompute: 200, novita: 100 };

const int = (v, fallback, min) => {
  const n = Number.parseInt(v ?? "", 10);
  return Number.isFinite(n) && n >= min ? n : fallback;
};

/**
 * What one invocation may walk. Free: 50 subrequests and 10 ms of CPU per invocation, so 40
 * pages (the rest kept for the pricing the proxy does on the way) and 500 instances (the proxy's
 * own work is about 10 ms per 1,000). Paid: 10,000 subrequests and 30 s of CPU by default.
 * LIVE_PAGES_PER_RUN / LIVE_INSTANCES_PER_RUN override either.
 */
export function budgetOf(env) {
  const paid = String(env.GPUFLEET_PLAN ?? "").trim().toLowerCase() === "paid";
  return {
    pages: int(env.LIVE_PAGES_PER_RUN, paid ? 5_000 : 40, 1),
    instances: int(env.LIVE_INSTANCES_PER_RUN, paid ? 200_000 : 500, 1),
  };
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": ping\n\n");
/** An event's bytes; `data` is an object, or JSON text already made. */
const frame = (event, data) => encoder.encode(`event: ${event}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);

const keyOf = (i) => `${i.provider}/${i.id}`;
const textOf = (i) => JSON.stringify(i);

/** The fleet's burn rate and cost so far, as `FleetCost::of` sums them (exact, in micro-dollars). */
export function fleetCost(instances, providers) {
  const rows = new Map(providers.map((p) => [p, { provider: p, burn: 0, cost: 0, priced: 0, unpriced: 0 }]));
  for (const i of instances) {
    if (i.status !== "running") continue;
    if (!rows.has(i.provider)) rows.set(i.provider, { provider: i.provider, burn: 0, cost: 0, priced: 0, unpriced: 0 });
    const row = rows.get(i.provider);
    if (i.price) {
      row.burn += i.price.microUsdPerHour;
      row.cost += i.cost ? i.cost.amount.microUsd : 0;
      row.priced += 1;
    } else row.unpriced += 1;
  }
  const money = (micro) => ({ usd: micro / 1e6, microUsd: micro });
  const all = [...rows.values()];
  const sum = (f) => all.reduce((n, r) => n + f(r), 0);
  return {
    burnRatePerHour: money(sum((r) => r.burn)),
    costSoFar: money(sum((r) => r.cost)),
    pricedRunning: sum((r) => r.priced),
    unpricedRunning: sum((r) => r.unpriced),
    byProvider: all.map((r) => ({
      provider: r.provider,
      burnRatePerHour: money(r.burn),
      costSoFar: money(r.cost),
      pricedRunning: r.priced,
      unpricedRunning: r.unpriced,
    })),
  };
}

export class FleetLive {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
    this.store = env.DB ? new D1Store(env.DB) : undefined;
    this.intervalMs = int(env.LIVE_INTERVAL_MS, 10_000, 1_000);
    this.clients = new Set(); // { writer, caller }
    this.snapshot = new Map(); // "provider/id" → { text, instance }
    this.errors = new Map(); // provider → Error, until a walk of it succeeds
    this.providers = []; // the proxy's configured providers, in its order
    this.walkedAt = 0; // when the last complete walk began (ms)
    this.delayMs = this.intervalMs; // to the next walk: the interval, doubled while anything fails
    this.nextWalkAt = 0;
    this.filling = true; // no complete walk yet
    this.walk = null; // the walk under way: { startedAt, states: Map(provider → { cursor, seen, done, error }) }
    this.stepping = null; // the step under way (one at a time)
    this.balancesAt = 0;
    this.balancesText = null;
    this.heartbeat = null;
  }

  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/live/refresh")) return this.refresh();
    return this.subscribe(request.headers.get("x-gpufleet-caller") || "unknown");
  }

  /**
   * A console's stream: the snapshot, then every change. A console opening sees the fleet as it
   * is then, as a listing would: a walk that began after it arrived runs first, shared by every
   * console opening (or refreshing) meanwhile (for a fleet larger than one invocation, the step
   * under way).
   */
  async subscribe(caller) {
    try {
      await this.walkSince(Date.now());
    } catch (e) {
      console.error(JSON.stringify({ event: "live-walk-failed", error: String(e && e.message) }));
    }
    const { readable, writable } = new TransformStream();
    const client = { writer: writable.getWriter(), caller };
    this.clients.add(client);
    this.send(client, "snapshot", {
      instances: [...this.snapshot.values()].map((e) => e.instance),
      ...this.summary(),
      intervalMs: this.intervalMs,
    });
    if (this.balancesText) this.send(client, "balances", this.balancesText);
    this.heartbeat ??= setInterval(() => this.writeAll(HEARTBEAT), HEARTBEAT_MS);
    // The next walk: at the interval after the last (the step above scheduled it unless a walk
    // was already under way, whose own steps go on by alarm).
    if (!this.walk && !(await this.ctx.storage.getAlarm())) await this.ctx.storage.setAlarm(this.nextWalkAt);
    return new Response(readable, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  /** `GET /api/v1/live/refresh`: a walk now, shared by every console asking at once. */
  async refresh() {
    await this.walkSince(Date.now()).catch(() => {});
    return Response.json({ walking: Boolean(this.walk), walkedAt: this.walkedAt || null, filling: this.filling });
  }

  async alarm() {
    if (!this.clients.size && !this.walk) return this.idle(); // nobody watches: no provider calls
    await this.step();
  }

  idle() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** One invocation's share of the walk; the rest goes to the next alarm. */
  step() {
    if (!this.stepping) {
      const began = this.walk ? this.walk.startedAt : Date.now();
      this.steppingBegan = began;
      this.stepping = this.runStep(began).finally(() => (this.stepping = null));
    }
    return this.stepping;
  }

  /**
   * Resolves once a step of a walk that began at or after `since` is done: the step under way if
   * its walk began late enough, else (after it) a new one. Callers arriving together share it, so
   * a burst of openings and refreshes costs at most two walks. A walk already spanning several
   * invocations is not begun again: its next step is taken.
   */
  async walkSince(since) {
    if (this.stepping && this.steppingBegan < since) await this.stepping.catch(() => {});
    if (this.stepping) return this.stepping;
    return this.step();
  }

  async runStep(began) {
    if (!this.walk) {
      this.providers = await this.configuredProviders();
      this.walk = {
        startedAt: began,
        states: new Map(this.providers.map((p) => [p, { cursor: null, seen: new Map(), done: false, error: null }])),
      };
    }
    const budget = budgetOf(this.env);
    const upserts = [];
    const removed = [];
    const walked = [];
    await Promise.all([...this.walk.states].map(([p, st]) => this.walkProvider(p, st, budget, upserts)));
    await this.balancesIfDue();
    for (const [p, st] of this.walk.states) {
      if (!st.done || st.finished) continue;
      st.finished = true;
      walked.push(p);
      if (st.error) {
        this.errors.set(p, st.error); // its rows stay as last seen; the console marks them stale
        continue;
      }
      this.errors.delete(p);
      for (const key of this.snapshot.keys()) {
        if (key.startsWith(`${p}/`) && !st.seen.has(key)) {
          this.snapshot.delete(key);
          removed.push(key);
        }
      }
    }
    // A provider no longer configured: its rows go.
    for (const key of this.snapshot.keys()) {
      if (!this.walk.states.has(key.slice(0, key.indexOf("/")))) {
        this.snapshot.delete(key);
        removed.push(key);
      }
    }
    const complete = [...this.walk.states.values()].every((st) => st.done);
    if (complete) {
      this.walkedAt = this.walk.startedAt;
      this.filling = false;
      this.walk = null;
      this.delayMs = this.errors.size ? Math.min(this.delayMs * 2, MAX_DELAY_MS) : this.intervalMs;
      this.nextWalkAt = this.walkedAt + this.delayMs;
    }
    if (upserts.length || removed.length) this.broadcast("diff", { upserts, removed });
    this.broadcast("status", { ...this.summary(), walked });
    if (!complete) await this.ctx.storage.setAlarm(Date.now()); // the rest, in a fresh invocation
    else if (this.clients.size) await this.ctx.storage.setAlarm(Math.max(Date.now(), this.nextWalkAt));
    else this.idle();
  }

  async walkProvider(p, st, budget, upserts) {
    while (!st.done && budget.pages > 0 && budget.instances > 0) {
      budget.pages -= 1;
      const params = new URLSearchParams();
      if (PAGE_SIZE[p]) params.set("limit", String(PAGE_SIZE[p]));
      if (st.cursor) params.set("cursor", st.cursor);
      const q = params.toString();
      const answer = await this.internal(`/${p}/instances${q ? `?${q}` : ""}`);
      if (answer.error) {
        st.error = answer.error;
        st.done = true;
        return;
      }
      const page = answer.body;
      const items = Array.isArray(page.items) ? page.items : [];
      budget.instances -= items.length;
      for (const instance of items) {
        const key = keyOf(instance);
        if (st.seen.has(key)) {
          // Pages moved under the walk (an instance shifted across a page boundary): the walk
          // cannot be made complete, so it fails loudly rather than drop or double a row.
          st.error = incomplete(p, `${key} came twice while walking the pages; the list changed during the walk`);
          st.done = true;
          return;
        }
        const text = textOf(instance);
        st.seen.set(key, true);
        const was = this.snapshot.get(key);
        if (!was || was.text !== text) {
          this.snapshot.set(key, { text, instance });
          upserts.push(instance);
        }
      }
      st.cursor = page.nextCursor ?? null;
      if (!page.hasMore || !st.cursor) {
        st.done = true;
        if (Number.isInteger(page.total) && page.total !== st.seen.size) {
          st.error = incomplete(p, `the provider reports ${page.total} instances but the walk found ${st.seen.size}`);
        }
      }
    }
  }

  async balancesIfDue() {
    if (Date.now() - this.balancesAt < BALANCES_MS) return;
    this.balancesAt = Date.now();
    const answer = await this.internal("/balances");
    if (answer.error) return; // the consoles keep the last balances; the next minute tries again
    this.balancesText = JSON.stringify(answer.body);
    this.broadcast("balances", this.balancesText);
  }

  async configuredProviders() {
    const answer = await this.internal("/providers");
    if (answer.error) throw new Error(`the live view cannot read the proxy's providers: ${answer.error.message}`);
    return answer.body.providers.map((c) => c.provider);
  }

  /** A GET through the proxy as the internal caller: `{ body }` or `{ error }` (the proxy's JSON error). */
  async internal(path) {
    let response;
    try {
      response = await handleFetch(new Request(BASE + path), this.env, this.ctx, this.store, INTERNAL);
    } catch (e) {
      return { error: { code: "server", message: `the proxy failed: ${String(e && e.name)}`, retryable: true } };
    }
    let body;
    try {
      body = await response.json();
    } catch {
      return { error: { code: "server", message: `the proxy answered ${response.status} without JSON`, retryable: true } };
    }
    return response.ok ? { body } : { error: body.error ?? { code: "server", message: `status ${response.status}` } };
  }

  summary() {
    const errors = [...this.errors].map(([provider, error]) => ({ provider, error }));
    const answered = this.providers.filter((p) => !this.errors.has(p));
    const instances = [...this.snapshot.values()].map((e) => e.instance);
    return {
      errors,
      cost: this.filling ? null : fleetCost(instances, answered),
      walkedAt: this.walkedAt || null,
      nextWalkAt: this.nextWalkAt || null,
      filling: this.filling,
      walking: this.walk ? { startedAt: this.walk.startedAt, instances: instancesSeen(this.walk) } : null,
    };
  }

  send(client, event, data) {
    this.write(client, frame(event, data));
  }

  /** One event to every console: serialized and encoded once, whatever their number. */
  broadcast(event, data) {
    this.writeAll(frame(event, data));
  }

  writeAll(bytes) {
    for (const c of this.clients) this.write(c, bytes);
  }

  write(client, bytes) {
    if (!this.clients.has(client)) return;
    if (client.writer.desiredSize !== null && client.writer.desiredSize < -MAX_QUEUED) {
      this.drop(client);
      client.writer.abort(new Error("the console stopped reading")).catch(() => {});
      return;
    }
    // A console that went away: its write fails, and it is dropped.
    client.writer.write(bytes).catch(() => this.drop(client));
  }

  drop(client) {
    this.clients.delete(client);
    if (!this.clients.size) this.idle();
  }
}

function instancesSeen(walk) {
  let n = 0;
  for (const st of walk.states.values()) n += st.seen.size;
  return n;
}

function incomplete(provider, why) {
  return { code: "server", message: `${provider}: the listing could not be made complete: ${why}`, provider, retryable: true };
}
