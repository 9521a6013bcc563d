//! The wire shapes of the proxy's records — deadlines, the audit log and the orphan report —
//! shared by the proxy (which reads requests and writes answers) and the client (which does the
//! reverse), so both sides parse and check them the same way:
//!
//! | route | body / query | answer |
//! |---|---|---|
//! | `POST /api/v1/{provider}/instances` | the create input, and a [`DeadlineRequest`] under `deadline` ([`take_create_deadline`]) | `Instance` with its `deadline` |
//! | `PUT /api/v1/{provider}/instances/{id}/deadline` | [`DeadlineRequest`] | [`DeadlineAnswer`] |
//! | `DELETE /api/v1/{provider}/instances/{id}/deadline` | – | [`ClearedDeadline`] |
//! | `GET /api/v1/deadlines` | – | [`DeadlineList`] |
//! | `GET /api/v1/audit` | `provider`, `instance`, `caller`, `action`, `before`, `limit` | [`crate::store::AuditPage`] |
//! | `GET /api/v1/orphans` | `olderThanMs` (default a day) | [`OrphanReport`] |

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tsify::Tsify;

use crate::error::{Error, Result};
use crate::model::{Status, TagMirror};
use crate::provider_id::Provider;
use crate::store::{AuditFilter, Deadline, DeadlineAction};

/// The orphan report's default age threshold: a day.
pub const DEFAULT_ORPHAN_AGE_MS: u64 = 86_400_000;
/// Audit entries per page when `limit` is not given.
pub const DEFAULT_AUDIT_LIMIT: u32 = 50;

/// When and how an instance's deadline fires: `at` (ms since the Unix epoch, or an ISO 8601
/// time such as `2026-12-04T18:00:00Z`) or `after` (ms from now), and the `action` (default: the
/// provider's end: Novita `stop`, SF Compute `terminate`, fal `delete`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeadlineRequest {
    /// When it fires, as ms since the Unix epoch or an ISO 8601 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "number | string")]
    pub at: Option<Value>,
    /// Or: in this many ms from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<DeadlineAction>,
}

impl DeadlineRequest {
    /// Reads a request body (a JSON object with only `at`, `after`, `action`); `field_prefix`
    /// is put before field names in errors (e.g. `deadline.` inside a create body).
    pub fn from_json(value: &Value, field_prefix: &str) -> Result<DeadlineRequest> {
        let field = |f: &str| format!("{field_prefix}{f}");
        let whole = if field_prefix.is_empty() { "body".to_owned() } else { field_prefix.trim_end_matches('.').to_owned() };
        let Some(object) = value.as_object() else {
            return Err(Error::invalid_input(whole, "must be a JSON object with at or after, and action"));
        };
        // An unknown key is the caller's text: the object is named, not the key.
        if object.keys().any(|k| !matches!(k.as_str(), "at" | "after" | "action")) {
            return Err(Error::invalid_input(whole, "takes only at, after and action"));
        }
        let at = match object.get("at") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Number(_)) if v.as_u64().is_some() => Some(v.clone()),
            Some(v @ Value::String(s)) if crate::money::iso_to_unix_seconds(s).is_some() => Some(v.clone()),
            Some(_) => return Err(Error::invalid_input(field("at"), "must be ms since the Unix epoch or an ISO 8601 time")),
        };
        let after = match object.get("after") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| Error::invalid_input(field("after"), "must be a whole number of ms"))?),
        };
        let action = match object.get("action") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                DeadlineAction::parse(s)
                    .map_err(|_| Error::invalid_input(field("action"), "must be stop, terminate or delete"))?,
            ),
            Some(_) => return Err(Error::invalid_input(field("action"), "must be one of stop, terminate, delete")),
        };
        Ok(DeadlineRequest { at, after, action })
    }

    /// `at` as ms since the Unix epoch.
    pub fn at_ms(&self) -> Option<u64> {
        match self.at.as_ref()? {
            Value::String(s) => crate::money::iso_to_unix_ms(s).and_then(|ms| u64::try_from(ms).ok()),
            v => v.as_u64(),
        }
    }

    /// The deadline this asks for on `provider`'s `instance_id`, set by `caller` at `now_ms`:
    /// checked (in the future, within a year; the action one the provider has).
    pub fn to_deadline(&self, provider: Provider, instance_id: &str, caller: &str, now_ms: u64) -> Result<Deadline> {
        let at_ms = crate::store::deadline_time(self.at_ms(), self.after, now_ms)?;
        let action = self.action.unwrap_or_else(|| DeadlineAction::default_for(provider));
        action.check(provider)?;
        Ok(Deadline::new(provider, instance_id, at_ms, action, caller, now_ms))
    }
}

