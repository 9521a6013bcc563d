//! fal's older alpha Compute API (`https://rest.alpha.fal.ai`, seed 002): the exact outgoing
//! requests (singular `/compute/instance/{id}`, no `Idempotency-Key`), the seed's example
//! responses, nullable `sector`/`ip`, status mapping, errors and malformed bodies.

mod support;

use gpufleet::provider::{self, fal_alpha};
use gpufleet::{
    CreateInput, ErrorCode, FalAlphaCreateInput, FalAlphaListQuery, HttpRequest, HttpResponse, Instance, ListQuery, Method,
    Operation, Pagination, Provider, SshInfo, Status,
};
use serde_json::{json, Value};
use support::fixtures::fal::fixture as fal_fixture;
use support::fixtures::fal_alpha::{config, fixture, fixture_json};
use support::fixtures::FAL_ALPHA_KEY as KEY;

fn ok(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse::new(status, body)
}

fn create(instance_type: &str, ssh_key: &str, sector: Option<&str>) -> FalAlphaCreateInput {
    FalAlphaCreateInput {
        instance_type: instance_type.to_owned(),
        ssh_key: ssh_key.to_owned(),
        sector: sector.map(str::to_owned),
    }
}

fn assert_request(req: &HttpRequest, method: Method, url: &str, hdrs: &[(&str, &str)], body: Option<&str>) {
    let want: Vec<(String, String)> = hdrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(req.method, method, "method");
    assert_eq!(req.url, url, "url");
    assert_eq!(req.headers, want, "headers");
    assert_eq!(req.body.as_deref().map(|b| std::str::from_utf8(b).unwrap()), body, "body");
}

