//! `nexaguard tenant create`, through the administration service as the
//! system, with its audit entry, like the admin API's.

use super::store::{runtime, Opened, StoreArgs};
use nexaguard_admin::principal::Principal;
use nexaguard_admin::tenants::check_name;
use std::process::ExitCode;

/// Arguments of `tenant create`.
#[derive(clap::Args, Debug)]
pub struct TenantCreateArgs {
    /// Display name.
    name: String,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `nexaguard tenant create`: prints the tenant as JSON.
pub fn tenant_create(args: TenantCreateArgs) -> anyhow::Result<ExitCode> {
    // Input is checked before anything is opened or created.
    check_name(&args.name, 200)?;
    runtime()?.block_on(async {
        let opened = Opened::open(&args.store, None).await?;
        let created = opened
            .admin
            .create_tenant(&Principal::system(None), &args.name, None)
            .await;
        opened.close().await;
        let (tenant, _) = created?;
        println!(
            "{}",
            serde_json::json!({ "id": tenant.id.0, "name": tenant.name })
        );
        Ok(ExitCode::SUCCESS)
    })
}
