//! Round trips, encoding choices and robustness of the TC string codec.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use nexaguard_tcf::{
    decode, encode, Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel,
    Timestamp, VendorSet,
};
use proptest::prelude::*;

fn vendor_set(max: u32) -> impl Strategy<Value = VendorSet> {
    prop_oneof![
        // Sparse: a few scattered ids.
        proptest::collection::vec(1..=max, 0..20)
            .prop_map(|ids| VendorSet::try_from(&ids[..]).unwrap()),
        // Dense: mostly ranges.
        proptest::collection::vec((1..=max, 0u32..200), 0..8).prop_map(move |runs| {
            let mut set = VendorSet::new();
            for (start, len) in runs {
                set.insert_range(start, (start + len).min(max)).unwrap();
            }
            set
        }),
    ]
}

fn bits<const N: u32>() -> impl Strategy<Value = nexaguard_tcf::IdSet<N>> {
    proptest::collection::vec(1..=N, 0..N as usize)
        .prop_map(|ids| nexaguard_tcf::IdSet::try_from(&ids[..]).unwrap())
}

fn letters() -> impl Strategy<Value = Letters> {
    "[A-Z]{2}".prop_map(|s| Letters::parse(&s).unwrap())
}

fn restriction() -> impl Strategy<Value = PublisherRestriction> {
    (1u8..=63, 0u8..3, vendor_set(2000)).prop_map(|(purpose_id, t, vendors)| PublisherRestriction {
        purpose_id,
        restriction_type: RestrictionType::from_bits(t).unwrap(),
        vendors,
    })
}

fn publisher_tc() -> impl Strategy<Value = PublisherTc> {
    (
        bits::<24>(),
        bits::<24>(),
        0u8..=63,
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(consents, li, num, c, l)| {
            let keep = if num == 0 {
                0
            } else {
                u64::MAX >> (64 - u32::from(num))
            };
            let custom = |mask: u64| {
                let ids: Vec<u32> = (1..=u32::from(num))
                    .filter(|i| mask & keep & (1 << (i - 1)) != 0)
                    .collect();
                nexaguard_tcf::CustomPurposeSet::try_from(&ids[..]).unwrap()
            };
            PublisherTc {
                purpose_consents: consents,
                purpose_legitimate_interests: li,
                num_custom_purposes: num,
                custom_purpose_consents: custom(c),
                custom_purpose_legitimate_interests: custom(l),
            }
        })
}

