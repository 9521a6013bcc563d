//! The edge proxy's test environment: its tokens, the provider secrets it holds, and the
//! `ServerConfig`/`Proxy` built from them (with a test's own changes).

use std::collections::HashMap;

use gpufleet::proxy::{Proxy, ServerConfig};

/// The read-write token (`GPUFLEET_TOKEN`).
pub const TOKEN: &str = "tok-full-0123456789abcdef";
/// The read-only token (`GPUFLEET_READONLY_TOKEN`).
pub const RO_TOKEN: &str = "tok-read-0123456789abcdef";
/// `FAL_KEY`.
pub const FAL_KEY: &str = "fal-secret-key-xyz";
/// `SFC_TOKEN`.
pub const SFC_TOKEN: &str = "sfc-secret-token-xyz";
/// `SFC_WORKSPACE`.
pub const SFC_WORKSPACE: &str = "wksp_simfleet01";
/// `NOVITA_API_KEY`.
pub const NOVITA_KEY: &str = "novita-secret-key-xyz";

/// Every value above that must never reach a caller.
pub const SECRETS: [&str; 6] = [TOKEN, RO_TOKEN, FAL_KEY, SFC_TOKEN, NOVITA_KEY, SFC_WORKSPACE];

/// The proxy's environment: both tokens, two allowed origins, every provider (fal at a loopback
/// base URL), then `extra` applied in order (an empty value removes the variable).
pub fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = [
        ("GPUFLEET_TOKEN", TOKEN),
        ("GPUFLEET_READONLY_TOKEN", RO_TOKEN),
        ("ALLOWED_ORIGINS", "https://console.example.com, http://localhost:5173"),
        ("FAL_KEY", FAL_KEY),
        ("FAL_BASE_URL", "http://127.0.0.1:9/fal/v1"),
        ("SFC_TOKEN", SFC_TOKEN),
        ("SFC_WORKSPACE", SFC_WORKSPACE),
        ("NOVITA_API_KEY", NOVITA_KEY),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        if v.is_empty() {
            m.remove(*k);
        } else {
            m.insert(k.to_string(), v.to_string());
        }
    }
    m
}

/// The server config read from [`env`]`(extra)`.
pub fn server_config(extra: &[(&str, &str)]) -> ServerConfig {
    let e = env(extra);
    ServerConfig::from_env(|k| e.get(k).cloned())
}

/// A proxy over [`server_config`]`(extra)`.
pub fn proxy(extra: &[(&str, &str)]) -> Proxy {
    Proxy::new(server_config(extra))
}
