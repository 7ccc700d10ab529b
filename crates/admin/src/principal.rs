//! Who is asking: a signed-in user or an API token, with the tenant and the
//! role they act with.

use crate::error::AdminError;
use nexaguard_access::{Permission, Role};
use nexaguard_audit::{Action, Actor, AuditEvent, ChainId, Outcome};
use nexaguard_store::admin::{ApiTokenId, AuditAppend, UserId};
use nexaguard_store::TenantId;
use time::{Duration, OffsetDateTime};

/// How long a second-factor proof counts for sensitive actions (promotion,
/// key rotation, API tokens, roles, removing users).
pub const STEP_UP_WINDOW: Duration = Duration::minutes(5);

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// A session cookie.
    Session {
        /// SHA-256 of the session id.
        id_hash: [u8; 32],
        /// The user.
        user: UserId,
        /// Whether this session has given the second factor.
        mfa_verified: bool,
        /// Whether the user has a second factor.
        mfa_enrolled: bool,
        /// When the second factor was last given in this session.
        mfa_at: Option<OffsetDateTime>,
    },
    /// An API token.
    Token {
        /// The token.
        id: ApiTokenId,
        /// When it stops working: tokens it makes may not live longer.
        expires_at: OffsetDateTime,
        /// The step-up permissions it was created to use explicitly.
        step_up_scopes: Vec<Permission>,
    },
    /// The operator at the machine, through the command line: whoever can
    /// open the database and its key-encryption key already holds more
    /// than any sign-in proves, so no second factor or step-up is asked.
    System,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who, for the audit log.
    pub actor: Actor,
    /// The tenant acted in; `None` for a platform operator.
    pub tenant: Option<TenantId>,
    /// The role acted with.
    pub role: Role,
    /// How.
    pub auth: Authentication,
    /// The caller's network (a /24 or /64), for the audit log.
    pub network: Option<String>,
}

impl Principal {
    /// The system acting for the operator of the installation (the CLI's
    /// administrative commands): in `tenant` as its owner, or, without
    /// one, as the platform operator. Its audit entries name the actor
    /// `system`.
    pub fn system(tenant: Option<TenantId>) -> Principal {
        Principal {
            actor: Actor::System,
            tenant,
            role: if tenant.is_some() {
                Role::Owner
            } else {
                Role::PlatformOperator
            },
            auth: Authentication::System,
            network: None,
        }
    }

    /// Whether the second factor is settled: given in this session when the
    /// user has one, enrolled when the role requires one. Tokens have no
    /// second factor; their role can never be one that requires it.
    pub fn require_mfa_done(&self) -> Result<(), AdminError> {
        match self.auth {
            Authentication::Session {
                mfa_verified,
                mfa_enrolled,
                ..
            } => {
                if mfa_enrolled && !mfa_verified {
                    Err(AdminError::MfaRequired)
                } else if !mfa_enrolled && self.role.requires_mfa() {
                    Err(AdminError::MfaEnrolmentRequired)
                } else {
                    Ok(())
                }
            }
            Authentication::Token { .. } | Authentication::System => Ok(()),
        }
    }

