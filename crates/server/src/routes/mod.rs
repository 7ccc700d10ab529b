//! HTTP handlers. Each is thin: it reads the request, calls domain code
//! (nexaguard-consent) and the store, and shapes the answer.

pub mod assets;
pub mod config;
pub mod consents;
pub mod docs;
pub mod health;
pub mod region;

use crate::app::AppState;
use crate::error::ApiError;
use crate::registry::{Published, SiteEnv};
use std::sync::Arc;

/// The site environment a public site key names, or 404.
fn site_env(state: &AppState, site_key: &str) -> Result<Arc<SiteEnv>, ApiError> {
    state
        .registry()
        .get(site_key)
        .cloned()
        .ok_or_else(|| ApiError::not_found("unknown_site_key", "no site has this key"))
}

/// The configuration published to a site environment, or 404.
fn published(site: &SiteEnv) -> Result<&Published, ApiError> {
    site.published.as_deref().ok_or_else(|| {
        ApiError::not_found(
            "not_published",
            format!("nothing is published to {} yet", site.environment),
        )
    })
}
