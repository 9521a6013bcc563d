// The details panel of the selected instance (details.js renders it): opening and closing it,
// re-rendering only when something it shows changed, SSH details, and the lifecycle actions —
// each confirmed, sent, then watched live (fleet.waitFor) until the instance reaches its target.

import { $, ageText, errorText } from "./dom.js";
import { ACTIONS, renderDetails } from "./details.js";
import { fieldErrorText, renderDeadlineSection } from "./records.js";
import { displayName, state } from "./state.js";
import { rebuildRows, removeInstance, setInstance, table, toast } from "./fleet-view.js";
import { clearDeadline, deadlineDrafts, deadlineUi, draftOf, saveDeadline } from "./deadlines.js";
import { historySection, instanceAudit, loadInstanceAudit } from "./audit-panel.js";
import { refresh } from "./poll.js";
import { forgetStatusSince, statusSince } from "./status-since.js";

const WAIT = { minDelayMs: 1000, maxDelayMs: 5000, maxWaitMs: 30 * 60_000 };

const messages = new Map(); // key → { kind, text } (last action result, shown in details)
const sshState = new Map(); // key → { state, details?, error? }
let confirmOp = null;
let detailsSignature = "";
let deadlineFormSignature = ""; // what the deadline form last showed, bar the user's own input

export function openDetails(key) {
  if (!state.rowsByKey.has(key)) return;
  for (const id of ["create", "audit", "orphans"]) $(id).hidden = true;
  if (state.selectedKey !== key) {
    confirmOp = null;
    deadlineUi.delete(key); // an earlier visit's "Deadline set." or error is not news
  }
  state.selectedKey = key;
  table.select(key);
  readWhole(key);
  renderDetailsPanel();
  loadInstanceAudit(key);
  $("details").hidden = false;
  $("details-close").focus();
}

export function closeDetails() {
  $("details").hidden = true;
  detailsSignature = "";
  deadlineFormSignature = "";
  state.selectedKey = null;
  confirmOp = null;
  table.select(null);
}

/** Sign-out: every watch stopped, every message and selection forgotten. */
export function forgetDetails() {
  for (const t of state.transitions.values()) t.ctrl?.abort();
  state.transitions.clear();
  wholeRead.clear();
  wholeByKey.clear();
  forgetStatusSince();
  messages.clear();
  sshState.clear();
  state.selectedKey = null;
  confirmOp = null;
}

/**
 * Renders the details of the selected instance — unless nothing it shows has changed since the
 * last time, so a refresh does not reset a selection in the raw JSON or the panel's scroll.
 */
export function renderDetailsPanel() {
  const listed = state.rowsByKey.get(state.selectedKey);
  if (!listed) return;
  const key = state.selectedKey;
  readWhole(key);
  const row = { ...listed, inst: shownInstance(key, listed.inst) };
  const t = row.transition;
  const audit = instanceAudit.get(key);
  const ui = deadlineUi.get(key);
  const caps = state.caps.get(row.inst.provider);
  const signature = JSON.stringify([
    key, row.inst, ageText(statusSince(row.inst).at), row.stale, Boolean(row.gone), t && [t.target, t.label], confirmOp, messages.get(key), sshState.get(key), caps?.operations, state.readOnly,
    state.records, row.deadline, ui && [ui.busy, ui.message, ui.error && fieldErrorText(ui.error)],
    audit && [audit.entries.map((e) => e.seq), audit.nextCursor, audit.error && fieldErrorText(audit.error), audit.loading && !audit.entries.length, audit.loadingMore],
  ]);
  if (signature === detailsSignature && !$("details").hidden) return;
  detailsSignature = signature;
  // A re-render (every poll changes the cost so far) must not take the deadline form from under
  // the user: while one of its inputs has the focus and nothing the form shows has changed, the
  // old form is moved into the new panel and refocused, keeping what the user selected or where
  // the caret was (a new input would put the caret at the end: "60" selected to retype, then
  // Backspace and "0", gave "60" again). Its values are the draft already (synced on input).
  const body = $("details-body");
  const focused = body.contains(document.activeElement) ? document.activeElement.dataset.deadlineInput : undefined;
  const formSignature = JSON.stringify([key, caps?.operations, state.readOnly, state.records, Boolean(row.gone), row.deadline, ui && [ui.busy, ui.message, ui.error && fieldErrorText(ui.error)]]);
  const keptForm = focused && formSignature === deadlineFormSignature ? body.querySelector("[data-deadline-form]") : null;
  deadlineFormSignature = formSignature;
  $("details-title").textContent = row.inst.name || row.inst.id;
  const recordsOn = state.records !== "off";
  body.replaceChildren(
    renderDetails(row, {
      afterActions: recordsOn
        ? [renderDeadlineSection(row, {
          caps,
          readOnly: state.readOnly,
          draft: draftOf(key, row),
          state: ui,
          onDraft: (patch) => deadlineDrafts.set(key, { ...draftOf(key, row), ...patch }),
          onSet: () => saveDeadline(key),
          onClear: () => clearDeadline(key),
        })]
        : [],
      beforeRaw: recordsOn ? [historySection(key)] : [],
      caps,
      actions: actionsOf(row.inst),
      readOnly: state.readOnly,
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
      onStopWatching: () => state.transitions.get(key)?.ctrl?.abort(),
      onSsh: () => loadSsh(key),
    }),
  );
  if (keptForm) body.querySelector("[data-deadline-form]")?.replaceWith(keptForm);
  if (focused) body.querySelector(`[data-deadline-input="${focused}"]`)?.focus();
}

