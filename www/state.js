// What more than one part of the console reads or changes: the signed-in fleet, the proxy's
// providers, the last listing and its rows, the open instance and the instances being watched,
// the records mode and the fleet's deadlines. Each part keeps the rest of its state to itself and
// forgets it on sign-out (session.js).

/** Per-call timeout of the reading calls: listings, balances, offers, deadlines, audit, orphans. */
export const LIST_TIMEOUT_MS = 30_000;

export const state = {
  /** The package's `Fleet` in proxy mode while signed in, else null. */
  fleet: null,
  caps: new Map(), // provider → Capabilities (the proxy's configured providers)
  readOnly: false, // the proxy's read-only token: list and inspect only
  viaAccess: false, // signed in by Cloudflare Access (no token): "Sign out" is Access's logout
  providerState: new Map(), // provider → { instances: Map<key, Instance>, at, error }
  rowsByKey: new Map(), // key → the table's row of the instance (rowOf, table.js)
  transitions: new Map(), // key → { target, label, ctrl }: an action's wait under way
  listedOnce: false,
  globalError: null, // the last listing's failure as a whole (one banner), or null
  selectedKey: null, // the instance whose details are open
  lastListing: null, // the last listing's money: { cost, instances, errors }
  // The proxy's records (deadlines, the audit log, orphans): kept only with a D1 database. "off"
  // when /healthz says `records: "none"` or a records call answers `unsupported` (503); then the
  // console shows one notice and none of the records' controls (records-mode.js).
  records: "unknown", // "on" | "off" | "unknown"
  deadlinesByKey: new Map(), // key → Deadline (fleet.deadlines(), once per poll)
  deadlinesError: null, // the last fleet.deadlines() failure (one banner), or null
};

export function displayName(p) {
  return state.caps.get(p)?.displayName || p;
}

export const isAuthError = (e) => e && (e.code === "unauthorized");
/** Behind Access, an ended session makes Cloudflare answer `/api` with a redirect to its sign-in. */
export const isRedirect = (e) => e && Array.isArray(e.details) && e.details.some((d) => d.code === "redirect");
