//! The installation's tenants (the platform operator's): the list, and a
//! new tenant with its first owner's invitation.
//!
//! Invariant: the owner's invitation secret appears in the one answer that
//! makes it.

use super::rfc3339;
use crate::admin::answer::{named, Created};
use crate::admin::extract::{AdminJson, AdminService, Caller, RequestBody};
use crate::admin::rules;
use crate::error::ApiError;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    /// Its id.
    pub id: Uuid,
    /// Its display name.
    pub name: String,
    /// When it was made.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A new tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewTenantView {
    /// Its id.
    pub id: Uuid,
    /// Its display name.
    pub name: String,
    /// The secret of its first owner's invitation, shown this once; `null`
    /// without an owner address.
    pub owner_invitation: Option<String>,
}

/// A tenant to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantRequest {
    /// Its display name.
    #[schema(schema_with = rules::display_name)]
    pub name: String,
    /// The first owner's e-mail address, to invite.
    #[schema(schema_with = rules::optional_email)]
    pub owner_email: Option<String>,
}

impl RequestBody for TenantRequest {}

named!(TenantView, NewTenantView, TenantRequest);

/// `GET /tenants`.
pub async fn list_tenants(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Json<Vec<TenantView>>, ApiError> {
    let tenants = admin.list_tenants(&principal).await?;
    Ok(Json(
        tenants
            .into_iter()
            .map(|t| TenantView {
                id: t.id.0,
                name: t.name,
                created_at: t.created_at,
            })
            .collect(),
    ))
}

/// `POST /tenants`.
pub async fn create_tenant(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(wanted): AdminJson<TenantRequest>,
) -> Result<Created<NewTenantView>, ApiError> {
    let (tenant, invitation) = admin
        .create_tenant(&principal, &wanted.name, wanted.owner_email.as_deref())
        .await?;
    Ok(Created(NewTenantView {
        id: tenant.id.0,
        name: tenant.name,
        owner_invitation: invitation.map(|i| i.secret.as_str().to_owned()),
    }))
}
