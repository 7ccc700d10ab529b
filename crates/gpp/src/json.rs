//! The JSON form, field names as the reference library's.
//!
//! Decoding ([`to_json`], [`decode_to_json`]) writes
//! `{"gppString": "...", "version": 1, "sectionIds": [7, 8], "sections":
//! {"usnat": {...}, "usca": {...}}}`, each section object having exactly the
//! reference's field names as keys with the values its `getSection` returns:
//! 2-bit fields and lists as integers, bitfields as arrays of booleans, id
//! lists as arrays of integers, publisher restrictions as `{"key", "type",
//! "ids"}` objects, dates as ISO 8601 strings with milliseconds (what
//! `JSON.stringify` makes of the reference's `Date`s), `uspv1` flags as
//! one-character strings. Beyond `getSection`, sections with an optional
//! sub-segment also carry its flag (`GpcSegmentIncluded`,
//! `SensitiveDataConsentSegmentIncluded`), which the reference keeps as a
//! field but leaves out of `getSection`; without it a string with no GPC
//! sub-section and one with `Gpc` false would look the same. A `usnat`
//! section of `Version` 1 lists 12 `SensitiveDataProcessing` and 2
//! `KnownChildSensitiveDataConsents` values, as the reference returns them.
//!
//! Encoding ([`from_json`]) reads the same object. Only `"sections"` is
//! required; `"gppString"`, `"version"` and `"sectionIds"` are ignored, so a
//! decoded object can be edited and encoded again; fields missing from a section take the reference's defaults
//! (dates: the given time, the start of its day for `tcfeuv2` as the
//! reference stamps it; when only one of `Created` and `LastUpdated` is
//! given, the other takes its value, as the reference keeps them in sync).
//! Unknown sections and fields, values of the wrong type and values outside
//! the reference's validators are errors naming the section and field. As
//! the reference: `tcfeuv2` must be service-specific, and its legitimate
//! interest for purposes 1 and 3 to 6 is cleared.

use crate::model::{section_name, GppString, Section, HEADER_VERSION, SECTION_IDS};
use crate::tcfcav1::{self, PubRestriction, TcfCaV1};
use crate::tcfeuv2::{self, TcfEuV2};
use crate::us::{Kind, UsSectionDef};
use crate::uspv1::{self, UspFlag, UspV1};
use crate::GppError;
use nexaguard_tcf::{
    CustomPurposeSet, IdSet, Letters, PublisherRestriction, PublisherTc, PurposeSet,
    RestrictionType, TcModel, Timestamp, VendorSet,
};
use serde_json::{Map, Value};
use time::OffsetDateTime;

// ---------------------------------------------------------------- writing

/// Decodes `s` and writes its JSON form to `out`.
pub fn decode_to_json(s: &str, out: &mut Vec<u8>) -> Result<(), GppError> {
    let gpp = crate::decode(s)?;
    to_json(&gpp, s, out);
    Ok(())
}

/// Writes the JSON form of `gpp`; `gpp_string` is the string it was decoded
/// from (or encodes to).
pub fn to_json(gpp: &GppString, gpp_string: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"gppString\":");
    string(out, gpp_string);
    out.extend_from_slice(b",\"version\":");
    num(out, u64::from(HEADER_VERSION));
    out.extend_from_slice(b",\"sectionIds\":[");
    let mut order: Vec<&Section> = gpp.sections.iter().collect();
    order.sort_by_key(|s| s.id());
    for (i, s) in order.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        num(out, u64::from(s.id()));
    }
    out.extend_from_slice(b"],\"sections\":{");
    for (i, s) in order.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, s.name());
        out.push(b':');
        section_to_json(s, out);
    }
    out.extend_from_slice(b"}}");
}

/// The JSON form of `gpp` as a value.
pub fn to_value(gpp: &GppString, gpp_string: &str) -> Value {
    let mut out = Vec::new();
    to_json(gpp, gpp_string, &mut out);
    serde_json::from_slice(&out).unwrap_or(Value::Null)
}

/// Writes one section's object.
pub fn section_to_json(section: &Section, out: &mut Vec<u8>) {
    let mut o = Obj::new(out);
    match section {
        Section::TcfEuV2(s) => tcfeuv2_json(&s.0, &mut o),
        Section::TcfCaV1(s) => tcfcav1_json(s, &mut o),
        Section::UspV1(s) => {
            o.key("Version");
            num(o.out, u64::from(s.version));
            for (name, flag) in s.flags() {
                o.key(name);
                let mut buf = [0u8; 4];
                string(o.out, flag.as_char().encode_utf8(&mut buf));
            }
        }
        other => {
            if let Some((def, flat)) = other.us() {
                us_json(def, &flat, &mut o);
            }
        }
    }
    o.out.push(b'}');
}

