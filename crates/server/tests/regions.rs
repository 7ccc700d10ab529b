//! Where a visitor is: trusted headers only where configured, MaxMind's
//! test databases by client address, the staging override, and the
//! uncached `GET /v1/sites/{siteKey}/region` with the experience and notice
//! version the published configuration gives the region, in process over
//! the real router and a SQLite store in a temporary directory.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderName, Method, Request, StatusCode};
use axum::Router;
use nexaguard_consent::config::SiteConfig;
use nexaguard_consent::region::Region;
use nexaguard_consent::regions::notice_version;
use nexaguard_consent::token::TokenKeys;
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_server::region::{GeoIpDb, HeaderSource, Preset, RegionResolver};
use nexaguard_server::settings::{PublicOrigin, PublicOrigins, ServeArgs, Settings};
use nexaguard_store::{Site, SqliteStore, Store};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;

const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");
const TCF_CONFIG: &str = include_str!("fixtures/tcf-site.json");
const ORIGIN: &str = "https://shop.example";
const SERVER_HOST: &str = "consent.test";
/// An address none of the test databases knows.
const NOWHERE: &str = "192.0.2.1:5000";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/geoip")
        .join(name)
}

fn city_db() -> GeoIpDb {
    GeoIpDb::open(&fixture("GeoIP2-City-Test.mmdb")).unwrap()
}

/// How a [`harness`] finds regions.
struct Setup {
    headers: Vec<HeaderSource>,
    geoip: Option<GeoIpDb>,
    /// The older setting, through `AppState::new` when no other is given.
    country_header: Option<&'static str>,
    behind_proxy: bool,
}

impl Setup {
    fn headers(entries: &[&str]) -> Setup {
        Setup {
            headers: HeaderSource::parse_list(entries).unwrap(),
            ..Setup::nothing()
        }
    }

    fn nothing() -> Setup {
        Setup {
            headers: Vec::new(),
            geoip: None,
            country_header: None,
            behind_proxy: false,
        }
    }
}

struct Harness {
    app: Router,
    site: Site,
    _dir: tempfile::TempDir,
}

async fn harness(setup: Setup) -> Harness {
    harness_with(setup, Some(OPT_IN_CONFIG)).await
}

/// A [`harness`] whose site has `config` published to both environments,
/// or nothing published.
async fn harness_with(setup: Setup, config: Option<&str>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let admin = common::open_admin(dir.path(), &db, &store).await;
    let seed = common::Seed(&admin);
    let site = match config {
        Some(config) => seed.published_site("Shop", &[ORIGIN], config).await,
        None => {
            let tenant = seed.tenant("Shop").await;
            seed.site(tenant.id, "shop", &[ORIGIN]).await
        }
    };
    let parts = StateParts {
        store: Arc::clone(&store),
        gvl: nexaguard_server::gvl_source::sample().unwrap(),
        keys: TokenKeys::new([7; 32], [9; 32]),
        limiter: Limiter::new(10_000, 10_000),
        country_header: setup.country_header.map(HeaderName::from_static),
        behind_proxy: setup.behind_proxy,
        demo_site_key: None,
        admin: None,
        public: PublicOrigins::new(PublicOrigin::parse(&format!("https://{SERVER_HOST}")).unwrap()),
    };
    let state = if setup.headers.is_empty() && setup.geoip.is_none() {
        AppState::new(parts).await.unwrap()
    } else {
        let regions = RegionResolver::new(setup.headers, setup.geoip);
        AppState::with_regions(parts, regions).await.unwrap()
    };
    Harness {
        app: router(state),
        site,
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Value,
}

impl Answer {
    /// `(region, source)` of a 200 answer.
    fn region(&self) -> (Value, String) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        (
            self.body["region"].clone(),
            self.body["source"].as_str().unwrap().to_owned(),
        )
    }
}

