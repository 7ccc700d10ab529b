//! Hit counters shared by every node on one database, for rate limits
//! that hold across nodes (a client cannot multiply its budget by
//! spreading requests over the nodes behind a load balancer).

use crate::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;

/// Counts hits per bucket and fixed window.
#[async_trait]
pub trait HitCounter: Send + Sync + 'static {
    /// Adds one hit to `bucket` in the window starting at `window_start`
    /// and returns the window's count, this hit included.
    async fn hit(&self, bucket: &str, window_start: OffsetDateTime) -> Result<u64, StoreError>;
}