prop_compose! {
    fn model()(
        created in 0u64..=Timestamp::MAX_DECISECONDS,
        updated in 0u64..=Timestamp::MAX_DECISECONDS,
        cmp in (0u16..4096, 0u16..4096, 0u8..64),
        lang in letters(),
        country in letters(),
        versions in (0u16..4096, 0u8..64),
        flags in any::<(bool, bool, bool)>(),
        sets in (bits::<12>(), bits::<24>(), bits::<24>()),
        vendors in (vendor_set(3000), vendor_set(3000)),
        restrictions in proptest::collection::vec(restriction(), 0..4),
        disclosed in vendor_set(3000),
        allowed in proptest::option::of(vendor_set(500)),
        publisher in proptest::option::of(publisher_tc()),
    ) -> TcModel {
        TcModel {
            created: Timestamp::from_deciseconds(created).unwrap(),
            last_updated: Timestamp::from_deciseconds(updated).unwrap(),
            cmp_id: cmp.0,
            cmp_version: cmp.1,
            consent_screen: cmp.2,
            consent_language: lang,
            vendor_list_version: versions.0,
            policy_version: versions.1,
            is_service_specific: flags.0,
            use_non_standard_texts: flags.1,
            special_feature_optins: sets.0,
            purpose_consents: sets.1,
            purpose_legitimate_interests: sets.2,
            purpose_one_treatment: flags.2,
            publisher_country_code: country,
            vendor_consents: vendors.0,
            vendor_legitimate_interests: vendors.1,
            publisher_restrictions: restrictions,
            vendors_disclosed: Some(disclosed),
            vendors_allowed: allowed,
            publisher_tc: publisher,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_is_identity(m in model()) {
        let tc = encode(&m).unwrap();
        prop_assert_eq!(decode(&tc).unwrap(), m);
    }

    #[test]
    fn decode_then_encode_is_stable(m in model()) {
        let tc = encode(&m).unwrap();
        let again = encode(&decode(&tc).unwrap()).unwrap();
        prop_assert_eq!(again, tc);
    }

    #[test]
    fn random_text_never_panics(s in ".{0,400}") {
        let _ = decode(&s);
    }

    #[test]
    fn random_base64url_never_panics(s in "[A-Za-z0-9_.-]{0,600}") {
        if let Ok(m) = decode(&s) {
            // Whatever decodes must re-encode to something that decodes the same.
            let tc = encode(&m).unwrap();
            let mut back = decode(&tc).unwrap();
            // The encoder always writes the (possibly empty) disclosed segment.
            if m.vendors_disclosed.is_none() {
                back.vendors_disclosed = None;
            }
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn mutated_valid_strings_never_panic(
        m in model(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"ABCz_-.=Q0/".to_vec())), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let tc = encode(&m).unwrap();
        let mut bytes = tc.into_bytes();
        for (at, ch) in edits {
            let i = at.index(bytes.len());
            bytes[i] = ch;
        }
        let s = String::from_utf8(bytes).unwrap();
        let _ = decode(&s);
        let _ = decode(&s[..cut.index(s.len() + 1)]);
    }
}

#[test]
fn sparse_vendors_use_ranges_and_dense_use_a_bit_field() {
    let sparse = TcModel {
        vendor_consents: VendorSet::try_from(&[1u32, 700][..]).unwrap(),
        ..TcModel::default()
    };
    // Core fixed part 213 bits + 2 x (16 + 1) + 12 + (12 + 17 + 17) = 305 bits:
    // a bit field would need 700 bits for the consents alone.
    let core = encode(&sparse).unwrap();
    let core = core.split('.').next().unwrap();
    assert_eq!(core.len(), (305usize.div_ceil(8) * 8).div_ceil(6));

    let alternating: Vec<u32> = (1..=700).step_by(2).collect();
    let dense = TcModel {
        vendor_consents: VendorSet::try_from(&alternating[..]).unwrap(),
        ..TcModel::default()
    };
    // 350 single-id entries would take 12 + 350 * 17 bits; the bit field takes 699.
    let tc = encode(&dense).unwrap();
    let core = tc.split('.').next().unwrap();
    let bits = 213 + 17 + 699 + 17 + 12;
    assert_eq!(
        core.len(),
        (bits as usize).div_ceil(8) * 8 / 6 + usize::from((bits as usize).div_ceil(8) * 8 % 6 != 0)
    );
    assert_eq!(decode(&tc).unwrap().vendor_consents, dense.vendor_consents);
}

#[test]
fn disclosed_vendors_segment_is_always_written() {
    let m = TcModel::default();
    let tc = encode(&m).unwrap();
    let segments: Vec<&str> = tc.split('.').collect();
    assert_eq!(segments.len(), 2);
    // Segment type 1 in the first three bits: 001 -> first char is 'I'..'P'.
    assert!(matches!(segments[1].as_bytes()[0], b'I'..=b'P'));
    assert_eq!(
        decode(&tc).unwrap().vendors_disclosed,
        Some(VendorSet::new())
    );
}

#[test]
fn encoding_rejects_values_too_wide_for_their_field() {
    let mut m = TcModel {
        cmp_id: 4096,
        ..TcModel::default()
    };
    assert_eq!(encode(&m).unwrap_err().code(), "out_of_range");
    m.cmp_id = 1;
    m.publisher_tc = Some(PublisherTc {
        num_custom_purposes: 2,
        custom_purpose_consents: nexaguard_tcf::CustomPurposeSet::try_from(&[3u32][..]).unwrap(),
        ..PublisherTc::default()
    });
    assert_eq!(encode(&m).unwrap_err().code(), "custom_purpose_past_num");
}

/// Strings produced by other CMPs in the wild.
#[test]
fn decodes_strings_from_other_cmps() {
    let m = decode("COwAdDhOwAdDhN4ABAENAPCgAAQAAv___wAAAFP_AAp_4AI6ACACAA").unwrap();
    assert_eq!(
        (
            m.cmp_id,
            m.cmp_version,
            m.vendor_list_version,
            m.policy_version
        ),
        (888, 1, 15, 2)
    );
    assert!(m.is_service_specific);
    assert_eq!(m.purpose_consents.iter().collect::<Vec<_>>(), [6, 23]);
    assert_eq!(
        m.vendor_consents.iter().collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(
        m.restriction_for(7, 32),
        Some(RestrictionType::RequireConsent)
    );

    let v23 = "CP188cAQKFpAAAHABBENBSFsAP_gAEPgAAiQKqNX_H__bW9r8X73aft0eY1P9_j77uQxBhfJE-4FzLvW_JwXx2ExNA36tqIKmRIEu3bBIQNlHJHUTVigaogVryHMak2cpTNKJ6BkiFMRM2dYCF5vm4tj-QKY5_r993dx2D-t_dv83dzyz81Hn3f5_2e0eLCdQ5-tDfv9bROb-9IPd_78v4v8_l_rk2_eT1n_tevr7D_-ft8__XW_9_fff_9Pn_-uB_-_3_vf_EFUwCTDQqIA-wJCQg0DCKBACoKwgIoFAQAAJA0QEAJgwKdgYALrCRACAFAAMEAIAAQZAAgAAAgAQiACQAoEAAEAgUAAYAEAwEABAwAAgAsBAIAAQHQMUwIIFAsIEjMioUwIQoEggJbKhBICgQVwhCLPAIgERMFAAgAAAVgACAsFgcSSAlQkECXUG0AABAAgFEIFQgk9MAAwJmy1B4MG0ZWmAYPmCRDTAMgCIIyEAAAA.f_wACHwAAAAA";
    let m = decode(v23).unwrap();
    assert_eq!(
        (m.cmp_id, m.policy_version, m.vendor_list_version),
        (7, 5, 82)
    );
    assert!(m.vendors_disclosed.is_none());
    let publisher = m.publisher_tc.as_ref().unwrap();
    assert!(!publisher.purpose_consents.is_empty());
    // Our re-encoding keeps every signal and adds the disclosed segment.
    let mut back = decode(&encode(&m).unwrap()).unwrap();
    assert_eq!(back.vendors_disclosed.take(), Some(VendorSet::new()));
    assert_eq!(back, m);
}
