//! What an answer never carries: the proxy's secrets (tokens, provider keys, the SF Compute
//! workspace), scrubbed from every body even if an upstream echoed one back; and, in the
//! proxy's own error messages, any value the caller sent (a quoted value equal to a secret would
//! come back as `[redacted]` and so confirm a guess).

use serde_json::Value;

use crate::error::Error;
use crate::proxy::api::percent_decode;

/// `body` with every secret, and its JSON-escaped spelling, replaced by `[redacted]`, in one
/// pass over the body, not one pass each (a 1,000-instance answer is about a megabyte); `None`
/// when none occurs.
pub(super) fn redact_secrets(body: &[u8], secrets: &[&str]) -> Option<Vec<u8>> {
    let mut needles: Vec<String> = Vec::new();
    for secret in secrets {
        needles.push((*secret).to_owned());
        if let Ok(escaped) = serde_json::to_string(secret) {
            let escaped = escaped.trim_matches('"');
            if escaped != *secret {
                needles.push(escaped.to_owned());
            }
        }
    }
    let needles: Vec<&[u8]> = needles.iter().map(|n| n.as_bytes()).collect();
    replace_all(body, &needles, b"[redacted]")
}

/// Replaces every occurrence of any of `needles` in `haystack` (the longest match at each place),
/// in one pass; `None` when there is none.
///
/// A place is compared with the needles only when its first two bytes begin one of them (one bit
/// per byte pair): with a first-byte table alone, a dozen needles (each secret and its escaped
/// spelling) start with a dozen common letters, and about one byte in five of an answer was
/// compared with every needle — the largest part of the proxy's own time after decoding.
fn replace_all(haystack: &[u8], needles: &[&[u8]], with: &[u8]) -> Option<Vec<u8>> {
    let needles: Vec<&[u8]> = needles.iter().copied().filter(|n| !n.is_empty()).collect();
    // 65,536 bits, one per (byte, next byte); past the end the next byte reads as 0. A one-byte
    // needle marks every pair it begins.
    let mut pairs = [0u64; 1024];
    let pair = |a: u8, b: u8| usize::from(a) << 8 | usize::from(b);
    for n in &needles {
        for second in if n.len() > 1 { n[1]..=n[1] } else { 0..=255 } {
            let k = pair(n[0], second);
            pairs[k >> 6] |= 1 << (k & 63);
        }
    }
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut copied) = (0, 0);
    while i < haystack.len() {
        let k = pair(haystack[i], haystack.get(i + 1).copied().unwrap_or(0));
        if pairs[k >> 6] >> (k & 63) & 1 == 1 {
            let rest = &haystack[i..];
            if let Some(len) = needles.iter().filter(|n| rest.starts_with(n)).map(|n| n.len()).max() {
                let o = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
                o.extend_from_slice(&haystack[copied..i]);
                o.extend_from_slice(with);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.map(|mut o| {
        o.extend_from_slice(&haystack[copied..]);
        o
    })
}

/// Replaces every occurrence of `needle` in `haystack`.
#[cfg(test)]
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    let mut copied = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i] == needle[0] && &haystack[i..i + needle.len()] == needle {
            let o = out.get_or_insert_with(|| Vec::with_capacity(haystack.len()));
            o.extend_from_slice(&haystack[copied..i]);
            o.extend_from_slice(with);
            i += needle.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.map(|mut o| {
        o.extend_from_slice(&haystack[copied..]);
        o
    })
}

/// What stands in for a caller's value in an error message.
const CONCEALED: &str = "…";

/// The strings of a request's path and query an error could quote: raw, percent-decoded, and
/// each comma-separated part of a decoded value.
pub(super) fn caller_input_of(path: &str, query: &str) -> Vec<String> {
    let mut out = vec![path.to_owned(), query.to_owned()];
    out.extend(path.split('/').filter_map(percent_decode));
    for part in query.split('&') {
        out.push(part.to_owned());
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        for s in [k, v] {
            let raw = s.replace('+', " ");
            out.extend(percent_decode(&raw));
        }
    }
    let parts: Vec<String> = out.iter().flat_map(|s| s.split(',').map(str::to_owned)).collect();
    out.extend(parts);
    out.retain(|s| !s.is_empty());
    out
}

/// Adds a body's text, and every key, string and number in it when it is JSON.
pub(super) fn add_body_input(out: &mut Vec<String>, body: &[u8]) {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
            _ => {}
        }
    }
    out.push(String::from_utf8_lossy(body).into_owned());
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        walk(&value, out);
    }
}

