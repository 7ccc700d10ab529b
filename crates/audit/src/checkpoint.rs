//! Signed checkpoints of a chain's head.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::chain::{hex_bytes, ChainHead};
use crate::event::ChainId;

/// Every how many entries a checkpoint is written: after entry 100, 200, ...
pub const CHECKPOINT_INTERVAL: u64 = 100;

/// Domain tag leading the signed encoding of a checkpoint.
const CHECKPOINT_DOMAIN: &[u8] = b"nexaguard-audit-checkpoint-v1";

/// Whether a checkpoint is due after the entry numbered `seq`.
pub fn checkpoint_due(seq: u64) -> bool {
    seq != 0 && seq % CHECKPOINT_INTERVAL == 0
}

/// A signed statement that a chain's entry `seq` had hash `hash`.
///
/// Anyone rewriting the chain's history must either leave the checkpoints
/// unmatched or forge signatures without the signing key, which is kept out
/// of the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The chain.
    pub chain: ChainId,
    /// The entry vouched for.
    pub seq: u64,
    /// That entry's hash.
    #[serde(with = "hex_bytes")]
    pub hash: [u8; 32],
    /// When the checkpoint was signed.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Id of the signing key, to find its public key.
    pub key_id: String,
    /// Ed25519 signature of the encoding described in the crate docs.
    #[serde(with = "hex_bytes")]
    pub signature: [u8; 64],
}

impl Checkpoint {
    /// The bytes signed: a domain tag, then chain text, seq (u64 big-endian),
    /// hash and time (unix nanoseconds, i128 big-endian), each length-prefixed.
    pub fn signed_bytes(&self) -> Vec<u8> {
        signed_bytes(self.chain, self.seq, &self.hash, self.at)
    }

    /// Whether the signature is valid for `public_key` (strict Ed25519
    /// verification, refusing malleable signatures and weak keys).
    pub fn verify(&self, public_key: &[u8; 32]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(public_key) else {
            return false;
        };
        key.verify_strict(
            &self.signed_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .is_ok()
    }
}

fn signed_bytes(chain: ChainId, seq: u64, hash: &[u8; 32], at: OffsetDateTime) -> Vec<u8> {
    let mut out = CHECKPOINT_DOMAIN.to_vec();
    // The same length prefixes as the entry hash (see `chain::field`).
    let mut push = |bytes: &[u8]| {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    };
    push(chain.to_text().as_bytes());
    push(&seq.to_be_bytes());
    push(hash);
    push(&at.unix_timestamp_nanos().to_be_bytes());
    out
}

/// Signs checkpoints with an Ed25519 key. `Debug` shows the key id and the
/// public key only.
pub struct CheckpointSigner {
    key: SigningKey,
    key_id: String,
}

impl CheckpointSigner {
    /// A signer from a 32-byte Ed25519 seed (the secret key) and the id under
    /// which verifiers find its public key.
    pub fn from_seed(key_id: String, seed: [u8; 32]) -> CheckpointSigner {
        CheckpointSigner {
            key: SigningKey::from_bytes(&seed),
            key_id,
        }
    }

    /// The id verifiers find the public key by.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Signs the head of `chain` as of `at`.
    pub fn sign(&self, chain: ChainId, head: ChainHead, at: OffsetDateTime) -> Checkpoint {
        let signature = self
            .key
            .sign(&signed_bytes(chain, head.seq, &head.hash, at))
            .to_bytes();
        Checkpoint {
            chain,
            seq: head.seq,
            hash: head.hash,
            at,
            key_id: self.key_id.clone(),
            signature,
        }
    }
}

impl fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("key_id", &self.key_id)
            .field("public_key", &hex::encode(self.public_key()))
            .finish()
    }
}

/// A short fingerprint of a public key (first 8 bytes of its SHA-256, hex),
/// handy as a key id that changes whenever the key does.
pub fn key_fingerprint(public_key: &[u8; 32]) -> String {
    let digest = Sha256::new()
        .chain_update(b"nexaguard-audit-key-v1\0")
        .chain_update(public_key)
        .finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    fn signer() -> CheckpointSigner {
        CheckpointSigner::from_seed("audit-1".to_owned(), [42; 32])
    }

    fn head() -> ChainHead {
        ChainHead {
            seq: 100,
            hash: [7; 32],
        }
    }

    #[test]
    fn signed_checkpoint_verifies() {
        let s = signer();
        let chain = ChainId::Tenant(Uuid::from_u128(5));
        let at = datetime!(2025-06-01 12:00 UTC);
        let cp = s.sign(chain, head(), at);
        assert_eq!(cp.chain, chain);
        assert_eq!(cp.seq, 100);
        assert_eq!(cp.hash, [7; 32]);
        assert_eq!(cp.key_id, "audit-1");
        assert!(cp.verify(&s.public_key()));
        assert!(!cp.verify(&CheckpointSigner::from_seed("x".into(), [1; 32]).public_key()));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let s = signer();
        let cp = s.sign(ChainId::Platform, head(), datetime!(2025-06-01 12:00 UTC));
        let mut changed = vec![cp.clone(); 5];
        changed[0].chain = ChainId::Tenant(Uuid::nil());
        changed[1].seq = 101;
        changed[2].hash[0] ^= 1;
        changed[3].at += time::Duration::nanoseconds(1);
        changed[4].signature[10] ^= 1;
        for c in changed {
            assert!(!c.verify(&s.public_key()), "{c:?} still verifies");
        }
    }

    #[test]
    fn debug_does_not_show_the_seed() {
        let debug = format!("{:?}", signer());
        assert!(debug.contains("audit-1"));
        assert!(debug.contains(&hex::encode(signer().public_key())));
        assert!(!debug.contains(&hex::encode([42u8; 32])));
        assert!(!debug.contains("42, 42"));
    }

    #[test]
    fn checkpoints_are_due_every_interval() {
        assert!(!checkpoint_due(0));
        assert!(!checkpoint_due(99));
        assert!(checkpoint_due(100));
        assert!(!checkpoint_due(101));
        assert!(checkpoint_due(200));
    }

    #[test]
    fn fingerprint_tells_keys_apart() {
        let a = key_fingerprint(&signer().public_key());
        assert_eq!(a.len(), 16);
        assert_eq!(a, key_fingerprint(&signer().public_key()));
        let other = CheckpointSigner::from_seed("x".into(), [1; 32]).public_key();
        assert_ne!(a, key_fingerprint(&other));
    }

    #[test]
    fn checkpoint_serde_round_trips() {
        let cp = signer().sign(ChainId::Platform, head(), datetime!(2025-06-01 12:00 UTC));
        let json = serde_json::to_value(&cp).unwrap();
        assert_eq!(json["chain"], "platform");
        assert_eq!(json["signature"].as_str().unwrap().len(), 128);
        let back: Checkpoint = serde_json::from_value(json).unwrap();
        assert_eq!(back, cp);
        assert!(back.verify(&signer().public_key()));
    }
}
