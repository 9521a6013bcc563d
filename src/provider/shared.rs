//! What every provider module shares, kept out of the public API (crate-private but for the two
//! date functions [`super`] re-exports): instance URLs, JSON decoding that names the failing path
//! (and the fast path's borrowed records), error answers, dates, small input checks.

use serde::Deserialize;
use serde_json::Value;

use super::{validate_id, Provider, ProviderConfig};
use crate::civil::{civil_from_days, days_from_civil, days_in_month};
use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::http::{percent_encode, HttpResponse};
use crate::model::Instance;

/// `base/path/{id}` with `id` validated and percent-encoded.
pub(crate) fn id_url(config: &ProviderConfig, prefix: &str, id: &str, suffix: &str) -> Result<String> {
    validate_id(id)?;
    Ok(config.url(&format!("{prefix}/{}{suffix}", percent_encode(id))))
}

/// Parses a JSON body into a [`Value`]; a syntax error or a truncation names the JSON path where
/// the body stopped making sense (e.g. `instances[3].status`), trailing bytes the body itself.
pub(crate) fn parse_json(provider: Provider, body: &[u8]) -> Result<Value> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = crate::json_path::parse_slice(de).map_err(|e| decode_error(provider, &e))?;
    de.end().map_err(|e| Error::decode(provider, "", format!("not valid JSON ({e})")))?;
    Ok(value)
}

// ----- the fast decode path ---------------------------------------------------------------------
//
// A 2xx body is first read straight into typed, borrowed wire records (no JSON tree), each
// record's `raw` kept as its span of the body. Anything that does not read that way — a body
// that is not as documented, but also one that is merely unusual (duplicate keys, a missing
// optional envelope) — returns `None`, and the provider then reads the body again the slow way,
// through a `Value` and the path-tracking reader, which either names the failure precisely or
// gives the same page. So errors cost a second read and the success path pays for none of them;
// `provider/decode_paths_tests.rs` checks the two paths agree on every fixture and on mutations of them.

/// Whether `body` is JSON text whose top level is an object (serde would read a struct from an
/// array too, which the documented shapes never are).
pub(crate) fn is_object_text(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Where `part` (text serde_json borrowed from `body`) sits in `body`.
fn span_in(body: &[u8], part: &str) -> Option<std::ops::Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= body.len()).then_some(start..end)
}

/// Reads one record of `body` (`record` borrowed from it) as the wire type `W` and normalizes it
/// with `from_wire`; its `raw` is its span of `body`. `None` when it does not read as `W`.
pub(crate) fn fast_record<'a, W: Deserialize<'a>>(
    body: &std::sync::Arc<[u8]>,
    record: &'a serde_json::value::RawValue,
    from_wire: impl FnOnce(W) -> Option<Instance>,
) -> Option<Instance> {
    let text = record.get();
    if !text.starts_with('{') {
        return None;
    }
    let wire: W = serde_json::from_str(text).ok()?;
    let instance = from_wire(wire)?;
    let span = span_in(body, text)?;
    Some(Instance { raw: crate::raw::Raw::from_span(std::sync::Arc::clone(body), span), ..instance })
}

