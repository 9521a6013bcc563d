//! Novita GPU instances v1 — `https://api.novita.ai/gpu-instance/openapi/v1`,
//! `Authorization: Bearer <API key>`.
//!
//! Seed 004 documents List Instances; PROVIDERS.md §3 the rest of v1: get
//! (`GET /gpu/instance?instanceId=`), create (`POST /gpu/instance/create`, 200 `{id}`) and the
//! lifecycle verbs `POST /gpu/instance/{start|stop|restart|delete}` with `{"instanceId": …}`.
//! The docs mark `Content-Type: application/json` as required on *every* call, GET included, so
//! every request carries it.
//!
//! Where the docs are silent, this module decides (and the tests pin it):
//!
//! - **Paging.** `pageNum` is counted from 1 (the docs say "≥ 0" without saying whether 0 or 1 is
//!   the first page; 1 is what a page *number* usually means and what a server treating 0 as 1
//!   also accepts). The cursor is that page number as decimal text. With a `total`, more pages
//!   follow while `pageNum × pageSize < total`; without one, while the page came back full.
//! - **Numbers sent as strings.** `cpuNum`, `memory` and `gpuNum` are documented as strings; they
//!   are read whether they arrive as strings or numbers, never fail decoding, and stay in `raw` as
//!   received. Only `id` and `status` are required (as strings); every other field is read
//!   leniently, so type drift in a field gpufleet does not need never breaks a listing.
//! - **Errors.** Novita documents its error codes but not the body's shape; see [`parse_error`]
//!   for the shapes read and the reason → code table (a missing instance is HTTP 400
//!   `RESOURCE_NOT_FOUND` → `notFound`; `CREATE_INSTANCE_LIMIT` → `quotaExceeded`).
//!   A **200 whose body is an error wrapper** (e.g. `{"code":400,"message":"…"}` without the
//!   success payload) is an error, not an empty answer (PROVIDERS.md §3.4 question 1): its code
//!   follows the documented reason, else the embedded `code` when that is an HTTP error status,
//!   otherwise `server`.
//! - **Status.** See [`map_status`].

// `Error` is returned by value crate-wide (one flat serializable record); the size lint fires on
// every fallible function and is a crate-level decision, not this module's.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::shared::{
    check_enum, check_len, check_range, child_path, decode_value, fast_record, http_error, is_object_text, json_kind,
    lenient_u32, loose_error_parts, parse_json, skips_as_strictly, str_field, unix_seconds_to_iso, ErrorParts,
};
use super::{validate_id, Provider, ProviderConfig};
use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::http::{query_string, HttpRequest, HttpResponse, Method};
use crate::model::{
    BillingMode, Capabilities, DeleteOutcome, FieldKind, FieldSpec, Instance, NovitaCreateInput, NovitaListQuery, Operation,
    Page, Pagination, SpotInfo, SpotStatus, SshInfo, Status,
};

const P: Provider = Provider::Novita;

/// The 18 status words Novita documents (seed 004), in the documented order.
pub const STATUSES: &[&str] = &[
    "toCreate",
    "creating",
    "pulling",
    "running",
    "toStart",
    "starting",
    "toStop",
    "stopping",
    "exited",
    "toRestart",
    "restarting",
    "toRemove",
    "removing",
    "removed",
    "toReset",
    "resetting",
    "migrating",
    "freezing",
];
/// Instance kinds accepted by create.
pub const KINDS: &[&str] = &["gpu", "cpu"];
/// Billing modes accepted by create.
pub const BILLING_MODES: &[&str] = &["onDemand", "monthly", "spot"];
/// Port and tool protocols accepted by create.
pub const PORT_TYPES: &[&str] = &["tcp", "http"];
/// Page size sent when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size accepted.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Ports Novita reserves for itself (2222–2224); they cannot be exposed.
pub const RESERVED_PORTS: std::ops::RangeInclusive<u16> = 2222..=2224;
/// Most ports plus tools one instance may expose.
pub const MAX_PORTS_AND_TOOLS: usize = 15;

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

/// What Novita offers.
pub fn capabilities() -> Capabilities {
    Capabilities {
        provider: P,
        display_name: P.display_name().to_owned(),
        operations: vec![
            Operation::List,
            Operation::Get,
            Operation::Create,
            Operation::Start,
            Operation::Stop,
            Operation::Restart,
            Operation::Delete,
        ],
        pagination: Pagination::PageNumber,
        max_page_size: Some(MAX_PAGE_SIZE),
        list_filters: ["limit", "cursor", "name", "productName", "status"].iter().map(|s| s.to_string()).collect(),
        idempotent_create: false,
        provider_statuses: STATUSES.iter().map(|s| s.to_string()).collect(),
        create_fields: create_fields(),
    }
}

/// The lifecycle actions a Novita instance's state allows (before its capabilities narrow them).
/// An `exited` instance, failed (with a `statusError`) or not, has no container running: it can
/// be started again or deleted, but there is nothing to stop or restart. A removed or removing
/// one has nothing left to delete.
pub fn actions_allowed(status: Status, provider_status: &str) -> Vec<Operation> {
    if provider_status == "exited" {
        return vec![Operation::Start, Operation::Delete];
    }
    match status {
        Status::Terminating | Status::Terminated => Vec::new(),
        _ => super::default_actions(status),
    }
}

fn field(name: &str, label: &str, kind: FieldKind, required: bool) -> FieldSpec {
    FieldSpec::new(name, label, kind, required)
}

/// The create form. `tools` and `networkStorages` (lists of records) have no form kind and are
/// left to callers that build the input themselves.
fn create_fields() -> Vec<FieldSpec> {
    let opts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        FieldSpec {
            help: Some("from Novita's product list (GET /products); CPU products need kind cpu".into()),
            ..field("productId", "Product id", FieldKind::String, true)
        },
        FieldSpec {
            options: opts(KINDS),
            help: Some("gpu (default) or cpu".into()),
            ..field("kind", "Kind", FieldKind::Enum, false)
        },
        FieldSpec {
            min: Some(1),
            max: Some(8),
            help: Some("required when kind is gpu (the default); omit for cpu".into()),
            ..field("gpuNum", "GPUs", FieldKind::Integer, false)
        },
        FieldSpec {
            min: Some(10),
            max: Some(6144),
            help: Some("root filesystem in GB; required when kind is gpu; the product may allow less".into()),
            ..field("rootfsSize", "Root disk (GB)", FieldKind::Integer, false)
        },
        FieldSpec {
            max_length: Some(500),
            help: Some("e.g. pytorch/pytorch:2.5.1-cuda12.4-cudnn9-devel".into()),
            ..field("imageUrl", "Container image", FieldKind::String, true)
        },
        FieldSpec { max_length: Some(255), ..field("name", "Name", FieldKind::String, false) },
        FieldSpec {
            options: opts(BILLING_MODES),
            help: Some("onDemand (default), monthly or spot".into()),
            ..field("billingMode", "Billing", FieldKind::Enum, false)
        },
        FieldSpec {
            min: Some(0),
            help: Some("months to prepay; more than 0 means monthly billing".into()),
            ..field("month", "Months", FieldKind::Integer, false)
        },
        FieldSpec { help: Some("monthly billing only".into()), ..field("autoRenew", "Auto-renew", FieldKind::Boolean, false) },
        FieldSpec {
            min: Some(1),
            max: Some(12),
            help: Some("months per renewal; monthly billing only".into()),
            ..field("autoRenewMonth", "Renewal months", FieldKind::Integer, false)
        },
        FieldSpec {
            help: Some("e.g. 80/http, 3306/tcp — ports 1–65535 except 2222–2224; at most 15 with tools".into()),
            ..field("ports", "Ports", FieldKind::String, false)
        },
        FieldSpec {
            help: Some("at most 100; names ≤ 511 characters, values ≤ 4095".into()),
            ..field("envs", "Environment", FieldKind::KeyValue, false)
        },
        FieldSpec { max_length: Some(2047), ..field("command", "Command", FieldKind::Text, false) },
        FieldSpec {
            max_length: Some(2047),
            help: Some("overrides the image ENTRYPOINT".into()),
            ..field("entrypoint", "Entrypoint", FieldKind::Text, false)
        },
        FieldSpec {
            help: Some("empty picks a cluster at random".into()),
            ..field("clusterId", "Cluster id", FieldKind::String, false)
        },
        FieldSpec {
            max_length: Some(10239),
            help: Some("registry credentials as username:password".into()),
            ..field("imageAuth", "Registry credentials", FieldKind::String, false)
        },
        FieldSpec {
            help: Some("a saved registry-credential id, instead of imageAuth".into()),
            ..field("imageAuthId", "Registry credential id", FieldKind::String, false)
        },
        FieldSpec { help: Some("VPC network id".into()), ..field("networkId", "Network id", FieldKind::String, false) },
        FieldSpec { help: Some("e.g. 12.4".into()), ..field("minCudaVersion", "Minimum CUDA version", FieldKind::String, false) },
    ]
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/// Maps one Novita status word to the normalized [`Status`], per the DESIGN.md table (an unlisted
/// word is `unknown`, never an error).
pub fn map_status_word(status: &str) -> Status {
    match status {
        "toCreate" | "toStart" | "toRestart" | "toReset" => Status::Pending,
        "creating" | "pulling" | "starting" | "restarting" | "resetting" | "migrating" => Status::Provisioning,
        "running" => Status::Running,
        "toStop" | "stopping" | "freezing" => Status::Stopping,
        "exited" => Status::Stopped,
        "toRemove" | "removing" => Status::Terminating,
        "removed" => Status::Terminated,
        _ => Status::Unknown,
    }
}

