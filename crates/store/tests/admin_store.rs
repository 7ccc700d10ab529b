//! The behaviour every `AdminStore` backend must have, written once against
//! the trait and run for each backend (as `tests/store.rs` does for
//! `Store`).
//!
//! A backend plugs in through [`Harness`] (open the consent store and the
//! admin store on a fresh database, run raw SQL beside them) and one
//! `admin_tests!` line at the bottom of this file.
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
use nexaguard_access::{Permission, Role, Throttle};
use nexaguard_audit::{
    verify_chain, Action, Actor, AuditEvent, ChainId, CheckpointSigner, Outcome,
};
use nexaguard_consent::config::ConsentState;
use nexaguard_consent::context::{DeviceClass, EventContext};
use nexaguard_consent::event::{ConsentEvent, ConsentModeStates, Source, SCHEMA_VERSION};
use nexaguard_consent::token::TokenHash;
use nexaguard_consent::Environment;
use nexaguard_store::admin::{
    ApiToken, ApiTokenId, AuditAppend, ConsentQuery, DraftSave, Invitation, NewUser, SessionRecord,
    StoredDataKey, User, UserChange,
};
use nexaguard_store::webhooks::{
    DeliveryStatus, Settlement, Webhook, WebhookChange, WebhookId, MAX_ERROR_LEN,
};
use nexaguard_store::{
    AdminStore, NewConsent, PostgresAdminStore, PostgresStore, RecordOutcome, Site,
    SqliteAdminStore, SqliteStore, Store, StoreError, TenantId,
};
use sqlx::postgres::PgConnection;
use sqlx::{ConnectOptions, Connection};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Both stores of one database.
struct Stores {
    store: Arc<dyn Store>,
    admin: Arc<dyn AdminStore>,
}

/// What a backend provides to the shared tests. Each test gets a harness on
/// a database of its own.
#[async_trait]
trait Harness: Send + Sync {
    /// Opens the consent store and the admin store on this harness's
    /// database.
    async fn open(&self) -> Stores;

    /// Runs one SQL statement on a connection of its own, outside the
    /// stores, as an operator with a database shell would.
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

// The PostgreSQL harness, as in tests/store.rs (copied rather than shared,
// so that the two test files can change independently).

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
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        let result = sqlx::query(sql).execute(&mut conn).await;
        conn.close().await.unwrap();
        result
            .map(|done| done.rows_affected())
            .map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------------------
// Fixtures

/// Concurrent tasks in the concurrency tests.
const TASKS: usize = 8;

/// Now, to the microsecond: times the tests hand in and compare after a
/// round trip (PostgreSQL keeps microseconds; the truncation itself is
/// tested separately).
fn now_micros() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

/// An audit entry to append with a change.
fn audit(chain: ChainId, action: Action, target: &str) -> AuditAppend {
    AuditAppend {
        chain,
        event: AuditEvent::new(action, Actor::System, target, Outcome::Success),
        at: OffsetDateTime::now_utc(),
    }
}

fn chain_of(tenant: TenantId) -> ChainId {
    ChainId::Tenant(tenant.0)
}

/// Every entry of a chain.
async fn entries(admin: &dyn AdminStore, chain: ChainId) -> Vec<nexaguard_audit::AuditEntry> {
    admin.audit_entries(chain, 0, 100_000).await.unwrap()
}

fn new_user(tenant: Option<TenantId>, role: Role, email: u8) -> NewUser {
    NewUser {
        tenant,
        role,
        email_index: [email; 32],
        email_sealed: format!("v1.k.sealed-{email}"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
    }
}

async fn create_user(admin: &dyn AdminStore, tenant: TenantId, role: Role, email: u8) -> User {
    admin
        .create_user(
            new_user(Some(tenant), role, email),
            audit(chain_of(tenant), Action::UserCreated, "user"),
        )
        .await
        .unwrap()
}

fn session(user: &User, id: u8, at: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        id_hash: [id; 32],
        user: user.id,
        mfa_verified: id % 2 == 0,
        mfa_at: (id % 2 == 0).then_some(at),
        created_at: at,
        last_seen_at: at,
    }
}

async fn tenant_and_site(stores: &Stores) -> (TenantId, Site) {
    let seed = Seed(stores.admin.as_ref());
    let tenant = seed.tenant("Acme").await.unwrap().id;
    let site = seed
        .site(tenant, "Shop", &["https://shop.example".to_owned()])
        .await
        .unwrap();
    (tenant, site)
}

fn consent_event(
    site: &Site,
    environment: Environment,
    recorded_at: OffsetDateTime,
) -> ConsentEvent {
    ConsentEvent {
        event_id: Uuid::new_v4(),
        schema_version: SCHEMA_VERSION,
        site_key: site.key(environment).to_owned(),
        environment,
        config_version: 1,
        timestamp: recorded_at - Duration::milliseconds(250),
        recorded_at,
        action: nexaguard_consent::event::Action::Custom,
        source: Source::Banner,
        tc_string: None,
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
        purposes: vec![1],
        custom_purposes: vec![],
        vendors: vec![],
        custom_vendors: vec![],
        language: "de".to_owned(),
        sdk_version: "0.1.0".to_owned(),
        context: EventContext {
            country: Some("DE".to_owned()),
            device_class: DeviceClass::Desktop,
        },
        policy_warnings: vec![],
        region: None,
        experience: None,
        gpp_string: None,
        gpp_section_ids: vec![],
        gpc: None,
        notice_version: None,
        impression_id: None,
    }
}

// ---------------------------------------------------------------------------
// The shared tests

async fn users(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let acme = Seed(admin).tenant("Acme").await.unwrap().id;
    let globex = Seed(admin).tenant("Globex").await.unwrap().id;
    // The two tenants' creation entries.
    let platform_before = entries(admin, ChainId::Platform).await.len();

    let alice = create_user(admin, acme, Role::Admin, 1).await;
    let bob = create_user(admin, acme, Role::Viewer, 2).await;
    let carol = create_user(admin, globex, Role::Owner, 3).await;
    let operator = admin
        .create_user(
            new_user(None, Role::PlatformOperator, 4),
            audit(ChainId::Platform, Action::UserCreated, "user"),
        )
        .await
        .unwrap();
    assert_eq!(alice.tenant, Some(acme));
    assert!(!alice.has_mfa());
    assert_eq!(alice.throttle, Throttle::default());
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 2);
    assert_eq!(admin.count_users().await.unwrap(), 4);

    // What was created reads back exactly, by address and by id.
    assert_eq!(
        admin.users_by_email_index(&[1; 32]).await.unwrap(),
        vec![alice.clone()]
    );
    assert_eq!(admin.user(bob.id).await.unwrap(), Some(bob.clone()));
    assert!(admin
        .users_by_email_index(&[9; 32])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        admin.users(Some(acme)).await.unwrap(),
        vec![alice.clone(), bob.clone()]
    );
    assert_eq!(
        admin.users(Some(globex)).await.unwrap(),
        vec![carol.clone()]
    );
    assert_eq!(admin.users(None).await.unwrap(), vec![operator.clone()]);

