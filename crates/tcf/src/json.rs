//! The TC model as JSON, with exactly the property names of the IAB
//! reference library's `TCModel` (@iabtechlabtcf/core), so tools built on
//! either library read the other's output.
//!
//! Output ([`TcModelJson`]) serialises straight from a [`TcModel`] without
//! collecting ids into vectors. Input ([`from_json`]) is strict: unknown
//! properties are errors, so a misspelt property never silently drops a signal.

use crate::idset::{IdOutOfRange, IdSet, VendorSet};
use crate::model::{
    Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel, Timestamp,
    CURRENT_POLICY_VERSION, TC_STRING_VERSION,
};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// A [`TcModel`] as reference-library JSON.
///
/// The JSON is written by hand rather than derived: `tcf decode` writes
/// thousands of vendor ids per string, and a table lookup per id is several
/// times faster than a general serializer (see docs/benchmarks.md). All
/// strings in the output are digits, ISO times or A-Z letters, so nothing
/// needs escaping.
pub struct TcModelJson<'a>(pub &'a TcModel);

impl TcModelJson<'_> {
    /// Appends the compact JSON object to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let m = self.0;
        let publisher = m.publisher_tc.as_ref();
        out.extend_from_slice(b"{\"version\":");
        write_u32(out, u32::from(TC_STRING_VERSION));
        out.extend_from_slice(b",\"created\":\"");
        out.extend_from_slice(iso_8601(m.created).as_bytes());
        out.extend_from_slice(b"\",\"lastUpdated\":\"");
        out.extend_from_slice(iso_8601(m.last_updated).as_bytes());
        out.push(b'"');
        number(out, "cmpId", m.cmp_id.into());
        number(out, "cmpVersion", m.cmp_version.into());
        number(out, "consentScreen", m.consent_screen.into());
        text(out, "consentLanguage", m.consent_language.as_str());
        number(out, "vendorListVersion", m.vendor_list_version.into());
        number(out, "policyVersion", m.policy_version.into());
        boolean(out, "isServiceSpecific", m.is_service_specific);
        boolean(out, "useNonStandardTexts", m.use_non_standard_texts);
        boolean(out, "purposeOneTreatment", m.purpose_one_treatment);
        text(
            out,
            "publisherCountryCode",
            m.publisher_country_code.as_str(),
        );
        ids(out, "specialFeatureOptins", m.special_feature_optins.iter());
        ids(out, "purposeConsents", m.purpose_consents.iter());
        ids(
            out,
            "purposeLegitimateInterests",
            m.purpose_legitimate_interests.iter(),
        );
        ids(out, "vendorConsents", m.vendor_consents.iter());
        ids(
            out,
            "vendorLegitimateInterests",
            m.vendor_legitimate_interests.iter(),
        );
        let disclosed = m.vendors_disclosed.as_ref();
        ids(
            out,
            "vendorsDisclosed",
            disclosed.into_iter().flat_map(VendorSet::iter),
        );
        if let Some(allowed) = &m.vendors_allowed {
            ids(out, "vendorsAllowed", allowed.iter());
        }
        ids(
            out,
            "publisherConsents",
            publisher
                .into_iter()
                .flat_map(|p| p.purpose_consents.iter()),
        );
        ids(
            out,
            "publisherLegitimateInterests",
            publisher
                .into_iter()
                .flat_map(|p| p.purpose_legitimate_interests.iter()),
        );
        number(
            out,
            "numCustomPurposes",
            publisher.map_or(0, |p| p.num_custom_purposes.into()),
        );
        ids(
            out,
            "publisherCustomConsents",
            publisher
                .into_iter()
                .flat_map(|p| p.custom_purpose_consents.iter()),
        );
        ids(
            out,
            "publisherCustomLegitimateInterests",
            publisher
                .into_iter()
                .flat_map(|p| p.custom_purpose_legitimate_interests.iter()),
        );
        write_restrictions(out, &m.publisher_restrictions);
        out.push(b'}');
    }

    /// The compact JSON object as a string.
    pub fn to_json_string(&self) -> String {
        let mut out = Vec::with_capacity(1024);
        self.write_to(&mut out);
        // Only ASCII is ever written.
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Embeds the JSON in a larger serde_json document verbatim. Only
/// serde_json understands raw values; other serializers are not supported.
impl Serialize for TcModelJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_json_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

fn number(out: &mut Vec<u8>, name: &str, value: u32) {
    key(out, name);
    write_u32(out, value);
}

fn boolean(out: &mut Vec<u8>, name: &str, value: bool) {
    key(out, name);
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

fn text(out: &mut Vec<u8>, name: &str, value: &str) {
    key(out, name);
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
}

fn ids(out: &mut Vec<u8>, name: &str, values: impl Iterator<Item = u32>) {
    key(out, name);
    write_id_array(out, values);
}

fn write_restrictions(out: &mut Vec<u8>, all: &[PublisherRestriction]) {
    let mut sorted: Vec<&PublisherRestriction> = all.iter().collect();
    sorted.sort_by_key(|r| (r.purpose_id, r.restriction_type));
    key(out, "publisherRestrictions");
    out.push(b'[');
    for (i, r) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"purposeId\":");
        write_u32(out, r.purpose_id.into());
        number(out, "restrictionType", r.restriction_type.bits().into());
        ids(out, "vendorIds", r.vendors.iter());
        out.push(b'}');
    }
    out.push(b']');
}

