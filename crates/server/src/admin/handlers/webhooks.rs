//! A site's webhooks and their deliveries.
//!
//! Invariant: a webhook's signing secret appears only in the answer that
//! makes it and in the answer to a rotation; reading a webhook never shows
//! it.

use super::{rfc3339, rfc3339_option};
use crate::admin::answer::{named, Created, NoContent};
use crate::admin::extract::{AdminJson, AdminQuery, AdminService, Caller, Ids, RequestBody};
use crate::admin::{rules, whole};
use crate::error::ApiError;
use axum::Json;
use nexaguard_admin::webhooks::WebhookUpdate;
use nexaguard_store::webhooks::{Delivery, DeliveryId, DeliveryStatus, Webhook, WebhookId};
use nexaguard_store::SiteId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A webhook, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// Its id.
    pub id: Uuid,
    /// Its site.
    pub site: Uuid,
    /// Where deliveries are posted.
    pub url: String,
    /// Whether new consents are delivered.
    pub enabled: bool,
    /// When it was made.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<&Webhook> for WebhookView {
    fn from(webhook: &Webhook) -> Self {
        WebhookView {
            id: webhook.id.0,
            site: webhook.site.0,
            url: webhook.url.clone(),
            enabled: webhook.enabled,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
        }
    }
}

/// A new webhook with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewWebhookView {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The secret deliveries are signed with.
    pub secret: String,
}

/// A changed webhook; with the new signing secret when it was rotated.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedWebhookView {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The new secret, shown this once; absent unless rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed.
    Dead,
}

impl From<DeliveryStatus> for DeliveryState {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => DeliveryState::Pending,
            DeliveryStatus::Delivered => DeliveryState::Delivered,
            DeliveryStatus::Dead => DeliveryState::Dead,
        }
    }
}

/// One consent event on its way to one webhook.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// Its id (the `NexaGuard-Delivery` header).
    pub id: Uuid,
    /// The webhook.
    pub webhook: Uuid,
    /// The consent event it carries.
    pub event_id: Uuid,
    /// Where it stands.
    pub status: DeliveryState,
    /// Attempts started so far.
    pub attempts: u32,
    /// When it is due; `null` unless pending.
    #[serde(serialize_with = "rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<u16>,
    /// When it was enqueued.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// When it was delivered.
    #[serde(serialize_with = "rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<OffsetDateTime>,
}

impl From<&Delivery> for DeliveryView {
    fn from(delivery: &Delivery) -> Self {
        DeliveryView {
            id: delivery.id.0,
            webhook: delivery.webhook.0,
            event_id: delivery.event_id,
            status: delivery.status.into(),
            attempts: delivery.attempts,
            // The column also holds a lapsing claim's time; only a pending
            // delivery's is a due time worth showing.
            next_attempt_at: (delivery.status == DeliveryStatus::Pending)
                .then_some(delivery.next_attempt_at),
            last_error: delivery.last_error.clone(),
            last_status: delivery.last_status,
            created_at: delivery.created_at,
            updated_at: delivery.updated_at,
            delivered_at: delivery.delivered_at,
        }
    }
}

/// A webhook to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where to post deliveries: `https://` and a public host.
    #[schema(schema_with = rules::webhook_url)]
    pub url: String,
    /// Whether new consents are delivered; true by default.
    pub enabled: Option<bool>,
}

/// A change to a webhook; what is absent stays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookPatch {
    /// A new URL.
    #[schema(schema_with = rules::optional_webhook_url)]
    pub url: Option<String>,
    /// Whether new consents are delivered.
    pub enabled: Option<bool>,
    /// Whether to make a new signing secret (the old one stops working at
    /// once).
    #[serde(default)]
    pub rotate_secret: bool,
}

impl RequestBody for WebhookRequest {}
impl RequestBody for WebhookPatch {}

/// Which deliveries: the query string of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this state.
    #[param(pattern = "^(pending|delivered|dead)$")]
    pub status: Option<String>,
    /// At most this many, 1 to 500; 50 by default.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "whole::query_u32")]
    pub limit: Option<u32>,
}

named!(
    WebhookView,
    NewWebhookView,
    UpdatedWebhookView,
    DeliveryView,
    WebhookRequest,
    WebhookPatch,
);

/// `GET /sites/{site}/webhooks`.
pub async fn list_webhooks(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let webhooks = admin.list_webhooks(&principal, site).await?;
    Ok(Json(webhooks.iter().map(WebhookView::from).collect()))
}

/// `POST /sites/{site}/webhooks`.
pub async fn create_webhook(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids(site): Ids<SiteId>,
    AdminJson(wanted): AdminJson<WebhookRequest>,
) -> Result<Created<NewWebhookView>, ApiError> {
    let made = admin
        .create_webhook(
            &principal,
            site,
            &wanted.url,
            wanted.enabled.unwrap_or(true),
        )
        .await?;
    Ok(Created(NewWebhookView {
        webhook: WebhookView::from(&made.webhook),
        secret: made.secret.as_str().to_owned(),
    }))
}

/// `GET /sites/{site}/webhooks/{webhook}`.
pub async fn get_webhook(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids((site, webhook)): Ids<(SiteId, WebhookId)>,
) -> Result<Json<WebhookView>, ApiError> {
    let webhook = admin.webhook(&principal, site, webhook).await?;
    Ok(Json(WebhookView::from(&webhook)))
}

/// `PATCH /sites/{site}/webhooks/{webhook}`.
pub async fn update_webhook(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids((site, webhook)): Ids<(SiteId, WebhookId)>,
    AdminJson(patch): AdminJson<WebhookPatch>,
) -> Result<Json<UpdatedWebhookView>, ApiError> {
    let update = WebhookUpdate {
        url: patch.url,
        enabled: patch.enabled,
        rotate_secret: patch.rotate_secret,
    };
    let (updated, secret) = admin
        .update_webhook(&principal, site, webhook, &update)
        .await?;
    Ok(Json(UpdatedWebhookView {
        webhook: WebhookView::from(&updated),
        secret: secret.map(|s| s.as_str().to_owned()),
    }))
}

/// `DELETE /sites/{site}/webhooks/{webhook}`: with its deliveries.
pub async fn delete_webhook(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids((site, webhook)): Ids<(SiteId, WebhookId)>,
) -> Result<NoContent, ApiError> {
    admin.delete_webhook(&principal, site, webhook).await?;
    Ok(NoContent)
}

/// `GET /sites/{site}/webhooks/{webhook}/deliveries`: newest first.
pub async fn list_deliveries(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids((site, webhook)): Ids<(SiteId, WebhookId)>,
    AdminQuery(params): AdminQuery<DeliveryParams>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    let status = params
        .status
        .as_deref()
        .map(|text| {
            DeliveryStatus::parse(text).ok_or_else(|| {
                ApiError::bad_request("invalid_query", "status is pending, delivered or dead")
            })
        })
        .transpose()?;
    let deliveries = admin
        .webhook_deliveries(&principal, site, webhook, status, params.limit)
        .await?;
    Ok(Json(deliveries.iter().map(DeliveryView::from).collect()))
}

/// `POST /sites/{site}/webhooks/{webhook}/deliveries/{delivery}/retry`: a
/// dead delivery becomes pending again.
pub async fn retry_delivery(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    Ids((site, webhook, delivery)): Ids<(SiteId, WebhookId, DeliveryId)>,
) -> Result<Json<DeliveryView>, ApiError> {
    let redelivered = admin.redeliver(&principal, site, webhook, delivery).await?;
    Ok(Json(DeliveryView::from(&redelivered)))
}
