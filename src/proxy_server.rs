//! The edge proxy's server side, pure: configuration from the environment, authentication,
//! CORS, request checks, the per-caller rate limiter, security headers, and [`Proxy::handle`],
//! which answers one request by calling the [`Client`] over any [`Transport`].
//!
//! The Worker entry (`bindings/worker.rs`) only converts a JS `Request` into a [`ProxyRequest`]
//! and a [`ProxyResponse`] back; everything that decides anything is here and tested natively
//! with a fake transport.
//!
//! The order of checks for an `/api` request (each failure is a JSON `{"error": …}` answer and no
//! upstream call is made):
//!
//! 1. CORS: an `Origin` that is neither the proxy's own nor in `ALLOWED_ORIGINS` → 403, no CORS
//!    headers; a preflight (`OPTIONS`) from an allowed origin → 204 with the grants. The own
//!    origin is `GPUFLEET_ORIGIN` when set, else the request URL the runtime gives; never a
//!    header the caller sends (`Host`, `X-Forwarded-Host`, `Forwarded`).
//! 2. Method allowlist: only `GET`, `POST`, `DELETE` (and `OPTIONS`) → else 405 with `Allow`.
//! 3. `GPUFLEET_TOKEN` unset (or unusable) → 503 `unauthorized`: the API refuses to run open.
//! 4. Rate limit per caller (token hash when the token is valid, else `CF-Connecting-IP`) → 429.
//! 5. `Authorization: Bearer …` compared in constant time → 401; read-only token on a
//!    mutation → 403.
//! 6. Route, provider and id validation ([`parse_route`]) → 404 / 405 / 400; a provider without
//!    keys → 400; an id shaped like a host ([`looks_like_host`]) → 400.
//! 7. Create only: `Content-Type: application/json` → else 415; body ≤ [`MAX_BODY_BYTES`] → else 413.
//! 8. The call, through the [`Client`], to the configured base URL only; a redirect is never
//!    followed (a `server` error naming the target's origin, answered 502).
//!
//! The proxy's own error answers (those not from an upstream answer) quote nothing the caller
//! sent (see [`Proxy`]'s `error_response`): a quoted value equal to a secret would come back
//! as `[redacted]` and so confirm a guess.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::answer_json::{instance_json, instances_json};
use crate::client::{Client, ClientConfig, RetryPolicy};
use crate::error::{Error, ErrorCode};
use crate::http::Transport;
use crate::model::{Access, CreateInput, ListQuery, Operation};
use crate::provider::{Provider, ProviderConfig};
use crate::proxy_api::{
    error_body, http_status_for, parse_route, ActionResponse, ProvidersResponse, Route, RouteError, API_PREFIX, MAX_BODY_BYTES,
};

// ----- configuration -------------------------------------------------------------------------

/// Every environment variable (Worker var or secret) the proxy reads.
pub const ENV_NAMES: &[&str] = &[
    "GPUFLEET_TOKEN",
    "GPUFLEET_READONLY_TOKEN",
    "ALLOWED_ORIGINS",
    "GPUFLEET_ORIGIN",
    "FAL_KEY",
    "FAL_BASE_URL",
    "FAL_ALPHA_BASE_URL",
    "SFC_TOKEN",
    "SFC_WORKSPACE",
    "SFC_BASE_URL",
    "NOVITA_API_KEY",
    "NOVITA_BASE_URL",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_BURST",
    "GPUFLEET_PRICES",
];

/// The shortest accepted API token: a shorter one is treated as unset (the API refuses to run).
pub const MIN_TOKEN_LEN: usize = 16;

/// Default sustained rate per caller.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 600;
/// Default burst per caller.
pub const DEFAULT_RATE_BURST: u32 = 120;

/// A secret string: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value (only for comparing and for sending upstream).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The per-caller token bucket's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// Sustained requests per minute per caller; 0 turns the limiter off.
    pub per_minute: u32,
    /// Bucket size: how many requests a caller may send at once.
    pub burst: u32,
}

/// Everything the proxy is configured with, read from its environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    token: Option<Secret>,
    readonly_token: Option<Secret>,
    /// Why the API refuses to serve, when it does (no secret inside).
    refusal: Option<String>,
    allowed_origins: Vec<String>,
    /// The proxy's own origin (the console's), when configured: then the request URL is not
    /// consulted for it.
    own_origin: Option<String>,
    providers: BTreeMap<Provider, ProviderConfig>,
    /// Configuration problems worth telling the operator (no secrets), shown by `/healthz`.
    warnings: Vec<String>,
    rate: RateConfig,
    /// `GPUFLEET_PRICES`: hourly prices by provider and instance type.
    prices: crate::money::PriceTable,
    /// Price sources read recently, shared by the requests an isolate serves.
    price_cache: crate::client::PriceCache,
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Whether `url` is an acceptable upstream base URL: `https://…`, or `http://` to a loopback
/// host only (the simulated clouds), never with credentials, query or fragment.
pub fn acceptable_base_url(url: &str) -> bool {
    let (rest, tls) = if let Some(r) = url.strip_prefix("https://") {
        (r, true)
    } else if let Some(r) = url.strip_prefix("http://") {
        (r, false)
    } else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || url.contains(['?', '#', ' ', '\\']) {
        return false;
    }
    tls || crate::http::is_https_or_loopback(url)
}

