//! Static assets: the browser SDK (built from sdk/ and committed in
//! sdk/dist, so the server builds without Node), the installation snippet,
//! the demo page and the index page.
//!
//! Invariant: the SDK URL they write is built from the configured public
//! origins (`AppState::public`), never from a request's `Host`.

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::headers::HTML_CSP;
use crate::precompressed::Precompressed;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{Html, IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::regions::ConsentModeDefault;
use serde::Serialize;
use sha2::{Digest, Sha256, Sha384};

const SDK_JS: &str = include_str!("../../../../sdk/dist/nexaguard.js");
/// The chunks the SDK loads where a visitor's experience needs them
/// (sdk/src/chunk.ts), by name.
const SDK_CHUNKS: [(&str, &str); 2] = [
    ("tcf", include_str!("../../../../sdk/dist/nexaguard-tcf.js")),
    ("us", include_str!("../../../../sdk/dist/nexaguard-us.js")),
];
const STUB_JS: &str = include_str!("../../../../sdk/dist/stub.js");
const DEMO_HTML: &str = include_str!("../../assets/demo.html");
const DEMO_JS: &str = include_str!("../../assets/demo.js");
const INDEX_HTML: &str = include_str!("../../assets/index.html");
const JS: &str = "text/javascript; charset=utf-8";
/// A year: the hashed SDK URL names one exact file forever.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The assets, built once.
pub struct Assets {
    sdk: Precompressed,
    /// `/sdk/v1/nexaguard-<hash>.js`: the same bytes under a URL that
    /// changes with them, so it can be cached forever.
    sdk_hashed_path: String,
    /// Subresource integrity of the SDK (`sha384-...`).
    sdk_integrity: String,
    /// The chunks, under the names the SDK asks for them by.
    chunks: Vec<(String, Precompressed)>,
    /// CSP source of the inline stub (`'sha256-...'`).
    stub_csp_hash: String,
    demo_js: Precompressed,
    /// The demo site's key, when the demo is on.
    demo_site_key: Option<String>,
}

impl Assets {
    /// Builds the assets; the demo page exists only with a demo site key.
    pub fn new(demo_site_key: Option<String>) -> Self {
        let sdk_hashed_path = format!("/sdk/v1/{}", hashed_name("nexaguard", SDK_JS));
        let chunks = SDK_CHUNKS
            .iter()
            .map(|(name, js)| {
                let file = chunk_file_name(name, js);
                (
                    file,
                    Precompressed::new(js.as_bytes().to_vec(), JS, IMMUTABLE),
                )
            })
            .collect();
        let sdk_integrity = format!(
            "sha384-{}",
            STANDARD.encode(Sha384::digest(SDK_JS.as_bytes()))
        );
        let stub_csp_hash = format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(STUB_JS.as_bytes()))
        );
        Assets {
            sdk: Precompressed::new(SDK_JS.as_bytes().to_vec(), JS, "public, max-age=300"),
            sdk_hashed_path,
            sdk_integrity,
            chunks,
            stub_csp_hash,
            demo_js: Precompressed::new(DEMO_JS.as_bytes().to_vec(), JS, "no-cache"),
            demo_site_key,
        }
    }

    /// The installation snippet of a site: its settings as JSON, then the
    /// inline stub, which loads the SDK from `sdk_url`.
    fn snippet(&self, site_key: &str, sdk_url: &str, config: &SiteConfig) -> String {
        let settings = StubSettings {
            site_key,
            sdk_url,
            integrity: &self.sdk_integrity,
            consent_defaults: config.consent_mode_defaults(),
            url_passthrough: config.consent_mode.url_passthrough,
            ads_data_redaction: config.consent_mode.ads_data_redaction,
        };
        // `<` escaped so that no value can close the script element.
        let json = serde_json::to_string(&settings)
            .unwrap_or_default()
            .replace('<', "\\u003c");
        format!(
            "<script type=\"application/json\" id=\"nexaguard-settings\">{json}</script>\n<script>{STUB_JS}</script>\n"
        )
    }
}

/// `<stem>-<the first 16 hex digits of the SHA-256 of js>.js`: a name that
/// changes with the bytes, so the file can be cached forever.
fn hashed_name(stem: &str, js: &str) -> String {
    let hash = hex::encode(Sha256::digest(js.as_bytes()));
    format!("{stem}-{}.js", hash.get(..16).unwrap_or(""))
}

/// `nexaguard-<name>-<id>.js`, where id is the first 16 characters of the
/// base64url SHA-256 of the chunk: the name sdk/build.mjs gives the SDK for
/// it, which changes with the bytes, so the file can be cached forever.
fn chunk_file_name(name: &str, js: &str) -> String {
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(js.as_bytes()));
    format!("nexaguard-{name}-{}.js", digest.get(..16).unwrap_or(""))
}

