//! Configuration drafts, one per site, saved over the revision the
//! editor loaded.
//!
//! Invariant: a save over a revision that is no longer the stored one
//! changes nothing and says which revision is stored (two editors cannot
//! overwrite each other unknowingly, on any nodes).

use super::{append, transaction, Backend};
use crate::admin::{AuditAppend, Draft, DraftSave};
use crate::postgres::codec;
use crate::{SiteId, StoreError};
use sqlx::postgres::PgConnection;
use time::OffsetDateTime;

pub(super) async fn draft(store: &Backend, site: SiteId) -> Result<Option<Draft>, StoreError> {
    let mut conn = store.conn().await?;
    let row: Option<(i32, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT revision, config_json, updated_at FROM config_drafts WHERE site_id = $1",
    )
    .bind(site.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(revision, config_json, updated_at)| {
        Ok(Draft {
            site,
            revision: codec::version_from_db(revision)?,
            config_json,
            updated_at,
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
    let now = codec::store_clock()?;
    transaction!(store, |conn| async {
        // The compare and the set are one statement, so two editors saving
        // on the same base (on any nodes) cannot both succeed: the second
        // waits for the first and then finds the revision moved on, or the
        // first draft there.
        let saved: Option<(i32,)> = match base_revision {
            None => {
                sqlx::query_as(
                    "INSERT INTO config_drafts (site_id, revision, config_json, updated_at) \
                     VALUES ($1, 1, $2, $3) ON CONFLICT (site_id) DO NOTHING \
                     RETURNING revision",
                )
                .bind(site.0)
                .bind(config_json)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?
            }
            Some(base) => {
                let base = i32::try_from(base)
                    .map_err(|_| StoreError::Corrupt(format!("draft revision {base}")))?;
                sqlx::query_as(
                    "UPDATE config_drafts SET revision = revision + 1, config_json = $1, \
                     updated_at = $2 WHERE site_id = $3 AND revision = $4 RETURNING revision",
                )
                .bind(config_json)
                .bind(now)
                .bind(site.0)
                .bind(base)
                .fetch_optional(&mut *conn)
                .await?
            }
        };
        let Some((next,)) = saved else {
            let current = draft_revision(conn, site).await?;
            return Ok(DraftSave::Stale {
                current: current.unwrap_or(0),
            });
        };
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(DraftSave::Saved(codec::version_from_db(next)?))
    })
}

/// The revision of a site's draft, if it has one.
async fn draft_revision(conn: &mut PgConnection, site: SiteId) -> Result<Option<u32>, StoreError> {
    let current: Option<(i32,)> =
        sqlx::query_as("SELECT revision FROM config_drafts WHERE site_id = $1")
            .bind(site.0)
            .fetch_optional(conn)
            .await?;
    current
        .map(|(revision,)| codec::version_from_db(revision))
        .transpose()
}
