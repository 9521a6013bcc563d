// The shared live view: one stream from the proxy (`GET /api/v1/live`, Server-Sent Events read
// with fetch so the token can go in a header) instead of this tab listing every provider every
// 10 s. The proxy's FleetLive Durable Object walks the providers once per interval for every open
// console and pushes what changed; twenty consoles cost the providers what one does.
//
// When the proxy has no live view (503), the stream cannot be opened, or it goes quiet, the
// console polls (poll.js) and tries the stream again later, doubling the wait. The top bar says
// which mode it is in. A hidden tab closes its stream (no walks for nobody) and reopens it when seen.

import { $ } from "./dom.js";
import { LIST_TIMEOUT_MS, state } from "./state.js";
import { applyListing } from "./fleet-view.js";
import { showPushedBalances } from "./fleet-money.js";
import { noteUpdated, refresh } from "./poll.js";
import { authHeaders } from "./session.js";

const RETRY_MIN_MS = 15_000; // first wait before trying the stream again after it failed
const RETRY_MAX_MS = 300_000;
const QUIET_INTERVALS = 3; // no event (heartbeats included) for this many intervals: the stream is dead

const live = {
  mode: "off", // "off" | "connecting" | "live" | "polling"
  reason: "", // why polling
  ctrl: null,
  instances: new Map(), // "provider/id" → instance
  errors: [],
  cost: null,
  walkedAt: 0,
  nextWalkAt: 0,
  filling: false,
  walking: null,
  intervalMs: 10_000,
  lastEventAt: 0,
  nextTryAt: 0,
  retryMs: RETRY_MIN_MS,
  watchdog: null,
};

/** Whether the fleet comes from the live view now (poll.js then lists nothing itself). */
export const isLive = () => live.mode === "live";

/** While the live view backs off (a provider failing): when its next walk is, else 0. */
export const liveRetryAt = () => (isLive() && live.nextWalkAt - live.walkedAt > live.intervalMs ? live.nextWalkAt : 0);

/** The live view stopped working (its refresh failed): poll instead, and try it again later. */
export function dropLive(reason) {
  if (live.ctrl) fail(live.ctrl, reason, () => {});
}

/** Whether poll.js should try to open the stream before listing. */
export const liveDue = () => (live.mode === "off" || live.mode === "polling") && Date.now() >= live.nextTryAt;

/**
 * Opens the stream; resolves once its snapshot has arrived (true) or it could not be opened
 * (false: the console polls, and tries again later).
 */
export function startLive() {
  stopStream();
  live.mode = "connecting";
  renderMode();
  const ctrl = new AbortController();
  live.ctrl = ctrl;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok) => {
      if (!settled) resolve(ok);
      settled = true;
    };
    const timer = setTimeout(() => fail(ctrl, "the live view did not answer in time", settle), LIST_TIMEOUT_MS);
    fetch("/api/v1/live", { headers: { accept: "text/event-stream", ...authHeaders() }, signal: ctrl.signal, cache: "no-store" })
      .then(async (r) => {
        if (r.status !== 200) {
          const body = await r.json().catch(() => null);
          const why = body?.error?.message || `HTTP ${r.status}`;
          // 503 unsupported: this proxy has no live view; polling is the answer, retried rarely.
          return fail(ctrl, r.status === 503 ? "the proxy has no live view" : `the live view refused: ${why}`, settle, r.status === 503);
        }
        await read(r.body, ctrl, () => {
          clearTimeout(timer);
          live.mode = "live";
          live.retryMs = RETRY_MIN_MS;
          renderMode();
          settle(true);
        });
        // The stream ended (the proxy restarted, a network change): poll until it is back.
        fail(ctrl, "the live stream ended", settle);
      })
      .catch(() => fail(ctrl, "the live stream could not be opened or broke", settle))
      .finally(() => clearTimeout(timer));
  });
}

function fail(ctrl, reason, settle, rarely = false) {
  if (ctrl !== live.ctrl) return settle(false); // a stream already replaced
  const wasLive = live.mode === "live";
  stopStream();
  live.mode = "polling";
  live.reason = reason;
  live.nextTryAt = Date.now() + (rarely ? RETRY_MAX_MS : live.retryMs);
  live.retryMs = Math.min(live.retryMs * 2, RETRY_MAX_MS);
  renderMode();
  settle(false);
  if (wasLive) refresh(); // list now rather than show a frozen fleet until the next poll
}