/// Maps a Novita status plus its `statusError` text (the error's `message`, else its `state`;
/// `None` when absent or empty) to the normalized status and the reason to show.
///
/// - Without an error: the table of [`map_status_word`], no reason.
/// - With an error on any state but `running`: `failed`, the error text as the reason
///   (e.g. `exited` + "container exited with code 137" → failed).
/// - With an error on `running`: still `running` (the instance works now), the text kept as the
///   reason so a past failure stays visible.
/// - With an error on the removal states (`toRemove`, `removing`, `removed`): still
///   `terminating`/`terminated`, the text kept as the reason. A deleted instance is gone whatever
///   went wrong before (Novita keeps the error after a delete), and a waiter for `terminated`
///   must be able to finish.
pub fn map_status(status: &str, status_error: Option<&str>) -> (Status, Option<String>) {
    let base = map_status_word(status);
    let error = status_error.map(str::trim).filter(|s| !s.is_empty());
    match error {
        None => (base, None),
        Some(text) => {
            let status = match base {
                Status::Running | Status::Terminating | Status::Terminated => base,
                _ => Status::Failed,
            };
            (status, Some(text.to_owned()))
        }
    }
}

/// The text of a `statusError` value: its `message`, else its `state` (a bare string is taken
/// as the message). `None` when absent, `null` or empty.
fn status_error_text(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::Object(o) => [o.get("message"), o.get("state")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::trim)
            .find(|s| !s.is_empty()),
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// The spot fields: `spotStatus` (a non-empty string; anything else, or none, means no `spot`)
/// and `spotReclaimTime` (Unix seconds as text or a number, or ISO text; `"0"`, negatives and
/// anything unreadable mean no reclaim scheduled).
fn spot_info(record: &(impl Fields + ?Sized)) -> Option<SpotInfo> {
    let status = SpotStatus::parse(record.nonempty_str("spotStatus")?);
    Some(SpotInfo { status, reclaim_at: created_at_iso(record.field("spotReclaimTime")) })
}

/// A reason from the spot fields, when a spot instance is being reclaimed.
fn spot_reason(spot: Option<&SpotInfo>) -> Option<String> {
    let spot = spot?;
    let what = match spot.status {
        SpotStatus::Reclaiming => "spot instance being reclaimed",
        SpotStatus::Notified => "spot instance notified for reclaim",
        _ => return None,
    };
    match &spot.reclaim_at {
        Some(at) => Some(format!("{what} (reclaim time {at})")),
        None => Some(what.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// `Bearer <API key>`; a key pasted together with its `Bearer ` prefix is not prefixed twice.
fn auth_header(config: &ProviderConfig) -> String {
    let key = config.api_key.trim();
    let key = key.strip_prefix("Bearer ").map(str::trim_start).unwrap_or(key);
    format!("Bearer {key}")
}

fn authed(method: Method, url: String, config: &ProviderConfig) -> HttpRequest {
    HttpRequest::new(method, url).header("Authorization", auth_header(config)).header("Content-Type", "application/json")
}

/// Where one Novita page sits, as learned from the server: the `pageNum` to send, the number of
/// the server's first page (0 or 1), and the page size it really serves when that differs from
/// the `pageSize` asked (a silent cap, or fixed pages).
///
/// Novita documents only "`pageNum` ≥ 0" and no maximum `pageSize`, so a client cannot assume
/// either; [`crate::Client`] learns both from the first pages and carries them in the cursor,
/// which is this position as text: `"7"` (page 7 of pages counted from 1, served as asked),
/// `"7.0"` (counted from 0), `"7.0.20"` (counted from 0, 20 per page whatever was asked).
/// The short form is what a first page counted from 1 and served as asked leads to, so cursors
/// of such servers read as plain page numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePosition {
    /// The `pageNum` to send.
    pub page_num: u32,
    /// The server's first page number: 0 or 1.
    pub first: u32,
    /// The number of items the server serves per page, when known to differ from the asked size.
    pub served_size: Option<u32>,
}

/// How a Novita server numbers its pages, as [`crate::Client`] learns it (the docs say only
/// "`pageNum` ≥ 0"; official clients disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// `pageNum=0` is the first page, `1` the second.
    FromZero,
    /// `pageNum=1` is the first page and `0` is served as page 1.
    FromOne,
    /// `pageNum=1` is the first page and `0` is refused (HTTP 400).
    FromOneRefusingZero,
}

impl Numbering {
    /// The number of the first page.
    pub fn first_page_num(self) -> u32 {
        match self {
            Numbering::FromZero => 0,
            Numbering::FromOne | Numbering::FromOneRefusingZero => 1,
        }
    }
}

/// Largest page size a server may be learned to serve (a bound on the cursor's third part).
pub const MAX_SERVED_PAGE_SIZE: u32 = 100_000;

impl PagePosition {
    /// The first page of a server counting from `first` (0 or 1).
    pub fn first_page(first: u32) -> PagePosition {
        PagePosition { page_num: first, first, served_size: None }
    }

    /// The page after this one.
    pub fn next(self) -> PagePosition {
        PagePosition { page_num: self.page_num.saturating_add(1), ..self }
    }

    /// This position as a cursor (see [`PagePosition`]).
    pub fn to_cursor(self) -> String {
        match (self.first, self.served_size) {
            (1, None) => self.page_num.to_string(),
            (first, None) => format!("{}.{first}", self.page_num),
            (first, Some(size)) => format!("{}.{first}.{size}", self.page_num),
        }
    }

    /// Reads a cursor made by [`Self::to_cursor`].
    pub fn from_cursor(cursor: &str) -> Result<PagePosition> {
        let bad = || {
            Error::invalid_input(
                "cursor",
                "must be a nextCursor returned by a previous Novita page (a page number such as 2, or 2.0 / 2.0.20)",
            )
        };
        let number = |t: &str| -> Option<u32> {
            (!t.is_empty() && t.len() <= 10 && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten()
        };
        let mut parts = cursor.split('.');
        let page_num = parts.next().and_then(number).ok_or_else(bad)?;
        let first = match parts.next() {
            None => 1,
            Some(t) => number(t).filter(|f| *f <= 1).ok_or_else(bad)?,
        };
        let served_size = match parts.next() {
            None => None,
            Some(t) => Some(number(t).filter(|n| (1..=MAX_SERVED_PAGE_SIZE).contains(n)).ok_or_else(bad)?),
        };
        if parts.next().is_some() || page_num < first {
            return Err(bad());
        }
        Ok(PagePosition { page_num, first, served_size })
    }

    /// How many pages come before this one.
    fn pages_before(self) -> u64 {
        u64::from(self.page_num - self.first)
    }

    /// The number of the last page a listing of `total` items needs, at `served` items per page
    /// (never before this page; capped at `u32::MAX`). For planning the remaining pages at once.
    pub fn last_page_num(self, served: u32, total: u64) -> u32 {
        let pages = total.div_ceil(u64::from(served.max(1)));
        let last = (u64::from(self.first) + pages).saturating_sub(1).min(u64::from(u32::MAX)) as u32;
        last.max(self.page_num)
    }
}

/// The page size a query asks for and the page it asks for, after checking them. Without a
/// cursor: page 1, counted from 1 (what the pure builder sends; [`crate::Client`] finds the first
/// page of servers that count from 0 and passes it as a cursor).
fn page_params(query: &NovitaListQuery) -> Result<(u32, PagePosition)> {
    let size = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    check_range("limit", i64::from(size), 1, i64::from(MAX_PAGE_SIZE))?;
    let position = match query.cursor.as_deref() {
        None => PagePosition::first_page(1),
        Some(c) => PagePosition::from_cursor(c)?,
    };
    Ok((size, position))
}

/// The page size `query` asks for and its position (see [`PagePosition`]).
pub fn page_position(query: &NovitaListQuery) -> Result<(u32, PagePosition)> {
    page_params(query)
}

/// Builds `GET /gpu/instances?pageSize=&pageNum=[&name=][&productName=][&status=]`.
///
/// `pageSize` (from `limit`, 1–100, default 50) and `pageNum` (from `cursor`, default 1; see
/// [`PagePosition`]) are always sent. Empty filters are left out (an empty fuzzy match filters
/// nothing).
pub fn build_list_request(query: &NovitaListQuery, config: &ProviderConfig) -> Result<HttpRequest> {
    let (size, position) = page_params(query)?;
    let num = position.page_num;
    let mut pairs: Vec<(&str, String)> = vec![("pageSize", size.to_string()), ("pageNum", num.to_string())];
    if let Some(name) = query.name.as_deref() {
        check_len("name", name, 0, 255)?;
        if !name.is_empty() {
            pairs.push(("name", name.to_owned()));
        }
    }
    if let Some(product) = query.product_name.as_deref() {
        check_len("productName", product, 0, 255)?;
        if !product.is_empty() {
            pairs.push(("productName", product.to_owned()));
        }
    }
    if let Some(status) = query.status.as_deref() {
        check_len("status", status, 0, 63)?;
        if !status.is_empty() {
            check_enum("status", status, STATUSES)?;
            pairs.push(("status", status.to_owned()));
        }
    }
    let url = config.url(&format!("/gpu/instances{}", query_string(&pairs)));
    Ok(authed(Method::Get, url, config))
}

/// Builds `GET /gpu/instance?instanceId=<id>`.
pub fn build_get_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    validate_id(id)?;
    let url = config.url(&format!("/gpu/instance{}", query_string(&[("instanceId", id)])));
    Ok(authed(Method::Get, url, config))
}

#[derive(Serialize)]
struct WireInstanceId<'a> {
    #[serde(rename = "instanceId")]
    instance_id: &'a str,
}

fn verb_request(verb: &str, id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    validate_id(id)?;
    let body = serde_json::to_vec(&WireInstanceId { instance_id: id }).unwrap_or_default();
    Ok(authed(Method::Post, config.url(&format!("/gpu/instance/{verb}")), config).json_body(body))
}

/// Builds `POST /gpu/instance/{start|stop|restart}` with `{"instanceId": id}`; any other
/// operation is `unsupported`.
pub fn build_action_request(op: Operation, id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let verb = match op {
        Operation::Start => "start",
        Operation::Stop => "stop",
        Operation::Restart => "restart",
        other => return Err(Error::unsupported(P, other.as_str())),
    };
    verb_request(verb, id, config)
}

/// Builds `POST /gpu/instance/delete` with `{"instanceId": id}`.
pub fn build_delete_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    verb_request("delete", id, config)
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireEnv<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    port: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct WireNetworkStorage<'a> {
    // Novita spells it with a capital I.
    #[serde(rename = "Id")]
    id: &'a str,
    #[serde(rename = "mountPoint", skip_serializing_if = "Option::is_none")]
    mount_point: Option<&'a str>,
}

