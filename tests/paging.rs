//! Novita's bounded-parallel page fetch (`Client::list_all_pages`): exact requests, order,
//! de-duplication, a total that grows or shrinks, the page cap, failures, and the number of
//! requests in flight, with a transport whose replies take a few polls (so futures overlap
//! without threads or a runtime).

mod support;

use std::cell::Cell;

use futures::executor::block_on;
use gpufleet::provider::novita;
use gpufleet::*;
use serde_json::{json, Value};
use support::fixtures::client_config;
use support::scripted::ScriptedTransport;

const BASE: &str = "https://api.novita.ai/gpu-instance/openapi/v1";

/// Answers a Novita list request from `(pageSize, pageNum)`; each reply takes a few polls, and
/// the transport records every URL in the order sent and the most requests ever in flight.
fn slow(respond: impl Fn(u32, u32) -> HttpResponse + 'static) -> ScriptedTransport {
    ScriptedTransport::new(move |request| {
        assert_eq!(request.method, Method::Get);
        assert!(request.url.starts_with(&format!("{BASE}/gpu/instances?")), "{}", request.url);
        // These servers count from 1 and serve `pageNum=0` as page 1 (the simulator's default);
        // `modes_*` below cover the other numberings and page sizes.
        Ok(respond(param(&request.url, "pageSize"), param(&request.url, "pageNum").max(1)))
    })
    .with_polls(3)
}

/// The `pageNum` of every request, in order (the first is 0: see `Client::list_page`).
fn page_numbers(t: &ScriptedTransport) -> Vec<u32> {
    t.urls().iter().map(|u| param(u, "pageNum")).collect()
}

fn param(url: &str, name: &str) -> u32 {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

fn body(ids: impl IntoIterator<Item = String>, total: Option<Value>) -> HttpResponse {
    let items: Vec<Value> = ids.into_iter().map(|id| json!({"id": id, "status": "running"})).collect();
    let mut b = json!({ "instances": items });
    if let Some(t) = total {
        b["total"] = t;
    }
    HttpResponse::new(200, serde_json::to_vec(&b).unwrap()).with_header("content-type", "application/json")
}

/// A fleet of `n` instances `n0000…`, served `size` per page, reporting `total` = `n`.
fn fleet(n: u32) -> impl Fn(u32, u32) -> HttpResponse {
    move |size, num| {
        let start = (num - 1) * size;
        let end = (start + size).min(n);
        body((start..end).map(|i| format!("n{i:05}")), Some(json!(n)))
    }
}

fn client(t: &ScriptedTransport, concurrency: Option<u32>) -> Client<&ScriptedTransport> {
    let mut config =
        client_config(&[Provider::Novita]).with_retry(RetryPolicy { max_retries: 2, base_delay_ms: 1, max_delay_ms: 1 });
    config.page_concurrency = concurrency;
    Client::new(t, config)
}

fn novita(limit: Option<u32>) -> ListQuery {
    ListQuery::Novita(NovitaListQuery { limit, ..Default::default() })
}

fn ids(all: &[Instance]) -> Vec<String> {
    all.iter().map(|i| i.id.clone()).collect()
}

fn expected(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("n{i:05}")).collect()
}

#[test]
fn after_the_first_page_the_rest_are_fetched_eight_at_a_time_in_order() {
    let t = slow(fleet(950));
    let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..950), "every instance once, in page order");
    // Exactly pages 1..=10, the first alone, each once, with the documented query.
    let urls = t.urls();
    // pageNum=0 first, then 1 (the same ids: pages count from 1), then 2..=10.
    assert_eq!(urls[0], format!("{BASE}/gpu/instances?pageSize=100&pageNum=0"));
    let expected_urls: Vec<String> = (0..=10).map(|n| format!("{BASE}/gpu/instances?pageSize=100&pageNum={n}")).collect();
    assert_eq!(urls, expected_urls, "requests are issued in page order");
    assert_eq!(t.max_in_flight(), DEFAULT_PAGE_CONCURRENCY as usize, "at most 8 in flight, and 8 were");
}

