//! The one error shape every API answer uses:
//! `{"error": {"code": "...", "message": "..."}}` with a 4xx or 5xx status.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
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

impl From<QueryRejection> for ApiError {
    /// 400 `invalid_query`, in words: axum's text would show its own
    /// preamble and serde's Rust type names.
    fn from(rejection: QueryRejection) -> Self {
        let text = rejection.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or_default();
        // serde_path_to_error puts the parameter's path before ": "; a
        // message of its own has spaces before any colon.
        let (path, message) = match detail.split_once(": ") {
            Some((path, message))
                if !path.is_empty()
                    && path
                        .chars()
                        .all(|c| c.is_alphanumeric() || "._[]".contains(c)) =>
            {
                (path.trim_start_matches('.'), message)
            }
            _ => ("", detail),
        };
        ApiError::bad_request(
            "invalid_query",
            crate::body::shape_message(message, path, "the query string", "parameter"),
        )
    }
}

impl From<PathRejection> for ApiError {
    /// A path segment that does not decode (invalid UTF-8 once
    /// percent-decoded) names nothing that exists: 404 `not_found`, like
    /// any other unknown path. The other rejections are mistakes in a
    /// route's declaration, not in the request.
    fn from(rejection: PathRejection) -> Self {
        let input = match &rejection {
            PathRejection::FailedToDeserializePathParams(e) => !matches!(
                e.kind(),
                ErrorKind::WrongNumberOfParameters { .. } | ErrorKind::UnsupportedType { .. }
            ),
            _ => false,
        };
        if input {
            return ApiError::not_found("not_found", "no such resource");
        }
        tracing::error!(error = %rejection.body_text(), "a route's path parameters do not fit its handler");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request could not be handled",
        )
    }
}

#[cfg(test)]
mod rejection_tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use axum::extract::Query;
    use axum::http::Uri;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<u32>,
        id: Option<uuid::Uuid>,
    }

    fn refused(uri: &str) -> ApiError {
        match Query::<Params>::try_from_uri(&uri.parse::<Uri>().unwrap()) {
            Ok(Query(params)) => panic!("{uri} was accepted: {params:?}"),
            Err(rejection) => ApiError::from(rejection),
        }
    }

    #[test]
    fn a_bad_query_parameter_is_named_without_axum_or_serde_internals() {
        for (uri, words) in [
            ("/x?limit=ten", &["`limit`", "whole number"][..]),
            ("/x?limit=-1", &["`limit`", "whole number"][..]),
            ("/x?id=123", &["`id`", "UUID"][..]),
            (
                "/x?surprise=1",
                &["`surprise`", "not a known parameter"][..],
            ),
        ] {
            let error = refused(uri);
            assert_eq!(error.status, StatusCode::BAD_REQUEST);
            assert_eq!(error.code, "invalid_query");
            for internal in ["Failed to deserialize", "u32", "Uuid", "Params", "::"] {
                assert!(
                    !error.message.contains(internal),
                    "{uri}: {:?} shows {internal:?}",
                    error.message
                );
            }
            for word in words {
                assert!(error.message.contains(word), "{uri}: {}", error.message);
            }
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
