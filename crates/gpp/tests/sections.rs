//! Known strings, errors, validation findings and in-app keys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::field_reassign_with_default
)]

use nexaguard_gpp::in_app::{keys, InAppValue};
use nexaguard_gpp::uspv1::UspFlag;
use nexaguard_gpp::{
    decode, encode, json, validate, validate_str, GppError, GppString, Section, UsCa, UsNat, UspV1,
};

const TC: &str = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA";

fn codes(findings: &[nexaguard_gpp::Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

#[test]
fn usnat_version_1_strings_widen_as_the_reference_widens_them() {
    // 10 characters (60 bits): version 1 layout, no GPC sub-section.
    let gpp = decode("DBABLA~BVQqAAAAAg").unwrap();
    let Section::UsNat(n) = &gpp.sections[0] else {
        panic!()
    };
    assert_eq!(n.version, 1);
    assert_eq!(n.sale_opt_out, 2);
    assert_eq!(n.mspa_covered_transaction, 2);
    assert!(!n.gpc_segment_included);
    assert_eq!(n.sensitive_data_processing[12..], [0, 0, 0, 0]);
    // Written back with the version 1 layout: 60 bits, padded to whole
    // bytes and then characters (11), as the reference writes it.
    assert_eq!(encode(&gpp).unwrap(), "DBABLA~BVQqAAAAAgA");
    let json = json::to_value(&gpp, "DBABLA~BVQqAAAAAg");
    assert_eq!(
        json["sections"]["usnat"]["SensitiveDataProcessing"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
}

#[test]
fn a_version_2_layout_that_says_version_1_keeps_only_the_version_1_lists() {
    // Found by the gpp_decode fuzz target: a 16-value usnat core whose
    // Version is 1. The reference shows (and writes back) only the first
    // 12 and 2 values; the model keeps only those, so that what decodes
    // re-encodes to the same model.
    let s = "DBACzyM~1N-N~BVDBAFF3hjMA~BUBqhgGSF";
    let gpp = decode(s).unwrap();
    let Section::UsNat(n) = &gpp.sections[1] else {
        panic!("{:?}", gpp.sections)
    };
    assert_eq!(n.version, 1);
    assert_eq!(
        n.sensitive_data_processing,
        [0, 0, 0, 0, 1, 1, 0, 1, 1, 3, 1, 3, 0, 0, 0, 0]
    );
    assert_eq!(n.known_child_sensitive_data_consents, [0, 3, 0]);
    let again = decode(&encode(&gpp).unwrap()).unwrap();
    assert_eq!(again, gpp);
}

#[test]
fn a_bare_tc_string_is_a_tcfeuv2_section() {
    let gpp = decode(TC).unwrap();
    assert_eq!(gpp.section_ids(), vec![2]);
    assert!(encode(&gpp)
        .unwrap()
        .starts_with("DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"));
}

#[test]
fn unknown_section_ids_are_skipped_as_the_reference_skips_them() {
    let gpp = decode("DBABTA~1YNN").unwrap();
    assert_eq!(gpp.section_ids(), vec![6]);
    // Id 4 (signal integrity) then usnat: the first section is ignored.
    let s = "DBACWMA~xyz~BVQqAAAAAgA.QA";
    match decode(s) {
        Ok(g) => assert_eq!(g.section_ids(), vec![7]),
        Err(e) => panic!("{s}: {e}"),
    }
    assert_eq!(
        codes(&validate_str(s, None).unwrap()),
        ["unknown_section_id"]
    );
}

#[test]
fn errors_name_the_section_field_and_bit() {
    assert_eq!(decode("").unwrap_err(), GppError::Empty);
    assert_eq!(decode("XYZ").unwrap_err().code(), "not_gpp_string");
    let e = decode("DBABLA~BVQ").unwrap_err();
    assert_eq!(e.code(), "truncated");
    let GppError::Truncated {
        section,
        field,
        bit,
        ..
    } = e
    else {
        panic!()
    };
    assert_eq!((section, field, bit), ("usnat", "SaleOptOut", 18));
    let e = decode("DBABLA~BVQ=AAAAAg").unwrap_err();
    assert_eq!(
        e,
        GppError::InvalidCharacter {
            section: "usnat",
            character: '=',
            position: 10
        }
    );
    assert_eq!(decode("DBABLA~").unwrap_err().code(), "empty_section");
    assert_eq!(
        decode("DBABLA~BVQqAAAAAg~BVQqAAAAAg").unwrap_err(),
        GppError::SectionCountMismatch {
            declared: 1,
            found: 2
        }
    );
    assert_eq!(decode("DBABTA~1YX-").unwrap_err().code(), "invalid_value");
    assert!(decode("DBABTA~1YX-")
        .unwrap_err()
        .to_string()
        .contains("OptOutSale"));
    assert_eq!(decode("DBABMA~C").unwrap_err().code(), "truncated");
}

#[test]
fn encode_refuses_duplicates_and_values_too_large() {
    let two = GppString {
        sections: vec![
            Section::UsCa(UsCa::default()),
            Section::UsCa(UsCa::default()),
        ],
    };
    assert_eq!(encode(&two).unwrap_err().code(), "duplicate_section");
    let mut n = UsNat::default();
    n.sale_opt_out = 4;
    let e = encode(&GppString {
        sections: vec![Section::UsNat(n)],
    })
    .unwrap_err();
    assert_eq!(e.code(), "value_too_large");
    assert!(e.to_string().contains("SaleOptOut"));
}

#[test]
fn sections_are_written_in_id_order() {
    let g = GppString {
        sections: vec![
            Section::UsCa(UsCa::default()),
            Section::UspV1(UspV1::default()),
        ],
    };
    assert_eq!(encode(&g).unwrap(), "DBACTMA~1---~BAAAAABA.QA");
}

#[test]
fn validation_finds_dependent_fields_and_gpc() {
    let mut n = UsNat::default();
    n.sale_opt_out_notice = 2;
    n.sale_opt_out = 2;
    n.sharing_opt_out_notice = 0;
    n.sharing_opt_out = 1;
    n.targeted_advertising_opt_out_notice = 1;
    n.targeted_advertising_opt_out = 0;
    n.mspa_opt_out_option_mode = 1;
    n.mspa_service_provider_mode = 1;
    n.sensitive_data_processing[3] = 3;
    n.gpc = true;
    let g = GppString {
        sections: vec![Section::UsNat(n.clone())],
    };
    assert_eq!(
        codes(&validate(&g, Some(false))),
        [
            "value_out_of_range",
            "notice_not_given_but_opted_in",
            "opt_out_without_notice",
            "opt_out_missing_after_notice",
            "mspa_mode_conflict",
            "gpc_disagrees"
        ]
    );
    n.gpc_segment_included = false;
    n.version = 3;
    let g = GppString {
        sections: vec![Section::UsNat(n)],
    };
    let found = codes(&validate(&g, Some(true)));
    assert!(found.contains(&"gpc_missing"));
    assert!(found.contains(&"unsupported_version"));

    let usp = GppString {
        sections: vec![Section::UspV1(UspV1 {
            version: 1,
            notice: UspFlag::No,
            opt_out_sale: UspFlag::No,
            lspa_covered: UspFlag::Yes,
        })],
    };
    assert_eq!(
        codes(&validate(&usp, None)),
        ["notice_not_given_but_opted_in"]
    );
    assert!(validate(&GppString::default(), Some(true)).is_empty());
}

#[test]
fn lenient_validation_reports_header_mismatches() {
    let f = validate_str("DBACMYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", None).unwrap();
    assert_eq!(codes(&f), ["section_id_without_section"]);
    let f = validate_str("DBABLA~BVQqAAAAAg~1YNN", None).unwrap();
    assert_eq!(codes(&f), ["section_without_section_id"]);
    let f = validate_str("DBACNYA~~1YNN", None).unwrap();
    assert_eq!(codes(&f), ["section_id_without_section"]);
    assert!(validate_str("nope", None).is_err());
}

#[test]
fn in_app_keys_follow_the_cmp_api() {
    let s = "DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN";
    let g = decode(s).unwrap();
    let k = keys(&g);
    let get = |name: &str| k.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(get("IABGPP_HDR_Version"), Some(InAppValue::Str("1".into())));
    assert_eq!(
        get("IABGPP_HDR_Sections"),
        Some(InAppValue::Str("2_6".into()))
    );
    assert_eq!(get("IABGPP_GppSID"), Some(InAppValue::Str("2_6".into())));
    assert_eq!(get("IABGPP_6_String"), Some(InAppValue::Str("1YNN".into())));
    assert_eq!(get("IABGPP_USP1_OptOut"), Some(InAppValue::Str("N".into())));
    assert_eq!(get("IABGPP_TCFEU2_CmpId"), Some(InAppValue::Int(31)));
    let Some(InAppValue::Str(full)) = get("IABGPP_HDR_GppString") else {
        panic!()
    };
    assert_eq!(decode(&full).unwrap().section_ids(), vec![2, 6]);
    assert!(get("IABGPP_2_String").is_some());
}
