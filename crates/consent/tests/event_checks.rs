//! The consent event schema version 2 and impressions: what the checks
//! accept and each refusal, with its stable code; and that version 1
//! events and records read as before.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_consent::check::{
    check_event, check_impression, CheckedEvent, EventError, SiteEnvironment,
};
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::event::{
    ConsentEvent, ConsentEventInput, ExperienceKind, Gpc, ImpressionInput, NoticeVersion, Source,
};
use nexaguard_consent::region::Region;
use nexaguard_consent::regions::notice_version;
use nexaguard_consent::Environment;
use nexaguard_gpp::{GppString, Section, TcfEuV2};
use nexaguard_tcf::gvl::Gvl;
use nexaguard_tcf::{PurposeSet, TcModel, Timestamp, VendorSet};
use serde_json::{json, Value};
use time::OffsetDateTime;

const GVL: &str = include_str!("../../server/assets/gvl-sample.json");
const TCF_SITE: &str = include_str!("../../server/tests/fixtures/tcf-site.json");

/// The newest published version in these tests.
const LATEST: u32 = 3;

fn gvl() -> Gvl {
    Gvl::from_json(GVL).unwrap()
}

/// The TCF fixture with rules: the TCF in Europe, the US notice with state
/// sections in the comprehensive states, nothing in Japan, opt-in elsewhere.
fn site() -> SiteConfig {
    let mut config: Value = serde_json::from_str(TCF_SITE).unwrap();
    config["customPurposes"] = json!([{"id": "analytics", "name": {"en": "Analytics"}}]);
    config["regions"] = json!([
        {"match": ["eea_uk_ch"], "experience": {"kind": "tcf"}},
        {"match": ["us_comprehensive"], "experience": {"kind": "us", "gppSections": "state"}},
        {"match": ["JP"], "experience": {"kind": "none"}},
        {"match": ["everywhere"], "experience": {"kind": "opt_in"}}
    ]);
    serde_json::from_value(config).unwrap()
}

/// The newest published `config`, with its notice versions computed once,
/// as the server keeps them.
fn env<'a>(config: &'a SiteConfig, notice_versions: &'a [String]) -> SiteEnvironment<'a> {
    SiteEnvironment {
        environment: Environment::Production,
        config_version: LATEST,
        config,
        notice_versions,
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn region(code: &str) -> Region {
    code.parse().unwrap()
}

/// The notice version the site gives `code`.
fn version_for(config: &SiteConfig, code: Option<&str>) -> String {
    let region = code.map(region);
    notice_version(config, &config.experience_for(region.as_ref()))
}

fn tc_model() -> TcModel {
    let millis = now().unix_timestamp() * 1000;
    let mut m = TcModel::default();
    m.created = Timestamp::from_unix_millis(millis).unwrap();
    m.last_updated = m.created;
    m.cmp_id = 300;
    m.cmp_version = 1;
    m.vendor_list_version = 42;
    m.policy_version = 5;
    m.purpose_consents = PurposeSet::try_from(&[1u32, 2, 3][..]).unwrap();
    m.vendor_consents = VendorSet::try_from(&[1u32, 2][..]).unwrap();
    m.vendors_disclosed = Some(VendorSet::try_from(&[1u32, 2, 5, 6][..]).unwrap());
    m
}

fn gpp_of(sections: Vec<Section>) -> String {
    nexaguard_gpp::encode(&GppString { sections }).unwrap()
}

/// A schema version 1 choice of the opt-in experience, as SDKs before
/// version 2 post it.
fn v1_choice() -> Value {
    json!({
        "eventId": uuid::Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": "ngp_00000000000000000000000000000000",
        "environment": "production",
        "configVersion": LATEST,
        "timestamp": now().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "action": "custom",
        "source": "banner",
        "tcString": nexaguard_tcf::encode(&tc_model()).unwrap(),
        "consentMode": {
            "ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
            "analytics_storage": "granted", "functionality_storage": "granted",
            "personalization_storage": "denied", "security_storage": "granted"
        },
        "purposes": [1, 2, 3],
        "vendors": [1, 2],
        "language": "en",
        "sdkVersion": "1.0.0"
    })
}

/// A version 2 choice of a Californian under the US notice, with every
/// new field.
fn us_choice(config: &SiteConfig) -> Value {
    let mut e = v1_choice();
    let object = e.as_object_mut().unwrap();
    for field in ["tcString", "purposes", "vendors"] {
        object.remove(field);
    }
    e["schemaVersion"] = json!(2);
    e["kind"] = json!("choice");
    e["source"] = json!("gpc");
    e["customPurposes"] = json!(["analytics"]);
    e["region"] = json!("US-CA");
    e["experience"] = json!("us");
    e["gppString"] = json!(gpp_of(vec![Section::default_for(8).unwrap()]));
    e["gppSectionIds"] = json!([8]);
    e["gpc"] = json!({"present": true, "applied": true});
    e["noticeVersion"] = json!(version_for(config, Some("US-CA")));
    e["impressionId"] = json!(uuid::Uuid::new_v4());
    e
}

/// A version 2 choice of a French visitor under the TCF, with the TC
/// string also in the GPP string.
fn tcf_choice(config: &SiteConfig) -> Value {
    let mut e = v1_choice();
    e["schemaVersion"] = json!(2);
    e["region"] = json!("FR");
    e["experience"] = json!("tcf");
    e["gppString"] = json!(gpp_of(vec![Section::TcfEuV2(TcfEuV2(tc_model()))]));
    e["gppSectionIds"] = json!([2]);
    e["noticeVersion"] = json!(version_for(config, Some("FR")));
    e
}

fn input(event: &Value) -> ConsentEventInput {
    serde_json::from_value(event.clone()).unwrap()
}

fn check(config: &SiteConfig, event: &Value) -> Result<CheckedEvent, EventError> {
    check_event(
        input(event),
        env(config, &config.notice_versions()),
        &gvl(),
        now(),
    )
}

fn refusal(config: &SiteConfig, event: &Value) -> &'static str {
    match check(config, event) {
        Ok(_) => panic!("accepted: {event}"),
        Err(error) => error.code(),
    }
}

fn impression(config: &SiteConfig) -> Value {
    json!({
        "eventId": uuid::Uuid::new_v4(),
        "schemaVersion": 2,
        "kind": "impression",
        "siteKey": "ngp_00000000000000000000000000000000",
        "environment": "production",
        "configVersion": LATEST,
        "timestamp": now().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "region": "US-CA",
        "experience": "us",
        "noticeVersion": version_for(config, Some("US-CA")),
        "language": "en",
        "sdkVersion": "2.0.0"
    })
}

fn impression_refusal(config: &SiteConfig, posted: &Value) -> &'static str {
    let input: ImpressionInput = serde_json::from_value(posted.clone()).unwrap();
    match check_impression(input, env(config, &config.notice_versions()), now()) {
        Ok(_) => panic!("accepted: {posted}"),
        Err(error) => error.code(),
    }
}

