// Fault injection. A rule = { provider?, rate, kinds, retryAfterSeconds?, slowMs?, seed?, after?,
// times?, paths?, methods? }. Rules are checked in the order they were added; the first that fires wins.
// Each rule has its own seeded PRNG, so the same rules + the same request sequence → the same faults.

import { mulberry32, hashSeed } from "./util.mjs";
import { PROVIDERS } from "./defaults.mjs";

export const FAULT_KINDS = Object.freeze(["429", "500", "502", "503", "drop", "truncate", "slow", "drop-after-commit"]);

/** Normalizes provider aliases used by the control API. */
export function normalizeProvider(p) {
  if (p === undefined || p === null || p === "" || p === "*" || p === "all") return undefined;
  const v = String(p);
  if (v === "falAlpha" || v === "fal_alpha") return "fal-alpha";
  if (v === "sfc") return "sfcompute";
  if (!PROVIDERS.includes(v)) throw new RangeError(`unknown provider ${JSON.stringify(v)} (one of ${PROVIDERS.join(", ")})`);
  return v;
}

export class Faults {
  constructor(simSeed) {
    this.simSeed = simSeed;
    this.rules = [];
    this.nextId = 1;
  }

  /** Validates and adds a rule; returns the stored rule. Throws RangeError on bad input. */
  add(input) {
    if (input === null || typeof input !== "object" || Array.isArray(input)) throw new RangeError("fault rule must be a JSON object");
    const provider = normalizeProvider(input.provider);
    const rate = input.rate === undefined ? 1 : Number(input.rate);
    if (!(rate >= 0 && rate <= 1)) throw new RangeError("rate must be a number in 0..1");
    let kinds = input.kinds ?? (input.kind !== undefined ? [input.kind] : undefined);
    if (!Array.isArray(kinds) || kinds.length === 0) throw new RangeError(`kinds must be a non-empty array of ${FAULT_KINDS.join(", ")}`);
    kinds = kinds.map(String);
    for (const k of kinds) if (!FAULT_KINDS.includes(k)) throw new RangeError(`unknown fault kind ${JSON.stringify(k)} (one of ${FAULT_KINDS.join(", ")})`);
    const num = (v, name, def, min = 0) => {
      if (v === undefined || v === null) return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) throw new RangeError(`${name} must be a number >= ${min}`);
      return n;
    };
    const id = this.nextId++;
    const seed = num(input.seed, "seed", hashSeed(this.simSeed, "faults", id));
    const paths = input.paths === undefined || input.paths === null ? null : [].concat(input.paths).map(String);
    const methods = input.methods === undefined || input.methods === null ? null : [].concat(input.methods).map((m) => String(m).toUpperCase());
    const rule = {
      id,
      provider: provider ?? null,
      rate,
      kinds,
      retryAfterSeconds: num(input.retryAfterSeconds, "retryAfterSeconds", 1),
      retryAfterSet: input.retryAfterSeconds !== undefined && input.retryAfterSeconds !== null,
      slowMs: num(input.slowMs, "slowMs", 2000),
      seed,
      after: Math.floor(num(input.after, "after", 0)),
      // fire at most this many times (null = no limit), e.g. 1 = only the first matching request
      times: input.times === undefined || input.times === null ? null : Math.floor(num(input.times, "times", null, 1)),
      paths,
      methods,
      matched: 0,
      fired: 0,
    };
    Object.defineProperty(rule, "rand", { value: mulberry32(seed), enumerable: false });
    this.rules.push(rule);
    return rule;
  }

  clear() {
    this.rules = [];
  }

  /**
   * Decides whether this request gets a fault. `path` is the full request path (with base path).
   * @returns {null | {kind, rule}}
   */
  decide(provider, method, path) {
    for (const rule of this.rules) {
      if (rule.provider && rule.provider !== provider) continue;
      if (rule.methods && !rule.methods.includes(method)) continue;
      if (rule.paths && !rule.paths.some((p) => path.includes(p))) continue;
      rule.matched += 1;
      if (rule.matched <= rule.after) continue;
      if (rule.times !== null && rule.fired >= rule.times) continue;
      // two draws per matching request, always, so the sequence does not depend on the outcome
      const fire = rule.rand() < rule.rate;
      const pick = rule.rand();
      if (!fire) continue;
      rule.fired += 1;
      return { kind: rule.kinds[Math.floor(pick * rule.kinds.length)], rule };
    }
    return null;
  }

  toJSON() {
    return this.rules.map((r) => ({ ...r }));
  }
}
