//! # nexaguard-store
//!
//! Where NexaGuard keeps tenants, sites, published configurations and
//! consent records: the [`Store`] trait, and one module per backend.
//! [`Store`] records consents and reads the rest; tenants, sites and
//! configurations are written only by the admin side, each change with
//! its audit entry (see [`admin`]).
//!
//! - [`sqlite`]: the embedded default. WAL mode; every write goes through
//!   one writer thread that commits in batches (group commit), and a request
//!   is answered only once its batch is committed.
//! - [`postgres`]: for several server nodes on one database. Consent
//!   records in monthly partitions; each node commits the events queued
//!   meanwhile in one statement (group commit per node), and PostgreSQL
//!   groups the WAL flushes of the nodes' concurrent commits itself.
//!
//! The admin side ([`admin::AdminStore`]) has a backend for each:
//! [`SqliteAdminStore`] and [`PostgresAdminStore`] (on the
//! [`PostgresStore`]'s connection pool), which pass the same tests
//! (`tests/admin_store.rs`).
//!
//! Impressions (a notice was shown) are kept beside the consents, in a
//! table of their own on each backend, written through the same path as
//! consents and deleted with them by retention. An event id is unique
//! across consents and impressions: reusing one for the other kind is a
//! conflict.
//!
//! Webhooks and their delivery outbox ([`webhooks::WebhookStore`], part of
//! every admin store) are written with the consents they carry.
//!
//! Every backend passes the same tests (`tests/store.rs`), so a new one is
//! one more module and one more line in that test file.

pub mod admin;
pub mod counters;
mod pending;
pub mod postgres;
pub mod sqlite;
pub mod webhooks;

use async_trait::async_trait;
use nexaguard_consent::event::{ConsentEvent, Impression};
use nexaguard_consent::token::TokenHash;
use nexaguard_consent::Environment;
use time::OffsetDateTime;
use uuid::Uuid;

pub use admin::AdminStore;
pub use counters::HitCounter;
pub use postgres::{PostgresAdminStore, PostgresStore};
pub use sqlite::{SqliteAdminStore, SqliteStore};
pub use webhooks::WebhookStore;

/// A tenant's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub Uuid);

/// A site's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteId(pub Uuid);

/// A customer of the platform; it owns sites and sees only their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A website or app of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Its id.
    pub id: SiteId,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: String,
    /// Origins (`https://www.example.com`) allowed to post consents.
    pub origins: Vec<String>,
    /// The public site key of production.
    pub production_key: String,
    /// The public site key of staging.
    pub staging_key: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

impl Site {
    /// The site key of `environment`.
    pub fn key(&self, environment: Environment) -> &str {
        match environment {
            Environment::Production => &self.production_key,
            Environment::Staging => &self.staging_key,
        }
    }
}

/// One published version of a site environment's configuration. Published
/// versions never change; publishing makes a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedConfig {
    /// The site.
    pub site_id: SiteId,
    /// The environment it was published to.
    pub environment: Environment,
    /// 1, 2, 3... per site environment.
    pub version: u32,
    /// The configuration JSON (a `SiteConfig`), exactly as published.
    pub config_json: String,
    /// When it was published.
    pub published_at: OffsetDateTime,
}

/// A consent event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConsent {
    /// The site it belongs to.
    pub site_id: SiteId,
    /// The event; its `environment` and `recorded_at` are stored with it.
    pub event: ConsentEvent,
    /// The keyed hash of the consent token the receipt carries.
    pub token_hash: TokenHash,
    /// SHA-256 of the posted body in canonical form: a retry with the same
    /// event id must have the same body hash, or it is a conflict.
    pub body_hash: [u8; 32],
}

/// An impression to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImpression {
    /// The site it belongs to.
    pub site_id: SiteId,
    /// The impression; its `environment` and `recorded_at` are stored with it.
    pub impression: Impression,
    /// SHA-256 of the posted body in canonical form, as for a consent.
    pub body_hash: [u8; 32],
}

/// What recording an event (a consent or an impression) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Newly committed.
    Recorded {
        /// The commit time stored with the event.
        recorded_at: OffsetDateTime,
    },
    /// The same event id with the same body was recorded before; nothing new
    /// was stored.
    Duplicate {
        /// The time of the first recording.
        recorded_at: OffsetDateTime,
    },
    /// The same event id with a different body was recorded before; nothing
    /// was stored.
    Conflict,
}

