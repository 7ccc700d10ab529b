//! Regional experiences: the shipped groups, first-match resolution, the
//! Consent Mode defaults per region, the findings by field path and the
//! notice version.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_consent::config::{ConfigError, ConsentModeType, ConsentState, SiteConfig};
use nexaguard_consent::region::Region;
use nexaguard_consent::regions::{
    gpp_state_section, notice_version, Experience, FindingKind, GppSections, RegionGroup,
    RegionSelector, SelectorError, Severity, UsExperience, BR, CA_QC, EEA_UK_CH, GROUPS_CHECKED_ON,
    NOTICE_VERSION_LEN, US_COMPREHENSIVE, US_STATE_LAWS,
};
use nexaguard_tcf::gvl::Gvl;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use time::macros::date;

const GVL: &str = include_str!("../../server/assets/gvl-sample.json");
const TCF_SITE: &str = include_str!("../../server/tests/fixtures/tcf-site.json");
const OPT_IN_SITE: &str = include_str!("../../server/tests/fixtures/opt-in-site.json");

fn gvl() -> Gvl {
    Gvl::from_json(GVL).unwrap()
}

/// The TCF fixture with a custom purpose (so `opt_in` rules are allowed)
/// and the given regional rules.
fn site_with(regions: Value) -> SiteConfig {
    let mut json: Value = serde_json::from_str(TCF_SITE).unwrap();
    json["customPurposes"] = json!([{"id": "analytics", "name": {"en": "Analytics"}}]);
    json["regions"] = regions;
    serde_json::from_value(json).unwrap()
}

/// Europe gets the TCF, California and the other comprehensive states the
/// US notice with their state sections, Japan nothing, the rest opt-in.
fn typical_site() -> SiteConfig {
    site_with(json!([
        {"match": ["eea_uk_ch"], "experience": {"kind": "tcf"}},
        {"match": ["us_comprehensive"], "experience": {"kind": "us", "gppSections": "state", "honourGpc": true}},
        {"match": ["JP"], "experience": {"kind": "none"}},
        {"match": ["everywhere"], "experience": {"kind": "opt_in"}}
    ]))
}

fn region(code: &str) -> Region {
    code.parse().unwrap()
}

fn findings_of(config: &SiteConfig) -> Vec<(FindingKind, String, String)> {
    config
        .region_findings()
        .into_iter()
        .map(|f| (f.kind, f.path, f.message))
        .collect()
}

fn kinds_at(config: &SiteConfig, path: &str) -> Vec<FindingKind> {
    findings_of(config)
        .into_iter()
        .filter(|(_, p, _)| p == path)
        .map(|(k, _, _)| k)
        .collect()
}

// --- shipped groups --------------------------------------------------------

#[test]
fn every_group_parses_from_its_name_and_lists_canonical_region_codes() {
    for group in RegionGroup::ALL {
        assert_eq!(group.name().parse::<RegionGroup>().unwrap(), group);
        assert_eq!(group.to_string(), group.name());
        for code in group.codes() {
            assert_eq!(region(code).to_string(), *code, "{group}: {code}");
        }
        let unique: BTreeSet<_> = group.codes().iter().collect();
        assert_eq!(
            unique.len(),
            group.codes().len(),
            "{group} lists a code twice"
        );
    }
    assert!("EEA".parse::<RegionGroup>().is_err());
    assert!(RegionGroup::Everywhere.codes().is_empty());
    assert_eq!(BR, ["BR"]);
    assert_eq!(CA_QC, ["CA", "CA-QC"]);
}

#[test]
fn the_eea_group_holds_the_27_member_states_the_eea_the_uk_and_switzerland() {
    let eu27 = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ];
    assert_eq!(eu27.len(), 27);
    for code in eu27.iter().chain(&["IS", "LI", "NO", "GB", "CH"]) {
        assert!(EEA_UK_CH.contains(code), "{code} missing");
    }
    // EU territory that IP databases report under a code of its own.
    for code in ["GF", "GP", "MQ", "RE", "YT", "MF", "AX"] {
        assert!(EEA_UK_CH.contains(&code), "{code} missing");
    }
    for outside in ["EL", "UK", "JE", "GG", "IM", "GI", "US", "TR"] {
        assert!(!EEA_UK_CH.contains(&outside), "{outside} listed");
    }
}

