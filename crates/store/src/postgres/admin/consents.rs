//! The consent search of the admin API, on the partitioned consent table
//! the batcher fills.
//!
//! Invariant: every search is scoped to one site environment, and pages
//! follow the `(recorded_at, event_id)` order of its cursor, to the
//! nanosecond.

use super::Backend;
use crate::admin::ConsentQuery;
use crate::postgres::codec;
use crate::StoreError;
use nexaguard_consent::event::ConsentEvent;
use sqlx::postgres::Postgres;

/// Newest first in the order of the instant to the nanosecond
/// (`recorded_at`, then `recorded_at_ns`), then the event id: the
/// order of the cursor, which is a recorded time with nanoseconds and
/// an id, and the order of the SQLite store. Every time bound is also
/// given on `recorded_at` alone, rounded to its microsecond, so that
/// the planner can prune the monthly partitions and bound its scan of
/// `consents_by_recorded_at` (see `migrations-postgres/0002_admin.sql`
/// on indexes).
pub(super) async fn search_consents(
    store: &Backend,
    query: &ConsentQuery,
) -> Result<Vec<ConsentEvent>, StoreError> {
    let mut sql = sqlx::QueryBuilder::<Postgres>::new("SELECT body FROM consents WHERE site_id = ");
    sql.push_bind(query.site.0);
    sql.push(" AND environment = ")
        .push_bind(query.environment.as_str());
    if let Some(token) = &query.token {
        sql.push(" AND token_hash = ")
            .push_bind(token.as_bytes().to_vec());
    }
    if let Some(event_id) = query.event_id {
        sql.push(" AND event_id = ").push_bind(event_id);
    }
    if let Some(from) = query.from {
        let (micros, ns) = codec::split_nanos(from)?;
        sql.push(" AND recorded_at >= ")
            .push_bind(micros)
            .push(" AND (recorded_at, recorded_at_ns) >= (")
            .push_bind(micros)
            .push(", ")
            .push_bind(ns)
            .push(")");
    }
    if let Some(to) = query.to {
        let (micros, ns) = codec::split_nanos(to)?;
        sql.push(" AND recorded_at <= ")
            .push_bind(micros)
            .push(" AND (recorded_at, recorded_at_ns) < (")
            .push_bind(micros)
            .push(", ")
            .push_bind(ns)
            .push(")");
    }
    if let Some((at, id)) = query.before {
        let (micros, ns) = codec::split_nanos(at)?;
        sql.push(" AND recorded_at <= ")
            .push_bind(micros)
            .push(" AND (recorded_at, recorded_at_ns, event_id) < (")
            .push_bind(micros)
            .push(", ")
            .push_bind(ns)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" ORDER BY recorded_at DESC, recorded_at_ns DESC, event_id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let mut conn = store.conn().await?;
    let rows: Vec<(String,)> = sql.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter()
        .map(|(body,)| codec::json_from_db("consent event", &body))
        .collect()
}
