//! `nexaguard ac decode` and `nexaguard ac encode`: Google Additional
//! Consent strings to and from
//! `{"version": 2, "consentedProviders": [...], "disclosedProviders": [...]}`.
//!
//! Like `tcf decode|encode`: one value as an argument, or one per line on
//! standard input; in the streaming form a bad line answers
//! `{"error": ...}` on its own line, the run goes on, and the exit code is 1
//! at the end.

use super::write_error_line;
use anyhow::Context;
use nexaguard_tcf::ac::{AcJson, AcString};
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

/// Arguments of `ac decode`.
#[derive(clap::Args)]
pub struct DecodeArgs {
    /// The AC string, e.g. 2~1.35~dv.9; without it, one per line from standard input.
    ac_string: Option<String>,
}

/// Arguments of `ac encode`.
#[derive(clap::Args)]
pub struct EncodeArgs {
    /// The JSON object; without it, one object per line from standard input.
    json: Option<String>,
}

/// An input line's answer, or its error code and message.
type LineResult = Result<String, (&'static str, String)>;

fn decode_line(line: &str) -> LineResult {
    let ac = AcString::parse(line).map_err(|e| (e.code(), e.to_string()))?;
    serde_json::to_string(&AcJson::from(&ac)).map_err(|e| ("output", e.to_string()))
}

fn encode_line(line: &str) -> LineResult {
    let json: AcJson = serde_json::from_str(line).map_err(|e| ("invalid_json", e.to_string()))?;
    let ac = AcString::try_from(json).map_err(|e| (e.code(), e.to_string()))?;
    Ok(ac.to_string())
}

/// Runs `ac decode`.
pub fn decode(args: DecodeArgs) -> anyhow::Result<ExitCode> {
    run(args.ac_string, decode_line)
}

/// Runs `ac encode`.
pub fn encode(args: EncodeArgs) -> anyhow::Result<ExitCode> {
    run(args.json, encode_line)
}

fn run(arg: Option<String>, handle: fn(&str) -> LineResult) -> anyhow::Result<ExitCode> {
    match arg {
        Some(value) => {
            let answer = handle(value.trim())
                .map_err(|(code, message)| anyhow::anyhow!("{message} ({code})"))?;
            writeln!(std::io::stdout().lock(), "{answer}")?;
            Ok(ExitCode::SUCCESS)
        }
        None => stream_lines(handle),
    }
}

fn stream_lines(handle: fn(&str) -> LineResult) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = false;
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading standard input")?;
        match handle(line.trim()) {
            Ok(answer) => writeln!(out, "{answer}")?,
            Err((code, message)) => {
                failed = true;
                write_error_line(&mut out, code, &message)?;
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