/// Parses one `ALLOWED_ORIGINS` entry into its canonical form `scheme://host[:port]` (lowercase,
/// no path); `None` when it is not an origin.
pub fn canonical_origin(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/');
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' ', '*', ','])
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return None;
    }
    Some(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// One provider's upstream config from its key, optional base-URL override and workspace:
/// `Ok(None)` when no key is set, `Err(warning)` when something is unusable (no secret inside).
fn provider_from_env(
    p: Provider,
    key_var: &str,
    key: Option<String>,
    base_url: Option<String>,
    url_var: &str,
    workspace: Option<String>,
) -> Result<Option<ProviderConfig>, String> {
    let Some(key) = key else { return Ok(None) };
    let mut config = ProviderConfig::new(p, key);
    if let Some(url) = base_url {
        if !acceptable_base_url(&url) {
            return Err(format!(
                "{} not configured: {url_var} must be an https:// URL (http:// only to localhost or 127.x), without credentials, query or fragment",
                p.as_str()
            ));
        }
        config = config.with_base_url(url.trim_end_matches('/'));
    }
    if let Some(w) = workspace {
        config = config.with_workspace(w);
    }
    // validate() names fields and rules, never the key's value.
    config.validate(p).map_err(|e| format!("{} not configured ({key_var}): {}", p.as_str(), e.message))?;
    Ok(Some(config))
}

impl ServerConfig {
    /// Reads the configuration through `get` (the Worker's `env`, or a map in tests). Never fails:
    /// problems become a refusal to serve the API (tokens) or a warning and an unconfigured
    /// provider (keys, base URLs).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> ServerConfig {
        let get = |name: &str| clean(get(name));
        let mut warnings = Vec::new();

        let token = get("GPUFLEET_TOKEN");
        let readonly = get("GPUFLEET_READONLY_TOKEN");
        let mut refusal = None;
        match &token {
            None => refusal = Some("GPUFLEET_TOKEN is not set; the API refuses to run open".to_owned()),
            Some(t) if t.chars().count() < MIN_TOKEN_LEN => {
                refusal = Some(format!(
                    "GPUFLEET_TOKEN is shorter than {MIN_TOKEN_LEN} characters; the API refuses to run with a guessable token"
                ))
            }
            Some(t) if t.chars().any(|c| c.is_control() || c == ' ') => {
                refusal = Some("GPUFLEET_TOKEN contains spaces or control characters; the API refuses to run".to_owned())
            }
            _ => {}
        }
        let mut readonly_token = None;
        if let Some(r) = readonly {
            if Some(&r) == token.as_ref() {
                refusal.get_or_insert_with(|| "GPUFLEET_READONLY_TOKEN equals GPUFLEET_TOKEN; the API refuses to run".to_owned());
            } else if r.chars().count() < MIN_TOKEN_LEN || r.chars().any(|c| c.is_control() || c == ' ') {
                warnings.push(format!(
                    "GPUFLEET_READONLY_TOKEN ignored: it must be at least {MIN_TOKEN_LEN} characters without spaces"
                ));
            } else {
                readonly_token = Some(Secret(r));
            }
        }

        let mut allowed_origins = Vec::new();
        for entry in get("ALLOWED_ORIGINS").unwrap_or_default().split([',', ' ', '\n', '\t']).filter(|s| !s.is_empty()) {
            match canonical_origin(entry) {
                Some(o) => allowed_origins.push(o),
                None => warnings.push(format!(
                    "ALLOWED_ORIGINS entry {:?} ignored: give exact origins like https://console.example.com (no wildcards, no paths)",
                    entry.chars().take(80).collect::<String>()
                )),
            }
        }

        let own_origin = get("GPUFLEET_ORIGIN").and_then(|o| {
            let canon = canonical_origin(&o);
            if canon.is_none() {
                warnings.push(
                    "GPUFLEET_ORIGIN ignored: give the proxy's own origin, like https://fleet.example.com (no path)".to_owned(),
                );
            }
            canon
        });

        let mut providers = BTreeMap::new();
        let fal_key = get("FAL_KEY");
        let sfc_token = get("SFC_TOKEN");
        let sfc_workspace = get("SFC_WORKSPACE");
        if sfc_token.is_some() && sfc_workspace.is_none() {
            warnings.push("sfcompute not configured: SFC_TOKEN is set but SFC_WORKSPACE is not".to_owned());
        }
        let sfc_token = sfc_token.filter(|_| sfc_workspace.is_some());
        let wanted = [
            (Provider::Fal, "FAL_KEY", fal_key.clone(), "FAL_BASE_URL", None),
            (Provider::FalAlpha, "FAL_KEY", fal_key, "FAL_ALPHA_BASE_URL", None),
            (Provider::Sfcompute, "SFC_TOKEN", sfc_token, "SFC_BASE_URL", sfc_workspace),
            (Provider::Novita, "NOVITA_API_KEY", get("NOVITA_API_KEY"), "NOVITA_BASE_URL", None),
        ];
        for (p, key_var, key, url_var, workspace) in wanted {
            match provider_from_env(p, key_var, key, get(url_var), url_var, workspace) {
                Ok(Some(config)) => {
                    providers.insert(p, config);
                }
                Ok(None) => {}
                Err(w) => warnings.push(w),
            }
        }

        let mut number = |name: &str, default: u32| -> u32 {
            match get(name) {
                None => default,
                Some(v) => v.parse().unwrap_or_else(|_| {
                    warnings.push(format!("{name} ignored: not a whole number"));
                    default
                }),
            }
        };
        let rate = RateConfig {
            per_minute: number("RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_PER_MINUTE),
            burst: number("RATE_LIMIT_BURST", DEFAULT_RATE_BURST).max(1),
        };

        let prices = match get("GPUFLEET_PRICES") {
            None => crate::money::PriceTable::default(),
            Some(text) => match serde_json::from_str::<Value>(&text)
                .map_err(|e| format!("GPUFLEET_PRICES: must be JSON ({e})"))
                .and_then(|v| crate::money::PriceTable::from_json(&v, "GPUFLEET_PRICES").map_err(|e| e.message))
            {
                Ok(table) => table,
                Err(why) => {
                    warnings.push(format!("GPUFLEET_PRICES ignored (no configured prices are shown): {why}"));
                    crate::money::PriceTable::default()
                }
            },
        };

        ServerConfig {
            prices,
            price_cache: Default::default(),
            token: if refusal.is_none() { token.map(Secret) } else { None },
            readonly_token: if refusal.is_none() { readonly_token } else { None },
            refusal,
            allowed_origins,
            own_origin,
            providers,
            warnings,
            rate,
        }
    }

    /// The configured providers and their upstream configs.
    pub fn providers(&self) -> &BTreeMap<Provider, ProviderConfig> {
        &self.providers
    }

    /// Why the API refuses to serve, if it does.
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    /// The exact origins CORS allows (besides the proxy's own).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The proxy's own origin from `GPUFLEET_ORIGIN`, if set.
    pub fn own_origin(&self) -> Option<&str> {
        self.own_origin.as_deref()
    }

    /// Configuration warnings (no secrets inside).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The rate limiter's numbers.
    pub fn rate(&self) -> RateConfig {
        self.rate
    }

    /// Every secret value the proxy holds: tokens, provider keys and the SF Compute workspace.
    /// Responses are scrubbed of them.
    fn secrets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in [&self.token, &self.readonly_token].into_iter().flatten() {
            out.push(t.expose());
        }
        for c in self.providers.values() {
            out.push(c.api_key.as_str());
            // DESIGN.md counts the SF Compute workspace among the values never shown.
            out.extend(c.workspace.as_deref());
        }
        out.retain(|s| s.len() >= 6);
        out.sort_unstable();
        out.dedup();
        out
    }
}

// ----- crypto helpers ------------------------------------------------------------------------

