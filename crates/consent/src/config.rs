//! A site's configuration: what the banner asks and how the answer is
//! passed on. Configurations are versioned by the store; a published
//! version never changes.
//!
//! Invariant: a configuration that validates holds in every URL field
//! only what [`check_config_url`] accepts, because `config.json` hands
//! those strings to every visitor's browser as link targets.

use crate::regions::{RegionRule, Severity};
use nexaguard_tcf::gvl::{normalize_language, Gvl};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The default consent lifetime: 13 months, the TCF's guidance for how
/// long a consent may be relied on before asking again.
pub const DEFAULT_CONSENT_LIFETIME_DAYS: u32 = 390;

/// The longest consent lifetime a configuration may set.
pub const MAX_CONSENT_LIFETIME_DAYS: u32 = 395;

/// How consent is collected on the site.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Regulation {
    /// IAB TCF v2.3: a TC string for the ad-tech chain.
    Tcf,
    /// Plain opt-in categories (custom purposes), without TCF.
    OptIn,
}

/// The seven Google Consent Mode v2 types.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConsentModeType {
    /// Storage for advertising.
    AdStorage,
    /// Sending user data to Google for advertising.
    AdUserData,
    /// Personalised advertising.
    AdPersonalization,
    /// Storage for analytics.
    AnalyticsStorage,
    /// Storage for the site's functions (language, settings).
    FunctionalityStorage,
    /// Storage for personalisation (recommendations).
    PersonalizationStorage,
    /// Storage for security (authentication, fraud prevention).
    SecurityStorage,
}

impl ConsentModeType {
    /// All seven, in Google's documentation order.
    pub const ALL: [ConsentModeType; 7] = [
        ConsentModeType::AdStorage,
        ConsentModeType::AdUserData,
        ConsentModeType::AdPersonalization,
        ConsentModeType::AnalyticsStorage,
        ConsentModeType::FunctionalityStorage,
        ConsentModeType::PersonalizationStorage,
        ConsentModeType::SecurityStorage,
    ];

    /// Google's name for the type (`ad_storage`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentModeType::AdStorage => "ad_storage",
            ConsentModeType::AdUserData => "ad_user_data",
            ConsentModeType::AdPersonalization => "ad_personalization",
            ConsentModeType::AnalyticsStorage => "analytics_storage",
            ConsentModeType::FunctionalityStorage => "functionality_storage",
            ConsentModeType::PersonalizationStorage => "personalization_storage",
            ConsentModeType::SecurityStorage => "security_storage",
        }
    }
}

/// A Consent Mode value.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ConsentState {
    /// Allowed.
    Granted,
    /// Not allowed.
    Denied,
}

/// A purpose of the site that is not an IAB purpose ("analytics", "chat").
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomPurpose {
    /// Stable id: lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// Name per language code.
    pub name: BTreeMap<String, String>,
    /// Description per language code.
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    /// Strictly necessary purposes cannot be refused and are always granted.
    #[serde(default)]
    pub necessary: bool,
    /// Cookies the SDK deletes when this purpose is withdrawn: exact names,
    /// or prefixes ending in `*` (`_ga*`).
    #[serde(default)]
    pub cookies: Vec<String>,
}

/// A vendor of the site that is not on the Global Vendor List.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomVendor {
    /// Stable id: lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The custom purposes it uses (by id).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Its privacy policy.
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
}

/// Which purposes grant a Consent Mode type: it is granted when every
/// listed purpose is granted (and denied when the list is empty).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentModeMapping {
    /// IAB purpose ids.
    #[serde(default)]
    pub purposes: Vec<u32>,
    /// Custom purpose ids.
    #[serde(default)]
    pub custom_purposes: Vec<String>,
}

