//! The providers: [`Provider`], per-provider configuration, the instance id rule, and the
//! dispatch to each provider's own module, where all of its quirks live. What those modules share
//! (URLs, JSON decoding with paths, error answers, dates, input checks) is crate-private, in
//! `provider/shared.rs`.

pub mod fal;
pub mod fal_alpha;
pub mod novita;
pub mod sfcompute;
mod shared;

pub(crate) use shared::{loose_error_parts, retry_after_ms, RETRY_AFTER_CAP_MS};
pub use shared::{parse_http_date, unix_seconds_to_iso};

use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::model::{Capabilities, CreateInput, DeleteOutcome, Instance, ListQuery, Operation, Page, SshDetails, Status};

pub use crate::provider_id::Provider;

impl Provider {
    /// Parses a wire name, or explains which names exist.
    pub fn parse_or_error(field: &str, s: &str) -> Result<Provider> {
        Provider::parse(s).ok_or_else(|| Error::invalid_input(field, "must be one of fal, fal-alpha, sfcompute, novita"))
    }

    /// What this provider can do.
    pub fn capabilities(self) -> Capabilities {
        match self {
            Provider::Fal => fal::capabilities(),
            Provider::FalAlpha => fal_alpha::capabilities(),
            Provider::Sfcompute => sfcompute::capabilities(),
            Provider::Novita => novita::capabilities(),
        }
    }

    /// The lifecycle actions (`start`, `stop`, `restart`, `terminate`, `delete`, in that order)
    /// an instance of this provider in `status` (the provider's own word: `provider_status`)
    /// can be asked for: what the provider supports, narrowed by what its state allows. An
    /// `unknown` status offers everything supported: the provider decides.
    pub fn actions_for(self, status: Status, provider_status: &str) -> Vec<Operation> {
        let allowed = match self {
            Provider::Novita => novita::actions_allowed(status, provider_status),
            Provider::Sfcompute => sfcompute::actions_allowed(status),
            Provider::Fal | Provider::FalAlpha => default_actions(status),
        };
        let caps = self.capabilities();
        allowed.into_iter().filter(|op| caps.supports(*op)).collect()
    }
}

impl Instance {
    /// The lifecycle actions this instance can be asked for now ([`Provider::actions_for`]).
    pub fn actions(&self) -> Vec<Operation> {
        self.provider.actions_for(self.status, &self.provider_status)
    }
}

/// The lifecycle actions a status allows where a provider has no rule of its own (before the
/// provider's capabilities narrow them).
pub(crate) fn default_actions(status: Status) -> Vec<Operation> {
    use Operation::{Delete, Restart, Start, Stop, Terminate};
    match status {
        Status::Pending | Status::Provisioning => vec![Stop, Terminate, Delete],
        Status::Running => vec![Stop, Restart, Terminate, Delete],
        Status::Stopping => vec![Terminate, Delete],
        Status::Stopped => vec![Start, Terminate, Delete],
        Status::Terminating | Status::Terminated => vec![Delete],
        Status::Failed | Status::Unknown => vec![Start, Stop, Restart, Terminate, Delete],
    }
}

/// Where and how to reach one provider. `Debug` never prints the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Base URL without a trailing slash, e.g. `https://api.fal.ai/v1` (override it to point at a
    /// proxy or the simulated clouds).
    pub base_url: String,
    /// The API key or token.
    pub api_key: String,
    /// SF Compute workspace (`wksp_…` or `sfc:workspace:…`), sent with every listing.
    pub workspace: Option<String>,
}

impl ProviderConfig {
    /// A config for `provider` with its production base URL.
    pub fn new(provider: Provider, api_key: impl Into<String>) -> ProviderConfig {
        ProviderConfig { base_url: provider.default_base_url().to_owned(), api_key: api_key.into(), workspace: None }
    }

