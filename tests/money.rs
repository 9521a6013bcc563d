//! Money: prices on every row (configured table > Novita's catalog > SF Compute's quote), cost
//! so far and the fleet's burn rate in exact micro-dollars, Novita's billed cost, balances and
//! offers — exact requests, unit conversions, caching, and bad input that drops a price with a
//! reason instead of showing a wrong one.

// Parsers return the crate's `Result` (its `Error` is large by design: a detailed error value).
#![allow(clippy::result_large_err)]

mod support;

use futures::executor::block_on;
use gpufleet::money::{self, PriceTable};
use gpufleet::provider::{fal, novita, sfcompute};
use gpufleet::*;
use serde_json::{json, Value};
use support::fixtures::{client_config, key, provider_config};
use support::scripted::{json as answer, Answer, ScriptedTransport, START_MS};

const NOVITA: &str = "https://api.novita.ai/gpu-instance/openapi/v1";
const SFC: &str = "https://api.sfcompute.com/preview/v2";

fn ok(body: &Value) -> Answer {
    answer(200, &body.to_string())
}

/// A Novita catalog: an H100 at $2.49 on demand and $1.25 spot per GPU-hour, an RTX 4090 at
/// $0.35 on demand only (billingMethods), and a product whose price is implausible in the
/// assumed unit.
fn catalog() -> Value {
    json!({ "data": [
        { "id": "prod-h100", "name": "H100 80GB", "price": 249000, "spotPrice": "125000",
          "availableDeploy": true, "billingMethods": ["onDemand", "spot"],
          "regions": [{ "id": "us-ca-01" }, { "id": "eu-de-01" }], "cpuPerGpu": 16 },
        { "id": "prod-4090", "name": "RTX 4090 24GB", "price": "35000", "spotPrice": 20000,
          "availableDeploy": false, "billingMethods": ["onDemand"], "regions": ["as-sg-01"] },
        { "id": "prod-odd", "name": "Odd", "price": 249, "spotPrice": -5 }
    ]})
}

fn novita_record(id: &str, product: &str, gpus: u32, mode: &str, status: &str, started_secs: i64) -> Value {
    json!({ "id": id, "name": id, "status": status, "productId": product, "gpuNum": gpus.to_string(),
            "billingMode": mode, "createdAt": (started_secs - 60).to_string(),
            "lastStartedAt": started_secs.to_string(), "lastStoppedAt": "0" })
}

fn now_secs() -> i64 {
    (START_MS / 1000) as i64
}

/// A Novita server: the catalog at `/products`, `records` as one page of instances.
fn novita_server(records: Vec<Value>, products: Answer) -> ScriptedTransport {
    ScriptedTransport::new(move |r| {
        if r.url == format!("{NOVITA}/products") {
            return products.clone();
        }
        assert!(r.url.starts_with(&format!("{NOVITA}/gpu/instances?")), "{}", r.url);
        ok(&json!({ "instances": records, "total": records.len() }))
    })
}

