// This browser's way of showing the table: compact (one-line) rows and the columns shown. Kept in
// localStorage (per browser, across tabs and reloads), not in the URL: a link someone shares shows
// the same instances, laid out the way its reader likes.

import { $, h } from "./dom.js";
import { COLUMNS } from "./table.js";

const KEY = "gpufleet.view";
/** Columns that cannot be hidden: without them a row says nothing. */
const ALWAYS = new Set(["name"]);

let prefs = { compact: false, hidden: [] };

function load() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || "{}");
    const known = new Set(COLUMNS.map(([k]) => k));
    prefs = {
      compact: v.compact === true,
      hidden: Array.isArray(v.hidden) ? v.hidden.filter((k) => known.has(k) && !ALWAYS.has(k)) : [],
    };
  } catch {
    prefs = { compact: false, hidden: [] }; // unreadable or blocked storage: the defaults
  }
}

function save() {
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Storage blocked (private mode, quota): the choice holds for this page only.
  }
}

/** The columns shown, in table order (export.js writes these to CSV). */
export function visibleColumns() {
  return COLUMNS.filter(([k]) => !prefs.hidden.includes(k));
}

function apply(onLayout) {
  const t = $("fleet");
  t.classList.toggle("compact", prefs.compact);
  for (const [k] of COLUMNS) t.classList.toggle(`hide-${k}`, prefs.hidden.includes(k));
  $("density").setAttribute("aria-pressed", String(prefs.compact));
  for (const box of $("column-list").querySelectorAll("input[data-col]")) box.checked = !prefs.hidden.includes(box.dataset.col);
  onLayout();
}

/** Reads the saved choice, builds the column chooser and wires the controls. `onLayout`: row height or columns changed. */
export function initViewPrefs(onLayout) {
  load();
  const list = $("column-list");
  list.replaceChildren(
    ...COLUMNS.map(([k, label]) => {
      const box = h("input", { type: "checkbox", disabled: ALWAYS.has(k), dataset: { col: k } });
      box.addEventListener("change", () => {
        prefs.hidden = box.checked ? prefs.hidden.filter((x) => x !== k) : [...prefs.hidden, k];
        save();
        apply(onLayout);
      });
      return h("label", {}, box, label);
    }),
  );
  $("density").addEventListener("click", () => {
    prefs.compact = !prefs.compact;
    save();
    apply(onLayout);
  });
  apply(onLayout);
}