fn us_json(def: &UsSectionDef, flat: &crate::us::Flat, o: &mut Obj<'_>) {
    let v1 = def.id == 7 && flat.get(0) == 1;
    let core_len = def.core.len();
    for (i, (slot, f)) in def.fields().enumerate() {
        if i == core_len {
            if let Some(sub) = def.sub {
                o.key(sub.included);
                boolean(o.out, flat.included);
            }
        }
        o.key(f.name);
        match f.kind {
            Kind::Int { .. } => num(o.out, u64::from(flat.get(slot))),
            Kind::Bool { .. } => boolean(o.out, flat.get(slot) != 0),
            Kind::List { len, .. } => {
                let n = match (v1, f.name) {
                    (true, "SensitiveDataProcessing") => 12,
                    (true, "KnownChildSensitiveDataConsents") => 2,
                    _ => usize::from(len),
                };
                o.out.push(b'[');
                for k in 0..n {
                    if k > 0 {
                        o.out.push(b',');
                    }
                    num(o.out, u64::from(flat.get(slot + k)));
                }
                o.out.push(b']');
            }
        }
    }
}

fn tcfeuv2_json(m: &TcModel, o: &mut Obj<'_>) {
    o.num("Version", u64::from(nexaguard_tcf::TC_STRING_VERSION));
    o.key("Created");
    date(o.out, m.created);
    o.key("LastUpdated");
    date(o.out, m.last_updated);
    o.num("CmpId", m.cmp_id.into());
    o.num("CmpVersion", m.cmp_version.into());
    o.num("ConsentScreen", m.consent_screen.into());
    o.str("ConsentLanguage", m.consent_language.as_str());
    o.num("VendorListVersion", m.vendor_list_version.into());
    o.num("PolicyVersion", m.policy_version.into());
    o.bool("IsServiceSpecific", m.is_service_specific);
    o.bool("UseNonStandardStacks", m.use_non_standard_texts);
    o.flags(
        "SpecialFeatureOptins",
        (1..=12).map(|i| m.special_feature_optins.contains(i)),
    );
    o.flags(
        "PurposeConsents",
        (1..=24).map(|i| m.purpose_consents.contains(i)),
    );
    o.flags(
        "PurposeLegitimateInterests",
        (1..=24).map(|i| m.purpose_legitimate_interests.contains(i)),
    );
    o.bool("PurposeOneTreatment", m.purpose_one_treatment);
    o.str("PublisherCountryCode", m.publisher_country_code.as_str());
    o.ids("VendorConsents", m.vendor_consents.iter().map(u64::from));
    o.ids(
        "VendorLegitimateInterests",
        m.vendor_legitimate_interests.iter().map(u64::from),
    );
    o.key("PublisherRestrictions");
    o.out.push(b'[');
    for (i, r) in m.publisher_restrictions.iter().enumerate() {
        if i > 0 {
            o.out.push(b',');
        }
        restriction(
            o.out,
            r.purpose_id,
            r.restriction_type.bits(),
            r.vendors.iter().map(u64::from),
        );
    }
    o.out.push(b']');
    let default_ptc = PublisherTc::default();
    let p = m.publisher_tc.as_ref().unwrap_or(&default_ptc);
    o.num("PublisherPurposesSegmentType", 3);
    o.flags(
        "PublisherConsents",
        (1..=24).map(|i| p.purpose_consents.contains(i)),
    );
    o.flags(
        "PublisherLegitimateInterests",
        (1..=24).map(|i| p.purpose_legitimate_interests.contains(i)),
    );
    o.num("NumCustomPurposes", p.num_custom_purposes.into());
    let n = u32::from(p.num_custom_purposes);
    o.flags(
        "PublisherCustomConsents",
        (1..=n).map(|i| p.custom_purpose_consents.contains(i)),
    );
    o.flags(
        "PublisherCustomLegitimateInterests",
        (1..=n).map(|i| p.custom_purpose_legitimate_interests.contains(i)),
    );
    let empty = VendorSet::new();
    o.num("VendorsAllowedSegmentType", 2);
    o.ids(
        "VendorsAllowed",
        m.vendors_allowed
            .as_ref()
            .unwrap_or(&empty)
            .iter()
            .map(u64::from),
    );
    o.num("VendorsDisclosedSegmentType", 1);
    o.ids(
        "VendorsDisclosed",
        m.vendors_disclosed
            .as_ref()
            .unwrap_or(&empty)
            .iter()
            .map(u64::from),
    );
}

