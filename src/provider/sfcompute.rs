//! SF Compute preview v2 — `https://api.sfcompute.com/preview/v2`, `Authorization: Bearer <token>`.
//!
//! Six operations (seed 003, PROVIDERS.md §2, the July 2026 spec extract): list (Stripe-style
//! `starting_after` ← `cursor`, repeatable filters as repeated query keys), get, create (201),
//! terminate (`POST …/{id}/terminate`, 200, final), delete (204; 409 until terminated) and SSH
//! details (`GET …/{id}/ssh`). The error body is `{"error":{"type","message","details"?}}`.
//!
//! The API is a public preview and changed between the three snapshots we have (May CLI schema,
//! seed 003, July spec): `capacity` became `pool`, `priority` (int) became `priority_level`
//! (enum), `instance_sku` went from `{id,name}` to `{object,id,alias}`. Parsing reads only what
//! the model needs, tolerates every documented shape, and keeps the whole record in `raw`.
//!
//! Decisions where the documents are silent:
//! - Patterns from the spec (`wksp_…`, `sfc:workspace:…`, …) are matched against the *whole*
//!   value, as their authors evidently meant (OpenAPI patterns are unanchored).
//! - Legacy id prefixes the spec says are "aliased for read compatibility" (`vm_` for instances,
//!   `clus_` for SKUs) are accepted wherever the canonical prefix is.
//! - An instance without `status` (seed 003's example omits it) is `unknown` with an empty
//!   `providerStatus`: there is no provider word to keep.
//! - `workspace` is required on list (seed 003); the July spec made it optional, but the seed is
//!   the contract, so a listing without a workspace is refused before any request.

// `Error` is one flat serializable record (168 bytes) by design, shared by every module; whether
// to box it is a crate-wide decision, so this lint is silenced here rather than worked around.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    check_enum, check_range, decode_value, http_error, parse_json, id_url, loose_error_parts, str_field,
    unix_seconds_to_iso, ErrorParts, Provider, ProviderConfig,
};
use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::http::{query_string, HttpRequest, HttpResponse, Method};
use crate::model::{
    Capabilities, DeleteOutcome, FieldKind, FieldSpec, HostKey, Instance, ManagedBy, Operation, Page, Pagination,
    PoolRef, PriorityLevel, SfcCreateInput, SfcListQuery, SshDetails, Status,
};

const P: Provider = Provider::Sfcompute;

/// The documented `InstanceStatus` values. The spec says the list is not exhaustive; any other
/// value maps to `unknown`.
pub const STATUSES: &[&str] = &["awaiting_allocation", "running", "terminated", "failed"];
/// `priority_level` values, lowest first (`yield < normal < preferred < critical`).
pub const PRIORITY_LEVELS: &[&str] = &["yield", "normal", "preferred", "critical"];
/// The only value `include` accepts.
pub const INCLUDES: &[&str] = &["cloud_init_user_data"];
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;
/// Most tags an instance may carry.
pub const MAX_TAGS: usize = 50;
/// Largest cloud-init user data, decoded ("Maximum 64KB").
pub const MAX_CLOUD_INIT_BYTES: usize = 64 * 1024;
/// The hint added to a 409 from delete: SF Compute only deletes terminated instances.
pub const TERMINATE_FIRST_HINT: &str = "terminate it first (fleet.terminate), then delete";

