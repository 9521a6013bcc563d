//! Reliability against the real simulated clouds (issue #8): 10,000 instances per provider listed
//! through 30 % injected faults — from the first request and from mid-pagination — return exactly
//! the simulator's true set with every failure retried exactly once and `Retry-After` honoured;
//! and a create whose connection drops after the provider accepted it never makes a second
//! instance (fal through its `Idempotency-Key`, the others by not retrying and saying so).
//! Needs `node` on PATH.

mod support;

use std::collections::BTreeMap;

use futures::executor::block_on;
use gpufleet::*;
use serde_json::{json, Value};
use support::sim::{ids, Sim, ThreadedHttp};

const N: usize = 10_000;
/// `Retry-After` the simulator sends with 429 and 503 (seconds): small, but longer than any
/// backoff of the test policy, so a sleep of exactly this long can only come from the header.
const RETRY_AFTER_S: f64 = 0.05;
const RETRY_AFTER_MS: u64 = 50;
const FAULT_KINDS: [&str; 7] = ["429", "500", "502", "503", "drop", "truncate", "slow"];

fn start() -> Sim {
    Sim::start(&["--instances", &N.to_string(), "--seed", "8", "--speed", "0"])
}

/// Backoff of at most 20 ms, and enough retries that 30 % faults never exhaust them
/// (0.3^11 ≈ 2·10⁻⁶ per page).
fn config(sim: &Sim) -> ClientConfig {
    sim.config().with_retry(RetryPolicy { max_retries: 10, base_delay_ms: 2, max_delay_ms: 20 })
}

/// Each provider's largest page, so 10,000 instances take 100 (fal, Novita), 50 (SF Compute)
/// or 1 (fal alpha) pages.
fn largest_pages(p: Provider) -> (ListQuery, usize) {
    match p {
        Provider::Fal => (ListQuery::Fal(FalListQuery { limit: Some(100), ..Default::default() }), N / 100),
        Provider::FalAlpha => (ListQuery::first_page(p), 1),
        Provider::Sfcompute => (ListQuery::Sfcompute(SfcListQuery { limit: Some(200), ..Default::default() }), N / 200),
        Provider::Novita => (ListQuery::Novita(NovitaListQuery { limit: Some(100), ..Default::default() }), N / 100),
    }
}

struct Outcome {
    instances: Vec<Instance>,
    log: Vec<Value>,
    sleeps: Vec<u64>,
}

/// Lists every instance of `p` through the fault `rule` (added for `p` alone) and returns what
/// the client got, the simulator's request log of the listing, and the client's sleeps.
fn list_through(sim: &Sim, p: Provider, mut rule: Value) -> Outcome {
    sim.control(Method::Delete, "faults", Value::Null);
    sim.control(Method::Delete, "requests", Value::Null);
    rule["provider"] = json!(p.as_str());
    sim.control(Method::Post, "faults", rule);
    let transport = ThreadedHttp::default();
    let client = Client::new(&transport, config(sim));
    let instances = block_on(client.list_all_pages(largest_pages(p).0)).unwrap_or_else(|e| panic!("{p}: {e}"));
    sim.control(Method::Delete, "faults", Value::Null);
    Outcome { instances, log: sim.requests(p), sleeps: transport.sleeps() }
}

fn fault_of(entry: &Value) -> Option<&str> {
    entry["fault"].as_str()
}

