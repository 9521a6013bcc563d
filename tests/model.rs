//! The public model, errors and provider helpers as JavaScript and Rust users see them: serde
//! names, input parsing that names the bad field, config checks and redaction, the error shape.

use gpufleet::model::input_from_json;
use gpufleet::provider::{provider_config_field, validate_id};
use gpufleet::{
    BillingMode, Capabilities, CreateInput, Error, ErrorCode, FalCreateInput, FalListQuery, FleetQuery, Instance, ListQuery,
    ManagedBy, NovitaListQuery, Operation, Page, Pagination, PoolRef, PriorityLevel, Provider, ProviderConfig, SfcListQuery,
    SpotInfo, SpotStatus, SshInfo, Status, TransportError,
};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Status, Provider, ErrorCode, Operation, Pagination: wire names
// ---------------------------------------------------------------------------------------------

#[test]
fn status_names() {
    let names = [
        (Status::Pending, "pending"),
        (Status::Provisioning, "provisioning"),
        (Status::Running, "running"),
        (Status::Stopping, "stopping"),
        (Status::Stopped, "stopped"),
        (Status::Terminating, "terminating"),
        (Status::Terminated, "terminated"),
        (Status::Failed, "failed"),
        (Status::Unknown, "unknown"),
    ];
    assert_eq!(Status::ALL.to_vec(), names.iter().map(|(s, _)| *s).collect::<Vec<_>>(), "lifecycle order");
    for (status, name) in names {
        assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
        assert_eq!(serde_json::from_value::<Status>(json!(name)).unwrap(), status);
        assert_eq!(status.as_str(), name);
        assert_eq!(status.to_string(), name);
        assert_eq!(Status::parse(name), Some(status));
        assert_eq!(status.is_final(), matches!(status, Status::Terminated | Status::Failed));
    }
    for bad in ["Running", "ready", "", "RUNNING"] {
        assert_eq!(Status::parse(bad), None, "{bad}");
        assert!(serde_json::from_value::<Status>(json!(bad)).is_err(), "{bad}");
    }
}

#[test]
fn provider_names() {
    let names = [
        (Provider::Fal, "fal", "fal", "https://api.fal.ai/v1"),
        (Provider::FalAlpha, "fal-alpha", "falAlpha", "https://rest.alpha.fal.ai"),
        (Provider::Sfcompute, "sfcompute", "sfcompute", "https://api.sfcompute.com/preview/v2"),
        (Provider::Novita, "novita", "novita", "https://api.novita.ai/gpu-instance/openapi/v1"),
    ];
    assert_eq!(Provider::ALL.to_vec(), names.iter().map(|n| n.0).collect::<Vec<_>>());
    for (provider, wire, config_field, base) in names {
        assert_eq!(serde_json::to_value(provider).unwrap(), json!(wire));
        assert_eq!(serde_json::from_value::<Provider>(json!(wire)).unwrap(), provider);
        assert_eq!(provider.as_str(), wire);
        assert_eq!(provider.to_string(), wire);
        assert_eq!(Provider::parse(wire), Some(provider));
        assert_eq!(provider_config_field(provider), config_field);
        assert_eq!(provider.default_base_url(), base);
        assert_eq!(provider.capabilities().provider, provider);
        assert!(!provider.display_name().is_empty());
    }
    for bad in ["Fal", "falAlpha", "fal_alpha", "sf-compute", ""] {
        assert_eq!(Provider::parse(bad), None, "{bad}");
        assert!(serde_json::from_value::<Provider>(json!(bad)).is_err(), "{bad}");
        let e = Provider::parse_or_error("provider", bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some("provider"));
        assert!(e.message.contains("fal-alpha"), "{}", e.message);
    }
}

