//! The writer thread: the only code that writes consents, impressions and
//! their webhook deliveries (admin and webhook changes take their own
//! connection, see `sqlite::admin`).
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync.
//! Funnelling every write through one thread on one connection means
//! writers never fight over the lock (no `SQLITE_BUSY` under load), and
//! consents that arrive while a commit is in progress share the next
//! commit's fsync (group commit). A request is answered only after the
//! commit that holds its event has succeeded. Impressions take the same
//! path as consents, in the same batches.
//!
//! The writer is an OS thread with a rusqlite connection rather than a task
//! on an async (sqlx) connection: sqlx runs each SQLite connection on a
//! worker thread of its own and every statement is a round trip to it
//! (a channel send, a wake-up, a context switch each way), which measured as
//! most of the cost of a commit. Here a batch costs one hand-off (the queue)
//! and then plain in-process SQLite calls on cached prepared statements.
//! The queue is a bounded Tokio channel: callers wait for room without
//! blocking their runtime, and the thread takes what is queued with
//! `blocking_recv_many`.

use super::codec;
use super::impressions::{self, PreparedImpression};
use crate::pending::PendingGuard;
use crate::{RecordOutcome, StoreError};
use rusqlite::{params, CachedStatement, Connection, OptionalExtension, TransactionBehavior};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// The most jobs taken off the queue for one round: bounds the size of a
/// transaction, and so the latency the first waiter of a round sees.
pub(super) const MAX_BATCH: usize = 256;

/// How the writer answers a job.
pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A consent event, already turned into column values by the caller so
/// that serialisation runs in parallel on the callers' tasks rather than on
/// the one writer.
#[derive(Debug)]
pub(super) struct PreparedConsent {
    pub(super) event_id: String,
    pub(super) site_id: String,
    pub(super) environment: &'static str,
    pub(super) token_hash: [u8; 32],
    pub(super) body_hash: [u8; 32],
    /// The time to answer with when the event is new.
    pub(super) recorded_at: OffsetDateTime,
    pub(super) recorded_at_text: String,
    pub(super) body: String,
}

/// An event the writer records: a consent or an impression.
#[derive(Debug)]
pub(super) enum PreparedWrite {
    /// A consent, with its webhook deliveries.
    Consent(PreparedConsent),
    /// An impression.
    Impression(PreparedImpression),
}

/// An event waiting for a commit.
#[derive(Debug)]
pub(super) struct RecordJob {
    pub(super) write: PreparedWrite,
    pub(super) reply: Reply<RecordOutcome>,
    pub(super) pending: PendingGuard,
}

/// Work for the writer.
#[derive(Debug)]
pub(super) enum Job {
    /// A consent or an impression, committed in a batch with its
    /// neighbours in the queue.
    Record(RecordJob),
    /// Deletes up to `limit` consents and up to `limit` impressions
    /// recorded before `cutoff`; answers with how many of each. Retention
    /// runs as a series of these so that a large purge never holds the
    /// write lock for long: events queued meanwhile are committed between
    /// chunks.
    DeleteChunk {
        cutoff: String,
        limit: i64,
        reply: Reply<Deleted>,
    },
}

/// What one retention chunk deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Deleted {
    pub(super) consents: u64,
    pub(super) impressions: u64,
}

/// How long the writer waits for a lock held by another connection (a
/// checkpoint, or another process such as the CLI) before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection: every statement below, with
/// room to spare, so that none is ever parsed twice.
const STATEMENT_CACHE: usize = 32;

/// The writer thread, as the store holds it until it is closed.
#[derive(Debug)]
pub(super) struct WriterThread {
    /// Answered by the thread once it has run every job and closed its
    /// connection; dropped unanswered if it ended any other way.
    finished: oneshot::Receiver<()>,
}

