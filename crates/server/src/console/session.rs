//! Who is using the console: the admin session from the same cookie the
//! admin API uses, with the checks a page or a form needs.

use super::layout;
use crate::admin::guard::{check_origin, session_cookie};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::client_ip;
use crate::ratelimit::Network;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use nexaguard_access::{csrf_token, verify_csrf, Permission, SessionSecret};
use nexaguard_admin::{Admin, AdminError, Principal};
use std::net::SocketAddr;
use std::sync::Arc;

/// The sign-in page, where a request without a valid session is sent.
pub const LOGIN: &str = "/admin/login";
/// The second-factor page, where a session with the factor pending is sent.
pub const MFA: &str = "/admin/mfa";
/// The name of the hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in console user. Extracting it redirects to the sign-in page
/// when there is no valid session (with `?expired=1` when it ran out).
pub struct Console {
    /// The administration service.
    pub admin: Arc<Admin>,
    /// The user, tenant and role.
    pub principal: Principal,
    /// The CSRF token every form of the page must carry in [`CSRF_FIELD`].
    pub csrf: String,
    session: SessionSecret,
    /// The server's own origins, which form posts must come from.
    origins: crate::settings::PublicOrigins,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let Some(http) = state.admin.as_ref() else {
            return Err(Refusal::Page(
                StatusCode::NOT_FOUND,
                "The admin console is not enabled on this server.".into(),
            ));
        };
        let Some(session) = session_cookie(&parts.headers) else {
            return Err(Refusal::Redirect(LOGIN.into()));
        };
        let network = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| Network::of(client_ip(state, &parts.headers, *peer)));
        let principal = match http
            .admin
            .authenticate_session(&session, network.map(|n| n.to_string()))
            .await
        {
            Ok(principal) => principal,
            Err(AdminError::SessionExpired(_)) => {
                return Err(Refusal::Redirect(format!("{LOGIN}?expired=1")))
            }
            Err(AdminError::Unauthenticated) => return Err(Refusal::Redirect(LOGIN.into())),
            Err(error) => return Err(error.into()),
        };
        Ok(Console {
            admin: Arc::clone(&http.admin),
            csrf: csrf_token(http.admin.csrf_key(), &session),
            principal,
            session,
            origins: state.public.clone(),
        })
    }
}

impl Console {
    /// Whether the user may do `permission`: sends a session with the
    /// second factor pending to the MFA page, and answers 403 otherwise.
    pub fn require(&self, permission: Permission) -> Result<(), Refusal> {
        if self.principal.require_mfa_done().is_err() {
            return Err(Refusal::Redirect(MFA.into()));
        }
        self.principal.require(permission).map_err(Refusal::from)
    }

    /// The hidden form field with this session's CSRF token.
    pub fn csrf_input(&self) -> maud::Markup {
        maud::html! { input type="hidden" name=(CSRF_FIELD) value=(self.csrf); }
    }

    /// Whether the user may do `permission` now, to decide which controls a
    /// page shows (the action checks again).
    pub fn may(&self, permission: Permission) -> bool {
        self.principal.require(permission).is_ok()
    }

    /// The server's public URL (no final `/`), the base of every absolute
    /// link a page writes: never the request's own `Host` or `Origin`.
    pub fn public_url(&self) -> String {
        self.origins.base_url()
    }

    /// Whether `permission`'s sensitive action would ask for the second
    /// factor again (the page then asks for a code with the form).
    pub fn needs_step_up(&self, permission: Permission) -> bool {
        matches!(
            self.principal
                .require_step_up(permission, time::OffsetDateTime::now_utc()),
            Err(AdminError::StepUpRequired)
        )
    }

