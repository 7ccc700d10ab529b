//! The behaviour every `Store` backend must have, written once against the
//! trait and run for each backend.
//!
//! A backend plugs in through [`Harness`] (open its store on a fresh
//! database, reopen it, run raw SQL beside it) and one `store_tests!` line
//! at the bottom of this file.
//!
//! The PostgreSQL tests need a server: `NEXAGUARD_TEST_DATABASE_URL` names
//! it (e.g. `postgres://postgres@127.0.0.1:5432/test`; the role must be
//! allowed to create databases). Each test gets a database of its own,
//! dropped afterwards. Without the variable they print
//! `skipped: NEXAGUARD_TEST_DATABASE_URL is not set` and pass.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use async_trait::async_trait;
use nexaguard_consent::config::ConsentState;
use nexaguard_consent::context::{DeviceClass, EventContext};
use nexaguard_consent::event::{
    Action, ConsentEvent, ConsentModeStates, ExperienceKind, Gpc, Impression, NoticeVersion,
    Source, SCHEMA_VERSION,
};
use nexaguard_consent::token::TokenHash;
use nexaguard_consent::Environment;
use nexaguard_store::postgres::LATEST_CONSENT_SQL;
use nexaguard_store::{
    AdminStore, NewConsent, NewImpression, PostgresAdminStore, PostgresStore, RecordOutcome, Site,
    SiteId, SqliteAdminStore, SqliteStore, Store, StoreError,
};
use sqlx::postgres::PgConnection;
use sqlx::{ConnectOptions, Connection, Executor};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Both stores of one database: the consent store under test, and the
/// admin store its tenants, sites and configurations are made through.
struct Stores {
    store: Arc<dyn Store>,
    admin: Arc<dyn AdminStore>,
}

/// What a backend provides to the shared tests. Each test gets a harness on
/// a database of its own.
#[async_trait]
trait Harness: Send + Sync {
    /// Opens the stores on this harness's database; again after a close,
    /// to check what persisted.
    async fn open(&self) -> Stores;

    /// Runs one SQL statement on a connection of its own, outside the
    /// store, as an operator with a database shell would.
    async fn execute_raw(&self, sql: &str) -> Result<u64, String>;
}

/// SQLite: a file in a temporary directory.
struct SqliteHarness {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteHarness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nexaguard.db");
        SqliteHarness { _dir: dir, path }
    }
}

#[async_trait]
impl Harness for SqliteHarness {
    async fn open(&self) -> Stores {
        // The consent store first: it applies the migrations.
        let store = SqliteStore::open(&self.path).await.unwrap();
        let admin = SqliteAdminStore::open(&self.path).await.unwrap();
        Stores {
            store: Arc::new(store),
            admin: Arc::new(admin),
        }
    }

    async fn execute_raw(&self, sql: &str) -> Result<u64, String> {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.path)
            .connect()
            .await
            .unwrap();
        let result = sqlx::query(sql).execute(&mut conn).await;
        conn.close().await.unwrap();
        result
            .map(|done| done.rows_affected())
            .map_err(|e| e.to_string())
    }
}

mod common;

use common::{test_options, PostgresHarness, Seed};

#[async_trait]
impl Harness for PostgresHarness {
    async fn open(&self) -> Stores {
        let store = PostgresStore::open_with(&self.url, &test_options())
            .await
            .unwrap();
        // On the store's pool: one pool per process.
        let admin = PostgresAdminStore::new(&store);
        Stores {
            store: Arc::new(store),
            admin: Arc::new(admin),
        }
    }

