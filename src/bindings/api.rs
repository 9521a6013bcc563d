//! The `Fleet` class: the JavaScript API over [`Client`]`<`[`FetchTransport`]`>`.
//!
//! Every method returns a `Promise` built here from an owned future (the fleet's state is behind
//! an `Rc`), so calls can overlap, and `free()` during a call cannot break it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{from_js, function_of, get, id_of, provider_of, signal_of, to_js};
use super::errors::{to_js_error, to_js_error_for_call};
use crate::client::{Client, ClientConfig, RetryPolicy, WaitOptions};
use crate::error::Error;
use crate::model::{CreateInput, FleetQuery, Instance, ListQuery, Operation, Page, Status};
use crate::provider::{Provider, ProviderConfig};
use crate::proxy::api::ProxyConfig;
use crate::transport::{AbortSignalLike, FetchTransport};

/// `fleet.orphans(query)`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrphanQuery {
    #[serde(default)]
    older_than_ms: Option<u64>,
}

/// The per-attempt timeout when the config gives none.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

// ----- types that exist only at the JS boundary ------------------------------------------------

/// fal credentials (Platform API v1 or the alpha API).
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FalConfig {
    /// An admin-scope fal key (sent as `Authorization: Key …`).
    pub api_key: String,
    /// Override the API base URL (default `https://api.fal.ai/v1`, or `https://rest.alpha.fal.ai`
    /// for `falAlpha`): `https://`, or `http://` to localhost, 127.x.x.x or [::1] only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// SF Compute credentials.
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SfcomputeConfig {
    /// An SF Compute API token (sent as `Authorization: Bearer …`).
    pub token: String,
    /// The workspace to list (`wksp_…` or `sfc:workspace:<account>:<name>`).
    pub workspace: String,
    /// Override the API base URL (default `https://api.sfcompute.com/preview/v2`): `https://`, or
    /// `http://` to localhost, 127.x.x.x or [::1] only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// Novita credentials.
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NovitaConfig {
    /// A Novita API key (sent as `Authorization: Bearer …`).
    pub api_key: String,
    /// Override the API base URL (default `https://api.novita.ai/gpu-instance/openapi/v1`):
    /// `https://`, or `http://` to localhost, 127.x.x.x or [::1] only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// A gpufleet edge proxy, which holds the provider keys so that a browser page needs none.
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxyOptions {
    /// The proxy's API base, e.g. `https://fleet.example.com/api`, or `/api` in a page (resolved
    /// against `location`). Routes are appended after `/v1`.
    pub url: String,
    /// The proxy's bearer token (`GPUFLEET_TOKEN`, its read-only token for GETs only, or a
    /// named caller's). Leave it out for a proxy behind Cloudflare Access on the page's own
    /// origin: the browser's Access session then says who calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub token: Option<String>,
}

/// How failed requests are retried (429 always; 5xx, timeouts and network errors only where
/// repeating is harmless: reads, deletes, and fal v1 creates, which carry an idempotency key).
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryOptions {
    /// Retries after the first attempt, 0–10 (default 3).
    pub max: u32,
    /// First backoff delay in ms (default 300); doubles each retry, with jitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_delay_ms: Option<u64>,
    /// Longest backoff delay in ms (default 10000). A `Retry-After` may ask for more, up to 60 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_ms: Option<u64>,
}

/// The `Fleet` constructor's config: provider credentials (each optional), or `proxy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetConfig {
    /// fal Platform API v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fal: Option<FalConfig>,
    /// fal's older alpha Compute API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fal_alpha: Option<FalConfig>,
    /// SF Compute preview v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sfcompute: Option<SfcomputeConfig>,
    /// Novita GPU instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub novita: Option<NovitaConfig>,
    /// Send every call through a gpufleet proxy instead (no provider key in this process).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyOptions>,
    /// Retry policy (default: up to 3 retries, 300 ms doubling to 10 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetryOptions>,
    /// Novita pages fetched at once by `listAll` once the first page gives the total, 1–64
    /// (default 8; 1 = one page after another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_concurrency: Option<u32>,
    /// Timeout of each HTTP attempt in ms, 1–2147483647 (default 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
    /// A `fetch` to use instead of the global one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "(input: string, init: RequestInit) => Promise<Response>")]
    pub fetch: Option<serde_json::Value>,
    /// Hourly prices in US dollars by provider and instance type (fal publishes none), e.g.
    /// `{ fal: { gpu_1x_h100_sxm5: 1.99 } }`: numbers or decimal text, 0–1000000, at most 6
    /// decimal places. They win over the providers' own. Not with `proxy` (set the proxy's
    /// `GPUFLEET_PRICES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "Partial<Record<Provider, Record<string, number | string>>>")]
    pub prices: Option<serde_json::Value>,
    /// Allow provider keys in a browser page, where anyone who opens the page can read them.
    /// Prefer `proxy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dangerously_allow_browser: Option<bool>,
}

/// Options every call takes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallOptions {
    /// Aborts the call: a request in flight, a retry backoff or a waiter's sleep settles at once
    /// with an `aborted` error whose `cause` is the signal's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    /// Timeout of each HTTP attempt in ms for this call (overrides the fleet's `timeoutMs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
}

/// Options of `create`: those of every call, and a deadline for the new instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOptions {
    /// Aborts the call (see `CallOptions.signal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    /// Timeout of each HTTP attempt in ms for this call (overrides the fleet's `timeoutMs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub timeout_ms: Option<u32>,
    /// A deadline for the new instance, kept and fired by the proxy, as `setDeadline` takes it:
    /// `{ at }` (a `Date`, ms since the epoch or an ISO 8601 time) or `{ after }` (ms from the
    /// create), and `action`. The instance comes back with its `deadline`; should the proxy fail
    /// to store it, with `deadlineError` instead — the instance exists all the same, do not create
    /// it again. Proxy mode only: a direct `Fleet` rejects with `unsupported` before creating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "{ at?: Date | number | string; after?: number; action?: DeadlineAction }")]
    pub deadline: Option<crate::records_api::DeadlineRequest>,
}