/// The key of a create body (`POST /api/v1/{provider}/instances`) that carries a deadline,
/// beside the provider's create input: `{"productId": …, "deadline": {"after": 3600000}}`. No
/// provider's create input has a field of that name.
pub const CREATE_DEADLINE_KEY: &str = "deadline";

/// Takes a create body's `deadline` out of `body` (what is left is the provider's create input)
/// and checks it as a deadline for `provider` set by `caller` at `now_ms` (in the future, within
/// a year, an action the provider has). Errors name `deadline.at`, `deadline.action`, …. The
/// deadline's `instanceId` is empty until the provider has answered the create. `None` when the
/// body has no `deadline` (or `null`).
pub fn take_create_deadline(body: &mut Value, provider: Provider, caller: &str, now_ms: u64) -> Result<Option<Deadline>> {
    let Some(value) = body.as_object_mut().and_then(|o| o.remove(CREATE_DEADLINE_KEY)) else { return Ok(None) };
    if value.is_null() {
        return Ok(None);
    }
    let request = DeadlineRequest::from_json(&value, "deadline.")?;
    request.to_deadline(provider, "", caller, now_ms).map(Some).map_err(|e| under("deadline.", e))
}

/// `e` with its field put under `prefix` (`at` → `deadline.at`, in the message too).
fn under(prefix: &str, mut e: Error) -> Error {
    if let Some(field) = e.field.take() {
        let full = format!("{prefix}{field}");
        if let Some(rest) = e.message.strip_prefix(&field).and_then(|r| r.strip_prefix(": ")) {
            e.message = format!("{full}: {rest}");
        }
        e.field = Some(full);
    }
    e
}

/// The answer to setting a deadline: the deadline as stored, and the one it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DeadlineAnswer {
    /// The deadline now set.
    pub deadline: Deadline,
    /// The one it replaced, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Deadline>,
    /// SF Compute only: how the deadline was copied into the instance's `gpufleet-deadline` tag
    /// (a failed copy does not fail the deadline, which is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub mirror: Option<TagMirror>,
}

/// The answer to clearing a deadline: the one removed (absent when there was none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ClearedDeadline {
    /// The deadline removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared: Option<Deadline>,
    /// SF Compute only: how the instance's `gpufleet-deadline` tag was removed (also when there
    /// was no deadline, so a tag left by a failed earlier removal goes too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub mirror: Option<TagMirror>,
}

/// Every deadline the proxy keeps: pending first, then by time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DeadlineList {
    /// The deadlines.
    pub deadlines: Vec<Deadline>,
}