    // An address taken in the tenant is a conflict, and nothing is kept:
    // neither a user nor an audit entry. So is an operator's address for
    // another operator.
    let taken = admin
        .create_user(
            new_user(Some(acme), Role::Viewer, 1),
            audit(chain_of(acme), Action::UserCreated, "user"),
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let taken = admin
        .create_user(
            new_user(None, Role::PlatformOperator, 4),
            audit(ChainId::Platform, Action::UserCreated, "user"),
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(admin.count_users().await.unwrap(), 4);
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 2);
    assert_eq!(
        entries(admin, ChainId::Platform).await.len(),
        platform_before + 1
    );

    // The CHECK keeps platform operators and tenants apart.
    assert!(admin
        .create_user(
            new_user(None, Role::Admin, 5),
            audit(ChainId::Platform, Action::UserCreated, "user"),
        )
        .await
        .is_err());
    assert_eq!(
        entries(admin, ChainId::Platform).await.len(),
        platform_before + 1
    );

    // Changes are scoped by tenant: through another tenant, or as a
    // platform operator, the user is not there, and nothing is appended.
    for scope in [Some(globex), None] {
        assert!(!admin
            .update_user(
                scope,
                alice.id,
                UserChange::Role(Role::Owner),
                Some(audit(chain_of(globex), Action::UserRoleChanged, "user")),
            )
            .await
            .unwrap());
    }
    assert_eq!(
        admin.user(alice.id).await.unwrap().unwrap().role,
        Role::Admin
    );
    assert_eq!(entries(admin, chain_of(globex)).await.len(), 1);
    assert!(admin
        .update_user(
            Some(acme),
            alice.id,
            UserChange::Role(Role::Owner),
            Some(audit(chain_of(acme), Action::UserRoleChanged, "user")),
        )
        .await
        .unwrap());
    assert_eq!(
        admin.user(alice.id).await.unwrap().unwrap().role,
        Role::Owner
    );
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 3);
    assert!(admin
        .update_user(
            None,
            operator.id,
            UserChange::TotpOffered("v1.k.pending".to_owned()),
            None,
        )
        .await
        .unwrap());
    assert_eq!(
        admin
            .user(operator.id)
            .await
            .unwrap()
            .unwrap()
            .totp_pending_sealed
            .as_deref(),
        Some("v1.k.pending")
    );

    // The throttle round-trips (to the microsecond).
    let throttle = Throttle {
        failures: u32::MAX,
        locked_until: Some(now_micros() + Duration::minutes(5)),
    };
    assert!(admin
        .update_user(Some(acme), bob.id, UserChange::Throttle(throttle), None)
        .await
        .unwrap());
    assert_eq!(
        admin.user(bob.id).await.unwrap().unwrap().throttle,
        throttle
    );

    // A new password revokes the user's sessions, and only theirs.
    let at = now_micros();
    for (user, id) in [(&alice, 10), (&alice, 11), (&bob, 12)] {
        admin
            .create_session(session(user, id, at), None)
            .await
            .unwrap();
    }
    assert!(admin
        .update_user(
            Some(acme),
            alice.id,
            UserChange::Password("$argon2id$new".to_owned()),
            Some(audit(chain_of(acme), Action::PasswordChanged, "user")),
        )
        .await
        .unwrap());
    assert_eq!(admin.session(&[10; 32]).await.unwrap(), None);
    assert_eq!(admin.session(&[11; 32]).await.unwrap(), None);
    assert!(admin.session(&[12; 32]).await.unwrap().is_some());

    // Removing a user takes their sessions and recovery codes with them.
    assert!(admin
        .update_user(
            Some(acme),
            bob.id,
            UserChange::TotpConfirmed {
                sealed: "v1.k.totp".to_owned(),
                step: 1,
                recovery_hashes: vec![[20; 32], [21; 32]],
            },
            None,
        )
        .await
        .unwrap());
    assert_eq!(admin.unused_recovery_codes(bob.id).await.unwrap(), 2);
    assert!(admin
        .update_user(
            Some(acme),
            bob.id,
            UserChange::Remove,
            Some(audit(chain_of(acme), Action::UserRemoved, "user")),
        )
        .await
        .unwrap());
    assert_eq!(admin.user(bob.id).await.unwrap(), None);
    assert_eq!(admin.session(&[12; 32]).await.unwrap(), None);
    assert_eq!(admin.unused_recovery_codes(bob.id).await.unwrap(), 0);
    assert_eq!(admin.users(Some(acme)).await.unwrap().len(), 1);
    assert!(!admin
        .update_user(Some(acme), bob.id, UserChange::Remove, None)
        .await
        .unwrap());
    // The address is free again.
    create_user(admin, globex, Role::Viewer, 2).await;
    // Another tenant's account of an address does not take it: one
    // address, one account per tenant, found together at sign-in.
    let alice_at_globex = create_user(admin, globex, Role::Editor, 1).await;
    let found = admin.users_by_email_index(&[1; 32]).await.unwrap();
    assert_eq!(
        found.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![alice.id, alice_at_globex.id]
    );
    stores.store.close().await;
}

async fn sessions(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let tenant = Seed(admin).tenant("Acme").await.unwrap().id;
    let user = create_user(admin, tenant, Role::Admin, 1).await;

    let at = now_micros();
    let first = session(&user, 1, at);
    admin.create_session(first.clone(), None).await.unwrap();
    assert_eq!(admin.session(&[1; 32]).await.unwrap(), Some(first));

    // A new id at step-up replaces the old one in the same transaction.
    let second = session(&user, 2, at);
    admin
        .create_session(second.clone(), Some([1; 32]))
        .await
        .unwrap();
    assert_eq!(admin.session(&[1; 32]).await.unwrap(), None);
    assert_eq!(admin.session(&[2; 32]).await.unwrap(), Some(second.clone()));

    // A session of an unknown user is refused, and the session it was to
    // replace stays.
    let mut stray = session(&user, 3, at);
    stray.user = nexaguard_store::admin::UserId(Uuid::new_v4());
    assert!(admin.create_session(stray, Some([2; 32])).await.is_err());
    assert!(admin.session(&[2; 32]).await.unwrap().is_some());

    let later = at + Duration::minutes(3);
    admin.touch_session(&[2; 32], later).await.unwrap();
    let touched = admin.session(&[2; 32]).await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, later);
    assert_eq!(touched.created_at, at);

    // Times with nanoseconds come back within a microsecond below them
    // (exactly on SQLite).
    let precise = datetime!(2024-05-01 14:00:00.123456789 +02:00);
    admin.touch_session(&[2; 32], precise).await.unwrap();
    let seen = admin.session(&[2; 32]).await.unwrap().unwrap().last_seen_at;
    assert!(
        seen <= precise && precise - seen < Duration::microseconds(1),
        "{seen}"
    );

    let before = entries(admin, chain_of(tenant)).await.len();
    admin
        .revoke_session(
            &[2; 32],
            Some(audit(chain_of(tenant), Action::Logout, "session")),
        )
        .await
        .unwrap();
    assert_eq!(admin.session(&[2; 32]).await.unwrap(), None);
    assert_eq!(entries(admin, chain_of(tenant)).await.len(), before + 1);
    // Revoking what is gone is not an error.
    admin.revoke_session(&[2; 32], None).await.unwrap();
    stores.store.close().await;
}

