//! Arbitrary bytes as a TC string. Decoding must never panic; whatever it
//! accepts must encode, and our encoding must decode back to the same model
//! and re-encode to the same string.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nexaguard_tcf::{decode, encode, TcModel, VendorSet};

fuzz_target!(|data: &[u8]| {
    let Ok(tc) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = decode(tc) else {
        return;
    };
    let encoded =
        encode(&model).unwrap_or_else(|e| panic!("decoded {tc:?} but cannot encode it: {e}"));
    let again = decode(&encoded)
        .unwrap_or_else(|e| panic!("cannot decode our own encoding {encoded:?} of {tc:?}: {e}"));
    assert_eq!(
        with_disclosed_segment(model),
        again,
        "{tc:?} -> {encoded:?} changed the model"
    );
    assert_eq!(
        encode(&again).ok().as_deref(),
        Some(encoded.as_str()),
        "encoding of {tc:?} is not stable"
    );
});

/// The encoder always writes the disclosed vendors segment (mandatory in TCF
/// v2.3), so a string without one comes back with an empty one.
fn with_disclosed_segment(mut model: TcModel) -> TcModel {
    model.vendors_disclosed.get_or_insert_with(VendorSet::new);
    model
}