    /// Replaces the base URL (a trailing `/` is dropped).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> ProviderConfig {
        self.base_url = base_url.into();
        self
    }

    /// Sets the SF Compute workspace.
    pub fn with_workspace(mut self, workspace: impl Into<String>) -> ProviderConfig {
        self.workspace = Some(workspace.into());
        self
    }

    /// Checks the config: an `https://` base URL (`http://` to a loopback host only) and a
    /// non-empty key without line breaks.
    pub fn validate(&self, provider: Provider) -> Result<()> {
        let field = provider_config_field(provider);
        let base = self.base_url.trim();
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
            return Err(Error::invalid_input(format!("{field}.baseUrl"), "must be an absolute http(s) URL"));
        }
        if base.contains(['?', '#', ' ']) {
            return Err(Error::invalid_input(format!("{field}.baseUrl"), "must not contain a query, fragment or space"));
        }
        if !crate::http::is_https_or_loopback(base) {
            let rule =
                "must be https:// (http:// only to localhost, 127.x.x.x or [::1]), or the key would cross the network in clear";
            return Err(Error::invalid_input(format!("{field}.baseUrl"), rule));
        }
        if self.api_key.trim().is_empty() {
            return Err(Error::invalid_input(format!("{field}.apiKey"), "must not be empty"));
        }
        if self.api_key.chars().any(|c| c.is_control()) {
            return Err(Error::invalid_input(format!("{field}.apiKey"), "must not contain control characters"));
        }
        Ok(())
    }

    /// `base_url` + `path` (path starts with `/`).
    pub fn url(&self, path: &str) -> String {
        let base = self.base_url.trim().trim_end_matches('/');
        let mut s = String::with_capacity(base.len() + path.len());
        s.push_str(base);
        s.push_str(path);
        s
    }

    /// The URL of `path` in a sibling API of the same host (billing and balances live beside
    /// the instance APIs): the base URL with its trailing `api_root` (e.g. `/preview/v2`)
    /// replaced by `path`; when the base does not end in `api_root`, `path` goes under the
    /// base's origin (`https://host`).
    pub fn sibling_url(&self, api_root: &str, path: &str) -> String {
        let base = self.base_url.trim().trim_end_matches('/');
        let root = match base.strip_suffix(api_root) {
            Some(root) => root,
            None => {
                let after_scheme = base.find("://").map_or(0, |at| at + 3);
                base[after_scheme..].find('/').map_or(base, |at| &base[..after_scheme + at])
            }
        };
        format!("{root}{path}")
    }
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .field("workspace", &self.workspace)
            .finish()
    }
}

/// The JS config key of a provider (`fal`, `falAlpha`, `sfcompute`, `novita`), for error messages.
pub fn provider_config_field(provider: Provider) -> &'static str {
    match provider {
        Provider::Fal => "fal",
        Provider::FalAlpha => "falAlpha",
        Provider::Sfcompute => "sfcompute",
        Provider::Novita => "novita",
    }
}

/// What a create call returned: the instance itself, or only its id (Novita), in which case the
/// client reads the instance with a get.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// The provider returned the whole instance.
    Instance(Box<Instance>),
    /// The provider returned only the new id.
    Id(String),
}

// ---------------------------------------------------------------------------------------------
// Dispatch: the Client calls these; each forwards to the provider's own module.
// ---------------------------------------------------------------------------------------------

/// Builds the list request for `query`'s provider.
pub fn build_list_request(query: &ListQuery, config: &ProviderConfig) -> Result<HttpRequest> {
    match query {
        ListQuery::Fal(q) => fal::build_list_request(q, config),
        ListQuery::FalAlpha(q) => fal_alpha::build_list_request(q, config),
        ListQuery::Sfcompute(q) => sfcompute::build_list_request(q, config),
        ListQuery::Novita(q) => novita::build_list_request(q, config),
    }
}

/// Parses `provider`'s list response into a page. `query` is the query that was sent (Novita
/// needs its page number and size to compute the next cursor).
///
/// A record with an empty `id` is a `decode` error: it could never be read, changed or deleted,
/// and listings de-duplicate by id.
pub fn parse_list_response(query: &ListQuery, response: HttpResponse) -> Result<Page<Instance>> {
    let page = match query {
        ListQuery::Fal(_) => fal::parse_list_response(response),
        ListQuery::FalAlpha(_) => fal_alpha::parse_list_response(response),
        ListQuery::Sfcompute(_) => sfcompute::parse_list_response(response),
        ListQuery::Novita(q) => novita::parse_list_response(q, response),
    }?;
    let provider = query.provider();
    if let Some(i) = page.items.iter().position(|item| item.id.trim().is_empty()) {
        let list = match provider {
            Provider::Fal | Provider::Novita => "instances",
            Provider::FalAlpha => "",
            Provider::Sfcompute => "data",
        };
        return Err(Error::decode(provider, format!("{list}[{i}].id"), "an instance id must not be empty"));
    }
    Ok(page)
}

/// Builds the get request.
pub fn build_get_request(provider: Provider, id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    match provider {
        Provider::Fal => fal::build_get_request(id, config),
        Provider::FalAlpha => fal_alpha::build_get_request(id, config),
        Provider::Sfcompute => sfcompute::build_get_request(id, config),
        Provider::Novita => novita::build_get_request(id, config),
    }
}

