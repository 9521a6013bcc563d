//! Transports that implement [`crate::http::Transport`] for a JavaScript host.
//!
//! wasm32 only: [`FetchTransport`] sends requests with the global `fetch` (browsers, Web Workers,
//! Node ≥ 18, Deno, Bun, workerd) or a caller-supplied `fetch`, sleeps on `setTimeout`, and honours
//! an `AbortSignal` and a per-attempt timeout.

#[cfg(target_arch = "wasm32")]
mod fetch;

#[cfg(target_arch = "wasm32")]
pub use fetch::{describe_js_error, reason_text, AbortSignalLike, FetchTransport, HALTED};
