//! Admin users: accounts, their changes, second-factor steps and
//! recovery codes.
//!
//! Invariants: a change finds its user within the tenant given (or among
//! the platform operators for none) in the transaction that changes it, or
//! changes and appends nothing; a TOTP step and a recovery code are
//! claimed by one conditional `UPDATE`, so each is accepted once, whichever
//! node asks.

use super::audit::{append, append_opt};
use super::{transaction, Backend};
use crate::admin::rows::{i64_to_db, u64_from_db, user_from_row, USER_COLUMNS};
use crate::admin::{AuditAppend, NewUser, User, UserChange, UserId};
use crate::postgres::codec::{self, optional_micros};
use crate::{StoreError, TenantId};
use nexaguard_access::Throttle;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

/// The unique index on a tenant's `users.email_index`: violating it
/// means the address has an account in that tenant.
const EMAIL_UNIQUE: &str = "users_email_per_tenant";

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
    let mut conn = store.conn().await?;
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

pub(super) async fn user(store: &Backend, id: UserId) -> Result<Option<User>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

pub(super) async fn users(
    store: &Backend,
    tenant: Option<TenantId>,
) -> Result<Vec<User>, StoreError> {
    let mut conn = store.conn().await?;
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

pub(super) async fn count_users(store: &Backend) -> Result<u64, StoreError> {
    let mut conn = store.conn().await?;
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM users")
        .fetch_one(&mut *conn)
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
    transaction!(store, |conn| async {
        // FOR UPDATE: the user found is the user changed, even if another
        // node removes or moves it meanwhile (it waits for this commit).
        let found: Option<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM users WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $2 \
             FOR UPDATE",
        )
        .bind(user.0)
        .bind(tenant.map(|t| t.0))
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Ok(false);
        }
        apply_user_change(conn, user.0, change).await?;
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
    let mut conn = store.conn().await?;
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

pub(super) async fn use_recovery_code(
    store: &Backend,
    user: UserId,
    hash: &[u8; 32],
) -> Result<bool, StoreError> {
    let mut conn = store.conn().await?;
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

pub(super) async fn unused_recovery_codes(
    store: &Backend,
    user: UserId,
) -> Result<u64, StoreError> {
    let mut conn = store.conn().await?;
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.0)
    .fetch_one(&mut *conn)
    .await?;
    u64_from_db("recovery code count", count)
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

/// Inserts a user in the caller's transaction (a user's creation, or an
/// invitation's acceptance).
pub(super) async fn insert_user(
    conn: &mut PgConnection,
    user: &NewUser,
) -> Result<User, StoreError> {
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