/// Which audit entries to read (`fleet.audit(query)`; `GET /api/v1/audit`): all filters
/// optional, newest first, `before` the previous page's `nextCursor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// Only this instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Only this caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Only this action (`create`, `stop`, `deadline.fired`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The page before this cursor (a previous page's `nextCursor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// At most this many (1–500; default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// Reads the query parameters (`provider`, `instance`, `caller`, `action`, `before`, `limit`).
    pub fn from_params(params: &[(String, String)]) -> Result<AuditQuery> {
        let mut q = AuditQuery::default();
        for (name, value) in params {
            match name.as_str() {
                "provider" => {
                    q.provider =
                        Some(Provider::parse(value).ok_or_else(|| {
                            Error::invalid_input("provider", "must be one of fal, fal-alpha, sfcompute, novita")
                        })?)
                }
                "instance" => q.instance_id = Some(value.clone()),
                "caller" => q.caller = Some(value.clone()),
                "action" => q.action = Some(value.clone()),
                "before" => q.before = Some(value.clone()),
                "limit" => {
                    q.limit =
                        Some(value.parse().map_err(|_| Error::invalid_input("limit", "must be a whole number from 1 to 500"))?)
                }
                // The parameter is not named: its name is the caller's text.
                _ => return Err(Error::invalid_input("query", "takes only provider, instance, caller, action, before, limit")),
            }
        }
        q.filter()?;
        Ok(q)
    }

    /// The query parameters (the client's side of [`Self::from_params`]).
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(p) = self.provider {
            out.push(("provider", p.as_str().to_owned()));
        }
        let texts =
            [("instance", &self.instance_id), ("caller", &self.caller), ("action", &self.action), ("before", &self.before)];
        for (name, value) in texts {
            if let Some(v) = value {
                out.push((name, v.clone()));
            }
        }
        if let Some(limit) = self.limit {
            out.push(("limit", limit.to_string()));
        }
        out
    }

    /// The store's filter: checked (limit 1–500, `before` a cursor this log gave, texts of a
    /// sane length).
    pub fn filter(&self) -> Result<AuditFilter> {
        let limit = self.limit.unwrap_or(DEFAULT_AUDIT_LIMIT);
        if !(1..=500).contains(&limit) {
            return Err(Error::invalid_input("limit", "must be a whole number from 1 to 500"));
        }
        let before_seq = match &self.before {
            None => None,
            Some(c) => {
                Some(c.parse::<u64>().map_err(|_| Error::invalid_input("before", "must be a nextCursor from an earlier page"))?)
            }
        };
        for (name, value) in [("instance", &self.instance_id), ("caller", &self.caller), ("action", &self.action)] {
            if value.as_ref().is_some_and(|v| v.is_empty() || v.len() > 256) {
                return Err(Error::invalid_input(name, "must be 1 to 256 characters"));
            }
        }
        Ok(AuditFilter {
            provider: self.provider,
            instance_id: self.instance_id.clone(),
            caller: self.caller.clone(),
            action: self.action.clone(),
            before_seq,
            limit,
        })
    }
}

/// Reads the orphan report's `olderThanMs` parameter (default [`DEFAULT_ORPHAN_AGE_MS`]).
pub fn orphan_age_from_params(params: &[(String, String)]) -> Result<u64> {
    match params {
        [] => Ok(DEFAULT_ORPHAN_AGE_MS),
        [(name, value)] if name == "olderThanMs" => {
            value.parse().map_err(|_| Error::invalid_input("olderThanMs", "must be a whole number of ms"))
        }
        _ => Err(Error::invalid_input("query", "takes only olderThanMs")),
    }
}

/// A forgotten GPU: an instance with no deadline and no recorded creator, running for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Orphan {
    /// The provider.
    pub provider: Provider,
    /// The instance.
    pub id: String,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its status.
    pub status: Status,
    /// When it was created (as the provider says). Absent when the provider does not say (fal,
    /// both APIs): such an instance is reported whatever the threshold, after the aged ones,
    /// since its age cannot clear it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Its age, in ms (absent with `createdAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<u64>,
}

