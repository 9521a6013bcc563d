//! The edge proxy's request handling, natively: a scripted transport stands in for the
//! providers, so every test can also prove which upstream calls were (not) made.

mod support;

use futures::executor::block_on;
use gpufleet::proxy::*;
use gpufleet::*;
use support::proxy_env::{proxy, server_config, FAL_KEY, NOVITA_KEY, RO_TOKEN, SECRETS, SFC_TOKEN, TOKEN};
use support::scripted::{json, ScriptedTransport};

const BASE: &str = "https://fleet.example.com";

fn get(path: &str) -> ProxyRequest {
    ProxyRequest::new("GET", &format!("{BASE}{path}"))
}

fn authed(req: ProxyRequest) -> ProxyRequest {
    req.header("Authorization", &format!("Bearer {TOKEN}"))
}

fn run(p: &Proxy, req: ProxyRequest, t: &ScriptedTransport) -> ProxyResponse {
    let mut limiter = RateLimiter::new();
    block_on(p.handle(req, t, &mut limiter))
}

fn body_json(r: &ProxyResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&r.body)))
}

fn error_code(r: &ProxyResponse) -> String {
    body_json(r)["error"]["code"].as_str().unwrap_or("").to_owned()
}

fn assert_common_headers(r: &ProxyResponse) {
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
    assert!(r.header("X-Request-Id").is_some());
    let all = format!("{:?}{}", r.headers, String::from_utf8_lossy(&r.body));
    for secret in SECRETS {
        assert!(!all.contains(secret), "secret leaked: {all}");
    }
    assert!(!r.log.to_json().contains("secret"));
}

const FAL_PAGE: &str = r#"{"instances":[{"id":"inst_1","instance_type":"gpu_1x_h100_sxm5","region":"us-west","status":"ready"}],"next_cursor":null,"has_more":false}"#;

#[test]
fn no_token_refuses_to_serve() {
    let p = proxy(&[("GPUFLEET_TOKEN", "")]);
    let t = ScriptedTransport::unreachable();
    let r = run(&p, authed(get("/api/v1/providers")), &t);
    assert_eq!(r.status, 503);
    assert_eq!(error_code(&r), "unauthorized");
    assert!(body_json(&r)["error"]["message"].as_str().unwrap().contains("GPUFLEET_TOKEN is not set"));
    assert_common_headers(&r);

    let short = proxy(&[("GPUFLEET_TOKEN", "short")]);
    let r = run(&short, authed(get("/api/v1/providers")).header("Authorization", "Bearer short"), &t);
    assert_eq!(r.status, 503);
    let same = proxy(&[("GPUFLEET_READONLY_TOKEN", TOKEN)]);
    assert_eq!(run(&same, authed(get("/api/v1/providers")), &t).status, 503);
    assert_eq!(t.request_count(), 0);
}

#[test]
fn healthz_is_public_and_names_providers_only() {
    let p = proxy(&[("NOVITA_API_KEY", "")]);
    let t = ScriptedTransport::unreachable();
    let r = run(&p, get("/healthz"), &t);
    assert_eq!(r.status, 200);
    let b = body_json(&r);
    assert_eq!(b["providers"]["fal"], true);
    assert_eq!(b["providers"]["novita"], false);
    assert_eq!(b["api"], "ready");
    assert_common_headers(&r);
    let r = run(&proxy(&[("GPUFLEET_TOKEN", "")]), get("/healthz"), &t);
    assert_eq!(body_json(&r)["api"], "refusing");
    assert_eq!(run(&p, ProxyRequest::new("POST", &format!("{BASE}/healthz")), &t).status, 405);
}

#[test]
fn missing_or_wrong_token_is_401() {
    let p = proxy(&[]);
    let t = ScriptedTransport::unreachable();
    for req in [
        get("/api/v1/providers"),
        get("/api/v1/providers").header("Authorization", "Bearer nope"),
        get("/api/v1/providers").header("Authorization", &format!("Basic {TOKEN}")),
        get("/api/v1/providers").header("Authorization", &format!("Bearer {TOKEN}x")),
        get("/api/v1/providers").header("Authorization", "Bearer "),
        get("/api/v1/providers").header("Cookie", &format!("token={TOKEN}")),
    ] {
        let r = run(&p, req, &t);
        assert_eq!(r.status, 401);
        assert_eq!(error_code(&r), "unauthorized");
        assert_eq!(r.header("WWW-Authenticate"), Some("Bearer realm=\"gpufleet\""));
        assert_common_headers(&r);
    }
    // The scheme is case-insensitive.
    let r = run(&p, get("/api/v1/providers").header("authorization", &format!("bearer {TOKEN}")), &t);
    assert_eq!(r.status, 200);
}

