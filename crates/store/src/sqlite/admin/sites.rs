//! Sites with their keys, and their published configurations. Their only
//! writers are here, audited: `Store` reads them.
//!
//! Invariants: a site is created with both its keys, in its tenant only;
//! a published version is the next of its site environment and never
//! changes (the schema refuses updates and deletes).

use super::{append, transaction, Backend};
use crate::admin::rows::{new_site_key, site_from_row, SITE_SELECT};
use crate::admin::AuditAppend;
use crate::sqlite::codec;
use crate::{PublishedConfig, Site, SiteId, StoreError, TenantId};
use nexaguard_consent::Environment;
use sqlx::SqliteConnection;
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
        created_at: OffsetDateTime::now_utc(),
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
    sqlx::query(&format!(
        "{SITE_SELECT} WHERE s.tenant_id = ? ORDER BY s.created_at, s.id"
    ))
    .bind(codec::uuid_to_db(tenant.0))
    .fetch_all(&store.read)
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
    sqlx::query(&format!("{SITE_SELECT} WHERE s.tenant_id = ? AND s.id = ?"))
        .bind(codec::uuid_to_db(tenant.0))
        .bind(codec::uuid_to_db(site.0))
        .fetch_optional(&store.read)
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
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT version, config_json, published_at FROM site_configs \
         WHERE site_id = ? AND environment = ? ORDER BY version DESC LIMIT 1",
    )
    .bind(codec::uuid_to_db(site.0))
    .bind(environment.as_str())
    .fetch_optional(&store.read)
    .await?;
    row.map(|(version, config_json, published_at)| {
        Ok(PublishedConfig {
            site_id: site,
            environment,
            version: codec::version_from_db(version)?,
            config_json,
            published_at: codec::timestamp_from_db(&published_at)?,
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
    let published_at = OffsetDateTime::now_utc();
    let published_at_text = codec::timestamp_to_db(published_at)?;
    let site_text = codec::uuid_to_db(site.0);
    let version = transaction!(store, |conn| async {
        // BEGIN IMMEDIATE holds the write lock, so no other writer (a
        // node, the CLI) slips a version in between; the check makes an
        // unknown site a `NotFound` rather than a foreign key error.
        let site_exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM sites WHERE id = ?")
            .bind(&site_text)
            .fetch_optional(&mut *conn)
            .await?;
        if site_exists.is_none() {
            return Err(StoreError::NotFound(format!("site {}", site.0)));
        }
        let (version,): (i64,) = sqlx::query_as(
            "INSERT INTO site_configs (site_id, environment, version, config_json, \
             published_at) \
             SELECT ?1, ?2, coalesce(max(version), 0) + 1, ?3, ?4 FROM site_configs \
             WHERE site_id = ?1 AND environment = ?2 RETURNING version",
        )
        .bind(&site_text)
        .bind(environment.as_str())
        .bind(config_json)
        .bind(&published_at_text)
        .fetch_one(&mut *conn)
        .await?;
        append(conn, signer.as_deref(), audit).await?;
        Ok::<_, StoreError>(version)
    })?;
    Ok(PublishedConfig {
        site_id: site,
        environment,
        version: codec::version_from_db(version)?,
        config_json: config_json.to_owned(),
        published_at,
    })
}

async fn insert_site(conn: &mut SqliteConnection, site: &Site) -> Result<(), StoreError> {
    let id = codec::uuid_to_db(site.id.0);
    let tenant = codec::uuid_to_db(site.tenant_id.0);
    // The foreign key would refuse an unknown tenant too, but as a database
    // error; this tells the caller what is missing.
    let tenant_exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM tenants WHERE id = ?")
        .bind(&tenant)
        .fetch_optional(&mut *conn)
        .await?;
    if tenant_exists.is_none() {
        return Err(StoreError::NotFound(format!("tenant {}", site.tenant_id.0)));
    }
    sqlx::query(
        "INSERT INTO sites (id, tenant_id, name, origins, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&tenant)
    .bind(&site.name)
    .bind(codec::json_to_db("site origins", &site.origins)?)
    .bind(codec::timestamp_to_db(site.created_at)?)
    .execute(&mut *conn)
    .await?;
    for environment in [Environment::Production, Environment::Staging] {
        sqlx::query("INSERT INTO site_keys (key, site_id, environment) VALUES (?, ?, ?)")
            .bind(site.key(environment))
            .bind(&id)
            .bind(environment.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
