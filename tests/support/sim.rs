//! The simulated clouds (`tests/sim/server.mjs`) as a child process for native end-to-end tests,
//! its control API, and a client config pointing every provider at it. Needs `node` on PATH.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use futures::channel::oneshot;
use futures::executor::block_on;
use gpufleet::*;
use serde_json::Value;

use super::plain_http::PlainHttp;

/// A running simulator; killed on drop.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Sim {
    /// Starts `node tests/sim/server.mjs --port 0 <args>` and waits for its ready line.
    pub fn start(args: &[&str]) -> Sim {
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

    /// Calls `/__sim/<path>`; panics unless it answers 2xx.
    pub fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let mut req = HttpRequest::new(method, format!("{}/__sim/{path}", self.url));
        if method != Method::Get {
            req = req.header("Content-Type", "application/json").json_body(body.to_string().into_bytes());
        }
        let resp = block_on(PlainHttp.send(req)).expect("control API answers");
        assert!(resp.is_success(), "control {path}: {} {}", resp.status, String::from_utf8_lossy(&resp.body));
        serde_json::from_slice(&resp.body).unwrap_or(Value::Null)
    }

    /// The ids of every instance of `provider` right now (`/__sim/state`).
    pub fn true_ids(&self, provider: Provider) -> BTreeSet<String> {
        let state = self.control(Method::Get, &format!("state?provider={}", provider.as_str()), Value::Null);
        state["instances"].as_array().expect("instances").iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    }

    /// The request log of `provider` (oldest first).
    pub fn requests(&self, provider: Provider) -> Vec<Value> {
        let log = self.control(Method::Get, &format!("requests?provider={}", provider.as_str()), Value::Null);
        log.as_array().cloned().unwrap_or_default()
    }

    /// Every provider configured against this sim, retrying quickly (2 ms doubling to 20 ms, 12 times).
    pub fn config(&self) -> ClientConfig {
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

/// The ids of `instances`.
pub fn ids(instances: &[Instance]) -> BTreeSet<String> {
    instances.iter().map(|i| i.id.clone()).collect()
}

/// A transport whose requests and sleeps run on threads of their own, so that futures polled
/// together (bounded-parallel paging, `list_all`) really overlap under `block_on`. Records every
/// sleep (ms) the client asked for.
#[derive(Default)]
pub struct ThreadedHttp {
    /// The sleeps asked for, in order.
    pub sleeps: Mutex<Vec<u64>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl ThreadedHttp {
    /// The sleeps asked for so far.
    pub fn sleeps(&self) -> Vec<u64> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The most requests that were ever waiting for an answer at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Transport for &ThreadedHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(block_on(PlainHttp.send(request)));
        });
        let answer = rx.await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        answer.unwrap_or_else(|_| Err(TransportError::Network("transport thread ended without an answer".into())))
    }

    async fn sleep(&self, duration: Duration) -> Result<(), TransportError> {
        if let Ok(mut s) = self.sleeps.lock() {
            s.push(duration.as_millis() as u64);
        }
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(duration);
            let _ = tx.send(());
        });
        rx.await.map_err(|_| TransportError::Network("sleep thread ended".into()))
    }

    fn now_ms(&self) -> u64 {
        PlainHttp.now_ms()
    }

    fn fill_random(&self, buf: &mut [u8]) {
        // Not cryptographic; distinct per call (a counter), so idempotency keys never repeat.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut x = PlainHttp.now_ms() ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) | 1;
        for b in buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}
