//! The consent event schema: what the browser posts to `POST /v1/consents`,
//! what the store records, and the receipt the client gets back.
//!
//! Versioned by [`SCHEMA_VERSION`]; the JSON Schema served at
//! `/v1/schema/consent-event.json` is generated from [`ConsentEvent`].

use crate::config::ConsentState;
use crate::context::EventContext;
use crate::Environment;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// The schema version this server writes and accepts.
pub const SCHEMA_VERSION: u32 = 1;

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

/// A consent event as the SDK posts it. Unknown fields are refused, so a
/// misspelt field never silently drops a signal.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentEventInput {
    /// Chosen by the client (UUID); a retry with the same id records nothing new.
    pub event_id: Uuid,
    /// Must be [`SCHEMA_VERSION`].
    pub schema_version: u32,
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
    /// [`SCHEMA_VERSION`] when recorded.
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

/// The JSON Schema of [`ConsentEvent`], as served.
pub fn consent_event_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ConsentEvent)).unwrap_or_default()
}
