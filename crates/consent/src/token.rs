//! Consent tokens: the pseudonymous handle a browser keeps to restore its
//! consent state on another page or device.
//!
//! A token is a bearer secret, so the store never holds it. It holds only
//! `HMAC-SHA256(hash_key, token)`: a database dump without the server's
//! keys cannot be turned back into tokens and replayed against the API.
//!
//! The token issued for a first consent is itself derived from the event,
//! `HMAC-SHA256(issue_key, site key | event id)`, so that a retried request
//! (same event id) gets the same token back without the token ever being
//! stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Length of a key, in bytes.
pub const KEY_LEN: usize = 32;

/// The two server secrets behind consent tokens.
#[derive(Clone)]
pub struct TokenKeys {
    issue: [u8; KEY_LEN],
    hash: [u8; KEY_LEN],
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from their raw bytes.
    pub fn new(issue: [u8; KEY_LEN], hash: [u8; KEY_LEN]) -> Self {
        TokenKeys { issue, hash }
    }

    /// The token for the first consent of `event_id` on the site `site_key`.
    pub fn issue(&self, site_key: &str, event_id: Uuid) -> ConsentToken {
        let mut mac = keyed(&self.issue);
        mac.update(site_key.as_bytes());
        mac.update(b"|");
        mac.update(event_id.as_bytes());
        ConsentToken(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The keyed hash under which the store files `token`.
    pub fn hash(&self, token: &ConsentToken) -> TokenHash {
        let mut mac = keyed(&self.hash);
        mac.update(token.0.as_bytes());
        TokenHash(mac.finalize().into_bytes().into())
    }
}

fn keyed(key: &[u8; KEY_LEN]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail for 32 bytes.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // new_from_slice only fails for fixed-size-key MACs; HMAC has none.
    <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default())
}

/// A consent token as the browser holds it: 43 base64url characters.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsentToken(String);

impl ConsentToken {
    /// Accepts a token sent by a client if it has the shape of one.
    pub fn parse(text: &str) -> Result<Self, InvalidToken> {
        let ok = text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(ConsentToken(text.to_owned()))
        } else {
            Err(InvalidToken)
        }
    }

    /// The token text, to hand to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never print a bearer secret, even in debug output.
impl fmt::Debug for ConsentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsentToken(..)")
    }
}

/// A consent token is 43 base64url characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("consentToken is not a token this server issued (43 base64url characters)")]
pub struct InvalidToken;

/// The keyed hash of a consent token, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// The hash as bytes, for the store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads a stored hash back.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(TokenHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new([1; KEY_LEN], [2; KEY_LEN])
    }

    #[test]
    fn issuing_is_deterministic_per_site_and_event() {
        let event = Uuid::from_u128(7);
        let a = keys().issue("site-a", event);
        assert_eq!(a, keys().issue("site-a", event));
        assert_ne!(a, keys().issue("site-b", event));
        assert_ne!(a, keys().issue("site-a", Uuid::from_u128(8)));
        assert_eq!(ConsentToken::parse(a.as_str()), Ok(a));
    }

    #[test]
    fn the_hash_depends_on_the_server_key() {
        let token = keys().issue("site", Uuid::from_u128(1));
        let other = TokenKeys::new([1; KEY_LEN], [3; KEY_LEN]);
        assert_ne!(keys().hash(&token), other.hash(&token));
        assert_eq!(keys().hash(&token), keys().hash(&token));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in ["", "short", &"a".repeat(44), &"!".repeat(43)] {
            assert_eq!(ConsentToken::parse(bad), Err(InvalidToken), "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = keys().issue("site", Uuid::from_u128(1));
        assert!(!format!("{token:?}").contains(token.as_str()));
    }
}
