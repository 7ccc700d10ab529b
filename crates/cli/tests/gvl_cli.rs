//! `nexaguard gvl inspect|trim` as a user runs them, on the tcf crate's
//! fixture GVL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde_json::{json, Value};
use std::process::{Command, Output};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tcf/tests/fixtures/gvl/vendor-list.json"
);
const GERMAN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tcf/tests/fixtures/gvl/purposes-de.json"
);

fn nexaguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nexaguard"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn json_out(out: &Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap()
}

fn assert_one_line_error(out: &Output, needle: &str) {
    assert!(!out.status.success(), "{out:?}");
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
}

#[test]
fn inspect_prints_a_summary() {
    let out = nexaguard(&["gvl", "inspect", FIXTURE]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.starts_with("GVL version 42 (format v3, TCF policy version 5), last updated 2025-06-05T16:00:00Z, language en\n"), "{text}");
    assert!(text.contains("stacks:            5\n"), "{text}");
    assert!(
        text.contains("vendors:           6 (1 deleted)\n"),
        "{text}"
    );
}

#[test]
fn inspect_json_with_a_translation() {
    let out = nexaguard(&["gvl", "inspect", FIXTURE, "--lang-file", GERMAN, "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        json_out(&out),
        json!({
            "gvlSpecificationVersion": 3, "vendorListVersion": 42, "tcfPolicyVersion": 5,
            "lastUpdated": "2025-06-05T16:00:00Z", "language": "de",
            "purposes": 11, "specialPurposes": 2, "features": 3, "specialFeatures": 2,
            "stacks": 5, "dataCategories": 3, "vendors": 6, "deletedVendors": 1
        })
    );
}

#[test]
fn inspect_rejects_a_missing_or_malformed_file() {
    assert_one_line_error(
        &nexaguard(&["gvl", "inspect", "/no/such/file.json"]),
        "reading /no/such/file.json",
    );
    assert_one_line_error(&nexaguard(&["gvl", "inspect", GERMAN]), "(invalid_gvl)");
}

#[test]
fn trim_prints_the_compact_list() {
    let out = nexaguard(&["gvl", "trim", FIXTURE, "--vendors", "2, 1"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stderr(&out), "");
    let list = json_out(&out);
    let vendors: Vec<&String> = list["vendors"].as_object().unwrap().keys().collect();
    assert_eq!(vendors, ["1", "2"]);
    let stacks: Vec<&String> = list["stacks"].as_object().unwrap().keys().collect();
    assert_eq!(stacks, ["1", "3", "4"]);
    assert_eq!(list["purposes"].as_object().unwrap().len(), 11);
    assert_eq!(list["vendorListVersion"], 42);
    // Exactly the fixture's entries, unchanged.
    let original: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    assert_eq!(list["vendors"]["2"], original["vendors"]["2"]);
}

#[test]
fn trim_applies_a_translation() {
    let out = nexaguard(&[
        "gvl",
        "trim",
        FIXTURE,
        "--vendors",
        "1",
        "--lang-file",
        GERMAN,
    ]);
    assert!(out.status.success(), "{out:?}");
    let list = json_out(&out);
    assert_eq!(list["purposes"]["7"]["name"], "Werbeleistung messen");
    assert_eq!(
        list["purposes"]["11"]["name"],
        "Use limited data to select content"
    );
}

#[test]
fn trim_fails_on_unknown_ids_unless_allowed() {
    let out = nexaguard(&["gvl", "trim", FIXTURE, "--vendors", "1,99,7"]);
    assert_one_line_error(&out, "vendor ids not in GVL version 42: 7, 99");
    assert_eq!(stdout(&out), "");

    let out = nexaguard(&[
        "gvl",
        "trim",
        FIXTURE,
        "--vendors",
        "1,99",
        "--allow-unknown",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stderr(&out),
        "warning: vendor ids not in GVL version 42, left out: 99\n"
    );
    let vendors = json_out(&out)["vendors"].as_object().unwrap().len();
    assert_eq!(vendors, 1);
}

#[test]
fn trim_warns_about_deleted_vendors() {
    let out = nexaguard(&["gvl", "trim", FIXTURE, "--vendors", "4"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stderr(&out),
        "warning: deleted vendors kept in the list: 4\n"
    );
    assert!(json_out(&out)["vendors"]["4"]["deletedDate"].is_string());
}

#[test]
fn trim_rejects_a_malformed_vendor_list() {
    for bad in ["", "1,,2", "one", "0", "1;2", "70000"] {
        let out = nexaguard(&["gvl", "trim", FIXTURE, "--vendors", bad]);
        assert_one_line_error(&out, "--vendors");
        assert_eq!(stdout(&out), "", "{bad:?}");
    }
}
