//! wasm-bindgen-test: `FetchTransport` and the `Fleet` export against the simulated clouds, in
//! Node and in headless Chromium (the same tests; `scripts/test-wasm.sh` runs both).
//!
//! The simulator's URL comes from `GPUFLEET_SIM_URL` at compile time (a browser test has no
//! environment to read at run time): `scripts/test-wasm.sh` starts the sim and sets it.
//! Faults are scoped to made-up instance ids, so the tests do not disturb each other.

#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use futures_util::future::join;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::AbortController;

use gpufleet::bindings::api::Fleet;
use gpufleet::transport::{AbortSignalLike, FetchTransport};
use gpufleet::{HttpRequest, Method, Transport, TransportError};

const FAL_KEY: &str = "sim-fal-key";

// option_env!, not env!: the file still compiles (and fails clearly at run time) without it.
#[allow(clippy::option_env_unwrap)]
fn sim() -> &'static str {
    option_env!("GPUFLEET_SIM_URL").expect("GPUFLEET_SIM_URL is not set at compile time (scripts/test-wasm.sh sets it)")
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn signal_of(c: &AbortController) -> Option<AbortSignalLike> {
    AbortSignalLike::from_js(&c.signal().into())
}

/// POSTs JSON to the sim's control API.
async fn control(path: &str, body: &str) -> serde_json::Value {
    let req = HttpRequest::new(Method::Post, format!("{}/__sim{path}", sim()))
        .header("Content-Type", "application/json")
        .json_body(body.as_bytes().to_vec());
    let res = FetchTransport::new().send(req).await.expect("control API");
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice(&res.body).expect("control JSON")
}

/// A fault on requests whose path contains `fragment`.
async fn fault(fragment: &str, kind: &str) {
    control("/faults", &format!(r#"{{"kinds":["{kind}"],"paths":["{fragment}"],"slowMs":4000}}"#)).await;
}

fn fal_get(id: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, format!("{}/fal/v1/compute/instances/{id}", sim()))
        .header("Authorization", format!("Key {FAL_KEY}"))
}

#[wasm_bindgen_test]
async fn send_returns_status_headers_and_body() {
    let list = HttpRequest::new(Method::Get, format!("{}/fal/v1/compute/instances?limit=2", sim()))
        .header("Authorization", format!("Key {FAL_KEY}"));
    let res = FetchTransport::new().send(list).await.expect("response");
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap_or("").contains("application/json"), "{:?}", res.headers);
    assert!(res.header("x-request-id").is_some(), "CORS-exposed x-request-id: {:?}", res.headers);
    let body: serde_json::Value = serde_json::from_slice(&res.body).expect("JSON body");
    assert!(body.get("instances").is_some_and(|v| v.is_array()), "{body}");

    // An error status is a response, not a transport error.
    let wrong = HttpRequest::new(Method::Get, format!("{}/fal/v1/compute/instances", sim())).header("Authorization", "Key wrong");
    let res = FetchTransport::new().send(wrong).await.expect("response");
    assert_eq!(res.status, 401);
    assert!(!res.body.is_empty());
}

#[wasm_bindgen_test]
async fn send_delivers_method_headers_and_body() {
    let key = format!("wasm-test-{}", now() as u64);
    let body = br#"{"instance_type":"gpu_1x_h100_sxm5","ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 wasm"}"#.to_vec();
    let create = HttpRequest::new(Method::Post, format!("{}/fal/v1/compute/instances", sim()))
        .header("Authorization", format!("Key {FAL_KEY}"))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key.clone())
        .json_body(body);
    let res = FetchTransport::new().send(create).await.expect("response");
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));

    let log = FetchTransport::new()
        .send(HttpRequest::new(Method::Get, format!("{}/__sim/requests?provider=fal", sim())))
        .await
        .expect("request log");
    let log: serde_json::Value = serde_json::from_slice(&log.body).expect("log JSON");
    let text = log.to_string();
    assert!(text.contains(&key), "the Idempotency-Key reached the sim: {text:.400}");
    assert!(
        text.contains("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 wasm"),
        "the body reached the sim"
    );
}

