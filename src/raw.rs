//! [`Raw`]: a provider's record exactly as it arrived, kept as the bytes of the answer it came in.
//!
//! A list answer of 10,000 instances is mostly the records' own text. Building a JSON tree of it
//! only to hand it on costs most of a decode; so a record's `raw` is a span of the answer's body
//! (shared by every record of the page, not copied) and becomes a [`Value`] only when someone
//! reads it (`instance.raw["status"]` parses on first use). The JavaScript package does the same
//! with a lazy `raw` property, and the edge proxy splices the spans into its answers as they are.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A provider's record exactly as received: unknown fields and values included.
///
/// Dereferences to the record as a [`Value`] (parsed on first use), so `raw["id"]`,
/// `raw.get("labels")` and `raw.as_object()` work as on a `Value`; [`Raw::bytes`] is the text as
/// the provider sent it.
pub struct Raw {
    /// The body the record is a part of (or the record's own text).
    source: Arc<[u8]>,
    /// Where the record sits in `source`.
    span: Range<usize>,
    /// The record as a `Value`, once read.
    parsed: OnceLock<Value>,
}

impl Raw {
    /// The record at `span` of `source` (a provider's response body). `span` must hold one whole
    /// JSON value; a span that does not fit in `source` is empty and reads as `null`.
    pub fn from_span(source: Arc<[u8]>, span: Range<usize>) -> Raw {
        let span = if span.start <= span.end && span.end <= source.len() { span } else { 0..0 };
        Raw { source, span, parsed: OnceLock::new() }
    }

    /// A record given as a `Value` (its text is serde_json's compact form of it).
    pub fn from_value(value: Value) -> Raw {
        let text: Arc<[u8]> = serde_json::to_vec(&value).unwrap_or_else(|_| b"null".to_vec()).into();
        let span = 0..text.len();
        Raw { source: text, span, parsed: OnceLock::from(value) }
    }

    /// The record's JSON text, exactly as the provider sent it.
    pub fn bytes(&self) -> &[u8] {
        &self.source[self.span.clone()]
    }

    /// The body the record came in and where it sits there (for sharing one body between the
    /// records of a page, e.g. when handing a page to JavaScript).
    pub fn source(&self) -> (&Arc<[u8]>, Range<usize>) {
        (&self.source, self.span.clone())
    }

    /// The record as a [`Value`] (parsed on first use, then kept).
    pub fn value(&self) -> &Value {
        self.parsed.get_or_init(|| serde_json::from_slice(self.bytes()).unwrap_or(Value::Null))
    }

    /// The record as an owned [`Value`].
    pub fn into_value(self) -> Value {
        match self.parsed.into_inner() {
            Some(v) => v,
            None => serde_json::from_slice(&self.source[self.span]).unwrap_or(Value::Null),
        }
    }
}

impl Default for Raw {
    /// `null`. Every normalizer starts its instance from one (then puts the record's span in),
    /// so it shares one `null` text instead of allocating and serializing one per instance.
    fn default() -> Raw {
        static NULL_TEXT: OnceLock<Arc<[u8]>> = OnceLock::new();
        let source = Arc::clone(NULL_TEXT.get_or_init(|| Arc::from(&b"null"[..])));
        Raw { source, span: 0..4, parsed: OnceLock::new() }
    }
}

impl Clone for Raw {
    fn clone(&self) -> Raw {
        // The parsed tree is not cloned: it is rebuilt from the shared text if read again.
        Raw { source: Arc::clone(&self.source), span: self.span.clone(), parsed: OnceLock::new() }
    }
}

impl Deref for Raw {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value()
    }
}

impl From<Value> for Raw {
    fn from(value: Value) -> Raw {
        Raw::from_value(value)
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        self.bytes() == other.bytes() || self.value() == other.value()
    }
}

impl PartialEq<Value> for Raw {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

impl Serialize for Raw {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Raw {
    /// Keeps the value's text as it is (serde_json's `RawValue`: no tree is built). From a
    /// `Value`, the text is the value's compact form (serde_json's own `&Value` does that, and so
    /// does the crate's path-tracking reader).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Raw, D::Error> {
        let text = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let text: Box<str> = text.into();
        let source: Arc<[u8]> = Arc::from(text.into_boxed_bytes());
        let span = 0..source.len();
        Ok(Raw { source, span, parsed: OnceLock::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_is_null() {
        assert_eq!(Raw::default().bytes(), b"null");
        assert_eq!(Raw::default(), Value::Null);
        assert_eq!(serde_json::to_string(&Raw::default()).unwrap(), "null");
    }

    #[test]
    fn a_span_reads_as_the_record_it_holds() {
        let body: Arc<[u8]> = br#"{"items":[{"id":"a","n":1},{"id":"b\u00e9","n":[2]}]}"#.to_vec().into();
        let start = body.windows(8).position(|w| w == br#"{"id":"b"#).unwrap();
        let raw = Raw::from_span(Arc::clone(&body), start..body.len() - 2);
        assert_eq!(raw.bytes(), br#"{"id":"b\u00e9","n":[2]}"#);
        assert_eq!(raw["id"], "bé");
        assert_eq!(raw, json!({"id": "bé", "n": [2]}));
        assert_eq!(raw.clone(), raw);
        assert_eq!(serde_json::to_value(&raw).unwrap(), json!({"id": "bé", "n": [2]}));
        assert_eq!(raw.into_value(), json!({"id": "bé", "n": [2]}));
        // A span outside the body is null, never a panic.
        assert_eq!(*Raw::from_span(body, 5..500), Value::Null);
        assert_eq!(*Raw::default(), Value::Null);
        let v: Raw = serde_json::from_str(r#"{"x":true}"#).unwrap();
        assert_eq!(v.bytes(), br#"{"x":true}"#);
        // Read through the path-tracking reader (from a `Value`): the value's compact text.
        #[derive(serde::Deserialize)]
        struct Holder {
            raw: Raw,
        }
        let tree = json!({"raw": {"b": [1, {"c": null}], "a": "é"}});
        let h: Holder = crate::json_path::from_value(&tree).unwrap();
        assert_eq!(h.raw.bytes(), serde_json::to_string(&tree["raw"]).unwrap().as_bytes());
        assert_eq!(h.raw, tree["raw"]);
    }
}
