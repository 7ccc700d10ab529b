//! TOTP second factors (RFC 6238) with the settings every authenticator app
//! supports: HMAC-SHA-1, 6 digits, 30-second steps.

use std::fmt;

use rand::RngCore;
use subtle::{Choice, ConstantTimeEq};
use totp_rs::{Algorithm, TOTP};

use crate::AccessError;

const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
/// Steps accepted either side of the current one, for clock drift and the
/// time a user takes to type (RFC 6238 section 5.2 recommends one).
const SKEW_STEPS: u8 = 1;
/// RFC 4226 requires at least 128 bits of key.
const MIN_SECRET_BYTES: usize = 16;
/// RFC 4226 recommends 160 bits of key, the size of a SHA-1 block output.
const GENERATED_SECRET_BYTES: usize = 20;

/// A user's TOTP key.
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

/// Why a TOTP code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not six digits.
    #[error("authentication code must be 6 digits")]
    Malformed,
    /// Six digits, but not the current code.
    #[error("authentication code is incorrect or has expired")]
    Invalid,
    /// The right code, but one already used to sign in.
    #[error("authentication code has already been used; wait for the next one")]
    Replayed,
}

impl TotpSecret {
    /// A fresh random 160-bit key.
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    /// A key read back from storage; refuses keys under 128 bits.
    pub fn from_bytes(bytes: &[u8]) -> Result<TotpSecret, AccessError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(AccessError::BadSecret);
        }
        Ok(TotpSecret(bytes.to_vec()))
    }

    /// The raw key, for storage.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key in unpadded base32, for users who type it into their app.
    pub fn base32(&self) -> String {
        self.totp(None, String::new()).get_secret_base32()
    }

    /// The `otpauth://totp/...` URI that authenticator apps read from a QR
    /// code. Refuses an issuer or account containing ':', which would make
    /// the label ambiguous.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> Result<String, AccessError> {
        TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            SKEW_STEPS,
            STEP_SECONDS,
            self.0.clone(),
            Some(issuer.to_owned()),
            account.to_owned(),
        )
        .map(|totp| totp.get_url())
        .map_err(|e| AccessError::TotpLabel(e.to_string()))
    }

    /// The code for the step containing `unix_seconds`.
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp(None, String::new()).generate(unix_seconds)
    }

    /// Accepts a code of exactly 6 ASCII digits (surrounding whitespace and
    /// one inner space allowed) for the step of `unix_seconds` or one step
    /// either side; refuses a step <= `last_used_step` as replayed.
    /// Returns the matched step, which the caller stores as the new
    /// last_used_step.
    pub fn verify(
        &self,
        code: &str,
        unix_seconds: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, TotpError> {
        let code = normalise(code).ok_or(TotpError::Malformed)?;
        let totp = self.totp(None, String::new());
        let current = unix_seconds / STEP_SECONDS;
        let mut fresh: Option<u64> = None;
        let mut replayed = false;
        // Every candidate is computed and compared, so the time taken does
        // not say which step matched.
        let skew = u64::from(SKEW_STEPS);
        for step in current.saturating_sub(skew)..=current.saturating_add(skew) {
            let expected = totp.generate(step.saturating_mul(STEP_SECONDS));
            let matched: Choice = expected.as_bytes().ct_eq(code.as_bytes());
            if bool::from(matched) {
                if last_used_step.is_some_and(|last| step <= last) {
                    replayed = true;
                } else if fresh.is_none() {
                    fresh = Some(step);
                }
            }
        }
        match (fresh, replayed) {
            (Some(step), _) => Ok(step),
            (None, true) => Err(TotpError::Replayed),
            (None, false) => Err(TotpError::Invalid),
        }
    }

    // The key length was checked on construction, so the unchecked
    // constructor cannot build an invalid generator.
    fn totp(&self, issuer: Option<String>, account: String) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            SKEW_STEPS,
            STEP_SECONDS,
            self.0.clone(),
            issuer,
            account,
        )
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// The six digits of `code`, allowing the spaces apps show for legibility
/// ("123 456") and stray whitespace from copy and paste.
fn normalise(code: &str) -> Option<String> {
    let code = code.trim();
    if code.chars().filter(|c| *c == ' ').count() > 1 {
        return None;
    }
    let digits: String = code.chars().filter(|c| *c != ' ').collect();
    let well_formed = digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit());
    well_formed.then_some(digits)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn rfc_6238_sha1_vectors() {
        let secret = rfc_secret();
        // The RFC's 8-digit codes, truncated to their 6 low digits.
        let vectors = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (t, code) in vectors {
            assert_eq!(secret.code_at(t), code, "T={t}");
        }
    }

    #[test]
    fn accepts_current_step_and_one_either_side() {
        let secret = rfc_secret();
        let now = 1_111_111_109;
        let step = now / 30;
        assert_eq!(secret.verify("081804", now, None), Ok(step));
        let previous = secret.code_at(now - 30);
        assert_eq!(secret.verify(&previous, now, None), Ok(step - 1));
        let next = secret.code_at(now + 30);
        assert_eq!(secret.verify(&next, now, None), Ok(step + 1));
    }

    #[test]
    fn refuses_two_steps_away() {
        let secret = rfc_secret();
        let now = 1_111_111_109;
        for code in [secret.code_at(now - 60), secret.code_at(now + 60)] {
            assert_eq!(secret.verify(&code, now, None), Err(TotpError::Invalid));
        }
    }

    #[test]
    fn refuses_wrong_code() {
        let secret = rfc_secret();
        assert_eq!(
            secret.verify("081805", 1_111_111_109, None),
            Err(TotpError::Invalid)
        );
    }

    #[test]
    fn refuses_replay() {
        let secret = rfc_secret();
        let now = 1_111_111_109;
        let step = secret.verify("081804", now, None).unwrap();
        assert_eq!(
            secret.verify("081804", now, Some(step)),
            Err(TotpError::Replayed)
        );
        // An older code after a newer one was used is a replay too.
        let previous = secret.code_at(now - 30);
        assert_eq!(
            secret.verify(&previous, now, Some(step)),
            Err(TotpError::Replayed)
        );
        // The next step's code is still fresh.
        let next = secret.code_at(now + 30);
        assert_eq!(secret.verify(&next, now, Some(step)), Ok(step + 1));
    }

    #[test]
    fn code_shapes() {
        let secret = rfc_secret();
        let now = 1_111_111_109;
        for ok in ["081804", " 081804\n", "081 804", "\t081 804 "] {
            assert!(secret.verify(ok, now, None).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            "81804",
            "0818040",
            "081 80 4",
            "08-1804",
            "０８１８０４",
            "08180a",
        ] {
            assert_eq!(
                secret.verify(bad, now, None),
                Err(TotpError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn secret_lengths() {
        assert_eq!(
            TotpSecret::from_bytes(&[7; 15]).unwrap_err(),
            AccessError::BadSecret
        );
        assert_eq!(
            TotpSecret::from_bytes(&[7; 16]).unwrap().as_bytes(),
            &[7; 16]
        );
        let generated = TotpSecret::generate();
        assert_eq!(generated.as_bytes().len(), 20);
        assert_ne!(generated.as_bytes(), TotpSecret::generate().as_bytes());
    }

    #[test]
    fn base32_and_uri() {
        let secret = rfc_secret();
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = secret
            .provisioning_uri("NexaGuard", "ada@example.com")
            .unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/NexaGuard:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=NexaGuard"
        );
        assert!(matches!(
            secret.provisioning_uri("Nexa:Guard", "ada"),
            Err(AccessError::TotpLabel(_))
        ));
    }

    #[test]
    fn debug_hides_the_key() {
        let secret = rfc_secret();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("49"), "{shown}");
        assert!(!shown.contains("123"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
