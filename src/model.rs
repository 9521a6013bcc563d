//! Provider-neutral public types: what TypeScript and Rust users see.
//!
//! Every type here is serde (camelCase) and Tsify, so the `.d.ts` is generated from these
//! definitions and their doc comments. Input types reject unknown fields, so a misspelt option is
//! an `invalidInput` error rather than silently ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tsify::Tsify;

use crate::error::{Error, ErrorDetail};
use crate::provider_id::Provider;
pub use crate::raw::Raw;

/// The normalized lifecycle state of an instance, the same words for every provider.
///
/// The provider's own word is always kept in `Instance.providerStatus`; a value a provider adds
/// tomorrow maps to `"unknown"`, never to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted, waiting to be scheduled.
    Pending,
    /// Being created, booted, started or restarted.
    Provisioning,
    /// Up and usable.
    Running,
    /// On its way to `stopped`.
    Stopping,
    /// Stopped; can be started again where the provider supports it.
    Stopped,
    /// Being removed.
    Terminating,
    /// Gone or finally ended; cannot come back.
    Terminated,
    /// Broken (hardware fault, failed creation); `statusReason` says why when the provider does.
    Failed,
    /// A state the provider reports that gpufleet does not recognise (see `providerStatus`).
    Unknown,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 9] = [
        Status::Pending,
        Status::Provisioning,
        Status::Running,
        Status::Stopping,
        Status::Stopped,
        Status::Terminating,
        Status::Terminated,
        Status::Failed,
        Status::Unknown,
    ];

    /// The lowercase name, e.g. `"running"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Provisioning => "provisioning",
            Status::Running => "running",
            Status::Stopping => "stopping",
            Status::Stopped => "stopped",
            Status::Terminating => "terminating",
            Status::Terminated => "terminated",
            Status::Failed => "failed",
            Status::Unknown => "unknown",
        }
    }

    /// Parses a lowercase name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether the instance can no longer change by itself (`terminated` or `failed`).
    pub fn is_final(self) -> bool {
        matches!(self, Status::Terminated | Status::Failed)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to reach an instance over SSH, when the provider says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SshInfo {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Login user, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A ready-to-paste command such as `ssh -p 22 root@203.0.113.7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// Open string enums: the documented values as variants, any other value kept verbatim in `Other`
/// (a value a provider adds tomorrow survives as its string, never an error). Each is read and
/// written as the bare string, so `Other("spot")` and `Spot` are told apart only by `parse`, which
/// always picks the named variant.
macro_rules! open_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The documented values, in the provider's order.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The provider's word, e.g. `"notified"` (an `Other` value as it was received).
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }

            /// Reads a provider's word; anything undocumented is `Other` with the text kept.
            pub fn parse(s: &str) -> $name {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Whether the value is one of the documented ones.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok($name::parse(&s))
            }
        }
    };
}

/// SF Compute's `priority_level`: which instances are kept when a pool's quota drops below its
/// running-instance count (lower levels are terminated first): `yield < normal < preferred <
/// critical`. Any other word is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Tsify)]
#[tsify(type = "\"yield\" | \"normal\" | \"preferred\" | \"critical\" | (string & {})")]
pub enum PriorityLevel {
    /// Terminated first.
    Yield,
    /// The default.
    Normal,
    /// Kept before `normal`.
    Preferred,
    /// Kept longest.
    Critical,
    /// A value gpufleet does not know, as received.
    Other(String),
}

open_enum!(PriorityLevel { Yield => "yield", Normal => "normal", Preferred => "preferred", Critical => "critical" });

/// How an instance is billed (Novita `billingMode`). Any other word is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Tsify)]
#[tsify(type = "\"onDemand\" | \"monthly\" | \"spot\" | (string & {})")]
pub enum BillingMode {
    /// Pay as you go.
    OnDemand,
    /// Prepaid by the month.
    Monthly,
    /// Spot: cheaper, and the provider may reclaim it (see `Instance.spot`).
    Spot,
    /// A value gpufleet does not know, as received.
    Other(String),
}

open_enum!(BillingMode { OnDemand => "onDemand", Monthly => "monthly", Spot => "spot" });

/// Where a spot instance is in its reclaim (Novita `spotStatus`). Any other word is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Tsify)]
#[tsify(type = "\"running\" | \"notified\" | \"reclaiming\" | \"terminated\" | (string & {})")]
pub enum SpotStatus {
    /// Running, no reclaim scheduled.
    Running,
    /// A reclaim is scheduled (`reclaimAt`); Novita gives an hour's notice.
    Notified,
    /// Being reclaimed now.
    Reclaiming,
    /// Reclaimed.
    Terminated,
    /// A value gpufleet does not know, as received.
    Other(String),
}

open_enum!(SpotStatus { Running => "running", Notified => "notified", Reclaiming => "reclaiming", Terminated => "terminated" });

/// The hardware pool an instance runs on (SF Compute `pool`; the deprecated `capacity` when the
/// record has no pool, so the id is then a `cap_…` id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PoolRef {
    /// The pool's id (`pool_…`), or the capacity's (`cap_…`).
    pub id: String,
    /// Its name, when the provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What manages an instance (SF Compute `managed_by`, or the seed-era `deployment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ManagedBy {
    /// The provider's kind of manager, e.g. `deployment` or `spot_deployment` (SF Compute's
    /// `object`); any other word is kept as it is.
    #[tsify(type = "\"deployment\" | \"spot_deployment\" | (string & {})")]
    pub kind: String,
    /// The manager's id (`depl_…`, `spot_…`).
    pub id: String,
    /// Its name, when the provider gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The reclaim state of a spot instance (Novita `spotStatus` / `spotReclaimTime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SpotInfo {
    /// Where the reclaim stands.
    pub status: SpotStatus,
    /// When the provider will reclaim the instance, ISO 8601 in UTC; absent while no reclaim is
    /// scheduled (Novita sends `"0"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_at: Option<String>,
}

/// One GPU instance on one provider, normalized. `raw` keeps the provider's whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// Which provider it lives on.
    pub provider: Provider,
    /// The provider's id (fal `inst_…` or a UUID on alpha, SF Compute `inst_…`, Novita's id).
    pub id: String,
    /// Display name, where the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Normalized status.
    pub status: Status,
    /// The provider's own status word, unchanged (e.g. `ready`, `awaiting_allocation`, `toStop`).
    pub provider_status: String,
    /// Why the instance is in this state, when the provider says (e.g. Novita `statusError.message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Machine type or product (fal `instance_type`, SF Compute SKU, Novita `productName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Number of GPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_count: Option<u32>,
    /// GPU model, e.g. `H100 SXM5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    /// Region or cluster (fal `region`, Novita cluster name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Placement within the region (fal `sector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// Public IP address, once assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// SSH access, when the provider's record includes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshInfo>,
    /// Creation time, ISO 8601 in UTC (e.g. `2025-02-08T00:00:00Z`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Key/value tags (SF Compute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "Record<string, string>")]
    pub tags: Option<BTreeMap<String, String>>,
    /// The hardware pool (SF Compute `pool`, else its deprecated `capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolRef>,
    /// Which instances are kept first when capacity shrinks (SF Compute `priority_level`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_level: Option<PriorityLevel>,
    /// The deployment or spot deployment that manages the instance (SF Compute `managed_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<ManagedBy>,
    /// Whether the instance asked for a public IPv4 address (SF Compute `enable_public_ipv4`;
    /// without one only SSH is reachable). The address itself, once assigned, is `ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ipv4: Option<bool>,
    /// How the instance is billed (Novita `billingMode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode: Option<BillingMode>,
    /// The reclaim state of a spot instance (Novita `spotStatus`, `spotReclaimTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<SpotInfo>,
    /// The id to find this instance's offer by in `offers()` (Novita `productId`, SF Compute
    /// SKU id, fal instance type): what it was created from, and what its price is looked up by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// When it last started running, ISO 8601 in UTC (Novita `lastStartedAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it last stopped, ISO 8601 in UTC (Novita `lastStoppedAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<String>,
    /// What it costs per hour while it runs, and where that figure comes from; absent when it
    /// cannot be known (then `priceNote` says why). Never a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// Why there is no `price` (e.g. `no price configured for fal gpu_1x_h100_sxm5`), or a
    /// caveat about the one there is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_note: Option<String>,
    /// What its current run has cost so far (running instances with a `price`): an estimate,
    /// `price` × the time since it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    // The records' three fields are boxed: set on few instances and large, unboxed they made
    // every instance of a listing two thirds larger (1,432 bytes against 880, natively) to build,
    // move and drop, which the proxy's 1,000-instance answer measurably paid.
    /// The instance's deadline as the proxy keeps it (pending, fired or failed: `state`,
    /// `action`, `atMs`, `attempts`, `lastError`, `firedAtMs`), the same record `deadlines()`
    /// lists. Only in answers from a gpufleet proxy that keeps records (a D1 database): a direct
    /// `Fleet`, or a proxy without records, never sets it, so there its absence says nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "Deadline")]
    pub deadline: Option<Box<Deadline>>,
    /// Only on the answer to a create given a deadline: the instance **was created**, but its
    /// deadline could not be stored (the proxy also answers `X-Gpufleet-Deadline: failed`). Do not
    /// create it again; set the deadline with `setDeadline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "ErrorInfo")]
    pub deadline_error: Option<Box<Error>>,
    /// Only on the answer to an SF Compute create given a deadline: how the deadline was copied
    /// into the instance's `gpufleet-deadline` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "TagMirror")]
    pub deadline_mirror: Option<Box<TagMirror>>,
    /// The provider's full record exactly as received, unknown fields included. (In JavaScript
    /// it is read lazily: the record's text is parsed the first time `raw` is read.)
    #[tsify(type = "Record<string, unknown>")]
    pub raw: Raw,
}