#[test]
fn read_only_token_reads_but_never_mutates() {
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|_| json(200, FAL_PAGE));
    let ro = |req: ProxyRequest| req.header("Authorization", &format!("Bearer {RO_TOKEN}"));
    let r = run(&p, ro(get("/api/v1/fal/instances")), &t);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(t.request_count(), 1);
    for (m, path) in [
        ("POST", "/api/v1/fal/instances"),
        ("DELETE", "/api/v1/fal/instances/inst_1"),
        ("POST", "/api/v1/novita/instances/abc/stop"),
        ("POST", "/api/v1/sfcompute/instances/inst_1/terminate"),
    ] {
        let req = ro(ProxyRequest::new(m, &format!("{BASE}{path}")))
            .header("Content-Type", "application/json")
            .body(RequestBody::Bytes(b"{}".to_vec()));
        let r = run(&p, req, &t);
        assert_eq!(r.status, 403, "{m} {path}");
        assert_eq!(error_code(&r), "forbidden");
    }
    assert_eq!(t.request_count(), 1, "no upstream call for the refused mutations");

    // /providers tells each token what it may do, so a console offers only what will work.
    let r = run(&p, ro(get("/api/v1/providers")), &t);
    assert_eq!(body_json(&r)["access"], "readOnly");
    let r = run(&p, authed(get("/api/v1/providers")), &t);
    assert_eq!(body_json(&r)["access"], "readWrite");
}

#[test]
fn cors_allows_listed_and_own_origin_only() {
    let p = proxy(&[]);
    let t = ScriptedTransport::unreachable();
    // Foreign origin: 403 with no CORS headers at all.
    let r = run(&p, authed(get("/api/v1/providers")).header("Origin", "https://evil.example"), &t);
    assert_eq!(r.status, 403);
    assert!(r.header("Access-Control-Allow-Origin").is_none());
    // Foreign preflight too.
    let pre = ProxyRequest::new("OPTIONS", &format!("{BASE}/api/v1/fal/instances"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST");
    let r = run(&p, pre, &t);
    assert_eq!(r.status, 403);
    assert!(r.headers.iter().all(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-")));
    // "null" and wildcards are never allowed.
    assert_eq!(run(&p, authed(get("/api/v1/providers")).header("Origin", "null"), &t).status, 403);

    // Listed origin: the preflight is answered and the one matching origin is echoed.
    let pre = ProxyRequest::new("OPTIONS", &format!("{BASE}/api/v1/fal/instances"))
        .header("Origin", "https://console.example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type");
    let r = run(&p, pre, &t);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("https://console.example.com"));
    assert_eq!(r.header("Vary"), Some("Origin"));
    assert!(r.header("Access-Control-Allow-Methods").unwrap().contains("DELETE"));
    assert!(r.header("Access-Control-Allow-Headers").unwrap().contains("Authorization"));
    assert!(r.body.is_empty());
    assert_common_headers(&r);

    let r = run(&p, authed(get("/api/v1/providers")).header("Origin", "https://console.example.com"), &t);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("https://console.example.com"));
    assert_eq!(r.header("Vary"), Some("Origin"));
    assert!(r.header("Access-Control-Allow-Credentials").is_none());

    // The console itself (same origin) needs no listing and gets no CORS grant.
    let r = run(&p, authed(get("/api/v1/providers")).header("Origin", BASE), &t);
    assert_eq!(r.status, 200);
    assert!(r.header("Access-Control-Allow-Origin").is_none());
    assert_eq!(r.header("Vary"), Some("Origin"));
}

#[test]
fn method_allowlist() {
    let p = proxy(&[]);
    let t = ScriptedTransport::unreachable();
    for m in ["PATCH", "HEAD", "TRACE", "CONNECT", "FOO"] {
        let r = run(&p, authed(ProxyRequest::new(m, &format!("{BASE}/api/v1/fal/instances"))), &t);
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.header("Allow"), Some(API_METHODS));
        assert_common_headers(&r);
    }
    // Allowed globally but not on this route.
    let r = run(&p, authed(ProxyRequest::new("DELETE", &format!("{BASE}/api/v1/providers"))), &t);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("GET"));
    let r = run(&p, authed(ProxyRequest::new("PUT", &format!("{BASE}/api/v1/fal/instances"))), &t);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("GET, POST"));
}

