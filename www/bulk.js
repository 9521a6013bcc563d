// Bulk actions: tick rows (or every row shown), pick stop, terminate or delete, confirm once with
// the exact list of what will happen, and follow each instance's progress and error. Only the
// actions every ticked instance's provider supports are offered (fleet.capabilities(p).operations);
// an instance in a transition (its own action, a bulk one, a deadline's watch) or in a status the
// action does not apply to is listed as skipped and not acted on. Each instance is claimed
// (state.transitions) before its request is sent, so a second click or a second bulk run cannot
// act on it again. The read-only token gets no select boxes and no bulk bar.

import { $, h, errorText } from "./dom.js";
import { ACTIONS } from "./details.js";
import { displayName, state } from "./state.js";
import { rebuildRows, table } from "./fleet-view.js";
import { actionsOf, watch } from "./details-panel.js";

const BULK_OPS = ["stop", "terminate", "delete"];
const CONCURRENCY = 4; // requests in flight at once (each provider's rate limits are per account)

let confirming = null; // { op, act: [row], skip: [[row, why]] } while the confirm is shown
let running = false; // a bulk run is sending its requests
let shownActions = ""; // what the action buttons were drawn for (renderBulk)
let shownConfirm = null; // the question the confirm box was drawn for
const progress = new Map(); // key → { label, state: "queued"|"sent"|"done"|"failed"|"skipped", text }

/** The ticked rows that still exist. */
function pickedRows() {
  const rows = [];
  for (const key of table.picked) {
    const r = state.rowsByKey.get(key);
    if (r && !r.gone) rows.push(r);
    else table.picked.delete(key);
  }
  return rows;
}

/** The bulk actions every ticked instance's provider supports. */
function offered(rows) {
  return ACTIONS.filter((a) => BULK_OPS.includes(a.op) && rows.length && rows.every((r) => state.caps.get(r.inst.provider)?.operations.includes(a.op)));
}

/** Why `r` is not acted on by `a`, or null when it is. */
function skipReason(r, a) {
  if (state.transitions.has(r.key)) return `already ${state.transitions.get(r.key).label.toLowerCase()}`;
  // The library's rule for this instance now (fleet.actionsFor), as in its details panel.
  if (!actionsOf(r.inst).includes(a.op)) return `${r.inst.status}: nothing to ${a.label.toLowerCase()}`;
  return null;
}

const who = (r) => `${r.providerName} ${r.inst.name ? `“${r.inst.name}” (${r.inst.id})` : r.inst.id}`;

function renderBulk() {
  // Nothing ticked, nothing under way, the bar already hidden: a refresh costs nothing here.
  if (!table.picked.size && !progress.size && !confirming && $("bulk").hidden && !$("pick-all").checked && !$("pick-all").indeterminate) return;
  const rows = state.readOnly ? [] : pickedRows();
  const bar = $("bulk");
  bar.hidden = state.readOnly || (!rows.length && !progress.size);
  $("bulk-count").textContent = rows.length ? `${rows.length} selected` : "";
  const shown = table.view;
  const all = $("pick-all");
  // Nothing ticked (the usual case): no walk over every row shown on each refresh.
  all.checked = table.picked.size > 0 && shown.length > 0 && shown.every((r) => table.picked.has(r.key));
  all.indeterminate = !all.checked && table.picked.size > 0 && shown.some((r) => table.picked.has(r.key));

  // Rebuilt only when what they offer changes: a refresh (every few seconds while live) must not
  // swap a button out from under a click.
  const offer = offered(rows);
  const actionsKey = `${offer.map((a) => a.op).join(",")}|${running}|${Boolean(confirming)}|${rows.length > 0}`;
  if (actionsKey !== shownActions) {
    shownActions = actionsKey;
    renderActions(offer, rows);
  }
  $("bulk-clear").hidden = !rows.length;

  const box = $("bulk-confirm");
  box.hidden = !confirming;
  // The question is fixed when asked (askConfirm): drawn once, not on every refresh.
  if (confirming && confirming !== shownConfirm) renderConfirm(box);
  shownConfirm = confirming;
  renderProgress();
}

function renderActions(offer, rows) {
  const buttons = offer.map((a) => {
    const b = h("button", { type: "button", className: a.danger ? "danger" : "", disabled: running || Boolean(confirming), dataset: { bulkOp: a.op } }, `${a.label}…`);
    b.addEventListener("click", () => askConfirm(a.op));
    return b;
  });
  if (rows.length && !buttons.length) buttons.push(h("span", { className: "muted" }, "No action every selected provider supports"));
  $("bulk-actions").replaceChildren(...buttons);
}