impl Instance {
    /// An instance with only the fields every provider gives (everything else absent, `raw`
    /// `null`): the starting point the provider modules fill in.
    pub fn new(provider: Provider, id: impl Into<String>, status: Status, provider_status: impl Into<String>) -> Instance {
        Instance {
            provider,
            id: id.into(),
            name: None,
            status,
            provider_status: provider_status.into(),
            status_reason: None,
            instance_type: None,
            gpu_count: None,
            gpu_model: None,
            region: None,
            sector: None,
            ip: None,
            ssh: None,
            created_at: None,
            tags: None,
            pool: None,
            priority_level: None,
            managed_by: None,
            public_ipv4: None,
            billing_mode: None,
            spot: None,
            offer_id: None,
            started_at: None,
            stopped_at: None,
            price: None,
            price_note: None,
            cost: None,
            deadline: None,
            deadline_error: None,
            deadline_mirror: None,
            raw: Raw::default(),
        }
    }
}

// ----- deadlines ------------------------------------------------------------------------------
// Kept and fired by the proxy (`crate::store`, `crate::deadlines`); defined here because the
// proxy's answers carry them on instances (`Instance.deadline`).

/// What a deadline does to its instance: the end the provider supports (Novita stops, SF
/// Compute terminates, fal deletes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum DeadlineAction {
    /// Stop the instance (Novita; it can be started again, its disk kept).
    Stop,
    /// Terminate it for good (SF Compute).
    Terminate,
    /// Delete it (fal, fal alpha; Novita too, when asked for).
    Delete,
}