    /// Gives the second factor again when the form carried a `code`: the
    /// session gets a new id (returned, for the cookie) and this console
    /// acts with the fresh proof. Without a code nothing changes, and the
    /// action itself refuses if a step-up is due.
    pub async fn step_up(&mut self, code: &str) -> Result<Option<SessionSecret>, Refusal> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(None);
        }
        let fresh = self.admin.verify_mfa(&self.principal, code).await?;
        self.principal = self
            .admin
            .authenticate_session(&fresh, self.principal.network.clone())
            .await?;
        self.csrf = csrf_token(self.admin.csrf_key(), &fresh);
        self.session = fresh.clone();
        Ok(Some(fresh))
    }

    /// The checks every form post needs: an `Origin` that is this server's
    /// own, and the session's CSRF token in the form's [`CSRF_FIELD`].
    pub fn check_form(&self, _uri: &Uri, headers: &HeaderMap, csrf: &str) -> Result<(), Refusal> {
        check_origin(&self.origins, headers, true).map_err(Refusal::from)?;
        if verify_csrf(self.admin.csrf_key(), &self.session, csrf) {
            Ok(())
        } else {
            metrics::counter!("nexaguard_admin_forbidden_total").increment(1);
            Err(Refusal::Page(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this console. Reload the page and try again."
                    .into(),
            ))
        }
    }
}

/// Why a console request is not served: a redirect (to sign in, or to
/// give the second factor) or an error page.
#[derive(Debug)]
pub enum Refusal {
    /// Go to this path.
    Redirect(String),
    /// An error page with this status and message.
    Page(StatusCode, String),
}

impl From<AdminError> for Refusal {
    /// The status and message the admin API would give (server faults keep
    /// their cause in the log).
    fn from(error: AdminError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal::Page(error.status, error.message)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Redirect(to) => Redirect::to(&to).into_response(),
            Refusal::Page(status, message) => error_page(status, &message),
        }
    }
}

/// `response` with the session cookie of `session` when there is a new one.
pub fn with_cookie(mut response: Response, session: Option<&SessionSecret>) -> Response {
    if let Some(session) = session {
        response.headers_mut().insert(
            axum::http::header::SET_COOKIE,
            crate::admin::answer::session_cookie(session),
        );
    }
    response
}

/// The answer to a sensitive form: `result`, or back to the form at `back`
/// when the second factor is due again (the form then asks for a code),
/// with the new session cookie when the form gave a code (the old session
/// id no longer works, whatever the action's outcome).
pub fn finish_sensitive(
    result: Result<Response, AdminError>,
    fresh: Option<&SessionSecret>,
    back: &str,
) -> Response {
    let response = match result {
        Ok(response) => response,
        Err(AdminError::StepUpRequired) => see_other(back),
        Err(error) => Refusal::from(error).into_response(),
    };
    with_cookie(response, fresh)
}

/// The query string of a page; a malformed one counts as empty (pages
/// only read optional notices and filters from it).
pub fn lenient_query<T: serde::de::DeserializeOwned + Default>(uri: &Uri) -> T {
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|axum::extract::Query(q)| q)
        .unwrap_or_default()
}

/// `response` marked for no cache to keep: the answers that show a secret
/// once (recovery codes, invitation links, token secrets).
pub fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// 303 See Other to `to`: the answer to every successful form post.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A whole page with `message`, answered with `status`.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = maud::html! {
        h1 { (title) }
        p.error role="alert" { (message) }
        p { a href="/admin/" { "Back to the console" } }
    };
    (status, layout::page(title, body)).into_response()
}

/// The admin side of a public console form (sign-in, accepting an
/// invitation): a page saying the console is off, or a post from another
/// site (`Origin` or `Sec-Fetch-Site`), refuse it before anything else.
pub fn public_form<'a>(
    state: &'a AppState,
    _uri: &Uri,
    headers: &HeaderMap,
) -> Result<&'a crate::admin::AdminHttp, Refusal> {
    let Some(http) = state.admin.as_ref() else {
        return Err(Refusal::Page(
            StatusCode::NOT_FOUND,
            "The admin console is not enabled.".into(),
        ));
    };
    check_origin(&state.public, headers, false)?;
    Ok(http)
}

/// The per-network limit the admin API's public routes share, for a public
/// console form from `ip`: the client's network (for the audit log), or
/// the sentence to show when the network must wait.
pub async fn public_attempt(
    http: &crate::admin::AdminHttp,
    ip: std::net::IpAddr,
) -> Result<String, String> {
    match http.limiter.check(ip).await {
        Ok(()) => Ok(Network::of(ip).to_string()),
        Err(wait) => {
            metrics::counter!("nexaguard_admin_rate_limited_total").increment(1);
            Err(format!(
                "Too many attempts from your network. Wait {} seconds and try again.",
                wait.as_secs().max(1)
            ))
        }
    }
}
