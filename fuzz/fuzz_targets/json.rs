//! Arbitrary bytes as `tcf encode` input (reference-library TCModel JSON).
//! Parsing must never panic; an accepted model must survive JSON output and
//! input unchanged, and, when it encodes, decode back to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nexaguard_tcf::json::{from_json, TcModelJson};
use nexaguard_tcf::{decode, encode, TcModel};
use time::{Date, Month};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(today) = Date::from_calendar_date(2026, Month::January, 1) else {
        return;
    };
    let Ok(model) = from_json(text, today) else {
        return;
    };
    let json = TcModelJson(&model).to_json_string();
    let reread =
        from_json(&json, today).unwrap_or_else(|e| panic!("cannot read our own JSON {json}: {e}"));
    assert_eq!(
        sorted(reread),
        sorted(model.clone()),
        "JSON round trip of {text}"
    );
    // Encoding may refuse a model (a number past its field width); that is
    // a typed error, not a bug.
    if let Ok(tc) = encode(&model) {
        let back = decode(&tc).unwrap_or_else(|e| panic!("cannot decode {tc:?}: {e}"));
        assert_eq!(back, model, "{text} -> {tc:?} changed the model");
    }
});

/// The JSON lists restrictions sorted by purpose and type; the model keeps
/// them in input order.
fn sorted(mut model: TcModel) -> TcModel {
    model
        .publisher_restrictions
        .sort_by_key(|r| (r.purpose_id, r.restriction_type));
    model
}
