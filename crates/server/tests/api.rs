//! The public API end to end, in process: the real router over a real
//! SQLite store in a temporary directory.

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
use nexaguard_admin::{Admin, Principal};
use nexaguard_consent::token::TokenKeys;
use nexaguard_consent::Environment;
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_server::settings::{PublicOrigin, PublicOrigins};
use nexaguard_store::{Site, SqliteStore, Store};
use nexaguard_tcf::{PurposeSet, TcModel, Timestamp, VendorSet};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;

const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");
const TCF_CONFIG: &str = include_str!("fixtures/tcf-site.json");
const ORIGIN: &str = "https://shop.example";
/// The consent server's own name; requests without a `Host` get it, as
/// every real client sends one.
const SERVER_HOST: &str = "consent.test";

struct Harness {
    app: Router,
    state: AppState,
    store: Arc<dyn Store>,
    /// The administration service the sites were made through; the router
    /// is built without the admin API.
    admin: Arc<Admin>,
    opt_in: Site,
    tcf: Site,
    _dir: tempfile::TempDir,
}

async fn harness_with(limit: (u32, u32)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let admin = common::open_admin(dir.path(), &db, &store).await;
    let seed = common::Seed(&admin);
    let tenant = seed.tenant("Shop").await;
    let opt_in = seed.site(tenant.id, "opt-in", &[ORIGIN]).await;
    let tcf = seed.site(tenant.id, "tcf", &[ORIGIN]).await;
    seed.publish(&opt_in, OPT_IN_CONFIG, Environment::Production)
        .await;
    seed.publish(&tcf, TCF_CONFIG, Environment::Production)
        .await;
    let state = AppState::new(StateParts {
        store: Arc::clone(&store),
        gvl: nexaguard_server::gvl_source::sample().unwrap(),
        keys: TokenKeys::new([7; 32], [9; 32]),
        limiter: Limiter::new(limit.0, limit.1),
        country_header: Some(header::HeaderName::from_static("x-country")),
        behind_proxy: false,
        demo_site_key: Some(opt_in.production_key.clone()),
        admin: None,
        public: PublicOrigins::new(PublicOrigin::parse(&format!("https://{SERVER_HOST}")).unwrap()),
    })
    .await
    .unwrap();
    let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let app = router(state.clone()).layer(MockConnectInfo(peer)).layer(
        tower::util::MapRequestLayer::new(|mut request: Request<Body>| {
            if !request.headers().contains_key(header::HOST) {
                request
                    .headers_mut()
                    .insert(header::HOST, header::HeaderValue::from_static(SERVER_HOST));
            }
            request
        }),
    );
    Harness {
        app,
        state,
        store,
        admin,
        opt_in,
        tcf,
        _dir: dir,
    }
}

async fn harness() -> Harness {
    harness_with((10_000, 10_000)).await
}

struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/consents")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, ORIGIN)
        .header(
            header::USER_AGENT,
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148",
        )
        .header("x-country", "de")
        .body(body.into())
        .unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn now_iso() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn opt_in_event(site_key: &str) -> Value {
    json!({
        "eventId": uuid::Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": site_key,
        "environment": "production",
        "configVersion": 1,
        "timestamp": now_iso(),
        "action": "custom",
        "source": "banner",
        "consentMode": {
            "ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
            "analytics_storage": "granted", "functionality_storage": "granted",
            "personalization_storage": "denied", "security_storage": "granted"
        },
        "customPurposes": ["necessary", "analytics"],
        "customVendors": ["demo-analytics"],
        "language": "en",
        "sdkVersion": "1.0.0"
    })
}

fn tc_model() -> TcModel {
    let now = OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut m = TcModel::default();
    m.created = Timestamp::from_unix_millis(now).unwrap();
    m.last_updated = m.created;
    m.cmp_id = 300;
    m.cmp_version = 1;
    m.vendor_list_version = 42;
    m.policy_version = 5;
    m.purpose_consents = PurposeSet::try_from(&[1u32, 2, 3, 4, 7][..]).unwrap();
    m.vendor_consents = VendorSet::try_from(&[1u32, 2][..]).unwrap();
    m.vendors_disclosed = Some(VendorSet::try_from(&[1u32, 2, 5, 6][..]).unwrap());
    m
}

