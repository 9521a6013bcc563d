//! Money arithmetic: amounts in whole micro-dollars (1/1,000,000 USD, `i64`), so sums over any
//! fleet are exact; decimal text read without floats; the user's price table; ISO 8601 times as
//! Unix seconds (for running time × price).
//!
//! Every provider unit is converted here or in one named constant of its provider module
//! (Novita's price and balance units, SF Compute cents): nowhere else multiplies money.

use std::collections::BTreeMap;

use crate::civil::{days_from_civil, days_in_month};
use crate::error::{Error, Result};
use crate::provider_id::Provider;

/// Micro-dollars in one US dollar.
pub const MICRO_PER_USD: i64 = 1_000_000;

/// The largest hourly price accepted anywhere (configured or read): $1,000,000 per hour. Far
/// above any GPU machine; beyond it a value is a unit mistake, not a price.
pub const MAX_MICRO_PER_HOUR: i64 = 1_000_000 * MICRO_PER_USD;

/// Reads decimal text (`"12"`, `"0.35"`, `"-4.5"`, `"1e-3"` is refused) as micro-dollars.
///
/// `exact`: more than 6 decimal places is an error (a configured price must mean what it says);
/// otherwise the value is rounded half away from zero to the micro-dollar (a provider's
/// balance such as `1234.5600000001`). The error is the rule broken, for a `field` message.
pub fn decimal_to_micro(text: &str, exact: bool) -> std::result::Result<i64, &'static str> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err("must be a decimal number");
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal number (digits, one optional '.', no exponent)");
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 12 {
        return Err("is too large");
    }
    let mut micro: i64 = if whole.is_empty() { 0 } else { whole.parse::<i64>().map_err(|_| "is too large")? * MICRO_PER_USD };
    let (kept, rest) = frac.split_at(frac.len().min(6));
    let mut scale = 100_000;
    for b in kept.bytes() {
        micro += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    if rest.bytes().any(|b| b != b'0') {
        if exact {
            return Err("must have at most 6 decimal places");
        }
        if rest.as_bytes()[0] >= b'5' {
            micro += 1;
        }
    }
    Ok(if negative { -micro } else { micro })
}

/// A JSON number or numeric text as micro-dollars (rounded to the micro-dollar), or why not.
/// JSON numbers are read through their shortest decimal form, so `0.1` is exactly 100,000.
pub fn json_to_micro(value: &serde_json::Value) -> std::result::Result<i64, &'static str> {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return i.checked_mul(MICRO_PER_USD).ok_or("is too large");
            }
            let f = n.as_f64().ok_or("is not a finite number")?;
            if !f.is_finite() {
                return Err("is not a finite number");
            }
            // Rust's `Display` for f64 is the shortest text that reads back to it, never an exponent.
            decimal_to_micro(&format!("{f}"), false)
        }
        serde_json::Value::String(s) => decimal_to_micro(s, false),
        _ => Err("must be a number or numeric text"),
    }
}

/// An integer count of `units_per_usd`-ths of a dollar (Novita's 1/10,000 and 1/100,000, cents)
/// as micro-dollars, exactly when the unit divides a dollar into at most 1,000,000 parts.
pub fn units_to_micro(count: i64, units_per_usd: i64) -> Option<i64> {
    if units_per_usd <= 0 || MICRO_PER_USD % units_per_usd != 0 {
        return None;
    }
    count.checked_mul(MICRO_PER_USD / units_per_usd)
}

/// An integer in a JSON number or numeric text (Novita sends amounts as `"1000000"`), or why not.
pub fn json_integer(value: &serde_json::Value) -> std::result::Result<i64, &'static str> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().ok_or("must be a whole number"),
        serde_json::Value::String(s) => s.trim().parse::<i64>().map_err(|_| "must be a whole number"),
        _ => Err("must be a whole number or its text"),
    }
}

