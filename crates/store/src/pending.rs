//! The count behind [`crate::Store::pending_writes`], shared by both
//! backends' write queues.
//!
//! Invariant: an event is counted exactly while its job exists. The guard
//! lives in the job, so the count is right whichever way the job ends:
//! answered, refused by a closed queue, or abandoned.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts one event in the write queue for as long as it exists.
#[derive(Debug)]
pub(crate) struct PendingGuard(Arc<AtomicUsize>);

impl PendingGuard {
    /// Counts one more event in `pending` until the guard is dropped.
    pub(crate) fn new(pending: &Arc<AtomicUsize>) -> Self {
        pending.fetch_add(1, Ordering::Relaxed);
        PendingGuard(Arc::clone(pending))
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