/// The checks every faulty listing must pass; returns the faults seen, by kind.
fn check(sim: &Sim, p: Provider, out: &Outcome) -> BTreeMap<String, usize> {
    let truth = sim.true_ids(p);
    assert_eq!(truth.len(), N, "{p}: the simulator holds {N}");
    assert_eq!(out.instances.len(), N, "{p}: none lost, none duplicated");
    assert_eq!(ids(&out.instances), truth, "{p}: exactly the true set");

    let mut faults: BTreeMap<String, usize> = BTreeMap::new();
    for e in &out.log {
        if let Some(kind) = fault_of(e) {
            *faults.entry(kind.to_owned()).or_default() += 1;
        }
    }
    let count = |k: &str| faults.get(k).copied().unwrap_or(0);
    // A slow answer is still an answer; every other fault fails its attempt.
    let failed_attempts: usize = faults.iter().filter(|(k, _)| *k != "slow").map(|(_, n)| n).sum();
    // Novita: pageNum 0 and 1 are the same page on the simulator (it counts from 1), and a new
    // client asks for both once to learn that (`Client::list_page`).
    let pages = largest_pages(p).1 + usize::from(p == Provider::Novita);
    let answered = out.log.iter().filter(|e| matches!(fault_of(e), None | Some("slow"))).count();
    assert_eq!(answered, pages, "{p}: each page answered exactly once ({faults:?})");
    // Retries are bounded: one per failed attempt and none otherwise.
    assert_eq!(out.log.len(), pages + failed_attempts, "{p}: one retry per failed attempt ({faults:?})");
    assert_eq!(out.sleeps.len(), failed_attempts, "{p}: one backoff per retry");
    // Retry-After is honoured: exactly the 429s and 503s waited the header's 50 ms, every other
    // backoff stayed within the policy's 20 ms.
    let waited_header = out.sleeps.iter().filter(|&&ms| ms == RETRY_AFTER_MS).count();
    assert_eq!(waited_header, count("429") + count("503"), "{p}: sleeps {:?}", out.sleeps);
    assert!(out.sleeps.iter().all(|&ms| ms == RETRY_AFTER_MS || ms <= 20), "{p}: {:?}", out.sleeps);
    faults
}

fn fault_rule(seed: u64, after: u64) -> Value {
    json!({"rate": 0.3, "kinds": FAULT_KINDS, "retryAfterSeconds": RETRY_AFTER_S, "slowMs": 20, "seed": seed, "after": after})
}

#[test]
fn ten_thousand_per_provider_through_thirty_percent_faults() {
    let sim = start();
    let mut all_faults: BTreeMap<String, usize> = BTreeMap::new();
    let mut requests = 0;
    for (i, p) in Provider::ALL.into_iter().enumerate() {
        // fal alpha answers in one page: a higher rate makes sure its one page is faulted too.
        let mut rule = fault_rule(100 + i as u64, 0);
        if p == Provider::FalAlpha {
            rule["rate"] = json!(0.6);
        }
        let out = list_through(&sim, p, rule);
        let faults = check(&sim, p, &out);
        let faulted: usize = faults.values().sum();
        eprintln!("{p}: {N} instances, {} requests, faults {faults:?}", out.log.len());
        if p != Provider::FalAlpha {
            let share = faulted as f64 / out.log.len() as f64;
            assert!((0.15..0.45).contains(&share), "{p}: {faulted} of {} requests faulted", out.log.len());
        }
        requests += out.log.len();
        for (k, n) in faults {
            *all_faults.entry(k).or_default() += n;
        }
    }
    for kind in FAULT_KINDS {
        assert!(all_faults.get(kind).copied().unwrap_or(0) > 0, "fault kind {kind} was injected: {all_faults:?}");
    }
    eprintln!("all providers: {requests} requests, faults {all_faults:?}");
}

#[test]
fn faults_that_start_mid_pagination() {
    // Faults switch on after the first 10 requests of a provider, i.e. from page 11 (fal,
    // Novita: 100 pages; SF Compute: 50). fal alpha has no second page and is covered above.
    let sim = start();
    for (i, p) in [Provider::Fal, Provider::Sfcompute, Provider::Novita].into_iter().enumerate() {
        let out = list_through(&sim, p, fault_rule(200 + i as u64, 10));
        let faults = check(&sim, p, &out);
        assert!(out.log[..10].iter().all(|e| fault_of(e).is_none()), "{p}: no fault before page 11");
        assert!(faults.values().sum::<usize>() >= 10, "{p}: faults after page 10: {faults:?}");
        eprintln!("{p} (faults from request 11): {} requests, faults {faults:?}", out.log.len());
    }
}

