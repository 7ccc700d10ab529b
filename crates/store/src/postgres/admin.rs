//! The PostgreSQL side of [`AdminStore`].
//!
//! It shares the connection pool of a [`PostgresStore`] (one pool per
//! process; [`Store::close`](crate::Store::close) closes both), and the
//! schema that store applies (`migrations-postgres/0002_admin.sql`).
//!
//! Several server processes may use one database at once, so nothing here
//! relies on a lock in the process:
//! - Every change commits in one `READ COMMITTED` transaction with its
//!   audit entry. The isolation level is named in the `BEGIN`, because the
//!   audit append below needs each statement to see what was committed
//!   before it started, whatever the database's default is.
//! - Appends to one audit chain are serialised by a transaction-level
//!   advisory lock on the chain: the head read, the entry computed from it
//!   and its insert cannot interleave with another node's. Every write
//!   that appends does so as its last step, after its row locks, so the
//!   locks are always taken in the same order (rows, then the chain) and
//!   two writers cannot deadlock on them.
//! - Single-use things (a TOTP step, a recovery code, an invitation, a
//!   draft revision) are claimed by one conditional `UPDATE` (or
//!   `INSERT ... ON CONFLICT DO NOTHING`). A concurrent claim of the same
//!   row waits for the first to commit and then re-checks its condition on
//!   the committed row, so exactly one of them wins.
//!
//! Times are kept to the microsecond; see [`to_micros`].

use super::{closed_as_closed, codec, new_site_key, site_from_row, PostgresStore, SiteRow};
use crate::admin::{scopes_from_db, scopes_to_db};
use crate::admin::{
    AdminStore, ApiToken, ApiTokenId, AuditAppend, ConsentQuery, Draft, DraftSave, Invitation,
    NewUser, SessionRecord, StoredDataKey, StoredSigningKey, User, UserChange, UserId,
};
use crate::{PublishedConfig, Site, SiteId, StoreError, Tenant, TenantId};
use async_trait::async_trait;
use nexaguard_access::{Role, Throttle};
use nexaguard_audit::{
    checkpoint_due, Action, Actor, AuditEntry, AuditEvent, ChainHead, ChainId, Checkpoint,
    CheckpointSigner, Outcome,
};
use nexaguard_consent::event::ConsentEvent;
use nexaguard_consent::Environment;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgRow, Postgres};
use sqlx::{Row, Transaction};
use std::sync::{Arc, PoisonError, RwLock};
use time::OffsetDateTime;
use uuid::Uuid;

/// How every transaction here begins (see the module docs).
const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

/// Takes the lock that serialises appends to the chain `$1` (its text
/// form) until the transaction ends. The key is a 64-bit hash of the chain
/// with a prefix of its own, so it does not meet other advisory locks
/// (the partition maintenance lock is a fixed key); two chains whose keys
/// collide would merely wait for each other.
const LOCK_CHAIN: &str = "SELECT pg_advisory_xact_lock(hashtextextended('audit:' || $1, 0))";

/// The unique index on a tenant's `users.email_index`: violating it
/// means the address has an account in that tenant.
const EMAIL_UNIQUE: &str = "users_email_per_tenant";

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

/// `at` rounded down to the microsecond, the precision of `timestamptz`.
///
/// Applied to every time a caller hands in before it is stored or used, so
/// that what is read back equals what was written. It matters for the
/// audit log: an entry's hash covers its time in nanoseconds, so the time
/// is truncated before the hash is computed, never after.
pub(super) fn to_micros(at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
    Ok(codec::split_nanos(at)?.0)
}

fn optional_micros(at: Option<OffsetDateTime>) -> Result<Option<OffsetDateTime>, StoreError> {
    at.map(to_micros).transpose()
}

