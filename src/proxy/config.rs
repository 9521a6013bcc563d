//! The proxy's configuration, read from its environment (Worker vars and secrets) by
//! [`ServerConfig::from_env`]: the API tokens, the allowed origins, each provider's key and base
//! URL, the rate limit and the configured prices. Reading never fails: a problem becomes a
//! refusal to serve the API (tokens) or a warning and an unconfigured provider (keys, URLs).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::provider::{Provider, ProviderConfig};
use crate::proxy::access::AccessConfig;
use crate::proxy::auth::Secret;
use crate::proxy::rate_limit::RateConfig;

/// Every environment variable (Worker var or secret) the proxy reads.
pub const ENV_NAMES: &[&str] = &[
    "GPUFLEET_TOKEN",
    "GPUFLEET_READONLY_TOKEN",
    "ALLOWED_ORIGINS",
    "GPUFLEET_ORIGIN",
    "FAL_KEY",
    "FAL_BASE_URL",
    "FAL_ALPHA_BASE_URL",
    "SFC_TOKEN",
    "SFC_WORKSPACE",
    "SFC_BASE_URL",
    "NOVITA_API_KEY",
    "NOVITA_BASE_URL",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_BURST",
    "GPUFLEET_PRICES",
    "GPUFLEET_CALLERS",
    "CF_ACCESS_TEAM_DOMAIN",
    "CF_ACCESS_AUD",
    "CF_ACCESS_WRITERS",
];

/// The shortest accepted API token: a shorter one is treated as unset (the API refuses to run).
pub const MIN_TOKEN_LEN: usize = 16;

/// Default sustained rate per caller.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 600;
/// Default burst per caller.
pub const DEFAULT_RATE_BURST: u32 = 120;

/// Everything the proxy is configured with, read from its environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(super) token: Option<Secret>,
    pub(super) readonly_token: Option<Secret>,
    /// `GPUFLEET_CALLERS`: named callers (token hashes and access).
    pub(super) callers: crate::callers::CallerTable,
    /// `CF_ACCESS_TEAM_DOMAIN`, `CF_ACCESS_AUD`, `CF_ACCESS_WRITERS`: Cloudflare Access
    /// identities as callers, when configured.
    pub(super) access: Option<AccessConfig>,
    /// Why the API refuses to serve, when it does (no secret inside).
    pub(super) refusal: Option<String>,
    pub(super) allowed_origins: Vec<String>,
    /// The proxy's own origin (the console's), when configured: then the request URL is not
    /// consulted for it.
    pub(super) own_origin: Option<String>,
    pub(super) providers: BTreeMap<Provider, ProviderConfig>,
    /// Configuration problems worth telling the operator (no secrets), shown by `/healthz`.
    pub(super) warnings: Vec<String>,
    pub(super) rate: RateConfig,
    /// `GPUFLEET_PRICES`: hourly prices by provider and instance type.
    pub(super) prices: crate::money::PriceTable,
    /// Price sources read recently, shared by the requests an isolate serves.
    pub(super) price_cache: crate::client::PriceCache,
}