/// Options of `waitFor`.
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitForOptions {
    /// The normalized status to wait for.
    pub until: Status,
    /// Give up after this many ms with a `timeout` error listing the statuses seen (default 20 min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait_ms: Option<u64>,
    /// First delay between polls in ms (default 2000); grows ×1.5 up to `maxDelayMs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_delay_ms: Option<u64>,
    /// Longest delay between polls in ms (default 15000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay_ms: Option<u64>,
    /// Called with every instance read; if it throws, waiting stops and `waitFor` rejects with
    /// what it threw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "(instance: Instance) => void")]
    pub on_poll: Option<serde_json::Value>,
    /// Aborts the wait at once, even mid-sleep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    /// Timeout of each HTTP attempt in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
}

/// What `instances()` iterates over: every matching instance of every (chosen) provider, page by
/// page, provider after provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstancesQuery {
    /// Only these providers (default: every configured one, or the proxy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<Provider>>,
    /// Only instances in these normalized statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<Status>>,
    /// Case-insensitive text match on id, name, IP and instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Page size asked of each provider (where it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Aborts the iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "AbortSignal")]
    pub signal: Option<serde_json::Value>,
    /// Timeout of each HTTP attempt in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
}

#[wasm_bindgen(typescript_custom_section)]
const FLEET_GENERIC_TS: &'static str = r#"
/** The `query` argument of `listPage` for each provider. */
export interface ListQueryMap {
  fal: FalListQuery;
  "fal-alpha": FalAlphaListQuery;
  sfcompute: SfcListQuery;
  novita: NovitaListQuery;
}

/** The `input` argument of `create` for each provider. */
export interface CreateInputMap {
  fal: FalCreateInput;
  "fal-alpha": FalAlphaCreateInput;
  sfcompute: SfcCreateInput;
  novita: NovitaCreateInput;
}

export interface Fleet {
  /**
   * One page of one provider's instances. Pass `page.nextCursor` back as `query.cursor` for the
   * next page; `hasMore` is false on the last one.
   */
  listPage<P extends Provider>(provider: P, query?: ListQueryMap[P] | null, options?: CallOptions | null): Promise<Page<Instance>>;
  /**
   * Creates an instance and returns it (Novita: read back after create). On fal v1 an
   * `Idempotency-Key` is always sent, so a retried create never makes two instances. With
   * `options.deadline` (proxy mode), the proxy keeps a deadline for it: see `CreateOptions`.
   */
  create<P extends Provider>(provider: P, input: CreateInputMap[P], options?: CreateOptions | null): Promise<Instance>;
  /**
   * Every matching instance of every configured provider (or `query.providers`), fetched page by
   * page as you iterate: `for await (const inst of fleet.instances()) { … }`. Stops with the first
   * error; use `listAll` to get each provider's failure beside the others' results.
   */
  instances(query?: InstancesQuery | null): AsyncIterableIterator<Instance>;
  /**
   * Polls an instance until it reaches `options.until`. Resolves to the instance; only a wait
   * for `"terminated"` can resolve to `null` (the instance is gone).
   */
  waitFor(provider: Provider, id: string, options: WaitForOptions): Promise<Instance | null>;
}

/** The providers that start, stop and restart instances (see `capabilities`). */
export type StartStopProvider = "novita";
/** The providers that terminate instances and give SSH details (see `capabilities`). */
export type TerminateProvider = "sfcompute";
"#;

// ----- the class -------------------------------------------------------------------------------

struct Inner {
    config: ClientConfig,
    fetch: Option<Function>,
    timeout_ms: u32,
}

