//! The request handling: [`Proxy::handle`] answers one request — [`Proxy::admit`] (CORS, method,
//! refusal, `/healthz`, who the caller is), the rate limit, then [`Proxy::serve`] (authorization,
//! route, body, and the upstream call through the [`Client`]) — in the order the
//! [module docs](crate::proxy) give.

use serde::Serialize;
use serde_json::Value;

use crate::answer_json::{instance_json, instances_json};
use crate::client::{Client, ClientConfig, RetryPolicy};
use crate::error::{Error, ErrorCode};
use crate::http::Transport;
use crate::model::Instance;
use crate::model::{Access, CreateInput, ListQuery, Operation};
use crate::provider::Provider;
use crate::proxy::access::{AccessCheck, ASSERTION_HEADER};
use crate::proxy::api::{
    error_body, http_status_for, parse_route, ActionResponse, ProvidersResponse, Route, RouteError, API_PREFIX, MAX_BODY_BYTES,
};
use crate::proxy::auth::{bearer_token, hex, Caller};
use crate::proxy::conceal::{add_body_input, caller_input_of, conceal_caller_input, redact_secrets};
use crate::proxy::config::{canonical_origin, ServerConfig};
use crate::proxy::exchange::{LogRecord, ProxyRequest, ProxyResponse, RequestBody};
use crate::proxy::headers::{base_security_headers, API_CSP, API_METHODS, CONSOLE_CSP, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS};
use crate::proxy::rate_limit::{rate_key, RateLimiter};
use crate::records_api::{take_create_deadline, DeadlineList, DeadlineRequest};
use crate::store::{AuditEntry, AuditOutcome, Deadline, MemoryStore, Store};

/// What kind of path a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Api,
    Health,
    Other,
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
    /// token, `access:<name>` for a checked Access identity, else
    /// `ip:<CF-Connecting-IP>` (or `ip:unknown`).
    pub fn rate_key(&self) -> &str {
        &self.rate_key
    }

    /// Whether the Worker must read the body: a create or a deadline from a caller that may
    /// change things, whose declared length is within the cap.
    pub fn wants_body(&self) -> bool {
        matches!(self.route, Ok(Route::Create(_) | Route::SetDeadline(..)))
            && self.caller.access() == Some(Access::ReadWrite)
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
    /// The caller's name, once the token is known to be valid.
    caller: Option<String>,
    /// Everything the caller sent that an error message could quote: the path, the query (raw
    /// and decoded) and, for a create, the body (raw, and its keys and values).
    caller_input: Vec<String>,
}

/// The edge proxy: a [`ServerConfig`] and the request handling.
#[derive(Debug, Clone)]
pub struct Proxy {
    config: ServerConfig,
    /// Whether deadlines and the audit log are kept (a D1 database is bound); `/healthz` says.
    records: bool,
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
        (Area::Api, Ok(Route::SetDeadline(..) | Route::ClearDeadline(..))) => "/api/v1/{provider}/instances/{id}/deadline",
        (Area::Api, Ok(Route::Deadlines)) => "/api/v1/deadlines",
        (Area::Api, Ok(Route::Audit(_))) => "/api/v1/audit",
        (Area::Api, Ok(Route::Orphans(_))) => "/api/v1/orphans",
        (Area::Api, Ok(Route::Live(false))) => "/api/v1/live",
        (Area::Api, Ok(Route::Live(true))) => "/api/v1/live/refresh",
        (Area::Api, Err(_)) => "/api (unmatched)",
    };
    let method: String = method.chars().filter(|c| c.is_ascii_alphabetic()).take(10).collect();
    format!("{method} {shape}")
}

/// The records routes are refused before this point when there is no store.
fn unreachable_records() -> Result<(u16, Vec<u8>), Error> {
    Err(Error::new(ErrorCode::Unsupported, "this proxy keeps no records (no D1 database bound as DB)"))
}

fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| {
        b"{\"error\":{\"code\":\"server\",\"message\":\"could not serialize the answer\",\"retryable\":false}}".to_vec()
    })
}

impl Proxy {
    /// A proxy with `config`.
    pub fn new(config: ServerConfig) -> Proxy {
        Proxy { config, records: false }
    }

