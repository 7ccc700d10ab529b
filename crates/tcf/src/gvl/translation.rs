//! Translation files (`purposes-xx.json`): the texts of the declarations,
//! stacks and data categories in another language, keyed by the same ids;
//! and [`Translations`], the set a server holds, with the IAB's rule for
//! which file serves a visitor's language (so `de-AT` reads `de`, `pt`
//! reads `pt-pt`, `nb` reads `no`).

use super::{Declaration, Gvl, GvlError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The texts of one entry in a translation file. Fields left out keep the
/// list's text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextEntry {
    /// The translated name.
    #[serde(default)]
    pub name: Option<String>,
    /// The translated description.
    #[serde(default)]
    pub description: Option<String>,
    /// The translated illustrations (declarations only).
    #[serde(default)]
    pub illustrations: Option<Vec<String>>,
}

/// A parsed translation file. Only the texts are read: ids and the other
/// fields come from the vendor list itself.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Translation {
    /// The language, when the file names it; callers may fill it in from
    /// the file name (`purposes-de.json`).
    #[serde(default)]
    pub language: Option<String>,
    /// Purpose texts by id.
    #[serde(default)]
    pub purposes: BTreeMap<u32, TextEntry>,
    /// Special purpose texts by id.
    #[serde(default)]
    pub special_purposes: BTreeMap<u32, TextEntry>,
    /// Feature texts by id.
    #[serde(default)]
    pub features: BTreeMap<u32, TextEntry>,
    /// Special feature texts by id.
    #[serde(default)]
    pub special_features: BTreeMap<u32, TextEntry>,
    /// Stack texts by id.
    #[serde(default)]
    pub stacks: BTreeMap<u32, TextEntry>,
    /// Data category texts by id.
    #[serde(default)]
    pub data_categories: BTreeMap<u32, TextEntry>,
}

/// The language recorded when a translation does not name one (BCP 47
/// "undetermined").
pub const UNDETERMINED_LANGUAGE: &str = "und";

impl Translation {
    /// Parses a `purposes-xx.json`.
    pub fn from_json(json: &str) -> Result<Self, GvlError> {
        Self::from_slice(json.as_bytes())
    }

    /// Parses a `purposes-xx.json` from bytes (UTF-8).
    pub fn from_slice(json: &[u8]) -> Result<Self, GvlError> {
        serde_json::from_slice(json).map_err(|e| GvlError::from_json(&e, "translation"))
    }

    /// The language of a file named like the IAB's, `purposes-xx.json`
    /// (`xx` may be a tag such as `pt-br`), lowercased.
    pub fn language_from_file_name(file_name: &str) -> Option<String> {
        let lang = file_name
            .strip_prefix("purposes-")?
            .strip_suffix(".json")?
            .to_ascii_lowercase();
        let valid = !lang.is_empty()
            && lang
                .split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
        valid.then_some(lang)
    }
}

/// The languages the IAB publishes translations in (`purposes-xx.json`),
/// lowercased: the consent languages of @iabtechlabtcf/core 1.5.21, which
/// follow the IAB's list.
pub const IAB_LANGUAGES: [&str; 52] = [
    "ar", "bg", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "eu", "fi", "fr", "gl",
    "he", "hi", "hr", "hu", "id", "is", "it", "ja", "ka", "ko", "lt", "lv", "mk", "ms", "mt", "nl",
    "no", "pl", "pt-br", "pt-pt", "ro", "ru", "sk", "sl", "sq", "sr-cyrl", "sr-latn", "sv", "sw",
    "th", "tl", "tr", "uk", "vi", "zh", "zh-hant",
];

/// A language tag as the lookups here compare it: lowercase, `-` between
/// subtags, and Norwegian Bokmål and Nynorsk (`nb`, `nn`, what browsers
/// send) as `no`, the code the IAB and the TC string use.
pub fn normalize_language(tag: &str) -> String {
    let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
    let (primary, rest) = tag.split_once('-').unwrap_or((tag.as_str(), ""));
    let primary = match primary {
        "nb" | "nn" => "no",
        other => other,
    };
    if rest.is_empty() {
        primary.to_owned()
    } else {
        format!("{primary}-{rest}")
    }
}

/// The translations a server holds, by language (normalised with
/// [`normalize_language`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translations {
    by_language: BTreeMap<String, Translation>,
}

