//! fal Platform API v1 — `https://api.fal.ai/v1`, `Authorization: Key <admin key>`.
//!
//! Four operations exist (seed 000/001, the v1 OpenAPI): list (cursor pagination), get, create
//! (201, `Idempotency-Key`) and delete (204). The error body is
//! `{"error":{"type","message","docs_url"?,"request_id"?}}` on every non-2xx.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::shared::{
    check_enum, child_path, decode_value, fast_record, http_error, id_url, is_object_text, json_kind, loose_error_parts,
    parse_json, skips_as_strictly, ErrorParts, RETRY_AFTER_CAP_MS,
};
use super::{Provider, ProviderConfig};
use crate::error::{Error, Result};
use crate::http::{query_string, HttpRequest, HttpResponse, Method};
use crate::model::{
    Capabilities, DeleteOutcome, FalCreateInput, FalListQuery, FieldKind, FieldSpec, Instance, Operation, Page, Pagination,
    SshInfo, Status,
};
use crate::ssh_key::check as check_ssh_key;

const P: Provider = Provider::Fal;

/// Instance types fal documents.
pub const INSTANCE_TYPES: &[&str] = &["gpu_8x_h100_sxm5", "gpu_1x_h100_sxm5"];
/// Sectors (InfiniBand placement), valid only with [`SECTOR_INSTANCE_TYPE`].
pub const SECTORS: &[&str] = &["sector_1", "sector_2", "sector_3"];
/// The one instance type that takes a sector.
pub const SECTOR_INSTANCE_TYPE: &str = "gpu_8x_h100_sxm5";
/// Status words of the v1 API.
pub const STATUSES: &[&str] = &["ready", "init", "pending", "provisioning", "stopped", "unknown"];
/// Longest cursor accepted (fal cursors are short base64 page numbers).
const MAX_CURSOR_LEN: usize = 1024;

/// What fal v1 offers.
pub fn capabilities() -> Capabilities {
    Capabilities {
        provider: P,
        display_name: P.display_name().to_owned(),
        operations: vec![Operation::List, Operation::Get, Operation::Create, Operation::Delete],
        pagination: Pagination::Cursor,
        max_page_size: None,
        list_filters: vec!["limit".into(), "cursor".into()],
        idempotent_create: true,
        provider_statuses: STATUSES.iter().map(|s| s.to_string()).collect(),
        create_fields: create_fields(true),
    }
}

/// The create form shared by fal v1 and the alpha API (`with_idempotency_key` only for v1).
pub(crate) fn create_fields(with_idempotency_key: bool) -> Vec<FieldSpec> {
    let mut fields = vec![
        FieldSpec {
            name: "instanceType".into(),
            label: "Instance type".into(),
            kind: FieldKind::Enum,
            required: true,
            options: INSTANCE_TYPES.iter().map(|s| s.to_string()).collect(),
            min: None,
            max: None,
            max_length: None,
            help: Some("8× or 1× H100 SXM5; the region is assigned automatically".into()),
        },
        FieldSpec {
            name: "sshKey".into(),
            label: "SSH public key".into(),
            kind: FieldKind::Text,
            required: true,
            options: vec![],
            min: None,
            max: None,
            max_length: None,
            help: Some("e.g. ssh-ed25519 AAAA… you@host".into()),
        },
        FieldSpec {
            name: "sector".into(),
            label: "Sector (InfiniBand)".into(),
            kind: FieldKind::Enum,
            required: false,
            options: SECTORS.iter().map(|s| s.to_string()).collect(),
            min: None,
            max: None,
            max_length: None,
            help: Some(format!("only with {SECTOR_INSTANCE_TYPE}")),
        },
    ];
    if with_idempotency_key {
        fields.push(FieldSpec {
            name: "idempotencyKey".into(),
            label: "Idempotency key".into(),
            kind: FieldKind::String,
            required: false,
            options: vec![],
            min: None,
            max: None,
            max_length: Some(255),
            help: Some("generated when empty; the same key within 10 minutes returns the same instance".into()),
        });
    }
    fields
}

/// Maps a fal status word (v1 and alpha) to the normalized [`Status`].
pub fn map_status(status: &str) -> Status {
    match status {
        "pending" => Status::Pending,
        "init" | "provisioning" => Status::Provisioning,
        "ready" => Status::Running,
        "stopped" => Status::Stopped,
        _ => Status::Unknown,
    }
}

