//! The edge proxy's REST API, defined once for both sides: the Worker parses requests with
//! [`parse_route`] and answers with these bodies; the client in proxy mode builds the same
//! requests with [`build_request`] and reads the same bodies. Pure: no I/O, no wasm.
//!
//! ```text
//! GET    /api/v1/providers                                   ProvidersResponse
//! GET    /api/v1/instances?provider=&status=&q=              FleetListing
//! GET    /api/v1/{provider}/instances?limit=&cursor=&…       Page<Instance>
//! GET    /api/v1/{provider}/instances/{id}                   Instance
//! POST   /api/v1/{provider}/instances        (JSON body)     Instance (201)
//!                          (the input, and optionally `deadline`: see crate::records_api)
//! DELETE /api/v1/{provider}/instances/{id}                   DeleteOutcome
//! POST   /api/v1/{provider}/instances/{id}/{action}          ActionResponse
//! GET    /api/v1/{provider}/instances/{id}/ssh               SshDetails
//! ```
//! Errors are `{"error": Error}` with an HTTP status from [`http_status_for`]. A proxy that keeps
//! records puts each instance's `deadline` on its list, get and create answers; the records'
//! own routes are in [`crate::records_api`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tsify::Tsify;

use crate::error::{Error, ErrorCode, Result};
use crate::http::{percent_encode, query_string, HttpRequest, Method};
use crate::model::{Access, Capabilities, FleetQuery, Instance, ListQuery, Operation, Status};
use crate::provider::{validate_id, Provider};

/// The path prefix of every API route.
pub const API_PREFIX: &str = "/api/v1";

/// Largest request body the proxy accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the proxy is and how to authenticate to it.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The API base, e.g. `https://fleet.example.com/api` or `/api` resolved by the caller; the
    /// routes above are appended after `/v1`.
    pub base_url: String,
    /// The proxy's bearer token (`GPUFLEET_TOKEN`, the read-only token or a named caller's);
    /// `None` sends no `Authorization`, for a proxy behind Cloudflare Access that knows the
    /// caller by the identity Access vouches for.
    pub token: Option<String>,
}

impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConfig").field("base_url", &self.base_url).field("token", &"[redacted]").finish()
    }
}

impl ProxyConfig {
    /// Checks the URL and token.
    pub fn validate(&self) -> Result<()> {
        let u = self.base_url.trim();
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(Error::invalid_input("proxy.url", "must be an absolute http(s) URL (resolve relative URLs first)"));
        }
        if self.token.as_deref().is_some_and(|t| t.trim().is_empty() || t.chars().any(|c| c.is_control())) {
            return Err(Error::invalid_input(
                "proxy.token",
                "must be a non-empty token without control characters (or left out behind Cloudflare Access)",
            ));
        }
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        let base = self.base_url.trim().trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        format!("{base}/v1{path}")
    }
}

/// `GET /api/v1/providers`: the configured providers and what each can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ProvidersResponse {
    /// One entry per configured provider.
    pub providers: Vec<Capabilities>,
    /// What the calling token may do (`readWrite` when a proxy predating this field answers).
    #[serde(default)]
    pub access: Access,
}

/// The answer to start/stop/restart/terminate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ActionResponse {
    /// The instance, when the provider returned it (SF Compute terminate); otherwise `null`.
    #[tsify(type = "Instance | null")]
    pub instance: Option<Instance>,
}

/// The error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: Error,
}