/// A store failure. None of these is the client's fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database said no to the SQLite writer (which uses rusqlite).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back (a bug or a damaged database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The named tenant or site does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change contradicts what is stored (a taken e-mail address).
    #[error("{0}")]
    Conflict(String),
    /// The store is shutting down and takes no more writes.
    #[error("the store is closed")]
    Closed,
    /// The write queue is full: the database does not keep up. Refusing
    /// at once keeps memory and latency bounded; the client retries.
    #[error("the store is overloaded")]
    Overloaded,
    /// The setup lock could not be taken (the task holding it failed).
    #[error("cannot take the setup lock: {0}")]
    SetupLock(std::io::Error),
}

impl StoreError {
    /// Whether the failure is the database being out of reach, overloaded
    /// or out of space, rather than a bug: worth a 503 and a retry.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Overloaded | StoreError::Closed => true,
            StoreError::Database(error) => {
                matches!(
                    error,
                    sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                ) || error
                    .as_database_error()
                    .and_then(|e| e.code())
                    .is_some_and(|code| unavailable_code(&code))
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => matches!(
                error.code,
                rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::CannotOpen
            ),
            _ => false,
        }
    }
}

/// SQLSTATE classes and SQLite codes of a database that is down, starting,
/// out of space or out of connections.
fn unavailable_code(code: &str) -> bool {
    // PostgreSQL: 08 connection exceptions, 53 insufficient resources (disk
    // full, out of memory, too many connections), 57P0x shutting down or
    // starting. SQLite through sqlx: 13 SQLITE_FULL, 5 SQLITE_BUSY,
    // 6 SQLITE_LOCKED, 10 SQLITE_IOERR (and extended codes ending in them).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P0")
        || matches!(code.parse::<u32>().map(|c| c & 0xff), Ok(13 | 5 | 6 | 10))
}

/// The operations the server and the CLI need. Every method is scoped by
/// site and environment where consent data is concerned: no query mixes
/// tenants or environments.
///
/// Tenants, sites and published configurations are only read here: they
/// are written by an administrator's change, which commits with its audit
/// entry through [`AdminStore`] (`create_tenant_audited`,
/// `create_tenant_site`, `publish_audited`), so there is no second,
/// unaudited way to make them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// All tenants, oldest first.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// All sites of all tenants, oldest first (the server indexes them by key).
    async fn sites(&self) -> Result<Vec<Site>, StoreError>;

    /// The newest published configuration of every site environment.
    async fn latest_configs(&self) -> Result<Vec<PublishedConfig>, StoreError>;

    /// Records one consent event, answering once it is durably committed.
    async fn record_consent(&self, consent: NewConsent) -> Result<RecordOutcome, StoreError>;

    /// The newest event of the consent token in the site environment.
    async fn latest_consent(
        &self,
        site: SiteId,
        environment: Environment,
        token: &TokenHash,
    ) -> Result<Option<ConsentEvent>, StoreError>;

    /// Whether an event id was recorded in the site environment.
    async fn consent_by_event_id(
        &self,
        site: SiteId,
        environment: Environment,
        event_id: Uuid,
    ) -> Result<Option<ConsentEvent>, StoreError>;

    /// Number of events recorded for the site environment.
    async fn count_consents(
        &self,
        site: SiteId,
        environment: Environment,
    ) -> Result<u64, StoreError>;

    /// Records one impression, answering once it is durably committed. An
    /// event id already recorded as a consent is a conflict.
    async fn record_impression(
        &self,
        impression: NewImpression,
    ) -> Result<RecordOutcome, StoreError>;

    /// The impressions among `event_ids` recorded in the site environment,
    /// in no particular order; ids not found are left out.
    async fn impressions_by_event_ids(
        &self,
        site: SiteId,
        environment: Environment,
        event_ids: &[Uuid],
    ) -> Result<Vec<Impression>, StoreError>;

    /// Deletes consent records, and impressions, committed before
    /// `cutoff`; returns how many consents.
    async fn delete_consents_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError>;

    /// Events waiting for the writer (the write-queue depth metric).
    fn pending_writes(&self) -> usize;

    /// Commits everything pending and stops taking writes (graceful shutdown).
    async fn close(&self);

    /// Waits until no other process sharing this database is setting it up,
    /// and keeps them waiting until the returned guard is dropped. A start
    /// that checks for something (the demo tenant, the first signing key)
    /// and then creates it holds this, so that nodes starting together on
    /// an empty database do not both create it.
    async fn setup_lock(&self) -> Result<SetupLock, StoreError>;
}

/// Held while a process sets the database up; dropping it lets the next
/// one in (see [`Store::setup_lock`]).
#[must_use = "the lock is released when this is dropped"]
pub struct SetupLock(#[allow(dead_code)] Box<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for SetupLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetupLock")
    }
}
