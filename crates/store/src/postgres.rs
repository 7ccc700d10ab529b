//! The PostgreSQL backend: for several server processes sharing one
//! database, or a database operated elsewhere.
//!
//! - Consents and impressions are written in batches (group commit per
//!   node; see `batcher`): callers queue their event, a worker task
//!   writes whatever is queued with one statement, so one commit and one WAL
//!   flush per batch, and every caller of a batch is answered only after
//!   that commit. With `synchronous_commit` on (the default;
//!   [`PostgresStore::open`] refuses a server where it is off) the commit
//!   is in the flushed WAL. The nodes' batches run side by side:
//!   PostgreSQL settles an id two nodes write at once (one inserts it, the
//!   other finds it taken) and flushes their WAL records together. Every
//!   other write is one short transaction, most often one
//!   statement, on a pooled connection.
//! - Consents are kept in a table partitioned by calendar month (UTC);
//!   the store creates the partitions it needs, and retention drops whole
//!   months. Because the primary key of a partitioned table must include
//!   the partition key, event ids are made unique by an ordinary companion
//!   table, `consent_ids`, written in the same statement. Impressions keep
//!   their ids there too, so an id is unique across both kinds and across
//!   nodes.
//! - Connections start with a statement timeout and an idle-in-transaction
//!   timeout (see [`PostgresOptions`]), so a stuck statement or a leaked
//!   transaction cannot hold locks or connections for ever.
//!
//! The schema lives in `migrations-postgres/`, embedded in the binary and
//! applied on every open; its header lists what other PostgreSQL-compatible
//! engines (CockroachDB, YugabyteDB, Citus) treat differently.

mod admin;
mod batcher;
mod codec;
mod counters;
mod impressions;
mod partitions;
mod webhooks;

pub use admin::PostgresAdminStore;

use crate::admin::rows::{site_from_row, SITE_SELECT};
use crate::{
    NewConsent, NewImpression, PublishedConfig, RecordOutcome, SetupLock, Site, SiteId, Store,
    StoreError, Tenant, TenantId,
};
use async_trait::async_trait;
use batcher::{Batcher, EventKind, PreparedEvent};
use nexaguard_consent::event::{ConsentEvent, Impression};
use nexaguard_consent::token::TokenHash;
use nexaguard_consent::Environment;
use partitions::MonthPartition;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// The schema, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations-postgres");

/// The query behind [`Store::latest_consent`]: `$1` is the site id, `$2`
/// the environment, `$3` the token hash. Public so that tests, and
/// operators with `EXPLAIN`, can check that its plan uses
/// `consents_by_token` (a backward index scan of the newest partitions
/// first, stopping at the first row).
pub const LATEST_CONSENT_SQL: &str = "SELECT body FROM consents \
     WHERE site_id = $1 AND environment = $2 AND token_hash = $3 \
     ORDER BY recorded_at DESC, recorded_at_ns DESC, inserted_at DESC \
     LIMIT 1";

/// Consents one retention statement deletes: large purges go in several
/// short transactions rather than one long one.
const DELETE_CHUNK: i64 = 5_000;

/// A pooled connection idle for longer than this is checked with a ping
/// before use (a firewall or a server restart may have cut it); fresher
/// ones are not, which saves a round trip per request under load.
const PING_IDLE_AFTER: Duration = Duration::from_secs(30);

