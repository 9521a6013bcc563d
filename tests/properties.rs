//! Property tests ("fuzzing" on stable): no input makes gpufleet panic. Every provider decoder
//! (list, get, create, delete, actions, ssh, error bodies) is fed arbitrary JSON built from the
//! field names of the fixtures, mutated fixtures, arbitrary and truncated bytes, odd statuses and
//! headers; the proxy is fed arbitrary methods, paths, queries, headers and bodies, over
//! arbitrary upstream answers. Each must give a value or an `Error` with a code and a message,
//! and the proxy an HTTP answer with a coded JSON error body that leaks no secret.
//!
//! Cases per property: `PROPTEST_CASES` (default below, CI-sized); `scripts/fuzz-long.sh` runs
//! many more. Each property prints `[fuzz] <name>: <n> executions` (see `--nocapture`).

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use futures::executor::block_on;
use gpufleet::proxy::{Proxy, ProxyRequest, RateLimiter, RequestBody};
use gpufleet::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Number, Value};
use support::fixtures::all_fixtures;
use support::proxy_env::{FAL_KEY, NOVITA_KEY, SFC_TOKEN, SFC_WORKSPACE, TOKEN};
use support::scripted::ScriptedTransport;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 1_000;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_CASES)
}

/// Runs `test` on `cases()` values of `strategy`, counting executions (shrinking included), and
/// fails the Rust test with the smallest failing input.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let executions = AtomicU64::new(0);
    let config = Config { cases: cases(), failure_persistence: None, max_shrink_iters: 2_000, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |v| {
        executions.fetch_add(1, Ordering::Relaxed);
        test(v)
    });
    let n = executions.load(Ordering::Relaxed);
    match result {
        Ok(()) => eprintln!("[fuzz] {name}: {n} executions, 0 crashes"),
        Err(e) => {
            eprintln!("[fuzz] {name}: {n} executions, 1 crash");
            panic!("{name}: {e}");
        }
    }
}

// ----- inputs ------------------------------------------------------------------------------------

/// The JSON fixtures of `p` whose file name contains `part` (e.g. "list", "get", "instance").
fn provider_fixtures(p: Provider, parts: &[&str]) -> Vec<Value> {
    let dir = format!("{}/", p.as_str());
    all_fixtures()
        .iter()
        .filter(|(name, _)| name.starts_with(&dir) && parts.iter().any(|part| name.contains(part)))
        .filter_map(|(_, b)| serde_json::from_slice(b).ok())
        .collect()
}

fn json_fixtures() -> &'static Vec<Value> {
    static JSON: OnceLock<Vec<Value>> = OnceLock::new();
    JSON.get_or_init(|| all_fixtures().iter().filter_map(|(_, b)| serde_json::from_slice(b).ok()).collect())
}

/// Every object key in the fixtures, plus the fields the decoders look for in any provider.
fn field_names() -> &'static Vec<String> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        fn walk(v: &Value, out: &mut BTreeSet<String>) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        out.insert(k.clone());
                        walk(v, out);
                    }
                }
                Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut out = BTreeSet::new();
        json_fixtures().iter().for_each(|v| walk(v, &mut out));
        for k in [
            "instances",
            "data",
            "total",
            "has_more",
            "next_cursor",
            "cursor",
            "error",
            "errors",
            "detail",
            "message",
            "code",
            "reason",
            "metadata",
            "type",
            "id",
            "status",
            "statusError",
            "ip",
            "ssh",
            "created_at",
            "createdAt",
        ] {
            out.insert(k.to_owned());
        }
        out.into_iter().collect()
    })
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_0-9:./ -]{0,24}",
        2 => any::<String>(),
        1 => prop::sample::select(vec![
            "", "running", "ready", "exited", "removed", "terminated", "awaiting_allocation", "failed", "pending",
            "provisioning", "toRemove", "2026-13-45T99:99:99Z", "1970-01-01T00:00:00Z", "-1", "1e400", "NaN",
            "ssh -p 99999 root@", "ssh root@host -p x", "\u{202e}evil", "inst_../../x", "%00", "RTX 4090 24GB",
        ])
        .prop_map(str::to_owned),
    ]
}

