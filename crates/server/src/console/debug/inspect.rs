//! The debug tool's view model: a pasted TC string, AC string or GPP string
//! turned into the rows its page shows (GPP strings through [`super::gpp`]). Pure (the GVL and the time come in), so the
//! whole decoding path is tested without a server.

use super::gpp::{inspect_gpp, is_gpp_string, GppView};
use nexaguard_tcf::ac::AcString;
use nexaguard_tcf::gvl::Gvl;
use nexaguard_tcf::policy::{validate, Finding};
use nexaguard_tcf::signals::consent_mode::ConsentState;
use nexaguard_tcf::signals::iabtcf::IabTcfValue;
use nexaguard_tcf::signals::{consent_mode, iabtcf_keys};
use nexaguard_tcf::{RestrictionType, TcModel, Timestamp, VendorSet};
use std::collections::{BTreeMap, BTreeSet};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The longest input decoded. A TC string naming every GVL vendor in
/// every segment stays far below, and so does a GPP string with every
/// section; anything longer is not a consent string.
pub const MAX_INPUT: usize = 32 * 1024;

/// Why an input could not be decoded: a sentence for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

/// A decoded input.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A TC string.
    Tc(Box<TcView>),
    /// A Google Additional Consent string.
    Ac(AcView),
    /// A GPP string.
    Gpp(Box<GppView>),
}

/// One labelled value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name as the TCF specification spells it.
    pub name: &'static str,
    /// Its value as text.
    pub value: String,
}

/// A purpose (or special feature) with its GVL name and what the string says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeRow {
    /// The id.
    pub id: u32,
    /// The GVL's name; `None` when the GVL does not have this id.
    pub name: Option<String>,
    /// The consent (or opt-in) bit.
    pub consent: bool,
    /// The legitimate interest bit (always false for special features).
    pub legitimate_interest: bool,
}

/// A vendor signalled or disclosed by the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorRow {
    /// The vendor id.
    pub id: u32,
    /// The GVL's name; `None` when the vendor is not on the GVL.
    pub name: Option<String>,
    /// In the vendor consent section.
    pub consent: bool,
    /// In the vendor legitimate interest section.
    pub legitimate_interest: bool,
    /// In the disclosed vendors segment.
    pub disclosed: bool,
}

/// A publisher restriction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictionRow {
    /// The purpose restricted.
    pub purpose_id: u32,
    /// Its GVL name.
    pub purpose_name: Option<String>,
    /// What the restriction says.
    pub restriction: &'static str,
    /// The vendors it applies to, as ranges (`2, 5-9`).
    pub vendors: String,
}

/// The publisher TC segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherView {
    /// The publisher's own purposes (consent and legitimate interest).
    pub purposes: Vec<PurposeRow>,
    /// Custom purposes, named by number (their names live in the CMP).
    pub custom_purposes: Vec<PurposeRow>,
}

/// Everything the page shows about a TC string.
#[derive(Debug, Clone, PartialEq)]
pub struct TcView {
    /// The core segment's scalar fields.
    pub core: Vec<Field>,
    /// Every purpose of the GVL, and any other purpose the string sets.
    pub purposes: Vec<PurposeRow>,
    /// Every special feature of the GVL, and any other the string sets.
    pub special_features: Vec<PurposeRow>,
    /// Vendors with consent, legitimate interest or disclosure.
    pub vendors: Vec<VendorRow>,
    /// Whether the string has a disclosed vendors segment.
    pub has_disclosed_segment: bool,
    /// The publisher restrictions.
    pub restrictions: Vec<RestrictionRow>,
    /// The allowed vendors segment (service-specific strings), as ranges.
    pub vendors_allowed: Option<String>,
    /// The publisher TC segment, when present.
    pub publisher: Option<PublisherView>,
    /// Policy findings against the GVL.
    pub findings: Vec<Finding>,
    /// The GVL version the findings and names come from.
    pub gvl_version: u32,
    /// Google Consent Mode values, by Google's key names.
    pub consent_mode: Vec<(&'static str, &'static str)>,
    /// The `IABTCF_*` keys a CMP would store.
    pub iabtcf: Vec<(String, String)>,
}

