//! [`Error`] → a thrown JS `Error` with `name = "GpufleetError"` and a stable `code` (the
//! workers-rs `build_coded_error` shape), declared in the `.d.ts` as `GpufleetError`: the
//! generated `ErrorInfo` (the [`Error`] record's own TypeScript type) on a JS `Error`, so the
//! fields are declared once, where they are defined.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::transport::AbortSignalLike;

#[wasm_bindgen(typescript_custom_section)]
const GPUFLEET_ERROR_TS: &'static str = r#"
/**
 * What every gpufleet call throws (or rejects with): a real `Error` whose `name` is
 * `"GpufleetError"`, carrying the fields of `ErrorInfo` (the error record the proxy answers with
 * too), with a stable `code` to branch on. Keys and tokens never appear in it.
 */
export interface GpufleetError extends Error, ErrorInfo {
  name: "GpufleetError";
  /** For `aborted`: the `AbortSignal`'s reason. */
  cause?: unknown;
}
"#;

fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// Builds the JS `Error` for `error`. Optional fields are set only when present.
pub fn to_js_error(error: &Error) -> JsValue {
    let err = js_sys::Error::new(&error.message);
    err.set_name("GpufleetError");
    let js: JsValue = err.into();
    set(&js, "code", &JsValue::from_str(error.code.as_str()));
    if let Some(p) = error.provider {
        set(&js, "provider", &JsValue::from_str(p.as_str()));
    }
    if let Some(s) = error.status {
        set(&js, "status", &JsValue::from(s));
    }
    if let Some(t) = &error.provider_type {
        set(&js, "providerType", &JsValue::from_str(t));
    }
    if let Some(r) = &error.request_id {
        set(&js, "requestId", &JsValue::from_str(r));
    }
    set(&js, "retryable", &JsValue::from_bool(error.retryable));
    if let Some(ms) = error.retry_after_ms {
        set(&js, "retryAfterMs", &JsValue::from_f64(ms as f64));
    }
    if let Some(d) = &error.docs_url {
        set(&js, "docsUrl", &JsValue::from_str(d));
    }
    if let Some(f) = &error.field {
        set(&js, "field", &JsValue::from_str(f));
    }
    if !error.details.is_empty() {
        if let Ok(details) = super::convert::to_js(&error.details) {
            set(&js, "details", &details);
        }
    }
    js
}

/// [`to_js_error`], plus `cause` = the signal's reason when the call was aborted by `signal`.
pub fn to_js_error_for_call(error: &Error, signal: Option<&AbortSignalLike>) -> JsValue {
    let js = to_js_error(error);
    if error.code == crate::error::ErrorCode::Aborted {
        if let Some(s) = signal.filter(|s| s.is_aborted()) {
            set(&js, "cause", &s.reason_value());
        }
    }
    js
}

/// Whether `error` is an error thrown by gpufleet (`name === "GpufleetError"` and a string `code`).
#[wasm_bindgen(js_name = isGpufleetError, unchecked_return_type = "error is GpufleetError")]
pub fn is_gpufleet_error(#[wasm_bindgen(unchecked_param_type = "unknown")] error: JsValue) -> bool {
    if !error.is_object() {
        return false;
    }
    let get = |k: &str| Reflect::get(&error, &JsValue::from_str(k)).ok();
    get("name").and_then(|n| n.as_string()).as_deref() == Some("GpufleetError") && get("code").is_some_and(|c| c.is_string())
}
