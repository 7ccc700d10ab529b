//! What the admin API keeps: data keys, accounts, sessions, API tokens,
//! invitations, configuration drafts and the audit log, behind the
//! [`AdminStore`] trait.
//!
//! Two rules hold for every backend:
//! - Every change an administrator makes commits in one transaction with
//!   its audit entry ([`AuditAppend`]): there is no change without its
//!   entry, and no entry for a change that did not happen.
//! - Tenant data is read and changed only through methods that take the
//!   tenant, and their queries filter on it; asking with another tenant's
//!   id finds nothing.
//!
//! The backends (`sqlite/admin/`, `postgres/admin/`) have one file per
//! aggregate, with the same names on both sides, and keep only what their
//! SQL dialect makes different. What is the same for both is in this
//! directory, for the backends only: the rows, their columns and the
//! site-key format (`rows.rs`), and the audit append algorithm
//! (`chain.rs`).

pub(crate) mod chain;
pub(crate) mod rows;

pub use rows::{scopes_from_db, scopes_to_db};

use crate::webhooks::WebhookStore;
use crate::{PublishedConfig, Site, SiteId, StoreError, Tenant, TenantId};
use async_trait::async_trait;
use nexaguard_access::{Permission, Role, Throttle};
use nexaguard_audit::{AuditEntry, AuditEvent, ChainId, Checkpoint, CheckpointSigner};
use nexaguard_consent::event::ConsentEvent;
use nexaguard_consent::token::TokenHash;
use nexaguard_consent::Environment;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// An admin user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub Uuid);

/// A data key as stored: wrapped by a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDataKey {
    /// The key id sealed values name.
    pub id: String,
    /// `platform`, `platform-index`, or a tenant id.
    pub scope: String,
    /// The wrapped key in its text form.
    pub wrapped: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// An audit checkpoint signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// The id checkpoints name.
    pub id: String,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// The seed, sealed with the platform data key.
    pub seed_sealed: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// An admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its tenant; `None` for a platform operator.
    pub tenant: Option<TenantId>,
    /// Its role.
    pub role: Role,
    /// The keyed hash of the normalised e-mail address.
    pub email_index: [u8; 32],
    /// The e-mail address, sealed.
    pub email_sealed: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret once enrolment is confirmed, sealed.
    pub totp_sealed: Option<String>,
    /// A TOTP secret shown for enrolment and not yet confirmed, sealed.
    pub totp_pending_sealed: Option<String>,
    /// Failed sign-ins and the lock they caused.
    pub throttle: Throttle,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the user has confirmed a TOTP enrolment.
    pub fn has_mfa(&self) -> bool {
        self.totp_sealed.is_some()
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Its tenant; `None` for a platform operator.
    pub tenant: Option<TenantId>,
    /// Its role.
    pub role: Role,
    /// The keyed hash of the normalised e-mail address.
    pub email_index: [u8; 32],
    /// The e-mail address, sealed.
    pub email_sealed: String,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// A change to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// A new role.
    Role(Role),
    /// A new password hash; every session of the user is revoked with it.
    Password(String),
    /// A TOTP secret offered for enrolment (replacing any earlier offer).
    TotpOffered(String),
    /// Enrolment confirmed: the offered secret becomes the user's, with the
    /// step of the code that confirmed it and fresh recovery code hashes.
    /// Every session of the user ends with it: a new factor (a first one, or
    /// a replacement) must not leave behind sessions opened without it.
    TotpConfirmed {
        /// The sealed secret.
        sealed: String,
        /// The time step of the confirming code.
        step: u64,
        /// Hashes of the new recovery codes.
        recovery_hashes: Vec<[u8; 32]>,
    },
    /// The sign-in throttle after a failure or a success.
    Throttle(Throttle),
    /// The user is removed, with their sessions and recovery codes.
    Remove,
}

/// A signed-in session. The session id itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session id.
    pub id_hash: [u8; 32],
    /// Whose session.
    pub user: UserId,
    /// Whether the second factor was given in this session.
    pub mfa_verified: bool,
    /// When the second factor was last given in this session (sensitive
    /// actions ask for it again when this is old).
    pub mfa_at: Option<OffsetDateTime>,
    /// When it began (for the absolute timeout).
    pub created_at: OffsetDateTime,
    /// When it was last used (for the idle timeout).
    pub last_seen_at: OffsetDateTime,
}

/// An API token's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiTokenId(pub Uuid);