/// The orphan report's answer (`GET /api/v1/orphans`, `fleet.orphans()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct OrphanReport {
    /// Instances older than `olderThanMs` with no pending deadline and no `create` in the audit
    /// log, oldest first, then those of unknown age. Terminated ones are left out.
    pub orphans: Vec<Orphan>,
    /// The age threshold used.
    pub older_than_ms: u64,
    /// When the report was made (ms since the Unix epoch).
    pub at_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_764_849_600_000; // 2025-12-04T12:00:00Z

    #[test]
    fn deadline_requests_read_at_after_and_action() {
        let r = DeadlineRequest::from_json(&json!({"after": 3_600_000}), "").unwrap();
        let d = r.to_deadline(Provider::Novita, "n1", "alice", NOW).unwrap();
        assert_eq!((d.at_ms, d.action, d.set_by.as_str()), (NOW + 3_600_000, DeadlineAction::Stop, "alice"));
        let r = DeadlineRequest::from_json(&json!({"at": "2025-12-04T18:00:00Z", "action": "delete"}), "").unwrap();
        let d = r.to_deadline(Provider::Novita, "n1", "alice", NOW).unwrap();
        assert_eq!((d.at_ms, d.action), (NOW + 6 * 3_600_000, DeadlineAction::Delete));
        let r = DeadlineRequest::from_json(&json!({"at": NOW + 60_000}), "").unwrap();
        assert_eq!(r.to_deadline(Provider::Sfcompute, "s", "a", NOW).unwrap().action, DeadlineAction::Terminate);
    }

    #[test]
    fn bad_deadline_requests_name_the_field() {
        let cases = [
            (json!([]), "", "body"),
            (json!({"when": 1}), "", "body"),
            (json!({"at": "tomorrow"}), "", "at"),
            (json!({"at": -5}), "", "at"),
            (json!({"after": 1.5}), "", "after"),
            (json!({"after": 60000, "action": "explode"}), "", "action"),
            (json!({"after": 60000, "action": 3}), "deadline.", "deadline.action"),
        ];
        for (body, prefix, field) in cases {
            let e = DeadlineRequest::from_json(&body, prefix).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{body}");
            assert!(
                e.message.starts_with(&format!("{field}: ")) && !e.message[field.len() + 2..].contains(": "),
                "{}",
                e.message
            );
        }
        let past = DeadlineRequest::from_json(&json!({"at": NOW - 1}), "").unwrap();
        assert_eq!(past.to_deadline(Provider::Fal, "f", "a", NOW).unwrap_err().field.as_deref(), Some("at"));
        let neither = DeadlineRequest::from_json(&json!({}), "").unwrap();
        assert_eq!(neither.to_deadline(Provider::Fal, "f", "a", NOW).unwrap_err().field.as_deref(), Some("at"));
        let stop_fal = DeadlineRequest::from_json(&json!({"after": 60000, "action": "stop"}), "").unwrap();
        let e = stop_fal.to_deadline(Provider::Fal, "f", "a", NOW).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("action"), "{}", e.message);
    }

    #[test]
    fn a_create_body_gives_up_its_deadline_and_keeps_the_input() {
        let mut body = json!({"productId": "p1", "imageUrl": "x", "deadline": {"after": 60_000, "action": "delete"}});
        let d = take_create_deadline(&mut body, Provider::Novita, "alice", NOW).unwrap().unwrap();
        assert_eq!(
            (d.at_ms, d.action, d.set_by.as_str(), d.instance_id.as_str()),
            (NOW + 60_000, DeadlineAction::Delete, "alice", "")
        );
        assert_eq!(body, json!({"productId": "p1", "imageUrl": "x"}), "the rest is the provider's input");
        let mut plain = json!({"productId": "p1"});
        assert_eq!(take_create_deadline(&mut plain, Provider::Novita, "a", NOW).unwrap(), None);
        let mut null = json!({"productId": "p1", "deadline": null});
        assert_eq!(take_create_deadline(&mut null, Provider::Novita, "a", NOW).unwrap(), None);
        assert_eq!(null, json!({"productId": "p1"}));
        for (deadline, field) in [
            (json!({"at": NOW - 1}), "deadline.at"),
            (json!({"after": 60_000, "action": "stop"}), "deadline.action"),
            (json!({}), "deadline.at"),
            (json!({"after": "soon"}), "deadline.after"),
            (json!({"after": 1, "when": 2}), "deadline"),
            (json!(5), "deadline"),
        ] {
            let mut body = json!({"instanceType": "gpu_1x_h100_sxm5", "deadline": deadline});
            let e = take_create_deadline(&mut body, Provider::Fal, "a", NOW).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{deadline}");
            assert!(e.message.starts_with(&format!("{field}: ")), "{}", e.message);
        }
    }

    #[test]
    fn audit_queries_round_trip_and_check() {
        let q = AuditQuery {
            provider: Some(Provider::Novita),
            instance_id: Some("n1".into()),
            caller: Some("alice".into()),
            action: Some("stop".into()),
            before: Some("42".into()),
            limit: Some(10),
        };
        let params: Vec<(String, String)> = q.to_params().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(AuditQuery::from_params(&params).unwrap(), q);
        let f = q.filter().unwrap();
        assert_eq!((f.before_seq, f.limit), (Some(42), 10));
        for (name, value, field) in [
            ("limit", "0", "limit"),
            ("limit", "x", "limit"),
            ("before", "abc", "before"),
            ("provider", "aws", "provider"),
            ("who", "x", "query"),
        ] {
            let e = AuditQuery::from_params(&[(name.into(), value.into())]).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
        }
        assert_eq!(AuditQuery::default().filter().unwrap().limit, DEFAULT_AUDIT_LIMIT);
        assert_eq!(orphan_age_from_params(&[]).unwrap(), DEFAULT_ORPHAN_AGE_MS);
        assert_eq!(orphan_age_from_params(&[("olderThanMs".into(), "5".into())]).unwrap(), 5);
        assert_eq!(orphan_age_from_params(&[("x".into(), "5".into())]).unwrap_err().field.as_deref(), Some("query"));
    }
}
