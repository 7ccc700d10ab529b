//! The SQLite side of [`WebhookStore`], on the admin store's connections:
//! changes are `BEGIN IMMEDIATE` transactions on its write connection (with
//! their audit entries), reads use its `query_only` pool.
//!
//! SQLite has one node, so one worker claims deliveries; the lease still
//! guards against a worker settling a row it no longer holds (a claim that
//! lapsed while a slow receiver kept it waiting).

use super::admin::{append, transaction, SqliteAdminStore};
use super::codec;
use crate::admin::rows::u64_from_db;
use crate::admin::AuditAppend;
use crate::webhooks::{
    short_error, ClaimedDelivery, Delivery, DeliveryId, DeliveryStatus, Settlement, Webhook,
    WebhookChange, WebhookId, WebhookStore, DELIVERY_COLUMNS, WEBHOOK_COLUMNS,
};
use crate::{SiteId, StoreError, TenantId};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

fn webhook_from_row(row: &SqliteRow) -> Result<Webhook, StoreError> {
    let enabled: i64 = row.try_get("enabled")?;
    Ok(Webhook {
        id: WebhookId(codec::uuid_from_db(row.try_get("id")?)?),
        tenant: TenantId(codec::uuid_from_db(row.try_get("tenant_id")?)?),
        site: SiteId(codec::uuid_from_db(row.try_get("site_id")?)?),
        url: row.try_get("url")?,
        secret_sealed: row.try_get("secret_sealed")?,
        enabled: enabled != 0,
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
        updated_at: codec::timestamp_from_db(row.try_get("updated_at")?)?,
    })
}

fn delivery_from_row(row: &SqliteRow) -> Result<Delivery, StoreError> {
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    let last_status: Option<i64> = row.try_get("last_status")?;
    Ok(Delivery {
        id: DeliveryId(codec::uuid_from_db(row.try_get("id")?)?),
        webhook: WebhookId(codec::uuid_from_db(row.try_get("webhook_id")?)?),
        event_id: codec::uuid_from_db(row.try_get("event_id")?)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("stored delivery status {status:?}")))?,
        attempts: u32::try_from(u64_from_db("attempts", attempts)?)
            .map_err(|_| StoreError::Corrupt(format!("stored attempts {attempts}")))?,
        next_attempt_at: codec::timestamp_from_db(row.try_get("next_attempt_at")?)?,
        last_error: row.try_get("last_error")?,
        last_status: last_status
            .map(|s| {
                u16::try_from(s).map_err(|_| StoreError::Corrupt(format!("stored status {s}")))
            })
            .transpose()?,
        created_at: codec::timestamp_from_db(row.try_get("created_at")?)?,
        updated_at: codec::timestamp_from_db(row.try_get("updated_at")?)?,
        delivered_at: codec::optional_timestamp_from_db(row.try_get("delivered_at")?)?,
    })
}

async fn webhook_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    webhook: WebhookId,
) -> Result<Option<Webhook>, StoreError> {
    sqlx::query(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ? AND tenant_id = ?"
    ))
    .bind(codec::uuid_to_db(webhook.0))
    .bind(codec::uuid_to_db(tenant.0))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(webhook_from_row)
    .transpose()
}

fn lease_end(now: OffsetDateTime, lease: Duration) -> Result<OffsetDateTime, StoreError> {
    time::Duration::try_from(lease)
        .ok()
        .and_then(|lease| now.checked_add(lease))
        .ok_or_else(|| StoreError::Corrupt(format!("a lease of {lease:?} is out of range")))
}