/// What SF Compute offers.
pub fn capabilities() -> Capabilities {
    Capabilities {
        provider: P,
        display_name: P.display_name().to_owned(),
        operations: vec![
            Operation::List,
            Operation::Get,
            Operation::Create,
            Operation::Terminate,
            Operation::Delete,
            Operation::Ssh,
        ],
        pagination: Pagination::StartingAfter,
        max_page_size: Some(MAX_LIMIT),
        list_filters: [
            "workspace",
            "limit",
            "cursor",
            "endingBefore",
            "id",
            "capacity",
            "pool",
            "status",
            "createdAfter",
            "createdBefore",
            "instanceSku",
            "include",
            "tag",
            "tagKey",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        idempotent_create: false,
        provider_statuses: STATUSES.iter().map(|s| s.to_string()).collect(),
        create_fields: create_fields(),
    }
}

fn field(name: &str, label: &str, kind: FieldKind, required: bool, help: &str) -> FieldSpec {
    FieldSpec { help: Some(help.into()), ..FieldSpec::new(name, label, kind, required) }
}

fn create_fields() -> Vec<FieldSpec> {
    vec![
        FieldSpec {
            max_length: Some(255),
            ..field(
                "name",
                "Name",
                FieldKind::String,
                false,
                "letters, digits, '.', '_', '-'; starts with a letter or digit",
            )
        },
        field(
            "capacity",
            "Capacity",
            FieldKind::String,
            false,
            "cap_… or sfc:capacity:<account>:<workspace>:<name>; give capacity or pool",
        ),
        field(
            "pool",
            "Pool",
            FieldKind::String,
            false,
            "pool_… or sfc:pool:<account>:<workspace>:<name> (newer API versions); give capacity or pool",
        ),
        field(
            "image",
            "Image",
            FieldKind::String,
            true,
            "image_… or sfc:image:<account>:<workspace>:<name> (see `sf images list`)",
        ),
        field("instanceSku", "Instance SKU", FieldKind::String, false, "isku_… (required by newer API versions)"),
        field(
            "cloudInitUserData",
            "cloud-init user data (base64)",
            FieldKind::Text,
            false,
            "base64, at most 64 KiB decoded; install your SSH key here",
        ),
        field(
            "tags",
            "Tags",
            FieldKind::KeyValue,
            false,
            "up to 50; keys without ',', '=' or spaces, not starting with '_'; values without ',' or '='",
        ),
        field(
            "priority",
            "Priority",
            FieldKind::Integer,
            false,
            "seed-era API: higher numbers are kept longer; do not combine with priority level",
        ),
        FieldSpec {
            options: PRIORITY_LEVELS.iter().map(|s| s.to_string()).collect(),
            ..field(
                "priorityLevel",
                "Priority level",
                FieldKind::Enum,
                false,
                "newer API versions; yield < normal < preferred < critical (default normal)",
            )
        },
        field(
            "enablePublicIpv4",
            "Public IPv4",
            FieldKind::Boolean,
            false,
            "the SKU must offer public IPv4; needs a firewall",
        ),
        field(
            "firewall",
            "Firewall",
            FieldKind::String,
            false,
            "frwl_… or sfc:firewall:<account>:<workspace>:<name>; only with public IPv4",
        ),
        field(
            "previewEnableInfiniband",
            "InfiniBand (preview)",
            FieldKind::Boolean,
            false,
            "experimental; the SKU must support InfiniBand",
        ),
    ]
}

/// Maps an SF Compute status word to the normalized [`Status`] (total: anything else,
/// including a status added tomorrow, is `unknown`).
pub fn map_status(status: &str) -> Status {
    match status {
        "awaiting_allocation" => Status::Pending,
        "running" => Status::Running,
        "terminated" => Status::Terminated,
        "failed" => Status::Failed,
        _ => Status::Unknown,
    }
}

fn auth_header(config: &ProviderConfig) -> String {
    format!("Bearer {}", config.api_key.trim())
}

// ---------------------------------------------------------------------------------------------
// Input patterns (by hand: no regex crate in a wasm build that counts its bytes).
// ---------------------------------------------------------------------------------------------

/// `[0-9a-zA-Z_-]` — the id alphabet after a prefix.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// `[a-zA-Z0-9._-]` — the alphabet of resource-path segments.
fn is_segment_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// `<prefix>[0-9a-zA-Z_-]{1,21}`.
fn is_prefixed_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| (1..=21).contains(&rest.len()) && rest.bytes().all(is_id_char))
}

/// `sfc:<kind>:` followed by exactly `segments` non-empty `[a-zA-Z0-9._-]+` parts joined by `:`.
fn is_resource_path(s: &str, kind: &str, segments: usize) -> bool {
    let Some(rest) = s.strip_prefix("sfc:").and_then(|r| r.strip_prefix(kind)).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let parts: Vec<&str> = rest.split(':').collect();
    parts.len() == segments && parts.iter().all(|p| !p.is_empty() && p.bytes().all(is_segment_char))
}

/// What a reference field accepts: id prefixes, and a resource-path kind with its segment count.
struct RefRule {
    prefixes: &'static [&'static str],
    path: Option<(&'static str, usize)>,
    rule: &'static str,
}

const WORKSPACE: RefRule = RefRule {
    prefixes: &["wksp_"],
    path: Some(("workspace", 2)),
    rule: "must be a workspace id (wksp_ + 1–21 of [0-9a-zA-Z_-]) or resource path (sfc:workspace:<account>:<name>)",
};
const INSTANCE_ID: RefRule =
    RefRule {
        prefixes: &["inst_", "vm_"], path: None, rule: "must be an instance id (inst_ + 1–21 of [0-9a-zA-Z_-])"
    };
