//! TC string decoding.
//!
//! A TC string is dot-separated base64url segments. The core segment comes
//! first; every later segment starts with a 3-bit type and may come in any
//! order, each at most once.

use crate::bits::{decode_base64url, BitReader};
use crate::error::{DecodeError, Segment};
use crate::idset::{VendorSet, MAX_VENDOR_ID};
use crate::model::{
    CustomPurposeSet, Letters, PublisherRestriction, PublisherTc, PurposeSet, RestrictionType,
    SpecialFeatureSet, TcModel, Timestamp, TC_STRING_VERSION,
};

/// Field names of one vendor section, as error reports show them.
pub(crate) struct VendorSectionFields {
    pub(crate) max_vendor_id: &'static str,
    pub(crate) is_range_encoding: &'static str,
    pub(crate) bit_field: &'static str,
    pub(crate) num_entries: &'static str,
    pub(crate) is_a_range: &'static str,
    pub(crate) start: &'static str,
    pub(crate) end: &'static str,
    pub(crate) section: &'static str,
}

macro_rules! vendor_section_fields {
    ($name:ident, $prefix:literal) => {
        pub(crate) const $name: VendorSectionFields = VendorSectionFields {
            max_vendor_id: concat!($prefix, ".MaxVendorId"),
            is_range_encoding: concat!($prefix, ".IsRangeEncoding"),
            bit_field: concat!($prefix, ".BitField"),
            num_entries: concat!($prefix, ".NumEntries"),
            is_a_range: concat!($prefix, ".IsARange"),
            start: concat!($prefix, ".StartOrOnlyVendorId"),
            end: concat!($prefix, ".EndVendorId"),
            section: $prefix,
        };
    };
}

vendor_section_fields!(VENDOR_CONSENTS, "VendorConsents");
vendor_section_fields!(VENDOR_LEGITIMATE_INTERESTS, "VendorLegitimateInterests");
vendor_section_fields!(DISCLOSED_VENDORS, "DisclosedVendors");
vendor_section_fields!(ALLOWED_VENDORS, "AllowedVendors");

/// Decodes a TC string into a [`TcModel`].
///
/// Never panics; any malformed input is a [`DecodeError`] naming the field
/// and its bit offset.
///
/// ```
/// use nexaguard_tcf::{decode, encode, TcModel};
/// let mut model = TcModel::default();
/// model.cmp_id = 300;
/// model.purpose_consents.insert(1).unwrap();
/// model.vendor_consents.insert_range(1, 90).unwrap();
/// let tc = encode(&model).unwrap();
/// let back = decode(&tc).unwrap();
/// assert_eq!(back.cmp_id, 300);
/// assert!(back.vendor_consents.contains(42));
/// assert!(decode("not a TC string").is_err());
/// ```
pub fn decode(tc: &str) -> Result<TcModel, DecodeError> {
    let mut buf = Vec::new();
    let mut start = 0;
    let mut model = TcModel::default();
    for (index, segment) in tc.split('.').enumerate() {
        if segment.is_empty() {
            return Err(DecodeError::EmptySegment { index });
        }
        let len = decode_base64url(segment, start, &mut buf)?;
        start += segment.len() + 1;
        if index == 0 {
            let mut r = BitReader::new(&buf, len, Segment::Core);
            decode_core(&mut r, &mut model)?;
        } else {
            let mut r = BitReader::new(&buf, len, Segment::Unidentified(index));
            decode_other_segment(&mut r, &mut model)?;
        }
    }
    Ok(model)
}

