//! `/admin/tokens`: the tenant's API tokens; creating one (with step-up;
//! the secret is shown once) and revoking one.

use super::layout;
use super::session::{finish_sensitive, no_store, see_other, Console, Refusal};
use super::sites::{rfc3339, step_up_field, CsrfOnly};
use super::users::{grantable, role_select};
use crate::app::AppState;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::{Permission, Role};
use nexaguard_admin::tokens::MAX_TOKEN_DAYS;
use nexaguard_admin::AdminError;
use nexaguard_store::admin::{ApiToken, ApiTokenId};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

const TOKENS: &str = "/admin/tokens";
/// A new token's lifetime unless chosen otherwise.
const DEFAULT_DAYS: u32 = 90;

/// The token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(TOKENS, get(list).post(create))
        .route("/admin/tokens/{token}/revoke", post(revoke))
}

/// `GET /admin/tokens`.
async fn list(console: Console) -> Result<Markup, Refusal> {
    console.require(Permission::ManageTokens)?;
    page(&console, None, &NewTokenForm::default()).await
}

/// A token's state now.
fn state(token: &ApiToken, now: OffsetDateTime) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at <= now {
        "expired"
    } else {
        "active"
    }
}

/// Roles a token may have: what the user may grant, but never owner (a
/// token cannot give a second factor).
fn token_roles(console: &Console) -> Vec<Role> {
    grantable(console, &[Role::Owner])
}

async fn page(
    console: &Console,
    error: Option<&str>,
    form: &NewTokenForm,
) -> Result<Markup, Refusal> {
    let tokens = console.admin.list_tokens(&console.principal).await?;
    let now = OffsetDateTime::now_utc();
    let role = form.role.parse().ok().or(Some(Role::Viewer));
    let days = if form.days.is_empty() {
        DEFAULT_DAYS.to_string()
    } else {
        form.days.clone()
    };
    Ok(layout::console_page(
        console,
        "API tokens",
        html! {
            h1 { "API tokens" }
            p { "Tokens let programs use the admin API with " code { "Authorization: Bearer" } ". Each acts in this tenant with its role, until it expires or is revoked." }
            @if tokens.is_empty() {
                p { "No tokens yet." }
            } @else {
                div.table-scroll {
                    table #tokens {
                        caption { "Tokens of this tenant" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "State" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "Action" } } }
                        tbody {
                            @for token in &tokens {
                                @let state = state(token, now);
                                tr {
                                    th scope="row" { (token.name) }
                                    td { (token.role.as_str()) }
                                    td { (state) }
                                    td { (rfc3339(token.expires_at)) }
                                    td { @match token.last_used_at { Some(at) => { (rfc3339(at)) }, None => { "never" } } }
                                    td {
                                        @if state == "active" {
                                            form.inline method="post" action=(format!("{TOKENS}/{}/revoke", token.id.0)) {
                                                (console.csrf_input())
                                                button.danger type="submit" aria-label=(format!("Revoke {}", token.name)) { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "New token" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action=(TOKENS) {
                (console.csrf_input())
                label for="token-name" { "Name" }
                input #token-name name="name" value=(form.name) required maxlength="100";
                label for="token-role" { "Role" }
                (role_select("token-role", &token_roles(console), role))
                label for="token-days" { "Days until it expires" }
                input #token-days type="number" name="days" min="1" max=(MAX_TOKEN_DAYS) value=(days) required;
                fieldset {
                    legend { "Sensitive actions it may also do" }
                    p { "A token has no second factor, so it does what needs a fresh one from a signed-in user only when you name it here. Leave these off unless the program needs them." }
                    @for (name, permission, label) in SCOPES {
                        label {
                            input type="checkbox" name=(name) value="1" checked[form.scope(permission)];
                            " " (label)
                        }
                    }
                }
                (step_up_field(console, Permission::ManageTokens))
                button type="submit" { "Create token" }
            }
        },
    ))
}

#[derive(Deserialize, Default)]
struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    scope_manage_users: Option<String>,
    #[serde(default)]
    scope_manage_tokens: Option<String>,
    #[serde(default)]
    scope_promote_production: Option<String>,
}

/// The step-up scopes a token can be given here: form field, permission,
/// what it lets the token do. (Key rotation is the operator's, who has no
/// tenant and so no tokens.)
const SCOPES: [(&str, Permission, &str); 3] = [
    (
        "scope_manage_users",
        Permission::ManageUsers,
        "Change roles and remove users",
    ),
    (
        "scope_manage_tokens",
        Permission::ManageTokens,
        "Create tokens (never with more than its own)",
    ),
    (
        "scope_promote_production",
        Permission::PromoteProduction,
        "Promote staging to production",
    ),
];

impl NewTokenForm {
    /// Whether the box of `permission` is ticked.
    fn scope(&self, permission: Permission) -> bool {
        let ticked = match permission {
            Permission::ManageUsers => &self.scope_manage_users,
            Permission::ManageTokens => &self.scope_manage_tokens,
            Permission::PromoteProduction => &self.scope_promote_production,
            _ => &None,
        };
        ticked.is_some()
    }

    /// The ticked scopes.
    fn scopes(&self) -> Vec<Permission> {
        SCOPES
            .iter()
            .map(|(_, permission, _)| *permission)
            .filter(|permission| self.scope(*permission))
            .collect()
    }
}

/// `POST /admin/tokens`: the secret, this once (not kept by the cache).
async fn create(
    mut console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::ManageTokens)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, "unknown role".into()))?;
    let Ok(days) = form.days.trim().parse::<u32>() else {
        let message = format!("The lifetime is a whole number of days, 1 to {MAX_TOKEN_DAYS}.");
        let body = page(&console, Some(&message), &form).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
    };
    let fresh = console.step_up(&form.code).await?;
    let result = match console
        .admin
        .create_token(&console.principal, &form.name, role, days, &form.scopes())
        .await
    {
        Ok(made) => {
            let body = layout::console_page(
                &console,
                "Token created",
                html! {
                    h1 { "Token created" }
                    p { "The token " strong { (made.token.name) } " acts as " (made.token.role.as_str())
                        " until " (rfc3339(made.token.expires_at)) ". Copy its secret now: it is shown only this once." }
                    p.secret { code #token-secret { (made.secret.as_str()) } }
                    p { a href=(TOKENS) { "Back to the tokens" } }
                },
            );
            Ok(no_store((StatusCode::CREATED, body).into_response()))
        }
        Err(AdminError::Invalid { message, .. }) => {
            let body = page(&console, Some(&message), &form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(error) => Err(error),
    };
    Ok(finish_sensitive(result, fresh.as_ref(), TOKENS))
}

/// `POST /admin/tokens/{token}/revoke`.
async fn revoke(
    console: Console,
    Path(token): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::ManageTokens)?;
    let id = Uuid::parse_str(&token)
        .map(ApiTokenId)
        .map_err(|_| Refusal::Page(StatusCode::NOT_FOUND, "token not found".into()))?;
    console.admin.revoke_token(&console.principal, id).await?;
    Ok(see_other(TOKENS))
}