/// Default Consent Mode states before any choice, for some regions.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegionDefaults {
    /// ISO 3166-1 alpha-2 countries or ISO 3166-2 regions (`US-CA`);
    /// empty means every region not listed elsewhere.
    #[serde(default)]
    pub regions: Vec<String>,
    /// The states; types left out are denied.
    pub states: BTreeMap<ConsentModeType, ConsentState>,
    /// Milliseconds Google tags wait for an update (`wait_for_update`).
    #[serde(default)]
    pub wait_for_update_ms: Option<u32>,
}

/// Google Consent Mode v2 settings.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentModeConfig {
    /// Whether the SDK sends Consent Mode signals at all.
    #[serde(default)]
    pub enabled: bool,
    /// For each type, the purposes that grant it.
    #[serde(default)]
    pub mapping: BTreeMap<ConsentModeType, ConsentModeMapping>,
    /// Defaults per region.
    #[serde(default)]
    pub defaults: Vec<RegionDefaults>,
    /// gtag `url_passthrough`: pass ad click ids in URLs when storage is denied.
    #[serde(default)]
    pub url_passthrough: bool,
    /// gtag `ads_data_redaction`: redact ad click ids when ad_storage is denied.
    #[serde(default)]
    pub ads_data_redaction: bool,
}

/// The banner's texts in one language.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Texts {
    /// Banner heading.
    pub title: String,
    /// Banner body.
    pub description: String,
    /// "Accept all" button.
    pub accept_all: String,
    /// "Reject all" button.
    pub reject_all: String,
    /// Button that opens the preference center.
    pub manage: String,
    /// "Save choices" button in the preference center.
    pub save: String,
    /// Link to the privacy policy.
    #[serde(default)]
    pub privacy_policy_url: Option<String>,
}

/// Where and how the banner appears.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// A bar along the bottom of the page.
    #[default]
    Bar,
    /// A box in a corner.
    Box,
    /// A centred dialog over a dimmed page.
    Modal,
}

/// Banner appearance.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Banner {
    /// Layout.
    #[serde(default)]
    pub layout: Layout,
    /// Accent colour, `#rrggbb`.
    #[serde(default = "default_primary")]
    pub primary_color: String,
    /// Background colour, `#rrggbb`.
    #[serde(default = "default_background")]
    pub background_color: String,
    /// Text colour, `#rrggbb`.
    #[serde(default = "default_text")]
    pub text_color: String,
    /// Show a floating button that reopens the preferences after a choice.
    #[serde(default = "default_true")]
    pub floating_button: bool,
}