#[test]
fn the_comprehensive_us_group_is_every_comprehensive_state_law_in_force_on_the_check_date() {
    assert_eq!(GROUPS_CHECKED_ON, date!(2026 - 12 - 07));
    let in_group: BTreeSet<String> = US_COMPREHENSIVE.iter().map(|c| c.to_string()).collect();
    let in_force: BTreeSet<String> = US_STATE_LAWS
        .iter()
        .filter(|law| law.comprehensive && law.in_force <= GROUPS_CHECKED_ON)
        .map(|law| format!("US-{}", law.state))
        .collect();
    assert_eq!(in_group, in_force);
    assert_eq!(in_group.len(), 19);
    for (state, day) in [
        ("IN", date!(2026 - 01 - 01)),
        ("KY", date!(2026 - 01 - 01)),
        ("RI", date!(2026 - 01 - 01)),
        ("MN", date!(2025 - 07 - 31)),
        ("UT", date!(2023 - 12 - 31)),
    ] {
        let law = US_STATE_LAWS.iter().find(|l| l.state == state).unwrap();
        assert_eq!(law.in_force, day, "{state}");
    }
}

#[test]
fn florida_is_left_out_of_the_comprehensive_group_but_keeps_its_gpp_section() {
    assert!(!US_COMPREHENSIVE.contains(&"US-FL"));
    let florida = US_STATE_LAWS.iter().find(|l| l.state == "FL").unwrap();
    assert!(!florida.comprehensive);
    assert_eq!(gpp_state_section(&region("US-FL")), Some(13));
}

#[test]
fn each_state_has_the_gpp_section_id_of_the_specification() {
    let expected = [
        ("CA", 8, "usca"),
        ("VA", 9, "usva"),
        ("CO", 10, "usco"),
        ("UT", 11, "usut"),
        ("CT", 12, "usct"),
        ("FL", 13, "usfl"),
        ("MT", 14, "usmt"),
        ("OR", 15, "usor"),
        ("TX", 16, "ustx"),
        ("DE", 17, "usde"),
        ("IA", 18, "usia"),
        ("NE", 19, "usne"),
        ("NH", 20, "usnh"),
        ("NJ", 21, "usnj"),
        ("TN", 22, "ustn"),
        ("MN", 23, "usmn"),
        ("MD", 24, "usmd"),
        ("IN", 25, "usin"),
        ("KY", 26, "usky"),
        ("RI", 27, "usri"),
    ];
    let table: Vec<_> = US_STATE_LAWS
        .iter()
        .map(|l| (l.state, l.gpp_section, l.gpp_name))
        .collect();
    assert_eq!(table, expected);
    for (state, id, _) in expected {
        assert_eq!(gpp_state_section(&region(&format!("US-{state}"))), Some(id));
    }
    assert_eq!(gpp_state_section(&region("US-AL")), None);
    assert_eq!(gpp_state_section(&region("US")), None);
    assert_eq!(gpp_state_section(&region("CA-CA")), None);
}

// --- match entries -----------------------------------------------------------

#[test]
fn match_entries_are_lower_case_group_names_or_upper_case_region_codes() {
    let parse = |s: &str| s.parse::<RegionSelector>();
    assert_eq!(parse("br").unwrap(), RegionSelector::Group(RegionGroup::Br));
    assert_eq!(parse("BR").unwrap(), RegionSelector::Region(region("BR")));
    assert_eq!(
        parse("US-CA").unwrap(),
        RegionSelector::Region(region("US-CA"))
    );
    assert_eq!(
        parse("everywhere").unwrap(),
        RegionSelector::Group(RegionGroup::Everywhere)
    );
    assert_eq!(
        parse("fr"),
        Err(SelectorError::NotCanonical {
            given: "fr".into(),
            canonical: "FR".into()
        })
    );
    assert_eq!(
        parse("us_ca"),
        Err(SelectorError::NotCanonical {
            given: "us_ca".into(),
            canonical: "US-CA".into()
        })
    );
    assert_eq!(parse("eea"), Err(SelectorError::UnknownGroup("eea".into())));
    assert_eq!(parse("FRA"), Err(SelectorError::Malformed("FRA".into())));
    assert_eq!(parse(""), Err(SelectorError::Malformed(String::new())));
}

