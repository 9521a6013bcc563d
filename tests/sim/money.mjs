// Money in the simulated clouds: what instances are billed, on the sim clock, and the account
// balances that follow. The provider modules serve it (novita.mjs products / balance / bills,
// fal.mjs account billing, sfcompute.mjs quote / balance); the price list is in catalog.mjs.
//
// Billing is computed at read time from the instance timelines, like statuses: nothing runs in the
// background, and the same requests at the same sim times give the same amounts. Every record a
// store ever held is billed (Store.ever), so a deleted instance's charges stay charged; a removed
// record stops billing at its `removedAt`.
//
// Time is counted in whole seconds: a billed stretch [a, b) in sim ms counts from floor(a / 1000)
// to floor(b / 1000) (Novita: "billing duration is accurate to the second").
//
// Statuses that bill:
//   novita     from `pulling` until stopped, as Novita's pricing guide says ("the billing start time
//              is when the instance … enters the pulling state, and the billing stop time is when the
//              instance is stopped"): pulling, running, toStop, stopping, toRestart, restarting,
//              toReset, resetting, migrating, freezing. Not: toCreate, creating, toStart, starting,
//              exited, toRemove, removing, removed. Only onDemand and spot instances accrue; monthly
//              ones are prepaid (fixed-term bills, not served) and accrue nothing.
//   fal        `ready`, for fal v1 and fal-alpha instances alike (one fal account, one key)
//   sfcompute  `running`
//
// Rates and rounding (integers; "round" is half up, exact in doubles for any sim's amounts):
//   novita     an instance with product price p (1/100,000 USD per GPU-hour; its spotPrice when it
//              is spot) and n GPUs (1 for a CPU product) is billed per UTC clock hour:
//              round(p × n × s / 36,000) in 1/10,000 USD for its s billed seconds in that hour.
//              Bills show these hourly amounts (Day / Week / Month cycles sum their hours); the
//              balance is charged the same amounts for the part of each hour at or after the epoch.
//   fal        round(price × s / 3,600) micro-USD per instance, price = FAL_PRICES (micro-USD per
//              instance-hour), s = its billed seconds since the epoch
//   sfcompute  round(billed × s / 3,600) cents per instance, billed = SFC_PRICES[sku].billed (cents
//              per node-hour), s = its running seconds since the epoch
//
// Balances start at the sim epoch (charges before it count as paid by earlier top-ups) and are not
// enforced: an account that runs dry keeps its instances (Novita's then owes outstandingInvoices).

import { NOVITA_ALL_PRODUCTS, FAL_PRICES, SFC_PRICES } from "./catalog.mjs";

/** Opening balances at the sim epoch, in each provider's own unit. */
export const OPENING = Object.freeze({
  novitaCash: 5_000_000, // 1/10,000 USD: $500.00
  novitaCreditLimit: 200_000, // 1/10,000 USD: $20.00 (the docs' example)
  falMicro: 5_000_000_000, // micro-USD: $5,000.00
  sfcCents: 1_000_000, // cents: $10,000.00
});

export const NOVITA_USER_ID = "sim-user-00000001";
export const FAL_USERNAME = "simfleet";

export const BILLED_STATUSES = Object.freeze({
  novita: new Set(["pulling", "running", "toStop", "stopping", "toRestart", "restarting", "toReset", "resetting", "migrating", "freezing"]),
  fal: new Set(["ready"]),
  "fal-alpha": new Set(["ready"]),
  sfcompute: new Set(["running"]),
});

/** Novita bill `billingMethod` codes: 1 pay-as-you-go and 2 monthly are the docs' examples; 3 (spot) is the sim's. */
export const NOVITA_BILLING_METHOD = Object.freeze({ onDemand: 1, monthly: 2, spot: 3 });

/** round(n / d) half up, for n >= 0 and d > 0 (exact while 2n + d < 2^53). */
export function roundDiv(n, d) {
  return Math.floor((2 * n + d) / (2 * d));
}

const mod = (a, m) => ((a % m) + m) % m;

/**
 * The billed stretches of a record as whole-second intervals [a, b), clipped to [fromSec, toSec).
 * @param {{timeline: {at, status}[], removedAt?: number}} rec
 */
export function billedIntervals(rec, statuses, fromSec, toSec) {
  const tl = rec.timeline;
  const end = rec.removedAt ?? Infinity;
  const ms = [];
  for (let i = 0; i < tl.length; i++) {
    if (!statuses.has(tl[i].status)) continue;
    const a = tl[i].at;
    const b = Math.min(i + 1 < tl.length ? tl[i + 1].at : Infinity, end);
    if (b <= a) continue;
    const last = ms[ms.length - 1];
    if (last && last[1] === a) last[1] = b;
    else ms.push([a, b]);
  }
  const out = [];
  for (const [a, b] of ms) {
    const s = Math.max(Math.floor(a / 1000), fromSec);
    const e = Math.min(b === Infinity ? Infinity : Math.floor(b / 1000), toSec);
    if (e > s) out.push([s, e]);
  }
  return out;
}