#[wasm_bindgen_test]
async fn refused_connection_is_a_network_error() {
    let req = HttpRequest::new(Method::Get, "http://127.0.0.1:1/nothing-listens-here");
    match FetchTransport::new().with_timeout_ms(Some(5_000)).send(req).await {
        Err(TransportError::Network(m)) => assert!(!m.is_empty()),
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn timeout_aborts_a_slow_request() {
    fault("inst_wasmslow1", "slow").await;
    let t = now();
    let res = FetchTransport::new().with_timeout_ms(Some(200)).send(fal_get("inst_wasmslow1")).await;
    assert_eq!(res, Err(TransportError::Timeout(200)));
    assert!(now() - t < 2_000.0, "took {} ms", now() - t);
}

#[wasm_bindgen_test]
async fn abort_during_fetch_settles_at_once() {
    fault("inst_wasmslow2", "slow").await;
    let controller = AbortController::new().expect("AbortController");
    let transport = FetchTransport::new().with_signal(signal_of(&controller)).with_timeout_ms(Some(10_000));
    let t = now();
    let abort_later = async {
        FetchTransport::new().sleep(Duration::from_millis(100)).await.expect("sleep");
        controller.abort_with_reason(&JsValue::from_str("user pressed cancel"));
    };
    let (res, ()) = join(transport.send(fal_get("inst_wasmslow2")), abort_later).await;
    assert_eq!(res, Err(TransportError::Aborted("user pressed cancel".into())));
    assert!(now() - t < 2_000.0, "took {} ms", now() - t);
}

#[wasm_bindgen_test]
async fn abort_during_sleep_settles_at_once() {
    let controller = AbortController::new().expect("AbortController");
    let transport = FetchTransport::new().with_signal(signal_of(&controller));
    let t = now();
    let abort_later = async {
        FetchTransport::new().sleep(Duration::from_millis(50)).await.expect("sleep");
        controller.abort();
    };
    let (res, ()) = join(transport.sleep(Duration::from_secs(30)), abort_later).await;
    assert!(matches!(res, Err(TransportError::Aborted(_))), "{res:?}");
    assert!(now() - t < 1_000.0, "took {} ms", now() - t);

    // Already aborted: fails before sending anything.
    let res = transport.send(fal_get("inst_never_sent")).await;
    assert!(matches!(res, Err(TransportError::Aborted(_))), "{res:?}");
}

#[wasm_bindgen_test]
async fn sleep_waits_roughly_the_duration() {
    let t = now();
    FetchTransport::new().sleep(Duration::from_millis(120)).await.expect("sleep");
    let took = now() - t;
    assert!((100.0..2_000.0).contains(&took), "took {took} ms");
}

#[wasm_bindgen_test]
async fn truncated_body_is_a_network_error() {
    fault("inst_wasmtrunc1", "truncate").await;
    match FetchTransport::new().send(fal_get("inst_wasmtrunc1")).await {
        Err(TransportError::Network(m)) => assert!(m.contains("body"), "{m}"),
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn clock_and_randomness() {
    let t = FetchTransport::new();
    assert!(t.now_ms() > 1_600_000_000_000);
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    t.fill_random(&mut a);
    t.fill_random(&mut b);
    assert_ne!(a, b);
}

// ----- the Fleet export ------------------------------------------------------------------------

fn make_fleet(extra: &str) -> Result<Fleet, JsValue> {
    let s = sim();
    let config = format!(
        r#"{{"fal":{{"apiKey":"{FAL_KEY}","baseUrl":"{s}/fal/v1"}},
            "sfcompute":{{"token":"sim-sfc-token","workspace":"wksp_simfleet01","baseUrl":"{s}/sfcompute/preview/v2"}},
            "novita":{{"apiKey":"sim-novita-key","baseUrl":"{s}/novita/gpu-instance/openapi/v1"}},
            "retries":{{"max":1,"baseDelayMs":10}},
            "dangerouslyAllowBrowser":true{extra}}}"#
    );
    let value = js_sys::JSON::parse(&config).expect("config JSON");
    Fleet::new(tsify::Ts::new_unchecked(value))
}

fn field(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

#[wasm_bindgen_test]
async fn fleet_get_of_a_missing_instance_rejects_with_a_coded_error() {
    let fleet = make_fleet("").expect("fleet");
    let err = settle(fleet.get("fal".into(), "inst_doesnotexist".into(), JsValue::UNDEFINED)).await.expect_err("404");
    assert!(err.is_instance_of::<js_sys::Error>(), "a real Error");
    assert_eq!(field(&err, "name").as_string().as_deref(), Some("GpufleetError"));
    assert_eq!(field(&err, "code").as_string().as_deref(), Some("notFound"));
    assert_eq!(field(&err, "provider").as_string().as_deref(), Some("fal"));
    assert_eq!(field(&err, "status").as_f64(), Some(404.0));
    assert_eq!(field(&err, "retryable").as_bool(), Some(false));
    assert!(gpufleet::bindings::errors::is_gpufleet_error(err));
}

#[wasm_bindgen_test]
async fn fleet_lists_a_page_and_validates_its_config() {
    let fleet = make_fleet("").expect("fleet");
    let query = js_sys::JSON::parse(r#"{"limit":7}"#).expect("query");
    let page = settle(fleet.list_page("sfcompute".into(), query, JsValue::UNDEFINED)).await.expect("page");
    let items: js_sys::Array = field(&page, "items").dyn_into().expect("items array");
    assert_eq!(items.length(), 7);
    assert_eq!(field(&page, "hasMore").as_bool(), Some(true));
    let first = items.get(0);
    assert_eq!(field(&first, "provider").as_string().as_deref(), Some("sfcompute"));
    assert!(field(&field(&first, "raw"), "id").is_string(), "raw is a plain object");

    // A misspelt field in the config is refused, naming it.
    let err = make_fleet(r#","timeoutMS":5"#).err().expect("invalid config");
    assert_eq!(field(&err, "code").as_string().as_deref(), Some("invalidInput"));
    assert_eq!(field(&err, "field").as_string().as_deref(), Some("timeoutMS"));
    assert!(field(&err, "message").as_string().unwrap_or_default().contains("timeoutMS"));
    // An unknown provider and a bad query field reject with invalidInput.
    let err = settle(fleet.list_page("aws".into(), JsValue::UNDEFINED, JsValue::UNDEFINED)).await.expect_err("aws");
    assert_eq!(field(&err, "field").as_string().as_deref(), Some("provider"));
    let bad = js_sys::JSON::parse(r#"{"limt":7}"#).expect("query");
    let err = settle(fleet.list_page("novita".into(), bad, JsValue::UNDEFINED)).await.expect_err("limt");
    assert_eq!(field(&err, "code").as_string().as_deref(), Some("invalidInput"));
}

#[wasm_bindgen_test]
async fn fleet_uses_a_custom_fetch_and_aborts_with_the_signal_reason() {
    let counting = Function::new_with_args(
        "url, init",
        "globalThis.__gpufleetFetches = (globalThis.__gpufleetFetches || 0) + 1; return fetch(url, init);",
    );
    let fleet = make_fleet("").expect("fleet");
    drop(fleet);
    let s = sim();
    let config = js_sys::JSON::parse(&format!(
        r#"{{"fal":{{"apiKey":"{FAL_KEY}","baseUrl":"{s}/fal/v1"}},"dangerouslyAllowBrowser":true}}"#
    ))
    .expect("config");
    Reflect::set(&config, &"fetch".into(), &counting).expect("set fetch");
    let fleet = Fleet::new(tsify::Ts::new_unchecked(config)).expect("fleet");
    settle(fleet.list_page("fal".into(), JsValue::UNDEFINED, JsValue::UNDEFINED)).await.expect("page");
    assert!(field(&js_sys::global(), "__gpufleetFetches").as_f64().unwrap_or(0.0) >= 1.0);

    fault("inst_wasmslow3", "slow").await;
    let controller = AbortController::new().expect("AbortController");
    let options = js_sys::Object::new();
    Reflect::set(&options, &"signal".into(), &controller.signal()).expect("set signal");
    let call = settle(fleet.get("fal".into(), "inst_wasmslow3".into(), options.into()));
    let abort_later = async {
        FetchTransport::new().sleep(Duration::from_millis(80)).await.expect("sleep");
        controller.abort_with_reason(&JsValue::from_str("navigated away"));
    };
    let (res, ()) = join(call, abort_later).await;
    let err = res.expect_err("aborted");
    assert_eq!(field(&err, "code").as_string().as_deref(), Some("aborted"));
    assert_eq!(field(&err, "cause").as_string().as_deref(), Some("navigated away"));
}

#[wasm_bindgen_test]
async fn wait_for_stops_when_on_poll_throws() {
    let fleet = make_fleet("").expect("fleet");
    let page = settle(fleet.list_page("fal".into(), JsValue::UNDEFINED, JsValue::UNDEFINED)).await.expect("page");
    let first = js_sys::Array::from(&field(&page, "items")).get(0);
    let id = field(&first, "id");
    let options = js_sys::JSON::parse(r#"{"until":"terminated","minDelayMs":20000}"#).expect("options");
    let on_poll = Function::new_with_args("instance", "throw new RangeError('seen ' + instance.id);");
    Reflect::set(&options, &"onPoll".into(), &on_poll).expect("set onPoll");
    let t = now();
    let thrown = settle(fleet.wait_for("fal".into(), id.clone(), options)).await.expect_err("rejects");
    assert!(now() - t < 5_000.0, "stopped at once, not after the 20 s sleep");
    assert!(thrown.is_instance_of::<js_sys::RangeError>(), "rejects with what onPoll threw");
    assert_eq!(field(&thrown, "message").as_string(), Some(format!("seen {}", id.as_string().unwrap_or_default())));

    // Missing `until`: invalidInput naming it.
    let err = settle(fleet.wait_for("fal".into(), id, js_sys::Object::new().into())).await.expect_err("until");
    assert_eq!(field(&err, "code").as_string().as_deref(), Some("invalidInput"));
    assert!(field(&err, "message").as_string().unwrap_or_default().contains("until"));
}

/// Measures the two ways of handing 10,000 instances to JS (the reason `convert::to_js` goes
/// through JSON text). Prints the numbers; asserts only that both give the same data.
#[wasm_bindgen_test]
fn json_out_vs_serde_wasm_bindgen() {
    let raw = serde_json::json!({
        "id": "inst_x", "name": "train-01", "status": "ready", "instance_type": "gpu_8x_h100_sxm5",
        "region": "us-west", "ip": "203.0.113.7", "created_at": "2026-01-01T00:00:00Z",
        "tags": {"env": "prod", "team": "ml"}, "nested": {"a": [1, 2, 3], "b": {"c": true}}
    });
    let instances: Vec<gpufleet::Instance> = (0..10_000)
        .map(|i| gpufleet::Instance {
            provider: gpufleet::Provider::Fal,
            id: format!("inst_{i:06}"),
            name: Some(format!("train-{i}")),
            status: gpufleet::Status::Running,
            provider_status: "ready".into(),
            status_reason: None,
            instance_type: Some("gpu_8x_h100_sxm5".into()),
            gpu_count: Some(8),
            gpu_model: Some("H100 SXM5".into()),
            region: Some("us-west".into()),
            sector: None,
            ip: Some("203.0.113.7".into()),
            ssh: None,
            created_at: Some("2026-01-01T00:00:00Z".into()),
            tags: Some([("env".to_owned(), "prod".to_owned())].into_iter().collect()),
            raw: raw.clone().into(),
            ..gpufleet::Instance::new(gpufleet::Provider::Fal, "", gpufleet::Status::Unknown, "")
        })
        .collect();
    let t = now();
    let text = serde_json::to_string(&instances).expect("to_string");
    let ser_ms = now() - t;
    let t = now();
    let js_text = JsValue::from_str(&text);
    let pass_ms = now() - t;
    drop(js_text);
    let t = now();
    let via_json = gpufleet::bindings::convert::to_js(&instances).expect("json");
    let json_ms = now() - t;
    let t = now();
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let via_swb = serde::Serialize::serialize(&instances, &serializer).expect("serde-wasm-bindgen");
    let swb_ms = now() - t;
    web_sys::console::log_1(&format!("10,000 instances to JS: JSON text + JSON.parse {json_ms:.0} ms (serde_json {ser_ms:.0} ms, string to JS {pass_ms:.0} ms, {} bytes), serde-wasm-bindgen {swb_ms:.0} ms", text.len()).into());
    let a = js_sys::JSON::stringify(&via_json).expect("stringify").as_string();
    let b = js_sys::JSON::stringify(&via_swb).expect("stringify").as_string();
    assert_eq!(a, b);
}

/// `decodeInstances` / `decodeInstance`: a body given as text, bytes or an ArrayBuffer decodes to
/// the page `listPage` returns; bad input and bad bodies are coded errors naming the field.
#[wasm_bindgen_test]
fn decode_instances_export() {
    use gpufleet::bindings::api::{decode_instance, decode_instances};
    let get = |v: &JsValue, k: &str| Reflect::get(v, &JsValue::from_str(k)).unwrap();
    let body = r#"{"instances":[{"id":"inst_1","instance_type":"gpu_1x_h100_sxm5","status":"ready","ip":"203.0.113.5","x":1}],"next_cursor":"Mg","has_more":true}"#;
    let as_bytes: JsValue = js_sys::Uint8Array::from(body.as_bytes()).into();
    let as_buffer: JsValue = js_sys::Uint8Array::from(body.as_bytes()).buffer().into();
    for input in [JsValue::from_str(body), as_bytes, as_buffer] {
        let page = decode_instances("fal".into(), input, JsValue::UNDEFINED).expect("decodes");
        let item = js_sys::Array::from(&get(&page, "items")).get(0);
        assert_eq!(get(&item, "status").as_string().as_deref(), Some("running"));
        assert_eq!(get(&item, "gpuModel").as_string().as_deref(), Some("H100 SXM5"));
        assert_eq!(get(&get(&item, "raw"), "x").as_f64(), Some(1.0));
        assert_eq!(get(&page, "nextCursor").as_string().as_deref(), Some("Mg"));
    }
    // Novita's page arithmetic follows the query that was sent.
    let novita = r#"{"instances":[{"id":"n1","status":"running"}],"total":"2"}"#;
    let query = js_sys::JSON::parse(r#"{"limit":1}"#).unwrap();
    let page = decode_instances("novita".into(), novita.into(), query).unwrap();
    assert_eq!(get(&page, "nextCursor").as_string().as_deref(), Some("2"));
    let bad_query = js_sys::JSON::parse(r#"{"limit":0}"#).unwrap();
    let e = decode_instances("novita".into(), novita.into(), bad_query).unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("invalidInput"));

    let e = decode_instances("sfcompute".into(), r#"{"has_more":false,"data":[{"id":7}]}"#.into(), JsValue::NULL).unwrap_err();
    assert_eq!(get(&e, "code").as_string().as_deref(), Some("decode"));
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("data[0].id"));
    let e = decode_instances("aws".into(), "[]".into(), JsValue::NULL).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("provider"));
    let e = decode_instances("fal-alpha".into(), JsValue::from_f64(1.0), JsValue::NULL).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("body"));

    let one =
        decode_instance("novita".into(), r#"{"id":"n2","status":"exited","statusError":{"message":"oom"}}"#.into()).unwrap();
    assert_eq!(get(&one, "status").as_string().as_deref(), Some("failed"));
    assert_eq!(get(&one, "statusReason").as_string().as_deref(), Some("oom"));
}

/// The instances JS builds from the handover tape (`convert::instances_to_js`) are the ones the
/// JSON path gives (`convert::to_js`), key order included, on every provider's list fixture and
/// on an instance with every field set to awkward text; each lazy `raw` reads as its record.
#[wasm_bindgen_test]
fn instances_from_the_tape_are_the_json_paths() {
    use gpufleet::bindings::convert::{instances_in_body_to_js, instances_to_js, to_js};
    use gpufleet::model::{ListQuery, ManagedBy, PoolRef, SpotInfo, SshInfo};
    use gpufleet::provider::decode_list_body;
    use gpufleet::Provider;
    let without_raw = Function::new_with_args("v", "return JSON.stringify(v, (k, x) => (k === 'raw' ? undefined : x));");
    let text = |v: &JsValue| without_raw.call1(&JsValue::NULL, v).expect("stringify").as_string().expect("text");
    let check = |page: gpufleet::Page<gpufleet::Instance>, body: Option<&[u8]>, what: &str| {
        let expected = text(&to_js(&page).expect("to_js"));
        let raws: Vec<serde_json::Value> = page.items.iter().map(|i| i.raw.value().clone()).collect();
        let mut shell = page.clone();
        let items = std::mem::take(&mut shell.items);
        let got = match body {
            Some(body) => instances_in_body_to_js(&shell, "items", items, &js_sys::Uint8Array::from(body)),
            None => instances_to_js(&shell, "items", items),
        }
        .expect("instances_to_js");
        assert_eq!(text(&got), expected, "{what}");
        let got_items = js_sys::Array::from(&field(&got, "items"));
        for (n, want) in raws.iter().enumerate() {
            let raw = js_sys::JSON::stringify(&field(&got_items.get(n as u32), "raw")).expect("raw").as_string().unwrap();
            assert_eq!(&serde_json::from_str::<serde_json::Value>(&raw).unwrap(), want, "{what}: raw of item {n}");
        }
    };
    for (provider, body) in [
        (Provider::Fal, &include_bytes!("fixtures/fal/list.json")[..]),
        (Provider::FalAlpha, &include_bytes!("fixtures/fal-alpha/list-nullable.json")[..]),
        (Provider::Sfcompute, &include_bytes!("fixtures/sfcompute/list_july_fields.json")[..]),
        (Provider::Sfcompute, &include_bytes!("fixtures/sfcompute/list_seed.json")[..]),
        (Provider::Novita, &include_bytes!("fixtures/novita/list.json")[..]),
    ] {
        let page = decode_list_body(&ListQuery::first_page(provider), body.to_vec()).expect("decodes");
        assert!(!page.items.is_empty());
        check(page.clone(), Some(body), provider.as_str());
        check(page, None, provider.as_str());
    }
    let awkward = "q\"uote \\ back\u{1} ctl\n nl é 😀 \u{2028}</script>";
    let mut page =
        decode_list_body(&ListQuery::first_page(Provider::Fal), &include_bytes!("fixtures/fal/list.json")[..]).unwrap();
    let i = &mut page.items[0];
    i.name = Some(awkward.into());
    i.status_reason = Some(awkward.into());
    i.ssh = Some(SshInfo { host: awkward.into(), port: 65535, user: Some(awkward.into()), command: None });
    i.tags = Some(
        [
            ("k\"1".to_owned(), awkward.to_owned()),
            ("a".to_owned(), String::new()),
            ("__proto__".to_owned(), "p".to_owned()),
            ("7".to_owned(), "n".to_owned()),
        ]
        .into_iter()
        .collect(),
    );
    i.pool = Some(PoolRef { id: awkward.into(), name: Some("😀".into()) });
    i.managed_by = Some(ManagedBy { kind: "spot_deployment".into(), id: "x".into(), name: Some(awkward.into()) });
    i.public_ipv4 = Some(false);
    i.gpu_count = Some(u32::MAX);
    i.spot =
        Some(SpotInfo { status: gpufleet::model::SpotStatus::parse("weird"), reclaim_at: Some("2026-12-04T00:00:00Z".into()) });
    i.billing_mode = Some(gpufleet::model::BillingMode::parse("spot"));
    i.priority_level = Some(gpufleet::model::PriorityLevel::parse("critical"));
    i.created_at = Some(awkward.into());
    i.price = Some(gpufleet::model::Price::new(2_490_000, gpufleet::model::PriceSource::Configured, Some(awkward.into())));
    i.price_note = Some(awkward.into());
    i.deadline_error = Some(Box::new(gpufleet::Error::new(gpufleet::ErrorCode::Server, awkward).with_status(503)));
    i.deadline_mirror = Some(Box::new(gpufleet::model::TagMirror {
        tag: "gpufleet-deadline".into(),
        value: Some(awkward.into()),
        ok: false,
        error: Some(gpufleet::Error::new(gpufleet::ErrorCode::NotFound, awkward)),
    }));
    page.items[1].public_ipv4 = Some(true);
    check(page, None, "every field");
}
