//! [`FetchTransport`]: [`Transport`] over the global `fetch`, `setTimeout` and `crypto`.
//!
//! Every JS value stays in here: rejections become [`TransportError`] strings, never a stored
//! `JsValue`, and nothing unwraps a JS value (a misbehaving `fetch` gives an error, not a panic).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit, RequestRedirect};

use crate::error::TransportError;
use crate::http::{origin_of, HttpRequest, HttpResponse, Transport};

#[wasm_bindgen]
extern "C" {
    // Bound as JS globals (the gloo-net habit), never through the browser-only window object or
    // WorkerGlobalScope: the same binding then works in pages, Web Workers, Node ≥ 18, Deno, Bun and workerd.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Result<Promise, JsValue>;

    // Node returns a `Timeout` object, browsers a number: keep it opaque.
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue) -> Result<(), JsValue>;

    /// An `AbortSignal`, used structurally (`aborted`, `reason`, `addEventListener`), so a signal
    /// from another realm or a polyfill works too.
    #[derive(Clone, Debug)]
    pub type AbortSignalLike;

    #[wasm_bindgen(method, getter, structural)]
    fn aborted(this: &AbortSignalLike) -> JsValue;

    #[wasm_bindgen(method, getter, structural)]
    fn reason(this: &AbortSignalLike) -> JsValue;

    #[wasm_bindgen(catch, method, structural, js_name = addEventListener)]
    fn add_event_listener(this: &AbortSignalLike, kind: &str, listener: &Function) -> Result<(), JsValue>;

    #[wasm_bindgen(catch, method, structural, js_name = removeEventListener)]
    fn remove_event_listener(this: &AbortSignalLike, kind: &str, listener: &Function) -> Result<(), JsValue>;
}

impl AbortSignalLike {
    /// Reads `value` as a signal if it looks like one (`aborted` + `addEventListener`).
    pub fn from_js(value: &JsValue) -> Option<AbortSignalLike> {
        if !value.is_object() {
            return None;
        }
        let has = |k: &str| Reflect::has(value, &JsValue::from_str(k)).unwrap_or(false);
        if has("aborted") && has("addEventListener") && has("removeEventListener") {
            Some(value.clone().unchecked_into())
        } else {
            None
        }
    }

    /// Whether the signal has fired.
    pub fn is_aborted(&self) -> bool {
        self.aborted().is_truthy()
    }

    /// The abort reason as the caller gave it (`undefined` before an abort).
    pub fn reason_value(&self) -> JsValue {
        self.reason()
    }
}

/// Sends requests with `fetch`; sleeps with `setTimeout`; reads `Date.now()` and
/// `crypto.getRandomValues`.
///
/// One transport serves one call: it carries that call's `AbortSignal` and per-attempt timeout.
/// An abort cuts a request in flight *and* a backoff or waiter sleep at once; a timeout aborts the
/// attempt (the body read included) and reports [`TransportError::Timeout`].
#[derive(Clone, Default)]
pub struct FetchTransport {
    fetch: Option<Function>,
    signal: Option<AbortSignalLike>,
    timeout_ms: Option<u32>,
    halt: Option<Rc<Cell<bool>>>,
}

impl std::fmt::Debug for FetchTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchTransport")
            .field("custom_fetch", &self.fetch.is_some())
            .field("signal", &self.signal.is_some())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// What a halted transport reports (see [`FetchTransport::with_halt`]).
pub const HALTED: &str = "stopped by the caller's callback";

/// Clears a timer and removes an abort listener when a request or sleep ends, however it ends
/// (including when its future is dropped).
struct Cleanup {
    timer: Option<JsValue>,
    signal: Option<AbortSignalLike>,
    listener: Option<Function>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            let _ = clear_timeout(&timer);
        }
        if let (Some(signal), Some(listener)) = (&self.signal, self.listener.take()) {
            let _ = signal.remove_event_listener("abort", &listener);
        }
    }
}

impl FetchTransport {
    /// A transport over the global `fetch`, no signal, no timeout.
    pub fn new() -> FetchTransport {
        FetchTransport::default()
    }

    /// Uses `fetch` (any function `(url, init) => Promise<Response>`) instead of the global one.
    pub fn with_fetch(mut self, fetch: Option<Function>) -> FetchTransport {
        self.fetch = fetch;
        self
    }

