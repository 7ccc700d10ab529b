//! The banner's built-in UI strings, and the finished strings of a site
//! in one language.
//!
//! The browser SDK used to carry this table; it is served with
//! `config.json` instead (as `strings`), so a visitor downloads the strings
//! of their language only and the SDK stays within its size budget.
//! Precedence for each key, as the SDK had it: the site's configured text
//! in the language, else in the site's default language, else the built-in
//! text of the language's own locale (`pt-br`), else of its primary subtag
//! (`pt`), else English.
//!
//! The built-in texts are data, one JSON file per language under
//! `crates/consent/locales/` (a translator edits a file, not Rust), embedded
//! at compile time and parsed once.

use crate::config::{SiteConfig, Texts};
use nexaguard_tcf::gvl::normalize_language;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The keys of the built-in strings, in the order of every row of the
/// table (`{n}` in a text is a number the banner fills in).
pub const KEYS: [&str; 27] = [
    "acceptAll",
    "rejectAll",
    "manage",
    "save",
    "close",
    "purposes",
    "specialPurposes",
    "features",
    "specialFeatures",
    "stacks",
    "vendors",
    "consent",
    "li",
    "retention",
    "privacy",
    "always",
    "categories",
    "reopen",
    "cancel",
    "allowed",
    "noticeTitle",
    "notice",
    "dns",
    "gpc",
    "sale",
    "targeted",
    "language",
];

/// Declares [`BUILT_IN_LANGUAGES`] and embeds `locales/{code}.json` for
/// each, so the list and the files cannot drift apart: a code without its
/// file does not compile.
macro_rules! locales {
    ($($code:literal),* $(,)?) => {
        /// The languages with built-in strings, each a file
        /// `crates/consent/locales/{code}.json` (lowercase tags, sorted):
        /// the 24 official EU languages, Norwegian, Icelandic, the regional
        /// variants the region groups need (`pt-br`, `fr-ca`, `es-us`),
        /// Arabic and Hebrew.
        pub const BUILT_IN_LANGUAGES: [&str; [$($code),*].len()] = [$($code),*];
        const LOCALE_FILES: [&str; BUILT_IN_LANGUAGES.len()] =
            [$(include_str!(concat!("../locales/", $code, ".json"))),*];
    };
}
locales![
    "ar", "bg", "cs", "da", "de", "el", "en", "es", "es-us", "et", "fi", "fr", "fr-ca", "ga", "he",
    "hr", "hu", "is", "it", "lt", "lv", "mt", "nl", "no", "pl", "pt", "pt-br", "ro", "sk", "sl",
    "sv",
];

/// The key of a locale file that names its language in that language
/// (`Deutsch`): the language switcher's label, never shown as a UI string.
const LANGUAGE_NAME: &str = "languageName";

/// The languages written right to left, by primary subtag.
const RIGHT_TO_LEFT: [&str; 10] = ["ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"];

/// Each built-in language's file, parsed once. A file that does not parse
/// counts as empty, so each of its keys falls back to English like a
/// missing key; `every_locale_file_has_every_key` keeps that from shipping.
static LOCALES: LazyLock<BTreeMap<&'static str, BTreeMap<String, String>>> = LazyLock::new(|| {
    BUILT_IN_LANGUAGES
        .iter()
        .zip(LOCALE_FILES)
        .map(|(code, text)| (*code, serde_json::from_str(text).unwrap_or_default()))
        .collect()
});

/// The built-in locales that serve `language`, most specific first: the
/// tag's own file (`pt-br`), then its primary subtag's (`pt`), then English.
fn locale_chain(language: &str) -> Vec<&'static BTreeMap<String, String>> {
    let tag = normalize_language(language);
    let primary = primary(&tag);
    let mut chain: Vec<_> = [tag.as_str(), primary.as_str(), "en"]
        .into_iter()
        .filter_map(|code| LOCALES.get(code))
        .collect();
    chain.dedup_by(|a, b| std::ptr::eq(*a, *b));
    chain
}

