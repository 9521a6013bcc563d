// Cloudflare Access for the edge proxy: whether a request's `Cf-Access-Jwt-Assertion` holds, and
// whom it names. worker.js hands the answer to the Rust core (src/proxy/access.rs), which
// validates the configuration, decides which credential counts (a bearer token first) and what
// the identity may do (CF_ACCESS_WRITERS). Here: the RS256 signature, checked with WebCrypto
// against the team's keys at `<team domain>/cdn-cgi/access/certs` (no RSA code in the Worker's
// wasm), then `iss`, `aud`, `exp`, `nbf`, `iat`, and the identity (`email`, or a service token's
// `common_name`).
//
// The keys are kept per isolate: read again after five minutes, and on an assertion whose `kid`
// they do not hold (Access rotates its key every six weeks, or at once when asked) — at most once
// a second, so made-up kids cannot become a flood of reads. A request that needs the keys while
// another request of the isolate is reading them waits for that read (by looking at shared plain
// data: a promise of another request's context must not be awaited, workerd ties it to that
// request). When a read fails, keys up to an hour old still serve: Access keeps a rotated-out key
// valid for seven days, and an outage of the certs endpoint should not lock everyone out.

const FRESH_MS = 5 * 60_000;
const STALE_MS = 60 * 60_000;
const REREAD_GAP_MS = 1_000;
const READ_TIMEOUT_MS = 5_000;
/** How far the proxy's clock and Access's may disagree when exp, nbf and iat are checked. */
const SKEW_S = 60;
const RSASSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

/** certs URL → { keys: Map<kid, CryptoKey>, readAt, startedAt, reading, error } */
const teams = new Map();

const refuse = (why) => ({ status: 401, message: `the Cloudflare Access assertion (Cf-Access-Jwt-Assertion) ${why}` });
const MALFORMED = "is not a well-formed JWT";

/**
 * The check of `request`'s Access assertion, for the Rust core: made only where it can count
 * (an `/api` request, not a preflight, with `Cf-Access-Jwt-Assertion` and no `Authorization`,
 * with CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD set); `undefined` otherwise.
 */
export async function checkAccess(request, env) {
  const assertion = request.headers.get("cf-access-jwt-assertion");
  const team = env?.CF_ACCESS_TEAM_DOMAIN;
  const audiences = env?.CF_ACCESS_AUD;
  if (!assertion || !team || !audiences || request.headers.has("authorization") || request.method === "OPTIONS") return undefined;
  if (!new URL(request.url).pathname.startsWith("/api/")) return undefined;
  let issuer;
  try {
    issuer = new URL(String(team).trim()).origin;
  } catch {
    return undefined; // the Rust side refuses this configuration
  }
  if (assertion.length > 16_384) return refuse(MALFORMED); // Access's are about 1 KiB
  return verifyAccessAssertion(assertion.trim(), issuer, audiences);
}

/**
 * Checks `assertion` for the Access team at `issuer` (`https://<team>.cloudflareaccess.com`) and
 * the application audience tags `audiences` (comma-separated). Never throws; answers `{ name }`
 * (the email, lowercased, or `service:<common_name>`) when it holds, else `{ status, message }`:
 * 401 naming the rule it breaks, or 502 when the team's keys cannot be read. The message quotes
 * nothing of the assertion (neither the token nor a claim), and nothing of it is logged.
 */
