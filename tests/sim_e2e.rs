//! The Rust client against the real simulated clouds (a Node process on 127.0.0.1): every
//! provider listed to exactly the simulator's true set, lifecycles driven end to end, listings
//! that survive 30 % injected faults, and creates that never duplicate after a dropped answer.
//! Needs `node` on PATH (npm test installs everything else).

mod support;

use std::collections::BTreeSet;
use std::time::Instant;

use futures::executor::block_on;
use gpufleet::*;
use serde_json::{json, Value};
use support::plain_http::PlainHttp;
use support::sim::{ids, Sim, ThreadedHttp};

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
    sim.control(
        Method::Post,
        "faults",
        json!({"provider": "fal", "rate": 0.5, "kinds": ["drop-after-commit"], "methods": ["POST"], "seed": 3}),
    );
    let client = Client::new(PlainHttp, sim.config());
    for _ in 0..3 {
        let input = CreateInput::Fal(FalCreateInput {
            instance_type: "gpu_1x_h100_sxm5".into(),
            ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 test".into(),
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
    sim.control(
        Method::Post,
        "faults",
        json!({"provider": "novita", "rate": 1, "kinds": ["drop-after-commit"], "methods": ["POST"]}),
    );
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
        ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 e2e".into(),
        sector: Some("sector_2".into()),
        idempotency_key: None,
    })))
    .unwrap();
    assert!(matches!(created.status, Status::Pending | Status::Provisioning), "{:?}", created.status);
    let mut seen = Vec::new();
    let running =
        block_on(client.wait_for(Provider::Fal, &created.id, &quick(Status::Running), |i| seen.push(i.status))).unwrap().unwrap();
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
    let bad = ClientConfig::new()
        .with_provider(Provider::Fal, ProviderConfig::new(Provider::Fal, "wrong").with_base_url(format!("{}/fal/v1", sim.url)));
    let err = block_on(Client::new(PlainHttp, bad).get(Provider::Fal, "inst_x")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert_eq!(err.provider, Some(Provider::Fal));

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = ticker.join();
}