/// A request the proxy understood.
// One `Route` lives for one request, on the stack; boxing the list query (the large variant on
// 32-bit wasm) would only add an allocation per request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /api/v1/providers`
    Providers,
    /// `GET /api/v1/instances`
    Fleet(FleetQuery),
    /// `GET /api/v1/{provider}/instances`
    List(ListQuery),
    /// `GET /api/v1/{provider}/instances/{id}`
    Get(Provider, String),
    /// `POST /api/v1/{provider}/instances` (the body is read separately)
    Create(Provider),
    /// `DELETE /api/v1/{provider}/instances/{id}`
    Delete(Provider, String),
    /// `POST /api/v1/{provider}/instances/{id}/{start|stop|restart|terminate}`
    Action(Provider, Operation, String),
    /// `GET /api/v1/{provider}/instances/{id}/ssh`
    Ssh(Provider, String),
    /// `GET /api/v1/offers[?provider=…]`
    Offers(Option<Provider>),
    /// `GET /api/v1/balances`
    Balances,
    /// `PUT /api/v1/{provider}/instances/{id}/deadline` (the body is read separately)
    SetDeadline(Provider, String),
    /// `DELETE /api/v1/{provider}/instances/{id}/deadline`
    ClearDeadline(Provider, String),
    /// `GET /api/v1/deadlines`
    Deadlines,
    /// `GET /api/v1/audit?provider=&instance=&caller=&action=&before=&limit=`
    Audit(crate::records_api::AuditQuery),
    /// `GET /api/v1/orphans[?olderThanMs=…]`
    Orphans(u64),
    /// `GET /api/v1/live` (the shared live view's event stream) or, with `true`,
    /// `GET /api/v1/live/refresh` (a walk now, shared with every other caller asking).
    /// The proxy only admits it; `worker.js` hands it to the `FleetLive` Durable Object.
    Live(bool),
}

impl Route {
    /// Whether the route changes anything (the read-only token may not call it).
    pub fn is_mutation(&self) -> bool {
        matches!(
            self,
            Route::Create(_) | Route::Delete(..) | Route::Action(..) | Route::SetDeadline(..) | Route::ClearDeadline(..)
        )
    }

    /// Whether the route reads or writes the proxy's records (D1), not only a provider.
    pub fn uses_records(&self) -> bool {
        matches!(self, Route::SetDeadline(..) | Route::ClearDeadline(..) | Route::Deadlines | Route::Audit(_) | Route::Orphans(_))
    }

    /// The provider the route targets, if one.
    pub fn provider(&self) -> Option<Provider> {
        match self {
            Route::Providers | Route::Fleet(_) | Route::Balances | Route::Deadlines | Route::Orphans(_) | Route::Live(_) => None,
            Route::Offers(p) => *p,
            Route::Audit(q) => q.provider,
            Route::SetDeadline(p, _) | Route::ClearDeadline(p, _) => Some(*p),
            Route::List(q) => Some(q.provider()),
            Route::Get(p, _) | Route::Create(p) | Route::Delete(p, _) | Route::Action(p, ..) | Route::Ssh(p, _) => Some(*p),
        }
    }
}

/// Why a request did not match a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No such route (404).
    NotFound,
    /// The path exists but not with this method (405); the methods it allows.
    MethodNotAllowed(&'static [&'static str]),
    /// The path or query broke a rule (400).
    Invalid(Error),
}

impl RouteError {
    /// The HTTP status and error body for this failure. `_method` (the request's) is not quoted
    /// in the message: it is the caller's text.
    pub fn to_error(&self, _method: &str) -> (u16, Error) {
        match self {
            RouteError::NotFound => (404, Error::new(ErrorCode::NotFound, "no such API route")),
            // The method is not quoted: it is the caller's text (see `Proxy::error_response`).
            RouteError::MethodNotAllowed(allowed) => {
                (405, Error::new(ErrorCode::Unsupported, format!("this method is not allowed here; use {}", allowed.join(", "))))
            }
            RouteError::Invalid(e) => (400, e.clone()),
        }
    }
}

fn decode_segment(seg: &str) -> std::result::Result<String, RouteError> {
    let decoded = percent_decode(seg).ok_or_else(|| RouteError::Invalid(Error::invalid_input("path", "bad percent-encoding")))?;
    Ok(decoded)
}

