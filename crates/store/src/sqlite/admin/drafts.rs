//! Configuration drafts, one per site, saved over the revision the
//! editor loaded.
//!
//! Invariant: a save over a revision that is no longer the stored one
//! changes nothing and says which revision is stored (two editors cannot
//! overwrite each other unknowingly).

use super::{append, transaction, Backend};
use crate::admin::{AuditAppend, Draft, DraftSave};
use crate::sqlite::codec;
use crate::{SiteId, StoreError};
use time::OffsetDateTime;

pub(super) async fn draft(store: &Backend, site: SiteId) -> Result<Option<Draft>, StoreError> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT revision, config_json, updated_at FROM config_drafts WHERE site_id = ?",
    )
    .bind(codec::uuid_to_db(site.0))
    .fetch_optional(&store.read)
    .await?;
    row.map(|(revision, config_json, updated_at)| {
        Ok(Draft {
            site,
            revision: codec::version_from_db(revision)?,
            config_json,
            updated_at: codec::timestamp_from_db(&updated_at)?,
        })
    })
    .transpose()
}

pub(super) async fn save_draft(
    store: &Backend,
    site: SiteId,
    config_json: &str,
    base_revision: Option<u32>,
    audit: AuditAppend,
) -> Result<DraftSave, StoreError> {
    let signer = store.signer();
    let site_text = codec::uuid_to_db(site.0);
    let now = codec::timestamp_to_db(OffsetDateTime::now_utc())?;
    transaction!(store, |conn| async {
        let current: Option<(i64,)> =
            sqlx::query_as("SELECT revision FROM config_drafts WHERE site_id = ?")
                .bind(&site_text)
                .fetch_optional(&mut *conn)
                .await?;
        let current = current
            .map(|(revision,)| codec::version_from_db(revision))
            .transpose()?;
        if current != base_revision {
            return Ok(DraftSave::Stale {
                current: current.unwrap_or(0),
            });
        }
        let next = current.unwrap_or(0).saturating_add(1);
        sqlx::query(
            "INSERT INTO config_drafts (site_id, revision, config_json, updated_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (site_id) DO UPDATE \
             SET revision = ?2, config_json = ?3, updated_at = ?4",
        )
        .bind(&site_text)
        .bind(i64::from(next))
        .bind(config_json)
        .bind(&now)
        .execute(&mut *conn)
        .await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(DraftSave::Saved(next))
    })
}
