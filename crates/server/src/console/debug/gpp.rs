//! The debug tool's GPP view: a pasted GPP string turned into its header,
//! one table of fields per section (the reference library's field names,
//! as `nexaguard gpp decode` prints them), the validation findings and the
//! `IABGPP_*` in-app keys. Pure, like [`super::inspect`]; the page's markup
//! for it is [`gpp_section`].

use super::inspect::InputError;
use super::{wrapped, Target};
use crate::console::session::CSRF_FIELD;
use maud::{html, Markup};
use nexaguard_gpp::in_app::{self, InAppValue};
use nexaguard_gpp::json::section_to_json;
use nexaguard_gpp::{GppString, Section, Severity, HEADER_VERSION};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// Whether `input` (trimmed) is a GPP string rather than a TC string: the
/// GPP header section starts with `D` (type 3 in six bits, then version
/// `B`), which no TC string (`C` for version 2, `B` for version 1) and no
/// AC string (`1~`, `2~`) does. Either sections follow after `~`, or the
/// whole input is one base64url header.
pub fn is_gpp_string(input: &str) -> bool {
    input.starts_with('D')
        && (input.contains('~')
            || input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// One field of a section: the reference's name, its value as text, and
/// what the value means where the specifications say so plainly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    /// The reference library's field name.
    pub name: String,
    /// The value: numbers as numbers, flags `yes`/`no`, bit fields as the
    /// ids set, id lists as ranges, value lists as `position: value`.
    pub value: String,
    /// The meaning of a coded value (`opted out`, `provided`, ...).
    pub meaning: Option<String>,
}

/// A section's optional sub-section (the GPC one, or `usin`'s sensitive
/// data consents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubView {
    /// Whether it is the GPC sub-section.
    pub gpc: bool,
    /// The name of the flag saying whether the string carries it.
    pub flag: String,
    /// Whether the string carries it.
    pub included: bool,
    /// Its fields, the flag first (the reference's defaults when not
    /// included).
    pub fields: Vec<FieldRow>,
}

/// One decoded section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionView {
    /// The section id.
    pub id: u8,
    /// The API prefix (`usnat`).
    pub name: &'static str,
    /// What it is, for people (`US National`).
    pub title: &'static str,
    /// The core segment's fields (and, for the TCF sections, every other).
    pub fields: Vec<FieldRow>,
    /// The sub-section, for sections that define one.
    pub sub: Option<SubView>,
    /// For `tcfeuv2`: the TC string it carries, to open in the TCF view.
    pub tc_string: Option<String>,
}

/// Everything the page shows about a GPP string.
#[derive(Debug, Clone, PartialEq)]
pub struct GppView {
    /// The header version.
    pub version: u8,
    /// The sections, in id order.
    pub sections: Vec<SectionView>,
    /// The validation findings (`validate_str`).
    pub findings: Vec<nexaguard_gpp::Finding>,
    /// The GPC signal the findings were checked against.
    pub gpc_signal: Option<bool>,
    /// The `IABGPP_*` keys.
    pub in_app: Vec<(String, String)>,
}

impl GppView {
    /// The errors and warnings among the findings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        (errors, self.findings.len() - errors)
    }
}

/// Decodes a GPP string (already trimmed and length-checked) and checks
/// it, the GPC sub-sections against `gpc_signal` when it is known.
pub fn inspect_gpp(input: &str, gpc_signal: Option<bool>) -> Result<GppView, InputError> {
    let gpp = nexaguard_gpp::decode(input).map_err(|e| {
        InputError(format!(
            "This GPP string cannot be decoded: {e} ({}).",
            e.code()
        ))
    })?;
    let findings = nexaguard_gpp::validate_str(input, gpc_signal)
        .unwrap_or_else(|_| nexaguard_gpp::validate(&gpp, gpc_signal));
    let in_app = in_app::keys(&gpp)
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                InAppValue::Int(n) => n.to_string(),
                InAppValue::Str(s) => s,
            };
            (key, text)
        })
        .collect();
    Ok(GppView {
        version: HEADER_VERSION,
        sections: section_views(&gpp, input),
        findings,
        gpc_signal,
        in_app,
    })
}

