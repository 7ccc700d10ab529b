//! Whether a posted consent event may be recorded for a site.
//!
//! The checks need only the event, the site's published configuration and
//! the server's Global Vendor List, so they run before anything touches the
//! store: a refused event stores nothing. Impressions ([`check_impression`])
//! go through the same checks where they carry the same fields.
//!
//! What the visitor was shown (experience, notice version) is checked
//! against the newest published configuration only when the event names
//! that version: for an older one the server does not hold the
//! configuration at hand, and refusing would lose the choices of visitors
//! whose banner was loaded just before a publish.

use crate::config::{Regulation, SiteConfig};
use crate::event::{
    ConsentEventInput, ExperienceKind, ImpressionInput, NoticeVersion, Source, MIN_SCHEMA_VERSION,
    SCHEMA_VERSION,
};
use crate::region::Region;
use crate::regions::{notice_version, GPP_TCFEUV2};
use crate::token::{ConsentToken, InvalidToken};
use crate::Environment;
use nexaguard_gpp::{GppError, Section};
use nexaguard_tcf::gvl::Gvl;
use nexaguard_tcf::policy::{self, Finding};
use nexaguard_tcf::{DecodeError, Timestamp};
use time::{Duration, OffsetDateTime};

/// How far ahead of the server's clock a client timestamp may be.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(10);

/// How old an event may be when it arrives (offline clients, imports).
pub const MAX_EVENT_AGE: Duration = Duration::days(30);

/// What the server knows of the site environment a site key names.
#[derive(Debug, Clone, Copy)]
pub struct SiteEnvironment<'a> {
    /// The environment the site key belongs to.
    pub environment: Environment,
    /// The newest published configuration version.
    pub config_version: u32,
    /// That configuration.
    pub config: &'a SiteConfig,
    /// `config.notice_versions()`, computed once per published
    /// configuration rather than hashed again for every event.
    pub notice_versions: &'a [String],
}

/// An event that passed every check.
#[derive(Debug, Clone)]
pub struct CheckedEvent {
    /// The event as posted.
    pub input: ConsentEventInput,
    /// The token it carried, if any.
    pub token: Option<ConsentToken>,
    /// Codes of the TCF policy warnings, kept with the record.
    pub policy_warnings: Vec<String>,
}

