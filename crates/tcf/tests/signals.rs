//! Google Consent Mode values and `IABTCF_*` keys derived from TC strings.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use nexaguard_tcf::signals::{
    consent_mode, iabtcf_keys, ConsentModeSignals, ConsentState, IabTcfValue, GOOGLE_VENDOR_ID,
};
use nexaguard_tcf::{
    decode, encode, Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel, VendorSet,
};
use serde_json::json;
use ConsentState::{Denied, Granted};

fn ids(list: &[u32]) -> VendorSet {
    VendorSet::try_from(list).unwrap()
}

fn restrict(
    purpose_id: u8,
    restriction_type: RestrictionType,
    vendors: &[u32],
) -> PublisherRestriction {
    PublisherRestriction {
        purpose_id,
        restriction_type,
        vendors: ids(vendors),
    }
}

/// Purposes 1, 3, 4 by consent; purpose 7 by legitimate interest (Google's
/// declared default basis), Google with both vendor signals.
fn google_accepted() -> TcModel {
    let mut tc = TcModel::default();
    for p in [1, 3, 4] {
        tc.purpose_consents.insert(p).unwrap();
    }
    tc.purpose_legitimate_interests.insert(7).unwrap();
    tc.vendor_consents = ids(&[GOOGLE_VENDOR_ID]);
    tc.vendor_legitimate_interests = ids(&[GOOGLE_VENDOR_ID]);
    tc
}

fn signals(
    ad_storage: ConsentState,
    ad_user_data: ConsentState,
    ad_personalization: ConsentState,
    analytics_storage: ConsentState,
) -> ConsentModeSignals {
    ConsentModeSignals {
        ad_storage,
        ad_user_data,
        ad_personalization,
        analytics_storage,
    }
}

#[test]
fn gdpr_not_applying_grants_everything_whatever_the_string_says() {
    assert_eq!(
        consent_mode(&TcModel::default(), false),
        ConsentModeSignals::all(Granted)
    );
}

#[test]
fn a_string_without_choices_denies_everything() {
    assert_eq!(
        consent_mode(&TcModel::default(), true),
        ConsentModeSignals::all(Denied)
    );
}

#[test]
fn google_with_its_purposes_is_granted_everything() {
    assert_eq!(
        consent_mode(&google_accepted(), true),
        ConsentModeSignals::all(Granted)
    );
}

#[test]
fn purpose_seven_by_consent_also_grants_user_data() {
    let mut tc = google_accepted();
    tc.purpose_legitimate_interests.remove(7);
    tc.vendor_legitimate_interests = VendorSet::new();
    tc.purpose_consents.insert(7).unwrap();
    assert_eq!(consent_mode(&tc, true).ad_user_data, Granted);
}

#[test]
fn purpose_seven_missing_denies_only_user_data() {
    let mut tc = google_accepted();
    tc.purpose_legitimate_interests.remove(7);
    assert_eq!(
        consent_mode(&tc, true),
        signals(Granted, Denied, Granted, Granted)
    );
}

#[test]
fn purpose_one_missing_denies_storage_and_user_data() {
    let mut tc = google_accepted();
    tc.purpose_consents.remove(1);
    assert_eq!(
        consent_mode(&tc, true),
        signals(Denied, Denied, Granted, Denied)
    );
}

#[test]
fn personalization_needs_both_purpose_three_and_four() {
    for missing in [3, 4] {
        let mut tc = google_accepted();
        tc.purpose_consents.remove(missing);
        assert_eq!(
            consent_mode(&tc, true),
            signals(Granted, Granted, Denied, Granted),
            "purpose {missing}"
        );
    }
}

#[test]
fn legitimate_interest_does_not_stand_in_for_consent_purposes() {
    let mut tc = google_accepted();
    tc.purpose_consents.remove(3);
    tc.purpose_legitimate_interests.insert(3).unwrap();
    assert_eq!(consent_mode(&tc, true).ad_personalization, Denied);
}

#[test]
fn without_google_vendor_consent_only_analytics_storage_is_granted() {
    let mut tc = google_accepted();
    tc.vendor_consents = ids(&[1, 2, 754, 756]);
    assert_eq!(
        consent_mode(&tc, true),
        signals(Denied, Denied, Denied, Granted)
    );
}

#[test]
fn without_google_legitimate_interest_purpose_seven_needs_consent() {
    let mut tc = google_accepted();
    tc.vendor_legitimate_interests = ids(&[1]);
    assert_eq!(consent_mode(&tc, true).ad_user_data, Denied);
}

