//! The regional rules in the configuration editor, and the preview of what
//! a visitor from one region gets.
//!
//! The form is plain HTML: every rule is a group of fields named
//! `rg.{i}.*`, a blank "new rule" row is `rg.new.*`, and the buttons that
//! add, move and remove rules (and preview a region) are submit buttons of
//! the editor's own form named [`ACTION`], so they work without JavaScript.
//!
//! Invariants:
//! - the form is read into typed [`RegionRule`]s, in the order posted, and
//!   written back whole; a value the form could not have offered becomes a
//!   finding at the rule's field, never a guess that gets saved;
//! - only [`Action::Save`] saves; the other actions answer the editor again
//!   with the changed, unsaved rules;
//! - a save is refused, with nothing written, while the rules have an error
//!   ([`SiteConfig::region_findings`] or the form's own); warnings never
//!   block;
//! - a form without the rules section (`rg.shown`) leaves the draft's rules
//!   as they are.

use super::editor::{field_id, findings};
use maud::{html, Markup};
use nexaguard_consent::config::{ConfigProblem, ConsentModeType, ConsentState, SiteConfig};
use nexaguard_consent::region::Region;
use nexaguard_consent::regions::{
    notice_version, Experience, GppSections, RegionRule, ResolvedExperience, Severity,
    UsExperience, GPP_TCFEUV2, GPP_USNAT, US_STATE_LAWS,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The name of the submit buttons that say what a post of the editor asks.
pub const ACTION: &str = "rgAction";

/// The form field naming the region to preview.
pub const PREVIEW_FIELD: &str = "previewRegion";

/// Marks a form that shows the rules, so that a form without them (an old
/// page) does not wipe them.
const SHOWN: &str = "rg.shown";

/// The prefix of the blank row that adds a rule.
const NEW: &str = "rg.new";

/// The experiences the form offers, by `kind` and label.
const KINDS: [(&str, &str); 5] = [
    ("tcf", "tcf: the GDPR banner with the TCF"),
    ("us", "us: US notice, \"Do not sell or share\""),
    ("opt_in", "opt_in: opt-in categories, no TCF"),
    ("notice_only", "notice_only: a notice that asks nothing"),
    ("none", "none: nothing shown"),
];

/// What a post of the editor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Save the draft (the default button, and Enter in a field).
    Save,
    /// Add the new row as a rule, even with nothing in it yet.
    Add,
    /// Move rule `i` one place up.
    Up(usize),
    /// Move rule `i` one place down.
    Down(usize),
    /// Remove rule `i`.
    Remove(usize),
    /// Show what a visitor from the preview region gets.
    Preview,
}

impl Action {
    /// The action a post names; anything else (no button, or one this
    /// console does not offer) saves, as the form's default button does.
    pub fn of(value: Option<&str>) -> Action {
        let Some(value) = value else {
            return Action::Save;
        };
        let indexed = |prefix: &str| {
            value
                .strip_prefix(prefix)
                .and_then(|i| i.parse::<usize>().ok())
        };
        if let Some(i) = indexed("up.") {
            Action::Up(i)
        } else if let Some(i) = indexed("down.") {
            Action::Down(i)
        } else if let Some(i) = indexed("remove.") {
            Action::Remove(i)
        } else {
            match value {
                "add" => Action::Add,
                "preview" => Action::Preview,
                _ => Action::Save,
            }
        }
    }

    /// What the page says after the action, which did not save.
    pub fn note(self) -> &'static str {
        match self {
            Action::Save => "",
            Action::Add => "Rule added.",
            Action::Up(_) | Action::Down(_) => "Rule moved.",
            Action::Remove(_) => "Rule removed.",
            Action::Preview => "Preview updated with the rules as they are in the form.",
        }
    }
}

/// One rule read from the form, with the form's own findings about it
/// (path after `regions[i]`, message), which move with it.
struct Row {
    rule: RegionRule,
    problems: Vec<(String, String)>,
}

