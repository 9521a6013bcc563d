// The proxy's records in the console: instance deadlines (the table's Deadline column and the
// details panel's Deadline section), the audit log (an instance's History, the fleet-wide Audit
// log panel) and the orphan report's rows. Everything comes from the package in proxy mode
// (fleet.deadlines(), setDeadline(), clearDeadline(), audit(), orphans()); this module only
// renders. Every string from the proxy is set with textContent (see dom.js).

import { h, ageText, durationText } from "./dom.js";

/** What a deadline can do, in the order the proxy checks them (store.rs DeadlineAction). */
export const DEADLINE_ACTIONS = ["stop", "terminate", "delete"];

/** The provider's own end when none is chosen (store.rs `DeadlineAction::default_for`). */
const DEFAULT_ACTION = { novita: "stop", sfcompute: "terminate", fal: "delete", "fal-alpha": "delete" };

/** Every action the audit log writes, for the audit filter. */
export const AUDIT_ACTIONS = [
  "create", "start", "stop", "restart", "terminate", "delete",
  "deadline.set", "deadline.changed", "deadline.cleared", "deadline.fired", "deadline.failed",
];

const ACTION_WORDS = {
  stop: { future: "stops", label: "Stop", done: "stopped" },
  terminate: { future: "terminates", label: "Terminate", done: "terminated" },
  delete: { future: "deleted", label: "Delete", done: "deleted" },
};

/** The deadline actions `caps` (a provider's Capabilities) supports: each needs its operation. */
export function deadlineActions(caps) {
  const ops = caps?.operations || [];
  return DEADLINE_ACTIONS.filter((a) => ops.includes(a));
}

/** The action a new deadline starts with on `provider`: the proxy's default, if supported. */
export function defaultDeadlineAction(provider, caps) {
  const actions = deadlineActions(caps);
  return actions.includes(DEFAULT_ACTION[provider]) ? DEFAULT_ACTION[provider] : actions[0];
}

/** The key of the row a deadline belongs to. */
export const deadlineKey = (d) => `${d.provider}/${d.instanceId}`;

