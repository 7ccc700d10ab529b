//! Which database the server keeps its data in: the embedded SQLite file
//! in the data directory (one node), or PostgreSQL (`--database-url`,
//! several nodes on one database).

use anyhow::Context;
use nexaguard_store::{
    AdminStore, HitCounter, PostgresAdminStore, PostgresStore, SqliteAdminStore, SqliteStore, Store,
};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// The consent side and the admin side of one database.
#[derive(Clone)]
pub struct Stores {
    /// Tenants, sites, configurations, consent records.
    pub consents: Arc<dyn Store>,
    /// Accounts, sessions, tokens, drafts, the audit log, data keys.
    pub admin: Arc<dyn AdminStore>,
    /// Rate-limit counters every node shares; `None` for SQLite, whose one
    /// node counts in memory.
    pub counters: Option<Arc<dyn HitCounter>>,
}

impl Database {
    /// Opens both sides, applying migrations.
    pub async fn open(&self) -> anyhow::Result<Stores> {
        match self {
            Database::Sqlite(path) => {
                let consents = SqliteStore::open(path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?;
                let admin = SqliteAdminStore::open(path).await?;
                Ok(Stores {
                    consents: Arc::new(consents),
                    admin: Arc::new(admin),
                    counters: None,
                })
            }
            Database::Postgres(url) => {
                // The URL may hold a password: it is not repeated in errors.
                let consents = PostgresStore::open(url)
                    .await
                    .context("opening the PostgreSQL database")?;
                let admin = PostgresAdminStore::new(&consents);
                tracing::info!("store: PostgreSQL");
                let consents = Arc::new(consents);
                Ok(Stores {
                    consents: Arc::clone(&consents) as Arc<dyn Store>,
                    admin: Arc::new(admin),
                    counters: Some(consents),
                })
            }
        }
    }
}