#[test]
fn restriction_not_allowed_for_google_denies_the_purpose() {
    let mut tc = google_accepted();
    tc.publisher_restrictions.push(restrict(
        4,
        RestrictionType::NotAllowed,
        &[10, GOOGLE_VENDOR_ID],
    ));
    assert_eq!(
        consent_mode(&tc, true),
        signals(Granted, Granted, Denied, Granted)
    );

    let mut tc = google_accepted();
    tc.publisher_restrictions.push(restrict(
        7,
        RestrictionType::NotAllowed,
        &[GOOGLE_VENDOR_ID],
    ));
    assert_eq!(consent_mode(&tc, true).ad_user_data, Denied);
}

#[test]
fn restrictions_for_other_vendors_do_not_matter() {
    let mut tc = google_accepted();
    tc.publisher_restrictions
        .push(restrict(1, RestrictionType::NotAllowed, &[1, 754, 756]));
    assert_eq!(consent_mode(&tc, true), ConsentModeSignals::all(Granted));
}

#[test]
fn restriction_type_picks_the_basis_of_flexible_purpose_seven() {
    // Only legitimate interest is established for purpose 7 here.
    let mut tc = google_accepted();
    tc.publisher_restrictions.push(restrict(
        7,
        RestrictionType::RequireConsent,
        &[GOOGLE_VENDOR_ID],
    ));
    assert_eq!(consent_mode(&tc, true).ad_user_data, Denied);

    let mut tc = google_accepted();
    tc.publisher_restrictions.push(restrict(
        7,
        RestrictionType::RequireLegitimateInterest,
        &[GOOGLE_VENDOR_ID],
    ));
    assert_eq!(consent_mode(&tc, true).ad_user_data, Granted);

    // Only consent is established: requiring legitimate interest denies.
    let mut tc = google_accepted();
    tc.purpose_legitimate_interests.remove(7);
    tc.purpose_consents.insert(7).unwrap();
    tc.publisher_restrictions.push(restrict(
        7,
        RestrictionType::RequireLegitimateInterest,
        &[GOOGLE_VENDOR_ID],
    ));
    assert_eq!(consent_mode(&tc, true).ad_user_data, Denied);
}

#[test]
fn basis_restrictions_do_not_change_consent_only_purposes() {
    let mut tc = google_accepted();
    tc.publisher_restrictions.push(restrict(
        1,
        RestrictionType::RequireLegitimateInterest,
        &[GOOGLE_VENDOR_ID],
    ));
    tc.publisher_restrictions.push(restrict(
        3,
        RestrictionType::RequireConsent,
        &[GOOGLE_VENDOR_ID],
    ));
    assert_eq!(consent_mode(&tc, true), ConsentModeSignals::all(Granted));
}

#[test]
fn consent_mode_serializes_under_googles_key_names() {
    let value = serde_json::to_value(signals(Granted, Denied, Granted, Denied)).unwrap();
    assert_eq!(
        value,
        json!({"ad_storage": "granted", "ad_user_data": "denied", "ad_personalization": "granted", "analytics_storage": "denied"})
    );
}

#[test]
fn consent_mode_of_a_decoded_string_matches_its_model() {
    let tc = encode(&google_accepted()).unwrap();
    let decoded = decode(&tc).unwrap();
    assert_eq!(
        consent_mode(&decoded, true),
        ConsentModeSignals::all(Granted)
    );
}

// ---- IABTCF_* keys ----

fn full_model() -> TcModel {
    let mut tc = TcModel {
        cmp_id: 300,
        cmp_version: 7,
        policy_version: 5,
        publisher_country_code: Letters::parse("DE").unwrap(),
        purpose_one_treatment: true,
        use_non_standard_texts: false,
        vendor_consents: ids(&[1, 3]),
        vendor_legitimate_interests: ids(&[2]),
        vendors_disclosed: Some(ids(&[1, 2, 3, 5])),
        ..TcModel::default()
    };
    for p in [1, 2, 24] {
        tc.purpose_consents.insert(p).unwrap();
    }
    tc.purpose_legitimate_interests.insert(2).unwrap();
    tc.special_feature_optins.insert(2).unwrap();
    tc.publisher_restrictions = vec![
        restrict(2, RestrictionType::RequireConsent, &[2, 4]),
        restrict(2, RestrictionType::NotAllowed, &[5]),
        restrict(7, RestrictionType::RequireLegitimateInterest, &[3]),
    ];
    let mut publisher = PublisherTc {
        num_custom_purposes: 3,
        ..PublisherTc::default()
    };
    publisher.purpose_consents.insert(1).unwrap();
    publisher.purpose_legitimate_interests.insert(3).unwrap();
    publisher.custom_purpose_consents.insert(2).unwrap();
    publisher
        .custom_purpose_legitimate_interests
        .insert(1)
        .unwrap();
    publisher
        .custom_purpose_legitimate_interests
        .insert(3)
        .unwrap();
    tc.publisher_tc = Some(publisher);
    tc
}

