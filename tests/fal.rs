//! fal Platform API v1 (`https://api.fal.ai/v1`): the exact outgoing requests, every seed and
//! spec example response, status mapping, error mapping, input rules and malformed bodies.
//!
//! No network: requests are built and compared; responses are fixture bytes.

mod support;

use gpufleet::provider::{self, fal};
use gpufleet::{
    CreateInput, ErrorCode, FalCreateInput, FalListQuery, HttpRequest, HttpResponse, Instance, ListQuery, Method, Operation,
    Pagination, Provider, ProviderConfig, SshInfo, Status,
};
use serde_json::{json, Value};
use support::fixtures::fal::{config, fixture, fixture_json};
use support::fixtures::FAL_KEY as KEY;

const GENERATED: &str = "550e8400-e29b-41d4-a716-446655440000";

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn auth() -> (&'static str, String) {
    ("Authorization", format!("Key {KEY}"))
}

fn list(limit: Option<u32>, cursor: Option<&str>) -> FalListQuery {
    FalListQuery { limit, cursor: cursor.map(str::to_owned) }
}

fn create(instance_type: &str, ssh_key: &str, sector: Option<&str>, key: Option<&str>) -> FalCreateInput {
    FalCreateInput {
        instance_type: instance_type.to_owned(),
        ssh_key: ssh_key.to_owned(),
        sector: sector.map(str::to_owned),
        idempotency_key: key.map(str::to_owned),
    }
}

fn ok(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse::new(status, body)
}

