//! Validation: findings about a decoded GPP string that the codec accepts
//! but the specifications forbid or advise against, each with a stable code.
//!
//! [`validate`] checks a model; [`validate_str`] reads a string leniently
//! first, so that header problems the decoder refuses become findings.
//!
//! | code | severity | finding |
//! | --- | --- | --- |
//! | `value_out_of_range` | error | A field holds a value its specification does not define: 3 in a 2-bit field whose values are 0 to 2, `MspaCoveredTransaction` other than 1 or 2, a GPC sub-section type other than 1. The decoder keeps such values, as the reference does. |
//! | `unsupported_version` | warning | A section's `Version` (`MspaVersion`) is not one the reference writes: 1 or 2 for `usnat`, 1 for the others. |
//! | `notice_not_given_but_opted_in` | error | A sale, sharing or targeted advertising opt-out notice is 2 ("not provided") while its opt-out is 2 ("did not opt out"); for `uspv1`, `Notice` N with `OptOutSale` N. The specifications define the opt-out as 0 ("not applicable") when no notice was given. |
//! | `opt_out_without_notice` | warning | An opt-out is 1 ("opted out") while its notice is 0 or 2, or 2 while its notice is 0: the opt-out should be 0 then. |
//! | `opt_out_missing_after_notice` | warning | A notice is 1 ("provided") while its opt-out is 0 ("not applicable"): after a notice the user either opted out (1) or did not (2). |
//! | `mspa_mode_conflict` | error | `MspaOptOutOptionMode` and `MspaServiceProviderMode` are both 1: a covered transaction is in one mode or the other. |
//! | `gpc_disagrees` | error | The GPC sub-section's `Gpc` differs from the GPC signal given. |
//! | `gpc_missing` | warning | The GPC signal given is true but a section that has a GPC sub-section does not carry it. |
//! | `section_id_without_section` | error | The header lists a section id with no section after it (more ids than sections, or a blank section). [`validate_str`] only. |
//! | `section_without_section_id` | error | A section after the header that the header does not list (more sections than ids). [`validate_str`] only. |
//! | `unknown_section_id` | warning | The header lists a section id that no supported specification defines; its section is ignored. [`validate_str`] only. |

use crate::codec::{decode_header, decode_section};
use crate::model::{GppString, Section};
use crate::us::{Kind, UsSectionDef};
use crate::uspv1::UspFlag;
use crate::GppError;
use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The string contradicts its specification.
    Error,
    /// The string is valid but probably not what was meant.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable code (see the table in this module's documentation).
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The section's API prefix, if the finding concerns one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<&'static str>,
    /// The reference's field name, if the finding concerns one field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// A sentence for people.
    pub message: String,
}

impl Finding {
    fn new(
        code: &'static str,
        severity: Severity,
        section: Option<&'static str>,
        field: Option<&'static str>,
        message: String,
    ) -> Self {
        Self {
            code,
            severity,
            section,
            field,
            message,
        }
    }
}

/// Checks a model. `gpc_signal` is the Global Privacy Control signal the
/// caller knows (from `Sec-GPC` or `navigator.globalPrivacyControl`), if any.
pub fn validate(gpp: &GppString, gpc_signal: Option<bool>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut order: Vec<&Section> = gpp.sections.iter().collect();
    order.sort_by_key(|s| s.id());
    for s in order {
        match s {
            Section::UspV1(u) => {
                if u.notice == UspFlag::No && u.opt_out_sale == UspFlag::No {
                    out.push(Finding::new(
                        "notice_not_given_but_opted_in",
                        Severity::Error,
                        Some(crate::uspv1::NAME),
                        Some("OptOutSale"),
                        "uspv1: Notice is N (no notice given) but OptOutSale is N (did not opt out)".into(),
                    ));
                }
                if u.version != 1 {
                    out.push(Finding::new(
                        "unsupported_version",
                        Severity::Warning,
                        Some(crate::uspv1::NAME),
                        Some("Version"),
                        format!("uspv1: Version {} is not 1", u.version),
                    ));
                }
            }
            other => {
                if let Some((def, flat)) = other.us() {
                    us_findings(def, &flat, gpc_signal, &mut out);
                }
            }
        }
    }
    out
}

/// The notice and opt-out pairs the specifications make dependent.
const PAIRS: [(&str, &str); 3] = [
    ("SaleOptOutNotice", "SaleOptOut"),
    ("SharingOptOutNotice", "SharingOptOut"),
    (
        "TargetedAdvertisingOptOutNotice",
        "TargetedAdvertisingOptOut",
    ),
];

