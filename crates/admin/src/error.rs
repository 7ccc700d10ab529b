//! What can go wrong in an administrative operation, with a stable code
//! per case so that the HTTP layer maps each to one status and the tests can
//! tell them apart.

use nexaguard_access::{Permission, SessionExpiry};
use nexaguard_keyring::KeyringError;
use nexaguard_store::StoreError;

/// An administrative operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Wrong e-mail address, wrong password, or an account locked after
    /// repeated failures: one message for all, so that the answer does not
    /// tell which addresses have accounts or are under attack.
    #[error(
        "wrong e-mail address or password; after repeated failed attempts, \
         give the current code of your second factor with the password"
    )]
    BadCredentials,
    /// Replacing a second factor needs the password and a current code of
    /// the factor in the same request, not just a session.
    #[error(
        "replacing your second factor needs your password and a current code \
         (or a recovery code) in the same request"
    )]
    ReauthenticationRequired,
    /// No valid session or token came with the request.
    #[error("sign in first")]
    Unauthenticated,
    /// The session timed out.
    #[error("{0}; sign in again")]
    SessionExpired(SessionExpiry),
    /// The API token was revoked.
    #[error("the API token was revoked")]
    TokenRevoked,
    /// The API token is past its expiry.
    #[error("the API token has expired")]
    TokenExpired,
    /// Too many failures: the account or the network must wait.
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    Locked {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// The role requires MFA and the user has not enrolled: enrolment is the
    /// only thing they can do.
    #[error("your role requires a second factor: enrol one first")]
    MfaEnrolmentRequired,
    /// The user has MFA and this session has not given the code yet.
    #[error("enter the code of your second factor first")]
    MfaRequired,
    /// A sensitive action, and the second factor was given too long ago in
    /// this session: give it again (step-up), then retry.
    #[error("this action needs your second factor again: enter a current code")]
    StepUpRequired,
    /// An API token tried something that needs step-up from a session,
    /// and was not created with that permission as a step-up scope.
    #[error("this API token was not created with the {0} step-up scope that this action needs")]
    ScopeRequired(Permission),
    /// A TOTP or recovery code that does not match.
    #[error("the code is not valid")]
    BadCode,
    /// A TOTP code that was already used.
    #[error("that code was already used; wait for the next one")]
    ReplayedCode,
    /// The caller's role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing in the caller's tenant.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is well-formed but not acceptable.
    #[error("{message}")]
    Invalid {
        /// A stable code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The change contradicts the stored state.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed and allowed, but the stored state does
    /// not permit it (yet): nothing to publish, nothing staged, no
    /// enrolment offered, an expired invitation, a limit reached. Unlike
    /// [`AdminError::Invalid`], the same request may succeed once the
    /// state changes; over HTTP both this and [`AdminError::Conflict`] are
    /// a conflict (409).
    #[error("{message}")]
    State {
        /// A stable code.
        code: &'static str,
        /// What stands in the way.
        message: String,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(StoreError),
    /// The key ring failed.
    #[error("key ring: {0}")]
    Keyring(#[from] KeyringError),
}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => AdminError::Conflict(message),
            other => AdminError::Store(other),
        }
    }
}

impl AdminError {
    /// A well-formed but unacceptable request.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        AdminError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// The stored state does not permit the request (yet).
    pub fn state(code: &'static str, message: impl Into<String>) -> Self {
        AdminError::State {
            code,
            message: message.into(),
        }
    }

    /// The stable code of the error answer.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::BadCredentials => "bad_credentials",
            AdminError::ReauthenticationRequired => "reauthentication_required",
            AdminError::Unauthenticated => "unauthenticated",
            AdminError::SessionExpired(_) => "session_expired",
            AdminError::TokenRevoked => "token_revoked",
            AdminError::TokenExpired => "token_expired",
            AdminError::Locked { .. } => "locked",
            AdminError::MfaEnrolmentRequired => "mfa_enrolment_required",
            AdminError::MfaRequired => "mfa_required",
            AdminError::StepUpRequired => "step_up_required",
            AdminError::ScopeRequired(_) => "scope_required",
            AdminError::BadCode => "bad_code",
            AdminError::ReplayedCode => "replayed_code",
            AdminError::Forbidden(_) => "forbidden",
            AdminError::NotFound(_) => "not_found",
            AdminError::Invalid { code, .. } | AdminError::State { code, .. } => code,
            AdminError::Conflict(_) => "conflict",
            AdminError::Store(_) => "store_unavailable",
            AdminError::Keyring(_) => "key_ring_error",
        }
    }
}
