//! Deadlines the edge enforces: setting one (validated against the provider's capabilities and
//! logged), and [`run_due_deadlines`], the one function the Worker's `scheduled()` calls every
//! minute. A deadline fires **exactly once**: [`Store::claim_due`] takes it under a lease, so
//! overlapping runs never share it; a run that dies between claim and action leaves it to be
//! claimed again when the lease ends, and any attempt after the first re-reads the instance
//! before acting (already stopped, terminated or gone → done, not acted on twice).

use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::http::Transport;
use crate::model::Status;
use crate::provider_id::Provider;
pub use crate::records_api::{Orphan, OrphanReport};
use crate::store::{AuditEntry, AuditOutcome, Deadline, DeadlineAction, DeadlineState, Finish, Store, MAX_ATTEMPTS};

/// How long a run holds a claimed deadline: longer than one attempt can take (a get and an
/// action, each with the client's retries), so a lease never runs out under a live attempt.
pub const LEASE_MS: u64 = 5 * 60_000;

/// Deadlines one run claims at most: each takes up to two provider calls (plus retries), and a
/// Worker invocation on the Free plan may make 50 subrequests. The rest wait for the next minute.
pub const CLAIM_LIMIT: u32 = 10;

/// The caller name of a deadline's own actions in the audit log.
pub const DEADLINE_CALLER: &str = "deadline";

/// The wait before retry `attempts` + 1: one minute, doubling, at most 30 minutes.
pub fn retry_backoff_ms(attempts: u32) -> u64 {
    let minutes = 1u64 << attempts.saturating_sub(1).min(5);
    (minutes * 60_000).min(30 * 60_000)
}

pub use crate::store::deadline_time;

/// Sets `deadline` (replacing the instance's previous one), after checking its action against
/// the provider, and logs `deadline.set` or `deadline.changed` for `request_id`.
pub async fn set_deadline<S: Store>(store: &S, deadline: Deadline, request_id: &str) -> Result<Option<Deadline>> {
    deadline.action.check(deadline.provider)?;
    let entry = AuditEntry {
        seq: 0,
        at_ms: deadline.set_at_ms,
        caller: deadline.set_by.clone(),
        action: String::new(),
        provider: deadline.provider,
        instance_id: Some(deadline.instance_id.clone()),
        instance_name: deadline.instance_name.clone(),
        request_id: request_id.to_owned(),
        outcome: AuditOutcome::Ok,
        detail: Some(format!("{} at {}", deadline.action.as_str(), iso(deadline.at_ms))),
    };
    let previous = store.put_deadline(deadline).await?;
    let action =
        if previous.as_ref().is_some_and(|p| p.state == DeadlineState::Pending) { "deadline.changed" } else { "deadline.set" };
    store.append_audit(AuditEntry { action: action.to_owned(), ..entry }).await?;
    Ok(previous)
}

/// Clears an instance's deadline and logs `deadline.cleared`; `None` (and no log) if it had none.
pub async fn clear_deadline<S: Store>(
    store: &S,
    provider: Provider,
    instance_id: &str,
    caller: &str,
    request_id: &str,
    now_ms: u64,
) -> Result<Option<Deadline>> {
    let Some(previous) = store.clear_deadline(provider, instance_id).await? else { return Ok(None) };
    store
        .append_audit(AuditEntry {
            seq: 0,
            at_ms: now_ms,
            caller: caller.to_owned(),
            action: "deadline.cleared".into(),
            provider,
            instance_id: Some(instance_id.to_owned()),
            instance_name: previous.instance_name.clone(),
            request_id: request_id.to_owned(),
            outcome: AuditOutcome::Ok,
            detail: Some(format!("was {} at {}", previous.action.as_str(), iso(previous.at_ms))),
        })
        .await?;
    Ok(Some(previous))
}

/// What one scheduled run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// Deadlines claimed.
    pub claimed: u32,
    /// Fired (done).
    pub fired: u32,
    /// Failed this time, to be retried.
    pub retrying: u32,
    /// Given up.
    pub failed: u32,
    /// Claimed but no longer held when finishing (another run took over after the lease ran out).
    pub lost: u32,
}