/// GPU count and model from an instance type such as `gpu_8x_h100_sxm5` → `(8, "H100 SXM5")`.
pub fn gpus_from_instance_type(instance_type: &str) -> (Option<u32>, Option<String>) {
    let Some(rest) = instance_type.strip_prefix("gpu_") else { return (None, None) };
    let Some((count, model)) = rest.split_once("x_") else { return (None, None) };
    let count = count.parse().ok();
    let model = if model.is_empty() { None } else { Some(model.replace('_', " ").to_uppercase()) };
    (count, model)
}

/// `Key <admin key>`; a key pasted together with its `Key ` prefix is not prefixed twice.
pub(crate) fn auth_header(config: &ProviderConfig) -> String {
    let key = config.api_key.trim();
    let key = key.strip_prefix("Key ").map(str::trim_start).unwrap_or(key);
    format!("Key {key}")
}

/// Builds `GET /compute/instances?limit=&cursor=`.
pub fn build_list_request(query: &FalListQuery, config: &ProviderConfig) -> Result<HttpRequest> {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(limit) = query.limit {
        if limit < 1 {
            return Err(Error::invalid_input("limit", "must be at least 1"));
        }
        pairs.push(("limit", limit.to_string()));
    }
    if let Some(cursor) = &query.cursor {
        if cursor.is_empty() || cursor.len() > MAX_CURSOR_LEN || cursor.chars().any(char::is_control) {
            return Err(Error::invalid_input("cursor", "must be a cursor returned by a previous page"));
        }
        pairs.push(("cursor", cursor.clone()));
    }
    let url = config.url(&format!("/compute/instances{}", query_string(&pairs)));
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

/// Parses the list answer `{instances, next_cursor, has_more}`.
///
/// `instances` is required; `next_cursor` may be absent or null (last page); a missing `has_more`
/// is derived from `next_cursor`, as the spec says it is.
pub fn parse_list_response(response: HttpResponse) -> Result<Page<Instance>> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let body: Arc<[u8]> = response.body.as_slice().into();
    match fast_list(&body) {
        Some(page) => Ok(page),
        None => slow_list(&response.body),
    }
}