fn arb_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e20f64..1e20).prop_map(|f| Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(vec![0i64, 1, -1, 65535, 65536, i64::from(u32::MAX), i64::MAX, i64::MIN]).prop_map(Value::from),
    ]
}

/// Arbitrary JSON whose object keys are mostly the field names the decoders read.
fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![4 => prop::sample::select(field_names().clone()), 1 => "[a-z]{1,8}"];
    let leaf =
        prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::Bool), arb_number(), arb_text().prop_map(Value::String),];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..10)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A fixture with up to 6 subtrees replaced (or removed) at positions chosen by the selectors.
fn arb_mutated_fixture() -> impl Strategy<Value = Value> {
    let n = json_fixtures().len();
    (0..n, prop::collection::vec((any::<u32>(), any::<u8>(), arb_json()), 1..6)).prop_map(|(i, edits)| {
        let mut v = json_fixtures()[i].clone();
        for (pos, how, replacement) in edits {
            mutate(&mut v, pos, how, replacement);
        }
        v
    })
}

/// Walks down `v` choosing children by `pos`, then replaces, removes or retypes what it reaches.
fn mutate(v: &mut Value, mut pos: u32, how: u8, replacement: Value) {
    let mut node = v;
    for depth in 0..8u32 {
        let stop = pos % 4 == 0 || depth == 7;
        pos /= 4;
        let next_index = pos as usize;
        let is_leafy = match &*node {
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => true,
        };
        if stop || is_leafy {
            break;
        }
        node = match node {
            Value::Object(m) => {
                let key = m.keys().nth(next_index % m.len()).cloned().unwrap_or_default();
                if how % 5 == 0 {
                    m.remove(&key);
                    return;
                }
                m.get_mut(&key).expect("key just listed")
            }
            Value::Array(a) => {
                let len = a.len();
                &mut a[next_index % len]
            }
            _ => unreachable!("leafy checked above"),
        };
    }
    *node = match how % 4 {
        0 => Value::Null,
        1 => match &*node {
            Value::String(s) => Value::from(s.len()),
            Value::Number(n) => Value::String(n.to_string()),
            _ => replacement,
        },
        _ => replacement,
    };
}

/// One of `bases`, as is or with up to 3 mild edits (often still decodable).
fn arb_near(bases: Vec<Value>) -> BoxedStrategy<Value> {
    assert!(!bases.is_empty(), "no fixture to start from");
    let n = bases.len();
    (0..n, prop::collection::vec((any::<u32>(), any::<u8>(), arb_json()), 0..3))
        .prop_map(move |(i, edits)| {
            let mut v = bases[i].clone();
            for (pos, how, replacement) in edits {
                mutate(&mut v, pos, how, replacement);
            }
            v
        })
        .boxed()
}

/// An answer shaped like `p`'s real answers to an operation (fixtures named by `parts`), mostly
/// with a 2xx status; sometimes anything at all.
fn arb_provider_response(p: Provider, parts: &[&str]) -> BoxedStrategy<HttpResponse> {
    let near = arb_near(provider_fixtures(p, parts)).prop_map(|v| serde_json::to_vec(&v).expect("JSON serializes"));
    let status = prop_oneof![4 => Just(200u16), 1 => arb_status()];
    prop_oneof![
        4 => (status, near).prop_map(|(status, body)| HttpResponse::new(status, body).with_header("content-type", "application/json")),
        1 => arb_response(),
    ]
    .boxed()
}

