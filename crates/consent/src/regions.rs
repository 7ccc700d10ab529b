//! Regional experiences: which notice a visitor gets, decided by where
//! they are. A site's configuration holds an ordered list of
//! [`RegionRule`]s; each matches regions (named [`RegionGroup`]s shipped
//! with the product, or plain ISO 3166 codes) to an [`Experience`]. The
//! first rule that matches a visitor's [`Region`] applies; a visitor no
//! rule matches, and every visitor of a site without rules, gets the
//! site's `regulation`, exactly as before regional rules existed.
//!
//! Invariants:
//! - resolution ([`SiteConfig::experience_for`]) is total and
//!   deterministic: every region, and an unknown one, resolves to exactly
//!   one experience, and the same configuration and region always resolve
//!   to the same one;
//! - an entry a rule cannot parse matches nothing (validation reports it,
//!   so a published configuration has none);
//! - the Consent Mode `default` commands
//!   ([`SiteConfig::consent_mode_defaults`]) give each region listed the
//!   states of the rule that region resolves to, and end with exactly one
//!   catch-all without a region list;
//! - the [`notice_version`] of an experience depends only on what a
//!   visitor of that experience sees.
//!
//! Nothing here does I/O: the region comes from the server (trusted
//! headers, an IP database) or the page, which are not this crate's
//! business.

use crate::config::{
    Banner, ConsentModeType, ConsentState, CustomPurpose, CustomVendor, Regulation, SiteConfig,
    Texts,
};
use crate::region::Region;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use time::macros::date;
use time::Date;

// ---------------------------------------------------------------------------
// Shipped region groups
// ---------------------------------------------------------------------------

/// The day the shipped groups were last checked against their sources:
/// every law a group names is in force on it.
pub const GROUPS_CHECKED_ON: Date = date!(2026 - 12 - 07);

/// `eea_uk_ch`: where the GDPR (or the UK's or Switzerland's equivalent)
/// applies.
///
/// Source: the European Union's member states (europa.eu, "Country
/// profiles", 27 states since the United Kingdom left on 2020-01-31), the
/// EEA Agreement (Iceland, Liechtenstein, Norway), the UK GDPR and the
/// Swiss revised Federal Act on Data Protection (in force 2023-09-01).
/// Checked on [`GROUPS_CHECKED_ON`].
///
/// The EU's outermost regions and Åland are part of the Union, so the
/// GDPR applies there, but ISO 3166-1 gives them codes of their own and IP
/// databases report them under those codes: French Guiana `GF`,
/// Guadeloupe `GP`, Martinique `MQ`, Réunion `RE`, Mayotte `YT`,
/// Saint-Martin `MF`, Åland `AX`. They are listed too. The Canary Islands,
/// the Azores and Madeira have no country code of their own (they are
/// `ES-CN`, `PT-20`, `PT-30`) and are covered by `ES` and `PT`. Greece is
/// `GR` in ISO 3166-1 (the EU writes `EL`). Not listed: Jersey, Guernsey,
/// the Isle of Man and Gibraltar, which have laws of their own.
#[rustfmt::skip]
pub const EEA_UK_CH: [&str; 39] = [
    // The 27 member states of the European Union.
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    // EU territory with an ISO 3166-1 code of its own.
    "GF", "GP", "MQ", "RE", "YT", "MF", "AX",
    // The rest of the EEA.
    "IS", "LI", "NO",
    // The United Kingdom and Switzerland.
    "GB", "CH",
];

/// `us_comprehensive`: the US states whose comprehensive consumer privacy
/// laws are in force on [`GROUPS_CHECKED_ON`], as ISO 3166-2 subdivisions.
/// [`US_STATE_LAWS`] gives each law and the day it took effect.
///
/// Source: the statutes named in [`US_STATE_LAWS`], cross-checked with
/// the IAPP's US State Privacy Legislation Tracker (which counts a law as
/// comprehensive unless it is narrow in scope, coverage, rights or
/// purpose). Checked on [`GROUPS_CHECKED_ON`].
///
/// Florida is **not** listed: its Digital Bill of Rights (in force
/// 2024-07-01) binds only controllers with over US$1 billion in global
/// revenue that also run a smart speaker service, an app store or earn
/// half their revenue from online ads. It is narrow in coverage, so not
/// comprehensive in the IAPP's sense: it binds only the largest
/// platforms. A site it does bind
/// lists `US-FL` in a rule of its own; the `usfl` GPP section (13) is
/// still used for Florida visitors of a `us` rule with `"gppSections":
/// "state"`.
#[rustfmt::skip]
pub const US_COMPREHENSIVE: [&str; 19] = [
    "US-CA", "US-VA", "US-CO", "US-CT", "US-UT", "US-TX", "US-OR", "US-MT", "US-DE", "US-IA",
    "US-NE", "US-NH", "US-NJ", "US-TN", "US-MN", "US-MD", "US-IN", "US-KY", "US-RI",
];

/// `ca_qc`: Canada, with Quebec named as `CA-QC`.
///
/// Source: PIPEDA (federal, all provinces) and Quebec's Law 25 (Act
/// respecting the protection of personal information in the private
/// sector as amended; its consent and tracking provisions in force
/// 2023-09-22). Checked on [`GROUPS_CHECKED_ON`]. `CA` already covers
/// Quebec, so `CA-QC` changes no match (and the gtag region list leaves
/// it out); it is named because Law 25 asks more than PIPEDA does. A site
/// that treats Quebec differently puts a rule matching `CA-QC` before the
/// `ca_qc` rule.
pub const CA_QC: [&str; 2] = ["CA", "CA-QC"];