fn clean(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Whether `url` is an acceptable upstream base URL: `https://…`, or `http://` to a loopback
/// host only (the simulated clouds), never with credentials, query or fragment.
pub fn acceptable_base_url(url: &str) -> bool {
    let (rest, tls) = if let Some(r) = url.strip_prefix("https://") {
        (r, true)
    } else if let Some(r) = url.strip_prefix("http://") {
        (r, false)
    } else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || url.contains(['?', '#', ' ', '\\']) {
        return false;
    }
    tls || crate::http::is_https_or_loopback(url)
}

/// Parses one `ALLOWED_ORIGINS` entry into its canonical form `scheme://host[:port]` (lowercase,
/// no path); `None` when it is not an origin.
pub fn canonical_origin(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches('/');
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@', ' ', '*', ','])
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return None;
    }
    Some(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// One provider's upstream config from its key, optional base-URL override and workspace:
/// `Ok(None)` when no key is set, `Err(warning)` when something is unusable (no secret inside).
fn provider_from_env(
    p: Provider,
    key_var: &str,
    key: Option<String>,
    base_url: Option<String>,
    url_var: &str,
    workspace: Option<String>,
) -> Result<Option<ProviderConfig>, String> {
    let Some(key) = key else { return Ok(None) };
    let mut config = ProviderConfig::new(p, key);
    if let Some(url) = base_url {
        if !acceptable_base_url(&url) {
            return Err(format!(
                "{} not configured: {url_var} must be an https:// URL (http:// only to localhost or 127.x), without credentials, query or fragment",
                p.as_str()
            ));
        }
        config = config.with_base_url(url.trim_end_matches('/'));
    }
    if let Some(w) = workspace {
        config = config.with_workspace(w);
    }
    // validate() names fields and rules, never the key's value.
    config.validate(p).map_err(|e| format!("{} not configured ({key_var}): {}", p.as_str(), e.message))?;
    Ok(Some(config))
}

/// Cloudflare Access from `CF_ACCESS_TEAM_DOMAIN`, `CF_ACCESS_AUD` and `CF_ACCESS_WRITERS`:
/// `Ok(None)` when neither of the first two is set, `Err(why)` (naming the variable, quoting no
/// value: `/healthz` is public) when it is unusable. Both or neither: one alone is a half-done
/// setup, refused rather than guessed at.
fn access_from_env(team: Option<String>, aud: Option<String>, writers: Option<&str>) -> Result<Option<AccessConfig>, String> {
    match (team, aud) {
        (None, None) => Ok(None),
        (Some(_), None) => Err("CF_ACCESS_AUD is not set but CF_ACCESS_TEAM_DOMAIN is: Access needs both".into()),
        (None, Some(_)) => Err("CF_ACCESS_TEAM_DOMAIN is not set but CF_ACCESS_AUD is: Access needs both".into()),
        (Some(team), Some(_)) => match canonical_origin(&team).filter(|o| acceptable_base_url(o)) {
            Some(issuer) => Ok(Some(AccessConfig::new(issuer, writers))),
            None => {
                Err("CF_ACCESS_TEAM_DOMAIN must be https://<team>.cloudflareaccess.com (http:// only to localhost or 127.x)"
                    .into())
            }
        },
    }
}

impl ServerConfig {
    /// Reads the configuration through `get` (the Worker's `env`, or a map in tests). Never fails:
    /// problems become a refusal to serve the API (tokens) or a warning and an unconfigured
    /// provider (keys, base URLs).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> ServerConfig {
        let get = |name: &str| clean(get(name));
        let mut warnings = Vec::new();

        let token = get("GPUFLEET_TOKEN");
        let readonly = get("GPUFLEET_READONLY_TOKEN");
        let mut refusal = None;
        // A malformed caller table refuses the API (fail closed, and loudly: /healthz says which
        // entry and rule) rather than locking out some callers quietly.
        let callers = match get("GPUFLEET_CALLERS") {
            None => crate::callers::CallerTable::default(),
            Some(text) => match crate::callers::CallerTable::from_json_text(&text, "GPUFLEET_CALLERS") {
                Ok(table) => table,
                Err(e) => {
                    refusal = Some(format!(
                        "{}: {}; the API refuses to run until it is fixed",
                        e.field.as_deref().unwrap_or("GPUFLEET_CALLERS"),
                        e.message
                    ));
                    crate::callers::CallerTable::default()
                }
            },
        };
        // Cloudflare Access: both variables or neither; anything unusable refuses the API, as a
        // malformed caller table does.
        let access_writers = get("CF_ACCESS_WRITERS");
        let access = match access_from_env(get("CF_ACCESS_TEAM_DOMAIN"), get("CF_ACCESS_AUD"), access_writers.as_deref()) {
            Ok(access) => access,
            Err(why) => {
                refusal.get_or_insert(format!("{why}; the API refuses to run until it is fixed"));
                None
            }
        };
        if access.is_none() && access_writers.is_some() && refusal.is_none() {
            warnings.push(
                "CF_ACCESS_WRITERS ignored: Cloudflare Access is not configured (CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD)"
                    .to_owned(),
            );
        }
        match &token {
            None if !callers.is_empty() || access.is_some() => {}
            None => {
                refusal.get_or_insert_with(|| {
                    "GPUFLEET_TOKEN is not set (nor GPUFLEET_CALLERS, nor Cloudflare Access); the API refuses to run open"
                        .to_owned()
                });
            }
            Some(t) if t.chars().count() < MIN_TOKEN_LEN => {
                refusal.get_or_insert(format!(
                    "GPUFLEET_TOKEN is shorter than {MIN_TOKEN_LEN} characters; the API refuses to run with a guessable token"
                ));
            }
            Some(t) if t.chars().any(|c| c.is_control() || c == ' ') => {
                refusal.get_or_insert("GPUFLEET_TOKEN contains spaces or control characters; the API refuses to run".to_owned());
            }
            _ => {}
        }
        let mut readonly_token = None;
        if let Some(r) = readonly {
            if Some(&r) == token.as_ref() {
                refusal.get_or_insert_with(|| "GPUFLEET_READONLY_TOKEN equals GPUFLEET_TOKEN; the API refuses to run".to_owned());
            } else if r.chars().count() < MIN_TOKEN_LEN || r.chars().any(|c| c.is_control() || c == ' ') {
                warnings.push(format!(
                    "GPUFLEET_READONLY_TOKEN ignored: it must be at least {MIN_TOKEN_LEN} characters without spaces"
                ));
            } else {
                readonly_token = Some(Secret(r));
            }
        }

        let mut allowed_origins = Vec::new();
        for entry in get("ALLOWED_ORIGINS").unwrap_or_default().split([',', ' ', '\n', '\t']).filter(|s| !s.is_empty()) {
            match canonical_origin(entry) {
                Some(o) => allowed_origins.push(o),
                None => warnings.push(format!(
                    "ALLOWED_ORIGINS entry {:?} ignored: give exact origins like https://console.example.com (no wildcards, no paths)",
                    entry.chars().take(80).collect::<String>()
                )),
            }
        }

        let own_origin = get("GPUFLEET_ORIGIN").and_then(|o| {
            let canon = canonical_origin(&o);
            if canon.is_none() {
                warnings.push(
                    "GPUFLEET_ORIGIN ignored: give the proxy's own origin, like https://fleet.example.com (no path)".to_owned(),
                );
            }
            canon
        });

        let mut providers = BTreeMap::new();
        let fal_key = get("FAL_KEY");
        let sfc_token = get("SFC_TOKEN");
        let sfc_workspace = get("SFC_WORKSPACE");
        if sfc_token.is_some() && sfc_workspace.is_none() {
            warnings.push("sfcompute not configured: SFC_TOKEN is set but SFC_WORKSPACE is not".to_owned());
        }
        let sfc_token = sfc_token.filter(|_| sfc_workspace.is_some());
        let wanted = [
            (Provider::Fal, "FAL_KEY", fal_key.clone(), "FAL_BASE_URL", None),
            (Provider::FalAlpha, "FAL_KEY", fal_key, "FAL_ALPHA_BASE_URL", None),
            (Provider::Sfcompute, "SFC_TOKEN", sfc_token, "SFC_BASE_URL", sfc_workspace),
            (Provider::Novita, "NOVITA_API_KEY", get("NOVITA_API_KEY"), "NOVITA_BASE_URL", None),
        ];
        for (p, key_var, key, url_var, workspace) in wanted {
            match provider_from_env(p, key_var, key, get(url_var), url_var, workspace) {
                Ok(Some(config)) => {
                    providers.insert(p, config);
                }
                Ok(None) => {}
                Err(w) => warnings.push(w),
            }
        }

        let mut number = |name: &str, default: u32| -> u32 {
            match get(name) {
                None => default,
                Some(v) => v.parse().unwrap_or_else(|_| {
                    warnings.push(format!("{name} ignored: not a whole number"));
                    default
                }),
            }
        };
        let rate = RateConfig {
            per_minute: number("RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_PER_MINUTE),
            burst: number("RATE_LIMIT_BURST", DEFAULT_RATE_BURST).max(1),
        };

        let prices = match get("GPUFLEET_PRICES") {
            None => crate::money::PriceTable::default(),
            Some(text) => match serde_json::from_str::<Value>(&text)
                .map_err(|e| format!("GPUFLEET_PRICES: must be JSON ({e})"))
                .and_then(|v| crate::money::PriceTable::from_json(&v, "GPUFLEET_PRICES").map_err(|e| e.message))
            {
                Ok(table) => table,
                Err(why) => {
                    warnings.push(format!("GPUFLEET_PRICES ignored (no configured prices are shown): {why}"));
                    crate::money::PriceTable::default()
                }
            },
        };

        ServerConfig {
            prices,
            price_cache: Default::default(),
            token: if refusal.is_none() { token.map(Secret) } else { None },
            readonly_token: if refusal.is_none() { readonly_token } else { None },
            callers: if refusal.is_none() { callers } else { Default::default() },
            access: if refusal.is_none() { access } else { None },
            refusal,
            allowed_origins,
            own_origin,
            providers,
            warnings,
            rate,
        }
    }

    /// The configured providers and their upstream configs.
    pub fn providers(&self) -> &BTreeMap<Provider, ProviderConfig> {
        &self.providers
    }

    /// Why the API refuses to serve, if it does.
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    /// The exact origins CORS allows (besides the proxy's own).
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// The proxy's own origin from `GPUFLEET_ORIGIN`, if set.
    pub fn own_origin(&self) -> Option<&str> {
        self.own_origin.as_deref()
    }

    /// Configuration warnings (no secrets inside).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The named callers (`GPUFLEET_CALLERS`).
    pub fn callers(&self) -> &crate::callers::CallerTable {
        &self.callers
    }

    /// The Cloudflare Access configuration, when set.
    pub fn access(&self) -> Option<&AccessConfig> {
        self.access.as_ref()
    }

    /// The rate limiter's numbers.
    pub fn rate(&self) -> RateConfig {
        self.rate
    }

    /// Every secret value the proxy holds: tokens, provider keys and the SF Compute workspace.
    /// Responses are scrubbed of them.
    pub(super) fn secrets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in [&self.token, &self.readonly_token].into_iter().flatten() {
            out.push(t.expose());
        }
        for c in self.providers.values() {
            out.push(c.api_key.as_str());
            // DESIGN.md counts the SF Compute workspace among the values never shown.
            out.extend(c.workspace.as_deref());
        }
        out.retain(|s| s.len() >= 6);
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for ok in ["https://api.fal.ai/v1", "http://127.0.0.1:9000/fal/v1", "http://localhost:1/x", "http://[::1]:8/x"] {
            assert!(acceptable_base_url(ok), "{ok}");
        }
        for bad in [
            "http://evil.example/v1",
            "ftp://x",
            "https://u:p@x/v1",
            "https://x/v1?a",
            "http://127.0.0.1.evil.com/",
            "https://",
            "http://127.evil.co.uk/v1",
            "http://127.0.0.1:80x/",
        ] {
            assert!(!acceptable_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn access_needs_both_variables_and_an_origin_for_the_team() {
        let team = || Some("https://acme.cloudflareaccess.com".to_owned());
        let aud = || Some("4714c1358e65fe4b".to_owned());
        assert_eq!(access_from_env(None, None, Some("a@b.c")), Ok(None));
        assert!(access_from_env(team(), None, None).unwrap_err().starts_with("CF_ACCESS_AUD is not set"));
        assert!(access_from_env(None, aud(), None).unwrap_err().starts_with("CF_ACCESS_TEAM_DOMAIN is not set"));
        for bad in [
            "acme.cloudflareaccess.com",
            "http://acme.cloudflareaccess.com",
            "https://acme.cloudflareaccess.com/x",
            "https://u@acme.x",
        ] {
            let e = access_from_env(Some(bad.into()), aud(), None).unwrap_err();
            assert!(e.starts_with("CF_ACCESS_TEAM_DOMAIN must be"), "{bad}: {e}");
        }
        for (ok, issuer) in [
            ("https://Acme.CloudflareAccess.com/", "https://acme.cloudflareaccess.com"),
            ("http://127.0.0.1:8790", "http://127.0.0.1:8790"),
            ("http://localhost:1", "http://localhost:1"),
        ] {
            assert_eq!(access_from_env(Some(ok.into()), aud(), None).unwrap().unwrap().issuer, issuer, "{ok}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(canonical_origin("HTTPS://Console.Example.com/").as_deref(), Some("https://console.example.com"));
        assert_eq!(canonical_origin("http://localhost:5173").as_deref(), Some("http://localhost:5173"));
        for bad in ["*", "https://*.example.com", "https://x/path", "null", "javascript://x", "https://a@b"] {
            assert_eq!(canonical_origin(bad), None, "{bad}");
        }
    }
}
