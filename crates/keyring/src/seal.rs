//! Sealing secrets with a data key, and blind indexes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::digest::generic_array::GenericArray;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::aead;
use crate::{DataKey, KeyId, KeyringError};

/// Version tag leading every sealed value, so the format can change later
/// while old values stay readable.
const SEAL_VERSION: &str = "v1";

/// Domain tag of the associated data when sealing.
const SEAL_DOMAIN: &[u8] = b"nexaguard-keyring-seal-v1\0";

/// Seals `plaintext` with the data key `key`, whose id is `key_id`.
///
/// The text form is `"v1.{key_id}.{base64url(nonce || ciphertext || tag)}"`.
/// `context` is bound as associated data: [`open`] must be given the same
/// bytes (for example `"totp:{user_id}"`), so a value copied to another row
/// does not open. The key id is bound too, so it cannot be edited.
///
/// # Panics
///
/// Only for a plaintext over 256 GiB, the cipher's limit.
pub fn seal(key_id: &KeyId, key: &DataKey, context: &[u8], plaintext: &[u8]) -> String {
    let aad = aead::associated_data(SEAL_DOMAIN, key_id, context);
    match aead::encrypt(key, &aad, plaintext) {
        Ok(bytes) => format!("{SEAL_VERSION}.{key_id}.{}", URL_SAFE_NO_PAD.encode(bytes)),
        // The signature is infallible by design (callers seal secrets of a
        // few bytes); the cipher's only refusal is for 256 GiB and more.
        Err(_) => unreachable!("XChaCha20-Poly1305 refuses only plaintexts over 256 GiB"),
    }
}

/// The id of the data key a sealed value names, to look that key up.
pub fn sealed_key_id(sealed: &str) -> Result<KeyId, KeyringError> {
    split_sealed(sealed).map(|(id, _)| id)
}

/// Opens a sealed value with the data key it names.
///
/// `context` must be the one used by [`seal`]. A wrong key, a wrong context
/// or any change to the value gives [`KeyringError::Decrypt`].
pub fn open(sealed: &str, key: &DataKey, context: &[u8]) -> Result<Vec<u8>, KeyringError> {
    let (key_id, payload) = split_sealed(sealed)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| {
        KeyringError::Malformed("sealed value payload is not unpadded base64url".to_owned())
    })?;
    let aad = aead::associated_data(SEAL_DOMAIN, &key_id, context);
    aead::decrypt(key, &aad, &bytes)
}

/// Splits `"v1.{key_id}.{payload}"` into the key id and the still-encoded
/// payload.
fn split_sealed(sealed: &str) -> Result<(KeyId, &str), KeyringError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(version), Some(id), Some(payload)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(KeyringError::Malformed(
            "sealed value is not \"v1.{key_id}.{payload}\"".to_owned(),
        ));
    };
    if version != SEAL_VERSION {
        return Err(KeyringError::Malformed(format!(
            "unsupported sealed value version {version:?}"
        )));
    }
    if payload.is_empty() {
        return Err(KeyringError::Malformed(
            "sealed value payload is empty".to_owned(),
        ));
    }
    Ok((KeyId::parse(id)?, payload))
}