fn novita_client(t: &ScriptedTransport) -> Client<&ScriptedTransport> {
    Client::new(t, client_config(&[Provider::Novita]))
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

#[test]
fn units_convert_exactly() {
    // Novita's balances are 1/10,000 USD, its prices 1/100,000 USD, SF Compute's balance cents.
    assert_eq!(money::units_to_micro(5_000_000, novita::BALANCE_UNITS_PER_USD), Some(500_000_000));
    assert_eq!(money::units_to_micro(249_000, novita::PRICE_UNITS_PER_USD), Some(2_490_000));
    assert_eq!(money::units_to_micro(1, sfcompute::BALANCE_UNITS_PER_USD), Some(10_000));
    assert_eq!(money::units_to_micro(1, 3), None, "a unit that does not divide a dollar into micro-dollars");
    assert_eq!(money::units_to_micro(i64::MAX, 100), None, "overflow is refused, not wrapped");
    // Decimal text is read exactly: no float anywhere.
    assert_eq!(money::decimal_to_micro("2.500000", true), Ok(2_500_000));
    assert_eq!(money::decimal_to_micro("0.1", true), Ok(100_000));
    assert_eq!(money::json_to_micro(&json!("3.99")), Ok(3_990_000));
    assert_eq!(money::json_to_micro(&json!(3.99)), Ok(3_990_000));
    // A provider's amount is rounded to the micro-dollar; a configured one must be exact.
    assert_eq!(money::json_to_micro(&json!("1.0000001")), Ok(1_000_000));
    assert_eq!(money::json_to_micro(&json!("1.0000005")), Ok(1_000_001));
    assert!(money::decimal_to_micro("1.0000001", true).is_err());
    for bad in [json!("abc"), json!(""), json!(true), json!(null), json!("1e3")] {
        assert!(money::json_to_micro(&bad).is_err(), "{bad}");
    }
    // An hour and a half of $2.49/h, rounded half up to the micro-dollar.
    assert_eq!(money::cost_of(2_490_000, 5400), 3_735_000);
    assert_eq!(money::cost_of(1, 1800), 1, "half a micro-dollar rounds up");
    assert_eq!(money::cost_of(1, 1799), 0);
}

#[test]
fn a_malformed_price_table_is_refused_naming_the_entry() {
    let cases: &[(Value, &str)] = &[
        (json!([]), "prices"),
        (json!({ "aws": {} }), "prices.aws"),
        (json!({ "fal": [] }), "prices.fal"),
        (json!({ "fal": { "gpu_1x_h100_sxm5": -1 } }), "prices.fal.gpu_1x_h100_sxm5"),
        (json!({ "fal": { "gpu_1x_h100_sxm5": "lots" } }), "prices.fal.gpu_1x_h100_sxm5"),
        (json!({ "fal": { "gpu_1x_h100_sxm5": "1.0000001" } }), "prices.fal.gpu_1x_h100_sxm5"),
        (json!({ "fal": { "gpu_1x_h100_sxm5": 2_000_000 } }), "prices.fal.gpu_1x_h100_sxm5"),
        (json!({ "fal": { "gpu_1x_h100_sxm5": null } }), "prices.fal.gpu_1x_h100_sxm5"),
    ];
    for (value, field) in cases {
        let e = PriceTable::from_json(value, "prices").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{value}");
        assert_eq!(e.field.as_deref(), Some(*field), "{value}: {}", e.message);
    }
    let table =
        PriceTable::from_json(&json!({ "fal": { "gpu_1x_h100_sxm5": "3.99" }, "fal-alpha": { "x": 0 } }), "prices").unwrap();
    assert_eq!(table.get(Provider::Fal, "gpu_1x_h100_sxm5"), Some(3_990_000));
    assert_eq!(table.get(Provider::FalAlpha, "x"), Some(0));
    assert_eq!(table.get(Provider::Fal, "gpu_8x_h100_sxm5"), None);
}

// ---------------------------------------------------------------------------------------------
// Exact requests
// ---------------------------------------------------------------------------------------------

fn auth(r: &HttpRequest) -> Option<&str> {
    r.header_value("authorization")
}

#[test]
fn money_requests_are_exact() {
    let n = provider_config(Provider::Novita);
    let r = novita::build_products_request(&n).unwrap();
    assert_eq!((r.method, r.url.as_str()), (Method::Get, format!("{NOVITA}/products").as_str()));
    assert_eq!(auth(&r), Some(format!("Bearer {}", key(Provider::Novita)).as_str()));
    let r = novita::build_balance_request(&n).unwrap();
    assert_eq!(r.url, "https://api.novita.ai/openapi/v1/billing/balance/detail");
    assert_eq!(auth(&r), Some(format!("Bearer {}", key(Provider::Novita)).as_str()));
    let r = novita::build_bill_request("inst-1", 100, 200, &n).unwrap();
    assert_eq!(
        r.url,
        "https://api.novita.ai/openapi/v1/billing/bill/list?cycleType=Hour&productCategory=gpu&startTime=100&endTime=200&ownerId=inst-1"
    );
    for (start, end) in [(200, 100), (0, 0), (0, novita::BILL_WINDOW_SECS + 1), (-1, 10)] {
        assert_eq!(novita::build_bill_request("i", start, end, &n).unwrap_err().field.as_deref(), Some("startTime"));
    }
    // The sibling roots follow a base URL with a prefix (the simulator's, a mirror's).
    let sim = ProviderConfig::new(Provider::Novita, "k").with_base_url("http://127.0.0.1:8787/novita/gpu-instance/openapi/v1");
    assert_eq!(
        novita::build_balance_request(&sim).unwrap().url,
        "http://127.0.0.1:8787/novita/openapi/v1/billing/balance/detail"
    );

    let f = provider_config(Provider::Fal);
    let r = fal::build_balance_request(&f).unwrap();
    assert_eq!((r.method, r.url.as_str()), (Method::Get, "https://api.fal.ai/v1/account/billing?expand=credits"));
    assert_eq!(auth(&r), Some(format!("Key {}", key(Provider::Fal)).as_str()));

    let s = provider_config(Provider::Sfcompute);
    // The window starts at the next whole minute and lasts an hour.
    let r = sfcompute::build_quote_request("isku_h100x8", 1_700_000_001, &s).unwrap();
    assert_eq!(
        r.url,
        format!("{SFC}/orderbook/quote?requirements=instance_sku%3Aisku_h100x8&start_at=1700000040&end_at=1700003640")
    );
    assert_eq!(auth(&r), Some(format!("Bearer {}", key(Provider::Sfcompute)).as_str()));
    assert!(sfcompute::build_quote_request("", 0, &s).is_err());
    // The balance: v1 first, v0 the fallback; both beside the preview API, same token.
    let r = sfcompute::build_balance_request(&s).unwrap();
    assert_eq!((r.method, r.url.as_str()), (Method::Get, "https://api.sfcompute.com/v1/balances"));
    assert_eq!(auth(&r), Some(format!("Bearer {}", key(Provider::Sfcompute)).as_str()));
    let r = sfcompute::build_legacy_balance_request(&s).unwrap();
    assert_eq!((r.method, r.url.as_str()), (Method::Get, "https://api.sfcompute.com/v0/balance"));
    assert_eq!(auth(&r), Some(format!("Bearer {}", key(Provider::Sfcompute)).as_str()));
    let sim = ProviderConfig::new(Provider::Sfcompute, "k").with_base_url("http://127.0.0.1:8787/sfcompute/preview/v2/");
    assert_eq!(sfcompute::build_balance_request(&sim).unwrap().url, "http://127.0.0.1:8787/sfcompute/v1/balances");
    assert_eq!(sfcompute::build_legacy_balance_request(&sim).unwrap().url, "http://127.0.0.1:8787/sfcompute/v0/balance");
}

// ---------------------------------------------------------------------------------------------
// Prices on rows
// ---------------------------------------------------------------------------------------------

#[test]
fn novita_rows_are_priced_from_its_catalog_spot_and_on_demand_apart() {
    let started = now_secs() - 5400; // an hour and a half ago
    let records = vec![
        novita_record("a", "prod-h100", 2, "onDemand", "running", started),
        novita_record("b", "prod-h100", 4, "spot", "running", started),
        novita_record("c", "prod-4090", 1, "spot", "running", started), // no spot for the 4090
        novita_record("d", "prod-odd", 1, "onDemand", "running", started), // implausible unit
        novita_record("e", "prod-gone", 1, "onDemand", "running", started), // not in the catalog
        novita_record("f", "prod-h100", 1, "onDemand", "exited", started), // priced, but no cost
        novita_record("g", "prod-h100", 1, "monthly", "running", started),
        json!({ "id": "h", "status": "running", "gpuNum": "1" }), // no product id
        // a CPU instance: List GPU Products has no CPU products
        json!({ "id": "i", "status": "running", "productId": "prod-cpu-8c32g", "kind": "cpu", "billingMode": "onDemand",
                "createdAt": (started - 60).to_string() }),
    ];
    let t = novita_server(records, ok(&catalog()));
    let listing = block_on(novita_client(&t).list_all(&FleetQuery::default())).unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let by_id = |id: &str| listing.instances.iter().find(|i| i.id == id).unwrap().clone();

    let a = by_id("a");
    let price = a.price.as_ref().unwrap();
    assert_eq!((price.micro_usd_per_hour, price.source), (4_980_000, PriceSource::Catalog));
    assert_eq!(price.usd_per_hour, 4.98);
    assert!(price.basis.as_deref().unwrap().contains("2 × $2.49 per GPU-hour (on demand"), "{price:?}");
    let cost = a.cost.as_ref().unwrap();
    assert_eq!((cost.amount.micro_usd, cost.kind, cost.seconds), (7_470_000, CostKind::Estimate, 5400));
    assert_eq!(a.started_at.as_deref(), Some(cost.since.as_str()));

    assert_eq!(by_id("b").price.unwrap().micro_usd_per_hour, 5_000_000, "4 × $1.25 spot");
    for (id, why) in [
        ("c", "not offered as spot"),
        ("d", "outside $0.01–$100"),
        ("e", "prod-gone is not in Novita's catalog"),
        ("g", "billed monthly"),
        ("h", "no product id"),
        ("i", "prod-cpu-8c32g is not in Novita's catalog (List GPU Products; CPU products are not in it): set prices.novita[\"prod-cpu-8c32g\"]"),
    ] {
        let i = by_id(id);
        assert_eq!((i.price.is_none(), i.cost.is_none()), (true, true), "{id}: missing stays missing");
        assert!(i.price_note.as_deref().unwrap_or("").contains(why), "{id}: {:?}", i.price_note);
    }
    let f = by_id("f");
    assert!(f.price.is_some() && f.cost.is_none(), "an instance not running has a price but no running cost");

    // The fleet: what runs with a price, and how many run without one.
    let fleet = listing.cost.unwrap();
    assert_eq!(fleet.burn_rate_per_hour.micro_usd, 4_980_000 + 5_000_000);
    assert_eq!(fleet.cost_so_far.micro_usd, 7_470_000 + 7_500_000);
    assert_eq!((fleet.priced_running, fleet.unpriced_running), (2, 6));
    assert_eq!(fleet.by_provider.len(), 1);
    assert_eq!(fleet.by_provider[0].burn_rate_per_hour, fleet.burn_rate_per_hour);
}

#[test]
fn the_catalog_is_read_once_a_minute_and_its_failure_never_fails_the_listing() {
    let records = vec![novita_record("a", "prod-h100", 1, "onDemand", "running", now_secs() - 60)];
    let t = novita_server(records.clone(), ok(&catalog()));
    let client = novita_client(&t);
    block_on(client.list_all(&FleetQuery::default())).unwrap();
    block_on(client.list_all(&FleetQuery::default())).unwrap();
    let catalog_reads = |t: &ScriptedTransport| t.urls().iter().filter(|u| u.ends_with("/products")).count();
    assert_eq!(catalog_reads(&t), 1, "the second listing within a minute reuses the catalog");
    t.set_now(START_MS + 60_000);
    block_on(client.list_all(&FleetQuery::default())).unwrap();
    assert_eq!(catalog_reads(&t), 2, "a minute later it is read again");

    // A catalog that fails (after retries) leaves every row, unpriced, with the reason.
    let t = novita_server(records, answer(500, r#"{"code":500,"reason":"INTERNAL","message":"boom"}"#));
    let listing = block_on(
        Client::new(
            &t,
            client_config(&[Provider::Novita]).with_retry(RetryPolicy { max_retries: 0, base_delay_ms: 1, max_delay_ms: 1 }),
        )
        .list_all(&FleetQuery::default()),
    )
    .unwrap();
    assert!(listing.errors.is_empty());
    let a = &listing.instances[0];
    assert!(a.price.is_none());
    assert!(a.price_note.as_deref().unwrap().starts_with("Novita's catalog could not be read"), "{:?}", a.price_note);
    assert_eq!(listing.cost.unwrap().unpriced_running, 1);
}

#[test]
fn a_configured_price_comes_first_and_fal_is_priced_only_from_the_table() {
    let table =
        PriceTable::from_json(&json!({ "novita": { "prod-h100": "3.00" }, "fal": { "gpu_1x_h100_sxm5": 3.99 } }), "prices")
            .unwrap();
    let records = vec![novita_record("a", "prod-h100", 2, "onDemand", "running", now_secs() - 3600)];
    let t = novita_server(records, ok(&catalog()));
    let client = Client::new(&t, client_config(&[Provider::Novita]).with_prices(table.clone()));
    let listing = block_on(client.list_all(&FleetQuery::default())).unwrap();
    let price = listing.instances[0].price.clone().unwrap();
    // The table prices the instance as configured (per instance-hour: it is your number).
    assert_eq!((price.micro_usd_per_hour, price.source), (3_000_000, PriceSource::Configured));
    assert!(t.urls().iter().all(|u| !u.ends_with("/products")), "a table price needs no catalog");

    let fal_page = r#"{"instances":[{"id":"inst_1","instance_type":"gpu_1x_h100_sxm5","status":"ready","created_at":"2023-11-14T21:13:20Z"},{"id":"inst_2","instance_type":"gpu_8x_h100_sxm5","status":"ready"}],"next_cursor":null,"has_more":false}"#;
    let t = ScriptedTransport::script(vec![answer(200, fal_page)]);
    let client = Client::new(&t, client_config(&[Provider::Fal]).with_prices(table));
    let listing = block_on(client.list_all(&FleetQuery::default())).unwrap();
    let one = &listing.instances[0];
    assert_eq!(one.price.as_ref().unwrap().micro_usd_per_hour, 3_990_000);
    // fal's list names no start time, so there is no cost so far rather than a guessed one.
    assert!(one.cost.is_none());
    let eight = &listing.instances[1];
    assert!(eight.price.is_none());
    assert!(eight.price_note.as_deref().unwrap().contains("prices[\"fal\"][\"gpu_8x_h100_sxm5\"]"), "{:?}", eight.price_note);
    assert_eq!(t.request_count(), 1, "fal has no price API to ask");
}

#[test]
fn sf_compute_rows_carry_the_order_book_quote_labelled_as_an_estimate() {
    let record = |id: &str, sku: &str| {
        json!({ "object": "instance", "id": id, "status": "running", "instance_sku": { "id": sku, "name": "8x H100" },
                "created_at": now_secs() - 7200 })
    };
    let t = ScriptedTransport::new(move |r| {
        if r.url.contains("/orderbook/quote?") {
            return if r.url.contains("isku_a") {
                ok(&json!({ "best_bid": null, "best_ask": { "dollars_per_node_hour": "16.000000" } }))
            } else {
                ok(&json!({ "best_bid": null, "best_ask": null }))
            };
        }
        ok(&json!({ "object": "list", "data": [record("i1", "isku_a"), record("i2", "isku_a"), record("i3", "isku_b")],
                    "has_more": false }))
    });
    let listing = block_on(Client::new(&t, client_config(&[Provider::Sfcompute])).list_all(&FleetQuery::default())).unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let quotes: Vec<String> = t.urls().into_iter().filter(|u| u.contains("/orderbook/quote?")).collect();
    assert_eq!(quotes.len(), 2, "one quote per SKU: {quotes:?}");
    let i1 = &listing.instances[0];
    if i1.offer_id.is_none() {
        // The record shape above is not one this version maps the SKU id from: nothing to price.
        panic!("SF Compute's instance_sku.id was not mapped: {:?}", i1.raw);
    }
    let price = i1.price.as_ref().unwrap();
    assert_eq!((price.micro_usd_per_hour, price.source), (16_000_000, PriceSource::Quote));
    assert!(price.basis.as_deref().unwrap().contains("an estimate"));
    let i3 = &listing.instances[2];
    assert!(i3.price.is_none());
    assert!(i3.price_note.as_deref().unwrap().contains("no ask"), "{:?}", i3.price_note);
}

#[test]
fn a_quote_that_is_negative_or_not_a_number_is_an_error_naming_the_field() {
    for bad in [json!("-1.00"), json!("cheap"), json!({}), json!("10000000.5")] {
        let body = json!({ "best_ask": { "dollars_per_node_hour": bad } }).to_string();
        let e = sfcompute::parse_quote_response(HttpResponse::new(200, body.into_bytes())).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("best_ask.dollars_per_node_hour"), "{bad}");
    }
    // An ask that is there but not a price level is an error too.
    for bad in [json!("14.00"), json!(14), json!([])] {
        let body = json!({ "best_ask": bad }).to_string();
        let e = sfcompute::parse_quote_response(HttpResponse::new(200, body.into_bytes())).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), (ErrorCode::Decode, Some("best_ask")), "{bad}");
    }
    let e = sfcompute::parse_quote_response(HttpResponse::new(200, b"[]".to_vec())).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("body"));
}

