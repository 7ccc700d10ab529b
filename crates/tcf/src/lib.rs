//! # nexaguard-tcf
//!
//! The IAB Transparency and Consent Framework v2.3, without I/O:
//!
//! - [`decode`] and [`encode`] TC strings to and from a [`TcModel`];
//! - [`json`]: the model as the IAB reference library's `TCModel` JSON;
//! - [`gvl`]: the Global Vendor List (format v3), translations and trimming;
//! - [`policy`]: validation of a TC string against a GVL;
//! - [`signals`]: Google Consent Mode values and the `IABTCF_*` keys;
//! - [`ac`]: Google's Additional Consent string.
//!
//! Decoding never panics: every malformed input gets a [`DecodeError`]
//! naming the field and bit offset.

pub mod ac;
mod bits;
pub mod decode;
pub mod encode;
mod error;
pub mod gvl;
mod idset;
pub mod json;
mod model;
pub mod policy;
pub mod signals;

pub use decode::decode;
pub use encode::encode;
pub use error::{DecodeError, EncodeError, Position, Segment};
pub use idset::{IdOutOfRange, IdSet, VendorSet, MAX_VENDOR_ID};
pub use model::{
    CustomPurposeSet, InvalidLetters, Letters, PublisherRestriction, PublisherTc, PurposeSet,
    RestrictionType, SpecialFeatureSet, TcModel, Timestamp, CURRENT_POLICY_VERSION,
    TC_STRING_VERSION,
};