    async fn execute_raw(&self, sql: &str) -> Result<u64, String> {
        let mut conn = self.connect().await;
        let result = sqlx::query(sql).execute(&mut conn).await;
        conn.close().await.unwrap();
        result
            .map(|done| done.rows_affected())
            .map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------------------
// Fixtures

const TOKEN: TokenHash = TokenHash([7; 32]);
const OTHER_TOKEN: TokenHash = TokenHash([8; 32]);

/// A nanosecond-precise, non-UTC time: timestamps must round-trip exactly.
const T0: OffsetDateTime = datetime!(2024-05-01 14:00:00.123456789 +02:00);

async fn tenant_and_site(admin: &dyn AdminStore) -> Site {
    let seed = Seed(admin);
    let tenant = seed.tenant("Acme").await.unwrap();
    seed.site(tenant.id, "Shop", &["https://shop.example".to_owned()])
        .await
        .unwrap()
}

fn event(site: &Site, environment: Environment, recorded_at: OffsetDateTime) -> ConsentEvent {
    ConsentEvent {
        event_id: Uuid::new_v4(),
        schema_version: SCHEMA_VERSION,
        site_key: site.key(environment).to_owned(),
        environment,
        config_version: 1,
        timestamp: recorded_at - Duration::milliseconds(250),
        recorded_at,
        action: Action::Custom,
        source: Source::Banner,
        tc_string: Some("CQAAAAAQAAAAAAAAAAENBOFgAAAAAAAAAAAAAAAAAAAA".to_owned()),
        ac_string: None,
        consent_mode: ConsentModeStates {
            ad_storage: ConsentState::Denied,
            ad_user_data: ConsentState::Denied,
            ad_personalization: ConsentState::Denied,
            analytics_storage: ConsentState::Granted,
            functionality_storage: ConsentState::Granted,
            personalization_storage: ConsentState::Denied,
            security_storage: ConsentState::Granted,
        },
        purposes: vec![1, 7, 9],
        custom_purposes: vec!["analytics".to_owned()],
        vendors: vec![755],
        custom_vendors: vec!["chat".to_owned()],
        language: "de".to_owned(),
        sdk_version: "0.1.0".to_owned(),
        context: EventContext {
            country: Some("DE".to_owned()),
            device_class: DeviceClass::Desktop,
        },
        policy_warnings: vec!["purpose-one-treatment".to_owned()],
        region: None,
        experience: None,
        gpp_string: None,
        gpp_section_ids: Vec::new(),
        gpc: None,
        notice_version: None,
        impression_id: None,
    }
}

fn notice() -> NoticeVersion {
    NoticeVersion::try_from("0123456789abcdef0123456789abcdef".to_owned()).unwrap()
}

fn impression(site: &Site, environment: Environment, recorded_at: OffsetDateTime) -> Impression {
    Impression {
        event_id: Uuid::new_v4(),
        schema_version: 2,
        site_key: site.key(environment).to_owned(),
        environment,
        config_version: 1,
        timestamp: recorded_at - Duration::milliseconds(900),
        recorded_at,
        region: Some("US-CA".parse().unwrap()),
        experience: ExperienceKind::Us,
        notice_version: notice(),
        language: "en".to_owned(),
        sdk_version: "2.0.0".to_owned(),
    }
}

fn new_impression(site: &Site, impression: Impression, body_hash: u8) -> NewImpression {
    NewImpression {
        site_id: site.id,
        impression,
        body_hash: [body_hash; 32],
    }
}

async fn impressions_of(
    store: &dyn Store,
    site: &Site,
    environment: Environment,
    ids: &[Uuid],
) -> Vec<Impression> {
    let mut found = store
        .impressions_by_event_ids(site.id, environment, ids)
        .await
        .unwrap();
    found.sort_by_key(|i| i.recorded_at);
    found
}

fn consent(site: &Site, event: ConsentEvent, token: TokenHash, body_hash: u8) -> NewConsent {
    NewConsent {
        site_id: site.id,
        event,
        token_hash: token,
        body_hash: [body_hash; 32],
    }
}

// ---------------------------------------------------------------------------
// The shared tests

async fn tenants_and_sites(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let seed = Seed(admin.as_ref());
    let acme = seed.tenant("Acme").await.unwrap();
    let globex = seed.tenant("Globex").await.unwrap();
    assert_ne!(acme.id, globex.id);
    assert_eq!(
        store.tenants().await.unwrap(),
        vec![acme.clone(), globex.clone()]
    );

    let origins = vec![
        "https://shop.example".to_owned(),
        "https://www.shop.example".to_owned(),
    ];
    let shop = seed.site(acme.id, "Shop", &origins).await.unwrap();
    let blog = seed.site(globex.id, "Blog", &[]).await.unwrap();
    assert_eq!(shop.tenant_id, acme.id);
    assert_eq!(shop.origins, origins);
    assert_eq!(
        store.sites().await.unwrap(),
        vec![shop.clone(), blog.clone()]
    );

    for site in [&shop, &blog] {
        for (environment, prefix) in [
            (Environment::Production, "ngp_"),
            (Environment::Staging, "ngs_"),
        ] {
            let key = site.key(environment);
            assert_eq!(key.len(), 36, "{key}");
            assert!(key.starts_with(prefix), "{key}");
            assert!(
                key[4..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{key}"
            );
        }
        assert_ne!(site.production_key, site.staging_key);
    }
    assert_ne!(shop.production_key, blog.production_key);
    assert_ne!(shop.staging_key, blog.staging_key);

    let unknown = nexaguard_store::TenantId(Uuid::new_v4());
    assert!(matches!(
        seed.site(unknown, "Nowhere", &[]).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.sites().await.unwrap().len(), 2);
    assert!(store.ping().await.is_ok());
    store.close().await;
}

async fn config_versions(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let other = tenant_and_site(admin.as_ref()).await;
    let seed = Seed(admin.as_ref());
    assert!(store.latest_configs().await.unwrap().is_empty());

    for version in 1..=3 {
        let json = format!(r#"{{"version":{version}}}"#);
        let published = seed
            .publish(&site, Environment::Production, &json)
            .await
            .unwrap();
        assert_eq!(published.version, version);
        assert_eq!(published.config_json, json);
        assert_eq!(published.environment, Environment::Production);
    }
    let staging = seed
        .publish(&site, Environment::Staging, r#"{"staging":true}"#)
        .await
        .unwrap();
    assert_eq!(staging.version, 1);
    let other_config = seed
        .publish(&other, Environment::Production, "{}")
        .await
        .unwrap();
    assert_eq!(other_config.version, 1);

    let latest = store.latest_configs().await.unwrap();
    assert_eq!(latest.len(), 3, "{latest:?}");
    let prod = latest
        .iter()
        .find(|c| c.site_id == site.id && c.environment == Environment::Production)
        .unwrap();
    assert_eq!(prod.version, 3);
    assert_eq!(prod.config_json, r#"{"version":3}"#);
    assert!(latest.contains(&staging));
    assert!(latest.contains(&other_config));

    let nowhere = Site {
        id: SiteId(Uuid::new_v4()),
        ..site.clone()
    };
    assert!(matches!(
        seed.publish(&nowhere, Environment::Production, "{}").await,
        Err(StoreError::NotFound(_))
    ));
    store.close().await;
}

async fn published_configs_are_immutable(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let published = Seed(admin.as_ref())
        .publish(&site, Environment::Production, r#"{"v":1}"#)
        .await
        .unwrap();

    // The raw connection itself works: the refusals below are the schema's.
    assert_eq!(
        harness
            .execute_raw("UPDATE tenants SET name = name WHERE name = 'Acme'")
            .await,
        Ok(1)
    );
    let update = harness
        .execute_raw(r#"UPDATE site_configs SET config_json = '{"v":666}'"#)
        .await;
    assert!(update.is_err(), "{update:?}");
    let delete = harness.execute_raw("DELETE FROM site_configs").await;
    assert!(delete.is_err(), "{delete:?}");

    assert_eq!(store.latest_configs().await.unwrap(), vec![published]);
    store.close().await;
}

async fn record_duplicate_and_conflict(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let first = event(&site, Environment::Production, T0);

    let outcome = store
        .record_consent(consent(&site, first.clone(), TOKEN, 1))
        .await
        .unwrap();
    assert_eq!(outcome, RecordOutcome::Recorded { recorded_at: T0 });
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        1
    );

    // A retry gets a later recorded_at from the server; the answer keeps the
    // first one.
    let mut retry = first.clone();
    retry.recorded_at = T0 + Duration::seconds(30);
    let outcome = store
        .record_consent(consent(&site, retry.clone(), TOKEN, 1))
        .await
        .unwrap();
    assert_eq!(outcome, RecordOutcome::Duplicate { recorded_at: T0 });

    let mut reused = retry;
    reused.action = Action::RejectAll;
    let outcome = store
        .record_consent(consent(&site, reused, TOKEN, 2))
        .await
        .unwrap();
    assert_eq!(outcome, RecordOutcome::Conflict);

    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_consents(site.id, Environment::Staging)
            .await
            .unwrap(),
        0
    );
    let stored = store
        .consent_by_event_id(site.id, Environment::Production, first.event_id)
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), Some(&first));
    assert_eq!(stored.unwrap().recorded_at, T0);
    assert_eq!(
        store
            .consent_by_event_id(site.id, Environment::Staging, first.event_id)
            .await
            .unwrap(),
        None
    );
    let other = tenant_and_site(admin.as_ref()).await;
    assert_eq!(
        store
            .consent_by_event_id(other.id, Environment::Production, first.event_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.pending_writes(), 0);
    store.close().await;
}

async fn duplicates_within_one_batch(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let first = event(&site, Environment::Production, T0);

    // Sent together, these very likely share a batch: exactly one is new,
    // the others are duplicates of it.
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&store);
            let mut copy = first.clone();
            copy.recorded_at = T0 + Duration::milliseconds(i);
            let new = consent(&site, copy, TOKEN, 1);
            tokio::spawn(async move { store.record_consent(new).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let recorded: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            RecordOutcome::Recorded { recorded_at } => Some(*recorded_at),
            _ => None,
        })
        .collect();
    assert_eq!(recorded.len(), 1, "{outcomes:?}");
    for outcome in &outcomes {
        match outcome {
            RecordOutcome::Recorded { .. } => {}
            RecordOutcome::Duplicate { recorded_at } => assert_eq!(*recorded_at, recorded[0]),
            RecordOutcome::Conflict => panic!("{outcomes:?}"),
        }
    }
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        1
    );
    store.close().await;
}

async fn conflicts_within_one_batch(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let first = event(&site, Environment::Production, T0);

    // One id, two bodies, sent together: whichever body is recorded, the
    // other copies of it are duplicates and the copies of the other body
    // are conflicts, within a batch as across batches.
    let tasks: Vec<_> = (0..50u8)
        .map(|i| {
            let store = Arc::clone(&store);
            let mut copy = first.clone();
            copy.recorded_at = T0 + Duration::milliseconds(i.into());
            let hash = 1 + i % 2;
            let new = consent(&site, copy, TOKEN, hash);
            tokio::spawn(async move { (hash, store.record_consent(new).await.unwrap()) })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let recorded: Vec<_> = outcomes
        .iter()
        .filter_map(|(hash, o)| match o {
            RecordOutcome::Recorded { recorded_at } => Some((*hash, *recorded_at)),
            _ => None,
        })
        .collect();
    assert_eq!(recorded.len(), 1, "{outcomes:?}");
    let (recorded_hash, recorded_at) = recorded[0];
    for (hash, outcome) in &outcomes {
        match outcome {
            RecordOutcome::Recorded { .. } => {}
            RecordOutcome::Duplicate { recorded_at: at } => {
                assert_eq!(*hash, recorded_hash, "{outcomes:?}");
                assert_eq!(*at, recorded_at);
            }
            RecordOutcome::Conflict => assert_ne!(*hash, recorded_hash, "{outcomes:?}"),
        }
    }
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        1
    );
    store.close().await;
}

async fn a_refused_event_fails_only_itself(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    // A site that does not exist: the database refuses the row (foreign
    // key). Sent among good events, it very likely shares their batch,
    // which must then not fail them, nor acknowledge it.
    let mut unknown = site.clone();
    unknown.id = SiteId(Uuid::new_v4());
    let tasks: Vec<_> = (0..51)
        .map(|i| {
            let store = Arc::clone(&store);
            let target = if i == 25 { &unknown } else { &site };
            let new = consent(
                target,
                event(
                    target,
                    Environment::Production,
                    T0 + Duration::milliseconds(i),
                ),
                TOKEN,
                1,
            );
            tokio::spawn(async move { (i, store.record_consent(new).await) })
        })
        .collect();
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        if i == 25 {
            assert!(outcome.is_err(), "{outcome:?}");
        } else {
            assert!(
                matches!(outcome, Ok(RecordOutcome::Recorded { .. })),
                "{outcome:?}"
            );
        }
    }
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        50
    );
    assert_eq!(store.pending_writes(), 0);
    store.close().await;
}

/// Runs `futures` concurrently on this task and answers their outputs in
/// their order. Polled together, every future queues its event before the
/// first commit can answer, so the events very likely share a batch: the
/// writer takes whatever is queued once its previous commit is done.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

async fn a_batch_with_one_bad_event_fails_only_that_event(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    // A site that does not exist: both backends refuse the row (foreign
    // key), which fails the whole batch statement; the others must still
    // be recorded, answered and readable, and the bad one refused.
    let mut unknown = site.clone();
    unknown.id = SiteId(Uuid::new_v4());
    const BAD: usize = 40;
    let news: Vec<NewConsent> = (0..64u8)
        .map(|i| {
            let target = if usize::from(i) == BAD {
                &unknown
            } else {
                &site
            };
            // A token each, so that each consent is its token's latest.
            let mut token = TOKEN;
            token.0[0] = i;
            let at = T0 + Duration::milliseconds(i.into());
            consent(target, event(target, Environment::Production, at), token, 1)
        })
        .collect();
    let outcomes = join_all(
        news.iter()
            .map(|new| {
                let store = Arc::clone(&store);
                let new = new.clone();
                async move { store.record_consent(new).await }
            })
            .collect(),
    )
    .await;
    for (i, (new, outcome)) in news.iter().zip(outcomes).enumerate() {
        let id = new.event.event_id;
        if i == BAD {
            assert!(
                matches!(
                    outcome,
                    Err(StoreError::Database(_) | StoreError::Sqlite(_))
                ),
                "{outcome:?}"
            );
            continue;
        }
        assert_eq!(
            outcome.unwrap(),
            RecordOutcome::Recorded {
                recorded_at: new.event.recorded_at
            }
        );
        assert_eq!(
            store
                .consent_by_event_id(site.id, Environment::Production, id)
                .await
                .unwrap()
                .as_ref(),
            Some(&new.event)
        );
        assert_eq!(
            store
                .latest_consent(site.id, Environment::Production, &new.token_hash)
                .await
                .unwrap()
                .as_ref(),
            Some(&new.event)
        );
    }
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        63
    );
    assert_eq!(store.pending_writes(), 0);
    // Nothing of the refused event was kept, not even its id: sent again
    // for a site that exists, it is new.
    let mut retry = news[BAD].clone();
    retry.site_id = site.id;
    assert_eq!(
        store.record_consent(retry.clone()).await.unwrap(),
        RecordOutcome::Recorded {
            recorded_at: retry.event.recorded_at
        }
    );
    store.close().await;
}

async fn ids_sent_twice_in_one_burst_are_settled_like_retries(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let mut unknown = site.clone();
    unknown.id = SiteId(Uuid::new_v4());
    let at = |ms: i64| T0 + Duration::milliseconds(ms);
    let same = event(&site, Environment::Production, at(1));
    let mut same_retry = same.clone();
    same_retry.recorded_at = at(2);
    let reused = event(&site, Environment::Production, at(3));
    let mut reused_other = reused.clone();
    reused_other.recorded_at = at(4);
    reused_other.action = Action::RejectAll;
    let shown = impression(&site, Environment::Production, at(5));
    let mut chosen = event(&site, Environment::Production, at(6));
    chosen.event_id = shown.event_id;

    /// What one future of the burst sent.
    enum Sent {
        Consent(Box<NewConsent>),
        Impression(Box<NewImpression>),
    }
    let mut burst = vec![
        Sent::Consent(Box::new(consent(&site, same, TOKEN, 1))),
        Sent::Consent(Box::new(consent(&site, reused, TOKEN, 2))),
        Sent::Impression(Box::new(new_impression(&site, shown, 3))),
    ];
    // Plenty of others between them, and one event the database refuses:
    // the batch then fails and its events are recorded one by one, where
    // the copies must be settled just the same.
    for i in 10..40 {
        let target = if i == 25 { &unknown } else { &site };
        let new = event(target, Environment::Production, at(i));
        burst.push(Sent::Consent(Box::new(consent(
            target,
            new,
            OTHER_TOKEN,
            9,
        ))));
    }
    burst.push(Sent::Consent(Box::new(consent(
        &site, same_retry, TOKEN, 1,
    ))));
    burst.push(Sent::Consent(Box::new(consent(
        &site,
        reused_other,
        TOKEN,
        4,
    ))));
    burst.push(Sent::Consent(Box::new(consent(&site, chosen, TOKEN, 5))));
    let ids: Vec<Uuid> = burst
        .iter()
        .map(|sent| match sent {
            Sent::Consent(new) => new.event.event_id,
            Sent::Impression(new) => new.impression.event_id,
        })
        .collect();
    let outcomes = join_all(
        burst
            .into_iter()
            .map(|sent| {
                let store = Arc::clone(&store);
                async move {
                    match sent {
                        Sent::Consent(new) => store.record_consent(*new).await,
                        Sent::Impression(new) => store.record_impression(*new).await,
                    }
                }
            })
            .collect(),
    )
    .await;
    let of = |id: Uuid| -> Vec<&Result<RecordOutcome, StoreError>> {
        ids.iter()
            .zip(&outcomes)
            .filter(|(sent, _)| **sent == id)
            .map(|(_, outcome)| outcome)
            .collect()
    };
    // The same id and body twice: one recorded, the other a duplicate
    // answered with the recorded one's time.
    let pair: Vec<RecordOutcome> = of(ids[0])
        .into_iter()
        .map(|outcome| *outcome.as_ref().unwrap())
        .collect();
    match pair[..] {
        [RecordOutcome::Recorded { recorded_at }, RecordOutcome::Duplicate { recorded_at: first }]
        | [RecordOutcome::Duplicate { recorded_at: first }, RecordOutcome::Recorded { recorded_at }] =>
        {
            assert_eq!(first, recorded_at)
        }
        ref other => panic!("{other:?}"),
    }
    // The same id with two bodies, and an id shared by an impression and a
    // consent: one recorded, the other a conflict.
    for id in [ids[1], ids[2]] {
        let outcomes = of(id);
        assert_eq!(outcomes.len(), 2, "{outcomes:?}");
        let recorded = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(RecordOutcome::Recorded { .. })))
            .count();
        let conflicts = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(RecordOutcome::Conflict)))
            .count();
        assert_eq!((recorded, conflicts), (1, 1), "{outcomes:?}");
    }
    let refused = outcomes.iter().filter(|o| o.is_err()).count();
    assert_eq!(refused, 1, "{outcomes:?}");
    let impressions = impressions_of(store.as_ref(), &site, Environment::Production, &[ids[2]])
        .await
        .len();
    let consents = store
        .count_consents(site.id, Environment::Production)
        .await
        .unwrap();
    // 29 others, the same id once, the reused id once, and the shared id
    // once as whichever kind came first.
    assert_eq!(consents + impressions as u64, 29 + 3);
    assert_eq!(store.pending_writes(), 0);
    store.close().await;
}