// ----- create under an ambiguous failure -------------------------------------------------------

fn create_input(p: Provider) -> CreateInput {
    match p {
        Provider::Fal => CreateInput::Fal(FalCreateInput {
            instance_type: "gpu_1x_h100_sxm5".into(),
            ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 reliability".into(),
            ..Default::default()
        }),
        Provider::FalAlpha => CreateInput::FalAlpha(FalAlphaCreateInput {
            instance_type: "gpu_1x_h100_sxm5".into(),
            ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 reliability".into(),
            sector: None,
        }),
        Provider::Sfcompute => CreateInput::Sfcompute(SfcCreateInput {
            capacity: Some("cap_h100sfprod01".into()),
            image: "image_ubuntu2204cuda127".into(),
            ..Default::default()
        }),
        Provider::Novita => CreateInput::Novita(NovitaCreateInput {
            product_id: "prod-rtx4090-24g".into(),
            gpu_num: Some(1),
            rootfs_size: Some(50),
            image_url: "nvcr.io/nvidia/pytorch:24.01-py3".into(),
            ..Default::default()
        }),
    }
}

fn posts_of(sim: &Sim, p: Provider) -> Vec<Value> {
    sim.requests(p).into_iter().filter(|e| e["method"] == "POST").collect()
}

fn small_sim() -> Sim {
    Sim::start(&["--instances", "5", "--seed", "3", "--speed", "0"])
}

#[test]
fn fal_create_whose_answer_is_lost_is_retried_with_the_same_key_and_makes_one_instance() {
    let sim = small_sim();
    let transport = ThreadedHttp::default();
    let client = Client::new(&transport, config(&sim));
    let before = sim.true_ids(Provider::Fal);
    // The first POST is applied, then its connection dropped before any answer.
    sim.control(
        Method::Post,
        "faults",
        json!({"provider": "fal", "kinds": ["drop-after-commit"], "methods": ["POST"], "times": 1}),
    );
    let created = block_on(client.create(&create_input(Provider::Fal))).expect("the retry gets the instance");
    let after = sim.true_ids(Provider::Fal);
    assert_eq!(after.len(), before.len() + 1, "exactly one instance");
    assert!(after.contains(&created.id) && !before.contains(&created.id), "the one created");
    let posts = posts_of(&sim, Provider::Fal);
    assert_eq!(posts.len(), 2, "one retry");
    assert_eq!(posts[0]["fault"], "drop-after-commit");
    assert_eq!(posts[1]["note"], "idempotent-replay", "the sim answered the retry from its key cache");
    let key = posts[0]["headers"]["idempotency-key"].as_str().expect("an Idempotency-Key was sent");
    assert_eq!(posts[1]["headers"]["idempotency-key"], key, "the same key on the retry");

    // Every answer lost: the retries all carry the same key, one instance exists, and the
    // error says the outcome is unknown and how to settle it.
    sim.control(Method::Delete, "requests", Value::Null);
    sim.control(Method::Post, "faults", json!({"provider": "fal", "kinds": ["drop-after-commit"], "methods": ["POST"]}));
    let client =
        Client::new(&transport, config(&sim).with_retry(RetryPolicy { max_retries: 3, base_delay_ms: 1, max_delay_ms: 2 }));
    let err = block_on(client.create(&create_input(Provider::Fal))).unwrap_err();
    assert_eq!(err.code, ErrorCode::Network, "{err}");
    assert!(err.message.contains("outcome is unknown"), "{}", err.message);
    let posts = posts_of(&sim, Provider::Fal);
    assert_eq!(posts.len(), 4, "the first attempt and 3 retries");
    let key = posts[0]["headers"]["idempotency-key"].as_str().unwrap().to_owned();
    assert!(posts.iter().all(|e| e["headers"]["idempotency-key"] == key.as_str()));
    assert!(err.message.contains(&key), "the message names the key to retry with: {}", err.message);
    let detail = err.details.iter().find(|d| d.code.as_deref() == Some("outcomeUnknown")).expect("outcomeUnknown detail");
    assert_eq!((detail.field.as_deref(), detail.message.as_str()), (Some("idempotencyKey"), key.as_str()));
    assert_eq!(sim.true_ids(Provider::Fal).len(), before.len() + 2, "still one instance per create");
    // Creating again with that key returns the instance the lost attempts made.
    sim.control(Method::Delete, "faults", Value::Null);
    let CreateInput::Fal(mut input) = create_input(Provider::Fal) else { unreachable!() };
    input.idempotency_key = Some(key);
    let again = block_on(client.create(&CreateInput::Fal(input))).unwrap();
    assert_eq!(sim.true_ids(Provider::Fal).len(), before.len() + 2, "no third instance");
    assert!(!after.contains(&again.id), "the instance of the lost attempts");
}

