//! The server's idea of its own address (issue 13): a request's `Host`
//! never shapes a URL or passes for the server's origin, metrics stay off
//! the public listener, and a browser on another site cannot set a
//! session cookie, with or without `Origin`.
//!
//! In process on the real router over a real SQLite store (see
//! `common`), and, where the transport matters (HTTP/2's `:authority`,
//! the plain-HTTP metrics listener), over real sockets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use common::{
    env, env_with, send, sign_in, user, Answer, Client, Env, Options, Seed, HOST, ORIGIN, PASSWORD,
};
use nexaguard_access::Role;
use nexaguard_consent::token::TokenKeys;
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_server::run::Banner;
use nexaguard_server::serve::{Server, Transport};
use nexaguard_server::settings::{MetricsToken, PublicOrigin, PublicOrigins};
use nexaguard_store::{SqliteStore, Store};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");
const EVIL: &str = "evil.example";
const OWNER: &str = "owner@acme.example";

/// A GET of `path` naming `host`.
fn get(path: &str, host: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, host)
        .body(Body::empty())
        .unwrap()
}

/// A site with an opt-in configuration published to production, made
/// through the administration service; returns its production key. The
/// server picks it up on its next refresh.
async fn published_site(env: &Env) -> String {
    let site = Seed(&env.admin)
        .published_site("shop", &["https://shop.example"], OPT_IN_CONFIG)
        .await;
    env.state.refresh_sites().await.unwrap();
    site.production_key
}

/// The settings JSON of a snippet or demo page.
fn stub_settings(html: &str) -> Value {
    let marker = "id=\"nexaguard-settings\">";
    let start = html.find(marker).unwrap() + marker.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

fn assert_misdirected(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::MISDIRECTED_REQUEST,
        "{what}: {}",
        answer.text()
    );
    assert_eq!(answer.code(), "misdirected", "{what}");
    assert!(
        answer.headers.get(header::SET_COOKIE).is_none(),
        "{what} set a cookie"
    );
}

/// A router with the demo page on, without the admin service, whose own
/// origins are `public`; requests name their host themselves.
async fn demo_app(public: PublicOrigins) -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let gvl = nexaguard_server::gvl_source::sample().unwrap();
    let admin = common::open_admin(dir.path(), &db, &store).await;
    let site = nexaguard_server::demo::ensure(store.as_ref(), &admin, &gvl.gvl, &public)
        .await
        .unwrap()
        .unwrap();
    let state = AppState::new(StateParts {
        store,
        gvl,
        keys: TokenKeys::new([7; 32], [9; 32]),
        limiter: Limiter::new(10_000, 10_000),
        country_header: None,
        behind_proxy: false,
        demo_site_key: Some(site.production_key.clone()),
        admin: None,
        public,
    })
    .await
    .unwrap();
    let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    (router(state).layer(MockConnectInfo(peer)), dir)
}

// ---- 1. The Host header is not the server's address ---------------------

#[tokio::test]
async fn a_forged_host_header_does_not_change_the_sdk_url() {
    let env = env().await;
    let key = published_site(&env).await;
    let path = format!("/v1/sites/{key}/snippet.html");
    let forged = send(&env.app, get(&path, EVIL)).await;
    assert_misdirected(&forged, "the snippet for a forged Host");
    assert!(!forged.text().contains("sdkUrl"));
    // Fetched under the server's second name, the snippet still names the
    // canonical origin: it is pasted into publishers' pages.
    for host in [HOST, "console.test"] {
        let snippet = send(&env.app, get(&path, host)).await;
        assert_eq!(snippet.status, StatusCode::OK, "{host}: {}", snippet.text());
        let sdk_url = stub_settings(&snippet.text())["sdkUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            sdk_url.starts_with(&format!("{ORIGIN}/sdk/v1/nexaguard-")),
            "{host}: {sdk_url}"
        );
    }
}

