//! What admin handlers take from a request, each piece an extractor whose
//! refusal is the error table's JSON answer: the administration service,
//! the caller, the client's network, ids in the path, the query string and
//! the JSON body.
//!
//! Invariant: a handler reads its request only through these (and
//! `State`), and each says what it reads to the OpenAPI document
//! ([`Input`]), so a handler cannot read a parameter or a body the document
//! does not describe.
//!
//! Invariant: the refusals are those the admin API always answered: an id
//! that is not a UUID is `404 not_found` naming the kind of thing; a body
//! is `415` unless JSON, `413` past its limit, `400 invalid_json` when
//! broken and `422 invalid_request` of the wrong shape (`crate::body`); a
//! query string of the wrong shape is `400 invalid_query`.

use super::guard::SessionCookie;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ClientIp, PathParams};
use crate::ratelimit::Network;
use axum::extract::{
    FromRequest, FromRequestParts, OptionalFromRequestParts, Query, Request, State,
};
use axum::http::request::Parts;
use axum::http::StatusCode;
use nexaguard_admin::{Admin, Principal};
use nexaguard_store::admin::{ApiTokenId, UserId};
use nexaguard_store::webhooks::{DeliveryId, WebhookId};
use nexaguard_store::SiteId;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use utoipa::openapi::path::Parameter;
use utoipa::IntoParams;
use uuid::Uuid;

/// Largest admin request body, but for configuration drafts: room for the
/// longest string the document allows, and one character more, with every
/// character escaped as JSON allows (`\uD83C\uDFFB`, 12 bytes a
/// character): a webhook URL of 2049 characters takes 24 KiB, so that a
/// value one past its limit is refused for its length (422), not for the
/// body's (413).
pub const MAX_BODY: usize = 64 * 1024;

/// Largest draft body: the configuration plus its envelope.
pub const MAX_DRAFT_BODY: usize = nexaguard_admin::sites::MAX_CONFIG_BYTES + 1024;

/// The administration service.
#[derive(Debug, Clone)]
pub struct AdminService(pub Arc<Admin>);

impl FromRequestParts<AppState> for AdminService {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state
            .admin
            .as_ref()
            .map(|http| AdminService(Arc::clone(&http.admin)))
            .ok_or_else(|| ApiError::not_found("not_found", "the admin API is not enabled"))
    }
}

/// The authenticated caller, as the guard found it.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .remove::<Principal>()
            .map(Caller)
            .ok_or_else(|| {
                // The guard authenticates every route that is not Public;
                // a handler asking for a caller on a Public route is a
                // mistake in the route table.
                tracing::error!("an admin handler needs a caller its route does not authenticate");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the request could not be handled",
                )
            })
    }
}

/// The session secret of a cookie-authenticated caller (the CSRF token
/// is derived from it); as `Option<SessionCookie>`, `None` for an API token.
impl<S: Send + Sync> OptionalFromRequestParts<S> for SessionCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<SessionCookie>().cloned())
    }
}

/// The client's network (a /24 or /64), what the audit log keeps of the
/// client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientNetwork(pub String);

impl FromRequestParts<AppState> for ClientNetwork {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        Ok(ClientNetwork(Network::of(ip).to_string()))
    }
}

/// An id in an admin path: a UUID naming one kind of thing.
pub trait PathId: Sized {
    /// The thing, for "site not found".
    const WHAT: &'static str;
    /// The id of `uuid`.
    fn from_uuid(uuid: Uuid) -> Self;
}

macro_rules! path_ids {
    ($($ty:ty => $what:literal, $wrap:expr;)*) => {$(
        impl PathId for $ty {
            const WHAT: &'static str = $what;
            fn from_uuid(uuid: Uuid) -> Self {
                $wrap(uuid)
            }
        }
    )*};
}

path_ids! {
    SiteId => "site", SiteId;
    UserId => "user", UserId;
    ApiTokenId => "token", ApiTokenId;
    WebhookId => "webhook", WebhookId;
    DeliveryId => "delivery", DeliveryId;
}

/// The ids of an admin path, in the order of its placeholders: `Ids<SiteId>`
/// for `/sites/{site}`, `Ids<(SiteId, WebhookId)>` for
/// `/sites/{site}/webhooks/{webhook}`. Text that is not a UUID names
/// nothing: `404 not_found` ("site not found").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids<T>(pub T);

fn parse<T: PathId>(text: &str) -> Result<T, ApiError> {
    Uuid::parse_str(text)
        .map(T::from_uuid)
        .map_err(|_| ApiError::not_found("not_found", format!("{} not found", T::WHAT)))
}

impl<S: Send + Sync, A: PathId> FromRequestParts<S> for Ids<A> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathParams(a) = PathParams::<String>::from_request_parts(parts, state).await?;
        Ok(Ids(parse(&a)?))
    }
}

impl<S: Send + Sync, A: PathId, B: PathId> FromRequestParts<S> for Ids<(A, B)> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathParams((a, b)) =
            PathParams::<(String, String)>::from_request_parts(parts, state).await?;
        Ok(Ids((parse(&a)?, parse(&b)?)))
    }
}

impl<S: Send + Sync, A: PathId, B: PathId, C: PathId> FromRequestParts<S> for Ids<(A, B, C)> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let PathParams((a, b, c)) =
            PathParams::<(String, String, String)>::from_request_parts(parts, state).await?;
        Ok(Ids((parse(&a)?, parse(&b)?, parse(&c)?)))
    }
}

/// The query string as `T`, refused as `400 invalid_query` naming the
/// parameter.
#[derive(Debug, Clone)]
pub struct AdminQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AdminQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| AdminQuery(value))
            .map_err(ApiError::from)
    }
}

/// A JSON request body: how large it may be and how its errors name it.
pub trait RequestBody: DeserializeOwned {
    /// The largest body accepted, in bytes.
    const MAX_BYTES: usize = MAX_BODY;
    /// The body in the 415 message ("send the request as application/json").
    const WHAT: &'static str = "the request";
}

/// A required JSON body (`Content-Type: application/json`), read with
/// `crate::body`'s errors.
#[derive(Debug, Clone)]
pub struct AdminJson<T>(pub T);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for AdminJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        crate::body::json(
            &parts.headers,
            body,
            T::MAX_BYTES,
            T::WHAT,
            "invalid_request",
        )
        .await
        .map(AdminJson)
    }
}

/// A JSON body needed only in some cases: an empty body (whatever its media
/// type) means `T::default()`.
#[derive(Debug, Clone)]
pub struct AdminJsonOrDefault<T>(pub T);

impl<S: Send + Sync, T: RequestBody + Default> FromRequest<S> for AdminJsonOrDefault<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        crate::body::json_or_default(
            &parts.headers,
            body,
            T::MAX_BYTES,
            T::WHAT,
            "invalid_request",
        )
        .await
        .map(AdminJsonOrDefault)
    }
}

/// What an extractor contributes to its operation in the OpenAPI document.
/// Every extractor an admin handler takes implements it (the route table
/// does not compile otherwise, see `super::table`).
pub trait Input {
    /// The query parameters it reads.
    fn query_parameters() -> Vec<Parameter> {
        Vec::new()
    }
}

impl Input for State<AppState> {}
impl Input for AdminService {}
impl Input for Caller {}
impl Input for Option<SessionCookie> {}
impl Input for ClientNetwork {}
impl<T> Input for Ids<T> {}
impl<T> Input for AdminJson<T> {}
impl<T> Input for AdminJsonOrDefault<T> {}

impl<T: IntoParams> Input for AdminQuery<T> {
    fn query_parameters() -> Vec<Parameter> {
        T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query))
    }
}
