//! The demo tenant and site the run command creates in an empty store.
//!
//! Invariants: the demo site allows exactly the server's own public
//! origins, since the demo page is served by this server; and the demo is
//! made like any administrator's change, through [`Admin`] as the system
//! (the CLI's path), so each step has its audit entry.

use crate::settings::PublicOrigins;
use anyhow::Context;
use nexaguard_admin::principal::Principal;
use nexaguard_admin::Admin;
use nexaguard_consent::config::SiteConfig;
use nexaguard_store::{Site, Store};
use nexaguard_tcf::gvl::Gvl;

/// The demo site's configuration (opt-in categories, English and German).
pub const DEMO_CONFIG: &str = include_str!("../assets/demo-site.json");

/// Name of the demo site, to find it again on later starts.
pub const DEMO_SITE_NAME: &str = "Demo site";

/// Creates the demo tenant and site when the store has no tenant, and
/// returns the demo site (existing or new), if there is one. The new
/// site's allowed origins are the server's own (`public`): the demo page
/// is served by this server. The caller holds the setup lock, so that of
/// nodes starting together on an empty store only one makes the demo.
pub async fn ensure(
    store: &dyn Store,
    admin: &Admin,
    gvl: &Gvl,
    public: &PublicOrigins,
) -> anyhow::Result<Option<Site>> {
    if store.tenants().await?.is_empty() {
        // Checked before anything is made: a bad embedded configuration
        // must not leave a demo tenant without a published site behind.
        SiteConfig::from_json(DEMO_CONFIG, gvl).context("the embedded demo configuration")?;
        let config: serde_json::Value =
            serde_json::from_str(DEMO_CONFIG).context("the embedded demo configuration")?;
        let (tenant, _) = admin
            .create_tenant(&Principal::system(None), "Demo", None)
            .await?;
        let principal = Principal::system(Some(tenant.id));
        let origins: Vec<String> = public.iter().map(|o| o.url()).collect();
        let site = admin
            .create_site(&principal, DEMO_SITE_NAME, &origins)
            .await?;
        // The console's path, as `nexaguard site config publish` takes it:
        // the draft, published to staging, promoted to production.
        admin.save_draft(&principal, site.id, &config, 0).await?;
        admin.publish_staging(&principal, site.id).await?;
        admin.promote(&principal, site.id).await?;
        tracing::info!("created the demo tenant and site");
        return Ok(Some(site));
    }
    Ok(store
        .sites()
        .await?
        .into_iter()
        .find(|s| s.name == DEMO_SITE_NAME))
}

/// The demo tenant owner's address.
pub const DEMO_OWNER: &str = "owner@demo.localhost";

/// Makes the demo tenant's owner, with a random password, when the
/// installation has no admin user yet. Returns the address and password to
/// print once; only the password's argon2id hash is stored.
pub async fn ensure_owner(
    admin: &nexaguard_admin::Admin,
    site: &Site,
) -> anyhow::Result<Option<(String, String)>> {
    use base64::Engine as _;
    use rand::RngCore;
    if admin.store().count_users().await? > 0 {
        return Ok(None);
    }
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    admin
        .create_user_as_system(
            Some(site.tenant_id),
            nexaguard_access::Role::Owner,
            DEMO_OWNER,
            &password,
        )
        .await?;
    tracing::info!("created the demo tenant's owner");
    Ok(Some((DEMO_OWNER.to_owned(), password)))
}
