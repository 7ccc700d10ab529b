//! Sites and their environments: create a site, a site's page with its
//! staging and production versions and keys, publish the draft to staging,
//! and promote staging to production after seeing the difference.

use super::layout;
use super::session::{finish_sensitive, see_other, Console, Refusal};
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use nexaguard_access::Permission;
use nexaguard_store::{PublishedConfig, Site, SiteId};
use serde::Deserialize;
use uuid::Uuid;

/// The site routes (the editor and the preview have their own modules).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sites/new", get(new_form).post(create))
        .route("/admin/sites/{site}", get(site_page))
        .route("/admin/sites/{site}/publish", post(publish))
        .route(
            "/admin/sites/{site}/promotion",
            get(promotion_page).post(promote),
        )
}

/// A site id from the path; anything else is a site that does not exist.
pub fn site_id(text: &str) -> Result<SiteId, Refusal> {
    Uuid::parse_str(text)
        .map(SiteId)
        .map_err(|_| Refusal::Page(StatusCode::NOT_FOUND, "site not found".into()))
}

/// A site's console path.
pub fn site_path(site: SiteId) -> String {
    format!("/admin/sites/{}", site.0)
}

/// Makes a change visible to the public API at once.
pub async fn refresh(state: &AppState) {
    if let Err(error) = state.refresh_sites().await {
        tracing::warn!(%error, "site refresh after a console change failed");
    }
}

/// `GET /admin/sites/new`.
async fn new_form(console: Console) -> Result<Markup, Refusal> {
    console.require(Permission::EditSites)?;
    Ok(new_page(&console, None, "", ""))
}

fn new_page(console: &Console, error: Option<&str>, name: &str, origins: &str) -> Markup {
    layout::console_page(
        console,
        "New site",
        html! {
            h1 { "New site" }
            @if let Some(error) = error { p.error role="alert" { (error) } }
            form.stack method="post" action="/admin/sites/new" {
                (console.csrf_input())
                label for="name" { "Name" }
                input #name name="name" value=(name) required maxlength="200";
                label for="origins" { "Origins, one per line" }
                p.hint #origins-hint { "The pages that show the banner, like https://www.example.com." }
                textarea #origins name="origins" rows="4" aria-describedby="origins-hint" { (origins) }
                button type="submit" { "Create site" }
            }
        },
    )
}

#[derive(Deserialize)]
struct NewSite {
    csrf: String,
    name: String,
    #[serde(default)]
    origins: String,
}

