//! Arbitrary bytes as a Google Additional Consent string. Parsing must never
//! panic; an accepted string must print in the canonical form and parse back
//! to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nexaguard_tcf::ac::AcString;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ac) = AcString::parse(text) else {
        return;
    };
    let printed = ac.to_string();
    let again = AcString::parse(&printed)
        .unwrap_or_else(|e| panic!("cannot parse our own output {printed:?} of {text:?}: {e}"));
    assert_eq!(again, ac, "{text:?} -> {printed:?} changed the value");
    assert_eq!(
        again.to_string(),
        printed,
        "printing {text:?} is not stable"
    );
});
