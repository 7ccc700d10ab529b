//! The `uspv1` section (id 6): the IAB US Privacy string, four plain
//! characters (`1YN-`), not base64.
//!
//! Invariant: a [`UspV1`] holds a version 0..=9 (one digit) and three flags
//! that are each `Y`, `N` or `-`. The reference reads any character into the
//! flags; this decoder refuses anything but those three, as the US Privacy
//! specification defines them.

use crate::GppError;

/// Section id.
pub const ID: u8 = 6;
/// API prefix.
pub const NAME: &str = "uspv1";

/// One US Privacy flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UspFlag {
    /// `Y`: yes.
    Yes,
    /// `N`: no.
    No,
    /// `-`: not applicable (the reference's default).
    #[default]
    NotApplicable,
}

impl UspFlag {
    /// The character in the string.
    pub fn as_char(self) -> char {
        match self {
            UspFlag::Yes => 'Y',
            UspFlag::No => 'N',
            UspFlag::NotApplicable => '-',
        }
    }

    /// From its character.
    pub fn from_char(c: char) -> Option<Self> {
        match c {
            'Y' => Some(UspFlag::Yes),
            'N' => Some(UspFlag::No),
            '-' => Some(UspFlag::NotApplicable),
            _ => None,
        }
    }
}

/// The `uspv1` section, with the reference's field names in the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UspV1 {
    /// `Version`: the specification version, one digit (1).
    pub version: u8,
    /// `Notice`: explicit notice given.
    pub notice: UspFlag,
    /// `OptOutSale`: the user opted out of sale.
    pub opt_out_sale: UspFlag,
    /// `LspaCovered`: the publisher is an LSPA signatory.
    pub lspa_covered: UspFlag,
}

impl Default for UspV1 {
    /// The reference's defaults: `1---`.
    fn default() -> Self {
        Self {
            version: 1,
            notice: UspFlag::NotApplicable,
            opt_out_sale: UspFlag::NotApplicable,
            lspa_covered: UspFlag::NotApplicable,
        }
    }
}

/// The flag field names, in string order.
pub const FLAG_FIELDS: [&str; 3] = ["Notice", "OptOutSale", "LspaCovered"];

impl UspV1 {
    /// Reads the section's text; parts after a `.` are ignored, as the
    /// reference does.
    pub fn decode(s: &str) -> Result<Self, GppError> {
        let core = s.split('.').next().unwrap_or("");
        let chars: Vec<char> = core.chars().take(5).collect();
        let [v, n, o, l] = chars.as_slice() else {
            return Err(GppError::InvalidValue {
                section: NAME,
                field: "Version",
                bit: None,
                reason: format!("a US Privacy string is 4 characters, {core:?} is not"),
            });
        };
        let version = v.to_digit(10).ok_or_else(|| GppError::InvalidValue {
            section: NAME,
            field: "Version",
            bit: None,
            reason: format!("{v:?} is not a digit"),
        })?;
        let flag = |c: char, field: &'static str| {
            UspFlag::from_char(c).ok_or_else(|| GppError::InvalidValue {
                section: NAME,
                field,
                bit: None,
                reason: format!("{c:?} is not Y, N or -"),
            })
        };
        Ok(Self {
            version: version as u8,
            notice: flag(*n, "Notice")?,
            opt_out_sale: flag(*o, "OptOutSale")?,
            lspa_covered: flag(*l, "LspaCovered")?,
        })
    }

    /// Appends the section's text.
    pub fn encode(&self, out: &mut String) -> Result<(), GppError> {
        let digit = char::from_digit(u32::from(self.version), 10).ok_or(GppError::OutOfRange {
            section: NAME,
            field: "Version",
            value: i64::from(self.version),
            min: 0,
            max: 9,
        })?;
        out.push(digit);
        out.push(self.notice.as_char());
        out.push(self.opt_out_sale.as_char());
        out.push(self.lspa_covered.as_char());
        Ok(())
    }

    /// The flags in string order, with their field names.
    pub fn flags(&self) -> [(&'static str, UspFlag); 3] {
        [
            ("Notice", self.notice),
            ("OptOutSale", self.opt_out_sale),
            ("LspaCovered", self.lspa_covered),
        ]
    }
}