fn tcf_event(site_key: &str, tc: &TcModel) -> Value {
    let mut e = opt_in_event(site_key);
    e["tcString"] = json!(nexaguard_tcf::encode(tc).unwrap());
    e["customPurposes"] = json!([]);
    e["customVendors"] = json!([]);
    e["purposes"] = json!([1, 2, 3, 4, 7]);
    e["vendors"] = json!([1, 2]);
    e
}

async fn total_consents(h: &Harness) -> u64 {
    let mut total = 0;
    for site in [&h.opt_in, &h.tcf] {
        for env in Environment::ALL {
            total += h.store.count_consents(site.id, env).await.unwrap();
        }
    }
    total
}

#[tokio::test]
async fn a_consent_is_recorded_restored_and_retried_idempotently() {
    let h = harness().await;
    let event = opt_in_event(&h.opt_in.production_key);
    let first = send(&h.app, post(event.to_string())).await;
    assert_eq!(
        first.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    let receipt = first.json();
    assert_eq!(receipt["eventId"], event["eventId"]);
    let token = receipt["consentToken"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 43);

    // A retry returns the same receipt and stores nothing new.
    let retry = send(&h.app, post(event.to_string())).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.json(), receipt);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(total_consents(&h).await, 1);

    // The same id with another body is a conflict.
    let mut changed = event.clone();
    changed["action"] = json!("accept_all");
    let conflict = send(&h.app, post(changed.to_string())).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.json()["error"]["code"], "event_id_conflict");

    // Restoring gives the newest state, with the coarse context only.
    let uri = format!("/v1/consents/{token}?siteKey={}", h.opt_in.production_key);
    let restored = send(&h.app, get(&uri)).await;
    assert_eq!(restored.status, StatusCode::OK);
    let state = restored.json();
    assert_eq!(
        state["event"]["customPurposes"],
        json!(["necessary", "analytics"])
    );
    assert_eq!(
        state["event"]["context"],
        json!({"country": "DE", "deviceClass": "mobile"})
    );
    assert!(
        !restored.body.windows(6).any(|w| w == b"iPhone"),
        "raw user agent leaked"
    );

    // A second event with the token updates the state.
    let mut second = opt_in_event(&h.opt_in.production_key);
    second["consentToken"] = json!(token);
    second["action"] = json!("withdraw");
    second["customPurposes"] = json!(["necessary"]);
    let answer = send(&h.app, post(second.to_string())).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["consentToken"], json!(token));
    let restored = send(&h.app, get(&uri)).await.json();
    assert_eq!(restored["event"]["action"], "withdraw");

    // The staging key does not see production's consent.
    let staging = format!("/v1/consents/{token}?siteKey={}", h.opt_in.staging_key);
    assert_eq!(
        send(&h.app, get(&staging)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tcf_events_are_checked_against_the_gvl() {
    let h = harness().await;
    let ok = send(
        &h.app,
        post(tcf_event(&h.tcf.production_key, &tc_model()).to_string()),
    )
    .await;
    assert_eq!(
        ok.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&ok.body)
    );

    let mut li = tc_model();
    li.purpose_legitimate_interests = PurposeSet::try_from(&[1u32][..]).unwrap();
    let refused = send(
        &h.app,
        post(tcf_event(&h.tcf.production_key, &li).to_string()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["code"], "tc_policy_violation");

    let mut other_cmp = tc_model();
    other_cmp.cmp_id = 12;
    let refused = send(
        &h.app,
        post(tcf_event(&h.tcf.production_key, &other_cmp).to_string()),
    )
    .await;
    assert_eq!(refused.json()["error"]["code"], "cmp_id_mismatch");
    assert_eq!(total_consents(&h).await, 1);
}

#[tokio::test]
async fn config_json_is_cached_compressed_and_localised() {
    let h = harness().await;
    let uri = format!("/v1/sites/{}/config.json", h.opt_in.production_key);
    let plain = send(&h.app, get(&uri)).await;
    assert_eq!(plain.status, StatusCode::OK);
    let body = plain.json();
    assert_eq!(body["configVersion"], 1);
    assert_eq!(body["language"], "en");
    assert!(
        body["config"]["languages"]["de"].is_null(),
        "only the chosen language is sent"
    );
    let etag = plain.headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "strong ETag: {etag}");
    assert!(plain.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("max-age"));

    let request = Request::get(&uri)
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let cached = send(&h.app, request).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());

    for (accept, encoding) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let request = Request::get(&uri)
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let answer = send(&h.app, request).await;
        assert_eq!(answer.headers[header::CONTENT_ENCODING], encoding);
        assert!(answer.body.len() < plain.body.len());
    }

    let german = send(&h.app, get(&format!("{uri}?lang=de"))).await.json();
    assert_eq!(german["language"], "de");
    assert_eq!(
        german["config"]["languages"]["de"]["acceptAll"],
        "Alle akzeptieren"
    );
    let request = Request::get(&uri)
        .header(header::ACCEPT_LANGUAGE, "fr;q=0.9, de-AT;q=0.8, en;q=0.1")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&h.app, request).await.json()["language"], "de");

    let tcf = send(
        &h.app,
        get(&format!("/v1/sites/{}/config.json", h.tcf.production_key)),
    )
    .await
    .json();
    let vendors: Vec<&String> = tcf["vendorList"]["vendors"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(vendors, ["1", "2", "5", "6"], "only the site's vendors");

    let unknown = send(&h.app, get("/v1/sites/nope/config.json")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "unknown_site_key");
}

