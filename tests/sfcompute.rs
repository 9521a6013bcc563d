//! SF Compute preview v2: exact outgoing requests, every documented response shape, status
//! mapping, input rules, error bodies and decode failures. No network.

// The crate's `Error` is deliberately one flat record; see src/provider/sfcompute.rs.
#![allow(clippy::result_large_err)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use gpufleet::provider::sfcompute::{self, map_status, STATUSES};
use gpufleet::provider::{self as dispatch, Created, Provider, ProviderConfig};
use gpufleet::{
    CreateInput, Error, ErrorCode, HttpRequest, HttpResponse, Instance, ListQuery, ManagedBy, Method, Operation, Pagination,
    PoolRef, PriorityLevel, SfcCreateInput, SfcListQuery, Status,
};
use serde_json::{json, Value};
use support::fixtures::sfcompute::{config, fixture, fixture_json};
use support::fixtures::{SFC_TOKEN as TOKEN, SFC_WORKSPACE as WORKSPACE};

const BASE: &str = "https://api.sfcompute.com/preview/v2";

fn config_without_workspace() -> ProviderConfig {
    ProviderConfig::new(Provider::Sfcompute, TOKEN)
}

fn auth_only() -> Vec<(String, String)> {
    vec![("Authorization".to_owned(), format!("Bearer {TOKEN}"))]
}

fn assert_request(req: &HttpRequest, method: Method, url: &str) {
    assert_eq!(req.method, method, "{req:?}");
    assert_eq!(req.url, url, "{req:?}");
}

fn body_json(req: &HttpRequest) -> Value {
    serde_json::from_slice(req.body.as_ref().expect("a body")).unwrap()
}

#[track_caller]
fn assert_invalid(result: gpufleet::Result<HttpRequest>, field: &str) -> Error {
    match result {
        Ok(req) => panic!("expected invalidInput on {field}, got a request {} {}", req.method, req.url),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
            assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
            assert!(e.message.starts_with(&format!("{field}: ")), "{}", e.message);
            e
        }
    }
}

#[track_caller]
fn assert_decode<T: std::fmt::Debug>(result: gpufleet::Result<T>, path: &str) -> Error {
    let e = result.expect_err("expected a decode error");
    assert_eq!(e.code, ErrorCode::Decode, "{e:?}");
    assert_eq!(e.provider, Some(Provider::Sfcompute));
    assert_eq!(e.field.as_deref(), Some(path), "{e:?}");
    e
}

// ---------------------------------------------------------------------------------------------
// Outgoing requests
// ---------------------------------------------------------------------------------------------

#[test]
fn list_request_minimal_uses_configured_workspace() {
    let req = sfcompute::build_list_request(&SfcListQuery::default(), &config()).unwrap();
    assert_request(&req, Method::Get, &format!("{BASE}/instances?workspace={WORKSPACE}"));
    assert_eq!(req.headers, auth_only());
    assert_eq!(req.body, None);
}

