//! Named callers of the edge proxy (`GPUFLEET_CALLERS`): who sent a request, for the audit log,
//! and what that caller may do.
//!
//! The table is a JSON object from caller name to the SHA-256 of that caller's token (hex; one,
//! or a list of up to [`MAX_TOKENS_PER_CALLER`] so a new token can be handed out before the old
//! one is withdrawn) and its access:
//!
//! ```json
//! {"alice": {"sha256": "9f86d0…", "access": "readWrite"},
//!  "ci":    {"sha256": ["<old>", "<new>"], "access": "readOnly"}}
//! ```
//!
//! Only hashes are stored, so the secret can be shown to whoever edits it without giving away a
//! token. `printf %s "$TOKEN" | sha256sum` gives the hash.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Access;

/// Callers one table may name.
pub const MAX_CALLERS: usize = 256;
/// Tokens one caller may hold at once (rotation: the new one first, then drop the old).
pub const MAX_TOKENS_PER_CALLER: usize = 4;
/// The caller names the proxy itself uses (the deadline runner, the shared tokens), which a
/// table may not take.
pub const RESERVED_NAMES: [&str; 3] = ["deadline", "token", "readonly-token"];

/// One named caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCaller {
    /// The name the audit log records.
    pub name: String,
    /// What the caller may do.
    pub access: Access,
    /// SHA-256 digests of the caller's tokens.
    digests: Vec<[u8; 32]>,
}

/// The parsed `GPUFLEET_CALLERS` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerTable {
    callers: Vec<NamedCaller>,
}

impl CallerTable {
    /// Reads the table from its JSON text; `variable` names it in errors. Every rule broken is a
    /// clear `invalid_input` naming the caller and the field.
    pub fn from_json_text(text: &str, variable: &str) -> Result<CallerTable> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid_input(variable, format!("must be a JSON object of callers ({e})")))?;
        CallerTable::from_json(&value, variable)
    }

    /// Reads the table from JSON (see the module docs).
    pub fn from_json(value: &Value, variable: &str) -> Result<CallerTable> {
        let Some(object) = value.as_object() else {
            return Err(Error::invalid_input(
                variable,
                "must be a JSON object of callers: {\"name\": {\"sha256\": …, \"access\": …}}",
            ));
        };
        if object.len() > MAX_CALLERS {
            return Err(Error::invalid_input(variable, format!("names {} callers; at most {MAX_CALLERS}", object.len())));
        }
        let mut seen = BTreeSet::new();
        let mut callers = Vec::with_capacity(object.len());
        for (name, entry) in object {
            let field = |f: &str| format!("{variable}.{name}{f}");
            check_name(name).map_err(|rule| Error::invalid_input(field(""), rule))?;
            let Some(entry) = entry.as_object() else {
                return Err(Error::invalid_input(field(""), "must be an object with sha256 and access"));
            };
            if let Some(unknown) = entry.keys().find(|k| *k != "sha256" && *k != "access") {
                return Err(Error::invalid_input(field(&format!(".{unknown}")), "is not a caller field (sha256, access)"));
            }
            let access = match entry.get("access").and_then(Value::as_str) {
                Some("readWrite") => Access::ReadWrite,
                Some("readOnly") => Access::ReadOnly,
                Some(_) => return Err(Error::invalid_input(field(".access"), "must be \"readWrite\" or \"readOnly\"")),
                None => return Err(Error::invalid_input(field(".access"), "is required (\"readWrite\" or \"readOnly\")")),
            };
            let hashes: Vec<&Value> = match entry.get("sha256") {
                Some(Value::Array(list)) => list.iter().collect(),
                Some(one) => vec![one],
                None => return Err(Error::invalid_input(field(".sha256"), "is required: the hex SHA-256 of the caller's token")),
            };
            if hashes.is_empty() || hashes.len() > MAX_TOKENS_PER_CALLER {
                return Err(Error::invalid_input(field(".sha256"), format!("must hold 1 to {MAX_TOKENS_PER_CALLER} hashes")));
            }
            let mut digests = Vec::with_capacity(hashes.len());
            for (i, hash) in hashes.into_iter().enumerate() {
                let at =
                    if entry.get("sha256").is_some_and(Value::is_array) { format!(".sha256[{i}]") } else { ".sha256".into() };
                let digest = hash
                    .as_str()
                    .and_then(parse_digest)
                    .ok_or_else(|| Error::invalid_input(field(&at), "must be 64 hex digits (the SHA-256 of a token)"))?;
                if !seen.insert(digest) {
                    return Err(Error::invalid_input(field(&at), "is the hash of a token another entry already holds"));
                }
                digests.push(digest);
            }
            callers.push(NamedCaller { name: name.clone(), access, digests });
        }
        Ok(CallerTable { callers })
    }

    /// The callers, by name.
    pub fn callers(&self) -> &[NamedCaller] {
        &self.callers
    }

    /// Whether the table names nobody.
    pub fn is_empty(&self) -> bool {
        self.callers.is_empty()
    }

    /// Whether `digest` (a token's SHA-256) is one of the table's digests (each compared in
    /// constant time, every one of them, so the timing says nothing about which matched).
    pub fn identify(&self, digest: &[u8; 32]) -> Option<&NamedCaller> {
        self.position(digest).map(|i| &self.callers[i])
    }

    /// [`Self::identify`], as the caller's index in [`Self::callers`].
    pub fn position(&self, digest: &[u8; 32]) -> Option<usize> {
        let mut found = None;
        for (i, caller) in self.callers.iter().enumerate() {
            for d in &caller.digests {
                if constant_time_eq(d, digest) && found.is_none() {
                    found = Some(i);
                }
            }
        }
        found
    }
}