impl WriterThread {
    /// Opens the write connection to `path` (which the migrations have
    /// created) on a new thread, and runs the writer there on `jobs`.
    /// Returns once the connection is open, or with the error that kept it
    /// from opening.
    pub(super) async fn start(
        path: PathBuf,
        jobs: mpsc::Receiver<Job>,
    ) -> Result<WriterThread, StoreError> {
        let (ready, opened) = oneshot::channel();
        let (finished_tx, finished) = oneshot::channel();
        thread::Builder::new()
            .name("nexaguard-sqlite-writer".to_owned())
            .spawn(move || match open(&path) {
                Ok(conn) => {
                    // Nobody may be waiting any more (the opening future
                    // was dropped); the jobs' senders are then gone too,
                    // so `run` just closes the connection.
                    let _ = ready.send(Ok(()));
                    run(conn, jobs);
                    let _ = finished_tx.send(());
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                }
            })
            .map_err(|error| StoreError::Database(sqlx::Error::Io(error)))?;
        match opened.await {
            Ok(Ok(())) => Ok(WriterThread { finished }),
            Ok(Err(error)) => Err(error),
            // The thread ended without a word: it can only have panicked.
            Err(_) => Err(StoreError::Corrupt(
                "the SQLite writer thread failed while opening".to_owned(),
            )),
        }
    }

    /// Waits (without blocking the runtime) until the thread has committed
    /// everything queued and closed its connection. The caller must have
    /// dropped its senders first, or this waits forever.
    pub(super) async fn finished(self) {
        if self.finished.await.is_err() {
            tracing::error!("the SQLite writer thread ended abnormally");
        }
    }
}

/// The write connection, set up like the sqlx ones (see
/// `super::connect_options`): WAL, `synchronous = FULL`, foreign keys,
/// the same checkpoint interval.
fn open(path: &std::path::Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "the database stays in journal mode {mode:?} instead of WAL"
        )));
    }
    // In WAL mode, NORMAL may lose the last commits on power loss; FULL
    // fsyncs the WAL on every commit, which group commit makes cheap.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The writer commits almost every checkpoint (see the constant).
    conn.pragma_update(None, "wal_autocheckpoint", super::WAL_AUTOCHECKPOINT_PAGES)?;
    conn.pragma_update(None, "journal_size_limit", super::WAL_SIZE_LIMIT_BYTES)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Runs until every sender is gone and the queue is empty, then closes the
/// connection. Dropping the senders is therefore the shutdown signal, and
/// whatever was queued before it is still committed.
fn run(mut conn: Connection, mut jobs: mpsc::Receiver<Job>) {
    let mut round = Vec::with_capacity(MAX_BATCH);
    let mut records = Vec::with_capacity(MAX_BATCH);
    // Blocks for the first job only, then takes whatever else is queued:
    // a batch is what piled up during the previous commit, and a lone
    // request is never held back waiting for company.
    while jobs.blocking_recv_many(&mut round, MAX_BATCH) > 0 {
        for job in round.drain(..) {
            match job {
                Job::Record(record) => records.push(record),
                other => {
                    // Keep queue order: consents queued before this job are
                    // committed before it runs.
                    commit_records(&mut conn, &mut records);
                    run_job(&mut conn, other);
                }
            }
        }
        commit_records(&mut conn, &mut records);
    }
    if let Err((_, error)) = conn.close() {
        tracing::warn!(%error, "closing the SQLite write connection failed");
    }
}

/// Commits `records` (emptying it) and answers each of them.
fn commit_records(conn: &mut Connection, records: &mut Vec<RecordJob>) {
    if records.is_empty() {
        return;
    }
    match record_batch(conn, records) {
        Ok(outcomes) => {
            for (job, outcome) in records.drain(..).zip(outcomes) {
                answer(job, Ok(outcome));
            }
        }
        Err(error) if records.len() == 1 => {
            tracing::error!(%error, "recording an event failed");
            if let Some(job) = records.pop() {
                answer(job, Err(error));
            }
        }
        Err(error) => {
            // Nothing of the batch was committed, so nobody is answered yet.
            // Each event gets a transaction of its own: one event the
            // database refuses must not fail the others, and each waiter
            // gets the error of the commit that concerned it.
            tracing::warn!(
                batch = records.len(),
                %error,
                "a group commit failed; recording its events one by one"
            );
            for job in records.drain(..) {
                let result =
                    record_batch(conn, std::slice::from_ref(&job)).and_then(|mut outcomes| {
                        outcomes.pop().ok_or_else(|| {
                            StoreError::Corrupt("a commit answered no outcome".to_owned())
                        })
                    });
                if let Err(error) = &result {
                    tracing::error!(%error, "recording an event failed");
                }
                answer(job, result);
            }
        }
    }
}