/** "2026-12-04 18:00:05" in this browser's time zone (with the zone on hover, see `timeTitle`). */
export function localTime(ms) {
  if (!Number.isFinite(ms)) return "";
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The same instant as a `datetime-local` input value (seconds included). */
export function localInputValue(ms) {
  return localTime(ms).replace(" ", "T");
}

const timeTitle = (ms) => (Number.isFinite(ms) ? `${new Date(ms).toISOString()} (UTC)` : "");

/** The words of an action (an unknown one as itself). */
function words(action) {
  return ACTION_WORDS[action] || { future: `${action}s`, label: action, done: action };
}

/** A pending deadline this close to firing is flagged on its row ("a warning before it fires"). */
export const SOON_MS = 10 * 60_000;
/**
 * A pending deadline this long past due that no cron run has tried (no attempt) means the Cron
 * Trigger is not running: the Worker is not deployed with it, or the cron is disabled. A run tries
 * up to 10 due deadlines a minute, so only a backlog of more than 50 due at once could wait as long.
 */
export const STALLED_MS = 5 * 60_000;

/** Whether `d` fires within SOON_MS of `now`. */
const firesSoon = (d, now) => d.state === "pending" && !d.lastError && d.atMs > now && d.atMs - now <= SOON_MS;

/** The pending deadlines no cron run has tried though they are STALLED_MS past due. */
export function stalledDeadlines(deadlines, now = Date.now()) {
  return [...deadlines].filter((d) => d.state === "pending" && !d.attempts && now - d.atMs > STALLED_MS);
}

/**
 * The one-line state of a deadline at `now`: "stops in 12 min", "stop due", "stop retrying",
 * "stop fired", "stop failed".
 */
export function deadlineText(d, now = Date.now()) {
  if (!d) return "";
  const w = words(d.action);
  if (d.state === "done") return `${d.action} fired`;
  if (d.state === "failed") return `${d.action} failed`;
  if (d.lastError) return `${d.action} retrying`;
  return d.atMs > now ? `${w.future} in ${durationText(d.atMs - now)}` : `${d.action} due`;
}

/** What hovering the deadline says: when, what, who, and the last error. */
function deadlineTitle(d) {
  const lines = [`${words(d.action).label} at ${localTime(d.atMs)} (${timeTitle(d.atMs)})`, `set by ${d.setBy} at ${localTime(d.setAtMs)}`];
  if (firesSoon(d, Date.now())) lines.unshift(`Fires in under ${SOON_MS / 60_000} minutes`);
  if (d.state === "done" && Number.isFinite(d.firedAtMs)) lines.push(`fired at ${localTime(d.firedAtMs)}`);
  if (d.attempts) lines.push(`${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`);
  if (d.state === "pending" && d.lastError && Number.isFinite(d.nextAttemptMs)) lines.push(`next attempt at ${localTime(d.nextAttemptMs)}`);
  if (d.lastError) lines.push(`last error: ${d.lastError}`);
  return lines.join("\n");
}

/**
 * The deadline of a row as a line (a span), or null without one. A pending deadline counts down
 * (`data-deadline-at`, moved on once a second by `tickDeadlines`).
 */
export function deadlineLine(d, now = Date.now()) {
  if (!d) return null;
  const counting = d.state === "pending" && !d.lastError;
  const cls = ["deadline", `deadline-${d.state}`];
  if (counting && d.atMs <= now) cls.push("due");
  if (firesSoon(d, now)) cls.push("soon");
  if (d.state === "pending" && d.lastError) cls.push("retrying");
  return h(
    "span",
    { className: cls.join(" "), dataset: counting ? { deadlineAt: String(d.atMs), deadlineAction: d.action } : {} },
    deadlineText(d, now),
  );
}

/** The Deadline cell of a row. */
export function deadlineCell(d, now = Date.now()) {
  const td = h("td", { className: "c-deadline" });
  if (!d) {
    td.append(h("span", { className: "muted" }, "—"));
    td.title = "No deadline";
    return td;
  }
  td.dataset.state = d.state;
  td.title = deadlineTitle(d);
  td.append(deadlineLine(d, now));
  // Under it: when a fired one fired, or why the last attempt failed.
  if (d.state === "done" && Number.isFinite(d.firedAtMs)) td.append(h("span", { className: "deadline-when muted" }, `${ageText(d.firedAtMs, now)} ago`));
  else if (d.lastError) td.append(h("span", { className: "deadline-error" }, d.lastError));
  return td;
}

/** Moves every deadline countdown under `root` on to `now` (called once a second). */
export function tickDeadlines(root, now = Date.now()) {
  for (const el of root.querySelectorAll("[data-deadline-at]")) {
    const at = Number(el.dataset.deadlineAt);
    const d = { state: "pending", atMs: at, action: el.dataset.deadlineAction };
    const text = deadlineText(d, now);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle("due", at <= now);
    el.classList.toggle("soon", firesSoon(d, now));
  }
}

/** The field an error names, as the deadline form's input name (`deadline.after` → `after`). */
export function errorField(e) {
  const f = typeof e?.field === "string" ? e.field.replace(/^deadline\./, "") : "";
  return ["at", "after", "action"].includes(f) ? f : f || null;
}

/** An error's message with its field (never blank): "after: must be more than 0". */
export function fieldErrorText(e) {
  if (!e || typeof e !== "object") return String(e || "failed");
  const message = e.message || e.code || "failed";
  const field = typeof e.field === "string" && e.field ? e.field : "";
  const text = field && !message.startsWith(field) ? `${field}: ${message}` : message;
  return e.requestId ? `${text} (request ${e.requestId})` : text;
}

/**
 * The details panel's Deadline section.
 * @param {object} row  the table row ({ key, inst, deadline, gone })
 * @param {object} ctx
 *   caps       the provider's Capabilities
 *   readOnly   the token may only read: the form is shown disabled
 *   draft      { mode: "after"|"at", after, at, action } — what the form holds
 *   state      { busy?, error?, message? } of this instance's deadline calls
 *   onDraft(patch) / onSet() / onClear()
 */
export function renderDeadlineSection(row, ctx) {
  const i = row.inst;
  const d = row.deadline || null;
  const actions = deadlineActions(ctx.caps);
  const sec = h("section", { className: "deadline-section", attrs: { "aria-label": "Deadline" } });
  sec.append(h("h3", {}, "Deadline"));
  const now = Date.now();

  const status = h("p", { className: "deadline-status", dataset: { deadlineStatus: d ? d.state : "none" } });
  if (d) {
    const when = d.state === "done" && Number.isFinite(d.firedAtMs) ? d.firedAtMs : d.atMs;
    status.append(deadlineLine(d, now), ` — at ${localTime(when)}, set by ${d.setBy} ${ageText(d.setAtMs, now)} ago`);
    status.title = deadlineTitle(d);
  } else {
    status.append(h("span", { className: "muted" }, "No deadline: it runs until someone stops it."));
  }
  sec.append(status);
  if (d && d.lastError) {
    sec.append(h("p", { className: "error", dataset: { deadlineLastError: "" } }, `${d.state === "failed" ? "Given up" : "The last attempt failed"}${d.attempts ? ` (attempt ${d.attempts})` : ""}: ${d.lastError}`));
  }

  if (!actions.length) {
    sec.append(h("p", { className: "muted" }, `${row.providerName} has nothing a deadline could do here.`));
    return sec;
  }
  if (row.gone) return sec;

  const draft = ctx.draft;
  const st = ctx.state || {};
  const pending = d && d.state === "pending";
  const form = h("form", { className: "deadline-form", noValidate: true, dataset: { deadlineForm: "" } });
  const fs = h("fieldset", { disabled: Boolean(ctx.readOnly || st.busy) });
  fs.append(h("legend", { className: "sr-only" }, pending ? "Change the deadline" : "Set a deadline"));
  const id = (n) => `deadline-${n}`;

  const action = h("select", { id: id("action"), name: "action", dataset: { deadlineInput: "action" } },
    actions.map((a) => h("option", { value: a }, words(a).label)));
  action.value = actions.includes(draft.action) ? draft.action : actions[0];
  const mode = h("select", { id: id("mode"), name: "mode", dataset: { deadlineInput: "mode" } },
    h("option", { value: "after" }, "in … minutes"),
    h("option", { value: "at" }, "at a time"));
  mode.value = draft.mode === "at" ? "at" : "after";
  const after = h("input", { id: id("after"), name: "after", type: "number", min: "0", step: "any", inputMode: "decimal", value: draft.after ?? "", dataset: { deadlineInput: "after" } });
  after.setAttribute("aria-label", "Minutes from now");
  after.hidden = mode.value !== "after";
  const at = h("input", { id: id("at"), name: "at", type: "datetime-local", step: "1", value: draft.at ?? "", dataset: { deadlineInput: "at" } });
  at.setAttribute("aria-label", `Time (${Intl.DateTimeFormat().resolvedOptions().timeZone || "local time"})`);
  at.hidden = mode.value !== "at";
  const minutesWord = h("span", { className: "muted" }, "minutes");
  minutesWord.hidden = after.hidden;

  const errField = st.error ? errorField(st.error) : null;
  for (const [name, el] of [["action", action], ["after", after], ["at", at]]) {
    if (errField === name) el.setAttribute("aria-invalid", "true");
  }

  const line1 = h("div", { className: "deadline-row" });
  line1.append(h("label", { htmlFor: id("action") }, "Action"), action);
  const line2 = h("div", { className: "deadline-row" });
  line2.append(h("label", { htmlFor: id("mode") }, "When"), mode, after, minutesWord, at);
  const buttons = h("div", { className: "buttons" });
  const submit = h("button", { type: "submit", className: "primary", dataset: { deadlineSubmit: "" } }, st.busy === "set" ? "Saving…" : pending ? "Change deadline" : "Set deadline");
  buttons.append(submit);
  if (d) {
    const clear = h("button", { type: "button", dataset: { deadlineClear: "" } }, st.busy === "clear" ? "Clearing…" : "Clear deadline");
    clear.addEventListener("click", ctx.onClear);
    buttons.append(clear);
  }
  fs.append(line1, line2, buttons);
  form.append(fs);
  const sync = () => {
    ctx.onDraft({ action: action.value, mode: mode.value, after: after.value, at: at.value });
    after.hidden = mode.value !== "after";
    minutesWord.hidden = after.hidden;
    at.hidden = mode.value !== "at";
  };
  form.addEventListener("input", sync);
  form.addEventListener("change", sync);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sync();
    ctx.onSet();
  });
  if (st.error) {
    form.append(h("p", { className: "error", attrs: { role: "alert" }, dataset: { deadlineError: "", field: errField || "" } }, fieldErrorText(st.error)));
  } else if (st.message) {
    form.append(h("p", { className: "ok", attrs: { role: "status" }, dataset: { deadlineMessage: "" } }, st.message));
  }
  if (ctx.readOnly) {
    form.append(h("p", { className: "muted" }, "This token is read-only: setting or clearing a deadline needs the proxy's full token."));
  }
  sec.append(form);
  return sec;
}