/// SHA-256 of `data` (FIPS 180-4). Used to compare tokens in constant time and to key the rate
/// limiter without keeping a token around.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Compares two secrets in time that depends on neither their contents nor their lengths: both
/// are hashed first, then every byte of the digests is compared.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (x, y) = (sha256(a.as_bytes()), sha256(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ----- rate limiter --------------------------------------------------------------------------

/// The in-isolate per-caller token bucket. The clock is passed in (milliseconds), so tests drive it.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    buckets: HashMap<String, (f64, u64)>,
    max_keys: usize,
}

impl Default for RateLimiter {
    fn default() -> RateLimiter {
        RateLimiter::new()
    }
}

impl RateLimiter {
    /// An empty limiter that keeps at most 10,000 callers.
    pub fn new() -> RateLimiter {
        RateLimiter { buckets: HashMap::new(), max_keys: 10_000 }
    }

    /// Takes one request from `key`'s bucket: `Ok` when allowed, else how long until one more
    /// request is allowed (ms).
    pub fn check(&mut self, key: &str, rate: RateConfig, now_ms: u64) -> Result<(), u64> {
        if rate.per_minute == 0 {
            return Ok(());
        }
        let burst = f64::from(rate.burst.max(1));
        let per_ms = f64::from(rate.per_minute) / 60_000.0;
        if self.buckets.len() >= self.max_keys && !self.buckets.contains_key(key) {
            // Forget callers whose bucket has refilled (they are no different from new ones).
            let full_after = (burst / per_ms) as u64;
            self.buckets.retain(|_, (_, last)| now_ms.saturating_sub(*last) < full_after);
            if self.buckets.len() >= self.max_keys {
                self.buckets.clear();
            }
        }
        let (tokens, last) = self.buckets.entry(key.to_owned()).or_insert((burst, now_ms));
        let elapsed = now_ms.saturating_sub(*last) as f64;
        *tokens = (*tokens + elapsed * per_ms).min(burst);
        *last = now_ms.max(*last);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_ms).ceil() as u64)
        }
    }
}

// ----- requests and responses ----------------------------------------------------------------

/// The body of an incoming request, as far as the Worker read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// No body, or one the route does not read.
    Empty,
    /// The whole body (at most [`MAX_BODY_BYTES`]).
    Bytes(Vec<u8>),
    /// The body was longer than [`MAX_BODY_BYTES`]; reading stopped there.
    TooLarge,
}

/// One incoming request.
#[derive(Debug, Clone)]
pub struct ProxyRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The full URL as the platform gives it (`https://host/path?query`).
    pub url: String,
    /// The headers (names in any case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: RequestBody,
}

impl ProxyRequest {
    /// A request with no headers and no body.
    pub fn new(method: &str, url: &str) -> ProxyRequest {
        ProxyRequest { method: method.to_owned(), url: url.to_owned(), headers: Vec::new(), body: RequestBody::Empty }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> ProxyRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: RequestBody) -> ProxyRequest {
        self.body = body;
        self
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One line of the access log: never a key, a token, a body or a query string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// Our request id (also in the `X-Request-Id` response header).
    pub request_id: String,
    /// The method.
    pub method: String,
    /// The route's shape, e.g. `GET /api/v1/{provider}/instances/{id}` (ids left out).
    pub route: String,
    /// The provider the route targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// The status answered.
    pub status: u16,
    /// The error code, when the answer is an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    /// Milliseconds from admission to answer.
    pub duration_ms: u64,
}

impl LogRecord {
    /// The record as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"log\":\"unserializable\"}".to_owned())
    }
}

/// One answer.
#[derive(Debug, Clone)]
pub struct ProxyResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// What to log about it.
    pub log: LogRecord,
}

impl ProxyResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

// ----- headers -------------------------------------------------------------------------------

/// The console's Content-Security-Policy: nothing inline, nothing from elsewhere, never framed.
/// `'wasm-unsafe-eval'` lets the page compile gpufleet's own wasm (served from `'self'` under
/// `/pkg/`); it allows WebAssembly compilation only, not `eval` or inline script.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The CSP on API answers (JSON only: nothing may load, nothing may frame it).
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Methods the API accepts.
pub const API_METHODS: &str = "GET, POST, DELETE, OPTIONS";

/// Request headers a cross-origin caller may send.
pub const CORS_ALLOW_HEADERS: &str = "Authorization, Content-Type";

/// Response headers a cross-origin caller may read.
pub const CORS_EXPOSE_HEADERS: &str = "Retry-After, X-Request-Id, X-Upstream-Request-Id";

fn base_security_headers() -> Vec<(String, String)> {
    vec![("X-Content-Type-Options".into(), "nosniff".into()), ("Referrer-Policy".into(), "no-referrer".into())]
}

/// The headers of a console page or static file of `content_type`: the strict CSP, no framing,
/// no sniffing, no referrer.
pub fn console_headers(content_type: &str) -> Vec<(String, String)> {
    let mut h = vec![("Content-Type".to_owned(), content_type.to_owned())];
    h.extend(base_security_headers());
    h.push(("Content-Security-Policy".into(), CONSOLE_CSP.into()));
    h.push(("X-Frame-Options".into(), "DENY".into()));
    h.push(("Cross-Origin-Opener-Policy".into(), "same-origin".into()));
    h.push(("Cross-Origin-Resource-Policy".into(), "same-origin".into()));
    h.push(("Permissions-Policy".into(), "camera=(), microphone=(), geolocation=()".into()));
    h.push(("Cache-Control".into(), "no-cache".into()));
    h
}

// ----- the proxy -----------------------------------------------------------------------------

/// What kind of path a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Api,
    Health,
    Other,
}

/// Who the caller is, from the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Full,
    ReadOnly,
    Missing,
    Wrong,
}

/// A request that passed the checks that come before the rate limit (see the module docs), with
/// what the rest of the handling needs.
#[derive(Debug, Clone)]
pub struct Admitted {
    ctx: Ctx,
    caller: Caller,
    rate_key: String,
    route: Result<Route, RouteError>,
    content_type: Option<String>,
    content_length: Option<u64>,
}

impl Admitted {
    /// The key the rate limiter counts this caller under: `token:<sha-256 prefix>` for a valid
    /// token, else `ip:<CF-Connecting-IP>` (or `ip:unknown`).
    pub fn rate_key(&self) -> &str {
        &self.rate_key
    }

    /// Whether the Worker must read the body: a create from an authorized caller whose declared
    /// length is within the cap.
    pub fn wants_body(&self) -> bool {
        matches!(self.route, Ok(Route::Create(_)))
            && self.caller == Caller::Full
            && self.content_length.map_or(true, |n| n <= MAX_BODY_BYTES as u64)
    }
}

