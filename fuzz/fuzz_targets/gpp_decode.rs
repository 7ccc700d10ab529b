//! Arbitrary bytes as a GPP string. Decoding, lenient validation and JSON
//! output must never panic; an accepted string must encode, our encoding
//! must decode to the same model (with an empty disclosed vendors segment
//! added to a `tcfeuv2` section that had none, as nexaguard-tcf writes one)
//! and re-encode to the same string.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nexaguard_gpp::{decode, encode, json, validate_str, Section};
use nexaguard_tcf::VendorSet;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = validate_str(s, Some(true));
    let Ok(gpp) = decode(s) else {
        return;
    };
    let mut out = Vec::new();
    json::to_json(&gpp, s, &mut out);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&out).is_ok(),
        "invalid JSON for {s:?}"
    );
    let encoded =
        encode(&gpp).unwrap_or_else(|e| panic!("decoded {s:?} but cannot encode it: {e}"));
    let again = decode(&encoded)
        .unwrap_or_else(|e| panic!("cannot decode our own encoding {encoded:?} of {s:?}: {e}"));
    let mut want = gpp;
    want.sections.sort_by_key(Section::id);
    for section in &mut want.sections {
        if let Section::TcfEuV2(t) = section {
            t.0.vendors_disclosed.get_or_insert_with(VendorSet::new);
        }
    }
    assert_eq!(want, again, "{s:?} -> {encoded:?} changed the model");
    assert_eq!(
        encode(&again).ok().as_deref(),
        Some(encoded.as_str()),
        "encoding of {s:?} is not stable"
    );
});
