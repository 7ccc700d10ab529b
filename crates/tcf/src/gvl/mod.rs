//! The Global Vendor List, format v3 (`vendor-list.json`).
//!
//! - [`Gvl::from_json`] parses a list (no file or network I/O here);
//! - [`Gvl::apply_translation`] merges a `purposes-xx.json` translation;
//! - [`Gvl::trim`] keeps only a site's vendors: the compact list a browser
//!   CMP loads.
//!
//! Maps are keyed by id (`BTreeMap<u32, _>`), so a list serializes with its
//! keys in ascending order and the output is deterministic. Fields this
//! library does not know are kept in each entry's `extra` map and written
//! back unchanged: the IAB has added fields in every revision of the format,
//! and a trimmed list must not silently lose them on their way to the
//! browser. The cost is a little parsing time, paid once per GVL release.

mod dates;
mod model;
mod translation;
mod trim;

pub use model::{
    DataCategory, DataRetention, Declaration, Extra, Overflow, Stack, Vendor, VendorUrl,
};
pub use translation::{
    normalize_language, TextEntry, Translation, Translations, IAB_LANGUAGES, UNDETERMINED_LANGUAGE,
};
pub use trim::Trimmed;

pub(crate) use dates::format as format_date;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The oldest GVL format this library reads: v3, introduced with TCF v2.2.
pub const MIN_SPECIFICATION_VERSION: u32 = 3;

/// The language of a GVL as the IAB publishes it.
pub const BASE_LANGUAGE: &str = "en";

/// A Global Vendor List.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gvl {
    /// Version of the list format (3 for TCF v2.2 and v2.3).
    pub gvl_specification_version: u32,
    /// Version of this list's content; TC strings record it.
    pub vendor_list_version: u32,
    /// The TCF policy version the list was published under.
    pub tcf_policy_version: u32,
    /// When the list was published.
    #[serde(with = "dates")]
    pub last_updated: OffsetDateTime,
    /// Purposes by id.
    pub purposes: BTreeMap<u32, Declaration>,
    /// Special purposes by id.
    pub special_purposes: BTreeMap<u32, Declaration>,
    /// Features by id.
    pub features: BTreeMap<u32, Declaration>,
    /// Special features by id.
    pub special_features: BTreeMap<u32, Declaration>,
    /// Stacks by id.
    pub stacks: BTreeMap<u32, Stack>,
    /// Data categories by id.
    #[serde(default)]
    pub data_categories: BTreeMap<u32, DataCategory>,
    /// Vendors by id, deleted ones included.
    pub vendors: BTreeMap<u32, Vendor>,
    /// Top-level fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
    /// Language of the texts: [`BASE_LANGUAGE`] until a translation is applied.
    /// Not part of the file format, so never serialized.
    #[serde(skip, default = "base_language")]
    language: String,
}

fn base_language() -> String {
    BASE_LANGUAGE.to_owned()
}

/// Why a vendor list or translation could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GvlError {
    /// The input is not JSON.
    #[error("invalid JSON: {message}")]
    Syntax {
        /// serde_json's description, with line and column.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The input is JSON but not of the expected shape (a missing field, a
    /// wrong type, a bad date).
    #[error("not a valid {document}: {message}")]
    Shape {
        /// `vendor list` or `translation`.
        document: &'static str,
        /// serde_json's description, with line and column.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A list older than format v3 (TCF v2.0/v2.1 lists have other fields).
    #[error("gvlSpecificationVersion {found} is not supported: format {MIN_SPECIFICATION_VERSION} or later is needed")]
    UnsupportedSpecificationVersion {
        /// The version found.
        found: u32,
    },
    /// An entry whose `id` differs from its key.
    #[error("{section} entry under key \"{key}\" has id {id}")]
    IdMismatch {
        /// The map, e.g. `vendors`.
        section: &'static str,
        /// The key.
        key: u32,
        /// The entry's `id` field.
        id: u32,
    },
}

impl GvlError {
    /// A stable machine-readable code, used in JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            GvlError::Syntax { .. } => "invalid_json",
            GvlError::Shape { .. } => "invalid_gvl",
            GvlError::UnsupportedSpecificationVersion { .. } => "unsupported_specification_version",
            GvlError::IdMismatch { .. } => "id_mismatch",
        }
    }

    pub(crate) fn from_json(err: &serde_json::Error, document: &'static str) -> Self {
        let (message, line, column) = (err.to_string(), err.line(), err.column());
        match err.classify() {
            serde_json::error::Category::Data => GvlError::Shape {
                document,
                message,
                line,
                column,
            },
            _ => GvlError::Syntax {
                message,
                line,
                column,
            },
        }
    }
}

