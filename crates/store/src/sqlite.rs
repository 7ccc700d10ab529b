//! The SQLite backend: the embedded default, one file.
//!
//! - WAL journal with `synchronous = FULL`: a commit is on disk (the WAL is
//!   fsynced) before anyone is told it happened, so an acknowledged consent
//!   survives the process being killed or the machine losing power; readers
//!   never wait for the writer.
//! - Consent writes go through one writer thread on one connection, which
//!   commits queued consents together (group commit); see `writer`.
//!   Admin and webhook changes, which are rare, take their own connection
//!   with `BEGIN IMMEDIATE` (see `admin`); SQLite serialises the two.
//! - Reads use a small pool of their own whose connections refuse to write
//!   (`query_only`).
//!
//! The schema lives in `migrations/`, embedded in the binary and applied on
//! every open.

mod admin;
pub mod backup;
mod codec;
mod impressions;
mod webhooks;
mod writer;

pub use admin::SqliteAdminStore;

use crate::admin::rows::{site_from_row, SITE_SELECT};
use crate::pending::PendingGuard;
use crate::{
    NewConsent, NewImpression, PublishedConfig, RecordOutcome, SetupLock, Site, SiteId, Store,
    StoreError, Tenant, TenantId,
};
use async_trait::async_trait;
use nexaguard_consent::event::{ConsentEvent, Impression};
use nexaguard_consent::token::TokenHash;
use nexaguard_consent::Environment;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use writer::{Job, PreparedConsent, PreparedWrite, RecordJob, Reply, WriterThread, BUSY_TIMEOUT};

/// The schema, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connections of the read pool.
const READ_CONNECTIONS: u32 = 4;

/// Jobs the write queue holds before callers wait for room: back-pressure
/// instead of unbounded memory when the disk cannot keep up.
const QUEUE_CAPACITY: usize = 8 * writer::MAX_BATCH;

/// Consents (and impressions) one retention step deletes (see
/// `writer::Job::DeleteChunk`).
const DELETE_CHUNK: i64 = 5_000;

/// The SQLite store. Open it with [`SqliteStore::open`]; call
/// [`Store::close`] before exiting so that queued writes are committed.
#[derive(Debug)]
pub struct SqliteStore {
    read: SqlitePool,
    /// The way to the writer; `None` once closed. Taking it out is how
    /// `close` stops new writes while the writer drains what is queued.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// The writer thread, until `close` has waited for it.
    writer: tokio::sync::Mutex<Option<WriterThread>>,
    /// Consents sent to the writer and not yet answered.
    pending: Arc<AtomicUsize>,
    /// The database file, beside which [`Store::setup_lock`] keeps its lock file.
    path: std::path::PathBuf,
}

/// How long a start waits for another process's setup to finish.
const SETUP_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The options every connection shares.
fn connect_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode, NORMAL may lose the last commits on power loss; FULL
        // fsyncs the WAL on every commit, which group commit makes cheap.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
        .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string())
}

/// WAL pages after which a commit copies the WAL back into the database
/// (SQLite's default is 1,000). Consents dirty pages at random places in
/// the event-id and token indexes; between two checkpoints, a page dirtied
/// by several batches is copied back once, so a longer interval copies
/// fewer pages per consent: 10,000 pages (40 MiB at 4 KiB) cut the writer
/// thread's kernel time per consent by about a third in bench/ingest
/// (docs/benchmarks.md). Durability is the same: every commit's frames are
/// fsynced in the WAL before the commit returns.
pub(super) const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The size a WAL file is cut back to after a checkpoint, so that one burst
/// (or a checkpoint held back by a long read) does not leave a large file.
pub(super) const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

