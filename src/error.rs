//! One error type for every failure, with a stable machine-readable [`ErrorCode`].
//!
//! The same shape is what JavaScript sees (a thrown `GpufleetError`) and what the edge proxy
//! returns as JSON, so it is serde-serializable and has no `JsValue` inside.

use serde::{Deserialize, Serialize};
use std::fmt;
use tsify::Tsify;

use crate::provider_id::Provider;

/// The stable category of an [`Error`]: branch on this, not on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The caller's input broke a documented rule; no request was sent.
    InvalidInput,
    /// The provider rejected the credentials (HTTP 401).
    Unauthorized,
    /// The credentials lack a permission (HTTP 403).
    Forbidden,
    /// The instance (or another resource) does not exist (HTTP 404).
    NotFound,
    /// The request conflicts with the resource's state (HTTP 409), e.g. deleting a running SF Compute instance.
    Conflict,
    /// Too many requests (HTTP 429); see `retryAfterMs`.
    RateLimited,
    /// The account's quota is used up, e.g. Novita `CREATE_INSTANCE_LIMIT`: no more instances
    /// until some are deleted or the quota is raised. Not transient; retrying does not help.
    QuotaExceeded,
    /// The provider rejected the request body or parameters (HTTP 400/422).
    Validation,
    /// The provider failed (HTTP 5xx) or answered with an unexpected status.
    Server,
    /// The request did not complete: connection refused, reset or dropped.
    Network,
    /// The request or the wait took longer than allowed.
    Timeout,
    /// The caller aborted (an `AbortSignal`).
    Aborted,
    /// The provider's answer could not be read as documented (the message names the JSON path).
    Decode,
    /// The provider does not offer this operation or filter; no request was sent.
    Unsupported,
}