/// The create body, fields in the documented order; absent fields are left out.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireCreate<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    product_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rootfs_size: Option<u32>,
    image_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_auth: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_auth_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ports: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    envs: Vec<WireEnv<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    network_storages: Vec<WireNetworkStorage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_id: Option<&'a str>,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    month: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_renew: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_renew_month: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_cuda_version: Option<&'a str>,
}

/// A port number from text: decimal digits only, 1–65535, not one of the reserved 2222–2224.
fn check_port(field: &str, text: &str) -> Result<u16> {
    let text = text.trim();
    let port = if !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u32>().ok()
    } else {
        None
    };
    match port {
        Some(p @ 1..=65535) => {
            let p = p as u16;
            if RESERVED_PORTS.contains(&p) {
                Err(Error::invalid_input(field, format!("port {p} is reserved by Novita (2222–2224 cannot be used)")))
            } else {
                Ok(p)
            }
        }
        _ => Err(Error::invalid_input(field, format!("must be a port number 1–65535 (got {text:?})"))),
    }
}

/// Parses the `ports` text (`"80/http, 3306/tcp"`) into `(port, type)` pairs; empty text is no ports.
pub fn parse_ports(ports: &str) -> Result<Vec<(u16, String)>> {
    let mut out: Vec<(u16, String)> = Vec::new();
    if ports.trim().is_empty() {
        return Ok(out);
    }
    for part in ports.split(',') {
        let part = part.trim();
        let Some((port, kind)) = part.split_once('/') else {
            return Err(Error::invalid_input(
                "ports",
                format!("each entry must be <port>/<tcp|http>, e.g. \"80/http, 3306/tcp\" (got {part:?})"),
            ));
        };
        let port = check_port("ports", port)?;
        let kind = kind.trim();
        if !PORT_TYPES.contains(&kind) {
            return Err(Error::invalid_input("ports", format!("port {port} type must be tcp or http (got {kind:?})")));
        }
        if out.iter().any(|(p, _)| *p == port) {
            return Err(Error::invalid_input("ports", format!("port {port} is listed twice")));
        }
        out.push((port, kind.to_owned()));
    }
    Ok(out)
}

