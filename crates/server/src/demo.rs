//! The demo tenant and site the run command creates in an empty store.

use anyhow::Context;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::Environment;
use nexaguard_store::{Site, Store};
use nexaguard_tcf::gvl::Gvl;
use std::net::SocketAddr;

/// The demo site's configuration (opt-in categories, English and German).
pub const DEMO_CONFIG: &str = include_str!("../assets/demo-site.json");

/// Name of the demo site, to find it again on later starts.
pub const DEMO_SITE_NAME: &str = "Demo site";

/// Creates the demo tenant and site when the store has no tenant, and
/// returns the demo site (existing or new), if there is one.
pub async fn ensure(
    store: &dyn Store,
    gvl: &Gvl,
    listen: SocketAddr,
) -> anyhow::Result<Option<Site>> {
    if store.tenants().await?.is_empty() {
        SiteConfig::from_json(DEMO_CONFIG, gvl).context("the embedded demo configuration")?;
        let tenant = store.create_tenant("Demo").await?;
        let origins = demo_origins(listen);
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

/// The origins a browser uses for the demo page on this server.
fn demo_origins(listen: SocketAddr) -> Vec<String> {
    let port = listen.port();
    let mut origins = vec![
        format!("https://localhost:{port}"),
        format!("https://127.0.0.1:{port}"),
    ];
    let ip = listen.ip();
    if !ip.is_loopback() && !ip.is_unspecified() {
        origins.push(format!("https://{}", SocketAddr::new(ip, port)));
    }
    origins
}