impl ErrorCode {
    /// The camelCase name JavaScript sees, e.g. `"notFound"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalidInput",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "notFound",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rateLimited",
            ErrorCode::QuotaExceeded => "quotaExceeded",
            ErrorCode::Validation => "validation",
            ErrorCode::Server => "server",
            ErrorCode::Network => "network",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Aborted => "aborted",
            ErrorCode::Decode => "decode",
            ErrorCode::Unsupported => "unsupported",
        }
    }

    /// Whether a failure of this kind is transient, so that trying again later may succeed.
    ///
    /// Whether a *particular* request may be retried also depends on its method: see
    /// [`crate::client::RetryPolicy`].
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorCode::RateLimited | ErrorCode::Server | ErrorCode::Network | ErrorCode::Timeout)
    }

    /// The code for an HTTP error status.
    pub fn from_status(status: u16) -> ErrorCode {
        match status {
            400 | 422 => ErrorCode::Validation,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 | 410 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            408 | 504 => ErrorCode::Timeout,
            429 => ErrorCode::RateLimited,
            _ => ErrorCode::Server,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field-level problem a provider reported (SF Compute `details[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// The offending field, when the provider names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The provider's machine-readable code for this detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable explanation.
    pub message: String,
}

/// Everything that can go wrong, as one flat, serializable record.
///
/// `Display` is the message. Provider keys and tokens never appear in any field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
// TypeScript name `ErrorInfo`, so the declaration does not shadow the global `Error`.
#[tsify(rename = "ErrorInfo")]
#[non_exhaustive]
pub struct Error {
    /// The stable category.
    pub code: ErrorCode,
    /// Human-readable explanation; for `invalidInput` it names the field and the rule.
    pub message: String,
    /// The provider involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    /// The HTTP status the provider answered with, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The provider's own error type, e.g. fal `validation_error` or SF Compute `conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
    /// The provider's request id (from the error body or a response header), for support tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A documentation link the provider sent with the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// How long the provider asked us to wait (from `Retry-After`), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The input field at fault (`invalidInput`) or the JSON path that failed (`decode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Field-level problems the provider listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    /// Whether the failure is transient (rate limit, 5xx, network, timeout).
    pub retryable: bool,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A bare error of `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            provider: None,
            status: None,
            provider_type: None,
            request_id: None,
            docs_url: None,
            retry_after_ms: None,
            field: None,
            details: Vec::new(),
            retryable: code.is_transient(),
        }
    }

    /// Input that breaks a documented rule: `field` is the input's name as the caller spells it.
    pub fn invalid_input(field: impl Into<String>, rule: impl fmt::Display) -> Error {
        let field = field.into();
        let mut e = Error::new(ErrorCode::InvalidInput, format!("{field}: {rule}"));
        e.field = Some(field);
        e
    }

    /// An operation or filter the provider does not offer.
    pub fn unsupported(provider: Provider, what: impl fmt::Display) -> Error {
        Error::new(ErrorCode::Unsupported, format!("{} does not support {what}", provider.display_name())).with_provider(provider)
    }

    /// A body that does not read as documented; `path` is the JSON path that failed.
    pub fn decode(provider: Provider, path: impl Into<String>, why: impl fmt::Display) -> Error {
        Error::decode_at(provider, path.into(), &why)
    }

    /// [`Error::decode`] without its type parameters (one copy in the wasm, not one per caller's
    /// types).
    #[inline(never)]
    fn decode_at(provider: Provider, path: String, why: &dyn fmt::Display) -> Error {
        let shown = if path.is_empty() || path == "." || path == "?" { "body".to_owned() } else { path.clone() };
        let mut e =
            Error::new(ErrorCode::Decode, format!("could not read the {} response at {shown}: {why}", provider.display_name()))
                .with_provider(provider);
        e.field = Some(shown);
        e
    }

    /// Sets the provider.
    pub fn with_provider(mut self, provider: Provider) -> Error {
        self.provider = Some(provider);
        self
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Error {
        self.status = Some(status);
        self
    }

    /// Replaces the message.
    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        self.message = message.into();
        self
    }

    /// The stable category.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// What a [`crate::http::Transport`] reports when a request did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connection refused, reset, dropped, DNS failure, a body cut short, or a fetch that rejected.
    #[error("network error: {0}")]
    Network(String),
    /// The attempt took longer than its timeout.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The caller aborted; the string is the abort reason when it has one.
    #[error("aborted: {0}")]
    Aborted(String),
    /// The server answered with a redirect, which is never followed (see
    /// [`crate::http::refuse_redirect`]).
    #[error("redirect not followed")]
    Redirect {
        /// The 3xx status; `None` when the runtime hid it (a browser's `opaqueredirect`).
        status: Option<u16>,
        /// The origin of the request that was answered with the redirect.
        from: Option<String>,
        /// The origin the redirect points to (`scheme://host[:port]`, never a path or query);
        /// `None` when unknown or unreadable.
        to: Option<String>,
    },
}

/// The `code` of the [`ErrorDetail`] a redirect error carries; its `message` is the target's
/// origin, or `unknown`.
pub const REDIRECT_DETAIL: &str = "redirect";

impl TransportError {
    /// Converts into an [`Error`] for `provider`.
    pub fn into_error(self, provider: Option<Provider>) -> Error {
        let (code, message) = match &self {
            TransportError::Network(m) => (ErrorCode::Network, format!("network error: {m}")),
            TransportError::Timeout(ms) => (ErrorCode::Timeout, format!("request timed out after {ms} ms")),
            TransportError::Aborted(reason) if reason.is_empty() => (ErrorCode::Aborted, "aborted".to_owned()),
            TransportError::Aborted(reason) => (ErrorCode::Aborted, format!("aborted: {reason}")),
            TransportError::Redirect { status, from, to } => {
                return redirect_error(provider, *status, from.as_deref(), to.as_deref())
            }
        };
        let mut e = Error::new(code, message);
        e.provider = provider;
        e
    }
}

/// The error for a redirect that was not followed: code `server`, not retryable (a redirect is
/// not transient), the 3xx `status` when known, the provider kept, and a `redirect` detail whose
/// message is the target's origin (or `unknown`). The message names the status and the target's
/// origin, never its path or query.
fn redirect_error(provider: Option<Provider>, status: Option<u16>, from: Option<&str>, to: Option<&str>) -> Error {
    let who = provider.map_or("the server", Provider::display_name);
    let target = match (status, to) {
        (_, Some(origin)) => format!("a redirect to {origin}"),
        (None, None) => "a redirect to an unknown target (the runtime hides redirects from scripts)".to_owned(),
        (Some(_), None) => "a redirect to an unknown target (no readable Location)".to_owned(),
    };
    let answered = match status {
        Some(s) => format!("answered HTTP {s} with {target}"),
        None => format!("answered with {target}"),
    };
    let base = from.map(|f| format!(" ({f})")).unwrap_or_default();
    let mut e = Error::new(
        ErrorCode::Server,
        format!("{who} {answered}; gpufleet does not follow redirects, so the request was not sent there: check the configured base URL{base}"),
    );
    e.provider = provider;
    e.status = status;
    e.retryable = false;
    e.details.push(ErrorDetail {
        field: None,
        code: Some(REDIRECT_DETAIL.to_owned()),
        message: to.unwrap_or("unknown").to_owned(),
    });
    e
}
