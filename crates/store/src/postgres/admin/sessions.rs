//! Signed-in sessions, by the hash of their id (the id itself is never
//! stored).
//!
//! Invariant: a session replaced at sign-in or step-up is removed in the
//! transaction that stores its successor, so there is never a moment with
//! both or neither.

use super::audit::append_opt;
use super::{transaction, Backend};
use crate::admin::rows::{session_from_row, SESSION_COLUMNS};
use crate::admin::{AuditAppend, SessionRecord};
use crate::postgres::codec::{optional_micros, to_micros};
use crate::StoreError;
use time::OffsetDateTime;

pub(super) async fn create_session(
    store: &Backend,
    session: SessionRecord,
    replaces: Option<[u8; 32]>,
) -> Result<(), StoreError> {
    let created_at = to_micros(session.created_at)?;
    let last_seen_at = to_micros(session.last_seen_at)?;
    let mfa_at = optional_micros(session.mfa_at)?;
    transaction!(store, |conn| async {
        if let Some(old) = replaces {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(old.as_slice())
                .execute(&mut *conn)
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
        .execute(&mut *conn)
        .await?;
        Ok::<_, StoreError>(())
    })
}

pub(super) async fn session(
    store: &Backend,
    id_hash: &[u8; 32],
) -> Result<Option<SessionRecord>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1"
    ))
    .bind(id_hash.as_slice())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(session_from_row)
    .transpose()
}

pub(super) async fn touch_session(
    store: &Backend,
    id_hash: &[u8; 32],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(to_micros(now)?)
        .bind(id_hash.as_slice())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn revoke_session(
    store: &Backend,
    id_hash: &[u8; 32],
    audit: Option<AuditAppend>,
) -> Result<(), StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash.as_slice())
            .execute(&mut *conn)
            .await?;
        append_opt(conn, signer.as_deref(), audit).await
    })
}