impl SqliteStore {
    /// Opens the database at `path`, creating the file if it is missing
    /// (not its directory), applies pending migrations, and starts the
    /// writer thread. Must be called inside a Tokio runtime.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        // Migrations run on a sqlx connection (sqlx's migrator and its
        // bookkeeping table), which is then closed: the writer thread opens
        // a connection of its own.
        SqliteStore::migrate_only(path).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(connect_options(path).pragma("query_only", "ON"))
            .await?;
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let writer = match WriterThread::start(path.to_path_buf(), queue).await {
            Ok(writer) => writer,
            Err(error) => {
                read.close().await;
                return Err(error);
            }
        };
        Ok(SqliteStore {
            read,
            jobs: Mutex::new(Some(jobs)),
            writer: tokio::sync::Mutex::new(Some(writer)),
            pending: Arc::new(AtomicUsize::new(0)),
            path: path.to_path_buf(),
        })
    }

    /// Creates the database at `path` if needed and applies pending
    /// migrations, then closes it (`nexaguard migrate`).
    pub async fn migrate_only(path: &Path) -> Result<(), StoreError> {
        let mut conn = connect_options(path).connect().await?;
        let migrated = MIGRATOR.run_direct(&mut conn).await;
        conn.close().await?;
        migrated.map_err(StoreError::from)
    }

    /// Sends a job to the writer and waits for its answer.
    async fn submit<T>(&self, job: impl FnOnce(Reply<T>) -> Job) -> Result<T, StoreError> {
        let sender = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        // Sending to a queue whose writer is gone, or the writer going away
        // without answering, can only happen while shutting down.
        sender
            .send(job(reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        drop(sender);
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Like `submit`, but a full queue is refused at once with
    /// [`StoreError::Overloaded`] instead of waiting: consent posts must not
    /// pile up in memory behind a disk that does not keep up.
    async fn submit_or_refuse<T>(
        &self,
        job: impl FnOnce(Reply<T>) -> Job,
    ) -> Result<T, StoreError> {
        let sender = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender.try_send(job(reply)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => StoreError::Closed,
        })?;
        drop(sender);
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

type TenantRow = (String, String, String);

fn tenant_from_row((id, name, created_at): TenantRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId(codec::uuid_from_db(&id)?),
        name,
        created_at: codec::timestamp_from_db(&created_at)?,
    })
}

type ConfigRow = (String, String, i64, String, String);

fn config_from_row(row: ConfigRow) -> Result<PublishedConfig, StoreError> {
    let (site_id, environment, version, config_json, published_at) = row;
    Ok(PublishedConfig {
        site_id: SiteId(codec::uuid_from_db(&site_id)?),
        environment: codec::environment_from_db(&environment)?,
        version: codec::version_from_db(version)?,
        config_json,
        published_at: codec::timestamp_from_db(&published_at)?,
    })
}

fn event_from_body(body: Option<(String,)>) -> Result<Option<ConsentEvent>, StoreError> {
    body.map(|(body,)| codec::json_from_db("consent event", &body))
        .transpose()
}

#[async_trait]
impl Store for SqliteStore {
    async fn setup_lock(&self) -> Result<SetupLock, StoreError> {
        // Another process on the same file (a second server, the CLI): an
        // exclusive transaction on a small database beside this one, which
        // SQLite's file locks release if the holder dies.
        let mut name = self.path.clone().into_os_string();
        name.push(".setup-lock");
        let path = std::path::PathBuf::from(name);
        let conn = tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open(&path)?;
            conn.busy_timeout(SETUP_LOCK_WAIT)?;
            conn.execute_batch("BEGIN EXCLUSIVE")?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .await
        .map_err(|e| StoreError::SetupLock(std::io::Error::other(e)))??;
        Ok(SetupLock(Box::new(std::sync::Mutex::new(conn))))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> =
            sqlx::query_as("SELECT id, name, created_at FROM tenants ORDER BY created_at, rowid")
                .fetch_all(&self.read)
                .await?;
        rows.into_iter().map(tenant_from_row).collect()
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        sqlx::query(&format!("{SITE_SELECT} ORDER BY s.created_at, s.rowid"))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(site_from_row)
            .collect()
    }

    async fn latest_configs(&self) -> Result<Vec<PublishedConfig>, StoreError> {
        let rows: Vec<ConfigRow> = sqlx::query_as(
            "SELECT site_id, environment, version, config_json, published_at \
             FROM site_configs AS c \
             WHERE version = (SELECT max(version) FROM site_configs \
                              WHERE site_id = c.site_id AND environment = c.environment) \
             ORDER BY site_id, environment",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(config_from_row).collect()
    }

    async fn record_consent(&self, consent: NewConsent) -> Result<RecordOutcome, StoreError> {
        let NewConsent {
            site_id,
            event,
            token_hash,
            body_hash,
        } = consent;
        let prepared = PreparedConsent {
            event_id: codec::uuid_to_db(event.event_id),
            site_id: codec::uuid_to_db(site_id.0),
            environment: event.environment.as_str(),
            token_hash: token_hash.0,
            body_hash,
            recorded_at: event.recorded_at,
            recorded_at_text: codec::timestamp_to_db(event.recorded_at)?,
            body: codec::json_to_db("consent event", &event)?,
        };
        self.submit_or_refuse(|reply| {
            Job::Record(RecordJob {
                write: PreparedWrite::Consent(prepared),
                reply,
                pending: PendingGuard::new(&self.pending),
            })
        })
        .await
    }

    async fn record_impression(
        &self,
        impression: NewImpression,
    ) -> Result<RecordOutcome, StoreError> {
        let prepared = impressions::PreparedImpression::new(impression)?;
        self.submit_or_refuse(|reply| {
            Job::Record(RecordJob {
                write: PreparedWrite::Impression(prepared),
                reply,
                pending: PendingGuard::new(&self.pending),
            })
        })
        .await
    }

    async fn impressions_by_event_ids(
        &self,
        site: SiteId,
        environment: Environment,
        event_ids: &[Uuid],
    ) -> Result<Vec<Impression>, StoreError> {
        impressions::by_event_ids(&self.read, site, environment, event_ids).await
    }

    async fn latest_consent(
        &self,
        site: SiteId,
        environment: Environment,
        token: &TokenHash,
    ) -> Result<Option<ConsentEvent>, StoreError> {
        let body: Option<(String,)> = sqlx::query_as(
            "SELECT body FROM consents \
             WHERE site_id = ? AND environment = ? AND token_hash = ? \
             ORDER BY recorded_at DESC, rowid DESC LIMIT 1",
        )
        .bind(codec::uuid_to_db(site.0))
        .bind(environment.as_str())
        .bind(token.as_bytes())
        .fetch_optional(&self.read)
        .await?;
        event_from_body(body)
    }

    async fn consent_by_event_id(
        &self,
        site: SiteId,
        environment: Environment,
        event_id: Uuid,
    ) -> Result<Option<ConsentEvent>, StoreError> {
        let body: Option<(String,)> = sqlx::query_as(
            "SELECT body FROM consents WHERE event_id = ? AND site_id = ? AND environment = ?",
        )
        .bind(codec::uuid_to_db(event_id))
        .bind(codec::uuid_to_db(site.0))
        .bind(environment.as_str())
        .fetch_optional(&self.read)
        .await?;
        event_from_body(body)
    }

    async fn count_consents(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<u64, StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM consents WHERE site_id = ? AND environment = ?")
                .bind(codec::uuid_to_db(site.0))
                .bind(environment.as_str())
                .fetch_one(&self.read)
                .await?;
        u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("consent count {count}")))
    }

    async fn delete_consents_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let cutoff = codec::timestamp_to_db(cutoff)?;
        let mut total: u64 = 0;
        loop {
            let deleted = self
                .submit(|reply| Job::DeleteChunk {
                    cutoff: cutoff.clone(),
                    limit: DELETE_CHUNK,
                    reply,
                })
                .await?;
            total = total.saturating_add(deleted.consents);
            // Impressions may outnumber consents: go on until both are done.
            let full = |count: u64| i64::try_from(count).is_ok_and(|count| count >= DELETE_CHUNK);
            if !full(deleted.consents) && !full(deleted.impressions) {
                return Ok(total);
            }
        }
    }

    fn pending_writes(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    async fn close(&self) {
        // Dropping our sender ends the writer once the queue is empty and
        // callers already sending have sent.
        drop(
            self.jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        // Held across the wait so that a concurrent `close` returns only
        // once the writer has finished too.
        let mut writer = self.writer.lock().await;
        if let Some(thread) = writer.take() {
            thread.finished().await;
        }
        self.read.close().await;
    }
}
