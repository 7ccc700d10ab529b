//! Webhooks and their delivery outbox, behind the [`WebhookStore`] trait.
//!
//! Delivery rows are not made here: the consent store writes one per
//! enabled webhook of the site in the transaction that records the consent
//! (see `sqlite::writer` and `postgres::batcher`), so an
//! acknowledged consent always has its deliveries, and an idempotent replay
//! of an event id, which records nothing, enqueues nothing.
//!
//! A worker then [claims](WebhookStore::claim_deliveries) due rows: the
//! claim counts the attempt, moves the row's due time past a lease and
//! stamps it with a lease id; only that lease may
//! [settle](WebhookStore::settle_delivery) it. A worker that dies mid-send
//! leaves the row to be claimed again once the lease lapses (at least
//! once); two workers never hold the same row at once (on PostgreSQL the
//! claim uses `FOR UPDATE SKIP LOCKED`; SQLite has one writer).
//!
//! Changes by administrators commit with their audit entry, and every
//! method reading or changing a tenant's webhooks takes the tenant.

use crate::admin::AuditAppend;
use crate::{SiteId, StoreError, TenantId};
use async_trait::async_trait;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// A webhook's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebhookId(pub Uuid);

/// A delivery's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(pub Uuid);

/// The longest [`Delivery::last_error`] kept, in bytes (the schema checks it).
pub const MAX_ERROR_LEN: usize = 200;

/// A URL consent events of a site are posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// The tenant that owns it.
    pub tenant: TenantId,
    /// The site whose events it receives.
    pub site: SiteId,
    /// Where events are posted.
    pub url: String,
    /// The signing secret, sealed with the tenant's data key.
    pub secret_sealed: String,
    /// Whether new events are enqueued and pending ones sent.
    pub enabled: bool,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A change to a webhook; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookChange {
    /// A new URL.
    pub url: Option<String>,
    /// Enabled or disabled.
    pub enabled: Option<bool>,
    /// A new sealed secret (rotation).
    pub secret_sealed: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; sent again only when an administrator asks.
    Dead,
}

impl DeliveryStatus {
    /// The name in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// The status named `text`.
    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// One consent event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id (the `NexaGuard-Delivery` header).
    pub id: DeliveryId,
    /// The webhook.
    pub webhook: WebhookId,
    /// The consent event it carries.
    pub event_id: Uuid,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts started so far.
    pub attempts: u32,
    /// When it is due (pending), or when the current claim lapses.
    pub next_attempt_at: OffsetDateTime,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<u16>,
    /// When it was enqueued (with its consent).
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// When it was delivered.
    pub delivered_at: Option<OffsetDateTime>,
}

/// A delivery claimed by a worker, with what sending it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// The delivery, its attempt counted.
    pub delivery: Delivery,
    /// The claim; [`WebhookStore::settle_delivery`] needs it.
    pub lease: Uuid,
    /// The webhook's tenant (whose data key opens the secret).
    pub tenant: TenantId,
    /// The webhook's site.
    pub site: SiteId,
    /// Where to post.
    pub url: String,
    /// The sealed signing secret.
    pub secret_sealed: String,
    /// The recorded consent event as JSON.
    pub payload: String,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// 2xx: done. The payload is dropped.
    Delivered,
    /// Failed; due again at `next_attempt_at`.
    Retry {
        /// When to try again.
        next_attempt_at: OffsetDateTime,
        /// Why it failed (cut to [`MAX_ERROR_LEN`]).
        error: String,
        /// The receiver's status, if it answered.
        status: Option<u16>,
    },
    /// Failed for the last time.
    Dead {
        /// Why it failed (cut to [`MAX_ERROR_LEN`]).
        error: String,
        /// The receiver's status, if it answered.
        status: Option<u16>,
    },
}

/// The `webhooks` columns, in the order both backends read them.
pub(crate) const WEBHOOK_COLUMNS: &str =
    "id, tenant_id, site_id, url, secret_sealed, enabled, created_at, updated_at";

/// The `webhook_deliveries` columns (aliased `d`), in the order both
/// backends read them.
pub(crate) const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event_id, d.status, d.attempts, \
     d.next_attempt_at, d.last_error, d.last_status, d.created_at, d.updated_at, d.delivered_at";

/// `error` cut to at most [`MAX_ERROR_LEN`] bytes on a character boundary.
pub fn short_error(error: &str) -> String {
    let mut end = error.len().min(MAX_ERROR_LEN);
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error.get(..end).unwrap_or_default().to_owned()
}

/// The storage of webhooks and their deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync + 'static {
    /// Creates a webhook; [`StoreError::NotFound`] if its site is not a
    /// site of its tenant.
    async fn create_webhook(&self, webhook: &Webhook, audit: AuditAppend)
        -> Result<(), StoreError>;

    /// The webhooks of a site of `tenant`, oldest first.
    async fn webhooks(&self, tenant: TenantId, site: SiteId) -> Result<Vec<Webhook>, StoreError>;

    /// A webhook of `tenant`; `None` if it belongs to another.
    async fn webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
    ) -> Result<Option<Webhook>, StoreError>;

    /// Changes a webhook of `tenant`; `None`, changing nothing and
    /// appending nothing, if there is no such webhook in that tenant.
    async fn update_webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        change: &WebhookChange,
        audit: AuditAppend,
    ) -> Result<Option<Webhook>, StoreError>;

    /// Deletes a webhook of `tenant` with its deliveries; false, appending
    /// nothing, if there is no such webhook in that tenant.
    async fn delete_webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        audit: AuditAppend,
    ) -> Result<bool, StoreError>;

    /// Claims up to `limit` pending deliveries of enabled webhooks due at
    /// `now`, oldest due first: each gets one more attempt, a fresh lease,
    /// and a due time of `now + lease` (when another worker may take it if
    /// this one never settles it).
    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;

    /// Settles a claimed delivery; false, changing nothing, if the lease is
    /// no longer the delivery's (it lapsed and another worker took it, or
    /// the webhook was deleted).
    async fn settle_delivery(
        &self,
        delivery: DeliveryId,
        lease: Uuid,
        settlement: &Settlement,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The deliveries of a webhook of `tenant`, newest first, at most
    /// `limit`, only those with `status` if given. Empty for another
    /// tenant's webhook.
    async fn deliveries(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Makes a dead delivery of a webhook of `tenant` pending again, due at
    /// `now` with its attempts reset; `None`, changing nothing and
    /// appending nothing, if there is no such dead delivery.
    async fn redeliver(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: OffsetDateTime,
        audit: AuditAppend,
    ) -> Result<Option<Delivery>, StoreError>;
}