/** How an audit entry ended, in words. */
export function outcomeText(o) {
  if (!o || o.kind === "unknown") return "unknown";
  if (o.kind === "ok") return "ok";
  return `error ${o.code || ""}${o.status ? ` (HTTP ${o.status})` : ""}`.trim();
}

/**
 * Audit entries as a list, newest first: when, caller, action, outcome, detail (and which
 * instance, with `instance`; `onOpen(key)` makes it a button that opens its details).
 */
export function auditList(entries, { instance = false, onOpen, isKnown } = {}) {
  const ol = h("ol", { className: "audit" });
  const now = Date.now();
  for (const e of entries) {
    const li = h("li", { className: "audit-entry", dataset: { seq: String(e.seq ?? ""), caller: e.caller, action: e.action, outcome: e.outcome?.kind || "unknown" } });
    const head = h("div", { className: "audit-head" });
    head.append(
      h("time", { className: "when", title: `${localTime(e.atMs)} (${timeTitle(e.atMs)})`, dateTime: Number.isFinite(e.atMs) ? new Date(e.atMs).toISOString() : "" }, `${ageText(e.atMs, now)} ago`),
      h("span", { className: "caller" }, e.caller),
      h("span", { className: "action" }, e.action),
      h("span", { className: `outcome outcome-${e.outcome?.kind || "unknown"}` }, outcomeText(e.outcome)),
    );
    li.append(head);
    const rest = h("div", { className: "audit-rest muted" });
    if (instance) {
      const key = e.instanceId ? `${e.provider}/${e.instanceId}` : null;
      const label = `${e.provider} ${e.instanceName || e.instanceId || "(no instance)"}`;
      if (key && onOpen && (!isKnown || isKnown(key))) {
        const b = h("button", { type: "button", className: "link", dataset: { open: key }, title: e.instanceId }, label);
        b.addEventListener("click", () => onOpen(key));
        rest.append(b);
      } else {
        rest.append(h("span", { title: e.instanceId || "" }, label));
      }
    }
    if (e.detail) rest.append(instance ? " · " : "", h("span", { className: "detail" }, e.detail));
    if (rest.childNodes.length) li.append(rest);
    ol.append(li);
  }
  return ol;
}
