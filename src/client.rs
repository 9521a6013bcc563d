//! [`Client`]: the provider modules plus a [`Transport`], with retries, pagination guards,
//! fan-out over providers and waiters. Generic over the transport; no wasm and no async runtime of its own.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};

use crate::error::{Error, ErrorCode, ErrorDetail, Result, TransportError};
use crate::http::{HttpRequest, HttpResponse, Transport};
use crate::model::Capabilities;
use crate::model::{
    Access, Balance, BalanceListing, BillingMode, Cost, CostKind, CreateInput, DeleteOutcome, FleetCost, FleetListing,
    FleetQuery, Instance, ListQuery, Money, Offer, OfferListing, OfferUnit, Operation, Page, Price, PriceSource, ProviderFailure,
    SshDetails, Status,
};
use crate::money::PriceTable;
use crate::pricing;
use crate::provider::novita::{Numbering, PagePosition, Product as NovitaProduct};
use crate::provider::{self, provider_config_field, retry_after_ms, Created, Provider, ProviderConfig};
use crate::proxy::api::{ActionResponse, ProvidersResponse, ProxyConfig, Route};
use crate::records_api::{AuditQuery, ClearedDeadline, DeadlineAnswer, DeadlineList, DeadlineRequest, OrphanReport};
use crate::store::AuditPage;

/// The most 31-day windows of Novita bills read for one instance (about a year); an older
/// instance's billed cost counts from then (`cost.since` says so).
pub const MAX_BILL_WINDOWS: usize = 12;

/// How failed requests are retried.
///
/// 429 is retried for every request (the provider did not act on it). 5xx answers, timeouts,
/// network failures and unreadable 2xx bodies are retried only where repeating is harmless:
/// list, get, ssh, delete, and a create carrying an idempotency key (fal v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: u32,
    /// First backoff delay; doubles each retry.
    pub base_delay_ms: u64,
    /// Longest backoff delay (a `Retry-After` may ask for more, up to 60 s).
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { max_retries: 3, base_delay_ms: 300, max_delay_ms: 10_000 }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0-based): exponential backoff with "equal jitter"
    /// (half fixed, half random), so clients that failed together do not retry together.
    /// `random` is uniform in `[0, 1)`.
    pub fn backoff_ms(&self, retry: u32, random: f64) -> u64 {
        let exp = self.base_delay_ms.saturating_mul(1u64 << retry.min(20));
        let capped = exp.min(self.max_delay_ms);
        let half = capped / 2;
        half + ((capped - half) as f64 * random.clamp(0.0, 1.0)) as u64
    }
}

/// Pages fetched at once by [`Client::list_all_pages`] once a numbered listing's `total` is known.
pub const DEFAULT_PAGE_CONCURRENCY: u32 = 8;

/// Everything a [`Client`] needs to know: which providers, with which keys, and how to retry.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// The configured providers. A call to a provider not in here fails with `invalidInput`.
    pub providers: BTreeMap<Provider, ProviderConfig>,
    /// Retry behaviour.
    pub retry: RetryPolicy,
    /// Largest number of pages one listing may walk before giving up (a last-resort loop guard).
    pub max_pages: Option<u32>,
    /// How many pages [`Client::list_all_pages`] fetches at once where the provider numbers its
    /// pages and reports a `total` (Novita): 1–64, default [`DEFAULT_PAGE_CONCURRENCY`];
    /// 1 walks one page after another.
    pub page_concurrency: Option<u32>,
    /// Proxy mode: every call goes to a gpufleet edge proxy (which holds the provider keys)
    /// instead of the providers; `providers` is then unused.
    pub proxy: Option<ProxyConfig>,
    /// How the Novita server numbers its pages, once learned; shared by every clone of this
    /// config (a JS `Fleet` learns it once, see [`Client::list_page`]).
    pub novita_numbering: LearnedNumbering,
    /// Hourly prices you set, by provider and instance type (fal has no price API); they win
    /// over the providers' own (see [`crate::pricing`]).
    pub prices: PriceTable,
    /// Price sources read recently (Novita's catalog, SF Compute quotes), kept
    /// [`PRICE_CACHE_MS`]; shared by every clone of this config.
    pub price_cache: PriceCache,
}

/// How long a price source's answer is reused: one minute.
pub const PRICE_CACHE_MS: u64 = 60_000;

/// Recently read price sources (see [`ClientConfig::price_cache`]); clones share it.
#[derive(Debug, Clone, Default)]
pub struct PriceCache(Arc<Mutex<PriceCacheEntries>>);

#[derive(Debug, Default)]
struct PriceCacheEntries {
    novita: Option<(u64, Arc<Vec<NovitaProduct>>)>,
    sfc_quotes: BTreeMap<String, (u64, Option<i64>)>,
}

impl PriceCache {
    fn with<R>(&self, f: impl FnOnce(&mut PriceCacheEntries) -> R) -> R {
        // A poisoned lock only means a panic elsewhere mid-update: the entries are still whole.
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut entries)
    }
}

/// What a [`Client`] has learned about how the Novita server numbers its pages
/// ([`Numbering`]); clones share it. Empty until a listing of more than one page teaches it.
#[derive(Debug, Clone, Default)]
pub struct LearnedNumbering(Arc<AtomicU8>);

impl LearnedNumbering {
    /// What was learned, if anything.
    pub fn get(&self) -> Option<Numbering> {
        match self.0.load(Ordering::Relaxed) {
            1 => Some(Numbering::FromZero),
            2 => Some(Numbering::FromOne),
            3 => Some(Numbering::FromOneRefusingZero),
            _ => None,
        }
    }

    fn set(&self, numbering: Numbering) {
        let v = match numbering {
            Numbering::FromZero => 1,
            Numbering::FromOne => 2,
            Numbering::FromOneRefusingZero => 3,
        };
        self.0.store(v, Ordering::Relaxed);
    }
}

impl ClientConfig {
    /// An empty config.
    pub fn new() -> ClientConfig {
        ClientConfig::default()
    }

    /// Adds (or replaces) a provider.
    pub fn with_provider(mut self, provider: Provider, config: ProviderConfig) -> ClientConfig {
        self.providers.insert(provider, config);
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> ClientConfig {
        self.retry = retry;
        self
    }

    /// Sets how many pages of a numbered listing (Novita) are fetched at once (1 = sequential).
    pub fn with_page_concurrency(mut self, pages: u32) -> ClientConfig {
        self.page_concurrency = Some(pages);
        self
    }

    /// Sets the hourly prices you pay by provider and instance type (see [`PriceTable`]); they
    /// come before any provider's catalog or quote.
    pub fn with_prices(mut self, prices: PriceTable) -> ClientConfig {
        self.prices = prices;
        self
    }

    /// Sends every call through a gpufleet proxy.
    pub fn with_proxy(mut self, proxy: ProxyConfig) -> ClientConfig {
        self.proxy = Some(proxy);
        self
    }

    /// Checks every provider's config (or the proxy's).
    pub fn validate(&self) -> Result<()> {
        if let Some(n) = self.page_concurrency {
            if !(1..=64).contains(&n) {
                return Err(Error::invalid_input("pageConcurrency", "must be between 1 and 64"));
            }
        }
        if let Some(proxy) = &self.proxy {
            return proxy.validate();
        }
        for (p, c) in &self.providers {
            c.validate(*p)?;
        }
        Ok(())
    }
}

/// How [`Client::wait_for`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// The status to wait for.
    pub until: Status,
    /// Give up after this long (a `timeout` error listing the statuses seen).
    pub max_wait_ms: u64,
    /// First delay between polls.
    pub min_delay_ms: u64,
    /// Longest delay between polls (delays grow ×1.5 from `min_delay_ms`).
    pub max_delay_ms: u64,
}

impl WaitOptions {
    /// Wait for `until` with the defaults: up to 20 minutes, polling every 2 s growing to 15 s.
    pub fn until(until: Status) -> WaitOptions {
        WaitOptions { until, max_wait_ms: 20 * 60_000, min_delay_ms: 2_000, max_delay_ms: 15_000 }
    }

