//! What the admin API lets into a site configuration's URL fields, and how
//! it words refusals of request bodies, end to end in process: the real
//! router on a real SQLite store, an owner signed in with real TOTP codes
//! (set-up in `common`).
//!
//! A configuration's URLs reach every visitor's browser through
//! `config.json` as link targets, so a refused URL must stop publishing,
//! not only be listed as a problem.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{env, send, sign_in, user, Client, Env, Seed};
use nexaguard_access::Role;
use serde_json::{json, Value};
use uuid::Uuid;

const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");

/// An owner signed in (TOTP enrolled) with a site of their tenant.
async fn owner_with_site(env: &Env) -> (Client, Uuid) {
    let tenant = Seed(&env.admin).tenant("acme").await.id;
    user(env, Some(tenant), Role::Owner, "owner@acme.example").await;
    let owner = sign_in(env, "owner@acme.example").await;
    let site = owner
        .call(
            env,
            Method::POST,
            "/sites",
            Some(json!({"name": "Shop", "origins": ["https://shop.example"]})),
        )
        .await;
    assert_eq!(site.status, StatusCode::CREATED, "{:?}", site.json());
    let id = Uuid::parse_str(site.json()["id"].as_str().unwrap()).unwrap();
    (owner, id)
}

/// The opt-in fixture with `url` as a custom vendor's privacy policy.
fn config_with_vendor_policy(url: &str) -> Value {
    let mut config: Value = serde_json::from_str(OPT_IN_CONFIG).unwrap();
    config["customVendors"] = json!([
        {"id": "chat", "name": "Chat", "purposes": [], "privacyPolicyUrl": url}
    ]);
    config
}

#[tokio::test]
async fn a_javascript_privacy_policy_url_is_a_finding_and_cannot_be_published() {
    let env = env().await;
    let (owner, site) = owner_with_site(&env).await;
    let saved = owner
        .call(
            &env,
            Method::PUT,
            &format!("/sites/{site}/draft"),
            Some(json!({
                "revision": 0,
                "config": config_with_vendor_policy("javascript:alert(1)"),
            })),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.json());
    let validation = &saved.json()["validation"];
    assert_eq!(validation["valid"], false, "{validation}");
    let paths: Vec<&str> = validation["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["customVendors[0].privacyPolicyUrl"], "{validation}");
    let refused = owner
        .call(&env, Method::POST, &format!("/sites/{site}/publish"), None)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "invalid_config");
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("privacyPolicyUrl"),
        "{:?}",
        refused.json()
    );
    // The same check answers before saving, for the editor.
    for url in [
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://shop.example/privacy",
        "https://shop.example\\@evil.example/",
    ] {
        let checked = owner
            .call(
                &env,
                Method::POST,
                &format!("/sites/{site}/draft/validate"),
                Some(config_with_vendor_policy(url)),
            )
            .await;
        assert_eq!(checked.status, StatusCode::OK, "{:?}", checked.json());
        assert_eq!(checked.json()["valid"], false, "{url:?}");
    }
    // An https URL saves valid and publishes.
    let fixed = owner
        .call(
            &env,
            Method::PUT,
            &format!("/sites/{site}/draft"),
            Some(json!({
                "revision": saved.json()["revision"],
                "config": config_with_vendor_policy("https://chat.example/privacy"),
            })),
        )
        .await;
    assert_eq!(
        fixed.json()["validation"]["valid"],
        true,
        "{:?}",
        fixed.json()
    );
    let published = owner
        .call(&env, Method::POST, &format!("/sites/{site}/publish"), None)
        .await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{:?}",
        published.json()
    );
}

#[tokio::test]
async fn a_body_field_of_the_wrong_type_is_named_without_parser_internals() {
    let env = env().await;
    let (owner, site) = owner_with_site(&env).await;
    for (method, path, body, field) in [
        (
            Method::PUT,
            format!("/sites/{site}/draft"),
            json!({"revision": "zero", "config": {}}),
            "`revision`",
        ),
        (
            Method::POST,
            format!("/sites/{site}/webhooks"),
            json!({"url": 5}),
            "`url`",
        ),
        (
            Method::POST,
            format!("/sites/{site}/webhooks"),
            json!({"url": "https://hooks.example.com/", "enabled": "yes"}),
            "`enabled`",
        ),
        (
            Method::POST,
            format!("/sites/{site}/webhooks"),
            json!({"url": "https://hooks.example.com/", "secret": "mine"}),
            "`secret`",
        ),
        (
            Method::POST,
            format!("/sites/{site}/webhooks"),
            json!({"enabled": true}),
            "`url`",
        ),
    ] {
        let answer = owner.call(&env, method, &path, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.code(), "invalid_request", "{body}");
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(field), "{body}: {message}");
        for internal in [
            "line 1",
            "column",
            "Failed to deserialize",
            "u32",
            "struct",
            "Request",
            "::",
        ] {
            assert!(
                !message.contains(internal),
                "{body}: {message:?} shows {internal:?}"
            );
        }
    }
    // Broken JSON still says where, in words.
    let mut request = owner.request(Method::POST, &format!("/sites/{site}/webhooks"), None);
    *request.body_mut() = Body::from("{\"url\": }");
    request
        .headers_mut()
        .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    let broken = send(&env.app, request).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.code(), "invalid_json");
    let message = broken.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("column 9"), "{message}");
    assert!(!message.contains("Failed to deserialize"), "{message}");
    // The public consent endpoint reads its bodies the same way.
    let event = send(
        &env.app,
        Request::post("/v1/consents")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, "https://shop.example")
            .body(Body::from(r#"{"eventId": 7}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(event.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(event.code(), "invalid_event");
    let message = event.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("`eventId`"), "{message}");
    assert!(!message.contains("line 1"), "{message}");
}