fn tcfcav1_json(m: &TcfCaV1, o: &mut Obj<'_>) {
    o.num("Version", m.version.into());
    o.key("Created");
    date(o.out, m.created);
    o.key("LastUpdated");
    date(o.out, m.last_updated);
    o.num("CmpId", m.cmp_id.into());
    o.num("CmpVersion", m.cmp_version.into());
    o.num("ConsentScreen", m.consent_screen.into());
    o.str("ConsentLanguage", m.consent_language.as_str());
    o.num("VendorListVersion", m.vendor_list_version.into());
    o.num("TcfPolicyVersion", m.tcf_policy_version.into());
    o.bool("UseNonStandardStacks", m.use_non_standard_stacks);
    o.flags(
        "SpecialFeatureExpressConsent",
        m.special_feature_express_consent.iter().copied(),
    );
    o.flags(
        "PurposesExpressConsent",
        m.purposes_express_consent.iter().copied(),
    );
    o.flags(
        "PurposesImpliedConsent",
        m.purposes_implied_consent.iter().copied(),
    );
    o.ids(
        "VendorExpressConsent",
        m.vendor_express_consent.iter().map(|&i| u64::from(i)),
    );
    o.ids(
        "VendorImpliedConsent",
        m.vendor_implied_consent.iter().map(|&i| u64::from(i)),
    );
    o.key("PubRestrictions");
    o.out.push(b'[');
    for (i, r) in m.pub_restrictions.iter().enumerate() {
        if i > 0 {
            o.out.push(b',');
        }
        restriction(
            o.out,
            r.purpose_id,
            r.restriction_type,
            r.vendor_ids.iter().map(|&i| u64::from(i)),
        );
    }
    o.out.push(b']');
    o.num(
        "PubPurposesSegmentType",
        tcfcav1::PUB_PURPOSES_SEGMENT_TYPE.into(),
    );
    o.flags(
        "PubPurposesExpressConsent",
        m.pub_purposes_express_consent.iter().copied(),
    );
    o.flags(
        "PubPurposesImpliedConsent",
        m.pub_purposes_implied_consent.iter().copied(),
    );
    o.num("NumCustomPurposes", m.num_custom_purposes.into());
    let n = usize::from(m.num_custom_purposes);
    let flex = |list: &[bool]| {
        (0..n)
            .map(|i| list.get(i).copied().unwrap_or(false))
            .collect::<Vec<_>>()
    };
    o.flags(
        "CustomPurposesExpressConsent",
        flex(&m.custom_purposes_express_consent).into_iter(),
    );
    o.flags(
        "CustomPurposesImpliedConsent",
        flex(&m.custom_purposes_implied_consent).into_iter(),
    );
    o.num(
        "DisclosedVendorsSegmentType",
        tcfcav1::DISCLOSED_VENDORS_SEGMENT_TYPE.into(),
    );
    o.ids(
        "DisclosedVendors",
        m.disclosed_vendors.iter().map(|&i| u64::from(i)),
    );
}

fn restriction(out: &mut Vec<u8>, key: u8, ty: u8, ids: impl Iterator<Item = u64>) {
    out.extend_from_slice(b"{\"key\":");
    num(out, key.into());
    out.extend_from_slice(b",\"type\":");
    num(out, ty.into());
    out.extend_from_slice(b",\"ids\":[");
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        num(out, id);
    }
    out.extend_from_slice(b"]}");
}

/// An object being written: adds the commas.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, k);
        self.out.push(b':');
    }

    fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        num(self.out, v);
    }

    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        boolean(self.out, v);
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        string(self.out, v);
    }

    fn flags(&mut self, k: &str, v: impl Iterator<Item = bool>) {
        self.key(k);
        self.out.push(b'[');
        for (i, b) in v.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            boolean(self.out, b);
        }
        self.out.push(b']');
    }

    fn ids(&mut self, k: &str, v: impl Iterator<Item = u64>) {
        self.key(k);
        self.out.push(b'[');
        for (i, id) in v.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            num(self.out, id);
        }
        self.out.push(b']');
    }
}