fn is_cuda_version(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks a create input against every documented rule (PROVIDERS.md §3.1) and returns the
/// billing mode to send.
///
/// Decisions where the docs are silent: for `kind: "cpu"`, `gpuNum` and `rootfsSize` must be
/// absent (the CPU create page has neither); `month > 0` with no `billingMode` sends
/// `billingMode: "monthly"` (what Novita forces anyway); `billingMode: "monthly"` with `month: 0`
/// is a contradiction; `autoRenew: true` and `autoRenewMonth` need monthly billing; ports may
/// not repeat; tool ports follow the port rules; `minCudaVersion` is dotted digits (`12.4`).
fn validate_create(input: &NovitaCreateInput) -> Result<Option<&str>> {
    if let Some(name) = input.name.as_deref() {
        check_len("name", name, 0, 255)?;
    }
    if input.product_id.trim().is_empty() {
        return Err(Error::invalid_input("productId", "must not be empty (a product id from Novita's product list)"));
    }
    let kind = input.kind.as_deref().unwrap_or("gpu");
    check_enum("kind", kind, KINDS)?;
    if kind == "gpu" {
        match input.gpu_num {
            None => return Err(Error::invalid_input("gpuNum", "is required for a GPU instance (1–8)")),
            Some(n) => check_range("gpuNum", i64::from(n), 1, 8)?,
        }
        match input.rootfs_size {
            None => return Err(Error::invalid_input("rootfsSize", "is required for a GPU instance (10–6144 GB)")),
            Some(n) => check_range("rootfsSize", i64::from(n), 10, 6144)?,
        }
    } else {
        if input.gpu_num.is_some() {
            return Err(Error::invalid_input("gpuNum", "must be absent when kind is cpu"));
        }
        if input.rootfs_size.is_some() {
            return Err(Error::invalid_input("rootfsSize", "must be absent when kind is cpu"));
        }
    }
    check_len("imageUrl", &input.image_url, 1, 500)?;
    if input.image_url.trim().is_empty() {
        return Err(Error::invalid_input("imageUrl", "must not be blank"));
    }
    if let Some(auth) = input.image_auth.as_deref() {
        check_len("imageAuth", auth, 0, 10239)?;
        if !auth.contains(':') {
            return Err(Error::invalid_input("imageAuth", "must be username:password"));
        }
    }
    let ports = match input.ports.as_deref() {
        Some(p) => parse_ports(p)?.len(),
        None => 0,
    };
    for (i, tool) in input.tools.iter().enumerate() {
        if tool.name.trim().is_empty() {
            return Err(Error::invalid_input(format!("tools[{i}].name"), "must not be empty (e.g. Jupyter)"));
        }
        check_port(&format!("tools[{i}].port"), &tool.port)?;
        check_enum(&format!("tools[{i}].type"), &tool.kind, PORT_TYPES)?;
    }
    if ports + input.tools.len() > MAX_PORTS_AND_TOOLS {
        return Err(Error::invalid_input(
            "ports",
            format!(
                "ports and tools together must be at most {MAX_PORTS_AND_TOOLS} (got {ports} ports and {} tools)",
                input.tools.len()
            ),
        ));
    }
    if input.envs.len() > 100 {
        return Err(Error::invalid_input("envs", format!("must have at most 100 entries (got {})", input.envs.len())));
    }
    for (i, env) in input.envs.iter().enumerate() {
        check_len(&format!("envs[{i}].key"), &env.key, 0, 511)?;
        check_len(&format!("envs[{i}].value"), &env.value, 0, 4095)?;
    }
    if let Some(command) = input.command.as_deref() {
        check_len("command", command, 0, 2047)?;
    }
    if let Some(entrypoint) = input.entrypoint.as_deref() {
        check_len("entrypoint", entrypoint, 0, 2047)?;
    }
    if input.network_storages.len() > 30 {
        return Err(Error::invalid_input(
            "networkStorages",
            format!("must have at most 30 entries (got {})", input.network_storages.len()),
        ));
    }
    for (i, storage) in input.network_storages.iter().enumerate() {
        if storage.id.trim().is_empty() {
            return Err(Error::invalid_input(format!("networkStorages[{i}].id"), "must not be empty"));
        }
    }
    let month = input.month.unwrap_or(0);
    let billing = match input.billing_mode.as_deref() {
        Some(mode) => {
            check_enum("billingMode", mode, BILLING_MODES)?;
            if month > 0 && mode != "monthly" {
                return Err(Error::invalid_input(
                    "billingMode",
                    format!("must be monthly (or absent) when month is more than 0 (got {mode:?})"),
                ));
            }
            if mode == "monthly" && input.month == Some(0) {
                return Err(Error::invalid_input("month", "must be more than 0 with monthly billing (0 means pay as you go)"));
            }
            Some(mode)
        }
        None if month > 0 => Some("monthly"),
        None => None,
    };
    let monthly = billing == Some("monthly");
    if input.auto_renew == Some(true) && !monthly {
        return Err(Error::invalid_input(
            "autoRenew",
            "is only available with monthly billing (billingMode monthly or month > 0)",
        ));
    }
    if let Some(n) = input.auto_renew_month {
        check_range("autoRenewMonth", i64::from(n), 1, 12)?;
        if !monthly {
            return Err(Error::invalid_input("autoRenewMonth", "is only available with monthly billing"));
        }
    }
    if let Some(v) = input.min_cuda_version.as_deref() {
        if !is_cuda_version(v) {
            return Err(Error::invalid_input("minCudaVersion", format!("must be a version such as 12.4 (got {v:?})")));
        }
    }
    Ok(billing)
}

/// Builds `POST /gpu/instance/create` after checking every documented rule; `kind` defaults to
/// `gpu` and is always sent.
pub fn build_create_request(input: &NovitaCreateInput, config: &ProviderConfig) -> Result<HttpRequest> {
    let billing_mode = validate_create(input)?;
    let body = WireCreate {
        name: input.name.as_deref(),
        product_id: &input.product_id,
        gpu_num: input.gpu_num,
        rootfs_size: input.rootfs_size,
        image_url: &input.image_url,
        image_auth: input.image_auth.as_deref(),
        image_auth_id: input.image_auth_id.as_deref(),
        ports: input.ports.as_deref(),
        envs: input.envs.iter().map(|e| WireEnv { key: &e.key, value: &e.value }).collect(),
        tools: input.tools.iter().map(|t| WireTool { name: &t.name, port: &t.port, kind: &t.kind }).collect(),
        command: input.command.as_deref(),
        entrypoint: input.entrypoint.as_deref(),
        cluster_id: input.cluster_id.as_deref(),
        network_storages: input
            .network_storages
            .iter()
            .map(|s| WireNetworkStorage { id: &s.id, mount_point: s.mount_point.as_deref() })
            .collect(),
        network_id: input.network_id.as_deref(),
        kind: input.kind.as_deref().unwrap_or("gpu"),
        month: input.month,
        billing_mode,
        auto_renew: input.auto_renew,
        auto_renew_month: input.auto_renew_month,
        min_cuda_version: input.min_cuda_version.as_deref(),
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    Ok(authed(Method::Post, config.url("/gpu/instance/create"), config).json_body(body))
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// Reads a 2xx body as a JSON object, or the error it wraps. `success_keys` are the fields a
/// real answer carries (`instances`, `id`); a body without them that looks like an error
/// wrapper is turned into the error.
fn success_object(response: &HttpResponse, success_keys: &[&str]) -> Result<Map<String, Value>> {
    match parse_json(P, &response.body)? {
        Value::Object(o) => {
            if !success_keys.iter().any(|k| o.contains_key(*k)) {
                if let Some(e) = wrapped_error(response, &o) {
                    return Err(e);
                }
            }
            Ok(o)
        }
        other => Err(Error::decode(P, "", format!("expected a JSON object, got {}", json_kind(&other)))),
    }
}

/// A numeric `code` (number or numeric text).
fn numeric_code(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a `code` value reports failure: not 0, not 2xx, not "ok"/"success".
fn code_is_error(v: &Value) -> bool {
    if let Some(n) = numeric_code(v) {
        return n != 0 && !(200..300).contains(&n);
    }
    match v {
        Value::String(s) => {
            let s = s.trim();
            !s.is_empty() && !["ok", "success", "succeeded"].iter().any(|w| s.eq_ignore_ascii_case(w))
        }
        _ => false,
    }
}

/// The error a 2xx body carries, if it is an error wrapper: a non-empty `error`, a failing
/// `code`, or a `reason`.
fn wrapped_error(response: &HttpResponse, body: &Map<String, Value>) -> Option<Error> {
    let has_error = match body.get("error") {
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::String(s)) => !s.trim().is_empty(),
        _ => false,
    };
    let failing_code = body.get("code").is_some_and(code_is_error);
    let has_reason = body.get("reason").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty());
    if !(has_error || failing_code || has_reason) {
        return None;
    }
    let embedded = body
        .get("code")
        .or_else(|| body.get("error").and_then(|e| e.get("code")))
        .and_then(numeric_code)
        .filter(|c| (400..=599).contains(c))
        .map(|c| c as u16);
    // The code follows the embedded HTTP-like status (e.g. 404 → notFound); `status` stays the
    // HTTP status actually received.
    let as_if = HttpResponse { status: embedded.unwrap_or(500), headers: response.headers.clone(), body: Vec::new() };
    let parts = error_parts(&response.body);
    let mut e = with_documented_code(http_error(P, &as_if, parts));
    e.status = Some(response.status);
    let said = e.message.split_once(": ").map(|(_, m)| m.to_owned()).unwrap_or_default();
    e.message = match embedded {
        Some(c) => format!("{} answered HTTP {} with an error body (code {c}): {said}", P.display_name(), response.status),
        None => format!("{} answered HTTP {} with an error body: {said}", P.display_name(), response.status),
    };
    Some(e)
}

/// Parses the list answer `{instances: [...], total?}` into a page; `query` is the query that
/// was sent (its page size and [`PagePosition`] give the next cursor).
///
/// `total` may be absent, a number or numeric text. `instances: null` reads as an empty page; a
/// body without `instances` is accepted only when it has a `total` (an omitted empty list).
///
/// Whether more pages follow (an empty page never has more):
/// - the **first** page tells the served page size: with a `total` above what came back, the
///   server serves pages of that many (a silent cap, or fixed pages), and the cursor carries it;
///   without a `total`, a page shorter than asked may be the last one *or* a capped one, so
///   one more page is asked for (an empty answer ends the listing) — exactness costs that
///   request, only on servers that send no `total`;
/// - a later page: with a `total`, more while the pages so far hold fewer than `total`; without
///   one, while the page came back full.
pub fn parse_list_response(query: &NovitaListQuery, response: HttpResponse) -> Result<Page<Instance>> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    page_params(query)?;
    let body: Arc<[u8]> = response.body.as_slice().into();
    match fast_list(query, &body) {
        Some(page) => Ok(page),
        None => slow_list_of(query, &response),
    }
}

/// [`parse_list_response`] through a JSON tree and the path-tracking reader (2xx `body`).
#[cfg(test)]
pub(crate) fn slow_list(query: &NovitaListQuery, body: &[u8]) -> Result<Page<Instance>> {
    slow_list_of(query, &HttpResponse::new(200, body.to_vec()))
}

fn slow_list_of(query: &NovitaListQuery, response: &HttpResponse) -> Result<Page<Instance>> {
    let (size, position) = page_params(query)?;
    let mut body = success_object(response, &["instances"])?;
    let total = match body.get("total") {
        None | Some(Value::Null) => None,
        Some(v) => lenient_u64(v),
    };
    let items = match body.remove("instances") {
        Some(Value::Array(items)) => items,
        Some(Value::Null) => Vec::new(),
        None if body.contains_key("total") => Vec::new(),
        None => return Err(Error::decode(P, "instances", "missing field `instances`")),
        Some(other) => {
            return Err(Error::decode(P, "instances", format!("expected an array of instances, got {}", json_kind(&other))))
        }
    };
    let items =
        items.into_iter().enumerate().map(|(i, v)| normalize(v, &format!("instances[{i}]"))).collect::<Result<Vec<_>>>()?;
    page_of(size, position, items, total).map_err(|e| e.with_status(response.status))
}

/// The page of `items` at `position`, with its next cursor.
fn page_of(size: u32, position: PagePosition, items: Vec<Instance>, total: Option<u64>) -> Result<Page<Instance>> {
    let next = next_position(size, position, items.len(), total);
    if next.is_some() && position.page_num == u32::MAX {
        return Err(Error::new(
            ErrorCode::Server,
            "Novita says more pages follow page 4294967295; a listing that long cannot be walked",
        )
        .with_provider(P));
    }
    Ok(Page { items, next_cursor: next.map(PagePosition::to_cursor), has_more: next.is_some(), total })
}

/// The page after one at `position` that held `len` items of `size` asked, given its `total`
/// (see [`parse_list_response`]); `None` when it was the last.
pub fn next_position(size: u32, position: PagePosition, len: usize, total: Option<u64>) -> Option<PagePosition> {
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    if len == 0 {
        return None;
    }
    let first_page = position.page_num == position.first;
    let (served, more) = match (position.served_size, total) {
        // Learned on the first page and carried in the cursor.
        (Some(served), Some(total)) => (Some(served), (position.pages_before() + 1) * u64::from(served) < total),
        (Some(served), None) => (Some(served), len >= u64::from(served)),
        // The first page: what came back is the page size the server serves.
        (None, Some(total)) if first_page => {
            let served = u32::try_from(len).unwrap_or(u32::MAX);
            (Some(served).filter(|n| *n != size), len < total)
        }
        (None, None) if first_page => {
            let served = u32::try_from(len).unwrap_or(u32::MAX);
            (Some(served).filter(|n| *n != size), true)
        }
        // A later page of a server that serves what it is asked.
        (None, Some(total)) => (None, (position.pages_before() + 1) * u64::from(size) < total),
        (None, None) => (None, len >= u64::from(size)),
    };
    let served = served.map(|n| n.min(MAX_SERVED_PAGE_SIZE));
    more.then_some(PagePosition { served_size: served, ..position.next() })
}

fn lenient_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses one instance (the Get Instance shape: the list fields plus `network`, the
/// `connectComponent*` records and so on).
pub fn parse_get_response(response: HttpResponse) -> Result<Instance> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let body = success_object(&response, &["id"])?;
    normalize(Value::Object(body), "")
}

/// Parses the create answer `{id}` into the new instance's id.
pub fn parse_create_response(response: HttpResponse) -> Result<String> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let body = Value::Object(success_object(&response, &["id"])?);
    if body.get("id").map_or(true, Value::is_null) {
        return Err(Error::decode(P, "id", "missing required field (the new instance's id)"));
    }
    let wire: WireCreated = decode_value(P, &body, "")?;
    if wire.id.trim().is_empty() {
        return Err(Error::decode(P, "id", "the new instance's id is empty"));
    }
    Ok(wire.id.into_owned())
}