#[test]
fn experiences_read_every_kind_with_the_us_defaults_and_refuse_unknown_fields() {
    let read = |v: Value| serde_json::from_value::<Experience>(v);
    assert_eq!(read(json!({"kind": "tcf"})).unwrap(), Experience::Tcf);
    assert_eq!(read(json!({"kind": "opt_in"})).unwrap(), Experience::OptIn);
    assert_eq!(
        read(json!({"kind": "notice_only"})).unwrap(),
        Experience::NoticeOnly
    );
    assert_eq!(read(json!({"kind": "none"})).unwrap(), Experience::None);
    assert_eq!(
        read(json!({"kind": "us"})).unwrap(),
        Experience::Us(UsExperience {
            gpp_sections: GppSections::Usnat,
            honour_gpc: true
        })
    );
    assert_eq!(
        read(json!({"kind": "us", "gppSections": "state", "honourGpc": false})).unwrap(),
        Experience::Us(UsExperience {
            gpp_sections: GppSections::State,
            honour_gpc: false
        })
    );
    assert!(read(json!({"kind": "us", "gppSection": "state"})).is_err());
    assert!(read(json!({"kind": "gdpr"})).is_err());
    let written = serde_json::to_value(Experience::Us(UsExperience::default())).unwrap();
    assert_eq!(
        written,
        json!({"kind": "us", "gppSections": "usnat", "honourGpc": true})
    );
}

// --- today's behaviour -------------------------------------------------------

#[test]
fn existing_configurations_validate_and_serialise_exactly_as_before() {
    for fixture in [TCF_SITE, OPT_IN_SITE] {
        let config = SiteConfig::from_json(fixture, &gvl()).unwrap();
        assert!(config.regions.is_empty());
        assert!(config.region_findings().is_empty());
        let written = serde_json::to_value(&config).unwrap();
        assert!(
            written.get("regions").is_none(),
            "an empty list is not written"
        );
        let again: SiteConfig = serde_json::from_value(written).unwrap();
        assert_eq!(again, config);
    }
}

#[test]
fn without_rules_every_region_gets_the_sites_regulation() {
    let tcf = SiteConfig::from_json(TCF_SITE, &gvl()).unwrap();
    let opt_in = SiteConfig::from_json(OPT_IN_SITE, &gvl()).unwrap();
    for code in [Some("FR"), Some("US-CA"), Some("JP"), None] {
        let r = code.map(region);
        let got = tcf.experience_for(r.as_ref());
        assert_eq!(got.experience, Experience::Tcf);
        assert_eq!(got.rule, None);
        assert!(got.gdpr_applies);
        assert_eq!(got.gpp_section_ids, vec![2]);
        let got = opt_in.experience_for(r.as_ref());
        assert_eq!(got.experience, Experience::OptIn);
        assert!(!got.gdpr_applies);
        assert!(got.gpp_section_ids.is_empty());
    }
    let mut not_gdpr = tcf.clone();
    not_gdpr.gdpr_applies = false;
    let got = not_gdpr.experience_for(None);
    assert!(
        !got.gdpr_applies,
        "the site's gdprApplies holds without rules"
    );
    assert!(got.gpp_section_ids.is_empty());
}

#[test]
fn without_rules_the_gtag_defaults_are_todays_consent_mode_defaults() {
    let opt_in = SiteConfig::from_json(OPT_IN_SITE, &gvl()).unwrap();
    let defaults = serde_json::to_value(opt_in.consent_mode_defaults()).unwrap();
    assert_eq!(
        defaults,
        json!([{
            "ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
            "analytics_storage": "denied", "functionality_storage": "denied",
            "personalization_storage": "denied", "security_storage": "granted",
            "wait_for_update": 500
        }])
    );
    let resolved = opt_in.experience_for(Some(&region("DE")));
    assert_eq!(
        resolved.consent_mode_default[&ConsentModeType::SecurityStorage],
        ConsentState::Granted
    );
    assert_eq!(
        resolved.consent_mode_default[&ConsentModeType::AdStorage],
        ConsentState::Denied
    );
    let tcf = SiteConfig::from_json(TCF_SITE, &gvl()).unwrap();
    let defaults = tcf.consent_mode_defaults();
    assert_eq!(defaults.len(), 1);
    assert!(defaults[0].region.is_empty());
    assert!(defaults[0]
        .states
        .values()
        .all(|s| *s == ConsentState::Denied));
}

// --- resolution --------------------------------------------------------------

#[test]
fn the_first_matching_rule_wins() {
    let config = site_with(json!([
        {"match": ["FR"], "experience": {"kind": "notice_only"}},
        {"match": ["eea_uk_ch"], "experience": {"kind": "tcf"}}
    ]));
    let fr = config.experience_for(Some(&region("FR")));
    assert_eq!((fr.experience, fr.rule), (Experience::NoticeOnly, Some(0)));
    let de = config.experience_for(Some(&region("DE")));
    assert_eq!((de.experience, de.rule), (Experience::Tcf, Some(1)));
}

