//! SF Compute preview v2 — `https://api.sfcompute.com/preview/v2`, `Authorization: Bearer <token>`.
//!
//! Six operations (seed 003, PROVIDERS.md §2, the July 2026 spec extract): list (Stripe-style
//! `starting_after` ← `cursor`, repeatable filters as repeated query keys), get, create (201),
//! terminate (`POST …/{id}/terminate`, 200, final), delete (204; 409 until terminated) and SSH
//! details (`GET …/{id}/ssh`); and a tags update (`PATCH …/{id}`, the whole map), with which
//! the proxy mirrors a deadline into a tag. The error body is
//! `{"error":{"type","message","details"?}}`.
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
use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::shared::{
    check_enum, check_range, decode_value, fast_record, http_error, id_url, is_object_text, loose_error_parts, parse_json,
    skips_as_strictly, unix_seconds_to_iso, ErrorParts,
};
use super::{Provider, ProviderConfig};
use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::http::{query_string, HttpRequest, HttpResponse, Method};
use crate::model::{
    Capabilities, DeleteOutcome, FieldKind, FieldSpec, HostKey, Instance, ManagedBy, Operation, Page, Pagination, PoolRef,
    PriorityLevel, SfcCreateInput, SfcListQuery, SshDetails, Status,
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
            ..field("name", "Name", FieldKind::String, false, "letters, digits, '.', '_', '-'; starts with a letter or digit")
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
        field("enablePublicIpv4", "Public IPv4", FieldKind::Boolean, false, "the SKU must offer public IPv4; needs a firewall"),
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

/// The lifecycle actions an SF Compute instance's state allows (before its capabilities narrow
/// them): terminate while it lives, delete only once it has ended (SF Compute answers 409 to
/// deleting a live instance). A failed instance offers both: whether it still counts as live
/// is the provider's call, and a 409 says to terminate first.
pub fn actions_allowed(status: Status) -> Vec<Operation> {
    match status {
        Status::Pending | Status::Provisioning | Status::Running | Status::Stopping | Status::Stopped => {
            vec![Operation::Terminate]
        }
        Status::Terminating => Vec::new(),
        Status::Terminated => vec![Operation::Delete],
        Status::Failed | Status::Unknown => vec![Operation::Terminate, Operation::Delete],
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
    RefRule { prefixes: &["inst_", "vm_"], path: None, rule: "must be an instance id (inst_ + 1–21 of [0-9a-zA-Z_-])" };
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
const INSTANCE_SKU: RefRule =
    RefRule { prefixes: &["isku_", "clus_"], path: None, rule: "must be an instance SKU id (isku_ + 1–21 of [0-9a-zA-Z_-])" };
const IMAGE: RefRule = RefRule {
    prefixes: &["image_", "vmi_"],
    path: Some(("image", 3)),
    rule: "must be an image id (image_ + 1–21 of [0-9a-zA-Z_-]) or resource path (sfc:image:<account>:<workspace>:<name>)",
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
/// A whole tag map against the documented rules: at most [`MAX_TAGS`] entries, each key and value
/// as [`check_tag_key`] and [`check_tag_value`] say (the field named `tags.<key>`).
fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid_input("tags", format!("at most {MAX_TAGS} tags are allowed (got {})", tags.len())));
    }
    for (key, value) in tags {
        let field = format!("tags.{key}");
        check_tag_key(&field, key)?;
        check_tag_value(&field, value)?;
    }
    Ok(())
}

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
        Err(Error::invalid_input(field, format!("tag value {value:?} must be at most 256 characters without ',' or '='")))
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
fn push_refs<'a>(pairs: &mut Vec<(&'a str, String)>, key: &'a str, field: &str, values: &[String], rule: &RefRule) -> Result<()> {
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
/// The body is read the fast way first (`fast_list`: typed, borrowed records, no JSON tree)
/// and only when that gives up the slow way (`slow_list`), which names the failure.
///
/// # Errors
/// The provider's error for a non-2xx answer; `decode` with the JSON path (e.g.
/// `data[3].created_at`) for a body that does not read as documented.
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
    let body = parse_json(P, body)?;
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
    let items = data.into_iter().enumerate().map(|(i, v)| normalize(v, &format!("data[{i}]"))).collect::<Result<Vec<_>>>()?;
    let next_cursor = if envelope.has_more { envelope.cursor.filter(|c| !c.is_empty()) } else { None };
    Ok(Page { items, next_cursor, has_more: envelope.has_more, total: None })
}