#[test]
fn error_code_names() {
    let names = [
        (ErrorCode::InvalidInput, "invalidInput", false),
        (ErrorCode::Unauthorized, "unauthorized", false),
        (ErrorCode::Forbidden, "forbidden", false),
        (ErrorCode::NotFound, "notFound", false),
        (ErrorCode::Conflict, "conflict", false),
        (ErrorCode::RateLimited, "rateLimited", true),
        (ErrorCode::Validation, "validation", false),
        (ErrorCode::Server, "server", true),
        (ErrorCode::Network, "network", true),
        (ErrorCode::Timeout, "timeout", true),
        (ErrorCode::Aborted, "aborted", false),
        (ErrorCode::Decode, "decode", false),
        (ErrorCode::Unsupported, "unsupported", false),
    ];
    for (code, name, transient) in names {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(name));
        assert_eq!(serde_json::from_value::<ErrorCode>(json!(name)).unwrap(), code);
        assert_eq!(code.as_str(), name);
        assert_eq!(code.to_string(), name);
        assert_eq!(code.is_transient(), transient, "{name}");
    }
}

#[test]
fn error_code_from_http_status() {
    let table = [
        (400, ErrorCode::Validation),
        (401, ErrorCode::Unauthorized),
        (403, ErrorCode::Forbidden),
        (404, ErrorCode::NotFound),
        (408, ErrorCode::Timeout),
        (409, ErrorCode::Conflict),
        (410, ErrorCode::NotFound),
        (422, ErrorCode::Validation),
        (429, ErrorCode::RateLimited),
        (500, ErrorCode::Server),
        (502, ErrorCode::Server),
        (503, ErrorCode::Server),
        (504, ErrorCode::Timeout),
        (418, ErrorCode::Server),
    ];
    for (status, code) in table {
        assert_eq!(ErrorCode::from_status(status), code, "{status}");
    }
}

#[test]
fn operation_and_pagination_names() {
    for (op, name) in [
        (Operation::List, "list"),
        (Operation::Get, "get"),
        (Operation::Create, "create"),
        (Operation::Delete, "delete"),
        (Operation::Start, "start"),
        (Operation::Stop, "stop"),
        (Operation::Restart, "restart"),
        (Operation::Terminate, "terminate"),
        (Operation::Ssh, "ssh"),
    ] {
        assert_eq!(serde_json::to_value(op).unwrap(), json!(name));
        assert_eq!(op.as_str(), name);
    }
    for (p, name) in [
        (Pagination::Cursor, "cursor"),
        (Pagination::StartingAfter, "startingAfter"),
        (Pagination::PageNumber, "pageNumber"),
        (Pagination::None, "none"),
    ] {
        assert_eq!(serde_json::to_value(p).unwrap(), json!(name));
    }
}

#[test]
fn capabilities_serialize_camel_case() {
    let caps: Capabilities = Provider::Fal.capabilities();
    let v = serde_json::to_value(&caps).unwrap();
    for key in [
        "provider",
        "displayName",
        "operations",
        "pagination",
        "listFilters",
        "idempotentCreate",
        "providerStatuses",
        "createFields",
    ] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    assert!(v.get("maxPageSize").is_none(), "absent options are omitted");
    assert_eq!(v["createFields"][0]["name"], "instanceType");
    assert_eq!(v["createFields"][0]["kind"], "enum");
    assert_eq!(serde_json::from_value::<Capabilities>(v).unwrap(), caps);
}

// ---------------------------------------------------------------------------------------------
// Instance and Page shapes
// ---------------------------------------------------------------------------------------------

fn instance(id: &str, status: Status) -> Instance {
    Instance { raw: json!({"id": id}).into(), ..Instance::new(Provider::Fal, id, status, "whatever") }
}

