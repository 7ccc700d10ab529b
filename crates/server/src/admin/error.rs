//! How administrative failures become HTTP answers, and the security
//! counters they feed.
//!
//! Invariant: every refusal is the error table's JSON (`crate::error`),
//! with one status per kind of failure; a server fault keeps its cause in
//! the log and tells the client only that the operation failed.

use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nexaguard_admin::AdminError;

/// A method the admin path does not have: `405 method_not_allowed`.
#[derive(Debug)]
pub struct MethodNotAllowed;

impl IntoResponse for MethodNotAllowed {
    fn into_response(self) -> Response {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this path does not take that method; `Allow` lists those it takes",
        )
        .into_response()
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        let status = match &error {
            AdminError::BadCredentials
            | AdminError::Unauthenticated
            | AdminError::SessionExpired(_)
            | AdminError::TokenRevoked
            | AdminError::TokenExpired
            | AdminError::BadCode
            | AdminError::ReplayedCode => StatusCode::UNAUTHORIZED,
            AdminError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
            AdminError::MfaEnrolmentRequired
            | AdminError::MfaRequired
            | AdminError::StepUpRequired
            | AdminError::ReauthenticationRequired
            | AdminError::ScopeRequired(_)
            | AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AdminError::Conflict(_) | AdminError::State { .. } => StatusCode::CONFLICT,
            AdminError::Store(_) | AdminError::Keyring(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        count(&error);
        if status.is_server_error() {
            // The cause goes to the log, not to the client.
            tracing::error!(error = %error, "admin operation failed");
            return ApiError::new(status, "internal", "the operation failed; try again");
        }
        let mut api = ApiError::new(status, error.code(), error.to_string());
        if let AdminError::Locked { retry_after_secs } = error {
            api.retry_after = Some(retry_after_secs);
        }
        api
    }
}

/// Prometheus counters of security events (docs/security.md has alert
/// rules on them).
fn count(error: &AdminError) {
    let name = match error {
        AdminError::BadCredentials => "nexaguard_admin_login_failures_total",
        AdminError::Locked { .. } => "nexaguard_admin_locked_refusals_total",
        AdminError::BadCode | AdminError::ReplayedCode => "nexaguard_admin_mfa_failures_total",
        AdminError::Forbidden(_)
        | AdminError::MfaRequired
        | AdminError::MfaEnrolmentRequired
        | AdminError::ScopeRequired(_)
        | AdminError::ReauthenticationRequired => "nexaguard_admin_forbidden_total",
        _ => return,
    };
    metrics::counter!(name).increment(1);
    tracing::warn!(target: "security", event = error.code(), "admin request refused");
}
