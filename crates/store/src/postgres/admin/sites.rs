//! Sites with their keys, and their published configurations. Their only
//! writers are here, audited: `Store` reads them.
//!
//! Invariants: a site is created with both its keys, in its tenant only;
//! a published version is the next of its site environment and never
//! changes (the schema refuses updates and deletes).

use super::{append, transaction, Backend};
use crate::admin::rows::{new_site_key, site_from_row, SITE_SELECT};
use crate::admin::AuditAppend;
use crate::postgres::codec;
use crate::{PublishedConfig, Site, SiteId, StoreError, TenantId};
use nexaguard_consent::Environment;
use sqlx::postgres::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

pub(super) async fn create_tenant_site(
    store: &Backend,
    tenant: TenantId,
    name: &str,
    origins: &[String],
    audit: AuditAppend,
) -> Result<Site, StoreError> {
    let signer = store.signer();
    let site = Site {
        id: SiteId(Uuid::new_v4()),
        tenant_id: tenant,
        name: name.to_owned(),
        origins: origins.to_vec(),
        production_key: new_site_key(Environment::Production),
        staging_key: new_site_key(Environment::Staging),
        created_at: codec::store_clock()?,
    };
    transaction!(store, |conn| async {
        insert_site(conn, &site).await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(())
    })?;
    Ok(site)
}

pub(super) async fn tenant_sites(
    store: &Backend,
    tenant: TenantId,
) -> Result<Vec<Site>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "{SITE_SELECT} WHERE s.tenant_id = $1 ORDER BY s.created_at, s.id"
    ))
    .bind(tenant.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(site_from_row)
    .collect()
}

pub(super) async fn tenant_site(
    store: &Backend,
    tenant: TenantId,
    site: SiteId,
) -> Result<Option<Site>, StoreError> {
    let mut conn = store.conn().await?;
    sqlx::query(&format!(
        "{SITE_SELECT} WHERE s.tenant_id = $1 AND s.id = $2"
    ))
    .bind(tenant.0)
    .bind(site.0)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(site_from_row)
    .transpose()
}

pub(super) async fn latest_config(
    store: &Backend,
    site: SiteId,
    environment: Environment,
) -> Result<Option<PublishedConfig>, StoreError> {
    let mut conn = store.conn().await?;
    let row: Option<(i32, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT version, config_json, published_at FROM site_configs \
         WHERE site_id = $1 AND environment = $2 ORDER BY version DESC LIMIT 1",
    )
    .bind(site.0)
    .bind(environment.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(version, config_json, published_at)| {
        Ok(PublishedConfig {
            site_id: site,
            environment,
            version: codec::version_from_db(version)?,
            config_json,
            published_at,
        })
    })
    .transpose()
}

pub(super) async fn publish_audited(
    store: &Backend,
    site: SiteId,
    environment: Environment,
    config_json: &str,
    audit: AuditAppend,
) -> Result<PublishedConfig, StoreError> {
    let signer = store.signer();
    transaction!(store, |conn| async {
        // Locking the site row serialises publications to the site, so two
        // of them (on any nodes) cannot both take the same next version;
        // NO KEY UPDATE does not conflict with the KEY SHARE locks of
        // foreign key checks, so consents keep flowing meanwhile.
        let site_exists: Option<(i32,)> =
            sqlx::query_as("SELECT 1 FROM sites WHERE id = $1 FOR NO KEY UPDATE")
                .bind(site.0)
                .fetch_optional(&mut *conn)
                .await?;
        if site_exists.is_none() {
            return Err(StoreError::NotFound(format!("site {}", site.0)));
        }
        let (next,): (i32,) = sqlx::query_as(
            "SELECT coalesce(max(version), 0) + 1 FROM site_configs \
             WHERE site_id = $1 AND environment = $2",
        )
        .bind(site.0)
        .bind(environment.as_str())
        .fetch_one(&mut *conn)
        .await?;
        let published = PublishedConfig {
            site_id: site,
            environment,
            version: codec::version_from_db(next)?,
            config_json: config_json.to_owned(),
            published_at: codec::store_clock()?,
        };
        sqlx::query(
            "INSERT INTO site_configs (site_id, environment, version, config_json, published_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(site.0)
        .bind(environment.as_str())
        .bind(next)
        .bind(config_json)
        .bind(published.published_at)
        .execute(&mut *conn)
        .await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(published)
    })
}

async fn insert_site(conn: &mut PgConnection, site: &Site) -> Result<(), StoreError> {
    // The foreign key would refuse an unknown tenant too, but as a database
    // error; this tells the caller what is missing.
    let (tenant_exists,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)")
            .bind(site.tenant_id.0)
            .fetch_one(&mut *conn)
            .await?;
    if !tenant_exists {
        return Err(StoreError::NotFound(format!("tenant {}", site.tenant_id.0)));
    }
    sqlx::query(
        "INSERT INTO sites (id, tenant_id, name, origins, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(site.id.0)
    .bind(site.tenant_id.0)
    .bind(&site.name)
    .bind(&site.origins)
    .bind(site.created_at)
    .execute(&mut *conn)
    .await?;
    for environment in [Environment::Production, Environment::Staging] {
        sqlx::query("INSERT INTO site_keys (key, site_id, environment) VALUES ($1, $2, $3)")
            .bind(site.key(environment))
            .bind(site.id.0)
            .bind(environment.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