async fn concurrent_records_are_all_committed(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let store = Arc::clone(&store);
            let new = consent(
                &site,
                event(
                    &site,
                    Environment::Production,
                    T0 + Duration::milliseconds(i),
                ),
                TOKEN,
                1,
            );
            tokio::spawn(async move { (new.event.recorded_at, store.record_consent(new).await) })
        })
        .collect();
    for task in tasks {
        let (recorded_at, outcome) = task.await.unwrap();
        assert_eq!(outcome.unwrap(), RecordOutcome::Recorded { recorded_at });
    }
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        500
    );
    assert_eq!(store.pending_writes(), 0);
    let latest = store
        .latest_consent(site.id, Environment::Production, &TOKEN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.recorded_at, T0 + Duration::milliseconds(499));
    store.close().await;
}

async fn latest_consent_is_scoped(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let other_site = tenant_and_site(admin.as_ref()).await;
    let record = |site: &Site, event: ConsentEvent, token: TokenHash| {
        let store = Arc::clone(&store);
        let new = consent(site, event, token, 1);
        async move {
            assert!(matches!(
                store.record_consent(new).await.unwrap(),
                RecordOutcome::Recorded { .. }
            ));
        }
    };
    assert_eq!(
        store
            .latest_consent(site.id, Environment::Production, &TOKEN)
            .await
            .unwrap(),
        None
    );

    let newest_production = event(&site, Environment::Production, T0 + Duration::hours(2));
    // Recorded out of time order: "newest" is by recorded_at, not arrival.
    record(&site, newest_production.clone(), TOKEN).await;
    record(&site, event(&site, Environment::Production, T0), TOKEN).await;
    // Newer still, but staging, another token, or another site.
    let staging = event(&site, Environment::Staging, T0 + Duration::hours(5));
    record(&site, staging.clone(), TOKEN).await;
    record(
        &site,
        event(&site, Environment::Production, T0 + Duration::hours(6)),
        OTHER_TOKEN,
    )
    .await;
    record(
        &other_site,
        event(
            &other_site,
            Environment::Production,
            T0 + Duration::hours(7),
        ),
        TOKEN,
    )
    .await;

    let latest = store
        .latest_consent(site.id, Environment::Production, &TOKEN)
        .await
        .unwrap();
    assert_eq!(latest, Some(newest_production.clone()));
    let latest = store
        .latest_consent(site.id, Environment::Staging, &TOKEN)
        .await
        .unwrap();
    assert_eq!(latest, Some(staging));
    assert_eq!(
        store
            .latest_consent(site.id, Environment::Staging, &OTHER_TOKEN)
            .await
            .unwrap(),
        None
    );

    // Equal recorded_at: the later insert wins.
    let mut tie = event(
        &site,
        Environment::Production,
        newest_production.recorded_at,
    );
    tie.action = Action::Withdraw;
    record(&site, tie.clone(), TOKEN).await;
    let latest = store
        .latest_consent(site.id, Environment::Production, &TOKEN)
        .await
        .unwrap();
    assert_eq!(latest, Some(tie));
    store.close().await;
}

