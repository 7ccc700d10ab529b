//! Extractors whose refusals are the error table's JSON answers, never
//! axum's plain-text rejections.
//!
//! Invariant: a handler that takes its path parameters through
//! [`PathParams`] answers a path that cannot be read (a segment that is not
//! UTF-8 once percent-decoded) like any unknown path: `404 not_found` in
//! JSON, without the parser's words.

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The path parameters as `T`, like [`axum::extract::Path`], refused with
/// [`ApiError`]'s wording.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParams(value))
            .map_err(ApiError::from)
    }
}
