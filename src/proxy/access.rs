//! Cloudflare Access identities as callers.
//!
//! With `CF_ACCESS_TEAM_DOMAIN` and `CF_ACCESS_AUD` set, a request without a bearer token that
//! carries Access's signed assertion (`Cf-Access-Jwt-Assertion`, added by Cloudflare's edge to
//! every request that passed an Access policy) is a caller named by the assertion: its `email`,
//! or `service:<common_name>` for a service token. Access decides who gets in; the proxy decides
//! what they may do: read-only unless listed in `CF_ACCESS_WRITERS`.
//!
//! The assertion itself — its RS256 signature against the team's keys at
//! `<team domain>/cdn-cgi/access/certs`, its issuer, audience and times, the identity it names —
//! is checked by the Worker's JS (`pkg-template/access.js`) with WebCrypto: no RSA, base64 or
//! JWT code in the Worker's wasm, whose deploy bundle has a size budget, and the keys are cached
//! in the isolate. Here: the configuration, and what a checked identity may do.

use crate::model::Access;

/// The request header Cloudflare Access puts its signed assertion in.
pub const ASSERTION_HEADER: &str = "cf-access-jwt-assertion";

/// The Access configuration: whose assertions count and who among them may change things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// The team domain as Access writes it in `iss` (`https://<team>.cloudflareaccess.com`).
    /// (The Worker's JS reads `CF_ACCESS_TEAM_DOMAIN` and `CF_ACCESS_AUD` itself for its check;
    /// the API serves only when this configuration is valid.)
    pub issuer: String,
    /// `CF_ACCESS_WRITERS`, lowercased, as `,<name>,<name>,` (a lookup is one `contains`): the
    /// emails and `service:<common_name>`s that may mutate.
    writers: String,
}

/// What the Worker's check of an assertion (`access.js`) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessCheck {
    /// The assertion holds: the caller name it gives (an email, lowercased, or
    /// `service:<common_name>`).
    Verified(String),
    /// It does not: the HTTP status (401, or 502 when the team's keys cannot be read) and why,
    /// quoting nothing of the assertion.
    Refused(u16, String),
    /// Not a request from outside: the Worker's own `FleetLive` Durable Object walking the fleet
    /// for the shared live view (`worker.js`), known by this name, read-only, not rate-limited.
    Internal(String),
}

impl AccessConfig {
    /// Access for the team at `issuer` (checked by the caller: an origin), with the writers listed
    /// in `writers` (emails and `service:<common_name>`s, separated by commas or spaces; compared
    /// case-insensitively).
    pub fn new(issuer: String, writers: Option<&str>) -> AccessConfig {
        let writers = format!(",{},", writers.unwrap_or("").to_ascii_lowercase().replace(' ', ","));
        AccessConfig { issuer, writers }
    }

    /// How many identities `CF_ACCESS_WRITERS` lists.
    pub fn writers(&self) -> usize {
        self.writers.split(',').filter(|w| !w.is_empty()).count()
    }

    /// What the caller `name` (from a checked assertion) may do: `readWrite` only when
    /// `CF_ACCESS_WRITERS` lists it.
    pub fn access_of(&self, name: &str) -> Access {
        if !name.is_empty() && !name.contains(',') && self.writers.contains(&format!(",{},", name.to_ascii_lowercase())) {
            Access::ReadWrite
        } else {
            Access::ReadOnly
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_unless_a_listed_writer() {
        let c = AccessConfig::new("https://acme.cloudflareaccess.com".into(), Some("Ops@Example.com, service:ci.access  ,"));
        assert_eq!(c.writers(), 2);
        assert_eq!(c.access_of("ops@example.com"), Access::ReadWrite);
        assert_eq!(c.access_of("service:ci.access"), Access::ReadWrite);
        assert_eq!(c.access_of("alice@example.com"), Access::ReadOnly);
        assert_eq!(c.access_of("service:other.access"), Access::ReadOnly);
        for not_one in ["", "ops@example.com,service:ci.access", "example.com", "ops@example.co"] {
            assert_eq!(c.access_of(not_one), Access::ReadOnly, "{not_one:?}");
        }
        let none = AccessConfig::new("https://acme.cloudflareaccess.com".into(), None);
        assert_eq!((none.writers(), none.access_of("ops@example.com")), (0, Access::ReadOnly));
    }
}
