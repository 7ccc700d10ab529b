//! A single KEK given by the environment.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::kek::{self, KeyEncryptionKeys, WrappedKey};
use crate::{DataKey, KeyId, KeyringError};

/// Domain tag of the hash an environment KEK's id is derived from.
const ID_DOMAIN: &[u8] = b"nexaguard-keyring-env-kek-id-v1\0";

/// A single KEK given by the environment (`NEXAGUARD_KEK`, base64 of 32
/// bytes).
///
/// Its id (`"kek-env-"` and 16 hex characters) is derived from a hash of the
/// key, so it stays the same across restarts and differs when the operator
/// changes the key. Rotation happens in the environment or KMS, not here:
/// [`KeyEncryptionKeys::rotate`] returns [`KeyringError::RotationUnsupported`].
pub struct EnvKey {
    id: KeyId,
    key: DataKey,
    /// The key being replaced, for the one run that re-wraps data keys
    /// with the new one (`NEXAGUARD_KEK_PREVIOUS`).
    previous: Option<(KeyId, DataKey)>,
}

impl EnvKey {
    /// The environment variable the server reads the key from.
    pub const VARIABLE: &'static str = "NEXAGUARD_KEK";

    /// The variable holding the previous key during a rotation: data keys
    /// it wrapped still unwrap, and `nexaguard keys rotate` re-wraps them
    /// with the current key, after which it can be removed.
    pub const PREVIOUS_VARIABLE: &'static str = "NEXAGUARD_KEK_PREVIOUS";

    /// Adds the previous key (the value of [`Self::PREVIOUS_VARIABLE`]).
    pub fn with_previous(self, value: &str) -> Result<EnvKey, KeyringError> {
        let previous = EnvKey::from_base64(value)?;
        Ok(EnvKey {
            previous: Some((previous.id, previous.key)),
            ..self
        })
    }

    /// Builds the KEK from the variable's value: standard or URL-safe base64,
    /// padded or not, of exactly 32 bytes. Surrounding whitespace is ignored.
    pub fn from_base64(value: &str) -> Result<EnvKey, KeyringError> {
        let value = value.trim();
        let mut bytes = STANDARD
            .decode(value)
            .or_else(|_| URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')))
            .map_err(|_| {
                KeyringError::Malformed(format!("{} is not valid base64", Self::VARIABLE))
            })?;
        let key = <[u8; 32]>::try_from(bytes.as_slice()).map(DataKey::from_bytes);
        let len = bytes.len();
        bytes.zeroize();
        let key = key.map_err(|_| {
            KeyringError::Malformed(format!(
                "{} must be base64 of 32 bytes, got {len} bytes",
                Self::VARIABLE
            ))
        })?;
        Ok(EnvKey {
            id: derive_id(&key)?,
            key,
            previous: None,
        })
    }
}

/// `"kek-env-"` and the first 8 bytes, in hex, of a domain-separated SHA-256
/// of the key. Eight bytes tell keys apart without saying anything useful
/// about a 256-bit key.
fn derive_id(key: &DataKey) -> Result<KeyId, KeyringError> {
    let digest = Sha256::new()
        .chain_update(ID_DOMAIN)
        .chain_update(key.as_bytes())
        .finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    KeyId::parse(&format!("kek-env-{hex}"))
}

impl fmt::Debug for EnvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvKey").field("id", &self.id).finish()
    }
}

impl KeyEncryptionKeys for EnvKey {
    fn current(&self) -> KeyId {
        self.id.clone()
    }

    fn wrap(&self, key: &DataKey, context: &[u8]) -> Result<WrappedKey, KeyringError> {
        kek::wrap_with(&self.id, &self.key, key, context)
    }

    fn unwrap(&self, wrapped: &WrappedKey, context: &[u8]) -> Result<DataKey, KeyringError> {
        if wrapped.kek_id == self.id {
            return kek::unwrap_with(&self.key, wrapped, context);
        }
        match &self.previous {
            Some((id, key)) if *id == wrapped.kek_id => kek::unwrap_with(key, wrapped, context),
            _ => Err(KeyringError::UnknownKey(wrapped.kek_id.clone())),
        }
    }

