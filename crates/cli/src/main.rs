//! `nexaguard`: the NexaGuard command line: the consent server, store
//! administration (tenants, sites, admin users, the audit log, keys), and
//! the TCF debug tool.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc instead of the system allocator: the consent server allocates
/// and frees small buffers on every request from several threads, and
/// glibc's malloc spent about 14% of a durable consent's CPU on it
/// (arena locks, free-list consolidation); see docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "nexaguard",
    version,
    about = "NexaGuard consent management platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// TC strings: decode, encode, validate against a GVL, derive signals.
    #[command(subcommand)]
    Tcf(TcfCommand),
    /// IAB GPP strings: decode, encode, validate.
    #[command(subcommand)]
    Gpp(GppCommand),
    /// Google Additional Consent (AC) strings.
    #[command(subcommand)]
    Ac(AcCommand),
    /// Global Vendor List files.
    #[command(subcommand)]
    Gvl(GvlCommand),
    // Boxed: the server's settings outweigh every other command's arguments.
    /// Run the consent server (HTTPS) on the embedded store.
    Serve(Box<nexaguard_server::settings::ServeArgs>),
    /// Apply the store's migrations and exit.
    Migrate(commands::store::StoreArgs),
    /// Tenants (customers) of the platform.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Sites of a tenant and their configurations.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Admin users (bootstrap of the first operator or a tenant's owner).
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The key ring.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy the SQLite database while the server runs.
    Backup(commands::backup::BackupArgs),
    /// Replace the SQLite database with a backup (server stopped).
    Restore(commands::backup::RestoreArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an admin user as the system; the password comes from
    /// NEXAGUARD_PASSWORD or one line of standard input. Prints the user as JSON.
    Create(commands::user::UserCreateArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every audit chain (hashes, links, signed checkpoints); exit 1 on a break.
    Verify(commands::audit::AuditVerifyArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new key-encryption key in the key file and re-wrap every data key with it.
    Rotate(commands::keys::KeysRotateArgs),
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant; prints its id.
    Create(commands::tenant::TenantCreateArgs),
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Create a site with production and staging keys.
    Create(commands::site::SiteCreateArgs),
    /// Site configurations.
    #[command(subcommand)]
    Config(SiteConfigCommand),
}

#[derive(Subcommand)]
enum SiteConfigCommand {
    /// Check a configuration file without publishing it.
    Validate(commands::site::ConfigValidateArgs),
    /// Publish a configuration file as the next version of an environment.
    Publish(commands::site::ConfigPublishArgs),
}

#[derive(Subcommand)]
enum TcfCommand {
    /// Decode a TC string to JSON (one per line from standard input when no argument).
    Decode(commands::tcf::DecodeArgs),
    /// Encode TC model JSON (one object per line on standard input) to TC strings.
    Encode(commands::tcf::EncodeArgs),
    /// Check a TC string against a Global Vendor List and the TCF policies.
    Validate(commands::tcf::validate::ValidateArgs),
    /// Google Consent Mode values and IABTCF_* keys implied by a TC string.
    Signals(commands::tcf::signals::SignalsArgs),
}

#[derive(Subcommand)]
enum GppCommand {
    /// Decode a GPP string to JSON (one per line from standard input when no argument).
    Decode(commands::gpp::DecodeArgs),
    /// Encode GPP JSON (one object per line on standard input) to GPP strings.
    Encode(commands::gpp::EncodeArgs),
    /// Check GPP strings against the section specifications (one per line from standard input when no argument).
    Validate(commands::gpp::ValidateArgs),
}

#[derive(Subcommand)]
enum AcCommand {
    /// Decode an AC string to JSON.
    Decode(commands::ac::DecodeArgs),
    /// Encode AC JSON to an AC string.
    Encode(commands::ac::EncodeArgs),
}

#[derive(Subcommand)]
enum GvlCommand {
    /// Summarise a vendor-list.json.
    Inspect(commands::gvl::InspectArgs),
    /// Trim a vendor-list.json to a site's vendors (the compact list browsers get).
    Trim(commands::gvl::TrimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tcf(TcfCommand::Decode(args)) => commands::tcf::decode(args),
        Command::Tcf(TcfCommand::Encode(args)) => commands::tcf::encode(args),
        Command::Tcf(TcfCommand::Validate(args)) => commands::tcf::validate::run(args),
        Command::Tcf(TcfCommand::Signals(args)) => commands::tcf::signals::run(args),
        Command::Gpp(GppCommand::Decode(args)) => commands::gpp::decode(args),
        Command::Gpp(GppCommand::Encode(args)) => commands::gpp::encode(args),
        Command::Gpp(GppCommand::Validate(args)) => commands::gpp::validate(args),
        Command::Ac(AcCommand::Decode(args)) => commands::ac::decode(args),
        Command::Ac(AcCommand::Encode(args)) => commands::ac::encode(args),
        Command::Gvl(GvlCommand::Inspect(args)) => commands::gvl::inspect(args),
        Command::Gvl(GvlCommand::Trim(args)) => commands::gvl::trim(args),
        Command::Serve(args) => commands::serve::serve(*args),
        Command::Migrate(args) => commands::serve::migrate(args),
        Command::Tenant(TenantCommand::Create(args)) => commands::tenant::tenant_create(args),
        Command::Site(SiteCommand::Create(args)) => commands::site::site_create(args),
        Command::Site(SiteCommand::Config(SiteConfigCommand::Validate(args))) => {
            commands::site::config_validate(args)
        }
        Command::Site(SiteCommand::Config(SiteConfigCommand::Publish(args))) => {
            commands::site::config_publish(args)
        }
        Command::User(UserCommand::Create(args)) => commands::user::user_create(args),
        Command::Audit(AuditCommand::Verify(args)) => commands::audit::audit_verify(args),
        Command::Keys(KeysCommand::Rotate(args)) => commands::keys::keys_rotate(args),
        Command::Backup(args) => commands::backup::backup(args),
        Command::Restore(args) => commands::backup::restore(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line, the whole cause chain: scripts read stderr line by line.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
