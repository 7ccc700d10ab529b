//! The `IABGPP_*` keys a CMP SDK stores in-app (iOS `NSUserDefaults`,
//! Android default `SharedPreferences`), from the "In-App Details" section
//! of the GPP CMP API specification (Core/CMP API Specification.md in
//! InteractiveAdvertisingBureau/Global-Privacy-Platform).
//!
//! The keys the specification lists: `IABGPP_HDR_Version`,
//! `IABGPP_HDR_Sections` and `IABGPP_GppSID` (section ids joined by `_`,
//! here every section of the string), `IABGPP_HDR_GppString`, and
//! `IABGPP_[SectionID]_String` per section; then the per-field keys the
//! specification names: `IABGPP_USP1_Version`, `_Notice`, `_OptOut`,
//! `_LSPACovered`, and for the TCF sections the fields its examples list
//! (`IABGPP_TCFEU2_Version`, `_Created`, `_LastUpdated`, `_CmpId`,
//! `_CmpVersion`, `_PurposesConsent`, `_VendorConsent`;
//! `IABGPP_TCFCA1_Version`, `_Created`). Value types follow its conversion
//! table: strings for the header keys, integers for numbers and booleans,
//! milliseconds since the epoch for dates, id lists joined by `_`.

use crate::model::{GppString, Section, HEADER_VERSION};
use serde::Serialize;

/// A stored value: the specification allows integers and strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum InAppValue {
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

fn joined(ids: impl Iterator<Item = u64>) -> String {
    ids.map(|i| i.to_string()).collect::<Vec<_>>().join("_")
}

/// The keys and values for `gpp`, in a fixed order. The section strings
/// are `gpp`'s own encoding; a model that cannot be encoded gets the
/// header and per-field keys only.
pub fn keys(gpp: &GppString) -> Vec<(String, InAppValue)> {
    let mut out = Vec::new();
    let ids = joined(gpp.section_ids().into_iter().map(u64::from));
    out.push((
        "IABGPP_HDR_Version".to_owned(),
        InAppValue::Str(HEADER_VERSION.to_string()),
    ));
    out.push((
        "IABGPP_HDR_Sections".to_owned(),
        InAppValue::Str(ids.clone()),
    ));
    if let Ok(s) = crate::encode(gpp) {
        out.push(("IABGPP_HDR_GppString".to_owned(), InAppValue::Str(s)));
    }
    out.push(("IABGPP_GppSID".to_owned(), InAppValue::Str(ids)));
    let mut order: Vec<&Section> = gpp.sections.iter().collect();
    order.sort_by_key(|s| s.id());
    for s in &order {
        let mut text = String::new();
        if crate::codec::encode_section(s, &mut text).is_ok() {
            out.push((format!("IABGPP_{}_String", s.id()), InAppValue::Str(text)));
        }
    }
    for s in order {
        match s {
            Section::UspV1(u) => {
                out.push((
                    "IABGPP_USP1_Version".to_owned(),
                    InAppValue::Int(u.version.into()),
                ));
                for (key, flag) in [
                    ("IABGPP_USP1_Notice", u.notice),
                    ("IABGPP_USP1_OptOut", u.opt_out_sale),
                    ("IABGPP_USP1_LSPACovered", u.lspa_covered),
                ] {
                    out.push((key.to_owned(), InAppValue::Str(flag.as_char().to_string())));
                }
            }
            Section::TcfEuV2(t) => {
                let m = &t.0;
                let p = "IABGPP_TCFEU2_";
                out.push((
                    format!("{p}Version"),
                    InAppValue::Int(nexaguard_tcf::TC_STRING_VERSION.into()),
                ));
                out.push((
                    format!("{p}Created"),
                    InAppValue::Int(m.created.unix_millis()),
                ));
                out.push((
                    format!("{p}LastUpdated"),
                    InAppValue::Int(m.last_updated.unix_millis()),
                ));
                out.push((format!("{p}CmpId"), InAppValue::Int(m.cmp_id.into())));
                out.push((
                    format!("{p}CmpVersion"),
                    InAppValue::Int(m.cmp_version.into()),
                ));
                out.push((
                    format!("{p}PurposesConsent"),
                    InAppValue::Str(joined(m.purpose_consents.iter().map(u64::from))),
                ));
                out.push((
                    format!("{p}VendorConsent"),
                    InAppValue::Str(joined(m.vendor_consents.iter().map(u64::from))),
                ));
            }
            Section::TcfCaV1(t) => {
                out.push((
                    "IABGPP_TCFCA1_Version".to_owned(),
                    InAppValue::Int(t.version.into()),
                ));
                out.push((
                    "IABGPP_TCFCA1_Created".to_owned(),
                    InAppValue::Int(t.created.unix_millis()),
                ));
            }
            _ => {}
        }
    }
    out
}
