//! Webhooks end to end, in process: the real router and delivery worker on
//! a real SQLite store and key ring in a temporary directory, delivering
//! to a receiver on loopback that checks signatures with the secret shown
//! at creation. Set-up shared with `admin.rs` (in `common`); an admin API
//! token does the admin calls.
//!
//! Waiting for the worker polls the deliveries API until a condition holds
//! (bounded by a generous deadline that only a broken worker reaches);
//! nothing asserts how fast anything is.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use common::{send, sign_in, user, Client, Env, Options, Seed, HOST, ORIGIN};
use hmac::{Hmac, Mac};
use nexaguard_access::Role;
use nexaguard_server::admin::PREFIX;
use nexaguard_server::webhooks::WebhookSettings;
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

const SITE_ORIGIN: &str = "https://shop.example";
const OPT_IN_CONFIG: &str = include_str!("fixtures/opt-in-site.json");

/// How long a test waits for the worker before it calls it broken.
const PATIENCE: Duration = Duration::from_secs(30);

/// A fast schedule: 3 attempts, 50 ms then 100 ms apart (before jitter).
fn fast() -> WebhookSettings {
    WebhookSettings {
        poll_every: Duration::from_millis(20),
        batch: 8,
        lease: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        max_attempts: 3,
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(200),
        allow_loopback: true,
    }
}

/// The server; with a worker on `settings` (`None`: production URL rules
/// and no worker).
async fn env(settings: Option<WebhookSettings>) -> Env {
    common::env_with(Options {
        webhooks: settings,
        ..Options::default()
    })
    .await
}

/// A tenant whose owner signed in (enrolling TOTP), published an opt-in
/// site to production, and made an admin API token for the webhook calls.
/// The owner's fresh session, not the token, publishes and promotes: the
/// second factor it just gave is what promotion asks for.
struct Tenant {
    admin: Client,
    site: Uuid,
    site_key: String,
}

