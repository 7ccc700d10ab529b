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

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{code_at, decode_base32, env, send, unix_now, user, Answer, Env, Seed, PASSWORD};
use nexaguard_access::Role;

/// The console's own host (the admin API tests use another).
const HOST: &str = "console.test";
const ORIGIN: &str = "https://console.test";

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

/// Posts the console's sign-in form; checks that it redirects to
/// `landing` and returns the session cookie it sets.
async fn log_in(env: &Env, email: &str, landing: &str) -> String {
    let form = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        PASSWORD.replace(' ', "+")
    );
    let answer = send(&env.app, post("/admin/login", None, ORIGIN, &form)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    assert_eq!(answer.headers[header::LOCATION], landing);
    cookie_of(&answer)
}

/// Signs in through the console's form; returns the cookie and the CSRF
/// token of the page it lands on.
async fn sign_in(env: &Env, email: &str) -> (String, String) {
    let cookie = log_in(env, email, "/admin/").await;
    let home = send(&env.app, get("/admin/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    (cookie, csrf_of(&home.text()))
}

async fn viewer(env: &Env) -> (String, String) {
    let tenant = Seed(&env.admin).tenant("acme").await.id;
    user(env, Some(tenant), Role::Viewer, "viewer@acme.example").await;
    sign_in(env, "viewer@acme.example").await
}

#[tokio::test]
async fn signed_out_pages_redirect_to_the_sign_in_page_under_the_strict_csp() {
    let env = env().await;
    for path in ["/admin/", "/admin/sites/new", "/admin/mfa/enrol"] {
        let answer = send(&env.app, get(path, None)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.headers[header::LOCATION], "/admin/login", "{path}");
    }
    let login = send(&env.app, get("/admin/login?expired=1", None)).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text().contains("Your session expired"));
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
    let home = send(&env.app, get("/admin/", Some(&cookie))).await;
    assert!(!home.text().contains("New site"), "{}", home.text());
    assert!(!home.text().contains("/admin/users"));
    // A valid CSRF token, but the role may not create sites.
    let forged = send(
        &env.app,
        post(
            "/admin/sites/new",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&name=Evil&origins="),
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
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
        &env.app,
        post("/admin/logout", Some(&cookie), ORIGIN, "csrf=nope"),
    )
    .await;
    assert_eq!(wrong_token.status, StatusCode::FORBIDDEN);
    assert!(wrong_token
        .text()
        .contains("did not come from this console"));
    let foreign = send(
        &env.app,
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
    let home = send(&env.app, get("/admin/", Some(&cookie))).await;
    assert_eq!(home.status, StatusCode::OK);
    let out = send(
        &env.app,
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
        send(&env.app, get("/admin/", Some(&cookie))).await.status,
        StatusCode::SEE_OTHER
    );
}

/// The value of the first `attribute="..."` after `marker` in `html`.
fn after<'a>(html: &'a str, marker: &str) -> &'a str {
    html.split(marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("{marker} not in {html}"))
}

/// The text of the element with id `id` (no markup inside).
fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"{id}\">"))
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("#{id} not in {html}"))
}