impl DeadlineAction {
    /// The action's name, e.g. `"stop"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineAction::Stop => "stop",
            DeadlineAction::Terminate => "terminate",
            DeadlineAction::Delete => "delete",
        }
    }

    /// Reads `"stop"`, `"terminate"` or `"delete"`.
    pub fn parse(text: &str) -> Result<DeadlineAction, Error> {
        match text {
            "stop" => Ok(DeadlineAction::Stop),
            "terminate" => Ok(DeadlineAction::Terminate),
            "delete" => Ok(DeadlineAction::Delete),
            _ => Err(Error::invalid_input("action", "must be stop, terminate or delete")),
        }
    }

    /// The client operation that carries the action out.
    pub fn operation(self) -> Operation {
        match self {
            DeadlineAction::Stop => Operation::Stop,
            DeadlineAction::Terminate => Operation::Terminate,
            DeadlineAction::Delete => Operation::Delete,
        }
    }
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum DeadlineState {
    /// Waiting for its time (or for a retry).
    Pending,
    /// Fired: the action was done (or the instance was already gone or ended).
    Done,
    /// Given up after [`MAX_ATTEMPTS`](crate::store::MAX_ATTEMPTS) failed attempts; `lastError`
    /// says why.
    Failed,
}

/// One instance's deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Deadline {
    /// The provider.
    pub provider: Provider,
    /// The instance.
    pub instance_id: String,
    /// Its name when the deadline was set (for the log; names can change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    /// When it fires (ms since the Unix epoch).
    pub at_ms: u64,
    /// What it does.
    pub action: DeadlineAction,
    /// Who set it (a caller name).
    pub set_by: String,
    /// When it was set.
    pub set_at_ms: u64,
    /// Where it stands.
    pub state: DeadlineState,
    /// Attempts so far (a claim counts one).
    pub attempts: u32,
    /// Not before this time (the retry backoff; `at_ms` at first).
    pub next_attempt_ms: u64,
    /// Who holds it, while an attempt runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    /// Until when the holder holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until_ms: Option<u64>,
    /// The last attempt's failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it fired (state `done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fired_at_ms: Option<u64>,
}

impl Deadline {
    /// A pending deadline for `instance_id` at `at_ms`.
    pub fn new(
        provider: Provider,
        instance_id: &str,
        at_ms: u64,
        action: DeadlineAction,
        set_by: &str,
        set_at_ms: u64,
    ) -> Deadline {
        Deadline {
            provider,
            instance_id: instance_id.to_owned(),
            instance_name: None,
            at_ms,
            action,
            set_by: set_by.to_owned(),
            set_at_ms,
            state: DeadlineState::Pending,
            attempts: 0,
            next_attempt_ms: at_ms,
            lease_owner: None,
            lease_until_ms: None,
            last_error: None,
            fired_at_ms: None,
        }
    }

    /// Whether a claim at `now_ms` may take it.
    pub fn claimable(&self, now_ms: u64) -> bool {
        self.state == DeadlineState::Pending
            && self.at_ms <= now_ms
            && self.next_attempt_ms <= now_ms
            && self.lease_until_ms.map_or(true, |until| until <= now_ms)
    }
}

/// How a deadline was mirrored into the instance's own tags (SF Compute, tag
/// `gpufleet-deadline`, value `<ISO time> <action>`): a copy for whoever looks at the instance in
/// SF Compute's tools. The proxy's record stays what fires; a failed mirror does not fail the
/// deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct TagMirror {
    /// The tag's key, `gpufleet-deadline`.
    pub tag: String,
    /// The value written; absent when the tag was removed (the deadline was cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether the instance's tags now say what its deadline says.
    pub ok: bool,
    /// Why not (the instance could not be read or its tags not written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "ErrorInfo")]
    pub error: Option<Error>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page. Opaque: it encodes the
    /// provider's own scheme (fal `cursor`, SF Compute `starting_after`, Novita page number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Whether more pages follow.
    pub has_more: bool,
    /// Total number of items across pages, when the provider reports it (Novita).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Options for listing fal v1 instances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FalListQuery {
    /// Page size (≥ 1). The API's maximum is undocumented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `nextCursor` from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Options for listing fal alpha instances: the alpha API has no filters and returns one page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FalAlphaListQuery {
    /// Must be absent: the alpha API returns everything in one page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Options for listing SF Compute instances (every filter of `GET /preview/v2/instances`).
