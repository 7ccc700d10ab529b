//! `nexaguard serve`, `nexaguard migrate`, and the tenant and site commands
//! that manage the store until the admin API exists.

use anyhow::Context;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::Environment;
use nexaguard_server::settings::{LogFormat, ServeArgs, Settings, DEFAULT_DATA_DIR};
use nexaguard_store::{SiteId, SqliteStore, Store, TenantId};
use std::path::PathBuf;
use std::process::ExitCode;
use uuid::Uuid;

/// Where the CLI finds the store.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The server's data directory (the database is nexaguard.db inside).
    #[arg(long, env = "NEXAGUARD_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub(crate) data_dir: PathBuf,
}

impl StoreArgs {
    /// The database file in the data directory.
    pub(crate) fn database_path(&self) -> PathBuf {
        self.data_dir.join("nexaguard.db")
    }

    /// Opens the store, creating the data directory and applying the
    /// migrations as needed.
    pub(crate) async fn open(&self) -> anyhow::Result<SqliteStore> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let path = self.database_path();
        SqliteStore::open(&path)
            .await
            .with_context(|| format!("opening {}", path.display()))
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEXAGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs `nexaguard serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(args)?;
    init_logging(settings.log_format);
    runtime()?.block_on(nexaguard_server::run::run(settings))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `nexaguard migrate`.
pub fn migrate(args: StoreArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = args.open().await?;
        store.close().await;
        println!(
            "migrations applied to {}",
            args.data_dir.join("nexaguard.db").display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Arguments of `tenant create`.
#[derive(clap::Args, Debug)]
pub struct TenantCreateArgs {
    /// Display name.
    name: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `nexaguard tenant create`: prints the tenant as JSON.
pub fn tenant_create(args: TenantCreateArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.trim();
    if name.is_empty() || name.len() > 200 {
        anyhow::bail!("the tenant name must be 1 to 200 characters");
    }
    runtime()?.block_on(async {
        let store = args.store.open().await?;
        let tenant = store.create_tenant(name).await;
        store.close().await;
        let tenant = tenant?;
        println!(
            "{}",
            serde_json::json!({ "id": tenant.id.0, "name": tenant.name })
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Arguments of `site create`.
#[derive(clap::Args, Debug)]
pub struct SiteCreateArgs {
    /// The owning tenant's id.
    #[arg(long)]
    tenant: Uuid,
    /// Display name.
    #[arg(long)]
    name: String,
    /// An origin allowed to post consents (`https://www.example.com`); repeatable.
    #[arg(long = "origin", required = true)]
    origins: Vec<String>,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `nexaguard site create`: prints the site and its two keys as JSON.
pub fn site_create(args: SiteCreateArgs) -> anyhow::Result<ExitCode> {
    for origin in &args.origins {
        check_origin(origin)?;
    }
    runtime()?.block_on(async {
        let store = args.store.open().await?;
        let result = async {
            let tenants = store.tenants().await?;
            if !tenants.iter().any(|t| t.id.0 == args.tenant) {
                anyhow::bail!("no tenant has id {}", args.tenant);
            }
            Ok(store
                .create_site(TenantId(args.tenant), args.name.trim(), &args.origins)
                .await?)
        }
        .await;
        store.close().await;
        let site = result?;
        println!(
            "{}",
            serde_json::json!({
                "id": site.id.0,
                "name": site.name,
                "origins": site.origins,
                "siteKeys": { "production": site.production_key, "staging": site.staging_key },
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// An origin is scheme, host and optional port, nothing else.
fn check_origin(origin: &str) -> anyhow::Result<()> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .with_context(|| format!("origin {origin:?} must start with https:// or http://"))?;
    let host_ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !host_ok {
        anyhow::bail!("origin {origin:?} must be scheme://host[:port] without a path");
    }
    Ok(())
}

/// Arguments of `site config validate`.
#[derive(clap::Args, Debug)]
pub struct ConfigValidateArgs {
    /// The configuration JSON file.
    file: PathBuf,
    /// Global Vendor List to check vendors against [default: the embedded sample].
    #[arg(long)]
    gvl: Option<String>,
}

/// Arguments of `site config publish`.
#[derive(clap::Args, Debug)]
pub struct ConfigPublishArgs {
    /// The site's id.
    #[arg(long)]
    site: Uuid,
    /// production or staging.
    #[arg(long)]
    environment: Environment,
    /// The configuration JSON file.
    file: PathBuf,
    /// Global Vendor List to check vendors against [default: the embedded sample].
    #[arg(long)]
    gvl: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

async fn read_config(file: &std::path::Path, gvl: Option<&str>) -> anyhow::Result<String> {
    let text = super::read_file(file)?;
    let gvl = nexaguard_server::gvl_source::load_list(gvl).await?;
    SiteConfig::from_json(&text, &gvl).with_context(|| format!("{}", file.display()))?;
    Ok(text)
}

/// Runs `nexaguard site config validate`.
pub fn config_validate(args: ConfigValidateArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        read_config(&args.file, args.gvl.as_deref()).await?;
        println!("{}: valid", args.file.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `nexaguard site config publish`: prints the new version.
pub fn config_publish(args: ConfigPublishArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let text = read_config(&args.file, args.gvl.as_deref()).await?;
        let store = args.store.open().await?;
        let published = store
            .publish_config(SiteId(args.site), args.environment, &text)
            .await;
        store.close().await;
        let published = published?;
        println!(
            "{}",
            serde_json::json!({
                "site": args.site,
                "environment": args.environment,
                "version": published.version,
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}
