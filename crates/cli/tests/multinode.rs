//! Two `nexaguard serve` nodes on one PostgreSQL database (issue 6): the
//! real binary twice, on two loopback ports, sharing one data directory
//! (its `secrets/`: token keys, CSRF key, key-encryption key; and the
//! generated TLS certificate) and one `--database-url`, as a deployment
//! behind a load balancer runs them. Checked across the nodes: sessions,
//! idempotent eventIds, configuration propagation within 5 seconds, and
//! one unbroken audit hash chain under concurrent changes from both.
//!
//! A second test checks that the per-network rate limits hold across the
//! nodes: one client spreading its posts over both gets one budget.
//!
//! Needs a PostgreSQL server: `NEXAGUARD_TEST_DATABASE_URL` names it (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`; the role must be allowed to
//! create databases). The test makes a database of its own and drops it at
//! the end. Without the variable it prints
//! `skipped: NEXAGUARD_TEST_DATABASE_URL is not set` and passes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use nexaguard_store::{AdminStore, PostgresAdminStore, PostgresStore, Store};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The bound the issue states: a publish or promotion made on one node is
/// served by every other node within this long.
const PROPAGATION_BOUND: Duration = Duration::from_secs(5);

/// How long to keep looking after the bound was missed, to report by how
/// much it was missed.
const PROPAGATION_GIVE_UP: Duration = Duration::from_secs(20);

/// The session cookie's name.
const SESSION_COOKIE: &str = "__Host-nexaguard_session";

/// Audited changes (API token creations) per node in the concurrency
/// check, made by this many workers per node at once.
const WORKERS_PER_NODE: usize = 4;
const CHANGES_PER_WORKER: usize = 15;

mod common;

use common::node::{client, Answer, Node, NodeOptions};
use common::{event, TestDatabase};

/// Starts a node of the test on the shared data directory and database.
async fn start(label: &str, data_dir: &std::path::Path, database_url: &str) -> Node {
    NodeOptions::new(data_dir)
        .label(label)
        .database_url(database_url)
        .start()
        .await
}

// ---- HTTP -----------------------------------------------------------------

/// A signed-in browser: the session cookie and the CSRF token.
#[derive(Debug, Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

/// The session `answer` starts (cookie and CSRF token), over `old`.
fn session_of(answer: &Answer, old: Option<&Session>) -> Session {
    let cookie = answer
        .headers
        .get(reqwest::header::SET_COOKIE)
        .map(|set| set.to_str().unwrap().split(';').next().unwrap().to_owned())
        .or_else(|| old.map(|s| s.cookie.clone()))
        .expect("no session cookie");
    assert!(cookie.starts_with(SESSION_COOKIE), "{cookie}");
    let csrf = answer.json()["csrfToken"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| old.map(|s| s.csrf.clone()))
        .expect("no CSRF token");
    Session { cookie, csrf }
}

