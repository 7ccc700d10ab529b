//! Reading, exporting and verifying the audit log.

use crate::error::AdminError;
use crate::principal::Principal;
use crate::Admin;
use nexaguard_access::Permission;
use nexaguard_audit::{verify_chain, Action, AuditEntry, ChainBreak, ChainId, VerifyReport};
use nexaguard_store::admin::AdminStore;
use serde_json::json;
use std::collections::HashMap;

/// Most entries one read answers.
pub const MAX_READ: u32 = 500;

/// Entries read per page while verifying or exporting.
const PAGE: u32 = 1000;

/// The verification result of one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainStatus {
    /// The chain.
    pub chain: ChainId,
    /// Verified, or the first break.
    pub result: Result<VerifyReport, ChainBreak>,
}

/// Reads a whole chain, page by page.
async fn whole_chain(
    store: &dyn AdminStore,
    chain: ChainId,
) -> Result<Vec<AuditEntry>, AdminError> {
    let mut entries = Vec::new();
    loop {
        let after = entries.last().map_or(0, |e: &AuditEntry| e.seq);
        let page = store.audit_entries(chain, after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        entries.extend(page);
        if !full {
            return Ok(entries);
        }
    }
}

/// Verifies every chain in the store: hashes, links and signed
/// checkpoints. Used by `nexaguard audit verify` and the admin API.
pub async fn verify_all(
    store: &dyn AdminStore,
    keys: &HashMap<String, [u8; 32]>,
) -> Result<Vec<ChainStatus>, AdminError> {
    let mut statuses = Vec::new();
    for chain in store.audit_chains().await? {
        statuses.push(verify_one(store, keys, chain).await?);
    }
    Ok(statuses)
}

async fn verify_one(
    store: &dyn AdminStore,
    keys: &HashMap<String, [u8; 32]>,
    chain: ChainId,
) -> Result<ChainStatus, AdminError> {
    let entries = whole_chain(store, chain).await?;
    let checkpoints = store.audit_checkpoints(chain).await?;
    let result = verify_chain(chain, entries, &checkpoints, |id| keys.get(id).copied());
    Ok(ChainStatus { chain, result })
}

impl Admin {
    /// Entries of the caller's chain after `after`, oldest first.
    pub async fn read_audit(
        &self,
        principal: &Principal,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AdminError> {
        principal.require(Permission::ViewAudit)?;
        Ok(self
            .store
            .audit_entries(principal.chain(), after, limit.clamp(1, MAX_READ))
            .await?)
    }

    /// The caller's whole chain, for export (audited).
    pub async fn export_audit(&self, principal: &Principal) -> Result<Vec<AuditEntry>, AdminError> {
        principal.require(Permission::ExportAudit)?;
        self.store
            .append_audit(principal.audit(Action::AuditExported, "audit", json!({})))
            .await?;
        whole_chain(self.store.as_ref(), principal.chain()).await
    }

    /// Verifies the caller's chain.
    pub async fn verify_audit(&self, principal: &Principal) -> Result<ChainStatus, AdminError> {
        principal.require(Permission::ViewAudit)?;
        let keys = self.keys.verifying_keys().await?;
        verify_one(self.store.as_ref(), &keys, principal.chain()).await
    }

    /// Rotates the key-encryption key (operator).
    pub async fn rotate_keys(
        &self,
        principal: &Principal,
    ) -> Result<crate::keys::RotationReport, AdminError> {
        principal.require_step_up(Permission::RotateKeys, time::OffsetDateTime::now_utc())?;
        self.keys
            .rotate(principal.audit(Action::KeysRotated, "key-ring", json!({})))
            .await
    }
}
