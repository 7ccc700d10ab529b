//! Data keys and checkpoint signing keys, as the key ring keeps them.
//!
//! Invariant: a scope has one data key, whoever inserts first: a second
//! insert for the scope, on any node, keeps and returns the first (`ON
//! CONFLICT DO NOTHING`, then a read that sees the winner's commit).

use super::{append, transaction, Backend};
use crate::admin::rows::hash32;
use crate::admin::{AuditAppend, StoredDataKey, StoredSigningKey};
use crate::postgres::codec::to_micros;
use crate::StoreError;
use nexaguard_audit::AuditEntry;
use time::OffsetDateTime;

pub(super) async fn data_keys(store: &Backend) -> Result<Vec<StoredDataKey>, StoreError> {
    let mut conn = store.conn().await?;
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

pub(super) async fn insert_data_key(
    store: &Backend,
    key: StoredDataKey,
) -> Result<StoredDataKey, StoreError> {
    let created_at = to_micros(key.created_at)?;
    let mut conn = store.conn().await?;
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

pub(super) async fn rewrap_data_keys(
    store: &Backend,
    rewrapped: &[(String, String)],
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        for (id, wrapped) in rewrapped {
            sqlx::query("UPDATE data_keys SET wrapped = $1 WHERE id = $2")
                .bind(wrapped)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        append(conn, signer.as_deref(), audit).await
    })
}

pub(super) async fn signing_keys(store: &Backend) -> Result<Vec<StoredSigningKey>, StoreError> {
    let mut conn = store.conn().await?;
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

pub(super) async fn insert_signing_key(
    store: &Backend,
    key: StoredSigningKey,
) -> Result<(), StoreError> {
    let mut conn = store.conn().await?;
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
