// The view in the URL: filter text, provider and status chips, sort, grouping and the open
// instance, as query parameters (?q=…&p=fal,novita&s=running&sort=-price&group=region&open=fal/abc).
// A link shows the same view to whoever opens it, a reload restores it, and the back button
// walks back through chips, sorts, groupings and opened instances (typing in the filter replaces
// the current entry instead of adding one a keystroke). The token never goes here (session.js).

import { $, h } from "./dom.js";
import { state } from "./state.js";
import { table, renderChips } from "./fleet-view.js";
import { tagKeys } from "./table.js";
import { closeDetails, openDetails } from "./details-panel.js";

let applying = false; // while the URL is being applied, the view's changes are not written back
let textTimer = 0; // the pending write of a filter text change
let pendingText = null; // its URL
let pendingOpen = null; // an instance the URL opens, until the first listing shows whether it exists

const list = (v) => (v ? v.split(",").filter(Boolean) : []);

/** The query string of the view as it is now ("" for the default view). */
function currentQuery() {
  const f = table.filter;
  const q = new URLSearchParams();
  if (f.text) q.set("q", f.text);
  if (f.providers.size) q.set("p", [...f.providers].sort().join(","));
  if (f.statuses.size) q.set("s", [...f.statuses].sort().join(","));
  if (table.sort.key !== "provider" || table.sort.dir !== 1) q.set("sort", `${table.sort.dir < 0 ? "-" : ""}${table.sort.key}`);
  if (table.groupBy) q.set("group", table.groupBy);
  const open = pendingOpen ?? state.selectedKey;
  if (open) q.set("open", open);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Writes the view to the URL: a new history entry unless only the filter text changed. */
function writeUrl() {
  if (applying) return;
  const next = currentQuery();
  if (next === location.search) {
    clearTimeout(textTimer); // typed back to what the URL says
    pendingText = null;
    return;
  }
  const before = new URLSearchParams(location.search);
  const after = new URLSearchParams(next);
  before.delete("q");
  after.delete("q");
  const onlyText = before.toString() === after.toString();
  clearTimeout(textTimer);
  const url = location.pathname + next + location.hash;
  if (onlyText) {
    // Typing edits the current entry, written once the typing pauses (off the filter's render path).
    pendingText = url;
    textTimer = setTimeout(flushText, 250);
  } else {
    flushText(); // the typing before this change belongs to the entry being left
    history.pushState(null, "", url);
  }
}

function flushText() {
  clearTimeout(textTimer);
  if (pendingText !== null) history.replaceState(null, "", pendingText);
  pendingText = null;
}

/** Applies the URL's view to the table, the filter box, the grouping and the details panel. */
function applyUrl() {
  clearTimeout(textTimer);
  pendingText = null;
  const q = new URLSearchParams(location.search);
  applying = true;
  try {
    const text = q.get("q") ?? "";
    $("filter").value = text;
    table.filter = { text, providers: new Set(list(q.get("p"))), statuses: new Set(list(q.get("s"))) };
    const sort = q.get("sort") || "provider";
    table.setSort({ key: sort.replace(/^-/, ""), dir: sort.startsWith("-") ? -1 : 1 });
    table.setGroup(q.get("group") || "");
    syncGroupMenu();
    renderChips();
    const open = q.get("open");
    if (open && state.rowsByKey.has(open)) {
      if (state.selectedKey !== open) openDetails(open);
    } else if (open && !state.listedOnce) {
      pendingOpen = open;
    } else if (!open && state.selectedKey) {
      closeDetails();
    }
  } finally {
    applying = false;
  }
}

let menuRows = null; // the rows the "Group by" menu's tag entries were read from
let menuKeys = "";

/**
 * The "Group by" menu: the fixed entries, then "tag: KEY" for every tag key of the fleet (and the
 * URL's own, before the fleet is listed), showing the table's grouping.
 */
function syncGroupMenu() {
  const select = $("group-by");
  if (menuRows !== table.rows) {
    menuRows = table.rows;
    const keys = tagKeys(table.rows);
    const own = table.groupBy.startsWith("tag:") ? table.groupBy.slice(4) : null;
    if (own !== null && !keys.includes(own)) keys.push(own);
    const sig = JSON.stringify(keys);
    if (sig !== menuKeys) {
      menuKeys = sig;
      for (const o of [...select.options]) if (o.value.startsWith("tag:")) o.remove();
      for (const k of keys) select.append(h("option", { value: `tag:${k}` }, `tag: ${k}`));
    }
  }
  if (select.value !== table.groupBy) select.value = table.groupBy;
}

/** After every re-filter, sort and selection: opens the URL's instance once it is listed, writes the URL. */
function onView() {
  syncGroupMenu();
  if (pendingOpen && state.listedOnce) {
    const key = pendingOpen;
    pendingOpen = null;
    // Outside the table's render: opening re-renders the rows' selection.
    if (state.rowsByKey.has(key)) queueMicrotask(() => openDetails(key));
    else queueMicrotask(writeUrl); // gone since the link was made: the URL stops naming it
    return;
  }
  writeUrl();
}

export function initUrlState() {
  applyUrl();
  table.viewListeners.push(onView);
  window.addEventListener("popstate", applyUrl);
  $("group-by").addEventListener("change", (ev) => table.setGroup(ev.target.value));
}
