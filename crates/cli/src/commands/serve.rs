//! `nexaguard serve` and `nexaguard migrate`.

use super::store::{runtime, StoreArgs};
use nexaguard_server::settings::{LogFormat, ServeArgs, Settings};
use std::process::ExitCode;

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NEXAGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs `nexaguard serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(args)?;
    init_logging(settings.log_format);
    runtime()?.block_on(nexaguard_server::run::run(settings))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `nexaguard migrate`.
pub fn migrate(args: StoreArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let stores = args.open().await?;
        stores.consents.close().await;
        println!("migrations applied to {}", args.describe());
        Ok(ExitCode::SUCCESS)
    })
}