/// A body: arbitrary JSON, a mutated fixture, a fixture cut or flipped, or arbitrary bytes.
fn arb_body() -> impl Strategy<Value = Vec<u8>> {
    let n = all_fixtures().len();
    prop_oneof![
        3 => arb_json().prop_map(|v| serde_json::to_vec(&v).expect("JSON serializes")),
        3 => arb_mutated_fixture().prop_map(|v| serde_json::to_vec(&v).expect("JSON serializes")),
        2 => (0..n, any::<u32>(), any::<u8>(), any::<u32>()).prop_map(|(i, cut, byte, at)| {
            let mut b = all_fixtures()[i].1.clone();
            if !b.is_empty() {
                let at = at as usize % b.len();
                b[at] = byte;
                b.truncate(cut as usize % (b.len() + 1));
            }
            b
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn arb_status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => prop::sample::select(vec![200u16, 201, 202, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503]),
        1 => 0u16..1000,
    ]
}

fn arb_response() -> impl Strategy<Value = HttpResponse> {
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        arb_text(),
        prop::sample::select(vec!["application/json", "text/html", "Wed, 21 Oct 2015 07:28:00 GMT", "1e308", "-5", "0.05", ""])
            .prop_map(str::to_owned),
    ];
    let name =
        prop::sample::select(vec!["content-type", "retry-after", "date", "x-request-id", "request-id"]).prop_map(str::to_owned);
    let header = (name, value);
    (arb_status(), prop::collection::vec(header, 0..4), arb_body()).prop_map(|(status, headers, body)| HttpResponse {
        status,
        headers,
        body,
    })
}

fn arb_provider() -> impl Strategy<Value = Provider> {
    prop::sample::select(Provider::ALL.to_vec())
}

fn arb_list_query(p: Provider) -> BoxedStrategy<ListQuery> {
    match p {
        Provider::Novita => (prop::option::of(1u32..=100), prop::option::of(prop_oneof!["[0-9]{1,10}", arb_text()]))
            .prop_map(|(limit, cursor)| ListQuery::Novita(NovitaListQuery { limit, cursor, ..Default::default() }))
            .boxed(),
        other => Just(ListQuery::first_page(other)).boxed(),
    }
}

/// An error must say what happened.
fn coded(e: &Error) -> Result<(), TestCaseError> {
    prop_assert!(!e.message.trim().is_empty(), "empty message for {:?}", e.code);
    prop_assert!(!e.code.to_string().is_empty());
    Ok(())
}

fn ok_or_coded<T>(r: gpufleet::Result<T>) -> Result<(), TestCaseError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => coded(&e),
    }
}

// ----- decoders ----------------------------------------------------------------------------------

/// Found by the long run: a record whose `id` is "" decoded into an instance nobody could address.
#[test]
fn an_empty_id_is_a_decode_error_naming_the_field() {
    let cases = [
        (
            ListQuery::first_page(Provider::Fal),
            r#"{"instances":[{"id":"","instance_type":"t","status":"ready"}],"has_more":false}"#,
            "instances[0].id",
        ),
        (
            ListQuery::first_page(Provider::FalAlpha),
            r#"[{"id":"a","instance_type":"t","status":"init"},{"id":" ","instance_type":"t","status":"init"}]"#,
            "[1].id",
        ),
        (
            ListQuery::first_page(Provider::Sfcompute),
            r#"{"object":"list","data":[{"id":"","status":"running"}],"has_more":false}"#,
            "data[0].id",
        ),
        (ListQuery::first_page(Provider::Novita), r#"{"instances":[{"id":"","status":"running"}],"total":1}"#, "instances[0].id"),
    ];
    for (query, body, field) in cases {
        let p = query.provider();
        let e = provider::parse_list_response(&query, HttpResponse::new(200, body.as_bytes().to_vec())).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), (ErrorCode::Decode, Some(field)), "{p}: {e}");
    }
    let e = provider::parse_get_response(Provider::Novita, HttpResponse::new(200, br#"{"id":"","status":"running"}"#.to_vec()))
        .unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), (ErrorCode::Decode, Some("id")));
}

#[test]
fn list_decoders_never_panic() {
    let strategy = arb_provider().prop_flat_map(|p| (arb_list_query(p), arb_provider_response(p, &["list"])));
    let pages = AtomicU64::new(0);
    check("list decoders", strategy, |(query, response)| {
        let success = response.is_success();
        match provider::parse_list_response(&query, response) {
            Ok(page) => {
                pages.fetch_add(1, Ordering::Relaxed);
                prop_assert!(success, "an error status decoded as a page");
                prop_assert!(!page.has_more || page.next_cursor.is_some() || query.provider() != Provider::Novita);
                for i in &page.items {
                    prop_assert!(!i.id.is_empty(), "an instance without an id");
                    prop_assert_eq!(i.provider, query.provider());
                }
                Ok(())
            }
            Err(e) => coded(&e),
        }
    });
    // The inputs are close enough to the real shapes that many decode: the success paths are
    // exercised too, not only the first check that rejects.
    let pages = pages.load(Ordering::Relaxed);
    eprintln!("[fuzz] list decoders: {pages} inputs decoded to a page");
    assert!(pages * 20 >= u64::from(cases()), "only {pages} of {} list inputs decoded", cases());
}