/// Matches `method` + `path` (+ raw `query`, without `?`) to a [`Route`]. Provider names and ids
/// are validated here, before anything goes upstream: traversal (`..`, `%2e%2e`, `%2f`), hosts and
/// odd characters in an id are rejected.
pub fn parse_route(method: &str, path: &str, query: &str) -> std::result::Result<Route, RouteError> {
    let rest = path.strip_prefix(API_PREFIX).ok_or(RouteError::NotFound)?;
    let raw_segments: Vec<&str> = rest.split('/').skip(1).collect();
    if !rest.starts_with('/') || raw_segments.iter().any(|s| s.is_empty()) {
        return Err(RouteError::NotFound);
    }
    let segs = raw_segments.iter().map(|s| decode_segment(s)).collect::<std::result::Result<Vec<_>, _>>()?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let params = parse_query(query).map_err(RouteError::Invalid)?;
    let only = |allowed: &'static [&'static str]| -> std::result::Result<(), RouteError> {
        if allowed.contains(&method) {
            Ok(())
        } else {
            Err(RouteError::MethodNotAllowed(allowed))
        }
    };
    let no_query = |params: &Vec<(String, String)>| -> std::result::Result<(), RouteError> {
        // The parameter is not named: its name is the caller's text (see `Proxy::error_response`).
        match params.first() {
            None => Ok(()),
            Some(_) => Err(RouteError::Invalid(Error::invalid_input("query", "this route takes no query parameters"))),
        }
    };
    let provider = |s: &str| -> std::result::Result<Provider, RouteError> {
        Provider::parse(s).ok_or_else(|| {
            RouteError::Invalid(Error::invalid_input("provider", "must be one of fal, fal-alpha, sfcompute, novita"))
        })
    };
    let id = |s: &str| -> std::result::Result<String, RouteError> {
        validate_id(s).map_err(RouteError::Invalid)?;
        Ok(s.to_owned())
    };
    match segs.as_slice() {
        ["providers"] => {
            only(&["GET"])?;
            no_query(&params)?;
            Ok(Route::Providers)
        }
        ["instances"] => {
            only(&["GET"])?;
            Ok(Route::Fleet(fleet_query_from_params(&params).map_err(RouteError::Invalid)?))
        }
        ["offers"] => {
            only(&["GET"])?;
            match params.as_slice() {
                [] => Ok(Route::Offers(None)),
                [(name, value)] if name == "provider" => Ok(Route::Offers(Some(provider(value)?))),
                _ => Err(RouteError::Invalid(Error::invalid_input(
                    "query",
                    "takes only provider (one of fal, fal-alpha, sfcompute, novita)",
                ))),
            }
        }
        ["balances"] => {
            only(&["GET"])?;
            no_query(&params)?;
            Ok(Route::Balances)
        }
        [p, "instances"] => {
            only(&["GET", "POST"])?;
            let p = provider(p)?;
            if method == "GET" {
                Ok(Route::List(list_query_from_params(p, &params).map_err(RouteError::Invalid)?))
            } else {
                no_query(&params)?;
                Ok(Route::Create(p))
            }
        }
        [p, "instances", i] => {
            only(&["GET", "DELETE"])?;
            no_query(&params)?;
            let (p, i) = (provider(p)?, id(i)?);
            Ok(if method == "GET" { Route::Get(p, i) } else { Route::Delete(p, i) })
        }
        ["deadlines"] => {
            only(&["GET"])?;
            no_query(&params)?;
            Ok(Route::Deadlines)
        }
        ["audit"] => {
            only(&["GET"])?;
            Ok(Route::Audit(crate::records_api::AuditQuery::from_params(&params).map_err(RouteError::Invalid)?))
        }
        ["orphans"] => {
            only(&["GET"])?;
            Ok(Route::Orphans(crate::records_api::orphan_age_from_params(&params).map_err(RouteError::Invalid)?))
        }
        ["live"] | ["live", "refresh"] => {
            only(&["GET"])?;
            no_query(&params)?;
            Ok(Route::Live(segs.len() == 2))
        }
        [p, "instances", i, "deadline"] => {
            only(&["PUT", "DELETE"])?;
            no_query(&params)?;
            let (p, i) = (provider(p)?, id(i)?);
            Ok(if method == "PUT" { Route::SetDeadline(p, i) } else { Route::ClearDeadline(p, i) })
        }
        [p, "instances", i, "ssh"] => {
            only(&["GET"])?;
            no_query(&params)?;
            Ok(Route::Ssh(provider(p)?, id(i)?))
        }
        [p, "instances", i, action] => {
            let op = match *action {
                "start" => Operation::Start,
                "stop" => Operation::Stop,
                "restart" => Operation::Restart,
                "terminate" => Operation::Terminate,
                _ => return Err(RouteError::NotFound),
            };
            only(&["POST"])?;
            no_query(&params)?;
            Ok(Route::Action(provider(p)?, op, id(i)?))
        }
        _ => Err(RouteError::NotFound),
    }
}

