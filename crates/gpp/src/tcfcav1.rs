//! The `tcfcav1` section (id 5): IAB Canada's TCF, as the reference codes
//! it: a core segment, the publisher purposes segment (type 3, always
//! written) and the disclosed vendors segment (type 1, written when it
//! lists a vendor). Vendor lists are `OptimizedRange`s with Fibonacci-coded
//! ranges; publisher restrictions an array of them.
//!
//! Invariants: vendor ids are 1..=65535 (the 16-bit `MaxVendorId`), kept
//! sorted without duplicates after decoding; segments are recognised by
//! their first character as the reference does (A-H core, I-P disclosed
//! vendors, Y-Z and a-f publisher purposes), a later segment of the same
//! type replacing an earlier one; the core segment is required.

use crate::bits::{check_base64, fibonacci_ranges_len, BitWriter, FieldReader};
use crate::GppError;
use nexaguard_tcf::{Letters, Timestamp};

/// Section id.
pub const ID: u8 = 5;
/// API prefix.
pub const NAME: &str = "tcfcav1";

/// One publisher restriction (`RangeEntry` in the reference: key, type, ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PubRestriction {
    /// `key`: the purpose id (6 bits).
    pub purpose_id: u8,
    /// `type`: the restriction type (2 bits).
    pub restriction_type: u8,
    /// `ids`: the vendors restricted.
    pub vendor_ids: Vec<u16>,
}

/// The `tcfcav1` section. Field docs give the reference's names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcfCaV1 {
    /// `Version` (6 bits; 1).
    pub version: u8,
    /// `Created`.
    pub created: Timestamp,
    /// `LastUpdated`.
    pub last_updated: Timestamp,
    /// `CmpId` (12 bits).
    pub cmp_id: u16,
    /// `CmpVersion` (12 bits).
    pub cmp_version: u16,
    /// `ConsentScreen` (6 bits).
    pub consent_screen: u8,
    /// `ConsentLanguage`.
    pub consent_language: Letters,
    /// `VendorListVersion` (12 bits).
    pub vendor_list_version: u16,
    /// `TcfPolicyVersion` (6 bits).
    pub tcf_policy_version: u8,
    /// `UseNonStandardStacks`.
    pub use_non_standard_stacks: bool,
    /// `SpecialFeatureExpressConsent`: special features 1..=12.
    pub special_feature_express_consent: [bool; 12],
    /// `PurposesExpressConsent`: purposes 1..=24.
    pub purposes_express_consent: [bool; 24],
    /// `PurposesImpliedConsent`: purposes 1..=24.
    pub purposes_implied_consent: [bool; 24],
    /// `VendorExpressConsent`.
    pub vendor_express_consent: Vec<u16>,
    /// `VendorImpliedConsent`.
    pub vendor_implied_consent: Vec<u16>,
    /// `PubRestrictions`.
    pub pub_restrictions: Vec<PubRestriction>,
    /// `PubPurposesExpressConsent`.
    pub pub_purposes_express_consent: [bool; 24],
    /// `PubPurposesImpliedConsent`.
    pub pub_purposes_implied_consent: [bool; 24],
    /// `NumCustomPurposes` (6 bits).
    pub num_custom_purposes: u8,
    /// `CustomPurposesExpressConsent`: `NumCustomPurposes` flags.
    pub custom_purposes_express_consent: Vec<bool>,
    /// `CustomPurposesImpliedConsent`: `NumCustomPurposes` flags.
    pub custom_purposes_implied_consent: Vec<bool>,
    /// `DisclosedVendors`.
    pub disclosed_vendors: Vec<u16>,
}

