//! The Rust client against the real simulated clouds (a Node process on 127.0.0.1): every
//! provider listed to exactly the simulator's true set, lifecycles driven end to end, listings
//! that survive 30 % injected faults, and creates that never duplicate after a dropped answer.
//! Needs `node` on PATH (npm test installs everything else).

#[path = "support/plain_http.rs"]
mod plain_http;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures::executor::block_on;
use gpufleet::*;
use plain_http::PlainHttp;
use serde_json::{json, Value};

struct Sim {
    child: Child,
    url: String,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new("node")
            .arg(format!("{root}/tests/sim/server.mjs"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node must be on PATH to run the simulated clouds");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("sim prints its URL");
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("URL in the ready line").to_owned();
        Sim { child, url }
    }

    fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let mut req = HttpRequest::new(method, format!("{}/__sim/{path}", self.url));
        if method != Method::Get {
            req = req.header("Content-Type", "application/json").json_body(body.to_string().into_bytes());
        }
        let resp = block_on(PlainHttp.send(req)).expect("control API answers");
        assert!(resp.is_success(), "control {path}: {} {}", resp.status, String::from_utf8_lossy(&resp.body));
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
    }

    fn true_ids(&self, provider: Provider) -> BTreeSet<String> {
        let state = self.control(Method::Get, &format!("state?provider={}", provider.as_str()), Value::Null);
        state["instances"].as_array().expect("instances").iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    }