/// `br`: Brazil.
///
/// Source: the LGPD (Lei 13.709/2018), in force since 2020-09-18.
/// Checked on [`GROUPS_CHECKED_ON`].
pub const BR: [&str; 1] = ["BR"];

/// A US state's consumer privacy law, and its GPP section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsStateLaw {
    /// The state's ISO 3166-2 subdivision code after `US-` (`CA`).
    pub state: &'static str,
    /// The law's common name.
    pub law: &'static str,
    /// The day it took effect.
    pub in_force: Date,
    /// Whether it is comprehensive (and so in [`US_COMPREHENSIVE`]).
    pub comprehensive: bool,
    /// The id of the state's GPP section.
    pub gpp_section: u8,
    /// The GPP section's API prefix (`usca`).
    pub gpp_name: &'static str,
}

const fn law(
    state: &'static str,
    law: &'static str,
    in_force: Date,
    comprehensive: bool,
    gpp_section: u8,
    gpp_name: &'static str,
) -> UsStateLaw {
    UsStateLaw {
        state,
        law,
        in_force,
        comprehensive,
        gpp_section,
        gpp_name,
    }
}

/// The US state laws that have a GPP section, in section id order, with
/// the day each took effect. Sources: the statutes; the GPP section ids
/// from the IAB Tech Lab's GPP specification (as `nexaguard_gpp`'s
/// `SECTION_IDS` has them). Checked on [`GROUPS_CHECKED_ON`].
#[rustfmt::skip]
pub const US_STATE_LAWS: [UsStateLaw; 20] = [
    law("CA", "California Consumer Privacy Act, as amended by the CPRA (amendments in force 2023-01-01)",
        date!(2020 - 01 - 01), true, 8, "usca"),
    law("VA", "Virginia Consumer Data Protection Act", date!(2023 - 01 - 01), true, 9, "usva"),
    law("CO", "Colorado Privacy Act", date!(2023 - 07 - 01), true, 10, "usco"),
    law("UT", "Utah Consumer Privacy Act", date!(2023 - 12 - 31), true, 11, "usut"),
    law("CT", "Connecticut Data Privacy Act", date!(2023 - 07 - 01), true, 12, "usct"),
    law("FL", "Florida Digital Bill of Rights (narrow: not comprehensive)",
        date!(2024 - 07 - 01), false, 13, "usfl"),
    law("MT", "Montana Consumer Data Privacy Act", date!(2024 - 10 - 01), true, 14, "usmt"),
    law("OR", "Oregon Consumer Privacy Act", date!(2024 - 07 - 01), true, 15, "usor"),
    law("TX", "Texas Data Privacy and Security Act", date!(2024 - 07 - 01), true, 16, "ustx"),
    law("DE", "Delaware Personal Data Privacy Act", date!(2025 - 01 - 01), true, 17, "usde"),
    law("IA", "Iowa Consumer Data Protection Act", date!(2025 - 01 - 01), true, 18, "usia"),
    law("NE", "Nebraska Data Privacy Act", date!(2025 - 01 - 01), true, 19, "usne"),
    law("NH", "New Hampshire privacy act (SB 255)", date!(2025 - 01 - 01), true, 20, "usnh"),
    law("NJ", "New Jersey Data Privacy Act", date!(2025 - 01 - 15), true, 21, "usnj"),
    law("TN", "Tennessee Information Protection Act", date!(2025 - 07 - 01), true, 22, "ustn"),
    law("MN", "Minnesota Consumer Data Privacy Act", date!(2025 - 07 - 31), true, 23, "usmn"),
    law("MD", "Maryland Online Data Privacy Act (applies to processing from 2026-04-01)",
        date!(2025 - 10 - 01), true, 24, "usmd"),
    law("IN", "Indiana Consumer Data Protection Act", date!(2026 - 01 - 01), true, 25, "usin"),
    law("KY", "Kentucky Consumer Data Protection Act", date!(2026 - 01 - 01), true, 26, "usky"),
    law("RI", "Rhode Island Data Transparency and Privacy Protection Act",
        date!(2026 - 01 - 01), true, 27, "usri"),
];

/// GPP section id of `tcfeuv2`, the TCF's section.
pub const GPP_TCFEUV2: u8 = 2;

/// GPP section id of `usnat`, the US national section.
pub const GPP_USNAT: u8 = 7;

/// The GPP section id of a US state's own section (`US-CA` → 8), if the
/// region is a US state that has one.
pub fn gpp_state_section(region: &Region) -> Option<u8> {
    if region.country_code() != "US" {
        return None;
    }
    let state = region.subdivision()?;
    US_STATE_LAWS
        .iter()
        .find(|law| law.state == state)
        .map(|law| law.gpp_section)
}

/// A named list of regions shipped with the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionGroup {
    /// [`EEA_UK_CH`].
    EeaUkCh,
    /// [`US_COMPREHENSIVE`].
    UsComprehensive,
    /// [`CA_QC`].
    CaQc,
    /// [`BR`].
    Br,
    /// Every region, and a visitor whose region is unknown.
    Everywhere,
}

impl RegionGroup {
    /// Every group, in documentation order.
    pub const ALL: [RegionGroup; 5] = [
        RegionGroup::EeaUkCh,
        RegionGroup::UsComprehensive,
        RegionGroup::CaQc,
        RegionGroup::Br,
        RegionGroup::Everywhere,
    ];

