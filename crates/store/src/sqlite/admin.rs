//! The SQLite side of [`AdminStore`].
//!
//! Admin traffic is light and every change must commit with its audit
//! entry, so changes run as `BEGIN IMMEDIATE` transactions on one connection
//! of their own (behind a mutex) rather than through the consent writer:
//! IMMEDIATE takes SQLite's write lock up front, so the chain head read and
//! the entry written after it cannot interleave with another writer, even
//! another process such as the CLI. Reads use a small `query_only` pool.

use super::codec;
use crate::admin::{scopes_from_db, scopes_to_db};
use crate::admin::{
    AdminStore, ApiToken, ApiTokenId, AuditAppend, ConsentQuery, Draft, DraftSave, Invitation,
    NewUser, SessionRecord, StoredDataKey, StoredSigningKey, User, UserChange, UserId,
};
use crate::{PublishedConfig, Site, SiteId, StoreError, Tenant, TenantId};
use async_trait::async_trait;
use nexaguard_access::{Role, Throttle};
use nexaguard_audit::{
    Action, Actor, AuditEntry, AuditEvent, ChainHead, ChainId, Checkpoint, CheckpointSigner,
    Outcome, CHECKPOINT_INTERVAL,
};
use nexaguard_consent::event::ConsentEvent;
use nexaguard_consent::Environment;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{ConnectOptions, Row, SqliteConnection};
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
            let $conn = &mut write.conn;
            $body.await
        };
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(end).execute(&mut write.conn).await?;
        write.in_transaction = false;
        result
    }};
}

// For the webhooks module, whose changes commit with their audit entries too.
pub(super) use transaction;

/// Appends an audit entry inside the caller's transaction, and a signed
/// checkpoint every [`CHECKPOINT_INTERVAL`] entries.
pub(super) async fn append(
    conn: &mut SqliteConnection,
    signer: Option<&CheckpointSigner>,
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    let chain_text = audit.chain.to_text();
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1")
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
    let entry = AuditEntry::next(audit.chain, head, Uuid::new_v4(), audit.at, audit.event);
    sqlx::query(
        "INSERT INTO audit_log (chain, seq, id, at, action, actor, target, outcome, \
         client_network, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&chain_text)
    .bind(i64_to_db(entry.seq)?)
    .bind(codec::uuid_to_db(entry.id))
    .bind(codec::timestamp_to_db(entry.at)?)
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
    if entry.seq % CHECKPOINT_INTERVAL == 0 {
        if let Some(signer) = signer {
            let checkpoint = signer.sign(entry.chain, entry.head(), entry.at);
            insert_checkpoint(conn, &checkpoint).await?;
        }
    }
    Ok(entry)
}

async fn insert_checkpoint(
    conn: &mut SqliteConnection,
    checkpoint: &Checkpoint,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (chain, seq, hash, at, key_id, signature) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(checkpoint.chain.to_text())
    .bind(i64_to_db(checkpoint.seq)?)
    .bind(checkpoint.hash.as_slice())
    .bind(codec::timestamp_to_db(checkpoint.at)?)
    .bind(&checkpoint.key_id)
    .bind(checkpoint.signature.as_slice())
    .execute(conn)
    .await?;
    Ok(())
}

async fn append_opt(
    conn: &mut SqliteConnection,
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

pub(super) fn u64_from_db(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("stored {what} {value}")))
}

fn hash32(what: &str, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("stored {what} has {} bytes", bytes.len())))
}

pub(super) fn optional_time(text: Option<String>) -> Result<Option<OffsetDateTime>, StoreError> {
    text.as_deref().map(codec::timestamp_from_db).transpose()
}

fn optional_time_to_db(at: Option<OffsetDateTime>) -> Result<Option<String>, StoreError> {
    at.map(codec::timestamp_to_db).transpose()
}

fn role_from_db(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("stored role {text:?}")))
}