function renderConfirm(box) {
  const a = ACTIONS.find((x) => x.op === confirming.op);
  const n = confirming.act.length;
  const list = h("ul", {}, confirming.act.map((r) => h("li", { dataset: { key: r.key } }, `${a.label} ${who(r)}`)));
  const skipped = confirming.skip.length
    ? [h("p", {}, `Not acted on (${confirming.skip.length}):`), h("ul", { className: "skipped" }, confirming.skip.map(([r, why]) => h("li", { dataset: { key: r.key } }, `${who(r)}: ${why}`)))]
    : [];
  const yes = h("button", { type: "button", className: a.danger ? "danger" : "primary", disabled: !n || running, dataset: { bulkConfirm: a.op } }, `Yes, ${a.label.toLowerCase()} ${n} instance${n === 1 ? "" : "s"}`);
  yes.addEventListener("click", () => runBulk(), { once: true });
  const no = h("button", { type: "button", dataset: { bulkCancel: "" } }, "Cancel");
  no.addEventListener("click", () => {
    confirming = null;
    renderBulk();
  });
  box.replaceChildren(h("p", {}, n ? `${a.label} ${n} instance${n === 1 ? "" : "s"}? This ${a.says}.` : `Nothing to ${a.label.toLowerCase()}.`), list, ...skipped, yes, " ", no);
}

let shownProgress = "";

function renderProgress() {
  // Redrawn only when it changed: the Dismiss button stays under a click across refreshes.
  const progressKey = JSON.stringify([running, ...progress]);
  if (progressKey === shownProgress) return;
  shownProgress = progressKey;
  const items = [...progress].map(([key, p]) => h("li", { className: p.state, dataset: { key, state: p.state } }, `${p.label}: ${p.text}`));
  $("bulk-progress").replaceChildren(...items);
  if (progress.size && !running) {
    const dismiss = h("button", { type: "button", dataset: { bulkDismiss: "" } }, "Dismiss");
    dismiss.addEventListener("click", () => {
      progress.clear();
      renderBulk();
    });
    $("bulk-progress").append(h("li", { className: "dismiss" }, dismiss));
  }
}

function askConfirm(op) {
  const a = ACTIONS.find((x) => x.op === op);
  const rows = pickedRows();
  if (!a || !offered(rows).includes(a) || running) return;
  const act = [];
  const skip = [];
  for (const r of rows) {
    const why = skipReason(r, a);
    if (why) skip.push([r, why]);
    else act.push(r);
  }
  confirming = { op, act, skip };
  renderBulk();
}

function setProgress(key, label, st, text) {
  progress.set(key, { label, state: st, text });
  renderBulk();
}

async function runBulk() {
  if (!confirming || running || !state.fleet) return;
  const { op, act } = confirming;
  const a = ACTIONS.find((x) => x.op === op);
  confirming = null;
  running = true;
  const f = state.fleet;
  // Claim every instance first: from here nothing else (another click, its details panel, a
  // second bulk run) acts on it until its watch ends.
  const queue = [];
  for (const r of act) {
    if (state.transitions.has(r.key)) {
      // Claimed since the confirm was shown (its details panel, a deadline's watch): left alone.
      progress.set(r.key, { label: who(r), state: "skipped", text: `not acted on: already ${state.transitions.get(r.key).label.toLowerCase()}` });
      continue;
    }
    state.transitions.set(r.key, { target: a.target, label: `${a.label} requested` });
    table.picked.delete(r.key);
    queue.push(r);
    progress.set(r.key, { label: who(r), state: "queued", text: `${a.label.toLowerCase()} queued` });
  }
  rebuildRows();
  renderBulk();
  const watches = [];
  const worker = async () => {
    while (queue.length && state.fleet === f) {
      const r = queue.shift();
      const { provider, id } = r.inst;
      try {
        await f[op](provider, id);
      } catch (e) {
        state.transitions.delete(r.key);
        rebuildRows();
        setProgress(r.key, who(r), "failed", `${a.label} failed: ${errorText(e)}`);
        continue;
      }
      setProgress(r.key, who(r), "sent", `${a.label.toLowerCase()} accepted, waiting for ${a.target}…`);
      watches.push(
        watch(r.key, provider, id, a.target, `${a.label} (bulk)`).then(() => {
          const now = state.rowsByKey.get(r.key);
          const reached = !now || now.gone || now.inst.status === a.target;
          setProgress(r.key, who(r), reached ? "done" : "failed", reached ? (now && !now.gone ? `${a.target}` : "gone") : `now ${now.inst.status}: did not reach ${a.target}`);
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  running = false;
  renderBulk();
  await Promise.all(watches);
  renderBulk();
}

/** Sign-out: the selection and the progress forgotten. */
export function forgetBulk() {
  table.picked.clear();
  progress.clear();
  confirming = null;
  shownActions = "";
  shownConfirm = null;
  shownProgress = "";
  renderBulk();
}

export function initBulk() {
  table.onPick = () => {
    confirming = null;
    renderBulk();
  };
  table.viewListeners.push(renderBulk);
  $("pick-all").addEventListener("change", (ev) => {
    for (const r of table.view) {
      if (ev.target.checked) table.picked.add(r.key);
      else table.picked.delete(r.key);
    }
    confirming = null;
    table.range = null;
    table.renderWindow(true);
    renderBulk();
  });
  $("bulk-clear").addEventListener("click", () => {
    table.picked.clear();
    confirming = null;
    table.range = null;
    table.renderWindow(true);
    renderBulk();
  });
}
