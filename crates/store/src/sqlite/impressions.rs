//! Impressions in the SQLite file: the statements the writer runs for
//! them, and the read by event ids.
//!
//! Invariant: impressions are written only by the writer thread, in the
//! same batches as consents (see `writer`), so an event id is checked
//! against both tables inside the transaction that inserts it.

use super::codec;
use crate::{NewImpression, SiteId, StoreError};
use nexaguard_consent::event::Impression;
use nexaguard_consent::Environment;
use sqlx::SqlitePool;
use time::OffsetDateTime;
use uuid::Uuid;

/// Inserts an impression unless its id is stored already.
pub(super) const INSERT: &str = "INSERT INTO impressions \
     (event_id, site_id, environment, body_hash, recorded_at, body) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_id) DO NOTHING";

/// What is stored for an impression's id, to tell a duplicate from a
/// conflict.
pub(super) const LOOKUP: &str =
    "SELECT body_hash, recorded_at FROM impressions WHERE event_id = ?1";

/// One retention chunk: `?1` the cutoff, `?2` the most rows.
pub(super) const DELETE_CHUNK: &str = "DELETE FROM impressions WHERE rowid IN \
     (SELECT rowid FROM impressions WHERE recorded_at < ?1 LIMIT ?2)";

/// Ids one read binds at most, well under SQLite's variable limit.
const READ_CHUNK: usize = 500;

/// An impression turned into column values on the caller's task.
#[derive(Debug)]
pub(super) struct PreparedImpression {
    pub(super) event_id: String,
    pub(super) site_id: String,
    pub(super) environment: &'static str,
    pub(super) body_hash: [u8; 32],
    /// The time to answer with when the impression is new.
    pub(super) recorded_at: OffsetDateTime,
    pub(super) recorded_at_text: String,
    pub(super) body: String,
}

impl PreparedImpression {
    pub(super) fn new(new: NewImpression) -> Result<Self, StoreError> {
        let NewImpression {
            site_id,
            impression,
            body_hash,
        } = new;
        Ok(PreparedImpression {
            event_id: codec::uuid_to_db(impression.event_id),
            site_id: codec::uuid_to_db(site_id.0),
            environment: impression.environment.as_str(),
            body_hash,
            recorded_at: impression.recorded_at,
            recorded_at_text: codec::timestamp_to_db(impression.recorded_at)?,
            body: codec::json_to_db("impression", &impression)?,
        })
    }
}

/// The impressions among `event_ids` in the site environment.
pub(super) async fn by_event_ids(
    read: &SqlitePool,
    site: SiteId,
    environment: Environment,
    event_ids: &[Uuid],
) -> Result<Vec<Impression>, StoreError> {
    let mut found = Vec::new();
    for chunk in event_ids.chunks(READ_CHUNK) {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "SELECT body FROM impressions WHERE site_id = ",
        );
        sql.push_bind(codec::uuid_to_db(site.0))
            .push(" AND environment = ")
            .push_bind(environment.as_str())
            .push(" AND event_id IN (");
        let mut ids = sql.separated(", ");
        for id in chunk {
            ids.push_bind(codec::uuid_to_db(*id));
        }
        sql.push(")");
        let rows: Vec<(String,)> = sql.build_query_as().fetch_all(read).await?;
        for (body,) in rows {
            found.push(codec::json_from_db("impression", &body)?);
        }
    }
    Ok(found)
}