#[test]
fn a_visitor_in_a_subdivision_matches_a_rule_listing_its_country() {
    let config = typical_site();
    let paris = config.experience_for(Some(&region("FR-75")));
    assert_eq!((paris.experience, paris.rule), (Experience::Tcf, Some(0)));
    let tokyo = config.experience_for(Some(&region("JP-13")));
    assert_eq!(tokyo.experience, Experience::None);
    let quebec = site_with(json!([{"match": ["ca_qc"], "experience": {"kind": "opt_in"}}]));
    assert_eq!(quebec.experience_for(Some(&region("CA-ON"))).rule, Some(0));
    assert_eq!(quebec.experience_for(Some(&region("CA"))).rule, Some(0));
}

#[test]
fn a_us_visitor_whose_state_is_unknown_matches_state_rules_only_when_the_rule_says_so() {
    let config = typical_site();
    let unknown_state = config.experience_for(Some(&region("US")));
    assert_eq!(
        (unknown_state.experience, unknown_state.rule),
        (Experience::OptIn, Some(3))
    );
    let alabama = config.experience_for(Some(&region("US-AL")));
    assert_eq!(
        alabama.rule,
        Some(3),
        "a state without a comprehensive law is not in the group"
    );

    let chose = site_with(json!([
        {"match": ["us_comprehensive"], "matchUnknownSubdivision": true,
         "experience": {"kind": "us", "gppSections": "state"}},
        {"match": ["everywhere"], "experience": {"kind": "opt_in"}}
    ]));
    let unknown_state = chose.experience_for(Some(&region("US")));
    assert_eq!(unknown_state.rule, Some(0));
    assert_eq!(
        unknown_state.gpp_section_ids,
        vec![7],
        "no state known: usnat"
    );
    assert_eq!(chose.experience_for(Some(&region("US-AL"))).rule, Some(1));
    assert_eq!(chose.experience_for(Some(&region("CA"))).rule, Some(1));
}

#[test]
fn an_unknown_region_matches_only_an_everywhere_rule() {
    assert_eq!(typical_site().experience_for(None).rule, Some(3));
    let no_catch_all = site_with(json!([{"match": ["eea_uk_ch"], "experience": {"kind": "none"}}]));
    let unknown = no_catch_all.experience_for(None);
    assert_eq!((unknown.experience, unknown.rule), (Experience::Tcf, None));
    assert!(
        unknown.gdpr_applies,
        "the site's regulation and gdprApplies apply"
    );
    let japan = no_catch_all.experience_for(Some(&region("JP")));
    assert_eq!((japan.experience, japan.rule), (Experience::Tcf, None));
}

#[test]
fn a_us_rule_applies_the_state_section_or_usnat_as_the_site_chose() {
    let config = site_with(json!([
        {"match": ["US"], "experience": {"kind": "us", "gppSections": "state"}}
    ]));
    for (code, ids) in [
        ("US-CA", vec![8]),
        ("US-VA", vec![9]),
        ("US-TX", vec![16]),
        ("US-RI", vec![27]),
        ("US-FL", vec![13]),
        ("US-AL", vec![7]),
        ("US", vec![7]),
    ] {
        let got = config.experience_for(Some(&region(code)));
        assert_eq!(got.gpp_section_ids, ids, "{code}");
        assert!(!got.gdpr_applies);
    }
    let national = site_with(json!([{"match": ["US"], "experience": {"kind": "us"}}]));
    assert_eq!(
        national
            .experience_for(Some(&region("US-CA")))
            .gpp_section_ids,
        vec![7]
    );
}

#[test]
fn a_tcf_rule_applies_the_gdpr_and_the_tcfeuv2_section() {
    let got = typical_site().experience_for(Some(&region("IT")));
    assert_eq!(got.experience, Experience::Tcf);
    assert!(got.gdpr_applies);
    assert_eq!(got.gpp_section_ids, vec![2]);
    let japan = typical_site().experience_for(Some(&region("JP")));
    assert!(!japan.gdpr_applies);
    assert!(japan.gpp_section_ids.is_empty());
}

// --- Consent Mode --------------------------------------------------------------

