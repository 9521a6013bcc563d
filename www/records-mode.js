// Whether the proxy keeps records (deadlines, the audit log, orphans: only with a D1 database).
// `/healthz` says so at sign-in, and any records call that answers `unsupported` turns them off
// for the session; off, the page shows one notice and none of the records' controls.

import { $ } from "./dom.js";
import { state } from "./state.js";
import { rebuildRows, renderBanners } from "./fleet-view.js";

/** A records call's answer when the proxy keeps no records (503 `unsupported`). */
export const isRecordsOff = (e) => e && e.code === "unsupported";

/** `/healthz` (no token needed): its answer, or null when it cannot be read. */
export async function readHealth() {
  try {
    const r = await fetch("/healthz", { cache: "no-store", headers: { accept: "application/json" } });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

/** Whether the proxy keeps records, from `/healthz`; unknown if it cannot be read (the records
 * calls themselves then say: an `unsupported` answer turns them off). */
export async function loadHealth() {
  const body = await readHealth();
  if (body && body.records === "none") setRecords("off");
  else if (body && body.records === "d1") setRecords("on");
}

/** "on" or "off" from here on; "off" stays for the session. */
export function setRecords(mode) {
  if (state.records === mode || (state.records === "off" && mode !== "off")) return;
  state.records = mode;
  applyRecordsMode();
}

/** One notice when the proxy keeps no records, and none of their controls; else the controls. */
export function applyRecordsMode() {
  const off = state.records === "off";
  $("records-notice").hidden = !off || !state.fleet;
  $("fleet").classList.toggle("no-records", off);
  $("audit-open").hidden = off || !state.fleet;
  $("orphans-open").hidden = off || !state.fleet;
  if (off) {
    state.deadlinesByKey = new Map();
    state.deadlinesError = null;
    $("audit").hidden = true;
    $("orphans").hidden = true;
    if (state.listedOnce) {
      rebuildRows();
      renderBanners();
    }
  }
}
