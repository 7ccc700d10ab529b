//! The PostgreSQL side of [`AdminStore`], one file per aggregate (the same
//! files as `sqlite/admin/`); what both backends share is in
//! `crate::admin` (`rows.rs`, `chain.rs`).
//!
//! It shares the connection pool of a [`PostgresStore`] (one pool per
//! process; [`Store::close`](crate::Store::close) closes both), and the
//! schema that store applies (`migrations-postgres/0002_admin.sql`).
//!
//! Several server processes may use one database at once, so nothing here
//! relies on a lock in the process:
//! - Every change commits in one `READ COMMITTED` transaction with its
//!   audit entry (`transaction!`). The isolation level is named in the
//!   `BEGIN`, because the audit append needs each statement to see what
//!   was committed before it started, whatever the database's default is.
//! - Appends to one audit chain are serialised by a transaction-level
//!   advisory lock on the chain (see `audit.rs`).
//! - Single-use things (a TOTP step, a recovery code, an invitation, a
//!   draft revision) are claimed by one conditional `UPDATE` (or
//!   `INSERT ... ON CONFLICT DO NOTHING`). A concurrent claim of the same
//!   row waits for the first to commit and then re-checks its condition on
//!   the committed row, so exactly one of them wins.
//! - A change that is one statement and has no audit entry (touching a
//!   session, claiming a TOTP step) runs on a pooled connection as its
//!   own transaction.
//!
//! Times are kept to the microsecond; see `codec::to_micros`.

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

use super::{closed_as_closed, PostgresStore};
use crate::admin::{
    AdminStore, ApiToken, ApiTokenId, AuditAppend, ConsentQuery, Draft, DraftSave, Invitation,
    NewUser, SessionRecord, StoredDataKey, StoredSigningKey, User, UserChange, UserId,
};
use crate::{PublishedConfig, Site, SiteId, StoreError, Tenant, TenantId};
use async_trait::async_trait;
use nexaguard_audit::{AuditEntry, ChainId, Checkpoint, CheckpointSigner};
use nexaguard_consent::event::ConsentEvent;
use nexaguard_consent::Environment;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use sqlx::Transaction;
use std::sync::{Arc, PoisonError, RwLock};
use time::OffsetDateTime;
use uuid::Uuid;

/// How every transaction here begins (see the module docs).
const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

/// The admin store on PostgreSQL. Make it with [`PostgresAdminStore::new`]
/// from the process's [`PostgresStore`].
#[derive(Debug)]
pub struct PostgresAdminStore {
    pool: PgPool,
    signer: RwLock<Option<Arc<CheckpointSigner>>>,
}

impl PostgresAdminStore {
    /// The admin side of `store`'s database, on `store`'s connection pool.
    /// The store has applied the schema when it opened; closing it closes
    /// this one too (calls then fail with [`StoreError::Closed`]).
    pub fn new(store: &PostgresStore) -> PostgresAdminStore {
        PostgresAdminStore {
            pool: store.pool.clone(),
            signer: RwLock::new(None),
        }
    }

    /// The key that signs checkpoints, once the key ring has set it.
    pub(super) fn signer(&self) -> Option<Arc<CheckpointSigner>> {
        self.signer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A transaction on a pooled connection; [`StoreError::Closed`] once
    /// the pool is closed.
    pub(super) async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin_with(BEGIN)
            .await
            .map_err(|e| closed_as_closed(e.into()))
    }

    /// A pooled connection for reads and single-statement writes (each its
    /// own transaction); [`StoreError::Closed`] once the pool is closed.
    pub(super) async fn conn(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        self.pool
            .acquire()
            .await
            .map_err(|e| closed_as_closed(e.into()))
    }
}

/// Runs `$body` (an expression using `$conn: &mut PgConnection`) in a
/// transaction begun with [`BEGIN`], committing on `Ok`; on `Err` the
/// transaction is dropped, which rolls it back.
macro_rules! transaction {
    ($store:expr, |$conn:ident| $body:expr) => {{
        let mut tx = $store.begin().await?;
        let result = {
            let $conn: &mut sqlx::postgres::PgConnection = &mut tx;
            $body.await
        };
        if result.is_ok() {
            tx.commit().await?;
        }
        result
    }};
}

// For the aggregates, and the webhooks module, whose changes commit with
// their audit entries too.
pub(super) use transaction;

/// This backend's admin store, by the name the aggregate files of both
/// backends use: comparing a file with its twin shows only what the SQL
/// dialect makes different.
type Backend = PostgresAdminStore;

/// The one implementation of the trait: each method is its aggregate's.
#[async_trait]
impl AdminStore for PostgresAdminStore {
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
