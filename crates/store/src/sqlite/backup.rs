//! Online backup and offline restore of the SQLite file.
//!
//! A backup is `VACUUM INTO`: a consistent, compacted copy taken inside one
//! read transaction, so the server keeps serving (and committing) while it
//! runs. A restore replaces the database file and must run with no process
//! holding it open.

use crate::StoreError;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};

/// Copies the live database at `database` to a new file `to` (which must
/// not exist) and checks the copy. Returns the copy's size in bytes.
pub async fn backup(database: &Path, to: &Path) -> Result<u64, StoreError> {
    if to.exists() {
        return Err(StoreError::Conflict(format!(
            "{} exists; a backup never overwrites a file",
            to.display()
        )));
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(5))
        .connect()
        .await?;
    let target = to.to_string_lossy().into_owned();
    let done = sqlx::query("VACUUM INTO ?")
        .bind(&target)
        .execute(&mut conn)
        .await;
    conn.close().await?;
    done?;
    check(to).await?;
    let size = std::fs::metadata(to)
        .map_err(|e| StoreError::Corrupt(format!("reading {}: {e}", to.display())))?
        .len();
    Ok(size)
}

/// Checks that `file` is a whole NexaGuard database: SQLite's integrity
/// check passes and it has the tables and migration history we write.
pub async fn check(file: &Path) -> Result<(), StoreError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| {
            StoreError::Corrupt(format!("{} is not a SQLite database: {e}", file.display()))
        })?;
    let verdict: Result<(String,), sqlx::Error> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await;
    let tables: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
         AND name IN ('_sqlx_migrations', 'tenants', 'sites', 'consents')",
    )
    .fetch_one(&mut conn)
    .await;
    conn.close().await?;
    match (verdict, tables) {
        (Ok((ok,)), Ok((4,))) if ok == "ok" => Ok(()),
        (Ok((ok,)), _) if ok != "ok" => Err(StoreError::Corrupt(format!(
            "{} fails SQLite's integrity check: {ok}",
            file.display()
        ))),
        _ => Err(StoreError::Corrupt(format!(
            "{} is not a NexaGuard database",
            file.display()
        ))),
    }
}

fn sidecar(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Replaces the database at `database` with the backup `from`, after
/// checking it. Refuses while the database looks open (its write-ahead log
/// exists: SQLite removes it when the last connection closes cleanly)
/// unless `force` (after a crash, the log of a dead process remains).
pub async fn restore(from: &Path, database: &Path, force: bool) -> Result<(), StoreError> {
    check(from).await?;
    let wal = sidecar(database, "-wal");
    if wal.exists() && !force {
        return Err(StoreError::Conflict(format!(
            "{} exists: a server or another process has the database open; stop it first \
             (or, after a crash, pass --force)",
            wal.display()
        )));
    }
    let io = |what: &str, e: std::io::Error| StoreError::Corrupt(format!("{what}: {e}"));
    let staged = sidecar(database, ".restoring");
    std::fs::copy(from, &staged).map_err(|e| io("copying the backup", e))?;
    std::fs::File::open(&staged)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing the copy", e))?;
    // The old log belongs to the old file: replaying it onto the restored
    // one would corrupt it.
    for suffix in ["-wal", "-shm"] {
        match std::fs::remove_file(sidecar(database, suffix)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("removing the old log", e)),
        }
    }
    std::fs::rename(&staged, database).map_err(|e| io("replacing the database", e))?;
    if let Some(dir) = database.parent() {
        if let Ok(dir) = std::fs::File::open(dir) {
            // Makes the rename itself durable.
            let _ = dir.sync_all();
        }
    }
    Ok(())
}