#[test]
fn a_quote_without_an_ask_is_no_price_not_an_error() {
    // SF Compute's docs: best_ask is null, or omitted, when no asks are resting.
    for body in [
        r#"{}"#,
        r#"null"#,
        r#"{"best_ask": null}"#,
        r#"{"requirements": {}, "start_at": 1700000040, "end_at": 1700003640, "best_bid": null}"#,
        r#"{"best_bid": {"instance_sku": "isku_b200x8000004", "dollars_per_node_hour": "26.400000"}}"#,
    ] {
        let quote = sfcompute::parse_quote_response(HttpResponse::new(200, body.as_bytes().to_vec()));
        assert_eq!(quote.unwrap_or_else(|e| panic!("{body}: {e}")), None, "{body}: no ask, no price");
    }
    let body = r#"{"best_ask": {"instance_sku": "isku_h100x8ib0001", "dollars_per_node_hour": "14.000000", "new_field": 1}}"#;
    assert_eq!(sfcompute::parse_quote_response(HttpResponse::new(200, body.as_bytes().to_vec())).unwrap(), Some(14_000_000));

    // On a row: an omitted best_ask leaves the instance unpriced with the reason, the listing whole.
    let t = ScriptedTransport::new(|r| {
        if r.url.contains("/orderbook/quote?") {
            return ok(
                &json!({ "requirements": { "instance_sku": ["isku_b"] }, "start_at": 0, "end_at": 3600, "requested_at": 0 }),
            );
        }
        ok(&json!({ "object": "list", "has_more": false, "data": [{ "object": "instance", "id": "i1", "status": "running",
                     "instance_sku": { "id": "isku_b", "name": "8x B200" }, "created_at": now_secs() - 60 }] }))
    });
    let listing = block_on(Client::new(&t, client_config(&[Provider::Sfcompute])).list_all(&FleetQuery::default())).unwrap();
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    let i1 = &listing.instances[0];
    assert_eq!((i1.price.is_none(), i1.cost.is_none()), (true, true));
    assert_eq!(i1.price_note.as_deref(), Some("no ask in SF Compute's order book for isku_b"));
}

