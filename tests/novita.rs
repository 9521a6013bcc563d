//! Novita GPU instances v1 (`https://api.novita.ai/gpu-instance/openapi/v1`): the exact outgoing
//! requests, every seed 004 field (documented strings sent as strings and as numbers), the Get
//! shape, status mapping, pagination, error bodies in every candidate shape, input rules and
//! malformed bodies.
//!
//! No network: requests are built and compared; responses are fixture bytes.

// `gpufleet::Error` is returned by value crate-wide; helpers returning it trip the size lint.
#![allow(clippy::result_large_err)]

mod support;

use gpufleet::provider::{self, novita, Created};
use gpufleet::{
    BillingMode, CreateInput, DeleteOutcome, ErrorCode, FieldKind, HttpRequest, HttpResponse, Instance, ListQuery, Method,
    NovitaCreateInput, NovitaEnv, NovitaListQuery, NovitaNetworkStorage, NovitaTool, Operation, Page, Pagination, Provider,
    ProviderConfig, SpotInfo, SpotStatus, SshInfo, Status,
};
use serde_json::{json, Value};
use support::fixtures::novita::{config, fixture, fixture_json};
use support::fixtures::NOVITA_KEY as KEY;

const BASE: &str = "https://api.novita.ai/gpu-instance/openapi/v1";

fn resp(status: u16, body: impl Into<Vec<u8>>) -> HttpResponse {
    HttpResponse::new(status, body)
}

fn auth_headers() -> Vec<(String, String)> {
    vec![("Authorization".to_owned(), format!("Bearer {KEY}")), ("Content-Type".to_owned(), "application/json".to_owned())]
}

fn assert_request(req: &HttpRequest, method: Method, url: &str, body: Option<&str>) {
    assert_eq!(req.method, method, "method");
    assert_eq!(req.url, url, "url");
    assert_eq!(req.headers, auth_headers(), "headers (in order)");
    assert_eq!(req.body.as_deref().map(|b| std::str::from_utf8(b).unwrap()), body, "body");
}

fn query(limit: Option<u32>, cursor: Option<&str>) -> NovitaListQuery {
    NovitaListQuery { limit, cursor: cursor.map(str::to_owned), ..Default::default() }
}

fn minimal_create() -> NovitaCreateInput {
    NovitaCreateInput {
        product_id: "prod-rtx4090-24g".into(),
        gpu_num: Some(1),
        rootfs_size: Some(50),
        image_url: "nvidia/cuda:12.4.1".into(),
        ..Default::default()
    }
}

fn full_create() -> NovitaCreateInput {
    NovitaCreateInput {
        name: Some("llama-finetune".into()),
        product_id: "prod-rtx4090-24g".into(),
        gpu_num: Some(2),
        rootfs_size: Some(100),
        image_url: "pytorch/pytorch:2.5.1".into(),
        image_auth: Some("user:p@ss".into()),
        image_auth_id: Some("auth-1".into()),
        ports: Some("80/http, 3306/tcp".into()),
        envs: vec![NovitaEnv { key: "HF_HOME".into(), value: "/x".into() }],
        tools: vec![NovitaTool { name: "Jupyter".into(), port: "8888".into(), kind: "http".into() }],
        command: Some("python a.py".into()),
        entrypoint: Some("/bin/sh".into()),
        cluster_id: Some("cls-us-ca-01".into()),
        network_storages: vec![
            NovitaNetworkStorage { id: "nst-1".into(), mount_point: Some("/data".into()) },
            NovitaNetworkStorage { id: "nst-2".into(), mount_point: None },
        ],
        network_id: Some("vpc-1".into()),
        kind: Some("gpu".into()),
        month: Some(3),
        billing_mode: Some("monthly".into()),
        auto_renew: Some(true),
        auto_renew_month: Some(1),
        min_cuda_version: Some("12.4".into()),
    }
}

