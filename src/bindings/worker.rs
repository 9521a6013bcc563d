//! The edge proxy's Worker entry: `handleFetch(request, env, ctx)`, called by `worker.js`.
//!
//! Only glue lives here: a JS `Request` becomes a [`ProxyRequest`], the pure
//! [`crate::proxy::Proxy`] decides everything, and its [`ProxyResponse`] becomes a JS
//! `Response`. Upstream calls go through [`FetchTransport`] to the configured base URLs only.

use std::cell::RefCell;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, Response, ResponseInit};

use super::store::JsStore;
use crate::http::Transport;
use crate::proxy::api::MAX_BODY_BYTES;
use crate::proxy::{
    console_headers, new_request_id, AccessCheck, Admission, Proxy, ProxyRequest, ProxyResponse, RateLimiter, RequestBody,
    ServerConfig,
};
use crate::transport::FetchTransport;

/// Upper bound on one upstream attempt: below the platform's own limits, so the caller always
/// gets our JSON answer rather than a platform error page.
const UPSTREAM_TIMEOUT_MS: u32 = 25_000;

/// How long a caller refused by the Workers Rate Limiting binding is told to wait (the binding's
/// `period`; wrangler.toml documents 60 s).
const BINDING_RETRY_AFTER_MS: u64 = 60_000;

thread_local! {
    // One limiter per isolate: requests served by the same isolate share it.
    static LIMITER: RefCell<RateLimiter> = RefCell::new(RateLimiter::new());
}

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    if !obj.is_object() {
        return None;
    }
    Reflect::get(obj, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// The variables a config was read from: (name, value), in the order read.
type EnvRead = Vec<(String, Option<String>)>;

thread_local! {
    // The config of the last request, with every variable it was read from (name, value). A
    // request whose env gives the same values reuses it — and with it the config's price cache
    // (Novita's catalog, SF Compute quotes, kept a minute), which a config per request would
    // throw away, re-reading the catalog on every listing.
    static CONFIG: RefCell<Option<(EnvRead, ServerConfig)>> = const { RefCell::new(None) };
}

/// The proxy's config from `env`: the isolate's cached one while every variable it was read
/// from is unchanged, else read afresh (and cached).
pub(crate) fn read_env(env: &JsValue) -> ServerConfig {
    let var = |name: &str| get(env, name).and_then(|v| v.as_string());
    let cached = CONFIG.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|(read, config)| read.iter().all(|(name, value)| var(name) == *value).then(|| config.clone()))
    });
    if let Some(config) = cached {
        return config;
    }
    let read = RefCell::new(Vec::new());
    let config = ServerConfig::from_env(|name| {
        let value = var(name);
        read.borrow_mut().push((name.to_owned(), value.clone()));
        value
    });
    CONFIG.with(|c| *c.borrow_mut() = Some((read.into_inner(), config.clone())));
    config
}

fn read_headers(request: &Request) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&request.headers()) {
        for entry in iter.flatten() {
            let pair = Array::from(&entry);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out.push((k, v));
            }
        }
    }
    out
}

/// Reads the request body, stopping as soon as it passes [`MAX_BODY_BYTES`], so an oversized
/// body is never buffered whole. The rest is left in the stream (its reader's lock released, not
/// cancelled): `worker.js` drains it after the answer is made, so workerd keeps the connection
/// and the client reads its 413 instead of a reset.
async fn read_body_capped(request: &Request) -> RequestBody {
    let Some(stream) = get(request.as_ref(), "body") else { return RequestBody::Empty };
    let Some(reader) = get(&stream, "getReader").and_then(|f| f.dyn_into::<Function>().ok()).and_then(|f| f.call0(&stream).ok())
    else {
        return RequestBody::Empty;
    };
    let Some(read) = get(&reader, "read").and_then(|f| f.dyn_into::<Function>().ok()) else {
        return RequestBody::Empty;
    };
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let chunk = match read.call0(&reader).map(|p| JsFuture::from(Promise::resolve(&p))) {
            Ok(fut) => match fut.await {
                Ok(c) => c,
                Err(_) => return RequestBody::Empty,
            },
            Err(_) => return RequestBody::Empty,
        };
        if get(&chunk, "done").is_some_and(|d| d.is_truthy()) {
            return RequestBody::Bytes(bytes);
        }
        if let Some(value) = get(&chunk, "value") {
            if let Ok(arr) = value.dyn_into::<Uint8Array>() {
                bytes.extend_from_slice(&arr.to_vec());
            }
        }
        if bytes.len() > MAX_BODY_BYTES {
            if let Some(release) = get(&reader, "releaseLock").and_then(|f| f.dyn_into::<Function>().ok()) {
                let _ = release.call0(&reader);
            }
            return RequestBody::TooLarge;
        }
    }
}

/// Asks the Workers Rate Limiting binding (`env.RATE_LIMITER`), when configured. `None`: no
/// binding, or it failed (then the in-isolate limiter decides).
async fn binding_allows(env: &JsValue, key: &str) -> Option<bool> {
    let binding = get(env, "RATE_LIMITER")?;
    let limit = get(&binding, "limit")?.dyn_into::<Function>().ok()?;
    let arg = Object::new();
    Reflect::set(&arg, &JsValue::from_str("key"), &JsValue::from_str(key)).ok()?;
    let promise = limit.call1(&binding, &arg).ok()?;
    let outcome = JsFuture::from(Promise::resolve(&promise)).await.ok()?;
    Some(get(&outcome, "success").is_some_and(|s| s.is_truthy()))
}