/// One call's client and signal.
struct Call {
    client: Client<FetchTransport>,
    signal: Option<AbortSignalLike>,
}

impl Inner {
    fn call(
        &self,
        signal: Option<AbortSignalLike>,
        timeout_ms: Option<u32>,
        halt: Option<Rc<Cell<bool>>>,
    ) -> Result<Call, Error> {
        let timeout = check_timeout(timeout_ms, "options.timeoutMs")?.unwrap_or(self.timeout_ms);
        let transport = FetchTransport::new()
            .with_fetch(self.fetch.clone())
            .with_signal(signal.clone())
            .with_timeout_ms(Some(timeout))
            .with_halt(halt);
        Ok(Call { client: Client::new(transport, self.config.clone()), signal })
    }

    /// A call with plain [`CallOptions`].
    fn plain_call(&self, options: &JsValue) -> Result<Call, Error> {
        let parsed: CallOptions = from_js(options, "options")?;
        self.call(signal_of(options, "options")?, parsed.timeout_ms, None)
    }
}

fn check_timeout(ms: Option<u32>, field: &str) -> Result<Option<u32>, Error> {
    match ms {
        Some(0) => Err(Error::invalid_input(field, "must be between 1 and 2147483647")),
        Some(ms) if ms > i32::MAX as u32 => Err(Error::invalid_input(field, "must be between 1 and 2147483647")),
        other => Ok(other),
    }
}

/// Runs `body` with the call described by `options`, as a `Promise`.
fn run<F, Fut>(inner: &Rc<Inner>, options: JsValue, body: F) -> Promise
where
    F: FnOnce(Call) -> Fut + 'static,
    Fut: Future<Output = Result<JsValue, Error>> + 'static,
{
    let inner = inner.clone();
    future_to_promise(async move {
        let call = inner.plain_call(&options).map_err(|e| to_js_error(&e))?;
        let signal = call.signal.clone();
        body(call).await.map_err(|e| to_js_error_for_call(&e, signal.as_ref()))
    })
}

/// One typed client over every configured provider (or a gpufleet proxy).
///
/// ```js
/// const fleet = new Fleet({ novita: { apiKey }, sfcompute: { token, workspace } });
/// const { instances, errors } = await fleet.listAll();
/// ```
#[wasm_bindgen]
pub struct Fleet {
    inner: Rc<Inner>,
}

#[wasm_bindgen(inline_js = r#"
function gpufleetError(code, message, provider) {
  const e = new Error(message);
  e.name = "GpufleetError";
  e.code = code;
  if (provider) e.provider = provider;
  e.retryable = false;
  return e;
}
function matches(inst, status, q) {
  if (status && !status.includes(inst.status)) return false;
  if (!q) return true;
  return [inst.id, inst.name, inst.ip, inst.instanceType].some((s) => typeof s === "string" && s.toLowerCase().includes(q));
}
export function instancesIterator(fleet, query) {
  const { providers, status, pageSize, signal, timeoutMs } = query;
  const q = typeof query.q === "string" ? query.q.trim().toLowerCase() : "";
  const options = { signal, timeoutMs };
  async function* walk() {
    try {
      const list = providers ?? (await fleet.providers(options)).map((c) => c.provider);
      for (const provider of list) {
        const seenCursors = new Set();
        const seenIds = new Set();
        let cursor;
        for (;;) {
          const page = await fleet.listPage(provider, { ...(pageSize !== undefined && provider !== "fal-alpha" ? { limit: pageSize } : {}), ...(cursor !== undefined ? { cursor } : {}) }, options);
          for (const inst of page.items) {
            if (seenIds.has(inst.id)) continue;
            seenIds.add(inst.id);
            if (matches(inst, status, q)) yield inst;
          }
          if (!page.hasMore || page.nextCursor == null) break;
          if (seenCursors.has(page.nextCursor)) {
            throw gpufleetError("server", `${provider} returned cursor ${JSON.stringify(page.nextCursor)} twice; stopped listing to avoid a loop`, provider);
          }
          seenCursors.add(page.nextCursor);
          cursor = page.nextCursor;
        }
      }
    } finally {
      fleet.free();
    }
  }
  return walk();
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = instancesIterator)]
    fn instances_iterator(fleet: Fleet, query: JsValue) -> JsValue;
}

