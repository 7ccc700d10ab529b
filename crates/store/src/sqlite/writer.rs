//! The writer task: the only code that writes to the database.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync.
//! Funnelling every write through one task on one connection means writers
//! never fight over the lock (no `SQLITE_BUSY` under load), and consents
//! that arrive while a commit is in progress share the next commit's fsync
//! (group commit). A request is answered only after the commit that holds
//! its event has succeeded.

use super::codec;
use crate::{RecordOutcome, StoreError};
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

/// Counts a consent in the write queue for as long as it exists. Tying the
/// count to the job's lifetime keeps `pending_writes` right on every path:
/// answered, refused by a closed queue, or abandoned.
#[derive(Debug)]
pub(super) struct PendingGuard(Arc<AtomicUsize>);

impl PendingGuard {
    pub(super) fn new(pending: &Arc<AtomicUsize>) -> Self {
        pending.fetch_add(1, Ordering::Relaxed);
        PendingGuard(Arc::clone(pending))
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A consent waiting for a commit.
#[derive(Debug)]
pub(super) struct RecordJob {
    pub(super) consent: PreparedConsent,
    pub(super) reply: Reply<RecordOutcome>,
    pub(super) pending: PendingGuard,
}

/// Work for the writer.
#[derive(Debug)]
pub(super) enum Job {
    /// A consent, committed in a batch with its neighbours in the queue.
    Record(RecordJob),
    /// A new tenant.
    CreateTenant {
        id: String,
        name: String,
        created_at: String,
        reply: Reply<()>,
    },
    /// A new site with its two keys; `NotFound` if the tenant is unknown.
    CreateSite {
        id: String,
        tenant_id: String,
        name: String,
        origins_json: String,
        created_at: String,
        production_key: String,
        staging_key: String,
        reply: Reply<()>,
    },
    /// The next version of a site environment's configuration; answers with
    /// the version number.
    PublishConfig {
        site_id: String,
        environment: &'static str,
        config_json: String,
        published_at: String,
        reply: Reply<u32>,
    },
    /// Deletes up to `limit` consents recorded before `cutoff`; answers with
    /// how many. Retention runs as a series of these so that a large purge
    /// never holds the write lock for long: consents queued meanwhile are
    /// committed between chunks.
    DeleteChunk {
        cutoff: String,
        limit: i64,
        reply: Reply<u64>,
    },
}

/// Runs until every sender is gone and the queue is empty, then closes the
/// connection. Dropping the senders is therefore the shutdown signal, and
/// whatever was queued before it is still committed.
pub(super) async fn run(mut conn: SqliteConnection, mut jobs: mpsc::Receiver<Job>) {
    let mut round = Vec::with_capacity(MAX_BATCH);
    let mut records = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut round, MAX_BATCH).await > 0 {
        for job in round.drain(..) {
            match job {
                Job::Record(record) => records.push(record),
                other => {
                    // Keep queue order: consents queued before this job are
                    // committed before it runs.
                    commit_records(&mut conn, &mut records).await;
                    run_job(&mut conn, other).await;
                }
            }
        }
        commit_records(&mut conn, &mut records).await;
    }
    if let Err(error) = conn.close().await {
        tracing::warn!(%error, "closing the SQLite write connection failed");
    }
}

/// Commits `records` (emptying it) and answers each of them.
async fn commit_records(conn: &mut SqliteConnection, records: &mut Vec<RecordJob>) {
    if records.is_empty() {
        return;
    }
    match record_batch(conn, records).await {
        Ok(outcomes) => {
            for (job, outcome) in records.drain(..).zip(outcomes) {
                answer(job, Ok(outcome));
            }
        }
        Err(error) if records.len() == 1 => {
            tracing::error!(%error, "recording a consent failed");
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
                let result = record_batch(conn, std::slice::from_ref(&job))
                    .await
                    .and_then(|mut outcomes| {
                        outcomes.pop().ok_or_else(|| {
                            StoreError::Corrupt("a commit answered no outcome".to_owned())
                        })
                    });
                if let Err(error) = &result {
                    tracing::error!(%error, "recording a consent failed");
                }
                answer(job, result);
            }
        }
    }
}

fn answer(job: RecordJob, result: Result<RecordOutcome, StoreError>) {
    let RecordJob { reply, pending, .. } = job;
    // The caller may have given up waiting; the event is committed anyway
    // and a retry will be told it is a duplicate.
    let _ = reply.send(result);
    drop(pending);
}

/// Events per statement: a batch of up to this many takes one lookup and
/// one insert. The insert binds seven variables per row (1,792 for 256),
/// within the limit of the SQLite sqlx bundles (32,766 since 3.32).
const CHUNK: usize = MAX_BATCH;

