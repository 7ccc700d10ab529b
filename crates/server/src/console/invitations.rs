//! `/admin/invitations/accept`: the page an invitation link opens (no
//! sign-in): choose a password, the account is made, and the new user is
//! signed in as with the sign-in form.

use super::auth::start;
use super::layout;
use super::session::{error_page, lenient_query, no_store, public_attempt, public_form, Refusal};
use crate::app::AppState;
use crate::extract::client_ip;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::InvitationSecret;
use nexaguard_admin::AdminError;
use serde::Deserialize;
use std::net::SocketAddr;

const ACCEPT: &str = "/admin/invitations/accept";

/// The invitation route.
pub fn router() -> Router<AppState> {
    Router::new().route(ACCEPT, get(form).post(accept))
}

#[derive(Deserialize, Default)]
struct TokenQuery {
    token: Option<String>,
}

/// `GET /admin/invitations/accept?token=...`.
async fn form(uri: Uri) -> Response {
    let query: TokenQuery = lenient_query(&uri);
    match query.token.as_deref().map(str::trim) {
        Some(token) if InvitationSecret::parse(token).is_some() => {
            no_store(accept_page(token, None).into_response())
        }
        _ => invalid_link(),
    }
}

fn invalid_link() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "This invitation link is not valid. Ask for a new invitation.",
    )
}

fn accept_page(token: &str, error: Option<&str>) -> Markup {
    layout::page(
        "Accept the invitation",
        html! {
            h1 { "Accept the invitation" }
            p { "Choose a password for your new account. You sign in with the e-mail address you were invited with." }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action=(ACCEPT) {
                input type="hidden" name="token" value=(token);
                label for="password" { "New password" }
                p.hint #password-hint { "At least 12 characters; a sentence you remember is fine." }
                input #password type="password" name="password" autocomplete="new-password" required minlength="12" aria-describedby="password-hint";
                label for="repeat" { "The password again" }
                input #repeat type="password" name="repeat" autocomplete="new-password" required;
                button type="submit" { "Create account" }
            }
        },
    )
}

#[derive(Deserialize)]
struct Acceptance {
    token: String,
    password: String,
    repeat: String,
}

/// `POST /admin/invitations/accept`: the API's per-network limit (a public
/// route), the account, then a session as after the sign-in form.
async fn accept(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<Acceptance>,
) -> Response {
    let http = match public_form(&state, &uri, &headers) {
        Ok(http) => http,
        Err(refused) => return refused.into_response(),
    };
    let token = form.token.trim();
    let Some(secret) = InvitationSecret::parse(token) else {
        return invalid_link();
    };
    let again = |status: StatusCode, message: &str| {
        no_store((status, accept_page(token, Some(message))).into_response())
    };
    if form.password != form.repeat {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords differ. Type the same password twice.",
        );
    }
    let network = match public_attempt(http, client_ip(&state, &headers, peer)).await {
        Ok(network) => network,
        Err(message) => return again(StatusCode::TOO_MANY_REQUESTS, &message),
    };
    let user = match http
        .admin
        .accept_invitation(&secret, &form.password, Some(network.clone()))
        .await
    {
        Ok(user) => user,
        // A weak password, or an invitation past its date.
        Err(AdminError::Invalid { message, .. } | AdminError::State { message, .. }) => {
            return again(StatusCode::UNPROCESSABLE_ENTITY, &message);
        }
        Err(AdminError::NotFound(_)) => return invalid_link(),
        Err(error) => return Refusal::from(error).into_response(),
    };
    match http
        .admin
        .login(&user.email, &form.password, None, Some(network))
        .await
    {
        Ok(signed_in) => start(&signed_in),
        Err(error) => Refusal::from(error).into_response(),
    }
}
