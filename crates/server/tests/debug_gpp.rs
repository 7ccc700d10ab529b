//! The debug tool with GPP strings, in process: `/debug` and
//! `/admin/debug` detect a GPP string in the same input and answer its
//! header, one table per section with the reference's field names, the GPC
//! sub-section, the validation findings (checked against the GPC signal
//! when the form gives one) and the `IABGPP_*` keys; a bad GPP string gets
//! the decoder's message and code with 422; TC strings keep the TCF view,
//! and a `tcfeuv2` section opens in it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{env, send, user, Answer, Env, Seed, HOST, ORIGIN, PASSWORD};
use nexaguard_access::Role;

/// From docs/gpp.md: usnat (id 7) and usca (id 8), both with a GPC
/// sub-section saying Gpc true.
const USNAT_USCA: &str = "DBABrw~CVVVqqqqqlSA.YA~BVUAAACA.YA";
/// usnat with a sale opt-out notice "not provided" and a sale opt-out "did
/// not opt out"; usca without a GPC sub-section.
const NOTICE_CONFLICT: &str = "DBABrw~CYAgAAAAAABA.QA~BQQAAABA";
/// From docs/debug-tool.md: cmpId 300, purposes 1 2 3 4 7, vendors 2 and 755.
const TC: &str = "CQtAQoAQtB-fQEsACAENCWFAAPIAAEIAAAYgF5wAgABALzAvOACAvMAEJABAAEA.IF5wAgABALzA";

fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path).header(header::HOST, HOST);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut builder = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

async fn decode(env: &Env, input: &str, extra: &str) -> Answer {
    let form = format!("input={}{extra}", encode(input));
    send(&env.app, post("/debug", None, &form)).await
}

/// The body rows of the table with this id, tags stripped:
/// `(first cell, other cells)`.
fn table(page: &str, id: &str) -> Vec<(String, Vec<String>)> {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id} in {page}"));
    let rest = &page[start..];
    let body = &rest[..rest.find("</table>").unwrap()];
    let body = &body[body.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<t")
                .skip(1)
                .filter(|c| c.starts_with('h') || c.starts_with('d'))
                .map(|c| strip(&c[c.find('>').unwrap() + 1..]))
                .collect();
            let (first, others) = cells.split_first().unwrap();
            (first.clone(), others.to_vec())
        })
        .filter(|(first, _)| !first.is_empty())
        .collect()
}

fn strip(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn row<'a>(rows: &'a [(String, Vec<String>)], name: &str) -> &'a [String] {
    &rows
        .iter()
        .find(|(first, _)| first == name)
        .unwrap_or_else(|| panic!("no row {name} in {rows:?}"))
        .1
}