#[derive(Deserialize)]
struct WireCreated<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
}

/// 2xx (any body that is not an error wrapper) → done.
pub fn parse_action_response(response: HttpResponse) -> Result<()> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    match wrapped_in_2xx(&response) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// 2xx → deleted; 404, `RESOURCE_NOT_FOUND` (HTTP 400) or a 2xx error wrapper saying either →
/// already gone; anything else → the error.
pub fn parse_delete_response(response: HttpResponse) -> Result<DeleteOutcome> {
    match response.status {
        200..=299 => match wrapped_in_2xx(&response) {
            None => Ok(DeleteOutcome { already_gone: false }),
            Some(e) if e.code == ErrorCode::NotFound => Ok(DeleteOutcome { already_gone: true }),
            Some(e) => Err(e),
        },
        404 => Ok(DeleteOutcome { already_gone: true }),
        _ => match parse_error(&response) {
            // Novita's documented answer for a missing instance: HTTP 400 `RESOURCE_NOT_FOUND`.
            e if e.code == ErrorCode::NotFound => Ok(DeleteOutcome { already_gone: true }),
            e => Err(e),
        },
    }
}

/// The error wrapped in a 2xx body whose content is otherwise undocumented (empty, `{}`, text).
fn wrapped_in_2xx(response: &HttpResponse) -> Option<Error> {
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(o)) => wrapped_error(response, &o),
        _ => None,
    }
}

/// Reads an error body into an [`Error`]: the code follows Novita's documented reason where it
/// gives one, else the HTTP status.
///
/// Novita documents its error codes (`basic-error-code`) but not the body's JSON shape, so the
/// shapes are tried in turn: `{code, reason, message, metadata}`, `{error:{message, code}}`,
/// `{message, details}`, then the raw text. The reason word (`reason`, else a textual `code`,
/// else `error.code`) is kept in `providerType`, and decides the code — a missing instance comes
/// back as **HTTP 400** `RESOURCE_NOT_FOUND`, which must read as `notFound`, not `validation`:
///
/// | reason | code |
/// |---|---|
/// | `RESOURCE_NOT_FOUND` | `notFound` (a delete reads it as already gone) |
/// | `VALIDATOR_PARAM` | `validation` |
/// | `CREATE_INSTANCE_LIMIT` | `quotaExceeded` (the account's instance quota is reached) |
/// | `RATE_LIMIT_EXCEEDED` | `rateLimited` |
/// | `UNAUTHORIZED` / `FORBIDDEN` | `unauthorized` / `forbidden` |
/// | `UNKNOWN` | `server` |
///
/// Any other reason keeps the code of the HTTP status. The request id comes from the body
/// (`request_id`, `requestId`, `error.*`, `metadata.*`, also `trace_id`) or a response header.
pub fn parse_error(response: &HttpResponse) -> Error {
    with_documented_code(http_error(P, response, error_parts(&response.body)))
}

/// The [`ErrorCode`] Novita's documented reason word stands for (`None`: not a documented one).
pub fn code_for_reason(reason: &str) -> Option<ErrorCode> {
    Some(match reason.trim() {
        "RESOURCE_NOT_FOUND" => ErrorCode::NotFound,
        "VALIDATOR_PARAM" => ErrorCode::Validation,
        "CREATE_INSTANCE_LIMIT" => ErrorCode::QuotaExceeded,
        "RATE_LIMIT_EXCEEDED" => ErrorCode::RateLimited,
        "UNAUTHORIZED" => ErrorCode::Unauthorized,
        "FORBIDDEN" => ErrorCode::Forbidden,
        "UNKNOWN" => ErrorCode::Server,
        _ => return None,
    })
}

/// Sets the code from the documented reason in `providerType`, and says plainly what a quota
/// refusal means.
fn with_documented_code(mut e: Error) -> Error {
    let Some(code) = e.provider_type.as_deref().and_then(code_for_reason) else { return e };
    e.code = code;
    if code == ErrorCode::QuotaExceeded {
        e.message = format!(
            "{}: the account's instance quota is reached (CREATE_INSTANCE_LIMIT); delete instances or ask Novita to raise the limit",
            e.message
        );
    }
    e
}

fn error_parts(body: &[u8]) -> ErrorParts {
    let mut parts = loose_error_parts(body);
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if parts.details.is_empty() {
            parts.details = error_details(v.get("details").or_else(|| v.get("error").and_then(|e| e.get("details"))));
        }
        if v.get("error").is_some_and(Value::is_object) {
            // `{error:{…}, reason}`: prefer the explicit reason over a numeric nested code.
            if let Some(reason) = str_field(&v, "reason") {
                parts.provider_type = Some(reason.to_owned());
            }
        }
        if parts.request_id.is_none() {
            let keys = ["request_id", "requestId", "trace_id", "traceId"];
            let holders = [v.get("error"), v.get("metadata"), Some(&v)];
            parts.request_id =
                holders.into_iter().flatten().flat_map(|h| keys.iter().map(move |k| h.get(*k))).flatten().find_map(
                    |id| match id {
                        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    },
                );
        }
    }
    parts
}

/// `details` of an error body (`{message, details}`), which Novita does not document: a text,
/// a list of texts, or a list of `{field|key, message|reason|msg}` records; anything else is
/// kept as its JSON text so nothing the provider said is lost.
fn error_details(v: Option<&Value>) -> Vec<ErrorDetail> {
    let text = |v: &Value| match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let one = |v: &Value| -> Option<ErrorDetail> {
        let detail = match v {
            Value::Object(o) => {
                let pick = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k)).map(text).filter(|s| !s.is_empty());
                ErrorDetail {
                    field: pick(&["field", "key", "param"]),
                    code: pick(&["code", "reason"]),
                    message: pick(&["message", "msg", "description"]).unwrap_or_else(|| v.to_string()),
                }
            }
            other => ErrorDetail { field: None, code: None, message: text(other) },
        };
        (!detail.message.is_empty()).then_some(detail)
    };
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(one).take(50).collect(),
        Some(other) => one(other).into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

/// The fields of an instance gpufleet must have; everything else is read leniently from the
/// record (`raw` keeps it whole).
#[derive(Deserialize)]
struct WireInstance<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
}

fn nonempty_str<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    str_field(record, key).map(str::trim).filter(|s| !s.is_empty())
}

/// The top-level fields of a record as [`from_record`] reads them: a whole record (the slow
/// path) or just the fields it reads ([`FastInstance`]), so the fast path builds no map.
trait Fields {
    /// The field `key` (`None` when absent or `null`).
    fn field(&self, key: &str) -> Option<&Value>;

    /// The field `key` when it is a string with something besides whitespace, trimmed.
    fn nonempty_str(&self, key: &str) -> Option<&str> {
        self.field(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }
}

impl Fields for Value {
    fn field(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| !v.is_null())
    }
}

/// Normalizes one Novita instance record (list item or Get shape); `path` prefixes decode errors.
fn normalize(record: Value, path: &str) -> Result<Instance> {
    // serde would read the two-field struct from an array too (`["a","running"]`).
    let Some(object) = record.as_object() else {
        return Err(Error::decode(P, path, format!("expected an instance object, got {}", json_kind(&record))));
    };
    for key in ["id", "status"] {
        if object.get(key).map_or(true, Value::is_null) {
            return Err(Error::decode(P, child_path(path, key), "missing required field"));
        }
    }
    let wire: WireInstance = decode_value(P, &record, path)?;
    if wire.id.trim().is_empty() {
        return Err(Error::decode(P, child_path(path, "id"), "the instance id is empty"));
    }
    let (id, status) = (wire.id.into_owned(), wire.status.into_owned());
    let instance = from_record(&record, id, status);
    Ok(Instance { raw: record.into(), ..instance })
}