fn tenant_to_db(tenant: Option<TenantId>) -> Option<String> {
    tenant.map(|t| codec::uuid_to_db(t.0))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

const USER_COLUMNS: &str =
    "id, tenant_id, role, email_index, email_sealed, password_hash, totp_sealed, \
                            totp_pending_sealed, failures, locked_until, created_at";

fn user_from_row(row: &SqliteRow) -> Result<User, StoreError> {
    let tenant: Option<String> = row.try_get("tenant_id")?;
    let failures: i64 = row.try_get("failures")?;
    let index: Vec<u8> = row.try_get("email_index")?;
    Ok(User {
        id: UserId(codec::uuid_from_db(row.try_get("id")?)?),
        tenant: tenant
            .as_deref()
            .map(codec::uuid_from_db)
            .transpose()?
            .map(TenantId),
        role: role_from_db(row.try_get("role")?)?,
        email_index: hash32("email index", &index)?,
        email_sealed: row.try_get("email_sealed")?,
        password_hash: row.try_get("password_hash")?,
        totp_sealed: row.try_get("totp_sealed")?,
        totp_pending_sealed: row.try_get("totp_pending_sealed")?,
        throttle: Throttle {
            failures: u32::try_from(failures)
                .map_err(|_| StoreError::Corrupt(format!("stored failures {failures}")))?,
            locked_until: optional_time(row.try_get("locked_until")?)?,
        },
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
    })
}

const TOKEN_COLUMNS: &str = "id, tenant_id, name, role, created_by, created_at, expires_at, \
                             last_used_at, revoked_at, parent_id, step_up_scopes";

/// Revokes a live token (`?1`, of tenant `?2`) and its live descendants
/// at `?3`. The root must be live for anything to change, so revoking a
/// revoked token reports nothing done.
const REVOKE_TOKEN_LINEAGE: &str = "\
    WITH RECURSIVE lineage (id) AS ( \
        SELECT id FROM api_tokens WHERE id = ?1 AND tenant_id = ?2 AND revoked_at IS NULL \
        UNION SELECT t.id FROM api_tokens t JOIN lineage l ON t.parent_id = l.id \
    ) \
    UPDATE api_tokens SET revoked_at = ?3 \
    WHERE id IN (SELECT id FROM lineage) AND revoked_at IS NULL";

fn token_from_row(row: &SqliteRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: ApiTokenId(codec::uuid_from_db(row.try_get("id")?)?),
        tenant: TenantId(codec::uuid_from_db(row.try_get("tenant_id")?)?),
        name: row.try_get("name")?,
        role: role_from_db(row.try_get("role")?)?,
        created_by: row.try_get("created_by")?,
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
        expires_at: codec::timestamp_from_db(row.try_get("expires_at")?)?,
        last_used_at: optional_time(row.try_get("last_used_at")?)?,
        revoked_at: optional_time(row.try_get("revoked_at")?)?,
        parent: row
            .try_get::<Option<&str>, _>("parent_id")?
            .map(|id| codec::uuid_from_db(id).map(ApiTokenId))
            .transpose()?,
        step_up_scopes: scopes_from_db(row.try_get("step_up_scopes")?)?,
    })
}

const INVITATION_COLUMNS: &str = "id, tenant_id, email_index, email_sealed, role, created_by, \
                                  created_at, expires_at, accepted_at";

fn invitation_from_row(row: &SqliteRow) -> Result<Invitation, StoreError> {
    let index: Vec<u8> = row.try_get("email_index")?;
    Ok(Invitation {
        id: codec::uuid_from_db(row.try_get("id")?)?,
        tenant: TenantId(codec::uuid_from_db(row.try_get("tenant_id")?)?),
        email_index: hash32("email index", &index)?,
        email_sealed: row.try_get("email_sealed")?,
        role: role_from_db(row.try_get("role")?)?,
        created_by: row.try_get("created_by")?,
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
        expires_at: codec::timestamp_from_db(row.try_get("expires_at")?)?,
        accepted_at: optional_time(row.try_get("accepted_at")?)?,
    })
}

