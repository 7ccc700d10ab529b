//! The console's pages in process: the real router over a real SQLite store,
//! checking what a browser test would find slowly: the CSP on every page,
//! the redirect when signed out, and the refusal of forged or foreign form
//! posts, including a viewer's with a valid CSRF token.

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
use nexaguard_access::Role;
use nexaguard_admin::Admin;
use nexaguard_consent::token::TokenKeys;
use nexaguard_server::admin::AdminHttp;
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_store::{SqliteStore, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

const HOST: &str = "console.test";
const ORIGIN: &str = "https://console.test";
const PASSWORD: &str = "correct horse battery";

struct Env {
    app: Router,
    admin: Arc<Admin>,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let gvl = nexaguard_server::gvl_source::sample().unwrap();
    let keys = TokenKeys::new([7; 32], [9; 32]);
    let admin = nexaguard_server::admin::open(
        dir.path(),
        Arc::new(nexaguard_store::SqliteAdminStore::open(&db).await.unwrap()),
        Arc::clone(&store),
        Arc::new(gvl.clone()),
        keys.clone(),
    )
    .await
    .unwrap();
    let state = AppState::new(StateParts {
        store: Arc::clone(&store),
        gvl,
        keys,
        limiter: Limiter::new(10_000, 10_000),
        country_header: None,
        behind_proxy: false,
        demo_site_key: None,
        admin: Some(AdminHttp {
            admin: Arc::clone(&admin),
            limiter: Limiter::new(10_000, 10_000),
        }),
    })
    .await
    .unwrap();
    let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    Env {
        app: router(state).layer(MockConnectInfo(peer)),
        admin,
        store,
        _dir: dir,
    }
}

struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    text: String,
}

async fn send(env: &Env, request: Request<Body>) -> Answer {
    let response = env.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path).header(header::HOST, HOST);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: Option<&str>, origin: &str, form: &str) -> Request<Body> {
    let mut builder = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, origin)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

/// Signs in through the console's form; returns the cookie and the CSRF
/// token of the page it lands on.
async fn sign_in(env: &Env, email: &str) -> (String, String) {
    let form = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let answer = send(env, post("/admin/login", None, ORIGIN, &form)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    assert_eq!(answer.headers[header::LOCATION], "/admin/");
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let home = send(env, get("/admin/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    let csrf = home
        .text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    (cookie, csrf)
}

async fn viewer(env: &Env) -> (String, String) {
    let tenant = env.store.create_tenant("acme").await.unwrap().id;
    env.admin
        .create_user_as_system(Some(tenant), Role::Viewer, "viewer@acme.example", PASSWORD)
        .await
        .unwrap();
    sign_in(env, "viewer@acme.example").await
}

#[tokio::test]
async fn signed_out_pages_redirect_to_the_sign_in_page_under_the_strict_csp() {
    let env = env().await;
    for path in ["/admin/", "/admin/sites/new", "/admin/mfa/enrol"] {
        let answer = send(&env, get(path, None)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers[header::LOCATION], "/admin/login", "{path}");
    }
    let login = send(&env, get("/admin/login?expired=1", None)).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text.contains("Your session expired"));
    let csp = login.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

#[tokio::test]
async fn a_viewer_sees_no_edit_controls_and_a_forged_post_is_refused() {
    let env = env().await;
    let (cookie, csrf) = viewer(&env).await;
    let home = send(&env, get("/admin/", Some(&cookie))).await;
    assert!(!home.text.contains("New site"), "{}", home.text);
    assert!(!home.text.contains("/admin/users"));
    // A valid CSRF token, but the role may not create sites.
    let forged = send(
        &env,
        post(
            "/admin/sites/new",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&name=Evil&origins="),
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let tenant = env.store.tenants().await.unwrap()[0].id;
    assert!(env
        .admin
        .store()
        .tenant_sites(tenant)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn forms_without_the_token_or_from_elsewhere_are_refused() {
    let env = env().await;
    let (cookie, csrf) = viewer(&env).await;
    let wrong_token = send(
        &env,
        post("/admin/logout", Some(&cookie), ORIGIN, "csrf=nope"),
    )
    .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    assert!(wrong_token.text.contains("did not come from this console"));
    let foreign = send(
        &env,
        post(
            "/admin/logout",
            Some(&cookie),
            "https://evil.example",
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    // The session still works: neither post signed out.
    let home = send(&env, get("/admin/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK);
    let out = send(
        &env,
        post(
            "/admin/logout",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers[header::LOCATION], "/admin/login?signed_out=1");
    assert_eq!(
        send(&env, get("/admin/", Some(&cookie))).await.status,
        StatusCode::SEE_OTHER
    );
}
