// The details panel of one instance: every normalized field, the provider's raw record as JSON,
// copy buttons, and the lifecycle actions the provider supports (each behind a confirm step).

import { h, ageText, copyText } from "./dom.js";
import { attention, statusSince } from "./status-since.js";
import { statusBadge, reclaimLine } from "./table.js";
import { costKindText, costTitle, moneyUsd, perHourText, priceUsd, sourceText, usdText } from "./money.js";

/**
 * Lifecycle actions in display order, with the status each one waits for. Which of them an
 * instance is offered is the library's rule (`fleet.actionsFor(instance)`: its provider's
 * capabilities narrowed by its status), passed in as `ctx.actions`.
 */
export const ACTIONS = [
  { op: "start", label: "Start", target: "running", danger: false, says: "starts it again" },
  { op: "stop", label: "Stop", target: "stopped", danger: false, says: "stops it; it can be started again" },
  { op: "restart", label: "Restart", target: "running", danger: false, says: "restarts it" },
  { op: "terminate", label: "Terminate", target: "terminated", danger: true, says: "ends it for good; it can be deleted afterwards" },
  { op: "delete", label: "Delete", target: "terminated", danger: true, says: "deletes it and everything on it; this cannot be undone" },
];

/**
 * Fields a provider never sends (its documentation and answers have no such field), so an empty
 * cell says why rather than looking like missing data: fal's instance records carry no creation
 * time, and fal alpha's no region either.
 */
const NOT_SENT = {
  fal: { created: "fal does not report when an instance was created" },
  "fal-alpha": { created: "fal alpha does not report when an instance was created", region: "fal alpha does not report a region" },
};

function notSent(inst, what) {
  const text = NOT_SENT[inst.provider]?.[what];
  return text ? h("small", { className: "muted note", dataset: { notSent: what } }, text) : null;
}

function dash() {
  return h("span", { className: "muted" }, "—");
}

function copyButton(text, what) {
  const b = h("button", { type: "button", className: "copy", dataset: { copy: what } }, "Copy");
  b.setAttribute("aria-label", `Copy the ${what}`);
  b.addEventListener("click", async () => {
    const ok = await copyText(text);
    b.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (b.textContent = "Copy"), 1500);
  });
  return b;
}

function field(dl, label, value, extra) {
  dl.append(h("dt", {}, label));
  const dd = h("dd", {});
  if (value === undefined || value === null || value === "") dd.append(dash());
  else dd.append(value instanceof Node ? value : h("span", { className: "value" }, String(value)));
  if (extra) dd.append(" ", extra);
  dl.append(dd);
  return dd;
}

/**
 * Builds the panel body for `row`.
 * @param {object} row  the table row model ({ key, inst, providerName, stale, transition })
 * @param {object} ctx
 *   caps            the provider's Capabilities (or undefined)
 *   actions         the operations the instance's state allows (fleet.actionsFor), or undefined
 *   readOnly        the token may only read: no actions are offered
 *   confirm         the op awaiting confirmation for this instance, or null
 *   message         {kind: "error"|"ok", text} shown above the actions, or null
 *   ssh             {state: "loading"|"ok"|"error", details?, error?} for SF Compute, or null
 *   afterActions    nodes put after the actions (the Deadline section), or undefined
 *   beforeRaw       nodes put before the raw record (the History section), or undefined
 *   onAsk(op) / onConfirm(op) / onCancel() / onStopWatching() / onSsh()
 */
