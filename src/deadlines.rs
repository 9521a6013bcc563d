//! Deadlines the edge enforces: setting one (validated against the provider's capabilities and
//! logged; over its own route, [`set_deadline`], or in the create call,
//! [`set_deadline_on_created`]), on SF Compute copied into the instance's [`DEADLINE_TAG`] (a
//! copy for people: the store's record is what fires), put on the instances of the proxy's
//! answers ([`attach_deadlines`]), and [`run_due_deadlines`], the one function the Worker's
//! `scheduled()` calls every minute. A deadline fires **exactly once**: [`Store::claim_due`] takes it under a lease, so
//! overlapping runs never share it; a run that dies between claim and action leaves it to be
//! claimed again when the lease ends, and any attempt after the first re-reads the instance
//! before acting (already stopped, terminated or gone → done, not acted on twice).

use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::http::Transport;
use crate::model::{Instance, Status, TagMirror};
use crate::provider_id::Provider;
use crate::records_api::{ClearedDeadline, DeadlineAnswer};
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

/// The SF Compute tag a deadline is mirrored into (see [`deadline_tag_value`]).
pub const DEADLINE_TAG: &str = "gpufleet-deadline";

/// The value of an instance's [`DEADLINE_TAG`]: when and what, `2026-12-04T18:00:00Z terminate`
/// (milliseconds shown only when the time has some). SF Compute's tag values may hold neither `,`
/// nor `=`, so the time is ISO 8601 and the action a word.
pub fn deadline_tag_value(deadline: &Deadline) -> String {
    format!("{} {}", iso_ms(deadline.at_ms), deadline.action.as_str())
}

/// A deadline change's answer, and whether the audit log took its entry (when it did not, the
/// proxy still answers, with `X-Gpufleet-Audit: failed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<A> {
    /// What the change did.
    pub answer: A,
    /// Whether the audit entry was appended.
    pub logged: bool,
}

/// Sets `deadline` (replacing the instance's previous one), after checking its action against
/// the provider; on SF Compute copies it into the instance's [`DEADLINE_TAG`] through `client`
/// (a failed copy is reported in `mirror`, not an error: the deadline is set); and logs
/// `deadline.set` or `deadline.changed` for `request_id`. An error means nothing was stored.
pub async fn set_deadline<T: Transport, S: Store>(
    client: &Client<T>,
    store: &S,
    deadline: Deadline,
    request_id: &str,
) -> Result<Recorded<DeadlineAnswer>> {
    deadline.action.check(deadline.provider)?;
    let previous = store.put_deadline(deadline.clone()).await?;
    let mirror = match deadline.provider {
        Provider::Sfcompute => {
            let value = deadline_tag_value(&deadline);
            let written = client.set_tag(deadline.provider, &deadline.instance_id, DEADLINE_TAG, Some(&value), None).await;
            Some(mirrored(Some(value), written.map(|_| ())))
        }
        _ => None,
    };
    let logged = log_set(store, &deadline, previous.as_ref(), mirror.as_ref(), request_id).await;
    Ok(Recorded { answer: DeadlineAnswer { deadline, previous, mirror }, logged })
}

/// After a create given a deadline: stores `deadline` for the `created` instance (its id and
/// name filled in from it), mirrors it on SF Compute (from the tags the create answered with: no
/// second read), logs `deadline.set`, and puts what happened on `created` — `deadline` when
/// stored, else `deadlineError` (the instance exists all the same); `deadlineMirror` on SF
/// Compute, whose PATCH answer (the instance with its new tag) replaces `created`. Returns whether
/// the audit log took the entry.
pub async fn set_deadline_on_created<T: Transport, S: Store>(
    client: &Client<T>,
    store: &S,
    mut deadline: Deadline,
    created: &mut Instance,
    request_id: &str,
) -> bool {
    deadline.instance_id = created.id.clone();
    deadline.instance_name = created.name.clone();
    let previous = match store.put_deadline(deadline.clone()).await {
        Ok(previous) => previous,
        Err(mut e) => {
            e.message = format!(
                "the instance was created, but its deadline could not be stored ({}): do not create it again; set the deadline on {} (PUT …/deadline, fleet.setDeadline)",
                e.message, created.id
            );
            created.deadline_error = Some(Box::new(e));
            return true;
        }
    };
    let mirror = match deadline.provider {
        Provider::Sfcompute => {
            let value = deadline_tag_value(&deadline);
            // From the tags the create answered with: the instance is new, no second read.
            let current = created.tags.clone().unwrap_or_default();
            let written = client.set_tag(deadline.provider, &created.id, DEADLINE_TAG, Some(&value), Some(&current)).await;
            let written = written.map(|patched| {
                if let Some(patched) = patched {
                    *created = patched;
                }
            });
            Some(mirrored(Some(value), written))
        }
        _ => None,
    };
    let logged = log_set(store, &deadline, previous.as_ref(), mirror.as_ref(), request_id).await;
    created.deadline = Some(Box::new(deadline));
    created.deadline_mirror = mirror.map(Box::new);
    logged
}