impl Fleet {
    fn build(config_js: &JsValue) -> Result<Fleet, Error> {
        if !config_js.is_object() {
            return Err(Error::invalid_input("config", "must be an object"));
        }
        let config: FleetConfig = from_js(config_js, "")?;
        let fetch = function_of(config_js, "fetch", "fetch")?;
        let mut client = ClientConfig::new();
        let provider_config = |p: Provider, key: &str, key_field: &str, base: &Option<String>| -> Result<ProviderConfig, Error> {
            if key.trim().is_empty() {
                return Err(Error::invalid_input(key_field, "must not be empty"));
            }
            let mut pc = ProviderConfig::new(p, key.trim());
            if let Some(base) = base {
                pc = pc.with_base_url(base.trim());
            }
            pc.validate(p)?;
            Ok(pc)
        };
        if let Some(c) = &config.fal {
            client.providers.insert(Provider::Fal, provider_config(Provider::Fal, &c.api_key, "fal.apiKey", &c.base_url)?);
        }
        if let Some(c) = &config.fal_alpha {
            let pc = provider_config(Provider::FalAlpha, &c.api_key, "falAlpha.apiKey", &c.base_url)?;
            client.providers.insert(Provider::FalAlpha, pc);
        }
        if let Some(c) = &config.sfcompute {
            let pc = provider_config(Provider::Sfcompute, &c.token, "sfcompute.token", &c.base_url)?;
            if c.workspace.trim().is_empty() {
                return Err(Error::invalid_input("sfcompute.workspace", "must not be empty"));
            }
            client.providers.insert(Provider::Sfcompute, pc.with_workspace(c.workspace.trim()));
        }
        if let Some(c) = &config.novita {
            client
                .providers
                .insert(Provider::Novita, provider_config(Provider::Novita, &c.api_key, "novita.apiKey", &c.base_url)?);
        }
        if let Some(proxy) = &config.proxy {
            if !client.providers.is_empty() {
                return Err(Error::invalid_input(
                    "proxy",
                    "cannot be combined with provider keys: in proxy mode the proxy holds them",
                ));
            }
            let proxy = ProxyConfig { base_url: resolve_url(proxy.url.trim()), token: proxy.token.clone() };
            proxy.validate()?;
            client.proxy = Some(proxy);
        } else if client.providers.is_empty() {
            return Err(Error::invalid_input(
                "config",
                "configure at least one provider (fal, falAlpha, sfcompute, novita) or proxy",
            ));
        }
        if !client.providers.is_empty() && in_browser_page() && config.dangerously_allow_browser != Some(true) {
            return Err(Error::invalid_input(
                "dangerouslyAllowBrowser",
                "provider keys in a browser page can be read by anyone who opens it; use proxy: { url, token } \
                 (the gpufleet edge proxy keeps the keys), or set dangerouslyAllowBrowser: true if you accept that",
            ));
        }
        if let Some(r) = &config.retries {
            if r.max > 10 {
                return Err(Error::invalid_input("retries.max", "must be between 0 and 10"));
            }
            let defaults = RetryPolicy::default();
            let base = r.base_delay_ms.unwrap_or(defaults.base_delay_ms);
            let max = r.max_delay_ms.unwrap_or(defaults.max_delay_ms.max(base));
            if base == 0 || base > 60_000 {
                return Err(Error::invalid_input("retries.baseDelayMs", "must be between 1 and 60000"));
            }
            if max < base || max > 60_000 {
                return Err(Error::invalid_input("retries.maxDelayMs", "must be between baseDelayMs and 60000"));
            }
            client.retry = RetryPolicy { max_retries: r.max, base_delay_ms: base, max_delay_ms: max };
        }
        if let Some(prices) = &config.prices {
            if client.proxy.is_some() {
                return Err(Error::invalid_input("prices", "cannot be combined with proxy: set the proxy's GPUFLEET_PRICES"));
            }
            client.prices = crate::money::PriceTable::from_json(prices, "prices")?;
        }
        if let Some(n) = config.page_concurrency {
            if !(1..=64).contains(&n) {
                return Err(Error::invalid_input("pageConcurrency", "must be between 1 and 64"));
            }
            client.page_concurrency = Some(n);
        }
        let timeout_ms = check_timeout(config.timeout_ms, "timeoutMs")?.unwrap_or(DEFAULT_TIMEOUT_MS);
        Ok(Fleet { inner: Rc::new(Inner { config: client, fetch, timeout_ms }) })
    }

    fn action(&self, op: Operation, provider: JsValue, id: JsValue, options: JsValue) -> Promise {
        run(&self.inner, options, move |call| async move {
            let (provider, id) = (provider_of(&provider)?, id_of(&id)?);
            to_js(&call.client.action(provider, op, &id).await?)
        })
    }
}

#[wasm_bindgen]
impl Fleet {
    /// Creates a fleet client. Throws a `GpufleetError` (`invalidInput`, with `field`) when the
    /// config breaks a rule, and refuses provider keys in a browser page unless
    /// `dangerouslyAllowBrowser` is set (use `proxy` there).
    #[wasm_bindgen(constructor)]
    pub fn new(config: Ts<FleetConfig>) -> Result<Fleet, JsValue> {
        Fleet::build(&config.js_value()).map_err(|e| to_js_error(&e))
    }