impl Default for Banner {
    fn default() -> Self {
        Banner {
            layout: Layout::default(),
            primary_color: default_primary(),
            background_color: default_background(),
            text_color: default_text(),
            floating_button: true,
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_primary() -> String {
    "#1f5eff".to_owned()
}
fn default_background() -> String {
    "#ffffff".to_owned()
}
fn default_text() -> String {
    "#1a1a1a".to_owned()
}

/// When a visitor who already chose is asked again.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reconsent {
    /// Ask again when the site's vendor list gains a vendor.
    #[serde(default)]
    pub on_new_vendors: bool,
    /// Ask again when the site's purposes change.
    #[serde(default)]
    pub on_purpose_change: bool,
    /// Ask again when the configuration version passes this one.
    #[serde(default)]
    pub min_config_version: Option<u32>,
}

/// A site's configuration, as published to the banner.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteConfig {
    /// TCF or plain opt-in.
    pub regulation: Regulation,
    /// The CMP id the IAB registered (TCF only; 0 otherwise).
    #[serde(default)]
    pub cmp_id: u16,
    /// The CMP version written into TC strings.
    #[serde(default)]
    pub cmp_version: u16,
    /// The publisher's country, ISO 3166-1 alpha-2.
    pub publisher_country: String,
    /// Whether the GDPR applies to the site's visitors (`gdprApplies` in
    /// the TCF API). Default true: a CMP is deployed because it does.
    #[serde(default = "default_true")]
    pub gdpr_applies: bool,
    /// IAB vendor ids the site works with.
    #[serde(default)]
    pub vendors: Vec<u32>,
    /// IAB purpose ids the site asks for.
    #[serde(default)]
    pub purposes: Vec<u32>,
    /// IAB special feature ids the site asks opt-in for.
    #[serde(default)]
    pub special_features: Vec<u32>,
    /// Custom purposes.
    #[serde(default)]
    pub custom_purposes: Vec<CustomPurpose>,
    /// Custom vendors.
    #[serde(default)]
    pub custom_vendors: Vec<CustomVendor>,
    /// Google Consent Mode v2.
    #[serde(default)]
    pub consent_mode: ConsentModeConfig,
    /// The language shown when the visitor's is not configured.
    pub default_language: String,
    /// Texts per language code (`en`, `de`, `pt-br`).
    pub languages: BTreeMap<String, Texts>,
    /// Banner appearance.
    #[serde(default)]
    pub banner: Banner,
    /// Domain of the consent cookie (`example.com` covers its subdomains);
    /// absent means the page's own host.
    #[serde(default)]
    pub cookie_domain: Option<String>,
    /// Days a consent is relied on before asking again.
    #[serde(default = "default_lifetime")]
    pub consent_lifetime_days: u32,
    /// Re-consent triggers.
    #[serde(default)]
    pub reconsent: Reconsent,
    /// Regional experiences, first match wins (see [`crate::regions`]);
    /// empty means `regulation` everywhere, as before rules existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionRule>,
}

fn default_lifetime() -> u32 {
    DEFAULT_CONSENT_LIFETIME_DAYS
}

/// One problem in a configuration, with the JSON path it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConfigProblem {
    /// Where: `vendors[3]`, `languages.de.title`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A configuration that cannot be read or published.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON, or not the configuration's shape.
    #[error("invalid configuration JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// Readable, but inconsistent or not allowed.
    #[error("invalid configuration: {}", summary(.0))]
    Invalid(Vec<ConfigProblem>),
}

