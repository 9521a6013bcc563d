//! The proxy's state, behind a trait: the audit log (append, query newest first) and deadlines
//! (put, clear, claim with a lease, finish). The Worker binds [`Store`] to D1; tests and
//! [`MemoryStore`] keep it in memory. Everything that decides anything (which deadline is due,
//! who may act on it, what is logged) lives in the core and uses only this trait.
//!
//! **Leases.** [`Store::claim_due`] atomically takes the due deadlines nobody holds (or whose
//! holder's lease ran out) and marks them held by `owner` until `now + lease`; only the holder can
//! [`Store::finish`] one. Two overlapping scheduled runs therefore never act on the same deadline,
//! and a run that dies mid-action leaves a deadline that the next run claims again once the lease
//! expires — with `attempts` > 1, so it re-checks the instance before acting a second time.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tsify::Tsify;

use crate::error::{Error, Result};
pub use crate::model::{Deadline, DeadlineAction, DeadlineState};
use crate::provider_id::Provider;

impl DeadlineAction {
    /// The action a deadline takes on `provider` when none is named: the one that ends the
    /// billing and that the provider supports.
    pub fn default_for(provider: Provider) -> DeadlineAction {
        match provider {
            Provider::Novita => DeadlineAction::Stop,
            Provider::Sfcompute => DeadlineAction::Terminate,
            Provider::Fal | Provider::FalAlpha => DeadlineAction::Delete,
        }
    }

    /// `Ok` when `provider` supports this action (its capabilities list the operation).
    pub fn check(self, provider: Provider) -> Result<()> {
        if provider.capabilities().operations.contains(&self.operation()) {
            return Ok(());
        }
        let supported: Vec<&str> = [DeadlineAction::Stop, DeadlineAction::Terminate, DeadlineAction::Delete]
            .into_iter()
            .filter(|a| provider.capabilities().operations.contains(&a.operation()))
            .map(DeadlineAction::as_str)
            .collect();
        Err(Error::invalid_input("action", format!("{provider} cannot {}; it supports {}", self.as_str(), supported.join(", "))))
    }
}

/// Attempts before a deadline is given up (the audit log records each failure).
pub const MAX_ATTEMPTS: u32 = 10;

/// When a new deadline fires: exactly one of `at_ms` (ms since the Unix epoch) or `after_ms`
/// (from `now_ms`); it must be in the future and within a year.
pub fn deadline_time(at_ms: Option<u64>, after_ms: Option<u64>, now_ms: u64) -> Result<u64> {
    one_of_at_or_after(at_ms.is_some(), after_ms.is_some(), "at")?;
    let at = match at_ms {
        Some(at) => at,
        None => {
            let after = after_ms.unwrap_or(0);
            if after == 0 {
                return Err(Error::invalid_input("after", "must be more than 0"));
            }
            now_ms.saturating_add(after)
        }
    };
    if at <= now_ms {
        return Err(Error::invalid_input(if at_ms.is_some() { "at" } else { "after" }, "must be in the future"));
    }
    if at > now_ms.saturating_add(366 * 86_400_000) {
        return Err(Error::invalid_input(if at_ms.is_some() { "at" } else { "after" }, "must be within a year"));
    }
    Ok(at)
}

/// Checks that a deadline gives exactly one of `at` and `after` (the error names `at_field`).
pub fn one_of_at_or_after(at_given: bool, after_given: bool, at_field: &str) -> Result<()> {
    match (at_given, after_given) {
        (true, true) => Err(Error::invalid_input(at_field, "give `at` or `after`, not both")),
        (false, false) => Err(Error::invalid_input(at_field, "is required (or `after`)")),
        _ => Ok(()),
    }
}

/// How an attempt on a claimed deadline ended (JSON: `{"done":{"atMs":…}}`, `{"retry":{…}}`,
/// `{"gaveUp":{"error":…}}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Finish {
    /// Fired at this time.
    Done {
        /// When.
        at_ms: u64,
    },
    /// Try again from `next_attempt_ms`.
    Retry {
        /// Not before.
        next_attempt_ms: u64,
        /// Why this attempt failed.
        error: String,
    },
    /// Given up.
    GaveUp {
        /// Why.
        error: String,
    },
}

/// How a logged change ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum AuditOutcome {
    /// Done.
    Ok,
    /// The provider (or the proxy) refused: the error code and HTTP status.
    Error {
        /// The gpufleet error code, e.g. `rateLimited`.
        code: String,
        /// The HTTP status, when there was an answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// Not known whether the provider acted (a timeout, a lost answer, a 5xx).
    Unknown,
}