/// Ids below this are written from [`ID_TEXT`]; larger ones digit by digit.
const TABLE_IDS: usize = 10_000;

/// For each id below [`TABLE_IDS`]: its decimal digits followed by a comma,
/// padded to 8 bytes, and in the last byte the length of digits plus comma.
/// Writing an id is then one fixed 8-byte copy.
static ID_TEXT: [[u8; 8]; TABLE_IDS] = id_table();

// Evaluated at compile time: an index out of bounds would fail the build,
// not panic at run time.
#[allow(clippy::indexing_slicing)]
const fn id_table() -> [[u8; 8]; TABLE_IDS] {
    let mut table = [[0u8; 8]; TABLE_IDS];
    let mut id = 0;
    while id < TABLE_IDS {
        let mut digits = [0u8; 4];
        let mut n = id;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut i = 0;
        while i < len {
            table[id][i] = digits[len - 1 - i];
            i += 1;
        }
        table[id][len] = b',';
        table[id][7] = (len + 1) as u8;
        id += 1;
    }
    table
}

/// Writes `[a,b,c]`. Reserves room for every id up front (8 bytes each, the
/// table's copy width) and trims the slack at the end, so that the loop is
/// a copy and an add per id, with no allocation.
fn write_id_array(out: &mut Vec<u8>, values: impl Iterator<Item = u32>) {
    out.push(b'[');
    let start = out.len();
    let mut pos = start;
    for id in values {
        let entry = ID_TEXT.get(id as usize);
        if out.len() < pos + 8 {
            out.resize((pos + 8).max(out.len() * 2), 0);
        }
        match (entry, out.get_mut(pos..pos + 8)) {
            (Some(entry), Some(slot)) => {
                slot.copy_from_slice(entry);
                pos += usize::from(entry[7]);
            }
            _ => {
                out.truncate(pos);
                write_u32(out, id);
                out.push(b',');
                pos = out.len();
            }
        }
    }
    out.truncate(pos);
    if pos > start {
        // The last id's comma becomes the closing bracket.
        out.truncate(pos - 1);
    }
    out.push(b']');
}

fn write_u32(out: &mut Vec<u8>, value: u32) {
    let mut digits = [0u8; 10];
    let mut n = value;
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// A timestamp as JavaScript's `Date.toISOString()` writes it.
struct IsoTime(Timestamp);

impl fmt::Display for IsoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.unix_millis();
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map_err(|_| fmt::Error)?;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }
}

/// Formats a timestamp as `Date.toISOString()` does (`2024-05-01T00:00:00.000Z`).
pub fn iso_8601(t: Timestamp) -> String {
    IsoTime(t).to_string()
}

/// Why JSON could not become a [`TcModel`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON, or not the expected shape (unknown property, wrong type).
    #[error("invalid JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// A property with a value the TC string cannot carry.
    #[error("property {property}: {message}")]
    InvalidValue {
        /// The property (reference-library name).
        property: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl JsonError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::Syntax(_) => "invalid_json",
            JsonError::InvalidValue { .. } => "invalid_value",
        }
    }
}

/// The reference-library JSON as read; every property optional.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct TcModelInput {
    version: Option<u8>,
    created: Option<String>,
    last_updated: Option<String>,
    cmp_id: u16,
    cmp_version: u16,
    consent_screen: u8,
    consent_language: Option<String>,
    vendor_list_version: u16,
    policy_version: Option<u8>,
    is_service_specific: bool,
    use_non_standard_texts: bool,
    purpose_one_treatment: bool,
    publisher_country_code: Option<String>,
    special_feature_optins: Vec<u32>,
    purpose_consents: Vec<u32>,
    purpose_legitimate_interests: Vec<u32>,
    vendor_consents: Vec<u32>,
    vendor_legitimate_interests: Vec<u32>,
    vendors_disclosed: Vec<u32>,
    vendors_allowed: Option<Vec<u32>>,
    publisher_consents: Vec<u32>,
    publisher_legitimate_interests: Vec<u32>,
    num_custom_purposes: u8,
    publisher_custom_consents: Vec<u32>,
    publisher_custom_legitimate_interests: Vec<u32>,
    publisher_restrictions: Vec<RestrictionInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RestrictionInput {
    purpose_id: u8,
    restriction_type: u8,
    vendor_ids: Vec<u32>,
}

