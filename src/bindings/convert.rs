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

use crate::answer_json::Tape;
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
/// emptied. The instances are built in JS from a [`Tape`] (their strings and a few numbers, no
/// JSON); each `raw` becomes a lazy own enumerable property that parses the record's text the
/// first time it is read (so `JSON.stringify`, spread and `structuredClone` still see it). The
/// records' texts cross once, as one `Uint8Array` copy, however many bodies they came in.
pub fn instances_to_js<T: Serialize>(shell: &T, key: &str, instances: Vec<Instance>) -> Result<JsValue, Error> {
    let (texts, spans) = crate::answer_json::record_texts(&instances)?;
    build(shell, key, &instances, &js_sys::Uint8Array::from(&texts[..]), &spans)
}

/// [`instances_to_js`] for instances decoded from one body that JS holds as `body` (its UTF-8
/// bytes, not shared with the caller): each `raw` is read from there, so the records' texts are
/// not copied out of wasm memory again. Falls back to [`instances_to_js`] when the records are
/// not spans of that body (see [`crate::answer_json::body_spans`]).
pub fn instances_in_body_to_js<T: Serialize>(
    shell: &T,
    key: &str,
    instances: Vec<Instance>,
    body: &js_sys::Uint8Array,
) -> Result<JsValue, Error> {
    match crate::answer_json::body_spans(&instances, body.length() as usize) {
        Some(spans) => build(shell, key, &instances, body, &spans),
        None => instances_to_js(shell, key, instances),
    }
}

fn build<T: Serialize>(
    shell: &T,
    key: &str,
    instances: &[Instance],
    texts: &js_sys::Uint8Array,
    spans: &[u32],
) -> Result<JsValue, Error> {
    let shell =
        serde_json::to_vec(shell).map_err(|e| Error::new(ErrorCode::Decode, format!("could not serialize the result: {e}")))?;
    let tape = Tape::of(instances)?;
    // UTF-8 by construction (serde_json's text, Rust strings): decoded by the JS side's native
    // TextDecoder, not checked again here.
    build_instances(&shell, key, &tape.strings, &tape.words, texts, spans).map_err(handover_error)
}

fn handover_error(e: JsValue) -> Error {
    Error::new(ErrorCode::Decode, format!("could not hand the result to JS: {}", describe_js_error(&e)))
}

