//! # nexaguard-keyring
//!
//! Envelope encryption of secrets at rest.
//!
//! - A **key-encryption key** (KEK) lives outside the database: in a key file
//!   ([`LocalKeyFile`]), in the environment ([`EnvKey`]) or, later, in a cloud
//!   KMS. [`KeyEncryptionKeys`] is the whole interface a KMS would implement.
//! - Each tenant (and the platform itself) has a **data key** ([`DataKey`],
//!   a DEK) stored in the database wrapped by the current KEK
//!   ([`WrappedKey`]).
//! - Secrets are sealed with a data key ([`seal`], [`open`]); every sealed
//!   value names the key that sealed it ([`sealed_key_id`]), so a store can
//!   find the data key without trying them all.
//! - Rotation ([`LocalKeyFile::rotate`]) makes a new KEK; the caller then
//!   re-wraps every data key and finally retires the old KEK
//!   ([`LocalKeyFile::retire`]). Sealed values never change during rotation,
//!   which is the point of the envelope: rotating touches one row per data key,
//!   not every secret.
//!
//! The cipher is XChaCha20-Poly1305 with random 24-byte nonces: a nonce that
//! large never collides in practice, so several server nodes can seal with the
//! same key without sharing a counter.
//!
//! Every encryption binds a caller-chosen `context` as associated data (for
//! example `"totp:{user_id}"` or the data key's id and scope). A ciphertext
//! copied into another row, whose context differs, then fails to open instead
//! of silently decrypting under the wrong owner.
//!
//! This crate does file I/O for the key file and nothing else.

mod aead;
mod env;
mod kek;
mod keyfile;
mod seal;

use std::fmt;
use std::path::PathBuf;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

pub use env::EnvKey;
pub use kek::{KeyEncryptionKeys, WrappedKey};
pub use keyfile::LocalKeyFile;
pub use seal::{blind_index, open, seal, sealed_key_id};

/// Longest key id accepted, so ids fit comfortably in indexed columns.
const KEY_ID_MAX_LEN: usize = 64;

/// Hex characters appended by [`KeyId::random`].
const KEY_ID_RANDOM_HEX: usize = 16;

/// A key's id, e.g. `"kek-3f9a1c0b2d4e5f60"` or `"dek-..."`: lowercase ASCII
/// letters, digits and `-`, 1 to 64 characters.
///
/// The alphabet excludes `.` on purpose: it separates the parts of the text
/// forms of [`WrappedKey`] and sealed values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    /// Checks and wraps a key id.
    pub fn parse(s: &str) -> Result<KeyId, KeyringError> {
        if s.is_empty() || s.len() > KEY_ID_MAX_LEN {
            return Err(KeyringError::BadKeyId(format!(
                "key id must be 1 to {KEY_ID_MAX_LEN} characters, got {}",
                s.len()
            )));
        }
        if !s.bytes().all(is_key_id_byte) {
            return Err(KeyringError::BadKeyId(format!(
                "key id {s:?} may only hold lowercase ASCII letters, digits and '-'"
            )));
        }
        Ok(KeyId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh random id: `prefix`, `-`, then 16 random hex characters.
    ///
    /// The prefix is a constant such as `"kek"` or `"dek"`. So that this
    /// cannot fail, characters not allowed in ids are dropped from it and it
    /// is cut short enough for the result to fit in 64 characters; an empty
    /// prefix gives the hex characters alone.
    pub fn random(prefix: &str) -> KeyId {
        let mut bytes = [0u8; KEY_ID_RANDOM_HEX / 2];
        rand::rng().fill_bytes(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let prefix: String = prefix
            .chars()
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_ascii() && is_key_id_byte(*c as u8))
            .take(KEY_ID_MAX_LEN - KEY_ID_RANDOM_HEX - 1)
            .collect();
        if prefix.is_empty() {
            KeyId(hex)
        } else {
            KeyId(format!("{prefix}-{hex}"))
        }
    }
}

fn is_key_id_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for KeyId {
    type Err = KeyringError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyId::parse(s)
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyringError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        KeyId::parse(&value)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

/// A 256-bit symmetric key (a data key, or a KEK held locally).
///
/// The bytes are wiped when the key is dropped, and `Debug` never shows them.
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> DataKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        DataKey(bytes)
    }

    /// Wraps existing key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Clone for DataKey {
    fn clone(&self) -> Self {
        DataKey(self.0)
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Why a key-ring operation failed. Messages never include key material or
/// plaintext.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// Reading or writing a file failed.
    #[error("key file I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file exists but its content is not a valid key file.
    #[error("invalid key file: {0}")]
    BadKeyFile(String),
    /// The key file can be read or written by group or others.
    #[error("key file {} is accessible by group or others; restrict it with chmod 600", .0.display())]
    InsecurePermissions(PathBuf),
    /// No key with this id is held (a retired or foreign KEK).
    #[error("unknown key {0}")]
    UnknownKey(KeyId),
    /// Authentication failed: wrong key, wrong context or tampered data.
    #[error("decryption failed: wrong key, wrong context or tampered data")]
    Decrypt,
    /// A wrapped key, sealed value or configured key is not in the expected format.
    #[error("malformed value: {0}")]
    Malformed(String),
    /// A key id breaks the id rules.
    #[error("invalid key id: {0}")]
    BadKeyId(String),
    /// This KEK provider cannot rotate keys itself.
    #[error("key rotation is not possible here: rotate the key-encryption key in the environment (NEXAGUARD_KEK) or the KMS")]
    RotationUnsupported,
    /// The current KEK cannot be retired: rotate first so another KEK is current.
    #[error("key {0} is the current key-encryption key and cannot be retired; rotate first")]
    RetireCurrent(KeyId),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn key_id_accepts_the_allowed_alphabet() {
        let id = KeyId::parse("kek-3f9a1c0b2d4e5f60").unwrap();
        assert_eq!(id.as_str(), "kek-3f9a1c0b2d4e5f60");
        assert_eq!(id.to_string(), "kek-3f9a1c0b2d4e5f60");
        assert!(KeyId::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn key_id_rejects_bad_ids() {
        for bad in ["", "Kek-1", "kek.1", "kek_1", "kék", "kek 1"] {
            assert!(
                matches!(KeyId::parse(bad), Err(KeyringError::BadKeyId(_))),
                "{bad:?} accepted"
            );
        }
        assert!(KeyId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn random_key_ids_have_the_prefix_and_differ() {
        let a = KeyId::random("dek");
        let b = KeyId::random("dek");
        assert_ne!(a, b);
        let hex = a.as_str().strip_prefix("dek-").unwrap();
        assert_eq!(hex.len(), 16);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn random_key_ids_are_valid_whatever_the_prefix() {
        for prefix in ["", "KEK", "k.e.k", &"x".repeat(100)] {
            let id = KeyId::random(prefix);
            assert!(KeyId::parse(id.as_str()).is_ok(), "{id} invalid");
        }
        assert_eq!(KeyId::random("KEK").as_str().get(..4), Some("kek-"));
    }

    #[test]
    fn key_id_serde_validates() {
        let id: KeyId = serde_json::from_str("\"dek-1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"dek-1\"");
        assert!(serde_json::from_str::<KeyId>("\"DEK.1\"").is_err());
    }

    #[test]
    fn data_key_debug_hides_the_bytes() {
        let key = DataKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "DataKey(..)");
        assert_eq!(key.clone().as_bytes(), &[0xab; 32]);
        assert_ne!(
            DataKey::generate().as_bytes(),
            DataKey::generate().as_bytes()
        );
    }
}
