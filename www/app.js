// gpufleet console (minimal): every instance on every provider, through this proxy's API.
// Every string from a provider is rendered with textContent — never as HTML.

const TOKEN_KEY = "gpufleet.token";
const REFRESH_MS = 15_000;

const $ = (id) => document.getElementById(id);
let timer = null;

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

// `npm start` prints a URL ending in #token=…: take it, keep it in this tab, drop it from the URL.
function takeTokenFromFragment() {
  const m = /^#token=([^&]+)$/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function showLogin(message) {
  stopTimer();
  $("main").hidden = true;
  $("refresh").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function showMain() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("refresh").hidden = false;
  $("logout").hidden = false;
}

function stopTimer() {
  if (timer) clearTimeout(timer);
  timer = null;
}

function age(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function banner(text) {
  $("banners").append(el("p", text, "banner"));
}

function render(listing) {
  const banners = $("banners");
  banners.replaceChildren();
  for (const failure of listing.errors || []) {
    const e = failure.error || {};
    const id = e.requestId ? ` (request ${e.requestId})` : "";
    banner(`${failure.provider}: ${e.message || e.code || "failed"}${id}`);
  }
  const rows = (listing.instances || []).map((inst) => {
    const tr = document.createElement("tr");
    tr.append(el("td", inst.provider));
    const name = el("td");
    if (inst.name) name.append(el("div", inst.name));
    name.append(el("div", inst.id, "id"));
    tr.append(name);
    const status = el("td");
    const badge = el("span", inst.status, `badge status-${String(inst.status).replace(/[^a-z]/g, "")}`);
    badge.title = inst.statusReason ? `${inst.providerStatus}: ${inst.statusReason}` : inst.providerStatus || "";
    status.append(badge);
    tr.append(status);
    tr.append(el("td", inst.instanceType ?? ""));
    tr.append(el("td", inst.gpuCount ?? ""));
    tr.append(el("td", inst.region ?? ""));
    tr.append(el("td", inst.ip ?? ""));
    const created = el("td", inst.createdAt ? age(inst.createdAt) : "");
    if (inst.createdAt) created.title = inst.createdAt;
    tr.append(created);
    return tr;
  });
  $("fleet").tBodies[0].replaceChildren(...rows);
  $("empty").hidden = rows.length > 0;
}

async function load() {
  stopTimer();
  const t = token();
  if (!t) return showLogin();
  showMain();
  $("loading").hidden = false;
  try {
    const r = await fetch("/api/v1/instances", { headers: { Authorization: `Bearer ${t}` }, cache: "no-store" });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin(body.error?.message || "The token was not accepted.");
    }
    if (!r.ok) {
      $("banners").replaceChildren();
      banner(`The proxy answered ${r.status}: ${body.error?.message || r.statusText}`);
    } else {
      render(body);
      $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    }
  } catch (e) {
    $("banners").replaceChildren();
    banner(`Could not reach the proxy: ${e.message}`);
  } finally {
    $("loading").hidden = true;
  }
  if (token()) timer = setTimeout(load, REFRESH_MS);
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  sessionStorage.setItem(TOKEN_KEY, value);
  $("token").value = "";
  load();
});
$("refresh").addEventListener("click", load);
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  $("fleet").tBodies[0].replaceChildren();
  showLogin();
});

takeTokenFromFragment();
load();
