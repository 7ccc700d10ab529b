//! The crate's error type.

/// Why an access rule refused an input or could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The password is shorter than the policy allows.
    #[error("password must be at least {min_chars} characters long")]
    WeakPassword {
        /// The minimum length, in characters.
        min_chars: usize,
    },
    /// The password is longer than the hasher accepts.
    #[error("password must be at most {max_bytes} bytes long")]
    PasswordTooLong {
        /// The maximum length, in bytes of UTF-8.
        max_bytes: usize,
    },
    /// A role name that is not one of [`crate::Role::ALL`].
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    /// A permission name that is not one of [`crate::Permission::ALL`].
    #[error("unknown permission {0:?}")]
    UnknownPermission(String),
    /// Secret key material is too short or malformed.
    #[error("secret is too short or malformed")]
    BadSecret,
    /// A TOTP issuer or account name that authenticator apps cannot show.
    #[error("invalid TOTP label: {0}")]
    TotpLabel(String),
    /// The password hasher failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}
