//! The banner's built-in UI strings, and the finished strings of a site
//! in one language.
//!
//! The browser SDK used to carry this table; it is served with
//! `config.json` instead (as `strings`), so a visitor downloads the strings
//! of their language only and the SDK stays within its size budget.
//! Precedence for each key, as the SDK had it: the site's configured text
//! in the language, else in the site's default language, else the built-in
//! text of the language's primary subtag, else English.

use crate::config::{SiteConfig, Texts};
use serde::Serialize;
use std::collections::BTreeMap;

/// The keys of the built-in strings, in the order of every row of the
/// table (`{n}` in a text is a number the banner fills in).
pub const KEYS: [&str; 26] = [
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
];

/// The languages with built-in strings (primary subtags), English first.
pub const BUILT_IN_LANGUAGES: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pl", "pt"];

/// English, the last resort for every key: an array of exactly [`KEYS`]'
/// length, so a key added without its English text does not compile.
const ENGLISH: [&str; KEYS.len()] = [
    "Accept all",
    "Reject all",
    "Settings",
    "Save choices",
    "Close",
    "Purposes",
    "Special purposes",
    "Features",
    "Special features",
    "Purpose groups",
    "Vendors",
    "Consent",
    "Legitimate interest",
    "Retention: {n} days",
    "Privacy policy",
    "Always active",
    "Categories",
    "Privacy settings",
    "Cancel",
    "Allowed",
    "Privacy notice",
    "We and our partners use cookies and similar technologies to run this site, measure its use and personalise content and advertising.",
    "Do not sell or share my personal information",
    "Your browser's Global Privacy Control signal was honoured: we do not sell or share your personal information or use it for targeted advertising.",
    "Sale and sharing of my personal information",
    "Targeted advertising",
];

/// The built-in texts of each of [`BUILT_IN_LANGUAGES`], in the same order,
/// each in [`KEYS`] order. English has every key; the other rows stop before
/// the US notice keys (`cancel` onwards), which stay English until translated.
const ROWS: [&[&str]; BUILT_IN_LANGUAGES.len()] = [
    // en
    &ENGLISH,
    // de
    &[
        "Alle akzeptieren",
        "Alle ablehnen",
        "Einstellungen",
        "Auswahl speichern",
        "Schließen",
        "Zwecke",
        "Besondere Zwecke",
        "Funktionen",
        "Besondere Funktionen",
        "Zweckgruppen",
        "Anbieter",
        "Einwilligung",
        "Berechtigtes Interesse",
        "Speicherdauer: {n} Tage",
        "Datenschutzerklärung",
        "Immer aktiv",
        "Kategorien",
        "Datenschutz-Einstellungen",
    ],
    // fr
    &[
        "Tout accepter",
        "Tout refuser",
        "Paramètres",
        "Enregistrer mes choix",
        "Fermer",
        "Finalités",
        "Finalités spéciales",
        "Fonctionnalités",
        "Fonctionnalités spéciales",
        "Groupes de finalités",
        "Partenaires",
        "Consentement",
        "Intérêt légitime",
        "Durée de conservation : {n} jours",
        "Politique de confidentialité",
        "Toujours actif",
        "Catégories",
        "Paramètres de confidentialité",
    ],
    // es
    &[
        "Aceptar todo",
        "Rechazar todo",
        "Configuración",
        "Guardar selección",
        "Cerrar",
        "Finalidades",
        "Finalidades especiales",
        "Características",
        "Características especiales",
        "Grupos de finalidades",
        "Proveedores",
        "Consentimiento",
        "Interés legítimo",
        "Conservación: {n} días",
        "Política de privacidad",
        "Siempre activo",
        "Categorías",
        "Configuración de privacidad",
    ],
    // it
    &[
        "Accetta tutto",
        "Rifiuta tutto",
        "Impostazioni",
        "Salva le scelte",
        "Chiudi",
        "Finalità",
        "Finalità speciali",
        "Funzionalità",
        "Funzionalità speciali",
        "Gruppi di finalità",
        "Fornitori",
        "Consenso",
        "Legittimo interesse",
        "Conservazione: {n} giorni",
        "Informativa sulla privacy",
        "Sempre attivo",
        "Categorie",
        "Impostazioni privacy",
    ],
    // nl
    &[
        "Alles accepteren",
        "Alles weigeren",
        "Instellingen",
        "Keuzes opslaan",
        "Sluiten",
        "Doeleinden",
        "Speciale doeleinden",
        "Functies",
        "Speciale functies",
        "Groepen van doeleinden",
        "Leveranciers",
        "Toestemming",
        "Gerechtvaardigd belang",
        "Bewaartermijn: {n} dagen",
        "Privacybeleid",
        "Altijd actief",
        "Categorieën",
        "Privacy-instellingen",
    ],
    // pl
    &[
        "Zaakceptuj wszystko",
        "Odrzuć wszystko",
        "Ustawienia",
        "Zapisz wybór",
        "Zamknij",
        "Cele",
        "Cele specjalne",
        "Funkcje",
        "Funkcje specjalne",
        "Grupy celów",
        "Dostawcy",
        "Zgoda",
        "Prawnie uzasadniony interes",
        "Okres przechowywania: {n} dni",
        "Polityka prywatności",
        "Zawsze aktywne",
        "Kategorie",
        "Ustawienia prywatności",
    ],
    // pt
    &[
        "Aceitar tudo",
        "Rejeitar tudo",
        "Definições",
        "Guardar escolhas",
        "Fechar",
        "Finalidades",
        "Finalidades especiais",
        "Funcionalidades",
        "Funcionalidades especiais",
        "Grupos de finalidades",
        "Fornecedores",
        "Consentimento",
        "Interesse legítimo",
        "Conservação: {n} dias",
        "Política de privacidade",
        "Sempre ativo",
        "Categorias",
        "Definições de privacidade",
    ],
];

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
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The built-in row of `language`'s primary subtag, English for a
/// language without one.
fn built_in_row(language: &str) -> &'static [&'static str] {
    let wanted = primary(language);
    BUILT_IN_LANGUAGES
        .iter()
        .zip(ROWS)
        .find(|(code, _)| **code == wanted)
        .map_or(&ENGLISH, |(_, row)| row)
}