fn session_from_row(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    let hash: Vec<u8> = row.try_get("id_hash")?;
    let mfa: i64 = row.try_get("mfa_verified")?;
    Ok(SessionRecord {
        id_hash: hash32("session hash", &hash)?,
        user: UserId(codec::uuid_from_db(row.try_get("user_id")?)?),
        mfa_verified: mfa == 1,
        mfa_at: optional_time(row.try_get("mfa_at")?)?,
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
        last_seen_at: codec::timestamp_from_db(row.try_get("last_seen_at")?)?,
    })
}

fn entry_from_row(row: &SqliteRow) -> Result<AuditEntry, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("stored audit {what}"));
    let chain: String = row.try_get("chain")?;
    let action: String = row.try_get("action")?;
    let actor: String = row.try_get("actor")?;
    let outcome: String = row.try_get("outcome")?;
    let details: String = row.try_get("details")?;
    let prev: Vec<u8> = row.try_get("prev_hash")?;
    let hash: Vec<u8> = row.try_get("hash")?;
    Ok(AuditEntry {
        id: codec::uuid_from_db(row.try_get("id")?)?,
        chain: ChainId::parse(&chain).map_err(|_| corrupt("chain"))?,
        seq: u64_from_db("audit seq", row.try_get("seq")?)?,
        at: codec::timestamp_from_db(row.try_get("at")?)?,
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

fn checkpoint_from_row(row: &SqliteRow) -> Result<Checkpoint, StoreError> {
    let chain: String = row.try_get("chain")?;
    let hash: Vec<u8> = row.try_get("hash")?;
    let signature: Vec<u8> = row.try_get("signature")?;
    Ok(Checkpoint {
        chain: ChainId::parse(&chain)
            .map_err(|_| StoreError::Corrupt("stored checkpoint chain".to_owned()))?,
        seq: u64_from_db("checkpoint seq", row.try_get("seq")?)?,
        hash: hash32("checkpoint hash", &hash)?,
        at: codec::timestamp_from_db(row.try_get("at")?)?,
        key_id: row.try_get("key_id")?,
        signature: signature.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(format!("stored signature has {} bytes", signature.len()))
        })?,
    })
}

