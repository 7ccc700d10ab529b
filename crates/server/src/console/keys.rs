//! `/admin/keys` (operator): the key ring's state and key rotation (with
//! step-up), answered with the rotation's report.

use super::layout;
use super::session::{finish_sensitive, Console, Refusal};
use super::sites::{step_up_field, StepUpForm};
use crate::app::AppState;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::Permission;
use nexaguard_admin::keys::RotationReport;

const KEYS: &str = "/admin/keys";

/// The key routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(KEYS, get(show))
        .route("/admin/keys/rotate", post(rotate))
}

/// `GET /admin/keys`.
async fn show(console: Console) -> Result<Markup, Refusal> {
    console.require(Permission::RotateKeys)?;
    page(&console, None).await
}

async fn page(console: &Console, report: Option<&RotationReport>) -> Result<Markup, Refusal> {
    let status = console.admin.key_ring_status(&console.principal).await?;
    Ok(layout::console_page(
        console,
        "Keys",
        html! {
            h1 { "Keys" }
            @if let Some(report) = report {
                div.notice role="status" #rotation-report {
                    p { "Rotation done: " (report.data_keys) " data keys re-wrapped with " code { (report.current_kek) } "." }
                    @if report.retired.is_empty() {
                        p { "No key-encryption key retired (keys from the environment or a KMS are retired where they are kept)." }
                    } @else {
                        p { "Retired: " @for (i, id) in report.retired.iter().enumerate() { @if i > 0 { ", " } code { (id) } } "." }
                    }
                }
            }
            p { "Secrets at rest are sealed with data keys; the data keys are wrapped with a key-encryption key. Rotation makes a new key-encryption key (where the key ring makes its own), re-wraps every data key with it and retires the old one. Sealed data does not change." }
            div.table-scroll {
                table #key-ring {
                    caption { "Key ring" }
                    tbody {
                        tr { th scope="row" { "Current key-encryption key" } td { code { (status.current_kek) } } }
                        tr { th scope="row" { "Data keys" } td { (status.data_keys) } }
                        @for (kek, count) in &status.by_kek {
                            tr { th scope="row" { "Wrapped with " code { (kek) } } td { (count) } }
                        }
                    }
                }
            }
            h2 { "Rotate" }
            form.stack method="post" action="/admin/keys/rotate" {
                (console.csrf_input())
                (step_up_field(console, Permission::RotateKeys))
                button type="submit" { "Rotate keys" }
            }
        },
    ))
}

/// `POST /admin/keys/rotate`: the page again, with the report.
async fn rotate(
    mut console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<StepUpForm>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    console.require(Permission::RotateKeys)?;
    let fresh = console.step_up(&form.code).await?;
    let result = match console.admin.rotate_keys(&console.principal).await {
        Ok(report) => Ok(page(&console, Some(&report)).await?.into_response()),
        Err(error) => Err(error),
    };
    Ok(finish_sensitive(result, fresh.as_ref(), KEYS))
}
