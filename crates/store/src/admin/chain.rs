//! Appending to an audit chain, the one algorithm both backends run inside
//! the transaction of a change: lock the chain, read its head, make the
//! entry chained to it, insert it, and every
//! [`CHECKPOINT_INTERVAL`](nexaguard_audit::CHECKPOINT_INTERVAL) entries a
//! signed checkpoint.
//!
//! Invariant: the head read and the insert happen under the chain's lock
//! ([`ChainLog::lock_chain`]), so two appends never chain to the same
//! head; and an entry's time is the time as stored
//! ([`ChainLog::stored_time`]) before its hash is computed, so what is
//! read back verifies.

use super::rows::{hash32, u64_from_db};
use super::AuditAppend;
use crate::StoreError;
use async_trait::async_trait;
use nexaguard_audit::{checkpoint_due, AuditEntry, ChainHead, Checkpoint, CheckpointSigner};
use time::OffsetDateTime;
use uuid::Uuid;

/// What a backend does for [`append`], on the connection of the change's
/// transaction.
#[async_trait]
pub(crate) trait ChainLog: Send {
    /// Keeps every other writer from appending to `chain` (its stored
    /// name) until this transaction ends.
    async fn lock_chain(&mut self, chain: &str) -> Result<(), StoreError>;

    /// The sequence number and hash of the chain's newest entry.
    async fn chain_head(&mut self, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError>;

    /// `at` as the backend will store it and read it back.
    fn stored_time(&self, at: OffsetDateTime) -> Result<OffsetDateTime, StoreError>;

    /// Inserts `entry` into `chain` (its stored name).
    async fn insert_entry(&mut self, chain: &str, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Inserts a signed checkpoint.
    async fn insert_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
}

/// Appends an audit entry inside the caller's transaction, and a signed
/// checkpoint when one is due (none before a signer is set).
pub(crate) async fn append<L: ChainLog + ?Sized>(
    log: &mut L,
    signer: Option<&CheckpointSigner>,
    audit: AuditAppend,
) -> Result<AuditEntry, StoreError> {
    let chain = audit.chain.to_text();
    log.lock_chain(&chain).await?;
    let head = match log.chain_head(&chain).await? {
        Some((seq, hash)) => Some(ChainHead {
            seq: u64_from_db("audit seq", seq)?,
            hash: hash32("audit hash", &hash)?,
        }),
        None => None,
    };
    let at = log.stored_time(audit.at)?;
    let entry = AuditEntry::next(audit.chain, head, Uuid::new_v4(), at, audit.event);
    log.insert_entry(&chain, &entry).await?;
    if checkpoint_due(entry.seq) {
        if let Some(signer) = signer {
            let checkpoint = signer.sign(entry.chain, entry.head(), entry.at);
            log.insert_checkpoint(&checkpoint).await?;
        }
    }
    Ok(entry)
}

/// [`append`] for the changes that are audited only sometimes.
pub(crate) async fn append_opt<L: ChainLog + ?Sized>(
    log: &mut L,
    signer: Option<&CheckpointSigner>,
    audit: Option<AuditAppend>,
) -> Result<(), StoreError> {
    if let Some(audit) = audit {
        append(log, signer, audit).await?;
    }
    Ok(())
}
