//! Hit counters shared by every node on one database, for rate limits
//! that hold across nodes (a client cannot multiply its budget by
//! spreading requests over the nodes behind a load balancer).
//!
//! A node keeps its own hits in memory and adds them to the shared counts
//! now and then, several buckets in one call, learning every node's total
//! in the answer; the server's rate limiter decides when.

use crate::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;

/// Counts hits per bucket and fixed window, for all nodes together.
#[async_trait]
pub trait HitCounter: Send + Sync + 'static {
    /// Adds each `(bucket, hits)` of `hits` to that bucket's count in the
    /// window starting at `window_start`, all in one write, and returns
    /// each bucket's count after the addition (every node's hits, these
    /// included), in the order of `hits`. A bucket named twice gets the sum
    /// of its hits and the same count in both places; adding 0 reads a
    /// count. A lost write only forgives a few requests, so an
    /// implementation need not make it durable before answering.
    async fn add(
        &self,
        hits: &[(String, u64)],
        window_start: OffsetDateTime,
    ) -> Result<Vec<u64>, StoreError>;
}
