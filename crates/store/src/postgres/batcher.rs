//! Group commit on PostgreSQL: how consents and impressions are written.
//!
//! Invariants:
//! - An event is answered only after the statement that holds it has
//!   committed: with `synchronous_commit` on (the store refuses a server
//!   where it is off), after its WAL is flushed.
//! - An event whose id is stored already (before, by another node, or
//!   earlier in the same batch, as a consent or an impression) writes
//!   nothing and is answered from `consent_ids`: the same body hash is a
//!   duplicate (with the stored time), another a conflict.
//! - An event the database refuses fails only itself: a batch that fails
//!   is recorded again one event per statement.
//! - Memory stays bounded: the queue is bounded, callers wait for room, and
//!   at most [`WORKERS`] batches of [`MAX_BATCH`] are written at a time.
//! - A database that does not answer costs an event the pool's acquire
//!   timeout at most, from its arrival (waiting for room in the queue, then
//!   for a connection), as when each request took its own connection: then
//!   it is answered with an error that is a 503, never held longer behind
//!   other batches.
//!
//! Why: every commit waits for a WAL flush, and one transaction per event
//! made each request pay for a commit of its own. Here callers turn their
//! event into column values on their own task and hand it to a bounded
//! queue; a worker task takes whatever is queued (up to [`MAX_BATCH`])
//! and writes it with ONE statement, so in one implicit
//! transaction with one commit: the ids go into `consent_ids` from bound
//! arrays (`unnest`), and only the new ones into `consents` (with their
//! webhook deliveries) or `impressions`. Only when some ids were not new
//! does a second statement read what is stored for them. A batch is what
//! piled up during the previous commit: a lone request is never held back
//! waiting for company.
//!
//! The queue is a Tokio channel shared by the workers behind a Tokio
//! mutex: one worker at a time waits on it (`recv_many`), the others
//! commit meanwhile (there is one worker now; see [`WORKERS`]).

