//! docs/security.md shows the permission matrix; it must be the code's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_documented_matrix_is_the_code_s() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/security.md");
    let docs = std::fs::read_to_string(path).expect("docs/security.md");
    let start = docs
        .find("<!-- permission-matrix -->\n")
        .expect("start marker");
    let end = docs
        .find("<!-- /permission-matrix -->")
        .expect("end marker");
    let documented = &docs[start + "<!-- permission-matrix -->\n".len()..end];
    assert_eq!(
        documented,
        nexaguard_access::markdown_matrix(),
        "docs/security.md is out of date: paste nexaguard_access::markdown_matrix() between the markers"
    );
}
