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
use crate::sqlite::codec;
use crate::StoreError;
use time::OffsetDateTime;

pub(super) async fn create_session(
    store: &Backend,
    session: SessionRecord,
    replaces: Option<[u8; 32]>,
) -> Result<(), StoreError> {
    let created_at = codec::timestamp_to_db(session.created_at)?;
    let last_seen_at = codec::timestamp_to_db(session.last_seen_at)?;
    let mfa_at = codec::optional_timestamp_to_db(session.mfa_at)?;
    transaction!(store, |conn| async {
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

pub(super) async fn session(
    store: &Backend,
    id_hash: &[u8; 32],
) -> Result<Option<SessionRecord>, StoreError> {
    sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?"
    ))
    .bind(id_hash.as_slice())
    .fetch_optional(&store.read)
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
    let now = codec::timestamp_to_db(now)?;
    transaction!(store, |conn| async {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
            .bind(&now)
            .bind(id_hash.as_slice())
            .execute(&mut *conn)
            .await?;
        Ok::<_, StoreError>(())
    })
}

pub(super) async fn revoke_session(
    store: &Backend,
    id_hash: &[u8; 32],
    audit: Option<AuditAppend>,
) -> Result<(), StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash.as_slice())
            .execute(&mut *conn)
            .await?;
        append_opt(conn, signer.as_deref(), audit).await
    })
}