async fn retention_deletes_before_the_cutoff(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    for (days, environment) in [
        (-400, Environment::Production),
        (-200, Environment::Staging),
        (-1, Environment::Production),
        (0, Environment::Production),
    ] {
        let new = consent(
            &site,
            event(&site, environment, T0 + Duration::days(days)),
            TOKEN,
            1,
        );
        store.record_consent(new).await.unwrap();
    }
    let cutoff = T0 - Duration::days(1);
    assert_eq!(store.delete_consents_before(cutoff).await.unwrap(), 2);
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_consents(site.id, Environment::Staging)
            .await
            .unwrap(),
        0
    );
    // The cutoff itself is kept: only strictly earlier records go.
    assert_eq!(store.delete_consents_before(cutoff).await.unwrap(), 0);
    assert_eq!(
        store
            .delete_consents_before(T0 + Duration::nanoseconds(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        0
    );
    store.close().await;
}

async fn impressions_are_recorded_once_and_read_back_in_their_site_environment(
    harness: &dyn Harness,
) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let first = impression(&site, Environment::Production, T0);
    let outcome = store
        .record_impression(new_impression(&site, first.clone(), 1))
        .await
        .unwrap();
    assert_eq!(outcome, RecordOutcome::Recorded { recorded_at: T0 });

    let mut retry = first.clone();
    retry.recorded_at = T0 + Duration::seconds(5);
    assert_eq!(
        store
            .record_impression(new_impression(&site, retry.clone(), 1))
            .await
            .unwrap(),
        RecordOutcome::Duplicate { recorded_at: T0 }
    );
    retry.language = "de".to_owned();
    assert_eq!(
        store
            .record_impression(new_impression(&site, retry, 2))
            .await
            .unwrap(),
        RecordOutcome::Conflict
    );

    let unknown = Uuid::new_v4();
    let ids = [first.event_id, unknown];
    assert_eq!(
        impressions_of(store.as_ref(), &site, Environment::Production, &ids).await,
        vec![first.clone()]
    );
    assert!(
        impressions_of(store.as_ref(), &site, Environment::Staging, &ids)
            .await
            .is_empty()
    );
    let other = tenant_and_site(admin.as_ref()).await;
    assert!(
        impressions_of(store.as_ref(), &other, Environment::Production, &ids)
            .await
            .is_empty()
    );
    assert!(
        impressions_of(store.as_ref(), &site, Environment::Production, &[])
            .await
            .is_empty()
    );
    // An impression is not a consent.
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.pending_writes(), 0);
    store.close().await;
}