/// What `micro_per_hour` costs over `seconds`, in micro-dollars, rounded half up. Exact integer
/// arithmetic (i128 inside), so a fleet's total is the sum of its rows to the micro-dollar.
pub fn cost_of(micro_per_hour: i64, seconds: u64) -> i64 {
    let product = i128::from(micro_per_hour) * i128::from(seconds);
    let rounded = (product + 1800) / 3600;
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// Micro-dollars as a JS-friendly float of dollars (for display and sorting; sums are made on
/// the integers).
pub fn micro_to_usd(micro: i64) -> f64 {
    micro as f64 / MICRO_PER_USD as f64
}

/// Hourly prices the user sets, by provider and instance type (fal publishes no compute price
/// API): `{"fal": {"gpu_1x_h100_sxm5": 1.99}}`, dollars per hour of one instance of that type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceTable(pub BTreeMap<Provider, BTreeMap<String, i64>>);

impl PriceTable {
    /// Reads a table from JSON: an object of provider ids (`fal`, `fal-alpha`, `sfcompute`,
    /// `novita`), each an object of instance type → dollars per hour (a number or decimal
    /// text, 0 to 1,000,000, at most 6 decimal places). `field` names the table in errors
    /// (`prices`, `GPUFLEET_PRICES`).
    pub fn from_json(value: &serde_json::Value, field: &str) -> Result<PriceTable> {
        let Some(providers) = value.as_object() else {
            return Err(Error::invalid_input(field, "must be an object of provider → { instance type → USD per hour }"));
        };
        let mut table = BTreeMap::new();
        for (name, types) in providers {
            let at = format!("{field}.{name}");
            let provider = Provider::parse(name)
                .ok_or_else(|| Error::invalid_input(&at, "is not a provider (fal, fal-alpha, sfcompute, novita)"))?;
            let Some(types) = types.as_object() else {
                return Err(Error::invalid_input(&at, "must be an object of instance type → USD per hour"));
            };
            let mut prices = BTreeMap::new();
            for (kind, price) in types {
                let at = format!("{at}.{kind}");
                if kind.trim().is_empty() || kind.len() > 255 {
                    return Err(Error::invalid_input(&at, "the instance type must be 1-255 characters"));
                }
                let micro = match price {
                    serde_json::Value::String(s) => decimal_to_micro(s, true),
                    serde_json::Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => {
                        decimal_to_micro(&format!("{}", n.as_f64().unwrap_or_default()), true)
                    }
                    _ => Err("must be a number or decimal text (USD per hour)"),
                }
                .map_err(|rule| Error::invalid_input(&at, rule))?;
                if micro < 0 {
                    return Err(Error::invalid_input(&at, "must not be negative"));
                }
                if micro > MAX_MICRO_PER_HOUR {
                    return Err(Error::invalid_input(&at, "must be at most 1000000 (USD per hour)"));
                }
                prices.insert(kind.clone(), micro);
            }
            table.insert(provider, prices);
        }
        Ok(PriceTable(table))
    }

    /// The configured price of `instance_type` on `provider`, micro-dollars per hour.
    pub fn get(&self, provider: Provider, instance_type: &str) -> Option<i64> {
        self.0.get(&provider)?.get(instance_type).copied()
    }

    /// Whether nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }
}

/// An ISO 8601 / RFC 3339 time (`2025-02-08T00:00:00Z`, fractions and `±hh:mm` offsets allowed,
/// or a date alone) as Unix seconds (a fraction rounds down). `None` for anything else.
pub fn iso_to_unix_seconds(text: &str) -> Option<i64> {
    iso_to_unix_ms(text).map(|ms| ms.div_euclid(1000))
}

/// The same as [`iso_to_unix_seconds`], in ms: a fraction's first three digits count.
pub fn iso_to_unix_ms(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&b[..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (m, d) = (u32::try_from(m).ok().filter(|m| (1..=12).contains(m))?, u32::try_from(d).ok()?);
    if d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if b.len() == 10 {
        return Some(secs * 1000);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, min, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if h > 23 || min > 59 || s > 60 {
        return None;
    }
    secs += h * 3600 + min * 60 + s;
    let mut rest = &b[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        millis = frac[..n].iter().chain(b"00").take(3).fold(0, |acc, c| acc * 10 + i64::from(c - b'0'));
        rest = &frac[n..];
    }
    let ms = |secs: i64| secs * 1000 + millis;
    match rest {
        [] | [b'Z'] | [b'z'] => Some(ms(secs)),
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] => {
            let (oh, om) = (num(&[*hh1, *hh2])?, num(&[*mm1, *mm2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = oh * 3600 + om * 60;
            Some(ms(if *sign == b'+' { secs - offset } else { secs + offset }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(decimal_to_micro("12", true), Ok(12_000_000));
        assert_eq!(decimal_to_micro("0.35", true), Ok(350_000));
        assert_eq!(decimal_to_micro(".5", true), Ok(500_000));
        assert_eq!(decimal_to_micro("-4.000001", true), Ok(-4_000_001));
        assert_eq!(decimal_to_micro("1.0000000", true), Ok(1_000_000));
        assert_eq!(decimal_to_micro("1.0000001", true), Err("must have at most 6 decimal places"));
        assert_eq!(decimal_to_micro("1.0000005", false), Ok(1_000_001));
        assert_eq!(decimal_to_micro("1.0000004999", false), Ok(1_000_000));
        assert!(decimal_to_micro("1e3", true).is_err());
        assert!(decimal_to_micro("", true).is_err());
        assert!(decimal_to_micro(".", true).is_err());
        assert!(decimal_to_micro("1.2.3", true).is_err());
        assert!(decimal_to_micro("9999999999999", true).is_err());
        assert_eq!(json_to_micro(&serde_json::json!(0.1)), Ok(100_000));
        assert_eq!(json_to_micro(&serde_json::json!(1234.56)), Ok(1_234_560_000));
        assert_eq!(json_to_micro(&serde_json::json!("7")), Ok(7_000_000));
        assert!(json_to_micro(&serde_json::json!(null)).is_err());
    }

    #[test]
    fn units_and_cost() {
        assert_eq!(units_to_micro(10_000, 10_000), Some(1_000_000));
        assert_eq!(units_to_micro(240_000, 100_000), Some(2_400_000));
        assert_eq!(units_to_micro(199, 100), Some(1_990_000));
        assert_eq!(units_to_micro(1, 3), None);
        assert_eq!(cost_of(3_600_000, 1), 1000);
        assert_eq!(cost_of(2_400_000, 3600), 2_400_000);
        assert_eq!(cost_of(1, 1799), 0);
        assert_eq!(cost_of(1, 1800), 1);
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_to_unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_to_unix_seconds("2025-02-08T00:00:00Z"), Some(1_738_972_800));
        assert_eq!(iso_to_unix_seconds("2025-02-08T01:00:00.123+01:00"), Some(1_738_972_800));
        assert_eq!(iso_to_unix_seconds("2025-02-08"), Some(1_738_972_800));
        assert_eq!(iso_to_unix_seconds("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(iso_to_unix_seconds("2023-02-29T12:00:00Z"), None);
        assert_eq!(iso_to_unix_seconds("2025-13-01T00:00:00Z"), None);
        assert_eq!(iso_to_unix_seconds("yesterday"), None);
        assert_eq!(iso_to_unix_seconds("2025-02-08T00:00:00+0100"), None);
        assert_eq!(iso_to_unix_seconds("1969-12-31T23:59:59.5Z"), Some(-1), "a fraction rounds down");
    }

    #[test]
    fn iso_times_in_ms() {
        assert_eq!(iso_to_unix_ms("2025-02-08T00:00:00Z"), Some(1_738_972_800_000));
        assert_eq!(iso_to_unix_ms("2025-02-08T00:00:00.5Z"), Some(1_738_972_800_500));
        assert_eq!(iso_to_unix_ms("2025-02-08T00:00:00.05Z"), Some(1_738_972_800_050));
        assert_eq!(iso_to_unix_ms("2025-02-08T01:00:00.123+01:00"), Some(1_738_972_800_123));
        assert_eq!(iso_to_unix_ms("2025-02-08T00:00:00.123456789Z"), Some(1_738_972_800_123), "past ms, dropped");
        assert_eq!(iso_to_unix_ms("2025-02-08"), Some(1_738_972_800_000));
        assert_eq!(iso_to_unix_ms("2025-02-08T00:00:00.Z"), None);
    }

    #[test]
    fn price_tables() {
        let t =
            PriceTable::from_json(&serde_json::json!({"fal": {"gpu_1x_h100_sxm5": 1.99, "b": "0.000001"}}), "prices").unwrap();
        assert_eq!(t.get(Provider::Fal, "gpu_1x_h100_sxm5"), Some(1_990_000));
        assert_eq!(t.get(Provider::Fal, "b"), Some(1));
        let err = |v| PriceTable::from_json(&v, "prices").unwrap_err();
        assert_eq!(err(serde_json::json!({"aws": {}})).field.as_deref(), Some("prices.aws"));
        let e = err(serde_json::json!({"fal": {"x": -1}}));
        assert_eq!((e.field.as_deref(), e.message.as_str()), (Some("prices.fal.x"), "prices.fal.x: must not be negative"));
        assert_eq!(err(serde_json::json!({"fal": {"x": "1.2345678"}})).field.as_deref(), Some("prices.fal.x"));
        assert_eq!(err(serde_json::json!({"fal": {"x": true}})).field.as_deref(), Some("prices.fal.x"));
        assert_eq!(err(serde_json::json!({"fal": {"x": 2000000}})).field.as_deref(), Some("prices.fal.x"));
        assert_eq!(err(serde_json::json!([1])).field.as_deref(), Some("prices"));
    }
}
