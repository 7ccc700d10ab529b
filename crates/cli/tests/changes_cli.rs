//! `nexaguard tenant create`, `site create` and `site config publish` as
//! an operator runs them, on SQLite (`--data-dir`) and on PostgreSQL
//! (`--database-url`): each change is made through the administration
//! service, so it has its audit entry, by the system, in a chain that
//! verifies; and the commands refuse what the admin API refuses.
//!
//! The PostgreSQL half needs `NEXAGUARD_TEST_DATABASE_URL` (a database of
//! the test's own is created on that server); without it, it prints
//! `skipped: NEXAGUARD_TEST_DATABASE_URL is not set` and passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::TestDatabase;
use nexaguard_audit::{Action, Actor, AuditEntry, ChainId};
use nexaguard_consent::Environment;
use nexaguard_server::database::{Database, Stores};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};
use uuid::Uuid;

/// An installation: its data directory, and its PostgreSQL database if it
/// has one.
struct Installation {
    dir: tempfile::TempDir,
    url: Option<String>,
}

impl Installation {
    fn new(url: Option<String>) -> Installation {
        Installation {
            dir: tempfile::tempdir().unwrap(),
            url,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `nexaguard ARGS` on this installation.
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nexaguard"));
        // The tests' own environment must not leak into the commands.
        for variable in [
            "NEXAGUARD_DATA_DIR",
            "NEXAGUARD_DATABASE_URL",
            "NEXAGUARD_KEK",
            "NEXAGUARD_KEK_PREVIOUS",
            "NEXAGUARD_LOG",
        ] {
            command.env_remove(variable);
        }
        command.args(args).arg("--data-dir").arg(self.data());
        if let Some(url) = &self.url {
            command.args(["--database-url", url]);
        }
        command.output().unwrap()
    }

    /// Runs `nexaguard ARGS`, which must succeed, and parses its output.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nexaguard {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs `nexaguard ARGS`, which must fail with one line on stderr
    /// containing `expected`.
    fn refused(&self, args: &[&str], expected: &str) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "nexaguard {args:?} succeeded");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }

    /// Both sides of the store, as the server opens them.
    async fn stores(&self) -> Stores {
        match &self.url {
            Some(url) => Database::Postgres(url.clone()),
            None => Database::Sqlite(self.data().join("nexaguard.db")),
        }
        .open()
        .await
        .unwrap()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

const CONFIG: &str = include_str!("../../server/tests/fixtures/opt-in-site.json");

async fn entries(stores: &Stores, chain: ChainId) -> Vec<AuditEntry> {
    stores.admin.audit_entries(chain, 0, 1_000).await.unwrap()
}

fn actions(entries: &[AuditEntry]) -> Vec<Action> {
    entries.iter().map(|e| e.event.action).collect()
}

async fn every_change_is_audited(installation: &Installation) {
    let tenant = installation.json(&["tenant", "create", "Acme"]);
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    assert_eq!(tenant["name"], "Acme");
    let site = installation.json(&[
        "site",
        "create",
        "--tenant",
        &tenant_id,
        "--name",
        "Shop",
        "--origin",
        "https://shop.example",
        "--origin",
        "http://localhost:8080",
    ]);
    let site_id = site["id"].as_str().unwrap().to_owned();
    assert!(site["siteKeys"]["production"]
        .as_str()
        .unwrap()
        .starts_with("ngp_"));
    let config = installation.file("site.json", CONFIG);
    let publish = |environment: &str| {
        installation.json(&[
            "site",
            "config",
            "publish",
            "--site",
            &site_id,
            "--environment",
            environment,
            &config,
        ])["version"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(publish("staging"), 1);
    assert_eq!(publish("production"), 1);
    // Publishing what production already serves changes nothing, and says so
    // without failing.
    assert_eq!(publish("production"), 1);

    // The chains verify, with the binary's own check.
    let out = installation.run(&["audit", "verify"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("platform: 1 entry, 0 checkpoints, ok"),
        "{report}"
    );
    assert!(
        report.contains(&format!("tenant {tenant_id}: 8 entries, 0 checkpoints, ok")),
        "{report}"
    );

    let stores = installation.stores().await;
    let platform = entries(&stores, ChainId::Platform).await;
    assert_eq!(actions(&platform), vec![Action::TenantCreated]);
    assert_eq!(platform[0].event.target, format!("tenant:{tenant_id}"));
    let tenant_chain = entries(&stores, ChainId::Tenant(tenant_id.parse().unwrap())).await;
    assert_eq!(
        actions(&tenant_chain),
        vec![
            Action::SiteCreated,
            // staging
            Action::DraftSaved,
            Action::Published,
            // production: through staging, then promoted
            Action::DraftSaved,
            Action::Published,
            Action::Promoted,
            // the same again: staged, and nothing to promote
            Action::DraftSaved,
            Action::Published,
        ]
    );
    assert!(platform
        .iter()
        .chain(&tenant_chain)
        .all(|e| e.event.actor == Actor::System));
    let site = stores
        .consents
        .sites()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id.0.to_string() == site_id)
        .unwrap();
    let latest = stores.consents.latest_configs().await.unwrap();
    let version = |environment: Environment| {
        latest
            .iter()
            .find(|c| c.site_id == site.id && c.environment == environment)
            .map(|c| c.version)
    };
    assert_eq!(version(Environment::Staging), Some(3));
    assert_eq!(version(Environment::Production), Some(1));
    stores.consents.close().await;
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

async fn what_the_api_refuses_the_cli_refuses(installation: &Installation) {
    let tenant = installation.json(&["tenant", "create", "Acme"]);
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    let create = |origins: &[String]| {
        let mut args = vec!["site", "create", "--tenant", &tenant_id, "--name", "Shop"];
        for origin in origins {
            args.extend(["--origin", origin.as_str()]);
        }
        args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>()
    };
    // Plain http only for the developer's own machine.
    let args = create(&["http://shop.example".to_owned()]);
    installation.refused(&as_strs(&args), "http://shop.example");
    // At most 50 origins.
    let many: Vec<String> = (0..51).map(|i| format!("https://s{i}.example")).collect();
    installation.refused(&as_strs(&create(&many)), "at most 50 origins");

    let site = installation.json(&as_strs(&create(&["https://shop.example".to_owned()])));
    let site_id = site["id"].as_str().unwrap().to_owned();
    let bad = installation.file(
        "bad.json",
        r#"{"regulation": "tcf", "publisherCountry": "de", "defaultLanguage": "en", "languages": {}}"#,
    );
    for environment in ["staging", "production"] {
        installation.refused(
            &[
                "site",
                "config",
                "publish",
                "--site",
                &site_id,
                "--environment",
                environment,
                &bad,
            ],
            "publisherCountry",
        );
    }
    installation.refused(
        &[
            "site",
            "config",
            "publish",
            "--site",
            &Uuid::nil().to_string(),
            "--environment",
            "staging",
            &installation.file("site.json", CONFIG),
        ],
        "no site has id",
    );

    // Nothing was created, published or drafted, and nothing audited but
    // the tenant and the one site.
    let stores = installation.stores().await;
    let sites = stores.consents.sites().await.unwrap();
    assert_eq!(sites.len(), 1, "{sites:?}");
    assert!(stores.consents.latest_configs().await.unwrap().is_empty());
    assert_eq!(stores.admin.draft(sites[0].id).await.unwrap(), None);
    let tenant_chain = entries(&stores, ChainId::Tenant(tenant_id.parse().unwrap())).await;
    assert_eq!(actions(&tenant_chain), vec![Action::SiteCreated]);
    stores.consents.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cli_change_is_audited_by_the_system_on_sqlite() {
    every_change_is_audited(&Installation::new(None)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cli_change_is_audited_by_the_system_on_postgresql() {
    let Some(mut database) = TestDatabase::create().await else {
        return;
    };
    every_change_is_audited(&Installation::new(Some(database.url.clone()))).await;
    database.drop_database().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_what_the_admin_api_refuses_on_sqlite() {
    what_the_api_refuses_the_cli_refuses(&Installation::new(None)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_what_the_admin_api_refuses_on_postgresql() {
    let Some(mut database) = TestDatabase::create().await else {
        return;
    };
    what_the_api_refuses_the_cli_refuses(&Installation::new(Some(database.url.clone()))).await;
    database.drop_database().unwrap();
}