/// Parses the get response.
///
/// An empty `id` is a `decode` error, as in [`parse_list_response`].
pub fn parse_get_response(provider: Provider, response: HttpResponse) -> Result<Instance> {
    let instance = match provider {
        Provider::Fal => fal::parse_get_response(response),
        Provider::FalAlpha => fal_alpha::parse_get_response(response),
        Provider::Sfcompute => sfcompute::parse_get_response(response),
        Provider::Novita => novita::parse_get_response(response),
    }?;
    if instance.id.trim().is_empty() {
        return Err(Error::decode(provider, "id", "an instance id must not be empty"));
    }
    Ok(instance)
}

/// Builds the create request. `idempotency_key` is sent where the provider supports one (fal v1).
pub fn build_create_request(input: &CreateInput, idempotency_key: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    match input {
        CreateInput::Fal(i) => fal::build_create_request(i, idempotency_key, config),
        CreateInput::FalAlpha(i) => fal_alpha::build_create_request(i, config),
        CreateInput::Sfcompute(i) => sfcompute::build_create_request(i, config),
        CreateInput::Novita(i) => novita::build_create_request(i, config),
    }
}

/// Parses the create response.
pub fn parse_create_response(provider: Provider, response: HttpResponse) -> Result<Created> {
    match provider {
        Provider::Fal => fal::parse_create_response(response).map(|i| Created::Instance(Box::new(i))),
        Provider::FalAlpha => fal_alpha::parse_create_response(response).map(|i| Created::Instance(Box::new(i))),
        Provider::Sfcompute => sfcompute::parse_create_response(response).map(|i| Created::Instance(Box::new(i))),
        Provider::Novita => novita::parse_create_response(response).map(Created::Id),
    }
}

/// Builds the delete request.
pub fn build_delete_request(provider: Provider, id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    match provider {
        Provider::Fal => fal::build_delete_request(id, config),
        Provider::FalAlpha => fal_alpha::build_delete_request(id, config),
        Provider::Sfcompute => sfcompute::build_delete_request(id, config),
        Provider::Novita => novita::build_delete_request(id, config),
    }
}

/// Parses the delete response (404 → `alreadyGone`).
pub fn parse_delete_response(provider: Provider, response: HttpResponse) -> Result<DeleteOutcome> {
    match provider {
        Provider::Fal => fal::parse_delete_response(response),
        Provider::FalAlpha => fal_alpha::parse_delete_response(response),
        Provider::Sfcompute => sfcompute::parse_delete_response(response),
        Provider::Novita => novita::parse_delete_response(response),
    }
}

/// Builds a start/stop/restart/terminate request. Capabilities are checked by the caller; a
/// provider without the operation answers `unsupported` here too.
pub fn build_action_request(provider: Provider, op: Operation, id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    match (provider, op) {
        (Provider::Sfcompute, Operation::Terminate) => sfcompute::build_terminate_request(id, config),
        (Provider::Novita, Operation::Start | Operation::Stop | Operation::Restart) => {
            novita::build_action_request(op, id, config)
        }
        _ => Err(Error::unsupported(provider, op.as_str())),
    }
}

/// Parses the answer to an action: the instance when the provider returns it (SF Compute
/// terminate), otherwise `None`.
pub fn parse_action_response(provider: Provider, op: Operation, response: HttpResponse) -> Result<Option<Instance>> {
    match (provider, op) {
        (Provider::Sfcompute, Operation::Terminate) => sfcompute::parse_terminate_response(response).map(Some),
        (Provider::Novita, Operation::Start | Operation::Stop | Operation::Restart) => {
            novita::parse_action_response(response).map(|()| None)
        }
        _ => Err(Error::unsupported(provider, op.as_str())),
    }
}

/// Builds the SSH-details request (SF Compute only).
pub fn build_ssh_request(provider: Provider, id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    match provider {
        Provider::Sfcompute => sfcompute::build_ssh_request(id, config),
        _ => Err(Error::unsupported(provider, "ssh")),
    }
}

/// Parses the SSH-details response.
pub fn parse_ssh_response(provider: Provider, response: HttpResponse) -> Result<SshDetails> {
    match provider {
        Provider::Sfcompute => sfcompute::parse_ssh_response(response),
        _ => Err(Error::unsupported(provider, "ssh")),
    }
}

/// Decodes a list body that `query`'s provider answered with a 2xx status — one you fetched,
/// cached or logged yourself — into the page a listing returns (every record normalized, `raw`
/// kept). `query` is the query that was sent: Novita needs its page number and size to say
/// whether more pages follow (a default query means page 1 of the default size).
///
/// # Errors
/// `decode` naming the JSON path when the body does not read as documented, or the provider's
/// error when a 2xx body wraps one (Novita).
pub fn decode_list_body(query: &ListQuery, body: impl Into<Vec<u8>>) -> Result<Page<Instance>> {
    parse_list_response(query, HttpResponse::new(200, body))
}