/// One request; `origin` and `session` as a browser would send them.
async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    origin: Option<&str>,
    session: Option<&Session>,
    body: Option<&Value>,
) -> Answer {
    let mut request = http.request(method, url);
    if let Some(origin) = origin {
        request = request.header(reqwest::header::ORIGIN, origin);
    }
    if let Some(session) = session {
        request = request
            .header(reqwest::header::COOKIE, &session.cookie)
            .header("X-CSRF-Token", &session.csrf);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    Answer::read(request.send().await.unwrap()).await.unwrap()
}

/// An admin API read on `node`.
async fn admin_get(http: &reqwest::Client, node: &Node, session: &Session, path: &str) -> Answer {
    let url = format!("{}/admin/api/v1{path}", node.base);
    send(http, Method::GET, &url, None, Some(session), None).await
}

/// An admin API change on `node`, from the node's own origin.
async fn admin_change(
    http: &reqwest::Client,
    node: &Node,
    session: &Session,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let url = format!("{}/admin/api/v1{path}", node.base);
    send(http, method, &url, Some(&node.base), Some(session), body).await
}

// ---- consent events -------------------------------------------------------

/// The public configuration of `site_key` as `node` serves it.
async fn public_config(http: &reqwest::Client, node: &Node, site_key: &str) -> Value {
    let url = format!("{}/v1/sites/{site_key}/config.json", node.base);
    send(http, Method::GET, &url, None, None, None)
        .await
        .expect(StatusCode::OK)
        .json()
}

// ---- the test -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgres_database_act_as_one() {
    let Some(mut database) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // Both nodes start at once on the empty installation: one creates the
    // secrets, the certificate, the schema, the demo tenant, site and owner
    // while the other waits for it (the setup lock), then starts on them.
    // The one that made them is called node 1 from here on.
    let (mut node1, mut node2) = tokio::join!(
        start("node 1", &data, &database.url),
        start("node 2", &data, &database.url)
    );
    if node2.demo_owner_password().is_some() {
        std::mem::swap(&mut node1, &mut node2);
        std::mem::swap(&mut node1.label, &mut node2.label);
    }
    assert_ne!(node1.base, node2.base);
    {
        let store = PostgresStore::open(&database.url).await.unwrap();
        let tenants = store.tenants().await.unwrap();
        assert_eq!(
            tenants.len(),
            1,
            "one demo tenant, not one per node: {tenants:?}"
        );
        assert_eq!(store.sites().await.unwrap().len(), 1);
        let admin_store = PostgresAdminStore::new(&store);
        assert_eq!(
            admin_store.count_users().await.unwrap(),
            1,
            "one demo owner"
        );
        let keys = admin_store.data_keys().await.unwrap();
        let scopes: std::collections::HashSet<_> = keys.iter().map(|k| k.scope.clone()).collect();
        assert_eq!(scopes.len(), keys.len(), "one data key per scope: {keys:?}");
        assert_eq!(admin_store.signing_keys().await.unwrap().len(), 1);
        store.close().await;
    }
    let password = node1
        .demo_owner_password()
        .unwrap_or_else(|| panic!("node 1 printed no demo owner: {:?}", node1.banner));
    assert_eq!(
        node2.demo_owner_password(),
        None,
        "only the node that made the owner prints its password: {:?}",
        node2.banner
    );
    let http = client(&data, Duration::from_secs(30));

    // ---- 1. A session made on node 1 holds on node 2 --------------------
    let login = send(
        &http,
        Method::POST,
        &format!("{}/admin/api/v1/session", node1.base),
        Some(&node1.base),
        None,
        Some(&json!({"email": "owner@demo.localhost", "password": password})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(login.json()["next"], "mfa_enrolment", "{}", login.text);
    let session = session_of(&login, None);
    let enrolment = admin_change(
        &http,
        &node1,
        &session,
        Method::POST,
        "/mfa/enrolment",
        None,
    )
    .await
    .expect(StatusCode::OK);
    let secret = totp_rs::Secret::Encoded(enrolment.json()["secret"].as_str().unwrap().to_owned())
        .to_bytes()
        .unwrap();
    let code = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        None,
        String::new(),
    )
    .generate_current()
    .unwrap();
    let confirmed = admin_change(
        &http,
        &node1,
        &session,
        Method::POST,
        "/mfa/enrolment/confirm",
        Some(&json!({"code": code})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(confirmed.json()["next"], "ready", "{}", confirmed.text);
    // Confirmation gives the session a new id and CSRF token.
    let session = session_of(&confirmed, Some(&session));

    for node in [&node1, &node2] {
        let me = admin_get(&http, node, &session, "/session")
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(me["next"], "ready", "{}: {me}", node.label);
        assert_eq!(me["user"]["email"], "owner@demo.localhost", "{me}");
        // Both nodes derive the same CSRF token: they share the CSRF key.
        assert_eq!(me["csrfToken"], session.csrf.as_str(), "{}", node.label);
    }
    let sites = admin_get(&http, &node2, &session, "/sites")
        .await
        .expect(StatusCode::OK)
        .json();
    let sites = sites.as_array().unwrap();
    assert_eq!(sites.len(), 1, "{sites:?}");
    let site = &sites[0];
    assert_eq!(site["name"], "Demo site");
    let site_id = site["id"].as_str().unwrap().to_owned();
    let site_key = site["productionKey"].as_str().unwrap().to_owned();
    // The demo site's origins are node 1's (it made the site): the page
    // the events come from. Consent posts to either node carry it.
    let page_origin = node1.base.clone();
    assert!(
        site["origins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == page_origin.as_str()),
        "{site}"
    );
    // A change on node 2 with the session from node 1: from node 2's own
    // origin it is made; from node 1's origin node 2 refuses it.
    let token_body = json!({"name": "made on node 2", "role": "viewer", "expiresInDays": 1});
    admin_change(
        &http,
        &node2,
        &session,
        Method::POST,
        "/tokens",
        Some(&token_body),
    )
    .await
    .expect(StatusCode::CREATED);
    let foreign = send(
        &http,
        Method::POST,
        &format!("{}/admin/api/v1/tokens", node2.base),
        Some(&node1.base),
        Some(&session),
        Some(&token_body),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    assert_eq!(foreign.code(), "origin", "{}", foreign.text);
    let no_csrf = Session {
        cookie: session.cookie.clone(),
        csrf: "wrong".to_owned(),
    };
    let refused = admin_change(
        &http,
        &node2,
        &no_csrf,
        Method::POST,
        "/tokens",
        Some(&token_body),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "csrf", "{}", refused.text);

    // ---- 2. eventIds are idempotent across the nodes ---------------------
    let before = public_config(&http, &node2, &site_key).await;
    let version = before["configVersion"].as_u64().unwrap();
    let body = event(&site_key, version);
    let consents = |node: &Node| format!("{}/v1/consents", node.base);
    let first = send(
        &http,
        Method::POST,
        &consents(&node1),
        Some(&page_origin),
        None,
        Some(&body),
    )
    .await
    .expect(StatusCode::CREATED);
    let receipt = first.json();
    assert_eq!(receipt["eventId"], body["eventId"]);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let retry = send(
        &http,
        Method::POST,
        &consents(&node2),
        Some(&page_origin),
        None,
        Some(&body),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(
        retry
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..]),
        "node 2 recognises node 1's event as a retry"
    );
    assert_eq!(retry.json(), receipt, "the same receipt from both nodes");
    let mut changed = body.clone();
    changed["sdkVersion"] = json!("test, another body");
    for node in [&node2, &node1] {
        let conflict = send(
            &http,
            Method::POST,
            &consents(node),
            Some(&page_origin),
            None,
            Some(&changed),
        )
        .await
        .expect(StatusCode::CONFLICT);
        assert_eq!(conflict.code(), "event_id_conflict", "{}", conflict.text);
    }
    // Node 2 restores the state node 1 recorded.
    let restored = send(
        &http,
        Method::GET,
        &format!(
            "{}/v1/consents/{}?siteKey={site_key}",
            node2.base,
            receipt["consentToken"].as_str().unwrap()
        ),
        None,
        None,
        None,
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(restored["event"]["eventId"], body["eventId"], "{restored}");

    // ---- 3. A promotion on node 1 reaches node 2 within 5 seconds --------
    let old_days = before["config"]["consentLifetimeDays"].as_u64().unwrap();
    let new_days = if old_days == 200 { 201 } else { 200 };
    let draft = admin_get(&http, &node1, &session, &format!("/sites/{site_id}/draft"))
        .await
        .expect(StatusCode::OK)
        .json();
    let mut config = draft["config"].clone();
    assert_eq!(config["consentLifetimeDays"], old_days, "{draft}");
    config["consentLifetimeDays"] = json!(new_days);
    let saved = admin_change(
        &http,
        &node1,
        &session,
        Method::PUT,
        &format!("/sites/{site_id}/draft"),
        Some(&json!({"revision": draft["revision"], "config": config})),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(saved["validation"]["valid"], true, "{saved}");
    admin_change(
        &http,
        &node1,
        &session,
        Method::POST,
        &format!("/sites/{site_id}/publish"),
        None,
    )
    .await
    .expect(StatusCode::CREATED);
    let promoted = admin_change(
        &http,
        &node1,
        &session,
        Method::POST,
        &format!("/sites/{site_id}/promotion"),
        None,
    )
    .await
    .expect(StatusCode::CREATED)
    .json();
    let promoted_at = Instant::now();
    let new_version = promoted["publishedVersion"].as_u64().unwrap();
    assert!(new_version > version, "{promoted}");
    // The node that made the change serves it at once.
    let on_node1 = public_config(&http, &node1, &site_key).await;
    assert_eq!(on_node1["configVersion"], new_version);
    assert_eq!(on_node1["config"]["consentLifetimeDays"], new_days);
    // The other node: poll until it serves the new version.
    let seen_after = loop {
        let served = public_config(&http, &node2, &site_key).await;
        let served_version = served["configVersion"].as_u64().unwrap();
        if served_version == new_version {
            assert_eq!(served["config"]["consentLifetimeDays"], new_days);
            break promoted_at.elapsed();
        }
        assert_eq!(served_version, version, "{served}");
        assert!(
            promoted_at.elapsed() < PROPAGATION_GIVE_UP,
            "node 2 still serves version {served_version} {PROPAGATION_GIVE_UP:?} after the promotion"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("node 2 served the promoted configuration {seen_after:?} after the promotion");
    // Known limit (reported with issue 6): the other nodes look for changes
    // every 5 seconds (`REFRESH_EVERY` in crates/server/src/run.rs) and
    // then rebuild the changed answers, so a promotion committed just
    // after a node's look shows there 5 s plus that rebuild later. Timed
    // from the answer, node 1's own rebuild before answering mostly hides
    // it, but not always: with the promotion placed at that moment this
    // check failed with 5.05 s. The bound is the issue's; the fix belongs
    // in the server (a shorter interval or LISTEN/NOTIFY), not here.
    assert!(
        seen_after <= PROPAGATION_BOUND,
        "node 2 served the promotion only {seen_after:?} after it (bound: {PROPAGATION_BOUND:?})"
    );

    // ---- 4. One audit hash chain under concurrent changes from both -------
    let mut workers = Vec::new();
    for (n, node) in [&node1, &node2].into_iter().enumerate() {
        for w in 0..WORKERS_PER_NODE {
            let (http, session) = (http.clone(), session.clone());
            let (base, origin) = (node.base.clone(), node.base.clone());
            workers.push(tokio::spawn(async move {
                for i in 0..CHANGES_PER_WORKER {
                    let body = json!({
                        "name": format!("node {} worker {w} token {i}", n + 1),
                        "role": "viewer",
                        "expiresInDays": 1,
                    });
                    send(
                        &http,
                        Method::POST,
                        &format!("{base}/admin/api/v1/tokens"),
                        Some(&origin),
                        Some(&session),
                        Some(&body),
                    )
                    .await
                    .expect(StatusCode::CREATED);
                }
            }));
        }
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let concurrent = 2 * WORKERS_PER_NODE * CHANGES_PER_WORKER;
    let tokens = admin_get(&http, &node1, &session, "/tokens")
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(tokens.as_array().unwrap().len(), concurrent + 1);

    let mut entries_seen = None;
    for node in [&node1, &node2] {
        let verified = admin_get(&http, node, &session, "/audit/verify")
            .await
            .expect(StatusCode::OK)
            .json();
        assert_eq!(verified["valid"], true, "{}: {verified}", node.label);
        let entries = verified["entries"].as_u64().unwrap();
        if entries >= 100 {
            // A checkpoint is signed every 100 entries, by whichever node
            // appended the entry.
            assert!(verified["checkpoints"].as_u64().unwrap() >= 1, "{verified}");
        }
        entries_seen.get_or_insert(entries);
        assert_eq!(entries_seen, Some(entries), "both nodes verify one chain");
    }
    let log = admin_get(&http, &node2, &session, "/audit?limit=500")
        .await
        .expect(StatusCode::OK)
        .json();
    let log = log.as_array().unwrap();
    assert_eq!(Some(log.len() as u64), entries_seen);
    let mut previous_hash = "0".repeat(64);
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry["seq"].as_u64(), Some(i as u64 + 1), "a gap: {entry}");
        assert_eq!(entry["prev_hash"], previous_hash.as_str(), "{entry}");
        previous_hash = entry["hash"].as_str().unwrap().to_owned();
    }
    let created = log.iter().filter(|e| e["action"] == "token.create").count();
    assert_eq!(
        created,
        concurrent + 1,
        "every token creation is audited once"
    );

    // ---- Stop both (SIGTERM, exit 0), then check every chain -------------
    // Both nodes append their `server.stopped` to the platform chain at
    // the same moment.
    tokio::join!(node1.stop(), node2.stop());
    let store = PostgresStore::open(&database.url).await.unwrap();
    let admin_store = PostgresAdminStore::new(&store);
    let keys: HashMap<String, [u8; 32]> = admin_store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|key| (key.id, key.public_key))
        .collect();
    assert_eq!(keys.len(), 1, "one checkpoint signing key, made by node 1");
    let statuses = nexaguard_admin::audit_log::verify_all(&admin_store, &keys)
        .await
        .unwrap();
    assert_eq!(statuses.len(), 2, "the platform's and the demo tenant's");
    for status in &statuses {
        assert!(status.result.is_ok(), "{status:?}");
    }
    store.close().await;
    // The operator's command says the same of the PostgreSQL database.
    let verify = tokio::task::spawn_blocking({
        let url = database.url.clone();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_nexaguard"))
                .args(["audit", "verify", "--database-url", &url])
                .env_remove("NEXAGUARD_DATA_DIR")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(printed.starts_with("platform: "), "{printed}");
    assert_eq!(printed.matches(", ok").count(), 2, "{printed}");
    database.drop_database().unwrap();
}

/// One client alternating between two nodes gets one budget, not one per
/// node. With 1 post per minute and bursts of 5, each node alone would let
/// 5 rapid posts through (10 in all); the shared budget is what one node
/// allows in a minute, 1 + 5 = 6, for both together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limits_hold_across_nodes() {
    let Some(mut database) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut a, mut b) = tokio::join!(
        NodeOptions::new(&data)
            .label("node A")
            .database_url(&database.url)
            .rate_limits(1, 5)
            .start(),
        NodeOptions::new(&data)
            .label("node B")
            .database_url(&database.url)
            .rate_limits(1, 5)
            .start()
    );
    let store = PostgresStore::open(&database.url).await.unwrap();
    let site = store.sites().await.unwrap().remove(0);
    store.close().await;
    let origin = site.origins[0].clone();
    let http = client(&data, Duration::from_secs(30));
    // The budget is per calendar minute: start early in one.
    let into_minute = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .rem_euclid(60);
    if into_minute > 45 {
        tokio::time::sleep(Duration::from_secs((61 - into_minute).unsigned_abs())).await;
    }
    let minute = || {
        time::OffsetDateTime::now_utc()
            .unix_timestamp()
            .div_euclid(60)
    };
    let before = minute();
    let mut statuses = Vec::new();
    for i in 0..16 {
        let node = if i % 2 == 0 { &a } else { &b };
        let answer = http
            .post(format!("{}/v1/consents", node.base))
            .header("origin", &origin)
            .json(&event(&site.production_key, 1))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    let created = statuses.iter().filter(|s| **s == 201).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(created + limited, statuses.len(), "{statuses:?}");
    if minute() == before {
        assert_eq!(created, 6, "{statuses:?}");
    } else {
        // A slow machine straddled a minute: two windows' budgets, capped
        // by the nodes' own bursts.
        assert!((6..=10).contains(&created), "{statuses:?}");
    }
    a.stop().await;
    b.stop().await;
    database.drop_database().unwrap();
}