fn section_views(gpp: &GppString, input: &str) -> Vec<SectionView> {
    // The texts after the header, in header (id) order; they line up with
    // the decoded sections unless a section of an unknown id was skipped.
    let texts: Vec<&str> = input.split('~').skip(1).collect();
    let aligned = texts.len() == gpp.sections.len();
    let mut views: Vec<(usize, SectionView)> = gpp
        .sections
        .iter()
        .enumerate()
        .map(|(index, section)| {
            let tc_string = match section {
                Section::TcfEuV2(tc) => match texts.get(index) {
                    Some(text) if aligned => Some((*text).to_owned()),
                    _ => nexaguard_tcf::encode(&tc.0).ok(),
                },
                _ => None,
            };
            (index, section_view(section, tc_string))
        })
        .collect();
    views.sort_by_key(|(index, view)| (view.id, *index));
    views.into_iter().map(|(_, view)| view).collect()
}

fn section_view(section: &Section, tc_string: Option<String>) -> SectionView {
    let mut json = Vec::new();
    section_to_json(section, &mut json);
    let fields = serde_json::from_slice::<Ordered>(&json)
        .map(|o| o.0)
        .unwrap_or_default();
    let us = section.us().map(|(def, _)| def);
    let sub_def = us.and_then(|def| def.sub);
    let is_us = us.is_some() || matches!(section, Section::UspV1(_));
    let mut core = Vec::new();
    let mut sub = sub_def.map(|def| SubView {
        gpc: def.gpc,
        flag: def.included.to_owned(),
        included: false,
        fields: Vec::new(),
    });
    for (name, value) in fields {
        let in_sub = sub_def
            .is_some_and(|def| def.included == name || def.fields.iter().any(|f| f.name == name));
        if let (true, Some(sub)) = (in_sub, sub.as_mut()) {
            if name == sub.flag {
                sub.included = value.as_bool().unwrap_or(false);
                sub.fields.insert(0, field_row(name, &value, is_us));
            } else {
                sub.fields.push(field_row(name, &value, is_us));
            }
        } else {
            core.push(field_row(name, &value, is_us));
        }
    }
    SectionView {
        id: section.id(),
        name: section.name(),
        title: section_title(section.id()),
        fields: core,
        sub,
        tc_string,
    }
}

/// A section's jurisdiction or framework, for people.
pub fn section_title(id: u8) -> &'static str {
    match id {
        2 => "IAB TCF EU v2",
        5 => "IAB TCF Canada v1",
        6 => "US Privacy (CCPA) v1",
        7 => "US National",
        8 => "California",
        9 => "Virginia",
        10 => "Colorado",
        11 => "Utah",
        12 => "Connecticut",
        13 => "Florida",
        14 => "Montana",
        15 => "Oregon",
        16 => "Texas",
        17 => "Delaware",
        18 => "Iowa",
        19 => "Nebraska",
        20 => "New Hampshire",
        21 => "New Jersey",
        22 => "Tennessee",
        23 => "Minnesota",
        24 => "Maryland",
        25 => "Indiana",
        26 => "Kentucky",
        27 => "Rhode Island",
        _ => "unknown section",
    }
}

fn field_row(name: String, value: &Value, is_us: bool) -> FieldRow {
    let (value_text, meaning) = match value {
        Value::Bool(b) => (if *b { "yes" } else { "no" }.to_owned(), None),
        Value::Number(n) => {
            let meaning = n
                .as_u64()
                .filter(|_| is_us)
                .and_then(|v| meaning(&name, v))
                .map(str::to_owned);
            (n.to_string(), meaning)
        }
        Value::String(s) => {
            let meaning = if is_us {
                usp_meaning(s).map(str::to_owned)
            } else {
                None
            };
            (s.clone(), meaning)
        }
        Value::Array(items) => list_text(&name, items, is_us),
        Value::Null => ("none".to_owned(), None),
        Value::Object(_) => (value.to_string(), None),
    };
    FieldRow {
        name,
        value: value_text,
        meaning,
    }
}