/// [`parse_list_response`] through a JSON tree and the path-tracking reader: the failure named
/// precisely, or the same page as [`fast_list`].
pub(crate) fn slow_list(body: &[u8]) -> Result<Page<Instance>> {
    let mut envelope = decode_object(P, body, "a list object {instances, next_cursor, has_more}")?;
    let instances = match envelope.remove("instances") {
        Some(Value::Array(items)) => items,
        None => return Err(Error::decode(P, "instances", "missing required field")),
        Some(other) => return Err(Error::decode(P, "instances", format!("expected an array, got {}", json_kind(&other)))),
    };
    let next_cursor: Option<String> = decode_value(P, envelope.get("next_cursor").unwrap_or(&Value::Null), "next_cursor")?;
    let next_cursor = next_cursor.filter(|c| !c.is_empty());
    let has_more = match envelope.get("has_more") {
        None | Some(Value::Null) => next_cursor.is_some(),
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(Error::decode(P, "has_more", format!("expected a boolean, got {}", json_kind(other)))),
    };
    let items = instances
        .into_iter()
        .enumerate()
        .map(|(i, v)| instance_from_value(v, &format!("instances[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Ok(Page { items, next_cursor, has_more, total: None })
}

/// Parses `body` as JSON that must be an object (serde would otherwise read a struct from an
/// array, so `["a","ready"]` would pass for an instance).
fn decode_object(provider: Provider, body: &[u8], what: &str) -> Result<Map<String, Value>> {
    match parse_json(provider, body)? {
        Value::Object(map) => Ok(map),
        other => Err(Error::decode(provider, "", format!("expected {what}, got {}", json_kind(&other)))),
    }
}

/// The fields of a v1 instance gpufleet reads; the whole record is kept in `raw`.
#[derive(Deserialize)]
struct WireInstance<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    status: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    instance_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    region: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    sector: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    ip: Option<std::borrow::Cow<'a, str>>,
}

/// Normalizes one fal instance record (v1 or alpha: alpha just lacks `region`).
pub(crate) fn normalize(provider: Provider, value: Value, path: &str) -> Result<Instance> {
    let Some(object) = value.as_object() else {
        return Err(Error::decode(provider, path, format!("expected an instance object, got {}", json_kind(&value))));
    };
    for key in ["id", "status"] {
        if object.get(key).map_or(true, Value::is_null) {
            return Err(Error::decode(provider, child_path(path, key), "missing required field"));
        }
    }
    let wire: WireInstance = decode_value(provider, &value, path)?;
    let instance = from_wire(provider, wire);
    Ok(Instance { raw: value.into(), ..instance })
}

/// The instance a wire record describes (`raw` left empty): the one normalizer of both decode
/// paths.
fn from_wire(provider: Provider, wire: WireInstance<'_>) -> Instance {
    let (gpu_count, gpu_model) = wire.instance_type.as_deref().map(gpus_from_instance_type).unwrap_or((None, None));
    let ip = wire.ip.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let ssh = ip.as_ref().map(|ip| SshInfo { host: ip.clone(), port: 22, user: None, command: Some(format!("ssh {ip}")) });
    Instance {
        provider,
        id: wire.id.into_owned(),
        name: None,
        status: map_status(&wire.status),
        provider_status: wire.status.into_owned(),
        status_reason: None,
        offer_id: wire.instance_type.as_deref().map(str::to_owned),
        instance_type: wire.instance_type.map(|s| s.into_owned()),
        gpu_count,
        gpu_model,
        region: wire.region.map(|s| s.into_owned()),
        sector: wire.sector.map(|s| s.into_owned()),
        ip,
        ssh,
        ..Instance::new(P, String::new(), Status::Unknown, String::new())
    }
}

/// One record of a list body the fast way (see `provider::fast_record`).
pub(crate) fn fast_instance(provider: Provider, body: &Arc<[u8]>, record: &RawValue) -> Option<Instance> {
    fast_record(body, record, |wire: WireInstance| Some(from_wire(provider, wire)))
}

/// The list envelope, read without a JSON tree.
#[derive(Deserialize)]
struct FastList<'a> {
    #[serde(borrow)]
    instances: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    next_cursor: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    has_more: Option<bool>,
}

/// [`parse_list_response`]'s page read the fast way, or `None` (then the slow way decides).
pub(crate) fn fast_list(body: &Arc<[u8]>) -> Option<Page<Instance>> {
    if !is_object_text(body) || !skips_as_strictly(body) {
        return None;
    }
    let list: FastList = serde_json::from_slice(body).ok()?;
    let next_cursor = list.next_cursor.filter(|c| !c.is_empty()).map(|c| c.into_owned());
    let has_more = list.has_more.unwrap_or(next_cursor.is_some());
    let items = list.instances.iter().map(|r| fast_instance(P, body, r)).collect::<Option<Vec<_>>>()?;
    Some(Page { items, next_cursor, has_more, total: None })
}

fn instance_from_value(value: Value, path: &str) -> Result<Instance> {
    normalize(P, value, path)
}

/// Builds `GET /compute/instances/{id}`.
pub fn build_get_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/compute/instances", id, "")?;
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

/// Parses one instance.
pub fn parse_get_response(response: HttpResponse) -> Result<Instance> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    instance_from_value(parse_json(P, &response.body)?, "")
}

#[derive(Serialize)]
struct WireCreate<'a> {
    instance_type: &'a str,
    ssh_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sector: Option<&'a str>,
}

/// Checks a create input against the documented rules (shared with the alpha API).
pub(crate) fn validate_create(instance_type: &str, ssh_key: &str, sector: Option<&str>) -> Result<()> {
    check_enum("instanceType", instance_type, INSTANCE_TYPES)?;
    check_ssh_key(ssh_key).map_err(|rule| Error::invalid_input("sshKey", rule))?;
    if let Some(sector) = sector {
        check_enum("sector", sector, SECTORS)?;
        if instance_type != SECTOR_INSTANCE_TYPE {
            return Err(Error::invalid_input("sector", format!("is only valid with instanceType {SECTOR_INSTANCE_TYPE}")));
        }
    }
    Ok(())
}

pub(crate) fn create_body(instance_type: &str, ssh_key: &str, sector: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&WireCreate { instance_type, ssh_key, sector }).unwrap_or_default()
}

/// Checks an idempotency key: 1–255 visible ASCII characters (it travels in a header).
pub fn validate_idempotency_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid_input("idempotencyKey", "must be 1–255 visible ASCII characters"));
    }
    Ok(())
}

