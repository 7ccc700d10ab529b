//! `nexaguard tcf validate`: a TC string checked against a Global Vendor
//! List and the TCF policies.
//!
//! Text output is one finding per line, `severity  code  message`, with a
//! count on standard error; `--json` prints the findings as one JSON array.
//! Exit code 1 when any finding is an error, or when the input cannot be
//! read (with `--json`, as an `{"error": ...}` object on standard output).

use crate::commands::gvl::write_stdout;
use crate::commands::{one_input, read_file, write_error_line};
use nexaguard_tcf::gvl::Gvl;
use nexaguard_tcf::policy::{validate, Finding};
use nexaguard_tcf::Timestamp;
use std::path::PathBuf;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// Arguments of `tcf validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The vendor-list.json (format v3) to check against.
    #[arg(long, value_name = "FILE")]
    gvl: PathBuf,
    /// The TC string; without it, one line is read from standard input.
    tc_string: Option<String>,
    /// Print the findings as a JSON array.
    #[arg(long)]
    json: bool,
    /// The time to check against instead of the clock: RFC 3339
    /// (2025-07-01T12:00:00Z) or a date (2025-07-01, midnight UTC).
    #[arg(long, value_name = "ISO8601")]
    now: Option<String>,
}

/// Why validation could not run: a stable code and a message.
struct Failure {
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// Runs `tcf validate`.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    match findings(args) {
        Ok(findings) => report(&findings, json),
        Err(f) if json => {
            write_error_line(&mut std::io::stdout().lock(), f.code, &f.message)?;
            Ok(ExitCode::FAILURE)
        }
        Err(f) => Err(anyhow::anyhow!("{} ({})", f.message, f.code)),
    }
}

fn findings(args: ValidateArgs) -> Result<Vec<Finding>, Failure> {
    let now = match &args.now {
        Some(text) => parse_now(text)?,
        None => clock_now()?,
    };
    let text = read_file(&args.gvl).map_err(|e| Failure::new("io", format!("{e:#}")))?;
    let gvl = Gvl::from_json(&text)
        .map_err(|e| Failure::new(e.code(), format!("{}: {e}", args.gvl.display())))?;
    let tc = one_input(args.tc_string, "TC string")
        .map_err(|e| Failure::new("no_input", format!("{e:#}")))?;
    let model = nexaguard_tcf::decode(&tc).map_err(|e| Failure::new(e.code(), e.to_string()))?;
    Ok(validate(&model, &gvl, now))
}

fn report(findings: &[Finding], json: bool) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    if json {
        text = serde_json::to_string(findings)?;
        text.push('\n');
    } else {
        for f in findings {
            text.push_str(&format!("{}  {}  {}\n", f.severity, f.code, f.message));
        }
    }
    write_stdout(text.as_bytes())?;
    let errors = findings.iter().filter(|f| f.is_error()).count();
    if !json {
        let warnings = findings.len() - errors;
        eprintln!("{errors} error(s), {warnings} warning(s)");
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// RFC 3339, or a bare date taken as midnight UTC.
fn parse_now(text: &str) -> Result<Timestamp, Failure> {
    let bad = || {
        Failure::new(
            "invalid_now",
            format!("--now {text:?} is neither an RFC 3339 time (2025-07-01T12:00:00Z) nor a date (2025-07-01)"),
        )
    };
    let time = OffsetDateTime::parse(text, &Rfc3339).or_else(|_| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(text, format).map(|d| d.midnight().assume_utc())
    });
    time.map_err(|_| bad())
        .and_then(|t| to_timestamp(t).ok_or_else(bad))
}

fn clock_now() -> Result<Timestamp, Failure> {
    to_timestamp(OffsetDateTime::now_utc()).ok_or_else(|| {
        Failure::new(
            "invalid_now",
            "the system clock is outside the TC string's range",
        )
    })
}

fn to_timestamp(t: OffsetDateTime) -> Option<Timestamp> {
    let millis = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()?;
    Timestamp::from_unix_millis(millis)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn now_accepts_rfc3339_and_dates() {
        let noon = parse_now("2025-07-01T12:00:00Z").ok().unwrap();
        assert_eq!(noon.unix_seconds(), 1_751_371_200);
        let midnight = parse_now("2025-07-01").ok().unwrap();
        assert_eq!(midnight.unix_seconds(), 1_751_328_000);
        let offset = parse_now("2025-07-01T14:00:00+02:00").ok().unwrap();
        assert_eq!(offset, noon);
        for bad in ["yesterday", "2025-13-01", "1969-12-31", ""] {
            assert_eq!(parse_now(bad).err().unwrap().code, "invalid_now", "{bad}");
        }
    }
}