fn read_row<'a>(get: &impl Fn(&str) -> Option<&'a str>, prefix: &str) -> Option<Row> {
    let field = |name: &str| get(&format!("{prefix}.{name}"));
    let kind = field("kind")?;
    let mut problems = Vec::new();
    let experience = match kind {
        "tcf" => Experience::Tcf,
        "us" => {
            let gpp_sections = match field("gpp") {
                Some("state") => GppSections::State,
                Some("usnat") | None => GppSections::Usnat,
                Some(other) => {
                    problems.push((
                        ".experience.gppSections".to_owned(),
                        format!("{other:?} is not a choice of GPP sections: state or usnat"),
                    ));
                    GppSections::Usnat
                }
            };
            Experience::Us(UsExperience {
                gpp_sections,
                honour_gpc: field("gpc").is_some(),
            })
        }
        "opt_in" => Experience::OptIn,
        "notice_only" => Experience::NoticeOnly,
        "none" => Experience::None,
        other => {
            problems.push((
                ".experience".to_owned(),
                format!(
                    "{other:?} is not an experience: choose tcf, us, opt_in, notice_only or none"
                ),
            ));
            Experience::None
        }
    };
    let mut consent_mode_defaults = BTreeMap::new();
    for t in ConsentModeType::ALL {
        let name = t.as_str();
        match field(&format!("cm.{name}")).unwrap_or_default() {
            "" => {}
            "granted" => {
                consent_mode_defaults.insert(t, ConsentState::Granted);
            }
            "denied" => {
                consent_mode_defaults.insert(t, ConsentState::Denied);
            }
            other => problems.push((
                format!(".consentModeDefaults.{name}"),
                format!("{other:?} is not a Consent Mode state: granted, denied, or the experience's default"),
            )),
        }
    }
    Some(Row {
        rule: RegionRule {
            matches: entries(field("match").unwrap_or_default()),
            match_unknown_subdivision: field("unknownSub").is_some(),
            experience,
            consent_mode_defaults,
        },
        problems,
    })
}

/// The `match` entries typed in one field: separated by commas or spaces,
/// kept as typed (the findings say how a code is written).
fn entries(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads the rules from the form, does `action` to them and writes them
/// into the configuration; returns the form's own findings, by path.
pub fn apply<'a>(
    map: &mut Map<String, Value>,
    get: &impl Fn(&str) -> Option<&'a str>,
    action: Action,
) -> Vec<ConfigProblem> {
    if get(SHOWN).is_none() {
        return Vec::new();
    }
    let mut rows: Vec<Row> = Vec::new();
    for i in 0.. {
        let Some(row) = read_row(get, &format!("rg.{i}")) else {
            break;
        };
        rows.push(row);
    }
    if let Some(new) = read_row(get, NEW) {
        // Like the editor's other lists, a filled last row adds itself;
        // "Add the rule" adds it even blank, to be filled in next.
        if action == Action::Add || !new.rule.matches.is_empty() {
            rows.push(new);
        }
    }
    // Indexes out of range (a stale or forged form) change nothing.
    match action {
        Action::Up(i) if i > 0 && i < rows.len() => rows.swap(i - 1, i),
        Action::Down(i) if i + 1 < rows.len() => rows.swap(i, i + 1),
        Action::Remove(i) if i < rows.len() => {
            rows.remove(i);
        }
        _ => {}
    }
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (suffix, message) in &row.problems {
            problems.push(ConfigProblem {
                path: format!("regions[{i}]{suffix}"),
                message: message.clone(),
            });
        }
    }
    let rules: Vec<RegionRule> = rows.into_iter().map(|r| r.rule).collect();
    if rules.is_empty() {
        // No rules is today's behaviour, and the field is not written.
        map.remove("regions");
    } else {
        match serde_json::to_value(&rules) {
            Ok(value) => {
                map.insert("regions".into(), value);
            }
            Err(e) => problems.push(ConfigProblem {
                path: "regions".into(),
                message: e.to_string(),
            }),
        }
    }
    problems
}