    /// Says whether the proxy keeps records (deadlines, the audit log): `/healthz` reports it, so
    /// an operator sees that deadlines cannot fire without a D1 database.
    pub fn with_records(mut self, kept: bool) -> Proxy {
        self.records = kept;
        self
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
        self.handle_with_records(request, transport, limiter, None::<&MemoryStore>).await
    }

    /// [`Self::handle`] with the proxy's records (deadlines and the audit log) in `store`.
    pub async fn handle_with_records<T: Transport, S: Store>(
        &self,
        request: ProxyRequest,
        transport: T,
        limiter: &mut RateLimiter,
        store: Option<&S>,
    ) -> ProxyResponse {
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
        self.serve(*admitted, body, transport, store).await
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
            caller: None,
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
        if !matches!(method.as_str(), "GET" | "POST" | "PUT" | "DELETE") {
            return Admission::Respond(self.method_not_allowed(&ctx, API_METHODS, now_ms));
        }

        // 3. No usable token (or a malformed caller table): refuse rather than run open.
        if self.config.refusal.is_some()
            || (self.config.token.is_none() && self.config.callers.is_empty() && self.config.access.is_none())
        {
            let message = self.config.refusal.clone().unwrap_or_else(|| "the API is not configured".to_owned());
            let e = Error::new(ErrorCode::Unauthorized, message);
            return Admission::Respond(self.error_response(&ctx, 503, &e, now_ms));
        }

        // 5 (decided now, answered after the rate limit). A bearer token, when sent, decides (every
        // token is always compared); without one, a Cloudflare Access assertion, when Access is
        // configured, as the Worker's check of it found (`ProxyRequest::access`).
        let presented = bearer_token(request.header_value("authorization"));
        let assertion = request.header_value(ASSERTION_HEADER).is_some();
        let caller = match (presented, assertion, &self.config.access, &request.access) {
            (_, _, _, Some(AccessCheck::Internal(name))) => Caller::Access { access: Access::ReadOnly, name: name.clone() },
            (None, true, Some(config), Some(AccessCheck::Verified(name))) => {
                Caller::Access { access: config.access_of(name), name: name.clone() }
            }
            (None, true, Some(_), Some(AccessCheck::Refused(status, message))) => {
                Caller::AccessRefused { status: *status, message: message.clone() }
            }
            _ => Caller::of(presented, self.config.token.as_ref(), self.config.readonly_token.as_ref(), &self.config.callers),
        };
        if caller.access().is_some() {
            ctx.caller = Some(caller.name(&self.config.callers).to_owned());
        }
        let rate_key = rate_key(&caller, presented, request.header_value("cf-connecting-ip"));
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
    ///
    /// Deadlines, the audit log and the orphan report need `store` (without one they answer 503
    /// `unsupported`); with one, every mutating call is appended to the audit log with its caller
    /// and outcome once it has been tried upstream.
    pub async fn serve<T: Transport, S: Store>(
        &self,
        admitted: Admitted,
        body: RequestBody,
        transport: T,
        store: Option<&S>,
    ) -> ProxyResponse {
        let ctx = &admitted.ctx;
        // The client owns the transport, so the Worker's `Client<FetchTransport>` is the very one
        // the JS `Fleet` uses (one copy of the client's code in the wasm, not two).
        let client = Client::new(transport, self.client_config());
        let now = || client.transport().now_ms();
        let refused = match &admitted.caller {
            Caller::Missing if self.config.access.is_some() => Some((
                401,
                "missing Authorization: Bearer <token> header (or a Cloudflare Access assertion, Cf-Access-Jwt-Assertion)".into(),
            )),
            Caller::Missing => Some((401, "missing Authorization: Bearer <token> header".into())),
            Caller::Wrong => Some((401, "the bearer token is not valid".into())),
            Caller::AccessRefused { status, message } => Some((*status, message.clone())),
            Caller::Full | Caller::ReadOnly | Caller::Named { .. } | Caller::Access { .. } => None,
        };
        if let Some((status, message)) = refused {
            let code = if status == 401 { ErrorCode::Unauthorized } else { ErrorCode::Server };
            let mut r = self.error_response(ctx, status, &Error::new(code, message), now());
            if status == 401 {
                r.headers.push(("WWW-Authenticate".into(), "Bearer realm=\"gpufleet\"".into()));
            }
            return r;
        }
        let caller_name = admitted.caller.name(&self.config.callers).to_owned();
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
        if admitted.caller.access() == Some(Access::ReadOnly) && route.is_mutation() {
            let message = if matches!(admitted.caller, Caller::Access { .. }) {
                "a read-only caller may only read (GET): a Cloudflare Access identity may change things only when CF_ACCESS_WRITERS lists it"
            } else {
                "a read-only caller may only read (GET)"
            };
            return self.error_response(ctx, 403, &Error::new(ErrorCode::Forbidden, message), now());
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
            Route::Get(_, id)
            | Route::Delete(_, id)
            | Route::Action(_, _, id)
            | Route::Ssh(_, id)
            | Route::SetDeadline(_, id)
            | Route::ClearDeadline(_, id) => Some(id.as_str()),
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

        if route.uses_records() && store.is_none() {
            let e = Error::new(
                ErrorCode::Unsupported,
                "this proxy keeps no records: bind a D1 database as DB (wrangler.toml [[d1_databases]]) for deadlines, the audit log and orphans",
            );
            return self.error_response(ctx, 503, &e, now());
        }

        let with_body;
        let ctx = match (&route, &body) {
            (Route::Create(_) | Route::SetDeadline(..), RequestBody::Bytes(bytes)) => {
                let mut c = admitted.ctx.clone();
                add_body_input(&mut c.caller_input, bytes);
                with_body = c;
                &with_body
            }
            _ => ctx,
        };
        // What the audit log records of a mutating call, filled in as the call goes.
        let mut audit: Option<AuditEntry> = None;
        let entry = |action: &str, provider: Provider, id: Option<&str>| AuditEntry {
            seq: 0,
            at_ms: 0,
            caller: caller_name.clone(),
            action: action.to_owned(),
            provider,
            instance_id: id.map(str::to_owned),
            instance_name: None,
            request_id: ctx.request_id.clone(),
            outcome: AuditOutcome::Ok,
            detail: None,
        };
        // Answer headers the call adds (the records' markers).
        let mut marks: Vec<(String, String)> = Vec::new();
        let mut audit_failed = false;
        let result: Result<(u16, Vec<u8>), Error> = match route {
            Route::Providers => {
                let providers = self.config.providers.keys().map(|p| p.capabilities()).collect();
                let access = admitted.caller.access().unwrap_or(Access::ReadOnly);
                Ok((200, json_bytes(&ProvidersResponse { providers, access })))
            }
            Route::Fleet(q) => match client.list_all(&q).await {
                Ok(mut listing) => {
                    let mut instances = std::mem::take(&mut listing.instances);
                    with_deadlines(store, &mut instances, &mut marks).await;
                    instances_json(&listing, instances).map(|text| (200, text))
                }
                Err(e) => Err(e),
            },
            Route::List(q) => match client.list_page(&q).await {
                Ok(mut page) => {
                    let mut items = std::mem::take(&mut page.items);
                    with_deadlines(store, &mut items, &mut marks).await;
                    instances_json(&page, items).map(|text| (200, text))
                }
                Err(e) => Err(e),
            },
            // The record's text spliced in as the provider sent it, not re-serialized.
            Route::Get(p, id) => match client.get(p, &id).await {
                Ok(mut instance) => {
                    if let Some(store) = store {
                        match store.deadline(p, &id).await {
                            Ok(deadline) => instance.deadline = deadline.map(Box::new),
                            Err(_) => marks.push(("X-Gpufleet-Deadlines".into(), "failed".into())),
                        }
                    }
                    Ok((200, instance_json(&instance)))
                }
                Err(e) => Err(e),
            },
            Route::Create(p) => {
                let (input, deadline) = match self.create_request(p, &admitted, body, store.is_some(), &caller_name, now()) {
                    Ok(request) => request,
                    Err((status, e)) => return self.error_response(ctx, status, &e, now()),
                };
                let created = client.create(&input).await;
                let mut e = entry("create", p, created.as_ref().ok().map(|i| i.id.as_str()));
                e.instance_name = created.as_ref().ok().and_then(|i| i.name.clone());
                match (created, deadline, store) {
                    (Ok(mut instance), Some(deadline), Some(store)) => {
                        // The create is logged first, then the deadline set on what it made.
                        e.at_ms = now();
                        audit_failed |= store.append_audit(e).await.is_err();
                        let logged =
                            crate::deadlines::set_deadline_on_created(&client, store, deadline, &mut instance, &ctx.request_id)
                                .await;
                        audit_failed |= !logged;
                        if instance.deadline_error.is_some() {
                            marks.push(("X-Gpufleet-Deadline".into(), "failed".into()));
                        }
                        Ok((201, instance_json(&instance)))
                    }
                    (created, _, _) => {
                        audit = Some(e);
                        created.map(|v| (201, instance_json(&v)))
                    }
                }
            }
            Route::Delete(p, id) => {
                let deleted = client.delete(p, &id).await;
                let mut e = entry("delete", p, Some(&id));
                if deleted.as_ref().is_ok_and(|d| d.already_gone) {
                    e.detail = Some("already gone".into());
                }
                audit = Some(e);
                deleted.map(|v| (200, json_bytes(&v)))
            }
            Route::Action(p, op, id) => {
                audit = Some(entry(op.as_str(), p, Some(&id)));
                client.action(p, op, &id).await.map(|instance| (200, json_bytes(&ActionResponse { instance })))
            }
            Route::SetDeadline(p, id) => match (self.json_body(&admitted, body), store) {
                (Err((status, e)), _) => return self.error_response(ctx, status, &e, now()),
                (Ok(value), Some(store)) => {
                    let deadline = DeadlineRequest::from_json(&value, "")
                        .and_then(|r| r.to_deadline(p, &id, &caller_name, now()))
                        .map_err(|e| e.with_provider(p));
                    match deadline {
                        Err(e) => return self.error_response(ctx, 400, &e, now()),
                        Ok(deadline) => {
                            crate::deadlines::set_deadline(&client, store, deadline, &ctx.request_id).await.map(|set| {
                                audit_failed |= !set.logged;
                                (200, json_bytes(&set.answer))
                            })
                        }
                    }
                }
                (Ok(_), None) => unreachable_records(),
            },
            Route::ClearDeadline(p, id) => match store {
                Some(store) => crate::deadlines::clear_deadline(&client, store, p, &id, &caller_name, &ctx.request_id, now())
                    .await
                    .map(|cleared| {
                        audit_failed |= !cleared.logged;
                        (200, json_bytes(&cleared.answer))
                    }),
                None => unreachable_records(),
            },
            Route::Deadlines => match store {
                Some(store) => store.deadlines().await.map(|deadlines| (200, json_bytes(&DeadlineList { deadlines }))),
                None => unreachable_records(),
            },
            Route::Audit(q) => match (q.filter(), store) {
                (Ok(filter), Some(store)) => store.audit(&filter).await.map(|page| (200, json_bytes(&page))),
                (Err(e), _) => Err(e),
                (_, None) => unreachable_records(),
            },
            Route::Orphans(older_than_ms) => match store {
                Some(store) => self.orphans(&client, store, older_than_ms).await.map(|r| (200, json_bytes(&r))),
                None => unreachable_records(),
            },
            Route::Ssh(p, id) => client.ssh(p, &id).await.map(|v| (200, json_bytes(&v))),
            Route::Offers(p) => client.offers(p).await.map(|v| (200, json_bytes(&v))),
            Route::Balances => client.balances().await.map(|v| (200, json_bytes(&v))),
            // Admitted only: `worker.js` sees the mark and hands the request (with the caller's
            // name) to the `FleetLive` Durable Object, which streams the shared live view.
            Route::Live(_) => {
                marks.push(("X-Gpufleet-Live".into(), caller_name.clone()));
                Ok((200, Vec::new()))
            }
        };
        // Appended once the call was tried upstream, whatever its outcome. A failed append does
        // not hide the call's answer; the answer says the log missed it.
        if let (Some(mut e), Some(store)) = (audit, store) {
            e.at_ms = now();
            if let Err(err) = &result {
                e.outcome = AuditOutcome::of_error(err);
            }
            audit_failed |= store.append_audit(e).await.is_err();
        }
        let mut response = match result {
            Ok((status, bytes)) => self.finish(ctx, status, "application/json; charset=utf-8", bytes, None, now()),
            Err(e) => self.error_response(ctx, http_status_for(&e), &e, now()),
        };
        if audit_failed {
            response.headers.push(("X-Gpufleet-Audit".into(), "failed".into()));
        }
        response.headers.extend(marks);
        response
    }

    /// The orphan report: the whole fleet (a partial listing fails the report: an instance not
    /// listed cannot be judged), the deadlines, and the recorded creates.
    async fn orphans<T: Transport, S: Store>(
        &self,
        client: &Client<T>,
        store: &S,
        older_than_ms: u64,
    ) -> Result<crate::deadlines::OrphanReport, Error> {
        let listing = client.list_all(&Default::default()).await?;
        if let Some(failure) = listing.errors.first() {
            let mut e = failure.error.clone();
            e.message =
                format!("the orphan report needs the whole fleet, but {} failed: {}", failure.provider.as_str(), e.message);
            return Err(e);
        }
        let deadlines = store.deadlines().await?;
        let created = crate::deadlines::recorded_creates(store).await?;
        Ok(crate::deadlines::orphans(&listing.instances, &deadlines, &created, client.transport().now_ms(), older_than_ms))
    }

    /// Checks and reads a create body: the provider's create input, and the deadline given
    /// beside it under `deadline` (checked now, before anything is created; refused without a
    /// store, which could not keep it).
    fn create_request(
        &self,
        p: Provider,
        admitted: &Admitted,
        body: RequestBody,
        has_store: bool,
        caller: &str,
        now_ms: u64,
    ) -> Result<(CreateInput, Option<Deadline>), (u16, Error)> {
        let mut value = self.json_body(admitted, body)?;
        let deadline = take_create_deadline(&mut value, p, caller, now_ms).map_err(|e| (400, e.with_provider(p)))?;
        if deadline.is_some() && !has_store {
            let e = Error::new(
                ErrorCode::Unsupported,
                "this proxy keeps no records, so it cannot keep a deadline: bind a D1 database as DB, or create without `deadline`",
            );
            return Err((503, e.with_provider(p)));
        }
        let input = CreateInput::from_json(p, value).map_err(|e| (400, e.with_provider(p)))?;
        Ok((input, deadline))
    }

    /// Checks and reads a JSON object body (content type, size, syntax).
    fn json_body(&self, admitted: &Admitted, body: RequestBody) -> Result<Value, (u16, Error)> {
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
        Ok(value)
    }

    /// What `/healthz` says: which providers are configured and whether the API serves. No secrets.
    fn health(&self) -> Value {
        let providers: serde_json::Map<String, Value> =
            Provider::ALL.iter().map(|p| (p.as_str().to_owned(), Value::Bool(self.config.providers.contains_key(p)))).collect();
        serde_json::json!({
            "ok": true,
            "api": if self.config.refusal.is_none() { "ready" } else { "refusing" },
            "reason": self.config.refusal,
            "readOnlyToken": self.config.readonly_token.is_some(),
            "namedCallers": self.config.callers.callers().len(),
            "cloudflareAccess": self.config.access.is_some(),
            "accessWriters": self.config.access.as_ref().map_or(0, |a| a.writers()),
            "records": if self.records { "d1" } else { "none" },
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
        // Defence in depth: no key or token leaves, even if an upstream echoed one back.
        if let Some(b) = redact_secrets(&body, &self.config.secrets()) {
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
                caller: ctx.caller.clone(),
                status,
                code,
                duration_ms: now_ms.saturating_sub(ctx.start_ms),
            },
        }
    }
}

/// Puts each instance's deadline on it, when the proxy keeps records: one store read for the
/// whole answer, of these instances' deadlines only. If the read fails, the listing is still
/// answered, without deadlines and with `X-Gpufleet-Deadlines: failed` (a listing is not
/// withheld for want of its annotations).
async fn with_deadlines<S: Store>(store: Option<&S>, instances: &mut [Instance], marks: &mut Vec<(String, String)>) {
    let Some(store) = store else { return };
    if instances.is_empty() {
        return;
    }
    let keys: Vec<(Provider, &str)> = instances.iter().map(|i| (i.provider, i.id.as_str())).collect();
    match store.deadlines_of(&keys).await {
        Ok(deadlines) => crate::deadlines::attach_deadlines(instances, deadlines),
        Err(_) => marks.push(("X-Gpufleet-Deadlines".into(), "failed".into())),
    }
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
    fn url_split() {
        assert_eq!(split_url("https://X.example/api/v1/p?q=1#f"), ("https://x.example".into(), "/api/v1/p".into(), "q=1".into()));
        assert_eq!(split_url("http://h:8787"), ("http://h:8787".into(), "/".into(), "".into()));
        assert_eq!(split_url("http://h?x"), ("http://h".into(), "/".into(), "x".into()));
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
}