/// Lists Novita's `n` instances, 100 per page, `concurrency` pages at once; returns the
/// seconds taken and the most requests that were in flight together.
fn timed_novita_listing(sim: &Sim, concurrency: u32, n: usize) -> (f64, usize) {
    let transport = ThreadedHttp::default();
    let client = Client::new(&transport, sim.config().with_page_concurrency(concurrency));
    let query = ListQuery::Novita(NovitaListQuery { limit: Some(100), ..Default::default() });
    sim.control(Method::Delete, "requests", Value::Null);
    let started = Instant::now();
    let all = block_on(client.list_all_pages(query)).unwrap_or_else(|e| panic!("novita: {e}"));
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(all.len(), n, "concurrency {concurrency}");
    assert_eq!(ids(&all), sim.true_ids(Provider::Novita), "concurrency {concurrency}");
    let pages: Vec<u64> = sim
        .requests(Provider::Novita)
        .iter()
        .map(|e| e["query"].as_str().unwrap().split("pageNum=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap())
        .collect();
    let mut sorted = pages.clone();
    sorted.sort_unstable();
    // pageNum 0 first (page 1 on a server counting from 1), then 1 to tell the numbering apart,
    // then the rest.
    assert_eq!(sorted, (0..=n.div_ceil(100) as u64).collect::<Vec<_>>(), "each page requested once");
    assert_eq!(pages[..2], [0, 1], "the first page, then the numbering probe, alone first");
    (secs, transport.max_in_flight())
}

#[test]
fn novita_pages_overlap_once_the_total_is_known() {
    // 10,000 instances in 100 pages, each answered after 50 ms.
    let sim = Sim::start(&["--instances", "10000", "--seed", "5", "--speed", "0"]);
    sim.control(Method::Post, "latency", json!({"provider": "novita", "ms": 50}));
    let (parallel, most) = timed_novita_listing(&sim, DEFAULT_PAGE_CONCURRENCY, 10_000);
    eprintln!("novita 10,000 instances / 100 pages @ 50 ms, {DEFAULT_PAGE_CONCURRENCY} at a time: {parallel:.2} s");
    assert_eq!(most, DEFAULT_PAGE_CONCURRENCY as usize, "8 requests in flight together, never more");
    // One page after another needs at least 100 × 50 ms.
    assert!(parallel < 5.0, "8 pages at a time took {parallel:.2} s, no faster than one at a time");
    // The sequential walk over 20 of the pages, for comparison.
    let sim = Sim::start(&["--instances", "2000", "--seed", "5", "--speed", "0"]);
    sim.control(Method::Post, "latency", json!({"provider": "novita", "ms": 50}));
    let (sequential, most) = timed_novita_listing(&sim, 1, 2_000);
    eprintln!("novita 2,000 instances / 20 pages @ 50 ms, one at a time: {sequential:.2} s");
    assert_eq!(most, 1);
    assert!(sequential >= 1.0, "20 pages at 50 ms one after another cannot take {sequential:.2} s");
}

/// The numbers for BENCHMARKS.md: 10,000 Novita instances in 100 pages at 50 ms, one page at a
/// time vs several at a time.
/// `cargo test --release --test sim_e2e -- --ignored --nocapture novita_paging_numbers`
#[test]
#[ignore = "takes ~12 s; prints the sequential vs parallel numbers"]
fn novita_paging_numbers() {
    let sim = Sim::start(&["--instances", "10000", "--seed", "5", "--speed", "0"]);
    sim.control(Method::Post, "latency", json!({"provider": "novita", "ms": 50}));
    for concurrency in [1, 4, 8, 16] {
        let (secs, most) = timed_novita_listing(&sim, concurrency, 10_000);
        println!("novita 10,000 instances, 100 pages @ 50 ms, concurrency {concurrency:>2}: {secs:.2} s (most in flight {most})");
    }
}

/// The Novita paging modes the simulator can play (`--novita-paging`): every numbering, a silent
/// cap below the asked page size, and fixed pages smaller and larger than asked — the one list
/// in `tests/sim/defaults.mjs` (`NOVITA_PAGING_MODES`) that the JS suites walk too.
fn novita_paging_modes() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sim/defaults.mjs")).unwrap();
    let list = text.split("NOVITA_PAGING_MODES = Object.freeze([").nth(1).and_then(|rest| rest.split("]);").next()).unwrap();
    let modes: Vec<String> = list.split('"').skip(1).step_by(2).map(str::to_owned).collect();
    assert!(modes.len() >= 9 && modes.iter().any(|m| m == "zero,cap:20"), "{modes:?}");
    modes
}

/// The pageNum of every Novita request in the log.
fn novita_page_numbers(sim: &Sim) -> Vec<u32> {
    sim.requests(Provider::Novita)
        .iter()
        .filter_map(|e| e["query"].as_str()?.split("pageNum=").nth(1)?.split('&').next()?.parse().ok())
        .collect()
}

#[test]
fn novita_every_paging_mode_lists_exactly_the_true_set_every_way() {
    let sim = Sim::start(&["--instances", "45", "--seed", "13", "--speed", "0"]);
    for mode in &novita_paging_modes() {
        for n in [45usize, 230] {
            sim.control(Method::Post, "reset", json!({"novitaPaging": mode, "instances": n, "seed": 13}));
            let truth = sim.true_ids(Provider::Novita);
            assert_eq!(truth.len(), n, "{mode}");
            // Items per page: the cap or the fixed size, else the 100 asked.
            let served = mode.split_once(':').map_or(100, |(_, size)| size.parse::<u32>().unwrap());
            let first = if mode.starts_with("zero") { 0 } else { 1 };
            let last_page = first + (n as u32).div_ceil(served) - 1;
            let query = ListQuery::Novita(NovitaListQuery { limit: Some(100), ..Default::default() });
            for concurrency in [1, 8] {
                sim.control(Method::Delete, "requests", Value::Null);
                let client = Client::new(PlainHttp, sim.config().with_page_concurrency(concurrency));
                let all = block_on(client.list_all_pages(query.clone())).unwrap_or_else(|e| panic!("{mode}: {e}"));
                let what = format!("{mode}, {n} instances, {concurrency} at once");
                assert_eq!(all.len(), n, "{what}: each id once");
                assert_eq!(ids(&all), truth, "{what}");
                let pages = novita_page_numbers(&sim);
                assert!(pages.iter().all(|p| *p <= last_page), "{what}: nothing past page {last_page}: {pages:?}");
                // The whole fleet through list_all too (the proxy's and listAll's path).
                let listing =
                    block_on(client.list_all(&FleetQuery { providers: Some(vec![Provider::Novita]), ..Default::default() }))
                        .unwrap();
                assert!(listing.errors.is_empty(), "{what}: {:?}", listing.errors);
                assert_eq!(listing.instances.len(), n, "{what}: list_all");
                assert_eq!(ids(&listing.instances), truth, "{what}: list_all");
            }
            // One page at a time through nextCursor, with a fresh client per page (as a caller
            // paging through the proxy does): hasMore is false exactly on the last page.
            let mut q = query.clone();
            let mut seen = Vec::new();
            loop {
                let client = Client::new(PlainHttp, sim.config());
                let page = block_on(client.list_page(&q)).unwrap_or_else(|e| panic!("{mode}: {e}"));
                seen.extend(page.items.iter().map(|i| i.id.clone()));
                if !page.has_more {
                    break;
                }
                assert!(seen.len() < n, "{mode}: hasMore after all {n}");
                q = q.with_cursor(page.next_cursor);
            }
            assert_eq!(seen.len(), n, "{mode}: listPage walk, each id once");
            assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), truth, "{mode}: listPage walk");
        }
    }
}