#[tokio::test]
async fn a_forged_host_header_does_not_change_the_demo_pages_sdk_url() {
    let public = PublicOrigins::for_listener(None, "127.0.0.1:8443".parse().unwrap());
    let (app, _dir) = demo_app(public).await;
    assert_misdirected(
        &send(&app, get("/demo/", EVIL)).await,
        "the demo page for a forged Host",
    );
    assert_misdirected(
        &send(&app, get("/demo/", "evil.example:8443")).await,
        "the demo page for a forged Host on the right port",
    );
    // Each of the server's own names gets the SDK from that same origin,
    // so that the page's `script-src 'self'` holds.
    for (host, origin) in [
        ("localhost:8443", "https://localhost:8443"),
        ("127.0.0.1:8443", "https://127.0.0.1:8443"),
    ] {
        let page = send(&app, get("/demo/", host)).await;
        assert_eq!(page.status, StatusCode::OK, "{host}");
        let sdk_url = stub_settings(&page.text())["sdkUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            sdk_url.starts_with(&format!("{origin}/sdk/v1/")),
            "{host}: {sdk_url}"
        );
    }
}

#[tokio::test]
async fn a_forged_host_is_misdirected_on_every_route_but_the_health_probes() {
    let env = env().await;
    let key = published_site(&env).await;
    for path in [
        "/".to_owned(),
        "/demo/".to_owned(),
        "/v1/openapi.json".to_owned(),
        format!("/v1/sites/{key}/config.json"),
        "/sdk/v1/nexaguard.js".to_owned(),
        "/admin/".to_owned(),
        "/admin/login".to_owned(),
        "/admin/api/v1/session".to_owned(),
        "/debug".to_owned(),
        "/no/such/page".to_owned(),
    ] {
        for host in [
            EVIL,
            "admin.test:8443",
            "admin.test.evil.example",
            "10.0.0.7",
        ] {
            let answer = send(&env.app, get(&path, host)).await;
            assert_misdirected(&answer, &format!("GET {path} with Host {host}"));
        }
    }
    // Probes name nodes by address (Kubernetes sends the pod's IP).
    for path in ["/healthz", "/readyz"] {
        let answer = send(&env.app, get(path, "10.0.0.7:8443")).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text());
    }
}

