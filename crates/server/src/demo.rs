//! The demo tenant and site the run command creates in an empty store.
//!
//! Invariant: the demo site allows exactly the server's own public origins,
//! since the demo page is served by this server.

use crate::settings::PublicOrigins;
use anyhow::Context;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::Environment;
use nexaguard_store::{Site, Store};
use nexaguard_tcf::gvl::Gvl;

/// The demo site's configuration (opt-in categories, English and German).
pub const DEMO_CONFIG: &str = include_str!("../assets/demo-site.json");

/// Name of the demo site, to find it again on later starts.
pub const DEMO_SITE_NAME: &str = "Demo site";

/// Creates the demo tenant and site when the store has no tenant, and
/// returns the demo site (existing or new), if there is one. The new
/// site's allowed origins are the server's own (`public`): the demo page
/// is served by this server.
pub async fn ensure(
    store: &dyn Store,
    gvl: &Gvl,
    public: &PublicOrigins,
) -> anyhow::Result<Option<Site>> {
    if store.tenants().await?.is_empty() {
        SiteConfig::from_json(DEMO_CONFIG, gvl).context("the embedded demo configuration")?;
        let tenant = store.create_tenant("Demo").await?;
        let origins: Vec<String> = public.iter().map(|o| o.url()).collect();
        let site = store
            .create_site(tenant.id, DEMO_SITE_NAME, &origins)
            .await?;
        for environment in Environment::ALL {
            store
                .publish_config(site.id, environment, DEMO_CONFIG)
                .await?;
        }
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