/// Appends an audit entry inside the caller's transaction, and a signed
/// checkpoint every [`nexaguard_audit::CHECKPOINT_INTERVAL`] entries.
pub(super) async fn append(
    conn: &mut PgConnection,
    signer: Option<&CheckpointSigner>,
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    let chain_text = audit.chain.to_text();
    // Its own statement, before the head is read: under READ COMMITTED the
    // read's snapshot is then taken after the lock is granted, so it sees
    // the entry of whoever held the lock before (locks are released only
    // once the commit is visible).
    sqlx::query(LOCK_CHAIN)
        .bind(&chain_text)
        .execute(&mut *conn)
        .await?;
    let head: Option<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(&chain_text)
    .fetch_optional(&mut *conn)
    .await?;
    let head = head
        .map(|(seq, hash)| {
            Ok::<_, StoreError>(ChainHead {
                seq: u64_from_db("audit seq", seq)?,
                hash: hash32("audit hash", &hash)?,
            })
        })
        .transpose()?;
    let at = to_micros(audit.at)?;
    let entry = AuditEntry::next(audit.chain, head, Uuid::new_v4(), at, audit.event);
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, id, at, action, actor, target, outcome, \
         client_network, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&chain_text)
    .bind(i64_to_db(entry.seq)?)
    .bind(entry.id)
    .bind(entry.at)
    .bind(entry.event.action.as_str())
    .bind(entry.event.actor.to_text())
    .bind(&entry.event.target)
    .bind(entry.event.outcome.as_str())
    .bind(entry.event.client_network.as_deref())
    .bind(codec::json_to_db("audit details", &entry.event.details)?)
    .bind(entry.prev_hash.as_slice())
    .bind(entry.hash.as_slice())
    .execute(&mut *conn)
    .await?;
    if checkpoint_due(entry.seq) {
        if let Some(signer) = signer {
            let checkpoint = signer.sign(entry.chain, entry.head(), entry.at);
            insert_checkpoint(conn, &checkpoint).await?;
        }
    }
    Ok(entry)
}

async fn insert_checkpoint(
    conn: &mut PgConnection,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (chain, seq, hash, at, key_id, signature) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(checkpoint.chain.to_text())
    .bind(i64_to_db(checkpoint.seq)?)
    .bind(checkpoint.hash.as_slice())
    .bind(checkpoint.at)
    .bind(&checkpoint.key_id)
    .bind(checkpoint.signature.as_slice())
    .execute(conn)
    .await?;
    Ok(())
}

async fn append_opt(
    conn: &mut PgConnection,
    signer: Option<&CheckpointSigner>,
    audit: Option<AuditAppend>,
) -> Result<(), StoreError> {
    if let Some(audit) = audit {
        append(conn, signer, audit).await?;
    }
    Ok(())
}

fn i64_to_db(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} is out of range")))
}

fn u64_from_db(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("stored {what} {value}")))
}

fn hash32(what: &str, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("stored {what} has {} bytes", bytes.len())))
}

fn role_from_db(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("stored role {text:?}")))
}

/// Whether an insert failed because the e-mail address has an account
/// in the tenant.
/// Any other violation (a foreign key, another unique index) stays a
/// database error.
fn is_email_taken(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::Database(e) if e.is_unique_violation() && e.constraint() == Some(EMAIL_UNIQUE)
    )
}

const USER_COLUMNS: &str =
    "id, tenant_id, role, email_index, email_sealed, password_hash, totp_sealed, \
     totp_pending_sealed, failures, locked_until, created_at";

fn user_from_row(row: &PgRow) -> Result<User, StoreError> {
    let failures: i64 = row.try_get("failures")?;
    let index: Vec<u8> = row.try_get("email_index")?;
    let tenant: Option<Uuid> = row.try_get("tenant_id")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        tenant: tenant.map(TenantId),
        role: role_from_db(row.try_get("role")?)?,
        email_index: hash32("email index", &index)?,
        email_sealed: row.try_get("email_sealed")?,
        password_hash: row.try_get("password_hash")?,
        totp_sealed: row.try_get("totp_sealed")?,
        totp_pending_sealed: row.try_get("totp_pending_sealed")?,
        throttle: Throttle {
            failures: u32::try_from(failures)
                .map_err(|_| StoreError::Corrupt(format!("stored failures {failures}")))?,
            locked_until: row.try_get("locked_until")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

const TOKEN_COLUMNS: &str = "id, tenant_id, name, role, created_by, created_at, expires_at, \
                             last_used_at, revoked_at, parent_id, step_up_scopes";

/// Revokes a live token (`$1`, of tenant `$2`) and its live descendants
/// at `$3`. The root must be live for anything to change, so revoking a
/// revoked token reports nothing done.
const REVOKE_TOKEN_LINEAGE: &str = "\
    WITH RECURSIVE lineage (id) AS ( \
        SELECT id FROM api_tokens WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL \
        UNION SELECT t.id FROM api_tokens t JOIN lineage l ON t.parent_id = l.id \
    ) \
    UPDATE api_tokens SET revoked_at = $3 \
    WHERE id IN (SELECT id FROM lineage) AND revoked_at IS NULL";

fn token_from_row(row: &PgRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: ApiTokenId(row.try_get("id")?),
        tenant: TenantId(row.try_get("tenant_id")?),
        name: row.try_get("name")?,
        role: role_from_db(row.try_get("role")?)?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
        parent: row.try_get::<Option<Uuid>, _>("parent_id")?.map(ApiTokenId),
        step_up_scopes: scopes_from_db(row.try_get("step_up_scopes")?)?,
    })
}

