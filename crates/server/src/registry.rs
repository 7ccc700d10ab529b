//! The sites the server answers for, indexed by public site key, with each
//! environment's published configuration and its `config.json` answers
//! prebuilt per language. Rebuilt from the store when something changes;
//! requests read an immutable snapshot.
//!
//! Invariant: an answer is in one language throughout. The IAB's texts
//! (purposes, features, stacks) come from the GVL translation of the
//! answer's language; a site that may show the TCF and has a language the
//! IAB texts are not held in answers that language in English, whole, and
//! says `"language": "en"` so the TC string's consent language is `EN`.

use crate::precompressed::Precompressed;
use nexaguard_consent::check::SiteEnvironment;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::regions::{notice_version, ConsentModeDefault, ResolvedExperience};
use nexaguard_consent::theme::Theme;
use nexaguard_consent::ui_strings::{direction, language_name, site_strings, Direction, UiStrings};
use nexaguard_consent::Environment;
use nexaguard_store::{PublishedConfig, Site, SiteId, Store, StoreError};
use nexaguard_tcf::gvl::{Gvl, Translation, Translations, BASE_LANGUAGE};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// A site environment, as a request names it by site key.
#[derive(Debug)]
pub struct SiteEnv {
    /// The site.
    pub site: Site,
    /// Which of its environments the key names.
    pub environment: Environment,
    /// The published configuration, if any has been published. Shared
    /// between snapshots while its version stays the same.
    pub published: Option<Arc<Published>>,
}

/// A published configuration, parsed, with its answers.
#[derive(Debug)]
pub struct Published {
    /// Its version.
    pub version: u32,
    /// The configuration.
    pub config: SiteConfig,
    /// `config.json` per language code.
    pub responses: BTreeMap<String, Precompressed>,
    /// The notice version of each rule's experience, then of the site's
    /// `regulation` (no rule matched): hashed once here rather than on
    /// every region request.
    notice_versions: Vec<String>,
}

impl Published {
    /// The notice version of `experience` (resolved from this
    /// configuration), as [`notice_version`] gives it, from the versions
    /// computed when the configuration was loaded.
    pub fn notice_version(&self, experience: &ResolvedExperience) -> String {
        let index = experience.rule.unwrap_or(self.config.regions.len());
        match self.notice_versions.get(index) {
            Some(version) => version.clone(),
            // Only a ResolvedExperience of another configuration lands here.
            None => notice_version(&self.config, experience),
        }
    }

    /// What the event checks need of this configuration, published to
    /// `environment`.
    pub fn site_environment(&self, environment: Environment) -> SiteEnvironment<'_> {
        SiteEnvironment {
            environment,
            config_version: self.version,
            config: &self.config,
            notice_versions: &self.notice_versions,
        }
    }
}

impl SiteEnv {
    /// Whether `origin` may post consents for this site.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.site.origins.iter().any(|o| o == origin)
    }
}

/// An immutable snapshot of every site.
#[derive(Debug, Default)]
pub struct Registry {
    by_key: HashMap<String, Arc<SiteEnv>>,
    origins: HashSet<String>,
    /// (site, environment, version) of every published config, to tell
    /// whether a reload changed anything.
    fingerprint: Vec<(SiteId, Environment, u32)>,
    site_count: usize,
}

/// The body of `GET /v1/sites/{siteKey}/config.json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigAnswer<'a> {
    site_key: &'a str,
    environment: Environment,
    config_version: u32,
    language: &'a str,
    config: &'a SiteConfig,
    vendor_list: &'a Gvl,
    /// The banner's finished UI strings in `language`: the SDK carries no
    /// built-in texts (they would cost every visitor every language's).
    strings: &'a UiStrings,
    /// How `language` is written: the SDK sets `dir` from it.
    dir: Direction,
    /// The site's languages with their own names, for the preference
    /// center's language switcher.
    languages: Vec<LanguageOption<'a>>,
    /// The banner's colours with readable text, computed here once so the
    /// SDK carries no colour arithmetic.
    theme: Theme,
    /// The `gtag('consent', 'default', ...)` parameters in the order the
    /// stub issues them (the snippet carries the same list), for pages
    /// without the stub.
    consent_defaults: Vec<ConsentModeDefault>,
}

/// A language a visitor can switch to.
#[derive(Serialize)]
struct LanguageOption<'a> {
    /// The site's language code.
    code: &'a str,
    /// Its name in itself (`Deutsch`), or the code for a language without
    /// built-in texts.
    name: &'a str,
}

