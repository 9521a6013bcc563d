//! fal's older alpha Compute API — `https://rest.alpha.fal.ai`, `Authorization: Key <admin key>`.
//!
//! Seed 002: `GET /compute/instances` returns a bare JSON array (no pagination); single-instance
//! paths use the singular `/compute/instance/{id}`; `sector` and `ip` may be `null`; there is no
//! `region`. No error format is documented, so errors are read defensively. Create is not
//! documented as idempotent, so a create is never retried after an ambiguous failure.

use serde_json::Value;

use super::fal::{auth_header, create_body, error_for, fast_instance, normalize, validate_create};
use super::shared::{id_url, json_kind, parse_json, skips_as_strictly};
use super::{Provider, ProviderConfig};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, Method};
use crate::model::{Capabilities, DeleteOutcome, FalAlphaCreateInput, FalAlphaListQuery, Instance, Operation, Page, Pagination};

const P: Provider = Provider::FalAlpha;

/// Status words of the alpha API.
pub const STATUSES: &[&str] = &["ready", "init", "pending", "provisioning", "unknown"];

/// What the alpha API offers.
pub fn capabilities() -> Capabilities {
    Capabilities {
        provider: P,
        display_name: P.display_name().to_owned(),
        operations: vec![Operation::List, Operation::Get, Operation::Create, Operation::Delete],
        pagination: Pagination::None,
        max_page_size: None,
        list_filters: vec![],
        idempotent_create: false,
        provider_statuses: STATUSES.iter().map(|s| s.to_string()).collect(),
        create_fields: super::fal::create_fields(false),
    }
}

/// Builds `GET /compute/instances` (the alpha API takes no query).
pub fn build_list_request(query: &FalAlphaListQuery, config: &ProviderConfig) -> Result<HttpRequest> {
    if query.cursor.is_some() {
        return Err(Error::invalid_input("cursor", "fal-alpha returns every instance in one page; there is no next page"));
    }
    Ok(HttpRequest::new(Method::Get, config.url("/compute/instances")).header("Authorization", auth_header(config)))
}

/// Parses the bare JSON array into one (last) page.
pub fn parse_list_response(response: HttpResponse) -> Result<Page<Instance>> {
    if !response.is_success() {
        return Err(error_for(P, &response));
    }
    let body: std::sync::Arc<[u8]> = response.body.as_slice().into();
    match fast_list(&body) {
        Some(page) => Ok(page),
        None => slow_list(&body),
    }
}

/// The list the fast way (see `provider::fast_record`): the array's records as spans.
pub(crate) fn fast_list(body: &std::sync::Arc<[u8]>) -> Option<Page<Instance>> {
    if !skips_as_strictly(body) {
        return None;
    }
    let records = serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(body).ok()?;
    let items = records.iter().map(|r| fast_instance(P, body, r)).collect::<Option<Vec<_>>>()?;
    Some(Page { items, next_cursor: None, has_more: false, total: None })
}

/// The list through a JSON tree and the path-tracking reader (the failure named precisely).
pub(crate) fn slow_list(body: &[u8]) -> Result<Page<Instance>> {
    let items = match parse_json(P, body)? {
        Value::Array(items) => items,
        other => return Err(Error::decode(P, "", format!("expected a JSON array of instances, got {}", json_kind(&other)))),
    };
    let items = items.into_iter().enumerate().map(|(i, v)| normalize(P, v, &format!("[{i}]"))).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, next_cursor: None, has_more: false, total: None })
}

/// Builds `GET /compute/instance/{id}` (singular `instance`).
pub fn build_get_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/compute/instance", id, "")?;
    Ok(HttpRequest::new(Method::Get, url).header("Authorization", auth_header(config)))
}

/// Parses one ComputeInstance.
pub fn parse_get_response(response: HttpResponse) -> Result<Instance> {
    if !response.is_success() {
        return Err(error_for(P, &response));
    }
    normalize(P, parse_json(P, &response.body)?, "")
}

/// Builds `POST /compute/instance` (no idempotency key: the alpha API documents none).
pub fn build_create_request(input: &FalAlphaCreateInput, config: &ProviderConfig) -> Result<HttpRequest> {
    validate_create(&input.instance_type, &input.ssh_key, input.sector.as_deref())?;
    Ok(HttpRequest::new(Method::Post, config.url("/compute/instance"))
        .header("Authorization", auth_header(config))
        .header("Content-Type", "application/json")
        .json_body(create_body(&input.instance_type, &input.ssh_key, input.sector.as_deref())))
}

/// Parses the created instance (the response is undocumented; a ComputeInstance is expected).
pub fn parse_create_response(response: HttpResponse) -> Result<Instance> {
    parse_get_response(response)
}

/// Builds `DELETE /compute/instance/{id}`.
pub fn build_delete_request(id: &str, config: &ProviderConfig) -> Result<HttpRequest> {
    let url = id_url(config, "/compute/instance", id, "")?;
    Ok(HttpRequest::new(Method::Delete, url).header("Authorization", auth_header(config)))
}

/// Any 2xx → deleted; 404 → already gone; anything else → the error.
pub fn parse_delete_response(response: HttpResponse) -> Result<DeleteOutcome> {
    match response.status {
        200..=299 => Ok(DeleteOutcome { already_gone: false }),
        404 => Ok(DeleteOutcome { already_gone: true }),
        _ => Err(error_for(P, &response)),
    }
}
