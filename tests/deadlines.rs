//! Deadlines and the audit log over the in-memory store: a deadline fires exactly once under
//! overlapping runs and a run that dies between claim and action, retries provider failures with
//! backoff (re-reading the instance first), is done when the instance is already gone or
//! stopped, gives up after the last attempt, and bad input changes nothing.

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use futures::executor::block_on;
use gpufleet::deadlines::*;
use gpufleet::store::*;
use gpufleet::*;
use support::fixtures::client_config;
use support::scripted::{json, Answer, ScriptedTransport, START_MS};

const NOVITA: &str = "https://api.novita.ai/gpu-instance/openapi/v1";

/// A Novita server with one instance `n1` whose status is `status`; `stop` answers each stop.
fn novita(status: Rc<RefCell<&'static str>>, stop: impl Fn(u32) -> Answer + 'static) -> ScriptedTransport {
    let stops = RefCell::new(0u32);
    ScriptedTransport::new(move |r| {
        if r.url == format!("{NOVITA}/gpu/instance/stop") {
            *stops.borrow_mut() += 1;
            let answer = stop(*stops.borrow());
            if answer.as_ref().is_ok_and(|a| a.status == 200) {
                *status.borrow_mut() = "exited";
            }
            return answer;
        }
        if r.url.starts_with(&format!("{NOVITA}/gpu/instance?")) {
            return match *status.borrow() {
                "gone" => json(400, r#"{"code":400,"reason":"RESOURCE_NOT_FOUND","message":"instance not found"}"#),
                s => json(200, &format!(r#"{{"id":"n1","name":"trainer","status":"{s}"}}"#)),
            };
        }
        panic!("unexpected {} {}", r.method.as_str(), r.url)
    })
}

fn client(t: &ScriptedTransport) -> Client<&ScriptedTransport> {
    Client::new(
        t,
        client_config(&[Provider::Novita]).with_retry(RetryPolicy { max_retries: 0, base_delay_ms: 1, max_delay_ms: 1 }),
    )
}

fn stops(t: &ScriptedTransport) -> usize {
    t.urls().iter().filter(|u| u.ends_with("/gpu/instance/stop")).count()
}

const AT: u64 = START_MS + 60_000;

fn store_with_deadline() -> MemoryStore {
    let store = MemoryStore::new();
    let mut d = Deadline::new(Provider::Novita, "n1", AT, DeadlineAction::Stop, "alice", START_MS);
    d.instance_name = Some("trainer".into());
    block_on(set_deadline(&client(&ScriptedTransport::unreachable()), &store, d, "req-1")).unwrap();
    store
}

fn actions(store: &MemoryStore) -> Vec<(String, String, AuditOutcome)> {
    store.audit_entries().into_iter().map(|e| (e.caller, e.action, e.outcome)).collect()
}

#[test]
fn nothing_fires_before_its_time_and_it_fires_once() {
    let status = Rc::new(RefCell::new("running"));
    let t = novita(status.clone(), |_| json(200, "{}"));
    let store = store_with_deadline();
    let early = block_on(run_due_deadlines(&client(&t), &store, "run-0", AT - 1)).unwrap();
    assert_eq!(early.claimed, 0);
    assert_eq!(t.request_count(), 0);

    let report = block_on(run_due_deadlines(&client(&t), &store, "run-1", AT)).unwrap();
    assert_eq!((report.claimed, report.fired), (1, 1));
    assert_eq!(stops(&t), 1);
    let d = block_on(store.deadline(Provider::Novita, "n1")).unwrap().unwrap();
    assert_eq!((d.state, d.fired_at_ms, d.attempts), (DeadlineState::Done, Some(AT), 1));
    // A later run finds nothing to do.
    assert_eq!(block_on(run_due_deadlines(&client(&t), &store, "run-2", AT + 600_000)).unwrap().claimed, 0);
    assert_eq!(stops(&t), 1);
    assert_eq!(
        actions(&store),
        [
            ("alice".into(), "deadline.set".into(), AuditOutcome::Ok),
            (DEADLINE_CALLER.into(), "deadline.fired".into(), AuditOutcome::Ok),
        ]
    );
    let fired = &store.audit_entries()[1];
    assert_eq!((fired.instance_name.as_deref(), fired.request_id.as_str()), (Some("trainer"), "run-1"));
}

#[test]
fn overlapping_runs_act_once() {
    let status = Rc::new(RefCell::new("running"));
    // Each answer takes a few polls, so the two runs' futures interleave.
    let t = novita(status, |_| json(200, "{}")).with_polls(3);
    let store = store_with_deadline();
    let c = client(&t);
    let (a, b) =
        block_on(futures::future::join(run_due_deadlines(&c, &store, "run-a", AT), run_due_deadlines(&c, &store, "run-b", AT)));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.claimed + b.claimed, 1, "one run claimed it: {a:?} {b:?}");
    assert_eq!(stops(&t), 1);
    assert_eq!(store.audit_entries().iter().filter(|e| e.action == "deadline.fired").count(), 1);
}

#[test]
fn a_run_that_dies_after_its_claim_is_taken_over_when_the_lease_ends_and_looks_before_acting() {
    for (status_then, expect_stops) in [("running", 1), ("exited", 0), ("gone", 0)] {
        let status = Rc::new(RefCell::new("running"));
        let t = novita(status.clone(), |_| json(200, "{}"));
        let store = store_with_deadline();
        // A run claims it and dies (nothing acted, nothing finished).
        assert_eq!(block_on(store.claim_due(AT, "dead-run", LEASE_MS, CLAIM_LIMIT)).unwrap().len(), 1);
        *status.borrow_mut() = status_then;
        let during = block_on(run_due_deadlines(&client(&t), &store, "run-2", AT + 60_000)).unwrap();
        assert_eq!(during.claimed, 0, "the lease still holds");
        let after = block_on(run_due_deadlines(&client(&t), &store, "run-3", AT + LEASE_MS)).unwrap();
        assert_eq!((after.claimed, after.fired), (1, 1), "{status_then}");
        assert_eq!(stops(&t), expect_stops, "{status_then}: the second attempt reads the instance first");
        assert!(t.urls()[0].starts_with(&format!("{NOVITA}/gpu/instance?")), "{:?}", t.urls());
        let fired = store.audit_entries().pop().unwrap();
        assert_eq!(fired.outcome, AuditOutcome::Ok);
        assert!(fired.detail.as_deref().unwrap().contains("attempt 2 of"), "{:?}", fired.detail);
        // The dead run cannot finish it afterwards.
        assert!(!block_on(store.finish(Provider::Novita, "n1", "dead-run", Finish::Done { at_ms: 0 })).unwrap());
    }
}

#[test]
fn provider_failures_are_retried_with_backoff_and_logged() {
    let status = Rc::new(RefCell::new("running"));
    // 503 (outcome unknown), then 429 (refused), then done.
    let t = novita(status, |n| match n {
        1 => json(503, r#"{"code":503,"reason":"SERVICE_UNAVAILABLE","message":"busy"}"#),
        2 => json(429, r#"{"code":429,"reason":"RATE_LIMIT","message":"slow down"}"#),
        _ => json(200, "{}"),
    });
    let store = store_with_deadline();
    let r1 = block_on(run_due_deadlines(&client(&t), &store, "run-1", AT)).unwrap();
    assert_eq!(r1.retrying, 1);
    let d = block_on(store.deadline(Provider::Novita, "n1")).unwrap().unwrap();
    assert_eq!((d.state, d.next_attempt_ms), (DeadlineState::Pending, AT + retry_backoff_ms(1)));
    assert!(d.last_error.as_deref().unwrap().contains("busy"));
    // Not before the backoff.
    assert_eq!(block_on(run_due_deadlines(&client(&t), &store, "run-2", AT + 59_999)).unwrap().claimed, 0);
    let r3 = block_on(run_due_deadlines(&client(&t), &store, "run-3", AT + 60_000)).unwrap();
    assert_eq!(r3.retrying, 1);
    let d = block_on(store.deadline(Provider::Novita, "n1")).unwrap().unwrap();
    assert_eq!(d.next_attempt_ms, AT + 60_000 + retry_backoff_ms(2), "two minutes after the second attempt");
    let r4 = block_on(run_due_deadlines(&client(&t), &store, "run-4", d.next_attempt_ms)).unwrap();
    assert_eq!(r4.fired, 1);
    assert_eq!(stops(&t), 3);
    let outcomes: Vec<AuditOutcome> = store.audit_entries().into_iter().skip(1).map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [AuditOutcome::Unknown, AuditOutcome::Error { code: "rateLimited".into(), status: Some(429) }, AuditOutcome::Ok]
    );
}

#[test]
fn it_gives_up_after_the_last_attempt() {
    let status = Rc::new(RefCell::new("running"));
    let t = novita(status, |_| json(403, r#"{"code":403,"reason":"FORBIDDEN","message":"no"}"#));
    let store = store_with_deadline();
    let mut now = AT;
    for attempt in 1..=MAX_ATTEMPTS {
        let r = block_on(run_due_deadlines(&client(&t), &store, &format!("run-{attempt}"), now)).unwrap();
        assert_eq!(r.claimed, 1, "attempt {attempt}");
        now += retry_backoff_ms(attempt);
    }
    let d = block_on(store.deadline(Provider::Novita, "n1")).unwrap().unwrap();
    assert_eq!((d.state, d.attempts), (DeadlineState::Failed, MAX_ATTEMPTS));
    assert_eq!(store.audit_entries().last().unwrap().action, "deadline.failed");
    assert_eq!(block_on(run_due_deadlines(&client(&t), &store, "later", now + 86_400_000)).unwrap().claimed, 0);
    assert_eq!(retry_backoff_ms(1), 60_000);
    assert_eq!(retry_backoff_ms(20), 30 * 60_000, "capped at 30 minutes");
}

#[test]
fn bad_deadlines_are_refused_naming_the_field_and_change_nothing() {
    let now = START_MS;
    assert_eq!(deadline_time(Some(now + 1), None, now), Ok(now + 1));
    assert_eq!(deadline_time(None, Some(3_600_000), now), Ok(now + 3_600_000));
    for (at, after, field) in [
        (Some(now), None, "at"),
        (Some(now - 1), None, "at"),
        (None, Some(0), "after"),
        (Some(now + 1), Some(1), "at"),
        (None, None, "at"),
        (Some(now + 400 * 86_400_000), None, "at"),
    ] {
        let e = deadline_time(at, after, now).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), (ErrorCode::InvalidInput, Some(field)), "{at:?} {after:?}");
    }
    assert_eq!(DeadlineAction::parse("explode").unwrap_err().field.as_deref(), Some("action"));
    let store = MemoryStore::new();
    // fal cannot stop; SF Compute cannot stop either (it terminates).
    for (provider, action) in [(Provider::Fal, DeadlineAction::Stop), (Provider::Sfcompute, DeadlineAction::Stop)] {
        let t = ScriptedTransport::unreachable();
        let d = Deadline::new(provider, "i", now + 1, action, "bob", now);
        let e = block_on(set_deadline(&client(&t), &store, d, "r")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("action"));
        assert!(e.message.contains("supports"), "{}", e.message);
    }
    assert!(block_on(store.deadlines()).unwrap().is_empty());
    assert!(store.audit_entries().is_empty());
    for p in [Provider::Fal, Provider::FalAlpha, Provider::Sfcompute, Provider::Novita] {
        DeadlineAction::default_for(p).check(p).unwrap();
    }
}

#[test]
fn set_changed_cleared_are_logged_and_the_log_pages_newest_first() {
    let store = store_with_deadline();
    let d = Deadline::new(Provider::Novita, "n1", AT + 1, DeadlineAction::Delete, "bob", START_MS + 5);
    let t = ScriptedTransport::unreachable();
    let set = block_on(set_deadline(&client(&t), &store, d, "req-2")).unwrap();
    assert!(set.logged);
    assert_eq!(set.answer.previous.unwrap().action, DeadlineAction::Stop);
    assert_eq!(set.answer.mirror, None, "only SF Compute has tags");
    let clear = |id| block_on(clear_deadline(&client(&t), &store, Provider::Novita, "n1", "carol", id, START_MS + 9)).unwrap();
    assert!(clear("req-3").answer.cleared.is_some());
    assert!(clear("req-4").answer.cleared.is_none());
    assert!(t.urls().is_empty(), "Novita is not called: nothing to mirror");
    assert_eq!(
        actions(&store).into_iter().map(|(c, a, _)| format!("{c} {a}")).collect::<Vec<_>>(),
        ["alice deadline.set", "bob deadline.changed", "carol deadline.cleared"]
    );
    for n in 0..5 {
        let e = AuditEntry {
            seq: 0,
            at_ms: START_MS + n,
            caller: if n % 2 == 0 { "alice" } else { "bob" }.into(),
            action: "stop".into(),
            provider: Provider::Novita,
            instance_id: Some(format!("i{n}")),
            instance_name: None,
            request_id: format!("r{n}"),
            outcome: AuditOutcome::Ok,
            detail: None,
        };
        block_on(store.append_audit(e)).unwrap();
    }
    let page = block_on(store.audit(&AuditFilter { limit: 3, ..Default::default() })).unwrap();
    assert_eq!(page.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [8, 7, 6]);
    let cursor: u64 = page.next_cursor.unwrap().parse().unwrap();
    let rest = block_on(store.audit(&AuditFilter { limit: 10, before_seq: Some(cursor), ..Default::default() })).unwrap();
    assert_eq!(rest.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 4, 3, 2, 1]);
    assert_eq!(rest.next_cursor, None);
    let alice = block_on(store.audit(&AuditFilter { caller: Some("alice".into()), limit: 10, ..Default::default() })).unwrap();
    assert_eq!(alice.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [8, 6, 4, 1]);
    let one = block_on(store.audit(&AuditFilter { instance_id: Some("i3".into()), limit: 10, ..Default::default() })).unwrap();
    assert_eq!(one.entries.len(), 1);
    // Entries serialize for the API in camelCase, with the outcome tagged.
    let v = serde_json::to_value(&one.entries[0]).unwrap();
    assert_eq!(v["outcome"], serde_json::json!({ "kind": "ok" }));
    assert_eq!(v["requestId"], "r3");
}

fn instance(provider: Provider, id: &str, status: &str, created_at: Option<&str>) -> Instance {
    let mut v =
        serde_json::json!({"provider": provider.as_str(), "id": id, "status": status, "providerStatus": status, "raw": {}});
    if let Some(at) = created_at {
        v["createdAt"] = at.into();
    }
    serde_json::from_value(v).unwrap()
}

#[test]
fn orphans_are_old_instances_with_no_deadline_and_no_recorded_create() {
    let store = MemoryStore::new();
    let now = 1_764_849_600_000; // 2025-12-04T12:00:00Z
    let hour = 3_600_000;
    let create = |id: &str, outcome: AuditOutcome| AuditEntry {
        seq: 0,
        at_ms: now - 10 * hour,
        caller: "alice".into(),
        action: "create".into(),
        provider: Provider::Novita,
        instance_id: Some(id.into()),
        instance_name: None,
        request_id: "r".into(),
        outcome,
        detail: None,
    };
    block_on(store.append_audit(create("owned", AuditOutcome::Ok))).unwrap();
    block_on(store.append_audit(create("failed-create", AuditOutcome::Unknown))).unwrap();
    let mut stop = create("forgotten", AuditOutcome::Ok);
    stop.action = "stop".into(); // a stop is not a create: it says nothing about who owns it
    block_on(store.append_audit(stop)).unwrap();
    block_on(store.put_deadline(Deadline::new(Provider::Fal, "timed", now + hour, DeadlineAction::Delete, "bob", now))).unwrap();

    let created = block_on(recorded_creates(&store)).unwrap();
    assert_eq!(created.into_iter().collect::<Vec<_>>(), vec![(Provider::Novita, "owned".to_string())]);
    let created = block_on(recorded_creates(&store)).unwrap();
    let old = Some("2025-12-03T12:00:00Z"); // a day old
    let fleet = vec![
        instance(Provider::Novita, "owned", "running", old),
        instance(Provider::Novita, "failed-create", "running", old),
        instance(Provider::Novita, "forgotten", "running", Some("2025-12-01T12:00:00Z")),
        instance(Provider::Fal, "timed", "running", old),
        instance(Provider::Fal, "young", "running", Some("2025-12-04T11:00:00Z")),
        instance(Provider::Sfcompute, "ended", "terminated", old),
        instance(Provider::Sfcompute, "ageless", "running", None),
    ];
    let deadlines = block_on(store.deadlines()).unwrap();
    let report = orphans(&fleet, &deadlines, &created, now, 2 * hour);
    let ids: Vec<(&str, Option<u64>)> = report.orphans.iter().map(|o| (o.id.as_str(), o.age_ms.map(|a| a / hour))).collect();
    assert_eq!(
        ids,
        vec![("forgotten", Some(72)), ("failed-create", Some(24)), ("ageless", None)],
        "oldest first, then those whose age the provider does not give"
    );
    // Ages to the ms, and an unreadable creation time counts as unknown, not as new.
    let precise = vec![
        instance(Provider::Novita, "ms", "running", Some("2025-12-04T09:59:59.250Z")),
        instance(Provider::Novita, "garbled", "running", Some("last tuesday")),
    ];
    let report = orphans(&precise, &[], &Default::default(), now, 2 * hour);
    assert_eq!(
        report.orphans.iter().map(|o| (o.id.as_str(), o.age_ms)).collect::<Vec<_>>(),
        vec![("ms", Some(2 * hour + 750)), ("garbled", None)]
    );
    assert_eq!((report.older_than_ms, report.at_ms), (2 * hour, now));
    // A deadline that already fired no longer vouches for the instance.
    let mut done = deadlines.clone();
    done[0].state = DeadlineState::Done;
    assert!(orphans(&fleet, &done, &created, now, 2 * hour).orphans.iter().any(|o| o.id == "timed"));
}

#[test]
fn the_orphan_report_fails_rather_than_read_part_of_a_long_log() {
    let store = MemoryStore::new();
    for i in 0..(ORPHAN_AUDIT_PAGES * ORPHAN_AUDIT_PAGE as usize + 1) {
        let entry = AuditEntry {
            seq: 0,
            at_ms: 0,
            caller: "ci".into(),
            action: "create".into(),
            provider: Provider::Fal,
            instance_id: Some(format!("i{i}")),
            instance_name: None,
            request_id: "r".into(),
            outcome: AuditOutcome::Ok,
            detail: None,
        };
        block_on(store.append_audit(entry)).unwrap();
    }
    let e = block_on(recorded_creates(&store)).unwrap_err();
    assert!(e.message.contains("cannot read them all"), "{}", e.message);
}

#[test]
fn the_audit_log_filters_by_action() {
    let store = store_with_deadline();
    let t = ScriptedTransport::unreachable();
    block_on(clear_deadline(&client(&t), &store, Provider::Novita, "n1", "bob", "req-2", START_MS + 1)).unwrap();
    let page =
        block_on(store.audit(&AuditFilter { action: Some("deadline.cleared".into()), limit: 10, ..Default::default() })).unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].caller, "bob");
}

