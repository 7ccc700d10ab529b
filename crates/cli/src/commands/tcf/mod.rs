//! `nexaguard tcf decode` and `nexaguard tcf encode`.
//!
//! Both work on one value given as an argument, or on standard input one
//! value per line, answering one line per input line. In the streaming form
//! a bad line answers `{"error": ...}` on its own line and the run goes on;
//! the exit code is 1 at the end if any line failed.

pub mod signals;
pub mod validate;

use crate::commands::{stream_lines, LineResult};
use nexaguard_tcf::json::{from_json, TcModelJson};
use std::io::Write;
use std::process::ExitCode;
use time::OffsetDateTime;

/// Arguments of `tcf decode`.
#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The TC string; without it, TC strings are read from standard input, one per line.
    tc_string: Option<String>,
    /// Pretty-print the JSON (argument form only).
    #[arg(long)]
    pretty: bool,
}

/// Arguments of `tcf encode`.
#[derive(clap::Args)]
pub struct EncodeArgs {
    /// The TC model JSON; without it, one JSON object per line is read from standard input.
    json: Option<String>,
}

/// Runs `tcf decode`.
pub fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    match args.tc_string {
        Some(tc) => {
            let model = nexaguard_tcf::decode(tc.trim())
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let mut json = Vec::new();
            TcModelJson(&model).write_to(&mut json);
            if args.pretty {
                let value: serde_json::Value = serde_json::from_slice(&json)?;
                json = serde_json::to_vec_pretty(&value)?;
            }
            json.push(b'\n');
            out.write_all(&json)?;
            Ok(ExitCode::SUCCESS)
        }
        None => stream_lines(|line, out| {
            let model = nexaguard_tcf::decode(line).map_err(|e| (e.code(), e.to_string()))?;
            TcModelJson(&model).write_to(out);
            Ok(())
        }),
    }
}

/// Runs `tcf encode`.
pub fn encode(args: EncodeArgs) -> anyhow::Result<ExitCode> {
    let today = OffsetDateTime::now_utc().date();
    let encode_line = |line: &str, out: &mut Vec<u8>| -> LineResult {
        let model = from_json(line, today).map_err(|e| (e.code(), e.to_string()))?;
        let tc = nexaguard_tcf::encode(&model).map_err(|e| (e.code(), e.to_string()))?;
        out.extend_from_slice(tc.as_bytes());
        Ok(())
    };
    match args.json {
        Some(json) => {
            let mut answer = Vec::new();
            encode_line(json.trim(), &mut answer)
                .map_err(|(code, message)| anyhow::anyhow!("{message} ({code})"))?;
            answer.push(b'\n');
            std::io::stdout().lock().write_all(&answer)?;
            Ok(ExitCode::SUCCESS)
        }
        None => stream_lines(encode_line),
    }
}