/// Whether serde_json, skipping what a wire type does not read, would check `body` as strictly as
/// the slow path's full parse does. Skipping (a field the wire type ignores, a record held as a
/// `RawValue`) does not check four things the full parse refuses: a lone surrogate escape
/// (`"\ud800"`), a number out of `f64` range (`1e400`, or 309 digits), nesting deeper than 128,
/// and bytes that are not UTF-8 (a `RawValue` checks those, the envelope's skipped fields do not).
/// So without this check the fast path would accept bodies the slow path refuses. To keep the
/// scan simple it also says no, to be safe, to any number of more than 300 characters, any
/// exponent number of magnitude 1e300 or more and any nesting deeper than 100; a body it says no
/// to is read the slow way (the same page, or the precise error). One pass over the bytes; string
/// contents are skipped eight bytes at a time.
pub(crate) fn skips_as_strictly(body: &[u8]) -> bool {
    if std::str::from_utf8(body).is_err() {
        return false;
    }
    let hex4 = |at: usize| -> Option<u32> {
        let digits = std::str::from_utf8(body.get(at..at + 4)?).ok()?;
        u32::from_str_radix(digits, 16).ok().filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => {
                i += 1;
                loop {
                    let Some(k) = next_quote_or_backslash(&body[i..]) else { return false };
                    i += k;
                    if body[i] == b'"' {
                        i += 1;
                        break;
                    }
                    // An escape: a surrogate must be a high one followed by a low one.
                    if body.get(i + 1) != Some(&b'u') {
                        i += 2;
                        continue;
                    }
                    match hex4(i + 2) {
                        Some(0xD800..=0xDBFF)
                            if body.get(i + 6..i + 8) == Some(&b"\\u"[..]) && matches!(hex4(i + 8), Some(0xDC00..=0xDFFF)) =>
                        {
                            i += 12
                        }
                        Some(0xD800..=0xDFFF) | None => return false,
                        Some(_) => i += 6,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > 100 {
                    return false;
                }
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while matches!(body.get(i), Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')) {
                    i += 1;
                }
                let number = &body[start..i];
                if number.len() > 300 {
                    return false;
                }
                if number.iter().any(|&c| c == b'e' || c == b'E') && !exponent_number_below_1e300(number) {
                    return false;
                }
            }
            _ => i += 1,
        }
    }
    true
}

/// The index of the first `"` or `\\` in `s`, eight bytes at a time.
fn next_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_byte = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let hits = has_byte(word, b'"') | has_byte(word, b'\\');
        if hits != 0 {
            // The lowest flagged byte is a real match (a false flag only follows a real one).
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&c| c == b'"' || c == b'\\').map(|k| i + k)
}

/// Reads a typed view of a JSON value already parsed; failures name `prefix` + the inner path.
///
/// The slow path reads a body as a [`Value`] first ([`parse_json`]) and then as `T` here: every
/// typed read in the crate goes through this one deserializer, so the wasm build carries one copy
/// of each type's deserialization code instead of one per kind of input.
pub(crate) fn decode_value<'a, T: Deserialize<'a>>(provider: Provider, value: &'a Value, prefix: &str) -> Result<T> {
    crate::json_path::from_value(value).map_err(|e| {
        let path = join_path(prefix, e.path());
        Error::decode(provider, path, e.into_inner())
    })
}

fn join_path(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner == "." || inner.is_empty()) {
        (true, _) => inner.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if inner.starts_with('[') => format!("{prefix}{inner}"),
        (false, false) => format!("{prefix}.{inner}"),
    }
}

fn decode_error(provider: Provider, e: &crate::json_path::PathError) -> Error {
    let inner = e.inner();
    let why = if inner.is_eof() {
        "the body ended early (truncated JSON)".to_owned()
    } else if inner.is_syntax() {
        format!("not valid JSON ({inner})")
    } else {
        inner.to_string()
    };
    Error::decode(provider, e.path(), why)
}

/// The request id a provider put in a response header, if any.
fn request_id_header(response: &HttpResponse) -> Option<String> {
    ["x-request-id", "request-id", "x-fal-request-id", "x-amzn-requestid", "cf-ray"]
        .iter()
        .find_map(|h| response.header(h))
        .map(str::to_owned)
}

