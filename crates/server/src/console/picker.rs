//! The vendor picker of the editor: the Global Vendor List searched by name
//! or id and filtered by purpose, special feature and legal basis, with GET
//! parameters so that it works without JavaScript (console.js swaps the
//! results in place, keeping unsaved edits).

use super::editor::findings;
use maud::{html, Markup};
use nexaguard_consent::config::ConfigProblem;
use nexaguard_tcf::gvl::{Gvl, Vendor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// Most search results shown at once.
const MAX_RESULTS: usize = 50;

/// The picker's GET parameters (and the editor's `saved` notice and
/// previewed region).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    /// Name or id.
    #[serde(default)]
    pub vq: Option<String>,
    /// IAB purpose id.
    #[serde(default)]
    pub vpurpose: Option<String>,
    /// Special feature id.
    #[serde(default)]
    pub vfeature: Option<String>,
    /// `consent`, `legint` or `flexible`.
    #[serde(default)]
    pub vbasis: Option<String>,
    /// The revision just saved.
    #[serde(default)]
    pub saved: Option<String>,
    /// The region the rules' preview shows (`US-CA`, `unknown`).
    #[serde(default)]
    pub region: Option<String>,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Filters {
    fn any(&self) -> bool {
        set(&self.vq).is_some()
            || set(&self.vpurpose).is_some()
            || set(&self.vfeature).is_some()
            || set(&self.vbasis).is_some()
    }

    fn matches(&self, vendor: &Vendor) -> bool {
        if vendor.deleted_date.is_some() {
            return false;
        }
        if let Some(q) = set(&self.vq) {
            let by_id = q.parse::<u32>().is_ok_and(|id| id == vendor.id);
            if !by_id && !vendor.name.to_lowercase().contains(&q.to_lowercase()) {
                return false;
            }
        }
        let purpose = set(&self.vpurpose).and_then(|p| p.parse::<u32>().ok());
        let lists: Vec<&Vec<u32>> = match set(&self.vbasis) {
            Some("consent") => vec![&vendor.purposes],
            Some("legint") => vec![&vendor.leg_int_purposes],
            Some("flexible") => vec![&vendor.flexible_purposes],
            _ => vec![&vendor.purposes, &vendor.leg_int_purposes],
        };
        let basis_ok = match purpose {
            Some(p) => lists.iter().any(|l| l.contains(&p)),
            None => lists.iter().any(|l| !l.is_empty()),
        };
        if !basis_ok {
            return false;
        }
        match set(&self.vfeature).and_then(|f| f.parse::<u32>().ok()) {
            Some(f) => vendor.special_features.contains(&f),
            None => true,
        }
    }
}

/// The (empty) GET form the picker's fields belong to, outside the
/// editor's form: HTML forms do not nest, the `form` attribute links them.
pub fn search_form(path: &str, _filters: &Filters) -> Markup {
    html! { form #picker method="get" action=(format!("{path}/edit")) role="search" aria-label="Vendor search" {} }
}

fn selected(config: &Value) -> BTreeSet<u32> {
    config
        .get("vendors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter_map(|v| u32::try_from(v).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The vendors fieldset: the chosen vendors, the search fields and the
/// results, each a checkbox of the editor's form.
pub fn vendors(config: &Value, gvl: &Gvl, filters: &Filters, problems: &[ConfigProblem]) -> Markup {
    let chosen = selected(config);
    html! {
        fieldset #f-vendors {
            legend { "IAB vendors" }
            (findings(problems, "vendors"))
            h3 #chosen-vendors { "Chosen (" (chosen.len()) ")" }
            @if chosen.is_empty() { p { "None yet: search below and tick the vendors to add." } }
            ul.checks aria-labelledby="chosen-vendors" {
                @for id in &chosen {
                    li.check { label { input type="checkbox" name="vendor" value=(id) checked; (vendor_label(gvl, *id)) } }
                }
            }
            (search_fields(gvl, filters))
            (results(gvl, filters, &chosen))
        }
    }
}

fn vendor_label(gvl: &Gvl, id: u32) -> String {
    match gvl.vendor(id) {
        Some(v) => format!("{} ({id})", v.name),
        None => format!("Vendor {id} (not on the Global Vendor List)"),
    }
}

fn search_fields(gvl: &Gvl, filters: &Filters) -> Markup {
    let chosen = |v: &Option<String>, id: &str| set(v) == Some(id);
    html! {
        h3 { "Find vendors" }
        div.row {
            div {
                label for="vq" { "Name or id" }
                input #vq type="search" name="vq" form="picker" value=(set(&filters.vq).unwrap_or_default());
            }
            div {
                label for="vpurpose" { "Purpose" }
                select #vpurpose name="vpurpose" form="picker" {
                    option value="" { "Any" }
                    @for (id, p) in &gvl.purposes {
                        option value=(id) selected[chosen(&filters.vpurpose, &id.to_string())] { (id) ". " (p.name) }
                    }
                }
            }
            div {
                label for="vfeature" { "Special feature" }
                select #vfeature name="vfeature" form="picker" {
                    option value="" { "Any" }
                    @for (id, f) in &gvl.special_features {
                        option value=(id) selected[chosen(&filters.vfeature, &id.to_string())] { (id) ". " (f.name) }
                    }
                }
            }
            div {
                label for="vbasis" { "Legal basis" }
                select #vbasis name="vbasis" form="picker" {
                    @for (value, label) in [("", "Any"), ("consent", "Consent"), ("legint", "Legitimate interest"), ("flexible", "Flexible")] {
                        option value=(value) selected[set(&filters.vbasis).unwrap_or_default() == value] { (label) }
                    }
                }
            }
        }
        button.secondary type="submit" form="picker" { "Search vendors" }
    }
}

fn results(gvl: &Gvl, filters: &Filters, chosen: &BTreeSet<u32>) -> Markup {
    let found: Vec<&Vendor> = if filters.any() {
        gvl.vendors
            .values()
            .filter(|v| !chosen.contains(&v.id) && filters.matches(v))
            .collect()
    } else {
        Vec::new()
    };
    html! {
        div #vendor-results aria-live="polite" {
            @if filters.any() {
                p { (found.len()) " vendor(s) found" @if found.len() > MAX_RESULTS { ", the first " (MAX_RESULTS) " shown" } ". Tick to add, then save." }
                ul.checks aria-label="Search results" {
                    @for v in found.iter().take(MAX_RESULTS) {
                        li.check { label { input type="checkbox" name="vendor" value=(v.id); (v.name) " (" (v.id) ")" } }
                    }
                }
            }
        }
    }
}
