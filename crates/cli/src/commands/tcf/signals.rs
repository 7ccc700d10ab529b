//! `nexaguard tcf signals`: what a TC string tells consumers that do not
//! decode it, Google's Consent Mode values and the in-app `IABTCF_*` keys.

use crate::commands::one_input;
use nexaguard_tcf::signals::{consent_mode, iabtcf_keys};
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `tcf signals`.
#[derive(clap::Args)]
pub struct SignalsArgs {
    /// The TC string; without it, one line is read from standard input.
    tc_string: Option<String>,
    /// Whether GDPR applies to the user (when false, Consent Mode is all
    /// granted and IABTCF_gdprApplies is 0).
    #[arg(long, value_name = "true|false", default_value_t = true, action = clap::ArgAction::Set)]
    gdpr_applies: bool,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
}

/// Runs `tcf signals`: prints `{"consentMode": {...}, "iabtcf": {...}}`.
pub fn run(args: SignalsArgs) -> anyhow::Result<ExitCode> {
    let tc = one_input(args.tc_string, "TC string")?;
    let model = nexaguard_tcf::decode(&tc).map_err(|e| anyhow::anyhow!("{e} ({})", e.code()))?;
    let answer = serde_json::json!({
        "consentMode": consent_mode(&model, args.gdpr_applies),
        "iabtcf": iabtcf_keys(&model, &tc, args.gdpr_applies),
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.pretty {
        serde_json::to_writer_pretty(&mut out, &answer)?;
    } else {
        serde_json::to_writer(&mut out, &answer)?;
    }
    out.write_all(b"\n")?;
    Ok(ExitCode::SUCCESS)
}