#[wasm_bindgen]
extern "C" {
    /// `new Response(body, init)` with the body passed as a view on the wasm memory: the
    /// constructor copies a `BufferSource` body (Fetch standard, "extract a body"), so the bytes
    /// are copied once, not first into a JS `Uint8Array` and then again by the constructor.
    #[wasm_bindgen(js_name = Response, extends = Response)]
    type BytesResponse;

    #[wasm_bindgen(catch, constructor, js_class = "Response")]
    fn new(body: &[u8], init: &ResponseInit) -> Result<BytesResponse, JsValue>;
}

fn to_js_response(r: ProxyResponse, head: bool) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    for (k, v) in &r.headers {
        headers.append(k, v)?;
    }
    let init = ResponseInit::new();
    init.set_status(r.status);
    init.set_headers(&headers);
    web_sys::console::log_1(&JsValue::from_str(&r.log.to_json()));
    if head || r.status == 204 || r.status == 304 || r.body.is_empty() {
        Response::new_with_opt_buffer_source_and_init(None, &init)
    } else {
        BytesResponse::new(&r.body, &init).map(Response::from)
    }
}

/// What `access.js`'s `checkAccess` found: `{ name }` when the assertion holds, else
/// `{ status, message }`; `undefined` when it made no check. `{ internal: name }` only from
/// `worker.js`'s `FleetLive` (never from a request: `checkAccess` does not produce it).
fn access_check(answer: &JsValue) -> Option<AccessCheck> {
    if let Some(name) = get(answer, "internal").and_then(|n| n.as_string()) {
        return Some(AccessCheck::Internal(name));
    }
    if let Some(name) = get(answer, "name").and_then(|n| n.as_string()) {
        return Some(AccessCheck::Verified(name));
    }
    let status = get(answer, "status")?.as_f64().unwrap_or(502.0) as u16;
    let message = get(answer, "message").and_then(|m| m.as_string()).unwrap_or_default();
    Some(AccessCheck::Refused(status, message))
}

/// The Worker's fetch handler (`store`: the D1 records, when `env.DB` is bound; `access`: what
/// `access.js` found of the request's Cloudflare Access assertion, when it checked one): answers
/// every request with a JSON API response, `/healthz`, or a JSON 404/405 for paths that are not
/// static files (worker.js serves those first). Never rejects for anything the caller sends;
/// `worker.js` still turns a rejection into a 500 JSON.
#[wasm_bindgen(js_name = handleFetch)]
pub async fn handle_fetch(
    request: Request,
    env: JsValue,
    _ctx: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "D1Store")] store: Option<JsStore>,
    #[wasm_bindgen(unchecked_optional_param_type = "{ name: string } | { status: number; message: string }")] access: Option<
        JsValue,
    >,
) -> Result<Response, JsValue> {
    let proxy = Proxy::new(read_env(&env)).with_records(store.is_some());
    let transport = FetchTransport::new().with_timeout_ms(Some(UPSTREAM_TIMEOUT_MS));
    let method = request.method();
    let incoming = ProxyRequest {
        method: method.clone(),
        url: request.url(),
        headers: read_headers(&request),
        body: RequestBody::Empty,
        access: access.as_ref().and_then(access_check),
    };
    let now = transport.now_ms();
    let admitted = match proxy.admit(&incoming, new_request_id(&transport), now) {
        Admission::Respond(r) => return to_js_response(r, method == "HEAD"),
        Admission::Proceed(a) => a,
    };
    // The live view's own walk (one for every console) is not a caller to slow down.
    let internal = matches!(incoming.access, Some(AccessCheck::Internal(_)));
    let asked = if internal { Some(true) } else { binding_allows(&env, admitted.rate_key()).await };
    let allowed = match asked {
        Some(ok) => ok.then_some(()).ok_or(BINDING_RETRY_AFTER_MS),
        None => LIMITER.with(|l| l.borrow_mut().check(admitted.rate_key(), proxy.config().rate(), now)),
    };
    if let Err(retry_after_ms) = allowed {
        return to_js_response(proxy.rate_limited(&admitted, retry_after_ms, transport.now_ms()), false);
    }
    let body = if admitted.wants_body() { read_body_capped(&request).await } else { RequestBody::Empty };
    let response = proxy.serve(*admitted, body, transport, store.as_ref()).await;
    to_js_response(response, false)
}

/// The headers of a console static file of `contentType` (strict CSP, no framing, nosniff, no
/// referrer), as `[name, value]` pairs for `new Response(body, { headers })`.
#[wasm_bindgen(js_name = consoleHeaders)]
pub fn console_headers_js(content_type: &str) -> Array {
    console_headers(content_type)
        .into_iter()
        .map(|(k, v)| JsValue::from(Array::of2(&JsValue::from_str(&k), &JsValue::from_str(&v))))
        .collect()
}