/// The list envelope read without a JSON tree: each record is its span of the body.
#[derive(Deserialize)]
struct FastList<'a> {
    has_more: bool,
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    cursor: Option<Cow<'a, str>>,
}

/// [`parse_list_response`]'s page read the fast way, or `None` (then the slow way decides).
pub(crate) fn fast_list(body: &Arc<[u8]>) -> Option<Page<Instance>> {
    if !is_object_text(body) || !skips_as_strictly(body) {
        return None;
    }
    let list: FastList = serde_json::from_slice(body).ok()?;
    let items = list.data.iter().map(|record| fast_instance(body, record)).collect::<Option<Vec<_>>>()?;
    let next_cursor = if list.has_more { non_empty(list.cursor) } else { None };
    Some(Page { items, next_cursor, has_more: list.has_more, total: None })
}

/// One record of `body` the fast way (see `provider::fast_record`).
fn fast_instance(body: &Arc<[u8]>, record: &RawValue) -> Option<Instance> {
    fast_record(body, record, |wire: WireInstance| Some(from_wire(wire)))
}

/// A get, create or terminate answer (one record, the whole body) the fast way, or `None`.
pub(crate) fn fast_one(body: &Arc<[u8]>) -> Option<Instance> {
    if !is_object_text(body) || !skips_as_strictly(body) {
        return None;
    }
    let record: &RawValue = serde_json::from_slice(body).ok()?;
    fast_instance(body, record)
}

// ---------------------------------------------------------------------------------------------
// The instance record
// ---------------------------------------------------------------------------------------------

/// `instance_sku`: `{id,name}` (May/seed) or `{object,id,alias}` (July); `region` when present.
#[derive(Deserialize)]
struct WireSku<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    alias: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    accelerator: Option<Cow<'a, str>>,
}

/// GPUs per node and their model, read off a SKU: its `accelerator` when given, else its name
/// (`h100-8x-sxm5-ib` → 8 × H100): the count is a `<n>x` (or `x<n>`) part, the model the first
/// part that is letters then digits and not a form factor (`sxm5`, `pcie4`). A name without them
/// gives nothing: a guess is never shown as a count.
pub fn gpus_from_sku(name: &str, accelerator: Option<&str>) -> (Option<u32>, Option<String>) {
    let parts = || name.split(['-', '_', ' ', '.']).filter(|p| !p.is_empty());
    let count = parts().find_map(|p| {
        let lower = p.to_ascii_lowercase();
        let digits = lower.strip_suffix('x').or_else(|| lower.strip_prefix('x'))?;
        digits.parse::<u32>().ok().filter(|n| (1..=64).contains(n) && !digits.starts_with('0'))
    });
    let model = accelerator
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_uppercase)
        .or_else(|| parts().find(|p| gpu_model_part(&p.to_ascii_lowercase())).map(str::to_uppercase));
    (count, model)
}

/// `h100`, `b200`, `l40s`, `mi300x`, `gb200`: one to three letters, two or more digits, at most
/// one letter after them; not a form factor or interconnect.
fn gpu_model_part(part: &str) -> bool {
    if ["sxm", "pcie", "nvl", "ib"].iter().any(|f| part.starts_with(f)) {
        return false;
    }
    let letters = part.bytes().take_while(u8::is_ascii_lowercase).count();
    let digits = part.bytes().skip(letters).take_while(u8::is_ascii_digit).count();
    let rest = &part[letters + digits..];
    (1..=3).contains(&letters) && digits >= 2 && (rest.is_empty() || rest.len() == 1 && rest.as_bytes()[0].is_ascii_lowercase())
}

