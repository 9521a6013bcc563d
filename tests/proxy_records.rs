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

// ---------------------------------------------------------------------------------------------
// Deadlines in the create call, on list and get answers, and mirrored into SF Compute tags
// ---------------------------------------------------------------------------------------------

const SFC: &str = "https://api.sfcompute.com/preview/v2";

/// A [`MemoryStore`] that counts its deadline reads and can be made to fail them or its writes.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    reads: std::cell::Cell<u32>,
    fail_reads: std::cell::Cell<bool>,
    fail_put: std::cell::Cell<bool>,
}

impl Flaky {
    fn broken(what: &str) -> Error {
        Error::new(ErrorCode::Server, format!("the proxy's store (D1) failed: {what}"))
    }
}

impl Store for Flaky {
    async fn append_audit(&self, entry: AuditEntry) -> gpufleet::Result<u64> {
        self.inner.append_audit(entry).await
    }
    async fn audit(&self, filter: &AuditFilter) -> gpufleet::Result<AuditPage> {
        self.inner.audit(filter).await
    }
    async fn put_deadline(&self, deadline: Deadline) -> gpufleet::Result<Option<Deadline>> {
        if self.fail_put.get() {
            return Err(Flaky::broken("no such table: deadlines"));
        }
        self.inner.put_deadline(deadline).await
    }
    async fn clear_deadline(&self, provider: Provider, instance_id: &str) -> gpufleet::Result<Option<Deadline>> {
        self.inner.clear_deadline(provider, instance_id).await
    }
    async fn deadline(&self, provider: Provider, instance_id: &str) -> gpufleet::Result<Option<Deadline>> {
        self.reads.set(self.reads.get() + 1);
        if self.fail_reads.get() {
            return Err(Flaky::broken("read"));
        }
        self.inner.deadline(provider, instance_id).await
    }
    async fn deadlines(&self) -> gpufleet::Result<Vec<Deadline>> {
        self.reads.set(self.reads.get() + 1);
        if self.fail_reads.get() {
            return Err(Flaky::broken("read"));
        }
        self.inner.deadlines().await
    }
    async fn claim_due(&self, now_ms: u64, owner: &str, lease_ms: u64, limit: u32) -> gpufleet::Result<Vec<Deadline>> {
        self.inner.claim_due(now_ms, owner, lease_ms, limit).await
    }
    async fn finish(&self, provider: Provider, instance_id: &str, owner: &str, how: Finish) -> gpufleet::Result<bool> {
        self.inner.finish(provider, instance_id, owner, how).await
    }
}

fn run_on(p: &Proxy, req: ProxyRequest, t: &ScriptedTransport, store: &Flaky) -> ProxyResponse {
    let mut limiter = RateLimiter::new();
    block_on(p.handle_with_records(req, t, &mut limiter, Some(store)))
}

/// SF Compute with instances kept in memory: create (201, the id `inst_new…`), get, the tags
/// PATCH (the whole map; `null` clears; answers 500 while `fail_patch` is set), and the list.
/// Anything else is a 404 (the proxy's price lookups find nothing and say so in `priceNote`).
struct SfcCloud {
    instances: std::rc::Rc<std::cell::RefCell<Vec<serde_json::Value>>>,
    fail_patch: std::rc::Rc<std::cell::Cell<bool>>,
}