fn auth() -> String {
    format!("Key {KEY}")
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[test]
fn list_request_is_plural_with_no_query() {
    let req = fal_alpha::build_list_request(&FalAlphaListQuery::default(), &config()).unwrap();
    assert_request(&req, Method::Get, "https://rest.alpha.fal.ai/compute/instances", &[("Authorization", &auth())], None);
}

#[test]
fn a_cursor_on_the_alpha_list_is_invalid_input() {
    for cursor in ["Mg==", ""] {
        let q = FalAlphaListQuery { cursor: Some(cursor.to_owned()) };
        let e = fal_alpha::build_list_request(&q, &config()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{cursor:?}");
        assert_eq!(e.field.as_deref(), Some("cursor"));
    }
    // And from JSON, the alpha query has no limit at all.
    let e = ListQuery::from_json(Provider::FalAlpha, json!({"limit": 10})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("query.limit"));
}

#[test]
fn get_request_is_singular() {
    let id = "550e8400-e29b-41d4-a716-446655440000";
    let req = fal_alpha::build_get_request(id, &config()).unwrap();
    assert_request(
        &req,
        Method::Get,
        "https://rest.alpha.fal.ai/compute/instance/550e8400-e29b-41d4-a716-446655440000",
        &[("Authorization", &auth())],
        None,
    );
}

#[test]
fn delete_request_is_singular() {
    let req = fal_alpha::build_delete_request("your-instance-id", &config()).unwrap();
    assert_request(
        &req,
        Method::Delete,
        "https://rest.alpha.fal.ai/compute/instance/your-instance-id",
        &[("Authorization", &auth())],
        None,
    );
}

#[test]
fn create_request_is_singular_and_has_no_idempotency_key() {
    let req = fal_alpha::build_create_request(
        &create(
            "gpu_8x_h100_sxm5",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
            Some("sector_1"),
        ),
        &config(),
    )
    .unwrap();
    assert_request(
        &req,
        Method::Post,
        "https://rest.alpha.fal.ai/compute/instance",
        &[("Authorization", &auth()), ("Content-Type", "application/json")],
        Some(
            r#"{"instance_type":"gpu_8x_h100_sxm5","ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2","sector":"sector_1"}"#,
        ),
    );
    assert_eq!(req.header_value("Idempotency-Key"), None);

    let req = fal_alpha::build_create_request(
        &create("gpu_1x_h100_sxm5", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", None),
        &config(),
    )
    .unwrap();
    assert_request(
        &req,
        Method::Post,
        "https://rest.alpha.fal.ai/compute/instance",
        &[("Authorization", &auth()), ("Content-Type", "application/json")],
        Some(
            r#"{"instance_type":"gpu_1x_h100_sxm5","ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2"}"#,
        ),
    );
}

#[test]
fn the_seeds_create_example_is_not_json_but_our_body_is() {
    // Seed 002's request example has a trailing comma; gpufleet sends the same fields as valid JSON.
    let seed = fixture("create-request.txt");
    assert!(serde_json::from_slice::<Value>(&seed).is_err());
    let req = fal_alpha::build_create_request(
        &create("gpu_1x_h100_sxm5", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", None),
        &config(),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"instance_type": "gpu_1x_h100_sxm5", "ssh_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2"})
    );
}

#[test]
fn the_dispatcher_builds_the_same_requests_and_never_an_idempotency_key() {
    let cfg = config();
    assert_eq!(
        provider::build_list_request(&ListQuery::first_page(Provider::FalAlpha), &cfg).unwrap(),
        fal_alpha::build_list_request(&FalAlphaListQuery::default(), &cfg).unwrap()
    );
    assert_eq!(
        provider::build_get_request(Provider::FalAlpha, "abc", &cfg).unwrap(),
        fal_alpha::build_get_request("abc", &cfg).unwrap()
    );
    assert_eq!(
        provider::build_delete_request(Provider::FalAlpha, "abc", &cfg).unwrap(),
        fal_alpha::build_delete_request("abc", &cfg).unwrap()
    );
    let input = create(
        "gpu_8x_h100_sxm5",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
        Some("sector_3"),
    );
    let via = provider::build_create_request(&CreateInput::FalAlpha(input.clone()), "generated-key", &cfg).unwrap();
    assert_eq!(via, fal_alpha::build_create_request(&input, &cfg).unwrap());
    assert_eq!(via.header_value("Idempotency-Key"), None);
    for op in [Operation::Start, Operation::Stop, Operation::Restart, Operation::Terminate] {
        assert_eq!(provider::build_action_request(Provider::FalAlpha, op, "abc", &cfg).unwrap_err().code, ErrorCode::Unsupported);
    }
}

#[test]
fn the_create_input_has_no_idempotency_key_field() {
    let e = CreateInput::from_json(
        Provider::FalAlpha,
        json!({"instanceType": "gpu_1x_h100_sxm5", "sshKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", "idempotencyKey": "k"}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("input.idempotencyKey"));
}

#[test]
fn base_url_override() {
    let cfg = config().with_base_url("http://127.0.0.1:9000/fal-alpha/");
    assert_eq!(fal_alpha::build_get_request("abc", &cfg).unwrap().url, "http://127.0.0.1:9000/fal-alpha/compute/instance/abc");
    assert_eq!(
        fal_alpha::build_list_request(&FalAlphaListQuery::default(), &cfg).unwrap().url,
        "http://127.0.0.1:9000/fal-alpha/compute/instances"
    );
}

// ---------------------------------------------------------------------------------------------
// Input rules
// ---------------------------------------------------------------------------------------------

#[test]
fn create_input_rules() {
    let cases: &[(FalAlphaCreateInput, &str)] = &[
        (
            create("gpu_2x_h100_sxm5", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", None),
            "instanceType",
        ),
        (create("", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", None), "instanceType"),
        (create("gpu_1x_h100_sxm5", "", None), "sshKey"),
        (create("gpu_1x_h100_sxm5", " \n\t", None), "sshKey"),
        (
            create(
                "gpu_8x_h100_sxm5",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
                Some("sector_9"),
            ),
            "sector",
        ),
        (
            create(
                "gpu_1x_h100_sxm5",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
                Some("sector_1"),
            ),
            "sector",
        ),
    ];
    for (input, field) in cases {
        let e = fal_alpha::build_create_request(input, &config()).expect_err("no request may be built");
        assert_eq!(e.code, ErrorCode::InvalidInput, "{input:?}");
        assert_eq!(e.field.as_deref(), Some(*field), "{input:?}");
    }
    let e = fal_alpha::build_create_request(
        &create(
            "gpu_1x_h100_sxm5",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2",
            Some("sector_1"),
        ),
        &config(),
    )
    .unwrap_err();
    assert!(e.message.contains("gpu_8x_h100_sxm5"), "{}", e.message);
}

#[test]
fn ids_are_checked() {
    let long = "a".repeat(300);
    for bad in ["", "../x", "a/b", "..", "a b", "x?y", long.as_str()] {
        for e in [
            fal_alpha::build_get_request(bad, &config()).unwrap_err(),
            fal_alpha::build_delete_request(bad, &config()).unwrap_err(),
        ] {
            assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
            assert_eq!(e.field.as_deref(), Some("id"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

fn ssh(ip: &str) -> Option<SshInfo> {
    Some(SshInfo { host: ip.to_owned(), port: 22, user: None, command: Some(format!("ssh {ip}")) })
}

#[test]
fn seed_002_list_example_is_one_last_page() {
    let page = fal_alpha::parse_list_response(ok(200, fixture("list.json"))).unwrap();
    let whole = fixture_json("list.json");
    assert_eq!(page.next_cursor, None);
    assert!(!page.has_more);
    assert_eq!(page.total, None);
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        page.items[0],
        Instance {
            provider: Provider::FalAlpha,
            id: "550e8400-e29b-41d4-a716-446655440000".into(),
            name: None,
            status: Status::Running,
            provider_status: "ready".into(),
            status_reason: None,
            instance_type: Some("gpu_1x_h100_sxm5".into()),
            gpu_count: Some(1),
            gpu_model: Some("H100 SXM5".into()),
            region: None,
            sector: None,
            ip: Some("192.168.1.100".into()),
            ssh: ssh("192.168.1.100"),
            created_at: None,
            tags: None,
            // fal's offers are its instance types, so the offer is the type.
            offer_id: Some("gpu_1x_h100_sxm5".into()),
            raw: whole[0].clone().into(),
            ..Instance::new(Provider::FalAlpha, "", Status::Unknown, "")
        }
    );
    let b = &page.items[1];
    assert_eq!(b.id, "550e8400-e29b-41d4-a716-446655440001");
    assert_eq!(b.status, Status::Provisioning);
    assert_eq!(b.provider_status, "provisioning");
    assert_eq!(b.gpu_count, Some(8));
    assert_eq!(b.gpu_model.as_deref(), Some("H100 SXM5"));
    assert_eq!(b.sector.as_deref(), Some("sector_2"));
    assert_eq!(b.ip.as_deref(), Some("192.168.1.101"));
    assert_eq!(b.region, None, "the alpha API has no region");
    assert_eq!(b.raw, whole[1]);

    let via = provider::parse_list_response(&ListQuery::first_page(Provider::FalAlpha), ok(200, fixture("list.json")));
    assert_eq!(via.unwrap(), page);
}

#[test]
fn seed_002_get_example() {
    let inst = fal_alpha::parse_get_response(ok(200, fixture("get.json"))).unwrap();
    assert_eq!(inst.provider, Provider::FalAlpha);
    assert_eq!(inst.id, "550e8400-e29b-41d4-a716-446655440000");
    assert_eq!(inst.status, Status::Running);
    assert_eq!(inst.provider_status, "ready");
    assert_eq!(inst.instance_type.as_deref(), Some("gpu_1x_h100_sxm5"));
    assert_eq!(inst.gpu_count, Some(1));
    assert_eq!(inst.ip.as_deref(), Some("192.168.1.100"));
    assert_eq!(inst.raw, fixture_json("get.json"));
    assert_eq!(provider::parse_get_response(Provider::FalAlpha, ok(200, fixture("get.json"))).unwrap(), inst);
    assert_eq!(serde_json::to_value(&inst).unwrap()["provider"], "fal-alpha");
}

#[test]
fn null_sector_and_ip_and_unknown_fields() {
    let page = fal_alpha::parse_list_response(ok(200, fixture("list-nullable.json"))).unwrap();
    let whole = fixture_json("list-nullable.json");
    assert_eq!(page.items.len(), 2);
    for (i, inst) in page.items.iter().enumerate() {
        assert_eq!(inst.sector, None);
        assert_eq!(inst.ip, None);
        assert_eq!(inst.ssh, None);
        assert_eq!(inst.raw, whole[i], "raw is the record as sent, nulls included");
        assert!(inst.raw.get("sector").unwrap().is_null());
    }
    assert_eq!(page.items[0].status, Status::Pending);
    assert_eq!(page.items[1].status, Status::Provisioning);
    assert_eq!(page.items[1].provider_status, "init");
    assert_eq!(page.items[1].raw["created_by"]["nickname"], "developer");
    // An empty-string ip is no ip either.
    let inst =
        fal_alpha::parse_get_response(ok(200, r#"{"id":"a","instance_type":"gpu_1x_h100_sxm5","ip":"","status":"ready"}"#))
            .unwrap();
    assert_eq!((inst.ip, inst.ssh), (None, None));
}

#[test]
fn an_empty_fleet_is_an_empty_last_page() {
    let page = fal_alpha::parse_list_response(ok(200, "[]")).unwrap();
    assert!(page.items.is_empty() && !page.has_more && page.next_cursor.is_none());
}

#[test]
fn create_answers_a_compute_instance() {
    // The alpha create response is not documented; a ComputeInstance is expected.
    let body = r#"{"id":"550e8400-e29b-41d4-a716-446655440009","instance_type":"gpu_8x_h100_sxm5","sector":"sector_1","ip":null,"status":"pending"}"#;
    for status in [200, 201] {
        let inst = fal_alpha::parse_create_response(ok(status, body)).unwrap();
        assert_eq!(inst.status, Status::Pending);
        assert_eq!(inst.sector.as_deref(), Some("sector_1"));
        assert_eq!(inst.ip, None);
        assert_eq!(inst.provider, Provider::FalAlpha);
    }
}

#[test]
fn every_alpha_status_maps_and_an_unknown_one_is_kept() {
    let table = [
        ("ready", Status::Running),
        ("init", Status::Provisioning),
        ("pending", Status::Pending),
        ("provisioning", Status::Provisioning),
        ("unknown", Status::Unknown),
        // v1-only word, in case the alpha API starts sending it.
        ("stopped", Status::Stopped),
        ("hibernating", Status::Unknown),
    ];
    assert_eq!(fal_alpha::STATUSES, ["ready", "init", "pending", "provisioning", "unknown"]);
    for (word, want) in table {
        let mut body = fixture_json("get.json");
        body["status"] = json!(word);
        let inst = fal_alpha::parse_get_response(ok(200, body.to_string())).unwrap();
        assert_eq!(inst.status, want, "{word}");
        assert_eq!(inst.provider_status, word);
        let page = fal_alpha::parse_list_response(ok(200, json!([body]).to_string())).unwrap();
        assert_eq!((page.items[0].status, page.items[0].provider_status.as_str()), (want, word));
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and delete (the alpha error format is undocumented: read defensively)
// ---------------------------------------------------------------------------------------------

#[test]
fn errors_map_by_status() {
    let cases = [
        (400, ErrorCode::Validation),
        (401, ErrorCode::Unauthorized),
        (403, ErrorCode::Forbidden),
        (404, ErrorCode::NotFound),
        (429, ErrorCode::RateLimited),
        (500, ErrorCode::Server),
        (502, ErrorCode::Server),
        (503, ErrorCode::Server),
    ];
    for (status, code) in cases {
        for e in [
            fal_alpha::parse_get_response(ok(status, r#"{"detail":"Something went wrong"}"#)).unwrap_err(),
            fal_alpha::parse_list_response(ok(status, r#"{"detail":"Something went wrong"}"#)).unwrap_err(),
            fal_alpha::parse_create_response(ok(status, r#"{"detail":"Something went wrong"}"#)).unwrap_err(),
        ] {
            assert_eq!(e.code, code, "{status}");
            assert_eq!(e.status, Some(status));
            assert_eq!(e.provider, Some(Provider::FalAlpha));
            assert!(e.message.contains("Something went wrong"), "{}", e.message);
            assert!(!e.message.contains(KEY));
        }
    }
}

#[test]
fn v1_shaped_error_bodies_are_read_too() {
    let e = fal_alpha::parse_get_response(
        ok(400, fal_fixture("error-400-full.json")).with_header("x-request-id", "ignored-because-body-has-one"),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
    assert_eq!(e.provider_type.as_deref(), Some("validation_error"));
    assert_eq!(e.request_id.as_deref(), Some("req_01J8Z3Q4W5E6R7T8Y9U0I1O2P3"));
    assert_eq!(e.docs_url.as_deref(), Some("https://docs.fal.ai/compute"));
    let e = fal_alpha::parse_get_response(ok(401, fal_fixture("error-401.json"))).unwrap_err();
    assert_eq!((e.code, e.provider_type.as_deref()), (ErrorCode::Unauthorized, Some("authorization_error")));
}

#[test]
fn request_id_header_retry_after_and_html() {
    let e = fal_alpha::parse_list_response(ok(429, "").with_header("Retry-After", "7").with_header("X-Request-Id", "r-1"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.retry_after_ms, Some(7000));
    assert_eq!(e.request_id.as_deref(), Some("r-1"));
    assert!(e.retryable);
    let e = fal_alpha::parse_list_response(ok(502, fal_fixture("error-502.html"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
    assert!(e.message.contains("502 Bad Gateway"), "{}", e.message);
}

#[test]
fn delete_outcomes() {
    for status in [200, 202, 204] {
        assert!(!fal_alpha::parse_delete_response(ok(status, "")).unwrap().already_gone, "{status}");
    }
    assert!(fal_alpha::parse_delete_response(ok(404, r#"{"detail":"Not Found"}"#)).unwrap().already_gone);
    assert!(provider::parse_delete_response(Provider::FalAlpha, ok(404, "")).unwrap().already_gone);
    let e = fal_alpha::parse_delete_response(ok(403, r#"{"detail":"Forbidden"}"#)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = fal_alpha::parse_delete_response(ok(500, "")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server);
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies
// ---------------------------------------------------------------------------------------------

fn decode_field(result: gpufleet::Result<impl std::fmt::Debug>) -> String {
    let e = result.expect_err("must not parse");
    assert_eq!(e.code, ErrorCode::Decode, "{e:?}");
    assert_eq!(e.provider, Some(Provider::FalAlpha));
    e.field.expect("decode errors name a path")
}

#[test]
fn malformed_list_bodies_name_the_json_path() {
    let cases: &[(&str, &str)] = &[
        (r#"[{"id":"a","status":"#, "[0].status"),
        (r#"[{"id":1,"status":"ready"}]"#, "[0].id"),
        (r#"[{"id":"a","status":"ready"},{"id":"b"}]"#, "[1].status"),
        (r#"[{"id":"a","status":"ready","sector":2}]"#, "[0].sector"),
        (r#"[null]"#, "[0]"),
        (r#"[["a","ready"]]"#, "[0]"),
        // The v1 envelope is not the alpha shape.
        (r#"{"instances":[],"next_cursor":null,"has_more":false}"#, "body"),
        ("{}", "body"),
        ("", "body"),
        ("null", "body"),
        ("<html>502</html>", "body"),
        ("[] []", "body"),
    ];
    for (body, want) in cases {
        assert_eq!(decode_field(fal_alpha::parse_list_response(ok(200, *body))), *want, "{body}");
    }
}

#[test]
fn malformed_instance_bodies_name_the_json_path() {
    for (body, want) in [("[]", "body"), ("", "body"), (r#"{"id":"a"}"#, "status"), (r#"{"id":"a","status":"#, "status")] {
        assert_eq!(decode_field(fal_alpha::parse_get_response(ok(200, body))), want, "{body}");
        assert_eq!(decode_field(fal_alpha::parse_create_response(ok(200, body))), want, "{body}");
    }
}

#[test]
fn every_truncation_is_a_decode_error() {
    for name in ["list.json", "list-nullable.json"] {
        let body = fixture(name);
        let end = body.iter().rposition(|b| *b == b']').unwrap();
        for cut in 0..end {
            decode_field(fal_alpha::parse_list_response(ok(200, &body[..cut])));
        }
    }
    let body = fixture("get.json");
    let end = body.iter().rposition(|b| *b == b'}').unwrap();
    for cut in 0..end {
        decode_field(fal_alpha::parse_get_response(ok(200, &body[..cut])));
    }
}

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

#[test]
fn capabilities() {
    let caps = fal_alpha::capabilities();
    assert_eq!(caps, Provider::FalAlpha.capabilities());
    assert_eq!(caps.operations, [Operation::List, Operation::Get, Operation::Create, Operation::Delete]);
    assert_eq!(caps.pagination, Pagination::None);
    assert!(!caps.idempotent_create, "alpha create is never retried after an ambiguous failure");
    assert!(caps.list_filters.is_empty());
    let names: Vec<_> = caps.create_fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["instanceType", "sshKey", "sector"]);
    assert_eq!(Provider::FalAlpha.default_base_url(), "https://rest.alpha.fal.ai");
}
