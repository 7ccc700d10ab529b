//! # nexaguard-audit
//!
//! NexaGuard's tamper-evident audit log, without I/O: the store persists
//! entries and checkpoints, this crate says what they contain and whether a
//! chain is intact.
//!
//! - [`event`]: what is recorded ([`Action`], [`Actor`], [`Outcome`],
//!   [`AuditEvent`]) and which chain it goes to ([`ChainId`]: one per tenant,
//!   plus the platform's own);
//! - [`chain`]: hash-chained entries ([`AuditEntry`]);
//! - [`checkpoint`]: Ed25519-signed checkpoints of a chain's head;
//! - [`verify`]: [`verify_chain`], which finds the first break.
//!
//! ## The entry hash
//!
//! Each entry's hash is SHA-256 over this encoding, which is frozen: changing
//! it would break every stored chain, so a new layout needs a new domain tag.
//!
//! 1. the domain tag `nexaguard-audit-v1` (18 bytes, no prefix);
//! 2. then each field as a u32 big-endian byte length followed by the bytes,
//!    in this order:
//!    - `id`: the UUID's 16 bytes;
//!    - `chain`: its text, `platform` or the tenant UUID hyphenated lowercase;
//!    - `seq`: u64 big-endian;
//!    - `at`: unix time in nanoseconds, i128 big-endian, so neither the UTC
//!      offset nor the database's timestamp text format matters (the store
//!      must keep nanoseconds, or truncate them before hashing);
//!    - `action`: its dotted name, e.g. `auth.login`;
//!    - `actor`: its text, `user:{uuid}`, `token:{uuid}` or `system`;
//!    - `target`: UTF-8;
//!    - `outcome`: `success`, `failure` or `denied`;
//!    - client network: first a single presence byte (1 if present, 0 if not,
//!      not length-prefixed), then the field (empty when absent);
//!    - `details`: canonical JSON ([`canonical_json`]): compact, object keys
//!      sorted by UTF-8 bytes at every depth;
//!    - `prev_hash`: 32 bytes, all zero for an entry with seq 1.
//!
//! Sorting the keys ourselves rather than relying on serde_json's `Map` order
//! keeps the hash stable even if serde_json's `preserve_order` feature is
//! enabled by another crate, and whatever key order the database returns.
//! Numbers are written as serde_json writes them; a database that rewrites
//! numbers (e.g. `1.0` as `1`) would change the hash, so details should hold
//! strings, integers and booleans.
//!
//! ## Checkpoints
//!
//! Every [`CHECKPOINT_INTERVAL`] entries the server signs the chain's head
//! with an Ed25519 key kept out of the database. The signed bytes are the
//! domain tag `nexaguard-audit-checkpoint-v1` followed by the length-prefixed
//! chain text, seq (u64 big-endian), hash, and time (unix nanoseconds, i128
//! big-endian). Hashes alone stop nobody who can rewrite the whole table;
//! checkpoints do, up to the last one signed. Entries after the last
//! checkpoint can still be cut off unnoticed, which is why signing one at
//! shutdown ([`Action::ServerStopped`]) is worthwhile.

pub mod chain;
pub mod checkpoint;
pub mod event;
pub mod verify;

pub use chain::{canonical_json, AuditEntry, ChainHead};
pub use checkpoint::{
    checkpoint_due, key_fingerprint, Checkpoint, CheckpointSigner, CHECKPOINT_INTERVAL,
};
pub use event::{Action, Actor, AuditEvent, ChainId, Outcome, ParseError};
pub use verify::{verify_chain, BreakReason, ChainBreak, VerifyReport};
