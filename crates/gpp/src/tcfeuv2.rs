//! The `tcfeuv2` section (id 2): a TCF v2 TC string, read and written by
//! [`nexaguard_tcf`] (there is one TCF codec in NexaGuard). [`crate::json`]
//! maps the [`TcModel`] to the reference's `TcfEuV2` field names.

use crate::GppError;
use nexaguard_tcf::TcModel;

/// Section id.
pub const ID: u8 = 2;
/// API prefix.
pub const NAME: &str = "tcfeuv2";

/// The `tcfeuv2` section: a TC model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcfEuV2(pub TcModel);

impl Default for TcfEuV2 {
    /// The reference's defaults: `nexaguard_tcf`'s, service-specific, with
    /// a disclosed vendors and a publisher TC segment (the reference always
    /// writes both).
    fn default() -> Self {
        Self(TcModel {
            is_service_specific: true,
            vendors_disclosed: Some(Default::default()),
            publisher_tc: Some(Default::default()),
            ..TcModel::default()
        })
    }
}

impl TcfEuV2 {
    /// Reads the section's text (a TC string).
    pub fn decode(s: &str) -> Result<Self, GppError> {
        Ok(Self(nexaguard_tcf::decode(s)?))
    }

    /// Appends the section's text.
    pub fn encode(&self, out: &mut String) -> Result<(), GppError> {
        out.push_str(&nexaguard_tcf::encode(&self.0)?);
        Ok(())
    }
}
