//! [`HitCounter`] on PostgreSQL: one multi-row upsert per call, however
//! many buckets it adds to.

use super::{closed_as_closed, PostgresStore};
use crate::counters::HitCounter;
use crate::StoreError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use time::OffsetDateTime;

/// How long a window's row is kept after it started.
const KEEP_SECONDS: i64 = 120;

/// The most one bucket's count grows by in one call: far beyond any rate
/// limit, and far from overflowing the `bigint` column.
const MOST_HITS_PER_CALL: u64 = u32::MAX as u64;

/// Adds `$2` hits to each bucket of `$1` in the window `$3`. Buckets named
/// twice are summed first (an upsert may not touch a row twice), and rows
/// are written in bucket order, so that two nodes adding to the same
/// buckets at once lock them in the same order instead of deadlocking.
/// A counter lost in a crash only forgives a few requests: the commit
/// need not wait for the WAL flush that consent records wait for
/// (`set_config(..., true)` lasts until this statement's transaction
/// ends).
const ADD_HITS: &str = "WITH relaxed AS ( \
         SELECT set_config('synchronous_commit', 'off', true) \
     ), added AS ( \
         SELECT bucket, sum(hits)::bigint AS hits \
         FROM unnest($1::text[], $2::bigint[]) AS h (bucket, hits) \
         GROUP BY bucket \
     ) \
     INSERT INTO rate_limit_hits (bucket, window_start, hits) \
     SELECT a.bucket, $3, a.hits FROM relaxed, added AS a ORDER BY a.bucket \
     ON CONFLICT (bucket, window_start) \
         DO UPDATE SET hits = rate_limit_hits.hits + excluded.hits \
     RETURNING bucket, hits";

#[async_trait]
impl HitCounter for PostgresStore {
    async fn add(
        &self,
        hits: &[(String, u64)],
        window_start: OffsetDateTime,
    ) -> Result<Vec<u64>, StoreError> {
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let buckets: Vec<&str> = hits.iter().map(|(bucket, _)| bucket.as_str()).collect();
        let added: Vec<i64> = hits
            .iter()
            .map(|(_, n)| i64::try_from((*n).min(MOST_HITS_PER_CALL)).unwrap_or(i64::MAX))
            .collect();
        let rows: Vec<(String, i64)> = sqlx::query_as(ADD_HITS)
            .bind(buckets)
            .bind(added)
            .bind(window_start)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| closed_as_closed(e.into()))?;
        let counts: HashMap<String, u64> = rows
            .into_iter()
            .map(|(bucket, count)| (bucket, u64::try_from(count).unwrap_or(0)))
            .collect();
        // The first call this node makes in a new window clears old windows.
        // The hits are counted already: a failed clean-up must not fail the
        // call (its caller would count them again), it is tried again on
        // the next call.
        let start = window_start.unix_timestamp();
        if self.counters_window.swap(start, Ordering::Relaxed) != start {
            let cleared = sqlx::query("DELETE FROM rate_limit_hits WHERE window_start < $1")
                .bind(window_start - time::Duration::seconds(KEEP_SECONDS))
                .execute(&self.pool)
                .await;
            if let Err(error) = cleared {
                self.counters_window.store(0, Ordering::Relaxed);
                tracing::warn!(%error, "clearing old rate-limit windows failed");
            }
        }
        hits.iter()
            .map(|(bucket, _)| {
                counts.get(bucket).copied().ok_or_else(|| {
                    StoreError::Corrupt("a rate-limit bucket was not counted".to_owned())
                })
            })
            .collect()
    }
}