#[test]
fn consent_mode_defaults_deny_where_the_law_asks_opt_in_and_grant_elsewhere() {
    let config = typical_site();
    let denied = |code: &str| {
        config
            .experience_for(Some(&region(code)))
            .consent_mode_default
            .values()
            .all(|s| *s == ConsentState::Denied)
    };
    let granted = |code: &str| {
        config
            .experience_for(Some(&region(code)))
            .consent_mode_default
            .values()
            .all(|s| *s == ConsentState::Granted)
    };
    assert!(denied("DE"), "tcf");
    assert!(denied("BR"), "opt_in");
    assert!(granted("US-CA"), "us");
    assert!(granted("JP"), "none");
    assert_eq!(
        config
            .experience_for(Some(&region("DE")))
            .consent_mode_default
            .len(),
        7
    );
}

#[test]
fn a_rule_overrides_its_consent_mode_defaults_and_the_catch_all_keeps_the_sites_storage_states() {
    let mut config = site_with(json!([
        {"match": ["US"], "experience": {"kind": "us"},
         "consentModeDefaults": {"ad_personalization": "denied"}}
    ]));
    config.consent_mode = serde_json::from_value(json!({
        "enabled": true,
        "defaults": [{"regions": [], "states": {"security_storage": "granted", "ad_storage": "granted"}, "waitForUpdateMs": 500}]
    }))
    .unwrap();
    let us = config
        .experience_for(Some(&region("US-TX")))
        .consent_mode_default;
    assert_eq!(
        us[&ConsentModeType::AdPersonalization],
        ConsentState::Denied
    );
    assert_eq!(us[&ConsentModeType::AdStorage], ConsentState::Granted);
    let fr = config
        .experience_for(Some(&region("FR")))
        .consent_mode_default;
    assert_eq!(fr[&ConsentModeType::SecurityStorage], ConsentState::Granted);
    assert_eq!(
        fr[&ConsentModeType::AdStorage],
        ConsentState::Denied,
        "the catch-all entry does not grant what the experience denies"
    );
    assert!(config
        .consent_mode_defaults()
        .iter()
        .all(|d| d.wait_for_update == Some(500)));
}

#[test]
fn the_gtag_defaults_follow_rule_order_and_end_with_one_catch_all() {
    let config = site_with(json!([
        {"match": ["US-CA", "US-VA"], "experience": {"kind": "us"}},
        {"match": ["FR", "ca_qc"], "experience": {"kind": "tcf"}},
        {"match": ["JP"], "experience": {"kind": "none"}, "consentModeDefaults": {"analytics_storage": "denied"}}
    ]));
    let granted = "granted";
    let denied = "denied";
    let written = serde_json::to_value(config.consent_mode_defaults()).unwrap();
    let all = |s: &str| {
        json!({
            "ad_storage": s, "ad_user_data": s, "ad_personalization": s, "analytics_storage": s,
            "functionality_storage": s, "personalization_storage": s, "security_storage": s
        })
    };
    let with_region = |mut v: Value, region: Value| {
        v["region"] = region;
        v
    };
    let mut japan = with_region(all(granted), json!(["JP"]));
    japan["analytics_storage"] = json!(denied);
    assert_eq!(
        written,
        json!([
            with_region(all(granted), json!(["US-CA", "US-VA"])),
            with_region(all(denied), json!(["FR", "CA"])),
            japan,
            all(denied)
        ])
    );
}

#[test]
fn the_gtag_defaults_leave_out_regions_an_earlier_rule_claims_and_stop_at_everywhere() {
    let config = site_with(json!([
        {"match": ["US-CA"], "experience": {"kind": "us"}},
        {"match": ["US", "FR"], "experience": {"kind": "notice_only"}},
        {"match": ["FR-75", "DE"], "experience": {"kind": "tcf"}},
        {"match": ["everywhere"], "experience": {"kind": "none"}}
    ]));
    let defaults = config.consent_mode_defaults();
    let regions: Vec<Vec<String>> = defaults.iter().map(|d| d.region.clone()).collect();
    assert_eq!(
        regions,
        vec![
            vec!["US-CA".to_owned()],
            vec!["US".to_owned(), "FR".to_owned()],
            vec!["DE".to_owned()],
            vec![],
        ]
    );
    assert!(
        defaults[3]
            .states
            .values()
            .all(|s| *s == ConsentState::Granted),
        "the everywhere rule's none"
    );
}

// --- validation --------------------------------------------------------------