fn cookie_of(answer: &Answer) -> String {
    let set = answer.headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn csrf_of(html: &str) -> String {
    after(html, "name=\"csrf\" value=\"").to_owned()
}

/// Signs in through the console's forms, enrolling TOTP on the enrolment
/// page (the code computed from the secret it shows); returns the cookie
/// and a CSRF token of the session the user ends with.
async fn sign_in_enrolled(env: &Env, email: &str) -> (String, String) {
    let cookie = log_in(env, email, "/admin/mfa/enrol").await;
    let offer = send(&env.app, get("/admin/mfa/enrol", Some(&cookie))).await;
    assert_eq!(offer.status, StatusCode::OK, "{}", offer.text());
    let secret = decode_base32(text_of(&offer.text(), "totp-secret"));
    let code = code_at(&secret, unix_now());
    let confirmed = send(
        &env.app,
        post(
            "/admin/mfa/enrol",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={}&code={code}", csrf_of(&offer.text())),
        ),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let cookie = cookie_of(&confirmed);
    let page = send(&env.app, get("/admin/debug", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    (cookie, csrf_of(&page.text()))
}

async fn owner(env: &Env) -> (String, String) {
    let tenant = Seed(&env.admin).tenant("acme").await.id;
    user(env, Some(tenant), Role::Owner, "owner@acme.example").await;
    sign_in_enrolled(env, "owner@acme.example").await
}

fn form_value(text: &str) -> String {
    text.replace('@', "%40").replace(' ', "+")
}

#[tokio::test]
async fn an_invitation_from_the_users_page_makes_an_account_that_signs_in() {
    let env = env().await;
    let (cookie, csrf) = owner(&env).await;
    let users = send(&env.app, get("/admin/users", Some(&cookie))).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text());
    assert!(users.text().contains("owner@acme.example (you)"));
    assert!(users.text().contains("enrolled"));
    // An owner may grant every tenant role, never the operator's.
    assert!(users.text().contains("value=\"admin\""));
    assert!(!users.text().contains("value=\"platform_operator\""));
    let bad = send(
        &env.app,
        post(
            "/admin/users/invite",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&email=not-an-address&role=viewer"),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text().contains("not an e-mail address"),
        "{}",
        bad.text()
    );
    let made = send(
        &env.app,
        post(
            "/admin/users/invite",
            Some(&cookie),
            ORIGIN,
            &format!(
                "csrf={csrf}&email={}&role=viewer",
                form_value("new@acme.example")
            ),
        ),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.headers[header::CACHE_CONTROL], "no-store");
    let link = text_of(&made.text(), "invitation-link").to_owned();
    // The configured public URL, not the alias the form was posted on.
    let path = link.strip_prefix(common::ORIGIN).unwrap();
    let token = path.split("token=").nth(1).unwrap().to_owned();
    assert!(token.starts_with("ngi_"), "{token}");
    let users = send(&env.app, get("/admin/users", Some(&cookie))).await;
    assert!(
        users.text().contains("new@acme.example"),
        "pending invitation listed"
    );
    assert!(
        !users.text().contains(&token),
        "the link is shown only once"
    );

    let page = send(&env.app, get(path, None)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let junk = send(&env.app, get("/admin/invitations/accept?token=nope", None)).await;
    assert_eq!(junk.status, StatusCode::NOT_FOUND);
    let differ = send(
        &env.app,
        post(
            "/admin/invitations/accept",
            None,
            ORIGIN,
            &format!("token={token}&password=one+long+password&repeat=another+password"),
        ),
    )
    .await;
    assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(differ.text().contains("The two passwords differ"));
    let short = send(
        &env.app,
        post(
            "/admin/invitations/accept",
            None,
            ORIGIN,
            &format!("token={token}&password=short&repeat=short"),
        ),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pw = form_value(PASSWORD);
    let accepted = send(
        &env.app,
        post(
            "/admin/invitations/accept",
            None,
            ORIGIN,
            &format!("token={token}&password={pw}&repeat={pw}"),
        ),
    )
    .await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "{}",
        accepted.text()
    );
    // A viewer needs no second factor: straight into the console.
    assert_eq!(accepted.headers[header::LOCATION], "/admin/");
    let viewer = cookie_of(&accepted);
    let home = send(&env.app, get("/admin/", Some(&viewer))).await;
    assert_eq!(home.status, StatusCode::OK);
    let again = send(
        &env.app,
        post(
            "/admin/invitations/accept",
            None,
            ORIGIN,
            &format!("token={token}&password={pw}&repeat={pw}"),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "used once");

    // The viewer has no user management: no page, and a forged post with
    // the viewer's own valid token is refused.
    let viewer_csrf = csrf_of(&home.text());
    assert!(!home.text().contains("/admin/users"));
    assert_eq!(
        send(&env.app, get("/admin/users", Some(&viewer)))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let forged = send(
        &env.app,
        post(
            "/admin/users/invite",
            Some(&viewer),
            ORIGIN,
            &format!("csrf={viewer_csrf}&email=x%40acme.example&role=viewer"),
        ),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // The owner changes the viewer's role, then removes them.
    let users = send(&env.app, get("/admin/users", Some(&cookie))).await;
    let user_path = after(&users.text(), "<a href=\"/admin/users/").to_owned();
    let user_path = format!("/admin/users/{user_path}");
    let page = send(&env.app, get(&user_path, Some(&cookie))).await;
    assert!(page.text().contains("Change role"), "{}", page.text());
    let changed = send(
        &env.app,
        post(
            &format!("{user_path}/role"),
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&role=editor"),
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text());
    let page = send(&env.app, get(&user_path, Some(&cookie))).await;
    assert_eq!(text_of(&page.text(), "user-role"), "editor");
    let unconfirmed = send(
        &env.app,
        post(
            &format!("{user_path}/remove"),
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let removed = send(
        &env.app,
        post(
            &format!("{user_path}/remove"),
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&confirm=yes"),
        ),
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text());
    assert_eq!(removed.headers[header::LOCATION], "/admin/users");
    let users = send(&env.app, get("/admin/users", Some(&cookie))).await;
    assert!(
        !users.text().contains("new@acme.example"),
        "{}",
        users.text()
    );
    assert_eq!(
        send(&env.app, get("/admin/", Some(&viewer))).await.status,
        StatusCode::SEE_OTHER,
        "the removed user's session ends"
    );
}

#[tokio::test]
async fn a_token_made_in_the_console_is_shown_once_works_and_is_revoked() {
    let env = env().await;
    let (cookie, csrf) = owner(&env).await;
    let page = send(&env.app, get("/admin/tokens", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(
        !page.text().contains("value=\"owner\""),
        "a token is never owner"
    );
    let made = send(
        &env.app,
        post(
            "/admin/tokens",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&name=CI+deploy&role=editor&days=30"),
        ),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.headers[header::CACHE_CONTROL], "no-store");
    let secret = text_of(&made.text(), "token-secret").to_owned();
    assert!(secret.starts_with("ngt_"), "{secret}");
    let bearer = |secret: &str| {
        Request::get("/admin/api/v1/sites")
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&env.app, bearer(&secret)).await.status, StatusCode::OK);
    let page = send(&env.app, get("/admin/tokens", Some(&cookie))).await;
    assert!(page.text().contains("CI deploy") && page.text().contains("active"));
    assert!(!page.text().contains(&secret));
    let revoke = format!(
        "/admin/tokens/{}",
        after(&page.text(), "action=\"/admin/tokens/")
    );
    let revoked = send(
        &env.app,
        post(&revoke, Some(&cookie), ORIGIN, &format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.text());
    assert_eq!(
        send(&env.app, bearer(&secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = send(&env.app, get("/admin/tokens", Some(&cookie))).await;
    assert!(page.text().contains("revoked"));
    let bad = send(
        &env.app,
        post(
            "/admin/tokens",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&name=x&role=viewer&days=9999"),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("1 to 365 days"), "{}", bad.text());
}

#[tokio::test]
async fn the_operator_rotates_keys_and_makes_tenants_and_nobody_else_may() {
    let env = env().await;
    user(&env, None, Role::PlatformOperator, "ops@example.org").await;
    let (cookie, csrf) = sign_in_enrolled(&env, "ops@example.org").await;
    let home = send(&env.app, get("/admin/", Some(&cookie))).await;
    assert_eq!(home.headers[header::LOCATION], "/admin/tenants");
    let keys = send(&env.app, get("/admin/keys", Some(&cookie))).await;
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.text());
    let current = |html: &str| {
        after(html, "Current key-encryption key</th><td><code>")
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    let before = current(&keys.text());
    let rotated = send(
        &env.app,
        post(
            "/admin/keys/rotate",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    assert!(
        rotated.text().contains("Rotation done"),
        "{}",
        rotated.text()
    );
    let now = current(&rotated.text());
    assert_ne!(before, now, "a new key-encryption key");
    assert!(rotated
        .text()
        .contains(&format!("Wrapped with <code>{now}</code></th><td>")));
    let made = send(
        &env.app,
        post(
            "/admin/tenants",
            Some(&cookie),
            ORIGIN,
            &format!(
                "csrf={csrf}&name=Globex&owner_email={}",
                form_value("boss@globex.example")
            ),
        ),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let link = text_of(&made.text(), "invitation-link").to_owned();
    assert!(link.starts_with(&format!(
        "{}/admin/invitations/accept?token=ngi_",
        common::ORIGIN
    )));
    let list = send(&env.app, get("/admin/tenants", Some(&cookie))).await;
    assert!(list.text().contains("Globex"));

    // An owner (MFA and all) sees neither page and cannot post to them.
    let (owner, owner_csrf) = owner(&env).await;
    for path in ["/admin/keys", "/admin/tenants"] {
        assert_eq!(
            send(&env.app, get(path, Some(&owner))).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for (path, form) in [
        ("/admin/keys/rotate", format!("csrf={owner_csrf}")),
        ("/admin/tenants", format!("csrf={owner_csrf}&name=Evil")),
    ] {
        let forged = send(&env.app, post(path, Some(&owner), ORIGIN, &form)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(env.store.tenants().await.unwrap().len(), 2);
}

/// Signs an owner in through the console's forms, enrolling TOTP; returns
/// the cookie, a CSRF token and the recovery codes the page showed.
async fn owner_with_recovery_codes(env: &Env) -> (String, String, Vec<String>) {
    let tenant = Seed(&env.admin).tenant("acme").await.id;
    user(env, Some(tenant), Role::Owner, "owner@acme.example").await;
    let cookie = log_in(env, "owner@acme.example", "/admin/mfa/enrol").await;
    let offer = send(&env.app, get("/admin/mfa/enrol", Some(&cookie))).await;
    let secret = decode_base32(text_of(&offer.text(), "totp-secret"));
    let confirmed = send(
        &env.app,
        post(
            "/admin/mfa/enrol",
            Some(&cookie),
            ORIGIN,
            &format!(
                "csrf={}&code={}",
                csrf_of(&offer.text()),
                code_at(&secret, unix_now())
            ),
        ),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let page = confirmed.text();
    let list = page.split("id=\"recovery-codes\"").nth(1).unwrap();
    let recovery: Vec<String> = list
        .split("<code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{page}");
    let cookie = cookie_of(&confirmed);
    let home = send(&env.app, get("/admin/debug", Some(&cookie))).await;
    (cookie, csrf_of(&home.text()), recovery)
}

#[tokio::test]
async fn the_console_asks_for_the_password_and_a_code_before_replacing_the_second_factor() {
    let env = env().await;
    let (cookie, csrf, recovery) = owner_with_recovery_codes(&env).await;
    // The enrolment page no longer hands a signed-in session a new secret.
    let page = send(&env.app, get("/admin/mfa/enrol", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("Replace your second factor"));
    assert!(!page.text().contains("totp-secret"), "{}", page.text());
    let wrong = send(
        &env.app,
        post(
            "/admin/mfa/replace",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&password=not+it+at+all&code={}", recovery[0]),
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text());
    assert!(!wrong.text().contains("totp-secret"));
    let offered = send(
        &env.app,
        post(
            "/admin/mfa/replace",
            Some(&cookie),
            ORIGIN,
            &format!(
                "csrf={csrf}&password={}&code={}",
                form_value(PASSWORD),
                recovery[1]
            ),
        ),
    )
    .await;
    assert_eq!(offered.status, StatusCode::OK, "{}", offered.text());
    let shown = text_of(&offered.text(), "totp-secret").to_owned();
    // A typo shows the same secret again, without asking for the proof.
    let typo = send(
        &env.app,
        post(
            "/admin/mfa/enrol",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&code=000000"),
        ),
    )
    .await;
    assert_eq!(
        typo.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        typo.text()
    );
    assert_eq!(text_of(&typo.text(), "totp-secret"), shown);
    let code = code_at(&decode_base32(&shown), unix_now());
    let confirmed = send(
        &env.app,
        post(
            "/admin/mfa/enrol",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&code={code}"),
        ),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    assert!(confirmed.text().contains("recovery-codes"));
    // The old session id is gone; the new cookie works.
    let old = send(&env.app, get("/admin/", Some(&cookie))).await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    let new = send(&env.app, get("/admin/", Some(&cookie_of(&confirmed)))).await;
    assert_eq!(new.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_made_in_the_console_gets_only_the_step_up_scopes_ticked() {
    let env = env().await;
    let (cookie, csrf) = owner(&env).await;
    let page = send(&env.app, get("/admin/tokens", Some(&cookie))).await;
    assert!(page.text().contains("name=\"scope_promote_production\""));
    let made = send(
        &env.app,
        post(
            "/admin/tokens",
            Some(&cookie),
            ORIGIN,
            &format!("csrf={csrf}&name=release&role=publisher&days=30&scope_promote_production=1"),
        ),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let listed = send(
        &env.app,
        Request::get("/admin/api/v1/tokens")
            .header(header::HOST, HOST)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let tokens: serde_json::Value = listed.json();
    assert_eq!(
        tokens[0]["stepUpScopes"],
        serde_json::json!(["promote_production"])
    );
}
