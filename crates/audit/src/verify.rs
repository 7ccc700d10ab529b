//! Verifying a chain against its entries and checkpoints.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::chain::{AuditEntry, ChainHead};
use crate::checkpoint::Checkpoint;
use crate::event::ChainId;

/// The first place where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain {chain} broken at entry {seq}{}: {reason}", entry_id(.id))]
pub struct ChainBreak {
    /// The chain's text form.
    pub chain: String,
    /// The entry (or checkpoint) position where the break shows.
    pub seq: u64,
    /// The entry there, when there is one.
    pub id: Option<Uuid>,
    /// What is wrong.
    pub reason: BreakReason,
}

fn entry_id(id: &Option<Uuid>) -> String {
    id.map(|id| format!(" ({id})")).unwrap_or_default()
}

/// What is wrong where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    /// The entry's fields do not give its stored hash: it was altered.
    #[error("the entry's fields do not give its stored hash (altered)")]
    HashMismatch,
    /// The entry's `prev_hash` is not the previous entry's hash: an entry was
    /// removed, replaced or reordered.
    #[error("prev_hash is not the previous entry's hash (entry removed, replaced or reordered)")]
    PrevMismatch,
    /// The entry's seq is not the next one.
    #[error("expected entry {expected} here (entries missing, repeated or reordered)")]
    SeqGap {
        /// The seq that should have come.
        expected: u64,
    },
    /// The entry or checkpoint belongs to another chain.
    #[error("the entry or checkpoint belongs to another chain")]
    WrongChain,
    /// A checkpoint names a hash the chain does not have at that seq: the
    /// history up to it was rewritten.
    #[error("a signed checkpoint names another hash for this entry (history rewritten)")]
    CheckpointMismatch,
    /// A checkpoint's signature does not verify with its key.
    #[error("checkpoint signature does not verify")]
    BadSignature,
    /// A checkpoint names a key the verifier does not know.
    #[error("checkpoint signed by unknown key {0:?}")]
    UnknownCheckpointKey(String),
    /// A checkpoint lies past the last entry: entries were truncated.
    #[error("a signed checkpoint lies past the last entry (entries truncated)")]
    CheckpointBeyondEnd,
}

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries verified.
    pub entries: u64,
    /// Checkpoints whose signature and hash were verified.
    pub checkpoints: u64,
    /// The chain's head, `None` for an empty chain.
    pub head: Option<ChainHead>,
}

/// Verifies one chain.
///
/// `entries` must come in seq order, from 1; they are taken by value one at
/// a time, so a store can stream a long chain. `checkpoints` are the chain's
/// checkpoints, in any order. `key` finds the public key of a checkpoint's
/// `key_id`; keys it does not know fail the verification rather than being
/// skipped, so a forged checkpoint under an invented id is not silently
/// accepted.
///
/// Each entry is checked in turn: chain, seq, its own hash, the link to the
/// previous entry, then the checkpoints at its seq (key, signature, hash).
/// The first failure is returned. Checkpoints past the last entry are
/// checked last.
///
/// Hashes alone cannot reveal that the newest entries were cut off or that
/// the whole chain was rebuilt by someone with database access; signed
/// checkpoints can, up to the last checkpoint.
pub fn verify_chain(
    chain: ChainId,
    entries: impl IntoIterator<Item = AuditEntry>,
    checkpoints: &[Checkpoint],
    key: impl Fn(&str) -> Option<[u8; 32]>,
) -> Result<VerifyReport, ChainBreak> {
    let chain_text = chain.to_text();
    let fail = |seq: u64, id: Option<Uuid>, reason: BreakReason| ChainBreak {
        chain: chain_text.clone(),
        seq,
        id,
        reason,
    };

    let mut by_seq: BTreeMap<u64, Vec<&Checkpoint>> = BTreeMap::new();
    for checkpoint in checkpoints {
        if checkpoint.chain != chain {
            return Err(fail(checkpoint.seq, None, BreakReason::WrongChain));
        }
        by_seq.entry(checkpoint.seq).or_default().push(checkpoint);
    }

    let mut head: Option<ChainHead> = None;
    let mut entry_count: u64 = 0;
    let mut checkpoint_count: u64 = 0;
    for entry in entries {
        let expected = head.map_or(1, |h| h.seq.saturating_add(1));
        let here = |reason| fail(entry.seq, Some(entry.id), reason);
        if entry.chain != chain {
            return Err(here(BreakReason::WrongChain));
        }
        if entry.seq != expected {
            return Err(here(BreakReason::SeqGap { expected }));
        }
        if !entry.hash_is_valid() {
            return Err(here(BreakReason::HashMismatch));
        }
        if entry.prev_hash != head.map_or([0; 32], |h| h.hash) {
            return Err(here(BreakReason::PrevMismatch));
        }
        for checkpoint in by_seq.remove(&entry.seq).unwrap_or_default() {
            check_signature(checkpoint, &key).map_err(here)?;
            if checkpoint.hash != entry.hash {
                return Err(here(BreakReason::CheckpointMismatch));
            }
            checkpoint_count += 1;
        }
        entry_count += 1;
        head = Some(entry.head());
    }

    let last = head.map_or(0, |h| h.seq);
    // Left over: checkpoints past the end, or at seq 0, which no entry has.
    let left_over = by_seq
        .into_iter()
        .flat_map(|(seq, left)| left.into_iter().map(move |checkpoint| (seq, checkpoint)))
        .next();
    if let Some((seq, checkpoint)) = left_over {
        check_signature(checkpoint, &key).map_err(|reason| fail(seq, None, reason))?;
        let reason = if seq > last {
            BreakReason::CheckpointBeyondEnd
        } else {
            BreakReason::CheckpointMismatch
        };
        return Err(fail(seq, None, reason));
    }

    Ok(VerifyReport {
        entries: entry_count,
        checkpoints: checkpoint_count,
        head,
    })
}

