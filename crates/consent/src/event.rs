//! The consent event schema: what the browser posts to `POST /v1/consents`,
//! what the store records, and the receipt the client gets back.
//!
//! Besides choices, the SDK posts impressions ([`ImpressionInput`]): the
//! record that a notice was shown, which a later choice names by its id so
//! that an auditor can pair what was shown with what was chosen.
//!
//! Versioned by [`SCHEMA_VERSION`]; the JSON Schema served at
//! `/v1/schema/consent-event.json` is generated from [`ConsentEvent`].
//! Invariant: every field added after version 1 is optional with a default,
//! so records stored under version 1 still read as [`ConsentEvent`].

use crate::config::ConsentState;
use crate::context::EventContext;
use crate::region::Region;
use crate::regions::{Experience, NOTICE_VERSION_LEN};
use crate::Environment;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// The schema version this server writes.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema version still accepted: SDKs cached in browsers post
/// version 1 for a while after an upgrade.
pub const MIN_SCHEMA_VERSION: u32 = 1;

/// The largest request body `POST /v1/consents` accepts.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;

/// What the visitor did.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// "Accept all" in the banner.
    AcceptAll,
    /// "Reject all" in the banner.
    RejectAll,
    /// A choice purpose by purpose.
    Custom,
    /// Took back an earlier consent.
    Withdraw,
    /// Answered again after a re-consent trigger.
    Reconsent,
}

/// Where the choice was made.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The first-layer banner.
    Banner,
    /// The preference center.
    PreferenceCenter,
    /// The SDK's JavaScript API, called by the site.
    Api,
    /// Imported from another CMP.
    Import,
    /// The browser's Global Privacy Control signal, not a click: the
    /// experience honoured it (`gpc.applied`).
    Gpc,
}

/// The kind of experience a visitor was shown: the `kind` of the regional
/// rule's experience, without its settings.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceKind {
    /// The GDPR banner with the TCF.
    Tcf,
    /// The US notice with opt-out.
    Us,
    /// Opt-in categories without the TCF.
    OptIn,
    /// A notice that asks nothing.
    NoticeOnly,
    /// Nothing shown.
    None,
}

impl ExperienceKind {
    /// The `kind` text (`tcf`, `us`, `opt_in`, `notice_only`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExperienceKind::Tcf => "tcf",
            ExperienceKind::Us => "us",
            ExperienceKind::OptIn => "opt_in",
            ExperienceKind::NoticeOnly => "notice_only",
            ExperienceKind::None => "none",
        }
    }
}

impl From<&Experience> for ExperienceKind {
    fn from(experience: &Experience) -> Self {
        match experience {
            Experience::Tcf => ExperienceKind::Tcf,
            Experience::Us(_) => ExperienceKind::Us,
            Experience::OptIn => ExperienceKind::OptIn,
            Experience::NoticeOnly => ExperienceKind::NoticeOnly,
            Experience::None => ExperienceKind::None,
        }
    }
}

impl fmt::Display for ExperienceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Global Privacy Control as the SDK saw it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Gpc {
    /// Whether the browser sent the signal (`navigator.globalPrivacyControl`).
    pub present: bool,
    /// Whether the experience honoured it (a `us` rule with `honourGpc`).
    pub applied: bool,
}

/// A notice version: 32 lower-case hex digits, as
/// [`notice_version`](crate::regions::notice_version) makes them.
/// Invariant: only such text is ever held, so a malformed one is refused
/// where the event is parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NoticeVersion(String);

/// Why a text is not a notice version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a notice version is 32 lower-case hex digits")]
pub struct InvalidNoticeVersion;

impl NoticeVersion {
    /// The version as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NoticeVersion {
    type Error = InvalidNoticeVersion;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let ok = text.len() == NOTICE_VERSION_LEN
            && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(NoticeVersion(text))
        } else {
            Err(InvalidNoticeVersion)
        }
    }
}

impl From<NoticeVersion> for String {
    fn from(version: NoticeVersion) -> String {
        version.0
    }
}

impl fmt::Display for NoticeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `kind` of a posted choice: absent, or `"choice"`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceKind {
    /// A consent choice.
    Choice,
}

/// `kind` of a posted impression: always `"impression"`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ImpressionKind {
    /// The notice was shown.
    Impression,
}

/// The seven Google Consent Mode v2 states after the choice.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ConsentModeStates {
    /// `ad_storage`.
    pub ad_storage: ConsentState,
    /// `ad_user_data`.
    pub ad_user_data: ConsentState,
    /// `ad_personalization`.
    pub ad_personalization: ConsentState,
    /// `analytics_storage`.
    pub analytics_storage: ConsentState,
    /// `functionality_storage`.
    pub functionality_storage: ConsentState,
    /// `personalization_storage`.
    pub personalization_storage: ConsentState,
    /// `security_storage`.
    pub security_storage: ConsentState,
}

/// `gppSectionIds` in the OpenAPI document: utoipa gives a `u8` no upper
/// bound, and a client reading the document must not send 256.
fn section_ids_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(u8::MAX)),
        )
        .build()
}