fn summary(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl SiteConfig {
    /// Reads a configuration from JSON and validates it against `gvl`.
    pub fn from_json(json: &str, gvl: &Gvl) -> Result<Self, ConfigError> {
        let config: SiteConfig = serde_json::from_str(json)?;
        config.validate(gvl).map_err(ConfigError::Invalid)?;
        Ok(config)
    }

    /// Every problem found, or `Ok` when the configuration may be published.
    pub fn validate(&self, gvl: &Gvl) -> Result<(), Vec<ConfigProblem>> {
        let mut problems = Problems::default();
        self.validate_tcf(gvl, &mut problems);
        self.validate_custom(&mut problems);
        self.validate_consent_mode(&mut problems);
        self.validate_languages(&mut problems);
        self.validate_banner(&mut problems);
        self.validate_urls(&mut problems);
        for finding in self.region_findings() {
            if finding.severity == Severity::Error {
                problems.add(finding.path, finding.message);
            }
        }
        if !(1..=MAX_CONSENT_LIFETIME_DAYS).contains(&self.consent_lifetime_days) {
            problems.add(
                "consentLifetimeDays",
                format!("must be between 1 and {MAX_CONSENT_LIFETIME_DAYS} days"),
            );
        }
        if let Some(domain) = &self.cookie_domain {
            if !is_domain(domain) {
                problems.add("cookieDomain", format!("{domain:?} is not a domain name"));
            }
        }
        problems.into_result()
    }

    fn validate_tcf(&self, gvl: &Gvl, problems: &mut Problems) {
        if !is_country(&self.publisher_country) {
            problems.add(
                "publisherCountry",
                "must be two uppercase letters (ISO 3166-1)",
            );
        }
        if self.regulation == Regulation::Tcf && self.cmp_id < 2 {
            problems.add(
                "cmpId",
                "TCF needs the CMP id registered with the IAB (2 or more)",
            );
        }
        for (i, &id) in self.vendors.iter().enumerate() {
            match gvl.vendor(id) {
                None => problems.add(
                    format!("vendors[{i}]"),
                    format!("vendor {id} is not on GVL v{}", gvl.vendor_list_version),
                ),
                Some(v) if v.is_deleted() => problems.add(
                    format!("vendors[{i}]"),
                    format!("vendor {id} was deleted from the GVL"),
                ),
                Some(_) => {}
            }
        }
        duplicates("vendors", &self.vendors, problems);
        for (i, &id) in self.purposes.iter().enumerate() {
            if !gvl.purposes.contains_key(&id) {
                problems.add(
                    format!("purposes[{i}]"),
                    format!("purpose {id} is not on the GVL"),
                );
            }
        }
        duplicates("purposes", &self.purposes, problems);
        for (i, &id) in self.special_features.iter().enumerate() {
            if !gvl.special_features.contains_key(&id) {
                problems.add(
                    format!("specialFeatures[{i}]"),
                    format!("special feature {id} is not on the GVL"),
                );
            }
        }
        if self.regulation == Regulation::OptIn && !self.vendors.is_empty() {
            problems.add("vendors", "IAB vendors need regulation \"tcf\"");
        }
    }

    fn validate_custom(&self, problems: &mut Problems) {
        let mut seen = BTreeSet::new();
        for (i, p) in self.custom_purposes.iter().enumerate() {
            if !is_slug(&p.id) {
                problems.add(
                    format!("customPurposes[{i}].id"),
                    "use lowercase letters, digits, - and _ (1-64)",
                );
            }
            if !seen.insert(p.id.as_str()) {
                problems.add(
                    format!("customPurposes[{i}].id"),
                    format!("{:?} appears twice", p.id),
                );
            }
            if !p.name.contains_key(&self.default_language) {
                problems.add(
                    format!("customPurposes[{i}].name"),
                    format!(
                        "needs a name in the default language {:?}",
                        self.default_language
                    ),
                );
            }
        }
        let mut vendor_ids = BTreeSet::new();
        for (i, v) in self.custom_vendors.iter().enumerate() {
            if !is_slug(&v.id) {
                problems.add(
                    format!("customVendors[{i}].id"),
                    "use lowercase letters, digits, - and _ (1-64)",
                );
            }
            if !vendor_ids.insert(v.id.as_str()) {
                problems.add(
                    format!("customVendors[{i}].id"),
                    format!("{:?} appears twice", v.id),
                );
            }
            for (j, purpose) in v.purposes.iter().enumerate() {
                if !seen.contains(purpose.as_str()) {
                    problems.add(
                        format!("customVendors[{i}].purposes[{j}]"),
                        format!("{purpose:?} is not a custom purpose of this site"),
                    );
                }
            }
        }
        if self.regulation == Regulation::OptIn && self.custom_purposes.is_empty() {
            problems.add(
                "customPurposes",
                "an opt-in site needs at least one purpose",
            );
        }
    }

    fn validate_consent_mode(&self, problems: &mut Problems) {
        for (kind, mapping) in &self.consent_mode.mapping {
            let at = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            for &p in &mapping.purposes {
                if !self.purposes.contains(&p) {
                    problems.add(
                        format!("consentMode.mapping.{at}.purposes"),
                        format!("purpose {p} is not one of the site's purposes"),
                    );
                }
            }
            for p in &mapping.custom_purposes {
                if !self.custom_purposes.iter().any(|c| &c.id == p) {
                    problems.add(
                        format!("consentMode.mapping.{at}.customPurposes"),
                        format!("{p:?} is not a custom purpose of this site"),
                    );
                }
            }
        }
        for (i, d) in self.consent_mode.defaults.iter().enumerate() {
            for region in &d.regions {
                if !is_region(region) {
                    problems.add(
                        format!("consentMode.defaults[{i}].regions"),
                        format!("{region:?} is not an ISO 3166 country or region"),
                    );
                }
            }
        }
    }

    fn validate_languages(&self, problems: &mut Problems) {
        if self.languages.is_empty() {
            problems.add("languages", "at least one language is needed");
        }
        for code in self.languages.keys() {
            if !is_language(code) {
                problems.add(
                    format!("languages.{code}"),
                    "not a language code (en, de, pt-br)",
                );
            }
        }
        if !self.languages.contains_key(&self.default_language) {
            problems.add(
                "defaultLanguage",
                format!("{:?} has no texts in languages", self.default_language),
            );
        }
    }

    fn validate_banner(&self, problems: &mut Problems) {
        let b = &self.banner;
        for (name, colour) in [
            ("primaryColor", &b.primary_color),
            ("backgroundColor", &b.background_color),
            ("textColor", &b.text_color),
        ] {
            if !is_colour(colour) {
                problems.add(
                    format!("banner.{name}"),
                    format!("{colour:?} is not #rrggbb"),
                );
            }
        }
    }

    fn validate_urls(&self, problems: &mut Problems) {
        let texts = self.languages.iter().map(|(code, t)| {
            (
                format!("languages.{code}.privacyPolicyUrl"),
                &t.privacy_policy_url,
            )
        });
        let vendors = self.custom_vendors.iter().enumerate().map(|(i, v)| {
            (
                format!("customVendors[{i}].privacyPolicyUrl"),
                &v.privacy_policy_url,
            )
        });
        for (path, url) in texts.chain(vendors) {
            if let Some(Err(refused)) = url.as_deref().map(check_config_url) {
                problems.add(path, refused.to_string());
            }
        }
    }

    /// The texts for the best match of the requested languages (in order of
    /// preference), falling back to the default language.
    pub fn pick_language<'a>(&self, wanted: impl IntoIterator<Item = &'a str>) -> &str {
        for want in wanted {
            let want = want.to_ascii_lowercase();
            if let Some((code, _)) = self.languages.get_key_value(want.as_str()) {
                return code;
            }
            // Spelled otherwise: "de_AT" is "de-at", and a browser's "nb"
            // (Norwegian Bokmål) is the "no" the IAB and the TC string use.
            let want = normalize_language(&want);
            let same = |code: &&String| normalize_language(code) == want;
            if let Some(code) = self.languages.keys().find(same) {
                return code;
            }
            // "de-AT" falls back to "de".
            if let Some(primary) = want.split('-').next() {
                let same = |code: &&String| normalize_language(code) == primary;
                if let Some(code) = self.languages.keys().find(same) {
                    return code;
                }
            }
        }
        &self.default_language
    }

    /// Whether a custom purpose id belongs to the site.
    pub fn has_custom_purpose(&self, id: &str) -> bool {
        self.custom_purposes.iter().any(|p| p.id == id)
    }

    /// Whether a custom vendor id belongs to the site.
    pub fn has_custom_vendor(&self, id: &str) -> bool {
        self.custom_vendors.iter().any(|v| v.id == id)
    }
}

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn into_result(self) -> Result<(), Vec<ConfigProblem>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Longest URL a configuration field may hold, in bytes.
pub const MAX_CONFIG_URL_LEN: usize = 2048;

