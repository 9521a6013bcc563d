// Authorization header checks shared by the provider modules.

/**
 * Parses `Authorization: <Scheme> <credential>` and compares it with the expected scheme/key.
 * @returns {{authScheme: string|null, auth: "ok"|"missing"|"wrong"|"forbidden"}}
 */
export function checkAuth(headers, scheme, key, forbiddenKey) {
  const raw = headers["authorization"];
  if (raw === undefined || String(raw).trim() === "") return { authScheme: null, auth: "missing" };
  const m = /^\s*(\S+)(?:\s+(.*?))?\s*$/.exec(String(raw));
  const authScheme = m ? m[1] : null;
  const cred = m && m[2] !== undefined ? m[2] : "";
  // auth schemes are case-insensitive (RFC 9110 §11.1); credentials are compared exactly
  if (!authScheme || authScheme.toLowerCase() !== scheme.toLowerCase()) return { authScheme, auth: "wrong" };
  if (cred === "") return { authScheme, auth: "missing" };
  if (cred === key) return { authScheme, auth: "ok" };
  if (forbiddenKey !== undefined && cred === forbiddenKey) return { authScheme, auth: "forbidden" };
  return { authScheme, auth: "wrong" };
}