// --- version 1 ----------------------------------------------------------

#[test]
fn a_version_1_event_without_the_new_fields_is_still_accepted() {
    let config = site();
    let checked = check(&config, &v1_choice()).unwrap();
    assert_eq!(checked.input.schema_version, 1);
    assert_eq!(checked.input.region, None);
}

#[test]
fn a_version_1_event_serialises_exactly_as_before_so_its_retries_still_match() {
    // The body hash that tells a retry from a conflict is taken over this
    // serialisation: a version 1 event posted before the upgrade must hash
    // the same after it, so no new key may appear.
    let mut posted = v1_choice();
    let reserialised = serde_json::to_value(input(&posted)).unwrap();
    posted["customPurposes"] = json!([]);
    posted["customVendors"] = json!([]);
    assert_eq!(reserialised, posted);
}

#[test]
fn a_stored_version_1_record_reads_with_the_new_fields_empty() {
    let stored = json!({
        "eventId": "46b186c3-a039-499e-aa0a-6b9ea27604bb", "schemaVersion": 1,
        "siteKey": "ngp_adce100183c9492cbe6a70142848250a", "environment": "production",
        "configVersion": 1, "timestamp": "2026-11-24T19:47:54Z",
        "recordedAt": "2026-11-24T19:47:54.408Z", "action": "accept_all", "source": "banner",
        "consentMode": {"ad_storage": "granted", "ad_user_data": "granted",
            "ad_personalization": "granted", "analytics_storage": "granted",
            "functionality_storage": "granted", "personalization_storage": "granted",
            "security_storage": "granted"},
        "purposes": [], "customPurposes": ["necessary"], "vendors": [], "customVendors": [],
        "language": "en", "sdkVersion": "curl-example",
        "context": {"country": null, "deviceClass": "bot"}, "policyWarnings": []
    });
    let event: ConsentEvent = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(event.experience, None);
    assert!(event.gpp_section_ids.is_empty());
    assert_eq!(event.impression_id, None);
    assert_eq!(serde_json::to_value(&event).unwrap(), stored);
}