///
/// List filters are sent as repeated query keys (`status=running&status=failed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SfcListQuery {
    /// Workspace id (`wksp_…`) or resource path (`sfc:workspace:<account>:<name>`); defaults to the
    /// configured workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Page size, 1–200 (provider default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `nextCursor` from the previous page (sent as `starting_after`, `nodec_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Cursor for backward pagination (`nodec_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending_before: Option<String>,
    /// Only these instance ids (`inst_…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id: Vec<String>,
    /// Only instances on these capacities (`cap_…` or `sfc:capacity:…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<String>,
    /// Only instances in these pools (newer API versions' name for capacities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pool: Vec<String>,
    /// Only these provider statuses: `awaiting_allocation`, `running`, `terminated`, `failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<String>,
    /// Only instances created at or after this Unix time (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_after: Option<i64>,
    /// Only instances created at or before this Unix time (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<i64>,
    /// Only instances on these SKUs (`isku_…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_sku: Vec<String>,
    /// Extra fields to include; only `cloud_init_user_data` exists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Tag filters as `key=value` (the `=` is percent-encoded on the wire).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<String>,
    /// Only instances that have a tag with this key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_key: Vec<String>,
}

/// Options for listing Novita instances (`GET /gpu/instances`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NovitaListQuery {
    /// Page size (`pageSize`), 1–100; default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `nextCursor` from the previous page (a page number, `pageNum`, counted from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Fuzzy match on the instance name (0–255 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fuzzy match on the product name (0–255 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// One Novita status, e.g. `running` or `exited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A provider-specific list query, tagged by provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListQuery {
    /// fal v1.
    Fal(FalListQuery),
    /// fal alpha.
    FalAlpha(FalAlphaListQuery),
    /// SF Compute.
    Sfcompute(SfcListQuery),
    /// Novita.
    Novita(NovitaListQuery),
}

impl ListQuery {
    /// The provider this query is for.
    pub fn provider(&self) -> Provider {
        match self {
            ListQuery::Fal(_) => Provider::Fal,
            ListQuery::FalAlpha(_) => Provider::FalAlpha,
            ListQuery::Sfcompute(_) => Provider::Sfcompute,
            ListQuery::Novita(_) => Provider::Novita,
        }
    }

    /// An empty query (first page, no filters) for `provider`.
    pub fn first_page(provider: Provider) -> ListQuery {
        match provider {
            Provider::Fal => ListQuery::Fal(FalListQuery::default()),
            Provider::FalAlpha => ListQuery::FalAlpha(FalAlphaListQuery::default()),
            Provider::Sfcompute => ListQuery::Sfcompute(SfcListQuery::default()),
            Provider::Novita => ListQuery::Novita(NovitaListQuery::default()),
        }
    }

    /// The same query asking for pages of `limit` instances, where the provider takes a page
    /// size (fal alpha returns one page and takes none).
    pub fn with_limit(&self, limit: u32) -> ListQuery {
        let mut q = self.clone();
        match &mut q {
            ListQuery::Fal(q) => q.limit = Some(limit),
            ListQuery::FalAlpha(_) => {}
            ListQuery::Sfcompute(q) => q.limit = Some(limit),
            ListQuery::Novita(q) => q.limit = Some(limit),
        }
        q
    }

    /// Reads a provider's query from JSON (e.g. a JS object); unknown fields are an
    /// `invalidInput` error naming them.
    pub fn from_json(provider: Provider, value: serde_json::Value) -> Result<ListQuery, Error> {
        let value = if value.is_null() { serde_json::Value::Object(Default::default()) } else { value };
        Ok(match provider {
            Provider::Fal => ListQuery::Fal(input_from_json("query", value)?),
            Provider::FalAlpha => ListQuery::FalAlpha(input_from_json("query", value)?),
            Provider::Sfcompute => ListQuery::Sfcompute(input_from_json("query", value)?),
            Provider::Novita => ListQuery::Novita(input_from_json("query", value)?),
        })
    }

    /// The cursor this query starts from.
    pub fn cursor(&self) -> Option<&str> {
        match self {
            ListQuery::Fal(q) => q.cursor.as_deref(),
            ListQuery::FalAlpha(q) => q.cursor.as_deref(),
            ListQuery::Sfcompute(q) => q.cursor.as_deref(),
            ListQuery::Novita(q) => q.cursor.as_deref(),
        }
    }

    /// The same query starting from `cursor` (filters kept).
    pub fn with_cursor(&self, cursor: Option<String>) -> ListQuery {
        let mut q = self.clone();
        match &mut q {
            ListQuery::Fal(q) => q.cursor = cursor,
            ListQuery::FalAlpha(q) => q.cursor = cursor,
            ListQuery::Sfcompute(q) => q.cursor = cursor,
            ListQuery::Novita(q) => q.cursor = cursor,
        }
        q
    }
}

/// Deserializes an input type from JSON, turning serde's complaint into an `invalidInput`
/// error that names the field (`prefix.path`).
pub fn input_from_json<T: serde::de::DeserializeOwned>(prefix: &str, value: serde_json::Value) -> Result<T, Error> {
    // serde reads a struct from an array too (positionally), so `["wksp_1", 5]` would pass as a query.
    if !value.is_object() {
        return Err(Error::invalid_input(prefix, "must be an object"));
    }
    crate::json_path::from_value(&value).map_err(|e| input_error(prefix, e))
}

/// [`input_from_json`]'s error (not generic: once in the wasm rather than once per input type).
#[inline(never)]
fn input_error(prefix: &str, e: crate::json_path::PathError) -> Error {
    let path = e.path().to_string();
    let mut field = if path == "." || path.is_empty() { prefix.to_owned() } else { format!("{prefix}.{path}") };
    let message = e.into_inner().to_string();
    // serde reports a missing field at its parent's path; name the field itself, so a form
    // can put "is required" next to the right input.
    if let Some(name) = missing_field_name(&message) {
        field = format!("{field}.{name}");
        return Error::invalid_input(field, "is required");
    }
    Error::invalid_input(field, message)
}