/// Every field of an instance the normalizer reads, in every documented shape; the whole record
/// is kept in `raw` (`priority`, `image`, `workspace_id`, `firewall`, … included).
///
/// The first six are strict (a wrong type is a decode error naming the field), and first: see
/// [`normalize`] for a record sent as an array. The July 2026 fields after them are [`Loose`]: a wrong type there is left out (`raw` keeps it), never a
/// failed listing.
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
    /// `{id, name}`, or a bare id.
    #[serde(default, borrow)]
    pool: Loose<'a>,
    /// The deprecated `pool`, same shapes.
    #[serde(default, borrow)]
    capacity: Loose<'a>,
    /// July `{object, id, name}`.
    #[serde(default, borrow)]
    managed_by: Loose<'a>,
    /// Seed-era `{id, name}`.
    #[serde(default, borrow)]
    deployment: Loose<'a>,
    #[serde(default, borrow)]
    priority_level: Loose<'a>,
    #[serde(default, borrow)]
    enable_public_ipv4: Loose<'a>,
    #[serde(default, borrow)]
    public_ip: Loose<'a>,
}

/// A field read leniently: whatever JSON it holds is accepted, and only what the normalizer can
/// use is kept — a string, a boolean, or an object's `id`, `name` and `object` when they are
/// strings. Anything else (a number, `null`, an array, a string member that is not one) is
/// [`Loose::Other`], as a `Value` read with `as_str`/`as_bool` would give nothing. A repeated
/// member of an object counts once, the last one, as in a `Value`.
#[derive(Default)]
enum Loose<'a> {
    #[default]
    Other,
    Str(Cow<'a, str>),
    Bool(bool),
    Object(LooseObject<'a>),
}

/// The members of a [`Loose`] object the normalizer reads, each kept only when it is a string.
#[derive(Default)]
struct LooseObject<'a> {
    id: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    object: Option<Cow<'a, str>>,
}