/// An API token for automation. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: ApiTokenId,
    /// The tenant it acts in.
    pub tenant: TenantId,
    /// A name for people.
    pub name: String,
    /// The role it acts with.
    pub role: Role,
    /// Who made it (an actor text).
    pub created_by: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// When it was last used.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked (or its parent was: revocation reaches every
    /// token made by a token).
    pub revoked_at: Option<OffsetDateTime>,
    /// The token that made it, if a token did.
    pub parent: Option<ApiTokenId>,
    /// The permissions needing step-up that it was created to use
    /// explicitly: without one, a token is refused what a session could
    /// do only with a fresh second factor.
    pub step_up_scopes: Vec<Permission>,
}

/// An invitation to join a tenant with a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Its id.
    pub id: Uuid,
    /// The tenant.
    pub tenant: TenantId,
    /// The keyed hash of the invited address.
    pub email_index: [u8; 32],
    /// The invited address, sealed.
    pub email_sealed: String,
    /// The role the new user gets.
    pub role: Role,
    /// Who invited (an actor text).
    pub created_by: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// When it lapses.
    pub expires_at: OffsetDateTime,
    /// When it was accepted.
    pub accepted_at: Option<OffsetDateTime>,
}

/// A site's configuration draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The site.
    pub site: SiteId,
    /// 1, 2, 3... one more at each save.
    pub revision: u32,
    /// The configuration JSON as saved.
    pub config_json: String,
    /// When it was saved.
    pub updated_at: OffsetDateTime,
}

/// Why a draft was not saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftSave {
    /// Saved as this revision.
    Saved(u32),
    /// Someone saved revision `current` since the editor loaded its copy.
    Stale {
        /// The revision in the store.
        current: u32,
    },
}

/// An audit entry to append in the same transaction as a change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditAppend {
    /// The chain: the tenant's, or the platform's.
    pub chain: ChainId,
    /// What happened.
    pub event: AuditEvent,
    /// When.
    pub at: OffsetDateTime,
}

/// A search over one site environment's consent records, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentQuery {
    /// The site (already checked to belong to the caller's tenant).
    pub site: SiteId,
    /// The environment.
    pub environment: Environment,
    /// Only the events of this consent token.
    pub token: Option<TokenHash>,
    /// Only this event.
    pub event_id: Option<Uuid>,
    /// Recorded at or after.
    pub from: Option<OffsetDateTime>,
    /// Recorded before.
    pub to: Option<OffsetDateTime>,
    /// Only records older than this one (recorded time, event id): the
    /// cursor of the page before.
    pub before: Option<(OffsetDateTime, Uuid)>,
    /// At most this many.
    pub limit: u32,
}

