//! A tenant's sites and their configurations: the sites, the draft, its
//! validation, publishing to staging, promotion to production.
//!
//! Invariant: a change the public API answers differently after (a new
//! site, a publication, a promotion) refreshes the site registry before
//! the answer, so the change is visible as soon as the client hears of it.

use super::{refresh, rfc3339};
use crate::admin::answer::{named, Created};
use crate::admin::extract::{AdminJson, AdminService, Caller, Ids, RequestBody, MAX_DRAFT_BODY};
use crate::admin::{rules, whole};
use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use nexaguard_admin::sites::{Promotion, Validation};
use nexaguard_consent::Environment;
use nexaguard_store::{Site, SiteId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A site.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiteView {
    /// Its id.
    pub id: Uuid,
    /// Its display name.
    pub name: String,
    /// The origins allowed to post consents.
    pub origins: Vec<String>,
    /// Production's public site key.
    pub production_key: String,
    /// Staging's public site key.
    pub staging_key: String,
    /// When it was made.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&Site> for SiteView {
    fn from(site: &Site) -> Self {
        SiteView {
            id: site.id.0,
            name: site.name.clone(),
            origins: site.origins.clone(),
            production_key: site.production_key.clone(),
            staging_key: site.staging_key.clone(),
            created_at: site.created_at,
        }
    }
}

/// A site to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteRequest {
    /// Its display name.
    #[schema(schema_with = rules::display_name)]
    pub name: String,
    /// The origins allowed to post consents (`https://www.example.com`).
    #[schema(schema_with = rules::origins)]
    pub origins: Vec<String>,
}

/// A site's configuration draft.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DraftView {
    /// 1, 2, 3... one more at each save; 0 before the first save.
    pub revision: u32,
    /// The configuration as saved (or, before the first save, staging's).
    pub config: Value,
    /// When it was saved.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// A draft to save over a revision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The revision the editor loaded (0: none yet); someone else's save
    /// since is a conflict.
    #[schema(schema_with = rules::revision)]
    #[serde(deserialize_with = "whole::json_u32")]
    pub revision: u32,
    /// The configuration (a `SiteConfig`; it need not be valid yet).
    #[schema(value_type = Object)]
    pub config: Value,
}

/// A saved draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedDraft {
    /// Its new revision.
    pub revision: u32,
    /// What is wrong with it, if anything.
    pub validation: Validation,
}

/// A configuration to check: any JSON object, answered with its problems
/// (a body is always an object, `crate::body`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ConfigToCheck(pub Value);

/// A configuration published to an environment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedView {
    /// The environment.
    pub environment: Environment,
    /// Its version there: 1, 2, 3...
    pub version: u32,
    /// When.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub published_at: OffsetDateTime,
}

impl RequestBody for SiteRequest {}

impl RequestBody for DraftRequest {
    const MAX_BYTES: usize = MAX_DRAFT_BODY;
    const WHAT: &'static str = "the draft";
}

impl RequestBody for ConfigToCheck {
    const MAX_BYTES: usize = MAX_DRAFT_BODY;
    const WHAT: &'static str = "the configuration";
}

named!(
    SiteView,
    SiteRequest,
    DraftView,
    DraftRequest,
    SavedDraft,
    ConfigToCheck,
    PublishedView,
    Validation,
    Promotion,
);

/// `GET /sites`.
pub async fn list_sites(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
) -> Result<Json<Vec<SiteView>>, ApiError> {
    let sites = admin.list_sites(&principal).await?;
    Ok(Json(sites.iter().map(SiteView::from).collect()))
}

/// `POST /sites`.
pub async fn create_site(
    State(state): State<AppState>,
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(wanted): AdminJson<SiteRequest>,
) -> Result<Created<SiteView>, ApiError> {
    let site = admin
        .create_site(&principal, &wanted.name, &wanted.origins)
        .await?;
    refresh(&state).await;
    Ok(Created(SiteView::from(&site)))
}

/// `GET /sites/{site}`.
pub async fn get_site(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
) -> Result<Json<SiteView>, ApiError> {
    Ok(Json(SiteView::from(&admin.site(&principal, site).await?)))
}

/// `GET /sites/{site}/draft`.
pub async fn get_draft(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
) -> Result<Json<DraftView>, ApiError> {
    let draft = admin.draft(&principal, site).await?;
    // Saved as serialised JSON; a row that no longer parses reads as null
    // rather than failing the editor.
    let config = serde_json::from_str(&draft.config_json).unwrap_or(Value::Null);
    Ok(Json(DraftView {
        revision: draft.revision,
        config,
        updated_at: draft.updated_at,
    }))
}

/// `PUT /sites/{site}/draft`.
pub async fn save_draft(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
    AdminJson(draft): AdminJson<DraftRequest>,
) -> Result<Json<SavedDraft>, ApiError> {
    let (revision, validation) = admin
        .save_draft(&principal, site, &draft.config, draft.revision)
        .await?;
    Ok(Json(SavedDraft {
        revision,
        validation,
    }))
}

/// `POST /sites/{site}/draft/validate`: the site must be the caller's,
/// though the configuration is not saved.
pub async fn validate_draft(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
    AdminJson(ConfigToCheck(config)): AdminJson<ConfigToCheck>,
) -> Result<Json<Validation>, ApiError> {
    admin.site(&principal, site).await?;
    Ok(Json(admin.validate(&config.to_string())))
}

/// `POST /sites/{site}/publish`: the draft becomes staging's next version.
pub async fn publish(
    State(state): State<AppState>,
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
) -> Result<Created<PublishedView>, ApiError> {
    let published = admin.publish_staging(&principal, site).await?;
    refresh(&state).await;
    Ok(Created(PublishedView {
        environment: Environment::Staging,
        version: published.version,
        published_at: published.published_at,
    }))
}

/// `GET /sites/{site}/promotion`.
pub async fn promotion_preview(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
) -> Result<Json<Promotion>, ApiError> {
    Ok(Json(admin.promotion_preview(&principal, site).await?))
}

/// `POST /sites/{site}/promotion`: staging's configuration becomes
/// production's next version.
pub async fn promote(
    State(state): State<AppState>,
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
) -> Result<Created<Promotion>, ApiError> {
    let promotion = admin.promote(&principal, site).await?;
    refresh(&state).await;
    Ok(Created(promotion))
}
