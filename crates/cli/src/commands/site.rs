//! `nexaguard site create` and `nexaguard site config validate|publish`,
//! through the administration service as the system, each change with its
//! audit entry, like the admin API's.

use super::store::{runtime, Opened, StoreArgs};
use anyhow::Context;
use nexaguard_admin::principal::Principal;
use nexaguard_admin::sites::check_origins;
use nexaguard_admin::tenants::check_name;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::Environment;
use nexaguard_store::{SiteId, TenantId};
use nexaguard_tcf::gvl::Gvl;
use std::path::PathBuf;
use std::process::ExitCode;
use uuid::Uuid;

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
    // The admin service checks these again; checking them first means a
    // mistyped origin opens and creates nothing.
    check_name(&args.name, 200)?;
    check_origins(&args.origins)?;
    runtime()?.block_on(async {
        let opened = Opened::open(&args.store, None).await?;
        let result = async {
            let tenants = opened.consents.tenants().await?;
            if !tenants.iter().any(|t| t.id.0 == args.tenant) {
                anyhow::bail!("no tenant has id {}", args.tenant);
            }
            let principal = Principal::system(Some(TenantId(args.tenant)));
            Ok(opened
                .admin
                .create_site(&principal, &args.name, &args.origins)
                .await?)
        }
        .await;
        opened.close().await;
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

/// Reads and validates a configuration file against `gvl`.
fn read_config(file: &std::path::Path, gvl: &Gvl) -> anyhow::Result<String> {
    let text = super::read_file(file)?;
    SiteConfig::from_json(&text, gvl).with_context(|| format!("{}", file.display()))?;
    Ok(text)
}

/// Runs `nexaguard site config validate`.
pub fn config_validate(args: ConfigValidateArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let gvl = nexaguard_server::gvl_source::load_list(args.gvl.as_deref()).await?;
        read_config(&args.file, &gvl)?;
        println!("{}: valid", args.file.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `nexaguard site config publish`: prints the new version.
///
/// It takes the console's path, each step audited: the file becomes the
/// site's draft, the draft is published to staging, and for production
/// staging is then promoted.
pub fn config_publish(args: ConfigPublishArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let gvl = nexaguard_server::gvl_source::load_list(args.gvl.as_deref()).await?;
        // Checked before anything is opened, and the message names the file.
        let text = read_config(&args.file, &gvl)?;
        let config: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}", args.file.display()))?;
        let opened = Opened::open(&args.store, Some(gvl)).await?;
        let result = publish(&opened, SiteId(args.site), args.environment, &config).await;
        opened.close().await;
        let version = result?;
        println!(
            "{}",
            serde_json::json!({
                "site": args.site,
                "environment": args.environment,
                "version": version,
            })
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Saves `config` as the site's draft, publishes it to staging and, for
/// production, promotes it; returns the environment's version.
async fn publish(
    opened: &Opened,
    site: SiteId,
    environment: Environment,
    config: &serde_json::Value,
) -> anyhow::Result<u32> {
    let sites = opened.consents.sites().await?;
    let tenant = sites
        .iter()
        .find(|s| s.id == site)
        .map(|s| s.tenant_id)
        .with_context(|| format!("no site has id {}", site.0))?;
    let principal = Principal::system(Some(tenant));
    let admin = &opened.admin;
    let base = admin.draft(&principal, site).await?.revision;
    admin.save_draft(&principal, site, config, base).await?;
    let staged = admin.publish_staging(&principal, site).await?;
    if environment == Environment::Staging {
        return Ok(staged.version);
    }
    let preview = admin.promotion_preview(&principal, site).await?;
    if let (true, Some(version)) = (preview.changes.is_empty(), preview.production_version) {
        // Promotion refuses to change nothing; publishing what production
        // already serves succeeds without a new version, so that a
        // deployment can be run again.
        eprintln!("note: production already has this configuration (version {version})");
        return Ok(version);
    }
    let promoted = admin.promote(&principal, site).await?;
    promoted
        .published_version
        .context("the promotion made no production version")
}
