//! The banner's UI strings in `config.json` (`strings`), in process over
//! the real router and a SQLite store in a temporary directory: built in
//! for the language the answer is in, the site's configured texts first,
//! then its default language's, English where nothing else has a text.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use nexaguard_consent::token::TokenKeys;
use nexaguard_consent::ui_strings::KEYS;
use nexaguard_consent::Environment;
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_server::settings::{PublicOrigin, PublicOrigins};
use nexaguard_store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");
const SERVER_HOST: &str = "consent.test";

/// The router over a store with one site whose production configuration
/// is `config`, and the site's production key.
async fn serve(config: &Value) -> (Router, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let tenant = store.create_tenant("Shop").await.unwrap();
    let origins = vec!["https://shop.example".to_owned()];
    let site = store
        .create_site(tenant.id, "shop", &origins)
        .await
        .unwrap();
    store
        .publish_config(site.id, Environment::Production, &config.to_string())
        .await
        .unwrap();
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

/// `config.json` of `key` with `query`, as JSON (asserting a 200).
async fn config_json(app: &Router, key: &str, query: &str) -> Value {
    let request = Request::get(format!("/v1/sites/{key}/config.json{query}"))
        .header(header::HOST, SERVER_HOST)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "config.json{query}");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
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
    assert_eq!(
        strings["dns"], "Do not sell or share my personal information",
        "the US notice strings are English in every language"
    );
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
        portuguese["close"], "Fechar",
        "built in for the primary subtag"
    );
    assert_eq!(portuguese["cancel"], "Cancel", "a short row takes English");
}