/// Whether a JSON number with an exponent (`-1.25e+299`) has a magnitude below 1e300 (or is 0):
/// by the position of its first significant digit, without parsing it as an `f64` (that parser
/// and its tables are about 16 KiB of wasm). `false` for anything not shaped like a JSON number.
fn exponent_number_below_1e300(number: &[u8]) -> bool {
    let text = number.strip_prefix(b"-").unwrap_or(number);
    let Some(e) = text.iter().position(|&c| c == b'e' || c == b'E') else { return false };
    let (mantissa, exponent) = (&text[..e], &text[e + 1..]);
    let (int, frac) = match mantissa.iter().position(|&c| c == b'.') {
        Some(dot) => (&mantissa[..dot], &mantissa[dot + 1..]),
        None => (mantissa, &[][..]),
    };
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    let (sign, exp_digits) = match exponent.split_first() {
        Some((b'-', rest)) => (-1i64, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, exponent),
    };
    if int.is_empty() || !digits(int) || !digits(frac) || exp_digits.is_empty() || !digits(exp_digits) {
        return false;
    }
    // The exponent, saturating far beyond any f64 (the caller already refuses > 300 characters).
    let exp = exp_digits.iter().fold(0i64, |n, &d| (n * 10 + i64::from(d - b'0')).min(1_000_000)) * sign;
    // The power of ten of the first significant digit.
    let lead = match int.iter().position(|&d| d != b'0') {
        Some(at) => (int.len() - at) as i64 - 1,
        None => match frac.iter().position(|&d| d != b'0') {
            Some(at) => -(at as i64) - 1,
            None => return true, // zero
        },
    };
    lead + exp < 300
}

/// Seconds given as a decimal (`1.5`), in ms (the digits past the third decimal dropped).
fn decimal_seconds_ms(text: &str) -> Option<u64> {
    let (int, frac) = text.split_once('.')?;
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    Some(int.parse::<u64>().unwrap_or(u64::MAX).saturating_mul(1000).saturating_add(ms.parse::<u64>().ok()?))
}

/// `Retry-After` in milliseconds: delta-seconds, or an HTTP date measured against the response's
/// own `Date` header (or `now_ms` when given). Capped at 60 s.
pub(crate) fn retry_after_ms(response: &HttpResponse, now_ms: Option<u64>) -> Option<u64> {
    let value = response.header("retry-after")?.trim();
    let ms = if let Ok(secs) = value.parse::<u64>() {
        secs.saturating_mul(1000)
    } else if let Some(ms) = decimal_seconds_ms(value) {
        ms
    } else {
        let at = parse_http_date(value)?;
        let now = response.header("date").and_then(parse_http_date).or(now_ms)?;
        at.saturating_sub(now)
    };
    Some(ms.min(RETRY_AFTER_CAP_MS))
}

/// The longest `Retry-After` honoured.
pub(crate) const RETRY_AFTER_CAP_MS: u64 = 60_000;

/// Builds the error for a non-2xx response from what the provider's error body said.
pub(crate) struct ErrorParts {
    /// Provider's error type.
    pub provider_type: Option<String>,
    /// Provider's message.
    pub message: Option<String>,
    /// Request id from the body.
    pub request_id: Option<String>,
    /// Docs URL from the body.
    pub docs_url: Option<String>,
    /// Field-level details.
    pub details: Vec<ErrorDetail>,
}

impl ErrorParts {
    /// Nothing known yet.
    pub(crate) fn empty() -> ErrorParts {
        ErrorParts { provider_type: None, message: None, request_id: None, docs_url: None, details: Vec::new() }
    }
}

/// The [`Error`] for a non-2xx `response` given what its body said (`parts`).
pub(crate) fn http_error(provider: Provider, response: &HttpResponse, parts: ErrorParts) -> Error {
    let status = response.status;
    let code = ErrorCode::from_status(status);
    let message =
        parts.message.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| format!("HTTP {status} with no error message"));
    let mut e = Error::new(code, format!("{} answered HTTP {status}: {}", provider.display_name(), message))
        .with_provider(provider)
        .with_status(status);
    e.provider_type = parts.provider_type;
    e.request_id = parts.request_id.or_else(|| request_id_header(response));
    e.docs_url = parts.docs_url;
    e.details = parts.details;
    e.retry_after_ms = retry_after_ms(response, None);
    e
}