#[test]
fn list_request_query_workspace_wins_and_resource_paths_are_encoded() {
    let q = SfcListQuery { workspace: Some("sfc:workspace:acme:my-workspace".into()), ..Default::default() };
    let req = sfcompute::build_list_request(&q, &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/instances?workspace=sfc%3Aworkspace%3Aacme%3Amy-workspace"));
    // Without a configured workspace the query's own is enough.
    let req = sfcompute::build_list_request(&q, &config_without_workspace()).unwrap();
    assert_eq!(req.url, format!("{BASE}/instances?workspace=sfc%3Aworkspace%3Aacme%3Amy-workspace"));
}

#[test]
fn list_request_with_every_filter() {
    let q = SfcListQuery {
        workspace: Some("wksp_abc".into()),
        limit: Some(200),
        cursor: Some("nodec_gqXR7s0Kj5mHvE2wNpLc4Q".into()),
        ending_before: None,
        id: vec!["inst_k3R-nX9vLm7Qp2Yw5Jd8F".into(), "inst_two".into()],
        capacity: vec!["cap_h100".into(), "sfc:capacity:acme:prod:h100-pool".into()],
        pool: vec!["pool_h100".into(), "sfc:pool:acme:prod:p.1".into()],
        status: vec!["running".into(), "failed".into()],
        created_after: Some(1_738_972_800),
        created_before: Some(1_738_972_900),
        instance_sku: vec!["isku_k3R-nX9vLm7Qp2Yw5Jd8F".into(), "isku_b".into()],
        include: vec!["cloud_init_user_data".into()],
        tag: vec!["env=prod".into(), "team=infra ops".into()],
        tag_key: vec!["owner".into(), "cost-center".into()],
    };
    let req = sfcompute::build_list_request(&q, &config()).unwrap();
    let expected = [
        "workspace=wksp_abc",
        "id=inst_k3R-nX9vLm7Qp2Yw5Jd8F",
        "id=inst_two",
        "capacity=cap_h100",
        "capacity=sfc%3Acapacity%3Aacme%3Aprod%3Ah100-pool",
        "pool=pool_h100",
        "pool=sfc%3Apool%3Aacme%3Aprod%3Ap.1",
        "status=running",
        "status=failed",
        "created_after=1738972800",
        "created_before=1738972900",
        "instance_sku=isku_k3R-nX9vLm7Qp2Yw5Jd8F",
        "instance_sku=isku_b",
        "limit=200",
        "starting_after=nodec_gqXR7s0Kj5mHvE2wNpLc4Q",
        "include=cloud_init_user_data",
        "tag=env%3Dprod",
        "tag=team%3Dinfra%20ops",
        "tag_key=owner",
        "tag_key=cost-center",
    ]
    .join("&");
    assert_request(&req, Method::Get, &format!("{BASE}/instances?{expected}"));
    assert_eq!(req.headers, auth_only());
    assert_eq!(req.body, None);
    assert!(!req.url.contains("[]"), "repeatable filters are repeated keys, not brackets");
}

#[test]
fn list_request_backward_cursor_and_limit_bounds() {
    let q = SfcListQuery { ending_before: Some("nodec_abc-_9".into()), limit: Some(1), ..Default::default() };
    let req = sfcompute::build_list_request(&q, &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/instances?workspace={WORKSPACE}&limit=1&ending_before=nodec_abc-_9"));
    // Equal created bounds are allowed ("at or after" / "at or before").
    let q = SfcListQuery { created_after: Some(5), created_before: Some(5), ..Default::default() };
    let req = sfcompute::build_list_request(&q, &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/instances?workspace={WORKSPACE}&created_after=5&created_before=5"));
}

#[test]
fn list_request_through_the_dispatcher_and_trimmed_base_url() {
    let cfg = config().with_base_url("http://127.0.0.1:8787/sfc/preview/v2/");
    let req = dispatch::build_list_request(&ListQuery::Sfcompute(SfcListQuery::default()), &cfg).unwrap();
    assert_eq!(req.url, format!("http://127.0.0.1:8787/sfc/preview/v2/instances?workspace={WORKSPACE}"));
}

#[test]
fn get_terminate_delete_ssh_requests() {
    let id = "inst_k3R-nX9vLm7Qp2Yw5Jd8F";
    let req = sfcompute::build_get_request(id, &config()).unwrap();
    assert_request(&req, Method::Get, &format!("{BASE}/instances/{id}"));
    assert_eq!(req.headers, auth_only());
    assert_eq!(req.body, None);

    let req = sfcompute::build_terminate_request(id, &config()).unwrap();
    assert_request(&req, Method::Post, &format!("{BASE}/instances/{id}/terminate"));
    assert_eq!(req.headers, auth_only(), "no Content-Type without a body");
    assert_eq!(req.body, None);

    let req = sfcompute::build_delete_request(id, &config()).unwrap();
    assert_request(&req, Method::Delete, &format!("{BASE}/instances/{id}"));
    assert_eq!(req.headers, auth_only());
    assert_eq!(req.body, None);

    let req = sfcompute::build_ssh_request(id, &config()).unwrap();
    assert_request(&req, Method::Get, &format!("{BASE}/instances/{id}/ssh"));
    assert_eq!(req.headers, auth_only());
    assert_eq!(req.body, None);

    // The dispatcher routes terminate and ssh here.
    let req = dispatch::build_action_request(Provider::Sfcompute, Operation::Terminate, id, &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/instances/{id}/terminate"));
    let e = dispatch::build_action_request(Provider::Sfcompute, Operation::Stop, id, &config()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
}

#[test]
fn resource_path_ids_are_percent_encoded_into_the_path() {
    let id = "sfc:instance:acme:prod:web-1";
    let enc = "sfc%3Ainstance%3Aacme%3Aprod%3Aweb-1";
    assert_eq!(sfcompute::build_get_request(id, &config()).unwrap().url, format!("{BASE}/instances/{enc}"));
    assert_eq!(sfcompute::build_terminate_request(id, &config()).unwrap().url, format!("{BASE}/instances/{enc}/terminate"));
    assert_eq!(sfcompute::build_delete_request(id, &config()).unwrap().url, format!("{BASE}/instances/{enc}"));
    assert_eq!(sfcompute::build_ssh_request(id, &config()).unwrap().url, format!("{BASE}/instances/{enc}/ssh"));
}

#[test]
fn bad_ids_never_reach_a_url() {
    for bad in ["", "..", "inst/../x", "inst_a?x=1", "https://evil.example", "inst a"] {
        assert_invalid(sfcompute::build_get_request(bad, &config()), "id");
        assert_invalid(sfcompute::build_terminate_request(bad, &config()), "id");
        assert_invalid(sfcompute::build_delete_request(bad, &config()), "id");
        assert_invalid(sfcompute::build_ssh_request(bad, &config()), "id");
    }
}

fn full_create_input() -> SfcCreateInput {
    SfcCreateInput {
        name: Some("web-1".into()),
        capacity: None,
        pool: Some("pool_h100sfprod01".into()),
        image: "image_k3R-nX9vLm7Qp2Yw5Jd8F".into(),
        instance_sku: Some("isku_h100x8ib0001".into()),
        cloud_init_user_data: Some("IyEvYmluL2Jhc2gKZWNobyBoZWxsbyB3b3JsZAo=".into()),
        tags: Some(BTreeMap::from([("team".to_owned(), "infra".to_owned()), ("env".to_owned(), "prod".to_owned())])),
        priority: None,
        priority_level: Some("critical".into()),
        enable_public_ipv4: Some(true),
        firewall: Some("sfc:firewall:acme:prod:default".into()),
        preview_enable_infiniband: Some(true),
    }
}

#[test]
fn create_request_full_july_body_exact_bytes() {
    let req = sfcompute::build_create_request(&full_create_input(), &config()).unwrap();
    assert_request(&req, Method::Post, &format!("{BASE}/instances"));
    assert_eq!(
        req.headers,
        vec![("Authorization".to_owned(), format!("Bearer {TOKEN}")), ("Content-Type".to_owned(), "application/json".to_owned()),]
    );
    let body = String::from_utf8(req.body.clone().unwrap()).unwrap();
    assert_eq!(
        body,
        concat!(
            r#"{"name":"web-1","pool":"pool_h100sfprod01","image":"image_k3R-nX9vLm7Qp2Yw5Jd8F","#,
            r#""instance_sku":"isku_h100x8ib0001","cloud_init_user_data":"IyEvYmluL2Jhc2gKZWNobyBoZWxsbyB3b3JsZAo=","#,
            r#""tags":{"env":"prod","team":"infra"},"priority_level":"critical","enable_public_ipv4":true,"#,
            r#""firewall":"sfc:firewall:acme:prod:default","_preview_enable_infiniband":true}"#
        )
    );
}

#[test]
fn create_request_minimal_seed_body_omits_absent_fields() {
    let input = SfcCreateInput {
        capacity: Some("cap_h100sfprod01".into()),
        image: "sfc:image:sfcompute:public:ubuntu-22.04.5-cuda-12.7".into(),
        ..Default::default()
    };
    let req = sfcompute::build_create_request(&input, &config()).unwrap();
    assert_eq!(
        String::from_utf8(req.body.unwrap()).unwrap(),
        r#"{"capacity":"cap_h100sfprod01","image":"sfc:image:sfcompute:public:ubuntu-22.04.5-cuda-12.7"}"#
    );

    // Seed-era integer priority and an explicit `false` are sent as given.
    let input = SfcCreateInput {
        capacity: Some("sfc:capacity:acme:prod:h100".into()),
        image: "vmi_legacy01".into(),
        priority: Some(-3),
        enable_public_ipv4: Some(false),
        preview_enable_infiniband: Some(false),
        tags: Some(BTreeMap::new()),
        ..Default::default()
    };
    let req = sfcompute::build_create_request(&input, &config()).unwrap();
    assert_eq!(
        body_json(&req),
        json!({"capacity": "sfc:capacity:acme:prod:h100", "image": "vmi_legacy01", "tags": {},
               "priority": -3, "enable_public_ipv4": false, "_preview_enable_infiniband": false})
    );
}

#[test]
fn create_through_the_dispatcher_from_js_json() {
    let input = CreateInput::from_json(
        Provider::Sfcompute,
        json!({"pool": "pool_a", "image": "image_b", "previewEnableInfiniband": true, "firewall": null}),
    )
    .unwrap();
    let req = dispatch::build_create_request(&input, "unused-key", &config()).unwrap();
    assert_eq!(req.header_value("Idempotency-Key"), None, "SF Compute documents no idempotency key on create");
    assert_eq!(body_json(&req), json!({"pool": "pool_a", "image": "image_b", "_preview_enable_infiniband": true}));
}

// ---------------------------------------------------------------------------------------------
// Input rules: every rule gives invalidInput naming the field, and no request
// ---------------------------------------------------------------------------------------------

/// One change to a valid input that breaks one rule.
type Mutation<T> = Box<dyn FnOnce(&mut T)>;

fn list_with(f: impl FnOnce(&mut SfcListQuery)) -> gpufleet::Result<HttpRequest> {
    let mut q = SfcListQuery::default();
    f(&mut q);
    sfcompute::build_list_request(&q, &config())
}

#[test]
fn list_requires_a_workspace() {
    let e = assert_invalid(sfcompute::build_list_request(&SfcListQuery::default(), &config_without_workspace()), "workspace");
    assert!(e.message.contains("sfcompute.workspace"), "{}", e.message);
    let blank = config_without_workspace().with_workspace("  ");
    assert_invalid(sfcompute::build_list_request(&SfcListQuery::default(), &blank), "workspace");
    let bad = config_without_workspace().with_workspace("my workspace");
    let e = assert_invalid(sfcompute::build_list_request(&SfcListQuery::default(), &bad), "workspace");
    assert!(e.message.contains("from the sfcompute.workspace setting"), "{}", e.message);
}

#[test]
fn list_input_rules() {
    let long = "x".repeat(22);
    let cases: Vec<(&str, Mutation<SfcListQuery>)> = vec![
        ("workspace", Box::new(|q| q.workspace = Some("".into()))),
        ("workspace", Box::new(|q| q.workspace = Some("wksp_".into()))),
        ("workspace", Box::new(move |q| q.workspace = Some(format!("wksp_{long}")))),
        ("workspace", Box::new(|q| q.workspace = Some("sfc:workspace:acme".into()))),
        ("workspace", Box::new(|q| q.workspace = Some("sfc:workspace:acme:a:b".into()))),
        ("workspace", Box::new(|q| q.workspace = Some("sfc:capacity:acme:prod".into()))),
        ("workspace", Box::new(|q| q.workspace = Some("xwksp_abc".into()))),
        ("id[1]", Box::new(|q| q.id = vec!["inst_ok".into(), "inst_bad!".into()])),
        ("id[0]", Box::new(|q| q.id = vec!["cap_abc".into()])),
        ("capacity[0]", Box::new(|q| q.capacity = vec!["pool_abc".into()])),
        ("capacity[0]", Box::new(|q| q.capacity = vec!["sfc:capacity:acme:prod".into()])),
        ("pool[0]", Box::new(|q| q.pool = vec!["cap_abc".into()])),
        ("pool[1]", Box::new(|q| q.pool = vec!["pool_a".into(), "sfc:pool:a:b:c d".into()])),
        ("status[1]", Box::new(|q| q.status = vec!["running".into(), "hibernating".into()])),
        ("status[0]", Box::new(|q| q.status = vec!["pending".into()])),
        ("createdAfter", Box::new(|q| (q.created_after, q.created_before) = (Some(10), Some(9)))),
        ("instanceSku[0]", Box::new(|q| q.instance_sku = vec!["sku_abc".into()])),
        ("limit", Box::new(|q| q.limit = Some(0))),
        ("limit", Box::new(|q| q.limit = Some(201))),
        ("cursor", Box::new(|q| q.cursor = Some("abc".into()))),
        ("cursor", Box::new(|q| q.cursor = Some("nodec_".into()))),
        ("cursor", Box::new(|q| q.cursor = Some("nodec_a.b".into()))),
        ("endingBefore", Box::new(|q| q.ending_before = Some("nodec_a=".into()))),
        ("endingBefore", Box::new(|q| (q.cursor, q.ending_before) = (Some("nodec_a".into()), Some("nodec_b".into())))),
        ("include[0]", Box::new(|q| q.include = vec!["tags".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec!["env".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec!["=prod".into()])),
        ("tag[1]", Box::new(|q| q.tag = vec!["a=b".into(), "_hidden=x".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec!["my key=x".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec!["a,b=x".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec!["a=b=c".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec!["a=b,c".into()])),
        ("tag[0]", Box::new(|q| q.tag = vec![format!("{}=v", "k".repeat(129))])),
        ("tag[0]", Box::new(|q| q.tag = vec![format!("k={}", "v".repeat(257))])),
        ("tagKey[0]", Box::new(|q| q.tag_key = vec!["".into()])),
        ("tagKey[1]", Box::new(|q| q.tag_key = vec!["ok".into(), " lead".into()])),
    ];
    for (field, mutate) in cases {
        assert_invalid(list_with(mutate), field);
    }
}

#[test]
fn list_edge_values_that_are_allowed() {
    // Longest key and value, an empty value, legacy id prefixes, non-ASCII tag text.
    let q = SfcListQuery {
        id: vec!["vm_legacy".into(), format!("inst_{}", "A".repeat(21))],
        instance_sku: vec!["clus_legacy".into()],
        tag: vec![format!("{}={}", "k".repeat(128), "v".repeat(256)), "empty=".into(), "région=été".into()],
        tag_key: vec!["k".repeat(128)],
        ..Default::default()
    };
    let req = sfcompute::build_list_request(&q, &config()).unwrap();
    assert!(req.url.contains("tag=empty%3D&"), "{}", req.url);
    assert!(req.url.contains("tag=r%C3%A9gion%3D%C3%A9t%C3%A9"), "{}", req.url);
}

fn create_with(f: impl FnOnce(&mut SfcCreateInput)) -> gpufleet::Result<HttpRequest> {
    let mut input = SfcCreateInput { capacity: Some("cap_abc".into()), image: "image_abc".into(), ..Default::default() };
    f(&mut input);
    sfcompute::build_create_request(&input, &config())
}

#[test]
fn create_input_rules() {
    // 64 KiB + 1 byte of decoded data: 65537 bytes = 21845 full groups + "AAA=" (2 bytes).
    let too_big = format!("{}AAA=", "A".repeat(21845 * 4));
    let cases: Vec<(&str, Mutation<SfcCreateInput>)> = vec![
        ("name", Box::new(|i| i.name = Some("".into()))),
        ("name", Box::new(|i| i.name = Some("-leading-dash".into()))),
        ("name", Box::new(|i| i.name = Some(".hidden".into()))),
        ("name", Box::new(|i| i.name = Some("has space".into()))),
        ("name", Box::new(|i| i.name = Some("a".repeat(256)))),
        ("name", Box::new(|i| i.name = Some("naïve".into()))),
        ("capacity", Box::new(|i| i.capacity = None)),
        ("pool", Box::new(|i| i.pool = Some("pool_abc".into()))),
        ("capacity", Box::new(|i| i.capacity = Some("pool_abc".into()))),
        ("pool", Box::new(|i| (i.capacity, i.pool) = (None, Some("sfc:pool:acme:prod".into())))),
        ("image", Box::new(|i| i.image = "".into())),
        ("image", Box::new(|i| i.image = "   ".into())),
        ("image", Box::new(|i| i.image = "ubuntu-22.04.5-cuda-12.7".into())),
        ("instanceSku", Box::new(|i| i.instance_sku = Some("h100".into()))),
        ("cloudInitUserData", Box::new(|i| i.cloud_init_user_data = Some("#!/bin/bash".into()))),
        ("cloudInitUserData", Box::new(|i| i.cloud_init_user_data = Some("aGk".into()))),
        ("cloudInitUserData", Box::new(|i| i.cloud_init_user_data = Some("aGk=\n".into()))),
        ("cloudInitUserData", Box::new(move |i| i.cloud_init_user_data = Some(too_big))),
        ("tags", Box::new(|i| i.tags = Some((0..51).map(|n| (format!("k{n}"), "v".to_owned())).collect()))),
        ("tags._x", Box::new(|i| i.tags = Some(BTreeMap::from([("_x".to_owned(), "v".to_owned())])))),
        ("tags.", Box::new(|i| i.tags = Some(BTreeMap::from([("".to_owned(), "v".to_owned())])))),
        ("tags.a b", Box::new(|i| i.tags = Some(BTreeMap::from([("a b".to_owned(), "v".to_owned())])))),
        ("tags.k", Box::new(|i| i.tags = Some(BTreeMap::from([("k".to_owned(), "a=b".to_owned())])))),
        ("tags.k", Box::new(|i| i.tags = Some(BTreeMap::from([("k".to_owned(), "v".repeat(257))])))),
        ("priorityLevel", Box::new(|i| i.priority_level = Some("high".into()))),
        ("priorityLevel", Box::new(|i| (i.priority, i.priority_level) = (Some(1), Some("normal".into())))),
        ("firewall", Box::new(|i| i.enable_public_ipv4 = Some(true))),
        ("firewall", Box::new(|i| i.firewall = Some("frwl_abc".into()))),
        ("firewall", Box::new(|i| (i.enable_public_ipv4, i.firewall) = (Some(false), Some("frwl_abc".into())))),
        ("firewall", Box::new(|i| (i.enable_public_ipv4, i.firewall) = (Some(true), Some("default".into())))),
    ];
    for (field, mutate) in cases {
        assert_invalid(create_with(mutate), field);
    }
}

#[test]
fn create_edge_values_that_are_allowed() {
    // Exactly 64 KiB decoded, 50 tags, the longest name, every priority level.
    let exactly = "A".repeat(65_536 / 3 * 4) + "AA==";
    assert_eq!(exactly.len() / 4 * 3 - 2, 65_536);
    create_with(|i| i.cloud_init_user_data = Some(exactly)).unwrap();
    create_with(|i| i.tags = Some((0..50).map(|n| (format!("k{n}"), String::new())).collect())).unwrap();
    create_with(|i| i.name = Some(format!("a{}", "b-._".repeat(63) + "c"))).unwrap();
    for level in ["yield", "normal", "preferred", "critical"] {
        create_with(|i| i.priority_level = Some(level.into())).unwrap();
    }
    create_with(|i| (i.enable_public_ipv4, i.firewall) = (Some(true), Some("frwl_abc".into()))).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Responses: every documented shape
// ---------------------------------------------------------------------------------------------

#[test]
fn seed_003_example_parses() {
    let page = sfcompute::parse_list_response(HttpResponse::new(200, fixture("list_seed.json"))).unwrap();
    assert!(page.has_more);
    assert_eq!(page.next_cursor.as_deref(), Some("nodec_gqXR7s0Kj5mHvE2wNpLc4Q"));
    assert_eq!(page.total, None);
    assert_eq!(page.items.len(), 1);
    let i = &page.items[0];
    assert_eq!(i.provider, Provider::Sfcompute);
    assert_eq!(i.id, "inst_k3R-nX9vLm7Qp2Yw5Jd8F");
    assert_eq!(i.name.as_deref(), Some("<string>"));
    // The seed example has no status: unknown, with no provider word to keep.
    assert_eq!(i.status, Status::Unknown);
    assert_eq!(i.provider_status, "");
    assert_eq!(i.instance_type.as_deref(), Some("<string>"), "the SKU's name");
    assert_eq!(i.created_at.as_deref(), Some("2025-02-08T00:00:00Z"));
    assert_eq!(i.tags, Some(BTreeMap::from([("env".to_owned(), "prod".to_owned()), ("team".to_owned(), "infra".to_owned())])));
    assert_eq!((i.ip.as_ref(), i.region.as_ref(), i.ssh.as_ref()), (None, None, None));
    assert_eq!(i.pool, Some(pool("<string>", Some("<string>"))), "the seed's capacity stands in for the pool");
    assert_eq!(i.managed_by, Some(managed("deployment", "<string>", Some("<string>"))), "the seed-era `deployment`");
    assert_eq!((i.priority_level.as_ref(), i.public_ipv4), (None, None));
    assert_eq!((i.billing_mode.as_ref(), i.spot.as_ref()), (None, None));
    assert_eq!(i.raw, fixture_json("list_seed.json")["data"][0], "raw is the record, unknown fields kept");
}

#[test]
fn may_shape_normalizes() {
    let i = sfcompute::parse_get_response(HttpResponse::new(200, fixture("instance_may.json"))).unwrap();
    assert_eq!(i.id, "inst_M4yShApE00000000001");
    assert_eq!(i.name.as_deref(), Some("train-may-1"));
    assert_eq!(i.status, Status::Pending);
    assert_eq!(i.provider_status, "awaiting_allocation");
    assert_eq!(i.instance_type.as_deref(), Some("h100-sf-prod"), "no SKU: the capacity's name");
    assert_eq!(i.created_at.as_deref(), Some("2025-05-20T00:00:00Z"));
    assert_eq!(i.tags, Some(BTreeMap::from([("team".to_owned(), "research".to_owned())])));
    assert_eq!(i.ip, None);
    assert_eq!(i.raw["priority"], json!(10), "the integer priority stays in raw");
    assert_eq!(i.priority_level, None, "an integer priority is not a priority level");
    assert_eq!(i.pool, Some(pool("cap_h100sfprod01", Some("h100-sf-prod"))), "no pool: the capacity");
    assert_eq!((i.managed_by.as_ref(), i.public_ipv4), (None, None));
    assert_eq!(i.raw, fixture_json("instance_may.json"));
}

#[test]
fn july_shape_normalizes() {
    let i = sfcompute::parse_get_response(HttpResponse::new(200, fixture("instance_july.json"))).unwrap();
    assert_eq!(i.id, "inst_JuLyShApE000000001");
    assert_eq!(i.name.as_deref(), Some("web-july-1"));
    assert_eq!(i.status, Status::Running);
    assert_eq!(i.provider_status, "running");
    assert_eq!(i.instance_type.as_deref(), Some("h100-8x-sxm5-ib"), "the SKU's alias");
    assert_eq!(i.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(i.created_at.as_deref(), Some("2025-07-21T00:00:00Z"));
    assert_eq!(i.tags.as_ref().map(|t| t.len()), Some(2));
    assert_eq!(i.ssh, None, "SSH details come from GET /instances/{{id}}/ssh");
    assert_eq!(i.raw["priority_level"], json!("preferred"));
    assert_eq!(i.pool, Some(pool("pool_h100sfprod01", Some("h100-sf-prod-pool"))), "the pool, not the deprecated capacity");
    assert_eq!(i.priority_level, Some(PriorityLevel::Preferred));
    assert_eq!(i.managed_by, Some(managed("deployment", "depl_k3R-nX9vLm7Qp2Yw5Jd8F", Some("web"))));
    assert_eq!(i.public_ipv4, Some(true));
    assert_eq!((i.billing_mode.as_ref(), i.spot.as_ref()), (None, None), "Novita's fields");
    assert_eq!(i.raw, fixture_json("instance_july.json"));

    // The same record answers create (201) and terminate (200).
    let created = sfcompute::parse_create_response(HttpResponse::new(201, fixture("instance_july.json"))).unwrap();
    assert_eq!(created, i);
    let terminated = sfcompute::parse_terminate_response(HttpResponse::new(200, fixture("instance_july.json"))).unwrap();
    assert_eq!(terminated, i);
    match dispatch::parse_create_response(Provider::Sfcompute, HttpResponse::new(201, fixture("instance_july.json"))).unwrap() {
        Created::Instance(inst) => assert_eq!(*inst, i),
        other => panic!("{other:?}"),
    }
}

#[test]
fn july_last_page_with_nulls() {
    let page = sfcompute::parse_list_response(HttpResponse::new(200, fixture("list_july_last_page.json"))).unwrap();
    assert!(!page.has_more);
    assert_eq!(page.next_cursor, None);
    let [a, b] = &page.items[..] else { panic!("two items") };
    assert_eq!((a.status, a.provider_status.as_str()), (Status::Pending, "awaiting_allocation"));
    assert_eq!(a.tags, None, "tags: null");
    assert_eq!(a.instance_type.as_deref(), Some("h200-8x-sxm5-ib"));
    assert_eq!((b.status, b.provider_status.as_str()), (Status::Unknown, "hibernating"));
    assert_eq!(b.tags, Some(BTreeMap::new()));
    // `managed_by: null` and `priority_level: null` are absent; `enable_public_ipv4: false` is kept.
    assert_eq!((a.managed_by.as_ref(), a.priority_level.as_ref(), a.public_ipv4), (None, None, Some(false)));
    assert_eq!(a.pool, Some(pool("pool_h200train03", Some("h200-training"))));
    assert_eq!(a.ip, None);
    assert_eq!(b.managed_by, Some(managed("spot_deployment", "sdpl_k3R-nX9vLm7Qp2Yw5Jd8F", Some("spot-fleet"))));
    assert_eq!((b.priority_level.as_ref(), b.public_ipv4), (Some(&PriorityLevel::Yield), Some(false)));
}

fn pool(id: &str, name: Option<&str>) -> PoolRef {
    PoolRef { id: id.into(), name: name.map(Into::into) }
}

fn managed(kind: &str, id: &str, name: Option<&str>) -> ManagedBy {
    ManagedBy { kind: kind.into(), id: id.into(), name: name.map(Into::into) }
}

#[test]
fn july_2026_fields_exactly() {
    let page = sfcompute::parse_list_response(HttpResponse::new(200, fixture("list_july_fields.json"))).unwrap();
    let raw = fixture_json("list_july_fields.json");
    let [a, b, c, d] = &page.items[..] else { panic!("four items") };
    let fields = |i: &Instance| (i.pool.clone(), i.priority_level.clone(), i.managed_by.clone(), i.public_ipv4, i.ip.clone());
    // A spot deployment with a public IPv4 address.
    assert_eq!(
        fields(a),
        (
            Some(pool("pool_h100sfprod01", Some("h100-sf-prod"))),
            Some(PriorityLevel::Critical),
            Some(managed("spot_deployment", "spot_batchjobs01", Some("batch-spot"))),
            Some(true),
            Some("203.0.113.21".into()),
        )
    );
    // Words the spec does not list survive as they are.
    assert_eq!(
        fields(b),
        (
            Some(pool("pool_h100sfprod01", Some("h100-sf-prod"))),
            Some(PriorityLevel::Other("best_effort".into())),
            Some(managed("autoscaler", "asg_k3R-nX9vLm7Qp2Yw5Jd8F", Some("scale-web"))),
            Some(false),
            None,
        )
    );
    assert_eq!(b.priority_level.as_ref().map(PriorityLevel::as_str), Some("best_effort"));
    assert!(!b.priority_level.as_ref().unwrap().is_known());
    // No pool: the deprecated capacity is the pool.
    assert_eq!(
        fields(c),
        (Some(pool("cap_h200train03", Some("h200-training"))), Some(PriorityLevel::Normal), None, Some(false), None)
    );
    // A pool with only an id (the capacity's name is not borrowed); no `object`: the id prefix.
    assert_eq!(
        fields(d),
        (
            Some(pool("pool_b200burst04", None)),
            Some(PriorityLevel::Yield),
            Some(managed("deployment", "depl_servingpool02", Some("serving-pool"))),
            Some(false),
            None,
        )
    );
    for (i, item) in page.items.iter().enumerate() {
        assert_eq!(item.raw, raw["data"][i], "raw is the record");
        assert_eq!((item.billing_mode.as_ref(), item.spot.as_ref()), (None, None));
    }

    // Serialized for JS: camelCase, the enum as its word, absent fields left out.
    let v = serde_json::to_value(a).unwrap();
    assert_eq!(v["pool"], json!({"id": "pool_h100sfprod01", "name": "h100-sf-prod"}));
    assert_eq!(v["priorityLevel"], "critical");
    assert_eq!(v["managedBy"], json!({"kind": "spot_deployment", "id": "spot_batchjobs01", "name": "batch-spot"}));
    assert_eq!(v["publicIpv4"], true);
    assert_eq!(serde_json::to_value(b).unwrap()["priorityLevel"], "best_effort");
    let v = serde_json::to_value(d).unwrap();
    assert_eq!(v["pool"], json!({"id": "pool_b200burst04"}));
    assert!(v.get("billingMode").is_none() && v.get("spot").is_none());
    assert!(serde_json::to_value(c).unwrap().get("managedBy").is_none());
    // …and read back the same (the proxy's answers are read this way).
    for item in &page.items {
        assert_eq!(&serde_json::from_value::<Instance>(serde_json::to_value(item).unwrap()).unwrap(), item);
    }
}

#[test]
fn july_2026_fields_of_the_wrong_type_are_left_out_never_an_error() {
    let parse = |v: Value| sfcompute::parse_get_response(HttpResponse::new(200, v.to_string())).unwrap();
    let i = parse(json!({"id": "inst_a", "status": "running", "pool": 5, "capacity": ["cap_a"], "priority_level": 3,
                         "managed_by": "depl_a", "enable_public_ipv4": "true", "public_ip": 203}));
    assert_eq!(
        (i.pool, i.priority_level, i.managed_by, i.public_ipv4, i.ip, i.instance_type),
        (None, None, None, None, None, None)
    );
    assert_eq!(i.raw["managed_by"], "depl_a", "raw keeps them");
    // Inner parts of the wrong type: the part is left out, or the whole field when it is the id.
    let i = parse(json!({"id": "inst_a", "status": "running", "pool": {"id": 1, "name": "p"},
                         "capacity": {"id": "cap_a", "name": 7}, "managed_by": {"object": 1, "id": "spot_a", "name": []},
                         "priority_level": "", "enable_public_ipv4": null, "public_ip": ""}));
    assert_eq!(i.pool, Some(pool("cap_a", None)), "a pool without a usable id falls back to the capacity");
    assert_eq!(i.instance_type.as_deref(), Some("p"), "the pool's name still names the hardware");
    assert_eq!(i.managed_by, Some(managed("spot_deployment", "spot_a", None)));
    assert_eq!((i.priority_level, i.public_ipv4, i.ip), (None, None, None));
    // A bare id string is taken as the pool's id; a managed_by without an id falls back to the
    // seed-era deployment; an unrecognisable manager id is kind `unknown`.
    let i = parse(json!({"id": "inst_a", "status": "running", "pool": "pool_a", "managed_by": {"object": "deployment"},
                         "deployment": {"id": "depl_b"}}));
    assert_eq!(i.pool, Some(pool("pool_a", None)));
    assert_eq!(i.managed_by, Some(managed("deployment", "depl_b", None)));
    let i = parse(json!({"id": "inst_a", "status": "running", "managed_by": {"id": "mgr_1"}}));
    assert_eq!(i.managed_by, Some(managed("unknown", "mgr_1", None)));
}

#[test]
fn priority_level_words() {
    for (word, level) in [
        ("yield", PriorityLevel::Yield),
        ("normal", PriorityLevel::Normal),
        ("preferred", PriorityLevel::Preferred),
        ("critical", PriorityLevel::Critical),
    ] {
        assert_eq!(PriorityLevel::parse(word), level);
        assert_eq!(level.as_str(), word);
        assert_eq!(level.to_string(), word);
        assert!(level.is_known());
    }
    assert_eq!(PriorityLevel::KNOWN, sfcompute::PRIORITY_LEVELS);
    // Case matters (the API's words are lowercase); anything else is kept verbatim.
    for other in ["Critical", "urgent", " normal", "0"] {
        assert_eq!(PriorityLevel::parse(other), PriorityLevel::Other(other.into()));
        assert_eq!(serde_json::to_value(PriorityLevel::parse(other)).unwrap(), json!(other));
    }
    assert_eq!(serde_json::from_value::<PriorityLevel>(json!("yield")).unwrap(), PriorityLevel::Yield);
    assert!(serde_json::from_value::<PriorityLevel>(json!(1)).is_err(), "our own JSON is strict");
}

#[test]
fn instance_fallbacks_and_region() {
    let parse = |v: Value| sfcompute::parse_get_response(HttpResponse::new(200, v.to_string())).unwrap();
    // Pool name is preferred over the deprecated capacity name when there is no SKU.
    let i = parse(json!({"id": "inst_a", "status": "failed", "capacity": {"id": "cap_a", "name": "cap-name"},
                         "pool": {"id": "pool_a", "name": "pool-name"}}));
    assert_eq!(i.instance_type.as_deref(), Some("pool-name"));
    assert_eq!(i.status, Status::Failed);
    // A SKU with a region (the full InstanceSku carries one).
    let i = parse(
        json!({"id": "inst_a", "status": "terminated", "instance_sku": {"id": "isku_a", "alias": "h100", "region": "us-west"}}),
    );
    assert_eq!((i.instance_type.as_deref(), i.region.as_deref()), (Some("h100"), Some("us-west")));
    assert_eq!(i.status, Status::Terminated);
    // Bare minimum: an id. Null and empty optional fields read as absent.
    let i = parse(json!({"id": "inst_a", "status": null, "name": "", "created_at": null, "instance_sku": null,
                         "public_ip": "", "tags": null}));
    assert_eq!((i.status, i.provider_status.as_str()), (Status::Unknown, ""));
    assert_eq!((i.name, i.instance_type, i.created_at, i.ip, i.tags), (None, None, None, None, None));
}

#[test]
fn ssh_details_parse() {
    let d = sfcompute::parse_ssh_response(HttpResponse::new(200, fixture("ssh.json"))).unwrap();
    assert_eq!(d.host, "24.125.89.203");
    assert_eq!(d.port, 22);
    assert_eq!(d.host_keys.len(), 2);
    assert_eq!(d.host_keys[0].key_type, "ssh-ed25519");
    assert_eq!(d.host_keys[1].key, "AAAAB3NzaC1yc2EAAAADAQABAAABAQC7");
    assert_eq!(d.last_successful_key_update_at.as_deref(), Some("2025-07-21T00:10:00Z"));
    assert_eq!(d.raw, fixture_json("ssh.json"));

    let parse = |v: Value| sfcompute::parse_ssh_response(HttpResponse::new(200, v.to_string())).unwrap();
    let d =
        parse(json!({"hostname": "h", "port": 2222, "host_keys": [], "last_successful_key_update_at": "2025-01-01T00:00:00Z"}));
    assert_eq!(d.last_successful_key_update_at.as_deref(), Some("2025-01-01T00:00:00Z"), "a string is kept as-is");
    let d = parse(json!({"hostname": "h", "port": 22, "host_keys": [], "last_successful_key_update_at": null}));
    assert_eq!(d.last_successful_key_update_at, None);
    let d = parse(json!({"hostname": "h", "port": 22}));
    assert!(d.host_keys.is_empty());
    let via_dispatch = dispatch::parse_ssh_response(Provider::Sfcompute, HttpResponse::new(200, fixture("ssh.json")));
    assert_eq!(via_dispatch.unwrap().host, "24.125.89.203");
}

#[test]
fn every_documented_status_maps_as_tabulated() {
    let table = [
        ("awaiting_allocation", Status::Pending),
        ("running", Status::Running),
        ("terminated", Status::Terminated),
        ("failed", Status::Failed),
    ];
    assert_eq!(STATUSES, table.map(|(s, _)| s));
    for (word, status) in table {
        assert_eq!(map_status(word), status, "{word}");
        let body = json!({"id": "inst_a", "status": word}).to_string();
        let i = sfcompute::parse_get_response(HttpResponse::new(200, body)).unwrap();
        assert_eq!((i.status, i.provider_status.as_str()), (status, word));
    }
    for other in ["hibernating", "", "RUNNING", "Running", "pending", "unknown"] {
        assert_eq!(map_status(other), Status::Unknown, "{other:?}");
    }
    let body = json!({"id": "inst_a", "status": "hibernating"}).to_string();
    let i = sfcompute::parse_get_response(HttpResponse::new(200, body)).unwrap();
    assert_eq!((i.status, i.provider_status.as_str()), (Status::Unknown, "hibernating"));
}

// ---------------------------------------------------------------------------------------------
// Delete outcomes and errors
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_outcomes() {
    let ok = sfcompute::parse_delete_response(HttpResponse::new(204, "")).unwrap();
    assert!(!ok.already_gone);
    let gone = sfcompute::parse_delete_response(HttpResponse::new(404, fixture("error_404.json"))).unwrap();
    assert!(gone.already_gone);

    let e = sfcompute::parse_delete_response(HttpResponse::new(409, fixture("error_409.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert_eq!(e.status, Some(409));
    assert_eq!(e.provider_type.as_deref(), Some("conflict"));
    assert!(e.message.contains("Instance must be terminated before deletion"), "{}", e.message);
    assert!(e.message.contains("terminate it first (fleet.terminate), then delete"), "{}", e.message);
    assert!(!e.retryable);

    // A 409 with an unreadable body still carries the hint.
    let e = sfcompute::parse_delete_response(HttpResponse::new(409, "")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("terminate it first"), "{}", e.message);

    let e = sfcompute::parse_delete_response(HttpResponse::new(500, fixture("error_500.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
    assert!(!e.message.contains("terminate it first"));
}

#[test]
fn every_documented_error_status() {
    let cases = [
        (400, ErrorCode::Validation, "invalid_request_error", "An instance with this name already exists"),
        (401, ErrorCode::Unauthorized, "authentication_error", "Invalid bearer token"),
        (403, ErrorCode::Forbidden, "forbidden", "This token does not have permission to access instances"),
        (404, ErrorCode::NotFound, "not_found", "Instance not found"),
        (409, ErrorCode::Conflict, "conflict", "Instance must be terminated before deletion"),
        (422, ErrorCode::Validation, "unprocessable_entity", "Validation failed"),
        (500, ErrorCode::Server, "api_error", "Internal server error"),
    ];
    for (status, code, kind, message) in cases {
        let response = HttpResponse::new(status, fixture(&format!("error_{status}.json")))
            .with_header("X-Request-Id", format!("req_{status}"));
        let results = [
            sfcompute::parse_list_response(response.clone()).map(|_| ()),
            sfcompute::parse_get_response(response.clone()).map(|_| ()),
            sfcompute::parse_create_response(response.clone()).map(|_| ()),
            sfcompute::parse_terminate_response(response.clone()).map(|_| ()),
            sfcompute::parse_ssh_response(response.clone()).map(|_| ()),
        ];
        for result in results {
            let e = result.unwrap_err();
            assert_eq!(e.code, code, "{status}");
            assert_eq!(e.status, Some(status));
            assert_eq!(e.provider, Some(Provider::Sfcompute));
            assert_eq!(e.provider_type.as_deref(), Some(kind));
            assert_eq!(e.message, format!("SF Compute answered HTTP {status}: {message}"));
            assert_eq!(e.request_id.as_deref(), Some(format!("req_{status}").as_str()));
            assert_eq!(e.retryable, status >= 500);
        }
    }
}

#[test]
fn error_details_are_kept() {
    let e = sfcompute::parse_create_response(HttpResponse::new(422, fixture("error_422.json"))).unwrap_err();
    assert_eq!(e.details.len(), 2);
    assert_eq!(e.details[0].field.as_deref(), Some("capacity"));
    assert_eq!(e.details[0].code.as_deref(), Some("capacity_limit_reached"));
    assert_eq!(e.details[0].message, "capacity limit reached");
    assert_eq!(e.details[1].field, None, "field: null");
    let e = sfcompute::parse_get_response(HttpResponse::new(400, fixture("error_400.json"))).unwrap_err();
    assert_eq!(e.details[0].field.as_deref(), Some("name"));

    // Malformed details never cost the message.
    let body = json!({"error": {"type": "unprocessable_entity", "message": "bad", "details": [1, {"code": "x"}, {"foo": 1}]}});
    let e = sfcompute::parse_get_response(HttpResponse::new(422, body.to_string())).unwrap_err();
    assert_eq!(e.message, "SF Compute answered HTTP 422: bad");
    assert_eq!(e.details.len(), 1);
    assert_eq!((e.details[0].code.as_deref(), e.details[0].message.as_str()), (Some("x"), "x"));
    let body = json!({"error": {"type": "unprocessable_entity", "message": "bad", "details": "oops"}});
    let e = sfcompute::parse_get_response(HttpResponse::new(422, body.to_string())).unwrap_err();
    assert!(e.details.is_empty());
}

#[test]
fn undocumented_error_bodies_fall_back() {
    let e = sfcompute::parse_get_response(HttpResponse::new(502, "<html>Bad Gateway</html>")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
    assert_eq!(e.message, "SF Compute answered HTTP 502: <html>Bad Gateway</html>");
    assert!(e.retryable);

    let e = sfcompute::parse_list_response(
        HttpResponse::new(429, r#"{"error":{"type":"rate_limited","message":"slow down"}}"#).with_header("Retry-After", "7"),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after_ms, Some(7000));
    assert_eq!(e.provider_type.as_deref(), Some("rate_limited"));

    let e = sfcompute::parse_get_response(HttpResponse::new(503, "")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
    assert_eq!(e.message, "SF Compute answered HTTP 503: HTTP 503 with no error message");

    let e = sfcompute::parse_get_response(HttpResponse::new(401, r#"{"message":"no token"}"#)).unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (ErrorCode::Unauthorized, "SF Compute answered HTTP 401: no token"));
}

#[test]
fn tokens_never_leak_into_errors_or_debug() {
    let req = sfcompute::build_get_request("inst_a", &config()).unwrap();
    assert!(!format!("{req:?}").contains(TOKEN));
    let e = assert_invalid(sfcompute::build_get_request("a/b", &config()), "id");
    assert!(!e.message.contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// Malformed and truncated bodies: decode with the JSON path, never a panic
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_list_bodies() {
    let list = |v: Value| sfcompute::parse_list_response(HttpResponse::new(200, v.to_string()));
    let item = |extra: Value| {
        let mut v = json!({"id": "inst_a", "status": "running"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    assert_decode(
        list(
            json!({"object": "list", "has_more": false, "data": [item(json!({})), item(json!({"created_at": "1738972800"}))], "cursor": null}),
        ),
        "data[1].created_at",
    );
    assert_decode(list(json!({"has_more": false, "data": [item(json!({"created_at": "1738972800"}))]})), "data[0].created_at");
    assert_decode(list(json!({"has_more": false, "data": [{"status": "running"}]})), "data[0]");
    assert_decode(list(json!({"has_more": false, "data": [item(json!({"id": 5}))]})), "data[0].id");
    assert_decode(list(json!({"has_more": false, "data": [item(json!({"status": 3}))]})), "data[0].status");
    assert_decode(list(json!({"has_more": false, "data": [item(json!({"tags": {"env": 1}}))]})), "data[0].tags.env");
    assert_decode(list(json!({"has_more": false, "data": [item(json!({"tags": ["a"]}))]})), "data[0].tags");
    assert_decode(
        list(json!({"has_more": false, "data": [item(json!({"instance_sku": {"alias": 7}}))]})),
        "data[0].instance_sku.alias",
    );
    assert_decode(list(json!({"has_more": false, "data": [item(json!({"created_at": 1.5}))]})), "data[0].created_at");
    assert_decode(list(json!({"has_more": false, "data": ["inst_a"]})), "data[0]");
    assert_decode(list(json!({"has_more": false, "data": {}})), "data");
    assert_decode(list(json!({"has_more": "yes", "data": []})), "has_more");
    assert_decode(list(json!({"data": []})), "body");
    assert_decode(list(json!({"has_more": true, "data": [], "cursor": 5})), "cursor");
    assert_decode(list(json!([])), "body");
}

#[test]
fn truncated_and_non_json_bodies() {
    let full = fixture("list_seed.json");
    for cut in [0, 1, 10, full.len() / 3, full.len() / 2, full.len() - 2] {
        let e = sfcompute::parse_list_response(HttpResponse::new(200, full[..cut].to_vec())).unwrap_err();
        assert_eq!(e.code, ErrorCode::Decode, "cut at {cut}: {e:?}");
        assert!(e.field.is_some());
    }
    let e = sfcompute::parse_list_response(HttpResponse::new(200, full[..full.len() / 2].to_vec())).unwrap_err();
    assert!(e.message.contains("truncated"), "{}", e.message);

    let july = fixture("instance_july.json");
    for cut in 0..july.len() - 1 {
        let e = sfcompute::parse_get_response(HttpResponse::new(200, july[..cut].to_vec())).unwrap_err();
        assert_eq!(e.code, ErrorCode::Decode, "cut at {cut}");
    }
    assert_decode(sfcompute::parse_get_response(HttpResponse::new(200, "<html>ok</html>")), "body");
    assert_decode(sfcompute::parse_get_response(HttpResponse::new(200, "")), "body");
    assert_decode(sfcompute::parse_create_response(HttpResponse::new(201, "null")), "body");
    assert_decode(sfcompute::parse_terminate_response(HttpResponse::new(200, "[]")), "body");
    let e = sfcompute::parse_ssh_response(HttpResponse::new(200, "{\"hostname\":\"h\",")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Decode);
    assert!(e.message.contains("truncated"), "{}", e.message);
}

#[test]
fn malformed_ssh_bodies() {
    let ssh = |v: Value| sfcompute::parse_ssh_response(HttpResponse::new(200, v.to_string()));
    assert_decode(ssh(json!({"hostname": "h", "port": 70000, "host_keys": []})), "port");
    assert_decode(ssh(json!({"hostname": "h", "port": -1, "host_keys": []})), "port");
    assert_decode(ssh(json!({"port": 22, "host_keys": []})), "body");
    assert_decode(ssh(json!({"hostname": "h", "port": 22, "host_keys": [{"key_type": "ssh-rsa"}]})), "host_keys[0]");
    assert_decode(
        ssh(json!({"hostname": "h", "port": 22, "host_keys": [], "last_successful_key_update_at": true})),
        "last_successful_key_update_at",
    );
}

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

#[test]
fn capabilities_describe_the_api() {
    let caps = sfcompute::capabilities();
    assert_eq!(caps, Provider::Sfcompute.capabilities());
    assert_eq!(caps.provider, Provider::Sfcompute);
    assert_eq!(caps.display_name, "SF Compute");
    for op in [Operation::List, Operation::Get, Operation::Create, Operation::Terminate, Operation::Delete, Operation::Ssh] {
        assert!(caps.supports(op), "{op:?}");
    }
    for op in [Operation::Start, Operation::Stop, Operation::Restart] {
        assert!(!caps.supports(op), "{op:?}");
    }
    assert_eq!(caps.pagination, Pagination::StartingAfter);
    assert_eq!(caps.max_page_size, Some(200));
    assert!(!caps.idempotent_create);
    assert_eq!(caps.provider_statuses, STATUSES);

    // list_filters are exactly the JS field names of SfcListQuery.
    let all = SfcListQuery {
        workspace: Some("w".into()),
        limit: Some(1),
        cursor: Some("c".into()),
        ending_before: Some("e".into()),
        id: vec!["i".into()],
        capacity: vec!["c".into()],
        pool: vec!["p".into()],
        status: vec!["s".into()],
        created_after: Some(1),
        created_before: Some(2),
        instance_sku: vec!["k".into()],
        include: vec!["i".into()],
        tag: vec!["t".into()],
        tag_key: vec!["k".into()],
    };
    let keys: BTreeSet<String> = serde_json::to_value(all).unwrap().as_object().unwrap().keys().cloned().collect();
    assert_eq!(caps.list_filters.iter().cloned().collect::<BTreeSet<_>>(), keys);

    // create_fields name real SfcCreateInput fields (each is accepted by the JSON reader).
    let names: Vec<&str> = caps.create_fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "name",
            "capacity",
            "pool",
            "image",
            "instanceSku",
            "cloudInitUserData",
            "tags",
            "priority",
            "priorityLevel",
            "enablePublicIpv4",
            "firewall",
            "previewEnableInfiniband"
        ]
    );
    let sample = |name: &str| -> Value {
        match name {
            "tags" => json!({}),
            "priority" => json!(1),
            "enablePublicIpv4" | "previewEnableInfiniband" => json!(true),
            _ => json!("x"),
        }
    };
    for name in names {
        let mut v = json!({"image": "x"});
        v[name] = sample(name);
        CreateInput::from_json(Provider::Sfcompute, v).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let level = caps.create_fields.iter().find(|f| f.name == "priorityLevel").unwrap();
    assert_eq!(level.options, ["yield", "normal", "preferred", "critical"]);
    assert!(caps.create_fields.iter().find(|f| f.name == "image").unwrap().required);
}

// ---------------------------------------------------------------------------------------------
// Tags: PATCH /instances/{id} replaces the whole map
// ---------------------------------------------------------------------------------------------

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn one_tag_is_changed_by_sending_all_of_them() {
    let current = tags(&[("env", "prod"), ("team", "infra")]);
    let key = "gpufleet-deadline";
    let value = "2026-12-04T18:00:00Z terminate";
    let merged = sfcompute::tags_with(Some(&current), key, Some(value)).unwrap().unwrap();
    assert_eq!(merged, tags(&[("env", "prod"), ("team", "infra"), (key, value)]));
    assert_eq!(sfcompute::tags_with(Some(&merged), key, Some(value)).unwrap(), None, "already so: nothing to send");
    let changed = sfcompute::tags_with(Some(&merged), key, Some("2026-12-05T00:00:00Z terminate")).unwrap().unwrap();
    assert_eq!(changed[key], "2026-12-05T00:00:00Z terminate");
    assert_eq!(changed.len(), 3);
    assert_eq!(sfcompute::tags_with(Some(&merged), key, None).unwrap(), Some(current.clone()), "removed, the rest kept");
    assert_eq!(sfcompute::tags_with(Some(&current), key, None).unwrap(), None, "nothing to remove");
    assert_eq!(sfcompute::tags_with(None, key, Some(value)).unwrap(), Some(tags(&[(key, value)])), "no tags yet");
    assert_eq!(sfcompute::tags_with(None, key, None).unwrap(), None);

    // The documented rules: 50 tags at most; keys without , = space or a leading _; values without , =.
    let full: BTreeMap<String, String> = (0..50).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let e = sfcompute::tags_with(Some(&full), key, Some(value)).unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), (ErrorCode::InvalidInput, Some("tags")));
    assert!(e.message.contains("50"), "{}", e.message);
    assert!(sfcompute::tags_with(Some(&full), "k7", Some("w")).unwrap().is_some(), "replacing one of 50 is fine");
    for bad_key in ["", "_x", "a b", "a,b", "a=b", &"k".repeat(129)] {
        assert_eq!(sfcompute::tags_with(None, bad_key, Some("v")).unwrap_err().field.as_deref(), Some("tags"), "{bad_key:?}");
    }
    for bad_value in ["a,b", "a=b", &"v".repeat(257)] {
        let e = sfcompute::tags_with(None, key, Some(bad_value)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tags.gpufleet-deadline"), "{bad_value:?}");
    }
}

#[test]
fn tags_update_request_exactly() {
    let id = "inst_k3R-nX9vLm7Qp2Yw5Jd8F";
    let map = tags(&[("env", "prod"), ("gpufleet-deadline", "2026-12-04T18:00:00Z terminate")]);
    let req = sfcompute::build_update_tags_request(id, &map, &config()).unwrap();
    assert_request(&req, Method::Patch, &format!("{BASE}/instances/{id}"));
    assert_eq!(
        req.headers,
        vec![("Authorization".to_owned(), format!("Bearer {TOKEN}")), ("Content-Type".to_owned(), "application/json".to_owned())]
    );
    assert_eq!(
        String::from_utf8(req.body.clone().unwrap()).unwrap(),
        r#"{"tags":{"env":"prod","gpufleet-deadline":"2026-12-04T18:00:00Z terminate"}}"#,
        "only tags: the name and priority are left alone"
    );
    // No tags left: `null`, the documented way to clear them all.
    let req = sfcompute::build_update_tags_request(id, &BTreeMap::new(), &config()).unwrap();
    assert_eq!(req.body.as_deref(), Some(&br#"{"tags":null}"#[..]));
    let enc = "sfc%3Ainstance%3Aacme%3Aprod%3Aweb-1";
    let req = sfcompute::build_update_tags_request("sfc:instance:acme:prod:web-1", &map, &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/instances/{enc}"));
    assert_invalid(sfcompute::build_update_tags_request("inst/../x", &map, &config()), "id");
    assert_invalid(sfcompute::build_update_tags_request(id, &tags(&[("a b", "v")]), &config()), "tags.a b");
    let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    assert_invalid(sfcompute::build_update_tags_request(id, &many, &config()), "tags");

    // The answer is the updated instance; errors as everywhere.
    let i = sfcompute::parse_update_tags_response(HttpResponse::new(200, fixture("instance_july.json"))).unwrap();
    assert_eq!(i.tags, Some(tags(&[("env", "prod"), ("team", "infra")])));
    let e = sfcompute::parse_update_tags_response(HttpResponse::new(404, fixture("error_404.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let e = sfcompute::parse_update_tags_response(HttpResponse::new(422, fixture("error_422.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
}

#[test]
fn the_client_reads_the_tags_then_writes_them_all() {
    use futures::executor::block_on;
    use support::fixtures::client_config;
    use support::scripted::{json, ScriptedTransport};

    let id = "inst_JuLyShApE000000001";
    let record = fixture_json("instance_july.json");
    let t = ScriptedTransport::new(move |r| match r.method {
        Method::Get => json(200, &record.to_string()),
        Method::Patch => {
            let mut patched = fixture_json("instance_july.json");
            patched["tags"] = serde_json::from_slice::<Value>(r.body.as_ref().unwrap()).unwrap()["tags"].clone();
            json(200, &patched.to_string())
        }
        _ => panic!("unexpected {} {}", r.method.as_str(), r.url),
    });
    let client = gpufleet::Client::new(&t, client_config(&[Provider::Sfcompute, Provider::Novita]));
    let key = "gpufleet-deadline";
    let patched =
        block_on(client.set_tag(Provider::Sfcompute, id, key, Some("2026-12-04T18:00:00Z terminate"), None)).unwrap().unwrap();
    assert_eq!(patched.tags.as_ref().unwrap()[key], "2026-12-04T18:00:00Z terminate");
    let sent = t.take_requests();
    assert_eq!(sent.len(), 2, "one read, one write (no price lookups)");
    assert_request(&sent[0], Method::Get, &format!("{BASE}/instances/{id}"));
    assert_request(&sent[1], Method::Patch, &format!("{BASE}/instances/{id}"));
    assert_eq!(
        body_json(&sent[1]),
        json!({"tags": {"env": "prod", "team": "infra", "gpufleet-deadline": "2026-12-04T18:00:00Z terminate"}})
    );
    // Removing a tag the instance does not have sends nothing after the read.
    assert_eq!(block_on(client.set_tag(Provider::Sfcompute, id, key, None, None)).unwrap(), None);
    assert_eq!(t.take_requests().len(), 1);
    // Tags the caller has just read (a create's answer) are merged without a second read.
    let known = tags(&[("team", "ml")]);
    let patched = block_on(client.set_tag(Provider::Sfcompute, id, key, Some("x y"), Some(&known))).unwrap().unwrap();
    assert_eq!(patched.tags, Some(tags(&[("team", "ml"), (key, "x y")])));
    let sent = t.take_requests();
    assert_eq!(sent.len(), 1, "no read");
    assert_request(&sent[0], Method::Patch, &format!("{BASE}/instances/{id}"));
    assert_eq!(block_on(client.set_tag(Provider::Sfcompute, id, key, None, Some(&known))).unwrap(), None, "nothing to remove");
    assert_eq!(t.request_count(), 0);
    // Other providers have no tags: refused before any request.
    let e = block_on(client.set_tag(Provider::Novita, "n1", key, None, None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
    assert_eq!(t.request_count(), 0);
}