async fn an_event_id_is_unique_across_consents_and_impressions(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let consent_event = event(&site, Environment::Production, T0);
    store
        .record_consent(consent(&site, consent_event.clone(), TOKEN, 1))
        .await
        .unwrap();
    let mut shown = impression(&site, Environment::Production, T0);
    shown.event_id = consent_event.event_id;
    assert_eq!(
        store
            .record_impression(new_impression(&site, shown, 2))
            .await
            .unwrap(),
        RecordOutcome::Conflict
    );

    let shown = impression(&site, Environment::Production, T0);
    store
        .record_impression(new_impression(&site, shown.clone(), 3))
        .await
        .unwrap();
    let mut chosen = event(&site, Environment::Production, T0);
    chosen.event_id = shown.event_id;
    assert_eq!(
        store
            .record_consent(consent(&site, chosen, TOKEN, 4))
            .await
            .unwrap(),
        RecordOutcome::Conflict
    );
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        impressions_of(
            store.as_ref(),
            &site,
            Environment::Production,
            &[shown.event_id, consent_event.event_id]
        )
        .await,
        vec![shown]
    );
    store.close().await;
}

async fn consents_and_impressions_sent_together_are_all_committed(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = Arc::clone(&store);
            let at = T0 + Duration::milliseconds(i);
            let site = site.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let shown = impression(&site, Environment::Production, at);
                    let id = shown.event_id;
                    let outcome = store.record_impression(new_impression(&site, shown, 1));
                    (Some(id), outcome.await.unwrap())
                } else {
                    let new = consent(&site, event(&site, Environment::Production, at), TOKEN, 1);
                    (None, store.record_consent(new).await.unwrap())
                }
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let (id, outcome) = task.await.unwrap();
        assert!(
            matches!(outcome, RecordOutcome::Recorded { .. }),
            "{outcome:?}"
        );
        ids.extend(id);
    }
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        100
    );
    assert_eq!(
        impressions_of(store.as_ref(), &site, Environment::Production, &ids)
            .await
            .len(),
        100
    );
    store.close().await;
}

