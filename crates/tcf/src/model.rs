//! The decoded content of a TC string: [`TcModel`] and its parts.

use crate::idset::{IdSet, VendorSet};
use std::fmt;

/// The only TC string format version this library reads and writes.
pub const TC_STRING_VERSION: u8 = 2;

/// The TCF policy version of TCF v2.3, written by default.
pub const CURRENT_POLICY_VERSION: u8 = 5;

/// Purposes: ids 1..=24 (the core segment has 24 purpose bits).
pub type PurposeSet = IdSet<24>;
/// Special features: ids 1..=12.
pub type SpecialFeatureSet = IdSet<12>;
/// Publisher custom purposes: ids 1..=63 (NumCustomPurposes is 6 bits).
pub type CustomPurposeSet = IdSet<63>;

/// A point in time as a TC string stores it: deciseconds since the Unix epoch,
/// in 36 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The largest value the 36-bit field can hold.
    pub const MAX_DECISECONDS: u64 = (1 << 36) - 1;

    /// From deciseconds since the epoch; `None` past the 36-bit field.
    pub fn from_deciseconds(ds: u64) -> Option<Self> {
        (ds <= Self::MAX_DECISECONDS).then_some(Self(ds))
    }

    /// From milliseconds since the epoch, truncated to deciseconds.
    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        u64::try_from(ms / 100)
            .ok()
            .and_then(Self::from_deciseconds)
    }

    /// Deciseconds since the epoch.
    pub fn deciseconds(self) -> u64 {
        self.0
    }

    /// Milliseconds since the epoch.
    pub fn unix_millis(self) -> i64 {
        // 36 bits of deciseconds times 100 fits easily in i64.
        self.0 as i64 * 100
    }

    /// Seconds since the epoch.
    pub fn unix_seconds(self) -> i64 {
        (self.0 / 10) as i64
    }
}

/// A two-letter code (language or country) stored as two 6-bit letters, A=0.
///
/// Always two ASCII uppercase letters: construction rejects anything else.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Letters([u8; 2]);

/// A two-letter code was not two letters A-Z.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a two-letter code (A-Z)")]
pub struct InvalidLetters(pub String);

impl Letters {
    /// From a string of two ASCII letters, any case.
    pub fn parse(s: &str) -> Result<Self, InvalidLetters> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(InvalidLetters(s.to_owned())),
        }
    }

    /// From two 6-bit letter indexes (0 = A); `None` past Z.
    pub(crate) fn from_indexes(a: u8, b: u8) -> Option<Self> {
        (a < 26 && b < 26).then_some(Self([b'A' + a, b'A' + b]))
    }

    /// The two 6-bit letter indexes (0 = A).
    pub(crate) fn indexes(self) -> (u8, u8) {
        (self.0[0] - b'A', self.0[1] - b'A')
    }

    /// The code as an uppercase string slice.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII uppercase letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for Letters {
    fn default() -> Self {
        Self(*b"AA")
    }
}

/// How a publisher restricts a vendor for one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RestrictionType {
    /// 0: the vendor may not process for this purpose.
    NotAllowed,
    /// 1: the vendor may process only with consent.
    RequireConsent,
    /// 2: the vendor may process only on legitimate interest.
    RequireLegitimateInterest,
}

impl RestrictionType {
    /// The 2-bit value in the string; 3 is undefined and has no variant.
    pub fn from_bits(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::NotAllowed),
            1 => Some(Self::RequireConsent),
            2 => Some(Self::RequireLegitimateInterest),
            _ => None,
        }
    }

    /// The 2-bit value written to the string.
    pub fn bits(self) -> u8 {
        match self {
            Self::NotAllowed => 0,
            Self::RequireConsent => 1,
            Self::RequireLegitimateInterest => 2,
        }
    }
}

/// One publisher restriction: a purpose, a restriction type, and the vendors
/// it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherRestriction {
    /// The restricted purpose (1..=63; the field is 6 bits).
    pub purpose_id: u8,
    /// What the restriction requires.
    pub restriction_type: RestrictionType,
    /// The vendors restricted.
    pub vendors: VendorSet,
}