#[test]
fn a_version_1_event_with_any_version_2_field_is_refused_as_a_schema_version_mismatch() {
    let config = site();
    let v2 = us_choice(&config);
    for field in [
        "kind",
        "region",
        "experience",
        "gppString",
        "gppSectionIds",
        "gpc",
        "noticeVersion",
        "impressionId",
    ] {
        let mut e = v1_choice();
        e[field] = v2[field].clone();
        assert_eq!(refusal(&config, &e), "schema_version_mismatch", "{field}");
    }
    let mut by_signal = v1_choice();
    by_signal["source"] = json!("gpc");
    assert_eq!(refusal(&config, &by_signal), "schema_version_mismatch");
}

#[test]
fn schema_versions_other_than_1_and_2_are_refused() {
    let config = site();
    for version in [0, 3] {
        let mut e = v1_choice();
        e["schemaVersion"] = json!(version);
        assert_eq!(refusal(&config, &e), "unsupported_schema_version");
    }
}

// --- version 2 ----------------------------------------------------------

#[test]
fn a_version_2_choice_with_every_new_field_is_accepted_and_recorded_with_them() {
    let config = site();
    let posted = us_choice(&config);
    let checked = check(&config, &posted).unwrap();
    let input = &checked.input;
    assert_eq!(input.region, Some(region("US-CA")));
    assert_eq!(input.experience, Some(ExperienceKind::Us));
    assert_eq!(input.gpp_section_ids, vec![8]);
    assert_eq!(
        input.gpc,
        Some(Gpc {
            present: true,
            applied: true
        })
    );
    assert_eq!(input.source, Source::Gpc);
    let recorded = ConsentEvent::record(
        checked.input.clone(),
        now(),
        nexaguard_consent::context::EventContext::from_headers(None, None),
        Vec::new(),
    );
    let json = serde_json::to_value(&recorded).unwrap();
    for field in [
        "region",
        "experience",
        "gppString",
        "gppSectionIds",
        "gpc",
        "noticeVersion",
        "impressionId",
    ] {
        assert_eq!(json[field], posted[field], "{field}");
    }
    assert!(json.get("kind").is_none(), "a record is always a choice");
}

#[test]
fn a_tcf_choice_whose_gpp_string_carries_the_same_tc_string_is_accepted() {
    let config = site();
    check(&config, &tcf_choice(&config)).unwrap();
}

#[test]
fn a_us_choice_on_a_tcf_site_needs_no_tc_string_and_refuses_one() {
    let config = site();
    let mut with_tc = us_choice(&config);
    with_tc["tcString"] = json!(nexaguard_tcf::encode(&tc_model()).unwrap());
    assert_eq!(refusal(&config, &with_tc), "unexpected_tc_string");
}

#[test]
fn a_gpp_string_that_does_not_decode_is_refused() {
    let config = site();
    let mut e = us_choice(&config);
    e["gppString"] = json!("DBABM~not-a-section!");
    assert_eq!(refusal(&config, &e), "invalid_gpp_string");
}

#[test]
fn section_ids_that_are_not_the_gpp_strings_are_refused() {
    let config = site();
    let mut other = us_choice(&config);
    other["gppSectionIds"] = json!([7]);
    assert_eq!(refusal(&config, &other), "gpp_sections_mismatch");
    let mut missing = us_choice(&config);
    missing["gppSectionIds"] = json!([]);
    assert_eq!(refusal(&config, &missing), "gpp_sections_mismatch");
    let mut without_string = us_choice(&config);
    without_string.as_object_mut().unwrap().remove("gppString");
    assert_eq!(refusal(&config, &without_string), "gpp_sections_mismatch");
}

#[test]
fn a_tcfeuv2_section_with_another_tc_string_than_tc_string_is_refused() {
    let config = site();
    let mut other = tc_model();
    other.purpose_consents = PurposeSet::try_from(&[1u32][..]).unwrap();
    let mut e = tcf_choice(&config);
    e["gppString"] = json!(gpp_of(vec![Section::TcfEuV2(TcfEuV2(other))]));
    assert_eq!(refusal(&config, &e), "gpp_tcf_mismatch");
}

#[test]
fn an_experience_the_site_does_not_give_the_region_is_refused() {
    let config = site();
    let mut e = us_choice(&config);
    e["region"] = json!("JP");
    assert_eq!(refusal(&config, &e), "experience_mismatch");
    let mut unknown = us_choice(&config);
    unknown.as_object_mut().unwrap().remove("region");
    let error = check(&config, &unknown).unwrap_err();
    assert_eq!(error.code(), "experience_mismatch");
    assert!(error.to_string().contains("opt_in"), "{error}");
}