// ---------------------------------------------------------------------------------------------
// Sums over a large fleet
// ---------------------------------------------------------------------------------------------

#[test]
fn ten_thousand_rows_sum_exactly_to_the_micro_dollar() {
    // Prices that floats cannot hold exactly ($0.1, $0.333333, …), over 10,000 running rows.
    let table_prices = ["0.1", "0.2", "0.333333", "2.49", "0.000001", "13.37"];
    let mut table = serde_json::Map::new();
    for (n, p) in table_prices.iter().enumerate() {
        table.insert(format!("type-{n}"), json!(p));
    }
    let table = PriceTable::from_json(&json!({ "novita": table }), "prices").unwrap();
    let mut instances: Vec<Instance> = (0..10_000)
        .map(|n| {
            let mut i = Instance::new(Provider::Novita, format!("i{n}"), Status::Running, "running");
            i.instance_type = Some(format!("type-{}", n % table_prices.len()));
            i.started_at = Some(gpufleet::provider::unix_seconds_to_iso(now_secs() - 7 - (n as i64 * 13) % 86_400));
            i
        })
        .collect();
    gpufleet::pricing::apply(&mut instances, &table, &Default::default(), now_secs());
    let fleet = FleetCost::of(&instances, &[Provider::Novita]);

    // The same sums, computed here independently in i128 from the decimal text.
    let micro = |text: &str| -> i128 {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        whole.parse::<i128>().unwrap() * 1_000_000 + format!("{frac:0<6}").parse::<i128>().unwrap()
    };
    let mut burn = 0i128;
    let mut cost = 0i128;
    for (n, _) in instances.iter().enumerate() {
        let per_hour = micro(table_prices[n % table_prices.len()]);
        let seconds = 7 + (n as i128 * 13) % 86_400;
        burn += per_hour;
        cost += (per_hour * seconds + 1800) / 3600;
    }
    assert_eq!(i128::from(fleet.burn_rate_per_hour.micro_usd), burn);
    assert_eq!(i128::from(fleet.cost_so_far.micro_usd), cost);
    assert_eq!((fleet.priced_running, fleet.unpriced_running), (10_000, 0));
    // And the dollars shown are those integers, not a float sum of the rows.
    assert_eq!(fleet.burn_rate_per_hour.usd, burn as f64 / 1e6);
}

