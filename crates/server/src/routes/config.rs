//! Site configurations and the vendor list, served from memory.

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::registry::accept_language;
use axum::extract::{Query, Request, State};
use axum::http::header;
use axum::response::Response;
use serde::Deserialize;

/// Query of `config.json`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConfigQuery {
    /// Language code; wins over Accept-Language.
    lang: Option<String>,
}

/// `GET /v1/sites/{siteKey}/config.json`: the published configuration, the
/// compact vendor list and the banner's finished UI strings (`strings`), in
/// one language.
#[utoipa::path(get, path = "/v1/sites/{site_key}/config.json",
    params(("site_key" = String, Path, description = "public site key"), ConfigQuery),
    responses(
        (status = 200, description = "the configuration, the site's vendor list and the banner's UI strings (`strings`: key to text) in the language answered"),
        (status = 304, description = "not modified (If-None-Match)"),
        (status = 404, description = "unknown site key or nothing published", body = crate::error::ErrorBody),
    ))]
pub async fn site_config(
    State(state): State<AppState>,
    PathParams(site_key): PathParams<String>,
    query: Result<Query<ConfigQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    // Borrowed from the request: the `HeaderMap` extractor would copy them.
    let headers = request.headers();
    let Query(query) = query.map_err(ApiError::from)?;
    let site = super::site_env(&state, &site_key)?;
    let published = super::published(&site)?;
    let mut wanted: Vec<String> = query.lang.into_iter().collect();
    if let Some(header) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    {
        wanted.extend(accept_language(header));
    }
    let language = published
        .config
        .pick_language(wanted.iter().map(String::as_str));
    let response = published
        .responses
        .get(language)
        .ok_or_else(|| ApiError::not_found("not_published", "no texts for any language"))?;
    Ok(response.respond(headers))
}

/// `GET /v1/gvl/vendor-list.json`: the Global Vendor List the server holds.
#[utoipa::path(get, path = "/v1/gvl/vendor-list.json", responses(
    (status = 200, description = "vendor-list.json, GVL format v3"),
    (status = 304, description = "not modified"),
))]
pub async fn vendor_list(State(state): State<AppState>, request: Request) -> Response {
    state.gvl_response.respond(request.headers())
}
