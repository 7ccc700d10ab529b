//! `nexaguard tcf validate` as a user runs it, with TC strings encoded by the
//! library and the tcf crate's fixture GVL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod run;

use nexaguard_tcf::{encode, TcModel, Timestamp, VendorSet};
use run::nexaguard;
use serde_json::{json, Value};
use std::process::Output;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tcf/tests/fixtures/gvl/vendor-list.json"
);
/// 2025-06-10T00:00:00Z, the strings' created and lastUpdated.
const CREATED_MS: i64 = 1_749_513_600_000;
const NOW: &str = "2025-07-01T12:00:00Z";

fn validate(tc: &str, extra: &[&str]) -> Output {
    let mut args = vec!["tcf", "validate", "--gvl", FIXTURE, "--now", NOW, tc];
    args.extend_from_slice(extra);
    nexaguard(&args, "")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn ids(list: &[u32]) -> VendorSet {
    VendorSet::try_from(list).unwrap()
}

/// Vendors 1 and 5 with consent, 2 with legitimate interest, all disclosed:
/// no findings against the fixture.
fn clean() -> TcModel {
    let at = Timestamp::from_unix_millis(CREATED_MS).unwrap();
    TcModel {
        created: at,
        last_updated: at,
        cmp_id: 300,
        vendor_list_version: 42,
        vendor_consents: ids(&[1, 5]),
        vendor_legitimate_interests: ids(&[2]),
        vendors_disclosed: Some(ids(&[1, 2, 5])),
        ..TcModel::default()
    }
}

/// Vendor 2 not disclosed (error) and vendor 99 unknown (warning).
fn faulty() -> String {
    let mut tc = clean();
    tc.vendors_disclosed = Some(ids(&[1, 5, 99]));
    tc.vendor_consents.insert(99).unwrap();
    encode(&tc).unwrap()
}

#[test]
fn a_clean_string_exits_0_with_no_findings() {
    let tc = encode(&clean()).unwrap();
    let out = validate(&tc, &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "0 error(s), 0 warning(s)\n");

    let out = validate(&tc, &["--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "[]\n");
}

#[test]
fn findings_as_text_lines_and_exit_1_on_an_error() {
    let out = validate(&faulty(), &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        stdout(&out),
        "warning  vendor_unknown  vendor 99: has consent or legitimate interest but is not in GVL version 42\n\
         error  vendor_not_disclosed  vendor 2: has consent or legitimate interest but is not in the disclosed vendors segment\n"
    );
    assert_eq!(stderr(&out), "1 error(s), 1 warning(s)\n");
}

#[test]
fn findings_as_json() {
    let out = validate(&faulty(), &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let findings: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(findings[0]["code"], "vendor_unknown");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["vendorId"], 99);
    assert_eq!(
        findings[1],
        json!({
            "code": "vendor_not_disclosed",
            "severity": "error",
            "message": "vendor 2: has consent or legitimate interest but is not in the disclosed vendors segment",
            "vendorId": 2,
            "purposeId": null
        })
    );
}

#[test]
fn warnings_alone_exit_0() {
    let mut tc = clean();
    tc.policy_version = 3;
    let out = validate(&encode(&tc).unwrap(), &[]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).starts_with("warning  policy_version_outdated  "),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_string_may_come_on_standard_input() {
    let tc = faulty();
    let out = nexaguard(
        &["tcf", "validate", "--gvl", FIXTURE, "--now", NOW, "--json"],
        &format!("{tc}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let findings: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 2);
}

#[test]
fn now_decides_staleness_and_the_future() {
    let tc = encode(&clean()).unwrap();
    let out = validate_at(&tc, "2026-08-01");
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).starts_with("warning  stale  "),
        "{}",
        stdout(&out)
    );
    let out = validate_at(&tc, "2025-06-09T23:59:59Z");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("error  created_in_future  "),
        "{}",
        stdout(&out)
    );
}

fn validate_at(tc: &str, now: &str) -> Output {
    nexaguard(&["tcf", "validate", "--gvl", FIXTURE, "--now", now, tc], "")
}

#[test]
fn a_string_that_does_not_decode_is_one_error_line() {
    let out = validate("not-a-tc-string!", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("(invalid_character)"),
        "{err}"
    );

    let out = validate("not-a-tc-string!", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let body: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(body["error"]["code"], "invalid_character");
    assert!(body["error"]["message"].is_string());
}

#[test]
fn a_bad_gvl_or_now_is_one_error_line() {
    let tc = encode(&clean()).unwrap();
    let out = nexaguard(&["tcf", "validate", "--gvl", "/no/such.json", &tc], "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    let out = nexaguard(
        &[
            "tcf", "validate", "--gvl", FIXTURE, "--now", "soon", "--json", &tc,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let body: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(body["error"]["code"], "invalid_now");

    let out = nexaguard(&["tcf", "validate", "--gvl", FIXTURE], "\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no TC string given"),
        "{}",
        stderr(&out)
    );
}
