//! Password policy and hashing: argon2id at OWASP's recommended parameters,
//! stored as PHC strings so the parameters travel with each hash.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, Salt, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::AccessError;

/// The shortest password accepted, in characters. Length is the only
/// composition rule, following NIST SP 800-63B.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The longest password accepted, in bytes, so that a request cannot make
/// the server hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Checks a new password against the policy.
pub fn check_password_policy(password: &str) -> Result<(), AccessError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccessError::PasswordTooLong {
            max_bytes: MAX_PASSWORD_BYTES,
        });
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccessError::WeakPassword {
            min_chars: MIN_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// Hashes a new password with a random salt, after checking the policy.
pub fn hash_password(password: &str) -> Result<String, AccessError> {
    check_password_policy(password)?;
    hash_unchecked(password)
}

/// Whether `password` matches the PHC string `phc`. False rather than an
/// error for a malformed hash or an over-long password: a login only needs
/// to know whether to let the user in.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher().is_ok_and(|argon| argon.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the time of a real verification, for sign-ins naming an unknown
/// user, so response times do not reveal which accounts exist.
pub fn verify_dummy(password: &str) {
    if let Some(phc) = DUMMY_HASH.as_deref() {
        let _ = verify_password(password, phc);
    }
}

const DUMMY_PASSWORD: &str = "nexaguard dummy password";

// Computed once: hashing on every call as well would make unknown users
// slower than known ones.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| hash_unchecked(DUMMY_PASSWORD).ok());

fn hash_unchecked(password: &str) -> Result<String, AccessError> {
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccessError::Hash(e.to_string()))?;
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccessError::Hash(e.to_string()))
}

fn hasher() -> Result<Argon2<'static>, AccessError> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| AccessError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn policy_boundaries() {
        assert_eq!(
            check_password_policy("abcdefghijk"),
            Err(AccessError::WeakPassword { min_chars: 12 })
        );
        assert_eq!(check_password_policy("abcdefghijkl"), Ok(()));
        // Characters, not bytes: 11 two-byte characters are still too short.
        assert!(check_password_policy(&"é".repeat(11)).is_err());
        assert_eq!(check_password_policy(&"é".repeat(12)), Ok(()));
        assert_eq!(
            check_password_policy(&"a".repeat(MAX_PASSWORD_BYTES)),
            Ok(())
        );
        assert_eq!(
            check_password_policy(&"a".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(AccessError::PasswordTooLong { max_bytes: 1024 })
        );
    }

    #[test]
    fn hash_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
    }

    #[test]
    fn salts_differ() {
        let a = hash_unchecked("same password").unwrap();
        let b = hash_unchecked("same password").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn refuses_weak_before_hashing() {
        assert_eq!(
            hash_password("short"),
            Err(AccessError::WeakPassword { min_chars: 12 })
        );
    }

    #[test]
    fn malformed_inputs_do_not_verify() {
        assert!(!verify_password("anything at all", ""));
        assert!(!verify_password("anything at all", "not a phc string"));
        assert!(!verify_password(
            "anything at all",
            "$argon2id$v=19$m=19456,t=2,p=1$"
        ));
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(!verify_password(
            &long,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }

    #[test]
    fn dummy_is_a_real_hash_at_the_same_cost() {
        verify_dummy("whatever the user typed");
        let dummy = DUMMY_HASH.as_deref().unwrap();
        assert!(
            dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{dummy}"
        );
        assert!(verify_password(DUMMY_PASSWORD, dummy));
    }
}