async fn tenant(env: &Env) -> Tenant {
    let id = Seed(&env.admin).tenant("acme").await.id;
    user(env, Some(id), Role::Owner, "owner@acme.example").await;
    let owner = sign_in(env, "owner@acme.example").await;
    let site = owner
        .call(
            env,
            Method::POST,
            "/sites",
            Some(json!({"name": "Shop", "origins": [SITE_ORIGIN]})),
        )
        .await;
    assert_eq!(site.status, StatusCode::CREATED, "{:?}", site.json());
    let site_key = site.json()["productionKey"].as_str().unwrap().to_owned();
    let site = Uuid::parse_str(site.json()["id"].as_str().unwrap()).unwrap();
    let config: Value = serde_json::from_str(OPT_IN_CONFIG).unwrap();
    let saved = owner
        .call(
            env,
            Method::PUT,
            &format!("/sites/{site}/draft"),
            Some(json!({"revision": 0, "config": config})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.json());
    for step in ["publish", "promotion"] {
        let done = owner
            .call(env, Method::POST, &format!("/sites/{site}/{step}"), None)
            .await;
        assert_eq!(
            done.status,
            StatusCode::CREATED,
            "{step}: {:?}",
            done.json()
        );
    }
    let token = owner
        .call(
            env,
            Method::POST,
            "/tokens",
            Some(json!({"name": "hooks", "role": "admin", "expiresInDays": 1})),
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{:?}", token.json());
    let admin = Client {
        bearer: Some(token.json()["secret"].as_str().unwrap().to_owned()),
        ..Client::default()
    };
    Tenant {
        admin,
        site,
        site_key,
    }
}

fn consent_event(site_key: &str) -> Value {
    json!({
        "eventId": Uuid::new_v4(),
        "schemaVersion": 1,
        "siteKey": site_key,
        "environment": "production",
        "configVersion": 1,
        "timestamp": OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
        "action": "reject_all",
        "source": "banner",
        "consentMode": {
            "ad_storage": "denied", "ad_user_data": "denied", "ad_personalization": "denied",
            "analytics_storage": "denied", "functionality_storage": "denied",
            "personalization_storage": "denied", "security_storage": "granted"
        },
        "language": "en",
        "sdkVersion": "test"
    })
}

/// Posts a consent as the SDK does; true if it was an idempotent replay
/// (`idempotent-replayed: true`) rather than newly recorded.
async fn post_consent(env: &Env, event: &Value) -> bool {
    let answer = send(
        &env.app,
        Request::post("/v1/consents")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, SITE_ORIGIN)
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
    answer
        .headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

// ---------------------------------------------------------------------------
// The receiver

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    at: Instant,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    /// Answer 500 to this many requests first.
    failures: usize,
    /// Answer 500 to every request.
    always_fail: bool,
    received: Vec<Received>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    async fn start(failures: usize, always_fail: bool) -> Receiver {
        let script = Arc::new(Mutex::new(Script {
            failures,
            always_fail,
            received: Vec::new(),
        }));
        let app = Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://127.0.0.1:{}/hook", addr.port()),
            script,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    fn recover(&self) {
        self.script.lock().unwrap().always_fail = false;
    }
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mut script = script.lock().unwrap();
    script.received.push(Received {
        at: Instant::now(),
        headers,
        body: body.to_vec(),
    });
    if script.always_fail {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if script.failures > 0 {
        script.failures -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::NO_CONTENT
}

/// Checks a `NexaGuard-Signature` header as a receiver would, written here
/// from the documented scheme rather than with the server's code: the
/// HMAC-SHA256 of `"<t>.<body>"` under the secret, and a timestamp no
/// older than five minutes.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (OffsetDateTime::now_utc().unix_timestamp() - timestamp).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    signatures.contains(&expected)
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers.get(name).unwrap().to_str().unwrap()
}

async fn create_webhook(env: &Env, t: &Tenant, url: &str) -> (Uuid, String) {
    let made = t
        .admin
        .call(
            env,
            Method::POST,
            &format!("/sites/{}/webhooks", t.site),
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.json());
    let secret = made.json()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (
        Uuid::parse_str(made.json()["id"].as_str().unwrap()).unwrap(),
        secret,
    )
}

async fn deliveries(env: &Env, t: &Tenant, webhook: Uuid, query: &str) -> Vec<Value> {
    let answer = t
        .admin
        .call(
            env,
            Method::GET,
            &format!("/sites/{}/webhooks/{webhook}/deliveries{query}", t.site),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
    answer.json().as_array().unwrap().clone()
}

/// Polls the deliveries API until `done` holds.
async fn wait_for(
    env: &Env,
    t: &Tenant,
    webhook: Uuid,
    query: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let listed = deliveries(env, t, webhook, query).await;
        if done(&listed) {
            return listed;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the worker did not get there: {listed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_delivered(count: usize) -> impl Fn(&[Value]) -> bool {
    move |listed| listed.len() == count && listed.iter().all(|d| d["status"] == "delivered")
}

// ---------------------------------------------------------------------------
// The tests

#[tokio::test]
async fn a_consent_is_delivered_once_with_a_valid_signature() {
    let env = env(Some(fast())).await;
    let t = tenant(&env).await;
    let receiver = Receiver::start(0, false).await;
    let (webhook, secret) = create_webhook(&env, &t, &receiver.url).await;
    // The secret is shown at creation only.
    let shown = t
        .admin
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/webhooks/{webhook}", t.site),
            None,
        )
        .await
        .json();
    assert_eq!(shown["url"], receiver.url.as_str());
    assert_eq!(shown["enabled"], true);
    assert!(shown.get("secret").is_none(), "{shown}");

    let event = consent_event(&t.site_key);
    assert!(!post_consent(&env, &event).await);
    let listed = wait_for(&env, &t, webhook, "", all_delivered(1)).await;
    assert_eq!(listed[0]["attempts"], 1);
    assert_eq!(listed[0]["eventId"], event["eventId"]);
    assert!(listed[0]["deliveredAt"].is_string());

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let request = &got[0];
    assert!(verify(
        &secret,
        header(request, "nexaguard-signature"),
        &request.body
    ));
    // Another secret, or a changed body, does not verify.
    let other = nexaguard_access::WebhookSecret::generate();
    assert!(!verify(
        other.as_str(),
        header(request, "nexaguard-signature"),
        &request.body
    ));
    let mut tampered = request.body.clone();
    tampered.push(b' ');
    assert!(!verify(
        &secret,
        header(request, "nexaguard-signature"),
        &tampered
    ));
    assert_eq!(header(request, "content-type"), "application/json");
    assert_eq!(header(request, "nexaguard-delivery"), listed[0]["id"]);
    assert_eq!(header(request, "nexaguard-attempt"), "1");
    assert_eq!(header(request, "nexaguard-event"), "consent.recorded");
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["type"], "consent.recorded");
    assert_eq!(body["deliveryId"], listed[0]["id"]);
    assert_eq!(body["webhookId"], webhook.to_string());
    assert_eq!(body["siteId"], t.site.to_string());
    assert_eq!(body["event"]["eventId"], event["eventId"]);
    assert_eq!(body["event"]["action"], "reject_all");
    assert!(body["event"]["recordedAt"].is_string());
    // The recorded event carries no consent token.
    assert!(body["event"].get("consentToken").is_none());

    // The same event again is a duplicate: recorded once, delivered once.
    assert!(post_consent(&env, &event).await);
    let next = consent_event(&t.site_key);
    post_consent(&env, &next).await;
    let listed = wait_for(&env, &t, webhook, "", all_delivered(2)).await;
    let events: Vec<&Value> = listed.iter().map(|d| &d["eventId"]).collect();
    assert_eq!(events, [&next["eventId"], &event["eventId"]]);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert!(verify(
        &secret,
        header(&got[1], "nexaguard-signature"),
        &got[1].body
    ));
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_with_back_off_until_it_answers() {
    let settings = fast();
    let env = env(Some(settings.clone())).await;
    let t = tenant(&env).await;
    let receiver = Receiver::start(2, false).await;
    let (webhook, secret) = create_webhook(&env, &t, &receiver.url).await;
    let event = consent_event(&t.site_key);
    post_consent(&env, &event).await;
    let listed = wait_for(&env, &t, webhook, "", all_delivered(1)).await;
    assert_eq!(listed[0]["attempts"], 3);
    assert_eq!(listed[0]["lastError"], Value::Null);

    let got = receiver.received();
    assert_eq!(got.len(), 3);
    for (n, request) in got.iter().enumerate() {
        // The same delivery and body each time, signed afresh.
        assert_eq!(header(request, "nexaguard-delivery"), listed[0]["id"]);
        assert_eq!(header(request, "nexaguard-attempt"), (n + 1).to_string());
        assert_eq!(request.body, got[0].body);
        assert!(verify(
            &secret,
            header(request, "nexaguard-signature"),
            &request.body
        ));
    }
    // Never sooner than the back-off allows (jitter takes at most a fifth).
    for attempt in 1..=2 {
        let gap = got[attempt].at - got[attempt - 1].at;
        let floor = settings
            .backoff(u32::try_from(attempt).unwrap())
            .mul_f64(0.8);
        assert!(gap >= floor, "attempt {attempt}: {gap:?} < {floor:?}");
    }
}

#[tokio::test]
async fn an_always_failing_receiver_makes_a_dead_letter_that_can_be_retried() {
    let env = env(Some(fast())).await;
    let t = tenant(&env).await;
    let receiver = Receiver::start(0, true).await;
    let (webhook, secret) = create_webhook(&env, &t, &receiver.url).await;
    post_consent(&env, &consent_event(&t.site_key)).await;
    let dead = wait_for(&env, &t, webhook, "?status=dead", |listed| {
        listed.len() == 1
    })
    .await;
    assert_eq!(dead[0]["status"], "dead");
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["lastStatus"], 500);
    assert_eq!(
        dead[0]["lastError"], "the receiver answered HTTP 500",
        "{dead:?}"
    );
    assert_eq!(dead[0]["nextAttemptAt"], Value::Null);
    assert_eq!(receiver.received().len(), 3);
    assert!(deliveries(&env, &t, webhook, "?status=pending")
        .await
        .is_empty());
    assert!(deliveries(&env, &t, webhook, "?status=delivered")
        .await
        .is_empty());

    // Fixed receiver; an administrator sends it again.
    receiver.recover();
    let id = dead[0]["id"].as_str().unwrap();
    let retried = t
        .admin
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/webhooks/{webhook}/deliveries/{id}/retry", t.site),
            None,
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.json());
    let listed = wait_for(&env, &t, webhook, "", all_delivered(1)).await;
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["attempts"], 1);
    let got = receiver.received();
    assert_eq!(got.len(), 4);
    assert!(verify(
        &secret,
        header(&got[3], "nexaguard-signature"),
        &got[3].body
    ));
    // Only dead deliveries are retried.
    let again = t
        .admin
        .call(
            &env,
            Method::POST,
            &format!("/sites/{}/webhooks/{webhook}/deliveries/{id}/retry", t.site),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.code(), "not_found");
    // The audit log has the webhook's story.
    let log = t
        .admin
        .call(&env, Method::GET, "/audit?limit=500", None)
        .await
        .json();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"webhook.create"), "{actions:?}");
    assert!(actions.contains(&"webhook.redeliver"), "{actions:?}");
}

#[tokio::test]
async fn a_disabled_or_deleted_webhook_gets_nothing_and_secrets_rotate() {
    let env = env(Some(fast())).await;
    let t = tenant(&env).await;
    let receiver = Receiver::start(0, false).await;
    let (webhook, old_secret) = create_webhook(&env, &t, &receiver.url).await;
    let path = format!("/sites/{}/webhooks/{webhook}", t.site);
    let off = t
        .admin
        .call(&env, Method::PATCH, &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.json());
    assert_eq!(off.json()["enabled"], false);
    post_consent(&env, &consent_event(&t.site_key)).await;
    assert!(deliveries(&env, &t, webhook, "").await.is_empty());

    // Back on, with a new secret: the old one no longer verifies.
    let on = t
        .admin
        .call(
            &env,
            Method::PATCH,
            &path,
            Some(json!({"enabled": true, "rotateSecret": true})),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.json());
    let new_secret = on.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    post_consent(&env, &consent_event(&t.site_key)).await;
    wait_for(&env, &t, webhook, "", all_delivered(1)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let signature = header(&got[0], "nexaguard-signature");
    assert!(verify(&new_secret, signature, &got[0].body));
    assert!(!verify(&old_secret, signature, &got[0].body));

    let deleted = t.admin.call(&env, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.admin.call(&env, Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let listed = t
        .admin
        .call(
            &env,
            Method::GET,
            &format!("/sites/{}/webhooks", t.site),
            None,
        )
        .await;
    assert_eq!(listed.json(), json!([]));
}

#[tokio::test]
async fn bad_webhook_requests_get_clear_json_errors() {
    // Production rules: no development setting, no worker.
    let env = env(None).await;
    let t = tenant(&env).await;
    let hooks = format!("/sites/{}/webhooks", t.site);
    let cases = [
        (json!({"url": "not a url"}), "bad_url"),
        (json!({"url": "ftp://hooks.example.com/"}), "bad_url"),
        (json!({"url": "http://hooks.example.com/"}), "bad_url"),
        (json!({"url": "http://127.0.0.1:9000/hook"}), "bad_url"),
        (json!({"url": "https://127.0.0.1/hook"}), "bad_url"),
        (json!({"url": "https://10.1.2.3/hook"}), "bad_url"),
        (
            json!({"url": "https://user:pw@hooks.example.com/"}),
            "bad_url",
        ),
        (
            json!({"url": "https://hooks.example.com/", "secret": "mine"}),
            "invalid_request",
        ),
        (json!({"enabled": true}), "invalid_request"),
    ];
    for (body, code) in cases {
        let answer = t
            .admin
            .call(&env, Method::POST, &hooks, Some(body.clone()))
            .await;
        assert!(answer.status.is_client_error(), "{body}: {}", answer.status);
        assert_eq!(answer.code(), code, "{body}: {:?}", answer.json());
        assert!(answer.json()["error"]["message"].is_string());
    }
    let broken = send(
        &env.app,
        Request::post(format!("{PREFIX}{hooks}"))
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", t.admin.bearer.as_deref().unwrap()),
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{"))
            .unwrap(),
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.code(), "invalid_json");
    // Nothing was made.
    let listed = t.admin.call(&env, Method::GET, &hooks, None).await;
    assert_eq!(listed.json(), json!([]));

    let (webhook, _) = create_webhook(&env, &t, "https://hooks.example.com/consents").await;
    let path = format!("{hooks}/{webhook}");
    let patch = t
        .admin
        .call(
            &env,
            Method::PATCH,
            &path,
            Some(json!({"url": "http://hooks.example.com/"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(patch.code(), "bad_url");
    for query in ["?status=lost", "?limit=-1", "?surprise=1"] {
        let answer = t
            .admin
            .call(
                &env,
                Method::GET,
                &format!("{path}/deliveries{query}"),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.code(), "invalid_query", "{query}");
    }
    let answer = t
        .admin
        .call(
            &env,
            Method::GET,
            &format!("{path}/deliveries?limit=0"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    for bad in [
        format!("{hooks}/not-a-uuid"),
        format!("{hooks}/{}", Uuid::new_v4()),
        format!("/sites/{}/webhooks/{webhook}", Uuid::new_v4()),
    ] {
        let answer = t.admin.call(&env, Method::GET, &bad, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(answer.code(), "not_found");
    }
}

#[tokio::test]
async fn the_signing_secret_is_not_in_the_database_file() {
    let env = env(None).await;
    let t = tenant(&env).await;
    let (_, secret) = create_webhook(&env, &t, "https://hooks.example.com/consents").await;
    let mut stored = Vec::new();
    for suffix in ["", "-wal"] {
        let mut path = env.db.clone().into_os_string();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(&path) {
            stored.extend(bytes);
        }
    }
    // The file does hold the webhook (so the search is over the right data).
    let url = b"https://hooks.example.com/consents";
    assert!(stored.windows(url.len()).any(|w| w == url));
    let secret = secret.as_bytes();
    assert!(!stored.windows(secret.len()).any(|w| w == secret));
    // Nor the random part alone.
    let random = &secret["whsec_".len()..];
    assert!(!stored.windows(random.len()).any(|w| w == random));
}

#[tokio::test]
async fn special_purpose_addresses_in_any_form_are_refused_at_creation() {
    // Production rules: no development setting, no worker.
    let env = env(None).await;
    let t = tenant(&env).await;
    let hooks = format!("/sites/{}/webhooks", t.site);
    for url in [
        // NAT64 (well-known prefix) form of 127.0.0.1.
        "https://[64:ff9b::7f00:1]/hook",
        // 6to4 form of 127.0.0.1.
        "https://[2002:7f00:1::]/hook",
        // IPv4-compatible form of 127.0.0.1.
        "https://[::127.0.0.1]/hook",
        // IETF protocol assignments.
        "https://192.0.0.1/hook",
        // IPv4-mapped form of the cloud metadata address.
        "https://[::ffff:169.254.169.254]/latest/meta-data",
        // Teredo, local-use NAT64, documentation, discard-only.
        "https://[2001:0:7f00:1::f5ff:fffe]/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://[3fff::1]/hook",
        "https://[100::1]/hook",
        // 127.0.0.1 written as one number, and a name under localhost.
        "https://2130706433/hook",
        "https://api.localhost/hook",
    ] {
        let answer = t
            .admin
            .call(&env, Method::POST, &hooks, Some(json!({ "url": url })))
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(answer.code(), "bad_url", "{url}: {:?}", answer.json());
    }
    let listed = t.admin.call(&env, Method::GET, &hooks, None).await;
    assert_eq!(listed.json(), json!([]));
    // A public address in an IPv6 form is a receiver like any other.
    let (webhook, _) = create_webhook(&env, &t, "https://[64:ff9b::1.1.1.1]/hook").await;
    assert_ne!(webhook, Uuid::nil());
}

#[tokio::test]
async fn control_characters_in_a_webhook_url_are_refused_and_urls_are_stored_normalised() {
    let env = env(None).await;
    let t = tenant(&env).await;
    let hooks = format!("/sites/{}/webhooks", t.site);
    for url in [
        "https://hooks.example.com/a\tb",
        "https://hooks.exa\nmple.com/",
        "https://hooks.example.com/\r\nX-Injected: 1",
        "https://hooks.example.com/\u{0}",
        "https://hooks.example.com/\u{7f}",
        "https://hooks.example.com/\u{85}",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\"x",
        "https://hooks.example.com/<x>",
        "https://hooks.example.com\\@10.0.0.1/",
    ] {
        let answer = t
            .admin
            .call(&env, Method::POST, &hooks, Some(json!({ "url": url })))
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{url:?}");
        assert_eq!(answer.code(), "bad_url", "{url:?}: {:?}", answer.json());
    }
    let made = t
        .admin
        .call(
            &env,
            Method::POST,
            &hooks,
            Some(json!({"url": "HTTPS://Hooks.Example.COM:443/x/../consents"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.json());
    assert_eq!(made.json()["url"], "https://hooks.example.com/consents");
    let path = format!("{hooks}/{}", made.json()["id"].as_str().unwrap());
    let patched = t
        .admin
        .call(
            &env,
            Method::PATCH,
            &path,
            Some(json!({"url": "https://Hooks.Example.com/a\r\n"})),
        )
        .await;
    assert_eq!(patched.code(), "bad_url", "{:?}", patched.json());
    let patched = t
        .admin
        .call(
            &env,
            Method::PATCH,
            &path,
            Some(json!({"url": "https://bücher.example/hook"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.json());
    assert_eq!(patched.json()["url"], "https://xn--bcher-kva.example/hook");
    let read = t.admin.call(&env, Method::GET, &path, None).await;
    assert_eq!(read.json()["url"], "https://xn--bcher-kva.example/hook");
}

/// A receiver that answers every post with a 307 to `target`.
async fn redirector(target: &str) -> String {
    let target = target.to_owned();
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let target = target.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://127.0.0.1:{}/hook", addr.port())
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_its_target_gets_nothing() {
    let env = env(Some(fast())).await;
    let t = tenant(&env).await;
    let target = Receiver::start(0, false).await;
    let (webhook, _) = create_webhook(&env, &t, &redirector(&target.url).await).await;
    post_consent(&env, &consent_event(&t.site_key)).await;
    let dead = wait_for(&env, &t, webhook, "?status=dead", |listed| {
        listed.len() == 1
    })
    .await;
    assert_eq!(dead[0]["lastStatus"], 307, "{dead:?}");
    assert_eq!(dead[0]["attempts"], 3);
    assert!(target.received().is_empty());
}