#[test]
fn hostile_paths_and_ids_never_reach_upstream() {
    let p = proxy(&[]);
    let t = ScriptedTransport::unreachable();
    let long = format!("/api/v1/fal/instances/{}", "a".repeat(300));
    for (path, status) in [
        ("/api/v1/fal/instances/..", 400),
        ("/api/v1/fal/instances/%2e%2e", 400),
        ("/api/v1/fal/instances/..%2F..%2Fadmin", 400),
        ("/api/v1/fal/instances/a%2Fb", 400),
        ("/api/v1/fal/instances/http:%2F%2Fevil.example", 400),
        ("/api/v1/fal/instances/evil.example%40x", 400),
        ("/api/v1/fal/instances/a%00b", 400),
        ("/api/v1/fal/instances/%ZZ", 400),
        ("/api/v1/fal/instances/%C3%A9", 400),
        ("/api/v1/fal/instances/a%20b", 400),
        (long.as_str(), 400),
        ("/api/v1/aws/instances", 400),
        ("/api/v1/..%2Ffal/instances", 400),
        ("/api/v1/fal/instances/x/reboot", 404),
        ("/api/v1//fal/instances", 404),
        ("/api/v2/fal/instances", 404),
        ("/api", 404),
    ] {
        let r = run(&p, authed(get(path)), &t);
        assert_eq!(r.status, status, "{path}: {}", String::from_utf8_lossy(&r.body));
        assert_common_headers(&r);
    }
    // Unconfigured provider: valid name, no key here.
    let p = proxy(&[("NOVITA_API_KEY", "")]);
    let r = run(&p, authed(get("/api/v1/novita/instances")), &t);
    assert_eq!(r.status, 400);
    assert!(body_json(&r)["error"]["message"].as_str().unwrap().contains("not configured"));
    let r = run(&p, authed(get("/api/v1/instances?provider=novita")), &t);
    assert_eq!(r.status, 400);
    // The SF Compute workspace is the proxy's, not the caller's.
    let r = run(&p, authed(get("/api/v1/sfcompute/instances?workspace=wksp_other")), &t);
    assert_eq!(r.status, 400);
    assert_eq!(t.request_count(), 0);
}

#[test]
fn create_body_rules() {
    let p = proxy(&[]);
    let t = ScriptedTransport::unreachable();
    let post = |ct: Option<&str>, body: RequestBody| {
        let mut r = authed(ProxyRequest::new("POST", &format!("{BASE}/api/v1/fal/instances")));
        if let Some(ct) = ct {
            r = r.header("Content-Type", ct);
        }
        r.body(body)
    };
    let ok_body = || {
        RequestBody::Bytes(br#"{"instanceType":"gpu_1x_h100_sxm5","sshKey":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2"}"#.to_vec())
    };
    assert_eq!(run(&p, post(Some("text/plain"), ok_body()), &t).status, 415);
    assert_eq!(run(&p, post(None, ok_body()), &t).status, 415);
    assert_eq!(run(&p, post(Some("application/x-www-form-urlencoded"), ok_body()), &t).status, 415);
    assert_eq!(run(&p, post(Some("application/json"), RequestBody::TooLarge), &t).status, 413);
    let big = RequestBody::Bytes(vec![b' '; gpufleet::proxy::api::MAX_BODY_BYTES + 1]);
    assert_eq!(run(&p, post(Some("application/json"), big), &t).status, 413);
    let declared = post(Some("application/json"), ok_body()).header("Content-Length", "10000000");
    assert_eq!(run(&p, declared, &t).status, 413);
    let r = run(&p, post(Some("application/json"), RequestBody::Bytes(b"{not json".to_vec())), &t);
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r), "invalidInput");
    let r = run(&p, post(Some("application/json"), RequestBody::Bytes(b"[1]".to_vec())), &t);
    assert_eq!(r.status, 400);
    let r = run(&p, post(Some("application/json"), RequestBody::Bytes(br#"{"bogus":1}"#.to_vec())), &t);
    assert_eq!(r.status, 400);
    assert_eq!(t.request_count(), 0);
}

#[test]
fn upstream_calls_go_to_the_configured_base_url_with_our_key_only() {
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|_| json(200, FAL_PAGE));
    let req = authed(get("/api/v1/fal/instances?limit=5"))
        .header("Cookie", "session=abc")
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "http")
        .header("X-Forwarded-For", "1.2.3.4")
        .header("Forwarded", "host=evil.example");
    let r = run(&p, req, &t);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_common_headers(&r);
    let sent = t.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].url.starts_with("http://127.0.0.1:9/fal/v1/"), "{}", sent[0].url);
    assert_eq!(sent[0].header_value("authorization"), Some(format!("Key {FAL_KEY}").as_str()));
    for (k, v) in &sent[0].headers {
        let k = k.to_ascii_lowercase();
        assert!(!["cookie", "host", "forwarded"].contains(&k.as_str()) && !k.starts_with("x-forwarded"), "{k}");
        assert!(!v.contains(TOKEN) && !v.contains("evil"), "{k}: {v}");
    }
    let page = body_json(&r);
    assert_eq!(page["items"][0]["id"], "inst_1");
}

