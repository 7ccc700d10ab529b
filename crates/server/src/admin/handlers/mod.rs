//! The admin API's handlers, one module per resource: read the request
//! through the extractors of `super::extract`, call one method of the
//! administration service, answer one of `super::answer`'s types. Every
//! rule lives in `nexaguard_admin`.
//!
//! Invariant: the JSON the handlers send is exactly their response types'
//! `Serialize` (camelCase names, times in RFC 3339), and those types'
//! `ToSchema` is what the OpenAPI document says; nothing is assembled as
//! untyped JSON.

pub mod audit;
pub mod consents;
pub mod keys;
pub mod mfa;
pub mod session;
pub mod sites;
pub mod tenants;
pub mod tokens;
pub mod users;
pub mod webhooks;

use crate::app::AppState;
use serde::Serializer;
use time::OffsetDateTime;

/// Serialises a time in RFC 3339, as every admin answer writes times. A
/// time RFC 3339 cannot write (a year past 9999) becomes `""` rather than
/// failing the whole answer.
pub(super) fn rfc3339<S: Serializer>(
    at: &OffsetDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(
        &at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    )
}

/// [`rfc3339`] for a time that may be absent (`null`).
pub(super) fn rfc3339_option<S: Serializer>(
    at: &Option<OffsetDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// Makes a change visible to the public API at once rather than at the
/// next periodic refresh.
pub(super) async fn refresh(state: &AppState) {
    if let Err(error) = state.refresh_sites().await {
        tracing::warn!(%error, "site refresh after an admin change failed");
    }
}