#[test]
fn novita_missing_instances_answer_400_resource_not_found_and_read_as_not_found() {
    let sim = Sim::start(&["--instances", "3", "--seed", "2", "--speed", "0"]);
    let client = Client::new(PlainHttp, sim.config());
    let e = block_on(client.get(Provider::Novita, "nosuchinstance01")).unwrap_err();
    assert_eq!((e.code, e.status, e.provider_type.as_deref()), (ErrorCode::NotFound, Some(400), Some("RESOURCE_NOT_FOUND")));
    let gone = block_on(client.delete(Provider::Novita, "nosuchinstance01")).unwrap();
    assert!(gone.already_gone);
    for op in [Operation::Start, Operation::Stop, Operation::Restart] {
        let e = block_on(client.action(Provider::Novita, op, "nosuchinstance01")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound, "{op:?}");
    }
    // The account's instance quota.
    sim.control(Method::Post, "reset", json!({"novitaInstanceLimit": 3, "instances": 3, "seed": 2}));
    let input: NovitaCreateInput = serde_json::from_value(json!({
        "productId": "prod-rtx4090-24g", "gpuNum": 1, "rootfsSize": 50, "imageUrl": "nvidia/cuda:12.4.1-devel-ubuntu22.04"
    }))
    .unwrap();
    let e = block_on(client.create(&CreateInput::Novita(input))).unwrap_err();
    assert_eq!(e.code, ErrorCode::QuotaExceeded, "{e}");
    assert!(e.message.contains("quota"), "{}", e.message);
}

/// [`PlainHttp`] on the simulator's clock (frozen with `--speed 0`), so the client's "now" (bill
/// windows, quote times, costs so far) is the sim's.
struct OnSimClock(u64);

impl Transport for OnSimClock {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        PlainHttp.send(request).await
    }

    async fn sleep(&self, duration: std::time::Duration) -> Result<(), TransportError> {
        PlainHttp.sleep(duration).await
    }

    fn now_ms(&self) -> u64 {
        self.0
    }

    fn fill_random(&self, buf: &mut [u8]) {
        PlainHttp.fill_random(buf)
    }
}

