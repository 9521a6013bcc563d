// The proxy's audit log in the console: an instance's History in its details panel (re-read with
// every poll while only its first page is shown) and the fleet-wide Audit log panel (provider,
// caller and action filters, "Load more" through the cursor). records.js renders the entries.

import { $, h, plural } from "./dom.js";
import { AUDIT_ACTIONS, auditList, fieldErrorText } from "./records.js";
import { LIST_TIMEOUT_MS, displayName, state } from "./state.js";
import { isRecordsOff, setRecords } from "./records-mode.js";
import { closeDetails, openDetails, renderDetailsPanel } from "./details-panel.js";

const AUDIT_PAGE = 50; // audit entries per page in the Audit log panel
const INSTANCE_AUDIT_PAGE = 20; // … and in an instance's History

export const instanceAudit = new Map(); // key → { entries, nextCursor, loading, more, error }
let auditState = { entries: [], nextCursor: null, loading: false, error: null, query: {} };
let auditSeq = 0;

/** Sign-out: no History and no Audit log page kept. */
export function forgetAudit() {
  instanceAudit.clear();
  auditState = { entries: [], nextCursor: null, loading: false, error: null, query: {} };
}

/**
 * An instance's audit entries (its History): the first page, or with `more` the next one.
 * `quiet` (a poll) re-reads the first page only while nothing more was loaded.
 */
export async function loadInstanceAudit(key, { more = false, quiet = false } = {}) {
  const row = state.rowsByKey.get(key);
  if (!row || !state.fleet || state.records === "off") return;
  const prev = instanceAudit.get(key);
  if (prev?.loading || prev?.loadingMore || (quiet && prev?.more)) return;
  if (more && !prev?.nextCursor) return;
  const f = state.fleet;
  instanceAudit.set(key, { entries: [], ...prev, error: null, [more ? "loadingMore" : "loading"]: true });
  if (state.selectedKey === key && (more || !prev)) renderDetailsPanel();
  let next;
  try {
    const query = { provider: row.inst.provider, instanceId: row.inst.id, limit: INSTANCE_AUDIT_PAGE };
    if (more) query.before = prev.nextCursor;
    const page = await f.audit(query, { timeoutMs: LIST_TIMEOUT_MS });
    const entries = more ? [...prev.entries, ...page.entries] : page.entries;
    next = { entries, nextCursor: page.nextCursor || null, more };
  } catch (e) {
    if (f !== state.fleet) return;
    if (isRecordsOff(e)) {
      instanceAudit.delete(key);
      return setRecords("off");
    }
    next = { ...prev, entries: prev?.entries || [], error: e };
  }
  if (f !== state.fleet) return;
  instanceAudit.set(key, { ...next, loading: false, loadingMore: false });
  if (state.selectedKey === key) renderDetailsPanel();
}

/** The details panel's History: this instance's audit entries, newest first. */
export function historySection(key) {
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

export function openAudit() {
  if (!state.fleet || state.records === "off") return;
  closeDetails();
  $("create").hidden = true;
  $("orphans").hidden = true;
  const select = $("audit-provider");
  const current = select.value;
  select.replaceChildren(h("option", { value: "" }, "All providers"), ...[...state.caps.values()].map((c) => h("option", { value: c.provider }, c.displayName)));
  if (state.caps.has(current)) select.value = current;
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
export async function loadAudit({ more = false } = {}) {
  const f = state.fleet;
  if (!f || state.records === "off") return;
  if (more && (!auditState.nextCursor || auditState.loading)) return;
  const query = more ? { ...auditState.query, before: auditState.nextCursor } : auditFilters();
  const seq = ++auditSeq;
  auditState = more ? { ...auditState, loading: "more", error: null } : { entries: [], nextCursor: null, loading: "first", error: null, query };
  renderAuditPanel();
  try {
    const page = await f.audit({ ...query, limit: AUDIT_PAGE }, { timeoutMs: LIST_TIMEOUT_MS });
    if (f !== state.fleet || seq !== auditSeq) return;
    auditState = { ...auditState, entries: [...auditState.entries, ...page.entries], nextCursor: page.nextCursor || null, loading: false };
  } catch (e) {
    if (f !== state.fleet || seq !== auditSeq) return;
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
  else list.replaceChildren(auditList(st.entries, { instance: true, onOpen: openDetails, isKnown: (k) => state.rowsByKey.has(k) }));
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