#[test]
fn deadlines_of_reads_only_the_instances_named() {
    let store = store_with_deadline();
    let mut other = Deadline::new(Provider::Sfcompute, "n1", AT, DeadlineAction::Terminate, "bob", START_MS);
    other.state = DeadlineState::Done;
    block_on(store.put_deadline(other)).unwrap();
    block_on(store.put_deadline(Deadline::new(Provider::Novita, "n2", AT, DeadlineAction::Stop, "bob", START_MS))).unwrap();
    let got =
        block_on(store.deadlines_of(&[(Provider::Novita, "n1"), (Provider::Sfcompute, "n1"), (Provider::Fal, "n2")])).unwrap();
    let mut keys: Vec<(Provider, String, DeadlineState)> =
        got.into_iter().map(|d| (d.provider, d.instance_id, d.state)).collect();
    keys.sort_by_key(|k| k.0);
    assert_eq!(
        keys,
        [
            (Provider::Sfcompute, "n1".to_owned(), DeadlineState::Done),
            (Provider::Novita, "n1".to_owned(), DeadlineState::Pending)
        ]
    );
    assert!(block_on(store.deadlines_of(&[])).unwrap().is_empty());

    // Joined onto instances: each gets its own, the rest none.
    let mut instances = vec![
        instance(Provider::Novita, "n1", "running", None),
        instance(Provider::Novita, "n2", "running", None),
        instance(Provider::Novita, "n3", "running", None),
        instance(Provider::Sfcompute, "n1", "running", None),
    ];
    attach_deadlines(&mut instances, block_on(store.deadlines()).unwrap());
    let states: Vec<Option<DeadlineState>> = instances.iter().map(|i| i.deadline.as_ref().map(|d| d.state)).collect();
    assert_eq!(states, [Some(DeadlineState::Pending), Some(DeadlineState::Pending), None, Some(DeadlineState::Done)]);
    assert_eq!(instances[3].deadline.as_ref().unwrap().action, DeadlineAction::Terminate, "the provider counts");
}