/// Why an event was refused. Each variant has a stable [`code`](Self::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// schemaVersion is neither [`MIN_SCHEMA_VERSION`] nor anything up to
    /// [`SCHEMA_VERSION`].
    #[error("schemaVersion {0} is not supported; this server accepts {MIN_SCHEMA_VERSION} to {SCHEMA_VERSION}")]
    SchemaVersion(u32),
    /// An impression whose schemaVersion is not 2, the version that
    /// brought impressions.
    #[error(
        "schemaVersion {0} is not supported for an impression; impressions have schemaVersion 2"
    )]
    ImpressionSchemaVersion(u32),
    /// A field (or value) of schema version 2 in an event that says 1.
    #[error("{0} needs schemaVersion 2; this event says schemaVersion 1")]
    NeedsSchemaVersion2(&'static str),
    /// The experience posted is not the one the published configuration
    /// gives the posted region.
    #[error("experience {got} is not the one the site gives {region}: {expected}")]
    ExperienceMismatch {
        /// Posted.
        got: ExperienceKind,
        /// What `experience_for(region)` gives.
        expected: ExperienceKind,
        /// The posted region, or "an unknown region".
        region: String,
    },
    /// The notice version posted is not the published one for the
    /// region's experience.
    #[error(
        "noticeVersion {got} is not the version of the notice the site shows {region}: {expected}"
    )]
    NoticeVersionMismatch {
        /// Posted.
        got: NoticeVersion,
        /// What `notice_version` gives.
        expected: String,
        /// The posted region, or "an unknown region".
        region: String,
    },
    /// The GPP string does not decode.
    #[error("gppString: {0}")]
    GppString(#[from] GppError),
    /// gppSectionIds are not the section ids of the GPP string.
    #[error("gppSectionIds {posted:?} are not the sections of gppString: {decoded:?}")]
    GppSectionsMismatch {
        /// Posted.
        posted: Vec<u8>,
        /// In the GPP string.
        decoded: Vec<u8>,
    },
    /// The GPP string's `tcfeuv2` section is not the posted TC string.
    #[error("the tcfeuv2 section of gppString is not the TC string of tcString")]
    GppTcfMismatch,
    /// `source` is `gpc` but the experience did not apply the signal.
    #[error("source gpc needs gpc.applied: the choice was made by the signal only where the experience honoured it")]
    GpcNotApplied,
    /// The site key belongs to the other environment.
    #[error("the site key belongs to {actual}, not {claimed}")]
    WrongEnvironment {
        /// The environment in the body.
        claimed: Environment,
        /// The site key's.
        actual: Environment,
    },
    /// configVersion names no published version.
    #[error("configVersion {got} is not a published version (1..={latest})")]
    ConfigVersion {
        /// What the event named.
        got: u32,
        /// The newest published.
        latest: u32,
    },
    /// The timestamp is too far in the future or the past.
    #[error("timestamp {0} is more than 10 minutes ahead of the server or more than 30 days old")]
    Timestamp(String),
    /// A TCF site's event without a TC string.
    #[error("tcString is required for a TCF site")]
    MissingTcString,
    /// An opt-in site's event with a TC string.
    #[error("tcString is not accepted for a site without TCF")]
    UnexpectedTcString,
    /// The TC string does not decode.
    #[error("tcString: {0}")]
    TcString(#[from] DecodeError),
    /// The TC string breaks a TCF policy rule (error findings only).
    #[error("tcString violates TCF policy: {}", first_message(.0))]
    Policy(Vec<Finding>),
    /// The TC string was written by another CMP.
    #[error("tcString has cmpId {got}; this site's CMP id is {expected}")]
    CmpMismatch {
        /// In the TC string.
        got: u16,
        /// In the configuration.
        expected: u16,
    },
    /// An IAB purpose the site does not ask for.
    #[error("purpose {0} is not one of the site's purposes")]
    UnknownPurpose(u32),
    /// An IAB vendor the site does not work with.
    #[error("vendor {0} is not one of the site's vendors")]
    UnknownVendor(u32),
    /// A custom purpose the site does not have.
    #[error("custom purpose {0:?} is not one of the site's")]
    UnknownCustomPurpose(String),
    /// A custom vendor the site does not have.
    #[error("custom vendor {0:?} is not one of the site's")]
    UnknownCustomVendor(String),
    /// A language the site has no texts for.
    #[error("language {0:?} is not one of the site's languages")]
    UnknownLanguage(String),
    /// The AC string does not parse.
    #[error("acString: {0}")]
    AcString(String),
    /// The consent token is malformed.
    #[error(transparent)]
    Token(#[from] InvalidToken),
    /// A text field is longer than allowed.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
}

fn first_message(findings: &[Finding]) -> String {
    findings
        .first()
        .map(|f| format!("{} ({})", f.message, f.code))
        .unwrap_or_default()
}

impl EventError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            EventError::SchemaVersion(_) | EventError::ImpressionSchemaVersion(_) => {
                "unsupported_schema_version"
            }
            EventError::NeedsSchemaVersion2(_) => "schema_version_mismatch",
            EventError::ExperienceMismatch { .. } => "experience_mismatch",
            EventError::NoticeVersionMismatch { .. } => "notice_version_mismatch",
            EventError::GppString(_) => "invalid_gpp_string",
            EventError::GppSectionsMismatch { .. } => "gpp_sections_mismatch",
            EventError::GppTcfMismatch => "gpp_tcf_mismatch",
            EventError::GpcNotApplied => "gpc_not_applied",
            EventError::WrongEnvironment { .. } => "wrong_environment",
            EventError::ConfigVersion { .. } => "unknown_config_version",
            EventError::Timestamp(_) => "timestamp_out_of_range",
            EventError::MissingTcString => "missing_tc_string",
            EventError::UnexpectedTcString => "unexpected_tc_string",
            EventError::TcString(_) => "invalid_tc_string",
            EventError::Policy(_) => "tc_policy_violation",
            EventError::CmpMismatch { .. } => "cmp_id_mismatch",
            EventError::UnknownPurpose(_) => "unknown_purpose",
            EventError::UnknownVendor(_) => "unknown_vendor",
            EventError::UnknownCustomPurpose(_) => "unknown_custom_purpose",
            EventError::UnknownCustomVendor(_) => "unknown_custom_vendor",
            EventError::UnknownLanguage(_) => "unknown_language",
            EventError::AcString(_) => "invalid_ac_string",
            EventError::Token(_) => "invalid_consent_token",
            EventError::TooLong { .. } => "field_too_long",
        }
    }
}