// ---------------------------------------------------------------------------------------------
// Novita's billed cost
// ---------------------------------------------------------------------------------------------

fn novita_get_server(record: Value, bills: impl Fn(i64, i64) -> Answer + 'static) -> ScriptedTransport {
    ScriptedTransport::new(move |r| {
        if r.url.ends_with("/products") {
            return ok(&catalog());
        }
        if let Some(query) = r.url.strip_prefix("https://api.novita.ai/openapi/v1/billing/bill/list?") {
            let param = |name: &str| -> i64 {
                query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap().parse().unwrap()
            };
            assert!(query.contains("cycleType=Hour&productCategory=gpu&") && query.ends_with("ownerId=a"), "{query}");
            return bills(param("startTime"), param("endTime"));
        }
        assert!(r.url.starts_with(&format!("{NOVITA}/gpu/instance?")), "{}", r.url);
        ok(&record)
    })
}

const HOUR: i64 = 3600;

/// How a bill server may pick the bills of `[startTime, endTime]` (the docs do not say): by the
/// bill's start, by its end, or by overlap. Bills are `[start, start + 3599]`.
#[derive(Clone, Copy, Debug)]
enum Select {
    Start,
    End,
    Overlap,
}

impl Select {
    fn picks(self, bill_start: i64, q_start: i64, q_end: i64) -> bool {
        let bill_end = bill_start + HOUR - 1;
        match self {
            Select::Start => (q_start..=q_end).contains(&bill_start),
            Select::End => (q_start..=q_end).contains(&bill_end),
            Select::Overlap => bill_start <= q_end && bill_end >= q_start,
        }
    }
}

/// Novita's hourly bills for instance `a`: one of `amount` (1/10,000 USD) per hour from the hour
/// `from` to the hour holding `to`, and one of another owner's in every answer.
fn hourly_bills(from: i64, to: i64, amount: i64, select: Select) -> impl Fn(i64, i64) -> Answer {
    move |q_start, q_end| {
        let mut bills: Vec<Value> = (from.div_euclid(HOUR)..=to.div_euclid(HOUR))
            .map(|h| h * HOUR)
            .filter(|&h| select.picks(h, q_start, q_end))
            .map(|h| {
                json!({ "ownerID": "a", "startTime": h.to_string(), "endTime": (h + HOUR - 1).to_string(),
                             "amount": amount.to_string(), "voucherAmount": "0", "payAmount": amount.to_string() })
            })
            .collect();
        bills.push(json!({ "ownerID": "someone-else", "startTime": q_start.to_string(), "amount": "999999" }));
        ok(&json!({ "bills": bills }))
    }
}

/// The `(startTime, endTime)` of every bill query sent, in order.
fn bill_queries(t: &ScriptedTransport) -> Vec<(i64, i64)> {
    t.urls()
        .iter()
        .filter_map(|u| u.split_once("/bill/list?").map(|(_, q)| q.to_owned()))
        .map(|q| {
            let p = |name: &str| -> i64 {
                q.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap().parse().unwrap()
            };
            (p("startTime"), p("endTime"))
        })
        .collect()
}

#[test]
fn a_novita_get_carries_what_novita_billed() {
    // Created at 19:12:20, now 22:13:20: bills for 19:00, 20:00, 21:00 and 22:00 (pro rata).
    let started = now_secs() - 3 * HOUR;
    let created = started - 60;
    let record = novita_record("a", "prod-h100", 1, "onDemand", "running", started);
    let t = novita_get_server(record.clone(), hourly_bills(created, now_secs(), 24_900, Select::Start));
    let a = block_on(novita_client(&t).get(Provider::Novita, "a")).unwrap();
    // One window, of whole hours: from the hour the instance was created in to the end of this one.
    let first_hour = created - created.rem_euclid(HOUR);
    assert_eq!(first_hour, 1_699_988_400, "19:00:00");
    assert_eq!(bill_queries(&t), [(first_hour, first_hour + 4 * HOUR - 1)]);
    let cost = a.cost.unwrap();
    assert_eq!(
        (cost.amount.micro_usd, cost.kind),
        (4 * 2_490_000, CostKind::Billed),
        "four bills of $2.49, the hour it was created in included, another owner's not counted"
    );
    // Counted from the instance's creation: its first bill's hour began before it.
    assert_eq!(cost.since, gpufleet::provider::unix_seconds_to_iso(created));
    assert_eq!(cost.seconds, (now_secs() - created) as u64);
    assert_eq!(a.price.unwrap().micro_usd_per_hour, 2_490_000, "the price stays the catalog's");

    // No bill yet: the estimate stays. A bill query that fails: the estimate stays, and says so.
    let t = novita_get_server(record.clone(), |_, _| ok(&json!({ "bills": [] })));
    let a = block_on(novita_client(&t).get(Provider::Novita, "a")).unwrap();
    assert_eq!(a.cost.unwrap().kind, CostKind::Estimate);
    let t = novita_get_server(record.clone(), |_, _| ok(&json!({ "bills": [{ "ownerID": "a", "amount": "-5" }] })));
    let a = block_on(novita_client(&t).get(Provider::Novita, "a")).unwrap();
    assert_eq!(a.cost.unwrap().kind, CostKind::Estimate, "a negative bill is never summed");
    assert!(a.price_note.unwrap().contains("bills could not be read"));
}

