// The Orphans panel: the proxy's report of forgotten GPUs (fleet.orphans(): live instances older
// than the chosen age with no pending deadline and no recorded create), each row opening its
// instance's details when the table has it.

import { $, h, clock, durationText, plural } from "./dom.js";
import { STATUSES } from "./table.js";
import { fieldErrorText } from "./records.js";
import { LIST_TIMEOUT_MS, displayName, state } from "./state.js";
import { isRecordsOff, setRecords } from "./records-mode.js";
import { closeDetails, openDetails } from "./details-panel.js";

let orphanState = null; // { loading } | { report } | { error }
let orphanSeq = 0;

/** Sign-out: no report kept. */
export function forgetOrphans() {
  orphanState = null;
}

export function openOrphans() {
  if (!state.fleet || state.records === "off") return;
  closeDetails();
  $("create").hidden = true;
  $("audit").hidden = true;
  $("orphans").hidden = false;
  loadOrphans();
  $("orphans-close").focus();
}

export async function loadOrphans() {
  const f = state.fleet;
  if (!f || state.records === "off") return;
  const olderThanMs = Number($("orphans-age").value);
  const seq = ++orphanSeq;
  orphanState = { loading: true };
  renderOrphans();
  try {
    const report = await f.orphans({ olderThanMs }, { timeoutMs: LIST_TIMEOUT_MS });
    if (f !== state.fleet || seq !== orphanSeq) return;
    orphanState = { report };
  } catch (error) {
    if (f !== state.fleet || seq !== orphanSeq) return;
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
      const open = state.rowsByKey.has(key)
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
