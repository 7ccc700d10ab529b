//! `nexaguard tcf decode|encode` as a user runs them.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod run;

use run::nexaguard;
use std::process::Output;

fn stdout_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const MODEL: &str = r#"{"cmpId":300,"cmpVersion":2,"vendorListVersion":150,"purposeConsents":[1,2,3],"vendorConsents":[1,2,755],"vendorsDisclosed":[1,2,755],"created":"2026-11-01T00:00:00Z","lastUpdated":"2026-11-01T12:30:00.5Z","publisherCountryCode":"de","publisherRestrictions":[{"purposeId":2,"restrictionType":1,"vendorIds":[2]}]}"#;

#[test]
fn encode_then_decode_round_trips_through_the_cli() {
    let encoded = nexaguard(&["tcf", "encode"], &format!("{MODEL}\n"));
    assert!(encoded.status.success(), "{encoded:?}");
    let tc = String::from_utf8(encoded.stdout).unwrap();
    let tc = tc.trim();
    assert!(!tc.contains('='), "no padding: {tc}");

    let decoded = nexaguard(&["tcf", "decode", tc], "");
    assert!(decoded.status.success());
    let json = &stdout_lines(&decoded)[0];
    assert_eq!(json["cmpId"], 300);
    assert_eq!(json["publisherCountryCode"], "DE");
    assert_eq!(json["vendorConsents"], serde_json::json!([1, 2, 755]));
    assert_eq!(json["created"], "2026-11-01T00:00:00.000Z");
    assert_eq!(json["lastUpdated"], "2026-11-01T12:30:00.500Z");
    assert_eq!(
        json["publisherRestrictions"],
        serde_json::json!([{"purposeId": 2, "restrictionType": 1, "vendorIds": [2]}])
    );
    assert_eq!(json["policyVersion"], 5);
}

#[test]
fn stdin_mode_answers_every_line_and_fails_at_the_end() {
    let tc = String::from_utf8(nexaguard(&["tcf", "encode", MODEL], "").stdout).unwrap();
    let input = format!("{}\nnot-a-tc-string!\n\n{}\n", tc.trim(), tc.trim());
    let out = nexaguard(&["tcf", "decode"], &input);
    assert_eq!(out.status.code(), Some(1));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["cmpId"], 300);
    assert_eq!(lines[1]["error"]["code"], "invalid_character");
    assert_eq!(lines[2]["error"]["code"], "empty_segment");
    assert!(lines[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("empty"));
    assert_eq!(lines[3]["cmpId"], 300);
}

#[test]
fn bad_argument_exits_non_zero_with_one_line() {
    let out = nexaguard(&["tcf", "decode", "CO=="], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("invalid character '='"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn encode_defaults_times_to_today_at_day_precision() {
    let out = nexaguard(&["tcf", "encode"], "{\"cmpId\":7}\n");
    assert!(out.status.success());
    let tc = String::from_utf8(out.stdout).unwrap();
    let decoded = nexaguard(&["tcf", "decode", tc.trim()], "");
    let json = &stdout_lines(&decoded)[0];
    let today = time::OffsetDateTime::now_utc().date();
    let expected = format!(
        "{:04}-{:02}-{:02}T00:00:00.000Z",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    assert_eq!(json["created"], expected.as_str());
    assert_eq!(json["lastUpdated"], expected.as_str());
}

#[test]
fn encode_reports_bad_json_per_line() {
    let out = nexaguard(
        &["tcf", "encode"],
        "{\"cmpId\":5000}\n{\"vendorConsent\":[1]}\n{\"cmpId\":1}\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].contains("\"code\":\"out_of_range\""),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("vendorConsent"), "{}", lines[1]);
    assert!(!lines[2].starts_with('{'));
}
