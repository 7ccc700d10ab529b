//! What the store test harnesses share: the tenants, sites and published
//! configurations a case starts from ([`Seed`]), and the PostgreSQL side:
//! a database of a test's own on the server `NEXAGUARD_TEST_DATABASE_URL`
//! names.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use nexaguard_audit::{Action, Actor, AuditEvent, ChainId, Outcome};
use nexaguard_consent::Environment;
use nexaguard_store::admin::AuditAppend;
use nexaguard_store::postgres::PostgresOptions;
use nexaguard_store::{AdminStore, PublishedConfig, Site, StoreError, Tenant, TenantId};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// Tenants, sites and published configurations for a case, made the one
/// way the product makes them: through the admin store's audited writers,
/// each with its entry (the system as the actor), in the chains the
/// administration service uses (a tenant's creation in the platform's, the
/// rest in the tenant's). The same on every backend, so a case that starts
/// from them runs unchanged on each.
pub struct Seed<'a>(pub &'a dyn AdminStore);

impl Seed<'_> {
    /// A new tenant named `name`.
    pub async fn tenant(&self, name: &str) -> Result<Tenant, StoreError> {
        let id = TenantId(Uuid::new_v4());
        let audit = system_audit(
            ChainId::Platform,
            Action::TenantCreated,
            format!("tenant:{}", id.0),
        );
        self.0.create_tenant_audited(id, name, audit).await
    }

    /// A new site of `tenant` allowing `origins`, with fresh site keys.
    pub async fn site(
        &self,
        tenant: TenantId,
        name: &str,
        origins: &[String],
    ) -> Result<Site, StoreError> {
        let audit = system_audit(
            ChainId::Tenant(tenant.0),
            Action::SiteCreated,
            "site:new".to_owned(),
        );
        self.0
            .create_tenant_site(tenant, name, origins, audit)
            .await
    }

    /// Publishes `config_json` as the next version of the site's
    /// `environment`.
    pub async fn publish(
        &self,
        site: &Site,
        environment: Environment,
        config_json: &str,
    ) -> Result<PublishedConfig, StoreError> {
        let audit = system_audit(
            ChainId::Tenant(site.tenant_id.0),
            Action::Published,
            format!("site:{}", site.id.0),
        );
        self.0
            .publish_audited(site.id, environment, config_json, audit)
            .await
    }
}

/// An entry for a change the system made now.
fn system_audit(chain: ChainId, action: Action, target: String) -> AuditAppend {
    AuditAppend {
        chain,
        event: AuditEvent::new(action, Actor::System, target, Outcome::Success),
        at: time::OffsetDateTime::now_utc(),
    }
}

/// The variable naming the PostgreSQL server of the PostgreSQL tests.
const DATABASE_URL_VAR: &str = "NEXAGUARD_TEST_DATABASE_URL";

/// Every database the PostgreSQL harness creates is named
/// `{prefix}{unix seconds at creation}_{random}`.
const TEST_DATABASE_PREFIX: &str = "nexaguard_test_";

/// A test database this old is a leftover (its test process died before
/// dropping it, e.g. killed by a timeout): the next harness drops it.
const LEFTOVER_AFTER_SECS: u64 = 3600;

/// PostgreSQL: a fresh database on the server `NEXAGUARD_TEST_DATABASE_URL`
/// names, dropped when the harness is.
pub struct PostgresHarness {
    /// The URL given, used for creating and dropping databases.
    pub server_url: String,
    /// The test's own database.
    pub database: String,
    /// The URL of that database.
    pub url: String,
}

impl PostgresHarness {
    /// Creates the database; `None`, after saying so, when the variable is
    /// not set (the house rule for tests that need outside services).
    pub async fn new() -> Option<PostgresHarness> {
        let server_url = match std::env::var(DATABASE_URL_VAR) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                eprintln!("skipped: {DATABASE_URL_VAR} is not set");
                return None;
            }
        };
        let mut admin = PgConnection::connect(&server_url).await.unwrap();
        drop_leftover_databases(&mut admin).await;
        let database = format!(
            "{TEST_DATABASE_PREFIX}{}_{}",
            unix_seconds(),
            Uuid::new_v4().simple()
        );
        admin
            .execute(format!("CREATE DATABASE {database}").as_str())
            .await
            .unwrap();
        admin.close().await.unwrap();
        let url = database_url(&server_url, &database);
        Some(PostgresHarness {
            server_url,
            database,
            url,
        })
    }

    /// A connection of its own to the test database.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }
}

/// Pools small enough that the tests running in parallel stay well within
/// the server's max_connections.
pub fn test_options() -> PostgresOptions {
    let mut options = PostgresOptions::default();
    options.max_connections = 4;
    options
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `server_url` with its database replaced by `database` (query
/// parameters such as `sslmode` kept).
fn database_url(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server_url, String::new()),
    };
    let authority = base.find("://").map_or(0, |at| at + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |at| authority + at);
    format!("{}/{database}{query}", &base[..path])
}

/// Drops the test databases that earlier runs left behind, once they are
/// old enough not to belong to a run still going. Best effort: another
/// run may be dropping the same ones.
async fn drop_leftover_databases(admin: &mut PgConnection) {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'nexaguard\\_test\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    let now = unix_seconds();
    for (name,) in names {
        let created = name
            .strip_prefix(TEST_DATABASE_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|seconds| seconds.parse::<u64>().ok());
        let ours = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if let (Some(created), true) = (created, ours) {
            if now.saturating_sub(created) > LEFTOVER_AFTER_SECS {
                let dropped = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                eprintln!("dropped leftover test database {name}: {dropped:?}");
            }
        }
    }
}

impl Drop for PostgresHarness {
    /// Drops the database from a thread with a runtime of its own: `Drop`
    /// cannot await, and blocking on the test's own runtime could
    /// deadlock. `WITH (FORCE)` ends connections a failed test left open.
    /// If this fails, the next run drops the database after an hour.
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let database = self.database.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&server_url).await.unwrap();
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)").as_str())
                    .await
                    .unwrap();
                admin.close().await.unwrap();
            });
        })
        .join();
        if dropped.is_err() {
            eprintln!("note: test database {} was not dropped", self.database);
        }
    }
}
