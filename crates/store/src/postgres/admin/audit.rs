//! The audit log: appending (the PostgreSQL side of [`ChainLog`]) and
//! reading entries, checkpoints and chains.
//!
//! Invariant: appends to one chain are serialised by a transaction-level
//! advisory lock on the chain, taken before its head is read, whichever
//! node appends. Every write that appends does so as its last step, after
//! its row locks, so the locks are always taken in the same order (rows,
//! then the chain) and two writers cannot deadlock on them.

use super::{transaction, Backend};
use crate::admin::chain::{self, ChainLog};
use crate::admin::rows::{
    chain_from_db, checkpoint_from_row, entry_from_row, i64_to_db, CHECKPOINT_COLUMNS,
    ENTRY_COLUMNS,
};
use crate::admin::AuditAppend;
use crate::postgres::codec::{self, to_micros};
use crate::StoreError;
use async_trait::async_trait;
use nexaguard_audit::{AuditEntry, ChainId, Checkpoint, CheckpointSigner};
use sqlx::postgres::PgConnection;
use time::OffsetDateTime;

/// Takes the lock that serialises appends to the chain `$1` (its text
/// form) until the transaction ends. The key is a 64-bit hash of the chain
/// with a prefix of its own, so it does not meet other advisory locks
/// (the partition maintenance lock is a fixed key); two chains whose keys
/// collide would merely wait for each other.
const LOCK_CHAIN: &str = "SELECT pg_advisory_xact_lock(hashtextextended('audit:' || $1, 0))";

/// Appends an audit entry inside the caller's transaction (see
/// [`chain::append`]).
pub(in crate::postgres) async fn append(
    conn: &mut PgConnection,
    signer: Option<&CheckpointSigner>,
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    chain::append(conn, signer, audit).await
}

/// [`append`] for the changes that are audited only sometimes.
pub(super) async fn append_opt(
    conn: &mut PgConnection,
    signer: Option<&CheckpointSigner>,
    audit: Option<AuditAppend>,
) -> Result<(), StoreError> {
    chain::append_opt(conn, signer, audit).await
}

#[async_trait]
impl ChainLog for PgConnection {
    async fn lock_chain(&mut self, chain: &str) -> Result<(), StoreError> {
        // Its own statement, before the head is read: under READ COMMITTED
        // the read's snapshot is then taken after the lock is granted, so
        // it sees the entry of whoever held the lock before (locks are
        // released only once the commit is visible).
        sqlx::query(LOCK_CHAIN)
            .bind(chain)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn chain_head(&mut self, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(chain)
        .fetch_optional(&mut *self)
        .await?)
    }

    fn stored_time(&self, at: OffsetDateTime) -> Result<OffsetDateTime, StoreError> {
        // `timestamptz` keeps microseconds: the entry's hash must cover
        // the time that reads back.
        to_micros(at)
    }

    async fn insert_entry(&mut self, chain: &str, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO audit_log ({ENTRY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(chain)
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
        .execute(&mut *self)
        .await?;
        Ok(())
    }

    async fn insert_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(checkpoint.chain.to_text())
        .bind(i64_to_db(checkpoint.seq)?)
        .bind(checkpoint.hash.as_slice())
        .bind(checkpoint.at)
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
    let mut conn = store.conn().await?;
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

pub(super) async fn audit_checkpoints(
    store: &Backend,
    chain: ChainId,
) -> Result<Vec<Checkpoint>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE chain = $1 ORDER BY seq"
    ))
    .bind(chain.to_text())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(checkpoint_from_row)
    .collect()
}

pub(super) async fn audit_chains(store: &Backend) -> Result<Vec<ChainId>, StoreError> {
    let mut conn = store.conn().await?;
    // Byte order ("C"), as SQLite sorts text, whatever the database's
    // collation.
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT chain FROM audit_log GROUP BY chain ORDER BY chain COLLATE \"C\"")
            .fetch_all(&mut *conn)
            .await?;
    rows.into_iter()
        .map(|(chain,)| chain_from_db(&chain))
        .collect()
}