#[test]
fn an_old_instance_is_billed_in_31_day_windows_of_whole_hours() {
    let now = now_secs();
    let created = now - 40 * 86_400 + 1234; // not on an hour
    let mut record = novita_record("a", "prod-h100", 1, "onDemand", "running", created + 60);
    record["createdAt"] = json!(created.to_string());
    let first = created - created.rem_euclid(HOUR);
    let end = now - now.rem_euclid(HOUR) + HOUR; // the end of the current hour
    let split = first + novita::BILL_WINDOW_SECS;
    let hours = (end - first) / HOUR;
    // However the server picks bills for a range, each is summed once: none lost at a window's
    // edge, none counted in two windows.
    for select in [Select::Start, Select::End, Select::Overlap] {
        let t = novita_get_server(record.clone(), hourly_bills(created, now, 100, select));
        let a = block_on(novita_client(&t).get(Provider::Novita, "a")).unwrap();
        assert_eq!(bill_queries(&t), [(split, end - 1), (first, split - 1)], "newest first, {select:?}");
        let cost = a.cost.unwrap();
        assert_eq!(cost.amount.micro_usd, hours * 10_000, "{select:?}: {hours} hourly bills of $0.01, each once");
        assert_eq!(cost.since, gpufleet::provider::unix_seconds_to_iso(created));
    }
}