/// Claims the deadlines due at `now_ms` for `owner` (a unique id of this run), carries each
/// out through `client`, records the outcome in the audit log, and releases it: done, retried
/// later with backoff, or given up after [`MAX_ATTEMPTS`].
pub async fn run_due_deadlines<T: Transport, S: Store>(
    client: &Client<T>,
    store: &S,
    owner: &str,
    now_ms: u64,
) -> Result<RunReport> {
    let claimed = store.claim_due(now_ms, owner, LEASE_MS, CLAIM_LIMIT).await?;
    let mut report = RunReport { claimed: claimed.len() as u32, ..RunReport::default() };
    for deadline in claimed {
        let attempt = attempt(client, &deadline).await;
        let (finish, action) = match attempt.result {
            Ok(()) => (Finish::Done { at_ms: now_ms }, "deadline.fired"),
            Err(ref why) if deadline.attempts >= MAX_ATTEMPTS => (Finish::GaveUp { error: why.clone() }, "deadline.failed"),
            Err(ref why) => (
                Finish::Retry { next_attempt_ms: now_ms + retry_backoff_ms(deadline.attempts), error: why.clone() },
                "deadline.fired",
            ),
        };
        let mut detail = format!("{} (attempt {} of {MAX_ATTEMPTS})", attempt.detail, deadline.attempts);
        match &finish {
            Finish::Done { .. } => report.fired += 1,
            Finish::Retry { next_attempt_ms, .. } => {
                report.retrying += 1;
                detail.push_str(&format!("; retry at {}", iso(*next_attempt_ms)));
            }
            Finish::GaveUp { .. } => report.failed += 1,
        }
        if !store.finish(deadline.provider, &deadline.instance_id, owner, finish).await? {
            report.lost += 1;
            detail.push_str("; the lease had run out");
        }
        store
            .append_audit(AuditEntry {
                seq: 0,
                at_ms: now_ms,
                caller: DEADLINE_CALLER.into(),
                action: action.into(),
                provider: deadline.provider,
                instance_id: Some(deadline.instance_id.clone()),
                instance_name: deadline.instance_name.clone(),
                request_id: owner.to_owned(),
                outcome: attempt.outcome,
                detail: Some(detail),
            })
            .await?;
    }
    Ok(report)
}

struct Attempt {
    result: std::result::Result<(), String>,
    outcome: AuditOutcome,
    detail: String,
}

impl Attempt {
    fn done(detail: String) -> Attempt {
        Attempt { result: Ok(()), outcome: AuditOutcome::Ok, detail }
    }

    fn failed(error: &Error, doing: &str) -> Attempt {
        Attempt {
            result: Err(format!("{doing}: {}", error.message)),
            outcome: AuditOutcome::of_error(error),
            detail: format!("{doing} failed: {}", error.message),
        }
    }
}

/// Whether `status` already is what `action` leads to.
fn already_ended(status: Status, action: DeadlineAction) -> bool {
    match action {
        DeadlineAction::Stop => matches!(status, Status::Stopped | Status::Terminated | Status::Terminating),
        DeadlineAction::Terminate => matches!(status, Status::Terminated | Status::Terminating),
        DeadlineAction::Delete => status == Status::Terminated,
    }
}

async fn attempt<T: Transport>(client: &Client<T>, d: &Deadline) -> Attempt {
    let verb = d.action.as_str();
    if d.attempts > 1 {
        // An earlier attempt may have acted (it died, or its outcome was unknown): look first.
        match client.get(d.provider, &d.instance_id).await {
            Err(e) if e.code == ErrorCode::NotFound => return Attempt::done("already gone".into()),
            Err(e) => return Attempt::failed(&e, "re-reading the instance"),
            Ok(i) if already_ended(i.status, d.action) => {
                return Attempt::done(format!("already {}", i.status.as_str()));
            }
            Ok(_) => {}
        }
    }
    let result = match d.action {
        DeadlineAction::Stop => client.stop(d.provider, &d.instance_id).await.map(|_| String::new()),
        DeadlineAction::Terminate => client.terminate(d.provider, &d.instance_id).await.map(|_| String::new()),
        DeadlineAction::Delete => client.delete(d.provider, &d.instance_id).await.map(|o| {
            if o.already_gone {
                " (it was already gone)".to_owned()
            } else {
                String::new()
            }
        }),
    };
    match result {
        Ok(note) => Attempt::done(format!("{verb}{note}")),
        Err(e) if e.code == ErrorCode::NotFound => Attempt::done("already gone".into()),
        Err(e) => Attempt::failed(&e, verb),
    }
}

