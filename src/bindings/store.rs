//! The core's [`Store`] over a JS object with the `D1Store` methods (`pkg/d1-store.js`, on the
//! Worker's `DB` binding): each call passes and receives JSON text, so the SQL stays in JS and
//! every decision in the core.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{Error, ErrorCode, Result};
use crate::provider_id::Provider;
use crate::store::{AuditEntry, AuditFilter, AuditPage, Deadline, Finish, Store};

#[wasm_bindgen]
extern "C" {
    /// `D1Store` (pkg-template/d1-store.js).
    pub type JsStore;

    #[wasm_bindgen(method, catch, js_name = appendAudit)]
    fn js_append_audit(this: &JsStore, entry: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = audit)]
    fn js_audit(this: &JsStore, filter: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = putDeadline)]
    fn js_put_deadline(this: &JsStore, deadline: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = clearDeadline)]
    fn js_clear_deadline(this: &JsStore, provider: &str, instance_id: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = deadline)]
    fn js_deadline(this: &JsStore, provider: &str, instance_id: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = deadlines)]
    fn js_deadlines(this: &JsStore) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = deadlinesOf)]
    fn js_deadlines_of(this: &JsStore, instances: &str) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = claimDue)]
    fn js_claim_due(this: &JsStore, now_ms: f64, owner: &str, lease_ms: f64, limit: u32)
        -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = finish)]
    fn js_finish(
        this: &JsStore,
        provider: &str,
        instance_id: &str,
        owner: &str,
        how: &str,
    ) -> std::result::Result<Promise, JsValue>;
}

/// Why a store call failed: the JS error's name and message (D1 errors quote SQL, never a key).
fn store_error(e: JsValue) -> Error {
    let text = js_sys::Reflect::get(&e, &JsValue::from_str("message")).ok().and_then(|m| m.as_string()).unwrap_or_default();
    Error::new(ErrorCode::Server, format!("the proxy's store (D1) failed: {text}"))
}

async fn settle(call: std::result::Result<Promise, JsValue>) -> Result<JsValue> {
    let promise = call.map_err(store_error)?;
    JsFuture::from(promise).await.map_err(store_error)
}

fn json<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T> {
    let text = value.as_string().ok_or_else(|| Error::new(ErrorCode::Server, "the proxy's store answered no JSON"))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::new(ErrorCode::Server, format!("the proxy's store answered unreadable JSON: {e}")))
}

fn optional<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<Option<T>> {
    if value.is_null() || value.is_undefined() {
        return Ok(None);
    }
    json(value).map(Some)
}

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Store for JsStore {
    async fn append_audit(&self, entry: AuditEntry) -> Result<u64> {
        let seq = settle(self.js_append_audit(&text(&entry))).await?;
        seq.as_string()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::new(ErrorCode::Server, "the proxy's store gave no audit seq"))
    }

    async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        json(settle(self.js_audit(&text(filter))).await?)
    }

    async fn put_deadline(&self, deadline: Deadline) -> Result<Option<Deadline>> {
        optional(settle(self.js_put_deadline(&text(&deadline))).await?)
    }

    async fn clear_deadline(&self, provider: Provider, instance_id: &str) -> Result<Option<Deadline>> {
        optional(settle(self.js_clear_deadline(provider.as_str(), instance_id)).await?)
    }

    async fn deadline(&self, provider: Provider, instance_id: &str) -> Result<Option<Deadline>> {
        optional(settle(self.js_deadline(provider.as_str(), instance_id)).await?)
    }

    async fn deadlines(&self) -> Result<Vec<Deadline>> {
        json(settle(self.js_deadlines()).await?)
    }

    async fn deadlines_of(&self, instances: &[(Provider, &str)]) -> Result<Vec<Deadline>> {
        // `[["sfcompute","inst_1"],…]`: one bound parameter, however many instances.
        json(settle(self.js_deadlines_of(&text(&instances))).await?)
    }

    async fn claim_due(&self, now_ms: u64, owner: &str, lease_ms: u64, limit: u32) -> Result<Vec<Deadline>> {
        json(settle(self.js_claim_due(now_ms as f64, owner, lease_ms as f64, limit)).await?)
    }

    async fn finish(&self, provider: Provider, instance_id: &str, owner: &str, how: Finish) -> Result<bool> {
        let done = settle(self.js_finish(provider.as_str(), instance_id, owner, &text(&how))).await?;
        Ok(done.is_truthy())
    }
}