/// The HTTP status the proxy answers with for `error`. Upstream authentication failures become
/// 502 so that a caller never mistakes a bad provider key for a bad proxy token.
pub fn http_status_for(error: &Error) -> u16 {
    let upstream = error.provider.is_some() && error.status.is_some();
    match error.code {
        ErrorCode::InvalidInput => 400,
        ErrorCode::Validation => 422,
        ErrorCode::Unauthorized | ErrorCode::Forbidden if upstream => 502,
        ErrorCode::Unauthorized => 401,
        ErrorCode::Forbidden => 403,
        ErrorCode::NotFound => 404,
        ErrorCode::Conflict | ErrorCode::QuotaExceeded => 409,
        ErrorCode::RateLimited => 429,
        ErrorCode::Unsupported => 400,
        ErrorCode::Timeout => 504,
        ErrorCode::Aborted => 503,
        ErrorCode::Server | ErrorCode::Network | ErrorCode::Decode => 502,
    }
}

/// Serializes the error body.
pub fn error_body(error: &Error) -> Vec<u8> {
    serde_json::to_vec(&ErrorResponse { error: error.clone() }).unwrap_or_else(|_| b"{\"error\":{}}".to_vec())
}

// ----- query parameters -----------------------------------------------------------------------

/// Splits a raw query string into decoded pairs (`+` is a space), in order.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let dec =
            |s: &str| percent_decode(&s.replace('+', " ")).ok_or_else(|| Error::invalid_input("query", "bad percent-encoding"));
        out.push((dec(k)?, dec(v)?));
    }
    Ok(out)
}

/// Decodes `%XX` escapes; `None` on a malformed escape or invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Which list-query fields are repeatable lists and which are integers, per provider.
fn field_kinds(provider: Provider) -> (&'static [&'static str], &'static [&'static str]) {
    match provider {
        Provider::Fal => (&[], &["limit"]),
        Provider::FalAlpha => (&[], &[]),
        Provider::Sfcompute => (
            &["id", "capacity", "pool", "status", "instanceSku", "include", "tag", "tagKey"],
            &["limit", "createdAfter", "createdBefore"],
        ),
        Provider::Novita => (&[], &["limit"]),
    }
}

/// Reads a provider's list query from query parameters (lists as repeated keys). Unknown
/// parameters are an `invalidInput` error naming them.
pub fn list_query_from_params(provider: Provider, params: &[(String, String)]) -> Result<ListQuery> {
    let (lists, ints) = field_kinds(provider);
    let mut obj = Map::new();
    for (k, v) in params {
        if lists.contains(&k.as_str()) {
            let entry = obj.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = entry {
                a.push(Value::String(v.clone()));
            }
            continue;
        }
        if obj.contains_key(k) {
            // Named only when it is one of ours (an unknown one is refused below, unnamed).
            return Err(match ints.contains(&k.as_str()) {
                true => Error::invalid_input(k.clone(), "is given more than once"),
                false => Error::invalid_input("query", "a parameter is given more than once (only list filters repeat)"),
            });
        }
        let value = if ints.contains(&k.as_str()) {
            let n: i64 = v.parse().map_err(|_| Error::invalid_input(k.clone(), "must be an integer"))?;
            Value::from(n)
        } else {
            Value::String(v.clone())
        };
        obj.insert(k.clone(), value);
    }
    ListQuery::from_json(provider, Value::Object(obj))
}

