//! `/admin/users`: the tenant's users with their roles and second factor,
//! the pending invitations, inviting someone (the link is shown once), and
//! a user's page to change the role or remove them (both with step-up).

use super::layout;
use super::session::{finish_sensitive, no_store, see_other, Console, Refusal};
use super::sites::{rfc3339, step_up_field_named};
use crate::app::AppState;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::{Permission, Role};
use nexaguard_admin::users::UserView;
use nexaguard_admin::AdminError;
use nexaguard_store::admin::UserId;
use serde::Deserialize;
use uuid::Uuid;

const USERS: &str = "/admin/users";

/// The user management routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(USERS, get(list))
        .route("/admin/users/invite", post(invite))
        .route("/admin/users/{user}", get(user_page))
        .route("/admin/users/{user}/role", post(set_role))
        .route("/admin/users/{user}/remove", post(remove))
}

/// The roles `console`'s user may hand out in their tenant, most powerful
/// first (the same rule the domain applies to the grant).
pub fn grantable(console: &Console, exclude: &[Role]) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| !role.is_platform() && !exclude.contains(role))
        .filter(|role| console.principal.role.may_grant(*role))
        .collect()
}

/// A `<select>` of `roles` named `role`, with `selected` chosen.
pub fn role_select(id: &str, roles: &[Role], selected: Option<Role>) -> Markup {
    html! {
        select id=(id) name="role" required {
            @for role in roles {
                option value=(role.as_str()) selected[Some(*role) == selected] { (role.as_str()) }
            }
        }
    }
}

/// The link an invitee opens: this server's public URL and the secret.
pub fn invitation_link(console: &Console, secret: &str) -> String {
    format!(
        "{}/admin/invitations/accept?token={secret}",
        console.public_url()
    )
}

