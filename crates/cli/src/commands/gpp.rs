//! `nexaguard gpp decode`, `nexaguard gpp encode` and `nexaguard gpp validate`.
//!
//! As `nexaguard tcf`: each works on one value given as an argument, or on
//! standard input one value per line (GPP strings, or JSON objects for
//! `encode`), answering one line per input line. In the streaming form a
//! bad line answers `{"error": {"code": ..., "message": ...}}` on its own
//! line and the run goes on; the exit code is 1 at the end if any line
//! failed. `validate` answers `{"valid": ..., "findings": [...]}` and counts
//! a string with an error-severity finding as failed.

use super::{stream_lines, LineResult};
use nexaguard_gpp::json;
use std::io::Write;
use std::process::ExitCode;
use time::OffsetDateTime;

/// Arguments of `gpp decode`.
#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The GPP string; without it, GPP strings are read from standard input, one per line.
    gpp_string: Option<String>,
    /// Pretty-print the JSON (argument form only).
    #[arg(long)]
    pretty: bool,
}

/// Arguments of `gpp encode`.
#[derive(clap::Args)]
pub struct EncodeArgs {
    /// The GPP JSON (`{"sections": {"usnat": {...}}}`); without it, one JSON object per line is read from standard input.
    json: Option<String>,
}

/// Arguments of `gpp validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The GPP string; without it, GPP strings are read from standard input, one per line.
    gpp_string: Option<String>,
    /// The Global Privacy Control signal to check the GPC sub-sections against.
    #[arg(long, value_name = "true|false")]
    gpc: Option<bool>,
}

/// Runs `handle` on the argument (errors become the command's error) or
/// on each line of standard input.
fn one_or_stream(
    arg: Option<String>,
    mut handle: impl FnMut(&str, &mut Vec<u8>) -> LineResult,
) -> anyhow::Result<ExitCode> {
    match arg {
        Some(value) => {
            let mut answer = Vec::new();
            handle(value.trim(), &mut answer)
                .map_err(|(code, message)| anyhow::anyhow!("{message} ({code})"))?;
            answer.push(b'\n');
            std::io::stdout().lock().write_all(&answer)?;
            Ok(ExitCode::SUCCESS)
        }
        None => stream_lines(handle),
    }
}

/// Runs `gpp decode`.
pub fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    let pretty = args.pretty && args.gpp_string.is_some();
    one_or_stream(args.gpp_string, |line, out| {
        json::decode_to_json(line, out).map_err(|e| (e.code(), e.to_string()))?;
        if pretty {
            let value: serde_json::Value =
                serde_json::from_slice(out).map_err(|e| ("internal", e.to_string()))?;
            *out = serde_json::to_vec_pretty(&value).map_err(|e| ("internal", e.to_string()))?;
        }
        Ok(())
    })
}

/// Runs `gpp encode`.
pub fn encode(args: EncodeArgs) -> anyhow::Result<ExitCode> {
    let now = OffsetDateTime::now_utc();
    one_or_stream(args.json, |line, out| {
        let model = json::from_json(line, now).map_err(|e| (e.code(), e.to_string()))?;
        let gpp = nexaguard_gpp::encode(&model).map_err(|e| (e.code(), e.to_string()))?;
        out.extend_from_slice(gpp.as_bytes());
        Ok(())
    })
}

/// Runs `gpp validate`.
pub fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let gpc = args.gpc;
    let mut invalid = false;
    let code = one_or_stream(args.gpp_string, |line, out| {
        let findings =
            nexaguard_gpp::validate_str(line, gpc).map_err(|e| (e.code(), e.to_string()))?;
        let valid = !findings
            .iter()
            .any(|f| f.severity == nexaguard_gpp::Severity::Error);
        invalid |= !valid;
        let body = serde_json::json!({ "valid": valid, "findings": findings });
        serde_json::to_writer(&mut *out, &body).map_err(|e| ("internal", e.to_string()))?;
        Ok(())
    })?;
    Ok(if invalid { ExitCode::FAILURE } else { code })
}
