//! The security headers every answer carries: the console's strict Content-Security-Policy and
//! the API's, no sniffing, no referrer, no framing; and the CORS grants a listed origin gets.

/// The console's Content-Security-Policy: nothing inline, nothing from elsewhere, never framed.
/// `'wasm-unsafe-eval'` lets the page compile gpufleet's own wasm (served from `'self'` under
/// `/pkg/`); it allows WebAssembly compilation only, not `eval` or inline script.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The CSP on API answers (JSON only: nothing may load, nothing may frame it).
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Methods the API accepts.
pub const API_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";

/// Request headers a cross-origin caller may send.
pub const CORS_ALLOW_HEADERS: &str = "Authorization, Content-Type";

/// Response headers a cross-origin caller may read: the request ids, and the records' markers
/// (`X-Gpufleet-Audit`, `X-Gpufleet-Deadline`, `X-Gpufleet-Deadlines`: `failed`).
pub const CORS_EXPOSE_HEADERS: &str =
    "Retry-After, X-Request-Id, X-Upstream-Request-Id, X-Gpufleet-Audit, X-Gpufleet-Deadline, X-Gpufleet-Deadlines";

pub(super) fn base_security_headers() -> Vec<(String, String)> {
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
