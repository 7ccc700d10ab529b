//! The audit log: appending (the SQLite side of [`ChainLog`]) and reading
//! entries, checkpoints and chains.
//!
//! Invariant: an entry is appended only inside a `BEGIN IMMEDIATE`
//! transaction, whose write lock is the chain's lock: no other writer, in
//! this process or another, can read the same head.

use super::{transaction, Backend};
use crate::admin::chain::{self, ChainLog};
use crate::admin::rows::{
    chain_from_db, checkpoint_from_row, entry_from_row, i64_to_db, CHECKPOINT_COLUMNS,
    ENTRY_COLUMNS,
};
use crate::admin::AuditAppend;
use crate::sqlite::codec;
use crate::StoreError;
use async_trait::async_trait;
use nexaguard_audit::{AuditEntry, ChainId, Checkpoint, CheckpointSigner};
use sqlx::SqliteConnection;
use time::OffsetDateTime;

/// Appends an audit entry inside the caller's transaction (see
/// [`chain::append`]).
pub(in crate::sqlite) async fn append(
    conn: &mut SqliteConnection,
    signer: Option<&CheckpointSigner>,
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    chain::append(conn, signer, audit).await
}

/// [`append`] for the changes that are audited only sometimes.
pub(super) async fn append_opt(
    conn: &mut SqliteConnection,
    signer: Option<&CheckpointSigner>,
    audit: Option<AuditAppend>,
) -> Result<(), StoreError> {
    chain::append_opt(conn, signer, audit).await
}

#[async_trait]
impl ChainLog for SqliteConnection {
    async fn lock_chain(&mut self, _chain: &str) -> Result<(), StoreError> {
        // Nothing to take: the caller's BEGIN IMMEDIATE holds the
        // database's write lock, which covers every chain.
        Ok(())
    }

    async fn chain_head(&mut self, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE chain = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(chain)
        .fetch_optional(&mut *self)
        .await?)
    }

    fn stored_time(&self, at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
        // Stored to the nanosecond: it reads back as it is.
        Ok(at)
    }

    async fn insert_entry(&mut self, chain: &str, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(chain)
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
        .execute(&mut *self)
        .await?;
        Ok(())
    }

    async fn insert_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        ))
        .bind(checkpoint.chain.to_text())
        .bind(i64_to_db(checkpoint.seq)?)
        .bind(checkpoint.hash.as_slice())
        .bind(codec::timestamp_to_db(checkpoint.at)?)
        .bind(&checkpoint.key_id)
        .bind(checkpoint.signature.as_slice())
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}

pub(super) async fn append_audit(
    store: &Backend,
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| append(conn, signer.as_deref(), audit))
}

pub(super) async fn audit_entries(
    store: &Backend,
    chain: ChainId,
    after: u64,
    limit: u32,
) -> Result<Vec<AuditEntry>, StoreError> {
    sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE chain = ? AND seq > ? \
         ORDER BY seq LIMIT ?"
    ))
    .bind(chain.to_text())
    .bind(i64_to_db(after)?)
    .bind(i64::from(limit))
    .fetch_all(&store.read)
    .await?
    .iter()
    .map(entry_from_row)
    .collect()
}

pub(super) async fn audit_checkpoints(
    store: &Backend,
    chain: ChainId,
) -> Result<Vec<Checkpoint>, StoreError> {
    sqlx::query(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = ? ORDER BY seq"
    ))
    .bind(chain.to_text())
    .fetch_all(&store.read)
    .await?
    .iter()
    .map(checkpoint_from_row)
    .collect()
}

pub(super) async fn audit_chains(store: &Backend) -> Result<Vec<ChainId>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT chain FROM audit_log ORDER BY chain")
            .fetch_all(&store.read)
            .await?;
    rows.into_iter()
        .map(|(chain,)| chain_from_db(&chain))
        .collect()
}
