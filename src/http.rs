//! The HTTP seam: plain request/response values and the [`Transport`] trait that sends them.
//!
//! Provider modules build an [`HttpRequest`] and parse an [`HttpResponse`] without doing any I/O;
//! a transport (the global `fetch` on wasm, anything you like natively) moves the bytes.

use std::time::Duration;

use crate::error::TransportError;

/// An HTTP method the providers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name, e.g. `"GET"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One outgoing request: method, absolute URL (query included), headers in order, optional body.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL with its already-encoded query string.
    pub url: String,
    /// Header names and values, in the order they are sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes (JSON for every provider), if any.
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> HttpRequest {
        HttpRequest { method, url: url.into(), headers: Vec::new(), body: None }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json_body(mut self, body: Vec<u8>) -> HttpRequest {
        self.body = Some(body);
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

// Debug never prints credentials: a request is logged in tests and error paths.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(
                |(k, v)| {
                    if k.eq_ignore_ascii_case("authorization") {
                        (k.as_str(), "[redacted]")
                    } else {
                        (k.as_str(), v.as_str())
                    }
                },
            )
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body.as_ref().map(|b| String::from_utf8_lossy(b)))
            .finish()
    }
}

/// One response: status, headers (names as received), whole body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status` and `body` and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
        HttpResponse { status, headers: Vec::new(), body: body.into() }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// What the [`crate::Client`] needs from its environment: sending requests, sleeping, the clock,
/// and randomness.
///
/// There is deliberately no `Send` bound: `fetch` futures on wasm are `!Send`. The wasm build
/// implements this over the global `fetch` and `setTimeout`; native users and tests implement it
/// with whatever they like (see the README for a minimal example).
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends one request and returns the whole response, or why there is none.
    ///
    /// Any status code, including 4xx and 5xx, is a response, not an error.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Waits for `duration` (backoff, waiter polls). Returns `Err(Aborted)` as soon as the caller
    /// aborts, without waiting for the rest of the duration.
    async fn sleep(&self, duration: Duration) -> Result<(), TransportError>;

    /// Milliseconds since the Unix epoch (used by waiters and `Retry-After` dates).
    fn now_ms(&self) -> u64;

    /// Fills `buf` with random bytes (idempotency keys, backoff jitter).
    fn fill_random(&self, buf: &mut [u8]);
}

impl<T: Transport + ?Sized> Transport for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
    async fn sleep(&self, duration: Duration) -> Result<(), TransportError> {
        (**self).sleep(duration).await
    }
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    fn fill_random(&self, buf: &mut [u8]) {
        (**self).fill_random(buf)
    }
}

impl<T: Transport + ?Sized> Transport for std::rc::Rc<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
    async fn sleep(&self, duration: Duration) -> Result<(), TransportError> {
        (**self).sleep(duration).await
    }
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    fn fill_random(&self, buf: &mut [u8]) {
        (**self).fill_random(buf)
    }
}

/// Percent-encodes `s` for a query-string key or value, or a path segment (RFC 3986: only
/// unreserved characters stay as they are, so `=` becomes `%3D` and `/` becomes `%2F`).
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// Builds `?k=v&k2=v2` from pairs in order (each key and value percent-encoded); empty when no pairs.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&percent_encode(k.as_ref()));
        out.push('=');
        out.push_str(&percent_encode(v.as_ref()));
    }
    out
}

/// Whether `url` may carry a key: `https://…`, or `http://` to a loopback host only
/// (`localhost`, `127.0.0.0/8`, `[::1]`), so a key never crosses a network in clear.
///
/// Only the scheme and host are judged here; callers check the rest of their URL rules.
pub fn is_https_or_loopback(url: &str) -> bool {
    let url = url.trim();
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, port)) if port.is_empty() || is_port(port) => h,
            _ => return false,
        },
        None => match authority.split_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return false,
            None => authority,
        },
    };
    is_loopback_host(host)
}

fn is_port(s: &str) -> bool {
    s.strip_prefix(':').unwrap_or(s).bytes().all(|b| b.is_ascii_digit()) && s.len() <= 6
}

