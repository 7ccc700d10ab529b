//! Data keys and checkpoint signing keys, as the key ring keeps them.
//!
//! Invariant: a scope has one data key, whoever inserts first: a second
//! insert for the scope keeps and returns the first (`ON CONFLICT DO
//! NOTHING`, then a read in the same transaction).

use super::{append, transaction, Backend};
use crate::admin::rows::hash32;
use crate::admin::{AuditAppend, StoredDataKey, StoredSigningKey};
use crate::sqlite::codec;
use crate::StoreError;
use nexaguard_audit::AuditEntry;

pub(super) async fn data_keys(store: &Backend) -> Result<Vec<StoredDataKey>, StoreError> {
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT id, scope, wrapped, created_at FROM data_keys ORDER BY rowid")
            .fetch_all(&store.read)
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

pub(super) async fn insert_data_key(
    store: &Backend,
    key: StoredDataKey,
) -> Result<StoredDataKey, StoreError> {
    let created_at = codec::timestamp_to_db(key.created_at)?;
    transaction!(store, |conn| async {
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

pub(super) async fn rewrap_data_keys(
    store: &Backend,
    rewrapped: &[(String, String)],
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
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

pub(super) async fn signing_keys(store: &Backend) -> Result<Vec<StoredSigningKey>, StoreError> {
    let rows: Vec<(String, Vec<u8>, String, String)> = sqlx::query_as(
        "SELECT id, public_key, seed_sealed, created_at FROM signing_keys ORDER BY created_at",
    )
    .fetch_all(&store.read)
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

pub(super) async fn insert_signing_key(
    store: &Backend,
    key: StoredSigningKey,
) -> Result<(), StoreError> {
    let created_at = codec::timestamp_to_db(key.created_at)?;
    transaction!(store, |conn| async {
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