async fn a_version_2_consent_reads_back_with_every_new_field(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let mut chosen = event(&site, Environment::Production, T0);
    chosen.region = Some("US-CA".parse().unwrap());
    chosen.experience = Some(ExperienceKind::Us);
    chosen.gpp_string = Some("DBABBg~BVAAAAAAAAQA.QA".to_owned());
    chosen.gpp_section_ids = vec![8];
    chosen.gpc = Some(Gpc {
        present: true,
        applied: true,
    });
    chosen.source = Source::Gpc;
    chosen.notice_version = Some(notice());
    chosen.impression_id = Some(Uuid::new_v4());
    store
        .record_consent(consent(&site, chosen.clone(), TOKEN, 1))
        .await
        .unwrap();
    assert_eq!(
        store
            .consent_by_event_id(site.id, Environment::Production, chosen.event_id)
            .await
            .unwrap(),
        Some(chosen.clone())
    );
    assert_eq!(
        store
            .latest_consent(site.id, Environment::Production, &TOKEN)
            .await
            .unwrap(),
        Some(chosen)
    );
    store.close().await;
}

async fn retention_deletes_impressions_with_the_consents(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let mut shown = Vec::new();
    for days in [-400, -200, -1, 0] {
        let new = impression(&site, Environment::Production, T0 + Duration::days(days));
        store
            .record_impression(new_impression(&site, new.clone(), 1))
            .await
            .unwrap();
        shown.push(new);
    }
    store
        .record_consent(consent(
            &site,
            event(&site, Environment::Production, T0 - Duration::days(300)),
            TOKEN,
            1,
        ))
        .await
        .unwrap();
    let ids: Vec<Uuid> = shown.iter().map(|i| i.event_id).collect();
    // The answer counts consents; the impressions before the cutoff go too.
    let cutoff = T0 - Duration::days(1);
    assert_eq!(store.delete_consents_before(cutoff).await.unwrap(), 1);
    assert_eq!(
        impressions_of(store.as_ref(), &site, Environment::Production, &ids).await,
        shown[2..].to_vec()
    );
    // A deleted impression's id is free again, as a consent's is.
    assert_eq!(
        store
            .record_impression(new_impression(&site, shown[0].clone(), 1))
            .await
            .unwrap(),
        RecordOutcome::Recorded {
            recorded_at: shown[0].recorded_at
        }
    );
    store.close().await;
}

async fn close_refuses_writes_and_data_persists(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let config = Seed(admin.as_ref())
        .publish(&site, Environment::Production, r#"{"v":1}"#)
        .await
        .unwrap();
    let first = event(&site, Environment::Production, T0);
    store
        .record_consent(consent(&site, first.clone(), TOKEN, 1))
        .await
        .unwrap();
    let tenants = store.tenants().await.unwrap();

    store.close().await;
    let late = consent(&site, event(&site, Environment::Production, T0), TOKEN, 1);
    assert!(matches!(
        store.record_consent(late).await,
        Err(StoreError::Closed)
    ));
    // Writes that are not consents are refused too (on SQLite they take
    // the writer's queue as well, on PostgreSQL the pool).
    let late = new_impression(&site, impression(&site, Environment::Production, T0), 1);
    assert!(matches!(
        store.record_impression(late).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        store.delete_consents_before(T0).await,
        Err(StoreError::Closed)
    ));
    store.close().await; // idempotent
    assert_eq!(store.pending_writes(), 0);
    drop(store);

    let Stores { store, admin } = harness.open().await;
    assert_eq!(store.tenants().await.unwrap(), tenants);
    assert_eq!(store.sites().await.unwrap(), vec![site.clone()]);
    assert_eq!(store.latest_configs().await.unwrap(), vec![config]);
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .latest_consent(site.id, Environment::Production, &TOKEN)
            .await
            .unwrap(),
        Some(first.clone())
    );
    // Idempotency holds across restarts.
    assert_eq!(
        store
            .record_consent(consent(&site, first, TOKEN, 1))
            .await
            .unwrap(),
        RecordOutcome::Duplicate { recorded_at: T0 }
    );
    // Versions continue where they were.
    let next = Seed(admin.as_ref())
        .publish(&site, Environment::Production, "{}")
        .await
        .unwrap();
    assert_eq!(next.version, 2);
    store.close().await;
}

async fn close_commits_everything_acknowledged(harness: &dyn Harness) {
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let store = Arc::clone(&store);
            let new = consent(&site, event(&site, Environment::Production, T0), TOKEN, 1);
            tokio::spawn(async move { store.record_consent(new).await })
        })
        .collect();
    tokio::task::yield_now().await;
    store.close().await;
    let mut acknowledged = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(RecordOutcome::Recorded { .. }) => acknowledged += 1,
            Err(StoreError::Closed) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(store.pending_writes(), 0);
    drop(store);

    let store = harness.open().await.store;
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        acknowledged
    );
    store.close().await;
}

