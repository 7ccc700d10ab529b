//! One-time recovery codes, for signing in when the authenticator is lost.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// How many recovery codes a user is given at a time.
pub const RECOVERY_CODES: usize = 10;

/// Crockford's base32 alphabet in lower case: no i, l, o or u, so a code
/// read off paper cannot be mistyped as another.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Ten symbols of five bits each: 50 bits per code.
const GROUP_CHARS: usize = 5;
const GROUPS: usize = 2;

/// A fresh set of [`RECOVERY_CODES`] codes such as `k7qmx-2fjta`, 50 random
/// bits each. Show them once; store only [`hash_recovery_code`] of each.
pub fn generate_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES).map(|_| generate_code()).collect()
}

/// SHA-256 of the code as normalised for comparison.
///
/// A fast hash is enough, unlike for passwords: the codes are random with 50
/// bits each, single-use and tried only through the throttled sign-in, so an
/// offline search of a stolen hash gains nothing from a dictionary.
pub fn hash_recovery_code(code: &str) -> [u8; 32] {
    Sha256::digest(normalise(code).as_bytes()).into()
}

fn generate_code() -> String {
    let mut random = [0u8; GROUP_CHARS * GROUPS];
    rand::rng().fill_bytes(&mut random);
    // 32 divides 256, so masking each byte keeps the symbols uniform.
    let symbols: Vec<char> = random
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(b & 31)).map(|s| char::from(*s)))
        .collect();
    symbols
        .chunks(GROUP_CHARS)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Forgives what people do when typing a code back: case, dashes, spaces,
/// and Crockford's look-alikes (o for 0, i and l for 1).
fn normalise(code: &str) -> String {
    code.trim()
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_have_the_documented_shape() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for code in &codes {
            let (left, right) = code.split_once('-').unwrap();
            assert_eq!((left.len(), right.len()), (5, 5), "{code}");
            assert!(
                left.bytes()
                    .chain(right.bytes())
                    .all(|b| ALPHABET.contains(&b)),
                "{code}"
            );
        }
        let distinct: HashSet<&String> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
    }

    #[test]
    fn codes_use_the_whole_alphabet() {
        let seen: HashSet<char> = (0..20)
            .flat_map(|_| generate_recovery_codes())
            .flat_map(|code| code.chars().collect::<Vec<_>>())
            .filter(|c| *c != '-')
            .collect();
        // 2000 draws from 32 symbols miss one with negligible probability.
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn hash_forgives_typing() {
        let stored = hash_recovery_code("k7qmx-2fjta");
        for typed in ["k7qmx-2fjta", " K7QMX 2FJTA\n", "k7qmx2fjta", "K7QMX-2FJTA"] {
            assert_eq!(hash_recovery_code(typed), stored, "{typed:?}");
        }
        assert_eq!(
            hash_recovery_code("a0b1c-11d0e"),
            hash_recovery_code("aObic-lLdoe")
        );
        assert_ne!(hash_recovery_code("k7qmx-2fjtb"), stored);
    }

    #[test]
    fn hash_is_sha256_of_the_normalised_code() {
        let expected: [u8; 32] = Sha256::digest(b"k7qmx2fjta").into();
        assert_eq!(hash_recovery_code("K7QMX-2FJTA"), expected);
    }
}