use super::partitions::{self, MonthPartition};
use super::{codec, is_missing_partition};
use crate::pending::PendingGuard;
use crate::{RecordOutcome, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The most events one statement writes: bounds the statement's size
/// (bodies are bound as parameters, a few KB each) and the wait of the
/// first event of a batch.
pub(super) const MAX_BATCH: usize = 256;

/// Worker tasks per store: batches of one node written at the same time.
/// One, measured: on the two-node bench (bench/ingest/postgres.sh, 16
/// connections per node) one worker commits ~7.5 events per statement and
/// two split the same arrivals into ~4 per statement, which costs more CPU
/// in PostgreSQL per event (54 against 77 us: each statement has a fixed
/// cost of ~0.2 ms, its executor start-up and commit) and in the node, and
/// gave 14,400-14,600 consents/s against 10,900-11,700. Concurrency comes
/// from the nodes and from batching itself: events that arrive during a
/// commit share the next one. More workers only pay where a statement's
/// round trip, not its CPU, is the bottleneck (a distant database); the
/// queue is shared behind a mutex so that this number can be raised.
pub(super) const WORKERS: usize = 1;

/// Events the queue holds before callers wait for room.
const QUEUE_CAPACITY: usize = 8 * MAX_BATCH;

/// How often a batch is tried before its unsettled events are given up:
/// once more after creating missing partitions, and once more for each id
/// that was found taken by the insert and then gone from the lookup
/// (retention deleted it in between).
const ATTEMPTS: usize = 4;

/// Writes a batch: the ids into `consent_ids` unless they are known, then,
/// for the new ids only, the consents with one webhook delivery per
/// enabled webhook of their site, and the impressions. One statement, so
/// one implicit transaction: all of it commits or nothing does. Answers the
/// new ids.
///
/// `$1`..`$9` are the consents' columns as arrays (event id, site id,
/// environment, body hash, recorded_at to the microsecond, the nanoseconds
/// beyond, token hash, inserted_at, body), `$10`..`$16` the impressions'
/// (event id, site id, environment, body hash, recorded_at, nanoseconds,
/// body). An id appears at most once in all of them (the caller sees to
/// that). The ids are inserted in id order, so that two nodes writing the
/// same ids at once take their locks in the same order.
const INSERT_BATCH: &str = "WITH consent_rows AS ( \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], \
                              $5::timestamptz[], $6::int2[], $7::bytea[], \
                              $8::timestamptz[], $9::text[]) \
             AS r (event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns, \
                   token_hash, inserted_at, body) \
     ), impression_rows AS ( \
         SELECT * FROM unnest($10::uuid[], $11::uuid[], $12::text[], $13::bytea[], \
                              $14::timestamptz[], $15::int2[], $16::text[]) \
             AS r (event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns, \
                   body) \
     ), new_id AS ( \
         INSERT INTO consent_ids \
             (event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns) \
         SELECT event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns \
         FROM ( \
             SELECT event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns \
             FROM consent_rows \
             UNION ALL \
             SELECT event_id, site_id, environment, body_hash, recorded_at, recorded_at_ns \
             FROM impression_rows \
         ) AS every_row \
         ORDER BY event_id \
         ON CONFLICT (event_id) DO NOTHING \
         RETURNING event_id \
     ), new_consent AS ( \
         INSERT INTO consents (event_id, site_id, environment, token_hash, body_hash, \
                               recorded_at, recorded_at_ns, inserted_at, body) \
         SELECT c.event_id, c.site_id, c.environment, c.token_hash, c.body_hash, \
                c.recorded_at, c.recorded_at_ns, c.inserted_at, c.body \
         FROM consent_rows AS c JOIN new_id AS n ON n.event_id = c.event_id \
         RETURNING event_id, site_id, inserted_at, body \
     ), outbox AS ( \
         INSERT INTO webhook_deliveries \
             (id, webhook_id, event_id, payload, status, attempts, next_attempt_at, \
              created_at, updated_at) \
         SELECT gen_random_uuid(), w.id, n.event_id, n.body, 'pending', 0, \
                n.inserted_at, n.inserted_at, n.inserted_at \
         FROM new_consent AS n JOIN webhooks AS w ON w.site_id = n.site_id AND w.enabled \
         ON CONFLICT (webhook_id, event_id) DO NOTHING \
     ), new_impression AS ( \
         INSERT INTO impressions (event_id, site_id, environment, body_hash, \
                                  recorded_at, recorded_at_ns, body) \
         SELECT i.event_id, i.site_id, i.environment, i.body_hash, \
                i.recorded_at, i.recorded_at_ns, i.body \
         FROM impression_rows AS i JOIN new_id AS n ON n.event_id = i.event_id \
     ) \
     SELECT event_id FROM new_id";

/// What is stored for known event ids (consents' and impressions'), to
/// tell a duplicate from a conflict.
const LOOKUP_IDS: &str = "SELECT event_id, body_hash, recorded_at, recorded_at_ns \
     FROM consent_ids WHERE event_id = ANY($1)";

/// An event as column values, made on the caller's task so that
/// serialisation runs in parallel rather than on the workers.
#[derive(Debug)]
pub(super) struct PreparedEvent {
    pub(super) event_id: Uuid,
    pub(super) site_id: Uuid,
    pub(super) environment: &'static str,
    pub(super) body_hash: [u8; 32],
    /// The event's time to the microsecond, as stored.
    pub(super) recorded_at: OffsetDateTime,
    /// The nanoseconds beyond `recorded_at`.
    pub(super) recorded_at_ns: i16,
    /// The time to answer with when the event is new (to the nanosecond).
    pub(super) answer_at: OffsetDateTime,
    /// The event as stored JSON.
    pub(super) body: String,
    pub(super) kind: EventKind,
}

/// What sets a consent and an impression apart in storage.
#[derive(Debug)]
pub(super) enum EventKind {
    /// A consent: partitioned by month, with webhook deliveries.
    Consent {
        token_hash: [u8; 32],
        /// Breaks ties between equal consent times by arrival; see
        /// `codec::store_clock`.
        inserted_at: OffsetDateTime,
        /// The partition its row goes to.
        month: MonthPartition,
    },
    /// An impression.
    Impression,
}

/// How a worker answers a caller.
type Reply = oneshot::Sender<Result<RecordOutcome, StoreError>>;

/// An event waiting for a commit.
#[derive(Debug)]
struct Job {
    event: PreparedEvent,
    /// Until when the event may wait for a connection (its arrival plus
    /// the pool's acquire timeout): past it, the caller is answered
    /// `PoolTimedOut` (a 503) rather than made to wait behind batches
    /// that wait for a database that does not answer.
    deadline: tokio::time::Instant,
    /// What the batch settled for it, until it is answered.
    outcome: Option<RecordOutcome>,
    reply: Reply,
    pending: PendingGuard,
}

/// The queue and its workers, as a [`super::PostgresStore`] holds them.
#[derive(Debug)]
pub(super) struct Batcher {
    /// The way into the queue; `None` once closed. Taking it out is how
    /// `close` stops new events while the workers drain what is queued.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// The worker tasks, until `close` has waited for them.
    workers: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
    /// Events queued, waiting for room, or being written.
    pending: Arc<AtomicUsize>,
    /// How long an event waits for room in a full queue before it is
    /// refused with [`StoreError::Overloaded`], and then for a connection
    /// before it is refused with `PoolTimedOut` (both 503s): the pool's
    /// acquire timeout, so that a database that does not answer costs a
    /// request that long at most, as when each request took its own
    /// connection.
    patience: Duration,
}

impl Batcher {
    /// Starts the workers on `pool`. Must be called inside a Tokio runtime.
    pub(super) fn start(pool: &PgPool, patience: Duration) -> Batcher {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let workers = (0..WORKERS)
            .map(|_| tokio::spawn(work(pool.clone(), Arc::clone(&queue))))
            .collect();
        Batcher {
            jobs: Mutex::new(Some(jobs)),
            workers: tokio::sync::Mutex::new(workers),
            pending: Arc::new(AtomicUsize::new(0)),
            patience,
        }
    }

    /// Queues `event` and waits for the commit that holds it.
    pub(super) async fn record(&self, event: PreparedEvent) -> Result<RecordOutcome, StoreError> {
        let sender = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            event,
            deadline: tokio::time::Instant::now() + self.patience,
            outcome: None,
            reply,
            pending: PendingGuard::new(&self.pending),
        };
        // Waiting for room is back-pressure: the callers' own memory stays
        // with them. The wait is bounded like the pool's, so that a
        // database that does not answer is a 503 in bounded time.
        sender
            .send_timeout(job, self.patience)
            .await
            .map_err(|error| match error {
                mpsc::error::SendTimeoutError::Timeout(_) => StoreError::Overloaded,
                mpsc::error::SendTimeoutError::Closed(_) => StoreError::Closed,
            })?;
        drop(sender);
        // The workers answer every job they take; a reply dropped
        // unanswered means the runtime is shutting down.
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Events queued, waiting for room, or being written.
    pub(super) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Refuses new events, and returns once everything queued has been
    /// committed and answered. Idempotent; a second call returns when the
    /// first is done.
    pub(super) async fn close(&self) {
        drop(
            self.jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        // Held while waiting, so that a concurrent close waits too.
        let mut workers = self.workers.lock().await;
        for worker in workers.drain(..) {
            if let Err(error) = worker.await {
                tracing::error!(%error, "a PostgreSQL write worker ended abnormally");
            }
        }
    }
}

/// A worker: takes what is queued, writes it, answers it; until every
/// sender is gone and the queue is empty. Dropping the senders is therefore
/// the shutdown signal, and whatever was queued before it is still
/// committed.
async fn work(pool: PgPool, queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Waits for the first event only, then takes whatever else is
        // queued. The lock is held while waiting, so one worker gathers
        // while the others commit.
        let taken = queue.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if taken == 0 {
            return;
        }
        commit(&pool, &mut batch).await;
    }
}

/// Writes `jobs` (emptying it) and answers each of them.
async fn commit(pool: &PgPool, jobs: &mut Vec<Job>) {
    let Some(mut conn) = connection(pool, jobs).await else {
        return;
    };
    let error = record_batch(pool, &mut conn, jobs).await.err();
    let mut unsettled = Vec::new();
    for mut job in jobs.drain(..) {
        match job.outcome.take() {
            Some(outcome) => answer(job, Ok(outcome)),
            None => unsettled.push(job),
        }
    }
    let error = match (error, unsettled.is_empty()) {
        (_, true) => return,
        (Some(error), false) => error,
        (None, false) => StoreError::Corrupt("a batch left an event unanswered".to_owned()),
    };
    if unsettled.len() == 1 || error.is_unavailable() {
        // Alone, the error is the event's own. A database out of reach
        // fails every statement alike: trying each event again would only
        // make its callers wait longer for the same 503.
        fail_all(unsettled, error);
        return;
    }
    // Nothing of the unsettled events was committed. Each gets a statement
    // of its own: one event the database refuses must not fail the others,
    // and each caller gets the error that concerned it.
    tracing::warn!(
        batch = unsettled.len(),
        %error,
        "a group commit failed; recording its events one by one"
    );
    let mut rest = unsettled.into_iter();
    while let Some(mut job) = rest.next() {
        let result = record_batch(pool, &mut conn, std::slice::from_mut(&mut job)).await;
        match (result, job.outcome.take()) {
            (_, Some(outcome)) => answer(job, Ok(outcome)),
            (Err(error), None) if error.is_unavailable() => {
                let mut failed = vec![job];
                failed.extend(rest);
                fail_all(failed, error);
                return;
            }
            (Err(error), None) => answer(job, Err(error)),
            (Ok(()), None) => answer(
                job,
                Err(StoreError::Corrupt(
                    "recording an event alone left it unanswered".to_owned(),
                )),
            ),
        }
    }
}

/// A pooled connection for the batch `jobs`. Each event waits for it until
/// its own deadline at most: the events whose deadline passes are answered
/// `PoolTimedOut` and taken out of `jobs`, and the others keep waiting.
/// `None` when no event is left (all answered).
async fn connection(pool: &PgPool, jobs: &mut Vec<Job>) -> Option<PoolConnection<Postgres>> {
    loop {
        let earliest = jobs.iter().map(|job| job.deadline).min()?;
        // An idle connection is taken even past the deadline: the timeout
        // only fires when the acquire has to wait.
        match tokio::time::timeout_at(earliest, pool.acquire()).await {
            Ok(Ok(conn)) => return Some(conn),
            Ok(Err(error)) => {
                fail_all(std::mem::take(jobs), error.into());
                return None;
            }
            Err(_) => {
                let now = tokio::time::Instant::now();
                let (late, patient): (Vec<Job>, Vec<Job>) =
                    jobs.drain(..).partition(|job| job.deadline <= now);
                *jobs = patient;
                fail_all(late, StoreError::Database(sqlx::Error::PoolTimedOut));
            }
        }
    }
}

/// Answers every job with `error` (the first with the error itself, the
/// others with a [`replica`] of it).
fn fail_all(jobs: Vec<Job>, error: StoreError) {
    let mut jobs = jobs.into_iter();
    let Some(first) = jobs.next() else {
        return;
    };
    for job in jobs {
        answer(job, Err(replica(&error)));
    }
    answer(first, Err(error));
}

/// The same failure for another caller: [`StoreError`] cannot be cloned
/// (sqlx's errors are not), so this keeps what callers act on (a closed
/// store stays [`StoreError::Closed`], an unavailable database stays
/// [`StoreError::is_unavailable`], a 503) and the message.
fn replica(error: &StoreError) -> StoreError {
    match error {
        StoreError::Closed => StoreError::Closed,
        StoreError::Overloaded => StoreError::Overloaded,
        StoreError::Database(sqlx::Error::PoolTimedOut) => {
            StoreError::Database(sqlx::Error::PoolTimedOut)
        }
        StoreError::Database(sqlx::Error::PoolClosed) => {
            StoreError::Database(sqlx::Error::PoolClosed)
        }
        StoreError::Database(sqlx::Error::WorkerCrashed) => {
            StoreError::Database(sqlx::Error::WorkerCrashed)
        }
        StoreError::Database(sqlx::Error::Io(io)) => StoreError::Database(sqlx::Error::Io(
            std::io::Error::new(io.kind(), io.to_string()),
        )),
        other if other.is_unavailable() => {
            StoreError::Database(sqlx::Error::Io(std::io::Error::other(other.to_string())))
        }
        other => StoreError::Database(sqlx::Error::Protocol(other.to_string())),
    }
}

fn answer(job: Job, result: Result<RecordOutcome, StoreError>) {
    let Job { reply, pending, .. } = job;
    // Out of the count before the caller hears back, so that a caller who
    // reads `pending_writes` after its answer never counts itself.
    drop(pending);
    // The caller may have given up waiting; the event is committed anyway
    // and a retry will be told it is a duplicate.
    let _ = reply.send(result);
}

/// Records `jobs` in as few statements as it can, setting the outcome of
/// each job it settles. On an error, the jobs without an outcome have
/// nothing committed by this call (each statement is all or nothing); the
/// ones with an outcome were committed (or found stored) and are answered
/// with it.
async fn record_batch(
    pool: &PgPool,
    conn: &mut PgConnection,
    jobs: &mut [Job],
) -> Result<(), StoreError> {
    let mut created_partitions = false;
    for _ in 0..ATTEMPTS {
        // One row per id into the insert: the first unsettled event of each
        // id. The others, like the events whose id was taken, are settled
        // from what is stored once the insert has committed.
        let mut ids = HashSet::new();
        let (first, repeated): (Vec<&mut Job>, Vec<&mut Job>) = jobs
            .iter_mut()
            .filter(|job| job.outcome.is_none())
            .partition(|job| ids.insert(job.event.event_id));
        if first.is_empty() {
            return Ok(());
        }
        let inserted = match insert(conn, &first).await {
            Ok(inserted) => inserted,
            Err(error) if !created_partitions && is_missing_partition(&error) => {
                partitions::ensure(pool, &months(&first)).await?;
                created_partitions = true;
                continue;
            }
            Err(error) => return Err(error),
        };
        let mut known_needed = repeated;
        for job in first {
            if inserted.contains(&job.event.event_id) {
                job.outcome = Some(RecordOutcome::Recorded {
                    recorded_at: job.event.answer_at,
                });
            } else {
                known_needed.push(job);
            }
        }
        if known_needed.is_empty() {
            return Ok(());
        }
        let known = lookup(conn, &known_needed).await?;
        for job in known_needed {
            if let Some((body_hash, recorded_at)) = known.get(&job.event.event_id) {
                job.outcome = Some(if *body_hash == job.event.body_hash {
                    RecordOutcome::Duplicate {
                        recorded_at: *recorded_at,
                    }
                } else {
                    RecordOutcome::Conflict
                });
            }
            // Not found: taken at the insert, forgotten by retention since.
            // The next round records it anew, as if it came later.
        }
    }
    if jobs.iter().all(|job| job.outcome.is_some()) {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "events were neither recorded nor found after {ATTEMPTS} attempts"
        )))
    }
}