/// The `x` of serde's "missing field `x`".
fn missing_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    let name = &rest[..rest.find('`')?];
    (!name.is_empty()).then_some(name)
}

/// What to create on fal v1 (`POST /compute/instances`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FalCreateInput {
    /// `gpu_8x_h100_sxm5` or `gpu_1x_h100_sxm5`.
    #[tsify(type = "\"gpu_8x_h100_sxm5\" | \"gpu_1x_h100_sxm5\"")]
    pub instance_type: String,
    /// SSH public key to install (non-empty).
    pub ssh_key: String,
    /// InfiniBand sector `sector_1` | `sector_2` | `sector_3`; only with `gpu_8x_h100_sxm5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "\"sector_1\" | \"sector_2\" | \"sector_3\"")]
    pub sector: Option<String>,
    /// Sent as `Idempotency-Key`; one is generated when absent, so a retried create never makes two
    /// instances (fal caches the answer per key for 10 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// What to create on the fal alpha API (`POST /compute/instance`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FalAlphaCreateInput {
    /// `gpu_8x_h100_sxm5` or `gpu_1x_h100_sxm5`.
    #[tsify(type = "\"gpu_8x_h100_sxm5\" | \"gpu_1x_h100_sxm5\"")]
    pub instance_type: String,
    /// SSH public key to install (non-empty).
    pub ssh_key: String,
    /// InfiniBand sector `sector_1` | `sector_2` | `sector_3`; only with `gpu_8x_h100_sxm5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "\"sector_1\" | \"sector_2\" | \"sector_3\"")]
    pub sector: Option<String>,
}

/// What to create on SF Compute (`POST /preview/v2/instances`). Give `capacity` (the seed-era
/// API) or `pool` (newer API versions), not both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SfcCreateInput {
    /// 1–255 chars, `[a-zA-Z0-9][a-zA-Z0-9._-]{0,254}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Capacity id (`cap_…`) or resource path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// Pool id (`pool_…`), for API versions that renamed capacities to pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Image id (`image_…`) or resource path.
    pub image: String,
    /// Instance SKU id (`isku_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_sku: Option<String>,
    /// cloud-init user data, base64, at most 64 KiB decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_init_user_data: Option<String>,
    /// Up to 50 tags; keys 1–128 chars without `,` `=` or a leading `_`/space, values ≤ 256 chars without `,` `=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional, type = "Record<string, string>")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Integer priority (seed-era API; higher numbers are kept longer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// `yield` | `normal` | `preferred` | `critical` (newer API versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_level: Option<String>,
    /// Request a public IPv4 address (newer API versions; needs `firewall`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_public_ipv4: Option<bool>,
    /// Firewall id (`frwl_…`) or resource path (`sfc:firewall:…`); required with `enablePublicIpv4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<String>,
    /// Preview: enable InfiniBand (the SKU must support it). Sent as `_preview_enable_infiniband`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_enable_infiniband: Option<bool>,
}

/// An environment variable for a Novita instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NovitaEnv {
    /// Name, 0–511 chars.
    pub key: String,
    /// Value, 0–4095 chars.
    pub value: String,
}

/// A tool (e.g. Jupyter) exposed on a Novita instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NovitaTool {
    /// Tool name, e.g. `Jupyter`.
    pub name: String,
    /// Port, as a string (e.g. `"8888"`).
    pub port: String,
    /// `tcp` or `http`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A network volume to mount on a Novita instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NovitaNetworkStorage {
    /// Network storage id (sent as `Id`).
    pub id: String,
    /// Mount point; Novita defaults to `/network`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_point: Option<String>,
}

/// What to create on Novita (`POST /gpu/instance/create`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NovitaCreateInput {
    /// 0–255 chars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Product id from Novita's product list.
    pub product_id: String,
    /// GPUs, 1–8 (required for `kind: "gpu"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_num: Option<u32>,
    /// Root filesystem in GB, 10–6144 (required for `kind: "gpu"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_size: Option<u32>,
    /// Container image, 1–500 chars.
    pub image_url: String,
    /// Registry credentials `username:password` (≤ 10239 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_auth: Option<String>,
    /// Saved registry-credential id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_auth_id: Option<String>,
    /// Exposed ports, e.g. `"80/http, 3306/tcp"` (1–65535 except 2222–2224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
    /// Environment variables (≤ 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub envs: Vec<NovitaEnv>,
    /// Tools such as Jupyter (ports + tools ≤ 15).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<NovitaTool>,
    /// Start command, 0–2047 chars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Entrypoint override, 0–2047 chars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    /// Cluster id; empty picks a random cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Network volumes (≤ 30).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_storages: Vec<NovitaNetworkStorage>,
    /// VPC network id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    /// `gpu` (default) or `cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Months to prepay; 0 = pay as you go, more forces `monthly` billing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    /// `onDemand` (default) | `monthly` | `spot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_mode: Option<String>,
    /// Renew automatically (monthly billing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew: Option<bool>,
    /// Months per renewal, 1–12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew_month: Option<u32>,
    /// Minimum CUDA version, e.g. `"12.4"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cuda_version: Option<String>,
}