/// Reads reference-library JSON into a model. `today` is used for `created`
/// and `lastUpdated` when they are absent (the spec asks for day precision).
pub fn from_json(json: &str, today: Date) -> Result<TcModel, JsonError> {
    let input: TcModelInput = serde_json::from_str(json)?;
    input.into_model(today)
}

impl TcModelInput {
    fn into_model(self, today: Date) -> Result<TcModel, JsonError> {
        if let Some(v) = self.version.filter(|&v| v != TC_STRING_VERSION) {
            return Err(invalid("version", format!("{v} is not supported; only 2")));
        }
        let day = day_timestamp(today)?;
        let publisher_tc = self.publisher_tc()?;
        Ok(TcModel {
            created: optional_time("created", self.created.as_deref(), day)?,
            last_updated: optional_time("lastUpdated", self.last_updated.as_deref(), day)?,
            cmp_id: self.cmp_id,
            cmp_version: self.cmp_version,
            consent_screen: self.consent_screen,
            consent_language: letters("consentLanguage", self.consent_language.as_deref(), "EN")?,
            vendor_list_version: self.vendor_list_version,
            policy_version: self.policy_version.unwrap_or(CURRENT_POLICY_VERSION),
            is_service_specific: self.is_service_specific,
            use_non_standard_texts: self.use_non_standard_texts,
            special_feature_optins: id_set("specialFeatureOptins", &self.special_feature_optins)?,
            purpose_consents: id_set("purposeConsents", &self.purpose_consents)?,
            purpose_legitimate_interests: id_set(
                "purposeLegitimateInterests",
                &self.purpose_legitimate_interests,
            )?,
            purpose_one_treatment: self.purpose_one_treatment,
            publisher_country_code: letters(
                "publisherCountryCode",
                self.publisher_country_code.as_deref(),
                "AA",
            )?,
            vendor_consents: vendor_set("vendorConsents", &self.vendor_consents)?,
            vendor_legitimate_interests: vendor_set(
                "vendorLegitimateInterests",
                &self.vendor_legitimate_interests,
            )?,
            publisher_restrictions: restrictions(self.publisher_restrictions)?,
            vendors_disclosed: Some(vendor_set("vendorsDisclosed", &self.vendors_disclosed)?),
            vendors_allowed: self
                .vendors_allowed
                .map(|ids| vendor_set("vendorsAllowed", &ids))
                .transpose()?,
            publisher_tc,
        })
    }

    /// The publisher TC segment exists when any publisher property is set.
    fn publisher_tc(&self) -> Result<Option<PublisherTc>, JsonError> {
        let p = PublisherTc {
            purpose_consents: id_set("publisherConsents", &self.publisher_consents)?,
            purpose_legitimate_interests: id_set(
                "publisherLegitimateInterests",
                &self.publisher_legitimate_interests,
            )?,
            num_custom_purposes: self.num_custom_purposes,
            custom_purpose_consents: id_set(
                "publisherCustomConsents",
                &self.publisher_custom_consents,
            )?,
            custom_purpose_legitimate_interests: id_set(
                "publisherCustomLegitimateInterests",
                &self.publisher_custom_legitimate_interests,
            )?,
        };
        Ok((p != PublisherTc::default()).then_some(p))
    }
}

fn invalid(property: &'static str, message: String) -> JsonError {
    JsonError::InvalidValue { property, message }
}

fn out_of_range(property: &'static str, e: IdOutOfRange) -> JsonError {
    invalid(property, e.to_string())
}

fn id_set<const N: u32>(property: &'static str, ids: &[u32]) -> Result<IdSet<N>, JsonError> {
    IdSet::try_from(ids).map_err(|e| out_of_range(property, e))
}

fn vendor_set(property: &'static str, ids: &[u32]) -> Result<VendorSet, JsonError> {
    VendorSet::try_from(ids).map_err(|e| out_of_range(property, e))
}

fn letters(property: &'static str, s: Option<&str>, default: &str) -> Result<Letters, JsonError> {
    Letters::parse(s.unwrap_or(default)).map_err(|e| invalid(property, e.to_string()))
}