/// Why a configuration URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigUrlError {
    /// Empty, or longer than [`MAX_CONFIG_URL_LEN`].
    #[error("must be a URL of 1 to {MAX_CONFIG_URL_LEN} bytes")]
    Length,
    /// A character browsers strip, rewrite or treat as a delimiter.
    #[error("must not contain {0}")]
    Character(&'static str),
    /// Not `https:` (or `http:` for this machine).
    #[error("must be an https:// URL (http:// only for localhost, 127.0.0.1 or [::1])")]
    Scheme,
    /// No `//host`, a user name or password, or a host or port that is
    /// not a plain name, IPv4 or bracketed IPv6 address.
    #[error("must be an absolute URL with a host name and no user name or password")]
    Authority,
}

/// The first character of `url` that no URL NexaGuard stores may hold,
/// named for a message: C0 and C1 controls and DEL (browsers drop tabs
/// and newlines while parsing, so `java\tscript:` would run as
/// `javascript:`), any whitespace, `"`, `<`, `>` (they end an HTML
/// attribute or tag) and the backslash (browsers read it as `/`, so
/// `https:\\evil.example` leaves the host that was checked).
pub fn forbidden_url_char(url: &str) -> Option<&'static str> {
    url.chars().find_map(|c| match c {
        '"' => Some("a double quote"),
        '<' | '>' => Some("angle brackets"),
        '\\' => Some("a backslash"),
        c if c.is_control() => Some("a control character"),
        c if c.is_whitespace() => Some("whitespace"),
        _ => None,
    })
}