fn field_of<T: DeserializeOwned>(config: &Value, key: &str) -> Option<T> {
    config.get(key).and_then(|v| T::deserialize(v).ok())
}

/// The configuration as far as the rules' checks need it: the draft
/// itself when it reads as one, else the parts the checks look at (the
/// regulation, TCF settings, custom purposes, Consent Mode) that read, on
/// an empty site, so that a typo elsewhere does not hide the rules'
/// errors. `None` when the rules themselves do not read.
fn checked_config(config: &Value) -> Option<SiteConfig> {
    if let Ok(config) = SiteConfig::deserialize(config) {
        return Some(config);
    }
    let regions = match config.get("regions") {
        None => Vec::new(),
        Some(value) => Vec::<RegionRule>::deserialize(value).ok()?,
    };
    let mut base = SiteConfig::deserialize(&json!({
        "regulation": "tcf", "publisherCountry": "", "defaultLanguage": "en", "languages": {}
    }))
    .ok()?;
    if let Some(v) = field_of(config, "regulation") {
        base.regulation = v;
    }
    if let Some(v) = field_of(config, "cmpId") {
        base.cmp_id = v;
    }
    if let Some(v) = field_of(config, "vendors") {
        base.vendors = v;
    }
    if let Some(v) = field_of(config, "purposes") {
        base.purposes = v;
    }
    if let Some(v) = field_of(config, "customPurposes") {
        base.custom_purposes = v;
    }
    if let Some(v) = field_of(config, "consentMode") {
        base.consent_mode = v;
    }
    base.regions = regions;
    Some(base)
}

/// The rules' findings on `config`: errors, which refuse a save, and
/// warnings, which do not.
pub fn findings_of(config: &Value) -> (Vec<ConfigProblem>, Vec<ConfigProblem>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    if let Some(site) = checked_config(config) {
        for finding in site.region_findings() {
            let problem = ConfigProblem {
                path: finding.path,
                message: finding.message,
            };
            match finding.severity {
                Severity::Error => errors.push(problem),
                Severity::Warning => warnings.push(problem),
            }
        }
    }
    (errors, warnings)
}

// ---------------------------------------------------------------------------
// Preview
// ---------------------------------------------------------------------------

/// What a visitor from one region gets with a configuration.
pub struct RegionPreview {
    /// The region asked for; `None`: unknown.
    pub region: Option<Region>,
    /// `experience_for` of it.
    pub resolved: ResolvedExperience,
    /// The matching rule's `match` list, if a rule matched.
    pub rule_match: Option<Vec<String>>,
    /// The site's regulation, which applies when no rule matched.
    pub regulation: &'static str,
    /// The notice version of the experience.
    pub notice_version: String,
}

/// The preview the page shows, if one was asked for.
pub enum Preview {
    /// No region asked for.
    None,
    /// The region code does not read; the message says why.
    BadRegion(String, String),
    /// The configuration does not read as one yet.
    Unreadable(String),
    /// The answer.
    Shown(RegionPreview),
}

/// The region a preview field names: a code (`US-CA`, `fr`), or `unknown`.
pub fn parse_region(text: &str) -> Result<Option<Region>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("unknown") {
        return Ok(None);
    }
    text.parse::<Region>().map(Some).map_err(|_| {
        format!(
            "{text:?} is not a region code: give a country (FR), a subdivision (US-CA) or unknown"
        )
    })
}

/// What a visitor from `region` gets with `config`.
pub fn resolve(config: &SiteConfig, region: Option<Region>) -> RegionPreview {
    let resolved = config.experience_for(region.as_ref());
    let rule_match = resolved
        .rule
        .and_then(|i| config.regions.get(i))
        .map(|r| r.matches.clone());
    let notice_version = notice_version(config, &resolved);
    RegionPreview {
        region,
        rule_match,
        regulation: Experience::of_regulation(config.regulation).kind(),
        notice_version,
        resolved,
    }
}

