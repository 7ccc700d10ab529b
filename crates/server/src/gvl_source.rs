//! Where the server's Global Vendor List and its translations come from: a
//! file with the `purposes-xx.json` files beside it, an https URL with the
//! translations under the same base URL, or the small sample embedded for
//! the demo with its sample translations.
//!
//! Invariant: the vendor list is required, its translations are not. A
//! translation that is missing or does not parse is a logged warning and
//! its language falls back to English; it never stops the server.

use anyhow::Context;
use nexaguard_tcf::gvl::{Gvl, Translation, Translations, IAB_LANGUAGES};
use std::path::Path;

const SAMPLE: &str = include_str!("../assets/gvl-sample.json");

/// The sample's translations, written for the demo and the tests (the
/// sample's entries only): `(file name, text)`.
const SAMPLE_TRANSLATIONS: [(&str, &str); 3] = [
    (
        "purposes-ar.json",
        include_str!("../assets/purposes-ar.json"),
    ),
    (
        "purposes-de.json",
        include_str!("../assets/purposes-de.json"),
    ),
    (
        "purposes-fr.json",
        include_str!("../assets/purposes-fr.json"),
    ),
];

/// A vendor list with the translations of its texts.
#[derive(Debug, Clone)]
pub struct LoadedGvl {
    /// The list, in English.
    pub gvl: Gvl,
    /// Its translations by language.
    pub translations: Translations,
}

/// Loads the GVL named by the settings (`None`: the embedded sample), and
/// its translations.
pub async fn load(source: Option<&str>) -> anyhow::Result<LoadedGvl> {
    let gvl = load_list(source).await?;
    let translations = match source {
        None => sample_translations(&gvl),
        Some(url) if url.starts_with("https://") => fetch_translations(url, &gvl).await,
        Some(path) => read_translations(Path::new(path), &gvl).await,
    };
    tracing::info!(
        translations = translations.len(),
        "Global Vendor List translations loaded"
    );
    Ok(LoadedGvl { gvl, translations })
}

/// Loads the GVL named by the settings (`None`: the embedded sample)
/// without its translations: what checking a configuration needs.
pub async fn load_list(source: Option<&str>) -> anyhow::Result<Gvl> {
    let gvl = match source {
        None => {
            tracing::info!(
                "using the embedded sample Global Vendor List (demo only; set gvl for production)"
            );
            parse(SAMPLE)?
        }
        Some(url) if url.starts_with("https://") => parse(&fetch(&client()?, url).await?)?,
        Some(url) if url.starts_with("http://") => {
            anyhow::bail!("gvl {url}: only https:// URLs are fetched")
        }
        Some(path) => parse(
            &tokio::fs::read_to_string(path)
                .await
                .with_context(|| format!("reading gvl {path}"))?,
        )?,
    };
    tracing::info!(
        vendor_list_version = gvl.vendor_list_version,
        vendors = gvl.vendors.len(),
        "Global Vendor List loaded"
    );
    Ok(gvl)
}

/// The embedded sample and its translations, for tests and the demo.
pub fn sample() -> anyhow::Result<LoadedGvl> {
    let gvl = parse(SAMPLE)?;
    Ok(LoadedGvl {
        translations: sample_translations(&gvl),
        gvl,
    })
}

fn sample_translations(gvl: &Gvl) -> Translations {
    let mut translations = Translations::default();
    for (file, text) in SAMPLE_TRANSLATIONS {
        add(&mut translations, gvl, file, text.as_bytes());
    }
    translations
}

fn parse(text: &str) -> anyhow::Result<Gvl> {
    Gvl::from_json(text).context("parsing the Global Vendor List")
}

/// Parses one translation file into `translations`, or logs why not.
fn add(translations: &mut Translations, gvl: &Gvl, file: &str, bytes: &[u8]) {
    let Some(language) = Translation::language_from_file_name(file) else {
        return;
    };
    match Translation::from_slice(bytes) {
        Ok(mut translation) => {
            // The file name is the IAB's key; a language inside the file
            // that disagrees is a mislabelled file, named by its file.
            translation.language = Some(language.clone());
            let untranslated = translation.untranslated(gvl).len();
            if untranslated > 0 {
                tracing::warn!(
                    file,
                    untranslated,
                    "a GVL translation lacks entries of the list; those stay in English"
                );
            }
            translations.insert(&language, translation);
        }
        Err(e) => tracing::warn!(
            file,
            error = %e,
            "a GVL translation does not parse; visitors in its language see English"
        ),
    }
}

