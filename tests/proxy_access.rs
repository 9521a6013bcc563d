//! Cloudflare Access identities as callers, natively: which credential decides, what the Worker's
//! check of an assertion (`ProxyRequest::access`, from access.js) makes of the caller, their name
//! on the access log and the audit log, what they may do, and the configuration rules. The
//! assertion itself is checked by the Worker's JS (WebCrypto): tests/proxy/access.test.mjs.

mod support;

use futures::executor::block_on;
use gpufleet::proxy::*;
use gpufleet::store::*;
use serde_json::Value;
use support::proxy_env::{proxy, TOKEN};
use support::scripted::{json as answer, ScriptedTransport, START_MS};

const BASE: &str = "https://fleet.example.com";
const NOVITA: &str = "https://api.novita.ai/gpu-instance/openapi/v1";
const TEAM: &str = "https://acme.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
/// Stands in for a signed assertion: what the proxy does with it depends only on the check.
const ASSERTION: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJ9.c2ln";

fn access_proxy(writers: &str) -> Proxy {
    proxy(&[("CF_ACCESS_TEAM_DOMAIN", TEAM), ("CF_ACCESS_AUD", AUD), ("CF_ACCESS_WRITERS", writers)]).with_records(true)
}

fn request(method: &str, path: &str) -> ProxyRequest {
    ProxyRequest::new(method, &format!("{BASE}{path}"))
}

/// A request through Access, as access.js found its assertion.
fn through_access(method: &str, path: &str, check: AccessCheck) -> ProxyRequest {
    request(method, path).header("Cf-Access-Jwt-Assertion", ASSERTION).access(check)
}

fn verified(method: &str, path: &str, name: &str) -> ProxyRequest {
    through_access(method, path, AccessCheck::Verified(name.into()))
}

fn run(p: &Proxy, req: ProxyRequest, t: &ScriptedTransport, store: &MemoryStore) -> ProxyResponse {
    let mut limiter = RateLimiter::new();
    block_on(p.handle_with_records(req, t, &mut limiter, Some(store)))
}

fn rate_key(p: &Proxy, req: &ProxyRequest) -> String {
    match p.admit(req, "r".into(), START_MS) {
        Admission::Proceed(a) => a.rate_key().to_owned(),
        Admission::Respond(r) => panic!("answered {}", r.status),
    }
}

fn body(r: &ProxyResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body)))
}

fn message(r: &ProxyResponse) -> String {
    body(r)["error"]["message"].as_str().unwrap_or("").to_owned()
}

fn novita() -> ScriptedTransport {
    ScriptedTransport::new(|r| {
        assert_eq!(r.url, format!("{NOVITA}/gpu/instance/stop"), "the only upstream call is the stop");
        answer(200, "{}")
    })
}

#[test]
fn an_access_user_reads_and_a_listed_writer_changes_things_under_their_name() {
    let p = access_proxy("Ops@Example.com");
    let store = MemoryStore::new();
    let t = novita();

    let r = run(&p, verified("GET", "/api/v1/providers", "alice@example.com"), &t, &store);
    assert_eq!((r.status, body(&r)["access"].as_str()), (200, Some("readOnly")));
    assert_eq!(r.log.caller.as_deref(), Some("alice@example.com"), "the identity on the access log");
    assert_eq!(rate_key(&p, &verified("GET", "/api/v1/providers", "alice@example.com")), "access:alice@example.com");

    let stop = "/api/v1/novita/instances/n1/stop";
    let r = run(&p, verified("POST", stop, "alice@example.com"), &t, &store);
    assert_eq!(r.status, 403);
    assert!(message(&r).contains("CF_ACCESS_WRITERS"), "{}", message(&r));
    assert_eq!(t.request_count(), 0, "a reader's mutation goes nowhere");

    let r = run(&p, verified("POST", stop, "ops@example.com"), &t, &store);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.log.caller.as_deref(), Some("ops@example.com"));
    let logged = store.audit_entries();
    assert_eq!(logged.len(), 1);
    assert_eq!((logged[0].caller.as_str(), logged[0].action.as_str()), ("ops@example.com", "stop"));
    assert_eq!(Some(logged[0].request_id.as_str()), r.header("X-Request-Id"));

    // A service token: a writer only when listed as one.
    let r = run(&p, verified("POST", stop, "service:ci.access"), &t, &store);
    assert_eq!((r.status, r.log.caller.as_deref()), (403, Some("service:ci.access")));
    let r = run(&access_proxy("service:ci.access"), verified("POST", stop, "service:ci.access"), &t, &store);
    assert_eq!(r.status, 200);
    assert_eq!(store.audit_entries()[1].caller, "service:ci.access");
}