/// The preview of `text` (the preview field, if filled) on the draft
/// `config`.
pub fn preview_of(config: &Value, text: Option<&str>) -> Preview {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Preview::None;
    };
    let region = match parse_region(text) {
        Ok(region) => region,
        Err(message) => return Preview::BadRegion(text.to_owned(), message),
    };
    match SiteConfig::deserialize(config) {
        Ok(site) => Preview::Shown(resolve(&site, region)),
        Err(e) => Preview::Unreadable(e.to_string()),
    }
}

impl Preview {
    /// The region text to keep in the preview field and in links.
    pub fn region_text(&self) -> Option<String> {
        match self {
            Preview::None | Preview::Unreadable(_) => None,
            Preview::BadRegion(text, _) => Some(text.clone()),
            Preview::Shown(p) => Some(region_code(p.region.as_ref())),
        }
    }
}

/// `US-CA`, or `unknown`.
pub fn region_code(region: Option<&Region>) -> String {
    region.map_or_else(|| "unknown".to_owned(), Region::to_string)
}

/// An experience and its settings, in words.
pub fn describe(experience: &Experience) -> String {
    match experience {
        Experience::Tcf => "tcf: the GDPR banner with the TCF".to_owned(),
        Experience::Us(us) => format!(
            "us: a notice with \"Do not sell or share\"; GPP sections: {}; Global Privacy Control {}",
            match us.gpp_sections {
                GppSections::State => "the state's section, else usnat",
                GppSections::Usnat => "usnat",
            },
            if us.honour_gpc {
                "honoured"
            } else {
                "not honoured"
            }
        ),
        Experience::OptIn => "opt_in: the site's custom purposes as opt-in categories".to_owned(),
        Experience::NoticeOnly => "notice_only: a notice that asks nothing".to_owned(),
        Experience::None => "none: nothing is shown".to_owned(),
    }
}

/// A GPP section id with its API prefix (`8 (usca)`).
fn gpp_name(id: u8) -> String {
    let name = match id {
        GPP_TCFEUV2 => Some("tcfeuv2"),
        GPP_USNAT => Some("usnat"),
        _ => US_STATE_LAWS
            .iter()
            .find(|l| l.gpp_section == id)
            .map(|l| l.gpp_name),
    };
    match name {
        Some(name) => format!("{id} ({name})"),
        None => id.to_string(),
    }
}