/// Reads the error parts of a body whose shape is not documented, trying the common shapes in
/// turn: `{error:{message,type|code}}`, `{message, code|reason}`, `{detail}`, `{error:"…"}`,
/// then the raw text (first 300 characters).
pub(crate) fn loose_error_parts(body: &[u8]) -> ErrorParts {
    let mut parts = ErrorParts::empty();
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let text = |v: Option<&Value>| -> Option<String> {
            match v? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        if let Some(err) = v.get("error").filter(|e| e.is_object()) {
            parts.message = text(err.get("message"));
            parts.provider_type = text(err.get("type")).or_else(|| text(err.get("code")));
            parts.request_id = text(err.get("request_id"));
        } else if let Some(Value::String(s)) = v.get("error") {
            parts.message = Some(s.clone());
        }
        if parts.message.is_none() {
            parts.message = text(v.get("message")).or_else(|| match v.get("detail") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(other @ (Value::Array(_) | Value::Object(_))) => Some(truncate(&other.to_string(), 300)),
                _ => None,
            });
        }
        if parts.provider_type.is_none() {
            parts.provider_type = text(v.get("reason")).or_else(|| text(v.get("code")));
        }
        if parts.request_id.is_none() {
            parts.request_id = text(v.get("request_id")).or_else(|| text(v.get("requestId")));
        }
        if parts.message.is_some() {
            return parts;
        }
    }
    let raw = String::from_utf8_lossy(body);
    let raw = raw.trim();
    if !raw.is_empty() {
        parts.message = Some(truncate(raw, 300));
    }
    parts
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Formats Unix seconds as ISO 8601 UTC (`2025-02-08T00:00:00Z`).
pub fn unix_seconds_to_iso(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z");
    }
    // The same text without the formatting machinery (one per record of a list; "Decode speed").
    let digits = |n: i64, width: usize, out: &mut String| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + ((n / 10_i64.pow(place as u32)) % 10) as u8));
        }
    };
    let mut out = String::with_capacity(20);
    digits(y, 4, &mut out);
    out.push('-');
    digits(i64::from(m), 2, &mut out);
    out.push('-');
    digits(i64::from(d), 2, &mut out);
    out.push('T');
    digits(h, 2, &mut out);
    out.push(':');
    digits(min, 2, &mut out);
    out.push(':');
    digits(s, 2, &mut out);
    out.push('Z');
    out
}

/// Parses an HTTP date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept
/// into Unix milliseconds:
///
/// - IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT` (what servers must send);
/// - obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` (a two-digit year: 70–99 → 19xx,
///   00–69 → 20xx, as the `httpdate` crate reads it; the tests check this parser against it);
/// - ANSI C asctime `Sun Nov  6 08:49:37 1994`.
///
/// The weekday is not checked against the date (senders get it wrong; the date is what counts).
/// Dates before 1970 are `None`.
pub fn parse_http_date(s: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month_of = |m: &str| MONTHS.iter().position(|x| *x == m).map(|i| i as u32 + 1);
    let number = |t: &str, digits: std::ops::RangeInclusive<usize>| -> Option<u32> {
        (digits.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten()
    };
    let parts: Vec<&str> = s.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
        [weekday, day, month, year, time, "GMT"] if weekday.ends_with(',') => {
            (number(day, 2..=2)?, month_of(month)?, i64::from(number(year, 4..=4)?), *time)
        }
        // RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
        [weekday, date, time, "GMT"] if weekday.ends_with(',') => {
            let mut d = date.split('-');
            let (day, month, yy) = (d.next()?, d.next()?, d.next()?);
            if d.next().is_some() {
                return None;
            }
            let yy = i64::from(number(yy, 2..=2)?);
            (number(day, 2..=2)?, month_of(month)?, if yy < 70 { 2000 + yy } else { 1900 + yy }, *time)
        }
        // asctime: `Sun Nov  6 08:49:37 1994` (the day is space-padded, so it splits cleanly)
        [weekday, month, day, time, year] if !weekday.ends_with(',') => {
            (number(day, 1..=2)?, month_of(month)?, i64::from(number(year, 4..=4)?), *time)
        }
        _ => return None,
    };
    let hms: Vec<u64> = time.split(':').map(|p| number(p, 2..=2).map(u64::from)).collect::<Option<_>>()?;
    if hms.len() != 3 || hms[0] > 23 || hms[1] > 59 || hms[2] > 60 || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if days < 0 {
        return None;
    }
    Some(((days as u64) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) * 1000)
}