/// Builds `POST /compute/instances` with an `Idempotency-Key` header. The key is the caller's
/// `idempotencyKey` if given, otherwise `generated_key`.
pub fn build_create_request(input: &FalCreateInput, generated_key: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    validate_create(&input.instance_type, &input.ssh_key, input.sector.as_deref())?;
    let key = input.idempotency_key.as_deref().unwrap_or(generated_key);
    validate_idempotency_key(key)?;
    Ok(HttpRequest::new(Method::Post, config.url("/compute/instances"))
        .header("Authorization", auth_header(config))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", key)
        .json_body(create_body(&input.instance_type, &input.ssh_key, input.sector.as_deref())))
}

/// Parses the created instance (201).
pub fn parse_create_response(response: HttpResponse) -> Result<Instance> {
    parse_get_response(response)
}

/// Builds `DELETE /compute/instances/{id}`.
pub fn build_delete_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/compute/instances", id, "")?;
    Ok(HttpRequest::new(Method::Delete, url).header("Authorization", auth_header(config)))
}

/// 204 → deleted; 404 → already gone (success); anything else → the error.
pub fn parse_delete_response(response: HttpResponse) -> Result<DeleteOutcome> {
    match response.status {
        200..=299 => Ok(DeleteOutcome { already_gone: false }),
        404 => Ok(DeleteOutcome { already_gone: true }),
        _ => Err(parse_error(&response)),
    }
}

#[derive(Deserialize)]
struct WireErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
    docs_url: Option<String>,
    request_id: Option<String>,
}

/// Reads fal's error body `{error:{type,message,docs_url,request_id}}` (falling back to any
/// readable shape, then the raw text) into an [`Error`] whose code follows the HTTP status.
pub fn parse_error(response: &HttpResponse) -> Error {
    error_for(P, response)
}

pub(crate) fn error_for(provider: Provider, response: &HttpResponse) -> Error {
    let parts = match crate::json_path::read_slice::<WireErrorEnvelope>(&response.body) {
        Some(WireErrorEnvelope { error }) if error.message.is_some() || error.kind.is_some() => ErrorParts {
            provider_type: error.kind,
            message: error.message,
            request_id: error.request_id,
            docs_url: error.docs_url,
            details: Vec::new(),
        },
        _ => loose_error_parts(&response.body),
    };
    let mut e = http_error(provider, response, parts);
    if e.retry_after_ms.is_none() && response.status == 429 {
        // fal's serverless control plane documents `x-ratelimit-reset` (seconds until the
        // window resets) on its 429s; compute documents no header, so this is only a fallback.
        e.retry_after_ms = response
            .header("x-ratelimit-reset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| secs.saturating_mul(1000).min(RETRY_AFTER_CAP_MS));
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Money: the account's credit balance (fal publishes no compute price API: prices come from the
// user's table, `crate::money::PriceTable`)
// ---------------------------------------------------------------------------------------------

/// `GET /account/billing?expand=credits` (Platform API v1).
pub fn build_balance_request(config: &ProviderConfig) -> Result<HttpRequest> {
    let url = config.url(&format!("/account/billing{}", query_string(&[("expand", "credits")])));
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

/// Reads `{"credits": {"current_balance": <USD>, "currency": "USD"}}`.
pub fn parse_balance_response(response: HttpResponse) -> Result<crate::model::Balance> {
    use crate::model::{Balance, Money};
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let value = parse_json(P, &response.body)?;
    let Some(credits) = value.get("credits").filter(|c| c.is_object()) else {
        return Err(Error::decode(P, "credits", "missing field `credits` (asked with expand=credits)"));
    };
    let Some(balance) = credits.get("current_balance") else {
        return Err(Error::decode(P, "credits.current_balance", "missing field `current_balance`"));
    };
    let micro = crate::money::json_to_micro(balance).map_err(|rule| Error::decode(P, "credits.current_balance", rule))?;
    let currency = credits.get("currency").and_then(Value::as_str).unwrap_or("USD").trim().to_ascii_uppercase();
    if currency != "USD" {
        return Err(Error::decode(P, "credits.currency", format!("{currency} is not converted: gpufleet sums US dollars")));
    }
    Ok(Balance { provider: P, available: Money::from_micro(micro), currency, details: Default::default(), raw: value })
}
