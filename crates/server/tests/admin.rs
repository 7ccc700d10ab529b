//! The admin API end to end, in process: the real router, a real SQLite
//! store and key ring in a temporary directory, sessions with real TOTP
//! codes computed here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{
    code_at, enrol, env, env_with, send, sign_in, unix_now, user, Client, Env, Options, Seed,
    PASSWORD,
};
use nexaguard_access::Role;
use nexaguard_server::admin::{routes, Access, PREFIX};
use nexaguard_store::TenantId;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

const TCF_CONFIG: &str = include_str!("fixtures/tcf-site.json");

/// A tenant with a site (draft saved, staging published) and an owner
/// signed in.
struct Tenant {
    id: TenantId,
    owner: Client,
    site: Uuid,
    victim: Uuid,
    token: Uuid,
    webhook: Uuid,
}

async fn tenant(env: &Env, name: &str) -> Tenant {
    let id = Seed(&env.admin).tenant(name).await.id;
    let email = format!("owner@{name}.example");
    user(env, Some(id), Role::Owner, &email).await;
    let owner = sign_in(env, &email).await;
    let site = owner
        .call(
            env,
            Method::POST,
            "/sites",
            Some(json!({"name": "Shop", "origins": ["https://shop.example"]})),
        )
        .await;
    assert_eq!(site.status, StatusCode::CREATED, "{:?}", site.json());
    let site = Uuid::parse_str(site.json()["id"].as_str().unwrap()).unwrap();
    let config: Value = serde_json::from_str(TCF_CONFIG).unwrap();
    let saved = owner
        .call(
            env,
            Method::PUT,
            &format!("/sites/{site}/draft"),
            Some(json!({"revision": 0, "config": config})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.json());
    assert_eq!(
        saved.json()["validation"]["valid"],
        true,
        "{:?}",
        saved.json()
    );
    let published = owner
        .call(env, Method::POST, &format!("/sites/{site}/publish"), None)
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.json()
    );
    let victim = user(
        env,
        Some(id),
        Role::Viewer,
        &format!("victim@{name}.example"),
    )
    .await;
    let token = owner
        .call(
            env,
            Method::POST,
            "/tokens",
            Some(json!({"name": "ci", "role": "viewer", "expiresInDays": 30})),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{:?}", token.json());
    let token = Uuid::parse_str(token.json()["id"].as_str().unwrap()).unwrap();
    let webhook = owner
        .call(
            env,
            Method::POST,
            &format!("/sites/{site}/webhooks"),
            Some(json!({"url": format!("https://hooks.{name}.example/consents")})),
        )
        .await;
    assert_eq!(webhook.status, StatusCode::CREATED, "{:?}", webhook.json());
    let webhook = Uuid::parse_str(webhook.json()["id"].as_str().unwrap()).unwrap();
    Tenant {
        id,
        owner,
        site,
        victim,
        token,
        webhook,
    }
}

fn fill(path: &str, t: &Tenant) -> String {
    path.replace("{site}", &t.site.to_string())
        .replace("{user}", &t.victim.to_string())
        .replace("{token}", &t.token.to_string())
        .replace("{webhook}", &t.webhook.to_string())
        // No delivery exists yet: allowed callers get 404, others 403.
        .replace("{delivery}", &Uuid::new_v4().to_string())
}

/// A plausible body for a route, so that an allowed call gets past
/// parsing (its outcome may still be a 4xx other than 401 and 403).
fn body_for(method: &Method, path: &str) -> Option<Value> {
    if *method == Method::GET || *method == Method::DELETE {
        return None;
    }
    Some(match path {
        "/invitations" => json!({"email": "new@example.org", "role": "viewer"}),
        "/users/{user}/role" => json!({"role": "viewer"}),
        "/tokens" => json!({"name": "t", "role": "viewer", "expiresInDays": 1}),
        "/tenants" => json!({"name": "Another"}),
        "/sites" => json!({"name": "Another", "origins": []}),
        "/sites/{site}/draft" => json!({"revision": 1, "config": {}}),
        "/sites/{site}/draft/validate" => json!({}),
        "/sites/{site}/webhooks" => json!({"url": "https://hooks.example.org/x"}),
        "/sites/{site}/webhooks/{webhook}" => json!({"enabled": false}),
        _ => json!({}),
    })
}

/// Routes that need no permission, on purpose. Any other route must
/// declare one: adding a route without it fails here.
const OPEN_ROUTES: [(&str, &str); 8] = [
    ("POST", "/session"),
    ("GET", "/session"),
    ("DELETE", "/session"),
    ("POST", "/session/mfa"),
    ("POST", "/mfa/enrolment"),
    ("POST", "/mfa/enrolment/confirm"),
    ("POST", "/password"),
    ("POST", "/invitations/accept"),
];

#[test]
fn every_route_declares_a_permission_or_is_knowingly_open() {
    for route in routes() {
        let open = OPEN_ROUTES.contains(&(route.method.as_str(), route.path));
        match route.access {
            Access::Permission(_) => {
                assert!(!open, "{} {} is listed as open", route.method, route.path)
            }
            Access::Public | Access::SignedIn => assert!(
                open,
                "{} {} has no permission and is not in OPEN_ROUTES",
                route.method, route.path
            ),
        }
    }
}

#[tokio::test]
async fn every_route_with_every_role_is_allowed_or_refused_as_the_table_says() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let mut clients = Vec::new();
    for role in Role::ALL {
        let email = format!("{}-role@acme.example", role.as_str());
        let tenant = (!role.is_platform()).then_some(t.id);
        user(&env, tenant, role, &email).await;
        clients.push((role, sign_in(&env, &email).await));
    }
    let mut checked = 0;
    for route in routes() {
        let Access::Permission(permission) = route.access else {
            continue;
        };
        for (role, client) in &clients {
            let path = fill(route.path, &t);
            let answer = client
                .call(
                    &env,
                    route.method.clone(),
                    &path,
                    body_for(&route.method, route.path),
                )
                .await;
            if role.allows(permission) {
                assert!(
                    !matches!(answer.status.as_u16(), 401 | 403) && answer.status.as_u16() < 500,
                    "{role} on {} {path}: {} {}",
                    route.method,
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                );
                if answer.status.is_success() {
                    assert_eq!(
                        answer.status.as_u16(),
                        route.doc.status,
                        "{role} on {} {path}: the success the table declares",
                        route.method
                    );
                }
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{role} on {} {path}: {}",
                    route.method,
                    String::from_utf8_lossy(&answer.body)
                );
                assert_eq!(answer.code(), "forbidden");
            }
            checked += 1;
        }
    }
    assert!(checked >= 25 * 8, "only {checked} calls");
    // Refusals are audited in the caller's chain.
    let owner_log = t
        .owner
        .call(&env, Method::GET, "/audit?limit=500", None)
        .await;
    assert_eq!(owner_log.status, StatusCode::OK);
    assert!(owner_log
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "access.denied"));
}

