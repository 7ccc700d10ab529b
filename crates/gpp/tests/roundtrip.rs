//! Property tests: random models of every section round-trip through
//! encode and decode (and through the JSON form); arbitrary input never
//! panics the decoder, the validator or the JSON writer, and whatever
//! decodes re-encodes to a string that decodes to the same model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_gpp::tcfcav1::PubRestriction;
use nexaguard_gpp::uspv1::UspFlag;
use nexaguard_gpp::{
    decode, encode, json, validate, validate_str, Flat, GppString, Kind, Section, TcfCaV1, TcfEuV2,
    UspV1, US_SECTIONS,
};
use nexaguard_tcf::{Letters, Timestamp, VendorSet};
use proptest::prelude::*;

/// Any values that fit the bits of a US section (valid or not), with the
/// sub-segment's fields at their defaults when it is not written, and the
/// values a `usnat` version 1 string cannot carry at 0.
fn us_section(index: usize) -> impl Strategy<Value = Section> {
    let def = US_SECTIONS[index];
    let slots: Vec<u8> = def
        .fields()
        .flat_map(|(_, f)| {
            let (bits, n) = match f.kind {
                Kind::Int { bits, .. } => (bits, 1),
                Kind::List { bits, len, .. } => (bits, len as usize),
                Kind::Bool { .. } => (1, 1),
            };
            std::iter::repeat(bits).take(n)
        })
        .collect();
    let values: Vec<BoxedStrategy<u8>> = slots
        .iter()
        .map(|&bits| (0u8..(1 << bits)).boxed())
        .collect();
    (values, any::<bool>(), any::<bool>()).prop_map(move |(values, included, v1)| {
        let mut flat = def.defaults();
        for (slot, v) in values.into_iter().enumerate() {
            flat.v[slot] = v;
        }
        flat.included = def.sub.is_some() && included;
        if def.sub.is_some() && !included {
            let core_slots: usize = def.core.iter().map(|f| f.kind.slots()).sum();
            let defaults = def.defaults();
            flat.v[core_slots..].copy_from_slice(&defaults.v[core_slots..]);
        }
        if def.name == "usnat" {
            if v1 {
                flat.v[0] = 1;
                for slot in [22, 23, 24, 25, 28] {
                    flat.v[slot] = 0;
                }
            } else if flat.v[0] == 1 {
                flat.v[0] = 2;
            }
        }
        Section::from_us(def.id, &flat).unwrap()
    })
}

fn ids(max: u16) -> impl Strategy<Value = Vec<u16>> {
    prop_oneof![
        proptest::collection::vec(1..=max, 0..30),
        proptest::collection::vec((1..=max, 0u16..40), 0..6).prop_map(move |runs| {
            let mut v = Vec::new();
            for (start, len) in runs {
                for id in start..=start.saturating_add(len).min(max) {
                    v.push(id);
                }
            }
            v
        }),
    ]
    .prop_map(|mut v| {
        v.sort_unstable();
        v.dedup();
        v
    })
}

fn flags<const N: usize>() -> impl Strategy<Value = [bool; N]> {
    proptest::collection::vec(any::<bool>(), N).prop_map(|v| {
        let mut a = [false; N];
        a.copy_from_slice(&v);
        a
    })
}

prop_compose! {
    fn tcfcav1()(
        version in 0u8..8,
        created in 0u64..(1 << 36),
        updated in 0u64..(1 << 36),
        cmp in (0u16..4096, 0u16..4096, 0u8..64, 0u16..4096, 0u8..64),
        lang in (0u8..26, 0u8..26),
        nss in any::<bool>(),
        sf in flags::<12>(),
        pe in flags::<24>(),
        pi in flags::<24>(),
        ve in ids(2000),
        vi in ids(65535),
        restrictions in proptest::collection::vec((0u8..64, 0u8..4, ids(500)), 0..4),
        ppe in flags::<24>(),
        ppi in flags::<24>(),
        custom in proptest::collection::vec((any::<bool>(), any::<bool>()), 0..64),
        disclosed in ids(3000),
    ) -> TcfCaV1 {
        let lang: String = [char::from(b'A' + lang.0), char::from(b'A' + lang.1)].iter().collect();
        TcfCaV1 {
            version,
            created: Timestamp::from_deciseconds(created).unwrap(),
            last_updated: Timestamp::from_deciseconds(updated).unwrap(),
            cmp_id: cmp.0,
            cmp_version: cmp.1,
            consent_screen: cmp.2,
            consent_language: Letters::parse(&lang).unwrap(),
            vendor_list_version: cmp.3,
            tcf_policy_version: cmp.4,
            use_non_standard_stacks: nss,
            special_feature_express_consent: sf,
            purposes_express_consent: pe,
            purposes_implied_consent: pi,
            vendor_express_consent: ve,
            vendor_implied_consent: vi,
            pub_restrictions: restrictions
                .into_iter()
                .map(|(purpose_id, restriction_type, vendor_ids)| PubRestriction { purpose_id, restriction_type, vendor_ids })
                .collect(),
            pub_purposes_express_consent: ppe,
            pub_purposes_implied_consent: ppi,
            num_custom_purposes: custom.len() as u8,
            custom_purposes_express_consent: custom.iter().map(|c| c.0).collect(),
            custom_purposes_implied_consent: custom.iter().map(|c| c.1).collect(),
            disclosed_vendors: disclosed,
        }
    }
}

