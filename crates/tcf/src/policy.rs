//! Policy validation of a TC string against a Global Vendor List.
//!
//! [`validate`] runs every check and returns the findings, each with a
//! stable code ([`FindingCode::as_str`]) and a [`Severity`]. An empty list
//! means the string passed every check; the checks and codes are listed in
//! docs/tcf.md.
//!
//! The TC string version itself is not checked here: the decoder accepts
//! version 2 only and rejects others with `unsupported_version`.

use crate::gvl::{Gvl, Vendor};
use crate::model::{RestrictionType, TcModel, Timestamp};
use serde::{Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;
use time::{Date, Month, OffsetDateTime};

/// TCF policy versions this library knows: 2 and 3 (TCF v2.0 and v2.1),
/// 4 (TCF v2.2), 5 (TCF v2.3).
pub const KNOWN_POLICY_VERSIONS: std::ops::RangeInclusive<u8> = 2..=5;

/// The policy version of TCF v2.2, below which a string is outdated.
pub const TCF_V2_2_POLICY_VERSION: u8 = 4;

/// The policy version of TCF v2.3, from which the disclosed vendors segment
/// is mandatory.
pub const TCF_V2_3_POLICY_VERSION: u8 = 5;

/// Purposes for which legitimate interest is not allowed since TCF v2.2
/// (purpose 1 never allowed it).
pub const NO_LEGITIMATE_INTEREST_PURPOSES: [u8; 5] = [1, 3, 4, 5, 6];

/// A TC string is stale when last updated more than this many calendar
/// months ago.
pub const STALE_AFTER_MONTHS: u32 = 13;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The string breaks the specification or the policies.
    Error,
    /// The string is valid but suspicious or out of date.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about. Each code always comes with the same severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FindingCode {
    /// The TCF policy version is not one this library knows (2..=5).
    PolicyVersionUnknown,
    /// The policy version is below 4 (before TCF v2.2).
    PolicyVersionOutdated,
    /// The policy version is newer than the GVL's `tcfPolicyVersion`.
    PolicyVersionNewerThanGvl,
    /// VendorListVersion is 0.
    VendorListVersionZero,
    /// VendorListVersion is newer than the GVL's.
    VendorListVersionNewerThanGvl,
    /// Legitimate interest signalled for purpose 1, 3, 4, 5 or 6.
    PurposeLiNotAllowed,
    /// A vendor with consent or legitimate interest is not in the GVL.
    VendorUnknown,
    /// A deleted vendor holds consent or legitimate interest.
    VendorDeleted,
    /// A vendor has consent but declares no consent purpose, flexible
    /// purpose or special feature.
    VendorConsentWithoutPurpose,
    /// A vendor has legitimate interest but declares no legitimate interest
    /// purpose, flexible purpose or special purpose.
    VendorLiWithoutPurpose,
    /// A require-consent or require-legitimate-interest restriction for a
    /// purpose the vendor does not declare as flexible.
    RestrictionNotFlexible,
    /// A restriction for a purpose the vendor does not use at all.
    RestrictionPurposeUnused,
    /// No disclosed vendors segment.
    DisclosedVendorsMissing,
    /// A vendor with consent or legitimate interest is not disclosed.
    VendorNotDisclosed,
    /// Created is after now.
    CreatedInFuture,
    /// LastUpdated is after now.
    LastUpdatedInFuture,
    /// LastUpdated is before Created.
    LastUpdatedBeforeCreated,
    /// LastUpdated is more than 13 calendar months ago.
    Stale,
}

