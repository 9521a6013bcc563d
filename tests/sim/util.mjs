// Small shared helpers: seeded PRNG, hashing, encodings, query parsing, responses.

/** mulberry32: a tiny, fast, seeded 32-bit PRNG. Returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the string forms of the parts; used to derive independent seeds. */
export function hashSeed(...parts) {
  let h = 0x811c9dc5;
  for (const ch of parts.map(String).join("\u0001")) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A precomputed weight table for Rng.weighted: entries are [value, weight]. */
export function wtable(entries) {
  const values = entries.map((e) => e[0]);
  const cum = [];
  let total = 0;
  for (const [, w] of entries) cum.push((total += w));
  return Object.freeze({ values, cum, total });
}

/** A PRNG wrapper with the helpers the generators need. */
export class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  float() {
    return this.next();
  }
  int(min, max) {
    // inclusive bounds
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick(arr) {
    return arr[Math.floor(this.next() * arr.length)];
  }
  /** Picks by weight from a table made by wtable([[value, weight], ...]). */
  weighted(table) {
    const r = this.next() * table.total;
    const { cum, values } = table;
    for (let i = 0; i < cum.length; i++) if (r < cum[i]) return values[i];
    return values[values.length - 1];
  }
  chance(p) {
    return this.next() < p;
  }
  chars(n, alphabet) {
    let s = "";
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
  hex(n) {
    return this.chars(n, "0123456789abcdef");
  }
  uuid() {
    // version 4, RFC 4122 variant
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${"89ab"[this.int(0, 3)]}${this.hex(3)}-${this.hex(12)}`;
  }
  bytes(n) {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

export const ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const ALNUM_LOWER = "0123456789abcdefghijklmnopqrstuvwxyz";
export const ID_CHARS = ALNUM + "_-";

export function b64url(s) {
  return Buffer.from(s, "utf8").toString("base64url");
}
export function fromB64url(s) {
  return Buffer.from(s, "base64url").toString("utf8");
}

/** Strict standard base64 check (what fal's cursor and SFC's cloud-init data use). */
export function isStrictBase64(s) {
  return typeof s === "string" && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s);
}

/** Integer parsing for query params: returns a number or NaN when not a plain integer. */
export function parseIntStrict(v) {
  if (typeof v !== "string" || !/^-?\d{1,15}$/.test(v.trim())) return NaN;
  return Number(v.trim());
}

/**
 * All values of a repeatable query key, accepting both `key=a&key=b` (form, explode) and the
 * bracket style `key[]=a&key[]=b`.
 */
export function getAll(query, key) {
  return [...query.getAll(key), ...query.getAll(key + "[]")];
}

/** Builds a JSON response object for the handlers. */
export function json(status, body, headers = {}) {
  return { status, headers: { "content-type": "application/json", ...headers }, body };
}

/** An empty-bodied response. */
export function empty(status, headers = {}) {
  return { status, headers, body: null };
}

/** Serializes a handler response body to a Buffer. */
export function bodyBuffer(resp) {
  if (resp.body == null) return Buffer.alloc(0);
  if (Buffer.isBuffer(resp.body)) return resp.body;
  if (typeof resp.body === "string") return Buffer.from(resp.body, "utf8");
  return Buffer.from(JSON.stringify(resp.body), "utf8");
}

/** Parses a JSON request body. Returns { ok, value } or { ok:false, error }. */
export function parseJsonBody(buf) {
  const text = buf.toString("utf8");
  if (!text.trim()) return { ok: false, error: "request body is empty" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: "request body is not valid JSON" };
  }
}

export function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A deterministic IPv4 address from the documentation ranges only (RFC 5737). */
export function docIp(n) {
  const nets = ["203.0.113", "198.51.100"];
  const k = ((n % 508) + 508) % 508;
  return `${nets[k % 2]}.${1 + (Math.floor(k / 2) % 254)}`;
}