    fn config(&self) -> ClientConfig {
        let u = &self.url;
        ClientConfig::new()
            .with_provider(Provider::Fal, ProviderConfig::new(Provider::Fal, "sim-fal-key").with_base_url(format!("{u}/fal/v1")))
            .with_provider(
                Provider::FalAlpha,
                ProviderConfig::new(Provider::FalAlpha, "sim-fal-key").with_base_url(format!("{u}/fal-alpha")),
            )
            .with_provider(
                Provider::Sfcompute,
                ProviderConfig::new(Provider::Sfcompute, "sim-sfc-token")
                    .with_base_url(format!("{u}/sfcompute/preview/v2"))
                    .with_workspace("wksp_simfleet01"),
            )
            .with_provider(
                Provider::Novita,
                ProviderConfig::new(Provider::Novita, "sim-novita-key")
                    .with_base_url(format!("{u}/novita/gpu-instance/openapi/v1")),
            )
            .with_retry(RetryPolicy { max_retries: 12, base_delay_ms: 2, max_delay_ms: 20 })
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ids(instances: &[Instance]) -> BTreeSet<String> {
    instances.iter().map(|i| i.id.clone()).collect()
}

#[test]
fn every_provider_lists_exactly_the_true_set() {
    let sim = Sim::start(&["--instances", "230", "--seed", "4", "--speed", "0"]);
    let client = Client::new(PlainHttp, sim.config());
    for p in Provider::ALL {
        let all = block_on(client.list_all_pages(ListQuery::first_page(p))).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(all.len(), 230, "{p}");
        assert_eq!(ids(&all), sim.true_ids(p), "{p}");
    }
    let listing = block_on(client.list_all(&FleetQuery::default())).unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    assert_eq!(listing.instances.len(), 4 * 230);
    // Several pages were walked for the paginated providers.
    let log = sim.control(Method::Get, "requests", Value::Null);
    let list_calls = log.as_array().map(|a| a.len()).unwrap_or(0);
    assert!(list_calls > 10, "{list_calls}");
}

#[test]
fn listings_survive_thirty_percent_faults() {
    let sim = Sim::start(&["--instances", "600", "--seed", "9", "--speed", "0"]);
    let truth: Vec<BTreeSet<String>> = Provider::ALL.iter().map(|p| sim.true_ids(*p)).collect();
    sim.control(
        Method::Post,
        "faults",
        json!({"rate": 0.3, "kinds": ["429", "500", "502", "503", "drop", "truncate", "slow"],
               "retryAfterSeconds": 0, "slowMs": 5, "seed": 42}),
    );
    let client = Client::new(PlainHttp, sim.config());
    for (p, truth) in Provider::ALL.iter().zip(truth) {
        let all = block_on(client.list_all_pages(ListQuery::first_page(*p))).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(all.len(), truth.len(), "{p}: none lost, none duplicated");
        assert_eq!(ids(&all), truth, "{p}");
    }
    let log = sim.control(Method::Get, "requests", Value::Null);
    let faulted = log.as_array().unwrap().iter().filter(|e| !e["fault"].is_null()).count();
    assert!(faulted > 5, "faults were injected ({faulted})");
}

#[test]
fn fal_create_after_a_dropped_answer_makes_one_instance() {
    let sim = Sim::start(&["--instances", "5", "--speed", "0"]);
    let before = sim.true_ids(Provider::Fal);
    // Every first POST is applied and then its connection dropped; the retry (same key) is answered.
    sim.control(Method::Post, "faults", json!({"provider": "fal", "rate": 0.5, "kinds": ["drop-after-commit"], "methods": ["POST"], "seed": 3}));
    let client = Client::new(PlainHttp, sim.config());
    for _ in 0..3 {
        let input = CreateInput::Fal(FalCreateInput {
            instance_type: "gpu_1x_h100_sxm5".into(),
            ssh_key: "ssh-ed25519 AAAAC3Nza test".into(),
            ..Default::default()
        });
        block_on(client.create(&input)).expect("create succeeds after retries");
    }
    let after = sim.true_ids(Provider::Fal);
    assert_eq!(after.len(), before.len() + 3, "exactly one instance per create");
    let log = sim.control(Method::Get, "requests", Value::Null);
    let dropped = log.as_array().unwrap().iter().filter(|e| e["fault"] == "drop-after-commit").count();
    assert!(dropped >= 1, "the fault fired");
}

#[test]
fn novita_create_is_not_repeated_after_a_dropped_answer() {
    let sim = Sim::start(&["--instances", "5", "--speed", "0"]);
    let before = sim.true_ids(Provider::Novita);
    sim.control(Method::Post, "faults", json!({"provider": "novita", "rate": 1, "kinds": ["drop-after-commit"], "methods": ["POST"]}));
    let client = Client::new(PlainHttp, sim.config());
    let input = CreateInput::Novita(NovitaCreateInput {
        product_id: "prod-rtx4090-24g".into(),
        gpu_num: Some(1),
        rootfs_size: Some(50),
        image_url: "nvcr.io/nvidia/pytorch:24.01-py3".into(),
        ..Default::default()
    });
    let err = block_on(client.create(&input)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Network, "{err}");
    assert!(err.message.contains("not retried"), "{}", err.message);
    let after = sim.true_ids(Provider::Novita);
    assert!(after.len() <= before.len() + 1, "never a second instance");
}

#[test]
fn lifecycles_end_to_end() {
    let sim = Sim::start(&["--instances", "10", "--speed", "0"]);
    let client = Client::new(PlainHttp, sim.config());
    let quick = |until| WaitOptions { until, max_wait_ms: 20_000, min_delay_ms: 5, max_delay_ms: 20 };
    // The sim clock is frozen; a background thread advances it so lifecycles move.
    let url = sim.url.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let ticker = std::thread::spawn(move || {
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let req = HttpRequest::new(Method::Post, format!("{url}/__sim/advance"))
                .header("Content-Type", "application/json")
                .json_body(br#"{"ms":2000}"#.to_vec());
            let _ = block_on(PlainHttp.send(req));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });

    // fal: create → running (IP assigned) → delete → gone.
    let created = block_on(client.create(&CreateInput::Fal(FalCreateInput {
        instance_type: "gpu_8x_h100_sxm5".into(),
        ssh_key: "ssh-ed25519 AAAA e2e".into(),
        sector: Some("sector_2".into()),
        idempotency_key: None,
    })))
    .unwrap();
    assert!(matches!(created.status, Status::Pending | Status::Provisioning), "{:?}", created.status);
    let mut seen = Vec::new();
    let running = block_on(client.wait_for(Provider::Fal, &created.id, &quick(Status::Running), |i| seen.push(i.status)))
        .unwrap()
        .unwrap();
    assert!(running.ip.is_some(), "IP assigned when ready");
    assert_eq!(seen.last(), Some(&Status::Running));
    assert!(!block_on(client.delete(Provider::Fal, &created.id)).unwrap().already_gone);
    assert_eq!(block_on(client.get(Provider::Fal, &created.id)).unwrap_err().code, ErrorCode::NotFound);
    assert!(block_on(client.delete(Provider::Fal, &created.id)).unwrap().already_gone);

    // Novita: stop → stopped → start → running.
    let novita = block_on(client.list_all_pages(ListQuery::first_page(Provider::Novita))).unwrap();
    let target = novita.iter().find(|i| i.status == Status::Running).expect("a running Novita instance");
    block_on(client.stop(Provider::Novita, &target.id)).unwrap();
    block_on(client.wait_for(Provider::Novita, &target.id, &quick(Status::Stopped), |_| {})).unwrap();
    block_on(client.start(Provider::Novita, &target.id)).unwrap();
    block_on(client.wait_for(Provider::Novita, &target.id, &quick(Status::Running), |_| {})).unwrap();

    // SF Compute: delete while running → conflict; terminate → delete.
    let sfc = block_on(client.list_all_pages(ListQuery::first_page(Provider::Sfcompute))).unwrap();
    let target = sfc.iter().find(|i| i.status == Status::Running).expect("a running SFC instance");
    let err = block_on(client.delete(Provider::Sfcompute, &target.id)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.message.to_lowercase().contains("terminate"), "{}", err.message);
    let terminated = block_on(client.terminate(Provider::Sfcompute, &target.id)).unwrap().expect("SFC returns the instance");
    assert_eq!(terminated.status, Status::Terminated);
    assert!(!block_on(client.delete(Provider::Sfcompute, &target.id)).unwrap().already_gone);
    let ssh = block_on(client.ssh(Provider::Sfcompute, &target.id)).unwrap_err();
    assert_eq!(ssh.code, ErrorCode::NotFound);

    // Wrong key → unauthorized, with the provider named.
    let bad = ClientConfig::new().with_provider(
        Provider::Fal,
        ProviderConfig::new(Provider::Fal, "wrong").with_base_url(format!("{}/fal/v1", sim.url)),
    );
    let err = block_on(Client::new(PlainHttp, bad).get(Provider::Fal, "inst_x")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert_eq!(err.provider, Some(Provider::Fal));

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = ticker.join();
}