/// `localhost`, `::1`, or a dotted-decimal IPv4 address in `127.0.0.0/8`.
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "::1" {
        return true;
    }
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts[0] == "127"
        && parts.iter().all(|p| {
            !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// The origin (`scheme://host[:port]`, lowercase) of an absolute `http(s)` URL: never its
/// userinfo, path, query or fragment. `None` when `url` is not one (or its host has characters
/// no host has).
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    origin_from_parts(&scheme, rest)
}

/// `scheme://authority` from what follows `//`, with userinfo dropped and the authority checked.
fn origin_from_parts(scheme: &str, after_slashes: &str) -> Option<String> {
    let authority = after_slashes.split(['/', '\\', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let ok = !host_port.is_empty()
        && host_port.len() <= 262
        && host_port.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'));
    ok.then(|| format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

/// Where a redirect answer to a request for `request_url` points: the origin of its `Location`
/// (a relative one resolved against `request_url`), never its path or query. `None` when the
/// answer has no `Location` or it does not read as an `http(s)` URL.
pub fn redirect_target(request_url: &str, location: Option<&str>) -> Option<String> {
    // As a browser reads it: tabs and newlines dropped, `\` taken for `/`.
    let location: String =
        location?.trim().chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).map(|c| if c == '\\' { '/' } else { c }).collect();
    if location.is_empty() || location.chars().any(|c| c.is_control()) {
        return None;
    }
    if let Some(rest) = location.strip_prefix("//") {
        let scheme = request_url.trim().split_once("://")?.0.to_ascii_lowercase();
        return origin_from_parts(&scheme, rest);
    }
    let has_scheme = location.split_once(':').is_some_and(|(s, _)| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    });
    if has_scheme {
        return origin_of(&location);
    }
    origin_of(request_url)
}

/// Refuses a redirect: a 3xx answer becomes [`TransportError::Redirect`] (with the origin its
/// `Location` points to), anything else is passed on. The [`crate::Client`] applies this to every
/// answer, so no transport's redirect is ever followed or read as a provider's answer.
pub fn refuse_redirect(request_url: &str, response: HttpResponse) -> Result<HttpResponse, TransportError> {
    if (300..400).contains(&response.status) {
        return Err(TransportError::Redirect {
            status: Some(response.status),
            from: origin_of(request_url),
            to: redirect_target(request_url, response.header("location")),
        });
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("env=prod"), "env%3Dprod");
        assert_eq!(percent_encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(percent_encode("Az09-._~"), "Az09-._~");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn query_string_keeps_order_and_repeats() {
        let q = query_string(&[("status", "running"), ("status", "failed"), ("tag", "a=b")]);
        assert_eq!(q, "?status=running&status=failed&tag=a%3Db");
        assert_eq!(query_string::<&str, &str>(&[]), "");
    }

    #[test]
    fn https_or_loopback_only() {
        for ok in [
            "https://api.novita.ai/v1",
            "https://example.com",
            "http://127.0.0.1:9000/fal/v1",
            "http://127.1.2.3/x",
            "http://localhost",
            "http://LOCALHOST:8787/x",
            "http://[::1]:8/x",
            "http://[::1]",
        ] {
            assert!(is_https_or_loopback(ok), "{ok}");
        }
        for bad in [
            "http://example.com/v1",
            "http://127.0.0.1.evil.com/",
            "http://127.evil.co.uk/v1",
            "http://127.0.0.256/",
            "http://localhost.evil.com/",
            "http://user@127.0.0.1/",
            "http://127.0.0.1@evil.com/",
            "http://evil.com\\@127.0.0.1/",
            "http://[::2]/",
            "http://[::1]evil/",
            "http://127.0.0.1:80x/",
            "ftp://127.0.0.1/",
            "HTTP://localhost/",
            "",
        ] {
            assert!(!is_https_or_loopback(bad), "{bad}");
        }
    }

    #[test]
    fn origins_never_carry_userinfo_path_or_query() {
        assert_eq!(origin_of("https://Api.Example.com:8443/v1/x?key=secret#f").as_deref(), Some("https://api.example.com:8443"));
        assert_eq!(origin_of("http://user:pass@127.0.0.1:9/x").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(origin_of("http://[::1]:7/x").as_deref(), Some("http://[::1]:7"));
        assert_eq!(origin_of("https://"), None);
        assert_eq!(origin_of("javascript://x"), None);
        assert_eq!(origin_of("https://ex ample.com/"), None);
    }

    #[test]
    fn redirect_targets_are_origins() {
        let from = "http://127.0.0.1:4000/novita/v1/gpu/instances?page=2";
        let t = |loc: &str| redirect_target(from, Some(loc));
        assert_eq!(t("http://127.0.0.1:5000/steal?token=abc&x=1").as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(t("HTTPS://Other.Example/a").as_deref(), Some("https://other.example"));
        assert_eq!(t("https://u:p@other.example:444/a").as_deref(), Some("https://other.example:444"));
        assert_eq!(t("//other.example/a?b").as_deref(), Some("http://other.example"), "scheme-relative");
        assert_eq!(t("/\\other.example/a").as_deref(), Some("http://other.example"), "a backslash is a slash, as in a browser");
        assert_eq!(t("/v2/instances?page=3").as_deref(), Some("http://127.0.0.1:4000"), "relative: the request's origin");
        assert_eq!(t("?page=3").as_deref(), Some("http://127.0.0.1:4000"));
        assert_eq!(t("  https://other.example/\t "), Some("https://other.example".to_owned()));
        assert_eq!(t("javascript:alert(1)"), None);
        assert_eq!(t("http:other.example"), None);
        assert_eq!(t("https://exa\u{7f}mple/"), None);
        assert_eq!(t(""), None);
        assert_eq!(redirect_target(from, None), None);
    }

    #[test]
    fn only_3xx_is_refused() {
        let url = "https://api.example.com/v1/x?q=1";
        for status in [300, 301, 302, 303, 304, 307, 308, 399] {
            let r = HttpResponse::new(status, b"moved".to_vec()).with_header("Location", "https://evil.example/x?k=v");
            assert_eq!(
                refuse_redirect(url, r),
                Err(TransportError::Redirect {
                    status: Some(status),
                    from: Some("https://api.example.com".into()),
                    to: Some("https://evil.example".into())
                })
            );
        }
        for status in [200, 201, 204, 299, 400, 404, 500] {
            let r = HttpResponse::new(status, b"{}".to_vec()).with_header("Location", "https://evil.example/");
            assert_eq!(refuse_redirect(url, r.clone()), Ok(r));
        }
    }

    #[test]
    fn debug_redacts_authorization() {
        let r = HttpRequest::new(Method::Get, "https://x").header("Authorization", "Key secret");
        assert!(!format!("{r:?}").contains("secret"));
    }
}
