// The fleet as the page shows it: a listing merged into each provider's last known instances
// (a failing provider's kept, marked stale), the table's rows, and around the table the banners,
// filter chips, counts, empty states and toasts.

import { noteSeen } from "./live.js";
import { $, h, clock, durationText, errorText } from "./dom.js";
import { FleetTable, STATUSES, rowOf } from "./table.js";
import { displayName, state } from "./state.js";
import { openDetails, renderDetailsPanel } from "./details-panel.js";
import { renderSummary } from "./fleet-money.js";
import { stalledDeadlines } from "./records.js";

export const table = new FleetTable({
  table: $("fleet"),
  onOpen: (key) => openDetails(key),
  onRendered: ({ total, matching }) => renderEmpty(total, matching),
});

export function applyListing(listing) {
  const now = Date.now();
  const failures = new Map(listing.errors.map((f) => [f.provider, f.error]));
  const fresh = new Map();
  for (const inst of listing.instances) {
    if (!fresh.has(inst.provider)) fresh.set(inst.provider, new Map());
    fresh.get(inst.provider).set(`${inst.provider}/${inst.id}`, inst);
  }
  const next = new Map();
  for (const p of new Set([...state.caps.keys(), ...fresh.keys(), ...failures.keys()])) {
    const prev = state.providerState.get(p);
    if (failures.has(p)) {
      // Keep what was last seen, marked stale: the banner says so, the rows are dimmed.
      next.set(p, { instances: prev?.instances ?? new Map(), at: prev?.at ?? 0, error: failures.get(p) });
    } else {
      const instances = fresh.get(p) ?? new Map();
      // An instance being watched (just created, being deleted) stays until its wait ends.
      for (const key of state.transitions.keys()) {
        if (key.startsWith(`${p}/`) && !instances.has(key) && prev?.instances.has(key)) instances.set(key, prev.instances.get(key));
      }
      next.set(p, { instances, at: now, error: null });
    }
  }
  state.providerState = next;
  state.listedOnce = true;
  state.lastListing = { cost: listing.cost, instances: listing.instances, errors: listing.errors };
  rebuildRows();
  renderBanners();
  renderSummary();
}

export function rebuildRows() {
  const rows = [];
  const byKey = new Map();
  const deadlineOf = (key) => (state.records === "off" ? null : state.deadlinesByKey.get(key) || null);
  for (const [p, st] of state.providerState) {
    const name = displayName(p);
    for (const [key, inst] of st.instances) {
      const r = rowOf(inst, name);
      r.stale = Boolean(st.error);
      r.transition = state.transitions.get(key) || null;
      r.deadline = deadlineOf(key);
      rows.push(r);
      byKey.set(key, r);
    }
  }
  // The open details keep showing an instance that vanished, marked as gone.
  const selectedKey = state.selectedKey;
  if (selectedKey && !byKey.has(selectedKey) && state.rowsByKey.has(selectedKey)) {
    const gone = { ...state.rowsByKey.get(selectedKey), gone: true, transition: null, deadline: deadlineOf(selectedKey) };
    state.rowsByKey = byKey;
    state.rowsByKey.set(selectedKey, gone);
  } else {
    state.rowsByKey = byKey;
  }
  table.setRows(rows);
  renderChips();
  if (state.selectedKey) renderDetailsPanel();
}

export function setInstance(key, inst) {
  const st = state.providerState.get(inst.provider);
  if (!st) return;
  st.instances.set(key, inst);
  noteSeen(key, inst); // fresher than the live view's copy until its next change of it
  rebuildRows();
}

export function removeInstance(key) {
  for (const st of state.providerState.values()) st.instances.delete(key);
  noteSeen(key, null);
  rebuildRows();
}

// ---------------------------------------------------------------------------------------------
// banners, chips, counts, empty states, toasts

export function renderBanners() {
  const out = [];
  if (state.globalError) {
    out.push(h("p", { className: "banner banner-error", dataset: { scope: "all" } },
      `Could not list the fleet: ${errorText(state.globalError)}. ${state.listedOnce ? "Showing what was last seen." : ""}`));
  }
  for (const [p, st] of state.providerState) {
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
  const stalled = state.records === "off" ? [] : stalledDeadlines(state.deadlinesByKey.values());
  if (stalled.length) {
    const n = stalled.length;
    const oldest = Math.min(...stalled.map((d) => d.atMs));
    out.push(h("p", { className: "banner banner-warn", dataset: { scope: "cron" } },
      `${n} deadline${n === 1 ? " is" : "s are"} past due (the oldest by ${durationText(Date.now() - oldest)}) and no scheduled run has tried ${n === 1 ? "it" : "them"}: ` +
      "the proxy's Cron Trigger is not running (the Worker is not deployed with it, or the cron is disabled), so deadlines do not fire."));
  }
  if (state.deadlinesError && state.records !== "off") {
    const n = state.deadlinesByKey.size;
    out.push(h("p", { className: "banner banner-error", dataset: { scope: "deadlines" } },
      `Could not read the deadlines: ${errorText(state.deadlinesError)}. ${n ? `Showing the ${n} last seen.` : ""}`));
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

export function renderChips() {
  const { status, provider } = table.counts();
  const f = table.filter;
  const pchips = [...state.caps.keys(), ...[...state.providerState.keys()].filter((p) => !state.caps.has(p))].map((p) =>
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

export function renderEmpty(total, matching) {
  const listedOnce = state.listedOnce;
  $("count").textContent = listedOnce ? (matching === total ? `${total} instance${total === 1 ? "" : "s"}` : `${matching} of ${total} instances`) : "";
  const empty = $("empty");
  if (!listedOnce || matching > 0) {
    empty.hidden = true;
    return;
  }
  empty.hidden = false;
  if (total === 0) {
    const failing = [...state.providerState.values()].some((s) => s.error);
    $("empty-text").textContent = failing
      ? "No instances to show: see the errors above."
      : "No instances on the configured providers yet. Use “New instance” to create one.";
    $("clear-filters").hidden = true;
  } else {
    $("empty-text").textContent = "No instance matches the filter.";
    $("clear-filters").hidden = !filtersActive();
  }
}

export function toast(text, kind = "error") {
  const t = h("p", { className: `toast toast-${kind}` }, text);
  const close = h("button", { type: "button", className: "toast-close", attrs: { "aria-label": "Dismiss" } }, "×");
  close.addEventListener("click", () => t.remove());
  t.append(close);
  $("toasts").append(t);
  setTimeout(() => t.remove(), 10_000);
}