    /// Checks the numbers.
    pub fn validate(&self) -> Result<()> {
        if self.min_delay_ms == 0 {
            return Err(Error::invalid_input("minDelayMs", "must be at least 1"));
        }
        if self.max_delay_ms < self.min_delay_ms {
            return Err(Error::invalid_input("maxDelayMs", "must be at least minDelayMs"));
        }
        if self.until == Status::Unknown {
            return Err(Error::invalid_input("until", "cannot wait for \"unknown\""));
        }
        Ok(())
    }
}

/// The client: typed calls over every configured provider.
#[derive(Debug)]
pub struct Client<T> {
    transport: T,
    config: ClientConfig,
}

/// Where a call goes.
enum Target<'a> {
    Direct(&'a ProviderConfig),
    Proxy(&'a ProxyConfig),
}

/// A client built without the `proxy-client` feature (the Worker's own wasm, which only ever calls
/// the providers) was given a proxy to call: say so instead of carrying every answer's reader.
#[cfg(not(feature = "proxy-client"))]
fn no_proxy_client() -> Error {
    Error::invalid_input("proxy", "this build of gpufleet cannot call a gpufleet proxy (built without the proxy-client feature)")
}

/// Which operations may be repeated after an ambiguous failure.
fn retry_safe(op: Operation, idempotent_create: bool) -> bool {
    match op {
        Operation::List | Operation::Get | Operation::Ssh | Operation::Delete => true,
        Operation::Create => idempotent_create,
        Operation::Start | Operation::Stop | Operation::Restart | Operation::Terminate => false,
    }
}

impl<T: Transport> Client<T> {
    /// A client over `transport` with `config`.
    pub fn new(transport: T, config: ClientConfig) -> Client<T> {
        Client { transport, config }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The config.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The configured providers, in a stable order.
    pub fn providers(&self) -> Vec<Provider> {
        self.config.providers.keys().copied().collect()
    }

    fn provider_config(&self, provider: Provider) -> Result<&ProviderConfig> {
        self.config.providers.get(&provider).ok_or_else(|| {
            Error::invalid_input(
                provider_config_field(provider),
                format!("{} is not configured: give its credentials in the client config", provider.display_name()),
            )
            .with_provider(provider)
        })
    }

    /// Checks that `provider` offers `op`; returns where to send it.
    fn check_supported(&self, provider: Provider, op: Operation) -> Result<Target<'_>> {
        if !provider.capabilities().supports(op) {
            return Err(Error::unsupported(provider, op.as_str()));
        }
        if let Some(proxy) = &self.config.proxy {
            return Ok(Target::Proxy(proxy));
        }
        self.provider_config(provider).map(Target::Direct)
    }

    /// Sends `route` to the proxy and reads the answer as `R`.
    async fn via_proxy<R: serde::de::DeserializeOwned>(
        &self,
        proxy: &ProxyConfig,
        provider: Option<Provider>,
        op: Operation,
        route: Route,
        body: Option<Vec<u8>>,
    ) -> Result<R> {
        #[cfg(feature = "proxy-client")]
        {
            let request = crate::proxy::api::build_request(proxy, &route, body)?;
            // Errors from the proxy already name their provider; a failure to reach the proxy does not.
            let tag = provider.unwrap_or(Provider::Fal);
            self.execute_with(tag, op, provider.is_some(), request, crate::proxy::api::parse_response::<R>).await
        }
        #[cfg(not(feature = "proxy-client"))]
        {
            let _ = (proxy, provider, op, route, body);
            Err(no_proxy_client())
        }
    }

    /// [`Self::via_proxy`] for the answers that hold many instances (a page, a listing): read
    /// straight into `R` with each `raw` kept as its text, no JSON tree (see
    /// [`crate::proxy::api::parse_list_response`]). Only these two types get that second reader: one per
    /// type is wasm bytes.
    async fn via_proxy_list<R: serde::de::DeserializeOwned>(
        &self,
        proxy: &ProxyConfig,
        provider: Option<Provider>,
        route: Route,
    ) -> Result<R> {
        #[cfg(feature = "proxy-client")]
        {
            let request = crate::proxy::api::build_request(proxy, &route, None)?;
            let tag = provider.unwrap_or(Provider::Fal);
            self.execute_with(tag, Operation::List, provider.is_some(), request, crate::proxy::api::parse_list_response::<R>)
                .await
        }
        #[cfg(not(feature = "proxy-client"))]
        {
            let _ = (proxy, provider, route);
            Err(no_proxy_client())
        }
    }

    /// The capabilities of every provider this client can reach: the configured ones, or in
    /// proxy mode the ones the proxy has keys for.
    pub async fn available_providers(&self) -> Result<Vec<Capabilities>> {
        if let Some(proxy) = &self.config.proxy {
            let r: ProvidersResponse = self.via_proxy(proxy, None, Operation::List, Route::Providers, None).await?;
            return Ok(r.providers);
        }
        Ok(self.providers().into_iter().map(Provider::capabilities).collect())
    }

    /// What this client may do: in proxy mode what the proxy grants its token (the read-only
    /// token may only list and get); otherwise [`Access::ReadWrite`] (the keys decide upstream).
    pub async fn access(&self) -> Result<Access> {
        if let Some(proxy) = &self.config.proxy {
            let r: ProvidersResponse = self.via_proxy(proxy, None, Operation::List, Route::Providers, None).await?;
            return Ok(r.access);
        }
        Ok(Access::ReadWrite)
    }

    /// A uniformly random number in `[0, 1)` from the transport's randomness.
    fn random_unit(&self) -> f64 {
        let mut b = [0u8; 8];
        self.transport.fill_random(&mut b);
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random UUID v4 (used as fal's `Idempotency-Key` when the caller gives none).
    pub fn new_idempotency_key(&self) -> String {
        let mut b = [0u8; 16];
        self.transport.fill_random(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }

    /// Sends `request`, retrying per the policy, and parses the answer with `parse`.
    async fn execute<R>(
        &self,
        provider: Provider,
        op: Operation,
        request: HttpRequest,
        parse: impl Fn(HttpResponse) -> Result<R>,
    ) -> Result<R> {
        self.execute_with(provider, op, true, request, parse).await
    }

    /// [`Self::execute`]; `tag_errors` says whether errors are attributed to `provider`.
    async fn execute_with<R>(
        &self,
        provider: Provider,
        op: Operation,
        tag_errors: bool,
        request: HttpRequest,
        parse: impl Fn(HttpResponse) -> Result<R>,
    ) -> Result<R> {
        // The retry loop is not generic over `R` (one copy of it and of the transport's futures
        // in the wasm, not one per operation): the parsed value comes back through `parsed`.
        let mut parsed = None;
        let mut parse_into = |response: HttpResponse| parse(response).map(|value| parsed = Some(value));
        self.execute_erased(provider, op, tag_errors, request, &mut parse_into).await?;
        parsed.ok_or_else(|| Error::new(ErrorCode::Server, "internal error: a parsed answer went missing"))
    }

    /// The retry loop of [`Self::execute_with`]; `parse` keeps what it parsed.
    async fn execute_erased(
        &self,
        provider: Provider,
        op: Operation,
        tag_errors: bool,
        request: HttpRequest,
        parse: &mut dyn FnMut(HttpResponse) -> Result<()>,
    ) -> Result<()> {
        let tag = if tag_errors { Some(provider) } else { None };
        let safe = retry_safe(op, provider.capabilities().idempotent_create);
        let policy = self.config.retry;
        let mut retry = 0u32;
        loop {
            // A 3xx is refused here, whatever the transport: never followed, never retried.
            let sent = self.transport.send(request.clone()).await.and_then(|r| crate::http::refuse_redirect(&request.url, r));
            let outcome = match sent {
                Ok(response) => {
                    let status = response.status;
                    let retry_after = retry_after_ms(&response, Some(self.transport.now_ms()));
                    parse(response).map_err(|mut e| {
                        if e.retry_after_ms.is_none() {
                            e.retry_after_ms = retry_after;
                        }
                        if e.status.is_none() && e.code == ErrorCode::Decode {
                            e.status = Some(status);
                        }
                        e
                    })
                }
                Err(TransportError::Aborted(reason)) => {
                    return Err(TransportError::Aborted(reason).into_error(tag));
                }
                Err(t @ TransportError::Redirect { .. }) => {
                    return Err(annotate_unsafe_failure(t.into_error(tag), provider, op, safe))
                }
                Err(t) => Err(t.into_error(tag)),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let worth_retrying = match error.code {
                ErrorCode::RateLimited => true,
                ErrorCode::Server | ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Decode => safe,
                _ => false,
            };
            if !worth_retrying || retry >= policy.max_retries {
                return Err(annotate_unsafe_failure(error, provider, op, safe));
            }
            let delay = match error.retry_after_ms {
                Some(ms) => ms.min(provider::RETRY_AFTER_CAP_MS),
                None => policy.backoff_ms(retry, self.random_unit()),
            };
            if let Err(t) = self.transport.sleep(Duration::from_millis(delay)).await {
                return Err(t.into_error(tag));
            }
            retry += 1;
        }
    }

    /// One page of `query`'s provider.
    ///
    /// A first Novita page (no cursor) is found whatever the server's numbering: `pageNum=0` is
    /// asked first (the first page of a server counting from 0, and page 1 of one counting from 1
    /// that accepts 0); when more pages follow, `pageNum=1` tells the two apart (the same ids:
    /// counting from 1; others: counting from 0), and a server refusing 0 is asked for 1. What
    /// was learned is kept in the config ([`ClientConfig::novita_numbering`]) and carried in the
    /// cursor with the page size the server really serves, so `nextCursor` is right in every
    /// case. Cost: one request more than the pages, once per config, on servers counting from 1
    /// (none on servers counting from 0 when walking; none for a listing of one page).
    ///
    /// Each instance gets its `price`, `priceNote` and `cost` (see [`crate::pricing`]).
    pub async fn list_page(&self, query: &ListQuery) -> Result<Page<Instance>> {
        let mut page = self.list_page_unpriced(query).await?;
        self.price(&mut page.items).await;
        Ok(page)
    }

    async fn list_page_unpriced(&self, query: &ListQuery) -> Result<Page<Instance>> {
        if self.finds_first_novita_page(query) {
            return Ok(self.first_novita_pages(query).await?.0);
        }
        self.fetch_page(query).await
    }

    /// Whether `query` is a first Novita page this client sends itself (not through a proxy,
    /// which finds it on its side).
    fn finds_first_novita_page(&self, query: &ListQuery) -> bool {
        matches!(query, ListQuery::Novita(q) if q.cursor.is_none()) && self.config.proxy.is_none()
    }

    /// Exactly one request for the page `query` names.
    async fn fetch_page(&self, query: &ListQuery) -> Result<Page<Instance>> {
        let provider = query.provider();
        let config = match self.check_supported(provider, Operation::List)? {
            Target::Direct(c) => c,
            Target::Proxy(proxy) => {
                return self.via_proxy_list(proxy, Some(provider), Route::List(query.clone())).await;
            }
        };
        let request = provider::build_list_request(query, config)?;
        self.execute(provider, Operation::List, request, |r| provider::parse_list_response(query, r)).await
    }

    /// The first page of a Novita listing, and the second when telling the numbering apart
    /// fetched it (see [`Self::list_page`]).
    async fn first_novita_pages(&self, query: &ListQuery) -> Result<(Page<Instance>, Option<Page<Instance>>)> {
        let learned = &self.config.novita_numbering;
        let known = learned.get();
        let at = |position: PagePosition| self.fetch_page_at(query, position);
        if let Some(numbering @ (Numbering::FromOne | Numbering::FromOneRefusingZero)) = known {
            return Ok((at(PagePosition::first_page(numbering.first_page_num())).await?, None));
        }
        let first = match at(PagePosition::first_page(0)).await {
            Ok(page) => page,
            Err(e) if known.is_none() && e.code == ErrorCode::Validation => {
                // A server counting from 1 that refuses `pageNum=0` (if page 1 fails too, that
                // error is the answer and nothing is learned).
                let page = at(PagePosition::first_page(1)).await?;
                learned.set(Numbering::FromOneRefusingZero);
                return Ok((page, None));
            }
            Err(e) => return Err(e),
        };
        let next = match first.next_cursor.as_deref() {
            Some(cursor) if first.has_more => PagePosition::from_cursor(cursor)?,
            // One page: nothing to tell apart, nothing learned.
            _ => return Ok((first, None)),
        };
        let second = at(next).await?;
        if repeats(&first, &second) {
            // `pageNum=0` was served as page 1: the pages count from 1 and page 2 comes next.
            learned.set(Numbering::FromOne);
            let mut first = first;
            first.next_cursor = Some(PagePosition { page_num: 2, first: 1, served_size: next.served_size }.to_cursor());
            return Ok((first, None));
        }
        learned.set(Numbering::FromZero);
        Ok((first, Some(second)))
    }

    async fn fetch_page_at(&self, query: &ListQuery, position: PagePosition) -> Result<Page<Instance>> {
        self.fetch_page(&query.with_cursor(Some(position.to_cursor()))).await
    }

    /// Every page of `query`, one at a time, with loop guards (see [`Pages`]).
    pub fn pages(&self, query: ListQuery) -> Pages<'_, T> {
        Pages::new(self, query)
    }

    /// Every instance `query` matches, walking all pages, each id once, in page order.
    ///
    /// Where pages are numbered and the first page reports a `total` (Novita), the remaining
    /// pages are fetched [`ClientConfig::page_concurrency`] at a time (default 8) instead of one
    /// after another; see `list_numbered_pages` (below) for the guards. Otherwise the pages are
    /// walked in turn with the guards of [`Pages`].
    pub async fn list_all_pages(&self, query: ListQuery) -> Result<Vec<Instance>> {
        let concurrency = self.config.page_concurrency.unwrap_or(DEFAULT_PAGE_CONCURRENCY).clamp(1, 64);
        if concurrency > 1 && self.finds_first_novita_page(&query) {
            return self.list_numbered_pages(query, concurrency as usize).await;
        }
        let mut all = Vec::new();
        self.finish_walk(self.pages(query), &mut all).await?;
        Ok(all)
    }

    async fn finish_walk(&self, mut pages: Pages<'_, T>, all: &mut Vec<Instance>) -> Result<()> {
        while let Some(page) = pages.next_page().await {
            all.extend(page?.items);
        }
        Ok(())
    }

    /// A numbered listing (Novita) with the pages after the first fetched `concurrency` at a time.
    ///
    /// The first page (found as [`Self::list_page`] finds it, with the second when that was
    /// needed) gives `total` and the page size the server really serves, hence the last page
    /// number; the remaining pages are then requested with at most `concurrency` in flight and
    /// taken **in page order**. Guarantees and guards:
    ///
    /// - every id appears once (the first time it is seen wins), in page order, as in a
    ///   sequential walk; an instance pushed onto the next page by one created meanwhile is
    ///   therefore not listed twice;
    /// - a server that serves fewer (or more) per page than asked is walked at its own page size,
    ///   whatever its page numbering;
    /// - a `total` that **grows** while listing (a later page reports more) makes the walk
    ///   fetch the extra pages; one that **shrinks** shows as an empty page, which ends the
    ///   listing there (requests still in flight are dropped), as it ends a sequential walk;
    /// - without a `total` the rest is walked one page at a time;
    /// - [`ClientConfig::max_pages`] still caps the pages (no request past the cap is sent);
    /// - any page that fails after its retries fails the listing.
    ///
    /// Offset paging cannot promise more while the fleet changes: an instance that moves onto a
    /// page already fetched (one before it was deleted) is missed by any client, sequential or not.
    async fn list_numbered_pages(&self, query: ListQuery, concurrency: usize) -> Result<Vec<Instance>> {
        let provider = query.provider();
        let max_pages = self.config.max_pages.unwrap_or(100_000).max(1);
        let mut seen: HashSet<String> = HashSet::new();
        let mut all: Vec<Instance> = Vec::new();
        let (first, second) = self.first_novita_pages(&query).await?;
        let mut fetched = 1u32;
        let mut last_seen = first;
        if let Some(second) = second {
            keep_new(std::mem::take(&mut last_seen.items), &mut seen, &mut all);
            fetched += 1;
            last_seen = second;
        }
        let (total, has_more, next_cursor) = (last_seen.total, last_seen.has_more, last_seen.next_cursor.clone());
        keep_new(last_seen.items, &mut seen, &mut all);
        let next = match next_cursor {
            Some(cursor) if has_more => PagePosition::from_cursor(&cursor)?,
            _ => return Ok(all),
        };
        let Some(total) = total else {
            // No total: nothing to plan with; walk on one page at a time, with the guards.
            let pages = Pages::resume(self, query.with_cursor(Some(next.to_cursor())), seen, fetched);
            self.finish_walk(pages, &mut all).await?;
            return Ok(all);
        };
        let (asked, _) = match &query {
            ListQuery::Novita(q) => provider::novita::page_position(q)?,
            _ => {
                return Err(Error::new(ErrorCode::Server, "internal error: a numbered walk of a provider without numbered pages"))
            }
        };
        let served = next.served_size.unwrap_or(asked);
        let mut last = next.last_page_num(served, total);
        // The page cap counts pages from the first; no request is sent past it.
        let cap = next.first.saturating_add(max_pages - 1);
        let mut highest_total = total;
        let mut n = next.page_num;
        'rounds: while n <= last {
            if n > cap {
                return Err(Error::new(
                    ErrorCode::Server,
                    format!("{} listing stopped after {max_pages} pages (loop guard)", provider.display_name()),
                )
                .with_provider(provider));
            }
            let round_last = last.min(cap);
            let query = &query;
            let mut pages = stream::iter(n..=round_last)
                .map(|page_num| {
                    let position = PagePosition { page_num, ..next };
                    async move { self.fetch_page_at(query, position).await }
                })
                .buffered(concurrency);
            while let Some(result) = pages.next().await {
                let page = result?;
                if page.items.is_empty() {
                    break 'rounds; // the listing shrank: nothing after an empty page
                }
                if let Some(t) = page.total {
                    highest_total = highest_total.max(t);
                }
                keep_new(page.items, &mut seen, &mut all);
            }
            // A total that grew while listing: fetch the pages it added.
            last = last.max(next.last_page_num(served, highest_total));
            if round_last == u32::MAX {
                break;
            }
            n = round_last + 1;
        }
        Ok(all)
    }

    /// Every instance on every configured provider (or those in `query.providers`), listed
    /// concurrently. A provider that fails is reported in `errors`; the others still answer.
    pub async fn list_all(&self, query: &FleetQuery) -> Result<FleetListing> {
        if let Some(proxy) = &self.config.proxy {
            return self.via_proxy_list(proxy, None, Route::Fleet(query.clone())).await;
        }
        let providers: Vec<Provider> = match &query.providers {
            Some(list) => {
                let mut v = list.clone();
                v.sort();
                v.dedup();
                v
            }
            None => self.providers(),
        };
        let results = join_all(providers.iter().map(|p| self.list_all_pages(walk_query(*p)))).await;
        let mut listing = FleetListing { instances: Vec::new(), errors: Vec::new(), cost: None };
        let mut answered = Vec::with_capacity(providers.len());
        for (p, result) in providers.into_iter().zip(results) {
            match result {
                Ok(items) => {
                    answered.push(p);
                    listing.instances.extend(items.into_iter().filter(|i| query.matches(i)));
                }
                Err(error) => listing.errors.push(ProviderFailure { provider: p, error }),
            }
        }
        self.price(&mut listing.instances).await;
        listing.cost = Some(FleetCost::of(&listing.instances, &answered));
        Ok(listing)
    }

    /// One instance.
    pub async fn get(&self, provider: Provider, id: &str) -> Result<Instance> {
        let config = match self.check_supported(provider, Operation::Get)? {
            Target::Direct(c) => c,
            Target::Proxy(proxy) => {
                return self.via_proxy(proxy, Some(provider), Operation::Get, Route::Get(provider, id.to_owned()), None).await;
            }
        };
        let request = provider::build_get_request(provider, id, config)?;
        let mut instance = self.execute(provider, Operation::Get, request, |r| provider::parse_get_response(provider, r)).await?;
        self.price(std::slice::from_mut(&mut instance)).await;
        if provider == Provider::Novita {
            self.bill(&mut instance).await;
        }
        Ok(instance)
    }

    /// Replaces a Novita instance's estimated cost with what Novita billed for it: its hourly
    /// pay-as-you-go bills since it was created (in windows of whole hours, at most 31 days and
    /// [`MAX_BILL_WINDOWS`] of them, newest first: [`provider::novita::bill_windows`]). No bill
    /// yet keeps the estimate; a bill query that fails keeps it too, saying why in `priceNote`.
    async fn bill(&self, instance: &mut Instance) {
        let Ok(config) = self.provider_config(Provider::Novita) else { return };
        let now = (self.transport.now_ms() / 1000) as i64;
        let Some(created) =
            instance.created_at.as_deref().or(instance.started_at.as_deref()).and_then(crate::money::iso_to_unix_seconds)
        else {
            return;
        };
        let windows = provider::novita::bill_windows(created, now, MAX_BILL_WINDOWS);
        let Some(&(counted_from, _)) = windows.last() else { return };
        let id = instance.id.clone();
        let answers = join_all(windows.iter().map(|&(start, end)| {
            let id = &id;
            async move {
                let request = provider::novita::build_bill_request(id, start, end, config)?;
                self.execute(Provider::Novita, Operation::Get, request, |r| provider::novita::parse_bill_response(id, r)).await
            }
        }))
        .await;
        let mut total = provider::novita::BilledUsage::default();
        for answer in answers {
            match answer {
                Ok(usage) => {
                    total.micro_usd = total.micro_usd.saturating_add(usage.micro_usd);
                    total.bills += usage.bills;
                    total.first_start = match (total.first_start, usage.first_start) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Err(error) => {
                    let note = format!("Novita's bills could not be read ({}): the cost is an estimate", error.message);
                    instance.price_note = Some(match instance.price_note.take() {
                        Some(before) => format!("{before}; {note}"),
                        None => note,
                    });
                    return;
                }
            }
        }
        if total.bills == 0 {
            return;
        }
        // The first bill's hour, or where the oldest window began; never before the instance.
        let since = total.first_start.unwrap_or(counted_from).max(counted_from).max(created);
        instance.cost = Some(Cost {
            amount: Money::from_micro(total.micro_usd),
            kind: CostKind::Billed,
            seconds: u64::try_from(now - since).unwrap_or(0),
            since: provider::unix_seconds_to_iso(since),
        });
    }

    /// Creates an instance and returns it. On fal v1 an `Idempotency-Key` is always sent (the
    /// caller's, or a generated one), so retries after a lost answer never create a second one.
    /// Novita answers with the id only, so the instance is then read back with a get.
    pub async fn create(&self, input: &CreateInput) -> Result<Instance> {
        let provider = input.provider();
        let key = self.new_idempotency_key();
        let proxy = match self.check_supported(provider, Operation::Create)? {
            Target::Direct(config) => return self.create_direct(input, &key, config).await,
            Target::Proxy(proxy) => proxy,
        };
        let body = serde_json::to_vec(&create_body(input, key)?).map_err(|e| Error::invalid_input("input", e))?;
        self.via_proxy(proxy, Some(provider), Operation::Create, Route::Create(provider), Some(body)).await
    }

    /// [`Self::create`] with a deadline that the proxy keeps and fires (at `deadline.at`, or
    /// `deadline.after` ms from the create): the proxy checks it, creates the instance, stores the
    /// deadline on it (on SF Compute also in its `gpufleet-deadline` tag) and answers the instance
    /// with its `deadline`. Should the proxy fail to store it, the instance still comes back (it
    /// exists: do not create it again), with `deadline_error` saying why.
    ///
    /// Proxy mode only: a direct client keeps no deadlines, so it answers `unsupported` before
    /// creating anything. The deadline is checked here first too (fields, the action against the
    /// provider), so a bad one creates nothing.
    pub async fn create_with_deadline(&self, input: &CreateInput, deadline: &DeadlineRequest) -> Result<Instance> {
        let provider = input.provider();
        let proxy = self.records_proxy("deadlines")?;
        let checked = checked_deadline(provider, deadline)?;
        self.check_supported(provider, Operation::Create)?;
        let mut body = create_body(input, self.new_idempotency_key())?;
        let deadline = serde_json::to_value(&checked).map_err(|e| Error::invalid_input("deadline", e))?;
        if let Some(fields) = body.as_object_mut() {
            fields.insert(crate::records_api::CREATE_DEADLINE_KEY.to_owned(), deadline);
        }
        let body = serde_json::to_vec(&body).map_err(|e| Error::invalid_input("input", e))?;
        self.via_proxy(proxy, Some(provider), Operation::Create, Route::Create(provider), Some(body)).await
    }

    async fn create_direct(&self, input: &CreateInput, key: &str, config: &ProviderConfig) -> Result<Instance> {
        let provider = input.provider();
        let request = provider::build_create_request(input, key, config)?;
        let sent_key = request.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("idempotency-key")).map(|(_, v)| v.clone());
        let created = self
            .execute(provider, Operation::Create, request, |r| provider::parse_create_response(provider, r))
            .await
            .map_err(|e| match sent_key {
                Some(key) => annotate_idempotent_failure(e, provider, key),
                None => e,
            })?;
        match created {
            Created::Instance(instance) => Ok(*instance),
            Created::Id(id) => self.get(provider, &id).await.map_err(|mut e| {
                e.message = format!(
                    "{} created instance {id}, but reading it back failed (do not create it again): {}",
                    provider.display_name(),
                    e.message
                );
                e.details.push(ErrorDetail { field: Some("id".into()), code: Some("created".into()), message: id });
                e
            }),
        }
    }

    /// Deletes an instance; a 404 counts as success (`alreadyGone: true`).
    pub async fn delete(&self, provider: Provider, id: &str) -> Result<DeleteOutcome> {
        let config = match self.check_supported(provider, Operation::Delete)? {
            Target::Direct(c) => c,
            Target::Proxy(proxy) => {
                let route = Route::Delete(provider, id.to_owned());
                return self.via_proxy(proxy, Some(provider), Operation::Delete, route, None).await;
            }
        };
        let request = provider::build_delete_request(provider, id, config)?;
        self.execute(provider, Operation::Delete, request, |r| provider::parse_delete_response(provider, r)).await
    }

    /// Runs start/stop/restart/terminate. Returns the instance when the provider answers with it
    /// (SF Compute terminate), else `None`.
    pub async fn action(&self, provider: Provider, op: Operation, id: &str) -> Result<Option<Instance>> {
        if !matches!(op, Operation::Start | Operation::Stop | Operation::Restart | Operation::Terminate) {
            return Err(Error::invalid_input("action", "must be start, stop, restart or terminate"));
        }
        let config = match self.check_supported(provider, op)? {
            Target::Direct(c) => c,
            Target::Proxy(proxy) => {
                let route = Route::Action(provider, op, id.to_owned());
                let r: ActionResponse = self.via_proxy(proxy, Some(provider), op, route, None).await?;
                return Ok(r.instance);
            }
        };
        let request = provider::build_action_request(provider, op, id, config)?;
        self.execute(provider, op, request, |r| provider::parse_action_response(provider, op, r)).await
    }

    /// Sets one tag of an SF Compute instance to `value`, or removes it (`None`), keeping its
    /// other tags: SF Compute's `PATCH /instances/{id}` replaces the whole map, so the tags are
    /// merged ([`provider::sfcompute::tags_with`]) into the instance's current ones — `current`
    /// when the caller has just read them (a create's answer), else read first. Resolves to the
    /// instance as the PATCH answered, or `None` when its tags already were so (nothing sent).
    /// SF Compute has no conditional update: a tag changed by someone else between the read and
    /// the write is overwritten. Direct mode only; the other providers have no tags.
    pub async fn set_tag(
        &self,
        provider: Provider,
        id: &str,
        key: &str,
        value: Option<&str>,
        current: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<Instance>> {
        let config = self.tags_config(provider)?;
        let read;
        let current = match current {
            Some(tags) => Some(tags),
            None => {
                // A bare get: the instance's tags are wanted, not its price.
                read = self.sfcompute_instance(provider::sfcompute::build_get_request(id, config)?).await?;
                read.tags.as_ref()
            }
        };
        let Some(tags) = provider::sfcompute::tags_with(current, key, value)? else { return Ok(None) };
        self.sfcompute_instance(provider::sfcompute::build_update_tags_request(id, &tags, config)?).await.map(Some)
    }

    /// Sends an SF Compute request whose answer is an instance (a get, a tags update: both safe to
    /// retry, the update since the same whole map sent twice leaves the same tags). One function
    /// for both, so the wasm holds one copy of the call.
    async fn sfcompute_instance(&self, request: HttpRequest) -> Result<Instance> {
        self.execute(Provider::Sfcompute, Operation::Get, request, provider::sfcompute::parse_get_response).await
    }

    /// Replaces an SF Compute instance's tags with `tags` — all of them: what is not in `tags`
    /// is removed (see [`Self::set_tag`] to change one). Direct mode only.
    pub async fn replace_tags(&self, provider: Provider, id: &str, tags: &BTreeMap<String, String>) -> Result<Instance> {
        let config = self.tags_config(provider)?;
        self.sfcompute_instance(provider::sfcompute::build_update_tags_request(id, tags, config)?).await
    }

    fn tags_config(&self, provider: Provider) -> Result<&ProviderConfig> {
        if provider != Provider::Sfcompute {
            return Err(Error::unsupported(provider, "tags"));
        }
        if self.config.proxy.is_some() {
            return Err(Error::new(
                ErrorCode::Unsupported,
                "tags are written to SF Compute directly, not through a gpufleet proxy",
            )
            .with_provider(provider));
        }
        self.provider_config(provider)
    }

    /// Starts a stopped instance (Novita).
    pub async fn start(&self, provider: Provider, id: &str) -> Result<Option<Instance>> {
        self.action(provider, Operation::Start, id).await
    }

    /// Stops a running instance (Novita).
    pub async fn stop(&self, provider: Provider, id: &str) -> Result<Option<Instance>> {
        self.action(provider, Operation::Stop, id).await
    }

    /// Restarts a running instance (Novita).
    pub async fn restart(&self, provider: Provider, id: &str) -> Result<Option<Instance>> {
        self.action(provider, Operation::Restart, id).await
    }

    /// Terminates an instance for good (SF Compute); it can be deleted afterwards.
    pub async fn terminate(&self, provider: Provider, id: &str) -> Result<Option<Instance>> {
        self.action(provider, Operation::Terminate, id).await
    }

    /// SSH connection details (SF Compute).
    pub async fn ssh(&self, provider: Provider, id: &str) -> Result<SshDetails> {
        let config = match self.check_supported(provider, Operation::Ssh)? {
            Target::Direct(c) => c,
            Target::Proxy(proxy) => {
                return self.via_proxy(proxy, Some(provider), Operation::Ssh, Route::Ssh(provider, id.to_owned()), None).await;
            }
        };
        let request = provider::build_ssh_request(provider, id, config)?;
        self.execute(provider, Operation::Ssh, request, |r| provider::parse_ssh_response(provider, r)).await
    }

    /// Polls an instance until it reaches `options.until`.
    ///
    /// Returns the instance in that status, or `None` when waiting for `terminated` and the
    /// instance is gone (404). Fails fast with `conflict` when the instance reaches a final status
    /// (`failed`, `terminated`) other than the one awaited, and with `timeout` after `maxWaitMs`
    /// (the message lists the statuses seen). Transient errors while polling are tolerated until
    /// the deadline. `on_poll` sees every instance read.
    pub async fn wait_for(
        &self,
        provider: Provider,
        id: &str,
        options: &WaitOptions,
        mut on_poll: impl FnMut(&Instance),
    ) -> Result<Option<Instance>> {
        options.validate()?;
        self.check_supported(provider, Operation::Get)?;
        provider::validate_id(id)?;
        let started = self.transport.now_ms();
        let deadline = started.saturating_add(options.max_wait_ms);
        let mut seen: Vec<String> = Vec::new();
        let mut delay = options.min_delay_ms;
        let mut last_error: Option<Error>;
        loop {
            match self.get(provider, id).await {
                Ok(instance) => {
                    last_error = None;
                    let word = format!("{} ({})", instance.status, instance.provider_status);
                    if seen.last() != Some(&word) {
                        seen.push(word);
                    }
                    on_poll(&instance);
                    if instance.status == options.until {
                        return Ok(Some(instance));
                    }
                    let dead_end = instance.status.is_final()
                        || (options.until == Status::Running && instance.status == Status::Terminating);
                    if dead_end {
                        let reason = instance.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                        return Err(Error::new(
                            ErrorCode::Conflict,
                            format!(
                                "{} instance {id} became {}{reason} while waiting for {}",
                                provider.display_name(),
                                instance.status,
                                options.until
                            ),
                        )
                        .with_provider(provider));
                    }
                }
                Err(e) if e.code == ErrorCode::NotFound && options.until == Status::Terminated => return Ok(None),
                Err(e) if e.code == ErrorCode::Aborted => return Err(e),
                Err(e) if e.retryable => last_error = Some(e),
                Err(e) => return Err(e),
            }
            let now = self.transport.now_ms();
            if now >= deadline {
                let mut message = format!(
                    "timed out after {} s waiting for {} instance {id} to be {}; statuses seen: {}",
                    (now - started) / 1000,
                    provider.display_name(),
                    options.until,
                    if seen.is_empty() { "none".to_owned() } else { seen.join(" → ") }
                );
                if let Some(e) = &last_error {
                    message.push_str(&format!("; last error: {}", e.message));
                }
                return Err(Error::new(ErrorCode::Timeout, message).with_provider(provider));
            }
            let sleep = delay.min(deadline - now);
            if let Err(t) = self.transport.sleep(Duration::from_millis(sleep)).await {
                return Err(t.into_error(Some(provider)));
            }
            delay = ((delay as f64) * 1.5) as u64;
            delay = delay.clamp(options.min_delay_ms, options.max_delay_ms);
        }
    }
}

/// The query [`Client::list_all`] walks `provider` with: no filters, and the largest page size
/// the provider documents (Novita 100, SF Compute 200), so a whole fleet takes the fewest round
/// trips; where no maximum is documented (fal) the provider's default is kept.
impl<T: Transport> Client<T> {
    /// Sets `price`, `priceNote` and `cost` on `instances` (direct mode; a proxy prices on its
    /// side): the user's table first, then Novita's catalog and SF Compute quotes, read at most
    /// once a minute ([`PRICE_CACHE_MS`]). A source that fails leaves a `priceNote`, never a
    /// failed listing.
    async fn price(&self, instances: &mut [Instance]) {
        if self.config.proxy.is_some() || instances.is_empty() {
            return;
        }
        let table = &self.config.prices;
        let mut sources = pricing::Sources::default();
        let wants_novita =
            pricing::needs_novita_catalog(instances, table) && self.config.providers.contains_key(&Provider::Novita);
        let skus = if self.config.providers.contains_key(&Provider::Sfcompute) {
            pricing::sfc_skus_to_quote(instances, table)
        } else {
            Vec::new()
        };
        let novita = async {
            if wants_novita {
                Some(self.novita_catalog().await.map_err(|e| e.message))
            } else {
                None
            }
        };
        let quotes =
            join_all(skus.iter().map(|sku| async move { (sku.clone(), self.sfc_quote(sku).await.map_err(|e| e.message)) }));
        let (novita, quotes) = futures_util::future::join(novita, quotes).await;
        sources.novita = novita;
        sources.sfc_quotes = quotes.into_iter().collect();
        let now_secs = (self.transport.now_ms() / 1000) as i64;
        pricing::apply(instances, table, &sources, now_secs);
    }

    /// Novita's product catalog, from the cache when read less than a minute ago.
    async fn novita_catalog(&self) -> Result<Arc<Vec<NovitaProduct>>> {
        let now = self.transport.now_ms();
        let cache = &self.config.price_cache;
        if let Some(products) =
            cache.with(|c| c.novita.as_ref().filter(|(at, _)| now.saturating_sub(*at) < PRICE_CACHE_MS).map(|(_, p)| p.clone()))
        {
            return Ok(products);
        }
        let config = self.provider_config(Provider::Novita)?;
        let request = provider::novita::build_products_request(config)?;
        let products =
            Arc::new(self.execute(Provider::Novita, Operation::List, request, provider::novita::parse_products_response).await?);
        cache.with(|c| c.novita = Some((now, products.clone())));
        Ok(products)
    }

    /// SF Compute's best ask for one node-hour of `sku` (micro-dollars), cached a minute.
    async fn sfc_quote(&self, sku: &str) -> Result<Option<i64>> {
        let now = self.transport.now_ms();
        let cache = &self.config.price_cache;
        if let Some(ask) =
            cache.with(|c| c.sfc_quotes.get(sku).filter(|(at, _)| now.saturating_sub(*at) < PRICE_CACHE_MS).map(|(_, a)| *a))
        {
            return Ok(ask);
        }
        let config = self.provider_config(Provider::Sfcompute)?;
        let request = provider::sfcompute::build_quote_request(sku, now / 1000, config)?;
        let ask = self.execute(Provider::Sfcompute, Operation::List, request, provider::sfcompute::parse_quote_response).await?;
        cache.with(|c| c.sfc_quotes.insert(sku.to_owned(), (now, ask)));
        Ok(ask)
    }

    /// What can be created, where, at what price: Novita's products (on-demand and spot apart,
    /// priced per GPU-hour from its catalog), SF Compute's SKUs of the instances it runs with
    /// their order-book quote, and fal's instance types with the prices you configured. Every
    /// configured provider (or only `provider`); a provider that fails is in `errors`.
    pub async fn offers(&self, provider: Option<Provider>) -> Result<OfferListing> {
        if let Some(proxy) = &self.config.proxy {
            return self.via_proxy(proxy, provider, Operation::List, Route::Offers(provider), None).await;
        }
        let providers = match provider {
            Some(p) => {
                self.provider_config(p)?;
                vec![p]
            }
            None => self.providers(),
        };
        let results = join_all(providers.iter().map(|p| self.offers_of(*p))).await;
        let mut listing = OfferListing { offers: Vec::new(), errors: Vec::new() };
        for (p, result) in providers.into_iter().zip(results) {
            match result {
                Ok(offers) => listing.offers.extend(offers),
                Err(error) => listing.errors.push(ProviderFailure { provider: p, error }),
            }
        }
        Ok(listing)
    }

    async fn offers_of(&self, provider: Provider) -> Result<Vec<Offer>> {
        let table = &self.config.prices;
        let configured =
            |id: &str| table.get(provider, id).map(|m| Price::new(m, PriceSource::Configured, Some("your price table".into())));
        match provider {
            Provider::Novita => {
                let mut offers = provider::novita::offers_of(&self.novita_catalog().await?);
                for offer in &mut offers {
                    if let Some(price) = configured(&offer.id) {
                        offer.price = Some(price);
                        offer.price_note = None;
                    }
                }
                Ok(offers)
            }
            Provider::Sfcompute => {
                // The SKUs of the fleet's instances, and any the price table names.
                let mut instances = self.list_all_pages(walk_query(provider)).await?;
                let mut skus: Vec<(String, String)> =
                    instances.drain(..).filter_map(|i| Some((i.offer_id?, i.instance_type.unwrap_or_default()))).collect();
                skus.extend(table.0.get(&provider).into_iter().flatten().map(|(id, _)| (id.clone(), id.clone())));
                skus.sort();
                skus.dedup_by(|a, b| a.0 == b.0);
                let quotes = join_all(skus.iter().map(|(sku, _)| async move {
                    if configured(sku).is_some() {
                        return Ok(None);
                    }
                    self.sfc_quote(sku).await
                }))
                .await;
                Ok(skus
                    .into_iter()
                    .zip(quotes)
                    .map(|((id, name), quote)| {
                        let (price, note) = match (configured(&id), quote) {
                            (Some(p), _) => (Some(p), None),
                            (None, Ok(Some(micro))) => (
                                Some(Price::new(
                                    micro,
                                    PriceSource::Quote,
                                    Some("best ask now, one node-hour: an estimate".into()),
                                )),
                                None,
                            ),
                            (None, Ok(None)) => (None, Some(format!("no ask in SF Compute's order book for {id}"))),
                            (None, Err(e)) => (None, Some(format!("SF Compute's quote could not be read: {}", e.message))),
                        };
                        Offer {
                            provider,
                            name: if name.is_empty() { id.clone() } else { name },
                            id,
                            gpu_model: None,
                            gpu_count: Some(8),
                            max_gpu_count: None,
                            regions: Vec::new(),
                            billing: BillingMode::OnDemand,
                            available: None,
                            price,
                            unit: OfferUnit::Instance,
                            price_note: note,
                            raw: serde_json::Value::Null,
                        }
                    })
                    .collect())
            }
            Provider::Fal | Provider::FalAlpha => {
                let mut types: Vec<String> = provider
                    .capabilities()
                    .create_fields
                    .iter()
                    .find(|f| f.name == "instanceType")
                    .map(|f| f.options.clone())
                    .unwrap_or_default();
                types.extend(table.0.get(&provider).into_iter().flatten().map(|(t, _)| t.clone()));
                types.sort();
                types.dedup();
                Ok(types
                    .into_iter()
                    .map(|t| {
                        let (gpu_count, gpu_model) = provider::fal::gpus_from_instance_type(&t);
                        let price = configured(&t);
                        let note = price
                            .is_none()
                            .then(|| format!("fal publishes no compute prices: set prices[\"{provider}\"][\"{t}\"]"));
                        Offer {
                            provider,
                            id: t.clone(),
                            name: t,
                            gpu_model,
                            gpu_count,
                            max_gpu_count: None,
                            regions: Vec::new(),
                            billing: BillingMode::OnDemand,
                            available: None,
                            price,
                            unit: OfferUnit::Instance,
                            price_note: note,
                            raw: serde_json::Value::Null,
                        }
                    })
                    .collect())
            }
        }
    }

    /// The account balance of every configured provider that has one: fal (credits, Platform
    /// API v1; the alpha API shares fal's account), Novita and SF Compute, in exact dollars.
    /// A provider that fails is in `errors`.
    pub async fn balances(&self) -> Result<BalanceListing> {
        if let Some(proxy) = &self.config.proxy {
            return self.via_proxy(proxy, None, Operation::List, Route::Balances, None).await;
        }
        let providers: Vec<Provider> = self.providers().into_iter().filter(|p| *p != Provider::FalAlpha).collect();
        let results = join_all(providers.iter().map(|p| self.balance_of(*p))).await;
        let mut listing = BalanceListing { balances: Vec::new(), errors: Vec::new() };
        for (p, result) in providers.into_iter().zip(results) {
            match result {
                Ok(balance) => listing.balances.push(balance),
                Err(error) => listing.errors.push(ProviderFailure { provider: p, error }),
            }
        }
        Ok(listing)
    }

    async fn balance_of(&self, provider: Provider) -> Result<Balance> {
        let config = self.provider_config(provider)?;
        let (request, parse): (HttpRequest, fn(HttpResponse) -> Result<Balance>) = match provider {
            Provider::Fal | Provider::FalAlpha => {
                (provider::fal::build_balance_request(config)?, provider::fal::parse_balance_response)
            }
            Provider::Novita => (provider::novita::build_balance_request(config)?, provider::novita::parse_balance_response),
            Provider::Sfcompute => return self.sfc_balance(config).await,
        };
        self.execute(provider, Operation::List, request, parse).await
    }

    /// SF Compute's balance: `GET /v1/balances` (what its spec documents now); when that answers
    /// 404 (an API or mirror without it), `GET /v0/balance` (the older endpoint). Any other
    /// failure of v1 is the answer: a 401 or a 500 there would not be mended by asking v0.
    async fn sfc_balance(&self, config: &ProviderConfig) -> Result<Balance> {
        let parse = provider::sfcompute::parse_balance_response;
        let request = provider::sfcompute::build_balance_request(config)?;
        match self.execute(Provider::Sfcompute, Operation::List, request, parse).await {
            Err(e) if e.status == Some(404) => {
                let request = provider::sfcompute::build_legacy_balance_request(config)?;
                self.execute(Provider::Sfcompute, Operation::List, request, parse).await.map_err(|mut e| {
                    e.message = format!("{} (after GET /v1/balances answered 404)", e.message);
                    e
                })
            }
            answer => answer,
        }
    }
}

/// The proxy's records: deadlines, the audit log and the orphan report. They live in the proxy
/// (its D1 database, its scheduled runs), so these calls need `ClientConfig.proxy`; without
/// one they fail with `unsupported`.
impl<T: Transport> Client<T> {
    fn records_proxy(&self, what: &str) -> Result<&ProxyConfig> {
        self.config.proxy.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::Unsupported,
                format!("{what} are kept by the gpufleet proxy (its D1 database and schedule): give `proxy` in the config"),
            )
        })
    }

    /// Sets (or replaces) an instance's deadline: at `request.at` or `request.after` ms from now
    /// the proxy stops (Novita), terminates (SF Compute) or deletes (fal) it. Checked here first
    /// (fields, the action against the provider's capabilities), then by the proxy.
    pub async fn set_deadline(&self, provider: Provider, id: &str, request: &DeadlineRequest) -> Result<DeadlineAnswer> {
        let proxy = self.records_proxy("deadlines")?;
        crate::provider::validate_id(id)?;
        let checked = checked_deadline(provider, request)?;
        let body = serde_json::to_vec(&checked).map_err(|e| Error::invalid_input("deadline", e))?;
        // Setting the same deadline twice leaves the same deadline: safe to retry (as a delete is).
        let route = Route::SetDeadline(provider, id.to_owned());
        self.via_proxy(proxy, Some(provider), Operation::Delete, route, Some(body)).await
    }

    /// Removes an instance's deadline; `cleared` is the one removed (absent if there was none).
    pub async fn clear_deadline(&self, provider: Provider, id: &str) -> Result<ClearedDeadline> {
        let proxy = self.records_proxy("deadlines")?;
        crate::provider::validate_id(id)?;
        self.via_proxy(proxy, Some(provider), Operation::Delete, Route::ClearDeadline(provider, id.to_owned()), None).await
    }

    /// Every deadline the proxy keeps (pending first, then by time; fired and failed ones too).
    pub async fn deadlines(&self) -> Result<DeadlineList> {
        let proxy = self.records_proxy("deadlines")?;
        self.via_proxy(proxy, None, Operation::Get, Route::Deadlines, None).await
    }

    /// A page of the audit log, newest first (`query.before`: the previous page's `nextCursor`).
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage> {
        let proxy = self.records_proxy("the audit log")?;
        query.filter()?;
        self.via_proxy(proxy, query.provider, Operation::Get, Route::Audit(query.clone()), None).await
    }

    /// The forgotten GPUs: live instances older than `older_than_ms` (default a day) with no
    /// pending deadline and no recorded create.
    pub async fn orphans(&self, older_than_ms: Option<u64>) -> Result<OrphanReport> {
        let proxy = self.records_proxy("orphan reports")?;
        let age = older_than_ms.unwrap_or(crate::records_api::DEFAULT_ORPHAN_AGE_MS);
        self.via_proxy(proxy, None, Operation::Get, Route::Orphans(age), None).await
    }
}

/// A create input as the JSON body the proxy takes (fal v1's with its idempotency key, so a
/// retry to the proxy reuses it upstream too).
fn create_body(input: &CreateInput, key: String) -> Result<serde_json::Value> {
    match input {
        CreateInput::Fal(i) => {
            let mut i = i.clone();
            i.idempotency_key.get_or_insert(key);
            serde_json::to_value(&i)
        }
        CreateInput::FalAlpha(i) => serde_json::to_value(i),
        CreateInput::Sfcompute(i) => serde_json::to_value(i),
        CreateInput::Novita(i) => serde_json::to_value(i),
    }
    .map_err(|e| Error::invalid_input("input", e))
}

/// `request` checked as the proxy will (fields, the action against `provider`, one of `at` and
/// `after`), before it is sent; errors name `deadline.…`.
fn checked_deadline(provider: Provider, request: &DeadlineRequest) -> Result<DeadlineRequest> {
    let value = serde_json::to_value(request).map_err(|e| Error::invalid_input("deadline", e))?;
    let checked = DeadlineRequest::from_json(&value, "deadline.")?;
    if let Some(action) = checked.action {
        action.check(provider).map_err(|e| Error::invalid_input("deadline.action", e.message.trim_start_matches("action: ")))?;
    }
    crate::store::one_of_at_or_after(checked.at.is_some(), checked.after.is_some(), "deadline.at")?;
    Ok(checked)
}

fn walk_query(provider: Provider) -> ListQuery {
    let query = ListQuery::first_page(provider);
    match provider.capabilities().max_page_size {
        Some(max) => query.with_limit(max),
        None => query,
    }
}

/// Whether `second` mostly repeats `first` (more than half of the shorter page's ids): a server
/// serving `pageNum=0` and `pageNum=1` as the same page. Pages of a server counting from 0 share
/// at most the few ids that instances created or deleted between the two requests shifted.
fn repeats(first: &Page<Instance>, second: &Page<Instance>) -> bool {
    let ids: HashSet<&str> = first.items.iter().map(|i| i.id.as_str()).collect();
    let shared = second.items.iter().filter(|i| ids.contains(i.id.as_str())).count();
    let shorter = first.items.len().min(second.items.len());
    shorter > 0 && shared * 2 > shorter
}

/// Appends the items whose id was not seen before.
fn keep_new(items: Vec<Instance>, seen: &mut HashSet<String>, all: &mut Vec<Instance>) {
    all.extend(items.into_iter().filter(|i| seen.insert(i.id.clone())));
}

/// Explains, on an idempotent create (fal v1) that still failed ambiguously after its retries,
/// that the outcome is unknown and how to settle it safely: create again with the same key.
fn annotate_idempotent_failure(mut error: Error, provider: Provider, key: String) -> Error {
    let ambiguous = matches!(error.code, ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Server | ErrorCode::Decode);
    if ambiguous {
        error.message = format!(
            "{}; the outcome is unknown: {} may or may not have created the instance. Every attempt carried Idempotency-Key {key}: create again with idempotencyKey set to it to get that instance without making a second one",
            error.message,
            provider.display_name()
        );
        error.details.push(ErrorDetail {
            field: Some("idempotencyKey".into()),
            code: Some("outcomeUnknown".into()),
            message: key,
        });
    }
    error
}

/// Explains, on a create or action that failed ambiguously and was not retried, that its outcome
/// is unknown and why it was not repeated; adds an `outcomeUnknown` detail for programs.
fn annotate_unsafe_failure(mut error: Error, provider: Provider, op: Operation, safe: bool) -> Error {
    let ambiguous = matches!(error.code, ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Server | ErrorCode::Decode);
    if !safe && ambiguous {
        let name = provider.display_name();
        let (what, risk) = if op == Operation::Create {
            (format!("{name} may or may not have created the instance"), "could make a second instance")
        } else {
            (format!("{name} may or may not have applied the {}", op.as_str()), "is not safe there")
        };
        error.message = format!(
            "{}; the outcome is unknown: {what}. The {} request was not retried because repeating it {risk} — check the instance list before trying again",
            error.message,
            op.as_str()
        );
        error.details.push(ErrorDetail {
            field: None,
            code: Some("outcomeUnknown".into()),
            message: format!("{what}; not retried"),
        });
    }
    error
}

/// Walks a listing page by page with guards against provider bugs that would loop forever or
/// repeat items: a cursor seen before (error), `has_more` without a cursor (stop), a page past a
/// known `total` or an empty page before it (stop), and ids already yielded (dropped).
#[derive(Debug)]
pub struct Pages<'c, T> {
    client: &'c Client<T>,
    query: ListQuery,
    seen_cursors: HashSet<String>,
    seen_ids: HashSet<String>,
    pages: u32,
    done: bool,
    /// A page fetched ahead: the second Novita page, when finding the first needed it.
    ahead: Option<Page<Instance>>,
}