#[tokio::test]
async fn a_gpp_string_decodes_into_its_header_sections_findings_and_keys() {
    let env = env().await;
    let answer = decode(&env, USNAT_USCA, "&gdprApplies=true").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    let page = answer.text();
    assert!(
        page.contains("<h2 id=\"result-title\">GPP string</h2>"),
        "{page}"
    );

    let header = table(&page, "gpp-header");
    assert_eq!(row(&header, "Version"), ["1"]);
    assert_eq!(row(&header, "SectionIds"), ["7, 8"]);
    let sections = table(&page, "gpp-sections");
    assert_eq!(row(&sections, "7"), ["usnat", "US National"]);
    assert_eq!(row(&sections, "8"), ["usca", "California"]);

    let usnat = table(&page, "gpp-section-7");
    assert_eq!(row(&usnat, "Version"), ["2", ""]);
    assert_eq!(row(&usnat, "SaleOptOutNotice"), ["1", "provided"]);
    assert_eq!(row(&usnat, "SaleOptOut"), ["1", "opted out"]);
    assert_eq!(
        row(&usnat, "KnownChildSensitiveDataConsents"),
        [
            "1: 1, 2: 1, 3: 1",
            "0 not applicable, 1 no consent, 2 consent"
        ]
    );
    assert!(row(&usnat, "SensitiveDataProcessing")[0].ends_with("16: 2"));
    assert!(usnat.iter().all(|(name, _)| !name.starts_with("Gpc")));
    let gpc = table(&page, "gpp-section-7-sub");
    assert_eq!(row(&gpc, "GpcSegmentIncluded")[0], "yes");
    assert_eq!(row(&gpc, "Gpc")[0], "yes");
    assert!(page.contains("<caption>usnat GPC sub-section</caption>"));
    assert!(page.contains("<caption>usca fields</caption>"));

    // No GPC signal given: nothing to compare the sub-sections with.
    assert!(page.contains("GPC signal not given"), "{page}");
    assert!(page.contains("0 error(s), 0 warning(s)"));
    assert!(!page.contains("id=\"gpp-findings\""));

    let keys = table(&page, "iabgpp");
    assert_eq!(row(&keys, "IABGPP_HDR_GppString"), [USNAT_USCA]);
    assert_eq!(row(&keys, "IABGPP_GppSID"), ["7_8"]);
    assert_eq!(row(&keys, "IABGPP_8_String"), ["BVUAAACA.YA"]);
    // Not the TCF view.
    assert!(!page.contains("IABTCF_"));
    // The string stays in the form to edit.
    assert!(page.contains(&format!(">{USNAT_USCA}</textarea>")));
}

#[tokio::test]
async fn findings_carry_their_codes_and_follow_the_gpc_signal() {
    let env = env().await;
    let absent = decode(&env, USNAT_USCA, "&gpc=false").await;
    assert_eq!(absent.status, StatusCode::OK);
    let page = absent.text();
    let findings = table(&page, "gpp-findings");
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[0].0, "error");
    assert_eq!(findings[0].1[0], "gpc_disagrees");
    assert_eq!(findings[0].1[1], "usnat");
    assert_eq!(findings[0].1[2], "Gpc");
    assert_eq!(findings[1].1[1], "usca");
    assert!(page.contains("GPC signal absent: 2 error(s), 0 warning(s)."));
    assert!(page.contains("name=\"gpc\" value=\"false\" checked"));

    let present = decode(&env, NOTICE_CONFLICT, "&gpc=true").await;
    let page = present.text();
    let codes: Vec<String> = table(&page, "gpp-findings")
        .into_iter()
        .map(|(_, cells)| cells[0].clone())
        .collect();
    assert!(
        codes.contains(&"notice_not_given_but_opted_in".to_owned()),
        "{codes:?}"
    );
    assert!(codes.contains(&"gpc_missing".to_owned()), "{codes:?}");
    // usca has no GPC sub-section in this string.
    assert!(page.contains("No GPC sub-section in this string"), "{page}");
    assert!(!page.contains("id=\"gpp-section-8-sub\""));
}

#[tokio::test]
async fn a_bad_gpp_string_gets_the_decoders_message_and_code() {
    let env = env().await;
    for (input, code) in [
        ("DBABMA", "section_count_mismatch"),
        ("DBABrw~CVVVqqqqqlSA.YA~", "empty_section"),
        ("DBABLA~B", "truncated"),
        ("DCABMA~x", "not_gpp_string"),
    ] {
        let answer = decode(&env, input, "").await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{input}: {}",
            answer.text()
        );
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
        let page = answer.text();
        let alert = page.split("role=\"alert\">").nth(1).unwrap();
        let alert = &alert[..alert.find("</p>").unwrap()];
        assert!(
            alert.starts_with("This GPP string cannot be decoded: "),
            "{alert}"
        );
        assert!(alert.ends_with(&format!("({code}).")), "{input}: {alert}");
        assert!(!page.contains("id=\"result\""));
    }
    // What is echoed is escaped.
    let answer = decode(&env, "DBABLA~<script>", "").await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text().contains("(invalid_character)"));
    assert!(!answer.text().contains("<script>"), "{}", answer.text());
}

