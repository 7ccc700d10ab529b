//! Users, invitations and roles. Nobody grants a role above their own,
//! and nobody changes their own role or removes themselves.
//!
//! An e-mail address has at most one account per tenant (and one platform
//! operator account): an account is a membership, so inviting an address
//! never depends on, and never reveals, its accounts in other tenants.

use crate::error::AdminError;
use crate::keys::Scope;
use crate::principal::{audit_entry, chain_of, Principal};
use crate::Admin;
use nexaguard_access::{hash_password, verify_password, InvitationSecret, Permission, Role};
use nexaguard_audit::{Action, Actor, Outcome};
use nexaguard_store::admin::{Invitation, NewUser, User, UserChange, UserId};
use nexaguard_store::TenantId;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

/// How long an invitation can be accepted.
const INVITATION_LIFETIME: time::Duration = time::Duration::days(7);

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// Its id.
    pub id: UserId,
    /// The e-mail address (opened for the caller).
    pub email: String,
    /// Its role.
    pub role: Role,
    /// Whether a second factor is enrolled.
    pub mfa_enrolled: bool,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A new invitation; the secret is shown this once.
#[derive(Debug)]
pub struct NewInvitation {
    /// Its id.
    pub id: Uuid,
    /// The secret the invitee signs up with.
    pub secret: InvitationSecret,
    /// When it lapses.
    pub expires_at: OffsetDateTime,
}

/// An invitation not yet accepted, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    /// Its id.
    pub id: Uuid,
    /// The invited address (opened for the caller).
    pub email: String,
    /// The role the invitee gets.
    pub role: Role,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it lapses.
    pub expires_at: OffsetDateTime,
}

fn email_context(index: &[u8; 32]) -> String {
    // The index, not the user id, binds the sealed address: invitations
    // seal it before there is a user.
    let hex: String = index.iter().map(|b| format!("{b:02x}")).collect();
    format!("email|{hex}")
}

/// Checks the shape of an e-mail address: one `@`, something either side,
/// a dot in the domain, at most 254 bytes, and none of the characters that
/// let a stored address break out of where it is shown or written: no
/// whitespace, no control characters (CR, LF, NUL...), no `"`, `<`, `>`,
/// `\`, `(`, `)`, `,`, `;` (quoted local parts and comments, legal in RFC
/// 5322, are refused: no mailbox an admin uses needs them). Surrounding
/// whitespace is trimmed first, as [`normalise_email`] does.
pub fn check_email(email: &str) -> Result<(), AdminError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"<>\\(),;".contains(c))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "bad_email",
            "that is not an e-mail address",
        ))
    }
}

/// The form an address is stored and shown in: trimmed, the domain in
/// lower case (domains are case-insensitive; the local part is left as
/// typed, which is what mail servers see).
pub fn normalise_email(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => email.to_owned(),
    }
}

impl Admin {
    /// Creates a user directly, as the system (the CLI's bootstrap of the
    /// first operator or owner; tests).
    pub async fn create_user_as_system(
        &self,
        tenant: Option<TenantId>,
        role: Role,
        email: &str,
        password: &str,
    ) -> Result<User, AdminError> {
        if role.is_platform() != tenant.is_none() {
            return Err(AdminError::invalid(
                "bad_role",
                "platform operators have no tenant; every other role needs one",
            ));
        }
        let new = self.new_user(tenant, role, email, password).await?;
        let audit = audit_entry(
            chain_of(tenant),
            Actor::System,
            Action::UserCreated,
            "user:new".to_owned(),
            Outcome::Success,
            None,
            json!({"role": role.as_str()}),
        );
        Ok(self.store.create_user(new, audit).await?)
    }

    async fn new_user(
        &self,
        tenant: Option<TenantId>,
        role: Role,
        email: &str,
        password: &str,
    ) -> Result<NewUser, AdminError> {
        check_email(email)?;
        let password_hash = hash_password(password)
            .map_err(|e| AdminError::invalid("weak_password", e.to_string()))?;
        let email_index = self.keys.email_index(email).await?;
        // Sign-in tells an address's accounts apart by password, so a new
        // account must not share one with another account of the address.
        // This tells only someone who already knows that password.
        for other in self.store.users_by_email_index(&email_index).await? {
            if other.tenant == tenant {
                return Err(AdminError::Conflict(
                    "that e-mail address has an account in this tenant".to_owned(),
                ));
            }
            if verify_password(password, &other.password_hash) {
                return Err(AdminError::invalid(
                    "password_in_use",
                    "choose a password you do not use for another NexaGuard account",
                ));
            }
        }
        let email_sealed = self
            .keys
            .seal(
                Scope::of(tenant),
                &email_context(&email_index),
                normalise_email(email).as_bytes(),
            )
            .await?;
        Ok(NewUser {
            tenant,
            role,
            email_index,
            email_sealed,
            password_hash,
        })
    }