impl Default for TcfCaV1 {
    /// The reference's defaults, with both dates at the epoch (the
    /// reference puts the current time there; [`crate::json`] does too).
    fn default() -> Self {
        Self {
            version: 1,
            created: Timestamp::default(),
            last_updated: Timestamp::default(),
            cmp_id: 0,
            cmp_version: 0,
            consent_screen: 0,
            consent_language: Letters::parse("EN").unwrap_or_default(),
            vendor_list_version: 0,
            tcf_policy_version: 2,
            use_non_standard_stacks: false,
            special_feature_express_consent: [false; 12],
            purposes_express_consent: [false; 24],
            purposes_implied_consent: [false; 24],
            vendor_express_consent: Vec::new(),
            vendor_implied_consent: Vec::new(),
            pub_restrictions: Vec::new(),
            pub_purposes_express_consent: [false; 24],
            pub_purposes_implied_consent: [false; 24],
            num_custom_purposes: 0,
            custom_purposes_express_consent: Vec::new(),
            custom_purposes_implied_consent: Vec::new(),
            disclosed_vendors: Vec::new(),
        }
    }
}

/// The publisher purposes segment's type.
pub const PUB_PURPOSES_SEGMENT_TYPE: u8 = 3;
/// The disclosed vendors segment's type.
pub const DISCLOSED_VENDORS_SEGMENT_TYPE: u8 = 1;

/// Largest vendor id (the 16-bit `MaxVendorId`).
const MAX_VENDOR: u64 = 65535;

fn flags<const N: usize>(
    r: &mut FieldReader<'_>,
    field: &'static str,
) -> Result<[bool; N], GppError> {
    let mut out = [false; N];
    if r.r.remaining() < N {
        return Err(r.truncated(field, N));
    }
    for b in out.iter_mut() {
        *b = r.boolean(field)?;
    }
    Ok(out)
}

/// Reads an `OptimizedRange` with Fibonacci-coded ranges.
fn optimized_range(r: &mut FieldReader<'_>, field: &'static str) -> Result<Vec<u16>, GppError> {
    let max = r.int(field, 16)?;
    let mut ids = Vec::new();
    if r.boolean(field)? {
        let (section, segment) = (r.section, r.segment);
        r.fibonacci_ranges(field, |start, end, bit| {
            if end > MAX_VENDOR {
                return Err(GppError::InvalidFibonacci {
                    section,
                    field,
                    segment,
                    bit,
                    reason: "vendor id past 65535",
                });
            }
            ids.extend((start..=end).map(|id| id as u16));
            Ok(())
        })?;
    } else {
        let max = max as usize;
        if r.r.remaining() < max {
            return Err(r.truncated(field, max));
        }
        for i in 0..max {
            if r.boolean(field)? {
                ids.push((i + 1) as u16);
            }
        }
    }
    Ok(ids)
}

fn restrictions(r: &mut FieldReader<'_>) -> Result<Vec<PubRestriction>, GppError> {
    const F: &str = "PubRestrictions";
    let count = r.int(F, 12)?;
    let mut out = Vec::new();
    for _ in 0..count {
        let purpose_id = r.int(F, 6)? as u8;
        let restriction_type = r.int(F, 2)? as u8;
        let vendor_ids = optimized_range(r, F)?;
        out.push(PubRestriction {
            purpose_id,
            restriction_type,
            vendor_ids,
        });
    }
    Ok(out)
}

fn letters(r: &mut FieldReader<'_>, field: &'static str) -> Result<Letters, GppError> {
    let at = r.r.pos();
    let a = r.int(field, 6)?;
    let b = r.int(field, 6)?;
    let bad = |v: u64| GppError::InvalidValue {
        section: NAME,
        field,
        bit: Some(at),
        reason: format!("letter index {v} is past Z (25)"),
    };
    let letter = |v: u64| {
        if v < 26 {
            Ok(char::from(b'A' + v as u8))
        } else {
            Err(bad(v))
        }
    };
    let s: String = [letter(a)?, letter(b)?].iter().collect();
    Letters::parse(&s).map_err(|_| bad(a.max(b)))
}

fn timestamp(r: &mut FieldReader<'_>, field: &'static str) -> Result<Timestamp, GppError> {
    let v = r.int(field, 36)?;
    Ok(Timestamp::from_deciseconds(v).unwrap_or_default())
}

