//! The caller's own session: sign in, who am I, the second factor's code,
//! a new password, sign out.
//!
//! Invariant: an answer that starts a session or gives it a new id sets the
//! cookie and carries the CSRF token of that very session
//! ([`WithSession`]); an answer that ends sessions clears the cookie
//! ([`SignedOut`]).

use super::users::UserView;
use crate::admin::answer::{named, SignedOut, WithSession};
use crate::admin::extract::{AdminJson, AdminService, Caller, ClientNetwork, RequestBody};
use crate::admin::guard::SessionCookie;
use crate::admin::rules;
use crate::error::ApiError;
use axum::Json;
use nexaguard_access::{csrf_token, Permission, Role};
use nexaguard_admin::auth::NextStep;
use nexaguard_admin::AdminError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The account's e-mail address.
    pub email: String,
    /// Its password.
    pub password: String,
    /// A code of the second factor: finishes it in one step, and is what
    /// opens an account locked after repeated failures.
    #[serde(default)]
    pub code: Option<String>,
}

/// A code of the second factor: a TOTP code, or a recovery code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// The code.
    pub code: String,
}

/// A new password for the caller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one: 12 characters or more, at most 1024 bytes.
    #[schema(schema_with = rules::new_password)]
    pub new_password: String,
}

impl RequestBody for Credentials {}
impl RequestBody for Code {}
impl RequestBody for PasswordChange {}

/// A session started, or its second factor given.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// What the session must do before it may act.
    pub next: NextStep,
    /// The CSRF token cookie-authenticated changes send in `X-CSRF-Token`.
    pub csrf_token: String,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Whoami {
    /// The signed-in user; `null` for an API token.
    pub user: Option<UserView>,
    /// The role acted with.
    pub role: Role,
    /// The tenant acted in; `null` for the platform operator.
    pub tenant: Option<Uuid>,
    /// What the session must do before it may act.
    pub next: NextStep,
    /// What the role may do.
    pub permissions: Vec<Permission>,
    /// The session's CSRF token; `null` for an API token.
    pub csrf_token: Option<String>,
}

named!(Credentials, Code, PasswordChange, SignedIn, Whoami);

/// `POST /session`.
pub async fn login(
    AdminService(admin): AdminService,
    ClientNetwork(network): ClientNetwork,
    AdminJson(credentials): AdminJson<Credentials>,
) -> Result<WithSession<SignedIn>, ApiError> {
    let signed_in = admin
        .login(
            &credentials.email,
            &credentials.password,
            credentials.code.as_deref(),
            Some(network),
        )
        .await?;
    let csrf_token = csrf_token(admin.csrf_key(), &signed_in.session);
    Ok(WithSession {
        session: signed_in.session,
        body: SignedIn {
            next: signed_in.next,
            csrf_token,
        },
    })
}

/// `GET /session`.
pub async fn whoami(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    cookie: Option<SessionCookie>,
) -> Result<Json<Whoami>, ApiError> {
    let next = match principal.require_mfa_done() {
        Ok(()) => NextStep::Ready,
        Err(AdminError::MfaRequired) => NextStep::MfaCode,
        Err(_) => NextStep::MfaEnrolment,
    };
    Ok(Json(Whoami {
        user: admin.me(&principal).await?.map(UserView::from),
        role: principal.role,
        tenant: principal.tenant.map(|t| t.0),
        next,
        permissions: principal.role.permissions().to_vec(),
        csrf_token: cookie.map(|SessionCookie(s)| csrf_token(admin.csrf_key(), &s)),
    }))
}

/// `DELETE /session`.
pub async fn logout(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<SignedOut, ApiError> {
    admin.logout(&principal).await?;
    Ok(SignedOut)
}

/// `POST /session/mfa`.
pub async fn verify_mfa(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(Code { code }): AdminJson<Code>,
) -> Result<WithSession<SignedIn>, ApiError> {
    let session = admin.verify_mfa(&principal, &code).await?;
    let csrf_token = csrf_token(admin.csrf_key(), &session);
    Ok(WithSession {
        session,
        body: SignedIn {
            next: NextStep::Ready,
            csrf_token,
        },
    })
}

/// `POST /password`: every session of the user ends, this one too.
pub async fn change_password(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(change): AdminJson<PasswordChange>,
) -> Result<SignedOut, ApiError> {
    admin
        .change_password(&principal, &change.current_password, &change.new_password)
        .await?;
    Ok(SignedOut)
}