/// Runs every shared test against one backend, each as its own `#[test]`
/// on a fresh harness. `$harness` is an expression making one; after
/// `optional`, an expression (evaluated in the async test, so it may
/// `.await`) making an `Option` of one, `None` skipping the test.
/// Two stores on one database (two processes' worth): while one holds the
/// setup lock the other waits, and gets it once the first lets go.
async fn setup_lock_is_held_by_one_store_at_a_time(harness: &dyn Harness) {
    let first = harness.open().await.store;
    let second = harness.open().await.store;
    let held = first.setup_lock().await.unwrap();
    let waiting = tokio::spawn(async move {
        let lock = second.setup_lock().await.unwrap();
        drop(lock);
        second.close().await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the second store took the lock while the first held it"
    );
    drop(held);
    tokio::time::timeout(std::time::Duration::from_secs(30), waiting)
        .await
        .expect("the second store never got the lock after the first let go")
        .unwrap();
    first.close().await;
}

macro_rules! store_tests {
    ($backend:ident, optional $harness:expr) => {
        store_tests!(@all $backend, $harness);
    };
    ($backend:ident, $harness:expr) => {
        store_tests!(@all $backend, Some($harness));
    };
    (@all $backend:ident, $harness:expr) => {
        store_tests!(@cases $backend, $harness, [
            tenants_and_sites,
            config_versions,
            published_configs_are_immutable,
            record_duplicate_and_conflict,
            duplicates_within_one_batch,
            conflicts_within_one_batch,
            a_refused_event_fails_only_itself,
            a_batch_with_one_bad_event_fails_only_that_event,
            ids_sent_twice_in_one_burst_are_settled_like_retries,
            concurrent_records_are_all_committed,
            latest_consent_is_scoped,
            retention_deletes_before_the_cutoff,
            impressions_are_recorded_once_and_read_back_in_their_site_environment,
            an_event_id_is_unique_across_consents_and_impressions,
            consents_and_impressions_sent_together_are_all_committed,
            a_version_2_consent_reads_back_with_every_new_field,
            retention_deletes_impressions_with_the_consents,
            close_refuses_writes_and_data_persists,
            close_commits_everything_acknowledged,
            setup_lock_is_held_by_one_store_at_a_time,
        ]);
    };
    (@cases $backend:ident, $harness:expr, [$($case:ident),* $(,)?]) => {
        mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(harness) = $harness else {
                        return;
                    };
                    super::$case(&harness).await;
                }
            )*
        }
    };
}

// One line per backend.
store_tests!(sqlite, SqliteHarness::new());
store_tests!(postgres, optional PostgresHarness::new().await);

// ---------------------------------------------------------------------------
// SQLite only

#[tokio::test]
async fn sqlite_file_is_in_wal_mode_and_migrations_are_idempotent() {
    let harness = SqliteHarness::new();
    SqliteStore::migrate_only(&harness.path).await.unwrap();
    SqliteStore::migrate_only(&harness.path).await.unwrap();
    let store = harness.open().await.store;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&harness.path)
        .connect()
        .await
        .unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();
    store.close().await;
}

// ---------------------------------------------------------------------------
// PostgreSQL only

/// The name of the consent partition of the UTC month of `at`.
fn partition_of(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!("consents_y{:04}m{:02}", utc.year(), u8::from(utc.month()))
}

/// The partitions of `consents`, by name.
async fn partitions(conn: &mut PgConnection) -> Vec<String> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT c.relname::text FROM pg_inherits AS i \
         JOIN pg_class AS c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'consents'::regclass ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap();
    names.into_iter().map(|(name,)| name).collect()
}

/// Rows per partition, from each row's `tableoid`.
async fn rows_per_partition(conn: &mut PgConnection) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT tableoid::regclass::text, count(*) FROM consents GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap();
    rows.into_iter().collect()
}