/// The first step's outcome.
#[derive(Debug, Clone)]
pub enum Admission {
    /// Answer now (a refusal, a preflight, `/healthz`, a 404).
    Respond(ProxyResponse),
    /// Go on: rate-limit, read the body if [`Admitted::wants_body`], then [`Proxy::serve`].
    Proceed(Box<Admitted>),
}

/// Per-request context carried to the answer.
#[derive(Debug, Clone)]
struct Ctx {
    request_id: String,
    method: String,
    route_label: String,
    provider: Option<Provider>,
    area: Area,
    cors_origin: Option<String>,
    start_ms: u64,
    /// Everything the caller sent that an error message could quote: the path, the query (raw
    /// and decoded) and, for a create, the body (raw, and its keys and values).
    caller_input: Vec<String>,
}

/// The edge proxy: a [`ServerConfig`] and the request handling.
#[derive(Debug, Clone)]
pub struct Proxy {
    config: ServerConfig,
}

/// Splits a URL into (scheme://authority, path, query) without decoding anything.
fn split_url(url: &str) -> (String, String, String) {
    let url = url.split('#').next().unwrap_or("");
    let (origin, rest) = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            let end = after.find(['/', '?']).unwrap_or(after.len());
            (url[..i + 3 + end].to_ascii_lowercase(), &after[end..])
        }
        None => (String::new(), url),
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = if path.is_empty() { "/" } else { path };
    (origin, path.to_owned(), query.to_owned())
}

fn route_label(method: &str, route: &Result<Route, RouteError>, area: Area) -> String {
    let shape = match (area, route) {
        (Area::Health, _) => "/healthz",
        (Area::Other, _) => "(static)",
        (Area::Api, Ok(Route::Providers)) => "/api/v1/providers",
        (Area::Api, Ok(Route::Fleet(_))) => "/api/v1/instances",
        (Area::Api, Ok(Route::List(_) | Route::Create(_))) => "/api/v1/{provider}/instances",
        (Area::Api, Ok(Route::Get(..) | Route::Delete(..))) => "/api/v1/{provider}/instances/{id}",
        (Area::Api, Ok(Route::Action(_, op, _))) => match op {
            Operation::Start => "/api/v1/{provider}/instances/{id}/start",
            Operation::Stop => "/api/v1/{provider}/instances/{id}/stop",
            Operation::Restart => "/api/v1/{provider}/instances/{id}/restart",
            _ => "/api/v1/{provider}/instances/{id}/terminate",
        },
        (Area::Api, Ok(Route::Ssh(..))) => "/api/v1/{provider}/instances/{id}/ssh",
        (Area::Api, Ok(Route::Offers(_))) => "/api/v1/offers",
        (Area::Api, Ok(Route::Balances)) => "/api/v1/balances",
        (Area::Api, Err(_)) => "/api (unmatched)",
    };
    let method: String = method.chars().filter(|c| c.is_ascii_alphabetic()).take(10).collect();
    format!("{method} {shape}")
}

/// Replaces every occurrence of any of `needles` in `haystack` (the longest match at each place),
/// in one pass; `None` when there is none.
fn replace_all(haystack: &[u8], needles: &[&[u8]], with: &[u8]) -> Option<Vec<u8>> {
    let needles: Vec<&[u8]> = needles.iter().copied().filter(|n| !n.is_empty()).collect();
    let mut starts = [false; 256];
    for n in &needles {
        starts[usize::from(n[0])] = true;
    }
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut copied) = (0, 0);
    while i < haystack.len() {
        if starts[usize::from(haystack[i])] {
            let rest = &haystack[i..];
            if let Some(len) = needles.iter().filter(|n| rest.starts_with(n)).map(|n| n.len()).max() {
                let o = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
                o.extend_from_slice(&haystack[copied..i]);
                o.extend_from_slice(with);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.map(|mut o| {
        o.extend_from_slice(&haystack[copied..]);
        o
    })
}

/// Replaces every occurrence of `needle` in `haystack`.
#[cfg(test)]
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    let mut copied = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i] == needle[0] && &haystack[i..i + needle.len()] == needle {
            let o = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
            o.extend_from_slice(&haystack[copied..i]);
            o.extend_from_slice(with);
            i += needle.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.map(|mut o| {
        o.extend_from_slice(&haystack[copied..]);
        o
    })
}

fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| {
        b"{\"error\":{\"code\":\"server\",\"message\":\"could not serialize the answer\",\"retryable\":false}}".to_vec()
    })
}

