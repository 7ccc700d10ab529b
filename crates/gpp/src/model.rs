//! The model: [`GppString`], a list of [`Section`]s. The header is not
//! stored: it is derived from the sections (version 1, their ids in
//! ascending order), as the reference derives it.

use crate::tcfcav1::TcfCaV1;
use crate::tcfeuv2::TcfEuV2;
use crate::us::*;
use crate::uspv1::UspV1;

/// The GPP header version this library reads and writes.
pub const HEADER_VERSION: u8 = 1;

/// Every section id the reference encodes, with its API prefix, in id order.
pub const SECTION_IDS: [(u8, &str); 24] = [
    (2, "tcfeuv2"),
    (5, "tcfcav1"),
    (6, "uspv1"),
    (7, "usnat"),
    (8, "usca"),
    (9, "usva"),
    (10, "usco"),
    (11, "usut"),
    (12, "usct"),
    (13, "usfl"),
    (14, "usmt"),
    (15, "usor"),
    (16, "ustx"),
    (17, "usde"),
    (18, "usia"),
    (19, "usne"),
    (20, "usnh"),
    (21, "usnj"),
    (22, "ustn"),
    (23, "usmn"),
    (24, "usmd"),
    (25, "usin"),
    (26, "usky"),
    (27, "usri"),
];

/// The API prefix of a section id this library knows.
pub fn section_name(id: u8) -> Option<&'static str> {
    SECTION_IDS.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

macro_rules! define_section {
    ($($us:ident $id:literal),*) => {
        /// One section of a GPP string: one variant per section id.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Section {
            /// `tcfeuv2` (2): TCF EU v2.
            TcfEuV2(TcfEuV2),
            /// `tcfcav1` (5): TCF Canada v1.
            TcfCaV1(TcfCaV1),
            /// `uspv1` (6): US Privacy.
            UspV1(UspV1),
            $(
                #[doc = concat!("US section ", stringify!($id), ".")]
                $us($us),
            )*
        }

        impl Section {
            /// The section id.
            pub fn id(&self) -> u8 {
                match self {
                    Section::TcfEuV2(_) => crate::tcfeuv2::ID,
                    Section::TcfCaV1(_) => crate::tcfcav1::ID,
                    Section::UspV1(_) => crate::uspv1::ID,
                    $(Section::$us(_) => $id,)*
                }
            }

            /// The US section's table and values, for the US sections.
            pub fn us(&self) -> Option<(&'static UsSectionDef, Flat)> {
                match self {
                    $(Section::$us(s) => Some(($us::DEF, s.to_flat())),)*
                    _ => None,
                }
            }

            /// A US section from its table's id and values.
            pub fn from_us(id: u8, flat: &Flat) -> Option<Section> {
                match id {
                    $($id => Some(Section::$us($us::from_flat(flat))),)*
                    _ => None,
                }
            }

            /// A section with the reference's defaults, for an id it knows.
            pub fn default_for(id: u8) -> Option<Section> {
                match id {
                    crate::tcfeuv2::ID => Some(Section::TcfEuV2(TcfEuV2::default())),
                    crate::tcfcav1::ID => Some(Section::TcfCaV1(TcfCaV1::default())),
                    crate::uspv1::ID => Some(Section::UspV1(UspV1::default())),
                    $($id => Some(Section::$us($us::default())),)*
                    _ => None,
                }
            }
        }
    };
}

for_each_us_section!(define_section);

impl Section {
    /// The section's API prefix, e.g. `usnat`.
    pub fn name(&self) -> &'static str {
        section_name(self.id()).unwrap_or("unknown")
    }
}

/// A GPP string's content: its sections. The header is derived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GppString {
    /// The sections; [`crate::encode`] writes them in id order and refuses
    /// two with one id.
    pub sections: Vec<Section>,
}

impl GppString {
    /// The section ids, in id order (the header's `SectionIds`).
    pub fn section_ids(&self) -> Vec<u8> {
        let mut ids: Vec<u8> = self.sections.iter().map(Section::id).collect();
        ids.sort_unstable();
        ids
    }

    /// The section with this id, if present.
    pub fn section(&self, id: u8) -> Option<&Section> {
        self.sections.iter().find(|s| s.id() == id)
    }
}
