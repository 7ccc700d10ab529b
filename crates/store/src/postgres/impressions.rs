//! Impressions in PostgreSQL: their column values for the batcher, the
//! read by event ids, and their part of retention.
//!
//! Invariant: an impression's id is in `consent_ids` exactly when the
//! impression is stored. Both are written by one statement (the batcher's,
//! beside the consents of the same batch) and deleted by one, so a retry or
//! a reuse of an id (by an impression or a consent) is answered from
//! `consent_ids`, as for consents.

use super::batcher::{EventKind, PreparedEvent};
use super::codec;
use crate::{NewImpression, SiteId, StoreError};
use nexaguard_consent::event::Impression;
use nexaguard_consent::Environment;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// One retention chunk, impressions with their ids: `$1` the cutoff's
/// microsecond, `$2` its nanoseconds beyond, `$3` the most rows.
const DELETE_CHUNK: &str = "WITH gone AS ( \
         DELETE FROM impressions \
         WHERE event_id IN ( \
             SELECT event_id FROM impressions \
             WHERE recorded_at <= $1 AND (recorded_at < $1 OR recorded_at_ns < $2) \
             LIMIT $3) \
         RETURNING event_id \
     ), forgotten AS ( \
         DELETE FROM consent_ids WHERE event_id IN (SELECT event_id FROM gone) \
     ) \
     SELECT count(*) FROM gone";

/// An impression as the column values the batcher writes (see
/// [`crate::Store::record_impression`]).
pub(super) fn prepare(new: NewImpression) -> Result<PreparedEvent, StoreError> {
    let NewImpression {
        site_id,
        impression,
        body_hash,
    } = new;
    let (recorded_at, recorded_at_ns) = codec::split_nanos(impression.recorded_at)?;
    Ok(PreparedEvent {
        event_id: impression.event_id,
        site_id: site_id.0,
        environment: impression.environment.as_str(),
        body_hash,
        recorded_at,
        recorded_at_ns,
        answer_at: impression.recorded_at,
        body: codec::json_to_db("impression", &impression)?,
        kind: EventKind::Impression,
    })
}

/// The impressions among `event_ids` in the site environment.
pub(super) async fn by_event_ids(
    pool: &PgPool,
    site: SiteId,
    environment: Environment,
    event_ids: &[Uuid],
) -> Result<Vec<Impression>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT body FROM impressions \
         WHERE site_id = $1 AND environment = $2 AND event_id = ANY($3)",
    )
    .bind(site.0)
    .bind(environment.as_str())
    .bind(event_ids)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(body,)| codec::json_from_db("impression", &body))
        .collect()
}

/// Deletes the impressions recorded before the cutoff (given split as
/// `codec::split_nanos` splits it), with their ids, in chunks of `chunk`.
pub(super) async fn delete_before(
    pool: &PgPool,
    cutoff_micros: OffsetDateTime,
    cutoff_ns: i16,
    chunk: i64,
) -> Result<(), StoreError> {
    loop {
        let (deleted,): (i64,) = sqlx::query_as(DELETE_CHUNK)
            .bind(cutoff_micros)
            .bind(cutoff_ns)
            .bind(chunk)
            .fetch_one(pool)
            .await?;
        if deleted < chunk {
            return Ok(());
        }
    }
}
