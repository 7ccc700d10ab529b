//! Whether a posted consent event may be recorded for a site.
//!
//! The checks need only the event, the site's published configuration and
//! the server's Global Vendor List, so they run before anything touches the
//! store: a refused event stores nothing.

use crate::config::{Regulation, SiteConfig};
use crate::event::{ConsentEventInput, SCHEMA_VERSION};
use crate::token::{ConsentToken, InvalidToken};
use crate::Environment;
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
    /// schemaVersion is not [`SCHEMA_VERSION`].
    #[error("schemaVersion {0} is not supported; this server accepts {SCHEMA_VERSION}")]
    SchemaVersion(u32),
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
            EventError::SchemaVersion(_) => "unsupported_schema_version",
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
    if input.schema_version != SCHEMA_VERSION {
        return Err(EventError::SchemaVersion(input.schema_version));
    }
    if input.environment != site.environment {
        return Err(EventError::WrongEnvironment {
            claimed: input.environment,
            actual: site.environment,
        });
    }
    if input.config_version == 0 || input.config_version > site.config_version {
        return Err(EventError::ConfigVersion {
            got: input.config_version,
            latest: site.config_version,
        });
    }
    if input.timestamp > now + MAX_CLOCK_SKEW || input.timestamp < now - MAX_EVENT_AGE {
        return Err(EventError::Timestamp(input.timestamp.to_string()));
    }
    check_lengths(&input)?;
    let config = site.config;
    if !config.languages.contains_key(&input.language) {
        return Err(EventError::UnknownLanguage(input.language.clone()));
    }
    check_choices(&input, config)?;
    let policy_warnings = match (&input.tc_string, config.regulation) {
        (Some(tc), Regulation::Tcf) => check_tc_string(tc, config, gvl, now)?,
        (None, Regulation::Tcf) => return Err(EventError::MissingTcString),
        (Some(_), Regulation::OptIn) => return Err(EventError::UnexpectedTcString),
        (None, Regulation::OptIn) => Vec::new(),
    };
    if let Some(ac) = &input.ac_string {
        nexaguard_tcf::ac::AcString::parse(ac).map_err(|e| EventError::AcString(e.to_string()))?;
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

fn check_lengths(input: &ConsentEventInput) -> Result<(), EventError> {
    let limits: [(&'static str, usize, usize); 3] = [
        ("language", input.language.len(), 35),
        ("sdkVersion", input.sdk_version.len(), 32),
        ("siteKey", input.site_key.len(), 64),
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
