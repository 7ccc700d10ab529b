//! What the process tests share: a database of a test's own on the
//! PostgreSQL server `NEXAGUARD_TEST_DATABASE_URL` names, valid consent
//! events for the demo site, and (in [`node`]) a running `nexaguard serve`.

#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::{json, Value};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};
use std::time::{SystemTime, UNIX_EPOCH};

pub mod node;

/// The variable naming the PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "NEXAGUARD_TEST_DATABASE_URL";

/// Test databases are named as the store's PostgreSQL tests name theirs,
/// so that a leftover one is cleaned up by them.
const TEST_DATABASE_PREFIX: &str = "nexaguard_test_";

/// The server URL the variable names; `None`, after printing the skip
/// notice, without it.
pub fn server_url() -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: {DATABASE_URL_VAR} is not set");
            None
        }
    }
}

/// A database of the test's own on the server the variable names, dropped
/// when this is (also when the test panics).
pub struct TestDatabase {
    server_url: String,
    name: String,
    /// Its URL.
    pub url: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates it; `None`, after saying so, when the variable is not set.
    pub async fn create() -> Option<TestDatabase> {
        let server_url = server_url()?;
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let name = format!(
            "{TEST_DATABASE_PREFIX}{unix}_{}",
            uuid::Uuid::new_v4().simple()
        );
        let mut conn = PgConnection::connect(&server_url).await.unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        conn.close().await.unwrap();
        let url = database_url(&server_url, &name);
        Some(TestDatabase {
            server_url,
            name,
            url,
            dropped: false,
        })
    }

    /// Drops the database, on a thread with a runtime of its own (so that
    /// it works from `Drop` inside or outside the test's runtime).
    pub fn drop_database(&mut self) -> Result<(), String> {
        if self.dropped {
            return Ok(());
        }
        self.dropped = true;
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let mut conn = PgConnection::connect(&server_url)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join()
        .map_err(|_| "the thread dropping the database panicked".to_owned())?
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(error) = self.drop_database() {
            eprintln!("dropping test database {} failed: {error}", self.name);
        }
    }
}

/// `server_url` with its database replaced by `database` (query
/// parameters such as `sslmode` kept).
pub fn database_url(server_url: &str, database: &str) -> String {
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

// ---- consent events for the demo site ------------------------------------

/// A TC string the demo site (CMP 300, sample GVL v42) accepts.
pub fn tc_string() -> String {
    use nexaguard_tcf::{PurposeSet, TcModel, Timestamp, VendorSet};
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut m = TcModel::default();
    m.created = Timestamp::from_unix_millis(now).unwrap();
    m.last_updated = m.created;
    m.cmp_id = 300;
    m.cmp_version = 1;
    m.vendor_list_version = 42;
    m.policy_version = 5;
    m.purpose_consents = PurposeSet::try_from(&[1u32, 2, 3, 4, 7][..]).unwrap();
    m.vendor_consents = VendorSet::try_from(&[1u32, 2][..]).unwrap();
    m.vendors_disclosed = Some(VendorSet::try_from(&[1u32, 2, 3, 5, 6][..]).unwrap());
    nexaguard_tcf::encode(&m).unwrap()
}

/// A valid event for the demo site's production configuration `version`,
/// with a fresh eventId.
pub fn event(site_key: &str, version: u64) -> Value {
    json!({
        "tcString": tc_string(),
        "purposes": [1, 2, 3, 4, 7],
        "vendors": [1, 2],
        "eventId": uuid::Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": site_key,
        "environment": "production",
        "configVersion": version,
        "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "action": "accept_all",
        "source": "banner",
        "consentMode": {
            "ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "granted",
            "analytics_storage": "granted", "functionality_storage": "granted",
            "personalization_storage": "denied", "security_storage": "granted"
        },
        "customPurposes": ["necessary"],
        "language": "en",
        "sdkVersion": "test"
    })
}