impl FindingCode {
    /// Every code, in the order the checks run.
    pub const ALL: [FindingCode; 18] = [
        FindingCode::PolicyVersionUnknown,
        FindingCode::PolicyVersionOutdated,
        FindingCode::PolicyVersionNewerThanGvl,
        FindingCode::VendorListVersionZero,
        FindingCode::VendorListVersionNewerThanGvl,
        FindingCode::PurposeLiNotAllowed,
        FindingCode::VendorUnknown,
        FindingCode::VendorDeleted,
        FindingCode::VendorConsentWithoutPurpose,
        FindingCode::VendorLiWithoutPurpose,
        FindingCode::RestrictionNotFlexible,
        FindingCode::RestrictionPurposeUnused,
        FindingCode::DisclosedVendorsMissing,
        FindingCode::VendorNotDisclosed,
        FindingCode::CreatedInFuture,
        FindingCode::LastUpdatedInFuture,
        FindingCode::LastUpdatedBeforeCreated,
        FindingCode::Stale,
    ];

    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::PolicyVersionUnknown => "policy_version_unknown",
            FindingCode::PolicyVersionOutdated => "policy_version_outdated",
            FindingCode::PolicyVersionNewerThanGvl => "policy_version_newer_than_gvl",
            FindingCode::VendorListVersionZero => "vendor_list_version_zero",
            FindingCode::VendorListVersionNewerThanGvl => "vendor_list_version_newer_than_gvl",
            FindingCode::PurposeLiNotAllowed => "purpose_li_not_allowed",
            FindingCode::VendorUnknown => "vendor_unknown",
            FindingCode::VendorDeleted => "vendor_deleted",
            FindingCode::VendorConsentWithoutPurpose => "vendor_consent_without_purpose",
            FindingCode::VendorLiWithoutPurpose => "vendor_li_without_purpose",
            FindingCode::RestrictionNotFlexible => "restriction_not_flexible",
            FindingCode::RestrictionPurposeUnused => "restriction_purpose_unused",
            FindingCode::DisclosedVendorsMissing => "disclosed_vendors_missing",
            FindingCode::VendorNotDisclosed => "vendor_not_disclosed",
            FindingCode::CreatedInFuture => "created_in_future",
            FindingCode::LastUpdatedInFuture => "last_updated_in_future",
            FindingCode::LastUpdatedBeforeCreated => "last_updated_before_created",
            FindingCode::Stale => "stale",
        }
    }

    /// The severity findings of this code have.
    pub fn severity(self) -> Severity {
        match self {
            FindingCode::PolicyVersionOutdated
            | FindingCode::VendorUnknown
            | FindingCode::RestrictionPurposeUnused
            | FindingCode::Stale => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem found in a TC string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// What was found.
    pub code: FindingCode,
    /// How serious it is.
    pub severity: Severity,
    /// A sentence for people, naming the vendor or purpose.
    pub message: String,
    /// The vendor concerned, if any.
    pub vendor_id: Option<u32>,
    /// The purpose concerned, if any.
    pub purpose_id: Option<u32>,
}

impl Finding {
    fn new(code: FindingCode, message: String) -> Self {
        Finding {
            code,
            severity: code.severity(),
            message,
            vendor_id: None,
            purpose_id: None,
        }
    }

    fn vendor(mut self, id: u32) -> Self {
        self.vendor_id = Some(id);
        self
    }

    fn purpose(mut self, id: u32) -> Self {
        self.purpose_id = Some(id);
        self
    }

    /// Whether this finding is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// What every check reads.
struct Context<'a> {
    tc: &'a TcModel,
    gvl: &'a Gvl,
    now: Timestamp,
    /// Vendors with a consent or legitimate interest bit, ascending.
    signalled: BTreeSet<u32>,
}

type Check = fn(&Context<'_>, &mut Vec<Finding>);

/// The checks, in the order their findings are reported.
const CHECKS: [Check; 17] = [
    check_policy_version_unknown,
    check_policy_version_outdated,
    check_policy_version_newer_than_gvl,
    check_vendor_list_version_zero,
    check_vendor_list_version_newer_than_gvl,
    check_purpose_legitimate_interests,
    check_unknown_vendors,
    check_deleted_vendors,
    check_vendor_consent_basis,
    check_vendor_legitimate_interest_basis,
    check_publisher_restrictions,
    check_disclosed_vendors_missing,
    check_vendors_disclosed,
    check_created_in_future,
    check_last_updated_in_future,
    check_last_updated_before_created,
    check_stale,
];

/// Checks `tc` against `gvl` and the TCF policies, as of `now`.
pub fn validate(tc: &TcModel, gvl: &Gvl, now: Timestamp) -> Vec<Finding> {
    let signalled = tc
        .vendor_consents
        .iter()
        .chain(tc.vendor_legitimate_interests.iter())
        .collect();
    let cx = Context {
        tc,
        gvl,
        now,
        signalled,
    };
    let mut findings = Vec::new();
    for check in CHECKS {
        check(&cx, &mut findings);
    }
    findings
}

fn check_policy_version_unknown(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let version = cx.tc.policy_version;
    if !KNOWN_POLICY_VERSIONS.contains(&version) {
        out.push(Finding::new(
            FindingCode::PolicyVersionUnknown,
            format!("policy version {version} is not a known TCF policy version (2 to 5)"),
        ));
    }
}

/// Unknown versions get only `policy_version_unknown`: one cause, one finding.
fn known_policy_version(cx: &Context<'_>) -> Option<u8> {
    Some(cx.tc.policy_version).filter(|v| KNOWN_POLICY_VERSIONS.contains(v))
}

fn check_policy_version_outdated(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if let Some(version) = known_policy_version(cx).filter(|v| *v < TCF_V2_2_POLICY_VERSION) {
        out.push(Finding::new(
            FindingCode::PolicyVersionOutdated,
            format!("policy version {version} predates TCF v2.2 (policy version 4)"),
        ));
    }
}

fn check_policy_version_newer_than_gvl(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let gvl_version = cx.gvl.tcf_policy_version;
    if let Some(version) = known_policy_version(cx).filter(|v| u32::from(*v) > gvl_version) {
        out.push(Finding::new(
            FindingCode::PolicyVersionNewerThanGvl,
            format!(
                "policy version {version} is newer than the GVL's tcfPolicyVersion {gvl_version}"
            ),
        ));
    }
}

fn check_vendor_list_version_zero(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if cx.tc.vendor_list_version == 0 {
        out.push(Finding::new(
            FindingCode::VendorListVersionZero,
            "vendorListVersion is 0, which names no vendor list".to_owned(),
        ));
    }
}

fn check_vendor_list_version_newer_than_gvl(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let version = cx.tc.vendor_list_version;
    if u32::from(version) > cx.gvl.vendor_list_version {
        out.push(Finding::new(
            FindingCode::VendorListVersionNewerThanGvl,
            format!(
                "vendorListVersion {version} is newer than the GVL given (version {})",
                cx.gvl.vendor_list_version
            ),
        ));
    }
}

/// Strings created under policy versions before 4 could use legitimate
/// interest for purposes 3 to 6; purpose 1 never could.
fn check_purpose_legitimate_interests(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let since_v2_2 = cx.tc.policy_version >= TCF_V2_2_POLICY_VERSION;
    let forbidden = |p: &u8| *p == 1 || since_v2_2;
    for purpose in NO_LEGITIMATE_INTEREST_PURPOSES
        .iter()
        .filter(|p| forbidden(p))
    {
        let p = u32::from(*purpose);
        if cx.tc.purpose_legitimate_interests.contains(p) {
            out.push(purpose_li_finding(p, "PurposesLITransparency"));
        }
        let publisher = cx.tc.publisher_tc.as_ref();
        if publisher.is_some_and(|pub_tc| pub_tc.purpose_legitimate_interests.contains(p)) {
            out.push(purpose_li_finding(p, "PubPurposesLITransparency"));
        }
    }
}

fn purpose_li_finding(purpose: u32, field: &str) -> Finding {
    Finding::new(
        FindingCode::PurposeLiNotAllowed,
        format!("purpose {purpose}: legitimate interest set in {field}, not allowed for purposes 1 and 3 to 6"),
    )
    .purpose(purpose)
}

fn check_unknown_vendors(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for &id in cx
        .signalled
        .iter()
        .filter(|id| cx.gvl.vendor(**id).is_none())
    {
        out.push(
            Finding::new(
                FindingCode::VendorUnknown,
                format!(
                    "vendor {id}: has consent or legitimate interest but is not in GVL version {}",
                    cx.gvl.vendor_list_version
                ),
            )
            .vendor(id),
        );
    }
}

fn check_deleted_vendors(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (id, vendor) in known_vendors(cx, cx.signalled.iter().copied()) {
        if let Some(date) = vendor.deleted_date {
            out.push(
                Finding::new(
                    FindingCode::VendorDeleted,
                    format!(
                        "vendor {id}: has consent or legitimate interest but was deleted from the GVL on {}",
                        date.date()
                    ),
                )
                .vendor(id),
            );
        }
    }
}

fn check_vendor_consent_basis(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (id, vendor) in known_vendors(cx, cx.tc.vendor_consents.iter()) {
        if !vendor.has_consent_basis() {
            out.push(
                Finding::new(
                    FindingCode::VendorConsentWithoutPurpose,
                    format!("vendor {id}: has consent but declares no consent or flexible purpose and no special feature"),
                )
                .vendor(id),
            );
        }
    }
}

fn check_vendor_legitimate_interest_basis(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (id, vendor) in known_vendors(cx, cx.tc.vendor_legitimate_interests.iter()) {
        if !vendor.has_legitimate_interest_basis() {
            out.push(
                Finding::new(
                    FindingCode::VendorLiWithoutPurpose,
                    format!("vendor {id}: has legitimate interest but declares no legitimate interest, flexible or special purpose"),
                )
                .vendor(id),
            );
        }
    }
}

/// Restrictions often cover ranges of ids with no vendor behind some of
/// them, so vendors absent from the GVL are skipped here rather than
/// reported.
fn check_publisher_restrictions(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for restriction in &cx.tc.publisher_restrictions {
        let purpose = u32::from(restriction.purpose_id);
        let kind = restriction.restriction_type;
        for (id, vendor) in known_vendors(cx, restriction.vendors.iter()) {
            if let Some(finding) = restriction_finding(vendor, purpose, kind) {
                out.push(finding.vendor(id).purpose(purpose));
            }
        }
    }
}

fn restriction_finding(vendor: &Vendor, purpose: u32, kind: RestrictionType) -> Option<Finding> {
    let id = vendor.id;
    if !vendor.uses_purpose(purpose) {
        return Some(Finding::new(
            FindingCode::RestrictionPurposeUnused,
            format!(
                "vendor {id}: {} restriction for purpose {purpose}, which the vendor does not use",
                restriction_name(kind)
            ),
        ));
    }
    let switches_basis = kind != RestrictionType::NotAllowed;
    (switches_basis && !vendor.is_flexible(purpose)).then(|| {
        Finding::new(
            FindingCode::RestrictionNotFlexible,
            format!(
                "vendor {id}: {} restriction for purpose {purpose}, which the vendor does not declare as flexible",
                restriction_name(kind)
            ),
        )
    })
}

fn restriction_name(kind: RestrictionType) -> &'static str {
    match kind {
        RestrictionType::NotAllowed => "not-allowed",
        RestrictionType::RequireConsent => "require-consent",
        RestrictionType::RequireLegitimateInterest => "require-legitimate-interest",
    }
}

/// Mandatory since TCF v2.3. Strings made earlier without it stay readable
/// during the transition, but a CMP writing one today breaks the current
/// policy, so its absence is an error whatever the string's policy version.
fn check_disclosed_vendors_missing(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if cx.tc.vendors_disclosed.is_none() {
        out.push(Finding::new(
            FindingCode::DisclosedVendorsMissing,
            "the disclosed vendors segment is missing; it is mandatory since TCF v2.3".to_owned(),
        ));
    }
}

/// Without the segment there is nothing to compare: that case is
/// `disclosed_vendors_missing` alone.
fn check_vendors_disclosed(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let Some(disclosed) = &cx.tc.vendors_disclosed else {
        return;
    };
    for &id in cx.signalled.iter().filter(|id| !disclosed.contains(**id)) {
        out.push(
            Finding::new(
                FindingCode::VendorNotDisclosed,
                format!("vendor {id}: has consent or legitimate interest but is not in the disclosed vendors segment"),
            )
            .vendor(id),
        );
    }
}

fn check_created_in_future(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (created, now) = (cx.tc.created, cx.now);
    if created > now {
        out.push(Finding::new(
            FindingCode::CreatedInFuture,
            format!("created {} is after now ({})", show(created), show(now)),
        ));
    }
}

fn check_last_updated_in_future(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (updated, now) = (cx.tc.last_updated, cx.now);
    if updated > now {
        out.push(Finding::new(
            FindingCode::LastUpdatedInFuture,
            format!("lastUpdated {} is after now ({})", show(updated), show(now)),
        ));
    }
}

fn check_last_updated_before_created(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (created, updated) = (cx.tc.created, cx.tc.last_updated);
    if updated < created {
        out.push(Finding::new(
            FindingCode::LastUpdatedBeforeCreated,
            format!(
                "lastUpdated {} is before created {}",
                show(updated),
                show(created)
            ),
        ));
    }
}

fn check_stale(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let (updated, now) = (cx.tc.last_updated, cx.now);
    let Some(cutoff) = months_before(now, STALE_AFTER_MONTHS) else {
        return;
    };
    if updated < cutoff {
        out.push(Finding::new(
            FindingCode::Stale,
            format!(
                "lastUpdated {} is more than {STALE_AFTER_MONTHS} months before now ({})",
                show(updated),
                show(now)
            ),
        ));
    }
}

/// The vendors of `ids` that the GVL knows, with their entries.
fn known_vendors<'a>(
    cx: &'a Context<'_>,
    ids: impl Iterator<Item = u32> + 'a,
) -> impl Iterator<Item = (u32, &'a Vendor)> + 'a {
    ids.filter_map(move |id| cx.gvl.vendor(id).map(|v| (id, v)))
}

fn to_datetime(t: Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(t.unix_millis()) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

fn show(t: Timestamp) -> String {
    match to_datetime(t) {
        Some(d) => crate::gvl::format_date(d),
        None => format!("{} deciseconds", t.deciseconds()),
    }
}

/// `t` moved back `months` calendar months, the day clamped to the end of
/// a shorter month (31 March minus one month is 28 or 29 February).
/// `None` when the result would precede the epoch: nothing is older then.
pub fn months_before(t: Timestamp, months: u32) -> Option<Timestamp> {
    let dt = to_datetime(t)?;
    let index =
        dt.year() * 12 + i32::from(u8::from(dt.month())) - 1 - i32::try_from(months).ok()?;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = Month::try_from(u8::try_from(month0 + 1).ok()?).ok()?;
    let day = dt.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let moved = dt.replace_date(date);
    let millis = i64::try_from(moved.unix_timestamp_nanos() / 1_000_000).ok()?;
    Timestamp::from_unix_millis(millis)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use super::*;
    use crate::model::{PublisherRestriction, PublisherTc};
    use crate::VendorSet;
    use time::macros::datetime;

    const FIXTURE: &str = include_str!("../tests/fixtures/gvl/vendor-list.json");

    fn gvl() -> Gvl {
        Gvl::from_json(FIXTURE).unwrap()
    }

    fn at(dt: OffsetDateTime) -> Timestamp {
        Timestamp::from_unix_millis(i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).unwrap())
            .unwrap()
    }

    fn ids(list: &[u32]) -> VendorSet {
        VendorSet::try_from(list).unwrap()
    }

    fn now() -> Timestamp {
        at(datetime!(2025-07-01 12:00 UTC))
    }

    /// A string that passes every check against the fixture GVL: vendor 1
    /// and 5 with consent, 2 with legitimate interest, all disclosed.
    fn clean() -> TcModel {
        let mut tc = TcModel {
            created: at(datetime!(2025-06-10 00:00 UTC)),
            last_updated: at(datetime!(2025-06-10 00:00 UTC)),
            vendor_list_version: 42,
            policy_version: 5,
            vendor_consents: ids(&[1, 5]),
            vendor_legitimate_interests: ids(&[2]),
            vendors_disclosed: Some(ids(&[1, 2, 3, 5, 6])),
            ..TcModel::default()
        };
        tc.purpose_consents = [1, 2, 3, 4].as_slice().try_into().unwrap();
        tc.purpose_legitimate_interests = [2, 7, 8, 9, 10].as_slice().try_into().unwrap();
        tc
    }

    fn run(tc: &TcModel) -> Vec<Finding> {
        validate(tc, &gvl(), now())
    }

    fn codes(tc: &TcModel) -> Vec<&'static str> {
        run(tc).iter().map(|f| f.code.as_str()).collect()
    }

    fn restrict(purpose_id: u8, kind: RestrictionType, vendors: &[u32]) -> PublisherRestriction {
        PublisherRestriction {
            purpose_id,
            restriction_type: kind,
            vendors: ids(vendors),
        }
    }

    #[test]
    fn the_clean_string_has_no_findings() {
        assert_eq!(run(&clean()), []);
    }

    #[test]
    fn codes_are_unique_snake_case_and_severities_fixed() {
        let all: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(all.len(), FindingCode::ALL.len());
        for code in all {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
        assert_eq!(FindingCode::Stale.severity(), Severity::Warning);
        assert_eq!(FindingCode::VendorNotDisclosed.severity(), Severity::Error);
    }

    #[test]
    fn findings_serialize_with_stable_names() {
        let mut tc = clean();
        tc.vendors_disclosed = Some(ids(&[1, 5]));
        let json = serde_json::to_value(run(&tc)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "code": "vendor_not_disclosed",
                "severity": "error",
                "message": "vendor 2: has consent or legitimate interest but is not in the disclosed vendors segment",
                "vendorId": 2,
                "purposeId": null
            }])
        );
    }

    #[test]
    fn policy_version_unknown() {
        for version in [0, 1, 6, 63] {
            let tc = TcModel {
                policy_version: version,
                ..clean()
            };
            assert_eq!(codes(&tc), ["policy_version_unknown"], "version {version}");
        }
        for version in 4..=5 {
            let tc = TcModel {
                policy_version: version,
                ..clean()
            };
            assert_eq!(codes(&tc), Vec::<&str>::new(), "version {version}");
        }
    }

    #[test]
    fn policy_version_outdated() {
        for version in [2, 3] {
            let tc = TcModel {
                policy_version: version,
                ..clean()
            };
            assert_eq!(codes(&tc), ["policy_version_outdated"], "version {version}");
            assert_eq!(run(&tc)[0].severity, Severity::Warning);
        }
    }

    #[test]
    fn policy_version_newer_than_gvl() {
        let mut old_gvl = gvl();
        old_gvl.tcf_policy_version = 4;
        let found = validate(&clean(), &old_gvl, now());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::PolicyVersionNewerThanGvl);
        let tc = TcModel {
            policy_version: 4,
            ..clean()
        };
        assert_eq!(validate(&tc, &old_gvl, now()), []);
    }

    #[test]
    fn vendor_list_version_zero() {
        let tc = TcModel {
            vendor_list_version: 0,
            ..clean()
        };
        assert_eq!(codes(&tc), ["vendor_list_version_zero"]);
        let tc = TcModel {
            vendor_list_version: 1,
            ..clean()
        };
        assert_eq!(codes(&tc), Vec::<&str>::new());
    }

    #[test]
    fn vendor_list_version_newer_than_gvl() {
        let tc = TcModel {
            vendor_list_version: 43,
            ..clean()
        };
        assert_eq!(codes(&tc), ["vendor_list_version_newer_than_gvl"]);
    }

    #[test]
    fn purpose_li_not_allowed_for_purposes_1_and_3_to_6() {
        for purpose in 1..=10u32 {
            let mut tc = clean();
            tc.purpose_legitimate_interests.insert(purpose).unwrap();
            let found = run(&tc);
            if [1, 3, 4, 5, 6].contains(&purpose) {
                assert_eq!(found.len(), 1, "purpose {purpose}");
                assert_eq!(found[0].code, FindingCode::PurposeLiNotAllowed);
                assert_eq!(found[0].purpose_id, Some(purpose));
            } else {
                assert_eq!(found, [], "purpose {purpose}");
            }
        }
    }

    #[test]
    fn purpose_li_for_3_to_6_was_allowed_before_policy_version_4() {
        let mut tc = TcModel {
            policy_version: 3,
            ..clean()
        };
        tc.purpose_legitimate_interests.insert(3).unwrap();
        assert_eq!(codes(&tc), ["policy_version_outdated"]);
        tc.purpose_legitimate_interests.insert(1).unwrap();
        assert_eq!(
            codes(&tc),
            ["policy_version_outdated", "purpose_li_not_allowed"]
        );
    }

    #[test]
    fn purpose_li_not_allowed_in_the_publisher_segment() {
        let mut publisher = PublisherTc::default();
        publisher.purpose_legitimate_interests.insert(7).unwrap();
        let mut tc = TcModel {
            publisher_tc: Some(publisher),
            ..clean()
        };
        assert_eq!(codes(&tc), Vec::<&str>::new());
        if let Some(p) = tc.publisher_tc.as_mut() {
            p.purpose_legitimate_interests.insert(4).unwrap();
        }
        let found = run(&tc);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::PurposeLiNotAllowed);
        assert!(found[0].message.contains("PubPurposesLITransparency"));
    }

    #[test]
    fn vendor_unknown() {
        let mut tc = clean();
        tc.vendor_consents.insert(99).unwrap();
        tc.vendors_disclosed.as_mut().unwrap().insert(99).unwrap();
        let found = run(&tc);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::VendorUnknown);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].vendor_id, Some(99));
    }

    #[test]
    fn vendor_deleted() {
        for legitimate_interest in [false, true] {
            let mut tc = clean();
            tc.vendors_disclosed.as_mut().unwrap().insert(4).unwrap();
            if legitimate_interest {
                tc.vendor_legitimate_interests.insert(4).unwrap();
            } else {
                tc.vendor_consents.insert(4).unwrap();
            }
            let found: Vec<_> = run(&tc)
                .into_iter()
                .filter(|f| f.code == FindingCode::VendorDeleted)
                .collect();
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].vendor_id, Some(4));
            assert!(
                found[0].message.contains("2025-01-15"),
                "{}",
                found[0].message
            );
        }
    }

    #[test]
    fn vendor_consent_without_purpose() {
        // Vendor 6 declares legitimate interest purposes only, vendor 3
        // special purposes only.
        for vendor in [6, 3] {
            let mut tc = clean();
            tc.vendor_consents.insert(vendor).unwrap();
            let found = run(&tc);
            assert_eq!(found.len(), 1, "vendor {vendor}");
            assert_eq!(found[0].code, FindingCode::VendorConsentWithoutPurpose);
            assert_eq!(found[0].vendor_id, Some(vendor));
        }
        // A special feature alone is a consent (opt-in) basis.
        let mut only_special_feature = gvl();
        let v5 = only_special_feature.vendors.get_mut(&5).unwrap();
        v5.purposes.clear();
        assert_eq!(validate(&clean(), &only_special_feature, now()), []);
        let v5 = only_special_feature.vendors.get_mut(&5).unwrap();
        v5.special_features.clear();
        let found = validate(&clean(), &only_special_feature, now());
        assert_eq!(found[0].code, FindingCode::VendorConsentWithoutPurpose);
    }

    #[test]
    fn vendor_li_without_purpose() {
        let mut tc = clean();
        tc.vendor_legitimate_interests.insert(5).unwrap();
        let found = run(&tc);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::VendorLiWithoutPurpose);
        assert_eq!(found[0].vendor_id, Some(5));
        // Flexible purposes (vendor 1) and special purposes (vendor 3) are a
        // legitimate interest basis.
        let mut tc = clean();
        tc.vendor_legitimate_interests = ids(&[1, 2, 3]);
        assert_eq!(run(&tc), []);
    }

    #[test]
    fn restriction_not_flexible() {
        // Vendor 6 uses purpose 8 on legitimate interest, not flexibly.
        for kind in [
            RestrictionType::RequireConsent,
            RestrictionType::RequireLegitimateInterest,
        ] {
            let tc = TcModel {
                publisher_restrictions: vec![restrict(8, kind, &[6])],
                ..clean()
            };
            let found = run(&tc);
            assert_eq!(found.len(), 1, "{kind:?}");
            assert_eq!(found[0].code, FindingCode::RestrictionNotFlexible);
            assert_eq!(
                (found[0].vendor_id, found[0].purpose_id),
                (Some(6), Some(8))
            );
        }
        let fine = TcModel {
            publisher_restrictions: vec![
                restrict(7, RestrictionType::RequireConsent, &[2]),
                restrict(2, RestrictionType::RequireLegitimateInterest, &[1]),
                restrict(3, RestrictionType::NotAllowed, &[1]),
            ],
            ..clean()
        };
        assert_eq!(run(&fine), []);
    }

    #[test]
    fn restriction_purpose_unused() {
        for kind in [
            RestrictionType::NotAllowed,
            RestrictionType::RequireConsent,
            RestrictionType::RequireLegitimateInterest,
        ] {
            let tc = TcModel {
                publisher_restrictions: vec![restrict(11, kind, &[1])],
                ..clean()
            };
            let found = run(&tc);
            assert_eq!(found.len(), 1, "{kind:?}");
            assert_eq!(found[0].code, FindingCode::RestrictionPurposeUnused);
            assert_eq!(found[0].severity, Severity::Warning);
        }
        // Vendors the GVL does not know are skipped: ranges cover gaps.
        let tc = TcModel {
            publisher_restrictions: vec![restrict(11, RestrictionType::NotAllowed, &[99, 1000])],
            ..clean()
        };
        assert_eq!(run(&tc), []);
    }

    #[test]
    fn disclosed_vendors_missing() {
        let tc = TcModel {
            vendors_disclosed: None,
            ..clean()
        };
        assert_eq!(codes(&tc), ["disclosed_vendors_missing"]);
    }

    #[test]
    fn vendor_not_disclosed() {
        let tc = TcModel {
            vendors_disclosed: Some(ids(&[5])),
            ..clean()
        };
        let found = run(&tc);
        let vendors: Vec<_> = found.iter().map(|f| f.vendor_id).collect();
        assert!(found
            .iter()
            .all(|f| f.code == FindingCode::VendorNotDisclosed));
        assert_eq!(vendors, [Some(1), Some(2)]);
    }

    #[test]
    fn created_and_last_updated_in_future() {
        let later = Timestamp::from_deciseconds(now().deciseconds() + 1).unwrap();
        let tc = TcModel {
            created: later,
            last_updated: later,
            ..clean()
        };
        assert_eq!(codes(&tc), ["created_in_future", "last_updated_in_future"]);
        let tc = TcModel {
            created: now(),
            last_updated: now(),
            ..clean()
        };
        assert_eq!(run(&tc), []);
    }

    #[test]
    fn last_updated_before_created() {
        let tc = clean();
        let earlier = Timestamp::from_deciseconds(tc.created.deciseconds() - 1).unwrap();
        let tc = TcModel {
            last_updated: earlier,
            ..tc
        };
        assert_eq!(codes(&tc), ["last_updated_before_created"]);
    }

    #[test]
    fn stale_after_13_calendar_months() {
        let tc = clean(); // last updated 2025-06-10 00:00
        let boundary = at(datetime!(2026-07-10 00:00 UTC));
        assert_eq!(validate(&tc, &gvl(), boundary), []);
        let after = Timestamp::from_deciseconds(boundary.deciseconds() + 1).unwrap();
        let found = validate(&tc, &gvl(), after);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::Stale);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn months_before_clamps_to_the_end_of_shorter_months() {
        let cases = [
            (
                datetime!(2025-03-31 10:00 UTC),
                13,
                datetime!(2024-02-29 10:00 UTC),
            ),
            (
                datetime!(2026-03-31 10:00 UTC),
                1,
                datetime!(2026-02-28 10:00 UTC),
            ),
            (
                datetime!(2025-01-15 00:00 UTC),
                13,
                datetime!(2023-12-15 00:00 UTC),
            ),
            (
                datetime!(2025-12-31 23:59 UTC),
                12,
                datetime!(2024-12-31 23:59 UTC),
            ),
        ];
        for (from, months, expected) in cases {
            assert_eq!(
                months_before(at(from), months),
                Some(at(expected)),
                "{from}"
            );
        }
        assert_eq!(months_before(at(datetime!(1970-06-01 00:00 UTC)), 13), None);
    }
}