    /// Checks the second factor, then that the role has `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AdminError> {
        self.require_mfa_done()?;
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(AdminError::Forbidden(format!(
                "your role ({}) does not allow {}",
                self.role.as_str(),
                permission.as_str()
            )))
        }
    }

    /// Checks `permission`, then the step-up: for a session of a user with
    /// a second factor, that it was given within [`STEP_UP_WINDOW`] of
    /// `now` (the guard against a session left open or taken over); for an
    /// API token, that it was created with `permission` as a step-up scope
    /// (a token has no second factor, so the power must have been granted
    /// explicitly, by someone who stepped up to grant it). Users without a
    /// second factor have nothing to step up with; every role with a
    /// step-up permission requires one.
    pub fn require_step_up(
        &self,
        permission: Permission,
        now: OffsetDateTime,
    ) -> Result<(), AdminError> {
        self.require(permission)?;
        match &self.auth {
            Authentication::Token { step_up_scopes, .. } => {
                if step_up_scopes.contains(&permission) {
                    Ok(())
                } else {
                    Err(AdminError::ScopeRequired(permission))
                }
            }
            Authentication::Session { .. } => self.require_recent_factor(now),
            Authentication::System => Ok(()),
        }
    }

    /// For a session of a user with a second factor, that it was given
    /// within [`STEP_UP_WINDOW`] of `now`, whatever the permission (a
    /// password change is the user's own business, not a permission).
    /// Tokens never pass: they have no factor and no password.
    pub fn require_recent_factor(&self, now: OffsetDateTime) -> Result<(), AdminError> {
        match self.auth {
            Authentication::Session {
                mfa_enrolled: true,
                mfa_at,
                ..
            } if mfa_at.map_or(true, |at| now - at > STEP_UP_WINDOW) => {
                Err(AdminError::StepUpRequired)
            }
            Authentication::Session { .. } => Ok(()),
            Authentication::Token { .. } => Err(AdminError::Forbidden(
                "this needs a signed-in user, not an API token".to_owned(),
            )),
            Authentication::System => Err(AdminError::Forbidden(
                "this needs a signed-in user".to_owned(),
            )),
        }
    }

    /// The caller's tenant. Only platform operators have none, and no
    /// tenant permission is theirs, so this fails only on a routing bug.
    pub fn tenant(&self) -> Result<TenantId, AdminError> {
        self.tenant
            .ok_or_else(|| AdminError::Forbidden("this needs a tenant account".to_owned()))
    }

    /// The user behind a session, if it is one.
    pub fn user(&self) -> Option<UserId> {
        match self.auth {
            Authentication::Session { user, .. } => Some(user),
            Authentication::Token { .. } | Authentication::System => None,
        }
    }

    /// The audit chain the caller's actions go to.
    pub fn chain(&self) -> ChainId {
        chain_of(self.tenant)
    }

    /// An audit entry for a successful action of the caller.
    pub fn audit(
        &self,
        action: Action,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> AuditAppend {
        self.audit_outcome(action, target, Outcome::Success, details)
    }

    /// An audit entry for an action of the caller with `outcome`.
    pub fn audit_outcome(
        &self,
        action: Action,
        target: impl Into<String>,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> AuditAppend {
        audit_entry(
            self.chain(),
            self.actor,
            action,
            target.into(),
            outcome,
            self.network.clone(),
            details,
        )
    }
}

/// The audit chain of a tenant, or the platform's.
pub fn chain_of(tenant: Option<TenantId>) -> ChainId {
    match tenant {
        Some(tenant) => ChainId::Tenant(tenant.0),
        None => ChainId::Platform,
    }
}

/// An audit entry to append now.
pub fn audit_entry(
    chain: ChainId,
    actor: Actor,
    action: Action,
    target: String,
    outcome: Outcome,
    network: Option<String>,
    details: serde_json::Value,
) -> AuditAppend {
    AuditAppend {
        chain,
        event: AuditEvent {
            action,
            actor,
            target,
            outcome,
            client_network: network,
            details,
        },
        at: OffsetDateTime::now_utc(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    const NOW: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

    fn session(role: Role, enrolled: bool, mfa_at: Option<OffsetDateTime>) -> Principal {
        Principal {
            actor: Actor::User(Uuid::nil()),
            tenant: Some(TenantId(Uuid::nil())),
            role,
            auth: Authentication::Session {
                id_hash: [0; 32],
                user: UserId(Uuid::nil()),
                mfa_verified: mfa_at.is_some(),
                mfa_enrolled: enrolled,
                mfa_at,
            },
            network: None,
        }
    }

    fn token(role: Role, step_up_scopes: Vec<Permission>) -> Principal {
        Principal {
            actor: Actor::Token(Uuid::nil()),
            tenant: Some(TenantId(Uuid::nil())),
            role,
            auth: Authentication::Token {
                id: ApiTokenId(Uuid::nil()),
                expires_at: NOW + Duration::days(30),
                step_up_scopes,
            },
            network: None,
        }
    }

    #[test]
    fn a_token_without_the_scope_is_refused_what_needs_step_up() {
        let plain = token(Role::Admin, Vec::new());
        for permission in [Permission::ManageUsers, Permission::PromoteProduction] {
            assert!(plain.require(permission).is_ok(), "ordinary use stays");
            assert!(matches!(
                plain.require_step_up(permission, NOW),
                Err(AdminError::ScopeRequired(p)) if p == permission
            ));
        }
        let scoped = token(Role::Admin, vec![Permission::PromoteProduction]);
        assert!(scoped
            .require_step_up(Permission::PromoteProduction, NOW)
            .is_ok());
        assert!(scoped
            .require_step_up(Permission::ManageUsers, NOW)
            .is_err());
        // A scope does not add to the role.
        let editor = token(Role::Editor, vec![Permission::PromoteProduction]);
        assert!(matches!(
            editor.require_step_up(Permission::PromoteProduction, NOW),
            Err(AdminError::Forbidden(_))
        ));
        // And no token changes a password.
        assert!(scoped.require_recent_factor(NOW).is_err());
    }

    #[test]
    fn the_system_acts_as_owner_or_operator_without_a_second_factor() {
        let owner = Principal::system(Some(TenantId(Uuid::nil())));
        assert_eq!((owner.role, owner.actor), (Role::Owner, Actor::System));
        assert!(owner
            .require_step_up(Permission::PromoteProduction, NOW)
            .is_ok());
        assert!(owner.require(Permission::ManageTenants).is_err());
        let operator = Principal::system(None);
        assert_eq!(operator.role, Role::PlatformOperator);
        assert!(operator.require(Permission::ManageTenants).is_ok());
        assert!(operator.tenant().is_err());
        // It has no password to change.
        assert!(operator.require_recent_factor(NOW).is_err());
    }

    #[test]
    fn step_up_needs_a_recent_second_factor() {
        let promote = Permission::PromoteProduction;
        let fresh = session(Role::Owner, true, Some(NOW - Duration::minutes(4)));
        assert!(fresh.require_step_up(promote, NOW).is_ok());
        let stale = session(Role::Owner, true, Some(NOW - Duration::minutes(6)));
        assert!(matches!(
            stale.require_step_up(promote, NOW),
            Err(AdminError::StepUpRequired)
        ));
        // Ordinary actions do not ask again.
        assert!(stale.require(promote).is_ok());
        // A publisher without a second factor is sent to enrol one.
        let publisher = session(Role::Publisher, false, None);
        assert!(matches!(
            publisher.require_step_up(promote, NOW),
            Err(AdminError::MfaEnrolmentRequired)
        ));
        // The permission is still checked first.
        let viewer = session(Role::Viewer, true, Some(NOW));
        assert!(matches!(
            viewer.require_step_up(promote, NOW),
            Err(AdminError::Forbidden(_))
        ));
    }
}