#[test]
fn every_key_of_the_cmp_api_with_its_type_and_value() {
    let keys = iabtcf_keys(&full_model(), "TCSTRING", true);
    let json = serde_json::to_value(&keys).unwrap();
    assert_eq!(
        json,
        json!({
            "IABTCF_CmpSdkID": 300,
            "IABTCF_CmpSdkVersion": 7,
            "IABTCF_PolicyVersion": 5,
            "IABTCF_gdprApplies": 1,
            "IABTCF_PublisherCC": "DE",
            "IABTCF_PurposeOneTreatment": 1,
            "IABTCF_UseNonStandardTexts": 0,
            "IABTCF_TCString": "TCSTRING",
            "IABTCF_VendorConsents": "101",
            "IABTCF_VendorLegitimateInterests": "01",
            "IABTCF_DisclosedVendors": "11101",
            "IABTCF_PurposeConsents": "110000000000000000000001",
            "IABTCF_PurposeLegitimateInterests": "010000000000000000000000",
            "IABTCF_SpecialFeaturesOptIns": "010000000000",
            "IABTCF_PublisherRestrictions2": "_1_10",
            "IABTCF_PublisherRestrictions7": "__2",
            "IABTCF_PublisherConsent": "100000000000000000000000",
            "IABTCF_PublisherLegitimateInterests": "001000000000000000000000",
            "IABTCF_PublisherCustomPurposesConsents": "010",
            "IABTCF_PublisherCustomPurposesLegitimateInterests": "101",
        })
    );
}

#[test]
fn numbers_and_strings_keep_their_types() {
    let keys = iabtcf_keys(&full_model(), "X", false);
    assert_eq!(keys["IABTCF_gdprApplies"], IabTcfValue::Number(0));
    assert_eq!(keys["IABTCF_CmpSdkID"], IabTcfValue::Number(300));
    assert_eq!(keys["IABTCF_PublisherCC"], IabTcfValue::String("DE".into()));
    // A binary string that looks like a number stays a string.
    assert_eq!(
        keys["IABTCF_VendorConsents"],
        IabTcfValue::String("101".into())
    );
}

#[test]
fn absent_segments_leave_their_keys_out_and_empty_vendor_sets_are_empty_strings() {
    let keys = iabtcf_keys(&TcModel::default(), "X", true);
    let names: Vec<&str> = keys.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "IABTCF_CmpSdkID",
            "IABTCF_CmpSdkVersion",
            "IABTCF_PolicyVersion",
            "IABTCF_PublisherCC",
            "IABTCF_PurposeConsents",
            "IABTCF_PurposeLegitimateInterests",
            "IABTCF_PurposeOneTreatment",
            "IABTCF_SpecialFeaturesOptIns",
            "IABTCF_TCString",
            "IABTCF_UseNonStandardTexts",
            "IABTCF_VendorConsents",
            "IABTCF_VendorLegitimateInterests",
            "IABTCF_gdprApplies",
        ]
    );
    assert_eq!(
        keys["IABTCF_VendorConsents"],
        IabTcfValue::String(String::new())
    );
    assert_eq!(
        keys["IABTCF_PurposeConsents"],
        IabTcfValue::String("0".repeat(24))
    );
}

#[test]
fn vendor_strings_reach_the_largest_id_with_id_one_first() {
    let tc = TcModel {
        vendor_consents: ids(&[1, GOOGLE_VENDOR_ID]),
        ..TcModel::default()
    };
    let keys = iabtcf_keys(&tc, "X", true);
    let IabTcfValue::String(bits) = &keys["IABTCF_VendorConsents"] else {
        panic!("not a string")
    };
    assert_eq!(bits.len(), GOOGLE_VENDOR_ID as usize);
    assert!(bits.starts_with("10"));
    assert!(bits.ends_with("01"));
    assert_eq!(bits.matches('1').count(), 2);
}

#[test]
fn restrictions_without_vendors_write_no_key() {
    let tc = TcModel {
        publisher_restrictions: vec![restrict(3, RestrictionType::NotAllowed, &[])],
        ..TcModel::default()
    };
    let keys = iabtcf_keys(&tc, "X", true);
    assert!(!keys.contains_key("IABTCF_PublisherRestrictions3"));
}

#[test]
fn keys_of_a_decoded_string_carry_the_string_itself() {
    let model = full_model();
    let tc = encode(&model).unwrap();
    let decoded = decode(&tc).unwrap();
    let keys = iabtcf_keys(&decoded, &tc, true);
    assert_eq!(keys["IABTCF_TCString"], IabTcfValue::String(tc.clone()));
    assert_eq!(keys, iabtcf_keys(&model, &tc, true));
}
