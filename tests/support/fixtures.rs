//! The recorded provider answers (`tests/fixtures/<provider>/…`), the credentials the offline
//! tests configure, and the client configs built from them.
//!
//! Each provider has a module of its own, so a provider's test file imports its helpers by their
//! short names: `use support::fixtures::fal::{config, fixture, fixture_json};`.

use std::sync::OnceLock;

use gpufleet::{ClientConfig, Provider, ProviderConfig, ProxyConfig};
use serde_json::Value;

/// fal's test key.
pub const FAL_KEY: &str = "fal-test-key:0123456789abcdef";
/// fal alpha's test key.
pub const FAL_ALPHA_KEY: &str = "fal-alpha-test-key:fedcba9876543210";
/// SF Compute's test token.
pub const SFC_TOKEN: &str = "sfc_test_token_123";
/// SF Compute's test workspace.
pub const SFC_WORKSPACE: &str = "wksp_k3R-nX9vLm7Qp2Yw5Jd8F";
/// Novita's test key.
pub const NOVITA_KEY: &str = "sk_test_novita_0123456789abcdef";

/// The test key (or token) of `p`.
pub fn key(p: Provider) -> &'static str {
    match p {
        Provider::Fal => FAL_KEY,
        Provider::FalAlpha => FAL_ALPHA_KEY,
        Provider::Sfcompute => SFC_TOKEN,
        Provider::Novita => NOVITA_KEY,
    }
}

/// `p` with its test key (SF Compute also with its test workspace), at the real base URL.
pub fn provider_config(p: Provider) -> ProviderConfig {
    let config = ProviderConfig::new(p, key(p));
    if p == Provider::Sfcompute {
        config.with_workspace(SFC_WORKSPACE)
    } else {
        config
    }
}

/// A direct-mode client config with `providers`, each as [`provider_config`] makes it.
pub fn client_config(providers: &[Provider]) -> ClientConfig {
    providers.iter().fold(ClientConfig::new(), |c, &p| c.with_provider(p, provider_config(p)))
}

/// A direct-mode client config with every provider.
pub fn all_providers() -> ClientConfig {
    client_config(&Provider::ALL)
}

/// A proxy-mode client config.
pub fn proxy_client_config(base_url: &str, token: &str) -> ClientConfig {
    ClientConfig::new().with_proxy(ProxyConfig { base_url: base_url.into(), token: Some(token.into()) })
}

/// The bytes of `tests/fixtures/<p>/<name>`.
pub fn fixture(p: Provider, name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{}/{name}", env!("CARGO_MANIFEST_DIR"), p.as_str());
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `tests/fixtures/<p>/<name>` as JSON.
pub fn fixture_json(p: Provider, name: &str) -> Value {
    serde_json::from_slice(&fixture(p, name)).unwrap_or_else(|e| panic!("{p}/{name} is not JSON: {e}"))
}

/// Every fixture file but the notes (`*.md`), as `("<provider>/<file>", bytes)`, provider by
/// provider, each provider's sorted by name; read once.
pub fn all_fixtures() -> &'static [(String, Vec<u8>)] {
    static ALL: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut all = Vec::new();
        for p in Provider::ALL {
            let dir = p.as_str();
            let mut entries: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
                .unwrap_or_else(|e| panic!("{root}/{dir}: {e}"))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|x| x != "md"))
                .collect();
            entries.sort();
            for path in entries {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                all.push((format!("{dir}/{}", path.file_name().unwrap().to_string_lossy()), bytes));
            }
        }
        assert!(all.len() > 30, "fixtures found: {}", all.len());
        all
    })
}

/// `pub mod NAME { config, fixture, fixture_json }` for one provider.
macro_rules! provider_helpers {
    ($($name:ident => $provider:expr),* $(,)?) => {$(
        #[doc = concat!("The helpers of ", stringify!($provider), " by their short names.")]
        pub mod $name {
            use gpufleet::{Provider, ProviderConfig};
            use serde_json::Value;

            const PROVIDER: Provider = $provider;

            /// The provider with its test credentials (see [`super::provider_config`]).
            pub fn config() -> ProviderConfig {
                super::provider_config(PROVIDER)
            }

            /// The bytes of one of the provider's fixtures.
            pub fn fixture(name: &str) -> Vec<u8> {
                super::fixture(PROVIDER, name)
            }

            /// One of the provider's fixtures as JSON.
            pub fn fixture_json(name: &str) -> Value {
                super::fixture_json(PROVIDER, name)
            }
        }
    )*};
}

provider_helpers! {
    fal => Provider::Fal,
    fal_alpha => Provider::FalAlpha,
    sfcompute => Provider::Sfcompute,
    novita => Provider::Novita,
}
