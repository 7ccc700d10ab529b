//! `nexaguard backup` and `nexaguard restore`: the SQLite database.
//! (PostgreSQL has its own tools: docs/deployment.md#postgresql.)

use super::store::{runtime, StoreArgs};
use anyhow::Context;
use nexaguard_store::sqlite::backup;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The backup file to write (must not exist).
    #[arg(long)]
    output: PathBuf,
}

/// Arguments of `restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The backup file to restore.
    #[arg(long)]
    input: PathBuf,
    /// Restore even though the database's write-ahead log exists (only
    /// after a crash: never while a server runs).
    #[arg(long)]
    force: bool,
}

/// Runs `nexaguard backup`: an online, consistent copy of the database,
/// taken while the server runs.
pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    args.store.require_sqlite("backup")?;
    let database = args.store.database_path();
    if !database.exists() {
        anyhow::bail!("no NexaGuard database at {}", database.display());
    }
    let size = runtime()?
        .block_on(backup::backup(&database, &args.output))
        .with_context(|| format!("backing up to {}", args.output.display()))?;
    println!(
        "backed up {} to {} ({size} bytes)",
        database.display(),
        args.output.display()
    );
    eprintln!(
        "note: keep {} with it (not in the same place): the backup's secrets open only with them",
        args.store.data_dir.join("secrets").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `nexaguard restore`: replaces the database with a checked backup.
pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    args.store.require_sqlite("restore")?;
    let database = args.store.database_path();
    std::fs::create_dir_all(&args.store.data_dir)
        .with_context(|| format!("creating {}", args.store.data_dir.display()))?;
    runtime()?
        .block_on(backup::restore(&args.input, &database, args.force))
        .with_context(|| format!("restoring {}", args.input.display()))?;
    println!(
        "restored {} from {}",
        database.display(),
        args.input.display()
    );
    Ok(ExitCode::SUCCESS)
}