#[async_trait]
impl WebhookStore for SqliteAdminStore {
    async fn create_webhook(
        &self,
        webhook: &Webhook,
        audit: AuditAppend,
    ) -> Result<(), StoreError> {
        let signer = self.signer();
        transaction!(self, |conn| async {
            let site_ok = sqlx::query("SELECT 1 FROM sites WHERE id = ? AND tenant_id = ?")
                .bind(codec::uuid_to_db(webhook.site.0))
                .bind(codec::uuid_to_db(webhook.tenant.0))
                .fetch_optional(&mut *conn)
                .await?
                .is_some();
            if !site_ok {
                return Err(StoreError::NotFound(format!("site {}", webhook.site.0)));
            }
            sqlx::query(&format!(
                "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .bind(codec::uuid_to_db(webhook.id.0))
            .bind(codec::uuid_to_db(webhook.tenant.0))
            .bind(codec::uuid_to_db(webhook.site.0))
            .bind(&webhook.url)
            .bind(&webhook.secret_sealed)
            .bind(i64::from(webhook.enabled))
            .bind(codec::timestamp_to_db(webhook.created_at)?)
            .bind(codec::timestamp_to_db(webhook.updated_at)?)
            .execute(&mut *conn)
            .await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(())
        })
    }

    async fn webhooks(&self, tenant: TenantId, site: SiteId) -> Result<Vec<Webhook>, StoreError> {
        sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE tenant_id = ? AND site_id = ? \
             ORDER BY created_at, id"
        ))
        .bind(codec::uuid_to_db(tenant.0))
        .bind(codec::uuid_to_db(site.0))
        .fetch_all(&self.read)
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
        let mut conn = self.read.acquire().await?;
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
        let at = codec::timestamp_to_db(audit.at)?;
        transaction!(self, |conn| async {
            let done = sqlx::query(
                "UPDATE webhooks SET url = coalesce(?, url), enabled = coalesce(?, enabled), \
                 secret_sealed = coalesce(?, secret_sealed), updated_at = ? \
                 WHERE id = ? AND tenant_id = ?",
            )
            .bind(change.url.as_deref())
            .bind(change.enabled.map(i64::from))
            .bind(change.secret_sealed.as_deref())
            .bind(&at)
            .bind(codec::uuid_to_db(webhook.0))
            .bind(codec::uuid_to_db(tenant.0))
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let updated = webhook_in(&mut *conn, tenant, webhook).await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(updated)
        })
    }