#[test]
fn unknown_groups_and_malformed_codes_are_findings_at_their_entry() {
    let config = site_with(json!([
        {"match": ["eea", "FRA", "fr", "US-CALI", "eea_uk_ch"], "experience": {"kind": "tcf"}},
        {"match": [], "experience": {"kind": "none"}}
    ]));
    assert_eq!(
        kinds_at(&config, "regions[0].match[0]"),
        vec![FindingKind::UnknownGroup]
    );
    assert_eq!(
        kinds_at(&config, "regions[0].match[1]"),
        vec![FindingKind::MalformedRegion]
    );
    assert_eq!(
        kinds_at(&config, "regions[0].match[2]"),
        vec![FindingKind::MalformedRegion]
    );
    assert_eq!(
        kinds_at(&config, "regions[0].match[3]"),
        vec![FindingKind::MalformedRegion]
    );
    assert!(kinds_at(&config, "regions[0].match[4]").is_empty());
    assert_eq!(
        kinds_at(&config, "regions[1].match"),
        vec![FindingKind::EmptyMatch]
    );
    let message = &findings_of(&config)
        .into_iter()
        .find(|(_, p, _)| p == "regions[0].match[2]")
        .unwrap()
        .2;
    assert!(message.contains("\"FR\""), "{message}");
}

#[test]
fn a_rule_whose_regions_earlier_rules_all_match_is_unreachable() {
    let config = site_with(json!([
        {"match": ["eea_uk_ch"], "experience": {"kind": "tcf"}},
        {"match": ["US"], "experience": {"kind": "us"}},
        {"match": ["FR", "US-CA", "us_comprehensive"], "experience": {"kind": "none"}}
    ]));
    let found = findings_of(&config);
    let (kind, _, message) = found.iter().find(|(_, p, _)| p == "regions[2]").unwrap();
    assert_eq!(*kind, FindingKind::Unreachable);
    assert!(
        message.contains("regions[0]") && message.contains("regions[1]"),
        "{message}"
    );
}

#[test]
fn a_partly_shadowed_rule_is_a_warning_naming_the_regions() {
    let config = site_with(json!([
        {"match": ["FR", "US-CA"], "experience": {"kind": "notice_only"}},
        {"match": ["eea_uk_ch", "US"], "experience": {"kind": "tcf"}}
    ]));
    let found: Vec<_> = config.region_findings();
    assert_eq!(found.len(), 1, "{found:?}");
    let warning = &found[0];
    assert_eq!(warning.kind, FindingKind::PartlyShadowed);
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(warning.path, "regions[1].match");
    assert!(warning.message.contains("FR, US-CA"), "{}", warning.message);
    assert!(
        warning.message.contains("regions[0]"),
        "{}",
        warning.message
    );
    config.validate(&gvl()).unwrap();
}

#[test]
fn a_subdivision_rule_after_its_country_is_unreachable_and_before_it_shadows_part_of_the_country() {
    let after = site_with(json!([
        {"match": ["US"], "experience": {"kind": "us"}},
        {"match": ["US-CA"], "experience": {"kind": "us", "gppSections": "state"}}
    ]));
    assert_eq!(
        kinds_at(&after, "regions[1]"),
        vec![FindingKind::Unreachable]
    );
    let before = site_with(json!([
        {"match": ["US-CA"], "experience": {"kind": "us", "gppSections": "state"}},
        {"match": ["US"], "experience": {"kind": "us"}}
    ]));
    let found = before.region_findings();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, FindingKind::PartlyShadowed);
    assert_eq!(found[0].path, "regions[1].match");
    assert!(
        found[0]
            .message
            .starts_with("US-CA is matched first by regions[0]"),
        "{}",
        found[0].message
    );
    before.validate(&gvl()).unwrap();
    let unknown_only = site_with(json!([
        {"match": ["US"], "experience": {"kind": "us"}},
        {"match": ["US-CA"], "matchUnknownSubdivision": true, "experience": {"kind": "none"}}
    ]));
    assert_eq!(
        kinds_at(&unknown_only, "regions[1]"),
        vec![FindingKind::Unreachable]
    );
}

#[test]
fn rules_after_an_everywhere_rule_are_findings() {
    let config = site_with(json!([
        {"match": ["everywhere"], "experience": {"kind": "none"}},
        {"match": ["FR"], "experience": {"kind": "tcf"}},
        {"match": ["JP"], "experience": {"kind": "none"}}
    ]));
    assert_eq!(
        kinds_at(&config, "regions[1]"),
        vec![FindingKind::AfterEverywhere]
    );
    assert_eq!(
        kinds_at(&config, "regions[2]"),
        vec![FindingKind::AfterEverywhere]
    );
    assert!(findings_of(&config)
        .iter()
        .all(|(k, _, _)| *k == FindingKind::AfterEverywhere));
}