fn iso(ms: u64) -> String {
    crate::provider::unix_seconds_to_iso((ms / 1000) as i64)
}

/// The most audit pages ([`ORPHAN_AUDIT_PAGE`] entries each) the orphan report reads for the
/// recorded creates; a log with more fails the report rather than call instances orphans that
/// have an owner on a page not read.
pub const ORPHAN_AUDIT_PAGES: usize = 40;
/// Entries per audit page the orphan report reads.
pub const ORPHAN_AUDIT_PAGE: u32 = 500;

/// The instance keys (provider, id) the audit log records a successful `create` for, read in
/// full ([`ORPHAN_AUDIT_PAGES`] pages at most, else an error: a partial set would make owned
/// instances look orphaned).
pub async fn recorded_creates<S: Store>(store: &S) -> Result<std::collections::BTreeSet<(Provider, String)>> {
    let mut out = std::collections::BTreeSet::new();
    let mut filter = crate::store::AuditFilter { action: Some("create".into()), limit: ORPHAN_AUDIT_PAGE, ..Default::default() };
    for _ in 0..ORPHAN_AUDIT_PAGES {
        let page = store.audit(&filter).await?;
        for e in page.entries {
            if let (Some(id), AuditOutcome::Ok) = (e.instance_id, e.outcome) {
                out.insert((e.provider, id));
            }
        }
        match page.next_cursor.and_then(|c| c.parse().ok()) {
            Some(before) => filter.before_seq = Some(before),
            None => return Ok(out),
        }
    }
    Err(Error::new(
        ErrorCode::Unsupported,
        format!(
            "the audit log holds more than {} creates; the orphan report cannot read them all",
            ORPHAN_AUDIT_PAGES * ORPHAN_AUDIT_PAGE as usize
        ),
    ))
}

/// The orphans among `instances`: not terminated, created more than `older_than_ms` before
/// `now_ms`, with no pending deadline and no recorded create. An instance without a creation
/// time cannot be aged and is left out (it is not reported as forgotten on a guess).
pub fn orphans(
    instances: &[crate::model::Instance],
    deadlines: &[Deadline],
    created: &std::collections::BTreeSet<(Provider, String)>,
    now_ms: u64,
    older_than_ms: u64,
) -> OrphanReport {
    let with_deadline: std::collections::BTreeSet<(Provider, &str)> =
        deadlines.iter().filter(|d| d.state == DeadlineState::Pending).map(|d| (d.provider, d.instance_id.as_str())).collect();
    let mut orphans: Vec<Orphan> = instances
        .iter()
        .filter(|i| !matches!(i.status, Status::Terminated | Status::Terminating))
        .filter(|i| !with_deadline.contains(&(i.provider, i.id.as_str())))
        .filter(|i| !created.contains(&(i.provider, i.id.clone())))
        .filter_map(|i| {
            // An unreadable time is as good as none: the instance is reported, its age unknown.
            let created_ms = i.created_at.as_deref().and_then(crate::money::iso_to_unix_ms);
            let age_ms = created_ms.and_then(|c| u64::try_from(c).ok()).map(|c| now_ms.saturating_sub(c));
            if age_ms.is_some_and(|age| age <= older_than_ms) {
                return None;
            }
            Some(Orphan {
                provider: i.provider,
                id: i.id.clone(),
                name: i.name.clone(),
                status: i.status,
                created_at: i.created_at.clone(),
                age_ms,
            })
        })
        .collect();
    // Oldest first, unknown ages last.
    let order = |o: &Orphan| (o.age_ms.is_none(), std::cmp::Reverse(o.age_ms), o.provider);
    orphans.sort_by(|a, b| order(a).cmp(&order(b)).then_with(|| a.id.cmp(&b.id)));
    OrphanReport { orphans, older_than_ms, at_ms: now_ms }
}