    /// One page of `provider`'s instances (declared per provider in the `.d.ts`).
    #[wasm_bindgen(js_name = listPage, skip_typescript)]
    pub fn list_page(&self, provider: JsValue, query: JsValue, options: JsValue) -> Promise {
        run(&self.inner, options, move |call| async move {
            let provider = provider_of(&provider)?;
            let query = ListQuery::from_json(provider, super::convert::to_json(&query, "query")?)?;
            page_to_js(call.client.list_page(&query).await?)
        })
    }

    /// Every instance of every configured provider (or those in `query.providers`), listed
    /// concurrently, all pages. A provider that fails is reported in `errors`; the rest still answer.
    #[wasm_bindgen(js_name = listAll, unchecked_return_type = "Promise<FleetListing>")]
    pub fn list_all(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "FleetQuery | null")] query: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let query: FleetQuery = from_js(&query, "query")?;
            let mut listing = call.client.list_all(&query).await?;
            let instances = std::mem::take(&mut listing.instances);
            super::convert::instances_to_js(&listing, "instances", instances)
        })
    }

    /// One instance (`notFound` when there is none).
    #[wasm_bindgen(unchecked_return_type = "Promise<Instance>")]
    pub fn get(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Provider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let (provider, id) = (provider_of(&provider)?, id_of(&id)?);
            to_js(&call.client.get(provider, &id).await?)
        })
    }

    /// Creates an instance (declared per provider in the `.d.ts`), with a deadline when
    /// `options.deadline` gives one.
    #[wasm_bindgen(skip_typescript)]
    pub fn create(&self, provider: JsValue, input: JsValue, options: JsValue) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let parsed: CreateOptions = from_js(&options, "options").map_err(|e| to_js_error(&e))?;
            let signal = signal_of(&options, "options").map_err(|e| to_js_error(&e))?;
            let call = inner.call(signal.clone(), parsed.timeout_ms, None).map_err(|e| to_js_error(&e))?;
            let created = async {
                let provider = provider_of(&provider)?;
                let input = CreateInput::from_json_listing_problems(provider, super::convert::to_json(&input, "input")?)?;
                match &parsed.deadline {
                    Some(deadline) => call.client.create_with_deadline(&input, deadline).await,
                    None => call.client.create(&input).await,
                }
            };
            match created.await {
                Ok(instance) => to_js(&instance).map_err(|e| to_js_error(&e)),
                Err(e) => Err(to_js_error_for_call(&e, signal.as_ref())),
            }
        })
    }

    /// Deletes an instance. A 404 counts as success: `{ alreadyGone: true }`.
    #[wasm_bindgen(js_name = delete, unchecked_return_type = "Promise<DeleteOutcome>")]
    pub fn delete_instance(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Provider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let (provider, id) = (provider_of(&provider)?, id_of(&id)?);
            to_js(&call.client.delete(provider, &id).await?)
        })
    }

    /// Starts a stopped instance (Novita; typed so that other providers do not type-check, and
    /// `unsupported` at run time for them). Resolves to the instance when the provider returns
    /// it, else `null`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Instance | null>")]
    pub fn start(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StartStopProvider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        self.action(Operation::Start, provider, id, options)
    }

    /// Stops a running instance (Novita). Resolves to the instance or `null`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Instance | null>")]
    pub fn stop(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StartStopProvider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        self.action(Operation::Stop, provider, id, options)
    }

    /// Restarts a running instance (Novita). Resolves to the instance or `null`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Instance | null>")]
    pub fn restart(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StartStopProvider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        self.action(Operation::Restart, provider, id, options)
    }

    /// Ends an instance for good (SF Compute); it can be deleted afterwards. Resolves to the
    /// instance when the provider returns it, else `null`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Instance | null>")]
    pub fn terminate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TerminateProvider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        self.action(Operation::Terminate, provider, id, options)
    }

    /// SSH connection details, host keys included (SF Compute).
    #[wasm_bindgen(unchecked_return_type = "Promise<SshDetails>")]
    pub fn ssh(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TerminateProvider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let (provider, id) = (provider_of(&provider)?, id_of(&id)?);
            to_js(&call.client.ssh(provider, &id).await?)
        })
    }

    /// Polls an instance until it reaches `options.until`. Resolves to the instance, or `null`
    /// when waiting for `"terminated"` and the instance is gone. Rejects with `conflict` when it
    /// reaches another final status, `timeout` after `maxWaitMs`, `aborted` at once on abort.
    // The declaration here is the overload for every status but "terminated" (which resolves to
    // an instance); the `.d.ts` adds the general one, which may resolve to `null`.
    #[wasm_bindgen(js_name = waitFor, unchecked_return_type = "Promise<Instance>")]
    pub fn wait_for(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Provider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "WaitForOptions & { until: Exclude<Status, \"terminated\"> }")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let mut signal = None;
            let thrown: Rc<RefCell<Option<JsValue>>> = Rc::new(RefCell::new(None));
            let result = async {
                if !options.is_object() {
                    return Err(Error::invalid_input("options", "must be an object with `until`"));
                }
                let parsed: WaitForOptions = from_js(&options, "options")?;
                signal = signal_of(&options, "options")?;
                let on_poll = function_of(&options, "onPoll", "options.onPoll")?;
                let (provider, id) = (provider_of(&provider)?, id_of(&id)?);
                let mut wait = WaitOptions::until(parsed.until);
                if let Some(ms) = parsed.max_wait_ms {
                    wait.max_wait_ms = ms;
                }
                if let Some(ms) = parsed.min_delay_ms {
                    wait.min_delay_ms = ms;
                    wait.max_delay_ms = wait.max_delay_ms.max(ms);
                }
                if let Some(ms) = parsed.max_delay_ms {
                    wait.max_delay_ms = ms;
                }
                let halt = Rc::new(Cell::new(false));
                let call = inner.call(signal.clone(), parsed.timeout_ms, Some(halt.clone()))?;
                let instance = call
                    .client
                    .wait_for(provider, &id, &wait, |instance| {
                        let Some(f) = &on_poll else { return };
                        if halt.get() {
                            return;
                        }
                        let Ok(value) = to_js(instance) else { return };
                        if let Err(e) = f.call1(&JsValue::UNDEFINED, &value) {
                            *thrown.borrow_mut() = Some(e);
                            halt.set(true);
                        }
                    })
                    .await?;
                to_js(&instance)
            }
            .await;
            result.map_err(|e| match thrown.borrow_mut().take() {
                Some(value) => value,
                None => to_js_error_for_call(&e, signal.as_ref()),
            })
        })
    }

    /// What `provider` can do: operations, filters, pagination, create-form fields.
    #[wasm_bindgen(unchecked_return_type = "Capabilities")]
    pub fn capabilities(&self, #[wasm_bindgen(unchecked_param_type = "Provider")] provider: JsValue) -> Result<JsValue, JsValue> {
        provider_of(&provider).and_then(|p| to_js(&p.capabilities())).map_err(|e| to_js_error(&e))
    }

    /// The lifecycle actions `instance` can be asked for now (`start`, `stop`, `restart`,
    /// `terminate`, `delete`, in that order): what its provider supports, narrowed by its
    /// `status` and `providerStatus` (e.g. an `exited` Novita instance: `start` and `delete`).
    #[wasm_bindgen(js_name = actionsFor, unchecked_return_type = "Operation[]")]
    pub fn actions_for(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Pick<Instance, \"provider\" | \"status\" | \"providerStatus\">")]
        instance: JsValue,
    ) -> Result<JsValue, JsValue> {
        let read = || -> Result<Vec<Operation>, Error> {
            if !instance.is_object() {
                return Err(Error::invalid_input("instance", "must be an Instance"));
            }
            let provider = provider_of(&get(&instance, "provider"))
                .map_err(|_| Error::invalid_input("instance.provider", "must be one of fal, fal-alpha, sfcompute, novita"))?;
            let status = get(&instance, "status")
                .as_string()
                .and_then(|s| Status::parse(&s))
                .ok_or_else(|| Error::invalid_input("instance.status", "must be a Status"))?;
            let provider_status = get(&instance, "providerStatus").as_string().unwrap_or_default();
            Ok(provider.actions_for(status, &provider_status))
        };
        read().and_then(|ops| to_js(&ops)).map_err(|e| to_js_error(&e))
    }

    /// The providers this fleet can reach, with their capabilities: the configured ones, or in
    /// proxy mode the ones the proxy holds keys for (asked from the proxy).
    #[wasm_bindgen(unchecked_return_type = "Promise<Capabilities[]>")]
    pub fn providers(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue) -> Promise {
        run(&self.inner, options, move |call| async move { to_js(&call.client.available_providers().await?) })
    }

    /// What this fleet may do: `"readOnly"` when it talks to a proxy with its read-only token
    /// (list and get only), else `"readWrite"`. A console uses it to offer only what will work.
    #[wasm_bindgen(unchecked_return_type = "Promise<Access>")]
    pub fn access(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue) -> Promise {
        run(&self.inner, options, move |call| async move { to_js(&call.client.access().await?) })
    }

    /// What can be created, where, at what price (every configured provider, or `provider`):
    /// Novita products (on-demand and spot apart, per GPU-hour), SF Compute SKUs with their
    /// order-book quote (an estimate), fal instance types with your configured prices. Read
    /// at most once a minute per source. A provider that fails is in `errors`.
    #[wasm_bindgen(unchecked_return_type = "Promise<OfferListing>")]
    pub fn offers(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Provider | null")] provider: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let provider = if provider.is_undefined() || provider.is_null() { None } else { Some(provider_of(&provider)?) };
            to_js(&call.client.offers(provider).await?)
        })
    }

    /// The account balance of each configured provider that has one (fal credits, Novita,
    /// SF Compute), converted exactly to US dollars. A provider that fails is in `errors`.
    #[wasm_bindgen(unchecked_return_type = "Promise<BalanceListing>")]
    pub fn balances(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue) -> Promise {
        run(&self.inner, options, move |call| async move { to_js(&call.client.balances().await?) })
    }

    /// Sets (or replaces) an instance's deadline, kept and fired by the proxy (proxy mode only):
    /// `{ at }` (a `Date`, ms since the epoch or an ISO 8601 time) or `{ after }` (ms from now),
    /// and `action` (default the provider's end: Novita `stop`, SF Compute `terminate`, fal
    /// `delete`; checked against what the provider can do). Resolves to the deadline as stored
    /// and the one it replaced.
    #[wasm_bindgen(js_name = setDeadline, unchecked_return_type = "Promise<DeadlineAnswer>")]
    pub fn set_deadline(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Provider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ at?: Date | number | string; after?: number; action?: DeadlineAction }")]
        deadline: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let provider = provider_of(&provider)?;
            let id = id_of(&id)?;
            let request: crate::records_api::DeadlineRequest = from_js(&deadline, "deadline")?;
            to_js(&call.client.set_deadline(provider, &id, &request).await?)
        })
    }

    /// Removes an instance's deadline (proxy mode only); `cleared` is the one removed.
    #[wasm_bindgen(js_name = clearDeadline, unchecked_return_type = "Promise<ClearedDeadline>")]
    pub fn clear_deadline(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Provider")] provider: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let provider = provider_of(&provider)?;
            let id = id_of(&id)?;
            to_js(&call.client.clear_deadline(provider, &id).await?)
        })
    }

    /// Every deadline the proxy keeps: pending first, then by time; fired and failed ones keep
    /// their outcome (`state`, `firedAtMs`, `lastError`). Proxy mode only.
    #[wasm_bindgen(unchecked_return_type = "Promise<DeadlineList>")]
    pub fn deadlines(&self, #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue) -> Promise {
        run(&self.inner, options, move |call| async move { to_js(&call.client.deadlines().await?) })
    }

    /// A page of the proxy's audit log, newest first: every create, start, stop, restart,
    /// terminate and delete through the proxy and every deadline change and firing, with who,
    /// when, the request id and the outcome. Filters by provider, instance, caller, action;
    /// `before` is the previous page's `nextCursor`. Proxy mode only.
    #[wasm_bindgen(unchecked_return_type = "Promise<AuditPage>")]
    pub fn audit(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "AuditQuery | null")] query: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let query: crate::records_api::AuditQuery = from_js(&query, "query")?;
            to_js(&call.client.audit(&query).await?)
        })
    }

    /// The forgotten GPUs: live instances older than `olderThanMs` (default a day) with no
    /// pending deadline and no recorded create (nobody owns them). Proxy mode only.
    #[wasm_bindgen(unchecked_return_type = "Promise<OrphanReport>")]
    pub fn orphans(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ olderThanMs?: number } | null")] query: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions | null")] options: JsValue,
    ) -> Promise {
        run(&self.inner, options, move |call| async move {
            let query: OrphanQuery = from_js(&query, "query")?;
            to_js(&call.client.orphans(query.older_than_ms).await?)
        })
    }

    /// Whether this fleet talks to a gpufleet proxy rather than to the providers.
    #[wasm_bindgen(getter, js_name = proxyMode)]
    pub fn proxy_mode(&self) -> bool {
        self.inner.config.proxy.is_some()
    }

    /// Every matching instance, fetched page by page as you iterate (declared in the `.d.ts`).
    #[wasm_bindgen(skip_typescript)]
    pub fn instances(&self, query: JsValue) -> Result<JsValue, JsValue> {
        let parsed: InstancesQuery = from_js(&query, "query").map_err(|e| to_js_error(&e))?;
        signal_of(&query, "query").map_err(|e| to_js_error(&e))?;
        check_timeout(parsed.timeout_ms, "query.timeoutMs").map_err(|e| to_js_error(&e))?;
        if let Some(p) = &parsed.providers {
            for provider in p {
                if !self.inner.config.providers.contains_key(provider) && self.inner.config.proxy.is_none() {
                    return Err(to_js_error(
                        &Error::invalid_input("query.providers", format!("{} is not configured", provider.as_str()))
                            .with_provider(*provider),
                    ));
                }
            }
        }
        let normalized = to_js(&parsed).map_err(|e| to_js_error(&e))?;
        let _ = Reflect::set(&normalized, &JsValue::from_str("signal"), &get(&query, "signal"));
        Ok(instances_iterator(Fleet { inner: self.inner.clone() }, normalized))
    }
}