#[test]
fn other_creates_whose_answer_is_lost_are_not_retried_and_say_the_outcome_is_unknown() {
    let sim = small_sim();
    let transport = ThreadedHttp::default();
    let client = Client::new(&transport, config(&sim));
    for p in [Provider::FalAlpha, Provider::Sfcompute, Provider::Novita] {
        sim.control(Method::Delete, "requests", Value::Null);
        let before = sim.true_ids(p);
        sim.control(
            Method::Post,
            "faults",
            json!({"provider": p.as_str(), "kinds": ["drop-after-commit"], "methods": ["POST"], "times": 1}),
        );
        let err = block_on(client.create(&create_input(p))).unwrap_err();
        assert_eq!(err.code, ErrorCode::Network, "{p}: {err}");
        assert_eq!(err.provider, Some(p));
        for words in ["outcome is unknown", "may or may not have created", "not retried", "check the instance list"] {
            assert!(err.message.contains(words), "{p}: {words:?} in {}", err.message);
        }
        assert!(err.details.iter().any(|d| d.code.as_deref() == Some("outcomeUnknown")), "{p}: {:?}", err.details);
        assert_eq!(posts_of(&sim, p).len(), 1, "{p}: never repeated");
        assert_eq!(sim.true_ids(p).len(), before.len() + 1, "{p}: the provider did create it, once");

        // A 5xx before anything was applied: not retried either, nothing created.
        sim.control(Method::Delete, "requests", Value::Null);
        sim.control(Method::Post, "faults", json!({"provider": p.as_str(), "kinds": ["500"], "methods": ["POST"], "times": 1}));
        let err = block_on(client.create(&create_input(p))).unwrap_err();
        assert_eq!(err.code, ErrorCode::Server, "{p}: {err}");
        assert!(err.message.contains("outcome is unknown"), "{p}: {}", err.message);
        assert_eq!(posts_of(&sim, p).len(), 1, "{p}: never repeated");
        assert_eq!(sim.true_ids(p).len(), before.len() + 1, "{p}: nothing more created");
        sim.control(Method::Delete, "faults", Value::Null);
    }
}

#[test]
fn a_rate_limited_create_is_retried_after_retry_after_everywhere() {
    // 429 means the provider did not act, so even a non-idempotent create is repeated — after
    // the Retry-After it asked for — and makes exactly one instance.
    let sim = small_sim();
    for p in Provider::ALL {
        let transport = ThreadedHttp::default();
        let client = Client::new(&transport, config(&sim));
        sim.control(Method::Delete, "requests", Value::Null);
        let before = sim.true_ids(p);
        sim.control(
            Method::Post,
            "faults",
            json!({"provider": p.as_str(), "kinds": ["429"], "methods": ["POST"], "times": 2, "retryAfterSeconds": RETRY_AFTER_S}),
        );
        block_on(client.create(&create_input(p))).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(posts_of(&sim, p).len(), 3, "{p}: two 429s, then the create");
        assert_eq!(transport.sleeps(), [RETRY_AFTER_MS, RETRY_AFTER_MS], "{p}: waited as asked");
        assert_eq!(sim.true_ids(p).len(), before.len() + 1, "{p}: one instance");
        sim.control(Method::Delete, "faults", Value::Null);
    }
}
