//! TC string encoding.
//!
//! Writes the core segment, then the disclosed vendors segment (always: TCF
//! v2.3 makes it mandatory), the allowed vendors segment if the model has
//! one, and the publisher TC segment if the model has one. Each vendor
//! section uses whichever of bit field and range encoding is shorter, and each
//! segment is padded only to a byte boundary, so the result is never longer
//! than the IAB reference library's (which pads to 24 bits).

use crate::bits::BitWriter;
use crate::error::EncodeError;
use crate::idset::VendorSet;
use crate::model::{PublisherRestriction, PublisherTc, TcModel, Timestamp, TC_STRING_VERSION};

/// Segment type values after the core.
const DISCLOSED_VENDORS: u64 = 1;
const ALLOWED_VENDORS: u64 = 2;
const PUBLISHER_TC: u64 = 3;

/// Bits of the core segment before the vendor sections.
const CORE_FIXED_BITS: usize = 213;

/// Encodes `model` as a TC string.
///
/// Fails only when a number does not fit its field (for example a CMP id
/// above 4095); see [`EncodeError`].
pub fn encode(model: &TcModel) -> Result<String, EncodeError> {
    check_model(model)?;
    let mut out = String::with_capacity(estimate_chars(model));
    encode_core(model, &mut out)?;
    out.push('.');
    let empty = VendorSet::new();
    encode_vendor_segment(
        DISCLOSED_VENDORS,
        model.vendors_disclosed.as_ref().unwrap_or(&empty),
        &mut out,
    );
    if let Some(allowed) = &model.vendors_allowed {
        out.push('.');
        encode_vendor_segment(ALLOWED_VENDORS, allowed, &mut out);
    }
    if let Some(publisher) = &model.publisher_tc {
        out.push('.');
        encode_publisher_tc(publisher, &mut out);
    }
    Ok(out)
}

fn estimate_chars(model: &TcModel) -> usize {
    let vendor_bits = model.vendor_consents.max_id() as usize
        + model.vendor_legitimate_interests.max_id() as usize;
    (CORE_FIXED_BITS + vendor_bits) / 6 + 64
}

fn check_model(m: &TcModel) -> Result<(), EncodeError> {
    check_width("cmpId", u64::from(m.cmp_id), 12)?;
    check_width("cmpVersion", u64::from(m.cmp_version), 12)?;
    check_width("consentScreen", u64::from(m.consent_screen), 6)?;
    check_width("vendorListVersion", u64::from(m.vendor_list_version), 12)?;
    check_width("policyVersion", u64::from(m.policy_version), 6)?;
    check_width("created", m.created.deciseconds(), 36)?;
    check_width("lastUpdated", m.last_updated.deciseconds(), 36)?;
    check_width(
        "publisherRestrictions",
        m.publisher_restrictions.len() as u64,
        12,
    )?;
    for r in &m.publisher_restrictions {
        check_restriction(r)?;
    }
    if let Some(p) = &m.publisher_tc {
        check_publisher_tc(p)?;
    }
    Ok(())
}

fn check_width(field: &'static str, value: u64, bits: u32) -> Result<(), EncodeError> {
    let max = (1u64 << bits) - 1;
    if value > max {
        return Err(EncodeError::OutOfRange {
            field,
            value,
            bits,
            max,
        });
    }
    Ok(())
}

fn check_restriction(r: &PublisherRestriction) -> Result<(), EncodeError> {
    if r.purpose_id == 0 {
        return Err(EncodeError::OutOfRange {
            field: "publisherRestrictions.purposeId",
            value: 0,
            bits: 6,
            max: 63,
        });
    }
    check_width(
        "publisherRestrictions.purposeId",
        u64::from(r.purpose_id),
        6,
    )?;
    let entries = r.vendors.ranges().count();
    if entries > 4095 {
        return Err(EncodeError::TooManyEntries {
            field: "publisherRestrictions.vendorIds",
            count: entries,
        });
    }
    Ok(())
}

fn check_publisher_tc(p: &PublisherTc) -> Result<(), EncodeError> {
    check_width("numCustomPurposes", u64::from(p.num_custom_purposes), 6)?;
    let limit = u32::from(p.num_custom_purposes);
    let past = p
        .custom_purpose_consents
        .iter()
        .chain(p.custom_purpose_legitimate_interests.iter())
        .find(|&id| id > limit);
    match past {
        Some(id) => Err(EncodeError::CustomPurposePastNum {
            id,
            num: p.num_custom_purposes,
        }),
        None => Ok(()),
    }
}