#[test]
fn upstream_errors_keep_request_id_and_retry_after() {
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|_| {
        Ok(HttpResponse::new(429, br#"{"error":{"type":"rate_limited","message":"slow down"}}"#.to_vec())
            .with_header("Retry-After", "7")
            .with_header("x-request-id", "req-upstream-42"))
    });
    let r = run(&p, authed(get("/api/v1/fal/instances/inst_1")), &t);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("7"));
    assert_eq!(r.header("X-Upstream-Request-Id"), Some("req-upstream-42"));
    let b = body_json(&r);
    assert_eq!(b["error"]["code"], "rateLimited");
    assert_eq!(b["error"]["requestId"], "req-upstream-42");
    assert_eq!(b["error"]["provider"], "fal");
    assert_eq!(t.request_count(), 1, "the proxy does not retry; its callers do");

    // A bad provider key is the proxy's problem, not the caller's: 502.
    let t = ScriptedTransport::new(|_| json(401, r#"{"detail":"invalid key"}"#));
    let r = run(&p, authed(get("/api/v1/fal/instances/inst_1")), &t);
    assert_eq!(r.status, 502);
    assert_eq!(error_code(&r), "unauthorized");

    // Network failure upstream.
    let t = ScriptedTransport::new(|_| Err(TransportError::Network("connection refused".into())));
    let r = run(&p, authed(get("/api/v1/fal/instances/inst_1")), &t);
    assert_eq!(r.status, 502);
    assert_eq!(error_code(&r), "network");
}

#[test]
fn an_upstream_that_echoes_a_key_is_scrubbed() {
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|_| json(400, &format!(r#"{{"detail":"bad key {FAL_KEY} for you"}}"#)));
    let r = run(&p, authed(get("/api/v1/fal/instances/inst_1")), &t);
    assert_eq!(r.status, 422);
    assert!(String::from_utf8_lossy(&r.body).contains("[redacted]"));
    assert_common_headers(&r);
}

#[test]
fn rate_limit_per_caller() {
    let p = proxy(&[("RATE_LIMIT_PER_MINUTE", "60"), ("RATE_LIMIT_BURST", "2")]);
    let t = ScriptedTransport::unreachable();
    let mut limiter = RateLimiter::new();
    let mut go = |req: ProxyRequest| block_on(p.handle(req, &t, &mut limiter));
    assert_eq!(go(authed(get("/api/v1/providers"))).status, 200);
    assert_eq!(go(authed(get("/api/v1/providers"))).status, 200);
    let r = go(authed(get("/api/v1/providers")));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_eq!(error_code(&r), "rateLimited");
    // Unauthenticated callers are counted by IP, separately, and also limited (no brute force).
    let anon = |ip: &str| get("/api/v1/providers").header("CF-Connecting-IP", ip).header("Authorization", "Bearer guess");
    assert_eq!(go(anon("10.0.0.1")).status, 401);
    assert_eq!(go(anon("10.0.0.1")).status, 401);
    assert_eq!(go(anon("10.0.0.1")).status, 429);
    assert_eq!(go(anon("10.0.0.2")).status, 401);
}

#[test]
fn every_route_for_every_provider_dispatches() {
    // A responder that answers each provider's list/get shape well enough.
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|req| {
        let u = req.url.as_str();
        if u.contains("/fal/v1/") {
            if req.method == Method::Delete {
                return Ok(HttpResponse::new(204, Vec::new()));
            }
            if u.contains("/instances/") {
                return json(200, r#"{"id":"inst_1","instance_type":"gpu_1x_h100_sxm5","status":"ready"}"#);
            }
            return json(200, FAL_PAGE);
        }
        json(404, r#"{"error":"no"}"#)
    });
    let r = run(&p, authed(get("/api/v1/fal/instances/inst_1")), &t);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(body_json(&r)["id"], "inst_1");
    let r = run(&p, authed(ProxyRequest::new("DELETE", &format!("{BASE}/api/v1/fal/instances/inst_1"))), &t);
    assert_eq!(r.status, 200);
    assert_eq!(body_json(&r)["alreadyGone"], false);
    let r = run(&p, authed(get("/api/v1/providers")), &t);
    let names: Vec<String> =
        body_json(&r)["providers"].as_array().unwrap().iter().map(|c| c["provider"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["fal", "fal-alpha", "sfcompute", "novita"]);
    // Unsupported operation: refused before any request.
    let before = t.request_count();
    let r = run(&p, authed(ProxyRequest::new("POST", &format!("{BASE}/api/v1/fal/instances/inst_1/start"))), &t);
    assert_eq!(r.status, 400);
    assert_eq!(error_code(&r), "unsupported");
    assert_eq!(t.request_count(), before);
    // The fan-out lists every provider; failures are per provider, not a failed answer.
    let r = run(&p, authed(get("/api/v1/instances")), &t);
    assert_eq!(r.status, 200);
    let b = body_json(&r);
    assert_eq!(b["instances"].as_array().unwrap().len(), 1);
    assert_eq!(b["errors"].as_array().unwrap().len(), 3);
}

#[test]
fn non_api_paths() {
    let p = proxy(&[]);
    let t = ScriptedTransport::unreachable();
    let r = run(&p, get("/nope.html"), &t);
    assert_eq!(r.status, 404);
    assert_eq!(r.header("Content-Security-Policy"), Some(CONSOLE_CSP));
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(run(&p, ProxyRequest::new("POST", &format!("{BASE}/index.html")), &t).status, 405);
    let h = console_headers("text/html; charset=utf-8");
    let find = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(find("Content-Security-Policy"), Some(CONSOLE_CSP));
    assert!(CONSOLE_CSP.contains("frame-ancestors 'none'") && !CONSOLE_CSP.contains("unsafe-inline"));
    // The console compiles gpufleet's wasm: exactly 'wasm-unsafe-eval' is added to script-src, no
    // 'unsafe-eval', no other source.
    assert!(CONSOLE_CSP.split("; ").any(|d| d == "script-src 'self' 'wasm-unsafe-eval'"), "{CONSOLE_CSP}");
    assert!(!CONSOLE_CSP.contains("'unsafe-eval'"));
    assert_eq!(find("X-Frame-Options"), Some("DENY"));
    assert_eq!(find("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(find("Referrer-Policy"), Some("no-referrer"));
}

#[test]
fn config_rejects_unsafe_base_urls_and_origins() {
    let c = server_config(&[("FAL_BASE_URL", "http://evil.example/v1"), ("ALLOWED_ORIGINS", "*, https://ok.example")]);
    assert!(!c.providers().contains_key(&Provider::Fal));
    assert!(c.providers().contains_key(&Provider::FalAlpha));
    assert_eq!(c.allowed_origins(), ["https://ok.example"]);
    assert!(c.warnings().iter().any(|w| w.contains("FAL_BASE_URL")));
    assert!(c.warnings().iter().any(|w| w.contains("ALLOWED_ORIGINS")));
    assert!(!format!("{c:?}").contains(FAL_KEY), "Debug never prints keys");
    let c = server_config(&[("SFC_WORKSPACE", "")]);
    assert!(!c.providers().contains_key(&Provider::Sfcompute));
}

#[test]
fn constant_time_compare() {
    assert!(constant_time_eq("abc", "abc"));
    assert!(!constant_time_eq("abc", "abd"));
    assert!(!constant_time_eq("abc", "abcd"));
    assert!(!constant_time_eq("", "a"));
}

#[test]
fn nothing_the_caller_sends_panics() {
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|_| json(200, "{}"));
    let methods = ["GET", "POST", "DELETE", "OPTIONS", "get", "", "G\u{0}T"];
    let paths = [
        "",
        "/",
        "/api",
        "/api/",
        "/api/v1",
        "/api/v1/",
        "/api/v1/%",
        "/api/v1/%%",
        "/api/v1/fal/instances/%E2%82",
        "/api/v1/fal/instances?limit=%",
        "/api/v1/fal/instances?limit=-1",
        "/api/v1/fal/instances?cursor=..%2F",
        "/api/v1/instances?status=nope",
        "/api/v1/instances?q=%F0%9F%98%80",
        "/healthz?x",
        "/api/v1/fal/instances/\u{1F600}",
    ];
    for m in methods {
        for path in paths {
            for origin in [None, Some("https://evil.example"), Some("\u{0}")] {
                let mut req =
                    authed(ProxyRequest::new(m, &format!("{BASE}{path}"))).body(RequestBody::Bytes(b"\xff\xfe".to_vec()));
                if let Some(o) = origin {
                    req = req.header("Origin", o);
                }
                let r = run(&p, req, &t);
                assert!(r.status >= 200 && r.status < 600);
                assert_common_headers(&r);
            }
        }
    }
    for url in ["", "not a url", "https://", "https://h", "://x/api/v1/providers"] {
        let r = run(&p, authed(ProxyRequest::new("GET", url)), &t);
        assert!(r.status >= 200 && r.status < 600);
    }
}

// ----- issue #13, point 5: redirects, the own origin, no echo of a secret ----------------------

#[test]
fn an_upstream_redirect_is_a_502_naming_only_the_target_origin() {
    let p = proxy(&[]);
    for status in [301, 302, 307, 308] {
        let t = ScriptedTransport::new(move |_| {
            Ok(HttpResponse::new(status, FAL_PAGE.as_bytes().to_vec())
                .with_header("Location", "http://127.0.0.1:5999/collect?key=abc"))
        });
        let r = run(&p, authed(get("/api/v1/fal/instances")), &t);
        assert_eq!(t.request_count(), 1, "one upstream call, to the configured host, not retried");
        assert!(t.requests()[0].url.starts_with("http://127.0.0.1:9/fal/v1/"));
        assert_eq!(r.status, 502, "{}", String::from_utf8_lossy(&r.body));
        let e = &body_json(&r)["error"];
        assert_eq!(e["code"], "server");
        assert_eq!(e["provider"], "fal");
        assert_eq!(e["status"], status);
        assert_eq!(e["retryable"], false);
        assert_eq!(e["details"], serde_json::json!([{ "code": "redirect", "message": "http://127.0.0.1:5999" }]));
        assert_eq!(
            e["message"],
            format!("fal answered HTTP {status} with a redirect to http://127.0.0.1:5999; gpufleet does not follow redirects, so the request was not sent there: check the configured base URL (http://127.0.0.1:9)")
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains("inst_1"),
            "the redirect's body is not served as the provider's answer"
        );
        assert_common_headers(&r);
    }
}

#[test]
fn a_forged_host_never_makes_a_foreign_origin_the_proxys_own() {
    let t = ScriptedTransport::new(|_| json(200, FAL_PAGE));
    // Without GPUFLEET_ORIGIN the own origin is the URL the runtime gives; the Host and
    // forwarding headers the caller sends are not read.
    let p = proxy(&[]);
    let forged = |origin: &str| {
        authed(get("/api/v1/providers"))
            .header("Host", "evil.example")
            .header("X-Forwarded-Host", "evil.example")
            .header("Forwarded", "host=evil.example;proto=https")
            .header("Origin", origin)
    };
    for origin in ["https://evil.example", "http://evil.example"] {
        let r = run(&p, forged(origin), &t);
        assert_eq!(r.status, 403, "{origin}");
        assert!(r.header("Access-Control-Allow-Origin").is_none());
    }
    // With GPUFLEET_ORIGIN, that is the own origin, whatever URL the runtime built (workerd builds
    // it from the Host header).
    let p = proxy(&[("GPUFLEET_ORIGIN", "https://Fleet.Example.com/")]);
    assert_eq!(p.config().own_origin(), Some("https://fleet.example.com"));
    let at = |url_origin: &str, origin: &str| {
        ProxyRequest::new("POST", &format!("{url_origin}/api/v1/fal/instances/inst_1/start"))
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .header("Origin", origin)
    };
    let r = run(&p, at("http://evil.example", "http://evil.example"), &t);
    assert_eq!(r.status, 403, "a URL built from a forged Host is not the own origin");
    assert!(r.header("Access-Control-Allow-Origin").is_none());
    let r = run(&p, at("http://evil.example", "https://fleet.example.com"), &t);
    assert_eq!(r.status, 400, "the configured origin passes CORS (then fal has no start)");
    assert_eq!(error_code(&r), "unsupported");
    assert!(r.header("Access-Control-Allow-Origin").is_none(), "same origin: no CORS grant needed");
    let r = run(&p, authed(get("/api/v1/providers")).header("Origin", "https://console.example.com"), &t);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("https://console.example.com"), "ALLOWED_ORIGINS still apply");
    // An unusable value is a warning, and the URL's origin is used.
    let p = proxy(&[("GPUFLEET_ORIGIN", "https://fleet.example.com/console")]);
    assert_eq!(p.config().own_origin(), None);
    assert!(p.config().warnings().iter().any(|w| w.starts_with("GPUFLEET_ORIGIN ignored")));
    assert_eq!(run(&p, authed(get("/api/v1/providers")).header("Origin", BASE), &t).status, 200);
}

/// Sends `make(value)` with a configured secret and with a made-up value of the same length: the
/// answers must be byte-identical (so the answer says nothing about whether a value is a secret),
/// and quote neither value nor say "redacted".
fn same_answer_for_a_secret(p: &Proxy, secret: &str, make: &dyn Fn(&str) -> ProxyRequest) -> serde_json::Value {
    let other: String = secret.chars().rev().map(|c| if c == '-' { '_' } else { c }).collect();
    assert_ne!(other, secret);
    let t = ScriptedTransport::unreachable();
    let a = run(p, make(secret), &t);
    let b = run(p, make(&other), &t);
    let (ta, tb) = (String::from_utf8_lossy(&a.body).into_owned(), String::from_utf8_lossy(&b.body).into_owned());
    assert_eq!(a.status, b.status, "{ta}");
    assert_eq!(ta, tb, "the same answer whether or not the value is a secret");
    for text in [&ta, &tb] {
        assert!(!text.contains(secret) && !text.contains(&other), "the caller's value is not quoted: {text}");
        assert!(!text.to_ascii_lowercase().contains("redacted"), "no [redacted] marker: {text}");
    }
    assert_eq!(t.request_count(), 0);
    body_json(&a)["error"].clone()
}

#[test]
fn validation_answers_never_quote_a_value_the_caller_sent() {
    let p = proxy(&[]);
    let list = |path: String| authed(get(&path));
    let create = |provider: &'static str, body: String| {
        authed(ProxyRequest::new("POST", &format!("{BASE}/api/v1/{provider}/instances")))
            .header("Content-Type", "application/json")
            .body(RequestBody::Bytes(body.into_bytes()))
    };
    let novita = |extra: &str| {
        format!(
            r#"{{"name":"n","productId":"prod-1","gpuNum":1,"rootfsSize":20,"imageUrl":"nginx:latest","kind":"gpu",{extra}}}"#
        )
    };

    // A query parameter named like a secret.
    let e = same_answer_for_a_secret(&p, NOVITA_KEY, &|v| list(format!("/api/v1/fal/instances?{v}=1")));
    assert_eq!(e["field"], "query.…");
    assert!(e["message"].as_str().unwrap().starts_with("query.…: unknown field `…`, expected `limit` or `cursor`"), "{e}");
    let e = same_answer_for_a_secret(&p, FAL_KEY, &|v| list(format!("/api/v1/providers?{v}=1")));
    assert_eq!(e["message"], "query: this route takes no query parameters");
    let e = same_answer_for_a_secret(&p, FAL_KEY, &|v| list(format!("/api/v1/instances?{v}=1")));
    assert_eq!(e["message"], "query: takes only provider, status and q");
    let e = same_answer_for_a_secret(&p, SFC_TOKEN, &|v| list(format!("/api/v1/fal/instances?{v}=1&{v}=2")));
    assert_eq!(e["field"], "query");
    // A filter value equal to a secret, checked by the provider module ("(got …)").
    let e = same_answer_for_a_secret(&p, SFC_TOKEN, &|v| list(format!("/api/v1/sfcompute/instances?capacity={v}")));
    assert!(e["message"].as_str().unwrap().ends_with("(got \"…\")"), "{e}");
    let e = same_answer_for_a_secret(&p, NOVITA_KEY, &|v| list(format!("/api/v1/sfcompute/instances?tag={v}")));
    assert_eq!(e["message"], "tag[0]: must be key=value (got \"…\")");
    same_answer_for_a_secret(&p, "wksp_simfleet01", &|v| list(format!("/api/v1/sfcompute/instances?id={v}")));

    // Create bodies: an unknown key, a mistyped value, a value a rule rejects, a map key.
    let e = same_answer_for_a_secret(&p, FAL_KEY, &|v| {
        create("fal", format!(r#"{{"instanceType":"gpu_1x_h100_sxm5","sshKey":"k","{v}":1}}"#))
    });
    assert_eq!(e["field"], "input.…");
    let e = same_answer_for_a_secret(&p, NOVITA_KEY, &|v| create("novita", novita(&format!(r#""minCudaVersion":"{v}""#))));
    assert_eq!(e["message"], "minCudaVersion: must be a version such as 12.4 (got \"…\")");
    let e = same_answer_for_a_secret(&p, NOVITA_KEY, &|v| create("novita", novita(&format!(r#""ports":"80/http, {v}""#))));
    assert_eq!(e["message"], "ports: each entry must be <port>/<tcp|http>, e.g. \"80/http, 3306/tcp\" (got \"…\")");
    let e = same_answer_for_a_secret(&p, NOVITA_KEY, &|v| {
        create("novita", novita(&format!(r#""gpuNum":"{v}""#)).replace(r#""gpuNum":1,"#, ""))
    });
    assert_eq!(e["message"], "input.gpuNum: invalid type: string \"…\", expected u32");
    let e = same_answer_for_a_secret(&p, SFC_TOKEN, &|v| {
        create("sfcompute", format!(r#"{{"capacity":"cap_h100sfprod01","image":"image_ubuntu2204cuda127","tags":{{"{v}":5}}}}"#))
    });
    assert_eq!(e["field"], "input.tags.…");
    let e = same_answer_for_a_secret(&p, SFC_TOKEN, &|v| {
        create(
            "sfcompute",
            format!(r#"{{"capacity":"cap_h100sfprod01","image":"image_ubuntu2204cuda127","tags":{{"{v}=x":"y"}}}}"#),
        )
    });
    assert_eq!(e["field"], "tags.…");
    assert!(e["message"].as_str().unwrap().starts_with("tags.…: tag key \"…\" must be"), "{e}");

    // The method is the caller's text too (an all-uppercase secret is possible).
    let upper = "UPPERCASE-TOKEN-0123456789";
    let p = proxy(&[("GPUFLEET_TOKEN", upper)]);
    for path in ["/api/v1/fal/instances", "/api/v1/providers", "/healthz", "/"] {
        let e = same_answer_for_a_secret(&p, upper, &|m| {
            ProxyRequest::new(m, &format!("{BASE}{path}")).header("Authorization", &format!("Bearer {upper}"))
        });
        assert!(e["message"].as_str().unwrap().starts_with("this method is not allowed here; use "), "{e}");
    }
}

#[test]
fn live_view_is_admitted_for_readers_and_handed_on_without_upstream_calls() {
    let p = proxy(&[]);
    let t = ScriptedTransport::new(|_| json(200, FAL_PAGE));
    let ro = |req: ProxyRequest| req.header("Authorization", &format!("Bearer {RO_TOKEN}"));
    for path in ["/api/v1/live", "/api/v1/live/refresh"] {
        // The mark is what worker.js hands on to the FleetLive Durable Object, with the caller.
        let r = run(&p, authed(get(path)), &t);
        assert_eq!((r.status, r.header("X-Gpufleet-Live")), (200, Some("token")), "{path}");
        assert!(r.body.is_empty());
        let r = run(&p, ro(get(path)), &t);
        assert_eq!((r.status, r.header("X-Gpufleet-Live")), (200, Some("readonly-token")), "{path}: a reader may watch");
        let r = run(&p, get(path), &t);
        assert_eq!((r.status, r.header("X-Gpufleet-Live")), (401, None), "{path}: never without a caller");
        let r = run(&p, authed(ProxyRequest::new("POST", &format!("{BASE}{path}"))), &t);
        assert_eq!((r.status, r.header("X-Gpufleet-Live")), (405, None), "{path}: GET only");
        let r = run(&p, authed(get(&format!("{path}?all=1"))), &t);
        assert_eq!((r.status, error_code(&r).as_str()), (400, "invalidInput"), "{path}: no query");
    }
    assert_eq!(t.request_count(), 0, "admitting the live view calls no provider");

    // The Durable Object's own walk: a named read-only caller, never one that may change things.
    let internal = |req: ProxyRequest| req.access(AccessCheck::Internal("live-view".into()));
    let r = run(&p, internal(get("/api/v1/fal/instances")), &t);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.log.caller.as_deref(), Some("live-view"));
    let req = internal(ProxyRequest::new("POST", &format!("{BASE}/api/v1/novita/instances/abc/stop")));
    assert_eq!(run(&p, req, &t).status, 403);
    assert_eq!(t.request_count(), 1);
}