// Novita's list answer has no network or SSH fields: only reading the instance itself
// (fleet.get) gives its IP and SSH command. The instance is read when its details open and again
// each time it becomes running (a started instance gets its address then).
const READ_WHOLE = new Set(["novita"]);
const wholeRead = new Map(); // key → the status the instance had when it was last read
const wholeByKey = new Map(); // key → the instance as fleet.get last answered

function readWhole(key) {
  const row = state.rowsByKey.get(key);
  const f = state.fleet;
  if (!row || row.gone || !f || !READ_WHOLE.has(row.inst.provider)) return;
  const status = row.inst.status;
  if (wholeRead.has(key) && (status !== "running" || wholeRead.get(key) === "running")) {
    wholeRead.set(key, status);
    return;
  }
  wholeRead.set(key, status);
  f.get(row.inst.provider, row.inst.id).then(
    (inst) => {
      if (state.fleet !== f || !inst) return;
      wholeByKey.set(key, inst);
      if (state.selectedKey === key) renderDetailsPanel();
    },
    () => wholeRead.delete(key), // tried again on the next render; the listed fields stay shown
  );
}

/**
 * The selected instance as shown: the listed record, with the IP and SSH access that only
 * reading the instance gives (Novita) filled in from the last fleet.get when the list lacks them.
 */
function shownInstance(key, inst) {
  const whole = wholeByKey.get(key);
  if (!whole || whole.id !== inst.id) return inst;
  if (inst.ip && inst.ssh) return inst;
  return { ...inst, ip: inst.ip || whole.ip, ssh: inst.ssh || whole.ssh, raw: inst.raw };
}

/** The actions the library allows `inst` now (none when it cannot say: no action is better than a wrong one). */
export function actionsOf(inst) {
  try {
    return state.fleet ? state.fleet.actionsFor(inst) : [];
  } catch {
    return [];
  }
}

async function loadSsh(key) {
  const row = state.rowsByKey.get(key);
  if (!row || !state.fleet) return;
  sshState.set(key, { state: "loading" });
  renderDetailsPanel();
  try {
    const details = await state.fleet.ssh(row.inst.provider, row.inst.id);
    sshState.set(key, { state: "ok", details });
  } catch (e) {
    sshState.set(key, { state: "error", error: errorText(e) });
  }
  if (state.selectedKey === key) renderDetailsPanel();
}

function setMessage(key, kind, text) {
  messages.set(key, { kind, text });
  if (state.selectedKey === key) renderDetailsPanel();
}

async function runAction(key, op) {
  const row = state.rowsByKey.get(key);
  const a = ACTIONS.find((x) => x.op === op);
  if (!row || !a || !state.fleet || state.transitions.has(key)) return;
  confirmOp = null;
  messages.delete(key);
  const { provider, id } = row.inst;
  const label = `${a.label} requested`;
  state.transitions.set(key, { target: a.target, label });
  rebuildRows();
  try {
    const result = await state.fleet[op](provider, id);
    if (op !== "delete" && result && result.id) setInstance(key, result);
    loadInstanceAudit(key);
  } catch (e) {
    state.transitions.delete(key);
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
export async function watch(key, provider, id, target, label) {
  const ctrl = new AbortController();
  state.transitions.set(key, { target, label, ctrl });
  rebuildRows();
  const f = state.fleet;
  try {
    const inst = await f.waitFor(provider, id, {
      until: target,
      ...WAIT,
      signal: ctrl.signal,
      onPoll: (i) => {
        if (state.fleet === f && state.transitions.get(key)?.ctrl === ctrl) setInstance(key, i);
      },
    });
    if (state.fleet !== f) return;
    state.transitions.delete(key);
    if (inst) {
      setInstance(key, inst);
      setMessage(key, "ok", `${label}: ${displayName(provider)} reports ${inst.status} (${inst.providerStatus}).`);
    } else {
      setMessage(key, "ok", `${label}: the instance is gone.`);
      removeInstance(key);
    }
  } catch (e) {
    if (state.fleet !== f) return;
    state.transitions.delete(key);
    rebuildRows();
    if (e.code === "aborted") setMessage(key, "ok", "Stopped watching. The provider carries on; the table keeps refreshing.");
    else {
      setMessage(key, "error", `${label}: did not reach ${target}: ${errorText(e)}`);
      toast(`${label} ${displayName(provider)} instance ${id}: ${errorText(e)}`);
    }
  }
  refresh({ walk: true }); // the change, seen by every console (live) or this one (polling)
}
