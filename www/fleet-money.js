// Money above the table: the fleet's burn rate and cost so far (the last listing's `cost`, as the
// library summed it) and each provider's balance (fleet.balances(), once a minute while the tab is
// seen). The figures' formats are money.js's.

import { $, h, errorText, plural } from "./dom.js";
import { moneyMicro, moneyUsd, perHourText, priceUsd, usdText } from "./money.js";
import { LIST_TIMEOUT_MS, displayName, isAuthError, state } from "./state.js";

const BALANCE_MS = 60_000; // balances change slowly: asked once a minute while the tab is seen

let balanceState = null; // { listing } | { error }, from fleet.balances()
let balanceTimer = null;
let balanceAt = 0;
let balanceInflight = null;
let pushedAt = 0; // when the live view last pushed the balances

/**
 * The burn rate and cost so far of the last listing, as the library summed them (exact, on
 * micro-dollars). Either is a lower bound ("≥") when something running is not counted: running
 * instances without a price, priced ones whose run has no known start, providers not answering.
 */
export function renderSummary() {
  const burn = $("burn");
  const spent = $("spent");
  const lastListing = state.lastListing;
  const cost = lastListing?.cost;
  const burnMicro = moneyMicro(cost?.burnRatePerHour);
  if (!cost || !Number.isFinite(burnMicro)) {
    burn.hidden = true;
    spent.hidden = true;
    return;
  }
  const unpriced = Number.isFinite(cost.unpricedRunning) ? cost.unpricedRunning : 0;
  const failing = (lastListing.errors || []).map((f) => displayName(f.provider));
  const instances = Array.isArray(lastListing.instances) ? lastListing.instances : [];
  const uncosted = instances.filter((i) => i && i.status === "running" && Number.isFinite(priceUsd(i.price)) && !Number.isFinite(moneyUsd(i.cost?.amount))).length;
  const byProvider = Array.isArray(cost.byProvider) ? cost.byProvider : [];

  const burnNotes = [];
  if (unpriced > 0) burnNotes.push(`${plural(unpriced, "running instance")} without a price`);
  if (failing.length) burnNotes.push(`${failing.join(", ")} not answering`);
  const burnLower = unpriced > 0 || failing.length > 0;
  burn.dataset.micro = String(burnMicro);
  burn.dataset.lowerBound = String(burnLower);
  burn.querySelector(".value").textContent = `${burnLower ? "≥ " : ""}${perHourText(burnMicro / 1e6)}`;
  burn.querySelector(".note").textContent = burnNotes.join(" · ");
  const priced = Number.isFinite(cost.pricedRunning) ? cost.pricedRunning : 0;
  burn.title = [
    `What the ${plural(priced, "priced running instance")} cost per hour${burnLower ? ": a lower bound" : ""}.`,
    ...byProvider.map((p) => {
      const bits = [`${displayName(p.provider)}: ${perHourText(moneyUsd(p.burnRatePerHour))}`];
      if (p.unpricedRunning > 0) bits.push(`${plural(p.unpricedRunning, "running instance")} without a price not counted`);
      return bits.join(", ");
    }),
    ...failing.map((n) => `${n}: not answering, not counted`),
  ].join("\n");
  burn.hidden = false;

  const spentMicro = moneyMicro(cost.costSoFar);
  if (!Number.isFinite(spentMicro)) {
    spent.hidden = true;
    return;
  }
  const spentLower = burnLower || uncosted > 0;
  const spentNotes = ["est., current runs"];
  if (uncosted > 0) spentNotes.push(`${plural(uncosted, "run")} with no known start not counted`);
  spent.dataset.micro = String(spentMicro);
  spent.dataset.lowerBound = String(spentLower);
  spent.querySelector(".value").textContent = `${spentLower ? "≥ " : ""}${usdText(spentMicro / 1e6)}`;
  spent.querySelector(".note").textContent = spentNotes.join(" · ");
  spent.title = [
    "What the current runs of the priced running instances have cost so far (an estimate: price × time since each started).",
    ...byProvider.map((p) => `${displayName(p.provider)}: ${usdText(moneyUsd(p.costSoFar))}`),
  ].join("\n");
  spent.hidden = false;
}