const INVITATION_COLUMNS: &str = "id, tenant_id, email_index, email_sealed, role, created_by, \
                                  created_at, expires_at, accepted_at";

fn invitation_from_row(row: &PgRow) -> Result<Invitation, StoreError> {
    let index: Vec<u8> = row.try_get("email_index")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        tenant: TenantId(row.try_get("tenant_id")?),
        email_index: hash32("email index", &index)?,
        email_sealed: row.try_get("email_sealed")?,
        role: role_from_db(row.try_get("role")?)?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        accepted_at: row.try_get("accepted_at")?,
    })
}

fn session_from_row(row: &PgRow) -> Result<SessionRecord, StoreError> {
    let hash: Vec<u8> = row.try_get("id_hash")?;
    Ok(SessionRecord {
        id_hash: hash32("session hash", &hash)?,
        user: UserId(row.try_get("user_id")?),
        mfa_verified: row.try_get("mfa_verified")?,
        mfa_at: row.try_get("mfa_at")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
    })
}

const ENTRY_COLUMNS: &str = "chain, seq, id, at, action, actor, target, outcome, \
                             client_network, details, prev_hash, hash";

fn entry_from_row(row: &PgRow) -> Result<AuditEntry, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("stored audit {what}"));
    let chain: String = row.try_get("chain")?;
    let action: String = row.try_get("action")?;
    let actor: String = row.try_get("actor")?;
    let outcome: String = row.try_get("outcome")?;
    let details: String = row.try_get("details")?;
    let prev: Vec<u8> = row.try_get("prev_hash")?;
    let hash: Vec<u8> = row.try_get("hash")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        chain: ChainId::parse(&chain).map_err(|_| corrupt("chain"))?,
        seq: u64_from_db("audit seq", row.try_get("seq")?)?,
        at: row.try_get("at")?,
        event: AuditEvent {
            action: action.parse::<Action>().map_err(|_| corrupt("action"))?,
            actor: Actor::parse(&actor).map_err(|_| corrupt("actor"))?,
            target: row.try_get("target")?,
            outcome: outcome.parse::<Outcome>().map_err(|_| corrupt("outcome"))?,
            client_network: row.try_get("client_network")?,
            details: codec::json_from_db("audit details", &details)?,
        },
        prev_hash: hash32("audit prev_hash", &prev)?,
        hash: hash32("audit hash", &hash)?,
    })
}

fn checkpoint_from_row(row: &PgRow) -> Result<Checkpoint, StoreError> {
    let chain: String = row.try_get("chain")?;
    let hash: Vec<u8> = row.try_get("hash")?;
    let signature: Vec<u8> = row.try_get("signature")?;
    Ok(Checkpoint {
        chain: ChainId::parse(&chain)
            .map_err(|_| StoreError::Corrupt("stored checkpoint chain".to_owned()))?,
        seq: u64_from_db("checkpoint seq", row.try_get("seq")?)?,
        hash: hash32("checkpoint hash", &hash)?,
        at: row.try_get("at")?,
        key_id: row.try_get("key_id")?,
        signature: signature.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(format!("stored signature has {} bytes", signature.len()))
        })?,
    })
}

