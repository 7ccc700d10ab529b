//! A tenant's API tokens: the list, making one, revoking one.
//!
//! Invariant: a token's secret appears in the one answer that makes it;
//! lists never carry it.

use super::{rfc3339, rfc3339_option};
use crate::admin::answer::{named, Created, NoContent};
use crate::admin::extract::{AdminJson, AdminService, Caller, Ids, RequestBody};
use crate::admin::{rules, whole};
use crate::error::ApiError;
use axum::Json;
use nexaguard_access::{Permission, Role};
use nexaguard_store::admin::{ApiToken, ApiTokenId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// An API token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// Its id.
    pub id: Uuid,
    /// A name for people.
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// When it was made.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it stops working.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    /// When it was last used.
    #[serde(serialize_with = "rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<OffsetDateTime>,
    /// When it (or the token that made it) was revoked.
    #[serde(serialize_with = "rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
    /// The token that made it, if a token did.
    pub parent: Option<Uuid>,
    /// The step-up permissions it may use.
    pub step_up_scopes: Vec<Permission>,
}

impl From<&ApiToken> for TokenView {
    fn from(token: &ApiToken) -> Self {
        TokenView {
            id: token.id.0,
            name: token.name.clone(),
            role: token.role,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
            parent: token.parent.map(|p| p.0),
            step_up_scopes: token.step_up_scopes.clone(),
        }
    }
}

/// A new API token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenView {
    /// The token.
    #[serde(flatten)]
    pub token: TokenView,
    /// The secret, for `Authorization: Bearer`.
    pub secret: String,
}

/// An API token to make. Its schema is [`rules::token_request`], which
/// also says which step-up scopes each role may have.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenRequest {
    /// A name for people.
    pub name: String,
    /// The role it acts with; at most the caller's, never owner.
    pub role: Role,
    /// Days until it stops working.
    #[serde(deserialize_with = "whole::json_u32")]
    pub expires_in_days: u32,
    /// Step-up permissions of the role the token may use; none by default.
    #[serde(default)]
    pub step_up_scopes: Vec<Permission>,
}

impl utoipa::PartialSchema for TokenRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        rules::token_request()
    }
}

impl ToSchema for TokenRequest {}

impl RequestBody for TokenRequest {}

named!(TokenView, NewTokenView, TokenRequest);

/// `GET /tokens`.
pub async fn list_tokens(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = admin.list_tokens(&principal).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// `POST /tokens`.
pub async fn create_token(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(wanted): AdminJson<TokenRequest>,
) -> Result<Created<NewTokenView>, ApiError> {
    let made = admin
        .create_token(
            &principal,
            &wanted.name,
            wanted.role,
            wanted.expires_in_days,
            &wanted.step_up_scopes,
        )
        .await?;
    Ok(Created(NewTokenView {
        token: TokenView::from(&made.token),
        secret: made.secret.as_str().to_owned(),
    }))
}

/// `DELETE /tokens/{token}`.
pub async fn revoke_token(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(token): Ids<ApiTokenId>,
) -> Result<NoContent, ApiError> {
    admin.revoke_token(&principal, token).await?;
    Ok(NoContent)
}
