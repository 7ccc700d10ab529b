//! [`HitCounter`] on PostgreSQL: one upsert per hit.

use super::PostgresStore;
use crate::counters::HitCounter;
use crate::StoreError;
use async_trait::async_trait;
use std::sync::atomic::Ordering;
use time::OffsetDateTime;

/// How long a window's row is kept after it started.
const KEEP_SECONDS: i64 = 120;

#[async_trait]
impl HitCounter for PostgresStore {
    async fn hit(&self, bucket: &str, window_start: OffsetDateTime) -> Result<u64, StoreError> {
        // One statement, so one round trip and the row lock held only for
        // it. A counter lost in a crash only forgives a few requests: the
        // commit need not wait for the WAL flush that consent records wait
        // for (`set_config(..., true)` lasts until this statement's
        // transaction ends).
        let (hits,): (i64,) = sqlx::query_as(
            "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) \
             INSERT INTO rate_limit_hits (bucket, window_start, hits) \
             SELECT $1, $2, 1 FROM relaxed \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1 \
             RETURNING hits",
        )
        .bind(bucket)
        .bind(window_start)
        .fetch_one(&self.pool)
        .await?;
        // The first hit this node sees in a new window clears old windows.
        let start = window_start.unix_timestamp();
        if self.counters_window.swap(start, Ordering::Relaxed) != start {
            sqlx::query("DELETE FROM rate_limit_hits WHERE window_start < $1")
                .bind(window_start - time::Duration::seconds(KEEP_SECONDS))
                .execute(&self.pool)
                .await?;
        }
        Ok(u64::try_from(hits).unwrap_or(0))
    }
}