#[test]
fn instance_and_page_omit_absent_fields() {
    let inst = instance("inst_1", Status::Running);
    assert_eq!(
        serde_json::to_value(&inst).unwrap(),
        json!({"provider": "fal", "id": "inst_1", "status": "running", "providerStatus": "whatever", "raw": {"id": "inst_1"}})
    );
    let mut full = inst.clone();
    full.status_reason = Some("because".into());
    full.gpu_count = Some(8);
    full.created_at = Some("2025-02-08T00:00:00Z".into());
    full.ssh = Some(SshInfo { host: "h".into(), port: 2222, user: Some("root".into()), command: None });
    full.tags = Some([("env".to_owned(), "prod".to_owned())].into());
    let v = serde_json::to_value(&full).unwrap();
    assert_eq!(v["statusReason"], "because");
    assert_eq!(v["gpuCount"], 8);
    assert_eq!(v["createdAt"], "2025-02-08T00:00:00Z");
    assert_eq!(v["ssh"], json!({"host": "h", "port": 2222, "user": "root"}));
    assert_eq!(v["tags"], json!({"env": "prod"}));
    assert_eq!(serde_json::from_value::<Instance>(v).unwrap(), full);

    // The 2026 fields: camelCase, enums as their words (unknown ones too), and back.
    full.pool = Some(PoolRef { id: "pool_a".into(), name: None });
    full.priority_level = Some(PriorityLevel::Other("best_effort".into()));
    full.managed_by = Some(ManagedBy { kind: "spot_deployment".into(), id: "spot_a".into(), name: Some("s".into()) });
    full.public_ipv4 = Some(false);
    full.billing_mode = Some(BillingMode::Spot);
    full.spot = Some(SpotInfo { status: SpotStatus::Notified, reclaim_at: Some("2026-01-01T00:00:00Z".into()) });
    let v = serde_json::to_value(&full).unwrap();
    assert_eq!(v["pool"], json!({"id": "pool_a"}));
    assert_eq!(v["priorityLevel"], "best_effort");
    assert_eq!(v["managedBy"], json!({"kind": "spot_deployment", "id": "spot_a", "name": "s"}));
    assert_eq!(v["publicIpv4"], false);
    assert_eq!(v["billingMode"], "spot");
    assert_eq!(v["spot"], json!({"status": "notified", "reclaimAt": "2026-01-01T00:00:00Z"}));
    assert_eq!(serde_json::from_value::<Instance>(v).unwrap(), full);

    let page = Page { items: vec![inst], next_cursor: None, has_more: false, total: None };
    let v = serde_json::to_value(&page).unwrap();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["hasMore", "items"]);
    let page = Page { items: Vec::<Instance>::new(), next_cursor: Some("Mg==".into()), has_more: true, total: Some(120) };
    assert_eq!(serde_json::to_value(&page).unwrap(), json!({"items": [], "nextCursor": "Mg==", "hasMore": true, "total": 120}));
}

// ---------------------------------------------------------------------------------------------
// FleetQuery::matches
// ---------------------------------------------------------------------------------------------

#[test]
fn fleet_query_matches_status_and_text() {
    let mut a = instance("inst_ABC123", Status::Running);
    a.name = Some("Training Box".into());
    a.ip = Some("203.0.113.42".into());
    a.instance_type = Some("gpu_8x_h100_sxm5".into());
    a.region = Some("us-west".into());
    let b = instance("inst_def456", Status::Pending);

    let all = FleetQuery::default();
    assert!(all.matches(&a) && all.matches(&b));

    let running = FleetQuery { status: Some(vec![Status::Running]), ..Default::default() };
    assert!(running.matches(&a) && !running.matches(&b));
    let either = FleetQuery { status: Some(vec![Status::Pending, Status::Running]), ..Default::default() };
    assert!(either.matches(&a) && either.matches(&b));

    let q = |text: &str| FleetQuery { q: Some(text.to_owned()), ..Default::default() };
    for hit in ["abc", "ABC123", "training", "BOX", "113.42", "h100", "  inst_abc  "] {
        assert!(q(hit).matches(&a), "{hit:?}");
    }
    for miss in ["us-west", "whatever", "zzz"] {
        assert!(!q(miss).matches(&a), "{miss:?} is not searched");
    }
    for blank in ["", "   "] {
        assert!(q(blank).matches(&a) && q(blank).matches(&b), "blank q matches everything");
    }
    let both = FleetQuery { status: Some(vec![Status::Pending]), q: Some("abc".into()), ..Default::default() };
    assert!(!both.matches(&a) && !both.matches(&b), "both filters apply");

    // An empty status list is no filter, as it is through the proxy (no `status=` parameter).
    let none = FleetQuery { status: Some(vec![]), ..Default::default() };
    assert!(none.matches(&a) && none.matches(&b));

    // The provider filter is the client's job (it decides whom to ask), not matches().
    let novita_only = FleetQuery { providers: Some(vec![Provider::Novita]), ..Default::default() };
    assert!(novita_only.matches(&a));
}