/// The built-in language that serves `language` (`de-at` → `de`, `pt-BR`
/// → `pt-br`, `nb` → `no`), or `None` when its texts would be English's
/// for want of a file.
pub fn built_in_language(language: &str) -> Option<&'static str> {
    let tag = normalize_language(language);
    let primary = primary(&tag);
    BUILT_IN_LANGUAGES
        .iter()
        .find(|code| **code == tag)
        .or_else(|| BUILT_IN_LANGUAGES.iter().find(|code| **code == primary))
        .copied()
}

/// The name of `language` in that language (`Deutsch`, `العربية`), for a
/// built-in language; `None` otherwise.
pub fn language_name(language: &str) -> Option<&'static str> {
    let code = built_in_language(language)?;
    LOCALES
        .get(code)?
        .get(LANGUAGE_NAME)
        .map(String::as_str)
        .filter(|name| !name.is_empty())
}

/// How a language is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left (Arabic, Hebrew, Persian, Urdu, ...).
    Rtl,
}

/// The direction `language` is written in, by its primary subtag.
pub fn direction(language: &str) -> Direction {
    if RIGHT_TO_LEFT.contains(&primary(language).as_str()) {
        Direction::Rtl
    } else {
        Direction::Ltr
    }
}

/// The finished UI strings of one language: every one of [`KEYS`] plus
/// `title` and `description`, key → text. Serialises as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct UiStrings(BTreeMap<&'static str, String>);

impl UiStrings {
    /// The text of `key`, if it is one of the keys.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Every key with its text, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// The primary subtag of a language code, lowercase (`pt-BR` → `pt`).
pub fn primary(language: &str) -> String {
    language
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The configured text of `key`, if `texts` has a field for it and the
/// field is not empty: an empty label would leave a blank button, so it
/// falls through to the next source like an absent one.
fn configured<'t>(texts: Option<&'t Texts>, key: &str) -> Option<&'t str> {
    let texts = texts?;
    let text = match key {
        "title" => &texts.title,
        "description" => &texts.description,
        "acceptAll" => &texts.accept_all,
        "rejectAll" => &texts.reject_all,
        "manage" => &texts.manage,
        "save" => &texts.save,
        _ => return None,
    };
    Some(text.as_str()).filter(|t| !t.is_empty())
}

/// The finished strings for `language`: `texts` (the site's texts in that
/// language) win, then `fallback` (the site's default language's), then
/// the built-in text of the language's primary subtag, then English.
/// `title` and `description` have no built-in text: they are empty when
/// neither `texts` nor `fallback` has them.
pub fn ui_strings(language: &str, texts: Option<&Texts>, fallback: Option<&Texts>) -> UiStrings {
    let chain = locale_chain(language);
    let built_in = |key: &str| {
        chain
            .iter()
            .find_map(|locale| locale.get(key).filter(|t| !t.is_empty()))
            .map_or("", String::as_str)
    };
    let pick = |key: &str, built_in: &str| {
        configured(texts, key)
            .or_else(|| configured(fallback, key))
            .unwrap_or(built_in)
            .to_owned()
    };
    let mut strings = BTreeMap::new();
    strings.insert("title", pick("title", ""));
    strings.insert("description", pick("description", ""));
    for key in KEYS {
        strings.insert(key, pick(key, built_in(key)));
    }
    UiStrings(strings)
}

