//! Site configuration validation.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_consent::config::{ConfigError, SiteConfig, DEFAULT_CONSENT_LIFETIME_DAYS};
use nexaguard_tcf::gvl::Gvl;

const GVL: &str = include_str!("../../server/assets/gvl-sample.json");
const DEMO: &str = include_str!("../../server/tests/fixtures/opt-in-site.json");

fn gvl() -> Gvl {
    Gvl::from_json(GVL).unwrap()
}

fn problems(json: &str) -> Vec<(String, String)> {
    match SiteConfig::from_json(json, &gvl()) {
        Err(ConfigError::Invalid(p)) => p.into_iter().map(|p| (p.path, p.message)).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn the_demo_configuration_is_valid_and_gets_defaults() {
    let config = SiteConfig::from_json(DEMO, &gvl()).unwrap();
    assert_eq!(config.consent_lifetime_days, DEFAULT_CONSENT_LIFETIME_DAYS);
    assert_eq!(config.pick_language(["de-AT"]), "de");
    assert_eq!(config.pick_language(["fr"]), "en");
}

#[test]
fn a_visitors_language_is_matched_however_it_is_spelled() {
    let mut config = SiteConfig::from_json(DEMO, &gvl()).unwrap();
    let english = config.languages["en"].clone();
    for code in ["no", "pt-br"] {
        config.languages.insert(code.into(), english.clone());
    }
    assert_eq!(
        config.pick_language(["nb-NO"]),
        "no",
        "Bokmål is the IAB's no"
    );
    assert_eq!(config.pick_language(["nn"]), "no");
    assert_eq!(config.pick_language(["pt_BR"]), "pt-br");
    assert_eq!(config.pick_language(["DE_ch"]), "de");
    assert_eq!(
        config.pick_language(["ja", "pt-BR"]),
        "pt-br",
        "in order of preference"
    );
    assert_eq!(
        config.pick_language(["pt"]),
        "en",
        "pt-br does not serve Portugal"
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let json = r##"{
        "regulation": "tcf", "cmpId": 1, "publisherCountry": "de",
        "vendors": [1, 4, 999, 1], "purposes": [1, 77], "specialFeatures": [9],
        "customPurposes": [{"id": "Bad Id", "name": {"fr": "x"}}],
        "customVendors": [{"id": "v", "name": "V", "purposes": ["nope"]}],
        "consentMode": {"mapping": {"ad_storage": {"purposes": [2]}}, "defaults": [{"regions": ["Germany"], "states": {}}]},
        "defaultLanguage": "en", "languages": {"EN": {"title": "", "description": "", "acceptAll": "", "rejectAll": "", "manage": "", "save": ""}},
        "banner": {"primaryColor": "red"},
        "cookieDomain": "-bad-.example",
        "consentLifetimeDays": 999
    }"##;
    let found = problems(json);
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "publisherCountry",
        "cmpId",
        "vendors[1]",
        "vendors[2]",
        "vendors",
        "purposes[1]",
        "specialFeatures[0]",
        "customPurposes[0].id",
        "customPurposes[0].name",
        "customVendors[0].purposes[0]",
        "consentMode.mapping.ad_storage.purposes",
        "consentMode.defaults[0].regions",
        "languages.EN",
        "defaultLanguage",
        "banner.primaryColor",
        "cookieDomain",
        "consentLifetimeDays",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} not reported; got {found:?}"
        );
    }
    let deleted = found.iter().find(|(p, _)| p == "vendors[1]").unwrap();
    assert!(deleted.1.contains("deleted"), "{deleted:?}");
}

#[test]
fn unknown_fields_are_syntax_errors() {
    let json = DEMO.replacen('{', r#"{"regulaton": "tcf","#, 1);
    let err = SiteConfig::from_json(&json, &gvl()).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax(_)));
    assert!(err.to_string().contains("regulaton"));
}