/** Total seconds of some intervals. */
export const totalSeconds = (intervals) => intervals.reduce((n, [a, b]) => n + (b - a), 0);

/** Seconds per UTC clock hour: Map(hour start in Unix seconds → seconds billed in it), ascending. */
export function secondsByHour(intervals) {
  const m = new Map();
  for (const [a, b] of intervals) {
    for (let h = a - mod(a, 3600); h < b; h += 3600) {
      const s = Math.min(b, h + 3600) - Math.max(a, h);
      if (s > 0) m.set(h, (m.get(h) ?? 0) + s);
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Novita

/** A Novita product by id (every product, CPU and unseeded ones included). */
export const novitaProduct = (id) => NOVITA_ALL_PRODUCTS.find((p) => p.id === id);

/**
 * What a Novita instance is billed per hour: {unit (1/100,000 USD per GPU-hour), n (GPUs, 1 for
 * CPU products), method (bill code)}, or null for monthly (prepaid) instances.
 */
export function novitaRate(rec) {
  if (rec.billingMode === "monthly") return null;
  const p = rec.product;
  const spot = rec.billingMode === "spot";
  // a spot instance of a product without a spot price (creates refuse it; force-status could make
  // one) is billed on demand
  const unit = spot && p.spotPrice !== null && p.spotPrice !== undefined ? p.spotPrice : p.price;
  return { unit, n: p.kind === "gpu" ? Math.max(1, rec.gpuNum) : 1, method: spot ? NOVITA_BILLING_METHOD.spot : NOVITA_BILLING_METHOD.onDemand };
}

/** One hour's amount in 1/10,000 USD. */
export const novitaHourAmount = (rate, seconds) => roundDiv(rate.unit * rate.n * seconds, 36_000);

/** Total charged to the Novita account since the epoch, 1/10,000 USD. */
export function novitaCharged(sim) {
  const from = Math.floor(sim.epochMs / 1000);
  const to = Math.floor(sim.now() / 1000);
  let total = 0;
  for (const rec of sim.stores.novita.ever) {
    const rate = novitaRate(rec);
    if (!rate) continue;
    const iv = billedIntervals(rec, BILLED_STATUSES.novita, from, to);
    if (iv.length === 0) continue;
    for (const s of secondsByHour(iv).values()) total += novitaHourAmount(rate, s);
  }
  return total;
}

/** The Novita balance now, 1/10,000 USD: cash left, credit limit, what is owed, what is available. */
export function novitaBalance(sim) {
  const charged = novitaCharged(sim);
  const cash = Math.max(0, OPENING.novitaCash - charged);
  const outstanding = Math.max(0, charged - OPENING.novitaCash);
  return { charged, cash, creditLimit: OPENING.novitaCreditLimit, outstanding, pending: 0, available: cash + OPENING.novitaCreditLimit - outstanding };
}

/** Billing cycles (UTC): start(t) = the start of the cycle holding t, next(s) = the following one's start. */
export const CYCLES = Object.freeze({
  Hour: { start: (t) => t - mod(t, 3600), next: (s) => s + 3600 },
  Day: { start: (t) => t - mod(t, 86_400), next: (s) => s + 86_400 },
  // weeks start on Monday 00:00 UTC (1970-01-01 was a Thursday)
  Week: { start: (t) => { const d = t - mod(t, 86_400); return d - mod(d / 86_400 + 3, 7) * 86_400; }, next: (s) => s + 7 * 86_400 },
  Month: {
    start: (t) => { const d = new Date(t * 1000); return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000; },
    next: (s) => { const d = new Date(s * 1000); return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000; },
  },
});

/**
 * Novita's pay-as-you-go bills: one per instance and cycle with billed time, for the cycles that
 * START in [startSec, endSec) (so consecutive ranges never share a bill), the current cycle pro rata
 * (billed up to now). Ordered by startTime, then ownerID. `summary` gives one bill per cycle for the
 * whole account (the matching instances' sum, ownerID "").
 */
export function novitaBills(sim, { cycleType, category, startSec, endSec, ownerId, productName }) {
  const cycle = CYCLES[cycleType];
  let lo = cycle.start(startSec);
  if (lo < startSec) lo = cycle.next(lo);
  const lastStart = cycle.start(endSec - 1);
  if (lastStart < lo) return [];
  const nowSec = Math.floor(sim.now() / 1000);
  const hi = Math.min(cycle.next(lastStart), nowSec);
  const name = productName ? productName.toLowerCase() : "";
  const perInstance = [];
  for (const rec of sim.stores.novita.ever) {
    if (ownerId && rec.id !== ownerId) continue;
    if (name && !rec.product.name.toLowerCase().includes(name)) continue;
    const rate = novitaRate(rec);
    if (!rate) continue;
    const iv = billedIntervals(rec, BILLED_STATUSES.novita, lo, hi);
    if (iv.length === 0) continue;
    const cycles = new Map(); // cycle start → {seconds, amount}
    for (const [h, s] of secondsByHour(iv)) {
      const c = cycle.start(h);
      const acc = cycles.get(c) ?? { seconds: 0, amount: 0 };
      acc.seconds += s;
      acc.amount += novitaHourAmount(rate, s);
      cycles.set(c, acc);
    }
    for (const [c, acc] of cycles) perInstance.push({ rec, rate, start: c, ...acc });
  }
  const bill = (start, fields) => ({
    userId: NOVITA_USER_ID,
    startTime: String(start),
    endTime: String(cycle.next(start) - 1),
    ...fields,
  });
  const money = (amount) => ({ amount: String(amount), voucherAmount: "0", payAmount: String(amount), payAmountDisplay: amount / 10_000, pricePrecision: 1 });
  if (category === "summary") {
    const totals = new Map();
    for (const b of perInstance) totals.set(b.start, (totals.get(b.start) ?? 0) + b.amount);
    return [...totals.keys()].sort((a, b) => a - b).map((start) => bill(start, {
      billingMethod: NOVITA_BILLING_METHOD.onDemand, productName: "", category: "summary", ownerID: "",
      billNum0: "0", billNum1: "0", basePrice0: "0", basePrice1: "0", discountPrice0: "0", discountPrice1: "0",
      ...money(totals.get(start)), productId: "",
    }));
  }
  perInstance.sort((a, b) => a.start - b.start || (a.rec.id < b.rec.id ? -1 : a.rec.id > b.rec.id ? 1 : 0));
  return perInstance.map(({ rec, rate, start, seconds, amount }) => bill(start, {
    billingMethod: rate.method,
    productName: rec.product.name,
    category: "gpu",
    ownerID: rec.id,
    billNum0: String(seconds * rate.n), // GPU-seconds (instance-seconds for CPU products)
    billNum1: "0",
    basePrice0: String(rate.unit), // 1/100,000 USD per GPU-hour, the catalog's unit
    basePrice1: "0",
    discountPrice0: String(rate.unit),
    discountPrice1: "0",
    ...money(amount),
    productId: rec.product.id,
  }));
}

// ---------------------------------------------------------------------------------------------
// fal

/** Total charged to the fal account since the epoch (fal v1 and fal-alpha instances), micro-USD. */
export function falCharged(sim) {
  const from = Math.floor(sim.epochMs / 1000);
  const to = Math.floor(sim.now() / 1000);
  let total = 0;
  for (const p of ["fal", "fal-alpha"]) {
    for (const rec of sim.stores[p].ever) {
      const price = FAL_PRICES[rec.instance_type];
      if (price === undefined) continue;
      const s = totalSeconds(billedIntervals(rec, BILLED_STATUSES[p], from, to));
      if (s > 0) total += roundDiv(price * s, 3600);
    }
  }
  return total;
}

/** The fal credit balance now, micro-USD (never below 0: fal's schema says minimum 0). */
export function falBalance(sim) {
  const charged = falCharged(sim);
  return { charged, micro: Math.max(0, OPENING.falMicro - charged) };
}

// ---------------------------------------------------------------------------------------------
// SF Compute

/** Total charged to the SF Compute account since the epoch, cents. */
export function sfcCharged(sim) {
  const from = Math.floor(sim.epochMs / 1000);
  const to = Math.floor(sim.now() / 1000);
  let total = 0;
  for (const rec of sim.stores.sfcompute.ever) {
    const price = SFC_PRICES[rec.sku.id];
    if (!price) continue;
    const s = totalSeconds(billedIntervals(rec, BILLED_STATUSES.sfcompute, from, to));
    if (s > 0) total += roundDiv(price.billed * s, 3600);
  }
  return total;
}

/** The SF Compute balance now, cents: current (never below 0), overage beyond it. */
export function sfcBalance(sim) {
  const charged = sfcCharged(sim);
  return { charged, current: Math.max(0, OPENING.sfcCents - charged), overage: Math.max(0, charged - OPENING.sfcCents) };
}

/** Cents as SF Compute's DollarsPerNodeHour text (`^\d+\.\d+$`, six decimals as in its examples). */
export function centsToDollars(cents) {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}0000`;
}

/** The sim's price list and balances (GET /__sim/money). */
export function moneyState(sim) {
  const n = novitaBalance(sim);
  const f = falBalance(sim);
  const s = sfcBalance(sim);
  return {
    units: {
      novitaPrice: "1/100,000 USD per GPU-hour (per instance-hour for CPU products)",
      novitaBalance: "1/10,000 USD",
      fal: "micro-USD (prices per instance-hour)",
      sfcompute: "cents (prices per node-hour)",
    },
    opening: OPENING,
    prices: {
      novita: NOVITA_ALL_PRODUCTS.map((p) => ({ id: p.id, name: p.name, kind: p.kind, price: p.price, spotPrice: p.spotPrice, availableDeploy: p.availableDeploy, billingMethods: p.billingMethods })),
      fal: FAL_PRICES,
      sfcompute: SFC_PRICES,
    },
    balances: {
      novita: n,
      fal: f,
      sfcompute: s,
    },
  };
}