    /// Aborts requests and sleeps when `signal` fires.
    pub fn with_signal(mut self, signal: Option<AbortSignalLike>) -> FetchTransport {
        self.signal = signal;
        self
    }

    /// Aborts each attempt after `ms` milliseconds (`None`: no timeout).
    pub fn with_timeout_ms(mut self, ms: Option<u32>) -> FetchTransport {
        self.timeout_ms = ms;
        self
    }

    /// Makes every later `send` and `sleep` fail with `Aborted` once `halt` is set (used to stop
    /// a waiter whose `onPoll` callback threw).
    pub fn with_halt(mut self, halt: Option<Rc<Cell<bool>>>) -> FetchTransport {
        self.halt = halt;
        self
    }

    /// The per-attempt timeout.
    pub fn timeout_ms(&self) -> Option<u32> {
        self.timeout_ms
    }

    /// The caller's signal.
    pub fn signal(&self) -> Option<&AbortSignalLike> {
        self.signal.as_ref()
    }

    /// `Some(reason)` once the caller's signal fired or the transport was halted.
    fn abort_reason(&self) -> Option<String> {
        if let Some(signal) = &self.signal {
            if signal.is_aborted() {
                return Some(reason_text(&signal.reason()));
            }
        }
        if self.halt.as_ref().is_some_and(|h| h.get()) {
            return Some(HALTED.to_owned());
        }
        None
    }

    fn check_abort(&self) -> Result<(), TransportError> {
        match self.abort_reason() {
            Some(reason) => Err(TransportError::Aborted(reason)),
            None => Ok(()),
        }
    }

    /// Why a JS call failed: the caller aborted, our timer aborted, or the network failed.
    fn classify(&self, error: &JsValue, controller: &AbortController) -> TransportError {
        if let Some(reason) = self.abort_reason() {
            return TransportError::Aborted(reason);
        }
        if controller.signal().aborted() {
            return TransportError::Timeout(u64::from(self.timeout_ms.unwrap_or(0)));
        }
        TransportError::Network(describe_js_error(error))
    }

