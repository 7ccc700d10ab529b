//! One module per command group. Each command returns the process exit code,
//! or an error that `main` prints as one line.

pub mod ac;
pub mod admin;
pub mod backup;
pub mod gvl;
pub mod server;
pub mod signals;
pub mod tcf;
pub mod validate;

use anyhow::{bail, Context};
use std::io::{BufRead, Write};

/// The TC string given as an argument, or the single line on standard input.
pub fn one_input(arg: Option<String>, what: &str) -> anyhow::Result<String> {
    if let Some(s) = arg {
        return Ok(s.trim().to_owned());
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading standard input")?;
    let line = line.trim();
    if line.is_empty() {
        bail!("no {what} given: pass it as an argument or on standard input");
    }
    Ok(line.to_owned())
}

/// Writes `{"error": {"code": ..., "message": ...}}` and a newline.
pub fn write_error_line(out: &mut impl Write, code: &str, message: &str) -> std::io::Result<()> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    serde_json::to_writer(&mut *out, &body)?;
    out.write_all(b"\n")
}

/// Reads a whole file as UTF-8, naming the file in the error.
pub fn read_file(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}
