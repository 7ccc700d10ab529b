//! [`GppError`]: why a GPP string could not be decoded, a model encoded, or
//! a JSON document read. Each error names the section (its API prefix, e.g.
//! `usnat`), the field (the reference library's field name) and, when
//! decoding, the bit offset in its segment, so a debug tool can point at it.
//! [`GppError::code`] is a stable snake_case code for JSON error bodies.

/// Why a GPP string, a model or a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GppError {
    /// The input was empty.
    #[error("empty input: a GPP string starts with the header section \"DB...\"")]
    Empty,
    /// Neither a GPP string (header `DB...`) nor a bare TC string (`C...`).
    #[error("not a GPP string: it must start with the version 1 header \"DB\" (or be a TCF v2 string starting with \"C\")")]
    NotGpp,
    /// A character outside base64url (padding `=` included).
    #[error("invalid character {character:?} at position {position} in {section}: only base64url (A-Z a-z 0-9 - _) is allowed")]
    InvalidCharacter {
        /// The section (`header` for the header).
        section: &'static str,
        /// The character.
        character: char,
        /// 0-based character position in the whole string.
        position: usize,
    },
    /// The header lists a different number of sections than the string has.
    #[error("the header lists {declared} section ids but the string has {found} sections")]
    SectionCountMismatch {
        /// Section ids in the header.
        declared: u64,
        /// Sections after the header.
        found: usize,
    },
    /// A section between `~` separators is blank.
    #[error("section {index} (id {id}) is empty")]
    EmptySection {
        /// 1-based index of the section after the header.
        index: usize,
        /// The id the header gives it.
        id: u64,
    },
    /// The string ended inside a field.
    #[error("truncated: {section} field {field} at bit {bit} of segment {segment} needs {needed} bits, {available} left")]
    Truncated {
        /// The section.
        section: &'static str,
        /// The field being read.
        field: &'static str,
        /// 0-based segment index in the section (0 = core).
        segment: usize,
        /// Bit offset of the field in its segment.
        bit: usize,
        /// Bits the field needs (at least).
        needed: usize,
        /// Bits left in the segment.
        available: usize,
    },
    /// A Fibonacci-coded integer too large for any id, or a zero id.
    #[error("invalid Fibonacci-coded value in {section} field {field} at bit {bit} of segment {segment}: {reason}")]
    InvalidFibonacci {
        /// The section.
        section: &'static str,
        /// The field.
        field: &'static str,
        /// 0-based segment index in the section.
        segment: usize,
        /// Bit offset where the value starts.
        bit: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A decoded value that the field cannot hold (a letter past Z, a US
    /// Privacy character other than Y, N or -).
    #[error("invalid value in {section} field {field}{}: {reason}", bit.map(|b| format!(" at bit {b}")).unwrap_or_default())]
    InvalidValue {
        /// The section.
        section: &'static str,
        /// The field.
        field: &'static str,
        /// Bit offset in the segment, for bit-coded sections.
        bit: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// A TCF segment whose type is not one the section defines.
    #[error("{section}: segment {index} has unknown segment type (first character {first:?})")]
    UnknownSegment {
        /// The section.
        section: &'static str,
        /// 0-based segment index.
        index: usize,
        /// Its first character.
        first: char,
    },
    /// A TCF CA section without its core segment.
    #[error("{section}: the core segment is missing")]
    MissingCoreSegment {
        /// The section.
        section: &'static str,
    },
    /// The `tcfeuv2` section is not a valid TC string.
    #[error("tcfeuv2: {0}")]
    Tcf(#[from] nexaguard_tcf::DecodeError),
    /// The `tcfeuv2` model cannot be encoded.
    #[error("tcfeuv2: {0}")]
    TcfEncode(#[from] nexaguard_tcf::EncodeError),
    /// `IsServiceSpecific` false, which the reference refuses to encode.
    #[error("tcfeuv2: IsServiceSpecific must be true (global consent is no longer part of TCF)")]
    NotServiceSpecific,
    /// A value does not fit its field's bits.
    #[error("{section} field {field} is {value}, which does not fit in {bits} bits")]
    ValueTooLarge {
        /// The section.
        section: &'static str,
        /// The field.
        field: &'static str,
        /// The value.
        value: u64,
        /// The field's width.
        bits: u32,
    },
    /// The same section twice in one model.
    #[error("section {name} (id {id}) appears twice")]
    DuplicateSection {
        /// Section id.
        id: u8,
        /// Section name.
        name: &'static str,
    },
    /// The JSON document is not valid JSON or not an object of the right shape.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A section name the JSON form does not know.
    #[error("unknown section {0:?}")]
    UnknownSection(String),
    /// A field the section does not have.
    #[error("{section} has no field {field:?}")]
    UnknownField {
        /// The section (`gpp` for the top level).
        section: &'static str,
        /// The field given.
        field: String,
    },
    /// A field of the wrong JSON type or shape.
    #[error("{section} field {field}: {reason}")]
    InvalidField {
        /// The section.
        section: &'static str,
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A value outside the field's valid range (the reference's validators).
    #[error("{section} field {field} is {value}, outside {min}..={max}")]
    OutOfRange {
        /// The section.
        section: &'static str,
        /// The field.
        field: &'static str,
        /// The value given.
        value: i64,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
}

impl GppError {
    /// A stable machine-readable code, used in JSON error bodies. A
    /// `tcfeuv2` section's TC string errors keep the `nexaguard_tcf` codes.
    pub fn code(&self) -> &'static str {
        match self {
            GppError::Empty => "empty",
            GppError::NotGpp => "not_gpp_string",
            GppError::InvalidCharacter { .. } => "invalid_character",
            GppError::SectionCountMismatch { .. } => "section_count_mismatch",
            GppError::EmptySection { .. } => "empty_section",
            GppError::Truncated { .. } => "truncated",
            GppError::InvalidFibonacci { .. } => "invalid_fibonacci",
            GppError::InvalidValue { .. } => "invalid_value",
            GppError::UnknownSegment { .. } => "unknown_segment_type",
            GppError::MissingCoreSegment { .. } => "missing_core_segment",
            GppError::Tcf(e) => e.code(),
            GppError::TcfEncode(e) => e.code(),
            GppError::NotServiceSpecific => "not_service_specific",
            GppError::ValueTooLarge { .. } => "value_too_large",
            GppError::DuplicateSection { .. } => "duplicate_section",
            GppError::InvalidJson(_) => "invalid_json",
            GppError::UnknownSection(_) => "unknown_section",
            GppError::UnknownField { .. } => "unknown_field",
            GppError::InvalidField { .. } => "invalid_field",
            GppError::OutOfRange { .. } => "value_out_of_range",
        }
    }
}