/// The instance `record` describes (`raw` left empty), given its checked `id` and `status`: the
/// one normalizer of both decode paths. The slow path passes the whole record; the fast one a
/// record of just the fields read here (see [`FastInstance`]).
fn from_record(record: &(impl Fields + ?Sized), id: String, provider_status: String) -> Instance {
    let (status, mut status_reason) = map_status(&provider_status, status_error_text(record.field("statusError")));
    let spot = spot_info(record);
    if status_reason.is_none() {
        status_reason = spot_reason(spot.as_ref());
    }
    let product_name = record.nonempty_str("productName");
    let gpu_model =
        if record.nonempty_str("kind") == Some("cpu") { None } else { product_name.and_then(gpu_model_from_product_name) };
    let ssh = record
        .field("connectComponentSSH")
        .and_then(|c| nonempty_str(c, "sshCommand"))
        .or_else(|| record.nonempty_str("sshCommand"))
        .and_then(parse_ssh_command);
    let ip = record
        .field("network")
        .and_then(|n| nonempty_str(n, "ip"))
        .map(str::to_owned)
        .or_else(|| ssh.as_ref().filter(|s| s.host.parse::<IpAddr>().is_ok()).map(|s| s.host.clone()));
    Instance {
        provider: P,
        id,
        name: record.nonempty_str("name").map(str::to_owned),
        status,
        provider_status,
        status_reason,
        instance_type: product_name.map(str::to_owned),
        gpu_count: lenient_u32(record.field("gpuNum")),
        gpu_model,
        region: record.nonempty_str("clusterName").or_else(|| record.nonempty_str("clusterId")).map(str::to_owned),
        sector: None,
        ip,
        ssh,
        created_at: created_at_iso(record.field("createdAt")),
        tags: None,
        pool: None,
        priority_level: None,
        managed_by: None,
        public_ipv4: None,
        billing_mode: record.nonempty_str("billingMode").map(BillingMode::parse),
        spot,
        offer_id: record.nonempty_str("productId").map(str::to_owned),
        started_at: created_at_iso(record.field("lastStartedAt")),
        stopped_at: created_at_iso(record.field("lastStoppedAt")),
        price: None,
        price_note: None,
        cost: None,
        deadline: None,
        deadline_error: None,
        deadline_mirror: None,
        raw: Default::default(),
    }
}

/// A record read the fast way: the required fields typed, every field [`from_record`] reads kept
/// as the JSON value it is (read leniently there, whatever its type; `null` reads as absent, as
/// it does there), everything else skipped.
#[derive(Deserialize)]
struct FastInstance<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(default, rename = "statusError")]
    status_error: Option<Value>,
    #[serde(default, rename = "productName")]
    product_name: Option<Value>,
    #[serde(default)]
    kind: Option<Value>,
    #[serde(default, rename = "connectComponentSSH")]
    connect_ssh: Option<Value>,
    #[serde(default, rename = "sshCommand")]
    ssh_command: Option<Value>,
    #[serde(default)]
    network: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(default, rename = "gpuNum")]
    gpu_num: Option<Value>,
    #[serde(default, rename = "clusterName")]
    cluster_name: Option<Value>,
    #[serde(default, rename = "clusterId")]
    cluster_id: Option<Value>,
    #[serde(default, rename = "createdAt")]
    created_at: Option<Value>,
    #[serde(default, rename = "billingMode")]
    billing_mode: Option<Value>,
    #[serde(default, rename = "spotStatus")]
    spot_status: Option<Value>,
    #[serde(default, rename = "spotReclaimTime")]
    spot_reclaim_time: Option<Value>,
    #[serde(default, rename = "productId")]
    product_id: Option<Value>,
    #[serde(default, rename = "lastStartedAt")]
    last_started_at: Option<Value>,
    #[serde(default, rename = "lastStoppedAt")]
    last_stopped_at: Option<Value>,
}

impl FastInstance<'_> {
    /// The instance, through [`from_record`] over just the fields it reads.
    fn into_instance(self) -> Option<Instance> {
        if self.id.trim().is_empty() {
            return None;
        }
        let (id, status) = (self.id.to_string(), self.status.to_string());
        Some(from_record(&self, id, status))
    }
}

impl Fields for FastInstance<'_> {
    fn field(&self, key: &str) -> Option<&Value> {
        match key {
            "statusError" => self.status_error.as_ref(),
            "productName" => self.product_name.as_ref(),
            "kind" => self.kind.as_ref(),
            "connectComponentSSH" => self.connect_ssh.as_ref(),
            "sshCommand" => self.ssh_command.as_ref(),
            "network" => self.network.as_ref(),
            "name" => self.name.as_ref(),
            "gpuNum" => self.gpu_num.as_ref(),
            "clusterName" => self.cluster_name.as_ref(),
            "clusterId" => self.cluster_id.as_ref(),
            "createdAt" => self.created_at.as_ref(),
            "billingMode" => self.billing_mode.as_ref(),
            "spotStatus" => self.spot_status.as_ref(),
            "spotReclaimTime" => self.spot_reclaim_time.as_ref(),
            "productId" => self.product_id.as_ref(),
            "lastStartedAt" => self.last_started_at.as_ref(),
            "lastStoppedAt" => self.last_stopped_at.as_ref(),
            // Every field from_record reads is above (the fast/slow equality tests hold them to it).
            _ => None,
        }
    }
}

/// The list envelope, read without a JSON tree.
#[derive(Deserialize)]
struct FastList<'a> {
    #[serde(default, borrow)]
    instances: Option<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    total: Option<&'a RawValue>,
}

/// [`parse_list_response`]'s items and `total` read the fast way, or `None` (then the slow way
/// decides: it also tells an error wrapped in a 200 from an answer).
pub(crate) fn fast_list(query: &NovitaListQuery, body: &Arc<[u8]>) -> Option<Page<Instance>> {
    if !is_object_text(body) || !skips_as_strictly(body) {
        return None;
    }
    let list: FastList = serde_json::from_slice(body).ok()?;
    let total = match list.total {
        None => None,
        Some(raw) => lenient_u64(&serde_json::from_str(raw.get()).ok()?),
    };
    let items = list
        .instances?
        .iter()
        .map(|r| fast_record(body, r, |wire: FastInstance| wire.into_instance()))
        .collect::<Option<Vec<_>>>()?;
    let (size, position) = page_params(query).ok()?;
    page_of(size, position, items, total).ok()
}

