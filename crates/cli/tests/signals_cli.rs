//! `nexaguard tcf signals` as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod run;

use nexaguard_tcf::{TcModel, VendorSet};
use run::nexaguard;
use serde_json::{json, Value};
use std::process::Output;

fn json_out(out: &Output) -> Value {
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "one JSON object on one line: {text}"
    );
    serde_json::from_str(&text).unwrap()
}

/// Purposes 1-4 consented, Google consented, purpose 7 not signalled.
fn tc_string() -> String {
    let mut model = TcModel {
        cmp_id: 31,
        cmp_version: 4,
        vendor_consents: VendorSet::try_from(&[2, 755][..]).unwrap(),
        vendors_disclosed: Some(VendorSet::try_from(&[2, 755][..]).unwrap()),
        ..TcModel::default()
    };
    for p in 1..=4 {
        model.purpose_consents.insert(p).unwrap();
    }
    nexaguard_tcf::encode(&model).unwrap()
}

#[test]
fn prints_consent_mode_and_iabtcf_keys_as_one_object() {
    let tc = tc_string();
    let json = json_out(&nexaguard(&["tcf", "signals", &tc], ""));
    assert_eq!(
        json["consentMode"],
        json!({"ad_storage": "granted", "ad_user_data": "denied", "ad_personalization": "granted", "analytics_storage": "granted"})
    );
    let keys = &json["iabtcf"];
    assert_eq!(keys["IABTCF_TCString"], tc.as_str());
    assert_eq!(keys["IABTCF_gdprApplies"], 1);
    assert_eq!(keys["IABTCF_CmpSdkID"], 31);
    assert_eq!(keys["IABTCF_PurposeConsents"], "111100000000000000000000");
    let vendors = keys["IABTCF_VendorConsents"].as_str().unwrap();
    assert_eq!(vendors.len(), 755);
    assert!(vendors.starts_with("01") && vendors.ends_with('1'));
}

#[test]
fn gdpr_not_applying_is_all_granted_and_flagged_zero() {
    let tc = tc_string();
    let json = json_out(&nexaguard(
        &["tcf", "signals", "--gdpr-applies", "false", &tc],
        "",
    ));
    assert_eq!(
        json["consentMode"],
        json!({"ad_storage": "granted", "ad_user_data": "granted", "ad_personalization": "granted", "analytics_storage": "granted"})
    );
    assert_eq!(json["iabtcf"]["IABTCF_gdprApplies"], 0);
}

#[test]
fn reads_the_string_from_standard_input() {
    let tc = tc_string();
    let from_arg = json_out(&nexaguard(&["tcf", "signals", &tc], ""));
    let from_stdin = json_out(&nexaguard(&["tcf", "signals"], &format!("{tc}\n")));
    assert_eq!(from_arg, from_stdin);
}

#[test]
fn a_bad_string_fails_with_one_line_on_stderr() {
    for (args, stdin) in [
        (vec!["tcf", "signals", "not-a-tc-string!"], ""),
        (vec!["tcf", "signals"], "CO\n"),
        (vec!["tcf", "signals"], ""),
    ] {
        let out = nexaguard(&args, stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?} {stdin:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
}

#[test]
fn gdpr_applies_takes_only_true_or_false() {
    let out = nexaguard(
        &["tcf", "signals", "--gdpr-applies", "maybe", &tc_string()],
        "",
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