    fn key_ids(&self) -> Vec<KeyId> {
        let mut ids = vec![self.id.clone()];
        ids.extend(self.previous.as_ref().map(|(id, _)| id.clone()));
        ids
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const KEY_A: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    #[test]
    fn the_previous_key_unwraps_what_it_wrapped() {
        let old = EnvKey::from_base64(KEY_A).unwrap();
        let data = DataKey::generate();
        let wrapped = old.wrap(&data, b"ctx").unwrap();
        let new_value = STANDARD.encode([9u8; 32]);
        let new = EnvKey::from_base64(&new_value).unwrap();
        assert!(matches!(
            new.unwrap(&wrapped, b"ctx"),
            Err(KeyringError::UnknownKey(_))
        ));
        let rotating = EnvKey::from_base64(&new_value)
            .unwrap()
            .with_previous(KEY_A)
            .unwrap();
        let unwrapped = rotating.unwrap(&wrapped, b"ctx").unwrap();
        assert_eq!(unwrapped.as_bytes(), data.as_bytes());
        assert_eq!(rotating.key_ids().len(), 2);
        assert_eq!(
            rotating.wrap(&data, b"ctx").unwrap().kek_id,
            rotating.current()
        );
    }

    #[test]
    fn id_is_stable_and_depends_on_the_key() {
        let a = EnvKey::from_base64(KEY_A).unwrap();
        let again = EnvKey::from_base64(&format!("  {KEY_A}\n")).unwrap();
        assert_eq!(a.current(), again.current());
        assert!(a.current().as_str().starts_with("kek-env-"));
        assert_eq!(a.current().as_str().len(), "kek-env-".len() + 16);
        let b = EnvKey::from_base64(&STANDARD.encode([2u8; 32])).unwrap();
        assert_ne!(a.current(), b.current());
    }

    #[test]
    fn url_safe_unpadded_base64_is_accepted() {
        let std = EnvKey::from_base64(&STANDARD.encode([0xfb; 32])).unwrap();
        let url = EnvKey::from_base64(&URL_SAFE_NO_PAD.encode([0xfb; 32])).unwrap();
        assert_eq!(std.current(), url.current());
    }

    #[test]
    fn bad_values_are_refused_without_echoing_them() {
        for bad in ["", "not base64!", &STANDARD.encode([1u8; 16])] {
            let err = EnvKey::from_base64(bad).unwrap_err();
            assert!(matches!(err, KeyringError::Malformed(_)));
            assert!(err.to_string().contains("NEXAGUARD_KEK"));
        }
        let short = STANDARD.encode([9u8; 31]);
        let message = EnvKey::from_base64(&short).unwrap_err().to_string();
        assert!(!message.contains(&short));
    }

    #[test]
    fn wraps_and_unwraps() {
        let kek = EnvKey::from_base64(KEY_A).unwrap();
        let dek = DataKey::generate();
        let wrapped = kek.wrap(&dek, b"dek-1:tenant").unwrap();
        assert_eq!(wrapped.kek_id, kek.current());
        let parsed = WrappedKey::parse(&wrapped.to_text()).unwrap();
        let back = kek.unwrap(&parsed, b"dek-1:tenant").unwrap();
        assert_eq!(back.as_bytes(), dek.as_bytes());
        assert!(matches!(
            kek.unwrap(&parsed, b"dek-1:other"),
            Err(KeyringError::Decrypt)
        ));
    }

    #[test]
    fn foreign_kek_is_unknown() {
        let a = EnvKey::from_base64(KEY_A).unwrap();
        let b = EnvKey::from_base64(&STANDARD.encode([2u8; 32])).unwrap();
        let wrapped = b.wrap(&DataKey::generate(), b"").unwrap();
        assert!(matches!(
            a.unwrap(&wrapped, b""),
            Err(KeyringError::UnknownKey(id)) if id == b.current()
        ));
    }

    #[test]
    fn rotation_is_refused() {
        let kek = EnvKey::from_base64(KEY_A).unwrap();
        assert!(matches!(
            kek.rotate(),
            Err(KeyringError::RotationUnsupported)
        ));
        assert!(matches!(
            kek.retire(&kek.current()),
            Err(KeyringError::RotationUnsupported)
        ));
        assert_eq!(kek.key_ids(), vec![kek.current()]);
        assert!(kek.reload().is_ok());
    }

    #[test]
    fn debug_hides_the_key() {
        let kek = EnvKey::from_base64(KEY_A).unwrap();
        let debug = format!("{kek:?}");
        assert!(debug.contains("kek-env-"));
        assert!(!debug.contains("AQEB"));
        assert!(!debug.contains("[1, 1"));
    }
}
