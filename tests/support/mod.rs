//! What the native test crates share: `mod support;` at the top of a test file, then
//! `use support::…`.
//!
//! - [`plain_http`] and [`sim`]: a real HTTP/1.1 transport and the simulated clouds as a child
//!   process, for the end-to-end tests.

// Each test crate uses a different part.
#![allow(dead_code)]

pub mod plain_http;
pub mod sim;