/// The `config.json` body of `config` for a visitor asking for `requested`
/// (one of the site's languages), with `vendor_list` (the GVL trimmed to
/// the site's vendors, in English) translated to the language shown.
fn answer_body(
    site_key: &str,
    environment: Environment,
    version: u32,
    config: &SiteConfig,
    requested: &str,
    vendor_list: &Gvl,
    translations: &Translations,
) -> Result<Vec<u8>, serde_json::Error> {
    let (language, translation) = shown_language(config, requested, translations);
    let vendor_list = match translation {
        Some(t) => {
            let mut translated = vendor_list.clone();
            translated.apply_translation(t);
            Cow::Owned(translated)
        }
        None => Cow::Borrowed(vendor_list),
    };
    serde_json::to_vec(&ConfigAnswer {
        site_key,
        environment,
        config_version: version,
        language,
        config: &only_language(config, language),
        vendor_list: &vendor_list,
        // From the whole configuration: the default language's texts are
        // the fallback, and only_language drops them.
        strings: &site_strings(config, language),
        dir: direction(language),
        languages: config
            .languages
            .keys()
            .map(|code| LanguageOption {
                code,
                name: language_name(code).unwrap_or(code),
            })
            .collect(),
        theme: Theme::of(&config.banner),
        consent_defaults: config.consent_mode_defaults(),
    })
}

/// The language a visitor asking for `requested` is shown, and the IAB
/// translation that goes with it: `requested` when the site shows no TCF
/// texts, when it is English, or when its translation is held; otherwise
/// English, for the whole view.
fn shown_language<'a, 't>(
    config: &SiteConfig,
    requested: &'a str,
    translations: &'t Translations,
) -> (&'a str, Option<&'t Translation>) {
    if !config.shows_tcf() {
        return (requested, None);
    }
    match translations.find(requested) {
        Some((_, translation)) => (requested, Some(translation)),
        None if nexaguard_consent::ui_strings::primary(requested) == BASE_LANGUAGE => {
            (requested, None)
        }
        None => (BASE_LANGUAGE, None),
    }
}

impl Registry {
    /// Reads every site and newest configuration from the store.
    pub async fn load(
        store: &dyn Store,
        gvl: &Gvl,
        translations: &Translations,
    ) -> Result<Registry, StoreError> {
        let sites = store.sites().await?;
        let configs = store.latest_configs().await?;
        Ok(Registry::build(sites, configs, (gvl, translations), None))
    }

    /// A new snapshot if the store holds something this one lacks (a site
    /// or a published version), else `None`: the answers are rebuilt only
    /// when something changed.
    pub async fn reload_if_changed(
        &self,
        store: &dyn Store,
        gvl: &Gvl,
        translations: &Translations,
    ) -> Result<Option<Registry>, StoreError> {
        let sites = store.sites().await?;
        let configs = store.latest_configs().await?;
        if sites.len() == self.site_count && fingerprint(&configs) == self.fingerprint {
            return Ok(None);
        }
        Ok(Some(Registry::build(
            sites,
            configs,
            (gvl, translations),
            Some(self),
        )))
    }

    /// Indexes `sites` with their newest `configs`. Answers of a version
    /// that `previous` already built are reused: one publish recompresses
    /// only its own site environment, not every site's.
    fn build(
        sites: Vec<Site>,
        configs: Vec<PublishedConfig>,
        gvl: (&Gvl, &Translations),
        previous: Option<&Registry>,
    ) -> Registry {
        let site_count = sites.len();
        let fingerprint = fingerprint(&configs);
        let mut latest: HashMap<(SiteId, Environment), PublishedConfig> = HashMap::new();
        for c in configs {
            latest.insert((c.site_id, c.environment), c);
        }
        let mut by_key = HashMap::new();
        let mut origins = HashSet::new();
        for site in sites {
            origins.extend(site.origins.iter().cloned());
            for environment in Environment::ALL {
                let key = site.key(environment).to_owned();
                let published = latest.remove(&(site.id, environment)).and_then(|c| {
                    let built = previous
                        .and_then(|r| r.get(&key))
                        .and_then(|s| s.published.as_ref())
                        .filter(|p| p.version == c.version);
                    match built {
                        Some(p) => Some(Arc::clone(p)),
                        None => publish(&key, c, gvl).map(Arc::new),
                    }
                });
                let entry = SiteEnv {
                    site: site.clone(),
                    environment,
                    published,
                };
                by_key.insert(key, Arc::new(entry));
            }
        }
        Registry {
            by_key,
            origins,
            fingerprint,
            site_count,
        }
    }