/// Everything the page shows about an AC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcView {
    /// The specification version (1 or 2).
    pub version: u8,
    /// Google ATP ids the user consented to.
    pub consented: Vec<u32>,
    /// Google ATP ids disclosed without consent.
    pub disclosed: Vec<u32>,
}

/// Whether `input` is an AC string rather than a TC string: AC strings
/// start with their version and a tilde; TC strings never contain one.
pub fn is_ac_string(input: &str) -> bool {
    input.starts_with("1~") || input.starts_with("2~")
}

/// Decodes `input` (a TC string, an AC string or a GPP string) into what
/// the page shows, checking a TC string against `gvl` as of `now` and a GPP
/// string's GPC sub-sections against `gpc_signal` when it is known.
pub fn inspect(
    input: &str,
    gdpr_applies: bool,
    gpc_signal: Option<bool>,
    gvl: &Gvl,
    now: Timestamp,
) -> Result<Decoded, InputError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(InputError(
            "Paste a TC string or an AC string to decode, or a GPP string (starting with DB)."
                .to_owned(),
        ));
    }
    if input.len() > MAX_INPUT {
        return Err(InputError(format!(
            "That is {} characters long; TC strings, AC strings and GPP strings are far shorter (at most {MAX_INPUT} are decoded here).",
            input.len()
        )));
    }
    if is_gpp_string(input) {
        return inspect_gpp(input, gpc_signal).map(|view| Decoded::Gpp(Box::new(view)));
    }
    if is_ac_string(input) {
        let ac = AcString::parse(input)
            .map_err(|e| InputError(format!("This AC string cannot be decoded: {e}.")))?;
        return Ok(Decoded::Ac(AcView {
            version: ac.version().number(),
            consented: ac.consented().iter().copied().collect(),
            disclosed: ac.disclosed().iter().copied().collect(),
        }));
    }
    let tc = nexaguard_tcf::decode(input)
        .map_err(|e| InputError(format!("This TC string cannot be decoded: {e}.")))?;
    Ok(Decoded::Tc(Box::new(tc_view(
        &tc,
        input,
        gdpr_applies,
        gvl,
        now,
    ))))
}

fn tc_view(tc: &TcModel, input: &str, gdpr_applies: bool, gvl: &Gvl, now: Timestamp) -> TcView {
    let purpose_name = |id: u32| gvl.purposes.get(&id).map(|d| d.name.clone());
    let feature_name = |id: u32| gvl.special_features.get(&id).map(|d| d.name.clone());
    let purposes = rows(
        gvl.purposes.keys().copied(),
        tc.purpose_consents.iter(),
        tc.purpose_legitimate_interests.iter(),
        purpose_name,
    );
    let special_features = rows(
        gvl.special_features.keys().copied(),
        tc.special_feature_optins.iter(),
        std::iter::empty(),
        feature_name,
    );
    let restrictions = tc
        .publisher_restrictions
        .iter()
        .map(|r| RestrictionRow {
            purpose_id: u32::from(r.purpose_id),
            purpose_name: purpose_name(u32::from(r.purpose_id)),
            restriction: restriction_text(r.restriction_type),
            vendors: ranges(&r.vendors),
        })
        .collect();
    let publisher = tc.publisher_tc.as_ref().map(|p| PublisherView {
        purposes: rows(
            std::iter::empty(),
            p.purpose_consents.iter(),
            p.purpose_legitimate_interests.iter(),
            purpose_name,
        ),
        custom_purposes: rows(
            1..=u32::from(p.num_custom_purposes),
            p.custom_purpose_consents.iter(),
            p.custom_purpose_legitimate_interests.iter(),
            |_| None,
        ),
    });
    let mode = consent_mode(tc, gdpr_applies);
    TcView {
        core: core_fields(tc),
        purposes,
        special_features,
        vendors: vendor_rows(tc, gvl),
        has_disclosed_segment: tc.vendors_disclosed.is_some(),
        restrictions,
        vendors_allowed: tc.vendors_allowed.as_ref().map(ranges),
        publisher,
        findings: validate(tc, gvl, now),
        gvl_version: gvl.vendor_list_version,
        consent_mode: vec![
            ("ad_storage", state_text(mode.ad_storage)),
            ("ad_user_data", state_text(mode.ad_user_data)),
            ("ad_personalization", state_text(mode.ad_personalization)),
            ("analytics_storage", state_text(mode.analytics_storage)),
        ],
        iabtcf: iabtcf_keys(tc, input, gdpr_applies)
            .into_iter()
            .map(|(key, value)| {
                let text = match value {
                    IabTcfValue::Number(n) => n.to_string(),
                    IabTcfValue::String(s) => s,
                };
                (key, text)
            })
            .collect(),
    }
}

