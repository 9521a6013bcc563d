// gpufleet console: every instance on every provider this proxy holds keys for, through the
// gpufleet package itself in proxy mode (`new Fleet({ proxy: { url: "/api", token } })`). The page
// holds only the proxy's token (sessionStorage, this tab); provider keys never reach it. Behind
// Cloudflare Access (`/healthz` says `cloudflareAccess`) it needs no token: the page's Access
// session (its CF_Authorization cookie) makes Cloudflare add the signed identity to every `/api`
// request, so the Fleet is made without one.
//
// Every provider string is rendered with textContent (see dom.js); nothing here builds HTML.

import { $, h, clock, durationText, errorText } from "./dom.js";
import { FleetTable, STATUSES, rowOf, tickCountdowns } from "./table.js";
import { ACTIONS, renderDetails } from "./details.js";
import { buildFields, clearErrors, readInput, showFieldError } from "./create.js";
import { attachPickers, choicePrice, hasPickers, usableOffers } from "./offers.js";
import { moneyMicro, moneyUsd, perHourText, priceUsd, usdText } from "./money.js";
import { AUDIT_ACTIONS, auditList, deadlineKey, defaultDeadlineAction, fieldErrorText, localInputValue, renderDeadlineSection, tickDeadlines } from "./records.js";

const TOKEN_KEY = "gpufleet.token";
const REFRESH_MS = 10_000; // auto-refresh interval while everything answers
const MAX_REFRESH_MS = 160_000; // longest interval after repeated failures (doubling)
const LIST_TIMEOUT_MS = 30_000;
const WAIT = { minDelayMs: 1000, maxDelayMs: 5000, maxWaitMs: 30 * 60_000 };
const BALANCE_MS = 60_000; // balances change slowly: asked once a minute while the tab is seen
const OFFERS_MS = 60_000; // offers (and their prices) are kept this long per provider
const AUDIT_PAGE = 50; // audit entries per page in the Audit log panel
const INSTANCE_AUDIT_PAGE = 20; // … and in an instance's History

let gf = null; // the gpufleet module
let fleet = null;
let caps = new Map(); // provider → Capabilities (the proxy's configured providers)
let readOnly = false; // the proxy's read-only token: list and inspect only
let viaAccess = false; // signed in by Cloudflare Access (no token): "Sign out" is Access's logout
let providerState = new Map(); // provider → { instances: Map<key, Instance>, at, error }
let rowsByKey = new Map();
const transitions = new Map(); // key → { op, target, label, ctrl }
const messages = new Map(); // key → { kind, text } (last action result, shown in details)
const sshState = new Map(); // key → { state, details?, error? }
let listedOnce = false;
let globalError = null;
let selectedKey = null;
let confirmOp = null;
let lastListing = null; // the last listing's money: { cost, instances, errors }
let balanceState = null; // { listing } | { error }, from fleet.balances()
let balanceTimer = null;
let balanceAt = 0;
let balanceInflight = null;
const offerCache = new Map(); // provider → { at, offers, error }

// The proxy's records (deadlines, the audit log, orphans): kept only with a D1 database. "off"
// when /healthz says `records: "none"` or a records call answers `unsupported` (503); then the
// console shows one notice and none of the records' controls.
let records = "unknown"; // "on" | "off" | "unknown"
let deadlinesByKey = new Map(); // key → Deadline (fleet.deadlines(), once per poll)
let deadlinesError = null; // the last fleet.deadlines() failure (one banner), or null
const deadlineDrafts = new Map(); // key → { mode, after, at, action }: what the deadline form holds
const deadlineUi = new Map(); // key → { busy?, error?, message? } of the deadline calls
const instanceAudit = new Map(); // key → { entries, nextCursor, loading, more, error }
let auditState = { entries: [], nextCursor: null, loading: false, error: null, query: {} };
let auditSeq = 0;
let orphanState = null; // { loading } | { report } | { error }
let orphanSeq = 0;

// refresh loop
let timer = null;
let inflight = null;
let delay = REFRESH_MS;
let lastOk = 0;
let nextAt = 0;

const table = new FleetTable({
  table: $("fleet"),
  onOpen: (key) => openDetails(key),
  onRendered: ({ total, matching }) => renderEmpty(total, matching),
});

// ---------------------------------------------------------------------------------------------
// token and sign-in

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