/// The partitions the consents of `jobs` go to, and the months after them
/// (so that the first consents of the next month rarely find theirs
/// missing).
fn months(jobs: &[&mut Job]) -> Vec<MonthPartition> {
    let mut months = BTreeSet::new();
    for job in jobs {
        if let EventKind::Consent { month, .. } = job.event.kind {
            months.insert(month);
            months.insert(month.next());
        }
    }
    months.into_iter().collect()
}

/// Runs [`INSERT_BATCH`] for `jobs` (distinct ids); answers the ids that
/// were new.
async fn insert(conn: &mut PgConnection, jobs: &[&mut Job]) -> Result<HashSet<Uuid>, StoreError> {
    let mut consents = ConsentColumns::default();
    let mut impressions = ImpressionColumns::default();
    for job in jobs {
        let event = &job.event;
        match &event.kind {
            EventKind::Consent {
                token_hash,
                inserted_at,
                ..
            } => {
                consents.event_id.push(event.event_id);
                consents.site_id.push(event.site_id);
                consents.environment.push(event.environment);
                consents.body_hash.push(event.body_hash.as_slice());
                consents.recorded_at.push(event.recorded_at);
                consents.recorded_at_ns.push(event.recorded_at_ns);
                consents.token_hash.push(token_hash.as_slice());
                consents.inserted_at.push(*inserted_at);
                consents.body.push(event.body.as_str());
            }
            EventKind::Impression => {
                impressions.event_id.push(event.event_id);
                impressions.site_id.push(event.site_id);
                impressions.environment.push(event.environment);
                impressions.body_hash.push(event.body_hash.as_slice());
                impressions.recorded_at.push(event.recorded_at);
                impressions.recorded_at_ns.push(event.recorded_at_ns);
                impressions.body.push(event.body.as_str());
            }
        }
    }
    let new_ids: Vec<(Uuid,)> = sqlx::query_as(INSERT_BATCH)
        .bind(consents.event_id)
        .bind(consents.site_id)
        .bind(consents.environment)
        .bind(consents.body_hash)
        .bind(consents.recorded_at)
        .bind(consents.recorded_at_ns)
        .bind(consents.token_hash)
        .bind(consents.inserted_at)
        .bind(consents.body)
        .bind(impressions.event_id)
        .bind(impressions.site_id)
        .bind(impressions.environment)
        .bind(impressions.body_hash)
        .bind(impressions.recorded_at)
        .bind(impressions.recorded_at_ns)
        .bind(impressions.body)
        .fetch_all(&mut *conn)
        .await?;
    Ok(new_ids.into_iter().map(|(id,)| id).collect())
}