fn num(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

fn boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Writes a timestamp as `JSON.stringify` writes a `Date`:
/// `"2024-05-01T12:30:00.500Z"`.
fn date(out: &mut Vec<u8>, t: Timestamp) {
    let ms = t.unix_millis();
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let s = format!(
        "\"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z\"",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    out.extend_from_slice(s.as_bytes());
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// ---------------------------------------------------------------- reading

/// Reads the JSON form into a model. `now` stands in for the reference's
/// current time where a date is missing.
pub fn from_json(json: &str, now: OffsetDateTime) -> Result<GppString, GppError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| GppError::InvalidJson(e.to_string()))?;
    from_value(&value, now)
}

/// [`from_json`] for a parsed value.
pub fn from_value(value: &Value, now: OffsetDateTime) -> Result<GppString, GppError> {
    let top = value
        .as_object()
        .ok_or_else(|| GppError::InvalidJson("the document must be an object".into()))?;
    for k in top.keys() {
        if !matches!(
            k.as_str(),
            "sections" | "gppString" | "version" | "sectionIds"
        ) {
            return Err(GppError::UnknownField {
                section: "gpp",
                field: k.clone(),
            });
        }
    }
    let sections = top
        .get("sections")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            GppError::InvalidJson("\"sections\" must be an object of sections by name".into())
        })?;
    let mut gpp = GppString::default();
    for (name, body) in sections {
        let id = SECTION_IDS
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| *id)
            .ok_or_else(|| GppError::UnknownSection(name.clone()))?;
        let fields = body.as_object().ok_or_else(|| GppError::InvalidField {
            section: section_name(id).unwrap_or("gpp"),
            field: "sections",
            reason: "a section must be an object of fields".into(),
        })?;
        gpp.sections.push(section_from_json(id, fields, now)?);
    }
    gpp.sections.sort_by_key(Section::id);
    Ok(gpp)
}

/// One section from its JSON object.
pub fn section_from_json(
    id: u8,
    fields: &Map<String, Value>,
    now: OffsetDateTime,
) -> Result<Section, GppError> {
    match id {
        tcfeuv2::ID => tcfeuv2_from(fields, now).map(|m| Section::TcfEuV2(TcfEuV2(m))),
        tcfcav1::ID => tcfcav1_from(fields, now).map(Section::TcfCaV1),
        uspv1::ID => uspv1_from(fields).map(Section::UspV1),
        _ => {
            let def =
                crate::us::us_def(id).ok_or_else(|| GppError::UnknownSection(id.to_string()))?;
            let flat = us_from(def, fields)?;
            Section::from_us(id, &flat).ok_or_else(|| GppError::UnknownSection(id.to_string()))
        }
    }
}

fn us_from(
    def: &'static UsSectionDef,
    fields: &Map<String, Value>,
) -> Result<crate::us::Flat, GppError> {
    let mut flat = def.defaults();
    for (k, v) in fields {
        if let Some(sub) = def.sub {
            if k == sub.included {
                flat.included = get_bool(v, def.name, sub.included)?;
                continue;
            }
        }
        let (slot, f) = def.field(k).ok_or_else(|| GppError::UnknownField {
            section: def.name,
            field: k.clone(),
        })?;
        match f.kind {
            Kind::Int { min, max, .. } => {
                let x = get_int(v, def.name, f.name, min.into(), max.into())?;
                if let Some(s) = flat.v.get_mut(slot) {
                    *s = x as u8;
                }
            }
            Kind::Bool { .. } => {
                let b = get_bool(v, def.name, f.name)?;
                if let Some(s) = flat.v.get_mut(slot) {
                    *s = u8::from(b);
                }
            }
            Kind::List { len, min, max, .. } => {
                let items = get_array(v, def.name, f.name, usize::from(len))?;
                for k in 0..usize::from(len) {
                    let x = match items.get(k) {
                        Some(item) => {
                            get_int(item, def.name, f.name, min.into(), max.into())? as u8
                        }
                        None => 0,
                    };
                    if let Some(s) = flat.v.get_mut(slot + k) {
                        *s = x;
                    }
                }
            }
        }
    }
    Ok(flat)
}