#[test]
fn concurrency_is_configurable_and_one_means_sequential() {
    for (c, max) in [(1, 1), (3, 3), (64, 9)] {
        let t = slow(fleet(500));
        let all = block_on(client(&t, Some(c)).list_all_pages(novita(Some(50)))).unwrap();
        assert_eq!(ids(&all), expected(0..500), "concurrency {c}");
        assert_eq!(page_numbers(&t), (0..=10).collect::<Vec<_>>(), "concurrency {c}");
        assert_eq!(t.max_in_flight(), max, "concurrency {c}: 9 pages remain after the first");
    }
    let bad = ClientConfig::new().with_page_concurrency(0);
    assert_eq!(bad.validate().unwrap_err().field.as_deref(), Some("pageConcurrency"));
    assert!(ClientConfig::new().with_page_concurrency(65).validate().is_err());
    assert!(ClientConfig::new().with_page_concurrency(64).validate().is_ok());
}

#[test]
fn the_default_page_size_plans_from_total() {
    let t = slow(fleet(101));
    let all = block_on(client(&t, None).list_all_pages(novita(None))).unwrap();
    assert_eq!(ids(&all), expected(0..101));
    assert_eq!(page_numbers(&t), [0, 1, 2, 3], "50 per page by default");
    assert!(t.urls().iter().all(|u| u.contains("pageSize=50&")));
}

#[test]
fn a_single_page_or_an_empty_fleet_sends_one_request() {
    for n in [0, 1, 100] {
        let t = slow(fleet(n));
        let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
        assert_eq!(all.len(), n as usize);
        assert_eq!(page_numbers(&t), [0], "one page: nothing to learn, nothing more sent");
    }
}

#[test]
fn instances_shifted_onto_the_next_page_are_listed_once() {
    // One instance was created at the front after page 1 was read: later pages see 301
    // instances, each page starting with the last instance of the page before it, and the
    // grown total adds a page 4 holding the last one.
    let t = slow(|size, num| {
        if num == 1 {
            return fleet(300)(size, num); // pageNum 0 and 1: before the create
        }
        let shifted: Vec<String> = std::iter::once("new".to_owned()).chain(expected(0..300)).collect();
        let start = ((num - 1) * size) as usize;
        let end = (start + size as usize).min(shifted.len());
        body(shifted[start..end].to_vec(), Some(json!(301)))
    });
    let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..300), "no id twice, order kept");
    assert_eq!(page_numbers(&t), [0, 1, 2, 3, 4]);
}

#[test]
fn a_total_that_grows_while_listing_fetches_the_added_pages() {
    // First page says 250 (3 pages of 100); from page 2 on the fleet has 430 (5 pages).
    let t = slow(|size, num| {
        let n = if num == 1 { 250 } else { 430 };
        fleet(n)(size, num)
    });
    let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..430));
    assert_eq!(page_numbers(&t), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn an_empty_page_before_the_total_ends_the_listing() {
    // The total says 1000 but the fleet shrank to 250: page 4 is empty.
    let t = slow(|size, num| {
        let start = (num - 1) * size;
        let end = (start + size).min(250);
        body((start..end.max(start)).map(|i| format!("n{i:05}")), Some(json!(1000)))
    });
    let all = block_on(client(&t, Some(2)).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..250));
    // With 2 in flight, page 5 may have been requested beside page 4; nothing after it.
    let pages = page_numbers(&t);
    assert!(pages == [0, 1, 2, 3, 4, 5] || pages == [0, 1, 2, 3, 4], "{pages:?}");
}