/// What the database already holds for an event id: its body hash and when
/// it was recorded.
type KnownEvent = (Vec<u8>, String);

/// Records `jobs`: all or nothing.
///
/// The statements per batch do not grow with its size, and in the common
/// case there is one: a multi-row `INSERT ... ON CONFLICT DO NOTHING
/// RETURNING event_id` of the first event of each id. Ids it did not insert
/// were stored before; a second statement looks them up to tell duplicates
/// from conflicts. Each statement is a round trip to the connection's
/// worker thread, which, not SQLite, is what bounds the writer.
///
/// A batch that fits one chunk needs no explicit transaction: its insert is
/// a transaction of its own (autocommit), committed and fsynced before the
/// statement succeeds, so nobody is answered before their row is durable.
/// Larger batches run in one `BEGIN IMMEDIATE` transaction so that their
/// chunks commit together.
async fn record_batch(
    conn: &mut SqliteConnection,
    jobs: &[RecordJob],
) -> Result<Vec<RecordOutcome>, StoreError> {
    if jobs.len() <= CHUNK {
        return insert_then_resolve(conn, jobs).await;
    }
    // IMMEDIATE takes the write lock up front, so the transaction cannot
    // fail half-way for want of it. An error drops `tx`, which rolls back.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let outcomes = insert_then_resolve(&mut tx, jobs).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// The statements of `record_batch`, in whatever transaction it chose.
async fn insert_then_resolve(
    conn: &mut SqliteConnection,
    jobs: &[RecordJob],
) -> Result<Vec<RecordOutcome>, StoreError> {
    // The first event of the batch with each id is the one inserted; later
    // ones with the same id are answered against it (or against the stored
    // row, if the id was stored before).
    let mut first: HashMap<&str, &PreparedConsent> = HashMap::new();
    let mut candidates: Vec<&PreparedConsent> = Vec::new();
    for job in jobs {
        let consent = &job.consent;
        if let Entry::Vacant(slot) = first.entry(consent.event_id.as_str()) {
            slot.insert(consent);
            candidates.push(consent);
        }
    }
    let mut inserted: HashSet<String> = HashSet::with_capacity(candidates.len());
    for chunk in candidates.chunks(CHUNK) {
        inserted.extend(insert_chunk(conn, chunk).await?);
    }
    let stored_before: Vec<&str> = candidates
        .iter()
        .map(|c| c.event_id.as_str())
        .filter(|id| !inserted.contains(*id))
        .collect();
    let known = lookup_known(conn, &stored_before).await?;

    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let consent = &job.consent;
        let id = consent.event_id.as_str();
        let outcome = if let Some((body_hash, recorded_at)) = known.get(id) {
            if body_hash.as_slice() == consent.body_hash.as_slice() {
                RecordOutcome::Duplicate {
                    recorded_at: codec::timestamp_from_db(recorded_at)?,
                }
            } else {
                RecordOutcome::Conflict
            }
        } else if !inserted.contains(id) {
            // Not inserted, yet not found: deleted meanwhile by another
            // process. Fail the batch; the one-by-one retry settles it.
            return Err(StoreError::Corrupt(format!(
                "event {id} was neither inserted nor found"
            )));
        } else {
            match first.get(id) {
                Some(f) if std::ptr::eq(*f, consent) => RecordOutcome::Recorded {
                    recorded_at: consent.recorded_at,
                },
                Some(f) if f.body_hash == consent.body_hash => RecordOutcome::Duplicate {
                    recorded_at: f.recorded_at,
                },
                _ => RecordOutcome::Conflict,
            }
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The stored rows of `ids`, by id.
async fn lookup_known(
    conn: &mut SqliteConnection,
    ids: &[&str],
) -> Result<HashMap<String, KnownEvent>, StoreError> {
    let mut known = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut lookup = QueryBuilder::<Sqlite>::new(
            "SELECT event_id, body_hash, recorded_at FROM consents WHERE event_id IN (",
        );
        let mut separated = lookup.separated(", ");
        for id in chunk {
            separated.push_bind(*id);
        }
        lookup.push(")");
        let rows: Vec<(String, Vec<u8>, String)> =
            lookup.build_query_as().fetch_all(&mut *conn).await?;
        known.extend(
            rows.into_iter()
                .map(|(id, body_hash, recorded_at)| (id, (body_hash, recorded_at))),
        );
    }
    Ok(known)
}

/// Inserts `consents` (distinct ids) in one statement, skipping ids that
/// are stored already; returns the ids it inserted.
async fn insert_chunk(
    conn: &mut SqliteConnection,
    consents: &[&PreparedConsent],
) -> Result<Vec<String>, StoreError> {
    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO consents \
             (event_id, site_id, environment, token_hash, body_hash, recorded_at, body) ",
    );
    insert.push_values(consents, |mut row, consent| {
        row.push_bind(consent.event_id.as_str())
            .push_bind(consent.site_id.as_str())
            .push_bind(consent.environment)
            .push_bind(consent.token_hash.as_slice())
            .push_bind(consent.body_hash.as_slice())
            .push_bind(consent.recorded_at_text.as_str())
            .push_bind(consent.body.as_str());
    });
    insert.push(" ON CONFLICT (event_id) DO NOTHING RETURNING event_id");
    let ids: Vec<(String,)> = insert.build_query_as().fetch_all(&mut *conn).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Runs one job that is not a consent, in a transaction of its own.
async fn run_job(conn: &mut SqliteConnection, job: Job) {
    match job {
        Job::Record(record) => {
            // Not sent here by `run`; handled anyway rather than dropped.
            let mut records = vec![record];
            commit_records(conn, &mut records).await;
        }
        Job::CreateTenant {
            id,
            name,
            created_at,
            reply,
        } => {
            let result = sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)")
                .bind(id)
                .bind(name)
                .bind(created_at)
                .execute(&mut *conn)
                .await
                .map(drop)
                .map_err(StoreError::from);
            respond("creating a tenant", reply, result);
        }
        Job::CreateSite {
            id,
            tenant_id,
            name,
            origins_json,
            created_at,
            production_key,
            staging_key,
            reply,
        } => {
            let site = NewSite {
                id,
                tenant_id,
                name,
                origins_json,
                created_at,
                production_key,
                staging_key,
            };
            let result = create_site(conn, &site).await;
            respond("creating a site", reply, result);
        }
        Job::PublishConfig {
            site_id,
            environment,
            config_json,
            published_at,
            reply,
        } => {
            let result =
                publish_config(conn, &site_id, environment, &config_json, &published_at).await;
            respond("publishing a configuration", reply, result);
        }
        Job::DeleteChunk {
            cutoff,
            limit,
            reply,
        } => {
            let result = sqlx::query(
                "DELETE FROM consents WHERE rowid IN \
                     (SELECT rowid FROM consents WHERE recorded_at < ? LIMIT ?)",
            )
            .bind(cutoff)
            .bind(limit)
            .execute(&mut *conn)
            .await
            .map(|done| done.rows_affected())
            .map_err(StoreError::from);
            respond("deleting expired consents", reply, result);
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

struct NewSite {
    id: String,
    tenant_id: String,
    name: String,
    origins_json: String,
    created_at: String,
    production_key: String,
    staging_key: String,
}

async fn create_site(conn: &mut SqliteConnection, site: &NewSite) -> Result<(), StoreError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let tenant: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM tenants WHERE id = ?")
        .bind(site.tenant_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    if tenant.is_none() {
        return Err(StoreError::NotFound(format!("tenant {}", site.tenant_id)));
    }
    sqlx::query(
        "INSERT INTO sites (id, tenant_id, name, origins, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(site.id.as_str())
    .bind(site.tenant_id.as_str())
    .bind(site.name.as_str())
    .bind(site.origins_json.as_str())
    .bind(site.created_at.as_str())
    .execute(&mut *tx)
    .await?;
    for (key, environment) in [
        (&site.production_key, "production"),
        (&site.staging_key, "staging"),
    ] {
        sqlx::query("INSERT INTO site_keys (key, site_id, environment) VALUES (?, ?, ?)")
            .bind(key.as_str())
            .bind(site.id.as_str())
            .bind(environment)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn publish_config(
    conn: &mut SqliteConnection,
    site_id: &str,
    environment: &str,
    config_json: &str,
    published_at: &str,
) -> Result<u32, StoreError> {
    // The writer is the only writer, so nothing can slip a version in
    // between the read and the insert; the transaction makes that hold for
    // other processes on the same file too (e.g. the CLI beside a server).
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let site: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM sites WHERE id = ?")
        .bind(site_id)
        .fetch_optional(&mut *tx)
        .await?;
    if site.is_none() {
        return Err(StoreError::NotFound(format!("site {site_id}")));
    }
    let (next,): (i64,) = sqlx::query_as(
        "SELECT coalesce(max(version), 0) + 1 FROM site_configs \
         WHERE site_id = ? AND environment = ?",
    )
    .bind(site_id)
    .bind(environment)
    .fetch_one(&mut *tx)
    .await?;
    let version = codec::version_from_db(next)?;
    sqlx::query(
        "INSERT INTO site_configs (site_id, environment, version, config_json, published_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(site_id)
    .bind(environment)
    .bind(next)
    .bind(config_json)
    .bind(published_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}