#[tokio::test]
async fn bad_requests_get_4xx_json_and_store_nothing() {
    let h = harness().await;
    let key = h.opt_in.production_key.clone();
    let valid = opt_in_event(&key);
    let with = |field: &str, value: Value| {
        let mut e = valid.clone();
        e[field] = value;
        e.to_string()
    };
    let without = |field: &str| {
        let mut e = valid.clone();
        e.as_object_mut().unwrap().remove(field);
        e.to_string()
    };
    let mut tcf_li = tc_model();
    tcf_li.purpose_legitimate_interests = PurposeSet::try_from(&[3u32][..]).unwrap();
    let mut foreign_vendor = tc_model();
    foreign_vendor.vendor_consents.insert(3).unwrap();
    let tcf_key = h.tcf.production_key.clone();
    let mut tcf_without_string = tcf_event(&tcf_key, &tc_model());
    tcf_without_string
        .as_object_mut()
        .unwrap()
        .remove("tcString");

    // (name, body, Origin override, Content-Type override, status, code)
    type Case<'a> = (
        &'a str,
        String,
        Option<&'a str>,
        Option<&'a str>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "not JSON",
            "{not json".into(),
            None,
            None,
            400,
            "invalid_json",
        ),
        ("empty body", String::new(), None, None, 400, "invalid_json"),
        (
            "truncated JSON",
            valid.to_string()[..40].to_owned(),
            None,
            None,
            400,
            "invalid_json",
        ),
        ("JSON array", "[]".into(), None, None, 422, "invalid_event"),
        (
            "unknown field",
            with("favouriteColour", json!("blue")),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "missing eventId",
            without("eventId"),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "eventId not a UUID",
            with("eventId", json!("123")),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "missing consentMode",
            without("consentMode"),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "bad consent state",
            with("consentMode", json!({"ad_storage": "maybe"})),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "negative configVersion",
            with("configVersion", json!(-1)),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "huge configVersion",
            with("configVersion", json!(1u64 << 40)),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "configVersion 0",
            with("configVersion", json!(0)),
            None,
            None,
            422,
            "unknown_config_version",
        ),
        (
            "future configVersion",
            with("configVersion", json!(99)),
            None,
            None,
            422,
            "unknown_config_version",
        ),
        (
            "schemaVersion 3",
            with("schemaVersion", json!(3)),
            None,
            None,
            422,
            "unsupported_schema_version",
        ),
        (
            "unknown action",
            with("action", json!("maybe")),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "unknown source",
            with("source", json!("email")),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "bad timestamp",
            with("timestamp", json!("yesterday")),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "future timestamp",
            with("timestamp", json!("2099-01-01T00:00:00Z")),
            None,
            None,
            422,
            "timestamp_out_of_range",
        ),
        (
            "ancient timestamp",
            with("timestamp", json!("2001-01-01T00:00:00Z")),
            None,
            None,
            422,
            "timestamp_out_of_range",
        ),
        (
            "unknown site key",
            with("siteKey", json!("ngp_nope")),
            None,
            None,
            404,
            "unknown_site_key",
        ),
        (
            "wrong environment",
            with("environment", json!("staging")),
            None,
            None,
            422,
            "wrong_environment",
        ),
        (
            "unknown environment",
            with("environment", json!("qa")),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "foreign origin",
            valid.to_string(),
            Some("https://evil.example"),
            None,
            403,
            "origin_not_allowed",
        ),
        (
            "unknown custom purpose",
            with("customPurposes", json!(["telepathy"])),
            None,
            None,
            422,
            "unknown_custom_purpose",
        ),
        (
            "unknown custom vendor",
            with("customVendors", json!(["acme"])),
            None,
            None,
            422,
            "unknown_custom_vendor",
        ),
        (
            "IAB purpose on opt-in site",
            with("purposes", json!([1])),
            None,
            None,
            422,
            "unknown_purpose",
        ),
        (
            "purpose id out of range",
            with("purposes", json!([4294967296u64])),
            None,
            None,
            422,
            "invalid_event",
        ),
        (
            "unknown language",
            with("language", json!("xx")),
            None,
            None,
            422,
            "unknown_language",
        ),
        (
            "malformed token",
            with("consentToken", json!("abc")),
            None,
            None,
            422,
            "invalid_consent_token",
        ),
        (
            "unissued token",
            with("consentToken", json!("A".repeat(43))),
            None,
            None,
            422,
            "unknown_consent_token",
        ),
        (
            "TC string on opt-in site",
            with("tcString", json!("CQtAQoAQtAQoA")),
            None,
            None,
            422,
            "unexpected_tc_string",
        ),
        (
            "bad AC string",
            with("acString", json!("3~1.2")),
            None,
            None,
            422,
            "invalid_ac_string",
        ),
        (
            "long sdkVersion",
            with("sdkVersion", json!("x".repeat(100))),
            None,
            None,
            422,
            "field_too_long",
        ),
        (
            "oversized body",
            with("sdkVersion", json!("x".repeat(20_000))),
            None,
            None,
            413,
            "body_too_large",
        ),
        (
            "text/plain",
            valid.to_string(),
            None,
            Some("text/plain"),
            415,
            "unsupported_media_type",
        ),
        (
            "control character in a string",
            String::from_utf8_lossy(b"{\"eventId\": \"\xff\"}").replace('\u{fffd}', "\u{0}"),
            None,
            None,
            400,
            "invalid_json",
        ),
        (
            "TCF without TC string",
            tcf_without_string.to_string(),
            None,
            None,
            422,
            "missing_tc_string",
        ),
        (
            "undecodable TC string",
            {
                let mut e = tcf_event(&tcf_key, &tc_model());
                e["tcString"] = json!("!!!");
                e.to_string()
            },
            None,
            None,
            422,
            "invalid_tc_string",
        ),
        (
            "policy violation",
            tcf_event(&tcf_key, &tcf_li).to_string(),
            None,
            None,
            422,
            "tc_policy_violation",
        ),
        (
            "vendor outside the site",
            tcf_event(&tcf_key, &foreign_vendor).to_string(),
            None,
            None,
            422,
            "unknown_vendor",
        ),
    ];
    assert!(cases.len() >= 30);
    for (name, body, origin, content_type, status, code) in cases {
        let request = Request::post("/v1/consents")
            .header(
                header::CONTENT_TYPE,
                content_type.unwrap_or("application/json"),
            )
            .header(header::ORIGIN, origin.unwrap_or(ORIGIN))
            .body(Body::from(body))
            .unwrap();
        let answer = send(&h.app, request).await;
        assert!(answer.status.is_client_error(), "{name}: {}", answer.status);
        let json = answer.json();
        assert_eq!(answer.status.as_u16(), status, "{name}: {json}");
        assert_eq!(json["error"]["code"], code, "{name}: {json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    // Raw invalid UTF-8 bytes, not via a Rust string.
    let mut raw = br#"{"eventId": ""#.to_vec();
    raw.extend_from_slice(&[0xff, 0xfe]);
    raw.extend_from_slice(br#""}"#);
    let answer = send(&h.app, post(raw)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"]["code"], "invalid_json");
    // No Origin at all.
    let request = Request::post("/v1/consents")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(valid.to_string()))
        .unwrap();
    assert_eq!(send(&h.app, request).await.status, StatusCode::FORBIDDEN);

    assert_eq!(
        total_consents(&h).await,
        0,
        "a refused request stored something"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let h = harness().await;
    for uri in [
        "/healthz",
        "/demo/",
        "/v1/openapi.json",
        "/nope",
        "/sdk/v1/nexaguard.js",
    ] {
        let answer = send(&h.app, get(uri)).await;
        let hd = &answer.headers;
        assert_eq!(
            hd[header::STRICT_TRANSPORT_SECURITY],
            "max-age=63072000; includeSubDomains",
            "{uri}"
        );
        assert_eq!(hd[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(
            hd[header::REFERRER_POLICY],
            "strict-origin-when-cross-origin",
            "{uri}"
        );
        let csp = hd[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
    }
    let demo = send(&h.app, get("/demo/")).await;
    let csp = demo.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = String::from_utf8(demo.body).unwrap();
    assert!(html.contains(&h.opt_in.production_key));
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let h = harness().await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/consents")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap()
    };
    let ok = send(&h.app, preflight(ORIGIN)).await;
    assert_eq!(ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert!(ok.headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .contains("POST"));
    let foreign = send(&h.app, preflight("https://evil.example")).await;
    assert!(foreign
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

#[tokio::test]
async fn posts_are_rate_limited_per_network() {
    let h = harness_with((1, 3)).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = send(
            &h.app,
            post(opt_in_event(&h.opt_in.production_key).to_string()),
        )
        .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                answer.headers[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 1
            );
            assert_eq!(answer.json()["error"]["code"], "rate_limited");
        }
        statuses.push(answer.status.as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
}

#[tokio::test]
async fn documents_and_metrics_are_served() {
    let h = harness().await;
    let openapi = send(&h.app, get("/v1/openapi.json")).await.json();
    assert!(openapi["paths"]["/v1/consents"]["post"].is_object());
    assert!(openapi["paths"]["/v1/sites/{site_key}/config.json"]["get"].is_object());
    assert!(openapi["paths"]["/v1/sites/{site_key}/snippet.html"]["get"].is_object());
    let schema = send(&h.app, get("/v1/schema/consent-event.json"))
        .await
        .json();
    let props = schema["properties"].as_object().unwrap();
    for field in [
        "eventId",
        "recordedAt",
        "consentMode",
        "context",
        "tcString",
        "action",
        "source",
        "region",
        "experience",
        "gppString",
        "gppSectionIds",
        "gpc",
        "noticeVersion",
        "impressionId",
    ] {
        assert!(props.contains_key(field), "{field} missing from the schema");
    }
    assert!(!props.contains_key("ipAddress") && !props.contains_key("userAgent"));
    let gvl = send(&h.app, get("/v1/gvl/vendor-list.json")).await.json();
    assert_eq!(gvl["vendorListVersion"], 42);
    assert_eq!(send(&h.app, get("/readyz")).await.status, StatusCode::OK);
    send(
        &h.app,
        post(opt_in_event(&h.opt_in.production_key).to_string()),
    )
    .await;
    // Metrics are on the operator's listener, not on the public router.
    let scrape = nexaguard_server::metrics::router(Arc::clone(&h.store), None);
    let metrics = String::from_utf8(send(&scrape, get("/metrics")).await.body).unwrap();
    assert!(
        metrics.contains("nexaguard_http_requests_total"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/v1/consents\""));
    assert!(metrics.contains("nexaguard_consents_recorded_total"));
    assert!(metrics.contains("nexaguard_store_write_queue_depth"));
    assert!(
        !metrics.contains(&h.opt_in.production_key),
        "site keys must not become labels"
    );
}

#[tokio::test]
async fn the_sdk_and_the_snippet_are_served() {
    let h = harness().await;
    let snippet = send(
        &h.app,
        get(&format!(
            "/v1/sites/{}/snippet.html",
            h.opt_in.production_key
        )),
    )
    .await;
    assert_eq!(snippet.status, StatusCode::OK);
    let text = String::from_utf8(snippet.body).unwrap();
    let hash = snippet.headers["x-nexaguard-stub-hash"].to_str().unwrap();
    assert!(hash.starts_with("sha256-"), "{hash}");
    let json_start = text.find('>').unwrap() + 1;
    let json_end = text.find("</script>").unwrap();
    let settings: Value = serde_json::from_str(&text[json_start..json_end]).unwrap();
    assert_eq!(settings["siteKey"], json!(h.opt_in.production_key));
    assert!(settings["integrity"]
        .as_str()
        .unwrap()
        .starts_with("sha384-"));
    let defaults = &settings["consentDefaults"][0];
    assert_eq!(defaults["security_storage"], "granted");
    assert_eq!(defaults["ad_storage"], "denied");
    assert_eq!(defaults["wait_for_update"], 500);

    // The hashed URL serves the same bytes as the plain one, immutably.
    let sdk_url = settings["sdkUrl"].as_str().unwrap();
    let path = &sdk_url[sdk_url.find("/sdk/").unwrap()..];
    let hashed = send(&h.app, get(path)).await;
    assert_eq!(hashed.status, StatusCode::OK);
    assert!(hashed.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let plain = send(&h.app, get("/sdk/v1/nexaguard.js")).await;
    assert_eq!(plain.body, hashed.body);
    assert_eq!(
        send(&h.app, get("/sdk/v1/nexaguard-0000.js")).await.status,
        StatusCode::NOT_FOUND
    );

    // The demo page allows exactly the stub, by hash.
    let demo = send(&h.app, get("/demo/")).await;
    let csp = demo.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains(&format!("'{hash}'")), "{csp}");
}

#[tokio::test]
async fn a_publish_rebuilds_only_its_own_site_environment() {
    let h = harness().await;
    let before = h.state.registry();
    assert!(
        !h.state.refresh_sites().await.unwrap(),
        "nothing changed yet"
    );
    let published = |r: &nexaguard_server::registry::Registry, key: &str| {
        r.get(key).unwrap().published.clone().unwrap()
    };
    // Each step of a release rebuilds only the site environment it
    // published: a new CMP version of the TCF site to staging, then
    // promoted to production.
    let mut release: Value = serde_json::from_str(TCF_CONFIG).unwrap();
    release["cmpVersion"] = json!(2);
    common::Seed(&h.admin)
        .publish(&h.tcf, &release.to_string(), Environment::Staging)
        .await;
    assert!(h.state.refresh_sites().await.unwrap());
    let staged = h.state.registry();
    let (old, new) = (
        published(&before, &h.tcf.staging_key),
        published(&staged, &h.tcf.staging_key),
    );
    assert_eq!((old.version, new.version), (1, 2));
    for key in [
        &h.tcf.production_key,
        &h.opt_in.production_key,
        &h.opt_in.staging_key,
    ] {
        assert!(
            Arc::ptr_eq(&published(&before, key), &published(&staged, key)),
            "{key} was rebuilt though its version did not change"
        );
    }
    let principal = Principal::system(Some(h.tcf.tenant_id));
    h.admin.promote(&principal, h.tcf.id).await.unwrap();
    assert!(h.state.refresh_sites().await.unwrap());
    let after = h.state.registry();
    let (old, new) = (
        published(&staged, &h.tcf.production_key),
        published(&after, &h.tcf.production_key),
    );
    assert_eq!((old.version, new.version), (1, 2));
    for key in [
        &h.tcf.staging_key,
        &h.opt_in.production_key,
        &h.opt_in.staging_key,
    ] {
        assert!(
            Arc::ptr_eq(&published(&staged, key), &published(&after, key)),
            "{key} was rebuilt though its version did not change"
        );
    }
    let answer = send(
        &h.app,
        get(&format!("/v1/sites/{}/config.json", h.tcf.production_key)),
    )
    .await;
    assert_eq!(answer.json()["configVersion"], 2);
}
