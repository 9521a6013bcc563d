//! The in-isolate per-caller rate limit: a token bucket per caller, keyed by the caller's token
//! hash when the token is valid, else by the connecting IP.

use std::collections::HashMap;

use crate::proxy::auth::{hex, sha256, Caller};

/// The per-caller token bucket's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// Sustained requests per minute per caller; 0 turns the limiter off.
    pub per_minute: u32,
    /// Bucket size: how many requests a caller may send at once.
    pub burst: u32,
}

/// The in-isolate per-caller token bucket. The clock is passed in (milliseconds), so tests drive it.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    buckets: HashMap<String, (f64, u64)>,
    max_keys: usize,
}

impl Default for RateLimiter {
    fn default() -> RateLimiter {
        RateLimiter::new()
    }
}

impl RateLimiter {
    /// An empty limiter that keeps at most 10,000 callers.
    pub fn new() -> RateLimiter {
        RateLimiter { buckets: HashMap::new(), max_keys: 10_000 }
    }

    /// Takes one request from `key`'s bucket: `Ok` when allowed, else how long until one more
    /// request is allowed (ms).
    pub fn check(&mut self, key: &str, rate: RateConfig, now_ms: u64) -> Result<(), u64> {
        if rate.per_minute == 0 {
            return Ok(());
        }
        let burst = f64::from(rate.burst.max(1));
        let per_ms = f64::from(rate.per_minute) / 60_000.0;
        if self.buckets.len() >= self.max_keys && !self.buckets.contains_key(key) {
            // Forget callers whose bucket has refilled (they are no different from new ones).
            let full_after = (burst / per_ms) as u64;
            self.buckets.retain(|_, (_, last)| now_ms.saturating_sub(*last) < full_after);
            if self.buckets.len() >= self.max_keys {
                self.buckets.clear();
            }
        }
        let (tokens, last) = self.buckets.entry(key.to_owned()).or_insert((burst, now_ms));
        let elapsed = now_ms.saturating_sub(*last) as f64;
        *tokens = (*tokens + elapsed * per_ms).min(burst);
        *last = now_ms.max(*last);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_ms).ceil() as u64)
        }
    }
}

/// The key the limiter counts a caller under: `token:<sha-256 prefix>` for a valid token,
/// `access:<name>` for an Access identity, else `ip:<CF-Connecting-IP>` (or
/// `ip:unknown`), kept to the characters of an address.
pub(super) fn rate_key(caller: &Caller, presented: Option<&str>, connecting_ip: Option<&str>) -> String {
    match (caller, presented) {
        (Caller::Full | Caller::ReadOnly | Caller::Named { .. }, Some(t)) => {
            format!("token:{}", hex(&sha256(t.as_bytes())[..12]))
        }
        // An Access identity is no secret (it is on every log line): counted by name.
        (Caller::Access { name, .. }, _) => format!("access:{name}"),
        _ => {
            let ip = connecting_ip.map(str::trim).filter(|s| !s.is_empty());
            let ip: String =
                ip.unwrap_or("unknown").chars().filter(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':')).take(45).collect();
            format!("ip:{ip}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_refills() {
        let rate = RateConfig { per_minute: 60, burst: 2 };
        let mut l = RateLimiter::new();
        assert!(l.check("a", rate, 0).is_ok());
        assert!(l.check("a", rate, 0).is_ok());
        assert_eq!(l.check("a", rate, 0), Err(1000));
        assert!(l.check("b", rate, 0).is_ok(), "callers are independent");
        assert_eq!(l.check("a", rate, 500), Err(500));
        assert!(l.check("a", rate, 1000).is_ok());
        assert!(l.check("a", RateConfig { per_minute: 0, burst: 1 }, 1000).is_ok(), "0 turns it off");
    }
}
