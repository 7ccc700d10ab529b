//! The US national (`usnat`) and state sections, table-driven.
//!
//! Each section is a [`UsSectionDef`]: the core segment's fields in string
//! order and, where the section has one, an optional sub-segment (the GPC
//! sub-section, or the sensitive data consent segment of `usin`, `usky` and
//! `usri`) written only while its "included" flag is set. The tables and the
//! typed structs in [`generated`] are generated from the reference library's
//! own segment classes. One generic codec ([`codec`]) reads and writes every
//! section through a [`Flat`] array of values in table order.
//!
//! `usnat` is the one section with two layouts: version 1 strings have 12
//! `SensitiveDataProcessing` and 2 `KnownChildSensitiveDataConsents` values,
//! version 2 strings 16 and 3. As the reference does, a core segment of 10
//! or 11 characters is read with the version 1 layout (the missing values
//! are 0) and a model with `Version` 1 is written with it.

pub(crate) mod codec;
pub mod generated;
mod schema;

pub use generated::*;
pub use schema::{FieldDef, Flat, Kind, SubDef, UsSectionDef, FLAT_SLOTS};

/// The table of a US section id, if it is one.
pub fn us_def(id: u8) -> Option<&'static UsSectionDef> {
    US_SECTIONS.iter().copied().find(|d| d.id == id)
}
