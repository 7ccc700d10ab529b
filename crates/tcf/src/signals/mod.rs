//! Signals derived from a decoded TC string for consumers that do not read
//! TC strings themselves:
//!
//! - [`consent_mode`]: the Google Consent Mode v2 values Google infers from
//!   the string for its vendor id 755;
//! - [`iabtcf_keys`]: the `IABTCF_*` in-app storage keys of the IAB CMP API.
//!
//! Google's Additional Consent string, which travels beside the TC string,
//! lives in [`crate::ac`].

pub mod consent_mode;
pub mod iabtcf;

pub use consent_mode::{consent_mode, ConsentModeSignals, ConsentState, GOOGLE_VENDOR_ID};
pub use iabtcf::{iabtcf_keys, IabTcfValue};