/// A provider-specific create input, tagged by provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateInput {
    /// fal v1.
    Fal(FalCreateInput),
    /// fal alpha.
    FalAlpha(FalAlphaCreateInput),
    /// SF Compute.
    Sfcompute(SfcCreateInput),
    /// Novita.
    Novita(NovitaCreateInput),
}

impl CreateInput {
    /// The provider this input is for.
    pub fn provider(&self) -> Provider {
        match self {
            CreateInput::Fal(_) => Provider::Fal,
            CreateInput::FalAlpha(_) => Provider::FalAlpha,
            CreateInput::Sfcompute(_) => Provider::Sfcompute,
            CreateInput::Novita(_) => Provider::Novita,
        }
    }

    /// Reads a provider's create input from JSON; unknown or mistyped fields are an
    /// `invalidInput` error naming them.
    pub fn from_json(provider: Provider, value: serde_json::Value) -> Result<CreateInput, Error> {
        Ok(match provider {
            Provider::Fal => CreateInput::Fal(input_from_json("input", value)?),
            Provider::FalAlpha => CreateInput::FalAlpha(input_from_json("input", value)?),
            Provider::Sfcompute => CreateInput::Sfcompute(input_from_json("input", value)?),
            Provider::Novita => CreateInput::Novita(input_from_json("input", value)?),
        })
    }
}

impl CreateInput {
    /// [`CreateInput::from_json`], but an invalid input's error lists every problem found in its
    /// `details` (the first problem stays the error's `field` and `message`): each missing required
    /// field of the provider's create form as well as the one that stopped the reading, each with
    /// its field path (`input.sshKey`) and the rule alone as its message (`is required`), so a form
    /// can mark every field at once.
    pub fn from_json_listing_problems(provider: Provider, value: serde_json::Value) -> Result<CreateInput, Error> {
        let missing: Vec<String> = match value.as_object() {
            Some(object) => provider
                .capabilities()
                .create_fields
                .into_iter()
                .filter(|f| {
                    f.required
                        && object.get(&f.name).map_or(true, |v| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))
                })
                .map(|f| format!("input.{}", f.name))
                .collect(),
            None => Vec::new(),
        };
        CreateInput::from_json(provider, value).map_err(|mut e| {
            if e.code != crate::error::ErrorCode::InvalidInput {
                return e;
            }
            let first = e.field.clone();
            if let Some(field) = &first {
                let rule = e.message.strip_prefix(&format!("{field}: ")).unwrap_or(&e.message).to_owned();
                e.details.push(ErrorDetail { field: Some(field.clone()), code: None, message: rule });
            }
            for field in missing.into_iter().filter(|f| Some(f) != first.as_ref()) {
                e.details.push(ErrorDetail {
                    field: Some(field),
                    code: Some("required".to_owned()),
                    message: "is required".to_owned(),
                });
            }
            e
        })
    }
}

/// The result of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOutcome {
    /// `true` when the provider answered 404: the instance was already gone, which counts as success.
    pub already_gone: bool,
}

/// An SSH host key (SF Compute).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct HostKey {
    /// Key type, e.g. `ssh-ed25519`.
    pub key_type: String,
    /// The key, base64.
    pub key: String,
}

/// How to SSH into an instance (SF Compute `GET /instances/{id}/ssh`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SshDetails {
    /// Host name or IP.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The host's public keys, to pin in `known_hosts`.
    pub host_keys: Vec<HostKey>,
    /// When the host keys were last updated successfully (ISO 8601), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_key_update_at: Option<String>,
    /// The provider's full answer.
    #[tsify(type = "Record<string, unknown>")]
    pub raw: serde_json::Value,
}

/// A lifecycle action on one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// List instances.
    List,
    /// Read one instance.
    Get,
    /// Create an instance.
    Create,
    /// Delete an instance.
    Delete,
    /// Start a stopped instance.
    Start,
    /// Stop a running instance.
    Stop,
    /// Restart a running instance.
    Restart,
    /// End an instance for good (SF Compute; it can then be deleted).
    Terminate,
    /// Read SSH connection details.
    Ssh,
}

impl Operation {
    /// The camelCase name, e.g. `"terminate"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Get => "get",
            Operation::Create => "create",
            Operation::Delete => "delete",
            Operation::Start => "start",
            Operation::Stop => "stop",
            Operation::Restart => "restart",
            Operation::Terminate => "terminate",
            Operation::Ssh => "ssh",
        }
    }
}

/// What a caller may do: everything, or only read (a gpufleet proxy's read-only token).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    /// List, get, create, act and delete.
    #[default]
    ReadWrite,
    /// List and get only: the proxy refuses create, delete and actions with `forbidden`.
    ReadOnly,
}

/// How a provider pages its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum Pagination {
    /// Opaque `cursor` → `next_cursor` + `has_more` (fal v1).
    Cursor,
    /// Stripe-style `starting_after`/`ending_before` ← `cursor` (SF Compute).
    StartingAfter,
    /// `pageSize` + `pageNum` with a `total` (Novita).
    PageNumber,
    /// Everything in one answer (fal alpha).
    None,
}

/// The kind of value a create-form field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum FieldKind {
    /// One line of text.
    String,
    /// Multi-line text (SSH keys, cloud-init).
    Text,
    /// A whole number.
    Integer,
    /// True or false.
    Boolean,
    /// One of `options`.
    Enum,
    /// `key=value` pairs (tags, environment variables).
    KeyValue,
}