    /// The name a rule uses (`eea_uk_ch`).
    pub fn name(self) -> &'static str {
        match self {
            RegionGroup::EeaUkCh => "eea_uk_ch",
            RegionGroup::UsComprehensive => "us_comprehensive",
            RegionGroup::CaQc => "ca_qc",
            RegionGroup::Br => "br",
            RegionGroup::Everywhere => "everywhere",
        }
    }

    /// The region codes the group lists; empty for
    /// [`Everywhere`](RegionGroup::Everywhere), which lists none and
    /// matches all.
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            RegionGroup::EeaUkCh => &EEA_UK_CH,
            RegionGroup::UsComprehensive => &US_COMPREHENSIVE,
            RegionGroup::CaQc => &CA_QC,
            RegionGroup::Br => &BR,
            RegionGroup::Everywhere => &[],
        }
    }
}

impl fmt::Display for RegionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Not the name of a shipped [`RegionGroup`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a region group (eea_uk_ch, us_comprehensive, ca_qc, br, everywhere)")]
pub struct UnknownGroup(pub String);

impl FromStr for RegionGroup {
    type Err = UnknownGroup;

    /// Exactly a group's name, in lower case.
    fn from_str(text: &str) -> Result<RegionGroup, UnknownGroup> {
        RegionGroup::ALL
            .into_iter()
            .find(|g| g.name() == text)
            .ok_or_else(|| UnknownGroup(text.to_owned()))
    }
}

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

/// One entry of a rule's `match` list, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegionSelector {
    /// A shipped group (`eea_uk_ch`).
    Group(RegionGroup),
    /// A country (`FR`, matching its subdivisions too) or a subdivision
    /// (`US-CA`).
    Region(Region),
}

/// Why a `match` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// Lower-case text that is not a group's name.
    #[error("{0:?} is not a region group (eea_uk_ch, us_comprehensive, ca_qc, br, everywhere) or an upper-case region code")]
    UnknownGroup(String),
    /// A region code not written the canonical way (`fr`, `us_ca`).
    #[error("region codes are written in upper case with a hyphen: {canonical:?}, not {given:?}")]
    NotCanonical {
        /// As written.
        given: String,
        /// As it must be written.
        canonical: String,
    },
    /// Neither a group nor a region code.
    #[error("{0:?} is not an ISO 3166-1 country (FR) or ISO 3166-2 subdivision (US-CA)")]
    Malformed(String),
}

impl FromStr for RegionSelector {
    type Err = SelectorError;

    /// A group's name (`eea_uk_ch`, `br`) or an upper-case region code
    /// (`BR`, `US-CA`). Group names are lower case and region codes upper
    /// case, so `br` is the group and `BR` the country (the same regions).
    fn from_str(text: &str) -> Result<RegionSelector, SelectorError> {
        if let Ok(group) = text.parse::<RegionGroup>() {
            return Ok(RegionSelector::Group(group));
        }
        match text.parse::<Region>() {
            Ok(region) if region.to_string() == text => Ok(RegionSelector::Region(region)),
            Ok(region) => Err(SelectorError::NotCanonical {
                given: text.to_owned(),
                canonical: region.to_string(),
            }),
            Err(_) if text.bytes().any(|b| b.is_ascii_lowercase()) => {
                Err(SelectorError::UnknownGroup(text.to_owned()))
            }
            Err(_) => Err(SelectorError::Malformed(text.to_owned())),
        }
    }
}

impl fmt::Display for RegionSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegionSelector::Group(g) => fmt::Display::fmt(g, f),
            RegionSelector::Region(r) => fmt::Display::fmt(r, f),
        }
    }
}

/// Which GPP sections a `us` experience applies.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GppSections {
    /// The visitor's state section (`usca` for `US-CA`) where the state
    /// has one, else `usnat`.
    State,
    /// `usnat`, the national section, for every state.
    #[default]
    Usnat,
}

/// The settings of a `us` experience.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsExperience {
    /// The GPP sections applied: the state's or `usnat` (the default).
    #[serde(default)]
    pub gpp_sections: GppSections,
    /// Whether a Global Privacy Control signal opts the visitor out of
    /// sale, sharing and targeted advertising before any tag runs
    /// (default true).
    #[serde(default = "default_true")]
    pub honour_gpc: bool,
}

impl Default for UsExperience {
    fn default() -> Self {
        UsExperience {
            gpp_sections: GppSections::default(),
            honour_gpc: true,
        }
    }
}

fn default_true() -> bool {
    true
}

/// What a visitor is shown and asked.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Experience {
    /// Today's GDPR banner with the TCF: opt-in, `gdprApplies` true.
    Tcf,
    /// A notice with "Do not sell or share my personal information" and
    /// opt-out of targeted advertising; no banner blocking the page.
    Us(UsExperience),
    /// Opt-in categories (the site's custom purposes) without the TCF.
    OptIn,
    /// A notice that informs and asks nothing.
    NoticeOnly,
    /// Nothing is shown.
    None,
}

impl Experience {
    /// The experience a site without a matching rule applies: its
    /// `regulation`.
    pub fn of_regulation(regulation: Regulation) -> Experience {
        match regulation {
            Regulation::Tcf => Experience::Tcf,
            Regulation::OptIn => Experience::OptIn,
        }
    }

