//! # gpufleet
//!
//! One typed API over the GPU compute-instance APIs of **fal** (Platform API v1 and the older
//! alpha Compute API), **SF Compute** (preview v2) and **Novita** (GPU instances v1).
//!
//! The crate is built in layers (the oauth2-rs shape), read bottom-up; each module imports only
//! from those above it in this list (`scripts/check-core-purity.sh` checks it):
//!
//! - [`provider_id`] — [`Provider`] and its names, a leaf (as are `json_path`, the slow-path
//!   reader that names a failing JSON path, [`raw`], `civil`, days ⇄ calendar dates, and [`ssh_key`],
//!   the public-key check).
//! - [`error`] — one [`Error`] with a stable [`ErrorCode`]; [`money`] — exact micro-dollar
//!   arithmetic, the user's price table, ISO times; [`http`] — [`HttpRequest`], [`HttpResponse`]
//!   and the [`Transport`] trait, the only I/O seam (send, sleep, clock, random bytes; on wasm the
//!   global `fetch` and `setTimeout`, natively you bring your own).
//! - [`model`] — the provider-neutral types TypeScript sees (serde + Tsify); an instance's `raw`
//!   ([`raw::Raw`]) is the provider's own text, parsed only when read.
//! - [`callers`] — the proxy's named callers (token hashes, access); [`store`] — the [`store::Store`]
//!   trait behind the audit log and deadlines (in memory here, D1 on the Worker).
//! - [`provider`] — one pure module per provider: `build_*_request` turns typed input into an
//!   [`HttpRequest`], `parse_*_response` turns an [`HttpResponse`] into the [`model`] (a fast
//!   path into borrowed wire records, and a slow one that names a failing JSON path). No I/O.
//!   `answer_json` writes the proxy's answers and the JS handover (each `raw` spliced in);
//!   [`records_api`] is the wire format of the proxy's deadline, audit and orphan routes.
//! - [`proxy::api`] — the edge proxy's REST wire format; [`pricing`] — prices and costs set on
//!   instances from the sources the client fetched.
//! - [`Client`] ([`client`]) — retries, pagination with loop guards (Novita's numbering learned),
//!   fan-out over providers, waiters, prices and balances, and proxy mode through [`proxy::api`].
//! - [`deadlines`] — setting deadlines and [`deadlines::run_due_deadlines`], what the Worker's
//!   cron runs: each due deadline claimed once and acted on through the [`Client`].
//! - [`proxy`] — the edge proxy, one job per file: with the feature `proxy` (on by default) its
//!   pure server side: auth, rate limit, headers, config, concealment, and [`proxy::Proxy`], the
//!   handler.
//! - `transport` and `bindings` (wasm32 only) — the `fetch` transport; the JavaScript API
//!   (`Fleet`), and with the `proxy` feature the Worker entry, its cron and the D1 store. The npm
//!   package's wasm is built without the feature, the Worker's with it.
//!
//! ## Bring your own transport
//!
//! Implement [`Transport`] (four methods) over any HTTP client and runtime. The README shows the
//! shape; `examples/custom_transport.rs` is a complete one over a plain `TcpStream`, and
//! `tests/client.rs` drives the client with a scripted fake transport and a fake clock.

// `Error` is deliberately one flat, serializable record (the JS error and the proxy's error JSON
// share it), so results carry it by value.
#![allow(clippy::result_large_err)]

mod answer_json;
pub mod callers;
mod civil;
pub mod client;
pub mod deadlines;
pub mod error;
pub mod http;
mod json_path;
pub mod model;
pub mod money;
pub mod pricing;
pub mod provider;
pub mod provider_id;
pub mod proxy;
pub mod raw;
pub mod records_api;
pub mod ssh_key;
pub mod store;

#[cfg(target_arch = "wasm32")]
pub mod transport;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings;

pub use client::{Client, ClientConfig, RetryPolicy, WaitOptions, DEFAULT_PAGE_CONCURRENCY};
pub use error::{Error, ErrorCode, Result, TransportError};
pub use http::{HttpRequest, HttpResponse, Method, Transport};
pub use model::*;
pub use provider::{Provider, ProviderConfig};
pub use proxy::api::ProxyConfig;