    async fn view(&self, user: User) -> Result<UserView, AdminError> {
        let email = self
            .keys
            .open(&user.email_sealed, &email_context(&user.email_index))
            .await?;
        Ok(UserView {
            id: user.id,
            email: String::from_utf8_lossy(&email).into_owned(),
            role: user.role,
            mfa_enrolled: user.has_mfa(),
            created_at: user.created_at,
        })
    }

    /// The users of the caller's tenant.
    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<UserView>, AdminError> {
        principal.require(Permission::ManageUsers)?;
        let mut views = Vec::new();
        for user in self.store.users(principal.tenant).await? {
            views.push(self.view(user).await?);
        }
        Ok(views)
    }

    /// The invitations of the caller's tenant that can still be accepted,
    /// oldest first (the secrets are not kept, only their hashes).
    pub async fn pending_invitations(
        &self,
        principal: &Principal,
    ) -> Result<Vec<PendingInvitation>, AdminError> {
        principal.require(Permission::ManageUsers)?;
        let now = OffsetDateTime::now_utc();
        let mut pending = Vec::new();
        for invitation in self.store.invitations(principal.tenant()?).await? {
            if invitation.accepted_at.is_some() || invitation.expires_at <= now {
                continue;
            }
            let email = self
                .keys
                .open(
                    &invitation.email_sealed,
                    &email_context(&invitation.email_index),
                )
                .await?;
            pending.push(PendingInvitation {
                id: invitation.id,
                email: String::from_utf8_lossy(&email).into_owned(),
                role: invitation.role,
                created_at: invitation.created_at,
                expires_at: invitation.expires_at,
            });
        }
        pending.sort_by_key(|i| i.created_at);
        Ok(pending)
    }

    /// The caller's own account.
    pub async fn me(&self, principal: &Principal) -> Result<Option<UserView>, AdminError> {
        match principal.user() {
            Some(id) => match self.store.user(id).await? {
                Some(user) => Ok(Some(self.view(user).await?)),
                None => Err(AdminError::Unauthenticated),
            },
            None => Ok(None),
        }
    }

    /// Invites someone to the caller's tenant with `role`.
    pub async fn invite(
        &self,
        principal: &Principal,
        email: &str,
        role: Role,
    ) -> Result<NewInvitation, AdminError> {
        principal.require(Permission::ManageUsers)?;
        self.create_invitation(principal, principal.tenant()?, email, role)
            .await
    }

    /// Makes an invitation to `tenant` (the caller's, or, for an operator,
    /// a new tenant's first owner).
    pub(crate) async fn create_invitation(
        &self,
        principal: &Principal,
        tenant: TenantId,
        email: &str,
        role: Role,
    ) -> Result<NewInvitation, AdminError> {
        check_grant(principal, role)?;
        check_email(email)?;
        let now = OffsetDateTime::now_utc();
        let email_index = self.keys.email_index(email).await?;
        // Only the inviter's own tenant is looked at: an account of the
        // address elsewhere is none of their business, and does not stop
        // the invitation (an address has one account per tenant).
        let in_tenant = self
            .store
            .users_by_email_index(&email_index)
            .await?
            .iter()
            .any(|user| user.tenant == Some(tenant));
        if in_tenant {
            return Err(AdminError::Conflict(
                "that e-mail address has an account in this tenant".to_owned(),
            ));
        }
        let invitation = Invitation {
            id: Uuid::new_v4(),
            tenant,
            email_index,
            email_sealed: self
                .keys
                .seal(
                    Scope::Tenant(tenant),
                    &email_context(&email_index),
                    normalise_email(email).as_bytes(),
                )
                .await?,
            role,
            created_by: principal.actor.to_text(),
            created_at: now,
            expires_at: now + INVITATION_LIFETIME,
            accepted_at: None,
        };
        let secret = InvitationSecret::generate();
        let audit = principal.audit(
            Action::InvitationCreated,
            format!("invitation:{}", invitation.id),
            json!({"role": role.as_str()}),
        );
        self.store
            .create_invitation(invitation.clone(), secret.hash(), audit)
            .await?;
        Ok(NewInvitation {
            id: invitation.id,
            secret,
            expires_at: invitation.expires_at,
        })
    }