#[wasm_bindgen(inline_js = r#"
const decoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
const encoder = new TextEncoder();
export function utf8Bytes(text) { return encoder.encode(text); }
// Instances from a Tape (src/answer_json.rs): `strings` decoded once into one JS string, each
// string field a slice of it, in write_instance_fields' key order (so JSON.stringify gives the
// same text as the JSON path), the optional fields as the flags word says. Faster than writing
// and parsing JSON for them (no keys, no escapes; see BENCHMARKS.md, "Decode against plain JS").
//
// A lazy `raw`: an own enumerable accessor (so JSON.stringify, spread and structuredClone see it)
// that parses its record on first read and gives the same value on every later read (mutations
// of it stay); assigning to it makes it a plain data property. It stays an accessor after the
// read: redefining it as a data property cost more than the read itself (and would fail on a
// frozen instance). One getter and one setter for the whole module, each instance's place found
// through a WeakMap: a closure per instance costs more than the decode it saves, and so does a
// getter per call (V8 shares the objects' shapes only while the accessor is the same functions;
// with new ones on every call each instance got a shape of its own and defining `raw` cost as
// much as the rest of the decode — BENCHMARKS.md, "Decode against plain JS"). `texts` holds the
// records (a body, or their texts one after another), `spans` each one's [start, end) there;
// consecutive records are consecutive elements of one JSON array (comma-separated), so they are
// parsed a block at a time: the first read in a block of RAW_BLOCK instances decodes and parses
// the whole block as one array, and reading every `raw` costs about one `JSON.parse` of the
// records, not one TextDecoder and one parse per record.
const RAW_BLOCK = 256;
// instance → { page, i, value }: `page` (its records) until the first read, then `value`.
const rawPlace = new WeakMap();
const lazyRaw = {
  enumerable: true,
  configurable: true,
  get() {
    const place = rawPlace.get(this);
    if (place === undefined) return undefined;
    if (place.page !== null) {
      place.value = place.page.recordAt(place.i);
      place.page = null;
    }
    return place.value;
  },
  set(value) {
    rawPlace.delete(this);
    Object.defineProperty(this, "raw", { value, enumerable: true, configurable: true, writable: true });
  },
};
export function buildInstances(shell, key, strings, words, texts, spansView) {
  const out = JSON.parse(decoder.decode(shell));
  const all = decoder.decode(strings);
  // `words` and `spansView` are views of wasm memory, valid only during this call: `words` is
  // read here, `spans` kept as a copy.
  const spans = spansView.slice();
  const count = words[0];
  const items = new Array(count);
  let w = 1;
  let at = 0;
  const str = () => {
    const end = words[w++];
    const value = all.slice(at, end);
    at = end;
    return value;
  };
  const json = () => JSON.parse(str());
  for (let i = 0; i < count; i++) {
    const f = words[w++];
    const o = { provider: str(), id: str() };
    if (f & 0x1) o.name = str();
    o.status = str();
    o.providerStatus = str();
    if (f & 0x2) o.statusReason = str();
    if (f & 0x4) o.instanceType = str();
    if (f & 0x8) o.gpuCount = words[w++];
    if (f & 0x10) o.gpuModel = str();
    if (f & 0x20) o.region = str();
    if (f & 0x40) o.sector = str();
    if (f & 0x80) o.ip = str();
    if (f & 0x100) {
      const ssh = { host: str(), port: words[w++] };
      if (f & 0x200) ssh.user = str();
      if (f & 0x400) ssh.command = str();
      o.ssh = ssh;
    }
    if (f & 0x800) o.createdAt = str();
    if (f & 0x1000) {
      const tags = {};
      for (let n = words[w++]; n > 0; n--) {
        const k = str();
        // As JSON.parse makes it: an own property even when the key is "__proto__".
        if (k === "__proto__") Object.defineProperty(tags, k, { value: str(), enumerable: true, configurable: true, writable: true });
        else tags[k] = str();
      }
      o.tags = tags;
    }
    if (f & 0x2000) {
      const pool = { id: str() };
      if (f & 0x4000) pool.name = str();
      o.pool = pool;
    }
    if (f & 0x8000) o.priorityLevel = str();
    if (f & 0x10000) {
      const m = { kind: str(), id: str() };
      if (f & 0x20000) m.name = str();
      o.managedBy = m;
    }
    if (f & 0x40000) o.publicIpv4 = (f & 0x80000) !== 0;
    if (f & 0x100000) o.billingMode = str();
    if (f & 0x200000) {
      const spot = { status: str() };
      if (f & 0x400000) spot.reclaimAt = str();
      o.spot = spot;
    }
    if (f & 0x800000) o.offerId = str();
    if (f & 0x1000000) o.startedAt = str();
    if (f & 0x2000000) o.stoppedAt = str();
    if (f & 0x4000000) o.price = json();
    if (f & 0x8000000) o.priceNote = str();
    if (f & 0x10000000) o.cost = json();
    if (f & 0x20000000) o.deadline = json();
    if (f & 0x40000000) o.deadlineError = json();
    if (f & 0x80000000) o.deadlineMirror = json();
    items[i] = o;
  }
  // The parsed records of the blocks read so far, each dropped once its instance has it.
  const records = new Array(count);
  const parsedBlocks = new Uint8Array(Math.ceil(count / RAW_BLOCK));
  const recordAt = (i) => {
    const block = (i / RAW_BLOCK) | 0;
    if (parsedBlocks[block] === 0) {
      const first = block * RAW_BLOCK;
      const end = Math.min(first + RAW_BLOCK, count);
      const run = JSON.parse("[" + decoder.decode(texts.subarray(spans[2 * first], spans[2 * end - 1])) + "]");
      for (let k = 0; k < run.length; k++) records[first + k] = run[k];
      parsedBlocks[block] = 1;
    }
    const value = records[i];
    records[i] = undefined;
    return value;
  };
  const page = { recordAt };
  for (let i = 0; i < count; i++) {
    const item = items[i];
    rawPlace.set(item, { page, i, value: undefined });
    Object.defineProperty(item, "raw", lazyRaw);
  }
  out[key] = items;
  return out;
}
"#)]
extern "C" {
    /// `JSON.parse` of the page's JSON without its instances (`shell`), its `key` then the
    /// instances built from a [`Tape`], each with a lazy `raw` from its span of `texts` (a JS
    /// array, kept).
    #[wasm_bindgen(js_name = buildInstances, catch)]
    fn build_instances(
        shell: &[u8],
        key: &str,
        strings: &[u8],
        words: &[u32],
        texts: &js_sys::Uint8Array,
        spans: &[u32],
    ) -> Result<JsValue, JsValue>;
    /// `new TextEncoder().encode(text)`.
    #[wasm_bindgen(js_name = utf8Bytes)]
    fn utf8_bytes(text: &JsValue) -> js_sys::Uint8Array;
}

/// The UTF-8 bytes of a JS string (`None` for anything else), encoded by the JS engine's native
/// `TextEncoder` and copied into wasm memory in one piece; the same bytes as `as_string()` gives
/// (lone surrogates become U+FFFD either way), without wasm-bindgen's per-character copy loop,
/// which a 6 MB body makes noticeable.
pub fn string_bytes(value: &JsValue) -> Option<Vec<u8>> {
    string_utf8(value).map(|bytes| bytes.to_vec())
}

/// The UTF-8 bytes of a JS string as a new JS `Uint8Array` (`None` for anything else).
pub fn string_utf8(value: &JsValue) -> Option<js_sys::Uint8Array> {
    value.is_string().then(|| utf8_bytes(value))
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