    /// The `kind` text (`tcf`, `us`, `opt_in`, `notice_only`, `none`).
    pub fn kind(&self) -> &'static str {
        match self {
            Experience::Tcf => "tcf",
            Experience::Us(_) => "us",
            Experience::OptIn => "opt_in",
            Experience::NoticeOnly => "notice_only",
            Experience::None => "none",
        }
    }

    /// Whether the law behind it requires consent before tags run (so
    /// Consent Mode defaults to denied).
    pub fn requires_opt_in(&self) -> bool {
        matches!(self, Experience::Tcf | Experience::OptIn)
    }

    /// The Consent Mode v2 states before any choice: all seven types
    /// denied where the experience is opt-in, granted (with opt-out)
    /// where it is not.
    pub fn consent_mode_base(&self) -> BTreeMap<ConsentModeType, ConsentState> {
        let state = if self.requires_opt_in() {
            ConsentState::Denied
        } else {
            ConsentState::Granted
        };
        ConsentModeType::ALL
            .into_iter()
            .map(|t| (t, state))
            .collect()
    }
}

/// One regional rule: the regions it matches and the experience they get.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegionRule {
    /// Group names (`eea_uk_ch`) and region codes (`FR`, `US-CA`, `US`).
    /// A country matches its subdivisions; a subdivision matches only
    /// itself (and, with `matchUnknownSubdivision`, a visitor known only
    /// by its country).
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    /// Whether a visitor whose subdivision is unknown (`US` alone) matches
    /// this rule when it lists subdivisions of that country
    /// (`us_comprehensive`, `US-CA`). Default false: such a visitor falls
    /// through to a later rule.
    #[serde(default, skip_serializing_if = "is_false")]
    pub match_unknown_subdivision: bool,
    /// What the matched visitors get.
    pub experience: Experience,
    /// Consent Mode v2 states that override the experience's defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consent_mode_defaults: BTreeMap<ConsentModeType, ConsentState>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl RegionRule {
    /// The `match` entries, parsed, in order.
    pub fn selectors(&self) -> impl Iterator<Item = Result<RegionSelector, SelectorError>> + '_ {
        self.matches.iter().map(|m| m.parse())
    }

    /// Whether the rule matches a visitor's region (`None`: unknown).
    pub fn matches_region(&self, region: Option<&Region>) -> bool {
        self.atoms().iter().any(|a| a.atom.matches(region))
    }

    fn atoms(&self) -> Vec<Located> {
        let mut out: Vec<Located> = Vec::new();
        for (entry, selector) in self.selectors().enumerate() {
            let Ok(selector) = selector else { continue };
            match selector {
                RegionSelector::Group(RegionGroup::Everywhere) => out.push(Located {
                    entry,
                    atom: Atom::Everywhere,
                }),
                RegionSelector::Group(group) => out.extend(
                    group
                        .codes()
                        .iter()
                        .filter_map(|code| code.parse::<Region>().ok())
                        .map(|r| Located {
                            entry,
                            atom: Atom::of(r),
                        }),
                ),
                RegionSelector::Region(r) => out.push(Located {
                    entry,
                    atom: Atom::of(r),
                }),
            }
        }
        if self.match_unknown_subdivision {
            let mut unknown: Vec<Located> = Vec::new();
            for located in &out {
                if let Atom::Subdivision(r) = &located.atom {
                    let atom = Atom::UnknownIn(r.country_only());
                    if !unknown.iter().any(|u| u.atom == atom) {
                        unknown.push(Located {
                            entry: located.entry,
                            atom,
                        });
                    }
                }
            }
            out.extend(unknown);
        }
        out
    }
}

/// What one `match` entry contributes: the unit of matching and coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    /// Every region and the unknown one.
    Everywhere,
    /// A country: a visitor in it, with or without a subdivision.
    Country(Region),
    /// Exactly this subdivision.
    Subdivision(Region),
    /// A visitor known only by this country (`matchUnknownSubdivision`).
    UnknownIn(Region),
}

#[derive(Debug, Clone)]
struct Located {
    /// Index in the rule's `match` list.
    entry: usize,
    atom: Atom,
}

impl Atom {
    fn of(region: Region) -> Atom {
        if region.subdivision().is_some() {
            Atom::Subdivision(region)
        } else {
            Atom::Country(region)
        }
    }

    fn matches(&self, visitor: Option<&Region>) -> bool {
        match (self, visitor) {
            (Atom::Everywhere, _) => true,
            (_, None) => false,
            (Atom::Country(c), Some(v)) => v.country_code() == c.country_code(),
            (Atom::Subdivision(s), Some(v)) => v == s,
            (Atom::UnknownIn(c), Some(v)) => {
                v.subdivision().is_none() && v.country_code() == c.country_code()
            }
        }
    }

    /// Whether every visitor this atom matches is matched by `other`.
    fn covered_by(&self, other: &Atom) -> bool {
        match (self, other) {
            (_, Atom::Everywhere) => true,
            (Atom::Everywhere, _) => false,
            (Atom::Country(a), Atom::Country(b)) => a == b,
            (Atom::Subdivision(s), Atom::Country(c)) => s.country_code() == c.country_code(),
            (Atom::Subdivision(a), Atom::Subdivision(b)) => a == b,
            (Atom::UnknownIn(a), Atom::Country(b) | Atom::UnknownIn(b)) => a == b,
            _ => false,
        }
    }

    /// The region code gtag's `region` parameter takes, if any.
    fn gtag_region(&self) -> Option<String> {
        match self {
            Atom::Country(r) | Atom::Subdivision(r) => Some(r.to_string()),
            Atom::Everywhere | Atom::UnknownIn(_) => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Atom::Everywhere => "everywhere".to_owned(),
            Atom::Country(r) | Atom::Subdivision(r) => r.to_string(),
            Atom::UnknownIn(r) => format!("{r} (subdivision unknown)"),
        }
    }
}

