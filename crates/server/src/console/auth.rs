//! Signing in and out, the second factor, and its first enrolment: the
//! same calls as the admin API's session routes, with pages instead of JSON.

use super::layout;
use super::qr;
use super::session::{
    lenient_query, no_store, public_attempt, public_form, see_other, with_cookie, Console, Refusal,
    LOGIN,
};
use crate::admin::answer::{cleared_cookie, session_cookie};
use crate::app::AppState;
use crate::extract::client_ip;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_admin::auth::{Enrolment, NextStep, Reauthentication, SignedIn};
use nexaguard_admin::{AdminError, Authentication};
use serde::Deserialize;
use std::net::SocketAddr;

/// The sign-in, second-factor and sign-out routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(LOGIN, get(login_form).post(login))
        .route("/admin/mfa", get(mfa_form).post(mfa))
        .route("/admin/mfa/enrol", get(enrol_form).post(enrol))
        .route("/admin/mfa/replace", post(replace))
        .route("/admin/logout", post(logout))
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    expired: Option<String>,
    signed_out: Option<String>,
}

/// `GET /admin/login`.
async fn login_form(uri: Uri) -> Markup {
    let query: LoginQuery = lenient_query(&uri);
    let notice = if query.expired.is_some() {
        Some("Your session expired. Sign in again.")
    } else if query.signed_out.is_some() {
        Some("You are signed out.")
    } else {
        None
    };
    login_page(notice, None, "")
}

