// Money on the page: dollars as text, prices and costs with where they come from. Every figure
// comes from the library (instances' `price` and `cost`, the listing's `cost`, `offers()`,
// `balances()`); nothing here estimates, rounds up or fills in a missing price. A value that is
// not a finite number is shown as missing ("—"), so a malformed answer cannot break the page.

const USD2 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const USD4 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });
const RATE = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 6 });

export const MISSING = "—";

/** Dollars of a `Money` ({ usd, microUsd }): microUsd when it is an integer (exact), else usd; NaN when neither. */
export function moneyUsd(m) {
  if (!m || typeof m !== "object") return NaN;
  if (Number.isSafeInteger(m.microUsd)) return m.microUsd / 1e6;
  return Number.isFinite(m.usd) ? m.usd : NaN;
}

/** Micro-dollars of a `Money` (NaN when unknown). */
export function moneyMicro(m) {
  if (!m || typeof m !== "object") return NaN;
  if (Number.isSafeInteger(m.microUsd)) return m.microUsd;
  return Number.isFinite(m.usd) ? Math.round(m.usd * 1e6) : NaN;
}

/** Dollars per hour of a `Price` ({ usdPerHour, microUsdPerHour, … }); NaN when unknown. */
export function priceUsd(p) {
  if (!p || typeof p !== "object") return NaN;
  if (Number.isSafeInteger(p.microUsdPerHour)) return p.microUsdPerHour / 1e6;
  return Number.isFinite(p.usdPerHour) ? p.usdPerHour : NaN;
}

/** Micro-dollars per hour of a `Price` (NaN when unknown). */
export function priceMicro(p) {
  if (!p || typeof p !== "object") return NaN;
  if (Number.isSafeInteger(p.microUsdPerHour)) return p.microUsdPerHour;
  return Number.isFinite(p.usdPerHour) ? Math.round(p.usdPerHour * 1e6) : NaN;
}

/** An amount: "$2.49", "$1,234.00", "$0.0042" (sub-cent amounts keep up to 4 decimals); "—" for NaN. */
export function usdText(dollars) {
  if (!Number.isFinite(dollars)) return MISSING;
  const abs = Math.abs(dollars);
  return (abs > 0 && abs < 0.01 ? USD4 : USD2).format(dollars);
}

/**
 * A rate in dollars, as exact as the library has it (micro-dollars: up to 6 decimals, at least
 * 2): "$2.49", "$1.245", "$0.105". A unit price is not rounded for display, so N × the shown
 * price is the shown total.
 */
export function rateText(dollars) {
  return Number.isFinite(dollars) ? RATE.format(dollars) : MISSING;
}

/** "$2.49/h" ("—" when unknown). */
export function perHourText(dollars) {
  return Number.isFinite(dollars) ? `${rateText(dollars)}/h` : MISSING;
}

const SOURCES = {
  configured: "your configured price (the proxy's GPUFLEET_PRICES)",
  catalog: "the provider's catalog price",
  quote: "a market quote: an estimate, not what was paid",
};

/** What a price source means, in words. */
export function sourceText(source) {
  return SOURCES[source] || (typeof source === "string" && source ? `source: ${source}` : "source unknown");
}

/** The hover text of a price: the figure, where it comes from, how it was made, any caveat. */
export function priceTitle(price, note) {
  const lines = [];
  const usd = priceUsd(price);
  if (Number.isFinite(usd)) {
    lines.push(`${perHourText(usd)}: ${sourceText(price.source)}`);
    if (typeof price.basis === "string" && price.basis) lines.push(price.basis);
  } else {
    lines.push("No price");
  }
  if (typeof note === "string" && note) lines.push(note);
  return lines.join("\n");
}

/** The short word of a cost kind. */
export function costKindText(kind) {
  return kind === "billed" ? "billed" : kind === "estimate" ? "est." : typeof kind === "string" ? kind : "";
}

/** "4 h 57 min", "12 min", "3 d 2 h" for `seconds`. */
export function spanText(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** The hover text of an instance's cost (`inst.cost`), or why there is none. */
export function costTitle(inst) {
  const c = inst.cost;
  const amount = c ? moneyUsd(c.amount) : NaN;
  if (Number.isFinite(amount)) {
    const since = typeof c.since === "string" && c.since ? ` since ${c.since}` : "";
    const span = spanText(c.seconds);
    if (c.kind === "billed") return `${usdText(amount)} billed by the provider${since}${span ? ` (${span})` : ""}`;
    const p = priceUsd(inst.price);
    const how = Number.isFinite(p) && span ? `${perHourText(p)} × ${span}` : span;
    return `${usdText(amount)}, an estimate of the current run${how ? `: ${how}` : ""}${since}`;
  }
  if (!Number.isFinite(priceUsd(inst.price))) return typeof inst.priceNote === "string" && inst.priceNote ? `No price: ${inst.priceNote}` : "No price";
  if (inst.status !== "running") return `Not running (${inst.status}): no cost is counted`;
  return "No start time is known for this run: its cost so far cannot be counted";
}
