//! API tokens for automation: bound to a tenant and a role, shown once,
//! stored hashed, with an expiry, the time of last use and revocation.
//!
//! A token never holds more than who made it: its role is one they may
//! grant, its step-up scopes are ones they hold (a session holds them all
//! once stepped up), and a token made by a token expires no later than
//! its parent and is revoked with it.

use crate::error::AdminError;
use crate::principal::{Authentication, Principal};
use crate::users::check_grant;
use crate::Admin;
use nexaguard_access::{ApiTokenSecret, Permission, Role};
use nexaguard_audit::Action;
use nexaguard_store::admin::{ApiToken, ApiTokenId};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

/// The longest a token may live.
pub const MAX_TOKEN_DAYS: u32 = 365;

/// A new token; the secret is shown this once.
#[derive(Debug)]
pub struct NewToken {
    /// The token as stored.
    pub token: ApiToken,
    /// The secret for the `Authorization: Bearer` header.
    pub secret: ApiTokenSecret,
}

impl Admin {
    /// Creates a token in the caller's tenant. Its role may not exceed the
    /// caller's, and never be owner (a token cannot give a second factor);
    /// `step_up_scopes` are the step-up permissions of its role it may use
    /// (none unless asked for by name).
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        role: Role,
        days: u32,
        step_up_scopes: &[Permission],
    ) -> Result<NewToken, AdminError> {
        principal.require_step_up(Permission::ManageTokens, time::OffsetDateTime::now_utc())?;
        let tenant = principal.tenant()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AdminError::invalid(
                "bad_name",
                "a token name has 1 to 100 characters",
            ));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AdminError::invalid(
                "bad_expiry",
                format!("a token lives 1 to {MAX_TOKEN_DAYS} days"),
            ));
        }
        if matches!(role, Role::Owner | Role::PlatformOperator) {
            return Err(AdminError::invalid(
                "bad_role",
                "a token cannot have the owner or platform operator role",
            ));
        }
        check_grant(principal, role)?;
        for &scope in step_up_scopes {
            if !scope.is_step_up() || !role.allows(scope) {
                return Err(AdminError::invalid(
                    "bad_scope",
                    format!(
                        "{scope} is not a step-up permission of the {} role",
                        role.as_str()
                    ),
                ));
            }
        }
        let now = OffsetDateTime::now_utc();
        let expires_at = now + time::Duration::days(i64::from(days));
        let parent = match &principal.auth {
            Authentication::Token {
                id,
                expires_at: parent_expiry,
                step_up_scopes: held,
            } => {
                if let Some(scope) = step_up_scopes.iter().find(|s| !held.contains(s)) {
                    return Err(AdminError::ScopeRequired(*scope));
                }
                if expires_at > *parent_expiry {
                    // The request is fine; the token asking expires
                    // sooner: a conflict with its own stored expiry.
                    return Err(AdminError::state(
                        "bad_expiry",
                        "a token cannot outlive the token that makes it",
                    ));
                }
                Some(*id)
            }
            Authentication::Session { .. } | Authentication::System => None,
        };
        let mut step_up_scopes = step_up_scopes.to_vec();
        step_up_scopes.sort();
        step_up_scopes.dedup();
        let token = ApiToken {
            id: ApiTokenId(Uuid::new_v4()),
            tenant,
            name: name.to_owned(),
            role,
            created_by: principal.actor.to_text(),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            parent,
            step_up_scopes,
        };
        let secret = ApiTokenSecret::generate();
        let audit = principal.audit(
            Action::TokenCreated,
            format!("token:{}", token.id.0),
            json!({
                "role": role.as_str(),
                "days": days,
                "stepUpScopes": token.step_up_scopes.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                "parent": token.parent.map(|p| p.0),
            }),
        );
        self.store
            .create_api_token(token.clone(), secret.hash(), audit)
            .await?;
        Ok(NewToken { token, secret })
    }

    /// The tokens of the caller's tenant.
    pub async fn list_tokens(&self, principal: &Principal) -> Result<Vec<ApiToken>, AdminError> {
        principal.require(Permission::ManageTokens)?;
        Ok(self.store.api_tokens(principal.tenant()?).await?)
    }

    /// Revokes a token of the caller's tenant, and with it every token it
    /// made.
    pub async fn revoke_token(
        &self,
        principal: &Principal,
        id: ApiTokenId,
    ) -> Result<(), AdminError> {
        principal.require(Permission::ManageTokens)?;
        let audit = principal.audit(Action::TokenRevoked, format!("token:{}", id.0), json!({}));
        if self
            .store
            .revoke_api_token(principal.tenant()?, id, audit)
            .await?
        {
            Ok(())
        } else {
            Err(AdminError::NotFound("token"))
        }
    }
}