// ----- decoding bodies you already have -------------------------------------------------------

#[wasm_bindgen(typescript_custom_section)]
const DECODE_TS: &'static str = r#"
/**
 * Decodes a list body that `provider` answered with a 2xx status — one you fetched, cached or
 * logged yourself — into the same `Page<Instance>` that `listPage` returns: every record
 * normalized (status mapping, GPUs, IP, SSH, dates), the provider's record kept in `raw`.
 * `query` is the query that was sent; Novita needs its `limit` and `cursor` to tell whether
 * more pages follow (default: page 1 of 50). No request is made.
 *
 * ```js
 * const page = decodeInstances("novita", await res.text(), { limit: 100, cursor: "3" });
 * ```
 * Throws a `GpufleetError`: `decode` (with the JSON path in `field`) when the body does not read
 * as documented, `invalidInput` for a bad provider, body or query, or the provider's error when
 * a 2xx body wraps one (Novita).
 */
export function decodeInstances<P extends Provider>(provider: P, body: string | Uint8Array | ArrayBuffer, query?: ListQueryMap[P] | null): Page<Instance>;
/**
 * Decodes one instance record as `provider`'s get call answers it (2xx body) into an `Instance`.
 * Throws like `decodeInstances`.
 */
export function decodeInstance(provider: Provider, body: string | Uint8Array | ArrayBuffer): Instance;
"#;

