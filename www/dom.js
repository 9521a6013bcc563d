// Small DOM and formatting helpers. Everything that reaches the page goes through textContent or
// a DOM property: provider strings are always text, never markup.

/**
 * Creates an element. `props`: className, title, dataset (object), attrs (object of attributes
 * set with setAttribute, never `style` or `on…`), and any other writable property (type, hidden,
 * disabled, value, …). `children`: strings (as text nodes), nodes, or null/undefined (skipped).
 */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null) continue;
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k === "attrs") for (const [a, av] of Object.entries(v)) e.setAttribute(a, String(av));
    else if (k === "text") e.textContent = String(v);
    else e[k] = v;
  }
  append(e, children);
  return e;
}

function append(parent, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (id) => document.getElementById(id);

/** "12 s", "5 min", "3 h", "4 d" since `ms` (Unix ms), or "" when unknown. */
export function ageText(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return "";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "45 s", "42 min", "3 h", "2 d" for `ms` still to come (at least "1 s"). */
export function durationText(ms) {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "1 run", "3 runs"; `many` for an irregular plural ("2 entries"). */
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A short local time, e.g. 14:03:07. */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** The message of anything thrown, with the provider's request id when there is one. */
export function errorText(e) {
  if (!e || typeof e !== "object") return String(e);
  const parts = [e.message || e.code || "failed"];
  if (e.requestId) parts.push(`(request ${e.requestId})`);
  return parts.join(" ");
}

/** Copies `text` to the clipboard; resolves to whether it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