const CAPACITY: RefRule = RefRule {
    prefixes: &["cap_"],
    path: Some(("capacity", 3)),
    rule: "must be a capacity id (cap_ + 1–21 of [0-9a-zA-Z_-]) or resource path (sfc:capacity:<account>:<workspace>:<name>)",
};
const POOL: RefRule = RefRule {
    prefixes: &["pool_"],
    path: Some(("pool", 3)),
    rule: "must be a pool id (pool_ + 1–21 of [0-9a-zA-Z_-]) or resource path (sfc:pool:<account>:<workspace>:<name>)",
};
const INSTANCE_SKU: RefRule = RefRule {
    prefixes: &["isku_", "clus_"],
    path: None,
    rule: "must be an instance SKU id (isku_ + 1–21 of [0-9a-zA-Z_-])",
};
const IMAGE: RefRule = RefRule {
    prefixes: &["image_", "vmi_"],
    path: Some(("image", 3)),
    rule:
        "must be an image id (image_ + 1–21 of [0-9a-zA-Z_-]) or resource path (sfc:image:<account>:<workspace>:<name>)",
};
const FIREWALL: RefRule = RefRule {
    prefixes: &["frwl_"],
    path: Some(("firewall", 3)),
    rule: "must be a firewall id (frwl_ + 1–21 of [0-9a-zA-Z_-]) or resource path (sfc:firewall:<account>:<workspace>:<name>)",
};

fn check_ref(field: &str, value: &str, rule: &RefRule) -> Result<()> {
    let ok = rule.prefixes.iter().any(|p| is_prefixed_id(value, p))
        || rule.path.is_some_and(|(kind, n)| is_resource_path(value, kind, n));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(field, format!("{} (got {value:?})", rule.rule)))
    }
}

/// `^nodec_[A-Za-z0-9_-]+$`.
fn check_cursor(field: &str, value: &str) -> Result<()> {
    let ok = value.strip_prefix("nodec_").is_some_and(|rest| !rest.is_empty() && rest.bytes().all(is_id_char));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(field, "must be a cursor from a previous page (nodec_ + [A-Za-z0-9_-])"))
    }
}

/// Instance name: `[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}`.
fn check_name(field: &str, value: &str) -> Result<()> {
    let b = value.as_bytes();
    let ok = (1..=255).contains(&b.len()) && b[0].is_ascii_alphanumeric() && b.iter().all(|&c| is_segment_char(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            field,
            "must be 1–255 characters of letters, digits, '.', '_' and '-', starting with a letter or digit",
        ))
    }
}

/// Tag key: `^[^_,= ][^,= ]{0,127}$` (1–128 characters).
fn check_tag_key(field: &str, key: &str) -> Result<()> {
    let n = key.chars().count();
    let ok = (1..=128).contains(&n) && !key.starts_with('_') && !key.contains([',', '=', ' ']);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            field,
            format!("tag key {key:?} must be 1–128 characters without ',', '=' or spaces, not starting with '_'"),
        ))
    }
}

/// Tag value: `^[^,=]{0,256}$`.
fn check_tag_value(field: &str, value: &str) -> Result<()> {
    if value.chars().count() <= 256 && !value.contains([',', '=']) {
        Ok(())
    } else {
        Err(Error::invalid_input(
            field,
            format!("tag value {value:?} must be at most 256 characters without ',' or '='"),
        ))
    }
}

/// The number of bytes `s` decodes to, if it is padded standard base64
/// (`(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?`).
fn base64_decoded_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() % 4 != 0 {
        return None;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let body = &b[..b.len() - pad];
    if !body.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/') {
        return None;
    }
    Some(b.len() / 4 * 3 - pad)
}

// ---------------------------------------------------------------------------------------------
// list
// ---------------------------------------------------------------------------------------------