async fn insert_user(conn: &mut SqliteConnection, user: &NewUser) -> Result<User, StoreError> {
    let id = UserId(Uuid::new_v4());
    let created_at = OffsetDateTime::now_utc();
    let inserted = sqlx::query(
        "INSERT INTO users (id, tenant_id, email_index, email_sealed, password_hash, role, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(codec::uuid_to_db(id.0))
    .bind(tenant_to_db(user.tenant))
    .bind(user.email_index.as_slice())
    .bind(&user.email_sealed)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(codec::timestamp_to_db(created_at)?)
    .execute(conn)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => {
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

/// Applies a change to a user known to exist in the caller's scope.
async fn apply_user_change(
    conn: &mut SqliteConnection,
    id: &str,
    change: UserChange,
) -> Result<(), StoreError> {
    match change {
        UserChange::Role(role) => {
            sqlx::query("UPDATE users SET role = ? WHERE id = ?")
                .bind(role.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::Password(hash) => {
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
                .bind(hash)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::TotpOffered(sealed) => {
            sqlx::query("UPDATE users SET totp_pending_sealed = ? WHERE id = ?")
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
                "UPDATE users SET totp_sealed = ?, totp_pending_sealed = NULL, \
                 totp_last_step = ? WHERE id = ?",
            )
            .bind(sealed)
            .bind(i64_to_db(step)?)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            for hash in recovery_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)")
                    .bind(id)
                    .bind(hash.as_slice())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::Throttle(throttle) => {
            sqlx::query("UPDATE users SET failures = ?, locked_until = ? WHERE id = ?")
                .bind(i64::from(throttle.failures))
                .bind(optional_time_to_db(throttle.locked_until)?)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        UserChange::Remove => {
            sqlx::query("DELETE FROM users WHERE id = ?")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

const SITE_SELECT: &str = "SELECT s.id, s.tenant_id, s.name, s.origins, s.created_at, \
     p.key AS production_key, t.key AS staging_key FROM sites AS s \
     JOIN site_keys AS p ON p.site_id = s.id AND p.environment = 'production' \
     JOIN site_keys AS t ON t.site_id = s.id AND t.environment = 'staging'";

fn site_from_row(row: &SqliteRow) -> Result<Site, StoreError> {
    let origins: String = row.try_get("origins")?;
    Ok(Site {
        id: SiteId(codec::uuid_from_db(row.try_get("id")?)?),
        tenant_id: TenantId(codec::uuid_from_db(row.try_get("tenant_id")?)?),
        name: row.try_get("name")?,
        origins: codec::json_from_db("site origins", &origins)?,
        production_key: row.try_get("production_key")?,
        staging_key: row.try_get("staging_key")?,
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
    })
}

async fn insert_tenant(conn: &mut SqliteConnection, tenant: &Tenant) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")
        .bind(codec::uuid_to_db(tenant.id.0))
        .bind(&tenant.name)
        .bind(codec::timestamp_to_db(tenant.created_at)?)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_site(conn: &mut SqliteConnection, site: &Site) -> Result<(), StoreError> {
    let id = codec::uuid_to_db(site.id.0);
    let tenant = codec::uuid_to_db(site.tenant_id.0);
    // The foreign key would refuse an unknown tenant too, but as a database
    // error; this tells the caller what is missing.
    let tenant_exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM tenants WHERE id = ?")
        .bind(&tenant)
        .fetch_optional(&mut *conn)
        .await?;
    if tenant_exists.is_none() {
        return Err(StoreError::NotFound(format!("tenant {}", site.tenant_id.0)));
    }
    sqlx::query(
        "INSERT INTO sites (id, tenant_id, name, origins, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&site.name)
    .bind(codec::json_to_db("site origins", &site.origins)?)
    .bind(codec::timestamp_to_db(site.created_at)?)
    .execute(&mut *conn)
    .await?;
    for environment in [Environment::Production, Environment::Staging] {
        sqlx::query("INSERT INTO site_keys (key, site_id, environment) VALUES (?, ?, ?)")
            .bind(site.key(environment))
            .bind(&id)
            .bind(environment.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl AdminStore for SqliteAdminStore {
    async fn data_keys(&self) -> Result<Vec<StoredDataKey>, StoreError> {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT id, scope, wrapped, created_at FROM data_keys ORDER BY rowid")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|(id, scope, wrapped, created_at)| {
                Ok(StoredDataKey {
                    id,
                    scope,
                    wrapped,
                    created_at: codec::timestamp_from_db(&created_at)?,
                })
            })
            .collect()
    }

    async fn insert_data_key(&self, key: StoredDataKey) -> Result<StoredDataKey, StoreError> {
        let created_at = codec::timestamp_to_db(key.created_at)?;
        transaction!(self, |conn| async {
            sqlx::query(
                "INSERT INTO data_keys (id, scope, wrapped, created_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (scope) DO NOTHING",
            )
            .bind(&key.id)
            .bind(&key.scope)
            .bind(&key.wrapped)
            .bind(&created_at)
            .execute(&mut *conn)
            .await?;
            let (id, wrapped, created_at): (String, String, String) =
                sqlx::query_as("SELECT id, wrapped, created_at FROM data_keys WHERE scope = ?")
                    .bind(&key.scope)
                    .fetch_one(&mut *conn)
                    .await?;
            Ok::<_, StoreError>(StoredDataKey {
                id,
                scope: key.scope.clone(),
                wrapped,
                created_at: codec::timestamp_from_db(&created_at)?,
            })
        })
    }

    async fn rewrap_data_keys(
        &self,
        rewrapped: &[(String, String)],
        audit: AuditAppend,
    ) -> Result<AuditEntry, StoreError> {
        let signer = self.signer();
        transaction!(self, |conn| async {
            for (id, wrapped) in rewrapped {
                sqlx::query("UPDATE data_keys SET wrapped = ? WHERE id = ?")
                    .bind(wrapped)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            append(conn, signer.as_deref(), audit).await
        })
    }

    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let rows: Vec<(String, Vec<u8>, String, String)> = sqlx::query_as(
            "SELECT id, public_key, seed_sealed, created_at FROM signing_keys ORDER BY created_at",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, public_key, seed_sealed, created_at)| {
                Ok(StoredSigningKey {
                    id,
                    public_key: hash32("public key", &public_key)?,
                    seed_sealed,
                    created_at: codec::timestamp_from_db(&created_at)?,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&self, key: StoredSigningKey) -> Result<(), StoreError> {
        let created_at = codec::timestamp_to_db(key.created_at)?;
        transaction!(self, |conn| async {
            sqlx::query(
                "INSERT INTO signing_keys (id, public_key, seed_sealed, created_at) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(&key.id)
            .bind(key.public_key.as_slice())
            .bind(&key.seed_sealed)
            .bind(&created_at)
            .execute(&mut *conn)
            .await?;
            Ok::<_, StoreError>(())
        })
    }

    fn set_checkpoint_signer(&self, signer: Arc<CheckpointSigner>) {
        *self.signer.write().unwrap_or_else(PoisonError::into_inner) = Some(signer);
    }

    async fn create_user(&self, user: NewUser, audit: AuditAppend) -> Result<User, StoreError> {
        let signer = self.signer();
        transaction!(self, |conn| async {
            let created = insert_user(conn, &user).await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(created)
        })
    }

    async fn users_by_email_index(&self, index: &[u8; 32]) -> Result<Vec<User>, StoreError> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email_index = ? ORDER BY created_at, id"
        ))
        .bind(index.as_slice())
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(codec::uuid_to_db(id.0))
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<User>, StoreError> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id IS ? ORDER BY created_at, id"
        ))
        .bind(tenant_to_db(tenant))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM users")
            .fetch_one(&self.read)
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
        let id = codec::uuid_to_db(user.0);
        transaction!(self, |conn| async {
            let found: Option<(String,)> =
                sqlx::query_as("SELECT id FROM users WHERE id = ? AND tenant_id IS ?")
                    .bind(&id)
                    .bind(tenant_to_db(tenant))
                    .fetch_optional(&mut *conn)
                    .await?;
            if found.is_none() {
                return Ok::<_, StoreError>(false);
            }
            apply_user_change(conn, &id, change).await?;
            append_opt(conn, signer.as_deref(), audit).await?;
            Ok(true)
        })
    }

    async fn claim_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let step = i64_to_db(step)?;
        let id = codec::uuid_to_db(user.0);
        transaction!(self, |conn| async {
            let done = sqlx::query(
                "UPDATE users SET totp_last_step = ? \
                 WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
            )
            .bind(step)
            .bind(&id)
            .bind(step)
            .execute(&mut *conn)
            .await?;
            Ok::<_, StoreError>(done.rows_affected() == 1)
        })
    }

    async fn use_recovery_code(&self, user: UserId, hash: &[u8; 32]) -> Result<bool, StoreError> {
        let id = codec::uuid_to_db(user.0);
        let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
        transaction!(self, |conn| async {
            let done = sqlx::query(
                "UPDATE recovery_codes SET used_at = ? \
                 WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
            )
            .bind(&now)
            .bind(&id)
            .bind(hash.as_slice())
            .execute(&mut *conn)
            .await?;
            Ok::<_, StoreError>(done.rows_affected() == 1)
        })
    }

    async fn unused_recovery_codes(&self, user: UserId) -> Result<u64, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
        )
        .bind(codec::uuid_to_db(user.0))
        .fetch_one(&self.read)
        .await?;
        u64_from_db("recovery code count", count)
    }

    async fn create_session(
        &self,
        session: SessionRecord,
        replaces: Option<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let created_at = codec::timestamp_to_db(session.created_at)?;
        let last_seen_at = codec::timestamp_to_db(session.last_seen_at)?;
        let mfa_at = optional_time_to_db(session.mfa_at)?;
        transaction!(self, |conn| async {
            if let Some(old) = replaces {
                sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
                    .bind(old.as_slice())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, mfa_verified, mfa_at, created_at, \
                 last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(session.id_hash.as_slice())
            .bind(codec::uuid_to_db(session.user.0))
            .bind(i64::from(session.mfa_verified))
            .bind(&mfa_at)
            .bind(&created_at)
            .bind(&last_seen_at)
            .execute(&mut *conn)
            .await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query(
            "SELECT id_hash, user_id, mfa_verified, mfa_at, created_at, last_seen_at \
             FROM sessions WHERE id_hash = ?",
        )
        .bind(id_hash.as_slice())
        .fetch_optional(&self.read)
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
        let now = codec::timestamp_to_db(now)?;
        transaction!(self, |conn| async {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
                .bind(&now)
                .bind(id_hash.as_slice())
                .execute(&mut *conn)
                .await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn revoke_session(
        &self,
        id_hash: &[u8; 32],
        audit: Option<AuditAppend>,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        transaction!(self, |conn| async {
            sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
                .bind(id_hash.as_slice())
                .execute(&mut *conn)
                .await?;
            append_opt(conn, signer.as_deref(), audit).await
        })
    }

    async fn create_api_token(
        &self,
        token: ApiToken,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        let created_at = codec::timestamp_to_db(token.created_at)?;
        let expires_at = codec::timestamp_to_db(token.expires_at)?;
        transaction!(self, |conn| async {
            sqlx::query(
                "INSERT INTO api_tokens (id, tenant_id, name, role, secret_hash, created_by, \
                 created_at, expires_at, parent_id, step_up_scopes) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(codec::uuid_to_db(token.id.0))
            .bind(codec::uuid_to_db(token.tenant.0))
            .bind(&token.name)
            .bind(token.role.as_str())
            .bind(secret_hash.as_slice())
            .bind(&token.created_by)
            .bind(&created_at)
            .bind(&expires_at)
            .bind(token.parent.map(|p| codec::uuid_to_db(p.0)))
            .bind(scopes_to_db(&token.step_up_scopes))
            .execute(&mut *conn)
            .await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn api_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?"
        ))
        .bind(hash.as_slice())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()
    }

    async fn api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = ? ORDER BY created_at, id"
        ))
        .bind(codec::uuid_to_db(tenant.0))
        .fetch_all(&self.read)
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
        let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
        transaction!(self, |conn| async {
            let done = sqlx::query(REVOKE_TOKEN_LINEAGE)
                .bind(codec::uuid_to_db(id.0))
                .bind(codec::uuid_to_db(tenant.0))
                .bind(&now)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() == 0 {
                return Ok::<_, StoreError>(false);
            }
            append(conn, signer.as_deref(), audit).await?;
            Ok(true)
        })
    }

    async fn touch_api_token(&self, id: ApiTokenId, now: OffsetDateTime) -> Result<(), StoreError> {
        let now = codec::timestamp_to_db(now)?;
        transaction!(self, |conn| async {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(&now)
                .bind(codec::uuid_to_db(id.0))
                .execute(&mut *conn)
                .await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn create_invitation(
        &self,
        invitation: Invitation,
        secret_hash: [u8; 32],
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        let created_at = codec::timestamp_to_db(invitation.created_at)?;
        let expires_at = codec::timestamp_to_db(invitation.expires_at)?;
        transaction!(self, |conn| async {
            sqlx::query(
                "INSERT INTO invitations (id, tenant_id, email_index, email_sealed, role, \
                 secret_hash, created_by, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(codec::uuid_to_db(invitation.id))
            .bind(codec::uuid_to_db(invitation.tenant.0))
            .bind(invitation.email_index.as_slice())
            .bind(&invitation.email_sealed)
            .bind(invitation.role.as_str())
            .bind(secret_hash.as_slice())
            .bind(&invitation.created_by)
            .bind(&created_at)
            .bind(&expires_at)
            .execute(&mut *conn)
            .await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn invitation_by_hash(&self, hash: &[u8; 32]) -> Result<Option<Invitation>, StoreError> {
        sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE secret_hash = ?"
        ))
        .bind(hash.as_slice())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(invitation_from_row)
        .transpose()
    }

    async fn invitations(&self, tenant: TenantId) -> Result<Vec<Invitation>, StoreError> {
        sqlx::query(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = ? \
             ORDER BY created_at, id"
        ))
        .bind(codec::uuid_to_db(tenant.0))
        .fetch_all(&self.read)
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
        let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
        transaction!(self, |conn| async {
            let done = sqlx::query(
                "UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL",
            )
            .bind(&now)
            .bind(codec::uuid_to_db(invitation))
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Ok::<_, StoreError>(None);
            }
            let created = insert_user(conn, &user).await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok(Some(created))
        })
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
            created_at: OffsetDateTime::now_utc(),
        };
        transaction!(self, |conn| async {
            insert_tenant(conn, &tenant).await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(())
        })?;
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
            production_key: super::new_site_key(Environment::Production),
            staging_key: super::new_site_key(Environment::Staging),
            created_at: OffsetDateTime::now_utc(),
        };
        transaction!(self, |conn| async {
            insert_site(conn, &site).await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(site)
    }

    async fn tenant_sites(&self, tenant: TenantId) -> Result<Vec<Site>, StoreError> {
        sqlx::query(&format!(
            "{SITE_SELECT} WHERE s.tenant_id = ? ORDER BY s.created_at, s.id"
        ))
        .bind(codec::uuid_to_db(tenant.0))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(site_from_row)
        .collect()
    }

    async fn tenant_site(
        &self,
        tenant: TenantId,
        site: SiteId,
    ) -> Result<Option<Site>, StoreError> {
        sqlx::query(&format!("{SITE_SELECT} WHERE s.tenant_id = ? AND s.id = ?"))
            .bind(codec::uuid_to_db(tenant.0))
            .bind(codec::uuid_to_db(site.0))
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(site_from_row)
            .transpose()
    }

    async fn latest_config(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<Option<PublishedConfig>, StoreError> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT version, config_json, published_at FROM site_configs \
             WHERE site_id = ? AND environment = ? ORDER BY version DESC LIMIT 1",
        )
        .bind(codec::uuid_to_db(site.0))
        .bind(environment.as_str())
        .fetch_optional(&self.read)
        .await?;
        row.map(|(version, config_json, published_at)| {
            Ok(PublishedConfig {
                site_id: site,
                environment,
                version: codec::version_from_db(version)?,
                config_json,
                published_at: codec::timestamp_from_db(&published_at)?,
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
        let published_at = OffsetDateTime::now_utc();
        let published_at_text = codec::timestamp_to_db(published_at)?;
        let site_text = codec::uuid_to_db(site.0);
        let version = transaction!(self, |conn| async {
            // BEGIN IMMEDIATE holds the write lock, so no other writer (a
            // node, the CLI) slips a version in between; the check makes an
            // unknown site a `NotFound` rather than a foreign key error.
            let site_exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM sites WHERE id = ?")
                .bind(&site_text)
                .fetch_optional(&mut *conn)
                .await?;
            if site_exists.is_none() {
                return Err(StoreError::NotFound(format!("site {}", site.0)));
            }
            let (version,): (i64,) = sqlx::query_as(
                "INSERT INTO site_configs (site_id, environment, version, config_json, \
                 published_at) \
                 SELECT ?1, ?2, coalesce(max(version), 0) + 1, ?3, ?4 FROM site_configs \
                 WHERE site_id = ?1 AND environment = ?2 RETURNING version",
            )
            .bind(&site_text)
            .bind(environment.as_str())
            .bind(config_json)
            .bind(&published_at_text)
            .fetch_one(&mut *conn)
            .await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(version)
        })?;
        Ok(PublishedConfig {
            site_id: site,
            environment,
            version: codec::version_from_db(version)?,
            config_json: config_json.to_owned(),
            published_at,
        })
    }

    async fn draft(&self, site: SiteId) -> Result<Option<Draft>, StoreError> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT revision, config_json, updated_at FROM config_drafts WHERE site_id = ?",
        )
        .bind(codec::uuid_to_db(site.0))
        .fetch_optional(&self.read)
        .await?;
        row.map(|(revision, config_json, updated_at)| {
            Ok(Draft {
                site,
                revision: codec::version_from_db(revision)?,
                config_json,
                updated_at: codec::timestamp_from_db(&updated_at)?,
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
        let site_text = codec::uuid_to_db(site.0);
        let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
        transaction!(self, |conn| async {
            let current: Option<(i64,)> =
                sqlx::query_as("SELECT revision FROM config_drafts WHERE site_id = ?")
                    .bind(&site_text)
                    .fetch_optional(&mut *conn)
                    .await?;
            let current = current
                .map(|(revision,)| codec::version_from_db(revision))
                .transpose()?;
            if current != base_revision {
                return Ok::<_, StoreError>(DraftSave::Stale {
                    current: current.unwrap_or(0),
                });
            }
            let next = current.unwrap_or(0).saturating_add(1);
            sqlx::query(
                "INSERT INTO config_drafts (site_id, revision, config_json, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (site_id) DO UPDATE \
                 SET revision = ?2, config_json = ?3, updated_at = ?4",
            )
            .bind(&site_text)
            .bind(i64::from(next))
            .bind(config_json)
            .bind(&now)
            .execute(&mut *conn)
            .await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok(DraftSave::Saved(next))
        })
    }

    async fn search_consents(&self, query: &ConsentQuery) -> Result<Vec<ConsentEvent>, StoreError> {
        let mut sql =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT body FROM consents WHERE site_id = ");
        sql.push_bind(codec::uuid_to_db(query.site.0));
        sql.push(" AND environment = ")
            .push_bind(query.environment.as_str());
        if let Some(token) = &query.token {
            sql.push(" AND token_hash = ")
                .push_bind(token.as_bytes().to_vec());
        }
        if let Some(event_id) = query.event_id {
            sql.push(" AND event_id = ")
                .push_bind(codec::uuid_to_db(event_id));
        }
        if let Some(from) = query.from {
            sql.push(" AND recorded_at >= ")
                .push_bind(codec::timestamp_to_db(from)?);
        }
        if let Some(to) = query.to {
            sql.push(" AND recorded_at < ")
                .push_bind(codec::timestamp_to_db(to)?);
        }
        if let Some((at, id)) = query.before {
            sql.push(" AND (recorded_at, event_id) < (")
                .push_bind(codec::timestamp_to_db(at)?)
                .push(", ")
                .push_bind(codec::uuid_to_db(id))
                .push(")");
        }
        sql.push(" ORDER BY recorded_at DESC, event_id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        let rows: Vec<(String,)> = sql.build_query_as().fetch_all(&self.read).await?;
        rows.into_iter()
            .map(|(body,)| codec::json_from_db("consent event", &body))
            .collect()
    }

    async fn append_audit(&self, audit: AuditAppend) -> Result<AuditEntry, StoreError> {
        let signer = self.signer();
        transaction!(self, |conn| append(conn, signer.as_deref(), audit))
    }

    async fn audit_entries(
        &self,
        chain: ChainId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query(
            "SELECT chain, seq, id, at, action, actor, target, outcome, client_network, \
             details, prev_hash, hash FROM audit_log WHERE chain = ? AND seq > ? \
             ORDER BY seq LIMIT ?",
        )
        .bind(chain.to_text())
        .bind(i64_to_db(after)?)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }

    async fn audit_checkpoints(&self, chain: ChainId) -> Result<Vec<Checkpoint>, StoreError> {
        sqlx::query(
            "SELECT chain, seq, hash, at, key_id, signature FROM audit_checkpoints \
             WHERE chain = ? ORDER BY seq",
        )
        .bind(chain.to_text())
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(checkpoint_from_row)
        .collect()
    }

    async fn audit_chains(&self) -> Result<Vec<ChainId>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT chain FROM audit_log ORDER BY chain")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|(chain,)| {
                ChainId::parse(&chain)
                    .map_err(|_| StoreError::Corrupt(format!("stored audit chain {chain:?}")))
            })
            .collect()
    }
}