fn answer(job: RecordJob, result: Result<RecordOutcome, StoreError>) {
    let RecordJob { reply, pending, .. } = job;
    // Out of the queue count before the caller hears back, so that a caller
    // who reads `pending_writes` after its answer never counts itself.
    drop(pending);
    // The caller may have given up waiting; the event is committed anyway
    // and a retry will be told it is a duplicate.
    let _ = reply.send(result);
}

/// Inserts an event unless its id is stored already (then it changes
/// nothing, which is how the writer tells the cases apart).
const INSERT_CONSENT: &str = "INSERT INTO consents \
     (event_id, site_id, environment, token_hash, body_hash, recorded_at, body) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (event_id) DO NOTHING";

/// What is stored for an event id, to tell a duplicate from a conflict.
const LOOKUP_CONSENT: &str = "SELECT body_hash, recorded_at FROM consents WHERE event_id = ?1";

/// The webhooks a new consent of the site is delivered to.
const SITE_WEBHOOKS: &str = "SELECT id FROM webhooks WHERE site_id = ?1 AND enabled = 1";

/// One delivery of a new consent to one webhook, due at once.
const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries \
     (id, webhook_id, event_id, payload, status, attempts, next_attempt_at, \
      created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5) \
     ON CONFLICT (webhook_id, event_id) DO NOTHING";

/// Records `jobs` in one transaction: all or nothing, one fsync.
///
/// Each event is one execution of a cached prepared statement: in process,
/// that costs microseconds, so one statement per event is as cheap as a
/// multi-row insert and much simpler. An event whose id is stored already
/// (before, or earlier in this batch, as a consent or an impression)
/// inserts nothing and is answered from the stored row: the same body hash
/// is a duplicate, another a conflict. A new consent gets one webhook
/// delivery per enabled webhook of its site, in the same transaction: it
/// is never committed without them.
fn record_batch(
    conn: &mut Connection,
    jobs: &[RecordJob],
) -> Result<Vec<RecordOutcome>, StoreError> {
    // IMMEDIATE takes the write lock up front, so the transaction cannot
    // fail half-way for want of it. An error drops `tx`, which rolls back.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    {
        let mut statements = Statements {
            insert: tx.prepare_cached(INSERT_CONSENT)?,
            lookup: tx.prepare_cached(LOOKUP_CONSENT)?,
            site_webhooks: tx.prepare_cached(SITE_WEBHOOKS)?,
            insert_delivery: tx.prepare_cached(INSERT_DELIVERY)?,
            insert_impression: tx.prepare_cached(impressions::INSERT)?,
            lookup_impression: tx.prepare_cached(impressions::LOOKUP)?,
        };
        for job in jobs {
            let outcome = match &job.write {
                PreparedWrite::Consent(consent) => record_consent(&mut statements, consent)?,
                PreparedWrite::Impression(impression) => {
                    record_impression(&mut statements, impression)?
                }
            };
            outcomes.push(outcome);
        }
    }
    // Returns once the WAL is fsynced (`synchronous = FULL`): only then is
    // anybody answered.
    tx.commit()?;
    Ok(outcomes)
}

/// The cached statements of one batch.
struct Statements<'tx> {
    insert: CachedStatement<'tx>,
    lookup: CachedStatement<'tx>,
    site_webhooks: CachedStatement<'tx>,
    insert_delivery: CachedStatement<'tx>,
    insert_impression: CachedStatement<'tx>,
    lookup_impression: CachedStatement<'tx>,
}

