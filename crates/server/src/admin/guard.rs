//! The guard in front of every admin handler: rate limit, Origin and CSRF
//! checks, authentication, and the route's declared access.
//!
//! Invariant: a change (any method but GET and HEAD) from a browser is
//! served only when the browser says it comes from one of the server's
//! configured origins (`Origin`, `Sec-Fetch-Site`); cookie-authenticated
//! changes must also say so explicitly and carry the CSRF token.

use super::Access;
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::client_ip;
use crate::ratelimit::Network;
use crate::settings::PublicOrigins;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use nexaguard_access::{verify_csrf, ApiTokenSecret, SessionSecret};
use nexaguard_admin::{AdminError, Principal};
use nexaguard_audit::{Action, Outcome};
use serde_json::json;
use std::net::SocketAddr;

/// The session cookie. The `__Host-` prefix makes browsers refuse it
/// unless it is Secure, has Path=/ and no Domain: no subdomain can set or
/// read it.
pub const SESSION_COOKIE: &str = "__Host-nexaguard_session";

/// The header cookie-authenticated changes carry the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session secret of a cookie-authenticated request (to derive the
/// CSRF token the console needs).
#[derive(Debug, Clone)]
pub struct SessionCookie(pub SessionSecret);

/// Runs the checks; on routes that are not `Public` the handler finds the
/// [`Principal`] (and, for a cookie, the [`SessionCookie`]) in the request
/// extensions.
///
/// Whatever the handler leaves of the request body (all of it when the
/// guard refuses) is read away by the edge before the answer goes out
/// (`crate::body`'s invariant).
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let mut request = request;
    match authorize(&state, access, peer, &mut request).await {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    access: Access,
    peer: SocketAddr,
    request: &mut Request,
) -> Result<(), ApiError> {
    let Some(http) = state.admin.as_ref() else {
        return Err(ApiError::not_found(
            "not_found",
            "the admin API is not enabled",
        ));
    };
    let ip = client_ip(state, request.headers(), peer);
    let network = Network::of(ip).to_string();
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes {
        check_origin(&state.public, request.headers(), false)?;
    }
    if access == Access::Public {
        if let Err(wait) = http.limiter.check(ip).await {
            metrics::counter!("nexaguard_admin_rate_limited_total").increment(1);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts from your network; wait and retry",
            );
            error.retry_after = Some(wait.as_secs().max(1));
            return Err(error);
        }
        return Ok(());
    }
    let (principal, cookie) = authenticate(http, request.headers(), network).await?;
    if let Some(session) = &cookie {
        if changes {
            check_origin(&state.public, request.headers(), true)?;
            let presented = request
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !verify_csrf(http.admin.csrf_key(), session, presented) {
                metrics::counter!("nexaguard_admin_forbidden_total").increment(1);
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token header",
                ));
            }
        }
    }
    if let Access::Permission(permission) = access {
        if let Err(error) = principal.require(permission) {
            if matches!(error, AdminError::Forbidden(_)) {
                let target = format!("{} {}", request.method(), request.uri().path());
                audit_denied(http, &principal, target).await;
            }
            return Err(error.into());
        }
    }
    if let Some(session) = cookie {
        request.extensions_mut().insert(SessionCookie(session));
    }
    request.extensions_mut().insert(principal);
    Ok(())
}

/// An API token from `Authorization: Bearer`, else the session cookie.
async fn authenticate(
    http: &super::AdminHttp,
    headers: &HeaderMap,
    network: String,
) -> Result<(Principal, Option<SessionSecret>), ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|v| ApiTokenSecret::parse(v.trim()))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "the Authorization header must be `Bearer ngt_...`",
                )
            })?;
        let principal = http.admin.authenticate_token(&token, Some(network)).await?;
        return Ok((principal, None));
    }
    let session = session_cookie(headers).ok_or(AdminError::Unauthenticated)?;
    let principal = http
        .admin
        .authenticate_session(&session, Some(network))
        .await?;
    Ok((principal, Some(session)))
}

/// The session secret from the `Cookie` header, if well-formed.
pub fn session_cookie(headers: &HeaderMap) -> Option<SessionSecret> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionSecret::parse(value))
}

/// The fetch metadata header: which site the browser says started the request.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Whether a change comes from this server's own pages. Browsers send
/// `Origin` on every cross-site and same-site change, and
/// `Sec-Fetch-Site` on every request: when present, `Origin` must be one
/// of the configured origins (never compared with the request's `Host`,
/// which the client chooses), and `Sec-Fetch-Site` must be `same-origin`
/// or `none` (a request the user started from the address bar or a
/// bookmark, which no other site can make). A client that sends neither
/// is not a browser (curl, the CLI, a script) and carries no ambient
/// cookie of a victim, so it passes unless `required` (cookie-authenticated
/// changes) asks for an `Origin`.
pub(crate) fn check_origin(
    public: &PublicOrigins,
    headers: &HeaderMap,
    required: bool,
) -> Result<(), ApiError> {
    let origin_ok = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().is_ok_and(|o| public.allows_origin(o)),
        None => !required,
    };
    let site_ok = match headers.get(SEC_FETCH_SITE) {
        Some(site) => matches!(site.as_bytes(), b"same-origin" | b"none"),
        None => true,
    };
    if origin_ok && site_ok {
        return Ok(());
    }
    metrics::counter!("nexaguard_admin_forbidden_total").increment(1);
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "origin",
        "changes must come from this server's own pages (Origin or Sec-Fetch-Site names another site)",
    ))
}

async fn audit_denied(http: &super::AdminHttp, principal: &Principal, target: String) {
    let entry = principal.audit_outcome(
        Action::AccessDenied,
        target,
        Outcome::Denied,
        json!({"role": principal.role.as_str()}),
    );
    if let Err(error) = http.admin.store().append_audit(entry).await {
        tracing::warn!(%error, "auditing a refused request failed");
    }
}
