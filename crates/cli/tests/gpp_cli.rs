//! `nexaguard gpp decode|encode|validate` as a user runs them.

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

/// usnat version 1 with a GPC sub-section, from the reference's tests.
const USNAT: &str = "DBABLA~BVQqAAAAAgA.QA";

#[test]
fn decode_prints_the_reference_field_names() {
    let out = nexaguard(&["gpp", "decode", USNAT], "");
    assert!(out.status.success(), "{out:?}");
    let json = &stdout_lines(&out)[0];
    assert_eq!(json["gppString"], USNAT);
    assert_eq!(json["version"], 1);
    assert_eq!(json["sectionIds"], serde_json::json!([7]));
    let usnat = &json["sections"]["usnat"];
    assert_eq!(usnat["Version"], 1);
    assert_eq!(usnat["SaleOptOutNotice"], 1);
    assert_eq!(usnat["SaleOptOut"], 2);
    assert_eq!(
        usnat["SensitiveDataProcessing"].as_array().unwrap().len(),
        12
    );
    assert_eq!(usnat["GpcSegmentIncluded"], true);
    assert_eq!(usnat["Gpc"], false);

    let pretty = nexaguard(&["gpp", "decode", "--pretty", USNAT], "");
    assert!(String::from_utf8(pretty.stdout).unwrap().lines().count() > 10);
}

#[test]
fn encode_then_decode_round_trips_through_the_cli() {
    let input = r#"{"sections":{"usca":{"SaleOptOutNotice":1,"SaleOptOut":1,"Gpc":true},"uspv1":{"Notice":"Y","OptOutSale":"N","LspaCovered":"N"}}}"#;
    let encoded = nexaguard(&["gpp", "encode"], &format!("{input}\n"));
    assert!(encoded.status.success(), "{encoded:?}");
    let gpp = String::from_utf8(encoded.stdout).unwrap();
    let gpp = gpp.trim();
    // The string the reference writes for this model.
    assert_eq!(gpp, "DBACTMA~1YNN~BQQAAABA.YA");

    let decoded = nexaguard(&["gpp", "decode", gpp], "");
    let json = &stdout_lines(&decoded)[0];
    assert_eq!(json["sectionIds"], serde_json::json!([6, 8]));
    assert_eq!(json["sections"]["uspv1"]["OptOutSale"], "N");
    assert_eq!(json["sections"]["usca"]["SaleOptOut"], 1);
    assert_eq!(json["sections"]["usca"]["Gpc"], true);

    // The decode output is itself valid encode input.
    let again = nexaguard(&["gpp", "encode", &json.to_string()], "");
    assert_eq!(String::from_utf8(again.stdout).unwrap().trim(), gpp);
}

#[test]
fn stdin_mode_answers_every_line_and_fails_at_the_end() {
    let input = format!("{USNAT}\nnot-a-gpp-string!\n\nDBABLA~\n{USNAT}\n");
    let out = nexaguard(&["gpp", "decode"], &input);
    assert_eq!(out.status.code(), Some(1));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["sections"]["usnat"]["Version"], 1);
    assert_eq!(lines[1]["error"]["code"], "not_gpp_string");
    assert_eq!(lines[2]["error"]["code"], "empty");
    assert_eq!(lines[3]["error"]["code"], "empty_section");
    assert_eq!(lines[4]["sectionIds"], serde_json::json!([7]));
}

#[test]
fn encode_errors_name_the_field() {
    let out = nexaguard(
        &["gpp", "encode"],
        "{\"sections\":{\"usnat\":{\"SaleOptOut\":3}}}\n{\"sections\":{\"usnat\":{\"Nope\":1}}}\n{\"sections\":{\"usxx\":{}}}\n[]\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = stdout_lines(&out);
    assert_eq!(lines[0]["error"]["code"], "value_out_of_range");
    assert!(lines[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("SaleOptOut"));
    assert_eq!(lines[1]["error"]["code"], "unknown_field");
    assert_eq!(lines[2]["error"]["code"], "unknown_section");
    assert_eq!(lines[3]["error"]["code"], "invalid_json");

    let arg = nexaguard(
        &[
            "gpp",
            "encode",
            "{\"sections\":{\"usnat\":{\"SaleOptOut\":3}}}",
        ],
        "",
    );
    assert_eq!(arg.status.code(), Some(1));
    assert!(String::from_utf8(arg.stderr)
        .unwrap()
        .contains("value_out_of_range"));
}

#[test]
fn validate_reports_findings_and_checks_the_gpc_signal() {
    let gpp = String::from_utf8(
        nexaguard(
            &[
                "gpp",
                "encode",
                r#"{"sections":{"usnat":{"SaleOptOutNotice":2,"SaleOptOut":2,"Gpc":true}}}"#,
            ],
            "",
        )
        .stdout,
    )
    .unwrap();
    let out = nexaguard(&["gpp", "validate", gpp.trim(), "--gpc", "false"], "");
    assert_eq!(out.status.code(), Some(1));
    let json = &stdout_lines(&out)[0];
    assert_eq!(json["valid"], false);
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["notice_not_given_but_opted_in", "gpc_disagrees"]);

    let ok = nexaguard(
        &["gpp", "validate", "--gpc", "true"],
        &format!("{}\n", gpp.trim()),
    );
    let json = &stdout_lines(&ok)[0];
    assert_eq!(json["findings"][0]["code"], "notice_not_given_but_opted_in");
    assert_eq!(json["findings"].as_array().unwrap().len(), 1);

    // A header that lists more ids than there are sections is a finding.
    let short = nexaguard(
        &[
            "gpp",
            "validate",
            "DBACMYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
        ],
        "",
    );
    assert_eq!(
        stdout_lines(&short)[0]["findings"][0]["code"],
        "section_id_without_section"
    );

    let clean = nexaguard(&["gpp", "validate", "DBABTA~1YYN"], "");
    assert!(clean.status.success(), "{clean:?}");
    assert_eq!(stdout_lines(&clean)[0]["valid"], true);
}

#[test]
fn usage_errors_exit_2() {
    let out = nexaguard(&["gpp", "validate", "--gpc", "maybe", USNAT], "");
    assert_eq!(out.status.code(), Some(2));
    let out = nexaguard(&["gpp", "frobnicate"], "");
    assert_eq!(out.status.code(), Some(2));
}
