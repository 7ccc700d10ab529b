//! `nexaguard`: the NexaGuard command line. Today it is the TCF debug tool;
//! the server and administration commands join it as they are built.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    /// Google Additional Consent (AC) strings.
    #[command(subcommand)]
    Ac(AcCommand),
    /// Global Vendor List files.
    #[command(subcommand)]
    Gvl(GvlCommand),
}

#[derive(Subcommand)]
enum TcfCommand {
    /// Decode a TC string to JSON (one per line from standard input when no argument).
    Decode(commands::tcf::DecodeArgs),
    /// Encode TC model JSON (one object per line on standard input) to TC strings.
    Encode(commands::tcf::EncodeArgs),
    /// Check a TC string against a Global Vendor List and the TCF policies.
    Validate(commands::validate::ValidateArgs),
    /// Google Consent Mode values and IABTCF_* keys implied by a TC string.
    Signals(commands::signals::SignalsArgs),
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
        Command::Tcf(TcfCommand::Validate(args)) => commands::validate::run(args),
        Command::Tcf(TcfCommand::Signals(args)) => commands::signals::run(args),
        Command::Ac(AcCommand::Decode(args)) => commands::ac::decode(args),
        Command::Ac(AcCommand::Encode(args)) => commands::ac::encode(args),
        Command::Gvl(GvlCommand::Inspect(args)) => commands::gvl::inspect(args),
        Command::Gvl(GvlCommand::Trim(args)) => commands::gvl::trim(args),
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