// `npm start` prints a URL ending in #token=…: take it, keep it in this tab, drop it from the URL.
function takeTokenFromFragment() {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (m) {
    try {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    } catch {
      // a malformed escape: ignore it, the prompt asks for the token
    }
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function showLogin(message) {
  $("main").hidden = true;
  for (const id of ["refresh", "logout", "new-instance", "read-only", "audit-open", "orphans-open", "records-notice"]) $(id).hidden = true;
  for (const id of ["details", "create", "audit", "orphans"]) $(id).hidden = true;
  $("updated").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function signOut(message) {
  clearTimeout(timer);
  timer = null;
  clearTimeout(balanceTimer);
  balanceTimer = null;
  balanceState = null;
  balanceAt = 0;
  lastListing = null;
  offerCache.clear();
  for (const t of transitions.values()) t.ctrl?.abort();
  transitions.clear();
  messages.clear();
  sshState.clear();
  records = "unknown";
  deadlinesByKey = new Map();
  deadlinesError = null;
  deadlineDrafts.clear();
  deadlineUi.clear();
  instanceAudit.clear();
  auditState = { entries: [], nextCursor: null, loading: false, error: null, query: {} };
  orphanState = null;
  $("fleet").classList.remove("no-records");
  sessionStorage.removeItem(TOKEN_KEY);
  viaAccess = false;
  if (fleet) fleet.free();
  fleet = null;
  caps = new Map();
  providerState = new Map();
  rowsByKey = new Map();
  listedOnce = false;
  globalError = null;
  selectedKey = null;
  confirmOp = null;
  delay = REFRESH_MS;
  lastOk = 0;
  table.setRows([]);
  renderSummary();
  renderBalances();
  $("banners").replaceChildren();
  $("toasts").replaceChildren();
  showLogin(message);
}

const isAuthError = (e) => e && (e.code === "unauthorized");
// Behind Access, an ended session makes Cloudflare answer `/api` with a redirect to its sign-in.
const isRedirect = (e) => e && Array.isArray(e.details) && e.details.some((d) => d.code === "redirect");

/** Connects with the token this tab holds, or with none through Cloudflare Access (`access`). */
async function connect({ access = false } = {}) {
  const t = token();
  if (!t && !access) return showLogin();
  viaAccess = !t;
  try {
    fleet = new gf.Fleet({ proxy: t ? { url: "/api", token: t } : { url: "/api" } });
  } catch (e) {
    return signOut(`This token cannot be used: ${errorText(e)}`);
  }
  $("login").hidden = true;
  $("main").hidden = false;
  $("refresh").hidden = false;
  $("logout").hidden = false;
  $("loading").hidden = false;
  const listed = refresh();
  loadBalances();
  await listed;
}

// ---------------------------------------------------------------------------------------------
// listing and the refresh loop

async function loadProviders() {
  const [list, access] = await Promise.all([
    fleet.providers({ timeoutMs: LIST_TIMEOUT_MS }),
    fleet.access({ timeoutMs: LIST_TIMEOUT_MS }),
    loadHealth(),
  ]);
  caps = new Map(list.map((c) => [c.provider, c]));
  // Offer only what this token may do: the proxy refuses mutations from its read-only token.
  readOnly = access === "readOnly";
  $("read-only").hidden = !readOnly;
  $("new-instance").hidden = readOnly || !list.some((c) => c.operations.includes("create"));
  applyRecordsMode();
}

function refresh() {
  if (!fleet) return Promise.resolve();
  if (inflight) return inflight;
  clearTimeout(timer);
  timer = null;
  inflight = doRefresh().finally(() => {
    inflight = null;
    schedule();
    tick();
  });
  tick();
  return inflight;
}

async function doRefresh() {
  const f = fleet;
  let failed = false;
  $("refresh").disabled = true;
  try {
    if (!caps.size) await loadProviders();
    // The deadlines come with every poll: one call for the whole fleet, joined to the rows.
    const [listing] = await Promise.all([f.listAll(null, { timeoutMs: LIST_TIMEOUT_MS }), loadDeadlines(f)]);
    if (f !== fleet) return; // signed out meanwhile
    globalError = null;
    applyListing(listing);
    if (selectedKey) loadInstanceAudit(selectedKey, { quiet: true });
    failed = listing.errors.length > 0;
    lastOk = Date.now();
  } catch (e) {
    if (f !== fleet) return;
    if (viaAccess && isAuthError(e)) return signOut(`The proxy did not accept your Cloudflare Access sign-in: ${errorText(e)}. Enter a token instead.`);
    if (viaAccess && isRedirect(e)) return signOut("Your Cloudflare Access session has ended: reload the page to sign in again.");
    if (isAuthError(e)) return signOut(`The proxy did not accept the token: ${errorText(e)}`);
    failed = true;
    globalError = e;
    renderBanners();
  } finally {
    $("refresh").disabled = false;
    $("loading").hidden = true;
    if (f === fleet) {
      delay = failed ? Math.min(delay * 2, MAX_REFRESH_MS) : REFRESH_MS;
      if (!listedOnce) renderEmpty(0, 0);
    }
  }
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  nextAt = 0;
  if (!fleet || document.hidden) return;
  nextAt = Date.now() + delay;
  timer = setTimeout(refresh, delay);
}

document.addEventListener("visibilitychange", () => {
  if (!fleet) return;
  if (document.hidden) {
    // Paused while nobody looks: no polling of the proxy (and the providers) from a hidden tab.
    clearTimeout(timer);
    timer = null;
    nextAt = 0;
  } else if (!inflight) {
    if (Date.now() - lastOk >= delay) refresh();
    else schedule();
  }
  if (!document.hidden && !balanceInflight && Date.now() - balanceAt >= BALANCE_MS) loadBalances();
  tick();
});

/** The "updated N s ago" line, once a second. */
function tick() {
  if (!fleet) return;
  const parts = [];
  if (inflight) parts.push("Updating…");
  else if (lastOk) parts.push(`Updated ${Math.max(0, Math.round((Date.now() - lastOk) / 1000))} s ago`);
  else parts.push("Not updated yet");
  if (document.hidden) parts.push("paused while hidden");
  else if (!inflight && nextAt && delay > REFRESH_MS) parts.push(`retrying in ${Math.max(0, Math.ceil((nextAt - Date.now()) / 1000))} s`);
  $("updated").textContent = parts.join(" · ");
}
setInterval(() => {
  if (document.hidden) return;
  tick();
  tickCountdowns(document); // spot reclaim countdowns in the rows and the details panel
  tickDeadlines(document); // deadline countdowns, likewise
}, 1000);

function displayName(p) {
  return caps.get(p)?.displayName || p;
}

function applyListing(listing) {
  const now = Date.now();
  const failures = new Map(listing.errors.map((f) => [f.provider, f.error]));
  const fresh = new Map();
  for (const inst of listing.instances) {
    if (!fresh.has(inst.provider)) fresh.set(inst.provider, new Map());
    fresh.get(inst.provider).set(`${inst.provider}/${inst.id}`, inst);
  }
  const next = new Map();
  for (const p of new Set([...caps.keys(), ...fresh.keys(), ...failures.keys()])) {
    const prev = providerState.get(p);
    if (failures.has(p)) {
      // Keep what was last seen, marked stale: the banner says so, the rows are dimmed.
      next.set(p, { instances: prev?.instances ?? new Map(), at: prev?.at ?? 0, error: failures.get(p) });
    } else {
      const instances = fresh.get(p) ?? new Map();
      // An instance being watched (just created, being deleted) stays until its wait ends.
      for (const key of transitions.keys()) {
        if (key.startsWith(`${p}/`) && !instances.has(key) && prev?.instances.has(key)) instances.set(key, prev.instances.get(key));
      }
      next.set(p, { instances, at: now, error: null });
    }
  }
  providerState = next;
  listedOnce = true;
  lastListing = { cost: listing.cost, instances: listing.instances, errors: listing.errors };
  rebuildRows();
  renderBanners();
  renderSummary();
}

function rebuildRows() {
  const rows = [];
  const byKey = new Map();
  for (const [p, st] of providerState) {
    const name = displayName(p);
    for (const [key, inst] of st.instances) {
      const r = rowOf(inst, name);
      r.stale = Boolean(st.error);
      r.transition = transitions.get(key) || null;
      r.deadline = records === "off" ? null : deadlinesByKey.get(key) || null;
      rows.push(r);
      byKey.set(key, r);
    }
  }
  // The open details keep showing an instance that vanished, marked as gone.
  if (selectedKey && !byKey.has(selectedKey) && rowsByKey.has(selectedKey)) {
    const gone = { ...rowsByKey.get(selectedKey), gone: true, transition: null, deadline: records === "off" ? null : deadlinesByKey.get(selectedKey) || null };
    rowsByKey = byKey;
    rowsByKey.set(selectedKey, gone);
  } else {
    rowsByKey = byKey;
  }
  table.setRows(rows);
  renderChips();
  if (selectedKey) renderDetailsPanel();
}

function setInstance(key, inst) {
  const st = providerState.get(inst.provider);
  if (!st) return;
  st.instances.set(key, inst);
  rebuildRows();
}

function removeInstance(key) {
  for (const st of providerState.values()) st.instances.delete(key);
  rebuildRows();
}

// ---------------------------------------------------------------------------------------------
// money: the fleet's burn rate and cost so far (the listing's `cost`), balances

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The burn rate and cost so far of the last listing, as the library summed them (exact, on
 * micro-dollars). Either is a lower bound ("≥") when something running is not counted: running
 * instances without a price, priced ones whose run has no known start, providers not answering.
 */
function renderSummary() {
  const burn = $("burn");
  const spent = $("spent");
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
function loadBalances() {
  if (!fleet || balanceInflight) return balanceInflight;
  clearTimeout(balanceTimer);
  balanceTimer = null;
  const f = fleet;
  balanceInflight = f
    .balances({ timeoutMs: LIST_TIMEOUT_MS })
    .then(
      (listing) => ({ listing }),
      (error) => ({ error }),
    )
    .then((st) => {
      if (f !== fleet) return;
      // A refused token is the listing's to report (it signs out); balances stay quiet.
      if (st.error && isAuthError(st.error)) return;
      balanceState = st;
      balanceAt = Date.now();
      renderBalances();
    })
    .finally(() => {
      balanceInflight = null;
      if (f === fleet && !document.hidden) balanceTimer = setTimeout(loadBalances, BALANCE_MS);
    });
  return balanceInflight;
}

/** One entry per provider: its balance, or a muted note of why there is none. */
function renderBalances() {
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

// ---------------------------------------------------------------------------------------------
// banners, chips, counts, empty states, toasts

function renderBanners() {
  const out = [];
  if (globalError) {
    out.push(h("p", { className: "banner banner-error", dataset: { scope: "all" } },
      `Could not list the fleet: ${errorText(globalError)}. ${listedOnce ? "Showing what was last seen." : ""}`));
  }
  for (const [p, st] of providerState) {
    if (!st.error) continue;
    const e = st.error;
    const bits = [e.code];
    if (e.status) bits.push(`HTTP ${e.status}`);
    if (e.requestId) bits.push(`request ${e.requestId}`);
    const n = st.instances.size;
    const kept = n
      ? `Showing its ${n} instance${n === 1 ? "" : "s"} as last seen${st.at ? ` at ${clock(st.at)}` : ""}.`
      : "None of its instances are shown.";
    const b = h("p", { className: "banner banner-error", dataset: { provider: p } });
    b.append(h("strong", {}, `${displayName(p)} is failing: `), `${e.message} (${bits.join(", ")}). ${kept}`);
    out.push(b);
  }
  if (deadlinesError && records !== "off") {
    const n = deadlinesByKey.size;
    out.push(h("p", { className: "banner banner-error", dataset: { scope: "deadlines" } },
      `Could not read the deadlines: ${errorText(deadlinesError)}. ${n ? `Showing the ${n} last seen.` : ""}`));
  }
  $("banners").replaceChildren(...out);
}

function chip(label, count, pressed, onClick, data) {
  const b = h("button", { type: "button", className: "chip", dataset: data });
  b.setAttribute("aria-pressed", String(pressed));
  b.append(h("span", {}, label), " ", h("span", { className: "n" }, String(count)));
  b.addEventListener("click", onClick);
  return b;
}

function toggle(set, value) {
  const next = new Set(set);
  if (next.has(value)) next.delete(value);
  else next.add(value);
  return next;
}

function renderChips() {
  const { status, provider } = table.counts();
  const f = table.filter;
  const pchips = [...caps.keys(), ...[...providerState.keys()].filter((p) => !caps.has(p))].map((p) =>
    chip(displayName(p), provider[p] || 0, f.providers.has(p), () => {
      table.setFilter({ providers: toggle(table.filter.providers, p) });
      renderChips();
    }, { provider: p }),
  );
  $("provider-chips").replaceChildren(...pchips);
  const schips = STATUSES.filter((s) => status[s] || f.statuses.has(s)).map((s) =>
    chip(s, status[s] || 0, f.statuses.has(s), () => {
      table.setFilter({ statuses: toggle(table.filter.statuses, s) });
      renderChips();
    }, { status: s }),
  );
  schips.forEach((c) => c.classList.add(`chip-${c.dataset.status}`));
  $("status-chips").replaceChildren(...schips);
}

function filtersActive() {
  const f = table.filter;
  return Boolean(f.text.trim() || f.providers.size || f.statuses.size);
}

function renderEmpty(total, matching) {
  $("count").textContent = listedOnce ? (matching === total ? `${total} instance${total === 1 ? "" : "s"}` : `${matching} of ${total} instances`) : "";
  const empty = $("empty");
  if (!listedOnce || matching > 0) {
    empty.hidden = true;
    return;
  }
  empty.hidden = false;
  if (total === 0) {
    const failing = [...providerState.values()].some((s) => s.error);
    $("empty-text").textContent = failing
      ? "No instances to show: see the errors above."
      : "No instances on the configured providers yet. Use “New instance” to create one.";
    $("clear-filters").hidden = true;
  } else {
    $("empty-text").textContent = "No instance matches the filter.";
    $("clear-filters").hidden = !filtersActive();
  }
}

function toast(text, kind = "error") {
  const t = h("p", { className: `toast toast-${kind}` }, text);
  const close = h("button", { type: "button", className: "toast-close", attrs: { "aria-label": "Dismiss" } }, "×");
  close.addEventListener("click", () => t.remove());
  t.append(close);
  $("toasts").append(t);
  setTimeout(() => t.remove(), 10_000);
}

// ---------------------------------------------------------------------------------------------
// details and actions

function openDetails(key) {
  if (!rowsByKey.has(key)) return;
  for (const id of ["create", "audit", "orphans"]) $(id).hidden = true;
  if (selectedKey !== key) {
    confirmOp = null;
    deadlineUi.delete(key); // an earlier visit's "Deadline set." or error is not news
  }
  selectedKey = key;
  table.select(key);
  renderDetailsPanel();
  loadInstanceAudit(key);
  $("details").hidden = false;
  $("details-close").focus();
}

function closeDetails() {
  $("details").hidden = true;
  detailsSignature = "";
  selectedKey = null;
  confirmOp = null;
  table.select(null);
}

let detailsSignature = "";

/**
 * Renders the details of the selected instance — unless nothing it shows has changed since the
 * last time, so a refresh does not reset a selection in the raw JSON or the panel's scroll.
 */
function renderDetailsPanel() {
  const row = rowsByKey.get(selectedKey);
  if (!row) return;
  const key = selectedKey;
  const t = row.transition;
  const audit = instanceAudit.get(key);
  const ui = deadlineUi.get(key);
  const signature = JSON.stringify([
    key, row.inst, row.stale, Boolean(row.gone), t && [t.target, t.label], confirmOp, messages.get(key), sshState.get(key), caps.get(row.inst.provider)?.operations, readOnly,
    records, row.deadline, ui && [ui.busy, ui.message, ui.error && fieldErrorText(ui.error)],
    audit && [audit.entries.map((e) => e.seq), audit.nextCursor, audit.error && fieldErrorText(audit.error), audit.loading && !audit.entries.length, audit.loadingMore],
  ]);
  if (signature === detailsSignature && !$("details").hidden) return;
  detailsSignature = signature;
  // A re-render (every poll changes the cost so far) keeps the deadline form's focus.
  const body = $("details-body");
  const focused = body.contains(document.activeElement) ? document.activeElement.dataset.deadlineInput : undefined;
  $("details-title").textContent = row.inst.name || row.inst.id;
  const recordsOn = records !== "off";
  body.replaceChildren(
    renderDetails(row, {
      afterActions: recordsOn
        ? [renderDeadlineSection(row, {
          caps: caps.get(row.inst.provider),
          readOnly,
          draft: draftOf(key, row),
          state: ui,
          onDraft: (patch) => deadlineDrafts.set(key, { ...draftOf(key, row), ...patch }),
          onSet: () => saveDeadline(key),
          onClear: () => clearDeadline(key),
        })]
        : [],
      beforeRaw: recordsOn ? [historySection(key)] : [],
      caps: caps.get(row.inst.provider),
      readOnly,
      confirm: confirmOp,
      message: messages.get(key) || null,
      ssh: sshState.get(key) || null,
      onAsk: (op) => {
        confirmOp = op;
        messages.delete(key);
        renderDetailsPanel();
        $("details-body").querySelector("[data-confirm]")?.focus();
      },
      onCancel: () => {
        confirmOp = null;
        renderDetailsPanel();
      },
      onConfirm: (op) => runAction(key, op),
      onStopWatching: () => transitions.get(key)?.ctrl?.abort(),
      onSsh: () => loadSsh(key),
    }),
  );
  if (focused) body.querySelector(`[data-deadline-input="${focused}"]`)?.focus();
}

async function loadSsh(key) {
  const row = rowsByKey.get(key);
  if (!row || !fleet) return;
  sshState.set(key, { state: "loading" });
  renderDetailsPanel();
  try {
    const details = await fleet.ssh(row.inst.provider, row.inst.id);
    sshState.set(key, { state: "ok", details });
  } catch (e) {
    sshState.set(key, { state: "error", error: errorText(e) });
  }
  if (selectedKey === key) renderDetailsPanel();
}

function setMessage(key, kind, text) {
  messages.set(key, { kind, text });
  if (selectedKey === key) renderDetailsPanel();
}

async function runAction(key, op) {
  const row = rowsByKey.get(key);
  const a = ACTIONS.find((x) => x.op === op);
  if (!row || !a || !fleet || transitions.has(key)) return;
  confirmOp = null;
  messages.delete(key);
  const { provider, id } = row.inst;
  const label = `${a.label} requested`;
  transitions.set(key, { target: a.target, label });
  rebuildRows();
  try {
    const result = await fleet[op](provider, id);
    if (op !== "delete" && result && result.id) setInstance(key, result);
    loadInstanceAudit(key);
  } catch (e) {
    transitions.delete(key);
    rebuildRows();
    loadInstanceAudit(key);
    setMessage(key, "error", `${a.label} failed: ${errorText(e)}`);
    toast(`${a.label} ${displayName(provider)} instance ${row.inst.name || id} failed: ${errorText(e)}`);
    return;
  }
  await watch(key, provider, id, a.target, a.label);
}

/**
 * Shows the instance's transition live (every poll updates its row) until it reaches `target`.
 * Waiting for `terminated` also ends when the instance is gone.
 */
async function watch(key, provider, id, target, label) {
  const ctrl = new AbortController();
  transitions.set(key, { target, label, ctrl });
  rebuildRows();
  const f = fleet;
  try {
    const inst = await f.waitFor(provider, id, {
      until: target,
      ...WAIT,
      signal: ctrl.signal,
      onPoll: (i) => {
        if (fleet === f && transitions.get(key)?.ctrl === ctrl) setInstance(key, i);
      },
    });
    if (fleet !== f) return;
    transitions.delete(key);
    if (inst) {
      setInstance(key, inst);
      setMessage(key, "ok", `${label}: ${displayName(provider)} reports ${inst.status} (${inst.providerStatus}).`);
    } else {
      setMessage(key, "ok", `${label}: the instance is gone.`);
      removeInstance(key);
    }
  } catch (e) {
    if (fleet !== f) return;
    transitions.delete(key);
    rebuildRows();
    if (e.code === "aborted") setMessage(key, "ok", "Stopped watching. The provider carries on; the table keeps refreshing.");
    else {
      setMessage(key, "error", `${label}: did not reach ${target}: ${errorText(e)}`);
      toast(`${label} ${displayName(provider)} instance ${id}: ${errorText(e)}`);
    }
  }
  refresh();
}

// ---------------------------------------------------------------------------------------------
// records: deadlines, the audit log, orphans (only when the proxy keeps them: a D1 database)

const isRecordsOff = (e) => e && e.code === "unsupported";

/** `/healthz` (no token needed): its answer, or null when it cannot be read. */
async function readHealth() {
  try {
    const r = await fetch("/healthz", { cache: "no-store", headers: { accept: "application/json" } });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

/** Whether the proxy keeps records, from `/healthz`; unknown if it cannot be read (the records
 * calls themselves then say: an `unsupported` answer turns them off). */
async function loadHealth() {
  const body = await readHealth();
  if (body && body.records === "none") setRecords("off");
  else if (body && body.records === "d1") setRecords("on");
}

function setRecords(state) {
  if (records === state || (records === "off" && state !== "off")) return;
  records = state;
  applyRecordsMode();
}

/** One notice when the proxy keeps no records, and none of their controls; else the controls. */
function applyRecordsMode() {
  const off = records === "off";
  $("records-notice").hidden = !off || !fleet;
  $("fleet").classList.toggle("no-records", off);
  $("audit-open").hidden = off || !fleet;
  $("orphans-open").hidden = off || !fleet;
  if (off) {
    deadlinesByKey = new Map();
    deadlinesError = null;
    $("audit").hidden = true;
    $("orphans").hidden = true;
    if (listedOnce) {
      rebuildRows();
      renderBanners();
    }
  }
}

/** `fleet.deadlines()` into `deadlinesByKey` (never rejects; the caller rebuilds the rows). */
async function loadDeadlines(f) {
  if (records === "off") return;
  try {
    const list = await f.deadlines({ timeoutMs: LIST_TIMEOUT_MS });
    if (f !== fleet) return;
    deadlinesByKey = new Map((list?.deadlines || []).map((d) => [deadlineKey(d), d]));
    deadlinesError = null;
  } catch (e) {
    if (f !== fleet) return;
    if (isRecordsOff(e)) setRecords("off");
    else if (!isAuthError(e)) deadlinesError = e; // a refused token is the listing's to report
  }
}

/** What the deadline form of `key` holds: the draft, or a start from its deadline (or an hour). */
function draftOf(key, row) {
  const kept = deadlineDrafts.get(key);
  if (kept) return kept;
  const d = row?.deadline;
  const pending = d && d.state === "pending";
  return {
    mode: "after",
    after: "60",
    at: localInputValue(pending ? d.atMs : Date.now() + 3_600_000),
    action: d?.action || defaultDeadlineAction(row?.inst.provider, caps.get(row?.inst.provider)),
  };
}

/** The deadline form's request: `{ at }` or `{ after }`, and the action; or a field error. */
function deadlineRequest(draft) {
  const req = { action: draft.action };
  if (draft.mode === "at") {
    const at = draft.at ? new Date(draft.at) : null;
    if (!at || !Number.isFinite(at.getTime())) return { error: { code: "invalidInput", field: "at", message: "at: choose a date and time" } };
    req.at = at;
  } else {
    const text = String(draft.after ?? "").trim();
    const minutes = Number(text);
    if (!text || !Number.isFinite(minutes)) return { error: { code: "invalidInput", field: "after", message: "after: enter the minutes from now" } };
    req.after = Math.round(minutes * 60_000);
  }
  return { req };
}

async function saveDeadline(key) {
  const row = rowsByKey.get(key);
  if (!row || !fleet || readOnly || deadlineUi.get(key)?.busy) return;
  const { req, error } = deadlineRequest(draftOf(key, row));
  if (error) {
    deadlineUi.set(key, { error });
    return renderDetailsPanel();
  }
  const f = fleet;
  deadlineUi.set(key, { busy: "set" });
  renderDetailsPanel();
  try {
    const answer = await f.setDeadline(row.inst.provider, row.inst.id, req);
    if (f !== fleet) return;
    deadlinesByKey.set(key, answer.deadline);
    deadlineUi.set(key, { message: answer.previous && answer.previous.state === "pending" ? "Deadline changed." : "Deadline set." });
    rebuildRows();
    loadInstanceAudit(key);
  } catch (e) {
    if (f !== fleet) return;
    if (isRecordsOff(e)) return setRecords("off");
    deadlineUi.set(key, { error: e });
  }
  if (selectedKey === key) renderDetailsPanel();
}

async function clearDeadline(key) {
  const row = rowsByKey.get(key);
  if (!row || !fleet || readOnly || deadlineUi.get(key)?.busy) return;
  const f = fleet;
  deadlineUi.set(key, { busy: "clear" });
  renderDetailsPanel();
  try {
    const answer = await f.clearDeadline(row.inst.provider, row.inst.id);
    if (f !== fleet) return;
    deadlinesByKey.delete(key);
    deadlineDrafts.delete(key);
    deadlineUi.set(key, { message: answer.cleared ? "Deadline cleared." : "It had no deadline." });
    rebuildRows();
    loadInstanceAudit(key);
  } catch (e) {
    if (f !== fleet) return;
    if (isRecordsOff(e)) return setRecords("off");
    deadlineUi.set(key, { error: e });
  }
  if (selectedKey === key) renderDetailsPanel();
}

/**
 * An instance's audit entries (its History): the first page, or with `more` the next one.
 * `quiet` (a poll) re-reads the first page only while nothing more was loaded.
 */
async function loadInstanceAudit(key, { more = false, quiet = false } = {}) {
  const row = rowsByKey.get(key);
  if (!row || !fleet || records === "off") return;
  const prev = instanceAudit.get(key);
  if (prev?.loading || prev?.loadingMore || (quiet && prev?.more)) return;
  if (more && !prev?.nextCursor) return;
  const f = fleet;
  instanceAudit.set(key, { entries: [], ...prev, error: null, [more ? "loadingMore" : "loading"]: true });
  if (selectedKey === key && (more || !prev)) renderDetailsPanel();
  let next;
  try {
    const query = { provider: row.inst.provider, instanceId: row.inst.id, limit: INSTANCE_AUDIT_PAGE };
    if (more) query.before = prev.nextCursor;
    const page = await f.audit(query, { timeoutMs: LIST_TIMEOUT_MS });
    const entries = more ? [...prev.entries, ...page.entries] : page.entries;
    next = { entries, nextCursor: page.nextCursor || null, more };
  } catch (e) {
    if (f !== fleet) return;
    if (isRecordsOff(e)) {
      instanceAudit.delete(key);
      return setRecords("off");
    }
    next = { ...prev, entries: prev?.entries || [], error: e };
  }
  if (f !== fleet) return;
  instanceAudit.set(key, { ...next, loading: false, loadingMore: false });
  if (selectedKey === key) renderDetailsPanel();
}

/** The details panel's History: this instance's audit entries, newest first. */
function historySection(key) {
  const st = instanceAudit.get(key);
  const sec = h("section", { className: "history", attrs: { "aria-label": "History" } }, h("h3", {}, "History"));
  if (!st || (st.loading && !st.entries.length && !st.error)) {
    sec.append(h("p", { className: "muted" }, "Reading the audit log…"));
  } else if (st.entries.length) {
    sec.append(auditList(st.entries));
  } else if (!st.error) {
    sec.append(h("p", { className: "muted", dataset: { auditEmpty: "" } }, "Nothing recorded: no change to this instance went through this proxy's audit log."));
  }
  if (st?.error) sec.append(h("p", { className: "error", attrs: { role: "alert" } }, `The audit log could not be read: ${fieldErrorText(st.error)}`));
  if (st?.nextCursor) {
    const b = h("button", { type: "button", dataset: { auditMore: "" }, disabled: Boolean(st.loadingMore) }, st.loadingMore ? "Loading…" : "Load more");
    b.addEventListener("click", () => loadInstanceAudit(key, { more: true }));
    sec.append(b);
  }
  return sec;
}

// ---- the Audit log panel ----

function openAudit() {
  if (!fleet || records === "off") return;
  closeDetails();
  $("create").hidden = true;
  $("orphans").hidden = true;
  const select = $("audit-provider");
  const current = select.value;
  select.replaceChildren(h("option", { value: "" }, "All providers"), ...[...caps.values()].map((c) => h("option", { value: c.provider }, c.displayName)));
  if (caps.has(current)) select.value = current;
  const action = $("audit-action");
  if (action.options.length === 0) action.append(h("option", { value: "" }, "All actions"), ...AUDIT_ACTIONS.map((a) => h("option", { value: a }, a)));
  $("audit").hidden = false;
  loadAudit();
  $("audit-close").focus();
}

function auditFilters() {
  const q = {};
  const provider = $("audit-provider").value;
  const caller = $("audit-caller").value.trim();
  const action = $("audit-action").value;
  if (provider) q.provider = provider;
  if (caller) q.caller = caller;
  if (action) q.action = action;
  return q;
}

/** The first page for the filters as they are, or (`more`) the next page of the last query. */
async function loadAudit({ more = false } = {}) {
  const f = fleet;
  if (!f || records === "off") return;
  if (more && (!auditState.nextCursor || auditState.loading)) return;
  const query = more ? { ...auditState.query, before: auditState.nextCursor } : auditFilters();
  const seq = ++auditSeq;
  auditState = more ? { ...auditState, loading: "more", error: null } : { entries: [], nextCursor: null, loading: "first", error: null, query };
  renderAuditPanel();
  try {
    const page = await f.audit({ ...query, limit: AUDIT_PAGE }, { timeoutMs: LIST_TIMEOUT_MS });
    if (f !== fleet || seq !== auditSeq) return;
    auditState = { ...auditState, entries: [...auditState.entries, ...page.entries], nextCursor: page.nextCursor || null, loading: false };
  } catch (e) {
    if (f !== fleet || seq !== auditSeq) return;
    if (isRecordsOff(e)) return setRecords("off");
    auditState = { ...auditState, loading: false, error: e };
  }
  renderAuditPanel();
}

function renderAuditPanel() {
  const st = auditState;
  $("audit-error").textContent = st.error ? `The audit log could not be read: ${fieldErrorText(st.error)}` : "";
  const list = $("audit-list");
  if (st.loading === "first") list.replaceChildren(h("p", { className: "muted" }, "Reading the audit log…"));
  else if (!st.entries.length) list.replaceChildren(st.error ? "" : h("p", { className: "muted", dataset: { auditEmpty: "" } }, "No entries match."));
  else list.replaceChildren(auditList(st.entries, { instance: true, onOpen: openDetails, isKnown: (k) => rowsByKey.has(k) }));
  const more = $("audit-more");
  more.hidden = !st.nextCursor;
  more.disabled = st.loading === "more";
  more.textContent = st.loading === "more" ? "Loading…" : "Load more";
  const q = st.query;
  const bits = [q.provider && displayName(q.provider), q.caller && `caller ${q.caller}`, q.action && `action ${q.action}`].filter(Boolean);
  $("audit-count").textContent = st.loading === "first" ? "" : `${plural(st.entries.length, "entry", "entries")}${st.nextCursor ? " shown, more older" : ""}${bits.length ? ` · ${bits.join(", ")}` : ""}`;
  // The callers seen so far, offered in the caller filter.
  const callers = new Set(["token", "deadline", ...st.entries.map((e) => e.caller)]);
  $("audit-callers").replaceChildren(...[...callers].sort().map((c) => h("option", { value: c })));
}

// ---- the Orphans panel ----

function openOrphans() {
  if (!fleet || records === "off") return;
  closeDetails();
  $("create").hidden = true;
  $("audit").hidden = true;
  $("orphans").hidden = false;
  loadOrphans();
  $("orphans-close").focus();
}

async function loadOrphans() {
  const f = fleet;
  if (!f || records === "off") return;
  const olderThanMs = Number($("orphans-age").value);
  const seq = ++orphanSeq;
  orphanState = { loading: true };
  renderOrphans();
  try {
    const report = await f.orphans({ olderThanMs }, { timeoutMs: LIST_TIMEOUT_MS });
    if (f !== fleet || seq !== orphanSeq) return;
    orphanState = { report };
  } catch (error) {
    if (f !== fleet || seq !== orphanSeq) return;
    if (isRecordsOff(error)) return setRecords("off");
    orphanState = { error };
  }
  renderOrphans();
}

function renderOrphans() {
  const st = orphanState || {};
  $("orphans-error").textContent = st.error ? `The orphan report failed: ${fieldErrorText(st.error)}` : "";
  $("orphans-reload").disabled = Boolean(st.loading);
  const list = $("orphans-list");
  const summary = $("orphans-summary");
  if (st.loading) {
    summary.textContent = "Listing the whole fleet and reading the audit log…";
    list.replaceChildren();
    return;
  }
  if (!st.report) {
    summary.textContent = "";
    list.replaceChildren();
    return;
  }
  const { orphans = [], olderThanMs, atMs } = st.report;
  const ageless = orphans.filter((o) => o.ageMs === undefined).length;
  summary.textContent =
    `${plural(orphans.length - ageless, "orphan")} older than ${durationText(olderThanMs)}` +
    (ageless ? `, and ${ageless} of unknown age (no creation time from the provider)` : "") +
    ` (report at ${clock(atMs)}).`;
  list.replaceChildren(
    ...orphans.map((o) => {
      const key = `${o.provider}/${o.id}`;
      const li = h("li", { className: "orphan", dataset: { key, provider: o.provider } });
      const name = o.name || o.id;
      const open = rowsByKey.has(key)
        ? h("button", { type: "button", className: "link", dataset: { open: key }, title: o.id }, name)
        : h("span", { title: o.id }, name);
      if (open.tagName === "BUTTON") open.addEventListener("click", () => openDetails(key));
      li.append(
        h("span", { className: "provider" }, displayName(o.provider)),
        open,
        h("span", { className: `badge status-${STATUSES.includes(o.status) ? o.status : "unknown"}` }, o.status),
        o.ageMs === undefined
          ? h("span", { className: "age muted", title: "the provider gives no creation time, so no age can clear it" }, "age unknown")
          : h("span", { className: "age muted", title: o.createdAt }, `${durationText(o.ageMs)} old`),
      );
      return li;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// create

let createFields = [];
let createOffers = []; // the usable offers of the provider the form is built for
let createSeq = 0; // which form build the offers being loaded are for

function openCreate() {
  const creatable = [...caps.values()].filter((c) => c.operations.includes("create"));
  if (!creatable.length) return;
  closeDetails();
  $("audit").hidden = true;
  $("orphans").hidden = true;
  const select = $("create-provider");
  const current = select.value;
  select.replaceChildren(...creatable.map((c) => h("option", { value: c.provider }, c.displayName)));
  if (creatable.some((c) => c.provider === current)) select.value = current;
  buildCreateFields();
  $("create").hidden = false;
  select.focus();
}

function buildCreateFields() {
  const p = $("create-provider").value;
  // capabilities() is the library's own description of the create input (the same in proxy mode).
  createFields = caps.get(p)?.createFields ?? fleet.capabilities(p).createFields;
  buildFields($("create-fields"), p, createFields);
  $("create-error").textContent = "";
  createOffers = [];
  const seq = ++createSeq;
  updateCreatePrice();
  if (!hasPickers(p)) {
    setOffersNote("");
    return;
  }
  const cached = offerCache.get(p);
  if (cached && !cached.error && Date.now() - cached.at < OFFERS_MS) {
    useOffers(p, cached);
    return;
  }
  setOffersNote(`Loading ${displayName(p)}'s offers and prices…`, "loading");
  loadOffers(p).then((st) => {
    // Only for the form it was asked for (not after a switch of provider or a close).
    if (seq === createSeq && $("create-provider").value === p) useOffers(p, st);
  });
}

/** `fleet.offers(p)`, never rejecting: { at, offers } or { at, error }. */
async function loadOffers(p) {
  const f = fleet;
  let st;
  try {
    const listing = await f.offers(p, { timeoutMs: LIST_TIMEOUT_MS });
    const failure = (listing?.errors || []).find((x) => x && x.provider === p);
    st = failure ? { at: Date.now(), error: failure.error } : { at: Date.now(), offers: usableOffers(listing?.offers, p) };
  } catch (error) {
    st = { at: Date.now(), error };
  }
  if (f === fleet) offerCache.set(p, st);
  return st;
}

function setOffersNote(text, kind = "") {
  const note = $("create-offers");
  note.textContent = text;
  note.dataset.state = kind;
}

/** Puts the loaded offers into the form, or says why the ids have to be typed. */
function useOffers(p, st) {
  const container = $("create-fields");
  if (st.error) {
    createOffers = [];
    setOffersNote(`${displayName(p)}'s offers could not be loaded (${errorText(st.error)}): type the ids.`, "error");
  } else if (attachPickers(container, p, st.offers)) {
    createOffers = st.offers;
    const priced = st.offers.filter((o) => Number.isFinite(priceUsd(o.price))).length;
    setOffersNote(`${plural(st.offers.length, "offer")} from ${displayName(p)}, ${priced} with a price.`, "ok");
  } else {
    createOffers = [];
    setOffersNote(`${displayName(p)} lists no offers: type the ids.`, "empty");
  }
  updateCreatePrice();
}

/** The hourly price of the current choice, above Create. */
function updateCreatePrice() {
  const line = $("create-price");
  const { text, micro } = choicePrice($("create-fields"), $("create-provider").value, createOffers);
  line.textContent = text;
  if (Number.isFinite(micro)) line.dataset.micro = String(micro);
  else delete line.dataset.micro;
}

async function submitCreate(ev) {
  ev.preventDefault();
  if (!fleet) return;
  const p = $("create-provider").value;
  const container = $("create-fields");
  clearErrors(container);
  $("create-error").textContent = "";
  const input = readInput(container, createFields);
  const submit = $("create-submit");
  submit.disabled = true;
  submit.textContent = "Creating…";
  let inst;
  try {
    inst = await fleet.create(p, input);
  } catch (e) {
    if (!(e.code === "invalidInput" || e.code === "validation") || !showFieldError(container, e.field, e.message)) {
      $("create-error").textContent = errorText(e);
    }
    return;
  } finally {
    submit.disabled = false;
    submit.textContent = "Create";
  }
  $("create").hidden = true;
  const key = `${inst.provider}/${inst.id}`;
  if (!providerState.has(inst.provider)) providerState.set(inst.provider, { instances: new Map(), at: 0, error: null });
  setInstance(key, inst);
  openDetails(key);
  toast(`Created ${displayName(p)} instance ${inst.name || inst.id}.`, "ok");
  if (inst.status !== "running") await watch(key, inst.provider, inst.id, "running", "Create");
}

// ---------------------------------------------------------------------------------------------
// wiring

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = $("token").value.trim();
  if (!value) {
    $("login-error").textContent = "Enter the token.";
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  $("token").value = "";
  connect();
});
$("refresh").addEventListener("click", () => {
  delay = REFRESH_MS;
  refresh();
});
// Signed in by Access, signing out is Access's: its logout ends the session (and the cookie).
$("logout").addEventListener("click", () => (viaAccess ? location.assign("/cdn-cgi/access/logout") : signOut()));
$("new-instance").addEventListener("click", openCreate);
$("create-close").addEventListener("click", () => ($("create").hidden = true));
$("create-provider").addEventListener("change", buildCreateFields);
$("create-fields").addEventListener("input", updateCreatePrice);
$("create-fields").addEventListener("change", updateCreatePrice);
$("create-form").addEventListener("submit", submitCreate);
$("details-close").addEventListener("click", closeDetails);
$("audit-open").addEventListener("click", openAudit);
$("audit-close").addEventListener("click", () => ($("audit").hidden = true));
$("audit-filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  loadAudit();
});
for (const id of ["audit-provider", "audit-action"]) $(id).addEventListener("change", () => loadAudit());
$("audit-more").addEventListener("click", () => loadAudit({ more: true }));
$("orphans-open").addEventListener("click", openOrphans);
$("orphans-close").addEventListener("click", () => ($("orphans").hidden = true));
$("orphans-age").addEventListener("change", loadOrphans);
$("orphans-reload").addEventListener("click", loadOrphans);
$("filter").addEventListener("input", (ev) => {
  table.setFilter({ text: ev.target.value });
  renderChips();
});
$("clear-filters").addEventListener("click", () => {
  $("filter").value = "";
  table.setFilter({ text: "", providers: new Set(), statuses: new Set() });
  renderChips();
});
document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Escape") return;
  if (!$("create").hidden) $("create").hidden = true;
  else if (!$("details").hidden) closeDetails();
  else if (!$("audit").hidden) $("audit").hidden = true;
  else if (!$("orphans").hidden) $("orphans").hidden = true;
});

async function boot() {
  takeTokenFromFragment();
  try {
    gf = await import("/pkg/index.js");
  } catch (e) {
    $("boot").hidden = true;
    const f = $("fatal");
    f.textContent = `The console could not load the gpufleet package (/pkg/index.js): ${e && e.message ? e.message : String(e)}`;
    f.hidden = false;
    return;
  }
  $("boot").hidden = true;
  if (token()) await connect();
  else if ((await readHealth())?.cloudflareAccess) await connect({ access: true });
  else showLogin();
}

boot();