/// Checks a URL a configuration publishes to browsers (a privacy policy
/// link): `https://host[:port]...`, or `http://` for `localhost`,
/// `127.0.0.1` and `[::1]` (a developer's machine). Anything else is
/// refused, `javascript:` and `data:` above all, since the SDK turns these
/// strings into links on the publisher's pages. The check is an allowlist
/// on the raw text, not a parse, so that no parser's leniency (stripped
/// tabs, backslashes read as slashes) can widen it.
pub fn check_config_url(url: &str) -> Result<(), ConfigUrlError> {
    if url.is_empty() || url.len() > MAX_CONFIG_URL_LEN {
        return Err(ConfigUrlError::Length);
    }
    if let Some(what) = forbidden_url_char(url) {
        return Err(ConfigUrlError::Character(what));
    }
    let (scheme, rest) = url.split_once(':').ok_or(ConfigUrlError::Scheme)?;
    let https = scheme.eq_ignore_ascii_case("https");
    if !https && !scheme.eq_ignore_ascii_case("http") {
        return Err(ConfigUrlError::Scheme);
    }
    let after = rest.strip_prefix("//").ok_or(ConfigUrlError::Authority)?;
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host_of(authority).ok_or(ConfigUrlError::Authority)?;
    if !https && !is_this_machine(host) {
        return Err(ConfigUrlError::Scheme);
    }
    Ok(())
}

/// The host of an authority `host[:port]` or `[v6][:port]`, if it is a
/// plain one: no user information, a port of digits only.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        let inner = host.get(1..host.len() - 1)?;
        let v6 = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !v6 {
            return None;
        }
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let name_ok = host.starts_with('[')
        || (!host.is_empty()
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_'));
    let port_ok = port.map_or(true, |p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    });
    (name_ok && port_ok).then_some(host)
}

/// `localhost`, `127.0.0.1` or `[::1]`: where plain http is a developer's
/// own machine rather than a network an attacker can sit on.
fn is_this_machine(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "[::1]"
}