fn decode_core(r: &mut BitReader<'_>, m: &mut TcModel) -> Result<(), DecodeError> {
    let at = r.position();
    let version = r.read(6, "Version")? as u8;
    if version != TC_STRING_VERSION {
        return Err(DecodeError::UnsupportedVersion { found: version, at });
    }
    m.created = read_timestamp(r, "Created")?;
    m.last_updated = read_timestamp(r, "LastUpdated")?;
    m.cmp_id = r.read(12, "CmpId")? as u16;
    m.cmp_version = r.read(12, "CmpVersion")? as u16;
    m.consent_screen = r.read(6, "ConsentScreen")? as u8;
    m.consent_language = read_letters(r, "ConsentLanguage")?;
    m.vendor_list_version = r.read(12, "VendorListVersion")? as u16;
    m.policy_version = r.read(6, "TcfPolicyVersion")? as u8;
    m.is_service_specific = r.read_bool("IsServiceSpecific")?;
    m.use_non_standard_texts = r.read_bool("UseNonStandardTexts")?;
    m.special_feature_optins =
        SpecialFeatureSet::from_msb_bits(r.read(12, "SpecialFeatureOptIns")?, 12);
    m.purpose_consents = PurposeSet::from_msb_bits(r.read(24, "PurposesConsent")?, 24);
    m.purpose_legitimate_interests =
        PurposeSet::from_msb_bits(r.read(24, "PurposesLITransparency")?, 24);
    m.purpose_one_treatment = r.read_bool("PurposeOneTreatment")?;
    m.publisher_country_code = read_letters(r, "PublisherCC")?;
    m.vendor_consents = read_vendor_section(r, &VENDOR_CONSENTS)?;
    m.vendor_legitimate_interests = read_vendor_section(r, &VENDOR_LEGITIMATE_INTERESTS)?;
    m.publisher_restrictions = read_publisher_restrictions(r)?;
    Ok(())
}

fn decode_other_segment(r: &mut BitReader<'_>, m: &mut TcModel) -> Result<(), DecodeError> {
    let at = r.position();
    let segment_type = r.read(3, "SegmentType")? as u8;
    match segment_type {
        0 => Err(DecodeError::RepeatedSegment {
            segment: Segment::Core,
        }),
        1 => {
            r.set_segment(Segment::DisclosedVendors);
            let set = read_vendor_section(r, &DISCLOSED_VENDORS)?;
            store_once(&mut m.vendors_disclosed, set, Segment::DisclosedVendors)
        }
        2 => {
            r.set_segment(Segment::AllowedVendors);
            let set = read_vendor_section(r, &ALLOWED_VENDORS)?;
            store_once(&mut m.vendors_allowed, set, Segment::AllowedVendors)
        }
        3 => {
            r.set_segment(Segment::PublisherTc);
            let publisher = read_publisher_tc(r)?;
            store_once(&mut m.publisher_tc, publisher, Segment::PublisherTc)
        }
        value => Err(DecodeError::UnknownSegmentType { value, at }),
    }
}

fn store_once<T>(slot: &mut Option<T>, value: T, segment: Segment) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::RepeatedSegment { segment });
    }
    *slot = Some(value);
    Ok(())
}

fn read_timestamp(r: &mut BitReader<'_>, field: &'static str) -> Result<Timestamp, DecodeError> {
    let ds = r.read(36, field)?;
    // 36 bits always fit Timestamp's range.
    Ok(Timestamp::from_deciseconds(ds).unwrap_or_default())
}

fn read_letters(r: &mut BitReader<'_>, field: &'static str) -> Result<Letters, DecodeError> {
    let first_at = r.position();
    let a = r.read(6, field)? as u8;
    let second_at = r.position();
    let b = r.read(6, field)? as u8;
    Letters::from_indexes(a, b).ok_or(if a >= 26 {
        DecodeError::InvalidLetter {
            field,
            at: first_at,
            value: a,
        }
    } else {
        DecodeError::InvalidLetter {
            field,
            at: second_at,
            value: b,
        }
    })
}

