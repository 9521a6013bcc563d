// The session: loading the package, the proxy's token (sessionStorage, this tab only), signing in
// and out. Signing out forgets everything every part of the page holds. Behind Cloudflare Access
// (`/healthz` says `cloudflareAccess`) no token is needed: the page's Access session (its
// CF_Authorization cookie) makes Cloudflare add the signed identity to every `/api` request, so
// the Fleet is made without one.

import { $, errorText } from "./dom.js";
import { state } from "./state.js";
import { refresh, stopPolling } from "./poll.js";
import { table } from "./fleet-view.js";
import { forgetBalances, loadBalances, renderBalances, renderSummary } from "./fleet-money.js";
import { forgetDetails } from "./details-panel.js";
import { forgetDeadlineForms } from "./deadlines.js";
import { forgetAudit } from "./audit-panel.js";
import { forgetOrphans } from "./orphans-panel.js";
import { forgetOffers } from "./create-panel.js";
import { forgetBulk } from "./bulk.js";
import { readHealth } from "./records-mode.js";
import { isLive } from "./live.js";

const TOKEN_KEY = "gpufleet.token";

let gf = null; // the gpufleet module

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

/** The header that names this tab to the proxy (none behind Cloudflare Access: its cookie does). */
export function authHeaders() {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

// `npm start` prints a URL ending in #token=…: take it, keep it in this tab, drop it from the URL.
function takeTokenFromFragment() {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (m) {
    try {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    } catch {
      // a malformed escape: ignore it, the prompt asks for the token
    }
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function showLogin(message) {
  $("main").hidden = true;
  for (const id of ["refresh", "logout", "new-instance", "read-only", "audit-open", "orphans-open", "records-notice"]) $(id).hidden = true;
  for (const id of ["details", "create", "audit", "orphans"]) $(id).hidden = true;
  $("updated").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

/** The Sign out button: signed in by Access, signing out is Access's (its logout ends the session
 * and the cookie); with a token, the page forgets it. */
export function signOutByUser() {
  if (state.viaAccess) location.assign("/cdn-cgi/access/logout");
  else signOut();
}

export function signOut(message) {
  stopPolling();
  forgetBalances();
  state.lastListing = null;
  forgetOffers();
  forgetDetails();
  state.records = "unknown";
  state.deadlinesByKey = new Map();
  state.deadlinesError = null;
  forgetDeadlineForms();
  forgetAudit();
  forgetOrphans();
  forgetBulk();
  $("fleet").classList.remove("no-records");
  sessionStorage.removeItem(TOKEN_KEY);
  state.viaAccess = false;
  if (state.fleet) state.fleet.free();
  state.fleet = null;
  state.caps = new Map();
  state.providerState = new Map();
  state.rowsByKey = new Map();
  state.listedOnce = false;
  state.globalError = null;
  table.setRows([]);
  renderSummary();
  renderBalances();
  $("banners").replaceChildren();
  $("toasts").replaceChildren();
  showLogin(message);
}

/** Connects with the token this tab holds, or with none through Cloudflare Access (`access`). */
async function connect({ access = false } = {}) {
  const t = token();
  if (!t && !access) return showLogin();
  state.viaAccess = !t;
  try {
    state.fleet = new gf.Fleet({ proxy: t ? { url: "/api", token: t } : { url: "/api" } });
  } catch (e) {
    return signOut(`This token cannot be used: ${errorText(e)}`);
  }
  $("login").hidden = true;
  $("main").hidden = false;
  $("refresh").hidden = false;
  $("logout").hidden = false;
  $("loading").hidden = false;
  // The first refresh opens the live view when the proxy has one; its stream brings the balances
  // too, so only a polling console asks for them itself.
  await refresh();
  if (!isLive()) loadBalances();
}

/** The sign-in form: keeps the token in this tab and connects. */
export function submitLogin(ev) {
  ev.preventDefault();
  const value = $("token").value.trim();
  if (!value) {
    $("login-error").textContent = "Enter the token.";
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  $("token").value = "";
  connect();
}

/** Loads the package, then connects with the token this tab holds or asks for one. */
export async function boot() {
  takeTokenFromFragment();
  try {
    gf = await import("/pkg/index.js");
  } catch (e) {
    $("boot").hidden = true;
    const f = $("fatal");
    f.textContent = `The console could not load the gpufleet package (/pkg/index.js): ${e && e.message ? e.message : String(e)}`;
    f.hidden = false;
    return;
  }
  $("boot").hidden = true;
  if (token()) await connect();
  else if ((await readHealth())?.cloudflareAccess) await connect({ access: true });
  else showLogin();
}
