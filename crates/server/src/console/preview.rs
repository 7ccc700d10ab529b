//! The live preview: the real SDK (`/sdk/v1/nexaguard.js`) in a frame,
//! showing the banner with the site's DRAFT configuration.
//!
//! The SDK fetches `config.json` without cookies, so it cannot ask for a
//! draft itself; it does take a request started before it loads
//! (`window.__nexaguardConfig`, the installation snippet's early fetch).
//! console.js starts that request against the preview endpoint here, which
//! answers only the signed-in user, and the SDK renders what it gets.
//!
//! `?lang=` shows the draft in one of its languages: the frame declares it
//! as its `<html lang>`, which the SDK asks for before the browser's
//! language (without it, the browser's language decides, as on a page
//! that declares none).
//!
//! `?region=` adds what a visitor from that region gets with the draft's
//! regional rules (resolved here, as `GET /v1/sites/{key}/region` would),
//! and hands the region to the frame as `nexaguard_region`, the staging
//! override the SDK passes to the region answer; that answer comes from the
//! configuration published to staging, not from the draft.

use super::layout;
use super::regions::{self, Preview};
use super::session::{Console, Refusal};
use super::sites::{site_id, site_path};
use crate::app::AppState;
use crate::headers::HTML_CSP;
use crate::registry::{accept_language, config_answer};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, DOCTYPE};
use nexaguard_access::Permission;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::Environment;
use serde::Deserialize;
use serde_json::Value;

/// The preview routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sites/{site}/preview", get(preview))
        .route("/admin/sites/{site}/preview/frame", get(frame))
        .route("/admin/sites/{site}/preview/config.json", get(draft_config))
}

/// The page around the frame may frame this server's own pages.
fn page_csp() -> String {
    format!("{HTML_CSP}; frame-src 'self'")
}

/// The frame may be framed by this server's own pages only.
fn frame_csp() -> String {
    HTML_CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
}

