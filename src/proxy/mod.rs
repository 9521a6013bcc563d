//! The edge proxy: a Cloudflare Worker that holds the provider keys and the API token, serves
//! the REST API of [`api`] under `/api/v1` (and the console beside it), and calls the providers
//! through the same [`Client`](crate::Client) a direct caller uses. The wire format ([`api`]) is
//! always built, since the client speaks it in proxy mode; the server side (feature `proxy`, on
//! by default) is pure and tested natively with a fake transport. The Worker entry
//! (`bindings/worker.rs`) only converts a JS `Request` into a [`ProxyRequest`] and a
//! [`ProxyResponse`] back.
//!
//! One job per file, each importing only the ones before it:
//!
//! - [`api`] — the REST wire format, shared by the proxy and the client's proxy mode;
//! - `access` — Cloudflare Access identities as callers: the configuration and what an identity
//!   may do (the assertion itself is checked by the Worker's JS, with WebCrypto);
//! - `auth` — the bearer token and who the caller is, compared in constant time via SHA-256;
//! - `rate_limit` — the per-caller token bucket;
//! - `headers` — the security headers (CSP, no framing or sniffing) and the CORS grants;
//! - `config` — [`ServerConfig`], read from the Worker's environment (vars and secrets);
//! - `exchange` — what the Worker hands in and gets back: [`ProxyRequest`], [`ProxyResponse`],
//!   the access-log [`LogRecord`];
//! - `conceal` — what an answer never carries: a secret, or in our own errors a caller's value;
//! - `server` — [`Proxy`], the request path below.
//!
//! ## The request path
//!
//! [`Proxy::handle`] answers one request. The order of checks for an `/api` request (each
//! failure is a JSON `{"error": …}` answer and no upstream call is made):
//!
//! 1. CORS: an `Origin` that is neither the proxy's own nor in `ALLOWED_ORIGINS` → 403, no CORS
//!    headers; a preflight (`OPTIONS`) from an allowed origin → 204 with the grants. The own
//!    origin is `GPUFLEET_ORIGIN` when set, else the request URL the runtime gives; never a
//!    header the caller sends (`Host`, `X-Forwarded-Host`, `Forwarded`).
//! 2. Method allowlist: only `GET`, `POST`, `DELETE` (and `OPTIONS`) → else 405 with `Allow`.
//! 3. `GPUFLEET_TOKEN` unset (or unusable) → 503 `unauthorized`: the API refuses to run open.
//! 4. Without a bearer token, a Cloudflare Access assertion (`Cf-Access-Jwt-Assertion`, when
//!    Access is configured), as the Worker's check of it found ([`ProxyRequest::access`]).
//! 5. Rate limit per caller (token hash when the token is valid, the Access identity, else
//!    `CF-Connecting-IP`) → 429.
//! 6. `Authorization: Bearer …` compared in constant time → 401; an Access assertion that does
//!    not hold → 401 (502 when the team's keys cannot be read); read-only caller on a mutation → 403.
//! 7. Route, provider and id validation ([`parse_route`](api::parse_route)) → 404 / 405 / 400; a
//!    provider without keys → 400; an id shaped like a host ([`looks_like_host`]) → 400.
//! 8. Create only: `Content-Type: application/json` → else 415; body ≤
//!    [`MAX_BODY_BYTES`](api::MAX_BODY_BYTES) → else 413; a `deadline` beside the create input
//!    is checked too (400 naming `deadline.…`; 503 when the proxy keeps no records), so a bad
//!    one creates nothing.
//! 9. The call, through the [`Client`](crate::Client), to the configured base URL only; a
//!    redirect is never followed (a `server` error naming the target's origin, answered 502).
//!
//! Every answer is scrubbed of every secret the proxy holds, and the proxy's own error answers
//! (those not from an upstream answer) quote nothing the caller sent: a quoted value equal to a
//! secret would come back as `[redacted]` and so confirm a guess.

pub mod api;

#[cfg(feature = "proxy")]
mod access;
#[cfg(feature = "proxy")]
mod auth;
#[cfg(feature = "proxy")]
mod conceal;
#[cfg(feature = "proxy")]
mod config;
#[cfg(feature = "proxy")]
mod exchange;
#[cfg(feature = "proxy")]
mod headers;
#[cfg(feature = "proxy")]
mod rate_limit;
#[cfg(feature = "proxy")]
mod server;

#[cfg(feature = "proxy")]
pub use access::{AccessCheck, AccessConfig, ASSERTION_HEADER};
#[cfg(feature = "proxy")]
pub use auth::{constant_time_eq, sha256, Secret};
#[cfg(feature = "proxy")]
pub use config::{
    acceptable_base_url, canonical_origin, ServerConfig, DEFAULT_RATE_BURST, DEFAULT_RATE_PER_MINUTE, ENV_NAMES, MIN_TOKEN_LEN,
};
#[cfg(feature = "proxy")]
pub use exchange::{LogRecord, ProxyRequest, ProxyResponse, RequestBody};
#[cfg(feature = "proxy")]
pub use headers::{console_headers, API_CSP, API_METHODS, CONSOLE_CSP, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS};
#[cfg(feature = "proxy")]
pub use rate_limit::{RateConfig, RateLimiter};
#[cfg(feature = "proxy")]
pub use server::{looks_like_host, new_request_id, Admission, Admitted, Proxy, API_PATH_PREFIX};