// ---------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------

/// The experience a visitor gets, and what follows from it.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedExperience {
    /// What the visitor is shown and asked.
    pub experience: Experience,
    /// The index of the rule that matched in `regions`; `None` when no
    /// rule did and the site's `regulation` applies.
    pub rule: Option<usize>,
    /// `gdprApplies` for the TCF API: true for a `tcf` rule, the site's
    /// `gdprApplies` when its `regulation` is `tcf` and no rule matched,
    /// false otherwise.
    pub gdpr_applies: bool,
    /// The GPP section ids that apply (`applicableSections`): 2
    /// (`tcfeuv2`) where the TCF applies; for `us`, the state's section or
    /// 7 (`usnat`); none otherwise.
    pub gpp_section_ids: Vec<u8>,
    /// The Consent Mode v2 states before any choice, for this visitor.
    pub consent_mode_default: BTreeMap<ConsentModeType, ConsentState>,
}

/// One `gtag('consent', 'default', {...})` parameter object: the states,
/// `wait_for_update` if set, and the regions it is for (none: the
/// catch-all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentModeDefault {
    /// The state of each type (`"ad_storage": "denied"`).
    #[serde(flatten)]
    pub states: BTreeMap<ConsentModeType, ConsentState>,
    /// Milliseconds Google tags wait for an update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_update: Option<u32>,
    /// ISO 3166 codes; empty for the catch-all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub region: Vec<String>,
}

impl SiteConfig {
    /// Whether some visitor may get the TCF experience (the site's
    /// `regulation`, or a region rule's), and so read the IAB's texts.
    pub fn shows_tcf(&self) -> bool {
        self.regulation == Regulation::Tcf
            || self
                .regions
                .iter()
                .any(|rule| rule.experience == Experience::Tcf)
    }

    /// The experience for a visitor in `region` (`None`: unknown): the
    /// first rule of `regions` that matches, else the site's
    /// `regulation`.
    pub fn experience_for(&self, region: Option<&Region>) -> ResolvedExperience {
        let matched = self
            .regions
            .iter()
            .enumerate()
            .find(|(_, rule)| rule.matches_region(region));
        let rule_index = matched.map(|(i, _)| i);
        let (experience, gdpr_applies) = self.experience_of(rule_index);
        let overrides = matched.map(|(_, rule)| &rule.consent_mode_defaults);
        let gpp_section_ids = match &experience {
            Experience::Tcf if gdpr_applies => vec![GPP_TCFEUV2],
            Experience::Us(us) => {
                let state = match us.gpp_sections {
                    GppSections::State => region.and_then(gpp_state_section),
                    GppSections::Usnat => None,
                };
                vec![state.unwrap_or(GPP_USNAT)]
            }
            _ => Vec::new(),
        };
        let consent_mode_default = if self.regions.is_empty() {
            self.legacy_default_for(region)
        } else {
            self.regional_states(&experience, overrides)
        };
        ResolvedExperience {
            experience,
            rule: rule_index,
            gdpr_applies,
            gpp_section_ids,
            consent_mode_default,
        }
    }

    /// The experience of rule `index` (`None`: no rule matched, the site's
    /// `regulation`), and `gdprApplies` with it.
    fn experience_of(&self, index: Option<usize>) -> (Experience, bool) {
        match index.and_then(|i| self.regions.get(i)) {
            Some(rule) => (rule.experience.clone(), rule.experience == Experience::Tcf),
            None => {
                let experience = Experience::of_regulation(self.regulation);
                let applies = experience == Experience::Tcf && self.gdpr_applies;
                (experience, applies)
            }
        }
    }

    /// The notice version of each rule's experience, in rule order, then
    /// of the site's `regulation` (no rule matched): what
    /// [`notice_version`] gives every visitor the rule matches, since a
    /// notice version depends on the experience and `gdprApplies`, not on
    /// the region. Index it with [`ResolvedExperience::rule`], `None`
    /// being the last entry.
    pub fn notice_versions(&self) -> Vec<String> {
        (0..self.regions.len())
            .map(Some)
            .chain([None])
            .map(|index| {
                let (experience, gdpr_applies) = self.experience_of(index);
                notice_version(
                    self,
                    &ResolvedExperience {
                        experience,
                        rule: index,
                        gdpr_applies,
                        gpp_section_ids: Vec::new(),
                        consent_mode_default: BTreeMap::new(),
                    },
                )
            })
            .collect()
    }

    /// The `gtag('consent', 'default', ...)` parameter objects for the
    /// page, in the order the SDK pushes them.
    ///
    /// Without regional rules, today's `consentMode.defaults`, every type
    /// they leave out denied (a single all-denied catch-all when there are
    /// none). With rules: one object per rule, in rule order, listing the
    /// regions it matches that no earlier rule does (gtag prefers the most
    /// specific region, which agrees with first-match because a rule can
    /// only reach a subdivision of a country an earlier rule lists if it
    /// is unreachable there); then one catch-all without a region list,
    /// from the first `everywhere` rule or else the site's `regulation`.
    pub fn consent_mode_defaults(&self) -> Vec<ConsentModeDefault> {
        if self.regions.is_empty() {
            return self.legacy_defaults();
        }
        let wait_for_update = self.catch_all_defaults().and_then(|d| d.wait_for_update_ms);
        let mut out = Vec::new();
        let mut earlier: Vec<Atom> = Vec::new();
        for rule in &self.regions {
            let atoms = rule.atoms();
            let states = self.regional_states(&rule.experience, Some(&rule.consent_mode_defaults));
            if atoms.iter().any(|a| a.atom == Atom::Everywhere) {
                out.push(ConsentModeDefault {
                    states,
                    wait_for_update,
                    region: Vec::new(),
                });
                return out;
            }
            let mut region = Vec::new();
            for located in atoms {
                let atom = located.atom;
                if !earlier.iter().any(|e| atom.covered_by(e)) {
                    if let Some(code) = atom.gtag_region() {
                        region.push(code);
                    }
                    earlier.push(atom);
                }
            }
            if !region.is_empty() {
                out.push(ConsentModeDefault {
                    states,
                    wait_for_update,
                    region,
                });
            }
        }
        out.push(ConsentModeDefault {
            states: self.regional_states(&Experience::of_regulation(self.regulation), None),
            wait_for_update,
            region: Vec::new(),
        });
        out
    }

