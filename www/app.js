// gpufleet console: every instance on every provider this proxy holds keys for, through the
// gpufleet package itself in proxy mode (`new Fleet({ proxy: { url: "/api", token } })`). The page
// holds only the proxy's token (sessionStorage, this tab); provider keys never reach it.
//
// Every provider string is rendered with textContent (see dom.js); nothing here builds HTML.

import { $, h, clock, errorText } from "./dom.js";
import { FleetTable, STATUSES, rowOf, tickCountdowns } from "./table.js";
import { ACTIONS, renderDetails } from "./details.js";
import { buildFields, clearErrors, readInput, showFieldError } from "./create.js";

const TOKEN_KEY = "gpufleet.token";
const REFRESH_MS = 10_000; // auto-refresh interval while everything answers
const MAX_REFRESH_MS = 160_000; // longest interval after repeated failures (doubling)
const LIST_TIMEOUT_MS = 30_000;
const WAIT = { minDelayMs: 1000, maxDelayMs: 5000, maxWaitMs: 30 * 60_000 };

let gf = null; // the gpufleet module
let fleet = null;
let caps = new Map(); // provider → Capabilities (the proxy's configured providers)
let readOnly = false; // the proxy's read-only token: list and inspect only
let providerState = new Map(); // provider → { instances: Map<key, Instance>, at, error }
let rowsByKey = new Map();
const transitions = new Map(); // key → { op, target, label, ctrl }
const messages = new Map(); // key → { kind, text } (last action result, shown in details)
const sshState = new Map(); // key → { state, details?, error? }
let listedOnce = false;
let globalError = null;
let selectedKey = null;
let confirmOp = null;

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
  for (const id of ["refresh", "logout", "new-instance", "read-only"]) $(id).hidden = true;
  $("details").hidden = true;
  $("create").hidden = true;
  $("updated").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function signOut(message) {
  clearTimeout(timer);
  timer = null;
  for (const t of transitions.values()) t.ctrl?.abort();
  transitions.clear();
  messages.clear();
  sshState.clear();
  sessionStorage.removeItem(TOKEN_KEY);
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
  $("banners").replaceChildren();
  $("toasts").replaceChildren();
  showLogin(message);
}

const isAuthError = (e) => e && (e.code === "unauthorized");

async function connect() {
  const t = token();
  if (!t) return showLogin();
  try {
    fleet = new gf.Fleet({ proxy: { url: "/api", token: t } });
  } catch (e) {
    return signOut(`This token cannot be used: ${errorText(e)}`);
  }
  $("login").hidden = true;
  $("main").hidden = false;
  $("refresh").hidden = false;
  $("logout").hidden = false;
  $("loading").hidden = false;
  await refresh();
}

// ---------------------------------------------------------------------------------------------
// listing and the refresh loop

async function loadProviders() {
  const [list, access] = await Promise.all([
    fleet.providers({ timeoutMs: LIST_TIMEOUT_MS }),
    fleet.access({ timeoutMs: LIST_TIMEOUT_MS }),
  ]);
  caps = new Map(list.map((c) => [c.provider, c]));
  // Offer only what this token may do: the proxy refuses mutations from its read-only token.
  readOnly = access === "readOnly";
  $("read-only").hidden = !readOnly;
  $("new-instance").hidden = readOnly || !list.some((c) => c.operations.includes("create"));
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
    const listing = await f.listAll(null, { timeoutMs: LIST_TIMEOUT_MS });
    if (f !== fleet) return; // signed out meanwhile
    globalError = null;
    applyListing(listing);
    failed = listing.errors.length > 0;
    lastOk = Date.now();
  } catch (e) {
    if (f !== fleet) return;
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
  rebuildRows();
  renderBanners();
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
      rows.push(r);
      byKey.set(key, r);
    }
  }
  // The open details keep showing an instance that vanished, marked as gone.
  if (selectedKey && !byKey.has(selectedKey) && rowsByKey.has(selectedKey)) {
    const gone = { ...rowsByKey.get(selectedKey), gone: true, transition: null };
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
  $("create").hidden = true;
  if (selectedKey !== key) confirmOp = null;
  selectedKey = key;
  table.select(key);
  renderDetailsPanel();
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
  const signature = JSON.stringify([key, row.inst, row.stale, Boolean(row.gone), t && [t.target, t.label], confirmOp, messages.get(key), sshState.get(key), caps.get(row.inst.provider)?.operations, readOnly]);
  if (signature === detailsSignature && !$("details").hidden) return;
  detailsSignature = signature;
  $("details-title").textContent = row.inst.name || row.inst.id;
  $("details-body").replaceChildren(
    renderDetails(row, {
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
  } catch (e) {
    transitions.delete(key);
    rebuildRows();
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
// create

let createFields = [];

function openCreate() {
  const creatable = [...caps.values()].filter((c) => c.operations.includes("create"));
  if (!creatable.length) return;
  closeDetails();
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
$("logout").addEventListener("click", () => signOut());
$("new-instance").addEventListener("click", openCreate);
$("create-close").addEventListener("click", () => ($("create").hidden = true));
$("create-provider").addEventListener("change", buildCreateFields);
$("create-form").addEventListener("submit", submitCreate);
$("details-close").addEventListener("click", closeDetails);
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
  else showLogin();
}

boot();
