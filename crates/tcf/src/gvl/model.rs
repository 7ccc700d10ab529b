//! The entries of a vendor-list.json (GVL format v3): declarations, stacks,
//! data categories and vendors.
//!
//! Every struct keeps the fields this library does not know in `extra`, so
//! that a list written back out (trimmed, translated) loses nothing the IAB
//! adds in a later revision of the format.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Fields of an entry that this library does not model, kept as they were.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// A purpose, special purpose, feature or special feature: an id and the
/// texts a CMP shows for it. All four share this shape in format v3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declaration {
    /// The id, equal to the entry's key in its map.
    pub id: u32,
    /// The name.
    pub name: String,
    /// The user-facing description.
    pub description: String,
    /// Examples of the processing; often empty.
    #[serde(default)]
    pub illustrations: Vec<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A stack: a named combination of purposes and special features that a CMP
/// may show in place of the individual declarations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    /// The id, equal to the entry's key in its map.
    pub id: u32,
    /// Purposes the stack combines.
    pub purposes: Vec<u32>,
    /// Special features the stack combines.
    pub special_features: Vec<u32>,
    /// The name.
    pub name: String,
    /// The user-facing description.
    pub description: String,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A category of data a vendor may declare it processes (new in format v3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCategory {
    /// The id, equal to the entry's key in its map.
    pub id: u32,
    /// The name.
    pub name: String,
    /// The user-facing description.
    pub description: String,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How long a vendor keeps data, in days: a standard period and overrides per
/// purpose and special purpose.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRetention {
    /// The retention for every purpose without an override; absent when the
    /// vendor gives one per purpose instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std_retention: Option<u32>,
    /// Days per purpose id.
    #[serde(default)]
    pub purposes: BTreeMap<u32, u32>,
    /// Days per special purpose id.
    #[serde(default)]
    pub special_purposes: BTreeMap<u32, u32>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A vendor's policy links in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VendorUrl {
    /// Language of the pages, e.g. `en`.
    pub lang_id: String,
    /// The privacy policy.
    pub privacy: String,
    /// The legitimate interest claim, required when the vendor declares any
    /// legitimate interest purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg_int_claim: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The largest HTTP GET request a vendor accepts, for TC strings passed in URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overflow {
    /// Limit in kilobytes (32 or 128).
    pub http_get_limit: u32,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A vendor registered on the GVL and what it declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vendor {
    /// The vendor id, equal to the entry's key in `vendors`.
    pub id: u32,
    /// The vendor's name.
    pub name: String,
    /// Purposes processed on consent (flexible ones included when consent is
    /// their default).
    pub purposes: Vec<u32>,
    /// Purposes processed on legitimate interest (flexible ones included when
    /// legitimate interest is their default).
    pub leg_int_purposes: Vec<u32>,
    /// Purposes for which a publisher may switch the legal basis.
    #[serde(default)]
    pub flexible_purposes: Vec<u32>,
    /// Special purposes (legitimate interest, no right to object in the TCF).
    pub special_purposes: Vec<u32>,
    /// Features.
    pub features: Vec<u32>,
    /// Special features (opt-in).
    pub special_features: Vec<u32>,
    /// When the vendor was removed from the list; a deleted vendor stays in
    /// the list so that old TC strings can still be read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::dates::optional"
    )]
    pub deleted_date: Option<OffsetDateTime>,
    /// Longest cookie lifetime in seconds; `null` when the vendor uses no
    /// cookies.
    #[serde(default)]
    pub cookie_max_age_seconds: Option<i64>,
    /// Whether the vendor stores cookies.
    pub uses_cookies: bool,
    /// Whether cookie lifetimes are refreshed.
    pub cookie_refresh: bool,
    /// Whether the vendor uses other means than cookies to store or access
    /// information on the device.
    pub uses_non_cookie_access: bool,
    /// Retention periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_retention: Option<DataRetention>,
    /// Policy links, one entry per language.
    #[serde(default)]
    pub urls: Vec<VendorUrl>,
    /// Ids of the data categories the vendor processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_declaration: Option<Vec<u32>>,
    /// Where the vendor publishes its device storage disclosure JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_storage_disclosure_url: Option<String>,
    /// HTTP GET size limit, when the vendor declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow: Option<Overflow>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Vendor {
    /// Whether the vendor has been deleted from the list.
    pub fn is_deleted(&self) -> bool {
        self.deleted_date.is_some()
    }

    /// Whether the vendor declares `purpose_id` on any legal basis.
    pub fn uses_purpose(&self, purpose_id: u32) -> bool {
        self.purposes.contains(&purpose_id)
            || self.leg_int_purposes.contains(&purpose_id)
            || self.flexible_purposes.contains(&purpose_id)
    }

    /// Whether the vendor declares `purpose_id` as flexible.
    pub fn is_flexible(&self, purpose_id: u32) -> bool {
        self.flexible_purposes.contains(&purpose_id)
    }

    /// Whether anything the vendor declares can rest on consent: a consent
    /// or flexible purpose, or a special feature (which needs an opt-in).
    pub fn has_consent_basis(&self) -> bool {
        !self.purposes.is_empty()
            || !self.flexible_purposes.is_empty()
            || !self.special_features.is_empty()
    }

    /// Whether anything the vendor declares can rest on legitimate interest:
    /// a legitimate interest or flexible purpose, or a special purpose (CMPs
    /// up to TCF v2.3 set the legitimate interest bit for vendors that
    /// declare only special purposes).
    pub fn has_legitimate_interest_basis(&self) -> bool {
        !self.leg_int_purposes.is_empty()
            || !self.flexible_purposes.is_empty()
            || !self.special_purposes.is_empty()
    }
}