fn uspv1_from(fields: &Map<String, Value>) -> Result<UspV1, GppError> {
    let mut m = UspV1::default();
    for (k, v) in fields {
        match k.as_str() {
            "Version" => m.version = get_int(v, uspv1::NAME, "Version", 0, 9)? as u8,
            "Notice" => m.notice = usp_flag(v, "Notice")?,
            "OptOutSale" => m.opt_out_sale = usp_flag(v, "OptOutSale")?,
            "LspaCovered" => m.lspa_covered = usp_flag(v, "LspaCovered")?,
            _ => {
                return Err(GppError::UnknownField {
                    section: uspv1::NAME,
                    field: k.clone(),
                })
            }
        }
    }
    Ok(m)
}

fn usp_flag(v: &Value, field: &'static str) -> Result<UspFlag, GppError> {
    let s = v.as_str().unwrap_or("");
    let mut chars = s.chars();
    match (chars.next().and_then(UspFlag::from_char), chars.next()) {
        (Some(f), None) => Ok(f),
        _ => Err(GppError::InvalidField {
            section: uspv1::NAME,
            field,
            reason: format!("{v} is not \"Y\", \"N\" or \"-\""),
        }),
    }
}

/// Which of `Created` and `LastUpdated` were given; the other follows.
fn dates(
    section: &'static str,
    fields: &Map<String, Value>,
    default: Timestamp,
) -> Result<(Timestamp, Timestamp), GppError> {
    let created = fields
        .get("Created")
        .map(|v| get_date(v, section, "Created"))
        .transpose()?;
    let updated = fields
        .get("LastUpdated")
        .map(|v| get_date(v, section, "LastUpdated"))
        .transpose()?;
    Ok(match (created, updated) {
        (Some(c), Some(u)) => (c, u),
        (Some(c), None) => (c, c),
        (None, Some(u)) => (u, u),
        (None, None) => (default, default),
    })
}

fn timestamp_of(t: OffsetDateTime) -> Timestamp {
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
    Timestamp::from_deciseconds(u64::try_from((ms + 50).div_euclid(100)).unwrap_or(0))
        .unwrap_or_default()
}

