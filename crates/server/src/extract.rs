//! Extractors whose refusals are the error table's JSON answers, never
//! axum's plain-text rejections; and the client's address, read the same
//! way by every route that needs it (rate limits, regions, sign-in).
//!
//! Invariant: a handler that takes its path parameters through
//! [`PathParams`] answers a path that cannot be read (a segment that is not
//! UTF-8 once percent-decoded) like any unknown path: `404 not_found` in
//! JSON, without the parser's words.
//!
//! Invariant: the client's address is read in one place, [`client_ip`]
//! (also behind [`ClientIp`]), so that the rate limits, the audit log's
//! networks and the regions agree on who the client is.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

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

/// The client's address, as [`client_ip`] reads it, for handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                // The listener always provides the peer; without it the
                // router was served without connect info, a bug.
                tracing::error!(error = %rejection.body_text(), "no peer address on the request");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the request could not be handled",
                )
            })?;
        Ok(ClientIp(client_ip(state, &parts.headers, peer)))
    }
}

/// The client's address: the TCP peer, or behind a proxy the address the
/// proxy appended last to `X-Forwarded-For` (the one hop we trust).
pub(crate) fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.behind_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}