/// Validates every filter of `query` and builds `GET /instances?…` with the filters in a fixed
/// order (`workspace, id, capacity, pool, status, created_after, created_before, instance_sku,
/// limit, starting_after, ending_before, include, tag, tag_key`), repeatable ones as repeated
/// keys (`status=running&status=failed`) and the `=` of a tag percent-encoded (`tag=env%3Dprod`).
///
/// # Errors
/// `invalidInput` naming the field (`limit`, `status[1]`, `tag[0]`, …) when a value breaks a
/// documented rule, or when no workspace is given here nor configured (`sfcompute.workspace`).
pub fn build_list_request(query: &SfcListQuery, config: &ProviderConfig) -> Result<HttpRequest> {
    let mut pairs: Vec<(&str, String)> = Vec::new();

    let workspace = match (&query.workspace, config.workspace.as_deref().map(str::trim)) {
        (Some(w), _) => {
            check_ref("workspace", w, &WORKSPACE)?;
            w.clone()
        }
        (None, Some(w)) if !w.is_empty() => {
            check_ref("workspace", w, &WORKSPACE).map_err(|e| {
                let message = format!("{} (from the sfcompute.workspace setting)", e.message);
                e.with_message(message)
            })?;
            w.to_owned()
        }
        (None, _) => {
            return Err(Error::invalid_input(
                "workspace",
                "is required by SF Compute's list endpoint: pass workspace or set sfcompute.workspace \
                 (a wksp_… id or sfc:workspace:<account>:<name>)",
            ))
        }
    };
    pairs.push(("workspace", workspace));

    push_refs(&mut pairs, "id", "id", &query.id, &INSTANCE_ID)?;
    push_refs(&mut pairs, "capacity", "capacity", &query.capacity, &CAPACITY)?;
    push_refs(&mut pairs, "pool", "pool", &query.pool, &POOL)?;
    for (i, status) in query.status.iter().enumerate() {
        // The spec warns the list of statuses may grow, but as a filter only the documented
        // values are known to be accepted.
        check_enum(&format!("status[{i}]"), status, STATUSES)?;
        pairs.push(("status", status.clone()));
    }
    if let (Some(after), Some(before)) = (query.created_after, query.created_before) {
        if after > before {
            return Err(Error::invalid_input(
                "createdAfter",
                format!("must not be later than createdBefore ({after} > {before})"),
            ));
        }
    }
    if let Some(after) = query.created_after {
        pairs.push(("created_after", after.to_string()));
    }
    if let Some(before) = query.created_before {
        pairs.push(("created_before", before.to_string()));
    }
    push_refs(&mut pairs, "instance_sku", "instanceSku", &query.instance_sku, &INSTANCE_SKU)?;
    if let Some(limit) = query.limit {
        check_range("limit", i64::from(limit), 1, i64::from(MAX_LIMIT))?;
        pairs.push(("limit", limit.to_string()));
    }
    if query.cursor.is_some() && query.ending_before.is_some() {
        return Err(Error::invalid_input("endingBefore", "cannot be combined with cursor (starting_after)"));
    }
    if let Some(cursor) = &query.cursor {
        check_cursor("cursor", cursor)?;
        pairs.push(("starting_after", cursor.clone()));
    }
    if let Some(before) = &query.ending_before {
        check_cursor("endingBefore", before)?;
        pairs.push(("ending_before", before.clone()));
    }
    for (i, include) in query.include.iter().enumerate() {
        check_enum(&format!("include[{i}]"), include, INCLUDES)?;
        pairs.push(("include", include.clone()));
    }
    for (i, tag) in query.tag.iter().enumerate() {
        let field = format!("tag[{i}]");
        let Some((key, value)) = tag.split_once('=') else {
            return Err(Error::invalid_input(field, format!("must be key=value (got {tag:?})")));
        };
        check_tag_key(&field, key)?;
        check_tag_value(&field, value)?;
        pairs.push(("tag", tag.clone()));
    }
    for (i, key) in query.tag_key.iter().enumerate() {
        check_tag_key(&format!("tagKey[{i}]"), key)?;
        pairs.push(("tag_key", key.clone()));
    }

    let url = config.url(&format!("/instances{}", query_string(&pairs)));
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

/// Checks each of `values` against `rule` (errors name `field[i]`) and appends them as repeated
/// `key` pairs.
fn push_refs<'a>(
    pairs: &mut Vec<(&'a str, String)>,
    key: &'a str,
    field: &str,
    values: &[String],
    rule: &RefRule,
) -> Result<()> {
    for (i, value) in values.iter().enumerate() {
        check_ref(&format!("{field}[{i}]"), value, rule)?;
        pairs.push((key, value.clone()));
    }
    Ok(())
}

#[derive(Deserialize)]
struct ListEnvelope {
    has_more: bool,
    /// Only checked to be an array here (same errors as reading it); the records themselves are
    /// then moved out of the parsed body: reading a `Vec<Value>` from a `&Value` would copy every
    /// record, string by string (the largest cost of decoding a list; BENCHMARKS.md "Decode speed").
    data: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    cursor: Option<String>,
}

/// Parses `{object:"list", has_more, data, cursor}`. `nextCursor` is the response's `cursor`
/// when `has_more` is true (sent back as `starting_after`); the last page has none.
///
/// # Errors
/// The provider's error for a non-2xx answer; `decode` with the JSON path (e.g.
/// `data[3].created_at`) for a body that does not read as documented.
pub fn parse_list_response(response: HttpResponse) -> Result<Page<Instance>> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let body = parse_json(P, &response.body)?;
    let envelope: ListEnvelope = decode_value(P, &body, "")?;
    // The read above succeeded, so `data` is there and an array: a member of the object, or the
    // second element of the array serde also accepts for a struct (`[has_more, data, cursor]`).
    let data = match body {
        Value::Object(mut members) => members.remove("data"),
        Value::Array(fields) => fields.into_iter().nth(1),
        _ => None,
    };
    let Some(Value::Array(data)) = data else {
        return Err(Error::decode(P, "data", "expected an array"));
    };
    debug_assert_eq!(data.len(), envelope.data.len());
    let items = data
        .into_iter()
        .enumerate()
        .map(|(i, v)| normalize(v, &format!("data[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if envelope.has_more { envelope.cursor.filter(|c| !c.is_empty()) } else { None };
    Ok(Page { items, next_cursor, has_more: envelope.has_more, total: None })
}

// ---------------------------------------------------------------------------------------------
// The instance record
// ---------------------------------------------------------------------------------------------

/// `instance_sku`: `{id,name}` (May/seed) or `{object,id,alias}` (July); `region` when present.
#[derive(Deserialize)]
struct WireSku<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    alias: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    region: Option<Cow<'a, str>>,
}

/// The fields of an instance gpufleet reads, in every documented shape; the whole record is kept
/// in `raw` (`priority`, `image`, `workspace_id`, `firewall`, … included).
#[derive(Deserialize)]
struct WireInstance<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    /// Absent in seed 003's example.
    #[serde(default, borrow)]
    status: Option<Cow<'a, str>>,
    /// Unix seconds.
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default, borrow)]
    instance_sku: Option<WireSku<'a>>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    // `capacity`/`pool`, `public_ip`, `enable_public_ipv4`, `priority_level` and `managed_by` are
    // read leniently from the record (see `july_fields`): a wrong type there is left out, never a
    // failed listing.
}

