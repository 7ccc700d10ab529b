//! Admin users: accounts, their changes, second-factor steps and
//! recovery codes.
//!
//! Invariants: a change finds its user within the tenant given (or among
//! the platform operators for none) in the transaction that changes it, or
//! changes and appends nothing; a TOTP step and a recovery code are
//! claimed by one conditional `UPDATE`, so each is accepted once.

use super::audit::{append, append_opt};
use super::{transaction, Backend};
use crate::admin::rows::{i64_to_db, u64_from_db, user_from_row, USER_COLUMNS};
use crate::admin::{AuditAppend, NewUser, User, UserChange, UserId};
use crate::sqlite::codec;
use crate::{StoreError, TenantId};
use nexaguard_access::Throttle;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

pub(super) async fn create_user(
    store: &Backend,
    user: NewUser,
    audit: AuditAppend,
) -> Result<User, StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        let created = insert_user(conn, &user).await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(created)
    })
}

pub(super) async fn users_by_email_index(
    store: &Backend,
    index: &[u8; 32],
) -> Result<Vec<User>, StoreError> {
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE email_index = ? ORDER BY created_at, id"
    ))
    .bind(index.as_slice())
    .fetch_all(&store.read)
    .await?
    .iter()
    .map(user_from_row)
    .collect()
}

pub(super) async fn user(store: &Backend, id: UserId) -> Result<Option<User>, StoreError> {
    sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
        .bind(codec::uuid_to_db(id.0))
        .fetch_optional(&store.read)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(super) async fn users(
    store: &Backend,
    tenant: Option<TenantId>,
) -> Result<Vec<User>, StoreError> {
    sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant_id IS ? ORDER BY created_at, id"
    ))
    .bind(tenant_to_db(tenant))
    .fetch_all(&store.read)
    .await?
    .iter()
    .map(user_from_row)
    .collect()
}

pub(super) async fn count_users(store: &Backend) -> Result<u64, StoreError> {
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM users")
        .fetch_one(&store.read)
        .await?;
    u64_from_db("user count", count)
}

pub(super) async fn update_user(
    store: &Backend,
    tenant: Option<TenantId>,
    user: UserId,
    change: UserChange,
    audit: Option<AuditAppend>,
) -> Result<bool, StoreError> {
    let signer = store.signer();
    let id = codec::uuid_to_db(user.0);
    transaction!(store, |conn| async {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM users WHERE id = ? AND tenant_id IS ?")
                .bind(&id)
                .bind(tenant_to_db(tenant))
                .fetch_optional(&mut *conn)
                .await?;
        if found.is_none() {
            return Ok(false);
        }
        apply_user_change(conn, &id, change).await?;
        append_opt(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(true)
    })
}

pub(super) async fn claim_totp_step(
    store: &Backend,
    user: UserId,
    step: u64,
) -> Result<bool, StoreError> {
    let step = i64_to_db(step)?;
    let id = codec::uuid_to_db(user.0);
    transaction!(store, |conn| async {
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

pub(super) async fn use_recovery_code(
    store: &Backend,
    user: UserId,
    hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let id = codec::uuid_to_db(user.0);
    let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
    transaction!(store, |conn| async {
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

pub(super) async fn unused_recovery_codes(
    store: &Backend,
    user: UserId,
) -> Result<u64, StoreError> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
            .bind(codec::uuid_to_db(user.0))
            .fetch_one(&store.read)
            .await?;
    u64_from_db("recovery code count", count)
}

fn tenant_to_db(tenant: Option<TenantId>) -> Option<String> {
    tenant.map(|t| codec::uuid_to_db(t.0))
}

/// Whether an insert failed because the e-mail address has an account in
/// the tenant: `users_email_per_tenant` is the only unique index an insert
/// can break (the primary key is a fresh random id). SQLite's error does
/// not name the index, as PostgreSQL's does.
fn is_email_taken(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Inserts a user in the caller's transaction (a user's creation, or an
/// invitation's acceptance).
pub(super) async fn insert_user(
    conn: &mut SqliteConnection,
    user: &NewUser,
) -> Result<User, StoreError> {
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
                .bind(codec::optional_timestamp_to_db(throttle.locked_until)?)
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
