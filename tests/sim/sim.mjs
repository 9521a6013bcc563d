// The simulator's state, independent of HTTP: config, clock, the four fleets, idempotency cache,
// latency, faults and the request log. server.mjs wires it to node:http.

import { Clock, statusAt, GONE } from "./clock.mjs";
import { GENERATORS } from "./fleet.mjs";
import { Faults } from "./faults.mjs";
import { Rng, hashSeed } from "./util.mjs";
import { SIM_DEFAULTS, PROVIDERS } from "./defaults.mjs";
import { parseNovitaPaging } from "./novita.mjs";

export const LOG_LIMIT = 50_000;
export const MAX_INSTANCES = 100_000;
export const MAX_NOVITA_INSTANCE_LIMIT = 1_000_000;

/**
 * Validates a `novitaInstanceLimit`: an integer 0..1,000,000 (as a number or decimal string), or
 * null / "unlimited" for no limit. Returns {ok, value} (value null = unlimited) or {ok:false, error}.
 */
export function parseNovitaInstanceLimit(v) {
  if (v === null || v === "unlimited") return { ok: true, value: null };
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_NOVITA_INSTANCE_LIMIT) {
    return { ok: false, error: `novitaInstanceLimit must be an integer 0..${MAX_NOVITA_INSTANCE_LIMIT} or "unlimited" (got ${JSON.stringify(v)})` };
  }
  return { ok: true, value: n };
}

/** Instances of one provider in list order. */
export class Store {
  /** @param {(a, b) => number | null} compare list order, or null for insertion order */
  /** @param {() => number} [writes] the sim's write counter: a changed value means any record's timeline may have changed */
  constructor(records, compare, writes = () => NaN) {
    this.compare = compare;
    this.list = records;
    // every record this store ever held, removed and vanished ones too (money.mjs bills them)
    this.ever = records.slice();
    this.byId = new Map(records.map((r) => [r.id, r]));
    this.dirty = true;
    this.writes = writes;
    // ordered() scans every record for vanished ones; with no write since the last scan and `now`
    // before the earliest scheduled vanishing, that scan would find nothing and is skipped
    // (a listing of 10,000 pages 100 at a time would otherwise scan 100 × 10,000 records).
    this.scannedAtWrites = NaN;
    this.nextVanishAt = -Infinity;
  }
  add(rec) {
    this.list.push(rec);
    this.ever.push(rec);
    this.byId.set(rec.id, rec);
    this.dirty = true;
  }
  /** Removes a record from list and get; `at` (sim ms) is kept as its `removedAt` (billing ends). */
  remove(id, at) {
    const rec = this.byId.get(id);
    if (!rec) return false;
    if (at !== undefined) rec.removedAt = at;
    this.byId.delete(id);
    const i = this.list.indexOf(rec);
    if (i >= 0) this.list.splice(i, 1);
    return true;
  }
  /** Records in list order, dropping any that have vanished (status GONE) by time `now`. */
  ordered(now) {
    const writes = this.writes();
    if (!this.dirty && writes === this.scannedAtWrites && now < this.nextVanishAt) return this.list;
    if (this.dirty && this.compare) this.list.sort(this.compare);
    this.dirty = false;
    // GONE is always a timeline's last entry, so checking the last entry is enough
    const vanished = (r) => {
      const last = r.timeline[r.timeline.length - 1];
      return last.status === GONE && last.at <= now;
    };
    if (this.list.some(vanished)) {
      this.list = this.list.filter((r) => {
        if (!vanished(r)) return true;
        this.byId.delete(r.id);
        return false;
      });
    }
    let next = Infinity;
    for (const r of this.list) {
      const last = r.timeline[r.timeline.length - 1];
      if (last.status === GONE && last.at < next) next = last.at;
    }
    this.nextVanishAt = next;
    this.scannedAtWrites = writes;
    return this.list;
  }
  /** A live record by id (undefined when unknown or vanished). */
  get(id, now) {
    const r = this.byId.get(id);
    if (!r) return undefined;
    if (statusAt(r.timeline, now) === GONE) return undefined;
    return r;
  }
}

const byCreatedDescIdAsc = (key) => (a, b) => b[key] - a[key] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** List order per provider: fal/alpha creation order (oldest first); SFC/Novita newest first. */
const ORDER = {
  fal: null,
  "fal-alpha": null,
  sfcompute: byCreatedDescIdAsc("created_at"),
  novita: byCreatedDescIdAsc("createdAt"),
};