#[test]
fn get_create_delete_action_and_ssh_decoders_never_panic() {
    let ops = prop::sample::select(vec![Operation::Start, Operation::Stop, Operation::Restart, Operation::Terminate]);
    let strategy = (arb_provider(), ops)
        .prop_flat_map(|(p, op)| (Just(p), Just(op), arb_provider_response(p, &["get", "instance", "create", "action", "ssh"])));
    let instances = AtomicU64::new(0);
    check("get/create/delete/action/ssh decoders", strategy, |(p, op, response)| {
        let caps = p.capabilities();
        match provider::parse_get_response(p, response.clone()) {
            Ok(i) => {
                instances.fetch_add(1, Ordering::Relaxed);
                prop_assert!(response.is_success());
                prop_assert_eq!(i.provider, p);
            }
            Err(e) => coded(&e)?,
        }
        ok_or_coded(provider::parse_create_response(p, response.clone()))?;
        ok_or_coded(provider::parse_delete_response(p, response.clone()))?;
        if caps.supports(op) {
            ok_or_coded(provider::parse_action_response(p, op, response.clone()))?;
        }
        if caps.supports(Operation::Ssh) {
            ok_or_coded(provider::parse_ssh_response(p, response.clone()))?;
        }
        ok_or_coded(provider::decode_instance_body(p, response.body))
    });
    let instances = instances.load(Ordering::Relaxed);
    eprintln!("[fuzz] get/create/delete/action/ssh decoders: {instances} inputs decoded to an instance");
    assert!(instances * 20 >= u64::from(cases()), "only {instances} of {} get inputs decoded", cases());
}

#[test]
fn error_bodies_always_give_a_coded_error() {
    // Any non-2xx answer is an error with a code fitting its status, whatever the body says.
    let status = prop_oneof![400u16..600, 300u16..400];
    let strategy = (arb_provider(), status, arb_response()).prop_map(|(p, status, mut r)| {
        r.status = status;
        (p, r)
    });
    check("error bodies", strategy, |(p, response)| {
        let status = response.status;
        let e = match provider::parse_get_response(p, response) {
            Ok(_) => return Err(TestCaseError::fail(format!("{status} decoded as an instance"))),
            Err(e) => e,
        };
        coded(&e)?;
        if status == 401 {
            prop_assert_eq!(e.code, ErrorCode::Unauthorized);
        }
        if status == 429 {
            prop_assert_eq!(e.code, ErrorCode::RateLimited);
        }
        if status >= 500 {
            prop_assert!(e.retryable || e.code != ErrorCode::Server, "a 5xx must be retryable: {e:?}");
        }
        Ok(())
    });
}

#[test]
fn proxy_answers_decode_never_panics() {
    // What a client in proxy mode reads back from the proxy.
    check("proxy answer decoder", arb_response(), |response| {
        ok_or_coded(proxy::api::parse_response::<Page<Instance>>(response.clone()))?;
        ok_or_coded(proxy::api::parse_response::<Instance>(response.clone()))?;
        ok_or_coded(proxy::api::parse_response::<FleetListing>(response))
    });
}

// ----- the proxy ---------------------------------------------------------------------------------

const SECRETS: [&str; 5] = [TOKEN, FAL_KEY, SFC_TOKEN, NOVITA_KEY, SFC_WORKSPACE];

/// The proxy under test: the shared test environment with one allowed origin and fal at its real
/// base URL.
fn proxy() -> Proxy {
    support::proxy_env::proxy(&[("ALLOWED_ORIGINS", "https://console.example.com"), ("FAL_BASE_URL", "")])
}

fn arb_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "api", "v1", "instances", "providers", "fal", "fal-alpha", "sfcompute", "novita", "start", "stop", "restart",
            "terminate", "ssh", "healthz", "inst_abc123", "..", "%2e%2e", "%2f", "%", "%zz", "", "evil.example.com",
            "inst_%00", "x".repeat(300).leak(),
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
        1 => any::<String>(),
    ]
}

