//! Key-encryption keys and wrapped data keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroize;

use crate::aead::{self, NONCE_LEN, TAG_LEN};
use crate::{DataKey, KeyId, KeyringError};

/// Domain tag of the associated data when wrapping data keys, so a wrapped key
/// can never be opened as a sealed value or the other way round.
const WRAP_DOMAIN: &[u8] = b"nexaguard-keyring-wrap-v1\0";

/// A data key sealed by a KEK.
///
/// Its text form, for a TEXT column, is `"{kek_id}.{base64url(bytes)}"`
/// (unpadded base64url). For KEKs held here the bytes are
/// `nonce || ciphertext || tag`; a KMS may put its own opaque blob there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The KEK that wrapped the data key.
    pub kek_id: KeyId,
    bytes: Vec<u8>,
}

impl WrappedKey {
    /// Builds a wrapped key from a KEK id and the provider's ciphertext. For
    /// providers outside this crate, such as a cloud KMS.
    pub fn new(kek_id: KeyId, ciphertext: Vec<u8>) -> WrappedKey {
        WrappedKey {
            kek_id,
            bytes: ciphertext,
        }
    }

    /// The provider's ciphertext (without the KEK id).
    pub fn ciphertext(&self) -> &[u8] {
        &self.bytes
    }

    /// The text form, `"{kek_id}.{base64url(ciphertext)}"`.
    pub fn to_text(&self) -> String {
        format!("{}.{}", self.kek_id, URL_SAFE_NO_PAD.encode(&self.bytes))
    }

    /// Parses the text form made by [`WrappedKey::to_text`].
    pub fn parse(text: &str) -> Result<WrappedKey, KeyringError> {
        let (id, payload) = text.split_once('.').ok_or_else(|| {
            KeyringError::Malformed("wrapped key has no '.' after the KEK id".to_owned())
        })?;
        let kek_id = KeyId::parse(id)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| {
            KeyringError::Malformed("wrapped key payload is not unpadded base64url".to_owned())
        })?;
        if bytes.is_empty() {
            return Err(KeyringError::Malformed(
                "wrapped key payload is empty".to_owned(),
            ));
        }
        Ok(WrappedKey { kek_id, bytes })
    }
}

/// The provider of key-encryption keys.
///
/// This is the one interface a cloud KMS would implement: the server asks it
/// to wrap new data keys and to unwrap stored ones, and never sees the KEK
/// itself. Implementations here are [`LocalKeyFile`](crate::LocalKeyFile) and
/// [`EnvKey`](crate::EnvKey).
///
/// The management methods (`rotate`, `retire`, `reload`, `key_ids`) have
/// defaults for providers whose keys are managed elsewhere.
pub trait KeyEncryptionKeys: Send + Sync + std::fmt::Debug {
    /// The KEK that wraps new data keys.
    fn current(&self) -> KeyId;

    /// Wraps a data key with the current KEK.
    ///
    /// `context` is bound as associated data (e.g. the DEK's id and scope), so
    /// a wrapped key copied to another row does not unwrap.
    fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<WrappedKey, KeyringError>;

    /// Unwraps with whichever KEK the wrapped key names.
    fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, KeyringError>;

    /// Makes a new KEK current and returns its id. Providers whose keys are
    /// managed elsewhere refuse with [`KeyringError::RotationUnsupported`].
    fn rotate(&self) -> Result<KeyId, KeyringError> {
        Err(KeyringError::RotationUnsupported)
    }

    /// Drops a KEK that is no longer current, once every data key has been
    /// re-wrapped. Refused by default, like [`KeyEncryptionKeys::rotate`].
    fn retire(&self, id: &KeyId) -> Result<(), KeyringError> {
        let _ = id;
        Err(KeyringError::RotationUnsupported)
    }

    /// Picks up keys changed by another process; nothing to do by default.
    fn reload(&self) -> Result<(), KeyringError> {
        Ok(())
    }

    /// Ids of all KEKs held; by default only the current one.
    fn key_ids(&self) -> Vec<KeyId> {
        vec![self.current()]
    }
}

/// Wraps `key` under the KEK `kek` named `kek_id`.
pub(crate) fn wrap_with(
    kek_id: &KeyId,
    kek: &DataKey,
    key: &DataKey,
    context: &[u8],
) -> Result<WrappedKey, KeyringError> {
    let aad = aead::associated_data(WRAP_DOMAIN, kek_id, context);
    // Only plaintexts over 256 GiB fail, and a data key is 32 bytes.
    let bytes = aead::encrypt(kek, &aad, key.as_bytes())
        .map_err(|_| KeyringError::Malformed("data key too long for the cipher".to_owned()))?;
    Ok(WrappedKey {
        kek_id: kek_id.clone(),
        bytes,
    })
}

/// Unwraps `wrapped` with `kek`, which must be the KEK it names.
pub(crate) fn unwrap_with(
    kek: &DataKey,
    wrapped: &WrappedKey,
    context: &[u8],
) -> Result<DataKey, KeyringError> {
    if wrapped.bytes.len() != NONCE_LEN + 32 + TAG_LEN {
        return Err(KeyringError::Malformed(format!(
            "wrapped key is {} bytes, expected {}",
            wrapped.bytes.len(),
            NONCE_LEN + 32 + TAG_LEN
        )));
    }
    let aad = aead::associated_data(WRAP_DOMAIN, &wrapped.kek_id, context);
    let mut plain = aead::decrypt(kek, &aad, &wrapped.bytes)?;
    let key = <[u8; 32]>::try_from(plain.as_slice())
        .map(DataKey::from_bytes)
        .map_err(|_| KeyringError::Malformed("unwrapped key is not 32 bytes".to_owned()));
    plain.zeroize();
    key
}
