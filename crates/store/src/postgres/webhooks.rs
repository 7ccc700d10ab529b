//! The PostgreSQL side of [`WebhookStore`], on the admin store's pool.
//!
//! Several nodes may run delivery workers on one database. A claim is one
//! statement: the due rows are picked with `FOR UPDATE SKIP LOCKED` (rows
//! another worker is claiming at that moment are skipped rather than
//! waited for) and updated with a fresh lease and a due time past it, so
//! once the claim commits no other worker sees them as due until the lease
//! lapses. Settling names the lease, so a worker whose claim lapsed and was
//! taken over cannot overwrite the newer attempt's outcome.

use super::admin::{append, PostgresAdminStore};
use super::codec::to_micros;
use crate::admin::AuditAppend;
use crate::webhooks::{
    short_error, ClaimedDelivery, Delivery, DeliveryId, DeliveryStatus, Settlement, Webhook,
    WebhookChange, WebhookId, WebhookStore, DELIVERY_COLUMNS, WEBHOOK_COLUMNS,
};
use crate::{SiteId, StoreError, TenantId};
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

fn webhook_from_row(row: &PgRow) -> Result<Webhook, StoreError> {
    Ok(Webhook {
        id: WebhookId(row.try_get("id")?),
        tenant: TenantId(row.try_get("tenant_id")?),
        site: SiteId(row.try_get("site_id")?),
        url: row.try_get("url")?,
        secret_sealed: row.try_get("secret_sealed")?,
        enabled: row.try_get("enabled")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn delivery_from_row(row: &PgRow) -> Result<Delivery, StoreError> {
    let status: String = row.try_get("status")?;
    let attempts: i32 = row.try_get("attempts")?;
    let last_status: Option<i32> = row.try_get("last_status")?;
    Ok(Delivery {
        id: DeliveryId(row.try_get("id")?),
        webhook: WebhookId(row.try_get("webhook_id")?),
        event_id: row.try_get("event_id")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("stored delivery status {status:?}")))?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("stored attempts {attempts}")))?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        last_status: last_status
            .map(|s| {
                u16::try_from(s).map_err(|_| StoreError::Corrupt(format!("stored status {s}")))
            })
            .transpose()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

async fn webhook_in(
    conn: &mut PgConnection,
    tenant: TenantId,
    webhook: WebhookId,
) -> Result<Option<Webhook>, StoreError> {
    sqlx::query(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(webhook.0)
    .bind(tenant.0)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(webhook_from_row)
    .transpose()
}

fn status_to_db(status: Option<u16>) -> Option<i32> {
    status.map(i32::from)
}

#[async_trait]
impl WebhookStore for PostgresAdminStore {
    async fn create_webhook(
        &self,
        webhook: &Webhook,
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        // Locks the site row against a concurrent change of its tenant
        // (there is none today; the check must not rely on that).
        let site_ok: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM sites WHERE id = $1 AND tenant_id = $2 FOR KEY SHARE")
                .bind(webhook.site.0)
                .bind(webhook.tenant.0)
                .fetch_optional(&mut *tx)
                .await?;
        if site_ok.is_none() {
            return Err(StoreError::NotFound(format!("site {}", webhook.site.0)));
        }
        sqlx::query(&format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(webhook.id.0)
        .bind(webhook.tenant.0)
        .bind(webhook.site.0)
        .bind(&webhook.url)
        .bind(&webhook.secret_sealed)
        .bind(webhook.enabled)
        .bind(to_micros(webhook.created_at)?)
        .bind(to_micros(webhook.updated_at)?)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn webhooks(&self, tenant: TenantId, site: SiteId) -> Result<Vec<Webhook>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE tenant_id = $1 AND site_id = $2 \
             ORDER BY created_at, id"
        ))
        .bind(tenant.0)
        .bind(site.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect()
    }

    async fn webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
    ) -> Result<Option<Webhook>, StoreError> {
        let mut conn = self.conn().await?;
        webhook_in(&mut conn, tenant, webhook).await
    }

    async fn update_webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        change: &WebhookChange,
        audit: AuditAppend,
    ) -> Result<Option<Webhook>, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        let updated = sqlx::query(&format!(
            "UPDATE webhooks SET url = coalesce($1, url), enabled = coalesce($2, enabled), \
             secret_sealed = coalesce($3, secret_sealed), updated_at = $4 \
             WHERE id = $5 AND tenant_id = $6 RETURNING {WEBHOOK_COLUMNS}"
        ))
        .bind(change.url.as_deref())
        .bind(change.enabled)
        .bind(change.secret_sealed.as_deref())
        .bind(to_micros(audit.at)?)
        .bind(webhook.0)
        .bind(tenant.0)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(webhook_from_row)
        .transpose()?;
        if updated.is_none() {
            return Ok(None);
        }
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn delete_webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        audit: AuditAppend,
    ) -> Result<bool, StoreError> {
        let signer = self.signer();
        let mut tx = self.begin().await?;
        // The row lock (taken first) makes a concurrent claim of its
        // deliveries wait, or be waited for, rather than interleave.
        let found: Option<(Uuid,)> =
            sqlx::query_as("SELECT id FROM webhooks WHERE id = $1 AND tenant_id = $2 FOR UPDATE")
                .bind(webhook.0)
                .bind(tenant.0)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
            .bind(webhook.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(webhook.0)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now = to_micros(now)?;
        let until = time::Duration::try_from(lease)
            .ok()
            .and_then(|lease| now.checked_add(lease))
            .ok_or_else(|| StoreError::Corrupt(format!("a lease of {lease:?} is out of range")))?;
        let mut conn = self.conn().await?;
        // One statement, so one transaction: the rows are locked by the
        // subquery and updated before anyone else can pick them.
        let rows = sqlx::query(&format!(
            "WITH due AS ( \
                 SELECT d.id FROM webhook_deliveries AS d \
                 JOIN webhooks AS w ON w.id = d.webhook_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled \
                 ORDER BY d.next_attempt_at, d.id LIMIT $3 \
                 FOR UPDATE OF d SKIP LOCKED \
             ) \
             UPDATE webhook_deliveries AS d \
             SET attempts = d.attempts + 1, next_attempt_at = $2, \
                 lease = gen_random_uuid(), updated_at = $1 \
             FROM due, webhooks AS w \
             WHERE d.id = due.id AND w.id = d.webhook_id \
             RETURNING {DELIVERY_COLUMNS}, d.lease, d.payload, w.tenant_id, w.site_id, \
                       w.url, w.secret_sealed"
        ))
        .bind(now)
        .bind(until)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let delivery = delivery_from_row(row)?;
            let payload: Option<String> = row.try_get("payload")?;
            claimed.push(ClaimedDelivery {
                lease: row.try_get("lease")?,
                tenant: TenantId(row.try_get("tenant_id")?),
                site: SiteId(row.try_get("site_id")?),
                url: row.try_get("url")?,
                secret_sealed: row.try_get("secret_sealed")?,
                payload: payload.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "pending delivery {} has no payload",
                        delivery.id.0
                    ))
                })?,
                delivery,
            });
        }
        // RETURNING gives no order; the trait promises oldest due first
        // (they all share the new due time, so the id breaks ties).
        claimed.sort_by_key(|c| (c.delivery.created_at, c.delivery.id));
        Ok(claimed)
    }

    async fn settle_delivery(
        &self,
        delivery: DeliveryId,
        lease: Uuid,
        settlement: &Settlement,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = to_micros(now)?;
        let query = match settlement {
            Settlement::Delivered => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'delivered', payload = NULL, \
                 lease = NULL, last_error = NULL, updated_at = $1, delivered_at = $1 \
                 WHERE id = $2 AND lease = $3 AND status = 'pending'",
            )
            .bind(now)
            .bind(delivery.0)
            .bind(lease),
            Settlement::Retry {
                next_attempt_at,
                error,
                status,
            } => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1, lease = NULL, \
                 last_error = $2, last_status = $3, updated_at = $4 \
                 WHERE id = $5 AND lease = $6 AND status = 'pending'",
            )
            .bind(to_micros(*next_attempt_at)?)
            .bind(short_error(error))
            .bind(status_to_db(*status))
            .bind(now)
            .bind(delivery.0)
            .bind(lease),
            Settlement::Dead { error, status } => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'dead', lease = NULL, \
                 last_error = $1, last_status = $2, updated_at = $3 \
                 WHERE id = $4 AND lease = $5 AND status = 'pending'",
            )
            .bind(short_error(error))
            .bind(status_to_db(*status))
            .bind(now)
            .bind(delivery.0)
            .bind(lease),
        };
        let mut conn = self.conn().await?;
        let done = query.execute(&mut *conn).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn deliveries(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut conn = self.conn().await?;
        sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries AS d \
             JOIN webhooks AS w ON w.id = d.webhook_id \
             WHERE d.webhook_id = $1 AND w.tenant_id = $2 \
               AND ($3::text IS NULL OR d.status = $3) \
             ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
        ))
        .bind(webhook.0)
        .bind(tenant.0)
        .bind(status.map(DeliveryStatus::as_str))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(delivery_from_row)
        .collect()
    }

    async fn redeliver(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        delivery: DeliveryId,
        now: OffsetDateTime,
        audit: AuditAppend,
    ) -> Result<Option<Delivery>, StoreError> {
        let signer = self.signer();
        let now = to_micros(now)?;
        let mut tx = self.begin().await?;
        let redelivered = sqlx::query(&format!(
            "UPDATE webhook_deliveries AS d SET status = 'pending', attempts = 0, \
             next_attempt_at = $1, lease = NULL, updated_at = $1 \
             FROM webhooks AS w \
             WHERE d.id = $2 AND d.webhook_id = $3 AND d.status = 'dead' \
               AND w.id = d.webhook_id AND w.tenant_id = $4 \
             RETURNING {DELIVERY_COLUMNS}"
        ))
        .bind(now)
        .bind(delivery.0)
        .bind(webhook.0)
        .bind(tenant.0)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(delivery_from_row)
        .transpose()?;
        if redelivered.is_none() {
            return Ok(None);
        }
        append(&mut tx, signer.as_deref(), audit).await?;
        tx.commit().await?;
        Ok(redelivered)
    }
}