/// The `purposes-xx.json` files in the directory of the GVL file `path`.
async fn read_translations(path: &Path, gvl: &Gvl) -> Translations {
    let mut translations = Translations::default();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot list the GVL's directory; no translations");
            return translations;
        }
    };
    let mut files = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if Translation::language_from_file_name(&name).is_some() {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    for (name, file) in files {
        match tokio::fs::read(&file).await {
            Ok(bytes) => add(&mut translations, gvl, &name, &bytes),
            Err(e) => tracing::warn!(file = %name, error = %e, "cannot read a GVL translation"),
        }
    }
    translations
}

/// The URL of `file` beside the document at `url` (`.../v3/vendor-list.json`
/// → `.../v3/purposes-de.json`), as the IAB publishes them.
pub fn sibling_url(url: &str, file: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or(url);
    match base.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{file}"),
        None => file.to_owned(),
    }
}

/// Every IAB language's `purposes-xx.json` beside `url`, fetched together.
async fn fetch_translations(url: &str, gvl: &Gvl) -> Translations {
    // One client for all of them: building one loads the root certificates.
    let client = match client() {
        Ok(client) => client,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "cannot fetch the GVL translations");
            return Translations::default();
        }
    };
    let mut set = tokio::task::JoinSet::new();
    for language in IAB_LANGUAGES.into_iter().filter(|l| *l != "en") {
        let file = format!("purposes-{language}.json");
        let from = sibling_url(url, &file);
        let client = client.clone();
        set.spawn(async move {
            let text = fetch(&client, &from).await;
            (file, text)
        });
    }
    let mut fetched = Vec::new();
    while let Some(done) = set.join_next().await {
        match done {
            Ok((file, Ok(text))) => fetched.push((file, text)),
            Ok((file, Err(e))) => tracing::warn!(
                file,
                error = %format!("{e:#}"),
                "cannot fetch a GVL translation; visitors in its language see English"
            ),
            Err(e) => tracing::warn!(error = %e, "a GVL translation fetch failed"),
        }
    }
    fetched.sort();
    let mut translations = Translations::default();
    for (file, text) in fetched {
        add(&mut translations, gvl, &file, text.as_bytes());
    }
    translations
}

/// The HTTP client the GVL and its translations are fetched with.
fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?
        .error_for_status()
        .with_context(|| format!("fetching {url}"))?;
    response
        .text()
        .await
        .with_context(|| format!("reading {url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_gvl_file_brings_the_translations_beside_it_and_skips_the_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vendor-list.json");
        std::fs::write(&path, SAMPLE).unwrap();
        let (_, german) = SAMPLE_TRANSLATIONS[1];
        std::fs::write(dir.path().join("purposes-de.json"), german).unwrap();
        std::fs::write(dir.path().join("purposes-fr.json"), "{ not json").unwrap();
        std::fs::write(dir.path().join("purposes-it.json"), r#"{"purposes": []}"#).unwrap();
        std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
        let loaded = load(Some(path.to_str().unwrap())).await.unwrap();
        assert_eq!(loaded.translations.languages().collect::<Vec<_>>(), ["de"]);
        assert_eq!(
            loaded.gvl.vendors.len(),
            sample().unwrap().gvl.vendors.len()
        );
    }

    #[tokio::test]
    async fn a_gvl_file_alone_has_no_translations_and_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vendor-list.json");
        std::fs::write(&path, SAMPLE).unwrap();
        let loaded = load(Some(path.to_str().unwrap())).await.unwrap();
        assert!(loaded.translations.is_empty());
    }

    #[test]
    fn the_sample_has_german_french_and_arabic_covering_every_entry() {
        let sample = sample().unwrap();
        assert_eq!(
            sample.translations.languages().collect::<Vec<_>>(),
            ["ar", "de", "fr"]
        );
        for language in ["ar", "de", "fr"] {
            let (_, translation) = sample.translations.find(language).unwrap();
            assert_eq!(translation.untranslated(&sample.gvl), [], "{language}");
        }
    }

    #[test]
    fn translations_are_fetched_beside_the_vendor_list() {
        assert_eq!(
            sibling_url(
                "https://vendor-list.consensu.org/v3/vendor-list.json",
                "purposes-de.json"
            ),
            "https://vendor-list.consensu.org/v3/purposes-de.json"
        );
        assert_eq!(
            sibling_url(
                "https://cdn.example/gvl/list.json?v=3#x",
                "purposes-fr.json"
            ),
            "https://cdn.example/gvl/purposes-fr.json"
        );
    }
}
