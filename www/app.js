// gpufleet console: every instance on every provider this proxy holds keys for, through the
// gpufleet package itself in proxy mode (`new Fleet({ proxy: { url: "/api", token } })`). The page
// holds only the proxy's token (sessionStorage, this tab), or none behind Cloudflare Access
// (session.js); provider keys never reach it.
//
// Every provider string is rendered with textContent (see dom.js); nothing here builds HTML.
//
// This file is the entry: it wires the page's controls to the parts below and boots. One job a
// module:
//   session.js        the package, the token, sign-in and sign-out (which forgets everything)
//   poll.js           the refresh loop: providers once, the fleet and its deadlines, backoff, paused while hidden
//   state.js          what more than one part reads: the fleet, the providers, the rows, the selection, the records mode
//   fleet-view.js     a listing into rows; banners, filter chips, counts, empty states, toasts
//   fleet-money.js    burn rate, cost so far and balances above the table
//   details-panel.js  the selected instance: its panel, SSH, lifecycle actions and their watches
//   records-mode.js   whether the proxy keeps records (deadlines, audit log, orphans)
//   deadlines.js      the fleet's deadlines and the Deadline form's set and clear
//   audit-panel.js    an instance's History and the Audit log panel
//   orphans-panel.js  the Orphans panel
//   create-panel.js   the create form, its offers and price, the create
//   view-prefs.js     compact rows and the columns shown (this browser's choice, localStorage)
//   url-state.js      filter, chips, sort, grouping and the open instance in the URL (links, reload, back)
//   export.js         CSV and JSON export of the rows shown
//   bulk.js           select rows; stop, terminate or delete them all, confirmed once, with progress
// and the renderers they use: table.js (the virtualized table), details.js, records.js,
// create.js, offers.js, money.js, dom.js. The parts call one another (a panel re-renders the
// rows, the rows re-render the open panel); every module only defines at load, and nothing runs
// before boot() below.

import { $ } from "./dom.js";
import { boot, signOutByUser, submitLogin } from "./session.js";
import { refreshNow } from "./poll.js";
import { renderChips, table } from "./fleet-view.js";
import { closeDetails } from "./details-panel.js";
import { loadAudit, openAudit } from "./audit-panel.js";
import { loadOrphans, openOrphans } from "./orphans-panel.js";
import { buildCreateFields, openCreate, submitCreate, updateCreatePrice } from "./create-panel.js";
import { initViewPrefs } from "./view-prefs.js";
import { initUrlState } from "./url-state.js";
import { initExport } from "./export.js";
import { initBulk } from "./bulk.js";

$("login").addEventListener("submit", submitLogin);
$("refresh").addEventListener("click", refreshNow);
$("logout").addEventListener("click", signOutByUser);
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
// Keyboard: `/` focuses the filter, `j`/`k` move down/up the rows, Enter opens the focused row
// (table.js), Esc closes the topmost panel (or leaves the filter). Letters typed into a field
// stay there.
function typing(el) {
  return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}
document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || $("main").hidden) return;
  if (ev.key === "/" && !typing(ev.target)) {
    ev.preventDefault();
    $("filter").focus();
    $("filter").select();
  } else if ((ev.key === "j" || ev.key === "k") && !typing(ev.target)) {
    ev.preventDefault();
    table.moveCursor(ev.key === "j" ? 1 : -1);
  }
});
document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Escape") return;
  if (ev.target === $("filter") && $("details").hidden && $("create").hidden) $("filter").blur();
  else if (!$("create").hidden) $("create").hidden = true;
  else if (!$("details").hidden) closeDetails();
  else if (!$("bulk-confirm").hidden) $("bulk-confirm").querySelector("[data-bulk-cancel]")?.click();
  else if (!$("audit").hidden) $("audit").hidden = true;
  else if (!$("orphans").hidden) $("orphans").hidden = true;
});

initViewPrefs(() => {
  table.range = null;
  table.renderWindow(true);
});
initUrlState();
initExport();
initBulk();
boot();