/// The built-in text of `key` (an index into [`KEYS`]) in `row`, English
/// where the row stops early.
fn built_in(row: &[&'static str], index: usize) -> &'static str {
    row.get(index)
        .or_else(|| ENGLISH.get(index))
        .copied()
        .unwrap_or_default()
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
    let row = built_in_row(language);
    let pick = |key: &str, built_in: &str| {
        configured(texts, key)
            .or_else(|| configured(fallback, key))
            .unwrap_or(built_in)
            .to_owned()
    };
    let mut strings = BTreeMap::new();
    strings.insert("title", pick("title", ""));
    strings.insert("description", pick("description", ""));
    for (index, key) in KEYS.iter().enumerate() {
        strings.insert(*key, pick(key, built_in(row, index)));
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
    fn the_table_has_a_row_per_built_in_language_and_english_is_complete() {
        assert_eq!(
            BUILT_IN_LANGUAGES,
            ["en", "de", "fr", "es", "it", "nl", "pl", "pt"]
        );
        assert_eq!(ROWS.len(), BUILT_IN_LANGUAGES.len());
        assert_eq!(ROWS.first(), Some(&&ENGLISH[..]));
        assert!(ROWS.iter().all(|row| row.len() <= KEYS.len()));
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
            text(&ui_strings("pt-BR", None, None), "acceptAll"),
            "Aceitar tudo"
        );
        assert_eq!(
            text(&ui_strings("de_AT", None, None), "acceptAll"),
            "Alle akzeptieren"
        );
        assert_eq!(primary("pt-BR"), "pt");
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
    fn a_short_row_falls_back_to_english_key_by_key() {
        let es = ui_strings("es", None, None);
        assert_eq!(text(&es, "reopen"), "Configuración de privacidad");
        assert_eq!(text(&es, "cancel"), "Cancel");
        assert_eq!(text(&es, "targeted"), "Targeted advertising");
    }

    #[test]
    fn the_us_notice_strings_are_english_in_every_language() {
        let en = ui_strings("en", None, None);
        let us_keys = &KEYS[KEYS
            .iter()
            .position(|k| *k == "cancel")
            .unwrap_or(KEYS.len())..];
        assert_eq!(us_keys.len(), 8);
        for language in BUILT_IN_LANGUAGES {
            let strings = ui_strings(language, None, None);
            for key in us_keys {
                assert_eq!(strings.get(key), en.get(key), "{language}.{key}");
            }
        }
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