#[test]
fn fleet_query_from_json() {
    let q: FleetQuery =
        input_from_json("query", json!({"providers": ["fal", "fal-alpha"], "status": ["running"], "q": "x"})).unwrap();
    assert_eq!(q.providers, Some(vec![Provider::Fal, Provider::FalAlpha]));
    assert_eq!(q.status, Some(vec![Status::Running]));
    let e = input_from_json::<FleetQuery>("query", json!({"status": ["ready"]})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("query.status[0]"));
    let e = input_from_json::<FleetQuery>("query", json!({"provider": ["fal"]})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("query.provider"));
}

// ---------------------------------------------------------------------------------------------
// ListQuery / CreateInput from JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn list_query_from_json() {
    assert_eq!(
        ListQuery::from_json(Provider::Fal, json!({"limit": 50, "cursor": "Mg=="})).unwrap(),
        ListQuery::Fal(FalListQuery { limit: Some(50), cursor: Some("Mg==".into()) })
    );
    for provider in Provider::ALL {
        let q = ListQuery::from_json(provider, Value::Null).unwrap();
        assert_eq!(q, ListQuery::first_page(provider), "null is the first page");
        assert_eq!(ListQuery::from_json(provider, json!({})).unwrap(), q);
        assert_eq!(q.provider(), provider);
        assert_eq!(q.cursor(), None);

        let e = ListQuery::from_json(provider, json!({"limt": 5})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{provider}");
        assert_eq!(e.field.as_deref(), Some("query.limt"), "{provider}");
        assert!(e.message.contains("limt"), "{}", e.message);
        assert!(e.provider.is_none() && e.status.is_none() && !e.retryable);

        let e = ListQuery::from_json(provider, json!({"cursor": 2})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("query.cursor"), "{provider}");
        let e = ListQuery::from_json(provider, json!(["limit", 5])).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{provider}");
    }
    let e = ListQuery::from_json(Provider::Fal, json!({"limit": "50"})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("query.limit"));
    let e = ListQuery::from_json(Provider::Fal, json!({"limit": -1})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("query.limit"));
    let e = ListQuery::from_json(Provider::Sfcompute, json!({"status": ["running", 3]})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("query.status[1]"));
    let e = ListQuery::from_json(Provider::Novita, json!({"pageSize": 10})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("query.pageSize"), "the JS name is limit");
}

#[test]
fn with_cursor_keeps_the_filters() {
    let q = ListQuery::Sfcompute(SfcListQuery { limit: Some(10), status: vec!["running".into()], ..Default::default() });
    let next = q.with_cursor(Some("nodec_1".into()));
    assert_eq!(next.cursor(), Some("nodec_1"));
    match &next {
        ListQuery::Sfcompute(s) => assert_eq!((s.limit, s.status.as_slice()), (Some(10), &["running".to_owned()][..])),
        other => panic!("{other:?}"),
    }
    assert_eq!(next.with_cursor(None), q);
    let n = ListQuery::Novita(NovitaListQuery { name: Some("a".into()), ..Default::default() }).with_cursor(Some("3".into()));
    assert_eq!(n.cursor(), Some("3"));
}

