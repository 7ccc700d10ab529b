//! `nexaguard gvl inspect` and `nexaguard gvl trim`: Global Vendor List files.

use super::read_file;
use anyhow::{anyhow, bail, Context};
use nexaguard_tcf::gvl::{Gvl, GvlSummary, Translation};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `gvl inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The vendor-list.json (format v3).
    file: PathBuf,
    /// A translation (purposes-xx.json) to apply first.
    #[arg(long, value_name = "FILE")]
    lang_file: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Arguments of `gvl trim`.
#[derive(clap::Args)]
pub struct TrimArgs {
    /// The vendor-list.json (format v3).
    file: PathBuf,
    /// The site's vendor ids, comma-separated: 1,2,3.
    #[arg(long, value_name = "IDS")]
    vendors: String,
    /// A translation (purposes-xx.json) to apply first.
    #[arg(long, value_name = "FILE")]
    lang_file: Option<PathBuf>,
    /// Trim anyway when some ids are not in the list (they are listed on
    /// standard error).
    #[arg(long)]
    allow_unknown: bool,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
}

/// Runs `gvl inspect`.
pub fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let gvl = load(&args.file, args.lang_file.as_deref())?;
    let summary = gvl.summary();
    let text = if args.json {
        let mut line = serde_json::to_string(&summary)?;
        line.push('\n');
        line
    } else {
        summary_text(&summary)
    };
    write_stdout(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `gvl trim`.
pub fn trim(args: TrimArgs) -> anyhow::Result<ExitCode> {
    let ids = parse_vendor_ids(&args.vendors)?;
    let gvl = load(&args.file, args.lang_file.as_deref())?;
    let trimmed = gvl.trim(ids);
    if !trimmed.unknown.is_empty() {
        let list = join(&trimmed.unknown);
        if !args.allow_unknown {
            bail!(
                "vendor ids not in GVL version {}: {list} (pass --allow-unknown to trim anyway)",
                gvl.vendor_list_version
            );
        }
        eprintln!(
            "warning: vendor ids not in GVL version {}, left out: {list}",
            gvl.vendor_list_version
        );
    }
    if !trimmed.deleted.is_empty() {
        eprintln!(
            "warning: deleted vendors kept in the list: {}",
            join(&trimmed.deleted)
        );
    }
    let mut json = if args.pretty {
        serde_json::to_vec_pretty(&trimmed.gvl)?
    } else {
        serde_json::to_vec(&trimmed.gvl)?
    };
    json.push(b'\n');
    write_stdout(&json)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the whole answer at once. A reader that stops early (`| head`)
/// is not an error: the answer was wanted only in part.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    match std::io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Reads and parses a vendor list, applying a translation if one is given.
pub fn load(file: &Path, lang_file: Option<&Path>) -> anyhow::Result<Gvl> {
    let text = read_file(file)?;
    let mut gvl =
        Gvl::from_json(&text).map_err(|e| anyhow!("{} ({}): {e}", file.display(), e.code()))?;
    if let Some(lang_file) = lang_file {
        gvl.apply_translation(&load_translation(lang_file)?);
    }
    Ok(gvl)
}

/// A translation file; its language comes from the file when it names one,
/// else from a `purposes-xx.json` file name.
fn load_translation(path: &Path) -> anyhow::Result<Translation> {
    let text = read_file(path)?;
    let mut translation = Translation::from_json(&text)
        .map_err(|e| anyhow!("{} ({}): {e}", path.display(), e.code()))?;
    if translation.language.is_none() {
        translation.language = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(Translation::language_from_file_name);
    }
    Ok(translation)
}

/// Parses `1,2,3` (spaces allowed around ids). Rejects empty items, zero
/// and anything that is not a vendor id.
fn parse_vendor_ids(list: &str) -> anyhow::Result<Vec<u32>> {
    list.split(',')
        .map(str::trim)
        .map(|item| {
            let id: u16 = item
                .parse()
                .with_context(|| format!("--vendors: {item:?} is not a vendor id"))?;
            if id == 0 {
                bail!("--vendors: vendor ids start at 1");
            }
            Ok(u32::from(id))
        })
        .collect()
}

fn join(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_text(s: &GvlSummary) -> String {
    format!(
        "GVL version {} (format v{}, TCF policy version {}), last updated {}, language {}\n\
         purposes:          {}\n\
         special purposes:  {}\n\
         features:          {}\n\
         special features:  {}\n\
         stacks:            {}\n\
         data categories:   {}\n\
         vendors:           {} ({} deleted)\n",
        s.vendor_list_version,
        s.gvl_specification_version,
        s.tcf_policy_version,
        s.last_updated,
        s.language,
        s.purposes,
        s.special_purposes,
        s.features,
        s.special_features,
        s.stacks,
        s.data_categories,
        s.vendors,
        s.deleted_vendors
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn vendor_ids_parse_strictly() {
        assert_eq!(parse_vendor_ids("1,2, 755").unwrap(), [1, 2, 755]);
        for bad in ["", "1,,2", "1,x", "0", "-1", "65536", "1;2"] {
            assert!(parse_vendor_ids(bad).is_err(), "{bad:?}");
        }
    }
}