/// A consent event as the SDK posts it. Unknown fields are refused, so a
/// misspelt field never silently drops a signal.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentEventInput {
    /// Chosen by the client (UUID); a retry with the same id records nothing new.
    pub event_id: Uuid,
    /// 1 or 2 ([`SCHEMA_VERSION`]); the fields after `sdkVersion` need 2.
    #[schemars(range(min = 1, max = 2))]
    #[schema(minimum = 1, maximum = 2)]
    pub schema_version: u32,
    /// Absent or `"choice"`; an impression says `"impression"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ChoiceKind>,
    /// The public key of the site's environment.
    pub site_key: String,
    /// The environment the site key belongs to.
    pub environment: Environment,
    /// The configuration version the banner showed.
    pub config_version: u32,
    /// The token from an earlier receipt; absent on a first consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_token: Option<String>,
    /// When the visitor chose, by the client's clock (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
    /// What the visitor did.
    pub action: Action,
    /// Where.
    pub source: Source,
    /// The TC string (TCF sites).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tc_string: Option<String>,
    /// Google's Additional Consent string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ac_string: Option<String>,
    /// The Consent Mode v2 states.
    pub consent_mode: ConsentModeStates,
    /// IAB purposes granted.
    #[serde(default)]
    pub purposes: Vec<u32>,
    /// Custom purposes granted.
    #[serde(default)]
    pub custom_purposes: Vec<String>,
    /// IAB vendors granted.
    #[serde(default)]
    pub vendors: Vec<u32>,
    /// Custom vendors granted.
    #[serde(default)]
    pub custom_vendors: Vec<String>,
    /// The language the banner was shown in.
    pub language: String,
    /// The SDK's version.
    pub sdk_version: String,
    /// The region the SDK applied (`US-CA`), from `GET /v1/sites/{key}/region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        with = "Option<String>",
        pattern(r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,3})?$")
    )]
    #[schema(value_type = Option<String>, example = "US-CA", pattern = r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,3})?$")]
    pub region: Option<Region>,
    /// The kind of experience the visitor was shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience: Option<ExperienceKind>,
    /// The GPP string after the choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpp_string: Option<String>,
    /// The section ids of `gppString`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(schema_with = section_ids_schema)]
    pub gpp_section_ids: Vec<u8>,
    /// Global Privacy Control: sent by the browser, honoured by the experience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpc: Option<Gpc>,
    /// The version of the notice shown (32 lower-case hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", pattern(r"^[0-9a-f]{32}$"))]
    #[schema(value_type = Option<String>, pattern = r"^[0-9a-f]{32}$")]
    pub notice_version: Option<NoticeVersion>,
    /// The `eventId` of the impression that showed the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression_id: Option<Uuid>,
}

/// A consent event as recorded: the posted event without the token, plus
/// what the server adds. This is the schema of `/v1/schema/consent-event.json`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentEvent {
    /// The client-chosen event id.
    pub event_id: Uuid,
    /// The schema version posted: 1 (without the fields after
    /// `policyWarnings`) or 2.
    pub schema_version: u32,
    /// The site key the event was posted with.
    pub site_key: String,
    /// Production or staging.
    pub environment: Environment,
    /// The configuration version the banner showed.
    pub config_version: u32,
    /// When the visitor chose, by the client's clock.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
    /// When the server committed the event.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
    /// What the visitor did.
    pub action: Action,
    /// Where.
    pub source: Source,
    /// The TC string, as posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tc_string: Option<String>,
    /// The AC string, as posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ac_string: Option<String>,
    /// The Consent Mode v2 states.
    pub consent_mode: ConsentModeStates,
    /// IAB purposes granted.
    pub purposes: Vec<u32>,
    /// Custom purposes granted.
    pub custom_purposes: Vec<String>,
    /// IAB vendors granted.
    pub vendors: Vec<u32>,
    /// Custom vendors granted.
    pub custom_vendors: Vec<String>,
    /// The banner's language.
    pub language: String,
    /// The SDK's version.
    pub sdk_version: String,
    /// Coarse context: country and device class.
    pub context: EventContext,
    /// TCF policy warnings the TC string raised (codes), kept as evidence.
    #[serde(default)]
    pub policy_warnings: Vec<String>,
    /// The region the SDK applied (`US-CA`), from `GET /v1/sites/{key}/region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", pattern(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"))]
    #[schema(value_type = Option<String>, example = "US-CA")]
    pub region: Option<Region>,
    /// The kind of experience the visitor was shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience: Option<ExperienceKind>,
    /// The GPP string after the choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpp_string: Option<String>,
    /// The section ids of `gppString`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(schema_with = section_ids_schema)]
    pub gpp_section_ids: Vec<u8>,
    /// Global Privacy Control: sent by the browser, honoured by the experience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpc: Option<Gpc>,
    /// The version of the notice shown (32 lower-case hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", pattern(r"^[0-9a-f]{32}$"))]
    #[schema(value_type = Option<String>)]
    pub notice_version: Option<NoticeVersion>,
    /// The `eventId` of the impression that showed the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impression_id: Option<Uuid>,
}