impl<'a> Loose<'a> {
    /// The string, if it is a non-empty one.
    fn text(&self) -> Option<&str> {
        match self {
            Loose::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Loose::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An object's members (`None` when it is not an object).
    fn object(&self) -> Option<&LooseObject<'a>> {
        match self {
            Loose::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// A member, if it is a non-empty string (`str_field` on a `Value`).
fn member<'s>(m: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    m.as_deref().filter(|s| !s.is_empty())
}

/// The keys a [`Loose`] object keeps.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum LooseKey {
    Id,
    Name,
    Object,
    #[serde(other)]
    Other,
}

/// Reads a [`Loose`]; `members` says whether an object's members are read (the top level) or the
/// object is skipped (a member's own value: only a string counts there).
#[derive(Clone, Copy)]
struct LooseVisitor {
    members: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Loose<'a>, D::Error> {
        deserializer.deserialize_any(LooseVisitor { members: true })
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> std::result::Result<Loose<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Bool(b))
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Str(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }

    fn visit_none<E>(self) -> std::result::Result<Loose<'de>, E> {
        Ok(Loose::Other)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Loose<'de>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Loose<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Loose<'de>, A::Error> {
        if !self.members {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Loose::Other);
        }
        let mut object = LooseObject::default();
        while let Some(key) = map.next_key::<LooseKey>()? {
            let slot = match key {
                LooseKey::Id => &mut object.id,
                LooseKey::Name => &mut object.name,
                LooseKey::Object => &mut object.object,
                LooseKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = match map.next_value_seed(LooseVisitor { members: false })? {
                Loose::Str(s) => Some(s),
                _ => None,
            };
        }
        Ok(Loose::Object(object))
    }
}

fn non_empty(s: Option<Cow<'_, str>>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(Cow::into_owned)
}

/// An object's non-empty string `name`.
fn name_of<'s>(r: &'s Loose<'_>) -> Option<&'s str> {
    r.object().and_then(|o| member(&o.name))
}

/// `{id, name}` (a bare id string is taken as the id); `None` without a non-empty id.
fn pool_ref(r: &Loose<'_>) -> Option<PoolRef> {
    match r {
        Loose::Str(id) if !id.is_empty() => Some(PoolRef { id: id.clone().into_owned(), name: None }),
        Loose::Object(o) => Some(PoolRef { id: member(&o.id)?.to_owned(), name: member(&o.name).map(str::to_owned) }),
        _ => None,
    }
}

/// A manager `{object, id, name}`; without `object` (and without a `kind` given), the kind
/// follows the id prefix (`depl_` deployment, `spot_` spot_deployment), else it is `unknown`.
/// `None` unless it is an object with a non-empty string id.
fn manager(m: &Loose<'_>, kind: Option<&str>) -> Option<ManagedBy> {
    let m = m.object()?;
    let id = member(&m.id)?;
    let kind = kind.or_else(|| member(&m.object)).unwrap_or(if id.starts_with("depl_") {
        "deployment"
    } else if id.starts_with("spot_") {
        "spot_deployment"
    } else {
        "unknown"
    });
    Some(ManagedBy { kind: kind.to_owned(), id: id.to_owned(), name: member(&m.name).map(str::to_owned) })
}

/// Normalizes one instance record (May, seed or July shape) the slow way: read from its `Value`
/// by the path-tracking reader (`path` prefixes decode errors), then [`from_wire`].
fn normalize(value: Value, path: &str) -> Result<Instance> {
    // serde also reads a struct from an array, by position. A record sent as one has only ever
    // filled the six strict fields, which come first: the same errors for them, and the same
    // refusals of an array too short or too long for six as before the July fields came after.
    let array_len = value.as_array().map(Vec::len);
    if array_len == Some(0) {
        return Err(Error::decode(P, path, "invalid length 0, expected struct WireInstance with 6 elements"));
    }
    let wire: WireInstance = decode_value(P, &value, path)?;
    if let Some(n @ 7..) = array_len {
        return Err(Error::decode(P, path, format!("invalid length {n}, expected fewer elements in array")));
    }
    let instance = from_wire(wire);
    Ok(Instance { raw: value.into(), ..instance })
}

/// The instance a wire record describes (`raw` left empty): the one normalizer of both decode
/// paths.
fn from_wire(wire: WireInstance<'_>) -> Instance {
    let provider_status = wire.status.map(Cow::into_owned).unwrap_or_default();
    let (sku_id, sku_name, region, accelerator) = match wire.instance_sku {
        Some(sku) => {
            (non_empty(sku.id), non_empty(sku.alias).or(non_empty(sku.name)), non_empty(sku.region), non_empty(sku.accelerator))
        }
        None => (None, None, None, None),
    };
    let (gpu_count, gpu_model) = match &sku_name {
        Some(name) => gpus_from_sku(name, accelerator.as_deref()),
        None => (None, accelerator.map(|a| a.to_uppercase())),
    };
    // The pool's (else the capacity's) name, for `instanceType` when there is no SKU.
    let hardware_name = name_of(&wire.pool).or_else(|| name_of(&wire.capacity)).map(str::to_owned);
    Instance {
        provider: P,
        id: wire.id.into_owned(),
        name: non_empty(wire.name),
        status: map_status(&provider_status),
        provider_status,
        status_reason: None,
        instance_type: sku_name.or(hardware_name),
        gpu_count,
        gpu_model,
        region,
        sector: None,
        ip: wire.public_ip.text().map(str::to_owned),
        // The SSH host comes from `GET /instances/{id}/ssh`, not from the record.
        ssh: None,
        created_at: wire.created_at.map(unix_seconds_to_iso),
        tags: wire.tags,
        pool: pool_ref(&wire.pool).or_else(|| pool_ref(&wire.capacity)),
        priority_level: wire.priority_level.text().map(PriorityLevel::parse),
        // July `managed_by`, else the seed-era `deployment`.
        managed_by: manager(&wire.managed_by, None).or_else(|| manager(&wire.deployment, Some("deployment"))),
        public_ipv4: wire.enable_public_ipv4.as_bool(),
        offer_id: sku_id,
        ..Instance::new(P, String::new(), Status::Unknown, String::new())
    }
}

fn parse_instance(response: HttpResponse) -> Result<Instance> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let body: Arc<[u8]> = response.body.as_slice().into();
    match fast_one(&body) {
        Some(instance) => Ok(instance),
        None => normalize(parse_json(P, &response.body)?, ""),
    }
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
        check_tags(tags)?;
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

// ---------------------------------------------------------------------------------------------
// tags: PATCH /instances/{id}
// ---------------------------------------------------------------------------------------------

/// The tags an instance should have with `key` set to `value` (or removed: `None`) and its other
/// tags kept, since `PATCH /instances/{id}` replaces the whole map (`tags`: "Full replacement
/// semantics"); `None` when that is what it has already (nothing to send). The key and value
/// are checked against the documented patterns, and the result against the 50-tag limit.
pub fn tags_with(
    current: Option<&BTreeMap<String, String>>,
    key: &str,
    value: Option<&str>,
) -> Result<Option<BTreeMap<String, String>>> {
    check_tag_key("tags", key)?;
    let mut tags = current.cloned().unwrap_or_default();
    match value {
        Some(value) => {
            check_tag_value(&format!("tags.{key}"), value)?;
            if tags.get(key).is_some_and(|v| v == value) {
                return Ok(None);
            }
            tags.insert(key.to_owned(), value.to_owned());
            if tags.len() > MAX_TAGS {
                return Err(Error::invalid_input(
                    "tags",
                    format!("the instance has {MAX_TAGS} tags already, the most SF Compute allows"),
                ));
            }
        }
        None if tags.remove(key).is_none() => return Ok(None),
        None => {}
    }
    Ok(Some(tags))
}

/// The body of a tags update: only `tags`, so the name and priority are left as they are.
#[derive(Serialize)]
struct WireTagsPatch<'a> {
    /// `null` clears every tag (documented); an empty map is not sent.
    tags: Option<&'a BTreeMap<String, String>>,
}