impl Proxy {
    /// A proxy with `config`.
    pub fn new(config: ServerConfig) -> Proxy {
        Proxy { config }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The [`ClientConfig`] the proxy calls upstream with: the configured providers and no
    /// retries (the proxy's callers retry; retrying here too would multiply attempts and could
    /// hold a request for a whole `Retry-After`).
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            providers: self.config.providers.clone(),
            retry: RetryPolicy { max_retries: 0, ..RetryPolicy::default() },
            max_pages: Some(500),
            page_concurrency: None,
            proxy: None,
            // Learned per request: an isolate keeps no state that could outlive a change of the
            // upstream (see README, "Novita paging").
            novita_numbering: Default::default(),
            prices: self.config.prices.clone(),
            // Prices may be a minute old (README, "Money"): kept across the isolate's requests.
            price_cache: self.config.price_cache.clone(),
        }
    }

    /// Answers one request: [`Self::admit`], the in-isolate rate limit, then [`Self::serve`].
    /// Never fails and never panics on anything the caller or an upstream sends.
    pub async fn handle<T: Transport>(&self, request: ProxyRequest, transport: T, limiter: &mut RateLimiter) -> ProxyResponse {
        let now = transport.now_ms();
        let request_id = new_request_id(&transport);
        let admitted = match self.admit(&request, request_id, now) {
            Admission::Respond(r) => return r,
            Admission::Proceed(a) => a,
        };
        if let Err(retry_after_ms) = limiter.check(admitted.rate_key(), self.config.rate, now) {
            return self.rate_limited(&admitted, retry_after_ms, now);
        }
        let body = if admitted.wants_body() { request.body } else { RequestBody::Empty };
        self.serve(*admitted, body, transport).await
    }

    /// The first step: CORS, preflight, method allowlist, refusal when no token is configured,
    /// `/healthz`, and who the caller is. `request_id` and `now_ms` come from the runtime.
    pub fn admit(&self, request: &ProxyRequest, request_id: String, now_ms: u64) -> Admission {
        let (url_origin, path, query) = split_url(&request.url);
        // The proxy's own origin: configured, or else the URL the runtime gives (on Cloudflare the
        // routed hostname; `scripts/proxy-runtime.mjs` pins it for Miniflare). Never a header the
        // caller sends: `Host`, `X-Forwarded-Host` and `Forwarded` are not read at all.
        let self_origin = self.config.own_origin.clone().unwrap_or(url_origin);
        let area = if path == "/healthz" {
            Area::Health
        } else if path == "/api" || path.starts_with("/api/") {
            Area::Api
        } else {
            Area::Other
        };
        let method = request.method.to_ascii_uppercase();
        let route = if area == Area::Api { parse_route(&method, &path, &query) } else { Err(RouteError::NotFound) };
        let mut ctx = Ctx {
            request_id,
            method: method.clone(),
            route_label: route_label(&method, &route, area),
            provider: route.as_ref().ok().and_then(Route::provider),
            area,
            cors_origin: None,
            start_ms: now_ms,
            caller_input: caller_input_of(&path, &query),
        };

        match area {
            Area::Health => {
                if method != "GET" && method != "HEAD" {
                    return Admission::Respond(self.method_not_allowed(&ctx, "GET, HEAD", now_ms));
                }
                let mut r = self.json_response(&ctx, 200, &self.health(), now_ms);
                if method == "HEAD" {
                    r.body.clear();
                }
                return Admission::Respond(r);
            }
            Area::Other => {
                // Static files are served by worker.js before the request reaches here.
                if method != "GET" && method != "HEAD" {
                    return Admission::Respond(self.method_not_allowed(&ctx, "GET, HEAD", now_ms));
                }
                let e = Error::new(ErrorCode::NotFound, "no such page");
                return Admission::Respond(self.error_response(&ctx, 404, &e, now_ms));
            }
            Area::Api => {}
        }

        // 1. CORS. An Origin is fine when it is ours (the console) or listed; anything else is
        // refused outright, with no CORS headers, so a browser shows the page nothing.
        if let Some(origin) = request.header_value("origin") {
            let canon = canonical_origin(origin);
            let allowed = match &canon {
                Some(o) => *o == self_origin || self.config.allowed_origins.contains(o),
                None => false,
            };
            if !allowed {
                let e = Error::new(ErrorCode::Forbidden, "this origin is not allowed to call the API (see ALLOWED_ORIGINS)");
                return Admission::Respond(self.error_response(&ctx, 403, &e, now_ms));
            }
            ctx.cors_origin = canon.filter(|o| *o != self_origin);
        }
        if method == "OPTIONS" {
            return Admission::Respond(self.preflight(&ctx, now_ms));
        }

        // 2. Method allowlist.
        if !matches!(method.as_str(), "GET" | "POST" | "DELETE") {
            return Admission::Respond(self.method_not_allowed(&ctx, API_METHODS, now_ms));
        }

        // 3. No usable token: refuse rather than run open.
        let Some(token) = &self.config.token else {
            let message = self.config.refusal.clone().unwrap_or_else(|| "the API is not configured".to_owned());
            let e = Error::new(ErrorCode::Unauthorized, message);
            return Admission::Respond(self.error_response(&ctx, 503, &e, now_ms));
        };

        // 5 (decided now, answered after the rate limit). Both tokens are always compared.
        let presented = request
            .header_value("authorization")
            .and_then(|v| {
                let v = v.trim();
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty());
        let caller = match presented {
            None => Caller::Missing,
            Some(t) => {
                let full = constant_time_eq(t, token.expose());
                let ro = self.config.readonly_token.as_ref().is_some_and(|r| constant_time_eq(t, r.expose()));
                if full {
                    Caller::Full
                } else if ro {
                    Caller::ReadOnly
                } else {
                    Caller::Wrong
                }
            }
        };
        let rate_key = match (caller, presented) {
            (Caller::Full | Caller::ReadOnly, Some(t)) => format!("token:{}", hex(&sha256(t.as_bytes())[..12])),
            _ => {
                let ip = request.header_value("cf-connecting-ip").map(str::trim).filter(|s| !s.is_empty());
                let ip: String = ip
                    .unwrap_or("unknown")
                    .chars()
                    .filter(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':'))
                    .take(45)
                    .collect();
                format!("ip:{ip}")
            }
        };
        let content_type = request.header_value("content-type").map(str::to_owned);
        let content_length = request.header_value("content-length").and_then(|v| v.trim().parse().ok());
        Admission::Proceed(Box::new(Admitted { ctx, caller, rate_key, route, content_type, content_length }))
    }

    /// The 429 answer for a caller over its rate.
    pub fn rate_limited(&self, admitted: &Admitted, retry_after_ms: u64, now_ms: u64) -> ProxyResponse {
        let mut e = Error::new(ErrorCode::RateLimited, "too many requests from this caller; slow down");
        e.retry_after_ms = Some(retry_after_ms.max(1000));
        self.error_response(&admitted.ctx, 429, &e, now_ms)
    }

    /// The last step: authorization, the route, the body, and the upstream call.
    pub async fn serve<T: Transport>(&self, admitted: Admitted, body: RequestBody, transport: T) -> ProxyResponse {
        let ctx = &admitted.ctx;
        // The client owns the transport, so the Worker's `Client<FetchTransport>` is the very one
        // the JS `Fleet` uses (one copy of the client's code in the wasm, not two).
        let client = Client::new(transport, self.client_config());
        let now = || client.transport().now_ms();
        match admitted.caller {
            Caller::Missing | Caller::Wrong => {
                let message = if admitted.caller == Caller::Missing {
                    "missing Authorization: Bearer <token> header"
                } else {
                    "the bearer token is not valid"
                };
                let mut r = self.error_response(ctx, 401, &Error::new(ErrorCode::Unauthorized, message), now());
                r.headers.push(("WWW-Authenticate".into(), "Bearer realm=\"gpufleet\"".into()));
                return r;
            }
            Caller::Full | Caller::ReadOnly => {}
        }
        let route = match &admitted.route {
            Ok(r) => r.clone(),
            Err(e) => {
                let (status, error) = e.to_error(&ctx.method);
                let mut r = self.error_response(ctx, status, &error, now());
                if let RouteError::MethodNotAllowed(allowed) = e {
                    r.headers.push(("Allow".into(), allowed.join(", ")));
                }
                return r;
            }
        };
        if admitted.caller == Caller::ReadOnly && route.is_mutation() {
            let e = Error::new(ErrorCode::Forbidden, "the read-only token may only read (GET)");
            return self.error_response(ctx, 403, &e, now());
        }
        // A provider must be configured here, or nothing is sent anywhere.
        let mut wanted: Vec<Provider> = route.provider().into_iter().collect();
        if let Route::Fleet(q) = &route {
            wanted.extend(q.providers.iter().flatten());
        }
        if let Some(p) = wanted.into_iter().find(|p| !self.config.providers.contains_key(p)) {
            let e = Error::invalid_input("provider", format!("{} is not configured on this proxy", p.as_str())).with_provider(p);
            return self.error_response(ctx, 400, &e, now());
        }
        let id = match &route {
            Route::Get(_, id) | Route::Delete(_, id) | Route::Action(_, _, id) | Route::Ssh(_, id) => Some(id.as_str()),
            _ => None,
        };
        if id.is_some_and(looks_like_host) {
            let e = Error::invalid_input("id", "looks like a host name or address, not an instance id");
            return self.error_response(ctx, 400, &e, now());
        }
        if let Route::List(ListQuery::Sfcompute(q)) = &route {
            if q.workspace.is_some() {
                let e = Error::invalid_input("workspace", "is set by the proxy (SFC_WORKSPACE), not by the caller");
                return self.error_response(ctx, 400, &e, now());
            }
        }

        let with_body;
        let ctx = match (&route, &body) {
            (Route::Create(_), RequestBody::Bytes(bytes)) => {
                let mut c = admitted.ctx.clone();
                add_body_input(&mut c.caller_input, bytes);
                with_body = c;
                &with_body
            }
            _ => ctx,
        };
        let result: Result<(u16, Vec<u8>), Error> = match route {
            Route::Providers => {
                let providers = self.config.providers.keys().map(|p| p.capabilities()).collect();
                let access = if admitted.caller == Caller::ReadOnly { Access::ReadOnly } else { Access::ReadWrite };
                Ok((200, json_bytes(&ProvidersResponse { providers, access })))
            }
            Route::Fleet(q) => client.list_all(&q).await.and_then(|mut listing| {
                let instances = std::mem::take(&mut listing.instances);
                Ok((200, instances_json(&listing, instances)?))
            }),
            Route::List(q) => client.list_page(&q).await.and_then(|mut page| {
                let items = std::mem::take(&mut page.items);
                Ok((200, instances_json(&page, items)?))
            }),
            // The record's text spliced in as the provider sent it, not re-serialized.
            Route::Get(p, id) => client.get(p, &id).await.map(|v| (200, instance_json(&v))),
            Route::Create(p) => match self.create_input(p, &admitted, body) {
                Ok(input) => client.create(&input).await.map(|v| (201, instance_json(&v))),
                Err((status, e)) => return self.error_response(ctx, status, &e, now()),
            },
            Route::Delete(p, id) => client.delete(p, &id).await.map(|v| (200, json_bytes(&v))),
            Route::Action(p, op, id) => {
                client.action(p, op, &id).await.map(|instance| (200, json_bytes(&ActionResponse { instance })))
            }
            Route::Ssh(p, id) => client.ssh(p, &id).await.map(|v| (200, json_bytes(&v))),
            Route::Offers(p) => client.offers(p).await.map(|v| (200, json_bytes(&v))),
            Route::Balances => client.balances().await.map(|v| (200, json_bytes(&v))),
        };
        match result {
            Ok((status, bytes)) => self.finish(ctx, status, "application/json; charset=utf-8", bytes, None, now()),
            Err(e) => self.error_response(ctx, http_status_for(&e), &e, now()),
        }
    }

    /// Checks and reads a create body.
    fn create_input(&self, p: Provider, admitted: &Admitted, body: RequestBody) -> Result<CreateInput, (u16, Error)> {
        let ct = admitted.content_type.as_deref().unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/json") {
            return Err((415, Error::invalid_input("Content-Type", "must be application/json")));
        }
        let too_large = || (413, Error::invalid_input("body", format!("must be at most {MAX_BODY_BYTES} bytes")));
        if admitted.content_length.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        let bytes = match body {
            RequestBody::TooLarge => return Err(too_large()),
            RequestBody::Bytes(b) if b.len() > MAX_BODY_BYTES => return Err(too_large()),
            RequestBody::Bytes(b) => b,
            RequestBody::Empty => Vec::new(),
        };
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| (400, Error::invalid_input("body", format!("must be a JSON object ({e})"))))?;
        if !value.is_object() {
            return Err((400, Error::invalid_input("body", "must be a JSON object")));
        }
        CreateInput::from_json(p, value).map_err(|e| (400, e.with_provider(p)))
    }

    /// What `/healthz` says: which providers are configured and whether the API serves. No secrets.
    fn health(&self) -> Value {
        let providers: serde_json::Map<String, Value> =
            Provider::ALL.iter().map(|p| (p.as_str().to_owned(), Value::Bool(self.config.providers.contains_key(p)))).collect();
        serde_json::json!({
            "ok": true,
            "api": if self.config.token.is_some() { "ready" } else { "refusing" },
            "reason": self.config.refusal,
            "readOnlyToken": self.config.readonly_token.is_some(),
            "providers": providers,
            "warnings": self.config.warnings,
        })
    }

    fn preflight(&self, ctx: &Ctx, now_ms: u64) -> ProxyResponse {
        let mut r = self.finish(ctx, 204, "", Vec::new(), None, now_ms);
        r.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        r.headers.push(("Allow".into(), API_METHODS.into()));
        if ctx.cors_origin.is_some() {
            r.headers.push(("Access-Control-Allow-Methods".into(), API_METHODS.into()));
            r.headers.push(("Access-Control-Allow-Headers".into(), CORS_ALLOW_HEADERS.into()));
            r.headers.push(("Access-Control-Max-Age".into(), "600".into()));
        }
        r
    }

    fn method_not_allowed(&self, ctx: &Ctx, allow: &str, now_ms: u64) -> ProxyResponse {
        // The method is not quoted: it is the caller's text (see `error_response`).
        let e = Error::new(ErrorCode::Unsupported, format!("this method is not allowed here; use {allow}"));
        let mut r = self.error_response(ctx, 405, &e, now_ms);
        r.headers.push(("Allow".into(), allow.to_owned()));
        r
    }

    fn json_response<V: Serialize>(&self, ctx: &Ctx, status: u16, value: &V, now_ms: u64) -> ProxyResponse {
        self.finish(ctx, status, "application/json; charset=utf-8", json_bytes(value), None, now_ms)
    }

    fn error_response(&self, ctx: &Ctx, status: u16, error: &Error, now_ms: u64) -> ProxyResponse {
        // Our own errors (no upstream status) quote nothing the caller sent: were a quoted value
        // one of our secrets, the scrub in `finish` would answer "[redacted]" and so confirm the guess.
        let concealed;
        let error = if error.status.is_none() {
            concealed = conceal_caller_input(error, &ctx.caller_input);
            &concealed
        } else {
            error
        };
        let mut r = self.finish(ctx, status, "application/json; charset=utf-8", error_body(error), Some(error.code), now_ms);
        if let Some(ms) = error.retry_after_ms {
            r.headers.push(("Retry-After".into(), ms.div_ceil(1000).max(1).to_string()));
        }
        if let Some(id) = &error.request_id {
            let id: String = id.chars().filter(|c| c.is_ascii_graphic()).take(200).collect();
            if !id.is_empty() {
                r.headers.push(("X-Upstream-Request-Id".into(), id));
            }
        }
        r
    }

    /// Builds the answer with every header the policy requires, scrubbed of every secret.
    fn finish(
        &self,
        ctx: &Ctx,
        status: u16,
        content_type: &str,
        mut body: Vec<u8>,
        code: Option<ErrorCode>,
        now_ms: u64,
    ) -> ProxyResponse {
        // Defence in depth: no key or token leaves, even if an upstream echoed one back. Every
        // secret (and its JSON-escaped spelling) in one pass over the body, not one pass each: a
        // 1,000-instance answer is about a megabyte.
        let mut needles: Vec<String> = Vec::new();
        for secret in self.config.secrets() {
            needles.push(secret.to_owned());
            if let Ok(escaped) = serde_json::to_string(secret) {
                let escaped = escaped.trim_matches('"');
                if escaped != secret {
                    needles.push(escaped.to_owned());
                }
            }
        }
        let needles: Vec<&[u8]> = needles.iter().map(|n| n.as_bytes()).collect();
        if let Some(b) = replace_all(&body, &needles, b"[redacted]") {
            body = b;
        }
        let mut headers = Vec::new();
        if !content_type.is_empty() {
            headers.push(("Content-Type".to_owned(), content_type.to_owned()));
        }
        headers.extend(base_security_headers());
        headers.push(("Cache-Control".into(), "no-store".into()));
        headers.push(("X-Request-Id".into(), ctx.request_id.clone()));
        match ctx.area {
            Area::Api => {
                headers.push(("Content-Security-Policy".into(), API_CSP.into()));
                headers.push(("Vary".into(), "Origin".into()));
                if let Some(origin) = &ctx.cors_origin {
                    headers.push(("Access-Control-Allow-Origin".into(), origin.clone()));
                    headers.push(("Access-Control-Expose-Headers".into(), CORS_EXPOSE_HEADERS.into()));
                }
            }
            Area::Health => headers.push(("Content-Security-Policy".into(), API_CSP.into())),
            Area::Other => {
                headers.push(("Content-Security-Policy".into(), CONSOLE_CSP.into()));
                headers.push(("X-Frame-Options".into(), "DENY".into()));
            }
        }
        ProxyResponse {
            status,
            headers,
            body,
            log: LogRecord {
                request_id: ctx.request_id.clone(),
                method: ctx.method.chars().filter(|c| c.is_ascii_alphabetic()).take(10).collect(),
                route: ctx.route_label.clone(),
                provider: ctx.provider,
                status,
                code,
                duration_ms: now_ms.saturating_sub(ctx.start_ms),
            },
        }
    }
}