fn us_findings(
    def: &'static UsSectionDef,
    flat: &crate::us::Flat,
    gpc_signal: Option<bool>,
    out: &mut Vec<Finding>,
) {
    let name = def.name;
    let value = |field: &str| def.field(field).map(|(slot, _)| flat.get(slot));
    for (slot, f) in def.fields() {
        let in_sub = def.core.iter().all(|c| c.name != f.name);
        if in_sub && !flat.included {
            continue;
        }
        let (min, max, n) = match f.kind {
            Kind::Int { min, max, .. } => (min, max, 1),
            Kind::List { min, max, len, .. } => (min, max, usize::from(len)),
            Kind::Bool { .. } => continue,
        };
        // The GPC sub-section type the specifications define is 1.
        let (min, max) = if f.name == "GpcSegmentType" {
            (1, 1)
        } else {
            (min, max)
        };
        for k in 0..n {
            let v = flat.get(slot + k);
            if v < min || v > max {
                let at = if n > 1 {
                    format!(" (value {})", k + 1)
                } else {
                    String::new()
                };
                out.push(Finding::new(
                    "value_out_of_range",
                    Severity::Error,
                    Some(name),
                    Some(f.name),
                    format!("{name}: {}{at} is {v}, outside {min}..={max}", f.name),
                ));
            }
        }
    }
    let version_field = def.core.first().map(|f| f.name).unwrap_or("Version");
    let version = flat.get(0);
    let known = if def.id == 7 {
        version == 1 || version == 2
    } else {
        version == def.version
    };
    if !known {
        out.push(Finding::new(
            "unsupported_version",
            Severity::Warning,
            Some(name),
            Some(version_field),
            format!("{name}: {version_field} {version} is not a version the reference writes"),
        ));
    }
    for (notice_field, opt_field) in PAIRS {
        let (Some(notice), Some(opt)) = (value(notice_field), value(opt_field)) else {
            continue;
        };
        let finding = match (notice, opt) {
            (2, 2) => Some((
                "notice_not_given_but_opted_in",
                Severity::Error,
                format!("{name}: {notice_field} is 2 (notice not provided) but {opt_field} is 2 (did not opt out)"),
            )),
            (0, 1) | (0, 2) | (2, 1) => Some((
                "opt_out_without_notice",
                Severity::Warning,
                format!("{name}: {opt_field} is {opt} but {notice_field} is {notice}: without a notice the opt-out is 0 (not applicable)"),
            )),
            (1, 0) => Some((
                "opt_out_missing_after_notice",
                Severity::Warning,
                format!("{name}: {notice_field} is 1 (notice provided) but {opt_field} is 0 (not applicable)"),
            )),
            _ => None,
        };
        if let Some((code, severity, message)) = finding {
            out.push(Finding::new(
                code,
                severity,
                Some(name),
                Some(opt_field),
                message,
            ));
        }
    }
    if value("MspaOptOutOptionMode") == Some(1) && value("MspaServiceProviderMode") == Some(1) {
        out.push(Finding::new(
            "mspa_mode_conflict",
            Severity::Error,
            Some(name),
            Some("MspaServiceProviderMode"),
            format!("{name}: MspaOptOutOptionMode and MspaServiceProviderMode are both 1 (yes)"),
        ));
    }
    if let (Some(sub), Some(signal)) = (def.sub, gpc_signal) {
        if sub.gpc {
            match (flat.included, value("Gpc").map(|v| v != 0)) {
                (true, Some(gpc)) if gpc != signal => out.push(Finding::new(
                    "gpc_disagrees",
                    Severity::Error,
                    Some(name),
                    Some("Gpc"),
                    format!("{name}: Gpc is {gpc} but the GPC signal is {signal}"),
                )),
                (false, _) if signal => out.push(Finding::new(
                    "gpc_missing",
                    Severity::Warning,
                    Some(name),
                    Some("GpcSegmentIncluded"),
                    format!(
                        "{name}: the GPC signal is true but the section has no GPC sub-section"
                    ),
                )),
                _ => {}
            }
        }
    }
}

/// Reads `s` leniently and checks it: the header's ids and the sections
/// after it are matched one by one, so that a missing or extra section
/// becomes a finding instead of a decoding error, and the sections that
/// decode are then checked as [`validate`] does. Errors inside a section
/// are still errors.
pub fn validate_str(s: &str, gpc_signal: Option<bool>) -> Result<Vec<Finding>, GppError> {
    if s.is_empty() || (!s.starts_with("DB") && s.starts_with('C')) {
        return crate::decode(s).map(|g| validate(&g, gpc_signal));
    }
    let mut parts = s.split('~');
    let header = decode_header(parts.next().unwrap_or(""))?;
    let texts: Vec<&str> = parts.collect();
    let mut ids = header.ranges.iter().flat_map(|&(a, b)| a..=b);
    let mut findings = Vec::new();
    let mut gpp = GppString::default();
    for (index, text) in texts.iter().enumerate() {
        let Some(id) = ids.next() else {
            findings.push(Finding::new(
                "section_without_section_id",
                Severity::Error,
                None,
                None,
                format!(
                    "the header lists {} section ids but section {} and later ones have none",
                    header.count,
                    index + 1
                ),
            ));
            break;
        };
        let name = u8::try_from(id).ok().and_then(crate::model::section_name);
        if text.trim().is_empty() {
            findings.push(Finding::new(
                "section_id_without_section",
                Severity::Error,
                name,
                None,
                format!("section id {id} has an empty section"),
            ));
            continue;
        }
        let offset = text.as_ptr() as usize - s.as_ptr() as usize;
        match decode_section(id, text, offset)? {
            Some(section) => gpp.sections.push(section),
            None => findings.push(Finding::new(
                "unknown_section_id",
                Severity::Warning,
                None,
                None,
                format!("section id {id} is not a section this library knows; it is ignored"),
            )),
        }
    }
    if header.count > texts.len() as u64 {
        let missing: Vec<String> = ids.take(10).map(|id| id.to_string()).collect();
        findings.push(Finding::new(
            "section_id_without_section",
            Severity::Error,
            None,
            None,
            format!(
                "the header lists {} section ids but the string has {} sections; without a section: {}{}",
                header.count,
                texts.len(),
                missing.join(", "),
                if header.count - texts.len() as u64 > 10 { ", ..." } else { "" }
            ),
        ));
    }
    findings.extend(validate(&gpp, gpc_signal));
    Ok(findings)
}