/// The query parameters for `query` (lists as repeated keys), in field order.
pub fn list_query_to_params(query: &ListQuery) -> Vec<(String, String)> {
    let value = match query {
        ListQuery::Fal(q) => serde_json::to_value(q),
        ListQuery::FalAlpha(q) => serde_json::to_value(q),
        ListQuery::Sfcompute(q) => serde_json::to_value(q),
        ListQuery::Novita(q) => serde_json::to_value(q),
    }
    .unwrap_or(Value::Null);
    let mut out = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            match v {
                Value::Array(items) => out.extend(items.iter().map(|i| (k.clone(), scalar(i)))),
                Value::Null => {}
                other => out.push((k, scalar(&other))),
            }
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads the fan-out filters: `provider` and `status` repeatable (or comma-separated), `q` text.
pub fn fleet_query_from_params(params: &[(String, String)]) -> Result<FleetQuery> {
    let mut q = FleetQuery::default();
    for (k, v) in params {
        match k.as_str() {
            "provider" => {
                for p in v.split(',').filter(|s| !s.is_empty()) {
                    q.providers.get_or_insert_with(Vec::new).push(Provider::parse_or_error("provider", p)?);
                }
            }
            "status" => {
                for s in v.split(',').filter(|s| !s.is_empty()) {
                    let st = Status::parse(s).ok_or_else(|| {
                        Error::invalid_input("status", "must be pending, provisioning, running, stopping, stopped, terminating, terminated, failed or unknown")
                    })?;
                    q.status.get_or_insert_with(Vec::new).push(st);
                }
            }
            "q" => {
                if v.chars().count() > 200 {
                    return Err(Error::invalid_input("q", "must be at most 200 characters"));
                }
                q.q = Some(v.clone());
            }
            _ => return Err(Error::invalid_input("query", "takes only provider, status and q")),
        }
    }
    Ok(q)
}

/// The query parameters for a fan-out listing.
pub fn fleet_query_to_params(query: &FleetQuery) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in query.providers.iter().flatten() {
        out.push(("provider".to_owned(), p.as_str().to_owned()));
    }
    for s in query.status.iter().flatten() {
        out.push(("status".to_owned(), s.as_str().to_owned()));
    }
    if let Some(q) = &query.q {
        out.push(("q".to_owned(), q.clone()));
    }
    out
}

// ----- the client side ------------------------------------------------------------------------

/// Builds the proxy request for `route`; `body` is the JSON create input for [`Route::Create`].
pub fn build_request(proxy: &ProxyConfig, route: &Route, body: Option<Vec<u8>>) -> Result<HttpRequest> {
    let inst = |p: Provider| format!("/{}/instances", p.as_str());
    let (method, path) = match route {
        Route::Providers => (Method::Get, "/providers".to_owned()),
        Route::Fleet(q) => (Method::Get, format!("/instances{}", query_string(&fleet_query_to_params(q)))),
        Route::List(q) => (Method::Get, format!("{}{}", inst(q.provider()), query_string(&list_query_to_params(q)))),
        Route::Get(p, id) => (Method::Get, format!("{}/{}", inst(*p), checked(id)?)),
        Route::Create(p) => (Method::Post, inst(*p)),
        Route::Delete(p, id) => (Method::Delete, format!("{}/{}", inst(*p), checked(id)?)),
        Route::Action(p, op, id) => (Method::Post, format!("{}/{}/{}", inst(*p), checked(id)?, op.as_str())),
        Route::Ssh(p, id) => (Method::Get, format!("{}/{}/ssh", inst(*p), checked(id)?)),
        Route::Offers(None) => (Method::Get, "/offers".to_owned()),
        Route::Offers(Some(p)) => (Method::Get, format!("/offers{}", query_string(&[("provider", p.as_str())]))),
        Route::Balances => (Method::Get, "/balances".to_owned()),
        Route::SetDeadline(p, id) => (Method::Put, format!("{}/{}/deadline", inst(*p), checked(id)?)),
        Route::ClearDeadline(p, id) => (Method::Delete, format!("{}/{}/deadline", inst(*p), checked(id)?)),
        Route::Deadlines => (Method::Get, "/deadlines".to_owned()),
        Route::Audit(q) => (Method::Get, format!("/audit{}", query_string(&q.to_params()))),
        Route::Orphans(age) => (Method::Get, format!("/orphans{}", query_string(&[("olderThanMs", age.to_string())]))),
        Route::Live(refresh) => (Method::Get, if *refresh { "/live/refresh" } else { "/live" }.to_owned()),
    };
    let mut req = HttpRequest::new(method, proxy.url(&path));
    if let Some(token) = &proxy.token {
        req = req.header("Authorization", format!("Bearer {}", token.trim()));
    }
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json").json_body(body);
    }
    Ok(req)
}

fn checked(id: &str) -> Result<String> {
    validate_id(id)?;
    Ok(percent_encode(id))
}

/// [`parse_response`] for an answer that holds many instances (`Page<Instance>`,
/// `FleetListing`): a 2xx body is read straight into `T` (each instance's `raw` kept as its text,
/// no JSON tree); one that does not read that way goes the [`parse_response`] way, which names
/// the failing path.
pub fn parse_list_response<T: serde::de::DeserializeOwned>(response: crate::http::HttpResponse) -> Result<T> {
    if response.is_success() {
        if let Ok(value) = serde_json::from_slice::<T>(&response.body) {
            return Ok(value);
        }
    }
    parse_response(response)
}

