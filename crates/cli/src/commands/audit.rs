//! `nexaguard audit verify`: every audit chain of an installation checked
//! link by link and against its signed checkpoints.

use super::store::{require_database, runtime, StoreArgs};
use nexaguard_admin::audit_log::{verify_all, ChainStatus};
use nexaguard_audit::ChainId;
use std::collections::HashMap;
use std::process::ExitCode;

/// Arguments of `audit verify`.
#[derive(clap::Args, Debug)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn chain_name(chain: ChainId) -> String {
    match chain {
        ChainId::Platform => "platform".to_owned(),
        ChainId::Tenant(id) => format!("tenant {id}"),
    }
}

/// Runs `nexaguard audit verify`: one line per chain; exit 1 when any chain
/// breaks.
///
/// Needs only the database: the checkpoint keys' public halves are stored
/// in it, so an auditor can verify a copy without the key-encryption key.
pub fn audit_verify(args: AuditVerifyArgs) -> anyhow::Result<ExitCode> {
    require_database(&args.store)?;
    runtime()?.block_on(async {
        // Opening the store applies pending migrations first.
        let stores = args.store.open().await?;
        let verified = async {
            let keys: HashMap<String, [u8; 32]> = stores
                .admin
                .signing_keys()
                .await?
                .into_iter()
                .map(|key| (key.id, key.public_key))
                .collect();
            anyhow::Ok(verify_all(stores.admin.as_ref(), &keys).await?)
        }
        .await;
        stores.consents.close().await;
        let mut statuses = verified?;
        statuses.sort_by_key(|s| s.chain != ChainId::Platform);
        Ok(report(&statuses))
    })
}

fn report(statuses: &[ChainStatus]) -> ExitCode {
    if statuses.is_empty() {
        println!("no audit entries");
        return ExitCode::SUCCESS;
    }
    let mut breaks = Vec::new();
    for status in statuses {
        match &status.result {
            Ok(verified) => println!(
                "{}: {}, {}, ok",
                chain_name(status.chain),
                plural(verified.entries, "entry", "entries"),
                plural(verified.checkpoints, "checkpoint", "checkpoints"),
            ),
            Err(broken) => {
                println!("{broken}");
                breaks.push(broken);
            }
        }
    }
    match breaks.as_slice() {
        [] => ExitCode::SUCCESS,
        [first, rest @ ..] => {
            let more = match rest.len() {
                0 => String::new(),
                1 => " (and 1 more broken chain)".to_owned(),
                n => format!(" (and {n} more broken chains)"),
            };
            eprintln!("error: {first}{more}");
            ExitCode::FAILURE
        }
    }
}