fn sfc_cloud() -> (SfcCloud, ScriptedTransport) {
    use serde_json::json;
    let instances = std::rc::Rc::new(std::cell::RefCell::new(vec![
        json!({"id": "inst_old0000000000001", "name": "old", "object": "instance", "status": "running", "created_at": 1_690_000_000, "tags": {"env": "prod"}}),
    ]));
    let fail_patch = std::rc::Rc::new(std::cell::Cell::new(false));
    let cloud = SfcCloud { instances: instances.clone(), fail_patch: fail_patch.clone() };
    let t = ScriptedTransport::new(move |r| {
        let path = r.url.strip_prefix(SFC).unwrap_or("");
        let mut all = instances.borrow_mut();
        let body: serde_json::Value = r.body.as_deref().map(|b| serde_json::from_slice(b).unwrap()).unwrap_or_default();
        match (r.method, path) {
            (Method::Post, "/instances") => {
                let id = format!("inst_new{:013}", all.len());
                let record = json!({"id": id, "name": body["name"], "object": "instance", "status": "awaiting_allocation",
                    "created_at": START_MS / 1000, "tags": body.get("tags").cloned().unwrap_or(json!({}))});
                all.push(record.clone());
                json(201, &record.to_string())
            }
            (Method::Get, p) if p.starts_with("/instances?") => {
                json(200, &json!({"object": "list", "has_more": false, "cursor": null, "data": *all}).to_string())
            }
            (method, p) if p.starts_with("/instances/") => {
                let id = &p["/instances/".len()..];
                let Some(record) = all.iter_mut().find(|i| i["id"] == id) else {
                    return json(404, r#"{"error":{"type":"not_found","message":"Instance not found"}}"#);
                };
                match method {
                    Method::Get => json(200, &record.to_string()),
                    Method::Patch if fail_patch.get() => json(500, r#"{"error":{"type":"api_error","message":"try later"}}"#),
                    Method::Patch => {
                        record["tags"] = if body["tags"].is_null() { json!({}) } else { body["tags"].clone() };
                        json(200, &record.to_string())
                    }
                    _ => json(404, r#"{"error":{"type":"not_found","message":"no route"}}"#),
                }
            }
            _ => json(404, r#"{"error":{"type":"not_found","message":"no route"}}"#),
        }
    });
    (cloud, t)
}

impl SfcCloud {
    fn tags(&self, id: &str) -> serde_json::Value {
        self.instances.borrow().iter().find(|i| i["id"] == id).map(|i| i["tags"].clone()).unwrap_or_default()
    }
}

/// The requests to SF Compute's instance routes (not its price lookups), as `METHOD path`.
fn instance_calls(t: &ScriptedTransport) -> Vec<String> {
    t.take_requests()
        .iter()
        .filter_map(|r| {
            r.url.strip_prefix(SFC).filter(|p| p.starts_with("/instances")).map(|p| format!("{} {p}", r.method.as_str()))
        })
        .collect()
}

const SFC_CREATE: &str =
    r#"{"name":"trainer","capacity":"cap_h100sfprod01","image":"image_k3R-nX9vLm7Qp2Yw5Jd8F","tags":{"team":"ml"}"#;

#[test]
fn a_create_may_carry_its_deadline_stored_echoed_logged_and_mirrored() {
    let p = named_proxy();
    let store = Flaky::default();
    let (cloud, t) = sfc_cloud();
    let sent_body = format!(r#"{SFC_CREATE},"deadline":{{"after":3600000}}}}"#);
    let r = run_on(&p, with_json(request("POST", "/api/v1/sfcompute/instances", ALICE), &sent_body), &t, &store);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = body(&r);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["deadline"]["instanceId"], id.as_str(), "the deadline is the new instance's");
    assert_eq!(created["deadline"]["atMs"], START_MS + 3_600_000);
    assert_eq!(created["deadline"]["action"], "terminate", "SF Compute's default");
    assert_eq!(created["deadline"]["state"], "pending");
    assert_eq!(created["deadline"]["setBy"], "alice");
    assert_eq!(created["deadline"]["instanceName"], "trainer");
    let tag = "2023-11-14T23:13:20Z terminate";
    assert_eq!(created["deadlineMirror"], serde_json::json!({"tag": "gpufleet-deadline", "value": tag, "ok": true}));
    assert_eq!(created["tags"], serde_json::json!({"team": "ml", "gpufleet-deadline": tag}), "the answer is the tagged instance");
    assert!(created.get("deadlineError").is_none());
    assert_eq!(r.header("X-Gpufleet-Deadline"), None);
    // The create went out without `deadline`; then one PATCH from the create answer's tags (no read).
    assert_eq!(instance_calls(&t), ["POST /instances".to_owned(), format!("PATCH /instances/{id}")]);
    assert_eq!(cloud.tags(&id), serde_json::json!({"team": "ml", "gpufleet-deadline": tag}));
    // Stored as answered, and logged: the create, then the deadline set on what it made.
    let stored = block_on(store.inner.deadline(Provider::Sfcompute, &id)).unwrap().unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), created["deadline"]);
    let log = store.inner.audit_entries();
    let actions: Vec<(&str, Option<&str>)> = log.iter().map(|e| (e.action.as_str(), e.instance_id.as_deref())).collect();
    assert_eq!(actions, [("create", Some(id.as_str())), ("deadline.set", Some(id.as_str()))]);
    assert!(log.iter().all(|e| e.caller == "alice" && Some(e.request_id.as_str()) == r.header("X-Request-Id")));
    assert_eq!(log[1].detail.as_deref(), Some("terminate at 2023-11-14T23:13:20Z; tag gpufleet-deadline written"));

    // Novita: no tags to mirror; the create reads the instance back as always.
    let t = ScriptedTransport::new(|r| match r.url.as_str() {
        u if u == format!("{NOVITA}/gpu/instance/create") => json(200, r#"{"id":"n9"}"#),
        u if u.starts_with(&format!("{NOVITA}/gpu/instance?")) => json(200, r#"{"id":"n9","name":"nine","status":"creating"}"#),
        _ => json(404, r#"{"code":404,"reason":"NOT_FOUND","message":"no route"}"#),
    });
    let sent_body = r#"{"productId":"p1","gpuNum":1,"rootfsSize":20,"imageUrl":"nginx:latest","deadline":{"at":"2023-11-15T00:00:00.250Z","action":"delete"}}"#;
    let r = run_on(&p, with_json(request("POST", "/api/v1/novita/instances", TOKEN), sent_body), &t, &store);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = body(&r);
    assert_eq!((created["id"].as_str(), created["deadline"]["atMs"].as_u64()), (Some("n9"), Some(1_700_006_400_250)));
    assert_eq!(created["deadline"]["action"], "delete");
    assert!(created.get("deadlineMirror").is_none(), "only SF Compute has tags");
    let sent: serde_json::Value = serde_json::from_slice(t.requests()[0].body.as_ref().unwrap()).unwrap();
    assert!(sent.get("deadline").is_none(), "the provider never sees the deadline: {sent}");
}

#[test]
fn a_create_with_a_bad_deadline_or_no_store_creates_nothing() {
    let p = named_proxy();
    let store = Flaky::default();
    let (cloud, t) = sfc_cloud();
    for (deadline, field) in [
        (r#"{"at":1000}"#, "deadline.at"),
        (r#"{"after":60000,"action":"stop"}"#, "deadline.action"),
        (r#"{"after":60000,"when":1}"#, "deadline"),
        (r#"{}"#, "deadline.at"),
        (r#""soon""#, "deadline"),
    ] {
        let sent_body = format!(r#"{SFC_CREATE},"deadline":{deadline}}}"#);
        let r = run_on(&p, with_json(request("POST", "/api/v1/sfcompute/instances", ALICE), &sent_body), &t, &store);
        assert_eq!(r.status, 400, "{deadline}");
        let b = body(&r);
        assert_eq!((b["error"]["code"].as_str(), b["error"]["field"].as_str()), (Some("invalidInput"), Some(field)), "{b}");
    }
    assert_eq!(t.request_count(), 0, "nothing was sent upstream");
    assert!(store.inner.audit_entries().is_empty(), "nothing logged");
    // A bad input with a good deadline: the input's error, and nothing made either.
    let r = run_on(
        &p,
        with_json(request("POST", "/api/v1/sfcompute/instances", ALICE), r#"{"image":"x","deadline":{"after":60000}}"#),
        &t,
        &store,
    );
    assert_eq!((r.status, body(&r)["error"]["field"].as_str()), (400, Some("capacity")));
    assert_eq!(t.request_count(), 0, "nothing was sent upstream");
    assert_eq!(cloud.instances.borrow().len(), 1);
    assert!(block_on(store.inner.deadlines()).unwrap().is_empty());

    // Without a store a deadline cannot be kept: refused before creating.
    let sent_body = format!(r#"{SFC_CREATE},"deadline":{{"after":60000}}}}"#);
    let r = run(&proxy(&[]), with_json(request("POST", "/api/v1/sfcompute/instances", TOKEN), &sent_body), &t, None);
    assert_eq!(r.status, 503);
    assert_eq!(body(&r)["error"]["code"], "unsupported");
    assert!(body(&r)["error"]["message"].as_str().unwrap().contains("D1"));
    assert_eq!(t.request_count(), 0);
    // ... while a create without one works there as before.
    let r =
        run(&proxy(&[]), with_json(request("POST", "/api/v1/sfcompute/instances", TOKEN), &format!("{SFC_CREATE}}}")), &t, None);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(body(&r).get("deadline").is_none());
}

#[test]
fn a_deadline_that_cannot_be_stored_never_loses_the_instance() {
    let p = named_proxy();
    let store = Flaky::default();
    store.fail_put.set(true);
    let (cloud, t) = sfc_cloud();
    let sent_body = format!(r#"{SFC_CREATE},"deadline":{{"after":60000}}}}"#);
    let r = run_on(&p, with_json(request("POST", "/api/v1/sfcompute/instances", ALICE), &sent_body), &t, &store);
    assert_eq!(r.status, 201, "the instance exists: {}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("X-Gpufleet-Deadline"), Some("failed"));
    let b = body(&r);
    let id = b["id"].as_str().unwrap();
    assert!(b.get("deadline").is_none());
    assert_eq!(b["deadlineError"]["code"], "server");
    let message = b["deadlineError"]["message"].as_str().unwrap();
    assert!(message.contains("was created") && message.contains("no such table") && message.contains(id), "{message}");
    assert!(b.get("deadlineMirror").is_none(), "no tag for a deadline that is not kept");
    assert_eq!(cloud.tags(id), serde_json::json!({"team": "ml"}));
    assert_eq!(instance_calls(&t), ["POST /instances"]);
    let actions: Vec<String> = store.inner.audit_entries().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["create"], "the create is logged");
}

#[test]
fn list_and_get_answers_carry_each_instance_deadline_from_one_store_read() {
    let p = named_proxy();
    let store = Flaky::default();
    let (_cloud, t) = sfc_cloud();
    // Two instances more: one with a pending deadline, one whose deadline fired; `old` has none.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r =
            run_on(&p, with_json(request("POST", "/api/v1/sfcompute/instances", ALICE), &format!("{SFC_CREATE}}}")), &t, &store);
        ids.push(body(&r)["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let path = format!("/api/v1/sfcompute/instances/{id}/deadline");
        assert_eq!(run_on(&p, with_json(request("PUT", &path, ALICE), r#"{"after":60000}"#), &t, &store).status, 200);
    }
    let fired = block_on(store.inner.claim_due(START_MS + 60_000, "run-1", 60_000, 10)).unwrap();
    assert_eq!(fired.len(), 2);
    block_on(store.inner.finish(Provider::Sfcompute, &ids[1], "run-1", Finish::Done { at_ms: START_MS + 60_000 })).unwrap();
    block_on(store.inner.finish(
        Provider::Sfcompute,
        &ids[0],
        "run-1",
        Finish::Retry { next_attempt_ms: START_MS + 120_000, error: "terminate: try later".into() },
    ))
    .unwrap();
    t.take_requests();

    let by_id = |answer: &serde_json::Value, key: &str| -> std::collections::BTreeMap<String, serde_json::Value> {
        answer[key].as_array().unwrap().iter().map(|i| (i["id"].as_str().unwrap().to_owned(), i["deadline"].clone())).collect()
    };
    for (path, key) in [("/api/v1/sfcompute/instances", "items"), ("/api/v1/instances?provider=sfcompute", "instances")] {
        store.reads.set(0);
        let r = run_on(&p, request("GET", path, CI), &t, &store);
        assert_eq!(r.status, 200, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(store.reads.get(), 1, "{path}: one store read for the whole answer");
        let deadlines = by_id(&body(&r), key);
        assert_eq!(deadlines.len(), 3, "{path}");
        assert_eq!(deadlines["inst_old0000000000001"], serde_json::Value::Null, "{path}: no deadline, no field");
        let pending = &deadlines[&ids[0]];
        assert_eq!((pending["state"].as_str(), pending["attempts"].as_u64()), (Some("pending"), Some(1)), "{path}");
        assert_eq!(pending["lastError"], "terminate: try later");
        let done = &deadlines[&ids[1]];
        assert_eq!((done["state"].as_str(), done["firedAtMs"].as_u64()), (Some("done"), Some(START_MS + 60_000)), "{path}");
        assert_eq!(done["action"], "terminate");
    }
    store.reads.set(0);
    let r = run_on(&p, request("GET", &format!("/api/v1/sfcompute/instances/{}", ids[0]), CI), &t, &store);
    assert_eq!(body(&r)["deadline"]["state"], "pending");
    assert_eq!(store.reads.get(), 1);
    let r = run_on(&p, request("GET", "/api/v1/sfcompute/instances/inst_old0000000000001", CI), &t, &store);
    assert!(body(&r).get("deadline").is_none());

    // The store failing to answer does not withhold the listing: it comes without deadlines,
    // and says so.
    store.fail_reads.set(true);
    for path in ["/api/v1/sfcompute/instances", "/api/v1/instances", &format!("/api/v1/sfcompute/instances/{}", ids[0])] {
        let r = run_on(&p, request("GET", path, CI), &t, &store);
        assert_eq!((r.status, r.header("X-Gpufleet-Deadlines")), (200, Some("failed")), "{path}");
        assert!(!String::from_utf8_lossy(&r.body).contains("\"deadline\""), "{path}");
    }
    // A proxy without records reads nothing and marks nothing.
    let r = run(&proxy(&[]), request("GET", "/api/v1/sfcompute/instances", TOKEN), &t, None);
    assert_eq!((r.status, r.header("X-Gpufleet-Deadlines")), (200, None));
}

#[test]
fn sfcompute_deadlines_are_mirrored_into_a_tag_and_a_failed_mirror_is_reported_not_fatal() {
    let p = named_proxy();
    let store = Flaky::default();
    let (cloud, t) = sfc_cloud();
    let id = "inst_old0000000000001";
    let path = format!("/api/v1/sfcompute/instances/{id}/deadline");
    let r = run_on(&p, with_json(request("PUT", &path, ALICE), r#"{"at":"2023-11-15T00:00:00Z"}"#), &t, &store);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let tag = "2023-11-15T00:00:00Z terminate";
    assert_eq!(body(&r)["mirror"], serde_json::json!({"tag": "gpufleet-deadline", "value": tag, "ok": true}));
    // Read first (PATCH replaces every tag), then the whole map written back.
    assert_eq!(instance_calls(&t), [format!("GET /instances/{id}"), format!("PATCH /instances/{id}")]);
    assert_eq!(cloud.tags(id), serde_json::json!({"env": "prod", "gpufleet-deadline": tag}));

    // Setting the same again writes nothing (the tag already says so).
    run_on(&p, with_json(request("PUT", &path, ALICE), r#"{"at":"2023-11-15T00:00:00Z"}"#), &t, &store);
    assert_eq!(instance_calls(&t), [format!("GET /instances/{id}")]);

    // A mirror that fails: the deadline is set all the same, the answer and the log say so.
    cloud.fail_patch.set(true);
    let r = run_on(&p, with_json(request("PUT", &path, ALICE), r#"{"after":7200000}"#), &t, &store);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let b = body(&r);
    assert_eq!(b["deadline"]["atMs"], START_MS + 7_200_000);
    assert_eq!((b["mirror"]["ok"].as_bool(), b["mirror"]["error"]["code"].as_str()), (Some(false), Some("server")));
    assert_eq!(b["mirror"]["error"]["status"], 500);
    assert_eq!(block_on(store.inner.deadline(Provider::Sfcompute, id)).unwrap().unwrap().at_ms, START_MS + 7_200_000);
    let last = store.inner.audit_entries().pop().unwrap();
    assert_eq!(last.action, "deadline.changed");
    assert_eq!(last.outcome, AuditOutcome::Ok);
    let detail = last.detail.unwrap();
    assert!(detail.contains("tag gpufleet-deadline not written") && detail.contains("try later"), "{detail}");
    assert_eq!(cloud.tags(id)["gpufleet-deadline"], tag, "the old value stays (the D1 record is what fires)");

    // Cleared: the tag goes, the other tags stay.
    cloud.fail_patch.set(false);
    let r = run_on(&p, request("DELETE", &path, ALICE), &t, &store);
    assert_eq!(r.status, 200);
    let b = body(&r);
    assert_eq!(b["cleared"]["atMs"], START_MS + 7_200_000);
    assert_eq!(b["mirror"], serde_json::json!({"tag": "gpufleet-deadline", "ok": true}));
    assert_eq!(cloud.tags(id), serde_json::json!({"env": "prod"}));
    assert!(store.inner.audit_entries().pop().unwrap().detail.unwrap().ends_with("; tag gpufleet-deadline removed"));
    // Clearing again: nothing stored, and nothing to remove (read, no write).
    t.take_requests();
    let b = body(&run_on(&p, request("DELETE", &path, ALICE), &t, &store));
    assert!(b.get("cleared").is_none());
    assert_eq!(b["mirror"]["ok"], true);
    assert_eq!(instance_calls(&t), [format!("GET /instances/{id}")]);

    // An instance SF Compute does not know: the deadline is kept (the cron will find it gone), the mirror says why not.
    let r = run_on(
        &p,
        with_json(request("PUT", "/api/v1/sfcompute/instances/inst_gone/deadline", ALICE), r#"{"after":60000}"#),
        &t,
        &store,
    );
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["mirror"]["error"]["code"], "notFound");
}