// Read by hand: serde's derive for an internally tagged enum buffers the whole value first (its
// `Content` machinery), about 10 KiB of the Worker's wasm for these three shapes.
impl<'de> Deserialize<'de> for AuditOutcome {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<AuditOutcome, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        struct Tagged {
            kind: String,
            #[serde(default)]
            code: Option<String>,
            #[serde(default)]
            status: Option<u16>,
        }
        let tagged = Tagged::deserialize(deserializer)?;
        match tagged.kind.as_str() {
            "ok" => Ok(AuditOutcome::Ok),
            "error" => match tagged.code {
                Some(code) => Ok(AuditOutcome::Error { code, status: tagged.status }),
                None => Err(D::Error::missing_field("code")),
            },
            "unknown" => Ok(AuditOutcome::Unknown),
            other => Err(D::Error::unknown_variant(other, &["ok", "error", "unknown"])),
        }
    }
}

impl AuditOutcome {
    /// How a call that failed with `error` ended: `unknown` when the provider may still have
    /// acted (a 5xx, a timeout, a lost or unreadable answer), else the refusal's code and status.
    pub fn of_error(error: &Error) -> AuditOutcome {
        use crate::error::ErrorCode;
        if matches!(error.code, ErrorCode::Server | ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Decode) {
            AuditOutcome::Unknown
        } else {
            AuditOutcome::Error { code: error.code.as_str().to_owned(), status: error.status }
        }
    }
}

/// One change, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Its place in the log (assigned by the store, increasing); 0 before it is appended.
    #[serde(default)]
    pub seq: u64,
    /// When (ms since the Unix epoch).
    pub at_ms: u64,
    /// Who: a caller name, or `deadline` for a deadline firing.
    pub caller: String,
    /// What: `create`, `start`, `stop`, `restart`, `terminate`, `delete`, `deadline.set`,
    /// `deadline.changed`, `deadline.cleared`, `deadline.fired`, `deadline.failed`.
    pub action: String,
    /// The provider.
    pub provider: Provider,
    /// The instance (absent for a create that made none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Its name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// The request id (`X-Request-Id`), or the scheduled run's id.
    pub request_id: String,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// More, in words (e.g. `at 2026-12-04T10:00:00Z, stop`, `already gone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Which entries to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    /// Only this provider.
    pub provider: Option<Provider>,
    /// Only this instance.
    pub instance_id: Option<String>,
    /// Only this caller.
    pub caller: Option<String>,
    /// Only this action (`create`, `deadline.fired`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Only entries older than this `seq` (the cursor).
    pub before_seq: Option<u64>,
    /// At most this many (1–500).
    pub limit: u32,
}

/// Audit entries, newest first, and where the next (older) page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The `before` cursor of the next page, when there are older entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The proxy's storage. Each method is one atomic step (one D1 statement or batch).
#[allow(async_fn_in_trait)] // used single-threaded (wasm, block_on in tests): no Send bound wanted
pub trait Store {
    /// Appends `entry` and returns its `seq`.
    async fn append_audit(&self, entry: AuditEntry) -> Result<u64>;
    /// Reads entries, newest first.
    async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage>;
    /// Sets (or replaces) an instance's deadline; returns the one it replaced.
    async fn put_deadline(&self, deadline: Deadline) -> Result<Option<Deadline>>;
    /// Removes an instance's deadline; returns it.
    async fn clear_deadline(&self, provider: Provider, instance_id: &str) -> Result<Option<Deadline>>;
    /// An instance's deadline.
    async fn deadline(&self, provider: Provider, instance_id: &str) -> Result<Option<Deadline>>;
    /// Every deadline (pending first, then by time).
    async fn deadlines(&self) -> Result<Vec<Deadline>>;
    /// The deadlines (in any state, in no order) of `instances`: one statement for a whole
    /// answer's instances, so that what is read grows with the answer, not with every deadline
    /// ever kept. By default [`Self::deadlines`], filtered.
    async fn deadlines_of(&self, instances: &[(Provider, &str)]) -> Result<Vec<Deadline>> {
        let wanted: std::collections::HashSet<(Provider, &str)> = instances.iter().copied().collect();
        let mut all = self.deadlines().await?;
        all.retain(|d| wanted.contains(&(d.provider, d.instance_id.as_str())));
        Ok(all)
    }
    /// Atomically claims up to `limit` due deadlines for `owner` until `now_ms + lease_ms`
    /// (each claim adds one to `attempts`), and returns them as claimed.
    async fn claim_due(&self, now_ms: u64, owner: &str, lease_ms: u64, limit: u32) -> Result<Vec<Deadline>>;
    /// Records how `owner`'s attempt ended and releases the lease; `false` (nothing changed)
    /// when `owner` no longer holds it.
    async fn finish(&self, provider: Provider, instance_id: &str, owner: &str, how: Finish) -> Result<bool>;
}

