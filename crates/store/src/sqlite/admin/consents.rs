//! The consent search of the admin API, on the consent tables the writer
//! thread fills.
//!
//! Invariant: every search is scoped to one site environment, and pages
//! follow the `(recorded_at, event_id)` order of its cursor.

use super::Backend;
use crate::admin::ConsentQuery;
use crate::sqlite::codec;
use crate::StoreError;
use nexaguard_consent::event::ConsentEvent;

pub(super) async fn search_consents(
    store: &Backend,
    query: &ConsentQuery,
) -> Result<Vec<ConsentEvent>, StoreError> {
    let mut sql =
        sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT body FROM consents WHERE site_id = ");
    sql.push_bind(codec::uuid_to_db(query.site.0));
    sql.push(" AND environment = ")
        .push_bind(query.environment.as_str());
    if let Some(token) = &query.token {
        sql.push(" AND token_hash = ")
            .push_bind(token.as_bytes().to_vec());
    }
    if let Some(event_id) = query.event_id {
        sql.push(" AND event_id = ")
            .push_bind(codec::uuid_to_db(event_id));
    }
    if let Some(from) = query.from {
        sql.push(" AND recorded_at >= ")
            .push_bind(codec::timestamp_to_db(from)?);
    }
    if let Some(to) = query.to {
        sql.push(" AND recorded_at < ")
            .push_bind(codec::timestamp_to_db(to)?);
    }
    if let Some((at, id)) = query.before {
        sql.push(" AND (recorded_at, event_id) < (")
            .push_bind(codec::timestamp_to_db(at)?)
            .push(", ")
            .push_bind(codec::uuid_to_db(id))
            .push(")");
    }
    sql.push(" ORDER BY recorded_at DESC, event_id DESC LIMIT ")
        .push_bind(i64::from(query.limit));
    let rows: Vec<(String,)> = sql.build_query_as().fetch_all(&store.read).await?;
    rows.into_iter()
        .map(|(body,)| codec::json_from_db("consent event", &body))
        .collect()
}