impl ConsentEvent {
    /// The record for `input`, committed at `recorded_at`.
    pub fn record(
        input: ConsentEventInput,
        recorded_at: OffsetDateTime,
        context: EventContext,
        policy_warnings: Vec<String>,
    ) -> Self {
        ConsentEvent {
            event_id: input.event_id,
            schema_version: input.schema_version,
            site_key: input.site_key,
            environment: input.environment,
            config_version: input.config_version,
            timestamp: input.timestamp,
            recorded_at,
            action: input.action,
            source: input.source,
            tc_string: input.tc_string,
            ac_string: input.ac_string,
            consent_mode: input.consent_mode,
            purposes: input.purposes,
            custom_purposes: input.custom_purposes,
            vendors: input.vendors,
            custom_vendors: input.custom_vendors,
            language: input.language,
            sdk_version: input.sdk_version,
            context,
            policy_warnings,
            region: input.region,
            experience: input.experience,
            gpp_string: input.gpp_string,
            gpp_section_ids: input.gpp_section_ids,
            gpc: input.gpc,
            notice_version: input.notice_version,
            impression_id: input.impression_id,
        }
    }
}

/// The answer to a recorded event.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The event id.
    pub event_id: Uuid,
    /// The consent token to send with later events and to restore consent.
    pub consent_token: String,
    /// When the event was committed.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
}

/// An impression as the SDK posts it: the notice was shown. It carries no
/// consent state and needs no consent token. Unknown fields are refused.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImpressionInput {
    /// Chosen by the client (UUID); a retry with the same id records nothing new.
    pub event_id: Uuid,
    /// Must be 2: impressions came with schema version 2.
    #[schemars(range(min = 2, max = 2))]
    #[schema(minimum = 2, maximum = 2)]
    pub schema_version: u32,
    /// `"impression"`.
    pub kind: ImpressionKind,
    /// The public key of the site's environment.
    pub site_key: String,
    /// The environment the site key belongs to.
    pub environment: Environment,
    /// The configuration version the notice came from.
    pub config_version: u32,
    /// When the notice was shown, by the client's clock (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
    /// The region the SDK applied; absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        with = "Option<String>",
        pattern(r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,3})?$")
    )]
    #[schema(value_type = Option<String>, example = "US-CA", pattern = r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,3})?$")]
    pub region: Option<Region>,
    /// The kind of experience shown.
    pub experience: ExperienceKind,
    /// The version of the notice shown.
    #[schemars(with = "String", pattern(r"^[0-9a-f]{32}$"))]
    #[schema(value_type = String, pattern = r"^[0-9a-f]{32}$")]
    pub notice_version: NoticeVersion,
    /// The language the notice was shown in.
    pub language: String,
    /// The SDK's version.
    pub sdk_version: String,
}

/// An impression as recorded: the posted impression plus the time the
/// server committed it. No address, no user agent.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Impression {
    /// The client-chosen event id.
    pub event_id: Uuid,
    /// The schema version posted (2).
    pub schema_version: u32,
    /// The site key the impression was posted with.
    pub site_key: String,
    /// Production or staging.
    pub environment: Environment,
    /// The configuration version the notice came from.
    pub config_version: u32,
    /// When the notice was shown, by the client's clock.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: OffsetDateTime,
    /// When the server committed the impression.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
    /// The region the SDK applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", pattern(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"))]
    #[schema(value_type = Option<String>, example = "US-CA")]
    pub region: Option<Region>,
    /// The kind of experience shown.
    pub experience: ExperienceKind,
    /// The version of the notice shown.
    #[schemars(with = "String", pattern(r"^[0-9a-f]{32}$"))]
    #[schema(value_type = String)]
    pub notice_version: NoticeVersion,
    /// The notice's language.
    pub language: String,
    /// The SDK's version.
    pub sdk_version: String,
}

impl Impression {
    /// The record for `input`, committed at `recorded_at`.
    pub fn record(input: ImpressionInput, recorded_at: OffsetDateTime) -> Self {
        Impression {
            event_id: input.event_id,
            schema_version: input.schema_version,
            site_key: input.site_key,
            environment: input.environment,
            config_version: input.config_version,
            timestamp: input.timestamp,
            recorded_at,
            region: input.region,
            experience: input.experience,
            notice_version: input.notice_version,
            language: input.language,
            sdk_version: input.sdk_version,
        }
    }
}

/// The answer to a recorded impression: no consent token, since an
/// impression neither needs nor makes one.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ImpressionReceipt {
    /// The impression's event id.
    pub event_id: Uuid,
    /// When the impression was committed.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: OffsetDateTime,
}

/// The JSON Schema of [`ConsentEvent`], as served.
pub fn consent_event_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ConsentEvent)).unwrap_or_default()
}
