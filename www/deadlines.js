// Instance deadlines in the console: the whole fleet's (fleet.deadlines(), once per poll, joined to
// the rows) and the details panel's Deadline form — its draft, the request checked here first
// (an inline error naming the field), then fleet.setDeadline() or fleet.clearDeadline().
// records.js renders the column and the form.

import { deadlineKey, defaultDeadlineAction, localInputValue } from "./records.js";
import { LIST_TIMEOUT_MS, isAuthError, state } from "./state.js";
import { isRecordsOff, setRecords } from "./records-mode.js";
import { rebuildRows } from "./fleet-view.js";
import { renderDetailsPanel } from "./details-panel.js";
import { loadInstanceAudit } from "./audit-panel.js";

export const deadlineDrafts = new Map(); // key → { mode, after, at, action }: what the deadline form holds
export const deadlineUi = new Map(); // key → { busy?, error?, message? } of the deadline calls

/** Sign-out: no draft, no message kept. */
export function forgetDeadlineForms() {
  deadlineDrafts.clear();
  deadlineUi.clear();
}

/** `fleet.deadlines()` into `state.deadlinesByKey` (never rejects; the caller rebuilds the rows). */
export async function loadDeadlines(f) {
  if (state.records === "off") return;
  try {
    const list = await f.deadlines({ timeoutMs: LIST_TIMEOUT_MS });
    if (f !== state.fleet) return;
    state.deadlinesByKey = new Map((list?.deadlines || []).map((d) => [deadlineKey(d), d]));
    state.deadlinesError = null;
  } catch (e) {
    if (f !== state.fleet) return;
    if (isRecordsOff(e)) setRecords("off");
    else if (!isAuthError(e)) state.deadlinesError = e; // a refused token is the listing's to report
  }
}

/** What the deadline form of `key` holds: the draft, or a start from its deadline (or an hour). */
export function draftOf(key, row) {
  const kept = deadlineDrafts.get(key);
  if (kept) return kept;
  const d = row?.deadline;
  const pending = d && d.state === "pending";
  return {
    mode: "after",
    after: "60",
    at: localInputValue(pending ? d.atMs : Date.now() + 3_600_000),
    action: d?.action || defaultDeadlineAction(row?.inst.provider, state.caps.get(row?.inst.provider)),
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

/** The form's Set: the draft as a request (or its field error, inline), then setDeadline. */
export async function saveDeadline(key) {
  const row = changeableRow(key);
  if (!row) return;
  const { req, error } = deadlineRequest(draftOf(key, row));
  if (error) {
    deadlineUi.set(key, { error });
    return renderDetailsPanel();
  }
  return deadlineCall(key, "set", (f) => f.setDeadline(row.inst.provider, row.inst.id, req), (answer) => {
    state.deadlinesByKey.set(key, answer.deadline);
    return answer.previous && answer.previous.state === "pending" ? "Deadline changed." : "Deadline set.";
  });
}

/** The form's Clear: clearDeadline, and the draft forgotten. */
export async function clearDeadline(key) {
  const row = changeableRow(key);
  if (!row) return;
  return deadlineCall(key, "clear", (f) => f.clearDeadline(row.inst.provider, row.inst.id), (answer) => {
    state.deadlinesByKey.delete(key);
    deadlineDrafts.delete(key);
    return answer.cleared ? "Deadline cleared." : "It had no deadline.";
  });
}

/** The row of `key` when its deadline may be changed now: a read-write session, no call of its own under way. */
function changeableRow(key) {
  const row = state.rowsByKey.get(key);
  if (!row || !state.fleet || state.readOnly || deadlineUi.get(key)?.busy) return null;
  return row;
}

/**
 * One deadline call of the details panel: the form is `busy` meanwhile; then `done(answer)` records
 * the answer and gives the message shown, or the error is shown inline. An `unsupported` answer
 * turns the records off; after a sign-out nothing is shown.
 */
async function deadlineCall(key, busy, call, done) {
  const f = state.fleet;
  deadlineUi.set(key, { busy });
  renderDetailsPanel();
  try {
    const answer = await call(f);
    if (f !== state.fleet) return;
    deadlineUi.set(key, { message: done(answer) });
    rebuildRows();
    loadInstanceAudit(key);
  } catch (e) {
    if (f !== state.fleet) return;
    if (isRecordsOff(e)) return setRecords("off");
    deadlineUi.set(key, { error: e });
  }
  if (state.selectedKey === key) renderDetailsPanel();
}
