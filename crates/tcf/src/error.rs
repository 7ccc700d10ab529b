//! Typed errors of decoding and encoding. Each names the field and, when
//! decoding, the bit offset in its segment, so a debug tool can point at it.

use std::fmt;

/// Which segment of a TC string an error is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The core segment (always first).
    Core,
    /// Segment type 1: disclosed vendors.
    DisclosedVendors,
    /// Segment type 2: allowed vendors (deprecated).
    AllowedVendors,
    /// Segment type 3: publisher TC.
    PublisherTc,
    /// A segment whose type has not been read yet (its index in the string, 0-based).
    Unidentified(usize),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Core => f.write_str("core segment"),
            Segment::DisclosedVendors => f.write_str("disclosed vendors segment"),
            Segment::AllowedVendors => f.write_str("allowed vendors segment"),
            Segment::PublisherTc => f.write_str("publisher TC segment"),
            Segment::Unidentified(i) => write!(f, "segment {}", i + 1),
        }
    }
}

/// Where in the string something went wrong: a segment and a bit offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The segment.
    pub segment: Segment,
    /// Bit offset from the start of the segment.
    pub bit: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bit {} of the {}", self.bit, self.segment)
    }
}

/// Why a TC string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input was empty, or a segment between dots was.
    #[error("empty segment at index {index} (a TC string is dot-separated base64url segments)")]
    EmptySegment {
        /// 0-based index of the empty segment.
        index: usize,
    },
    /// A character outside the base64url alphabet (padding `=` included).
    #[error("invalid character {character:?} at position {position}: only base64url (A-Z a-z 0-9 - _) without padding is allowed")]
    InvalidCharacter {
        /// The character.
        character: char,
        /// 0-based character position in the whole string.
        position: usize,
    },
    /// The string ended inside a field.
    #[error("truncated: field {field} at {at} needs {needed} bits, {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Where it starts.
        at: Position,
        /// Bits the field needs.
        needed: usize,
        /// Bits left in the segment.
        available: usize,
    },
    /// Version other than 2.
    #[error("unsupported TC string version {found} at {at}: only version 2 is supported")]
    UnsupportedVersion {
        /// The version found.
        found: u8,
        /// Where (always bit 0 of the core).
        at: Position,
    },
    /// A letter field held a value past Z.
    #[error("field {field} at {at} holds letter index {value}, past Z (25)")]
    InvalidLetter {
        /// ConsentLanguage or PublisherCC.
        field: &'static str,
        /// Where the bad letter starts.
        at: Position,
        /// The 6-bit value.
        value: u8,
    },
    /// A segment type other than 1, 2 or 3 after the core.
    #[error("unknown segment type {value} at {at}")]
    UnknownSegmentType {
        /// The 3-bit type.
        value: u8,
        /// Where.
        at: Position,
    },
    /// The same segment type twice.
    #[error("repeated {segment}")]
    RepeatedSegment {
        /// The repeated segment.
        segment: Segment,
    },
    /// A range entry whose end is below its start.
    #[error("reversed range in {field} at {at}: {start}-{end}")]
    ReversedRange {
        /// The section.
        field: &'static str,
        /// Where the entry starts.
        at: Position,
        /// Start id.
        start: u32,
        /// End id.
        end: u32,
    },
    /// Vendor id 0, which names no vendor.
    #[error("vendor id 0 in {field} at {at}: vendor ids start at 1")]
    VendorIdZero {
        /// The section.
        field: &'static str,
        /// Where.
        at: Position,
    },
    /// A range entry past the section's MaxVendorId.
    #[error("vendor id {id} in {field} at {at} is past the declared MaxVendorId {max}")]
    VendorIdPastMax {
        /// The section.
        field: &'static str,
        /// Where.
        at: Position,
        /// The id.
        id: u32,
        /// The declared maximum.
        max: u32,
    },
    /// Restriction type 3 (undefined).
    #[error("undefined restriction type 3 at {at}")]
    InvalidRestrictionType {
        /// Where.
        at: Position,
    },
    /// A publisher restriction for purpose 0.
    #[error("publisher restriction for purpose 0 at {at}: purpose ids start at 1")]
    InvalidPurposeId {
        /// Where.
        at: Position,
    },
}

impl DecodeError {
    /// A stable machine-readable code, used in JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::EmptySegment { .. } => "empty_segment",
            DecodeError::InvalidCharacter { .. } => "invalid_character",
            DecodeError::Truncated { .. } => "truncated",
            DecodeError::UnsupportedVersion { .. } => "unsupported_version",
            DecodeError::InvalidLetter { .. } => "invalid_letter",
            DecodeError::UnknownSegmentType { .. } => "unknown_segment_type",
            DecodeError::RepeatedSegment { .. } => "repeated_segment",
            DecodeError::ReversedRange { .. } => "reversed_range",
            DecodeError::VendorIdZero { .. } => "vendor_id_zero",
            DecodeError::VendorIdPastMax { .. } => "vendor_id_past_max",
            DecodeError::InvalidRestrictionType { .. } => "invalid_restriction_type",
            DecodeError::InvalidPurposeId { .. } => "invalid_purpose_id",
        }
    }
}

/// Why a model could not be encoded: a value does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A number too large for its field's width.
    #[error("field {field} is {value}, which does not fit in {bits} bits (max {max})")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// Field width.
        bits: u32,
        /// Largest allowed value.
        max: u64,
    },
    /// A custom purpose id above NumCustomPurposes.
    #[error("custom purpose {id} is above numCustomPurposes {num}")]
    CustomPurposePastNum {
        /// The id.
        id: u32,
        /// NumCustomPurposes.
        num: u8,
    },
    /// More than 4095 entries in a 12-bit count.
    #[error("field {field} needs {count} entries, more than the 4095 its 12-bit count allows")]
    TooManyEntries {
        /// The field.
        field: &'static str,
        /// Entries needed.
        count: usize,
    },
}

impl EncodeError {
    /// A stable machine-readable code, used in JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            EncodeError::OutOfRange { .. } => "out_of_range",
            EncodeError::CustomPurposePastNum { .. } => "custom_purpose_past_num",
            EncodeError::TooManyEntries { .. } => "too_many_entries",
        }
    }
}