fn non_empty(s: Option<Cow<'_, str>>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(Cow::into_owned)
}

/// `{id, name}` at `key` (a bare id string is taken as the id); `None` without a non-empty id.
fn pool_ref(record: &Value, key: &str) -> Option<PoolRef> {
    match record.get(key)? {
        Value::String(id) if !id.is_empty() => Some(PoolRef { id: id.clone(), name: None }),
        r @ Value::Object(_) => Some(PoolRef {
            id: str_field(r, "id")?.to_owned(),
            name: str_field(r, "name").map(str::to_owned),
        }),
        _ => None,
    }
}

/// July `managed_by {object, id, name}`, else the seed-era `deployment {id, name}`. Without an
/// `object`, the kind follows the id prefix (`depl_` deployment, `spot_` spot_deployment), else
/// it is `unknown`.
fn managed_by(record: &Value) -> Option<ManagedBy> {
    let read = |m: &Value, kind: Option<&str>| {
        let id = str_field(m, "id")?;
        let kind = kind.or_else(|| str_field(m, "object")).unwrap_or(if id.starts_with("depl_") {
            "deployment"
        } else if id.starts_with("spot_") {
            "spot_deployment"
        } else {
            "unknown"
        });
        Some(ManagedBy { kind: kind.to_owned(), id: id.to_owned(), name: str_field(m, "name").map(str::to_owned) })
    };
    record
        .get("managed_by")
        .and_then(|m| read(m, None))
        .or_else(|| record.get("deployment").and_then(|d| read(d, Some("deployment"))))
}

/// The July 2026 fields, each read leniently (a wrong type is left out; `raw` keeps it).
struct JulyFields {
    pool: Option<PoolRef>,
    /// The pool's (else the capacity's) name, for `instanceType` when there is no SKU.
    hardware_name: Option<String>,
    priority_level: Option<PriorityLevel>,
    managed_by: Option<ManagedBy>,
    public_ipv4: Option<bool>,
    public_ip: Option<String>,
}

fn july_fields(record: &Value) -> JulyFields {
    let name_of = |key: &str| record.get(key).and_then(|r| str_field(r, "name"));
    JulyFields {
        pool: pool_ref(record, "pool").or_else(|| pool_ref(record, "capacity")),
        hardware_name: name_of("pool").or_else(|| name_of("capacity")).map(str::to_owned),
        priority_level: str_field(record, "priority_level").map(PriorityLevel::parse),
        managed_by: managed_by(record),
        public_ipv4: record.get("enable_public_ipv4").and_then(Value::as_bool),
        public_ip: str_field(record, "public_ip").map(str::to_owned),
    }
}

/// Normalizes one instance record (May, seed or July shape). `path` prefixes decode errors.
fn normalize(value: Value, path: &str) -> Result<Instance> {
    let wire: WireInstance = decode_value(P, &value, path)?;
    let provider_status = wire.status.map(Cow::into_owned).unwrap_or_default();
    let (sku_name, region) = match wire.instance_sku {
        Some(sku) => (non_empty(sku.alias).or(non_empty(sku.name)), non_empty(sku.region)),
        None => (None, None),
    };
    let july = july_fields(&value);
    let instance = Instance {
        provider: P,
        id: wire.id.into_owned(),
        name: non_empty(wire.name),
        status: map_status(&provider_status),
        provider_status,
        status_reason: None,
        instance_type: sku_name.or(july.hardware_name),
        gpu_count: None,
        gpu_model: None,
        region,
        sector: None,
        ip: july.public_ip,
        // The SSH host comes from `GET /instances/{id}/ssh`, not from the record.
        ssh: None,
        created_at: wire.created_at.map(unix_seconds_to_iso),
        tags: wire.tags,
        pool: july.pool,
        priority_level: july.priority_level,
        managed_by: july.managed_by,
        public_ipv4: july.public_ipv4,
        billing_mode: None,
        spot: None,
        raw: Default::default(),
    };
    Ok(Instance { raw: value.into(), ..instance })
}

