//! The audit log through the real SQLite store: chains with signed
//! checkpoints verify, and a row altered behind the store's back is found.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use nexaguard_admin::audit_log::verify_all;
use nexaguard_admin::principal::audit_entry;
use nexaguard_admin::{Admin, AdminParts};
use nexaguard_audit::{Action, Actor, BreakReason, ChainId, Outcome};
use nexaguard_consent::token::TokenKeys;
use nexaguard_keyring::LocalKeyFile;
use nexaguard_store::{AdminStore, SqliteAdminStore, SqliteStore, Store};
use serde_json::json;
use sqlx::Connection;
use std::sync::Arc;

async fn open_admin(dir: &std::path::Path) -> Admin {
    let db = dir.join("t.db");
    let consents: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let store: Arc<dyn AdminStore> = Arc::new(SqliteAdminStore::open(&db).await.unwrap());
    let kek = LocalKeyFile::open_or_create(&dir.join("kek.json")).unwrap();
    Admin::new(AdminParts {
        store,
        consents,
        kek: Arc::new(kek),
        csrf_key: [1; 32],
        gvl: Arc::new(
            serde_json::from_str(include_str!("../../server/assets/gvl-sample.json")).unwrap(),
        ),
        tokens: TokenKeys::new([2; 32], [3; 32]),
    })
    .await
    .unwrap()
}

async fn append(admin: &Admin, chain: ChainId, n: usize) {
    for i in 0..n {
        admin
            .store()
            .append_audit(audit_entry(
                chain,
                Actor::System,
                Action::DraftSaved,
                format!("site:{i}"),
                Outcome::Success,
                Some("192.0.2.0/24".to_owned()),
                json!({"n": i}),
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn chains_with_checkpoints_verify_and_an_altered_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let admin = open_admin(dir.path()).await;
    let tenant = ChainId::Tenant(uuid::Uuid::new_v4());
    append(&admin, tenant, 250).await;
    append(&admin, ChainId::Platform, 3).await;
    let keys = admin.keys().verifying_keys().await.unwrap();
    let statuses = verify_all(admin.store().as_ref(), &keys).await.unwrap();
    assert_eq!(statuses.len(), 2);
    let tenant_status = statuses.iter().find(|s| s.chain == tenant).unwrap();
    let report = tenant_status.result.as_ref().unwrap();
    assert_eq!(report.entries, 250);
    assert_eq!(report.checkpoints, 2, "a checkpoint every 100 entries");

    // The store refuses changes...
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut raw = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let refused = sqlx::query("UPDATE audit_log SET target = 'x' WHERE seq = 150")
        .execute(&mut raw)
        .await;
    assert!(
        refused.is_err(),
        "the append-only trigger let an UPDATE through"
    );
    // ...so an attacker with the file drops the trigger first.
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&mut raw)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET outcome = 'failure' WHERE chain = ? AND seq = 150")
        .bind(tenant.to_text())
        .execute(&mut raw)
        .await
        .unwrap();
    let statuses = verify_all(admin.store().as_ref(), &keys).await.unwrap();
    let broken = statuses
        .iter()
        .find(|s| s.chain == tenant)
        .unwrap()
        .result
        .clone()
        .unwrap_err();
    assert_eq!(broken.seq, 150);
    assert_eq!(broken.reason, BreakReason::HashMismatch);
    // The platform chain is untouched.
    assert!(statuses
        .iter()
        .find(|s| s.chain == ChainId::Platform)
        .unwrap()
        .result
        .is_ok());
}

#[tokio::test]
async fn rotation_rewraps_data_keys_and_sealed_values_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let admin = open_admin(dir.path()).await;
    let sealed = admin
        .keys()
        .seal(nexaguard_admin::Scope::Platform, "test|1", b"secret value")
        .await
        .unwrap();
    let before = std::fs::read_to_string(dir.path().join("kek.json")).unwrap();
    let report = admin
        .keys()
        .rotate(audit_entry(
            ChainId::Platform,
            Actor::System,
            Action::KeysRotated,
            "key-ring".to_owned(),
            Outcome::Success,
            None,
            json!({}),
        ))
        .await
        .unwrap();
    assert!(report.data_keys >= 1);
    assert_eq!(report.retired.len(), 1);
    let after = std::fs::read_to_string(dir.path().join("kek.json")).unwrap();
    assert_ne!(before, after);
    assert!(
        !after.contains(&report.retired[0]),
        "the old KEK is still in the file"
    );
    // A fresh process (new key ring from the store and the rotated file)
    // opens what was sealed before the rotation.
    let reopened = open_admin(dir.path()).await;
    assert_eq!(
        reopened.keys().open(&sealed, "test|1").await.unwrap(),
        b"secret value"
    );
    assert!(reopened.keys().open(&sealed, "test|2").await.is_err());
}