#[tokio::test]
async fn api_tokens_act_with_their_role_until_revoked_or_expired() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let made = t
        .owner
        .call(
            &env,
            Method::POST,
            "/tokens",
            Some(json!({"name": "reader", "role": "analyst", "expiresInDays": 1})),
        )
        .await;
    let secret = made.json()["secret"].as_str().unwrap().to_owned();
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let script = Client {
        bearer: Some(secret),
        ..Client::default()
    };
    let sites = script.call(&env, Method::GET, "/sites", None).await;
    assert_eq!(sites.status, StatusCode::OK);
    assert_eq!(sites.json().as_array().unwrap().len(), 1);
    let create = script
        .call(
            &env,
            Method::POST,
            "/sites",
            Some(json!({"name": "x", "origins": []})),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    // A token cannot carry a role its maker lacks, nor owner.
    let owner_token = t
        .owner
        .call(
            &env,
            Method::POST,
            "/tokens",
            Some(json!({"name": "x", "role": "owner", "expiresInDays": 1})),
        )
        .await;
    assert_eq!(owner_token.status, StatusCode::UNPROCESSABLE_ENTITY);
    let revoked = t
        .owner
        .call(&env, Method::DELETE, &format!("/tokens/{id}"), None)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = script.call(&env, Method::GET, "/sites", None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), "token_revoked");
    let junk = Client {
        bearer: Some("ngt_not-a-token".to_owned()),
        ..Client::default()
    };
    assert_eq!(
        junk.call(&env, Method::GET, "/sites", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn another_tenants_ids_find_nothing_and_change_nothing() {
    let env = env().await;
    let a = tenant(&env, "alpha").await;
    let b = tenant(&env, "beta").await;
    let b_draft_before = b
        .owner
        .call(&env, Method::GET, &format!("/sites/{}/draft", b.site), None)
        .await
        .json();
    let b_users_before = b.owner.call(&env, Method::GET, "/users", None).await.json();
    let b_tokens_before = b
        .owner
        .call(&env, Method::GET, "/tokens", None)
        .await
        .json();
    let b_webhooks_path = format!("/sites/{}/webhooks", b.site);
    let b_webhooks_before = b
        .owner
        .call(&env, Method::GET, &b_webhooks_path, None)
        .await
        .json();
    assert_eq!(b_webhooks_before.as_array().unwrap().len(), 1);
    let mut tried = 0;
    for route in routes() {
        let scoped = ["{site}", "{user}", "{token}", "{webhook}"]
            .iter()
            .any(|p| route.path.contains(p));
        if !scoped {
            continue;
        }
        let path = fill(route.path, &b);
        let answer = a
            .owner
            .call(
                &env,
                route.method.clone(),
                &path,
                body_for(&route.method, route.path),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{} {path}: {}",
            route.method,
            String::from_utf8_lossy(&answer.body)
        );
        tried += 1;
    }
    assert!(tried >= 13, "only {tried} routes tried");
    // Listings show only the caller's own.
    let sites = a.owner.call(&env, Method::GET, "/sites", None).await.json();
    assert_eq!(sites.as_array().unwrap().len(), 1);
    assert_eq!(sites[0]["id"], a.site.to_string());
    let users = a.owner.call(&env, Method::GET, "/users", None).await.json();
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["email"].as_str().unwrap().ends_with("@alpha.example")));
    // Nothing of beta's changed.
    let b_draft_after = b
        .owner
        .call(&env, Method::GET, &format!("/sites/{}/draft", b.site), None)
        .await
        .json();
    assert_eq!(b_draft_before, b_draft_after);
    assert_eq!(
        b_users_before,
        b.owner.call(&env, Method::GET, "/users", None).await.json()
    );
    assert_eq!(
        b_tokens_before,
        b.owner
            .call(&env, Method::GET, "/tokens", None)
            .await
            .json()
    );
    assert_eq!(
        b_webhooks_before,
        b.owner
            .call(&env, Method::GET, &b_webhooks_path, None)
            .await
            .json()
    );
    // Audit chains are per tenant: beta's log has none of alpha's entries.
    let b_log = b
        .owner
        .call(&env, Method::GET, "/audit?limit=500", None)
        .await
        .json();
    let a_actor = a
        .owner
        .call(&env, Method::GET, "/session", None)
        .await
        .json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(b_log
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] != format!("user:{a_actor}")));
}

/// Signs in with `body` (e-mail address, password, maybe a code).
async fn attempt(env: &Env, body: Value) -> common::Answer {
    Client::default()
        .call(env, Method::POST, "/session", Some(body))
        .await
}

#[tokio::test]
async fn a_locked_account_answers_exactly_like_an_unknown_address() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    user(&env, Some(t), Role::Viewer, "v@acme.example").await;
    let unknown = attempt(
        &env,
        json!({"email": "nobody@acme.example", "password": "wrong password!"}),
    )
    .await;
    let wrong = attempt(
        &env,
        json!({"email": "v@acme.example", "password": "wrong password!"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body, "the answers tell the cases apart");
    for _ in 0..4 {
        attempt(
            &env,
            json!({"email": "v@acme.example", "password": "wrong password!"}),
        )
        .await;
    }
    // Locked now: the right password gets the unknown address's answer.
    let locked = attempt(
        &env,
        json!({"email": "v@acme.example", "password": PASSWORD}),
    )
    .await;
    assert_eq!(locked.status, unknown.status);
    assert_eq!(locked.body, unknown.body, "a lockout tells a real account");
    assert!(!locked.headers.contains_key(header::RETRY_AFTER));
    // An unknown address hammered as often answers the same.
    for _ in 0..6 {
        let again = attempt(
            &env,
            json!({"email": "nobody@acme.example", "password": PASSWORD}),
        )
        .await;
        assert_eq!(again.body, unknown.body);
    }
    // Audited in the tenant's chain, without the address.
    let entries = env
        .admin
        .store()
        .audit_entries(nexaguard_audit::ChainId::Tenant(t.0), 0, 100)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.event.action.as_str()).collect();
    assert!(actions.contains(&"auth.login_failed"));
    assert!(actions.contains(&"auth.lockout"));
    assert!(entries
        .iter()
        .any(|e| e.event.details["reason"] == "locked"));
    for entry in &entries {
        assert!(!entry.event.details.to_string().contains("acme.example"));
        assert!(!entry.event.target.contains("acme.example"));
    }
}