fn core_fields(tc: &TcModel) -> Vec<Field> {
    let field = |name, value: String| Field { name, value };
    let flag = |b: bool| if b { "yes" } else { "no" }.to_owned();
    vec![
        field("Version", nexaguard_tcf::TC_STRING_VERSION.to_string()),
        field("Created", time_text(tc.created)),
        field("LastUpdated", time_text(tc.last_updated)),
        field("CmpId", tc.cmp_id.to_string()),
        field("CmpVersion", tc.cmp_version.to_string()),
        field("ConsentScreen", tc.consent_screen.to_string()),
        field("ConsentLanguage", tc.consent_language.to_string()),
        field("VendorListVersion", tc.vendor_list_version.to_string()),
        field("TcfPolicyVersion", tc.policy_version.to_string()),
        field("IsServiceSpecific", flag(tc.is_service_specific)),
        field("UseNonStandardTexts", flag(tc.use_non_standard_texts)),
        field("PurposeOneTreatment", flag(tc.purpose_one_treatment)),
        field("PublisherCC", tc.publisher_country_code.to_string()),
    ]
}

/// One row per id among `listed` and the ids either set contains, ascending.
fn rows(
    listed: impl Iterator<Item = u32>,
    consents: impl Iterator<Item = u32> + Clone,
    interests: impl Iterator<Item = u32> + Clone,
    name: impl Fn(u32) -> Option<String>,
) -> Vec<PurposeRow> {
    let consent: BTreeSet<u32> = consents.collect();
    let interest: BTreeSet<u32> = interests.collect();
    let ids: BTreeSet<u32> = listed
        .chain(consent.iter().copied())
        .chain(interest.iter().copied())
        .collect();
    ids.into_iter()
        .map(|id| PurposeRow {
            id,
            name: name(id),
            consent: consent.contains(&id),
            legitimate_interest: interest.contains(&id),
        })
        .collect()
}

fn vendor_rows(tc: &TcModel, gvl: &Gvl) -> Vec<VendorRow> {
    let mut rows: BTreeMap<u32, VendorRow> = BTreeMap::new();
    let new_row = |id: u32| VendorRow {
        id,
        name: gvl.vendor(id).map(|v| v.name.clone()),
        consent: false,
        legitimate_interest: false,
        disclosed: false,
    };
    for id in tc.vendor_consents.iter() {
        rows.entry(id).or_insert_with(|| new_row(id)).consent = true;
    }
    for id in tc.vendor_legitimate_interests.iter() {
        rows.entry(id)
            .or_insert_with(|| new_row(id))
            .legitimate_interest = true;
    }
    for id in tc.vendors_disclosed.iter().flat_map(VendorSet::iter) {
        rows.entry(id).or_insert_with(|| new_row(id)).disclosed = true;
    }
    rows.into_values().collect()
}

fn restriction_text(restriction: RestrictionType) -> &'static str {
    match restriction {
        RestrictionType::NotAllowed => "not allowed",
        RestrictionType::RequireConsent => "require consent",
        RestrictionType::RequireLegitimateInterest => "require legitimate interest",
    }
}

fn state_text(state: ConsentState) -> &'static str {
    match state {
        ConsentState::Granted => "granted",
        ConsentState::Denied => "denied",
    }
}