fn duplicates(path: &str, ids: &[u32], problems: &mut Problems) {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            problems.add(path, format!("{id} appears twice"));
        }
    }
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_region(s: &str) -> bool {
    match s.split_once('-') {
        Some((country, sub)) => {
            is_country(country)
                && (1..=3).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        None => is_country(s),
    }
}

fn is_slug(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()));
    primary_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn is_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    const GVL: &str = include_str!("../../server/assets/gvl-sample.json");
    const OPT_IN: &str = include_str!("../../server/tests/fixtures/opt-in-site.json");

    fn problems_with(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<ConfigProblem> {
        let mut json: serde_json::Value = serde_json::from_str(OPT_IN).unwrap();
        edit(&mut json);
        let gvl = Gvl::from_json(GVL).unwrap();
        match SiteConfig::from_json(&json.to_string(), &gvl) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(problems)) => problems,
            Err(other) => panic!("not a validation finding: {other}"),
        }
    }

    #[test]
    fn script_data_and_file_urls_are_refused_as_config_urls() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "javascript://example.com/%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "ftp://files.example.com/policy",
            "//evil.example/policy",
            "/privacy",
            "privacy.html",
        ] {
            assert!(check_config_url(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn characters_browsers_strip_or_reinterpret_are_refused_in_config_urls() {
        for bad in [
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "java\rscript:alert(1)",
            " javascript:alert(1)",
            "\u{0}https://example.com/",
            "https://example.com/\u{7f}",
            "https://example.com/\u{85}",
            "https://example.com/a b",
            "https://example.com/\u{a0}",
            "https:\\\\evil.example/",
            "https://evil.example\\@good.example/",
            "https://example.com/\"onmouseover=\"alert(1)",
            "https://example.com/<script>",
        ] {
            assert!(
                matches!(check_config_url(bad), Err(ConfigUrlError::Character(_))),
                "{bad:?}: {:?}",
                check_config_url(bad)
            );
        }
    }

    #[test]
    fn config_urls_with_user_information_or_odd_hosts_are_refused() {
        for bad in [
            "https://good.example@evil.example/",
            "https://user:pw@example.com/",
            "https://",
            "https:///path",
            "https:example.com",
            "https://example.com:99999/",
            "https://example.com:8x/",
            "https://example.com:/",
            "https://%65vil.example/",
            "https://[zz::1]/",
            "https://[::1/",
        ] {
            assert!(check_config_url(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn http_is_a_config_url_only_on_this_machine() {
        for dev in [
            "http://localhost/privacy",
            "http://LOCALHOST:8080/privacy",
            "http://127.0.0.1:3000/",
            "http://[::1]:8443/privacy",
        ] {
            check_config_url(dev).unwrap();
        }
        for bad in [
            "http://example.com/privacy",
            "http://localhost.evil.example/",
            "http://127.0.0.2/",
            "http://10.0.0.1/",
            "http://[::2]/",
        ] {
            assert_eq!(check_config_url(bad), Err(ConfigUrlError::Scheme), "{bad}");
        }
    }

    #[test]
    fn ordinary_https_config_urls_are_accepted() {
        for good in [
            "https://example.com",
            "https://shop.example/privacy?lang=de#cookies",
            "HTTPS://Shop.Example:8443/datenschutz",
            "https://bücher.example/datenschutz",
            "https://[2001:db8::1]/privacy",
            "https://example.com/a%20b",
        ] {
            check_config_url(good).unwrap();
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_CONFIG_URL_LEN));
        assert_eq!(check_config_url(&long), Err(ConfigUrlError::Length));
        assert_eq!(check_config_url(""), Err(ConfigUrlError::Length));
    }

    #[test]
    fn a_javascript_privacy_policy_url_is_a_finding_at_its_field() {
        let found = problems_with(|json| {
            json["customVendors"] = serde_json::json!([
                {"id": "chat", "name": "Chat", "privacyPolicyUrl": "javascript:alert(1)"}
            ]);
            let default = json["defaultLanguage"].as_str().unwrap().to_owned();
            json["languages"][default.as_str()]["privacyPolicyUrl"] =
                serde_json::json!("data:text/html,<b>x</b>");
        });
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert!(
            paths.contains(&"customVendors[0].privacyPolicyUrl"),
            "{found:?}"
        );
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with("languages.") && p.ends_with(".privacyPolicyUrl")),
            "{found:?}"
        );
    }

    #[test]
    fn https_privacy_policy_urls_validate() {
        let found = problems_with(|json| {
            json["customVendors"] = serde_json::json!([
                {"id": "chat", "name": "Chat", "privacyPolicyUrl": "https://chat.example/privacy"}
            ]);
            let default = json["defaultLanguage"].as_str().unwrap().to_owned();
            json["languages"][default.as_str()]["privacyPolicyUrl"] =
                serde_json::json!("https://shop.example/privacy");
        });
        assert_eq!(found, Vec::new());
    }
}