/** Asks for the balances (at most one request at a time), then again in BALANCE_MS. */
export function loadBalances() {
  if (!state.fleet || balanceInflight) return balanceInflight;
  clearTimeout(balanceTimer);
  balanceTimer = null;
  // The live view pushes them once a minute: no request of this tab's own while it does.
  if (Date.now() - pushedAt < BALANCE_MS * 2) {
    if (!document.hidden) balanceTimer = setTimeout(loadBalances, BALANCE_MS);
    return null;
  }
  const f = state.fleet;
  balanceInflight = f
    .balances({ timeoutMs: LIST_TIMEOUT_MS })
    .then(
      (listing) => ({ listing }),
      (error) => ({ error }),
    )
    .then((st) => {
      if (f !== state.fleet) return;
      // A refused token is the listing's to report (it signs out); balances stay quiet.
      if (st.error && isAuthError(st.error)) return;
      balanceState = st;
      balanceAt = Date.now();
      renderBalances();
    })
    .finally(() => {
      balanceInflight = null;
      if (f === state.fleet && !document.hidden) balanceTimer = setTimeout(loadBalances, BALANCE_MS);
    });
  return balanceInflight;
}

/** The balances as the live view pushed them (the same answer as `fleet.balances()`). */
export function showPushedBalances(listing) {
  pushedAt = Date.now();
  balanceState = { listing };
  balanceAt = pushedAt;
  renderBalances();
}

/** The tab is seen again: the balances, unless asked less than BALANCE_MS ago (or being asked). */
export function loadBalancesIfDue() {
  if (!balanceInflight && Date.now() - balanceAt >= BALANCE_MS) loadBalances();
}

/** Sign-out: no next request, nothing shown. */
export function forgetBalances() {
  pushedAt = 0;
  clearTimeout(balanceTimer);
  balanceTimer = null;
  balanceState = null;
  balanceAt = 0;
}

/** One entry per provider: its balance, or a muted note of why there is none. */
export function renderBalances() {
  const box = $("balances");
  const list = box.querySelector(".list");
  if (!balanceState) {
    box.hidden = true;
    list.replaceChildren();
    return;
  }
  const out = [];
  if (balanceState.error) {
    out.push(h("span", { className: "balance unavailable muted", title: errorText(balanceState.error) }, "unavailable"));
  } else {
    const { balances = [], errors = [] } = balanceState.listing || {};
    for (const b of Array.isArray(balances) ? balances : []) {
      if (!b || typeof b !== "object") continue;
      const usd = moneyUsd(b.available);
      const details = b.details && typeof b.details === "object" ? Object.entries(b.details) : [];
      const title = [
        `${displayName(b.provider)}: ${usdText(usd)} available${typeof b.currency === "string" && b.currency !== "USD" ? ` (stated in ${b.currency})` : ""}`,
        ...details.map(([k, m]) => `${k}: ${usdText(moneyUsd(m))}`),
      ].join("\n");
      const e = h("span", { className: "balance", dataset: { provider: String(b.provider), micro: String(moneyMicro(b.available)) }, title });
      e.append(`${displayName(b.provider)} `, h("strong", {}, usdText(usd)));
      out.push(e);
    }
    for (const f of Array.isArray(errors) ? errors : []) {
      if (!f || typeof f !== "object") continue;
      const e = h("span", { className: "balance unavailable muted", dataset: { provider: String(f.provider) }, title: `${displayName(f.provider)}'s balance could not be read: ${errorText(f.error)}` });
      e.append(`${displayName(f.provider)} `, h("span", {}, "unavailable"));
      out.push(e);
    }
  }
  list.replaceChildren(...out);
  box.hidden = out.length === 0;
}