/// One field of a provider's create input, so a UI can build a form from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// The input's field name (camelCase), e.g. `instanceType`.
    pub name: String,
    /// What a person should read next to the field.
    pub label: String,
    /// The kind of value.
    pub kind: FieldKind,
    /// Whether the provider requires it.
    pub required: bool,
    /// Allowed values for `enum` fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Smallest allowed integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Largest allowed integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Longest allowed text, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A short hint on the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl FieldSpec {
    /// A field with no options, bounds or help.
    pub fn new(name: &str, label: &str, kind: FieldKind, required: bool) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            label: label.into(),
            kind,
            required,
            options: vec![],
            min: None,
            max: None,
            max_length: None,
            help: None,
        }
    }
}

/// What a provider can do, so callers (and the console) can offer only what works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// The provider.
    pub provider: Provider,
    /// Human-readable name, e.g. `SF Compute`.
    pub display_name: String,
    /// The operations it offers; anything else fails with `unsupported` before a request.
    pub operations: Vec<Operation>,
    /// How listings are paged.
    pub pagination: Pagination,
    /// Largest page size the API accepts, when documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u32>,
    /// Filters its list query accepts (field names of its list query type).
    pub list_filters: Vec<String>,
    /// Whether create is safe to retry (fal v1: `Idempotency-Key`).
    pub idempotent_create: bool,
    /// The provider's documented status words.
    pub provider_statuses: Vec<String>,
    /// The create input's fields, for building forms.
    pub create_fields: Vec<FieldSpec>,
}

impl Capabilities {
    /// Whether `op` is offered.
    pub fn supports(&self, op: Operation) -> bool {
        self.operations.contains(&op)
    }
}

/// One provider's failure in a multi-provider call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ProviderFailure {
    /// The provider that failed.
    pub provider: Provider,
    /// What went wrong.
    #[tsify(type = "ErrorInfo")]
    pub error: Error,
}

/// Every instance from every configured provider, with each provider's failure beside the
/// others' results (one provider down never hides the rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct FleetListing {
    /// Instances from the providers that answered.
    pub instances: Vec<Instance>,
    /// Providers that failed, with why.
    pub errors: Vec<ProviderFailure>,
    /// The fleet's burn rate and cost so far, per provider and in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<FleetCost>,
}

/// Filters applied across providers by [`crate::Client::list_all`] (after normalization).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetQuery {
    /// Only these providers (default: every configured one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<Provider>>,
    /// Only instances in these normalized statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<Status>>,
    /// Case-insensitive text match on id, name, IP and instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

impl FleetQuery {
    /// Whether `instance` passes the status and text filters (not the provider filter).
    pub fn matches(&self, instance: &Instance) -> bool {
        if let Some(statuses) = self.status.as_ref().filter(|s| !s.is_empty()) {
            if !statuses.contains(&instance.status) {
                return false;
            }
        }
        match self.q.as_deref().map(str::trim) {
            None | Some("") => true,
            Some(q) => {
                let q = q.to_lowercase();
                [Some(&instance.id), instance.name.as_ref(), instance.ip.as_ref(), instance.instance_type.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|s| s.to_lowercase().contains(&q))
            }
        }
    }
}

/// An amount of US dollars: `microUsd` is exact (whole millionths of a dollar; sums are made on
/// it), `usd` the same amount as a float for display and sorting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    /// Dollars (float; for display).
    pub usd: f64,
    /// Millionths of a dollar (an integer; exact).
    pub micro_usd: i64,
}

impl Money {
    /// `micro` millionths of a dollar.
    pub fn from_micro(micro: i64) -> Money {
        Money { usd: crate::money::micro_to_usd(micro), micro_usd: micro }
    }
}

/// Where a price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum PriceSource {
    /// The provider's own price list (Novita's product catalog): the price it bills.
    Catalog,
    /// A market quote (SF Compute's order book, best ask now): an estimate of what an hour
    /// would cost today, not the price the instance's order paid.
    Quote,
    /// The price table you configured (`prices`; the proxy's `GPUFLEET_PRICES`).
    Configured,
}

/// An hourly price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// Dollars per hour (of the whole instance, or of one unit of an offer: see `Offer.unit`).
    pub usd_per_hour: f64,
    /// The same, in millionths of a dollar (exact).
    pub micro_usd_per_hour: i64,
    /// Where it comes from.
    pub source: PriceSource,
    /// How it was made, in words (e.g. `2 GPUs × $2.40 per GPU-hour (spot)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

impl Price {
    /// A price of `micro` millionths of a dollar per hour.
    pub fn new(micro: i64, source: PriceSource, basis: Option<String>) -> Price {
        Price { usd_per_hour: crate::money::micro_to_usd(micro), micro_usd_per_hour: micro, source, basis }
    }
}

/// Whether an amount is gpufleet's estimate or the provider's bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum CostKind {
    /// Price × running time, computed by gpufleet.
    Estimate,
    /// What the provider says it billed.
    Billed,
}

/// What an instance's current run has cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// The amount.
    pub amount: Money,
    /// Estimate or billed.
    pub kind: CostKind,
    /// Seconds counted: the current run's for an estimate; for a billed cost, from `since` to
    /// now (the provider bills by the hour, so the latest hour may not be billed yet).
    pub seconds: u64,
    /// When the counted time began (ISO 8601, UTC): the run's start for an estimate, the first
    /// bill's for a billed cost.
    pub since: String,
}