/// A checkpoint with an unknown key or a bad signature proves nothing, and
/// says someone wrote checkpoints without the key: both are breaks.
fn check_signature(
    checkpoint: &Checkpoint,
    key: &impl Fn(&str) -> Option<[u8; 32]>,
) -> Result<(), BreakReason> {
    let public_key = key(&checkpoint.key_id)
        .ok_or_else(|| BreakReason::UnknownCheckpointKey(checkpoint.key_id.clone()))?;
    if checkpoint.verify(&public_key) {
        Ok(())
    } else {
        Err(BreakReason::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use serde_json::json;
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};

    use super::*;
    use crate::checkpoint::{checkpoint_due, CheckpointSigner};
    use crate::event::{Action, Actor, AuditEvent, Outcome};

    /// A field's name and a change to it.
    type Alteration = (&'static str, fn(&mut AuditEntry));

    const TENANT: ChainId = ChainId::Tenant(Uuid::from_u128(0xfeed));

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed("audit-2025".to_owned(), [3; 32])
    }

    fn keys(id: &str) -> Option<[u8; 32]> {
        (id == "audit-2025").then(|| signer().public_key())
    }

    fn start() -> OffsetDateTime {
        datetime!(2025-03-01 08:00:00.5 UTC)
    }

    fn event(i: u64) -> AuditEvent {
        let actions = Action::ALL;
        let action = actions[usize::try_from(i).unwrap() % actions.len()];
        let event = AuditEvent::new(
            action,
            Actor::User(Uuid::from_u128(u128::from(i % 7))),
            format!("site:{}", Uuid::from_u128(u128::from(i))),
            if i % 5 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            },
        )
        .with_details(json!({"n": i, "note": "ok", "nested": {"b": [1, 2], "a": null}}));
        if i % 3 == 0 {
            event.with_client_network("198.51.100.0/24")
        } else {
            event
        }
    }

    /// A chain of `n` entries with a checkpoint wherever one is due.
    fn build(n: u64) -> (Vec<AuditEntry>, Vec<Checkpoint>) {
        let mut entries: Vec<AuditEntry> = Vec::new();
        let mut checkpoints = Vec::new();
        for i in 1..=n {
            let at = start() + Duration::milliseconds(i64::try_from(i).unwrap() * 1_234);
            let entry = AuditEntry::next(
                TENANT,
                entries.last().map(AuditEntry::head),
                Uuid::from_u128(u128::from(i) << 64),
                at,
                event(i),
            );
            if checkpoint_due(entry.seq) {
                checkpoints.push(signer().sign(TENANT, entry.head(), at));
            }
            entries.push(entry);
        }
        (entries, checkpoints)
    }

    fn verify(
        entries: Vec<AuditEntry>,
        checkpoints: &[Checkpoint],
    ) -> Result<VerifyReport, ChainBreak> {
        verify_chain(TENANT, entries, checkpoints, keys)
    }

    fn broken(entries: Vec<AuditEntry>, checkpoints: &[Checkpoint]) -> ChainBreak {
        verify(entries, checkpoints).unwrap_err()
    }

    #[test]
    fn a_chain_of_250_entries_verifies() {
        let (entries, checkpoints) = build(250);
        assert_eq!(checkpoints.len(), 2);
        let head = entries[249].head();
        let report = verify(entries, &checkpoints).unwrap();
        assert_eq!(
            report,
            VerifyReport {
                entries: 250,
                checkpoints: 2,
                head: Some(head),
            }
        );
    }

    #[test]
    fn an_empty_chain_verifies() {
        let report = verify(Vec::new(), &[]).unwrap();
        assert_eq!(report.entries, 0);
        assert_eq!(report.head, None);
    }

    #[test]
    fn entries_can_be_streamed() {
        let (entries, checkpoints) = build(120);
        let report = verify_chain(TENANT, entries.iter().cloned(), &checkpoints, keys);
        assert_eq!(report.unwrap().entries, 120);
    }

    #[test]
    fn altering_a_field_of_entry_37_is_a_hash_mismatch_there() {
        let alterations: [Alteration; 8] = [
            ("target", |e| e.event.target = "site:other".into()),
            ("outcome", |e| e.event.outcome = Outcome::Denied),
            ("details", |e| e.event.details["n"] = json!(1000)),
            ("at", |e| e.at += Duration::nanoseconds(1)),
            ("action", |e| e.event.action = Action::Logout),
            ("actor", |e| e.event.actor = Actor::System),
            ("network", |e| {
                e.event.client_network = Some("203.0.113.0/24".into())
            }),
            ("id", |e| e.id = Uuid::nil()),
        ];
        for (name, alter) in alterations {
            let (mut entries, checkpoints) = build(250);
            let id = entries[36].id;
            alter(&mut entries[36]);
            let err = broken(entries, &checkpoints);
            assert_eq!(
                (err.seq, err.reason.clone()),
                (37, BreakReason::HashMismatch),
                "altering {name}"
            );
            if name != "id" {
                assert_eq!(err.id, Some(id));
            }
            assert_eq!(err.chain, TENANT.to_text());
        }
    }

    #[test]
    fn rehashing_an_altered_entry_breaks_the_next_link() {
        let (mut entries, checkpoints) = build(250);
        entries[36].event.target = "site:other".into();
        entries[36].hash = entries[36].compute_hash();
        let err = broken(entries.clone(), &checkpoints);
        assert_eq!(err.seq, 38);
        assert_eq!(err.id, Some(entries[37].id));
        assert_eq!(err.reason, BreakReason::PrevMismatch);
    }

    #[test]
    fn rewriting_the_rest_of_the_chain_is_caught_by_the_next_checkpoint() {
        let (mut entries, checkpoints) = build(250);
        entries[36].event.target = "site:other".into();
        for i in 36..entries.len() {
            if i > 36 {
                entries[i].prev_hash = entries[i - 1].hash;
            }
            entries[i].hash = entries[i].compute_hash();
        }
        let err = broken(entries, &checkpoints);
        assert_eq!(err.seq, 100);
        assert_eq!(err.reason, BreakReason::CheckpointMismatch);
    }

    #[test]
    fn deleting_an_entry_is_a_gap_there() {
        let (mut entries, checkpoints) = build(250);
        entries.remove(36);
        let err = broken(entries, &checkpoints);
        assert_eq!(err.seq, 38);
        assert_eq!(err.reason, BreakReason::SeqGap { expected: 37 });
    }

    #[test]
    fn deleting_and_renumbering_breaks_the_link() {
        let (mut entries, checkpoints) = build(250);
        entries.remove(36);
        for (i, entry) in entries.iter_mut().enumerate().skip(36) {
            entry.seq = u64::try_from(i).unwrap() + 1;
            entry.hash = entry.compute_hash();
        }
        let err = broken(entries, &checkpoints);
        assert_eq!(err.seq, 37);
        assert_eq!(err.reason, BreakReason::PrevMismatch);
    }

    #[test]
    fn swapping_two_entries_is_caught() {
        let (mut entries, checkpoints) = build(250);
        entries.swap(36, 37);
        let err = broken(entries, &checkpoints);
        assert_eq!(err.seq, 38);
        assert_eq!(err.reason, BreakReason::SeqGap { expected: 37 });
    }

    #[test]
    fn deleting_the_first_entry_is_caught() {
        let (mut entries, checkpoints) = build(50);
        entries.remove(0);
        let err = broken(entries, &checkpoints);
        assert_eq!(err.reason, BreakReason::SeqGap { expected: 1 });
    }

    #[test]
    fn truncating_the_tail_before_a_checkpoint_is_caught() {
        let (mut entries, checkpoints) = build(250);
        entries.truncate(150);
        let err = broken(entries, &checkpoints);
        assert_eq!(err.seq, 200);
        assert_eq!(err.id, None);
        assert_eq!(err.reason, BreakReason::CheckpointBeyondEnd);
        assert_eq!(
            err.to_string(),
            format!(
                "audit chain {} broken at entry 200: a signed checkpoint lies past the last entry (entries truncated)",
                TENANT
            )
        );
    }

    #[test]
    fn truncating_everything_is_caught() {
        let (_, checkpoints) = build(250);
        let err = broken(Vec::new(), &checkpoints);
        assert_eq!(
            (err.seq, err.reason),
            (100, BreakReason::CheckpointBeyondEnd)
        );
    }

    #[test]
    fn a_forged_signature_is_caught() {
        let (entries, mut checkpoints) = build(250);
        checkpoints[1].signature[0] ^= 0x40;
        let err = broken(entries.clone(), &checkpoints);
        assert_eq!(err.seq, 200);
        assert_eq!(err.id, Some(entries[199].id));
        assert_eq!(err.reason, BreakReason::BadSignature);
    }

    #[test]
    fn a_checkpoint_signed_with_another_key_under_our_id_is_caught() {
        let (entries, mut checkpoints) = build(250);
        let forger = CheckpointSigner::from_seed("audit-2025".to_owned(), [4; 32]);
        checkpoints[0] = forger.sign(TENANT, entries[99].head(), start());
        let err = broken(entries, &checkpoints);
        assert_eq!((err.seq, err.reason), (100, BreakReason::BadSignature));
    }

    #[test]
    fn a_forged_checkpoint_past_the_end_is_a_bad_signature() {
        let (entries, mut checkpoints) = build(150);
        let mut forged = checkpoints[0].clone();
        forged.seq = 300;
        checkpoints.push(forged);
        let err = broken(entries, &checkpoints);
        assert_eq!((err.seq, err.reason), (300, BreakReason::BadSignature));
    }

    #[test]
    fn a_checkpoint_with_an_unknown_key_is_caught() {
        let (entries, mut checkpoints) = build(250);
        let stranger = CheckpointSigner::from_seed("audit-old".to_owned(), [5; 32]);
        checkpoints[0] = stranger.sign(TENANT, entries[99].head(), start());
        let err = broken(entries, &checkpoints);
        assert_eq!(err.seq, 100);
        assert_eq!(
            err.reason,
            BreakReason::UnknownCheckpointKey("audit-old".to_owned())
        );
    }

    #[test]
    fn several_keys_can_sign() {
        let (entries, mut checkpoints) = build(250);
        let old = CheckpointSigner::from_seed("audit-2024".to_owned(), [6; 32]);
        checkpoints.push(old.sign(TENANT, entries[99].head(), start()));
        let report = verify_chain(TENANT, entries, &checkpoints, |id| match id {
            "audit-2024" => Some(old.public_key()),
            other => keys(other),
        })
        .unwrap();
        assert_eq!(report.checkpoints, 3);
    }

    #[test]
    fn entries_of_another_chain_are_refused() {
        let (mut entries, checkpoints) = build(50);
        entries[9].chain = ChainId::Platform;
        let err = broken(entries, &checkpoints);
        assert_eq!((err.seq, err.reason), (10, BreakReason::WrongChain));

        let (entries, _) = build(150);
        let foreign = signer().sign(ChainId::Platform, entries[99].head(), start());
        let err = broken(entries, &[foreign]);
        assert_eq!(err.reason, BreakReason::WrongChain);
    }

    #[test]
    fn a_checkpoint_at_seq_zero_is_a_mismatch() {
        let (entries, _) = build(10);
        let zero = signer().sign(
            TENANT,
            ChainHead {
                seq: 0,
                hash: [0; 32],
            },
            start(),
        );
        let err = broken(entries, &[zero]);
        assert_eq!((err.seq, err.reason), (0, BreakReason::CheckpointMismatch));
    }

    #[test]
    fn the_break_message_names_chain_entry_and_reason() {
        let (mut entries, checkpoints) = build(40);
        let id = entries[36].id;
        entries[36].event.outcome = Outcome::Denied;
        let err = broken(entries, &checkpoints);
        assert_eq!(
            err.to_string(),
            format!(
                "audit chain {TENANT} broken at entry 37 ({id}): the entry's fields do not give its stored hash (altered)"
            )
        );
    }
}