#[test]
fn a_us_experience_for_regions_outside_the_us_is_a_finding() {
    let config = site_with(json!([
        {"match": ["us_comprehensive", "US-AL", "JP", "eea_uk_ch", "CA-QC"], "experience": {"kind": "us"}},
        {"match": ["everywhere"], "experience": {"kind": "us"}}
    ]));
    assert!(kinds_at(&config, "regions[0].match[0]").is_empty());
    assert!(kinds_at(&config, "regions[0].match[1]").is_empty());
    for j in 2..=4 {
        assert_eq!(
            kinds_at(&config, &format!("regions[0].match[{j}]")),
            vec![FindingKind::UsOutsideUs]
        );
    }
    assert_eq!(
        kinds_at(&config, "regions[1].match[0]"),
        vec![FindingKind::UsOutsideUs]
    );
    let national = site_with(json!([{"match": ["US"], "experience": {"kind": "us"}}]));
    assert!(national.region_findings().is_empty());
}

#[test]
fn a_tcf_experience_needs_the_sites_tcf_settings() {
    let mut json: Value = serde_json::from_str(OPT_IN_SITE).unwrap();
    json["regions"] = json!([{"match": ["eea_uk_ch"], "experience": {"kind": "tcf"}}]);
    let config: SiteConfig = serde_json::from_value(json).unwrap();
    assert_eq!(
        kinds_at(&config, "regions[0].experience"),
        vec![FindingKind::TcfWithoutSettings]
    );
    assert!(kinds_at(&typical_site(), "regions[0].experience").is_empty());
}

#[test]
fn an_opt_in_experience_needs_custom_purposes() {
    let mut json: Value = serde_json::from_str(TCF_SITE).unwrap();
    json["regions"] = json!([{"match": ["BR"], "experience": {"kind": "opt_in"}}]);
    let config: SiteConfig = serde_json::from_value(json).unwrap();
    assert_eq!(
        kinds_at(&config, "regions[0].experience"),
        vec![FindingKind::OptInWithoutPurposes]
    );
}

#[test]
fn an_entry_another_entry_of_the_same_rule_covers_is_a_warning() {
    let config = site_with(json!([
        {"match": ["FR", "eea_uk_ch", "br", "BR", "ca_qc"], "experience": {"kind": "tcf"}}
    ]));
    let found = config.region_findings();
    let paths: Vec<(&str, FindingKind)> = found.iter().map(|f| (f.path.as_str(), f.kind)).collect();
    assert_eq!(
        paths,
        vec![
            ("regions[0].match[0]", FindingKind::RedundantEntry),
            ("regions[0].match[3]", FindingKind::RedundantEntry),
        ],
        "the group's own CA and CA-QC are not redundant"
    );
    assert!(
        found[0].message.contains("\"eea_uk_ch\""),
        "{}",
        found[0].message
    );
    assert!(found.iter().all(|f| f.severity == Severity::Warning));
}

#[test]
fn region_specific_consent_mode_defaults_are_superseded_by_rules() {
    let mut config = typical_site();
    config.consent_mode = serde_json::from_value(json!({
        "defaults": [{"regions": ["FR"], "states": {}}, {"regions": [], "states": {}}]
    }))
    .unwrap();
    assert_eq!(
        kinds_at(&config, "consentMode.defaults[0].regions"),
        vec![FindingKind::ConsentModeDefaultsSuperseded]
    );
    assert!(kinds_at(&config, "consentMode.defaults[1].regions").is_empty());
}

#[test]
fn region_errors_refuse_the_configuration_by_path_and_warnings_do_not() {
    let mut json: Value = serde_json::from_str(TCF_SITE).unwrap();
    json["regions"] = json!([
        {"match": ["US"], "experience": {"kind": "us"}},
        {"match": ["US-CA", "nowhere"], "experience": {"kind": "tcf"}}
    ]);
    let problems = match SiteConfig::from_json(&json.to_string(), &gvl()) {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("expected findings, got {other:?}"),
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, vec!["regions[1].match[1]", "regions[1]"]);
    json["regions"] = json!([
        {"match": ["FR"], "experience": {"kind": "notice_only"}},
        {"match": ["eea_uk_ch"], "experience": {"kind": "tcf"}}
    ]);
    let config = SiteConfig::from_json(&json.to_string(), &gvl()).unwrap();
    assert_eq!(config.regions.len(), 2);
    assert_eq!(
        serde_json::to_value(&config).unwrap()["regions"],
        json["regions"]
    );
}