/// Clears an instance's deadline and logs `deadline.cleared` (nothing to log when it had none).
/// On SF Compute the [`DEADLINE_TAG`] is removed too, whether or not there was a deadline, so a
/// tag that an earlier failed removal left behind goes as well.
pub async fn clear_deadline<T: Transport, S: Store>(
    client: &Client<T>,
    store: &S,
    provider: Provider,
    instance_id: &str,
    caller: &str,
    request_id: &str,
    now_ms: u64,
) -> Result<Recorded<ClearedDeadline>> {
    let cleared = store.clear_deadline(provider, instance_id).await?;
    let mirror = match provider {
        Provider::Sfcompute => {
            let removed = client.set_tag(provider, instance_id, DEADLINE_TAG, None, None).await;
            Some(mirrored(None, removed.map(|_| ())))
        }
        _ => None,
    };
    let mut logged = true;
    if let Some(previous) = &cleared {
        let entry = AuditEntry {
            seq: 0,
            at_ms: now_ms,
            caller: caller.to_owned(),
            action: "deadline.cleared".into(),
            provider,
            instance_id: Some(instance_id.to_owned()),
            instance_name: previous.instance_name.clone(),
            request_id: request_id.to_owned(),
            outcome: AuditOutcome::Ok,
            detail: Some(format!("was {} at {}{}", previous.action.as_str(), iso(previous.at_ms), mirror_note(mirror.as_ref()))),
        };
        logged = store.append_audit(entry).await.is_ok();
    }
    Ok(Recorded { answer: ClearedDeadline { cleared, mirror }, logged })
}

/// Appends `deadline.set` (or `deadline.changed`, when it replaced a pending one).
async fn log_set<S: Store>(
    store: &S,
    deadline: &Deadline,
    previous: Option<&Deadline>,
    mirror: Option<&TagMirror>,
    request_id: &str,
) -> bool {
    let action = if previous.is_some_and(|p| p.state == DeadlineState::Pending) { "deadline.changed" } else { "deadline.set" };
    let entry = AuditEntry {
        seq: 0,
        at_ms: deadline.set_at_ms,
        caller: deadline.set_by.clone(),
        action: action.to_owned(),
        provider: deadline.provider,
        instance_id: Some(deadline.instance_id.clone()),
        instance_name: deadline.instance_name.clone(),
        request_id: request_id.to_owned(),
        outcome: AuditOutcome::Ok,
        detail: Some(format!("{} at {}{}", deadline.action.as_str(), iso(deadline.at_ms), mirror_note(mirror))),
    };
    store.append_audit(entry).await.is_ok()
}

fn mirrored(value: Option<String>, written: Result<()>) -> TagMirror {
    match written {
        Ok(()) => TagMirror { tag: DEADLINE_TAG.into(), value, ok: true, error: None },
        Err(e) => TagMirror { tag: DEADLINE_TAG.into(), value, ok: false, error: Some(e) },
    }
}

/// What the audit entry's detail says of the tag mirror.
fn mirror_note(mirror: Option<&TagMirror>) -> String {
    match mirror {
        None => String::new(),
        Some(TagMirror { ok: true, value: Some(_), .. }) => format!("; tag {DEADLINE_TAG} written"),
        Some(TagMirror { ok: true, value: None, .. }) => format!("; tag {DEADLINE_TAG} removed"),
        Some(TagMirror { error, value, .. }) => format!(
            "; tag {DEADLINE_TAG} not {}: {}",
            if value.is_some() { "written" } else { "removed" },
            error.as_ref().map_or("", |e| e.message.as_str())
        ),
    }
}

/// Puts on each of `instances` its deadline from `deadlines` (what the store gave for the whole
/// answer: one read, not one per instance), through a hash map of the deadlines: one lookup per
/// instance, no allocation for instances without a deadline.
pub fn attach_deadlines(instances: &mut [Instance], deadlines: Vec<Deadline>) {
    if deadlines.is_empty() || instances.is_empty() {
        return;
    }
    let index: std::collections::HashMap<(Provider, &str), usize> =
        deadlines.iter().enumerate().map(|(at, d)| ((d.provider, d.instance_id.as_str()), at)).collect();
    for instance in instances {
        if let Some(&at) = index.get(&(instance.provider, instance.id.as_str())) {
            instance.deadline = Some(Box::new(deadlines[at].clone()));
        }
    }
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

/// [`iso`] with the milliseconds, when there are any (`2026-12-04T18:00:00.250Z`).
fn iso_ms(ms: u64) -> String {
    let whole = iso(ms);
    match (ms % 1000, whole.strip_suffix('Z')) {
        (0, _) | (_, None) => whole,
        (frac, Some(seconds)) => format!("{seconds}.{frac:03}Z"),
    }
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