// ----- never quoting the caller ---------------------------------------------------------------

/// What stands in for a caller's value in an error message.
const CONCEALED: &str = "…";

/// The strings of a request's path and query an error could quote: raw, percent-decoded, and
/// each comma-separated part of a decoded value.
fn caller_input_of(path: &str, query: &str) -> Vec<String> {
    let mut out = vec![path.to_owned(), query.to_owned()];
    out.extend(path.split('/').filter_map(crate::proxy_api::percent_decode));
    for part in query.split('&') {
        out.push(part.to_owned());
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        for s in [k, v] {
            let raw = s.replace('+', " ");
            out.extend(crate::proxy_api::percent_decode(&raw));
        }
    }
    let parts: Vec<String> = out.iter().flat_map(|s| s.split(',').map(str::to_owned)).collect();
    out.extend(parts);
    out.retain(|s| !s.is_empty());
    out
}

/// Adds a body's text, and every key, string and number in it when it is JSON.
fn add_body_input(out: &mut Vec<String>, body: &[u8]) {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
            _ => {}
        }
    }
    out.push(String::from_utf8_lossy(body).into_owned());
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        walk(&value, out);
    }
}

/// `error` with every value the caller sent replaced by `…`, decided by where a value sits, never
/// by what it is (so the answer is the same whether or not a value equals a secret):
///
/// - serde's "unknown field `k`", "unknown variant `v`", "invalid type/value: string \"v\"": the
///   quoted unexpected part;
/// - any other quoted text (`"…"`, `` `…` ``) that is part of what the caller sent, e.g. a
///   provider rule's "(got \"v\")";
/// - in `field`: an unknown key (the end of the path) and a `tags` map key.
fn conceal_caller_input(error: &Error, caller: &[String]) -> Error {
    let mut e = error.clone();
    let (prefix, rest) = match e.field.as_deref().and_then(|f| e.message.strip_prefix(f).map(|r| (f, r))) {
        Some((f, r)) if r.starts_with(": ") => (Some(f.to_owned()), r.to_owned()),
        _ => (None, e.message.clone()),
    };
    let rest = conceal_serde_unexpected(&rest);
    let rest = conceal_quoted(&rest, caller);
    if let Some(field) = e.field.as_deref() {
        let concealed = conceal_field(field, &error.message);
        e.message = match prefix {
            Some(_) => format!("{concealed}{rest}"),
            None => rest,
        };
        e.field = Some(concealed);
    } else {
        e.message = rest;
    }
    for d in &mut e.details {
        d.message = conceal_quoted(&d.message, caller);
        if let Some(f) = d.field.as_deref() {
            d.field = Some(conceal_field(f, ""));
        }
    }
    e
}