export async function verifyAccessAssertion(assertion, issuer, audiences) {
  const parts = String(assertion).split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return refuse(MALFORMED);
  const header = json(parts[0]);
  if (!header) return refuse(MALFORMED);
  // Only what Access signs with: `none`, HS256 (an HMAC keyed with the public key) and the rest never pass.
  if (header.alg !== "RS256") return refuse("is not signed with RS256, the only algorithm Access uses");
  if (typeof header.kid !== "string" || header.kid === "") return refuse(MALFORMED);
  const certsUrl = `${issuer}/cdn-cgi/access/certs`;
  let key;
  try {
    key = await keyFor(certsUrl, header.kid);
  } catch (e) {
    return { status: 502, message: `could not read the Cloudflare Access signing keys (${certsUrl}): ${e.message}; try again` };
  }
  if (!key) return refuse("is signed with a key the Access team does not list (its keys were read again to be sure)");
  let valid = false;
  try {
    valid = await crypto.subtle.verify(RSASSA, key, base64url(parts[2]), new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
  } catch {
    valid = false;
  }
  if (!valid) return refuse("has a signature that does not verify against the Access team's key");

  const claims = json(parts[1]);
  if (!claims) return refuse(MALFORMED);
  if (typeof claims.iss !== "string" || claims.iss.replace(/\/$/, "").toLowerCase() !== issuer) {
    return refuse("was issued by another Access team (iss is not CF_ACCESS_TEAM_DOMAIN)");
  }
  const wanted = String(audiences).split(/[\s,]+/).filter(Boolean);
  if (![].concat(claims.aud).some((a) => typeof a === "string" && wanted.includes(a))) {
    return refuse("is for another Access application (aud does not hold CF_ACCESS_AUD)");
  }
  const now = Date.now() / 1000;
  for (const t of ["exp", "nbf", "iat"]) {
    if (claims[t] !== undefined && claims[t] !== null && typeof claims[t] !== "number") return refuse(`has a ${t} that is not a number`);
  }
  if (typeof claims.exp !== "number") return refuse("has no expiry (exp)");
  if (now >= claims.exp + SKEW_S) return refuse("has expired (exp)");
  if (claims.nbf > now + SKEW_S) return refuse("is not valid yet (nbf)");
  if (claims.iat > now + SKEW_S) return refuse("was issued in the future (iat)");

  // A user's token has `email`; a service token's has none, but the client id as `common_name`.
  // Names go on the access log and audit entries: printable, no spaces, bounded.
  const usable = (s) => typeof s === "string" && /^[^\s\p{Cc}]{1,254}$/u.test(s);
  if (claims.email != null && claims.email !== "") {
    return usable(claims.email) && /^[^@]+@[^@]+$/.test(claims.email)
      ? { name: claims.email.toLowerCase() }
      : refuse("has an email claim that is not an email address");
  }
  if (claims.common_name != null && claims.common_name !== "") {
    return usable(claims.common_name) ? { name: `service:${claims.common_name}` } : refuse("has a common_name the proxy cannot record");
  }
  return refuse("names no one: neither a user (email) nor a service token (common_name)");
}

/** The JSON object one base64url part holds, or null. */
function json(part) {
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(base64url(part)));
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function teamOf(certsUrl) {
  let team = teams.get(certsUrl);
  if (!team) {
    // Another URL means the configuration changed: the old team's keys are of no more use.
    if (teams.size >= 4) teams.clear();
    team = { keys: new Map(), readAt: -Infinity, startedAt: -Infinity, reading: false, error: null };
    teams.set(certsUrl, team);
  }
  return team;
}

/** The key named `kid`, `null` when the team has none; throws (why) when the keys cannot be read. */
async function keyFor(certsUrl, kid) {
  const team = teamOf(certsUrl);
  if (Date.now() - team.readAt >= FRESH_MS) {
    try {
      await reread(certsUrl, team);
    } catch (e) {
      if (team.keys.size === 0 || Date.now() - team.readAt >= STALE_MS) throw e;
      const age = Math.round((Date.now() - team.readAt) / 1000);
      console.error(JSON.stringify({ event: "access-keys", error: `${e.message}; using the keys read ${age} s ago` }));
    }
  }
  if (team.keys.has(kid)) return team.keys.get(kid);
  // A kid the keys do not hold: the team may have rotated its key since they were read.
  if (busy(team) || Date.now() - team.startedAt >= REREAD_GAP_MS) await reread(certsUrl, team);
  if (!team.keys.has(kid) && team.error) throw new Error(team.error);
  return team.keys.get(kid) ?? null;
}

/** Whether a read is in flight (one that outlived its own timeout was cancelled with its request). */
function busy(team) {
  return team.reading && Date.now() - team.startedAt < READ_TIMEOUT_MS + 1_000;
}

/** Reads the keys, or waits for the read in flight; throws when they could not be read. */
async function reread(certsUrl, team) {
  if (busy(team)) {
    while (busy(team)) await new Promise((resolve) => setTimeout(resolve, 20));
    if (team.error) throw new Error(team.error);
    return;
  }
  team.reading = true;
  team.startedAt = Date.now();
  try {
    team.keys = await readKeys(certsUrl);
    team.readAt = Date.now();
    team.error = null;
  } catch (e) {
    team.error = String((e && e.message) || "the keys could not be read");
    throw e;
  } finally {
    team.reading = false;
  }
}

/**
 * The signing keys at `certsUrl` by kid: `keys` (JWKs), and `public_cert` / `public_certs`
 * (PEM certificates) for any kid `keys` lacks. Throws a message fit for the caller (no secret in
 * it: the URL is the configuration's, and nothing of the request is in it).
 */
async function readKeys(certsUrl) {
  let response;
  try {
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(READ_TIMEOUT_MS) : undefined;
    response = await fetch(certsUrl, { headers: { accept: "application/json" }, redirect: "manual", signal });
  } catch (e) {
    const timedOut = e && (e.name === "TimeoutError" || e.name === "AbortError");
    throw new Error(timedOut ? `no answer within ${READ_TIMEOUT_MS / 1000} s` : "the request failed (network)");
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    const redirect = response.status >= 300 && response.status < 400;
    throw new Error(redirect ? `HTTP ${response.status}, a redirect, which is not followed` : `HTTP ${response.status}`);
  }
  let doc;
  try {
    doc = await response.json();
  } catch {
    throw new Error("the answer is not JSON");
  }
  const keys = new Map();
  for (const jwk of Array.isArray(doc?.keys) ? doc.keys : []) {
    if (!jwk || jwk.kty !== "RSA" || typeof jwk.kid !== "string" || typeof jwk.n !== "string" || typeof jwk.e !== "string") continue;
    if ((jwk.alg !== undefined && jwk.alg !== "RS256") || (jwk.use !== undefined && jwk.use !== "sig")) continue;
    try {
      keys.set(jwk.kid, await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e, alg: "RS256", ext: true }, RSASSA, false, ["verify"]));
    } catch {
      // not an RSA public key WebCrypto takes: skipped, as a kid no assertion can name
    }
  }
  const certs = [...(Array.isArray(doc?.public_certs) ? doc.public_certs : []), doc?.public_cert];
  for (const c of certs) {
    if (!c || typeof c.kid !== "string" || typeof c.cert !== "string" || keys.has(c.kid)) continue;
    try {
      keys.set(c.kid, await crypto.subtle.importKey("spki", spkiOfPem(c.cert), RSASSA, false, ["verify"]));
    } catch {
      // not a certificate of an RSA key: skipped
    }
  }
  if (keys.size === 0) throw new Error("the answer lists no RS256 signing key");
  return keys;
}

/** The SubjectPublicKeyInfo (DER) of a PEM certificate (or of a PEM public key). */
function spkiOfPem(pem) {
  const der = Uint8Array.from(atob(pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, "").replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  if (/-----BEGIN PUBLIC KEY-----/.test(pem)) return der;
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
  //   signature, issuer, validity, subject, subjectPublicKeyInfo, … }, … }
  const cert = tlv(der, 0, 0x30);
  let at = tlv(der, cert.body, 0x30).body;
  if (der[at] === 0xa0) at = tlv(der, at).end;
  for (let i = 0; i < 5; i++) at = tlv(der, at).end;
  return der.subarray(at, tlv(der, at, 0x30).end);
}

/** One DER element at `at` (of `tag`, when given): where its contents start and where it ends. */
function tlv(der, at, tag) {
  if (at + 2 > der.length || (tag !== undefined && der[at] !== tag)) throw new Error("not DER");
  let length = der[at + 1];
  let body = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n < 1 || n > 4 || body + n > der.length) throw new Error("not DER");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[body + i];
    body += n;
  }
  if (body + length > der.length) throw new Error("not DER");
  return { body, end: body + length };
}

function base64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