#[test]
fn create_input_from_json() {
    let input = CreateInput::from_json(
        Provider::Fal,
        json!({"instanceType": "gpu_8x_h100_sxm5", "sshKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", "sector": "sector_1", "idempotencyKey": "k1"}),
    )
    .unwrap();
    assert_eq!(
        input,
        CreateInput::Fal(FalCreateInput {
            instance_type: "gpu_8x_h100_sxm5".into(),
            ssh_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2".into(),
            sector: Some("sector_1".into()),
            idempotency_key: Some("k1".into()),
        })
    );
    assert_eq!(input.provider(), Provider::Fal);

    let e = CreateInput::from_json(
        Provider::Fal,
        json!({"instanceType": "gpu_1x_h100_sxm5", "sshKey": "k", "instance_type": "gpu_1x_h100_sxm5"}),
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("input.instance_type"), "snake_case is an unknown field");

    let e = CreateInput::from_json(Provider::Fal, json!({"instanceType": "gpu_1x_h100_sxm5", "sshKey": 5})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("input.sshKey"));

    let e = CreateInput::from_json(Provider::Fal, json!({"instanceType": "gpu_1x_h100_sxm5"})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("input.sshKey"), "a missing field is named in `field`");
    assert!(e.message.contains("sshKey") && e.message.contains("is required"), "a missing field is named: {}", e.message);

    let e =
        CreateInput::from_json(Provider::Novita, json!({"productId": "p", "imageUrl": "i", "envs": [{"key": "A"}]})).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("input.envs[0].value"), "a nested missing field keeps its path");

    let e =
        CreateInput::from_json(Provider::Novita, json!({"productId": "p", "imageUrl": "i", "envs": [{"key": "A", "val": "1"}]}))
            .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("input.envs[0].val"));

    for provider in Provider::ALL {
        let e = CreateInput::from_json(provider, Value::Null).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{provider}");
        assert_eq!(e.field.as_deref(), Some("input"));
    }
}

// ---------------------------------------------------------------------------------------------
// ProviderConfig
// ---------------------------------------------------------------------------------------------

const SECRET: &str = "super-secret-key-0123456789";

#[test]
fn provider_config_validate() {
    for provider in Provider::ALL {
        assert!(ProviderConfig::new(provider, SECRET).validate(provider).is_ok(), "{provider}");
    }
    let field = |p: Provider, cfg: ProviderConfig| {
        let e = cfg.validate(p).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(!e.message.contains(SECRET), "{}", e.message);
        e.field.unwrap()
    };
    for bad in ["api.fal.ai", "ftp://api.fal.ai", "https://", "", "https://x.test/?a=1", "https://x.test/#f", "https://x .test"] {
        let cfg = ProviderConfig::new(Provider::Fal, SECRET).with_base_url(bad);
        assert_eq!(field(Provider::Fal, cfg), "fal.baseUrl", "{bad:?}");
    }
    for bad in ["", "   ", "key\nX-Injected: 1", "key\r", "\u{0}"] {
        let cfg = ProviderConfig::new(Provider::FalAlpha, bad);
        assert_eq!(field(Provider::FalAlpha, cfg), "falAlpha.apiKey", "{bad:?}");
    }
    let cfg = ProviderConfig::new(Provider::Novita, SECRET).with_base_url("http://127.0.0.1:8787/novita");
    assert!(cfg.validate(Provider::Novita).is_ok(), "http is allowed for local simulators");
}