/// Pool and session settings of a [`PostgresStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// Connections the pool opens at most. Each server process holds up to
    /// this many, so the database's `max_connections` must cover the sum
    /// over all processes (and the operators' own sessions).
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
    /// `statement_timeout` of every pooled connection: the longest any one
    /// statement may run (migrations run without it).
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout`: how long a connection may sit
    /// in an open transaction doing nothing before the server ends it.
    pub idle_in_transaction_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            // Enough to keep PostgreSQL's group commit fed under load;
            // few enough that a handful of server processes stays within
            // the default max_connections of 100.
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(60),
        }
    }
}

/// The PostgreSQL store. Open it with [`PostgresStore::open`]; call
/// [`Store::close`] before exiting so that requests in flight finish.
#[derive(Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// The write queue of consents and impressions, and its workers.
    batcher: Batcher,
    /// The newest rate-limit window this node has counted in (unix seconds).
    counters_window: std::sync::atomic::AtomicI64,
}

/// A configuration the store refuses to run with.
fn refused(reason: String) -> StoreError {
    StoreError::Database(sqlx::Error::Configuration(reason.into()))
}

/// Reports a request refused because the pool is closed as
/// [`StoreError::Closed`], as the trait promises.
fn closed_as_closed(error: StoreError) -> StoreError {
    match error {
        StoreError::Database(sqlx::Error::PoolClosed) => StoreError::Closed,
        other => other,
    }
}

/// Whether an insert failed because no partition takes its row: SQLSTATE
/// 23514 (check_violation) without a constraint name, which a real CHECK
/// violation always has.
fn is_missing_partition(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(db)) => {
            db.code().as_deref() == Some("23514") && db.constraint().is_none()
        }
        _ => false,
    }
}

fn parse_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    // Names the connections in pg_stat_activity, unless the URL does.
    Ok(if options.get_application_name().is_none() {
        options.application_name("nexaguard")
    } else {
        options
    })
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host/db`, any
    /// form libpq and sqlx accept) with the default [`PostgresOptions`],
    /// applies pending migrations and creates the consent partitions of
    /// this month and the next. Must be called inside a Tokio runtime.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::open_with(url, &PostgresOptions::default()).await
    }

    /// [`PostgresStore::open`] with other pool and session settings.
    pub async fn open_with(
        url: &str,
        options: &PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        let connect = parse_url(url)?;
        migrate(&connect).await?;
        // In milliseconds, at least 1: PostgreSQL reads 0 as "no limit".
        let millis = |limit: Duration| limit.as_millis().max(1);
        let session = connect.options([
            ("statement_timeout", millis(options.statement_timeout)),
            (
                "idle_in_transaction_session_timeout",
                millis(options.idle_in_transaction_timeout),
            ),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(session)
            .await?;
        let batcher = Batcher::start(&pool, options.acquire_timeout);
        let store = PostgresStore {
            pool,
            batcher,
            counters_window: std::sync::atomic::AtomicI64::new(0),
        };
        if let Err(error) = store.prepare().await {
            store.close().await;
            return Err(error);
        }
        Ok(store)
    }

    /// Applies pending migrations to the database at `url`, then
    /// disconnects (`nexaguard migrate`). Creates no partitions: the store
    /// does that when it opens.
    pub async fn migrate_only(url: &str) -> Result<(), StoreError> {
        migrate(&parse_url(url)?).await
    }

    /// Checks the server's settings and creates this month's and next
    /// month's partitions, so that the first consents of a month rarely
    /// find theirs missing.
    async fn prepare(&self) -> Result<(), StoreError> {
        let (synchronous_commit, encoding): (String, String) = sqlx::query_as(
            "SELECT current_setting('synchronous_commit'), current_setting('server_encoding')",
        )
        .fetch_one(&self.pool)
        .await?;
        // With `off`, COMMIT returns before the WAL is flushed: a crash
        // could lose consents that were already acknowledged.
        if synchronous_commit == "off" {
            return Err(refused(
                "synchronous_commit is off: acknowledged consents could be lost in a crash; \
                 turn it on for the NexaGuard database or role"
                    .to_owned(),
            ));
        }
        // Consent bodies must be stored exactly; another encoding would
        // convert them, and refuse characters it cannot represent.
        if encoding != "UTF8" {
            return Err(refused(format!(
                "the database encoding is {encoding}; NexaGuard needs a UTF8 database"
            )));
        }
        let this_month = MonthPartition::containing(OffsetDateTime::now_utc())?;
        partitions::ensure(&self.pool, &[this_month, this_month.next()]).await
    }

    /// A consent as the column values the batcher writes.
    fn prepare_consent(consent: NewConsent) -> Result<PreparedEvent, StoreError> {
        let NewConsent {
            site_id,
            event,
            token_hash,
            body_hash,
        } = consent;
        let (recorded_at, recorded_at_ns) = codec::split_nanos(event.recorded_at)?;
        Ok(PreparedEvent {
            event_id: event.event_id,
            site_id: site_id.0,
            environment: event.environment.as_str(),
            body_hash,
            recorded_at,
            recorded_at_ns,
            answer_at: event.recorded_at,
            body: codec::json_to_db("consent event", &event)?,
            kind: EventKind::Consent {
                token_hash: token_hash.0,
                inserted_at: codec::store_clock()?,
                month: MonthPartition::containing(event.recorded_at)?,
            },
        })
    }

    /// Retention; see [`Store::delete_consents_before`].
    ///
    /// 1. Months that end at or before the cutoff are dropped whole.
    /// 2. Rows before the cutoff in what remains (the cutoff's own month,
    ///    and any partition not made by the store) are deleted in chunks,
    ///    each chunk with its ids, in one statement.
    /// 3. Impressions before the cutoff are deleted in chunks, each chunk
    ///    with its ids, in one statement.
    /// 4. The ids of the dropped months are deleted in chunks.
    ///
    /// Between 1 and 4, an id can outlive its consent; a retry of such an
    /// event is then answered as a duplicate, which is true (it was
    /// recorded). The other order could record an expired event twice.
    async fn delete_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        let (cutoff_micros, cutoff_ns) = codec::split_nanos(cutoff)?;
        let mut total: u64 = 0;
        for partition in partitions::list(&self.pool).await? {
            if partition.end()? <= cutoff {
                let dropped = partitions::drop_partition(&self.pool, partition).await?;
                total = total.saturating_add(dropped);
            }
        }
        // "Before the cutoff" to the nanosecond: before its microsecond, or
        // in it with fewer nanoseconds. The first condition alone lets the
        // planner prune partitions and use the recorded_at indexes.
        loop {
            let (deleted,): (i64,) = sqlx::query_as(
                "WITH gone AS ( \
                     DELETE FROM consents \
                     WHERE recorded_at <= $1 AND (recorded_at < $1 OR recorded_at_ns < $2) \
                       AND (event_id, recorded_at) IN ( \
                           SELECT event_id, recorded_at FROM consents \
                           WHERE recorded_at <= $1 \
                             AND (recorded_at < $1 OR recorded_at_ns < $2) \
                           LIMIT $3) \
                     RETURNING event_id \
                 ), forgotten AS ( \
                     DELETE FROM consent_ids WHERE event_id IN (SELECT event_id FROM gone) \
                 ) \
                 SELECT count(*) FROM gone",
            )
            .bind(cutoff_micros)
            .bind(cutoff_ns)
            .bind(DELETE_CHUNK)
            .fetch_one(&self.pool)
            .await?;
            let deleted = u64::try_from(deleted)
                .map_err(|_| StoreError::Corrupt(format!("{deleted} rows deleted")))?;
            total = total.saturating_add(deleted);
            if deleted < DELETE_CHUNK.unsigned_abs() {
                break;
            }
        }
        // Before the ids: an impression must never outlive its id, or a
        // retry would find the id free and the impression's key taken.
        impressions::delete_before(&self.pool, cutoff_micros, cutoff_ns, DELETE_CHUNK).await?;
        loop {
            let done = sqlx::query(
                "DELETE FROM consent_ids WHERE event_id IN ( \
                     SELECT event_id FROM consent_ids \
                     WHERE recorded_at <= $1 AND (recorded_at < $1 OR recorded_at_ns < $2) \
                     LIMIT $3)",
            )
            .bind(cutoff_micros)
            .bind(cutoff_ns)
            .bind(DELETE_CHUNK)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() < DELETE_CHUNK.unsigned_abs() {
                break;
            }
        }
        // Webhook deliveries carry their consent: they go with it (not
        // counted in the answer, which counts consents).
        loop {
            let done = sqlx::query(
                "DELETE FROM webhook_deliveries WHERE id IN ( \
                     SELECT id FROM webhook_deliveries WHERE created_at < $1 LIMIT $2)",
            )
            .bind(cutoff)
            .bind(DELETE_CHUNK)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() < DELETE_CHUNK.unsigned_abs() {
                break;
            }
        }
        Ok(total)
    }
}