/// A request from the TCP peer `peer`, with the server's `Host`.
fn request(method: Method, uri: &str, peer: &str) -> axum::http::request::Builder {
    let peer: SocketAddr = peer.parse().unwrap();
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, SERVER_HOST);
    if let Some(extensions) = builder.extensions_mut() {
        extensions.insert(ConnectInfo(peer));
    }
    builder
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET /v1/sites/{key}/region` with `headers`, from `peer`.
async fn region_of(h: &Harness, key: &str, query: &str, headers: &[(&str, &str)]) -> Answer {
    region_from(h, key, query, headers, NOWHERE).await
}

async fn region_from(
    h: &Harness,
    key: &str,
    query: &str,
    headers: &[(&str, &str)],
    peer: &str,
) -> Answer {
    let mut builder = request(Method::GET, &format!("/v1/sites/{key}/region{query}"), peer);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    send(&h.app, builder.body(Body::empty()).unwrap()).await
}

/// `GET config.json` of `key`, for answers the region route must share.
async fn config_json_of(h: &Harness, key: &str) -> Answer {
    let builder = request(
        Method::GET,
        &format!("/v1/sites/{key}/config.json"),
        NOWHERE,
    );
    send(&h.app, builder.body(Body::empty()).unwrap()).await
}

/// Every preset's headers, with a region each preset would resolve.
fn every_preset_header() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CF-IPCountry", "US"),
        ("CF-Region-Code", "CA"),
        ("CloudFront-Viewer-Country", "US"),
        ("CloudFront-Viewer-Country-Region", "CA"),
        ("Fastly-Geo-Country", "US"),
        ("Fastly-Geo-Region", "CA"),
        ("X-Vercel-IP-Country", "US"),
        ("X-Vercel-IP-Country-Region", "CA"),
        ("X-NexaGuard-Country", "US"),
        ("X-NexaGuard-Region", "CA"),
    ]
}

#[tokio::test]
async fn each_preset_resolves_its_country_and_subdivision_headers_when_configured() {
    for preset in Preset::ALL {
        let h = harness(Setup::headers(&[preset.name()])).await;
        let key = h.site.production_key.clone();
        let country = preset.country_header();
        let subdivision = preset.subdivision_header();
        let both = region_of(
            &h,
            &key,
            "",
            &[(country.as_str(), "us"), (subdivision.as_str(), "ca")],
        )
        .await;
        assert_eq!(
            both.region(),
            (json!("US-CA"), "header".to_owned()),
            "{preset:?}"
        );
        // The subdivision may also come as the whole ISO 3166-2 code.
        let whole = region_of(
            &h,
            &key,
            "",
            &[(country.as_str(), "US"), (subdivision.as_str(), "US-TX")],
        )
        .await;
        assert_eq!(whole.region().0, json!("US-TX"), "{preset:?}");
        let alone = region_of(&h, &key, "", &[(country.as_str(), "FR")]).await;
        assert_eq!(
            alone.region(),
            (json!("FR"), "header".to_owned()),
            "{preset:?}"
        );
        // A subdivision without a country says nothing.
        let orphan = region_of(&h, &key, "", &[(subdivision.as_str(), "CA")]).await;
        assert_eq!(
            orphan.region(),
            (Value::Null, "unknown".to_owned()),
            "{preset:?}"
        );
    }
}

#[tokio::test]
async fn a_visitor_sending_region_headers_changes_nothing_where_they_are_not_configured() {
    let h = harness(Setup::nothing()).await;
    let key = h.site.production_key.clone();
    let answer = region_of(&h, &key, "", &every_preset_header()).await;
    assert_eq!(answer.region(), (Value::Null, "unknown".to_owned()));

    // Trusting one CDN trusts none of the others.
    for preset in Preset::ALL {
        let h = harness(Setup::headers(&[preset.name()])).await;
        let key = h.site.production_key.clone();
        let others: Vec<(&str, &str)> = every_preset_header()
            .into_iter()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case(preset.country_header().as_str())
                    && !name.eq_ignore_ascii_case(preset.subdivision_header().as_str())
            })
            .collect();
        let answer = region_of(&h, &key, "", &others).await;
        assert_eq!(
            answer.region(),
            (Value::Null, "unknown".to_owned()),
            "{preset:?}"
        );
    }

    // Nor is a consent's recorded country taken from an untrusted header.
    let recorded = record_and_restore(&h, &[("CF-IPCountry", "DE")], NOWHERE).await;
    assert_eq!(recorded["context"]["country"], Value::Null);
}

#[tokio::test]
async fn malformed_and_special_codes_are_unknown() {
    let h = harness(Setup::headers(&["generic"])).await;
    let key = h.site.production_key.clone();
    for code in [
        "XX", "xx", "T1", "A1", "A2", "O1", "EU", "AP", "ZZ", "", " ", "FRA", "1A", "<s>", "U S",
        "--",
    ] {
        let answer = region_of(&h, &key, "", &[("X-NexaGuard-Country", code)]).await;
        assert_eq!(
            answer.region(),
            (Value::Null, "unknown".to_owned()),
            "{code:?}"
        );
    }
    // A malformed subdivision, or one of another country, leaves the country.
    for sub in ["CALIF", "GB-ENG", "C A", "-"] {
        let answer = region_of(
            &h,
            &key,
            "",
            &[("X-NexaGuard-Country", "US"), ("X-NexaGuard-Region", sub)],
        )
        .await;
        assert_eq!(answer.region().0, json!("US"), "{sub:?}");
    }
    // A trusted header sent twice is ambiguous: one copy came from the client.
    let twice = Request::get(format!("/v1/sites/{key}/region"))
        .header(header::HOST, SERVER_HOST)
        .header("X-NexaGuard-Country", "FR")
        .header("X-NexaGuard-Country", "DE")
        .extension(ConnectInfo(NOWHERE.parse::<SocketAddr>().unwrap()))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&h.app, twice).await.region(),
        (Value::Null, "unknown".to_owned())
    );
}

#[tokio::test]
async fn a_named_header_holds_a_whole_region_code_and_the_first_source_that_knows_wins() {
    let h = harness(Setup {
        headers: HeaderSource::parse_list(&["x-geo", "cloudflare"]).unwrap(),
        geoip: Some(city_db()),
        ..Setup::nothing()
    })
    .await;
    let key = h.site.production_key.clone();
    let both = region_from(
        &h,
        &key,
        "",
        &[("x-geo", "us_ny"), ("CF-IPCountry", "FR")],
        "81.2.69.142:1",
    )
    .await;
    assert_eq!(both.region(), (json!("US-NY"), "header".to_owned()));
    // x-geo says nothing real, so Cloudflare's header is next.
    let second = region_from(
        &h,
        &key,
        "",
        &[("x-geo", "XX"), ("CF-IPCountry", "FR")],
        "81.2.69.142:1",
    )
    .await;
    assert_eq!(second.region(), (json!("FR"), "header".to_owned()));
    // No header knows: the database does.
    let geoip = region_from(&h, &key, "", &[("CF-IPCountry", "T1")], "81.2.69.142:1").await;
    assert_eq!(geoip.region(), (json!("GB-ENG"), "geoip".to_owned()));
}

#[tokio::test]
async fn the_older_country_header_still_gives_a_country() {
    let h = harness(Setup {
        country_header: Some("x-country"),
        ..Setup::nothing()
    })
    .await;
    let key = h.site.production_key.clone();
    let answer = region_of(&h, &key, "", &[("x-country", "de")]).await;
    assert_eq!(answer.region(), (json!("DE"), "header".to_owned()));
    let special = region_of(&h, &key, "", &[("x-country", "XX")]).await;
    assert_eq!(special.region(), (Value::Null, "unknown".to_owned()));
    let recorded = record_and_restore(&h, &[("x-country", "de")], NOWHERE).await;
    assert_eq!(recorded["context"]["country"], "DE");
}

#[tokio::test]
async fn the_geoip_database_gives_the_country_and_subdivision_of_the_client_address() {
    let h = harness(Setup {
        geoip: Some(city_db()),
        ..Setup::nothing()
    })
    .await;
    let key = h.site.production_key.clone();
    for (peer, expected) in [
        ("216.160.83.56:443", json!("US-WA")),
        ("81.2.69.142:443", json!("GB-ENG")),
        ("149.101.100.1:443", json!("US")),
        ("[2001:218::1]:443", json!("JP")),
        // An IPv4-mapped address, as a dual-stack listener reports it.
        ("[::ffff:216.160.83.56]:443", json!("US-WA")),
    ] {
        let answer = region_from(&h, &key, "", &[], peer).await;
        assert_eq!(answer.region(), (expected, "geoip".to_owned()), "{peer}");
    }
    // A record without a country, and an address the file does not know.
    for peer in ["2.3.3.1:443", NOWHERE, "[2001:db8::1]:443"] {
        let answer = region_from(&h, &key, "", &[], peer).await;
        assert_eq!(
            answer.region(),
            (Value::Null, "unknown".to_owned()),
            "{peer}"
        );
    }
}

#[tokio::test]
async fn behind_a_proxy_the_database_looks_up_the_address_the_proxy_appended() {
    let h = harness(Setup {
        geoip: Some(city_db()),
        behind_proxy: true,
        ..Setup::nothing()
    })
    .await;
    let key = h.site.production_key.clone();
    // The leftmost entry is the client's own claim; the rightmost is the proxy's.
    let answer = region_from(
        &h,
        &key,
        "",
        &[("X-Forwarded-For", "81.2.69.142, 216.160.83.56")],
        "127.0.0.1:40000",
    )
    .await;
    assert_eq!(answer.region(), (json!("US-WA"), "geoip".to_owned()));
}

#[tokio::test]
async fn a_country_only_database_gives_countries_and_is_reloaded_when_the_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("geo.mmdb");
    std::fs::copy(fixture("GeoIP2-Country-Test.mmdb"), &path).unwrap();
    let db = GeoIpDb::open(&path).unwrap();
    assert_eq!(db.database_type(), "GeoIP2-Country");
    let ip = "216.160.83.56".parse().unwrap();
    assert_eq!(db.lookup(ip).unwrap().to_string(), "US");
    assert!(!db.reload_if_changed().unwrap(), "nothing changed yet");

    std::fs::copy(fixture("GeoIP2-City-Test.mmdb"), &path).unwrap();
    assert!(db.reload_if_changed().unwrap());
    assert_eq!(db.lookup(ip).unwrap().to_string(), "US-WA");

    // A broken file is refused and the loaded database stays in use.
    std::fs::write(&path, b"not a database").unwrap();
    let error = db.reload_if_changed().unwrap_err().to_string();
    assert!(error.contains("is not a MaxMind DB"), "{error}");
    assert_eq!(db.lookup(ip).unwrap().to_string(), "US-WA");
    std::fs::remove_file(&path).unwrap();
    assert!(db.reload_if_changed().is_err());
    assert_eq!(db.lookup(ip).unwrap().to_string(), "US-WA");
}

#[tokio::test]
async fn a_missing_or_unreadable_geoip_database_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mmdb");
    let error = GeoIpDb::open(&missing).unwrap_err().to_string();
    assert!(error.contains("cannot read the GeoIP database"), "{error}");
    assert!(error.contains("missing.mmdb"), "{error}");

    let garbage = dir.path().join("garbage.mmdb");
    std::fs::write(&garbage, b"this is not a database").unwrap();
    let error = GeoIpDb::open(&garbage).unwrap_err().to_string();
    assert!(
        error.contains("garbage.mmdb is not a MaxMind DB"),
        "{error}"
    );

    // The whole start stops on it, before the port is bound.
    let settings = Settings::resolve(ServeArgs {
        data_dir: Some(dir.path().join("data")),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        geoip_db: Some(missing),
        ..ServeArgs::default()
    })
    .unwrap();
    let error = nexaguard_server::run::run(settings).await.unwrap_err();
    let error = format!("{error:#}");
    assert!(error.contains("cannot read the GeoIP database"), "{error}");
}

#[test]
fn region_header_settings_take_presets_and_header_names_from_flags_or_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nexaguard.toml");
    std::fs::write(
        &file,
        "region_header = [\"cloudflare\", \"X-Geo\"]\ngeoip_db = \"/srv/geo.mmdb\"\n",
    )
    .unwrap();
    let from_file = Settings::resolve(ServeArgs {
        config: Some(file.clone()),
        ..ServeArgs::default()
    })
    .unwrap();
    assert_eq!(
        from_file.region_headers,
        vec![
            HeaderSource::Preset(Preset::Cloudflare),
            HeaderSource::Code(HeaderName::from_static("x-geo")),
        ]
    );
    assert_eq!(from_file.geoip_db, Some(PathBuf::from("/srv/geo.mmdb")));

    // One comma-separated string works in the file too; flags win over it.
    std::fs::write(&file, "region_header = \"vercel, generic\"\n").unwrap();
    let one_string = Settings::resolve(ServeArgs {
        config: Some(file.clone()),
        ..ServeArgs::default()
    })
    .unwrap();
    assert_eq!(
        one_string.region_headers,
        vec![
            HeaderSource::Preset(Preset::Vercel),
            HeaderSource::Preset(Preset::Generic)
        ]
    );
    let flags = Settings::resolve(ServeArgs {
        config: Some(file),
        region_header: vec!["cloudfront".to_owned()],
        ..ServeArgs::default()
    })
    .unwrap();
    assert_eq!(
        flags.region_headers,
        vec![HeaderSource::Preset(Preset::Cloudfront)]
    );

    let bad = Settings::resolve(ServeArgs {
        region_header: vec!["not a header".to_owned()],
        ..ServeArgs::default()
    })
    .unwrap_err();
    assert!(format!("{bad:#}").contains("neither a preset"), "{bad:#}");
}

#[tokio::test]
async fn the_override_works_for_a_staging_key_and_is_ignored_for_a_production_key() {
    let h = harness(Setup::headers(&["cloudflare"])).await;
    let staging = h.site.staging_key.clone();
    let production = h.site.production_key.clone();
    let from_cdn = [("CF-IPCountry", "DE")];

    let overridden = region_of(&h, &staging, "?nexaguard_region=us-ca", &from_cdn).await;
    assert_eq!(overridden.region(), (json!("US-CA"), "override".to_owned()));
    let unknown = region_of(&h, &staging, "?nexaguard_region=unknown", &from_cdn).await;
    assert_eq!(unknown.region(), (Value::Null, "override".to_owned()));
    let without = region_of(&h, &staging, "", &from_cdn).await;
    assert_eq!(without.region(), (json!("DE"), "header".to_owned()));

    let ignored = region_of(&h, &production, "?nexaguard_region=us-ca", &from_cdn).await;
    assert_eq!(ignored.region(), (json!("DE"), "header".to_owned()));
    // Even a malformed value: production visitors never see an error for it.
    let ignored = region_of(&h, &production, "?nexaguard_region=%3Cs%3E", &from_cdn).await;
    assert_eq!(ignored.region(), (json!("DE"), "header".to_owned()));

    for bad in ["zzz", "XX", "", "US-CALI"] {
        let refused = region_of(&h, &staging, &format!("?nexaguard_region={bad}"), &[]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(refused.body["error"]["code"], "invalid_region", "{bad:?}");
        assert!(refused.body["error"]["message"].is_string());
    }
    let unknown_param = region_of(&h, &staging, "?country=FR", &[]).await;
    assert_eq!(unknown_param.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_param.body["error"]["code"], "invalid_query");
}

#[tokio::test]
async fn the_answer_is_never_cached_and_names_the_trusted_headers_in_vary() {
    let h = harness(Setup::headers(&["cloudflare"])).await;
    let key = h.site.production_key.clone();
    let answer = region_of(&h, &key, "", &[("CF-IPCountry", "FR")]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/json",
        "{:?}",
        answer.headers
    );
    let vary: Vec<&str> = answer
        .headers
        .get_all(header::VARY)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(vary, ["cf-ipcountry, cf-region-code"]);

    let plain = harness(Setup::nothing()).await;
    let key = plain.site.production_key.clone();
    let answer = region_of(&plain, &key, "", &[]).await;
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
    assert!(answer.headers.get(header::VARY).is_none());
}

#[tokio::test]
async fn the_site_origin_gets_cors_headers_and_another_origin_is_refused() {
    let h = harness(Setup::headers(&["generic"])).await;
    let key = h.site.production_key.clone();
    let uri = format!("/v1/sites/{key}/region");

    let preflight = request(Method::OPTIONS, &uri, NOWHERE)
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(Body::empty())
        .unwrap();
    let preflight = send(&h.app, preflight).await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        ORIGIN
    );

    let answer = region_of(
        &h,
        &key,
        "",
        &[("Origin", ORIGIN), ("X-NexaGuard-Country", "BR")],
    )
    .await;
    assert_eq!(answer.region(), (json!("BR"), "header".to_owned()));
    assert_eq!(answer.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert!(answer
        .headers
        .get_all(header::VARY)
        .iter()
        .any(|v| v == "Origin"));

    let foreign = region_of(&h, &key, "", &[("Origin", "https://elsewhere.example")]).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.body["error"]["code"], "origin_not_allowed");
    assert!(foreign
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

#[tokio::test]
async fn an_unknown_site_key_gets_the_same_404_as_config_json() {
    let h = harness(Setup::nothing()).await;
    let unknown = "ngp_00000000000000000000000000000000";
    let region = region_of(&h, unknown, "", &[]).await;
    let config = config_json_of(&h, unknown).await;
    assert_eq!(region.status, StatusCode::NOT_FOUND);
    assert_eq!(region.status, config.status);
    assert_eq!(region.body, config.body);
    assert_eq!(region.body["error"]["code"], "unknown_site_key");
}

#[tokio::test]
async fn the_openapi_document_describes_the_region_endpoint() {
    let h = harness(Setup::nothing()).await;
    let doc = send(
        &h.app,
        request(Method::GET, "/v1/openapi.json", NOWHERE)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let operation = &doc.body["paths"]["/v1/sites/{site_key}/region"]["get"];
    assert!(operation.is_object(), "{}", doc.body["paths"]);
    assert!(operation["responses"]["200"].is_object());
    assert!(operation["responses"]["404"].is_object());
    let schemas = &doc.body["components"]["schemas"];
    let answer = &schemas["RegionAnswer"];
    for field in ["region", "source", "experience", "noticeVersion"] {
        assert!(answer["properties"][field].is_object(), "{field}: {answer}");
    }
    let experience = &schemas["ResolvedExperience"]["properties"];
    for field in ["experience", "gdprApplies", "gppSectionIds"] {
        assert!(experience[field].is_object(), "{field}: {experience}");
    }
}

#[tokio::test]
async fn a_geoip_only_setup_records_the_country_with_a_consent_and_no_address() {
    let h = harness(Setup {
        geoip: Some(city_db()),
        ..Setup::nothing()
    })
    .await;
    let event = record_and_restore(&h, &[], "216.160.83.56:5000").await;
    // The record keeps the country only (its schema has no subdivision yet).
    assert_eq!(event["context"]["country"], "US");
    let text = event.to_string();
    assert!(!text.contains("216.160"), "the address leaked: {text}");
}

/// The TCF fixture with rules: `tcf` in the EEA, the UK and Switzerland,
/// `us` with the states' GPP sections where a state law applies, `none`
/// everywhere else.
fn regional_config() -> String {
    let mut config: Value = serde_json::from_str(TCF_CONFIG).unwrap();
    config["regions"] = json!([
        { "match": ["eea_uk_ch"], "experience": { "kind": "tcf" } },
        { "match": ["us_comprehensive"],
          "experience": { "kind": "us", "gppSections": "state" } },
        { "match": ["everywhere"], "experience": { "kind": "none" } }
    ]);
    config.to_string()
}

/// A site with [`regional_config`] published, trusting `x-geo` for a
/// whole region code.
async fn regional_harness() -> Harness {
    harness_with(Setup::headers(&["x-geo"]), Some(&regional_config())).await
}

/// The answer to a visitor `x-geo` places in `code`.
async fn answer_in(h: &Harness, key: &str, query: &str, code: &str) -> Value {
    let answer = region_of(h, key, query, &[("x-geo", code)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{code}: {}", answer.body);
    answer.body
}

#[tokio::test]
async fn the_answer_carries_the_experience_the_rules_give_the_region() {
    let h = regional_harness().await;
    let key = h.site.production_key.clone();
    let config: SiteConfig = serde_json::from_str(&regional_config()).unwrap();

    let fr = answer_in(&h, &key, "", "FR").await;
    assert_eq!(fr["region"], "FR");
    assert_eq!(fr["source"], "header");
    assert_eq!(fr["experience"]["experience"], json!({ "kind": "tcf" }));
    assert_eq!(fr["experience"]["rule"], 0);
    assert_eq!(fr["experience"]["gdprApplies"], true);
    assert_eq!(fr["experience"]["gppSectionIds"], json!([2]));
    assert_eq!(
        fr["experience"]["consentModeDefault"]["ad_storage"],
        "denied"
    );

    let ca = answer_in(&h, &key, "", "US-CA").await;
    assert_eq!(ca["experience"]["experience"]["kind"], "us");
    assert_eq!(ca["experience"]["experience"]["gppSections"], "state");
    assert_eq!(ca["experience"]["rule"], 1);
    assert_eq!(ca["experience"]["gdprApplies"], false);
    assert_eq!(ca["experience"]["gppSectionIds"], json!([8]));
    assert_eq!(
        ca["experience"]["consentModeDefault"]["ad_storage"],
        "granted"
    );

    let jp = answer_in(&h, &key, "", "JP").await;
    assert_eq!(jp["experience"]["experience"], json!({ "kind": "none" }));
    assert_eq!(jp["experience"]["rule"], 2);
    assert_eq!(jp["experience"]["gdprApplies"], false);
    assert_eq!(jp["experience"]["gppSectionIds"], json!([]));

    // An unknown region matches `everywhere` only.
    let unknown = region_of(&h, &key, "", &[]).await;
    assert_eq!(unknown.region(), (Value::Null, "unknown".to_owned()));
    assert_eq!(unknown.body["experience"], jp["experience"]);

    // The answer is what the crate resolves from the published configuration.
    for (answer, code) in [(&fr, "FR"), (&ca, "US-CA"), (&jp, "JP")] {
        let region: Region = code.parse().unwrap();
        let resolved = config.experience_for(Some(&region));
        assert_eq!(
            answer["experience"],
            serde_json::to_value(&resolved).unwrap()
        );
        assert_eq!(answer["noticeVersion"], notice_version(&config, &resolved));
    }
    // Nothing else: the answer stays small.
    let mut fields: Vec<&String> = fr.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["experience", "gpc", "noticeVersion", "region", "source"]
    );
}

#[tokio::test]
async fn the_experience_follows_the_staging_override() {
    let h = regional_harness().await;
    let staging = h.site.staging_key.clone();
    let from_cdn = [("x-geo", "FR")];

    let own = region_of(&h, &staging, "", &from_cdn).await;
    assert_eq!(own.body["experience"]["experience"]["kind"], "tcf");
    let us = region_of(&h, &staging, "?nexaguard_region=us-ca", &from_cdn).await;
    assert_eq!(us.region(), (json!("US-CA"), "override".to_owned()));
    assert_eq!(us.body["experience"]["experience"]["kind"], "us");
    assert_eq!(us.body["experience"]["gppSectionIds"], json!([8]));
    let tx = region_of(&h, &staging, "?nexaguard_region=US-TX", &from_cdn).await;
    assert_eq!(tx.body["experience"]["gppSectionIds"], json!([16]));
    let jp = region_of(&h, &staging, "?nexaguard_region=jp", &from_cdn).await;
    assert_eq!(jp.body["experience"]["experience"]["kind"], "none");
    let unknown = region_of(&h, &staging, "?nexaguard_region=unknown", &from_cdn).await;
    assert_eq!(unknown.body["experience"]["experience"]["kind"], "none");

    // Production ignores the parameter: the visitor's own region decides.
    let production = h.site.production_key.clone();
    let ignored = region_of(&h, &production, "?nexaguard_region=us-ca", &from_cdn).await;
    assert_eq!(ignored.region(), (json!("FR"), "header".to_owned()));
    assert_eq!(ignored.body["experience"]["experience"]["kind"], "tcf");
}

#[tokio::test]
async fn a_site_without_rules_answers_its_own_regulation() {
    let opt_in = harness_with(Setup::headers(&["x-geo"]), Some(OPT_IN_CONFIG)).await;
    let key = opt_in.site.production_key.clone();
    let config: SiteConfig = serde_json::from_str(OPT_IN_CONFIG).unwrap();
    let mut versions = Vec::new();
    for code in ["FR", "US-CA", "JP"] {
        let answer = answer_in(&opt_in, &key, "", code).await;
        let experience = &answer["experience"];
        assert_eq!(
            experience["experience"],
            json!({ "kind": "opt_in" }),
            "{code}"
        );
        assert_eq!(experience["rule"], Value::Null, "{code}");
        assert_eq!(experience["gdprApplies"], false, "{code}");
        assert_eq!(experience["gppSectionIds"], json!([]), "{code}");
        versions.push(answer["noticeVersion"].clone());
    }
    let resolved = config.experience_for(None);
    assert_eq!(versions, vec![json!(notice_version(&config, &resolved)); 3]);

    let tcf = harness_with(Setup::headers(&["x-geo"]), Some(TCF_CONFIG)).await;
    let key = tcf.site.production_key.clone();
    for code in ["FR", "US-CA", "JP"] {
        let answer = answer_in(&tcf, &key, "", code).await;
        let experience = &answer["experience"];
        assert_eq!(experience["experience"], json!({ "kind": "tcf" }), "{code}");
        assert_eq!(experience["rule"], Value::Null, "{code}");
        assert_eq!(experience["gdprApplies"], true, "{code}");
        assert_eq!(experience["gppSectionIds"], json!([2]), "{code}");
    }
}

#[tokio::test]
async fn the_notice_version_is_shared_within_an_experience_and_differs_between_experiences() {
    let h = regional_harness().await;
    let key = h.site.production_key.clone();
    let mut versions = Vec::new();
    for same in [["FR", "DE"], ["US-CA", "US-TX"], ["JP", "BR"]] {
        let first = answer_in(&h, &key, "", same[0]).await["noticeVersion"].clone();
        let second = answer_in(&h, &key, "", same[1]).await["noticeVersion"].clone();
        assert_eq!(first, second, "{same:?}");
        let text = first.as_str().unwrap();
        assert_eq!(text.len(), 32, "{text}");
        assert!(
            text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{text}"
        );
        versions.push(first);
    }
    assert_ne!(versions[0], versions[1]);
    assert_ne!(versions[0], versions[2]);
    assert_ne!(versions[1], versions[2]);
}

#[tokio::test]
async fn a_site_with_nothing_published_gets_the_same_404_as_config_json() {
    let h = harness_with(Setup::headers(&["x-geo"]), None).await;
    for key in [h.site.production_key.clone(), h.site.staging_key.clone()] {
        let region = region_of(&h, &key, "?nexaguard_region=FR", &[]).await;
        let config = config_json_of(&h, &key).await;
        assert_eq!(region.status, StatusCode::NOT_FOUND);
        assert_eq!(region.status, config.status);
        assert_eq!(region.body, config.body);
        assert_eq!(region.body["error"]["code"], "not_published");
    }
}

/// Posts an opt-in consent with `headers` from `peer` and returns the
/// recorded event as the restore route shows it.
async fn record_and_restore(h: &Harness, headers: &[(&str, &str)], peer: &str) -> Value {
    let key = h.site.production_key.clone();
    let mut post = request(Method::POST, "/v1/consents", peer)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, ORIGIN);
    for (name, value) in headers {
        post = post.header(*name, *value);
    }
    let posted = send(
        &h.app,
        post.body(Body::from(opt_in_event(&key).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.body);
    let token = posted.body["consentToken"].as_str().unwrap();
    let restored = send(
        &h.app,
        request(
            Method::GET,
            &format!("/v1/consents/{token}?siteKey={key}"),
            peer,
        )
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    restored.body["event"].clone()
}

fn opt_in_event(site_key: &str) -> Value {
    let now = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    json!({
        "eventId": uuid::Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": site_key,
        "environment": "production",
        "configVersion": 1,
        "timestamp": now,
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

#[tokio::test]
async fn the_answer_says_whether_the_browser_sent_global_privacy_control() {
    let h = regional_harness().await;
    let key = h.site.production_key.clone();
    for (headers, gpc) in [
        (vec![("x-geo", "US-CA"), ("sec-gpc", "1")], true),
        (vec![("x-geo", "US-CA"), ("sec-gpc", " 1 ")], true),
        (vec![("x-geo", "US-CA")], false),
        (vec![("x-geo", "US-CA"), ("sec-gpc", "0")], false),
        (vec![("x-geo", "US-CA"), ("sec-gpc", "yes")], false),
    ] {
        let answer = region_of(&h, &key, "", &headers).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["gpc"], gpc, "{headers:?}");
    }
}

#[tokio::test]
async fn a_region_the_site_declares_is_answered_as_the_sites_in_every_environment() {
    let h = regional_harness().await;
    let from_cdn = [("x-geo", "FR")];
    for key in [h.site.production_key.clone(), h.site.staging_key.clone()] {
        let declared = region_of(&h, &key, "?region=us-ca", &from_cdn).await;
        assert_eq!(declared.region(), (json!("US-CA"), "site".to_owned()));
        assert_eq!(declared.body["experience"]["experience"]["kind"], "us");
        let refused = region_of(&h, &key, "?region=%3Cs%3E", &from_cdn).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.body["error"]["code"], "invalid_region");
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("region must be"),
            "{}",
            refused.body
        );
    }
    // On staging the page's override still wins over the site's region.
    let both = region_of(
        &h,
        &h.site.staging_key,
        "?region=us-ca&nexaguard_region=jp",
        &from_cdn,
    )
    .await;
    assert_eq!(both.region(), (json!("JP"), "override".to_owned()));
}

#[tokio::test]
async fn config_json_carries_readable_colours_and_the_stubs_consent_defaults() {
    let mut config: Value = serde_json::from_str(&regional_config()).unwrap();
    config["banner"] =
        json!({ "primaryColor": "#ffee00", "backgroundColor": "#ffffff", "textColor": "#dddddd" });
    let h = harness_with(Setup::headers(&["x-geo"]), Some(&config.to_string())).await;
    let answer = config_json_of(&h, &h.site.production_key).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["theme"],
        json!({ "primary": "#ffee00", "background": "#ffffff", "text": "#000000", "onPrimary": "#000000" }),
        "light grey text on white is replaced; black reads best on yellow"
    );
    let parsed: SiteConfig = serde_json::from_value(config).unwrap();
    assert_eq!(
        answer.body["consentDefaults"],
        serde_json::to_value(parsed.consent_mode_defaults()).unwrap(),
        "the same list, in the same order, as the snippet's settings"
    );
    let regions: Vec<&Value> = answer.body["consentDefaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["region"])
        .collect();
    assert!(regions[0].as_array().unwrap().contains(&json!("FR")));
    assert!(regions[1].as_array().unwrap().contains(&json!("US-CA")));
    assert_eq!(
        regions.last(),
        Some(&&Value::Null),
        "the catch-all comes last"
    );

    let snippet = h
        .app
        .clone()
        .oneshot(
            request(
                Method::GET,
                &format!("/v1/sites/{}/snippet.html", h.site.production_key),
                NOWHERE,
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await
        .unwrap();
    let snippet = axum::body::to_bytes(snippet.into_body(), usize::MAX)
        .await
        .unwrap();
    let snippet = String::from_utf8(snippet.to_vec()).unwrap();
    let start = snippet.find('{').unwrap();
    let end = snippet.find("</script>").unwrap();
    let settings: Value = serde_json::from_str(&snippet[start..end]).unwrap();
    assert_eq!(settings["consentDefaults"], answer.body["consentDefaults"]);
}

#[tokio::test]
async fn the_sdk_finds_each_chunk_it_names_with_the_integrity_it_expects() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let h = regional_harness().await;
    let sdk = request(Method::GET, "/sdk/v1/nexaguard.js", NOWHERE)
        .body(Body::empty())
        .unwrap();
    let response = h.app.clone().oneshot(sdk).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let sdk = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let sdk = String::from_utf8(sdk.to_vec()).unwrap();
    // The SDK's table of chunks: ["nexaguard-tcf-<id>.js","sha256-<digest>"].
    let mut found = Vec::new();
    for name in ["tcf", "us"] {
        let at = sdk
            .find(&format!("\"nexaguard-{name}-"))
            .unwrap_or_else(|| panic!("the SDK names no {name} chunk"));
        let rest = &sdk[at + 1..];
        let file = &rest[..rest.find('"').unwrap()];
        let rest = &rest[file.len() + 3..];
        let integrity = &rest[..rest.find('"').unwrap()];
        let chunk = h
            .app
            .clone()
            .oneshot(
                request(Method::GET, &format!("/sdk/v1/{file}"), NOWHERE)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(chunk.status(), StatusCode::OK, "{file}");
        assert_eq!(
            chunk.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(chunk.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let body = axum::body::to_bytes(chunk.into_body(), usize::MAX)
            .await
            .unwrap();
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body));
        assert_eq!(integrity, format!("sha256-{digest}"), "{file}");
        found.push(file.to_owned());
    }
    assert_eq!(found.len(), 2);
    let missing = request(
        Method::GET,
        "/sdk/v1/nexaguard-tcf-AAAAAAAAAAAAAAAA.js",
        NOWHERE,
    )
    .body(Body::empty())
    .unwrap();
    assert_eq!(send(&h.app, missing).await.status, StatusCode::NOT_FOUND);
}