/// Checks `input` for the site environment its key named, against `gvl`,
/// at server time `now`.
pub fn check_event(
    input: ConsentEventInput,
    site: SiteEnvironment<'_>,
    gvl: &Gvl,
    now: OffsetDateTime,
) -> Result<CheckedEvent, EventError> {
    if !(MIN_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&input.schema_version) {
        return Err(EventError::SchemaVersion(input.schema_version));
    }
    if input.schema_version == 1 {
        if let Some(field) = v2_field(&input) {
            return Err(EventError::NeedsSchemaVersion2(field));
        }
    }
    check_target(
        input.environment,
        input.config_version,
        input.timestamp,
        site,
        now,
    )?;
    check_lengths(&input.language, &input.sdk_version, &input.site_key)?;
    let config = site.config;
    if !config.languages.contains_key(&input.language) {
        return Err(EventError::UnknownLanguage(input.language.clone()));
    }
    check_choices(&input, config)?;
    check_shown(
        input.region.as_ref(),
        input.experience,
        input.notice_version.as_ref(),
        input.config_version,
        site,
    )?;
    // A v2 event says which experience it was made in, and a TC string
    // belongs to the TCF one only; a v1 event follows the site's regulation.
    let tcf = match input.experience {
        Some(kind) => kind == ExperienceKind::Tcf,
        None => config.regulation == Regulation::Tcf,
    };
    let policy_warnings = match (&input.tc_string, tcf) {
        (Some(tc), true) => check_tc_string(tc, config, gvl, now)?,
        (None, true) => return Err(EventError::MissingTcString),
        (Some(_), false) => return Err(EventError::UnexpectedTcString),
        (None, false) => Vec::new(),
    };
    if let Some(ac) = &input.ac_string {
        nexaguard_tcf::ac::AcString::parse(ac).map_err(|e| EventError::AcString(e.to_string()))?;
    }
    check_gpp(&input)?;
    if input.source == Source::Gpc && !input.gpc.is_some_and(|gpc| gpc.applied) {
        return Err(EventError::GpcNotApplied);
    }
    let token = input
        .consent_token
        .as_deref()
        .map(ConsentToken::parse)
        .transpose()?;
    Ok(CheckedEvent {
        input,
        token,
        policy_warnings,
    })
}

/// Checks an impression for the site environment its key named, at server
/// time `now`: the same rules as a choice for the fields they share, and
/// schema version 2 only.
pub fn check_impression(
    input: ImpressionInput,
    site: SiteEnvironment<'_>,
    now: OffsetDateTime,
) -> Result<ImpressionInput, EventError> {
    if input.schema_version != 2 {
        return Err(EventError::ImpressionSchemaVersion(input.schema_version));
    }
    check_target(
        input.environment,
        input.config_version,
        input.timestamp,
        site,
        now,
    )?;
    check_lengths(&input.language, &input.sdk_version, &input.site_key)?;
    if !site.config.languages.contains_key(&input.language) {
        return Err(EventError::UnknownLanguage(input.language.clone()));
    }
    check_shown(
        input.region.as_ref(),
        Some(input.experience),
        Some(&input.notice_version),
        input.config_version,
        site,
    )?;
    Ok(input)
}

/// The first field of schema version 2 that `input` carries, by its JSON
/// name: a version 1 event must not, since a v1 reader would drop it.
fn v2_field(input: &ConsentEventInput) -> Option<&'static str> {
    [
        ("kind", input.kind.is_some()),
        ("source gpc", input.source == Source::Gpc),
        ("region", input.region.is_some()),
        ("experience", input.experience.is_some()),
        ("gppString", input.gpp_string.is_some()),
        ("gppSectionIds", !input.gpp_section_ids.is_empty()),
        ("gpc", input.gpc.is_some()),
        ("noticeVersion", input.notice_version.is_some()),
        ("impressionId", input.impression_id.is_some()),
    ]
    .into_iter()
    .find_map(|(field, present)| present.then_some(field))
}

/// The environment, configuration version and time every posted event
/// must fit.
fn check_target(
    environment: Environment,
    config_version: u32,
    timestamp: OffsetDateTime,
    site: SiteEnvironment<'_>,
    now: OffsetDateTime,
) -> Result<(), EventError> {
    if environment != site.environment {
        return Err(EventError::WrongEnvironment {
            claimed: environment,
            actual: site.environment,
        });
    }
    if config_version == 0 || config_version > site.config_version {
        return Err(EventError::ConfigVersion {
            got: config_version,
            latest: site.config_version,
        });
    }
    if timestamp > now + MAX_CLOCK_SKEW || timestamp < now - MAX_EVENT_AGE {
        return Err(EventError::Timestamp(timestamp.to_string()));
    }
    Ok(())
}