/// `POST /admin/sites/new`.
async fn create(
    State(state): State<AppState>,
    console: Console,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<NewSite>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    let origins: Vec<String> = form
        .origins
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    match console
        .admin
        .create_site(&console.principal, &form.name, &origins)
        .await
    {
        Ok(site) => {
            refresh(&state).await;
            Ok(see_other(&site_path(site.id)))
        }
        Err(nexaguard_admin::AdminError::Invalid { message, .. }) => {
            let page = new_page(&console, Some(&message), &form.name, &form.origins);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// `GET /admin/sites/{site}`.
async fn site_page(console: Console, Path(site): Path<String>) -> Result<Markup, Refusal> {
    console.require(Permission::ViewSites)?;
    let site = console
        .admin
        .site(&console.principal, site_id(&site)?)
        .await?;
    let (staging, production) = console
        .admin
        .environments(&console.principal, site.id)
        .await?;
    let path = site_path(site.id);
    Ok(layout::console_page(
        &console,
        &site.name,
        html! {
            h1 { (site.name) }
            (actions(&console, &site))
            h2 { "Environments" }
            div.table-scroll {
                table {
                    caption { "Published configurations and site keys" }
                    thead { tr { th scope="col" { "Environment" } th scope="col" { "Version" } th scope="col" { "Published" } th scope="col" { "Site key" } th scope="col" { "Install" } } }
                    tbody {
                        (environment_row("Staging", staging.as_ref(), &site.staging_key))
                        (environment_row("Production", production.as_ref(), &site.production_key))
                    }
                }
            }
            h2 { "Origins" }
            @if site.origins.is_empty() { p { "None: no page may show this site's banner yet." } }
            ul { @for origin in &site.origins { li { code { (origin) } } } }
            @if console.may(Permission::ViewConsents) {
                p { a href=(format!("{path}/consents")) { "Consent dashboard" } }
            }
        },
    ))
}

fn actions(console: &Console, site: &Site) -> Markup {
    let path = site_path(site.id);
    html! {
        ul.actions {
            @if console.may(Permission::EditSites) {
                li { a.button href=(format!("{path}/edit")) { "Edit configuration" } }
            }
            li { a href=(format!("{path}/preview")) { "Preview the draft" } }
            @if console.may(Permission::PublishStaging) {
                li {
                    form.inline method="post" action=(format!("{path}/publish")) {
                        (console.csrf_input())
                        button type="submit" { "Publish draft to staging" }
                    }
                }
            }
            @if console.may(Permission::ViewSites) {
                li { a href=(format!("{path}/promotion")) { "Promotion to production" } }
            }
        }
    }
}

fn environment_row(name: &str, published: Option<&PublishedConfig>, key: &str) -> Markup {
    html! {
        tr {
            th scope="row" { (name) }
            td { @match published { Some(p) => { (p.version) }, None => { "—" } } }
            td { @match published { Some(p) => { (rfc3339(p.published_at)) }, None => { "not yet" } } }
            td { code { (key) } }
            td { a href=(format!("/v1/sites/{key}/snippet.html")) { "Install snippet" } }
        }
    }
}

/// A time as RFC 3339 (UTC), as the API shows it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A form with nothing but the CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    /// The CSRF token.
    pub csrf: String,
}

/// `POST /admin/sites/{site}/publish`.
async fn publish(
    State(state): State<AppState>,
    console: Console,
    Path(site): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    let site = site_id(&site)?;
    console
        .admin
        .publish_staging(&console.principal, site)
        .await?;
    refresh(&state).await;
    Ok(see_other(&site_path(site)))
}

/// `GET /admin/sites/{site}/promotion`: what promoting would change.
async fn promotion_page(console: Console, Path(site): Path<String>) -> Result<Markup, Refusal> {
    console.require(Permission::ViewSites)?;
    let site = console
        .admin
        .site(&console.principal, site_id(&site)?)
        .await?;
    let preview = console
        .admin
        .promotion_preview(&console.principal, site.id)
        .await;
    let path = site_path(site.id);
    Ok(layout::console_page(
        &console,
        "Promote to production",
        html! {
            h1 { "Promote " (site.name) " to production" }
            @match &preview {
                Err(error) => { p.notice role="status" { (error) } }
                Ok(preview) => {
                    p { "Staging version " (preview.staging_version) " replaces production "
                        @match preview.production_version { Some(v) => { "version " (v) }, None => { "(nothing published yet)" } } "." }
                    (changes(&preview.changes))
                    @if console.may(Permission::PromoteProduction) && !preview.changes.is_empty() {
                        (promote_form(&console, &path))
                    }
                }
            }
            p { a href=(path) { "Back to the site" } }
        },
    ))
}

fn changes(changes: &[nexaguard_admin::sites::Change]) -> Markup {
    let show = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    html! {
        h2 { "Changes" }
        @if changes.is_empty() {
            p { "None: production already has staging's configuration." }
        } @else {
            div.table-scroll {
                table.diff #promotion-diff {
                    caption { "What changes in production" }
                    thead { tr { th scope="col" { "Setting" } th scope="col" { "Production now" } th scope="col" { "After promotion" } } }
                    tbody {
                        @for change in changes {
                            tr {
                                th scope="row" { code { (change.path) } }
                                td.before { @match show(&change.before) { Some(v) => { code { (v) } }, None => { em { "absent" } } } }
                                td.after { @match show(&change.after) { Some(v) => { code { (v) } }, None => { em { "removed" } } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn promote_form(console: &Console, path: &str) -> Markup {
    html! {
        form.stack method="post" action=(format!("{path}/promotion")) {
            (console.csrf_input())
            (step_up_field(console, Permission::PromoteProduction))
            button type="submit" { "Promote to production" }
        }
    }
}

/// The code field a sensitive form carries when the second factor must be
/// given again (more than five minutes since the last).
pub fn step_up_field(console: &Console, permission: Permission) -> Markup {
    step_up_field_named(console, permission, "step-up")
}

/// [`step_up_field`] with its own element ids, for a page with more than
/// one sensitive form (ids must be unique on a page).
pub fn step_up_field_named(console: &Console, permission: Permission, id: &str) -> Markup {
    let input = format!("{id}-code");
    let hint = format!("{id}-hint");
    html! {
        @if console.needs_step_up(permission) {
            label for=(input) { "Code from your authenticator" }
            p.hint id=(hint) { "This action needs your second factor again: your last code is more than five minutes old." }
            input id=(input) name="code" autocomplete="one-time-code" inputmode="numeric" required aria-describedby=(hint);
        }
    }
}

/// A sensitive form with nothing else: the CSRF token and, when due, the
/// step-up code.
#[derive(Deserialize)]
pub struct StepUpForm {
    /// The CSRF token.
    pub csrf: String,
    /// The second factor, when the form asked for it.
    #[serde(default)]
    pub code: String,
}

/// `POST /admin/sites/{site}/promotion`.
async fn promote(
    State(state): State<AppState>,
    mut console: Console,
    Path(site): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<StepUpForm>,
) -> Result<Response, Refusal> {
    console.check_form(&uri, &headers, &form.csrf)?;
    let site = site_id(&site)?;
    let fresh = console.step_up(&form.code).await?;
    let path = site_path(site);
    let result = match console.admin.promote(&console.principal, site).await {
        Ok(_) => {
            refresh(&state).await;
            Ok(see_other(&path))
        }
        Err(error) => Err(error),
    };
    Ok(finish_sensitive(
        result,
        fresh.as_ref(),
        &format!("{path}/promotion"),
    ))
}
