//! `/admin/tenants` (operator): every tenant, and a new tenant with its
//! first owner's invitation link (shown once).

use super::layout;
use super::session::{no_store, Console, Refusal};
use super::sites::rfc3339;
use super::users::{invitation_link, link_once};
use crate::app::AppState;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::Permission;
use nexaguard_admin::AdminError;
use serde::Deserialize;

const TENANTS: &str = "/admin/tenants";

/// The tenant routes.
pub fn router() -> Router<AppState> {
    Router::new().route(TENANTS, get(list).post(create))
}

/// `GET /admin/tenants`.
async fn list(console: Console) -> Result<Markup, Refusal> {
    console.require(Permission::ManageTenants)?;
    page(&console, None, "", "").await
}

async fn page(
    console: &Console,
    error: Option<&str>,
    name: &str,
    email: &str,
) -> Result<Markup, Refusal> {
    let tenants = console.admin.list_tenants(&console.principal).await?;
    Ok(layout::console_page(
        console,
        "Tenants",
        html! {
            h1 { "Tenants" }
            @if tenants.is_empty() {
                p { "No tenants yet." }
            } @else {
                div.table-scroll {
                    table #tenants {
                        caption { "Tenants of this installation" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Id" } th scope="col" { "Created" } } }
                        tbody {
                            @for tenant in &tenants {
                                tr {
                                    th scope="row" { (tenant.name) }
                                    td { code { (tenant.id.0) } }
                                    td { (rfc3339(tenant.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "New tenant" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action=(TENANTS) {
                (console.csrf_input())
                label for="tenant-name" { "Name" }
                input #tenant-name name="name" value=(name) required maxlength="200";
                label for="owner-email" { "First owner's e-mail address" }
                p.hint #owner-email-hint { "Optional: they get an invitation link to set a password and their second factor." }
                input #owner-email type="email" name="owner_email" value=(email) maxlength="254" aria-describedby="owner-email-hint";
                button type="submit" { "Create tenant" }
            }
        },
    ))
}

#[derive(Deserialize)]
struct NewTenant {
    csrf: String,
    name: String,
    #[serde(default)]
    owner_email: String,
}

/// `POST /admin/tenants`: the new tenant, with the owner's link this once.
async fn create(
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<NewTenant>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::ManageTenants)?;
    let email = Some(form.owner_email.trim()).filter(|e| !e.is_empty());
    match console
        .admin
        .create_tenant(&console.principal, &form.name, email)
        .await
    {
        Ok((tenant, invitation)) => {
            let body = layout::console_page(
                &console,
                "Tenant created",
                html! {
                    h1 { "Tenant created" }
                    p { "The tenant " strong { (tenant.name) } " has the id " code #tenant-id { (tenant.id.0) } "." }
                    @if let Some(invitation) = &invitation {
                        p { "The first owner's invitation:" }
                        (link_once(&invitation_link(&console, invitation.secret.as_str()), invitation.expires_at))
                    }
                    p { a href=(TENANTS) { "Back to the tenants" } }
                },
            );
            Ok(no_store((StatusCode::CREATED, body).into_response()))
        }
        Err(AdminError::Invalid { message, .. }) => {
            let body = page(&console, Some(&message), &form.name, &form.owner_email).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