impl<'c, T: Transport> Pages<'c, T> {
    fn new(client: &'c Client<T>, query: ListQuery) -> Pages<'c, T> {
        let mut seen_cursors = HashSet::new();
        if let Some(c) = query.cursor() {
            seen_cursors.insert(c.to_owned());
        }
        Pages { client, query, seen_cursors, seen_ids: HashSet::new(), pages: 0, done: false, ahead: None }
    }

    /// A walk that continues at `query` after `pages` pages that yielded `seen_ids`.
    fn resume(client: &'c Client<T>, query: ListQuery, seen_ids: HashSet<String>, pages: u32) -> Pages<'c, T> {
        let mut walk = Pages::new(client, query);
        walk.seen_ids = seen_ids;
        walk.pages = pages;
        walk
    }

    /// The next page, or `None` after the last one. After an error the walk ends.
    pub async fn next_page(&mut self) -> Option<Result<Page<Instance>>> {
        if self.done {
            return None;
        }
        let provider = self.query.provider();
        let max_pages = self.client.config.max_pages.unwrap_or(100_000);
        if self.pages >= max_pages {
            self.done = true;
            return Some(Err(Error::new(
                ErrorCode::Server,
                format!("{} listing stopped after {max_pages} pages (loop guard)", provider.display_name()),
            )
            .with_provider(provider)));
        }
        let fetched = if let Some(page) = self.ahead.take() {
            Ok(page)
        } else if self.pages == 0 && self.client.finds_first_novita_page(&self.query) {
            self.client.first_novita_pages(&self.query).await.map(|(first, second)| {
                self.ahead = second;
                first
            })
        } else {
            self.client.list_page_unpriced(&self.query).await
        };
        let mut page = match fetched {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.pages += 1;
        let fetched = page.items.len();
        page.items.retain(|i| self.seen_ids.insert(i.id.clone()));
        let next = match (page.has_more, page.next_cursor.take()) {
            (true, Some(cursor)) => {
                if !self.seen_cursors.insert(cursor.clone()) {
                    self.done = true;
                    return Some(Err(Error::new(
                        ErrorCode::Server,
                        format!("{} returned cursor {cursor:?} twice; stopped listing to avoid a loop", provider.display_name()),
                    )
                    .with_provider(provider)));
                }
                Some(cursor)
            }
            // `has_more` without a cursor: there is no way to ask for more.
            _ => None,
        };
        let past_total = match page.total {
            Some(total) => self.seen_ids.len() as u64 >= total || fetched == 0,
            None => false,
        };
        match next {
            Some(cursor) if !past_total => {
                page.next_cursor = Some(cursor.clone());
                page.has_more = true;
                self.query = self.query.with_cursor(Some(cursor));
            }
            _ => {
                page.next_cursor = None;
                page.has_more = false;
                self.done = true;
            }
        }
        Some(Ok(page))
    }
}
