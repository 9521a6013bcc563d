// Polling: the proxy's providers and the token's access once, then the fleet (and its deadlines)
// every REFRESH_MS, doubling the interval up to MAX_REFRESH_MS while anything fails; paused while
// the tab is hidden. While the shared live view streams the fleet (live.js), the poll lists
// nothing itself: it reads only the deadlines (the proxy's D1, no provider call). The "updated
// N s ago" line and the page's countdowns tick once a second.

import { $, errorText } from "./dom.js";
import { tickCountdowns } from "./table.js";
import { tickDeadlines } from "./records.js";
import { LIST_TIMEOUT_MS, isAuthError, isRedirect, state } from "./state.js";
import { applyListing, rebuildRows, renderBanners, renderEmpty } from "./fleet-view.js";
import { loadBalancesIfDue } from "./fleet-money.js";
import { loadInstanceAudit } from "./audit-panel.js";
import { applyRecordsMode, loadHealth } from "./records-mode.js";
import { loadDeadlines } from "./deadlines.js";
import { signOut } from "./session.js";
import { dropLive, isLive, liveDue, liveRetryAt, refreshLive, startLive, stopLive } from "./live.js";

const REFRESH_MS = 10_000; // auto-refresh interval while everything answers
const MAX_REFRESH_MS = 160_000; // longest interval after repeated failures (doubling)

let timer = null;
let inflight = null;
let delay = REFRESH_MS;
let lastOk = 0;
let nextAt = 0;
let walkWanted = false; // the Refresh button while live: ask the live view for a walk now

async function loadProviders() {
  const [list, access] = await Promise.all([
    state.fleet.providers({ timeoutMs: LIST_TIMEOUT_MS }),
    state.fleet.access({ timeoutMs: LIST_TIMEOUT_MS }),
    loadHealth(),
  ]);
  state.caps = new Map(list.map((c) => [c.provider, c]));
  // Offer only what this token may do: the proxy refuses mutations from its read-only token.
  state.readOnly = access === "readOnly";
  $("read-only").hidden = !state.readOnly;
  $("fleet").classList.toggle("read-only", state.readOnly); // no select boxes: no bulk actions
  $("new-instance").hidden = state.readOnly || !list.some((c) => c.operations.includes("create"));
  applyRecordsMode();
}

/** A refresh now. `walk`: after a change made here, ask the live view (when live) for a walk now
 * rather than at its next interval (shared with every console asking at once). */
export function refresh({ walk = false } = {}) {
  if (walk) walkWanted = true;
  if (!state.fleet) return Promise.resolve();
  if (inflight) return inflight;
  clearTimeout(timer);
  timer = null;
  inflight = doRefresh().finally(() => {
    inflight = null;
    schedule();
    tick();
  });
  tick();
  return inflight;
}

/** The Refresh button: now, and back to the normal interval. */
export function refreshNow() {
  delay = REFRESH_MS;
  walkWanted = true;
  refresh();
}

/** The live view's last complete walk began at `ms`: the "updated" line counts from it. */
export function noteUpdated(ms) {
  lastOk = ms;
  tick();
}

/** Sign-out: no next poll, and the next session starts at the normal interval. */
export function stopPolling() {
  stopLive();
  clearTimeout(timer);
  timer = null;
  delay = REFRESH_MS;
  lastOk = 0;
}

async function doRefresh() {
  const f = state.fleet;
  let failed = false;
  $("refresh").disabled = true;
  try {
    if (!state.caps.size) await loadProviders();
    if (liveDue()) await startLive();
    if (isLive()) {
      // A failed refresh is kept as its error (null: none asked, or it worked).
      const refreshed = walkWanted ? refreshLive().then(() => null, (e) => e) : null;
      walkWanted = false;
      const [failure] = await Promise.all([refreshed, loadDeadlines(f)]);
      if (!failure) {
        state.globalError = null;
        rebuildRows(); // the deadlines just read, joined to the rows the stream gave
        renderBanners();
        return;
      }
      // The live view cannot be reached: this tab lists the fleet itself, below.
      dropLive(`its refresh failed: ${errorText(failure)}`);
    }
    walkWanted = false;
    // The deadlines come with every poll: one call for the whole fleet, joined to the rows.
    const [listing] = await Promise.all([f.listAll(null, { timeoutMs: LIST_TIMEOUT_MS }), loadDeadlines(f)]);
    if (f !== state.fleet) return; // signed out meanwhile
    state.globalError = null;
    applyListing(listing);
    if (state.selectedKey) loadInstanceAudit(state.selectedKey, { quiet: true });
    failed = listing.errors.length > 0;
    lastOk = Date.now();
  } catch (e) {
    if (f !== state.fleet) return;
    if (state.viaAccess && isAuthError(e)) return signOut(`The proxy did not accept your Cloudflare Access sign-in: ${errorText(e)}. Enter a token instead.`);
    if (state.viaAccess && isRedirect(e)) return signOut("Your Cloudflare Access session has ended: reload the page to sign in again.");
    if (isAuthError(e)) return signOut(`The proxy did not accept the token: ${errorText(e)}`);
    failed = true;
    state.globalError = e;
    renderBanners();
  } finally {
    $("refresh").disabled = false;
    $("loading").hidden = true;
    if (f === state.fleet) {
      delay = failed ? Math.min(delay * 2, MAX_REFRESH_MS) : REFRESH_MS;
      if (!state.listedOnce) renderEmpty(0, 0);
    }
  }
}

function schedule() {
  clearTimeout(timer);
  timer = null;
  nextAt = 0;
  if (!state.fleet || document.hidden) return;
  nextAt = Date.now() + delay;
  timer = setTimeout(refresh, delay);
}

document.addEventListener("visibilitychange", () => {
  if (!state.fleet) return;
  if (document.hidden) {
    // Paused while nobody looks: no polling of the proxy (and the providers) from a hidden tab,
    // and no live stream (the live view walks only while some console watches).
    stopLive({ forget: false });
    clearTimeout(timer);
    timer = null;
    nextAt = 0;
  } else if (!inflight) {
    if (Date.now() - lastOk >= delay) refresh();
    else schedule();
  }
  if (!document.hidden) loadBalancesIfDue();
  tick();
});

/** The "updated N s ago" line, once a second. */
function tick() {
  if (!state.fleet) return;
  const parts = [];
  if (inflight) parts.push("Updating…");
  else if (lastOk) parts.push(`Updated ${Math.max(0, Math.round((Date.now() - lastOk) / 1000))} s ago`);
  else parts.push("Not updated yet");
  const liveRetry = liveRetryAt();
  if (document.hidden) parts.push("paused while hidden");
  else if (liveRetry) parts.push(`retrying in ${Math.max(0, Math.ceil((liveRetry - Date.now()) / 1000))} s`);
  else if (!inflight && nextAt && delay > REFRESH_MS) parts.push(`retrying in ${Math.max(0, Math.ceil((nextAt - Date.now()) / 1000))} s`);
  $("updated").textContent = parts.join(" · ");
}
setInterval(() => {
  if (document.hidden) return;
  tick();
  tickCountdowns(document); // spot reclaim countdowns in the rows and the details panel
  tickDeadlines(document); // deadline countdowns, likewise
}, 1000);
