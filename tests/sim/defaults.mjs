// Defaults of the simulated clouds, shared by the simulator and by every test that talks to it.
//
// Import these instead of hard-coding keys or paths:
//   import { SIM_KEYS, BASE_PATHS, baseUrls } from "../sim/defaults.mjs";

/** Provider names as used by the control API (`/__sim/...?provider=`) and by gpufleet. */
export const PROVIDERS = Object.freeze(["fal", "fal-alpha", "sfcompute", "novita"]);

/** Base path of each provider API on the simulator (append to the sim URL). */
export const BASE_PATHS = Object.freeze({
  fal: "/fal/v1", // real: https://api.fal.ai/v1
  "fal-alpha": "/fal-alpha", // real: https://rest.alpha.fal.ai
  sfcompute: "/sfcompute/preview/v2", // real: https://api.sfcompute.com/preview/v2
  novita: "/novita/gpu-instance/openapi/v1", // real: https://api.novita.ai/gpu-instance/openapi/v1
});

/** The sim's stand-in for each provider's host: BASE_PATHS[p] is HOST_ROOTS[p] + the real API root. */
export const HOST_ROOTS = Object.freeze({
  fal: "/fal", // real: https://api.fal.ai
  "fal-alpha": "/fal-alpha", // real: https://rest.alpha.fal.ai
  sfcompute: "/sfcompute", // real: https://api.sfcompute.com
  novita: "/novita", // real: https://api.novita.ai
});

/**
 * Sibling APIs on the same hosts (the money endpoints), served by the same provider module with the
 * same keys. A client derives them from its base URL by replacing the real API root
 * (`/gpu-instance/openapi/v1` → `/openapi/v1/billing/…`, `/preview/v2` → `/v0/balance`), which
 * here lands under HOST_ROOTS[p]. fal's billing sits inside its v1 base, so fal has none.
 */
export const SIBLING_PATHS = Object.freeze({
  sfcompute: Object.freeze(["/sfcompute/v0", "/sfcompute/v1"]), // real: https://api.sfcompute.com/v0, /v1
  novita: Object.freeze(["/novita/openapi/v1"]), // real: https://api.novita.ai/openapi/v1
});

/** The real base URLs the sim stands in for. */
export const REAL_BASE_URLS = Object.freeze({
  fal: "https://api.fal.ai/v1",
  "fal-alpha": "https://rest.alpha.fal.ai",
  sfcompute: "https://api.sfcompute.com/preview/v2",
  novita: "https://api.novita.ai/gpu-instance/openapi/v1",
});

/**
 * Credentials the simulator accepts. Any other value is "wrong" (401); the `*Forbidden` ones are
 * valid keys without the needed scope/permission and get the provider's 403.
 */
export const SIM_KEYS = Object.freeze({
  fal: "sim-fal-key", // header: Authorization: Key sim-fal-key (admin scope; v1 and alpha)
  falForbidden: "sim-fal-api-scope-key", // an API-scope (non-admin) key -> 403 authorization_error
  sfcompute: "sim-sfc-token", // header: Authorization: Bearer sim-sfc-token
  sfcomputeForbidden: "sim-sfc-readonly-token", // -> 403 forbidden
  sfcWorkspace: "wksp_simfleet01", // the only workspace; list ?workspace= must name it
  novita: "sim-novita-key", // header: Authorization: Bearer sim-novita-key (+ Content-Type: application/json)
  novitaForbidden: "sim-novita-noperm-key", // -> 403
});

/** SF Compute account/workspace naming used in resource paths (sfc:instance:<account>:<workspace>:<name>). */
export const SFC_ACCOUNT = "simlab";
export const SFC_WORKSPACE_NAME = "fleet";
export const SFC_WORKSPACE_PATH = `sfc:workspace:${SFC_ACCOUNT}:${SFC_WORKSPACE_NAME}`;

/** Authorization header value for each provider with the default key. */
export const AUTH_HEADERS = Object.freeze({
  fal: `Key ${SIM_KEYS.fal}`,
  "fal-alpha": `Key ${SIM_KEYS.fal}`,
  sfcompute: `Bearer ${SIM_KEYS.sfcompute}`,
  novita: `Bearer ${SIM_KEYS.novita}`,
});

/** Defaults of the CLI / startSim(). */
export const SIM_DEFAULTS = Object.freeze({
  host: "127.0.0.1",
  seed: 1,
  instances: 25, // per provider
  speed: 1, // sim ms per real ms; 0 freezes the clock (only /__sim/advance moves it)
  hostile: false,
  sfcShape: "seed", // "seed" (seed 003 / May CLI schema) or "july" (specs/ extract)
  novitaPaging: "one,cap:100", // Novita list numbering + page size (novita.mjs parseNovitaPaging)
  novitaInstanceLimit: null, // Novita account instance quota; null = unlimited
  // The sim clock starts here (fixed, so the same seed gives byte-identical listings).
  epoch: "2026-11-01T00:00:00Z",
});

/** Full base URLs for a running sim at `url` (e.g. "http://127.0.0.1:8787"). */
export function baseUrls(url) {
  const u = String(url).replace(/\/+$/, "");
  return Object.fromEntries(PROVIDERS.map((p) => [p, u + BASE_PATHS[p]]));
}

/**
 * Novita servers that differ only in what Novita leaves undocumented (`--novita-paging`): every
 * page numbering, a silent cap below the asked page size, fixed pages smaller and larger than
 * asked. The JS suites (proxy, package) walk each, and tests/sim_e2e.rs reads this list from here.
 */
export const NOVITA_PAGING_MODES = Object.freeze([
  "one",
  "zero",
  "one-strict",
  "one,cap:20",
  "zero,cap:20",
  "one-strict,cap:20",
  "one,fixed:25",
  "zero,fixed:30",
  "one-strict,fixed:150",
]);