#[test]
fn a_bearer_token_decides_when_sent_and_the_assertion_counts_only_with_access_configured() {
    let p = access_proxy("");
    let store = MemoryStore::new();
    let t = ScriptedTransport::unreachable();
    let bearer = |req: ProxyRequest, token: &str| req.header("Authorization", &format!("Bearer {token}"));
    // A valid token with an assertion: the token's caller.
    let req = bearer(verified("GET", "/api/v1/providers", "alice@example.com"), TOKEN);
    assert!(rate_key(&p, &req).starts_with("token:"));
    let r = run(&p, req, &t, &store);
    assert_eq!((r.status, r.log.caller.as_deref(), body(&r)["access"].as_str()), (200, Some("token"), Some("readWrite")));
    // A wrong token is a wrong token, whatever assertion comes with it.
    let r = run(&p, bearer(verified("GET", "/api/v1/providers", "alice@example.com"), "wrong-0123456789abcdef"), &t, &store);
    assert_eq!((r.status, message(&r).as_str()), (401, "the bearer token is not valid"));
    // Neither: the message names both ways in.
    let r = run(&p, request("GET", "/api/v1/providers"), &t, &store);
    assert_eq!(r.status, 401);
    assert!(message(&r).contains("Cf-Access-Jwt-Assertion"), "{}", message(&r));
    // A check without the header it was made of counts for nothing.
    let r = run(&p, request("GET", "/api/v1/providers").access(AccessCheck::Verified("alice@example.com".into())), &t, &store);
    assert_eq!(r.status, 401);

    // Without Access configured, the header (and any check) is nobody's word.
    let r = run(&proxy(&[]), verified("GET", "/api/v1/providers", "alice@example.com"), &t, &store);
    assert_eq!((r.status, message(&r).as_str()), (401, "missing Authorization: Bearer <token> header"));
}

#[test]
fn an_assertion_that_does_not_hold_is_answered_with_its_code_and_names_no_caller() {
    let p = access_proxy("");
    let store = MemoryStore::new();
    let t = ScriptedTransport::unreachable();
    let cases = [
        (401, "unauthorized", "the Cloudflare Access assertion (Cf-Access-Jwt-Assertion) has expired (exp)"),
        (502, "server", "could not read the Cloudflare Access signing keys: HTTP 500; try again"),
    ];
    for (status, code, why) in cases {
        let req = through_access("GET", "/api/v1/providers", AccessCheck::Refused(status, why.into()));
        assert!(rate_key(&p, &req).starts_with("ip:"), "a refused assertion is counted by address");
        let r = run(&p, req, &t, &store);
        assert_eq!(r.status, status, "{why}");
        let b = body(&r);
        assert_eq!((b["error"]["code"].as_str(), b["error"]["message"].as_str()), (Some(code), Some(why)));
        assert_eq!(b["error"]["retryable"], status == 502);
        assert!(!String::from_utf8_lossy(&r.body).contains(ASSERTION), "the assertion is never echoed");
        assert_eq!(r.log.caller, None, "a refused assertion names no caller");
        assert_eq!(r.header("WWW-Authenticate").is_some(), status == 401);
    }
    assert_eq!(t.request_count(), 0);
}

#[test]
fn access_alone_suffices_one_variable_alone_refuses_and_healthz_says_which() {
    let store = MemoryStore::new();
    let t = ScriptedTransport::unreachable();
    let only_access = proxy(&[
        ("GPUFLEET_TOKEN", ""),
        ("GPUFLEET_READONLY_TOKEN", ""),
        ("CF_ACCESS_TEAM_DOMAIN", TEAM),
        ("CF_ACCESS_AUD", AUD),
    ]);
    let r = run(&only_access, verified("GET", "/api/v1/providers", "a@b.c"), &t, &store);
    assert_eq!(r.status, 200, "Access alone is a way in: {}", String::from_utf8_lossy(&r.body));

    for (set, value, missing) in
        [("CF_ACCESS_TEAM_DOMAIN", TEAM, "CF_ACCESS_AUD"), ("CF_ACCESS_AUD", AUD, "CF_ACCESS_TEAM_DOMAIN")]
    {
        let half = proxy(&[(set, value)]);
        let r = run(&half, request("GET", "/api/v1/providers").header("Authorization", &format!("Bearer {TOKEN}")), &t, &store);
        assert_eq!(r.status, 503, "{set} alone");
        assert!(message(&r).starts_with(&format!("{missing} is not set")), "{}", message(&r));
        let health = body(&run(&half, request("GET", "/healthz"), &t, &store));
        assert_eq!((health["api"].as_str(), health["cloudflareAccess"].as_bool()), (Some("refusing"), Some(false)));
    }
    let bad = proxy(&[("CF_ACCESS_TEAM_DOMAIN", "http://acme.cloudflareaccess.com"), ("CF_ACCESS_AUD", AUD)]);
    let r = run(&bad, request("GET", "/api/v1/providers").header("Authorization", &format!("Bearer {TOKEN}")), &t, &store);
    assert!(message(&r).starts_with("CF_ACCESS_TEAM_DOMAIN must be https://"), "{}", message(&r));

    let health = body(&run(&access_proxy("a@b.c, service:ci.access"), request("GET", "/healthz"), &t, &store));
    assert_eq!((health["cloudflareAccess"].as_bool(), health["accessWriters"].as_u64()), (Some(true), Some(2)));
    let text = health.to_string();
    assert!(!text.contains(AUD) && !text.contains("acme") && !text.contains("a@b.c"), "no configuration values: {text}");
    let plain = body(&run(&proxy(&[("CF_ACCESS_WRITERS", "a@b.c")]), request("GET", "/healthz"), &t, &store));
    assert_eq!(plain["cloudflareAccess"], false);
    assert!(plain["warnings"].to_string().contains("CF_ACCESS_WRITERS ignored"), "{plain}");
}