fn record_consent(
    statements: &mut Statements<'_>,
    consent: &PreparedConsent,
) -> Result<RecordOutcome, StoreError> {
    if let Some(known) = known(&mut statements.lookup_impression, &consent.event_id)? {
        return settle(known, &consent.body_hash);
    }
    let inserted = statements.insert.execute(params![
        consent.event_id,
        consent.site_id,
        consent.environment,
        consent.token_hash.as_slice(),
        consent.body_hash.as_slice(),
        consent.recorded_at_text,
        consent.body,
    ])?;
    if inserted == 0 {
        return settle_stored(
            &mut statements.lookup,
            &consent.event_id,
            &consent.body_hash,
        );
    }
    let webhooks = statements
        .site_webhooks
        .query_map(params![consent.site_id], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for webhook in webhooks {
        statements.insert_delivery.execute(params![
            codec::uuid_to_db(uuid::Uuid::new_v4()),
            webhook,
            consent.event_id,
            consent.body,
            consent.recorded_at_text,
        ])?;
    }
    Ok(RecordOutcome::Recorded {
        recorded_at: consent.recorded_at,
    })
}

fn record_impression(
    statements: &mut Statements<'_>,
    impression: &PreparedImpression,
) -> Result<RecordOutcome, StoreError> {
    if let Some(known) = known(&mut statements.lookup, &impression.event_id)? {
        return settle(known, &impression.body_hash);
    }
    let inserted = statements.insert_impression.execute(params![
        impression.event_id,
        impression.site_id,
        impression.environment,
        impression.body_hash.as_slice(),
        impression.recorded_at_text,
        impression.body,
    ])?;
    if inserted == 0 {
        return settle_stored(
            &mut statements.lookup_impression,
            &impression.event_id,
            &impression.body_hash,
        );
    }
    Ok(RecordOutcome::Recorded {
        recorded_at: impression.recorded_at,
    })
}

/// The body hash and time `lookup` finds for an event id.
fn known(
    lookup: &mut CachedStatement<'_>,
    event_id: &str,
) -> Result<Option<(Vec<u8>, String)>, StoreError> {
    Ok(lookup
        .query_row(params![event_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// A known id with the same body hash is a duplicate, another a conflict.
fn settle(
    (body_hash, recorded_at): (Vec<u8>, String),
    posted: &[u8; 32],
) -> Result<RecordOutcome, StoreError> {
    if body_hash == posted {
        Ok(RecordOutcome::Duplicate {
            recorded_at: codec::timestamp_from_db(&recorded_at)?,
        })
    } else {
        Ok(RecordOutcome::Conflict)
    }
}

/// Settles an event whose insert did nothing: its id is in the table.
fn settle_stored(
    lookup: &mut CachedStatement<'_>,
    event_id: &str,
    posted: &[u8; 32],
) -> Result<RecordOutcome, StoreError> {
    match known(lookup, event_id)? {
        Some(known) => settle(known, posted),
        // Not inserted, yet not found: a bug, or another process playing
        // with the file. Fail the batch; the one-by-one retry settles it.
        None => Err(StoreError::Corrupt(format!(
            "event {event_id} was neither inserted nor found"
        ))),
    }
}

/// Runs one job that is not a consent, in a transaction of its own.
fn run_job(conn: &mut Connection, job: Job) {
    match job {
        Job::Record(record) => {
            // Not sent here by `run`; handled anyway rather than dropped.
            let mut records = vec![record];
            commit_records(conn, &mut records);
        }
        Job::DeleteChunk {
            cutoff,
            limit,
            reply,
        } => {
            let result = delete_chunk(conn, &cutoff, limit);
            respond("deleting expired consents and impressions", reply, result);
        }
    }
}

fn respond<T>(what: &str, reply: Reply<T>, result: Result<T, StoreError>) {
    if let Err(error) = &result {
        if !matches!(error, StoreError::NotFound(_)) {
            tracing::error!(%error, "{what} failed");
        }
    }
    let _ = reply.send(result);
}

fn delete_chunk(conn: &mut Connection, cutoff: &str, limit: i64) -> Result<Deleted, StoreError> {
    // Deliveries carry their consent: they go with it. Their count is not
    // part of the answer, which counts consents.
    conn.prepare_cached(
        "DELETE FROM webhook_deliveries WHERE rowid IN \
         (SELECT rowid FROM webhook_deliveries WHERE created_at < ?1 LIMIT ?2)",
    )?
    .execute(params![cutoff, limit])?;
    let consents = conn
        .prepare_cached(
            "DELETE FROM consents WHERE rowid IN \
             (SELECT rowid FROM consents WHERE recorded_at < ?1 LIMIT ?2)",
        )?
        .execute(params![cutoff, limit])?;
    let impressions = conn
        .prepare_cached(impressions::DELETE_CHUNK)?
        .execute(params![cutoff, limit])?;
    let count = |deleted: usize| {
        u64::try_from(deleted).map_err(|_| StoreError::Corrupt(format!("{deleted} rows deleted")))
    };
    Ok(Deleted {
        consents: count(consents)?,
        impressions: count(impressions)?,
    })
}