/// Builds `PATCH /instances/{id}` with `{"tags": …}`: the instance's *whole* tag map (see
/// [`tags_with`]), or `null` when it is empty (the documented way to clear them all).
///
/// # Errors
/// `invalidInput` for a key or value that breaks the documented rules, or more than 50 tags.
pub fn build_update_tags_request(id: &str, tags: &BTreeMap<String, String>, config: &ProviderConfig) -> Result<HttpRequest> {
    check_tags(tags)?;
    let url = id_url(config, "/instances", id, "")?;
    let body = WireTagsPatch { tags: (!tags.is_empty()).then_some(tags) };
    Ok(HttpRequest::new(Method::Patch, url)
        .header("Authorization", auth_header(config))
        .header("Content-Type", "application/json")
        .json_body(serde_json::to_vec(&body).unwrap_or_default()))
}

/// Parses the updated instance (200).
pub fn parse_update_tags_response(response: HttpResponse) -> Result<Instance> {
    parse_instance(response)
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
    last_successful_key_update_at: Option<Value>,
}

#[derive(Deserialize)]
struct WireHostKey {
    key_type: String,
    key: String,
}

/// Parses `{hostname, port, host_keys:[{key_type,key}], last_successful_key_update_at?, …}`.
/// A 404 means "SSH details not available" (yet).
pub fn parse_ssh_response(response: HttpResponse) -> Result<SshDetails> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let raw = parse_json(P, &response.body)?;
    let wire: WireSsh = decode_value(P, &raw, "")?;
    // Documented as Unix seconds, tolerated as a preformatted string (read from the `Value`: an
    // untagged enum would bring serde's buffering machinery into the wasm for this one field).
    let last_successful_key_update_at = match wire.last_successful_key_update_at {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(s) => Some(unix_seconds_to_iso(s)),
            None => return Err(Error::decode(P, "last_successful_key_update_at", "must be Unix seconds or a time as text")),
        },
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(_) => return Err(Error::decode(P, "last_successful_key_update_at", "must be Unix seconds or a time as text")),
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

