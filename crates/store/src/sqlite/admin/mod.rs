//! The SQLite side of [`AdminStore`], one file per aggregate (the same
//! files as `postgres/admin/`); what both backends share is in
//! `crate::admin` (`rows.rs`, `chain.rs`).
//!
//! Admin traffic is light and every change must commit with its audit
//! entry, so changes run as `BEGIN IMMEDIATE` transactions on one connection
//! of their own (behind a mutex) rather than through the consent writer:
//! IMMEDIATE takes SQLite's write lock up front, so the chain head read and
//! the entry written after it cannot interleave with another writer, even
//! another process such as the CLI. Reads use a small `query_only` pool.
//!
//! Invariant: every write here, audited or not, runs inside
//! `transaction!` on the write connection; nothing writes through the
//! read pool (it could not: it is `query_only`).

mod audit;
mod consents;
mod drafts;
mod invitations;
mod keys;
mod sessions;
mod sites;
mod tenants;
mod tokens;
mod users;

pub(super) use audit::append;

use crate::admin::{
    AdminStore, ApiToken, ApiTokenId, AuditAppend, ConsentQuery, Draft, DraftSave, Invitation,
    NewUser, SessionRecord, StoredDataKey, StoredSigningKey, User, UserChange, UserId,
};
use crate::{PublishedConfig, Site, SiteId, StoreError, Tenant, TenantId};
use async_trait::async_trait;
use nexaguard_audit::{AuditEntry, ChainId, Checkpoint, CheckpointSigner};
use nexaguard_consent::event::ConsentEvent;
use nexaguard_consent::Environment;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, SqliteConnection};
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use uuid::Uuid;

/// The admin store on a SQLite file. Open it after [`super::SqliteStore`]
/// (which applies the migrations) on the same path.
#[derive(Debug)]
pub struct SqliteAdminStore {
    pub(super) read: SqlitePool,
    pub(super) write: Mutex<WriteConn>,
    signer: RwLock<Option<Arc<CheckpointSigner>>>,
}

/// The write connection, and whether a transaction was left open by a
/// caller whose future was dropped halfway (a client hanging up): the next
/// caller rolls it back before starting its own.
#[derive(Debug)]
pub(super) struct WriteConn {
    pub(super) conn: SqliteConnection,
    pub(super) in_transaction: bool,
}

impl SqliteAdminStore {
    /// Opens the admin side of the database at `path`.
    pub async fn open(path: &Path) -> Result<SqliteAdminStore, StoreError> {
        let options = super::connect_options(path).create_if_missing(false);
        let conn = options.connect().await?;
        let read = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.pragma("query_only", "ON"))
            .await?;
        Ok(SqliteAdminStore {
            read,
            write: Mutex::new(WriteConn {
                conn,
                in_transaction: false,
            }),
            signer: RwLock::new(None),
        })
    }

    /// The key that signs checkpoints, once the key ring has set it.
    pub(super) fn signer(&self) -> Option<Arc<CheckpointSigner>> {
        self.signer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Runs `$body` (an expression using `$conn: &mut SqliteConnection`) in a
/// `BEGIN IMMEDIATE` transaction, committing on `Ok` and rolling back on
/// `Err`.
macro_rules! transaction {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let mut guard = $store.write.lock().await;
        let write = &mut *guard;
        if write.in_transaction {
            sqlx::query("ROLLBACK").execute(&mut write.conn).await?;
            write.in_transaction = false;
        }
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut write.conn)
            .await?;
        write.in_transaction = true;
        let result = {
            let $conn: &mut sqlx::SqliteConnection = &mut write.conn;
            $body.await
        };
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(end).execute(&mut write.conn).await?;
        write.in_transaction = false;
        result
    }};
}

// For the aggregates, and the webhooks module, whose changes commit with
// their audit entries too.
pub(super) use transaction;

/// This backend's admin store, by the name the aggregate files of both
/// backends use: comparing a file with its twin shows only what the SQL
/// dialect makes different.
type Backend = SqliteAdminStore;