    async fn delete_webhook(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        audit: AuditAppend,
    ) -> Result<bool, StoreError> {
        let signer = self.signer();
        transaction!(self, |conn| async {
            let id = codec::uuid_to_db(webhook.0);
            if webhook_in(&mut *conn, tenant, webhook).await?.is_none() {
                return Ok(false);
            }
            sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = ?")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM webhooks WHERE id = ?")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(true)
        })
    }

    async fn claim_deliveries(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let now_text = codec::timestamp_to_db(now)?;
        const DUE: &str = "FROM webhook_deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled = 1";
        // Looked for on the read pool first: the worker polls often, and an
        // idle poll must not take the write lock the consent writer needs.
        let any_due = sqlx::query(&format!("SELECT 1 {DUE} LIMIT 1"))
            .bind(&now_text)
            .fetch_optional(&self.read)
            .await?
            .is_some();
        if !any_due {
            return Ok(Vec::new());
        }
        let until = codec::timestamp_to_db(lease_end(now, lease)?)?;
        transaction!(self, |conn| async {
            let rows = sqlx::query(&format!(
                "SELECT {DELIVERY_COLUMNS}, d.payload, w.tenant_id, w.site_id, w.url, \
                 w.secret_sealed {DUE} ORDER BY d.next_attempt_at, d.id LIMIT ?"
            ))
            .bind(&now_text)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut delivery = delivery_from_row(row)?;
                let lease = Uuid::new_v4();
                sqlx::query(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, \
                     next_attempt_at = ?, lease = ?, updated_at = ? WHERE id = ?",
                )
                .bind(&until)
                .bind(codec::uuid_to_db(lease))
                .bind(&now_text)
                .bind(codec::uuid_to_db(delivery.id.0))
                .execute(&mut *conn)
                .await?;
                delivery.attempts = delivery.attempts.saturating_add(1);
                delivery.next_attempt_at = codec::timestamp_from_db(&until)?;
                delivery.updated_at = now;
                let payload: Option<String> = row.try_get("payload")?;
                claimed.push(ClaimedDelivery {
                    lease,
                    tenant: TenantId(codec::uuid_from_db(row.try_get("tenant_id")?)?),
                    site: SiteId(codec::uuid_from_db(row.try_get("site_id")?)?),
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
            Ok::<_, StoreError>(claimed)
        })
    }

    async fn settle_delivery(
        &self,
        delivery: DeliveryId,
        lease: Uuid,
        settlement: &Settlement,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now_text = codec::timestamp_to_db(now)?;
        let id = codec::uuid_to_db(delivery.0);
        let lease = codec::uuid_to_db(lease);
        let query = match settlement {
            Settlement::Delivered => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'delivered', payload = NULL, \
                 lease = NULL, last_error = NULL, updated_at = ?1, delivered_at = ?1 \
                 WHERE id = ?2 AND lease = ?3 AND status = 'pending'",
            )
            .bind(now_text)
            .bind(id)
            .bind(lease),
            Settlement::Retry {
                next_attempt_at,
                error,
                status,
            } => sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = ?1, lease = NULL, \
                 last_error = ?2, last_status = ?3, updated_at = ?4 \
                 WHERE id = ?5 AND lease = ?6 AND status = 'pending'",
            )
            .bind(codec::timestamp_to_db(*next_attempt_at)?)
            .bind(short_error(error))
            .bind(status.map(i64::from))
            .bind(now_text)
            .bind(id)
            .bind(lease),
            Settlement::Dead { error, status } => sqlx::query(
                "UPDATE webhook_deliveries SET status = 'dead', lease = NULL, \
                 last_error = ?1, last_status = ?2, updated_at = ?3 \
                 WHERE id = ?4 AND lease = ?5 AND status = 'pending'",
            )
            .bind(short_error(error))
            .bind(status.map(i64::from))
            .bind(now_text)
            .bind(id)
            .bind(lease),
        };
        let mut guard = self.write.lock().await;
        let write = &mut *guard;
        if write.in_transaction {
            sqlx::query("ROLLBACK").execute(&mut write.conn).await?;
            write.in_transaction = false;
        }
        let done = query.execute(&mut write.conn).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn deliveries(
        &self,
        tenant: TenantId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries AS d \
             JOIN webhooks AS w ON w.id = d.webhook_id \
             WHERE d.webhook_id = ? AND w.tenant_id = ? AND (? IS NULL OR d.status = ?) \
             ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
        ))
        .bind(codec::uuid_to_db(webhook.0))
        .bind(codec::uuid_to_db(tenant.0))
        .bind(status.map(DeliveryStatus::as_str))
        .bind(status.map(DeliveryStatus::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
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
        let now_text = codec::timestamp_to_db(now)?;
        transaction!(self, |conn| async {
            let done = sqlx::query(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, \
                 next_attempt_at = ?1, lease = NULL, updated_at = ?1 \
                 WHERE id = ?2 AND webhook_id = ?3 AND status = 'dead' \
                 AND webhook_id IN (SELECT id FROM webhooks WHERE tenant_id = ?4)",
            )
            .bind(&now_text)
            .bind(codec::uuid_to_db(delivery.0))
            .bind(codec::uuid_to_db(webhook.0))
            .bind(codec::uuid_to_db(tenant.0))
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let row = sqlx::query(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries AS d WHERE d.id = ?"
            ))
            .bind(codec::uuid_to_db(delivery.0))
            .fetch_one(&mut *conn)
            .await?;
            let redelivered = delivery_from_row(&row)?;
            append(conn, signer.as_deref(), audit).await?;
            Ok::<_, StoreError>(Some(redelivered))
        })
    }
}