impl TcfCaV1 {
    /// Reads the section's text; `offset` is its position in the whole string.
    pub fn decode(s: &str, offset: usize) -> Result<Self, GppError> {
        let mut model = TcfCaV1::default();
        let mut has_core = false;
        let mut at = offset;
        for (index, seg) in s.split('.').enumerate() {
            let seg_offset = at;
            at += seg.len() + 1;
            let Some(first) = seg.chars().next() else {
                continue;
            };
            check_base64(seg, NAME, seg_offset)?;
            match first {
                'A'..='H' => {
                    model.decode_core(seg, index)?;
                    has_core = true;
                }
                'I'..='P' => {
                    let mut r = FieldReader::new(seg, NAME, index);
                    r.int("DisclosedVendorsSegmentType", 3)?;
                    model.disclosed_vendors = optimized_range(&mut r, "DisclosedVendors")?;
                }
                'Y' | 'Z' | 'a'..='f' => model.decode_publisher(seg, index)?,
                _ => {
                    return Err(GppError::UnknownSegment {
                        section: NAME,
                        index,
                        first,
                    })
                }
            }
        }
        if !has_core {
            return Err(GppError::MissingCoreSegment { section: NAME });
        }
        Ok(model)
    }

    fn decode_core(&mut self, seg: &str, index: usize) -> Result<(), GppError> {
        let mut r = FieldReader::new(seg, NAME, index);
        self.version = r.int("Version", 6)? as u8;
        self.created = timestamp(&mut r, "Created")?;
        self.last_updated = timestamp(&mut r, "LastUpdated")?;
        self.cmp_id = r.int("CmpId", 12)? as u16;
        self.cmp_version = r.int("CmpVersion", 12)? as u16;
        self.consent_screen = r.int("ConsentScreen", 6)? as u8;
        self.consent_language = letters(&mut r, "ConsentLanguage")?;
        self.vendor_list_version = r.int("VendorListVersion", 12)? as u16;
        self.tcf_policy_version = r.int("TcfPolicyVersion", 6)? as u8;
        self.use_non_standard_stacks = r.boolean("UseNonStandardStacks")?;
        self.special_feature_express_consent = flags(&mut r, "SpecialFeatureExpressConsent")?;
        self.purposes_express_consent = flags(&mut r, "PurposesExpressConsent")?;
        self.purposes_implied_consent = flags(&mut r, "PurposesImpliedConsent")?;
        self.vendor_express_consent = optimized_range(&mut r, "VendorExpressConsent")?;
        self.vendor_implied_consent = optimized_range(&mut r, "VendorImpliedConsent")?;
        // The reference reads PubRestrictions leniently: a string that ends
        // inside it has none.
        self.pub_restrictions = match restrictions(&mut r) {
            Ok(list) => list,
            Err(GppError::Truncated { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(())
    }

    fn decode_publisher(&mut self, seg: &str, index: usize) -> Result<(), GppError> {
        let mut r = FieldReader::new(seg, NAME, index);
        r.int("PubPurposesSegmentType", 3)?;
        self.pub_purposes_express_consent = flags(&mut r, "PubPurposesExpressConsent")?;
        self.pub_purposes_implied_consent = flags(&mut r, "PubPurposesImpliedConsent")?;
        let n = r.int("NumCustomPurposes", 6)? as u8;
        self.num_custom_purposes = n;
        let n = usize::from(n);
        for (field, out) in [
            (
                "CustomPurposesExpressConsent",
                &mut self.custom_purposes_express_consent,
            ),
            (
                "CustomPurposesImpliedConsent",
                &mut self.custom_purposes_implied_consent,
            ),
        ] {
            if r.r.remaining() < n {
                return Err(r.truncated(field, n));
            }
            out.clear();
            for _ in 0..n {
                out.push(r.boolean(field)?);
            }
        }
        Ok(())
    }

    /// Appends the section's text: core, publisher purposes, and disclosed
    /// vendors when there are any.
    pub fn encode(&self, out: &mut String) -> Result<(), GppError> {
        let mut w = BitWriter::new(out);
        int(&mut w, "Version", self.version.into(), 6)?;
        w.int(self.created.deciseconds(), 36);
        w.int(self.last_updated.deciseconds(), 36);
        int(&mut w, "CmpId", self.cmp_id.into(), 12)?;
        int(&mut w, "CmpVersion", self.cmp_version.into(), 12)?;
        int(&mut w, "ConsentScreen", self.consent_screen.into(), 6)?;
        for b in self.consent_language.as_str().bytes() {
            w.int(u64::from(b - b'A'), 6);
        }
        int(
            &mut w,
            "VendorListVersion",
            self.vendor_list_version.into(),
            12,
        )?;
        int(
            &mut w,
            "TcfPolicyVersion",
            self.tcf_policy_version.into(),
            6,
        )?;
        w.bit(self.use_non_standard_stacks);
        write_flags(&mut w, &self.special_feature_express_consent);
        write_flags(&mut w, &self.purposes_express_consent);
        write_flags(&mut w, &self.purposes_implied_consent);
        write_optimized_range(&mut w, "VendorExpressConsent", &self.vendor_express_consent)?;
        write_optimized_range(&mut w, "VendorImpliedConsent", &self.vendor_implied_consent)?;
        int(
            &mut w,
            "PubRestrictions",
            self.pub_restrictions.len() as u64,
            12,
        )?;
        for r in &self.pub_restrictions {
            int(&mut w, "PubRestrictions", r.purpose_id.into(), 6)?;
            int(&mut w, "PubRestrictions", r.restriction_type.into(), 2)?;
            write_optimized_range(&mut w, "PubRestrictions", &r.vendor_ids)?;
        }
        w.finish();

        out.push('.');
        let mut w = BitWriter::new(out);
        w.int(PUB_PURPOSES_SEGMENT_TYPE.into(), 3);
        write_flags(&mut w, &self.pub_purposes_express_consent);
        write_flags(&mut w, &self.pub_purposes_implied_consent);
        int(
            &mut w,
            "NumCustomPurposes",
            self.num_custom_purposes.into(),
            6,
        )?;
        let n = usize::from(self.num_custom_purposes);
        for (field, list) in [
            (
                "CustomPurposesExpressConsent",
                &self.custom_purposes_express_consent,
            ),
            (
                "CustomPurposesImpliedConsent",
                &self.custom_purposes_implied_consent,
            ),
        ] {
            if list.len() > n {
                return Err(GppError::InvalidField {
                    section: NAME,
                    field,
                    reason: format!("{} flags for NumCustomPurposes {n}", list.len()),
                });
            }
            for i in 0..n {
                w.bit(list.get(i).copied().unwrap_or(false));
            }
        }
        w.finish();

        if !self.disclosed_vendors.is_empty() {
            out.push('.');
            let mut w = BitWriter::new(out);
            w.int(DISCLOSED_VENDORS_SEGMENT_TYPE.into(), 3);
            write_optimized_range(&mut w, "DisclosedVendors", &self.disclosed_vendors)?;
            w.finish();
        }
        Ok(())
    }
}

fn int(w: &mut BitWriter<'_>, field: &'static str, v: u64, bits: u32) -> Result<(), GppError> {
    if v >> bits != 0 {
        return Err(GppError::ValueTooLarge {
            section: NAME,
            field,
            value: v,
            bits,
        });
    }
    w.int(v, bits);
    Ok(())
}

fn write_flags(w: &mut BitWriter<'_>, flags: &[bool]) {
    for &b in flags {
        w.bit(b);
    }
}

/// Writes ids as the reference's `EncodableOptimizedFibonacciRange`: the
/// Fibonacci range form when it is no longer than the bitfield.
fn write_optimized_range(
    w: &mut BitWriter<'_>,
    field: &'static str,
    ids: &[u16],
) -> Result<(), GppError> {
    let mut sorted: Vec<u64> = ids.iter().map(|&id| u64::from(id)).collect();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.first() == Some(&0) {
        return Err(GppError::OutOfRange {
            section: NAME,
            field,
            value: 0,
            min: 1,
            max: MAX_VENDOR as i64,
        });
    }
    let max = sorted.last().copied().unwrap_or(0);
    w.int(max, 16);
    if fibonacci_ranges_len(&sorted) as u64 <= max {
        w.bit(true);
        crate::bits::write_fibonacci_ranges(w, &sorted);
    } else {
        w.bit(false);
        let mut next = sorted.iter().peekable();
        for id in 1..=max {
            let set = next.peek() == Some(&&id);
            if set {
                next.next();
            }
            w.bit(set);
        }
    }
    Ok(())
}