    async fn send_inner(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.check_abort()?;
        let init = RequestInit::new();
        init.set_method(request.method.as_str());
        // Never follow a redirect: it would re-send the request, key and body included, to
        // whatever host the Location names. Node, Deno, Bun and workerd then hand over the 3xx
        // (which the client refuses, see `crate::http::refuse_redirect`), browsers an
        // `opaqueredirect` response (refused below).
        init.set_redirect(RequestRedirect::Manual);
        let headers = Array::new();
        for (name, value) in &request.headers {
            check_header(name, value)?;
            headers.push(&Array::of2(&JsValue::from_str(name), &JsValue::from_str(value)));
        }
        init.set_headers(&headers);
        if let Some(body) = &request.body {
            init.set_body(&Uint8Array::from(body.as_slice()));
        }

        // One controller per attempt, aborted by the caller's signal or by our timer.
        let controller = AbortController::new()
            .map_err(|e| TransportError::Network(format!("AbortController is not available: {}", describe_js_error(&e))))?;
        init.set_signal(Some(&controller.signal()));
        let abort: Function = Reflect::get(&controller, &JsValue::from_str("abort"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .map(|f| f.bind0(&controller))
            .ok_or_else(|| TransportError::Network("AbortController.abort is not a function".to_owned()))?;
        let mut cleanup = Cleanup { timer: None, signal: self.signal.clone(), listener: None };
        if let Some(signal) = &self.signal {
            if signal.add_event_listener("abort", &abort).is_ok() {
                cleanup.listener = Some(abort.clone());
            }
        }
        if let Some(ms) = self.timeout_ms {
            cleanup.timer = set_timeout(&abort, ms.min(i32::MAX as u32) as i32).ok();
        }

        let url = JsValue::from_str(&request.url);
        let started = match &self.fetch {
            Some(fetch) => fetch.call2(&JsValue::UNDEFINED, &url, &init).map(|v| Promise::resolve(&v)),
            None => global_fetch(&request.url, &init),
        };
        let promise = started.map_err(|e| self.classify(&e, &controller))?;
        let response = JsFuture::from(promise).await.map_err(|e| self.classify(&e, &controller))?;

        // A browser's answer to `redirect: "manual"` (status 0, no headers), or a custom `fetch`
        // that followed a redirect anyway: either way not the configured host's answer.
        if get_string(&response, "type").as_deref() == Some("opaqueredirect") {
            return Err(TransportError::Redirect { status: None, from: origin_of(&request.url), to: None });
        }
        if Reflect::get(&response, &JsValue::from_str("redirected")).is_ok_and(|r| r.is_truthy()) {
            discard_body(&response);
            let to = get_string(&response, "url").and_then(|u| origin_of(&u));
            return Err(TransportError::Redirect { status: None, from: origin_of(&request.url), to });
        }
        let status = Reflect::get(&response, &JsValue::from_str("status")).ok().and_then(|s| s.as_f64());
        let status = match status {
            Some(s) if (100.0..=599.0).contains(&s) && s.fract() == 0.0 => s as u16,
            _ => return Err(TransportError::Network("fetch resolved to something that is not a Response".to_owned())),
        };
        let response: web_sys::Response = response.unchecked_into();
        let headers = read_headers(&response);
        let body_promise = response.array_buffer().map_err(|e| self.classify(&e, &controller))?;
        // A body cut short rejects here (undici: "terminated"): a network error, not a panic.
        let buffer = JsFuture::from(body_promise).await.map_err(|e| match self.classify(&e, &controller) {
            TransportError::Network(m) => TransportError::Network(format!("reading the response body failed: {m}")),
            other => other,
        })?;
        let body = Uint8Array::new(&buffer).to_vec();
        drop(cleanup);
        Ok(HttpResponse { status, headers, body })
    }

    async fn sleep_inner(&self, duration: Duration) -> Result<(), TransportError> {
        self.check_abort()?;
        let ms = duration.as_millis().min(i32::MAX as u128) as i32;
        let mut cleanup = Cleanup { timer: None, signal: self.signal.clone(), listener: None };
        let mut failed: Option<JsValue> = None;
        // `resolve` is the timer callback and `reject` the abort listener: no Rust closures to keep
        // alive, and an abort settles the sleep at once.
        let promise = Promise::new(&mut |resolve: Function, reject: Function| {
            match set_timeout(&resolve, ms) {
                Ok(id) => cleanup.timer = Some(id),
                Err(e) => failed = Some(e),
            }
            if let Some(signal) = &self.signal {
                if signal.add_event_listener("abort", &reject).is_ok() {
                    cleanup.listener = Some(reject);
                }
            }
        });
        if let Some(e) = failed {
            return Err(TransportError::Network(format!("setTimeout is not available: {}", describe_js_error(&e))));
        }
        let outcome = JsFuture::from(promise).await;
        drop(cleanup);
        self.check_abort()?;
        outcome.map(|_| ()).map_err(|e| TransportError::Network(describe_js_error(&e)))
    }
}

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.send_inner(&request).await
    }

    async fn sleep(&self, duration: Duration) -> Result<(), TransportError> {
        self.sleep_inner(duration).await
    }

    fn now_ms(&self) -> u64 {
        let now = js_sys::Date::now();
        if now.is_finite() && now > 0.0 {
            now as u64
        } else {
            0
        }
    }