#[test]
fn bill_windows_are_whole_hours_newest_first_and_at_most_the_maximum() {
    let w = novita::BILL_WINDOW_SECS;
    let h = |n: i64| n * HOUR;
    // Created and asked within one hour: that hour.
    assert_eq!(novita::bill_windows(h(10) + 5, h(10) + 50, 12), [(h(10), h(11) - 1)]);
    // Now exactly on the hour: the hour that just ended is the last.
    assert_eq!(novita::bill_windows(h(10) + 5, h(12), 12), [(h(10), h(12) - 1)]);
    // Exactly one window long, then a second hour over.
    assert_eq!(novita::bill_windows(h(10), h(10) + w, 12), [(h(10), h(10) + w - 1)]);
    assert_eq!(novita::bill_windows(h(10), h(10) + w + 1, 12), [(h(10) + w, h(11) + w - 1), (h(10), h(10) + w - 1)]);
    // Older than the maximum: the newest windows only, still on the same grid.
    let windows = novita::bill_windows(h(1), h(1) + 400 * 86_400, 12);
    assert_eq!(windows.len(), 12);
    for (i, &(start, end)) in windows.iter().enumerate() {
        assert_eq!((start - h(1)) % w, 0, "{i}: on the grid from the creation hour");
        assert_eq!((start % HOUR, (end + 1) % HOUR), (0, 0), "{i}: whole hours");
        assert!(end - start < w, "{i}: at most 31 days");
        if let Some(&(newer, _)) = i.checked_sub(1).map(|j| &windows[j]) {
            assert_eq!(end + 1, newer, "{i}: contiguous");
        }
    }
    // Nothing to ask: created after now (a later hour), or a bad time.
    assert!(novita::bill_windows(h(12), h(11), 12).is_empty());
    assert!(novita::bill_windows(h(10), h(11), 0).is_empty());
    assert_eq!(novita::bill_windows(-500, 100, 12), [(0, HOUR - 1)], "before 1970 counts from 1970");
    assert!(novita::bill_windows(i64::MAX - 10, i64::MAX, 12).len() <= 1, "no overflow");
    assert!(novita::bill_windows(0, i64::MAX, 2).len() == 2, "no overflow");
    for (start, end) in novita::bill_windows(h(1), h(1) + 400 * 86_400, 12) {
        assert!(novita::build_bill_request("a", start, end, &provider_config(Provider::Novita)).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// Balances and offers
// ---------------------------------------------------------------------------------------------

#[test]
fn balances_are_converted_exactly_and_one_failure_leaves_the_others() {
    let t = ScriptedTransport::new(|r| {
        if r.url.ends_with("/account/billing?expand=credits") {
            ok(&json!({ "username": "dev", "credits": { "current_balance": 123.45, "currency": "USD" } }))
        } else if r.url.ends_with("/billing/balance/detail") {
            ok(&json!({ "availableBalance": "5000001", "cashBalance": "4000000", "creditLimit": "0", "pendingCharges": "1" }))
        } else if r.url.ends_with("/v1/balances") {
            answer(401, r#"{"error":{"type":"authentication_error","message":"bad token"}}"#)
        } else {
            panic!("unexpected {}", r.url)
        }
    });
    let client = Client::new(&t, client_config(&[Provider::Fal, Provider::Novita, Provider::Sfcompute]));
    let listing = block_on(client.balances()).unwrap();
    let of = |p: Provider| listing.balances.iter().find(|b| b.provider == p).unwrap();
    assert_eq!(of(Provider::Fal).available.micro_usd, 123_450_000);
    let n = of(Provider::Novita);
    assert_eq!(n.available.micro_usd, 500_000_100, "5,000,001 × $0.0001");
    assert_eq!(n.details["cashBalance"].micro_usd, 400_000_000);
    assert_eq!(n.details["pendingCharges"].micro_usd, 100);
    assert_eq!(listing.errors.len(), 1);
    assert_eq!((listing.errors[0].provider, listing.errors[0].error.code), (Provider::Sfcompute, ErrorCode::Unauthorized));
    let all = format!("{listing:?}");
    for p in [Provider::Fal, Provider::Novita, Provider::Sfcompute] {
        assert!(!all.contains(key(p)), "a key leaked into the balances");
    }

    let euro = r#"{"credits":{"current_balance":10,"currency":"EUR"}}"#;
    assert!(fal::parse_balance_response(
        HttpResponse::new(200, euro.as_bytes().to_vec()).with_header("content-type", "application/json")
    )
    .is_err());
    assert!(!t.urls().iter().any(|u| u.ends_with("/v0/balance")), "a 401 from v1 is not retried on v0");
    let bad = r#"{"availableBalance": "12.5"}"#;
    let e = novita::parse_balance_response(HttpResponse::new(200, bad.as_bytes().to_vec())).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("availableBalance"));
}

#[test]
fn sf_compute_balances_read_in_every_shape() {
    let sfc_balance = |body: &str| sfcompute::parse_balance_response(HttpResponse::new(200, body.as_bytes().to_vec()));
    let details = |b: &Balance| -> Vec<(String, i64)> { b.details.iter().map(|(k, m)| (k.clone(), m.micro_usd)).collect() };
    // GET /v1/balances (GetBalanceResponse, as the simulator serves it), cents.
    let v1 = r#"{"object":"balances","available_balance_cents":1000000,"current_balance_cents":999950,
                 "current_overage_cents":0,"overage_limit_cents":5000,"updated_at":1793491200,"new_field":{"x":1}}"#;
    let b = sfc_balance(v1).unwrap();
    assert_eq!((b.provider, b.available.micro_usd, b.currency.as_str()), (Provider::Sfcompute, 10_000_000_000, "USD"));
    assert_eq!(details(&b), [("current".into(), 9_999_500_000), ("overage".into(), 0), ("overageLimit".into(), 50_000_000)]);
    assert_eq!(b.raw["new_field"], json!({ "x": 1 }), "unknown fields survive in raw");
    // The names in v1's operation example.
    let b = sfc_balance(r#"{"available_cents": 1234, "current_cents": "2000", "current_hold_cents": 66}"#).unwrap();
    assert_eq!(b.available.micro_usd, 12_340_000);
    assert_eq!(details(&b), [("current".into(), 20_000_000), ("hold".into(), 660_000)]);
    // GET /v0/balance.
    let v0 = r#"{"object":"balance","available":{"amount":1999,"currency":"usd"},"reserved":{"amount":1,"currency":"usd"}}"#;
    let b = sfc_balance(v0).unwrap();
    assert_eq!((b.available.micro_usd, details(&b)), (19_990_000, vec![("reserved".into(), 10_000)]));

    // Bad input: an error naming the field and the rule, never a panic or a wrong amount.
    for (body, field) in [
        (r#"{}"#, "available_balance_cents"),
        (r#"{"available_balance_cents": null}"#, "available_balance_cents"),
        (r#"{"available_balance_cents": 12.5}"#, "available_balance_cents"),
        (r#"{"available_balance_cents": "lots"}"#, "available_balance_cents"),
        (r#"{"available_balance_cents": 92233720368547758}"#, "available_balance_cents"),
        (r#"{"available_balance_cents": 1, "current_overage_cents": true}"#, "current_overage_cents"),
        (r#"{"available": {"amount": 1, "currency": "eur"}}"#, "available.currency"),
        (r#"{"available": {"amount": 1}, "reserved": {"amount": 1, "currency": 7}}"#, "reserved.currency"),
        (r#"{"available": {"amount": []}}"#, "available.amount"),
        (r#"[1]"#, "body"),
        (r#"null"#, "body"),
    ] {
        let e = sfc_balance(body).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), (ErrorCode::Decode, Some(field)), "{body}: {}", e.message);
        assert!(e.message.contains(field), "{}", e.message);
    }
}

#[test]
fn the_sf_compute_balance_falls_back_to_v0_only_when_v1_is_not_there() {
    let v0 = r#"{"object":"balance","available":{"amount":250,"currency":"usd"},"reserved":{"amount":0,"currency":"usd"}}"#;
    let not_found = r#"{"error":{"type":"not_found","message":"Not found"}}"#;
    let server = |v1: Answer, v0: Answer| {
        ScriptedTransport::new(move |r| match r.url.as_str() {
            "https://api.sfcompute.com/v1/balances" => v1.clone(),
            "https://api.sfcompute.com/v0/balance" => v0.clone(),
            other => panic!("unexpected {other}"),
        })
    };
    let no_retry =
        || client_config(&[Provider::Sfcompute]).with_retry(RetryPolicy { max_retries: 0, base_delay_ms: 1, max_delay_ms: 1 });
    let balances = |t: &ScriptedTransport| block_on(Client::new(t, no_retry()).balances()).unwrap();

    // v1 answers: v0 is never asked.
    let t = server(ok(&json!({ "available_balance_cents": 100, "current_balance_cents": 100 })), answer(500, "{}"));
    let listing = balances(&t);
    assert_eq!(listing.balances[0].available.micro_usd, 1_000_000);
    assert_eq!(t.urls(), ["https://api.sfcompute.com/v1/balances"]);

    // v1 is not there (404): v0 is read.
    let t = server(answer(404, not_found), answer(200, v0));
    let listing = balances(&t);
    assert!(listing.errors.is_empty(), "{:?}", listing.errors);
    assert_eq!(listing.balances[0].available.micro_usd, 2_500_000);
    assert_eq!(t.urls(), ["https://api.sfcompute.com/v1/balances", "https://api.sfcompute.com/v0/balance"]);

    // Neither: v0's error, saying v1 was tried.
    let t = server(answer(404, not_found), answer(404, not_found));
    let listing = balances(&t);
    let e = &listing.errors[0].error;
    assert_eq!((listing.errors[0].provider, e.code), (Provider::Sfcompute, ErrorCode::NotFound));
    assert!(e.message.contains("after GET /v1/balances answered 404"), "{}", e.message);

    // Any other failure of v1 is the answer (a 500, a bad body): v0 would not mend it.
    for v1 in [answer(500, r#"{"error":{"type":"api_error","message":"boom"}}"#), ok(&json!({ "object": "balances" }))] {
        let t = server(v1, answer(200, v0));
        let listing = balances(&t);
        assert_eq!(listing.errors.len(), 1);
        assert_eq!(t.urls(), ["https://api.sfcompute.com/v1/balances"]);
    }
}

#[test]
fn novita_offers_keep_spot_and_on_demand_apart() {
    let t = novita_server(vec![], ok(&catalog()));
    let listing = block_on(novita_client(&t).offers(Some(Provider::Novita))).unwrap();
    let summary: Vec<(String, BillingMode, Option<i64>, Option<bool>)> = listing
        .offers
        .iter()
        .map(|o| (o.id.clone(), o.billing.clone(), o.price.as_ref().map(|p| p.micro_usd_per_hour), o.available))
        .collect();
    assert_eq!(
        summary,
        [
            ("prod-h100".into(), BillingMode::OnDemand, Some(2_490_000), Some(true)),
            ("prod-h100".into(), BillingMode::Spot, Some(1_250_000), Some(true)),
            ("prod-4090".into(), BillingMode::OnDemand, Some(350_000), Some(false)),
            ("prod-odd".into(), BillingMode::OnDemand, None, None),
        ]
    );
    let h100 = &listing.offers[0];
    assert_eq!(h100.regions, ["us-ca-01", "eu-de-01"]);
    assert_eq!(h100.unit, OfferUnit::Gpu);
    assert!(listing.offers[3].price_note.as_deref().unwrap().contains("not shown"));
    // Cached like the rows' prices: a second call within the minute sends nothing.
    block_on(novita_client(&t).offers(Some(Provider::Novita))).unwrap();
    assert_eq!(t.request_count(), 2, "two clients of two configs: each reads once");
}

#[test]
fn fal_offers_are_its_instance_types_with_the_prices_you_set() {
    let t = ScriptedTransport::unreachable();
    let table = PriceTable::from_json(&json!({ "fal": { "gpu_1x_h100_sxm5": "3.99" } }), "prices").unwrap();
    let client = Client::new(&t, client_config(&[Provider::Fal]).with_prices(table));
    let listing = block_on(client.offers(Some(Provider::Fal))).unwrap();
    let h100 = listing.offers.iter().find(|o| o.id == "gpu_1x_h100_sxm5").unwrap();
    assert_eq!(h100.price.as_ref().map(|p| (p.micro_usd_per_hour, p.source)), Some((3_990_000, PriceSource::Configured)));
    assert_eq!(h100.gpu_count, Some(1));
    let eight = listing.offers.iter().find(|o| o.id == "gpu_8x_h100_sxm5").unwrap();
    assert!(eight.price.is_none() && eight.price_note.is_some());
    // An unconfigured provider is refused by name.
    assert_eq!(block_on(client.offers(Some(Provider::Novita))).unwrap_err().code, ErrorCode::InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------------

#[test]
fn the_proxy_routes_offers_and_balances_and_refuses_a_bad_query() {
    use gpufleet::proxy::api::{parse_route, Route};
    assert_eq!(parse_route("GET", "/api/v1/offers", ""), Ok(Route::Offers(None)));
    assert_eq!(parse_route("GET", "/api/v1/offers", "provider=novita"), Ok(Route::Offers(Some(Provider::Novita))));
    assert_eq!(parse_route("GET", "/api/v1/balances", ""), Ok(Route::Balances));
    assert!(parse_route("GET", "/api/v1/offers", "provider=aws").is_err());
    assert!(parse_route("GET", "/api/v1/offers", "limit=3").is_err());
    assert!(parse_route("GET", "/api/v1/balances", "provider=fal").is_err());
    assert!(parse_route("POST", "/api/v1/offers", "").is_err());
}

mod proxy_side {
    use super::*;
    use gpufleet::proxy::{ProxyRequest, RateLimiter};
    use support::proxy_env::{proxy, RO_TOKEN, SECRETS};

    fn run(extra: &[(&str, &str)], path: &str, t: &ScriptedTransport) -> (u16, Value) {
        let p = proxy(extra);
        let req = ProxyRequest::new("GET", &format!("https://fleet.example.com{path}"))
            .header("Authorization", &format!("Bearer {RO_TOKEN}"));
        let r = block_on(p.handle(req, t, &mut RateLimiter::new()));
        let text = String::from_utf8_lossy(&r.body).into_owned();
        for s in SECRETS {
            assert!(!text.contains(s), "secret in {text}");
        }
        (r.status, serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn the_read_only_token_reads_offers_balances_and_priced_lists() {
        let prices = r#"{"fal":{"gpu_1x_h100_sxm5":"3.99"}}"#;
        let fal_page = r#"{"instances":[{"id":"inst_1","instance_type":"gpu_1x_h100_sxm5","status":"ready"}],"next_cursor":null,"has_more":false}"#;
        let t = ScriptedTransport::new(move |r| {
            if r.url.contains("/account/billing") {
                ok(&json!({ "credits": { "current_balance": 50, "currency": "USD" } }))
            } else {
                answer(200, fal_page)
            }
        });
        let only_fal = [("GPUFLEET_PRICES", prices), ("SFC_TOKEN", ""), ("NOVITA_API_KEY", "")];
        let (status, offers) = run(&only_fal, "/api/v1/offers?provider=fal", &t);
        assert_eq!(status, 200, "{offers}");
        let h100 = offers["offers"].as_array().unwrap().iter().find(|o| o["id"] == "gpu_1x_h100_sxm5").unwrap();
        assert_eq!(h100["price"]["microUsdPerHour"], 3_990_000);
        assert_eq!(h100["price"]["source"], "configured");

        let (status, balances) = run(&only_fal, "/api/v1/balances", &t);
        assert_eq!(status, 200, "{balances}");
        assert_eq!(balances["balances"][0]["available"]["microUsd"], 50_000_000);

        let (status, list) = run(&only_fal, "/api/v1/instances?provider=fal", &t);
        assert_eq!(status, 200, "{list}");
        assert_eq!(list["instances"][0]["price"]["usdPerHour"], 3.99);
        let (_, fleet) = run(&only_fal, "/api/v1/instances", &t);
        assert_eq!(fleet["cost"]["burnRatePerHour"]["microUsd"], 3_990_000, "{fleet}");

        let (status, bad) = run(&only_fal, "/api/v1/offers?provider=nope", &t);
        assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("invalidInput")));
    }

    #[test]
    fn a_bad_price_variable_is_a_health_warning_and_no_prices() {
        let t = ScriptedTransport::unreachable();
        let p = proxy(&[("GPUFLEET_PRICES", r#"{"fal":{"gpu_1x_h100_sxm5":-3}}"#)]);
        let r = block_on(p.handle(ProxyRequest::new("GET", "https://fleet.example.com/healthz"), &t, &mut RateLimiter::new()));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let warnings = body["warnings"].to_string();
        assert!(
            warnings.contains("GPUFLEET_PRICES ignored") && warnings.contains("GPUFLEET_PRICES.fal.gpu_1x_h100_sxm5"),
            "{body}"
        );
        let p = proxy(&[("GPUFLEET_PRICES", "not json")]);
        let r = block_on(p.handle(ProxyRequest::new("GET", "https://fleet.example.com/healthz"), &t, &mut RateLimiter::new()));
        assert!(String::from_utf8_lossy(&r.body).contains("must be JSON"));
    }
}