fn arb_path() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (prop::sample::select(vec!["fal", "fal-alpha", "sfcompute", "novita", "aws"]), prop::option::of(arb_segment()), prop::option::of(arb_segment()))
            .prop_map(|(p, id, verb)| {
                let mut s = format!("/api/v1/{p}/instances");
                for part in [id, verb].into_iter().flatten() {
                    s.push('/');
                    s.push_str(&part);
                }
                s
            }),
        2 => prop::collection::vec(arb_segment(), 0..6).prop_map(|s| format!("/{}", s.join("/"))),
    ]
}

fn arb_query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        4 => prop::sample::select(vec!["limit", "cursor", "status", "provider", "q", "name", "productName", "workspace", "tag", "id", "include", "pool"]).prop_map(str::to_owned),
        1 => "[ -~]{0,8}",
    ];
    let value = prop_oneof!["[a-z0-9_=%+&.-]{0,16}", arb_text(), any::<i64>().prop_map(|n| n.to_string())];
    prop::collection::vec((key, value), 0..5)
        .prop_map(|kv| kv.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
}

fn arb_request() -> impl Strategy<Value = ProxyRequest> {
    let method = prop_oneof![
        8 => prop::sample::select(vec!["GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH", "get"]).prop_map(str::to_owned),
        1 => "[A-Za-z]{0,10}",
    ];
    let auth = prop_oneof![
        4 => Just(Some(format!("Bearer {TOKEN}"))),
        1 => Just(Some("Bearer tok-read-0123456789abcdef".to_owned())),
        1 => prop::option::of(arb_text()),
    ];
    let origin = prop::option::of(prop_oneof![Just("https://console.example.com".to_owned()), arb_text()]);
    let extra = prop::collection::vec(
        (prop_oneof!["[A-Za-z-]{1,16}", Just("Content-Type".to_owned()), Just("Cookie".to_owned())], arb_text()),
        0..3,
    );
    let body = prop_oneof![Just(RequestBody::Empty), Just(RequestBody::TooLarge), arb_body().prop_map(RequestBody::Bytes),];
    (method, arb_path(), arb_query(), auth, origin, extra, body).prop_map(|(m, path, query, auth, origin, extra, body)| {
        let url = if query.is_empty() {
            format!("https://fleet.example.com{path}")
        } else {
            format!("https://fleet.example.com{path}?{query}")
        };
        let mut r = ProxyRequest::new(&m, &url).body(body);
        if let Some(a) = auth {
            r = r.header("Authorization", &a);
        }
        if let Some(o) = origin {
            r = r.header("Origin", &o);
        }
        for (k, v) in extra {
            r = r.header(&k, &v);
        }
        r
    })
}

/// Create bodies the proxy accepts, one per provider, as bases for mild mutations.
fn create_bodies() -> Vec<Value> {
    let fal = FalCreateInput {
        instance_type: "gpu_1x_h100_sxm5".into(),
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 x".into(),
        ..Default::default()
    };
    let alpha = FalAlphaCreateInput {
        instance_type: "gpu_1x_h100_sxm5".into(),
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 x".into(),
        sector: None,
    };
    let sfc = SfcCreateInput {
        capacity: Some("cap_h100sfprod01".into()),
        image: "image_ubuntu2204cuda127".into(),
        ..Default::default()
    };
    let novita = NovitaCreateInput {
        product_id: "prod-rtx4090-24g".into(),
        gpu_num: Some(1),
        rootfs_size: Some(50),
        image_url: "nvcr.io/nvidia/pytorch:24.01-py3".into(),
        ..Default::default()
    };
    [serde_json::to_value(fal), serde_json::to_value(alpha), serde_json::to_value(sfc), serde_json::to_value(novita)]
        .into_iter()
        .map(|v| v.expect("inputs serialize"))
        .collect()
}

