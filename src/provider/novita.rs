//! Novita GPU instances v1 — PLACEHOLDER being implemented (see helper task).
use super::{Provider, ProviderConfig};
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse};
use crate::model::*;
const P: Provider = Provider::Novita;
/// What Novita offers.
pub fn capabilities() -> Capabilities { Capabilities { provider: P, display_name: P.display_name().into(), operations: vec![Operation::List, Operation::Get, Operation::Create, Operation::Start, Operation::Stop, Operation::Restart, Operation::Delete], pagination: Pagination::PageNumber, max_page_size: Some(100), list_filters: vec![], idempotent_create: false, provider_statuses: vec![], create_fields: vec![] } }
/// x
pub fn build_list_request(_q: &NovitaListQuery, _c: &ProviderConfig) -> Result<HttpRequest> { Err(Error::unsupported(P, "list")) }
/// x
pub fn parse_list_response(_q: &NovitaListQuery, _r: HttpResponse) -> Result<Page<Instance>> { Err(Error::unsupported(P, "list")) }
/// x
pub fn build_get_request(_id: &str, _c: &ProviderConfig) -> Result<HttpRequest> { Err(Error::unsupported(P, "get")) }
/// x
pub fn parse_get_response(_r: HttpResponse) -> Result<Instance> { Err(Error::unsupported(P, "get")) }
/// x
pub fn build_create_request(_i: &NovitaCreateInput, _c: &ProviderConfig) -> Result<HttpRequest> { Err(Error::unsupported(P, "create")) }
/// x
pub fn parse_create_response(_r: HttpResponse) -> Result<String> { Err(Error::unsupported(P, "create")) }
/// x
pub fn build_delete_request(_id: &str, _c: &ProviderConfig) -> Result<HttpRequest> { Err(Error::unsupported(P, "delete")) }
/// x
pub fn parse_delete_response(_r: HttpResponse) -> Result<DeleteOutcome> { Err(Error::unsupported(P, "delete")) }
/// x
pub fn build_action_request(_op: Operation, _id: &str, _c: &ProviderConfig) -> Result<HttpRequest> { Err(Error::unsupported(P, "action")) }
/// x
pub fn parse_action_response(_r: HttpResponse) -> Result<()> { Err(Error::unsupported(P, "action")) }