/// The bytes of a body given as a string, `Uint8Array` or `ArrayBuffer`.
fn body_bytes(body: &JsValue) -> Result<Vec<u8>, Error> {
    body_utf8(body).map(|bytes| bytes.to_vec())
}

/// The bytes of a body given as a string, `Uint8Array` or `ArrayBuffer`, as a JS `Uint8Array`
/// of its own (a copy of the caller's bytes, which the caller may change afterwards).
fn body_utf8(body: &JsValue) -> Result<js_sys::Uint8Array, Error> {
    if let Some(bytes) = super::convert::string_utf8(body) {
        return Ok(bytes);
    }
    if let Some(bytes) = body.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(bytes.slice(0, bytes.length()));
    }
    if let Some(buffer) = body.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(js_sys::Uint8Array::new(&buffer.slice(0)));
    }
    Err(Error::invalid_input("body", "must be a string, Uint8Array or ArrayBuffer (the response body)"))
}

/// `decodeInstances(provider, body, query?)`: a list body → the page `listPage` returns.
#[wasm_bindgen(js_name = decodeInstances, skip_typescript)]
pub fn decode_instances(provider: JsValue, body: JsValue, query: JsValue) -> Result<JsValue, JsValue> {
    let page = provider_of(&provider).and_then(|provider| {
        let query = ListQuery::from_json(provider, super::convert::to_json(&query, "query")?)?;
        // The body stays on the JS side too: each `raw` is read from there (no copy of the
        // records out of wasm memory).
        let utf8 = body_utf8(&body)?;
        let mut page = crate::provider::decode_list_body(&query, utf8.to_vec())?;
        let items = std::mem::take(&mut page.items);
        super::convert::instances_in_body_to_js(&page, "items", items, &utf8)
    });
    page.map_err(|e| to_js_error(&e))
}