fn assert_request(req: &HttpRequest, method: Method, url: &str, hdrs: &[(&str, &str)], body: Option<&str>) {
    assert_eq!(req.method, method, "method");
    assert_eq!(req.url, url, "url");
    assert_eq!(req.headers, headers(hdrs), "headers");
    assert_eq!(req.body.as_deref().map(|b| std::str::from_utf8(b).unwrap()), body, "body");
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[test]
fn list_request_without_query() {
    let req = fal::build_list_request(&FalListQuery::default(), &config()).unwrap();
    let (k, v) = auth();
    assert_request(&req, Method::Get, "https://api.fal.ai/v1/compute/instances", &[(k, &v)], None);
}

#[test]
fn list_request_sends_limit_then_cursor_with_the_cursor_percent_encoded() {
    let req = fal::build_list_request(&list(Some(50), Some("Mg==")), &config()).unwrap();
    let (k, v) = auth();
    assert_request(&req, Method::Get, "https://api.fal.ai/v1/compute/instances?limit=50&cursor=Mg%3D%3D", &[(k, &v)], None);

    let req = fal::build_list_request(&list(None, Some("Mg==")), &config()).unwrap();
    assert_eq!(req.url, "https://api.fal.ai/v1/compute/instances?cursor=Mg%3D%3D");
    let req = fal::build_list_request(&list(Some(1), None), &config()).unwrap();
    assert_eq!(req.url, "https://api.fal.ai/v1/compute/instances?limit=1");
    let req = fal::build_list_request(&list(Some(u32::MAX), None), &config()).unwrap();
    assert_eq!(req.url, "https://api.fal.ai/v1/compute/instances?limit=4294967295");
    // Every reserved character of an opaque cursor is encoded, so it cannot add a parameter.
    let req = fal::build_list_request(&list(None, Some("a+b/c&limit=1 é")), &config()).unwrap();
    assert_eq!(req.url, "https://api.fal.ai/v1/compute/instances?cursor=a%2Bb%2Fc%26limit%3D1%20%C3%A9");
}

#[test]
fn base_url_override_keeps_the_path_and_drops_a_trailing_slash() {
    let cfg = config().with_base_url("http://127.0.0.1:8787/fal/v1/");
    let req = fal::build_list_request(&list(Some(2), None), &cfg).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8787/fal/v1/compute/instances?limit=2");
    let req = fal::build_get_request("inst_abc123xyz", &cfg).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8787/fal/v1/compute/instances/inst_abc123xyz");
}

#[test]
fn get_request() {
    let req = fal::build_get_request("inst_abc123xyz", &config()).unwrap();
    let (k, v) = auth();
    assert_request(&req, Method::Get, "https://api.fal.ai/v1/compute/instances/inst_abc123xyz", &[(k, &v)], None);
}

#[test]
fn delete_request() {
    let req = fal::build_delete_request("inst_abc123xyz", &config()).unwrap();
    let (k, v) = auth();
    assert_request(&req, Method::Delete, "https://api.fal.ai/v1/compute/instances/inst_abc123xyz", &[(k, &v)], None);
}

#[test]
fn create_request_with_sector() {
    let input = create(
        "gpu_8x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        Some("sector_1"),
        None,
    );
    let req = fal::build_create_request(&input, GENERATED, &config()).unwrap();
    let (k, v) = auth();
    assert_request(
        &req,
        Method::Post,
        "https://api.fal.ai/v1/compute/instances",
        &[(k, &v), ("Content-Type", "application/json"), ("Idempotency-Key", GENERATED)],
        Some(
            r#"{"instance_type":"gpu_8x_h100_sxm5","ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2","sector":"sector_1"}"#,
        ),
    );
}

#[test]
fn create_request_omits_an_absent_sector() {
    let input = create(
        "gpu_1x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        None,
        None,
    );
    let req = fal::build_create_request(&input, GENERATED, &config()).unwrap();
    let (k, v) = auth();
    assert_request(
        &req,
        Method::Post,
        "https://api.fal.ai/v1/compute/instances",
        &[(k, &v), ("Content-Type", "application/json"), ("Idempotency-Key", GENERATED)],
        Some(
            r#"{"instance_type":"gpu_1x_h100_sxm5","ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2"}"#,
        ),
    );
    let input = create(
        "gpu_8x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        None,
        None,
    );
    let req = fal::build_create_request(&input, GENERATED, &config()).unwrap();
    assert_eq!(req.body.as_deref(), Some(&br#"{"instance_type":"gpu_8x_h100_sxm5","ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2"}"#[..]));
}

#[test]
fn create_request_json_escapes_the_ssh_key() {
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2 \"quoted\" user@host\n";
    let req = fal::build_create_request(&create("gpu_1x_h100_sxm5", key, None, None), GENERATED, &config()).unwrap();
    let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, json!({"instance_type": "gpu_1x_h100_sxm5", "ssh_key": key}));
}

#[test]
fn the_callers_idempotency_key_wins_over_the_generated_one() {
    let input = create(
        "gpu_1x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        None,
        Some("my-key-1"),
    );
    let req = fal::build_create_request(&input, GENERATED, &config()).unwrap();
    assert_eq!(req.header_value("Idempotency-Key"), Some("my-key-1"));
    assert_eq!(req.headers.iter().filter(|(k, _)| k == "Idempotency-Key").count(), 1);
    // The key is a header, never part of the body.
    assert!(!String::from_utf8(req.body.unwrap()).unwrap().contains("my-key-1"));
}

#[test]
fn an_invalid_idempotency_key_is_invalid_input() {
    let long = "k".repeat(256);
    for bad in ["", long.as_str(), "a\r\nInjected: 1", "a\nb", "a\rb", "a b", "tab\there", "clé"] {
        let input = create(
            "gpu_1x_h100_sxm5",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
            None,
            Some(bad),
        );
        let e = fal::build_create_request(&input, GENERATED, &config()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
        assert_eq!(e.field.as_deref(), Some("idempotencyKey"), "{bad:?}");
        assert!(e.message.starts_with("idempotencyKey: "), "{}", e.message);
    }
    let max = "k".repeat(255);
    let input = create(
        "gpu_1x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        None,
        Some(&max),
    );
    assert!(fal::build_create_request(&input, GENERATED, &config()).is_ok());
    assert!(fal::validate_idempotency_key(GENERATED).is_ok());
}

#[test]
fn authorization_is_key_scheme_and_never_doubled() {
    for given in [KEY.to_owned(), format!("  {KEY}\n"), format!("Key {KEY}")] {
        let cfg = ProviderConfig::new(Provider::Fal, given.clone());
        let req = fal::build_get_request("inst_1", &cfg).unwrap();
        assert_eq!(req.header_value("authorization"), Some(format!("Key {KEY}").as_str()), "{given:?}");
    }
    // Debug output of a request never shows the key.
    let req = fal::build_get_request("inst_1", &config()).unwrap();
    assert!(!format!("{req:?}").contains(KEY));
}

#[test]
fn the_dispatcher_builds_the_same_requests() {
    let cfg = config();
    let q = list(Some(50), Some("Mg=="));
    assert_eq!(
        provider::build_list_request(&ListQuery::Fal(q.clone()), &cfg).unwrap(),
        fal::build_list_request(&q, &cfg).unwrap()
    );
    assert_eq!(
        provider::build_get_request(Provider::Fal, "inst_1", &cfg).unwrap(),
        fal::build_get_request("inst_1", &cfg).unwrap()
    );
    assert_eq!(
        provider::build_delete_request(Provider::Fal, "inst_1", &cfg).unwrap(),
        fal::build_delete_request("inst_1", &cfg).unwrap()
    );
    let input = create(
        "gpu_8x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        Some("sector_2"),
        None,
    );
    assert_eq!(
        provider::build_create_request(&CreateInput::Fal(input.clone()), GENERATED, &cfg).unwrap(),
        fal::build_create_request(&input, GENERATED, &cfg).unwrap()
    );
    for op in [Operation::Start, Operation::Stop, Operation::Restart, Operation::Terminate] {
        let e = provider::build_action_request(Provider::Fal, op, "inst_1", &cfg).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported, "{op:?}");
    }
    assert_eq!(provider::build_ssh_request(Provider::Fal, "inst_1", &cfg).unwrap_err().code, ErrorCode::Unsupported);
}

// ---------------------------------------------------------------------------------------------
// Input rules: invalidInput naming the field, and no request built
// ---------------------------------------------------------------------------------------------

fn create_err(input: FalCreateInput) -> gpufleet::Error {
    fal::build_create_request(&input, GENERATED, &config()).expect_err("no request may be built")
}

#[test]
fn instance_type_must_be_documented() {
    for bad in ["", "gpu_2x_h100_sxm5", "GPU_8X_H100_SXM5", "gpu_8x_h100_sxm5 "] {
        let e = create_err(create(
            bad,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
            None,
            None,
        ));
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
        assert_eq!(e.field.as_deref(), Some("instanceType"));
        assert!(e.message.contains("gpu_8x_h100_sxm5") && e.message.contains("gpu_1x_h100_sxm5"), "{}", e.message);
        assert!(e.provider.is_none() && e.status.is_none() && !e.retryable);
    }
}

#[test]
fn ssh_key_must_not_be_empty() {
    for bad in ["", " ", "\n\t  \r\n"] {
        let e = create_err(create("gpu_1x_h100_sxm5", bad, None, None));
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
        assert_eq!(e.field.as_deref(), Some("sshKey"));
    }
}

#[test]
fn sector_must_be_documented_and_only_with_the_8x_type() {
    for bad in ["", "sector_0", "sector_4", "Sector_1"] {
        let e = create_err(create(
            "gpu_8x_h100_sxm5",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
            Some(bad),
            None,
        ));
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
        assert_eq!(e.field.as_deref(), Some("sector"));
        assert!(e.message.contains("sector_1"), "{}", e.message);
    }
    let e = create_err(create(
        "gpu_1x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        Some("sector_1"),
        None,
    ));
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("sector"));
    assert!(e.message.contains("gpu_8x_h100_sxm5"), "{}", e.message);
    for ok in ["sector_1", "sector_2", "sector_3"] {
        assert!(fal::build_create_request(
            &create(
                "gpu_8x_h100_sxm5",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
                Some(ok),
                None
            ),
            GENERATED,
            &config()
        )
        .is_ok());
    }
}

#[test]
fn limit_must_be_at_least_one() {
    let e = fal::build_list_request(&list(Some(0), None), &config()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("limit"));
}

#[test]
fn a_bad_cursor_is_invalid_input() {
    let long = "M".repeat(5000);
    for bad in ["", "Mg==\n", "Mg\r\n==", "\u{0}", long.as_str()] {
        let e = fal::build_list_request(&list(Some(10), Some(bad)), &config()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
        assert_eq!(e.field.as_deref(), Some("cursor"), "{bad:?}");
    }
}

#[test]
fn ids_are_checked_before_a_url_is_built() {
    let long = "i".repeat(300);
    for bad in ["", "../x", "a/b", "..", ".", "inst abc", "inst?x=1", "inst#x", "%2e%2e", "https://evil.example", long.as_str()] {
        for e in [fal::build_get_request(bad, &config()).unwrap_err(), fal::build_delete_request(bad, &config()).unwrap_err()] {
            assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
            assert_eq!(e.field.as_deref(), Some("id"), "{bad:?}");
        }
    }
    let e = fal::build_get_request(&long, &config()).unwrap_err();
    assert!(e.message.contains("255"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------
// Responses: every seed / spec example
// ---------------------------------------------------------------------------------------------

fn ssh(ip: &str) -> Option<SshInfo> {
    Some(SshInfo { host: ip.to_owned(), port: 22, user: None, command: Some(format!("ssh {ip}")) })
}

#[test]
fn seed_000_list_example() {
    let page = fal::parse_list_response(ok(200, fixture("list.json"))).unwrap();
    let whole = fixture_json("list.json");
    assert_eq!(page.next_cursor, None);
    assert!(!page.has_more);
    assert_eq!(page.total, None);
    assert_eq!(page.items.len(), 2);

    let a = &page.items[0];
    assert_eq!(
        *a,
        Instance {
            provider: Provider::Fal,
            id: "inst_abc123xyz".into(),
            name: None,
            status: Status::Running,
            provider_status: "ready".into(),
            status_reason: None,
            instance_type: Some("gpu_1x_h100_sxm5".into()),
            gpu_count: Some(1),
            gpu_model: Some("H100 SXM5".into()),
            region: Some("us-west".into()),
            sector: Some("sector_1".into()),
            ip: Some("203.0.113.42".into()),
            ssh: ssh("203.0.113.42"),
            created_at: None,
            tags: None,
            // fal's offers are its instance types, so the offer is the type.
            offer_id: Some("gpu_1x_h100_sxm5".into()),
            raw: whole["instances"][0].clone().into(),
            ..Instance::new(Provider::Fal, "", Status::Unknown, "")
        }
    );
    assert_eq!(a.raw["creator_user_nickname"], "developer");

    let b = &page.items[1];
    assert_eq!(b.id, "inst_def456uvw");
    assert_eq!(b.status, Status::Provisioning);
    assert_eq!(b.provider_status, "provisioning");
    assert_eq!(b.instance_type.as_deref(), Some("gpu_8x_h100_sxm5"));
    assert_eq!(b.gpu_count, Some(8));
    assert_eq!(b.gpu_model.as_deref(), Some("H100 SXM5"));
    assert_eq!(b.region.as_deref(), Some("us-east"));
    assert_eq!(b.sector, None);
    assert_eq!(b.ip, None);
    assert_eq!(b.ssh, None);
    assert_eq!(b.raw, whole["instances"][1]);
}

#[test]
fn a_middle_page_carries_its_cursor() {
    let page = fal::parse_list_response(ok(200, fixture("list-page2.json"))).unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("Mw=="));
    assert!(page.has_more);
    let ids: Vec<_> = page.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["inst_ghi789rst", "inst_jkl012opq"]);
    assert_eq!(page.items[0].region.as_deref(), Some("eu-north"));
    assert_eq!(page.items[0].sector.as_deref(), Some("sector_3"));
    assert_eq!(page.items[1].status, Status::Provisioning);
    assert_eq!(page.items[1].provider_status, "init");
    assert_eq!(page.items[1].region.as_deref(), Some("other"));
    assert_eq!(page.items[1].gpu_count, Some(1));
    // The cursor goes back out exactly as it came in.
    let next = fal::build_list_request(&list(Some(2), page.next_cursor.as_deref()), &config()).unwrap();
    assert_eq!(next.url, "https://api.fal.ai/v1/compute/instances?limit=2&cursor=Mw%3D%3D");
}

#[test]
fn the_dispatcher_parses_the_same_page() {
    let via = provider::parse_list_response(&ListQuery::first_page(Provider::Fal), ok(200, fixture("list.json"))).unwrap();
    assert_eq!(via, fal::parse_list_response(ok(200, fixture("list.json"))).unwrap());
}

#[test]
fn pagination_fields_are_read_leniently_where_the_spec_says_they_are_derived() {
    let page = fal::parse_list_response(ok(200, r#"{"instances":[],"next_cursor":"Mg=="}"#)).unwrap();
    assert_eq!((page.next_cursor.as_deref(), page.has_more), (Some("Mg=="), true), "has_more derived from next_cursor");
    let page = fal::parse_list_response(ok(200, r#"{"instances":[]}"#)).unwrap();
    assert_eq!((page.next_cursor, page.has_more), (None, false));
    let page = fal::parse_list_response(ok(200, r#"{"instances":[],"next_cursor":"","has_more":false}"#)).unwrap();
    assert_eq!(page.next_cursor, None, "an empty cursor is no cursor");
    // An inconsistent answer is reported as sent; the client's loop guards deal with it.
    let page = fal::parse_list_response(ok(200, r#"{"instances":[],"next_cursor":null,"has_more":true}"#)).unwrap();
    assert_eq!((page.next_cursor, page.has_more), (None, true));
}

#[test]
fn seed_001_get_example() {
    let inst = fal::parse_get_response(ok(200, fixture("get.json"))).unwrap();
    assert_eq!(inst.provider, Provider::Fal);
    assert_eq!(inst.id, "inst_abc123xyz");
    assert_eq!(inst.status, Status::Running);
    assert_eq!(inst.provider_status, "ready");
    assert_eq!(inst.instance_type.as_deref(), Some("gpu_1x_h100_sxm5"));
    assert_eq!(inst.gpu_count, Some(1));
    assert_eq!(inst.gpu_model.as_deref(), Some("H100 SXM5"));
    assert_eq!(inst.region.as_deref(), Some("us-west"));
    assert_eq!(inst.sector.as_deref(), Some("sector_1"));
    assert_eq!(inst.ip.as_deref(), Some("203.0.113.42"));
    assert_eq!(inst.ssh, ssh("203.0.113.42"));
    assert_eq!(inst.raw, fixture_json("get.json"));
    assert_eq!(provider::parse_get_response(Provider::Fal, ok(200, fixture("get.json"))).unwrap(), inst);
}

#[test]
fn spec_create_201_example() {
    let inst = fal::parse_create_response(ok(201, fixture("create-201.json"))).unwrap();
    assert_eq!(inst.id, "inst_abc123xyz");
    assert_eq!(inst.status, Status::Provisioning);
    assert_eq!(inst.provider_status, "provisioning");
    assert_eq!(inst.gpu_count, Some(8));
    assert_eq!(inst.gpu_model.as_deref(), Some("H100 SXM5"));
    assert_eq!(inst.region.as_deref(), Some("us-west"));
    assert_eq!(inst.sector.as_deref(), Some("sector_1"));
    assert_eq!(inst.ip, None, "no ip until ready");
    assert_eq!(inst.ssh, None);
    assert_eq!(inst.raw, fixture_json("create-201.json"));
    match provider::parse_create_response(Provider::Fal, ok(201, fixture("create-201.json"))).unwrap() {
        provider::Created::Instance(i) => assert_eq!(*i, inst),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_fields_are_kept_in_raw() {
    let inst = fal::parse_get_response(ok(200, fixture("get-extra-fields.json"))).unwrap();
    let original = fixture_json("get-extra-fields.json");
    assert_eq!(inst.raw, original);
    assert_eq!(inst.raw["labels"]["cost_center"], 42);
    assert_eq!(inst.raw["gpus"].as_array().unwrap().len(), 8);
    assert!(inst.raw.get("future_flag").unwrap().is_null());
    assert_eq!(inst.status, Status::Stopped);
    assert_eq!(inst.provider_status, "stopped");
    assert_eq!(inst.region.as_deref(), Some("us-central"));
    assert_eq!(inst.sector.as_deref(), Some("sector_2"));
    assert_eq!(inst.gpu_count, Some(8));
    // An undocumented created_at is not guessed at; it stays in raw.
    assert_eq!(inst.created_at, None);
}

#[test]
fn instances_serialize_camel_case_for_javascript() {
    let inst = fal::parse_get_response(ok(200, fixture("get.json"))).unwrap();
    let v = serde_json::to_value(&inst).unwrap();
    assert_eq!(v["provider"], "fal");
    assert_eq!(v["status"], "running");
    assert_eq!(v["providerStatus"], "ready");
    assert_eq!(v["instanceType"], "gpu_1x_h100_sxm5");
    assert_eq!(v["gpuCount"], 1);
    assert_eq!(v["gpuModel"], "H100 SXM5");
    assert_eq!(v["ssh"], json!({"host": "203.0.113.42", "port": 22, "command": "ssh 203.0.113.42"}));
    assert_eq!(v["raw"], fixture_json("get.json"));
    for absent in ["name", "statusReason", "createdAt", "tags"] {
        assert!(v.get(absent).is_none(), "{absent} must be omitted, not null");
    }
    let back: Instance = serde_json::from_value(v).unwrap();
    assert_eq!(back, inst);
}

#[test]
fn instance_type_shapes_give_gpu_count_and_model() {
    let get = |t: Value| {
        let body = json!({"id": "inst_1", "status": "ready", "instance_type": t, "region": "us-west"});
        fal::parse_get_response(ok(200, body.to_string())).unwrap()
    };
    let i = get(json!("gpu_8x_h100_sxm5"));
    assert_eq!((i.gpu_count, i.gpu_model.as_deref()), (Some(8), Some("H100 SXM5")));
    let i = get(json!("gpu_1x_h100_sxm5"));
    assert_eq!((i.gpu_count, i.gpu_model.as_deref()), (Some(1), Some("H100 SXM5")));
    // A type fal adds later still parses; what cannot be read is left out, not guessed.
    let i = get(json!("gpu_4x_b200"));
    assert_eq!((i.gpu_count, i.gpu_model.as_deref()), (Some(4), Some("B200")));
    let i = get(json!("cpu_large"));
    assert_eq!((i.gpu_count, i.gpu_model.as_deref(), i.instance_type.as_deref()), (None, None, Some("cpu_large")));
    let i = get(json!("gpu_x_"));
    assert_eq!((i.gpu_count, i.gpu_model), (None, None));
}

// ---------------------------------------------------------------------------------------------
// Status mapping (DESIGN.md table)
// ---------------------------------------------------------------------------------------------

const STATUS_TABLE: &[(&str, Status)] = &[
    ("ready", Status::Running),
    ("init", Status::Provisioning),
    ("pending", Status::Pending),
    ("provisioning", Status::Provisioning),
    ("stopped", Status::Stopped),
    ("unknown", Status::Unknown),
];

#[test]
fn the_status_enum_is_the_specs() {
    let documented: Vec<&str> = STATUS_TABLE.iter().map(|(s, _)| *s).collect();
    assert_eq!(fal::STATUSES, documented.as_slice());
    assert_eq!(fal::capabilities().provider_statuses, documented);
}

#[test]
fn every_status_maps_as_tabulated_and_keeps_the_raw_word() {
    for &(word, want) in STATUS_TABLE.iter().chain(&[("hibernating", Status::Unknown), ("", Status::Unknown)]) {
        assert_eq!(fal::map_status(word), want, "{word:?}");
        let mut body = fixture_json("get.json");
        body["status"] = json!(word);
        let inst = fal::parse_get_response(ok(200, body.to_string())).unwrap();
        assert_eq!(inst.status, want, "{word:?}");
        assert_eq!(inst.provider_status, word);
        assert_eq!(inst.raw["status"], word);

        let page =
            fal::parse_list_response(ok(200, json!({"instances": [body], "next_cursor": null, "has_more": false}).to_string()))
                .unwrap();
        assert_eq!(page.items[0].status, want);
        assert_eq!(page.items[0].provider_status, word);
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

struct Documented {
    status: u16,
    code: ErrorCode,
    kind: &'static str,
    message: &'static str,
}

const DOCUMENTED: &[Documented] = &[
    Documented { status: 400, code: ErrorCode::Validation, kind: "validation_error", message: "Invalid request parameters" },
    Documented { status: 401, code: ErrorCode::Unauthorized, kind: "authorization_error", message: "Authentication required" },
    Documented { status: 403, code: ErrorCode::Forbidden, kind: "authorization_error", message: "Access denied" },
    Documented { status: 404, code: ErrorCode::NotFound, kind: "not_found", message: "Resource not found" },
    Documented { status: 429, code: ErrorCode::RateLimited, kind: "rate_limited", message: "Rate limit exceeded" },
    Documented { status: 500, code: ErrorCode::Server, kind: "server_error", message: "An unexpected error occurred" },
];

fn check_documented(e: &gpufleet::Error, d: &Documented) {
    assert_eq!(e.code, d.code, "HTTP {}", d.status);
    assert_eq!(e.status, Some(d.status));
    assert_eq!(e.provider, Some(Provider::Fal));
    assert_eq!(e.provider_type.as_deref(), Some(d.kind));
    assert!(e.message.contains(d.message), "{}", e.message);
    assert!(e.message.contains(&d.status.to_string()), "{}", e.message);
    assert_eq!(e.retryable, matches!(d.code, ErrorCode::RateLimited | ErrorCode::Server));
    assert_eq!(e.request_id, None);
    assert_eq!(e.docs_url, None);
    assert_eq!(e.retry_after_ms, None);
    assert!(!e.message.contains(KEY));
}

#[test]
fn every_documented_error_status_gives_its_code() {
    for d in DOCUMENTED {
        let resp = || ok(d.status, fixture(&format!("error-{}.json", d.status)));
        check_documented(&fal::parse_get_response(resp()).unwrap_err(), d);
        check_documented(&fal::parse_list_response(resp()).unwrap_err(), d);
        check_documented(&fal::parse_create_response(resp()).unwrap_err(), d);
        check_documented(&fal::parse_error(&resp()), d);
        if d.status != 404 {
            check_documented(&fal::parse_delete_response(resp()).unwrap_err(), d);
        }
    }
}

#[test]
fn docs_url_and_request_id_come_from_the_body() {
    let e = fal::parse_create_response(ok(400, fixture("error-400-full.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert_eq!(e.provider_type.as_deref(), Some("validation_error"));
    assert!(e.message.contains("sector is only valid with gpu_8x_h100_sxm5"), "{}", e.message);
    assert_eq!(e.docs_url.as_deref(), Some("https://docs.fal.ai/compute"));
    assert_eq!(e.request_id.as_deref(), Some("req_01J8Z3Q4W5E6R7T8Y9U0I1O2P3"));
    // The body's id wins over a header's.
    let e = fal::parse_create_response(ok(400, fixture("error-400-full.json")).with_header("X-Request-Id", "hdr-1")).unwrap_err();
    assert_eq!(e.request_id.as_deref(), Some("req_01J8Z3Q4W5E6R7T8Y9U0I1O2P3"));
}

#[test]
fn request_id_falls_back_to_the_x_request_id_header() {
    let e =
        fal::parse_get_response(ok(404, fixture("error-404.json")).with_header("x-request-id", "req-from-header")).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(e.request_id.as_deref(), Some("req-from-header"));
}

#[test]
fn rate_limited_honours_retry_after() {
    let e = fal::parse_list_response(ok(429, fixture("error-429.json")).with_header("Retry-After", "7")).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after_ms, Some(7000));
    assert!(e.retryable);
    let e = fal::parse_list_response(ok(429, fixture("error-429.json")).with_header("retry-after", "3600")).unwrap_err();
    assert_eq!(e.retry_after_ms, Some(60_000), "capped at 60 s");
}

#[test]
fn rate_limited_falls_back_to_x_ratelimit_reset() {
    let e = fal::parse_list_response(ok(429, fixture("error-429.json")).with_header("x-ratelimit-reset", "12")).unwrap_err();
    assert_eq!(e.retry_after_ms, Some(12_000));
    let e = fal::parse_list_response(
        ok(429, fixture("error-429.json")).with_header("x-ratelimit-reset", "12").with_header("Retry-After", "2"),
    )
    .unwrap_err();
    assert_eq!(e.retry_after_ms, Some(2000), "Retry-After wins");
    let e =
        fal::parse_list_response(ok(429, fixture("error-429.json")).with_header("x-ratelimit-reset", "1893456000")).unwrap_err();
    assert_eq!(e.retry_after_ms, Some(60_000), "capped");
    let e = fal::parse_list_response(ok(429, fixture("error-429.json")).with_header("x-ratelimit-reset", "soon")).unwrap_err();
    assert_eq!(e.retry_after_ms, None);
}

#[test]
fn gateway_errors_are_server_errors() {
    for status in [502, 503] {
        let e = fal::parse_get_response(ok(status, fixture("error-502.html"))).unwrap_err();
        assert_eq!(e.code, ErrorCode::Server, "{status}");
        assert_eq!(e.status, Some(status));
        assert!(e.retryable);
        assert!(e.message.contains("502 Bad Gateway"), "message from the raw text: {}", e.message);
        assert_eq!(e.provider_type, None);
    }
    let e =
        fal::parse_get_response(ok(503, r#"{"error":{"type":"server_error","message":"upstream unavailable"}}"#)).unwrap_err();
    assert_eq!((e.code, e.provider_type.as_deref()), (ErrorCode::Server, Some("server_error")));
    assert!(e.message.contains("upstream unavailable"));
}

#[test]
fn undocumented_error_shapes_are_still_read() {
    // FastAPI's default shapes.
    let e = fal::parse_get_response(ok(404, r#"{"detail":"Not Found"}"#)).unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.ends_with("Not Found"), "{}", e.message);
    let e = fal::parse_create_response(ok(422, r#"{"detail":[{"loc":["body","ssh_key"],"msg":"field required"}]}"#)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.message.contains("field required"), "{}", e.message);
    // A string error, an empty body, an unknown type and an unexpected status.
    let e = fal::parse_get_response(ok(401, r#"{"error":"Unauthorized"}"#)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(e.message.contains("Unauthorized"));
    let e = fal::parse_get_response(ok(500, "")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
    assert!(e.message.contains("HTTP 500"), "{}", e.message);
    let e = fal::parse_get_response(ok(501, r#"{"error":{"type":"not_implemented","message":"Nope"}}"#)).unwrap_err();
    assert_eq!((e.code, e.provider_type.as_deref()), (ErrorCode::Server, Some("not_implemented")));
    let e = fal::parse_get_response(ok(418, "teapot")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
    assert_eq!(e.status, Some(418));
    // A long HTML page is cut, not copied whole into the message.
    let e = fal::parse_get_response(ok(502, format!("<html>{}</html>", "x".repeat(10_000)))).unwrap_err();
    assert!(e.message.chars().count() < 400, "{}", e.message.len());
}

#[test]
fn errors_serialize_for_javascript() {
    let e = fal::parse_list_response(ok(429, fixture("error-429.json")).with_header("Retry-After", "7")).unwrap_err();
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["code"], "rateLimited");
    assert_eq!(v["provider"], "fal");
    assert_eq!(v["status"], 429);
    assert_eq!(v["providerType"], "rate_limited");
    assert_eq!(v["retryAfterMs"], 7000);
    assert_eq!(v["retryable"], true);
    assert!(v.get("requestId").is_none() && v.get("docsUrl").is_none() && v.get("details").is_none());
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_outcomes() {
    let out = fal::parse_delete_response(ok(204, "")).unwrap();
    assert!(!out.already_gone);
    assert!(!fal::parse_delete_response(ok(200, "{}")).unwrap().already_gone);
    assert!(fal::parse_delete_response(ok(404, fixture("error-404.json"))).unwrap().already_gone);
    assert!(fal::parse_delete_response(ok(404, "")).unwrap().already_gone);
    let e = fal::parse_delete_response(ok(403, fixture("error-403.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(e.provider_type.as_deref(), Some("authorization_error"));
    assert!(provider::parse_delete_response(Provider::Fal, ok(404, "")).unwrap().already_gone);
    assert_eq!(serde_json::to_value(out).unwrap(), json!({"alreadyGone": false}));
}

// ---------------------------------------------------------------------------------------------
// Malformed and truncated bodies → decode with the JSON path, never a panic
// ---------------------------------------------------------------------------------------------

fn decode_field(result: gpufleet::Result<impl std::fmt::Debug>) -> String {
    let e = result.expect_err("must not parse");
    assert_eq!(e.code, ErrorCode::Decode, "{e:?}");
    assert_eq!(e.provider, Some(Provider::Fal));
    assert!(!e.retryable);
    assert!(e.message.contains(e.field.as_deref().unwrap()), "{}", e.message);
    e.field.expect("decode errors name a path")
}

#[test]
fn malformed_list_bodies_name_the_json_path() {
    let cases: &[(&str, &str)] = &[
        (r#"{"instances":[{"id":"a","status":"#, "instances[0].status"),
        (r#"{"instances":[{"id":1,"status":"ready"}],"next_cursor":null,"has_more":false}"#, "instances[0].id"),
        (r#"{"instances":[{"status":"ready"}],"next_cursor":null,"has_more":false}"#, "instances[0].id"),
        (r#"{"instances":[{"id":"a"}],"next_cursor":null,"has_more":false}"#, "instances[0].status"),
        (r#"{"instances":[{"id":"a","status":null}],"next_cursor":null,"has_more":false}"#, "instances[0].status"),
        (
            r#"{"instances":[{"id":"a","status":"ready"},{"id":"b","status":7}],"next_cursor":null,"has_more":false}"#,
            "instances[1].status",
        ),
        (
            r#"{"instances":[{"id":"a","status":"ready","instance_type":8}],"next_cursor":null,"has_more":false}"#,
            "instances[0].instance_type",
        ),
        (
            r#"{"instances":[{"id":"a","status":"ready","ip":["1.2.3.4"]}],"next_cursor":null,"has_more":false}"#,
            "instances[0].ip",
        ),
        (r#"{"instances":[null],"next_cursor":null,"has_more":false}"#, "instances[0]"),
        (r#"{"instances":[["a","ready"]],"next_cursor":null,"has_more":false}"#, "instances[0]"),
        (r#"{"instances":null,"next_cursor":null,"has_more":false}"#, "instances"),
        (r#"{"instances":{},"next_cursor":null,"has_more":false}"#, "instances"),
        (r#"{"next_cursor":null,"has_more":false}"#, "instances"),
        (r#"{"instances":[],"next_cursor":5,"has_more":false}"#, "next_cursor"),
        (r#"{"instances":[],"next_cursor":null,"has_more":"no"}"#, "has_more"),
        ("[]", "body"),
        (r#"[[],null,false]"#, "body"),
        ("", "body"),
        ("null", "body"),
        ("<html><body>502 Bad Gateway</body></html>", "body"),
        (r#"{"instances":[]} trailing"#, "body"),
    ];
    for (body, want) in cases {
        assert_eq!(decode_field(fal::parse_list_response(ok(200, *body))), *want, "{body}");
    }
}

#[test]
fn malformed_instance_bodies_name_the_json_path() {
    let cases: &[(&str, &str)] = &[
        ("[]", "body"),
        (r#"["inst_1","ready"]"#, "body"),
        ("", "body"),
        ("   ", "body"),
        ("null", "body"),
        ("\"ready\"", "body"),
        ("<!DOCTYPE html><html></html>", "body"),
        (r#"{"id":"inst_1","status":"#, "status"),
        (r#"{"id":"inst_1"}"#, "status"),
        (r#"{"status":"ready"}"#, "id"),
        (r#"{"id":true,"status":"ready"}"#, "id"),
        (r#"{"id":"inst_1","status":"ready","region":{"name":"us-west"}}"#, "region"),
        (r#"{"id":"inst_1","status":"ready","sector":1}"#, "sector"),
    ];
    for (body, want) in cases {
        assert_eq!(decode_field(fal::parse_get_response(ok(200, *body))), *want, "get {body}");
        assert_eq!(decode_field(fal::parse_create_response(ok(201, *body))), *want, "create {body}");
    }
    let e = fal::parse_get_response(ok(200, r#"{"id":"inst_1","status":"#)).unwrap_err();
    assert!(e.message.contains("truncated"), "{}", e.message);
}

#[test]
fn every_truncation_of_every_fixture_is_a_decode_error() {
    for name in ["list.json", "list-page2.json"] {
        let body = fixture(name);
        let end = body.iter().rposition(|b| *b == b'}').unwrap();
        for cut in 0..end {
            decode_field(fal::parse_list_response(ok(200, &body[..cut])));
        }
        assert!(fal::parse_list_response(ok(200, body)).is_ok());
    }
    for name in ["get.json", "create-201.json", "get-extra-fields.json"] {
        let body = fixture(name);
        let end = body.iter().rposition(|b| *b == b'}').unwrap();
        for cut in 0..end {
            decode_field(fal::parse_get_response(ok(200, &body[..cut])));
        }
    }
}

#[test]
fn hostile_bodies_do_not_panic() {
    let deep = "[".repeat(100_000);
    decode_field(fal::parse_list_response(ok(200, deep.as_str())));
    let deep_obj = format!("{{\"instances\":[{}", "{\"a\":".repeat(50_000));
    decode_field(fal::parse_list_response(ok(200, deep_obj.as_str())));
    decode_field(fal::parse_get_response(ok(200, vec![0xff, 0xfe, 0x00])));
    decode_field(fal::parse_get_response(ok(200, b"{\"id\":\"\xff\",\"status\":\"ready\"}".to_vec())));
    let _ = fal::parse_error(&ok(500, vec![0xff; 1000]));
    let _ = fal::parse_error(&ok(500, deep.clone()));
    // A big but valid page parses.
    let items: Vec<Value> = (0..5000)
        .map(|i| json!({"id": format!("inst_{i}"), "instance_type": "gpu_1x_h100_sxm5", "region": "us-west", "status": "ready"}))
        .collect();
    let body = json!({"instances": items, "next_cursor": null, "has_more": false}).to_string();
    let page = fal::parse_list_response(ok(200, body)).unwrap();
    assert_eq!(page.items.len(), 5000);
}

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

#[test]
fn capabilities() {
    let caps = fal::capabilities();
    assert_eq!(caps, Provider::Fal.capabilities());
    assert_eq!(caps.provider, Provider::Fal);
    assert_eq!(caps.operations, [Operation::List, Operation::Get, Operation::Create, Operation::Delete]);
    for op in [Operation::Start, Operation::Stop, Operation::Restart, Operation::Terminate, Operation::Ssh] {
        assert!(!caps.supports(op), "{op:?}");
    }
    assert_eq!(caps.pagination, Pagination::Cursor);
    assert!(caps.idempotent_create);
    assert_eq!(caps.list_filters, ["limit", "cursor"]);
    let names: Vec<_> = caps.create_fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["instanceType", "sshKey", "sector", "idempotencyKey"]);
    assert_eq!(caps.create_fields[0].options, fal::INSTANCE_TYPES);
    assert_eq!(caps.create_fields[2].options, fal::SECTORS);
    assert_eq!(Provider::Fal.default_base_url(), "https://api.fal.ai/v1");
}
