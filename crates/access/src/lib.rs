//! NexaGuard's rules of administrative access: roles and permissions,
//! password hashing, TOTP second factors, recovery codes, bearer secrets,
//! session lifetimes and login throttling.
//!
//! The crate does no I/O. The server owns storage and clocks and asks this
//! crate for decisions, so every rule here can be tested with plain values.

mod error;
pub mod lockout;
pub mod password;
pub mod recovery;
pub mod role;
pub mod secret;
pub mod session;
pub mod totp;

pub use error::AccessError;
pub use lockout::Throttle;
pub use password::{
    check_password_policy, hash_password, verify_dummy, verify_password, MAX_PASSWORD_BYTES,
    MIN_PASSWORD_CHARS,
};
pub use recovery::{generate_recovery_codes, hash_recovery_code, RECOVERY_CODES};
pub use role::{markdown_matrix, Permission, Role};
pub use secret::{
    csrf_token, verify_csrf, ApiTokenSecret, InvitationSecret, SessionSecret, WebhookSecret,
};
pub use session::{check_session, SessionExpiry, ABSOLUTE_TIMEOUT, IDLE_TIMEOUT};
pub use totp::{TotpError, TotpSecret};