/// A caller name: 1–64 characters of letters, digits and `. _ @ + -`, not a reserved one.
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a caller name must be 1 to 64 characters".into());
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b)) {
        return Err("a caller name may hold only letters, digits and . _ @ + -".into());
    }
    if RESERVED_NAMES.contains(&name) {
        return Err(format!("\"{name}\" is reserved for the proxy's own entries"));
    }
    Ok(())
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // sha256("test")
    const B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"; // sha256("test2")

    fn table(json: &str) -> Result<CallerTable> {
        CallerTable::from_json_text(json, "GPUFLEET_CALLERS")
    }

    #[test]
    fn reads_names_hashes_access_and_rotation() {
        let t = table(&format!(
            r#"{{"alice":{{"sha256":"{A}","access":"readWrite"}},"ci":{{"sha256":["{}","{B}"],"access":"readOnly"}}}}"#,
            "0".repeat(64)
        ))
        .unwrap();
        let a = t.identify(&parse_digest(A).unwrap()).unwrap();
        assert_eq!((a.name.as_str(), a.access), ("alice", Access::ReadWrite));
        let ci = t.identify(&parse_digest(B).unwrap()).unwrap();
        assert_eq!((ci.name.as_str(), ci.access), ("ci", Access::ReadOnly));
        assert!(t.identify(&[1u8; 32]).is_none());
        // Upper-case hex is the same digest.
        let upper = table(&format!(r#"{{"bob":{{"sha256":"{}","access":"readOnly"}}}}"#, A.to_uppercase())).unwrap();
        assert_eq!(upper.identify(&parse_digest(A).unwrap()).unwrap().name, "bob");
    }

    #[test]
    fn every_rule_broken_names_the_field() {
        let cases: Vec<(String, &str, &str)> = vec![
            ("[]".into(), "GPUFLEET_CALLERS", "JSON object"),
            ("{".into(), "GPUFLEET_CALLERS", "JSON object"),
            (r#"{"a b":{"sha256":"x","access":"readOnly"}}"#.into(), "GPUFLEET_CALLERS.a b", "letters, digits"),
            (r#"{"deadline":{"sha256":"x","access":"readOnly"}}"#.into(), "GPUFLEET_CALLERS.deadline", "reserved"),
            (r#"{"a":"x"}"#.into(), "GPUFLEET_CALLERS.a", "object with sha256"),
            (format!(r#"{{"a":{{"sha256":"{A}"}}}}"#), "GPUFLEET_CALLERS.a.access", "is required"),
            (format!(r#"{{"a":{{"sha256":"{A}","access":"admin"}}}}"#), "GPUFLEET_CALLERS.a.access", "readWrite"),
            (r#"{"a":{"access":"readOnly"}}"#.into(), "GPUFLEET_CALLERS.a.sha256", "is required"),
            (r#"{"a":{"sha256":"abc","access":"readOnly"}}"#.into(), "GPUFLEET_CALLERS.a.sha256", "64 hex"),
            (r#"{"a":{"sha256":[],"access":"readOnly"}}"#.into(), "GPUFLEET_CALLERS.a.sha256", "1 to 4"),
            (format!(r#"{{"a":{{"sha256":["{A}", 5],"access":"readOnly"}}}}"#), "GPUFLEET_CALLERS.a.sha256[1]", "64 hex"),
            (
                format!(r#"{{"a":{{"sha256":"{A}","access":"readOnly","role":1}}}}"#),
                "GPUFLEET_CALLERS.a.role",
                "not a caller field",
            ),
            (
                format!(r#"{{"a":{{"sha256":"{A}","access":"readOnly"}},"b":{{"sha256":"{A}","access":"readWrite"}}}}"#),
                "GPUFLEET_CALLERS.b.sha256",
                "another entry",
            ),
        ];
        for (json, field, rule) in cases {
            let e = table(&json).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{json}");
            assert!(e.message.contains(rule), "{json}: {}", e.message);
        }
    }
}
