//! The proxy's records, natively over the in-memory store: named callers (GPUFLEET_CALLERS),
//! every mutating call in the audit log with its caller and outcome, the deadline routes, the
//! audit and orphan routes, and what happens without a store or with a malformed caller table.

mod support;

use futures::executor::block_on;
use gpufleet::proxy::*;
use gpufleet::store::*;
use gpufleet::*;
use support::proxy_env::{proxy, RO_TOKEN, TOKEN};
use support::scripted::{json, ScriptedTransport, START_MS};

const BASE: &str = "https://fleet.example.com";
const NOVITA: &str = "https://api.novita.ai/gpu-instance/openapi/v1";
const ALICE: &str = "alice-token-0123456789abcdef";
const CI: &str = "ci-token-0123456789abcdef-ro";

fn sha256_hex(text: &str) -> String {
    gpufleet::proxy::sha256(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn callers() -> String {
    format!(
        r#"{{"alice":{{"sha256":"{}","access":"readWrite"}},"ci":{{"sha256":["{}","{}"],"access":"readOnly"}}}}"#,
        sha256_hex(ALICE),
        "0".repeat(64),
        sha256_hex(CI)
    )
}

fn named_proxy() -> Proxy {
    proxy(&[("GPUFLEET_CALLERS", &callers())]).with_records(true)
}

fn request(method: &str, path: &str, token: &str) -> ProxyRequest {
    ProxyRequest::new(method, &format!("{BASE}{path}")).header("Authorization", &format!("Bearer {token}"))
}

fn with_json(req: ProxyRequest, body: &str) -> ProxyRequest {
    req.header("Content-Type", "application/json").body(RequestBody::Bytes(body.as_bytes().to_vec()))
}

fn run(p: &Proxy, req: ProxyRequest, t: &ScriptedTransport, store: Option<&MemoryStore>) -> ProxyResponse {
    let mut limiter = RateLimiter::new();
    block_on(p.handle_with_records(req, t, &mut limiter, store))
}

fn body(r: &ProxyResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body)))
}