/// The publisher TC segment: the publisher's own purposes and custom purposes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublisherTc {
    /// PubPurposesConsent.
    pub purpose_consents: PurposeSet,
    /// PubPurposesLITransparency.
    pub purpose_legitimate_interests: PurposeSet,
    /// NumCustomPurposes (0..=63); the custom sets hold no id above it.
    pub num_custom_purposes: u8,
    /// CustomPurposesConsent.
    pub custom_purpose_consents: CustomPurposeSet,
    /// CustomPurposesLITransparency.
    pub custom_purpose_legitimate_interests: CustomPurposeSet,
}

/// Everything a TC string carries.
///
/// Field names follow the spec; [`crate::json`] maps them to the property
/// names of the IAB reference library's `TCModel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcModel {
    /// Created (deciseconds).
    pub created: Timestamp,
    /// LastUpdated (deciseconds).
    pub last_updated: Timestamp,
    /// CmpId (12 bits).
    pub cmp_id: u16,
    /// CmpVersion (12 bits).
    pub cmp_version: u16,
    /// ConsentScreen (6 bits).
    pub consent_screen: u8,
    /// ConsentLanguage.
    pub consent_language: Letters,
    /// VendorListVersion (12 bits).
    pub vendor_list_version: u16,
    /// TcfPolicyVersion (6 bits).
    pub policy_version: u8,
    /// IsServiceSpecific.
    pub is_service_specific: bool,
    /// UseNonStandardTexts.
    pub use_non_standard_texts: bool,
    /// SpecialFeatureOptIns.
    pub special_feature_optins: SpecialFeatureSet,
    /// PurposesConsent.
    pub purpose_consents: PurposeSet,
    /// PurposesLITransparency.
    pub purpose_legitimate_interests: PurposeSet,
    /// PurposeOneTreatment.
    pub purpose_one_treatment: bool,
    /// PublisherCC.
    pub publisher_country_code: Letters,
    /// Vendor consent section.
    pub vendor_consents: VendorSet,
    /// Vendor legitimate interest section.
    pub vendor_legitimate_interests: VendorSet,
    /// Publisher restrictions, in the order of the string.
    pub publisher_restrictions: Vec<PublisherRestriction>,
    /// The disclosed vendors segment; `None` when the string had none
    /// (allowed before v2.3; the encoder always writes one).
    pub vendors_disclosed: Option<VendorSet>,
    /// The allowed vendors segment (type 2), deprecated but still read so
    /// that no signal is lost on a round trip.
    pub vendors_allowed: Option<VendorSet>,
    /// The publisher TC segment.
    pub publisher_tc: Option<PublisherTc>,
}

impl Default for TcModel {
    fn default() -> Self {
        Self {
            created: Timestamp::default(),
            last_updated: Timestamp::default(),
            cmp_id: 0,
            cmp_version: 0,
            consent_screen: 0,
            consent_language: Letters(*b"EN"),
            vendor_list_version: 0,
            policy_version: CURRENT_POLICY_VERSION,
            is_service_specific: false,
            use_non_standard_texts: false,
            special_feature_optins: SpecialFeatureSet::new(),
            purpose_consents: PurposeSet::new(),
            purpose_legitimate_interests: PurposeSet::new(),
            purpose_one_treatment: false,
            publisher_country_code: Letters(*b"AA"),
            vendor_consents: VendorSet::new(),
            vendor_legitimate_interests: VendorSet::new(),
            publisher_restrictions: Vec::new(),
            vendors_disclosed: None,
            vendors_allowed: None,
            publisher_tc: None,
        }
    }
}

impl TcModel {
    /// Decodes a TC string; see [`crate::decode`].
    pub fn decode(tc: &str) -> Result<Self, crate::DecodeError> {
        crate::decode::decode(tc)
    }

    /// Encodes this model; see [`crate::encode`].
    pub fn encode(&self) -> Result<String, crate::EncodeError> {
        crate::encode::encode(self)
    }

    /// The restriction type a publisher set for `vendor_id` and `purpose_id`, if any.
    pub fn restriction_for(&self, purpose_id: u8, vendor_id: u32) -> Option<RestrictionType> {
        self.publisher_restrictions
            .iter()
            .find(|r| r.purpose_id == purpose_id && r.vendors.contains(vendor_id))
            .map(|r| r.restriction_type)
    }
}