/// The JSON the stub reads from `#nexaguard-settings`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StubSettings<'a> {
    site_key: &'a str,
    sdk_url: &'a str,
    integrity: &'a str,
    /// One `gtag('consent', 'default', ...)` argument per regional rule,
    /// in the order the stub pushes them.
    consent_defaults: Vec<ConsentModeDefault>,
    url_passthrough: bool,
    ads_data_redaction: bool,
}

/// `GET /sdk/v1/nexaguard.js`: the current SDK, cached briefly.
pub async fn sdk(State(state): State<AppState>, headers: HeaderMap) -> Response {
    public_script(state.assets.sdk.respond(&headers))
}

/// Sites load the SDK cross-origin with `crossorigin="anonymous"` (for
/// subresource integrity), which needs CORS; the script is public.
fn public_script(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// `GET /sdk/v1/{file}`: the SDK or one of its chunks under its
/// content-hashed name, immutable.
pub async fn sdk_hashed(
    State(state): State<AppState>,
    PathParams(file): PathParams<String>,
    headers: HeaderMap,
) -> Response {
    let assets = &state.assets;
    let response = if format!("/sdk/v1/{file}") == assets.sdk_hashed_path {
        assets.sdk.respond(&headers)
    } else if let Some((_, chunk)) = assets.chunks.iter().find(|(name, _)| *name == file) {
        chunk.respond(&headers)
    } else {
        return ApiError::not_found("not_found", "no such SDK build").into_response();
    };
    let mut response = public_script(response);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    response
}

/// `GET /v1/sites/{siteKey}/snippet.html`: the snippet to paste into the
/// site's `<head>`, with the stub's CSP hash in `x-nexaguard-stub-hash`.
#[utoipa::path(get, path = "/v1/sites/{site_key}/snippet.html",
    params(("site_key" = String, Path, description = "public site key")),
    responses(
        (status = 200, description = "the installation snippet (settings JSON and inline stub)", content_type = "text/plain"),
        (status = 404, description = "unknown site key or nothing published", body = crate::error::ErrorBody),
    ))]
pub async fn snippet(
    State(state): State<AppState>,
    PathParams(site_key): PathParams<String>,
) -> Result<Response, ApiError> {
    let site = super::site_env(&state, &site_key)?;
    let published = super::published(&site)?;
    // The snippet is pasted into publishers' pages: it names the canonical
    // origin, whichever of the server's names fetched it.
    let sdk_url = format!(
        "{}{}",
        state.public.base_url(),
        state.assets.sdk_hashed_path
    );
    let body = state.assets.snippet(&site_key, &sdk_url, &published.config);
    let mut response =
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    if let Ok(value) = HeaderValue::from_str(state.assets.stub_csp_hash.trim_matches('\'')) {
        response
            .headers_mut()
            .insert("x-nexaguard-stub-hash", value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Which of the server's configured origins the request came in on (the
/// canonical one if it names none): the demo page loads the SDK from its
/// own origin, so that its `script-src 'self'` and `connect-src 'self'`
/// hold on every name the server answers to. Only configured origins can
/// come out of here; a `Host` that is not one never reaches a handler.
fn own_origin(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    uri.authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
        .and_then(|authority| state.public.named_by(authority))
        .unwrap_or(state.public.canonical())
        .url()
}

/// `GET /demo/demo.js`.
pub async fn demo_script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.assets.demo_js.respond(&headers)
}

/// `GET /demo/`: a page of the demo site with the banner. Its CSP allows
/// exactly the inline stub, by hash.
pub async fn demo_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let Some(site_key) = &state.assets.demo_site_key else {
        return ApiError::not_found("not_found", "the demo is off (start with --demo)")
            .into_response();
    };
    // The demo site's current configuration, so that a publish in the
    // console shows on the next load of the page.
    let site = match super::site_env(&state, site_key) {
        Ok(site) => site,
        Err(e) => return e.into_response(),
    };
    let published = match super::published(&site) {
        Ok(published) => published,
        Err(e) => return e.into_response(),
    };
    // The stub needs the SDK's absolute URL: the API is at its origin.
    let sdk_url = format!(
        "{}{}",
        own_origin(&state, &headers, &uri),
        state.assets.sdk_hashed_path
    );
    let snippet = state.assets.snippet(site_key, &sdk_url, &published.config);
    let html = DEMO_HTML.replace("{{SNIPPET}}", &snippet);
    let csp = HTML_CSP.replace(
        "script-src 'self'",
        &format!("script-src 'self' {}", state.assets.stub_csp_hash),
    );
    let mut response = ([(header::CACHE_CONTROL, "no-cache")], Html(html)).into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `GET /`: links to the demo and the API documents.
pub async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