/// Money across a fleet, per provider and in total (`FleetListing.cost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct FleetCost {
    /// Dollars per hour of everything running now that has a price.
    pub burn_rate_per_hour: Money,
    /// What the current runs of those instances have cost so far (estimate; a priced instance
    /// whose start time the provider does not give adds nothing, so this is a lower bound).
    pub cost_so_far: Money,
    /// Running instances with a price.
    pub priced_running: u32,
    /// Running instances without one (so the burn rate is a lower bound when this is not 0).
    pub unpriced_running: u32,
    /// The same, per provider that answered.
    pub by_provider: Vec<ProviderCost>,
}

/// One provider's share of a [`FleetCost`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCost {
    /// The provider.
    pub provider: Provider,
    /// Dollars per hour of its priced running instances.
    pub burn_rate_per_hour: Money,
    /// Their cost so far (estimate).
    pub cost_so_far: Money,
    /// Its running instances with a price.
    pub priced_running: u32,
    /// Its running instances without one.
    pub unpriced_running: u32,
}

impl FleetCost {
    /// The burn rate and cost so far of `instances` (their `price` and `cost` already set), per
    /// provider in `providers` order and in total, summed exactly in micro-dollars.
    pub fn of(instances: &[Instance], providers: &[Provider]) -> FleetCost {
        let mut rows: Vec<(Provider, i64, i64, u32, u32)> = providers.iter().map(|p| (*p, 0, 0, 0, 0)).collect();
        for i in instances.iter().filter(|i| i.status == Status::Running) {
            let at = match rows.iter().position(|r| r.0 == i.provider) {
                Some(at) => at,
                None => {
                    rows.push((i.provider, 0, 0, 0, 0));
                    rows.len() - 1
                }
            };
            let row = &mut rows[at];
            match &i.price {
                Some(p) => {
                    row.1 = row.1.saturating_add(p.micro_usd_per_hour);
                    row.2 = row.2.saturating_add(i.cost.as_ref().map_or(0, |c| c.amount.micro_usd));
                    row.3 += 1;
                }
                None => row.4 += 1,
            }
        }
        let total = |f: fn(&(Provider, i64, i64, u32, u32)) -> i64| rows.iter().map(f).fold(0i64, i64::saturating_add);
        FleetCost {
            burn_rate_per_hour: Money::from_micro(total(|r| r.1)),
            cost_so_far: Money::from_micro(total(|r| r.2)),
            priced_running: rows.iter().map(|r| r.3).sum(),
            unpriced_running: rows.iter().map(|r| r.4).sum(),
            by_provider: rows
                .into_iter()
                .map(|(provider, burn, cost, priced, unpriced)| ProviderCost {
                    provider,
                    burn_rate_per_hour: Money::from_micro(burn),
                    cost_so_far: Money::from_micro(cost),
                    priced_running: priced,
                    unpriced_running: unpriced,
                })
                .collect(),
        }
    }
}

/// What one unit of an [`Offer`]'s price buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum OfferUnit {
    /// One GPU (Novita: an instance of n GPUs costs n × the price).
    Gpu,
    /// One whole instance (fal instance types, SF Compute nodes).
    Instance,
}

/// Something that can be created: a product, SKU or instance type, where, at what price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// The provider.
    pub provider: Provider,
    /// What to create it with: Novita `productId`, SF Compute `instanceSku`, fal `instanceType`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// GPU model, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_model: Option<String>,
    /// GPUs in one instance, when fixed (fal `gpu_8x_…`, SF Compute nodes of 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_count: Option<u32>,
    /// Most GPUs one instance may have (Novita products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_gpu_count: Option<u32>,
    /// Where it can be created (Novita cluster ids); empty when the provider does not say.
    pub regions: Vec<String>,
    /// How it is billed: on-demand and spot are separate offers (spot may be reclaimed).
    pub billing: BillingMode,
    /// Whether the provider says it can be created now; absent when it does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
    /// What one `unit` costs per hour; absent when unknown (then `priceNote` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// What the price is of.
    pub unit: OfferUnit,
    /// Why there is no price, or a caveat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_note: Option<String>,
    /// The provider's record, as received (`null` for offers made from the price table).
    #[tsify(type = "unknown")]
    pub raw: serde_json::Value,
}

/// What `offers()` gives: the offers of the providers that answered, and the failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct OfferListing {
    /// Every offer, per provider in the order the provider lists them.
    pub offers: Vec<Offer>,
    /// Providers that failed, with why.
    pub errors: Vec<ProviderFailure>,
}

/// An account balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// The provider.
    pub provider: Provider,
    /// What can still be spent (fal credits, Novita `availableBalance`, SF Compute available).
    pub available: Money,
    /// The currency the provider states (`USD`); amounts are converted from its units exactly.
    pub currency: String,
    /// The provider's other figures, converted (Novita `cashBalance`, `creditLimit`, …).
    #[tsify(type = "Record<string, Money>")]
    pub details: BTreeMap<String, Money>,
    /// The provider's answer, as received.
    #[tsify(type = "unknown")]
    pub raw: serde_json::Value,
}

/// What `balances()` gives: a balance per provider that has one, and the failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct BalanceListing {
    /// One per provider that answered.
    pub balances: Vec<Balance>,
    /// Providers that failed, with why.
    pub errors: Vec<ProviderFailure>,
}