/// The one implementation of the trait: each method is its aggregate's.
#[async_trait]
impl AdminStore for SqliteAdminStore {
    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        keys::data_keys(self).await
    }

    async fn insert_data_key(&self, key: StoredDataKey) -> Result<StoredDataKey, StoreError> {
        keys::insert_data_key(self, key).await
    }

    async fn rewrap_data_keys(
        &self,
        rewrapped: &[(String, String)],
        audit: AuditAppend,
    ) -> Result<AuditEntry, StoreError> {
        keys::rewrap_data_keys(self, rewrapped, audit).await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        keys::signing_keys(self).await
    }

    async fn insert_signing_key(&self, key: StoredSigningKey) -> Result<(), StoreError> {
        keys::insert_signing_key(self, key).await
    }

    fn set_checkpoint_signer(&self, signer: Arc<CheckpointSigner>) {
        *self.signer.write().unwrap_or_else(PoisonError::into_inner) = Some(signer);
    }

    async fn create_user(&self, user: NewUser, audit: AuditAppend) -> Result<User, StoreError> {
        users::create_user(self, user, audit).await
    }

    async fn users_by_email_index(&self, index: &[u8; 32]) -> Result<Vec<User>, StoreError> {
        users::users_by_email_index(self, index).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        users::user(self, id).await
    }

    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<User>, StoreError> {
        users::users(self, tenant).await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        users::count_users(self).await
    }

    async fn update_user(
        &self,
        tenant: Option<TenantId>,
        user: UserId,
        change: UserChange,
        audit: Option<AuditAppend>,
    ) -> Result<bool, StoreError> {
        users::update_user(self, tenant, user, change, audit).await
    }

    async fn claim_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        users::claim_totp_step(self, user, step).await
    }

    async fn use_recovery_code(&self, user: UserId, hash: &[u8; 32]) -> Result<bool, StoreError> {
        users::use_recovery_code(self, user, hash).await
    }

    async fn unused_recovery_codes(&self, user: UserId) -> Result<u64, StoreError> {
        users::unused_recovery_codes(self, user).await
    }

    async fn create_session(
        &self,
        session: SessionRecord,
        replaces: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        sessions::create_session(self, session, replaces).await
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        sessions::session(self, id_hash).await
    }

    async fn touch_session(
        &self,
        id_hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sessions::touch_session(self, id_hash, now).await
    }

    async fn revoke_session(
        &self,
        id_hash: &[u8; 32],
        audit: Option<AuditAppend>,
    ) -> Result<(), StoreError> {
        sessions::revoke_session(self, id_hash, audit).await
    }

    async fn create_api_token(
        &self,
        token: ApiToken,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        tokens::create_api_token(self, token, secret_hash, audit).await
    }

    async fn api_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>, StoreError> {
        tokens::api_token_by_hash(self, hash).await
    }

    async fn api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>, StoreError> {
        tokens::api_tokens(self, tenant).await
    }

    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
        audit: AuditAppend,
    ) -> Result<bool, StoreError> {
        tokens::revoke_api_token(self, tenant, id, audit).await
    }

    async fn touch_api_token(&self, id: ApiTokenId, now: OffsetDateTime) -> Result<(), StoreError> {
        tokens::touch_api_token(self, id, now).await
    }

    async fn create_invitation(
        &self,
        invitation: Invitation,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        invitations::create_invitation(self, invitation, secret_hash, audit).await
    }

    async fn invitation_by_hash(&self, hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        invitations::invitation_by_hash(self, hash).await
    }

    async fn invitations(&self, tenant: TenantId) -> Result<Vec<Invitation>, StoreError> {
        invitations::invitations(self, tenant).await
    }

    async fn accept_invitation(
        &self,
        invitation: Uuid,
        user: NewUser,
        audit: AuditAppend,
    ) -> Result<Option<User>, StoreError> {
        invitations::accept_invitation(self, invitation, user, audit).await
    }

    async fn create_tenant_audited(
        &self,
        tenant: TenantId,
        name: &str,
        audit: AuditAppend,
    ) -> Result<Tenant, StoreError> {
        tenants::create_tenant_audited(self, tenant, name, audit).await
    }

    async fn create_tenant_site(
        &self,
        tenant: TenantId,
        name: &str,
        origins: &[String],
        audit: AuditAppend,
    ) -> Result<Site, StoreError> {
        sites::create_tenant_site(self, tenant, name, origins, audit).await
    }

    async fn tenant_sites(&self, tenant: TenantId) -> Result<Vec<Site>, StoreError> {
        sites::tenant_sites(self, tenant).await
    }

    async fn tenant_site(
        &self,
        tenant: TenantId,
        site: SiteId,
    ) -> Result<Option<Site>, StoreError> {
        sites::tenant_site(self, tenant, site).await
    }

    async fn latest_config(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<Option<PublishedConfig>, StoreError> {
        sites::latest_config(self, site, environment).await
    }

    async fn publish_audited(
        &self,
        site: SiteId,
        environment: Environment,
        config_json: &str,
        audit: AuditAppend,
    ) -> Result<PublishedConfig, StoreError> {
        sites::publish_audited(self, site, environment, config_json, audit).await
    }

    async fn draft(&self, site: SiteId) -> Result<Option<Draft>, StoreError> {
        drafts::draft(self, site).await
    }

    async fn save_draft(
        &self,
        site: SiteId,
        config_json: &str,
        base_revision: Option<u32>,
        audit: AuditAppend,
    ) -> Result<DraftSave, StoreError> {
        drafts::save_draft(self, site, config_json, base_revision, audit).await
    }

    async fn search_consents(&self, query: &ConsentQuery) -> Result<Vec<ConsentEvent>, StoreError> {
        consents::search_consents(self, query).await
    }

    async fn append_audit(&self, audit: AuditAppend) -> Result<AuditEntry, StoreError> {
        audit::append_audit(self, audit).await
    }

    async fn audit_entries(
        &self,
        chain: ChainId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        audit::audit_entries(self, chain, after, limit).await
    }

    async fn audit_checkpoints(&self, chain: ChainId) -> Result<Vec<Checkpoint>, StoreError> {
        audit::audit_checkpoints(self, chain).await
    }

    async fn audit_chains(&self) -> Result<Vec<ChainId>, StoreError> {
        audit::audit_chains(self).await
    }
}