/// `error` with every value the caller sent replaced by `…`, decided by where a value sits, never
/// by what it is (so the answer is the same whether or not a value equals a secret):
///
/// - serde's "unknown field `k`", "unknown variant `v`", "invalid type/value: string \"v\"": the
///   quoted unexpected part;
/// - any other quoted text (`"…"`, `` `…` ``) that is part of what the caller sent, e.g. a
///   provider rule's "(got \"v\")";
/// - in `field`: an unknown key (the end of the path) and a `tags` map key.
pub(super) fn conceal_caller_input(error: &Error, caller: &[String]) -> Error {
    let mut e = error.clone();
    let (prefix, rest) = match e.field.as_deref().and_then(|f| e.message.strip_prefix(f).map(|r| (f, r))) {
        Some((f, r)) if r.starts_with(": ") => (Some(f.to_owned()), r.to_owned()),
        _ => (None, e.message.clone()),
    };
    let rest = conceal_serde_unexpected(&rest);
    let rest = conceal_quoted(&rest, caller);
    if let Some(field) = e.field.as_deref() {
        let concealed = conceal_field(field, &error.message);
        e.message = match prefix {
            Some(_) => format!("{concealed}{rest}"),
            None => rest,
        };
        e.field = Some(concealed);
    } else {
        e.message = rest;
    }
    for d in &mut e.details {
        d.message = conceal_quoted(&d.message, caller);
        if let Some(f) = d.field.as_deref() {
            d.field = Some(conceal_field(f, ""));
        }
    }
    e
}

/// The quoted value in serde's messages about an unexpected key or value.
fn conceal_serde_unexpected(message: &str) -> String {
    for intro in [": unknown field ", ": unknown variant ", ": invalid type: ", ": invalid value: "] {
        let Some(start) = message.find(intro).map(|i| i + intro.len()) else { continue };
        let end = [", expected ", ", there are no "].iter().filter_map(|t| message.rfind(t)).filter(|&i| i >= start).max();
        let Some(end) = end else { continue };
        let unexpected = &message[start..end];
        let Some(q) = unexpected.find(['"', '`', '\'']) else { return message.to_owned() };
        let quote = &unexpected[q..q + 1];
        return format!("{}{}{quote}{CONCEALED}{quote}{}", &message[..start], &unexpected[..q], &message[end..]);
    }
    message.to_owned()
}

/// Every `"…"` or `` `…` `` segment whose text is part of what the caller sent, as `"…"`.
fn conceal_quoted(message: &str, caller: &[String]) -> String {
    let from_caller = |quoted: &str| {
        !quoted.is_empty()
            && quoted != CONCEALED
            && caller.iter().any(|s| s.contains(quoted) || format!("{s:?}").contains(quoted) || json_escaped(s).contains(quoted))
    };
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[i] as char;
        out.push_str(&rest[..=i]);
        let after = &rest[i + 1..];
        // The closing quote; a `"` may be escaped inside (Debug and JSON escape it as \").
        let mut end = None;
        let mut escaped = false;
        for (j, c) in after.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && quote == '"' {
                escaped = true;
            } else if c == quote {
                end = Some(j);
                break;
            }
        }
        let Some(end) = end else {
            out.push_str(after);
            return out;
        };
        let quoted = &after[..end];
        out.push_str(if from_caller(quoted) { CONCEALED } else { quoted });
        out.push(quote);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn json_escaped(s: &str) -> String {
    serde_json::to_string(s).map(|q| q.trim_matches('"').to_owned()).unwrap_or_default()
}

/// A field path without the keys the caller chose: an unknown key (named by `message`) and the
/// key of a `tags` map.
fn conceal_field(field: &str, message: &str) -> String {
    let mut field = field.to_owned();
    if let Some(i) = message.find(": unknown field `").map(|i| i + ": unknown field `".len()) {
        let end = ["`, expected ", "`, there are no "].iter().filter_map(|t| message.rfind(t)).filter(|&j| j >= i).max();
        if let Some(key) = end.map(|j| &message[i..j]) {
            if !key.is_empty() && field.ends_with(key) && field.len() > key.len() {
                field = format!("{}{CONCEALED}", &field[..field.len() - key.len()]);
            } else if field == key {
                field = CONCEALED.to_owned();
            }
        }
    }
    let tags = if field.starts_with("tags.") { Some(0) } else { field.find(".tags.").map(|i| i + 1) };
    if let Some(i) = tags {
        field = format!("{}tags.{CONCEALED}", &field[..i]);
    }
    field
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace() {
        assert_eq!(replace_bytes(b"a-KEY-b-KEY", b"KEY", b"[r]").unwrap(), b"a-[r]-b-[r]");
        assert_eq!(replace_bytes(b"nothing", b"KEY", b"x"), None);
        // The one-pass scrub gives what replacing each needle in turn gives.
        let text = b"k1 xx K2\\/ k1k1 K2 abK2c".to_vec();
        let needles: [&[u8]; 3] = [b"k1", b"K2", b"K2\\/"];
        let mut one_by_one = text.clone();
        for n in [b"K2\\/".as_slice(), b"k1", b"K2"] {
            if let Some(b) = replace_bytes(&one_by_one, n, b"[r]") {
                one_by_one = b;
            }
        }
        assert_eq!(replace_all(&text, &needles, b"[r]").unwrap(), one_by_one);
        assert_eq!(replace_all(b"clean", &needles, b"[r]"), None);
        assert_eq!(replace_all(b"abc", &[b"".as_slice()], b"[r]"), None);
        // One-byte needles, a needle at the very end, a pair that starts no needle at the end.
        let needles: [&[u8]; 3] = [b"x", b"ab", b"abc"];
        assert_eq!(replace_all(b"xaxbabcab", &needles, b"[r]").unwrap(), b"[r]a[r]b[r][r]");
        assert_eq!(replace_all(b"qqa", &needles, b"[r]"), None);
        assert_eq!(replace_all(b"a", &needles, b"[r]"), None);
    }
}