    /// The first `consentMode.defaults` entry without regions.
    fn catch_all_defaults(&self) -> Option<&crate::config::RegionDefaults> {
        self.consent_mode
            .defaults
            .iter()
            .find(|d| d.regions.is_empty())
    }

    /// An experience's states: its base, then the catch-all
    /// `consentMode.defaults` entry's states for the storage types the
    /// experiences leave to the site (functionality, personalization,
    /// security), then the rule's overrides.
    fn regional_states(
        &self,
        experience: &Experience,
        overrides: Option<&BTreeMap<ConsentModeType, ConsentState>>,
    ) -> BTreeMap<ConsentModeType, ConsentState> {
        let mut states = experience.consent_mode_base();
        if let Some(catch_all) = self.catch_all_defaults() {
            for (&t, &s) in &catch_all.states {
                if !is_core_type(t) {
                    states.insert(t, s);
                }
            }
        }
        if let Some(overrides) = overrides {
            states.extend(overrides.iter().map(|(&t, &s)| (t, s)));
        }
        states
    }

    fn legacy_defaults(&self) -> Vec<ConsentModeDefault> {
        let all_denied = || {
            ConsentModeType::ALL
                .into_iter()
                .map(|t| (t, ConsentState::Denied))
                .collect::<BTreeMap<_, _>>()
        };
        if self.consent_mode.defaults.is_empty() {
            return vec![ConsentModeDefault {
                states: all_denied(),
                wait_for_update: None,
                region: Vec::new(),
            }];
        }
        self.consent_mode
            .defaults
            .iter()
            .map(|d| {
                let mut states = all_denied();
                states.extend(d.states.iter().map(|(&t, &s)| (t, s)));
                ConsentModeDefault {
                    states,
                    wait_for_update: d.wait_for_update_ms,
                    region: d.regions.clone(),
                }
            })
            .collect()
    }

    /// The legacy default gtag would apply to `region`: the first entry
    /// listing the subdivision, else the first listing the country, else
    /// the first catch-all.
    fn legacy_default_for(
        &self,
        region: Option<&Region>,
    ) -> BTreeMap<ConsentModeType, ConsentState> {
        let defaults = self.legacy_defaults();
        let lists = |code: String| defaults.iter().find(|d| d.region.contains(&code));
        let specific = region.and_then(|r| {
            let exact = r.subdivision().and_then(|_| lists(r.to_string()));
            exact.or_else(|| lists(r.country_code().to_owned()))
        });
        specific
            .or_else(|| defaults.iter().find(|d| d.region.is_empty()))
            .map(|d| d.states.clone())
            .unwrap_or_else(|| Experience::OptIn.consent_mode_base())
    }
}

/// The four types Google's advertising and analytics tags read, which the
/// experiences set; the other three are the site's.
fn is_core_type(t: ConsentModeType) -> bool {
    matches!(
        t,
        ConsentModeType::AdStorage
            | ConsentModeType::AdUserData
            | ConsentModeType::AdPersonalization
            | ConsentModeType::AnalyticsStorage
    )
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/// Whether a finding stops a configuration from being published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The configuration is refused.
    Error,
    /// Published, but the editor shows it.
    Warning,
}

/// What a finding is about; each has a stable [`code`](Self::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A lower-case entry that is not a group's name.
    UnknownGroup,
    /// An entry that is not a region code, or not written canonically.
    MalformedRegion,
    /// A rule with an empty `match` list.
    EmptyMatch,
    /// An entry that another entry of the same rule already covers.
    RedundantEntry,
    /// A rule whose regions earlier rules all cover.
    Unreachable,
    /// A rule some of whose regions an earlier rule covers.
    PartlyShadowed,
    /// A rule after one that matches everywhere.
    AfterEverywhere,
    /// A `us` experience for regions outside the United States.
    UsOutsideUs,
    /// A `tcf` experience on a site without TCF settings.
    TcfWithoutSettings,
    /// An `opt_in` experience on a site without custom purposes.
    OptInWithoutPurposes,
    /// `consentMode.defaults` entries with regions, which rules replace.
    ConsentModeDefaultsSuperseded,
}