/// `2, 5-9, 755`.
fn ranges(set: &VendorSet) -> String {
    set.ranges()
        .map(|(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 3339 in UTC; the raw deciseconds if the time cannot be shown.
fn time_text(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.unix_millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{} deciseconds", t.deciseconds()))
}

/// The clock as a TC string timestamp (for the date checks).
pub fn now() -> Timestamp {
    let millis = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis)
        .ok()
        .and_then(Timestamp::from_unix_millis)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const SAMPLE_GVL: &str = include_str!("../../../assets/gvl-sample.json");
    /// From docs/debug-tool.md: cmpId 300, purposes 1 2 3 4 7, vendors 2 and 755.
    const TC: &str = "CQtAQoAQtB-fQEsACAENCWFAAPIAAEIAAAYgF5wAgABALzAvOACAvMAEJABAAEA.IF5wAgABALzA";
    /// From docs/debug-tool.md: with a publisher TC segment.
    const TC2: &str =
        "CQtAQoAQtAQoAAfAEAENCWFIALAAAAAAAAqIABqAARACCQAgABAAECAAQACg.IACP.cAAAAAAAASA";

    fn gvl() -> Gvl {
        Gvl::from_json(SAMPLE_GVL).unwrap()
    }

    fn at(date: &str) -> Timestamp {
        let t = OffsetDateTime::parse(date, &Rfc3339).unwrap();
        Timestamp::from_unix_millis(t.unix_timestamp() * 1000).unwrap()
    }

    fn tc_view(input: &str, gdpr: bool) -> TcView {
        match inspect(input, gdpr, None, &gvl(), at("2026-12-01T00:00:00Z")).unwrap() {
            Decoded::Tc(view) => *view,
            other => panic!("not decoded as a TC string: {other:?}"),
        }
    }

    fn field<'a>(view: &'a TcView, name: &str) -> &'a str {
        &view.core.iter().find(|f| f.name == name).unwrap().value
    }

    #[test]
    fn a_tc_string_gives_its_core_fields() {
        let view = tc_view(TC, true);
        assert_eq!(field(&view, "CmpId"), "300");
        assert_eq!(field(&view, "CmpVersion"), "2");
        assert_eq!(field(&view, "VendorListVersion"), "150");
        assert_eq!(field(&view, "PublisherCC"), "DE");
        assert_eq!(field(&view, "Created"), "2026-11-01T00:00:00Z");
        assert_eq!(field(&view, "LastUpdated"), "2026-11-01T12:30:00Z");
        assert_eq!(field(&view, "IsServiceSpecific"), "no");
    }

    #[test]
    fn purposes_carry_gvl_names_and_both_bits() {
        let view = tc_view(TC, true);
        let consented: Vec<u32> = view
            .purposes
            .iter()
            .filter(|p| p.consent)
            .map(|p| p.id)
            .collect();
        assert_eq!(consented, [1, 2, 3, 4, 7]);
        let li: Vec<u32> = view
            .purposes
            .iter()
            .filter(|p| p.legitimate_interest)
            .map(|p| p.id)
            .collect();
        assert_eq!(li, [2, 7]);
        let first = view.purposes.first().unwrap();
        assert_eq!(first.id, 1);
        assert_eq!(
            first.name.as_deref(),
            Some("Store and/or access information on a device")
        );
        // Every GVL purpose is listed, set or not.
        assert_eq!(view.purposes.len(), gvl().purposes.len());
    }

    #[test]
    fn vendors_are_named_from_the_gvl_or_marked_unknown() {
        let view = tc_view(TC, true);
        let ids: Vec<u32> = view.vendors.iter().map(|v| v.id).collect();
        assert_eq!(ids, [2, 755]);
        let beta = &view.vendors[0];
        assert_eq!(beta.name.as_deref(), Some("Beta Measurement"));
        assert!(beta.consent && !beta.legitimate_interest && beta.disclosed);
        let google = &view.vendors[1];
        assert_eq!(google.name, None);
        assert!(google.consent && google.legitimate_interest && google.disclosed);
        assert!(view.has_disclosed_segment);
    }

    #[test]
    fn restrictions_and_findings_are_listed() {
        let view = tc_view(TC, true);
        assert_eq!(view.restrictions.len(), 1);
        let r = &view.restrictions[0];
        assert_eq!((r.purpose_id, r.restriction), (2, "require consent"));
        assert_eq!(r.vendors, "2");
        assert_eq!(view.gvl_version, 42);
        let codes: Vec<&str> = view.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(
            codes.contains(&"vendor_list_version_newer_than_gvl"),
            "{codes:?}"
        );
        assert!(
            view.findings.iter().any(|f| f.vendor_id == Some(755)),
            "{codes:?}"
        );
    }

    #[test]
    fn signals_follow_gdpr_applies() {
        let view = tc_view(TC, true);
        let mode: BTreeMap<_, _> = view.consent_mode.iter().copied().collect();
        assert_eq!(mode["ad_storage"], "granted");
        assert_eq!(mode["ad_personalization"], "granted");
        assert_eq!(mode["analytics_storage"], "granted");
        let keys: BTreeMap<_, _> = view.iabtcf.iter().cloned().collect();
        assert_eq!(keys["IABTCF_PurposeConsents"], "111100100000000000000000");
        assert_eq!(keys["IABTCF_gdprApplies"], "1");
        assert_eq!(keys["IABTCF_TCString"], TC);

        let off = tc_view(TC2, false);
        assert!(off.consent_mode.iter().all(|(_, v)| *v == "granted"));
        let on = tc_view(TC2, true);
        let mode: BTreeMap<_, _> = on.consent_mode.iter().copied().collect();
        assert_eq!(mode["ad_storage"], "denied");
        assert_eq!(mode["analytics_storage"], "granted");
    }

    #[test]
    fn the_publisher_segment_is_shown() {
        let view = tc_view(TC2, true);
        let publisher = view.publisher.unwrap();
        let consented: Vec<u32> = publisher
            .purposes
            .iter()
            .filter(|p| p.consent)
            .map(|p| p.id)
            .collect();
        assert_eq!(consented, [1]);
        assert_eq!(publisher.custom_purposes.len(), 2);
        assert!(!publisher.custom_purposes[0].consent);
        assert!(publisher.custom_purposes[1].consent);
        assert!(tc_view(TC, true).publisher.is_none());
    }

    #[test]
    fn an_ac_string_gives_its_providers() {
        let decoded = inspect(" 2~1.35~dv.9.1000 ", true, None, &gvl(), now()).unwrap();
        assert_eq!(
            decoded,
            Decoded::Ac(AcView {
                version: 2,
                consented: vec![1, 35],
                disclosed: vec![9, 1000],
            })
        );
        let v1 = inspect("1~7.8", true, None, &gvl(), now()).unwrap();
        assert!(matches!(v1, Decoded::Ac(AcView { version: 1, .. })));
    }

    #[test]
    fn bad_input_gets_a_sentence() {
        let gvl = gvl();
        let err = |input: &str| inspect(input, true, None, &gvl, now()).unwrap_err().0;
        assert!(err("  ").contains("Paste a TC string"));
        assert!(err("not-a-tc-string!").contains("This TC string cannot be decoded"));
        assert!(err("CPxxx").contains("truncated"), "{}", err("CPxxx"));
        assert!(err("2~1.x").contains("This AC string cannot be decoded"));
        assert!(err(&"C".repeat(MAX_INPUT + 1)).contains("far shorter"));
        assert!(err("DBABMA").contains("This GPP string cannot be decoded"));
        assert!(err(&format!("DBABMA~{}", "A".repeat(MAX_INPUT))).contains("far shorter"));
    }

    #[test]
    fn gpp_strings_take_the_gpp_path_and_tc_strings_the_tcf_path() {
        let gvl = gvl();
        let gpp = inspect(" DBABTA~1YNN\n", true, Some(true), &gvl, now()).unwrap();
        assert!(matches!(gpp, Decoded::Gpp(ref view) if view.sections[0].name == "uspv1"));
        // A TC string keeps the TCF view (not a one-section GPP string).
        assert!(matches!(
            inspect(TC, true, Some(true), &gvl, now()).unwrap(),
            Decoded::Tc(_)
        ));
    }

    #[test]
    fn ac_detection_needs_the_version_and_tilde() {
        assert!(is_ac_string("2~1.2~dv."));
        assert!(is_ac_string("1~"));
        assert!(!is_ac_string("CQtAQoAQ"));
        assert!(!is_ac_string("3~1"));
        assert!(!is_ac_string("2"));
    }
}
