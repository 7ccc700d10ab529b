//! XChaCha20-Poly1305 with random nonces, shared by key wrapping and sealing.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::{DataKey, KeyId, KeyringError};

/// Bytes of an XChaCha20 nonce.
pub(crate) const NONCE_LEN: usize = 24;

/// Bytes of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;

/// Encrypts `plaintext`, returning `nonce || ciphertext || tag`.
///
/// The only failure is a plaintext over the cipher's 256 GiB limit.
pub(crate) fn encrypt(
    key: &DataKey,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, chacha20poly1305::Error> {
    let mut nonce = [0u8; NONCE_LEN];
    // Generated with rand 0.9 and handed over as bytes: the cipher's own
    // helpers expect a rand_core 0.6 generator.
    rand::rng().fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_bytes()));
    let ciphertext = cipher.encrypt(
        XNonce::from_slice(&nonce),
        Payload {
            msg: plaintext,
            aad,
        },
    )?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts `nonce || ciphertext || tag` made by [`encrypt`].
pub(crate) fn decrypt(key: &DataKey, aad: &[u8], data: &[u8]) -> Result<Vec<u8>, KeyringError> {
    let too_short = || {
        KeyringError::Malformed(format!(
            "ciphertext is {} bytes, shorter than a nonce and a tag",
            data.len()
        ))
    };
    let (nonce, ciphertext) = data.split_at_checked(NONCE_LEN).ok_or_else(too_short)?;
    if ciphertext.len() < TAG_LEN {
        return Err(too_short());
    }
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_bytes()));
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| KeyringError::Decrypt)
}

/// Associated data: a domain tag, the length-prefixed key id, then the
/// caller's context. The key id is bound so that editing the id in a text
/// form cannot steer decryption; the prefix keeps id and context apart.
pub(crate) fn associated_data(domain: &[u8], key_id: &KeyId, context: &[u8]) -> Vec<u8> {
    let id = key_id.as_str().as_bytes();
    let mut aad = Vec::with_capacity(domain.len() + 1 + id.len() + context.len());
    aad.extend_from_slice(domain);
    // Key ids are at most 64 bytes, so the length fits in one byte.
    aad.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    aad.extend_from_slice(id);
    aad.extend_from_slice(context);
    aad
}
