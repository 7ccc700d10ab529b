//! Opening an installation from the command line: where its store is
//! (`--data-dir`, `--database-url`), the async runtime, and the store and
//! administration service opened as the server opens them, so that every
//! command that changes something does it through `nexaguard-admin`, with
//! its audit entry. Shared by the commands that open the store.

use anyhow::Context;
use nexaguard_admin::Admin;
use nexaguard_server::database::{Database, Stores};
use nexaguard_server::settings::DEFAULT_DATA_DIR;
use nexaguard_store::Store;
use nexaguard_tcf::gvl::Gvl;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Where the CLI finds the store.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The server's data directory (the SQLite database is nexaguard.db
    /// inside; the key file and the secrets are there with PostgreSQL too).
    #[arg(long, env = "NEXAGUARD_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub(crate) data_dir: PathBuf,
    /// Use this PostgreSQL database (postgres://...) instead of the SQLite
    /// file in the data directory, as `serve --database-url` does.
    #[arg(long, env = "NEXAGUARD_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
}

impl StoreArgs {
    /// The SQLite database file in the data directory.
    pub(crate) fn database_path(&self) -> PathBuf {
        self.data_dir.join("nexaguard.db")
    }

    /// The database these arguments name, chosen as `serve` chooses it.
    pub(crate) fn database(&self) -> Database {
        match &self.database_url {
            Some(url) => Database::Postgres(url.clone()),
            None => Database::Sqlite(self.database_path()),
        }
    }

    /// Where the data is, for messages; never the URL, which may hold a
    /// password.
    pub(crate) fn describe(&self) -> String {
        match &self.database_url {
            Some(_) => "the PostgreSQL database".to_owned(),
            None => self.database_path().display().to_string(),
        }
    }

    /// Refuses a PostgreSQL URL for a command that works on the SQLite
    /// file only, rather than quietly using the file.
    pub(crate) fn require_sqlite(&self, command: &str) -> anyhow::Result<()> {
        if self.database_url.is_some() {
            anyhow::bail!(
                "{command} works on the SQLite file of --data-dir only; back up PostgreSQL with \
                 its own tools (docs/deployment.md#postgresql)"
            );
        }
        Ok(())
    }

    /// Opens both sides of the store, creating the data directory and
    /// applying the migrations as needed.
    pub(crate) async fn open(&self) -> anyhow::Result<Stores> {
        if self.database_url.is_none() {
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("creating {}", self.data_dir.display()))?;
        }
        self.database().open().await
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Exit code of a usage error, as clap uses.
const USAGE: u8 = 2;

/// Prints a usage error as one line and returns its exit code.
pub(super) fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(USAGE))
}

/// The store and the administration service of an installation (its data
/// directory, and its PostgreSQL database if given), opened as the server
/// opens them (same key file, same secrets). Every administrative command
/// makes its changes through `admin`, so each has its audit entry.
pub(super) struct Opened {
    pub(super) consents: Arc<dyn Store>,
    pub(super) admin: Arc<Admin>,
}

impl Opened {
    /// Opens it; `gvl` is the vendor list configurations are checked
    /// against (the embedded one when `None`).
    pub(super) async fn open(store: &StoreArgs, gvl: Option<Gvl>) -> anyhow::Result<Opened> {
        let stores = store.open().await?;
        let consents = Arc::clone(&stores.consents);
        match Opened::admin(store, stores, gvl).await {
            Ok(admin) => Ok(Opened { consents, admin }),
            Err(error) => {
                consents.close().await;
                Err(error)
            }
        }
    }

    async fn admin(
        store: &StoreArgs,
        stores: Stores,
        gvl: Option<Gvl>,
    ) -> anyhow::Result<Arc<Admin>> {
        let tokens = nexaguard_server::secrets::token_keys(&store.data_dir)?;
        // Only configuration checks need the GVL: without one given, the
        // embedded one spares a download.
        let gvl = match gvl {
            Some(gvl) => gvl,
            None => nexaguard_server::gvl_source::load_list(None).await?,
        };
        // A server starting on the same database may be making the first
        // keys right now.
        let _setup = stores.consents.setup_lock().await?;
        nexaguard_server::admin::open(
            &store.data_dir,
            stores.admin,
            stores.consents,
            Arc::new(gvl),
            tokens,
        )
        .await
    }

    pub(super) async fn close(self) {
        self.consents.close().await;
    }
}

/// Refuses a data directory without a database: a mistyped `--data-dir`
/// must not quietly start a new installation.
pub(super) fn require_database(store: &StoreArgs) -> anyhow::Result<()> {
    let path = store.database_path();
    if store.database_url.is_some() || path.is_file() {
        Ok(())
    } else {
        anyhow::bail!(
            "no NexaGuard database at {} (wrong --data-dir?)",
            path.display()
        )
    }
}