/// The GPU model in a product name: the name without its memory size and GPU count, e.g.
/// `RTX 4090 24GB` → `RTX 4090`, `H100 SXM 80GB` → `H100 SXM`, `8x A100 80G` → `A100`.
///
/// Heuristic: split on spaces; drop a leading count token (`8x`, `x8`); drop trailing memory
/// tokens (`24GB`, `80G`, `24 GB`, `(24GB)`) and a trailing count (`x8`, `*8`). The rest is the
/// model if it has a letter and a digit and is not a CPU product (`CPU …`, `… vCPU …`).
pub fn gpu_model_from_product_name(product_name: &str) -> Option<String> {
    let mut tokens: Vec<&str> = product_name.split_whitespace().collect();
    if tokens
        .iter()
        .any(|t| t.eq_ignore_ascii_case("cpu") || t.eq_ignore_ascii_case("vcpu") || t.to_ascii_lowercase().ends_with("vcpu"))
    {
        return None;
    }
    let is_count = |t: &str| {
        let t = t.to_ascii_lowercase();
        let digits = t.strip_suffix('x').or_else(|| t.strip_prefix('x')).or_else(|| t.strip_prefix('*'));
        digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let is_memory = |t: &str| {
        let t = t.trim_matches(|c| c == '(' || c == ')').to_ascii_lowercase();
        let num = t.strip_suffix("gib").or_else(|| t.strip_suffix("gb")).or_else(|| t.strip_suffix('g'));
        num.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    };
    let is_unit = |t: &str| {
        let t = t.trim_matches(|c| c == '(' || c == ')');
        t.eq_ignore_ascii_case("gb") || t.eq_ignore_ascii_case("gib")
    };
    if tokens.first().is_some_and(|t| is_count(t)) {
        tokens.remove(0);
    }
    loop {
        match tokens.last().copied() {
            Some(t) if is_memory(t) || is_count(t) => {
                tokens.pop();
            }
            Some(t) if is_unit(t) && tokens.len() >= 2 && is_memory(&format!("{}gb", tokens[tokens.len() - 2])) => {
                tokens.pop();
                tokens.pop();
            }
            _ => break,
        }
    }
    let model = tokens.join(" ");
    let has_letter = model.bytes().any(|b| b.is_ascii_alphabetic());
    let has_digit = model.bytes().any(|b| b.is_ascii_digit());
    (has_letter && has_digit).then_some(model)
}

/// Reads an SSH command such as `ssh root@203.0.113.7 -p 31234` (options before or after the
/// destination, `-l user`, `-p22`, `ssh://user@host:port`) into [`SshInfo`]; the port is 22
/// when none is given. `None` when it is not an `ssh` command or names no host.
pub fn parse_ssh_command(command: &str) -> Option<SshInfo> {
    // ssh options that take an argument (OpenSSH ssh(1)).
    const WITH_ARG: &[u8] = b"BbcDEeFIiJLlmOopQRSWw";
    let command = command.trim();
    let mut tokens = command.split_whitespace();
    let program = tokens.next()?;
    if program != "ssh" && !program.ends_with("/ssh") {
        return None;
    }
    let (mut user, mut port, mut dest): (Option<String>, Option<u16>, Option<&str>) = (None, None, None);
    while let Some(token) = tokens.next() {
        if let Some(flags) = token.strip_prefix('-').filter(|f| !f.is_empty()) {
            if flags == "-" {
                continue;
            }
            for (i, flag) in flags.bytes().enumerate() {
                if WITH_ARG.contains(&flag) {
                    let inline = &flags[i + 1..];
                    let value = if inline.is_empty() { tokens.next()? } else { inline };
                    match flag {
                        b'p' => port = Some(value.parse().ok().filter(|p| *p != 0)?),
                        b'l' => user = Some(value.to_owned()),
                        _ => {}
                    }
                    break;
                }
            }
        } else if dest.is_none() {
            dest = Some(token);
        } else {
            break; // the remote command follows the destination
        }
    }
    let mut dest = dest?;
    let mut uri_port = None;
    if let Some(rest) = dest.strip_prefix("ssh://") {
        let rest = rest.trim_end_matches('/');
        // `[v6::addr]:port` keeps its colons inside the brackets.
        let (host_part, port_part) = match rest.rfind(']') {
            Some(end) => (&rest[..=end], rest[end + 1..].strip_prefix(':')),
            None => match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            },
        };
        if let Some(p) = port_part {
            uri_port = Some(p.parse::<u16>().ok().filter(|p| *p != 0)?);
        }
        dest = host_part;
    }
    let host = match dest.rsplit_once('@') {
        Some((u, h)) => {
            if !u.is_empty() {
                user = Some(u.to_owned());
            }
            h
        }
        None => dest,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':')) {
        return None;
    }
    Some(SshInfo { host: host.to_owned(), port: port.or(uri_port).unwrap_or(22), user, command: Some(command.to_owned()) })
}

/// A Unix time (seconds, or milliseconds when ≥ 10¹², as a number or numeric text) as ISO 8601;
/// `None` for 0, negatives (`-1` means "none" to Novita) and anything else.
fn unix_time_iso(v: Option<&Value>) -> Option<String> {
    let n = match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    if n <= 0 {
        return None;
    }
    let secs = if n >= 1_000_000_000_000 { n / 1000 } else { n };
    Some(unix_seconds_to_iso(secs))
}

/// `createdAt` (and `spotReclaimTime`) as ISO 8601: Unix seconds (number or numeric text) are
/// converted, an ISO string (`2025-02-08T…`) is kept as it is, anything else is dropped.
fn created_at_iso(v: Option<&Value>) -> Option<String> {
    if let Some(Value::String(s)) = v {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
            return Some(s.to_owned());
        }
    }
    unix_time_iso(v)
}

// ---------------------------------------------------------------------------------------------
// Money: the product catalog (prices), the account balance
// ---------------------------------------------------------------------------------------------

/// Novita's price unit: `price` and `spotPrice` of a product are in 1/100,000 USD per GPU-hour.
/// The docs do not state the unit; this is the reading of a third-party live test (see
/// PROVIDERS.md, "Money"). A converted price outside [`PLAUSIBLE_MICRO_PER_GPU_HOUR`] is not
/// shown (the unit would then be another), so a wrong assumption shows as "no price", never as
/// a wrong one.
pub const PRICE_UNITS_PER_USD: i64 = 100_000;

/// Novita's balance unit (documented): 1/10,000 USD, so `10000` is $1.00.
pub const BALANCE_UNITS_PER_USD: i64 = 10_000;

/// GPU-hour prices believed: $0.01 to $100 per GPU-hour, in micro-dollars.
pub const PLAUSIBLE_MICRO_PER_GPU_HOUR: std::ops::RangeInclusive<i64> = 10_000..=100_000_000;

/// `GET /products`: the GPU product catalog (every product; the filters are not used, so one
/// cached answer prices every instance).
pub fn build_products_request(config: &ProviderConfig) -> Result<HttpRequest> {
    Ok(authed(Method::Get, config.url("/products"), config))
}

/// One product of the catalog, its prices converted to micro-dollars per GPU-hour (or why
/// there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// `id`: what `productId` names.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `availableDeploy`.
    pub available: Option<bool>,
    /// The cluster ids of `regions` (a list of ids, of `{id}` objects, or an object keyed by id).
    pub regions: Vec<String>,
    /// `billingMethods`, when given.
    pub billing_methods: Option<Vec<String>>,
    /// On-demand price per GPU-hour (`price`), or why none.
    pub on_demand: std::result::Result<i64, String>,
    /// Spot price per GPU-hour (`spotPrice`), or why none.
    pub spot: std::result::Result<i64, String>,
    /// The product as received.
    pub raw: Value,
}

/// Reads the catalog (`{"data": [product…]}`).
pub fn parse_products_response(response: HttpResponse) -> Result<Vec<Product>> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let value = parse_json(P, &response.body)?;
    let Some(items) = value.get("data").and_then(Value::as_array) else {
        return Err(Error::decode(P, "data", "expected the product list (an array)"));
    };
    let mut products = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let Some(id) = item.get("id").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
            return Err(Error::decode(P, format!("data[{n}].id"), "expected the product id (a non-empty string)"));
        };
        let regions = match item.get("regions") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|r| r.as_str().or_else(|| r.get("id").and_then(Value::as_str)).map(str::to_owned))
                .collect(),
            Some(Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let billing_methods = item
            .get("billingMethods")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect::<Vec<_>>());
        let offers_method = |m: &str| billing_methods.as_ref().map_or(true, |l| l.iter().any(|x| x == m));
        let on_demand = if offers_method("onDemand") {
            gpu_hour_price(item.get("price"), "price")
        } else {
            Err("not offered on demand (billingMethods)".to_owned())
        };
        let spot = if billing_methods.as_ref().is_some_and(|l| !l.iter().any(|x| x == "spot")) {
            Err("not offered as spot (billingMethods)".to_owned())
        } else {
            gpu_hour_price(item.get("spotPrice"), "spotPrice")
        };
        products.push(Product {
            id: id.to_owned(),
            name: item.get("name").and_then(Value::as_str).unwrap_or(id).to_owned(),
            available: item.get("availableDeploy").and_then(Value::as_bool),
            regions,
            billing_methods,
            on_demand,
            spot,
            raw: item.clone(),
        });
    }
    Ok(products)
}

/// A product's `price`/`spotPrice` (a whole number of 1/100,000 USD, as a number or text) in
/// micro-dollars per GPU-hour, or why it is not shown.
fn gpu_hour_price(value: Option<&Value>, field: &str) -> std::result::Result<i64, String> {
    let value = match value {
        None | Some(Value::Null) => return Err(format!("no {field} in Novita's catalog")),
        Some(v) => v,
    };
    let units = crate::money::json_integer(value).map_err(|rule| format!("Novita's {field} {value} {rule}; not shown"))?;
    if units == 0 {
        return Err(format!("no {field} in Novita's catalog (0)"));
    }
    if units < 0 {
        return Err(format!("Novita's {field} {units} is negative; not shown"));
    }
    let micro = crate::money::units_to_micro(units, PRICE_UNITS_PER_USD).unwrap_or(i64::MAX);
    if !PLAUSIBLE_MICRO_PER_GPU_HOUR.contains(&micro) {
        return Err(format!(
            "Novita's {field} {units}, read as 1/{PRICE_UNITS_PER_USD} USD per GPU-hour, is ${} per GPU-hour: outside \
             $0.01–$100, so its unit is not the one assumed; not shown",
            crate::money::micro_to_usd(micro)
        ));
    }
    Ok(micro)
}

/// The offers of a catalog: each product on demand and, where it has a spot price, as spot.
pub fn offers_of(products: &[Product]) -> Vec<crate::model::Offer> {
    use crate::model::{Offer, OfferUnit, Price, PriceSource};
    let mut offers = Vec::with_capacity(products.len() * 2);
    for p in products {
        let gpu_model = gpu_model_from_product_name(&p.name);
        let mut push = |billing: BillingMode, price: &std::result::Result<i64, String>| {
            let (price, note) = match price {
                Ok(micro) => {
                    (Some(Price::new(*micro, PriceSource::Catalog, Some("per GPU-hour, Novita's catalog".into()))), None)
                }
                Err(why) => (None, Some(why.clone())),
            };
            offers.push(Offer {
                provider: P,
                id: p.id.clone(),
                name: p.name.clone(),
                gpu_model: gpu_model.clone(),
                gpu_count: None,
                max_gpu_count: Some(8),
                regions: p.regions.clone(),
                billing,
                available: p.available,
                price,
                // Novita prices every product per GPU-hour.
                unit: OfferUnit::Gpu,
                price_note: note,
                raw: p.raw.clone(),
            });
        };
        push(BillingMode::OnDemand, &p.on_demand);
        if p.spot.is_ok() {
            push(BillingMode::Spot, &p.spot);
        }
    }
    offers
}

