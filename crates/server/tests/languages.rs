//! `config.json` in the visitor's language, in process over the real
//! router and a SQLite store in a temporary directory: the banner's UI
//! strings (`strings`: the site's configured texts first, then its default
//! language's, then the built-in ones, English where nothing else has a
//! text), the IAB's texts in the vendor list from the GVL's translations
//! (the embedded sample has German, French and Arabic), the writing
//! direction and the languages to switch to. A TCF site's language without
//! IAB texts is answered in English, whole.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use nexaguard_consent::token::TokenKeys;
use nexaguard_consent::ui_strings::KEYS;
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_server::settings::{PublicOrigin, PublicOrigins};
use nexaguard_store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");
const TCF_CONFIG: &str = include_str!("fixtures/tcf-site.json");
const SAMPLE_GERMAN: &str = include_str!("../assets/purposes-de.json");
const SAMPLE_ARABIC: &str = include_str!("../assets/purposes-ar.json");
const SERVER_HOST: &str = "consent.test";

/// The router over a store with one site whose production configuration
/// is `config`, and the site's production key.
async fn serve(config: &Value) -> (Router, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let admin = common::open_admin(dir.path(), &db, &store).await;
    let site = common::Seed(&admin)
        .published_site("Shop", &["https://shop.example"], &config.to_string())
        .await;
    let state = AppState::new(StateParts {
        store,
        gvl: nexaguard_server::gvl_source::sample().unwrap(),
        keys: TokenKeys::new([7; 32], [9; 32]),
        limiter: Limiter::new(10_000, 10_000),
        country_header: None,
        behind_proxy: false,
        demo_site_key: None,
        admin: None,
        public: PublicOrigins::new(PublicOrigin::parse(&format!("https://{SERVER_HOST}")).unwrap()),
    })
    .await
    .unwrap();
    let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let app = router(state).layer(MockConnectInfo(peer));
    (app, site.production_key, dir)
}

/// The opt-in fixture, with `changes` merged into its `languages`.
fn config_with_languages(changes: Value) -> Value {
    let mut config: Value = serde_json::from_str(OPT_IN_CONFIG).unwrap();
    let languages = config["languages"].as_object_mut().unwrap();
    for (code, texts) in changes.as_object().unwrap() {
        let entry = languages.entry(code.clone()).or_insert_with(|| json!({}));
        for (field, text) in texts.as_object().unwrap() {
            entry[field] = text.clone();
        }
    }
    config
}

/// The TCF fixture with texts in `languages` (the English fixture's,
/// relabelled: the strings under test are the built-in and IAB ones).
fn tcf_config(languages: &[&str]) -> Value {
    let mut config: Value = serde_json::from_str(TCF_CONFIG).unwrap();
    let english = config["languages"]["en"].clone();
    for code in languages {
        let mut texts = english.clone();
        texts["title"] = json!(format!("Title {code}"));
        for field in ["acceptAll", "rejectAll", "manage", "save"] {
            texts[field] = json!("");
        }
        config["languages"][*code] = texts;
    }
    config
}

/// `config.json` of `key` with `query` and `headers`: status, ETag, body.
async fn get_config(
    app: &Router,
    key: &str,
    query: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut request = Request::get(format!("/v1/sites/{key}/config.json{query}"))
        .header(header::HOST, SERVER_HOST);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, etag, body.to_vec())
}

/// `config.json` of `key` with `query`, as JSON (asserting a 200).
async fn config_json(app: &Router, key: &str, query: &str) -> Value {
    let (status, _, body) = get_config(app, key, query, &[]).await;
    assert_eq!(status, StatusCode::OK, "config.json{query}");
    serde_json::from_slice(&body).unwrap()
}