/// The preview's table: the matching rule, the experience, `gdprApplies`,
/// the GPP sections, the Consent Mode defaults and the notice version.
pub fn table(preview: &RegionPreview) -> Markup {
    let r = &preview.resolved;
    let gpp = if r.gpp_section_ids.is_empty() {
        "none".to_owned()
    } else {
        r.gpp_section_ids
            .iter()
            .map(|id| gpp_name(*id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    html! {
        div.table-scroll {
            table #region-preview-table {
                caption { "A visitor from " code { (region_code(preview.region.as_ref())) } }
                tbody {
                    tr { th scope="row" { "Matching rule" }
                        td #preview-rule {
                            @match (r.rule, &preview.rule_match) {
                                (Some(i), Some(m)) => { "Rule " (i + 1) ": " code { (m.join(", ")) } }
                                _ => { "No rule matches: the site's regulation (" code { (preview.regulation) } ") applies" }
                            }
                        }
                    }
                    tr { th scope="row" { "Experience" } td #preview-experience { (describe(&r.experience)) } }
                    tr { th scope="row" { code { "gdprApplies" } } td #preview-gdpr { (r.gdpr_applies) } }
                    tr { th scope="row" { "GPP sections" } td #preview-gpp { (gpp) } }
                    tr { th scope="row" { "Consent Mode defaults" }
                        td #preview-consent-mode {
                            ul.plain {
                                @for (t, state) in &r.consent_mode_default {
                                    li { code { (t.as_str()) } ": " (match state { ConsentState::Granted => "granted", ConsentState::Denied => "denied" }) }
                                }
                            }
                        }
                    }
                    tr { th scope="row" { "Notice version" } td { code #preview-notice { (preview.notice_version) } } }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The editor's section
// ---------------------------------------------------------------------------

/// What the rules section shows besides the configuration.
pub struct Section<'a> {
    /// The configuration in the form (the draft, or the post not saved).
    pub config: &'a Value,
    /// Errors by path.
    pub problems: &'a [ConfigProblem],
    /// Warnings by path.
    pub warnings: &'a [ConfigProblem],
    /// The preview asked for.
    pub preview: &'a Preview,
    /// The site's console path, for the link to the banner preview.
    pub site_path: &'a str,
}

/// The id of the element a finding at `path` links to from the list at
/// the top: the field itself, or for the rules, the field or rule that
/// shows it (an entry of `match` has no element of its own).
pub fn anchor(path: &str) -> String {
    let shown = path
        .strip_prefix("regions[")
        .and_then(|rest| rest.find(']'))
        .map(|end| {
            let rule = &path[..end + "regions[".len() + 1];
            let after = &path[rule.len()..];
            if after.starts_with(".match") {
                format!("{rule}.match")
            } else if after.starts_with(".experience") {
                format!("{rule}.experience")
            } else {
                rule.to_owned()
            }
        });
    field_id(shown.as_deref().unwrap_or(path))
}

fn concerns(p: &ConfigProblem, path: &str) -> bool {
    p.path == path
        || p.path.starts_with(&format!("{path}."))
        || p.path.starts_with(&format!("{path}["))
}

/// The warnings about the field at `path` (or inside it).
pub fn warnings_at(warnings: &[ConfigProblem], path: &str) -> Markup {
    let mine: Vec<&ConfigProblem> = warnings.iter().filter(|p| concerns(p, path)).collect();
    html! {
        @if !mine.is_empty() {
            p.field-warning id=(format!("{}-warning", field_id(path))) {
                "Warning: " @for p in &mine { (p.message) " " }
            }
        }
    }
}

/// `aria-describedby` of the field at `path`: its errors and warnings.
fn described(section: &Section<'_>, path: &str, exact: bool) -> Option<String> {
    let hits = |list: &[ConfigProblem]| {
        list.iter().any(|p| {
            if exact {
                p.path == path
            } else {
                concerns(p, path)
            }
        })
    };
    let id = field_id(path);
    let ids: Vec<String> = [
        hits(section.problems).then(|| format!("{id}-error")),
        hits(section.warnings).then(|| format!("{id}-warning")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// Findings about the rule as a whole (`regions[i]` exactly: unreachable,
/// after `everywhere`), shown under its legend.
fn rule_findings(section: &Section<'_>, path: &str) -> Markup {
    let errors: Vec<&ConfigProblem> = section.problems.iter().filter(|p| p.path == path).collect();
    let warnings: Vec<&ConfigProblem> =
        section.warnings.iter().filter(|p| p.path == path).collect();
    let id = field_id(path);
    html! {
        @if !errors.is_empty() {
            p.field-error id=(format!("{id}-error")) { @for p in &errors { (p.message) " " } }
        }
        @if !warnings.is_empty() {
            p.field-warning id=(format!("{id}-warning")) { "Warning: " @for p in &warnings { (p.message) " " } }
        }
    }
}

fn rules_of(config: &Value) -> Vec<Value> {
    config
        .get("regions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The editor's fieldset of regional rules, with the region preview.
pub fn section(section: &Section<'_>) -> Markup {
    let rules = rules_of(section.config);
    let count = rules.len();
    html! {
        fieldset #f-regions aria-describedby=[described(section, "regions", true)] {
            legend { "Regional rules" }
            p.hint { "Which experience visitors get, by where they are. Rules are tried in order; the first that matches applies, and visitors no rule matches get the regulation chosen above. Match: group names ("
                code { "eea_uk_ch" } ", " code { "us_comprehensive" } ", " code { "ca_qc" } ", " code { "br" } ", " code { "everywhere" }
                ") and region codes (" code { "FR" } ", " code { "US" } ", " code { "US-CA" } "), separated by commas." }
            (rule_findings(section, "regions"))
            input type="hidden" name=(SHOWN) value="1";
            @if rules.is_empty() { p #no-rules { "No rules yet: every visitor gets the regulation above." } }
            @for (i, rule) in rules.iter().enumerate() {
                (rule_fields(section, Some(i), count, rule))
            }
            (rule_fields(section, None, count, &json!({})))
            (preview_fields(section))
        }
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The fields of rule `index`, or of the new row (`None`).
fn rule_fields(section: &Section<'_>, index: Option<usize>, count: usize, rule: &Value) -> Markup {
    let (prefix, path, title) = match index {
        Some(i) => (
            format!("rg.{i}"),
            format!("regions[{i}]"),
            format!("Rule {}", i + 1),
        ),
        None => (
            NEW.to_owned(),
            "regions-new".to_owned(),
            "New rule".to_owned(),
        ),
    };
    let matches = rule
        .get("match")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let unknown_sub = rule
        .get("matchUnknownSubdivision")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let kind = match text(rule, "/experience/kind") {
        "" => "tcf",
        k => k,
    };
    let state = text(rule, "/experience/gppSections") == "state";
    let gpc = rule
        .pointer("/experience/honourGpc")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let overrides = rule
        .get("consentModeDefaults")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let match_path = format!("{path}.match");
    let experience_path = format!("{path}.experience");
    let cm_path = format!("{path}.consentModeDefaults");
    let cm_open = !overrides.is_empty() || section.problems.iter().any(|p| concerns(p, &cm_path));
    html! {
        fieldset.rule id=(field_id(&path)) aria-describedby=[described(section, &path, true)] {
            legend { (title) }
            @if index.is_some() { (rule_findings(section, &path)) }
            @if index.is_none() { p.hint { "Fill in the regions to add a rule with the next save, or add it now to keep editing." } }
            div.row {
                div {
                    label for=(field_id(&match_path)) { (title) ": regions" }
                    input id=(field_id(&match_path)) name=(format!("{prefix}.match")) value=(matches) placeholder="eea_uk_ch, US-CA, JP" aria-describedby=[described(section, &match_path, false)];
                    (findings(section.problems, &match_path))
                    (warnings_at(section.warnings, &match_path))
                }
                div {
                    label for=(field_id(&experience_path)) { (title) ": experience" }
                    select.kind id=(field_id(&experience_path)) name=(format!("{prefix}.kind")) aria-describedby=[described(section, &experience_path, false)] {
                        @for (value, label) in KINDS { option value=(value) selected[kind == value] { (label) } }
                    }
                    (findings(section.problems, &experience_path))
                }
            }
            div.check { label { input type="checkbox" name=(format!("{prefix}.unknownSub")) checked[unknown_sub]; (title) ": also match visitors whose subdivision is unknown (only their country is known)" } }
            div.us-only {
                div.row {
                    div {
                        label for=(format!("{}-gpp", field_id(&path))) { (title) ": GPP sections (us only)" }
                        select id=(format!("{}-gpp", field_id(&path))) name=(format!("{prefix}.gpp")) {
                            option value="state" selected[state] { "state: the state's section, else usnat" }
                            option value="usnat" selected[!state] { "usnat: the national section everywhere" }
                        }
                    }
                }
                div.check { label { input type="checkbox" name=(format!("{prefix}.gpc")) checked[gpc]; (title) ": honour Global Privacy Control (us only)" } }
            }
            details.cm-overrides open[cm_open] {
                summary { (title) ": Consent Mode defaults (optional)" }
                p.hint { "Override the experience's default state of a type before any choice." }
                (findings(section.problems, &cm_path))
                div.row {
                    @for t in ConsentModeType::ALL {
                        @let name = t.as_str();
                        @let current = overrides.get(name).and_then(Value::as_str).unwrap_or("");
                        @let id = format!("{}-cm-{name}", field_id(&path));
                        div {
                            label for=(id) { (title) ": " code { (name) } }
                            select id=(id) name=(format!("{prefix}.cm.{name}")) {
                                option value="" selected[current.is_empty()] { "the experience's default" }
                                option value="granted" selected[current == "granted"] { "granted" }
                                option value="denied" selected[current == "denied"] { "denied" }
                            }
                        }
                    }
                }
            }
            div.rule-actions {
                @match index {
                    Some(i) => {
                        @if i > 0 { button.secondary type="submit" name=(ACTION) value=(format!("up.{i}")) { "Move rule " (i + 1) " up" } }
                        @if i + 1 < count { button.secondary type="submit" name=(ACTION) value=(format!("down.{i}")) { "Move rule " (i + 1) " down" } }
                        button.secondary type="submit" name=(ACTION) value=(format!("remove.{i}")) { "Remove rule " (i + 1) }
                    }
                    None => { button.secondary type="submit" name=(ACTION) value="add" { "Add the rule" } }
                }
            }
        }
    }
}

fn preview_fields(section: &Section<'_>) -> Markup {
    let value = section.preview.region_text().unwrap_or_default();
    let bad = matches!(section.preview, Preview::BadRegion(..));
    html! {
        div #region-preview aria-live="polite" {
            h3 { "Preview per region" }
            div.row {
                div {
                    label for="f-previewRegion" { "Preview as visitor from (region code)" }
                    input #f-previewRegion name=(PREVIEW_FIELD) value=(value) placeholder="US-CA, FR, JP or unknown" aria-describedby=[bad.then_some("f-previewRegion-error")];
                    @if let Preview::BadRegion(_, message) = section.preview {
                        p.field-error #f-previewRegion-error { (message) }
                    }
                }
                div { button.secondary #preview-region type="submit" name=(ACTION) value="preview" { "Preview region" } }
            }
            p.hint { "Uses the rules as they are in this form, saved or not." }
            @match section.preview {
                Preview::Shown(preview) => {
                    (table(preview))
                    p { a href=(format!("{}/preview?region={}", section.site_path, region_code(preview.region.as_ref()))) { "The banner preview for this region" } " (of the saved draft)" }
                }
                Preview::Unreadable(message) => { p.error { "The draft cannot be previewed until it reads as a configuration: " (message) } }
                Preview::None | Preview::BadRegion(..) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn run(pairs: &[(&str, &str)], config: &mut Value) -> Vec<ConfigProblem> {
        let fields: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let action = Action::of(get(ACTION));
        let map = config.as_object_mut().unwrap();
        apply(map, &get, action)
    }

    #[test]
    fn the_form_becomes_typed_rules_in_order_and_a_filled_new_row_is_added() {
        let mut config = json!({});
        let problems = run(
            &[
                (SHOWN, "1"),
                ("rg.0.match", "US-CA,  us_comprehensive"),
                ("rg.0.kind", "us"),
                ("rg.0.gpp", "state"),
                ("rg.0.cm.analytics_storage", "denied"),
                ("rg.new.match", "everywhere"),
                ("rg.new.kind", "notice_only"),
                ("rg.new.gpc", "on"),
            ],
            &mut config,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            config["regions"],
            json!([
                {"match": ["US-CA", "us_comprehensive"],
                 "experience": {"kind": "us", "gppSections": "state", "honourGpc": false},
                 "consentModeDefaults": {"analytics_storage": "denied"}},
                {"match": ["everywhere"], "experience": {"kind": "notice_only"}},
            ])
        );
    }

    #[test]
    fn moving_and_removing_keep_each_rule_whole_and_ignore_indexes_out_of_range() {
        fn form(action: &str) -> Vec<(&str, &str)> {
            vec![
                (SHOWN, "1"),
                ("rg.0.match", "FR"),
                ("rg.0.kind", "tcf"),
                ("rg.1.match", "JP"),
                ("rg.1.kind", "none"),
                ("rg.new.match", ""),
                ("rg.new.kind", "tcf"),
                (ACTION, action),
            ]
        }
        let matches = |config: &Value| -> Vec<String> {
            config["regions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["match"][0].as_str().unwrap_or("").to_owned())
                .collect()
        };
        for (action, expected) in [
            ("up.1", vec!["JP", "FR"]),
            ("down.0", vec!["JP", "FR"]),
            ("up.0", vec!["FR", "JP"]),
            ("down.1", vec!["FR", "JP"]),
            ("remove.0", vec!["JP"]),
            ("remove.9", vec!["FR", "JP"]),
            ("add", vec!["FR", "JP", ""]),
        ] {
            let mut config = json!({});
            run(&form(action), &mut config);
            assert_eq!(matches(&config), expected, "{action}");
            assert_eq!(
                config["regions"][expected.iter().position(|m| *m == "JP").unwrap()]["experience"]
                    ["kind"],
                "none",
                "{action}"
            );
        }
    }

    #[test]
    fn a_value_the_form_does_not_offer_is_a_finding_at_its_rule_after_the_move() {
        let mut config = json!({});
        let problems = run(
            &[
                (SHOWN, "1"),
                ("rg.0.match", "FR"),
                ("rg.0.kind", "tcf"),
                ("rg.1.match", "JP"),
                ("rg.1.kind", "bogus"),
                ("rg.1.cm.ad_storage", "maybe"),
                (ACTION, "up.1"),
            ],
            &mut config,
        );
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "regions[0].experience",
                "regions[0].consentModeDefaults.ad_storage"
            ]
        );
    }

    #[test]
    fn no_rules_in_the_form_removes_the_field_and_a_form_without_the_section_keeps_it() {
        let mut config = json!({"regions": [{"match": ["FR"], "experience": {"kind": "tcf"}}]});
        run(&[("rg.new.match", ""), ("rg.new.kind", "tcf")], &mut config);
        assert!(config.get("regions").is_some(), "no section, no change");
        run(&[(SHOWN, "1")], &mut config);
        assert!(config.get("regions").is_none());
    }

    #[test]
    fn the_rules_are_checked_even_when_another_field_does_not_read() {
        let config = json!({
            "regulation": "tcf", "cmpId": "abc",
            "regions": [
                {"match": ["everywhere"], "experience": {"kind": "none"}},
                {"match": ["JP"], "experience": {"kind": "none"}},
            ]
        });
        let (errors, _) = findings_of(&config);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "regions[1]");
    }

    #[test]
    fn preview_regions_read_codes_in_either_case_and_unknown() {
        assert_eq!(parse_region("us-ca").unwrap().unwrap().to_string(), "US-CA");
        assert_eq!(parse_region(" Unknown ").unwrap(), None);
        assert!(parse_region("FRA")
            .unwrap_err()
            .contains("not a region code"));
        assert_eq!(Action::of(Some("down.3")), Action::Down(3));
        assert_eq!(Action::of(Some("up.x")), Action::Save);
        assert_eq!(Action::of(None), Action::Save);
    }

    #[test]
    fn findings_link_to_the_field_or_rule_that_shows_them() {
        assert_eq!(anchor("regions[2].match[1]"), "f-regions-2--match");
        assert_eq!(
            anchor("regions[0].experience.gppSections"),
            "f-regions-0--experience"
        );
        assert_eq!(
            anchor("regions[3].consentModeDefaults.ad_storage"),
            "f-regions-3"
        );
        assert_eq!(anchor("regions[1]"), "f-regions-1");
        assert_eq!(anchor("vendors[3]"), field_id("vendors[3]"));
    }
}