/// The page that shows an invitation link, this once.
pub fn link_once(link: &str, expires: time::OffsetDateTime) -> Markup {
    html! {
        p { "Send this link to the invitee. It is shown only now and works once, until " (rfc3339(expires)) "." }
        p.secret { code #invitation-link { (link) } }
    }
}

/// `GET /admin/users`.
async fn list(console: Console) -> Result<Markup, Refusal> {
    console.require(Permission::ManageUsers)?;
    page(&console, None, "", None).await
}

async fn page(
    console: &Console,
    error: Option<&str>,
    email: &str,
    role: Option<Role>,
) -> Result<Markup, Refusal> {
    let users = console.admin.list_users(&console.principal).await?;
    let pending = console
        .admin
        .pending_invitations(&console.principal)
        .await?;
    let me = console.principal.user();
    let roles = grantable(console, &[]);
    Ok(layout::console_page(
        console,
        "Users",
        html! {
            h1 { "Users" }
            div.table-scroll {
                table #users {
                    caption { "Users of this tenant" }
                    thead { tr { th scope="col" { "E-mail address" } th scope="col" { "Role" } th scope="col" { "Second factor" } th scope="col" { "Since" } } }
                    tbody {
                        @for user in &users {
                            tr {
                                th scope="row" {
                                    @if Some(user.id) == me { (user.email) " (you)" }
                                    @else { a href=(user_path(user.id)) { (user.email) } }
                                }
                                td { (user.role.as_str()) }
                                td { @if user.mfa_enrolled { "enrolled" } @else { "not enrolled" } }
                                td { (rfc3339(user.created_at)) }
                            }
                        }
                    }
                }
            }
            h2 { "Pending invitations" }
            @if pending.is_empty() {
                p { "None." }
            } @else {
                div.table-scroll {
                    table #invitations {
                        caption { "Invitations not accepted yet" }
                        thead { tr { th scope="col" { "E-mail address" } th scope="col" { "Role" } th scope="col" { "Expires" } } }
                        tbody {
                            @for invitation in &pending {
                                tr {
                                    th scope="row" { (invitation.email) }
                                    td { (invitation.role.as_str()) }
                                    td { (rfc3339(invitation.expires_at)) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Invite someone" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action="/admin/users/invite" {
                (console.csrf_input())
                label for="invite-email" { "E-mail address" }
                input #invite-email type="email" name="email" value=(email) required maxlength="254";
                label for="invite-role" { "Role" }
                p.hint #invite-role-hint { "Only roles whose every permission you hold yourself." }
                (role_select("invite-role", &roles, role.or(Some(Role::Viewer))))
                button type="submit" { "Invite" }
            }
        },
    ))
}

fn user_path(id: UserId) -> String {
    format!("{USERS}/{}", id.0)
}

fn user_id(text: &str) -> Result<UserId, Refusal> {
    Uuid::parse_str(text)
        .map(UserId)
        .map_err(|_| Refusal::Page(StatusCode::NOT_FOUND, "user not found".into()))
}

#[derive(Deserialize)]
struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

/// `POST /admin/users/invite`: the link, this once (not kept by the cache).
async fn invite(
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::ManageUsers)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, "unknown role".into()))?;
    match console
        .admin
        .invite(&console.principal, &form.email, role)
        .await
    {
        Ok(made) => {
            let link = invitation_link(&console, made.secret.as_str());
            let body = layout::console_page(
                &console,
                "Invitation created",
                html! {
                    h1 { "Invitation created" }
                    p { "An invitation for " strong { (form.email.trim()) } " as " (role.as_str()) "." }
                    (link_once(&link, made.expires_at))
                    p { a href=(USERS) { "Back to the users" } }
                },
            );
            Ok(no_store((StatusCode::CREATED, body).into_response()))
        }
        Err(AdminError::Invalid { message, .. }) => {
            let body = page(&console, Some(&message), &form.email, Some(role)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

async fn find(console: &Console, id: UserId) -> Result<UserView, Refusal> {
    console
        .admin
        .list_users(&console.principal)
        .await?
        .into_iter()
        .find(|user| user.id == id)
        .ok_or_else(|| Refusal::Page(StatusCode::NOT_FOUND, "user not found".into()))
}

/// `GET /admin/users/{user}`: change the role or remove.
async fn user_page(console: Console, Path(user): Path<String>) -> Result<Markup, Refusal> {
    console.require(Permission::ManageUsers)?;
    let user = find(&console, user_id(&user)?).await?;
    let path = user_path(user.id);
    let yourself = console.principal.user() == Some(user.id);
    let may_change = !yourself && console.principal.role.may_grant(user.role);
    let roles = grantable(&console, &[]);
    Ok(layout::console_page(
        &console,
        &user.email,
        html! {
            h1 { (user.email) }
            p { "Role: " strong #user-role { (user.role.as_str()) } ". Second factor: "
                @if user.mfa_enrolled { "enrolled" } @else { "not enrolled" } "." }
            @if yourself {
                p.notice role="status" { "You cannot change your own role or remove yourself." }
            } @else if !may_change {
                p.notice role="status" { "Your role cannot change a user with the role " (user.role.as_str()) "." }
            } @else {
                h2 { "Change the role" }
                form.stack method="post" action=(format!("{path}/role")) {
                    (console.csrf_input())
                    label for="new-role" { "New role" }
                    (role_select("new-role", &roles, Some(user.role)))
                    (step_up_field_named(&console, Permission::ManageUsers, "role-step-up"))
                    button type="submit" { "Change role" }
                }
                h2 { "Remove" }
                form.stack method="post" action=(format!("{path}/remove")) {
                    (console.csrf_input())
                    label.check {
                        input type="checkbox" name="confirm" value="yes" required;
                        " Yes, remove " (user.email) ": their sessions end and they can no longer sign in."
                    }
                    (step_up_field_named(&console, Permission::ManageUsers, "remove-step-up"))
                    button.danger type="submit" { "Remove user" }
                }
            }
            p { a href=(USERS) { "Back to the users" } }
        },
    ))
}

#[derive(Deserialize)]
struct RoleForm {
    csrf: String,
    role: String,
    #[serde(default)]
    code: String,
}

/// `POST /admin/users/{user}/role`.
async fn set_role(
    mut console: Console,
    Path(user): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<RoleForm>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::ManageUsers)?;
    let user = user_id(&user)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, "unknown role".into()))?;
    let fresh = console.step_up(&form.code).await?;
    let path = user_path(user);
    let result = console
        .admin
        .set_role(&console.principal, user, role)
        .await
        .map(|()| see_other(&path));
    Ok(finish_sensitive(result, fresh.as_ref(), &path))
}

#[derive(Deserialize)]
struct RemoveForm {
    csrf: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    code: String,
}

/// `POST /admin/users/{user}/remove`: only with the confirmation ticked.
async fn remove(
    mut console: Console,
    Path(user): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<RemoveForm>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::ManageUsers)?;
    let user = user_id(&user)?;
    if form.confirm != "yes" {
        return Err(Refusal::Page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Tick the confirmation to remove the user.".into(),
        ));
    }
    let fresh = console.step_up(&form.code).await?;
    let result = console
        .admin
        .remove_user(&console.principal, user)
        .await
        .map(|()| see_other(USERS));
    Ok(finish_sensitive(result, fresh.as_ref(), &user_path(user)))
}