/// Reads a proxy answer: the body as `T` on 2xx, else the `{"error": …}` body as the same
/// [`Error`] the proxy saw (code, provider, upstream status and request id kept).
pub fn parse_response<T: serde::de::DeserializeOwned>(response: crate::http::HttpResponse) -> Result<T> {
    if !response.is_success() {
        return Err(answer_error(&response));
    }
    // As a `Value` first, then as `T` from it, like every typed read (see `crate::json_path`).
    let de = &mut serde_json::Deserializer::from_slice(&response.body);
    let read = crate::json_path::parse_slice(de).and_then(|value| crate::json_path::from_value(&value));
    read.map_err(|e| unreadable_answer(&e, response.status))
}

// The parts of `parse_response` that do not depend on `T`, out of line: once in the wasm rather
// than once per answer type.

/// A 2xx answer that is not the `T` it should be.
#[inline(never)]
fn unreadable_answer(e: &crate::json_path::PathError, status: u16) -> Error {
    let mut err = Error::new(ErrorCode::Decode, format!("could not read the proxy's answer at {}: {}", e.path(), e.inner()));
    err.field = Some(e.path().to_string());
    err.status = Some(status);
    err
}

/// The error a non-2xx answer stands for.
#[inline(never)]
fn answer_error(response: &crate::http::HttpResponse) -> Error {
    match crate::json_path::read_slice::<ErrorResponse>(&response.body) {
        Some(ErrorResponse { error }) => error,
        None => {
            let parts = crate::provider::loose_error_parts(&response.body);
            let mut e = Error::new(
                ErrorCode::from_status(response.status),
                format!("the proxy answered HTTP {}: {}", response.status, parts.message.unwrap_or_default()),
            )
            .with_status(response.status);
            e.retry_after_ms = crate::provider::retry_after_ms(response, None);
            e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SfcListQuery;

    #[test]
    fn routes() {
        assert_eq!(parse_route("GET", "/api/v1/providers", ""), Ok(Route::Providers));
        assert_eq!(parse_route("GET", "/api/v1/fal/instances/inst_1", ""), Ok(Route::Get(Provider::Fal, "inst_1".into())));
        assert_eq!(
            parse_route("POST", "/api/v1/novita/instances/abc/stop", ""),
            Ok(Route::Action(Provider::Novita, Operation::Stop, "abc".into()))
        );
        assert_eq!(parse_route("PUT", "/api/v1/providers", ""), Err(RouteError::MethodNotAllowed(&["GET"])));
        assert_eq!(parse_route("GET", "/api/v2/providers", ""), Err(RouteError::NotFound));
        assert_eq!(parse_route("GET", "/api/v1/fal/instances/", ""), Err(RouteError::NotFound));
        for bad in [
            "/api/v1/fal/instances/..",
            "/api/v1/fal/instances/%2e%2e",
            "/api/v1/fal/instances/a%2Fb",
            "/api/v1/fal/instances/http:%2F%2Fevil",
        ] {
            assert!(matches!(parse_route("GET", bad, ""), Err(RouteError::Invalid(_))), "{bad}");
        }
        assert!(matches!(parse_route("GET", "/api/v1/aws/instances", ""), Err(RouteError::Invalid(_))));
    }

    #[test]
    fn list_params_round_trip() {
        let q = ListQuery::Sfcompute(SfcListQuery {
            limit: Some(20),
            status: vec!["running".into(), "failed".into()],
            tag: vec!["env=prod".into()],
            created_after: Some(5),
            ..Default::default()
        });
        let params = list_query_to_params(&q);
        assert_eq!(list_query_from_params(Provider::Sfcompute, &params).unwrap(), q);
        let err = list_query_from_params(Provider::Fal, &[("bogus".into(), "1".into())]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("bogus"), "{}", err.message);
        let err = list_query_from_params(Provider::Fal, &[("limit".into(), "x".into())]).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("limit"));
    }

    #[test]
    fn upstream_auth_failures_are_bad_gateway() {
        let e = Error::new(ErrorCode::Unauthorized, "x").with_provider(Provider::Fal).with_status(401);
        assert_eq!(http_status_for(&e), 502);
        assert_eq!(http_status_for(&Error::new(ErrorCode::Unauthorized, "x")), 401);
    }
}