fn parse_instance(response: HttpResponse) -> Result<Instance> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    normalize(parse_json(P, &response.body)?, "")
}

// ---------------------------------------------------------------------------------------------
// get / create / terminate / delete / ssh
// ---------------------------------------------------------------------------------------------

/// Builds `GET /instances/{id}`; `id` is an `inst_…` id or a resource path
/// `sfc:instance:<account>:<workspace>:<name>` (percent-encoded into the path).
pub fn build_get_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/instances", id, "")?;
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

/// Parses one instance.
pub fn parse_get_response(response: HttpResponse) -> Result<Instance> {
    parse_instance(response)
}

/// The create body, field names and order exactly as on the wire; absent fields are omitted.
#[derive(Serialize)]
struct WireCreate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    image: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_sku: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_init_user_data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority_level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_public_ipv4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    firewall: Option<&'a str>,
    #[serde(rename = "_preview_enable_infiniband", skip_serializing_if = "Option::is_none")]
    preview_enable_infiniband: Option<bool>,
}

/// Checks a create input against every documented rule; returns the firewall reference, if any.
fn validate_create(input: &SfcCreateInput) -> Result<Option<&str>> {
    if let Some(name) = &input.name {
        check_name("name", name)?;
    }
    match (&input.capacity, &input.pool) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_input("pool", "give capacity or pool, not both"));
        }
        (None, None) => {
            return Err(Error::invalid_input(
                "capacity",
                "is required: give capacity (cap_… or sfc:capacity:…) or pool (pool_… or sfc:pool:…)",
            ));
        }
        (Some(capacity), None) => check_ref("capacity", capacity, &CAPACITY)?,
        (None, Some(pool)) => check_ref("pool", pool, &POOL)?,
    }
    if input.image.trim().is_empty() {
        return Err(Error::invalid_input("image", "is required (an image_… id or sfc:image:… resource path)"));
    }
    check_ref("image", &input.image, &IMAGE)?;
    if let Some(sku) = &input.instance_sku {
        check_ref("instanceSku", sku, &INSTANCE_SKU)?;
    }
    if let Some(data) = &input.cloud_init_user_data {
        match base64_decoded_len(data) {
            None => {
                return Err(Error::invalid_input(
                    "cloudInitUserData",
                    "must be standard base64 (A–Z a–z 0–9 + /, padded with '=' to a multiple of 4 characters)",
                ))
            }
            Some(n) if n > MAX_CLOUD_INIT_BYTES => {
                return Err(Error::invalid_input(
                    "cloudInitUserData",
                    format!("must decode to at most {MAX_CLOUD_INIT_BYTES} bytes (64 KiB; got {n})"),
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(tags) = &input.tags {
        if tags.len() > MAX_TAGS {
            return Err(Error::invalid_input(
                "tags",
                format!("at most {MAX_TAGS} tags are allowed (got {})", tags.len()),
            ));
        }
        for (key, value) in tags {
            let field = format!("tags.{key}");
            check_tag_key(&field, key)?;
            check_tag_value(&field, value)?;
        }
    }
    if input.priority.is_some() && input.priority_level.is_some() {
        return Err(Error::invalid_input(
            "priorityLevel",
            "give priority (seed-era API) or priorityLevel (newer API versions), not both",
        ));
    }
    if let Some(level) = &input.priority_level {
        check_enum("priorityLevel", level, PRIORITY_LEVELS)?;
    }
    let firewall = match &input.firewall {
        None => None,
        Some(f) => {
            check_ref("firewall", f, &FIREWALL)?;
            Some(f.as_str())
        }
    };
    match (input.enable_public_ipv4 == Some(true), firewall.is_some()) {
        (true, false) => Err(Error::invalid_input("firewall", "is required when enablePublicIpv4 is true")),
        (false, true) => Err(Error::invalid_input("firewall", "is only allowed when enablePublicIpv4 is true")),
        _ => Ok(firewall),
    }
}

/// Validates `input` and builds `POST /instances` with its JSON body.
///
/// No idempotency key is sent (none is documented for create), so the client never retries a
/// create after an ambiguous failure.
///
/// # Errors
/// `invalidInput` naming the field when a value breaks a documented rule (name pattern, exactly
/// one of capacity/pool, base64 and 64 KiB cloud-init, tag rules, priority enum, firewall iff
/// public IPv4, …).
pub fn build_create_request(input: &SfcCreateInput, config: &ProviderConfig) -> Result<HttpRequest> {
    let firewall = validate_create(input)?;
    let body = WireCreate {
        name: input.name.as_deref(),
        capacity: input.capacity.as_deref(),
        pool: input.pool.as_deref(),
        image: &input.image,
        instance_sku: input.instance_sku.as_deref(),
        cloud_init_user_data: input.cloud_init_user_data.as_deref(),
        tags: input.tags.as_ref(),
        priority: input.priority,
        priority_level: input.priority_level.as_deref(),
        enable_public_ipv4: input.enable_public_ipv4,
        firewall,
        preview_enable_infiniband: input.preview_enable_infiniband,
    };
    Ok(HttpRequest::new(Method::Post, config.url("/instances"))
        .header("Authorization", auth_header(config))
        .header("Content-Type", "application/json")
        .json_body(serde_json::to_vec(&body).unwrap_or_default()))
}

/// Parses the created instance (201).
pub fn parse_create_response(response: HttpResponse) -> Result<Instance> {
    parse_instance(response)
}

/// Builds `POST /instances/{id}/terminate` (no body). Termination is final: SF Compute has no
/// stop/start.
pub fn build_terminate_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/instances", id, "/terminate")?;
    Ok(HttpRequest::new(Method::Post, url).header("Authorization", auth_header(config)))
}

/// Parses the terminated instance (200). A 404 means "not found or already terminated".
pub fn parse_terminate_response(response: HttpResponse) -> Result<Instance> {
    parse_instance(response)
}

/// Builds `DELETE /instances/{id}`.
pub fn build_delete_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/instances", id, "")?;
    Ok(HttpRequest::new(Method::Delete, url).header("Authorization", auth_header(config)))
}

/// 204 → deleted; 404 → already gone (success); 409 → `conflict` saying to terminate first
/// (SF Compute deletes only terminated instances); anything else → the error.
pub fn parse_delete_response(response: HttpResponse) -> Result<DeleteOutcome> {
    match response.status {
        200..=299 => Ok(DeleteOutcome { already_gone: false }),
        404 => Ok(DeleteOutcome { already_gone: true }),
        _ => {
            let e = parse_error(&response);
            if e.code == ErrorCode::Conflict {
                let message = format!("{} — {TERMINATE_FIRST_HINT}", e.message);
                Err(e.with_message(message))
            } else {
                Err(e)
            }
        }
    }
}

/// Builds `GET /instances/{id}/ssh`.
pub fn build_ssh_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/instances", id, "/ssh")?;
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

#[derive(Deserialize)]
struct WireSsh<'a> {
    #[serde(borrow)]
    hostname: Cow<'a, str>,
    port: u16,
    #[serde(default)]
    host_keys: Vec<WireHostKey>,
    /// Unix seconds in every snapshot; a string is kept as-is, `null` means never.
    #[serde(default)]
    last_successful_key_update_at: Option<WireTime>,
}

#[derive(Deserialize)]
struct WireHostKey {
    key_type: String,
    key: String,
}

/// A timestamp that is documented as Unix seconds but tolerated as a preformatted string.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireTime {
    Seconds(i64),
    Text(String),
}

