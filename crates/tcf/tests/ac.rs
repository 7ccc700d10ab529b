//! Google Additional Consent strings: Google's own examples, canonical
//! output, every error with its position, and robustness.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use nexaguard_tcf::ac::{AcBuildError, AcJson, AcString, AcVersion};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn set(ids: &[u32]) -> BTreeSet<u32> {
    ids.iter().copied().collect()
}

fn parsed(s: &str) -> (AcVersion, BTreeSet<u32>, BTreeSet<u32>) {
    let ac = AcString::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    (ac.version(), ac.consented().clone(), ac.disclosed().clone())
}

#[test]
fn googles_specification_examples() {
    // Consented 1, 35, 41, 101; disclosed without consent 9, 21, 81.
    assert_eq!(
        parsed("2~1.35.41.101~dv.9.21.81"),
        (AcVersion::V2, set(&[1, 35, 41, 101]), set(&[9, 21, 81]))
    );
    // Disclosed, no decision yet, or all refused.
    assert_eq!(
        parsed("2~~dv.1.2.3.4.10"),
        (AcVersion::V2, set(&[]), set(&[1, 2, 3, 4, 10]))
    );
    // All consented: the dot after dv is optional.
    for s in ["2~1.2.3.4.10~dv.", "2~1.2.3.4.10~dv"] {
        assert_eq!(parsed(s), (AcVersion::V2, set(&[1, 2, 3, 4, 10]), set(&[])));
    }
    assert_eq!(
        parsed("2~1.10~dv.2.3.4"),
        (AcVersion::V2, set(&[1, 10]), set(&[2, 3, 4]))
    );
    // Version 1 lists consented providers only.
    assert_eq!(
        parsed("1~1.35.41.101"),
        (AcVersion::V1, set(&[1, 35, 41, 101]), set(&[]))
    );
    assert_eq!(parsed("1~"), (AcVersion::V1, set(&[]), set(&[])));
}

#[test]
fn display_is_canonical_ascending_with_dv_dot() {
    let cases = [
        ("2~101.1.35~dv.81.9", "2~1.35.101~dv.9.81"),
        ("2~1.2~dv", "2~1.2~dv."),
        ("2~~dv.", "2~~dv."),
        ("1~41.1", "1~1.41"),
    ];
    for (input, canonical) in cases {
        assert_eq!(AcString::parse(input).unwrap().to_string(), canonical);
    }
}

#[test]
fn disclosure_queries() {
    let ac: AcString = "2~1.10~dv.2.3.4".parse().unwrap();
    assert!(ac.is_consented(10));
    assert!(!ac.is_consented(2));
    assert!(ac.is_disclosed(2));
    assert!(ac.is_disclosed(10), "consented implies disclosed");
    assert!(!ac.is_disclosed(5));
}

#[test]
fn every_error_has_a_stable_code_and_a_character_position() {
    let cases: &[(&str, &str, usize)] = &[
        ("", "empty", 0),
        ("x~1", "invalid_version", 0),
        ("~1", "invalid_version", 0),
        ("3~1~dv.2", "unsupported_version", 0),
        ("99999999999999999999999~", "unsupported_version", 0),
        ("2", "missing_separator", 1),
        ("2~1.2", "missing_disclosed_section", 5),
        ("2~1.2~xv.3", "invalid_disclosed_section", 6),
        ("2~1.2~dv3", "invalid_disclosed_section", 6),
        ("2~1~dv.2~3", "unexpected_section", 8),
        ("1~1~dv.2", "unexpected_section", 3),
        ("2~1..2~dv.", "invalid_provider_id", 4),
        ("2~1.2.~dv.", "invalid_provider_id", 6),
        ("2~1.a2~dv.", "invalid_provider_id", 4),
        ("2~1.0~dv.", "invalid_provider_id", 4),
        ("2~1.007~dv.", "invalid_provider_id", 4),
        ("2~1.-3~dv.", "invalid_provider_id", 4),
        ("2~1.+3~dv.", "invalid_provider_id", 4),
        ("2~1.2~dv.3.99999999999", "invalid_provider_id", 11),
        ("2~1.2~dv.3 ", "invalid_provider_id", 10),
        ("2~1.35.1~dv.", "duplicate_provider", 7),
        ("2~1~dv.5.5", "duplicate_provider", 9),
        ("2~1.35~dv.9.35", "consented_and_disclosed", 12),
        // Positions count characters, not bytes.
        ("2~é.1~dv.", "invalid_provider_id", 2),
        ("2~1~dv.é~", "unexpected_section", 8),
    ];
    for &(input, code, position) in cases {
        let err = AcString::parse(input).expect_err(input);
        assert_eq!(
            (err.code(), err.position),
            (code, position),
            "{input:?}: {err}"
        );
        assert!(!err.to_string().contains('\n'), "one-line message");
    }
}