function stopStream() {
  clearInterval(live.watchdog);
  live.watchdog = null;
  if (live.ctrl) live.ctrl.abort();
  live.ctrl = null;
}

/** Sign-out, or a hidden tab: the stream closes; `forget` also drops what it showed. */
export function stopLive({ forget = true } = {}) {
  stopStream();
  live.mode = "off";
  live.nextTryAt = 0;
  if (forget) {
    live.instances = new Map();
    live.errors = [];
    live.cost = null;
    live.walkedAt = 0;
    live.retryMs = RETRY_MIN_MS;
  }
  renderMode();
}

/** What this console learned of one instance itself (an action's wait, a create; `null`: gone):
 * kept in the live fleet until the live view sends that instance again. */
export function noteSeen(key, inst) {
  if (live.mode !== "live") return;
  if (inst) live.instances.set(key, inst);
  else live.instances.delete(key);
}

/** The Refresh button while live: a walk now, shared with every console asking at once. */
export async function refreshLive() {
  const r = await fetch("/api/v1/live/refresh", { headers: authHeaders(), cache: "no-store" });
  if (!r.ok) throw new Error(`the live view's refresh answered HTTP ${r.status}`);
}

async function read(body, ctrl, onSnapshot) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  live.lastEventAt = Date.now();
  live.watchdog = setInterval(() => {
    if (Date.now() - live.lastEventAt > Math.max(QUIET_INTERVALS * live.intervalMs, 45_000)) fail(ctrl, "the live stream went quiet", () => {});
  }, 5_000);
  for (;;) {
    const { value, done } = await reader.read();
    if (done || ctrl !== live.ctrl) return;
    live.lastEventAt = Date.now();
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      let event = "";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (!event || state.fleet === null) continue; // a heartbeat, or signed out meanwhile
      onEvent(event, JSON.parse(data));
      if (event === "snapshot") onSnapshot();
    }
  }
}

function onEvent(event, data) {
  if (event === "balances") return showPushedBalances(data);
  if (event === "snapshot") {
    live.instances = new Map(data.instances.map((i) => [`${i.provider}/${i.id}`, i]));
    live.intervalMs = data.intervalMs || live.intervalMs;
  } else if (event === "diff") {
    for (const i of data.upserts) live.instances.set(`${i.provider}/${i.id}`, i);
    for (const key of data.removed) live.instances.delete(key);
  }
  if (event === "snapshot" || event === "status") {
    live.errors = data.errors;
    live.cost = data.cost;
    live.walkedAt = data.walkedAt || 0;
    live.nextWalkAt = data.nextWalkAt || 0;
    live.filling = data.filling;
    live.walking = data.walking;
  }
  if (event === "diff") return; // the step's status follows at once: render once, then
  applyListing({ instances: [...live.instances.values()], errors: live.errors, cost: live.cost });
  if (live.walkedAt) noteUpdated(live.walkedAt);
  renderMode();
}

/** The top bar's mode: live (and whether the snapshot is still filling) or polling, and why. */
export function renderMode() {
  const el = $("sync-mode");
  if (!el) return;
  el.hidden = live.mode === "off";
  el.dataset.mode = live.mode;
  if (live.mode === "live") {
    const seconds = Math.round(live.intervalMs / 1000);
    el.textContent = live.filling ? `Live · filling: ${live.walking?.instances ?? live.instances.size} instances so far` : "Live";
    el.title = `One shared view: the proxy lists the providers every ${seconds} s for every open console and pushes the changes here.` +
      (live.filling ? " The fleet is larger than one run of the proxy can walk, so the first listing is still coming in, a part at a time." : "");
  } else if (live.mode === "connecting") {
    el.textContent = "Connecting…";
    el.title = "Opening the live view.";
  } else {
    el.textContent = "Polling";
    el.title = `This tab lists the fleet itself every 10 s: ${live.reason}.` + (live.nextTryAt ? ` Trying the live view again at ${new Date(live.nextTryAt).toLocaleTimeString()}.` : "");
  }
}