    /// The site environment of a public site key.
    pub fn get(&self, site_key: &str) -> Option<&Arc<SiteEnv>> {
        self.by_key.get(site_key)
    }

    /// Whether any site allows `origin` (the CORS pre-check; handlers then
    /// check the origin against the one site the request names).
    pub fn any_site_allows(&self, origin: &str) -> bool {
        self.origins.contains(origin)
    }
}

fn fingerprint(configs: &[PublishedConfig]) -> Vec<(SiteId, Environment, u32)> {
    let mut f: Vec<_> = configs
        .iter()
        .map(|c| (c.site_id, c.environment, c.version))
        .collect();
    f.sort();
    f
}

/// Parses a stored configuration and prebuilds its answers. A stored
/// configuration that no longer parses is logged and skipped rather than
/// taking the whole server down.
fn publish(
    site_key: &str,
    stored: PublishedConfig,
    (gvl, translations): (&Gvl, &Translations),
) -> Option<Published> {
    let config: SiteConfig = match serde_json::from_str(&stored.config_json) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(version = stored.version, error = %e, "stored site configuration does not parse; not served");
            return None;
        }
    };
    let vendor_list = gvl.trim(config.vendors.iter().copied()).gvl;
    let mut responses = BTreeMap::new();
    for language in config.languages.keys() {
        if shown_language(&config, language, translations).0 != language {
            tracing::warn!(
                language = %language,
                "the IAB's texts are not held in a site language; its visitors see the banner in English"
            );
        }
        match answer_body(
            site_key,
            stored.environment,
            stored.version,
            &config,
            language,
            &vendor_list,
            translations,
        ) {
            Ok(body) => {
                responses.insert(
                    language.clone(),
                    Precompressed::new(body, "application/json", "public, max-age=300"),
                );
            }
            Err(e) => tracing::error!(error = %e, "cannot serialise a site configuration"),
        }
    }
    Some(Published {
        version: stored.version,
        notice_versions: config.notice_versions(),
        config,
        responses,
    })
}

/// The `config.json` body of `config` in `language`, UI strings included,
/// as the public API would serve it once published (the console's preview
/// of a draft).
pub fn config_answer(
    site_key: &str,
    environment: Environment,
    version: u32,
    config: &SiteConfig,
    language: &str,
    gvl: &Gvl,
    translations: &Translations,
) -> Result<Vec<u8>, serde_json::Error> {
    let vendor_list = gvl.trim(config.vendors.iter().copied()).gvl;
    answer_body(
        site_key,
        environment,
        version,
        config,
        language,
        &vendor_list,
        translations,
    )
}

/// The configuration with the texts of one language only: the banner needs
/// no others, and they are most of the bytes. The language's privacy policy
/// link, where it has none, is the default language's (the SDK reads the
/// link from these texts).
fn only_language(config: &SiteConfig, language: &str) -> SiteConfig {
    let mut c = config.clone();
    c.languages.retain(|code, _| code == language);
    let default_texts = config.languages.get(&config.default_language);
    if let Some(default_texts) = default_texts {
        let texts = c
            .languages
            .entry(language.to_owned())
            .or_insert_with(|| default_texts.clone());
        if texts.privacy_policy_url.is_none() {
            texts
                .privacy_policy_url
                .clone_from(&default_texts.privacy_policy_url);
        }
    }
    for p in &mut c.custom_purposes {
        p.name
            .retain(|code, _| code == language || code == &config.default_language);
        p.description
            .retain(|code, _| code == language || code == &config.default_language);
    }
    c
}

/// Languages from an `Accept-Language` header, most preferred first.
pub fn accept_language(header: &str) -> Vec<String> {
    let mut weighted: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';').map(str::trim);
            let tag = pieces.next().filter(|t| !t.is_empty() && *t != "*")?;
            let q = pieces
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then(|| (q, i, tag.to_ascii_lowercase()))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    weighted.into_iter().map(|(_, _, tag)| tag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_orders_by_quality() {
        assert_eq!(
            accept_language("en;q=0.5, de-AT, fr;q=0.8, *;q=0.1, it;q=0"),
            vec!["de-at", "fr", "en"]
        );
        assert!(accept_language("").is_empty());
    }
}
