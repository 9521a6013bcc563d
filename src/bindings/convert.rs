//! Moving values across the boundary.
//!
//! **Out** (results): serde_json text, then one `JSON.parse` on the JS side. Maps (`raw`, `tags`)
//! arrive as plain objects (serde-wasm-bindgen would make them `Map`s unless every type opts
//! out), and a 10,000-instance listing converts several times faster than object-by-object
//! (see `tests/wasm.rs`, `json_out_vs_serde_wasm_bindgen`).
//!
//! **In** (configs, queries, inputs): `JSON.stringify`, then the core's `input_from_json`, so a
//! bad field is an `invalidInput` error that names it (`query.limit`), `undefined` fields are
//! simply absent, and the value has the same shape the proxy receives on the wire. Functions and
//! `AbortSignal`s (`fetch`, `onPoll`, `signal`) are read separately with `Reflect`.

use js_sys::{Function, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, ErrorCode};
use crate::model::Instance;
use crate::provider::{validate_id, Provider};
use crate::transport::{describe_js_error, AbortSignalLike};

/// Serializes `value` to a plain JS value (via JSON text and `JSON.parse`).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Error> {
    parse_result(serde_json::to_string(value))
}

/// [`to_js`]'s part that does not depend on the type: one copy in the wasm, not one per result
/// type.
#[inline(never)]
fn parse_result(text: serde_json::Result<String>) -> Result<JsValue, Error> {
    let text = text.map_err(|e| Error::new(ErrorCode::Decode, format!("could not serialize the result: {e}")))?;
    js_sys::JSON::parse(&text).map_err(handover_error)
}

/// [`to_js`] for a value whose first field is a list of instances (`Page<Instance>` under
/// `items`, `FleetListing` under `instances`: `key`), `shell` being that value with the list
/// emptied. The instances cross as small JSON without their `raw`; each `raw` becomes a lazy own
/// enumerable property that parses the record's span of the provider's body the first time it
/// is read (so `JSON.stringify`, spread and `structuredClone` still see it). The records' texts
/// cross once, as one `Uint8Array` copy, however many bodies they came in.
pub fn instances_to_js<T: Serialize>(shell: &T, key: &str, instances: Vec<Instance>) -> Result<JsValue, Error> {
    let (text, texts, spans) = crate::answer_json::instances_json_spans(shell, instances)?;
    // UTF-8 by construction (serde_json's text; the spans are whole JSON values serde_json read
    // as text): decoded by the JS side's native TextDecoder, not checked again here.
    parse_instances(&text, key, &texts, &spans).map_err(handover_error)
}

fn handover_error(e: JsValue) -> Error {
    Error::new(ErrorCode::Decode, format!("could not hand the result to JS: {}", describe_js_error(&e)))
}

#[wasm_bindgen(inline_js = r#"
const decoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
const encoder = new TextEncoder();
export function utf8Bytes(text) { return encoder.encode(text); }
// A lazy `raw`: an own enumerable accessor (so JSON.stringify, spread and structuredClone see it)
// that parses the record's span of its body on first read and then becomes a plain data
// property. One getter and setter per call, the span found through a WeakMap: a closure per
// instance costs more than the decode it saves (see BENCHMARKS.md, "Decode").
export function parseInstances(bytes, key, textsView, spansView) {
  const out = JSON.parse(decoder.decode(bytes));
  // Both are views of wasm memory, valid only during this call: keep copies.
  const texts = textsView.slice();
  const spans = spansView.slice();
  const items = out[key];
  const where = new WeakMap();
  const settle = (item, value) => Object.defineProperty(item, "raw", { value, enumerable: true, configurable: true, writable: true });
  const lazy = {
    enumerable: true,
    configurable: true,
    get() {
      const j = where.get(this);
      const value = j === undefined ? undefined : JSON.parse(decoder.decode(texts.subarray(spans[j], spans[j + 1])));
      settle(this, value);
      return value;
    },
    set(value) { settle(this, value); },
  };
  for (let i = 0, j = 0; i < items.length; i++, j += 2) {
    where.set(items[i], j);
    Object.defineProperty(items[i], "raw", lazy);
  }
  return out;
}
"#)]
extern "C" {
    /// `JSON.parse` of a page's JSON, then a lazy `raw` on each of `out[key]` from its span.
    #[wasm_bindgen(js_name = parseInstances, catch)]
    fn parse_instances(bytes: &[u8], key: &str, texts: &[u8], spans: &[u32]) -> Result<JsValue, JsValue>;
    /// `new TextEncoder().encode(text)`.
    #[wasm_bindgen(js_name = utf8Bytes)]
    fn utf8_bytes(text: &JsValue) -> js_sys::Uint8Array;
}

