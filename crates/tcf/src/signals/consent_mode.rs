//! Google Consent Mode v2 values implied by a TC string.
//!
//! Source: Google's guide for CMP developers, "Implement the Transparency &
//! Consent Framework (TCF)" / consent mode TCF integration,
//! <https://developers.google.com/tag-platform/security/guides/implement-TCF-strings>.
//! Its table maps denied TCF purposes to consent mode values:
//!
//! | Purpose denied | Google tag behaviour |
//! | --- | --- |
//! | 1 Store and/or access information on a device | `ad_storage` and `ad_user_data` denied |
//! | 3 Create profiles for personalised advertising | `ad_personalization` denied |
//! | 4 Use profiles to select personalised advertising | `ad_personalization` denied |
//! | 7 Measure advertising performance | `ad_user_data` denied |
//!
//! Where the guide is silent, this module follows the TCF itself for the
//! vendor that reads the string, Google (vendor 755), and says so:
//!
//! - a purpose counts for Google only with Google's vendor signal too: the
//!   purpose consent bit *and* vendor 755's consent bit for purposes 1, 3 and
//!   4 (Google declares them consent-only); for purpose 7, which Google
//!   declares flexible with legitimate interest as default, either consent
//!   (purpose and vendor consent bits) or legitimate interest (purpose and
//!   vendor legitimate-interest bits);
//! - publisher restrictions for vendor 755 apply: "not allowed" denies the
//!   purpose; "require consent" or "require legitimate interest" on purpose
//!   7 leaves only that basis (on purposes 1, 3 and 4 they change nothing, as
//!   the TCF only lets them switch the basis of flexible purposes);
//! - `analytics_storage`: Google's TCF integration does not set it (the
//!   guide sends Analytics cookies to consent mode proper). We report the
//!   purpose 1 consent bit, the string's only signal about device storage,
//!   without a vendor requirement, since Google Analytics is not part of
//!   vendor 755's declaration.
//!
//! When GDPR does not apply, Google does not use the TC string and nothing
//! is denied on its account: every value is `granted`.

use crate::model::{RestrictionType, TcModel};
use serde::Serialize;

/// Google Advertising Products' id on the Global Vendor List.
pub const GOOGLE_VENDOR_ID: u32 = 755;

/// A consent mode value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentState {
    /// `"granted"`.
    Granted,
    /// `"denied"`.
    Denied,
}

impl From<bool> for ConsentState {
    fn from(granted: bool) -> Self {
        if granted {
            ConsentState::Granted
        } else {
            ConsentState::Denied
        }
    }
}

/// The four Consent Mode v2 values, serialized under Google's own key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ConsentModeSignals {
    /// Storage (cookies, device identifiers) for advertising.
    pub ad_storage: ConsentState,
    /// Sending user data to Google for advertising.
    pub ad_user_data: ConsentState,
    /// Personalised advertising.
    pub ad_personalization: ConsentState,
    /// Storage for analytics.
    pub analytics_storage: ConsentState,
}

impl ConsentModeSignals {
    /// Every value set to `state`.
    pub fn all(state: ConsentState) -> Self {
        Self {
            ad_storage: state,
            ad_user_data: state,
            ad_personalization: state,
            analytics_storage: state,
        }
    }
}

/// The Consent Mode values Google infers from `tc` (see the module
/// documentation for the mapping and its source).
pub fn consent_mode(tc: &TcModel, gdpr_applies: bool) -> ConsentModeSignals {
    if !gdpr_applies {
        return ConsentModeSignals::all(ConsentState::Granted);
    }
    let google = Google(tc);
    let storage = google.has_consent(1);
    ConsentModeSignals {
        ad_storage: storage.into(),
        ad_user_data: (storage && google.has_consent_or_li(7)).into(),
        ad_personalization: (google.has_consent(3) && google.has_consent(4)).into(),
        analytics_storage: tc.purpose_consents.contains(1).into(),
    }
}

/// Google's (vendor 755's) legal bases for purposes in one TC string.
struct Google<'a>(&'a TcModel);

impl Google<'_> {
    fn restriction(&self, purpose: u8) -> Option<RestrictionType> {
        self.0.restriction_for(purpose, GOOGLE_VENDOR_ID)
    }

    fn consent(&self, purpose: u8) -> bool {
        self.0.purpose_consents.contains(u32::from(purpose))
            && self.0.vendor_consents.contains(GOOGLE_VENDOR_ID)
    }

    fn legitimate_interest(&self, purpose: u8) -> bool {
        self.0
            .purpose_legitimate_interests
            .contains(u32::from(purpose))
            && self
                .0
                .vendor_legitimate_interests
                .contains(GOOGLE_VENDOR_ID)
    }

    /// A purpose Google declares consent-only (1, 3, 4).
    fn has_consent(&self, purpose: u8) -> bool {
        self.restriction(purpose) != Some(RestrictionType::NotAllowed) && self.consent(purpose)
    }

    /// A purpose Google declares flexible (7): the restriction picks the basis.
    fn has_consent_or_li(&self, purpose: u8) -> bool {
        match self.restriction(purpose) {
            Some(RestrictionType::NotAllowed) => false,
            Some(RestrictionType::RequireConsent) => self.consent(purpose),
            Some(RestrictionType::RequireLegitimateInterest) => self.legitimate_interest(purpose),
            None => self.consent(purpose) || self.legitimate_interest(purpose),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{PublisherRestriction, VendorSet};

    fn everything_for_google() -> TcModel {
        let mut tc = TcModel::default();
        for p in [1, 3, 4, 7] {
            tc.purpose_consents.insert(p).unwrap();
        }
        tc.vendor_consents.insert(GOOGLE_VENDOR_ID).unwrap();
        tc
    }

    #[test]
    fn restriction_not_allowed_on_purpose_one_denies_storage_and_user_data() {
        let mut tc = everything_for_google();
        tc.publisher_restrictions.push(PublisherRestriction {
            purpose_id: 1,
            restriction_type: RestrictionType::NotAllowed,
            vendors: VendorSet::try_from(&[GOOGLE_VENDOR_ID][..]).unwrap(),
        });
        let s = consent_mode(&tc, true);
        assert_eq!(s.ad_storage, ConsentState::Denied);
        assert_eq!(s.ad_user_data, ConsentState::Denied);
        assert_eq!(s.ad_personalization, ConsentState::Granted);
        // analytics_storage follows the purpose bit alone.
        assert_eq!(s.analytics_storage, ConsentState::Granted);
    }
}
