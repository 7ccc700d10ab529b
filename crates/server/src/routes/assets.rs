//! Static assets: the browser SDK, the demo page and the index page.

use crate::precompressed::Precompressed;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};

use crate::app::AppState;

const SDK_JS: &str = include_str!("../../assets/nexaguard.js");
const DEMO_HTML: &str = include_str!("../../assets/demo.html");
const DEMO_JS: &str = include_str!("../../assets/demo.js");
const INDEX_HTML: &str = include_str!("../../assets/index.html");
const JS: &str = "text/javascript; charset=utf-8";

/// The assets, built once.
pub struct Assets {
    sdk: Precompressed,
    demo_js: Precompressed,
    demo_html: Option<String>,
}

impl Assets {
    /// Builds the assets; the demo page exists only with a demo site key.
    pub fn new(demo_site_key: Option<&str>) -> Self {
        Assets {
            sdk: Precompressed::new(SDK_JS.as_bytes().to_vec(), JS, "public, max-age=300"),
            demo_js: Precompressed::new(DEMO_JS.as_bytes().to_vec(), JS, "no-cache"),
            // Site keys are [a-z0-9_]; nothing to escape.
            demo_html: demo_site_key.map(|key| DEMO_HTML.replace("{{SITE_KEY}}", key)),
        }
    }
}

/// `GET /sdk/v1/nexaguard.js`.
pub async fn sdk(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.assets.sdk.respond(&headers)
}

/// `GET /demo/demo.js`.
pub async fn demo_script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.assets.demo_js.respond(&headers)
}

/// `GET /demo/`: a page of the demo site with the banner.
pub async fn demo_page(State(state): State<AppState>) -> Response {
    match &state.assets.demo_html {
        Some(html) => ([(header::CACHE_CONTROL, "no-cache")], Html(html.clone())).into_response(),
        None => crate::routes::health::not_found().await.into_response(),
    }
}

/// `GET /`: links to the demo and the API documents.
pub async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}