/// Decodes one instance record as `provider`'s get call answers it (2xx body) into an [`Instance`].
///
/// # Errors
/// As [`decode_list_body`].
pub fn decode_instance_body(provider: Provider, body: impl Into<Vec<u8>>) -> Result<Instance> {
    parse_get_response(provider, HttpResponse::new(200, body))
}

// ---------------------------------------------------------------------------------------------
// Instance ids.
// ---------------------------------------------------------------------------------------------

/// Longest id accepted (SF Compute resource paths are the longest legitimate ids).
pub const MAX_ID_LEN: usize = 255;

/// Checks an instance id before it goes into a URL: 1–255 characters from
/// `A–Z a–z 0–9 . _ - :` (covers fal `inst_…`, UUIDs, SF Compute ids and resource paths, Novita ids).
///
/// This is also what keeps the proxy from forwarding a traversal (`..`), a slash or a host.
pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid_input("id", "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid_input("id", format!("must be at most {MAX_ID_LEN} characters")));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':')) {
        return Err(Error::invalid_input("id", "may contain only letters, digits, '.', '_', '-' and ':'"));
    }
    if id.bytes().all(|b| b == b'.') {
        return Err(Error::invalid_input("id", "must not be '.' or '..'"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "provider/decode_paths_tests.rs"]
mod decode_paths_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::Value;

    #[test]
    fn ids_are_checked() {
        for ok in ["inst_abc123xyz", "550e8400-e29b-41d4-a716-446655440000", "sfc:instance:acme:prod:web-1", "a.b"] {
            assert!(validate_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "..", ".", "a/b", "a%2Fb", "http://x", "a b", "é", &"x".repeat(256)] {
            let e = validate_id(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidInput, "{bad}");
            assert_eq!(e.field.as_deref(), Some("id"));
        }
    }

    #[test]
    fn decode_bodies_as_listings_do() {
        use crate::model::{NovitaListQuery, Status};
        let fal = br#"{"instances":[{"id":"inst_1","instance_type":"gpu_8x_h100_sxm5","region":"us-west","ip":"203.0.113.9","status":"ready","extra":1}],"next_cursor":"Mg","has_more":true}"#;
        let page = decode_list_body(&ListQuery::from_json(Provider::Fal, Value::Null).unwrap(), &fal[..]).unwrap();
        assert_eq!(page.items.len(), 1);
        let i = &page.items[0];
        assert_eq!((i.id.as_str(), i.status, i.provider_status.as_str()), ("inst_1", Status::Running, "ready"));
        assert_eq!((i.gpu_count, i.gpu_model.as_deref(), i.ip.as_deref()), (Some(8), Some("H100 SXM5"), Some("203.0.113.9")));
        assert_eq!(i.raw["extra"], 1, "raw keeps unknown fields");
        assert_eq!((page.next_cursor.as_deref(), page.has_more), (Some("Mg"), true));

        let novita = br#"{"instances":[{"id":"n1","status":"exited","statusError":{"state":"x","message":"oom"},"gpuNum":"2","productName":"RTX 4090 24GB"}],"total":3}"#;
        let query = ListQuery::Novita(NovitaListQuery { limit: Some(1), cursor: Some("2".into()), ..Default::default() });
        let page = decode_list_body(&query, novita.to_vec()).unwrap();
        let i = &page.items[0];
        assert_eq!((i.status, i.status_reason.as_deref(), i.gpu_count), (Status::Failed, Some("oom"), Some(2)));
        assert_eq!(i.gpu_model.as_deref(), Some("RTX 4090"));
        assert_eq!((page.next_cursor.as_deref(), page.has_more, page.total), (Some("3"), true, Some(3)));

        let alpha = decode_list_body(&ListQuery::from_json(Provider::FalAlpha, Value::Null).unwrap(), "[]").unwrap();
        assert!(alpha.items.is_empty() && !alpha.has_more);

        let e = decode_list_body(
            &ListQuery::from_json(Provider::Sfcompute, Value::Null).unwrap(),
            r#"{"data":[{"id":1}],"has_more":false}"#,
        )
        .unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), (ErrorCode::Decode, Some("data[0].id")));

        let one = decode_instance_body(Provider::Sfcompute, r#"{"id":"inst_a","status":"awaiting_allocation"}"#).unwrap();
        assert_eq!((one.id.as_str(), one.status), ("inst_a", Status::Pending));
        assert_eq!(decode_instance_body(Provider::Novita, "{").unwrap_err().code, ErrorCode::Decode);
    }
}
