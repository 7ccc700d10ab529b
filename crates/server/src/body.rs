//! Reading JSON request bodies with one set of clear errors: 415 for
//! another media type, 413 past the size limit, 400 for broken JSON, 422
//! for JSON of the wrong shape (unknown fields included).

use crate::error::ApiError;
use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// Parses an `application/json` body of at most `max` bytes. `what` names
/// the thing for the 415 message ("the event"); `invalid` is the code of a
/// shape error.
pub async fn json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    what: &str,
    invalid: &'static str,
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send {what} as application/json"),
        ));
    }
    let bytes = to_bytes(body, max).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("{what} must be at most {max} bytes"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::unprocessable(invalid, e.to_string()),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("invalid_json", e.to_string())
            }
        }
    })
}