#[test]
fn a_notice_version_of_another_notice_is_refused() {
    let config = site();
    let mut e = us_choice(&config);
    e["noticeVersion"] = json!(version_for(&config, Some("FR")));
    assert_eq!(refusal(&config, &e), "notice_version_mismatch");
    let mut alone = us_choice(&config);
    alone.as_object_mut().unwrap().remove("experience");
    alone["noticeVersion"] = json!("0".repeat(32));
    assert_eq!(refusal(&config, &alone), "notice_version_mismatch");
}

#[test]
fn what_was_shown_is_not_checked_against_a_configuration_newer_than_the_event() {
    let config = site();
    let mut e = us_choice(&config);
    e["configVersion"] = json!(LATEST - 1);
    e["noticeVersion"] = json!("0".repeat(32));
    check(&config, &e).unwrap();
}

#[test]
fn source_gpc_without_the_signal_applied_is_refused() {
    let config = site();
    let mut not_applied = us_choice(&config);
    not_applied["gpc"] = json!({"present": true, "applied": false});
    assert_eq!(refusal(&config, &not_applied), "gpc_not_applied");
    let mut absent = us_choice(&config);
    absent.as_object_mut().unwrap().remove("gpc");
    assert_eq!(refusal(&config, &absent), "gpc_not_applied");
}

#[test]
fn a_notice_version_must_be_32_lower_case_hex_digits_to_parse() {
    assert!(NoticeVersion::try_from("0".repeat(32)).is_ok());
    for bad in ["", "abc", &"A".repeat(32), &"g".repeat(32), &"0".repeat(33)] {
        assert!(NoticeVersion::try_from(bad.to_owned()).is_err(), "{bad}");
    }
    let mut e = us_choice(&site());
    e["noticeVersion"] = json!("ABC");
    assert!(serde_json::from_value::<ConsentEventInput>(e).is_err());
}

#[test]
fn an_unknown_kind_or_experience_does_not_parse() {
    let config = site();
    let mut kind = us_choice(&config);
    kind["kind"] = json!("impression");
    assert!(serde_json::from_value::<ConsentEventInput>(kind).is_err());
    let mut experience = us_choice(&config);
    experience["experience"] = json!("gdpr");
    assert!(serde_json::from_value::<ConsentEventInput>(experience).is_err());
}

// --- impressions --------------------------------------------------------

#[test]
fn an_impression_of_the_regions_notice_is_accepted() {
    let config = site();
    let posted = impression(&config);
    let input: ImpressionInput = serde_json::from_value(posted.clone()).unwrap();
    let checked = check_impression(input, env(&config, &config.notice_versions()), now()).unwrap();
    assert_eq!(checked.experience, ExperienceKind::Us);
    assert_eq!(serde_json::to_value(&checked).unwrap(), posted);
}

#[test]
fn an_impression_needs_schema_version_2() {
    let config = site();
    for version in [1, 3] {
        let mut posted = impression(&config);
        posted["schemaVersion"] = json!(version);
        assert_eq!(
            impression_refusal(&config, &posted),
            "unsupported_schema_version"
        );
    }
}

#[test]
fn an_impression_gets_the_experience_notice_and_envelope_checks_of_a_choice() {
    let config = site();
    let cases = [
        ("experience", json!("tcf"), "experience_mismatch"),
        (
            "noticeVersion",
            json!(version_for(&config, Some("FR"))),
            "notice_version_mismatch",
        ),
        ("language", json!("fr"), "unknown_language"),
        ("configVersion", json!(LATEST + 1), "unknown_config_version"),
        ("environment", json!("staging"), "wrong_environment"),
        (
            "timestamp",
            json!("2001-01-01T00:00:00Z"),
            "timestamp_out_of_range",
        ),
        ("sdkVersion", json!("x".repeat(33)), "field_too_long"),
    ];
    for (field, value, code) in cases {
        let mut posted = impression(&config);
        posted[field] = value;
        assert_eq!(impression_refusal(&config, &posted), code, "{field}");
    }
}

#[test]
fn an_impression_with_consent_fields_does_not_parse() {
    let config = site();
    let mut posted = impression(&config);
    posted["action"] = json!("accept_all");
    assert!(serde_json::from_value::<ImpressionInput>(posted).is_err());
}