/// [`to_js`] for a page of instances (the same text, each `raw` written the fast way).
fn page_to_js(mut page: Page<Instance>) -> Result<JsValue, Error> {
    let items = std::mem::take(&mut page.items);
    super::convert::instances_to_js(&page, "items", items)
}

/// `decodeInstance(provider, body)`: a get body → the instance.
#[wasm_bindgen(js_name = decodeInstance, skip_typescript)]
pub fn decode_instance(provider: JsValue, body: JsValue) -> Result<JsValue, JsValue> {
    let instance =
        provider_of(&provider).and_then(|provider| crate::provider::decode_instance_body(provider, body_bytes(&body)?));
    instance.and_then(|i| to_js(&i)).map_err(|e| to_js_error(&e))
}

/// `url` resolved against `location.href` when it is relative and there is a location (a page).
fn resolve_url(url: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        return url.to_owned();
    }
    let global = js_sys::global();
    let href = get(&get(&global, "location"), "href");
    let ctor = get(&global, "URL");
    if let (Some(base), Ok(ctor)) = (href.as_string(), ctor.dyn_into::<Function>()) {
        let args = js_sys::Array::of2(&JsValue::from_str(url), &JsValue::from_str(&base));
        if let Ok(resolved) = Reflect::construct(&ctor, &args) {
            if let Some(s) = get(&resolved, "href").as_string() {
                return s;
            }
        }
    }
    url.to_owned()
}

/// `typeof window !== "undefined" && typeof document !== "undefined"`.
fn in_browser_page() -> bool {
    let global = js_sys::global();
    !get(&global, "window").is_undefined() && !get(&global, "document").is_undefined()
}
