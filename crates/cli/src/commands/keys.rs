//! `nexaguard keys rotate`: a new key-encryption key, every data key
//! re-wrapped with it.

use super::store::{require_database, runtime, Opened, StoreArgs};
use nexaguard_admin::principal::audit_entry;
use nexaguard_audit::{Action, Actor, ChainId, Outcome};
use nexaguard_keyring::EnvKey;
use std::process::ExitCode;

/// Arguments of `keys rotate`.
#[derive(clap::Args, Debug)]
pub struct KeysRotateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `nexaguard keys rotate`: a new key-encryption key in the key file,
/// every data key re-wrapped with it, the old keys retired. With the key in
/// the environment, the new key is `NEXAGUARD_KEK` and the old one
/// `NEXAGUARD_KEK_PREVIOUS`, and the command re-wraps.
pub fn keys_rotate(args: KeysRotateArgs) -> anyhow::Result<ExitCode> {
    if std::env::var_os(EnvKey::VARIABLE).is_some()
        && std::env::var_os(EnvKey::PREVIOUS_VARIABLE).is_none()
    {
        anyhow::bail!(
            "the key-encryption key comes from {0}: set {0} to the new key and {1} to the old one, \
             then run this command to re-wrap the data keys",
            EnvKey::VARIABLE,
            EnvKey::PREVIOUS_VARIABLE
        );
    }
    require_database(&args.store)?;
    runtime()?.block_on(async {
        let opened = Opened::open(&args.store, None).await?;
        let audit = audit_entry(
            ChainId::Platform,
            Actor::System,
            Action::KeysRotated,
            "key-ring".to_owned(),
            Outcome::Success,
            None,
            serde_json::json!({}),
        );
        let rotated = opened.admin.keys().rotate(audit).await;
        opened.close().await;
        let rotated = rotated?;
        println!("new key-encryption key: {}", rotated.current_kek);
        println!("data keys re-wrapped: {}", rotated.data_keys);
        if !rotated.retired.is_empty() {
            println!("retired: {}", rotated.retired.join(", "));
        }
        if std::env::var_os(EnvKey::VARIABLE).is_some() {
            eprintln!(
                "note: every data key is wrapped with the new key; remove {} now",
                EnvKey::PREVIOUS_VARIABLE
            );
        } else {
            eprintln!(
                "note: back up {} now; database backups made before this rotation open only \
                 with the key file backed up with them",
                nexaguard_server::secrets::kek_path(&args.store.data_dir).display()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
