//! # nexaguard-gpp
//!
//! The IAB Global Privacy Platform (GPP) string, without I/O:
//!
//! - [`decode`] and [`encode`] GPP strings to and from a [`GppString`]: the
//!   header (version 1, section ids as a Fibonacci-coded range) and every
//!   section the IAB reference library `@iabgpp/cmpapi` 3.2 encodes:
//!   `tcfeuv2` (2, through [`nexaguard_tcf`]: there is one TCF codec),
//!   `tcfcav1` (5), `uspv1` (6), `usnat` (7, versions 1 and 2) and the US
//!   state sections 8 to 27 ([`us`]);
//! - [`json`]: the reference library's JSON form, field names included;
//! - [`validate()`]: findings with stable codes for values out of range and
//!   fields the specifications make dependent on each other;
//! - [`in_app`]: the `IABGPP_*` keys a mobile CMP SDK stores.
//!
//! Invariants: decoding never panics and never allocates per bit; every
//! malformed input gets a [`GppError`] naming the section, the field and the
//! bit offset where one applies. Whatever [`decode`] accepts, [`encode`]
//! writes back, and the result decodes to the same model.

mod bits;
mod codec;
mod error;
pub mod in_app;
pub mod json;
mod model;
pub mod tcfcav1;
pub mod tcfeuv2;
pub mod us;
pub mod uspv1;
pub mod validate;

pub use codec::{decode, encode};
pub use error::GppError;
pub use model::{section_name, GppString, Section, HEADER_VERSION, SECTION_IDS};
pub use tcfcav1::TcfCaV1;
pub use tcfeuv2::TcfEuV2;
pub use us::*;
pub use uspv1::UspV1;
pub use validate::{validate, validate_str, Finding, Severity};