/// The storage of the admin API. Webhooks are part of it
/// ([`WebhookStore`]), so every admin store has them.
#[async_trait]
pub trait AdminStore: WebhookStore + Send + Sync + 'static {
    /// Every data key.
    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError>;

    /// Stores a data key for its scope, unless the scope has one already
    /// (another node won the race); returns the scope's key either way.
    async fn insert_data_key(&self, key: StoredDataKey) -> Result<StoredDataKey, StoreError>;

    /// Replaces the wrapped form of data keys (key rotation), all at once.
    async fn rewrap_data_keys(
        &self,
        rewrapped: &[(String, String)],
        audit: AuditAppend,
    ) -> Result<AuditEntry, StoreError>;

    /// Every checkpoint signing key, oldest first.
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError>;

    /// Stores a signing key.
    async fn insert_signing_key(&self, key: StoredSigningKey) -> Result<(), StoreError>;

    /// The key that signs checkpoints from now on.
    fn set_checkpoint_signer(&self, signer: Arc<CheckpointSigner>);

    /// Creates a user. [`StoreError::Conflict`] if the address is taken.
    async fn create_user(&self, user: NewUser, audit: AuditAppend) -> Result<User, StoreError>;

    /// The users with this e-mail index, oldest first: at most one per
    /// tenant and one platform operator (sign-in tells them apart by
    /// password).
    async fn users_by_email_index(&self, index: &[u8; 32]) -> Result<Vec<User>, StoreError>;

    /// A user by id, in any tenant (the session layer).
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The users of `tenant`, or the platform operators for `None`.
    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<User>, StoreError>;

    /// Number of users in the installation.
    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Changes a user of `tenant` (`None`: a platform operator). Returns
    /// false, changing nothing and appending nothing, if there is no such
    /// user in that tenant.
    async fn update_user(
        &self,
        tenant: Option<TenantId>,
        user: UserId,
        change: UserChange,
        audit: Option<AuditAppend>,
    ) -> Result<bool, StoreError>;

    /// Records `step` as the user's last accepted TOTP step if it is later
    /// than the one stored; false if it is not (a replayed code). Atomic, so
    /// two nodes cannot both accept the same code.
    async fn claim_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError>;

    /// Marks an unused recovery code of the user as used; false if there is
    /// no such unused code.
    async fn use_recovery_code(&self, user: UserId, hash: &[u8; 32]) -> Result<bool, StoreError>;

    /// Number of unused recovery codes.
    async fn unused_recovery_codes(&self, user: UserId) -> Result<u64, StoreError>;

    /// Stores a new session, removing `replaces` in the same transaction
    /// (a new id at login and at MFA step-up).
    async fn create_session(
        &self,
        session: SessionRecord,
        replaces: Option<[u8; 32]>,
    ) -> Result<(), StoreError>;

    /// A session by the hash of its id.
    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError>;

    /// Moves a session's last use to `now`.
    async fn touch_session(
        &self,
        id_hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Ends a session.
    async fn revoke_session(
        &self,
        id_hash: &[u8; 32],
        audit: Option<AuditAppend>,
    ) -> Result<(), StoreError>;

    /// Creates an API token whose secret hashes to `secret_hash`.
    async fn create_api_token(
        &self,
        token: ApiToken,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError>;

    /// A token by the hash of its secret, revoked or not.
    async fn api_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>, StoreError>;

    /// The tokens of a tenant.
    async fn api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token of `tenant` and every live token it made, directly
    /// or through others, in one transaction; false if there is no such
    /// live token.
    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
        audit: AuditAppend,
    ) -> Result<bool, StoreError>;

    /// Records a token's use.
    async fn touch_api_token(&self, id: ApiTokenId, now: OffsetDateTime) -> Result<(), StoreError>;

    /// Creates an invitation whose secret hashes to `secret_hash`.
    async fn create_invitation(
        &self,
        invitation: Invitation,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError>;

    /// An invitation by the hash of its secret.
    async fn invitation_by_hash(&self, hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError>;

    /// The invitations of a tenant.
    async fn invitations(&self, tenant: TenantId) -> Result<Vec<Invitation>, StoreError>;

    /// Accepts an unaccepted invitation, creating its user, in one
    /// transaction; `None` if it was accepted meanwhile.
    async fn accept_invitation(
        &self,
        invitation: Uuid,
        user: NewUser,
        audit: AuditAppend,
    ) -> Result<Option<User>, StoreError>;

    /// Creates a tenant with its audit entry. The caller chooses the id so
    /// that the entry, made before the tenant exists, can name it.
    async fn create_tenant_audited(
        &self,
        tenant: TenantId,
        name: &str,
        audit: AuditAppend,
    ) -> Result<Tenant, StoreError>;

    /// Creates a site of `tenant`, with its audit entry.
    async fn create_tenant_site(
        &self,
        tenant: TenantId,
        name: &str,
        origins: &[String],
        audit: AuditAppend,
    ) -> Result<Site, StoreError>;

    /// The sites of a tenant.
    async fn tenant_sites(&self, tenant: TenantId) -> Result<Vec<Site>, StoreError>;

    /// A site of a tenant; `None` if it belongs to another.
    async fn tenant_site(&self, tenant: TenantId, site: SiteId)
        -> Result<Option<Site>, StoreError>;

    /// The newest published configuration of a site environment.
    async fn latest_config(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<Option<PublishedConfig>, StoreError>;

    /// Publishes a configuration as the next version of the site
    /// environment, with its audit entry.
    async fn publish_audited(
        &self,
        site: SiteId,
        environment: Environment,
        config_json: &str,
        audit: AuditAppend,
    ) -> Result<PublishedConfig, StoreError>;

    /// A site's draft.
    async fn draft(&self, site: SiteId) -> Result<Option<Draft>, StoreError>;

    /// Saves a site's draft if the stored revision is `base_revision`
    /// (`None`: there is no draft yet).
    async fn save_draft(
        &self,
        site: SiteId,
        config_json: &str,
        base_revision: Option<u32>,
        audit: AuditAppend,
    ) -> Result<DraftSave, StoreError>;

    /// Consent records matching a query, newest first.
    async fn search_consents(&self, query: &ConsentQuery) -> Result<Vec<ConsentEvent>, StoreError>;

    /// Appends an audit entry on its own (events that change nothing, such
    /// as a failed sign-in or an export).
    async fn append_audit(&self, audit: AuditAppend) -> Result<AuditEntry, StoreError>;

    /// Entries of a chain with `seq > after`, in order, at most `limit`.
    async fn audit_entries(
        &self,
        chain: ChainId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// The checkpoints of a chain, in order.
    async fn audit_checkpoints(&self, chain: ChainId) -> Result<Vec<Checkpoint>, StoreError>;

    /// Every chain that has entries.
    async fn audit_chains(&self) -> Result<Vec<ChainId>, StoreError>;
}