fn tcfeuv2_from(fields: &Map<String, Value>, now: OffsetDateTime) -> Result<TcModel, GppError> {
    const S: &str = tcfeuv2::NAME;
    let mut m = TcfEuV2::default().0;
    let midnight = now.replace_time(time::Time::MIDNIGHT);
    (m.created, m.last_updated) = dates(S, fields, timestamp_of(midnight))?;
    let mut ptc = PublisherTc::default();
    let mut custom_consents: Vec<bool> = Vec::new();
    let mut custom_li: Vec<bool> = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "Created" | "LastUpdated" => {}
            "Version" => {
                get_int(v, S, "Version", 2, 2)?;
            }
            "CmpId" => m.cmp_id = get_int(v, S, "CmpId", 0, 4095)? as u16,
            "CmpVersion" => m.cmp_version = get_int(v, S, "CmpVersion", 0, 4095)? as u16,
            "ConsentScreen" => m.consent_screen = get_int(v, S, "ConsentScreen", 0, 63)? as u8,
            "ConsentLanguage" => m.consent_language = get_letters(v, S, "ConsentLanguage")?,
            "VendorListVersion" => {
                m.vendor_list_version = get_int(v, S, "VendorListVersion", 0, 4095)? as u16
            }
            "PolicyVersion" => m.policy_version = get_int(v, S, "PolicyVersion", 0, 63)? as u8,
            "IsServiceSpecific" => {
                if !get_bool(v, S, "IsServiceSpecific")? {
                    return Err(GppError::NotServiceSpecific);
                }
            }
            "UseNonStandardStacks" => {
                m.use_non_standard_texts = get_bool(v, S, "UseNonStandardStacks")?
            }
            "SpecialFeatureOptins" => {
                m.special_feature_optins = id_set::<12>(v, S, "SpecialFeatureOptins")?
            }
            "PurposeConsents" => m.purpose_consents = id_set::<24>(v, S, "PurposeConsents")?,
            "PurposeLegitimateInterests" => {
                let mut set: PurposeSet = id_set::<24>(v, S, "PurposeLegitimateInterests")?;
                for p in [1, 3, 4, 5, 6] {
                    set.remove(p);
                }
                m.purpose_legitimate_interests = set;
            }
            "PurposeOneTreatment" => {
                m.purpose_one_treatment = get_bool(v, S, "PurposeOneTreatment")?
            }
            "PublisherCountryCode" => {
                m.publisher_country_code = get_letters(v, S, "PublisherCountryCode")?
            }
            "VendorConsents" => m.vendor_consents = vendor_set(v, S, "VendorConsents")?,
            "VendorLegitimateInterests" => {
                m.vendor_legitimate_interests = vendor_set(v, S, "VendorLegitimateInterests")?
            }
            "PublisherRestrictions" => {
                m.publisher_restrictions = get_restrictions(v, S, "PublisherRestrictions")?
                    .into_iter()
                    .map(|(key, ty, ids)| {
                        let restriction_type =
                            RestrictionType::from_bits(ty).ok_or(GppError::OutOfRange {
                                section: S,
                                field: "PublisherRestrictions",
                                value: ty.into(),
                                min: 0,
                                max: 2,
                            })?;
                        let vendors = VendorSet::try_from(
                            ids.iter().map(|&i| i as u32).collect::<Vec<_>>().as_slice(),
                        )
                        .map_err(|e| GppError::InvalidField {
                            section: S,
                            field: "PublisherRestrictions",
                            reason: e.to_string(),
                        })?;
                        Ok(PublisherRestriction {
                            purpose_id: key,
                            restriction_type,
                            vendors,
                        })
                    })
                    .collect::<Result<_, GppError>>()?;
            }
            "PublisherPurposesSegmentType" => {
                get_int(v, S, "PublisherPurposesSegmentType", 3, 3)?;
            }
            "PublisherConsents" => ptc.purpose_consents = id_set::<24>(v, S, "PublisherConsents")?,
            "PublisherLegitimateInterests" => {
                ptc.purpose_legitimate_interests =
                    id_set::<24>(v, S, "PublisherLegitimateInterests")?
            }
            "NumCustomPurposes" => {
                ptc.num_custom_purposes = get_int(v, S, "NumCustomPurposes", 0, 63)? as u8
            }
            "PublisherCustomConsents" => {
                custom_consents = get_flags(v, S, "PublisherCustomConsents", 63)?
            }
            "PublisherCustomLegitimateInterests" => {
                custom_li = get_flags(v, S, "PublisherCustomLegitimateInterests", 63)?
            }
            "VendorsAllowedSegmentType" => {
                get_int(v, S, "VendorsAllowedSegmentType", 2, 2)?;
            }
            "VendorsAllowed" => {
                let set = vendor_set(v, S, "VendorsAllowed")?;
                m.vendors_allowed = (!set.is_empty()).then_some(set);
            }
            "VendorsDisclosedSegmentType" => {
                get_int(v, S, "VendorsDisclosedSegmentType", 1, 1)?;
            }
            "VendorsDisclosed" => m.vendors_disclosed = Some(vendor_set(v, S, "VendorsDisclosed")?),
            _ => {
                return Err(GppError::UnknownField {
                    section: S,
                    field: k.clone(),
                })
            }
        }
    }
    for (field, flags, set) in [
        (
            "PublisherCustomConsents",
            &custom_consents,
            &mut ptc.custom_purpose_consents,
        ),
        (
            "PublisherCustomLegitimateInterests",
            &custom_li,
            &mut ptc.custom_purpose_legitimate_interests,
        ),
    ] {
        if flags.len() > usize::from(ptc.num_custom_purposes) {
            return Err(GppError::InvalidField {
                section: S,
                field,
                reason: format!(
                    "{} flags for NumCustomPurposes {}",
                    flags.len(),
                    ptc.num_custom_purposes
                ),
            });
        }
        let mut s = CustomPurposeSet::new();
        for (i, &b) in flags.iter().enumerate() {
            if b {
                let _ = s.insert(i as u32 + 1);
            }
        }
        *set = s;
    }
    m.publisher_tc = Some(ptc);
    Ok(m)
}