/// The quoted value in serde's messages about an unexpected key or value.
fn conceal_serde_unexpected(message: &str) -> String {
    for intro in [": unknown field ", ": unknown variant ", ": invalid type: ", ": invalid value: "] {
        let Some(start) = message.find(intro).map(|i| i + intro.len()) else { continue };
        let end = [", expected ", ", there are no "].iter().filter_map(|t| message.rfind(t)).filter(|&i| i >= start).max();
        let Some(end) = end else { continue };
        let unexpected = &message[start..end];
        let Some(q) = unexpected.find(['"', '`', '\'']) else { return message.to_owned() };
        let quote = &unexpected[q..q + 1];
        return format!("{}{}{quote}{CONCEALED}{quote}{}", &message[..start], &unexpected[..q], &message[end..]);
    }
    message.to_owned()
}

/// Every `"…"` or `` `…` `` segment whose text is part of what the caller sent, as `"…"`.
fn conceal_quoted(message: &str, caller: &[String]) -> String {
    let from_caller = |quoted: &str| {
        !quoted.is_empty()
            && quoted != CONCEALED
            && caller.iter().any(|s| s.contains(quoted) || format!("{s:?}").contains(quoted) || json_escaped(s).contains(quoted))
    };
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[i] as char;
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        // The closing quote; a `"` may be escaped inside (Debug and JSON escape it as \").
        let mut end = None;
        let mut escaped = false;
        for (j, c) in after.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && quote == '"' {
                escaped = true;
            } else if c == quote {
                end = Some(j);
                break;
            }
        }
        let Some(end) = end else {
            out.push_str(after);
            return out;
        };
        let quoted = &after[..end];
        out.push_str(if from_caller(quoted) { CONCEALED } else { quoted });
        out.push(quote);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn json_escaped(s: &str) -> String {
    serde_json::to_string(s).map(|q| q.trim_matches('"').to_owned()).unwrap_or_default()
}