#[test]
fn without_a_total_the_pages_are_walked_one_at_a_time() {
    let t = slow(|size, num| {
        let start = (num - 1) * size;
        let end = (start + size).min(230);
        body((start..end).map(|i| format!("n{i:05}")), None)
    });
    let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..230));
    assert_eq!(page_numbers(&t), [0, 1, 2, 3]);
    assert_eq!(t.max_in_flight(), 1);
}

#[test]
fn the_page_cap_sends_no_request_past_it() {
    let t = slow(fleet(1000));
    let mut config = client_config(&[Provider::Novita]);
    config.max_pages = Some(4);
    let err = block_on(Client::new(&t, config).list_all_pages(novita(Some(100)))).unwrap_err();
    assert!(err.message.contains("loop guard"), "{}", err.message);
    assert_eq!(err.provider, Some(Provider::Novita));
    assert_eq!(page_numbers(&t), [0, 1, 2, 3, 4], "pages 1–4 (0 and 1 are the same page)");
}

#[test]
fn a_bogus_huge_total_stops_at_the_first_empty_page() {
    let t = slow(|size, num| {
        let start = (num - 1) * size;
        let end = (start + size).min(120);
        body((start..end.max(start)).map(|i| format!("n{i:05}")), Some(json!(u64::MAX)))
    });
    let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..120));
    assert!(page_numbers(&t).len() <= 2 + 8, "pages 0 and 1, then at most one window past the end: {:?}", page_numbers(&t));
}

#[test]
fn a_page_that_keeps_failing_fails_the_listing() {
    let t = slow(|size, num| {
        if num == 4 {
            HttpResponse::new(400, br#"{"code":400,"reason":"BAD_PAGE","message":"bad page"}"#.to_vec())
        } else {
            fleet(1000)(size, num)
        }
    });
    let err = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation, "{err}");
    assert_eq!(err.provider, Some(Provider::Novita));
}

#[test]
fn a_retried_page_keeps_its_place() {
    let calls = Cell::new(0u32);
    let t = slow(move |size, num| {
        if num == 3 && calls.replace(calls.get() + 1) < 2 {
            return HttpResponse::new(503, b"busy".to_vec());
        }
        fleet(800)(size, num)
    });
    let all = block_on(client(&t, None).list_all_pages(novita(Some(100)))).unwrap();
    assert_eq!(ids(&all), expected(0..800));
    let pages = page_numbers(&t);
    assert_eq!(pages.iter().filter(|&&p| p == 3).count(), 3, "page 3 retried twice: {pages:?}");
    assert_eq!(pages.len(), 11);
}