/// The experience and notice version posted must be what the newest
/// configuration gives the posted region, when the event names that
/// configuration (see the module header for older ones).
fn check_shown(
    region: Option<&Region>,
    experience: Option<ExperienceKind>,
    notice: Option<&NoticeVersion>,
    config_version: u32,
    site: SiteEnvironment<'_>,
) -> Result<(), EventError> {
    if config_version != site.config_version || (experience.is_none() && notice.is_none()) {
        return Ok(());
    }
    let resolved = site.config.experience_for(region);
    let region_text = || {
        region.map_or_else(
            || "an unknown region".to_owned(),
            |region| format!("region {region}"),
        )
    };
    if let Some(got) = experience {
        let expected = ExperienceKind::from(&resolved.experience);
        if got != expected {
            return Err(EventError::ExperienceMismatch {
                got,
                expected,
                region: region_text(),
            });
        }
    }
    if let Some(got) = notice {
        let index = resolved.rule.unwrap_or(site.config.regions.len());
        let expected = match site.notice_versions.get(index) {
            Some(version) => version.clone(),
            None => notice_version(site.config, &resolved),
        };
        if got.as_str() != expected {
            return Err(EventError::NoticeVersionMismatch {
                got: got.clone(),
                expected,
                region: region_text(),
            });
        }
    }
    Ok(())
}

/// The GPP string must decode, list exactly the posted section ids, and
/// carry in its `tcfeuv2` section the same TC string as `tcString`.
fn check_gpp(input: &ConsentEventInput) -> Result<(), EventError> {
    let mut posted = input.gpp_section_ids.clone();
    posted.sort_unstable();
    let Some(text) = &input.gpp_string else {
        if posted.is_empty() {
            return Ok(());
        }
        return Err(EventError::GppSectionsMismatch {
            posted: input.gpp_section_ids.clone(),
            decoded: Vec::new(),
        });
    };
    let gpp = nexaguard_gpp::decode(text)?;
    let decoded = gpp.section_ids();
    if posted != decoded {
        return Err(EventError::GppSectionsMismatch {
            posted: input.gpp_section_ids.clone(),
            decoded,
        });
    }
    if let Some(Section::TcfEuV2(section)) = gpp.section(GPP_TCFEUV2) {
        // Compared as decoded models: the question is whether both carry
        // the same signals, not how each was spelt.
        let same = input
            .tc_string
            .as_deref()
            .and_then(|tc| nexaguard_tcf::decode(tc).ok())
            .is_some_and(|model| model == section.0);
        if !same {
            return Err(EventError::GppTcfMismatch);
        }
    }
    Ok(())
}

fn check_lengths(language: &str, sdk_version: &str, site_key: &str) -> Result<(), EventError> {
    let limits: [(&'static str, usize, usize); 3] = [
        ("language", language.len(), 35),
        ("sdkVersion", sdk_version.len(), 32),
        ("siteKey", site_key.len(), 64),
    ];
    for (field, len, max) in limits {
        if len > max {
            return Err(EventError::TooLong { field, max });
        }
    }
    Ok(())
}

fn check_choices(input: &ConsentEventInput, config: &SiteConfig) -> Result<(), EventError> {
    if let Some(&p) = input.purposes.iter().find(|p| !config.purposes.contains(p)) {
        return Err(EventError::UnknownPurpose(p));
    }
    if let Some(&v) = input.vendors.iter().find(|v| !config.vendors.contains(v)) {
        return Err(EventError::UnknownVendor(v));
    }
    if let Some(p) = input
        .custom_purposes
        .iter()
        .find(|p| !config.has_custom_purpose(p))
    {
        return Err(EventError::UnknownCustomPurpose(p.clone()));
    }
    if let Some(v) = input
        .custom_vendors
        .iter()
        .find(|v| !config.has_custom_vendor(v))
    {
        return Err(EventError::UnknownCustomVendor(v.clone()));
    }
    Ok(())
}

/// Decodes the TC string, refuses policy errors and signals for purposes or
/// vendors outside the site's configuration, and returns the warning codes.
fn check_tc_string(
    tc: &str,
    config: &SiteConfig,
    gvl: &Gvl,
    now: OffsetDateTime,
) -> Result<Vec<String>, EventError> {
    let model = nexaguard_tcf::decode(tc)?;
    if model.cmp_id != config.cmp_id {
        return Err(EventError::CmpMismatch {
            got: model.cmp_id,
            expected: config.cmp_id,
        });
    }
    let consented = model
        .purpose_consents
        .iter()
        .chain(model.purpose_legitimate_interests.iter());
    if let Some(p) = consented.into_iter().find(|p| !config.purposes.contains(p)) {
        return Err(EventError::UnknownPurpose(p));
    }
    let vendors = model
        .vendor_consents
        .iter()
        .chain(model.vendor_legitimate_interests.iter());
    if let Some(v) = vendors.into_iter().find(|v| !config.vendors.contains(v)) {
        return Err(EventError::UnknownVendor(v));
    }
    let millis = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let now = Timestamp::from_unix_millis(millis).unwrap_or(model.last_updated);
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) = policy::validate(&model, gvl, now)
        .into_iter()
        .partition(Finding::is_error);
    if !errors.is_empty() {
        return Err(EventError::Policy(errors));
    }
    Ok(warnings
        .into_iter()
        .map(|f| f.code.as_str().to_owned())
        .collect())
}