fn with_csp(mut response: Response, csp: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[derive(Deserialize, Default)]
struct PreviewQuery {
    region: Option<String>,
    lang: Option<String>,
}

/// `lang` if it is a language tag (letters, digits, hyphens), so that it
/// can go into a URL and an attribute as it is; `None` otherwise.
fn language_tag(lang: Option<&str>) -> Option<&str> {
    lang.filter(|l| {
        !l.is_empty() && l.len() <= 35 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// `GET /admin/sites/{site}/preview`.
async fn preview(
    console: Console,
    Path(site): Path<String>,
    uri: Uri,
) -> Result<Response, Refusal> {
    console.require(Permission::ViewSites)?;
    let site = console
        .admin
        .site(&console.principal, site_id(&site)?)
        .await?;
    let path = site_path(site.id);
    let query: PreviewQuery = super::session::lenient_query(&uri);
    let draft = console.admin.draft(&console.principal, site.id).await?;
    let config: Value = serde_json::from_str(&draft.config_json).unwrap_or(Value::Null);
    let preview = regions::preview_of(&config, query.region.as_deref());
    let languages: Vec<String> = config
        .get("languages")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let lang = language_tag(query.lang.as_deref());
    // Region codes, `unknown` and language tags are letters, digits and
    // hyphens: safe in a query string as they are.
    let region = match &preview {
        Preview::Shown(p) => Some(regions::region_code(p.region.as_ref())),
        _ => None,
    };
    let frame_query: Vec<String> = region
        .iter()
        .map(|code| format!("nexaguard_region={code}"))
        .chain(lang.map(|l| format!("lang={l}")))
        .collect();
    let frame = if frame_query.is_empty() {
        format!("{path}/preview/frame")
    } else {
        format!("{path}/preview/frame?{}", frame_query.join("&"))
    };
    let page = layout::console_page(
        &console,
        &format!("Preview {}", site.name),
        html! {
            h1 { "Preview of " (site.name) }
            p { "The banner as visitors would see it with the current draft, shown by the real SDK."
                " " a href=(format!("{path}/edit")) { "Back to the editor" } }
            form.filters method="get" action=(format!("{path}/preview")) aria-label="Preview a region" {
                div {
                    label for="preview-region-code" { "Preview as visitor from (region code)" }
                    input #preview-region-code name="region" value=(preview.region_text().unwrap_or_default()) placeholder="US-CA, FR, JP or unknown" aria-describedby=[matches!(preview, Preview::BadRegion(..)).then_some("preview-region-code-error")];
                    @if let Preview::BadRegion(_, message) = &preview {
                        p.field-error #preview-region-code-error { (message) }
                    }
                }
                div {
                    label for="preview-lang" { "Language" }
                    select #preview-lang name="lang" {
                        option value="" selected[lang.is_none()] { "The browser's" }
                        @for code in &languages {
                            option value=(code) selected[lang == Some(code.as_str())] { (code) }
                        }
                    }
                }
                button type="submit" { "Preview" }
            }
            @match &preview {
                Preview::Shown(p) => {
                    (regions::table(p))
                    @if let Some(code) = &region {
                        p.hint { "The table is the draft's rules. The frame passes "
                            code { "nexaguard_region=" (code) }
                            " to the SDK, which asks the server's region answer for the staging key: that answer comes from the configuration published to staging ("
                            a href=(format!("/v1/sites/{}/region?nexaguard_region={code}", site.staging_key)) { "the region answer" }
                            "), so publish the draft to staging to see its rules in the frame." }
                    }
                }
                Preview::Unreadable(message) => { p.error { "The draft cannot be previewed until it reads as a configuration: " (message) } }
                Preview::None | Preview::BadRegion(..) => {}
            }
            iframe.preview-frame #preview-frame src=(frame) title="Banner preview" {}
        },
    );
    Ok(with_csp(page.into_response(), &page_csp()))
}

/// `GET /admin/sites/{site}/preview/frame`: a blank page with the SDK, in
/// `?lang=` if given.
async fn frame(console: Console, Path(site): Path<String>, uri: Uri) -> Result<Response, Refusal> {
    console.require(Permission::ViewSites)?;
    let site = console
        .admin
        .site(&console.principal, site_id(&site)?)
        .await?;
    let config = format!("{}/preview/config.json", site_path(site.id));
    let query: PreviewQuery = super::session::lenient_query(&uri);
    let lang = language_tag(query.lang.as_deref());
    let page = html! {
        (DOCTYPE)
        html lang=[lang] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="nexaguard-preview" content=(config);
                title { "Banner preview" }
                link rel="stylesheet" href="/admin/assets/console.css";
                script src="/admin/assets/console.js" defer {}
                script src="/sdk/v1/nexaguard.js" data-site-key=(site.staging_key) defer {}
            }
            body.preview {
                main {
                    h1 { "Example page" }
                    p { "Some content of " (site.name) ", under the banner." }
                }
            }
        }
    };
    let mut response = with_csp(page.into_response(), &frame_csp());
    response.headers_mut().insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(response)
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

/// `GET /admin/sites/{site}/preview/config.json`: the draft in the shape
/// of the public `config.json`, for the signed-in user only.
async fn draft_config(
    State(state): State<AppState>,
    console: Console,
    Path(site): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    console.require(Permission::ViewSites)?;
    let site = console
        .admin
        .site(&console.principal, site_id(&site)?)
        .await?;
    let draft = console.admin.draft(&console.principal, site.id).await?;
    let config: SiteConfig = serde_json::from_str(&draft.config_json).map_err(|e| {
        Refusal::Page(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The draft cannot be shown yet: {e}"),
        )
    })?;
    let query: LangQuery = super::session::lenient_query(&uri);
    let mut wanted: Vec<String> = query.lang.into_iter().collect();
    if let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    {
        wanted.extend(accept_language(value));
    }
    let language = config.pick_language(wanted.iter().map(String::as_str));
    let body = config_answer(
        &site.staging_key,
        Environment::Staging,
        draft.revision,
        &config,
        language,
        &state.gvl,
        &state.translations,
    )
    .map_err(|e| Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