#[test]
fn error_messages_quote_hostile_input_briefly() {
    let long = format!("2~{}~dv.", "x".repeat(10_000));
    let err = AcString::parse(&long).unwrap_err();
    assert_eq!(err.code(), "invalid_provider_id");
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn builder_enforces_the_invariants() {
    let ok = AcString::new(AcVersion::V2, [35, 1], [9]).unwrap();
    assert_eq!(ok.to_string(), "2~1.35~dv.9");
    let cases: [(Result<AcString, AcBuildError>, &str); 4] = [
        (AcString::new(AcVersion::V2, [0], []), "invalid_provider_id"),
        (
            AcString::new(AcVersion::V2, [1, 1], []),
            "duplicate_provider",
        ),
        (
            AcString::new(AcVersion::V2, [1], [1]),
            "consented_and_disclosed",
        ),
        (
            AcString::new(AcVersion::V1, [1], [2]),
            "disclosed_in_version_1",
        ),
    ];
    for (result, code) in cases {
        assert_eq!(result.unwrap_err().code(), code);
    }
}

#[test]
fn json_form_round_trips_and_defaults_to_version_2() {
    let ac = AcString::parse("2~35.1~dv.9").unwrap();
    let json = serde_json::to_value(AcJson::from(&ac)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"version": 2, "consentedProviders": [1, 35], "disclosedProviders": [9]})
    );
    let back: AcJson = serde_json::from_value(json).unwrap();
    assert_eq!(AcString::try_from(back).unwrap(), ac);

    let minimal: AcJson = serde_json::from_str(r#"{"consentedProviders":[3]}"#).unwrap();
    assert_eq!(AcString::try_from(minimal).unwrap().to_string(), "2~3~dv.");
    let v3: AcJson = serde_json::from_str(r#"{"version":3}"#).unwrap();
    assert_eq!(
        AcString::try_from(v3).unwrap_err().code(),
        "unsupported_version"
    );
    assert!(
        serde_json::from_str::<AcJson>(r#"{"consented":[1]}"#).is_err(),
        "unknown fields are refused"
    );
}

fn ac_string() -> impl Strategy<Value = AcString> {
    (
        any::<bool>(),
        proptest::collection::btree_set(1u32..=u32::MAX, 0..30),
        proptest::collection::btree_set(1u32..3000, 0..30),
    )
        .prop_map(|(v1, consented, disclosed)| {
            if v1 {
                AcString::new(AcVersion::V1, consented, []).unwrap()
            } else {
                let disclosed: Vec<u32> = disclosed.difference(&consented).copied().collect();
                AcString::new(AcVersion::V2, consented, disclosed).unwrap()
            }
        })
}

proptest! {
    #[test]
    fn any_string_parses_or_errs_without_panicking(s in any::<String>()) {
        if let Err(e) = AcString::parse(&s) {
            prop_assert!(e.position <= s.chars().count());
        }
    }

    #[test]
    fn near_miss_strings_are_rejected_or_canonicalised(s in "[0-9]{0,2}(~[0-9.dvx]{0,12}){0,3}") {
        match AcString::parse(&s) {
            // Whatever parses prints in a form that parses to the same value.
            Ok(ac) => prop_assert_eq!(AcString::parse(&ac.to_string()).unwrap(), ac),
            Err(e) => prop_assert!(e.position <= s.chars().count()),
        }
    }

    #[test]
    fn display_then_parse_is_identity(ac in ac_string()) {
        let text = ac.to_string();
        prop_assert_eq!(AcString::parse(&text).unwrap(), ac);
    }
}