    fn fill_random(&self, buf: &mut [u8]) {
        if !fill_from_crypto(buf) {
            for b in buf.iter_mut() {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
    }
}

/// Random bytes drawn from `crypto.getRandomValues` ahead of need: one call per
/// [`RANDOM_POOL_BYTES`] instead of one per request id or idempotency key (a JS call and a typed
/// array each). Every byte is handed out once.
const RANDOM_POOL_BYTES: usize = 512;

thread_local! {
    static RANDOM_POOL: std::cell::RefCell<(Vec<u8>, usize)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// `crypto.getRandomValues`, if the host has it (small requests from the pool above).
fn fill_from_crypto(buf: &mut [u8]) -> bool {
    if buf.len() > RANDOM_POOL_BYTES / 4 {
        return fill_from_crypto_now(buf);
    }
    RANDOM_POOL.with(|pool| {
        let (bytes, used) = &mut *pool.borrow_mut();
        if bytes.len() - *used < buf.len() {
            bytes.resize(RANDOM_POOL_BYTES, 0);
            if !fill_from_crypto_now(bytes) {
                bytes.clear();
                *used = 0;
                return false;
            }
            *used = 0;
        }
        buf.copy_from_slice(&bytes[*used..*used + buf.len()]);
        // Spent bytes are overwritten, so nothing handed out stays readable in the pool.
        bytes[*used..*used + buf.len()].fill(0);
        *used += buf.len();
        true
    })
}

fn fill_from_crypto_now(buf: &mut [u8]) -> bool {
    let crypto = match Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")) {
        Ok(c) if c.is_object() => c,
        _ => return false,
    };
    let get = match Reflect::get(&crypto, &JsValue::from_str("getRandomValues")).map(|f| f.dyn_into::<Function>()) {
        Ok(Ok(f)) => f,
        _ => return false,
    };
    for chunk in buf.chunks_mut(65_536) {
        let array = Uint8Array::new_with_length(chunk.len() as u32);
        if get.call1(&crypto, &array).is_err() {
            return false;
        }
        array.copy_to(chunk);
    }
    true
}

/// Refuses header values `fetch` would reject, before `fetch` can quote them in an error
/// message (undici does, and the value may be a key).
fn check_header(name: &str, value: &str) -> Result<(), TransportError> {
    let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    let value_ok = value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
    if name_ok && value_ok {
        Ok(())
    } else {
        Err(TransportError::Network(format!(
            "the {name:?} header contains characters that fetch cannot send (only printable ASCII is allowed)"
        )))
    }
}

fn read_headers(response: &web_sys::Response) -> Vec<(String, String)> {
    let headers = match Reflect::get(response, &JsValue::from_str("headers")) {
        Ok(h) if h.is_object() => h,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&headers) {
        for entry in iter.flatten() {
            let pair = Array::from(&entry);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out.push((k, v));
            }
        }
    }
    out
}

/// Cancels a response body that will not be read (best effort), so it does not hold a connection.
fn discard_body(response: &JsValue) {
    if let Ok(body) = Reflect::get(response, &JsValue::from_str("body")) {
        if let Ok(Ok(cancel)) = Reflect::get(&body, &JsValue::from_str("cancel")).map(|f| f.dyn_into::<Function>()) {
            if let Ok(p) = cancel.call0(&body) {
                // A rejection here is of no interest: `Boolean` (a builtin that never throws)
                // handles it, so it is not reported as unhandled, and no Rust closure is needed.
                let noop = Reflect::get(&js_sys::global(), &JsValue::from_str("Boolean"))
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok());
                let catch = Reflect::get(&p, &JsValue::from_str("catch")).ok().and_then(|f| f.dyn_into::<Function>().ok());
                if let (Some(catch), Some(noop)) = (catch, noop) {
                    let _ = catch.call1(&p, &noop);
                }
            }
        }
    }
}

fn get_string(value: &JsValue, key: &str) -> Option<String> {
    if !value.is_object() {
        return None;
    }
    Reflect::get(value, &JsValue::from_str(key)).ok().and_then(|v| v.as_string()).filter(|s| !s.is_empty())
}

/// `name: message (cause)` of a JS error, or its string form; at most 400 characters.
pub fn describe_js_error(error: &JsValue) -> String {
    let mut text = if let Some(s) = error.as_string() {
        s
    } else {
        match (get_string(error, "name"), get_string(error, "message")) {
            (Some(n), Some(m)) => format!("{n}: {m}"),
            (None, Some(m)) => m,
            (Some(n), None) => n,
            (None, None) => "unknown error".to_owned(),
        }
    };
    if error.is_object() {
        if let Ok(cause) = Reflect::get(error, &JsValue::from_str("cause")) {
            let detail = get_string(&cause, "message").or_else(|| get_string(&cause, "code")).or_else(|| cause.as_string());
            if let Some(d) = detail {
                text.push_str(&format!(" ({d})"));
            }
        }
    }
    if text.chars().count() > 400 {
        text = text.chars().take(400).collect::<String>() + "…";
    }
    text
}

/// An abort reason as text: a string as is, an Error's message, otherwise its description.
pub fn reason_text(reason: &JsValue) -> String {
    if reason.is_undefined() || reason.is_null() {
        return String::new();
    }
    if let Some(s) = reason.as_string() {
        return s;
    }
    get_string(reason, "message").unwrap_or_else(|| describe_js_error(reason))
}