#[tokio::test]
async fn an_attacker_cannot_keep_an_admin_out_by_locking_the_account() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    user(&env, Some(t), Role::Owner, "o@acme.example").await;
    let owner = sign_in(&env, "o@acme.example").await;
    // Anyone who knows the address can lock it...
    for _ in 0..8 {
        attempt(
            &env,
            json!({"email": "o@acme.example", "password": "a guess, wrong"}),
        )
        .await;
    }
    let alone = attempt(
        &env,
        json!({"email": "o@acme.example", "password": PASSWORD}),
    )
    .await;
    assert_eq!(alone.status, StatusCode::UNAUTHORIZED);
    assert_eq!(alone.code(), "bad_credentials");
    // ...a guess with a made-up code changes nothing...
    let guessed = attempt(
        &env,
        json!({"email": "o@acme.example", "password": "a guess, wrong", "code": "123456"}),
    )
    .await;
    assert_eq!(guessed.body, alone.body);
    // ...but the owner still gets in with the password and a current code,
    // and the session needs no second step.
    let code = code_at(&owner.totp.as_ref().unwrap().0, unix_now() + 30);
    let mut back = Client::default();
    let answer = attempt(
        &env,
        json!({"email": "o@acme.example", "password": PASSWORD, "code": code}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
    assert_eq!(answer.json()["next"], "ready");
    back.absorb(&answer);
    assert_eq!(
        back.call(&env, Method::GET, "/sites", None).await.status,
        StatusCode::OK
    );
    // The success ended the lock: the password alone works again.
    let later = attempt(
        &env,
        json!({"email": "o@acme.example", "password": PASSWORD}),
    )
    .await;
    assert_eq!(later.status, StatusCode::OK);
    assert_eq!(later.json()["next"], "mfa_code");
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_network() {
    let env = env_with(Options {
        admin_limit: (60, 3),
        ..Options::default()
    })
    .await;
    let client = Client::default();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = client
            .call(
                &env,
                Method::POST,
                "/session",
                Some(json!({"email": "x@example.org", "password": "whatever at all"})),
            )
            .await;
        statuses.push(answer.status);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn mfa_is_mandatory_for_owners_and_codes_cannot_be_replayed() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    user(&env, Some(t), Role::Owner, "o@acme.example").await;
    let mut client = Client::default();
    let answer = client
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": "o@acme.example", "password": PASSWORD})),
        )
        .await;
    client.absorb(&answer);
    assert_eq!(answer.json()["next"], "mfa_enrolment");
    let before = client.cookie.clone();
    // Before enrolling, an owner can do nothing else.
    let sites = client.call(&env, Method::GET, "/sites", None).await;
    assert_eq!(sites.status, StatusCode::FORBIDDEN);
    assert_eq!(sites.code(), "mfa_enrolment_required");
    let recovery = enrol(&env, &mut client).await;
    assert_eq!(recovery.len(), 10);
    assert_ne!(before, client.cookie, "step-up keeps the session id");
    let old = Client {
        cookie: before,
        ..client.clone()
    };
    assert_eq!(
        old.call(&env, Method::GET, "/session", None).await.status,
        StatusCode::UNAUTHORIZED,
        "the pre-step-up session id still works"
    );
    assert_eq!(
        client.call(&env, Method::GET, "/sites", None).await.status,
        StatusCode::OK
    );
    // A new sign-in must give the code; the enrolment code is spent.
    let mut second = Client {
        totp: client.totp.clone(),
        ..Client::default()
    };
    let answer = second
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": "o@acme.example", "password": PASSWORD})),
        )
        .await;
    second.absorb(&answer);
    assert_eq!(answer.json()["next"], "mfa_code");
    assert_eq!(
        second.call(&env, Method::GET, "/sites", None).await.code(),
        "mfa_required"
    );
    let replay = second
        .call(
            &env,
            Method::POST,
            "/session/mfa",
            Some(json!({"code": second.code_now()})),
        )
        .await;
    // The enrolment used this step (or the one before); replaying fails.
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        replay.json()
    );
    assert!(matches!(
        replay.code().as_str(),
        "replayed_code" | "bad_code"
    ));
    // A recovery code works once.
    let recovered = second
        .call(
            &env,
            Method::POST,
            "/session/mfa",
            Some(json!({"code": recovery[0]})),
        )
        .await;
    assert_eq!(recovered.status, StatusCode::OK, "{:?}", recovered.json());
    second.absorb(&recovered);
    assert_eq!(
        second.call(&env, Method::GET, "/sites", None).await.status,
        StatusCode::OK
    );
    let mut third = Client::default();
    let answer = third
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": "o@acme.example", "password": PASSWORD})),
        )
        .await;
    third.absorb(&answer);
    let reused = third
        .call(
            &env,
            Method::POST,
            "/session/mfa",
            Some(json!({"code": recovery[0]})),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changes_need_the_csrf_token_and_our_own_origin() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let body = json!({"name": "x", "origins": []});
    let no_csrf = Client {
        csrf: None,
        ..t.owner.clone()
    };
    let answer = no_csrf
        .call(&env, Method::POST, "/sites", Some(body.clone()))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "csrf");
    let wrong_csrf = Client {
        csrf: Some("AAAA".to_owned()),
        ..t.owner.clone()
    };
    assert_eq!(
        wrong_csrf
            .call(&env, Method::POST, "/sites", Some(body.clone()))
            .await
            .code(),
        "csrf"
    );
    let mut forged = t.owner.request(Method::POST, "/sites", Some(&body));
    forged
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let answer = send(&env.app, forged).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "origin");
    let mut no_origin = t.owner.request(Method::POST, "/sites", Some(&body));
    no_origin.headers_mut().remove(header::ORIGIN);
    assert_eq!(send(&env.app, no_origin).await.code(), "origin");
    // Nothing was created by the refused requests.
    let sites = t.owner.call(&env, Method::GET, "/sites", None).await.json();
    assert_eq!(sites.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn expired_and_ended_sessions_are_refused() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let cookie = t.owner.cookie.clone().unwrap();
    let secret = nexaguard_access::SessionSecret::parse(cookie.split_once('=').unwrap().1).unwrap();
    // Idle for 31 minutes.
    env.admin
        .store()
        .touch_session(
            &secret.hash(),
            OffsetDateTime::now_utc() - time::Duration::minutes(31),
        )
        .await
        .unwrap();
    let answer = t.owner.call(&env, Method::GET, "/sites", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "session_expired");
    // And it is gone for good.
    assert_eq!(
        t.owner.call(&env, Method::GET, "/sites", None).await.code(),
        "unauthenticated"
    );
    // Sign-out ends a session; the cookie is cleared.
    let other = sign_in_again(&env, &t).await;
    let out = other.call(&env, Method::DELETE, "/session", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        other.call(&env, Method::GET, "/sites", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Moves the time the second factor was last given in `client`'s session
/// back by `minutes`, as if that long had passed.
async fn age_second_factor(env: &Env, client: &Client, minutes: i64) {
    let cookie = client.cookie.clone().unwrap();
    let secret = nexaguard_access::SessionSecret::parse(cookie.split_once('=').unwrap().1).unwrap();
    let store = env.admin.store();
    let mut record = store.session(&secret.hash()).await.unwrap().unwrap();
    record.mfa_at = Some(OffsetDateTime::now_utc() - time::Duration::minutes(minutes));
    store
        .create_session(record, Some(secret.hash()))
        .await
        .unwrap();
}

#[tokio::test]
async fn sensitive_actions_need_a_recent_second_factor() {
    let env = env().await;
    let mut t = tenant(&env, "stepup").await;
    let token = json!({"name": "ci", "role": "editor", "expiresInDays": 30});
    // Fresh from enrolment: no step-up.
    let made = t
        .owner
        .call(&env, Method::POST, "/tokens", Some(token.clone()))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.json());
    age_second_factor(&env, &t.owner, 6).await;
    // Ordinary actions go on; sensitive ones ask for the code again.
    let sites = t.owner.call(&env, Method::GET, "/sites", None).await;
    assert_eq!(sites.status, StatusCode::OK);
    for (method, path, body) in [
        (Method::POST, "/tokens".to_owned(), Some(token.clone())),
        (Method::POST, format!("/sites/{}/promotion", t.site), None),
    ] {
        let refused = t.owner.call(&env, method, &path, body).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.code(), "step_up_required", "{path}");
    }
    // A fresh code (the next step's: the enrolment used this one) steps up.
    let code = code_at(&t.owner.totp.as_ref().unwrap().0, unix_now() + 30);
    let stepped = t
        .owner
        .call(
            &env,
            Method::POST,
            "/session/mfa",
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(stepped.status, StatusCode::OK, "{:?}", stepped.json());
    t.owner.absorb(&stepped);
    let made = t
        .owner
        .call(&env, Method::POST, "/tokens", Some(token))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.json());
}

async fn sign_in_again(env: &Env, t: &Tenant) -> Client {
    let mut client = Client {
        totp: t.owner.totp.clone(),
        ..Client::default()
    };
    let answer = client
        .call(
            env,
            Method::POST,
            "/session",
            Some(json!({"email": "owner@acme.example", "password": PASSWORD})),
        )
        .await;
    client.absorb(&answer);
    // The code of the next step: the current one may be spent.
    let code = code_at(&client.totp.as_ref().unwrap().0, unix_now() + 30);
    let verified = client
        .call(
            env,
            Method::POST,
            "/session/mfa",
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.json());
    client.absorb(&verified);
    client
}

#[tokio::test]
async fn session_cookie_is_host_only_secure_strict() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    user(&env, Some(t), Role::Viewer, "v@acme.example").await;
    let answer = Client::default()
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": "v@acme.example", "password": PASSWORD})),
        )
        .await;
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-nexaguard_session="));
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Domain"));
}