export function renderDetails(row, ctx) {
  const i = row.inst;
  const out = document.createDocumentFragment();

  if (row.stale) {
    out.append(h("p", { className: "banner banner-warn" }, `${row.providerName} is failing: this is the last known state of the instance.`));
  }
  if (row.gone) {
    out.append(h("p", { className: "banner banner-warn" }, "This instance is no longer listed by its provider."));
  }

  // ---- actions ----
  const ops = ctx.caps ? ctx.caps.operations : [];
  const supported = ACTIONS.filter((a) => ops.includes(a.op));
  const allowed = ctx.actions || [];
  const available = supported.filter((a) => allowed.includes(a.op));
  const actions = h("section", { className: "detail-actions", attrs: { "aria-label": "Actions" } });
  if (ctx.message) {
    actions.append(h("p", { className: ctx.message.kind === "error" ? "error" : "ok", attrs: { role: ctx.message.kind === "error" ? "alert" : "status" } }, ctx.message.text));
  }
  if (row.transition) {
    const t = row.transition;
    const p = h("p", { className: "transition-line", attrs: { role: "status" } });
    p.append(h("span", { className: "spinner", attrs: { "aria-hidden": "true" } }), ` ${t.label}: now ${i.status} (${i.providerStatus || "no provider status"}), waiting for ${t.target}…`);
    const stop = h("button", { type: "button" }, "Stop watching");
    stop.addEventListener("click", ctx.onStopWatching);
    actions.append(p, stop);
  } else if (ctx.confirm) {
    const a = ACTIONS.find((x) => x.op === ctx.confirm);
    const box = h("div", { className: "confirm", attrs: { role: "group", "aria-label": "Confirm" } });
    box.append(h("p", {}, `${a.label} ${row.providerName} instance “${i.name || i.id}”? This ${a.says}.`));
    const yes = h("button", { type: "button", className: a.danger ? "danger" : "primary", dataset: { confirm: a.op } }, `Yes, ${a.label.toLowerCase()}`);
    yes.addEventListener("click", () => ctx.onConfirm(a.op));
    const no = h("button", { type: "button" }, "Cancel");
    no.addEventListener("click", ctx.onCancel);
    box.append(yes, " ", no);
    actions.append(box);
  } else if (ctx.readOnly && supported.length) {
    actions.append(h("p", { className: "muted" }, "This token is read-only: starting, stopping and deleting need the proxy's full token."));
  } else if (available.length && !row.gone) {
    const bar = h("div", { className: "buttons" });
    for (const a of available) {
      const b = h("button", { type: "button", className: a.danger ? "danger-outline" : "", dataset: { action: a.op } }, a.label);
      b.addEventListener("click", () => ctx.onAsk(a.op));
      bar.append(b);
    }
    actions.append(bar);
  } else if (!supported.length) {
    actions.append(h("p", { className: "muted" }, `${row.providerName} offers no lifecycle actions here.`));
  } else if (!available.length && !row.gone) {
    actions.append(h("p", { className: "muted" }, `No action applies to a ${i.status} instance.`));
  }
  out.append(actions);
  // The deadline (details-panel.js, records.js), when the proxy keeps records.
  if (ctx.afterActions) out.append(...ctx.afterActions);

  // ---- normalized fields ----
  const dl = h("dl", { className: "fields" });
  field(dl, "Provider", `${row.providerName} (${i.provider})`);
  field(dl, "Id", h("code", {}, i.id), copyButton(i.id, "id"));
  field(dl, "Name", i.name);
  field(dl, "Status", statusBadge(i, row.stale));
  const since = statusSince(i);
  const flag = attention(i, since);
  field(
    dl,
    "In this status",
    `${ageText(since.at)}${flag === "stuck" ? " (stuck?)" : ""}`,
    h("small", { className: "muted note" }, since.fromProvider ? `since ${new Date(since.at).toISOString().replace(".000Z", "Z")} (the provider's ${since.field})` : "since this console first saw it"),
  );
  field(dl, "Provider status", i.providerStatus);
  field(dl, "Status reason", i.statusReason);
  field(dl, "Instance type", i.instanceType);
  field(dl, "GPUs", i.gpuCount);
  field(dl, "GPU model", i.gpuModel);
  field(dl, "Region / cluster", i.region, i.region ? null : notSent(i, "region"));
  field(dl, "Sector", i.sector);
  // The IP field agrees with the SSH access: no address but an SSH host says where SSH goes.
  field(dl, "IP", i.ip ? h("code", {}, i.ip) : i.ssh ? h("span", { className: "muted" }, `none given; SSH goes to ${i.ssh.host}`) : null, i.ip ? copyButton(i.ip, "IP") : null);
  if (i.ssh) {
    field(dl, "SSH host", `${i.ssh.host}:${i.ssh.port}`);
    field(dl, "SSH user", i.ssh.user);
    field(dl, "SSH command", i.ssh.command && h("code", {}, i.ssh.command), i.ssh.command ? copyButton(i.ssh.command, "SSH command") : null);
  } else {
    field(dl, "SSH", null);
  }
  field(dl, "Created", i.createdAt && `${i.createdAt} (${ageText(Date.parse(i.createdAt))} ago)`, i.createdAt ? null : notSent(i, "created"));
  if (i.startedAt) field(dl, "Started", i.startedAt);
  if (i.stoppedAt) field(dl, "Stopped", i.stoppedAt);
  if (i.offerId) field(dl, "Offer id", h("code", {}, i.offerId));
  // Money: the library's figures, or why there are none (never a guess).
  const price = priceUsd(i.price);
  const note = (text) => (text ? h("small", { className: "muted note" }, text) : null);
  field(
    dl,
    "Price",
    Number.isFinite(price) ? `${i.price.source === "quote" ? "≈" : ""}${perHourText(price)} — ${sourceText(i.price.source)}` : null,
    note([Number.isFinite(price) && typeof i.price.basis === "string" ? i.price.basis : "", typeof i.priceNote === "string" ? i.priceNote : ""].filter(Boolean).join("; ")),
  );
  const cost = moneyUsd(i.cost?.amount);
  field(dl, "Cost so far", Number.isFinite(cost) ? `${usdText(cost)} (${costKindText(i.cost.kind)})` : null, note(costTitle(i)));
  const tags = i.tags && Object.keys(i.tags).length ? h("ul", { className: "tags" }, Object.entries(i.tags).map(([k, v]) => h("li", {}, h("code", {}, k), " = ", h("code", {}, v)))) : null;
  field(dl, "Tags", tags);
  // The 2026 fields, only where the provider sends them (SF Compute, Novita).
  if (i.pool) field(dl, "Pool", h("span", {}, i.pool.name ? `${i.pool.name} ` : "", h("code", {}, i.pool.id)));
  if (i.priorityLevel !== undefined) field(dl, "Priority level", i.priorityLevel);
  if (i.managedBy) {
    const m = i.managedBy;
    field(dl, "Managed by", h("span", {}, `${m.kind}: `, m.name ? `${m.name} ` : "", h("code", {}, m.id)));
  }
  if (i.publicIpv4 !== undefined) field(dl, "Public IPv4", i.publicIpv4 ? "yes" : "no (only SSH is reachable)");
  if (i.billingMode !== undefined) field(dl, "Billing", i.billingMode);
  if (i.spot) {
    field(dl, "Spot status", i.spot.status);
    const line = reclaimLine(i.spot);
    field(dl, "Spot reclaim", i.spot.reclaimAt ? h("span", {}, h("code", {}, i.spot.reclaimAt), line ? " · " : "", line) : line || "none scheduled");
  }
  out.append(h("h3", {}, "Fields"), dl);

  // ---- SSH details on request (SF Compute) ----
  if (ops.includes("ssh")) {
    const sec = h("section", { className: "ssh" });
    sec.append(h("h3", {}, "SSH"));
    const s = ctx.ssh;
    if (!s) {
      const b = h("button", { type: "button", dataset: { action: "ssh" } }, "Get SSH details");
      b.addEventListener("click", ctx.onSsh);
      sec.append(b);
    } else if (s.state === "loading") {
      sec.append(h("p", { className: "muted" }, "Asking the provider…"));
    } else if (s.state === "error") {
      sec.append(h("p", { className: "error" }, s.error));
      const b = h("button", { type: "button", dataset: { action: "ssh" } }, "Try again");
      b.addEventListener("click", ctx.onSsh);
      sec.append(b);
    } else {
      const d = s.details;
      const command = d.port === 22 ? `ssh ${d.host}` : `ssh -p ${d.port} ${d.host}`;
      const sdl = h("dl", { className: "fields" });
      field(sdl, "Host", h("code", {}, d.host));
      field(sdl, "Port", d.port);
      field(sdl, "SSH command", h("code", {}, command), copyButton(command, "SSH command"));
      const keys = (d.hostKeys || []).map((k) => h("li", {}, h("code", { className: "wrap" }, `${k.keyType} ${k.key}`)));
      field(sdl, "Host keys", keys.length ? h("ul", { className: "tags" }, keys) : null);
      field(sdl, "Keys updated", d.lastSuccessfulKeyUpdateAt);
      sec.append(sdl);
    }
    out.append(sec);
  }

  // The instance's audit entries, when the proxy keeps records.
  if (ctx.beforeRaw) out.append(...ctx.beforeRaw);

  // ---- raw ----
  const raw = JSON.stringify(i.raw, null, 2);
  const rawHead = h("h3", {}, `Raw ${row.providerName} record `);
  rawHead.append(copyButton(raw, "raw record"));
  out.append(rawHead, h("pre", { className: "raw", tabIndex: 0 }, raw));
  return out;
}
