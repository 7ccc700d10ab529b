//! The one error shape every API answer uses:
//! `{"error": {"code": "...", "message": "..."}}` with a 4xx or 5xx status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexaguard_consent::check::EventError;
use nexaguard_store::StoreError;
use serde::Serialize;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// Seconds to wait, for 429 and 503.
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable machine-readable code.
    code: String,
    /// A sentence for people.
    message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: the thing named does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 422: well-formed but not acceptable.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        ApiError::unprocessable(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        // The cause goes to the log, not to the client.
        tracing::error!(error = %e, "store failure");
        match e {
            StoreError::Closed => {
                let mut err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting_down",
                    "the server is shutting down; retry with the same eventId",
                );
                err.retry_after = Some(1);
                err
            }
            e if e.is_unavailable() => {
                let mut err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the database is unavailable or overloaded; retry with the same eventId",
                );
                err.retry_after = Some(2);
                err
            }
            _ => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the consent could not be stored; retry with the same eventId",
            ),
        }
    }
}

#[cfg(test)]
mod store_error_tests {
    use super::*;

    #[test]
    fn an_unavailable_store_is_a_503_with_retry_after_and_a_bug_a_500() {
        let overloaded = ApiError::from(StoreError::Overloaded);
        assert_eq!(overloaded.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(overloaded.code, "store_unavailable");
        assert!(overloaded.retry_after.is_some());
        let down = ApiError::from(StoreError::Database(sqlx::Error::PoolTimedOut));
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        let corrupt = ApiError::from(StoreError::Corrupt("x".to_owned()));
        assert_eq!(corrupt.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