/// A list, readable: bit fields as the ids set, id lists as ranges,
/// publisher restrictions one per line, US value lists by position.
fn list_text(name: &str, items: &[Value], is_us: bool) -> (String, Option<String>) {
    if items.is_empty() {
        return ("none".to_owned(), None);
    }
    if items.iter().all(Value::is_boolean) {
        let set: Vec<u64> = (1u64..)
            .zip(items)
            .filter(|(_, v)| v.as_bool() == Some(true))
            .map(|(id, _)| id)
            .collect();
        let text = if set.is_empty() {
            "none".to_owned()
        } else {
            ranges(&set)
        };
        return (text, Some(format!("ids set, of 1 to {}", items.len())));
    }
    if items.iter().all(Value::is_object) {
        let text = items
            .iter()
            .map(|r| {
                let ids: Vec<u64> = r["ids"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                format!(
                    "purpose {}, {}: vendors {}",
                    r["key"],
                    restriction_text(r["type"].as_u64()),
                    if ids.is_empty() {
                        "none".to_owned()
                    } else {
                        ranges(&ids)
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        return (text, None);
    }
    let numbers: Vec<u64> = items.iter().filter_map(Value::as_u64).collect();
    if is_us {
        let text = (1..)
            .zip(&numbers)
            .map(|(position, v)| format!("{position}: {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let legend = meaning_legend(name).map(str::to_owned);
        (text, legend)
    } else {
        (ranges(&numbers), None)
    }
}

/// `2, 5-9, 755` from ascending ids.
fn ranges(ids: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = ids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    out.join(", ")
}

fn restriction_text(ty: Option<u64>) -> String {
    match ty {
        Some(0) => "not allowed".to_owned(),
        Some(1) => "require consent".to_owned(),
        Some(2) => "require legitimate interest".to_owned(),
        Some(other) => format!("type {other}"),
        None => "no type".to_owned(),
    }
}

/// Which value set a US field uses, from its name: the conventions the
/// specifications share (docs/gpp.md, "Value meanings").
#[derive(Clone, Copy)]
enum Values {
    Notice,
    OptOut,
    Consent,
    Covered,
    Mode,
}

fn values_of(name: &str) -> Option<Values> {
    match name {
        "MspaCoveredTransaction" => Some(Values::Covered),
        "MspaOptOutOptionMode" | "MspaServiceProviderMode" => Some(Values::Mode),
        _ if name.ends_with("Notice") => Some(Values::Notice),
        _ if name.ends_with("OptOut") => Some(Values::OptOut),
        _ if name.contains("Consent") => Some(Values::Consent),
        _ => None,
    }
}

fn meaning(name: &str, value: u64) -> Option<&'static str> {
    let values = values_of(name)?;
    Some(match (values, value) {
        (Values::Covered, 1) | (Values::Mode, 1) => "yes",
        (Values::Covered, 2) | (Values::Mode, 2) => "no",
        (Values::Covered, _) => "not a defined value",
        (_, 0) => "not applicable",
        (Values::Notice, 1) => "provided",
        (Values::Notice, 2) => "not provided",
        (Values::OptOut, 1) => "opted out",
        (Values::OptOut, 2) => "did not opt out",
        (Values::Consent, 1) => "no consent",
        (Values::Consent, 2) => "consent",
        _ => "not a defined value",
    })
}

fn meaning_legend(name: &str) -> Option<&'static str> {
    Some(match values_of(name)? {
        Values::Consent => "0 not applicable, 1 no consent, 2 consent",
        Values::OptOut => "0 not applicable, 1 opted out, 2 did not opt out",
        Values::Notice => "0 not applicable, 1 provided, 2 not provided",
        Values::Covered => "1 yes, 2 no",
        Values::Mode => "0 not applicable, 1 yes, 2 no",
    })
}

/// A US Privacy (`uspv1`) flag.
fn usp_meaning(flag: &str) -> Option<&'static str> {
    match flag {
        "Y" => Some("yes"),
        "N" => Some("no"),
        "-" => Some("not applicable"),
        _ => None,
    }
}

/// A JSON object with its keys in document order (`serde_json::Map` sorts
/// them without the `preserve_order` feature).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

// ---------------------------------------------------------------- markup

fn fields_table(caption: &str, id: &str, rows: &[FieldRow]) -> Markup {
    wrapped(
        caption,
        html! {
            table.fields.gpp-fields id=(id) {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Field" }
                    th scope="col" { "Value" }
                    th scope="col" { "Meaning" }
                } }
                tbody {
                    @for row in rows {
                        tr {
                            th scope="row" { (row.name) }
                            td { (row.value) }
                            td { (row.meaning.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        },
    )
}

/// The result block for a GPP string. `gdpr_applies` is passed on when a
/// `tcfeuv2` section's TC string is opened in the TCF view.
pub fn gpp_section(view: &GppView, target: &Target<'_>, gdpr_applies: bool) -> Markup {
    let (errors, warnings) = view.counts();
    let ids: Vec<String> = view.sections.iter().map(|s| s.id.to_string()).collect();
    let gpc = match view.gpc_signal {
        None => "not given, so the GPC sub-sections were not compared with it",
        Some(true) => "present",
        Some(false) => "absent",
    };
    html! {
        section #result aria-labelledby="result-title" {
            h2 #result-title { "GPP string" }
            (wrapped("GPP header", html! {
                table.fields #gpp-header {
                    caption { "Header" }
                    tbody {
                        tr { th scope="row" { "Version" } td { (view.version) } }
                        tr {
                            th scope="row" { "SectionIds" }
                            td { @if ids.is_empty() { "none" } @else { (ids.join(", ")) } }
                        }
                    }
                }
            }))
            @if !view.sections.is_empty() {
                (wrapped("GPP sections", html! {
                    table #gpp-sections {
                        caption { "Sections" }
                        thead { tr {
                            th scope="col" { "ID" }
                            th scope="col" { "Name" }
                            th scope="col" { "Specification" }
                        } }
                        tbody {
                            @for s in &view.sections {
                                tr {
                                    th scope="row" { (s.id) }
                                    td { code { (s.name) } }
                                    td { (s.title) }
                                }
                            }
                        }
                    }
                }))
            }
            @for s in &view.sections {
                h3 id=(format!("gpp-{}", s.name)) { (s.title) " (" code { (s.name) } ", id " (s.id) ")" }
                (fields_table(&format!("{} fields", s.name), &format!("gpp-section-{}", s.id), &s.fields))
                @if let Some(sub) = &s.sub {
                    @let what = if sub.gpc { "GPC sub-section" } else { "Sub-section" };
                    @if sub.included {
                        (fields_table(&format!("{} {what}", s.name), &format!("gpp-section-{}-sub", s.id), &sub.fields))
                    } @else {
                        p.gpp-sub-absent {
                            "No " (what) " in this string (" code { (sub.flag) } ": no)."
                        }
                    }
                }
                @if let Some(tc) = &s.tc_string {
                    form.tc-open method="post" action=(target.action) {
                        @if let Some(csrf) = target.csrf {
                            input type="hidden" name=(CSRF_FIELD) value=(csrf);
                        }
                        input type="hidden" name="input" value=(tc);
                        input type="hidden" name="gdprApplies" value=(if gdpr_applies { "true" } else { "false" });
                        button.secondary type="submit" { "Decode this TC string in the TCF view" }
                    }
                }
            }
            h3 #findings { "Validation findings" }
            p.findings-summary {
                "GPC signal " (gpc) ": " (errors) " error(s), " (warnings) " warning(s)."
            }
            @if !view.findings.is_empty() {
                (wrapped("Validation findings", html! {
                    table #gpp-findings {
                        caption { "Validation findings" }
                        thead { tr {
                            th scope="col" { "Severity" }
                            th scope="col" { "Code" }
                            th scope="col" { "Section" }
                            th scope="col" { "Field" }
                            th scope="col" { "Finding" }
                        } }
                        tbody {
                            @for f in &view.findings {
                                @let severity = if f.severity == Severity::Error { "error" } else { "warning" };
                                tr {
                                    td class=(severity) { (severity) }
                                    td { code { (f.code) } }
                                    td { @if let Some(section) = f.section { code { (section) } } }
                                    td { @if let Some(field) = f.field { code { (field) } } }
                                    td { (f.message) }
                                }
                            }
                        }
                    }
                }))
            }
            h3 { "IABGPP keys" }
            (wrapped("IABGPP keys", html! {
                table #iabgpp {
                    caption { "IABGPP_* keys a CMP stores in-app" }
                    tbody {
                        @for (key, value) in &view.in_app {
                            tr { th scope="row" { code { (key) } } td { code.value { (value) } } }
                        }
                    }
                }
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// From docs/gpp.md: usnat and usca, both with a GPC sub-section (Gpc true).
    const USNAT_USCA: &str = "DBABrw~CVVVqqqqqlSA.YA~BVUAAACA.YA";
    /// From docs/debug-tool.md, as section 2, then a usnat section.
    const TC: &str = "CQtAQoAQtB-fQEsACAENCWFAAPIAAEIAAAYgF5wAgABALzAvOACAvMAEJABAAEA.IF5wAgABALzA";

    fn field<'a>(rows: &'a [FieldRow], name: &str) -> &'a FieldRow {
        rows.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn detection_needs_the_header_and_separators_or_a_bare_header() {
        assert!(is_gpp_string(USNAT_USCA));
        assert!(is_gpp_string("DBABTA~1YNN"));
        assert!(is_gpp_string("DBABMA"));
        assert!(is_gpp_string("DBAA"));
        assert!(is_gpp_string("D~"));
        // TC strings (v2 `C`, v1 `B`) and AC strings are not GPP strings.
        assert!(!is_gpp_string(TC));
        assert!(!is_gpp_string("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"));
        assert!(!is_gpp_string("2~1.35~dv.9"));
        assert!(!is_gpp_string("1~7.8"));
        // A D without separators that is not base64url is no header.
        assert!(!is_gpp_string("Dear CMP!"));
        assert!(!is_gpp_string(""));
    }

    #[test]
    fn a_gpp_string_gives_its_sections_with_reference_names() {
        let view = inspect_gpp(USNAT_USCA, None).unwrap();
        let ids: Vec<(u8, &str, &str)> = view
            .sections
            .iter()
            .map(|s| (s.id, s.name, s.title))
            .collect();
        assert_eq!(
            ids,
            [(7, "usnat", "US National"), (8, "usca", "California")]
        );
        let usnat = &view.sections[0];
        assert_eq!(usnat.fields[0].name, "Version");
        assert_eq!(usnat.fields[0].value, "2");
        let sale = field(&usnat.fields, "SaleOptOut");
        assert_eq!(
            (sale.value.as_str(), sale.meaning.as_deref()),
            ("1", Some("opted out"))
        );
        let notice = field(&usnat.fields, "SaleOptOutNotice");
        assert_eq!(notice.meaning.as_deref(), Some("provided"));
        let sensitive = field(&usnat.fields, "SensitiveDataProcessing");
        assert!(sensitive.value.starts_with("1: 2, 2: 2,"), "{sensitive:?}");
        assert!(sensitive.value.ends_with("16: 2"), "{sensitive:?}");
        let child = field(&usnat.fields, "KnownChildSensitiveDataConsents");
        assert_eq!(child.value, "1: 1, 2: 1, 3: 1");
        assert_eq!(
            child.meaning.as_deref(),
            Some("0 not applicable, 1 no consent, 2 consent")
        );
        assert_eq!(
            field(&usnat.fields, "MspaCoveredTransaction")
                .meaning
                .as_deref(),
            Some("no")
        );
        // The GPC sub-section is its own table, not in the core fields.
        assert!(usnat.fields.iter().all(|f| !f.name.starts_with("Gpc")));
        let sub = usnat.sub.as_ref().unwrap();
        assert!(sub.gpc && sub.included);
        assert_eq!(sub.flag, "GpcSegmentIncluded");
        assert_eq!(sub.fields[0].name, "GpcSegmentIncluded");
        assert_eq!(sub.fields[0].value, "yes");
        assert_eq!(field(&sub.fields, "Gpc").value, "yes");
        assert_eq!(field(&sub.fields, "GpcSegmentType").value, "1");
        assert!(usnat.tc_string.is_none());
    }

    #[test]
    fn findings_follow_the_gpc_signal() {
        assert!(inspect_gpp(USNAT_USCA, None).unwrap().findings.is_empty());
        assert!(inspect_gpp(USNAT_USCA, Some(true))
            .unwrap()
            .findings
            .is_empty());
        let off = inspect_gpp(USNAT_USCA, Some(false)).unwrap();
        let codes: Vec<(&str, Option<&str>)> =
            off.findings.iter().map(|f| (f.code, f.section)).collect();
        assert_eq!(
            codes,
            [
                ("gpc_disagrees", Some("usnat")),
                ("gpc_disagrees", Some("usca"))
            ]
        );
        assert_eq!(off.counts(), (2, 0));
        // A notice of "not provided" with "did not opt out"; no GPC sub-section in usca.
        let bad = inspect_gpp("DBABrw~CYAgAAAAAABA.QA~BQQAAABA", Some(true)).unwrap();
        let codes: Vec<&str> = bad.findings.iter().map(|f| f.code).collect();
        assert!(
            codes.contains(&"notice_not_given_but_opted_in"),
            "{codes:?}"
        );
        assert!(codes.contains(&"gpc_missing"), "{codes:?}");
        let usca = &bad.sections[1];
        assert!(!usca.sub.as_ref().unwrap().included);
    }

    #[test]
    fn in_app_keys_are_listed() {
        let view = inspect_gpp(USNAT_USCA, None).unwrap();
        let keys: std::collections::BTreeMap<_, _> = view.in_app.iter().cloned().collect();
        assert_eq!(keys["IABGPP_HDR_Version"], "1");
        assert_eq!(keys["IABGPP_HDR_Sections"], "7_8");
        assert_eq!(keys["IABGPP_GppSID"], "7_8");
        assert_eq!(keys["IABGPP_HDR_GppString"], USNAT_USCA);
        assert_eq!(keys["IABGPP_7_String"], "CVVVqqqqqlSA.YA");
    }

    #[test]
    fn a_tcfeuv2_section_carries_its_tc_string_and_readable_lists() {
        let input = format!("DBACMMA~{TC}~CEAQAAAAAABA.QA");
        let view = inspect_gpp(&input, None).unwrap();
        let tcf = &view.sections[0];
        assert_eq!((tcf.id, tcf.name), (2, "tcfeuv2"));
        assert_eq!(tcf.tc_string.as_deref(), Some(TC));
        assert_eq!(field(&tcf.fields, "CmpId").value, "300");
        assert_eq!(field(&tcf.fields, "PurposeConsents").value, "1-4, 7");
        assert_eq!(field(&tcf.fields, "VendorConsents").value, "2, 755");
        assert_eq!(field(&tcf.fields, "IsServiceSpecific").value, "no");
        assert_eq!(
            field(&tcf.fields, "PublisherRestrictions").value,
            "purpose 2, require consent: vendors 2"
        );
        assert_eq!(
            field(&tcf.fields, "PurposeConsents").meaning.as_deref(),
            Some("ids set, of 1 to 24")
        );
        assert!(tcf.sub.is_none());
        assert_eq!(view.sections[1].name, "usnat");
    }

    #[test]
    fn uspv1_flags_are_explained() {
        let view = inspect_gpp("DBABTA~1YNN", None).unwrap();
        let usp = &view.sections[0];
        assert_eq!(usp.title, "US Privacy (CCPA) v1");
        let notice = field(&usp.fields, "Notice");
        assert_eq!(
            (notice.value.as_str(), notice.meaning.as_deref()),
            ("Y", Some("yes"))
        );
    }

    #[test]
    fn bad_gpp_strings_get_the_message_and_code() {
        let err = |s: &str| inspect_gpp(s, None).unwrap_err().0;
        assert_eq!(
            err("DBABMA"),
            "This GPP string cannot be decoded: the header lists 1 section ids but the string has 0 sections (section_count_mismatch)."
        );
        assert!(
            err("DCABMA~x").contains("(not_gpp_string)"),
            "{}",
            err("DCABMA~x")
        );
        assert!(err("DBABrw~CVVVqqqqqlSA.YA~").contains("(empty_section)"));
        assert!(err("DBABLA~BV!").contains("(invalid_character)"));
        assert!(
            err("DBABLA~B").contains("(truncated)"),
            "{}",
            err("DBABLA~B")
        );
    }

    #[test]
    fn ranges_join_runs() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        assert_eq!(ranges(&[755]), "755");
    }
}
