//! One module per command (or command group), named after it; `store`
//! opens an installation for those that need one. Each command returns the
//! process exit code, or an error that `main` prints as one line.

pub mod ac;
pub mod audit;
pub mod backup;
pub mod gpp;
pub mod gvl;
pub mod keys;
pub mod serve;
pub mod site;
pub mod store;
pub mod tcf;
pub mod tenant;
pub mod user;

use anyhow::{bail, Context};
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

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

/// The answer for one input line: the output text, or an error code and message.
pub type LineResult = Result<(), (&'static str, String)>;

/// Applies `handle` to each line of standard input, writing its output or an
/// error object, one line each. Exit code 1 if any line failed.
pub fn stream_lines(
    mut handle: impl FnMut(&str, &mut Vec<u8>) -> LineResult,
) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = String::new();
    // Each answer is built in memory first: many small pieces cost far less
    // appended to a Vec than passed through BufWriter.
    let mut answer = Vec::with_capacity(1 << 14);
    let mut failed = false;
    loop {
        line.clear();
        if input
            .read_line(&mut line)
            .context("reading standard input")?
            == 0
        {
            break;
        }
        answer.clear();
        if let Err((code, message)) = handle(line.trim(), &mut answer) {
            failed = true;
            answer.clear();
            write_error_line(&mut answer, code, &message)?;
        } else {
            answer.push(b'\n');
        }
        out.write_all(&answer)?;
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