async fn table_exists(conn: &mut PgConnection, name: &str) -> bool {
    let (exists,): (bool,) = sqlx::query_as("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(conn)
        .await
        .unwrap();
    exists
}

async fn count_rows(conn: &mut PgConnection, sql: &str) -> i64 {
    let (count,): (i64,) = sqlx::query_as(sql).fetch_one(conn).await.unwrap();
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_consents_land_in_monthly_partitions() {
    let Some(harness) = PostgresHarness::new().await else {
        return;
    };
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let mut conn = harness.connect().await;

    // Opening created this month's and next month's partitions.
    let now = OffsetDateTime::now_utc();
    let existing = partitions(&mut conn).await;
    assert!(existing.contains(&partition_of(now)), "{existing:?}");
    let next_month = partition_of(now.replace_day(1).unwrap() + Duration::days(32));
    assert!(existing.contains(&next_month), "{existing:?}");

    // Months are UTC months: 01:30 on 1 June in Berlin is still May.
    let times = [
        datetime!(2023-03-10 12:00:00.000000001 UTC),
        datetime!(2024-05-01 00:00:00 UTC),
        datetime!(2024-06-01 01:30:00.999999999 +02:00),
        datetime!(2024-06-01 00:00:00 UTC),
    ];
    let mut events = Vec::new();
    for at in times {
        let new = event(&site, Environment::Production, at);
        assert_eq!(
            store
                .record_consent(consent(&site, new.clone(), TOKEN, 1))
                .await
                .unwrap(),
            RecordOutcome::Recorded { recorded_at: at }
        );
        events.push(new);
    }
    let per_partition = rows_per_partition(&mut conn).await;
    assert_eq!(
        per_partition,
        BTreeMap::from([
            ("consents_y2023m03".to_owned(), 1),
            ("consents_y2024m05".to_owned(), 2),
            ("consents_y2024m06".to_owned(), 1),
        ])
    );
    // Partitions made on demand get the parent's indexes.
    let (indexes,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM pg_indexes WHERE tablename = 'consents_y2023m03'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        indexes, 4,
        "primary key, by token, by recorded_at, by site and time"
    );

    // An event id is unique across partitions: a retry whose time falls in
    // another month is a duplicate of the first, answered with its time,
    // and stores nothing (not even a partition for the new month).
    let mut retry = events[0].clone();
    retry.recorded_at = datetime!(2025-01-15 00:00 UTC);
    assert_eq!(
        store
            .record_consent(consent(&site, retry, TOKEN, 1))
            .await
            .unwrap(),
        RecordOutcome::Duplicate {
            recorded_at: times[0]
        }
    );
    assert!(!table_exists(&mut conn, "consents_y2025m01").await);
    assert_eq!(rows_per_partition(&mut conn).await, per_partition);
    assert_eq!(
        count_rows(&mut conn, "SELECT count(*) FROM consent_ids").await,
        4
    );
    // Every event reads back exactly, whichever partition holds it.
    for new in &events {
        assert_eq!(
            store
                .consent_by_event_id(site.id, Environment::Production, new.event_id)
                .await
                .unwrap()
                .as_ref(),
            Some(new)
        );
    }
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_retention_drops_whole_months() {
    let Some(harness) = PostgresHarness::new().await else {
        return;
    };
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let mut conn = harness.connect().await;

    let mut events = Vec::new();
    for at in [
        datetime!(2023-03-10 12:00 UTC),
        datetime!(2023-03-20 12:00 UTC),
        datetime!(2024-05-10 12:00 UTC),
        datetime!(2024-05-20 12:00 UTC),
        datetime!(2024-06-01 00:00 UTC),
    ] {
        let new = event(&site, Environment::Production, at);
        store
            .record_consent(consent(&site, new.clone(), TOKEN, 1))
            .await
            .unwrap();
        events.push(new);
    }

    // March 2023 ends before the cutoff: dropped whole (2 rows). May 2024
    // holds the cutoff: its earlier row is deleted (1 row), the later one
    // and June stay.
    let cutoff = datetime!(2024-05-15 00:00 UTC);
    assert_eq!(store.delete_consents_before(cutoff).await.unwrap(), 3);
    assert!(!table_exists(&mut conn, "consents_y2023m03").await);
    assert!(table_exists(&mut conn, "consents_y2024m05").await);
    assert_eq!(
        rows_per_partition(&mut conn).await,
        BTreeMap::from([
            ("consents_y2024m05".to_owned(), 1),
            ("consents_y2024m06".to_owned(), 1),
        ])
    );
    // The ids went with their consents, dropped month included.
    let ids: Vec<(Uuid,)> = sqlx::query_as("SELECT event_id FROM consent_ids ORDER BY recorded_at")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(ids, vec![(events[3].event_id,), (events[4].event_id,)]);
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.delete_consents_before(cutoff).await.unwrap(), 0);

    // A forgotten event is new again; its month comes back on demand.
    assert_eq!(
        store
            .record_consent(consent(&site, events[0].clone(), TOKEN, 1))
            .await
            .unwrap(),
        RecordOutcome::Recorded {
            recorded_at: events[0].recorded_at
        }
    );
    assert!(table_exists(&mut conn, "consents_y2023m03").await);
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_latest_consent_uses_the_token_index() {
    let Some(harness) = PostgresHarness::new().await else {
        return;
    };
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    let wanted = event(&site, Environment::Production, T0);
    store
        .record_consent(consent(&site, wanted.clone(), TOKEN, 1))
        .await
        .unwrap();

    // A big month of other tokens' consents beside it, written directly.
    let mut conn = harness.connect().await;
    sqlx::query(
        "INSERT INTO consents (event_id, site_id, environment, token_hash, body_hash, \
                               recorded_at, recorded_at_ns, inserted_at, body) \
         SELECT gen_random_uuid(), $1, 'production', sha256(int8send(i)), sha256(int8send(i)), \
                timestamptz '2024-05-01 00:00:00+00' + i * interval '1 second', 0, now(), '{}' \
         FROM generate_series(1, 50000) AS i",
    )
    .bind(site.id.0)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.execute("ANALYZE consents").await.unwrap();

    let plan: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN {LATEST_CONSENT_SQL}"))
        .bind(site.id.0)
        .bind(Environment::Production.as_str())
        .bind(TOKEN.as_bytes())
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|(line,)| line).collect();
    let plan = plan.join("\n");
    let big = partition_of(T0);
    assert!(
        plan.lines()
            .any(|line| line.contains("Index") && line.contains(&format!("on {big}"))),
        "{plan}"
    );
    assert!(!plan.contains(&format!("Seq Scan on {big}")), "{plan}");
    assert!(plan.contains("token_hash = "), "{plan}");

    // And the query answers right among all that.
    assert_eq!(
        store
            .latest_consent(site.id, Environment::Production, &TOKEN)
            .await
            .unwrap(),
        Some(wanted)
    );
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_are_idempotent_and_unsafe_settings_are_refused() {
    let Some(harness) = PostgresHarness::new().await else {
        return;
    };
    PostgresStore::migrate_only(&harness.url).await.unwrap();
    PostgresStore::migrate_only(&harness.url).await.unwrap();
    let store = harness.open().await.store;
    store.close().await;

    // Acknowledging consents before the WAL is flushed is refused.
    let mut conn = harness.connect().await;
    conn.execute(
        format!(
            "ALTER DATABASE {} SET synchronous_commit = off",
            harness.database
        )
        .as_str(),
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
    let refused = PostgresStore::open_with(&harness.url, &test_options()).await;
    assert!(
        matches!(&refused, Err(StoreError::Database(_))),
        "{refused:?}"
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("synchronous_commit"),
        "the error says why"
    );
}

#[tokio::test]
async fn sqlite_refuses_at_once_when_the_write_queue_is_full_and_loses_nothing() {
    let harness = SqliteHarness::new();
    let Stores { store, admin } = harness.open().await;
    let site = tenant_and_site(admin.as_ref()).await;
    // A slow disk, simulated: another connection holds the write lock, so
    // the writer waits (up to its busy timeout) and the queue fills.
    let mut blocker = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&harness.path)
        .connect()
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..3000)
        .map(|i| {
            let store = Arc::clone(&store);
            let new = consent(
                &site,
                event(
                    &site,
                    Environment::Production,
                    T0 + Duration::milliseconds(i),
                ),
                TOKEN,
                1,
            );
            tokio::spawn(async move { store.record_consent(new).await })
        })
        .collect();
    // Let the queue fill, then release the lock before the busy timeout.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    blocker.close().await.unwrap();
    let (mut recorded, mut refused) = (0u64, 0u64);
    for task in tasks {
        match task.await.unwrap() {
            Ok(RecordOutcome::Recorded { .. }) => recorded += 1,
            Err(StoreError::Overloaded) => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(refused > 0, "nothing was refused: the queue is unbounded");
    assert!(recorded > 0);
    assert_eq!(recorded + refused, 3000);
    // Every acknowledged event is stored, and nothing else.
    assert_eq!(
        store
            .count_consents(site.id, Environment::Production)
            .await
            .unwrap(),
        recorded
    );
    assert!(StoreError::Overloaded.is_unavailable());
    store.close().await;
}
