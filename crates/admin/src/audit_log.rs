//! Reading, exporting and verifying the audit log.

use crate::error::AdminError;
use crate::principal::Principal;
use crate::Admin;
use nexaguard_access::Permission;
use nexaguard_audit::{
    verify_chain, Action, Actor, AuditEntry, ChainBreak, ChainId, Outcome, VerifyReport,
};
use nexaguard_store::admin::AdminStore;
use serde_json::json;
use std::collections::HashMap;
use time::OffsetDateTime;

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
        // Positions are signed 64-bit numbers in the store: nothing lies
        // past the largest, so a larger `after` is asked as that one.
        let after = after.min(i64::MAX.unsigned_abs());
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

    /// The key ring's state (operator).
    pub async fn key_ring_status(
        &self,
        principal: &Principal,
    ) -> Result<crate::keys::KeyRingStatus, AdminError> {
        principal.require(Permission::RotateKeys)?;
        self.keys.status().await
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

/// Entries one page of the audit viewer shows at most.
pub const MAX_PAGE: usize = 200;

/// What the audit viewer looks for; every field narrows the search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<Action>,
    /// Only this actor.
    pub actor: Option<Actor>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// At or after.
    pub from: Option<OffsetDateTime>,
    /// Before.
    pub to: Option<OffsetDateTime>,
    /// Only entries below this seq (the page after one ending there).
    pub before: Option<u64>,
    /// At most this many (clamped to [`MAX_PAGE`]).
    pub limit: usize,
}

impl AuditFilter {
    /// Whether `entry` passes every condition but the paging.
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let event = &entry.event;
        self.action.map_or(true, |a| event.action == a)
            && self.actor.map_or(true, |a| event.actor == a)
            && self.outcome.map_or(true, |o| event.outcome == o)
            && self.from.map_or(true, |from| entry.at >= from)
            && self.to.map_or(true, |to| entry.at < to)
    }
}

/// One page of entries, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    /// The entries, newest first.
    pub entries: Vec<AuditEntry>,
    /// The `before` of the next (older) page, when there is one.
    pub next_before: Option<u64>,
}

/// The page of `entries` (in seq order) that `filter` selects, newest first.
pub fn newest_first(entries: Vec<AuditEntry>, filter: &AuditFilter) -> AuditPage {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut matching = entries
        .into_iter()
        .rev()
        .filter(|e| filter.before.map_or(true, |before| e.seq < before))
        .filter(|e| filter.matches(e));
    let page: Vec<AuditEntry> = matching.by_ref().take(limit).collect();
    let next_before = match (matching.next(), page.last()) {
        (Some(_), Some(last)) => Some(last.seq),
        _ => None,
    };
    AuditPage {
        entries: page,
        next_before,
    }
}

impl Admin {
    /// A page of the caller's chain, newest first, for the audit viewer.
    ///
    /// The chain is read whole and filtered here (as verification reads it
    /// whole): a tenant's chain is small next to its consent records.
    pub async fn search_audit(
        &self,
        principal: &Principal,
        filter: &AuditFilter,
    ) -> Result<AuditPage, AdminError> {
        principal.require(Permission::ViewAudit)?;
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from >= to {
                return Err(AdminError::invalid(
                    "bad_range",
                    "`from` must be before `to`",
                ));
            }
        }
        let entries = whole_chain(self.store.as_ref(), principal.chain()).await?;
        Ok(newest_first(entries, filter))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use nexaguard_audit::AuditEvent;
    use time::macros::datetime;
    use uuid::Uuid;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let alice = Actor::User(Uuid::from_u128(1));
        let mut entries: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let (action, outcome, actor) = if seq % 3 == 0 {
                (Action::LoginFailed, Outcome::Failure, Actor::System)
            } else {
                (Action::LoginSucceeded, Outcome::Success, alice)
            };
            let event = AuditEvent::new(action, actor, "user:1", outcome);
            let at = datetime!(2026-11-01 00:00 UTC) + time::Duration::days(seq as i64);
            let head = entries.last().map(AuditEntry::head);
            let entry = AuditEntry::next(
                ChainId::Platform,
                head,
                Uuid::from_u128(u128::from(seq)),
                at,
                event,
            );
            entries.push(entry);
        }
        entries
    }

    fn seqs(page: &AuditPage) -> Vec<u64> {
        page.entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn pages_run_newest_first_and_continue_below_the_last() {
        let filter = AuditFilter {
            limit: 4,
            ..AuditFilter::default()
        };
        let first = newest_first(chain(10), &filter);
        assert_eq!(seqs(&first), [10, 9, 8, 7]);
        assert_eq!(first.next_before, Some(7));
        let mut filter = filter;
        filter.before = Some(7);
        let second = newest_first(chain(10), &filter);
        assert_eq!(seqs(&second), [6, 5, 4, 3]);
        filter.before = Some(3);
        let last = newest_first(chain(10), &filter);
        assert_eq!(seqs(&last), [2, 1]);
        assert_eq!(last.next_before, None);
    }

    #[test]
    fn filters_narrow_by_action_actor_outcome_and_time() {
        let failed = AuditFilter {
            action: Some(Action::LoginFailed),
            limit: 50,
            ..AuditFilter::default()
        };
        assert_eq!(seqs(&newest_first(chain(10), &failed)), [9, 6, 3]);
        let system = AuditFilter {
            actor: Some(Actor::System),
            outcome: Some(Outcome::Failure),
            limit: 50,
            ..AuditFilter::default()
        };
        assert_eq!(seqs(&newest_first(chain(10), &system)), [9, 6, 3]);
        let success = AuditFilter {
            outcome: Some(Outcome::Success),
            from: Some(datetime!(2026-11-05 00:00 UTC)),
            to: Some(datetime!(2026-11-08 00:00 UTC)),
            limit: 50,
            ..AuditFilter::default()
        };
        assert_eq!(seqs(&newest_first(chain(10), &success)), [5, 4]);
        let none = AuditFilter {
            action: Some(Action::KeysRotated),
            limit: 50,
            ..AuditFilter::default()
        };
        let page = newest_first(chain(10), &none);
        assert!(page.entries.is_empty());
        assert_eq!(page.next_before, None);
    }
}