    /// Accepts an invitation with a password, creating the account.
    pub async fn accept_invitation(
        &self,
        secret: &InvitationSecret,
        password: &str,
        network: Option<String>,
    ) -> Result<UserView, AdminError> {
        let invitation = self
            .store
            .invitation_by_hash(&secret.hash())
            .await?
            .ok_or(AdminError::NotFound("invitation"))?;
        if invitation.accepted_at.is_some() {
            return Err(AdminError::Conflict(
                "the invitation was already used".to_owned(),
            ));
        }
        if invitation.expires_at <= OffsetDateTime::now_utc() {
            return Err(AdminError::state(
                "invitation_expired",
                "the invitation has expired",
            ));
        }
        let email = self
            .keys
            .open(
                &invitation.email_sealed,
                &email_context(&invitation.email_index),
            )
            .await?;
        let email = String::from_utf8_lossy(&email).into_owned();
        let new = self
            .new_user(Some(invitation.tenant), invitation.role, &email, password)
            .await?;
        let audit = audit_entry(
            chain_of(Some(invitation.tenant)),
            Actor::System,
            Action::InvitationAccepted,
            format!("invitation:{}", invitation.id),
            Outcome::Success,
            network,
            json!({"role": invitation.role.as_str()}),
        );
        let user = self
            .store
            .accept_invitation(invitation.id, new, audit)
            .await?
            .ok_or_else(|| AdminError::Conflict("the invitation was already used".to_owned()))?;
        self.view(user).await
    }

    /// Gives a user of the caller's tenant another role.
    pub async fn set_role(
        &self,
        principal: &Principal,
        user: UserId,
        role: Role,
    ) -> Result<(), AdminError> {
        principal.require_step_up(Permission::ManageUsers, time::OffsetDateTime::now_utc())?;
        let target = self.tenant_user(principal, user).await?;
        check_grant(principal, role)?;
        check_grant(principal, target.role)?;
        let audit = principal.audit(
            Action::UserRoleChanged,
            format!("user:{}", user.0),
            json!({"from": target.role.as_str(), "to": role.as_str()}),
        );
        self.store
            .update_user(principal.tenant, user, UserChange::Role(role), Some(audit))
            .await?;
        Ok(())
    }

    /// Removes a user of the caller's tenant.
    pub async fn remove_user(&self, principal: &Principal, user: UserId) -> Result<(), AdminError> {
        principal.require_step_up(Permission::ManageUsers, time::OffsetDateTime::now_utc())?;
        let target = self.tenant_user(principal, user).await?;
        check_grant(principal, target.role)?;
        let audit = principal.audit(
            Action::UserRemoved,
            format!("user:{}", user.0),
            json!({"role": target.role.as_str()}),
        );
        self.store
            .update_user(principal.tenant, user, UserChange::Remove, Some(audit))
            .await?;
        Ok(())
    }

    /// Another user of the caller's tenant: 404 for a user of another
    /// tenant, 403 for the caller themselves.
    async fn tenant_user(&self, principal: &Principal, user: UserId) -> Result<User, AdminError> {
        let found = self
            .store
            .user(user)
            .await?
            .filter(|u| u.tenant == principal.tenant)
            .ok_or(AdminError::NotFound("user"))?;
        if principal.user() == Some(user) {
            return Err(AdminError::Forbidden(
                "you cannot change your own role or remove yourself".to_owned(),
            ));
        }
        Ok(found)
    }
}

/// Refuses escalation: granting a role with a permission the caller lacks.
pub(crate) fn check_grant(principal: &Principal, role: Role) -> Result<(), AdminError> {
    if principal.role.may_grant(role) {
        Ok(())
    } else {
        Err(AdminError::Forbidden(format!(
            "your role ({}) cannot grant {}",
            principal.role.as_str(),
            role.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{check_email, normalise_email};

    #[test]
    fn email_shapes() {
        for good in ["a@b.example", " ops@example.org ", "x.y+z@sub.example.co"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a b@c.example",
            "a@b@c.example",
            "a@.example",
            "a@example.",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_that_could_break_out_of_a_page_or_a_log_line_are_refused() {
        for bad in [
            "a\"b@example.org",
            "<script>@example.org",
            "a@example.org>",
            "a\r\nBcc: x@evil.example@example.org",
            "a\u{0}@example.org",
            "a\u{7f}@example.org",
            "a\u{85}@example.org",
            "a\\b@example.org",
            "\"quoted local\"@example.org",
            "a(comment)@example.org",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_are_stored_trimmed_with_the_domain_in_lower_case() {
        assert_eq!(normalise_email("  Ops@Example.ORG "), "Ops@example.org");
        assert_eq!(
            normalise_email("x.y+z@Sub.Example.co"),
            "x.y+z@sub.example.co"
        );
    }
}