async fn insert_user(conn: &mut PgConnection, user: &NewUser) -> Result<User, StoreError> {
    let id = UserId(Uuid::new_v4());
    // The store's clock: whole microseconds, and users created one after
    // the other list in that order.
    let created_at = codec::store_clock()?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, tenant_id, email_index, email_sealed, password_hash, role, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.0)
    .bind(user.tenant.map(|t| t.0))
    .bind(user.email_index.as_slice())
    .bind(&user.email_sealed)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(created_at)
    .execute(conn)
    .await;
    match inserted {
        Err(e) if is_email_taken(&e) => {
            return Err(StoreError::Conflict(
                "that e-mail address has an account in this tenant".to_owned(),
            ))
        }
        other => other?,
    };
    Ok(User {
        id,
        tenant: user.tenant,
        role: user.role,
        email_index: user.email_index,
        email_sealed: user.email_sealed.clone(),
        password_hash: user.password_hash.clone(),
        totp_sealed: None,
        totp_pending_sealed: None,
        throttle: Throttle::default(),
        created_at,
    })
}

/// Applies a change to a user known (and locked) in the caller's scope.
async fn apply_user_change(
    conn: &mut PgConnection,
    id: Uuid,
    change: UserChange,
) -> Result<(), StoreError> {
    match change {
        UserChange::Role(role) => {
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::Password(hash) => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::TotpOffered(sealed) => {
            sqlx::query("UPDATE users SET totp_pending_sealed = $1 WHERE id = $2")
                .bind(sealed)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::TotpConfirmed {
            sealed,
            step,
            recovery_hashes,
        } => {
            sqlx::query(
                "UPDATE users SET totp_sealed = $1, totp_pending_sealed = NULL, \
                 totp_last_step = $2 WHERE id = $3",
            )
            .bind(sealed)
            .bind(i64_to_db(step)?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            for hash in recovery_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(id)
                    .bind(hash.as_slice())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::Throttle(throttle) => {
            sqlx::query("UPDATE users SET failures = $1, locked_until = $2 WHERE id = $3")
                .bind(i64::from(throttle.failures))
                .bind(optional_micros(throttle.locked_until)?)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::Remove => {
            // Sessions and recovery codes go with it (ON DELETE CASCADE).
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

const SITE_SELECT: &str = "SELECT s.id, s.tenant_id, s.name, s.origins, s.created_at, \
     p.key, t.key FROM sites AS s \
     JOIN site_keys AS p ON p.site_id = s.id AND p.environment = 'production' \
     JOIN site_keys AS t ON t.site_id = s.id AND t.environment = 'staging'";

async fn insert_tenant(conn: &mut PgConnection, tenant: &Tenant) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(tenant.id.0)
        .bind(&tenant.name)
        .bind(tenant.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_site(conn: &mut PgConnection, site: &Site) -> Result<(), StoreError> {
    // The foreign key would refuse an unknown tenant too, but as a database
    // error; this tells the caller what is missing.
    let (tenant_exists,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)")
            .bind(site.tenant_id.0)
            .fetch_one(&mut *conn)
            .await?;
    if !tenant_exists {
        return Err(StoreError::NotFound(format!("tenant {}", site.tenant_id.0)));
    }
    sqlx::query(
        "INSERT INTO sites (id, tenant_id, name, origins, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(site.id.0)
    .bind(site.tenant_id.0)
    .bind(&site.name)
    .bind(&site.origins)
    .bind(site.created_at)
    .execute(&mut *conn)
    .await?;
    for environment in [Environment::Production, Environment::Staging] {
        sqlx::query("INSERT INTO site_keys (key, site_id, environment) VALUES ($1, $2, $3)")
            .bind(site.key(environment))
            .bind(site.id.0)
            .bind(environment.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The revision of a site's draft, if it has one.
async fn draft_revision(conn: &mut PgConnection, site: SiteId) -> Result<Option<u32>, StoreError> {
    let current: Option<(i32,)> =
        sqlx::query_as("SELECT revision FROM config_drafts WHERE site_id = $1")
            .bind(site.0)
            .fetch_optional(conn)
            .await?;
    current
        .map(|(revision,)| codec::version_from_db(revision))
        .transpose()
}

#[async_trait]
impl AdminStore for PostgresAdminStore {
    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(String, String, String, OffsetDateTime)> = sqlx::query_as(
            "SELECT id, scope, wrapped, created_at FROM data_keys ORDER BY created_at, id",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, scope, wrapped, created_at)| StoredDataKey {
                id,
                scope,
                wrapped,
                created_at,
            })
            .collect())
    }

    async fn insert_data_key(&self, key: StoredDataKey) -> Result<StoredDataKey, StoreError> {
        let created_at = to_micros(key.created_at)?;
        let mut conn = self.conn().await?;
        // Two statements, each its own transaction. If another node is
        // inserting a key for the scope, the insert waits for it and then
        // does nothing; the select, with a snapshot taken after that,
        // finds the winner's key.
        sqlx::query(
            "INSERT INTO data_keys (id, scope, wrapped, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (scope) DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.scope)
        .bind(&key.wrapped)
        .bind(created_at)
        .execute(&mut *conn)
        .await?;
        let (id, wrapped, created_at): (String, String, OffsetDateTime) =
            sqlx::query_as("SELECT id, wrapped, created_at FROM data_keys WHERE scope = $1")
                .bind(&key.scope)
                .fetch_one(&mut *conn)
                .await?;
        Ok(StoredDataKey {
            id,
            scope: key.scope,
            wrapped,
            created_at,
        })
    }

    async fn rewrap_data_keys(
        &self,
        rewrapped: &[(String, String)],
        audit: AuditAppend,
    ) -> Result<AuditEntry, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        for (id, wrapped) in rewrapped {
            sqlx::query("UPDATE data_keys SET wrapped = $1 WHERE id = $2")
                .bind(wrapped)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let entry = append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(String, Vec<u8>, String, OffsetDateTime)> = sqlx::query_as(
            "SELECT id, public_key, seed_sealed, created_at FROM signing_keys \
             ORDER BY created_at, id",
        )
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(id, public_key, seed_sealed, created_at)| {
                Ok(StoredSigningKey {
                    id,
                    public_key: hash32("public key", &public_key)?,
                    seed_sealed,
                    created_at,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&self, key: StoredSigningKey) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(
            "INSERT INTO signing_keys (id, public_key, seed_sealed, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&key.id)
        .bind(key.public_key.as_slice())
        .bind(&key.seed_sealed)
        .bind(to_micros(key.created_at)?)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    fn set_checkpoint_signer(&self, signer: Arc<CheckpointSigner>) {
        *self.signer.write().unwrap_or_else(PoisonError::into_inner) = Some(signer);
    }

    async fn create_user(&self, user: NewUser, audit: AuditAppend) -> Result<User, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        let created = insert_user(&mut tx, &user).await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn users_by_email_index(&self, index: &[u8; 32]) -> Result<Vec<User>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email_index = $1 ORDER BY created_at, id"
        ))
        .bind(index.as_slice())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<User>, StoreError> {
        let mut conn = self.conn().await?;
        // Two spellings rather than `IS NOT DISTINCT FROM`, which no index
        // serves.
        let rows = match tenant {
            Some(tenant) => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 \
                     ORDER BY created_at, id"
                ))
                .bind(tenant.0)
                .fetch_all(&mut *conn)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE tenant_id IS NULL \
                     ORDER BY created_at, id"
                ))
                .fetch_all(&mut *conn)
                .await?
            }
        };
        rows.iter().map(user_from_row).collect()
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM users")
            .fetch_one(&mut *conn)
            .await?;
        u64_from_db("user count", count)
    }

    async fn update_user(
        &self,
        tenant: Option<TenantId>,
        user: UserId,
        change: UserChange,
        audit: Option<AuditAppend>,
    ) -> Result<bool, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        // FOR UPDATE: the user found is the user changed, even if another
        // node removes or moves it meanwhile (it waits for this commit).
        let found: Option<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM users WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $2 \
             FOR UPDATE",
        )
        .bind(user.0)
        .bind(tenant.map(|t| t.0))
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            // Dropping the transaction rolls it back; it changed nothing.
            return Ok(false);
        }
        apply_user_change(&mut tx, user.0, change).await?;
        append_opt(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let step = i64_to_db(step)?;
        let mut conn = self.conn().await?;
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_recovery_code(&self, user: UserId, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(codec::store_clock()?)
        .bind(user.0)
        .bind(hash.as_slice())
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn unused_recovery_codes(&self, user: UserId) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await?;
        u64_from_db("recovery code count", count)
    }

    async fn create_session(
        &self,
        session: SessionRecord,
        replaces: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let created_at = to_micros(session.created_at)?;
        let last_seen_at = to_micros(session.last_seen_at)?;
        let mfa_at = session.mfa_at.map(to_micros).transpose()?;
        let mut tx = self.begin().await?;
        if let Some(old) = replaces {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(old.as_slice())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, mfa_verified, mfa_at, created_at, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id_hash.as_slice())
        .bind(session.user.0)
        .bind(session.mfa_verified)
        .bind(mfa_at)
        .bind(created_at)
        .bind(last_seen_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(
            "SELECT id_hash, user_id, mfa_verified, mfa_at, created_at, last_seen_at \
             FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash.as_slice())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    async fn touch_session(
        &self,
        id_hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(to_micros(now)?)
            .bind(id_hash.as_slice())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        id_hash: &[u8; 32],
        audit: Option<AuditAppend>,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash.as_slice())
            .execute(&mut *tx)
            .await?;
        append_opt(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_api_token(
        &self,
        token: ApiToken,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, name, role, secret_hash, created_by, \
             created_at, expires_at, parent_id, step_up_scopes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(token.id.0)
        .bind(token.tenant.0)
        .bind(&token.name)
        .bind(token.role.as_str())
        .bind(secret_hash.as_slice())
        .bind(&token.created_by)
        .bind(to_micros(token.created_at)?)
        .bind(to_micros(token.expires_at)?)
        .bind(token.parent.map(|p| p.0))
        .bind(scopes_to_db(&token.step_up_scopes))
        .execute(&mut *tx)
        .await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1"
        ))
        .bind(hash.as_slice())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()
    }

    async fn api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: ApiTokenId,
        audit: AuditAppend,
    ) -> Result<bool, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        let done = sqlx::query(REVOKE_TOKEN_LINEAGE)
            .bind(id.0)
            .bind(tenant.0)
            .bind(codec::store_clock()?)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn touch_api_token(&self, id: ApiTokenId, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(to_micros(now)?)
            .bind(id.0)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn create_invitation(
        &self,
        invitation: Invitation,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO invitations (id, tenant_id, email_index, email_sealed, role, \
             secret_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(invitation.id)
        .bind(invitation.tenant.0)
        .bind(invitation.email_index.as_slice())
        .bind(&invitation.email_sealed)
        .bind(invitation.role.as_str())
        .bind(secret_hash.as_slice())
        .bind(&invitation.created_by)
        .bind(to_micros(invitation.created_at)?)
        .bind(to_micros(invitation.expires_at)?)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn invitation_by_hash(&self, hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE secret_hash = $1"
        ))
        .bind(hash.as_slice())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
    }

    async fn invitations(&self, tenant: TenantId) -> Result<Vec<Invitation>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(invitation_from_row)
        .collect()
    }

    async fn accept_invitation(
        &self,
        invitation: Uuid,
        user: NewUser,
        audit: AuditAppend,
    ) -> Result<Option<User>, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
        )
        .bind(codec::store_clock()?)
        .bind(invitation)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let created = insert_user(&mut tx, &user).await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    async fn create_tenant_audited(
        &self,
        tenant: TenantId,
        name: &str,
        audit: AuditAppend,
    ) -> Result<Tenant, StoreError> {
        let signer = self.signer();
        let tenant = Tenant {
            id: tenant,
            name: name.to_owned(),
            created_at: codec::store_clock()?,
        };
        let mut tx = self.begin().await?;
        insert_tenant(&mut tx, &tenant).await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(tenant)
    }

    async fn create_tenant_site(
        &self,
        tenant: TenantId,
        name: &str,
        origins: &[String],
        audit: AuditAppend,
    ) -> Result<Site, StoreError> {
        let signer = self.signer();
        let site = Site {
            id: SiteId(Uuid::new_v4()),
            tenant_id: tenant,
            name: name.to_owned(),
            origins: origins.to_vec(),
            production_key: new_site_key(Environment::Production),
            staging_key: new_site_key(Environment::Staging),
            created_at: codec::store_clock()?,
        };
        let mut tx = self.begin().await?;
        insert_site(&mut tx, &site).await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(site)
    }

    async fn tenant_sites(&self, tenant: TenantId) -> Result<Vec<Site>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<SiteRow> = sqlx::query_as(&format!(
            "{SITE_SELECT} WHERE s.tenant_id = $1 ORDER BY s.created_at, s.id"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(site_from_row).collect())
    }

    async fn tenant_site(
        &self,
        tenant: TenantId,
        site: SiteId,
    ) -> Result<Option<Site>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<SiteRow> = sqlx::query_as(&format!(
            "{SITE_SELECT} WHERE s.tenant_id = $1 AND s.id = $2"
        ))
        .bind(tenant.0)
        .bind(site.0)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(site_from_row))
    }

    async fn latest_config(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<Option<PublishedConfig>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(i32, String, OffsetDateTime)> = sqlx::query_as(
            "SELECT version, config_json, published_at FROM site_configs \
             WHERE site_id = $1 AND environment = $2 ORDER BY version DESC LIMIT 1",
        )
        .bind(site.0)
        .bind(environment.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|(version, config_json, published_at)| {
            Ok(PublishedConfig {
                site_id: site,
                environment,
                version: codec::version_from_db(version)?,
                config_json,
                published_at,
            })
        })
        .transpose()
    }

    async fn publish_audited(
        &self,
        site: SiteId,
        environment: Environment,
        config_json: &str,
        audit: AuditAppend,
    ) -> Result<PublishedConfig, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        // Locking the site row serialises publications to the site, so two
        // of them (on any nodes) cannot both take the same next version;
        // NO KEY UPDATE does not conflict with the KEY SHARE locks of
        // foreign key checks, so consents keep flowing meanwhile.
        let site_exists: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM sites WHERE id = $1 FOR NO KEY UPDATE")
                .bind(site.0)
                .fetch_optional(&mut *tx)
                .await?;
        if site_exists.is_none() {
            return Err(StoreError::NotFound(format!("site {}", site.0)));
        }
        let (next,): (i32,) = sqlx::query_as(
            "SELECT coalesce(max(version), 0) + 1 FROM site_configs \
             WHERE site_id = $1 AND environment = $2",
        )
        .bind(site.0)
        .bind(environment.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let published = PublishedConfig {
            site_id: site,
            environment,
            version: codec::version_from_db(next)?,
            config_json: config_json.to_owned(),
            published_at: codec::store_clock()?,
        };
        sqlx::query(
            "INSERT INTO site_configs (site_id, environment, version, config_json, published_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(site.0)
        .bind(environment.as_str())
        .bind(next)
        .bind(config_json)
        .bind(published.published_at)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(published)
    }

    async fn draft(&self, site: SiteId) -> Result<Option<Draft>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(i32, String, OffsetDateTime)> = sqlx::query_as(
            "SELECT revision, config_json, updated_at FROM config_drafts WHERE site_id = $1",
        )
        .bind(site.0)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|(revision, config_json, updated_at)| {
            Ok(Draft {
                site,
                revision: codec::version_from_db(revision)?,
                config_json,
                updated_at,
            })
        })
        .transpose()
    }

    async fn save_draft(
        &self,
        site: SiteId,
        config_json: &str,
        base_revision: Option<u32>,
        audit: AuditAppend,
    ) -> Result<DraftSave, StoreError> {
        let signer = self.signer();
        let now = codec::store_clock()?;
        let mut tx = self.begin().await?;
        // The compare and the set are one statement, so two editors saving
        // on the same base (on any nodes) cannot both succeed: the second
        // waits for the first and then finds the revision moved on, or the
        // first draft there.
        let saved: Option<(i32,)> = match base_revision {
            None => {
                sqlx::query_as(
                    "INSERT INTO config_drafts (site_id, revision, config_json, updated_at) \
                     VALUES ($1, 1, $2, $3) ON CONFLICT (site_id) DO NOTHING \
                     RETURNING revision",
                )
                .bind(site.0)
                .bind(config_json)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
            }
            Some(base) => {
                let base = i32::try_from(base)
                    .map_err(|_| StoreError::Corrupt(format!("draft revision {base}")))?;
                sqlx::query_as(
                    "UPDATE config_drafts SET revision = revision + 1, config_json = $1, \
                     updated_at = $2 WHERE site_id = $3 AND revision = $4 RETURNING revision",
                )
                .bind(config_json)
                .bind(now)
                .bind(site.0)
                .bind(base)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let Some((next,)) = saved else {
            let current = draft_revision(&mut tx, site).await?;
            return Ok(DraftSave::Stale {
                current: current.unwrap_or(0),
            });
        };
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(DraftSave::Saved(codec::version_from_db(next)?))
    }

    /// Newest first in the order of the instant to the nanosecond
    /// (`recorded_at`, then `recorded_at_ns`), then the event id: the
    /// order of the cursor, which is a recorded time with nanoseconds and
    /// an id, and the order of the SQLite store. Every time bound is also
    /// given on `recorded_at` alone, rounded to its microsecond, so that
    /// the planner can prune the monthly partitions and bound its scan of
    /// `consents_by_recorded_at` (see `migrations-postgres/0002_admin.sql`
    /// on indexes).
    async fn search_consents(&self, query: &ConsentQuery) -> Result<Vec<ConsentEvent>, StoreError> {
        let mut sql =
            sqlx::QueryBuilder::<Postgres>::new("SELECT body FROM consents WHERE site_id = ");
        sql.push_bind(query.site.0);
        sql.push(" AND environment = ")
            .push_bind(query.environment.as_str());
        if let Some(token) = &query.token {
            sql.push(" AND token_hash = ")
                .push_bind(token.as_bytes().to_vec());
        }
        if let Some(event_id) = query.event_id {
            sql.push(" AND event_id = ").push_bind(event_id);
        }
        if let Some(from) = query.from {
            let (micros, ns) = codec::split_nanos(from)?;
            sql.push(" AND recorded_at >= ")
                .push_bind(micros)
                .push(" AND (recorded_at, recorded_at_ns) >= (")
                .push_bind(micros)
                .push(", ")
                .push_bind(ns)
                .push(")");
        }
        if let Some(to) = query.to {
            let (micros, ns) = codec::split_nanos(to)?;
            sql.push(" AND recorded_at <= ")
                .push_bind(micros)
                .push(" AND (recorded_at, recorded_at_ns) < (")
                .push_bind(micros)
                .push(", ")
                .push_bind(ns)
                .push(")");
        }
        if let Some((at, id)) = query.before {
            let (micros, ns) = codec::split_nanos(at)?;
            sql.push(" AND recorded_at <= ")
                .push_bind(micros)
                .push(" AND (recorded_at, recorded_at_ns, event_id) < (")
                .push_bind(micros)
                .push(", ")
                .push_bind(ns)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        sql.push(" ORDER BY recorded_at DESC, recorded_at_ns DESC, event_id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let mut conn = self.conn().await?;
        let rows: Vec<(String,)> = sql.build_query_as().fetch_all(&mut *conn).await?;
        rows.into_iter()
            .map(|(body,)| codec::json_from_db("consent event", &body))
            .collect()
    }

    async fn append_audit(&self, audit: AuditAppend) -> Result<AuditEntry, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        let entry = append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn audit_entries(
        &self,
        chain: ChainId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE chain = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ))
        .bind(chain.to_text())
        .bind(i64_to_db(after)?)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }

    async fn audit_checkpoints(&self, chain: ChainId) -> Result<Vec<Checkpoint>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(
            "SELECT chain, seq, hash, at, key_id, signature FROM audit_checkpoints \
             WHERE chain = $1 ORDER BY seq",
        )
        .bind(chain.to_text())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(checkpoint_from_row)
        .collect()
    }

    async fn audit_chains(&self) -> Result<Vec<ChainId>, StoreError> {
        let mut conn = self.conn().await?;
        // Byte order ("C"), as SQLite sorts text, whatever the database's
        // collation.
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT chain FROM audit_log GROUP BY chain ORDER BY chain COLLATE \"C\"",
        )
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(chain,)| {
                ChainId::parse(&chain)
                    .map_err(|_| StoreError::Corrupt(format!("stored audit chain {chain:?}")))
            })
            .collect()
    }
}
