//! Translation files (`purposes-xx.json`): the texts of the declarations,
//! stacks and data categories in another language, keyed by the same ids.

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

impl Gvl {
    /// Replaces the texts of every entry the translation covers and records
    /// its language (lowercased; `und` when it names none). Entries the
    /// translation lacks keep their current (English) text.
    ///
    /// Returns the entries left untranslated, as `(section, id)` pairs in
    /// file order, so a caller can report them.
    pub fn apply_translation(&mut self, translation: &Translation) -> Vec<(&'static str, u32)> {
        let mut untranslated = Vec::new();
        let t = translation;
        translate_declarations(
            "purposes",
            &mut self.purposes,
            &t.purposes,
            &mut untranslated,
        );
        translate_declarations(
            "specialPurposes",
            &mut self.special_purposes,
            &t.special_purposes,
            &mut untranslated,
        );
        translate_declarations(
            "features",
            &mut self.features,
            &t.features,
            &mut untranslated,
        );
        translate_declarations(
            "specialFeatures",
            &mut self.special_features,
            &t.special_features,
            &mut untranslated,
        );
        for (id, stack) in &mut self.stacks {
            match t.stacks.get(id) {
                Some(text) => replace_texts(&mut stack.name, &mut stack.description, text),
                None => untranslated.push(("stacks", *id)),
            }
        }
        for (id, category) in &mut self.data_categories {
            match t.data_categories.get(id) {
                Some(text) => replace_texts(&mut category.name, &mut category.description, text),
                None => untranslated.push(("dataCategories", *id)),
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
    section: &'static str,
    entries: &mut BTreeMap<u32, Declaration>,
    texts: &BTreeMap<u32, TextEntry>,
    untranslated: &mut Vec<(&'static str, u32)>,
) {
    for (id, entry) in entries {
        let Some(text) = texts.get(id) else {
            untranslated.push((section, *id));
            continue;
        };
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