impl FindingKind {
    /// The stable code (`partly_shadowed`).
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::UnknownGroup => "unknown_group",
            FindingKind::MalformedRegion => "malformed_region",
            FindingKind::EmptyMatch => "empty_match",
            FindingKind::RedundantEntry => "redundant_entry",
            FindingKind::Unreachable => "unreachable",
            FindingKind::PartlyShadowed => "partly_shadowed",
            FindingKind::AfterEverywhere => "after_everywhere",
            FindingKind::UsOutsideUs => "us_outside_us",
            FindingKind::TcfWithoutSettings => "tcf_without_settings",
            FindingKind::OptInWithoutPurposes => "opt_in_without_purposes",
            FindingKind::ConsentModeDefaultsSuperseded => "consent_mode_defaults_superseded",
        }
    }

    /// Whether it refuses the configuration.
    pub fn severity(self) -> Severity {
        match self {
            FindingKind::RedundantEntry
            | FindingKind::PartlyShadowed
            | FindingKind::ConsentModeDefaultsSuperseded => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One finding about the regional rules, by field path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionFinding {
    /// What it is about.
    pub kind: FindingKind,
    /// Error or warning (from the kind).
    pub severity: Severity,
    /// Where: `regions[2].match[0]`.
    pub path: String,
    /// What is wrong, naming the regions and rules concerned.
    pub message: String,
}

impl SiteConfig {
    /// Every finding about `regions`, errors and warnings, in rule order.
    /// [`SiteConfig::validate`] refuses the errors; the editor shows all.
    pub fn region_findings(&self) -> Vec<RegionFinding> {
        let mut out = Vec::new();
        let mut add = |kind: FindingKind, path: String, message: String| {
            out.push(RegionFinding {
                kind,
                severity: kind.severity(),
                path,
                message,
            });
        };
        // Atoms of the earlier rules, with the rule each came from.
        let mut earlier: Vec<(usize, Atom)> = Vec::new();
        let mut everywhere_at: Option<usize> = None;
        for (i, rule) in self.regions.iter().enumerate() {
            let at = format!("regions[{i}]");
            if rule.matches.is_empty() {
                add(
                    FindingKind::EmptyMatch,
                    format!("{at}.match"),
                    "lists no region: add a group or region code".to_owned(),
                );
            }
            for (j, selector) in rule.selectors().enumerate() {
                let kind = match &selector {
                    Ok(_) => continue,
                    Err(SelectorError::UnknownGroup(_)) => FindingKind::UnknownGroup,
                    Err(_) => FindingKind::MalformedRegion,
                };
                if let Err(e) = selector {
                    add(kind, format!("{at}.match[{j}]"), e.to_string());
                }
            }
            self.check_experience(rule, &at, &mut add);
            let atoms = rule.atoms();
            for (j, covered_by) in redundant_entries(&atoms) {
                let entry = rule.matches.get(j).cloned().unwrap_or_default();
                let other = rule.matches.get(covered_by).cloned().unwrap_or_default();
                add(
                    FindingKind::RedundantEntry,
                    format!("{at}.match[{j}]"),
                    format!("{entry:?} is already covered by {other:?} in the same rule"),
                );
            }
            if let Some(k) = everywhere_at {
                add(
                    FindingKind::AfterEverywhere,
                    at,
                    format!(
                        "comes after regions[{k}], which matches everywhere: it can never apply"
                    ),
                );
                continue;
            }
            if atoms.is_empty() {
                continue;
            }
            // Regions of this rule that earlier rules match first: whole
            // entries they cover, and the parts of broader entries they
            // list (US-CA of US). An everywhere entry is meant to take
            // what is left, so what it leaves is not named.
            let mut shadowed: Vec<String> = Vec::new();
            let mut by_rules: Vec<usize> = Vec::new();
            let mut note = |name: String, rule: usize| {
                if !shadowed.contains(&name) {
                    shadowed.push(name);
                }
                if !by_rules.contains(&rule) {
                    by_rules.push(rule);
                }
            };
            let mut open = false;
            for located in &atoms {
                if let Some((r, _)) = earlier.iter().find(|(_, e)| located.atom.covered_by(e)) {
                    note(located.atom.describe(), *r);
                    continue;
                }
                open = true;
                if located.atom == Atom::Everywhere {
                    continue;
                }
                for (r, e) in earlier.iter().filter(|(_, e)| e.covered_by(&located.atom)) {
                    note(e.describe(), *r);
                }
            }
            let rules = by_rules
                .iter()
                .map(|r| format!("regions[{r}]"))
                .collect::<Vec<_>>()
                .join(", ");
            if !open {
                add(
                    FindingKind::Unreachable,
                    at.clone(),
                    format!("can never match: every region it lists is matched first by {rules}"),
                );
            } else if !shadowed.is_empty() {
                add(
                    FindingKind::PartlyShadowed,
                    format!("{at}.match"),
                    format!(
                        "{} {} matched first by {rules}, so this rule does not apply there",
                        shadowed.join(", "),
                        if shadowed.len() == 1 { "is" } else { "are" },
                    ),
                );
            }
            if atoms.iter().any(|a| a.atom == Atom::Everywhere) {
                everywhere_at = Some(i);
            }
            earlier.extend(atoms.into_iter().map(|a| (i, a.atom)));
        }
        if !self.regions.is_empty() {
            for (k, d) in self.consent_mode.defaults.iter().enumerate() {
                if !d.regions.is_empty() {
                    add(
                        FindingKind::ConsentModeDefaultsSuperseded,
                        format!("consentMode.defaults[{k}].regions"),
                        "not used when regional rules are set: the rules' experiences and consentModeDefaults give the defaults per region".to_owned(),
                    );
                }
            }
        }
        out
    }

    fn check_experience(
        &self,
        rule: &RegionRule,
        at: &str,
        add: &mut impl FnMut(FindingKind, String, String),
    ) {
        match &rule.experience {
            Experience::Us(_) => {
                for (j, selector) in rule.selectors().enumerate() {
                    let outside = match selector {
                        Ok(RegionSelector::Group(RegionGroup::UsComprehensive)) | Err(_) => None,
                        Ok(RegionSelector::Group(g)) => Some(g.to_string()),
                        Ok(RegionSelector::Region(r)) => {
                            (r.country_code() != "US").then(|| r.to_string())
                        }
                    };
                    if let Some(what) = outside {
                        add(
                            FindingKind::UsOutsideUs,
                            format!("{at}.match[{j}]"),
                            format!("{what} is outside the United States: a us experience (GPP us sections, \"Do not sell or share\") is for US regions only"),
                        );
                    }
                }
            }
            Experience::Tcf => {
                if (self.vendors.is_empty() && self.purposes.is_empty()) || self.cmp_id < 2 {
                    add(
                        FindingKind::TcfWithoutSettings,
                        format!("{at}.experience"),
                        "a tcf experience needs the site's TCF settings: IAB purposes or vendors, and the CMP id registered with the IAB (cmpId)".to_owned(),
                    );
                }
            }
            Experience::OptIn => {
                if self.custom_purposes.is_empty() {
                    add(
                        FindingKind::OptInWithoutPurposes,
                        format!("{at}.experience"),
                        "an opt_in experience needs at least one custom purpose".to_owned(),
                    );
                }
            }
            Experience::NoticeOnly | Experience::None => {}
        }
    }
}

/// The entries of one rule that another entry of it covers entirely, with
/// that entry: `(redundant, covering)`. Of two entries that cover each
/// other (`FR` twice, `br` and `BR`) only the later is redundant. A
/// group's own overlap (`CA` and `CA-QC` in `ca_qc`) is not redundancy.
fn redundant_entries(atoms: &[Located]) -> Vec<(usize, usize)> {
    let of = |entry: usize| -> Vec<&Atom> {
        atoms
            .iter()
            .filter(|a| a.entry == entry && !matches!(a.atom, Atom::UnknownIn(_)))
            .map(|a| &a.atom)
            .collect()
    };
    let mut entries: Vec<usize> = atoms.iter().map(|a| a.entry).collect();
    entries.dedup();
    let mut out = Vec::new();
    for &j in &entries {
        let mine = of(j);
        if mine.is_empty() {
            continue;
        }
        let covering = entries.iter().copied().find(|&m| {
            if m == j {
                return false;
            }
            let theirs = of(m);
            let covered = mine.iter().all(|a| theirs.iter().any(|o| a.covered_by(o)));
            let mutual = theirs.iter().all(|o| mine.iter().any(|a| o.covered_by(a)));
            covered && (!mutual || j > m)
        });
        if let Some(m) = covering {
            out.push((j, m));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Notice version
// ---------------------------------------------------------------------------

/// What a visitor of one experience sees, in a fixed order: the input of
/// [`notice_version`]. Serialised straight from typed values (never
/// through `serde_json::Value`, whose key order depends on a crate
/// feature), so the bytes are the same in every build.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoticeDocument<'a> {
    scheme: u32,
    experience: &'a Experience,
    gdpr_applies: bool,
    default_language: &'a str,
    languages: Option<&'a BTreeMap<String, Texts>>,
    banner: Option<&'a Banner>,
    purposes: &'a [u32],
    special_features: &'a [u32],
    vendors: &'a [u32],
    custom_purposes: &'a [CustomPurpose],
    custom_vendors: &'a [CustomVendor],
}

/// Length of a notice version, in hex digits (128 bits of SHA-256).
pub const NOTICE_VERSION_LEN: usize = 32;

/// A stable version of the notice a visitor of `experience` sees: the
/// first 128 bits of the SHA-256 of its texts (every language), banner
/// appearance, the experience and its settings, `gdprApplies`, and the
/// purposes and vendors it lists (IAB ones for `tcf` only), as 32
/// lower-case hex digits. It changes when any of those change and not
/// otherwise (not with the rule's position, the cookie domain, the
/// consent lifetime or Consent Mode settings). Compute it on the
/// published configuration, not on `config.json`'s one-language copy.
pub fn notice_version(config: &SiteConfig, experience: &ResolvedExperience) -> String {
    let shown = !matches!(experience.experience, Experience::None);
    let tcf = matches!(experience.experience, Experience::Tcf);
    let iab = |list: &'_ [u32]| -> Vec<u32> {
        if tcf {
            list.to_vec()
        } else {
            Vec::new()
        }
    };
    let (purposes, special_features, vendors) = (
        iab(&config.purposes),
        iab(&config.special_features),
        iab(&config.vendors),
    );
    let document = NoticeDocument {
        scheme: 1,
        experience: &experience.experience,
        gdpr_applies: experience.gdpr_applies,
        default_language: if shown { &config.default_language } else { "" },
        languages: shown.then_some(&config.languages),
        banner: shown.then_some(&config.banner),
        purposes: &purposes,
        special_features: &special_features,
        vendors: &vendors,
        custom_purposes: if shown { &config.custom_purposes } else { &[] },
        custom_vendors: if shown { &config.custom_vendors } else { &[] },
    };
    // These types serialise without error (string keys, no custom code);
    // the message would still make a distinct, visible hash.
    let bytes = serde_json::to_vec(&document)
        .unwrap_or_else(|e| format!("unserialisable notice: {e}").into_bytes());
    let digest = Sha256::new()
        .chain_update(b"nexaguard-notice\n")
        .chain_update(&bytes)
        .finalize();
    digest
        .iter()
        .take(NOTICE_VERSION_LEN / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}
