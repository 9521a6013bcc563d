//! The Worker's `scheduled()` (Cron Trigger, every minute): `runScheduled(env, store)` fires the
//! due deadlines through the core's [`run_due_deadlines`], with the provider keys of `env` and
//! the D1 store `worker.js` made from `env.DB`.

use wasm_bindgen::prelude::*;

use super::store::JsStore;
use super::worker::read_env;
use crate::client::Client;
use crate::deadlines::run_due_deadlines;
use crate::http::Transport;
use crate::proxy::{new_request_id, Proxy};
use crate::transport::FetchTransport;

/// One upstream attempt at most (as for requests): the run stays inside the platform's limits.
const UPSTREAM_TIMEOUT_MS: u32 = 25_000;

/// Fires the deadlines due now; resolves to the run's report (JSON text: claimed, fired,
/// retrying, failed, lost), after logging it as one line. Rejects only when the store fails.
#[wasm_bindgen(js_name = runScheduled)]
pub async fn run_scheduled(env: JsValue, store: JsStore) -> Result<String, JsValue> {
    let proxy = Proxy::new(read_env(&env));
    let transport = FetchTransport::new().with_timeout_ms(Some(UPSTREAM_TIMEOUT_MS));
    let owner = format!("cron-{}", new_request_id(&transport));
    let client = Client::new(&transport, proxy.client_config());
    match run_due_deadlines(&client, &store, &owner, transport.now_ms()).await {
        Ok(report) => {
            let line = serde_json::json!({ "event": "deadlines", "run": owner, "report": report }).to_string();
            web_sys::console::log_1(&JsValue::from_str(&line));
            Ok(serde_json::to_string(&report).unwrap_or_default())
        }
        Err(e) => Err(JsValue::from_str(&e.message)),
    }
}