#[test]
fn the_typical_site_validates_without_findings() {
    let config = typical_site();
    assert_eq!(config.region_findings(), Vec::new());
    config.validate(&gvl()).unwrap();
}

// --- notice version ------------------------------------------------------------

#[test]
fn the_notice_version_is_a_pinned_stable_hex_digest() {
    let config = typical_site();
    let fr = config.experience_for(Some(&region("FR")));
    let version = notice_version(&config, &fr);
    assert_eq!(version.len(), NOTICE_VERSION_LEN);
    assert!(version
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(version, notice_version(&config.clone(), &fr));
    // Pinned: a change here changes every stored record's notice version.
    assert_eq!(version, "b610136902bab0d65f50f7e0ec298245");
}

#[test]
fn the_notice_version_follows_what_the_visitor_sees_and_nothing_else() {
    let config = typical_site();
    let fr = config.experience_for(Some(&region("FR")));
    let de = config.experience_for(Some(&region("DE")));
    let ca = config.experience_for(Some(&region("US-CA")));
    let tx = config.experience_for(Some(&region("US-TX")));
    let jp = config.experience_for(Some(&region("JP")));
    let v = |c: &SiteConfig, e| notice_version(c, e);
    assert_eq!(v(&config, &fr), v(&config, &de), "same rule, same notice");
    assert_eq!(
        v(&config, &ca),
        v(&config, &tx),
        "same texts in every state"
    );
    assert_ne!(v(&config, &fr), v(&config, &ca));
    assert_ne!(v(&config, &ca), v(&config, &jp));

    let mut unrelated = config.clone();
    unrelated.cookie_domain = Some("example.com".into());
    unrelated.consent_lifetime_days = 100;
    unrelated.consent_mode.enabled = !unrelated.consent_mode.enabled;
    unrelated.regions.insert(
        0,
        serde_json::from_value(json!({"match": ["NZ"], "experience": {"kind": "none"}})).unwrap(),
    );
    let moved = unrelated.experience_for(Some(&region("FR")));
    assert_eq!(moved.rule, Some(1));
    assert_eq!(
        v(&unrelated, &moved),
        v(&config, &fr),
        "settings the visitor does not see"
    );

    let mut retitled = config.clone();
    retitled.languages.get_mut("en").unwrap().title = "Your privacy".into();
    assert_ne!(v(&retitled, &fr), v(&config, &fr));
    assert_ne!(v(&retitled, &ca), v(&config, &ca));
    assert_eq!(v(&retitled, &jp), v(&config, &jp), "none shows no text");

    let mut more_vendors = config.clone();
    more_vendors.vendors.push(8);
    assert_ne!(v(&more_vendors, &fr), v(&config, &fr));
    assert_eq!(
        v(&more_vendors, &ca),
        v(&config, &ca),
        "IAB vendors are shown in tcf only"
    );

    let mut gpc_off = config.clone();
    gpc_off.regions[1].experience = Experience::Us(UsExperience {
        gpp_sections: GppSections::State,
        honour_gpc: false,
    });
    let ca_off = gpc_off.experience_for(Some(&region("US-CA")));
    assert_ne!(v(&gpc_off, &ca_off), v(&config, &ca));
}

#[test]
fn the_notice_versions_computed_once_per_configuration_are_those_of_every_visitor_of_each_rule() {
    let config = typical_site();
    let versions = config.notice_versions();
    assert_eq!(versions.len(), config.regions.len() + 1);
    for code in ["FR", "DE", "US-CA", "US-VA", "US-TX", "US", "JP", "BR"] {
        let resolved = config.experience_for(Some(&region(code)));
        let index = resolved.rule.unwrap_or(config.regions.len());
        assert_eq!(
            versions[index],
            notice_version(&config, &resolved),
            "{code}"
        );
    }
    let unknown = config.experience_for(None);
    let index = unknown.rule.unwrap_or(config.regions.len());
    assert_eq!(versions[index], notice_version(&config, &unknown));
    // A site without rules: one entry, its regulation's.
    let plain = site_with(json!([]));
    assert_eq!(
        plain.notice_versions(),
        vec![notice_version(&plain, &plain.experience_for(None))]
    );
}