/// Applies pending migrations on a connection of its own, without the
/// pool's statement timeout: a future migration may rewrite a large table.
/// sqlx's migrator holds an advisory lock meanwhile, so servers starting
/// together migrate one after the other.
async fn migrate(connect: &PgConnectOptions) -> Result<(), StoreError> {
    let mut conn = connect.connect().await?;
    let migrated = MIGRATOR.run_direct(&mut conn).await;
    conn.close().await?;
    migrated.map_err(StoreError::from)
}

type ConfigRow = (Uuid, String, i32, String, OffsetDateTime);

fn config_from_row(row: ConfigRow) -> Result<PublishedConfig, StoreError> {
    let (site_id, environment, version, config_json, published_at) = row;
    Ok(PublishedConfig {
        site_id: SiteId(site_id),
        environment: codec::environment_from_db(&environment)?,
        version: codec::version_from_db(version)?,
        config_json,
        published_at,
    })
}

fn event_from_body(body: Option<(String,)>) -> Result<Option<ConsentEvent>, StoreError> {
    body.map(|(body,)| codec::json_from_db("consent event", &body))
        .transpose()
}

#[async_trait]
impl Store for PostgresStore {
    async fn setup_lock(&self) -> Result<SetupLock, StoreError> {
        // A session-level advisory lock on a connection taken out of the
        // pool: dropping the connection closes it, and PostgreSQL releases
        // the lock with the session, also when this process dies.
        let mut conn = self.pool.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock(hashtextextended('nexaguard:setup', 0))")
            .execute(&mut conn)
            .await?;
        Ok(SetupLock(Box::new(conn)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| closed_as_closed(e.into()))
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<(Uuid, String, OffsetDateTime)> =
            sqlx::query_as("SELECT id, name, created_at FROM tenants ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| closed_as_closed(e.into()))?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| Tenant {
                id: TenantId(id),
                name,
                created_at,
            })
            .collect())
    }

    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        sqlx::query(&format!("{SITE_SELECT} ORDER BY s.created_at, s.id"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| closed_as_closed(e.into()))?
            .iter()
            .map(site_from_row)
            .collect()
    }

    async fn latest_configs(&self) -> Result<Vec<PublishedConfig>, StoreError> {
        let rows: Vec<ConfigRow> = sqlx::query_as(
            "SELECT DISTINCT ON (site_id, environment) \
                 site_id, environment, version, config_json, published_at \
             FROM site_configs \
             ORDER BY site_id, environment, version DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| closed_as_closed(e.into()))?;
        rows.into_iter().map(config_from_row).collect()
    }

    async fn record_consent(&self, consent: NewConsent) -> Result<RecordOutcome, StoreError> {
        let result = match PostgresStore::prepare_consent(consent) {
            Ok(event) => self.batcher.record(event).await.map_err(closed_as_closed),
            Err(error) => Err(error),
        };
        if let Err(error) = &result {
            if !matches!(error, StoreError::Closed) {
                tracing::error!(%error, "recording a consent failed");
            }
        }
        result
    }

    async fn record_impression(
        &self,
        impression: NewImpression,
    ) -> Result<RecordOutcome, StoreError> {
        let result = match impressions::prepare(impression) {
            Ok(event) => self.batcher.record(event).await.map_err(closed_as_closed),
            Err(error) => Err(error),
        };
        if let Err(error) = &result {
            if !matches!(error, StoreError::Closed) {
                tracing::error!(%error, "recording an impression failed");
            }
        }
        result
    }

    async fn impressions_by_event_ids(
        &self,
        site: SiteId,
        environment: Environment,
        event_ids: &[Uuid],
    ) -> Result<Vec<Impression>, StoreError> {
        impressions::by_event_ids(&self.pool, site, environment, event_ids)
            .await
            .map_err(closed_as_closed)
    }

    async fn latest_consent(
        &self,
        site: SiteId,
        environment: Environment,
        token: &TokenHash,
    ) -> Result<Option<ConsentEvent>, StoreError> {
        let body: Option<(String,)> = sqlx::query_as(LATEST_CONSENT_SQL)
            .bind(site.0)
            .bind(environment.as_str())
            .bind(token.as_bytes())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| closed_as_closed(e.into()))?;
        event_from_body(body)
    }

    async fn consent_by_event_id(
        &self,
        site: SiteId,
        environment: Environment,
        event_id: Uuid,
    ) -> Result<Option<ConsentEvent>, StoreError> {
        // The time from consent_ids leads to the one partition to look in
        // (pruned when the statement starts), instead of probing the
        // primary key of every month.
        let body: Option<(String,)> = sqlx::query_as(
            "SELECT body FROM consents \
             WHERE event_id = $1 AND site_id = $2 AND environment = $3 \
               AND recorded_at = (SELECT recorded_at FROM consent_ids WHERE event_id = $1)",
        )
        .bind(event_id)
        .bind(site.0)
        .bind(environment.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| closed_as_closed(e.into()))?;
        event_from_body(body)
    }

    async fn count_consents(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<u64, StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM consents WHERE site_id = $1 AND environment = $2")
                .bind(site.0)
                .bind(environment.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| closed_as_closed(e.into()))?;
        u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("consent count {count}")))
    }

    async fn delete_consents_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        self.delete_before(cutoff).await.map_err(closed_as_closed)
    }

    fn pending_writes(&self) -> usize {
        self.batcher.pending()
    }

    async fn close(&self) {
        // Refuses new events at once, and returns once everything queued
        // has been committed and answered.
        self.batcher.close().await;
        // Then refuses every other request, and returns when the
        // connections in use have come back, i.e. when every statement in
        // flight has committed or failed (and its caller has been
        // answered).
        self.pool.close().await;
    }
}