/// Parses `{hostname, port, host_keys:[{key_type,key}], last_successful_key_update_at?, …}`.
/// A 404 means "SSH details not available" (yet).
pub fn parse_ssh_response(response: HttpResponse) -> Result<SshDetails> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let raw = parse_json(P, &response.body)?;
    let wire: WireSsh = decode_value(P, &raw, "")?;
    let last_successful_key_update_at = match wire.last_successful_key_update_at {
        Some(WireTime::Seconds(s)) => Some(unix_seconds_to_iso(s)),
        Some(WireTime::Text(s)) => Some(s),
        None => None,
    };
    let details = SshDetails {
        host: wire.hostname.into_owned(),
        port: wire.port,
        host_keys: wire.host_keys.into_iter().map(|k| HostKey { key_type: k.key_type, key: k.key }).collect(),
        last_successful_key_update_at,
        raw: Default::default(),
    };
    Ok(SshDetails { raw, ..details })
}

// ---------------------------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct WireErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
    /// Read leniently: a malformed detail is skipped, never a reason to lose the message.
    #[serde(default)]
    details: Option<Value>,
}

fn detail_from_value(v: &Value) -> Option<ErrorDetail> {
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let code = text("code");
    let message = text("message").or_else(|| code.clone())?;
    Some(ErrorDetail { field: text("field"), code, message })
}

