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
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("authorization") {
                    (k.as_str(), "[redacted]")
                } else {
                    (k.as_str(), v.as_str())
                }
            })
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
    fn debug_redacts_authorization() {
        let r = HttpRequest::new(Method::Get, "https://x").header("Authorization", "Key secret");
        assert!(!format!("{r:?}").contains("secret"));
    }
}