// ---------------------------------------------------------------------------------------------
// Money: order-book quotes (an estimate, not an instance's price), the account balance
// ---------------------------------------------------------------------------------------------

/// SF Compute's balance unit: cents (third-party: its CLI and a public collection).
pub const BALANCE_UNITS_PER_USD: i64 = 100;

/// `GET /orderbook/quote?requirements=instance_sku:<sku>&start_at=&end_at=`: the market for one
/// node of `sku` for the hour starting at the next whole minute after `now_secs`.
pub fn build_quote_request(sku: &str, now_secs: u64, config: &ProviderConfig) -> Result<HttpRequest> {
    super::validate_id(sku)?;
    let start = now_secs.div_ceil(60) * 60;
    let (start, end) = (start.to_string(), (start + 3600).to_string());
    let requirement = format!("instance_sku:{sku}");
    let query = query_string(&[("requirements", requirement.as_str()), ("start_at", start.as_str()), ("end_at", end.as_str())]);
    Ok(HttpRequest::new(Method::Get, config.url(&format!("/orderbook/quote{query}")))
        .header("Authorization", auth_header(config)))
}

/// Reads a quote: the best ask in micro-dollars per node-hour, `None` when nobody sells. SF
/// Compute's docs allow both `best_ask: null` and an omitted `best_ask` ("omitted if no asks are
/// resting"), so both (and a `null` body) mean no ask, never a decode error; an ask that is there
/// must be an object with a valid `dollars_per_node_hour`.
pub fn parse_quote_response(response: HttpResponse) -> Result<Option<i64>> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let value = parse_json(P, &response.body)?;
    let ask = match &value {
        Value::Null => return Ok(None),
        Value::Object(fields) => fields.get("best_ask"),
        _ => return Err(Error::decode(P, "", "expected an object")),
    };
    let ask = match ask {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(ask)) => ask,
        Some(_) => return Err(Error::decode(P, "best_ask", "expected an object or null")),
    };
    let Some(price) = ask.get("dollars_per_node_hour") else {
        return Err(Error::decode(P, "best_ask.dollars_per_node_hour", "missing field `dollars_per_node_hour`"));
    };
    let micro = crate::money::json_to_micro(price).map_err(|rule| Error::decode(P, "best_ask.dollars_per_node_hour", rule))?;
    if !(0..=crate::money::MAX_MICRO_PER_HOUR).contains(&micro) {
        return Err(Error::decode(P, "best_ask.dollars_per_node_hour", "must be between 0 and 1000000"));
    }
    Ok(Some(micro))
}

/// `GET https://api.sfcompute.com/v1/balances`, the balance endpoint SF Compute's spec documents
/// now (the base URL's `/preview/v2` becomes `/v1/balances`). [`crate::Client::balances`] asks
/// it first and falls back to [`build_legacy_balance_request`] when it answers 404.
pub fn build_balance_request(config: &ProviderConfig) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Get, config.sibling_url("/preview/v2", "/v1/balances"))
        .header("Authorization", auth_header(config)))
}

/// `GET https://api.sfcompute.com/v0/balance`, the endpoint the spec documented until 2026-02
/// (older CLIs still read it).
pub fn build_legacy_balance_request(config: &ProviderConfig) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Get, config.sibling_url("/preview/v2", "/v0/balance"))
        .header("Authorization", auth_header(config)))
}

