//! The visitor's region, as the SDK asks for it beside `config.json`, with
//! the experience the site environment's published configuration gives that
//! region and the notice version of that experience.
//!
//! Invariant: the answer is never cached (`Cache-Control: no-store`), so
//! one visitor's region (and so experience) is never served to another;
//! the override parameter is honoured for staging site keys only. A region
//! the site declares itself (`?region=`, from server-side rendering) is
//! answered with source `site`, so the record tells it from a resolved one.

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::client_ip;
use crate::extract::PathParams;
use crate::region::{RegionSource, Resolved};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nexaguard_consent::region::Region;
use nexaguard_consent::regions::ResolvedExperience;
use nexaguard_consent::Environment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// Query of `GET /v1/sites/{siteKey}/region`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegionQuery {
    /// Staging site keys only: a region code (`us-ca`, `FR`) or `unknown`
    /// to answer instead of the visitor's; ignored for production keys.
    nexaguard_region: Option<String>,
    /// The region the site itself knows the visitor to be in (a
    /// server-side rendered page passes it in the SDK settings); answered
    /// with source `site` in place of the resolved one.
    region: Option<String>,
}

/// The body of `GET /v1/sites/{siteKey}/region`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionAnswer {
    /// `FR`, `US-CA`, or `null` when unknown.
    #[schema(value_type = Option<String>, example = "US-CA")]
    region: Option<Region>,
    /// Where the region came from.
    source: RegionSource,
    /// Whether this request carried `Sec-GPC: 1`, the Global Privacy
    /// Control signal browsers send as a header (the SDK also reads
    /// `navigator.globalPrivacyControl`).
    gpc: bool,
    /// The experience the published configuration of the key's environment
    /// gives this region: the first matching regional rule, else the
    /// site's `regulation`.
    experience: ResolvedExperience,
    /// The version of the notice this experience shows (32 hex digits), for
    /// the consent record.
    #[schema(example = "3f1c0a9e5b7d2e4f6a8b0c1d2e3f4a5b")]
    notice_version: String,
}

/// `GET /v1/sites/{siteKey}/region`: the visitor's region, uncached.
#[utoipa::path(get, path = "/v1/sites/{site_key}/region",
    params(("site_key" = String, Path, description = "public site key"), RegionQuery),
    responses(
        (status = 200, description = "the visitor's region, its source, the experience the published configuration gives it and that experience's notice version; `Cache-Control: no-store`", body = RegionAnswer),
        (status = 400, description = "`region`, or a staging key's `nexaguard_region`, is not a region code", body = crate::error::ErrorBody),
        (status = 403, description = "Origin not allowed for the site", body = crate::error::ErrorBody),
        (status = 404, description = "unknown site key or nothing published", body = crate::error::ErrorBody),
    ))]
pub async fn site_region(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PathParams(site_key): PathParams<String>,
    query: Result<Query<RegionQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(ApiError::from)?;
    let site = super::site_env(&state, &site_key)?;
    let published = super::published(&site)?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !origin.to_str().is_ok_and(|o| site.allows_origin(o)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "this Origin is not allowed for the site",
            ));
        }
    }
    let resolved = match (query.nexaguard_region, query.region) {
        (Some(code), _) if site.environment == Environment::Staging => {
            given_region(&code, "nexaguard_region", RegionSource::Override)?
        }
        (_, Some(code)) => given_region(&code, "region", RegionSource::Site)?,
        _ => state
            .regions
            .resolve(&headers, || client_ip(&state, &headers, peer)),
    };
    let gpc = headers
        .get("sec-gpc")
        .is_some_and(|v| v.as_bytes().trim_ascii() == b"1");
    let experience = published.config.experience_for(resolved.region.as_ref());
    let notice_version = published.notice_version(&experience);
    let mut response = Json(RegionAnswer {
        region: resolved.region,
        source: resolved.source,
        gpc,
        experience,
        notice_version,
    })
    .into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let vary = state
        .regions
        .header_names()
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(vary) = HeaderValue::from_str(&vary) {
        if !vary.is_empty() {
            h.append(header::VARY, vary);
        }
    }
    Ok(response)
}

/// A region the request names in parameter `name` (a staging page's
/// override, or the site's own): a region code, or `unknown`.
fn given_region(code: &str, name: &str, source: RegionSource) -> Result<Resolved, ApiError> {
    if code.trim().eq_ignore_ascii_case("unknown") {
        return Ok(Resolved {
            region: None,
            source,
        });
    }
    let refuse = || {
        ApiError::bad_request(
            "invalid_region",
            format!("{name} must be a region code such as `FR` or `US-CA`, or `unknown`"),
        )
    };
    let region: Region = code.parse().map_err(|_| refuse())?;
    if crate::region::is_special(region.country_code()) {
        return Err(refuse());
    }
    Ok(Resolved {
        region: Some(region),
        source,
    })
}