/// The consents of a batch, one array per column of [`INSERT_BATCH`].
#[derive(Default)]
struct ConsentColumns<'a> {
    event_id: Vec<Uuid>,
    site_id: Vec<Uuid>,
    environment: Vec<&'static str>,
    body_hash: Vec<&'a [u8]>,
    recorded_at: Vec<OffsetDateTime>,
    recorded_at_ns: Vec<i16>,
    token_hash: Vec<&'a [u8]>,
    inserted_at: Vec<OffsetDateTime>,
    body: Vec<&'a str>,
}

/// The impressions of a batch, one array per column of [`INSERT_BATCH`].
#[derive(Default)]
struct ImpressionColumns<'a> {
    event_id: Vec<Uuid>,
    site_id: Vec<Uuid>,
    environment: Vec<&'static str>,
    body_hash: Vec<&'a [u8]>,
    recorded_at: Vec<OffsetDateTime>,
    recorded_at_ns: Vec<i16>,
    body: Vec<&'a str>,
}

/// The body hash and time stored for each of the ids of `jobs` that is
/// known.
async fn lookup(
    conn: &mut PgConnection,
    jobs: &[&mut Job],
) -> Result<HashMap<Uuid, (Vec<u8>, OffsetDateTime)>, StoreError> {
    let ids: Vec<Uuid> = jobs
        .iter()
        .map(|job| job.event.event_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<(Uuid, Vec<u8>, OffsetDateTime, i16)> = sqlx::query_as(LOOKUP_IDS)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|(id, hash, micros, beyond)| Ok((id, (hash, codec::join_nanos(micros, beyond)?))))
        .collect()
}
