//! What the native test crates share: `mod support;` at the top of a test file, then
//! `use support::…`.
//!
//! - [`scripted`]: `ScriptedTransport`, the one fake transport (a script or a responder, the
//!   recorded requests and sleeps, a fake clock, seeded randomness).
//! - [`fixtures`]: the recorded provider answers, the test credentials and client configs.
//! - [`proxy_env`]: the edge proxy's test environment and the `Proxy` built from it.
//! - [`plain_http`] and [`sim`]: a real HTTP/1.1 transport and the simulated clouds as a child
//!   process, for the end-to-end tests.

// Each test crate uses a different part.
#![allow(dead_code)]

pub mod fixtures;
pub mod plain_http;
pub mod proxy_env;
pub mod scripted;
pub mod sim;
