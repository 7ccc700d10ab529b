//! Who is asking: a signed-in user or an API token, with the tenant and the
//! role they act with.

use crate::error::AdminError;
use nexaguard_access::{Permission, Role};
use nexaguard_audit::{Action, Actor, AuditEvent, ChainId, Outcome};
use nexaguard_store::admin::{ApiTokenId, AuditAppend, UserId};
use nexaguard_store::TenantId;
use time::OffsetDateTime;

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
    },
    /// An API token.
    Token {
        /// The token.
        id: ApiTokenId,
    },
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
            Authentication::Token { .. } => Ok(()),
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
            Authentication::Token { .. } => None,
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