/// The name of `section`/`id` in a translation file.
fn translated_name(file: &str, section: &str, id: u32) -> String {
    let file: Value = serde_json::from_str(file).unwrap();
    file[section][id.to_string()]["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every key of the table plus title and description, each a string.
fn assert_complete(strings: &Value) {
    let strings = strings.as_object().expect("strings is an object");
    assert_eq!(strings.len(), KEYS.len() + 2, "{strings:?}");
    for key in KEYS.iter().chain(&["title", "description"]) {
        assert!(strings[*key].is_string(), "{key} is a string");
    }
}

#[tokio::test]
async fn german_gets_the_german_built_in_strings_with_the_sites_configured_title() {
    let (app, key, _dir) = serve(&serde_json::from_str(OPT_IN_CONFIG).unwrap()).await;
    let answer = config_json(&app, &key, "?lang=de").await;
    assert_eq!(answer["language"], "de");
    let strings = &answer["strings"];
    assert_complete(strings);
    assert_eq!(strings["title"], "Ihre Privatsphäre ist uns wichtig");
    assert_eq!(
        strings["description"],
        "Wir nutzen Cookies für Statistik und Werbung, mit Ihrer Einwilligung."
    );
    assert_eq!(strings["acceptAll"], "Alle akzeptieren");
    assert_eq!(strings["close"], "Schließen");
    assert_eq!(strings["li"], "Berechtigtes Interesse");
    assert_eq!(strings["retention"], "Speicherdauer: {n} Tage");
    assert_eq!(strings["reopen"], "Datenschutz-Einstellungen");
    assert_ne!(
        strings["dns"], "Do not sell or share my personal information",
        "the US notice strings are translated too"
    );
    assert_eq!(answer["dir"], "ltr");
}

#[tokio::test]
async fn an_unknown_language_gets_english() {
    let (app, key, _dir) = serve(&serde_json::from_str(OPT_IN_CONFIG).unwrap()).await;
    let answer = config_json(&app, &key, "?lang=ja").await;
    assert_eq!(answer["language"], "en");
    let strings = &answer["strings"];
    assert_complete(strings);
    assert_eq!(strings["title"], "We value your privacy");
    assert_eq!(strings["close"], "Close");
    assert_eq!(strings["li"], "Legitimate interest");
    assert_eq!(strings["retention"], "Retention: {n} days");
}

#[tokio::test]
async fn configured_texts_win_then_the_default_languages_then_the_built_in_ones() {
    let config = config_with_languages(json!({
        "en": { "manage": "More options" },
        "de": { "save": "Speichern", "manage": "" },
        "pt-br": {
            "title": "A sua privacidade",
            "description": "Usamos cookies.",
            "acceptAll": "",
            "rejectAll": "",
            "manage": "",
            "save": ""
        }
    }));
    let (app, key, _dir) = serve(&config).await;

    let german = &config_json(&app, &key, "?lang=de").await["strings"];
    assert_eq!(german["save"], "Speichern", "configured beats built in");
    assert_eq!(
        german["manage"], "More options",
        "an empty text takes the default language's configured one"
    );

    let answer = config_json(&app, &key, "?lang=pt-BR").await;
    assert_eq!(answer["language"], "pt-br");
    let portuguese = &answer["strings"];
    assert_eq!(portuguese["title"], "A sua privacidade");
    assert_eq!(
        portuguese["acceptAll"], "Accept all",
        "the default language's"
    );
    assert_eq!(
        portuguese["reopen"], "Configurações de privacidade",
        "built in for Brazilian Portuguese, not Portugal's"
    );
    assert_ne!(
        portuguese["cancel"], "Cancel",
        "the US notice keys are translated"
    );
}

#[tokio::test]
async fn a_german_visitor_reads_the_iab_texts_in_german() {
    let (app, key, _dir) = serve(&tcf_config(&["de", "fr"])).await;
    let answer = config_json(&app, &key, "?lang=de-AT").await;
    assert_eq!(answer["language"], "de");
    let list = &answer["vendorList"];
    for (section, id) in [
        ("purposes", 1),
        ("purposes", 10),
        ("specialFeatures", 1),
        ("stacks", 1),
    ] {
        assert_eq!(
            list[section][id.to_string()]["name"],
            translated_name(SAMPLE_GERMAN, section, id),
            "{section} {id}"
        );
    }
    let illustrations = &list["purposes"]["1"]["illustrations"];
    let german: Value = serde_json::from_str(SAMPLE_GERMAN).unwrap();
    assert_eq!(illustrations, &german["purposes"]["1"]["illustrations"]);
    assert_eq!(answer["strings"]["purposes"], "Zwecke");
    assert_eq!(answer["strings"]["title"], "Title de");
}

#[tokio::test]
async fn an_arabic_visitor_gets_arabic_texts_written_right_to_left() {
    let (app, key, _dir) = serve(&tcf_config(&["ar"])).await;
    let answer = config_json(&app, &key, "?lang=ar-EG").await;
    assert_eq!(answer["language"], "ar");
    assert_eq!(answer["dir"], "rtl");
    assert_eq!(
        answer["vendorList"]["purposes"]["2"]["name"],
        translated_name(SAMPLE_ARABIC, "purposes", 2)
    );
    let arabic: Value =
        serde_json::from_str(include_str!("../../consent/locales/ar.json")).unwrap();
    for key in ["close", "reopen", "purposes", "vendors"] {
        assert_eq!(answer["strings"][key], arabic[key], "{key}");
    }
}

#[tokio::test]
async fn a_tcf_sites_language_without_iab_texts_is_answered_in_english_whole() {
    let (app, key, _dir) = serve(&tcf_config(&["de", "it"])).await;
    let english = config_json(&app, &key, "?lang=en").await;
    let answer = config_json(&app, &key, "?lang=it").await;
    assert_eq!(answer["language"], "en", "the consent language is EN");
    assert_eq!(answer["vendorList"], english["vendorList"]);
    assert_eq!(answer["strings"], english["strings"], "no Italian mixed in");
    assert_eq!(answer["strings"]["acceptAll"], "Accept all");
    assert_eq!(answer["dir"], "ltr");
}

#[tokio::test]
async fn a_site_without_the_tcf_keeps_a_language_the_iab_has_no_texts_in() {
    let config = config_with_languages(json!({ "it": {
        "title": "La tua privacy",
        "description": "Usiamo i cookie.",
        "acceptAll": "", "rejectAll": "", "manage": "", "save": ""
    } }));
    let (app, key, _dir) = serve(&config).await;
    let answer = config_json(&app, &key, "?lang=it").await;
    assert_eq!(answer["language"], "it");
    assert_eq!(answer["strings"]["title"], "La tua privacy");
    assert_eq!(answer["strings"]["close"], "Chiudi");
}

#[tokio::test]
async fn a_language_without_its_own_privacy_policy_link_gets_the_default_languages() {
    let mut config = tcf_config(&["de", "fr", "it"]);
    config["languages"]["en"]["privacyPolicyUrl"] = json!("https://shop.example/privacy");
    config["languages"]["fr"]["privacyPolicyUrl"] = json!("https://shop.example/fr/vie-privee");
    let (app, key, _dir) = serve(&config).await;
    let link = |answer: &Value| {
        answer["config"]["languages"][answer["language"].as_str().unwrap()]["privacyPolicyUrl"]
            .clone()
    };
    let german = config_json(&app, &key, "?lang=de").await;
    assert_eq!(link(&german), "https://shop.example/privacy");
    let french = config_json(&app, &key, "?lang=fr").await;
    assert_eq!(link(&french), "https://shop.example/fr/vie-privee");
    assert_eq!(
        french["config"]["languages"].as_object().unwrap().len(),
        1,
        "one language's texts only"
    );

    // A TCF site without English texts, answered in English: the default
    // language's texts stand in, link included.
    let mut config = tcf_config(&["de", "it"]);
    config["defaultLanguage"] = json!("de");
    config["languages"]["de"]["privacyPolicyUrl"] = json!("https://shop.example/datenschutz");
    config["languages"].as_object_mut().unwrap().remove("en");
    let (app, key, _dir) = serve(&config).await;
    let italian = config_json(&app, &key, "?lang=it").await;
    assert_eq!(italian["language"], "en");
    assert_eq!(link(&italian), "https://shop.example/datenschutz");
}

#[tokio::test]
async fn the_languages_to_switch_to_are_named_in_themselves() {
    let (app, key, _dir) = serve(&tcf_config(&["de", "ar", "ja"])).await;
    let answer = config_json(&app, &key, "").await;
    assert_eq!(
        answer["languages"],
        json!([
            { "code": "ar", "name": "العربية" },
            { "code": "de", "name": "Deutsch" },
            { "code": "en", "name": "English" },
            { "code": "ja", "name": "ja" },
        ])
    );
}

#[tokio::test]
async fn each_language_has_its_own_etag_and_revalidates_on_its_own() {
    let (app, key, _dir) = serve(&tcf_config(&["de", "fr"])).await;
    let (_, german, _) = get_config(&app, &key, "?lang=de", &[]).await;
    let (_, french, _) = get_config(&app, &key, "?lang=fr", &[]).await;
    let german = german.expect("an ETag");
    assert_ne!(Some(&german), french.as_ref());
    let (status, _, body) =
        get_config(&app, &key, "?lang=de", &[(header::IF_NONE_MATCH, &german)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    let (status, _, _) =
        get_config(&app, &key, "?lang=fr", &[(header::IF_NONE_MATCH, &german)]).await;
    assert_eq!(status, StatusCode::OK, "French is not German's cached copy");
    let (status, _, body) = get_config(
        &app,
        &key,
        "",
        &[(header::ACCEPT_LANGUAGE, "fr-CH, de;q=0.5")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["language"], "fr", "Accept-Language when no ?lang=");
}