fn body_json(req: &HttpRequest) -> Value {
    serde_json::from_slice(req.body.as_deref().expect("a body")).expect("JSON body")
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

#[test]
fn list_request_always_sends_page_size_and_page_number() {
    let req = novita::build_list_request(&NovitaListQuery::default(), &config()).unwrap();
    assert_request(&req, Method::Get, &format!("{BASE}/gpu/instances?pageSize=50&pageNum=1"), None);
}

#[test]
fn list_request_with_every_filter_in_order_and_percent_encoded() {
    let q = NovitaListQuery {
        limit: Some(100),
        cursor: Some("3".into()),
        name: Some("my box/é&x=1".into()),
        product_name: Some("RTX 4090 24GB".into()),
        status: Some("toStop".into()),
    };
    let req = novita::build_list_request(&q, &config()).unwrap();
    assert_request(
        &req,
        Method::Get,
        &format!(
            "{BASE}/gpu/instances?pageSize=100&pageNum=3&name=my%20box%2F%C3%A9%26x%3D1&productName=RTX%204090%2024GB&status=toStop"
        ),
        None,
    );
}

#[test]
fn empty_filters_are_left_out() {
    let q = NovitaListQuery {
        limit: Some(1),
        cursor: None,
        name: Some(String::new()),
        product_name: Some(String::new()),
        status: Some(String::new()),
    };
    let req = novita::build_list_request(&q, &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/gpu/instances?pageSize=1&pageNum=1"));
}

#[test]
fn every_documented_status_is_accepted_as_a_filter() {
    for s in novita::STATUSES {
        let q = NovitaListQuery { status: Some((*s).to_owned()), ..Default::default() };
        let req = novita::build_list_request(&q, &config()).unwrap();
        assert!(req.url.ends_with(&format!("&status={s}")), "{}", req.url);
    }
}

#[test]
fn get_request_puts_the_id_in_the_query_percent_encoded() {
    let req = novita::build_get_request("8c0d4a5b7e3f2a19", &config()).unwrap();
    assert_request(&req, Method::Get, &format!("{BASE}/gpu/instance?instanceId=8c0d4a5b7e3f2a19"), None);
    let req = novita::build_get_request("ns:inst.1_a-b", &config()).unwrap();
    assert_eq!(req.url, format!("{BASE}/gpu/instance?instanceId=ns%3Ainst.1_a-b"));
}

#[test]
fn start_stop_restart_and_delete_post_the_instance_id() {
    let cfg = config();
    for (op, verb) in [(Operation::Start, "start"), (Operation::Stop, "stop"), (Operation::Restart, "restart")] {
        let req = novita::build_action_request(op, "8c0d4a5b7e3f2a19", &cfg).unwrap();
        assert_request(&req, Method::Post, &format!("{BASE}/gpu/instance/{verb}"), Some(r#"{"instanceId":"8c0d4a5b7e3f2a19"}"#));
    }
    let req = novita::build_delete_request("8c0d4a5b7e3f2a19", &cfg).unwrap();
    assert_request(&req, Method::Post, &format!("{BASE}/gpu/instance/delete"), Some(r#"{"instanceId":"8c0d4a5b7e3f2a19"}"#));
}

#[test]
fn other_operations_are_unsupported_before_any_request() {
    for op in [Operation::Terminate, Operation::Ssh, Operation::List, Operation::Get, Operation::Create, Operation::Delete] {
        let e = novita::build_action_request(op, "8c0d4a5b7e3f2a19", &config()).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported, "{op:?}");
        assert_eq!(e.provider, Some(Provider::Novita));
    }
    let e = provider::build_action_request(Provider::Novita, Operation::Terminate, "x1", &config()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
    let e = provider::build_ssh_request(Provider::Novita, "x1", &config()).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unsupported);
}

#[test]
fn create_request_with_every_field_in_the_documented_order() {
    let req = novita::build_create_request(&full_create(), &config()).unwrap();
    assert_request(
        &req,
        Method::Post,
        &format!("{BASE}/gpu/instance/create"),
        Some(concat!(
            r#"{"name":"llama-finetune","productId":"prod-rtx4090-24g","gpuNum":2,"rootfsSize":100,"#,
            r#""imageUrl":"pytorch/pytorch:2.5.1","imageAuth":"user:p@ss","imageAuthId":"auth-1","#,
            r#""ports":"80/http, 3306/tcp","envs":[{"key":"HF_HOME","value":"/x"}],"#,
            r#""tools":[{"name":"Jupyter","port":"8888","type":"http"}],"command":"python a.py","#,
            r#""entrypoint":"/bin/sh","clusterId":"cls-us-ca-01","#,
            r#""networkStorages":[{"Id":"nst-1","mountPoint":"/data"},{"Id":"nst-2"}],"networkId":"vpc-1","#,
            r#""kind":"gpu","month":3,"billingMode":"monthly","autoRenew":true,"autoRenewMonth":1,"#,
            r#""minCudaVersion":"12.4"}"#
        )),
    );
}

#[test]
fn create_request_omits_absent_fields_and_defaults_kind_to_gpu() {
    let req = novita::build_create_request(&minimal_create(), &config()).unwrap();
    assert_request(
        &req,
        Method::Post,
        &format!("{BASE}/gpu/instance/create"),
        Some(r#"{"productId":"prod-rtx4090-24g","gpuNum":1,"rootfsSize":50,"imageUrl":"nvidia/cuda:12.4.1","kind":"gpu"}"#),
    );
}

#[test]
fn cpu_create_sends_no_gpu_fields() {
    let input = NovitaCreateInput {
        product_id: "prod-cpu-8c32g".into(),
        image_url: "jupyter/base-notebook:python-3.11".into(),
        kind: Some("cpu".into()),
        ..Default::default()
    };
    let req = novita::build_create_request(&input, &config()).unwrap();
    assert_eq!(
        body_json(&req),
        json!({"productId": "prod-cpu-8c32g", "imageUrl": "jupyter/base-notebook:python-3.11", "kind": "cpu"})
    );
}

#[test]
fn month_without_billing_mode_is_sent_as_monthly() {
    let input = NovitaCreateInput { month: Some(2), ..minimal_create() };
    let body = body_json(&novita::build_create_request(&input, &config()).unwrap());
    assert_eq!(body["month"], 2);
    assert_eq!(body["billingMode"], "monthly");

    // month 0 is pay as you go: nothing added.
    let input = NovitaCreateInput { month: Some(0), ..minimal_create() };
    let body = body_json(&novita::build_create_request(&input, &config()).unwrap());
    assert_eq!(body["month"], 0);
    assert!(body.get("billingMode").is_none());

    for mode in ["onDemand", "spot"] {
        let input = NovitaCreateInput { billing_mode: Some(mode.into()), ..minimal_create() };
        let body = body_json(&novita::build_create_request(&input, &config()).unwrap());
        assert_eq!(body["billingMode"], mode);
    }
}

#[test]
fn create_body_json_escapes_strings() {
    let input = NovitaCreateInput {
        command: Some("bash -lc \"echo hi\"\n".into()),
        envs: vec![NovitaEnv { key: "Q".into(), value: "a\\b\"c".into() }],
        ..minimal_create()
    };
    let body = body_json(&novita::build_create_request(&input, &config()).unwrap());
    assert_eq!(body["command"], "bash -lc \"echo hi\"\n");
    assert_eq!(body["envs"][0]["value"], "a\\b\"c");
}

#[test]
fn base_url_override_keeps_the_path_and_drops_a_trailing_slash() {
    let cfg = config().with_base_url("http://127.0.0.1:8787/novita/gpu-instance/openapi/v1/");
    let req = novita::build_get_request("abc", &cfg).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8787/novita/gpu-instance/openapi/v1/gpu/instance?instanceId=abc");
}

#[test]
fn the_key_is_trimmed_and_never_in_debug_output() {
    let cfg = ProviderConfig::new(Provider::Novita, format!("  {KEY} "));
    let req = novita::build_get_request("abc", &cfg).unwrap();
    assert_eq!(req.header_value("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(!format!("{req:?}").contains(KEY));
    let pasted = ProviderConfig::new(Provider::Novita, format!("Bearer {KEY}"));
    let req = novita::build_get_request("abc", &pasted).unwrap();
    assert_eq!(req.header_value("authorization"), Some(format!("Bearer {KEY}").as_str()), "not prefixed twice");
}

#[test]
fn the_dispatcher_builds_the_same_requests() {
    let cfg = config();
    let q = NovitaListQuery { limit: Some(10), cursor: Some("2".into()), status: Some("running".into()), ..Default::default() };
    assert_eq!(
        provider::build_list_request(&ListQuery::Novita(q.clone()), &cfg).unwrap(),
        novita::build_list_request(&q, &cfg).unwrap()
    );
    assert_eq!(
        provider::build_get_request(Provider::Novita, "abc", &cfg).unwrap(),
        novita::build_get_request("abc", &cfg).unwrap()
    );
    assert_eq!(
        provider::build_delete_request(Provider::Novita, "abc", &cfg).unwrap(),
        novita::build_delete_request("abc", &cfg).unwrap()
    );
    assert_eq!(
        provider::build_create_request(&CreateInput::Novita(full_create()), "unused-key", &cfg).unwrap(),
        novita::build_create_request(&full_create(), &cfg).unwrap()
    );
    for op in [Operation::Start, Operation::Stop, Operation::Restart] {
        assert_eq!(
            provider::build_action_request(Provider::Novita, op, "abc", &cfg).unwrap(),
            novita::build_action_request(op, "abc", &cfg).unwrap()
        );
    }
}

#[test]
fn create_input_reads_from_camel_case_json() {
    let input = CreateInput::from_json(
        Provider::Novita,
        json!({
            "productId": "prod-1", "gpuNum": 1, "rootfsSize": 10, "imageUrl": "img",
            "networkStorages": [{"id": "nst-1", "mountPoint": "/m"}],
            "tools": [{"name": "Jupyter", "port": "8888", "type": "http"}]
        }),
    )
    .unwrap();
    let CreateInput::Novita(input) = input else { panic!("novita input") };
    let body = body_json(&novita::build_create_request(&input, &config()).unwrap());
    assert_eq!(body["networkStorages"], json!([{"Id": "nst-1", "mountPoint": "/m"}]));
    assert_eq!(body["tools"], json!([{"name": "Jupyter", "port": "8888", "type": "http"}]));
}

// ---------------------------------------------------------------------------------------------
// Input rules: invalidInput naming the field, no request built
// ---------------------------------------------------------------------------------------------

fn list_err(q: NovitaListQuery) -> gpufleet::Error {
    let e = novita::build_list_request(&q, &config()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
    e
}

#[test]
fn list_rules() {
    for limit in [0, 101, 1000] {
        let e = list_err(query(Some(limit), None));
        assert_eq!(e.field.as_deref(), Some("limit"), "{limit}");
        assert!(e.message.contains("1 and 100"), "{}", e.message);
    }
    for cursor in ["", "0", "-1", "+2", "1.5", "abc", " 2", "99999999999", "4294967296", "Mg=="] {
        let e = list_err(query(None, Some(cursor)));
        assert_eq!(e.field.as_deref(), Some("cursor"), "{cursor:?}");
    }
    assert!(novita::build_list_request(&query(Some(100), Some("4294967295")), &config()).is_ok());

    let e = list_err(NovitaListQuery { name: Some("n".repeat(256)), ..Default::default() });
    assert_eq!(e.field.as_deref(), Some("name"));
    assert!(novita::build_list_request(&NovitaListQuery { name: Some("é".repeat(255)), ..Default::default() }, &config()).is_ok());
    let e = list_err(NovitaListQuery { product_name: Some("p".repeat(256)), ..Default::default() });
    assert_eq!(e.field.as_deref(), Some("productName"));
    let e = list_err(NovitaListQuery { status: Some("r".repeat(64)), ..Default::default() });
    assert_eq!(e.field.as_deref(), Some("status"));
    assert!(e.message.contains("63"), "{}", e.message);
    for bad in ["Running", "stopped", "failed", "unknown"] {
        let e = list_err(NovitaListQuery { status: Some(bad.into()), ..Default::default() });
        assert_eq!(e.field.as_deref(), Some("status"), "{bad}");
        assert!(e.message.contains("toCreate"), "names the allowed values: {}", e.message);
    }
}

#[test]
fn unknown_list_query_fields_are_rejected_by_name() {
    let e = ListQuery::from_json(Provider::Novita, json!({"pageSize": 10})).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("pageSize"), "{}", e.message);
    let q = ListQuery::from_json(Provider::Novita, json!({"limit": 10, "productName": "RTX", "status": "exited"})).unwrap();
    assert_eq!(
        provider::build_list_request(&q, &config()).unwrap().url,
        format!("{BASE}/gpu/instances?pageSize=10&pageNum=1&productName=RTX&status=exited")
    );
}

fn create_err(input: NovitaCreateInput, field: &str) -> gpufleet::Error {
    let e = novita::build_create_request(&input, &config()).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
    assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
    assert!(e.message.starts_with(field), "the message names the field: {}", e.message);
    e
}

fn create_ok(input: NovitaCreateInput) {
    if let Err(e) = novita::build_create_request(&input, &config()) {
        panic!("expected a valid input: {e:?}");
    }
}

#[test]
fn create_rules_product_kind_gpus_and_disk() {
    let m = minimal_create;
    create_err(NovitaCreateInput { product_id: String::new(), ..m() }, "productId");
    create_err(NovitaCreateInput { product_id: "  ".into(), ..m() }, "productId");
    create_err(NovitaCreateInput { kind: Some("tpu".into()), ..m() }, "kind");
    create_err(NovitaCreateInput { kind: Some("GPU".into()), ..m() }, "kind");

    create_err(NovitaCreateInput { gpu_num: None, ..m() }, "gpuNum");
    create_err(NovitaCreateInput { gpu_num: Some(0), ..m() }, "gpuNum");
    create_err(NovitaCreateInput { gpu_num: Some(9), ..m() }, "gpuNum");
    create_ok(NovitaCreateInput { gpu_num: Some(8), ..m() });
    create_err(NovitaCreateInput { rootfs_size: None, ..m() }, "rootfsSize");
    create_err(NovitaCreateInput { rootfs_size: Some(9), ..m() }, "rootfsSize");
    create_err(NovitaCreateInput { rootfs_size: Some(6145), ..m() }, "rootfsSize");
    create_ok(NovitaCreateInput { rootfs_size: Some(10), ..m() });
    create_ok(NovitaCreateInput { rootfs_size: Some(6144), ..m() });

    // kind cpu: no GPU count and no root disk size (the CPU create page has neither).
    let cpu = || NovitaCreateInput { kind: Some("cpu".into()), gpu_num: None, rootfs_size: None, ..m() };
    create_ok(cpu());
    create_err(NovitaCreateInput { gpu_num: Some(1), ..cpu() }, "gpuNum");
    create_err(NovitaCreateInput { rootfs_size: Some(50), ..cpu() }, "rootfsSize");
}

#[test]
fn create_rules_texts() {
    let m = minimal_create;
    create_err(NovitaCreateInput { image_url: String::new(), ..m() }, "imageUrl");
    create_err(NovitaCreateInput { image_url: "   ".into(), ..m() }, "imageUrl");
    create_err(NovitaCreateInput { image_url: "i".repeat(501), ..m() }, "imageUrl");
    create_ok(NovitaCreateInput { image_url: "i".repeat(500), ..m() });
    create_err(NovitaCreateInput { name: Some("n".repeat(256)), ..m() }, "name");
    create_ok(NovitaCreateInput { name: Some(String::new()), ..m() });
    create_err(NovitaCreateInput { image_auth: Some("no-colon".into()), ..m() }, "imageAuth");
    create_err(NovitaCreateInput { image_auth: Some(format!("u:{}", "p".repeat(10238))), ..m() }, "imageAuth");
    create_ok(NovitaCreateInput { image_auth: Some(format!("u:{}", "p".repeat(10237))), ..m() });
    create_err(NovitaCreateInput { command: Some("c".repeat(2048)), ..m() }, "command");
    create_ok(NovitaCreateInput { command: Some("c".repeat(2047)), ..m() });
    create_err(NovitaCreateInput { entrypoint: Some("e".repeat(2048)), ..m() }, "entrypoint");
    create_err(NovitaCreateInput { min_cuda_version: Some("12.x".into()), ..m() }, "minCudaVersion");
    create_err(NovitaCreateInput { min_cuda_version: Some(String::new()), ..m() }, "minCudaVersion");
    create_ok(NovitaCreateInput { min_cuda_version: Some("12".into()), ..m() });
}

#[test]
fn create_rules_ports_and_tools() {
    let m = minimal_create;
    let ports = |p: &str| NovitaCreateInput { ports: Some(p.into()), ..m() };
    for bad in [
        "80",
        "80/udp",
        "80/HTTP",
        "0/tcp",
        "65536/tcp",
        "2222/tcp",
        "2223/http",
        "2224/tcp",
        "abc/tcp",
        "80/http,",
        "80/http,,81/tcp",
        "80/http 81/tcp",
        "80/http, 80/tcp",
        "-1/tcp",
    ] {
        let e = create_err(ports(bad), "ports");
        assert!(!e.message.is_empty(), "{bad}");
    }
    for good in ["80/http, 3306/tcp", "1/tcp", "65535/http", "2221/tcp,2225/tcp", " 8080 / http ", ""] {
        create_ok(ports(good));
    }
    assert_eq!(novita::parse_ports("80/http, 3306/tcp").unwrap(), vec![(80, "http".to_owned()), (3306, "tcp".to_owned())]);

    let tool = |name: &str, port: &str, kind: &str| NovitaTool { name: name.into(), port: port.into(), kind: kind.into() };
    let tools = |t: Vec<NovitaTool>| NovitaCreateInput { tools: t, ..m() };
    create_err(tools(vec![tool("Jupyter", "8888", "http"), tool("X", "99999", "tcp")]), "tools[1].port");
    create_err(tools(vec![tool("Jupyter", "88a8", "http")]), "tools[0].port");
    create_err(tools(vec![tool("Jupyter", "2222", "http")]), "tools[0].port");
    create_err(tools(vec![tool("Jupyter", "8888", "udp")]), "tools[0].type");
    create_err(tools(vec![tool("", "8888", "http")]), "tools[0].name");
    create_ok(tools(vec![tool("Jupyter", "8888", "http")]));

    // ports + tools ≤ 15.
    let ten_ports = (1..=10).map(|p| format!("{}/tcp", 8000 + p)).collect::<Vec<_>>().join(", ");
    let five_tools = (1..=5).map(|i| tool("T", &(9000 + i).to_string(), "http")).collect::<Vec<_>>();
    create_ok(NovitaCreateInput { ports: Some(ten_ports.clone()), tools: five_tools.clone(), ..m() });
    let mut six_tools = five_tools;
    six_tools.push(tool("T", "9100", "tcp"));
    let e = create_err(NovitaCreateInput { ports: Some(ten_ports), tools: six_tools, ..m() }, "ports");
    assert!(e.message.contains("15"), "{}", e.message);
}

#[test]
fn create_rules_envs_and_storages() {
    let m = minimal_create;
    let env = |k: &str, v: &str| NovitaEnv { key: k.into(), value: v.into() };
    create_ok(NovitaCreateInput { envs: (0..100).map(|i| env(&format!("K{i}"), "v")).collect(), ..m() });
    create_err(NovitaCreateInput { envs: (0..101).map(|i| env(&format!("K{i}"), "v")).collect(), ..m() }, "envs");
    let mut envs: Vec<NovitaEnv> = (0..3).map(|i| env(&format!("K{i}"), "v")).collect();
    envs.push(env(&"k".repeat(512), "v"));
    create_err(NovitaCreateInput { envs, ..m() }, "envs[3].key");
    create_err(NovitaCreateInput { envs: vec![env("K", &"v".repeat(4096))], ..m() }, "envs[0].value");
    create_ok(NovitaCreateInput { envs: vec![env(&"k".repeat(511), &"v".repeat(4095)), env("", "")], ..m() });

    let st = |id: &str| NovitaNetworkStorage { id: id.into(), mount_point: None };
    create_ok(NovitaCreateInput { network_storages: (0..30).map(|i| st(&format!("nst-{i}"))).collect(), ..m() });
    create_err(
        NovitaCreateInput { network_storages: (0..31).map(|i| st(&format!("nst-{i}"))).collect(), ..m() },
        "networkStorages",
    );
    create_err(NovitaCreateInput { network_storages: vec![st("nst-1"), st("")], ..m() }, "networkStorages[1].id");
}

#[test]
fn create_rules_billing() {
    let m = minimal_create;
    create_err(NovitaCreateInput { billing_mode: Some("prepaid".into()), ..m() }, "billingMode");
    create_err(NovitaCreateInput { billing_mode: Some("Monthly".into()), ..m() }, "billingMode");
    create_err(NovitaCreateInput { month: Some(1), billing_mode: Some("onDemand".into()), ..m() }, "billingMode");
    create_err(NovitaCreateInput { month: Some(1), billing_mode: Some("spot".into()), ..m() }, "billingMode");
    create_err(NovitaCreateInput { month: Some(0), billing_mode: Some("monthly".into()), ..m() }, "month");
    create_ok(NovitaCreateInput { month: Some(12), billing_mode: Some("monthly".into()), ..m() });
    create_ok(NovitaCreateInput { billing_mode: Some("monthly".into()), ..m() });

    create_err(NovitaCreateInput { auto_renew: Some(true), ..m() }, "autoRenew");
    create_err(NovitaCreateInput { auto_renew: Some(true), billing_mode: Some("spot".into()), ..m() }, "autoRenew");
    create_ok(NovitaCreateInput { auto_renew: Some(true), month: Some(1), ..m() });
    create_ok(NovitaCreateInput { auto_renew: Some(false), ..m() });

    let monthly = || NovitaCreateInput { billing_mode: Some("monthly".into()), month: Some(1), auto_renew: Some(true), ..m() };
    create_err(NovitaCreateInput { auto_renew_month: Some(0), ..monthly() }, "autoRenewMonth");
    create_err(NovitaCreateInput { auto_renew_month: Some(13), ..monthly() }, "autoRenewMonth");
    create_ok(NovitaCreateInput { auto_renew_month: Some(12), ..monthly() });
    create_err(NovitaCreateInput { auto_renew_month: Some(3), ..m() }, "autoRenewMonth");
}

#[test]
fn ids_are_checked_before_a_url_is_built() {
    let cfg = config();
    for bad in ["", "..", "a/b", "a b", "a?b=c", "a%2F", "é", &"x".repeat(256)] {
        for e in [
            novita::build_get_request(bad, &cfg).unwrap_err(),
            novita::build_delete_request(bad, &cfg).unwrap_err(),
            novita::build_action_request(Operation::Start, bad, &cfg).unwrap_err(),
        ] {
            assert_eq!(e.code, ErrorCode::InvalidInput, "{bad:?}");
            assert_eq!(e.field.as_deref(), Some("id"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Status mapping
// ---------------------------------------------------------------------------------------------

#[test]
fn every_documented_status_maps_as_tabulated() {
    let table: &[(&str, Status)] = &[
        ("toCreate", Status::Pending),
        ("toStart", Status::Pending),
        ("toRestart", Status::Pending),
        ("toReset", Status::Pending),
        ("creating", Status::Provisioning),
        ("pulling", Status::Provisioning),
        ("starting", Status::Provisioning),
        ("restarting", Status::Provisioning),
        ("resetting", Status::Provisioning),
        ("migrating", Status::Provisioning),
        ("running", Status::Running),
        ("toStop", Status::Stopping),
        ("stopping", Status::Stopping),
        ("freezing", Status::Stopping),
        ("exited", Status::Stopped),
        ("toRemove", Status::Terminating),
        ("removing", Status::Terminating),
        ("removed", Status::Terminated),
    ];
    assert_eq!(table.len(), 18);
    assert_eq!(novita::STATUSES.len(), 18);
    for s in novita::STATUSES {
        assert!(table.iter().any(|(w, _)| w == s), "{s} is in the table");
    }
    for (word, want) in table {
        assert_eq!(novita::map_status_word(word), *want, "{word}");
        assert_eq!(novita::map_status(word, None), (*want, None), "{word}");
        assert_eq!(novita::map_status(word, Some("")), (*want, None), "{word}: an empty error is no error");
    }
}

#[test]
fn unknown_statuses_are_unknown_never_an_error() {
    for word in ["hibernating", "", "Running", "RUNNING", "failed", "error", "deleted"] {
        assert_eq!(novita::map_status(word, None), (Status::Unknown, None), "{word:?}");
    }
}

#[test]
fn a_status_error_means_failed_except_while_running_or_removed() {
    for word in ["toCreate", "creating", "pulling", "exited", "toStop", "starting", "migrating", "hibernating"] {
        assert_eq!(
            novita::map_status(word, Some("pull image failed")),
            (Status::Failed, Some("pull image failed".to_owned())),
            "{word}"
        );
    }
    assert_eq!(novita::map_status("running", Some("oom once")), (Status::Running, Some("oom once".to_owned())));
    assert_eq!(novita::map_status("removing", Some("x")), (Status::Terminating, Some("x".to_owned())));
    assert_eq!(novita::map_status("removed", Some("x")), (Status::Terminated, Some("x".to_owned())));
    assert_eq!(novita::map_status("exited", Some("  ")), (Status::Stopped, None));
}

fn instance_with(fields: Value) -> Instance {
    let mut record = json!({"id": "abc123", "status": "exited"});
    for (k, v) in fields.as_object().unwrap() {
        record[k] = v.clone();
    }
    novita::parse_get_response(resp(200, serde_json::to_vec(&record).unwrap())).unwrap()
}

#[test]
fn status_error_is_read_from_message_then_state() {
    let i = instance_with(json!({"statusError": {"state": "pullFailed", "message": "manifest not found"}}));
    assert_eq!((i.status, i.status_reason.as_deref()), (Status::Failed, Some("manifest not found")));
    let i = instance_with(json!({"statusError": {"state": "pullFailed", "message": ""}}));
    assert_eq!((i.status, i.status_reason.as_deref()), (Status::Failed, Some("pullFailed")));
    let i = instance_with(json!({"statusError": {"state": "pullFailed"}}));
    assert_eq!(i.status_reason.as_deref(), Some("pullFailed"));
    for empty in [json!(null), json!({}), json!({"state": "", "message": ""}), json!(""), json!(5), json!([])] {
        let i = instance_with(json!({ "statusError": empty }));
        assert_eq!((i.status, i.status_reason.as_deref()), (Status::Stopped, None), "{empty}");
    }
    let i = instance_with(json!({"statusError": "boom"}));
    assert_eq!((i.status, i.status_reason.as_deref()), (Status::Failed, Some("boom")));
}

#[test]
fn spot_reclaim_gives_a_reason_when_there_is_no_other() {
    let i = instance_with(json!({"status": "running", "spotStatus": "reclaiming", "spotReclaimTime": "0"}));
    assert_eq!((i.status, i.status_reason.as_deref()), (Status::Running, Some("spot instance being reclaimed")));
    let i = instance_with(json!({"status": "running", "spotStatus": "notified", "spotReclaimTime": "1738972800"}));
    assert_eq!(i.status_reason.as_deref(), Some("spot instance notified for reclaim (reclaim time 2025-02-08T00:00:00Z)"));
    let i = instance_with(json!({"status": "running", "spotStatus": "running", "spotReclaimTime": "0"}));
    assert_eq!(i.status_reason, None);
    let i = instance_with(json!({"spotStatus": "reclaiming", "statusError": {"message": "evicted"}}));
    assert_eq!((i.status, i.status_reason.as_deref()), (Status::Failed, Some("evicted")));
}

fn spot(status: SpotStatus, reclaim_at: Option<&str>) -> Option<SpotInfo> {
    Some(SpotInfo { status, reclaim_at: reclaim_at.map(Into::into) })
}

#[test]
fn billing_mode_and_spot_exactly() {
    let page = parse_list(&NovitaListQuery::default(), fixture("list-spot.json")).unwrap();
    let raw = fixture_json("list-spot.json");
    let got: Vec<(&str, Option<BillingMode>, Option<SpotInfo>)> =
        page.items.iter().map(|i| (i.name.as_deref().unwrap(), i.billing_mode.clone(), i.spot.clone())).collect();
    assert_eq!(
        got,
        [
            ("ondemand-1", Some(BillingMode::OnDemand), None),
            ("monthly-2", Some(BillingMode::Monthly), None),
            // "0": no reclaim scheduled.
            ("spot-running-3", Some(BillingMode::Spot), spot(SpotStatus::Running, None)),
            // Unix seconds as text (documented) and as a number.
            ("spot-notified-4", Some(BillingMode::Spot), spot(SpotStatus::Notified, Some("2026-01-01T00:00:00Z"))),
            ("spot-notified-number-5", Some(BillingMode::Spot), spot(SpotStatus::Notified, Some("2026-01-01T01:00:00Z"))),
            // No spotReclaimTime at all.
            ("spot-reclaiming-6", Some(BillingMode::Spot), spot(SpotStatus::Reclaiming, None)),
            ("spot-terminated-7", Some(BillingMode::Spot), spot(SpotStatus::Terminated, Some("2026-01-01T00:00:00Z"))),
            // Words Novita does not document survive; an ISO reclaim time is kept as it is.
            (
                "spot-new-word-8",
                Some(BillingMode::Other("spotPlus".into())),
                spot(SpotStatus::Other("preempting".into()), Some("2026-01-01T01:30:00Z")),
            ),
            ("no-billing-9", None, None),
        ]
    );
    for (n, i) in page.items.iter().enumerate() {
        assert_eq!(i.raw, raw["instances"][n], "raw is the record as received");
        assert_eq!((i.pool.as_ref(), i.priority_level.as_ref(), i.managed_by.as_ref(), i.public_ipv4), (None, None, None, None));
    }
    // The status reason says the same as before.
    assert_eq!(
        page.items[3].status_reason.as_deref(),
        Some("spot instance notified for reclaim (reclaim time 2026-01-01T00:00:00Z)")
    );
    assert_eq!(page.items[5].status_reason.as_deref(), Some("spot instance being reclaimed"));
    assert_eq!(page.items[7].status_reason, None, "an unknown spot status gives no reason");

    // For JS: camelCase, words as received, no reclaimAt while none is scheduled.
    let js = |n: usize| serde_json::to_value(&page.items[n]).unwrap();
    assert_eq!(js(3)["billingMode"], "spot");
    assert_eq!(js(3)["spot"], json!({"status": "notified", "reclaimAt": "2026-01-01T00:00:00Z"}));
    assert_eq!(js(2)["spot"], json!({"status": "running"}));
    assert_eq!(js(0)["billingMode"], "onDemand");
    assert!(js(0).get("spot").is_none());
    assert_eq!(js(7)["billingMode"], "spotPlus");
    assert_eq!(js(7)["spot"]["status"], "preempting");
    assert!(js(8).get("billingMode").is_none());
    for i in &page.items {
        assert_eq!(&serde_json::from_value::<Instance>(serde_json::to_value(i).unwrap()).unwrap(), i, "round trip");
    }
}

#[test]
fn spot_reclaim_time_forms() {
    let at = |v: Value| instance_with(json!({"status": "running", "spotStatus": "notified", "spotReclaimTime": v})).spot;
    let notified = |t: &str| spot(SpotStatus::Notified, Some(t));
    assert_eq!(at(json!("1767225600")), notified("2026-01-01T00:00:00Z"));
    assert_eq!(at(json!(" 1767225600 ")), notified("2026-01-01T00:00:00Z"));
    assert_eq!(at(json!(1767225600)), notified("2026-01-01T00:00:00Z"));
    assert_eq!(at(json!(1767225600.0)), notified("2026-01-01T00:00:00Z"));
    assert_eq!(at(json!("1767225600000")), notified("2026-01-01T00:00:00Z"), "milliseconds");
    assert_eq!(at(json!("2026-01-01T00:00:00Z")), notified("2026-01-01T00:00:00Z"));
    for none in [json!("0"), json!(0), json!("-1"), json!(""), json!("soon"), json!(true), json!(null), json!({}), json!([1])] {
        assert_eq!(at(none.clone()), spot(SpotStatus::Notified, None), "{none}");
    }
    let i = instance_with(json!({"status": "running", "spotStatus": "notified"}));
    assert_eq!(i.spot, spot(SpotStatus::Notified, None), "absent");
    // Without a usable spotStatus there is no `spot`, whatever the reclaim time.
    for status in [json!(null), json!(""), json!(1), json!({"status": "notified"})] {
        let i = instance_with(json!({"status": "running", "spotStatus": status, "spotReclaimTime": "1767225600"}));
        assert_eq!(i.spot, None, "{status}");
    }
    // billingMode of the wrong type is left out.
    for mode in [json!(1), json!(null), json!(""), json!(["spot"])] {
        assert_eq!(instance_with(json!({ "billingMode": mode })).billing_mode, None);
    }
}

#[test]
fn billing_and_spot_words() {
    assert_eq!(BillingMode::KNOWN, novita::BILLING_MODES);
    for w in novita::BILLING_MODES {
        assert!(BillingMode::parse(w).is_known());
        assert_eq!(BillingMode::parse(w).as_str(), *w);
    }
    assert_eq!(SpotStatus::KNOWN, ["running", "notified", "reclaiming", "terminated"]);
    for w in SpotStatus::KNOWN {
        assert!(SpotStatus::parse(w).is_known());
        assert_eq!(serde_json::to_value(SpotStatus::parse(w)).unwrap(), json!(w));
    }
    assert_eq!(BillingMode::parse("OnDemand"), BillingMode::Other("OnDemand".into()));
    assert_eq!(SpotStatus::parse("Notified").to_string(), "Notified");
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

fn parse_list(q: &NovitaListQuery, body: impl Into<Vec<u8>>) -> gpufleet::Result<Page<Instance>> {
    novita::parse_list_response(q, resp(200, body))
}

#[test]
fn seed_004_list_with_every_field() {
    let body = fixture("list.json");
    let page = parse_list(&NovitaListQuery::default(), body).unwrap();
    let raw = fixture_json("list.json");
    assert_eq!(page.total, Some(3));
    assert!(!page.has_more);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.items.len(), 3);

    let a = &page.items[0];
    assert_eq!(a.provider, Provider::Novita);
    assert_eq!(a.id, "8c0d4a5b7e3f2a19");
    assert_eq!(a.name.as_deref(), Some("llama-finetune"));
    assert_eq!(a.status, Status::Running);
    assert_eq!(a.provider_status, "running");
    assert_eq!(a.status_reason, None);
    assert_eq!(a.instance_type.as_deref(), Some("RTX 4090 24GB"));
    assert_eq!(a.gpu_count, Some(2));
    assert_eq!(a.gpu_model.as_deref(), Some("RTX 4090"));
    assert_eq!(a.region.as_deref(), Some("US-CA-01"));
    assert_eq!(
        (a.sector.as_ref(), a.ip.as_ref(), a.ssh.as_ref(), a.created_at.as_ref(), a.tags.as_ref()),
        (None, None, None, None, None)
    );
    assert_eq!(a.raw, raw["instances"][0], "raw is the record as received (strings stay strings)");
    assert_eq!(a.raw["cpuNum"], "32");

    let b = &page.items[1];
    assert_eq!(b.status, Status::Failed);
    assert_eq!(b.provider_status, "exited");
    assert_eq!(b.status_reason.as_deref(), Some("container exited with code 137 (out of memory)"));
    assert_eq!(b.gpu_model.as_deref(), Some("A100 SXM"));
    assert_eq!(b.region.as_deref(), Some("EU-NL-01"));
    assert_eq!(b.raw, raw["instances"][1]);

    let c = &page.items[2];
    assert_eq!(c.status, Status::Running);
    assert_eq!(c.status_reason.as_deref(), Some("spot instance notified for reclaim (reclaim time 2026-01-01T00:00:00Z)"));
    assert_eq!(c.region.as_deref(), Some("cls-as-sg-01"), "clusterId when there is no clusterName");
    assert_eq!(c.gpu_model.as_deref(), Some("RTX 5090"));
    assert_eq!(c.raw["spotStatus"], "notified");
    assert_eq!(c.raw, raw["instances"][2]);
}

#[test]
fn documented_strings_sent_as_numbers_and_a_text_total_are_tolerated() {
    let page = parse_list(&query(Some(2), None), fixture("list-numbers.json")).unwrap();
    let raw = fixture_json("list-numbers.json");
    assert_eq!(page.total, Some(7));
    assert!(page.has_more);
    assert_eq!(page.next_cursor.as_deref(), Some("2"));
    let a = &page.items[0];
    assert_eq!((a.status, a.gpu_count, a.gpu_model.as_deref()), (Status::Provisioning, Some(4), Some("H100 SXM")));
    assert_eq!(a.raw, raw["instances"][0], "numbers kept as numbers in raw");
    assert_eq!(a.raw["memory"], 960.5);
    let b = &page.items[1];
    assert_eq!((b.status, b.gpu_count, b.gpu_model.as_ref()), (Status::Pending, Some(0), None));
    assert_eq!(b.instance_type.as_deref(), Some("CPU 8 vCPU 32GB"));
}

#[test]
fn a_page_without_total() {
    let page = parse_list(&query(Some(2), Some("4")), fixture("list-no-total.json")).unwrap();
    assert_eq!(page.total, None);
    assert!(page.has_more, "a full page without total may have a next one");
    assert_eq!(page.next_cursor.as_deref(), Some("5"));
    let a = &page.items[0];
    assert_eq!((a.name.as_ref(), a.status), (None, Status::Terminating), "an empty name is no name");
    let b = &page.items[1];
    assert_eq!((b.status, b.provider_status.as_str()), (Status::Unknown, "hibernating"));
    assert_eq!(b.gpu_model.as_deref(), Some("L40S"));

    let page = parse_list(&query(Some(3), Some("4")), fixture("list-no-total.json")).unwrap();
    assert!(!page.has_more, "a short page is the last");
    assert_eq!(page.next_cursor, None);
}

fn n_items(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({"id": format!("id{i}"), "status": "running"})).collect()
}

fn page_of(q: &NovitaListQuery, n: usize, total: Option<Value>) -> Page<Instance> {
    let mut body = json!({ "instances": n_items(n) });
    if let Some(t) = total {
        body["total"] = t;
    }
    parse_list(q, serde_json::to_vec(&body).unwrap()).unwrap()
}

#[test]
fn pagination_math() {
    let p = |size, num: &str| query(Some(size), Some(num));
    // total known: more while pageNum × pageSize < total.
    let cases: &[(u32, &str, usize, u64, Option<&str>)] = &[
        (50, "1", 50, 120, Some("2")),
        (50, "2", 50, 120, Some("3")),
        (50, "3", 20, 120, None),
        (50, "2", 50, 100, None),
        (50, "1", 0, 0, None),
        (1, "1", 1, 2, Some("2")),
        (100, "7", 0, 10, None),
    ];
    for &(size, num, n, total, next) in cases {
        let page = page_of(&p(size, num), n, Some(json!(total)));
        assert_eq!(page.next_cursor.as_deref(), next, "size {size} page {num} total {total}");
        assert_eq!(page.has_more, next.is_some());
        assert_eq!(page.total, Some(total));
    }
    // Default query: page 1 of 50.
    let page = page_of(&NovitaListQuery::default(), 50, Some(json!(51)));
    assert_eq!(page.next_cursor.as_deref(), Some("2"));
    // total as text.
    let page = page_of(&p(50, "1"), 50, Some(json!("120")));
    assert_eq!((page.total, page.next_cursor.as_deref()), (Some(120), Some("2")));
    let page = page_of(&p(50, "3"), 20, Some(json!(" 120 ")));
    assert_eq!((page.total, page.has_more), (Some(120), false));
    // total unknown (absent, null or unreadable): a full page means more.
    for total in [None, Some(json!(null)), Some(json!("many")), Some(json!(-1)), Some(json!(1.5))] {
        let page = page_of(&p(10, "2"), 10, total.clone());
        assert_eq!((page.total, page.next_cursor.as_deref()), (None, Some("3")), "{total:?}");
        let page = page_of(&p(10, "2"), 9, total.clone());
        assert_eq!((page.has_more, page.next_cursor), (false, None), "{total:?}");
        let page = page_of(&p(10, "2"), 0, total);
        assert!(!page.has_more);
    }
    // Past the last representable page number the listing fails loudly rather than loop.
    let body = serde_json::to_vec(&json!({ "instances": n_items(100) })).unwrap();
    let e = novita::parse_list_response(&p(100, "4294967295"), resp(200, body)).unwrap_err();
    assert!(e.message.contains("4294967295"), "{}", e.message);
    let page = page_of(&p(100, "4294967295"), 99, None);
    assert!(!page.has_more);
}

#[test]
fn instances_null_or_omitted_with_a_total_is_an_empty_page() {
    let page = parse_list(&NovitaListQuery::default(), r#"{"instances":null,"total":0}"#).unwrap();
    assert_eq!((page.items.len(), page.has_more, page.total), (0, false, Some(0)));
    let page = parse_list(&NovitaListQuery::default(), r#"{"total":0}"#).unwrap();
    assert_eq!((page.items.len(), page.has_more), (0, false));
    let page = parse_list(&NovitaListQuery::default(), r#"{"instances":[]}"#).unwrap();
    assert_eq!((page.items.len(), page.has_more, page.total), (0, false, None));
}

#[test]
fn the_dispatcher_parses_the_same_page() {
    let q = query(Some(2), None);
    let via = provider::parse_list_response(&ListQuery::Novita(q.clone()), resp(200, fixture("list-numbers.json"))).unwrap();
    assert_eq!(via, novita::parse_list_response(&q, resp(200, fixture("list-numbers.json"))).unwrap());
}

fn ssh(host: &str, port: u16, user: Option<&str>, command: &str) -> Option<SshInfo> {
    Some(SshInfo { host: host.into(), port, user: user.map(str::to_owned), command: Some(command.into()) })
}

#[test]
fn get_shape_with_network_and_connect_components() {
    let i = novita::parse_get_response(resp(200, fixture("get.json"))).unwrap();
    assert_eq!(i.id, "8c0d4a5b7e3f2a19");
    assert_eq!(i.status, Status::Running);
    assert_eq!(i.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(i.ssh, ssh("203.0.113.7", 31234, Some("root"), "ssh root@203.0.113.7 -p 31234"));
    assert_eq!(i.created_at.as_deref(), Some("2025-02-08T00:00:00Z"));
    assert_eq!(i.region.as_deref(), Some("US-CA-01"));
    assert_eq!((i.gpu_count, i.gpu_model.as_deref()), (Some(2), Some("RTX 4090")));
    assert_eq!(i.raw, fixture_json("get.json"), "every field kept, connect components included");
}

#[test]
fn older_get_shape_with_top_level_ssh_command_and_numeric_created_at() {
    let i = novita::parse_get_response(resp(200, fixture("get-older.json"))).unwrap();
    assert_eq!(i.status, Status::Provisioning);
    assert_eq!(i.ssh, ssh("gpu-eu-nl-01.novita.example", 40022, Some("root"), "ssh -p 40022 root@gpu-eu-nl-01.novita.example"));
    assert_eq!(i.ip, None, "a host name is not an IP");
    assert_eq!(i.created_at.as_deref(), Some("2025-02-08T00:00:00Z"));
    assert_eq!(i.raw, fixture_json("get-older.json"));
}

#[test]
fn ip_and_ssh_fallbacks() {
    // No network.ip: an IP-literal SSH host is the IP.
    let i = instance_with(json!({"connectComponentSSH": {"sshCommand": "ssh root@198.51.100.4 -p 30001"}}));
    assert_eq!(i.ip.as_deref(), Some("198.51.100.4"));
    // Empty strings (before the instance first runs) give nothing.
    let i =
        instance_with(json!({"network": {"id": "", "ip": ""}, "connectComponentSSH": {"sshCommand": "", "isRunning": false}}));
    assert_eq!((i.ip, i.ssh), (None, None));
    // connectComponentSSH wins over the older top-level field.
    let i = instance_with(json!({
        "connectComponentSSH": {"sshCommand": "ssh root@198.51.100.4 -p 30001"},
        "sshCommand": "ssh root@198.51.100.9 -p 1"
    }));
    assert_eq!(i.ssh.unwrap().port, 30001);
    // An unparseable command gives no ssh (it stays in raw).
    let i = instance_with(json!({"sshCommand": "connect via the console"}));
    assert_eq!(i.ssh, None);
    assert_eq!(i.raw["sshCommand"], "connect via the console");
}

#[test]
fn created_at_forms() {
    let at = |v: Value| instance_with(json!({ "createdAt": v })).created_at;
    assert_eq!(at(json!("1738972800")).as_deref(), Some("2025-02-08T00:00:00Z"));
    assert_eq!(at(json!(1738972800)).as_deref(), Some("2025-02-08T00:00:00Z"));
    assert_eq!(at(json!(1738972800000_i64)).as_deref(), Some("2025-02-08T00:00:00Z"), "milliseconds");
    assert_eq!(at(json!("2025-02-08T00:00:00Z")).as_deref(), Some("2025-02-08T00:00:00Z"));
    assert_eq!(at(json!("2025-02-08T08:00:00+08:00")).as_deref(), Some("2025-02-08T08:00:00+08:00"));
    for none in [json!("0"), json!(0), json!("-1"), json!(""), json!("yesterday"), json!(true), json!(null), json!({})] {
        assert_eq!(at(none.clone()), None, "{none}");
    }
}

#[test]
fn type_drift_in_fields_gpufleet_reads_leniently_never_fails() {
    let i = instance_with(json!({
        "name": 7, "clusterName": 5, "clusterId": ["x"], "cpuNum": {}, "memory": null, "gpuNum": "two",
        "productName": 42, "kind": false, "network": "10.0.0.1", "connectComponentSSH": null,
        "sshCommand": 22, "createdAt": [1], "spotStatus": 1, "portMappings": "22/tcp", "volumeMounts": {},
        "envs": "A=B", "total": "x", "billingMode": 2, "spotReclaimTime": {"at": 1}
    }));
    assert_eq!(i.status, Status::Stopped);
    assert_eq!(
        (i.name, i.region, i.gpu_count, i.instance_type, i.gpu_model, i.ip, i.ssh, i.created_at),
        (None, None, None, None, None, None, None, None)
    );
    assert_eq!((i.billing_mode, i.spot), (None, None));
    assert_eq!(i.raw["cpuNum"], json!({}));
    let i = instance_with(json!({"gpuNum": " 3 "}));
    assert_eq!(i.gpu_count, Some(3));
    let i = instance_with(json!({"gpuNum": 8.0}));
    assert_eq!(i.gpu_count, None, "not an integer count");
}

#[test]
fn instance_serializes_camel_case_for_js() {
    let i = novita::parse_get_response(resp(200, fixture("get.json"))).unwrap();
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(v["provider"], "novita");
    assert_eq!(v["providerStatus"], "running");
    assert_eq!(v["gpuCount"], 2);
    assert_eq!(
        v["ssh"],
        json!({"host": "203.0.113.7", "port": 31234, "user": "root", "command": "ssh root@203.0.113.7 -p 31234"})
    );
    assert_eq!(v["raw"]["connectComponentSSH"]["isRunning"], true);
}

#[test]
fn create_answer_is_the_new_id() {
    assert_eq!(novita::parse_create_response(resp(200, fixture("create.json"))).unwrap(), "9f8e7d6c5b4a3921");
    assert_eq!(
        provider::parse_create_response(Provider::Novita, resp(200, fixture("create.json"))).unwrap(),
        Created::Id("9f8e7d6c5b4a3921".into())
    );
    // Extra fields are fine.
    assert_eq!(novita::parse_create_response(resp(200, r#"{"id":"x1","status":"toCreate"}"#)).unwrap(), "x1");
}

#[test]
fn actions_accept_any_2xx_body_that_is_not_an_error() {
    for body in [
        "",
        "{}",
        "null",
        "OK",
        r#"{"success":true}"#,
        r#"{"code":0,"message":"success"}"#,
        r#"{"code":200}"#,
        r#"{"code":"OK"}"#,
        "[]",
    ] {
        assert_eq!(novita::parse_action_response(resp(200, body)), Ok(()), "{body:?}");
        for op in [Operation::Start, Operation::Stop, Operation::Restart] {
            assert_eq!(provider::parse_action_response(Provider::Novita, op, resp(200, body)), Ok(None));
        }
    }
    assert_eq!(novita::parse_action_response(resp(200, fixture("action.json"))), Ok(()));
    assert_eq!(novita::parse_action_response(resp(204, "")), Ok(()));
}

#[test]
fn delete_outcomes() {
    const DELETED: DeleteOutcome = DeleteOutcome { already_gone: false };
    const GONE: DeleteOutcome = DeleteOutcome { already_gone: true };
    let d = |r: HttpResponse| novita::parse_delete_response(r);
    assert_eq!(d(resp(200, fixture("action.json"))).unwrap(), DELETED);
    assert_eq!(d(resp(200, "")).unwrap(), DELETED);
    assert_eq!(d(resp(404, fixture("error-404.json"))).unwrap(), GONE);
    assert_eq!(d(resp(404, "")).unwrap(), GONE);
    assert_eq!(d(resp(200, fixture("error-404.json"))).unwrap(), GONE, "a 404 wrapped in a 200");
    assert_eq!(provider::parse_delete_response(Provider::Novita, resp(404, "")).unwrap(), GONE);
    let e = d(resp(500, "boom")).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::Server, Some(500)));
    let e = d(resp(200, fixture("error-200-wrapped.json"))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Validation);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The error each answer parser (list, get, create, action) and `parse_error` make of `r()`.
fn every_parser_error(r: impl Fn() -> HttpResponse) -> [gpufleet::Error; 5] {
    [
        novita::parse_list_response(&NovitaListQuery::default(), r()).unwrap_err(),
        novita::parse_get_response(r()).unwrap_err(),
        novita::parse_create_response(r()).unwrap_err(),
        novita::parse_action_response(r()).unwrap_err(),
        novita::parse_error(&r()),
    ]
}

#[test]
fn error_shapes_and_codes() {
    struct Case {
        status: u16,
        file: &'static str,
        code: ErrorCode,
        message: &'static str,
        provider_type: Option<&'static str>,
        request_id: Option<&'static str>,
    }
    let cases = [
        Case {
            status: 400,
            file: "error-nested.json",
            code: ErrorCode::Validation,
            message: "productId prod-nope not found",
            provider_type: Some("PRODUCT_NOT_FOUND"),
            request_id: None,
        },
        Case {
            status: 403,
            file: "error-message.json",
            code: ErrorCode::Forbidden,
            message: "insufficient permission for this API key",
            provider_type: None,
            request_id: None,
        },
        Case {
            status: 401,
            file: "error-reason.json",
            code: ErrorCode::Unauthorized,
            message: "invalid API key",
            provider_type: Some("INVALID_API_KEY"),
            request_id: Some("req-7f3a9c2e1b"),
        },
        Case {
            status: 404,
            file: "error-404.json",
            code: ErrorCode::NotFound,
            message: "instance 0000000000000000 not found",
            provider_type: Some("INSTANCE_NOT_FOUND"),
            request_id: None,
        },
        Case {
            status: 429,
            file: "error-429.json",
            code: ErrorCode::RateLimited,
            message: "too many requests",
            provider_type: Some("RATE_LIMIT_EXCEEDED"),
            request_id: None,
        },
        Case {
            status: 503,
            file: "error-503.html",
            code: ErrorCode::Server,
            message: "<html><head><title>503 Service Temporarily Unavailable",
            provider_type: None,
            request_id: None,
        },
        Case {
            status: 504,
            file: "error-raw.txt",
            code: ErrorCode::Timeout,
            message: "upstream request timeout",
            provider_type: None,
            request_id: None,
        },
        Case {
            status: 500,
            file: "error-raw.txt",
            code: ErrorCode::Server,
            message: "upstream request timeout",
            provider_type: None,
            request_id: None,
        },
    ];
    for c in cases {
        let r = || resp(c.status, fixture(c.file));
        let errors = every_parser_error(r);
        for e in errors {
            assert_eq!(e.code, c.code, "{} {}", c.status, c.file);
            assert_eq!(e.status, Some(c.status));
            assert_eq!(e.provider, Some(Provider::Novita));
            assert!(e.message.contains(c.message), "{}: {}", c.file, e.message);
            assert!(e.message.contains(&format!("HTTP {}", c.status)), "{}", e.message);
            assert_eq!(e.provider_type.as_deref(), c.provider_type, "{}", c.file);
            assert_eq!(e.request_id.as_deref(), c.request_id, "{}", c.file);
            assert_eq!(e.retryable, c.code.is_transient());
            assert!(!e.message.contains(KEY));
        }
    }
}

/// Novita's documented error codes (`basic-error-code`) decide the code whatever the body's
/// shape; a missing instance is HTTP 400 `RESOURCE_NOT_FOUND`.
#[test]
fn documented_error_codes_decide_the_code_in_every_body_shape() {
    let cases: [(u16, &str, ErrorCode); 7] = [
        (400, "RESOURCE_NOT_FOUND", ErrorCode::NotFound),
        (400, "VALIDATOR_PARAM", ErrorCode::Validation),
        (400, "CREATE_INSTANCE_LIMIT", ErrorCode::QuotaExceeded),
        (429, "RATE_LIMIT_EXCEEDED", ErrorCode::RateLimited),
        (401, "UNAUTHORIZED", ErrorCode::Unauthorized),
        (403, "FORBIDDEN", ErrorCode::Forbidden),
        (500, "UNKNOWN", ErrorCode::Server),
    ];
    for (status, reason, code) in cases {
        let shapes = [
            format!(r#"{{"code":{status},"reason":"{reason}","message":"said so","metadata":{{}}}}"#),
            format!(r#"{{"code":"{reason}","message":"said so"}}"#),
            format!(r#"{{"error":{{"message":"said so","code":"{reason}"}}}}"#),
        ];
        for body in shapes {
            let r = || resp(status, body.clone());
            let errors = every_parser_error(r);
            for e in errors {
                assert_eq!(e.code, code, "{body}");
                assert_eq!(e.status, Some(status), "{body}");
                assert_eq!(e.provider_type.as_deref(), Some(reason), "the reason word is kept: {body}");
                assert!(e.message.contains("said so"), "{}", e.message);
                assert_eq!(e.retryable, code.is_transient(), "{body}");
            }
            // A delete of a missing instance is already gone; every other refusal is an error.
            match novita::parse_delete_response(r()) {
                Ok(outcome) => {
                    assert_eq!(code, ErrorCode::NotFound, "{body}");
                    assert!(outcome.already_gone);
                }
                Err(e) => assert_eq!(e.code, code, "{body}"),
            }
        }
    }
    // The quota refusal says what it means.
    let e = novita::parse_create_response(resp(
        400,
        r#"{"code":400,"reason":"CREATE_INSTANCE_LIMIT","message":"instance limit exceeded"}"#,
    ))
    .unwrap_err();
    assert!(e.message.contains("instance quota is reached"), "{}", e.message);
    assert!(!e.retryable);
    // The same codes inside a 200 error wrapper.
    let e =
        novita::parse_get_response(resp(200, r#"{"code":400,"reason":"RESOURCE_NOT_FOUND","message":"container not found"}"#))
            .unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::NotFound, Some(200)));
    // An undocumented reason keeps the status's code.
    let e = novita::parse_error(&resp(400, r#"{"code":400,"reason":"PRODUCT_NOT_FOUND","message":"no"}"#));
    assert_eq!(e.code, ErrorCode::Validation);
}

/// `{message, details}`: the details are kept, whatever they hold.
#[test]
fn error_details_are_kept() {
    let e = novita::parse_error(&resp(
        400,
        r#"{"message":"invalid request","details":[{"field":"gpuNum","message":"must be 1-8"},"imageUrl is required",{"key":"ports","reason":"BAD","msg":"port 2222 reserved"}]}"#,
    ));
    assert_eq!(e.code, ErrorCode::Validation);
    assert!(e.message.contains("invalid request"), "{}", e.message);
    let got: Vec<(Option<&str>, Option<&str>, &str)> =
        e.details.iter().map(|d| (d.field.as_deref(), d.code.as_deref(), d.message.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (Some("gpuNum"), None, "must be 1-8"),
            (None, None, "imageUrl is required"),
            (Some("ports"), Some("BAD"), "port 2222 reserved"),
        ]
    );
    let e = novita::parse_error(&resp(400, r#"{"message":"invalid request","details":"gpuNum must be 1-8"}"#));
    assert_eq!(e.details.len(), 1);
    assert_eq!(e.details[0].message, "gpuNum must be 1-8");
    let e = novita::parse_error(&resp(400, r#"{"message":"invalid request","details":null}"#));
    assert!(e.details.is_empty());
}

#[test]
fn request_ids_and_retry_after() {
    let e = novita::parse_error(
        &resp(429, fixture("error-429.json")).with_header("Retry-After", "3").with_header("X-Request-Id", "hdr-1"),
    );
    assert_eq!((e.code, e.retry_after_ms, e.request_id.as_deref()), (ErrorCode::RateLimited, Some(3000), Some("hdr-1")));
    assert!(e.retryable);
    for (body, id) in [
        (r#"{"message":"m","request_id":"a1"}"#, "a1"),
        (r#"{"message":"m","requestId":"a2"}"#, "a2"),
        (r#"{"error":{"message":"m","requestId":"a3"}}"#, "a3"),
        (r#"{"code":400,"reason":"R","message":"m","metadata":{"request_id":"a4"}}"#, "a4"),
        (r#"{"code":400,"reason":"R","message":"m","metadata":{"traceId":"a5"}}"#, "a5"),
        (r#"{"message":"m","trace_id":"a6"}"#, "a6"),
    ] {
        let e = novita::parse_error(&resp(400, body).with_header("x-request-id", "header-id"));
        assert_eq!(e.request_id.as_deref(), Some(id), "{body}");
    }
    // The body's id wins; the header is the fallback.
    let e = novita::parse_error(&resp(400, r#"{"message":"m"}"#).with_header("x-request-id", "header-id"));
    assert_eq!(e.request_id.as_deref(), Some("header-id"));
}

#[test]
fn reason_is_the_provider_type_even_beside_a_nested_error() {
    let e = novita::parse_error(&resp(400, r#"{"error":{"message":"m","code":400},"reason":"BAD_THING"}"#));
    assert!(e.message.ends_with(": m"), "{}", e.message);
    assert_eq!(e.provider_type.as_deref(), Some("BAD_THING"));
    let e = novita::parse_error(&resp(400, r#"{"code":400,"message":"only a code"}"#));
    assert_eq!(e.provider_type.as_deref(), Some("400"));
}

#[test]
fn an_empty_error_body_still_explains() {
    let e = novita::parse_error(&resp(502, ""));
    assert_eq!(e.code, ErrorCode::Server);
    assert!(e.message.contains("HTTP 502"), "{}", e.message);
}

#[test]
fn an_error_wrapped_in_a_200_is_an_error_not_an_empty_page() {
    let r = || resp(200, fixture("error-200-wrapped.json"));
    let errors = [
        novita::parse_list_response(&NovitaListQuery::default(), r()).unwrap_err(),
        novita::parse_get_response(r()).unwrap_err(),
        novita::parse_create_response(r()).unwrap_err(),
        novita::parse_action_response(r()).unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.code, ErrorCode::Validation, "the embedded code 400 decides: {e:?}");
        assert_eq!(e.status, Some(200), "the HTTP status actually received");
        assert_eq!(e.provider_type.as_deref(), Some("INVALID_PARAMETER"));
        assert!(e.message.contains("pageSize must be an integer >= 0"), "{}", e.message);
        assert!(e.message.contains("HTTP 200 with an error body (code 400)"), "{}", e.message);
    }
    // Other wrappers: a nested error object, a string code, a reason without a code.
    for (body, code) in [
        (r#"{"error":{"message":"no","code":"FORBIDDEN"}}"#, ErrorCode::Forbidden),
        (r#"{"code":"SOMETHING_ELSE","message":"no"}"#, ErrorCode::Server),
        (r#"{"error":{"message":"no","code":403}}"#, ErrorCode::Forbidden),
        (r#"{"code":"INVALID_PARAMETER","message":"bad"}"#, ErrorCode::Server),
        (r#"{"reason":"NOT_FOUND","message":"gone"}"#, ErrorCode::Server),
        (r#"{"code":404,"message":"gone"}"#, ErrorCode::NotFound),
        (r#"{"code":429,"message":"slow down"}"#, ErrorCode::RateLimited),
        (r#"{"code":1,"message":"failed"}"#, ErrorCode::Server),
        (r#"{"error":"something broke"}"#, ErrorCode::Server),
    ] {
        let e = novita::parse_list_response(&NovitaListQuery::default(), resp(200, body)).unwrap_err();
        assert_eq!(e.code, code, "{body}");
    }
    // A real answer carrying a `code` field is not a wrapper.
    let page = parse_list(&NovitaListQuery::default(), r#"{"code":400,"instances":[],"total":0}"#).unwrap();
    assert!(page.items.is_empty());
    let i = novita::parse_get_response(resp(200, r#"{"id":"x1","status":"running","code":500}"#)).unwrap();
    assert_eq!(i.id, "x1");
    // A success-looking wrapper without the payload is a decode error, not an error wrapper.
    let e = parse_list(&NovitaListQuery::default(), r#"{"code":0,"message":"success"}"#).unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), (ErrorCode::Decode, Some("instances")));
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies: decode with the JSON path, never a panic
// ---------------------------------------------------------------------------------------------

fn decode_field(r: gpufleet::Result<impl std::fmt::Debug>) -> String {
    let e = r.expect_err("a decode error");
    assert_eq!(e.code, ErrorCode::Decode, "{e:?}");
    assert_eq!(e.provider, Some(Provider::Novita));
    e.field.expect("decode errors name a path")
}

#[test]
fn malformed_list_bodies_name_the_json_path() {
    let q = NovitaListQuery::default();
    let cases: &[(&str, &str)] = &[
        (
            r#"{"instances":[{"id":"a","status":"running"},{"id":"b","status":"running"},{"id":7,"status":"running"}]}"#,
            "instances[2].id",
        ),
        (r#"{"instances":[{"status":"running"}]}"#, "instances[0].id"),
        (r#"{"instances":[{"id":"a"}]}"#, "instances[0].status"),
        (r#"{"instances":[["a","running"]]}"#, "instances[0]"),
        (r#"{"instances":[{"id":null,"status":"running"}]}"#, "instances[0].id"),
        (r#"{"instances":[{"id":"a","status":null}]}"#, "instances[0].status"),
        (r#"{"instances":[{"id":"a","status":3}]}"#, "instances[0].status"),
        (r#"{"instances":[{"id":"","status":"running"}]}"#, "instances[0].id"),
        (r#"{"instances":[{"id":"a","status":"running"}, 5]}"#, "instances[1]"),
        (r#"{"instances":{"id":"a"}}"#, "instances"),
        (r#"{"instances":"none"}"#, "instances"),
        (r#"{}"#, "instances"),
        (r#"[]"#, "body"),
        (r#""ok""#, "body"),
        ("", "body"),
        ("<html>bad gateway</html>", "body"),
    ];
    for (body, path) in cases {
        assert_eq!(decode_field(parse_list(&q, *body)), *path, "{body}");
    }
    let e = parse_list(&q, r#"{"instances":[{"id":"a","#).unwrap_err();
    assert!(e.message.contains("truncated"), "{}", e.message);
}

#[test]
fn malformed_get_and_create_bodies() {
    assert_eq!(decode_field(novita::parse_get_response(resp(200, r#"{"id":1,"status":"running"}"#))), "id");
    assert_eq!(decode_field(novita::parse_get_response(resp(200, r#"{"id":"a","status":{}}"#))), "status");
    assert_eq!(decode_field(novita::parse_get_response(resp(200, r#"{"id":" ","status":"running"}"#))), "id");
    assert_eq!(decode_field(novita::parse_get_response(resp(200, r#"{"status":"running"}"#))), "id");
    assert_eq!(decode_field(novita::parse_get_response(resp(200, r#"{"id":"a"}"#))), "status");
    assert_eq!(decode_field(novita::parse_get_response(resp(200, "[1]"))), "body");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, r#"{"id":12}"#))), "id");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, r#"{"id":""}"#))), "id");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, "{}"))), "id");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, r#"["x1"]"#))), "body");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, r#"{"id":"x1"} trailing"#))), "body");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, ""))), "body");
    assert_eq!(decode_field(novita::parse_create_response(resp(200, r#"{"id":null}"#))), "id");
}

#[test]
fn every_truncation_of_every_fixture_is_a_decode_error() {
    let q = NovitaListQuery::default();
    for file in ["list.json", "list-numbers.json", "list-no-total.json"] {
        let body = fixture(file);
        let end = String::from_utf8_lossy(&body).trim_end().len();
        for cut in 0..end {
            let r = novita::parse_list_response(&q, resp(200, body[..cut].to_vec()));
            let e = r.expect_err(file);
            assert_eq!(e.code, ErrorCode::Decode, "{file} cut at {cut}");
        }
    }
    for file in ["get.json", "get-older.json"] {
        let body = fixture(file);
        let end = String::from_utf8_lossy(&body).trim_end().len();
        for cut in 0..end {
            let e = novita::parse_get_response(resp(200, body[..cut].to_vec())).expect_err(file);
            assert_eq!(e.code, ErrorCode::Decode, "{file} cut at {cut}");
        }
    }
    let body = fixture("create.json");
    let end = String::from_utf8_lossy(&body).trim_end().len();
    for cut in 0..end {
        let e = novita::parse_create_response(resp(200, body[..cut].to_vec())).unwrap_err();
        assert_eq!(e.code, ErrorCode::Decode, "create cut at {cut}");
    }
}

#[test]
fn non_utf8_and_odd_bytes_never_panic() {
    let q = NovitaListQuery::default();
    for body in [
        &b"\xff\xfe\x00"[..],
        b"{\"instances\":[\xff]}",
        b"\x00",
        b"{\"instances\":[{\"id\":\"\xc3\x28\",\"status\":\"running\"}]}",
    ] {
        assert_eq!(novita::parse_list_response(&q, resp(200, body.to_vec())).unwrap_err().code, ErrorCode::Decode);
        let _ = novita::parse_error(&resp(500, body.to_vec()));
        let _ = novita::parse_action_response(resp(200, body.to_vec()));
        let _ = novita::parse_delete_response(resp(200, body.to_vec()));
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers: SSH commands and GPU models
// ---------------------------------------------------------------------------------------------

#[test]
fn ssh_commands_in_any_order() {
    type Want = Option<(&'static str, u16, Option<&'static str>)>;
    let cases: &[(&str, Want)] = &[
        ("ssh root@203.0.113.7 -p 31234", Some(("203.0.113.7", 31234, Some("root")))),
        ("ssh -p 31234 root@203.0.113.7", Some(("203.0.113.7", 31234, Some("root")))),
        ("ssh -p31234 root@host.example", Some(("host.example", 31234, Some("root")))),
        ("ssh -o StrictHostKeyChecking=no -p 2200 -i ~/.ssh/id root@h.example", Some(("h.example", 2200, Some("root")))),
        ("ssh -i key -l ubuntu host.example", Some(("host.example", 22, Some("ubuntu")))),
        ("ssh host.example", Some(("host.example", 22, None))),
        ("ssh -tt root@h.example -p 2201 uptime", Some(("h.example", 2201, Some("root")))),
        ("ssh ssh://root@h.example:2202", Some(("h.example", 2202, Some("root")))),
        ("ssh ssh://h.example", Some(("h.example", 22, None))),
        ("ssh root@[2001:db8::1] -p 2203", Some(("2001:db8::1", 2203, Some("root")))),
        ("ssh ssh://root@[2001:db8::1]:2204", Some(("2001:db8::1", 2204, Some("root")))),
        ("/usr/bin/ssh  root@h.example   -p 22 ", Some(("h.example", 22, Some("root")))),
        ("", None),
        ("ssh", None),
        ("ssh -p 22", None),
        ("ssh root@h.example -p", None),
        ("ssh -p abc root@h.example", None),
        ("ssh -p 0 root@h.example", None),
        ("ssh -p 70000 root@h.example", None),
        ("ssh root@", None),
        ("ssh root@h;rm", None),
        ("telnet h.example 23", None),
        ("sshpass -p x ssh root@h", None),
    ];
    for (cmd, want) in cases {
        let got = novita::parse_ssh_command(cmd);
        let want = want.map(|(h, p, u)| SshInfo {
            host: h.into(),
            port: p,
            user: u.map(str::to_owned),
            command: Some(cmd.trim().to_owned()),
        });
        assert_eq!(got, want, "{cmd:?}");
    }
}

#[test]
fn gpu_model_heuristic() {
    let cases: &[(&str, Option<&str>)] = &[
        ("RTX 4090 24GB", Some("RTX 4090")),
        ("RTX 3090 24GB", Some("RTX 3090")),
        ("RTX 6000 Ada 48GB", Some("RTX 6000 Ada")),
        ("L40S 48GB", Some("L40S")),
        ("A100 SXM 80GB", Some("A100 SXM")),
        ("H200 SXM 141GB", Some("H200 SXM")),
        ("8x A100 80G", Some("A100")),
        ("A100 80 GB", Some("A100")),
        ("RTX 4090 (24GB)", Some("RTX 4090")),
        ("H100 SXM 80GB x8", Some("H100 SXM")),
        ("NVIDIA H100", Some("NVIDIA H100")),
        ("CPU 8 vCPU 32GB", None),
        ("32vCPU 128GB", None),
        ("24GB", None),
        ("Basic", None),
        ("", None),
    ];
    for (name, want) in cases {
        assert_eq!(novita::gpu_model_from_product_name(name).as_deref(), *want, "{name:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

#[test]
fn capabilities_describe_novita() {
    let c = novita::capabilities();
    assert_eq!(c, Provider::Novita.capabilities());
    assert_eq!(c.provider, Provider::Novita);
    assert_eq!(c.display_name, "Novita");
    assert_eq!(
        c.operations,
        vec![
            Operation::List,
            Operation::Get,
            Operation::Create,
            Operation::Start,
            Operation::Stop,
            Operation::Restart,
            Operation::Delete
        ]
    );
    assert!(!c.supports(Operation::Terminate) && !c.supports(Operation::Ssh));
    assert_eq!(c.pagination, Pagination::PageNumber);
    assert_eq!(c.max_page_size, Some(100));
    assert!(!c.idempotent_create);
    assert_eq!(c.provider_statuses, novita::STATUSES.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(c.provider_statuses.len(), 18);

    // Every list filter is a field of the list query, and every field is offered.
    let full_query = NovitaListQuery {
        limit: Some(1),
        cursor: Some("1".into()),
        name: Some("n".into()),
        product_name: Some("p".into()),
        status: Some("running".into()),
    };
    let keys: Vec<String> = serde_json::to_value(&full_query).unwrap().as_object().unwrap().keys().cloned().collect();
    let mut filters = c.list_filters.clone();
    filters.sort();
    let mut keys_sorted = keys;
    keys_sorted.sort();
    assert_eq!(filters, keys_sorted);

    // Every create field is a field of the create input.
    let input = serde_json::to_value(full_create()).unwrap();
    for f in &c.create_fields {
        assert!(input.get(&f.name).is_some(), "{} is a NovitaCreateInput field", f.name);
    }
    let field = |n: &str| c.create_fields.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("{n}"));
    assert!(field("productId").required && field("imageUrl").required);
    assert_eq!(field("imageUrl").max_length, Some(500));
    assert_eq!((field("gpuNum").min, field("gpuNum").max), (Some(1), Some(8)));
    assert_eq!((field("rootfsSize").min, field("rootfsSize").max), (Some(10), Some(6144)));
    assert_eq!(field("kind").kind, FieldKind::Enum);
    assert_eq!(field("kind").options, vec!["gpu", "cpu"]);
    assert_eq!(field("billingMode").options, vec!["onDemand", "monthly", "spot"]);
    assert_eq!(field("envs").kind, FieldKind::KeyValue);
    for name in ["name", "ports", "command", "entrypoint", "clusterId", "minCudaVersion", "month", "autoRenew", "autoRenewMonth"]
    {
        field(name);
    }
}