/// The hourly price of `instance` from its product (`productId`), for its billing mode and
/// GPU count; or why there is none.
pub fn price_from_catalog(products: &[Product], instance: &Instance) -> std::result::Result<crate::model::Price, String> {
    use crate::model::{Price, PriceSource};
    let Some(product_id) = instance.offer_id.as_deref() else {
        return Err("the record names no productId".into());
    };
    let Some(product) = products.iter().find(|p| p.id == product_id) else {
        // List GPU Products has no CPU products: a CPU instance is priced only by the table.
        return Err(format!(
            "product {product_id} is not in Novita's catalog (List GPU Products; CPU products are not in it): set \
             prices.novita[\"{product_id}\"]"
        ));
    };
    let (per_gpu, mode) = match &instance.billing_mode {
        Some(BillingMode::Monthly) => return Err("billed monthly (prepaid): no hourly price".into()),
        Some(BillingMode::Spot) => (&product.spot, "spot"),
        _ => (&product.on_demand, "on demand"),
    };
    let per_gpu = per_gpu.clone()?;
    // An unknown GPU count is not taken as 1: that would be a guess shown as a price.
    let Some(gpus) = instance.gpu_count.filter(|n| *n > 0) else {
        return Err("the record names no GPU count (gpuNum), so the per-GPU price cannot be multiplied".into());
    };
    let basis = format!("{gpus} × ${} per GPU-hour ({mode}, Novita's catalog)", crate::money::micro_to_usd(per_gpu));
    Ok(Price::new(per_gpu.saturating_mul(i64::from(gpus)), PriceSource::Catalog, Some(basis)))
}

/// `GET https://api.novita.ai/openapi/v1/billing/balance/detail` (beside the GPU API: the base
/// URL's `/gpu-instance/openapi/v1` becomes `/openapi/v1/billing/balance/detail`).
pub fn build_balance_request(config: &ProviderConfig) -> Result<HttpRequest> {
    let url = config.sibling_url("/gpu-instance/openapi/v1", "/openapi/v1/billing/balance/detail");
    Ok(authed(Method::Get, url, config))
}

/// Reads the balance: `availableBalance` and the other figures, strings of 1/10,000 USD.
pub fn parse_balance_response(response: HttpResponse) -> Result<crate::model::Balance> {
    use crate::model::{Balance, Money};
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let value = parse_json(P, &response.body)?;
    let Some(fields) = value.as_object() else {
        return Err(Error::decode(P, "", "expected an object"));
    };
    let amount = |key: &str| -> Result<Option<Money>> {
        match fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let units = crate::money::json_integer(v).map_err(|rule| Error::decode(P, key, rule))?;
                let micro = crate::money::units_to_micro(units, BALANCE_UNITS_PER_USD)
                    .ok_or_else(|| Error::decode(P, key, "is too large"))?;
                Ok(Some(Money::from_micro(micro)))
            }
        }
    };
    let Some(available) = amount("availableBalance")? else {
        return Err(Error::decode(P, "availableBalance", "missing field `availableBalance`"));
    };
    let mut details = std::collections::BTreeMap::new();
    for key in ["cashBalance", "creditLimit", "pendingCharges", "outstandingInvoices"] {
        if let Some(m) = amount(key)? {
            details.insert(key.to_owned(), m);
        }
    }
    Ok(Balance { provider: P, available, currency: "USD".into(), details, raw: value })
}

// ---------------------------------------------------------------------------------------------
// Money: billed usage of one instance
// ---------------------------------------------------------------------------------------------

/// Novita bills usage hour by hour; one billed-usage query may span at most 31 days ("Query
/// Usage-based Billing": no pagination, split longer ranges).
pub const BILL_WINDOW_SECS: i64 = 31 * 86_400;

/// The billed-usage queries for an instance created at `created_secs`, as `(startTime,
/// endTime)` pairs, newest first, at most `max`. Bills are per UTC clock hour
/// (`startTime` = the hour, `endTime` = the hour + 3599), so every window runs from a whole
/// hour to the second before a whole hour: the first starts at `created_secs` floored to the
/// hour (the hour the instance was created in has a bill too), the last ends with the current
/// hour, and each is at most [`BILL_WINDOW_SECS`] long. Whether the server selects bills by
/// start, by end or by overlap, each bill then falls in exactly one window: none is missed or
/// counted twice.
pub fn bill_windows(created_secs: i64, now_secs: i64, max: usize) -> Vec<(i64, i64)> {
    const HOUR: i64 = 3600;
    let first = created_secs.max(0).div_euclid(HOUR) * HOUR;
    let end = now_secs.saturating_add(HOUR - 1).div_euclid(HOUR) * HOUR;
    let count = if end > first { (end - first - 1) / BILL_WINDOW_SECS + 1 } else { 0 };
    let newest = i64::try_from(max).unwrap_or(i64::MAX).min(count);
    (count - newest..count)
        .rev()
        .map(|k| {
            let start = first + k * BILL_WINDOW_SECS;
            (start, start.saturating_add(BILL_WINDOW_SECS).min(end) - 1)
        })
        .collect()
}

/// `GET https://api.novita.ai/openapi/v1/billing/bill/list?cycleType=Hour&productCategory=gpu&
/// startTime=…&endTime=…&ownerId=<instance>`: the pay-as-you-go bills of one instance between
/// two Unix times (at most [`BILL_WINDOW_SECS`] apart).
pub fn build_bill_request(id: &str, start_secs: i64, end_secs: i64, config: &ProviderConfig) -> Result<HttpRequest> {
    validate_id(id)?;
    if start_secs < 0 || end_secs <= start_secs || end_secs - start_secs > BILL_WINDOW_SECS {
        return Err(Error::invalid_input("startTime", "must be before endTime, at most 31 days apart"));
    }
    let query = query_string(&[
        ("cycleType", "Hour".to_owned()),
        ("productCategory", "gpu".to_owned()),
        ("startTime", start_secs.to_string()),
        ("endTime", end_secs.to_string()),
        ("ownerId", id.to_owned()),
    ]);
    let url = config.sibling_url("/gpu-instance/openapi/v1", &format!("/openapi/v1/billing/bill/list{query}"));
    Ok(authed(Method::Get, url, config))
}

/// What one billed-usage answer says about one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BilledUsage {
    /// The sum of the bills' `amount` (before vouchers), in micro-dollars.
    pub micro_usd: i64,
    /// The earliest bill's `startTime` (Unix seconds), if any bill had one.
    pub first_start: Option<i64>,
    /// How many bills were summed.
    pub bills: u32,
}

/// Sums `{"bills":[{"ownerID","amount",…}]}` for instance `id`: amounts are 1/10,000 USD (as
/// text or numbers); a bill of another owner (a server that ignored `ownerId`) is not counted;
/// a negative or non-numeric amount fails the whole answer, naming `bills[i].amount`, so a
/// wrong total is never shown.
pub fn parse_bill_response(id: &str, response: HttpResponse) -> Result<BilledUsage> {
    if !response.is_success() {
        return Err(parse_error(&response));
    }
    let value = parse_json(P, &response.body)?;
    let bills = match value.get("bills").or_else(|| value.get("data")) {
        Some(Value::Array(bills)) => bills.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err(Error::decode(P, "bills", "expected an array")),
    };
    let mut usage = BilledUsage::default();
    for (i, bill) in bills.iter().enumerate() {
        let owner = bill.get("ownerID").or_else(|| bill.get("ownerId")).and_then(Value::as_str);
        if owner.is_some_and(|o| o != id) {
            continue;
        }
        let field = format!("bills[{i}].amount");
        let units = crate::money::json_integer(bill.get("amount").unwrap_or(&Value::Null))
            .map_err(|rule| Error::decode(P, &field, rule))?;
        if units < 0 {
            return Err(Error::decode(P, &field, "must not be negative"));
        }
        let micro = crate::money::units_to_micro(units, BALANCE_UNITS_PER_USD)
            .and_then(|m| usage.micro_usd.checked_add(m))
            .ok_or_else(|| Error::decode(P, &field, "is too large"))?;
        usage.micro_usd = micro;
        usage.bills += 1;
        if let Some(start) = bill.get("startTime").and_then(|v| crate::money::json_integer(v).ok()).filter(|s| *s > 0) {
            usage.first_start = Some(usage.first_start.map_or(start, |f: i64| f.min(start)));
        }
    }
    Ok(usage)
}