/// Novita's hourly bills of `id` as the simulator serves them, summed (1/10,000 USD) over
/// `[from, to)` in its own day-aligned 30-day ranges (not the client's windows): the total, the
/// number of bills, the first bill's start.
fn sim_bill_total(sim: &Sim, id: &str, from: i64, to: i64) -> (i64, usize, Option<i64>) {
    let (mut total, mut bills, mut first) = (0, 0, None);
    let mut start = from - from.rem_euclid(86_400);
    while start < to {
        let end = (start + 30 * 86_400).min(to);
        let url = format!(
            "{}/novita/openapi/v1/billing/bill/list?cycleType=Hour&productCategory=gpu&startTime={start}&endTime={end}&ownerId={id}",
            sim.url
        );
        let req = HttpRequest::new(Method::Get, url)
            .header("Authorization", "Bearer sim-novita-key")
            .header("Content-Type", "application/json");
        let resp = block_on(PlainHttp.send(req)).unwrap();
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        let body: Value = serde_json::from_slice(&resp.body).unwrap();
        for bill in body["bills"].as_array().unwrap() {
            total += bill["amount"].as_str().unwrap().parse::<i64>().unwrap();
            bills += 1;
            let start = bill["startTime"].as_str().unwrap().parse::<i64>().unwrap();
            first = Some(first.map_or(start, |f: i64| f.min(start)));
        }
        start = end;
    }
    (total, bills, first)
}