#[tokio::test]
async fn tc_strings_keep_the_tcf_view_and_a_tcfeuv2_section_opens_in_it() {
    let env = env().await;
    let tc = decode(&env, TC, "&gdprApplies=true&gpc=true").await;
    assert_eq!(tc.status, StatusCode::OK);
    assert!(tc.text().contains("<h2 id=\"result-title\">TC string</h2>"));
    assert!(tc.text().contains("IABTCF_PurposeConsents"));
    assert!(!tc.text().contains("IABGPP_"));

    let gpp = format!("DBACMMA~{TC}~CEAQAAAAAABA.QA");
    let answer = decode(&env, &gpp, "&gdprApplies=false").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let page = answer.text();
    let tcf = table(&page, "gpp-section-2");
    assert_eq!(row(&tcf, "CmpId")[0], "300");
    assert_eq!(row(&tcf, "PurposeConsents")[0], "1-4, 7");
    assert_eq!(row(&tcf, "VendorConsents")[0], "2, 755");
    assert_eq!(
        row(&tcf, "PublisherRestrictions")[0],
        "purpose 2, require consent: vendors 2"
    );
    let keys = table(&page, "iabgpp");
    assert_eq!(row(&keys, "IABGPP_TCFEU2_CmpId"), ["300"]);
    assert_eq!(row(&keys, "IABGPP_GppSID"), ["2_7"]);
    // The button posts the section's TC string, with the GDPR choice, to
    // the same page.
    let form = page.split("<form class=\"tc-open\"").nth(1).unwrap();
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains("action=\"/debug\""), "{form}");
    assert!(
        form.contains(&format!("name=\"input\" value=\"{TC}\"")),
        "{form}"
    );
    assert!(form.contains("name=\"gdprApplies\" value=\"false\""));
    let opened = decode(&env, TC, "&gdprApplies=false").await;
    assert!(opened.text().contains("<caption>Core fields</caption>"));
}

/// Signs in through the console's form as a viewer (no second factor
/// required); returns the cookie and the debug page's CSRF token.
async fn console_viewer(env: &Env) -> (String, String) {
    let tenant = Seed(&env.admin).tenant("acme").await.id;
    user(env, Some(tenant), Role::Viewer, "viewer@acme.example").await;
    let form = format!(
        "email=viewer%40acme.example&password={}",
        PASSWORD.replace(' ', "+")
    );
    let answer = send(&env.app, post("/admin/login", None, &form)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let set = answer.headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = send(&env.app, get("/admin/debug", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    let csrf = text.split("name=\"csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf[..csrf.find('"').unwrap()].to_owned();
    assert!(text.contains("GPP string, TC string or AC string"));
    (cookie, csrf)
}

#[tokio::test]
async fn the_console_page_decodes_gpp_strings_too() {
    let env = env().await;
    let (cookie, csrf) = console_viewer(&env).await;
    let form = format!("csrf={csrf}&input={}&gpc=false", encode(USNAT_USCA));
    let answer = send(&env.app, post("/admin/debug", Some(&cookie), &form)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    let page = answer.text();
    assert_eq!(row(&table(&page, "gpp-header"), "SectionIds"), ["7, 8"]);
    assert_eq!(table(&page, "gpp-findings").len(), 2);

    let gpp = format!("DBACMMA~{TC}~CEAQAAAAAABA.QA");
    let form = format!("csrf={csrf}&input={}", encode(&gpp));
    let page = send(&env.app, post("/admin/debug", Some(&cookie), &form))
        .await
        .text();
    let open = page.split("<form class=\"tc-open\"").nth(1).unwrap();
    assert!(open.contains("action=\"/admin/debug\""), "{open}");
    assert!(open.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));

    let bad = format!("csrf={csrf}&input=DBABMA");
    let answer = send(&env.app, post("/admin/debug", Some(&cookie), &bad)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text().contains("(section_count_mismatch)."));
}