/// The UTF-8 bytes of a JS string (`None` for anything else), encoded by the JS engine's native
/// `TextEncoder` and copied into wasm memory in one piece; the same bytes as `as_string()` gives
/// (lone surrogates become U+FFFD either way), without wasm-bindgen's per-character copy loop,
/// which a 6 MB body makes noticeable.
pub fn string_bytes(value: &JsValue) -> Option<Vec<u8>> {
    value.is_string().then(|| utf8_bytes(value).to_vec())
}

/// Reads a JS value as JSON (`undefined`/`null` → `null`). `field` names it in errors.
pub fn to_json(value: &JsValue, field: &str) -> Result<serde_json::Value, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let text = js_sys::JSON::stringify(value)
        .map_err(|e| Error::invalid_input(field, format!("cannot be read as JSON ({})", describe_js_error(&e))))?;
    let text = text.as_string().ok_or_else(|| Error::invalid_input(field, "must be an object"))?;
    // from_slice, not from_str: the slice reader is the one the rest of the crate uses (one copy in the wasm).
    serde_json::from_slice(text.as_bytes()).map_err(|e| Error::invalid_input(field, format!("cannot be read as JSON ({e})")))
}

/// Reads an object of type `T`; a missing value (`undefined`/`null`) reads as `{}`. Unknown or
/// mistyped fields give `invalidInput` naming `prefix.path` (or just `path` when `prefix` is empty).
pub fn from_js<T: DeserializeOwned>(value: &JsValue, prefix: &str) -> Result<T, Error> {
    let json = object_json(value, prefix)?;
    crate::json_path::from_value(&json).map_err(|e| input_error(prefix, e))
}

/// [`from_js`]'s JSON: the value as a JSON object (`{}` for `undefined`/`null`). Not generic, so
/// one copy in the wasm rather than one per options type.
#[inline(never)]
fn object_json(value: &JsValue, prefix: &str) -> Result<serde_json::Value, Error> {
    let json = match to_json(value, if prefix.is_empty() { "config" } else { prefix })? {
        serde_json::Value::Null => serde_json::Value::Object(Default::default()),
        other => other,
    };
    if !json.is_object() {
        return Err(Error::invalid_input(if prefix.is_empty() { "config" } else { prefix }, "must be an object"));
    }
    Ok(json)
}

/// [`from_js`]'s error: `invalidInput` naming `prefix.path` (or just `path` when `prefix` is empty).
#[inline(never)]
fn input_error(prefix: &str, e: crate::json_path::PathError) -> Error {
    let path = e.path().to_string();
    let field = match (prefix.is_empty(), path == "." || path.is_empty()) {
        (true, true) => "config".to_owned(),
        (true, false) => path,
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    };
    Error::invalid_input(field, e.into_inner())
}

/// `object[key]`, or `undefined` when `object` is not an object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `options.signal` as an `AbortSignal`, if given.
pub fn signal_of(options: &JsValue, prefix: &str) -> Result<Option<AbortSignalLike>, Error> {
    let value = get(options, "signal");
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    AbortSignalLike::from_js(&value)
        .map(Some)
        .ok_or_else(|| Error::invalid_input(format!("{prefix}.signal"), "must be an AbortSignal"))
}

/// `object[key]` as a function, if given.
pub fn function_of(object: &JsValue, key: &str, field: &str) -> Result<Option<Function>, Error> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into::<Function>().map(Some).map_err(|_| Error::invalid_input(field, "must be a function"))
}

/// A provider name (`"fal"`, `"fal-alpha"`, `"sfcompute"`, `"novita"`).
pub fn provider_of(value: &JsValue) -> Result<Provider, Error> {
    match value.as_string() {
        Some(s) => Provider::parse_or_error("provider", &s),
        None => Err(Error::invalid_input("provider", "must be one of fal, fal-alpha, sfcompute, novita")),
    }
}

/// An instance id (a non-empty string of letters, digits, `.`, `_`, `-`, `:`).
pub fn id_of(value: &JsValue) -> Result<String, Error> {
    let id = value.as_string().ok_or_else(|| Error::invalid_input("id", "must be a string"))?;
    validate_id(&id)?;
    Ok(id)
}
