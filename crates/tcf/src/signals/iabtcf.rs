//! The `IABTCF_*` keys a CMP SDK stores in-app (iOS `NSUserDefaults`,
//! Android default `SharedPreferences`), from the "In-App Details" section of
//! the IAB's "Consent Management Platform API" (TCFv2/IAB Tech Lab - CMP API
//! v2.md in InteractiveAdvertisingBureau/GDPR-Transparency-and-Consent-Framework).
//!
//! Value types follow that table: numbers for ids, versions and flags;
//! strings for the TC string and the publisher country; "binary strings" of
//! `'0'`/`'1'` where the character at index `n` is id `n + 1`.
//!
//! Lengths, which the CMP API leaves open, are the TC string's own: purposes
//! 24 characters (the 24-bit purpose fields), special features 12, custom
//! purposes `NumCustomPurposes`, vendors up to the largest id in that set
//! (an empty set is an empty string). `IABTCF_PublisherRestrictions{ID}` is
//! written for each purpose with at least one restricted vendor, up to the
//! largest restricted vendor id, `'_'` where a vendor has no restriction.
//!
//! Keys whose segment is absent from the string are left out rather than
//! filled with zeros: the publisher keys without a publisher TC segment,
//! `IABTCF_DisclosedVendors` (added for TCF v2.3, where the disclosed
//! vendors segment became mandatory) without a disclosed vendors segment.

use crate::idset::{IdSet, VendorSet};
use crate::model::{RestrictionType, TcModel};
use serde::Serialize;
use std::collections::BTreeMap;

/// The key names, as the CMP API spells them.
pub mod key {
    /// `Number`: the CMP's id.
    pub const CMP_SDK_ID: &str = "IABTCF_CmpSdkID";
    /// `Number`: the CMP's version.
    pub const CMP_SDK_VERSION: &str = "IABTCF_CmpSdkVersion";
    /// `Number`: the TCF policy version.
    pub const POLICY_VERSION: &str = "IABTCF_PolicyVersion";
    /// `Number`: 1 when GDPR applies, 0 when not.
    pub const GDPR_APPLIES: &str = "IABTCF_gdprApplies";
    /// `String`: the publisher's country code.
    pub const PUBLISHER_CC: &str = "IABTCF_PublisherCC";
    /// `Number`: 1 when purpose 1 was not disclosed.
    pub const PURPOSE_ONE_TREATMENT: &str = "IABTCF_PurposeOneTreatment";
    /// `Number`: 1 when the CMP used non-standard texts.
    pub const USE_NON_STANDARD_TEXTS: &str = "IABTCF_UseNonStandardTexts";
    /// `String`: the TC string.
    pub const TC_STRING: &str = "IABTCF_TCString";
    /// Binary string: vendor consents.
    pub const VENDOR_CONSENTS: &str = "IABTCF_VendorConsents";
    /// Binary string: vendor legitimate interests.
    pub const VENDOR_LEGITIMATE_INTERESTS: &str = "IABTCF_VendorLegitimateInterests";
    /// Binary string: disclosed vendors (TCF v2.3).
    pub const DISCLOSED_VENDORS: &str = "IABTCF_DisclosedVendors";
    /// Binary string: purpose consents.
    pub const PURPOSE_CONSENTS: &str = "IABTCF_PurposeConsents";
    /// Binary string: purpose legitimate interests.
    pub const PURPOSE_LEGITIMATE_INTERESTS: &str = "IABTCF_PurposeLegitimateInterests";
    /// Binary string: special feature opt-ins.
    pub const SPECIAL_FEATURES_OPT_INS: &str = "IABTCF_SpecialFeaturesOptIns";
    /// Prefix of the per-purpose restriction keys; the purpose id follows.
    pub const PUBLISHER_RESTRICTIONS_PREFIX: &str = "IABTCF_PublisherRestrictions";
    /// Binary string: the publisher's purpose consents.
    pub const PUBLISHER_CONSENT: &str = "IABTCF_PublisherConsent";
    /// Binary string: the publisher's purpose legitimate interests.
    pub const PUBLISHER_LEGITIMATE_INTERESTS: &str = "IABTCF_PublisherLegitimateInterests";
    /// Binary string: the publisher's custom purpose consents.
    pub const PUBLISHER_CUSTOM_PURPOSES_CONSENTS: &str = "IABTCF_PublisherCustomPurposesConsents";
    /// Binary string: the publisher's custom purpose legitimate interests.
    pub const PUBLISHER_CUSTOM_PURPOSES_LEGITIMATE_INTERESTS: &str =
        "IABTCF_PublisherCustomPurposesLegitimateInterests";
}

/// One stored value: the CMP API has only numbers and strings. Serializes
/// as a bare JSON number or string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum IabTcfValue {
    /// A `Number` key.
    Number(u32),
    /// A `String` or binary-string key.
    String(String),
}

impl From<bool> for IabTcfValue {
    fn from(flag: bool) -> Self {
        IabTcfValue::Number(u32::from(flag))
    }
}

