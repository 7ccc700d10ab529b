//! Opaque bearer secrets (sessions, API tokens, invitations) and the CSRF
//! token derived from a session.
//!
//! The store keeps only the SHA-256 of each secret, so a database leak gives
//! no usable credential. SHA-256 rather than a password hash is enough
//! because each secret holds 256 random bits.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

const SECRET_BYTES: usize = 32;
/// Prefixes let secret scanners recognise leaked tokens and let users tell
/// an API token from an invitation at a glance.
const API_TOKEN_PREFIX: &str = "ngt_";
const INVITATION_PREFIX: &str = "ngi_";
const WEBHOOK_SECRET_PREFIX: &str = "whsec_";
/// Binds CSRF tokens to their purpose in case the key is ever shared.
const CSRF_CONTEXT: &[u8] = b"nexaguard csrf v1\0";

fn generate_with(prefix: &str) -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `s` is `prefix` followed by the canonical base64url encoding of
/// exactly 32 bytes; decoding checks length and alphabet in one step.
fn well_formed(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|body| URL_SAFE_NO_PAD.decode(body).ok())
        .is_some_and(|bytes| bytes.len() == SECRET_BYTES)
}

fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

macro_rules! bearer_secret {
    ($(#[$doc:meta])* $name:ident, $prefix:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// A fresh secret of 256 random bits.
            pub fn generate() -> Self {
                $name(generate_with($prefix))
            }

            /// The secret as presented by a client, if it has the right
            /// shape. Whether it exists is for the store to say, by hash.
            pub fn parse(s: &str) -> Option<Self> {
                well_formed($prefix, s).then(|| $name(s.to_owned()))
            }

            /// The secret, to hand to its holder once.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// SHA-256 of the whole string, prefix included: what the store
            /// keeps and looks up.
            pub fn hash(&self) -> [u8; 32] {
                sha256(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

bearer_secret!(
    /// A browser session's cookie value: 32 random bytes in unpadded
    /// base64url.
    SessionSecret,
    ""
);

bearer_secret!(
    /// An API token: `ngt_` and 32 random bytes in unpadded base64url.
    ApiTokenSecret,
    API_TOKEN_PREFIX
);

bearer_secret!(
    /// An invitation link's secret: `ngi_` and 32 random bytes in unpadded
    /// base64url.
    InvitationSecret,
    INVITATION_PREFIX
);

bearer_secret!(
    /// A webhook signing secret: `whsec_` and 32 random bytes in unpadded
    /// base64url. Unlike the others it is a key the server must use again
    /// (to sign each delivery), so it is stored sealed, not hashed.
    WebhookSecret,
    WEBHOOK_SECRET_PREFIX
);

/// CSRF token bound to a session: HMAC-SHA256(key, session secret),
/// base64url. Stateless, so every node derives the same.
pub fn csrf_token(key: &[u8; 32], session: &SessionSecret) -> String {
    URL_SAFE_NO_PAD.encode(csrf_mac(key, session).finalize().into_bytes())
}

/// Whether `presented` is the CSRF token of `session`, compared in constant
/// time.
pub fn verify_csrf(key: &[u8; 32], session: &SessionSecret, presented: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(presented.trim()) else {
        return false;
    };
    csrf_mac(key, session).verify_slice(&tag).is_ok()
}

fn csrf_mac(key: &[u8; 32], session: &SessionSecret) -> Hmac<Sha256> {
    // HMAC zero-pads keys shorter than the hash's 64-byte block (RFC 2104),
    // so padding here is the same MAC without the fallible slice constructor.
    let mut block = [0u8; 64];
    block.iter_mut().zip(key).for_each(|(b, k)| *b = *k);
    let mut mac = <Hmac<Sha256> as Mac>::new(&block.into());
    mac.update(CSRF_CONTEXT);
    mac.update(session.as_str().as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn session_round_trip() {
        let secret = SessionSecret::generate();
        assert_eq!(secret.as_str().len(), 43);
        let parsed = SessionSecret::parse(secret.as_str()).unwrap();
        assert_eq!(parsed.as_str(), secret.as_str());
        assert_eq!(parsed.hash(), secret.hash());
        assert_ne!(SessionSecret::generate().hash(), secret.hash());
    }

    #[test]
    fn prefixed_round_trips() {
        let token = ApiTokenSecret::generate();
        assert!(token.as_str().starts_with("ngt_"));
        assert_eq!(token.as_str().len(), 47);
        assert_eq!(
            ApiTokenSecret::parse(token.as_str()).unwrap().hash(),
            token.hash()
        );
        let invitation = InvitationSecret::generate();
        assert!(invitation.as_str().starts_with("ngi_"));
        assert_eq!(
            InvitationSecret::parse(invitation.as_str()).unwrap().hash(),
            invitation.hash()
        );
        // A token is not an invitation, nor a bare session secret.
        assert!(InvitationSecret::parse(token.as_str()).is_none());
        assert!(SessionSecret::parse(token.as_str()).is_none());
    }

    #[test]
    fn rejects_junk() {
        let good = SessionSecret::generate();
        let body = good.as_str();
        let junk = [
            String::new(),
            "ngt_".to_owned(),
            body[..42].to_owned(),
            format!("{body}A"),
            format!("{}+", &body[..42]),
            format!("{}=", &body[..42]),
            format!("{body}="),
            " ".repeat(43),
        ];
        for s in &junk {
            assert!(SessionSecret::parse(s).is_none(), "{s:?}");
            assert!(
                ApiTokenSecret::parse(&format!("ngt_{s}")).is_none(),
                "{s:?}"
            );
        }
        assert!(ApiTokenSecret::parse(&format!("NGT_{body}")).is_none());
        assert!(ApiTokenSecret::parse(body).is_none());
    }

    #[test]
    fn hash_is_sha256_of_the_string() {
        let token = ApiTokenSecret::generate();
        let expected: [u8; 32] = Sha256::digest(token.as_str().as_bytes()).into();
        assert_eq!(token.hash(), expected);
    }

    #[test]
    fn debug_redacts() {
        let token = ApiTokenSecret::generate();
        let shown = format!("{token:?}");
        assert_eq!(shown, "ApiTokenSecret(<redacted>)");
        let session = SessionSecret::generate();
        assert!(!format!("{session:?}").contains(session.as_str()));
    }

    #[test]
    fn csrf_is_hmac_sha256_of_the_session() {
        let key = [3u8; 32];
        let session = SessionSecret::generate();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(CSRF_CONTEXT);
        mac.update(session.as_str().as_bytes());
        let expected = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(csrf_token(&key, &session), expected);
    }

    #[test]
    fn csrf() {
        let key = [9u8; 32];
        let session = SessionSecret::generate();
        let token = csrf_token(&key, &session);
        assert_eq!(token, csrf_token(&key, &session));
        assert!(verify_csrf(&key, &session, &token));
        assert!(!verify_csrf(&key, &SessionSecret::generate(), &token));
        assert!(!verify_csrf(&[8u8; 32], &session, &token));
        assert!(!verify_csrf(&key, &session, ""));
        assert!(!verify_csrf(&key, &session, "not base64!"));
        assert!(!verify_csrf(&key, &session, &token[..token.len() - 1]));
    }
}