#[tokio::test]
async fn a_request_naming_no_host_or_a_second_foreign_host_is_misdirected() {
    let env = env().await;
    // Without the harness's default Host.
    let bare = router(env.state.clone()).layer(MockConnectInfo(
        "192.0.2.1:5000".parse::<SocketAddr>().unwrap(),
    ));
    let nameless = Request::get("/v1/openapi.json")
        .body(Body::empty())
        .unwrap();
    assert_misdirected(&send(&bare, nameless).await, "a request without Host");
    let two_hosts = Request::get("/v1/openapi.json")
        .header(header::HOST, HOST)
        .header(header::HOST, EVIL)
        .body(Body::empty())
        .unwrap();
    assert_misdirected(&send(&bare, two_hosts).await, "a second Host header");
    // HTTP/1.1's absolute form: the target's authority wins over Host.
    let absolute = Request::get(format!("https://{EVIL}/v1/openapi.json"))
        .header(header::HOST, HOST)
        .body(Body::empty())
        .unwrap();
    assert_misdirected(&send(&bare, absolute).await, "an absolute-form target");
    let own = Request::get(format!("{ORIGIN}/v1/openapi.json"))
        .header(header::HOST, HOST)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&bare, own).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_authority_over_http2_is_misdirected() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = nexaguard_server::serve::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let port = address.port();
    let env = env_with(Options {
        public: Some(PublicOrigins::for_listener(None, address)),
        ..Options::default()
    })
    .await;
    let key = published_site(&env).await;
    let dir = tempfile::tempdir().unwrap();
    let files = nexaguard_server::tls::ensure_certificate(None, dir.path()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::on_listener(router(env.state.clone()), listener, Transport::Tls(files)).run(
            async {
                let _ = stopped.await;
            },
        ),
    );
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .http2_prior_knowledge()
        .resolve(EVIL, address)
        .resolve("localhost", address)
        .build()
        .unwrap();
    let snippet = |host: &str| {
        let request = http.get(format!("https://{host}:{port}/v1/sites/{key}/snippet.html"));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.version(), reqwest::Version::HTTP_2);
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    let (status, body) = snippet(EVIL).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    assert!(body.contains("\"misdirected\""), "{body}");
    for host in ["localhost", "127.0.0.1"] {
        let (status, body) = snippet(host).await;
        assert_eq!(status, StatusCode::OK, "{host}: {body}");
        let sdk_url = stub_settings(&body)["sdkUrl"].as_str().unwrap().to_owned();
        assert!(
            sdk_url.starts_with(&format!("https://localhost:{port}/sdk/v1/")),
            "{host}: {sdk_url}"
        );
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_sign_in_from_a_rebound_host_name_is_refused() {
    // DNS rebinding: the attacker's name now points at the server, and the
    // attacker's page posts to it "same-origin" as far as the browser knows.
    let env = env().await;
    let tenant = Seed(&env.admin).tenant("acme").await;
    user(&env, Some(tenant.id), Role::Viewer, OWNER).await;
    let rebound = "rebind.evil.example";
    let request = Request::post("/admin/api/v1/session")
        .header(header::HOST, rebound)
        .header(header::ORIGIN, format!("https://{rebound}"))
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"email": OWNER, "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    assert_misdirected(&send(&env.app, request).await, "a rebound sign-in");
    let form = format!(
        "email={}&password={}",
        OWNER.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let request = Request::post("/admin/login")
        .header(header::HOST, rebound)
        .header(header::ORIGIN, format!("https://{rebound}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    assert_misdirected(&send(&env.app, request).await, "a rebound console sign-in");
}

#[tokio::test]
async fn the_origin_check_compares_with_the_configured_origins_not_with_the_host() {
    let env = env().await;
    let tenant = Seed(&env.admin).tenant("acme").await;
    user(&env, Some(tenant.id), Role::Owner, OWNER).await;
    let owner = sign_in(&env, OWNER).await;
    let create = |host: &str, origin: &str| {
        let mut request = owner.request(
            Method::POST,
            "/sites",
            Some(&json!({"name": "Shop", "origins": []})),
        );
        request
            .headers_mut()
            .insert(header::HOST, host.parse().unwrap());
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
        request
    };
    // The server's second name, with a page of its first: both are its own.
    let answer = send(&env.app, create("console.test", ORIGIN)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    for origin in [
        "https://admin.test:8443",
        "http://admin.test",
        "https://admin.test.evil.example",
        "null",
    ] {
        let answer = send(&env.app, create(HOST, origin)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{origin}");
        assert_eq!(answer.code(), "origin", "{origin}");
    }
}

#[tokio::test]
async fn every_absolute_url_names_the_configured_public_url() {
    let public = PublicOrigins::new(PublicOrigin::parse("https://consent.example.com").unwrap());
    let env = env_with(Options {
        public: Some(public.clone()),
        ..Options::default()
    })
    .await;
    let key = published_site(&env).await;
    let snippet = send(
        &env.app,
        get(
            &format!("/v1/sites/{key}/snippet.html"),
            "consent.example.com",
        ),
    )
    .await;
    assert_eq!(snippet.status, StatusCode::OK, "{}", snippet.text());
    assert!(stub_settings(&snippet.text())["sdkUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://consent.example.com/sdk/v1/"));
    let openapi = send(&env.app, get("/v1/openapi.json", "consent.example.com:443")).await;
    assert_eq!(
        openapi.json()["servers"][0]["url"],
        "https://consent.example.com"
    );
    // The names of a development start are not this server's any more.
    assert_misdirected(
        &send(&env.app, get("/v1/openapi.json", "localhost:8443")).await,
        "a development name",
    );
    let banner = Banner {
        public,
        plain_http: Some("127.0.0.1:8080".parse().unwrap()),
        demo: true,
        demo_owner: None,
        metrics: None,
    }
    .text();
    for line in banner.lines().filter(|l| l.contains("://")) {
        let plain = line.contains("http://127.0.0.1:8080 (plain HTTP");
        assert!(
            plain || line.contains("https://consent.example.com/") || line.ends_with(".com"),
            "{line}"
        );
        assert!(!line.contains("localhost"), "{line}");
    }
}

// ---- 2. Metrics are the operator's ---------------------------------------

#[tokio::test]
async fn metrics_are_not_served_on_the_public_listener() {
    let env = env().await;
    // A failed sign-in, which the security counters count.
    let failed = Client::default()
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": "nobody@example.org", "password": "wrong password!"})),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let answer = send(&env.app, get("/metrics", HOST)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text());
    assert_eq!(answer.code(), "not_found");
    assert!(!answer.text().contains("nexaguard_"), "{}", answer.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_listener_serves_prometheus_text_only_with_its_token() {
    let env = env().await;
    let failed = Client::default()
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": "nobody@example.org", "password": "wrong password!"})),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let token: MetricsToken = "a-long-metrics-token-0123".parse().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scraper = tokio::spawn(nexaguard_server::metrics::serve(
        listener,
        nexaguard_server::metrics::router(Arc::clone(&env.store), Some(token)),
        async {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::new();
    let url = format!("http://{address}/metrics");
    let anonymous = http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()[header::WWW_AUTHENTICATE], "Bearer");
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    let wrong = http
        .get(&url)
        .bearer_auth("a-long-metrics-token-0124")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scraped = http
        .get(&url)
        .bearer_auth("a-long-metrics-token-0123")
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await.unwrap();
    for metric in [
        "nexaguard_http_requests_total",
        "nexaguard_admin_login_failures_total",
        "nexaguard_store_write_queue_depth",
    ] {
        assert!(text.contains(metric), "{metric} missing: {text}");
    }
    let elsewhere = http
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let _ = stop.send(());
    scraper.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_banner_names_the_metrics_listener_and_no_public_metrics_url() {
    let banner = Banner {
        public: PublicOrigins::for_listener(None, "127.0.0.1:8443".parse().unwrap()),
        plain_http: None,
        demo: true,
        demo_owner: None,
        metrics: Some("127.0.0.1:9464".parse().unwrap()),
    }
    .text();
    assert!(
        banner.contains("NexaGuard is listening on https://localhost:8443\n"),
        "{banner}"
    );
    assert!(
        banner.contains("Metrics:     http://127.0.0.1:9464/metrics"),
        "{banner}"
    );
    assert!(!banner.contains("8443/metrics"), "{banner}");
    assert!(
        banner
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .trim_start()
            .starts_with("Health:"),
        "{banner}"
    );
}

// ---- 3. No session cookie for another site's browser ---------------------

/// A sign-in with the browser's headers `headers` (name, value).
fn sign_in_request(headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::post("/admin/api/v1/session")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Body::from(
            json!({"email": OWNER, "password": PASSWORD}).to_string(),
        ))
        .unwrap()
}

/// A console form post with the browser's headers `headers`.
fn form_request(path: &str, form: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

fn assert_refused_without_cookie(answer: &Answer, what: &str) {
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "{what}: {}",
        answer.text()
    );
    assert!(
        answer.headers.get(header::SET_COOKIE).is_none(),
        "{what} set a cookie"
    );
}

#[tokio::test]
async fn a_cross_site_sign_in_without_origin_is_refused() {
    let env = env().await;
    let tenant = Seed(&env.admin).tenant("acme").await;
    user(&env, Some(tenant.id), Role::Viewer, OWNER).await;
    for site in ["cross-site", "same-site", "something-new"] {
        let answer = send(&env.app, sign_in_request(&[("sec-fetch-site", site)])).await;
        assert_refused_without_cookie(&answer, site);
        assert_eq!(answer.code(), "origin", "{site}");
    }
    // An Origin of the server's own does not excuse a cross-site request.
    let answer = send(
        &env.app,
        sign_in_request(&[("origin", ORIGIN), ("sec-fetch-site", "cross-site")]),
    )
    .await;
    assert_refused_without_cookie(&answer, "own Origin, cross-site");
}

#[tokio::test]
async fn a_cross_site_console_sign_in_without_origin_is_refused() {
    let env = env().await;
    let tenant = Seed(&env.admin).tenant("acme").await;
    user(&env, Some(tenant.id), Role::Viewer, OWNER).await;
    let form = format!(
        "email={}&password={}",
        OWNER.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    for site in ["cross-site", "same-site"] {
        let answer = send(
            &env.app,
            form_request("/admin/login", &form, &[("sec-fetch-site", site)]),
        )
        .await;
        assert_refused_without_cookie(&answer, site);
    }
    // From the console's own page the same form signs in.
    let answer = send(
        &env.app,
        form_request(
            "/admin/login",
            &form,
            &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert!(answer.headers.get(header::SET_COOKIE).is_some());
}

#[tokio::test]
async fn a_cross_site_invitation_acceptance_is_refused_and_the_invitation_still_works() {
    let env = env().await;
    let tenant = Seed(&env.admin).tenant("acme").await;
    user(&env, Some(tenant.id), Role::Owner, OWNER).await;
    let owner = sign_in(&env, OWNER).await;
    let invite = |email: &'static str| {
        let owner = owner.clone();
        let env = &env;
        async move {
            let made = owner
                .call(
                    env,
                    Method::POST,
                    "/invitations",
                    Some(json!({"email": email, "role": "viewer"})),
                )
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
            made.json()["invitation"].as_str().unwrap().to_owned()
        }
    };
    // The admin API's route.
    let secret = invite("api@acme.example").await;
    let accept = |headers: &[(&str, &str)]| {
        let mut builder = Request::post("/admin/api/v1/invitations/accept")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
            .body(Body::from(
                json!({"invitation": secret, "password": PASSWORD}).to_string(),
            ))
            .unwrap()
    };
    let answer = send(&env.app, accept(&[("sec-fetch-site", "cross-site")])).await;
    assert_refused_without_cookie(&answer, "API acceptance, cross-site");
    assert_eq!(answer.code(), "origin");
    let answer = send(&env.app, accept(&[])).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());

    // The console's form.
    let secret = invite("console@acme.example").await;
    let form = format!(
        "token={secret}&password={0}&repeat={0}",
        PASSWORD.replace(' ', "+")
    );
    let answer = send(
        &env.app,
        form_request(
            "/admin/invitations/accept",
            &form,
            &[("sec-fetch-site", "cross-site")],
        ),
    )
    .await;
    assert_refused_without_cookie(&answer, "console acceptance, cross-site");
    let answer = send(
        &env.app,
        form_request(
            "/admin/invitations/accept",
            &form,
            &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")],
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert!(answer.headers.get(header::SET_COOKIE).is_some());
}

#[tokio::test]
async fn a_sign_in_from_curl_or_from_the_servers_own_pages_still_works() {
    let env = env().await;
    let tenant = Seed(&env.admin).tenant("acme").await;
    user(&env, Some(tenant.id), Role::Viewer, OWNER).await;
    for headers in [
        // curl, the CLI, a script: neither header.
        &[][..],
        &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")][..],
        &[("sec-fetch-site", "same-origin")][..],
        // Typed into the address bar or a bookmark: no other site's doing.
        &[("sec-fetch-site", "none")][..],
    ] {
        let answer = send(&env.app, sign_in_request(headers)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{headers:?}: {}",
            answer.text()
        );
        assert!(
            answer.headers.get(header::SET_COOKIE).is_some(),
            "{headers:?}"
        );
    }
}