/// Every `IABTCF_*` key a CMP would store for `tc`, whose encoded form is
/// `tc_string` (stored as given, not re-encoded).
pub fn iabtcf_keys(
    tc: &TcModel,
    tc_string: &str,
    gdpr_applies: bool,
) -> BTreeMap<String, IabTcfValue> {
    let mut keys = Keys::default();
    keys.number(key::CMP_SDK_ID, u32::from(tc.cmp_id));
    keys.number(key::CMP_SDK_VERSION, u32::from(tc.cmp_version));
    keys.number(key::POLICY_VERSION, u32::from(tc.policy_version));
    keys.flag(key::GDPR_APPLIES, gdpr_applies);
    keys.string(key::PUBLISHER_CC, tc.publisher_country_code.as_str());
    keys.flag(key::PURPOSE_ONE_TREATMENT, tc.purpose_one_treatment);
    keys.flag(key::USE_NON_STANDARD_TEXTS, tc.use_non_standard_texts);
    keys.string(key::TC_STRING, tc_string);
    keys.string(key::VENDOR_CONSENTS, vendor_bits(&tc.vendor_consents));
    keys.string(
        key::VENDOR_LEGITIMATE_INTERESTS,
        vendor_bits(&tc.vendor_legitimate_interests),
    );
    if let Some(disclosed) = &tc.vendors_disclosed {
        keys.string(key::DISCLOSED_VENDORS, vendor_bits(disclosed));
    }
    keys.string(key::PURPOSE_CONSENTS, id_bits(&tc.purpose_consents));
    keys.string(
        key::PURPOSE_LEGITIMATE_INTERESTS,
        id_bits(&tc.purpose_legitimate_interests),
    );
    keys.string(
        key::SPECIAL_FEATURES_OPT_INS,
        id_bits(&tc.special_feature_optins),
    );
    for (purpose, restrictions) in restriction_strings(tc) {
        keys.string(
            &format!("{}{purpose}", key::PUBLISHER_RESTRICTIONS_PREFIX),
            restrictions,
        );
    }
    if let Some(publisher) = &tc.publisher_tc {
        keys.string(key::PUBLISHER_CONSENT, id_bits(&publisher.purpose_consents));
        keys.string(
            key::PUBLISHER_LEGITIMATE_INTERESTS,
            id_bits(&publisher.purpose_legitimate_interests),
        );
        let custom = u32::from(publisher.num_custom_purposes);
        keys.string(
            key::PUBLISHER_CUSTOM_PURPOSES_CONSENTS,
            bits(custom, |id| publisher.custom_purpose_consents.contains(id)),
        );
        keys.string(
            key::PUBLISHER_CUSTOM_PURPOSES_LEGITIMATE_INTERESTS,
            bits(custom, |id| {
                publisher.custom_purpose_legitimate_interests.contains(id)
            }),
        );
    }
    keys.0
}

#[derive(Default)]
struct Keys(BTreeMap<String, IabTcfValue>);

impl Keys {
    fn number(&mut self, name: &str, value: u32) {
        self.0.insert(name.to_owned(), IabTcfValue::Number(value));
    }

    fn flag(&mut self, name: &str, value: bool) {
        self.0.insert(name.to_owned(), value.into());
    }

    fn string(&mut self, name: &str, value: impl Into<String>) {
        self.0
            .insert(name.to_owned(), IabTcfValue::String(value.into()));
    }
}

/// `len` characters, the one at index `n` saying whether id `n + 1` is set.
fn bits(len: u32, contains: impl Fn(u32) -> bool) -> String {
    (1..=len)
        .map(|id| if contains(id) { '1' } else { '0' })
        .collect()
}

/// A small id set over its full width (24 purposes, 12 special features).
fn id_bits<const N: u32>(set: &IdSet<N>) -> String {
    bits(N, |id| set.contains(id))
}

fn vendor_bits(set: &VendorSet) -> String {
    bits(set.max_id(), |id| set.contains(id))
}

/// Per restricted purpose, the string of restriction types by vendor. When a
/// vendor appears in two restrictions for one purpose (a malformed string),
/// the first wins, as in [`TcModel::restriction_for`].
fn restriction_strings(tc: &TcModel) -> BTreeMap<u8, String> {
    let mut by_purpose: BTreeMap<u8, Vec<Option<RestrictionType>>> = BTreeMap::new();
    for restriction in &tc.publisher_restrictions {
        if restriction.vendors.is_empty() {
            continue;
        }
        let slots = by_purpose.entry(restriction.purpose_id).or_default();
        let needed = restriction.vendors.max_id() as usize;
        if slots.len() < needed {
            slots.resize(needed, None);
        }
        for vendor in restriction.vendors.iter() {
            if let Some(slot @ None) = slots.get_mut(vendor as usize - 1) {
                *slot = Some(restriction.restriction_type);
            }
        }
    }
    by_purpose
        .into_iter()
        .map(|(purpose, slots)| (purpose, slots.into_iter().map(restriction_char).collect()))
        .collect()
}

fn restriction_char(slot: Option<RestrictionType>) -> char {
    match slot {
        None => '_',
        Some(t) => char::from(b'0' + t.bits()),
    }
}
