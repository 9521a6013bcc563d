//! The JavaScript API: the only hand-written `#[wasm_bindgen]` exports (wasm32 only).
//!
//! - [`api`]: the `Fleet` class and the boundary-only types (`FleetConfig`, `CallOptions`, …).
//! - [`errors`]: gpufleet errors as thrown JS `Error`s (`GpufleetError`).
//! - [`convert`]: how values cross the boundary (JSON in, JSON out).
//! - `worker` (feature `proxy`): the edge proxy's `handleFetch` and `consoleHeaders`.
//! - `scheduled` (feature `proxy`): the Cron Trigger's `runScheduled` (deadlines).
//! - `store` (feature `proxy`): the core's `Store` over the Worker's D1 store (`d1-store.js`).

#[cfg(feature = "js-client")]
pub mod api;
#[cfg(feature = "js-client")]
pub mod convert;
#[cfg(feature = "js-client")]
pub mod errors;
#[cfg(feature = "proxy")]
pub mod scheduled;
#[cfg(feature = "proxy")]
pub mod store;
#[cfg(feature = "proxy")]
pub mod worker;
