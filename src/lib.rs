//! # gpufleet
//!
//! One typed API over the GPU compute-instance APIs of **fal** (Platform API v1 and the older
//! alpha Compute API), **SF Compute** (preview v2) and **Novita** (GPU instances v1).
//!
//! The crate is built in layers (the oauth2-rs shape):
//!
//! - [`provider`] — one pure module per provider: `build_*_request` turns typed input into an
//!   [`HttpRequest`], `parse_*_response` turns an [`HttpResponse`] into the [`model`]. No I/O.
//! - [`http::Transport`] — the only I/O seam: send a request, sleep, read the clock, get random
//!   bytes. On wasm it is the global `fetch` and `setTimeout`; natively you bring your own.
//! - [`Client`] — retries, pagination with loop guards, fan-out over providers, waiters.
//! - `bindings` (wasm32 only) — the JavaScript API (`Fleet`) and, with the `proxy` feature (on by
//!   default), the edge-proxy handler. The npm package's wasm is built without it, the Worker's
//!   with it.
//!
//! ## Bring your own transport
//!
//! Implement [`Transport`] (four methods) over any HTTP client and runtime; the README shows a
//! complete example with `ureq`-style blocking I/O and with a scripted fake for tests.

// `Error` is deliberately one flat, serializable record (the JS error and the proxy's error JSON
// share it), so results carry it by value.
#![allow(clippy::result_large_err)]

pub mod client;
pub mod error;
pub mod http;
mod json_path;
pub mod model;
pub mod provider;
pub mod proxy_api;
#[cfg(feature = "proxy")]
pub mod proxy_server;
pub mod raw;

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
pub use proxy_api::ProxyConfig;
