//! Client behaviour with a scripted transport and a fake clock: retries, paging guards, fan-out,
//! capability gating, waiters. No network, no real sleeping.

mod support;

use std::cell::Cell;
use std::collections::VecDeque;

use futures::executor::block_on;
use gpufleet::records_api::DeadlineRequest;
use gpufleet::*;
use support::fixtures::{all_providers, client_config, proxy_client_config, SFC_WORKSPACE};
use support::scripted::{json, ScriptedTransport};

fn fal_instance(id: &str, status: &str) -> String {
    format!(r#"{{"id":"{id}","instance_type":"gpu_1x_h100_sxm5","region":"us-west","status":"{status}"}}"#)
}

fn fal_page(ids: &[&str], next: Option<&str>, has_more: bool) -> String {
    let items: Vec<String> = ids.iter().map(|id| fal_instance(id, "ready")).collect();
    let next = next.map(|c| format!("\"{c}\"")).unwrap_or_else(|| "null".into());
    format!(r#"{{"instances":[{}],"next_cursor":{next},"has_more":{has_more}}}"#, items.join(","))
}

const FAL_500: &str = r#"{"error":{"type":"server_error","message":"An unexpected error occurred"}}"#;
const FAL_429: &str = r#"{"error":{"type":"rate_limited","message":"Rate limit exceeded"}}"#;

fn fal_create() -> CreateInput {
    CreateInput::Fal(FalCreateInput {
        instance_type: "gpu_1x_h100_sxm5".into(),
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2".into(),
        ..Default::default()
    })
}

// ----- retries ---------------------------------------------------------------------------------

#[test]
fn get_retries_5xx_then_succeeds() {
    let fake =
        ScriptedTransport::script(vec![json(500, FAL_500), json(503, FAL_500), json(200, &fal_instance("inst_1", "ready"))])
            .with_random_byte(0x80);
    let client = Client::new(&fake, all_providers());
    let inst = block_on(client.get(Provider::Fal, "inst_1")).unwrap();
    assert_eq!(inst.status, Status::Running);
    assert_eq!(fake.request_count(), 3);
    // Equal jitter with random ≈ 0.5: 300 ms → [150, 300], then 600 ms → [300, 600].
    let sleeps = fake.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!((150..=300).contains(&sleeps[0]), "{sleeps:?}");
    assert!((300..=600).contains(&sleeps[1]), "{sleeps:?}");
}

#[test]
fn retries_are_bounded() {
    let fake = ScriptedTransport::script(vec![json(500, FAL_500)]);
    let client = Client::new(&fake, all_providers().with_retry(RetryPolicy { max_retries: 2, ..Default::default() }));
    let err = block_on(client.get(Provider::Fal, "inst_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Server);
    assert_eq!(err.status, Some(500));
    assert!(err.retryable);
    assert_eq!(fake.request_count(), 3, "first attempt + 2 retries");
}

#[test]
fn retry_after_seconds_is_honoured_and_capped() {
    let fake = ScriptedTransport::script(vec![
        Ok(HttpResponse::new(429, FAL_429).with_header("Retry-After", "7")),
        Ok(HttpResponse::new(429, FAL_429).with_header("Retry-After", "3600")),
        json(200, &fal_instance("inst_1", "ready")),
    ]);
    let client = Client::new(&fake, all_providers());
    block_on(client.get(Provider::Fal, "inst_1")).unwrap();
    assert_eq!(fake.sleeps(), vec![7_000, 60_000]);
}

#[test]
fn retry_after_http_date_uses_the_clock() {
    let fake = ScriptedTransport::script(vec![
        Ok(HttpResponse::new(429, FAL_429).with_header("Retry-After", "Tue, 14 Nov 2023 22:13:25 GMT")),
        json(200, &fal_instance("inst_1", "ready")),
    ]);
    fake.set_now(1_700_000_000_000); // Tue, 14 Nov 2023 22:13:20 GMT
    let client = Client::new(&fake, all_providers());
    block_on(client.get(Provider::Fal, "inst_1")).unwrap();
    assert_eq!(fake.sleeps(), vec![5_000]);
}

#[test]
fn rate_limit_error_carries_retry_after_when_retries_run_out() {
    let fake = ScriptedTransport::script(vec![Ok(HttpResponse::new(429, FAL_429).with_header("Retry-After", "2"))]);
    let client = Client::new(&fake, all_providers().with_retry(RetryPolicy { max_retries: 0, ..Default::default() }));
    let err = block_on(client.get(Provider::Fal, "x")).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(err.retry_after_ms, Some(2000));
    assert_eq!(fake.request_count(), 1);
}

#[test]
fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let fake = ScriptedTransport::script(vec![json(status, r#"{"error":{"type":"x","message":"no"}}"#)]);
        let client = Client::new(&fake, all_providers());
        let err = block_on(client.get(Provider::Fal, "inst_1")).unwrap_err();
        assert_eq!(err.status, Some(status));
        assert!(!err.retryable);
        assert_eq!(fake.request_count(), 1, "status {status}");
    }
}

#[test]
fn network_errors_and_truncated_bodies_are_retried_for_reads() {
    let fake = ScriptedTransport::script(vec![
        Err(TransportError::Network("connection reset".into())),
        json(200, r#"{"instances":[{"id":"a","sta"#),
        Err(TransportError::Timeout(30_000)),
        json(200, &fal_page(&["a"], None, false)),
    ]);
    let client = Client::new(&fake, all_providers());
    let page = block_on(client.list_page(&ListQuery::first_page(Provider::Fal))).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(fake.request_count(), 4);
}

#[test]
fn fal_create_is_retried_with_the_same_idempotency_key() {
    let fake = ScriptedTransport::script(vec![
        Err(TransportError::Network("dropped".into())),
        json(502, FAL_500),
        json(201, &fal_instance("inst_new", "provisioning")),
    ]);
    let client = Client::new(&fake, all_providers());
    let inst = block_on(client.create(&fal_create())).unwrap();
    assert_eq!(inst.id, "inst_new");
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let keys: Vec<&str> = requests.iter().map(|r| r.header_value("Idempotency-Key").unwrap()).collect();
    assert_eq!(keys[0].len(), 36, "a generated UUID: {}", keys[0]);
    assert_eq!(&keys[0][14..15], "4", "UUID version 4");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
}

#[test]
fn callers_idempotency_key_is_used() {
    let fake = ScriptedTransport::script(vec![json(201, &fal_instance("inst_new", "pending"))]);
    let client = Client::new(&fake, all_providers());
    let mut input = FalCreateInput {
        instance_type: "gpu_1x_h100_sxm5".into(),
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2".into(),
        ..Default::default()
    };
    input.idempotency_key = Some("my-key-1".into());
    block_on(client.create(&CreateInput::Fal(input))).unwrap();
    assert_eq!(fake.requests()[0].header_value("Idempotency-Key"), Some("my-key-1"));
}

#[test]
fn non_idempotent_create_is_not_retried_after_an_ambiguous_failure() {
    let fake = ScriptedTransport::script(vec![Err(TransportError::Network("connection dropped".into()))]);
    let client = Client::new(&fake, all_providers());
    let input = CreateInput::FalAlpha(FalAlphaCreateInput {
        instance_type: "gpu_1x_h100_sxm5".into(),
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2".into(),
        sector: None,
    });
    let err = block_on(client.create(&input)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
    assert_eq!(fake.request_count(), 1);
    assert!(err.message.contains("not retried"), "{}", err.message);
    assert!(err.message.contains("check the instance list"), "{}", err.message);

    // ...but a 429 means the provider did not act, so it is retried even for a create.
    let fake = ScriptedTransport::script(vec![
        Ok(HttpResponse::new(429, "slow down").with_header("Retry-After", "1")),
        json(
            200,
            r#"{"id":"550e8400-e29b-41d4-a716-446655440000","instance_type":"gpu_1x_h100_sxm5","sector":null,"ip":null,"status":"pending"}"#,
        ),
    ]);
    let client = Client::new(&fake, all_providers());
    let inst = block_on(client.create(&input)).unwrap();
    assert_eq!(inst.status, Status::Pending);
    assert_eq!(fake.request_count(), 2);
}

#[test]
fn an_abort_during_backoff_stops_at_once() {
    let fake = ScriptedTransport::script(vec![json(500, FAL_500)]);
    fake.abort_sleeps();
    let client = Client::new(&fake, all_providers());
    let err = block_on(client.get(Provider::Fal, "inst_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert!(err.message.contains("user cancelled"));
    assert_eq!(fake.request_count(), 1);
}

#[test]
fn an_aborted_request_is_not_retried() {
    let fake = ScriptedTransport::script(vec![Err(TransportError::Aborted("stop".into()))]);
    let client = Client::new(&fake, all_providers());
    let err = block_on(client.get(Provider::Fal, "inst_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert_eq!(fake.request_count(), 1);
    assert!(fake.sleeps().is_empty());
}

#[test]
fn backoff_has_bounds_and_jitter() {
    let p = RetryPolicy { max_retries: 10, base_delay_ms: 100, max_delay_ms: 1000 };
    assert_eq!(p.backoff_ms(0, 0.0), 50);
    assert_eq!(p.backoff_ms(0, 0.999_999), 99);
    assert_eq!(p.backoff_ms(3, 0.0), 400);
    assert_eq!(p.backoff_ms(9, 0.0), 500, "capped at max_delay_ms");
    assert_eq!(p.backoff_ms(60, 1.0), 1000);
}

// ----- delete, gating, configuration -----------------------------------------------------------

#[test]
fn delete_404_is_already_gone() {
    let fake = ScriptedTransport::script(vec![json(404, r#"{"error":{"type":"not_found","message":"Resource not found"}}"#)]);
    let client = Client::new(&fake, all_providers());
    let out = block_on(client.delete(Provider::Fal, "inst_1")).unwrap();
    assert!(out.already_gone);
    let fake = ScriptedTransport::script(vec![Ok(HttpResponse::new(204, ""))]);
    let client = Client::new(&fake, all_providers());
    assert!(!block_on(client.delete(Provider::Fal, "inst_1")).unwrap().already_gone);
}

#[test]
fn unsupported_operations_send_nothing() {
    let fake = ScriptedTransport::script(vec![json(200, "{}")]);
    let client = Client::new(&fake, all_providers());
    for (p, op) in [
        (Provider::Fal, Operation::Start),
        (Provider::Fal, Operation::Terminate),
        (Provider::FalAlpha, Operation::Stop),
        (Provider::Sfcompute, Operation::Restart),
        (Provider::Novita, Operation::Terminate),
    ] {
        let err = block_on(client.action(p, op, "inst_1")).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsupported, "{p} {op:?}");
        assert_eq!(err.provider, Some(p));
    }
    let err = block_on(client.ssh(Provider::Novita, "x")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn unconfigured_provider_is_invalid_input() {
    let fake = ScriptedTransport::script(vec![json(200, "{}")]);
    let client = Client::new(&fake, ClientConfig::new());
    let err = block_on(client.get(Provider::Novita, "abc")).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert_eq!(err.field.as_deref(), Some("novita"));
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn invalid_ids_send_nothing() {
    let fake = ScriptedTransport::script(vec![json(200, "{}")]);
    let client = Client::new(&fake, all_providers());
    for id in ["", "../etc", "a/b", "http://evil.example"] {
        let err = block_on(client.get(Provider::Fal, id)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{id}");
    }
    assert_eq!(fake.request_count(), 0);
}

// ----- pagination guards ----------------------------------------------------------------------

#[test]
fn pages_walk_to_the_end() {
    let fake = ScriptedTransport::new(|r| {
        let body = if r.url.ends_with("/compute/instances") {
            fal_page(&["a", "b"], Some("Mg=="), true)
        } else if r.url.contains("cursor=Mg%3D%3D") {
            fal_page(&["c", "d"], Some("Mw=="), true)
        } else {
            fal_page(&["e"], None, false)
        };
        json(200, &body)
    });
    let client = Client::new(&fake, all_providers());
    let all = block_on(client.list_all_pages(ListQuery::first_page(Provider::Fal))).unwrap();
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(fake.request_count(), 3);
}

#[test]
fn a_repeated_cursor_stops_with_an_error() {
    let fake = ScriptedTransport::new(|_| json(200, &fal_page(&["a"], Some("Mg=="), true)));
    let client = Client::new(&fake, all_providers());
    let mut pages = client.pages(ListQuery::first_page(Provider::Fal));
    let first = block_on(pages.next_page()).unwrap().unwrap();
    assert_eq!(first.items.len(), 1);
    let err = block_on(pages.next_page()).unwrap().unwrap_err();
    assert!(err.message.contains("twice"), "{}", err.message);
    assert!(block_on(pages.next_page()).is_none());
    assert_eq!(fake.request_count(), 2);
}

#[test]
fn has_more_without_a_cursor_ends_the_walk() {
    let fake = ScriptedTransport::new(|_| json(200, &fal_page(&["a", "b"], None, true)));
    let client = Client::new(&fake, all_providers());
    let all = block_on(client.list_all_pages(ListQuery::first_page(Provider::Fal))).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(fake.request_count(), 1);
}

#[test]
fn duplicate_ids_across_pages_are_dropped() {
    let fake = ScriptedTransport::new(|r| {
        let body =
            if r.url.contains("cursor") { fal_page(&["b", "c"], None, false) } else { fal_page(&["a", "b"], Some("Mg=="), true) };
        json(200, &body)
    });
    let client = Client::new(&fake, all_providers());
    let all = block_on(client.list_all_pages(ListQuery::first_page(Provider::Fal))).unwrap();
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[test]
fn max_pages_is_a_last_resort_guard() {
    let counter = Cell::new(0u32);
    let fake = ScriptedTransport::new(move |_| {
        counter.set(counter.get() + 1);
        json(200, &fal_page(&[&format!("i{}", counter.get())], Some(&format!("c{}", counter.get())), true))
    });
    let mut cfg = all_providers();
    cfg.max_pages = Some(5);
    let client = Client::new(&fake, cfg);
    let err = block_on(client.list_all_pages(ListQuery::first_page(Provider::Fal))).unwrap_err();
    assert!(err.message.contains("loop guard"));
    assert_eq!(fake.request_count(), 5);
}

// ----- fan-out ---------------------------------------------------------------------------------

#[test]
fn list_all_reports_each_failure_beside_the_others() {
    let fake = ScriptedTransport::new(|r| {
        if r.url.starts_with("https://api.fal.ai") {
            json(200, &fal_page(&["inst_a", "inst_b"], None, false))
        } else if r.url.starts_with("https://rest.alpha.fal.ai") {
            json(401, r#"{"detail":"bad key"}"#)
        } else {
            json(403, r#"{"error":{"type":"forbidden","message":"nope"}}"#)
        }
    });
    let client = Client::new(&fake, all_providers());
    let listing =
        block_on(client.list_all(&FleetQuery { providers: Some(vec![Provider::Fal, Provider::FalAlpha]), ..Default::default() }))
            .unwrap();
    assert_eq!(listing.instances.len(), 2);
    assert_eq!(listing.errors.len(), 1);
    assert_eq!(listing.errors[0].provider, Provider::FalAlpha);
    assert_eq!(listing.errors[0].error.code, ErrorCode::Unauthorized);
    assert!(listing.errors[0].error.message.contains("bad key"));
}

#[test]
fn list_all_reports_a_named_provider_that_is_not_configured() {
    // `listAll({ providers: ["fal", "sfcompute"] })` on a fleet without fal: fal is not left out
    // silently, it is in `errors` (invalidInput naming its config key), and nothing is sent for it.
    let fake = ScriptedTransport::new(|_| json(200, r#"{"object":"list","data":[],"has_more":false}"#));
    let client = Client::new(&fake, client_config(&[Provider::Sfcompute]));
    let listing = block_on(
        client.list_all(&FleetQuery { providers: Some(vec![Provider::Fal, Provider::Sfcompute]), ..Default::default() }),
    )
    .unwrap();
    assert!(listing.instances.is_empty());
    assert_eq!(listing.errors.len(), 1);
    let failure = &listing.errors[0];
    assert_eq!((failure.provider, failure.error.code), (Provider::Fal, ErrorCode::InvalidInput));
    assert_eq!(failure.error.field.as_deref(), Some("fal"));
    assert!(failure.error.message.contains("not configured"), "{}", failure.error.message);
    assert!(fake.requests().iter().all(|r| r.url.starts_with("https://api.sfcompute.com")), "only SF Compute was asked");
}

#[test]
fn list_all_asks_each_provider_for_its_largest_documented_page() {
    let fake = ScriptedTransport::new(|r| {
        if r.url.starts_with("https://api.fal.ai") {
            json(200, &fal_page(&["inst_a"], None, false))
        } else if r.url.starts_with("https://rest.alpha.fal.ai") {
            json(200, "[]")
        } else if r.url.contains("sfcompute") {
            json(200, r#"{"object":"list","data":[],"has_more":false}"#)
        } else {
            json(200, r#"{"instances":[],"pageSize":100,"pageNum":1,"total":0}"#)
        }
    });
    let client = Client::new(&fake, all_providers());
    let listing = block_on(client.list_all(&FleetQuery::default())).unwrap();
    assert_eq!(listing.errors, vec![], "every provider answered");
    let mut urls: Vec<String> = fake.requests().iter().map(|r| r.url.clone()).collect();
    urls.sort();
    assert_eq!(
        urls,
        vec![
            "https://api.fal.ai/v1/compute/instances".to_owned(),
            "https://api.novita.ai/gpu-instance/openapi/v1/gpu/instances?pageSize=100&pageNum=0".to_owned(),
            format!("https://api.sfcompute.com/preview/v2/instances?workspace={SFC_WORKSPACE}&limit=200"),
            "https://rest.alpha.fal.ai/compute/instances".to_owned(),
        ],
        "fal keeps its default (no documented maximum); Novita asks for 100, SF Compute for 200"
    );
}

#[test]
fn list_all_applies_status_and_text_filters() {
    let fake = ScriptedTransport::new(|_| {
        json(
            200,
            &format!(
                r#"{{"instances":[{},{}],"next_cursor":null,"has_more":false}}"#,
                fal_instance("inst_ready", "ready"),
                fal_instance("inst_pending", "pending")
            ),
        )
    });
    let client = Client::new(&fake, all_providers());
    let listing = block_on(client.list_all(&FleetQuery {
        providers: Some(vec![Provider::Fal]),
        status: Some(vec![Status::Pending]),
        q: None,
    }))
    .unwrap();
    assert_eq!(listing.instances.len(), 1);
    assert_eq!(listing.instances[0].id, "inst_pending");
    let listing =
        block_on(client.list_all(&FleetQuery { providers: Some(vec![Provider::Fal]), status: None, q: Some("READY".into()) }))
            .unwrap();
    assert_eq!(listing.instances.len(), 1);
    assert_eq!(listing.instances[0].id, "inst_ready");
}

// ----- waiters ---------------------------------------------------------------------------------

fn scripted_statuses(statuses: &[&str]) -> ScriptedTransport {
    let mut queue: VecDeque<String> = statuses.iter().map(|s| s.to_string()).collect();
    ScriptedTransport::new(move |_| {
        let s = if queue.len() > 1 { queue.pop_front().unwrap() } else { queue.front().unwrap().clone() };
        if s == "404" {
            json(404, r#"{"error":{"type":"not_found","message":"Resource not found"}}"#)
        } else if s == "500" {
            json(500, FAL_500)
        } else {
            json(200, &fal_instance("inst_1", &s))
        }
    })
}

fn quick(until: Status) -> WaitOptions {
    WaitOptions { until, max_wait_ms: 60_000, min_delay_ms: 1_000, max_delay_ms: 4_000 }
}

#[test]
fn wait_for_running_polls_until_ready() {
    let fake = scripted_statuses(&["pending", "init", "provisioning", "ready"]);
    let client = Client::new(&fake, all_providers());
    let mut polled = Vec::new();
    let inst =
        block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Running), |i| polled.push(i.provider_status.clone())))
            .unwrap()
            .unwrap();
    assert_eq!(inst.status, Status::Running);
    assert_eq!(polled, ["pending", "init", "provisioning", "ready"]);
    assert_eq!(fake.sleeps(), vec![1_000, 1_500, 2_250], "delays grow ×1.5");
}

#[test]
fn wait_for_times_out_listing_statuses_seen() {
    let fake = scripted_statuses(&["pending", "provisioning"]);
    let client = Client::new(&fake, all_providers());
    let err = block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Running), |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(err.message.contains("statuses seen: pending (pending) → provisioning (provisioning)"), "{}", err.message);
    let total: u64 = fake.sleeps().iter().sum();
    assert_eq!(total, 60_000, "never sleeps past the deadline");
    assert!(fake.sleeps().iter().all(|&d| d <= 4_000));
}

#[test]
fn wait_for_terminated_accepts_a_404() {
    let fake = scripted_statuses(&["ready", "404"]);
    let client = Client::new(&fake, all_providers());
    let out = block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Terminated), |_| {})).unwrap();
    assert!(out.is_none());
}

#[test]
fn wait_for_tolerates_transient_errors() {
    let fake = scripted_statuses(&["pending", "500", "500", "500", "500", "ready"]);
    let client = Client::new(&fake, all_providers().with_retry(RetryPolicy { max_retries: 0, ..Default::default() }));
    let inst = block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Running), |_| {})).unwrap();
    assert_eq!(inst.unwrap().status, Status::Running);
}

#[test]
fn wait_for_stops_on_a_permanent_error_and_on_abort() {
    let fake = scripted_statuses(&["pending", "404"]);
    let client = Client::new(&fake, all_providers());
    let err = block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Running), |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    let fake = scripted_statuses(&["pending"]);
    fake.abort_sleeps();
    let client = Client::new(&fake, all_providers());
    let err = block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Running), |_| {})).unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert_eq!(fake.request_count(), 1);
}

#[test]
fn wait_options_are_validated() {
    let fake = scripted_statuses(&["ready"]);
    let client = Client::new(&fake, all_providers());
    let mut bad = quick(Status::Running);
    bad.min_delay_ms = 0;
    let err = block_on(client.wait_for(Provider::Fal, "inst_1", &bad, |_| {})).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("minDelayMs"));
    let err = block_on(client.wait_for(Provider::Fal, "inst_1", &quick(Status::Unknown), |_| {})).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("until"));
    assert_eq!(fake.request_count(), 0);
}

// ----- proxy mode ------------------------------------------------------------------------------

fn proxy_config() -> ClientConfig {
    proxy_client_config("https://fleet.example/api/", "tok-123")
}

#[test]
fn access_comes_from_the_proxy_and_is_read_write_without_one() {
    for (body, expected) in [
        (r#"{"providers":[],"access":"readOnly"}"#, Access::ReadOnly),
        (r#"{"providers":[],"access":"readWrite"}"#, Access::ReadWrite),
        (r#"{"providers":[]}"#, Access::ReadWrite), // a proxy from before the field
    ] {
        let fake = ScriptedTransport::script(vec![json(200, body)]);
        let client = Client::new(&fake, proxy_config());
        assert_eq!(block_on(client.access()).unwrap(), expected, "{body}");
        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].url, "https://fleet.example/api/v1/providers");
    }
    let fake = ScriptedTransport::script(vec![json(200, r#"{"providers":[],"access":"admin"}"#)]);
    let err = block_on(Client::new(&fake, proxy_config()).access()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Decode, "an unknown access is not guessed: {err:?}");

    let fake = ScriptedTransport::script(vec![json(500, "{}")]);
    assert_eq!(block_on(Client::new(&fake, all_providers()).access()).unwrap(), Access::ReadWrite);
    assert_eq!(fake.request_count(), 0, "direct mode asks nobody");
}

#[test]
fn proxy_mode_speaks_the_proxy_routes() {
    let fake = ScriptedTransport::script(vec![json(200, r#"{"items":[],"hasMore":false}"#)]);
    let client = Client::new(&fake, proxy_config());
    let query = ListQuery::Sfcompute(SfcListQuery {
        limit: Some(5),
        status: vec!["running".into(), "failed".into()],
        tag: vec!["env=prod".into()],
        ..Default::default()
    });
    let page = block_on(client.list_page(&query)).unwrap();
    assert!(page.items.is_empty());
    let r = &fake.requests()[0];
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.url, "https://fleet.example/api/v1/sfcompute/instances?limit=5&status=running&status=failed&tag=env%3Dprod");
    assert_eq!(r.headers, vec![("Authorization".to_string(), "Bearer tok-123".to_string())]);
}

#[test]
fn proxy_mode_without_a_token_sends_no_authorization() {
    // Behind Cloudflare Access the proxy knows the caller by Access's assertion: no token to send.
    let fake = ScriptedTransport::script(vec![json(200, r#"{"providers":[],"access":"readOnly"}"#)]);
    let config = ClientConfig::new().with_proxy(ProxyConfig { base_url: "https://fleet.example/api".into(), token: None });
    assert_eq!(block_on(Client::new(&fake, config).access()).unwrap(), Access::ReadOnly);
    assert_eq!(fake.requests()[0].headers, vec![]);
    // A token given must still be one.
    for bad in ["", "  ", "a\nb"] {
        let e = ProxyConfig { base_url: "https://fleet.example/api".into(), token: Some(bad.into()) }.validate().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("proxy.token"), "{bad:?}");
    }
}

#[test]
fn proxy_errors_arrive_as_the_same_error() {
    let body = r#"{"error":{"code":"conflict","message":"SF Compute answered HTTP 409: Instance must be terminated before deletion","provider":"sfcompute","status":409,"requestId":"req_9","retryable":false}}"#;
    let fake = ScriptedTransport::script(vec![json(409, body)]);
    let client = Client::new(&fake, proxy_config());
    let err = block_on(client.delete(Provider::Sfcompute, "inst_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(err.provider, Some(Provider::Sfcompute));
    assert_eq!(err.request_id.as_deref(), Some("req_9"));
    assert_eq!(fake.requests()[0].url, "https://fleet.example/api/v1/sfcompute/instances/inst_1");
}

#[test]
fn proxy_create_carries_one_idempotency_key_across_retries() {
    let instance = r#"{"provider":"fal","id":"inst_9","status":"pending","providerStatus":"pending","raw":{}}"#;
    let fake = ScriptedTransport::script(vec![Err(TransportError::Network("reset".into())), json(201, instance)]);
    let client = Client::new(&fake, proxy_config());
    let inst = block_on(client.create(&fal_create())).unwrap();
    assert_eq!(inst.id, "inst_9");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let body: serde_json::Value = serde_json::from_slice(requests[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(body["instanceType"], "gpu_1x_h100_sxm5");
    assert_eq!(body["idempotencyKey"].as_str().unwrap().len(), 36);
    assert_eq!(requests[0].body, requests[1].body);
    assert_eq!(requests[0].url, "https://fleet.example/api/v1/fal/instances");
}

#[test]
fn proxy_mode_still_gates_capabilities() {
    let fake = ScriptedTransport::script(vec![json(200, "{}")]);
    let client = Client::new(&fake, proxy_config());
    let err = block_on(client.stop(Provider::Fal, "inst_1")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert_eq!(fake.request_count(), 0);
}

#[test]
fn proxy_create_with_a_deadline_sends_it_beside_the_input_and_reads_it_back() {
    let instance = r#"{"provider":"fal","id":"inst_9","status":"pending","providerStatus":"pending","raw":{},
        "deadline":{"provider":"fal","instanceId":"inst_9","atMs":1700003600000,"action":"delete","setBy":"token","setAtMs":1700000000000,"state":"pending","attempts":0,"nextAttemptMs":1700003600000}}"#;
    let fake = ScriptedTransport::script(vec![json(201, instance)]);
    let client = Client::new(&fake, proxy_config());
    let deadline = DeadlineRequest { after: Some(3_600_000), ..Default::default() };
    let inst = block_on(client.create_with_deadline(&fal_create(), &deadline)).unwrap();
    let d = inst.deadline.expect("the stored deadline, echoed");
    assert_eq!(
        (d.instance_id.as_str(), d.at_ms, d.action, d.state),
        ("inst_9", 1_700_003_600_000, DeadlineAction::Delete, DeadlineState::Pending)
    );
    assert_eq!(inst.deadline_error, None);
    let r = &fake.requests()[0];
    assert_eq!((r.method, r.url.as_str()), (Method::Post, "https://fleet.example/api/v1/fal/instances"));
    let body: serde_json::Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
    assert_eq!(body["deadline"], serde_json::json!({"after": 3_600_000}));
    assert_eq!(body["instanceType"], "gpu_1x_h100_sxm5", "the input's fields beside it");
    assert_eq!(body["idempotencyKey"].as_str().unwrap().len(), 36);

    // A deadline the proxy could not store: the instance all the same, with why.
    let answer = r#"{"provider":"fal","id":"inst_9","status":"pending","providerStatus":"pending","raw":{},
        "deadlineError":{"code":"server","message":"the instance was created, but its deadline could not be stored","retryable":true}}"#;
    let fake = ScriptedTransport::script(vec![json(201, answer)]);
    let inst = block_on(Client::new(&fake, proxy_config()).create_with_deadline(&fal_create(), &deadline)).unwrap();
    assert_eq!((inst.id.as_str(), inst.deadline.is_none()), ("inst_9", true));
    assert_eq!(inst.deadline_error.unwrap().code, ErrorCode::Server);
}

#[test]
fn a_create_with_a_bad_deadline_or_no_proxy_sends_nothing() {
    let fake = ScriptedTransport::script(vec![json(500, "{}")]);
    let ok = DeadlineRequest { after: Some(60_000), ..Default::default() };
    // A direct client keeps no deadlines: refused before creating.
    let err = block_on(Client::new(&fake, all_providers()).create_with_deadline(&fal_create(), &ok)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert!(err.message.contains("proxy"), "{}", err.message);
    let client = Client::new(&fake, proxy_config());
    for (deadline, field) in [
        (DeadlineRequest::default(), "deadline.at"),
        (DeadlineRequest { after: Some(60_000), action: Some(DeadlineAction::Stop), ..Default::default() }, "deadline.action"),
        (DeadlineRequest { after: Some(1), at: Some(serde_json::json!(1)), ..Default::default() }, "deadline.at"),
        (DeadlineRequest { at: Some(serde_json::json!("tomorrow")), ..Default::default() }, "deadline.at"),
    ] {
        let err = block_on(client.create_with_deadline(&fal_create(), &deadline)).unwrap_err();
        assert_eq!((err.code, err.field.as_deref()), (ErrorCode::InvalidInput, Some(field)), "{deadline:?}: {}", err.message);
    }
    assert_eq!(fake.request_count(), 0);
}