/// Reads SF Compute's error body `{error:{type,message,details:[{field,code,message}]}}`
/// (falling back to any readable shape, then the raw text) into an [`Error`] whose code follows
/// the HTTP status (400/422 validation, 401, 403, 404, 409 conflict, 429, 5xx server).
pub fn parse_error(response: &HttpResponse) -> Error {
    let parts = match crate::json_path::read_slice::<WireErrorEnvelope>(&response.body) {
        Some(WireErrorEnvelope { error }) if error.message.is_some() || error.kind.is_some() => ErrorParts {
            provider_type: error.kind,
            message: error.message,
            request_id: None,
            docs_url: None,
            details: match &error.details {
                Some(Value::Array(items)) => items.iter().filter_map(detail_from_value).collect(),
                _ => Vec::new(),
            },
        },
        _ => loose_error_parts(&response.body),
    };
    http_error(P, response, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_ids() {
        assert!(is_prefixed_id("inst_a", "inst_"));
        assert!(is_prefixed_id(&format!("inst_{}", "x".repeat(21)), "inst_"));
        assert!(!is_prefixed_id(&format!("inst_{}", "x".repeat(22)), "inst_"));
        assert!(!is_prefixed_id("inst_", "inst_"));
        assert!(!is_prefixed_id("inst_a.b", "inst_"));
        assert!(!is_prefixed_id("xinst_a", "inst_"));
    }

    #[test]
    fn resource_paths() {
        assert!(is_resource_path("sfc:workspace:acme:prod", "workspace", 2));
        assert!(!is_resource_path("sfc:workspace:acme", "workspace", 2));
        assert!(!is_resource_path("sfc:workspace:acme:prod:x", "workspace", 2));
        assert!(!is_resource_path("sfc:workspace:acme::", "workspace", 2));
        assert!(!is_resource_path("sfc:workspaces:acme:prod", "workspace", 2));
        assert!(is_resource_path("sfc:capacity:acme:prod:h100.x_y-z", "capacity", 3));
        assert!(!is_resource_path("sfc:capacity:acme:prod:a b", "capacity", 3));
    }

    #[test]
    fn base64_lengths() {
        assert_eq!(base64_decoded_len(""), Some(0));
        assert_eq!(base64_decoded_len("aGk="), Some(2));
        assert_eq!(base64_decoded_len("aGVsbG8="), Some(5));
        assert_eq!(base64_decoded_len("aGVsbG8h"), Some(6));
        assert_eq!(base64_decoded_len("aA=="), Some(1));
        assert_eq!(base64_decoded_len("aGk"), None);
        assert_eq!(base64_decoded_len("a==="), None);
        assert_eq!(base64_decoded_len("a=b="), None);
        assert_eq!(base64_decoded_len("aG-_"), None, "url-safe alphabet is not standard base64");
        assert_eq!(base64_decoded_len("aGk=\n"), None);
    }

    /// A list body of `n` records cycled from `list_july_fields.json` (ids made unique).
    fn big_list_body(n: usize) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/sfcompute/list_july_fields.json", env!("CARGO_MANIFEST_DIR"));
        let mut whole: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let records = whole["data"].as_array().unwrap().clone();
        let data = (0..n)
            .map(|i| {
                let mut r = records[i % records.len()].clone();
                r["id"] = Value::String(format!("inst_{i:017}"));
                r
            })
            .collect();
        whole["data"] = Value::Array(data);
        whole["has_more"] = Value::Bool(true);
        whole["cursor"] = Value::String("nodec_next".into());
        serde_json::to_vec(&whole).unwrap()
    }

    /// The best and median of `rounds` timings of `f`, in milliseconds.
    fn time_ms(rounds: usize, mut f: impl FnMut()) -> (f64, f64) {
        let mut ms: Vec<f64> = (0..rounds)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        (ms[0], ms[rounds / 2])
    }

    /// Decode time of a 10,000-instance list body (`cargo test --release --lib -- --ignored
    /// --nocapture decode_speed`).
    #[test]
    #[ignore]
    fn decode_speed_10k() {
        let body = big_list_body(10_000);
        let query = crate::model::ListQuery::Sfcompute(Default::default());
        let page = crate::provider::decode_list_body(&query, body.clone()).unwrap();
        assert_eq!(page.items.len(), 10_000);
        let (best, median) = time_ms(15, || {
            std::hint::black_box(crate::provider::decode_list_body(&query, body.clone()).unwrap());
        });
        eprintln!("{} KiB body, 10,000 records: decode_list_body best {best:.1} ms, median {median:.1} ms", body.len() / 1024);
    }
}