fn usp_flag() -> impl Strategy<Value = UspFlag> {
    prop_oneof![
        Just(UspFlag::Yes),
        Just(UspFlag::No),
        Just(UspFlag::NotApplicable)
    ]
}

prop_compose! {
    fn uspv1()(version in 0u8..10, n in usp_flag(), o in usp_flag(), l in usp_flag()) -> UspV1 {
        UspV1 { version, notice: n, opt_out_sale: o, lspa_covered: l }
    }
}

prop_compose! {
    fn tcfeuv2()(
        created in 0u64..(1 << 36),
        cmp_id in 0u16..4096,
        purposes in proptest::collection::vec(1u32..=24, 0..10),
        vendors in proptest::collection::vec(1u32..=1200, 0..40),
        disclosed in proptest::collection::vec(1u32..=1200, 0..40),
    ) -> TcfEuV2 {
        let mut t = TcfEuV2::default();
        t.0.created = Timestamp::from_deciseconds(created).unwrap();
        t.0.last_updated = t.0.created;
        t.0.cmp_id = cmp_id;
        for p in purposes {
            t.0.purpose_consents.insert(p).unwrap();
        }
        t.0.vendor_consents = VendorSet::try_from(vendors.as_slice()).unwrap();
        t.0.vendors_disclosed = Some(VendorSet::try_from(disclosed.as_slice()).unwrap());
        t
    }
}

fn any_section() -> impl Strategy<Value = Section> {
    prop_oneof![
        tcfeuv2().prop_map(Section::TcfEuV2),
        tcfcav1().prop_map(Section::TcfCaV1),
        uspv1().prop_map(Section::UspV1),
        (0..US_SECTIONS.len()).prop_flat_map(us_section),
    ]
}

fn gpp() -> impl Strategy<Value = GppString> {
    proptest::collection::vec(any_section(), 0..6).prop_map(|sections| {
        let mut seen = std::collections::BTreeSet::new();
        GppString {
            sections: sections
                .into_iter()
                .filter(|s| seen.insert(s.id()))
                .collect(),
        }
    })
}

fn sorted(mut g: GppString) -> GppString {
    g.sections.sort_by_key(Section::id);
    g
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_us_section_round_trips(section in (0..US_SECTIONS.len()).prop_flat_map(us_section)) {
        let gpp = GppString { sections: vec![section] };
        let s = encode(&gpp).unwrap();
        prop_assert_eq!(decode(&s).unwrap(), gpp);
    }

    #[test]
    fn random_models_round_trip(g in gpp()) {
        let s = encode(&g).unwrap();
        let back = decode(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        prop_assert_eq!(&back, &sorted(g.clone()));
        prop_assert_eq!(encode(&back).unwrap(), s.clone());
        let _ = validate(&back, Some(true));
    }

    #[test]
    fn the_json_form_round_trips(g in gpp()) {
        let s = encode(&g).unwrap();
        let value = json::to_value(&g, &s);
        let back = json::from_value(&value, time::OffsetDateTime::UNIX_EPOCH);
        // The JSON form refuses what the reference refuses to set: values
        // outside the validators. Whatever it accepts is the same model.
        if let Ok(back) = back {
            prop_assert_eq!(back, sorted(g));
        }
    }

    #[test]
    fn valid_us_models_survive_the_json_form(index in 0..US_SECTIONS.len()) {
        let def = US_SECTIONS[index];
        let mut flat: Flat = def.defaults();
        flat.included = !flat.included;
        let g = GppString { sections: vec![Section::from_us(def.id, &flat).unwrap()] };
        let s = encode(&g).unwrap();
        let back = json::from_value(&json::to_value(&g, &s), time::OffsetDateTime::UNIX_EPOCH).unwrap();
        prop_assert_eq!(back, g);
    }

    #[test]
    fn decoding_arbitrary_strings_never_panics(s in "\\PC{0,120}") {
        check_anything(&s);
    }

    #[test]
    fn decoding_gpp_shaped_strings_never_panics(s in "DB[A-Za-z0-9_-]{0,8}(~[A-Za-z0-9_.-]{0,30}){0,4}") {
        check_anything(&s);
    }
}

fn check_anything(s: &str) {
    let _ = validate_str(s, Some(false));
    if let Ok(g) = decode(s) {
        let mut out = Vec::new();
        json::to_json(&g, s, &mut out);
        serde_json::from_slice::<serde_json::Value>(&out).unwrap();
        let again =
            encode(&g).unwrap_or_else(|e| panic!("decoded {s:?} but cannot encode it: {e}"));
        let mut normalised = g.clone();
        for sec in &mut normalised.sections {
            if let Section::TcfEuV2(t) = sec {
                t.0.vendors_disclosed.get_or_insert_with(VendorSet::new);
            }
        }
        assert_eq!(decode(&again).unwrap(), normalised, "{s:?} -> {again:?}");
    }
}
