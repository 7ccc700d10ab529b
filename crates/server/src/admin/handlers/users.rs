//! A tenant's users: invitations and their acceptance, the list, roles,
//! removal.
//!
//! Invariant: an invitation's secret appears in the one answer that makes
//! it; e-mail addresses are answered as the administration service opened
//! them for the caller's tenant.

use super::rfc3339;
use crate::admin::answer::{named, Created, NoContent};
use crate::admin::extract::{AdminJson, AdminService, Caller, ClientNetwork, Ids, RequestBody};
use crate::admin::rules;
use crate::error::ApiError;
use axum::Json;
use nexaguard_access::{InvitationSecret, Role};
use nexaguard_store::admin::UserId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// Its id.
    pub id: Uuid,
    /// The e-mail address.
    pub email: String,
    /// Its role.
    pub role: Role,
    /// Whether a second factor is enrolled.
    pub mfa_enrolled: bool,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<nexaguard_admin::users::UserView> for UserView {
    fn from(user: nexaguard_admin::users::UserView) -> Self {
        UserView {
            id: user.id.0,
            email: user.email,
            role: user.role,
            mfa_enrolled: user.mfa_enrolled,
            created_at: user.created_at,
        }
    }
}

/// Accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Acceptance {
    /// The invitation's secret, as the invitation answered it.
    pub invitation: String,
    /// The new account's password: 12 characters or more, at most 1024
    /// bytes.
    #[schema(schema_with = rules::new_password)]
    pub password: String,
}

/// An invitation to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    /// The invitee's e-mail address.
    #[schema(schema_with = rules::email)]
    pub email: String,
    /// The role the account gets; at most the inviter's.
    pub role: Role,
}

/// A new invitation; its secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// Its id.
    pub id: Uuid,
    /// The secret the invitee accepts it with.
    pub invitation: String,
    /// When it lapses.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

/// A new role for a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// The role; at most the caller's.
    pub role: Role,
}

impl RequestBody for Acceptance {}
impl RequestBody for InvitationRequest {}
impl RequestBody for RoleChange {}

named!(
    UserView,
    Acceptance,
    InvitationRequest,
    InvitationView,
    RoleChange
);

/// `POST /invitations/accept`.
pub async fn accept_invitation(
    AdminService(admin): AdminService,
    ClientNetwork(network): ClientNetwork,
    AdminJson(acceptance): AdminJson<Acceptance>,
) -> Result<Created<UserView>, ApiError> {
    let secret = InvitationSecret::parse(acceptance.invitation.trim())
        .ok_or_else(|| ApiError::not_found("not_found", "invitation not found"))?;
    let user = admin
        .accept_invitation(&secret, &acceptance.password, Some(network))
        .await?;
    Ok(Created(UserView::from(user)))
}

/// `POST /invitations`.
pub async fn invite(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(wanted): AdminJson<InvitationRequest>,
) -> Result<Created<InvitationView>, ApiError> {
    let made = admin.invite(&principal, &wanted.email, wanted.role).await?;
    Ok(Created(InvitationView {
        id: made.id,
        invitation: made.secret.as_str().to_owned(),
        expires_at: made.expires_at,
    }))
}

/// `GET /users`.
pub async fn list_users(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = admin.list_users(&principal).await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
}

/// `PUT /users/{user}/role`.
pub async fn set_role(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(user): Ids<UserId>,
    AdminJson(RoleChange { role }): AdminJson<RoleChange>,
) -> Result<NoContent, ApiError> {
    admin.set_role(&principal, user, role).await?;
    Ok(NoContent)
}

/// `DELETE /users/{user}`.
pub async fn remove_user(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(user): Ids<UserId>,
) -> Result<NoContent, ApiError> {
    admin.remove_user(&principal, user).await?;
    Ok(NoContent)
}