/// Reads a vendor section: MaxVendorId, IsRangeEncoding, then a bit field or
/// range entries.
pub(crate) fn read_vendor_section(
    r: &mut BitReader<'_>,
    f: &VendorSectionFields,
) -> Result<VendorSet, DecodeError> {
    let max = r.read(16, f.max_vendor_id)? as u32;
    if r.read_bool(f.is_range_encoding)? {
        let mut set = VendorSet::with_max_id(max);
        read_range_entries(r, f, max, &mut set)?;
        Ok(set)
    } else {
        read_bit_field(r, max, f.bit_field)
    }
}

fn read_bit_field(
    r: &mut BitReader<'_>,
    max: u32,
    field: &'static str,
) -> Result<VendorSet, DecodeError> {
    let mut set = VendorSet::with_max_id(max);
    let mut remaining = max;
    while remaining > 0 {
        let take = remaining.min(64);
        set.push_word(r.read_lsb_first(take, field)?);
        remaining -= take;
    }
    set.trim();
    Ok(set)
}

/// Reads NumEntries then that many entries into `set`, checking each against
/// `max` (the section's MaxVendorId, or the 16-bit limit for restrictions).
fn read_range_entries(
    r: &mut BitReader<'_>,
    f: &VendorSectionFields,
    max: u32,
    set: &mut VendorSet,
) -> Result<(), DecodeError> {
    let entries = r.read(12, f.num_entries)?;
    for _ in 0..entries {
        let at = r.position();
        let is_range = r.read_bool(f.is_a_range)?;
        let start = r.read(16, f.start)? as u32;
        let end = if is_range {
            r.read(16, f.end)? as u32
        } else {
            start
        };
        check_entry(f.section, at, start, end, max)?;
        // Both ends are 1..=65535 after the check, so insertion cannot fail.
        let _ = set.insert_range(start, end);
    }
    Ok(())
}

fn check_entry(
    field: &'static str,
    at: crate::Position,
    start: u32,
    end: u32,
    max: u32,
) -> Result<(), DecodeError> {
    if start == 0 {
        return Err(DecodeError::VendorIdZero { field, at });
    }
    if end < start {
        return Err(DecodeError::ReversedRange {
            field,
            at,
            start,
            end,
        });
    }
    if end > max {
        return Err(DecodeError::VendorIdPastMax {
            field,
            at,
            id: end,
            max,
        });
    }
    Ok(())
}

const RESTRICTION_ENTRIES: VendorSectionFields = VendorSectionFields {
    max_vendor_id: "PubRestrictionEntry.MaxVendorId",
    is_range_encoding: "PubRestrictionEntry.IsRangeEncoding",
    bit_field: "PubRestrictionEntry.BitField",
    num_entries: "PubRestrictionEntry.NumEntries",
    is_a_range: "PubRestrictionEntry.IsARange",
    start: "PubRestrictionEntry.StartOrOnlyVendorId",
    end: "PubRestrictionEntry.EndVendorId",
    section: "PubRestrictionEntry",
};

fn read_publisher_restrictions(
    r: &mut BitReader<'_>,
) -> Result<Vec<PublisherRestriction>, DecodeError> {
    let count = r.read(12, "NumPubRestrictions")?;
    let mut restrictions = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        let purpose_at = r.position();
        let purpose_id = r.read(6, "PubRestrictionEntry.PurposeId")? as u8;
        if purpose_id == 0 {
            return Err(DecodeError::InvalidPurposeId { at: purpose_at });
        }
        let type_at = r.position();
        let restriction_type =
            RestrictionType::from_bits(r.read(2, "PubRestrictionEntry.RestrictionType")? as u8)
                .ok_or(DecodeError::InvalidRestrictionType { at: type_at })?;
        let mut vendors = VendorSet::new();
        read_range_entries(r, &RESTRICTION_ENTRIES, MAX_VENDOR_ID, &mut vendors)?;
        restrictions.push(PublisherRestriction {
            purpose_id,
            restriction_type,
            vendors,
        });
    }
    Ok(restrictions)
}

