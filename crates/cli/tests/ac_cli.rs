//! `nexaguard ac decode|encode` as a user runs them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod run;

use run::nexaguard;
use serde_json::{json, Value};
use std::process::Output;

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn decode_prints_the_json_form() {
    let out = nexaguard(&["ac", "decode", "2~35.1~dv.81.9"], "");
    assert!(out.status.success(), "{out:?}");
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json,
        json!({"version": 2, "consentedProviders": [1, 35], "disclosedProviders": [9, 81]})
    );
}

#[test]
fn encode_prints_the_canonical_string() {
    let out = nexaguard(
        &[
            "ac",
            "encode",
            r#"{"version":2,"consentedProviders":[35,1],"disclosedProviders":[9]}"#,
        ],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "2~1.35~dv.9\n");
}

#[test]
fn argument_errors_are_one_line_with_the_code() {
    let cases: [(&[&str], &str); 3] = [
        (&["ac", "decode", "2~1.1~dv."], "duplicate_provider"),
        (
            &["ac", "encode", r#"{"version":1,"disclosedProviders":[2]}"#],
            "disclosed_in_version_1",
        ),
        (&["ac", "encode", "{not json"], "invalid_json"),
    ];
    for (args, code) in cases {
        let out = nexaguard(args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(code),
            "{stderr}"
        );
    }
}

#[test]
fn decode_stream_answers_every_line_and_fails_at_the_end() {
    let out = nexaguard(&["ac", "decode"], "1~41.1\n2~1~dv\n3~1\n2~~dv.4\n");
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        json!({"version": 1, "consentedProviders": [1, 41], "disclosedProviders": []})
    );
    assert_eq!(lines[1]["consentedProviders"], json!([1]));
    assert_eq!(lines[2]["error"]["code"], "unsupported_version");
    assert!(lines[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("character 0"));
    assert_eq!(lines[3]["disclosedProviders"], json!([4]));
}

#[test]
fn encode_stream_round_trips_through_decode() {
    let input = "2~1.35.41.101~dv.9.21.81\n2~~dv.1.2.3.4.10\n1~1.35\n";
    let decoded = nexaguard(&["ac", "decode"], input);
    assert!(decoded.status.success(), "{decoded:?}");
    let encoded = nexaguard(&["ac", "encode"], &stdout(&decoded));
    assert!(encoded.status.success(), "{encoded:?}");
    assert_eq!(stdout(&encoded), input);
}

#[test]
fn encode_stream_reports_bad_objects_in_place() {
    let out = nexaguard(
        &["ac", "encode"],
        "{\"consentedProviders\":[1],\"disclosedProviders\":[1]}\n{\"consentedProviders\":[2]}\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let error: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(error["error"]["code"], "consented_and_disclosed");
    assert_eq!(lines[1], "2~2~dv.");
}