#[test]
fn money_offers_balances_and_billed_cost_read_the_simulators_answers() {
    let sim = Sim::start(&["--instances", "20", "--seed", "3", "--speed", "0"]);
    // 1 h 31 min 7 s of sim time: balances move, the current hour is partly billed.
    sim.control(Method::Post, "advance", json!({"ms": 5_467_000}));
    let now_ms = sim.control(Method::Get, "clock", Value::Null)["now"].as_u64().unwrap();
    let now = (now_ms / 1000) as i64;
    let money = sim.control(Method::Get, "money", Value::Null);
    let fal_prices = money["prices"]["fal"].as_object().unwrap().clone();
    // The user's table for fal, from the sim's price list (micro-USD per instance-hour).
    let table: serde_json::Map<String, Value> =
        fal_prices.iter().map(|(t, m)| (t.clone(), json!(format!("{}", m.as_i64().unwrap() as f64 / 1e6)))).collect();
    let prices = money::PriceTable::from_json(&json!({ "fal": table }), "prices").unwrap();
    let client = Client::new(OnSimClock(now_ms), sim.config().with_prices(prices));

    // Offers: Novita's GPU products (CPU products are not in /products), spot apart; SF
    // Compute's fleet SKUs with the book's best ask; fal's types at the configured prices.
    let listing = block_on(client.offers(None)).unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let offers_of = |p: Provider| listing.offers.iter().filter(move |o| o.provider == p);
    for product in money["prices"]["novita"].as_array().unwrap() {
        let id = product["id"].as_str().unwrap();
        let of = |billing: BillingMode| offers_of(Provider::Novita).find(|o| o.id == id && o.billing == billing);
        if product["kind"] == "cpu" {
            assert!(of(BillingMode::OnDemand).is_none(), "{id}: CPU products are not listed");
            continue;
        }
        let on_demand = of(BillingMode::OnDemand).unwrap_or_else(|| panic!("{id} on demand"));
        assert_eq!(on_demand.price.as_ref().map(|p| p.micro_usd_per_hour), Some(product["price"].as_i64().unwrap() * 10), "{id}");
        assert_eq!(on_demand.available, product["availableDeploy"].as_bool(), "{id}");
        let spot = product["billingMethods"].as_array().unwrap().iter().any(|m| m == "spot");
        match of(BillingMode::Spot) {
            Some(o) if spot => {
                assert_eq!(o.price.as_ref().unwrap().micro_usd_per_hour, product["spotPrice"].as_i64().unwrap() * 10)
            }
            None if !spot => {}
            other => panic!("{id}: spot offer {other:?}, billingMethods {}", product["billingMethods"]),
        }
    }
    let fleet_skus: BTreeSet<String> = block_on(client.list_all_pages(ListQuery::first_page(Provider::Sfcompute)))
        .unwrap()
        .into_iter()
        .filter_map(|i| i.offer_id)
        .collect();
    let sfc: Vec<&Offer> = offers_of(Provider::Sfcompute).collect();
    assert_eq!(sfc.iter().map(|o| o.id.clone()).collect::<BTreeSet<_>>(), fleet_skus);
    assert!(fleet_skus.len() >= 3, "{fleet_skus:?}");
    for offer in &sfc {
        let book = &money["prices"]["sfcompute"][&offer.id];
        match book["ask"].as_i64() {
            Some(cents) => {
                let price = offer.price.as_ref().unwrap_or_else(|| panic!("{}: {:?}", offer.id, offer.price_note));
                assert_eq!((price.micro_usd_per_hour, price.source), (cents * 10_000, PriceSource::Quote), "{}", offer.id);
            }
            None => {
                assert!(offer.price.is_none(), "{}", offer.id);
                assert_eq!(
                    offer.price_note.as_deref(),
                    Some(format!("no ask in SF Compute's order book for {}", offer.id).as_str())
                );
            }
        }
    }
    assert!(sfc.iter().any(|o| o.price.is_none()), "the sim's book has a SKU without an ask in this fleet");
    for (t, micro) in &fal_prices {
        let o = offers_of(Provider::Fal).find(|o| &o.id == t).unwrap_or_else(|| panic!("fal {t}"));
        assert_eq!(o.price.as_ref().map(|p| p.micro_usd_per_hour), micro.as_i64(), "{t}");
    }

    // Balances: exactly the sim's, converted from its units; SF Compute's from /v1/balances.
    sim.control(Method::Delete, "requests", Value::Null);
    let listing = block_on(client.balances()).unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let of = |p: Provider| listing.balances.iter().find(|b| b.provider == p).unwrap_or_else(|| panic!("{p}"));
    let b = &money["balances"];
    let int = |v: &Value| v.as_i64().unwrap();
    assert!(int(&b["novita"]["charged"]) > 0 && int(&b["fal"]["charged"]) > 0 && int(&b["sfcompute"]["charged"]) > 0, "{b}");
    assert_eq!(of(Provider::Fal).available.micro_usd, int(&b["fal"]["micro"]));
    let n = of(Provider::Novita);
    assert_eq!(n.available.micro_usd, int(&b["novita"]["available"]) * 100);
    assert_eq!(n.details["cashBalance"].micro_usd, int(&b["novita"]["cash"]) * 100);
    assert_eq!(n.details["creditLimit"].micro_usd, int(&b["novita"]["creditLimit"]) * 100);
    let s = of(Provider::Sfcompute);
    assert_eq!(s.available.micro_usd, int(&b["sfcompute"]["current"]) * 10_000);
    assert_eq!(s.details["current"].micro_usd, int(&b["sfcompute"]["current"]) * 10_000);
    assert_eq!(s.details["overage"].micro_usd, int(&b["sfcompute"]["overage"]) * 10_000);
    assert_eq!(s.raw["object"], "balances");
    let paths: Vec<String> = sim.requests(Provider::Sfcompute).iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect();
    assert_eq!(paths, ["/sfcompute/v1/balances"], "v1 answered: v0 is not asked");

    // Billed cost: every Novita instance's get sums exactly the hourly bills the sim serves for
    // it, the hour it was created in included.
    let (mut billed, mut mid_hour) = (0, 0);
    for id in sim.true_ids(Provider::Novita) {
        let instance = block_on(client.get(Provider::Novita, &id)).unwrap();
        let created = instance.created_at.as_deref().and_then(money::iso_to_unix_seconds).unwrap();
        let (units, bills, first) = sim_bill_total(&sim, &id, created, now + 1);
        if bills == 0 {
            assert!(instance.cost.as_ref().is_none_or(|c| c.kind == CostKind::Estimate), "{id}: {:?}", instance.cost);
            continue;
        }
        let cost = instance.cost.unwrap_or_else(|| panic!("{id}: no cost ({:?})", instance.price_note));
        assert_eq!((cost.kind, cost.amount.micro_usd), (CostKind::Billed, units * 100), "{id}: {bills} bills");
        // Counted from the first bill's hour, but never from before the instance existed.
        let first = first.unwrap();
        assert_eq!(cost.since, provider::unix_seconds_to_iso(first.max(created)), "{id}");
        billed += 1;
        mid_hour += usize::from(first < created);
    }
    assert!(billed >= 5, "{billed} Novita instances with bills");
    assert!(mid_hour >= 1, "some first bills began before their instance (created mid-hour) and are counted");
}