/// Counts and versions of a list, for a quick look (`nexaguard gvl inspect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GvlSummary {
    /// `gvlSpecificationVersion`.
    pub gvl_specification_version: u32,
    /// `vendorListVersion`.
    pub vendor_list_version: u32,
    /// `tcfPolicyVersion`.
    pub tcf_policy_version: u32,
    /// `lastUpdated`, RFC 3339.
    pub last_updated: String,
    /// Language of the texts.
    pub language: String,
    /// Number of purposes.
    pub purposes: usize,
    /// Number of special purposes.
    pub special_purposes: usize,
    /// Number of features.
    pub features: usize,
    /// Number of special features.
    pub special_features: usize,
    /// Number of stacks.
    pub stacks: usize,
    /// Number of data categories.
    pub data_categories: usize,
    /// Number of vendors, deleted ones included.
    pub vendors: usize,
    /// Number of deleted vendors.
    pub deleted_vendors: usize,
}

impl Gvl {
    /// Parses a vendor-list.json.
    pub fn from_json(json: &str) -> Result<Self, GvlError> {
        Self::from_slice(json.as_bytes())
    }

    /// Parses a vendor-list.json from bytes (UTF-8).
    pub fn from_slice(json: &[u8]) -> Result<Self, GvlError> {
        let gvl: Gvl =
            serde_json::from_slice(json).map_err(|e| GvlError::from_json(&e, "vendor list"))?;
        gvl.check()?;
        Ok(gvl)
    }

    /// The checks serde cannot express: the format version and that every
    /// entry sits under its own id.
    fn check(&self) -> Result<(), GvlError> {
        if self.gvl_specification_version < MIN_SPECIFICATION_VERSION {
            return Err(GvlError::UnsupportedSpecificationVersion {
                found: self.gvl_specification_version,
            });
        }
        check_ids("purposes", &self.purposes, |d| d.id)?;
        check_ids("specialPurposes", &self.special_purposes, |d| d.id)?;
        check_ids("features", &self.features, |d| d.id)?;
        check_ids("specialFeatures", &self.special_features, |d| d.id)?;
        check_ids("stacks", &self.stacks, |s| s.id)?;
        check_ids("dataCategories", &self.data_categories, |c| c.id)?;
        check_ids("vendors", &self.vendors, |v| v.id)
    }

    /// The vendor with this id, deleted or not.
    pub fn vendor(&self, id: u32) -> Option<&Vendor> {
        self.vendors.get(&id)
    }

    /// Language of the texts: `en`, or that of the last translation applied.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// Versions and counts.
    pub fn summary(&self) -> GvlSummary {
        GvlSummary {
            gvl_specification_version: self.gvl_specification_version,
            vendor_list_version: self.vendor_list_version,
            tcf_policy_version: self.tcf_policy_version,
            last_updated: dates::format(self.last_updated),
            language: self.language.clone(),
            purposes: self.purposes.len(),
            special_purposes: self.special_purposes.len(),
            features: self.features.len(),
            special_features: self.special_features.len(),
            stacks: self.stacks.len(),
            data_categories: self.data_categories.len(),
            vendors: self.vendors.len(),
            deleted_vendors: self.vendors.values().filter(|v| v.is_deleted()).count(),
        }
    }
}

impl std::str::FromStr for Gvl {
    type Err = GvlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_json(s)
    }
}

fn check_ids<T>(
    section: &'static str,
    map: &BTreeMap<u32, T>,
    id_of: impl Fn(&T) -> u32,
) -> Result<(), GvlError> {
    match map.iter().find(|(key, entry)| id_of(entry) != **key) {
        Some((&key, entry)) => Err(GvlError::IdMismatch {
            section,
            key,
            id: id_of(entry),
        }),
        None => Ok(()),
    }
}