fn restrictions(input: Vec<RestrictionInput>) -> Result<Vec<PublisherRestriction>, JsonError> {
    const PROPERTY: &str = "publisherRestrictions";
    input
        .into_iter()
        .map(|r| {
            let restriction_type =
                RestrictionType::from_bits(r.restriction_type).ok_or_else(|| {
                    invalid(
                        PROPERTY,
                        format!("restrictionType {} is not 0, 1 or 2", r.restriction_type),
                    )
                })?;
            if !(1..=63).contains(&r.purpose_id) {
                return Err(invalid(
                    PROPERTY,
                    format!("purposeId {} is not in 1..=63", r.purpose_id),
                ));
            }
            Ok(PublisherRestriction {
                purpose_id: r.purpose_id,
                restriction_type,
                vendors: vendor_set(PROPERTY, &r.vendor_ids)?,
            })
        })
        .collect()
}

fn day_timestamp(day: Date) -> Result<Timestamp, JsonError> {
    let seconds = day.midnight().assume_utc().unix_timestamp();
    Timestamp::from_unix_millis(seconds * 1000)
        .ok_or_else(|| invalid("created", format!("{day} cannot be stored in a TC string")))
}

fn optional_time(
    property: &'static str,
    value: Option<&str>,
    default: Timestamp,
) -> Result<Timestamp, JsonError> {
    let Some(text) = value else {
        return Ok(default);
    };
    let parsed = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| invalid(property, format!("{text:?} is not an ISO 8601 time: {e}")))?;
    let ms = parsed.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms)
        .ok()
        .and_then(Timestamp::from_unix_millis)
        .ok_or_else(|| {
            invalid(
                property,
                format!("{text} is outside what a TC string can hold"),
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::date;

    #[test]
    fn iso_time_matches_javascript() {
        let t = Timestamp::from_unix_millis(1_714_521_600_700).unwrap();
        assert_eq!(iso_8601(t), "2024-05-01T00:00:00.700Z");
    }

    #[test]
    fn defaults_fill_in_day_precision_times() {
        let m = from_json("{}", date!(2026 - 11 - 22)).unwrap();
        assert_eq!(iso_8601(m.created), "2026-11-22T00:00:00.000Z");
        assert_eq!(m.created, m.last_updated);
        assert_eq!(m.policy_version, CURRENT_POLICY_VERSION);
        assert!(m.publisher_tc.is_none());
        assert_eq!(m.vendors_disclosed, Some(VendorSet::new()));
    }

    #[test]
    fn unknown_property_is_an_error() {
        let err = from_json(r#"{"vendorConsent":[1]}"#, date!(2026 - 11 - 22)).unwrap_err();
        assert_eq!(err.code(), "invalid_json");
        assert!(err.to_string().contains("vendorConsent"));
    }

    #[test]
    fn out_of_range_ids_name_the_property() {
        let err = from_json(r#"{"purposeConsents":[25]}"#, date!(2026 - 11 - 22)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "property purposeConsents: id 25 is out of range 1..=24"
        );
    }

    #[test]
    fn id_arrays_match_serde_json_on_every_width() {
        let cases: [&[u32]; 5] = [
            &[],
            &[1],
            &[9, 10, 99, 100, 999, 1000, 9999],
            &[9999, 10_000, 10_001, 65_535],
            &[7, 12_345, 8, 54_321, 9],
        ];
        for ids in cases {
            let mut out = b"x".to_vec();
            write_id_array(&mut out, ids.iter().copied());
            let expected = format!("x{}", serde_json::to_string(ids).unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn model_json_is_valid_json_and_embeds_verbatim() {
        let mut m = TcModel::default();
        m.vendor_consents.insert_range(9_990, 10_010).unwrap();
        m.publisher_tc = Some(PublisherTc {
            num_custom_purposes: 3,
            ..PublisherTc::default()
        });
        let text = TcModelJson(&m).to_json_string();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["vendorConsents"].as_array().unwrap().len(), 21);
        assert_eq!(value["numCustomPurposes"], 3);
        let wrapped = serde_json::json!({ "model": TcModelJson(&m) });
        assert_eq!(wrapped["model"], value);
    }

    #[test]
    fn output_round_trips_through_input() {
        let mut m = TcModel::default();
        m.vendor_consents.insert_range(2, 9).unwrap();
        m.publisher_restrictions.push(PublisherRestriction {
            purpose_id: 2,
            restriction_type: RestrictionType::RequireConsent,
            vendors: VendorSet::try_from(&[4u32, 5][..]).unwrap(),
        });
        m.vendors_disclosed = Some(VendorSet::try_from(&[2u32, 3][..]).unwrap());
        let json = TcModelJson(&m).to_json_string();
        let back = from_json(&json, date!(2026 - 11 - 22)).unwrap();
        assert_eq!(back, m);
    }
}