/// A [`Store`] in memory: for tests, and the reference the D1 store is checked against.
#[derive(Debug, Default)]
pub struct MemoryStore {
    audit: RefCell<Vec<AuditEntry>>,
    deadlines: RefCell<BTreeMap<(Provider, String), Deadline>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Every audit entry, oldest first.
    pub fn audit_entries(&self) -> Vec<AuditEntry> {
        self.audit.borrow().clone()
    }
}

impl Store for MemoryStore {
    async fn append_audit(&self, mut entry: AuditEntry) -> Result<u64> {
        let mut log = self.audit.borrow_mut();
        entry.seq = log.len() as u64 + 1;
        let seq = entry.seq;
        log.push(entry);
        Ok(seq)
    }

    async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage> {
        let limit = filter.limit.clamp(1, 500) as usize;
        let log = self.audit.borrow();
        let mut entries: Vec<AuditEntry> = log
            .iter()
            .rev()
            .filter(|e| filter.before_seq.map_or(true, |b| e.seq < b))
            .filter(|e| filter.provider.map_or(true, |p| e.provider == p))
            .filter(|e| filter.instance_id.as_deref().map_or(true, |id| e.instance_id.as_deref() == Some(id)))
            .filter(|e| filter.caller.as_deref().map_or(true, |c| e.caller == c))
            .filter(|e| filter.action.as_deref().map_or(true, |a| e.action == a))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next_cursor = if more { entries.last().map(|e| e.seq.to_string()) } else { None };
        Ok(AuditPage { entries, next_cursor })
    }

    async fn put_deadline(&self, deadline: Deadline) -> Result<Option<Deadline>> {
        Ok(self.deadlines.borrow_mut().insert((deadline.provider, deadline.instance_id.clone()), deadline))
    }

    async fn clear_deadline(&self, provider: Provider, instance_id: &str) -> Result<Option<Deadline>> {
        Ok(self.deadlines.borrow_mut().remove(&(provider, instance_id.to_owned())))
    }

    async fn deadline(&self, provider: Provider, instance_id: &str) -> Result<Option<Deadline>> {
        Ok(self.deadlines.borrow().get(&(provider, instance_id.to_owned())).cloned())
    }

    async fn deadlines(&self) -> Result<Vec<Deadline>> {
        let mut all: Vec<Deadline> = self.deadlines.borrow().values().cloned().collect();
        all.sort_by_key(|d| (d.state != DeadlineState::Pending, d.at_ms));
        Ok(all)
    }

    async fn claim_due(&self, now_ms: u64, owner: &str, lease_ms: u64, limit: u32) -> Result<Vec<Deadline>> {
        let mut map = self.deadlines.borrow_mut();
        let mut due: Vec<&mut Deadline> = map.values_mut().filter(|d| d.claimable(now_ms)).collect();
        due.sort_by_key(|d| d.at_ms);
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|d| {
                d.lease_owner = Some(owner.to_owned());
                d.lease_until_ms = Some(now_ms.saturating_add(lease_ms));
                d.attempts += 1;
                d.clone()
            })
            .collect())
    }

    async fn finish(&self, provider: Provider, instance_id: &str, owner: &str, how: Finish) -> Result<bool> {
        let mut map = self.deadlines.borrow_mut();
        let Some(d) = map.get_mut(&(provider, instance_id.to_owned())) else { return Ok(false) };
        if d.lease_owner.as_deref() != Some(owner) || d.state != DeadlineState::Pending {
            return Ok(false);
        }
        d.lease_owner = None;
        d.lease_until_ms = None;
        match how {
            Finish::Done { at_ms } => {
                d.state = DeadlineState::Done;
                d.fired_at_ms = Some(at_ms);
            }
            Finish::Retry { next_attempt_ms, error } => {
                d.next_attempt_ms = next_attempt_ms;
                d.last_error = Some(error);
            }
            Finish::GaveUp { error } => {
                d.state = DeadlineState::Failed;
                d.last_error = Some(error);
            }
        }
        Ok(true)
    }
}