#[test]
fn other_providers_still_walk_one_page_at_a_time() {
    // fal pages are cursor-chained: no parallel plan is possible; the walk is unchanged.
    let t = ScriptedTransport::new(|request| {
        let body = if request.url.contains("cursor=") {
            r#"{"instances":[{"id":"b","instance_type":"t","status":"ready"}],"next_cursor":null,"has_more":false}"#
        } else {
            r#"{"instances":[{"id":"a","instance_type":"t","status":"ready"}],"next_cursor":"Mg==","has_more":true}"#
        };
        Ok(HttpResponse::new(200, body.as_bytes().to_vec()))
    });
    let config = client_config(&[Provider::Fal]);
    let all = block_on(Client::new(&t, config).list_all_pages(ListQuery::first_page(Provider::Fal))).unwrap();
    assert_eq!(ids(&all), ["a", "b"]);
    assert_eq!(t.request_count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Every plausible Novita server: page numbering × page size × total, each walk exact
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Numbering {
    /// `pageNum=0` is the first page.
    Zero,
    /// Counts from 1; 0 is served as page 1.
    One,
    /// Counts from 1; 0 is refused with 400 `VALIDATOR_PARAM`.
    OneStrict,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Size {
    Honoured,
    /// Serves at most this many, silently.
    Cap(u32),
    /// Ignores `pageSize`.
    Fixed(u32),
}

/// A Novita-compatible server that differs only in the points Novita leaves open.
#[derive(Clone, Copy)]
struct Server {
    n: u32,
    numbering: Numbering,
    size: Size,
    total: bool,
}

impl Server {
    fn new(n: u32, numbering: Numbering, size: Size, total: bool) -> Server {
        Server { n, numbering, size, total }
    }

    /// A transport that this server answers, each reply after a few polls.
    fn transport(self) -> ScriptedTransport {
        ScriptedTransport::new(move |request| Ok(self.answer(request))).with_polls(2)
    }

    fn served(&self, asked: u32) -> u32 {
        match self.size {
            Size::Honoured => asked,
            Size::Cap(c) => asked.min(c),
            Size::Fixed(f) => f,
        }
    }

    /// The last pageNum that holds anything.
    fn last_page(&self, asked: u32) -> u32 {
        let first = if self.numbering == Numbering::Zero { 0 } else { 1 };
        first + self.n.div_ceil(self.served(asked)).max(1) - 1
    }

    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let num = param(&request.url, "pageNum");
        let index = match (self.numbering, num) {
            (Numbering::OneStrict, 0) => {
                let body = br#"{"code":400,"reason":"VALIDATOR_PARAM","message":"pageNum must be >= 1","metadata":{}}"#;
                return HttpResponse::new(400, body.to_vec());
            }
            (Numbering::Zero, n) => n,
            (_, n) => n.max(1) - 1,
        };
        let served = self.served(param(&request.url, "pageSize"));
        let start = (index * served).min(self.n);
        let end = (start + served).min(self.n);
        body((start..end).map(|i| format!("n{i:05}")), self.total.then(|| json!(self.n)))
    }
}

fn modes() -> Vec<(Numbering, Size, bool)> {
    let mut out = Vec::new();
    for numbering in [Numbering::Zero, Numbering::One, Numbering::OneStrict] {
        for size in [Size::Honoured, Size::Cap(20), Size::Fixed(25), Size::Fixed(150)] {
            for total in [true, false] {
                out.push((numbering, size, total));
            }
        }
    }
    out
}

fn mode_client(t: &ScriptedTransport, concurrency: u32) -> Client<&ScriptedTransport> {
    let config = client_config(&[Provider::Novita]).with_page_concurrency(concurrency);
    Client::new(t, config)
}

#[test]
fn modes_every_walk_returns_exactly_the_fleet_with_no_request_past_the_last_page() {
    for (numbering, size, total) in modes() {
        for n in [0, 1, 19, 45, 100, 333] {
            for concurrency in [1, 8] {
                let server = Server::new(n, numbering, size, total);
                let t = server.transport();
                let what = format!("{numbering:?} {size:?} total={total} n={n} concurrency={concurrency}");
                let all = block_on(mode_client(&t, concurrency).list_all_pages(novita(Some(100)))).expect(&what);
                assert_eq!(ids(&all), expected(0..n), "{what}");
                let pages = page_numbers(&t);
                let last = server.last_page(100);
                // Without a total the walk must see one empty page (or a short one) to stop.
                let allowed = if total { last } else { last + 1 };
                assert!(pages.iter().all(|p| *p < allowed + concurrency), "{what}: {pages:?}");
                let mut distinct = pages.clone();
                distinct.sort();
                distinct.dedup();
                if concurrency == 1 {
                    assert_eq!(distinct.len(), pages.len(), "{what}: no page asked twice: {pages:?}");
                }
                // What it costs: the pages, plus at most one request to tell the numbering apart.
                let needed = (last + 1 - if numbering == Numbering::Zero { 0 } else { 1 }) as usize;
                let extra = pages.len() as i64 - needed as i64;
                assert!(extra <= if total { 1 } else { 2 } + (concurrency as i64 - 1), "{what}: {pages:?}");
            }
        }
    }
}

#[test]
fn modes_list_page_and_next_cursor_walk_exactly_and_has_more_is_right_on_every_page() {
    for (numbering, size, total) in modes() {
        for n in [0, 7, 45, 333] {
            let t = Server::new(n, numbering, size, total).transport();
            let what = format!("{numbering:?} {size:?} total={total} n={n}");
            let client = mode_client(&t, 8);
            let mut query = novita(Some(100));
            let mut seen = Vec::new();
            for _ in 0..100 {
                let page = block_on(client.list_page(&query)).expect(&what);
                seen.extend(page.items.iter().map(|i| i.id.clone()));
                assert_eq!(page.has_more, page.next_cursor.is_some(), "{what}");
                if !page.has_more {
                    break;
                }
                // hasMore promises a page with something on it, except where no total can say.
                if total {
                    assert!(seen.len() < n as usize, "{what}: hasMore after every instance ({})", seen.len());
                }
                query = query.with_cursor(page.next_cursor);
            }
            let mut unique = seen.clone();
            unique.dedup();
            assert_eq!(seen, expected(0..n), "{what}");
            assert_eq!(unique.len(), seen.len(), "{what}");
        }
    }
}

#[test]
fn modes_the_numbering_is_learned_once_per_config() {
    for numbering in [Numbering::Zero, Numbering::One, Numbering::OneStrict] {
        let t = Server::new(250, numbering, Size::Honoured, true).transport();
        let client = mode_client(&t, 8);
        assert_eq!(client.config().novita_numbering.get(), None);
        block_on(client.list_all_pages(novita(Some(100)))).unwrap();
        let learned = client.config().novita_numbering.get();
        let expected_numbering = match numbering {
            Numbering::Zero => novita::Numbering::FromZero,
            Numbering::One => novita::Numbering::FromOne,
            Numbering::OneStrict => novita::Numbering::FromOneRefusingZero,
        };
        assert_eq!(learned, Some(expected_numbering), "{numbering:?}");
        let first_walk = page_numbers(&t);
        let expect_first = match numbering {
            Numbering::Zero => vec![0, 1, 2],
            Numbering::One => vec![0, 1, 2, 3],
            Numbering::OneStrict => vec![0, 1, 2, 3],
        };
        assert_eq!(first_walk, expect_first, "{numbering:?}: the first walk learns");
        t.take_requests();
        let all = block_on(client.list_all_pages(novita(Some(100)))).unwrap();
        assert_eq!(ids(&all), expected(0..250));
        let again = match numbering {
            Numbering::Zero => vec![0, 1, 2],
            _ => vec![1, 2, 3],
        };
        assert_eq!(page_numbers(&t), again, "{numbering:?}: the second walk sends only the pages");
    }
}

#[test]
fn modes_a_cursor_carries_what_was_learned() {
    // Zero-based, capped at 20: the first page's cursor names page 1 of pages counted from 0,
    // 20 per page, so a fresh client (or the proxy) continues exactly.
    let t = Server::new(45, Numbering::Zero, Size::Cap(20), true).transport();
    let first = block_on(mode_client(&t, 8).list_page(&novita(Some(100)))).unwrap();
    assert_eq!(first.next_cursor.as_deref(), Some("1.0.20"));
    let fresh = mode_client(&t, 8);
    let second = block_on(fresh.list_page(&novita(Some(100)).with_cursor(first.next_cursor))).unwrap();
    assert_eq!(second.next_cursor.as_deref(), Some("2.0.20"));
    let third = block_on(fresh.list_page(&novita(Some(100)).with_cursor(second.next_cursor))).unwrap();
    assert_eq!((third.items.len(), third.has_more), (5, false));
    // Counting from 1: plain page numbers, as before.
    let t = Server::new(250, Numbering::One, Size::Honoured, true).transport();
    let first = block_on(mode_client(&t, 8).list_page(&novita(Some(100)))).unwrap();
    assert_eq!(first.next_cursor.as_deref(), Some("2"));
}