/// A string field that some providers send as a number (Novita `cpuNum`, `gpuNum`): the number
/// it holds, if it holds one.
pub(crate) fn lenient_u32(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What kind of JSON value `v` is, for decode messages ("an array", "null", …).
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `path.key`, or `key` at the top level (for decode error paths).
pub(crate) fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON string field, if it is a non-empty string.
pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Checks a text input's length in characters.
pub(crate) fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min || n > max {
        let rule = if min == 0 {
            format!("must be at most {max} characters (got {n})")
        } else if min == max {
            format!("must be exactly {max} characters (got {n})")
        } else {
            format!("must be {min}–{max} characters (got {n})")
        };
        return Err(Error::invalid_input(field, rule));
    }
    Ok(())
}

/// Checks that `value` is one of `allowed`.
pub(crate) fn check_enum(field: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_input(field, format!("must be one of {} (got {value:?})", allowed.join(", "))))
    }
}

/// Checks an integer range.
pub(crate) fn check_range(field: &str, value: i64, min: i64, max: i64) -> Result<()> {
    if value < min || value > max {
        Err(Error::invalid_input(field, format!("must be between {min} and {max} (got {value})")))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_match_the_formatted_text() {
        let slow = |secs: i64| {
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let rem = secs.rem_euclid(86_400);
            format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
        };
        for secs in [
            i64::MIN / 1000,
            -62_167_219_201,
            -62_167_219_200,
            -1,
            0,
            59,
            86_399,
            951_782_400,
            1_777_592_114,
            253_402_300_799,
            253_402_300_800,
            i64::MAX / 1000,
        ]
        .into_iter()
        .chain((0..2000).map(|i| i * 7_919_993 - 1_000_000_000))
        {
            assert_eq!(unix_seconds_to_iso(secs), slow(secs), "{secs}");
        }
    }

    #[test]
    fn what_skipping_would_not_check_is_found() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let long = format!("{{\"a\":{}}}", "9".repeat(301));
        for ok in [r#"{"a":[1,-2.5,3e5,1.5e-400,"\u00e9\ud83d\ude00\\ud800 é",true,null],"b":{}}"#, "  {} \n", &deep(100)] {
            assert!(skips_as_strictly(ok.as_bytes()), "{ok}");
        }
        for bad in [
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\ud800x"}"#,
            r#"{"\udbff":1}"#,
            r#"{"a":1e400}"#,
            r#"{"a":-1E+300}"#,
            &long,
            &deep(101),
            r#"{"a":"unterminated"#,
        ] {
            assert!(!skips_as_strictly(bad.as_bytes()), "{bad}");
        }
        assert!(!skips_as_strictly(b"{\"a\":\"\xff\"}"), "not UTF-8");
        // The magnitude of an exponent number, against `f64` parsing (the oracle).
        for n in [
            "1e299",
            "9.99e299",
            "1e300",
            "10e299",
            "0.1e300",
            "0.01e301",
            "-1E+300",
            "-9.9E299",
            "1e400",
            "1.5e-400",
            "0e9999",
            "0.000e400",
            "123.456e297",
            "123.456e298",
            "0.00012e303",
            "0.00012e304",
            "5e-5",
            "1e0",
            "100e-2",
            "0.0e0",
            "1e99999999999999999999",
            "1e-99999999999999999999",
        ] {
            let expected = n.parse::<f64>().unwrap().abs() < 1e300;
            assert_eq!(exponent_number_below_1e300(n.as_bytes()), expected, "{n}");
        }
        for malformed in ["1e", "e5", "-e5", "1.e", "1e+", "1e-+5", "1ee5", "1.2.3e4", "--1e2", ".5e3"] {
            assert!(!exponent_number_below_1e300(malformed.as_bytes()), "{malformed}");
        }
        // The eight-byte search finds the first quote or backslash at every offset, past
        // multi-byte characters whose bytes differ from them only in the high bit.
        for n in 0..20 {
            let mut s = "é".repeat(n / 2).into_bytes();
            s.extend(std::iter::repeat(b'x').take(n % 2));
            let at = s.len();
            s.extend(b"\"\\\"\xa2\xdc");
            assert_eq!(next_quote_or_backslash(&s), Some(at));
            s[at] = b'\\';
            assert_eq!(next_quote_or_backslash(&s), Some(at));
        }
        assert_eq!(next_quote_or_backslash("abcdefghijké\u{a2}".as_bytes()), None);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(unix_seconds_to_iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_seconds_to_iso(1_738_972_800), "2025-02-08T00:00:00Z");
        assert_eq!(unix_seconds_to_iso(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(unix_seconds_to_iso(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn http_dates() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("06 Nov 1994"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        // The obsolete forms RFC 9110 says recipients must accept.
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(784_111_777_000));
        assert_eq!(parse_http_date("Thursday, 04-Dec-26 10:00:00 GMT"), parse_http_date("Thu, 04 Dec 2026 10:00:00 GMT"));
        assert_eq!(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"), None);
    }

    #[test]
    fn retry_after_forms() {
        let r = |v: &str| HttpResponse::new(429, "").with_header("Retry-After", v);
        assert_eq!(retry_after_ms(&r("3"), None), Some(3000));
        assert_eq!(retry_after_ms(&r("1.5"), None), Some(1500));
        assert_eq!(retry_after_ms(&r("3600"), None), Some(60_000), "capped at 60 s");
        let dated = r("Sun, 06 Nov 1994 08:49:47 GMT").with_header("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(retry_after_ms(&dated, None), Some(10_000));
        assert_eq!(retry_after_ms(&r("Sun, 06 Nov 1994 08:49:47 GMT"), Some(784_111_777_000)), Some(10_000));
        assert_eq!(retry_after_ms(&r("Sun, 06 Nov 1994 08:49:47 GMT"), None), None);
        for obsolete in ["Sunday, 06-Nov-94 08:49:47 GMT", "Sun Nov  6 08:49:47 1994"] {
            assert_eq!(retry_after_ms(&r(obsolete), Some(784_111_777_000)), Some(10_000), "{obsolete}");
        }
        assert_eq!(retry_after_ms(&r("soon"), None), None);
        assert_eq!(retry_after_ms(&r("-5"), None), None);
        assert_eq!(retry_after_ms(&r("0.25"), None), Some(250));
        assert_eq!(retry_after_ms(&r("2.0009"), None), Some(2000), "past the ms, dropped");
        assert_eq!(retry_after_ms(&r("7."), None), Some(7000));
        for bad in ["-1.5", ".5", "1.5s", "1.-5", "1e3", "NaN", "inf"] {
            assert_eq!(retry_after_ms(&r(bad), None), None, "{bad}");
        }
    }

    #[test]
    fn loose_error_shapes() {
        let m = |b: &str| loose_error_parts(b.as_bytes()).message;
        assert_eq!(m(r#"{"error":{"message":"a","code":"X"}}"#).as_deref(), Some("a"));
        assert_eq!(m(r#"{"message":"b","reason":"R"}"#).as_deref(), Some("b"));
        assert_eq!(m(r#"{"detail":"c"}"#).as_deref(), Some("c"));
        assert_eq!(m(r#"{"error":"d"}"#).as_deref(), Some("d"));
        assert_eq!(m("plain text").as_deref(), Some("plain text"));
        assert_eq!(m(""), None);
        assert_eq!(loose_error_parts(br#"{"code":400,"reason":"BAD","message":"x"}"#).provider_type.as_deref(), Some("BAD"));
    }

    #[test]
    fn decode_paths() {
        #[derive(Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            items: Vec<u32>,
        }
        let read = |body: &[u8]| -> Result<()> {
            let value = parse_json(Provider::Fal, body)?;
            decode_value::<T>(Provider::Fal, &value, "").map(drop)
        };
        let e = read(br#"{"items":[1,"x"]}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::Decode);
        assert_eq!(e.field.as_deref(), Some("items[1]"));
        let e = read(br#"{"items":[1,"#).unwrap_err();
        assert!(e.message.contains("truncated"), "{}", e.message);
    }
}