/// Novita: `n1` is running; stops answer `stop_status`.
fn novita(stop_status: u16) -> ScriptedTransport {
    ScriptedTransport::new(move |r| {
        if r.url == format!("{NOVITA}/gpu/instance/stop") {
            return match stop_status {
                200 => json(200, "{}"),
                404 => json(400, r#"{"code":400,"reason":"RESOURCE_NOT_FOUND","message":"instance not found"}"#),
                s => json(s, r#"{"code":500,"reason":"INTERNAL","message":"try later"}"#),
            };
        }
        if r.url.starts_with(&format!("{NOVITA}/gpu/instances")) {
            return json(
                200,
                r#"{"instances":[{"id":"n1","name":"trainer","status":"running","createdAt":"1690000000"},{"id":"n2","name":"old","status":"running","createdAt":"1690000000"}],"total":2}"#,
            );
        }
        panic!("unexpected {} {}", r.method.as_str(), r.url)
    })
}

fn entries(store: &MemoryStore) -> Vec<(String, String, Option<String>, AuditOutcome)> {
    store.audit_entries().into_iter().map(|e| (e.caller, e.action, e.instance_id, e.outcome)).collect()
}

#[test]
fn named_callers_are_who_the_audit_log_and_the_access_log_name() {
    let p = named_proxy();
    let store = MemoryStore::new();
    let t = novita(200);
    let r = run(&p, request("POST", "/api/v1/novita/instances/n1/stop", ALICE), &t, Some(&store));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.log.caller.as_deref(), Some("alice"));
    assert!(r.log.to_json().contains("\"caller\":\"alice\""));
    let logged = store.audit_entries();
    assert_eq!(entries(&store), vec![("alice".into(), "stop".into(), Some("n1".into()), AuditOutcome::Ok)]);
    assert_eq!(logged[0].provider, Provider::Novita);
    assert_eq!(Some(logged[0].request_id.as_str()), r.header("X-Request-Id"));
    assert_eq!(logged[0].at_ms, START_MS);

    // The shared tokens have names too.
    run(&p, request("POST", "/api/v1/novita/instances/n1/stop", TOKEN), &t, Some(&store));
    assert_eq!(store.audit_entries()[1].caller, "token");

    // A read-only named caller reads, and may not change anything (not even a deadline).
    let r = run(&p, request("GET", "/api/v1/providers", CI), &t, Some(&store));
    assert_eq!((r.status, body(&r)["access"].as_str()), (200, Some("readOnly")));
    for (method, path) in [
        ("POST", "/api/v1/novita/instances/n1/stop"),
        ("PUT", "/api/v1/novita/instances/n1/deadline"),
        ("DELETE", "/api/v1/novita/instances/n1/deadline"),
    ] {
        let r = run(&p, with_json(request(method, path, CI), r#"{"after":60000}"#), &t, Some(&store));
        assert_eq!(r.status, 403, "{method} {path}");
        let r = run(&p, with_json(request(method, path, RO_TOKEN), r#"{"after":60000}"#), &t, Some(&store));
        assert_eq!(r.status, 403, "{method} {path}");
    }
    assert_eq!(store.audit_entries().len(), 2, "refusals change nothing and are not mutations");
    assert!(block_on(store.deadlines()).unwrap().is_empty());
    // Reads are not logged.
    run(&p, request("GET", "/api/v1/novita/instances", ALICE), &t, Some(&store));
    assert_eq!(store.audit_entries().len(), 2);
    // The rotation: the second hash of ci works, a token nobody holds does not.
    assert_eq!(run(&p, request("GET", "/api/v1/providers", "nobody-0123456789abcdef"), &t, Some(&store)).status, 401);
}

#[test]
fn every_outcome_of_a_mutation_is_logged() {
    let p = named_proxy();
    for (status, expected) in [
        (404, AuditOutcome::Error { code: "notFound".into(), status: Some(400) }),
        (503, AuditOutcome::Unknown),
        (429, AuditOutcome::Error { code: "rateLimited".into(), status: Some(429) }),
    ] {
        let store = MemoryStore::new();
        let r = run(&p, request("POST", "/api/v1/novita/instances/n1/stop", ALICE), &novita(status), Some(&store));
        assert!(r.status >= 400);
        assert_eq!(entries(&store), vec![("alice".into(), "stop".into(), Some("n1".into()), expected)], "upstream {status}");
    }
}

#[test]
fn deadlines_are_set_changed_listed_and_cleared_through_the_routes() {
    let p = named_proxy();
    let store = MemoryStore::new();
    let t = ScriptedTransport::unreachable();
    let path = "/api/v1/novita/instances/n1/deadline";
    let r = run(&p, with_json(request("PUT", path, ALICE), r#"{"after":3600000}"#), &t, Some(&store));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let b = body(&r);
    assert_eq!(b["deadline"]["atMs"], START_MS + 3_600_000);
    assert_eq!(b["deadline"]["action"], "stop", "Novita's default");
    assert_eq!(b["deadline"]["setBy"], "alice");
    assert!(b.get("previous").is_none());
    let r =
        run(&p, with_json(request("PUT", path, ALICE), r#"{"at":"2023-11-14T23:13:20Z","action":"delete"}"#), &t, Some(&store));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(body(&r)["previous"]["action"], "stop");
    let r = run(&p, request("GET", "/api/v1/deadlines", CI), &t, Some(&store));
    let listed = body(&r);
    assert_eq!(listed["deadlines"].as_array().unwrap().len(), 1);
    assert_eq!(listed["deadlines"][0]["action"], "delete");
    let r = run(&p, request("DELETE", path, ALICE), &t, Some(&store));
    assert_eq!(body(&r)["cleared"]["action"], "delete");
    let r = run(&p, request("DELETE", path, ALICE), &t, Some(&store));
    assert!(body(&r).get("cleared").is_none(), "clearing twice: nothing to clear");
    let actions: Vec<String> = store.audit_entries().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["deadline.set", "deadline.changed", "deadline.cleared"]);
    assert!(t.urls().is_empty(), "no provider was called");
}

#[test]
fn bad_deadlines_get_a_coded_error_naming_the_field_and_change_nothing() {
    let p = named_proxy();
    let store = MemoryStore::new();
    let t = ScriptedTransport::unreachable();
    let cases = [
        ("novita", r#"{"at":1000}"#, "at"),
        ("novita", r#"{"after":60000,"action":"explode"}"#, "action"),
        ("fal", r#"{"after":60000,"action":"stop"}"#, "action"),
        ("novita", r#"{}"#, "at"),
        ("novita", r#"{"after":60000,"when":1}"#, "body"),
        ("novita", r#"[1]"#, "body"),
        ("novita", r#"{"after":"soon"}"#, "after"),
    ];
    for (provider, json_body, field) in cases {
        let path = format!("/api/v1/{provider}/instances/i1/deadline");
        let r = run(&p, with_json(request("PUT", &path, ALICE), json_body), &t, Some(&store));
        assert_eq!(r.status, 400, "{json_body}");
        let b = body(&r);
        assert_eq!(
            (b["error"]["code"].as_str(), b["error"]["field"].as_str()),
            (Some("invalidInput"), Some(field)),
            "{json_body}: {b}"
        );
    }
    let r = run(
        &p,
        request("PUT", "/api/v1/novita/instances/i1/deadline", ALICE).body(RequestBody::Bytes(b"{}".to_vec())),
        &t,
        Some(&store),
    );
    assert_eq!(r.status, 415, "a body that is not declared JSON");
    assert!(block_on(store.deadlines()).unwrap().is_empty());
    assert!(store.audit_entries().is_empty());
}

#[test]
fn without_a_store_the_records_routes_say_so_and_mutations_still_work() {
    let p = proxy(&[]);
    let t = novita(200);
    for (method, path) in [
        ("GET", "/api/v1/deadlines"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/orphans"),
        ("DELETE", "/api/v1/novita/instances/n1/deadline"),
    ] {
        let r = run(&p, request(method, path, TOKEN), &t, None);
        assert_eq!(r.status, 503, "{method} {path}");
        let b = body(&r);
        assert_eq!(b["error"]["code"], "unsupported");
        assert!(b["error"]["message"].as_str().unwrap().contains("D1"), "{b}");
    }
    assert_eq!(run(&p, request("POST", "/api/v1/novita/instances/n1/stop", TOKEN), &t, None).status, 200);
    let health = body(&run(&p, ProxyRequest::new("GET", &format!("{BASE}/healthz")), &t, None));
    assert_eq!(health["records"], "none");
    assert_eq!(body(&run(&named_proxy(), ProxyRequest::new("GET", &format!("{BASE}/healthz")), &t, None))["records"], "d1");
}

#[test]
fn a_malformed_caller_table_refuses_the_api_and_says_where() {
    let p = proxy(&[("GPUFLEET_CALLERS", r#"{"bob":{"sha256":"abc","access":"readWrite"}}"#)]);
    let t = ScriptedTransport::unreachable();
    let r = run(&p, request("GET", "/api/v1/providers", TOKEN), &t, None);
    assert_eq!(r.status, 503);
    let message = body(&r)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("GPUFLEET_CALLERS.bob.sha256") && message.contains("64 hex"), "{message}");
    let health = body(&run(&p, ProxyRequest::new("GET", &format!("{BASE}/healthz")), &t, None));
    assert_eq!(health["api"], "refusing");
    // Named callers alone (no GPUFLEET_TOKEN) are enough to serve.
    let only_named = proxy(&[("GPUFLEET_TOKEN", ""), ("GPUFLEET_READONLY_TOKEN", ""), ("GPUFLEET_CALLERS", &callers())]);
    assert_eq!(run(&only_named, request("GET", "/api/v1/providers", ALICE), &t, None).status, 200);
    assert_eq!(run(&only_named, request("GET", "/api/v1/providers", TOKEN), &t, None).status, 401);
}

#[test]
fn the_audit_route_filters_and_pages_newest_first() {
    let p = named_proxy();
    let store = MemoryStore::new();
    let t = novita(200);
    for _ in 0..3 {
        run(&p, request("POST", "/api/v1/novita/instances/n1/stop", ALICE), &t, Some(&store));
        run(&p, request("POST", "/api/v1/novita/instances/n2/stop", TOKEN), &t, Some(&store));
    }
    let page = body(&run(&p, request("GET", "/api/v1/audit?caller=alice&limit=2", CI), &t, Some(&store)));
    let seqs: Vec<u64> = page["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [5, 3]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest =
        body(&run(&p, request("GET", &format!("/api/v1/audit?caller=alice&limit=2&before={cursor}"), CI), &t, Some(&store)));
    assert_eq!(rest["entries"].as_array().unwrap().len(), 1);
    assert!(rest.get("nextCursor").is_none());
    let n2 = body(&run(&p, request("GET", "/api/v1/audit?provider=novita&instance=n2", CI), &t, Some(&store)));
    assert!(n2["entries"].as_array().unwrap().iter().all(|e| e["caller"] == "token" && e["instanceId"] == "n2"));
    for bad in ["limit=0", "before=x", "provider=aws", "who=1"] {
        let r = run(&p, request("GET", &format!("/api/v1/audit?{bad}"), CI), &t, Some(&store));
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[test]
fn the_orphan_route_reports_old_instances_nobody_created_or_timed() {
    let p = proxy(&[("FAL_KEY", ""), ("SFC_TOKEN", "")]).with_records(true);
    let store = MemoryStore::new();
    let t = novita(200);
    t.set_now(1_700_000_000_000);
    // n1 has a deadline; n2 (created 2023-07-22) has neither a deadline nor a recorded create.
    let r =
        run(&p, with_json(request("PUT", "/api/v1/novita/instances/n1/deadline", TOKEN), r#"{"after":60000}"#), &t, Some(&store));
    assert_eq!(r.status, 200);
    let r = run(&p, request("GET", "/api/v1/orphans?olderThanMs=86400000", TOKEN), &t, Some(&store));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let report = body(&r);
    let ids: Vec<&str> = report["orphans"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["n2"]);
    assert_eq!(report["olderThanMs"], 86_400_000);
    assert_eq!(run(&p, request("GET", "/api/v1/orphans?olderThanMs=soon", TOKEN), &t, Some(&store)).status, 400);
}