/// Where each figure of a balance may be, first match wins: `/v1/balances` (its schema, then
/// the names its operation's example uses), then `/v0/balance`. All in cents.
const BALANCE_FIELDS: [(&str, &[&str]); 5] = [
    ("current", &["current_balance_cents", "current_cents"]),
    ("overage", &["current_overage_cents"]),
    ("overageLimit", &["overage_limit_cents"]),
    ("hold", &["current_hold_cents"]),
    ("reserved", &["reserved.amount"]),
];

/// Reads the balance in cents from either endpoint: `/v1/balances` (`available_balance_cents`,
/// `current_balance_cents`, `current_overage_cents`, `overage_limit_cents`; or the example's
/// `available_cents`, `current_cents`, `current_hold_cents`) or `/v0/balance`
/// (`{available: {amount, currency: "usd"}, reserved: {amount, …}}`). `available` is the first of
/// `available_balance_cents`, `available_cents`, `available.amount`; the others go to `details`
/// (`current`, `overage`, `overageLimit`, `hold`, `reserved`). A currency other than USD is
/// refused rather than shown as dollars; the whole body stays in `raw`.
pub fn parse_balance_response(response: HttpResponse) -> Result<crate::model::Balance> {
    use crate::model::{Balance, Money};
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let value = parse_json(P, &response.body)?;
    if !value.is_object() {
        return Err(Error::decode(P, "", "expected an object"));
    }
    // The first of `paths` that is present and not null, read as cents.
    let cents = |paths: &[&str]| -> Result<Option<Money>> {
        let found = paths.iter().find_map(|path| {
            let v = path.split('.').try_fold(&value, |v, key| v.get(key))?;
            (!v.is_null()).then_some((*path, v))
        });
        let Some((path, v)) = found else { return Ok(None) };
        let n = crate::money::json_integer(v).map_err(|rule| Error::decode(P, path, rule))?;
        let micro =
            crate::money::units_to_micro(n, BALANCE_UNITS_PER_USD).ok_or_else(|| Error::decode(P, path, "is too large"))?;
        Ok(Some(Money::from_micro(micro)))
    };
    let Some(available) = cents(&["available_balance_cents", "available_cents", "available.amount"])? else {
        return Err(Error::decode(
            P,
            "available_balance_cents",
            "missing field `available_balance_cents` (or v0's `available.amount`)",
        ));
    };
    for side in ["available", "reserved"] {
        if let Some(currency) = value.get(side).and_then(|a| a.get("currency")) {
            if !currency.as_str().is_some_and(|c| c.eq_ignore_ascii_case("usd")) {
                return Err(Error::decode(P, format!("{side}.currency"), format!("must be usd (got {currency})")));
            }
        }
    }
    let mut details = BTreeMap::new();
    for (name, paths) in BALANCE_FIELDS {
        if let Some(m) = cents(paths)? {
            details.insert(name.to_owned(), m);
        }
    }
    Ok(Balance { provider: P, available, currency: "USD".into(), details, raw: value })
}

#[cfg(test)]
mod tests {

