//! Trimming a list to a site's vendors: the compact list a browser CMP
//! loads instead of the whole GVL (about 500 kB for 700 vendors).
//!
//! The result is still a complete vendor-list.json with the same top-level
//! keys, so the IAB reference library's `GVL` class loads it as is:
//!
//! - all purposes, special purposes, features, special features and data
//!   categories are kept. They are small, and the reference library indexes
//!   its per-purpose vendor maps by every id a vendor declares, so a missing
//!   declaration would break it;
//! - a stack is kept only when every purpose and special feature it names is
//!   declared by some remaining, non-deleted vendor. A CMP shows stacks in
//!   place of their purposes; one naming a purpose that no vendor of the
//!   site uses would tell the user about processing that does not happen;
//! - requested ids absent from the list are reported, not silently dropped.

use super::{Gvl, Vendor};
use std::collections::{BTreeMap, BTreeSet};

/// The outcome of [`Gvl::trim`].
#[derive(Debug, Clone, PartialEq)]
pub struct Trimmed {
    /// The trimmed list.
    pub gvl: Gvl,
    /// Requested ids that are not in the list, ascending.
    pub unknown: Vec<u32>,
    /// Requested ids of deleted vendors, ascending. They are kept (the list
    /// keeps deleted vendors too), but a site should stop asking for them.
    pub deleted: Vec<u32>,
}

impl Gvl {
    /// A copy of this list with only the vendors in `vendor_ids` (duplicates
    /// ignored) and the stacks those vendors use in full.
    pub fn trim(&self, vendor_ids: impl IntoIterator<Item = u32>) -> Trimmed {
        let requested: BTreeSet<u32> = vendor_ids.into_iter().collect();
        let mut unknown = Vec::new();
        let mut vendors = BTreeMap::new();
        for id in requested {
            match self.vendors.get(&id) {
                Some(vendor) => {
                    vendors.insert(id, vendor.clone());
                }
                None => unknown.push(id),
            }
        }
        let deleted = vendors
            .values()
            .filter(|v| v.is_deleted())
            .map(|v| v.id)
            .collect();
        let used = Usage::of(vendors.values());
        let stacks = self
            .stacks
            .iter()
            .filter(|(_, s)| {
                s.purposes.iter().all(|p| used.purposes.contains(p))
                    && s.special_features
                        .iter()
                        .all(|f| used.special_features.contains(f))
            })
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        let gvl = Gvl {
            vendors,
            stacks,
            ..self.clone_without_vendors()
        };
        Trimmed {
            gvl,
            unknown,
            deleted,
        }
    }

    /// A copy with empty vendor and stack maps, to avoid cloning the 700
    /// vendors only to drop most of them.
    fn clone_without_vendors(&self) -> Gvl {
        Gvl {
            gvl_specification_version: self.gvl_specification_version,
            vendor_list_version: self.vendor_list_version,
            tcf_policy_version: self.tcf_policy_version,
            last_updated: self.last_updated,
            purposes: self.purposes.clone(),
            special_purposes: self.special_purposes.clone(),
            features: self.features.clone(),
            special_features: self.special_features.clone(),
            stacks: BTreeMap::new(),
            data_categories: self.data_categories.clone(),
            vendors: BTreeMap::new(),
            extra: self.extra.clone(),
            language: self.language.clone(),
        }
    }
}

/// Purposes (on any legal basis) and special features declared by
/// non-deleted vendors.
struct Usage {
    purposes: BTreeSet<u32>,
    special_features: BTreeSet<u32>,
}

impl Usage {
    fn of<'a>(vendors: impl Iterator<Item = &'a Vendor>) -> Self {
        let mut usage = Usage {
            purposes: BTreeSet::new(),
            special_features: BTreeSet::new(),
        };
        for v in vendors.filter(|v| !v.is_deleted()) {
            usage.purposes.extend(&v.purposes);
            usage.purposes.extend(&v.leg_int_purposes);
            usage.purposes.extend(&v.flexible_purposes);
            usage.special_features.extend(&v.special_features);
        }
        usage
    }
}