/// The finished strings of `config` in `language` (the language a
/// `config.json` answer is in), with the default language's texts as the
/// fallback.
pub fn site_strings(config: &SiteConfig, language: &str) -> UiStrings {
    ui_strings(
        language,
        config.languages.get(language),
        config.languages.get(&config.default_language),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(title: &str, accept_all: &str) -> Texts {
        Texts {
            title: title.into(),
            description: format!("{title} description"),
            accept_all: accept_all.into(),
            reject_all: String::new(),
            manage: String::new(),
            save: String::new(),
            privacy_policy_url: None,
        }
    }

    fn text<'s>(strings: &'s UiStrings, key: &str) -> &'s str {
        strings.get(key).unwrap_or("<missing>")
    }

    #[test]
    fn every_language_has_every_key_plus_title_and_description() {
        for language in BUILT_IN_LANGUAGES.iter().chain(&["ja", ""]) {
            let strings = ui_strings(language, None, None);
            let keys: Vec<&str> = strings.iter().map(|(k, _)| k).collect();
            let mut expected: Vec<&str> = KEYS.to_vec();
            expected.extend(["title", "description"]);
            expected.sort_unstable();
            assert_eq!(keys, expected, "{language}");
            for key in KEYS {
                assert!(!text(&strings, key).is_empty(), "{language}.{key}");
            }
        }
    }

    #[test]
    fn every_locale_file_has_every_key_and_its_name_and_nothing_else() {
        let mut expected: Vec<&str> = KEYS.to_vec();
        expected.push(LANGUAGE_NAME);
        expected.sort_unstable();
        for (code, text) in BUILT_IN_LANGUAGES.iter().zip(LOCALE_FILES) {
            let parsed: BTreeMap<String, String> = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("locales/{code}.json does not parse: {e}"));
            let keys: Vec<&str> = parsed.keys().map(String::as_str).collect();
            assert_eq!(keys, expected, "locales/{code}.json");
            for (key, value) in &parsed {
                assert!(!value.trim().is_empty(), "{code}.{key} is empty");
            }
            assert!(
                parsed["retention"].contains("{n}"),
                "{code}.retention keeps {{n}}"
            );
        }
    }

    #[test]
    fn the_built_in_languages_are_sorted_normalised_and_include_the_eu_ones() {
        let mut sorted = BUILT_IN_LANGUAGES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, BUILT_IN_LANGUAGES);
        for code in BUILT_IN_LANGUAGES {
            assert_eq!(normalize_language(code), code);
        }
        let eu = [
            "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
            "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
        ];
        for code in eu
            .iter()
            .chain(&["no", "is", "pt-br", "fr-ca", "es-us", "ar", "he"])
        {
            assert!(BUILT_IN_LANGUAGES.contains(code), "{code}");
        }
    }

    #[test]
    fn every_language_but_english_translates_the_banner_and_the_us_notice() {
        let en = ui_strings("en", None, None);
        for language in BUILT_IN_LANGUAGES.iter().filter(|l| **l != "en") {
            let strings = ui_strings(language, None, None);
            for key in [
                "acceptAll",
                "rejectAll",
                "save",
                "notice",
                "dns",
                "gpc",
                "noticeTitle",
            ] {
                assert_ne!(
                    strings.get(key),
                    en.get(key),
                    "{language}.{key} is still English"
                );
            }
        }
    }

    #[test]
    fn languages_have_their_own_names_and_direction() {
        assert_eq!(language_name("de-AT"), Some("Deutsch"));
        assert_eq!(language_name("en"), Some("English"));
        assert_eq!(language_name("nb-NO").map(str::is_empty), Some(false));
        assert_eq!(language_name("ja"), None);
        assert_eq!(direction("ar"), Direction::Rtl);
        assert_eq!(direction("he-IL"), Direction::Rtl);
        assert_eq!(direction("de"), Direction::Ltr);
        assert_eq!(direction(""), Direction::Ltr);
        assert_eq!(built_in_language("pt-BR"), Some("pt-br"));
        assert_eq!(built_in_language("pt-AO"), Some("pt"));
        assert_eq!(built_in_language("nn"), Some("no"));
        assert_eq!(built_in_language("ja"), None);
    }

    #[test]
    fn english_is_built_in() {
        let en = ui_strings("en", None, None);
        assert_eq!(text(&en, "acceptAll"), "Accept all");
        assert_eq!(text(&en, "retention"), "Retention: {n} days");
        assert_eq!(
            text(&en, "dns"),
            "Do not sell or share my personal information"
        );
        assert_eq!(text(&en, "title"), "");
    }

    #[test]
    fn a_built_in_language_gets_its_own_texts() {
        let de = ui_strings("de", None, None);
        assert_eq!(text(&de, "close"), "Schließen");
        assert_eq!(text(&de, "reopen"), "Datenschutz-Einstellungen");
        assert_eq!(text(&de, "li"), "Berechtigtes Interesse");
    }

    #[test]
    fn a_regional_code_uses_its_primary_subtag() {
        assert_eq!(
            text(&ui_strings("pt-PT", None, None), "acceptAll"),
            "Aceitar tudo"
        );
        assert_eq!(
            text(&ui_strings("de_AT", None, None), "acceptAll"),
            "Alle akzeptieren"
        );
        assert_eq!(primary("pt-BR"), "pt");
        assert_eq!(primary(" de_AT"), "de");
    }

    #[test]
    fn an_unknown_language_gets_english() {
        assert_eq!(ui_strings("ja", None, None), ui_strings("en", None, None));
        assert_eq!(ui_strings("", None, None), ui_strings("en", None, None));
    }

    #[test]
    fn configured_text_wins_over_the_built_in_one() {
        let de = texts("Titel", "Ja");
        let fallback = texts("Title", "Yes");
        let strings = ui_strings("de", Some(&de), Some(&fallback));
        assert_eq!(text(&strings, "title"), "Titel");
        assert_eq!(text(&strings, "description"), "Titel description");
        assert_eq!(text(&strings, "acceptAll"), "Ja");
    }

    #[test]
    fn the_default_languages_configured_text_comes_before_the_built_in_one() {
        let de = texts("Titel", "");
        let fallback = Texts {
            reject_all: "No thanks".into(),
            ..texts("Title", "Yes")
        };
        let strings = ui_strings("de", Some(&de), Some(&fallback));
        assert_eq!(
            text(&strings, "acceptAll"),
            "Yes",
            "an empty configured text falls through"
        );
        assert_eq!(text(&strings, "rejectAll"), "No thanks");
        assert_eq!(
            text(&strings, "manage"),
            "Einstellungen",
            "neither configures it"
        );
        let only_fallback = ui_strings("fr", None, Some(&fallback));
        assert_eq!(text(&only_fallback, "title"), "Title");
        assert_eq!(text(&only_fallback, "save"), "Enregistrer mes choix");
    }

    #[test]
    fn a_regional_locale_is_used_before_its_primary_subtags() {
        let br = ui_strings("pt-BR", None, None);
        let pt = ui_strings("pt", None, None);
        assert_ne!(
            br.get("reopen"),
            pt.get("reopen"),
            "Brazilian Portuguese has its own texts"
        );
        assert_eq!(
            ui_strings("pt-AO", None, None),
            pt,
            "a region without a file reads pt"
        );
        assert_eq!(
            ui_strings("nb-NO", None, None),
            ui_strings("no", None, None)
        );
    }

    #[test]
    fn a_sites_strings_use_its_language_then_its_default_language() {
        let mut config: SiteConfig = serde_json::from_value(serde_json::json!({
            "regulation": "opt_in",
            "publisherCountry": "DE",
            "defaultLanguage": "en",
            "languages": {}
        }))
        .unwrap_or_else(|e| panic!("the test configuration parses: {e}"));
        config.languages.insert("en".into(), texts("Title", "Yes"));
        config.languages.insert("de".into(), texts("", "Ja"));
        let strings = site_strings(&config, "de");
        assert_eq!(text(&strings, "title"), "Title");
        assert_eq!(text(&strings, "acceptAll"), "Ja");
        assert_eq!(text(&strings, "close"), "Schließen");
    }
}
