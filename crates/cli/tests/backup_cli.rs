//! `nexaguard backup` and `nexaguard restore` with the real binary: a
//! backup taken while the database is open restores to exactly what it
//! held, and restore refuses what would damage the database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use nexaguard_store::{SqliteStore, Store};
use std::path::Path;
use std::process::{Command, Output};

fn nexaguard(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexaguard"));
    command.env_remove("NEXAGUARD_DATA_DIR").args(args);
    command.output().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn refused(out: &Output, expected: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.contains(expected), "{expected:?} not in {err:?}");
}

async fn tenant_names(data: &Path) -> Vec<String> {
    let store = SqliteStore::open(&data.join("nexaguard.db")).await.unwrap();
    let names = store
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    store.close().await;
    names
}

#[tokio::test]
async fn a_backup_taken_while_open_restores_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let backup = dir.path().join("backup.db");
    let backup_arg = backup.to_str().unwrap();
    ok(&nexaguard(&[
        "tenant",
        "create",
        "Before",
        "--data-dir",
        data_arg,
    ]));

    // The backup runs while another connection holds the database open,
    // as a running server would.
    let open = SqliteStore::open(&data.join("nexaguard.db")).await.unwrap();
    let out = tokio::task::spawn_blocking({
        let (data_arg, backup_arg) = (data_arg.to_owned(), backup_arg.to_owned());
        move || nexaguard(&["backup", "--data-dir", &data_arg, "--output", &backup_arg])
    })
    .await
    .unwrap();
    ok(&out);
    // Restoring under an open database is refused.
    let out = tokio::task::spawn_blocking({
        let (data_arg, backup_arg) = (data_arg.to_owned(), backup_arg.to_owned());
        move || nexaguard(&["restore", "--data-dir", &data_arg, "--input", &backup_arg])
    })
    .await
    .unwrap();
    refused(&out, "stop it first");
    // A change made while it is still open, the operator's way.
    let out = tokio::task::spawn_blocking({
        let data_arg = data_arg.to_owned();
        move || nexaguard(&["tenant", "create", "After", "--data-dir", &data_arg])
    })
    .await
    .unwrap();
    ok(&out);
    open.close().await;
    assert_eq!(tenant_names(&data).await, ["Before", "After"]);

    // A backup never overwrites.
    refused(
        &nexaguard(&["backup", "--data-dir", data_arg, "--output", backup_arg]),
        "never overwrites",
    );

    ok(&nexaguard(&[
        "restore",
        "--data-dir",
        data_arg,
        "--input",
        backup_arg,
    ]));
    assert_eq!(tenant_names(&data).await, ["Before"]);
}

#[test]
fn restore_refuses_a_file_that_is_not_a_nexaguard_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    ok(&nexaguard(&[
        "tenant",
        "create",
        "Keep",
        "--data-dir",
        data_arg,
    ]));
    let before = std::fs::read(data.join("nexaguard.db")).unwrap();

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database at all, just text").unwrap();
    refused(
        &nexaguard(&[
            "restore",
            "--data-dir",
            data_arg,
            "--input",
            junk.to_str().unwrap(),
        ]),
        "junk.db",
    );
    let missing = dir.path().join("missing.db");
    refused(
        &nexaguard(&[
            "restore",
            "--data-dir",
            data_arg,
            "--input",
            missing.to_str().unwrap(),
        ]),
        "missing.db",
    );
    // An empty SQLite file is a database, but not ours.
    let other = dir.path().join("other.db");
    std::fs::File::create(&other).unwrap();
    refused(
        &nexaguard(&[
            "restore",
            "--data-dir",
            data_arg,
            "--input",
            other.to_str().unwrap(),
        ]),
        "not a NexaGuard database",
    );
    assert_eq!(std::fs::read(data.join("nexaguard.db")).unwrap(), before);
    refused(
        &nexaguard(&[
            "backup",
            "--data-dir",
            dir.path().join("nowhere").to_str().unwrap(),
            "--output",
            dir.path().join("x.db").to_str().unwrap(),
        ]),
        "no NexaGuard database",
    );
}