/// The sign-in page. After a failure it also asks for an optional code:
/// an account locked by repeated failures opens with the password and a
/// current code. Every failure shows it, so that it tells nothing about
/// the account.
fn login_page(notice: Option<&str>, error: Option<&str>, email: &str) -> Markup {
    layout::page(
        "Sign in",
        html! {
            h1 { "Sign in" }
            @if let Some(notice) = notice { p.notice role="status" { (notice) } }
            @if let Some(error) = error { p.error role="alert" #login-error { (error) } }
            form.stack method="post" action=(LOGIN) {
                label for="email" { "E-mail address" }
                input #email type="email" name="email" value=(email) autocomplete="username" required;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                @if error.is_some() {
                    label for="login-code" { "Code from your authenticator (if you have one)" }
                    input #login-code name="code" autocomplete="one-time-code" inputmode="numeric";
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
    #[serde(default)]
    code: Option<String>,
}

/// `POST /admin/login`: the API's per-network limit, then the password.
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    let http = match public_form(&state, &uri, &headers) {
        Ok(http) => http,
        Err(refused) => return refused.into_response(),
    };
    let network = match public_attempt(http, client_ip(&state, &headers, peer)).await {
        Ok(network) => network,
        Err(message) => {
            let page = login_page(None, Some(&message), &form.email);
            return (StatusCode::TOO_MANY_REQUESTS, page).into_response();
        }
    };
    match http
        .admin
        .login(
            &form.email,
            &form.password,
            form.code.as_deref(),
            Some(network),
        )
        .await
    {
        Ok(signed_in) => start(&signed_in),
        Err(error) => match sign_in_failure(error) {
            Ok((status, message)) => {
                (status, login_page(None, Some(&message), &form.email)).into_response()
            }
            Err(refusal) => refusal.into_response(),
        },
    }
}

/// The answer to a successful password: the session cookie, and on to
/// the console or to the second factor the session still needs.
pub(super) fn start(signed_in: &SignedIn) -> Response {
    let to = match signed_in.next {
        NextStep::Ready => "/admin/",
        NextStep::MfaCode => "/admin/mfa",
        NextStep::MfaEnrolment => "/admin/mfa/enrol",
    };
    with_cookie(see_other(to), Some(&signed_in.session))
}

/// The status and message for a failed password or code, in the user's
/// words; anything else is refused as the API would.
fn sign_in_failure(error: AdminError) -> Result<(StatusCode, String), Refusal> {
    Ok(match error {
        AdminError::BadCredentials => (
            StatusCode::UNAUTHORIZED,
            "Wrong e-mail address or password. After repeated failed attempts, \
             also give the current code from your authenticator app."
                .to_owned(),
        ),
        AdminError::Locked { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed attempts: this account is locked for now. \
                 Try again in {retry_after_secs} seconds."
            ),
        ),
        AdminError::BadCode | AdminError::Invalid { .. } => (
            StatusCode::UNAUTHORIZED,
            "That code is not valid. Check your authenticator and try again.".to_owned(),
        ),
        AdminError::ReplayedCode => (
            StatusCode::UNAUTHORIZED,
            "That code was already used. Wait for the next one.".to_owned(),
        ),
        other => return Err(other.into()),
    })
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

/// Only a console path may be the target after the code: no open redirect.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with("/admin/") && !path.starts_with("//") => path,
        _ => "/admin/",
    }
}

/// `GET /admin/mfa`: the code of the second factor, at sign-in or again
/// before a sensitive action (`?next=` the page to return to).
async fn mfa_form(console: Console, uri: Uri) -> Markup {
    let query: NextQuery = lenient_query(&uri);
    mfa_page(&console, safe_next(query.next.as_deref()), None)
}

fn mfa_page(console: &Console, next: &str, error: Option<&str>) -> Markup {
    let step_up = console.principal.require_mfa_done().is_ok();
    layout::page(
        "Second factor",
        html! {
            h1 { "Second factor" }
            @if step_up {
                p { "Confirm it is you: enter a current code before this action." }
            } @else {
                p { "Enter the six-digit code from your authenticator app, or one of your recovery codes." }
            }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action="/admin/mfa" {
                (console.csrf_input())
                input type="hidden" name="next" value=(next);
                label for="code" { "Code" }
                input #code name="code" autocomplete="one-time-code" inputmode="text" required;
                button type="submit" { "Continue" }
            }
            form method="post" action="/admin/logout" {
                (console.csrf_input())
                button.link type="submit" { "Sign out" }
            }
        },
    )
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    code: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /admin/mfa`.
async fn mfa(
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(refusal) = console.check_form(&uri, &headers, &form.csrf) {
        return refusal.into_response();
    }
    let next = safe_next(form.next.as_deref());
    match console
        .admin
        .verify_mfa(&console.principal, form.code.trim())
        .await
    {
        Ok(session) => with_cookie(see_other(next), Some(&session)),
        Err(error) => match sign_in_failure(error) {
            Ok((status, message)) => {
                (status, mfa_page(&console, next, Some(&message))).into_response()
            }
            Err(refusal) => refusal.into_response(),
        },
    }
}

/// `GET /admin/mfa/enrol`: a new TOTP secret as a QR code and as text;
/// for a user who has a factor, the form that replaces it (the password
/// and a current code first, as the API asks).
async fn enrol_form(console: Console) -> Result<Response, Refusal> {
    if has_factor(&console) {
        return Ok(no_store(replace_page(&console, None).into_response()));
    }
    let label = account_label(&console).await?;
    let enrolment = console
        .admin
        .start_enrolment(&console.principal, &label, None)
        .await?;
    show_offer(&console, &enrolment, None)
}

/// Whether the signed-in user has a second factor already.
fn has_factor(console: &Console) -> bool {
    matches!(
        console.principal.auth,
        Authentication::Session {
            mfa_enrolled: true,
            ..
        }
    )
}

async fn account_label(console: &Console) -> Result<String, Refusal> {
    console
        .admin
        .me(&console.principal)
        .await?
        .map(|user| user.email)
        .ok_or_else(|| Refusal::Page(StatusCode::FORBIDDEN, "Only users enrol.".into()))
}

/// The page of an offered secret.
fn show_offer(
    console: &Console,
    enrolment: &Enrolment,
    error: Option<&str>,
) -> Result<Response, Refusal> {
    let qr = qr::svg_data_uri(&enrolment.provisioning_uri)
        .map_err(|message| Refusal::Page(StatusCode::INTERNAL_SERVER_ERROR, message))?;
    let page = enrol_page(console, &qr, &enrolment.secret_base32, error);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(no_store((status, page).into_response()))
}

fn replace_page(console: &Console, error: Option<&str>) -> Markup {
    layout::page(
        "Replace your second factor",
        html! {
            h1 { "Replace your second factor" }
            p { "Setting up a new authenticator replaces the one you have, gives you new recovery codes and signs you out everywhere else. Confirm it is you with your password and a current code (or a recovery code if you lost your authenticator)." }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action="/admin/mfa/replace" {
                (console.csrf_input())
                label for="replace-password" { "Password" }
                input #replace-password type="password" name="password" autocomplete="current-password" required;
                label for="replace-code" { "Current code" }
                input #replace-code name="code" autocomplete="one-time-code" inputmode="text" required;
                button type="submit" { "Continue" }
            }
            p { a href="/admin/" { "Cancel" } }
        },
    )
}

#[derive(Deserialize)]
struct ReplaceForm {
    csrf: String,
    password: String,
    code: String,
}

/// `POST /admin/mfa/replace`: the password and a current code, then the
/// new secret to scan.
async fn replace(
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<ReplaceForm>,
) -> Response {
    if let Err(refusal) = console.check_form(&uri, &headers, &form.csrf) {
        return refusal.into_response();
    }
    let label = match account_label(&console).await {
        Ok(label) => label,
        Err(refusal) => return refusal.into_response(),
    };
    let proof = Reauthentication {
        password: &form.password,
        code: &form.code,
    };
    match console
        .admin
        .start_enrolment(&console.principal, &label, Some(proof))
        .await
    {
        Ok(enrolment) => {
            show_offer(&console, &enrolment, None).unwrap_or_else(IntoResponse::into_response)
        }
        Err(AdminError::BadCredentials) => (
            StatusCode::UNAUTHORIZED,
            replace_page(&console, Some("Wrong password.")),
        )
            .into_response(),
        Err(error) => match sign_in_failure(error) {
            Ok((status, message)) => {
                (status, replace_page(&console, Some(&message))).into_response()
            }
            Err(refusal) => refusal.into_response(),
        },
    }
}

fn enrol_page(console: &Console, qr: &str, secret: &str, error: Option<&str>) -> Markup {
    layout::page(
        "Set up your second factor",
        html! {
            h1 { "Set up your second factor" }
            @if has_factor(console) {
                p { "Scan this code with your new authenticator app, then enter the six-digit code it shows. Until you confirm, your present factor stays." }
            } @else {
                p { "Your role needs a second factor. Scan this code with an authenticator app (any TOTP app), then enter the six-digit code it shows." }
            }
            img.qr src=(qr) alt="QR code of your new authenticator secret" width="240" height="240";
            p { "Cannot scan? Enter this secret by hand:" }
            p { code #totp-secret { (secret) } }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action="/admin/mfa/enrol" {
                (console.csrf_input())
                label for="code" { "Code from the app" }
                input #code name="code" autocomplete="one-time-code" inputmode="numeric" required;
                button type="submit" { "Confirm" }
            }
        },
    )
}

#[derive(Deserialize)]
struct EnrolForm {
    csrf: String,
    code: String,
}

/// `POST /admin/mfa/enrol`: confirms with a code and shows the recovery
/// codes, this once (the answer is not stored by the browser's cache).
async fn enrol(
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Response {
    if let Err(refusal) = console.check_form(&uri, &headers, &form.csrf) {
        return refusal.into_response();
    }
    match console
        .admin
        .confirm_enrolment(&console.principal, form.code.trim())
        .await
    {
        Ok(enrolled) => {
            let page = layout::page(
                "Recovery codes",
                html! {
                    h1 { "Your recovery codes" }
                    p { "Your second factor is set up. Keep these codes somewhere safe: each one signs you in once if you lose your authenticator. They are shown only now." }
                    ol.codes #recovery-codes {
                        @for code in &enrolled.recovery_codes { li { code { (code) } } }
                    }
                    p { a.button href="/admin/" { "Continue to the console" } }
                },
            );
            let mut response = no_store(page.into_response());
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&enrolled.session));
            response
        }
        Err(AdminError::BadCode | AdminError::Invalid { .. } | AdminError::State { .. }) => {
            // The same secret again: a typo must not cost a new scan (nor,
            // for a replacement, the password and code again). Without an
            // offer (`no_enrolment`), back to the start of enrolment.
            let message = "That code does not match. Check the app and try again.";
            let shown = match account_label(&console).await {
                Ok(label) => {
                    console
                        .admin
                        .offered_enrolment(&console.principal, &label)
                        .await
                }
                Err(refusal) => return refusal.into_response(),
            };
            match shown {
                Ok(Some(enrolment)) => show_offer(&console, &enrolment, Some(message))
                    .unwrap_or_else(IntoResponse::into_response),
                Ok(None) => see_other("/admin/mfa/enrol"),
                Err(error) => Refusal::from(error).into_response(),
            }
        }
        Err(error) => Refusal::from(error).into_response(),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

/// `POST /admin/logout`.
async fn logout(
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    if let Err(refusal) = console.check_form(&uri, &headers, &form.csrf) {
        return refusal.into_response();
    }
    if let Err(error) = console.admin.logout(&console.principal).await {
        return Refusal::from(error).into_response();
    }
    let mut response = see_other("/admin/login?signed_out=1");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_the_code() {
        assert_eq!(safe_next(Some("/admin/keys")), "/admin/keys");
        assert_eq!(safe_next(Some("https://evil.example/")), "/admin/");
        assert_eq!(safe_next(Some("//evil.example/admin/")), "/admin/");
        assert_eq!(safe_next(None), "/admin/");
    }
}
