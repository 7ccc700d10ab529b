//! What the in-process server tests share: the real router with an admin
//! service on a real SQLite store and key ring in a temporary directory
//! (optionally with the webhook delivery worker), users signed in with
//! real TOTP codes computed here, and admin API requests with the Host,
//! Origin, cookie and CSRF headers a browser sends.
//!
//! The server's public URL is [`ORIGIN`] (with [`CONSOLE_ORIGIN`], the
//! console tests' name, as an alias) unless [`Options::public`] says
//! otherwise. A request built without any `Host` gets the canonical one,
//! as every real HTTP/1.1 client sends one ([`Env::state`] builds a router
//! without that help).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use nexaguard_access::{Role, TotpSecret};
use nexaguard_admin::principal::Principal;
use nexaguard_admin::Admin;
use nexaguard_consent::token::TokenKeys;
use nexaguard_consent::Environment;
use nexaguard_server::admin::{AdminHttp, CSRF_HEADER, PREFIX};
use nexaguard_server::app::{router, AppState, StateParts};
use nexaguard_server::ratelimit::Limiter;
use nexaguard_server::settings::{PublicOrigin, PublicOrigins};
use nexaguard_server::webhooks::{self, WebhookSettings};
use nexaguard_store::{Site, SqliteStore, Store, Tenant, TenantId};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;
use tower::ServiceExt;
use uuid::Uuid;

/// The admin API's host; [`Client`] requests come from its own origin.
pub const HOST: &str = "admin.test";
pub const ORIGIN: &str = "https://admin.test";
/// The console tests' host name: the same server under a second name.
pub const CONSOLE_ORIGIN: &str = "https://console.test";
/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// The server under test; the worker, if any, stops with it.
pub struct Env {
    pub app: Router,
    /// The state behind `app`, to build a router of one's own.
    pub state: AppState,
    pub admin: Arc<Admin>,
    pub store: Arc<dyn Store>,
    /// The SQLite database file.
    pub db: PathBuf,
    worker: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            worker.abort();
        }
    }
}

/// How [`env_with`] differs from the plain [`env`].
pub struct Options {
    /// The admin API's rate limit (per second, burst).
    pub admin_limit: (u32, u32),
    /// Run the webhook delivery worker on these settings (`None`:
    /// production URL rules and no worker).
    pub webhooks: Option<WebhookSettings>,
    /// The server's own origins (`None`: [`ORIGIN`], and [`CONSOLE_ORIGIN`]
    /// as an alias).
    pub public: Option<PublicOrigins>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            admin_limit: (10_000, 10_000),
            webhooks: None,
            public: None,
        }
    }
}

/// The origins of the default test server.
pub fn test_origins() -> PublicOrigins {
    PublicOrigins::new(PublicOrigin::parse(ORIGIN).unwrap())
        .with_alias(PublicOrigin::parse(CONSOLE_ORIGIN).unwrap())
}

/// Gives a request that names no host the canonical one of `public`.
pub fn with_default_host(
    public: &PublicOrigins,
) -> impl Fn(Request<Body>) -> Request<Body> + Clone + Send + Sync + 'static {
    let canonical = public.canonical();
    let host = if canonical.port() == 443 {
        canonical.host().to_owned()
    } else {
        format!("{}:{}", canonical.host(), canonical.port())
    };
    move |mut request: Request<Body>| {
        if request.uri().authority().is_none() && !request.headers().contains_key(header::HOST) {
            request
                .headers_mut()
                .insert(header::HOST, host.parse().unwrap());
        }
        request
    }
}

pub async fn env() -> Env {
    env_with(Options::default()).await
}

pub async fn env_with(options: Options) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let gvl = nexaguard_server::gvl_source::sample().unwrap();
    let keys = TokenKeys::new([7; 32], [9; 32]);
    let admin = open_admin(dir.path(), &db, &store).await;
    let (per_second, burst) = options.admin_limit;
    let public = options.public.unwrap_or_else(test_origins);
    let state = AppState::new(StateParts {
        store: Arc::clone(&store),
        gvl,
        keys,
        limiter: Limiter::new(10_000, 10_000),
        country_header: None,
        behind_proxy: false,
        demo_site_key: None,
        public: public.clone(),
        admin: Some(AdminHttp {
            admin: Arc::clone(&admin),
            limiter: Limiter::new(per_second, burst),
        }),
    })
    .await
    .unwrap();
    let worker = options
        .webhooks
        .map(|settings| webhooks::spawn(Arc::clone(&admin), settings).unwrap());
    let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    let default_host = with_default_host(&public);
    Env {
        app: router(state.clone())
            .layer(MockConnectInfo(peer))
            .layer(tower::util::MapRequestLayer::new(default_host)),
        state,
        admin,
        store,
        db,
        worker,
        _dir: dir,
    }
}

/// The administration service over `store`, the SQLite database `db`, as
/// the server opens it (key file and keys in `data_dir`), with the sample
/// GVL and the test token keys. For harnesses that build their own state
/// without the admin API, to make their tenants and sites with [`Seed`].
pub async fn open_admin(
    data_dir: &std::path::Path,
    db: &std::path::Path,
    store: &Arc<dyn Store>,
) -> Arc<Admin> {
    let gvl = nexaguard_server::gvl_source::sample().unwrap();
    nexaguard_server::admin::open(
        data_dir,
        Arc::new(nexaguard_store::SqliteAdminStore::open(db).await.unwrap()),
        Arc::clone(store),
        Arc::new(gvl.gvl),
        TokenKeys::new([7; 32], [9; 32]),
    )
    .await
    .unwrap()
}

