//! What the Worker hands the proxy and gets back: a [`ProxyRequest`] (converted from a JS
//! `Request`), a [`ProxyResponse`] (converted to a JS `Response`), and the [`LogRecord`] of the
//! access log.

use serde::Serialize;

use crate::error::ErrorCode;
use crate::provider::Provider;
use crate::proxy::access::AccessCheck;

/// The body of an incoming request, as far as the Worker read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// No body, or one the route does not read.
    Empty,
    /// The whole body (at most [`MAX_BODY_BYTES`](crate::proxy::api::MAX_BODY_BYTES)).
    Bytes(Vec<u8>),
    /// The body was longer than [`MAX_BODY_BYTES`](crate::proxy::api::MAX_BODY_BYTES); reading stopped there.
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
    /// What the Worker's check of the request's Cloudflare Access assertion found (`access.js`),
    /// when it made one: it does for an `/api` request with `Cf-Access-Jwt-Assertion` and no
    /// `Authorization`, when Access is configured.
    pub access: Option<AccessCheck>,
}

impl ProxyRequest {
    /// A request with no headers and no body.
    pub fn new(method: &str, url: &str) -> ProxyRequest {
        ProxyRequest {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: RequestBody::Empty,
            access: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> ProxyRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets what the Worker's check of the Cloudflare Access assertion found.
    pub fn access(mut self, check: AccessCheck) -> ProxyRequest {
        self.access = Some(check);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: RequestBody) -> ProxyRequest {
        self.body = body;
        self
    }

    pub(super) fn header_value(&self, name: &str) -> Option<&str> {
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
    /// Who called (a caller name: `token`, `readonly-token` or a `GPUFLEET_CALLERS` name), when
    /// the token was valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
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