/** Normalizes and validates a config object (CLI flags, startSim options, /__sim/reset body). */
export function normalizeConfig(input = {}, base = SIM_DEFAULTS) {
  const c = { ...base };
  const errors = [];
  const has = (k) => input[k] !== undefined && input[k] !== null;
  if (has("seed")) {
    const v = Number(input.seed);
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) errors.push("seed must be an integer 0..4294967295");
    else c.seed = v;
  }
  if (has("instances")) {
    const v = Number(input.instances);
    if (!Number.isInteger(v) || v < 0 || v > MAX_INSTANCES) errors.push(`instances must be an integer 0..${MAX_INSTANCES}`);
    else c.instances = v;
  }
  if (has("speed")) {
    const v = Number(input.speed);
    if (!Number.isFinite(v) || v < 0 || v > 1e6) errors.push("speed must be a number 0..1000000");
    else c.speed = v;
  }
  if (has("hostile")) c.hostile = input.hostile === true || input.hostile === "true" || input.hostile === 1;
  if (has("sfcShape")) {
    if (input.sfcShape !== "seed" && input.sfcShape !== "july") errors.push('sfcShape must be "seed" or "july"');
    else c.sfcShape = input.sfcShape;
  }
  if (has("novitaPaging")) {
    const p = parseNovitaPaging(input.novitaPaging);
    if (!p.ok) errors.push(p.error);
    else c.novitaPaging = p.value.mode;
  }
  // null is a value here (unlimited), not "omitted"
  if (input.novitaInstanceLimit !== undefined) {
    const p = parseNovitaInstanceLimit(input.novitaInstanceLimit);
    if (!p.ok) errors.push(p.error);
    else c.novitaInstanceLimit = p.value;
  }
  if (has("epoch")) {
    const v = input.epoch === "now" ? Date.now() : typeof input.epoch === "number" ? input.epoch : Date.parse(input.epoch);
    if (!Number.isFinite(v)) errors.push('epoch must be an ISO date, epoch ms, or "now"');
    else c.epoch = new Date(v).toISOString();
  }
  return { config: c, errors };
}

export class Sim {
  constructor(config) {
    this.startConfig = config;
    this.seq = 0;
    this.reset(config);
  }

  /** Regenerates everything; clears faults, latency, log, idempotency cache and clock offset. */
  reset(config) {
    this.config = { ...config };
    this.epochMs = Date.parse(config.epoch);
    this.clock = new Clock(this.epochMs, config.speed);
    // Each provider's fleet is generated on first use, so start-up and reset stay instant even
    // with 10,000s of instances; the records do not depend on when they are generated.
    const params = { seed: config.seed, instances: config.instances, hostile: config.hostile, epochMs: this.epochMs };
    const stores = {};
    const sim = this;
    this.writes = 0; // bumped by every request that may change a record (see Store.ordered)
    for (const p of PROVIDERS) {
      Object.defineProperty(stores, p, {
        enumerable: true,
        configurable: true,
        get() {
          const store = new Store(GENERATORS[p](params), ORDER[p], () => sim.writes);
          Object.defineProperty(stores, p, { value: store, enumerable: true, writable: false });
          return store;
        },
      });
    }
    this.stores = stores;
    this.rng = Object.fromEntries(PROVIDERS.map((p) => [p, new Rng(hashSeed(config.seed, p, "runtime"))]));
    this.idempotency = new Map(); // fal v1: key -> { at, bodyHash, response }
    this.latency = {}; // provider|"*" -> ms
    this.faults = new Faults(config.seed);
    this.log = [];
    this.logSeq = 0;
    this.requestCounter = 0;
  }

  now() {
    return this.clock.now();
  }

  /** Notes that records may have changed (any non-GET provider request, any control write). */
  wrote() {
    this.writes += 1;
  }

  /** A fresh request id, also used as `error.request_id` (fal) and the x-request-id header. */
  nextRequestId() {
    this.requestCounter += 1;
    return "req_sim" + String(this.requestCounter).padStart(8, "0");
  }

  latencyFor(provider) {
    return this.latency[provider] ?? this.latency["*"] ?? 0;
  }

  addLog(entry) {
    entry.seq = ++this.logSeq;
    this.log.push(entry);
    if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
    return entry;
  }
}