/// Tenants, sites and published configurations for a test, made the one
/// way an installation gets them: through the administration service as
/// the system, each step audited, as `nexaguard tenant create`,
/// `site create` and `site config publish` do. A test that needs one in
/// place before it starts makes it here; one that tests the admin API or
/// the console goes through them instead.
pub struct Seed<'a>(pub &'a Admin);

impl Seed<'_> {
    /// A new tenant named `name`.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let (tenant, _) = self
            .0
            .create_tenant(&Principal::system(None), name, None)
            .await
            .unwrap();
        tenant
    }

    /// A new site of `tenant` allowing `origins`, nothing published.
    pub async fn site(&self, tenant: TenantId, name: &str, origins: &[&str]) -> Site {
        let origins: Vec<String> = origins.iter().map(|o| (*o).to_owned()).collect();
        self.0
            .create_site(&Principal::system(Some(tenant)), name, &origins)
            .await
            .unwrap()
    }

    /// Publishes `config` to `environment` on the console's path: saved as
    /// the draft and published to staging, then, for production, promoted.
    /// So production always gets staging's configuration, and publishing
    /// to production publishes both. Returns the environment's version.
    pub async fn publish(&self, site: &Site, config: &str, environment: Environment) -> u32 {
        let principal = Principal::system(Some(site.tenant_id));
        let config: Value = serde_json::from_str(config).unwrap();
        let base = self.0.draft(&principal, site.id).await.unwrap().revision;
        self.0
            .save_draft(&principal, site.id, &config, base)
            .await
            .unwrap();
        let staged = self.0.publish_staging(&principal, site.id).await.unwrap();
        match environment {
            Environment::Staging => staged.version,
            Environment::Production => self
                .0
                .promote(&principal, site.id)
                .await
                .unwrap()
                .published_version
                .unwrap(),
        }
    }

    /// A tenant named `name` with one site allowing `origins`, `config`
    /// published to both environments.
    pub async fn published_site(&self, name: &str, origins: &[&str], config: &str) -> Site {
        let tenant = self.tenant(name).await;
        let site = self.site(tenant.id, name, origins).await;
        self.publish(&site, config, Environment::Production).await;
        site
    }
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The `error.code` of a JSON error, or empty.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The body as text (a page, or a message in an assertion).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// A client of the admin API: a browser with a session cookie, or a
/// script with a token.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    /// The TOTP secret, once enrolled.
    pub totp: Option<TotpSecretBytes>,
}

#[derive(Debug, Clone)]
pub struct TotpSecretBytes(pub Vec<u8>);

impl Client {
    pub fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Request<Body> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{PREFIX}{path}"))
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN);
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf {
            builder = builder.header(CSRF_HEADER, csrf);
        }
        if let Some(token) = &self.bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => builder.body(Body::empty()).unwrap(),
        }
    }

    pub async fn call(&self, env: &Env, method: Method, path: &str, body: Option<Value>) -> Answer {
        send(&env.app, self.request(method, path, body.as_ref())).await
    }

    /// Takes the session cookie and CSRF token an answer sets.
    pub fn absorb(&mut self, answer: &Answer) {
        if let Some(set) = answer.headers.get(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        if let Some(csrf) = answer.json()["csrfToken"].as_str() {
            self.csrf = Some(csrf.to_owned());
        }
    }

    pub fn code_now(&self) -> String {
        code_at(&self.totp.as_ref().unwrap().0, unix_now())
    }
}

pub fn unix_now() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap()
}

/// The TOTP code of `secret` (raw bytes) at `unix` seconds.
pub fn code_at(secret: &[u8], unix: u64) -> String {
    TotpSecret::from_bytes(secret).unwrap().code_at(unix)
}

/// The bytes of a TOTP secret as shown to the user (base32).
pub fn decode_base32(text: &str) -> Vec<u8> {
    totp_rs::Secret::Encoded(text.to_owned())
        .to_bytes()
        .unwrap()
}

/// Signs in, enrolling TOTP when the role requires it; the client is ready.
pub async fn sign_in(env: &Env, email: &str) -> Client {
    let mut client = Client::default();
    let answer = client
        .call(
            env,
            Method::POST,
            "/session",
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json());
    client.absorb(&answer);
    if answer.json()["next"] == "mfa_enrolment" {
        enrol(env, &mut client).await;
    }
    client
}

/// Enrols TOTP for a signed-in client; returns the recovery codes.
pub async fn enrol(env: &Env, client: &mut Client) -> Vec<String> {
    let started = client.call(env, Method::POST, "/mfa/enrolment", None).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.json());
    let secret = decode_base32(started.json()["secret"].as_str().unwrap());
    assert!(started.json()["provisioningUri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    client.totp = Some(TotpSecretBytes(secret));
    let confirmed = client
        .call(
            env,
            Method::POST,
            "/mfa/enrolment/confirm",
            Some(json!({"code": client.code_now()})),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{:?}", confirmed.json());
    client.absorb(&confirmed);
    confirmed.json()["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// Creates a user with [`PASSWORD`] (no invitation); returns its id.
pub async fn user(env: &Env, tenant: Option<TenantId>, role: Role, email: &str) -> Uuid {
    env.admin
        .create_user_as_system(tenant, role, email, PASSWORD)
        .await
        .unwrap()
        .id
        .0
}