    #[test]
    fn gpus_come_from_the_sku_name_or_its_accelerator_never_a_guess() {
        type Case<'a> = (&'a str, Option<&'a str>, Option<u32>, Option<&'a str>);
        let cases: &[Case] = &[
            ("h100-8x-sxm5-ib", None, Some(8), Some("H100")),
            ("h200-8x-sxm5-ib", None, Some(8), Some("H200")),
            ("b200-8x", None, Some(8), Some("B200")),
            ("H100_x4_PCIe", None, Some(4), Some("H100")),
            ("8x-sxm5", Some("h100"), Some(8), Some("H100")),
            ("l40s-1x", None, Some(1), Some("L40S")),
            ("mi300x-8x", None, Some(8), Some("MI300X")),
            ("custom", None, None, None),
            ("sxm5-ib", None, None, None),
            ("h100-0x", None, None, Some("H100")),
            ("h100-100x", None, None, Some("H100")),
        ];
        for (name, accelerator, count, model) in cases {
            assert_eq!(gpus_from_sku(name, *accelerator), (*count, model.map(str::to_owned)), "{name}");
        }
    }
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

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/sfcompute/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn the_fast_path_leaves_what_skipping_would_not_check_to_the_slow_one() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        for odd in ["1e400", r#""\ud800""#, &deep] {
            for body in [
                format!(r#"{{"has_more":false,"data":[{{"id":"inst_1","x":{odd}}}]}}"#),
                format!(r#"{{"has_more":false,"data":[],"x":{odd}}}"#),
            ] {
                let shared: Arc<[u8]> = body.as_bytes().into();
                assert!(fast_list(&shared).is_none(), "{body}");
                assert_eq!(slow_list(body.as_bytes()).unwrap_err().code, ErrorCode::Decode, "{body}");
            }
            let one = format!(r#"{{"id":"inst_1","x":{odd}}}"#);
            assert!(fast_one(&one.as_bytes().into()).is_none(), "{one}");
        }
        let mut bad = br#"{"has_more":false,"data":[],"object":"list"}"#.to_vec();
        let at = bad.len() - 3;
        bad[at] = 0xff;
        assert!(fast_list(&bad.as_slice().into()).is_none());
        assert_eq!(slow_list(&bad).unwrap_err().field.as_deref(), Some("object"));
    }

    #[test]
    fn the_fast_path_takes_escapes_and_repeated_members_of_lenient_fields() {
        let body = r#"{"has_more":true,"data":[{"\u0069d":"inst_\u00e9","name":"\ud83d\ude00","x":2.5e-3,
            "pool":{"id":"a","id":"b","name":"x","name":5},"managed_by":{"id":"depl_1","object":"o","object":[]}}],
            "cursor":"nodec_a"}"#;
        let fast = fast_list(&body.as_bytes().into()).expect("the fast path takes it");
        assert_eq!(fast, slow_list(body.as_bytes()).unwrap());
        let i = &fast.items[0];
        assert_eq!((i.id.as_str(), i.name.as_deref()), ("inst_é", Some("😀")));
        assert_eq!(i.pool, Some(PoolRef { id: "b".into(), name: None }), "the last of a repeated member, as in a Value");
        assert_eq!(i.managed_by.as_ref().map(|m| m.kind.as_str()), Some("deployment"));
        assert_eq!(fast.next_cursor.as_deref(), Some("nodec_a"));
    }

    #[test]
    fn a_single_record_reads_the_fast_way_as_the_slow_way() {
        for name in ["instance_may.json", "instance_july.json"] {
            let body = fixture(name);
            let fast = fast_one(&body.as_slice().into()).expect("the fast path takes a documented record");
            assert_eq!(fast, normalize(parse_json(P, &body).unwrap(), "").unwrap(), "{name}");
            assert_eq!(fast.raw.bytes(), body.trim_ascii(), "{name}: raw is the record's own text");
        }
        // A record given as an array is the slow path's (serde reads it by position).
        assert!(fast_one(&br#"["inst_1"]"#[..].into()).is_none());
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
        let shared: Arc<[u8]> = body.as_slice().into();
        assert!(fast_list(&shared).is_some(), "the fast path takes the body");
        for (what, (best, median)) in [
            ("fast_list", time_ms(15, || drop(std::hint::black_box(fast_list(&shared))))),
            ("  of which skips_as_strictly", time_ms(15, || assert!(std::hint::black_box(skips_as_strictly(&shared))))),
            ("slow_list", time_ms(15, || drop(std::hint::black_box(slow_list(&body))))),
        ] {
            eprintln!("{what}: best {best:.1} ms, median {median:.1} ms");
        }
    }
}