async fn totp_steps_and_recovery_codes(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = Arc::clone(&stores.admin);
    let tenant = Seed(admin.as_ref()).tenant("Acme").await.unwrap().id;
    let user = create_user(admin.as_ref(), tenant, Role::Admin, 1).await;

    // Before enrolment any step is new.
    assert!(admin.claim_totp_step(user.id, 5).await.unwrap());
    assert!(admin
        .update_user(
            Some(tenant),
            user.id,
            UserChange::TotpConfirmed {
                sealed: "v1.k.totp".to_owned(),
                step: 100,
                recovery_hashes: vec![[1; 32], [2; 32], [3; 32]],
            },
            Some(audit(chain_of(tenant), Action::MfaEnrolled, "user")),
        )
        .await
        .unwrap());
    let enrolled = admin.user(user.id).await.unwrap().unwrap();
    assert!(enrolled.has_mfa());
    assert_eq!(enrolled.totp_pending_sealed, None);

    // The confirming code's step, and earlier ones, are replays.
    assert!(!admin.claim_totp_step(user.id, 100).await.unwrap());
    assert!(!admin.claim_totp_step(user.id, 99).await.unwrap());
    assert!(admin.claim_totp_step(user.id, 101).await.unwrap());
    assert!(!admin.claim_totp_step(user.id, 101).await.unwrap());
    assert!(!admin
        .claim_totp_step(nexaguard_store::admin::UserId(Uuid::new_v4()), 500)
        .await
        .unwrap());

    // Eight nodes accepting the same code at once: exactly one wins.
    let claims: Vec<_> = (0..TASKS)
        .map(|_| {
            let admin = Arc::clone(&admin);
            tokio::spawn(async move { admin.claim_totp_step(user.id, 200).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for claim in claims {
        won += usize::from(claim.await.unwrap());
    }
    assert_eq!(won, 1);

    // A recovery code works once.
    assert_eq!(admin.unused_recovery_codes(user.id).await.unwrap(), 3);
    assert!(admin.use_recovery_code(user.id, &[1; 32]).await.unwrap());
    assert!(!admin.use_recovery_code(user.id, &[1; 32]).await.unwrap());
    assert!(!admin.use_recovery_code(user.id, &[9; 32]).await.unwrap());
    assert_eq!(admin.unused_recovery_codes(user.id).await.unwrap(), 2);
    // Also when spent from several places at once.
    let uses: Vec<_> = (0..TASKS)
        .map(|_| {
            let admin = Arc::clone(&admin);
            tokio::spawn(async move { admin.use_recovery_code(user.id, &[2; 32]).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for used in uses {
        won += usize::from(used.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(admin.unused_recovery_codes(user.id).await.unwrap(), 1);

    // Confirming again replaces the codes.
    assert!(admin
        .update_user(
            Some(tenant),
            user.id,
            UserChange::TotpConfirmed {
                sealed: "v1.k.totp2".to_owned(),
                step: 300,
                recovery_hashes: vec![[1; 32], [4; 32]],
            },
            None,
        )
        .await
        .unwrap());
    assert_eq!(admin.unused_recovery_codes(user.id).await.unwrap(), 2);
    assert!(admin.use_recovery_code(user.id, &[1; 32]).await.unwrap());
    stores.store.close().await;
}

async fn api_tokens(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let acme = Seed(admin).tenant("Acme").await.unwrap().id;
    let globex = Seed(admin).tenant("Globex").await.unwrap().id;

    let at = now_micros();
    let token = ApiToken {
        id: ApiTokenId(Uuid::new_v4()),
        tenant: acme,
        name: "ci".to_owned(),
        role: Role::Publisher,
        created_by: "user:x".to_owned(),
        created_at: at,
        expires_at: at + Duration::days(90),
        last_used_at: None,
        revoked_at: None,
        parent: None,
        step_up_scopes: vec![Permission::PromoteProduction],
    };
    admin
        .create_api_token(
            token.clone(),
            [7; 32],
            audit(chain_of(acme), Action::TokenCreated, "token"),
        )
        .await
        .unwrap();
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 1);
    assert_eq!(
        admin.api_token_by_hash(&[7; 32]).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(admin.api_token_by_hash(&[8; 32]).await.unwrap(), None);
    assert_eq!(admin.api_tokens(acme).await.unwrap(), vec![token.clone()]);
    assert!(admin.api_tokens(globex).await.unwrap().is_empty());

    // A token cannot act as a platform operator or an owner.
    let mut owner = token.clone();
    owner.id = ApiTokenId(Uuid::new_v4());
    owner.role = Role::Owner;
    assert!(admin
        .create_api_token(
            owner,
            [9; 32],
            audit(chain_of(acme), Action::TokenCreated, "t")
        )
        .await
        .is_err());
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 1);

    let used = at + Duration::seconds(5);
    admin.touch_api_token(token.id, used).await.unwrap();
    assert_eq!(
        admin
            .api_token_by_hash(&[7; 32])
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(used)
    );

    // Revoking is scoped by tenant, and happens once.
    assert!(!admin
        .revoke_api_token(
            globex,
            token.id,
            audit(chain_of(globex), Action::TokenRevoked, "token")
        )
        .await
        .unwrap());
    assert!(entries(admin, chain_of(globex)).await.is_empty());
    assert!(admin
        .revoke_api_token(
            acme,
            token.id,
            audit(chain_of(acme), Action::TokenRevoked, "token")
        )
        .await
        .unwrap());
    assert!(!admin
        .revoke_api_token(
            acme,
            token.id,
            audit(chain_of(acme), Action::TokenRevoked, "token")
        )
        .await
        .unwrap());
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 2);
    // Found revoked by its hash: the caller tells a revoked token apart.
    let revoked = admin.api_token_by_hash(&[7; 32]).await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());
    stores.store.close().await;
}

async fn revoking_a_token_revokes_every_token_it_made(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let acme = Seed(admin).tenant("Acme").await.unwrap().id;
    let at = now_micros();
    let make = |parent: Option<ApiTokenId>| ApiToken {
        id: ApiTokenId(Uuid::new_v4()),
        tenant: acme,
        name: "t".to_owned(),
        role: Role::Editor,
        created_by: "user:x".to_owned(),
        created_at: at,
        expires_at: at + Duration::days(30),
        last_used_at: None,
        revoked_at: None,
        parent,
        step_up_scopes: Vec::new(),
    };
    // root -> child -> grandchild, and an unrelated token beside them.
    let root = make(None);
    let child = make(Some(root.id));
    let grandchild = make(Some(child.id));
    let unrelated = make(None);
    for (token, hash) in [(&root, 1), (&child, 2), (&grandchild, 3), (&unrelated, 4)] {
        admin
            .create_api_token(
                token.clone(),
                [hash; 32],
                audit(chain_of(acme), Action::TokenCreated, "token"),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        admin
            .api_token_by_hash(&[3; 32])
            .await
            .unwrap()
            .unwrap()
            .parent,
        Some(child.id)
    );
    // A parent that is not a token of the store is refused.
    let orphan = make(Some(ApiTokenId(Uuid::new_v4())));
    assert!(admin
        .create_api_token(
            orphan,
            [5; 32],
            audit(chain_of(acme), Action::TokenCreated, "token")
        )
        .await
        .is_err());

    assert!(admin
        .revoke_api_token(
            acme,
            child.id,
            audit(chain_of(acme), Action::TokenRevoked, "token")
        )
        .await
        .unwrap());
    let revoked = |hash: u8| async move {
        admin
            .api_token_by_hash(&[hash; 32])
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    };
    assert!(
        !revoked(1).await,
        "the parent of the revoked token lives on"
    );
    assert!(revoked(2).await);
    assert!(revoked(3).await, "the grandchild goes with its parent");
    assert!(!revoked(4).await);
    stores.store.close().await;
}

async fn confirming_a_second_factor_ends_every_session_of_the_user(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let tenant = Seed(admin).tenant("Acme").await.unwrap().id;
    let user = create_user(admin, tenant, Role::Admin, 1).await;
    let other = create_user(admin, tenant, Role::Admin, 2).await;
    let at = now_micros();
    admin
        .create_session(session(&user, 1, at), None)
        .await
        .unwrap();
    admin
        .create_session(session(&user, 2, at), None)
        .await
        .unwrap();
    admin
        .create_session(session(&other, 3, at), None)
        .await
        .unwrap();
    assert!(admin
        .update_user(
            Some(tenant),
            user.id,
            UserChange::TotpConfirmed {
                sealed: "v1.k.totp".to_owned(),
                step: 100,
                recovery_hashes: vec![[1; 32]],
            },
            None,
        )
        .await
        .unwrap());
    assert_eq!(admin.session(&[1; 32]).await.unwrap(), None);
    assert_eq!(admin.session(&[2; 32]).await.unwrap(), None);
    assert!(
        admin.session(&[3; 32]).await.unwrap().is_some(),
        "another user's session stays"
    );
    stores.store.close().await;
}

async fn invitations(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = Arc::clone(&stores.admin);
    let acme = Seed(admin.as_ref()).tenant("Acme").await.unwrap().id;
    let globex = Seed(admin.as_ref()).tenant("Globex").await.unwrap().id;

    let at = now_micros();
    let invite = |email: u8| Invitation {
        id: Uuid::new_v4(),
        tenant: acme,
        email_index: [email; 32],
        email_sealed: "v1.k.mail".to_owned(),
        role: Role::Editor,
        created_by: "user:x".to_owned(),
        created_at: at,
        expires_at: at + Duration::days(7),
        accepted_at: None,
    };
    let first = invite(1);
    let second = invite(2);
    for (invitation, secret) in [(&first, [1; 32]), (&second, [2; 32])] {
        admin
            .create_invitation(
                invitation.clone(),
                secret,
                audit(chain_of(acme), Action::InvitationCreated, "invitation"),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        admin.invitation_by_hash(&[1; 32]).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(admin.invitation_by_hash(&[3; 32]).await.unwrap(), None);
    assert_eq!(admin.invitations(acme).await.unwrap().len(), 2);
    assert!(admin.invitations(globex).await.unwrap().is_empty());

    let accepted = admin
        .accept_invitation(
            first.id,
            new_user(Some(acme), Role::Editor, 1),
            audit(chain_of(acme), Action::InvitationAccepted, "invitation"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(admin.user(accepted.id).await.unwrap(), Some(accepted));
    assert!(admin
        .invitation_by_hash(&[1; 32])
        .await
        .unwrap()
        .unwrap()
        .accepted_at
        .is_some());
    assert_eq!(
        admin
            .accept_invitation(
                first.id,
                new_user(Some(acme), Role::Editor, 9),
                audit(chain_of(acme), Action::InvitationAccepted, "invitation"),
            )
            .await
            .unwrap(),
        None
    );
    assert_eq!(entries(admin.as_ref(), chain_of(acme)).await.len(), 3);

    // A taken address fails the whole acceptance: the invitation stays
    // open and no entry is appended.
    let taken = admin
        .accept_invitation(
            second.id,
            new_user(Some(acme), Role::Editor, 1),
            audit(chain_of(acme), Action::InvitationAccepted, "invitation"),
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(
        admin
            .invitation_by_hash(&[2; 32])
            .await
            .unwrap()
            .unwrap()
            .accepted_at,
        None
    );
    assert_eq!(entries(admin.as_ref(), chain_of(acme)).await.len(), 3);

    // Accepted from several places at once: one user, one entry.
    let accepts: Vec<_> = (0..TASKS)
        .map(|task| {
            let admin = Arc::clone(&admin);
            let id = second.id;
            let email = 100 + u8::try_from(task).unwrap();
            tokio::spawn(async move {
                admin
                    .accept_invitation(
                        id,
                        new_user(Some(acme), Role::Editor, email),
                        audit(chain_of(acme), Action::InvitationAccepted, "invitation"),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for accept in accepts {
        won += usize::from(accept.await.unwrap().is_some());
    }
    assert_eq!(won, 1);
    assert_eq!(admin.users(Some(acme)).await.unwrap().len(), 2);
    assert_eq!(entries(admin.as_ref(), chain_of(acme)).await.len(), 4);
    stores.store.close().await;
}

async fn tenants_commit_with_their_audit_entry(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let id = TenantId(Uuid::new_v4());
    let target = format!("tenant:{}", id.0);
    let tenant = admin
        .create_tenant_audited(
            id,
            "Acme",
            audit(ChainId::Platform, Action::TenantCreated, &target),
        )
        .await
        .unwrap();
    assert_eq!((tenant.id, tenant.name.as_str()), (id, "Acme"));
    // The consent side sees the tenant the admin side created.
    let tenants = stores.store.tenants().await.unwrap();
    assert_eq!(tenants.iter().map(|t| t.id).collect::<Vec<_>>(), vec![id]);
    let platform = entries(admin, ChainId::Platform).await;
    assert_eq!(platform.len(), 1);
    assert_eq!(platform[0].event.action, Action::TenantCreated);
    assert_eq!(platform[0].event.target, target);

    // An entry that cannot be appended takes the tenant with it: with the
    // audit table out of the way, the insert of the tenant is rolled back.
    harness
        .execute_raw("ALTER TABLE audit_log RENAME TO audit_log_away")
        .await
        .unwrap();
    let lost = TenantId(Uuid::new_v4());
    let refused = admin
        .create_tenant_audited(
            lost,
            "Lost",
            audit(ChainId::Platform, Action::TenantCreated, "tenant:lost"),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    harness
        .execute_raw("ALTER TABLE audit_log_away RENAME TO audit_log")
        .await
        .unwrap();
    let tenants = stores.store.tenants().await.unwrap();
    assert!(tenants.iter().all(|t| t.id != lost), "{tenants:?}");

    // And the chain goes on from where it was, unbroken.
    admin
        .create_tenant_audited(
            TenantId(Uuid::new_v4()),
            "Globex",
            audit(ChainId::Platform, Action::TenantCreated, "tenant:globex"),
        )
        .await
        .unwrap();
    let platform = entries(admin, ChainId::Platform).await;
    assert_eq!(
        platform.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(verify_chain(ChainId::Platform, platform, &[], |_| None).is_ok());
    assert_eq!(stores.store.tenants().await.unwrap().len(), 2);
    stores.store.close().await;
}

async fn drafts_and_publishing(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = Arc::clone(&stores.admin);
    let (tenant, site) = tenant_and_site(&stores).await;
    let chain = chain_of(tenant);
    let save = |json: &'static str, base: Option<u32>| {
        let admin = Arc::clone(&admin);
        async move {
            admin
                .save_draft(
                    site.id,
                    json,
                    base,
                    audit(chain, Action::DraftSaved, "site"),
                )
                .await
                .unwrap()
        }
    };

    assert_eq!(admin.draft(site.id).await.unwrap(), None);
    assert_eq!(save(r#"{"v":1}"#, None).await, DraftSave::Saved(1));
    assert_eq!(
        save(r#"{"v":1}"#, None).await,
        DraftSave::Stale { current: 1 }
    );
    assert_eq!(save(r#"{"v":2}"#, Some(1)).await, DraftSave::Saved(2));
    assert_eq!(
        save(r#"{"v":3}"#, Some(1)).await,
        DraftSave::Stale { current: 2 }
    );
    let draft = admin.draft(site.id).await.unwrap().unwrap();
    assert_eq!(
        (draft.revision, draft.config_json.as_str()),
        (2, r#"{"v":2}"#)
    );
    // Two saves and the site: stale saves append nothing.
    assert_eq!(entries(admin.as_ref(), chain).await.len(), 3);

    // Editors saving on the same base at once: one wins.
    let saves: Vec<_> = (0..TASKS)
        .map(|_| tokio::spawn(save(r#"{"v":"race"}"#, Some(2))))
        .collect();
    let mut won = 0;
    for saved in saves {
        match saved.await.unwrap() {
            DraftSave::Saved(3) => won += 1,
            DraftSave::Stale { current: 3 } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(entries(admin.as_ref(), chain).await.len(), 4);

    // Publishing numbers versions per site environment, also from several
    // places at once.
    assert_eq!(
        admin
            .latest_config(site.id, Environment::Staging)
            .await
            .unwrap(),
        None
    );
    let publishes: Vec<_> = (0..TASKS)
        .map(|task| {
            let admin = Arc::clone(&admin);
            tokio::spawn(async move {
                admin
                    .publish_audited(
                        site.id,
                        Environment::Staging,
                        &format!(r#"{{"task":{task}}}"#),
                        audit(chain, Action::Published, "site"),
                    )
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut versions = BTreeSet::new();
    let mut newest = None;
    for published in publishes {
        let published = published.await.unwrap();
        versions.insert(published.version);
        if published.version == 8 {
            newest = Some(published);
        }
    }
    assert_eq!(versions, (1..=8).collect());
    assert_eq!(
        admin
            .latest_config(site.id, Environment::Staging)
            .await
            .unwrap(),
        newest
    );
    let production = admin
        .publish_audited(
            site.id,
            Environment::Production,
            "{}",
            audit(chain, Action::Promoted, "site"),
        )
        .await
        .unwrap();
    assert_eq!(production.version, 1);
    assert_eq!(entries(admin.as_ref(), chain).await.len(), 4 + 8 + 1);
    // The consent store sees what the admin store published.
    assert!(stores
        .store
        .latest_configs()
        .await
        .unwrap()
        .contains(&production));
    stores.store.close().await;
}

async fn data_and_signing_keys(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = Arc::clone(&stores.admin);
    let at = now_micros();
    let key = |id: &str, scope: &str| StoredDataKey {
        id: id.to_owned(),
        scope: scope.to_owned(),
        wrapped: format!("kek.{id}"),
        created_at: at,
    };

    let platform = key("dk1", "platform");
    assert_eq!(
        admin.insert_data_key(platform.clone()).await.unwrap(),
        platform
    );
    // Another node's key for the same scope loses to the first.
    assert_eq!(
        admin.insert_data_key(key("dk2", "platform")).await.unwrap(),
        platform
    );
    // Racing nodes all end up with the same key.
    let racers: Vec<_> = (0..TASKS)
        .map(|task| {
            let admin = Arc::clone(&admin);
            let racer = key(&format!("ix{task}"), "platform-index");
            tokio::spawn(async move { admin.insert_data_key(racer).await.unwrap() })
        })
        .collect();
    let mut winners = BTreeSet::new();
    for racer in racers {
        winners.insert(racer.await.unwrap().id);
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = admin.data_keys().await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.contains(&platform));

    // Rewrapping changes all at once, with its entry.
    let index_id = winners.into_iter().next().unwrap();
    let entry = admin
        .rewrap_data_keys(
            &[
                ("dk1".to_owned(), "kek2.dk1".to_owned()),
                (index_id.clone(), format!("kek2.{index_id}")),
            ],
            audit(ChainId::Platform, Action::KeysRotated, "keys"),
        )
        .await
        .unwrap();
    assert_eq!(entry.seq, 1);
    assert!(admin
        .data_keys()
        .await
        .unwrap()
        .iter()
        .all(|k| k.wrapped.starts_with("kek2.")));

    // Signing keys list oldest first.
    let signing = |id: &str, minutes: i64| nexaguard_store::admin::StoredSigningKey {
        id: id.to_owned(),
        public_key: [3; 32],
        seed_sealed: "v1.k.seed".to_owned(),
        created_at: at + Duration::minutes(minutes),
    };
    admin.insert_signing_key(signing("new", 5)).await.unwrap();
    admin.insert_signing_key(signing("old", 0)).await.unwrap();
    assert_eq!(
        admin.signing_keys().await.unwrap(),
        vec![signing("old", 0), signing("new", 5)]
    );
    assert!(admin.insert_signing_key(signing("old", 9)).await.is_err());
    stores.store.close().await;
}

async fn audit_chain_under_concurrency(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = Arc::clone(&stores.admin);
    let signer = Arc::new(CheckpointSigner::from_seed("k".into(), [1; 32]));
    let public_key = signer.public_key();
    admin.set_checkpoint_signer(Arc::clone(&signer));
    let tenant = ChainId::Tenant(Uuid::new_v4());

    // 250 appends to one chain from 8 tasks at once, 5 of them to the
    // platform's chain in between.
    let per_task = 250 / TASKS + 1;
    let appends: Vec<_> = (0..TASKS)
        .map(|task| {
            let admin = Arc::clone(&admin);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for n in 0..per_task {
                    let index = task * per_task + n;
                    if index >= 250 {
                        break;
                    }
                    let mut append = audit(tenant, Action::AccessDenied, &format!("n:{index}"));
                    append.event = append
                        .event
                        .with_client_network("192.0.2.0/24")
                        .with_details(serde_json::json!({"z": index, "a": [1, "two", null]}));
                    mine.push(admin.append_audit(append).await.unwrap());
                    if n == 0 && task < 5 {
                        admin
                            .append_audit(audit(ChainId::Platform, Action::ServerStarted, "s"))
                            .await
                            .unwrap();
                    }
                }
                mine
            })
        })
        .collect();
    let mut returned = Vec::new();
    for task in appends {
        returned.extend(task.await.unwrap());
    }
    returned.sort_by_key(|entry| entry.seq);

    let stored = entries(admin.as_ref(), tenant).await;
    assert_eq!(
        stored.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=250).collect::<Vec<_>>()
    );
    // What append answered is what was stored.
    assert_eq!(stored, returned);
    let checkpoints = admin.audit_checkpoints(tenant).await.unwrap();
    assert_eq!(
        checkpoints.iter().map(|c| c.seq).collect::<Vec<_>>(),
        vec![100, 200]
    );
    let key = |id: &str| (id == "k").then_some(public_key);
    let report = verify_chain(tenant, stored, &checkpoints, key).unwrap();
    assert_eq!((report.entries, report.checkpoints), (250, 2));

    // The platform's chain is a chain of its own.
    let platform = entries(admin.as_ref(), ChainId::Platform).await;
    assert_eq!(
        platform.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert!(verify_chain(ChainId::Platform, platform, &[], key).is_ok());
    let mut chains = vec![ChainId::Platform, tenant];
    chains.sort_by_key(ChainId::to_text);
    assert_eq!(admin.audit_chains().await.unwrap(), chains);

    // Paging.
    let page = admin.audit_entries(tenant, 100, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (101..=110).collect::<Vec<_>>()
    );
    stores.store.close().await;
}

async fn audit_times_with_nanoseconds_verify(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let chain = ChainId::Tenant(Uuid::new_v4());
    let precise = datetime!(2024-05-01 14:00:00.123456789 +02:00);
    let mut returned = Vec::new();
    for n in 0..3 {
        let mut append = audit(chain, Action::AuditExported, "audit");
        append.at = precise + Duration::nanoseconds(n * 333);
        returned.push(admin.append_audit(append).await.unwrap());
    }
    for entry in &returned {
        // Kept to the microsecond at least (to the nanosecond on SQLite),
        // never later than asked.
        assert!(entry.at <= precise + Duration::microseconds(1));
        assert!(
            precise - entry.at < Duration::microseconds(1),
            "{}",
            entry.at
        );
        assert!(entry.hash_is_valid());
    }
    // Read back, the entries are the ones hashed.
    let stored = entries(admin, chain).await;
    assert_eq!(stored, returned);
    assert!(verify_chain(chain, stored, &[], |_| None).is_ok());
    stores.store.close().await;
}

async fn audit_log_is_append_only(harness: &dyn Harness) {
    let stores = harness.open().await;
    stores
        .admin
        .append_audit(audit(ChainId::Platform, Action::ServerStarted, "s"))
        .await
        .unwrap();
    for sql in [
        "UPDATE audit_log SET target = 'forged'",
        "DELETE FROM audit_log",
    ] {
        let refused = harness.execute_raw(sql).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("the audit log is append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(
        entries(stores.admin.as_ref(), ChainId::Platform)
            .await
            .len(),
        1
    );
    stores.store.close().await;
}

async fn tenant_isolation(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let (acme, shop) = tenant_and_site(&stores).await;
    let (globex, blog) = tenant_and_site(&stores).await;
    assert_eq!(shop.tenant_id, acme);
    assert_eq!(shop.origins, vec!["https://shop.example".to_owned()]);

    assert_eq!(
        admin.tenant_site(acme, shop.id).await.unwrap(),
        Some(shop.clone())
    );
    assert_eq!(admin.tenant_site(globex, shop.id).await.unwrap(), None);
    assert_eq!(admin.tenant_site(acme, blog.id).await.unwrap(), None);
    assert_eq!(admin.tenant_sites(acme).await.unwrap(), vec![shop.clone()]);
    assert_eq!(
        admin.tenant_sites(globex).await.unwrap(),
        vec![blog.clone()]
    );
    assert!(admin
        .tenant_sites(TenantId(Uuid::new_v4()))
        .await
        .unwrap()
        .is_empty());
    // The consent store knows them too, under their keys.
    assert_eq!(stores.store.sites().await.unwrap(), vec![shop, blog]);

    // Each tenant's entries are in its own chain.
    assert_eq!(entries(admin, chain_of(acme)).await.len(), 1);
    assert_eq!(entries(admin, chain_of(globex)).await.len(), 1);

    // A site of an unknown tenant is refused, and nothing is appended.
    let nobody = TenantId(Uuid::new_v4());
    assert!(admin
        .create_tenant_site(
            nobody,
            "X",
            &[],
            audit(chain_of(nobody), Action::SiteCreated, "s")
        )
        .await
        .is_err());
    assert!(entries(admin, chain_of(nobody)).await.is_empty());
    stores.store.close().await;
}

async fn consent_search(harness: &dyn Harness) {
    let stores = harness.open().await;
    let (_, site) = tenant_and_site(&stores).await;
    let token = TokenHash([7; 32]);
    let other_token = TokenHash([8; 32]);

    // Times that differ below the microsecond, equal times, and months
    // (partitions) apart.
    let base = datetime!(2024-05-01 12:00:00 UTC);
    let times = [
        base + Duration::nanoseconds(1_500),
        base + Duration::nanoseconds(1_200),
        base + Duration::nanoseconds(1_200),
        base + Duration::nanoseconds(1_200),
        base + Duration::nanoseconds(2_000),
        base - Duration::days(40),
        base + Duration::days(40),
    ];
    let mut recorded = Vec::new();
    for (n, at) in times.into_iter().enumerate() {
        let event = consent_event(&site, Environment::Production, at);
        let hash = if n == 3 { other_token } else { token };
        stores
            .store
            .record_consent(NewConsent {
                site_id: site.id,
                event: event.clone(),
                token_hash: hash,
                body_hash: [1; 32],
            })
            .await
            .unwrap();
        recorded.push(event);
    }
    // Another environment, not to be found.
    stores
        .store
        .record_consent(NewConsent {
            site_id: site.id,
            event: consent_event(&site, Environment::Staging, base),
            token_hash: token,
            body_hash: [1; 32],
        })
        .await
        .unwrap();
    let mut newest_first = recorded.clone();
    newest_first.sort_by_key(|e| (e.recorded_at, e.event_id));
    newest_first.reverse();

    let query = ConsentQuery {
        site: site.id,
        environment: Environment::Production,
        token: None,
        event_id: None,
        from: None,
        to: None,
        before: None,
        limit: 2,
    };
    // Page by page with the cursor, as the export does.
    let mut paged = Vec::new();
    let mut page_query = query.clone();
    loop {
        let page = stores.admin.search_consents(&page_query).await.unwrap();
        let Some(last) = page.last() else { break };
        page_query.before = Some((last.recorded_at, last.event_id));
        paged.extend(page);
    }
    assert_eq!(paged, newest_first);

    let search = |query: ConsentQuery| {
        let admin = Arc::clone(&stores.admin);
        async move { admin.search_consents(&query).await.unwrap() }
    };
    let all = ConsentQuery {
        limit: 100,
        ..query.clone()
    };
    // From is inclusive and to exclusive, to the nanosecond.
    let window = search(ConsentQuery {
        from: Some(base + Duration::nanoseconds(1_200)),
        to: Some(base + Duration::nanoseconds(2_000)),
        ..all.clone()
    })
    .await;
    let expected: Vec<_> = newest_first
        .iter()
        .filter(|e| {
            e.recorded_at >= base + Duration::nanoseconds(1_200)
                && e.recorded_at < base + Duration::nanoseconds(2_000)
        })
        .cloned()
        .collect();
    assert_eq!(expected.len(), 4);
    assert_eq!(window, expected);
    let later = search(ConsentQuery {
        from: Some(base + Duration::nanoseconds(1_201)),
        ..all.clone()
    })
    .await;
    assert_eq!(later.len(), 3);
    // By token, and by event id.
    let by_token = search(ConsentQuery {
        token: Some(other_token),
        ..all.clone()
    })
    .await;
    assert_eq!(by_token, vec![recorded[3].clone()]);
    let by_id = search(ConsentQuery {
        event_id: Some(recorded[5].event_id),
        ..all.clone()
    })
    .await;
    assert_eq!(by_id, vec![recorded[5].clone()]);
    assert_eq!(
        search(ConsentQuery {
            environment: Environment::Staging,
            ..all.clone()
        })
        .await
        .len(),
        1
    );
    stores.store.close().await;
}

// ---------------------------------------------------------------------------
// Webhooks (the `WebhookStore` part of every admin store)

fn webhook(tenant: TenantId, site: &Site, url: &str, enabled: bool) -> Webhook {
    let now = now_micros();
    Webhook {
        id: WebhookId(Uuid::new_v4()),
        tenant,
        site: site.id,
        url: url.to_owned(),
        secret_sealed: format!("v1.k.sealed-{url}"),
        enabled,
        created_at: now,
        updated_at: now,
    }
}

async fn add_webhook(
    stores: &Stores,
    tenant: TenantId,
    site: &Site,
    url: &str,
    enabled: bool,
) -> Webhook {
    let hook = webhook(tenant, site, url, enabled);
    stores
        .admin
        .create_webhook(
            &hook,
            audit(chain_of(tenant), Action::WebhookCreated, "webhook"),
        )
        .await
        .unwrap();
    hook
}

async fn record(stores: &Stores, site: &Site, event: &ConsentEvent) -> RecordOutcome {
    stores
        .store
        .record_consent(NewConsent {
            site_id: site.id,
            event: event.clone(),
            token_hash: TokenHash([3; 32]),
            body_hash: [event.event_id.as_bytes()[0]; 32],
        })
        .await
        .unwrap()
}

const LEASE: std::time::Duration = std::time::Duration::from_secs(60);

async fn webhooks_crud_audited_and_isolated(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let (acme, shop) = tenant_and_site(&stores).await;
    let (globex, other) = tenant_and_site(&stores).await;
    let before = entries(admin, chain_of(acme)).await.len();

    let a = add_webhook(&stores, acme, &shop, "https://a.example/hook", true).await;
    let b = add_webhook(&stores, acme, &shop, "https://b.example/hook", false).await;
    assert_eq!(entries(admin, chain_of(acme)).await.len(), before + 2);
    assert_eq!(
        admin.webhooks(acme, shop.id).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(admin.webhook(acme, a.id).await.unwrap(), Some(a.clone()));
    // Another tenant sees none of it, by site or by id.
    assert!(admin.webhooks(globex, shop.id).await.unwrap().is_empty());
    assert_eq!(admin.webhook(globex, a.id).await.unwrap(), None);
    // A webhook on another tenant's site is refused, with no entry.
    let foreign = webhook(acme, &other, "https://x.example/", true);
    let refused = admin
        .create_webhook(
            &foreign,
            audit(chain_of(acme), Action::WebhookCreated, "webhook"),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
    assert_eq!(entries(admin, chain_of(acme)).await.len(), before + 2);

    // Updates change only what they name, and only in the tenant.
    let change = WebhookChange {
        enabled: Some(true),
        ..WebhookChange::default()
    };
    assert_eq!(
        admin
            .update_webhook(
                globex,
                b.id,
                &change,
                audit(chain_of(globex), Action::WebhookUpdated, "w")
            )
            .await
            .unwrap(),
        None
    );
    assert!(entries(admin, chain_of(globex))
        .await
        .iter()
        .all(|e| e.event.action != Action::WebhookUpdated));
    let updated = admin
        .update_webhook(
            acme,
            b.id,
            &change,
            audit(chain_of(acme), Action::WebhookUpdated, "w"),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(updated.enabled);
    assert_eq!(updated.url, b.url);
    assert_eq!(updated.secret_sealed, b.secret_sealed);
    let moved = admin
        .update_webhook(
            acme,
            b.id,
            &WebhookChange {
                url: Some("https://c.example/".to_owned()),
                secret_sealed: Some("v1.k.rotated".to_owned()),
                ..WebhookChange::default()
            },
            audit(chain_of(acme), Action::WebhookUpdated, "w"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.url, "https://c.example/");
    assert_eq!(moved.secret_sealed, "v1.k.rotated");
    assert!(moved.enabled);
    assert_eq!(admin.webhook(acme, b.id).await.unwrap(), Some(moved));

    // Deleting: not through another tenant; then gone with its deliveries.
    assert!(!admin
        .delete_webhook(
            globex,
            a.id,
            audit(chain_of(globex), Action::WebhookDeleted, "w")
        )
        .await
        .unwrap());
    record(
        &stores,
        &shop,
        &consent_event(&shop, Environment::Production, now_micros()),
    )
    .await;
    assert_eq!(
        admin.deliveries(acme, a.id, None, 10).await.unwrap().len(),
        1
    );
    let acme_entries = entries(admin, chain_of(acme)).await.len();
    assert!(admin
        .delete_webhook(
            acme,
            a.id,
            audit(chain_of(acme), Action::WebhookDeleted, "w")
        )
        .await
        .unwrap());
    assert_eq!(entries(admin, chain_of(acme)).await.len(), acme_entries + 1);
    assert_eq!(admin.webhook(acme, a.id).await.unwrap(), None);
    assert!(admin
        .deliveries(acme, a.id, None, 10)
        .await
        .unwrap()
        .is_empty());
    // Only b's delivery is left to claim.
    let claimed = admin
        .claim_deliveries(OffsetDateTime::now_utc(), LEASE, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].delivery.webhook, b.id);
    stores.store.close().await;
}

async fn webhook_outbox_follows_consents(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let (acme, shop) = tenant_and_site(&stores).await;
    let (globex, other) = tenant_and_site(&stores).await;
    let on = add_webhook(&stores, acme, &shop, "https://on.example/", true).await;
    let off = add_webhook(&stores, acme, &shop, "https://off.example/", false).await;
    let theirs = add_webhook(&stores, globex, &other, "https://g.example/", true).await;

    // A recorded consent gets one pending delivery per enabled webhook of
    // its site, carrying the recorded event.
    let event = consent_event(&shop, Environment::Production, now_micros());
    assert!(matches!(
        record(&stores, &shop, &event).await,
        RecordOutcome::Recorded { .. }
    ));
    let pending = admin.deliveries(acme, on.id, None, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event_id, event.event_id);
    assert_eq!(pending[0].status, DeliveryStatus::Pending);
    assert_eq!(pending[0].attempts, 0);
    assert!(admin
        .deliveries(acme, off.id, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(admin
        .deliveries(globex, theirs.id, None, 10)
        .await
        .unwrap()
        .is_empty());
    // Another tenant cannot list them.
    assert!(admin
        .deliveries(globex, on.id, None, 10)
        .await
        .unwrap()
        .is_empty());

    // An idempotent replay records nothing and enqueues nothing.
    assert!(matches!(
        record(&stores, &shop, &event).await,
        RecordOutcome::Duplicate { .. }
    ));
    assert_eq!(
        admin.deliveries(acme, on.id, None, 10).await.unwrap().len(),
        1
    );

    // A batch of consents, recorded concurrently (group commit on SQLite),
    // each gets its delivery.
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&stores.store);
        let event = consent_event(&shop, Environment::Staging, now_micros());
        let site = shop.id;
        tasks.push(tokio::spawn(async move {
            store
                .record_consent(NewConsent {
                    site_id: site,
                    event,
                    token_hash: TokenHash([4; 32]),
                    body_hash: [4; 32],
                })
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        admin
            .deliveries(acme, on.id, None, 100)
            .await
            .unwrap()
            .len(),
        1 + TASKS
    );

    // The payload is the recorded event.
    let claimed = admin
        .claim_deliveries(OffsetDateTime::now_utc(), LEASE, 100)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1 + TASKS);
    let first = claimed
        .iter()
        .find(|c| c.delivery.event_id == event.event_id)
        .unwrap();
    let payload: ConsentEvent = serde_json::from_str(&first.payload).unwrap();
    assert_eq!(payload, event);
    assert_eq!(first.tenant, acme);
    assert_eq!(first.site, shop.id);
    assert_eq!(first.url, on.url);
    assert_eq!(first.secret_sealed, on.secret_sealed);

    // Retention takes deliveries with their consents.
    stores
        .store
        .delete_consents_before(OffsetDateTime::now_utc() + Duration::seconds(1))
        .await
        .unwrap();
    assert!(admin
        .deliveries(acme, on.id, None, 100)
        .await
        .unwrap()
        .is_empty());
    stores.store.close().await;
}

async fn webhook_delivery_lifecycle(harness: &dyn Harness) {
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let (acme, shop) = tenant_and_site(&stores).await;
    let (globex, _) = tenant_and_site(&stores).await;
    let hook = add_webhook(&stores, acme, &shop, "https://h.example/", true).await;
    let event = consent_event(&shop, Environment::Production, now_micros());
    record(&stores, &shop, &event).await;
    let now = now_micros() + Duration::seconds(1);

    // A claim counts the attempt and holds the row for the lease.
    let claimed = admin.claim_deliveries(now, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!(first.delivery.attempts, 1);
    assert_eq!(first.delivery.next_attempt_at, now + Duration::seconds(60));
    assert!(admin
        .claim_deliveries(now, LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    let id = first.delivery.id;

    // Only the lease settles it.
    let retry_at = now + Duration::seconds(30);
    let retry = Settlement::Retry {
        next_attempt_at: retry_at,
        error: "HTTP 500".to_owned(),
        status: Some(500),
    };
    assert!(!admin
        .settle_delivery(id, Uuid::new_v4(), &retry, now)
        .await
        .unwrap());
    assert!(admin
        .settle_delivery(id, first.lease, &retry, now)
        .await
        .unwrap());
    assert!(!admin
        .settle_delivery(id, first.lease, &retry, now)
        .await
        .unwrap());
    let listed = admin.deliveries(acme, hook.id, None, 10).await.unwrap();
    assert_eq!(listed[0].status, DeliveryStatus::Pending);
    assert_eq!(listed[0].attempts, 1);
    assert_eq!(listed[0].next_attempt_at, retry_at);
    assert_eq!(listed[0].last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(listed[0].last_status, Some(500));

    // Not due before its time; then claimed again.
    assert!(admin
        .claim_deliveries(retry_at - Duration::seconds(1), LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    let second = admin.claim_deliveries(retry_at, LEASE, 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].delivery.attempts, 2);

    // A lease that lapses lets another worker take it; the old one can no
    // longer settle it.
    let later = retry_at + Duration::seconds(61);
    let third = admin.claim_deliveries(later, LEASE, 10).await.unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].delivery.attempts, 3);
    assert!(!admin
        .settle_delivery(id, second[0].lease, &Settlement::Delivered, later)
        .await
        .unwrap());

    // Dead: listed by status, and an error is kept short.
    let dead = Settlement::Dead {
        error: "x".repeat(500),
        status: None,
    };
    assert!(admin
        .settle_delivery(id, third[0].lease, &dead, later)
        .await
        .unwrap());
    let dead_ones = admin
        .deliveries(acme, hook.id, Some(DeliveryStatus::Dead), 10)
        .await
        .unwrap();
    assert_eq!(dead_ones.len(), 1);
    assert_eq!(
        dead_ones[0].last_error.as_deref().map(str::len),
        Some(MAX_ERROR_LEN)
    );
    assert_eq!(dead_ones[0].last_status, None);
    assert!(admin
        .deliveries(acme, hook.id, Some(DeliveryStatus::Pending), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(admin
        .claim_deliveries(later + Duration::days(1), LEASE, 10)
        .await
        .unwrap()
        .is_empty());

    // Redelivery: not through another tenant, nor another webhook's id.
    let redeliver_audit = |tenant| audit(chain_of(tenant), Action::WebhookRedelivered, "d");
    assert_eq!(
        admin
            .redeliver(globex, hook.id, id, later, redeliver_audit(globex))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        admin
            .redeliver(
                acme,
                WebhookId(Uuid::new_v4()),
                id,
                later,
                redeliver_audit(acme)
            )
            .await
            .unwrap(),
        None
    );
    let acme_entries = entries(admin, chain_of(acme)).await.len();
    let again = admin
        .redeliver(acme, hook.id, id, later, redeliver_audit(acme))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.status, DeliveryStatus::Pending);
    assert_eq!(again.attempts, 0);
    assert_eq!(again.next_attempt_at, later);
    assert_eq!(entries(admin, chain_of(acme)).await.len(), acme_entries + 1);
    // Only dead ones are redelivered.
    assert_eq!(
        admin
            .redeliver(acme, hook.id, id, later, redeliver_audit(acme))
            .await
            .unwrap(),
        None
    );

    // A disabled webhook's deliveries wait.
    let off = WebhookChange {
        enabled: Some(false),
        ..WebhookChange::default()
    };
    admin
        .update_webhook(
            acme,
            hook.id,
            &off,
            audit(chain_of(acme), Action::WebhookUpdated, "w"),
        )
        .await
        .unwrap();
    assert!(admin
        .claim_deliveries(later, LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    let on = WebhookChange {
        enabled: Some(true),
        ..WebhookChange::default()
    };
    admin
        .update_webhook(
            acme,
            hook.id,
            &on,
            audit(chain_of(acme), Action::WebhookUpdated, "w"),
        )
        .await
        .unwrap();
    let fourth = admin.claim_deliveries(later, LEASE, 10).await.unwrap();
    assert_eq!(fourth.len(), 1);
    assert_eq!(fourth[0].delivery.attempts, 1);

    // Delivered: done for good, and the payload is dropped.
    assert!(admin
        .settle_delivery(id, fourth[0].lease, &Settlement::Delivered, later)
        .await
        .unwrap());
    let done = admin
        .deliveries(acme, hook.id, Some(DeliveryStatus::Delivered), 10)
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].delivered_at, Some(later));
    assert_eq!(done[0].last_error, None);
    assert!(admin
        .claim_deliveries(later + Duration::days(1), LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    let kept = harness
        .execute_raw("UPDATE webhook_deliveries SET attempts = attempts WHERE payload IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(kept, 0);
    assert_eq!(
        admin
            .redeliver(acme, hook.id, id, later, redeliver_audit(acme))
            .await
            .unwrap(),
        None
    );
    stores.store.close().await;
}

async fn concurrent_claims_never_share_a_delivery(harness: &dyn Harness) {
    let stores = harness.open().await;
    let (acme, shop) = tenant_and_site(&stores).await;
    add_webhook(&stores, acme, &shop, "https://h.example/", true).await;
    let events = 24;
    for _ in 0..events {
        record(
            &stores,
            &shop,
            &consent_event(&shop, Environment::Production, now_micros()),
        )
        .await;
    }
    let now = OffsetDateTime::now_utc() + Duration::seconds(1);
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let admin = Arc::clone(&stores.admin);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = admin.claim_deliveries(now, LEASE, 2).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|c| c.delivery.id));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), events, "a delivery was claimed twice: {all:?}");
    assert_eq!(distinct.len(), events);
    stores.store.close().await;
}

/// Runs every shared test against one backend, each as its own `#[test]`
/// on a fresh harness; `optional` takes an expression making an `Option`
/// of one, `None` skipping the test.
macro_rules! admin_tests {
    ($backend:ident, optional $harness:expr) => {
        admin_tests!(@all $backend, $harness);
    };
    ($backend:ident, $harness:expr) => {
        admin_tests!(@all $backend, Some($harness));
    };
    (@all $backend:ident, $harness:expr) => {
        admin_tests!(@cases $backend, $harness, [
            users,
            sessions,
            totp_steps_and_recovery_codes,
            api_tokens,
            revoking_a_token_revokes_every_token_it_made,
            confirming_a_second_factor_ends_every_session_of_the_user,
            invitations,
            tenants_commit_with_their_audit_entry,
            drafts_and_publishing,
            data_and_signing_keys,
            audit_chain_under_concurrency,
            audit_times_with_nanoseconds_verify,
            audit_log_is_append_only,
            tenant_isolation,
            consent_search,
            webhooks_crud_audited_and_isolated,
            webhook_outbox_follows_consents,
            webhook_delivery_lifecycle,
            concurrent_claims_never_share_a_delivery,
        ]);
    };
    (@cases $backend:ident, $harness:expr, [$($case:ident),* $(,)?]) => {
        mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
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
admin_tests!(sqlite, SqliteHarness::new());
admin_tests!(postgres, optional PostgresHarness::new().await);

// ---------------------------------------------------------------------------
// SQLite only

/// The migration that lets an address have an account per tenant rebuilds
/// the users table; dropping the old one cascades to sessions and
/// recovery codes, which the migration keeps aside and puts back. Running
/// its script again on a store with data proves nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_users_rebuild_keeps_sessions_and_recovery_codes() {
    let harness = SqliteHarness::new();
    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    let tenant = Seed(admin).tenant("Acme").await.unwrap().id;
    let user = create_user(admin, tenant, Role::Admin, 1).await;
    let at = now_micros();
    admin
        .create_session(session(&user, 1, at), None)
        .await
        .unwrap();
    assert!(admin
        .update_user(
            Some(tenant),
            user.id,
            UserChange::TotpConfirmed {
                sealed: "v1.k.totp".to_owned(),
                step: 7,
                recovery_hashes: vec![[1; 32], [2; 32]],
            },
            None,
        )
        .await
        .unwrap());
    // TotpConfirmed ends sessions: open one again after it.
    admin
        .create_session(session(&user, 2, at), None)
        .await
        .unwrap();
    let before = admin.user(user.id).await.unwrap().unwrap();
    stores.store.close().await;

    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&harness.path)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    let script = include_str!("../migrations/0007_email_per_tenant.sql");
    sqlx::raw_sql(&format!("BEGIN; {script} COMMIT;"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let stores = harness.open().await;
    let admin = stores.admin.as_ref();
    assert_eq!(admin.user(user.id).await.unwrap(), Some(before));
    assert!(admin.session(&[2; 32]).await.unwrap().is_some());
    assert_eq!(admin.unused_recovery_codes(user.id).await.unwrap(), 2);
    // The per-tenant uniqueness holds after the rebuild.
    let again = admin
        .create_user(
            new_user(Some(tenant), Role::Viewer, 1),
            audit(chain_of(tenant), Action::UserCreated, "user"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    stores.store.close().await;
}

// ---------------------------------------------------------------------------
// PostgreSQL only

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_audit_tables_refuse_truncate_and_checkpoint_changes() {
    let Some(harness) = PostgresHarness::new().await else {
        return;
    };
    let stores = harness.open().await;
    let signer = Arc::new(CheckpointSigner::from_seed("k".into(), [1; 32]));
    stores.admin.set_checkpoint_signer(signer);
    for _ in 0..100 {
        stores
            .admin
            .append_audit(audit(ChainId::Platform, Action::ServerStarted, "s"))
            .await
            .unwrap();
    }
    assert_eq!(
        stores
            .admin
            .audit_checkpoints(ChainId::Platform)
            .await
            .unwrap()
            .len(),
        1
    );
    for sql in [
        "TRUNCATE audit_log",
        "UPDATE audit_checkpoints SET key_id = 'x'",
        "DELETE FROM audit_checkpoints",
        "TRUNCATE audit_checkpoints",
    ] {
        let refused = harness.execute_raw(sql).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("the audit log is append-only")),
            "{sql}: {refused:?}"
        );
    }
    stores.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_admin_store_closes_with_the_store() {
    let Some(harness) = PostgresHarness::new().await else {
        return;
    };
    let stores = harness.open().await;
    assert_eq!(stores.admin.count_users().await.unwrap(), 0);
    stores.store.close().await;
    assert!(matches!(
        stores.admin.count_users().await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(
        stores
            .admin
            .append_audit(audit(ChainId::Platform, Action::ServerStopped, "s"))
            .await,
        Err(StoreError::Closed)
    ));
}