fn read_publisher_tc(r: &mut BitReader<'_>) -> Result<PublisherTc, DecodeError> {
    let purpose_consents = PurposeSet::from_msb_bits(r.read(24, "PubPurposesConsent")?, 24);
    let purpose_legitimate_interests =
        PurposeSet::from_msb_bits(r.read(24, "PubPurposesLITransparency")?, 24);
    let num = r.read(6, "NumCustomPurposes")? as u32;
    let custom_consents = r.read_lsb_first(num, "CustomPurposesConsent")?;
    let custom_li = r.read_lsb_first(num, "CustomPurposesLITransparency")?;
    Ok(PublisherTc {
        purpose_consents,
        purpose_legitimate_interests,
        num_custom_purposes: num as u8,
        custom_purpose_consents: CustomPurposeSet::from_lsb_bits(custom_consents),
        custom_purpose_legitimate_interests: CustomPurposeSet::from_lsb_bits(custom_li),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bits::BitWriter;
    use crate::error::Position;

    /// Writes the fixed part of a core segment (213 bits) with version 2.
    fn core_prefix(w: &mut BitWriter) {
        w.write(2, 6); // Version
        w.write(0, 4); // Created, 36 bits
        w.write(16_000_000, 32);
        w.write(0, 4); // LastUpdated
        w.write(16_000_000, 32);
        w.write(300, 12); // CmpId
        w.write(2, 12); // CmpVersion
        w.write(1, 6); // ConsentScreen
        w.write(4, 6); // 'E'
        w.write(13, 6); // 'N'
        w.write(150, 12); // VendorListVersion
        w.write(5, 6); // TcfPolicyVersion
        w.write(0b10, 2); // IsServiceSpecific, UseNonStandardTexts
        w.write(0b1000_0000_0001, 12); // special features 1 and 12
        w.write(0b1100_0000_0000_0000_0000_0001, 24); // purposes 1, 2, 24
        w.write(0b0100_0000_0000_0000_0000_0000, 24); // LI purpose 2
        w.write(1, 1); // PurposeOneTreatment
        w.write(3, 6); // 'D'
        w.write(4, 6); // 'E'
    }

    fn finish(w: BitWriter) -> String {
        let mut s = String::new();
        w.finish_into(&mut s);
        s
    }

    /// A full core with empty vendor sections and no restrictions.
    fn empty_sections(w: &mut BitWriter) {
        w.write(0, 17); // consents: MaxVendorId 0, bit field
        w.write(0, 17); // LI
        w.write(0, 12); // NumPubRestrictions
    }

    #[test]
    fn reads_every_core_field_at_its_offset() {
        let mut w = BitWriter::default();
        core_prefix(&mut w);
        // Vendor consents as a bit field of 10: vendors 1 and 10.
        w.write(10, 16);
        w.write(0, 1);
        w.write(0b10_0000_0001, 10);
        // Vendor LI as ranges: 3-5 and 9, MaxVendorId 9.
        w.write(9, 16);
        w.write(1, 1);
        w.write(2, 12);
        w.write(1, 1);
        w.write(3, 16);
        w.write(5, 16);
        w.write(0, 1);
        w.write(9, 16);
        // One restriction: purpose 2, require LI, vendors 7-8.
        w.write(1, 12);
        w.write(2, 6);
        w.write(2, 2);
        w.write(1, 12);
        w.write(1, 1);
        w.write(7, 16);
        w.write(8, 16);
        let m = decode(&finish(w)).unwrap();
        assert_eq!(m.created.deciseconds(), 16_000_000);
        assert_eq!(m.last_updated.deciseconds(), 16_000_000);
        assert_eq!((m.cmp_id, m.cmp_version, m.consent_screen), (300, 2, 1));
        assert_eq!(m.consent_language.as_str(), "EN");
        assert_eq!((m.vendor_list_version, m.policy_version), (150, 5));
        assert!(m.is_service_specific && !m.use_non_standard_texts);
        assert_eq!(m.special_feature_optins.iter().collect::<Vec<_>>(), [1, 12]);
        assert_eq!(m.purpose_consents.iter().collect::<Vec<_>>(), [1, 2, 24]);
        assert_eq!(
            m.purpose_legitimate_interests.iter().collect::<Vec<_>>(),
            [2]
        );
        assert!(m.purpose_one_treatment);
        assert_eq!(m.publisher_country_code.as_str(), "DE");
        assert_eq!(m.vendor_consents.iter().collect::<Vec<_>>(), [1, 10]);
        assert_eq!(
            m.vendor_legitimate_interests.iter().collect::<Vec<_>>(),
            [3, 4, 5, 9]
        );
        let r = &m.publisher_restrictions[0];
        assert_eq!(r.purpose_id, 2);
        assert_eq!(
            r.restriction_type,
            RestrictionType::RequireLegitimateInterest
        );
        assert_eq!(r.vendors.iter().collect::<Vec<_>>(), [7, 8]);
        assert_eq!(m.vendors_disclosed, None);
    }

    #[test]
    fn wrong_version_is_rejected_at_bit_zero() {
        let mut w = BitWriter::default();
        w.write(1, 6);
        w.write(0, 30);
        let err = decode(&finish(w)).unwrap_err();
        assert_eq!(
            err,
            DecodeError::UnsupportedVersion {
                found: 1,
                at: Position {
                    segment: Segment::Core,
                    bit: 0
                }
            }
        );
    }

    #[test]
    fn truncated_core_names_the_field() {
        let mut w = BitWriter::default();
        core_prefix(&mut w);
        w.write(5, 16); // MaxVendorId 5, then the string ends
        let err = decode(&finish(w)).unwrap_err();
        // 213 + 16 bits written, padded to 232: 3 bits of padding remain.
        match err {
            DecodeError::Truncated {
                field, at, needed, ..
            } => {
                assert_eq!(field, "VendorConsents.BitField");
                assert_eq!(at.bit, 230);
                assert_eq!(needed, 5);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn invalid_letter_names_field_and_offset() {
        let mut w = BitWriter::default();
        w.write(2, 6);
        w.write(0, 72 - 64); // Created and LastUpdated, 72 bits
        w.write(0, 32);
        w.write(0, 32);
        w.write(0, 30); // cmp id, version, screen
        w.write(4, 6);
        w.write(30, 6); // past Z
        w.write(0, 32);
        let err = decode(&finish(w)).unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidLetter {
                field: "ConsentLanguage",
                at: Position {
                    segment: Segment::Core,
                    bit: 114
                },
                value: 30
            }
        );
    }

    fn core_with_consent_ranges(max: u32, entries: &[(u32, u32)]) -> String {
        let mut w = BitWriter::default();
        core_prefix(&mut w);
        w.write(u64::from(max), 16);
        w.write(1, 1);
        w.write(entries.len() as u64, 12);
        for &(s, e) in entries {
            w.write(1, 1);
            w.write(u64::from(s), 16);
            w.write(u64::from(e), 16);
        }
        w.write(0, 17);
        w.write(0, 12);
        finish(w)
    }

    #[test]
    fn reversed_range_is_rejected() {
        let err = decode(&core_with_consent_ranges(20, &[(9, 4)])).unwrap_err();
        assert_eq!(err.code(), "reversed_range");
        assert!(
            err.to_string().contains("VendorConsents at bit 242"),
            "{err}"
        );
    }

    #[test]
    fn vendor_zero_is_rejected() {
        let err = decode(&core_with_consent_ranges(20, &[(0, 4)])).unwrap_err();
        assert_eq!(err.code(), "vendor_id_zero");
    }

    #[test]
    fn vendor_past_declared_max_is_rejected() {
        let err = decode(&core_with_consent_ranges(20, &[(2, 4), (10, 21)])).unwrap_err();
        assert_eq!(
            err,
            DecodeError::VendorIdPastMax {
                field: "VendorConsents",
                at: Position {
                    segment: Segment::Core,
                    bit: 275
                },
                id: 21,
                max: 20
            }
        );
    }

    #[test]
    fn undefined_restriction_type_is_rejected() {
        let mut w = BitWriter::default();
        core_prefix(&mut w);
        w.write(0, 17);
        w.write(0, 17);
        w.write(1, 12);
        w.write(1, 6);
        w.write(3, 2);
        w.write(0, 12);
        let err = decode(&finish(w)).unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidRestrictionType {
                at: Position {
                    segment: Segment::Core,
                    bit: 265
                }
            }
        );
    }

    fn core_only() -> String {
        let mut w = BitWriter::default();
        core_prefix(&mut w);
        empty_sections(&mut w);
        finish(w)
    }

    fn segment(segment_type: u64, body: impl FnOnce(&mut BitWriter)) -> String {
        let mut w = BitWriter::default();
        w.write(segment_type, 3);
        body(&mut w);
        finish(w)
    }

    #[test]
    fn later_segments_in_any_order() {
        let disclosed = segment(1, |w| {
            w.write(3, 16);
            w.write(0, 1);
            w.write(0b101, 3);
        });
        let publisher = segment(3, |w| {
            w.write(1 << 23, 24);
            w.write(0, 24);
            w.write(2, 6);
            w.write(0b01, 2);
            w.write(0b10, 2);
        });
        let a = decode(&format!("{}.{disclosed}.{publisher}", core_only())).unwrap();
        let b = decode(&format!("{}.{publisher}.{disclosed}", core_only())).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.vendors_disclosed.unwrap().iter().collect::<Vec<_>>(),
            [1, 3]
        );
        let p = a.publisher_tc.unwrap();
        assert_eq!(p.purpose_consents.iter().collect::<Vec<_>>(), [1]);
        assert_eq!(p.num_custom_purposes, 2);
        assert_eq!(p.custom_purpose_consents.iter().collect::<Vec<_>>(), [2]);
        assert_eq!(
            p.custom_purpose_legitimate_interests
                .iter()
                .collect::<Vec<_>>(),
            [1]
        );
    }

    #[test]
    fn unknown_and_repeated_segments_are_rejected() {
        let unknown = segment(5, |w| w.write(0, 20));
        let err = decode(&format!("{}.{unknown}", core_only())).unwrap_err();
        assert_eq!(
            err,
            DecodeError::UnknownSegmentType {
                value: 5,
                at: Position {
                    segment: Segment::Unidentified(1),
                    bit: 0
                }
            }
        );
        let disclosed = segment(1, |w| w.write(0, 17));
        let err = decode(&format!("{}.{disclosed}.{disclosed}", core_only())).unwrap_err();
        assert_eq!(
            err,
            DecodeError::RepeatedSegment {
                segment: Segment::DisclosedVendors
            }
        );
        let core_again = core_only();
        let err = decode(&format!("{}.{core_again}", core_only())).unwrap_err();
        assert_eq!(err.code(), "repeated_segment");
    }

    #[test]
    fn empty_input_and_empty_segments_are_rejected() {
        assert_eq!(
            decode("").unwrap_err(),
            DecodeError::EmptySegment { index: 0 }
        );
        let err = decode(&format!("{}..", core_only())).unwrap_err();
        assert_eq!(err, DecodeError::EmptySegment { index: 1 });
    }

    #[test]
    fn truncated_later_segment_names_its_segment() {
        let err = decode(&format!("{}.IA", core_only())).unwrap_err();
        match err {
            DecodeError::Truncated { at, field, .. } => {
                assert_eq!(at.segment, Segment::DisclosedVendors);
                assert_eq!(field, "DisclosedVendors.MaxVendorId");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