#[tokio::test]
async fn nobody_escalates_or_changes_their_own_role() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    user(&env, Some(t.id), Role::Admin, "admin@acme.example").await;
    let admin = sign_in(&env, "admin@acme.example").await;
    let me = admin.call(&env, Method::GET, "/session", None).await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = admin
        .call(
            &env,
            Method::PUT,
            &format!("/users/{me}/role"),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let to_owner = admin
        .call(
            &env,
            Method::PUT,
            &format!("/users/{}/role", t.victim),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(to_owner.status, StatusCode::FORBIDDEN);
    let invite_owner = admin
        .call(
            &env,
            Method::POST,
            "/invitations",
            Some(json!({"email": "boss@acme.example", "role": "owner"})),
        )
        .await;
    assert_eq!(invite_owner.status, StatusCode::FORBIDDEN);
    let operator = admin
        .call(
            &env,
            Method::PUT,
            &format!("/users/{}/role", t.victim),
            Some(json!({"role": "platform_operator"})),
        )
        .await;
    assert_eq!(operator.status, StatusCode::FORBIDDEN);
    // The victim is still a viewer.
    let users = t.owner.call(&env, Method::GET, "/users", None).await.json();
    let victim = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == t.victim.to_string())
        .unwrap();
    assert_eq!(victim["role"], "viewer");
    // What an admin may grant works.
    let ok = admin
        .call(
            &env,
            Method::PUT,
            &format!("/users/{}/role", t.victim),
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn invitation_to_account_to_publish_and_promote_with_a_diff() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let invited = t
        .owner
        .call(
            &env,
            Method::POST,
            "/invitations",
            Some(json!({"email": "pub@acme.example", "role": "publisher"})),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED);
    let secret = invited.json()["invitation"].as_str().unwrap().to_owned();
    let accept = Client::default()
        .call(
            &env,
            Method::POST,
            "/invitations/accept",
            Some(json!({"invitation": secret, "password": PASSWORD})),
        )
        .await;
    assert_eq!(accept.status, StatusCode::CREATED, "{:?}", accept.json());
    assert_eq!(accept.json()["role"], "publisher");
    let again = Client::default()
        .call(
            &env,
            Method::POST,
            "/invitations/accept",
            Some(json!({"invitation": secret, "password": PASSWORD})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let publisher = sign_in(&env, "pub@acme.example").await;
    let preview = publisher
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/promotion", t.site),
            None,
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(!preview.json()["changes"].as_array().unwrap().is_empty());
    let promoted = publisher
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/promotion", t.site),
            None,
        )
        .await;
    assert_eq!(
        promoted.status,
        StatusCode::CREATED,
        "{:?}",
        promoted.json()
    );
    assert_eq!(promoted.json()["publishedVersion"], 1);
    // Promoting the same configuration again changes nothing.
    let twice = publisher
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/promotion", t.site),
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    // The public API serves the promoted configuration at once.
    let site = t
        .owner
        .call(&env, Method::GET, &format!("/sites/{}", t.site), None)
        .await
        .json();
    let key = site["productionKey"].as_str().unwrap();
    let public = send(
        &env.app,
        Request::get(format!("/v1/sites/{key}/config.json"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    // Edit a draft: a stale revision is refused, a fresh one saved.
    let draft = t
        .owner
        .call(&env, Method::GET, &format!("/sites/{}/draft", t.site), None)
        .await
        .json();
    let mut config = draft["config"].clone();
    config["consentLifetimeDays"] = json!(200);
    let stale = t
        .owner
        .call(
            &env,
            Method::PUT,
            &format!("/sites/{}/draft", t.site),
            Some(json!({"revision": 0, "config": config})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let saved = t
        .owner
        .call(
            &env,
            Method::PUT,
            &format!("/sites/{}/draft", t.site),
            Some(json!({"revision": draft["revision"], "config": config})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    // An invalid draft saves with its problems listed and cannot publish.
    config["vendors"] = json!([999_999]);
    let invalid = t
        .owner
        .call(
            &env,
            Method::PUT,
            &format!("/sites/{}/draft", t.site),
            Some(json!({"revision": saved.json()["revision"], "config": config})),
        )
        .await;
    assert_eq!(invalid.json()["validation"]["valid"], false);
    let refused = t
        .owner
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/publish", t.site),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "invalid_config");
    // The whole history verifies and names the promotion.
    let verified = t.owner.call(&env, Method::GET, "/audit/verify", None).await;
    assert_eq!(verified.json()["valid"], true, "{:?}", verified.json());
    let log = t
        .owner
        .call(&env, Method::GET, "/audit?limit=500", None)
        .await
        .json();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "auth.login",
        "mfa.enrol",
        "site.create",
        "config.draft_save",
        "config.publish",
        "config.promote",
        "invitation.create",
        "invitation.accept",
        "token.create",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing in {actions:?}"
        );
    }
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_on_every_route_that_takes_one() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let mut tried = 0;
    for route in routes() {
        let Some(_) = body_for(&route.method, route.path) else {
            continue;
        };
        if matches!(route.access, Access::Permission(p) if !Role::Owner.allows(p)) {
            // The operator's routes; refused before the body is read.
            continue;
        }
        if matches!(
            route.path,
            "/sites/{site}/publish"
                | "/sites/{site}/promotion"
                | "/keys/rotate"
                | "/sites/{site}/webhooks/{webhook}/deliveries/{delivery}/retry"
        ) || route.path == "/mfa/enrolment"
        {
            // These take no body.
            continue;
        }
        let path = fill(route.path, &t);
        let send_raw = |body: Vec<u8>, content_type: &'static str| {
            let mut request = t.owner.request(route.method.clone(), &path, None);
            *request.body_mut() = Body::from(body);
            request
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            send(&env.app, request)
        };
        let broken = send_raw(b"{".to_vec(), "application/json").await;
        assert_eq!(
            broken.status,
            StatusCode::BAD_REQUEST,
            "{} {path}",
            route.method
        );
        assert_eq!(broken.code(), "invalid_json");
        let huge = send_raw(vec![b' '; 300 * 1024], "application/json").await;
        assert_eq!(
            huge.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{} {path}",
            route.method
        );
        let text = send_raw(b"{}".to_vec(), "text/plain").await;
        assert_eq!(
            text.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{} {path}",
            route.method
        );
        if route.path != "/sites/{site}/draft/validate" {
            let unknown = send_raw(b"{\"surprise\": 1}".to_vec(), "application/json").await;
            assert_eq!(
                unknown.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{} {path}: {}",
                route.method,
                String::from_utf8_lossy(&unknown.body)
            );
        }
        tried += 1;
    }
    assert!(tried >= 10, "only {tried} routes");
    // Bad values in well-formed bodies.
    let cases = [
        ("/sites", json!({"name": "", "origins": []}), "bad_name"),
        (
            "/sites",
            json!({"name": "x", "origins": ["javascript:alert(1)"]}),
            "bad_origin",
        ),
        (
            "/invitations",
            json!({"email": "not an address", "role": "viewer"}),
            "bad_email",
        ),
        (
            "/tokens",
            json!({"name": "t", "role": "viewer", "expiresInDays": 0}),
            "bad_expiry",
        ),
        (
            "/tokens",
            json!({"name": "t", "role": "viewer", "expiresInDays": 10_000}),
            "bad_expiry",
        ),
    ];
    for (path, body, code) in cases {
        let answer = t.owner.call(&env, Method::POST, path, Some(body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(answer.code(), code, "{path}");
    }
    // Nothing half-made: still one site.
    let sites = t.owner.call(&env, Method::GET, "/sites", None).await.json();
    assert_eq!(sites.as_array().unwrap().len(), 1);
    // Bad ids and query strings.
    let answer = t
        .owner
        .call(&env, Method::GET, "/sites/not-a-uuid", None)
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = t
        .owner
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/consents?limit=-1", t.site),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_query");
}

#[tokio::test]
async fn weak_passwords_are_refused_and_a_password_change_ends_sessions() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    assert!(env
        .admin
        .create_user_as_system(Some(t), Role::Viewer, "v@acme.example", "short")
        .await
        .is_err());
    user(&env, Some(t), Role::Viewer, "v@acme.example").await;
    let client = sign_in(&env, "v@acme.example").await;
    let weak = client
        .call(
            &env,
            Method::POST,
            "/password",
            Some(json!({"currentPassword": PASSWORD, "newPassword": "tiny"})),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = client
        .call(
            &env,
            Method::POST,
            "/password",
            Some(json!({"currentPassword": PASSWORD, "newPassword": "a much longer passphrase"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        client
            .call(&env, Method::GET, "/session", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_operator_creates_tenants_and_rotates_keys_and_secrets_still_open() {
    let env = env().await;
    user(&env, None, Role::PlatformOperator, "op@example.org").await;
    let operator = sign_in(&env, "op@example.org").await;
    let created = operator
        .call(
            &env,
            Method::POST,
            "/tenants",
            Some(json!({"name": "Gamma", "ownerEmail": "owner@gamma.example"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    let invitation = created.json()["ownerInvitation"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotated = operator
        .call(&env, Method::POST, "/keys/rotate", None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.json());
    assert!(rotated.json()["dataKeys"].as_u64().unwrap() >= 2);
    // The sealed invitation address still opens after rotation.
    let accepted = Client::default()
        .call(
            &env,
            Method::POST,
            "/invitations/accept",
            Some(json!({"invitation": invitation, "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        accepted.status,
        StatusCode::CREATED,
        "{:?}",
        accepted.json()
    );
    assert_eq!(accepted.json()["email"], "owner@gamma.example");
    assert_eq!(accepted.json()["role"], "owner");
    // The operator's chain verifies and holds the rotation.
    let verify = operator
        .call(&env, Method::GET, "/audit/verify", None)
        .await;
    assert_eq!(verify.json()["valid"], true, "{:?}", verify.json());
    // The operator sees no tenant's sites.
    assert_eq!(
        operator
            .call(&env, Method::GET, "/sites", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// Every `$ref` in `value`, wherever it is.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(target)) => out.push(target),
                    _ => refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

/// The routes whose body may be left out: an empty body means defaults.
const OPTIONAL_BODIES: [(&str, &str); 1] = [("POST", "/mfa/enrolment")];

#[tokio::test]
async fn the_openapi_document_describes_every_admin_route_as_the_server_answers_it() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let doc = send(
        &env.app,
        Request::get("/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .json();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "__Host-nexaguard_session");
    assert_eq!(schemes["csrf"]["in"], "header");
    assert_eq!(schemes["csrf"]["name"], "x-csrf-token");
    assert_eq!(schemes["apiToken"]["type"], "http");
    assert_eq!(schemes["apiToken"]["scheme"], "bearer");
    // Every reference, in the paths and in the components, names a
    // schema the document has.
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target} is not a component schema"));
        assert!(schemas.contains_key(name), "{target} does not resolve");
    }
    for route in routes() {
        let path = format!("{PREFIX}{}", route.path);
        let method = route.method.as_str().to_lowercase();
        let operation = &doc["paths"][&path][&method];
        assert!(operation.is_object(), "{method} {path} missing");
        let security = operation["security"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if matches!(route.access, Access::Public) {
            assert_eq!(security, vec![json!({})], "{method} {path}: open to anyone");
        } else {
            let session = if method == "get" {
                json!({"session": []})
            } else {
                json!({"session": [], "csrf": []})
            };
            assert_eq!(
                security,
                vec![json!({"apiToken": []}), session],
                "{method} {path}: a token, or a session (with the CSRF header for changes)"
            );
        }
        // Path parameters: one UUID per placeholder.
        let names: Vec<&str> = path
            .split('/')
            .filter_map(|p| p.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let in_path: Vec<&Value> = params.iter().filter(|p| p["in"] == "path").collect();
        assert_eq!(
            in_path.len(),
            names.len(),
            "{method} {path}: one parameter per placeholder"
        );
        for param in in_path {
            assert!(
                names.contains(&param["name"].as_str().unwrap()),
                "{method} {path}"
            );
            assert_eq!(param["required"], true, "{method} {path}");
            assert_eq!(param["schema"]["type"], "string", "{method} {path}");
            assert_eq!(param["schema"]["format"], "uuid", "{method} {path}");
        }
        // Query parameters where the handler reads a query, and none else.
        let in_query: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let expected: &[&str] = match route.path {
            "/sites/{site}/consents" | "/sites/{site}/stats" | "/sites/{site}/consents/export" => {
                &[
                    "environment",
                    "token",
                    "eventId",
                    "from",
                    "to",
                    "limit",
                    "format",
                ]
            }
            "/sites/{site}/webhooks/{webhook}/deliveries" => &["status", "limit"],
            "/audit" => &["after", "limit"],
            _ => &[],
        };
        assert_eq!(in_query, expected, "{method} {path}: query parameters");
        // The success answer, with its schema, and nothing blanket.
        let responses = operation["responses"].as_object().unwrap();
        for status in responses.keys() {
            assert!(
                status.parse::<u16>().is_ok(),
                "{method} {path}: {status} is not one status"
            );
        }
        let success = &responses[&route.doc.status.to_string()];
        let successes = responses
            .keys()
            .filter(|status| status.starts_with('2'))
            .count();
        assert_eq!(successes, 1, "{method} {path}: one success status");
        if route.doc.status == 204 {
            assert!(success["content"].is_null(), "{method} {path}");
        } else {
            let content = success["content"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path}: the success answer has no content"));
            assert!(!content.is_empty(), "{method} {path}");
            for (media_type, body) in content {
                assert!(
                    body["schema"].is_object(),
                    "{method} {path}: {media_type} without a schema"
                );
            }
            if !path.ends_with("/export") {
                let schema = &content["application/json"]["schema"];
                assert!(
                    schema["$ref"].is_string() || schema["items"]["$ref"].is_string(),
                    "{method} {path}: the answer's schema is a named component"
                );
            }
        }
        // Every refusal in the error shape, with the statuses the guard
        // gives for the route's access.
        for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path}: {status}"
            );
        }
        let declares = |status: &str| responses.contains_key(status);
        match route.access {
            Access::Public => assert!(declares("429"), "{method} {path}: rate limited"),
            Access::SignedIn | Access::Permission(_) => {
                assert!(declares("401") && declares("403"), "{method} {path}")
            }
        }
        if !names.is_empty() {
            assert!(declares("404"), "{method} {path}: ids that name nothing");
        }
        // The body: required, with its schema and required fields, exactly
        // where the server reads one.
        let body = &operation["requestBody"];
        let optional = OPTIONAL_BODIES.contains(&(route.method.as_str(), route.path));
        if body.is_null() {
            assert!(!optional, "{method} {path}: the optional body is missing");
        } else {
            let schema = &body["content"]["application/json"]["schema"];
            assert!(
                schema["$ref"].is_string(),
                "{method} {path}: the body's schema is not a named component"
            );
            assert_eq!(body["required"], !optional, "{method} {path}");
            for status in ["400", "413", "415", "422"] {
                assert!(declares(status), "{method} {path}: {status} for bad bodies");
            }
        }
        // What the server does agrees: a route with a required body
        // refuses a request without one (415), a route without a body
        // never answers 415.
        if matches!(route.access, Access::Permission(p) if !Role::Owner.allows(p)) {
            continue; // The operator's: refused before the body.
        }
        if route.method == Method::GET || route.method == Method::DELETE {
            assert!(body.is_null(), "{method} {path}: a body on a {method}");
            continue;
        }
        let mut request = t
            .owner
            .request(route.method.clone(), &fill(route.path, &t), None);
        *request.body_mut() = Body::from("x");
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        let answer = send(&env.app, request).await;
        assert_eq!(
            answer.status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
            !body.is_null(),
            "{method} {path}: {} {}",
            answer.status,
            answer.text()
        );
        // The fields the server requires are the schema's required ones:
        // an empty object is refused naming the first, or not for that.
        let Some(name) = body["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        else {
            continue;
        };
        let component = &schemas[name];
        // A schema that adds alternatives (the token's) lists its fields
        // in its first part.
        let object = if component["allOf"].is_array() {
            &component["allOf"][0]
        } else {
            component
        };
        let required: Vec<&str> = object["required"]
            .as_array()
            .map(|r| r.iter().map(|f| f.as_str().unwrap()).collect())
            .unwrap_or_default();
        let answer = t
            .owner
            .call(
                &env,
                route.method.clone(),
                &fill(route.path, &t),
                Some(json!({})),
            )
            .await;
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match message
            .strip_prefix("the field `")
            .and_then(|rest| rest.strip_suffix("` is required"))
        {
            Some(field) => assert!(
                required.contains(&field),
                "{method} {path}: the server requires `{field}`, {name} lists {required:?}"
            ),
            None => assert!(
                required.is_empty(),
                "{method} {path}: {name} requires {required:?}, the server took {{}}: {} {}",
                answer.status,
                answer.text()
            ),
        }
    }
}

#[tokio::test]
async fn a_method_a_path_does_not_have_is_refused_in_the_error_shape_with_allow() {
    let env = env().await;
    let client = Client::default();
    for (method, path, allow) in [
        (Method::PUT, "/session", "GET,POST,DELETE"),
        (
            Method::GET,
            "/tokens/00000000-0000-0000-0000-000000000000",
            "DELETE",
        ),
        (Method::PATCH, "/sites", "GET,POST"),
    ] {
        let answer = client
            .call(&env, method.clone(), path, Some(json!({"x": 1})))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(answer.code(), "method_not_allowed", "{method} {path}");
        let allowed: Vec<&str> = answer.headers[header::ALLOW]
            .to_str()
            .unwrap()
            .split(',')
            .map(str::trim)
            .collect();
        let mut expected: Vec<&str> = allow.split(',').collect();
        if expected.contains(&"GET") {
            expected.push("HEAD");
        }
        for method in &expected {
            assert!(allowed.contains(method), "{path}: {allowed:?}");
        }
        assert_eq!(allowed.len(), expected.len(), "{path}: {allowed:?}");
    }
}

fn consent_event(site_key: &str, purposes: &[u32], country_hint: &str) -> Value {
    json!({
        "eventId": Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": site_key,
        "environment": "production",
        "configVersion": 1,
        "timestamp": OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
        "action": if purposes.is_empty() { "reject_all" } else { "custom" },
        "source": "banner",
        "consentMode": {
            "ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
            "analytics_storage": "denied", "functionality_storage": "denied",
            "personalization_storage": "denied", "security_storage": "granted"
        },
        "purposes": [],
        "customPurposes": purposes.iter().map(|_| country_hint).collect::<Vec<_>>(),
        "vendors": [],
        "customVendors": [],
        "language": "en",
        "sdkVersion": "test"
    })
}

#[tokio::test]
async fn analysts_search_export_and_count_consent_records() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    // An opt-in site (no TCF string needed), published to production.
    let opt_in: Value = serde_json::from_str(include_str!("fixtures/opt-in-site.json")).unwrap();
    let draft = t
        .owner
        .call(&env, Method::GET, &format!("/sites/{}/draft", t.site), None)
        .await
        .json();
    let saved = t
        .owner
        .call(
            &env,
            Method::PUT,
            &format!("/sites/{}/draft", t.site),
            Some(json!({"revision": draft["revision"], "config": opt_in.clone()})),
        )
        .await;
    assert_eq!(
        saved.json()["validation"]["valid"],
        true,
        "{:?}",
        saved.json()
    );
    t.owner
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/publish", t.site),
            None,
        )
        .await;
    let promoted = t
        .owner
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/promotion", t.site),
            None,
        )
        .await;
    assert_eq!(
        promoted.status,
        StatusCode::CREATED,
        "{:?}",
        promoted.json()
    );
    let site = t
        .owner
        .call(&env, Method::GET, &format!("/sites/{}", t.site), None)
        .await
        .json();
    let key = site["productionKey"].as_str().unwrap().to_owned();
    let custom = opt_in["customPurposes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut receipts = Vec::new();
    for granted in [true, true, false] {
        let mut event = consent_event(&key, if granted { &[1] } else { &[] }, &custom);
        if !granted {
            event["customPurposes"] = json!([]);
        }
        let answer = send(
            &env.app,
            Request::post("/v1/consents")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ORIGIN, "https://shop.example")
                .body(Body::from(event.to_string()))
                .unwrap(),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        receipts.push(answer.json());
    }
    user(&env, Some(t.id), Role::Analyst, "analyst@acme.example").await;
    let analyst = sign_in(&env, "analyst@acme.example").await;
    let all = analyst
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/consents", t.site),
            None,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.json());
    assert_eq!(all.json().as_array().unwrap().len(), 3);
    let token = receipts[0]["consentToken"].as_str().unwrap();
    let by_token = analyst
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/consents?token={token}", t.site),
            None,
        )
        .await
        .json();
    assert_eq!(by_token.as_array().unwrap().len(), 1);
    assert_eq!(by_token[0]["eventId"], receipts[0]["eventId"]);
    // Staging has none: environments never mix.
    let staging = analyst
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/consents?environment=staging", t.site),
            None,
        )
        .await
        .json();
    assert!(staging.as_array().unwrap().is_empty());
    let stats = analyst
        .call(&env, Method::GET, &format!("/sites/{}/stats", t.site), None)
        .await
        .json();
    assert_eq!(stats["events"], 3);
    assert_eq!(stats["perCustomPurpose"][&custom]["optIns"], 2);
    assert_eq!(stats["perAction"]["reject_all"], 1);
    let csv = analyst
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/consents/export?format=csv", t.site),
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.starts_with("event_id,recorded_at"));
    let jsonl = analyst
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/consents/export", t.site),
            None,
        )
        .await;
    let lines: Vec<Value> = String::from_utf8(jsonl.body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    // Exports are audited.
    let log = t
        .owner
        .call(&env, Method::GET, "/audit?limit=500", None)
        .await
        .json();
    let exports = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "consents.export")
        .count();
    assert_eq!(exports, 2);
}

#[tokio::test]
async fn the_demo_is_made_once_through_the_admin_service_and_audited() {
    use nexaguard_audit::{Action, Actor, ChainId};
    use nexaguard_consent::Environment;
    let env = env().await;
    let gvl = nexaguard_server::gvl_source::sample().unwrap();
    let public = common::test_origins();
    let ensure =
        || nexaguard_server::demo::ensure(env.store.as_ref(), &env.admin, &gvl.gvl, &public);
    let site = ensure().await.unwrap().unwrap();
    assert_eq!(site.name, nexaguard_server::demo::DEMO_SITE_NAME);
    let origins: Vec<String> = public.iter().map(|o| o.url()).collect();
    assert_eq!(site.origins, origins);
    // Both environments serve the demo configuration.
    let configs = env.store.latest_configs().await.unwrap();
    let demo: Value = serde_json::from_str(nexaguard_server::demo::DEMO_CONFIG).unwrap();
    for environment in Environment::ALL {
        let config = configs
            .iter()
            .find(|c| c.site_id == site.id && c.environment == environment)
            .unwrap_or_else(|| panic!("nothing published to {environment:?}: {configs:?}"));
        assert_eq!(config.version, 1);
        assert_eq!(
            serde_json::from_str::<Value>(&config.config_json).unwrap(),
            demo
        );
    }
    // Every step has its entry, by the system: the tenant in the
    // platform's chain, the site and its publication in the tenant's.
    let audit = env.admin.store();
    let actions = |entries: Vec<nexaguard_audit::AuditEntry>| {
        entries
            .into_iter()
            .inspect(|e| assert_eq!(e.event.actor, Actor::System, "{e:?}"))
            .map(|e| e.event.action)
            .collect::<Vec<_>>()
    };
    let platform = audit
        .audit_entries(ChainId::Platform, 0, 1000)
        .await
        .unwrap();
    let platform = actions(platform);
    assert_eq!(
        platform
            .iter()
            .filter(|a| **a == Action::TenantCreated)
            .count(),
        1,
        "{platform:?}"
    );
    let tenant = audit
        .audit_entries(ChainId::Tenant(site.tenant_id.0), 0, 1000)
        .await
        .unwrap();
    assert_eq!(
        actions(tenant),
        [
            Action::SiteCreated,
            Action::DraftSaved,
            Action::Published,
            Action::Promoted
        ]
    );
    // A later start finds the demo and makes nothing.
    assert_eq!(ensure().await.unwrap(), Some(site));
    assert_eq!(env.store.tenants().await.unwrap().len(), 1);
    assert_eq!(env.store.latest_configs().await.unwrap(), configs);
}

#[tokio::test]
async fn the_demo_owner_is_made_once_and_can_sign_in() {
    let env = env().await;
    let seed = Seed(&env.admin);
    let tenant = seed.tenant("Demo").await;
    let site = seed
        .site(tenant.id, "demo", &["https://localhost:8443"])
        .await;
    let (email, password) = nexaguard_server::demo::ensure_owner(&env.admin, &site)
        .await
        .unwrap()
        .unwrap();
    assert!(password.len() >= 20);
    assert!(nexaguard_server::demo::ensure_owner(&env.admin, &site)
        .await
        .unwrap()
        .is_none());
    let answer = Client::default()
        .call(
            &env,
            Method::POST,
            "/session",
            Some(json!({"email": email, "password": password})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["next"], "mfa_enrolment");
}

// ---- what a black-box security review found (issue 13) ------------------

/// An owner signed in with a second factor; returns the client and the
/// recovery codes.
async fn enrolled_owner(env: &Env, tenant: TenantId, email: &str) -> (Client, Vec<String>) {
    user(env, Some(tenant), Role::Owner, email).await;
    let mut client = Client::default();
    let answer = attempt(env, json!({"email": email, "password": PASSWORD})).await;
    client.absorb(&answer);
    let recovery = enrol(env, &mut client).await;
    (client, recovery)
}

#[tokio::test]
async fn a_stolen_session_cannot_replace_the_second_factor() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    let (mut owner, recovery) = enrolled_owner(&env, t, "o@acme.example").await;
    // A second session of the same user, e.g. on another computer.
    let mut elsewhere = Client {
        totp: owner.totp.clone(),
        ..Client::default()
    };
    let answer = attempt(
        &env,
        json!({"email": "o@acme.example", "password": PASSWORD, "code": code_at(&owner.totp.as_ref().unwrap().0, unix_now() + 30)}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
    elsewhere.absorb(&answer);
    age_second_factor(&env, &owner, 6).await;

    // The session alone, or with a wrong password or code, gets nothing.
    let bare = owner.call(&env, Method::POST, "/mfa/enrolment", None).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN, "{:?}", bare.json());
    assert_eq!(bare.code(), "reauthentication_required");
    let wrong_password = owner
        .call(
            &env,
            Method::POST,
            "/mfa/enrolment",
            Some(json!({"password": "not the password", "code": recovery[0]})),
        )
        .await;
    assert_eq!(wrong_password.code(), "bad_credentials");
    let wrong_code = owner
        .call(
            &env,
            Method::POST,
            "/mfa/enrolment",
            Some(json!({"password": PASSWORD, "code": "000000"})),
        )
        .await;
    assert_eq!(wrong_code.code(), "bad_code");
    // Nothing was offered, so nothing can be confirmed.
    let confirm = owner
        .call(
            &env,
            Method::POST,
            "/mfa/enrolment/confirm",
            Some(json!({"code": "123456"})),
        )
        .await;
    assert_eq!(confirm.code(), "no_enrolment");

    // With the password and a recovery code, the owner replaces it.
    let started = owner
        .call(
            &env,
            Method::POST,
            "/mfa/enrolment",
            Some(json!({"password": PASSWORD, "code": recovery[1]})),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.json());
    let old_secret = owner.totp.clone().unwrap();
    let new_secret = common::decode_base32(started.json()["secret"].as_str().unwrap());
    let confirmed = owner
        .call(
            &env,
            Method::POST,
            "/mfa/enrolment/confirm",
            Some(json!({"code": code_at(&new_secret, unix_now())})),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{:?}", confirmed.json());
    owner.absorb(&confirmed);
    owner.totp = Some(common::TotpSecretBytes(new_secret));
    // Every other session ended; this one goes on.
    assert_eq!(
        elsewhere
            .call(&env, Method::GET, "/sites", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        owner.call(&env, Method::GET, "/sites", None).await.status,
        StatusCode::OK
    );
    // The old secret's codes no longer sign in.
    let old = attempt(
        &env,
        json!({"email": "o@acme.example", "password": PASSWORD, "code": code_at(&old_secret.0, unix_now() + 30)}),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    // Audited as a reset, not as a first enrolment.
    let audit = owner
        .call(&env, Method::GET, "/audit?limit=200", None)
        .await;
    let actions: Vec<String> = audit
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(actions.iter().any(|a| a == "mfa.reset"), "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "mfa.enrol").count(), 1);
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_password_through_the_password_change() {
    let env = env().await;
    let t = Seed(&env.admin).tenant("acme").await.id;
    let (mut owner, recovery) = enrolled_owner(&env, t, "o@acme.example").await;
    let change = |current: &str| json!({"currentPassword": current, "newPassword": "a brand new long password"});
    // Outside the step-up window the session must give its factor again.
    age_second_factor(&env, &owner, 6).await;
    let stale = owner
        .call(&env, Method::POST, "/password", Some(change(PASSWORD)))
        .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(stale.code(), "step_up_required");
    let stepped = owner
        .call(
            &env,
            Method::POST,
            "/session/mfa",
            Some(json!({"code": recovery[0]})),
        )
        .await;
    assert_eq!(stepped.status, StatusCode::OK);
    owner.absorb(&stepped);
    // Wrong current passwords lock the account as at sign-in.
    for _ in 0..5 {
        let wrong = owner
            .call(
                &env,
                Method::POST,
                "/password",
                Some(change("a guess, wrong")),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let locked = owner
        .call(&env, Method::POST, "/password", Some(change(PASSWORD)))
        .await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        locked.json()
    );
    assert_eq!(locked.code(), "locked");
    let user = env
        .admin
        .store()
        .users_by_email_index(
            &env.admin
                .keys()
                .email_index("o@acme.example")
                .await
                .unwrap(),
        )
        .await
        .unwrap()
        .remove(0);
    assert!(nexaguard_access::verify_password(
        PASSWORD,
        &user.password_hash
    ));
}

/// Creates a token as `client`; returns the answer.
async fn make_token(env: &Env, client: &Client, body: Value) -> common::Answer {
    client.call(env, Method::POST, "/tokens", Some(body)).await
}

fn bearer(answer: &common::Answer) -> Client {
    Client {
        bearer: Some(answer.json()["secret"].as_str().unwrap().to_owned()),
        ..Client::default()
    }
}

#[tokio::test]
async fn a_token_cannot_mint_a_stronger_or_longer_lived_token_or_outlive_its_parent() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let parent = make_token(
        &env,
        &t.owner,
        json!({"name": "deployer", "role": "admin", "expiresInDays": 30, "stepUpScopes": ["manage_tokens"]}),
    )
    .await;
    assert_eq!(parent.status, StatusCode::CREATED, "{:?}", parent.json());
    assert_eq!(parent.json()["stepUpScopes"], json!(["manage_tokens"]));
    let parent_id = parent.json()["id"].as_str().unwrap().to_owned();
    let parent = bearer(&parent);
    // Not longer than itself.
    let longer = make_token(
        &env,
        &parent,
        json!({"name": "x", "role": "admin", "expiresInDays": 365}),
    )
    .await;
    // The request is well-formed; the parent's own expiry stands in the
    // way: a conflict.
    assert_eq!(longer.status, StatusCode::CONFLICT);
    assert_eq!(longer.code(), "bad_expiry");
    // Not with a step-up scope it does not hold.
    let stronger = make_token(
        &env,
        &parent,
        json!({"name": "x", "role": "admin", "expiresInDays": 10, "stepUpScopes": ["manage_users"]}),
    )
    .await;
    assert_eq!(stronger.status, StatusCode::FORBIDDEN);
    assert_eq!(stronger.code(), "scope_required");
    // Not as owner.
    let owner = make_token(
        &env,
        &parent,
        json!({"name": "x", "role": "owner", "expiresInDays": 10}),
    )
    .await;
    assert!(owner.status.is_client_error());
    assert_ne!(owner.status, StatusCode::CREATED);
    // Within its bounds it may, and the child records its parent.
    let child = make_token(
        &env,
        &parent,
        json!({"name": "job", "role": "editor", "expiresInDays": 10}),
    )
    .await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.json());
    assert_eq!(child.json()["parent"], json!(parent_id));
    let child = bearer(&child);
    // A token without the scope cannot make tokens at all.
    let unscoped = make_token(
        &env,
        &child,
        json!({"name": "x", "role": "viewer", "expiresInDays": 1}),
    )
    .await;
    assert_eq!(unscoped.status, StatusCode::FORBIDDEN);
    // Revoking the parent revokes what it made.
    let revoked = t
        .owner
        .call(&env, Method::DELETE, &format!("/tokens/{parent_id}"), None)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = child.call(&env, Method::GET, "/sites", None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), "token_revoked");
}

#[tokio::test]
async fn a_token_needs_an_explicit_scope_for_what_a_session_must_step_up_for() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let plain = make_token(
        &env,
        &t.owner,
        json!({"name": "ci", "role": "admin", "expiresInDays": 30}),
    )
    .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{:?}", plain.json());
    let plain = bearer(&plain);
    let promotion = format!("/sites/{}/promotion", t.site);
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/users/{}/role", t.victim),
            Some(json!({"role": "editor"})),
        ),
        (Method::DELETE, format!("/users/{}", t.victim), None),
        (Method::POST, promotion.clone(), None),
        (
            Method::POST,
            "/tokens".to_owned(),
            Some(json!({"name": "x", "role": "viewer", "expiresInDays": 1})),
        ),
    ] {
        let refused = plain.call(&env, method, &path, body).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(refused.code(), "scope_required", "{path}");
    }
    // Ordinary admin work goes on.
    assert_eq!(
        plain.call(&env, Method::GET, "/users", None).await.status,
        StatusCode::OK
    );
    // A token made for promotion may promote, and only that.
    let promoter = make_token(
        &env,
        &t.owner,
        json!({"name": "release", "role": "publisher", "expiresInDays": 30, "stepUpScopes": ["promote_production"]}),
    )
    .await;
    assert_eq!(
        promoter.status,
        StatusCode::CREATED,
        "{:?}",
        promoter.json()
    );
    let promoter = bearer(&promoter);
    let promoted = promoter.call(&env, Method::POST, &promotion, None).await;
    assert_eq!(
        promoted.status,
        StatusCode::CREATED,
        "{:?}",
        promoted.json()
    );
    // A scope outside the token's role is refused at creation.
    let odd = make_token(
        &env,
        &t.owner,
        json!({"name": "x", "role": "viewer", "expiresInDays": 1, "stepUpScopes": ["promote_production"]}),
    )
    .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(odd.code(), "bad_scope");
}

#[tokio::test]
async fn a_publisher_without_a_second_factor_cannot_promote_to_production() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    user(&env, Some(t.id), Role::Publisher, "p@acme.example").await;
    let mut publisher = Client::default();
    let answer = attempt(
        &env,
        json!({"email": "p@acme.example", "password": PASSWORD}),
    )
    .await;
    publisher.absorb(&answer);
    assert_eq!(answer.json()["next"], "mfa_enrolment");
    let refused = publisher
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/promotion", t.site),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "mfa_enrolment_required");
    enrol(&env, &mut publisher).await;
    let promoted = publisher
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/promotion", t.site),
            None,
        )
        .await;
    assert_eq!(
        promoted.status,
        StatusCode::CREATED,
        "{:?}",
        promoted.json()
    );
}

/// Invites `email` as a viewer as `inviter` and, if the invitation is
/// made, accepts it with `password`; returns both answers.
async fn invite_and_accept(
    env: &Env,
    inviter: &Client,
    email: &str,
    password: &str,
) -> (common::Answer, Option<common::Answer>) {
    let invited = inviter
        .call(
            env,
            Method::POST,
            "/invitations",
            Some(json!({"email": email, "role": "viewer"})),
        )
        .await;
    let Some(secret) = invited.json()["invitation"].as_str().map(str::to_owned) else {
        return (invited, None);
    };
    let accepted = Client::default()
        .call(
            env,
            Method::POST,
            "/invitations/accept",
            Some(json!({"invitation": secret, "password": password})),
        )
        .await;
    (invited, Some(accepted))
}

#[tokio::test]
async fn an_invitation_does_not_reveal_accounts_in_other_tenants() {
    let env = env().await;
    let alpha = tenant(&env, "alpha").await;
    let beta = tenant(&env, "beta").await;
    // The operator's address too: accounts outside the tenant are all
    // alike to the inviter.
    user(&env, None, Role::PlatformOperator, "op@example.org").await;
    let (fresh_invited, fresh_accepted) =
        invite_and_accept(&env, &alpha.owner, "fresh@example.org", PASSWORD).await;
    let fresh_accepted = fresh_accepted.unwrap();
    for taken in ["owner@beta.example", "op@example.org"] {
        let (invited, accepted) =
            invite_and_accept(&env, &alpha.owner, taken, "alpha's own password").await;
        let accepted = accepted.unwrap();
        assert_eq!(invited.status, fresh_invited.status, "{taken}");
        assert_eq!(
            accepted.status,
            fresh_accepted.status,
            "{taken}: {:?}",
            accepted.json()
        );
        let shape = |a: &common::Answer| {
            let mut keys: Vec<String> = a.json().as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(shape(&accepted), shape(&fresh_accepted));
        assert_eq!(accepted.json()["role"], "viewer");
    }
    // The address signs in to the account its password belongs to.
    let who = |answer: &common::Answer| {
        let mut client = Client::default();
        client.absorb(answer);
        client
    };
    let to_alpha = attempt(
        &env,
        json!({"email": "owner@beta.example", "password": "alpha's own password"}),
    )
    .await;
    assert_eq!(to_alpha.status, StatusCode::OK, "{:?}", to_alpha.json());
    let me = who(&to_alpha)
        .call(&env, Method::GET, "/session", None)
        .await;
    assert_eq!(me.json()["tenant"], json!(alpha.id.0));
    assert_eq!(me.json()["role"], "viewer");
    let to_beta = attempt(
        &env,
        json!({"email": "owner@beta.example", "password": PASSWORD}),
    )
    .await;
    let me = who(&to_beta)
        .call(&env, Method::GET, "/session", None)
        .await;
    assert_eq!(me.json()["tenant"], json!(beta.id.0));
    // Inside the inviter's own tenant a taken address is still a conflict.
    let (again, _) = invite_and_accept(&env, &alpha.owner, "fresh@example.org", "x").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("in this tenant"));
}

#[tokio::test]
async fn addresses_with_markup_or_line_breaks_are_never_stored() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    for bad in [
        "\"<img src=x onerror=alert(1)>\"@acme.example",
        "a\r\nX-Injected: 1@acme.example",
        "a\u{0}b@acme.example",
    ] {
        let answer = t
            .owner
            .call(
                &env,
                Method::POST,
                "/invitations",
                Some(json!({"email": bad, "role": "viewer"})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert_eq!(answer.code(), "bad_email", "{bad:?}");
    }
    // A good address is kept trimmed, its domain in lower case.
    let (invited, accepted) =
        invite_and_accept(&env, &t.owner, "  New.Person@ACME.Example ", PASSWORD).await;
    assert_eq!(invited.status, StatusCode::CREATED);
    let accepted = accepted.unwrap();
    assert_eq!(accepted.json()["email"], "New.Person@acme.example");
}

#[tokio::test]
async fn a_bad_query_parameter_is_named_without_parser_internals() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    let answer = t
        .owner
        .call(&env, Method::GET, "/audit?limit=many", None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_query");
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("limit"), "{message}");
    assert!(!message.contains("Failed to deserialize"), "{message}");
    assert!(
        !message.contains("u32") && !message.contains("usize"),
        "{message}"
    );
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_answers_json_without_parser_internals() {
    let env = env().await;
    let t = tenant(&env, "acme").await;
    for path in ["/sites/%FF", "/sites/%FF/webhooks/%C3%28"] {
        let answer = t.owner.call(&env, Method::GET, path, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.code(), "not_found", "{path}: {}", answer.text());
        assert!(!answer.text().contains("UTF-8"), "{}", answer.text());
    }
    let public = send(
        &env.app,
        Request::get("/v1/sites/%FF/config.json")
            .header(header::HOST, common::HOST)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    assert_eq!(public.code(), "not_found", "{}", public.text());
}
