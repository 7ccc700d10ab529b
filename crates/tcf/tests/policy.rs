//! Policy validation of encoded TC strings against the fixture GVL and (when
//! present) the real GVL v17. The per-check cases are unit tests in
//! src/policy.rs; these go through encode and decode as a caller would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use nexaguard_tcf::gvl::Gvl;
use nexaguard_tcf::policy::{validate, FindingCode, Severity};
use nexaguard_tcf::{decode, encode, PurposeSet, TcModel, Timestamp, VendorSet};

const FIXTURE: &str = include_str!("fixtures/gvl/vendor-list.json");
const REAL_GVL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/gvl/vendor-list-v17.json"
);

/// 2025-06-10T00:00:00Z
const CREATED_MS: i64 = 1_749_513_600_000;
/// 2025-07-01T00:00:00Z
const NOW_MS: i64 = 1_751_328_000_000;

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).unwrap()
}

fn ids(list: &[u32]) -> VendorSet {
    VendorSet::try_from(list).unwrap()
}

fn model(vendor_list_version: u16) -> TcModel {
    TcModel {
        created: ts(CREATED_MS),
        last_updated: ts(CREATED_MS),
        cmp_id: 300,
        vendor_list_version,
        purpose_consents: PurposeSet::try_from([1, 2, 3, 4, 7].as_slice()).unwrap(),
        purpose_legitimate_interests: PurposeSet::try_from([2, 7, 8].as_slice()).unwrap(),
        vendor_consents: ids(&[1, 5]),
        vendor_legitimate_interests: ids(&[2]),
        vendors_disclosed: Some(ids(&[1, 2, 5])),
        ..TcModel::default()
    }
}

fn through_string(tc: &TcModel) -> TcModel {
    decode(&encode(tc).unwrap()).unwrap()
}

#[test]
fn a_good_string_passes_and_a_bad_one_fails_after_a_round_trip() {
    let gvl = Gvl::from_json(FIXTURE).unwrap();
    assert_eq!(validate(&through_string(&model(42)), &gvl, ts(NOW_MS)), []);

    let mut bad = model(42);
    bad.purpose_legitimate_interests.insert(4).unwrap();
    bad.vendor_consents.insert(4).unwrap(); // deleted, and not disclosed
    let findings = validate(&through_string(&bad), &gvl, ts(NOW_MS));
    let codes: Vec<_> = findings.iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        [
            FindingCode::PurposeLiNotAllowed,
            FindingCode::VendorDeleted,
            FindingCode::VendorNotDisclosed
        ]
    );
    assert!(findings.iter().all(|f| f.severity == Severity::Error));
    assert!(findings.iter().skip(1).all(|f| f.vendor_id == Some(4)));
}

#[test]
fn validation_against_the_real_gvl() {
    let Ok(text) = std::fs::read_to_string(REAL_GVL) else {
        eprintln!("notice: {REAL_GVL} is absent; skipping the real-GVL test");
        return;
    };
    let gvl = Gvl::from_json(&text).unwrap();
    // The real list is at policy version 4; vendor 755 declares purposes on
    // consent and legitimate interest, vendor 468 is deleted.
    let mut tc = model(17);
    tc.policy_version = 4;
    tc.vendor_consents = ids(&[755]);
    tc.vendor_legitimate_interests = ids(&[755]);
    tc.vendors_disclosed = Some(ids(&[755]));
    assert_eq!(validate(&through_string(&tc), &gvl, ts(NOW_MS)), []);

    tc.policy_version = 5;
    tc.vendor_consents.insert(468).unwrap();
    let codes: Vec<_> = validate(&through_string(&tc), &gvl, ts(NOW_MS))
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "policy_version_newer_than_gvl",
            "vendor_deleted",
            "vendor_not_disclosed"
        ]
    );
}
