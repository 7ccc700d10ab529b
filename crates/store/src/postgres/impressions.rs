//! Impressions in PostgreSQL: recording, the read by event ids, and their
//! part of retention.
//!
//! Invariant: an impression's id is in `consent_ids` exactly when the
//! impression is stored. Both are written by one statement and deleted by
//! one, so a retry or a reuse of an id (by an impression or a consent) is
//! answered from `consent_ids`, as for consents.

use super::codec;
use crate::{NewImpression, RecordOutcome, SiteId, StoreError};
use nexaguard_consent::event::Impression;
use nexaguard_consent::Environment;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// Records an impression in one statement: its id into `consent_ids`
/// unless known, and the impression only if the id was new. The row count
/// (1 or 0) says which happened.
const INSERT: &str = "WITH new_id AS ( \
         INSERT INTO consent_ids \
             (event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (event_id) DO NOTHING \
         RETURNING event_id \
     ) \
     INSERT INTO impressions (event_id, site_id, environment, body_hash, \
                              recorded_at, recorded_at_ns, body) \
     SELECT event_id, $2, $3, $4, $5, $6, $7 FROM new_id";

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

/// How often recording tries before giving up: once more if a known id
/// vanished (retention) between the insert and the lookup.
const ATTEMPTS: usize = 3;

/// Records `new`; see [`crate::Store::record_impression`].
pub(super) async fn record(pool: &PgPool, new: NewImpression) -> Result<RecordOutcome, StoreError> {
    let NewImpression {
        site_id,
        impression,
        body_hash,
    } = new;
    let (recorded_at, recorded_at_ns) = codec::split_nanos(impression.recorded_at)?;
    let body = codec::json_to_db("impression", &impression)?;
    for _ in 0..ATTEMPTS {
        let done = sqlx::query(INSERT)
            .bind(impression.event_id)
            .bind(site_id.0)
            .bind(impression.environment.as_str())
            .bind(body_hash.as_slice())
            .bind(recorded_at)
            .bind(recorded_at_ns)
            .bind(&body)
            .execute(pool)
            .await?;
        if done.rows_affected() > 0 {
            return Ok(RecordOutcome::Recorded {
                recorded_at: impression.recorded_at,
            });
        }
        let known: Option<(Vec<u8>, OffsetDateTime, i16)> =
            sqlx::query_as(super::LOOKUP_CONSENT_ID)
                .bind(impression.event_id)
                .fetch_optional(pool)
                .await?;
        match known {
            Some((hash, micros, beyond)) if hash == body_hash => {
                return Ok(RecordOutcome::Duplicate {
                    recorded_at: codec::join_nanos(micros, beyond)?,
                })
            }
            Some(_) => return Ok(RecordOutcome::Conflict),
            // Forgotten by retention since the insert saw it: the next
            // attempt records it anew.
            None => {}
        }
    }
    Err(StoreError::Corrupt(format!(
        "impression {} was neither recorded nor found after {ATTEMPTS} attempts",
        impression.event_id
    )))
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