fn tcfcav1_from(fields: &Map<String, Value>, now: OffsetDateTime) -> Result<TcfCaV1, GppError> {
    const S: &str = tcfcav1::NAME;
    let mut m = TcfCaV1::default();
    (m.created, m.last_updated) = dates(S, fields, timestamp_of(now))?;
    for (k, v) in fields {
        match k.as_str() {
            "Created" | "LastUpdated" => {}
            "Version" => m.version = get_int(v, S, "Version", 0, 63)? as u8,
            "CmpId" => m.cmp_id = get_int(v, S, "CmpId", 0, 4095)? as u16,
            "CmpVersion" => m.cmp_version = get_int(v, S, "CmpVersion", 0, 4095)? as u16,
            "ConsentScreen" => m.consent_screen = get_int(v, S, "ConsentScreen", 0, 63)? as u8,
            "ConsentLanguage" => m.consent_language = get_letters(v, S, "ConsentLanguage")?,
            "VendorListVersion" => {
                m.vendor_list_version = get_int(v, S, "VendorListVersion", 0, 4095)? as u16
            }
            "TcfPolicyVersion" => {
                m.tcf_policy_version = get_int(v, S, "TcfPolicyVersion", 0, 63)? as u8
            }
            "UseNonStandardStacks" => {
                m.use_non_standard_stacks = get_bool(v, S, "UseNonStandardStacks")?
            }
            "SpecialFeatureExpressConsent" => {
                m.special_feature_express_consent =
                    fixed_flags(v, S, "SpecialFeatureExpressConsent")?
            }
            "PurposesExpressConsent" => {
                m.purposes_express_consent = fixed_flags(v, S, "PurposesExpressConsent")?
            }
            "PurposesImpliedConsent" => {
                m.purposes_implied_consent = fixed_flags(v, S, "PurposesImpliedConsent")?
            }
            "VendorExpressConsent" => {
                m.vendor_express_consent = get_ids(v, S, "VendorExpressConsent")?
            }
            "VendorImpliedConsent" => {
                m.vendor_implied_consent = get_ids(v, S, "VendorImpliedConsent")?
            }
            "PubRestrictions" => {
                m.pub_restrictions = get_restrictions(v, S, "PubRestrictions")?
                    .into_iter()
                    .map(
                        |(purpose_id, restriction_type, vendor_ids)| PubRestriction {
                            purpose_id,
                            restriction_type,
                            vendor_ids,
                        },
                    )
                    .collect();
            }
            "PubPurposesSegmentType" => {
                get_int(v, S, "PubPurposesSegmentType", 3, 3)?;
            }
            "PubPurposesExpressConsent" => {
                m.pub_purposes_express_consent = fixed_flags(v, S, "PubPurposesExpressConsent")?
            }
            "PubPurposesImpliedConsent" => {
                m.pub_purposes_implied_consent = fixed_flags(v, S, "PubPurposesImpliedConsent")?
            }
            "NumCustomPurposes" => {
                m.num_custom_purposes = get_int(v, S, "NumCustomPurposes", 0, 63)? as u8
            }
            "CustomPurposesExpressConsent" => {
                m.custom_purposes_express_consent =
                    get_flags(v, S, "CustomPurposesExpressConsent", 63)?
            }
            "CustomPurposesImpliedConsent" => {
                m.custom_purposes_implied_consent =
                    get_flags(v, S, "CustomPurposesImpliedConsent", 63)?
            }
            "DisclosedVendorsSegmentType" => {
                get_int(v, S, "DisclosedVendorsSegmentType", 1, 1)?;
            }
            "DisclosedVendors" => m.disclosed_vendors = get_ids(v, S, "DisclosedVendors")?,
            _ => {
                return Err(GppError::UnknownField {
                    section: S,
                    field: k.clone(),
                })
            }
        }
    }
    let n = usize::from(m.num_custom_purposes);
    for (field, list) in [
        (
            "CustomPurposesExpressConsent",
            &mut m.custom_purposes_express_consent,
        ),
        (
            "CustomPurposesImpliedConsent",
            &mut m.custom_purposes_implied_consent,
        ),
    ] {
        if list.len() > n {
            return Err(GppError::InvalidField {
                section: S,
                field,
                reason: format!("{} flags for NumCustomPurposes {n}", list.len()),
            });
        }
        list.resize(n, false);
    }
    Ok(m)
}

fn get_int(
    v: &Value,
    section: &'static str,
    field: &'static str,
    min: i64,
    max: i64,
) -> Result<i64, GppError> {
    let x = v.as_i64().ok_or_else(|| GppError::InvalidField {
        section,
        field,
        reason: format!("{v} is not an integer"),
    })?;
    if x < min || x > max {
        return Err(GppError::OutOfRange {
            section,
            field,
            value: x,
            min,
            max,
        });
    }
    Ok(x)
}

fn get_bool(v: &Value, section: &'static str, field: &'static str) -> Result<bool, GppError> {
    v.as_bool().ok_or_else(|| GppError::InvalidField {
        section,
        field,
        reason: format!("{v} is not true or false"),
    })
}

