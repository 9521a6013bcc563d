// Export of the current view: the rows the table shows (filtered and sorted, in its order) as CSV
// with the columns shown, or as JSON with each instance whole (as the API returns it, `raw`
// included). Built in the page and saved as a download; nothing goes to the proxy.

import { $ } from "./dom.js";
import { table } from "./fleet-view.js";
import { state } from "./state.js";
import { visibleColumns } from "./view-prefs.js";
import { moneyUsd, priceUsd } from "./money.js";

const num = (v) => (Number.isFinite(v) ? String(v) : "");
const iso = (ms) => (Number.isFinite(ms) ? new Date(ms).toISOString() : "");

/** The CSV columns of each table column: [header, value of a row]. Values are plain data, not the cells' display text. */
const CSV = {
  provider: [["Provider", (r) => r.inst.provider]],
  name: [["Name", (r) => r.inst.name ?? ""], ["ID", (r) => r.inst.id]],
  status: [["Status", (r) => r.inst.status ?? ""], ["Provider status", (r) => r.inst.providerStatus ?? ""]],
  type: [["Type", (r) => r.inst.instanceType ?? ""]],
  gpus: [["GPUs", (r) => num(r.inst.gpuCount)], ["GPU model", (r) => r.inst.gpuModel ?? ""]],
  region: [["Region", (r) => r.inst.region ?? ""]],
  ip: [["IP", (r) => r.inst.ip ?? ""]],
  age: [["Created", (r) => r.inst.createdAt ?? ""]],
  price: [["USD per hour", (r) => num(priceUsd(r.inst.price))], ["Price source", (r) => r.inst.price?.source ?? ""]],
  cost: [["Cost USD", (r) => num(moneyUsd(r.inst.cost?.amount))], ["Cost kind", (r) => r.inst.cost?.kind ?? ""]],
  deadline: [["Deadline action", (r) => r.deadline?.action ?? ""], ["Deadline at", (r) => iso(r.deadline?.atMs)], ["Deadline state", (r) => r.deadline?.state ?? ""]],
};

/**
 * One CSV field (RFC 4180 quoting). A value a spreadsheet would run as a formula (= + - @, tab,
 * CR) gets a leading apostrophe: provider strings are data, never formulas.
 */
export function csvField(v) {
  let s = String(v ?? "");
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function viewCsv(rows = table.view) {
  // Without the proxy's records there is no Deadline column to export.
  const cols = visibleColumns().filter(([k]) => k !== "deadline" || state.records !== "off").flatMap(([k]) => CSV[k] || []);
  const lines = [cols.map(([head]) => csvField(head)).join(",")];
  for (const r of rows) lines.push(cols.map(([, get]) => csvField(get(r))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

export function viewJson(rows = table.view) {
  return `${JSON.stringify(rows.map((r) => r.inst), null, 2)}\n`;
}

function stamp() {
  return new Date().toISOString().replace(/[:-]/g, "").replace(/\.\d+Z$/, "Z");
}

function download(text, type, name) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function initExport() {
  $("export-csv").addEventListener("click", () => download(viewCsv(), "text/csv;charset=utf-8", `gpufleet-instances-${stamp()}.csv`));
  $("export-json").addEventListener("click", () => download(viewJson(), "application/json", `gpufleet-instances-${stamp()}.json`));
}