fn encode_core(m: &TcModel, out: &mut String) -> Result<(), EncodeError> {
    let mut w = BitWriter::with_capacity(estimate_chars(m) * 6);
    w.write(u64::from(TC_STRING_VERSION), 6);
    write_timestamp(&mut w, m.created);
    write_timestamp(&mut w, m.last_updated);
    w.write(u64::from(m.cmp_id), 12);
    w.write(u64::from(m.cmp_version), 12);
    w.write(u64::from(m.consent_screen), 6);
    write_letters(&mut w, m.consent_language);
    w.write(u64::from(m.vendor_list_version), 12);
    w.write(u64::from(m.policy_version), 6);
    w.write_bool(m.is_service_specific);
    w.write_bool(m.use_non_standard_texts);
    w.write(m.special_feature_optins.to_msb_bits(12), 12);
    w.write(m.purpose_consents.to_msb_bits(24), 24);
    w.write(m.purpose_legitimate_interests.to_msb_bits(24), 24);
    w.write_bool(m.purpose_one_treatment);
    write_letters(&mut w, m.publisher_country_code);
    write_vendor_section(&mut w, &m.vendor_consents);
    write_vendor_section(&mut w, &m.vendor_legitimate_interests);
    w.write(m.publisher_restrictions.len() as u64, 12);
    for r in &m.publisher_restrictions {
        w.write(u64::from(r.purpose_id), 6);
        w.write(u64::from(r.restriction_type.bits()), 2);
        write_range_entries(&mut w, &r.vendors);
    }
    w.finish_into(out);
    Ok(())
}

fn write_timestamp(w: &mut BitWriter, t: Timestamp) {
    let ds = t.deciseconds();
    w.write(ds >> 32, 4);
    w.write(ds & 0xFFFF_FFFF, 32);
}

fn write_letters(w: &mut BitWriter, letters: crate::Letters) {
    let (a, b) = letters.indexes();
    w.write(u64::from(a), 6);
    w.write(u64::from(b), 6);
}

fn encode_vendor_segment(segment_type: u64, set: &VendorSet, out: &mut String) {
    let mut w = BitWriter::with_capacity(20 + set.max_id() as usize);
    w.write(segment_type, 3);
    write_vendor_section(&mut w, set);
    w.finish_into(out);
}

/// The length in bits of the range encoding of `set` after IsRangeEncoding,
/// or `None` when it has more entries than the 12-bit count allows.
fn range_encoding_bits(set: &VendorSet) -> Option<usize> {
    let mut entries = 0usize;
    let mut bits = 12usize;
    for (start, end) in set.ranges() {
        entries += 1;
        bits += if start == end { 17 } else { 33 };
    }
    (entries <= 4095).then_some(bits)
}

/// Writes MaxVendorId, IsRangeEncoding and the shorter of the two encodings;
/// a tie goes to the bit field, which every decoder handles.
pub(crate) fn write_vendor_section(w: &mut BitWriter, set: &VendorSet) {
    let max = set.max_id();
    w.write(u64::from(max), 16);
    let use_ranges = range_encoding_bits(set).is_some_and(|bits| bits < max as usize);
    w.write_bool(use_ranges);
    if use_ranges {
        write_range_entries(w, set);
    } else {
        write_bit_field(w, set, max);
    }
}

fn write_bit_field(w: &mut BitWriter, set: &VendorSet, max: u32) {
    let mut remaining = max;
    for &word in set.words() {
        let take = remaining.min(64);
        w.write_lsb_first(word, take);
        remaining -= take;
    }
}

fn write_range_entries(w: &mut BitWriter, set: &VendorSet) {
    // Callers have checked the count fits 12 bits.
    w.write(set.ranges().count() as u64, 12);
    for (start, end) in set.ranges() {
        let is_range = start != end;
        w.write_bool(is_range);
        w.write(u64::from(start), 16);
        if is_range {
            w.write(u64::from(end), 16);
        }
    }
}

fn encode_publisher_tc(p: &PublisherTc, out: &mut String) {
    let mut w = BitWriter::with_capacity(64 + 2 * usize::from(p.num_custom_purposes));
    w.write(PUBLISHER_TC, 3);
    w.write(p.purpose_consents.to_msb_bits(24), 24);
    w.write(p.purpose_legitimate_interests.to_msb_bits(24), 24);
    let n = u32::from(p.num_custom_purposes);
    w.write(u64::from(n), 6);
    w.write_lsb_first(p.custom_purpose_consents.lsb_bits(), n);
    w.write_lsb_first(p.custom_purpose_legitimate_interests.lsb_bits(), n);
    w.finish_into(out);
}