fn get_array<'v>(
    v: &'v Value,
    section: &'static str,
    field: &'static str,
    max_len: usize,
) -> Result<&'v Vec<Value>, GppError> {
    let items = v.as_array().ok_or_else(|| GppError::InvalidField {
        section,
        field,
        reason: format!("{v} is not an array"),
    })?;
    if items.len() > max_len {
        return Err(GppError::InvalidField {
            section,
            field,
            reason: format!("{} values, at most {max_len} allowed", items.len()),
        });
    }
    Ok(items)
}

fn get_flags(
    v: &Value,
    section: &'static str,
    field: &'static str,
    max_len: usize,
) -> Result<Vec<bool>, GppError> {
    get_array(v, section, field, max_len)?
        .iter()
        .map(|b| get_bool(b, section, field))
        .collect()
}

fn fixed_flags<const N: usize>(
    v: &Value,
    section: &'static str,
    field: &'static str,
) -> Result<[bool; N], GppError> {
    let mut out = [false; N];
    for (slot, b) in out.iter_mut().zip(get_flags(v, section, field, N)?) {
        *slot = b;
    }
    Ok(out)
}

fn id_set<const N: u32>(
    v: &Value,
    section: &'static str,
    field: &'static str,
) -> Result<IdSet<N>, GppError> {
    let mut set = IdSet::<N>::new();
    for (i, b) in get_flags(v, section, field, N as usize)?
        .into_iter()
        .enumerate()
    {
        if b {
            let _ = set.insert(i as u32 + 1);
        }
    }
    Ok(set)
}

fn get_ids(v: &Value, section: &'static str, field: &'static str) -> Result<Vec<u16>, GppError> {
    let mut ids: Vec<u16> = get_array(v, section, field, usize::MAX)?
        .iter()
        .map(|x| get_int(x, section, field, 1, 65535).map(|i| i as u16))
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn vendor_set(
    v: &Value,
    section: &'static str,
    field: &'static str,
) -> Result<VendorSet, GppError> {
    let ids: Vec<u32> = get_ids(v, section, field)?
        .into_iter()
        .map(u32::from)
        .collect();
    VendorSet::try_from(ids.as_slice()).map_err(|e| GppError::InvalidField {
        section,
        field,
        reason: e.to_string(),
    })
}

fn get_restrictions(
    v: &Value,
    section: &'static str,
    field: &'static str,
) -> Result<Vec<(u8, u8, Vec<u16>)>, GppError> {
    get_array(v, section, field, 4095)?
        .iter()
        .map(|entry| {
            let o = entry.as_object().ok_or_else(|| GppError::InvalidField {
                section,
                field,
                reason: format!("{entry} is not a {{\"key\", \"type\", \"ids\"}} object"),
            })?;
            for k in o.keys() {
                if !matches!(k.as_str(), "key" | "type" | "ids") {
                    return Err(GppError::UnknownField {
                        section,
                        field: format!("{field}.{k}"),
                    });
                }
            }
            let null = Value::Null;
            let key = get_int(o.get("key").unwrap_or(&null), section, field, 0, 63)? as u8;
            let ty = get_int(o.get("type").unwrap_or(&null), section, field, 0, 3)? as u8;
            let ids = get_ids(
                o.get("ids").unwrap_or(&Value::Array(Vec::new())),
                section,
                field,
            )?;
            Ok((key, ty, ids))
        })
        .collect()
}

fn get_letters(v: &Value, section: &'static str, field: &'static str) -> Result<Letters, GppError> {
    v.as_str()
        .and_then(|s| Letters::parse(s).ok())
        .ok_or_else(|| GppError::InvalidField {
            section,
            field,
            reason: format!("{v} is not two letters A-Z"),
        })
}

fn get_date(v: &Value, section: &'static str, field: &'static str) -> Result<Timestamp, GppError> {
    let bad = |why: String| GppError::InvalidField {
        section,
        field,
        reason: why,
    };
    let s = v
        .as_str()
        .ok_or_else(|| bad(format!("{v} is not an ISO 8601 date string")))?;
    let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| bad(format!("{s:?} is not an ISO 8601 date: {e}")))?;
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
    if ms < 0 {
        return Err(bad(format!("{s:?} is before 1970")));
    }
    Timestamp::from_deciseconds(((ms + 50) / 100) as u64)
        .ok_or_else(|| bad(format!("{s:?} is past the 36-bit field")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_are_written_as_javascript_writes_them() {
        let mut out = Vec::new();
        date(
            &mut out,
            Timestamp::from_deciseconds(17_331_696_005).unwrap(),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"2024-12-02T20:00:00.500Z\""
        );
    }
}