#[test]
fn provider_config_url_and_debug_redaction() {
    let cfg =
        ProviderConfig::new(Provider::Sfcompute, SECRET).with_base_url("http://127.0.0.1:8787/sfc/").with_workspace("wksp_1");
    assert_eq!(cfg.url("/instances"), "http://127.0.0.1:8787/sfc/instances");
    assert_eq!(ProviderConfig::new(Provider::Fal, SECRET).url("/compute/instances"), "https://api.fal.ai/v1/compute/instances");
    let shown = format!("{cfg:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("[redacted]") && shown.contains("wksp_1") && shown.contains("127.0.0.1"), "{shown}");
    assert!(!format!("{cfg:#?}").contains(SECRET));
}

#[test]
fn ids_are_validated() {
    assert!(validate_id("inst_abc123xyz").is_ok());
    assert!(validate_id("550e8400-e29b-41d4-a716-446655440000").is_ok());
    for bad in ["", "../x", "a/b", "..", &"x".repeat(300)] {
        let e = validate_id(bad).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), (ErrorCode::InvalidInput, Some("id")), "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Error shape
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bare_error_serializes_with_only_its_required_fields() {
    let e = Error::new(ErrorCode::NotFound, "no such instance");
    assert_eq!(serde_json::to_value(&e).unwrap(), json!({"code": "notFound", "message": "no such instance", "retryable": false}));
    assert_eq!(e.to_string(), "no such instance");
    assert_eq!(e.code(), ErrorCode::NotFound);
    let e = Error::new(ErrorCode::Server, "boom");
    assert!(e.retryable, "retryable follows the code");
}

#[test]
fn a_full_error_serializes_camel_case_and_round_trips() {
    let json = json!({
        "code": "rateLimited",
        "message": "fal answered HTTP 429: Rate limit exceeded",
        "provider": "fal",
        "status": 429,
        "providerType": "rate_limited",
        "requestId": "req_1",
        "docsUrl": "https://docs.fal.ai/compute",
        "retryAfterMs": 7000,
        "field": "limit",
        "details": [{"field": "limit", "code": "too_big", "message": "too big"}, {"message": "only a message"}],
        "retryable": true
    });
    let e: Error = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert_eq!(e.provider, Some(Provider::Fal));
    assert_eq!(e.retry_after_ms, Some(7000));
    assert_eq!(e.details.len(), 2);
    assert_eq!(e.details[1].field, None);
    assert_eq!(serde_json::to_value(&e).unwrap(), json);
}

#[test]
fn error_constructors() {
    let e = Error::invalid_input("sshKey", "must not be empty");
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.message, "sshKey: must not be empty");
    assert_eq!(e.field.as_deref(), Some("sshKey"));
    assert!(!e.retryable);
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code": "invalidInput", "message": "sshKey: must not be empty", "field": "sshKey", "retryable": false})
    );

    let e = Error::unsupported(Provider::Fal, "stop");
    assert_eq!((e.code, e.provider), (ErrorCode::Unsupported, Some(Provider::Fal)));
    assert!(e.message.contains("stop"), "{}", e.message);

    let e = Error::decode(Provider::Novita, "instances[2].id", "invalid type");
    assert_eq!((e.code, e.provider), (ErrorCode::Decode, Some(Provider::Novita)));
    assert_eq!(e.field.as_deref(), Some("instances[2].id"));
    assert!(e.message.contains("instances[2].id") && e.message.contains("invalid type"), "{}", e.message);
    for root in ["", "."] {
        assert_eq!(Error::decode(Provider::Fal, root, "x").field.as_deref(), Some("body"));
    }

    let e = Error::new(ErrorCode::Server, "a").with_provider(Provider::Sfcompute).with_status(503).with_message("b");
    assert_eq!((e.provider, e.status, e.message.as_str()), (Some(Provider::Sfcompute), Some(503), "b"));
}

#[test]
fn transport_errors_convert() {
    let cases = [
        (TransportError::Network("connection reset".into()), ErrorCode::Network, true, "connection reset"),
        (TransportError::Timeout(30_000), ErrorCode::Timeout, true, "30000"),
        (TransportError::Aborted("user left".into()), ErrorCode::Aborted, false, "user left"),
        (TransportError::Aborted(String::new()), ErrorCode::Aborted, false, "aborted"),
    ];
    for (t, code, retryable, text) in cases {
        let e = t.into_error(Some(Provider::Novita));
        assert_eq!((e.code, e.retryable, e.provider), (code, retryable, Some(Provider::Novita)));
        assert!(e.message.contains(text), "{}", e.message);
        assert_eq!(e.status, None);
    }
    assert_eq!(TransportError::Timeout(1).into_error(None).provider, None);
}