/// A field path without the keys the caller chose: an unknown key (named by `message`) and the
/// key of a `tags` map.
fn conceal_field(field: &str, message: &str) -> String {
    let mut field = field.to_owned();
    if let Some(i) = message.find(": unknown field `").map(|i| i + ": unknown field `".len()) {
        let end = ["`, expected ", "`, there are no "].iter().filter_map(|t| message.rfind(t)).filter(|&j| j >= i).max();
        if let Some(key) = end.map(|j| &message[i..j]) {
            if !key.is_empty() && field.ends_with(key) && field.len() > key.len() {
                field = format!("{}{CONCEALED}", &field[..field.len() - key.len()]);
            } else if field == key {
                field = CONCEALED.to_owned();
            }
        }
    }
    let tags = if field.starts_with("tags.") { Some(0) } else { field.find(".tags.").map(|i| i + 1) };
    if let Some(i) = tags {
        field = format!("{}tags.{CONCEALED}", &field[..i]);
    }
    field
}

/// Whether `id` is shaped like a host: `localhost`, or dot-separated labels (a domain name or an
/// IPv4 address) with an optional `:port`. No provider's instance ids look like that, so the proxy
/// refuses such an id outright (defence in depth: the host of an upstream call is fixed anyway).
pub fn looks_like_host(id: &str) -> bool {
    let host = match id.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => id,
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels.last().is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()) || labels.len() == 4)
}

/// A fresh request id: 16 hex digits from the transport's randomness.
pub fn new_request_id<T: Transport>(transport: &T) -> String {
    let mut b = [0u8; 8];
    transport.fill_random(&mut b);
    hex(&b)
}

/// The API prefix, re-exported for the Worker glue.
pub const API_PATH_PREFIX: &str = API_PREFIX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_vectors() {
        assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(hex(&sha256(&vec![b'a'; 1_000])), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    }

    #[test]
    fn url_split() {
        assert_eq!(split_url("https://X.example/api/v1/p?q=1#f"), ("https://x.example".into(), "/api/v1/p".into(), "q=1".into()));
        assert_eq!(split_url("http://h:8787"), ("http://h:8787".into(), "/".into(), "".into()));
        assert_eq!(split_url("http://h?x"), ("http://h".into(), "/".into(), "x".into()));
    }

    #[test]
    fn base_urls() {
        for ok in ["https://api.fal.ai/v1", "http://127.0.0.1:9000/fal/v1", "http://localhost:1/x", "http://[::1]:8/x"] {
            assert!(acceptable_base_url(ok), "{ok}");
        }
        for bad in [
            "http://evil.example/v1",
            "ftp://x",
            "https://u:p@x/v1",
            "https://x/v1?a",
            "http://127.0.0.1.evil.com/",
            "https://",
            "http://127.evil.co.uk/v1",
            "http://127.0.0.1:80x/",
        ] {
            assert!(!acceptable_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(canonical_origin("HTTPS://Console.Example.com/").as_deref(), Some("https://console.example.com"));
        assert_eq!(canonical_origin("http://localhost:5173").as_deref(), Some("http://localhost:5173"));
        for bad in ["*", "https://*.example.com", "https://x/path", "null", "javascript://x", "https://a@b"] {
            assert_eq!(canonical_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn host_shaped_ids() {
        for host in ["evil.example", "127.0.0.1", "127.0.0.1:8787", "localhost", "LOCALHOST:80", "a-b.example.com:443"] {
            assert!(looks_like_host(host), "{host}");
        }
        for id in [
            "inst_abc123",
            "550e8400-e29b-41d4-a716-446655440000",
            "sfc:instance:acme:prod:web.1",
            "abc",
            "a.1",
            "1.2.3",
            "x.y_z",
        ] {
            assert!(!looks_like_host(id), "{id}");
        }
    }

    #[test]
    fn replace() {
        assert_eq!(replace_bytes(b"a-KEY-b-KEY", b"KEY", b"[r]").unwrap(), b"a-[r]-b-[r]");
        assert_eq!(replace_bytes(b"nothing", b"KEY", b"x"), None);
        // The one-pass scrub gives what replacing each needle in turn gives.
        let text = b"k1 xx K2\\/ k1k1 K2 abK2c".to_vec();
        let needles: [&[u8]; 3] = [b"k1", b"K2", b"K2\\/"];
        let mut one_by_one = text.clone();
        for n in [b"K2\\/".as_slice(), b"k1", b"K2"] {
            if let Some(b) = replace_bytes(&one_by_one, n, b"[r]") {
                one_by_one = b;
            }
        }
        assert_eq!(replace_all(&text, &needles, b"[r]").unwrap(), one_by_one);
        assert_eq!(replace_all(b"clean", &needles, b"[r]"), None);
        assert_eq!(replace_all(b"abc", &[b"".as_slice()], b"[r]"), None);
    }

    #[test]
    fn limiter_refills() {
        let rate = RateConfig { per_minute: 60, burst: 2 };
        let mut l = RateLimiter::new();
        assert!(l.check("a", rate, 0).is_ok());
        assert!(l.check("a", rate, 0).is_ok());
        assert_eq!(l.check("a", rate, 0), Err(1000));
        assert!(l.check("b", rate, 0).is_ok(), "callers are independent");
        assert_eq!(l.check("a", rate, 500), Err(500));
        assert!(l.check("a", rate, 1000).is_ok());
        assert!(l.check("a", RateConfig { per_minute: 0, burst: 1 }, 1000).is_ok(), "0 turns it off");
    }
}