impl Translations {
    /// Adds (or replaces) the translation of `language`.
    pub fn insert(&mut self, language: &str, translation: Translation) {
        self.by_language
            .insert(normalize_language(language), translation);
    }

    /// The languages held, in order.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.by_language.keys().map(String::as_str)
    }

    /// How many languages are held.
    pub fn len(&self) -> usize {
        self.by_language.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.by_language.is_empty()
    }

    /// The translation that serves `language`, with the language it is in:
    /// the tag itself, then its primary subtag (`de-at` → `de`), then the
    /// primary subtag's own region (`pt` → `pt-pt`), then the first held
    /// variant of the primary subtag (`sr` → `sr-cyrl`). English has none:
    /// it is the list's own language.
    pub fn find(&self, language: &str) -> Option<(&str, &Translation)> {
        let tag = normalize_language(language);
        let primary = tag.split('-').next().unwrap_or_default();
        if primary == super::BASE_LANGUAGE || primary.is_empty() {
            return None;
        }
        let get = |code: &str| self.by_language.get_key_value(code);
        get(&tag)
            .or_else(|| get(primary))
            .or_else(|| get(&format!("{primary}-{primary}")))
            .or_else(|| {
                self.by_language
                    .range(format!("{primary}-")..)
                    .next()
                    .filter(|(code, _)| code.starts_with(&format!("{primary}-")))
            })
            .map(|(code, t)| (code.as_str(), t))
    }
}

impl Translation {
    /// The entries of `gvl` this translation has no texts for, as
    /// `(section, id)` pairs in list order: they stay in English.
    pub fn untranslated(&self, gvl: &Gvl) -> Vec<(&'static str, u32)> {
        let mut out = Vec::new();
        missing("purposes", &gvl.purposes, &self.purposes, &mut out);
        missing(
            "specialPurposes",
            &gvl.special_purposes,
            &self.special_purposes,
            &mut out,
        );
        missing("features", &gvl.features, &self.features, &mut out);
        missing(
            "specialFeatures",
            &gvl.special_features,
            &self.special_features,
            &mut out,
        );
        missing("stacks", &gvl.stacks, &self.stacks, &mut out);
        missing(
            "dataCategories",
            &gvl.data_categories,
            &self.data_categories,
            &mut out,
        );
        out
    }
}

fn missing<T>(
    section: &'static str,
    entries: &BTreeMap<u32, T>,
    texts: &BTreeMap<u32, TextEntry>,
    out: &mut Vec<(&'static str, u32)>,
) {
    out.extend(
        entries
            .keys()
            .filter(|id| !texts.contains_key(id))
            .map(|id| (section, *id)),
    );
}

impl Gvl {
    /// Replaces the texts of every entry the translation covers and records
    /// its language (lowercased; `und` when it names none). Entries the
    /// translation lacks keep their current (English) text.
    ///
    /// Returns the entries left untranslated, as `(section, id)` pairs in
    /// file order, so a caller can report them.
    pub fn apply_translation(&mut self, translation: &Translation) -> Vec<(&'static str, u32)> {
        let untranslated = translation.untranslated(self);
        let t = translation;
        translate_declarations(&mut self.purposes, &t.purposes);
        translate_declarations(&mut self.special_purposes, &t.special_purposes);
        translate_declarations(&mut self.features, &t.features);
        translate_declarations(&mut self.special_features, &t.special_features);
        for (id, stack) in &mut self.stacks {
            if let Some(text) = t.stacks.get(id) {
                replace_texts(&mut stack.name, &mut stack.description, text);
            }
        }
        for (id, category) in &mut self.data_categories {
            if let Some(text) = t.data_categories.get(id) {
                replace_texts(&mut category.name, &mut category.description, text);
            }
        }
        self.language = t
            .language
            .as_deref()
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| UNDETERMINED_LANGUAGE.to_owned());
        untranslated
    }
}

fn translate_declarations(
    entries: &mut BTreeMap<u32, Declaration>,
    texts: &BTreeMap<u32, TextEntry>,
) {
    for (id, entry) in entries {
        let Some(text) = texts.get(id) else { continue };
        replace_texts(&mut entry.name, &mut entry.description, text);
        if let Some(illustrations) = &text.illustrations {
            entry.illustrations.clone_from(illustrations);
        }
    }
}

fn replace_texts(name: &mut String, description: &mut String, text: &TextEntry) {
    if let Some(n) = &text.name {
        name.clone_from(n);
    }
    if let Some(d) = &text.description {
        description.clone_from(d);
    }
}
