//! Tenants, for the platform operator.

use crate::error::AdminError;
use crate::principal::Principal;
use crate::users::{check_email, NewInvitation};
use crate::Admin;
use nexaguard_access::{Permission, Role};
use nexaguard_audit::Action;
use nexaguard_store::{Tenant, TenantId};
use serde_json::json;
use uuid::Uuid;

/// Longest tenant name, in characters.
const MAX_NAME_CHARS: usize = 200;

/// Checks a display name: 1 to `max` characters, no control characters.
pub fn check_name(name: &str, max: usize) -> Result<&str, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > max || name.chars().any(char::is_control) {
        return Err(AdminError::invalid(
            "bad_name",
            format!("a name has 1 to {max} characters and no control characters"),
        ));
    }
    Ok(name)
}

impl Admin {
    /// Creates a tenant and, given an address, the invitation of its first
    /// owner.
    pub async fn create_tenant(
        &self,
        principal: &Principal,
        name: &str,
        owner_email: Option<&str>,
    ) -> Result<(Tenant, Option<NewInvitation>), AdminError> {
        principal.require(Permission::ManageTenants)?;
        let name = check_name(name, MAX_NAME_CHARS)?;
        if let Some(email) = owner_email {
            check_email(email)?;
        }
        // The id is chosen here so that the audit entry, which commits in
        // the tenant's own transaction, can name it.
        let id = TenantId(Uuid::new_v4());
        let audit = principal.audit(Action::TenantCreated, format!("tenant:{}", id.0), json!({}));
        let tenant = self.store.create_tenant_audited(id, name, audit).await?;
        let invitation = match owner_email {
            Some(email) => Some(
                self.create_invitation(principal, tenant.id, email, Role::Owner)
                    .await?,
            ),
            None => None,
        };
        Ok((tenant, invitation))
    }

    /// Every tenant.
    pub async fn list_tenants(&self, principal: &Principal) -> Result<Vec<Tenant>, AdminError> {
        principal.require(Permission::ManageTenants)?;
        Ok(self.consents.tenants().await?)
    }
}