/// A keyed lookup hash, `HMAC-SHA256(key, domain || 0x00 || value)`, to find
/// rows by a secret value (e.g. an e-mail address) without storing it in
/// plaintext.
///
/// `domain` names what is indexed (e.g. `"user.email"`) so equal values in
/// different columns give unrelated hashes; it should be a constant without a
/// NUL byte. Normalise `value` first (e.g. lowercase an e-mail address) when
/// lookups should match loosely.
pub fn blind_index(key: &DataKey, domain: &str, value: &[u8]) -> [u8; 32] {
    // HMAC zero-pads keys shorter than the 64-byte block, so padding here
    // gives the same MAC while using the constructor that cannot fail.
    let mut block = Zeroizing::new([0u8; 64]);
    for (b, k) in block.iter_mut().zip(key.as_bytes()) {
        *b = *k;
    }
    let mut mac = Hmac::<Sha256>::new(GenericArray::from_slice(block.as_slice()));
    mac.update(domain.as_bytes());
    mac.update(&[0]);
    mac.update(value);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn key() -> (KeyId, DataKey) {
        (KeyId::parse("dek-test").unwrap(), DataKey::generate())
    }

    #[test]
    fn seal_then_open_round_trips() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"totp:42", b"JBSWY3DPEHPK3PXP");
        assert!(sealed.starts_with("v1.dek-test."));
        assert_eq!(
            open(&sealed, &key, b"totp:42").unwrap(),
            b"JBSWY3DPEHPK3PXP"
        );
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"", b"");
        assert!(open(&sealed, &key, b"").unwrap().is_empty());
    }

    #[test]
    fn sealing_twice_gives_different_values() {
        let (id, key) = key();
        assert_ne!(
            seal(&id, &key, b"c", b"same"),
            seal(&id, &key, b"c", b"same")
        );
    }

    #[test]
    fn wrong_context_fails() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"totp:42", b"secret");
        assert!(matches!(
            open(&sealed, &key, b"totp:43"),
            Err(KeyringError::Decrypt)
        ));
    }

    #[test]
    fn wrong_key_fails() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"c", b"secret");
        assert!(matches!(
            open(&sealed, &DataKey::generate(), b"c"),
            Err(KeyringError::Decrypt)
        ));
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"c", b"secret value");
        let (head, payload) = sealed.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let text = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&tampered));
            assert!(
                matches!(open(&text, &key, b"c"), Err(KeyringError::Decrypt)),
                "flipping byte {i} went unnoticed"
            );
        }
        bytes.truncate(bytes.len() - 1);
        let text = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert!(matches!(
            open(&text, &key, b"c"),
            Err(KeyringError::Decrypt)
        ));
    }

    #[test]
    fn edited_key_id_fails() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"c", b"secret");
        let edited = sealed.replacen("dek-test", "dek-other", 1);
        assert!(matches!(
            open(&edited, &key, b"c"),
            Err(KeyringError::Decrypt)
        ));
    }

    #[test]
    fn sealed_key_id_names_the_sealing_key() {
        let (id, key) = key();
        let sealed = seal(&id, &key, b"c", b"secret");
        assert_eq!(sealed_key_id(&sealed).unwrap(), id);
    }

    #[test]
    fn malformed_sealed_values_are_refused() {
        let (_, key) = key();
        for bad in [
            "",
            "v1",
            "v1.dek-test",
            "v1.dek-test.",
            "v2.dek-test.AAAA",
            "v1.DEK.AAAA",
            "v1.dek-test.not base64!",
            "v1.dek-test.AAAA",
        ] {
            assert!(
                matches!(
                    open(bad, &key, b""),
                    Err(KeyringError::Malformed(_) | KeyringError::BadKeyId(_))
                ),
                "{bad:?} not refused as malformed"
            );
        }
        assert!(sealed_key_id("v2.dek-test.AAAA").is_err());
    }

    #[test]
    fn raw_ciphertext_does_not_contain_the_plaintext() {
        let (id, key) = key();
        let plaintext = b"alice@example.com alice@example.com";
        let sealed = seal(&id, &key, b"c", plaintext);
        let payload = sealed.rsplit_once('.').unwrap().1;
        let raw = URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert_eq!(raw.len(), 24 + plaintext.len() + 16);
        assert!(!raw.windows(5).any(|w| plaintext.windows(5).any(|p| p == w)));
        assert!(!sealed.contains("alice"));
    }

    #[test]
    fn blind_index_is_keyed_and_domain_separated() {
        let key = DataKey::from_bytes([7; 32]);
        let a = blind_index(&key, "user.email", b"alice@example.com");
        assert_eq!(a, blind_index(&key, "user.email", b"alice@example.com"));
        assert_ne!(a, blind_index(&key, "user.email", b"bob@example.com"));
        assert_ne!(
            a,
            blind_index(&key, "invitation.email", b"alice@example.com")
        );
        assert_ne!(
            a,
            blind_index(
                &DataKey::from_bytes([8; 32]),
                "user.email",
                b"alice@example.com"
            )
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7; 32]).unwrap();
        mac.update(b"user.email\0alice@example.com");
        assert_eq!(a.as_slice(), mac.finalize().into_bytes().as_slice());
    }
}