/// Requests a real caller could send: the right token, a real route, plausible queries and
/// bodies — so that most get past admission and routing to the upstream calls.
fn arb_wellformed_request() -> impl Strategy<Value = ProxyRequest> {
    let provider = || prop::sample::select(vec!["fal", "fal-alpha", "sfcompute", "novita"]);
    let id = || prop::sample::select(vec!["inst_abc123", "nodec_01HX", "a1b2c3d4e5f6", "inst-7"]);
    let verb = prop::sample::select(vec!["start", "stop", "restart", "terminate", "ssh"]);
    let route = prop_oneof![
        Just(("GET", "/api/v1/providers".to_owned())),
        Just(("GET", "/api/v1/instances".to_owned())),
        provider().prop_map(|p| ("GET", format!("/api/v1/{p}/instances"))),
        (provider(), id()).prop_map(|(p, id)| ("GET", format!("/api/v1/{p}/instances/{id}"))),
        (provider(), id()).prop_map(|(p, id)| ("DELETE", format!("/api/v1/{p}/instances/{id}"))),
        provider().prop_map(|p| ("POST", format!("/api/v1/{p}/instances"))),
        (provider(), id(), verb)
            .prop_map(|(p, id, v)| (if v == "ssh" { "GET" } else { "POST" }, format!("/api/v1/{p}/instances/{id}/{v}"))),
    ];
    let body = prop_oneof![
        3 => arb_near(create_bodies()).prop_map(|v| serde_json::to_vec(&v).expect("JSON serializes")),
        1 => arb_body(),
    ];
    (route, prop::option::of(arb_query()), body).prop_map(|((method, path), query, body)| {
        let url = match query {
            Some(q) => format!("https://fleet.example.com{path}?{q}"),
            None => format!("https://fleet.example.com{path}"),
        };
        ProxyRequest::new(method, &url)
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(if method == "POST" { RequestBody::Bytes(body) } else { RequestBody::Empty })
    })
}

#[test]
fn proxy_route_parsing_never_panics() {
    check("proxy route parsing", ("[ -~]{0,8}", arb_path(), arb_query()), |(method, path, query)| match proxy::api::parse_route(
        &method, &path, &query,
    ) {
        Ok(_) => Ok(()),
        Err(e) => {
            let (status, error) = e.to_error(&method);
            prop_assert!((400..500).contains(&status), "{status}");
            coded(&error)
        }
    });
}

#[test]
fn proxy_requests_never_panic_and_always_answer_coded_json() {
    let p = proxy();
    let request = prop_oneof![arb_request(), arb_wellformed_request()];
    let upstream = prop::collection::vec(
        prop_oneof![
            4 => (arb_provider(), arb_status())
                .prop_flat_map(|(p, status)| (Just(status), arb_near(provider_fixtures(p, &["list", "get", "instance", "create", "error", "action", "ssh"]))))
                .prop_map(|(status, v)| Ok(HttpResponse::new(status, serde_json::to_vec(&v).expect("JSON serializes")))),
            2 => arb_response().prop_map(Ok),
            1 => Just(Err(TransportError::Network("connection reset".into()))),
            1 => Just(Err(TransportError::Timeout(30_000))),
        ],
        1..4,
    );
    let forwarded = AtomicU64::new(0);
    check("proxy request handling", (request, upstream), |(request, answers)| {
        // Answers every upstream call with the next scripted answer (the last repeats).
        let upstream = ScriptedTransport::script(answers);
        let mut limiter = RateLimiter::new();
        let r = block_on(p.handle(request, &upstream, &mut limiter));
        if upstream.request_count() > 0 {
            forwarded.fetch_add(1, Ordering::Relaxed);
        }
        prop_assert!((100..600).contains(&r.status), "status {}", r.status);
        let seen = format!("{:?}{}{}", r.headers, String::from_utf8_lossy(&r.body), r.log.to_json());
        for s in SECRETS {
            prop_assert!(!seen.contains(s), "secret {s} leaked: {seen}");
        }
        let json = r.header("content-type").is_some_and(|c| c.starts_with("application/json"));
        if r.status >= 400 && json && !r.body.is_empty() {
            let body: Value =
                serde_json::from_slice(&r.body).map_err(|e| TestCaseError::fail(format!("error body not JSON: {e}")))?;
            prop_assert!(body["error"]["code"].as_str().is_some_and(|c| !c.is_empty()), "no error code: {body}");
            prop_assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {body}");
        }
        Ok(())
    });
    // Enough requests pass authentication and routing to reach the (scripted) providers.
    let forwarded = forwarded.load(Ordering::Relaxed);
    eprintln!("[fuzz] proxy request handling: {forwarded} requests reached an upstream");
    assert!(forwarded * 20 >= u64::from(cases()), "only {forwarded} of {} requests reached an upstream", cases());
}
